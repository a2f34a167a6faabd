//! What the stream captures for the artifacts, keyed by tree size, seq or node.

use serde_json::Value;
use std::collections::BTreeMap;
use waymark_events::{empty_root, Hash, NodeId};

/// What the stream captures, keyed by tree size, seq or node.
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub(super) roots: BTreeMap<u64, Option<Hash>>,
    pub(super) leaves: BTreeMap<u64, Option<Hash>>,
    pub(super) statuses: BTreeMap<u64, Option<Value>>,
    pub(super) nodes: BTreeMap<NodeId, Option<Hash>>,
}

impl Plan {
    /// A snapshot bundle of `size` events: its root, head and status.
    pub(super) fn snapshot_at(&mut self, size: u64) {
        self.roots.insert(size, None);
        self.leaves.insert(size, None);
        self.statuses.insert(size, None);
    }

    pub(super) fn root(&self, size: u64) -> Option<Hash> {
        if size == 0 {
            return Some(empty_root());
        }
        self.roots.get(&size).copied().flatten()
    }

    pub(super) fn leaf(&self, seq: u64) -> Option<Hash> {
        self.leaves.get(&seq).copied().flatten()
    }
}
