//! The read models as a cqrs-es `Query`, handed the envelopes of every commit.

use super::ReadModels;
use crate::ledger::{envelope_hash, Ledger};
use cqrs_es::{EventEnvelope, Query};
use std::sync::Arc;

/// The cqrs-es query: `CqrsFramework`-style dispatch after each commit. A failure
/// here is logged, not returned: the events are committed, and the next read catches
/// the read models up.
pub struct ReadModelQuery {
    pub models: Arc<ReadModels>,
}

impl ReadModelQuery {
    pub fn new(models: Arc<ReadModels>) -> Self {
        ReadModelQuery { models }
    }
}

#[async_trait::async_trait]
impl Query<Ledger> for ReadModelQuery {
    async fn dispatch(&self, ledger: &str, envelopes: &[EventEnvelope<Ledger>]) {
        let events: Vec<_> = envelopes
            .iter()
            .map(|e| (e.payload.0.clone(), envelope_hash(e)))
            .collect();
        if let Err(e) = self.models.apply_committed(ledger, &events).await {
            tracing::warn!(ledger, error = %e, "read models not updated; the next read catches up");
        }
    }
}
