//! `waymark monitor SOURCE`: a watchdog over a published log (C2SP tlog-tiles), against
//! a directory `publish` wrote and against `serve`. Each run reports only what is new;
//! a fork, a rollback and a rule violation exit 3 with the evidence saved, and leave
//! the monitor's state at the last good checkpoint.

#[macro_use]
mod common;
use common::served;
use common::*;
use serde_json::Value;
use std::path::Path;

/// `monitor SOURCE --state STATE --json ARGS…`: (exit code, report).
fn monitor(env: &Env, source: &str, state: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec![
        "--json",
        "monitor",
        source,
        "--state",
        state.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = env.run(&all);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}\n{}", text(&out.stdout), text(&out.stderr)));
    (out.status.code().unwrap(), report)
}

fn log_key(env: &Env) -> String {
    std::fs::read_to_string(env.path("pub").join("log-key.txt"))
        .unwrap()
        .trim()
        .to_string()
}

fn set(env: &Env, id: &str, to: &str, reason: &str) {
    env.ok(&[
        "--as",
        "bob",
        "milestone",
        "set",
        id,
        to,
        "--reason",
        reason,
    ]);
}

fn a_monitor_reports_only_what_is_new_and_catches_a_rollback(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let dir = env.path("pub");
    let d = dir.to_str().unwrap();
    env.ok(&["publish", d]);
    let key = log_key(&env);
    let state = env.path("monitor-state");

    // First run: everything is new; the pinned key is the log's.
    let (code, r) = monitor(&env, d, &state, &["--key", &key]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(
        (r["ok"].as_bool(), r["previous_size"].as_u64()),
        (Some(true), None)
    );
    let first = r["size"].as_u64().unwrap();
    assert_eq!(r["changes"].as_array().unwrap().len() as u64, first);

    // Nothing published since: nothing new.
    let (code, r) = monitor(&env, d, &state, &[]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["changes"].as_array().unwrap().len(), 0);
    assert!(
        r["detail"].as_str().unwrap().starts_with("no change"),
        "{r}"
    );

    // Two new events: exactly those, in the history's words.
    set(&env, "E1", "in_progress", "E1 reopened");
    set(&env, "M2", "not_started", "M2 paused");
    env.ok(&["publish", d]);
    let (code, r) = monitor(&env, d, &state, &[]);
    assert_eq!(code, 0, "{r}");
    let changes = r["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{r}");
    assert_eq!(changes[0]["seq"].as_u64(), Some(first + 1));
    assert_eq!(changes[0]["milestones"][0], "E1");
    assert_eq!(changes[0]["change"], "E1: achieved → in_progress");
    assert_eq!(changes[0]["reason"], "E1 reopened");
    assert_eq!(changes[1]["change"], "M2: in_progress → not_started");
    assert_eq!(changes[1]["seq"].as_u64(), Some(first + 2));
    let accepted = r["size"].as_u64().unwrap();

    // Head truncation: the newest rows and the snapshot row deleted, then published
    // again (to a fresh directory: the old one refuses a shorter log).
    env.sql(&[
        &format!("DELETE FROM events WHERE sequence > {first}"),
        "DELETE FROM snapshots",
    ]);
    let (code, _) = env.verify();
    assert_eq!(code, 0, "the truncated chain verifies on its own");
    let again = env.path("pub-again");
    env.ok(&["publish", again.to_str().unwrap()]);
    let (code, r) = monitor(&env, again.to_str().unwrap(), &state, &[]);
    assert_eq!(code, 3, "{r}");
    assert_eq!(r["problem"], "truncated", "{r}");
    assert!(r["detail"].as_str().unwrap().contains("rollback"), "{r}");
    let evidence = r["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 2, "both checkpoints are saved: {r}");
    for e in evidence {
        let note = std::fs::read_to_string(e.as_str().unwrap()).unwrap();
        assert!(note.starts_with("example.org/test\n"), "{note}");
    }
    // The state stays at the last good checkpoint: the good directory still passes.
    let (code, r) = monitor(&env, d, &state, &[]);
    assert_eq!((code, r["size"].as_u64()), (0, Some(accepted)), "{r}");
}

fn a_monitor_watches_serve_and_requires_its_witnesses(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    env.ok(&["publish", env.path("pub").to_str().unwrap()]);
    let key = log_key(&env);
    let server = served::serve(&env);
    let source = format!("{}/api/ledgers/test", server.base);
    let state = env.path("monitor-state");
    let (code, r) = monitor(&env, &source, &state, &["--key", &key]);
    assert_eq!(code, 0, "{r}");
    let size = r["size"].as_u64().unwrap();
    set(&env, "E1", "in_progress", "served change");
    let (code, r) = monitor(&env, &source, &state, &[]);
    assert_eq!(code, 0, "{r}");
    let changes = r["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{r}");
    assert_eq!(changes[0]["seq"].as_u64(), Some(size + 1));
    assert_eq!(changes[0]["reason"], "served change");

    // A quorum of one witness that never cosigned: refused, with the witness named.
    let witness = waymark_events::cosigner_vkey(
        "witness.example/w1",
        &ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key(),
    );
    let (code, r) = monitor(&env, &source, &state, &["--witness", &witness]);
    assert_eq!(code, 3, "{r}");
    assert_eq!(r["problem"], "witness_quorum", "{r}");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("witness.example/w1: no cosignature"),
        "{r}"
    );
}

/// A log that serves a validly signed checkpoint over an entry that breaks a rule (a
/// genuine statement replayed): the monitor names the seq and the rule.
fn a_monitor_rechecks_the_rules_of_new_entries(kind: Kind) {
    use waymark_events::{leaf_hash, root, sign_checkpoint, Checkpoint, Event, Hash};
    let env = Env::new(kind);
    env.history();
    let dir = env.path("pub");
    let d = dir.to_str().unwrap();
    env.ok(&["publish", d]);
    let state = env.path("monitor-state");
    let (code, r) = monitor(&env, d, &state, &["--key", &log_key(&env)]);
    assert_eq!(code, 0, "{r}");

    // Forge seq n+1: the statement and signature of seq n, chained and hashed
    // correctly, and a checkpoint over it signed with the real log key.
    let lines: Vec<Event> = text(&std::fs::read(dir.join("export.jsonl")).unwrap())
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("hash");
            Event::from_value(&v).unwrap()
        })
        .collect();
    let n = lines.len() as u64;
    let last = lines.last().unwrap();
    let forged = Event {
        seq: n + 1,
        prev: last.hash(),
        ..last.clone()
    };
    let mut leaves: Vec<Vec<u8>> = lines.iter().map(Event::leaf_bytes).collect();
    leaves.push(forged.leaf_bytes());
    let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    assert!(n + 1 < 256, "one partial bundle");
    let mut bundle = Vec::new();
    for l in &leaves {
        bundle.extend_from_slice(&(l.len() as u16).to_be_bytes());
        bundle.extend_from_slice(l);
    }
    let entries = dir.join("tile/entries");
    std::fs::create_dir_all(entries.join("000.p")).unwrap();
    std::fs::write(entries.join(format!("000.p/{}", n + 1)), bundle).unwrap();
    let seed = std::fs::read_to_string(env.keys().join("_log.test.key")).unwrap();
    let seed: [u8; 32] =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, seed.trim())
            .unwrap()
            .try_into()
            .unwrap();
    let cp = Checkpoint::new("example.org/test", n + 1, root(&hashes)).unwrap();
    let note = sign_checkpoint(&cp, &ed25519_dalek::SigningKey::from_bytes(&seed));
    std::fs::write(dir.join("checkpoint"), note).unwrap();

    let (code, r) = monitor(&env, d, &state, &[]);
    assert_eq!(code, 3, "{r}");
    assert_eq!(r["problem"], "rule_violation", "{r}");
    assert_eq!(r["first_bad_seq"].as_u64(), Some(n + 1), "{r}");
    assert!(
        r["detail"].as_str().unwrap().contains("R6"),
        "M3 retired twice: {r}"
    );
    assert_eq!(r["evidence"].as_array().unwrap().len(), 3, "{r}");
}

