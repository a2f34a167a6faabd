//! Waymark benchmarks (issue 6). One command:
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-h6 cargo bench --bench ledger -- [--quick] [--events N] \
//!     [--sqlite-events N] [--singles N] [--rounds R] [--batch B] [--latency-samples N] \
//!     [--only pg|sqlite|ref|sqlite-singles|sqlite-batch|pg-rebuild|sqlite-rebuild|pg-group|pg-writers|pg-singles|dashboard]
//!     [--out PATH]
//! ```
//!
//! Every goal is a ratio (or a rate) measured in the same run, because the machine is
//! shared. Prints a table and writes `$CARGO_TARGET_DIR/bench-results.json` (default
//! `target/bench-results.json`). `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) is the admin URL: a database
//! `waymark_bench_<rand>` is created for the run and dropped at the end.
//!
//! `--only sqlite-singles` / `--only sqlite-batch` run just the small slow paths, for
//! `valgrind --tool=callgrind` (see BENCHMARKS.md); `--only pg-rebuild` / `--only
//! sqlite-rebuild` grow one ledger and measure only (f); `--only dashboard` grows a
//! PostgreSQL ledger to `--events` and a SQLite one to `--sqlite-events` and measures
//! only (j), the dashboard's pages through a `waymark serve` process.
//!
//! The bench's ledgers turn a Season about every tenth of their size (every 100,000
//! events from 1M on; `Gen::with_seasons`): the dashboard's as-of pages need Seasons.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use ed25519_dalek as dalek;
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use waymark::{AsOf, Db, Signed, Waymark};

#[allow(dead_code)]
#[path = "../tests/common/bulk.rs"]
mod bulk;
/// The test suite's history writer (for its framework builder) and its generator of
/// large histories (shared with tests/plans.rs).
#[allow(dead_code)]
#[path = "../tests/common/writer.rs"]
mod writer;
use bulk::Gen;
/// (j) The dashboard's pages through a `waymark serve` process.
#[path = "support/dashboard.rs"]
mod dashboard;
/// Figures that run separate processes: the CLI (h) and writer processes (i).
#[path = "support/processes.rs"]
mod processes;

// ---------------------------------------------------------------- options

#[derive(Debug, Clone)]
struct Opts {
    quick: bool,
    events: u64,
    sqlite_events: u64,
    singles: usize,
    rounds: usize,
    batch: usize,
    latency_samples: usize,
    only: Option<String>,
    out: PathBuf,
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let val = |name: &str, env: &str| -> Option<String> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
            .or_else(|| std::env::var(env).ok())
    };
    let num = |name: &str, env: &str, d: u64| -> u64 {
        val(name, env)
            .and_then(|v| v.replace('_', "").parse().ok())
            .unwrap_or(d)
    };
    let quick = flag("--quick") || std::env::var("WAYMARK_BENCH_QUICK").is_ok();
    let events = num(
        "--events",
        "WAYMARK_BENCH_EVENTS",
        if quick { 5_000 } else { 100_000 },
    );
    let out = val("--out", "WAYMARK_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
                .join("bench-results.json")
        });
    Opts {
        quick,
        events,
        sqlite_events: num("--sqlite-events", "WAYMARK_BENCH_SQLITE_EVENTS", events),
        singles: num(
            "--singles",
            "WAYMARK_BENCH_SINGLES",
            if quick { 100 } else { 200 },
        ) as usize,
        rounds: num("--rounds", "WAYMARK_BENCH_ROUNDS", 4) as usize,
        batch: num("--batch", "WAYMARK_BENCH_BATCH", 1000) as usize,
        latency_samples: num(
            "--latency-samples",
            "WAYMARK_BENCH_LATENCY",
            if quick { 50 } else { 200 },
        ) as usize,
        only: val("--only", "WAYMARK_BENCH_ONLY"),
        out,
    }
}

// ---------------------------------------------------------------- statements

const LEDGER: &str = "bench";

/// Statements between two Season turns in a ledger grown to `events`: about ten
/// Seasons up to 1M events (more than the 8 pages `serve` keeps rendered, so (j)'s
/// "Who decides" pages, one per Season, are all rendered), one per 100,000 events
/// beyond. A turn is 2-4 statements among the batches' status changes.
fn season_every(events: u64) -> u64 {
    (events / 10).clamp(100, 100_000)
}
// ---------------------------------------------------------------- plain postgres-es baseline

#[derive(Debug, Default, Serialize, Deserialize)]
struct Plain {
    n: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Appended {
    blob: String,
}

impl DomainEvent for Appended {
    fn event_type(&self) -> String {
        "Appended".into()
    }
    fn event_version(&self) -> String {
        "1".into()
    }
}

#[derive(Debug)]
struct PlainError;
impl std::fmt::Display for PlainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("plain")
    }
}
impl std::error::Error for PlainError {}

impl Aggregate for Plain {
    const TYPE: &'static str = "plain_bench";
    type Command = String;
    type Event = Appended;
    type Error = PlainError;
    type Services = ();

    async fn handle(
        &mut self,
        blob: String,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), PlainError> {
        sink.write(Appended { blob }, self).await;
        Ok(())
    }

    fn apply(&mut self, _: Appended) {
        self.n += 1;
    }
}

// ---------------------------------------------------------------- helpers

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn med_p95(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (pct(&ms, 0.5), pct(&ms, 0.95))
}

fn note(s: impl AsRef<str>) {
    eprintln!(
        "[bench {:>7.1}s] {}",
        started().elapsed().as_secs_f64(),
        s.as_ref()
    );
}

fn started() -> &'static Instant {
    static T: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    T.get_or_init(Instant::now)
}

struct Row {
    key: String,
    what: String,
    value: String,
    goal: String,
    ratio: Option<f64>,
    met: Option<bool>,
    raw: Value,
}

#[derive(Default)]
struct Results {
    rows: Vec<Row>,
}

impl Results {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        key: &str,
        what: &str,
        value: String,
        goal: &str,
        ratio: Option<f64>,
        met: Option<bool>,
        raw: Value,
    ) {
        eprintln!("  -> {key}: {what} = {value} (goal {goal})");
        self.rows.push(Row {
            key: key.into(),
            what: what.into(),
            value,
            goal: goal.into(),
            ratio,
            met,
            raw,
        });
    }
}

