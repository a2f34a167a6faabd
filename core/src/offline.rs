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

use crate::error::{Error, Result};
use crate::replay::{Problem, Replayer, Report};
use crate::sig_index::SigIndex;
use crate::state::KeyHints;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use waymark_events::{
    canonical_bytes, canonical_value, consistency_nodes, consistency_proof_from, empty_root,
    open_checkpoint, parse_strict, parse_verifier_key, verify_consistency, Checkpoint,
    CompactRange, ConsistencyProofDoc, Event, Hash, InclusionProofDoc, NodeId, NoteError,
    SnapshotBundle, VerifierKey,
};
use waymark_projections::StatusFold;

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

/// Verifies an export and the artifacts given with it, from files only.
///
/// `Err` only when a file cannot be read (`Error::Storage`) or an argument is unusable
/// (`Error::Usage`: a `--key` that is neither a verifier key nor a file holding one, a
/// `--log` that is not a regular file). Everything about the files' contents is in the
/// report: `ok`, and otherwise `problem`, `first_bad_seq` and `detail`.
pub fn verify_offline(inputs: &OfflineInputs) -> Result<OfflineOutcome> {
    let pinned = inputs.key.as_deref().map(trusted_key).transpose()?;
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
        return Ok(fail(Fail::new("truncated", "the export is empty")));
    }

    // The log key: pinned, or the log's own.
    let state = replayer.state();
    let declared = match parse_verifier_key(&state.log_key) {
        Ok(k) => k,
        Err(e) => {
            return Ok(fail(Fail::at(
                1,
                "malformed",
                format!("LedgerOpened.log_key: {e}"),
            )))
        }
    };
    let mut warnings = Vec::new();
    let key = match pinned {
        Some(k) if k != declared => {
            return Ok(fail(Fail::new(
                "checkpoint_mismatch",
                format!(
                    "--key {} is not the log key {} that LedgerOpened (seq 1) declares",
                    show_key(&k),
                    state.log_key
                ),
            )))
        }
        Some(k) => k,
        None => {
            if snapshot.is_some() || prev.is_some() {
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
    problem: &'static str,
    detail: String,
    seq: Option<u64>,
}

impl Fail {
    fn new(problem: &'static str, detail: impl Into<String>) -> Fail {
        Fail {
            problem,
            detail: detail.into(),
            seq: None,
        }
    }

    fn at(seq: u64, problem: &'static str, detail: impl Into<String>) -> Fail {
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
fn trusted_key(arg: &str) -> Result<VerifierKey> {
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

/// Reads and parses an artifact: `Err` for I/O, `Some(Err(detail))` when it is not
/// what it should be (reported as `malformed` once the log has verified).
fn load_doc<T, E: std::fmt::Display>(
    path: Option<&Path>,
    what: &str,
    parse: impl Fn(&[u8]) -> std::result::Result<T, E>,
) -> Result<Option<std::result::Result<T, String>>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(MAX_DOC_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 > MAX_DOC_BYTES {
        return Ok(Some(Err(format!(
            "{what} {}: larger than {MAX_DOC_BYTES} bytes",
            path.display()
        ))));
    }
    Ok(Some(
        parse(&bytes).map_err(|e| format!("{what} {}: {e}", path.display())),
    ))
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

/// What the stream captures, keyed by tree size, seq or node.
#[derive(Debug, Default)]
struct Plan {
    roots: BTreeMap<u64, Option<Hash>>,
    leaves: BTreeMap<u64, Option<Hash>>,
    statuses: BTreeMap<u64, Option<Value>>,
    nodes: BTreeMap<NodeId, Option<Hash>>,
}

impl Plan {
    /// A snapshot bundle of `size` events: its root, head and status.
    fn snapshot_at(&mut self, size: u64) {
        self.roots.insert(size, None);
        self.leaves.insert(size, None);
        self.statuses.insert(size, None);
    }

    fn root(&self, size: u64) -> Option<Hash> {
        if size == 0 {
            return Some(empty_root());
        }
        self.roots.get(&size).copied().flatten()
    }

    fn leaf(&self, seq: u64) -> Option<Hash> {
        self.leaves.get(&seq).copied().flatten()
    }
}

/// Reads one line into `buf` (cleared first), up to and including its newline, but
/// never more than `max + 1` bytes. Returns the bytes consumed (0 at the end).
pub(crate) fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    buf.clear();
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(buf.len());
        }
        let room = max + 1 - buf.len();
        let (take, done) = match avail.iter().position(|b| *b == b'\n') {
            Some(i) if i < room => (i + 1, true),
            _ => (avail.len().min(room), false),
        };
        buf.extend_from_slice(&avail[..take]);
        r.consume(take);
        if done || buf.len() > max {
            return Ok(buf.len());
        }
    }
}

/// Lines read, prepared (in parallel) and then replayed (in order) at a time.
const CHUNK_LINES: usize = 512;
/// ... or fewer, once they hold this many bytes (memory stays flat).
const CHUNK_BYTES: usize = 4 << 20;

/// One export line, read.
struct Line {
    bytes: Vec<u8>,
    offset: u64,
}

/// What can be checked of one line on its own, away from the chain: strict JSON,
/// JCS form, the event, its hash, and its signature under the key its actor held
/// when the chunk began (`verified_with`; the replay checks again under any other).
struct Prepared {
    event: Event,
    hash: Hash,
    verified_with: Option<String>,
}

fn prepare(
    body: &[u8],
    position: u64,
    hints: &KeyHints,
) -> Result<Prepared, (&'static str, String)> {
    let value = parse_strict(body).map_err(|e| {
        (
            "malformed",
            format!("line {position}: not strict JSON: {e}"),
        )
    })?;
    let canonical = canonical_value(&value);
    if canonical != body {
        return Err((
            "malformed",
            format!("line {position}: not byte-identical to its JCS encoding (SPEC section 7)"),
        ));
    }
    let (event, claimed) = Event::from_export_value(&value)
        .map_err(|e| ("malformed", format!("line {position}: {e}")))?;
    drop(value);
    // The hash first, as the independent verifier does: a line that was edited
    // without rehashing is a hash mismatch, whatever field was edited.
    let hash = event.hash();
    if hash != claimed {
        return Err((
            "hash_mismatch",
            format!("line {position}: hash {claimed}, but SHA-256(0x00 || JCS(event)) is {hash}"),
        ));
    }
    let verified_with = hints.verified_with(&event.statement, &event.sig);
    Ok(Prepared {
        event,
        hash,
        verified_with,
    })
}

/// Learns from the log, as it is read ahead, the key each actor signs with (a hint
/// only: the replay checks again under any other key).
fn learn_keys(hints: &mut KeyHints, event: &Event) {
    use waymark_events::Payload;
    match &event.statement.payload {
        Payload::LedgerOpened(p) => hints.insert(&p.founder.actor, &p.founder.public_key),
        Payload::ActorRegistered(p) => hints.insert(&p.actor, &p.public_key),
        Payload::ActorKeyRotated(p) => hints.insert(&p.actor, &p.public_key),
        _ => {}
    }
}

type PreparedLine = Option<Result<Prepared, (&'static str, String)>>;

/// Prepares a chunk of lines on every core, in order. A line too long or without
/// its newline is left to the replay, which reports it in its place.
fn prepare_chunk(
    lines: &[Line],
    first_position: u64,
    max_line: usize,
    hints: &KeyHints,
) -> Vec<PreparedLine> {
    crate::par::map_ordered(lines, 16, |i, line| {
        let body = line.bytes.strip_suffix(b"\n")?;
        (line.bytes.len() <= max_line).then(|| prepare(body, first_position + i as u64, hints))
    })
}

/// Reads the export in chunks and prepares each (on every core) ahead of the
/// replay, handing them over in order (the channel holds two chunks).
fn read_ahead(
    path: &Path,
    max_line: usize,
    out: std::sync::mpsc::SyncSender<(Vec<Line>, Vec<PreparedLine>)>,
) -> Result<()> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut hints = KeyHints::default();
    let mut offset = 0u64;
    let mut position = 0u64;
    loop {
        let mut chunk = Vec::with_capacity(CHUNK_LINES);
        let mut bytes = 0;
        while chunk.len() < CHUNK_LINES && bytes < CHUNK_BYTES {
            let mut line = Vec::new();
            let got = read_line(&mut reader, &mut line, max_line).map_err(|e| io_error(path, e))?;
            if got == 0 {
                break;
            }
            bytes += got;
            chunk.push(Line {
                bytes: line,
                offset,
            });
            offset += got as u64;
        }
        if chunk.is_empty() {
            return Ok(());
        }
        let prepared = prepare_chunk(&chunk, position + 1, max_line, &hints);
        for p in prepared.iter().flatten().flatten() {
            learn_keys(&mut hints, &p.event);
        }
        position += chunk.len() as u64;
        if out.send((chunk, prepared)).is_err() {
            // The replay stopped at a problem: nothing more to read.
            return Ok(());
        }
    }
}

/// Streams the export through the replayer. `Ok(Some(problem))` when the chain
/// breaks (the stream stops there); `Ok(None)` when every line verified.
///
/// Two stages run at once: [`read_ahead`] parses, hashes and checks signatures of
/// the next chunks on every core while this thread replays the rules in order.
fn stream(
    path: &Path,
    replayer: &mut Replayer<SigIndex>,
    frontier: &mut CompactRange,
    plan: &mut Plan,
    max_line: usize,
) -> Result<Option<Problem>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(2);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_ahead(path, max_line, tx));
        let outcome = replay_chunks(path, &rx, replayer, frontier, plan, max_line);
        drop(rx);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(Error::Io("the export reader panicked".into())));
        match outcome {
            // A problem found stands, whatever the reader hit after it.
            Ok(Some(p)) => Ok(Some(p)),
            Ok(None) => read.map(|()| None),
            Err(e) => Err(e),
        }
    })
}

