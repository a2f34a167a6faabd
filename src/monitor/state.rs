//! What a monitor remembers between runs, in its own directory:
//!
//! ```text
//! STATE/state.json      the last checkpoint it accepted (note, size, root), the log key,
//!                       the Merkle frontier at that size, the rule state and the audit
//!                       trail's fold there — enough to check only the new entries
//! STATE/sigs.bin        rule 7's memory: SHA-256 of every signature seen, 32 bytes an
//!                       event, in seq order (the first `size` records count)
//! STATE/evidence/…      both checkpoints (and the offending event) of every fork,
//!                       rollback or rule violation it saw
//! STATE/lock            held (flock) while a run is under way: two runs from cron
//!                       never interleave
//! ```
//!
//! `sigs.bin` is appended and synced before `state.json` is replaced (written to a new
//! name, synced, renamed), so a run killed at any moment leaves a state that a later
//! run resumes from: records past `size` are cut off on load.

use crate::error::{Error, Result, StorageError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use waymark_core::{LedgerState, ReplayIndex};
use waymark_events::Hash;
use waymark_projections::HistoryFold;

pub const STATE_FORMAT: &str = "waymark-monitor/v1";

/// `state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub format: String,
    /// The source it watches, as given on the first run.
    pub source: String,
    /// The log key (verifier string) the checkpoints must be signed with.
    pub log_key: String,
    /// The last accepted checkpoint, in full (with any cosignatures).
    pub checkpoint: String,
    pub size: u64,
    pub root: Hash,
    /// The compact Merkle frontier at `size` (one hash per set bit of `size`).
    pub frontier: Vec<Hash>,
    pub ledger_state: LedgerState,
    pub history: HistoryFold,
    /// When the run that saved this ended (RFC 3339).
    pub checked_at: String,
}

/// Rule 7's index for a resumed replay: digests of every signature seen.
#[derive(Debug, Default)]
pub struct SigDigests {
    seen: HashSet<[u8; 32]>,
    /// Digests added in this run, in order, to append to `sigs.bin`.
    pub new: Vec<[u8; 32]>,
}

/// SHA-256 of a signature string: 32 bytes instead of ~88 characters; a collision
/// would take a SHA-256 collision between two Ed25519 signatures.
fn digest(sig: &str) -> [u8; 32] {
    Sha256::digest(sig.as_bytes()).into()
}

impl ReplayIndex for SigDigests {
    fn insert_sig(&mut self, _seq: u64, sig: &str) -> bool {
        let d = digest(sig);
        let fresh = self.seen.insert(d);
        if fresh {
            self.new.push(d);
        }
        fresh
    }
}

/// The state directory, locked for this run.
pub struct StateDir {
    pub path: PathBuf,
    _lock: File,
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Storage(StorageError::file(format!("{}: {e}", path.display())))
}

impl StateDir {
    /// Opens (creating) the directory and takes its lock; a second run fails at once
    /// (exit 4) rather than wait behind the first.
    pub fn open(path: &Path) -> Result<StateDir> {
        std::fs::create_dir_all(path).map_err(|e| file_err(path, e))?;
        let lock_path = path.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| file_err(&lock_path, e))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(
            |_| {
                file_err(
                    path,
                    "another `waymark monitor` run holds this state directory's lock",
                )
            },
        )?;
        Ok(StateDir {
            path: path.to_path_buf(),
            _lock: lock,
        })
    }

    /// The saved state and rule 7's index, or `None` on the first run.
    pub fn load(&self) -> Result<Option<(Saved, SigDigests)>> {
        let state_path = self.path.join("state.json");
        let bytes = match std::fs::read(&state_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(file_err(&state_path, e)),
        };
        let saved: Saved = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Storage(StorageError::inconsistent(format!(
                "{}: not a monitor state: {e}",
                state_path.display()
            )))
        })?;
        if saved.format != STATE_FORMAT {
            return Err(Error::Storage(StorageError::inconsistent(format!(
                "{}: format {:?}, expected {STATE_FORMAT:?}",
                state_path.display(),
                saved.format
            ))));
        }
        let sigs_path = self.path.join("sigs.bin");
        let mut raw = Vec::new();
        File::open(&sigs_path)
            .and_then(|f| f.take(saved.size.saturating_mul(32)).read_to_end(&mut raw))
            .map_err(|e| file_err(&sigs_path, e))?;
        if (raw.len() as u64) < saved.size.saturating_mul(32) {
            return Err(Error::Storage(StorageError::inconsistent(format!(
                "{}: {} signature records, the state is at size {}",
                sigs_path.display(),
                raw.len() / 32,
                saved.size
            ))));
        }
        let mut index = SigDigests::default();
        index.seen.reserve(raw.len() / 32);
        for chunk in raw.chunks_exact(32) {
            let mut d = [0u8; 32];
            d.copy_from_slice(chunk);
            index.seen.insert(d);
        }
        Ok(Some((saved, index)))
    }

    /// Saves the state: the new signature digests first (appended after the first
    /// `old_size` records, synced), then `state.json` (new name, synced, renamed).
    pub fn save(&self, saved: &Saved, old_size: u64, index: &SigDigests) -> Result<()> {
        let sigs_path = self.path.join("sigs.bin");
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&sigs_path)
            .map_err(|e| file_err(&sigs_path, e))?;
        f.set_len(old_size * 32)
            .map_err(|e| file_err(&sigs_path, e))?;
        let mut buf = Vec::with_capacity(index.new.len() * 32);
        for d in &index.new {
            buf.extend_from_slice(d);
        }
        use std::io::Seek;
        f.seek(std::io::SeekFrom::End(0))
            .and_then(|_| f.write_all(&buf))
            .and_then(|_| f.sync_all())
            .map_err(|e| file_err(&sigs_path, e))?;
        let json = serde_json::to_vec(saved)
            .map_err(|e| Error::Storage(StorageError::internal(e.to_string())))?;
        write_atomic(&self.path, "state.json", &json)
    }

    /// Saves evidence files under `evidence/<stamp>-<name>`; gives their paths.
    pub fn evidence(&self, stamp: &str, files: &[(&str, &[u8])]) -> Result<Vec<String>> {
        let dir = self.path.join("evidence");
        std::fs::create_dir_all(&dir).map_err(|e| file_err(&dir, e))?;
        let mut out = Vec::new();
        for (name, bytes) in files {
            let file = format!("{stamp}-{name}");
            write_atomic(&dir, &file, bytes)?;
            out.push(dir.join(file).display().to_string());
        }
        Ok(out)
    }
}

fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let target = dir.join(name);
    let mut f = File::create(&tmp).map_err(|e| file_err(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| file_err(&tmp, e))?;
    std::fs::rename(&tmp, &target).map_err(|e| file_err(&target, e))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| file_err(dir, e))
}
