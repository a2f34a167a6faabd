//! `waymark monitor SOURCE`: a watchdog for a published ledger, to run from cron.
//!
//! Each run fetches the log's latest checkpoint (C2SP tlog-tiles: `SOURCE/checkpoint`),
//! opens it with the pinned log key, checks the witnesses' cosignatures when a quorum
//! is asked for, and compares it with the last checkpoint it accepted: a smaller tree
//! is a rollback, the same size with another root a fork. It then fetches only the new
//! entries (`SOURCE/tile/entries/…`), folds their leaf hashes into the Merkle frontier
//! it saved — the new root must come out as the checkpoint's, which proves the new
//! tree extends the old one without trusting any proof the log serves — and replays
//! them from the rule state it saved (hashes, links, time, signatures, every rule of
//! SPEC sections 5 and 13). It prints what changed, in the audit trail's words.
//!
//! On a fork, a rollback, a bad signature, a failed quorum or a rule violation it exits
//! 3, keeps its last good state, and saves the evidence (both checkpoints, and the
//! offending entry) under `STATE/evidence/`.
//!
//! # Layout
//! - this file — one run: fetch, compare, replay, report;
//! - the source is the core's `TileSource` (a directory, or an http(s) prefix through
//!   `hosting::UrlSource`), read as tlog-tiles resources;
//! - `state` — what a run leaves for the next (`state.json`, `sigs.bin`, the lock).

mod state;

use crate::error::{Error, Result};
use serde::Serialize;
use state::{Saved, SigDigests, StateDir, STATE_FORMAT};
use std::path::PathBuf;
use waymark_core::{max_tile_bytes, TileSource, MAX_CHECKPOINT_BYTES};
use waymark_core::{ProblemKind, Quorum, Replayer};
use waymark_events::{
    canonical_value, format_timestamp, leaf_hash, open_checkpoint_bytes, parse_bundle,
    parse_strict, parse_verifier_key, Checkpoint, CompactRange, Event, Hash, Payload, Tile,
    TileKind, VerifierKey,
};

/// Where a monitor reads the log: a tlog-tiles prefix (a directory, or an http(s) URL).
pub struct Source {
    /// As given on the command line.
    pub name: String,
    pub tiles: Box<dyn TileSource + Send>,
}

impl Source {
    /// `SOURCE`: an http(s) URL prefix, or a directory.
    pub fn open(arg: &str) -> Result<Source> {
        let tiles: Box<dyn TileSource + Send> = if arg.starts_with("http://")
            || arg.starts_with("https://")
        {
            Box::new(crate::hosting::UrlSource::new(arg))
        } else {
            let path = std::path::Path::new(arg);
            if !path.is_dir() {
                return Err(Error::Usage(format!(
                        "{arg}: neither an http(s) URL nor a directory (it should hold `checkpoint` and `tile/`)"
                    )));
            }
            Box::new(waymark_core::DirSource::new(path))
        };
        let name = if arg.contains("://") {
            arg.trim_end_matches('/').to_string()
        } else {
            std::fs::canonicalize(arg).map_or_else(|_| arg.to_string(), |p| p.display().to_string())
        };
        Ok(Source { name, tiles })
    }

    fn get(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.tiles.read(name, max)?)
    }
}

/// The entry bundle holding entry `index` (0-based) of a tree of `size` entries.
fn bundle_at(index: u64, size: u64) -> Option<Tile> {
    Tile::at(TileKind::Entries, index / 256, size)
}
use waymark_projections::{HistoryFold, HistoryRow};

/// The most audit rows one report carries (the newest); a first run over a large log
/// reports the rest as a count.
pub const MAX_ROWS: usize = 10_000;

/// What to watch and how.
pub struct MonitorOptions {
    pub source: Source,
    /// The state directory; `None`: a default one per source under the user's data
    /// directory.
    pub state: Option<PathBuf>,
    /// The log key to pin (verifier string or a file holding one). Without it the
    /// first run takes the log's own (trust on first use) and later runs the saved one.
    pub key: Option<String>,
    pub quorum: Option<Quorum>,
}

/// What one run found.
#[derive(Debug, Clone, Serialize)]
pub struct MonitorReport {
    pub ok: bool,
    pub source: String,
    pub state: String,
    /// The size the last run accepted (`None` on the first run).
    pub previous_size: Option<u64>,
    /// The size of the checkpoint fetched now.
    pub size: u64,
    pub root: Option<Hash>,
    /// The new events, in the audit trail's words (the newest [`MAX_ROWS`]).
    pub changes: Vec<HistoryRow>,
    /// New events not listed in `changes`.
    pub omitted: u64,
    /// Each configured witness's verdict on the checkpoint.
    pub witnesses: Vec<String>,
    pub problem: Option<ProblemKind>,
    pub first_bad_seq: Option<u64>,
    pub detail: String,
    /// Files saved as evidence of a failure.
    pub evidence: Vec<String>,
    pub warnings: Vec<String>,
}

