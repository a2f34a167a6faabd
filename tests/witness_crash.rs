//! The witness killed with SIGKILL at random moments while clients send it
//! `add-checkpoint` requests, and restarted, many times. The requests race: for
//! several logs at once, clients push checkpoints of two ledgers that share a prefix
//! and then diverge (a split view: the same origin and log key, another history), at
//! random sizes, from the size the witness last told them or from a stale one.
//!
//! Afterwards: no two 200 answers ever carried two roots for one size of one log;
//! the state file holds none either, every cosignature a client received is in it
//! (it was durable before it was returned), a log's size never went backwards from
//! one restart to the next nor within the append-only table, and
//! `PRAGMA integrity_check` is ok.
//!
//! CI runs the short form (`WAYMARK_WITNESS_KILLS`, default 30 kills); the long
//! form is `WAYMARK_WITNESS_KILLS=300 cargo test --release --test witness_crash --
//! --nocapture` (`.ci/long`). The ledgers are on SQLite here: the witness sees only
//! their checkpoints (tests/witness.rs runs the witness against both backends).

#[macro_use]
mod common;
use common::witness::*;
use common::*;
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use waymark::witness::{Client, Outcome};
use waymark_events::*;

const ORIGINS: usize = 4;
/// Events every ledger has before the fork: init (5), bob (6), two status changes.
const SHARED: u64 = 8;
/// Events each branch adds after the fork.
const AFTER: u64 = 12;
const N: u64 = SHARED + AFTER;

fn kills() -> usize {
    std::env::var("WAYMARK_WITNESS_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
}

/// `count` status changes of E1 by bob, from `from`, with reasons that differ by
/// `tag` (so that two ledgers given different tags diverge).
fn toggles(tag: &str, mut from: &'static str, count: u64) -> String {
    let mut out = String::new();
    for i in 0..count {
        let to = if from == "in_progress" {
            "achieved"
        } else {
            "in_progress"
        };
        out.push_str(&format!(
            r#"{{"as":"bob","type":"MilestoneStatusChanged","payload":{{"id":"E1","from":"{from}","to":"{to}","reason":"{tag} step {i}","evidence":["https://example.org/{tag}/{i}"]}}}}"#
        ));
        out.push('\n');
        from = to;
    }
    out
}

fn apply(env: &Env, ledger: &str, lines: &str) {
    let f = env.path(&format!("{ledger}-{}.jsonl", rand::random::<u32>()));
    std::fs::write(&f, lines).unwrap();
    env.ok(&["--ledger", ledger, "apply", f.to_str().unwrap()]);
}

/// One ledger's checkpoints at every size (index = size) and its leaves.
struct Branch {
    notes: Vec<String>,
    leaves: Vec<Hash>,
}

impl Branch {
    fn proof(&self, old: u64, new: u64) -> Vec<Hash> {
        if old == 0 || old == new {
            return Vec::new();
        }
        consistency_proof(old, new, |i| self.leaves[i as usize]).unwrap()
    }
    fn root(&self, size: u64) -> Hash {
        root(&self.leaves[..size as usize])
    }
}

fn branch(env: &Env, ledger: &str) -> Branch {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = waymark::Db::connect(&env.url).await.unwrap();
        let w = waymark::Waymark::new(db.clone(), waymark::system_clock());
        let ks = waymark::KeyStore::new(env.keys());
        let key = ks.load(&ks.log_path(ledger)).unwrap();
        let leaves: Vec<Hash> = w
            .events(ledger)
            .await
            .unwrap()
            .iter()
            .map(|(_, h)| *h)
            .collect();
        assert_eq!(leaves.len() as u64, N);
        let mut notes = vec![String::new()];
        for size in 1..=N {
            notes.push(w.checkpoint(ledger, Some(size), &key).await.unwrap().1);
        }
        db.close().await;
        Branch { notes, leaves }
    })
}

/// What the clients saw.
#[derive(Default)]
struct Seen {
    /// Every 200: (origin index, size, root, cosignature line).
    cosigned: Mutex<Vec<(usize, u64, Hash, String)>>,
    size_mismatch: AtomicUsize,
    refused_root: AtomicUsize,
    refused_proof: AtomicUsize,
    unreachable: AtomicUsize,
    requests: AtomicUsize,
}

