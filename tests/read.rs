//! The read side through the real binary, on SQLite and PostgreSQL: history filters,
//! as-of points, Season reviews, diffs, graphs, and the stored read models
//! (`rebuild`, catch-up after a missed update).
//!
//! The ledger is `Env::history()`: seq 1 LedgerOpened, 2–5 MilestoneDefined (M1, M2,
//! M3, E1), 6–7 actors bob and rita, 8 SeasonOpened 6 (focus M1, M2), 9 M1 achieved,
//! 10 M2 in progress, 11 M1 back to in progress, 12 E1 achieved, 13 econ A → B,
//! 14 SeasonReEvaluated 6, 15 M3 retired.

#[macro_use]
mod common;
use common::*;
use serde_json::Value;

fn seqs(rows: &Value) -> Vec<u64> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect()
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_str().unwrap().to_string())
        .collect()
}

fn history_filters_combine(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    assert_eq!(seqs(&env.json(&["history"])), (1..=15).collect::<Vec<_>>());
    assert_eq!(seqs(&env.json(&["history", "M1"])), [2, 8, 9, 11, 14]);
    assert_eq!(
        seqs(&env.json(&["history", "M1", "--actor", "bob"])),
        [9, 11]
    );
    assert_eq!(
        seqs(&env.json(&["history", "--season", "6"])),
        [8, 9, 10, 11, 12, 13, 14]
    );
    assert_eq!(
        seqs(&env.json(&["history", "--type", "PhaseTransitioned"])),
        [13]
    );
    assert_eq!(
        seqs(&env.json(&[
            "history",
            "E1",
            "--season",
            "6",
            "--type",
            "MilestoneStatusChanged",
            "--actor",
            "bob"
        ])),
        [12]
    );
    assert_eq!(
        seqs(&env.json(&["history", "M3", "--season", "6"])),
        Vec::<u64>::new()
    );
    // A milestone id is matched whole: "M" names no milestone.
    // An id that names nothing is an error (issue 15), not an empty table.
    assert!(env
        .fails(1, &["history", "M"])
        .starts_with("waymark: no milestone, decision or body M "));

    let row = &env.json(&["history", "M1", "--actor", "bob"])[1];
    assert_eq!(row["actor"], "bob");
    assert_eq!(row["actor_name"], "Bob");
    assert_eq!(row["actor_roles"], serde_json::json!(["reporter"]));
    assert_eq!(row["type"], "MilestoneStatusChanged");
    assert_eq!(
        row["changes"],
        serde_json::json!([{"field": "status", "from": "achieved", "to": "in_progress"}])
    );
    assert_eq!(row["reason"], "because regressed");
    assert_eq!(
        row["evidence"],
        serde_json::json!(["https://example.org/e2"])
    );
    assert_eq!(row["season"], 6);
    // The row's hash is the event's hash in the export.
    let export = String::from_utf8(env.export()).unwrap();
    let line: Value = serde_json::from_str(export.lines().nth(10).unwrap()).unwrap();
    assert_eq!(row["hash"], line["hash"]);

    // The human table shows the same row.
    let table = env.ok(&["history", "M1", "--actor", "bob"]);
    assert!(table.contains("M1: achieved → in_progress"), "{table}");
    assert!(table.contains("because regressed"), "{table}");

    let err = env.fails(1, &["history", "--type", "NoSuchType"]);
    assert!(err.contains("NoSuchType"), "{err}");
}

