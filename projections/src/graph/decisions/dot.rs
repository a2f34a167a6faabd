//! The decision diagram as Graphviz DOT.

use super::{module_lines, module_look, one_line, Model, Role, RETIRED_TEXT};
use super::{AT_TARGET, BODY, FOUNDATION_BODY, FOUNDATION_STROKE, LEGEND_READING, MODULE, RETIRED};
use crate::graph::dot::dot_str;
use crate::status::Status;
use std::fmt::Write as _;

/// The attributes of an edge of `role`.
fn edge_style(role: Role) -> String {
    let style = match role {
        Role::Proposes => "dotted",
        Role::Decides => "bold",
        Role::Vetoes => "dashed",
        Role::Executes => "solid",
    };
    format!(
        "color=\"{c}\", fontcolor=\"{c}\", style={style}",
        c = role.colour()
    )
}

/// Graphviz DOT, left to right: a `cluster_bodies` of bodies (ellipses, `body:<id>`), one
/// `cluster_layer:<n>` per layer of modules (n counting from 0) (boxes, `decision:<id>`, labelled id,
/// title, process and marks), one labelled edge per role from body to module, and a
/// `cluster_legend`.
pub fn decisions_to_dot(s: &Status) -> String {
    let m = Model::of(s);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Waymark decision diagram of ledger {}, {}.\n\
         // {LEGEND_READING}\n\
         // Green module: at its target design; thick orange border: the Foundation decides it;\n\
         // orange body: a foundation; grey dashed body: retired.",
        one_line(&s.ledger),
        m.as_of
    );
    out.push_str("digraph \"waymark-decisions\" {\n");
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", nodesep=0.3, ranksep=1.6, label={}];",
        dot_str(&m.title())
    );
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    if let Some(note) = m.note() {
        let _ = writeln!(
            out,
            "  \"note\" [shape=note, style=filled, fillcolor=\"#fff9db\", label={}];",
            dot_str(&note)
        );
    }
    if !m.bodies.is_empty() {
        out.push_str("  subgraph \"cluster_bodies\" {\n    label=\"Bodies\";\n");
        for b in &m.bodies {
            let (fill, stroke) = b.colours();
            let style = if b.retired {
                format!("\"filled,dashed\", fontcolor=\"{RETIRED_TEXT}\"")
            } else {
                "filled".into()
            };
            let attrs = format!(
                "shape=ellipse, style={style}, fillcolor=\"{fill}\", color=\"{stroke}\", label={}",
                dot_str(&format!("{}\n{}", b.title, b.detail()))
            );
            let _ = writeln!(out, "    {} [{attrs}];", dot_str(&format!("body:{}", b.id)));
        }
        out.push_str("  }\n");
    }
    for (gi, g) in m.groups.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph {} {{\n    label={};",
            dot_str(&format!("cluster_layer:{gi}")),
            dot_str(&g.title)
        );
        for &mi in &g.modules {
            let d = m.modules[mi];
            let (fill, stroke, width) = module_look(d);
            let (process, marks) = module_lines(d);
            let _ = writeln!(
                out,
                "    {} [shape=box, style=\"rounded,filled\", fillcolor=\"{fill}\", color=\"{stroke}\", penwidth={width}, label={}];",
                dot_str(&format!("decision:{}", d.id)),
                dot_str(&format!("{}\n{}\n{process}\n{marks}", d.id, d.title))
            );
        }
        out.push_str("  }\n");
    }
    for e in &m.edges {
        let _ = writeln!(
            out,
            "  {} -> {} [label={}, {}];",
            dot_str(&format!("body:{}", m.bodies[e.body].id)),
            dot_str(&format!("decision:{}", m.modules[e.module].id)),
            dot_str(&e.label),
            edge_style(e.role)
        );
    }
    if m.note().is_none() {
        legend(&mut out);
    }
    out.push_str("}\n");
    out
}

/// Sample bodies, modules and one edge per role, in a cluster of their own.
fn legend(out: &mut String) {
    out.push_str("  subgraph \"cluster_legend\" {\n    label=\"Legend\";\n    style=dashed;\n");
    let bodies = [
        ("legend:body", BODY, "body", "filled"),
        (
            "legend:foundation",
            FOUNDATION_BODY,
            "body of kind foundation",
            "filled",
        ),
        (
            "legend:retired",
            RETIRED,
            "retired body",
            "\"filled,dashed\", fontcolor=\"#777777\"",
        ),
    ];
    for (id, (fill, stroke), label, style) in bodies {
        let _ = writeln!(
            out,
            "    \"{id}\" [shape=ellipse, style={style}, fillcolor=\"{fill}\", color=\"{stroke}\", label=\"{label}\"];"
        );
    }
    let modules = [
        ("legend:module", MODULE.0, MODULE.1, 1, "decision module"),
        (
            "legend:target",
            AT_TARGET.0,
            AT_TARGET.1,
            1,
            "module at its target design",
        ),
        (
            "legend:foundation-decides",
            MODULE.0,
            FOUNDATION_STROKE,
            3,
            "module the Foundation decides",
        ),
    ];
    for (id, fill, stroke, width, label) in modules {
        let _ = writeln!(
            out,
            "    \"{id}\" [shape=box, style=\"rounded,filled\", fillcolor=\"{fill}\", color=\"{stroke}\", penwidth={width}, label=\"{label}\"];"
        );
    }
    for role in Role::ALL {
        let _ = writeln!(
            out,
            "    \"legend:body\" -> \"legend:module\" [label={}, {}];",
            dot_str(role.meaning()),
            edge_style(role)
        );
    }
    out.push_str("  }\n");
}
