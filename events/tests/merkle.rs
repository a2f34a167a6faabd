//! The RFC 9162 Merkle tree (SPEC section 6): the shared vectors in `tests/vectors`,
//! known answers from transparency-dev/merkle, and exhaustive small-tree properties.

use serde_json::Value;
use waymark_events::*;

fn h(hex: &str) -> Hash {
    hex.parse().unwrap()
}

fn hashes(list: &[&str]) -> Vec<Hash> {
    list.iter().map(|s| h(s)).collect()
}

fn vectors() -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/vectors.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The events' `hash` values, which are their leaf hashes (leaf index = seq − 1).
fn vector_leaves(v: &Value) -> Vec<Hash> {
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| h(e["hash"].as_str().unwrap()))
        .collect()
}

fn json_path(p: &Value) -> Vec<Hash> {
    p.as_array()
        .unwrap()
        .iter()
        .map(|x| h(x.as_str().unwrap()))
        .collect()
}

fn flip(path: &[Hash], i: usize, mask: u8) -> Vec<Hash> {
    let mut out = path.to_vec();
    out[i].0[0] ^= mask;
    out
}

fn sizes(key: &str, sep: &str) -> (u64, u64) {
    let (a, b) = key.split_once(sep).unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

// ---------------------------------------------------------------------------
// Shared vectors (tests/vectors/vectors.json)
// ---------------------------------------------------------------------------

#[test]
fn vector_roots_at_every_size_are_reproduced_from_the_event_hashes() {
    let v = vectors();
    let leaves = vector_leaves(&v);
    let roots = v["roots"].as_object().unwrap();
    assert_eq!(roots.len(), leaves.len());
    let mut frontier = Frontier::new();
    for (i, leaf) in leaves.iter().enumerate() {
        frontier.push(*leaf);
        let size = i + 1;
        let want = h(roots[&size.to_string()].as_str().unwrap());
        assert_eq!(root(&leaves[..size]), want, "root at size {size}");
        assert_eq!(frontier.root(), want, "frontier root at size {size}");
        assert_eq!(frontier.size(), size as u64);
    }
}

#[test]
fn vector_inclusion_proofs_are_reproduced_exactly_and_verify() {
    let v = vectors();
    let leaves = vector_leaves(&v);
    let proofs = v["proofs"]["inclusion"].as_object().unwrap();
    assert_eq!(proofs.len(), 10);
    for (key, want) in proofs {
        let (seq, size) = sizes(key, "@");
        let want = json_path(want);
        let got = inclusion_proof(seq - 1, size, |i| leaves[i as usize]).unwrap();
        assert_eq!(got, want, "inclusion {key}");
        let r = root(&leaves[..size as usize]);
        verify_inclusion(seq - 1, size, &leaves[seq as usize - 1], &want, &r)
            .unwrap_or_else(|e| panic!("inclusion {key}: {e}"));
    }
}

#[test]
fn vector_consistency_proofs_are_reproduced_exactly_and_verify() {
    let v = vectors();
    let leaves = vector_leaves(&v);
    let proofs = v["proofs"]["consistency"].as_object().unwrap();
    assert_eq!(proofs.len(), 10);
    for (key, want) in proofs {
        let (old, new) = sizes(key, "->");
        let want = json_path(want);
        let got = consistency_proof(old, new, |i| leaves[i as usize]).unwrap();
        assert_eq!(got, want, "consistency {key}");
        let (r1, r2) = (root(&leaves[..old as usize]), root(&leaves[..new as usize]));
        verify_consistency(old, new, &r1, &r2, &want)
            .unwrap_or_else(|e| panic!("consistency {key}: {e}"));
    }
}

#[test]
fn tampered_vector_inclusion_proofs_fail_with_the_expected_error() {
    let v = vectors();
    let leaves = vector_leaves(&v);
    for (key, path) in v["proofs"]["inclusion"].as_object().unwrap() {
        let (seq, size) = sizes(key, "@");
        let (index, leaf) = (seq - 1, leaves[seq as usize - 1]);
        let path = json_path(path);
        let r = root(&leaves[..size as usize]);
        for i in 0..path.len() {
            assert!(
                matches!(
                    verify_inclusion(index, size, &leaf, &flip(&path, i, 1), &r),
                    Err(ProofError::RootMismatch { .. })
                ),
                "bit-flipped element {i} of {key}"
            );
        }
        if !path.is_empty() {
            assert_eq!(
                verify_inclusion(index, size, &leaf, &path[..path.len() - 1], &r),
                Err(ProofError::WrongPathLength {
                    expected: path.len(),
                    got: path.len() - 1
                }),
                "truncated {key}"
            );
        }
        let mut extended = path.clone();
        extended.push(r);
        assert_eq!(
            verify_inclusion(index, size, &leaf, &extended, &r),
            Err(ProofError::WrongPathLength {
                expected: path.len(),
                got: path.len() + 1
            }),
            "extended {key}"
        );
        assert_eq!(
            verify_inclusion(size, size, &leaf, &path, &r),
            Err(ProofError::IndexOutOfRange { index: size, size }),
            "index past the end of {key}"
        );
        // The wrong leaf never verifies.
        let other = leaf_hash(b"not this leaf");
        assert!(matches!(
            verify_inclusion(index, size, &other, &path, &r),
            Err(ProofError::RootMismatch { .. })
        ));
    }
}

#[test]
fn tampered_vector_consistency_proofs_fail_with_the_expected_error() {
    let v = vectors();
    let leaves = vector_leaves(&v);
    for (key, path) in v["proofs"]["consistency"].as_object().unwrap() {
        let (old, new) = sizes(key, "->");
        let path = json_path(path);
        let (r1, r2) = (root(&leaves[..old as usize]), root(&leaves[..new as usize]));
        for i in 0..path.len() {
            assert!(
                matches!(
                    verify_consistency(old, new, &r1, &r2, &flip(&path, i, 1)),
                    Err(ProofError::RootMismatch { .. })
                ),
                "bit-flipped element {i} of {key}"
            );
        }
        if !path.is_empty() {
            assert_eq!(
                verify_consistency(old, new, &r1, &r2, &path[..path.len() - 1]),
                Err(ProofError::WrongPathLength {
                    expected: path.len(),
                    got: path.len() - 1
                }),
                "truncated {key}"
            );
        }
        let mut extended = path.clone();
        extended.push(r2);
        assert_eq!(
            verify_consistency(old, new, &r1, &r2, &extended),
            Err(ProofError::WrongPathLength {
                expected: path.len(),
                got: path.len() + 1
            }),
            "extended {key}"
        );
        if old == new {
            // Equal sizes need equal roots.
            let other = leaf_hash(b"another root");
            assert!(matches!(
                verify_consistency(old, new, &r1, &other, &path),
                Err(ProofError::RootMismatch { .. })
            ));
        } else {
            // Swapped roots fail.
            assert!(verify_consistency(old, new, &r2, &r1, &path).is_err());
        }
    }
}

// ---------------------------------------------------------------------------
// Known answers from transparency-dev/merkle
// ---------------------------------------------------------------------------

/// `LeafInputs()` of transparency-dev/merkle `testonly/constants.go` (also `leaves`
/// in `proof/verify_test.go`): the RFC 6962 reference test leaves.
const TD_LEAF_INPUTS: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

/// `NodeHashes()` of transparency-dev/merkle `testonly/constants.go`: the hashes of
/// all perfect subtrees of the 8-leaf tree, by level (0 = leaf hashes).
const TD_NODE_HASHES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// `RootHashes()` of transparency-dev/merkle `testonly/constants.go` (also `roots`
/// in `proof/verify_test.go`), indexed by tree size 0..=8.
const TD_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// `CompactTrees()` of transparency-dev/merkle `testonly/constants.go`: the
/// compact range [0, size) for size 0..=8, as (level, index) into `NodeHashes()`.
const TD_COMPACT_TREES: [&[(usize, usize)]; 9] = [
    &[],
    &[(0, 0)],
    &[(1, 0)],
    &[(1, 0), (0, 2)],
    &[(2, 0)],
    &[(2, 0), (0, 4)],
    &[(2, 0), (1, 2)],
    &[(2, 0), (1, 2), (0, 6)],
    &[(3, 0)],
];

/// `inclusionProofs` of transparency-dev/merkle `proof/verify_test.go`:
/// (1-based leaf, tree size, proof). The Go table's first entry `{0, 0, nil}` is an
/// invalid probe and is checked separately.
const TD_INCLUSION: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        3,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        2,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// `consistencyProofs` of transparency-dev/merkle `proof/verify_test.go`:
/// (old size, new size, proof).
const TD_CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// `sha256SomeHash` of transparency-dev/merkle `proof/verify_test.go`.
const TD_SOME_HASH: &str = "abacaba000000000000000000000000000000000000000000060061e00123456";

fn td_leaves() -> Vec<Hash> {
    TD_LEAF_INPUTS.iter().map(|l| leaf_hash(l)).collect()
}

#[test]
fn rfc6962_hasher_known_answers_hold() {
    // transparency-dev/merkle rfc6962/rfc6962_test.go (TestRFC6962Hasher).
    assert_eq!(empty_root(), h(TD_ROOTS[0]));
    assert_eq!(root(&[]), h(TD_ROOTS[0]));
    assert_eq!(
        leaf_hash(b""),
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    );
    assert_eq!(
        leaf_hash(b"L123456"),
        h("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    );
    // The empty tree's root is not the empty leaf's hash.
    assert_ne!(empty_root(), leaf_hash(b""));
    // TestRFC6962HasherCollisions: order matters, and a node is not the leaf of the
    // concatenation of its children.
    let (a, b) = (leaf_hash(b"Hello"), leaf_hash(b"World"));
    assert_ne!(a, b);
    assert_ne!(node_hash(&a, &b), node_hash(&b, &a));
    let mut cat = a.0.to_vec();
    cat.extend_from_slice(&b.0);
    assert_ne!(node_hash(&a, &b), leaf_hash(&cat));
}

#[test]
fn reference_node_hashes_and_roots_at_every_size_are_reproduced() {
    let leaves = td_leaves();
    assert_eq!(leaves, hashes(TD_NODE_HASHES[0]));
    for level in 1..TD_NODE_HASHES.len() {
        let below = hashes(TD_NODE_HASHES[level - 1]);
        let want = hashes(TD_NODE_HASHES[level]);
        let got: Vec<Hash> = below.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
        assert_eq!(got, want, "level {level}");
    }
    let mut frontier = CompactRange::new();
    for size in 0..=8usize {
        if size > 0 {
            frontier.push(leaves[size - 1]);
        }
        assert_eq!(root(&leaves[..size]), h(TD_ROOTS[size]), "root at {size}");
        assert_eq!(frontier.root(), h(TD_ROOTS[size]), "frontier at {size}");
        let want: Vec<Hash> = TD_COMPACT_TREES[size]
            .iter()
            .map(|&(level, i)| h(TD_NODE_HASHES[level][i]))
            .collect();
        assert_eq!(frontier.hashes(), &want[..], "compact tree at {size}");
    }
}

#[test]
fn reference_inclusion_proofs_are_reproduced_and_verify() {
    let leaves = td_leaves();
    for (leaf, size, want) in TD_INCLUSION {
        let want = hashes(want);
        let got = inclusion_proof(leaf - 1, size, |i| leaves[i as usize]).unwrap();
        assert_eq!(got, want, "inclusion of leaf {leaf} in {size}");
        verify_inclusion(
            leaf - 1,
            size,
            &leaves[leaf as usize - 1],
            &want,
            &h(TD_ROOTS[size as usize]),
        )
        .unwrap_or_else(|e| panic!("leaf {leaf} in {size}: {e}"));
    }
}

#[test]
fn reference_consistency_proofs_are_reproduced_and_verify() {
    let leaves = td_leaves();
    for (old, new, want) in TD_CONSISTENCY {
        let want = hashes(want);
        let got = consistency_proof(old, new, |i| leaves[i as usize]).unwrap();
        assert_eq!(got, want, "consistency {old}->{new}");
        verify_consistency(
            old,
            new,
            &h(TD_ROOTS[old as usize]),
            &h(TD_ROOTS[new as usize]),
            &want,
        )
        .unwrap_or_else(|e| panic!("{old}->{new}: {e}"));
    }
}

/// The probes of `corruptInclusionProof` in transparency-dev/merkle
/// `proof/verify_test.go`, minus those that need a hash of another length (32-byte
/// hashes are a type here): every one must fail.
#[test]
fn reference_corrupted_inclusion_probes_all_fail() {
    let leaves = td_leaves();
    let some = h(TD_SOME_HASH);
    let empty = empty_root();
    for (leaf, size, proof) in TD_INCLUSION {
        let (index, proof) = (leaf - 1, hashes(proof));
        let r = h(TD_ROOTS[size as usize]);
        let lh = leaves[index as usize];
        let ln = proof.len();
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>, String)> = vec![
            (
                index.wrapping_sub(1),
                size,
                r,
                lh,
                proof.clone(),
                "index - 1".into(),
            ),
            (index + 1, size, r, lh, proof.clone(), "index + 1".into()),
            (index ^ 2, size, r, lh, proof.clone(), "index ^ 2".into()),
            (index, size * 2, r, lh, proof.clone(), "size * 2".into()),
            (index, size / 2, r, lh, proof.clone(), "size / 2".into()),
            (index, size, r, some, proof.clone(), "wrong leaf".into()),
            (index, size, empty, lh, proof.clone(), "empty root".into()),
            (index, size, some, lh, proof.clone(), "random root".into()),
            (
                index,
                size,
                r,
                lh,
                [&proof[..], &[r]].concat(),
                "trailing root".into(),
            ),
            (
                index,
                size,
                r,
                lh,
                [&[r], &proof[..]].concat(),
                "preceding root".into(),
            ),
        ];
        for i in 0..ln {
            probes.push((
                index,
                size,
                r,
                lh,
                flip(&proof, i, 8),
                format!("proof[{i}] bit 3"),
            ));
        }
        if ln > 0 {
            probes.push((
                index,
                size,
                r,
                lh,
                proof[..ln - 1].to_vec(),
                "removed".into(),
            ));
        }
        if ln > 1 {
            let inserted = [&[proof[0], some], &proof[1..]].concat();
            probes.push((index, size, r, lh, inserted, "inserted".into()));
        }
        for (i, s, root, lh, path, desc) in probes {
            assert!(
                verify_inclusion(i, s, &lh, &path, &root).is_err(),
                "leaf {leaf} in {size}: {desc} verified"
            );
        }
    }
}

/// The probes of `corruptConsistencyProof` in transparency-dev/merkle
/// `proof/verify_test.go` (minus those needing other hash lengths), for every
/// non-trivial reference proof: every one must fail.
#[test]
fn reference_corrupted_consistency_probes_all_fail() {
    let wrong = leaf_hash(b"WrongRoot");
    for (old, new, proof) in TD_CONSISTENCY {
        let proof = hashes(proof);
        if proof.is_empty() {
            continue;
        }
        let (r1, r2) = (h(TD_ROOTS[old as usize]), h(TD_ROOTS[new as usize]));
        let ln = proof.len();
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>, String)> = vec![
            (old - 1, new, r1, r2, proof.clone(), "size1 - 1".into()),
            (old + 1, new, r1, r2, proof.clone(), "size1 + 1".into()),
            (old ^ 2, new, r1, r2, proof.clone(), "size1 ^ 2".into()),
            (old, new * 2, r1, r2, proof.clone(), "size2 * 2".into()),
            (old, new / 2, r1, r2, proof.clone(), "size2 / 2".into()),
            (old, new, wrong, r2, proof.clone(), "wrong root1".into()),
            (old, new, r1, wrong, proof.clone(), "wrong root2".into()),
            (old, new, r2, r1, proof.clone(), "swapped roots".into()),
            (old, new, r1, r2, vec![], "empty proof".into()),
            (
                old,
                new,
                r1,
                r2,
                [&proof[..], &[r1]].concat(),
                "trailing root1".into(),
            ),
            (
                old,
                new,
                r1,
                r2,
                [&proof[..], &[r2]].concat(),
                "trailing root2".into(),
            ),
            (
                old,
                new,
                r1,
                r2,
                [&[r1], &proof[..]].concat(),
                "preceding root1".into(),
            ),
            (
                old,
                new,
                r1,
                r2,
                [&[r2], &proof[..]].concat(),
                "preceding root2".into(),
            ),
            (
                old,
                new,
                r1,
                r2,
                [&[proof[0]], &proof[..]].concat(),
                "preceding proof[0]".into(),
            ),
            (
                old,
                new,
                r1,
                r2,
                proof[..ln - 1].to_vec(),
                "truncated proof".into(),
            ),
        ];
        for i in 0..ln {
            probes.push((
                old,
                new,
                r1,
                r2,
                flip(&proof, i, 16),
                format!("proof[{i}] bit 4"),
            ));
        }
        for (o, n, a, b, path, desc) in probes {
            assert!(
                verify_consistency(o, n, &a, &b, &path).is_err(),
                "{old}->{new}: {desc} verified"
            );
        }
    }
}

/// `TestVerifyConsistency`'s table of edge cases in transparency-dev/merkle
/// `proof/verify_test.go`. Waymark deliberately differs on size 0: the reference
/// accepts `0 -> 0` and `0 -> 1` with an empty proof, Waymark rejects any old size 0.
#[test]
fn consistency_edge_cases_follow_the_reference_except_that_old_size_zero_is_rejected() {
    let root1 = leaf_hash(b"don't care 1");
    let root2 = leaf_hash(b"don't care 2");
    let e = empty_root();
    let one = [e];
    // (old, new, old root, new root, path, verifies)
    type Case<'a> = (u64, u64, Hash, Hash, &'a [Hash], bool);
    let cases: [Case; 13] = [
        (0, 0, root1, root2, &[], false),
        (1, 1, root1, root2, &[], false),
        (0, 0, root1, root1, &[], false), // reference: Ok
        (0, 1, root1, root2, &[], false), // reference: Ok
        (1, 1, root2, root2, &[], true),
        (1, 0, root1, root2, &[], false),
        (2, 1, root1, root2, &[], false),
        (1, 2, root1, root2, &[], false),
        (0, 0, e, root2, &[], false),
        (1, 1, e, root2, &[], false),
        (0, 0, e, e, &one, false),
        (0, 1, e, e, &one, false),
        (1, 1, e, e, &one, false),
    ];
    for (i, (old, new, a, b, path, want)) in cases.into_iter().enumerate() {
        assert_eq!(
            verify_consistency(old, new, &a, &b, path).is_ok(),
            want,
            "case {i}: {old}->{new}"
        );
    }
    assert_eq!(
        verify_consistency(0, 1, &e, &root1, &[]),
        Err(ProofError::OldSizeZero)
    );
    assert_eq!(
        verify_consistency(2, 1, &root1, &root2, &[]),
        Err(ProofError::OldSizeExceedsNew { old: 2, new: 1 })
    );
    assert_eq!(
        verify_consistency(1, 2, &root1, &root2, &[]),
        Err(ProofError::WrongPathLength {
            expected: 1,
            got: 0
        })
    );
}