fn as_of_points_resolve(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let at = |spec: &str| env.json(&["status", "--as-of", spec]);
    let m1 = |s: &Value| {
        let m = s["milestones"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == "M1");
        m.unwrap()["status"].as_str().unwrap().to_string()
    };

    assert_eq!(at("seq:9")["as_of"]["seq"], 9);
    assert_eq!(m1(&at("seq:9")), "achieved");
    assert_eq!(m1(&at("seq:11")), "in_progress");
    assert_eq!(at("seq:11")["milestones"][1]["regressed"], true);
    // season:N ends with that season's SeasonReEvaluated (seq 14), not the head.
    assert_eq!(at("season:6")["as_of"]["seq"], 14);
    assert_eq!(at("season:6")["season"]["state"], "closed");
    // time: the last event recorded at or before it. `apply` records seq 8..=15 in
    // one transaction, at one time; rita was added (seq 7) by a command before it.
    let history = env.json(&["history"]);
    let t7 = history[6]["recorded_at"].as_str().unwrap();
    assert!(t7 < history[7]["recorded_at"].as_str().unwrap());
    assert_eq!(at(&format!("time:{t7}"))["as_of"]["seq"], 7);
    let t10 = history[9]["recorded_at"].as_str().unwrap();
    assert_eq!(at(&format!("time:{t10}"))["as_of"]["seq"], 15);
    // The head through the read model equals the head as an as-of point.
    assert_eq!(env.json(&["status"]), at("seq:15"));

    for (spec, says) in [
        ("season:7", "season 7 was never opened"),
        ("seq:16", "head is seq 15"),
        ("time:2000-01-01T00:00:00Z", "nothing was recorded"),
        ("week:3", "expected seq:N"),
    ] {
        let err = env.fails(1, &["status", "--as-of", spec]);
        assert!(err.contains(says), "{spec}: {err}");
    }
}