/// The default state directory for a source.
fn default_state(source: &Source) -> Result<PathBuf> {
    use sha2::{Digest, Sha256};
    let base = dirs::data_local_dir().ok_or_else(|| {
        Error::Usage("no data directory for the monitor's state: pass --state DIR".into())
    })?;
    let tag = hex::encode(&Sha256::digest(source.name.as_bytes())[..8]);
    Ok(base.join("waymark").join("monitor").join(tag))
}

fn pinned_key(arg: &str) -> Result<VerifierKey> {
    if let Ok(k) = parse_verifier_key(arg.trim()) {
        return Ok(k);
    }
    let text = std::fs::read_to_string(arg).map_err(|_| {
        Error::Usage(format!(
            "--key {arg:?} is neither a log verifier key nor a readable file holding one"
        ))
    })?;
    parse_verifier_key(text.trim()).map_err(|e| Error::Usage(format!("--key {arg}: {e}")))
}

/// An entry's event: strict JSON, its own JCS encoding, the event object of SPEC 4.
fn entry_event(leaf: &[u8]) -> std::result::Result<Event, String> {
    let value = parse_strict(leaf).map_err(|e| format!("not strict JSON: {e}"))?;
    if canonical_value(&value) != leaf {
        return Err("not byte-identical to its JCS encoding".into());
    }
    Event::from_value(&value).map_err(|e| e.to_string())
}

/// A failure found by a run, before the report is written.
struct Found {
    problem: ProblemKind,
    seq: Option<u64>,
    detail: String,
    files: Vec<(&'static str, Vec<u8>)>,
}

/// Runs the monitor once.
pub fn run(opts: &MonitorOptions) -> Result<MonitorReport> {
    let state_path = match &opts.state {
        Some(p) => p.clone(),
        None => default_state(&opts.source)?,
    };
    let dir = StateDir::open(&state_path)?;
    let loaded = dir.load()?;
    let mut report = MonitorReport {
        ok: true,
        source: opts.source.name.clone(),
        state: state_path.display().to_string(),
        previous_size: loaded.as_ref().map(|(s, _)| s.size),
        size: 0,
        root: None,
        changes: Vec::new(),
        omitted: 0,
        witnesses: Vec::new(),
        problem: None,
        first_bad_seq: None,
        detail: String::new(),
        evidence: Vec::new(),
        warnings: Vec::new(),
    };
    let note = opts.source.get("checkpoint", MAX_CHECKPOINT_BYTES)?.ok_or_else(|| {
        Error::Storage(crate::StorageError::file(format!(
            "{}: no checkpoint there (is it a published directory, or a tlog-tiles URL prefix such as …/api/ledgers/ID?)",
            opts.source.tiles.locate("checkpoint")
        )))
    })?;
    match check(opts, &dir, loaded, &note, &mut report) {
        Ok(()) => Ok(report),
        Err(found) => {
            let stamp =
                format_timestamp(chrono::Utc::now().timestamp_micros()).replace([':', '.'], "");
            let files: Vec<(&str, &[u8])> = found
                .files
                .iter()
                .map(|(n, b)| (*n, b.as_slice()))
                .collect();
            report.evidence = dir.evidence(&stamp, &files)?;
            report.ok = false;
            report.problem = Some(found.problem);
            report.first_bad_seq = found.seq;
            report.detail = found.detail;
            Ok(report)
        }
    }
}

fn check(
    opts: &MonitorOptions,
    dir: &StateDir,
    loaded: Option<(Saved, SigDigests)>,
    note: &[u8],
    report: &mut MonitorReport,
) -> std::result::Result<(), Found> {
    let fail = |problem, detail: String, files: Vec<(&'static str, Vec<u8>)>| Found {
        problem,
        seq: None,
        detail,
        files,
    };
    let old_note = loaded
        .as_ref()
        .map(|(s, _)| s.checkpoint.as_bytes().to_vec());
    let both = |label: &'static str| -> Vec<(&'static str, Vec<u8>)> {
        let mut v = vec![(label, note.to_vec())];
        if let Some(old) = &old_note {
            v.push(("previous-checkpoint.txt", old.clone()));
        }
        v
    };
    // The log key: pinned, saved, or (first run) the log's own.
    let pinned = match &opts.key {
        Some(k) => {
            Some(pinned_key(k).map_err(|e| fail(ProblemKind::Malformed, e.to_string(), vec![]))?)
        }
        None => None,
    };
    let key = match (&pinned, &loaded) {
        (Some(p), Some((s, _))) if parse_verifier_key(&s.log_key).ok().as_ref() != Some(p) => {
            return Err(fail(
                ProblemKind::CheckpointMismatch,
                format!(
                    "--key {}+{} is not the log key this state has been tracking ({}); use another --state to watch another log",
                    p.name,
                    hex::encode(p.id),
                    s.log_key
                ),
                vec![],
            ));
        }
        (Some(p), _) => p.clone(),
        (None, Some((s, _))) => parse_verifier_key(&s.log_key).map_err(|e| {
            fail(
                ProblemKind::Malformed,
                format!("saved log key: {e}"),
                vec![],
            )
        })?,
        (None, None) => {
            let size = std::str::from_utf8(note)
                .ok()
                .and_then(|n| waymark_events::split_note(n).ok())
                .and_then(|(text, _)| Checkpoint::parse_body(text).ok())
                .map_or(1, |c| c.size);
            let key = first_log_key(&opts.source, size)?;
            report.warnings.push(
                "the log key was taken from the log itself (trusted on first use); pass --key to pin it"
                    .into(),
            );
            key
        }
    };
    let cp: Checkpoint = open_checkpoint_bytes(note, &key).map_err(|e| {
        fail(
            ProblemKind::CheckpointMismatch,
            format!("the checkpoint does not open with the log key: {e}"),
            both("checkpoint.txt"),
        )
    })?;
    report.size = cp.size;
    report.root = Some(cp.root);
    let note_text = String::from_utf8_lossy(note).into_owned();
    if let Some(q) = &opts.quorum {
        if let Ok(v) = q.verdicts(&note_text) {
            report.witnesses = v.iter().map(|v| v.describe()).collect();
        }
        q.check(&note_text)
            .map_err(|d| fail(ProblemKind::WitnessQuorum, d, both("checkpoint.txt")))?;
    }