fn replay_chunks(
    path: &Path,
    chunks: &std::sync::mpsc::Receiver<(Vec<Line>, Vec<PreparedLine>)>,
    replayer: &mut Replayer<SigIndex>,
    frontier: &mut CompactRange,
    plan: &mut Plan,
    max_line: usize,
) -> Result<Option<Problem>> {
    let fold_until = plan.statuses.keys().next_back().copied().unwrap_or(0);
    let mut fold = (fold_until > 0).then(StatusFold::new);
    let mut position = 0u64;
    while let Ok((chunk, prepared)) = chunks.recv() {
        for (line, prepared) in chunk.iter().zip(prepared) {
            position += 1;
            let bad = |problem, detail: String| {
                Ok(Some(Problem {
                    seq: position,
                    problem,
                    detail,
                }))
            };
            if line.bytes.len() > max_line {
                return bad(
                    "malformed",
                    format!("line {position} is longer than {max_line} bytes (a statement is at most 64 KiB)"),
                );
            }
            let Some(prepared) = prepared else {
                return bad(
                    "truncated",
                    format!(
                        "line {position} does not end with a newline: the export was cut short"
                    ),
                );
            };
            let Prepared {
                event,
                hash,
                verified_with,
            } = match prepared {
                Ok(p) => p,
                Err((problem, detail)) => return bad(problem, detail),
            };
            replayer.index_mut().locate(line.offset);
            let stepped =
                replayer.step_preverified(position, &event, hash, verified_with.as_deref());
            if let Some(e) = replayer.index_mut().error.take() {
                return Err(Error::Io(format!(
                    "{}: re-reading an earlier line for rule 7: {e}",
                    path.display()
                )));
            }
            if let Err(p) = stepped {
                return Ok(Some(p));
            }
            for (id, h) in frontier.push_nodes(hash) {
                if let Some(slot) = plan.nodes.get_mut(&id) {
                    *slot = Some(h);
                }
            }
            if let Some(slot) = plan.roots.get_mut(&position) {
                *slot = Some(frontier.root());
            }
            if let Some(slot) = plan.leaves.get_mut(&position) {
                *slot = Some(hash);
            }
            if let Some(f) = fold.as_mut() {
                f.apply(&event, &hash);
                if let Some(slot) = plan.statuses.get_mut(&position) {
                    *slot = Some(serde_json::to_value(f.status()).unwrap_or(Value::Null));
                }
                if position >= fold_until {
                    fold = None;
                }
            }
        }
    }
    Ok(None)
}

