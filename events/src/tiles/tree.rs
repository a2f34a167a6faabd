//! Tree nodes, roots and proofs from tiles, and tiles from leaf hashes.

use super::{count_at, parse_tile, Tile, TileError, TileKind, TILE_HEIGHT, TILE_WIDTH};
use crate::hash::Hash;
use crate::merkle::{
    consistency_nodes, consistency_proof_from, inclusion_nodes, inclusion_proof_from, root,
    root_from, root_nodes, NodeId,
};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

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
