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

const STYLE: &str = include_str!("style.css");

/// The whole page.
pub fn render(p: &Page, links: &Links, ledgers: &[String]) -> String {
    let s = &p.status;
    let at = s.as_of.as_ref();
    html! {
        (DOCTYPE) "\n"
        html lang="en" {
            "\n"
            head {
                "\n"
                meta charset="utf-8"; "\n"
                meta name="viewport" content="width=device-width, initial-scale=1"; "\n"
                title { (Text(&p.title)) " — Waymark" } "\n"
                style { "\n" (PreEscaped(STYLE)) } "\n"
            } "\n"
            body {
                "\n"
                a class="visually-hidden" href="#board" { "Skip to the milestone board" } "\n"
                header class="site" {
                    "\n"
                    p class="summary" { "Waymark ledger " code { (Text(&p.id)) } } "\n"
                    h1 { (Text(&p.title)) } "\n"
                    p class="summary" id="as-of" {
                        "Showing " strong { (Text(&point_label(p.point.as_deref()))) }
                        ": seq " (at.map_or(0, |a| a.seq)) " of " (p.head_seq)
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
                    (as_of_selector(p, links, ledgers))
                    nav aria-label="Sections" {
                        p {
                            a href="#board" { "Board" } " · "
                            a href="#graph" { "Dependency graph" } " · "
                            a href="#progress" { "Progress" } " · "
                            a href="#seasons" { "Seasons" } " · "
                            a href="#audit" { "Audit log" } " · "
                            a href="#verify" { "Verify" }
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
/// site's links to its pages at each Season's end.
fn as_of_selector(p: &Page, links: &Links, ledgers: &[String]) -> Markup {
    let point = p.point.as_deref();
    match links {
        Links::Server { .. } => html! {
            form class="inline" method="get" action=(Text(&links.page(&p.id, None))) aria-label="As of" {
                "\n"
                label for="as_of" {
                    "See the ledger as of\n"
                    select id="as_of" name="as_of" {
                        "\n"
                        option value="" selected[point.is_none()] { "now (seq " (p.head_seq) ")" } "\n"
                        @for se in &p.all_seasons {
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
                        @for l in ledgers.iter().filter(|l| **l != p.id) {
                            " " a href=(Text(&links.page(l, None))) { (Text(l)) }
                        }
                    } "\n"
                }
                span class="note" {
                    "Any point works in the address too: " code { "?as_of=seq:N" } ", "
                    code { "season:N" } ", " code { "time:RFC3339" } "."
                } "\n"
            } "\n"
        },
        Links::Static => html! {
            nav aria-label="As of" {
                p {
                    "See the ledger as of: "
                    a href="index.html" aria-current=[current(point.is_none())] { "now" }
                    @for se in &p.all_seasons {
                        @let v = format!("season:{se}");
                        " · "
                        a href=(Text(&links.page(&p.id, Some(&v))))
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