/// `TestVerifyInclusionSingleEntry` and the invalid probes of `TestVerifyInclusion`
/// in transparency-dev/merkle `proof/verify_test.go`.
#[test]
fn single_entry_and_out_of_range_inclusion_probes_behave_as_the_reference() {
    let hash = leaf_hash(b"data");
    assert_eq!(verify_inclusion(0, 1, &hash, &[], &hash), Ok(()));
    let other = empty_root();
    assert!(verify_inclusion(0, 1, &other, &[], &hash).is_err());
    assert!(verify_inclusion(0, 1, &hash, &[], &other).is_err());
    let some = h(TD_SOME_HASH);
    for (index, size) in [(0, 0), (0, 1), (1, 0), (2, 1)] {
        assert!(verify_inclusion(index, size, &some, &[], &empty_root()).is_err());
    }
    for (index, size) in [(0, 0), (1, 0), (2, 1)] {
        assert_eq!(
            verify_inclusion(index, size, &some, &[], &some),
            Err(ProofError::IndexOutOfRange { index, size })
        );
    }
}

#[test]
fn proofs_are_not_produced_for_impossible_requests() {
    let at = |i: u64| leaf_hash(&i.to_be_bytes());
    assert_eq!(
        inclusion_proof(0, 0, at),
        Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        inclusion_proof(5, 5, at),
        Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(consistency_proof(0, 3, at), Err(ProofError::OldSizeZero));
    assert_eq!(consistency_proof(0, 0, at), Err(ProofError::OldSizeZero));
    assert_eq!(
        consistency_proof(4, 3, at),
        Err(ProofError::OldSizeExceedsNew { old: 4, new: 3 })
    );
    assert_eq!(consistency_proof(3, 3, at), Ok(vec![]));
}

// ---------------------------------------------------------------------------
// Properties over every small tree
// ---------------------------------------------------------------------------

fn leaves(n: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
        .collect()
}

#[test]
fn every_inclusion_proof_up_to_size_64_verifies_and_the_frontier_tracks_the_root() {
    let all = leaves(64);
    let mut frontier = Frontier::new();
    assert_eq!(frontier.root(), empty_root());
    for size in 1..=64u64 {
        frontier.push(all[size as usize - 1]);
        let r = root(&all[..size as usize]);
        assert_eq!(frontier.root(), r, "frontier root at size {size}");
        assert_eq!(frontier.size(), size);
        assert_eq!(frontier.hashes().len(), size.count_ones() as usize);
        for index in 0..size {
            let path = inclusion_proof(index, size, |i| all[i as usize]).unwrap();
            verify_inclusion(index, size, &all[index as usize], &path, &r)
                .unwrap_or_else(|e| panic!("leaf {index} in {size}: {e}"));
            if size > 1 {
                // The proof is bound to its index and size.
                let wrong_index = (index + 1) % size;
                assert!(
                    verify_inclusion(wrong_index, size, &all[index as usize], &path, &r).is_err()
                );
            }
        }
    }
}

#[test]
fn every_consistency_proof_between_sizes_1_and_40_verifies() {
    let all = leaves(40);
    let roots: Vec<Hash> = (0..=40).map(|n| root(&all[..n])).collect();
    for old in 1..=40u64 {
        for new in old..=40u64 {
            let path = consistency_proof(old, new, |i| all[i as usize]).unwrap();
            let (r1, r2) = (&roots[old as usize], &roots[new as usize]);
            verify_consistency(old, new, r1, r2, &path)
                .unwrap_or_else(|e| panic!("{old}->{new}: {e}"));
            if old < new {
                assert!(!path.is_empty());
                let mut extended = path.clone();
                extended.push(*r2);
                assert!(verify_consistency(old, new, r1, r2, &extended).is_err());
                assert!(verify_consistency(old, new, r1, r2, &path[1..]).is_err());
                // A different old tree of the same size is not consistent.
                let forged = leaf_hash(b"forged");
                assert!(verify_consistency(old, new, &forged, r2, &path).is_err());
            }
        }
    }
}

#[test]
fn the_frontier_round_trips_through_json_and_rejects_a_wrong_hash_count() {
    let all = leaves(13);
    let frontier = CompactRange::from_leaves(&all);
    assert_eq!(frontier.size(), 13);
    assert_eq!(frontier.root(), root(&all));
    let text = serde_json::to_string(&frontier).unwrap();
    let back: CompactRange = serde_json::from_str(&text).unwrap();
    assert_eq!(back, frontier);
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["size"], 13);
    assert_eq!(value["hashes"].as_array().unwrap().len(), 3);
    // 13 = 0b1101 needs three subtree roots, not two.
    let bad = format!(
        r#"{{"size":13,"hashes":["{}","{}"]}}"#,
        all[0].to_hex(),
        all[1].to_hex()
    );
    assert!(serde_json::from_str::<CompactRange>(&bad).is_err());
    assert!(CompactRange::from_parts(13, frontier.hashes().to_vec()).is_ok());
    assert_eq!(
        CompactRange::from_parts(2, vec![]),
        Err(FrontierError {
            size: 2,
            expected: 1,
            got: 0
        })
    );
    // A restored frontier keeps absorbing leaves correctly.
    let mut more = back;
    let extra = leaves(20);
    for leaf in &extra[13..] {
        more.push(*leaf);
    }
    assert_eq!(more.root(), root(&extra));
}

