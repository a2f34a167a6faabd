//! Rule 7 (no replayed signature) on the write side, in one place: the index the
//! aggregate consults, the rejection it gives, and the two ways a try at recording
//! checks it — through the store's signature index before the commit, or left to the
//! commit itself (`storage::append` refuses a batch holding a recorded signature).
//! The verifiers' own index over an export is `waymark_core`'s (`ReplayIndex`).

use crate::error::StorageError;
use crate::storage::Db;
use async_trait::async_trait;
use std::collections::HashSet;
use std::sync::Arc;
use waymark_core::{Rejection, Rule};

/// Has this signature been recorded in this ledger already?
#[async_trait]
pub trait SignatureIndex: Send + Sync {
    /// Which of `sigs` are recorded already (one round trip for a whole batch).
    async fn recorded_among(
        &self,
        ledger: &str,
        sigs: &[&str],
    ) -> Result<HashSet<String>, StorageError>;
}

/// The store's index on each event's signature (`storage::signatures`): O(log n) a
/// signature, not a replay.
#[async_trait]
impl SignatureIndex for Db {
    async fn recorded_among(
        &self,
        ledger: &str,
        sigs: &[&str],
    ) -> Result<HashSet<String>, StorageError> {
        Db::recorded_among(self, ledger, sigs).await
    }
}

/// The index of a try whose commit checks rule 7: it finds nothing, and the commit
/// writes nothing if a signature is recorded already.
struct CheckedAtCommit;

#[async_trait]
impl SignatureIndex for CheckedAtCommit {
    async fn recorded_among(&self, _: &str, _: &[&str]) -> Result<HashSet<String>, StorageError> {
        Ok(HashSet::new())
    }
}

/// What `Ledger::handle` consults beyond the ledger's own state.
pub struct LedgerServices {
    pub signatures: Arc<dyn SignatureIndex>,
    /// Signatures verified before the command came (the server's precheck).
    pub prechecked: Option<Arc<super::Prechecked>>,
}

impl LedgerServices {
    /// Rule 7 checked by the rules, through the store's signature index.
    pub fn indexed(db: Db) -> Self {
        LedgerServices {
            signatures: Arc::new(db),
            prechecked: None,
        }
    }

    /// Rule 7 left to the commit.
    pub fn checked_at_commit() -> Self {
        LedgerServices {
            signatures: Arc::new(CheckedAtCommit),
            prechecked: None,
        }
    }
}

/// The rejection of a replayed statement, the `index`-th of its batch.
pub fn replayed(index: usize) -> super::LedgerError {
    super::LedgerError::Rejected {
        index,
        rejection: replay_rejection(),
    }
}

/// Rule 7's rejection.
pub fn replay_rejection() -> Rejection {
    Rejection {
        rule: Rule::Replay,
        field: "sig".into(),
        message: "this signature was already recorded (replayed statement)".into(),
    }
}
