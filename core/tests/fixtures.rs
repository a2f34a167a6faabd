//! The golden `verify-offline` fixtures (`tests/fixtures/offline/*.case.json`, made by
//! `tests/offline.rs`) through `waymark-verify`, the auditor's binary: the same exit
//! code, `problem` and `first_bad_seq` as `waymark verify-offline` gives them.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/offline")
}

fn waymark_verify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_waymark-verify"))
        .current_dir(fixtures_dir())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn every_golden_fixture_gives_its_problem_through_waymark_verify() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".case.json"))
        else {
            continue;
        };
        let case: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut args = vec!["--json"];
        args.extend(
            case["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap()),
        );
        let out = waymark_verify(&args);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let problem = case["problem"].as_str();
        assert_eq!(
            (
                out.status.code(),
                report["problem"].as_str(),
                report["first_bad_seq"].as_u64(),
                report["ok"].as_bool()
            ),
            (
                Some(if problem.is_some() { 3 } else { 0 }),
                problem,
                case["first_bad_seq"].as_u64(),
                Some(problem.is_none())
            ),
            "{name}: waymark-verify {args:?}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        seen += 1;
    }
    assert!(seen >= 30, "{seen} fixtures");
}

#[test]
fn unusable_arguments_exit_2_and_missing_files_exit_4() {
    let out = waymark_verify(&["--log", "log.jsonl", "--key", "not a key"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = waymark_verify(&["--log", "no-such-file.jsonl"]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-file.jsonl"), "{err}");
    // No database, key store or signer options: this binary has none to offer.
    let out = waymark_verify(&["--db", "sqlite://x.db", "--log", "log.jsonl"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn the_human_report_says_what_was_checked_and_what_failed() {
    let stdout = |args: &[&str], code: i32| {
        let out = waymark_verify(args);
        assert_eq!(out.status.code(), Some(code), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let text = stdout(&["--log", "log.jsonl"], 0);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("verify: OK, 15 events checked; head seq 15 "),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "checked: 15 events verified: hashes, links, signatures and rules (log only: no \
         --snapshot, --prev-snapshot, --inclusion or --consistency given)"
    );
    let text = stdout(
        &[
            "--log",
            "log.jsonl",
            "--snapshot",
            "snapshot.json",
            "--key",
            "log-key.txt",
            "--inclusion",
            "inclusion.json",
        ],
        0,
    );
    assert!(
        text.lines().nth(1).unwrap().ends_with(
            "; snapshot at 15: checkpoint, root, head and status; inclusion of seq 7 at tree \
             size 12; the log key pinned with --key"
        ),
        "{text}"
    );
    let text = stdout(&["--log", "log.jsonl", "--snapshot", "snapshot.json"], 0);
    assert!(
        text.contains("taken from the log itself (trusted on first use)"),
        "{text}"
    );
    // A broken chain names its seq; a failing proof names the proof, not "seq 0".
    let text = stdout(&["--log", "dropped-event.jsonl"], 3);
    assert!(
        text.starts_with("verify: FAILED at seq 9: seq_gap: "),
        "{text}"
    );
    let text = stdout(
        &[
            "--log",
            "log.jsonl",
            "--inclusion",
            "inclusion-bit-flip.json",
        ],
        3,
    );
    assert!(
        text.starts_with("verify: FAILED: checkpoint_mismatch: --inclusion of seq 7 at tree size 12 does not verify"),
        "{text}"
    );
    assert!(!text.contains("seq 0"), "{text}");
}
