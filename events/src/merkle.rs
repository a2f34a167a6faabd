//! The RFC 9162 section 2.1 Merkle tree (SPEC section 6): root hashes, a compact
//! incremental frontier, and inclusion and consistency proofs with their verifiers.
//!
//! Leaves are given by their leaf hashes (`leaf_hash`, SHA-256(0x00 || leaf)), which
//! for Waymark are the events' `hash` values; interior nodes are
//! SHA-256(0x01 || left || right). Everything here is pure computation over hashes.
//! Why not a crate: `ct-merkle` hashes exactly as RFC 9162 but keeps the whole tree (every
//! leaf and node) in its own in-memory structure and hashes leaves itself; Waymark needs
//! proofs and roots from leaf hashes kept in the store, plus a compact frontier saved on
//! each append, so the root at any size never needs the whole log in memory. `rs_merkle`'s
//! defaults are not RFC 9162. The algorithms below are RFC 9162 §2.1 as written, checked
//! against transparency-dev/merkle's test data (events/tests/merkle.rs).

use crate::hash::Hash;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why a Merkle proof could not be produced or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size (this includes every index of the
    /// empty tree).
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// A consistency proof from the empty tree was asked for or offered; Waymark
    /// rejects it (every tree is consistent with the empty one, so it proves nothing).
    #[error("consistency from an empty tree (old size 0) is not accepted")]
    OldSizeZero,
    /// The old tree is larger than the new one.
    #[error("old tree size {old} is larger than new tree size {new}")]
    OldSizeExceedsNew { old: u64, new: u64 },
    /// The proof has too few (truncated) or too many (extended) hashes for the sizes
    /// it claims to be about.
    #[error("proof has {got} hashes, expected {expected}")]
    WrongPathLength { expected: usize, got: usize },
    /// The hashes recomputed from the proof do not match the given root.
    #[error(
        "root recomputed from the proof does not match: computed {computed}, expected {expected}"
    )]
    RootMismatch { computed: Hash, expected: Hash },
}

/// The RFC 9162 interior node hash: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The root of the empty tree: SHA-256 of the empty string (RFC 9162 section 2.1.1).
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// The largest power of two strictly smaller than `n` (requires `n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH over the leaf hashes `lo..hi` supplied by `at`.
fn mth_range(lo: u64, hi: u64, at: &dyn Fn(u64) -> Hash) -> Hash {
    match hi - lo {
        0 => empty_root(),
        1 => at(lo),
        n => {
            let k = split_point(n);
            node_hash(&mth_range(lo, lo + k, at), &mth_range(lo + k, hi, at))
        }
    }
}

/// A node of the tree: the root of the perfect subtree of `2^level` leaves that
/// starts at leaf `index << level`. Level 0 nodes are the leaf hashes.
///
/// Every subtree RFC 9162's proofs and roots ask for splits into such aligned
/// perfect subtrees, so a store that keeps each node once (when its last leaf is
/// appended) answers any root or proof without rehashing leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeId {
    pub level: u32,
    pub index: u64,
}

impl NodeId {
    /// The tree size at which this node becomes complete: the 1-based position of
    /// its last leaf.
    pub fn completed_at(&self) -> u64 {
        (self.index + 1) << self.level
    }

    /// The leaves `lo..hi` under this node.
    pub fn leaves(&self) -> (u64, u64) {
        (self.index << self.level, (self.index + 1) << self.level)
    }
}

/// MTH over the leaves `lo..hi`, from aligned perfect nodes.
fn mth_nodes(lo: u64, hi: u64, node: &mut dyn FnMut(NodeId) -> Hash) -> Hash {
    let n = hi - lo;
    if n == 0 {
        return empty_root();
    }
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        let level = n.trailing_zeros();
        return node(NodeId {
            level,
            index: lo >> level,
        });
    }
    let k = split_point(n);
    let left = mth_nodes(lo, lo + k, node);
    node_hash(&left, &mth_nodes(lo + k, hi, node))
}