on_both_backends!(
    a_monitor_reports_only_what_is_new_and_catches_a_rollback,
    a_monitor_watches_serve_and_requires_its_witnesses,
    a_monitor_rechecks_the_rules_of_new_entries,
);

/// A split view: two ledgers with the same origin and log key (one SQLite file copied)
/// that diverge. A monitor that accepted one refuses the other as a fork.
#[test]
fn a_monitor_refuses_a_split_view() {
    let a = Env::new(Kind::Sqlite);
    a.history();
    let b_db = a.path("b.db");
    // The database with its write-ahead log (SQLite WAL mode), copied while no one writes.
    std::fs::copy(a.path("ledger.db"), &b_db).unwrap();
    for ext in ["-wal", "-shm"] {
        let from = a.path(&format!("ledger.db{ext}"));
        if from.exists() {
            std::fs::copy(from, a.path(&format!("b.db{ext}"))).unwrap();
        }
    }
    let b_url = format!("sqlite://{}", b_db.display());
    set(&a, "E1", "in_progress", "view A");
    let run_b = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
            .args(["--db", &b_url, "--keys"])
            .arg(a.keys())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    run_b(&[
        "--as",
        "bob",
        "milestone",
        "set",
        "M2",
        "not_started",
        "--reason",
        "view B",
    ]);
    let (pa, pb) = (a.path("pub-a"), a.path("pub-b"));
    a.ok(&["publish", pa.to_str().unwrap()]);
    run_b(&["publish", pb.to_str().unwrap()]);
    let state = a.path("monitor-state");
    let (code, r) = monitor(&a, pa.to_str().unwrap(), &state, &[]);
    assert_eq!(code, 0, "{r}");
    let (code, r) = monitor(&a, pb.to_str().unwrap(), &state, &[]);
    assert_eq!(code, 3, "{r}");
    assert_eq!(r["problem"], "checkpoint_mismatch", "{r}");
    assert!(r["detail"].as_str().unwrap().contains("fork"), "{r}");
}
