//! The scenario suite, run on SQLite files and on PostgreSQL alike: writing through the
//! CLI, rejections that leave the ledger unchanged, `apply` atomicity, status and
//! history content, verify, export checked by an independent implementation.

#[macro_use]
mod common;
use common::*;
use serde_json::Value;

fn scenario_writes_read_back_as_status_and_history(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let status = env.json(&["status"]);
    assert_eq!(status["ledger"], "test");
    assert_eq!(status["as_of"]["seq"], 15);
    assert_eq!(status["overall_phase"], "A");
    let layers: Vec<(&str, &str)> = status["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["id"].as_str().unwrap(), l["phase"].as_str().unwrap()))
        .collect();
    assert_eq!(layers, [("tech", "A"), ("econ", "B")]);
    let m = |id: &str| {
        status["milestones"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (m("M1")["status"].as_str(), m("M1")["regressed"].as_bool()),
        (Some("in_progress"), Some(true))
    );
    assert_eq!(m("M2")["blocked_by"], serde_json::json!(["M1"]));
    assert_eq!(m("M3")["retired"], true);
    assert_eq!(m("E1")["last_change"]["actor"], "bob");
    assert_eq!(status["season"]["state"], "closed");
    assert_eq!(status["season"]["ends_on"], "2024-12-11");
    // tech/A has M1, M2: none achieved now; M3 retired leaves tech/B empty.
    assert_eq!(
        status["layers"][0]["progress"],
        serde_json::json!([{"phase":"A","achieved":0,"total":2},{"phase":"B","achieved":0,"total":0}])
    );

    // As of seq 9 (M1 achieved, season open with focus M1, M2).
    let then = env.json(&["status", "--as-of", "seq:9"]);
    assert_eq!(then["as_of"]["seq"], 9);
    let m1 = then["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "M1")
        .unwrap();
    assert_eq!(
        (
            m1["status"].as_str(),
            m1["focus"].as_bool(),
            m1["regressed"].as_bool()
        ),
        (Some("achieved"), Some(true), Some(false))
    );
    let s6 = env.json(&["status", "--as-of", "season:6"]);
    assert_eq!(s6["as_of"]["seq"], 14);

    // Who changed M1, when, why, with what evidence.
    let rows = env.json(&["history", "M1"]);
    let changes: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes[0], "defined M1 in tech / A");
    assert!(
        changes.contains(&"M1: not_started → achieved")
            && changes.contains(&"M1: achieved → in_progress"),
        "{changes:?}"
    );
    let achieved = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["change"] == "M1: not_started → achieved")
        .unwrap();
    assert_eq!(
        (achieved["actor"].as_str(), achieved["reason"].as_str()),
        (Some("bob"), Some("because elected"))
    );
    assert_eq!(
        achieved["evidence"],
        serde_json::json!(["https://example.org/e1"])
    );
    assert_eq!(achieved["actor_roles"], serde_json::json!(["reporter"]));
    let by_rita = env.json(&["history", "--actor", "rita", "--type", "PhaseTransitioned"]);
    assert_eq!(by_rita.as_array().unwrap().len(), 1);
    let in_s6 = env.json(&["history", "--season", "6"]);
    let seqs: Vec<u64> = in_s6
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (8..=14).collect::<Vec<_>>());

    let (code, report) = env.verify();
    assert_eq!(
        (code, report["ok"].as_bool(), report["checked"].as_u64()),
        (0, Some(true), Some(15)),
        "{report}"
    );
    let human = env.ok(&["status"]);
    assert!(
        human.contains("M1") && human.contains("in_progress") && human.contains("regressed"),
        "{human}"
    );
}

