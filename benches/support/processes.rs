//! Figures that run separate processes (issue 17, goals 1 and 3), included by
//! `ledger.rs`:
//!
//! - (h) the CLI as its users run it: one `waymark milestone set` process, start to
//!   exit, on the bench's ledger (goal 3: p50 ≤ 30 ms on PostgreSQL at 1M events), and
//!   `waymark apply` of a 100,000-line file whose line 1 is refused (≤ 0.2 s);
//! - (i) writer processes: one process recording single statements through the
//!   library, then eight at once on the same ledger, in interleaved rounds (goal 1:
//!   eight reach ≥ 0.8× one's rate).
//!
//! A writer is this bench executable run again with `WAYMARK_BENCH_WRITER` set.

use super::*;

/// The `waymark` executable cargo built beside this bench.
pub(crate) fn waymark_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_waymark"))
}

/// A key store holding the bench founder's key as actor `founder`.
pub(crate) fn founder_keys(dir: &Path, founder: &SigningKey) -> PathBuf {
    let keys = dir.join("keys");
    let ks = waymark::KeyStore::new(&keys);
    if !ks.actor_path("founder").exists() {
        ks.write_new(&ks.actor_path("founder"), founder)
            .expect("write the founder's key");
    }
    keys
}

/// Runs `waymark --db URL --keys KEYS --as founder --ledger bench ARGS…`, timing the
/// process from spawn to exit; panics when it fails.
fn cli(url: &str, keys: &Path, args: &[&str]) -> f64 {
    let t = Instant::now();
    let out = std::process::Command::new(waymark_bin())
        .args(["--db", url, "--keys"])
        .arg(keys)
        .args(["--as", "founder", "--ledger", LEDGER])
        .args(args)
        .output()
        .expect("spawn waymark");
    let ms = t.elapsed().as_secs_f64() * 1e3;
    assert!(
        out.status.success(),
        "waymark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ms
}

/// (h) The CLI, process start to exit: `milestone set` toggling a milestone of its
/// own, and `apply` of a 100k-line file refused at line 1. `backend` names the rows.
/// Returns the number of events it recorded.
pub(crate) fn cli_figures(
    url: &str,
    dir: &Path,
    founder: &SigningKey,
    backend: &str,
    head: u64,
    o: &Opts,
    res: &mut Results,
) -> u64 {
    let keys = founder_keys(dir, founder);
    let id = format!("cli-{}", rand::random::<u32>());
    cli(
        url,
        &keys,
        &[
            "milestone",
            "define",
            &id,
            "--title",
            "CLI bench",
            "--layer",
            "tech",
            "--phase",
            "A",
        ],
    );
    let n = if o.quick { 20 } else { 50 };
    let mut ms = Vec::with_capacity(n);
    for k in 0..n {
        let to = ["in_progress", "not_started"][k % 2];
        let reason = format!("cli bench {k}");
        ms.push(cli(
            url,
            &keys,
            &["milestone", "set", &id, to, "--reason", &reason],
        ));
    }
    let (m, p95) = med_p95(ms);
    let goal = if backend == "pg" { Some(30.0) } else { None };
    res.add(
        &format!("h_cli_write_{backend}"),
        &format!(
            "one `waymark milestone set` process, start to exit, {} ledger at ~{head} events ({n} runs)",
            if backend == "pg" { "PostgreSQL" } else { "SQLite" }
        ),
        format!("median {m:.1} ms, p95 {p95:.1} ms"),
        if goal.is_some() { "p50 <= 30 ms" } else { "(reference)" },
        goal.map(|g| m / g),
        goal.map(|g| m <= g),
        json!({"median_ms": m, "p95_ms": p95, "runs": n, "ledger_size": head}),
    );

    // A 100k-line file whose first line names an unknown milestone; the others are
    // valid status changes of this bench's milestone.
    let file = dir.join(format!("apply-bad-{backend}.jsonl"));
    let mut text = String::with_capacity(100_000 * 260);
    text += r#"{"as":"founder","type":"MilestoneStatusChanged","payload":{"id":"no-such-milestone","from":"not_started","to":"in_progress","reason":"line 1 is refused","evidence":[]}}"#;
    text.push('\n');
    for k in 1..100_000 {
        let (from, to) = if k % 2 == 1 {
            ("not_started", "in_progress")
        } else {
            ("in_progress", "not_started")
        };
        text += &format!(
            "{{\"as\":\"founder\",\"type\":\"MilestoneStatusChanged\",\"payload\":{{\"id\":\"{id}\",\"from\":\"{from}\",\"to\":\"{to}\",\"reason\":\"update {k}: the working group reported progress on this milestone at the weekly call\",\"evidence\":[\"https://gov.example.org/t/{id}/{k}\"]}}}}\n"
        );
    }
    std::fs::write(&file, text).expect("write the apply file");
    let runs = if o.quick { 3 } else { 7 };
    let mut secs = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let out = std::process::Command::new(waymark_bin())
            .args(["--db", url, "--keys"])
            .arg(&keys)
            .args(["--as", "founder", "--ledger", LEDGER, "apply"])
            .arg(&file)
            .output()
            .expect("spawn waymark apply");
        secs.push(t.elapsed().as_secs_f64());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "apply: {stderr}");
        assert!(stderr.contains("line 1"), "apply names line 1: {stderr}");
    }
    let _ = std::fs::remove_file(&file);
    let (m, p95) = med_p95(secs);
    res.add(
        &format!("h_apply_bad_line1_{backend}"),
        &format!(
            "`waymark apply` of a 100,000-line file refused at line 1, start to exit ({runs} runs)"
        ),
        format!("median {:.3} s, max {:.3} s", m, p95),
        "<= 0.2 s",
        Some(m / 0.2),
        Some(m <= 0.2),
        json!({"median_s": m, "p95_s": p95, "runs": runs}),
    );
    n as u64 + 1
}

