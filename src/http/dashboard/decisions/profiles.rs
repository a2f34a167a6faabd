//! The Decision Design Framework's answers for each module (its `profile`, as defined
//! or last revised): how often it is asked, its stakes and complexity, how it is
//! answered, who answers, and how much power is in it.

use super::map::row_anchor;
use super::DecisionsPage;
use maud::{html, Markup};
use waymark_projections::html::Text;

/// The DDF's six questions (docs/domain/decisions.md), by profile key.
const QUESTIONS: [(&str, &str); 6] = [
    ("cadence", "How often is it asked?"),
    ("stakes", "With what fidelity must it be answered?"),
    ("complexity", "How is it asked?"),
    ("answer", "How is it answered?"),
    ("space", "Who answers?"),
    (
        "leverage",
        "How much power is in it? (Meadows' leverage points)",
    ),
];

/// What the DDF asks of a module at a leverage point.
fn leverage(n: i64) -> String {
    let asks = match n {
        1..=4 => "trusted parties that compete",
        5..=6 => "a proven track record and accountability",
        7..=8 => "broad feedback",
        _ => "maximal transparency",
    };
    format!("{n}: {asks}")
}

pub(super) fn profiles(p: &DecisionsPage) -> Markup {
    let decisions = p.status.decisions.as_deref().unwrap_or_default();
    html! {
        section id="profiles" aria-labelledby="profiles-h" {
            "\n"
            h2 id="profiles-h" { "DDF profiles" } "\n"
            @if decisions.is_empty() {
                p { "No decision module is recorded at this point." } "\n"
            } @else {
                p class="note" {
                    "The Decision Design Framework's answers recorded for each module; "
                    "“—” where the ledger records none."
                } "\n"
                table class="profiles" {
                    "\n"
                    thead {
                        tr {
                            th scope="col" { "Module" }
                            @for (key, question) in QUESTIONS {
                                th scope="col" { (Text(key)) br; span class="note" { (Text(question)) } }
                            }
                        }
                    } "\n"
                    tbody {
                        "\n"
                        @for d in decisions {
                            @let pr = p.modules.get(&d.id).map(|m| &m.profile);
                            @let cells = [
                                pr.and_then(|x| x.cadence.clone()),
                                pr.and_then(|x| x.stakes.clone()),
                                pr.and_then(|x| x.complexity.clone()),
                                pr.and_then(|x| x.answer.clone()),
                                pr.and_then(|x| x.space.clone()),
                                pr.and_then(|x| x.leverage).map(leverage),
                            ];
                            tr data-decision=(Text(&d.id)) {
                                th scope="row" { a href={ "#" (Text(&row_anchor(&d.id))) } { (Text(&d.title)) } }
                                @for c in &cells {
                                    td { @match c { Some(v) => { (Text(v)) } None => { span class="note" { "—" } } } }
                                }
                            } "\n"
                        }
                    } "\n"
                } "\n"
            }
        } "\n"
    }
}