fn rejected_statements_leave_the_export_byte_identical(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let before = env.export();
    let bad_apply = env.path("bad.jsonl");
    std::fs::write(&bad_apply, "{\"as\":\"bob\",\"type\":\"MilestoneStatusChanged\",\"payload\":{\"id\":\"M2\",\"from\":\"in_progress\",\"to\":\"not_started\",\"reason\":\"r\",\"evidence\":[]}}\n\n{\"as\":\"bob\",\"type\":\"MilestoneStatusChanged\",\"payload\":{\"id\":\"M2\",\"from\":\"in_progress\",\"to\":\"achieved\",\"reason\":\"r\",\"evidence\":[\"https://x.org\"]}}\n").unwrap();
    let float_apply = env.path("float.jsonl");
    std::fs::write(&float_apply, "{\"as\":\"alice\",\"type\":\"SeasonOpened\",\"payload\":{\"season\":7.0,\"starts_on\":\"2025-01-16\",\"intent\":\"i\",\"focus\":[]}}\n").unwrap();
    let dup_apply = env.path("dup.jsonl");
    std::fs::write(&dup_apply, "{\"as\":\"alice\",\"as\":\"bob\",\"type\":\"SeasonOpened\",\"payload\":{\"season\":7,\"starts_on\":\"2025-01-16\",\"intent\":\"i\",\"focus\":[]}}\n").unwrap();
    // Achieving M2 while its dependency M1 is not achieved.
    let unmet = [
        "--as",
        "bob",
        "milestone",
        "set",
        "M2",
        "achieved",
        "--reason",
        "r",
        "--evidence",
        "https://x.org",
    ];
    let cases: Vec<(Vec<&str>, &[&str])> = vec![
        (
            unmet.to_vec(),
            &["R3-status", "payload.to", "unmet dependencies: M1"],
        ),
        (
            vec![
                "--as",
                "bob",
                "milestone",
                "set",
                "M1",
                "achieved",
                "--reason",
                "r",
            ],
            &["R3-status", "payload.evidence"],
        ),
        (
            vec![
                "--as",
                "bob",
                "milestone",
                "set",
                "M1",
                "in_progress",
                "--reason",
                "r",
            ],
            &["R3-status", "payload.to"],
        ),
        (
            vec!["--as", "bob", "phase", "advance", "tech", "--reason", "r"],
            &["R1-signer", "actor"],
        ),
        (
            vec!["phase", "advance", "tech", "--reason", "r"],
            &["R4-phase", "M1, M2"],
        ),
        (
            vec!["phase", "advance", "econ", "--reason", "r"],
            &["R4-phase", "last phase"],
        ),
        (
            vec![
                "milestone",
                "define",
                "M1",
                "--title",
                "t",
                "--layer",
                "tech",
                "--phase",
                "A",
            ],
            &["R2-milestone", "payload.id"],
        ),
        (
            vec![
                "milestone",
                "define",
                "M9",
                "--title",
                "t",
                "--layer",
                "tech",
                "--phase",
                "Z",
            ],
            &["R2-milestone", "payload.phase"],
        ),
        (
            vec![
                "milestone",
                "define",
                "M9",
                "--title",
                "t",
                "--layer",
                "tech",
                "--phase",
                "A",
                "--depends-on",
                "M3",
            ],
            &["R2-milestone", "payload.depends_on[0]"],
        ),
        (
            vec![
                "milestone",
                "revise",
                "M1",
                "--depends-on",
                "M2",
                "--reason",
                "r",
            ],
            &["R2-milestone", "cycle"],
        ),
        (
            vec!["milestone", "set", "M3", "in_progress", "--reason", "r"],
            &["R6-retired", "payload.id"],
        ),
        (
            vec![
                "season",
                "open",
                "8",
                "--starts-on",
                "2025-01-16",
                "--intent",
                "i",
            ],
            &["R5-season", "payload.season"],
        ),
        (
            vec![
                "season",
                "close",
                "6",
                "--ends-on",
                "2024-12-12",
                "--summary",
                "s",
            ],
            &["R5-season", "no season is open"],
        ),
        (
            vec![
                "season",
                "open",
                "7",
                "--starts-on",
                "2025-02-30",
                "--intent",
                "i",
            ],
            &["R0-format", "payload.starts_on"],
        ),
        (
            vec![
                "--as",
                "mallory",
                "milestone",
                "set",
                "M1",
                "achieved",
                "--reason",
                "r",
            ],
            &["no key file"],
        ),
        (
            vec!["actor", "add", "bob", "--name", "B", "--role", "reporter"],
            &["R1-signer", "already registered"],
        ),
        (
            vec!["actor", "add", "carol", "--name", "C", "--role", "admin"],
            &["R1-signer", "payload.roles[0]"],
        ),
        (
            vec!["apply", bad_apply.to_str().unwrap()],
            &["line 3", "R3-status", "payload.from"],
        ),
        (
            vec!["apply", float_apply.to_str().unwrap()],
            &["line 1", "floating-point"],
        ),
        (
            vec!["apply", dup_apply.to_str().unwrap()],
            &["line 1", "duplicate key \"as\""],
        ),
    ];
    for (args, needles) in cases {
        let err = env.fails(1, &args);
        for n in needles {
            assert!(
                err.contains(n),
                "waymark {args:?}: error {err:?} should mention {n:?}"
            );
        }
        assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
        assert_eq!(env.export(), before, "waymark {args:?} changed the ledger");
    }
    // --json errors carry the rule and field.
    let out = env.run(&[&["--json"][..], &unmet[..]].concat());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["error"]["rule"].as_str(), v["error"]["field"].as_str()),
        (Some("R3-status"), Some("payload.to"))
    );
    assert_eq!(env.export(), before);
}

