//! C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>): the Merkle tree of SPEC section 6
//! as static tiles, and the log's entries as entry bundles. Pure: paths, which tiles
//! a tree has, tile and bundle bytes, and tree nodes (so roots and proofs) computed
//! from tiles; fetching them is the caller's.
//!
//! - A tile holds up to 256 consecutive hashes of one tile level: level 0 the leaf
//!   hashes (each an event's `hash`), level l ≥ 1 at position i the root of the i-th
//!   *full* tile of level l − 1, i.e. MTH(D[i·256^l .. (i+1)·256^l]). Full tiles are
//!   8,192 bytes and never change; the rightmost tile of each level is partial (width
//!   W = ⌊s / 256^l⌋ mod 256 for a tree of size s), served at `.p/W`, and never hashed
//!   into the level above.
//! - An entry bundle holds the leaf bytes of up to 256 consecutive entries, each
//!   prefixed with its length as a big-endian uint16. In Waymark an entry is JCS(event)
//!   (SPEC section 4; rule 8 keeps it ≤ 65,535 bytes), so its leaf hash is the event's
//!   `hash`.
//! - Paths: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, `<N>` in zero-padded
//!   groups of three digits, all but the last prefixed with `x` (1234067 →
//!   `x001/x234/067`).
//!
//! A tree node of level k = 8·L + j (`NodeId`) is the root of 2^j consecutive hashes of
//! tile level L, all inside one tile, so any root, inclusion proof or consistency proof
//! is computed from a few tiles through the node-source functions of `merkle`
//! ([`TileHashes`]). Tiles are untrusted input: callers check what they compute against
//! a signed checkpoint (`InclusionProofDoc::verify_checkpoint`,
//! `ConsistencyProofDoc::verify_checkpoints`).
//!
//! Why not a crate: Cloudflare's `tlog_tiles` 0.2.0 was examined. It ports Go's sumdb
//! tiles, whose paths are `tile/<H>/<L>/<N>` and `tile/<H>/data/<N>` (the height in the
//! path, record-data tiles instead of entry bundles), not C2SP tlog-tiles'
//! `tile/<L>/<N>` and `tile/entries/<N>`, so it does not implement this specification;
//! and the safety of proofs computed from untrusted tiles comes here from verifying them
//! against the signed checkpoint with the Merkle verifier this crate already has. What
//! remains is path arithmetic and byte layout, written from the specification's text.

//!
//! # Layout
//! - this file — [`Tile`] (coordinates, paths), [`tiles_for`], [`changed_tiles`];
//! - `bytes` — hash tiles and entry bundles as bytes;
//! - `tree` — tree nodes from tiles ([`TileHashes`], [`node_tile`]) and tiles from leaf
//!   hashes ([`TileBuilder`]).

mod bytes;
mod tree;

pub use bytes::{encode_bundle, parse_bundle, parse_tile, tile_bytes};
pub use tree::{node_tile, TileBuilder, TileHashes};

use crate::merkle::ProofError;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// Tree levels per tile: a tile is a subtree of height 8.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes (or entries) in a full tile (or bundle).
pub const TILE_WIDTH: u32 = 256;
/// Bytes of one hash in a tile.
pub const HASH_BYTES: usize = 32;
/// Bytes of a full tile: 256 hashes.
pub const FULL_TILE_BYTES: usize = HASH_BYTES * TILE_WIDTH as usize;
/// The longest entry an entry bundle can hold (its length is a uint16).
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;
/// The highest tile level a path may name (C2SP: 0 to 63). No tree of at most
/// 2^64 − 1 entries has a tile above level 7, so [`Tile::parse`] refuses those as out
/// of range.
pub const MAX_TILE_LEVEL: u8 = 63;

