//! Diff, season review and dependency graph over a small hand-built ledger. The events are
//! unsigned (review and the folds do not check signatures); statuses and history rows come
//! from the real folds, so they are what `waymark` itself would compute.

mod common;

use common::{assert_balanced, ledger, season_review};
use waymark_events::{Event, Hash};
use waymark_projections::{
    diff, review, to_dot, to_mermaid, to_svg, Change, HistoryRow, ReviewError, SeasonReview,
};

#[test]
fn diff_of_a_status_with_itself_is_empty() {
    let l = ledger();
    let d = diff(l.at(20), l.at(20));
    assert!(d.is_empty());
    assert!(d.to_text().ends_with("\nno changes\n"), "{}", d.to_text());
}

#[test]
fn diff_reports_exactly_the_changed_milestone() {
    let l = ledger();
    let a = l.at(20).clone();
    let mut b = a.clone();
    let m = b.milestones.iter_mut().find(|m| m.id == "T-B1").unwrap();
    m.status = "achieved".into();
    let d = diff(&a, &b);
    assert_eq!(d.changed.len(), 1);
    assert_eq!(d.changed[0].id, "T-B1");
    assert_eq!(
        d.changed[0].status,
        Some(Change {
            from: "in_progress".into(),
            to: "achieved".into()
        })
    );
    assert!(d.changed[0].title.is_none() && d.changed[0].phase.is_none());
    assert!(d.layers.is_empty() && d.added.is_empty() && d.removed.is_empty());
    assert!(d.overall_phase.is_none() && d.season.is_none());
    let text = d.to_text();
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines, ["milestone T-B1: status in_progress → achieved"]);
}

