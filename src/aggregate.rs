//! The cqrs-es `Ledger` aggregate: one per ledger id. `handle` judges signed statements
//! with the rules of [`LedgerState`]; the chained event store gives them their place in
//! the chain (`seq`, `prev`, `recorded_at`) when it commits.

use crate::rules::{Rejection, Rule};
use crate::state::LedgerState;
use async_trait::async_trait;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;
use waymark_events::{Event, Frontier, Hash, Statement};

/// A statement with its signature, as an actor hands it to the recorder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub statement: Statement,
    pub sig: String,
}

/// Record these statements, in order, all or none.
#[derive(Debug, Clone)]
pub struct Record {
    pub ledger: String,
    pub statements: Vec<Signed>,
}

/// The aggregate's event: a SPEC event. Between `handle` and the store's `commit` it is
/// *unchained* (`seq` 0, empty `recorded_at`); the store chains it before persisting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LedgerEvent(pub Event);

impl LedgerEvent {
    pub fn unchained(s: Signed) -> Self {
        LedgerEvent(Event {
            statement: s.statement,
            seq: 0,
            prev: Hash::ZERO,
            recorded_at: String::new(),
            sig: s.sig,
        })
    }

    pub fn is_chained(&self) -> bool {
        self.0.seq != 0
    }
}

impl DomainEvent for LedgerEvent {
    fn event_type(&self) -> String {
        self.0.statement.event_type().as_str().to_string()
    }
    fn event_version(&self) -> String {
        self.0.statement.version.clone()
    }
}

/// Errors of `handle`: a rule rejection (with the 0-based index of the statement in the
/// batch), or a failure to consult the signature index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("{rejection}")]
    Rejected { index: usize, rejection: Rejection },
    #[error("storage: {0}")]
    Storage(String),
}

/// Has this signature been recorded in this ledger already? (Rule 7.) Backed by an
/// index in the event table, so the check costs O(log n), not a replay.
#[async_trait]
pub trait SignatureIndex: Send + Sync {
    async fn contains(&self, ledger: &str, sig: &str) -> Result<bool, String> {
        Ok(self.seq_of(ledger, sig).await?.is_some())
    }
    /// The seq of the event that recorded this signature, if any.
    async fn seq_of(&self, ledger: &str, sig: &str) -> Result<Option<u64>, String>;
}

pub struct LedgerServices {
    pub signatures: Arc<dyn SignatureIndex>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub state: LedgerState,
    /// The Merkle frontier (SPEC section 6) of the chained events: the root at the
    /// head without reading any event.
    #[serde(default)]
    pub frontier: Frontier,
}

impl Aggregate for Ledger {
    const TYPE: &'static str = "Ledger";
    type Command = Record;
    type Event = LedgerEvent;
    type Error = LedgerError;
    type Services = LedgerServices;

    async fn handle(
        &mut self,
        command: Record,
        services: &LedgerServices,
        sink: &EventSink<Self>,
    ) -> Result<(), LedgerError> {
        let mut batch = HashSet::new();
        for (index, signed) in command.statements.into_iter().enumerate() {
            let rejected = |rejection| LedgerError::Rejected { index, rejection };
            self.state
                .check(&command.ledger, &signed.statement, &signed.sig)
                .map_err(rejected)?;
            let replay = !batch.insert(signed.sig.clone())
                || services
                    .signatures
                    .contains(&command.ledger, &signed.sig)
                    .await
                    .map_err(LedgerError::Storage)?;
            if replay {
                return Err(rejected(Rejection {
                    rule: Rule::Replay,
                    field: "sig".into(),
                    message: "this signature was already recorded (replayed statement)".into(),
                }));
            }
            sink.write(LedgerEvent::unchained(signed), self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: LedgerEvent) {
        // Unchained events (inside `handle`) move the rule state but not the head: the
        // store chains them from the head the aggregate was loaded with.
        let head = self.state.head.clone();
        let hash = if event.is_chained() {
            event.0.hash()
        } else {
            Hash::ZERO
        };
        self.state.apply(&event.0, hash);
        if event.is_chained() {
            self.frontier.push(hash);
        } else {
            self.state.head = head;
        }
    }
}
