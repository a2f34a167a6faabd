//! The review as Markdown, ready to paste into a Discourse post.

use super::{arrow, is_web_link, link_label, or_dash, progress_text, type_counts, SeasonReview};
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

pub(super) fn render(r: &SeasonReview) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Season {} review: {}\n", r.season, md(&r.ledger));
    let _ = writeln!(
        o,
        "_Computed by Waymark from ledger `{}`, events seq {}–{}, head hash `{}` \
         (recorded {}). Recompute with `waymark review {}`._\n",
        r.ledger.replace('`', ""),
        r.start.seq,
        r.end.seq,
        r.end.hash,
        md(&r.end.recorded_at),
        r.season
    );
    let _ = writeln!(
        o,
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
    );

    o.push_str("## Summary\n\n");
    match &r.summary {
        Some(s) => {
            for line in s.lines() {
                let _ = writeln!(o, "> {}", md(line));
            }
            o.push('\n');
        }
        None => o.push_str("_The season is still open: no re-evaluation yet._\n\n"),
    }

    o.push_str("## Progress by layer\n\n");
    o.push_str(
        "| Layer | Phase | Achieved/total at start | Achieved/total at end |\n|---|---|---|---|\n",
    );
    for l in &r.layers {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            md(&l.title),
            md(&arrow(&l.phase.from, &l.phase.to)),
            md(&progress_text(l, false)),
            md(&progress_text(l, true))
        );
    }
    o.push('\n');

    o.push_str("## Focus against delivery\n\n");
    if r.focus_delivery.is_empty() {
        o.push_str("No focus milestones.\n\n");
    } else {
        o.push_str("| Milestone | Title | At start | At end | Achieved | Assessment |\n|---|---|---|---|---|---|\n");
        for f in &r.focus_delivery {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                md(&f.id),
                md(&f.title),
                md(or_dash(f.status_at_start.as_deref())),
                md(or_dash(f.status_at_end.as_deref())),
                if f.achieved { "yes" } else { "no" },
                md(or_dash(f.assessment.as_deref()))
            );
        }
        o.push('\n');
    }

    o.push_str("## Still open\n\n");
    if r.still_open.is_empty() {
        o.push_str("Every focus milestone was achieved.\n\n");
    } else {
        for s in &r.still_open {
            let blocked = if s.blocked_by.is_empty() {
                String::from("not blocked")
            } else {
                format!(
                    "blocked by {}",
                    s.blocked_by
                        .iter()
                        .map(|b| md(b))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let _ = writeln!(
                o,
                "- **{}** {}: {}; {}",
                md(&s.id),
                md(&s.title),
                md(or_dash(Some(&s.status))),
                blocked
            );
        }
        o.push('\n');
    }

    o.push_str("## Achieved this season\n\n");
    if r.achieved.is_empty() {
        o.push_str("None.\n\n");
    } else {
        o.push_str(
            "| Milestone | Title | Seq | By | Reason | Evidence |\n|---|---|---|---|---|---|\n",
        );
        for a in &r.achieved {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                md(&a.id),
                md(&a.title),
                a.seq,
                md(&r.actor_name(&a.actor)),
                md(&a.reason),
                md_links(&a.evidence)
            );
        }
        o.push('\n');
    }

    o.push_str("## Regressions\n\n");
    if r.regressions.is_empty() {
        o.push_str("None.\n\n");
    } else {
        o.push_str("| Milestone | Change | Seq | By | Reason |\n|---|---|---|---|---|\n");
        for g in &r.regressions {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                md(&g.id),
                md(&format!("{} → {}", g.from, g.to)),
                g.seq,
                md(&r.actor_name(&g.actor)),
                md(&g.reason)
            );
        }
        o.push('\n');
    }

    o.push_str("## Phase transitions\n\n");
    if r.phase_transitions.is_empty() {
        o.push_str("None.\n\n");
    } else {
        o.push_str("| Layer | Change | Seq | By | Reason |\n|---|---|---|---|---|\n");
        for p in &r.phase_transitions {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                md(r.layer_title(&p.layer)),
                md(&format!("{} → {}", p.from, p.to)),
                p.seq,
                md(&r.actor_name(&p.actor)),
                md(&p.reason)
            );
        }
        o.push('\n');
    }

    o.push_str("## Every status change\n\n");
    if r.status_changes.is_empty() {
        o.push_str("None.\n\n");
    } else {
        o.push_str(
            "| Seq | Recorded | By | Change | Reason | Evidence |\n|---|---|---|---|---|---|\n",
        );
        for c in &r.status_changes {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                c.seq,
                md(&c.recorded_at),
                md(&r.actor_name(&c.actor)),
                md(&c.change),
                md(or_dash(c.reason.as_deref())),
                md_links(&c.evidence)
            );
        }
        o.push('\n');
    }

    o.push_str("## Changes to the model\n\n");
    if r.new_milestones.is_empty() && r.revisions.is_empty() && r.retirements.is_empty() {
        o.push_str("None.\n\n");
    } else {
        for n in &r.new_milestones {
            let deps = if n.depends_on.is_empty() {
                String::new()
            } else {
                format!(", depends on {}", md(&n.depends_on.join(", ")))
            };
            let _ = writeln!(
                o,
                "- Defined **{}** {} ({} / {}{deps}), seq {} by {}",
                md(&n.id),
                md(&n.title),
                md(&n.layer),
                md(&n.phase),
                n.seq,
                md(&r.actor_name(&n.actor))
            );
        }
        for v in &r.revisions {
            let _ = writeln!(
                o,
                "- Revised **{}** ({}), seq {} by {}: {}",
                md(&v.id),
                md(&v.fields.join(", ")),
                v.seq,
                md(&r.actor_name(&v.actor)),
                md(&v.reason)
            );
        }
        for t in &r.retirements {
            let _ = writeln!(
                o,
                "- Retired {} **{}**, seq {} by {}: {}",
                t.kind,
                md(&t.id),
                t.seq,
                md(&r.actor_name(&t.actor)),
                md(&t.reason)
            );
        }
        o.push('\n');
    }

    o.push_str("## Assessments\n\n");
    if r.assessments.is_empty() {
        o.push_str("None.\n\n");
    } else {
        for a in &r.assessments {
            let _ = writeln!(o, "- **{}**: {}", md(&a.milestone), md(&a.note));
        }
        o.push('\n');
    }

    o.push_str("## Who acted\n\n");
    o.push_str("| Actor | Name | Roles | Events | By type |\n|---|---|---|---|---|\n");
    for a in &r.actors {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            md(&a.id),
            md(or_dash(Some(&a.name))),
            md(&a.roles.join(", ")),
            a.events,
            md(&type_counts(a))
        );
    }
    o
}