/// Runs `f` with a node source that records what it is asked for.
fn nodes_asked(f: impl FnOnce(&mut dyn FnMut(NodeId) -> Hash)) -> Vec<NodeId> {
    let mut asked = Vec::new();
    f(&mut |id| {
        asked.push(id);
        Hash::ZERO
    });
    asked.sort();
    asked.dedup();
    asked
}

/// The Merkle tree hash MTH (RFC 9162 section 2.1.1) of a list of leaf hashes.
///
/// The empty list's root is [`empty_root`]; one leaf's root is its leaf hash.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The right-edge frontier of a Merkle tree: the roots of its maximal perfect
/// subtrees, left to right (largest first), one per set bit of the size.
///
/// This is the compact range `[0, size)` of transparency-dev/merkle. It takes
/// O(log n) space, absorbs a leaf in amortised O(1) hashing and gives the root in
/// O(log n), so storing it beside each append makes the root at any size cheap.
///
/// Serialized as `{"size": n, "hashes": [hex…]}`; deserialization checks that the
/// number of hashes equals the number of set bits of `size`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(try_from = "RawCompactRange")]
pub struct CompactRange {
    size: u64,
    hashes: Vec<Hash>,
}

/// Another name for [`CompactRange`].
pub type Frontier = CompactRange;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCompactRange {
    size: u64,
    hashes: Vec<Hash>,
}

/// A frontier whose hash count disagrees with its size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a frontier of size {size} has {expected} hashes, not {got}")]
pub struct FrontierError {
    pub size: u64,
    pub expected: usize,
    pub got: usize,
}

impl TryFrom<RawCompactRange> for CompactRange {
    type Error = FrontierError;
    fn try_from(raw: RawCompactRange) -> Result<Self, FrontierError> {
        CompactRange::from_parts(raw.size, raw.hashes)
    }
}

impl CompactRange {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a frontier from its size and perfect-subtree roots (left to right).
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Self, FrontierError> {
        let expected = size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(FrontierError {
                size,
                expected,
                got: hashes.len(),
            });
        }
        Ok(CompactRange { size, hashes })
    }

    /// The frontier of the tree with these leaf hashes.
    pub fn from_leaves<'a>(leaves: impl IntoIterator<Item = &'a Hash>) -> Self {
        let mut f = Self::new();
        for leaf in leaves {
            f.push(*leaf);
        }
        f
    }

    /// Appends one leaf hash, merging equal-sized subtrees on the right edge.
    pub fn push(&mut self, leaf_hash: Hash) {
        self.push_nodes(leaf_hash);
    }

    /// Appends one leaf hash and returns the nodes this append completes, lowest
    /// first: the leaf itself (level 0), then one node per level merged.
    pub fn push_nodes(&mut self, leaf_hash: Hash) -> Vec<(NodeId, Hash)> {
        let leaf_index = self.size;
        let mut done = vec![(
            NodeId {
                level: 0,
                index: leaf_index,
            },
            leaf_hash,
        )];
        self.hashes.push(leaf_hash);
        // Each trailing one bit of the old size is a perfect subtree that now has
        // an equal-sized right sibling.
        // (The frontier holds one hash per set bit of `size`, plus the new leaf, so
        // both pops succeed; `from_parts` and deserialization enforce that count.)
        for level in 1..=self.size.trailing_ones() {
            let (Some(right), Some(left)) = (self.hashes.pop(), self.hashes.pop()) else {
                break;
            };
            let h = node_hash(&left, &right);
            self.hashes.push(h);
            done.push((
                NodeId {
                    level,
                    index: leaf_index >> level,
                },
                h,
            ));
        }
        self.size += 1;
        done
    }

    /// The number of leaves absorbed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect-subtree roots, left to right (largest subtree first).
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The tree's root, equal to [`root`] over the same leaves.
    pub fn root(&self) -> Hash {
        let mut it = self.hashes.iter().rev();
        match it.next() {
            None => empty_root(),
            Some(last) => it.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }
}

