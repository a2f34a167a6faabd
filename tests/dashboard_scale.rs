//! Issue 17, goal 2: a dashboard page reads what it shows, not the ledger.
//!
//! The same pages are asked of a 2,000-event and a 20,000-event ledger (four Seasons
//! each, a milestone `m15` updated once near the start, others updated all the time),
//! each through a fresh server (`waymark::http::router`, in this process, so every
//! statement it sends is seen through sqlx's `tracing`):
//!
//! - PostgreSQL: `auto_explain` with `log_analyze` sends each executed statement's plan
//!   with the rows each node read (`actual rows` × `loops`, plus `Rows Removed by
//!   Filter`); the rows a page reads from the ledger's tables may not grow with the
//!   ledger (a slack of 300 rows covers the events folded on a status checkpoint, which
//!   depend on where a Season ends between two checkpoints).
//! - SQLite has no such counter: each page sends no more statements at 20,000 events
//!   than at 2,000, every statement's plan (`EXPLAIN QUERY PLAN`) seeks an index (no
//!   `SCAN` of a ledger's table, no sort of its rows), and the milestone filter goes
//!   through the id index.
//!
//! Before this test, a page filtered by `m15` read every row below `before=` (walking
//! the audit trail backwards until 51 rows matched), and each page folded the events
//! from a checkpoint to each Season's end.

#[macro_use]
mod common;
use axum::body::Body;
use common::bulk::Gen;
use common::capture::{
    auto_explain_url, install_capture, sqlite_plan, statements_of, take_captured, SERIAL,
};
use common::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use tower::ServiceExt;
use waymark::{Db, Waymark};
use waymark_events::*;

const LEDGER: &str = "scale";
const SEASONS: i64 = 4;
/// A status checkpoint every this many events (the default is 1,024): the fold at a
/// Season's end reads fewer than this many events, wherever the Season ends.
const CHECKPOINTS: u64 = 64;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A ledger of `n` events: the opening, `m15` once, then status changes of `m0…m14`
/// in turn, with Season k opened at `k × n / 5` (and closed before the next opens).
async fn build(w: &Waymark, n: u64) {
    let mut g = Gen::new(LEDGER);
    let mut head = 0;
    let mut batch = g.opening();
    batch.push(g.toggle(15));
    let mut season = 0;
    let mut k = 0usize;
    while head + (batch.len() as u64) < n {
        let seq = head + batch.len() as u64 + 1;
        if season < SEASONS && seq >= (season as u64 + 1) * n / 5 {
            if season > 0 {
                batch.push(g.sign(Payload::SeasonReEvaluated(SeasonReEvaluated {
                    season,
                    ends_on: "2025-03-31".into(),
                    summary: "shipped".into(),
                    assessments: vec![Assessment {
                        milestone: "m0".into(),
                        note: "on track".into(),
                    }],
                })));
            }
            season += 1;
            batch.push(g.sign(Payload::SeasonOpened(SeasonOpened {
                season,
                starts_on: "2025-01-01".into(),
                intent: "ship".into(),
                focus: vec!["m0".into()],
            })));
        } else {
            batch.push(g.toggle(k % 15));
            k += 1;
        }
        if batch.len() == 1000 {
            head += batch.len() as u64;
            w.record(LEDGER, std::mem::take(&mut batch)).await.unwrap();
        }
    }
    if !batch.is_empty() {
        w.record(LEDGER, batch).await.unwrap();
    }
    w.settle().await;
}

