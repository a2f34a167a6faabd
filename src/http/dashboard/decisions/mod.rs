//! The "Who decides" page of a ledger (SPEC section 13): the decision map (each module
//! now against its target, whether the Foundation decides it, since when, and on what
//! evidence), the decision diagram (projections' `decisions_to_svg`), the bodies, each
//! module's DDF profile, and the transfers of authority Season by Season. The same page at any as-of point, on the
//! server (`/ledgers/{id}/decisions`) and in the static site (`decisions.html`).
//!
//! ```text
//! mod.rs        the page around the sections (`render_decisions`)
//! gather.rs     what the page shows, read from the service (`DecisionsPage`)
//! design.rs     a design in words, and what a transfer changed
//! map.rs        the decision map and the bodies
//! profiles.rs   the DDF profile of each module
//! transfers.rs  the transfers of authority, Season by Season
//! ```

mod design;
mod gather;
mod map;
mod profiles;
mod transfers;

use gather::Transfer;
pub(crate) use gather::{gather_decisions, DecisionsPage};

use super::layout::{as_of_selector, head, where_and_when, Frame};
use super::Links;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use waymark_projections::html::Text;

impl DecisionsPage {
    fn frame(&self) -> Frame<'_> {
        Frame {
            id: &self.id,
            head_seq: self.head_seq,
            point: self.point.as_deref(),
            status: &self.status,
            all_seasons: &self.all_seasons,
        }
    }
}

/// The whole page.
pub fn render_decisions(p: &DecisionsPage, links: &Links, ledgers: &[String]) -> String {
    let f = p.frame();
    let point = p.point.as_deref();
    html! {
        (DOCTYPE) "\n"
        html lang="en" {
            "\n"
            (head(&p.title, "Who decides: "))
            body {
                "\n"
                a class="visually-hidden" href="#map" { "Skip to the decision map" } "\n"
                header class="site" {
                    "\n"
                    p class="summary" { "Waymark ledger " code { (Text(&p.id)) } } "\n"
                    h1 { "Who decides: " (Text(&p.title)) } "\n"
                    (where_and_when(&f))
                    (as_of_selector(&f, links, ledgers, Links::decisions))
                    nav aria-label="Sections" {
                        p {
                            a href=(Text(&links.page(&p.id, point))) { "Milestone dashboard" } " · "
                            a href="#map" { "Decision map" } " · "
                            a href="#diagram" { "Diagram" } " · "
                            a href="#bodies" { "Bodies" } " · "
                            a href="#profiles" { "DDF profiles" } " · "
                            a href="#transfers" { "Transfers" }
                        }
                    } "\n"
                } "\n"
                main {
                    "\n"
                    (map::map(p, links))
                    (diagram(p, links))
                    (map::bodies(p))
                    (profiles::profiles(p))
                    (transfers::transfers(p, links))
                } "\n"
                footer {
                    p class="note" {
                        "Rendered by Waymark from the ledger's events. The "
                        a href=(Text(&links.decisions_json(&p.id, point))) { "decision map as JSON" }
                        " and the "
                        a href=(Text(&links.bodies_json(&p.id, point))) { "bodies as JSON" }
                        " are the SPEC section 13 additions to the status this page shows."
                    }
                } "\n"
            } "\n"
        } "\n"
    }
    .into_string()
}

/// The decision diagram (bodies, modules, and who proposes, decides, vetoes and
/// executes each): projections' SVG (escaped there, by the same escaper), inline, with
/// links to it in three formats.
fn diagram(p: &DecisionsPage, links: &Links) -> Markup {
    let svg = waymark_projections::decisions_to_svg(&p.status);
    let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
    let point = p.point.as_deref();
    html! {
        section id="diagram" aria-labelledby="diagram-h" {
            "\n"
            h2 id="diagram-h" { "Decision diagram" } "\n"
            p {
                "Each arrow goes from a body to a module it proposes, decides, vetoes or carries \
                 out, by the module's design at this point. Also as "
                a href=(Text(&links.decisions_graph(&p.id, point, "svg"))) { "SVG" } ", "
                a href=(Text(&links.decisions_graph(&p.id, point, "dot"))) { "DOT" } ", "
                a href=(Text(&links.decisions_graph(&p.id, point, "mmd"))) { "Mermaid" } "."
            } "\n"
            figure class="graph" { (PreEscaped(svg)) } "\n"
        } "\n"
    }
}
