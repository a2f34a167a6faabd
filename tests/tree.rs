//! The Merkle tree kept in the store (SPEC section 6): the same ledger recorded into
//! SQLite and into PostgreSQL yields the same roots, proofs and checkpoint bytes at
//! every size, equal to the tree recomputed from the exported events; proofs verify;
//! and checkpoints, proofs and snapshots made by the CLI open with Go's reference
//! `golang.org/x/mod/sumdb/note` and `sumdb/tlog` (tests/go).

#[macro_use]
mod common;
use common::writer::{Op, Writer};
use common::*;
use ed25519_dalek::SigningKey;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use waymark::{Clock, Db, Waymark};
use waymark_events::*;

/// A fixed history: the same operations, keys and clock on every run.
fn ops() -> Vec<Op> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..90)
        .map(|_| {
            let r = next();
            let b = (r >> 8) as u8;
            match r % 10 {
                0..=2 => Op::Define {
                    layer: b,
                    phase: b / 3,
                    deps: vec![b / 5],
                },
                3..=7 => Op::Set {
                    m: b,
                    to: (r >> 16) as u8 % 3,
                    by_reviewer: r & 1 == 0,
                },
                8 => Op::OpenSeason { focus: vec![b] },
                _ => Op::CloseSeason { assess: vec![b] },
            }
        })
        .collect()
}

fn fixed_clock() -> Clock {
    let t = Arc::new(AtomicI64::new(1_750_000_000_000_000));
    Arc::new(move || t.fetch_add(1_000, Ordering::SeqCst))
}

const LOG_SEED: [u8; 32] = [3; 32];

async fn record(url: &str) -> Waymark {
    let db = Db::connect(url).await.unwrap();
    let w = Waymark::new(db, fixed_clock());
    let mut writer = Writer::new("tree");
    w.record("tree", writer.opening()).await.unwrap();
    for op in ops() {
        let Some(s) = writer.statement(&op) else {
            continue;
        };
        if w.record("tree", vec![s.clone()]).await.is_ok() {
            writer.recorded(&s);
        }
    }
    w
}

/// Everything the tree answers, at every size.
async fn tree_answers(w: &Waymark) -> Vec<String> {
    let log_key = SigningKey::from_bytes(&LOG_SEED);
    let events = w.events("tree").await.unwrap();
    let leaves: Vec<Hash> = events.iter().map(|(_, h)| *h).collect();
    let n = leaves.len() as u64;
    assert!(n > 40, "the fixed history records {n} events");
    let mut out = Vec::new();
    for size in 1..=n {
        let (s, r) = w.root("tree", Some(size)).await.unwrap();
        assert_eq!(
            (s, r),
            (size, root(&leaves[..size as usize])),
            "root at {size}"
        );
        let (cp, note) = w.checkpoint("tree", Some(size), &log_key).await.unwrap();
        assert_eq!(cp.root, r);
        let key = parse_verifier_key(&verifier_key("waymark.test/tree", &log_key.verifying_key()))
            .unwrap();
        assert_eq!(open_checkpoint(&note, &key).unwrap(), cp);
        out.push(note);
        for seq in [1, size / 2 + 1, size] {
            let p = w.prove_inclusion("tree", seq, Some(size)).await.unwrap();
            assert_eq!(p.leaf_hash, leaves[seq as usize - 1]);
            verify_inclusion(seq - 1, size, &p.leaf_hash, &p.path, &r).unwrap();
            out.push(String::from_utf8(p.to_bytes()).unwrap());
        }
        for old in [1, size / 3 + 1, size] {
            let p = w.prove_consistency("tree", old, size).await.unwrap();
            let old_root = root(&leaves[..old as usize]);
            verify_consistency(old, size, &old_root, &r, &p.path).unwrap();
            out.push(String::from_utf8(p.to_bytes()).unwrap());
        }
    }
    // The head's root (from the frontier in the snapshot) is the last size's root.
    assert_eq!(w.root("tree", None).await.unwrap(), (n, root(&leaves)));
    out
}

#[test]
fn sqlite_and_postgres_yield_the_same_roots_proofs_and_checkpoints() {
    let (lite, pg) = (Env::new(Kind::Sqlite), Env::new(Kind::Postgres));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let a = record(&lite.url).await;
        let b = record(&pg.url).await;
        assert_eq!(
            a.export("tree", None).await.unwrap(),
            b.export("tree", None).await.unwrap()
        );
        let (x, y) = (tree_answers(&a).await, tree_answers(&b).await);
        assert_eq!(x.len(), y.len());
        assert!(x == y, "the backends disagree");
    });
}

/// Runs tests/go/run.sh (Go's sumdb/note and sumdb/tlog) and expects `ok`.
#[track_caller]
fn go(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/go/run.sh");
    let out = std::process::Command::new("sh")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "go {args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn cli_artifacts_open_with_go_reference_code(kind: Kind) {
    if !needs("Go with golang.org/x/mod", have_go(), GO_INSTALL) {
        return;
    }
    let env = Env::new(kind);
    env.history();
    let dir = env.dir.path();
    let save = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let log = save("log.jsonl", &env.export());
    let first: serde_json::Value = serde_json::from_str(
        std::str::from_utf8(&env.export())
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let vkey = first["statement"]["payload"]["log_key"]
        .as_str()
        .or(first["payload"]["log_key"].as_str())
        .unwrap()
        .to_string();
    let cp15 = save("cp15.txt", env.ok(&["checkpoint"]).as_bytes());
    let cp9 = save("cp9.txt", env.ok(&["checkpoint", "--size", "9"]).as_bytes());
    let inc = save(
        "inc.json",
        env.ok(&["prove", "inclusion", "4", "--size", "9"])
            .as_bytes(),
    );
    let con = save(
        "con.json",
        env.ok(&["prove", "consistency", "9", "15"]).as_bytes(),
    );
    env.ok(&["snapshot", "--out", dir.join("snap.json").to_str().unwrap()]);
    let snap = dir.join("snap.json").to_str().unwrap().to_string();
    go(&["note", &cp15, &vkey]);
    go(&["inclusion", &inc, &cp9, &vkey]);
    go(&["consistency", &con, &cp9, &cp15, &vkey]);
    go(&["export", &log, &cp15, &vkey]);
    go(&["snapshot", &snap, &log, &vkey]);

    // The snapshot's status is what the independent SPEC verifier recomputes.
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&snap).unwrap()).unwrap();
    let status = save("status.json", bundle["status"].to_string().as_bytes());
    let out = std::process::Command::new("python3")
        .arg(python_verifier())
        .arg(&log)
        .args([
            "--status-at",
            "15",
            "--status",
            &status,
            "--checkpoint",
            &cp15,
            "--key",
            &vkey,
        ])
        .args(["--inclusion", &inc])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("independent verifier: {}", text(&out.stderr)));
    assert_eq!(report["ok"], true, "{report}");
}

on_both_backends!(cli_artifacts_open_with_go_reference_code);