/// PATH(m, D[lo..hi]) of RFC 9162 section 2.1.3.1.
fn path(m: u64, lo: u64, hi: u64, at: &mut dyn FnMut(NodeId) -> Hash, out: &mut Vec<Hash>) {
    let n = hi - lo;
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m < k {
        path(m, lo, lo + k, at, out);
        out.push(mth_nodes(lo + k, hi, at));
    } else {
        path(m - k, lo + k, hi, at, out);
        out.push(mth_nodes(lo, lo + k, at));
    }
}

/// SUBPROOF(m, D[lo..hi], b) of RFC 9162 section 2.1.4.1.
fn subproof(
    m: u64,
    lo: u64,
    hi: u64,
    b: bool,
    at: &mut dyn FnMut(NodeId) -> Hash,
    out: &mut Vec<Hash>,
) {
    let n = hi - lo;
    if m == n {
        if !b {
            out.push(mth_nodes(lo, hi, at));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof(m, lo, lo + k, b, at, out);
        out.push(mth_nodes(lo + k, hi, at));
    } else {
        subproof(m - k, lo + k, hi, false, at, out);
        out.push(mth_nodes(lo, lo + k, at));
    }
}

/// The inclusion proof (audit path, RFC 9162 section 2.1.3.1) of leaf `index` in the
/// tree of the first `size` leaves; `leaf_hash_at(i)` gives the leaf hash at index
/// `i < size`. The path runs from the leaf's sibling up to the root's child.
pub fn inclusion_proof(
    index: u64,
    size: u64,
    leaf_hash_at: impl Fn(u64) -> Hash,
) -> Result<Vec<Hash>, ProofError> {
    inclusion_proof_from(index, size, from_leaves(&leaf_hash_at))
}

/// A node source that hashes the leaves under each node.
fn from_leaves(leaf_hash_at: &dyn Fn(u64) -> Hash) -> impl FnMut(NodeId) -> Hash + '_ {
    move |id| {
        let (lo, hi) = id.leaves();
        mth_range(lo, hi, leaf_hash_at)
    }
}

/// [`inclusion_proof`] from stored nodes: `node(id)` gives the hash of each node
/// in [`inclusion_nodes`]`(index, size)`, and no other is asked for.
pub fn inclusion_proof_from(
    index: u64,
    size: u64,
    mut node: impl FnMut(NodeId) -> Hash,
) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    path(index, 0, size, &mut node, &mut out);
    Ok(out)
}

/// The nodes an inclusion proof of leaf `index` in the tree of `size` is made of,
/// sorted (fetch them, then call [`inclusion_proof_from`]).
pub fn inclusion_nodes(index: u64, size: u64) -> Result<Vec<NodeId>, ProofError> {
    let mut result = Ok(());
    let nodes = nodes_asked(|node| result = inclusion_proof_from(index, size, node).map(drop));
    result.map(|()| nodes)
}

/// The consistency proof (RFC 9162 section 2.1.4.1) between the trees of the first
/// `old` and first `new` leaves: PROOF(old, D[new]) = SUBPROOF(old, D[new], true).
/// Equal sizes give the empty proof; `old == 0` and `old > new` are errors.
pub fn consistency_proof(
    old: u64,
    new: u64,
    leaf_hash_at: impl Fn(u64) -> Hash,
) -> Result<Vec<Hash>, ProofError> {
    consistency_proof_from(old, new, from_leaves(&leaf_hash_at))
}

/// [`consistency_proof`] from stored nodes: `node(id)` gives the hash of each node
/// in [`consistency_nodes`]`(old, new)`, and no other is asked for.
pub fn consistency_proof_from(
    old: u64,
    new: u64,
    mut node: impl FnMut(NodeId) -> Hash,
) -> Result<Vec<Hash>, ProofError> {
    check_sizes(old, new)?;
    let mut out = Vec::new();
    if old < new {
        subproof(old, 0, new, true, &mut node, &mut out);
    }
    Ok(out)
}

/// The nodes a consistency proof from `old` to `new` is made of, sorted.
pub fn consistency_nodes(old: u64, new: u64) -> Result<Vec<NodeId>, ProofError> {
    let mut result = Ok(());
    let nodes = nodes_asked(|node| result = consistency_proof_from(old, new, node).map(drop));
    result.map(|()| nodes)
}

