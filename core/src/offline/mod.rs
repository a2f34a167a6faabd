//! `verify-offline` (SPEC section 10): verification from files only, no database.
//!
//! The export (`--log`, SPEC section 7) is streamed line by line through the same
//! [`Replayer`] as `verify` (seq, links, hashes, time, signatures, every rule), while a
//! compact Merkle frontier absorbs each hash. Whatever the artifacts need is captured
//! on the way, at the sizes they name, and nothing else is kept:
//!
//! - `--snapshot` (SPEC section 8): the root, the head hash and the status projection
//!   at its `tree_size`;
//! - `--prev-snapshot`: the same at its size, plus the tree nodes of the consistency
//!   proof from it to the new size (the `--snapshot`'s, else the log's length), taken
//!   as the frontier completes them;
//! - `--inclusion`, `--consistency` (SPEC section 6): the roots at their sizes and the
//!   leaf at the proven seq.
//!
//! # Memory
//!
//! Flat in the length of the log, except for rule 7 (no replays), which must remember
//! every signature seen. `verify` keeps them in full (≈ 150 bytes an event); here
//! [`SigIndex`] keeps one 16-byte slot an event (a keyed 64-bit hash of the signature
//! and the byte offset of its line) in an open-addressing table at most 80 % full,
//! presized from a first pass that counts the lines: ≈ 20 bytes an event, about 20 MiB
//! at 1M events. A hash match is confirmed by re-reading the earlier line from the file,
//! so the check stays exact (no false positives, no false negatives). Everything else
//! is bounded by the ledger's contents (actors, milestones), not by its length: the
//! rule state, the status fold (dropped once past the last size asked for), one line
//! buffer (lines are capped at [`MAX_LINE_BYTES`]), O(log n) frontier hashes and proof
//! nodes, and the artifacts (capped at [`MAX_DOC_BYTES`]).

//!
//! # Layout
//! - this file — `verify_offline`: what to capture, the stream, then the artifacts;
//! - `stream` — the export read ahead and prepared on every core, replayed in order;
//! - `plan` — what the stream captures for the artifacts;
//! - `checks` — the artifact checks once the log has verified;
//! - `sig_index` — rule 7's flat-memory index;
//! - `tiles` — `--tiles SRC`: a tiled log rebuilt into an export, then all of the above,
//!   plus its checkpoint and every tile checked against the entries.

mod checks;
mod plan;
mod sig_index;
mod stream;
mod tiles;

pub(crate) use tiles::verify_tiles;

use crate::error::{Error, Result};
use crate::replay::Replayer;
use crate::verdict::{ProblemKind, Report};
use crate::witnesses::Quorum;
use checks::Checks;
use plan::Plan;
use sig_index::SigIndex;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use stream::stream;
use waymark_events::{
    consistency_nodes, parse_verifier_key, CompactRange, ConsistencyProofDoc, InclusionProofDoc,
    SnapshotBundle, VerifierKey,
};

/// The longest export line read. A statement is at most 64 KiB (rule 8), so no valid
/// event line comes near this; a longer one is reported as malformed, unread.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The largest snapshot bundle or proof document read.
pub const MAX_DOC_BYTES: u64 = 16 << 20;

/// What `verify-offline` is given: paths, and the log key to trust.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfflineInputs {
    /// The export (JSON Lines, SPEC section 7).
    pub log: PathBuf,
    /// A snapshot bundle (SPEC section 8) the log must match.
    pub snapshot: Option<PathBuf>,
    /// An earlier snapshot bundle the log (up to `snapshot`'s size, if given) must extend.
    pub prev_snapshot: Option<PathBuf>,
    /// The log key's verifier string, or a file holding it. Without it, the
    /// `log_key` of `LedgerOpened` is trusted (on first use).
    pub key: Option<String>,
    /// An inclusion proof document (SPEC section 6).
    pub inclusion: Option<PathBuf>,
    /// A consistency proof document (SPEC section 6).
    pub consistency: Option<PathBuf>,
    /// Witness verifier keys (or files of them) whose cosignatures the checkpoint (of
    /// `snapshot`, and of a tiled log's `checkpoint`) must carry, `quorum` of them
    /// (default: all).
    pub witnesses: Vec<String>,
    pub quorum: Option<usize>,
}

