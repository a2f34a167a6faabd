//! Inclusion and consistency proofs (SPEC section 6, RFC 9162 sections 2.1.3-2.1.4).
//!
//! 1. The input as a proof document: `InclusionProofDoc::from_bytes` and
//!    `ConsistencyProofDoc::from_bytes`, then `verify` against the demo ledger's real
//!    roots for the document's sizes (a fixed unrelated root past size 69), whatever
//!    the sizes (0, 2^53−1, index ≥ size, empty or long paths). A parsed document
//!    writes bytes (`to_bytes`) that parse back to it.
//! 2. The input as raw numbers: (index, size, old, new, path length, path bytes) read
//!    from the bytes, full `u64` range, into `verify_inclusion` / `verify_consistency`.
//! 3. Completeness and soundness on small trees (≤ 256 synthetic leaves): a proof made
//!    by `inclusion_proof` / `consistency_proof` verifies, and fails once one byte of
//!    its path or the leaf changes (RFC 9162).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use waymark_events::{
    consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion,
    ConsistencyProofDoc, Hash, InclusionProofDoc,
};
use waymark_fuzz::root_at;

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u64(&mut self) -> u64 {
        let mut buf = [0u8; 8];
        let n = self.0.len().min(8);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        u64::from_le_bytes(buf)
    }
    fn u8(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    fn hash(&mut self) -> Hash {
        let mut h = [0u8; 32];
        let n = self.0.len().min(32);
        h[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Hash(h)
    }
}

const SMALL: u64 = 256;

/// `SMALL` synthetic leaves and the roots of their prefixes (`roots[n]`, n = 0..=SMALL).
fn small_tree() -> &'static (Vec<Hash>, Vec<Hash>) {
    static TREE: OnceLock<(Vec<Hash>, Vec<Hash>)> = OnceLock::new();
    TREE.get_or_init(|| {
        let leaves: Vec<Hash> = (0..SMALL).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        let roots = (0..=leaves.len()).map(|n| root(&leaves[..n])).collect();
        (leaves, roots)
    })
}

fn flip(h: &mut Hash, bit: u8) {
    h.0[usize::from(bit / 8) % 32] ^= 1 << (bit % 8);
}

fuzz_target!(|data: &[u8]| {
    // 1. Documents.
    if let Ok(doc) = InclusionProofDoc::from_bytes(data) {
        let _ = doc.verify(&root_at(doc.tree_size));
        let _ = doc.verify(&Hash([0; 32]));
        assert_eq!(
            InclusionProofDoc::from_bytes(&doc.to_bytes()).as_ref(),
            Ok(&doc)
        );
    }
    if let Ok(doc) = ConsistencyProofDoc::from_bytes(data) {
        let _ = doc.verify(&root_at(doc.old_size), &root_at(doc.new_size));
        let _ = doc.verify(&Hash([0; 32]), &Hash([0; 32]));
        assert_eq!(
            ConsistencyProofDoc::from_bytes(&doc.to_bytes()).as_ref(),
            Ok(&doc)
        );
    }

    // 2. Raw numbers, full range.
    let mut b = Bytes(data);
    let (index, size, old, new) = (b.u64(), b.u64(), b.u64(), b.u64());
    let len = usize::from(b.u8() % 80);
    let leaf = b.hash();
    let path: Vec<Hash> = (0..len).map(|_| b.hash()).collect();
    let _ = verify_inclusion(index, size, &leaf, &path, &root_at(size));
    let _ = verify_inclusion(index, size, &leaf, &path, &leaf);
    let _ = verify_consistency(old, new, &root_at(old), &root_at(new), &path);
    let _ = verify_consistency(old, new, &leaf, &leaf, &path);

    // 3. Small trees: real proofs verify, tampered ones do not.
    let size = 1 + size % SMALL;
    let index = index % size;
    let old = 1 + old % size;
    let bit = b.u8();
    let (leaves, roots) = small_tree();
    let r = roots[size as usize];
    let at = |i: u64| leaves[i as usize];

    let proof = inclusion_proof(index, size, at).expect("index < size");
    assert_eq!(
        verify_inclusion(index, size, &leaves[index as usize], &proof, &r),
        Ok(())
    );
    let mut bad_leaf = leaves[index as usize];
    flip(&mut bad_leaf, bit);
    assert!(verify_inclusion(index, size, &bad_leaf, &proof, &r).is_err());
    if !proof.is_empty() {
        let mut bad = proof.clone();
        let k = usize::from(bit) % bad.len();
        flip(&mut bad[k], bit);
        assert!(verify_inclusion(index, size, &leaves[index as usize], &bad, &r).is_err());
        assert!(verify_inclusion(index, size, &leaves[index as usize], &proof[1..], &r).is_err());
    }

    let old_root = roots[old as usize];
    let cproof = consistency_proof(old, size, at).expect("0 < old <= size");
    assert_eq!(
        verify_consistency(old, size, &old_root, &r, &cproof),
        Ok(())
    );
    if !cproof.is_empty() {
        let mut bad = cproof.clone();
        let k = usize::from(bit) % bad.len();
        flip(&mut bad[k], bit);
        assert!(verify_consistency(old, size, &old_root, &r, &bad).is_err());
    }
    let mut bad_root = old_root;
    flip(&mut bad_root, bit);
    assert!(verify_consistency(old, size, &bad_root, &r, &cproof).is_err());
});