// ---------------------------------------------------------------- Waymark runs

async fn record_all(w: &Waymark, stmts: Vec<Signed>) -> Duration {
    let t = Instant::now();
    w.record(LEDGER, stmts).await.expect("record");
    t.elapsed()
}

/// Grows the ledger with `batch`-statement `record` calls until it holds `to` events;
/// returns (statements, time spent in `record`).
async fn grow(
    w: &Waymark,
    g: &mut Gen,
    head: &mut u64,
    to: u64,
    batch: usize,
    label: &str,
) -> (usize, Duration) {
    let mut total = Duration::ZERO;
    let mut n = 0;
    let mut last_note = Instant::now();
    while *head < to {
        let stmts = g.batch(((to - *head) as usize).min(batch));
        // A Season turn may make the batch a few statements longer.
        let k = stmts.len();
        total += record_all(w, stmts).await;
        *head += k as u64;
        n += k;
        if last_note.elapsed() > Duration::from_secs(10) {
            note(format!(
                "{label}: {head} events, {:.0} statements/s",
                rate(n, total)
            ));
            last_note = Instant::now();
        }
    }
    // `record` returns before the read models are updated (they follow in the
    // background, overlapping the next call's I/O): the time to finish them counts.
    let t = Instant::now();
    w.settle().await;
    total += t.elapsed();
    (n, total)
}

/// Single appends, one statement per `record`; returns per-call latencies (ms).
async fn singles(w: &Waymark, g: &mut Gen, head: &mut u64, n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let s = g.next();
        let t = Instant::now();
        w.record(LEDGER, vec![s]).await.expect("single record");
        out.push(t.elapsed().as_secs_f64() * 1e3);
        *head += 1;
    }
    // The read models of the last append are still being written: charge the wait
    // for them to the last sample, so the run's total includes all of the work.
    let t = Instant::now();
    w.settle().await;
    if let Some(last) = out.last_mut() {
        *last += t.elapsed().as_secs_f64() * 1e3;
    }
    out
}

async fn plain_singles(
    cqrs: &postgres_es::PostgresCqrs<Plain>,
    blob: &str,
    n: usize,
    tag: &str,
) -> Vec<f64> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("plain-{tag}-{i}-{}", rand::random::<u32>());
        let t = Instant::now();
        cqrs.execute(&id, blob.to_string())
            .await
            .expect("plain execute");
        out.push(t.elapsed().as_secs_f64() * 1e3);
    }
    out
}

/// Interleaved rounds of plain postgres-es and Waymark single appends at the current
/// size: (waymark appends/s, plain appends/s, waymark latencies, plain latencies).
async fn single_rounds(
    w: &Waymark,
    cqrs: &postgres_es::PostgresCqrs<Plain>,
    blob: &str,
    g: &mut Gen,
    head: &mut u64,
    o: &Opts,
    tag: &str,
) -> (f64, f64, Vec<f64>, Vec<f64>) {
    let per = (o.singles / o.rounds).max(1);
    let (mut wl, mut pl) = (Vec::new(), Vec::new());
    // Warm-up, untimed.
    plain_singles(cqrs, blob, 5, &format!("{tag}w")).await;
    singles(w, g, head, 5).await;
    for r in 0..o.rounds {
        pl.extend(plain_singles(cqrs, blob, per, &format!("{tag}{r}")).await);
        wl.extend(singles(w, g, head, per).await);
    }
    let ws: f64 = wl.iter().sum::<f64>() / 1e3;
    let ps: f64 = pl.iter().sum::<f64>() / 1e3;
    (wl.len() as f64 / ws, pl.len() as f64 / ps, wl, pl)
}

async fn create_pg() -> (String, String) {
    let admin = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("waymark_bench_{}", rand::random::<u32>());
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("PostgreSQL at DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .expect("create database");
    pool.close().await;
    let url = format!("{}/{name}", &admin[..admin.rfind('/').unwrap()]);
    (url, name)
}

async fn drop_pg(name: &str) {
    let admin = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
        let r = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&pool)
            .await;
        if let Err(e) = r {
            eprintln!("could not drop {name}: {e}");
        }
        pool.close().await;
    }
}

fn pg_pool(db: &Db) -> sqlx::PgPool {
    match db {
        Db::Postgres(p) => p.clone(),
        Db::Sqlite(_) => unreachable!(),
    }
}

fn export_event_size(export: &[u8]) -> usize {
    // The last line is a MilestoneStatusChanged event.
    let text = std::str::from_utf8(export).unwrap();
    text.lines().last().unwrap().len()
}

/// A ledger for one `--only` mode: a fresh PostgreSQL database (dropped by `close`) or
/// SQLite file, opened and grown with batches.
struct Grown {
    url: String,
    /// The PostgreSQL database made for it.
    pg_name: Option<String>,
    db: Db,
    w: Waymark,
    g: Gen,
    head: u64,
}

/// Opens the bench's ledger in a new PostgreSQL database (`pg`) or SQLite file in
/// `dir` and grows it to `to` events, its Seasons spread over `seasons_over` events.
async fn grown(pg: bool, dir: &Path, to: u64, seasons_over: u64, o: &Opts) -> Grown {
    let (url, pg_name) = if pg {
        let (url, name) = create_pg().await;
        note(format!("PostgreSQL database {name}"));
        (url, Some(name))
    } else {
        (format!("sqlite://{}", dir.join("only.db").display()), None)
    };
    let db = Db::connect(&url).await.expect("connect");
    let w = Waymark::new(db.clone(), waymark::system_clock());
    let mut g = Gen::new(LEDGER).with_seasons(season_every(seasons_over));
    let opening = g.opening();
    let mut head = opening.len() as u64;
    record_all(&w, opening).await;
    let (n, d) = grow(&w, &mut g, &mut head, to, o.batch, "grow").await;
    note(format!(
        "grew to {head} events: {:.0} statements/s",
        rate(n, d)
    ));
    Grown {
        url,
        pg_name,
        db,
        w,
        g,
        head,
    }
}

impl Grown {
    /// Waits for the read models, closes the store and drops its PostgreSQL database.
    async fn close(self) {
        self.w.settle().await;
        self.db.close().await;
        if let Some(name) = &self.pg_name {
            drop_pg(name).await;
        }
    }
}

