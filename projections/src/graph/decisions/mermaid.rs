//! The decision diagram as a Mermaid flowchart.

use super::{module_lines, Model, Role, RETIRED_TEXT};
use super::{AT_TARGET, BODY, FOUNDATION_BODY, FOUNDATION_STROKE, LEGEND_READING, MODULE, RETIRED};
use crate::graph::mermaid::mermaid_esc;
use crate::status::Status;
use std::fmt::Write as _;

/// The arrow of an edge of `role`: thick for deciding, dotted for proposing and vetoing.
fn arrow(role: Role) -> &'static str {
    match role {
        Role::Decides => "==>",
        Role::Proposes | Role::Vetoes => "-.->",
        Role::Executes => "-->",
    }
}

/// Mermaid flowchart, left to right: a subgraph `B` of bodies (`b0, b1, …`, stadium
/// shapes), a subgraph per layer of modules (`d0, d1, …`, labelled id, title, process and
/// marks), one labelled arrow per role from body to module, a `Legend` subgraph, the
/// classes `body`, `foundation`, `retired`, `module`, `atTarget` (every module has one of
/// these two) and `foundationDecides`, and each
/// role's colour as a `linkStyle`.
pub fn decisions_to_mermaid(s: &Status) -> String {
    let m = Model::of(s);
    let mut out = format!(
        "%% Waymark decision diagram of ledger {}, {}. {LEGEND_READING}\nflowchart LR\n",
        mermaid_esc(&s.ledger),
        m.as_of
    );
    if let Some(note) = m.note() {
        let _ = writeln!(out, "  note[\"{}\"]", mermaid_esc(&note));
    }
    if !m.bodies.is_empty() {
        out.push_str("  subgraph B[\"Bodies\"]\n");
        for (i, b) in m.bodies.iter().enumerate() {
            let _ = writeln!(
                out,
                "    b{i}([\"{}<br/>{}\"])",
                mermaid_esc(&b.title),
                mermaid_esc(&b.detail())
            );
        }
        out.push_str("  end\n");
    }
    for (gi, g) in m.groups.iter().enumerate() {
        let _ = writeln!(out, "  subgraph L{gi}[\"{}\"]", mermaid_esc(&g.title));
        for &mi in &g.modules {
            let d = m.modules[mi];
            let (process, marks) = module_lines(d);
            let _ = writeln!(
                out,
                "    d{mi}[\"{}<br/>{}<br/>{}<br/>{}\"]",
                mermaid_esc(&d.id),
                mermaid_esc(&d.title),
                mermaid_esc(&process),
                mermaid_esc(&marks)
            );
        }
        out.push_str("  end\n");
    }
    // Links are numbered in the order they are written, for `linkStyle`.
    let mut links: Vec<Role> = Vec::new();
    for e in &m.edges {
        let _ = writeln!(
            out,
            "  b{} {}|\"{}\"| d{}",
            e.body,
            arrow(e.role),
            mermaid_esc(&e.label),
            e.module
        );
        links.push(e.role);
    }
    if m.note().is_none() {
        out.push_str(
            "  subgraph Legend[\"Legend\"]\n    lb([\"body\"])\n    lf([\"body of kind foundation\"])\n    \
             lr([\"retired body\"])\n    lm[\"decision module\"]\n    lt[\"module at its target design\"]\n    \
             lfd[\"module the Foundation decides\"]\n",
        );
        for role in Role::ALL {
            let _ = writeln!(
                out,
                "    lb {}|\"{}\"| lm",
                arrow(role),
                mermaid_esc(role.meaning())
            );
            links.push(role);
        }
        out.push_str("  end\n");
    }
    let _ = writeln!(
        out,
        "  classDef body fill:{},stroke:{},color:#000000\n  \
         classDef foundation fill:{},stroke:{},color:#000000\n  \
         classDef retired fill:{},stroke:{},color:{RETIRED_TEXT},stroke-dasharray:5 5\n  \
         classDef module fill:{},stroke:{},color:#000000\n  \
         classDef atTarget fill:{},stroke:{},color:#000000\n  \
         classDef foundationDecides stroke:{FOUNDATION_STROKE},stroke-width:3px",
        BODY.0,
        BODY.1,
        FOUNDATION_BODY.0,
        FOUNDATION_BODY.1,
        RETIRED.0,
        RETIRED.1,
        MODULE.0,
        MODULE.1,
        AT_TARGET.0,
        AT_TARGET.1
    );
    let mut classes: Vec<(&str, Vec<String>)> = vec![
        ("body", Vec::new()),
        ("foundation", Vec::new()),
        ("retired", Vec::new()),
        ("module", Vec::new()),
        ("atTarget", Vec::new()),
        ("foundationDecides", Vec::new()),
    ];
    for (i, b) in m.bodies.iter().enumerate() {
        let class = if b.retired {
            2
        } else if b.foundation() {
            1
        } else {
            0
        };
        classes[class].1.push(format!("b{i}"));
    }
    for (i, d) in m.modules.iter().enumerate() {
        let look = if d.at_target { 4 } else { 3 };
        classes[look].1.push(format!("d{i}"));
        if d.foundation_decides {
            classes[5].1.push(format!("d{i}"));
        }
    }
    if m.note().is_none() {
        for (class, node) in [
            (0, "lb"),
            (1, "lf"),
            (2, "lr"),
            (3, "lm"),
            (4, "lt"),
            (3, "lfd"),
            (5, "lfd"),
        ] {
            classes[class].1.push(node.into());
        }
    }
    for (name, nodes) in &classes {
        if !nodes.is_empty() {
            let _ = writeln!(out, "  class {} {name}", nodes.join(","));
        }
    }
    for role in Role::ALL {
        let ids: Vec<String> = links
            .iter()
            .enumerate()
            .filter(|(_, r)| **r == role)
            .map(|(i, _)| i.to_string())
            .collect();
        if !ids.is_empty() {
            let _ = writeln!(
                out,
                "  linkStyle {} stroke:{c},color:{c}",
                ids.join(","),
                c = role.colour()
            );
        }
    }
    out
}
