//! The decision map: each module's current design against its target, whether it is at
//! its target and whether the Foundation decides it, since when (with the event's
//! inclusion proof), and the evidence of its last transfer; and the bodies.

use super::design::{design, Names};
use super::DecisionsPage;
use crate::http::dashboard::Links;
use maud::{html, Markup};
use waymark_projections::html::Text;
use waymark_projections::DecisionStatus;

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The date of a SPEC timestamp.
pub(super) fn date(t: &str) -> &str {
    t.get(..10).unwrap_or(t)
}

/// A link to the inclusion proof of `seq` (plain text on a site that keeps no file
/// for it: the tooltip says how to compute it from the tiles).
pub(super) fn proof(p: &DecisionsPage, links: &Links, seq: u64) -> Markup {
    html! {
        @match links.inclusion(&p.id, seq) {
            Some(proof) => {
                a class="seq" href=(Text(&proof)) title={ "inclusion proof of seq " (seq) } {
                    "seq " (seq)
                }
            }
            None => {
                span class="seq" title={ "no proof file for seq " (seq) " here: waymark prove inclusion " (seq) " --tiles " (Text(&links.tiles(&p.id))) } {
                    "seq " (seq)
                }
            }
        }
    }
}

pub(super) fn map(p: &DecisionsPage, links: &Links) -> Markup {
    let decisions: &[DecisionStatus] = p.status.decisions.as_deref().unwrap_or_default();
    let a = p.status.authority.unwrap_or_default();
    let names = Names::of(&p.status);
    html! {
        section id="map" aria-labelledby="map-h" {
            "\n"
            h2 id="map-h" { "Decision map" } "\n"
            @if decisions.is_empty() {
                p id="authority" { "No decision module is recorded at this point." } "\n"
            } @else {
                p id="authority" {
                    strong { (a.decisions) } " decision modules: " strong { (a.at_target) }
                    " at their target design, " strong { (a.foundation_decides) }
                    " decided by the Foundation."
                } "\n"
                p class="note" {
                    "Each module's design at this point against the end state recorded for it. "
                    "“Since” is the event that set today's design (its transfer's effective "
                    "date, or the module's definition); “last change” is the module's last "
                    "event of any kind. Each seq links to its inclusion proof."
                } "\n"
                table class="decisions" {
                    "\n"
                    caption class="visually-hidden" { "Decision modules: who decides now and at the target" } "\n"
                    thead {
                        tr {
                            @let now = if p.point.is_none() { "Now" } else { "At this point" };
                            @for h in ["Module", now, "Target", "At target", "Foundation decides", "Since", "Last change", "Evidence"] {
                                th scope="col" { (Text(h)) }
                            }
                        }
                    } "\n"
                    tbody {
                        "\n"
                        @for d in decisions { (row(p, links, &names, d)) "\n" }
                    } "\n"
                } "\n"
            }
        } "\n"
    }
}

