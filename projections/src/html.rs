//! The one escaper for everything Waymark writes as HTML or XML — the season review page,
//! the dependency graph's SVG, and the dashboard and static site — and how text reaches a
//! page through the template engine.
//!
//! # The template engine: maud
//!
//! Pages are written with [maud](https://docs.rs/maud)'s `html!` macro. Both candidates
//! check templates at compile time; maud was chosen over askama because a maud template
//! is Rust in the function that renders it: fields and types are checked like any other
//! code, small pieces (a section, a table) compose as ordinary functions returning
//! [`maud::Markup`], and there is no second language (Jinja), no template files and no
//! `askama.toml` beside the code. The crate is small and pure — at run time it needs only
//! `itoa` (no I/O), its proc macro `syn`, `quote` and `proc-macro2` — and keeps this
//! crate free of I/O. What askama would have offered, registering this escaper as the
//! engine's, is had here by splicing text through [`Text`].
//!
//! # Escaping
//!
//! [`escape`] is the only escaper: `&`, `<`, `>`, `"` and `'` become entities, so the
//! result is safe in element content and in single- or double-quoted attribute values of
//! HTML and XML alike; characters XML 1.0 forbids (controls other than tab and newline,
//! U+FFFE, U+FFFF) become U+FFFD and CR becomes LF, so an SVG stays well-formed whatever
//! a title holds.
//!
//! In a maud template, splice text as `(Text(s))`: it writes through [`escape`]. A bare
//! `(s)` would go through maud's own escaper, which leaves `'` and control characters
//! as they are; the golden tests of the review and graph feed every text field an
//! apostrophe and control characters and fail if either reaches the output. Numbers may
//! be spliced bare, and markup that is already escaped as `(PreEscaped(s))`.
//!
//! ```
//! use maud::html;
//! use waymark_projections::html::{escape, Text};
//!
//! let name = "Alice's <b>";
//! let page = html! { p title=(Text(name)) { "Signed by " (Text(name)) } }.into_string();
//! assert_eq!(
//!     page,
//!     "<p title=\"Alice&#39;s &lt;b&gt;\">Signed by Alice&#39;s &lt;b&gt;</p>"
//! );
//! assert_eq!(escape("a & b"), "a &amp; b");
//! ```

use maud::Render;

/// Text escaped for HTML and XML content and attribute values (see the module docs).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// [`escape`], appending to `out`.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            '\r' => out.push('\n'),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Text for a maud template, written through [`escape`]: `td { (Text(&row.reason)) }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text<'a>(pub &'a str);

impl Render for Text<'_> {
    fn render_to(&self, buffer: &mut String) {
        escape_into(buffer, self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maud::html;

    #[test]
    fn escapes_markup_quotes_and_what_xml_forbids() {
        assert_eq!(
            escape("<a href=\"x\">it's & more</a>"),
            "&lt;a href=&quot;x&quot;&gt;it&#39;s &amp; more&lt;/a&gt;"
        );
        assert_eq!(escape("a\tb\nc\r\nd"), "a\tb\nc\n\nd");
        assert_eq!(
            escape("\u{0}\u{1b}\u{7f}\u{85}\u{FFFE}\u{FFFF}"),
            "\u{FFFD}".repeat(6)
        );
        assert_eq!(escape("plain – ünïcödé ✓"), "plain – ünïcödé ✓");
    }

    #[test]
    fn text_in_a_template_is_the_same_escaper() {
        let s = "it's \"<q>\" & \u{1}";
        let page = html! { td title=(Text(s)) { (Text(s)) } }.into_string();
        assert_eq!(
            page,
            format!("<td title=\"{}\">{}</td>", escape(s), escape(s))
        );
    }
}
