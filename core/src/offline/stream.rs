//! The export, streamed: read and prepared ahead on every core (strict JSON, JCS
//! form, hash, signature), replayed in order through the [`Replayer`].

use super::io_error;
use super::plan::Plan;
use super::sig_index::SigIndex;
use crate::error::{Error, Result};
use crate::replay::Replayer;
use crate::state::KeyHints;
use crate::verdict::{Problem, ProblemKind};
use serde_json::Value;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use waymark_events::{canonical_value, parse_strict, CompactRange, Event, Hash};
use waymark_projections::StatusFold;

/// Reads one line into `buf` (cleared first), up to and including its newline, but
/// never more than `max + 1` bytes. Returns the bytes consumed (0 at the end).
pub(super) fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
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
) -> Result<Prepared, (ProblemKind, String)> {
    let value = parse_strict(body).map_err(|e| {
        (
            ProblemKind::Malformed,
            format!("line {position}: not strict JSON: {e}"),
        )
    })?;
    let canonical = canonical_value(&value);
    if canonical != body {
        return Err((
            ProblemKind::Malformed,
            format!("line {position}: not byte-identical to its JCS encoding (SPEC section 7)"),
        ));
    }
    let (event, claimed) = Event::from_export_value(&value)
        .map_err(|e| (ProblemKind::Malformed, format!("line {position}: {e}")))?;
    drop(value);
    // The hash first, as the independent verifier does: a line that was edited
    // without rehashing is a hash mismatch, whatever field was edited.
    let hash = event.hash();
    if hash != claimed {
        return Err((
            ProblemKind::HashMismatch,
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

type PreparedLine = Option<Result<Prepared, (ProblemKind, String)>>;

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
pub(super) fn stream(
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
                    ProblemKind::Malformed,
                    format!("line {position} is longer than {max_line} bytes (a statement is at most 64 KiB)"),
                );
            }
            let Some(prepared) = prepared else {
                return bad(
                    ProblemKind::Truncated,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
