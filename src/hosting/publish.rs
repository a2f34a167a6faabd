//! `publish DIR`: the files a static web host serves so that anyone can verify the
//! ledger offline, and check that each publication extends the previous one.
//!
//! ```text
//! DIR/export.jsonl            the whole log (SPEC section 7)
//! DIR/checkpoint              the signed checkpoint of the whole log (section 6), at
//!                             the place C2SP tlog-tiles gives it (same bytes as:)
//! DIR/checkpoint.txt          the signed checkpoint of the whole log (section 6)
//! DIR/tile/<L>/<N>[.p/<W>]    the Merkle tree as C2SP tlog-tiles hash tiles
//! DIR/tile/entries/<N>[.p/<W>] the events' leaf bytes (JCS(event)) as entry bundles
//! DIR/snapshot.json           checkpoint + status at the head (section 8)
//! DIR/prev-snapshot.json      the snapshot DIR held before this publication, if any
//! DIR/consistency.json        proof that the previous tree is a prefix of this one
//! DIR/log-key.txt             the log key's verifier string (pin it elsewhere too)
//! DIR/checkpoints/N.txt       every checkpoint ever published here, by tree size
//! DIR/snapshots/N.json        every snapshot ever published here, by tree size
//! DIR/VERIFY.txt              how to check all of the above
//! ```
//!
//! Before writing, the stored chain is verified in full, and a snapshot already in
//! DIR must open with this ledger's log key and have the same root as this ledger at
//! its size: a log that does not extend what DIR holds is refused (exit 3) and DIR
//! is left as it was. Files are written to a new temporary name and renamed, so a
//! reader never sees half a file; the tiles first (`tiles.rs`: only those DIR lacks,
//! full tiles never rewritten), then `checkpoint` and `snapshot.json` last. Nothing is
//! written through a symlink (`safe_fs`): one at a file's name, or a symlinked
//! subdirectory such as `checkpoints` or `tile`, is refused (exit 4).
//!
//! With the tiles, any client computes any inclusion or consistency proof from a few
//! files (`waymark prove inclusion SEQ --tiles DIR`), and `verify-offline --tiles DIR`
//! verifies the whole log from the entry bundles, checking every tile.

use super::witnessing::{CosignedBy, WitnessTarget};
use crate::error::{Error, Result};
use crate::files::safe::{io_err, SafeDir};
use crate::service::Waymark;
use ed25519_dalek::SigningKey;
use serde::Serialize;
use std::path::{Path, PathBuf};
use waymark_core::ProblemKind;
use waymark_events::{parse_verifier_key, SnapshotBundle};

/// Events exported at a time.
const EXPORT_PAGE: u64 = 2_000;

/// What `publish` wrote.
#[derive(Debug, Serialize)]
pub struct Published {
    pub dir: PathBuf,
    pub tree_size: u64,
    pub root: String,
    /// The size of the snapshot DIR held before, if any.
    pub previous_size: Option<u64>,
    /// Every file written, tiles included.
    pub files: Vec<String>,
    /// How many of them are tiles or entry bundles.
    pub tiles_written: usize,
    /// Partial tiles removed because their full tile now exists.
    pub removed: Vec<String>,
    /// The witnesses that cosigned the checkpoint (`--witness`), and when.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<CosignedBy>,
}

/// Writes `bytes` to `name` (`a/b.txt`) below `dir`: subdirectories are opened or
/// created without following symlinks, and the file is written to a new temporary
/// name and renamed (`safe_fs`), so a symlink planted in DIR cannot redirect it.
fn put(dir: &SafeDir, name: &str, bytes: &[u8], written: &mut Vec<String>) -> Result<()> {
    let (sub, file) = name.rsplit_once('/').unwrap_or(("", name));
    let target = dir
        .subdir(sub, true)?
        .ok_or_else(|| io_err(&dir.join(sub), "no such directory"))?;
    target.write(file, bytes, 0o666)?;
    written.push(name.to_string());
    Ok(())
}

fn refuse(detail: String) -> Error {
    Error::BrokenChain {
        seq: 0,
        problem: ProblemKind::CheckpointMismatch,
        detail,
    }
}

