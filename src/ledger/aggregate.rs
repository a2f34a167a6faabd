//! The cqrs-es `Ledger` aggregate: one per ledger id. `handle` judges signed statements
//! with the rules of [`LedgerState`]; the chained event store gives them their place in
//! the chain (`seq`, `prev`, `recorded_at`) when it commits.

use super::rule7::{replayed, LedgerServices};
use crate::error::StorageError;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::mpsc;
use waymark_core::Rejection;
use waymark_core::{KeyHints, LedgerState};
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
    Storage(#[from] StorageError),
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
        let statements: Arc<[Signed]> = command.statements.into();
        let mut verified = Preverifier::start(&self.state, &statements);
        // The rules, statement by statement (each sees the effects of those before
        // it), up to the first rejection, while the signatures of the statements
        // ahead are checked on rayon's pool.
        let mut batch = HashSet::new();
        let mut failed = None;
        let mut passed = Vec::with_capacity(statements.len());
        for (index, signed) in statements.iter().enumerate() {
            let key = match verified.next().await {
                Some(key) => Some(key),
                None => services.prechecked.as_ref().and_then(|p| p.key_for(signed)),
            };
            let checked = self.state.check_preverified(
                &command.ledger,
                &signed.statement,
                &signed.sig,
                key.as_deref(),
            );
            if let Err(rejection) = checked {
                failed = Some(LedgerError::Rejected { index, rejection });
                break;
            }
            if !batch.insert(signed.sig.clone()) {
                failed = Some(replayed(index));
                break;
            }
            passed.push(signed.sig.clone());
            sink.write(LedgerEvent::unchained(signed.clone()), self)
                .await;
        }
        // Rule 7 for the statements that passed, in one round trip; the first
        // replay among them comes before any later rejection.
        let sigs: Vec<&str> = passed.iter().map(String::as_str).collect();
        let recorded = services
            .signatures
            .recorded_among(&command.ledger, &sigs)
            .await?;
        if let Some(index) = passed.iter().position(|s| recorded.contains(s)) {
            return Err(replayed(index));
        }
        failed.map_or(Ok(()), Err)
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

/// Batches at least this long have their signatures checked ahead, in parallel.
const PREVERIFY_FROM: usize = 16;

/// Statements a pre-verifier step checks (across the pool) before handing their
/// outcomes over. The rules wait for the first step only: `verify_strict` runs at
/// 24,000–26,000 a second on one core of this 2-core machine (the bench's
/// `ref_ed25519_single`), so 32 statements take ~0.7 ms on two, and each next step is
/// done, or nearly, when the rules reach it. Measured with `cargo bench --bench
/// ledger` (BENCHMARKS.md, "issue 13: rayon"): batch apply as fast as the hand-made
/// threads it replaces.
const PREVERIFY_STEP: usize = 32;

/// Checks a batch's signatures on rayon's pool while the rules run, each under the
/// key its actor holds at the start of the batch, and hands the outcomes over in
/// order, a step of [`PREVERIFY_STEP`] statements at a time. `next()` is `Some(key)`
/// where the next statement verified under `key`; the rules skip their own check
/// only where rule 1 asks for that same key, and check again otherwise (a key added
/// or rotated inside the batch, or a step the pool did not deliver), so the outcome
/// is exactly that of checking one statement after another.
///
/// The async side never blocks or spins: it awaits the next step on a channel, so
/// the tokio worker runs other tasks meanwhile. A rejection ends the batch and drops
/// the receiver; the pool stops at its next step.
struct Preverifier {
    steps: Option<mpsc::UnboundedReceiver<Vec<Option<String>>>>,
    ready: std::vec::IntoIter<Option<String>>,
}

impl Preverifier {
    fn start(state: &LedgerState, statements: &Arc<[Signed]>) -> Preverifier {
        let idle = Preverifier {
            steps: None,
            ready: Vec::new().into_iter(),
        };
        // A short batch is checked by the rules themselves, one by one.
        if statements.len() < PREVERIFY_FROM {
            return idle;
        }
        // The key each actor signs with as the batch starts, each decoded once.
        let mut keys = KeyHints::default();
        let mut seen = HashSet::new();
        for s in statements.iter() {
            let actor = s.statement.actor.as_str();
            if seen.insert(actor) {
                if let Some(key) = state.current_key(actor) {
                    keys.insert(actor, key);
                }
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let statements = statements.clone();
        rayon::spawn(move || {
            for step in statements.chunks(PREVERIFY_STEP) {
                if tx.is_closed() {
                    return;
                }
                // A panic here must not take the process down (rayon aborts on a
                // panic in a spawned job): the rules then check the rest themselves.
                let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    step.par_iter()
                        .map(|s| keys.verified_with(&s.statement, &s.sig))
                        .collect::<Vec<_>>()
                }));
                let Ok(outcomes) = checked else { return };
                if tx.send(outcomes).is_err() {
                    return;
                }
            }
        });
        Preverifier {
            steps: Some(rx),
            ..idle
        }
    }

    /// The outcome of the early check of the next statement, awaiting its step.
    /// `None` (check it yourself) for a short batch, or once the pool stopped.
    async fn next(&mut self) -> Option<String> {
        loop {
            if let Some(outcome) = self.ready.next() {
                return outcome;
            }
            let step = self.steps.as_mut()?.recv().await;
            match step {
                Some(outcomes) => self.ready = outcomes.into_iter(),
                None => {
                    self.steps = None;
                    return None;
                }
            }
        }
    }
}
