//! The Season timeline: each Season up to the page's point, with its dates, its seq
//! range, its focus, its review in three formats and the board at its end.

use super::{Links, Page};
use maud::{html, Markup};
use waymark_projections::html::Text;

pub(super) fn timeline(p: &Page, links: &Links) -> Markup {
    // Each Season's own status line, as it stood at the Season's end.
    let seasons = p.seasons.iter().filter_map(|se| {
        se.status
            .season
            .as_ref()
            .filter(|ss| ss.number == se.number)
            .map(|ss| (se, ss))
    });
    html! {
        section id="seasons" aria-labelledby="seasons-h" {
            "\n"
            h2 id="seasons-h" { "Season timeline" } "\n"
            @if p.seasons.is_empty() {
                p { "No Season opened yet at this point." } "\n"
            } @else {
                ol class="timeline" {
                    "\n"
                    @for (se, ss) in seasons {
                        li class=(Text(ss.state.as_str())) {
                            strong { "Season " (se.number) } " (" (Text(ss.state.as_str())) ") "
                            (Text(&ss.starts_on))
                            @if let Some(e) = &ss.ends_on { " – " (Text(e)) }
                            " · seq " (se.opened_seq) "–" (se.end_seq)
                            " · focus: " (Text(&ss.focus.join(", "))) br;
                            "Review: "
                            a href=(Text(&links.review(&p.id, se.number, "html"))) { "HTML" } " · "
                            a href=(Text(&links.review(&p.id, se.number, "md"))) { "Markdown" } " · "
                            a href=(Text(&links.review(&p.id, se.number, "json"))) { "JSON" } " · "
                            a href=(Text(&links.page(&p.id, Some(&format!("season:{}", se.number))))) {
                                "the board at its end"
                            }
                        } "\n"
                    }
                } "\n"
            }
        } "\n"
    }
}
