//! Issue 17, goal 6: the queries of the append and read paths keep their index plans on
//! a large ledger whose tables were never analyzed (the state of a store right after a
//! bulk load, before autovacuum gets to it), checked with the plans themselves, not
//! with timings.
//!
//! The ledger is built through the library (`PLANS_EVENTS` events, default 50,000), with
//! autovacuum switched off for the tables so that nothing analyzes them in between; the
//! test first checks that they were indeed never analyzed. Then it runs the hot
//! operations (single and batch appends, a replayed signature, a streamed `apply`, a
//! cold process's first append, status at the head and as-of, history pages, inclusion
//! proofs) and collects the plan of every statement they send:
//!
//! - PostgreSQL: `auto_explain` logs each executed statement's plan back to this client
//!   (as a WARNING, which sqlx passes to `tracing`); the operations run twice, once with
//!   `plan_cache_mode = force_custom_plan` and once with `force_generic_plan`, so both
//!   plans a prepared statement can get are seen.
//! - SQLite: sqlx logs each statement's text (`tracing`, target `sqlx::query`); each
//!   one is then planned with `EXPLAIN QUERY PLAN` (SQLite plans without statistics
//!   unless `ANALYZE` ran, and its plans do not depend on the bound values here).
//!
//! No plan may scan a table of the ledger (events, audit trail, checkpoints) from end
//! to end, and every rule-7 probe must go through the signature index.

#[macro_use]
mod common;
use common::bulk::{self, Gen};
use common::capture::{
    auto_explain_url, install_capture, sqlite_plan, statements_of, take_captured, SERIAL,
};
use common::*;
use std::time::Instant;
use waymark::{AsOf, Db, Waymark};
use waymark_projections::HistoryFilter;

const LEDGER: &str = "plans";

