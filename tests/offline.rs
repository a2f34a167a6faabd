//! `verify-offline` (SPEC section 10): a genuine ledger recorded by the real binary,
//! its export and the artifacts the CLI makes (`snapshot`, `prove inclusion`,
//! `prove consistency`) verify from files only, on both backends; artifacts built
//! independently with the events library verify too; and every tampered file is
//! caught with the `problem` the independent Python verifier would give.
//!
//! The golden fixtures in `tests/fixtures/offline/` (one `<case>.case.json` per
//! mutation: `{"args", "problem", "first_bad_seq"}`, paths relative to that folder) are
//! run through the binary, `waymark --json verify-offline ARGS`, and through the
//! library. Regenerate them with
//! `cargo test --test offline -- --ignored generate_fixtures` (keys come from fixed
//! seeds; timestamps differ from run to run, so the files are committed as made).

#[macro_use]
mod common;
use common::*;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use waymark_core::{verify_offline, Error, OfflineInputs, OfflineOutcome, TOFU_WARNING};
use waymark_events::*;

// ------------------------------------------------------------------ the ledger

const ORIGIN: &str = "example.org/test";
/// Fixed key seeds: the fixtures are reproducible up to timestamps.
const SEEDS: [(&str, u8); 4] = [("alice", 11), ("bob", 12), ("rita", 13), ("_log.test", 14)];
const LOG_SEED: [u8; 32] = [14; 32];
const ALICE_SEED: [u8; 32] = [11; 32];
/// Another log key with the same name: the wrong key.
const OTHER_SEED: [u8; 32] = [99; 32];