/// Why a tile path, tile, entry bundle or node lookup was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// Not a C2SP tile path (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`).
    #[error("{path:?} is not a tile path: {why}")]
    BadPath { path: String, why: &'static str },
    /// A width outside 1..=256 (256 is a full tile).
    #[error("tile width {0} is not between 1 and 256")]
    BadWidth(u32),
    /// A level above [`MAX_TILE_LEVEL`].
    #[error("tile level {0} is above {MAX_TILE_LEVEL}")]
    BadLevel(u8),
    /// A tile that no tree of at most 2^64 − 1 entries has.
    #[error("tile {what} lies beyond any tree of at most 2^64 - 1 entries")]
    OutOfRange { what: String },
    /// A hash tile whose bytes are not 32 × its width.
    #[error("{tile}: {got} bytes, a tile of width {} has {expected}", .tile.width())]
    WrongLength {
        tile: Tile,
        expected: usize,
        got: usize,
    },
    /// A tile that the tree of this size does not have (beyond its end, or a width
    /// other than the one this size gives).
    #[error("{tile} is not a tile of the tree of size {size}")]
    NotInTree { tile: Tile, size: u64 },
    /// A hash tile was expected and an entry bundle given, or the reverse.
    #[error("{tile} is not {expected}")]
    WrongKind { tile: Tile, expected: &'static str },
    /// A tree node that is not complete in the tree of this size.
    #[error(
        "tree node at level {level}, index {index} is not complete in the tree of size {size}"
    )]
    NodeNotInTree { level: u32, index: u64, size: u64 },
    /// A tile needed for a node was not supplied.
    #[error("{0} is needed and was not read")]
    Missing(Tile),
    /// An entry bundle that is truncated, overlong, or holds another number of entries
    /// than its width.
    #[error("entry bundle {tile}: {why}")]
    BadBundle { tile: Tile, why: String },
    /// An entry longer than a bundle can hold.
    #[error("an entry of {0} bytes is longer than the {MAX_ENTRY_BYTES} bytes a bundle can hold")]
    EntryTooLong(usize),
    /// The Merkle computation refused the sizes or index.
    #[error(transparent)]
    Proof(#[from] ProofError),
}

/// What a tile holds: Merkle tree hashes at a tile level, or entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileKind {
    /// Hashes of tile level `level` (0: the leaf hashes).
    Hashes { level: u8 },
    /// An entry bundle (the leaves of the level-0 tile of the same index).
    Entries,
}

/// A tile coordinate: what it holds, its index within its level, and its width (1 to
/// 256; 256 is a full tile). Construction checks the width and that the tile lies
/// within a tree of at most 2^64 − 1 entries, so every method's arithmetic holds.
///
/// Ordered by kind (hash levels from 0, then entry bundles), index, width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    kind: TileKind,
    index: u64,
    width: u32,
}

impl Tile {
    /// The hash tile `index` of tile level `level`, `width` hashes wide.
    pub fn hashes(level: u8, index: u64, width: u32) -> Result<Tile, TileError> {
        Tile::new(TileKind::Hashes { level }, index, width)
    }

    /// The entry bundle `index`, `width` entries wide.
    pub fn entries(index: u64, width: u32) -> Result<Tile, TileError> {
        Tile::new(TileKind::Entries, index, width)
    }

    /// A tile of `kind`, checked.
    pub fn new(kind: TileKind, index: u64, width: u32) -> Result<Tile, TileError> {
        if width == 0 || width > TILE_WIDTH {
            return Err(TileError::BadWidth(width));
        }
        let level = match kind {
            TileKind::Hashes { level } if level > MAX_TILE_LEVEL => {
                return Err(TileError::BadLevel(level))
            }
            TileKind::Hashes { level } => level,
            TileKind::Entries => 0,
        };
        let tile = Tile { kind, index, width };
        // The tile's last entry must exist in some tree of at most u64::MAX entries:
        // (index·256 + width)·256^level ≤ u64::MAX. 256^8 = 2^64 already exceeds it.
        let end = (u128::from(index) * 256 + u128::from(width))
            .checked_shl(8 * u32::from(level))
            .filter(|_| level < 8);
        match end {
            Some(end) if end <= u128::from(u64::MAX) => Ok(tile),
            _ => Err(TileError::OutOfRange { what: tile.path() }),
        }
    }