/// The verification report (SPEC section 10) and warnings for the user (stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineOutcome {
    pub report: Report,
    pub warnings: Vec<String>,
}

/// The warning given when no `--key` pins the log key.
pub const TOFU_WARNING: &str =
    "the log key was taken from the log itself (trusted on first use); pass --key to pin it";

/// A signed checkpoint note the whole log must match (its size the log's length, its
/// root the log's root): the `checkpoint` of a tiled log.
pub(crate) struct NoteArtifact {
    pub(crate) text: String,
    /// Where it was read, for messages.
    pub(crate) what: String,
}

/// Verifies an export and the artifacts given with it, from files only.
///
/// `Err` only when a file cannot be read (`Error::Storage`) or an argument is unusable
/// (`Error::Usage`: a `--key` that is neither a verifier key nor a file holding one, a
/// `--log` that is not a regular file). Everything about the files' contents is in the
/// report: `ok`, and otherwise `problem`, `first_bad_seq` and `detail`.
pub fn verify_offline(inputs: &OfflineInputs) -> Result<OfflineOutcome> {
    verify_with(inputs, None)
}

/// [`verify_offline`], with the whole log also checked against `note`.
pub(crate) fn verify_with(
    inputs: &OfflineInputs,
    note: Option<&NoteArtifact>,
) -> Result<OfflineOutcome> {
    let pinned = inputs.key.as_deref().map(trusted_key).transpose()?;
    let quorum = Quorum::from_args(&inputs.witnesses, inputs.quorum)?;
    if quorum.is_some() && inputs.snapshot.is_none() && note.is_none() {
        return Err(Error::Usage(
            "--witness: the cosignatures are checked on a checkpoint: pass --snapshot or --tiles"
                .into(),
        ));
    }
    let snapshot = load_doc(inputs.snapshot.as_deref(), "--snapshot", |b| {
        SnapshotBundle::from_bytes(b)
    })?;
    let prev = load_doc(inputs.prev_snapshot.as_deref(), "--prev-snapshot", |b| {
        SnapshotBundle::from_bytes(b)
    })?;
    let inclusion = load_doc(inputs.inclusion.as_deref(), "--inclusion", |b| {
        InclusionProofDoc::from_bytes(b)
    })?;
    let consistency = load_doc(inputs.consistency.as_deref(), "--consistency", |b| {
        ConsistencyProofDoc::from_bytes(b)
    })?;

    let meta = std::fs::metadata(&inputs.log).map_err(|e| io_error(&inputs.log, e))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!(
            "--log {}: not a regular file (the export is read twice and looked back into)",
            inputs.log.display()
        )));
    }
    let lines = count_lines(&inputs.log)?;

    // What to capture while streaming.
    let mut plan = Plan::default();
    if let Some(Ok(s)) = &snapshot {
        plan.snapshot_at(s.tree_size);
    }
    if let Some(Ok(p)) = &prev {
        plan.snapshot_at(p.tree_size);
        let new = match &snapshot {
            Some(Ok(s)) => s.tree_size,
            _ => lines,
        };
        if p.tree_size >= 1 && p.tree_size <= new {
            if let Ok(ids) = consistency_nodes(p.tree_size, new) {
                plan.nodes.extend(ids.into_iter().map(|id| (id, None)));
            }
        }
    }
    if let Some(Ok(d)) = &inclusion {
        plan.roots.insert(d.tree_size, None);
        plan.leaves.insert(d.seq, None);
    }
    if let Some(Ok(d)) = &consistency {
        plan.roots.insert(d.old_size, None);
        plan.roots.insert(d.new_size, None);
    }

    let index = SigIndex::new(&inputs.log, lines);
    let mut replayer = Replayer::with_index(index);
    let mut frontier = CompactRange::new();
    let stopped = stream(
        &inputs.log,
        &mut replayer,
        &mut frontier,
        &mut plan,
        MAX_LINE_BYTES,
    )?;
    if let Some(p) = stopped {
        return Ok(OfflineOutcome {
            report: replayer.report(Some(p)),
            warnings: Vec::new(),
        });
    }
    let n = frontier.size();
    let fail = |f: Fail| OfflineOutcome {
        report: failed(&replayer, f),
        warnings: Vec::new(),
    };
    if n == 0 {
        return Ok(fail(Fail::new(
            ProblemKind::Truncated,
            "the export is empty",
        )));
    }

    // The log key: pinned, or the log's own.
    let state = replayer.state();
    let declared = match parse_verifier_key(&state.log_key) {
        Ok(k) => k,
        Err(e) => {
            return Ok(fail(Fail::at(
                1,
                ProblemKind::Malformed,
                format!("LedgerOpened.log_key: {e}"),
            )))
        }
    };
    let mut warnings = Vec::new();
    let key = match pinned {
        Some(k) if k != declared => {
            return Ok(fail(Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "--key {} is not the log key {} that LedgerOpened (seq 1) declares",
                    show_key(&k),
                    state.log_key
                ),
            )))
        }
        Some(k) => k,
        None => {
            if snapshot.is_some() || prev.is_some() || note.is_some() {
                warnings.push(TOFU_WARNING.to_string());
            }
            declared
        }
    };
    let checks = Checks {
        ledger: &state.ledger,
        origin: &state.origin,
        key: &key,
        n,
        log_root: frontier.root(),
        plan: &plan,
    };
    let mut done = vec![format!(
        "{n} events verified: hashes, links, signatures and rules"
    )];
    let mut new_cp = None;
    let mut run = || -> std::result::Result<(), Fail> {
        if let Some(doc) = &snapshot {
            let (bundle, cp) = checks.snapshot(doc, "--snapshot")?;
            done.push(format!(
                "snapshot at {}: checkpoint, root, head and status",
                bundle.tree_size
            ));
            new_cp = Some(cp);
            if let Some(q) = &quorum {
                let ok = q
                    .check(&bundle.checkpoint)
                    .map_err(|detail| Fail::new(ProblemKind::WitnessQuorum, detail))?;
                done.push(ok);
            }
        }
        if let Some(doc) = &prev {
            let (bundle, cp) = checks.open_bundle(doc, "--prev-snapshot")?;
            let new = checks.consistent(&cp, new_cp.as_ref())?;
            checks.bundle_matches_log(bundle, &cp, "--prev-snapshot")?;
            done.push(format!(
                "the log extends the previous snapshot: consistency {} -> {new}, head and status at {}",
                cp.size, cp.size
            ));
        }
        if let Some(doc) = &inclusion {
            let d = checks.inclusion(doc)?;
            done.push(format!(
                "inclusion of seq {} at tree size {}",
                d.seq, d.tree_size
            ));
        }
        if let Some(doc) = &consistency {
            let d = checks.consistency(doc)?;
            done.push(format!(
                "consistency proof {} -> {}",
                d.old_size, d.new_size
            ));
        }
        if let Some(note) = note {
            let cp = checks.checkpoint_note(&note.text, &note.what)?;
            done.push(format!(
                "the checkpoint {}: signature, size {} and root",
                note.what, cp.size
            ));
            if let Some(q) = &quorum {
                let ok = q
                    .check(&note.text)
                    .map_err(|detail| Fail::new(ProblemKind::WitnessQuorum, detail))?;
                done.push(format!("{}: {ok}", note.what));
            }
        }
        Ok(())
    };
    if let Err(f) = run() {
        return Ok(OfflineOutcome {
            report: failed(&replayer, f),
            warnings,
        });
    }
    let mut report = replayer.report(None);
    report.detail = done.join("; ");
    Ok(OfflineOutcome { report, warnings })
}