fn season_review_reports_what_changed(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let r = env.json(&["review", "6", "--format", "json"]);
    assert_eq!(
        (r["season"].as_i64(), r["state"].as_str()),
        (Some(6), Some("closed"))
    );
    assert_eq!(
        (r["start"]["seq"].as_u64(), r["end"]["seq"].as_u64()),
        (Some(8), Some(14))
    );
    assert_eq!(ids(&r["achieved"], "id"), ["M1", "E1"]);
    assert_eq!(ids(&r["regressions"], "id"), ["M1"]);
    assert_eq!(r["regressions"][0]["reason"], "because regressed");
    assert_eq!(ids(&r["phase_transitions"], "layer"), ["econ"]);
    assert_eq!(seqs(&r["status_changes"]), [9, 10, 11, 12]);
    // Focus M1 and M2: neither achieved at the end, both still open.
    assert_eq!(ids(&r["focus_delivery"], "id"), ["M1", "M2"]);
    assert_eq!(ids(&r["still_open"], "id"), ["M1", "M2"]);
    assert_eq!(r["summary"], "M1 regressed");
    let bob = r["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "bob")
        .unwrap();
    assert_eq!(bob["events"], 4);
    assert_eq!(bob["by_type"]["MilestoneStatusChanged"], 4);

    let md = env.ok(&["review", "6"]);
    assert!(md.starts_with("# Season 6 review"), "{md}");
    for needle in [
        "## Regressions",
        "because regressed",
        "https://example.org/e2",
        "M1 regressed",
    ] {
        assert!(md.contains(needle), "markdown lacks {needle:?}:\n{md}");
    }
    let html_path = env.path("review.html");
    env.ok(&[
        "review",
        "6",
        "--format",
        "html",
        "--out",
        html_path.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<html lang=\"en\">") && html.contains("because regressed"));
    assert!(!html.contains("<script"), "a review page runs no script");

    let err = env.fails(1, &["review", "7"]);
    assert!(err.contains("season 7 was never opened"), "{err}");
}

/// Season 7, open (it runs to the head): after [`Env::history`], seq 16–21.
const SEASON_7: &str = r#"{"as":"alice","type":"SeasonOpened","payload":{"season":7,"starts_on":"2025-01-01","intent":"Ship M2","focus":["M2","M1"]}}
{"as":"bob","type":"MilestoneStatusChanged","payload":{"id":"M1","from":"in_progress","to":"achieved","reason":"re-elected","evidence":["https://example.org/e4"]}}
{"as":"bob","type":"MilestoneStatusChanged","payload":{"id":"M2","from":"in_progress","to":"achieved","reason":"shipped | *done*","evidence":["https://example.org/e5"]}}
{"as":"bob","type":"MilestoneStatusChanged","payload":{"id":"M2","from":"achieved","to":"in_progress","reason":"<b>reverted</b>","evidence":["https://example.org/e6"]}}
{"as":"bob","type":"MilestoneStatusChanged","payload":{"id":"M2","from":"in_progress","to":"achieved","reason":"shipped again","evidence":["https://example.org/e7"]}}
"#;

/// The review written a page at a time (`site`'s way, pages of 1 to 4 events and rows,
/// the three formats at once) is, byte for byte, the review computed in memory from all
/// of the Season's events and rows and rendered whole, and what `review N` prints.
fn season_review_streams_a_page_at_a_time(kind: Kind) {
    use waymark::{AsOf, Db, Waymark};
    use waymark_projections::ReviewFormat;
    let env = Env::new(kind);
    env.history();
    let f = env.path("season7.jsonl");
    std::fs::write(&f, SEASON_7).unwrap();
    env.ok(&["apply", f.to_str().unwrap()]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let w = Waymark::new(
            Db::connect(&env.url).await.unwrap(),
            waymark::system_clock(),
        );
        let events = w.events("test").await.unwrap();
        let seasons = w.seasons("test").await.unwrap();
        assert_eq!(seasons, [(6, 8, Some(14)), (7, 16, None)]);
        for (season, opened, closed) in seasons {
            let end = closed.unwrap_or(events.len() as u64);
            let start_status = w.status("test", Some(&AsOf::Seq(opened))).await.unwrap();
            let end_status = w.status("test", Some(&AsOf::Seq(end))).await.unwrap();
            let rows = w.history_range("test", opened, end).await.unwrap();
            let span = &events[opened as usize - 1..end as usize];
            let whole =
                waymark_projections::review(season, &start_status, &end_status, span, &rows)
                    .unwrap();
            assert!(whole.status_changes.len() >= 4, "several pages of changes");
            let expected = [
                (ReviewFormat::Markdown, "md", whole.to_markdown()),
                (ReviewFormat::Html, "html", whole.to_html()),
                (
                    ReviewFormat::Json,
                    "json",
                    serde_json::to_string_pretty(&whole).unwrap() + "\n",
                ),
            ];
            for page in [1, 2, 3, 4, 1000] {
                let (mut md, mut html, mut json) = (Vec::new(), Vec::new(), Vec::new());
                w.write_review_paged(
                    "test",
                    season,
                    page,
                    &mut [
                        (ReviewFormat::Markdown, &mut |b: &[u8]| {
                            md.extend_from_slice(b);
                            Ok(())
                        }),
                        (ReviewFormat::Html, &mut |b: &[u8]| {
                            html.extend_from_slice(b);
                            Ok(())
                        }),
                        (ReviewFormat::Json, &mut |b: &[u8]| {
                            json.extend_from_slice(b);
                            Ok(())
                        }),
                    ],
                )
                .await
                .unwrap();
                for ((format, _, want), got) in expected.iter().zip([md, html, json]) {
                    assert_eq!(
                        text(&got),
                        *want,
                        "season {season}, pages of {page}, {format:?}"
                    );
                }
            }
            for (format, flag, want) in &expected {
                assert_eq!(
                    &w.review("test", season, *format).await.unwrap(),
                    want.as_bytes()
                );
                let printed = env.ok(&["review", &season.to_string(), "--format", flag]);
                assert_eq!(&printed, want, "`review {season} --format {flag}`");
            }
        }
    });
}

