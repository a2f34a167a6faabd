//! `verify-offline --tiles SRC`: a tiled log (C2SP tlog-tiles) verified as an export.
//!
//! The entry bundles the checkpoint's size calls for are read in order, and each entry
//! (JCS(event), SPEC section 4) becomes the export line JCS(event ∪ {"hash"}) with
//! `hash` = SHA-256(0x00 || entry), the value its level-0 tile must hold. The lines go to
//! a temporary file (the replay re-reads earlier lines for rule 7, so it needs a file),
//! which then goes through the same streamed verification as `--log`: an entry that is
//! not exactly JCS of its event is a `hash_mismatch` there, and every link, signature
//! and rule is checked. Then the checkpoint is checked against the log (signature with
//! the pinned or first-use key, origin, size, root), and every hash tile against the
//! tile recomputed from the entries.
//!
//! What a fault is reported as:
//! - a bundle or tile the checkpoint's size calls for that is missing: `truncated` (the
//!   signed checkpoint says the log has it; SPEC 10: "shorter than an artifact says");
//! - a bundle that does not parse (cut short, overlong, another count than its width),
//!   or an entry that is not a JSON object: `malformed`, at the seq of the entry;
//! - a hash tile that differs from the one recomputed from the entries:
//!   `checkpoint_mismatch`. The entries themselves verify, so no chain problem fits; a
//!   tile is one of the tree's published commitments, from which clients compute roots
//!   and proofs, and SPEC 10 names a checkpoint, root or proof that does not match the
//!   log `checkpoint_mismatch`: a wrong tile is the same failure, one level down.
//!
//! A problem in the entries comes first (the chain is what is being verified), then
//! the checkpoint, then the tiles. Memory stays flat: one bundle, and at most 255
//! pending hashes a tile level.

use super::{
    io_error, trusted_key, verify_with, Fail, NoteArtifact, OfflineInputs, OfflineOutcome,
};
use crate::error::{Error, Result};
use crate::tiles::{max_tile_bytes, unverified_checkpoint, TileSource, MAX_CHECKPOINT_BYTES};
use crate::verdict::{ProblemKind, Report};
use serde_json::Value;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use waymark_events::{
    canonical_value, leaf_hash, open_checkpoint, parse_bundle, parse_strict, tile_bytes, tiles_for,
    Hash, Tile, TileBuilder, TileKind,
};

/// Verifies the tiled log at `source` as `verify_offline` verifies an export (`inputs`'
/// `log` is ignored; its other artifacts are checked against the rebuilt log).
pub(crate) fn verify_tiles(
    source: &dyn TileSource,
    inputs: &OfflineInputs,
) -> Result<OfflineOutcome> {
    let at = source.locate("checkpoint");
    let bytes = source
        .read("checkpoint", MAX_CHECKPOINT_BYTES)?
        .ok_or_else(|| Error::Io(format!("{at}: not found (the source holds no checkpoint)")))?;
    let Ok(note) = String::from_utf8(bytes) else {
        return Ok(artifact_failure(Fail::new(
            ProblemKind::Malformed,
            format!("{at}: not UTF-8"),
        )));
    };
    let Some(claimed) = unverified_checkpoint(&note) else {
        return Ok(artifact_failure(Fail::new(
            ProblemKind::Malformed,
            format!("{at}: not a signed checkpoint note (C2SP tlog-checkpoint)"),
        )));
    };
    // A pinned key is tried first: a checkpoint it does not open is refused before a
    // single bundle is read.
    if let Some(arg) = &inputs.key {
        let key = trusted_key(arg)?;
        if let Err(e) = open_checkpoint(&note, &key) {
            return Ok(artifact_failure(Fail::new(
                ProblemKind::CheckpointMismatch,
                format!("{at}: checkpoint with log key {}: {e}", key.name),
            )));
        }
    }
    let tmp = tempfile::Builder::new()
        .prefix("waymark-tiles-")
        .tempdir()
        .map_err(|e| Error::Io(format!("a temporary directory for the rebuilt export: {e}")))?;
    let log = tmp.path().join("export.jsonl");
    let rebuilt = rebuild(source, claimed.size, &log)?;
    if let Some(stop) = rebuilt.stopped {
        // The log as far as it was rebuilt, alone: a problem within it comes first.
        let seq = stop.seq.unwrap_or(1);
        let prefix = OfflineInputs {
            log,
            key: inputs.key.clone(),
            ..OfflineInputs::default()
        };
        let mut outcome = if seq > 1 {
            verify_with(&prefix, None)?
        } else {
            artifact_failure(Fail::new(ProblemKind::Truncated, ""))
        };
        if seq == 1 || outcome.report.ok {
            outcome.report.ok = false;
            outcome.report.first_bad_seq = stop.seq;
            outcome.report.problem = Some(stop.problem);
            outcome.report.detail = stop.detail;
        }
        return Ok(outcome);
    }
    let note = NoteArtifact {
        text: note,
        what: at,
    };
    let inputs = OfflineInputs {
        log,
        ..inputs.clone()
    };
    let mut outcome = verify_with(&inputs, Some(&note))?;
    if outcome.report.ok {
        match rebuilt.tile {
            Some(f) => {
                outcome.report.ok = false;
                outcome.report.first_bad_seq = None;
                outcome.report.problem = Some(f.problem);
                outcome.report.detail = f.detail;
            }
            None => outcome.report.detail.push_str(&format!(
                "; {} hash tiles and {} entry bundles at {} match the entries",
                rebuilt.tiles,
                rebuilt.bundles,
                source.locate("")
            )),
        }
    }
    Ok(outcome)
}