/// A failure outside the chain itself (an artifact, or the export's end).
#[derive(Debug)]
struct Fail {
    problem: ProblemKind,
    detail: String,
    seq: Option<u64>,
}

impl Fail {
    fn new(problem: ProblemKind, detail: impl Into<String>) -> Fail {
        Fail {
            problem,
            detail: detail.into(),
            seq: None,
        }
    }

    fn at(seq: u64, problem: ProblemKind, detail: impl Into<String>) -> Fail {
        Fail {
            seq: Some(seq),
            ..Fail::new(problem, detail)
        }
    }
}

fn failed<I>(replayer: &Replayer<I>, f: Fail) -> Report {
    let mut report = replayer.report(None);
    report.ok = false;
    report.first_bad_seq = f.seq;
    report.problem = Some(f.problem);
    report.detail = f.detail;
    report
}

fn io_error(path: &Path, e: io::Error) -> Error {
    Error::Io(format!("{}: {e}", path.display()))
}

/// `<name>+<key id>` (the public key is in the report's other half).
fn show_key(k: &VerifierKey) -> String {
    format!("{}+{}", k.name, hex::encode(k.id))
}

/// `--key`: a verifier key, or the path of a file holding one (white space trimmed).
pub fn trusted_key(arg: &str) -> Result<VerifierKey> {
    let direct = match parse_verifier_key(arg.trim()) {
        Ok(k) => return Ok(k),
        Err(e) => e,
    };
    let path = Path::new(arg);
    if !path.is_file() {
        return Err(Error::Usage(format!(
            "--key {arg:?} is neither a verifier key (<name>+<key id>+<base64 key>: {direct}) nor a file holding one"
        )));
    }
    let mut text = String::new();
    File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_string(&mut text))
        .map_err(|e| io_error(path, e))?;
    parse_verifier_key(text.trim())
        .map_err(|e| Error::Usage(format!("--key {}: {e}", path.display())))
}