/// One client: random requests for the first `active` logs until `stop`.
fn client(
    active: usize,
    base: String,
    logs: Arc<Vec<[Branch; 2]>>,
    hints: Arc<Vec<AtomicU64>>,
    wkey: CosignerKey,
    seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
) {
    let c = Client::new(Duration::from_secs(5));
    let mut rng = rand::thread_rng();
    while !stop.load(Ordering::Acquire) {
        let o = rng.gen_range(0..active);
        let b = &logs[o][rng.gen_range(0..2)];
        let known = hints[o].load(Ordering::Acquire);
        let (old, size) = match rng.gen_range(0..100) {
            0..=69 => (known, rng.gen_range(known.max(1)..=N)),
            70..=84 => (rng.gen_range(0..=known), rng.gen_range(known.max(1)..=N)),
            _ => (known, known.max(1)),
        };
        let note = &b.notes[size as usize];
        seen.requests.fetch_add(1, Ordering::Relaxed);
        match c.submit(&base, old, &b.proof(old, size), note) {
            Ok(Outcome::Cosigned(lines)) => {
                let cosigned = add_signature_lines(note, &lines).unwrap();
                let checks = check_cosignatures(&cosigned, std::slice::from_ref(&wkey)).unwrap();
                assert!(
                    matches!(checks[..], [CosignatureCheck::Valid { .. }]),
                    "{checks:?}"
                );
                hints[o].fetch_max(size, Ordering::AcqRel);
                seen.cosigned
                    .lock()
                    .unwrap()
                    .push((o, size, b.root(size), lines));
            }
            Ok(Outcome::SizeMismatch { witness_size }) => {
                hints[o].store(witness_size, Ordering::Release);
                seen.size_mismatch.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Outcome::Refused { status: 409, .. }) => {
                seen.refused_root.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Outcome::Refused { status: 422, .. }) => {
                seen.refused_proof.fetch_add(1, Ordering::Relaxed);
            }
            Ok(other) => panic!("old {old} size {size}: {other:?}"),
            Err(_) => {
                seen.unreachable.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// The state file as SQL sees it (not through the witness's code).
fn query<T: Send + Unpin + 'static>(
    db: &std::path::Path,
    sql: &str,
    row: fn(&sqlx::sqlite::SqliteRow) -> T,
) -> Vec<T> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows.iter().map(row).collect()
    })
}