/// The pages asked, by name, at a ledger of `n` events (the same positions relative to
/// its length).
fn pages(n: u64) -> Vec<(&'static str, String)> {
    let l = LEDGER;
    vec![
        ("head", format!("/ledgers/{l}")),
        ("head, older page", format!("/ledgers/{l}?before={}", n / 2)),
        ("as of season 2", format!("/ledgers/{l}?as_of=season:2")),
        (
            "as of season 3, older page",
            format!("/ledgers/{l}?as_of=season:3&before={}", n / 2),
        ),
        (
            "milestone m15 (updated once)",
            format!("/ledgers/{l}?milestone=m15"),
        ),
        (
            "milestone m15, older page",
            format!("/ledgers/{l}?milestone=m15&before={}", n / 2),
        ),
        (
            "milestone m1, older page",
            format!("/ledgers/{l}?milestone=m1&before={}", n / 2),
        ),
        (
            "type SeasonOpened",
            format!("/ledgers/{l}?type=SeasonOpened&before={}", n - 10),
        ),
        (
            "actor founder, older page",
            format!("/ledgers/{l}?actor=founder&before={}", n / 3),
        ),
        ("season 3", format!("/ledgers/{l}?season=3")),
        (
            "who decides, as of season 2",
            format!("/ledgers/{l}/decisions?as_of=season:2"),
        ),
        (
            "history API, m15",
            format!("/api/ledgers/{l}/history?milestone=m15"),
        ),
    ]
}

/// What one page cost: the statements sent (text) and, on PostgreSQL, their plans.
struct Cost {
    statements: Vec<String>,
    plans: Vec<String>,
}

/// Builds a ledger of `n` events in a new store and asks every page of a fresh server
/// over `serve_url` (the same store, with the session options the test needs).
fn measure(kind: Kind, n: u64) -> (Env, BTreeMap<&'static str, Cost>) {
    let env = Env::new(kind);
    let rt = runtime();
    rt.block_on(async {
        let db = Db::connect(&env.url).await.unwrap();
        let w = Waymark::new(db.clone(), waymark::system_clock());
        w.set_checkpoint_every(CHECKPOINTS);
        build(&w, n).await;
        db.close().await;
    });
    let serve_url = match kind {
        Kind::Sqlite => env.url.clone(),
        Kind::Postgres => auto_explain_url(
            &env,
            &[
                ("auto_explain.log_analyze", "on"),
                ("auto_explain.log_timing", "off"),
                ("auto_explain.log_nested_statements", "on"),
            ],
        ),
    };
    let keys = env.keys();
    let costs = rt.block_on(async {
        let db = Db::connect(&serve_url).await.unwrap();
        let w = Waymark::new(db.clone(), waymark::system_clock());
        let app = Arc::new(waymark::http::App::new(w, keys));
        let router = waymark::http::router(app);
        let mut costs = BTreeMap::new();
        for (name, uri) in pages(n) {
            take_captured();
            let req = axum::http::Request::get(&uri)
                .header("host", "localhost")
                .body(Body::empty())
                .unwrap();
            let resp = router.clone().oneshot(req).await.unwrap();
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            assert_eq!(status, 200, "{uri}: {}", String::from_utf8_lossy(&body));
            let captured = take_captured();
            let statements = statements_of(&captured);
            let plans = captured
                .iter()
                .filter(|(t, _)| t == "sqlx::postgres::notice")
                .map(|(_, m)| m.clone())
                .collect();
            costs.insert(name, Cost { statements, plans });
        }
        db.close().await;
        costs
    });
    (env, costs)
}

const TABLES: [&str; 5] = [
    "events",
    "snapshots",
    "waymark_history",
    "waymark_history_ids",
    "waymark_status_checkpoints",
];

/// The number after `key` in `line` (`rows=12`), if any.
fn number_after(line: &str, key: &str) -> Option<f64> {
    let rest = line.split(key).nth(1)?;
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.parse().ok()
}