/// Why an artifact given with the log is not what it should be (reported as
/// `malformed` once the log has verified).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Unusable {
    #[error("{what} {path}: larger than {MAX_DOC_BYTES} bytes")]
    TooLarge { what: &'static str, path: String },
    #[error("{what} {path}: {detail}")]
    Unparsable {
        what: &'static str,
        path: String,
        detail: String,
    },
}

/// An artifact as read: parsed, or why it is unusable.
type Doc<T> = std::result::Result<T, Unusable>;

/// Reads and parses an artifact: `Err` for I/O, `Some(Err(why))` when it is not what
/// it should be.
fn load_doc<T, E: std::fmt::Display>(
    path: Option<&Path>,
    what: &'static str,
    parse: impl Fn(&[u8]) -> std::result::Result<T, E>,
) -> Result<Option<Doc<T>>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(MAX_DOC_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 > MAX_DOC_BYTES {
        return Ok(Some(Err(Unusable::TooLarge {
            what,
            path: path.display().to_string(),
        })));
    }
    Ok(Some(parse(&bytes).map_err(|e| Unusable::Unparsable {
        what,
        path: path.display().to_string(),
        detail: e.to_string(),
    })))
}

/// The number of newline characters in the file: the number of events in an export
/// that verifies (a first, cheap pass; it sizes the replay index and, when no
/// `--snapshot` gives one, the new size of the `--prev-snapshot` consistency proof).
fn count_lines(path: &Path) -> Result<u64> {
    let mut f = File::open(path).map_err(|e| io_error(path, e))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut count = 0u64;
    loop {
        let got = match f.read(&mut buf) {
            Ok(0) => return Ok(count),
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(path, e)),
        };
        count += buf[..got].iter().filter(|b| **b == b'\n').count() as u64;
    }
}

#[cfg(test)]
mod tests {
    use waymark_events::{CompactRange, Hash};

    /// The frontier holds one hash per set bit of the size: 16 at 2^16 − 1 leaves.
    #[test]
    fn the_frontier_holds_one_hash_per_set_bit() {
        let mut f = CompactRange::new();
        for i in 0..(1u64 << 16) - 1 {
            f.push(Hash([i as u8; 32]));
        }
        assert_eq!(f.hashes().len(), 16);
    }
}