#[test]
fn diff_over_the_season_lists_every_kind_of_change() {
    let l = ledger();
    let d = diff(l.at(10), l.at(20));
    assert_eq!((d.from.seq, d.to.seq), (10, 20));
    assert_eq!(d.to.hash, l.events[19].1);
    let ids: Vec<&str> = d.changed.iter().map(|m| m.id.as_str()).collect();
    // T-A1 went achieved → in_progress → achieved: same at both ends, so left out.
    assert_eq!(ids, ["S-1", "T-A2", "T-B1"]);
    assert_eq!(d.added.len(), 1);
    assert_eq!(d.added[0].id, "S-2");
    assert!(d.added[0].retired);
    assert_eq!(d.layers.len(), 1, "social is unchanged: {:?}", d.layers);
    assert_eq!(d.layers[0].id, "technical");
    assert_eq!(
        d.layers[0].phase,
        Some(Change {
            from: "A".into(),
            to: "B".into()
        })
    );
    assert_eq!(d.layers[0].progress.len(), 1);
    assert_eq!(d.layers[0].progress[0].phase, "A");
    assert_eq!(
        (
            d.layers[0].progress[0].achieved.from,
            d.layers[0].progress[0].achieved.to
        ),
        (1, 2)
    );
    assert_eq!(
        d.overall_phase, None,
        "social stays in A, so the overall phase stays A"
    );
    let text = d.to_text();
    for line in [
        "layer technical: phase A → B",
        "layer technical: phase A progress 1/2 → 2/2",
        "milestone S-1: title \"Citizenship\" → \"Citizenship (row 23)\"",
        "milestone T-A2: status not_started → achieved",
        "milestone T-B1: status not_started → in_progress",
        "season: 7 (open) → 7 (closed)",
        "milestone S-2: added in social / B (not_started, retired): Feedback Commission",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(!text.contains("T-C1") && !text.contains("T-A1"), "{text}");
    let back: waymark_projections::StatusDiff =
        serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
    assert_eq!(back, d);
}

#[test]
fn review_lists_achievements_regressions_and_focus() {
    let l = ledger();
    let r = season_review(&l);
    assert_eq!((r.season, r.state.as_str()), (7, "closed"));
    assert_eq!(r.ends_on.as_deref(), Some("2025-06-11"));
    assert_eq!((r.start.seq, r.end.seq), (10, 20));
    assert_eq!(r.end.hash, l.events[19].1);
    let achieved: Vec<(&str, u64)> = r.achieved.iter().map(|a| (a.id.as_str(), a.seq)).collect();
    assert_eq!(achieved, [("T-A2", 12), ("T-A1", 14)]);
    assert_eq!(r.achieved[0].title, "Security Council");
    assert_eq!(r.regressions.len(), 1);
    let g = &r.regressions[0];
    assert_eq!(
        (g.id.as_str(), g.to.as_str(), g.seq, g.actor.as_str()),
        ("T-A1", "in_progress", 13, "rev")
    );
    assert_eq!(
        r.status_changes.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [11, 12, 13, 14, 16]
    );
    assert_eq!(r.phase_transitions.len(), 1);
    assert_eq!(r.phase_transitions[0].layer, "technical");

    let focus: Vec<(&str, Option<&str>, Option<&str>, bool)> = r
        .focus_delivery
        .iter()
        .map(|f| {
            (
                f.id.as_str(),
                f.status_at_start.as_deref(),
                f.status_at_end.as_deref(),
                f.achieved,
            )
        })
        .collect();
    assert_eq!(
        focus,
        [
            ("T-A2", Some("not_started"), Some("achieved"), true),
            ("T-B1", Some("not_started"), Some("in_progress"), false),
            ("T-C1", Some("not_started"), Some("not_started"), false),
        ]
    );
    assert_eq!(
        r.focus_delivery[1].assessment.as_deref(),
        Some("proofs in review")
    );
    assert_eq!(r.focus_delivery[0].assessment, None);
    let open: Vec<(&str, &[String])> = r
        .still_open
        .iter()
        .map(|s| (s.id.as_str(), s.blocked_by.as_slice()))
        .collect();
    assert_eq!(
        open,
        [("T-B1", &[][..]), ("T-C1", &["T-B1".to_string()][..])]
    );

    assert_eq!(r.new_milestones.len(), 1);
    assert_eq!(r.new_milestones[0].id, "S-2");
    assert_eq!(r.revisions.len(), 1);
    assert_eq!(r.revisions[0].fields, ["title"]);
    assert_eq!(r.retirements.len(), 1);
    assert_eq!(
        (r.retirements[0].kind.as_str(), r.retirements[0].id.as_str()),
        ("milestone", "S-2")
    );
    assert_eq!(
        r.summary.as_deref(),
        Some("Phase A done.\nStage 1 still pending.")
    );
    assert_eq!(r.overall_phase.from.as_deref(), Some("A"));
    let tech = r.layers.iter().find(|l| l.id == "technical").unwrap();
    assert_eq!(
        (tech.phase.from.as_str(), tech.phase.to.as_str()),
        ("A", "B")
    );
    assert_eq!(
        (tech.progress[0].achieved.from, tech.progress[0].achieved.to),
        (1, 2)
    );

    let back: SeasonReview = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn review_counts_events_per_actor() {
    let r = season_review(&ledger());
    let counts: Vec<(&str, u64)> = r.actors.iter().map(|a| (a.id.as_str(), a.events)).collect();
    // foundation: seqs 10, 15, 17, 18, 19; rev: 12, 13, 14, 20; rep: 11, 16.
    assert_eq!(counts, [("foundation", 5), ("rev", 4), ("rep", 2)]);
    let rev = &r.actors[1];
    assert_eq!(rev.name, "Metrics Council");
    assert_eq!(rev.roles, ["reviewer"]);
    assert_eq!(rev.by_type["MilestoneStatusChanged"], 3);
    assert_eq!(rev.by_type["SeasonReEvaluated"], 1);
    assert_eq!(rev.by_type.len(), 2);
    assert_eq!(r.actors[0].roles, ["steward"]);
}

#[test]
fn review_of_an_open_season_runs_to_the_head() {
    let l = ledger();
    let (events, rows) = l.range(10, 16);
    let r = review(7, l.at(10), l.at(16), events, rows).unwrap();
    assert_eq!(r.state, "open");
    assert_eq!((r.ends_on.clone(), r.summary.clone()), (None, None));
    assert!(r.assessments.is_empty());
    assert_eq!(r.still_open.len(), 2);
    assert!(r.to_markdown().contains("still open: no re-evaluation yet"));
}

#[test]
fn review_rejects_inputs_that_are_not_one_season() {
    let l = ledger();
    let (events, rows) = l.range(9, 20);
    assert_eq!(
        review(7, l.at(9), l.at(20), events, rows),
        Err(ReviewError::NotSeasonStart { season: 7, seq: 9 })
    );
    let (events, rows) = l.range(10, 20);
    assert_eq!(
        review(8, l.at(10), l.at(20), events, rows),
        Err(ReviewError::NotSeasonStart { season: 8, seq: 10 })
    );
    assert_eq!(
        review(7, l.at(10), l.at(20), events, &rows[1..]),
        Err(ReviewError::RowsMismatch { index: 10 })
    );
    assert_eq!(
        review(7, l.at(10), l.at(19), events, rows),
        Err(ReviewError::StatusMismatch {
            which: "end",
            seq: 20
        })
    );
    let gappy: Vec<(Event, Hash)> = events
        .iter()
        .filter(|(e, _)| e.seq != 12)
        .cloned()
        .collect();
    let gappy_rows: Vec<HistoryRow> = rows.iter().filter(|r| r.seq != 12).cloned().collect();
    assert_eq!(
        review(7, l.at(10), l.at(20), &gappy, &gappy_rows),
        Err(ReviewError::Gap {
            expected: 12,
            found: 13
        })
    );
    assert_eq!(
        review(7, l.at(10), l.at(20), &[], &[]),
        Err(ReviewError::NoEvents)
    );
}

#[test]
fn markdown_has_provenance_tables_and_escaped_text() {
    let l = ledger();
    let md = season_review(&l).to_markdown();
    let head = l.events[19].1.to_hex();
    assert!(
        md.contains(&format!(
            "ledger `demo`, events seq 10–20, head hash `{head}`"
        )),
        "{md}"
    );
    let lines: Vec<&str> = md.lines().collect();
    assert!(lines
        .contains(&"| T-B1 | Stage 1 | not\\_started | in\\_progress | no | proofs in review |"));
    assert!(lines.contains(
        &"| T-A2 | Security Council | 12 | Metrics Council (rev) | Shipped \\<script\\>alert(1)\\</script\\> \\| see \"notes\" \\& more | [example.org](https://example.org/a2), ipfs://not-a-web-link |"
    ), "{md}");
    assert!(lines.contains(
        &"| T-A1 | achieved → in\\_progress | 13 | Metrics Council (rev) | proofs paused |"
    ));
    assert!(
        lines.contains(&"- **T-C1** Stage 2 \\<b\\> \\& \"more\": not\\_started; blocked by T-B1")
    );
    assert!(lines.contains(&"| foundation | Optimism Foundation | steward | 5 | MilestoneDefined ×1, MilestoneRetired ×1, MilestoneRevised ×1, PhaseTransitioned ×1, SeasonOpened ×1 |"));
    assert!(lines.contains(&"> Stage 1 still pending."));
    assert!(lines
        .contains(&"| Technical | A → B | 15 | Optimism Foundation (foundation) | Phase A done |"));
    assert!(lines.contains(&"| Technical | A → B | A 1/2, B 0/1, C 0/1 | A 2/2, B 0/1, C 0/1 |"));
    assert!(lines.contains(
        &"- Retired milestone **S-2**, seq 19 by Optimism Foundation (foundation): not continued"
    ));
    // Every table row has as many unescaped pipes as its header.
    for l in &lines {
        if l.starts_with('|') {
            let pipes = l.replace("\\|", "").matches('|').count();
            assert!([5, 6, 7].contains(&pipes), "{l}");
        }
    }
}

#[test]
fn html_is_one_escaped_standalone_page() {
    let l = ledger();
    let html = season_review(&l).to_html();
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(!html.contains("<script"), "unescaped script");
    assert!(html.contains(
        "Shipped &lt;script&gt;alert(1)&lt;/script&gt; | see &quot;notes&quot; &amp; more"
    ));
    assert!(html.contains("<a href=\"https://example.org/a2\" rel=\"nofollow noopener\">example.org</a>, ipfs://not-a-web-link"));
    assert!(!html.contains("href=\"ipfs"));
    for needle in [
        "<main>",
        "<section id=\"focus\"",
        "<caption>",
        "<th scope=\"col\">Milestone</th>",
        "<th scope=\"row\">T-C1</th>",
        "<style>",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    assert!(!html.contains("src=") && !html.contains("<link") && !html.contains("@import"));
    assert_balanced(&html);
}

#[test]
fn dot_has_clusters_edges_and_the_legend_colours() {
    let l = ledger();
    let dot = to_dot(l.at(16)); // season 7 open, T-B1 in progress
    assert!(dot.contains("subgraph \"cluster_technical\" {"));
    assert!(dot.contains("subgraph \"cluster_technical::B\" {"));
    assert!(dot.contains("  \"T-A1\" -> \"T-B1\";\n"));
    assert!(dot.contains("  \"T-B1\" -> \"T-C1\";\n"));
    let node = |id: &str| {
        dot.lines()
            .find(|l| l.trim_start().starts_with(&format!("\"{id}\" [")))
            .unwrap_or_else(|| panic!("no node {id}"))
            .to_string()
    };
    assert!(
        node("T-A1").contains("fillcolor=\"#b7e4b0\""),
        "{}",
        node("T-A1")
    );
    let t_b1 = node("T-B1");
    assert!(
        t_b1.contains("fillcolor=\"#ffe873\"")
            && t_b1.contains("penwidth=3")
            && t_b1.contains("Helvetica-Bold"),
        "{t_b1}"
    );
    let t_c1 = node("T-C1");
    assert!(
        !t_c1.contains("penwidth"),
        "not a dependency of anything: {t_c1}"
    );
    assert!(
        t_c1.contains(r#"label="T-C1\nStage 2 <b> & \"more\"""#),
        "{t_c1}"
    );
    assert!(node("S-1").contains("fillcolor=\"#ffffff\""));
}

#[test]
fn dot_marks_retired_milestones_dashed_grey() {
    let l = ledger();
    let dot = to_dot(l.at(20));
    let s2 = dot.lines().find(|l| l.contains("\"S-2\" [")).unwrap();
    assert!(
        s2.contains("style=\"rounded,filled,dashed\"") && s2.contains("fillcolor=\"#eeeeee\""),
        "{s2}"
    );
    // The season is closed: nothing is drawn as focus.
    assert!(!dot.contains("#ffe873\""), "{dot}");
}

#[test]
fn mermaid_has_subgraphs_classes_and_quoted_labels() {
    let l = ledger();
    let mm = to_mermaid(l.at(16));
    let lines: Vec<&str> = mm.lines().map(str::trim).collect();
    assert!(lines.contains(&"flowchart LR"));
    assert!(lines.contains(&"subgraph L0[\"Technical (current phase B)\"]"));
    assert!(lines.contains(&"subgraph L0P1[\"Phase B\"]"));
    // Milestones in id order: S-1 m0, T-A1 m1, T-A2 m2, T-B1 m3, T-C1 m4.
    assert!(
        lines.contains(&"m4[\"T-C1<br/>Stage 2 #lt;b#gt; #amp; #quot;more#quot;\"]"),
        "{mm}"
    );
    assert!(lines.contains(&"m1 --> m3"));
    assert!(lines.contains(&"m3 --> m4"));
    for class in ["achieved", "focus", "working", "retired"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("classDef {class} "))),
            "classDef {class}"
        );
    }
    assert!(lines.contains(&"class m1,m2 achieved"));
    assert!(lines.contains(&"class m3,m4 focus"));
    assert!(lines.contains(&"class m3 working"));
    assert!(!lines
        .iter()
        .any(|l| l.starts_with("class ") && l.ends_with(" retired")));
}

#[test]
fn svg_is_standalone_escaped_and_coloured() {
    let l = ledger();
    let s = l.at(16);
    let svg = to_svg(s);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""));
    assert!(svg.contains(" viewBox=\"0 0 "));
    assert_eq!(svg, to_svg(s), "deterministic");
    assert_balanced(&svg);
    let group = |id: &str| {
        let start = svg
            .find(&format!("<g class=\"milestone\" data-id=\"{id}\">"))
            .unwrap();
        let end = svg[start..].find("</g>").unwrap() + start;
        svg[start..end].to_string()
    };
    assert!(group("T-A1").contains("<rect") && group("T-A1").contains("fill=\"#b7e4b0\""));
    let t_b1 = group("T-B1");
    assert!(
        t_b1.contains("fill=\"#ffe873\"") && t_b1.contains("stroke-width=\"3\""),
        "{t_b1}"
    );
    let t_c1 = group("T-C1");
    assert!(
        t_c1.contains(">Stage 2 &lt;b&gt; &amp; &quot;more&quot;</text>"),
        "{t_c1}"
    );
    assert!(!svg.contains("<b>"));
    assert_eq!(svg.matches("class=\"dependency\"").count(), 2);
    assert!(svg.contains("<marker id=\"arrow\""));
    assert!(svg.contains(">demo dependency graph, seq 16</text>"));
    assert!(svg.contains(">Legend</text>"));
}

#[test]
fn svg_truncates_long_titles_with_an_ellipsis() {
    let l = ledger();
    let mut s = l.at(20).clone();
    s.milestones[0].title = "A very long milestone title that will not fit in its box".into();
    let svg = to_svg(&s);
    assert!(
        svg.contains(">A very long milestone title tha…</text>"),
        "{svg}"
    );
    // The full title stays in the tooltip.
    assert!(svg.contains("<title>S-1: A very long milestone title that will not fit in its box (not_started)</title>"));
}