fn apply_records_every_line_in_one_transaction(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let f = env.path("h.jsonl");
    std::fs::write(&f, HISTORY).unwrap();
    let out = env.json(&["apply", f.to_str().unwrap()]);
    let seqs: Vec<u64> = out["recorded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (8..=15).collect::<Vec<_>>());
    // The same file again: line 1 reopens season 6 (rule 5) — nothing of it is recorded.
    let before = env.export();
    let err = env.fails(1, &["apply", f.to_str().unwrap()]);
    assert!(err.contains("line 1") && err.contains("R5-season"), "{err}");
    assert_eq!(env.export(), before);
    // Lines signed with an issued_at of their own keep it.
    let exported = String::from_utf8(before).unwrap();
    assert_eq!(exported.lines().count(), 15);
}

fn the_export_verifies_with_the_independent_python_verifier(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let log = env.path("export.jsonl");
    env.ok(&["export", "--out", log.to_str().unwrap()]);
    let status = env.path("status.json");
    std::fs::write(&status, env.ok(&["--json", "status"])).unwrap();
    let out = std::process::Command::new("python3")
        .arg(python_verifier())
        .arg(&log)
        .args(["--strict-payload-keys", "--status-at", "15", "--status"])
        .arg(&status)
        .output()
        .expect("python3 (pip install -r tests/independent/requirements.txt)");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("independent verifier: {}", text(&out.stderr)));
    assert_eq!(
        (report["ok"].as_bool(), report["checked"].as_u64()),
        (Some(true), Some(15)),
        "{report}"
    );
    // And a prefix export ends where asked.
    let prefix = env.ok(&["export", "--upto", "3"]);
    assert_eq!(prefix.lines().count(), 3);
    assert!(std::fs::read_to_string(&log).unwrap().starts_with(&prefix));
}