/// The artifact checks, once the log has verified.
struct Checks<'a> {
    ledger: &'a str,
    origin: &'a str,
    key: &'a VerifierKey,
    /// The number of events in the log.
    n: u64,
    log_root: Hash,
    plan: &'a Plan,
}

type Checked<T> = std::result::Result<T, Fail>;

impl Checks<'_> {
    fn same_ledger(&self, ledger: &str, what: &str) -> Checked<()> {
        if ledger == self.ledger {
            Ok(())
        } else {
            Err(Fail::new(
                "malformed",
                format!(
                    "{what} is for ledger {ledger:?}, the log is ledger {:?}",
                    self.ledger
                ),
            ))
        }
    }

    /// Parsed, for this ledger, its checkpoint opened with the trusted key, of its
    /// `tree_size` and the log's origin, and within the log.
    fn open_bundle<'b>(
        &self,
        doc: &'b std::result::Result<SnapshotBundle, String>,
        what: &str,
    ) -> Checked<(&'b SnapshotBundle, Checkpoint)> {
        let bundle = doc
            .as_ref()
            .map_err(|e| Fail::new("malformed", e.clone()))?;
        self.same_ledger(&bundle.ledger, what)?;
        if bundle.tree_size == 0 {
            return Err(Fail::new(
                "malformed",
                format!("{what}: tree_size is 0 (a snapshot covers at least seq 1)"),
            ));
        }
        let cp = open_checkpoint(&bundle.checkpoint, self.key).map_err(|e| {
            let problem = match e {
                NoteError::UnknownKey | NoteError::BadSignature | NoteError::WrongOrigin { .. } => {
                    "checkpoint_mismatch"
                }
                _ => "malformed",
            };
            Fail::new(
                problem,
                format!(
                    "{what}: checkpoint with log key {}: {e}",
                    show_key(self.key)
                ),
            )
        })?;
        if cp.size != bundle.tree_size {
            return Err(Fail::new(
                "checkpoint_mismatch",
                format!(
                    "{what}: the checkpoint is for tree size {}, the bundle's tree_size is {}",
                    cp.size, bundle.tree_size
                ),
            ));
        }
        if cp.origin != self.origin {
            return Err(Fail::new(
                "checkpoint_mismatch",
                format!(
                    "{what}: checkpoint origin {:?} is not the ledger's origin {:?}",
                    cp.origin, self.origin
                ),
            ));
        }
        if cp.size > self.n {
            return Err(Fail::new(
                "truncated",
                format!(
                    "{what} covers {} events, the export has {}",
                    cp.size, self.n
                ),
            ));
        }
        Ok((bundle, cp))
    }

    /// SPEC section 8 against the log: root, head hash and status at `tree_size`.
    fn bundle_matches_log(
        &self,
        bundle: &SnapshotBundle,
        cp: &Checkpoint,
        what: &str,
    ) -> Checked<()> {
        let size = cp.size;
        let root = self.plan.root(size).ok_or_else(|| self.missing(size))?;
        if root != cp.root {
            return Err(Fail::new(
                "checkpoint_mismatch",
                format!(
                    "{what}: the root of the first {size} events of the export is {root}, the checkpoint's is {}",
                    cp.root
                ),
            ));
        }
        let head = self.plan.leaf(size).ok_or_else(|| self.missing(size))?;
        if head != bundle.head_hash {
            return Err(Fail::new(
                "checkpoint_mismatch",
                format!(
                    "{what}: head_hash {} is not the hash {head} of seq {size}",
                    bundle.head_hash
                ),
            ));
        }
        let computed = self
            .plan
            .statuses
            .get(&size)
            .and_then(Option::as_ref)
            .ok_or_else(|| self.missing(size))?;
        if canonical_bytes(computed) != canonical_bytes(&bundle.status) {
            let diff = first_difference(computed, &bundle.status, "status")
                .unwrap_or_else(|| "status differs".into());
            return Err(Fail::new(
                "status_mismatch",
                format!("{what}: the status projection recomputed at seq {size} differs: {diff}"),
            ));
        }
        Ok(())
    }

    fn snapshot<'b>(
        &self,
        doc: &'b std::result::Result<SnapshotBundle, String>,
        what: &str,
    ) -> Checked<(&'b SnapshotBundle, Checkpoint)> {
        let (bundle, cp) = self.open_bundle(doc, what)?;
        self.bundle_matches_log(bundle, &cp, what)?;
        Ok((bundle, cp))
    }

    /// The log (up to the new checkpoint's size, or all of it) extends the previous
    /// checkpoint: a consistency proof computed from the log's nodes verifies between
    /// the two roots. Returns the new size.
    fn consistent(&self, old: &Checkpoint, new_cp: Option<&Checkpoint>) -> Checked<u64> {
        let (new, new_root, new_name) = match new_cp {
            Some(cp) => (cp.size, cp.root, "the --snapshot checkpoint"),
            None => (self.n, self.log_root, "the export"),
        };
        if old.size > new {
            return Err(Fail::new(
                "checkpoint_mismatch",
                format!(
                    "--prev-snapshot is for tree size {}, later than {new_name} (size {new})",
                    old.size
                ),
            ));
        }
        let mut missing = false;
        let proof = consistency_proof_from(old.size, new, |id| {
            self.plan
                .nodes
                .get(&id)
                .copied()
                .flatten()
                .unwrap_or_else(|| {
                    missing = true;
                    Hash::ZERO
                })
        });
        let proof = match proof {
            Ok(p) if !missing => p,
            Ok(_) => return Err(self.missing(new)),
            Err(e) => {
                return Err(Fail::new(
                    "checkpoint_mismatch",
                    format!("consistency {} -> {new}: {e}", old.size),
                ))
            }
        };
        if let Err(e) = verify_consistency(old.size, new, &old.root, &new_root, &proof) {
            let at_old = self.plan.root(old.size);
            let why = if at_old.is_some_and(|r| r != old.root) {
                format!(
                    "the first {} events of the export have root {}, the previous checkpoint says {}",
                    old.size,
                    at_old.unwrap_or(Hash::ZERO),
                    old.root
                )
            } else {
                e.to_string()
            };
            return Err(Fail::new(
                "checkpoint_mismatch",
                format!(
                    "{new_name} (size {new}) does not extend --prev-snapshot (size {}): {why}",
                    old.size
                ),
            ));
        }
        Ok(new)
    }

    fn inclusion<'b>(
        &self,
        doc: &'b std::result::Result<InclusionProofDoc, String>,
    ) -> Checked<&'b InclusionProofDoc> {
        let d = doc
            .as_ref()
            .map_err(|e| Fail::new("malformed", e.clone()))?;
        self.same_ledger(&d.ledger, "--inclusion")?;
        if d.tree_size > self.n {
            return Err(Fail::new(
                "truncated",
                format!(
                    "--inclusion is at tree size {}, the export has {} events",
                    d.tree_size, self.n
                ),
            ));
        }
        if d.seq > d.tree_size {
            return Err(Fail::new(
                "checkpoint_mismatch",
                format!(
                    "--inclusion: seq {} is not in a tree of size {}",
                    d.seq, d.tree_size
                ),
            ));
        }
        let leaf = self.plan.leaf(d.seq).ok_or_else(|| self.missing(d.seq))?;
        if leaf != d.leaf_hash {
            return Err(Fail::new(
                "checkpoint_mismatch",
                format!(
                    "--inclusion: leaf_hash {} is not the hash {leaf} of seq {}",
                    d.leaf_hash, d.seq
                ),
            ));
        }
        let root = self
            .plan
            .root(d.tree_size)
            .ok_or_else(|| self.missing(d.tree_size))?;
        d.verify(&root).map_err(|e| {
            Fail::new(
                "checkpoint_mismatch",
                format!(
                    "--inclusion of seq {} at tree size {} does not verify against the export's root {root}: {e}",
                    d.seq, d.tree_size
                ),
            )
        })?;
        Ok(d)
    }

    fn consistency<'b>(
        &self,
        doc: &'b std::result::Result<ConsistencyProofDoc, String>,
    ) -> Checked<&'b ConsistencyProofDoc> {
        let d = doc
            .as_ref()
            .map_err(|e| Fail::new("malformed", e.clone()))?;
        self.same_ledger(&d.ledger, "--consistency")?;
        for (size, name) in [(d.old_size, "old_size"), (d.new_size, "new_size")] {
            if size > self.n {
                return Err(Fail::new(
                    "truncated",
                    format!(
                        "--consistency: {name} {size} is beyond the export ({} events)",
                        self.n
                    ),
                ));
            }
        }
        let old = self
            .plan
            .root(d.old_size)
            .ok_or_else(|| self.missing(d.old_size))?;
        let new = self
            .plan
            .root(d.new_size)
            .ok_or_else(|| self.missing(d.new_size))?;
        d.verify(&old, &new).map_err(|e| {
            Fail::new(
                "checkpoint_mismatch",
                format!(
                    "--consistency {} -> {} does not verify against the export's roots: {e}",
                    d.old_size, d.new_size
                ),
            )
        })?;
        Ok(d)
    }

    /// A value the stream should have captured but did not (cannot happen for sizes
    /// within the log; reported rather than panicking).
    fn missing(&self, size: u64) -> Fail {
        Fail::new(
            "truncated",
            format!(
                "nothing recorded at size {size} while streaming the export ({} events)",
                self.n
            ),
        )
    }
}