pub async fn publish(
    w: &Waymark,
    ledger: &str,
    dir: &Path,
    log_key: &SigningKey,
    witnesses: &[WitnessTarget],
) -> Result<Published> {
    let open = |create: bool| {
        if create {
            SafeDir::create(dir, 0o755).map(Some)
        } else {
            SafeDir::open(dir)
        }
    };
    publish_in(w, ledger, dir, &open, log_key, witnesses).await
}

/// `publish` into the directory `open` gives (`open(true)` creates it): `site` passes
/// one below its own directory, opened without following symlinks.
pub async fn publish_in(
    w: &Waymark,
    ledger: &str,
    dir: &Path,
    open: &(dyn Fn(bool) -> Result<Option<SafeDir>> + Sync),
    log_key: &SigningKey,
    witnesses: &[WitnessTarget],
) -> Result<Published> {
    let report = w.verify(ledger).await?;
    if !report.ok {
        return Err(Error::BrokenChain {
            seq: report.first_bad_seq.unwrap_or(0),
            problem: report.problem.unwrap_or(ProblemKind::Malformed),
            detail: format!(
                "the stored chain does not verify, nothing published: {}",
                report.detail
            ),
        });
    }
    let state = w.state(ledger).await?;
    let vkey = parse_verifier_key(&state.log_key)
        .map_err(|e| Error::BadInput(format!("LedgerOpened.log_key: {e}")))?;

    let prev_path = dir.join("snapshot.json");
    // The snapshot already in DIR, read without following a symlink, at most as large
    // as `verify-offline` accepts.
    let previous = match open(false)? {
        Some(d) => d
            .read("snapshot.json", waymark_core::MAX_DOC_BYTES)?
            .map(|f| f.bytes),
        None => None,
    };
    let (snapshot, head_root) = {
        let bundle = w.snapshot(ledger, None, log_key).await?;
        let (_, root) = w.root(ledger, Some(bundle.tree_size)).await?;
        (bundle, root)
    };
    let mut previous_size = None;
    if let Some(bytes) = &previous {
        let old = SnapshotBundle::from_bytes(bytes).map_err(|e| {
            refuse(format!(
                "{} is not a snapshot bundle ({e}); refusing to overwrite it",
                prev_path.display()
            ))
        })?;
        if old.ledger != ledger {
            return Err(refuse(format!(
                "{} holds ledger {:?}, not {ledger:?}",
                prev_path.display(),
                old.ledger
            )));
        }
        let cp = old.open_checkpoint(&vkey).map_err(|e| {
            refuse(format!(
                "the snapshot in {} does not open with this ledger's log key: {e}",
                dir.display()
            ))
        })?;
        if cp.size > snapshot.tree_size {
            return Err(Error::BrokenChain {
                seq: snapshot.tree_size + 1,
                problem: ProblemKind::Truncated,
                detail: format!(
                    "{} already publishes {} events, this ledger has {}: refusing to publish a shorter log",
                    dir.display(),
                    cp.size,
                    snapshot.tree_size
                ),
            });
        }
        let (_, root) = w.root(ledger, Some(cp.size)).await?;
        if root != cp.root {
            return Err(refuse(format!(
                "this ledger's root at size {} is {root}, the published one is {}: the log does not extend what {} holds",
                cp.size,
                cp.root,
                dir.display()
            )));
        }
        previous_size = Some(cp.size);
    }

    // Witnesses cosign before anything is written: a refusal leaves DIR as it was.
    let mut snapshot = snapshot;
    let mut cosigned_by = Vec::new();
    if !witnesses.is_empty() {
        let (note, by) = crate::hosting::witnessing::cosign(
            w,
            ledger,
            &snapshot.checkpoint,
            snapshot.tree_size,
            witnesses,
        )
        .await?;
        snapshot.checkpoint = note;
        cosigned_by = by;
    }

    let mut files = Vec::new();
    let root = open(true)?.ok_or_else(|| io_err(dir, "no such directory"))?;
    let dir = &root;
    let n = snapshot.tree_size;
    // The export a page of events at a time: memory stays flat at any length.
    let mut export = dir.create_file("export.jsonl", 0o666)?;
    let mut from = 1;
    while from <= n {
        let upto = n.min(from + EXPORT_PAGE - 1);
        export.write_all(&w.export_range(ledger, from, upto).await?)?;
        from = upto + 1;
    }
    export.commit()?;
    files.push("export.jsonl".to_string());
    put(
        dir,
        "log-key.txt",
        format!("{}\n", state.log_key).as_bytes(),
        &mut files,
    )?;
    put(
        dir,
        "checkpoint.txt",
        snapshot.checkpoint.as_bytes(),
        &mut files,
    )?;
    put(
        dir,
        &format!("checkpoints/{n}.txt"),
        snapshot.checkpoint.as_bytes(),
        &mut files,
    )?;
    let bundle = snapshot.to_bytes();
    put(dir, &format!("snapshots/{n}.json"), &bundle, &mut files)?;
    let tiles = super::tiles::write_tiles(w, ledger, dir, previous_size.unwrap_or(0), n).await?;
    let tiles_written = tiles.written.len();
    files.extend(tiles.written);
    if let (Some(old), Some(bytes)) = (previous_size, &previous) {
        let proof = w.prove_consistency(ledger, old, n).await?.to_bytes();
        put(dir, "consistency.json", &proof, &mut files)?;
        put(
            dir,
            &format!("consistency/{old}-{n}.json"),
            &proof,
            &mut files,
        )?;
        put(dir, "prev-snapshot.json", bytes, &mut files)?;
    }
    put(
        dir,
        "VERIFY.txt",
        verify_text(ledger, &state.log_key, previous_size).as_bytes(),
        &mut files,
    )?;
    put(
        dir,
        "checkpoint",
        snapshot.checkpoint.as_bytes(),
        &mut files,
    )?;
    put(dir, "snapshot.json", &bundle, &mut files)?;
    let removed = super::tiles::remove_partials(dir, &tiles.full)?;
    if !witnesses.is_empty() {
        // Kept with the ledger for the dashboard and for `serve`'s `checkpoint`.
        w.save_witnessed(
            ledger,
            &crate::storage::Witnessed {
                tree_size: n,
                note: snapshot.checkpoint.clone(),
                witnesses: witnesses.iter().map(|t| t.key.vkey()).collect(),
                published_at: crate::cli::now(),
            },
        )
        .await?;
    }
    Ok(Published {
        dir: root.path().to_path_buf(),
        tree_size: n,
        root: head_root.to_hex(),
        previous_size,
        files,
        tiles_written,
        removed,
        witnesses: cosigned_by,
    })
}