fn diff_lists_only_what_changed(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let d = env.json(&["diff", "seq:8", "season:6"]);
    assert_eq!(
        (d["from"]["seq"].as_u64(), d["to"]["seq"].as_u64()),
        (Some(8), Some(14))
    );
    // M1 went out and back (not_started → in_progress, regressed), M2 started, E1
    // achieved; M3 did not change in that span and is left out.
    assert_eq!(ids(&d["changed"], "id"), ["E1", "M1", "M2"]);
    let m1 = &d["changed"][1];
    assert_eq!(
        m1["status"],
        serde_json::json!({"from": "not_started", "to": "in_progress"})
    );
    assert_eq!(
        m1["regressed"],
        serde_json::json!({"from": false, "to": true})
    );
    let econ = d["layers"].as_array().unwrap();
    assert_eq!(ids(&d["layers"], "id"), ["econ"], "{econ:?}");
    assert_eq!(
        d["layers"][0]["phase"],
        serde_json::json!({"from": "A", "to": "B"})
    );

    let text = env.ok(&["diff", "season:6", "seq:15"]);
    assert!(text.contains("milestone M3: retired no → yes"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("milestone")).count(),
        1,
        "{text}"
    );
    let same = env.ok(&["diff", "seq:12", "seq:12"]);
    assert!(same.contains("no changes"), "{same}");
}

fn graph_renders_three_formats(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let dot = env.ok(&["graph"]);
    assert!(dot.contains("digraph \"waymark\" {"), "{dot}");
    assert!(dot.contains("\"M1\" -> \"M2\""), "dependency edge:\n{dot}");
    let e1 = dot
        .lines()
        .find(|l| l.trim_start().starts_with("\"E1\" ["))
        .unwrap();
    assert!(e1.contains("#b7e4b0"), "achieved E1 is green: {e1}");
    // M1 is in progress and M2 depends on it: a dependency being worked on, in bold.
    let m1 = dot
        .lines()
        .find(|l| l.trim_start().starts_with("\"M1\" ["))
        .unwrap();
    assert!(m1.contains("penwidth=3") && m1.contains("Bold"), "{m1}");
    let mermaid = env.ok(&["graph", "--format", "mermaid"]);
    assert!(
        mermaid.contains("flowchart") && mermaid.contains("classDef achieved"),
        "{mermaid}"
    );
    let svg = env.ok(&["graph", "--format", "svg", "--as-of", "seq:9"]);
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.contains(">M1<") && svg.contains("seq 9"), "{svg}");
}

