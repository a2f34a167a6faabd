//! `waymark demo`: the bundled, sourced Optimism history (Seasons 6–9) recorded into a
//! fresh ledger as signed statements by three demo actors, then its status and
//! verification. Recording times follow the history (each statement is recorded half a
//! second after it was issued), so `--as-of time:` and `season:` work on it as if
//! Waymark had been running since 2024.

use crate::cli::{
    init_statements, parse_apply_lines, print_report, render_status, signed, Cli, InitArgs,
};
use crate::error::{Error, Result, StorageError};
use crate::files::KeyStore;
use crate::ledger::Clock;
use crate::service::Waymark;
use crate::storage::Db;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use waymark_events::{encode_public_key, ActorRegistered, Payload};

pub const LEDGER: &str = "optimism";
const HISTORY: &str = include_str!("demo/optimism-history.jsonl");
const OPENED_AT: &str = "2024-06-01T12:00:00.000000Z";
const ACTORS: &[(&str, &str, &str)] = &[
    (
        "reviewer",
        "Milestones & Metrics Council (demo reviewer)",
        "reviewer",
    ),
    ("reporter", "Governance reporter (demo)", "reporter"),
];

fn micros(ts: &str) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(ts)
        .map(|t| t.timestamp_micros())
        .map_err(|e| Error::BadInput(format!("demo timestamp {ts}: {e}")))
}

fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

pub async fn run(cli: &Cli) -> Result<i32> {
    let url = cli
        .db
        .clone()
        .unwrap_or_else(|| "sqlite://waymark-demo.db".into());
    if let Some(path) = sqlite_path(&url) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::Storage(StorageError::file(format!(
                        "cannot replace {}: {e}",
                        PathBuf::from(p).display()
                    ))))
                }
                _ => {}
            }
        }
    }
    let keys_dir = cli
        .keys
        .clone()
        .unwrap_or_else(|| PathBuf::from("waymark-demo-keys"));
    let db = Db::connect(&url).await?;
    if db.ledgers().await?.iter().any(|l| l == LEDGER) {
        return Err(Error::Usage(format!(
            "ledger {LEDGER:?} already exists in {}: the demo needs a fresh ledger (use another database)",
            crate::storage::redact(&url)
        )));
    }
    let code = build(cli, db.clone(), keys_dir).await;
    db.close().await;
    code
}

async fn build(cli: &Cli, db: Db, keys_dir: PathBuf) -> Result<i32> {
    let now = Arc::new(AtomicI64::new(micros(OPENED_AT)?));
    let clock_now = now.clone();
    let clock: Clock = Arc::new(move || clock_now.load(Ordering::SeqCst));
    let w = Waymark::new(db, clock);
    let keys = KeyStore::new(keys_dir.clone());
    let at = |ts: &str| -> Result<()> {
        now.store(micros(ts)? + 500_000, Ordering::SeqCst);
        Ok(())
    };

    // 1. The ledger, with the bundled framework's milestones. Its bodies and decision
    // modules (today's designs, as `init --framework optimism` records them) are left
    // out: the history defines them with their sourced 2024 designs and transfers
    // authority until they reach today's (tools/check_history.py checks they end equal).
    let mut framework = waymark_core::load_framework("optimism")?;
    framework.bodies.clear();
    framework.decisions.clear();
    let founder = keys.load_or_create(&keys.actor_path("foundation"))?.0;
    let log = keys.load_or_create(&keys.log_path(LEDGER))?.0;
    let args = InitArgs {
        framework: "optimism".into(),
        title: Some("Optimism decentralization milestones (demo reconstruction)".into()),
        origin: Some("waymark.demo/optimism".into()),
        founder: "foundation".into(),
        founder_name: Some("Optimism Foundation (demo steward)".into()),
    };
    at(OPENED_AT)?;
    w.record(
        LEDGER,
        init_statements(LEDGER, &args, &framework, &founder, &log, OPENED_AT),
    )
    .await?;

    // 2. The demo reviewer and reporter.
    for (id, name, role) in ACTORS {
        let key = keys.load_or_create(&keys.actor_path(id))?.0;
        let payload = Payload::ActorRegistered(ActorRegistered {
            actor: (*id).into(),
            name: (*name).into(),
            roles: vec![(*role).into()],
            public_key: encode_public_key(&key.verifying_key()),
        });
        w.record(
            LEDGER,
            vec![signed(
                LEDGER,
                "foundation",
                &founder,
                OPENED_AT.into(),
                payload,
            )],
        )
        .await?;
    }

    // 3. The sourced history, one statement at a time, in time order.
    let lines = parse_apply_lines(HISTORY.as_bytes())?;
    for l in &lines {
        let issued = l.issued_at.clone().ok_or_else(|| {
            Error::BadInput(format!("demo history line {} has no issued_at", l.line))
        })?;
        let key = keys.load_actor(&l.actor)?;
        at(&issued)?;
        w.record(
            LEDGER,
            vec![signed(
                LEDGER,
                &l.actor,
                &key,
                issued.clone(),
                l.payload.clone(),
            )],
        )
        .await
        .map_err(|e| match e {
            Error::Rejected { rejection, .. } => Error::Rejected {
                line: Some(l.line),
                rejection,
            },
            e => e,
        })?;
    }

    w.settle().await;
    let status = w.status(LEDGER, None).await?;
    let report = w.verify(LEDGER).await?;
    if cli.json {
        println!(
            "{}",
            serde_json::json!({ "status": status, "verify": report })
        );
    } else {
        println!(
            "Built the Optimism demo ledger: {} events from the sourced history of Seasons 6–9.\n",
            report.checked
        );
        print!("{}", render_status(&status));
        if let Some(a) = &status.authority {
            println!(
                "decisions: {} modules, {} at their target design, {} still decided by the Foundation",
                a.decisions, a.at_target, a.foundation_decides
            );
        }
        print_report(&report, false);
        let url = crate::storage::redact(
            &cli.db
                .clone()
                .unwrap_or_else(|| "sqlite://waymark-demo.db".into()),
        );
        print!("{}", explore_hints(&url, &keys_dir));
    }
    Ok(if report.ok { 0 } else { 3 })
}

/// The closing hints: commands to paste as they are, written the way this process
/// was started (`cargo run --release --` under cargo, else the program's own path),
/// with the demo's database and key store spelled out.
fn explore_hints(db: &str, keys: &std::path::Path) -> String {
    let program = if std::env::var_os("CARGO").is_some() {
        "cargo run --release --".to_string()
    } else {
        std::env::args().next().unwrap_or_else(|| "waymark".into())
    };
    let run = format!("{program} --db {db} --keys {}", keys.display());
    let mut out = String::from(
        "\nExplore it (the hashes above differ on every run: the demo's keys are fresh):\n",
    );
    for cmd in [
        "history S-5",
        "status --as-of season:7",
        "decisions",
        "history protocol-upgrades",
        "review 8",
        "graph --format svg --out graph.svg",
        "publish site",
        "serve",
    ] {
        out.push_str(&format!("  {run} {cmd}\n"));
    }
    // Files only: no database, no keys.
    out.push_str(&format!(
        "  {program} verify-offline --log site/export.jsonl --snapshot site/snapshot.json\n"
    ));
    out
}
