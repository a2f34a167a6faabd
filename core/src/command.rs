//! The `verify-offline` command, shared by `waymark verify-offline` and the auditor's
//! `waymark-verify`: the same arguments, output and exit codes in both.

use crate::error::Result;
use crate::offline::{verify_offline, verify_tiles, OfflineInputs};
use crate::tiles::{open_dir_source, TileSource};
use crate::verdict::Report;
use std::path::PathBuf;

/// Verify from files only (no database): the export, streamed, and the snapshot,
/// previous snapshot and proofs given.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct VerifyOfflineArgs {
    /// The export (JSON Lines, SPEC section 7)
    #[arg(long, required_unless_present = "tiles", conflicts_with = "tiles")]
    pub log: Option<PathBuf>,
    /// Instead of --log: a tiled log (C2SP tlog-tiles), a directory holding
    /// `checkpoint`, `tile/…` and `tile/entries/…` (what `publish` writes); its
    /// entries, checkpoint and every tile are verified
    #[arg(long, value_name = "SRC")]
    pub tiles: Option<String>,
    /// A snapshot bundle (SPEC section 8) to check against the log
    #[arg(long)]
    pub snapshot: Option<PathBuf>,
    /// An earlier snapshot the log must extend (checked with a consistency proof
    /// computed from the log)
    #[arg(long)]
    pub prev_snapshot: Option<PathBuf>,
    /// The log key to trust (verifier string or a file holding it); default: the
    /// one in LedgerOpened, trusted on first use
    #[arg(long)]
    pub key: Option<String>,
    /// An inclusion proof (SPEC section 6) to check against the log
    #[arg(long)]
    pub inclusion: Option<PathBuf>,
    /// A consistency proof (SPEC section 6) to check against the log
    #[arg(long)]
    pub consistency: Option<PathBuf>,
    /// A witness whose cosignature the checkpoint (of --snapshot or --tiles) must carry: its
    /// verifier key (name+id+base64 of 0x04 and the key), or a file with one per line;
    /// repeat for several
    #[arg(long, value_name = "VKEY")]
    pub witness: Vec<String>,
    /// How many of the --witness keys must have validly cosigned (default: all)
    #[arg(long, value_name = "K")]
    pub quorum: Option<usize>,
}

impl VerifyOfflineArgs {
    pub fn inputs(&self) -> OfflineInputs {
        OfflineInputs {
            log: self.log.clone().unwrap_or_default(),
            snapshot: self.snapshot.clone(),
            prev_snapshot: self.prev_snapshot.clone(),
            key: self.key.clone(),
            inclusion: self.inclusion.clone(),
            consistency: self.consistency.clone(),
            witnesses: self.witness.clone(),
            quorum: self.quorum,
        }
    }
}

/// Opens the source `--tiles SRC` names.
pub type OpenSource<'a> = &'a dyn Fn(&str) -> Result<Box<dyn TileSource>>;

/// Runs `verify-offline`: warnings on stderr, the report on stdout (SPEC section 10's
/// JSON with `json`), and the exit code: 0 verified, 3 not. `--tiles` reads
/// directories only ([`open_dir_source`]).
pub fn run_verify_offline(args: &VerifyOfflineArgs, json: bool) -> Result<i32> {
    run_verify_offline_with(args, json, &open_dir_source)
}

/// [`run_verify_offline`], with `open` opening `--tiles SRC` (`waymark` passes one
/// that reads URLs too).
pub fn run_verify_offline_with(
    args: &VerifyOfflineArgs,
    json: bool,
    open: OpenSource<'_>,
) -> Result<i32> {
    let outcome = match &args.tiles {
        Some(src) => verify_tiles(&*open(src)?, &args.inputs())?,
        None => verify_offline(&args.inputs())?,
    };
    for w in &outcome.warnings {
        eprintln!("waymark: warning: {w}");
    }
    print_report(&outcome.report, json);
    if !json && outcome.report.ok {
        // What was checked besides the log, in the report's own words.
        let given = args.tiles.is_some()
            || args.snapshot.is_some()
            || args.prev_snapshot.is_some()
            || args.inclusion.is_some()
            || args.consistency.is_some();
        let pinned = if args.key.is_some() {
            "the log key pinned with --key"
        } else {
            "the log key taken from the log itself (trusted on first use)"
        };
        if given {
            println!("checked: {}; {pinned}", outcome.report.detail);
        } else {
            println!(
                "checked: {} (log only: no --snapshot, --prev-snapshot, --inclusion or \
                 --consistency given)",
                outcome.report.detail
            );
        }
    }
    Ok(if outcome.report.ok { 0 } else { 3 })
}

/// A verification report as `verify` and `verify-offline` print it. A failure of the
/// chain names its seq; a failure of an artifact (a snapshot, a proof, the key) names
/// the artifact in its detail and no seq.
pub fn print_report(report: &Report, json: bool) {
    if json {
        println!("{}", serde_json::to_string(report).unwrap_or_default());
    } else if report.ok {
        let head = report
            .head
            .as_ref()
            .map(|h| format!(" head seq {} {}", h.seq, h.hash))
            .unwrap_or_default();
        println!("verify: OK, {} events checked;{head}", report.checked);
    } else {
        match report.first_bad_seq {
            Some(seq) => println!(
                "verify: FAILED at seq {seq}: {}: {} ({} events verified before it)",
                report.problem.map_or("?", |p| p.as_str()),
                report.detail,
                report.checked
            ),
            None => println!(
                "verify: FAILED: {}: {} (the log's {} events verified; this check failed after)",
                report.problem.map_or("?", |p| p.as_str()),
                report.detail,
                report.checked
            ),
        }
    }
}
