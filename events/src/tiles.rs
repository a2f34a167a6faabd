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

use crate::hash::Hash;
use crate::merkle::{
    consistency_nodes, consistency_proof_from, inclusion_nodes, inclusion_proof_from, root,
    root_from, root_nodes, NodeId, ProofError,
};
use std::collections::{BTreeMap, HashMap};
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
fn count_at(kind: TileKind, size: u64) -> u64 {
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

/// The tile of the tree of `size` entries that holds the hashes node `id` is made of,
/// and their positions in it: a node of level 8·L + j is the root of 2^j consecutive
/// hashes of tile level L (j = 0: one hash, the node itself). `None` when the node is
/// not complete in that tree.
pub fn node_tile(id: NodeId, size: u64) -> Option<(Tile, Range<usize>)> {
    let end = id.index.checked_add(1)?.checked_shl(id.level)?;
    if id.level >= 64 || end >> id.level != id.index + 1 || end > size {
        return None;
    }
    let (level, j) = ((id.level / TILE_HEIGHT) as u8, id.level % TILE_HEIGHT);
    let first = id.index << j;
    let tile = Tile::at(
        TileKind::Hashes { level },
        first / u64::from(TILE_WIDTH),
        size,
    )?;
    let offset = (first % u64::from(TILE_WIDTH)) as usize;
    Some((tile, offset..offset + (1 << j)))
}

/// A tree of one size read from its tiles: the hash tiles read so far, and tree nodes,
/// roots and proofs computed from them.
///
/// Use: ask [`TileHashes::missing`] which tiles the nodes of a computation need
/// (`inclusion_nodes`, `consistency_nodes`, `root_nodes`), read and
/// [`TileHashes::insert`] them, then compute. Nothing here is trusted: check the result
/// against a signed checkpoint of this size.
#[derive(Debug, Clone)]
pub struct TileHashes {
    size: u64,
    tiles: BTreeMap<Tile, Vec<Hash>>,
}

impl TileHashes {
    /// No tile read yet, of the tree of `size` entries.
    pub fn new(size: u64) -> TileHashes {
        TileHashes {
            size,
            tiles: BTreeMap::new(),
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tiles read so far, with their hashes.
    pub fn tiles(&self) -> impl Iterator<Item = (&Tile, &[Hash])> {
        self.tiles.iter().map(|(t, h)| (t, h.as_slice()))
    }

    /// The tiles that the nodes `ids` are made of and that were not read yet, sorted.
    pub fn missing(&self, ids: &[NodeId]) -> Result<Vec<Tile>, TileError> {
        let mut out = Vec::new();
        for id in ids {
            let (tile, _) = node_tile(*id, self.size).ok_or(TileError::NodeNotInTree {
                level: id.level,
                index: id.index,
                size: self.size,
            })?;
            if !self.tiles.contains_key(&tile) {
                out.push(tile);
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Adds a hash tile of this tree, read as `bytes` (32 × its width).
    pub fn insert(&mut self, tile: Tile, bytes: &[u8]) -> Result<(), TileError> {
        if !tile.in_tree(self.size) {
            return Err(TileError::NotInTree {
                tile,
                size: self.size,
            });
        }
        let hashes = parse_tile(&tile, bytes)?;
        self.tiles.insert(tile, hashes);
        Ok(())
    }

    /// The hash of node `id`, from the tile that holds it.
    pub fn node(&self, id: NodeId) -> Result<Hash, TileError> {
        let (tile, range) = node_tile(id, self.size).ok_or(TileError::NodeNotInTree {
            level: id.level,
            index: id.index,
            size: self.size,
        })?;
        let hashes = self.tiles.get(&tile).ok_or(TileError::Missing(tile))?;
        // `insert` checked the width, so the range is inside.
        Ok(root(&hashes[range]))
    }

    /// The hashes of `ids`.
    pub fn nodes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, TileError> {
        ids.iter().map(|id| Ok((*id, self.node(*id)?))).collect()
    }

    /// The leaf hash of entry `index`.
    pub fn leaf(&self, index: u64) -> Result<Hash, TileError> {
        self.node(NodeId { level: 0, index })
    }

    /// The root of the tree of the first `size` entries (at most this tree's size).
    pub fn root(&self, size: u64) -> Result<Hash, TileError> {
        let nodes = self.nodes(&root_nodes(size))?;
        // `root_from` asks for exactly the nodes of `root_nodes`.
        Ok(root_from(size, |id| nodes[&id]))
    }

    /// The inclusion proof of entry `index` in the tree of the first `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TileError> {
        let nodes = self.nodes(&inclusion_nodes(index, size)?)?;
        Ok(inclusion_proof_from(index, size, |id| nodes[&id])?)
    }

    /// The consistency proof between the trees of the first `old` and `new` entries.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, TileError> {
        let nodes = self.nodes(&consistency_nodes(old, new)?)?;
        Ok(consistency_proof_from(old, new, |id| nodes[&id])?)
    }
}

/// Builds the hash tiles of a tree from its leaf hashes, streamed in order, in O(1)
/// memory (at most 255 pending hashes a level): each full tile as it completes, and the
/// partial tiles of the size reached.
#[derive(Debug, Clone, Default)]
pub struct TileBuilder {
    size: u64,
    pending: Vec<Vec<Hash>>,
}

impl TileBuilder {
    pub fn new() -> TileBuilder {
        TileBuilder::default()
    }

    /// Leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; returns the full tiles it completes with their hashes,
    /// lowest level first (a level-l tile's root becomes a hash of level l + 1).
    pub fn push(&mut self, leaf: Hash) -> Vec<(Tile, Vec<Hash>)> {
        self.size += 1;
        let mut done = Vec::new();
        let mut hash = leaf;
        for level in 0..8u8 {
            if self.pending.len() <= usize::from(level) {
                self.pending.push(Vec::with_capacity(TILE_WIDTH as usize));
            }
            let pending = &mut self.pending[usize::from(level)];
            pending.push(hash);
            if pending.len() < TILE_WIDTH as usize {
                break;
            }
            let hashes = std::mem::replace(pending, Vec::with_capacity(TILE_WIDTH as usize));
            hash = root(&hashes);
            let kind = TileKind::Hashes { level };
            let index = count_at(kind, self.size) / u64::from(TILE_WIDTH) - 1;
            done.push((
                Tile {
                    kind,
                    index,
                    width: TILE_WIDTH,
                },
                hashes,
            ));
        }
        done
    }

    /// The partial hash tiles of the size reached, lowest level first.
    pub fn partials(&self) -> Vec<(Tile, Vec<Hash>)> {
        self.pending
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .map(|(level, p)| {
                let kind = TileKind::Hashes { level: level as u8 };
                let tile = Tile {
                    kind,
                    index: count_at(kind, self.size) / u64::from(TILE_WIDTH),
                    width: p.len() as u32,
                };
                (tile, p.clone())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{consistency_proof, inclusion_proof};
    use proptest::prelude::*;

    fn h(i: u64) -> Hash {
        crate::hash::leaf_hash(&i.to_be_bytes())
    }

    fn t(s: &str) -> Tile {
        Tile::parse(s).unwrap()
    }

    /// Every hash tile of the tree of `leaves`, as a reader would fetch them.
    fn tiles_of(leaves: &[Hash]) -> BTreeMap<Tile, Vec<u8>> {
        let mut b = TileBuilder::new();
        let mut out = BTreeMap::new();
        for l in leaves {
            for (tile, hashes) in b.push(*l) {
                out.insert(tile, tile_bytes(&hashes));
            }
        }
        for (tile, hashes) in b.partials() {
            out.insert(tile, tile_bytes(&hashes));
        }
        out
    }

    #[test]
    fn the_specifications_examples() {
        let tiles = tiles_for(70_000);
        let level = |l: u8| -> Vec<Tile> {
            tiles
                .iter()
                .filter(|t| t.level() == Some(l))
                .copied()
                .collect()
        };
        let l0 = level(0);
        assert_eq!(l0.iter().filter(|t| t.is_full()).count(), 273);
        assert_eq!(l0.last().unwrap().path(), "tile/0/273.p/112");
        assert_eq!(
            level(1).iter().map(Tile::path).collect::<Vec<_>>(),
            ["tile/1/000", "tile/1/001.p/17"]
        );
        assert_eq!(
            level(2).iter().map(Tile::path).collect::<Vec<_>>(),
            ["tile/2/000.p/1"]
        );
        assert!(level(3).is_empty());
        let bundles: Vec<_> = tiles
            .iter()
            .filter(|t| t.kind() == TileKind::Entries)
            .collect();
        assert_eq!(bundles.len(), 274);
        assert_eq!(bundles[273].path(), "tile/entries/273.p/112");
        assert_eq!(tiles.len(), 274 + 2 + 1 + 274);

        assert_eq!(
            tiles_for(256).iter().map(Tile::path).collect::<Vec<_>>(),
            ["tile/0/000", "tile/1/000.p/1", "tile/entries/000"]
        );
        assert_eq!(
            tiles_for(1).iter().map(Tile::path).collect::<Vec<_>>(),
            ["tile/0/000.p/1", "tile/entries/000.p/1"]
        );
        assert!(tiles_for(0).is_empty());
    }

    #[test]
    fn paths_encode_the_index_in_groups_of_three() {
        assert_eq!(
            Tile::hashes(0, 1_234_067, 256).unwrap().path(),
            "tile/0/x001/x234/067"
        );
        assert_eq!(
            Tile::entries(1_234_067, 7).unwrap().path(),
            "tile/entries/x001/x234/067.p/7"
        );
        assert_eq!(Tile::hashes(3, 0, 1).unwrap().path(), "tile/3/000.p/1");
        assert_eq!(
            Tile::hashes(0, 1000, 256).unwrap().path(),
            "tile/0/x001/000"
        );
        for s in [
            "tile/0/x001/x234/067",
            "tile/0/x001/x234/067.p/255",
            "tile/entries/000.p/1",
            "tile/7/000.p/255",
            // The last entry of the largest tree, 2^64 − 1 entries.
            "tile/0/x072/x057/x594/x037/x927/935.p/255",
        ] {
            assert_eq!(t(s).path(), s);
            assert_eq!(s.parse::<Tile>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn parsing_is_strict() {
        for bad in [
            "",
            "tile/",
            "tile/0",
            "tile/0/",
            "tile/00/000",
            "tile/01/000",
            "tile/+1/000",
            "tile/64/000",
            "tile/8/000.p/1",
            "tile/0/00",
            "tile/0/0000",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/0/x001",
            "tile/0/X001/002",
            "tile/0/x01/002",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/007",
            "tile/0/000.p/",
            "tile/0/000.p/5/",
            "tile/0/000.p/5.p/6",
            "tile/0/000/",
            "/tile/0/000",
            "tile/data/000",
            "tile/entries/000.p/300",
            "tiles/0/000",
            // 2^64 / 256 = 72057594037927936: level 0 tile index beyond any u64 tree.
            "tile/0/x072/x057/x594/x037/x927/936",
            "tile/0/x072/x057/x594/x037/x927/935",
            "tile/0/x018/x446/x744/x073/x709/x551/614.p/1",
            "tile/7/000",
        ] {
            assert!(Tile::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Tile::hashes(0, 0, 0).is_err());
        assert!(Tile::hashes(0, 0, 257).is_err());
        assert!(Tile::hashes(64, 0, 1).is_err());
    }

    #[test]
    fn changed_tiles_are_the_new_full_tiles_and_new_partials() {
        let paths = |v: Vec<Tile>| v.iter().map(Tile::path).collect::<Vec<_>>();
        assert_eq!(paths(changed_tiles(0, 3)), paths(tiles_for(3)));
        assert_eq!(
            paths(changed_tiles(3, 5)),
            ["tile/0/000.p/5", "tile/entries/000.p/5"]
        );
        assert_eq!(
            paths(changed_tiles(255, 257)),
            [
                "tile/0/000",
                "tile/0/001.p/1",
                "tile/1/000.p/1",
                "tile/entries/000",
                "tile/entries/001.p/1"
            ]
        );
        // Level 2's partial tile (width 1) is the same at 70,000 and 70,100.
        assert_eq!(
            paths(changed_tiles(70_000, 70_100)),
            ["tile/0/273.p/212", "tile/entries/273.p/212"]
        );
        assert!(changed_tiles(9, 9).is_empty());
        for (old, new) in [
            (0, 1),
            (1, 256),
            (100, 65_536),
            (65_535, 70_000),
            (70_000, 69_000),
        ] {
            let before: std::collections::BTreeSet<_> = tiles_for(old).into_iter().collect();
            let want: Vec<Tile> = tiles_for(new)
                .into_iter()
                .filter(|t| !before.contains(t))
                .collect();
            assert_eq!(changed_tiles(old, new), want, "{old} -> {new}");
        }
    }

    #[test]
    fn tiles_and_bundles_round_trip() {
        let hashes: Vec<Hash> = (0..5).map(h).collect();
        let tile = Tile::hashes(0, 0, 5).unwrap();
        assert_eq!(parse_tile(&tile, &tile_bytes(&hashes)).unwrap(), hashes);
        assert!(matches!(
            parse_tile(&tile, &tile_bytes(&hashes[..4])),
            Err(TileError::WrongLength {
                expected: 160,
                got: 128,
                ..
            })
        ));
        assert_eq!(FULL_TILE_BYTES, 8192);

        let entries: Vec<Vec<u8>> = vec![b"{}".to_vec(), vec![], vec![7; 65_535]];
        let bundle = encode_bundle(entries.iter().map(Vec::as_slice)).unwrap();
        assert_eq!(&bundle[..4], &[0, 2, b'{', b'}']);
        let b3 = Tile::entries(4, 3).unwrap();
        assert_eq!(parse_bundle(&b3, &bundle).unwrap(), entries);
        assert!(encode_bundle([vec![0u8; 65_536].as_slice()]).is_err());
        // Truncated in a body, in a prefix, overlong, and a count other than the width.
        let refused = |b: &[u8], tile: &Tile| parse_bundle(tile, b).unwrap_err().to_string();
        assert!(refused(&bundle[..bundle.len() - 1], &b3).contains("claims 65535 bytes"));
        assert!(refused(&bundle[..5], &b3).contains("cut short"));
        let mut longer = bundle.clone();
        longer.extend_from_slice(&[0, 0]);
        assert!(refused(&longer, &b3).contains("after its 3 entries"));
        assert!(
            refused(&bundle, &Tile::entries(4, 4).unwrap()).contains("3 entries, its width is 4")
        );
        assert!(
            parse_bundle(&tile, &bundle).is_err(),
            "a hash tile is no bundle"
        );
    }

    #[test]
    fn the_builder_makes_the_tiles_the_spec_defines() {
        let leaves: Vec<Hash> = (0..70_000).map(h).collect();
        let tiles = tiles_of(&leaves);
        let names: Vec<Tile> = tiles.keys().copied().collect();
        let want: Vec<Tile> = tiles_for(70_000)
            .into_iter()
            .filter(|t| t.level().is_some())
            .collect();
        assert_eq!(names, want);
        // Level 1, hash 5 is the root of leaves 1280..1536; level 2, hash 0 of 0..65536.
        let l1 = parse_tile(&t("tile/1/000"), &tiles[&t("tile/1/000")]).unwrap();
        assert_eq!(l1[5], root(&leaves[1280..1536]));
        let l2 = parse_tile(&t("tile/2/000.p/1"), &tiles[&t("tile/2/000.p/1")]).unwrap();
        assert_eq!(l2, [root(&leaves[..65_536])]);
        // The root at 70,000 from the few tiles it needs.
        let mut th = TileHashes::new(70_000);
        for tile in th.missing(&root_nodes(70_000)).unwrap() {
            th.insert(tile, &tiles[&tile]).unwrap();
        }
        assert!(
            th.tiles().count() <= 4,
            "{:?}",
            th.tiles().map(|(t, _)| t.path()).collect::<Vec<_>>()
        );
        assert_eq!(th.root(70_000).unwrap(), root(&leaves));
        // Proofs across all three levels, from tiles of the tree of 70,000.
        let leaf = |i: u64| leaves[i as usize];
        for (index, old, size) in [
            (0, 1, 70_000),
            (65_535, 65_536, 70_000),
            (69_999, 300, 70_000),
            (1_000, 65_537, 69_000),
        ] {
            let mut ids = inclusion_nodes(index, size).unwrap();
            ids.extend(consistency_nodes(old, size).unwrap());
            for tile in th.missing(&ids).unwrap() {
                th.insert(tile, &tiles[&tile]).unwrap();
            }
            assert_eq!(
                th.inclusion_proof(index, size).unwrap(),
                inclusion_proof(index, size, leaf).unwrap()
            );
            assert_eq!(
                th.consistency_proof(old, size).unwrap(),
                consistency_proof(old, size, leaf).unwrap()
            );
        }
    }

    #[test]
    fn a_tile_of_another_size_or_width_is_refused() {
        let mut th = TileHashes::new(300);
        let bytes = tile_bytes(&[h(0); 44]);
        assert!(th.insert(t("tile/0/001.p/44"), &bytes).is_ok());
        assert!(matches!(
            th.insert(t("tile/0/001.p/43"), &tile_bytes(&[h(0); 43])),
            Err(TileError::NotInTree { .. })
        ));
        assert!(th
            .insert(t("tile/0/002.p/1"), &tile_bytes(&[h(0)]))
            .is_err());
        assert!(th.insert(t("tile/entries/000"), &[]).is_err());
        assert!(matches!(
            th.node(NodeId {
                level: 0,
                index: 300
            }),
            Err(TileError::NodeNotInTree { .. })
        ));
        assert!(matches!(
            th.node(NodeId { level: 0, index: 3 }),
            Err(TileError::Missing(_))
        ));
        assert!(t("tile/0/001.p/44").in_tree(300));
        assert!(t("tile/0/001.p/43").complete_in(300));
        assert!(!t("tile/0/001").complete_in(300));
        assert_eq!(t("tile/1/000.p/1").entry_range(), 0..256);
        assert_eq!(t("tile/entries/001.p/44").entry_range(), 256..300);
    }

    #[test]
    fn nodes_map_to_one_tile() {
        // Level 11 = tile level 1, j = 3: 8 hashes of tile/1/…, starting at 8·index.
        let (tile, range) = node_tile(
            NodeId {
                level: 11,
                index: 33,
            },
            1 << 20,
        )
        .unwrap();
        assert_eq!((tile.path(), range), ("tile/1/001".to_string(), 8..16));
        let (tile, range) = node_tile(
            NodeId {
                level: 0,
                index: 299,
            },
            300,
        )
        .unwrap();
        assert_eq!(
            (tile.path(), range),
            ("tile/0/001.p/44".to_string(), 43..44)
        );
        assert!(node_tile(NodeId { level: 8, index: 1 }, 511).is_none());
        assert!(node_tile(
            NodeId {
                level: 63,
                index: 2
            },
            u64::MAX
        )
        .is_none());
        assert!(node_tile(
            NodeId {
                level: 70,
                index: 0
            },
            u64::MAX
        )
        .is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Proofs and roots from the tiles of a tree of size `n` equal those computed
        /// from its leaves, at every smaller size too.
        #[test]
        fn proofs_from_tiles_equal_proofs_from_leaves(
            n in 1u64..3000,
            picks in proptest::collection::vec((any::<u64>(), any::<u64>(), any::<u64>()), 4),
        ) {
            let leaves: Vec<Hash> = (0..n).map(h).collect();
            let tiles = tiles_of(&leaves);
            let leaf = |i: u64| leaves[i as usize];
            for (a, b, c) in picks {
                let size = 1 + a % n;
                let index = b % size;
                let old = 1 + c % size;
                let mut th = TileHashes::new(n);
                let mut ids = inclusion_nodes(index, size).unwrap();
                ids.extend(consistency_nodes(old, size).unwrap());
                ids.extend(root_nodes(size));
                ids.push(NodeId { level: 0, index });
                let needed = th.missing(&ids).unwrap();
                // The leaf's, the old size's and the size's level-0 tiles, one of level 1.
                prop_assert!(needed.len() <= 4, "{} tiles", needed.len());
                for tile in needed {
                    th.insert(tile, &tiles[&tile]).unwrap();
                }
                prop_assert_eq!(th.root(size).unwrap(), root(&leaves[..size as usize]));
                prop_assert_eq!(th.leaf(index).unwrap(), leaves[index as usize]);
                prop_assert_eq!(
                    th.inclusion_proof(index, size).unwrap(),
                    inclusion_proof(index, size, leaf).unwrap()
                );
                prop_assert_eq!(
                    th.consistency_proof(old, size).unwrap(),
                    consistency_proof(old, size, leaf).unwrap()
                );
            }
        }

        #[test]
        fn every_tile_path_round_trips(level in 0u8..8, index in any::<u64>(), width in 1u32..=256) {
            // Within a u64 tree: (index·256 + width)·256^level ≤ 2^64 − 1.
            let index = index.checked_shr(8 * (u32::from(level) + 1) + 1).unwrap_or(0);
            prop_assume!(level < 7 || width < 256);
            let tile = Tile::hashes(level, index, width).unwrap();
            prop_assert_eq!(Tile::parse(&tile.path()).unwrap(), tile);
            let bundle = Tile::entries(index, width).unwrap();
            prop_assert_eq!(Tile::parse(&bundle.path()).unwrap(), bundle);
        }
    }
}
