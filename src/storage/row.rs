//! The metadata Waymark keeps in each event row beside the event, written and parsed
//! only here: `hash`, the event's hash (its Merkle leaf, SPEC section 6), and `nodes`,
//! the tree nodes the row's append completed above the leaf, lowest first, as
//! comma-joined hex. Node (level L, index k) is in row (k + 1) << L, entry L - 1, so
//! any root or proof reads O(log n) rows (`nodes.rs`).
//!
//! The metadata is the cqrs-es envelope's `HashMap<String, String>`, stored as a JSON
//! object in the row's `metadata` column.

use std::collections::HashMap;
use waymark_events::Hash;

const HASH: &str = "hash";
const NODES: &str = "nodes";

/// What a row's metadata says of its event's place in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowMeta {
    pub hash: Hash,
    /// The nodes of levels 1, 2, … this append completed (possibly none).
    pub nodes: Vec<Hash>,
}

impl RowMeta {
    /// Adds `hash` and `nodes` to a row's metadata.
    pub fn write_into(&self, meta: &mut HashMap<String, String>) {
        meta.insert(HASH.into(), self.hash.to_hex());
        if !self.nodes.is_empty() {
            meta.insert(NODES.into(), self.nodes_text());
        }
    }

    /// The `nodes` entry as stored: comma-joined hex, empty for none.
    pub fn nodes_text(&self) -> String {
        let hex: Vec<String> = self.nodes.iter().map(Hash::to_hex).collect();
        hex.join(",")
    }

    /// The event hash kept in an envelope's metadata, if it holds a well-formed one.
    pub fn hash_in(meta: &HashMap<String, String>) -> Option<Hash> {
        meta.get(HASH)?.parse().ok()
    }

    /// The event hash kept in a row's metadata column (JSON text).
    pub fn hash_in_text(metadata: &str) -> Option<Hash> {
        let meta: serde_json::Value = serde_json::from_str(metadata).ok()?;
        Self::hash_in_value(&meta)
    }

    /// The event hash kept in a row's metadata, read as JSON.
    pub fn hash_in_value(meta: &serde_json::Value) -> Option<Hash> {
        meta.get(HASH)?.as_str()?.parse().ok()
    }

    /// The `nodes` entry of a row's metadata exactly as stored ("" when absent), for
    /// `verify` to compare with the nodes the append should have completed.
    pub fn stored_nodes_text(meta: &serde_json::Value) -> &str {
        meta.get(NODES).and_then(|n| n.as_str()).unwrap_or("")
    }

    /// The node of `level` (0: the leaf, the event hash) kept in a row's metadata.
    pub fn node_in_value(meta: &serde_json::Value, level: u32) -> Option<Hash> {
        if level == 0 {
            return Self::hash_in_value(meta);
        }
        Self::stored_nodes_text(meta)
            .split(',')
            .nth(level as usize - 1)?
            .parse()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_meta_reads_back_what_it_wrote() {
        let h = |b: u8| Hash([b; 32]);
        let meta = RowMeta {
            hash: h(1),
            nodes: vec![h(2), h(3)],
        };
        let mut map = HashMap::new();
        meta.write_into(&mut map);
        assert_eq!(RowMeta::hash_in(&map), Some(h(1)));
        let text = serde_json::to_string(&map).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(RowMeta::hash_in_text(&text), Some(h(1)));
        assert_eq!(RowMeta::node_in_value(&value, 0), Some(h(1)));
        assert_eq!(RowMeta::node_in_value(&value, 1), Some(h(2)));
        assert_eq!(RowMeta::node_in_value(&value, 2), Some(h(3)));
        assert_eq!(RowMeta::node_in_value(&value, 3), None);
        assert_eq!(RowMeta::stored_nodes_text(&value), meta.nodes_text());
    }

    #[test]
    fn a_leaf_only_append_stores_no_nodes_entry() {
        let mut map = HashMap::new();
        RowMeta {
            hash: Hash([7; 32]),
            nodes: vec![],
        }
        .write_into(&mut map);
        assert_eq!(map.len(), 1);
    }
}
