//! The "Who decides" page of a ledger (SPEC section 13): the decision map (each module
//! now against its target, whether the Foundation decides it, since when, and on what
//! evidence), the bodies, each module's DDF profile, the transfers of authority Season
//! by Season, and the decision diagram. The same page at any as-of point, on the
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
use maud::{html, Markup, DOCTYPE};
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
    let diagram = diagram(p);
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
                            a href="#bodies" { "Bodies" } " · "
                            a href="#profiles" { "DDF profiles" } " · "
                            a href="#transfers" { "Transfers" }
                            @if diagram.is_some() { " · " a href="#diagram" { "Diagram" } }
                        }
                    } "\n"
                } "\n"
                main {
                    "\n"
                    (map::map(p, links))
                    (map::bodies(p))
                    (profiles::profiles(p))
                    (transfers::transfers(p, links))
                    @if let Some(svg) = &diagram { (svg) }
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
/// executes each), inline.
///
/// DIAGRAM: the one place to embed `waymark_projections::decisions_to_svg(&p.status)`
/// (issue 14, branch proj14) once it is on this branch: render it here like the
/// dependency graph of the main page (`layout::graph`: the SVG from its `<svg`, inside
/// `section id="diagram"` with a heading), and return `Some`. Until then the page has
/// no diagram section and its navigation no link to one.
fn diagram(_p: &DecisionsPage) -> Option<Markup> {
    None
}
