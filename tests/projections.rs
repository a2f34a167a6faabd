//! Property: over random valid histories, the incremental status projection equals
//! the fold from scratch at every seq (also when resumed from a serialized
//! checkpoint), and the stored read models (status at the head, status as of every
//! seq through the stored checkpoints, the audit trail, `rebuild`) equal both — on
//! SQLite and on PostgreSQL.
//!
//! Histories are random sequences of operations; each is signed and offered to the
//! real write path, which is the judge of validity: a statement the rules reject is
//! dropped (and must leave the ledger unchanged), so every recorded history is valid
//! by construction. The operations include SPEC section 13's (bodies, decisions,
//! transfers, hypotheses); the test prints how many statements of each type were
//! accepted, and fails if a section-13 type was never accepted (a generator that only
//! produced rejections would test nothing).

mod common;

use common::writer::{op, Op, Writer};
use common::{Env, Kind};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Mutex;
use waymark::{AsOf, Error, Waymark};
use waymark_projections::{HistoryFilter, HistoryFold, StatusFold};

/// Statements accepted per event type, over every case of a run.
type Accepted = Mutex<BTreeMap<String, u64>>;

async fn check_history(w: &Waymark, ledger: &str, ops: &[Op], accepted: &Accepted) {
    let mut writer = Writer::new(ledger);
    let opening = writer.opening();
    w.record(ledger, opening).await.expect("opening records");
    for op in ops {
        let Some(statement) = writer.statement(op) else {
            continue;
        };
        let before = w.status(ledger, None).await.unwrap().as_of;
        match w.record(ledger, vec![statement.clone()]).await {
            Ok(_) => {
                let kind = statement.statement.event_type().as_str().to_string();
                *accepted.lock().unwrap().entry(kind).or_default() += 1;
                writer.recorded(&statement)
            }
            Err(Error::Rejected { .. }) => {
                // A rejection records nothing: the head (and so the status) stays.
                assert_eq!(w.status(ledger, None).await.unwrap().as_of, before);
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    let events = w.events(ledger).await.unwrap();
    let mut incremental = StatusFold::new();
    let mut history = HistoryFold::new();
    let mut rows = Vec::new();
    for (k, (event, hash)) in events.iter().enumerate() {
        // Resume from a serialized checkpoint every step: what is stored must be
        // enough to go on exactly.
        incremental = serde_json::from_str(&serde_json::to_string(&incremental).unwrap()).unwrap();
        incremental.apply(event, hash);
        rows.push(history.row(event, hash));

        let mut scratch = StatusFold::new();
        for (e, h) in &events[..=k] {
            scratch.apply(e, h);
        }
        let expected = scratch.status();
        assert_eq!(
            incremental.status(),
            expected,
            "incremental at seq {}",
            k + 1
        );
        let stored = w
            .status(ledger, Some(&AsOf::Seq(k as u64 + 1)))
            .await
            .unwrap();
        assert_eq!(stored, expected, "stored read model as of seq {}", k + 1);
    }
    assert_eq!(w.status(ledger, None).await.unwrap(), incremental.status());
    let stored_rows = w.history(ledger, &HistoryFilter::default()).await.unwrap();
    assert_eq!(stored_rows, rows, "stored audit trail");
    let report = w.rebuild(ledger, &mut |_, _| {}).await.unwrap();
    assert!(report.matched, "rebuild found {:?}", report.differences);
    assert_eq!(report.events, events.len() as u64);
}

fn run(kind: Kind, cases: u32) {
    let env = Env::new(kind);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(waymark::Db::connect(&env.url)).unwrap();
    let case = std::cell::Cell::new(0u32);
    let accepted = Accepted::default();
    let config = ProptestConfig {
        cases,
        ..ProptestConfig::default()
    };
    proptest!(config, |(ops in prop::collection::vec(op(), 0..80), every in 1u64..6)| {
        case.set(case.get() + 1);
        let ledger = format!("prop{}", case.get());
        rt.block_on(async {
            let w = Waymark::new(db.clone(), waymark::system_clock());
            w.set_checkpoint_every(every);
            check_history(&w, &ledger, &ops, &accepted).await;
        });
    });
    rt.block_on(db.close());
    let accepted = accepted.into_inner().unwrap();
    eprintln!("{kind:?}: statements accepted per type over {cases} cases: {accepted:?}");
    if cases >= 8 {
        for t in [
            "BodyDefined",
            "DecisionDefined",
            "AuthorityTransferred",
            "HypothesisStated",
        ] {
            assert!(
                accepted.get(t).copied().unwrap_or(0) > 0,
                "no {t} was ever accepted: the generator only produces rejections ({accepted:?})"
            );
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(12)
}

#[test]
fn projections_agree_on_random_histories_sqlite() {
    run(Kind::Sqlite, cases());
}

#[test]
fn projections_agree_on_random_histories_postgres() {
    run(Kind::Postgres, cases());
}
