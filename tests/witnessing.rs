//! Publishing with witnesses (issue 16): `publish DIR --witness URL --witness-key VKEY`
//! against witnesses served in this test process on port 0, readers that require a
//! quorum (`verify-offline --witness … --quorum K`), the dashboard and `serve`'s
//! checkpoint, and the attacks: a split view, head truncation, a replayed old
//! checkpoint, a witness key that is not in the reader's list, and a witness that
//! cannot be reached.

#[macro_use]
mod common;
use common::served;
use common::*;
use serde_json::Value;
use std::path::Path;
use waymark::witness::{Witness, WitnessDir};

/// Witnesses served in-process on port 0, each accepting the given log keys.
struct Witnesses {
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    /// (URL, verifier key) of each.
    pub at: Vec<(String, String)>,
}

fn witnesses(names: &[&str], logs: &[&str]) -> Witnesses {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut at = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let w = rt.block_on(async {
            let w = Witness::init(&WitnessDir::new(dir.path().join(format!("w{i}"))), name)
                .await
                .unwrap();
            for log in logs {
                w.add_log(log).await.unwrap();
            }
            w
        });
        let vkey = w.vkey();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        rt.spawn(waymark::witness::run(
            listener,
            std::sync::Arc::new(w),
            std::future::pending::<()>(),
        ));
        at.push((url, vkey));
    }
    Witnesses { rt, _dir: dir, at }
}

fn log_key(env: &Env) -> String {
    let scratch = env.path("scratch");
    env.ok(&["publish", scratch.to_str().unwrap()]);
    std::fs::read_to_string(scratch.join("log-key.txt"))
        .unwrap()
        .trim()
        .to_string()
}