/// Rows an analyzed PostgreSQL plan read from the ledger's tables: for each scan node
/// on one of them, (rows it returned + rows its filter removed) × its loops.
fn rows_read(plan: &str) -> f64 {
    let lines: Vec<&str> = plan.lines().collect();
    let mut total = 0.0;
    for (i, l) in lines.iter().enumerate() {
        let on_table = TABLES
            .iter()
            .any(|t| l.contains(&format!(" on {t} ")) || l.ends_with(&format!(" on {t}")));
        if !(l.contains("Scan") && on_table) {
            continue;
        }
        let rows = number_after(l, "actual rows=").unwrap_or(0.0);
        let loops = number_after(l, "loops=").unwrap_or(1.0);
        let removed: f64 = lines[i + 1..]
            .iter()
            .take_while(|d| !d.contains("->"))
            .filter_map(|d| number_after(d, "Rows Removed by Filter: "))
            .sum();
        total += (rows + removed) * loops;
    }
    total
}

fn pages_do_not_read_the_ledger(kind: Kind) {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    install_capture();
    let (small_env, small) = measure(kind, 2_000);
    let (_large_env, large) = measure(kind, 20_000);
    let mut bad = Vec::new();
    for (name, _) in pages(2_000) {
        let (s, l) = (&small[name], &large[name]);
        match kind {
            Kind::Postgres => {
                let rs: f64 = s.plans.iter().map(|p| rows_read(p)).sum();
                let rl: f64 = l.plans.iter().map(|p| rows_read(p)).sum();
                eprintln!(
                    "{name:32} rows read: {rs:7} at 2,000 events, {rl:7} at 20,000 ({} and {} statements)",
                    s.plans.len(),
                    l.plans.len()
                );
                assert!(!l.plans.is_empty(), "{name}: auto_explain sent no plan");
                if rl > rs + 300.0 {
                    let worst = l
                        .plans
                        .iter()
                        .max_by(|a, b| rows_read(a).total_cmp(&rows_read(b)))
                        .cloned()
                        .unwrap_or_default();
                    bad.push(format!(
                        "{name}: {rl} rows read at 20,000 events, {rs} at 2,000; the largest:\n{worst}"
                    ));
                }
            }
            Kind::Sqlite => {
                eprintln!(
                    "{name:32} statements: {} at 2,000 events, {} at 20,000",
                    s.statements.len(),
                    l.statements.len()
                );
                if l.statements.len() > s.statements.len() {
                    bad.push(format!(
                        "{name}: {} statements at 20,000 events, {} at 2,000",
                        l.statements.len(),
                        s.statements.len()
                    ));
                }
            }
        }
    }
    if kind == Kind::Sqlite {
        // Every statement's plan seeks an index; the milestone's pages use the id index.
        let rt = runtime();
        rt.block_on(async {
            let pool = sqlx::SqlitePool::connect(&small_env.url).await.unwrap();
            let mut all: Vec<(&str, &String)> = Vec::new();
            for (name, cost) in &small {
                all.extend(cost.statements.iter().map(|s| (*name, s)));
            }
            for (name, s) in all {
                let plan = sqlite_plan(&pool, s).await;
                for t in TABLES {
                    if plan.iter().any(|p| p.starts_with(&format!("SCAN {t}"))) {
                        bad.push(format!("{name}: a scan of {t}:\n{s}\n{plan:#?}"));
                    }
                }
                // (The ledgers' skip scan sorts its handful of ledger ids.)
                let by_seq = [
                    "ORDER BY seq",
                    "ORDER BY sequence",
                    "ORDER BY waymark_history_ids.seq",
                ];
                if by_seq.iter().any(|o| s.contains(o))
                    && plan.iter().any(|p| p.contains("TEMP B-TREE"))
                {
                    bad.push(format!("{name}: a sort:\n{s}\n{plan:#?}"));
                }
                if name.starts_with("milestone")
                    && s.contains("waymark_history")
                    && s.contains("LIMIT")
                    && !plan.iter().any(|p| p.contains("waymark_history_ids"))
                {
                    bad.push(format!("{name}: not through the id index:\n{s}\n{plan:#?}"));
                }
            }
            pool.close().await;
        });
    }
    bad.dedup();
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}

on_both_backends!(pages_do_not_read_the_ledger);