    let (mut saved, mut index) = match loaded {
        Some((s, i)) => (s, i),
        None => (
            Saved {
                format: STATE_FORMAT.into(),
                source: opts.source.name.clone(),
                log_key: String::new(),
                checkpoint: String::new(),
                size: 0,
                root: waymark_events::empty_root(),
                frontier: Vec::new(),
                ledger_state: Default::default(),
                history: HistoryFold::new(),
                checked_at: String::new(),
            },
            SigDigests::default(),
        ),
    };
    let old_size = saved.size;
    if cp.size < old_size {
        return Err(fail(
            ProblemKind::Truncated,
            format!(
                "rollback: the log now shows {} events, {old_size} were accepted before (root {}); both checkpoints saved",
                cp.size, saved.root
            ),
            both("checkpoint.txt"),
        ));
    }
    if cp.size == old_size && cp.root != saved.root {
        return Err(fail(
            ProblemKind::CheckpointMismatch,
            format!(
                "fork: at size {} the log now shows root {}, before it showed {}; both checkpoints saved",
                cp.size, cp.root, saved.root
            ),
            both("checkpoint.txt"),
        ));
    }

    // The new entries, bundle by bundle: hashed into the frontier, replayed.
    let mut frontier = CompactRange::from_parts(old_size, saved.frontier.clone()).map_err(|e| {
        fail(
            ProblemKind::Malformed,
            format!("saved frontier: {e:?}"),
            vec![],
        )
    })?;
    let mut replayer = Replayer::resume(std::mem::take(&mut saved.ledger_state), index);
    let mut history = std::mem::take(&mut saved.history);
    let mut violation: Option<Found> = None;
    let mut rows: std::collections::VecDeque<HistoryRow> = Default::default();
    let mut next = old_size; // leaves absorbed so far
    while next < cp.size {
        let Some(tile) = bundle_at(next, cp.size) else {
            break;
        };
        let path = tile.path();
        let bytes = opts
            .source
            .get(&path, max_tile_bytes(&tile))
            .map_err(|e| {
                fail(
                    ProblemKind::Truncated,
                    e.to_string(),
                    both("checkpoint.txt"),
                )
            })?
            .ok_or_else(|| {
                fail(
                    ProblemKind::Truncated,
                    format!(
                        "{} is missing, though the checkpoint at size {} needs it",
                        opts.source.tiles.locate(&path),
                        cp.size
                    ),
                    both("checkpoint.txt"),
                )
            })?;
        let entries = parse_bundle(&tile, &bytes).map_err(|e| {
            fail(
                ProblemKind::Malformed,
                format!("{path}: {e}"),
                both("checkpoint.txt"),
            )
        })?;
        let first = tile.index() * 256;
        for leaf in &entries[(next - first) as usize..] {
            let seq = next + 1;
            let hash = leaf_hash(leaf);
            frontier.push(hash);
            next += 1;
            if violation.is_some() {
                continue; // keep hashing: the root decides whether the log or the entry is at fault
            }
            let event = match entry_event(leaf) {
                Ok(e) => e,
                Err(detail) => {
                    violation = Some(at(seq, ProblemKind::Malformed, detail, leaf, &both));
                    continue;
                }
            };
            if let Err(p) = replayer.step(seq, &event, Some(&hash)) {
                violation = Some(at(seq, p.problem, p.detail, leaf, &both));
                continue;
            }
            rows.push_back(history.row(&event, &hash));
            if rows.len() > MAX_ROWS {
                rows.pop_front();
                report.omitted += 1;
            }
            if let Payload::LedgerOpened(_) = &event.statement.payload {
                // the log key the chain declares must be the one checkpoints use
                if replayer.state().log_key != key.to_string_lossless() {
                    violation = Some(at(
                        seq,
                        ProblemKind::CheckpointMismatch,
                        format!(
                            "LedgerOpened declares log key {}, the checkpoint is signed with {}",
                            replayer.state().log_key,
                            key.to_string_lossless()
                        ),
                        leaf,
                        &both,
                    ));
                }
            }
        }
    }
    if frontier.root() != cp.root {
        let detail = if old_size > 0 {
            format!(
                "fork: the {} new entries do not extend the tree of size {old_size} (root {}) to the checkpoint's root {} at size {}; both checkpoints saved",
                cp.size - old_size,
                saved.root,
                cp.root,
                cp.size
            )
        } else {
            format!(
                "the entries served do not hash to the checkpoint's root {} at size {}",
                cp.root, cp.size
            )
        };
        return Err(fail(
            ProblemKind::CheckpointMismatch,
            detail,
            both("checkpoint.txt"),
        ));
    }
    if let Some(v) = violation {
        return Err(v);
    }
    report.changes = rows.into_iter().collect();
    index = std::mem::take(replayer.index_mut());
    let saved = Saved {
        format: STATE_FORMAT.into(),
        source: saved.source,
        log_key: key.to_string_lossless(),
        checkpoint: note_text,
        size: cp.size,
        root: cp.root,
        frontier: frontier.hashes().to_vec(),
        ledger_state: replayer.state().clone(),
        history,
        checked_at: format_timestamp(chrono::Utc::now().timestamp_micros()),
    };
    dir.save(&saved, old_size, &index).map_err(|e| {
        fail(
            ProblemKind::Malformed,
            format!("saving the state: {e}"),
            vec![],
        )
    })?;
    report.detail = if cp.size == old_size {
        format!("no change: still {} events, root {}", cp.size, cp.root)
    } else {
        format!(
            "{} new events checked (seq {}..{}): the tree extends the last one; hashes, links, signatures and rules hold",
            cp.size - old_size,
            old_size + 1,
            cp.size
        )
    };
    Ok(())
}