/// `publish DIR` with these witnesses: (exit code, stdout JSON or Null, stderr).
fn publish(env: &Env, dir: &Path, with: &[(String, String)]) -> (i32, Value, String) {
    let mut args = vec![
        "--json".to_string(),
        "publish".into(),
        dir.display().to_string(),
    ];
    for (url, key) in with {
        args.extend([
            "--witness".into(),
            url.clone(),
            "--witness-key".into(),
            key.clone(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.run(&args);
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        text(&out.stderr),
    )
}

/// `verify-offline --tiles DIR --key LOG --witness … [--quorum K] --json`.
fn verify(env: &Env, dir: &Path, log: &str, keys: &[&str], quorum: Option<usize>) -> (i32, Value) {
    let mut args = vec![
        "--json".to_string(),
        "verify-offline".into(),
        "--tiles".into(),
        dir.display().to_string(),
        "--key".into(),
        log.into(),
    ];
    for k in keys {
        args.extend(["--witness".into(), k.to_string()]);
    }
    if let Some(q) = quorum {
        args.extend(["--quorum".into(), q.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.run(&args);
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

fn cosignature_lines(note: &str) -> usize {
    note.lines().filter(|l| l.starts_with('\u{2014}')).count()
}

fn publish_with_witnesses_and_read_with_a_quorum(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let log = log_key(&env);
    let ws = witnesses(&["witness.example/w1", "witness.example/w2"], &[&log]);
    let (k1, k2) = (ws.at[0].1.clone(), ws.at[1].1.clone());
    let dir = env.path("pub");

    let (code, out, err) = publish(&env, &dir, &ws.at);
    assert_eq!(code, 0, "{err}");
    let by = out["witnesses"].as_array().unwrap();
    assert_eq!(by.len(), 2, "{out}");
    let millis: Vec<u64> = by.iter().map(|b| b["millis"].as_u64().unwrap()).collect();
    println!("cosigning round trip, two witnesses asked at once: {millis:?} ms");
    let note = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
    assert_eq!(
        cosignature_lines(&note),
        3,
        "the log's signature and two cosignatures"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("checkpoint.txt")).unwrap(),
        note
    );

    // Readers with a quorum.
    let (code, r) = verify(&env, &dir, &log, &[&k1, &k2], Some(2));
    assert_eq!(code, 0, "{r}");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("witness quorum 2 of 2"),
        "{r}"
    );
    let k3 = waymark_events::cosigner_vkey(
        "witness.example/w3",
        &ed25519_dalek::SigningKey::from_bytes(&[3; 32]).verifying_key(),
    );
    let (code, r) = verify(&env, &dir, &log, &[&k1, &k2, &k3], None);
    assert_eq!(code, 3, "{r}");
    assert_eq!(r["problem"], "witness_quorum", "{r}");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("witness.example/w3: no cosignature"),
        "{r}"
    );
    let (code, r) = verify(&env, &dir, &log, &[&k1, &k2, &k3], Some(2));
    assert_eq!(code, 0, "2 of 3 is enough for a quorum of 2: {r}");
    // The snapshot bundle carries the cosigned checkpoint too.
    let out = env.run(&[
        "--json",
        "verify-offline",
        "--log",
        dir.join("export.jsonl").to_str().unwrap(),
        "--snapshot",
        dir.join("snapshot.json").to_str().unwrap(),
        "--key",
        &log,
        "--witness",
        &k1,
        "--witness",
        &k2,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // Growth: the witnesses check the consistency proof from what they cosigned.
    env.ok(&[
        "--as",
        "bob",
        "milestone",
        "set",
        "E1",
        "in_progress",
        "--reason",
        "reopened",
    ]);
    let (code, out, err) = publish(&env, &dir, &ws.at);
    assert_eq!(code, 0, "{err}");
    let size = out["tree_size"].as_u64().unwrap();
    assert_eq!(verify(&env, &dir, &log, &[&k1, &k2], None).0, 0);

    // The dashboard says who cosigned and when; serve's tlog-tiles checkpoint is the
    // cosigned one.
    let server = served::serve(&env);
    let page = served::get(&format!("{}/?ledger=test", server.base)).text();
    for name in ["witness.example/w1", "witness.example/w2"] {
        assert!(page.contains(name), "the dashboard names {name}");
    }
    assert!(page.contains("cosigned at 20"), "with the time");
    assert!(
        page.contains(&format!("first {size} events")),
        "and the size"
    );
    let served_note = served::get(&format!("{}/api/ledgers/test/checkpoint", server.base)).text();
    assert_eq!(
        served_note,
        std::fs::read_to_string(dir.join("checkpoint")).unwrap()
    );
    drop(ws.rt);
}

/// A witness key the reader did not list counts for nothing, even with a valid
/// cosignature; and a witness that cannot be reached makes publish fail (exit 4)
/// with DIR unchanged.
fn unlisted_and_unreachable_witnesses(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let log = log_key(&env);
    let ws = witnesses(&["witness.example/w1", "stranger.example/w"], &[&log]);
    let dir = env.path("pub");
    let (code, _, err) = publish(&env, &dir, &ws.at[1..]);
    assert_eq!(code, 0, "{err}");
    let (code, r) = verify(&env, &dir, &log, &[&ws.at[0].1], Some(1));
    assert_eq!(code, 3, "{r}");
    assert_eq!(r["problem"], "witness_quorum", "{r}");
    assert!(!r["detail"].as_str().unwrap().contains("stranger"), "{r}");

    // Unreachable: a port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let before = std::fs::read(dir.join("checkpoint")).unwrap();
    env.ok(&[
        "--as",
        "bob",
        "milestone",
        "set",
        "E1",
        "in_progress",
        "--reason",
        "r",
    ]);
    let gone = vec![(format!("http://{closed}"), ws.at[0].1.clone())];
    let (code, _, err) = publish(&env, &dir, &gone);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("unreachable"), "{err}");
    assert_eq!(
        std::fs::read(dir.join("checkpoint")).unwrap(),
        before,
        "DIR unchanged"
    );
    // A key that does not match the witness at that URL: its cosignature is refused.
    let wrong = vec![(ws.at[0].0.clone(), ws.at[1].1.clone())];
    let (code, _, err) = publish(&env, &dir, &wrong);
    assert_eq!(code, 3, "{err}");
    assert_eq!(
        std::fs::read(dir.join("checkpoint")).unwrap(),
        before,
        "DIR unchanged"
    );
}

/// A split view: ledgers A and B share origin and log key and diverge at size 16.
/// The witness cosigns A's, refuses B's (another root at a size it cosigned), and a
/// reader with a quorum refuses B's checkpoint. Then A's head is truncated (rows and
/// snapshot row deleted) and published again: refused. And A's old checkpoint,
/// replayed to the witness: refused with the size it knows.
fn witnesses_refuse_split_views_truncation_and_replays(kind: Kind) {
    let a = Env::new(kind);
    a.history();
    let log = log_key(&a);
    let first = a.path("scratch").join("checkpoint");
    let old_note = std::fs::read_to_string(&first).unwrap();
    let b = a.fork();
    a.ok(&[
        "--as",
        "bob",
        "milestone",
        "set",
        "E1",
        "in_progress",
        "--reason",
        "view A",
    ]);
    b.ok(&[
        "--as",
        "bob",
        "milestone",
        "set",
        "M2",
        "not_started",
        "--reason",
        "view B",
    ]);
    let ws = witnesses(&["witness.example/w1"], &[&log]);
    let k1 = ws.at[0].1.clone();

    let (pa, pb) = (a.path("pub-a"), b.path("pub-b"));
    let (code, out, err) = publish(&a, &pa, &ws.at);
    assert_eq!(code, 0, "{err}");
    let size = out["tree_size"].as_u64().unwrap();
    let (code, _, err) = publish(&b, &pb, &ws.at);
    assert_eq!(code, 3, "the witness refuses the second view: {err}");
    assert!(err.contains("witness"), "{err}");
    assert!(!pb.exists(), "nothing was written for B");
    // B published without witnesses: a reader with a quorum refuses it.
    let (code, _, err) = publish(&b, &pb, &[]);
    assert_eq!(code, 0, "{err}");
    let (code, r) = verify(&b, &pb, &log, &[&k1], None);
    assert_eq!(
        (code, r["problem"].as_str()),
        (3, Some("witness_quorum")),
        "{r}"
    );
    assert_eq!(verify(&a, &pa, &log, &[&k1], None).0, 0);

    // Head truncation of A, published again elsewhere: the witness has seen more.
    a.sql(&[
        &format!("DELETE FROM events WHERE sequence >= {size}"),
        "DELETE FROM snapshots",
    ]);
    let (code, _, err) = publish(&a, &a.path("pub-short"), &ws.at);
    assert_eq!(code, 3, "the witness refuses the shorter log: {err}");
    // Truncated and grown back to the same size with another event: another root.
    a.ok(&[
        "--as",
        "bob",
        "milestone",
        "set",
        "M2",
        "not_started",
        "--reason",
        "rewritten",
    ]);
    let (code, _, err) = publish(&a, &a.path("pub-again"), &ws.at);
    assert_eq!(code, 3, "the witness refuses the rewritten head: {err}");
    assert!(!a.path("pub-short").exists() && !a.path("pub-again").exists());

    // The old checkpoint replayed to the witness: 409 with the size it knows.
    let out = waymark::witness::submit(&ws.at[0].0, size - 1, &[], &old_note).unwrap();
    assert_eq!(
        out,
        waymark::witness::Outcome::SizeMismatch { witness_size: size },
        "{out:?}"
    );
}

on_both_backends!(
    publish_with_witnesses_and_read_with_a_quorum,
    unlisted_and_unreachable_witnesses,
    witnesses_refuse_split_views_truncation_and_replays,
);
