//! Graphviz DOT.

use super::{as_of_text, layout, working, Look, OPEN, RETIRED_TEXT};
use crate::status::Status;
use std::fmt::Write as _;

/// A DOT quoted string.
pub(super) fn dot_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Graphviz DOT: one `cluster_<layer>` per layer holding one `cluster_<layer>::<phase>`
/// per phase; nodes labelled `id\ntitle`; edges dependency → dependent.
pub fn to_dot(s: &Status) -> String {
    let (columns, _) = layout(s);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Waymark dependency graph of ledger {}, {}.\n\
         // Edges point from a dependency to the milestone that depends on it.\n\
         // Green: achieved; yellow: focus of the open season; bold: in progress and a\n\
         // dependency of another milestone; grey dashed: retired.",
        s.ledger,
        as_of_text(s)
    );
    out.push_str("digraph \"waymark\" {\n");
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", label={}];",
        dot_str(&format!("{} dependency graph, {}", s.ledger, as_of_text(s)))
    );
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fillcolor=\"{}\", color=\"{}\"];",
        OPEN.0, OPEN.1
    );
    out.push_str("  edge [color=\"#555555\"];\n");
    for c in &columns {
        let _ = writeln!(
            out,
            "  subgraph {} {{",
            dot_str(&format!("cluster_{}", c.id))
        );
        let label = c.label();
        let _ = writeln!(out, "    label={};", dot_str(&label));
        for (phase, ms) in c.cells.iter().filter(|(_, ms)| !ms.is_empty()) {
            let _ = writeln!(
                out,
                "    subgraph {} {{",
                dot_str(&format!("cluster_{}::{}", c.id, phase))
            );
            let _ = writeln!(out, "      label={};", dot_str(&format!("Phase {phase}")));
            for m in ms {
                let look = Look::of(m);
                let (fill, stroke) = look.colours();
                let mut attrs = format!(
                    "label={}, fillcolor=\"{fill}\", color=\"{stroke}\"",
                    dot_str(&format!("{}\n{}", m.id, m.title))
                );
                if look == Look::Retired {
                    let _ = write!(
                        attrs,
                        ", style=\"rounded,filled,dashed\", fontcolor=\"{RETIRED_TEXT}\""
                    );
                }
                if working(s, m) {
                    attrs.push_str(", penwidth=3, fontname=\"Helvetica-Bold\"");
                }
                let _ = writeln!(out, "      {} [{attrs}];", dot_str(&m.id));
            }
            out.push_str("    }\n");
        }
        out.push_str("  }\n");
    }
    for m in &s.milestones {
        for d in &m.depends_on {
            let retired = m.retired || s.milestones.iter().any(|o| &o.id == d && o.retired);
            let style = if retired {
                " [style=dashed, color=\"#999999\"]"
            } else {
                ""
            };
            let _ = writeln!(out, "  {} -> {}{style};", dot_str(d), dot_str(&m.id));
        }
    }
    out.push_str("}\n");
    out
}
