//! Group commit (issue 17): the submissions of several writers judged one after
//! another against the state that includes those accepted before them, and the
//! accepted ones committed in one transaction. `serve` hands its queued `POST
//! statements` here (`http/commit.rs`), so eight clients pay one commit (one fsync)
//! between them instead of one each.

use super::{Recorded, Waymark};
use crate::error::{Error, Result, StorageError};
use crate::ledger::{
    envelope_hash, Ctx, Ledger, LedgerError, LedgerEvent, Record, SignatureIndex, Signed,
};
use crate::storage::Seq;
use async_trait::async_trait;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Each submission's outcome: its events' places, or why it was refused (nothing of
/// it recorded; the others are not affected).
pub type GroupOutcome = Vec<Result<Vec<Recorded>>>;

/// Rule 7 for a group: the signatures recorded in the store (probed once for the
/// whole group, or left to the commit on a first try) and those of the submissions
/// accepted before, so that a submission replaying another of the same group is
/// refused like any replay.
struct Known {
    recorded: HashSet<String>,
    accepted: Mutex<HashSet<String>>,
}

#[async_trait]
impl SignatureIndex for Known {
    async fn recorded_among(
        &self,
        _: &str,
        sigs: &[&str],
    ) -> std::result::Result<HashSet<String>, StorageError> {
        let accepted = self
            .accepted
            .lock()
            .map_err(|_| StorageError::internal("signature set poisoned"))?;
        Ok(sigs
            .iter()
            .filter(|s| self.recorded.contains(**s) || accepted.contains(**s))
            .map(|s| s.to_string())
            .collect())
    }
}

/// What one try at committing a group gives: `None` when another writer took the
/// next `seq` first (or, on a first try, a signature was recorded already).
type Tried = Option<(GroupOutcome, Vec<EventEnvelope<Ledger>>)>;

impl Waymark {
    /// Records several submissions (each a list of statements, all or none of it), in
    /// order, in one transaction: each is judged against the head plus the
    /// submissions accepted before it; a refused one is answered with its rejection
    /// and leaves the others as they would be without it. Returns once the accepted
    /// ones are committed (durable); `Err` only for what fails them all (storage).
    pub async fn record_group(
        &self,
        ledger: &str,
        submissions: Vec<Vec<Signed>>,
    ) -> Result<GroupOutcome> {
        self.writable()?;
        // Optimistic first, as `record`: rule 7 left to the commit, which refuses
        // the whole group if any signature is recorded; then, under the writer lock,
        // with the store's signatures probed so that a replay refuses its own
        // submission only.
        let tried = match self.try_group(ledger, &submissions, false).await? {
            Some(done) => done,
            None => {
                let lock = self.lock_writer(ledger).await?;
                let done = self.group_locked(ledger, &submissions).await;
                self.unlock_writer(lock).await;
                done?
            }
        };
        let (outcome, envelopes) = tried;
        if !envelopes.is_empty() {
            self.dispatcher.send(ledger, envelopes);
        }
        Ok(outcome)
    }

    async fn group_locked(
        &self,
        ledger: &str,
        submissions: &[Vec<Signed>],
    ) -> Result<(GroupOutcome, Vec<EventEnvelope<Ledger>>)> {
        for attempt in 1..=super::record::MAX_ATTEMPTS {
            if let Some(done) = self.try_group(ledger, submissions, true).await? {
                return Ok(done);
            }
            let jitter = rand::random::<u64>() % (2 + u64::from(attempt.min(20)) * 2);
            tokio::time::sleep(Duration::from_millis(jitter)).await;
        }
        Err(Error::Conflict(
            "gave up: other writers kept taking the next seq".into(),
        ))
    }

    /// One try: judge every submission, commit the accepted ones.
    async fn try_group(
        &self,
        ledger: &str,
        submissions: &[Vec<Signed>],
        probe: bool,
    ) -> Result<Tried> {
        let recorded = if probe {
            let sigs: Vec<&str> = submissions
                .iter()
                .flatten()
                .map(|s| s.sig.as_str())
                .collect();
            self.db.recorded_among(ledger, &sigs).await?
        } else {
            HashSet::new()
        };
        // The copy this process committed last, unchecked (a stale one cannot
        // commit), unless a rejection has to be believed: then the stored head.
        let (mut ctx, mut checked) = match (probe, self.store.remembered(ledger)) {
            (false, Some(ctx)) => (ctx, false),
            _ => (self.head(ledger).await?, true),
        };
        let (outcome, events) = loop {
            let judged = self
                .judge_group(ledger, &mut ctx, submissions, &recorded)
                .await?;
            let refused = judged.0.iter().any(Result::is_err);
            if refused && !checked {
                self.store.forget(ledger);
                ctx = self.head(ledger).await?;
                checked = true;
                continue;
            }
            break judged;
        };
        if events.is_empty() {
            let outcome = outcome.into_iter().map(|r| r.map(|_| Vec::new())).collect();
            return Ok(Some((outcome, Vec::new())));
        }
        match self.store.commit(events, ctx, HashMap::new()).await {
            Ok(envelopes) => {
                let mut places = envelopes.iter().map(|e| Recorded {
                    seq: Seq::from_cqrs(e.sequence).get(),
                    hash: envelope_hash(e),
                    event_type: e.payload.0.statement.event_type().as_str().into(),
                });
                // Each accepted submission's events, in order, from the one list.
                let outcome = outcome
                    .into_iter()
                    .map(|r| r.map(|n| places.by_ref().take(n).collect()))
                    .collect();
                Ok(Some((outcome, envelopes)))
            }
            Err(AggregateError::AggregateConflict) => Ok(None),
            Err(e) => Err(super::storage_err(e)),
        }
    }

    /// Judges each submission on `ctx`'s aggregate, which ends holding the accepted
    /// ones' effects: each outcome (the number of events, or the rejection) and the
    /// accepted events, in order.
    async fn judge_group(
        &self,
        ledger: &str,
        ctx: &mut Ctx,
        submissions: &[Vec<Signed>],
        recorded: &HashSet<String>,
    ) -> Result<(Vec<Result<usize>>, Vec<LedgerEvent>)> {
        let known = Arc::new(Known {
            recorded: recorded.clone(),
            accepted: Mutex::new(HashSet::new()),
        });
        let services = crate::ledger::LedgerServices {
            signatures: known.clone(),
            prechecked: Some(self.prechecked.clone()),
        };
        let mut aggregate = ctx.aggregate.clone();
        let mut outcome = Vec::with_capacity(submissions.len());
        let mut events = Vec::new();
        for statements in submissions {
            let before = aggregate.clone();
            let sink = EventSink::default();
            let command = Record {
                ledger: ledger.to_string(),
                statements: statements.clone(),
            };
            match aggregate.handle(command, &services, &sink).await {
                Ok(()) => {
                    let accepted = sink.collect().await;
                    if let Ok(mut sigs) = known.accepted.lock() {
                        sigs.extend(accepted.iter().map(|e| e.0.sig.clone()));
                    }
                    outcome.push(Ok(accepted.len()));
                    events.extend(accepted);
                }
                Err(LedgerError::Rejected { index, rejection }) => {
                    aggregate = before;
                    outcome.push(Err(Error::Rejected {
                        line: Some(index + 1),
                        rejection,
                    }));
                }
                Err(LedgerError::Storage(e)) => return Err(Error::Storage(e)),
            }
        }
        ctx.aggregate = aggregate;
        Ok((outcome, events))
    }
}