/// `graph --decisions` and `GET graph?decisions=true`: the decision diagram of the bundled
/// optimism framework (its bodies and modules, recorded by `init`), the same bytes from
/// the CLI and the API in each format, and a note before any module is recorded.
fn decision_diagram_renders_three_formats(kind: Kind) {
    let env = Env::new(kind);
    env.ok(&[
        "--ledger",
        "test",
        "init",
        "--framework",
        "optimism",
        "--founder",
        "alice",
        "--origin",
        "example.org/test",
    ]);
    let dot = env.ok(&["graph", "--decisions"]);
    assert!(
        dot.starts_with("// Waymark decision diagram of ledger test, seq "),
        "{dot}"
    );
    for edge in [
        "\"body:foundation\" -> \"decision:metagovernance\" [label=\"decides\"",
        "\"body:security-council\" -> \"decision:emergency-security\" [label=\"decides\"",
        "\"body:token-house\" -> \"decision:token-allocations\" [label=\"vetoes (20%)\"",
        "\"body:anyone\" -> \"decision:protocol-upgrades\" [label=\"proposes\"",
        "\"body:security-council\" -> \"decision:protocol-upgrades\" [label=\"executes\"",
    ] {
        assert!(dot.contains(edge), "no {edge} in\n{dot}");
    }
    let status = env.json(&["status"]);
    let modules = status["decisions"].as_array().unwrap().len();
    assert!(modules >= 12, "{modules}");
    let svg = env.ok(&["graph", "--decisions", "--format", "svg"]);
    assert_eq!(svg.matches("<g class=\"decision\" ").count(), modules);
    let mermaid = env.ok(&["graph", "--decisions", "--format", "mermaid"]);
    assert!(mermaid.contains("flowchart LR") && mermaid.contains("classDef foundationDecides"));
    let first = env.ok(&["graph", "--decisions", "--as-of", "seq:1"]);
    assert!(
        first.contains("No decision module is recorded at seq 1 (no body either)"),
        "{first}"
    );
    assert!(env.ok(&["graph"]).contains("digraph \"waymark\" {"));

    let server = common::served::serve(&env);
    let api = format!("{}/api/ledgers/test", server.base);
    for (query, cli, ctype) in [
        (
            "decisions=true",
            &["graph", "--decisions", "--format", "svg"][..],
            "image/svg+xml",
        ),
        (
            "decisions=true&format=dot&as_of=seq:1",
            &[
                "graph",
                "--decisions",
                "--format",
                "dot",
                "--as-of",
                "seq:1",
            ][..],
            "text/vnd.graphviz",
        ),
        (
            "format=mermaid&decisions=true",
            &["graph", "--decisions", "--format", "mermaid"][..],
            "text/plain",
        ),
        (
            "format=dot&decisions=false",
            &["graph"][..],
            "text/vnd.graphviz",
        ),
    ] {
        let r = common::served::get(&format!("{api}/graph?{query}"));
        assert!(
            r.content_type.starts_with(ctype),
            "{query}: {}",
            r.content_type
        );
        assert_eq!(r.text(), env.ok(cli), "{query}");
    }
    let doc = common::served::get(&format!("{}/openapi.json", server.base)).json();
    let params = doc["paths"]["/api/ledgers/{id}/graph"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(
        params.iter().any(|p| p["name"] == "decisions"),
        "{params:?}"
    );
}

fn rebuild_finds_and_repairs_tampered_read_models(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let clean = env.json(&["rebuild"]);
    assert_eq!(
        (clean["matched"].as_bool(), clean["events"].as_u64()),
        (Some(true), Some(15))
    );

    // Someone with database access edits the stored audit trail: `history` reads the
    // read model, so it shows the edit until `rebuild` compares it with the events.
    env.sql(&["UPDATE waymark_history SET row = replace(row, 'because regressed', 'because fixed') WHERE seq = 11"]);
    assert_eq!(env.json(&["history", "M1"])[3]["reason"], "because fixed");
    let found = env.json(&["rebuild"]);
    assert_eq!(found["matched"], false);
    assert_eq!(
        found["differences"],
        serde_json::json!(["audit row seq 11: differs from the event"])
    );
    assert_eq!(
        env.json(&["history", "M1"])[3]["reason"],
        "because regressed"
    );
    assert_eq!(env.json(&["rebuild"])["matched"], true);

    let human = env.ok(&["rebuild"]);
    assert!(
        human.contains("from 15 events") && human.contains("matched"),
        "{human}"
    );
}

fn read_models_catch_up_when_an_update_was_missed(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let status = env.json(&["status"]);
    let history = env.json(&["history"]);
    // As if the process died between the commit and the read-model update.
    env.sql(&[
        "DELETE FROM waymark_views",
        "DELETE FROM waymark_history WHERE seq > 4",
        "DELETE FROM waymark_status_checkpoints",
    ]);
    assert_eq!(env.json(&["status"]), status);
    assert_eq!(env.json(&["history"]), history);
    // Reads open the store read-only (issue 12): they caught up in memory and wrote
    // nothing, so the gap is still there for `rebuild` to find and fill.
    let found = env.json(&["rebuild"]);
    assert_eq!(found["matched"], false, "{found}");
    assert!(
        found["differences"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("audit row seq 5: missing")),
        "{found}"
    );
    assert_eq!(env.json(&["status"]), status);
    assert_eq!(env.json(&["rebuild"])["matched"], true);
}

on_both_backends!(
    history_filters_combine,
    as_of_points_resolve,
    season_review_reports_what_changed,
    season_review_streams_a_page_at_a_time,
    diff_lists_only_what_changed,
    graph_renders_three_formats,
    decision_diagram_renders_three_formats,
    rebuild_finds_and_repairs_tampered_read_models,
    read_models_catch_up_when_an_update_was_missed,
);
