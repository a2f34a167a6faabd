//! C2SP tlog-tiles (events/src/tiles): the specification's examples, path encodings,
//! strict parsing, tile and bundle round trips, and proofs computed from tiles against
//! proofs computed from the leaves.

use proptest::prelude::*;
use std::collections::BTreeMap;
use waymark_events::*;

fn h(i: u64) -> Hash {
    leaf_hash(&i.to_be_bytes())
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
    assert!(refused(&bundle, &Tile::entries(4, 4).unwrap()).contains("3 entries, its width is 4"));
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