async fn run_pg(o: &Opts, res: &mut Results, export_to: &Path) -> Option<u64> {
    let (url, name) = create_pg().await;
    note(format!("PostgreSQL database {name}"));
    let out = run_pg_inner(o, res, &url, export_to).await;
    drop_pg(&name).await;
    note(format!("dropped {name}"));
    out
}

async fn run_pg_inner(o: &Opts, res: &mut Results, url: &str, export_to: &Path) -> Option<u64> {
    let db = Db::connect(url).await.expect("connect");
    let w = Waymark::new(db.clone(), waymark::system_clock());
    let mut g = Gen::new(LEDGER).with_seasons(season_every(o.events));
    let mut head = 0u64;
    let opening = g.opening();
    head += opening.len() as u64;
    record_all(&w, opening).await;
    grow(&w, &mut g, &mut head, 1_000, o.batch, "pg").await;

    // Event size, for the baseline's events.
    let export = w.export(LEDGER, None).await.expect("export");
    let size = export_event_size(&export);
    let blob = "x".repeat(size.saturating_sub(r#"{"blob":""}"#.len()));
    let plain_size = serde_json::to_string(&Appended { blob: blob.clone() })
        .unwrap()
        .len();
    note(format!(
        "MilestoneStatusChanged event: {size} bytes (export line); baseline event: {plain_size} bytes"
    ));
    let cqrs = postgres_es::postgres_cqrs::<Plain>(pg_pool(&db), vec![], ());

    // (a) and (b) at ~1k.
    let at_small = head;
    let (w1, p1, wl1, pl1) = single_rounds(&w, &cqrs, &blob, &mut g, &mut head, o, "s").await;
    let (wm, wp) = med_p95(wl1.clone());
    let (pm, pp) = med_p95(pl1.clone());
    note(format!(
        "singles at {at_small}: waymark {w1:.0}/s (median {wm:.2} ms, p95 {wp:.2}), plain postgres-es {p1:.0}/s (median {pm:.2} ms, p95 {pp:.2})"
    ));
    res.add(
        "a_single_append_pg",
        &format!("single append, PostgreSQL, ledger at ~{at_small} (Waymark::record vs plain postgres-es, {} each, {} interleaved rounds)", wl1.len(), o.rounds),
        format!("{w1:.0}/s vs {p1:.0}/s (median {wm:.2} vs {pm:.2} ms)"),
        ">= 1.0x",
        Some(w1 / p1),
        Some(w1 / p1 >= 1.0),
        json!({"waymark_per_s": w1, "plain_per_s": p1, "waymark_median_ms": wm, "waymark_p95_ms": wp,
               "plain_median_ms": pm, "plain_p95_ms": pp, "ledger_size": at_small,
               "event_bytes": size, "plain_event_bytes": plain_size}),
    );

    // (c) PostgreSQL: grow to N with batches.
    let target = o.events.max(head + 1);
    let from = head;
    let (n, t) = grow(&w, &mut g, &mut head, target, o.batch, "pg").await;
    let c_pg = rate(n, t);
    note(format!("grew {from} -> {head}: {c_pg:.0} statements/s"));
    res.add(
        "c_batch_pg",
        &format!("batch apply, PostgreSQL, {}-statement record() calls, {from}->{head}", o.batch),
        format!("{c_pg:.0} statements/s"),
        ">= 20000/s",
        Some(c_pg / 20_000.0),
        Some(c_pg >= 20_000.0),
        json!({"statements_per_s": c_pg, "statements": n, "secs": t.as_secs_f64(), "from": from, "to": head}),
    );

    // (b) at N.
    let at_big = head;
    let (w2, p2, wl2, _) = single_rounds(&w, &cqrs, &blob, &mut g, &mut head, o, "b").await;
    let (wm2, wp2) = med_p95(wl2);
    note(format!(
        "singles at {at_big}: waymark {w2:.0}/s (median {wm2:.2} ms), plain {p2:.0}/s"
    ));
    res.add(
        "a_single_append_pg_at_n",
        &format!("single append, PostgreSQL, ledger at ~{at_big} (vs plain postgres-es, same run)"),
        format!("{w2:.0}/s vs {p2:.0}/s (median {wm2:.2} ms)"),
        ">= 1.0x",
        Some(w2 / p2),
        Some(w2 / p2 >= 1.0),
        json!({"waymark_per_s": w2, "plain_per_s": p2, "waymark_median_ms": wm2, "waymark_p95_ms": wp2, "ledger_size": at_big}),
    );
    // (b) by the same rule as (a) and (a'): each rate is divided by the baseline's
    // rate measured in the same interleaved rounds, so the machine's drift between
    // the two points (the baseline moved 1.37x in one run) cancels out.
    let raw_b = w2 / w1;
    let drift = p2 / p1;
    let b = raw_b / drift;
    res.add(
        "b_append_rate_n_vs_1k",
        &format!("single-append rate at {at_big} vs at {at_small} (same ledger, PostgreSQL), corrected for the baseline's drift: (a') / (a)"),
        format!("{w2:.0}/s vs {w1:.0}/s, raw {raw_b:.2}x, plain postgres-es drifted {drift:.2}x"),
        ">= 0.9x",
        Some(b),
        Some(b >= 0.9),
        json!({"rate_at_n": w2, "rate_at_1k": w1, "n": at_big, "small": at_small, "plain_drift": drift, "raw": raw_b, "corrected": b}),
    );

    // (e) latencies at the head.
    let k = o.latency_samples;
    let lat = |v: Vec<f64>| med_p95(v);
    let mut v = Vec::new();
    w.status(LEDGER, None).await.expect("status");
    for _ in 0..k {
        let t = Instant::now();
        std::hint::black_box(w.status(LEDGER, None).await.expect("status"));
        v.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (m, p) = lat(v);
    res.add(
        "e_status_head",
        &format!("status at the head, {head} events, {k} samples"),
        format!("median {m:.2} ms, p95 {p:.2} ms"),
        "<= 5 ms",
        Some(p / 5.0),
        Some(p <= 5.0),
        json!({"median_ms": m, "p95_ms": p, "samples": k, "ledger_size": head}),
    );
    let mut v = Vec::new();
    let ka = (k / 4).max(10);
    for _ in 0..ka {
        let s = 1 + rand::random::<u64>() % head;
        let t = Instant::now();
        std::hint::black_box(
            w.status(LEDGER, Some(&AsOf::Seq(s)))
                .await
                .expect("status as-of"),
        );
        v.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (m, p) = lat(v);
    res.add(
        "e_status_as_of",
        &format!("status as-of a random seq, {head} events, {ka} samples"),
        format!("median {m:.2} ms, p95 {p:.2} ms"),
        "<= 200 ms",
        Some(p / 200.0),
        Some(p <= 200.0),
        json!({"median_ms": m, "p95_ms": p, "samples": ka, "ledger_size": head}),
    );
    let mut v = Vec::new();
    for _ in 0..k {
        let s = 1 + rand::random::<u64>() % head;
        let t = Instant::now();
        std::hint::black_box(w.prove_inclusion(LEDGER, s, None).await.expect("prove"));
        v.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (m, p) = lat(v);
    res.add(
        "e_inclusion_proof",
        &format!("inclusion proof of a random seq at size {head}, {k} samples"),
        format!("median {m:.2} ms, p95 {p:.2} ms"),
        "<= 10 ms",
        Some(p / 10.0),
        Some(p <= 10.0),
        json!({"median_ms": m, "p95_ms": p, "samples": k, "ledger_size": head}),
    );

    // (j) the dashboard's pages, through a `waymark serve` process.
    w.settle().await;
    dashboard::dashboard_figures(url, &g, "pg", o, res);

    // (g) group commit through `serve`.
    group_commit(url, &mut g, &mut head, o, res);

    // (i) writer processes through the library, (h) the CLI's processes.
    processes::writer_processes(&w, &mut g, &mut head, url, "pg", o, res).await;
    w.settle().await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    head += processes::cli_figures(url, scratch.path(), g.founder(), "pg", head, o, res);

    // (f) rebuild, from empty read models and then of intact ones.
    rebuild_figures(&db, &w, "pg", "PostgreSQL", res).await;

    // Export for (d).
    note("export");
    let t = Instant::now();
    let export = w.export(LEDGER, None).await.expect("export");
    let et = t.elapsed();
    std::fs::write(export_to, &export).expect("write export");
    note(format!(
        "exported {head} events, {} bytes, in {:.2} s",
        export.len(),
        et.as_secs_f64()
    ));
    drop(export);
    db.close().await;
    Some(head)
}

/// A `waymark serve` (the library's `http::run`) over `url` on 127.0.0.1, in a thread
/// with its own 2-worker runtime; returns its address and what stops it.
fn start_server(
    url: &str,
) -> (
    String,
    std::sync::mpsc::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let url = url.to_string();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let db = Db::connect(&url).await.expect("server connect");
            let keys = tempfile::tempdir().unwrap();
            let app = waymark::http::App::new(
                Waymark::new(db, waymark::system_clock()),
                keys.path().to_path_buf(),
            );
            let stop = async move {
                let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
            };
            waymark::http::run(listener, app, stop).await.unwrap();
        });
    });
    let addr = addr_rx.recv().unwrap();
    (format!("http://{addr}"), stop_tx, thread)
}

/// The body `POST statements` takes.
fn post_body(s: &Signed) -> String {
    let mut v = s.statement.to_value();
    v["sig"] = s.sig.clone().into();
    v.to_string()
}

/// Posts each body in turn on one keep-alive connection; the latency of each (ms).
fn post_all(url: &str, bodies: &[String]) -> Vec<f64> {
    let agent = ureq::AgentBuilder::new().build();
    bodies
        .iter()
        .map(|b| {
            let t = Instant::now();
            let r = agent
                .post(url)
                .set("content-type", "application/json")
                .send_string(b)
                .expect("POST statements");
            assert_eq!(r.status(), 201);
            // Read to the end: only then does ureq put the connection back in its
            // pool; unread, every POST opened a new connection (6.7% of the bench
            // process's CPU in `ureq::unit::connect`, and an `accept` for the server).
            r.into_string().expect("the POST's answer");
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect()
}

/// CPU seconds used so far by this process (all its threads: the clients and the
/// server of (g)) and by the PostgreSQL backends serving database `db` (found by
/// their process titles, `postgres: USER DB …`; a backend that exited is not
/// counted, and the server's connections live as long as it does). From
/// `/proc/PID/stat`'s utime and stime, in USER_HZ (100 on Linux, fixed by its ABI).
fn cpu_seconds(db: &str) -> (f64, f64) {
    let ticks = |stat: &str| -> f64 {
        let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let n = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (n(11) + n(12)) / 100.0
    };
    let me = std::fs::read_to_string("/proc/self/stat").map_or(0.0, |s| ticks(&s));
    let mut pg = 0.0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let path = entry.path();
        let Ok(cmd) = std::fs::read(path.join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd);
        if cmd.starts_with("postgres: ") && cmd.split_whitespace().any(|w| w == db) {
            pg += std::fs::read_to_string(path.join("stat")).map_or(0.0, |s| ticks(&s));
        }
    }
    (me, pg)
}

/// (g) Group commit: one `serve` on the PostgreSQL ledger; one client posting single
/// statements one after another, then eight clients at once (each toggling its own
/// milestone), in interleaved rounds: total statements/s of eight vs one, and the
/// eight clients' p99 latency.
fn group_commit(url: &str, g: &mut Gen, head: &mut u64, o: &Opts, res: &mut Results) {
    const CLIENTS: usize = 8;
    let (one_n, each_n) = if o.quick { (150, 60) } else { (400, 150) };
    let (base, stop, thread) = start_server(url);
    let post_url = format!("{base}/api/ledgers/{LEDGER}/statements");
    // Warm-up: the server's first load of the aggregate and read models.
    post_all(&post_url, &[post_body(&g.toggle(0))]);
    *head += 1;
    let (mut t1, mut n1, mut t8, mut n8) = (0.0, 0, 0.0, 0);
    let (mut lat1, mut lat8) = (Vec::new(), Vec::new());
    let db = url.rsplit('/').next().unwrap_or_default();
    // CPU seconds (this process, the PostgreSQL backends) of the 1- and 8-client runs.
    let (mut cpu1, mut cpu8) = ((0.0, 0.0), (0.0, 0.0));
    let add = |acc: &mut (f64, f64), from: (f64, f64), to: (f64, f64)| {
        acc.0 += to.0 - from.0;
        acc.1 += to.1 - from.1;
    };
    for _round in 0..2 {
        let one: Vec<String> = (0..one_n).map(|_| post_body(&g.toggle(0))).collect();
        let c = cpu_seconds(db);
        let t = Instant::now();
        lat1.extend(post_all(&post_url, &one));
        t1 += t.elapsed().as_secs_f64();
        add(&mut cpu1, c, cpu_seconds(db));
        n1 += one_n;
        let eight: Vec<Vec<String>> = (0..CLIENTS)
            .map(|c| (0..each_n).map(|_| post_body(&g.toggle(c + 1))).collect())
            .collect();
        let c = cpu_seconds(db);
        let t = Instant::now();
        let threads: Vec<_> = eight
            .into_iter()
            .map(|bodies| {
                let u = post_url.clone();
                std::thread::spawn(move || post_all(&u, &bodies))
            })
            .collect();
        for th in threads {
            lat8.extend(th.join().unwrap());
        }
        t8 += t.elapsed().as_secs_f64();
        add(&mut cpu8, c, cpu_seconds(db));
        n8 += CLIENTS * each_n;
    }
    *head += (n1 + n8) as u64;
    let _ = stop.send(());
    let _ = thread.join();
    let (r1, r8) = (n1 as f64 / t1, n8 as f64 / t8);
    let p99 = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        pct(&v, 0.99)
    };
    let (m1, _) = med_p95(lat1.clone());
    let (m8, p95_8) = med_p95(lat8.clone());
    let (p99_1, p99_8) = (p99(lat1), p99(lat8));
    note(format!(
        "group commit: 1 client {r1:.0}/s (median {m1:.2} ms, p99 {p99_1:.2}), {CLIENTS} clients {r8:.0}/s (median {m8:.2} ms, p95 {p95_8:.2}, p99 {p99_8:.2})"
    ));
    // CPU per statement, µs: what bounds 8 clients on 2 cores once commits are shared.
    let per = |cpu: (f64, f64), n: usize| (cpu.0 * 1e6 / n as f64, cpu.1 * 1e6 / n as f64);
    let (p1, p8) = (per(cpu1, n1), per(cpu8, n8));
    note(format!(
        "group commit CPU per statement: 1 client {:.0} µs (bench process: client and server) + {:.0} µs (PostgreSQL backends); 8 clients {:.0} + {:.0} µs",
        p1.0, p1.1, p8.0, p8.1
    ));
    let ratio = r8 / r1;
    res.add(
        "g_group_commit_pg",
        &format!("POST statements to one serve, PostgreSQL: {CLIENTS} clients vs 1 (single statements, {n8} vs {n1}, 2 interleaved rounds)"),
        format!("{r8:.0}/s vs {r1:.0}/s"),
        ">= 5x",
        Some(ratio / 5.0),
        Some(ratio >= 5.0),
        json!({"clients": CLIENTS, "rate_8": r8, "rate_1": r1, "ratio": ratio, "median_ms_1": m1,
               "p99_ms_1": p99_1, "median_ms_8": m8, "p95_ms_8": p95_8, "p99_ms_8": p99_8,
               "cpu_us_per_statement_1": {"process": p1.0, "postgres": p1.1},
               "cpu_us_per_statement_8": {"process": p8.0, "postgres": p8.1}}),
    );
    res.add(
        "g_group_commit_p99",
        &format!("p99 latency of the {CLIENTS} clients' POSTs (PostgreSQL)"),
        format!("{p99_8:.2} ms (median {m8:.2} ms)"),
        "<= 50 ms",
        Some(p99_8 / 50.0),
        Some(p99_8 <= 50.0),
        json!({"p99_ms": p99_8, "median_ms": m8}),
    );
}

async fn run_sqlite(o: &Opts, res: &mut Results, dir: &Path) {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let db = Db::connect(&url).await.expect("sqlite");
    let w = Waymark::new(db.clone(), waymark::system_clock());
    let mut g = Gen::new(LEDGER).with_seasons(season_every(o.sqlite_events));
    let mut head = 0u64;
    let opening = g.opening();
    head += opening.len() as u64;
    record_all(&w, opening).await;
    grow(&w, &mut g, &mut head, 1_000, o.batch, "sqlite").await;
    let wl = singles(&w, &mut g, &mut head, o.singles).await;
    let s1 = wl.len() as f64 / (wl.iter().sum::<f64>() / 1e3);
    let (m, p) = med_p95(wl);
    res.add(
        "single_append_sqlite",
        &format!(
            "single append, SQLite (WAL, synchronous=FULL), ledger at ~1k, {} appends",
            o.singles
        ),
        format!("{s1:.0}/s (median {m:.2} ms, p95 {p:.2} ms)"),
        "(reference)",
        None,
        None,
        json!({"per_s": s1, "median_ms": m, "p95_ms": p}),
    );
    let from = head;
    let target = o.sqlite_events.max(head + 1);
    let (n, t) = grow(&w, &mut g, &mut head, target, o.batch, "sqlite").await;
    let c = rate(n, t);
    res.add(
        "c_batch_sqlite",
        &format!("batch apply, SQLite, {}-statement record() calls, {from}->{head}", o.batch),
        format!("{c:.0} statements/s"),
        ">= 20000/s",
        Some(c / 20_000.0),
        Some(c >= 20_000.0),
        json!({"statements_per_s": c, "statements": n, "secs": t.as_secs_f64(), "from": from, "to": head}),
    );
    w.settle().await;
    dashboard::dashboard_figures(&url, &g, "sqlite", o, res);
    processes::writer_processes(&w, &mut g, &mut head, &url, "sqlite", o, res).await;
    w.settle().await;
    processes::cli_figures(&url, dir, g.founder(), "sqlite", head, o, res);
    rebuild_figures(&db, &w, "sqlite", "SQLite", res).await;
    db.close().await;
}

/// Empties the read models of the bench's ledger, as a store whose read models were
/// lost or never written: the audit trail and the checkpoints of the bench's one
/// ledger (PostgreSQL: `TRUNCATE`, so the tables are as new; SQLite: an unqualified
/// `DELETE`, which SQLite performs as a truncation) and its view.
async fn empty_read_models(db: &Db) {
    match db {
        Db::Postgres(p) => {
            sqlx::query(
                "TRUNCATE waymark_history, waymark_history_ids, waymark_status_checkpoints",
            )
            .execute(p)
            .await
            .expect("truncate");
            sqlx::query("DELETE FROM waymark_views WHERE view_id = $1")
                .bind(LEDGER)
                .execute(p)
                .await
                .expect("delete view");
        }
        Db::Sqlite(p) => {
            for sql in [
                "DELETE FROM waymark_history",
                "DELETE FROM waymark_history_ids",
                "DELETE FROM waymark_status_checkpoints",
                "DELETE FROM waymark_views",
            ] {
                sqlx::query(sql).execute(p).await.expect("empty");
            }
        }
    }
}

/// (f): `rebuild` from empty read models (the goal's figure: every audit row and
/// checkpoint is written), then again over the intact ones it wrote (the check only:
/// everything is read, recomputed and compared, and only the view is written).
async fn rebuild_figures(db: &Db, w: &Waymark, key: &str, backend: &str, res: &mut Results) {
    w.settle().await;
    empty_read_models(db).await;
    note(format!("rebuild from empty read models ({backend})"));
    let t = Instant::now();
    let report = w.rebuild(LEDGER, &mut |_, _| {}).await.expect("rebuild");
    let rt = t.elapsed();
    let f = rate(report.events as usize, rt);
    res.add(
        &format!("f_rebuild_{key}"),
        &format!(
            "rebuild from empty read models, {backend}, {} events ({} differences found)",
            report.events,
            report.differences.len()
        ),
        format!("{f:.0} events/s ({:.2} s)", rt.as_secs_f64()),
        ">= 200000/s",
        Some(f / 200_000.0),
        Some(f >= 200_000.0),
        json!({"events_per_s": f, "events": report.events, "secs": rt.as_secs_f64(), "from_empty": true}),
    );
    note(format!("rebuild of intact read models ({backend})"));
    let t = Instant::now();
    let report = w.rebuild(LEDGER, &mut |_, _| {}).await.expect("rebuild");
    let rt = t.elapsed();
    assert!(
        report.matched,
        "the rebuilt read models do not match: {:?}",
        report.differences
    );
    let f = rate(report.events as usize, rt);
    res.add(
        &format!("f_rebuild_intact_{key}"),
        &format!(
            "rebuild of intact read models (check only), {backend}, {} events (matched: {})",
            report.events, report.matched
        ),
        format!("{f:.0} events/s ({:.2} s)", rt.as_secs_f64()),
        "(reference)",
        None,
        None,
        json!({"events_per_s": f, "events": report.events, "secs": rt.as_secs_f64(), "matched": report.matched}),
    );
}

// ---------------------------------------------------------------- references

fn sha256_rate() -> f64 {
    let msg = vec![0x5au8; 325];
    let mut n = 0usize;
    let t = Instant::now();
    let mut acc = 0u8;
    while t.elapsed() < Duration::from_millis(1000) {
        for _ in 0..1000 {
            let h = sha2::Sha256::digest(&msg);
            acc ^= h[0];
        }
        n += 1000;
    }
    std::hint::black_box(acc);
    rate(n, t.elapsed())
}

/// Signature rates (signatures/s), measured one after the other in the same call.
struct Ed25519Rates {
    threads: usize,
    /// `ed25519_dalek::verify_batch`, 64 per batch, on every core.
    batch: f64,
    /// `verify_strict`, one core.
    single: f64,
    /// `verify_strict`, on every core.
    strict_all: f64,
    /// `waymark_events::PreparedKey::verify` (the same verdicts as `verify_strict`,
    /// one table per key), one core.
    prepared: f64,
    /// The same, on every core (one shared table).
    prepared_all: f64,
}

/// ed25519 verification rates: batch verification (`ed25519_dalek::verify_batch`,
/// 64 per batch), `verify_strict` and the prepared-key verifier, one key (as in the
/// bench's ledger, where the founder signs everything).
fn ed25519_rates() -> Ed25519Rates {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let key = SigningKey::from_bytes(&[11; 32]);
    let vk = key.verifying_key();
    let msgs: Vec<Vec<u8>> = (0..64u32)
        .map(|i| {
            let mut m = vec![0x41u8; 325];
            m[..4].copy_from_slice(&i.to_le_bytes());
            m
        })
        .collect();
    let sigs: Vec<ed25519_dalek::Signature> = msgs.iter().map(|m| key.sign(m)).collect();
    let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
    let vks = vec![vk; 64];
    let prepared = waymark_events::PreparedKey::new(&vk);
    // `f` checks all 64 signatures; run it for `dur` on `n` threads.
    let on = |n: usize, dur: Duration, f: &(dyn Fn() + Sync)| -> f64 {
        let total: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..n)
                .map(|_| {
                    s.spawn(|| {
                        let t = Instant::now();
                        let mut k = 0;
                        while t.elapsed() < dur {
                            f();
                            k += 64;
                        }
                        k
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        total as f64 / dur.as_secs_f64()
    };
    let batch = || dalek::verify_batch(&refs, &sigs, &vks).expect("batch");
    let strict = || {
        for (m, s) in msgs.iter().zip(&sigs) {
            vk.verify_strict(m, s).expect("verify");
        }
    };
    let prep = || {
        for (m, s) in msgs.iter().zip(&sigs) {
            assert!(prepared.verify(m, s));
        }
    };
    let long = Duration::from_millis(2000);
    let short = Duration::from_millis(1000);
    Ed25519Rates {
        threads,
        batch: on(threads, long, &batch),
        single: on(1, short, &strict),
        strict_all: on(threads, short, &strict),
        prepared: on(1, short, &prep),
        prepared_all: on(threads, short, &prep),
    }
}

// ---------------------------------------------------------------- verify-offline child

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn child_verify(log: &str) {
    let before = vm_hwm_kib();
    let t = Instant::now();
    let out = waymark::verify_offline(&waymark::OfflineInputs {
        log: log.into(),
        snapshot: None,
        prev_snapshot: None,
        key: None,
        inclusion: None,
        consistency: None,
        ..Default::default()
    })
    .expect("verify_offline");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "VERIFY {} {} {} {} {}",
        secs,
        out.report.ok,
        out.report.checked,
        vm_hwm_kib(),
        before
    );
}

fn verify_in_child(log: &Path) -> (f64, bool, u64, u64, u64) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env("WAYMARK_BENCH_CHILD_VERIFY", log)
        .output()
        .expect("spawn verifier");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("VERIFY "))
        .unwrap_or_else(|| {
            panic!(
                "verifier child: {text} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let f: Vec<&str> = line.split(' ').collect();
    (
        f[1].parse().unwrap(),
        f[2] == "true",
        f[3].parse().unwrap(),
        f[4].parse().unwrap(),
        f[5].parse().unwrap(),
    )
}

// ---------------------------------------------------------------- main

/// A ledger at `url` grown to `to` events with `batch`-statement records: the store,
/// its `Waymark`, the generator and the head.
async fn ledger_at(url: &str, to: u64, batch: usize) -> (Db, Waymark, Gen, u64) {
    let db = Db::connect(url).await.expect("connect");
    let w = Waymark::new(db.clone(), waymark::system_clock());
    let mut g = Gen::new(LEDGER);
    let opening = g.opening();
    let mut head = opening.len() as u64;
    record_all(&w, opening).await;
    grow(&w, &mut g, &mut head, to, batch, "grow").await;
    (db, w, g, head)
}

/// `--only pg-singles` (see `main`).
async fn pg_singles(o: &Opts) {
    let (url, name) = create_pg().await;
    let mut settings: Vec<String> = std::env::var("WAYMARK_BENCH_DB_SET")
        .map(|s| s.split(';').map(str::to_string).collect())
        .unwrap_or_default();
    if std::env::var("WAYMARK_BENCH_LOG_STATEMENTS").is_ok() {
        settings.push("log_min_duration_statement = 0".into());
    }
    if !settings.is_empty() {
        let admin = sqlx::PgPool::connect(&url).await.expect("connect");
        for set in settings.iter().filter(|s| !s.trim().is_empty()) {
            sqlx::query(&format!("ALTER DATABASE {name} SET {set}"))
                .execute(&admin)
                .await
                .expect("database setting");
        }
        admin.close().await;
    }
    let (db, w, mut g, _) = ledger_at(&url, 1_000, o.batch).await;
    let mark = |m: &'static str| {
        let pool = pg_pool(&db);
        async move {
            sqlx::query(m).execute(&pool).await.expect("marker");
        }
    };
    for _ in 0..5 {
        w.record(LEDGER, vec![g.next()]).await.expect("warm-up");
        w.settle().await;
    }
    let stmts: Vec<Signed> = (0..o.singles).map(|_| g.next()).collect();
    mark("SELECT 'waymark-singles-start'").await;
    let t = Instant::now();
    for s in stmts {
        w.record(LEDGER, vec![s]).await.expect("single record");
        w.settle().await;
    }
    let d = t.elapsed();
    mark("SELECT 'waymark-singles-end'").await;
    eprintln!(
        "{} settled singles in {:.3} s ({name})",
        o.singles,
        d.as_secs_f64()
    );
    db.close().await;
    drop_pg(&name).await;
}

fn main() {
    if let Ok(log) = std::env::var("WAYMARK_BENCH_CHILD_VERIFY") {
        child_verify(&log);
        return;
    }
    if let Ok(spec) = std::env::var("WAYMARK_BENCH_WRITER") {
        processes::child_writer(&spec);
        return;
    }
    started();
    let o = opts();
    eprintln!("{o:?}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut res = Results::default();

    // Profiling modes: the small slow paths only, on SQLite.
    if let Some(only @ ("sqlite-singles" | "sqlite-batch")) = o.only.as_deref() {
        rt.block_on(async {
            let mut l = grown(false, dir.path(), 1_000, o.events, &o).await;
            let t = Instant::now();
            if only == "sqlite-singles" {
                singles(&l.w, &mut l.g, &mut l.head, o.singles).await;
                eprintln!(
                    "{} singles in {:.2} s",
                    o.singles,
                    t.elapsed().as_secs_f64()
                );
            } else {
                let to = l.head + o.events;
                let (n, d) = grow(&l.w, &mut l.g, &mut l.head, to, o.batch, "sqlite").await;
                eprintln!(
                    "{n} batched in {:.2} s: {:.0}/s",
                    d.as_secs_f64(),
                    rate(n, d)
                );
            }
            l.close().await;
        });
        return;
    }
    // Single appends only, on a PostgreSQL ledger of ~1,000 events, for counting what
    // one append costs: `--singles N` appends after a warm-up of 5, each settled
    // (its read-model update done) before the next, so every append pays its own;
    // WAYMARK_BENCH_LOG_STATEMENTS=1 logs every statement of the run's database
    // (`log_min_duration_statement = 0`) between two marker SELECTs, and
    // WAYMARK_BENCH_DB_SET="name = value;…" sets more (auto_explain's, for the
    // statements' buffers and WAL: BENCHMARKS.md); run it under
    // `valgrind --tool=callgrind` with N and 0 for the client's instructions per append.
    if o.only.as_deref() == Some("pg-singles") {
        rt.block_on(pg_singles(&o));
        return;
    }
    // Rebuild only: a ledger grown to --events (PostgreSQL) or --sqlite-events
    // (SQLite) with batches, then (f) from empty and intact read models.
    let rebuild_only = matches!(o.only.as_deref(), Some("pg-rebuild" | "sqlite-rebuild"));
    if rebuild_only {
        let pg = o.only.as_deref() == Some("pg-rebuild");
        rt.block_on(async {
            let to = if pg { o.events } else { o.sqlite_events };
            let l = grown(pg, dir.path(), to, to, &o).await;
            let (key, backend) = if pg {
                ("pg", "PostgreSQL")
            } else {
                ("sqlite", "SQLite")
            };
            rebuild_figures(&l.db, &l.w, key, backend, &mut res).await;
            l.close().await;
        });
    }
    // Group commit or writer processes only, on a PostgreSQL ledger of ~1,000 events
    // (for profiling them: `perf record -a` around this run).
    let writes_only = matches!(o.only.as_deref(), Some("pg-group" | "pg-writers"));
    if writes_only {
        rt.block_on(async {
            let mut l = grown(true, dir.path(), 1_000, o.events, &o).await;
            if o.only.as_deref() == Some("pg-group") {
                group_commit(&l.url, &mut l.g, &mut l.head, &o, &mut res);
            } else {
                processes::writer_processes(
                    &l.w,
                    &mut l.g,
                    &mut l.head,
                    &l.url,
                    "pg",
                    &o,
                    &mut res,
                )
                .await;
            }
            l.close().await;
        });
    }
    // The dashboard only: (j) on a PostgreSQL ledger of --events and a SQLite one of
    // --sqlite-events.
    let dashboard_only = o.only.as_deref() == Some("dashboard");
    if dashboard_only {
        rt.block_on(async {
            for (pg, key, to) in [(true, "pg", o.events), (false, "sqlite", o.sqlite_events)] {
                let l = grown(pg, dir.path(), to, to, &o).await;
                l.w.settle().await;
                dashboard::dashboard_figures(&l.url, &l.g, key, &o, &mut res);
                l.close().await;
            }
        });
    }
    let only_one = rebuild_only || writes_only || dashboard_only;
    let want = |k: &str| o.only.as_deref().is_none_or(|x| x == k);

    if !only_one && (want("ref") || want("pg")) {
        note("references: SHA-256, ed25519");
        let sha = sha256_rate();
        res.add(
            "ref_sha256",
            "raw SHA-256 of 325-byte messages, one core",
            format!("{sha:.0}/s"),
            "(reference)",
            None,
            None,
            json!({"per_s": sha}),
        );
        let rates = ed25519_rates();
        let (batch, single, threads) = (rates.batch, rates.single, rates.threads);
        res.add(
            "ref_ed25519_batch",
            &format!("ed25519-dalek verify_batch (64/batch) on {threads} threads"),
            format!("{batch:.0} signatures/s"),
            "(reference)",
            None,
            None,
            json!({"per_s": batch, "threads": threads}),
        );
        res.add(
            "ref_ed25519_single",
            "ed25519-dalek verify_strict, one core",
            format!("{single:.0} signatures/s"),
            "(reference)",
            None,
            None,
            json!({"per_s": single}),
        );
        res.add(
            "ref_ed25519_strict_all",
            &format!("ed25519-dalek verify_strict on {threads} threads"),
            format!("{:.0} signatures/s", rates.strict_all),
            "(reference)",
            Some(rates.strict_all / batch),
            None,
            json!({"per_s": rates.strict_all, "threads": threads}),
        );
        res.add(
            "ref_ed25519_prepared",
            "waymark_events::PreparedKey (verify_strict's verdicts, a table per key), one core",
            format!("{:.0} signatures/s", rates.prepared),
            "(reference)",
            Some(rates.prepared / single),
            None,
            json!({"per_s": rates.prepared, "vs_strict": rates.prepared / single}),
        );
        res.add(
            "ref_ed25519_prepared_all",
            &format!("PreparedKey on {threads} threads (ratio: vs verify_batch)"),
            format!("{:.0} signatures/s", rates.prepared_all),
            "(reference)",
            Some(rates.prepared_all / batch),
            None,
            json!({"per_s": rates.prepared_all, "threads": threads, "vs_batch": rates.prepared_all / batch}),
        );
        let export = dir.path().join("export.jsonl");
        let head = if want("pg") {
            rt.block_on(run_pg(&o, &mut res, &export))
        } else {
            None
        };
        if let Some(head) = head {
            // The reference is measured right before and right after the run it
            // divides (it moved 78k-122k/s between runs of the same build), and the
            // run is divided by their mean.
            note("verify-offline (child process), between two references");
            let batch_before = ed25519_rates().batch;
            let (secs, ok, checked, hwm, before) = verify_in_child(&export);
            let batch_after = ed25519_rates().batch;
            let batch = (batch_before + batch_after) / 2.0;
            note(format!(
                "verify_batch reference: {batch_before:.0}/s before, {batch_after:.0}/s after"
            ));
            let r = checked as f64 / secs;
            let d = r / batch;
            res.add(
                "d_verify_offline",
                &format!("verify-offline of a {head}-event export (ok: {ok}) vs ed25519 verify_batch on {threads} threads"),
                format!("{r:.0} events/s vs {batch:.0}/s ({secs:.2} s)"),
                ">= 0.7x",
                Some(d),
                Some(ok && d >= 0.7),
                json!({"events_per_s": r, "secs": secs, "ok": ok, "checked": checked, "batch_ref_per_s": batch,
                       "batch_ref_before": batch_before, "batch_ref_after": batch_after}),
            );
            let mib = hwm as f64 / 1024.0;
            res.add(
                "d_verify_offline_rss",
                &format!(
                    "verify-offline peak RSS (VmHWM of the child; {:.1} MiB before verifying)",
                    before as f64 / 1024.0
                ),
                format!("{mib:.1} MiB"),
                "<= 64 MiB",
                Some(mib / 64.0),
                Some(mib <= 64.0),
                json!({"vm_hwm_kib": hwm, "before_kib": before, "events": head}),
            );
        }
    }
    if !only_one && want("sqlite") {
        note("SQLite");
        rt.block_on(run_sqlite(&o, &mut res, dir.path()));
    }

    // The table.
    println!();
    println!(
        "{:<26} {:<44} {:<12} {:>8} {:<5}",
        "figure", "value", "goal", "ratio", "met"
    );
    for r in &res.rows {
        println!(
            "{:<26} {:<44} {:<12} {:>8} {:<5}",
            r.key,
            r.value,
            r.goal,
            r.ratio.map(|x| format!("{x:.2}")).unwrap_or_default(),
            match r.met {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "",
            }
        );
        println!("    {}", r.what);
    }
    let doc = json!({
        "quick": o.quick,
        "events": o.events,
        "sqlite_events": o.sqlite_events,
        "singles": o.singles,
        "batch": o.batch,
        "elapsed_secs": started().elapsed().as_secs_f64(),
        "results": res.rows.iter().map(|r| json!({
            "key": r.key, "what": r.what, "value": r.value, "goal": r.goal,
            "ratio": r.ratio, "met": r.met, "raw": r.raw,
        })).collect::<Vec<_>>(),
    });
    if let Some(p) = o.out.parent() {
        let _ = std::fs::create_dir_all(p);
    }
    std::fs::write(&o.out, serde_json::to_string_pretty(&doc).unwrap()).expect("write results");
    eprintln!("wrote {}", o.out.display());
}