    pub fn kind(&self) -> TileKind {
        self.kind
    }

    /// The tile level of a hash tile; `None` for an entry bundle.
    pub fn level(&self) -> Option<u8> {
        match self.kind {
            TileKind::Hashes { level } => Some(level),
            TileKind::Entries => None,
        }
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    /// Hashes (or entries) in the tile: 1 to 256.
    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The full tile at the same place.
    pub fn full(&self) -> Tile {
        Tile {
            width: TILE_WIDTH,
            ..*self
        }
    }

    /// Tree levels below one hash of this tile (8 per tile level; 0 for entries).
    fn shift(&self) -> u32 {
        8 * u32::from(self.level().unwrap_or(0))
    }

    /// The entries `start..end` this tile's hashes (or entries) cover.
    pub fn entry_range(&self) -> Range<u64> {
        // Both fit: `new` checked that `end` is at most u64::MAX.
        let first = self.index * u64::from(TILE_WIDTH);
        (first << self.shift())..((first + u64::from(self.width)) << self.shift())
    }

    /// Whether every hash (or entry) of this tile is complete in a tree of `size`
    /// entries: a server that has such a tree can answer it.
    pub fn complete_in(&self, size: u64) -> bool {
        self.entry_range().end <= size
    }

    /// Whether this is one of the tiles of the tree of exactly `size` entries
    /// ([`tiles_for`]): a full tile within it, or its partial tile of this width.
    pub fn in_tree(&self, size: u64) -> bool {
        Tile::at(self.kind, self.index, size) == Some(*self)
    }

    /// The tile at (`kind`, `index`) of the tree of `size` entries: full, partial, or
    /// `None` when that tree has no hash (or entry) there.
    pub fn at(kind: TileKind, index: u64, size: u64) -> Option<Tile> {
        let count = count_at(kind, size);
        let first = index.checked_mul(u64::from(TILE_WIDTH))?;
        let width = count.checked_sub(first)?.min(u64::from(TILE_WIDTH));
        (width > 0).then_some(Tile {
            kind,
            index,
            width: width as u32,
        })
    }

    /// The C2SP path, without a prefix: `tile/0/x001/234.p/5`, `tile/entries/000`.
    pub fn path(&self) -> String {
        let mut s = match self.kind {
            TileKind::Hashes { level } => format!("tile/{level}/"),
            TileKind::Entries => "tile/entries/".to_string(),
        };
        s.push_str(&index_path(self.index));
        if !self.is_full() {
            s.push_str(&format!(".p/{}", self.width));
        }
        s
    }

    /// Parses a C2SP path (`tile/…`, no prefix), strictly: decimal numbers without
    /// leading zeros, every index group three digits with `x` on all but the last and
    /// no leading `x000` group, a width of 1 to 255 (a full tile has no `.p/`), and a
    /// tile some tree of at most 2^64 − 1 entries has.
    pub fn parse(path: &str) -> Result<Tile, TileError> {
        let bad = |why| TileError::BadPath {
            path: path.chars().take(200).collect(),
            why,
        };
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| bad("it does not start with tile/"))?;
        let (first, rest) = rest
            .split_once('/')
            .ok_or_else(|| bad("no tile index after the level"))?;
        let kind = if first == "entries" {
            TileKind::Entries
        } else {
            let level = decimal(first).ok_or_else(|| {
                bad("the level is not a decimal number without leading zeros, or `entries`")
            })?;
            let level = u8::try_from(level)
                .ok()
                .filter(|l| *l <= MAX_TILE_LEVEL)
                .ok_or_else(|| bad("the level is above 63"))?;
            TileKind::Hashes { level }
        };
        let (index, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let w = decimal(width)
                    .filter(|w| (1..u64::from(TILE_WIDTH)).contains(w))
                    .ok_or_else(|| {
                        bad("the width after .p/ is not a number from 1 to 255 without leading zeros")
                    })?;
                (index, w as u32)
            }
            None => (rest, TILE_WIDTH),
        };
        let index = parse_index(index).ok_or_else(|| {
            bad("the index is not groups of three digits, all but the last starting with x, without a leading x000")
        })?;
        Tile::new(kind, index, width)
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

impl FromStr for Tile {
    type Err = TileError;
    fn from_str(s: &str) -> Result<Tile, TileError> {
        Tile::parse(s)
    }
}

/// `1234067` → `x001/x234/067`.
fn index_path(n: u64) -> String {
    let mut groups = vec![n % 1000];
    let mut rest = n / 1000;
    while rest > 0 {
        groups.push(rest % 1000);
        rest /= 1000;
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, g)| {
            if i == last {
                format!("{g:03}")
            } else {
                format!("x{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A decimal number without sign or leading zeros (`0` itself is fine).
fn decimal(s: &str) -> Option<u64> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

/// The inverse of [`index_path`], refusing every other spelling.
fn parse_index(s: &str) -> Option<u64> {
    let groups: Vec<&str> = s.split('/').collect();
    let last = groups.len() - 1;
    let mut n: u64 = 0;
    for (i, g) in groups.iter().enumerate() {
        let digits = if i == last {
            Some(*g)
        } else {
            g.strip_prefix('x')
        }?;
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if i == 0 && i != last && digits == "000" {
            return None;
        }
        let v: u64 = digits.parse().ok()?;
        n = n.checked_mul(1000)?.checked_add(v)?;
    }
    Some(n)
}

/// Hashes (or entries) of `kind` that the tree of `size` entries has: ⌊size / 256^L⌋.
pub(crate) fn count_at(kind: TileKind, size: u64) -> u64 {
    match kind {
        TileKind::Hashes { level } => size.checked_shr(8 * u32::from(level)).unwrap_or(0),
        TileKind::Entries => size,
    }
}

/// Appends the tiles of `kind` for `count` hashes: the full ones from index `from`, then
/// the partial one, if any.
fn push_tiles(out: &mut Vec<Tile>, kind: TileKind, from: u64, count: u64) {
    let w = u64::from(TILE_WIDTH);
    out.extend((from..count / w).map(|index| Tile {
        kind,
        index,
        width: TILE_WIDTH,
    }));
    if !count.is_multiple_of(w) {
        out.push(Tile {
            kind,
            index: count / w,
            width: (count % w) as u32,
        });
    }
}

/// The tile kinds a tree of `size` entries has: hash levels from 0 while it has a hash
/// there, then entry bundles.
fn kinds_for(size: u64) -> impl Iterator<Item = TileKind> {
    (0..8u8)
        .map(|level| TileKind::Hashes { level })
        .take_while(move |k| count_at(*k, size) > 0)
        .chain((size > 0).then_some(TileKind::Entries))
}

/// Every tile and entry bundle of the tree of `size` entries, sorted: at each hash
/// level ⌊size / 256^L⌋ hashes as full tiles and one partial tile (if the count is not
/// a multiple of 256), then the entry bundles likewise. The empty tree has none.
pub fn tiles_for(size: u64) -> Vec<Tile> {
    let mut out = Vec::new();
    for kind in kinds_for(size) {
        push_tiles(&mut out, kind, 0, count_at(kind, size));
    }
    out
}

/// What a tree that grew from `old` to `new` entries has that the tree of `old` did
/// not: the new full tiles, and the partial tiles of `new` that differ from `old`'s.
/// Exactly `tiles_for(new)` less `tiles_for(old)`, sorted. Full tiles never change, so
/// a re-publication writes only these.
pub fn changed_tiles(old: u64, new: u64) -> Vec<Tile> {
    let w = u64::from(TILE_WIDTH);
    let mut out = Vec::new();
    for kind in kinds_for(new) {
        let (was, is) = (count_at(kind, old), count_at(kind, new));
        // Equal counts: the same full tiles and the same partial one. Otherwise the
        // full tiles from `old`'s partial one on (none if the tree shrank) and `new`'s
        // partial tile, which `old` cannot have had (its width would need was == is).
        if was != is {
            push_tiles(&mut out, kind, was / w, is);
        }
    }
    out
}
