//! `rebuild` over several pages (issue 17, goal 7): from empty read models, from read
//! models cut off in the middle of a page, and from intact ones with a row changed,
//! the rebuilt audit trail, checkpoints and status equal those the writer stored as it
//! went, and a second rebuild finds them intact. The rebuild reads and writes pages
//! in a pipeline (page k+1 read while page k is folded and page k−1 written), and
//! writes pages past the last stored row without reading them back: this checks both
//! on more pages than one (`PAGE` is 2,000 events).

#[macro_use]
mod common;
use common::bulk::Gen;
use common::*;
use waymark::{AsOf, Db, Waymark};
use waymark_projections::HistoryFilter;

const LEDGER: &str = "rebuilt";
/// Three pages and a bit, with a checkpoint every 100 events.
const EVENTS: u64 = 6_500;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// What the read models answer: the whole audit trail, status as of some seqs and at
/// the head, and the number of stored checkpoints.
async fn answers(w: &Waymark, db: &Db) -> (Vec<waymark_projections::HistoryRow>, Vec<String>, i64) {
    let history = w.history(LEDGER, &HistoryFilter::default()).await.unwrap();
    let mut statuses = Vec::new();
    for s in [1, 99, 100, 101, 1999, 2000, 2001, 4100, 6499, EVENTS] {
        let got = w.status(LEDGER, Some(&AsOf::Seq(s))).await.unwrap();
        statuses.push(format!("{s}: {}", serde_json::to_string(&got).unwrap()));
    }
    let head = w.status(LEDGER, None).await.unwrap();
    statuses.push(serde_json::to_string(&head).unwrap());
    let q = "SELECT count(*) FROM waymark_status_checkpoints";
    let n: i64 = match db {
        Db::Sqlite(p) => sqlx::query_scalar(q).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(q).fetch_one(p).await.unwrap(),
    };
    (history, statuses, n)
}

fn rebuild_over_pages(kind: Kind) {
    let env = Env::new(kind);
    let rt = rt();
    // `Waymark::new` starts its dispatcher on the runtime it is made in.
    let _in_rt = rt.enter();
    let db = rt.block_on(Db::connect(&env.url)).unwrap();
    let w = Waymark::new(db.clone(), waymark::system_clock());
    w.set_checkpoint_every(100);
    let written = rt.block_on(async {
        let mut g = Gen::new(LEDGER);
        let opening = g.opening();
        let mut head = opening.len() as u64;
        w.record(LEDGER, opening).await.unwrap();
        while head < EVENTS {
            let k = (EVENTS - head).min(700) as usize;
            w.record(LEDGER, g.batch(k)).await.unwrap();
            head += k as u64;
        }
        w.settle().await;
        answers(&w, &db).await
    });
    assert_eq!(written.0.len() as u64, EVENTS);
    assert_eq!(written.2, 65);

    // 1. From empty read models: every row and checkpoint is missing.
    env.sql(&[
        "DELETE FROM waymark_history",
        "DELETE FROM waymark_status_checkpoints",
        "DELETE FROM waymark_views",
    ]);
    let report = rt.block_on(w.rebuild(LEDGER, &mut |_, _| {})).unwrap();
    assert!(!report.matched);
    assert_eq!(report.events, EVENTS);
    // 20 audit rows listed at most, then every checkpoint.
    let rows: Vec<&String> = report
        .differences
        .iter()
        .filter(|d| d.starts_with("audit row"))
        .collect();
    assert_eq!(rows.len(), 20, "{:?}", report.differences);
    assert_eq!(rows[0], "audit row seq 1: missing");
    assert_eq!(
        report
            .differences
            .iter()
            .filter(|d| d.starts_with("status checkpoint") && d.ends_with(": missing"))
            .count(),
        65,
        "{:?}",
        report.differences
    );
    assert!(
        rt.block_on(answers(&w, &db)) == written,
        "rebuilt from empty"
    );
    let again = rt.block_on(w.rebuild(LEDGER, &mut |_, _| {})).unwrap();
    assert!(again.matched, "{:?}", again.differences);

    // 2. Cut off in the middle of the second page, and a row changed in the first:
    // the changed one is found and repaired, the missing ones are written.
    env.sql(&[
        "DELETE FROM waymark_history WHERE seq > 3001",
        "DELETE FROM waymark_status_checkpoints WHERE seq > 2950",
        "UPDATE waymark_history SET row = replace(row, 'in_progress', 'achieved') WHERE seq = 1500",
    ]);
    let report = rt.block_on(w.rebuild(LEDGER, &mut |_, _| {})).unwrap();
    assert!(!report.matched);
    assert_eq!(
        report.differences[..2],
        [
            "audit row seq 1500: differs from the event".to_string(),
            "audit row seq 3002: missing".to_string()
        ],
        "{:?}",
        report.differences
    );
    let missing = |seq: u64| format!("status checkpoint at seq {seq}: missing");
    assert!(report.differences.contains(&missing(3000)));
    assert!(report.differences.contains(&missing(6500)));
    assert!(!report.differences.contains(&missing(2900)));
    assert!(
        rt.block_on(answers(&w, &db)) == written,
        "rebuilt from a cut"
    );
    let again = rt.block_on(w.rebuild(LEDGER, &mut |_, _| {})).unwrap();
    assert!(again.matched, "{:?}", again.differences);
    rt.block_on(db.close());
}

on_both_backends!(rebuild_over_pages);
