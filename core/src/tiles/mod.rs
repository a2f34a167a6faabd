//! A tiled log (C2SP tlog-tiles) read from a source: `checkpoint`, `tile/<L>/<N>…` and
//! `tile/entries/<N>…` below a prefix. The core reads directories ([`DirSource`]);
//! `waymark` adds URLs through the same [`TileSource`] trait, so no network crate
//! enters this crate.
//!
//! - this file — [`TileSource`], [`DirSource`], [`open_dir_source`], the size caps;
//! - `log` — [`TiledLog`]: the checkpoint opened, and proofs computed from the few tiles
//!   they need and verified against it before they are returned.

mod log;

pub use log::TiledLog;

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use waymark_events::{
    Checkpoint, Tile, TileKind, FULL_TILE_BYTES, MAX_ENTRY_BYTES, MAX_NOTE_BYTES,
};

/// Where a tiled log is read from: a directory, or (in `waymark`) a URL prefix.
pub trait TileSource {
    /// The bytes of the resource `name` below the prefix (`checkpoint`, `tile/0/000`,
    /// `tile/entries/x001/234.p/7`): `Ok(None)` when it does not exist (a missing file,
    /// HTTP 404), `Err` when it could not be read. More than `max_bytes` is an error.
    fn read(&self, name: &str, max_bytes: u64) -> Result<Option<Vec<u8>>>;

    /// Where `name` is, for messages: a path or a URL.
    fn locate(&self, name: &str) -> String;
}

/// The most bytes a resource of this tile may have: 32 × width for hash tiles, 256
/// entries of up to 65,535 bytes and their 2-byte lengths for an entry bundle.
pub fn max_tile_bytes(tile: &Tile) -> u64 {
    match tile.kind() {
        TileKind::Hashes { .. } => FULL_TILE_BYTES as u64,
        TileKind::Entries => u64::from(tile.width()) * (MAX_ENTRY_BYTES as u64 + 2),
    }
}

/// The most bytes read of a `checkpoint`.
pub const MAX_CHECKPOINT_BYTES: u64 = MAX_NOTE_BYTES as u64;

/// A published directory (`publish DIR`, or a site's `api/ledgers/ID/`).
#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    pub fn new(root: impl Into<PathBuf>) -> DirSource {
        DirSource { root: root.into() }
    }
}

impl TileSource for DirSource {
    fn read(&self, name: &str, max_bytes: u64) -> Result<Option<Vec<u8>>> {
        let path = self.root.join(name);
        let io = |e: std::io::Error| Error::Io(format!("{}: {e}", path.display()));
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        if !file.metadata().map_err(io)?.is_file() {
            return Err(Error::Io(format!("{}: not a regular file", path.display())));
        }
        let mut bytes = Vec::new();
        file.take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > max_bytes {
            return Err(Error::Io(format!(
                "{}: larger than the {max_bytes} bytes it may have",
                path.display()
            )));
        }
        Ok(Some(bytes))
    }

    fn locate(&self, name: &str) -> String {
        self.root.join(name).display().to_string()
    }
}

/// The source `--tiles SRC` names, for a reader of directories only (`waymark-verify`):
/// a URL is refused with a pointer to `waymark`, which reads URLs too.
pub fn open_dir_source(src: &str) -> Result<Box<dyn TileSource>> {
    if src.starts_with("http://") || src.starts_with("https://") {
        return Err(Error::Usage(format!(
            "--tiles {src}: this verifier reads directories only (no network code is built \
             into it); download the checkpoint and tiles first, or use \
             `waymark verify-offline --tiles URL`"
        )));
    }
    let path = Path::new(src);
    if !path.is_dir() {
        return Err(Error::Usage(format!(
            "--tiles {src}: not a directory (it should hold `checkpoint` and `tile/`)"
        )));
    }
    Ok(Box::new(DirSource::new(path)))
}

/// The checkpoint a signed note carries, read without checking its signature (to know
/// how many entries to read before the key to check it with is known). Whoever uses
/// the size must open the note with the trusted key before trusting anything else.
pub(crate) fn unverified_checkpoint(note: &str) -> Option<Checkpoint> {
    let split = note.rfind("\n\n")?;
    Checkpoint::parse_body(&note[..split + 1]).ok()
}