/// The root of the tree of `size` leaves from stored nodes (those of
/// [`root_nodes`]`(size)`: one per set bit of `size`).
pub fn root_from(size: u64, mut node: impl FnMut(NodeId) -> Hash) -> Hash {
    mth_nodes(0, size, &mut node)
}

/// The nodes [`root_from`] asks for.
pub fn root_nodes(size: u64) -> Vec<NodeId> {
    nodes_asked(|node| {
        root_from(size, node);
    })
}

fn check_sizes(old: u64, new: u64) -> Result<(), ProofError> {
    if old == 0 {
        return Err(ProofError::OldSizeZero);
    }
    if old > new {
        return Err(ProofError::OldSizeExceedsNew { old, new });
    }
    Ok(())
}

/// The number of hashes in the inclusion path of `index` in a tree of `size`
/// (`index < size`): the levels where the leaf's ancestors have a right sibling
/// below the right edge ("inner"), plus the left siblings on the right edge
/// ("border").
fn inclusion_len(index: u64, size: u64) -> usize {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// The number of hashes in the consistency proof from `old` to `new`
/// (`0 < old < new`).
fn consistency_len(old: u64, new: u64) -> usize {
    let shift = old.trailing_zeros();
    let full = inclusion_len(old - 1, new);
    // The inclusion path of leaf old-1, without its lowest `shift` levels (they lie
    // inside the perfect subtree ending at old), plus that subtree's root unless it
    // is the whole old tree (old a power of two), in which case the verifier
    // supplies the old root itself.
    let seed = usize::from(!old.is_power_of_two());
    full - shift as usize + seed
}

fn matches(computed: Hash, expected: &Hash) -> Result<(), ProofError> {
    if computed == *expected {
        Ok(())
    } else {
        Err(ProofError::RootMismatch {
            computed,
            expected: *expected,
        })
    }
}

/// Verifies an inclusion proof (RFC 9162 section 2.1.3.2): that `leaf` is the leaf
/// hash at `index` in the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_len(index, size);
    if path.len() != expected {
        return Err(ProofError::WrongPathLength {
            expected,
            got: path.len(),
        });
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s_n == 0 {
            // Unreachable after the length check; kept as in the RFC.
            return Err(ProofError::WrongPathLength {
                expected,
                got: path.len(),
            });
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongPathLength {
            expected,
            got: path.len(),
        });
    }
    matches(r, root)
}

/// Verifies a consistency proof (RFC 9162 section 2.1.4.2): that the tree of
/// `new_size` leaves with root `new_root` extends the tree of `old_size` leaves with
/// root `old_root`.
///
/// Equal sizes verify with the empty path when the roots are equal; `old_size == 0`
/// is rejected ([`ProofError::OldSizeZero`]).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    path: &[Hash],
) -> Result<(), ProofError> {
    check_sizes(old_size, new_size)?;
    if old_size == new_size {
        if !path.is_empty() {
            return Err(ProofError::WrongPathLength {
                expected: 0,
                got: path.len(),
            });
        }
        return matches(*new_root, old_root);
    }
    let expected = consistency_len(old_size, new_size);
    if path.len() != expected {
        return Err(ProofError::WrongPathLength {
            expected,
            got: path.len(),
        });
    }
    // Step 2: a power-of-two old tree is itself the first node of the path.
    let mut nodes = path.iter();
    let seed = if old_size.is_power_of_two() {
        *old_root
    } else {
        match nodes.next() {
            Some(h) => *h,
            None => {
                return Err(ProofError::WrongPathLength {
                    expected,
                    got: path.len(),
                })
            }
        }
    };
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (seed, seed);
    for c in nodes {
        if s_n == 0 {
            // Unreachable after the length check; kept as in the RFC.
            return Err(ProofError::WrongPathLength {
                expected,
                got: path.len(),
            });
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongPathLength {
            expected,
            got: path.len(),
        });
    }
    matches(f_r, old_root)?;
    matches(s_r, new_root)
}
