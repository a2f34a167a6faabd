//! The page around the sections: the head with the inline style, the header (what the
//! page shows, the as-of selector, the section links), the dependency graph, the footer.
//!
//! Every template of the dashboard is maud (`waymark_projections::html` says why), with
//! the one escaper: text is spliced as `(Text(..))`, numbers bare, markup that is
//! already escaped (the graph's SVG, the style sheet) as `(PreEscaped(..))`. The `"\n"`
//! literals put a line break after each block element, so the page reads well as source
//! and stays byte for byte what earlier releases wrote (`tests/dashboard.rs` holds it to
//! that).

use super::{audit, board, progress, timeline, verify, Links, Page};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use waymark_projections::html::Text;
use waymark_projections::Status;

const STYLE: &str = include_str!("style.css");

/// What the header of every page of a ledger shows: the ledger, its point, and the
/// Seasons the as-of selector offers.
pub(super) struct Frame<'a> {
    pub id: &'a str,
    pub head_seq: u64,
    pub point: Option<&'a str>,
    pub status: &'a Status,
    pub all_seasons: &'a [i64],
}

impl<'a> Frame<'a> {
    pub fn of(p: &'a Page) -> Self {
        Frame {
            id: &p.id,
            head_seq: p.head_seq,
            point: p.point.as_deref(),
            status: &p.status,
            all_seasons: &p.all_seasons,
        }
    }
}

/// Where the as-of selector and the links to other ledgers lead: a page of a ledger
/// at a point.
pub(super) type PageAt = fn(&Links, &str, Option<&str>) -> String;

/// The whole page.
pub fn render(p: &Page, links: &Links, ledgers: &[String]) -> String {
    let f = Frame::of(p);
    html! {
        (DOCTYPE) "\n"
        html lang="en" {
            "\n"
            (head(&p.title, ""))
            body {
                "\n"
                a class="visually-hidden" href="#board" { "Skip to the milestone board" } "\n"
                header class="site" {
                    "\n"
                    p class="summary" { "Waymark ledger " code { (Text(&p.id)) } } "\n"
                    h1 { (Text(&p.title)) } "\n"
                    (where_and_when(&f))
                    (as_of_selector(&f, links, ledgers, Links::page))
                    nav aria-label="Sections" {
                        p {
                            a href="#board" { "Board" } " · "
                            a href="#graph" { "Dependency graph" } " · "
                            a href="#progress" { "Progress" } " · "
                            a href="#seasons" { "Seasons" } " · "
                            a href="#audit" { "Audit log" } " · "
                            a href="#verify" { "Verify" } " · "
                            a href=(Text(&links.decisions(&p.id, p.point.as_deref()))) { "Who decides" }
                        }
                    } "\n"
                } "\n"
                main {
                    "\n"
                    (board::board(p, links))
                    (graph(p, links))
                    (progress::progress(p))
                    (timeline::timeline(p, links))
                    (audit::audit(p, links))
                    (verify::verify(p, links))
                } "\n"
                footer {
                    p class="note" {
                        "Rendered by Waymark from the ledger's events. The "
                        a href=(Text(&links.status(&p.id, p.point.as_deref()))) { "status as JSON" }
                        " is the SPEC section 9 projection this page shows."
                    }
                } "\n"
            } "\n"
        } "\n"
    }
    .into_string()
}

/// The page's `<head>`: the title (the ledger's, after `prefix`) and the style sheet.
pub(super) fn head(title: &str, prefix: &str) -> Markup {
    html! {
        head {
            "\n"
            meta charset="utf-8"; "\n"
            meta name="viewport" content="width=device-width, initial-scale=1"; "\n"
            title { (Text(prefix)) (Text(title)) " — Waymark" } "\n"
            style { "\n" (PreEscaped(STYLE)) } "\n"
        } "\n"
    }
}