/// The node-addressed API (what the store uses) agrees with the leaf-based one for
/// every size, index and pair of sizes up to 40, and asks for exactly the nodes it
/// announces — each of which the frontier reported when it was completed.
#[test]
fn proofs_from_stored_nodes_equal_proofs_from_leaves() {
    use std::collections::BTreeMap;
    use waymark_events::*;
    let leaves: Vec<Hash> = (0..40u8).map(|i| leaf_hash(&[i])).collect();
    let mut frontier = Frontier::new();
    let mut stored: BTreeMap<NodeId, Hash> = BTreeMap::new();
    for (n, leaf) in leaves.iter().enumerate() {
        for (id, h) in frontier.push_nodes(*leaf) {
            assert_eq!(
                id.completed_at(),
                n as u64 + 1,
                "{id:?} completes at its last leaf"
            );
            assert!(stored.insert(id, h).is_none());
        }
    }
    assert_eq!(stored.len(), 2 * 40 - 40u64.count_ones() as usize);
    let at = |i: u64| leaves[i as usize];
    for size in 1..=40u64 {
        let asked = root_nodes(size);
        assert_eq!(asked.len(), size.count_ones() as usize);
        let got = root_from(size, |id| {
            assert!(asked.contains(&id));
            stored[&id]
        });
        assert_eq!(got, root(&leaves[..size as usize]), "root at {size}");
        for index in 0..size {
            let asked = inclusion_nodes(index, size).unwrap();
            let proof = inclusion_proof_from(index, size, |id| {
                assert!(asked.contains(&id), "inclusion {index}@{size} asked {id:?}");
                stored[&id]
            })
            .unwrap();
            assert_eq!(proof, inclusion_proof(index, size, at).unwrap());
        }
        for old in 1..=size {
            let asked = consistency_nodes(old, size).unwrap();
            let proof = consistency_proof_from(old, size, |id| {
                assert!(
                    asked.contains(&id),
                    "consistency {old}->{size} asked {id:?}"
                );
                stored[&id]
            })
            .unwrap();
            assert_eq!(proof, consistency_proof(old, size, at).unwrap());
        }
    }
    assert_eq!(
        inclusion_nodes(3, 3),
        Err(ProofError::IndexOutOfRange { index: 3, size: 3 })
    );
    assert_eq!(consistency_nodes(0, 3), Err(ProofError::OldSizeZero));
}
