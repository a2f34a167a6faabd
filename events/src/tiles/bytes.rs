//! Hash tiles and entry bundles as bytes.

use super::{Tile, TileError, TileKind, HASH_BYTES};
use crate::hash::Hash;

/// The bytes of a hash tile: the hashes, concatenated.
pub fn tile_bytes(hashes: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hashes.len() * HASH_BYTES);
    for h in hashes {
        out.extend_from_slice(&h.0);
    }
    out
}

/// The hashes of a hash tile's bytes: exactly 32 × its width.
pub fn parse_tile(tile: &Tile, bytes: &[u8]) -> Result<Vec<Hash>, TileError> {
    if tile.level().is_none() {
        return Err(TileError::WrongKind {
            tile: *tile,
            expected: "a hash tile",
        });
    }
    let expected = tile.width() as usize * HASH_BYTES;
    if bytes.len() != expected {
        return Err(TileError::WrongLength {
            tile: *tile,
            expected,
            got: bytes.len(),
        });
    }
    Ok(bytes
        .chunks_exact(HASH_BYTES)
        .map(|c| {
            let mut h = [0u8; HASH_BYTES];
            h.copy_from_slice(c);
            Hash(h)
        })
        .collect())
}

/// An entry bundle's bytes: each entry prefixed with its length, a big-endian uint16.
pub fn encode_bundle<'a>(
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| TileError::EntryTooLong(e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// The entries of an entry bundle, strictly: exactly `tile.width()` length-prefixed
/// entries and nothing after them.
pub fn parse_bundle<'a>(tile: &Tile, bytes: &'a [u8]) -> Result<Vec<&'a [u8]>, TileError> {
    if tile.kind() != TileKind::Entries {
        return Err(TileError::WrongKind {
            tile: *tile,
            expected: "an entry bundle",
        });
    }
    let bad = |why: String| TileError::BadBundle { tile: *tile, why };
    let width = tile.width() as usize;
    let mut out = Vec::with_capacity(width);
    let mut rest = bytes;
    while !rest.is_empty() {
        if out.len() == width {
            return Err(bad(format!(
                "{} bytes after its {width} entries",
                rest.len()
            )));
        }
        let [hi, lo, body @ ..] = rest else {
            return Err(bad(format!(
                "entry {} is cut short in its length prefix",
                out.len()
            )));
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        if body.len() < len {
            return Err(bad(format!(
                "entry {} claims {len} bytes, {} remain",
                out.len(),
                body.len()
            )));
        }
        out.push(&body[..len]);
        rest = &body[len..];
    }
    if out.len() != width {
        return Err(bad(format!("{} entries, its width is {width}", out.len())));
    }
    Ok(out)
}
