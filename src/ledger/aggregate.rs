//! The cqrs-es `Ledger` aggregate: one per ledger id. `handle` judges signed statements
//! with the rules of [`LedgerState`]; the chained event store gives them their place in
//! the chain (`seq`, `prev`, `recorded_at`) when it commits.

use super::rule7::{replayed, LedgerServices};
use crate::error::StorageError;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
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
        let verified = Preverifier::start(&self.state, &statements);
        // The rules, statement by statement (each sees the effects of those before
        // it), up to the first rejection, while the signatures of the statements
        // ahead are checked on the other cores.
        let mut batch = HashSet::new();
        let mut failed = None;
        let mut passed = Vec::with_capacity(statements.len());
        for (index, signed) in statements.iter().enumerate() {
            let key = verified.wait(index);
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

/// Checks a batch's signatures on other cores while the rules run, each under the
/// key its actor holds at the start of the batch. Jobs are claimed in order from
/// one counter, by the workers and by the rules' thread itself whenever the
/// statement it needs is not checked yet, so no signature is checked twice and no
/// core idles. `wait(i)` is `Some(key)` where statement `i` verified under `key`;
/// the rules skip their own check only where rule 1 asks for that same key, and
/// check again otherwise (a key added or rotated inside the batch), so the outcome
/// is exactly that of checking one statement after another. Plain threads over an
/// index counter: the work is a flat map over a slice, which needs no pool crate.
struct Preverifier {
    jobs: Arc<Jobs>,
    parallel: bool,
}

struct Jobs {
    statements: Arc<[Signed]>,
    /// The key each actor signs with as the batch starts.
    keys: KeyHints,
    done: Vec<OnceLock<Option<String>>>,
    next: AtomicUsize,
}

impl Jobs {
    /// Claims and checks the next unchecked statement; `false` when none is left.
    fn run_one(&self) -> bool {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        let (Some(s), Some(cell)) = (self.statements.get(i), self.done.get(i)) else {
            return false;
        };
        // Whatever happens below (even a panic), the claimed cell gets an answer,
        // so the rules never wait for it forever: `None`, check it yourself.
        struct Answer<'a>(&'a OnceLock<Option<String>>);
        impl Drop for Answer<'_> {
            fn drop(&mut self) {
                let _ = self.0.set(None);
            }
        }
        let answer = Answer(cell);
        let verified = self.keys.verified_with(&s.statement, &s.sig);
        let _ = answer.0.set(verified);
        true
    }
}

impl Preverifier {
    fn start(state: &LedgerState, statements: &Arc<[Signed]>) -> Preverifier {
        let n = statements.len();
        let parallel = n >= PREVERIFY_FROM;
        let mut keys = KeyHints::default();
        if parallel {
            for s in statements.iter() {
                if let Some(key) = state.current_key(&s.statement.actor) {
                    keys.insert(&s.statement.actor, key);
                }
            }
        }
        let jobs = Arc::new(Jobs {
            statements: statements.clone(),
            keys,
            done: (0..n).map(|_| OnceLock::new()).collect(),
            // A short batch is checked by the rules themselves, one by one.
            next: AtomicUsize::new(if parallel { 0 } else { n }),
        });
        if parallel {
            // The rules' thread is the last core's worker.
            let cores = std::thread::available_parallelism().map_or(1, |p| p.get());
            for _ in 1..cores.max(2) {
                let jobs = jobs.clone();
                std::thread::spawn(move || while jobs.run_one() {});
            }
        }
        Preverifier { jobs, parallel }
    }

    /// The outcome of the early check of statement `i`, helping with the checks
    /// (or, once all are claimed, waiting for the one in flight) until it is known.
    fn wait(&self, i: usize) -> Option<String> {
        if !self.parallel {
            return None;
        }
        let cell = self.jobs.done.get(i)?;
        loop {
            if let Some(v) = cell.get() {
                return v.clone();
            }
            if !self.jobs.run_one() {
                std::thread::yield_now();
            }
        }
    }
}

impl Drop for Preverifier {
    fn drop(&mut self) {
        // A rejection ends the batch: the workers stop at their next statement.
        self.jobs.next.store(usize::MAX / 2, Ordering::Relaxed);
    }
}