/// The first place where the computed and the given JSON differ, as a path
/// (`status.milestones[2].status: computed "achieved", given "in_progress"`).
fn first_difference(computed: &Value, given: &Value, path: &str) -> Option<String> {
    match (computed, given) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| match (a.get(k), b.get(k)) {
                (Some(x), Some(y)) => first_difference(x, y, &format!("{path}.{k}")),
                (Some(_), None) => Some(format!("{path}.{k} is missing from the given status")),
                _ => Some(format!("{path}.{k} is not in the computed status")),
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() != b.len() => Some(format!(
            "{path}: computed {} items, given {}",
            a.len(),
            b.len()
        )),
        (Value::Array(a), Value::Array(b)) => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]"))),
        _ if canonical_bytes(computed) == canonical_bytes(given) => None,
        _ => Some(format!("{path}: computed {computed}, given {given}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frontier holds one hash per set bit of the size: 16 at 2^16 − 1 leaves.
    #[test]
    fn the_frontier_holds_one_hash_per_set_bit() {
        let mut f = CompactRange::new();
        for i in 0..(1u64 << 16) - 1 {
            f.push(Hash([i as u8; 32]));
        }
        assert_eq!(f.hashes().len(), 16);
    }
    #[test]
    fn lines_are_read_up_to_the_cap() {
        let mut buf = Vec::new();
        let mut r = io::Cursor::new(b"abc\ndefghij\nxy".to_vec());
        assert_eq!(read_line(&mut r, &mut buf, 5).unwrap(), 4);
        assert_eq!(buf, b"abc\n");
        assert_eq!(read_line(&mut r, &mut buf, 5).unwrap(), 6);
        assert_eq!(buf, b"defghi", "over the cap: max + 1 bytes, no newline");
        let mut r = io::Cursor::new(b"xy".to_vec());
        assert_eq!(read_line(&mut r, &mut buf, 5).unwrap(), 2);
        assert_eq!(buf, b"xy");
        assert_eq!(read_line(&mut r, &mut buf, 5).unwrap(), 0);
    }

    #[test]
    fn differences_are_named_by_path() {
        let a = serde_json::json!({"a": [1, {"b": "x"}], "c": null});
        let b = serde_json::json!({"a": [1, {"b": "y"}], "c": null});
        assert_eq!(
            first_difference(&a, &b, "status").unwrap(),
            "status.a[1].b: computed \"x\", given \"y\""
        );
        let c = serde_json::json!({"a": [1, {"b": "x"}]});
        assert_eq!(
            first_difference(&a, &c, "status").unwrap(),
            "status.c is missing from the given status"
        );
        assert_eq!(first_difference(&a, &a, "status"), None);
    }
}