#[test]
fn a_witness_killed_mid_request_never_cosigns_two_roots_for_one_size() {
    use sqlx::Row;
    let a = Env::new(Kind::Sqlite);
    let fw = a.framework();
    for i in 0..ORIGINS {
        let l = format!("l{i}");
        let origin = format!("example.org/l{i}");
        a.ok(&[
            "--ledger",
            &l,
            "init",
            "--framework",
            fw.to_str().unwrap(),
            "--founder",
            "alice",
            "--origin",
            &origin,
        ]);
        a.ok(&[
            "--ledger", &l, "actor", "add", "bob", "--name", "Bob", "--role", "reporter",
        ]);
        apply(&a, &l, &toggles("shared", "not_started", 2));
    }
    let b = a.fork();
    for i in 0..ORIGINS {
        let l = format!("l{i}");
        apply(&a, &l, &toggles("a", "achieved", AFTER));
        apply(&b, &l, &toggles("b", "achieved", AFTER));
    }
    let logs: Arc<Vec<[Branch; 2]>> = Arc::new(
        (0..ORIGINS)
            .map(|i| {
                let l = format!("l{i}");
                let pair = [branch(&a, &l), branch(&b, &l)];
                assert_eq!(pair[0].root(SHARED), pair[1].root(SHARED));
                assert_ne!(pair[0].root(SHARED + 1), pair[1].root(SHARED + 1));
                pair
            })
            .collect(),
    );

    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("w");
    let wkey = parse_cosigner_key(&witness_init(&dir, "witness.example/crash")).unwrap();
    for i in 0..ORIGINS {
        witness_ok(&dir, &["add-log", &log_vkey(&a, &format!("l{i}"))]);
    }
    let db = dir.join("witness.db");
    let hints: Arc<Vec<AtomicU64>> = Arc::new((0..ORIGINS).map(|_| AtomicU64::new(0)).collect());
    let seen = Arc::new(Seen::default());
    let mut last_sizes: BTreeMap<String, i64> = BTreeMap::new();
    let mut rng = rand::thread_rng();
    let rounds = kills();
    for round in 0..rounds {
        // The logs join one by one over the run, so that the race between the two
        // histories of a log, where they part, happens at several points of it.
        let active = 1 + round * ORIGINS / rounds;
        let mut w = WitnessProc::start(&dir);
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..4)
            .map(|_| {
                let (base, logs, hints) = (w.base.clone(), logs.clone(), hints.clone());
                let (wkey, seen, stop) = (wkey.clone(), seen.clone(), stop.clone());
                std::thread::spawn(move || client(active, base, logs, hints, wkey, seen, stop))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..250)));
        w.kill();
        stop.store(true, Ordering::Release);
        for c in clients {
            c.join().unwrap();
        }
        // After each kill: no log's stored size went back.
        for (origin, size) in query(&db, "SELECT origin, size FROM logs", |r| {
            (r.get::<String, _>(0), r.get::<i64, _>(1))
        }) {
            let before = last_sizes.insert(origin.clone(), size).unwrap_or(0);
            assert!(
                size >= before,
                "{origin}: stored size went from {before} to {size}"
            );
        }
    }

    // What the clients were told: one root per size of each log.
    let cosigned = seen.cosigned.lock().unwrap();
    let mut roots: BTreeMap<(usize, u64), BTreeSet<Hash>> = BTreeMap::new();
    for (o, size, root, _) in cosigned.iter() {
        roots.entry((*o, *size)).or_default().insert(*root);
    }
    for ((o, size), set) in &roots {
        assert_eq!(
            set.len(),
            1,
            "log l{o} size {size}: {} roots returned",
            set.len()
        );
    }
    // What the state file holds: one root per size, sizes and times never going
    // back in the order rows were appended, the head being the last row, and every
    // cosignature a client received.
    let rows = query(
        &db,
        "SELECT origin, size, root, cosignature, cosigned_at FROM cosigned ORDER BY id",
        |r| {
            (
                r.get::<String, _>(0),
                r.get::<i64, _>(1),
                r.get::<Vec<u8>, _>(2),
                r.get::<String, _>(3),
                r.get::<i64, _>(4),
            )
        },
    );
    let mut stored: BTreeMap<(String, i64), BTreeSet<Vec<u8>>> = BTreeMap::new();
    let mut last: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for (origin, size, root, _, at) in &rows {
        stored
            .entry((origin.clone(), *size))
            .or_default()
            .insert(root.clone());
        if let Some((s, t)) = last.insert(origin, (*size, *at)) {
            assert!(
                *size >= s && *at >= t,
                "{origin}: ({s}, {t}) then ({size}, {at})"
            );
        }
    }
    assert!(
        stored.values().all(|r| r.len() == 1),
        "two roots stored for one size"
    );
    let lines: BTreeSet<(String, i64, &str)> = rows
        .iter()
        .map(|(o, s, _, c, _)| (o.clone(), *s, c.as_str()))
        .collect();
    for (o, size, _, line) in cosigned.iter() {
        let key = (format!("example.org/l{o}"), *size as i64, line.as_str());
        assert!(
            lines.contains(&key),
            "a cosignature returned but not stored: {key:?}"
        );
    }
    for (origin, size) in &last_sizes {
        assert_eq!(
            last.get(origin.as_str()).map(|l| l.0).unwrap_or(0),
            *size,
            "{origin}'s head"
        );
    }
    let check = query(&db, "PRAGMA integrity_check", |r| r.get::<String, _>(0));
    assert_eq!(check, ["ok"]);
    assert!(query(&db, "PRAGMA foreign_key_check", |r| r.get::<String, _>(0)).is_empty());

    // The race was run: cosignatures given, split views refused, clients behind.
    let (n200, n409, n422) = (
        cosigned.len(),
        seen.refused_root.load(Ordering::Relaxed),
        seen.refused_proof.load(Ordering::Relaxed),
    );
    let mismatch = seen.size_mismatch.load(Ordering::Relaxed);
    eprintln!(
        "witness crash test: {rounds} SIGKILLs, {} requests: {n200} cosigned ({} rows: {} \
         committed and killed before the answer left), {mismatch} 409 over sizes, {n409} \
         409 over roots, {n422} 422, {} unreachable",
        seen.requests.load(Ordering::Relaxed),
        rows.len(),
        rows.len() - n200,
        seen.unreachable.load(Ordering::Relaxed),
    );
    assert!(rounds >= 30 || std::env::var("WAYMARK_WITNESS_KILLS").is_ok());
    assert!(n200 >= rounds && mismatch > 0 && n409 + n422 > 0);
    let status = witness_ok(&dir, &["status"]);
    for (origin, size) in &last_sizes {
        assert!(
            *size == 0 || status.contains(&format!("log {origin}  size {size} ")),
            "{status}"
        );
    }
}