/// A report for a failure found before any event was verified.
fn artifact_failure(f: Fail) -> OfflineOutcome {
    OfflineOutcome {
        report: Report {
            ok: false,
            checked: 0,
            head: None,
            first_bad_seq: f.seq,
            problem: Some(f.problem),
            detail: f.detail,
        },
        warnings: Vec::new(),
    }
}

/// What rebuilding the export found.
#[derive(Default)]
struct Rebuilt {
    /// Where the rebuild stopped: a bundle missing or not a bundle, an entry that
    /// cannot become an export line.
    stopped: Option<Fail>,
    /// The first hash tile missing or unlike the one recomputed from the entries.
    tile: Option<Fail>,
    /// Hash tiles read and found equal.
    tiles: u64,
    bundles: u64,
}

/// Writes the export lines of the `size` entries at `source` to `out`, checking every
/// hash tile against the entries on the way.
fn rebuild(source: &dyn TileSource, size: u64, out: &Path) -> Result<Rebuilt> {
    let file = File::create(out).map_err(|e| io_error(out, e))?;
    let mut w = BufWriter::with_capacity(256 * 1024, file);
    let mut builder = TileBuilder::new();
    let mut r = Rebuilt::default();
    'bundles: for tile in tiles_for(size)
        .into_iter()
        .filter(|t| t.kind() == TileKind::Entries)
    {
        let first = tile.entry_range().start;
        let at = source.locate(&tile.path());
        let Some(bytes) = source.read(&tile.path(), max_tile_bytes(&tile))? else {
            r.stopped = Some(Fail::at(
                first + 1,
                ProblemKind::Truncated,
                format!("{at} is missing, and the checkpoint of size {size} needs it"),
            ));
            break;
        };
        let entries = match parse_bundle(&tile, &bytes) {
            Ok(e) => e,
            Err(e) => {
                r.stopped = Some(Fail::at(
                    first + 1,
                    ProblemKind::Malformed,
                    format!("{at}: {e}"),
                ));
                break;
            }
        };
        r.bundles += 1;
        for (i, entry) in entries.iter().enumerate() {
            let seq = first + i as u64 + 1;
            let line = match export_line(entry) {
                Ok(line) => line,
                Err(why) => {
                    r.stopped = Some(Fail::at(
                        seq,
                        ProblemKind::Malformed,
                        format!("{at}: entry {i} (seq {seq}): {why}"),
                    ));
                    break 'bundles;
                }
            };
            w.write_all(&line).map_err(|e| io_error(out, e))?;
            for (full, hashes) in builder.push(leaf_hash(entry)) {
                r.check(source, &full, &hashes)?;
            }
        }
    }
    if r.stopped.is_none() {
        for (partial, hashes) in builder.partials() {
            r.check(source, &partial, &hashes)?;
        }
    }
    w.flush().map_err(|e| io_error(out, e))?;
    Ok(r)
}

impl Rebuilt {
    /// Compares the tile at `source` with `hashes`, recomputed from the entries (after
    /// a first failure, no more tiles are read).
    fn check(&mut self, source: &dyn TileSource, tile: &Tile, hashes: &[Hash]) -> Result<()> {
        if self.tile.is_some() {
            return Ok(());
        }
        let at = source.locate(&tile.path());
        let fail = match source.read(&tile.path(), max_tile_bytes(tile))? {
            None => Fail::new(
                ProblemKind::Truncated,
                format!("{at} is missing, and the entries call for it"),
            ),
            Some(bytes) if bytes == tile_bytes(hashes) => {
                self.tiles += 1;
                return Ok(());
            }
            Some(bytes) => {
                let first = bytes
                    .chunks(32)
                    .zip(hashes)
                    .position(|(got, want)| got != want.0)
                    .map_or_else(
                        || format!("{} bytes, {} expected", bytes.len(), hashes.len() * 32),
                        |i| format!("hash {i} differs"),
                    );
                Fail::new(
                    ProblemKind::CheckpointMismatch,
                    format!("{at} is not the tile recomputed from the entries ({first})"),
                )
            }
        };
        self.tile = Some(fail);
        Ok(())
    }
}

/// The export line of an entry: JCS(entry ∪ {"hash": SHA-256(0x00 || entry)}) and a
/// newline. The entry must be a JSON object without `hash`; whether it is exactly
/// JCS(event) is the replay's check (the hash it recomputes from the event).
fn export_line(entry: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let value = parse_strict(entry).map_err(|e| format!("not strict JSON: {e}"))?;
    let Value::Object(mut m) = value else {
        return Err("not a JSON object".into());
    };
    if m.contains_key("hash") {
        return Err("holds a `hash` key: an entry is JCS(event), without its hash".into());
    }
    m.insert("hash".into(), Value::String(leaf_hash(entry).to_hex()));
    let mut line = canonical_value(&Value::Object(m));
    line.push(b'\n');
    Ok(line)
}