/// The writer side of (i): records `count` single statements toggling milestone `id`
/// (defined already, not started), then waits for its read models; prints
/// `WROTE <count> <secs>`.
pub(crate) fn child_writer(spec: &str) {
    let parts: Vec<&str> = spec.split('|').collect();
    let (url, id, count, tag) = (
        parts[0],
        parts[1],
        parts[2].parse::<usize>().unwrap(),
        parts[3],
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = Db::connect(url).await.expect("writer connect");
        let w = Waymark::new(db, waymark::system_clock());
        let mut g = Gen::new(LEDGER);
        let t = Instant::now();
        for k in 0..count {
            let (from, to) = if k % 2 == 0 {
                ("not_started", "in_progress")
            } else {
                ("in_progress", "not_started")
            };
            let s = g.sign(waymark_events::Payload::MilestoneStatusChanged(
                waymark_events::MilestoneStatusChanged {
                    id: id.into(),
                    from: from.into(),
                    to: to.into(),
                    reason: format!("writer {id} round {tag} statement {k}"),
                    evidence: vec![],
                    effective_on: None,
                },
            ));
            w.record(LEDGER, vec![s]).await.expect("writer record");
        }
        w.settle().await;
        println!("WROTE {count} {}", t.elapsed().as_secs_f64());
    });
}

/// Starts `ids.len()` writer processes at once, each recording `each` statements on
/// its milestone; returns the wall time from the first spawn to the last exit.
fn run_writers(url: &str, ids: &[String], each: usize, tag: &str) -> f64 {
    let t = Instant::now();
    let children: Vec<_> = ids
        .iter()
        .map(|id| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .env("WAYMARK_BENCH_WRITER", format!("{url}|{id}|{each}|{tag}"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn writer")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("WROTE"),
            "writer: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    t.elapsed().as_secs_f64()
}

/// (i) Writer processes on one ledger: one process recording `n` single statements,
/// then eight recording `n / 8` each at once, in interleaved rounds (each round's
/// milestones start not started: every writer toggles an even number of times).
pub(crate) async fn writer_processes(
    w: &Waymark,
    g: &mut Gen,
    head: &mut u64,
    url: &str,
    backend: &str,
    o: &Opts,
    res: &mut Results,
) {
    const WRITERS: usize = 8;
    let n = if o.quick { 400 } else { 1600 };
    let each = n / WRITERS;
    let run = rand::random::<u32>();
    let ids: Vec<String> = (0..=WRITERS).map(|i| format!("w{run}-{i}")).collect();
    let defs = ids
        .iter()
        .map(|id| {
            g.sign(waymark_events::Payload::MilestoneDefined(
                waymark_events::MilestoneDefined {
                    id: id.clone(),
                    title: format!("writer {id}"),
                    layer: "tech".into(),
                    phase: "A".into(),
                    description: String::new(),
                    principles: vec![],
                    depends_on: vec![],
                },
            ))
        })
        .collect::<Vec<_>>();
    *head += defs.len() as u64;
    record_all(w, defs).await;
    w.settle().await;
    let (mut t1, mut t8) = (0.0, 0.0);
    let rounds = 2;
    for r in 0..rounds {
        t1 += run_writers(url, &ids[WRITERS..], n, &format!("1-{r}"));
        t8 += run_writers(url, &ids[..WRITERS], each, &format!("8-{r}"));
    }
    *head += (2 * rounds * n) as u64;
    let (r1, r8) = ((rounds * n) as f64 / t1, (rounds * n) as f64 / t8);
    let ratio = r8 / r1;
    res.add(
        &format!("i_writer_processes_{backend}"),
        &format!(
            "{WRITERS} writer processes vs 1 ({}), single statements through the library, {n} per round, {rounds} interleaved rounds",
            if backend == "pg" { "PostgreSQL" } else { "SQLite" }
        ),
        format!("{r8:.0}/s vs {r1:.0}/s"),
        ">= 0.8x",
        Some(ratio / 0.8),
        Some(ratio >= 0.8),
        json!({"writers": WRITERS, "rate_8": r8, "rate_1": r1, "ratio": ratio, "statements_per_round": n}),
    );
}
