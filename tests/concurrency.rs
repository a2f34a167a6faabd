//! Concurrent writers: 8 writer processes × 500 statements against one ledger, on
//! PostgreSQL and on SQLite. Every acknowledged statement is recorded exactly once,
//! at the seq it was acknowledged with; nothing else is recorded; the chain never
//! forks and `verify` passes; no writer sees a failure (conflicts are retried inside
//! Waymark). The achieved throughput is printed.
//!
//! Each writer is this test binary run again as a child process (`writer_process`,
//! which does nothing unless `WAYMARK_TEST_WRITER` is set), recording through the
//! library one statement per transaction. `WAYMARK_WRITERS` and
//! `WAYMARK_STATEMENTS` change the shape. CI runs the short form (8 × 100); the long
//! form is `WAYMARK_STATEMENTS=500 cargo test --release --test concurrency -- --nocapture`.

#[macro_use]
mod common;
use common::*;
use std::collections::HashMap;
use std::process::Command;
use std::time::Instant;
use waymark::{Db, KeyStore, Signed, Waymark};
use waymark_events::*;

fn shape() -> (usize, usize) {
    let get = |k: &str, d| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    (get("WAYMARK_WRITERS", 8), get("WAYMARK_STATEMENTS", 100))
}

/// The child side: toggles its own milestone `count` times, printing `ACK seq sig`
/// for each acknowledged statement, and exits non-zero on any failure.
#[test]
fn writer_process() {
    let Ok(spec) = std::env::var("WAYMARK_TEST_WRITER") else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let (url, keys, me, count) = (
        parts[0],
        parts[1],
        parts[2],
        parts[3].parse::<usize>().unwrap(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = Db::connect(url).await.unwrap();
        write(db, keys, me, count).await
    });
}

async fn write(db: Db, keys: &str, me: &str, count: usize) {
    let w = Waymark::new(db, waymark::system_clock());
    let key = KeyStore::new(keys).load_actor("alice").unwrap();
    let statuses = ["not_started", "in_progress"];
    for k in 0..count {
        let payload = Payload::MilestoneStatusChanged(MilestoneStatusChanged {
            id: me.to_string(),
            from: statuses[k % 2].into(),
            to: statuses[(k + 1) % 2].into(),
            reason: format!("toggle {k} by writer {me}"),
            evidence: vec![],
            effective_on: None,
        });
        let at = format_timestamp(chrono::Utc::now().timestamp_micros());
        let statement = Statement::new("test", "alice", &at, payload);
        let signed = Signed {
            sig: sign(&statement, &key),
            statement,
        };
        match w.record("test", vec![signed.clone()]).await {
            Ok(r) => println!("ACK {} {}", r[0].seq, signed.sig),
            Err(e) => {
                println!("ERR statement {k}: {e}");
                std::process::exit(1);
            }
        }
    }
    // Before exiting, the read models of what this writer recorded.
    w.settle().await;
}

fn eight_writers_record_every_acknowledged_statement_exactly_once(kind: Kind) {
    let (writers, statements) = shape();
    let env = Env::new(kind);
    env.init();
    for i in 0..writers {
        env.ok(&[
            "milestone",
            "define",
            &format!("W{i}"),
            "--title",
            "w",
            "--layer",
            "tech",
            "--phase",
            "B",
        ]);
    }
    let base = 7 + writers as u64;
    let started = Instant::now();
    let children: Vec<_> = (0..writers)
        .map(|i| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "writer_process",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env(
                    "WAYMARK_TEST_WRITER",
                    format!("{}|{}|W{i}|{statements}", env.url, env.keys().display()),
                )
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut acked: HashMap<String, u64> = HashMap::new();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "writer {i} failed:\n{stdout}\n{}",
            text(&out.stderr)
        );
        // The test harness may print its own words before the first line.
        for line in stdout
            .lines()
            .filter_map(|l| l.find("ACK ").map(|i| &l[i..]))
        {
            let mut f = line.split(' ').skip(1);
            let seq: u64 = f.next().unwrap().parse().unwrap();
            assert!(acked.insert(f.next().unwrap().to_string(), seq).is_none());
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let total = writers * statements;
    assert_eq!(acked.len(), total, "every statement acknowledged");
    println!(
        "{kind:?}: {writers} writers × {statements} statements, {total} appends in {secs:.1} s = {:.0} appends/s",
        total as f64 / secs
    );

    let (code, report) = env.verify();
    assert_eq!(
        (code, report["checked"].as_u64()),
        (0, Some(base + total as u64)),
        "{report}"
    );
    // Exactly the acknowledged statements, each once, at the acknowledged seq.
    let export = String::from_utf8(env.export()).unwrap();
    let mut seen = 0;
    for line in export.lines() {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        let seq = e["seq"].as_u64().unwrap();
        if seq <= base {
            continue;
        }
        let sig = e["sig"].as_str().unwrap();
        assert_eq!(
            acked.get(sig),
            Some(&seq),
            "seq {seq} holds a statement acknowledged elsewhere"
        );
        seen += 1;
    }
    assert_eq!(seen, total);
    // The read models followed every writer.
    assert_eq!(env.json(&["rebuild"])["matched"], true);
}

on_both_backends!(eight_writers_record_every_acknowledged_statement_exactly_once);
