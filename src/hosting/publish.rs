//! `publish DIR`: the files a static web host serves so that anyone can verify the
//! ledger offline, and check that each publication extends the previous one.
//!
//! ```text
//! DIR/export.jsonl            the whole log (SPEC section 7)
//! DIR/checkpoint.txt          the signed checkpoint of the whole log (section 6)
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
//! reader never sees half a file; `snapshot.json` is renamed last. Nothing is written
//! through a symlink (`safe_fs`): one at a file's name, or a symlinked subdirectory
//! such as `checkpoints`, is refused (exit 4).

use crate::error::{Error, Result};
use crate::files::safe::{io_err, SafeDir};
use crate::service::Waymark;
use ed25519_dalek::SigningKey;
use serde::Serialize;
use std::path::{Path, PathBuf};
use waymark_core::ProblemKind;
use waymark_events::{parse_verifier_key, SnapshotBundle};

/// What `publish` wrote.
#[derive(Debug, Serialize)]
pub struct Published {
    pub dir: PathBuf,
    pub tree_size: u64,
    pub root: String,
    /// The size of the snapshot DIR held before, if any.
    pub previous_size: Option<u64>,
    pub files: Vec<String>,
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
) -> Result<Published> {
    let open = |create: bool| {
        if create {
            SafeDir::create(dir, 0o755).map(Some)
        } else {
            SafeDir::open(dir)
        }
    };
    publish_in(w, ledger, dir, &open, log_key).await
}

/// `publish` into the directory `open` gives (`open(true)` creates it): `site` passes
/// one below its own directory, opened without following symlinks.
pub async fn publish_in(
    w: &Waymark,
    ledger: &str,
    dir: &Path,
    open: &(dyn Fn(bool) -> Result<Option<SafeDir>> + Sync),
    log_key: &SigningKey,
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

    let mut files = Vec::new();
    let root = open(true)?.ok_or_else(|| io_err(dir, "no such directory"))?;
    let dir = &root;
    let n = snapshot.tree_size;
    put(
        dir,
        "export.jsonl",
        &w.export(ledger, Some(n)).await?,
        &mut files,
    )?;
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
    put(dir, "snapshot.json", &bundle, &mut files)?;
    Ok(Published {
        dir: root.path().to_path_buf(),
        tree_size: n,
        root: head_root.to_hex(),
        previous_size,
        files,
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
         Without Waymark: checkpoint.txt is a C2SP signed note (tlog-checkpoint) that any\n\
         signed-note implementation opens with the key above (for instance Go's\n\
         golang.org/x/mod/sumdb/note); its root is the RFC 9162 Merkle root over the\n\
         events of export.jsonl (leaf hash = each line's \"hash\"); consistency.json and\n\
         the files in consistency/ are RFC 9162 consistency proofs between published\n\
         tree sizes. SPEC sections 6 to 8 give every byte.\n"
    )
}