/// The point shown (seq, time, hash, overall phase) and the Season at that point.
pub(super) fn where_and_when(f: &Frame) -> Markup {
    let s = f.status;
    let at = s.as_of.as_ref();
    html! {
        p class="summary" id="as-of" {
            "Showing " strong { (Text(&point_label(f.point))) }
            ": seq " (at.map_or(0, |a| a.seq)) " of " (f.head_seq)
            ", recorded " (Text(at.map_or("", |a| a.recorded_at.as_str())))
            ", hash " code { (Text(&at.map(|a| a.hash.to_hex()).unwrap_or_default())) }
            ". Overall phase " strong { (Text(s.overall_phase.as_deref().unwrap_or("—"))) }
            "."
        } "\n"
        @if let Some(se) = &s.season {
            p class="summary" {
                "Season " (se.number) " (" (Text(se.state.as_str())) "): " (Text(&se.starts_on))
                @if let Some(e) = &se.ends_on { " – " (Text(e)) }
                "; focus: " (Text(&se.focus.join(", "))) "."
            } "\n"
        }
    }
}

/// The page's point in words.
fn point_label(point: Option<&str>) -> String {
    match point {
        None => "now (the head)".into(),
        Some(p) => match p.split_once(':') {
            Some(("season", n)) => format!("the end of Season {n}"),
            Some(("seq", n)) => format!("seq {n}"),
            Some(("time", t)) => t.to_string(),
            _ => p.to_string(),
        },
    }
}

/// The server's form to see another point (and links to the other ledgers), or the
/// site's links to its pages at each Season's end; either leads to `page`.
pub(super) fn as_of_selector(f: &Frame, links: &Links, ledgers: &[String], page: PageAt) -> Markup {
    let point = f.point;
    match links {
        Links::Server { .. } => html! {
            form class="inline" method="get" action=(Text(&page(links, f.id, None))) aria-label="As of" {
                "\n"
                label for="as_of" {
                    "See the ledger as of\n"
                    select id="as_of" name="as_of" {
                        "\n"
                        option value="" selected[point.is_none()] { "now (seq " (f.head_seq) ")" } "\n"
                        @for se in f.all_seasons {
                            @let v = format!("season:{se}");
                            option value=(Text(&v)) selected[point == Some(v.as_str())] {
                                "the end of Season " (se)
                            } "\n"
                        }
                        @if let Some(pt) = point.filter(|pt| !pt.starts_with("season:")) {
                            option value=(Text(pt)) selected { (Text(pt)) } "\n"
                        }
                    }
                } "\n"
                button type="submit" { "Show" } "\n"
                @if ledgers.len() > 1 {
                    span class="note" {
                        "Other ledgers:"
                        @for l in ledgers.iter().filter(|l| **l != f.id) {
                            " " a href=(Text(&page(links, l, None))) { (Text(l)) }
                        }
                    } "\n"
                }
                span class="note" {
                    "Any point works in the address too: " code { "?as_of=seq:N" } ", "
                    code { "season:N" } ", " code { "time:RFC3339" } "."
                } "\n"
            } "\n"
        },
        Links::Static { .. } => html! {
            nav aria-label="As of" {
                p {
                    "See the ledger as of: "
                    a href=(Text(&page(links, f.id, None))) aria-current=[current(point.is_none())] { "now" }
                    @for se in f.all_seasons {
                        @let v = format!("season:{se}");
                        " · "
                        a href=(Text(&page(links, f.id, Some(&v))))
                            aria-current=[current(point == Some(v.as_str()))] {
                            "the end of Season " (se)
                        }
                    }
                }
            } "\n"
        },
    }
}

/// `aria-current="page"` on the link to the page being read.
fn current(yes: bool) -> Option<Text<'static>> {
    yes.then_some(Text("page"))
}

/// The dependency graph: projections' SVG (escaped there, by the same escaper), inline.
fn graph(p: &Page, links: &Links) -> Markup {
    let svg = waymark_projections::to_svg(&p.status);
    let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
    html! {
        section id="graph" aria-labelledby="graph-h" {
            "\n"
            h2 id="graph-h" { "Dependency graph" } "\n"
            p {
                "Arrows go from a dependency to the milestones that need it. Also as "
                a href=(Text(&links.graph(&p.id, "svg"))) { "SVG" } ", "
                a href=(Text(&links.graph(&p.id, "dot"))) { "DOT" } ", "
                a href=(Text(&links.graph(&p.id, "mmd"))) { "Mermaid" } "."
            } "\n"
            figure class="graph" { (PreEscaped(svg)) } "\n"
        } "\n"
    }
}