/// An env whose key store holds keys from fixed seeds, then the 15-event history.
fn ledger(kind: Kind) -> Env {
    let env = Env::new(kind);
    fs::create_dir_all(env.keys()).unwrap();
    for (name, seed) in SEEDS {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(env.keys().join(format!("{name}.key")))
            .unwrap();
        writeln!(f, "{}", b64(&[seed; 32])).unwrap();
    }
    env.history();
    env
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn log_key() -> SigningKey {
    SigningKey::from_bytes(&LOG_SEED)
}

fn vkey(seed: [u8; 32]) -> String {
    verifier_key(ORIGIN, &SigningKey::from_bytes(&seed).verifying_key())
}

/// The export's lines (each with its newline).
fn lines(export: &[u8]) -> Vec<Vec<u8>> {
    export
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn parsed(export: &[u8]) -> Vec<(Event, Hash)> {
    lines(export)
        .iter()
        .map(|l| Event::from_export_value(&parse_strict(&l[..l.len() - 1]).unwrap()).unwrap())
        .collect()
}

/// A line's JSON edited by `f`, re-encoded canonically (the hash left as it was).
fn edit_line(line: &[u8], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = parse_strict(&line[..line.len() - 1]).unwrap();
    f(&mut v);
    let mut out = canonical_bytes(&v);
    out.push(b'\n');
    out
}

fn doc_edit(bytes: &[u8], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = parse_strict(bytes).unwrap();
    f(&mut v);
    let mut out = canonical_bytes(&v);
    out.push(b'\n');
    out
}

fn flip_hex(h: &Value) -> Value {
    let mut s = h.as_str().unwrap().to_string();
    let last = s.pop().unwrap();
    s.push(if last == '0' { '1' } else { '0' });
    Value::String(s)
}

/// A checkpoint note for `size` and `root`, signed with the genuine log key.
fn note(origin: &str, size: u64, root: Hash) -> String {
    let cp = Checkpoint::new(origin, size, root).unwrap();
    sign_note(&cp.body(), &[(ORIGIN, &log_key())]).unwrap()
}

// ------------------------------------------------------------------ running it

fn check(inputs: &OfflineInputs) -> OfflineOutcome {
    verify_offline(inputs).unwrap_or_else(|e| panic!("{inputs:?}: {e}"))
}

#[track_caller]
fn assert_ok(inputs: &OfflineInputs) -> OfflineOutcome {
    let out = check(inputs);
    assert!(out.report.ok, "{inputs:?}: {:?}", out.report);
    out
}

#[track_caller]
fn assert_problem(inputs: &OfflineInputs, problem: &str, seq: Option<u64>) {
    let r = check(inputs).report;
    assert!(!r.ok, "{inputs:?} verified");
    assert_eq!(
        (r.problem.map(|p| p.as_str()), r.first_bad_seq),
        (Some(problem), seq),
        "{inputs:?}: {}",
        r.detail
    );
}

fn log_only(log: &Path) -> OfflineInputs {
    OfflineInputs {
        log: log.to_path_buf(),
        ..Default::default()
    }
}

/// Writes `bytes` to `dir/name` and returns the path.
fn put(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    p
}

// ------------------------------------------------------------------ genuine artifacts

/// Everything the CLI makes verifies: snapshots at every size (alone, and with an
/// earlier snapshot as `--prev-snapshot`), inclusion proofs of every seq, consistency
/// proofs from every size, against the whole export and against prefixes.
fn cli_artifacts_verify_at_every_size(kind: Kind) {
    let env = ledger(kind);
    let dir = env.dir.path();
    let export = env.export();
    let n = lines(&export).len() as u64;
    assert_eq!(n, 15);
    let log = put(dir, "log.jsonl", &export);
    let key = Some(vkey(LOG_SEED));
    let snap = |s: u64| -> PathBuf {
        let bytes = env.ok(&["snapshot", "--size", &s.to_string()]);
        put(dir, &format!("snapshot-{s}.json"), bytes)
    };
    let snaps: Vec<PathBuf> = (1..=n).map(snap).collect();
    for s in 1..=n {
        let at = &snaps[s as usize - 1];
        let prefix = put(
            dir,
            &format!("log-{s}.jsonl"),
            env.run(&["export", "--upto", &s.to_string()]).stdout,
        );
        for log in [&log, &prefix] {
            assert_ok(&OfflineInputs {
                log: log.clone(),
                snapshot: Some(at.clone()),
                key: key.clone(),
                ..Default::default()
            });
            for p in [1, s.div_ceil(2), s] {
                let out = assert_ok(&OfflineInputs {
                    log: log.clone(),
                    snapshot: Some(at.clone()),
                    prev_snapshot: Some(snaps[p as usize - 1].clone()),
                    key: key.clone(),
                    ..Default::default()
                });
                assert!(out.report.detail.contains("extends"), "{:?}", out.report);
            }
        }
        // Without --snapshot, the export itself must extend the previous one.
        assert_ok(&OfflineInputs {
            log: log.clone(),
            prev_snapshot: Some(at.clone()),
            key: key.clone(),
            ..Default::default()
        });
        // A snapshot is not the log's when it is for a longer one.
        if s > 1 {
            let shorter = dir.join(format!("log-{}.jsonl", s - 1));
            assert_problem(
                &OfflineInputs {
                    log: shorter.clone(),
                    snapshot: Some(at.clone()),
                    ..Default::default()
                },
                "truncated",
                None,
            );
            assert_problem(
                &OfflineInputs {
                    log: shorter,
                    prev_snapshot: Some(at.clone()),
                    ..Default::default()
                },
                "truncated",
                None,
            );
        }
    }
    for seq in 1..=n {
        for size in [seq, n] {
            let proof = put(
                dir,
                "inclusion.json",
                env.ok(&[
                    "prove",
                    "inclusion",
                    &seq.to_string(),
                    "--size",
                    &size.to_string(),
                ]),
            );
            assert_ok(&OfflineInputs {
                inclusion: Some(proof),
                ..log_only(&log)
            });
        }
        let proof = put(
            dir,
            "consistency.json",
            env.ok(&["prove", "consistency", &seq.to_string(), &n.to_string()]),
        );
        assert_ok(&OfflineInputs {
            consistency: Some(proof.clone()),
            ..log_only(&log)
        });
        // The proof is for the whole log: a prefix cannot check its new size.
        if seq < n {
            let prefix = dir.join(format!("log-{}.jsonl", n - 1));
            assert_problem(
                &OfflineInputs {
                    consistency: Some(proof),
                    ..log_only(&prefix)
                },
                "truncated",
                None,
            );
        }
    }
}

on_both_backends!(cli_artifacts_verify_at_every_size);

/// Checkpoints, snapshots and proofs built with the events library alone (from the log
/// key's seed file, the export's hashes and `status --as-of`) verify, and are the
/// CLI's bytes.
#[test]
fn artifacts_built_with_the_events_library_verify() {
    let env = ledger(Kind::Sqlite);
    let dir = env.dir.path();
    let export = env.export();
    let log = put(dir, "log.jsonl", &export);
    let seed_file = fs::read_to_string(env.keys().join("_log.test.key")).unwrap();
    assert_eq!(seed_file.trim(), b64(&LOG_SEED));
    let events = parsed(&export);
    let leaves: Vec<Hash> = events.iter().map(|(_, h)| *h).collect();
    for size in [1u64, 7, 8, 10, 15] {
        let cp = Checkpoint::new(ORIGIN, size, root(&leaves[..size as usize])).unwrap();
        let status = env.json(&["status", "--as-of", &format!("seq:{size}")]);
        let bundle = SnapshotBundle {
            ledger: "test".into(),
            tree_size: size,
            head_hash: leaves[size as usize - 1],
            checkpoint: sign_checkpoint(&cp, &log_key()),
            status,
        };
        let path = put(dir, &format!("lib-snapshot-{size}.json"), bundle.to_bytes());
        assert_ok(&OfflineInputs {
            snapshot: Some(path.clone()),
            key: Some(vkey(LOG_SEED)),
            ..log_only(&log)
        });
        let cli = env.ok(&["snapshot", "--size", &size.to_string()]);
        assert_eq!(
            String::from_utf8(bundle.to_bytes()).unwrap(),
            cli,
            "size {size}"
        );
        let seq = size.div_ceil(2);
        let inc = InclusionProofDoc::prove("test", seq, size, |i| leaves[i as usize]).unwrap();
        let con = ConsistencyProofDoc::prove("test", seq, 15, |i| leaves[i as usize]).unwrap();
        assert_ok(&OfflineInputs {
            inclusion: Some(put(dir, "inc.json", inc.to_bytes())),
            consistency: Some(put(dir, "con.json", con.to_bytes())),
            prev_snapshot: Some(path),
            ..log_only(&log)
        });
        let size_s = size.to_string();
        let seq_s = seq.to_string();
        assert_eq!(
            env.ok(&["prove", "inclusion", &seq_s, "--size", &size_s])
                .as_bytes(),
            inc.to_bytes()
        );
        assert_eq!(
            env.ok(&["prove", "consistency", &seq_s, "15"]).as_bytes(),
            con.to_bytes()
        );
    }
}

/// `--key` as the verifier string or a file holding it; without it the log's own
/// key is used with a warning, when a checkpoint is checked; arguments that cannot be
/// used are errors, not reports.
#[test]
fn key_handling_and_unusable_arguments() {
    let env = ledger(Kind::Sqlite);
    let dir = env.dir.path();
    let log = put(dir, "log.jsonl", env.export());
    let snapshot = put(dir, "snapshot.json", env.ok(&["snapshot"]));
    let with = |key: Option<String>| OfflineInputs {
        snapshot: Some(snapshot.clone()),
        key,
        ..log_only(&log)
    };
    let out = assert_ok(&with(None));
    assert_eq!(out.warnings, [TOFU_WARNING]);
    assert!(assert_ok(&log_only(&log)).warnings.is_empty());
    assert!(assert_ok(&with(Some(vkey(LOG_SEED)))).warnings.is_empty());
    let file = put(dir, "key.txt", format!("\n  {}\n\n", vkey(LOG_SEED)));
    assert!(assert_ok(&with(Some(file.to_str().unwrap().into())))
        .warnings
        .is_empty());
    // A pinned key that is not the log's: caught even with nothing else to check.
    assert_problem(&with(Some(vkey(OTHER_SEED))), "checkpoint_mismatch", None);
    assert_problem(
        &OfflineInputs {
            key: Some(vkey(OTHER_SEED)),
            ..log_only(&log)
        },
        "checkpoint_mismatch",
        None,
    );

    let usage = |inputs: &OfflineInputs| match verify_offline(inputs) {
        Err(e @ Error::Usage(_)) => assert_eq!(e.exit_code(), 2),
        other => panic!("{inputs:?}: {other:?}"),
    };
    usage(&with(Some("not a key".into())));
    usage(&with(Some(
        put(dir, "bad.txt", "nope\n").to_str().unwrap().into(),
    )));
    usage(&log_only(dir));
    let storage = |inputs: &OfflineInputs| match verify_offline(inputs) {
        Err(e @ Error::Io(_)) => assert_eq!(e.exit_code(), 4),
        other => panic!("{inputs:?}: {other:?}"),
    };
    storage(&log_only(&dir.join("missing.jsonl")));
    storage(&OfflineInputs {
        inclusion: Some(dir.join("missing.json")),
        ..log_only(&log)
    });
}

// ------------------------------------------------------------------ long logs

/// The genuine log extended with `extra` status changes of M2 signed by alice
/// (steward), toggling in_progress and not_started, each issued a microsecond later.
/// Streamed to `out`; returns (events, hashes of the last two).
fn extend_log(genuine: &[u8], extra: u64, out: &Path) -> (u64, Vec<Hash>) {
    let mut w = std::io::BufWriter::new(fs::File::create(out).unwrap());
    w.write_all(genuine).unwrap();
    let (last, mut prev) = parsed(genuine).pop().unwrap();
    let alice = SigningKey::from_bytes(&ALICE_SEED);
    let mut seq = last.seq;
    let mut status = "in_progress";
    let start = 1_900_000_000_000_000i64;
    let mut tail = Vec::new();
    for i in 0..extra {
        let to = if status == "in_progress" {
            "not_started"
        } else {
            "in_progress"
        };
        let at = format_timestamp(start + i as i64);
        let st = Statement::new(
            "test",
            "alice",
            &at,
            Payload::MilestoneStatusChanged(MilestoneStatusChanged {
                id: "M2".into(),
                from: status.into(),
                to: to.into(),
                reason: format!("toggle {i}"),
                evidence: vec![],
                effective_on: None,
            }),
        );
        seq += 1;
        let sig = sign(&st, &alice);
        let e = Event {
            statement: st,
            seq,
            prev,
            recorded_at: at,
            sig,
        };
        prev = e.hash();
        w.write_all(&e.export_line(&prev)).unwrap();
        status = to;
        if i + 2 >= extra {
            tail.push(prev);
        }
    }
    w.flush().unwrap();
    (seq, tail)
}

/// A log of a few hundred events streams through (the replay index grows past its
/// first estimate nowhere: it is presized), proofs at its far end verify, and a
/// signature replayed at its end is caught by rule 7, exactly.
#[test]
fn a_long_log_streams_and_replays_are_still_caught() {
    let env = ledger(Kind::Sqlite);
    let dir = env.dir.path();
    let genuine = env.export();
    let log = dir.join("long.jsonl");
    let (n, _) = extend_log(&genuine, 400, &log);
    let out = assert_ok(&log_only(&log));
    assert_eq!(out.report.checked, n);
    let long = fs::read(&log).unwrap();
    let leaves: Vec<Hash> = parsed(&long).iter().map(|(_, h)| *h).collect();
    let inc = InclusionProofDoc::prove("test", 9, n, |i| leaves[i as usize]).unwrap();
    let con = ConsistencyProofDoc::prove("test", 15, n, |i| leaves[i as usize]).unwrap();
    let bundle = SnapshotBundle::from_bytes(env.ok(&["snapshot"]).as_bytes()).unwrap();
    assert_ok(&OfflineInputs {
        inclusion: Some(put(dir, "inc.json", inc.to_bytes())),
        consistency: Some(put(dir, "con.json", con.to_bytes())),
        prev_snapshot: Some(put(dir, "snap.json", bundle.to_bytes())),
        ..log_only(&log)
    });

    // Replay: the statement and signature of seq n-1 again (M2 goes back to where it
    // was at n-2, so every other rule holds), re-chained as seq n+1.
    let events = parsed(&long);
    let (last, last_hash) = events.last().unwrap().clone();
    let (again, _) = events[events.len() - 2].clone();
    let replay = Event {
        statement: again.statement,
        seq: n + 1,
        prev: last_hash,
        recorded_at: last.recorded_at,
        sig: again.sig,
    };
    let mut bytes = long;
    bytes.extend(replay.export_line(&replay.hash()));
    let replayed = put(dir, "replayed.jsonl", bytes);
    assert_problem(&log_only(&replayed), "rule_violation", Some(n + 1));
    let r = check(&log_only(&replayed)).report;
    assert!(r.detail.contains("R7"), "{}", r.detail);
    assert_eq!(r.checked, n);
}

/// Peak memory at a million events (the goal: ≤ 64 MiB). Slow in a debug
/// build: `cargo test --release --test offline -- --ignored --nocapture peak_memory`
/// (`WAYMARK_OFFLINE_EVENTS` sets the count). The log is written first, streaming, in
/// this process; the peak (VmHWM) is read after verifying it.
#[test]
#[ignore]
fn peak_memory_at_a_million_events() {
    let extra: u64 = std::env::var("WAYMARK_OFFLINE_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let env = ledger(Kind::Sqlite);
    let log = env.path("big.jsonl");
    let (n, _) = extend_log(&env.export(), extra, &log);
    let size = fs::metadata(&log).unwrap().len();
    let out = assert_ok(&log_only(&log));
    assert_eq!(out.report.checked, n);
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| {
            v.trim()
                .trim_end_matches(" kB")
                .trim()
                .parse::<u64>()
                .unwrap()
        })
        .unwrap();
    println!(
        "{n} events, {} MiB export: peak RSS {} MiB",
        size >> 20,
        hwm >> 10
    );
    assert!(hwm <= 64 * 1024, "peak RSS {hwm} kB");
}

// ------------------------------------------------------------------ golden fixtures

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/offline")
}

struct Case {
    name: &'static str,
    args: Vec<String>,
    problem: Option<&'static str>,
    first_bad_seq: Option<u64>,
}

fn case(
    name: &'static str,
    args: &[&str],
    problem: Option<&'static str>,
    first_bad_seq: Option<u64>,
) -> Case {
    Case {
        name,
        args: args.iter().map(|a| a.to_string()).collect(),
        problem,
        first_bad_seq,
    }
}

/// Writes the fixture files into `dir` and returns the cases over them.
fn make_fixtures(dir: &Path) -> Vec<Case> {
    let env = ledger(Kind::Sqlite);
    let export = env.export();
    let ls = lines(&export);
    let events = parsed(&export);
    let leaves: Vec<Hash> = events.iter().map(|(_, h)| *h).collect();
    let joined = |ls: &[Vec<u8>]| ls.concat();
    let w = |name: &str, bytes: &[u8]| {
        fs::write(dir.join(name), bytes).unwrap();
    };

    // The genuine set.
    w("log.jsonl", &export);
    w("log-10.jsonl", &env.run(&["export", "--upto", "10"]).stdout);
    let snapshot = env.ok(&["snapshot"]).into_bytes();
    let snapshot10 = env.ok(&["snapshot", "--size", "10"]).into_bytes();
    w("snapshot.json", &snapshot);
    w("snapshot-10.json", &snapshot10);
    w(
        "snapshot-5.json",
        env.ok(&["snapshot", "--size", "5"]).as_bytes(),
    );
    let inclusion = env
        .ok(&["prove", "inclusion", "7", "--size", "12"])
        .into_bytes();
    let consistency = env.ok(&["prove", "consistency", "5", "15"]).into_bytes();
    w("inclusion.json", &inclusion);
    w("consistency.json", &consistency);
    let declared = events[0].0.statement.payload.to_value()["log_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(declared, vkey(LOG_SEED));
    w("log-key.txt", format!("{declared}\n").as_bytes());
    w(
        "other-key.txt",
        format!("{}\n", vkey(OTHER_SEED)).as_bytes(),
    );

    // The chain.
    let mut edited = ls.clone();
    edited[8] = edit_line(&ls[8], |v| {
        v["payload"]["reason"] = json!("because I say so")
    });
    w("edited-event.jsonl", &joined(&edited));
    let mut rehashed = ls.clone();
    let (mut e, _) = events[14].clone();
    if let Payload::MilestoneRetired(p) = &mut e.statement.payload {
        p.reason = "because I say so".into();
    } else {
        panic!("seq 15 is MilestoneRetired");
    }
    rehashed[14] = e.export_line(&e.hash());
    w("edited-and-rehashed-event.jsonl", &joined(&rehashed));
    let mut reordered = ls.clone();
    reordered.swap(8, 9);
    w("reordered-events.jsonl", &joined(&reordered));
    let mut dropped = ls.clone();
    dropped.remove(8);
    w("dropped-event.jsonl", &joined(&dropped));
    let mut garbage = export.clone();
    garbage.extend_from_slice(b"garbage\n");
    w("trailing-garbage.jsonl", &garbage);
    let mut partial = export.clone();
    partial.extend_from_slice(b"{\"actor\":\"alice\",");
    w("trailing-partial-line.jsonl", &partial);
    let mut spaced = ls.clone();
    spaced[2] = {
        let v = parse_strict(&ls[2][..ls[2].len() - 1]).unwrap();
        format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap().replace('\n', " ")
        )
        .into_bytes()
    };
    w("non-canonical-line.jsonl", &joined(&spaced));
    w("empty.jsonl", b"");

    // Rule 7: M2 back to not_started (seq 16), then seq 10 (M2 not_started ->
    // in_progress) again, same statement and signature, re-chained as seq 17.
    env.ok(&[
        "milestone",
        "set",
        "M2",
        "not_started",
        "--reason",
        "because paused",
    ]);
    let longer = env.export();
    let longer_events = parsed(&longer);
    let (last, last_hash) = longer_events.last().unwrap().clone();
    let replay = Event {
        statement: events[9].0.statement.clone(),
        seq: 17,
        prev: last_hash,
        recorded_at: last.recorded_at,
        sig: events[9].0.sig.clone(),
    };
    let mut replayed = longer.clone();
    replayed.extend(replay.export_line(&replay.hash()));
    w("replayed-signature.jsonl", &replayed);

    // Snapshots and checkpoints.
    let bundle10 = SnapshotBundle::from_bytes(&snapshot10).unwrap();
    let resigned = |name: &str, origin: &str, size: u64, tree_size: u64| {
        let b = SnapshotBundle {
            checkpoint: note(origin, size, root(&leaves[..10])),
            tree_size,
            ..bundle10.clone()
        };
        w(name, &b.to_bytes());
    };
    resigned("snapshot-wrong-origin.json", "example.org/other", 10, 10);
    resigned("snapshot-checkpoint-size-plus-one.json", ORIGIN, 11, 11);
    resigned("snapshot-checkpoint-size-minus-one.json", ORIGIN, 9, 9);
    resigned("snapshot-tree-size-differs.json", ORIGIN, 11, 10);
    let other = SnapshotBundle {
        checkpoint: sign_checkpoint(
            &Checkpoint::new(ORIGIN, 10, root(&leaves[..10])).unwrap(),
            &SigningKey::from_bytes(&OTHER_SEED),
        ),
        ..bundle10.clone()
    };
    w("snapshot-other-key.json", &other.to_bytes());
    w(
        "snapshot-status-edited.json",
        &doc_edit(&snapshot, |v| {
            let m = &mut v["status"]["milestones"][0]["status"];
            *m = json!(if *m == "achieved" {
                "in_progress"
            } else {
                "achieved"
            });
        }),
    );
    w(
        "snapshot-head-edited.json",
        &doc_edit(&snapshot, |v| v["head_hash"] = flip_hex(&v["head_hash"])),
    );
    w(
        "snapshot-signature-bit-flip.json",
        &doc_edit(&snapshot, |v| {
            let note = v["checkpoint"].as_str().unwrap().to_string();
            let (text, sig) = note.split_at(note.len() - 10);
            let mut sig: Vec<u8> = sig.bytes().collect();
            sig[0] = if sig[0] == b'A' { b'B' } else { b'A' };
            v["checkpoint"] = json!(format!("{text}{}", String::from_utf8(sig).unwrap()));
        }),
    );
    w("snapshot-not-json.json", &snapshot[..snapshot.len() / 2]);
    // A fork: the same history recorded again (same keys, other times).
    let fork = ledger(Kind::Sqlite);
    w(
        "snapshot-10-of-a-fork.json",
        fork.ok(&["snapshot", "--size", "10"]).as_bytes(),
    );

    // Proofs.
    let flip_first = |bytes: &[u8]| doc_edit(bytes, |v| v["path"][0] = flip_hex(&v["path"][0]));
    let drop_last = |bytes: &[u8]| {
        doc_edit(bytes, |v| {
            v["path"].as_array_mut().unwrap().pop();
        })
    };
    w("inclusion-bit-flip.json", &flip_first(&inclusion));
    w("consistency-bit-flip.json", &flip_first(&consistency));
    w("inclusion-truncated.json", &drop_last(&inclusion));
    w("consistency-truncated.json", &drop_last(&consistency));
    let mut trailing = inclusion.clone();
    trailing.extend_from_slice(b"garbage");
    w("inclusion-trailing-garbage.json", &trailing);
    w(
        "inclusion-wrong-leaf.json",
        &doc_edit(&inclusion, |v| v["leaf_hash"] = json!(leaves[7].to_hex())),
    );
    w(
        "inclusion-other-ledger.json",
        &doc_edit(&inclusion, |v| v["ledger"] = json!("other")),
    );

    let key = "--key=log-key.txt";
    let literal = format!("--key={declared}");
    let mut cases = vec![
        case("genuine-log", &["--log", "log.jsonl"], None, None),
        case(
            "genuine-everything",
            &[
                "--log",
                "log.jsonl",
                "--snapshot",
                "snapshot.json",
                "--prev-snapshot",
                "snapshot-5.json",
                key,
                "--inclusion",
                "inclusion.json",
                "--consistency",
                "consistency.json",
            ],
            None,
            None,
        ),
        case(
            "genuine-prefix-without-key",
            &[
                "--log",
                "log-10.jsonl",
                "--snapshot",
                "snapshot-10.json",
                "--prev-snapshot",
                "snapshot-5.json",
            ],
            None,
            None,
        ),
        case(
            "genuine-log-longer-than-snapshot",
            &["--log", "log.jsonl", "--snapshot", "snapshot-10.json", key],
            None,
            None,
        ),
        case(
            "genuine-log-extends-prev-snapshot",
            &[
                "--log",
                "log.jsonl",
                "--prev-snapshot",
                "snapshot-10.json",
                key,
            ],
            None,
            None,
        ),
        case(
            "edited-event",
            &["--log", "edited-event.jsonl"],
            Some("hash_mismatch"),
            Some(9),
        ),
        case(
            "edited-and-rehashed-event",
            &["--log", "edited-and-rehashed-event.jsonl"],
            Some("bad_signature"),
            Some(15),
        ),
        case(
            "reordered-events",
            &["--log", "reordered-events.jsonl"],
            Some("seq_gap"),
            Some(9),
        ),
        case(
            "dropped-event",
            &["--log", "dropped-event.jsonl"],
            Some("seq_gap"),
            Some(9),
        ),
        case(
            "trailing-garbage",
            &["--log", "trailing-garbage.jsonl"],
            Some("malformed"),
            Some(16),
        ),
        case(
            "trailing-partial-line",
            &["--log", "trailing-partial-line.jsonl"],
            Some("truncated"),
            Some(16),
        ),
        case(
            "non-canonical-line",
            &["--log", "non-canonical-line.jsonl"],
            Some("malformed"),
            Some(3),
        ),
        case(
            "empty-log",
            &["--log", "empty.jsonl"],
            Some("truncated"),
            None,
        ),
        case(
            "replayed-signature",
            &["--log", "replayed-signature.jsonl"],
            Some("rule_violation"),
            Some(17),
        ),
        case(
            "truncated-log-against-later-checkpoint",
            &["--log", "log-10.jsonl", "--snapshot", "snapshot.json", key],
            Some("truncated"),
            None,
        ),
        case(
            "truncated-log-against-later-prev-snapshot",
            &[
                "--log",
                "log-10.jsonl",
                "--prev-snapshot",
                "snapshot.json",
                key,
            ],
            Some("truncated"),
            None,
        ),
        case(
            "wrong-key",
            &[
                "--log",
                "log.jsonl",
                "--snapshot",
                "snapshot.json",
                "--key=other-key.txt",
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "snapshot-signed-by-another-key",
            &[
                "--log",
                "log.jsonl",
                "--snapshot",
                "snapshot-other-key.json",
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "wrong-origin",
            &[
                "--log",
                "log.jsonl",
                "--snapshot",
                "snapshot-wrong-origin.json",
                key,
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "checkpoint-size-plus-one",
            &[
                "--log",
                "log.jsonl",
                "--snapshot",
                "snapshot-checkpoint-size-plus-one.json",
                key,
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "checkpoint-size-minus-one",
            &[
                "--log",
                "log.jsonl",
                "--snapshot",
                "snapshot-checkpoint-size-minus-one.json",
                key,
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "checkpoint-size-differs-from-tree-size",
            &[
                "--log",
                "log.jsonl",
                "--snapshot",
                "snapshot-tree-size-differs.json",
                key,
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "snapshot-signature-bit-flip",
            &[
                "--log",
                "log.jsonl",
                "--snapshot",
                "snapshot-signature-bit-flip.json",
                key,
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "snapshot-status-edited",
            &[
                "--log",
                "log.jsonl",
                "--snapshot",
                "snapshot-status-edited.json",
                key,
            ],
            Some("status_mismatch"),
            None,
        ),
        case(
            "snapshot-head-edited",
            &[
                "--log",
                "log.jsonl",
                "--snapshot",
                "snapshot-head-edited.json",
                key,
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "snapshot-not-json",
            &["--log", "log.jsonl", "--snapshot", "snapshot-not-json.json"],
            Some("malformed"),
            None,
        ),
        case(
            "prev-snapshot-of-a-fork",
            &[
                "--log",
                "log.jsonl",
                "--prev-snapshot",
                "snapshot-10-of-a-fork.json",
                key,
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "pinned-key-is-not-the-logs",
            &["--log", "log.jsonl", "--key=other-key.txt"],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "proof-bit-flip",
            &[
                "--log",
                "log.jsonl",
                "--inclusion",
                "inclusion-bit-flip.json",
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "consistency-proof-bit-flip",
            &[
                "--log",
                "log.jsonl",
                "--consistency",
                "consistency-bit-flip.json",
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "truncated-proof",
            &[
                "--log",
                "log.jsonl",
                "--consistency",
                "consistency-truncated.json",
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "truncated-inclusion-proof",
            &[
                "--log",
                "log.jsonl",
                "--inclusion",
                "inclusion-truncated.json",
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "proof-trailing-garbage",
            &[
                "--log",
                "log.jsonl",
                "--inclusion",
                "inclusion-trailing-garbage.json",
            ],
            Some("malformed"),
            None,
        ),
        case(
            "inclusion-wrong-leaf",
            &[
                "--log",
                "log.jsonl",
                "--inclusion",
                "inclusion-wrong-leaf.json",
            ],
            Some("checkpoint_mismatch"),
            None,
        ),
        case(
            "inclusion-other-ledger",
            &[
                "--log",
                "log.jsonl",
                "--inclusion",
                "inclusion-other-ledger.json",
            ],
            Some("malformed"),
            None,
        ),
        case(
            "inclusion-beyond-the-log",
            &["--log", "log-10.jsonl", "--inclusion", "inclusion.json"],
            Some("truncated"),
            None,
        ),
    ];
    // `--key VALUE` as two arguments where a case wrote `--key=VALUE`.
    for c in &mut cases {
        c.args = c
            .args
            .iter()
            .flat_map(|a| match a.strip_prefix("--key=") {
                Some(v) => vec!["--key".to_string(), v.to_string()],
                None => vec![a.clone()],
            })
            .collect();
    }
    cases.push(Case {
        name: "genuine-key-given-as-string",
        args: vec![
            "--log".into(),
            "log-10.jsonl".into(),
            "--snapshot".into(),
            "snapshot-10.json".into(),
            "--key".into(),
            literal.trim_start_matches("--key=").into(),
        ],
        problem: None,
        first_bad_seq: None,
    });
    cases
}

/// Regenerates `tests/fixtures/offline/` (run on purpose; the files are committed).
#[test]
#[ignore]
fn generate_fixtures() {
    let dir = fixtures_dir();
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    for c in make_fixtures(&dir) {
        let spec = json!({"args": c.args, "problem": c.problem, "first_bad_seq": c.first_bad_seq});
        let mut bytes = serde_json::to_vec_pretty(&spec).unwrap();
        bytes.push(b'\n');
        fs::write(dir.join(format!("{}.case.json", c.name)), bytes).unwrap();
    }
}

struct Fixture {
    name: String,
    args: Vec<String>,
    problem: Option<String>,
    first_bad_seq: Option<u64>,
}

fn fixtures() -> Vec<Fixture> {
    let mut out: Vec<Fixture> = fs::read_dir(fixtures_dir())
        .expect("tests/fixtures/offline (generate_fixtures makes it)")
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p
                .file_name()?
                .to_str()?
                .strip_suffix(".case.json")?
                .to_string();
            let v: Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
            Some(Fixture {
                name,
                args: v["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
                problem: v["problem"].as_str().map(str::to_string),
                first_bad_seq: v["first_bad_seq"].as_u64(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(out.len() >= 30, "{} fixtures", out.len());
    for required in [
        "edited-event",
        "reordered-events",
        "dropped-event",
        "truncated-log-against-later-checkpoint",
        "wrong-key",
        "wrong-origin",
        "checkpoint-size-plus-one",
        "checkpoint-size-minus-one",
        "proof-bit-flip",
        "truncated-proof",
        "trailing-garbage",
        "snapshot-status-edited",
        "genuine-everything",
    ] {
        assert!(out.iter().any(|f| f.name == required), "{required}");
    }
    out
}

/// A fixture's arguments as library inputs (paths under the fixtures folder; a
/// `--key` that names no file there is the key itself).
fn fixture_inputs(args: &[String]) -> OfflineInputs {
    let dir = fixtures_dir();
    let mut inputs = OfflineInputs::default();
    for pair in args.chunks(2) {
        let (flag, value) = (pair[0].as_str(), pair[1].as_str());
        let path = dir.join(value);
        match flag {
            "--log" => inputs.log = path,
            "--snapshot" => inputs.snapshot = Some(path),
            "--prev-snapshot" => inputs.prev_snapshot = Some(path),
            "--inclusion" => inputs.inclusion = Some(path),
            "--consistency" => inputs.consistency = Some(path),
            "--key" if path.is_file() => inputs.key = Some(path.to_str().unwrap().into()),
            "--key" => inputs.key = Some(value.into()),
            other => panic!("unknown flag {other}"),
        }
    }
    inputs
}

/// Every fixture, through the library: the exact `problem` and `first_bad_seq`.
#[test]
fn fixtures_give_their_problem() {
    for f in fixtures() {
        let r = check(&fixture_inputs(&f.args)).report;
        assert_eq!(
            (r.ok, r.problem.map(|p| p.to_string()), r.first_bad_seq),
            (f.problem.is_none(), f.problem.clone(), f.first_bad_seq),
            "{}: {}",
            f.name,
            r.detail
        );
    }
}

/// Every fixture, through the binary: `waymark --json verify-offline ARGS` exits 0
/// on the genuine set and 3 with the exact `problem` on every mutation.
#[test]
fn fixtures_through_the_binary() {
    let scratch = tempfile::tempdir().unwrap();
    for f in fixtures() {
        let out = Command::new(env!("CARGO_BIN_EXE_waymark"))
            .current_dir(fixtures_dir())
            .arg("--db")
            .arg(format!(
                "sqlite://{}",
                scratch.path().join("unused.db").display()
            ))
            .arg("--keys")
            .arg(scratch.path().join("keys"))
            .args(["--json", "verify-offline"])
            .args(&f.args)
            .env_remove("WAYMARK_LEDGER")
            .env_remove("WAYMARK_ACTOR")
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        assert_eq!(
            (
                out.status.code(),
                report["problem"].as_str().map(str::to_string),
                report["first_bad_seq"].as_u64()
            ),
            (
                Some(if f.problem.is_some() { 3 } else { 0 }),
                f.problem.clone(),
                f.first_bad_seq
            ),
            "{}: waymark verify-offline {:?}\nstdout: {}\nstderr: {}",
            f.name,
            f.args,
            text(&out.stdout),
            text(&out.stderr)
        );
        assert_eq!(report["ok"], json!(f.problem.is_none()), "{}", f.name);
    }
}

/// The fixtures the independent Python verifier can express (one checkpoint at most;
/// it has no snapshot bundles, so a bundle is given as its checkpoint, key and
/// status) give the same `problem` and `first_bad_seq` there: the problem choices
/// here mirror it.
#[test]
fn fixtures_agree_with_the_independent_verifier() {
    // Checks that only a snapshot bundle has, or two checkpoints at once.
    let inexpressible = [
        "genuine-everything",
        "genuine-prefix-without-key",
        "snapshot-head-edited",
        "snapshot-not-json",
        "checkpoint-size-differs-from-tree-size",
        "pinned-key-is-not-the-logs",
    ];
    let scratch = tempfile::tempdir().unwrap();
    let dir = fixtures_dir();
    let mut compared = 0;
    for f in fixtures() {
        if inexpressible.contains(&f.name.as_str()) {
            continue;
        }
        let inputs = fixture_inputs(&f.args);
        let mut cmd = Command::new("python3");
        cmd.arg(python_verifier()).arg(&inputs.log);
        if let Some(p) = &inputs.inclusion {
            cmd.arg("--inclusion").arg(p);
        }
        if let Some(p) = &inputs.consistency {
            cmd.arg("--consistency").arg(p);
        }
        if let Some(bundle) = inputs.snapshot.as_ref().or(inputs.prev_snapshot.as_ref()) {
            let b: Value = serde_json::from_slice(&fs::read(bundle).unwrap()).unwrap();
            let cp = scratch.path().join(format!("{}.cp", f.name));
            fs::write(&cp, b["checkpoint"].as_str().unwrap()).unwrap();
            let key = match &inputs.key {
                Some(k) if Path::new(k).is_file() => fs::read_to_string(k).unwrap(),
                Some(k) => k.clone(),
                None => fs::read_to_string(dir.join("log-key.txt")).unwrap(),
            };
            cmd.arg("--checkpoint").arg(&cp).args(["--key", key.trim()]);
            // The size fixtures re-sign the snapshot at 10 for 11 and 9: its status,
            // for 10, would be a second defect where Python checks status first.
            if inputs.snapshot.is_some() && !f.name.starts_with("checkpoint-size") {
                let st = scratch.path().join(format!("{}.status", f.name));
                fs::write(&st, b["status"].to_string()).unwrap();
                let at = b["tree_size"].as_u64().unwrap().to_string();
                cmd.args(["--status-at", &at]).arg("--status").arg(&st);
            }
        }
        let out = cmd.output().unwrap();
        let r: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}: {}", f.name, text(&out.stderr)));
        assert_eq!(
            (r["problem"].as_str(), r["first_bad_seq"].as_u64()),
            (f.problem.as_deref(), f.first_bad_seq),
            "{}: {r}",
            f.name
        );
        compared += 1;
    }
    assert!(compared >= 25, "{compared}");
}