fn events_wanted() -> u64 {
    std::env::var("PLANS_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Grows the ledger to `n` events with 1,000-statement records; returns the generator.
async fn build(w: &Waymark, n: u64) -> Gen {
    let mut g = Gen::new(LEDGER);
    let opening = g.opening();
    let mut head = opening.len() as u64;
    w.record(LEDGER, opening).await.unwrap();
    while head < n {
        let k = (n - head).min(1000) as usize;
        w.record(LEDGER, g.batch(k)).await.unwrap();
        head += k as u64;
    }
    w.settle().await;
    g
}

/// A source of statements for `record_stream` (what `apply` does with a file).
struct Lines(Vec<waymark::Signed>, usize);

impl waymark::StatementSource for Lines {
    fn next_piece(&mut self, max: usize) -> waymark::Result<Vec<(usize, waymark::Signed)>> {
        let piece: Vec<_> = self.0.drain(..self.0.len().min(max)).collect();
        let start = self.1;
        self.1 += piece.len();
        Ok(piece
            .into_iter()
            .enumerate()
            .map(|(i, s)| (start + i + 1, s))
            .collect())
    }
}

/// The hot operations, on a `Waymark` over `url` made fresh here (a cold process first).
async fn hot_path(url: &str, g: &mut Gen, n: u64) {
    let db = Db::connect(url).await.unwrap();
    let w = Waymark::new(db.clone(), waymark::system_clock());
    // A cold process's first append, then warm single appends and a batch.
    for _ in 0..7 {
        w.record(LEDGER, vec![g.next()]).await.unwrap();
    }
    w.record(LEDGER, g.batch(40)).await.unwrap();
    // A replayed signature: refused by the commit, then by the rules (rule 7's index).
    let again = g.next();
    w.record(LEDGER, vec![again.clone()]).await.unwrap();
    // Its milestone back where `again` found it, so that only rule 7 refuses it.
    w.record(LEDGER, g.batch(bulk::MILESTONES)).await.unwrap();
    for _ in 0..6 {
        let e = w.record(LEDGER, vec![again.clone()]).await.unwrap_err();
        assert!(e.to_string().contains("R7"), "{e}");
    }
    // `apply`: a streamed record.
    let mut lines = Lines(g.batch(30), 0);
    w.record_stream(LEDGER, &mut lines).await.unwrap();
    w.settle().await;
    // Reads.
    assert_eq!(db.ledgers().await.unwrap(), vec![LEDGER.to_string()]);
    w.status(LEDGER, None).await.unwrap();
    for s in [100, n * 2 / 5, n * 2 / 3, n * 4 / 5, 7, n - 5] {
        w.status(LEDGER, Some(&AsOf::Seq(s))).await.unwrap();
        w.prove_inclusion(LEDGER, s, None).await.unwrap();
    }
    let all = HistoryFilter::default();
    let m3 = HistoryFilter {
        milestone: Some("m3".into()),
        ..HistoryFilter::default()
    };
    let by_founder = HistoryFilter {
        actor: Some("founder".into()),
        ..HistoryFilter::default()
    };
    let by_type = HistoryFilter {
        event_type: Some("MilestoneStatusChanged".into()),
        ..HistoryFilter::default()
    };
    let befores = [
        None,
        Some(n * 3 / 5),
        Some(n / 5),
        Some(500),
        Some(n * 4 / 5),
        None,
    ];
    for before in befores {
        for f in [&all, &m3, &by_founder, &by_type] {
            let page = w.history_page(LEDGER, f, before, 50).await.unwrap();
            assert!(!page.is_empty() && page.len() <= 50);
            let below = before.unwrap_or(u64::MAX);
            assert!(page.windows(2).all(|p| p[0].seq > p[1].seq) && page[0].seq < below);
        }
    }
    w.settle().await;
    db.close().await;
}

fn never_analyzed_postgres(env: &Env) {
    runtime().block_on(async {
        let pool = sqlx::PgPool::connect(&env.url).await.unwrap();
        let rows: Vec<(String, i64, i64, Option<String>, f32)> = sqlx::query_as(
            "SELECT s.relname::text, s.analyze_count, s.autoanalyze_count,
                    CAST(COALESCE(s.last_analyze, s.last_autoanalyze) AS text), c.reltuples
             FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
             WHERE s.relname IN ('events', 'snapshots', 'waymark_history', 'waymark_status_checkpoints')",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(rows.len(), 4, "{rows:?}");
        for (name, manual, auto, last, reltuples) in &rows {
            eprintln!("{name}: analyzed {manual}+{auto} times (last {last:?}), reltuples {reltuples}");
            assert_eq!((*manual, *auto, last), (0, 0, &None), "{name} was analyzed");
        }
        pool.close().await;
    });
}

/// Every plan `auto_explain` sent, as (query text, plan).
fn postgres_plans(captured: &[(String, String)]) -> Vec<(String, String)> {
    captured
        .iter()
        .filter(|(t, _)| t == "sqlx::postgres::notice")
        .filter_map(|(_, m)| {
            if std::env::var("PLANS_DUMP").is_ok() {
                eprintln!("--- {m}");
            }
            let body = m.split_once("Query Text:")?.1;
            // The query text runs until the first plan line (auto_explain's text format
            // puts the plan after the query, starting with a node name).
            let lines: Vec<&str> = body.lines().collect();
            let at = lines
                .iter()
                .position(|l| plan_line(l))
                .unwrap_or(lines.len());
            Some((lines[..at].join("\n"), lines[at..].join("\n")))
        })
        .collect()
}

/// A node of a text plan (its conditions are on the lines under it).
fn plan_line(l: &str) -> bool {
    l.contains("  (cost=")
}

const TABLES: [&str; 3] = ["events", "waymark_history", "waymark_status_checkpoints"];

/// The plan nodes that read `table`, each with the lines under it up to the next node
/// (its conditions), from a PostgreSQL text plan.
fn scans_of(plan: &str, table: &str) -> Vec<String> {
    let lines: Vec<&str> = plan.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let on = [format!(" on {table} "), format!(" on {table}\n")];
        let l2 = format!("{l}\n");
        if l.contains("Scan") && on.iter().any(|o| l2.contains(o.as_str())) {
            let mut node = vec![l.trim().to_string()];
            node.extend(
                lines[i + 1..]
                    .iter()
                    .take_while(|d| !d.contains("->") && !plan_line(d))
                    .map(|d| d.trim().to_string()),
            );
            out.push(node.join(" | "));
        }
    }
    out
}

/// What makes a scan of a ledger's table bounded: a seek on the ledger and more (seq,
/// or the signature key) — not the ledger's whole range, nor the whole table.
fn bounded(table: &str, node: &str) -> bool {
    if node.starts_with("Seq Scan") {
        return false;
    }
    // A bitmap heap scan's `Recheck Cond` is the condition of the index scan under it.
    let cond = node
        .split("Index Cond:")
        .nth(1)
        .or_else(|| node.split("Recheck Cond:").nth(1))
        .unwrap_or("");
    match table {
        // A ledger's rows from a seq on, a probe of the signature key, or a step of
        // the ledgers' skip scan (`aggregate_id > x … LIMIT 1`).
        "events" => {
            (cond.contains("aggregate_id") && cond.contains("sequence"))
                || node.contains("waymark_events_sig")
                || cond.contains("aggregate_id > ")
        }
        _ => cond.contains("ledger") && cond.contains("seq"),
    }
}

/// A read of a ledger's rows in seq order (a page, a range): an index gives it.
fn in_seq_order(query: &str) -> bool {
    query.contains("ORDER BY seq") || query.contains("ORDER BY sequence")
}

fn check_postgres_plans(plans: &[(String, String)], mode: &str) -> usize {
    assert!(!plans.is_empty(), "auto_explain sent no plans ({mode})");
    let mut sig_probes = 0;
    let mut bad = Vec::new();
    for (query, plan) in plans {
        for t in TABLES {
            for node in scans_of(plan, t) {
                if !bounded(t, &node) {
                    bad.push(format!(
                        "{mode}: an unbounded read of {t} ({node}):\n{query}\n{plan}"
                    ));
                }
            }
        }
        if in_seq_order(query) && plan.lines().any(|l| l.contains("Sort  (cost=")) {
            bad.push(format!(
                "{mode}: sorted instead of read in index order:\n{query}\n{plan}"
            ));
        }
        if query.contains("payload->>'sig'") {
            sig_probes += 1;
            if !plan.contains("waymark_events_sig") {
                bad.push(format!(
                    "{mode}: rule 7's probe does not use the signature index:\n{query}\n{plan}"
                ));
            }
        }
    }
    bad.dedup();
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
    assert!(sig_probes > 0, "{mode}: no rule-7 probe was seen");
    sig_probes
}

/// `bounded` for SQLite's `EXPLAIN QUERY PLAN` lines: `SEARCH t USING INDEX i (a=? AND b>?)`.
fn sqlite_bounded(table: &str, node: &str) -> bool {
    let cond = node.split_once('(').map_or("", |c| c.1);
    match table {
        "events" => {
            (cond.contains("aggregate_id") && cond.contains("sequence"))
                || node.contains("waymark_events_sig")
                || cond.contains("aggregate_id>")
        }
        _ => cond.contains("ledger") && cond.contains("seq"),
    }
}

fn sqlite_statements(captured: &[(String, String)]) -> Vec<String> {
    let mut out = statements_of(captured);
    out.sort();
    out.dedup();
    out
}

fn hot_queries_keep_their_index_plans(kind: Kind) {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    install_capture();
    let env = Env::new(kind);
    let n = events_wanted();
    let rt = runtime();
    // The tables, with autovacuum off on PostgreSQL: nothing analyzes them behind the
    // test's back (that is what it is about).
    rt.block_on(async {
        let db = Db::connect(&env.url).await.unwrap();
        db.close().await;
    });
    if kind == Kind::Postgres {
        let off: Vec<String> = TABLES
            .iter()
            .chain(&["snapshots"])
            .map(|t| format!("ALTER TABLE {t} SET (autovacuum_enabled = false)"))
            .collect();
        env.sql(&off.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let t = Instant::now();
    let mut g = rt.block_on(async {
        let db = Db::connect(&env.url).await.unwrap();
        let w = Waymark::new(db.clone(), waymark::system_clock());
        let g = build(&w, n).await;
        db.close().await;
        g
    });
    eprintln!("built {n} events in {:.1} s", t.elapsed().as_secs_f64());

    match kind {
        Kind::Postgres => {
            never_analyzed_postgres(&env);
            for mode in ["force_custom_plan", "force_generic_plan"] {
                let url = auto_explain_url(&env, &[("plan_cache_mode", mode)]);
                take_captured();
                rt.block_on(hot_path(&url, &mut g, n));
                let plans = postgres_plans(&take_captured());
                let probes = check_postgres_plans(&plans, mode);
                eprintln!(
                    "{mode}: {} plans, {probes} rule-7 probes, all on their indexes",
                    plans.len()
                );
            }
            never_analyzed_postgres(&env);
        }
        Kind::Sqlite => {
            take_captured();
            rt.block_on(hot_path(&env.url, &mut g, n));
            let statements = sqlite_statements(&take_captured());
            assert!(!statements.is_empty(), "no statements were logged");
            rt.block_on(async {
                let pool = sqlx::SqlitePool::connect(&env.url).await.unwrap();
                let stat: Option<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'",
                )
                .fetch_optional(&pool)
                .await
                .unwrap();
                assert_eq!(stat, None, "the SQLite store was analyzed");
                let mut sig_probes = 0;
                for s in &statements {
                    let plan = sqlite_plan(&pool, s).await;
                    for t in TABLES {
                        for node in plan.iter().filter(|p| {
                            p.starts_with(&format!("SCAN {t}"))
                                || p.starts_with(&format!("SEARCH {t} "))
                        }) {
                            assert!(
                                sqlite_bounded(t, node),
                                "an unbounded read of {t} ({node}):\n{s}\n{plan:#?}"
                            );
                        }
                    }
                    assert!(
                        !(in_seq_order(s) && plan.iter().any(|p| p.contains("TEMP B-TREE"))),
                        "sorted instead of read in index order:\n{s}\n{plan:#?}"
                    );
                    if s.contains("'$.sig'") {
                        sig_probes += 1;
                        assert!(
                            plan.iter().any(|p| p.contains("waymark_events_sig")),
                            "rule 7's probe does not use the signature index:\n{s}\n{plan:#?}"
                        );
                    }
                }
                assert!(sig_probes > 0, "no rule-7 probe was seen");
                eprintln!(
                    "{} statements, {sig_probes} rule-7 probes, all on their indexes",
                    statements.len()
                );
                pool.close().await;
            });
        }
    }
}

on_both_backends!(hot_queries_keep_their_index_plans);
