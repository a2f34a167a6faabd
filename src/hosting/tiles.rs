//! The tiles `publish` writes (C2SP tlog-tiles): hash tiles `tile/<L>/<N>[.p/<W>]` from
//! the tree nodes the store keeps, entry bundles `tile/entries/<N>[.p/<W>]` from the
//! events' leaf bytes, streamed a page of events at a time (a few MiB, whatever the
//! ledger's length).
//!
//! A re-publication after growth writes what `changed_tiles(previous, n)` names (the
//! new full tiles and the partial tiles of the new size) and any other tile of
//! `tiles_for(n)` missing from DIR; a full tile already there is never rewritten (full
//! tiles are immutable). Tiles are written unsynced, then flushed with one `syncfs`
//! before the checkpoint that names them is renamed into place. Once it is, the partial
//! tiles whose full tile now exists are removed (C2SP allows it; a client holding an
//! older checkpoint falls back to the full tile).

use crate::error::{Error, Result, StorageError};
use crate::files::safe::{io_err, SafeDir};
use crate::service::Waymark;
use std::collections::BTreeSet;
use waymark_events::{
    changed_tiles, encode_bundle, tile_bytes, tiles_for, Hash, Tile, TileKind, TILE_WIDTH,
};

/// Events read at a time for level-0 tiles and entry bundles (a multiple of 256).
const PAGE: u64 = 16 * TILE_WIDTH as u64;

/// What [`write_tiles`] did.
#[derive(Debug, Default)]
pub(super) struct TilesWritten {
    /// The paths written (below DIR).
    pub written: Vec<String>,
    /// The full tiles written: their partial tiles can go once the checkpoint is in place.
    pub full: Vec<Tile>,
}

/// The parent directory and file name of a tile path (`tile/0/x001`, `234.p`…).
fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// Writes the tiles of the tree of `n` events that DIR lacks (see the module doc).
pub(super) async fn write_tiles(
    w: &Waymark,
    ledger: &str,
    dir: &SafeDir,
    previous: u64,
    n: u64,
) -> Result<TilesWritten> {
    let mut wanted: BTreeSet<Tile> = changed_tiles(previous, n).into_iter().collect();
    for tile in tiles_for(n) {
        if !wanted.contains(&tile) && !exists(dir, &tile.path())? {
            wanted.insert(tile);
        }
    }
    let mut done = TilesWritten::default();
    // Level-0 tiles and bundles from the events, a run of consecutive indexes at a time.
    let events: BTreeSet<u64> = wanted
        .iter()
        .filter(|t| matches!(t.kind(), TileKind::Entries | TileKind::Hashes { level: 0 }))
        .map(Tile::index)
        .collect();
    for (first, last) in runs(&events) {
        let width = u64::from(TILE_WIDTH);
        let end = n.min((last + 1) * width);
        let mut at = first * width;
        while at < end {
            let page = w
                .leaves_after(ledger, at, (end - at).min(PAGE) as usize)
                .await?;
            if page.is_empty() {
                return Err(Error::Storage(StorageError::inconsistent(format!(
                    "no stored event after seq {at}, the tree has {n}"
                ))));
            }
            // `at` is a multiple of 256 and so is every page but the last: whole tiles.
            for (k, chunk) in page.chunks(TILE_WIDTH as usize).enumerate() {
                let index = at / width + k as u64;
                if let Some(t) = Tile::at(TileKind::Hashes { level: 0 }, index, n) {
                    if wanted.contains(&t) {
                        let hashes: Vec<Hash> = chunk.iter().map(|(_, h)| *h).collect();
                        put(dir, &t, &tile_bytes(&hashes), &mut done)?;
                    }
                }
                if let Some(t) = Tile::at(TileKind::Entries, index, n) {
                    if wanted.contains(&t) {
                        let bundle = encode_bundle(chunk.iter().map(|(b, _)| b.as_slice()))
                            .map_err(|e| Error::BadInput(format!("{t}: {e} (SPEC rule 8)")))?;
                        put(dir, &t, &bundle, &mut done)?;
                    }
                }
            }
            at += page.len() as u64;
        }
    }
    // Levels 1 and up from the stored nodes, one row per hash.
    for t in wanted.iter().filter(|t| t.level().is_some_and(|l| l > 0)) {
        put(dir, t, &w.hash_tile(ledger, t).await?, &mut done)?;
    }
    if !done.written.is_empty() {
        dir.sync_filesystem()?;
    }
    Ok(done)
}

/// Removes the partial tiles of the full tiles in `full` (`<N>.p/<W>` beside `<N>`),
/// once a checkpoint naming the full tile is in place. Returns the paths removed.
pub(super) fn remove_partials(dir: &SafeDir, full: &[Tile]) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for tile in full {
        let path = tile.path();
        let (sub, name) = split(&path);
        let Some(parent) = dir.subdir(sub, false)? else {
            continue;
        };
        let partials = format!("{name}.p");
        let Some(p) = parent.subdir(&partials, false)? else {
            continue;
        };
        for width in p.names()? {
            p.remove(&width)?;
            removed.push(format!("{path}.p/{width}"));
        }
        parent.remove_empty_dir(&partials);
    }
    Ok(removed)
}

/// Whether a regular file is at `path` below `dir` (a symlink or other file there is
/// refused by the write that follows, not followed here).
fn exists(dir: &SafeDir, path: &str) -> Result<bool> {
    let (sub, name) = split(path);
    match dir.subdir(sub, false)? {
        Some(d) => Ok(d.kind(name)?.is_some()),
        None => Ok(false),
    }
}

/// Writes one tile (unsynced: `write_tiles` flushes them all at once), unless it is a
/// full tile already there with these bytes.
fn put(dir: &SafeDir, tile: &Tile, bytes: &[u8], done: &mut TilesWritten) -> Result<()> {
    let path = tile.path();
    let (sub, name) = split(&path);
    let target = dir
        .subdir(sub, true)?
        .ok_or_else(|| io_err(&dir.join(sub), "no such directory"))?;
    if tile.is_full() {
        done.full.push(*tile);
        let same = matches!(target.read(name, bytes.len() as u64), Ok(Some(f)) if f.bytes == bytes);
        if same {
            return Ok(());
        }
    }
    target.write_unsynced(name, bytes, 0o666)?;
    done.written.push(path);
    Ok(())
}

/// Consecutive runs `(first, last)` of a sorted set.
fn runs(set: &BTreeSet<u64>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &i in set {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == i => *last = i,
            _ => out.push((i, i)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_group_consecutive_indexes() {
        let set: BTreeSet<u64> = [0, 1, 2, 5, 7, 8].into_iter().collect();
        assert_eq!(runs(&set), [(0, 2), (5, 5), (7, 8)]);
        assert!(runs(&BTreeSet::new()).is_empty());
    }
}
