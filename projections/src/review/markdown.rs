//! The review as Markdown, ready to paste into a Discourse post.

use super::{
    arrow, authority_counts, governance_change_text, is_web_link, link_label, or_dash,
    progress_text, transfer_changes, type_counts, DecisionAuthority, SeasonReview,
};
use crate::design::summary;
use crate::history::HistoryRow;
use std::fmt::Write as _;

/// Markdown-escapes text for inline use (table cells, list items): every character
/// Markdown or Discourse could read as syntax is backslash-escaped, line breaks become
/// spaces.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Evidence as Markdown links (labelled by host); anything not http(s) as escaped text.
fn md_links(urls: &[String]) -> String {
    if urls.is_empty() {
        return "—".into();
    }
    urls.iter()
        .map(|u| {
            if is_web_link(u) {
                let dest: String = u
                    .chars()
                    .map(|c| match c {
                        ' ' => "%20".to_string(),
                        '(' => "%28".into(),
                        ')' => "%29".into(),
                        '<' => "%3C".into(),
                        '>' => "%3E".into(),
                        '|' => "%7C".into(),
                        c if c.is_control() => String::new(),
                        c => c.to_string(),
                    })
                    .collect();
                format!("[{}]({dest})", md(link_label(u)))
            } else {
                md(u)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A table column: its header and the Markdown of its cell for one row.
type Column<'a, T> = (&'a str, &'a dyn Fn(&T) -> String);

/// A Markdown table: the header row, the delimiter row, one row per item.
fn table<T>(items: &[T], columns: &[Column<'_, T>]) -> String {
    let mut o = table_head(columns.iter().map(|(header, _)| *header));
    for item in items {
        o.push_str(&table_row(columns.iter().map(|(_, cell)| cell(item))));
    }
    o
}

/// A table's header row and delimiter row.
fn table_head<'a>(headers: impl ExactSizeIterator<Item = &'a str>) -> String {
    let n = headers.len();
    let mut o = String::from("|");
    for header in headers {
        let _ = write!(o, " {header} |");
    }
    o.push_str("\n|");
    o.push_str(&"---|".repeat(n));
    o.push('\n');
    o
}

/// One row of a table, from its cells.
fn table_row(cells: impl Iterator<Item = String>) -> String {
    let mut o = String::from("|");
    for cell in cells {
        let _ = write!(o, " {cell} |");
    }
    o.push('\n');
    o
}

/// The headers of the status changes' table.
const CHANGE_HEADERS: [&str; 6] = ["Seq", "Recorded", "By", "Change", "Reason", "Evidence"];

/// One row of the status changes' table.
pub(super) fn change_row(r: &SeasonReview, c: &HistoryRow) -> String {
    table_row(
        [
            c.seq.to_string(),
            md(&c.recorded_at),
            md(&r.actor_name(&c.actor)),
            md(&c.change),
            md(or_dash(c.reason.as_deref())),
            md_links(&c.evidence),
        ]
        .into_iter(),
    )
}

/// [`table`], or the line `none` when there are no items.
fn table_or<T>(none: &str, items: &[T], columns: &[Column<'_, T>]) -> String {
    if items.is_empty() {
        format!("{none}\n")
    } else {
        table(items, columns)
    }
}

/// A bulleted list of items (already Markdown), or the line `none` when there are none.
fn list_or(none: &str, items: Vec<String>) -> String {
    if items.is_empty() {
        return format!("{none}\n");
    }
    items.iter().map(|i| format!("- {i}\n")).collect()
}

fn section(heading: &str, body: String) -> String {
    format!("## {heading}\n\n{body}")
}

/// The document around the rows of its `changes` status changes (see
/// [`super::ReviewFrame`]): blocks (each ending in a newline) separated by blank lines;
/// the document is the head, each change's [`change_row`], then the tail.
pub(super) fn frame(r: &SeasonReview, changes: u64) -> (String, String) {
    let by = |actor: &str| md(&r.actor_name(actor));
    let head = [
        format!("# Season {} review: {}\n", r.season, md(&r.ledger)),
        format!(
            "_Computed by Waymark from ledger `{}`, events seq {}–{}, head hash `{}` \
             (recorded {}). Recompute with `waymark review {}`._\n",
            r.ledger.replace('`', ""),
            r.start.seq,
            r.end.seq,
            r.end.hash,
            md(&r.end.recorded_at),
            r.season
        ),
        format!(
            "- **Season:** {} ({}), {}\n- **Intent:** {}\n- **Focus:** {}\n- **Overall phase:** {}\n",
            r.season,
            r.state,
            md(&r.period()),
            md(&r.intent),
            if r.focus.is_empty() {
                "—".into()
            } else {
                r.focus.iter().map(|f| md(f)).collect::<Vec<_>>().join(", ")
            },
            md(&arrow(
                or_dash(r.overall_phase.from.as_deref()),
                or_dash(r.overall_phase.to.as_deref())
            ))
        ),
        section(
            "Summary",
            match &r.summary {
                Some(s) => s.lines().map(|line| format!("> {}\n", md(line))).collect(),
                None => "_The season is still open: no re-evaluation yet._\n".into(),
            },
        ),
        section(
            "Progress by layer",
            table(
                &r.layers,
                &[
                    ("Layer", &|l| md(&l.title)),
                    ("Phase", &|l| md(&arrow(&l.phase.from, &l.phase.to))),
                    ("Achieved/total at start", &|l| md(&progress_text(l, false))),
                    ("Achieved/total at end", &|l| md(&progress_text(l, true))),
                ],
            ),
        ),
        section(
            "Focus against delivery",
            table_or(
                "No focus milestones.",
                &r.focus_delivery,
                &[
                    ("Milestone", &|f| md(&f.id)),
                    ("Title", &|f| md(&f.title)),
                    ("At start", &|f| md(or_dash(f.status_at_start.as_deref()))),
                    ("At end", &|f| md(or_dash(f.status_at_end.as_deref()))),
                    ("Achieved", &|f| if f.achieved { "yes" } else { "no" }.into()),
                    ("Assessment", &|f| md(or_dash(f.assessment.as_deref()))),
                ],
            ),
        ),
        section(
            "Still open",
            list_or(
                "Every focus milestone was achieved.",
                r.still_open
                    .iter()
                    .map(|s| {
                        let blocked = if s.blocked_by.is_empty() {
                            "not blocked".into()
                        } else {
                            let ids: Vec<String> = s.blocked_by.iter().map(|b| md(b)).collect();
                            format!("blocked by {}", ids.join(", "))
                        };
                        format!(
                            "**{}** {}: {}; {blocked}",
                            md(&s.id),
                            md(&s.title),
                            md(or_dash(Some(&s.status)))
                        )
                    })
                    .collect(),
            ),
        ),
        section(
            "Achieved this season",
            table_or(
                "None.",
                &r.achieved,
                &[
                    ("Milestone", &|a| md(&a.id)),
                    ("Title", &|a| md(&a.title)),
                    ("Seq", &|a| a.seq.to_string()),
                    ("By", &|a| by(&a.actor)),
                    ("Reason", &|a| md(&a.reason)),
                    ("Evidence", &|a| md_links(&a.evidence)),
                ],
            ),
        ),
        section(
            "Regressions",
            table_or(
                "None.",
                &r.regressions,
                &[
                    ("Milestone", &|g| md(&g.id)),
                    ("Change", &|g| md(&format!("{} → {}", g.from, g.to))),
                    ("Seq", &|g| g.seq.to_string()),
                    ("By", &|g| by(&g.actor)),
                    ("Reason", &|g| md(&g.reason)),
                ],
            ),
        ),
        section(
            "Phase transitions",
            table_or(
                "None.",
                &r.phase_transitions,
                &[
                    ("Layer", &|p| md(r.layer_title(&p.layer))),
                    ("Change", &|p| md(&format!("{} → {}", p.from, p.to))),
                    ("Seq", &|p| p.seq.to_string()),
                    ("By", &|p| by(&p.actor)),
                    ("Reason", &|p| md(&p.reason)),
                ],
            ),
        ),
        section(
            "Every status change",
            match changes {
                0 => "None.\n".to_string(),
                _ => table_head(CHANGE_HEADERS.into_iter()),
            },
        ),
    ];
    let mut tail = vec![
        section("Changes to the model", list_or("None.", model_changes(r))),
        // "Decision authority" goes here when the season has section 13 events.
        section(
            "Assessments",
            list_or(
                "None.",
                r.assessments
                    .iter()
                    .map(|a| format!("**{}**: {}", md(&a.milestone), md(&a.note)))
                    .collect(),
            ),
        ),
        section(
            "Who acted",
            table(
                &r.actors,
                &[
                    ("Actor", &|a| md(&a.id)),
                    ("Name", &|a| md(or_dash(Some(&a.name)))),
                    ("Roles", &|a| md(&a.roles.join(", "))),
                    ("Events", &|a| a.events.to_string()),
                    ("By type", &|a| md(&type_counts(a))),
                ],
            ),
        ),
    ];
    if let Some(a) = &r.decision_authority {
        let at = tail.len() - 2; // before "Assessments" and "Who acted"
        tail.insert(at, section("Decision authority", decision_authority(r, a)));
    }
    // The rows end the status changes' block; the next block follows a blank line.
    (head.join("\n"), format!("\n{}", tail.join("\n")))
}

/// Section 13 during the season: the counts at its start and end, the transfers with the
/// designs before and after, the hypotheses, and bodies and modules changed.
fn decision_authority(r: &SeasonReview, a: &DecisionAuthority) -> String {
    let by = |actor: &str| md(&r.actor_name(actor));
    let counts: String = authority_counts(&a.authority)
        .iter()
        .map(|(label, change)| format!("- **{label}:** {}\n", md(change)))
        .collect();
    let sub = |heading: &str, body: String| format!("### {heading}\n\n{body}");
    [
        counts,
        sub(
            "Authority transfers",
            list_or(
                "None.",
                a.transfers
                    .iter()
                    .map(|t| {
                        let changed = match transfer_changes(t) {
                            c if c.is_empty() => "—".to_string(),
                            c => md(&c),
                        };
                        format!(
                            "**{}** {}, effective {} (seq {}, by {})\n  \
                             - Changed: {changed}\n  \
                             - From: {}\n  \
                             - To: {}\n  \
                             - Reason: {}\n  \
                             - Evidence: {}",
                            md(&t.decision),
                            md(&t.title),
                            md(&t.effective_on),
                            t.seq,
                            by(&t.actor),
                            md(&summary(&t.from)),
                            md(&summary(&t.to)),
                            md(&t.reason),
                            md_links(&t.evidence)
                        )
                    })
                    .collect(),
            ),
        ),
        sub(
            "Hypotheses stated",
            table_or(
                "None.",
                &a.hypotheses_stated,
                &[
                    ("Module", &|h| md(&h.decision)),
                    ("Hypothesis", &|h| md(&h.id)),
                    ("Statement", &|h| md(&h.statement)),
                    ("Measure", &|h| md(&h.measure)),
                    ("Seq", &|h| h.seq.to_string()),
                    ("By", &|h| by(&h.actor)),
                ],
            ),
        ),
        sub(
            "Hypotheses concluded",
            table_or(
                "None.",
                &a.hypotheses_concluded,
                &[
                    ("Module", &|h| md(&h.decision)),
                    ("Hypothesis", &|h| md(&h.id)),
                    ("Outcome", &|h| md(&h.outcome)),
                    ("Note", &|h| md(&h.note)),
                    ("Seq", &|h| h.seq.to_string()),
                    ("By", &|h| by(&h.actor)),
                    ("Evidence", &|h| md_links(&h.evidence)),
                ],
            ),
        ),
        sub(
            "Bodies and modules defined, revised or retired",
            list_or(
                "None.",
                a.changes
                    .iter()
                    .map(|c| {
                        let t = governance_change_text(c);
                        let mut line = format!(
                            "{} **{}**{}, seq {} by {}",
                            md(&t.head),
                            md(&c.id),
                            md(&t.detail),
                            c.seq,
                            by(&c.actor)
                        );
                        if !c.reason.is_empty() {
                            let _ = write!(line, ": {}", md(&c.reason));
                        }
                        if !t.designs.is_empty() {
                            let _ = write!(line, " — {}", md(&t.designs));
                        }
                        line
                    })
                    .collect(),
            ),
        ),
    ]
    .join("\n")
}

/// Milestones defined, revised and retired (and actors retired), in that order.
fn model_changes(r: &SeasonReview) -> Vec<String> {
    let by = |actor: &str| md(&r.actor_name(actor));
    let defined = r.new_milestones.iter().map(|n| {
        let deps = if n.depends_on.is_empty() {
            String::new()
        } else {
            format!(", depends on {}", md(&n.depends_on.join(", ")))
        };
        format!(
            "Defined **{}** {} ({} / {}{deps}), seq {} by {}",
            md(&n.id),
            md(&n.title),
            md(&n.layer),
            md(&n.phase),
            n.seq,
            by(&n.actor)
        )
    });
    let revised = r.revisions.iter().map(|v| {
        format!(
            "Revised **{}** ({}), seq {} by {}: {}",
            md(&v.id),
            md(&v.fields.join(", ")),
            v.seq,
            by(&v.actor),
            md(&v.reason)
        )
    });
    let retired = r.retirements.iter().map(|t| {
        format!(
            "Retired {} **{}**, seq {} by {}: {}",
            t.kind,
            md(&t.id),
            t.seq,
            by(&t.actor),
            md(&t.reason)
        )
    });
    defined.chain(revised).chain(retired).collect()
}
