//! The decision diagram (`graph --decisions`): for a known history, the edges, their labels
//! and the marks each format draws, from each module's current design only.

mod common;

use common::{assert_balanced, governance_ledger};
use waymark_projections::{decisions_to_dot, decisions_to_mermaid, decisions_to_svg, Status};

/// `(body, role label, module)` of every DOT edge outside the legend.
fn dot_edges(dot: &str) -> Vec<(String, String, String)> {
    dot.lines()
        .filter(|l| l.starts_with("  \"body:"))
        .map(|l| {
            let part = |from: &str, to: &str| {
                let start = l.find(from).unwrap() + from.len();
                let end = l[start..].find(to).unwrap() + start;
                l[start..end].to_string()
            };
            (
                part("\"body:", "\""),
                part("[label=\"", "\""),
                part("\"decision:", "\""),
            )
        })
        .collect()
}

fn triples(v: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    v.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn dot_draws_one_labelled_edge_per_role_of_the_current_designs() {
    let l = governance_ledger();
    let dot = decisions_to_dot(l.at(38));
    assert_eq!(
        dot_edges(&dot),
        triples(&[
            // technical: guardian, then upgrades; then social: fund
            ("sc", "decides", "guardian"),
            ("th", "vetoes", "guardian"),
            ("sc", "executes", "guardian"),
            ("fnd", "proposes", "upgrades"),
            ("fnd", "decides", "upgrades"),
            ("th", "decides", "upgrades"),
            ("ch", "vetoes (30%)", "upgrades"),
            ("sc", "executes", "upgrades"),
            ("th", "proposes", "fund"),
            ("th", "decides", "fund"),
            ("ch", "vetoes (20%)", "fund"),
            ("th", "vetoes (25%)", "fund"),
            ("fnd", "executes", "fund"),
        ])
    );
    // Before season 8's transfers the map was the 2024 one; targets are never drawn.
    let before = dot_edges(&decisions_to_dot(l.at(28)));
    let upgrades: Vec<_> = before
        .iter()
        .filter(|(_, _, m)| m == "upgrades")
        .cloned()
        .collect();
    assert_eq!(
        upgrades,
        triples(&[
            ("fnd", "proposes", "upgrades"),
            ("fnd", "decides", "upgrades"),
            ("th", "vetoes", "upgrades"),
            ("fnd", "executes", "upgrades"),
        ]),
        "the target (th decides, ch vetoes, sc executes) is not drawn"
    );
    assert!(before.contains(&("fnd".into(), "executes".into(), "guardian".into())));
    assert_eq!(before.len(), 12);
}

#[test]
fn dot_marks_the_foundation_the_targets_reached_and_the_retired() {
    let l = governance_ledger();
    let dot = decisions_to_dot(l.at(38));
    let node = |id: &str| {
        dot.lines()
            .find(|l| l.trim_start().starts_with(&format!("\"{id}\" [")))
            .unwrap_or_else(|| panic!("no node {id} in {dot}"))
            .to_string()
    };
    let upgrades = node("decision:upgrades");
    assert!(
        upgrades.contains("color=\"#d9480f\", penwidth=3")
            && upgrades.contains(r#"label="upgrades\nProtocol upgrades\nvote, threshold 51%\ntarget not reached · the Foundation decides""#),
        "{upgrades}"
    );
    let fund = node("decision:fund");
    assert!(
        fund.contains("fillcolor=\"#ffffff\", color=\"#666666\", penwidth=1")
            && fund.contains(r#"\noptimistic\ntarget not reached""#),
        "{fund}"
    );
    let guardian = node("decision:guardian");
    assert!(
        guardian.contains("fillcolor=\"#b7e4b0\", color=\"#3f8f3f\", penwidth=1")
            && guardian.contains(r#"\nmultisig, 8 of 12 signers\nat its target design""#)
            && guardian.contains(r#"Emergency actions <Guardian> & \"pause\""#),
        "{guardian}"
    );
    // Before season 8, fund was at its target and guardian had none.
    let before = decisions_to_dot(l.at(28));
    assert!(before.contains(r#"Governance Fund\noptimistic\nat its target design""#));
    assert!(before.contains(r#"\nmultisig, 10 of 13 signers\nno target recorded""#));
    assert!(node("body:fnd").contains("fillcolor=\"#ffd8a8\""));
    let cfc = node("body:cfc");
    assert!(
        cfc.contains("style=\"filled,dashed\"") && cfc.contains(r#"cfc · commission · retired"#),
        "{cfc}"
    );
    assert!(dot.contains("subgraph \"cluster_layer:0\" {\n    label=\"Technical\";"));
    assert!(dot.contains("subgraph \"cluster_layer:1\" {\n    label=\"Social\";"));
    assert!(dot.contains("subgraph \"cluster_legend\" {"));
    for role in ["proposes", "decides", "vetoes", "executes"] {
        assert!(
            dot.contains(&format!(
                "\"legend:body\" -> \"legend:module\" [label=\"{role}: "
            )),
            "legend for {role}"
        );
    }
}

#[test]
fn mermaid_has_the_same_edges_with_arrows_classes_and_link_colours() {
    let l = governance_ledger();
    let mm = decisions_to_mermaid(l.at(38));
    let lines: Vec<&str> = mm.lines().map(str::trim).collect();
    assert!(lines.contains(&"flowchart LR"));
    // Bodies in diagram order: sc b0, fnd b1, th b2, ch b3, cfc b4; modules d0 guardian,
    // d1 upgrades, d2 fund.
    for expected in [
        "b0([\"Security Council<br/>sc · council\"])",
        "b4([\"Collective Feedback Commission<br/>cfc · commission · retired\"])",
        "d0[\"guardian<br/>Emergency actions #lt;Guardian#gt; #amp; #quot;pause#quot;<br/>multisig, 8 of 12 signers<br/>at its target design\"]",
        "b1 ==>|\"decides\"| d1",
        "b2 ==>|\"decides\"| d1",
        "b3 -.->|\"vetoes (30%)\"| d1",
        "b0 -->|\"executes\"| d1",
        "b1 -.->|\"proposes\"| d1",
        "class d0,lt atTarget",
        "class d1,d2,lm,lfd module",
        "class d1,lfd foundationDecides",
        "class b4,lr retired",
        "class b1,lf foundation",
        // Links 0-12 are the diagram's, 13-16 the legend's.
        "linkStyle 3,8,13 stroke:#868e96,color:#868e96",
        "linkStyle 1,6,10,11,15 stroke:#c92a2a,color:#c92a2a",
    ] {
        assert!(lines.contains(&expected), "no {expected} in\n{mm}");
    }
    let arrows = lines
        .iter()
        .filter(|l| l.starts_with('b') && l.contains("|\""))
        .count();
    assert_eq!(arrows, 13);
}

#[test]
fn svg_draws_every_edge_between_its_body_and_module_with_a_legend() {
    let l = governance_ledger();
    let s = l.at(38);
    let svg = decisions_to_svg(s);
    assert_eq!(svg, decisions_to_svg(s), "deterministic");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""));
    assert_balanced(&svg);
    let edge = |role: &str, body: &str, module: &str| {
        format!("<g class=\"edge {role}\" data-body=\"{body}\" data-decision=\"{module}\">")
    };
    for (role, body, module) in [
        ("decides", "fnd", "upgrades"),
        ("decides", "th", "upgrades"),
        ("vetoes", "ch", "upgrades"),
        ("executes", "sc", "guardian"),
        ("proposes", "th", "fund"),
    ] {
        assert!(
            svg.contains(&edge(role, body, module)),
            "{role} {body} {module}"
        );
    }
    assert_eq!(svg.matches("<g class=\"edge ").count(), 13);
    assert_eq!(svg.matches("<g class=\"edge decides\"").count(), 4);
    assert!(svg.contains(">vetoes (30%)</text></g>"));
    assert!(svg.contains("<title>Citizens&#39; House vetoes (30%) Protocol upgrades</title>"));
    assert!(svg.contains(">Emergency actions &lt;Guardian&gt; &amp; &quot;pause&quot;</text>"));
    assert!(!svg.contains("<Guardian>"));
    let group = |id: &str| {
        let start = svg
            .find(&format!("<g class=\"decision\" data-id=\"{id}\">"))
            .unwrap();
        let end = svg[start..].find("</g>").unwrap() + start;
        svg[start..end].to_string()
    };
    assert!(group("upgrades").contains("stroke=\"#d9480f\" stroke-width=\"3\""));
    assert!(group("guardian").contains("fill=\"#b7e4b0\""));
    assert!(group("fund").contains("fill=\"#ffffff\""));
    assert!(svg.contains(
        ">3 decision modules: 1 at their target design, 1 decided by the Foundation</text>"
    ));
    assert!(svg.contains(">Legend</text>"));
    assert!(!svg.contains("class=\"note\""));
}

#[test]
fn a_status_without_decisions_draws_a_note_and_nothing_else() {
    let l = governance_ledger();
    let v1: &Status = l.at(20);
    let dot = decisions_to_dot(v1);
    assert!(dot.contains(
        "\"note\" [shape=note, style=filled, fillcolor=\"#fff9db\", label=\"No decision module is recorded at seq 20 (no body either): no edges to draw.\"];"
    ));
    assert!(
        !dot.contains("->") && !dot.contains("cluster_legend"),
        "{dot}"
    );
    let mm = decisions_to_mermaid(v1);
    assert!(mm.contains("  note[\"No decision module is recorded at seq 20 (no body either): no edges to draw.\"]\n"));
    assert!(!mm.contains("-->") && !mm.contains("Legend") && !mm.contains("linkStyle"));
    let svg = decisions_to_svg(v1);
    assert_balanced(&svg);
    assert!(svg.contains("<text class=\"note\""));
    assert!(!svg.contains("class=\"edge") && !svg.contains(">Legend</text>"));
    // Bodies without modules are drawn, and counted in the note.
    let bodies_only = l.at(25);
    let dot = decisions_to_dot(bodies_only);
    assert!(dot.contains("(5 bodies are defined)") && dot.contains("\"body:cfc\" ["));
    assert!(decisions_to_svg(bodies_only).contains("<g class=\"body\" data-id=\"th\">"));
}
