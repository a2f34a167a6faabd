//! `waymark monitor SOURCE`: the command line of the watchdog (`crate::monitor`).

use crate::error::{Error, Result};
use crate::monitor::{run, MonitorOptions, MonitorReport, Source};
use std::path::PathBuf;
use waymark_core::Quorum;

/// `waymark monitor`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct MonitorArgs {
    /// What to watch: a directory `publish` wrote, or an http(s) URL prefix serving
    /// one (a static host, a `site`'s …/api/ledgers/ID, or `serve`'s
    /// http://HOST:PORT/api/ledgers/ID)
    pub source: String,
    /// The monitor's own state directory (default: one per SOURCE under the user's
    /// data directory)
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// The log key to pin (verifier string or a file holding it); default: the one
    /// this state has tracked, or on the first run the log's own (trusted on first use)
    #[arg(long)]
    pub key: Option<String>,
    /// A witness whose cosignature each checkpoint must carry (verifier key, or a
    /// file with one per line); repeat for several
    #[arg(long, value_name = "VKEY")]
    pub witness: Vec<String>,
    /// How many of the --witness keys must have cosigned (default: all)
    #[arg(long, value_name = "K")]
    pub quorum: Option<usize>,
}

/// Runs one monitor pass; exit 0 when all is well, 3 on a fork, a rollback, a failed
/// quorum or any verification failure (with the evidence saved).
pub(crate) async fn monitor(args: &MonitorArgs, json: bool) -> Result<i32> {
    let quorum = Quorum::from_args(&args.witness, args.quorum)?;
    let opts = MonitorOptions {
        source: Source::open(&args.source)?,
        state: args.state.clone(),
        key: args.key.clone(),
        quorum,
    };
    // Blocking file and HTTP reads: off the async workers.
    let report = tokio::task::spawn_blocking(move || run(&opts))
        .await
        .map_err(|e| Error::Storage(crate::StorageError::internal(e.to_string())))??;
    for w in &report.warnings {
        eprintln!("waymark: warning: {w}");
    }
    print(&report, json);
    Ok(if report.ok { 0 } else { 3 })
}

fn print(r: &MonitorReport, json: bool) {
    if json {
        println!("{}", serde_json::to_string(r).unwrap_or_default());
        return;
    }
    if !r.ok {
        let at = r
            .first_bad_seq
            .map(|s| format!(" at seq {s}"))
            .unwrap_or_default();
        println!(
            "monitor: FAILED{at}: {}: {}",
            r.problem.map_or("?", |p| p.as_str()),
            r.detail
        );
        for w in &r.witnesses {
            println!("  witness {w}");
        }
        for e in &r.evidence {
            println!("  evidence saved: {e}");
        }
        return;
    }
    let since = r
        .previous_size
        .map_or("first run".to_string(), |p| format!("since size {p}"));
    println!("monitor: OK, {} ({since}): {}", r.source, r.detail);
    for w in &r.witnesses {
        println!("  witness {w}");
    }
    if r.omitted > 0 {
        println!("  ({} earlier new events not listed)", r.omitted);
    }
    for row in &r.changes {
        let what = if row.milestones.is_empty() {
            String::new()
        } else {
            format!(" {}", row.milestones.join(","))
        };
        let reason = row
            .reason
            .as_deref()
            .map(|r| format!(" — {r}"))
            .unwrap_or_default();
        println!(
            "  seq {} {} {} {}{}: {}{}",
            row.seq, row.recorded_at, row.actor, row.event_type, what, row.change, reason
        );
    }
}