fn verify_text(ledger: &str, log_key: &str, previous: Option<u64>) -> String {
    let prev = if previous.is_some() {
        " \\\n    --prev-snapshot prev-snapshot.json --consistency consistency.json"
    } else {
        ""
    };
    format!(
        "Ledger {ledger}, published by Waymark. Log key (pin it from a second source):\n\
         \n    {log_key}\n\
         \n\
         With Waymark, from these files only:\n\
         \n    waymark verify-offline --log export.jsonl --snapshot snapshot.json \\\n    --key \"$(cat log-key.txt)\"{prev}\n\
         \n\
         The same log as C2SP tlog-tiles (checkpoint, tile/, tile/entries/), with every\n\
         tile checked against the entries, or one proof computed from a few tiles and\n\
         verified against the checkpoint before it is printed:\n\
         \n    waymark verify-offline --tiles . --key \"$(cat log-key.txt)\"\
         \n    waymark prove inclusion SEQ --tiles . --key \"$(cat log-key.txt)\"\n\
         \n\
         Without Waymark: checkpoint (and checkpoint.txt, the same bytes) is a C2SP signed\n\
         note (tlog-checkpoint) that any signed-note implementation opens with the key\n\
         above (for instance Go's golang.org/x/mod/sumdb/note); its root is the RFC 9162\n\
         Merkle root over the events of export.jsonl (leaf hash = each line's \"hash\").\n\
         tile/ holds that tree as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): any\n\
         tlog-tiles client (Go's golang.org/x/mod/sumdb/tlog.TileHashReader, with tile\n\
         paths tile/L/N[.p/W]) computes proofs from it; tile/entries/ holds each event's\n\
         leaf bytes, JCS(event), in entry bundles. consistency.json and the files in\n\
         consistency/ are RFC 9162 consistency proofs between published tree sizes.\n\
         SPEC sections 6 to 8 give every byte.\n"
    )
}