fn concurrent_writers_never_fork_the_chain(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let url = env.url.clone();
            let keys = env.keys();
            std::thread::spawn(move || {
                for i in 0..8 {
                    let out = std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
                        .args(["--db", &url, "--keys"])
                        .arg(&keys)
                        .args([
                            "milestone",
                            "define",
                            &format!("W{w}-{i}"),
                            "--title",
                            "t",
                            "--layer",
                            "tech",
                            "--phase",
                            "B",
                        ])
                        .output()
                        .unwrap();
                    assert_eq!(
                        out.status.code(),
                        Some(0),
                        "writer {w}: {}",
                        text(&out.stderr)
                    );
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let (code, report) = env.verify();
    assert_eq!(
        (code, report["checked"].as_u64()),
        (0, Some(7 + 32)),
        "{report}"
    );
    let status = env.json(&["status"]);
    assert_eq!(status["milestones"].as_array().unwrap().len(), 4 + 32);
}

#[test]
fn the_demo_builds_and_verifies_on_sqlite_and_postgres() {
    for kind in [Kind::Sqlite, Kind::Postgres] {
        let env = Env::new(kind);
        let out = env.ok(&["demo"]);
        assert!(out.contains("verify: OK"), "{out}");
        let status = env.json(&["status"]);
        let t_a1: Vec<String> = env
            .json(&["history", "T-A1"])
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["change"].as_str().unwrap().to_string())
            .collect();
        assert!(
            t_a1.iter().any(|c| c == "T-A1: achieved → in_progress"),
            "the Aug 2024 Stage 1 regression: {t_a1:?}"
        );
        assert_eq!(status["layers"].as_array().unwrap().len(), 3);
        let revised = env.json(&["history", "--season", "8", "--type", "MilestoneRevised"]);
        assert!(
            !revised.as_array().unwrap().is_empty(),
            "the Season 8 revision of the model"
        );
        // Every evidence link is a source URL.
        for row in env.json(&["history"]).as_array().unwrap() {
            for e in row["evidence"].as_array().unwrap() {
                assert!(e.as_str().unwrap().starts_with("https://"), "{e}");
            }
        }
    }
}

#[test]
fn usage_storage_and_missing_ledger_errors_have_their_exit_codes() {
    let env = Env::new(Kind::Sqlite);
    env.fails(2, &["frobnicate"]);
    // No database yet: a storage error naming the path (issue 15), and nothing created.
    assert!(env.fails(4, &["status"]).contains("no database at"));
    assert!(!env.path("ledger.db").exists());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["--db", "postgres://postgres@127.0.0.1:1/none", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot connect"));
    env.fails(
        1,
        &["--ledger", "x", "init", "--framework", "no-such-framework"],
    );
}

/// Issue 12: `--db sqlite://` (no path) opened a private temporary database per
/// connection and failed with "no such table: main.waymark_history".
#[test]
fn a_sqlite_url_with_no_path_is_a_usage_error_naming_the_url() {
    let env = Env::new(Kind::Sqlite);
    for args in [
        &["status"][..],
        &["--ledger", "x", "init", "--framework", "optimism"][..],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
            .args(["--db", "sqlite://", "--keys"])
            .arg(env.keys())
            .args(args)
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stderr),
            "waymark: database URL \"sqlite://\" names no file: use sqlite://PATH (for example sqlite://waymark.db)\n"
        );
    }
}

/// Issue 12: `init` on `sqlite::memory:` exited 0 and kept nothing.
#[test]
fn init_on_an_in_memory_store_is_refused() {
    let env = Env::new(Kind::Sqlite);
    for url in ["sqlite::memory:", "sqlite://ledger.db?mode=memory"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
            .args(["--db", url, "--keys"])
            .arg(env.keys())
            .args(["--ledger", "x", "init", "--framework", "optimism"])
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stderr),
            format!("waymark: database URL \"{url}\" is an in-memory database: nothing would be kept after this command exits; use sqlite://PATH\n")
        );
        assert!(!env.keys().exists(), "refused before any key was made");
    }
}

/// Issue 12: a UTF-8 byte order mark before the first line was reported as
/// "expected value at line 1 column 1"; it is skipped.
fn a_byte_order_mark_before_the_first_apply_line_is_skipped(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let file = env.path("bom.jsonl");
    std::fs::write(
        &file,
        b"\xEF\xBB\xBF{\"as\":\"alice\",\"type\":\"MilestoneRetired\",\"payload\":{\"id\":\"E1\",\"reason\":\"dropped\"}}\r\n\
          {\"as\":\"alice\",\"type\":\"MilestoneRetired\",\"payload\":{\"id\":\"M3\",\"reason\":\"dropped\"}}\n",
    )
    .unwrap();
    let out = env.json(&["apply", file.to_str().unwrap()]);
    let seqs: Vec<u64> = out["recorded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![8, 9]);
    // Only at the start of the file: elsewhere it is not JSON.
    std::fs::write(
        &file,
        b"{\"as\":\"alice\",\"type\":\"MilestoneRetired\",\"payload\":{\"id\":\"M2\",\"reason\":\"dropped\"}}\n\
          \xEF\xBB\xBF{\"as\":\"alice\",\"type\":\"MilestoneRetired\",\"payload\":{\"id\":\"M1\",\"reason\":\"dropped\"}}\n",
    )
    .unwrap();
    let err = env.fails(1, &["apply", file.to_str().unwrap()]);
    assert!(err.starts_with("waymark: line 2: malformed JSON"), "{err}");
}

on_both_backends!(
    a_byte_order_mark_before_the_first_apply_line_is_skipped,
    scenario_writes_read_back_as_status_and_history,
    rejected_statements_leave_the_export_byte_identical,
    apply_records_every_line_in_one_transaction,
    the_export_verifies_with_the_independent_python_verifier,
    concurrent_writers_never_fork_the_chain,
);
