//! The transfers of authority, Season by Season: for each, its effective date, the
//! module, what it changed, why, on what evidence, who recorded it, and its seq
//! linking to the inclusion proof.

use super::design::{changes, Names};
use super::map::{date, link_text, proof, row_anchor};
use super::{DecisionsPage, Transfer};
use crate::http::dashboard::Links;
use maud::{html, Markup};
use waymark_projections::html::Text;

/// When a transfer was recorded: during a Season, or between Seasons (after the one
/// last opened, or before the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    In(i64),
    After(i64),
    BeforeAny,
}

fn when(p: &DecisionsPage, t: &Transfer) -> When {
    match t.season {
        Some(s) => When::In(s),
        None => p
            .opened
            .iter()
            .rev()
            .find(|(seq, _)| *seq < t.seq)
            .map_or(When::BeforeAny, |(_, s)| When::After(*s)),
    }
}

/// The transfers in runs of the same `When`, in seq order.
fn grouped(p: &DecisionsPage) -> Vec<(When, Vec<&Transfer>)> {
    let mut out: Vec<(When, Vec<&Transfer>)> = Vec::new();
    for t in &p.transfers {
        let w = when(p, t);
        match out.last_mut() {
            Some((last, ts)) if *last == w => ts.push(t),
            _ => out.push((w, vec![t])),
        }
    }
    out
}

pub(super) fn transfers(p: &DecisionsPage, links: &Links) -> Markup {
    let names = Names::of(&p.status);
    let titles: std::collections::BTreeMap<&str, &str> = p
        .status
        .decisions
        .iter()
        .flatten()
        .map(|d| (d.id.as_str(), d.title.as_str()))
        .collect();
    html! {
        section id="transfers" aria-labelledby="transfers-h" {
            "\n"
            h2 id="transfers-h" { "Transfers of authority, Season by Season" } "\n"
            @if p.transfers.is_empty() {
                p { "No authority has been transferred at this point." } "\n"
            } @else {
                p class="note" {
                    (p.transfers.len()) " transfers, grouped by the Season open when each was \
                     recorded; the date is the one it took effect."
                } "\n"
                @for (w, ts) in grouped(p) {
                    (season(p, links, w, ts.len()))
                    ol class="transfers" {
                        "\n"
                        @for t in ts {
                            li data-seq=(t.seq) data-decision=(Text(&t.decision)) {
                                strong { (Text(&t.effective_on)) } " · "
                                a href={ "#" (Text(&row_anchor(&t.decision))) } {
                                    (Text(titles.get(t.decision.as_str()).copied().unwrap_or(&t.decision)))
                                }
                                " · " (proof(p, links, t.seq))
                                span class="note" { " recorded " (Text(date(&t.recorded_at))) " by " (Text(&t.actor)) }
                                ul class="changes" {
                                    @for (aspect, from, to) in changes(&t.from, &t.to, &names) {
                                        li { (Text(aspect)) ": " del { (Text(&from)) } " → " ins { (Text(&to)) } }
                                    }
                                }
                                p class="reason" { (Text(&t.reason)) }
                                p class="evidence" {
                                    "Evidence: "
                                    @for (i, e) in t.evidence.iter().enumerate() {
                                        @if i > 0 { " · " }
                                        a href=(Text(e)) rel="nofollow noopener" { (Text(&link_text(e))) }
                                    }
                                }
                            } "\n"
                        }
                    } "\n"
                }
            }
        } "\n"
    }
}

/// A group's heading: the Season (with its review) or the time between Seasons.
fn season(p: &DecisionsPage, links: &Links, w: When, n: usize) -> Markup {
    html! {
        @match w {
            When::In(s) => {
                h3 data-season=(s) {
                    "Season " (s) " "
                    span class="note" {
                        "(" (n) " · "
                        a href=(Text(&links.review(&p.id, s, "html"))) { "review" } ")"
                    }
                } "\n"
            }
            When::After(s) => {
                h3 { "After Season " (s) " closed " span class="note" { "(" (n) ")" } } "\n"
            }
            When::BeforeAny => {
                h3 { "Before the first Season " span class="note" { "(" (n) ")" } } "\n"
            }
        }
    }
}
