//! The ledger's tree as C2SP tlog-tiles, from what the store keeps: hash tiles from the
//! tree nodes in the event rows (`storage::nodes`, one row per hash), entry bundles
//! from the events' leaf bytes, read a page at a time.

use super::Waymark;
use crate::error::{Error, Result, StorageError};
use crate::storage::{RowMeta, Seq};
use waymark_core::ProblemKind;
use waymark_events::{
    encode_bundle, leaf_hash, tile_bytes, Event, Hash, NodeId, Tile, TileKind, TILE_HEIGHT,
    TILE_WIDTH,
};

impl Waymark {
    /// The leaf bytes (JCS(event), SPEC section 4) and the stored leaf hash of at most
    /// `limit` events after seq `after`, in seq order. A row whose stored hash is not
    /// the hash of its event's bytes is a broken chain (`verify` says more).
    pub async fn leaves_after(
        &self,
        ledger: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Hash)>> {
        let rows = self.db.event_rows_after(ledger, Seq(after), limit).await?;
        // Parsing and hashing are independent per row: a page is done on every core.
        let parsed = waymark_core::map_ordered(&rows, 64, |_, row| {
            let value: serde_json::Value =
                serde_json::from_str(&row.payload).map_err(|e| e.to_string())?;
            let bytes = Event::from_value(&value)
                .map_err(|e| e.to_string())?
                .leaf_bytes();
            let hash = leaf_hash(&bytes);
            match RowMeta::hash_in_text(&row.metadata) {
                Some(stored) if stored == hash => Ok((bytes, hash)),
                Some(stored) => Err(format!(
                    "the row keeps hash {stored}, its event hashes to {hash}"
                )),
                None => Err("the row keeps no hash".into()),
            }
        });
        let mut expected = after + 1;
        rows.iter()
            .zip(parsed)
            .map(|(row, parsed)| {
                let seq = row.seq.get();
                let at = expected;
                let broken = |problem, detail: String| Error::BrokenChain {
                    seq: at,
                    problem,
                    detail: format!("{detail} (run `waymark verify`)"),
                };
                if seq != expected {
                    return Err(broken(
                        ProblemKind::SeqGap,
                        format!("expected seq {expected}, the next stored row is seq {seq}"),
                    ));
                }
                expected += 1;
                parsed.map_err(|e| broken(ProblemKind::HashMismatch, format!("seq {seq}: {e}")))
            })
            .collect()
    }

    /// The bytes of hash tile `tile` (complete at the head: the caller checks), from
    /// the stored nodes: hash i of tile (L, N) is node (8·L, N·256 + i).
    pub async fn hash_tile(&self, ledger: &str, tile: &Tile) -> Result<Vec<u8>> {
        let level = u32::from(tile.level().unwrap_or(0)) * TILE_HEIGHT;
        let first = tile.index() * u64::from(TILE_WIDTH);
        let ids: Vec<NodeId> = (0..u64::from(tile.width()))
            .map(|i| NodeId {
                level,
                index: first + i,
            })
            .collect();
        let nodes = crate::storage::nodes(&self.db, ledger, &ids).await?;
        // `nodes` answers every id asked or fails.
        let hashes: Vec<Hash> = ids.iter().map(|id| nodes[id]).collect();
        Ok(tile_bytes(&hashes))
    }

    /// The bytes of entry bundle `tile` (complete at the head: the caller checks).
    pub async fn entry_bundle(&self, ledger: &str, tile: &Tile) -> Result<Vec<u8>> {
        let range = tile.entry_range();
        let leaves = self
            .leaves_after(ledger, range.start, tile.width() as usize)
            .await?;
        if leaves.len() != tile.width() as usize {
            return Err(Error::Storage(StorageError::inconsistent(format!(
                "{tile}: {} events stored from seq {}, the tree has {}",
                leaves.len(),
                range.start + 1,
                tile.width()
            ))));
        }
        encode_bundle(leaves.iter().map(|(b, _)| b.as_slice()))
            .map_err(|e| Error::BadInput(format!("{tile}: {e} (SPEC rule 8)")))
    }

    /// Tile `tile` of the ledger's tree at its head, for `serve`: `None` when the tree
    /// does not have every hash (or entry) in it yet. Any width up to the head's is
    /// answered: the partial tiles of every earlier size stay available.
    pub async fn tile(&self, ledger: &str, tile: &Tile) -> Result<Option<Vec<u8>>> {
        let (head, _, _) = self.tree_head(ledger).await?;
        if !tile.complete_in(head) {
            return Ok(None);
        }
        Ok(Some(match tile.kind() {
            TileKind::Hashes { .. } => self.hash_tile(ledger, tile).await?,
            TileKind::Entries => self.entry_bundle(ledger, tile).await?,
        }))
    }
}
