//! Proofs: Merkle roots, signed checkpoints, snapshot bundles, inclusion and
//! consistency proofs, read from the tree nodes kept in the event rows.

use super::Waymark;
use crate::error::{Error, Result, StorageError};
use waymark_core::LedgerState;
use waymark_events::{
    consistency_nodes, consistency_proof_from, inclusion_nodes, inclusion_proof_from, root_from,
    root_nodes, sign_checkpoint, verifier_key, Checkpoint, ConsistencyProofDoc, Hash,
    InclusionProofDoc, NodeId, SnapshotBundle,
};

impl Waymark {
    /// The ledger's size and root now, from the Merkle frontier kept in the snapshot.
    pub(super) async fn tree_head(&self, ledger: &str) -> Result<(u64, Hash, LedgerState)> {
        let l = self.loaded(ledger).await?;
        Ok((l.frontier.size(), l.frontier.root(), l.state))
    }

    pub(super) fn check_size(size: u64, head: u64, what: &str) -> Result<()> {
        if size == 0 || size > head {
            return Err(Error::BadInput(format!(
                "{what} {size}: the ledger has seq 1..{head}"
            )));
        }
        Ok(())
    }

    /// The Merkle root of the first `size` events (the head's root from the frontier,
    /// any other from the stored nodes).
    pub async fn root(&self, ledger: &str, size: Option<u64>) -> Result<(u64, Hash)> {
        let (head, head_root, _) = self.tree_head(ledger).await?;
        match size {
            None => Ok((head, head_root)),
            Some(n) if n == head => Ok((head, head_root)),
            Some(n) => {
                Self::check_size(n, head, "--size")?;
                let nodes = crate::storage::nodes(&self.db, ledger, &root_nodes(n)).await?;
                Ok((n, root_from(n, |id| nodes[&id])))
            }
        }
    }

    /// A signed checkpoint (SPEC section 6) of the first `size` events (default: all).
    /// `log_key` must be the key whose verifier string `LedgerOpened` carries.
    pub async fn checkpoint(
        &self,
        ledger: &str,
        size: Option<u64>,
        log_key: &ed25519_dalek::SigningKey,
    ) -> Result<(Checkpoint, String)> {
        let (_, _, state) = self.tree_head(ledger).await?;
        let expected = verifier_key(&state.origin, &log_key.verifying_key());
        if expected != state.log_key {
            return Err(Error::Usage(format!(
                "the log key in the key store is not this ledger's: LedgerOpened names {}, the stored key is {expected}",
                state.log_key
            )));
        }
        let (n, root) = self.root(ledger, size).await?;
        let cp = Checkpoint::new(state.origin.clone(), n, root)
            .map_err(|e| Error::BadInput(format!("checkpoint origin: {e}")))?;
        let note = sign_checkpoint(&cp, log_key);
        Ok((cp, note))
    }

    /// The snapshot bundle of SPEC section 8 for the first `size` events.
    pub async fn snapshot(
        &self,
        ledger: &str,
        size: Option<u64>,
        log_key: &ed25519_dalek::SigningKey,
    ) -> Result<SnapshotBundle> {
        let (cp, note) = self.checkpoint(ledger, size, log_key).await?;
        let head = self.synced(ledger).await?;
        let status = self.status_at(ledger, cp.size, &head).await?;
        if status.as_of.as_ref().map(|a| a.seq) != Some(cp.size) {
            return Err(Error::Storage(StorageError::inconsistent(
                "the read models lag the tree: run `waymark rebuild`",
            )));
        }
        let head_hash = status.as_of.as_ref().map(|a| a.hash).unwrap_or(Hash::ZERO);
        Ok(SnapshotBundle {
            ledger: ledger.to_string(),
            tree_size: cp.size,
            head_hash,
            checkpoint: note,
            status: serde_json::to_value(&status)
                .map_err(|e| Error::Storage(StorageError::database(e.to_string())))?,
        })
    }

    /// The inclusion proof of event `seq` in the tree of the first `size` events.
    pub async fn prove_inclusion(
        &self,
        ledger: &str,
        seq: u64,
        size: Option<u64>,
    ) -> Result<InclusionProofDoc> {
        let (head, _, _) = self.tree_head(ledger).await?;
        let size = size.unwrap_or(head);
        Self::check_size(size, head, "--size")?;
        if seq == 0 || seq > size {
            return Err(Error::BadInput(format!(
                "prove inclusion {seq}: the tree of size {size} holds seq 1..{size}"
            )));
        }
        let index = seq - 1;
        let mut ids = inclusion_nodes(index, size).map_err(|e| Error::BadInput(e.to_string()))?;
        let leaf = NodeId { level: 0, index };
        ids.push(leaf);
        let nodes = crate::storage::nodes(&self.db, ledger, &ids).await?;
        let path = inclusion_proof_from(index, size, |id| nodes[&id])
            .map_err(|e| Error::BadInput(e.to_string()))?;
        Ok(InclusionProofDoc {
            ledger: ledger.to_string(),
            seq,
            tree_size: size,
            leaf_hash: nodes[&leaf],
            path,
        })
    }

    /// The consistency proof between the trees of the first `old` and `new` events.
    pub async fn prove_consistency(
        &self,
        ledger: &str,
        old: u64,
        new: u64,
    ) -> Result<ConsistencyProofDoc> {
        let (head, _, _) = self.tree_head(ledger).await?;
        Self::check_size(new, head, "prove consistency: new size")?;
        if old == 0 || old > new {
            return Err(Error::BadInput(format!(
                "prove consistency {old} {new}: need 1 <= OLD <= NEW"
            )));
        }
        let ids = consistency_nodes(old, new).map_err(|e| Error::BadInput(e.to_string()))?;
        let nodes = crate::storage::nodes(&self.db, ledger, &ids).await?;
        let path = consistency_proof_from(old, new, |id| nodes[&id])
            .map_err(|e| Error::BadInput(e.to_string()))?;
        Ok(ConsistencyProofDoc {
            ledger: ledger.to_string(),
            old_size: old,
            new_size: new,
            path,
        })
    }
}
