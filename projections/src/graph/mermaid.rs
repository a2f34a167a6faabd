//! Mermaid flowchart.

use super::{as_of_text, layout, working, Look, ACHIEVED, FOCUS, RETIRED, RETIRED_TEXT};
use crate::status::{MilestoneStatus, Status};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Text for a Mermaid quoted label: entity codes for the characters Mermaid would
/// interpret (the quotes themselves, entities, HTML, markdown strings).
pub(super) fn mermaid_esc(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn mermaid_class(s: &Status, m: &MilestoneStatus, class: &str) -> bool {
    match class {
        "achieved" => Look::of(m) == Look::Achieved,
        "focus" => Look::of(m) == Look::Focus,
        "working" => working(s, m),
        _ => Look::of(m) == Look::Retired,
    }
}

/// Mermaid flowchart: a subgraph per layer with one per phase inside; nodes `m0, m1, …`
/// (milestones in id order) labelled `id<br/>title`; `classDef achieved/focus/working/
/// retired`; arrows dependency → dependent.
pub fn to_mermaid(s: &Status) -> String {
    let (columns, _) = layout(s);
    let node: BTreeMap<&str, usize> = s
        .milestones
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let mut out = format!(
        "%% Waymark dependency graph of ledger {}, {}. Arrows: dependency --> dependent.\n\
         flowchart LR\n",
        s.ledger,
        as_of_text(s)
    );
    for (li, c) in columns.iter().enumerate() {
        let label = c.label();
        let _ = writeln!(out, "  subgraph L{li}[\"{}\"]", mermaid_esc(&label));
        for (pi, (phase, ms)) in c
            .cells
            .iter()
            .enumerate()
            .filter(|(_, (_, ms))| !ms.is_empty())
        {
            let _ = writeln!(
                out,
                "    subgraph L{li}P{pi}[\"Phase {}\"]",
                mermaid_esc(phase)
            );
            for m in ms {
                let _ = writeln!(
                    out,
                    "      m{}[\"{}<br/>{}\"]",
                    node[m.id.as_str()],
                    mermaid_esc(&m.id),
                    mermaid_esc(&m.title)
                );
            }
            out.push_str("    end\n");
        }
        out.push_str("  end\n");
    }
    for m in &s.milestones {
        for d in &m.depends_on {
            if let Some(di) = node.get(d.as_str()) {
                let _ = writeln!(out, "  m{di} --> m{}", node[m.id.as_str()]);
            }
        }
    }
    let _ = writeln!(
        out,
        "  classDef achieved fill:{},stroke:{},color:#000000\n  \
         classDef focus fill:{},stroke:{},color:#000000\n  \
         classDef working stroke-width:3px,font-weight:bold\n  \
         classDef retired fill:{},stroke:{},color:{RETIRED_TEXT},stroke-dasharray:5 5",
        ACHIEVED.0, ACHIEVED.1, FOCUS.0, FOCUS.1, RETIRED.0, RETIRED.1
    );
    for name in ["achieved", "focus", "working", "retired"] {
        let ids: Vec<String> = s
            .milestones
            .iter()
            .enumerate()
            .filter(|(_, m)| mermaid_class(s, m, name))
            .map(|(i, _)| format!("m{i}"))
            .collect();
        if !ids.is_empty() {
            let _ = writeln!(out, "  class {} {name}", ids.join(","));
        }
    }
    out
}
