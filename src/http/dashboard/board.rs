//! The milestone board: layers × phases, in the Foundation's legend, each milestone
//! with its status and flags and a link to its events in the audit log.

use super::links::query_value;
use super::{Links, Page};
use maud::{html, Markup};
use std::collections::BTreeSet;
use waymark_projections::html::Text;
use waymark_projections::MilestoneStatus;

pub(super) fn board(p: &Page, links: &Links) -> Markup {
    let s = &p.status;
    let mut phases: Vec<&str> = Vec::new();
    for l in &s.layers {
        for pp in &l.progress {
            if !phases.contains(&pp.phase.as_str()) {
                phases.push(&pp.phase);
            }
        }
    }
    // Milestones that other (unretired) milestones depend on.
    let depended: BTreeSet<&str> = s
        .milestones
        .iter()
        .filter(|m| !m.retired)
        .flat_map(|m| m.depends_on.iter().map(String::as_str))
        .collect();
    html! {
        section id="board" aria-labelledby="board-h" {
            "\n"
            h2 id="board-h" { "Milestone board" } "\n"
            (legend())
            table class="board" {
                "\n"
                caption class="visually-hidden" {
                    "Milestones by layer and phase; a layer's current phase is outlined"
                } "\n"
                thead {
                    tr {
                        th scope="col" { "Layer" } "\n"
                        @for ph in &phases { th scope="col" { "Phase " (Text(ph)) } }
                    }
                } "\n"
                tbody {
                    "\n"
                    @for l in &s.layers {
                        tr data-layer=(Text(&l.id)) {
                            th scope="row" {
                                (Text(&l.title)) br;
                                span class="cell-count" { "in phase " (Text(&l.phase)) }
                            }
                            @for ph in &phases {
                                @let current = *ph == l.phase;
                                td class=[current.then_some(Text("current"))] {
                                    span class="cell-count" {
                                        @if let Some(pp) = l.progress.iter().find(|pp| pp.phase == *ph) {
                                            (pp.achieved) "/" (pp.total) " achieved"
                                        }
                                        @if current { " · current phase" }
                                    }
                                    ul class="milestones" {
                                        @for m in s.milestones.iter().filter(|m| m.layer == l.id && m.phase == *ph) {
                                            (milestone(p, links, m, &depended))
                                        }
                                    }
                                }
                            }
                        } "\n"
                    }
                } "\n"
            } "\n"
        } "\n"
    }
}

/// What the board's colours and weights mean.
fn legend() -> Markup {
    html! {
        ul class="legend" aria-label="Legend" {
            "\n"
            li { span class="swatch achieved" aria-hidden="true" {} "achieved" } "\n"
            li { span class="swatch focus" aria-hidden="true" {} "focus of the open Season" } "\n"
            li { strong { "bold" } ": in progress, and other milestones depend on it" } "\n"
            li { span class="swatch retired" aria-hidden="true" {} "retired" } "\n"
            li { span class="swatch" aria-hidden="true" {} "not started or in progress" } "\n"
        } "\n"
    }
}

/// One milestone of a cell: its classes (status, retired, focus, key), its id linking
/// to its events, its title, its status and flags.
fn milestone(p: &Page, links: &Links, m: &MilestoneStatus, depended: &BTreeSet<&str>) -> Markup {
    let mut class = vec!["ms", m.status.as_str()];
    let mut flags = Vec::new();
    if m.retired {
        class.push("retired");
        flags.push("retired".to_string());
    } else if m.status != "achieved" && m.focus {
        class.push("focus");
    }
    if m.focus {
        flags.push("Season focus".into());
    }
    if !m.retired && m.status == "in_progress" && depended.contains(m.id.as_str()) {
        class.push("key");
        flags.push("others depend on it".into());
    }
    if m.regressed {
        flags.push("regressed".into());
    }
    if !m.blocked_by.is_empty() {
        flags.push(format!("blocked by {}", m.blocked_by.join(", ")));
    }
    let history = match links {
        Links::Server { .. } => format!(
            "{}&milestone={}#audit",
            links.page(&p.id, Some(p.point.as_deref().unwrap_or(""))),
            query_value(&m.id)
        ),
        Links::Static { .. } => "#audit".into(),
    };
    html! {
        li class=(Text(&class.join(" "))) data-milestone=(Text(&m.id)) data-status=(Text(&m.status))
            data-retired=(Text(if m.retired { "true" } else { "false" })) {
            a class="id" href=(Text(&history)) { (Text(&m.id)) }
            (Text(&m.title))
            span class="status" {
                (Text(&m.status.replace('_', " ")))
                @if !flags.is_empty() { " · " (Text(&flags.join(" · "))) }
            }
        }
    }
}