fn at(
    seq: u64,
    problem: ProblemKind,
    detail: String,
    leaf: &[u8],
    both: &dyn Fn(&'static str) -> Vec<(&'static str, Vec<u8>)>,
) -> Found {
    let mut files = both("checkpoint.txt");
    files.push(("entry.json", leaf.to_vec()));
    Found {
        problem,
        seq: Some(seq),
        detail,
        files,
    }
}

/// The log key that the log's first entry (`LedgerOpened`) declares; `size` (read
/// from the checkpoint before its signature can be checked) says which first bundle
/// exists.
fn first_log_key(source: &Source, size: u64) -> std::result::Result<VerifierKey, Found> {
    let fail = |detail: String| Found {
        problem: ProblemKind::Malformed,
        seq: Some(1),
        detail,
        files: vec![],
    };
    let tile = bundle_at(0, size.max(1)).ok_or_else(|| fail("an empty log".into()))?;
    let path = tile.path();
    let bytes = source
        .get(&path, max_tile_bytes(&tile))
        .map_err(|e| fail(e.to_string()))?
        .ok_or_else(|| {
            fail(format!(
                "{path} is missing: no first entry to take the log key from; pass --key"
            ))
        })?;
    let entries = parse_bundle(&tile, &bytes).map_err(|e| fail(format!("{path}: {e}")))?;
    let first = entries
        .first()
        .ok_or_else(|| fail(format!("{path}: empty")))?;
    let event = entry_event(first).map_err(|e| fail(format!("seq 1: {e}")))?;
    match &event.statement.payload {
        Payload::LedgerOpened(p) => {
            parse_verifier_key(&p.log_key).map_err(|e| fail(format!("LedgerOpened.log_key: {e}")))
        }
        _ => Err(fail("seq 1 is not LedgerOpened".into())),
    }
}

trait Lossless {
    fn to_string_lossless(&self) -> String;
}

impl Lossless for VerifierKey {
    /// The verifier string (`name+id+base64`), as `LedgerOpened.log_key` carries it.
    fn to_string_lossless(&self) -> String {
        waymark_events::verifier_key(&self.name, &self.key)
    }
}