/// One module of the map.
fn row(p: &DecisionsPage, links: &Links, names: &Names, d: &DecisionStatus) -> Markup {
    let module = p.modules.get(&d.id);
    let last = p.last_transfer(&d.id);
    html! {
        tr id=(Text(&row_anchor(&d.id))) data-decision=(Text(&d.id)) data-at-target=(yes_no(d.at_target))
            data-foundation=(yes_no(d.foundation_decides)) data-last-change=(d.last_change.seq) {
            th scope="row" {
                (Text(&d.title)) br;
                code { (Text(&d.id)) } " " span class="note" { "(" (Text(&d.layer)) ")" }
                @if !d.hypotheses.is_empty() {
                    br;
                    span class="note" {
                        "Hypotheses: "
                        @for (i, h) in d.hypotheses.iter().enumerate() {
                            @if i > 0 { ", " }
                            (Text(&h.id)) " (" (Text(h.outcome.as_deref().unwrap_or("open"))) ")"
                        }
                    }
                }
            }
            td class="now" { (design(&d.current, names)) }
            td class="target" {
                @match &d.target {
                    Some(t) => { (design(t, names)) }
                    None => { span class="note" { "no end state recorded" } }
                }
            }
            td class=(if d.at_target { "at-target yes" } else { "at-target no" }) {
                @if d.target.is_none() { "no target" } @else { (yes_no(d.at_target)) }
            }
            td class=(if d.foundation_decides { "foundation yes" } else { "foundation no" }) {
                (yes_no(d.foundation_decides))
            }
            td class="since" {
                @match (last, module) {
                    (Some(t), _) => {
                        (Text(&t.effective_on)) br;
                        span class="note" { "transferred" } br;
                        (proof(p, links, t.seq))
                    }
                    (None, Some(m)) => {
                        (Text(date(&m.defined.1))) br;
                        span class="note" { "as defined" } br;
                        (proof(p, links, m.defined.0))
                    }
                    (None, None) => { "—" }
                }
            }
            td class="last-change" {
                (Text(date(&d.last_change.recorded_at))) br;
                span class="note" { "by " (Text(&d.last_change.actor)) } br;
                (proof(p, links, d.last_change.seq))
            }
            td class="evidence" {
                @match last {
                    Some(t) => {
                        @for (i, e) in t.evidence.iter().enumerate() {
                            @if i > 0 { br; }
                            a href=(Text(e)) rel="nofollow noopener" { (Text(&link_text(e))) }
                        }
                    }
                    None => {
                        span class="note" { "never transferred" }
                        @if let Some(s) = module.and_then(|m| m.source.as_ref()) {
                            br; a href=(Text(s)) rel="nofollow noopener" { "source" }
                        }
                    }
                }
            }
        }
    }
}

/// An evidence URL as a short link text: its host and the start of its path.
pub(super) fn link_text(url: &str) -> String {
    let bare = url
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    if bare.chars().count() <= 40 {
        bare.to_string()
    } else {
        bare.chars().take(39).collect::<String>() + "…"
    }
}

/// The bodies: kind, the modules each decides and vetoes (by today's designs).
pub(super) fn bodies(p: &DecisionsPage) -> Markup {
    let bodies = p.status.bodies.as_deref().unwrap_or_default();
    let titles: std::collections::BTreeMap<&str, &str> = p
        .status
        .decisions
        .iter()
        .flatten()
        .map(|d| (d.id.as_str(), d.title.as_str()))
        .collect();
    let modules = |ids: &[String]| -> Markup {
        html! {
            @if ids.is_empty() { span class="note" { "—" } }
            @for (i, id) in ids.iter().enumerate() {
                @if i > 0 { ", " }
                a href={ "#" (Text(&row_anchor(id))) } { (Text(titles.get(id.as_str()).copied().unwrap_or(id))) }
            }
        }
    };
    html! {
        section id="bodies" aria-labelledby="bodies-h" {
            "\n"
            h2 id="bodies-h" { "Bodies" } "\n"
            @if bodies.is_empty() {
                p { "No body is recorded at this point." } "\n"
            } @else {
                table class="bodies" {
                    "\n"
                    thead {
                        tr {
                            @for h in ["Body", "Kind", "Decides", "Vetoes"] { th scope="col" { (Text(h)) } }
                        }
                    } "\n"
                    tbody {
                        "\n"
                        @for b in bodies {
                            tr data-body=(Text(&b.id)) class=[b.retired.then_some(Text("retired"))] {
                                th scope="row" {
                                    (Text(&b.title)) " " code { (Text(&b.id)) }
                                    @if b.retired { " " span class="note" { "(retired)" } }
                                }
                                td { (Text(&b.kind)) }
                                td { (modules(&b.decides)) }
                                td { (modules(&b.vetoes)) }
                            } "\n"
                        }
                    } "\n"
                } "\n"
            }
        } "\n"
    }
}

/// The id of a module's row in the map (`#decision-ID`).
pub(super) fn row_anchor(id: &str) -> String {
    format!("decision-{id}")
}
