//! Recording: statements judged by the aggregate, chained by the store and committed
//! all or nothing, with optimistic-lock retry; streamed recording for `apply`; the
//! precheck the server runs before a statement waits for its turn to write.

use super::{storage_err, Waymark};
use crate::error::{Error, Result, StorageError};
use crate::ledger::{
    chain, mark_of, replay_rejection, Ledger, LedgerError, Prechecked, Record, Signed,
};
use crate::storage::{AppendError, RowMeta, Seq, WriterLock};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, AggregateContext, AggregateError, EventEnvelope, EventStore};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;
use waymark_core::LedgerState;
use waymark_core::ProblemKind;
use waymark_events::Hash;

/// How many times a write is re-validated and re-chained after losing the race for
/// the next `seq` before it gives up with `Error::Conflict`.
pub(super) const MAX_ATTEMPTS: u32 = 200;

/// Where rule 7 (no replayed signature) is checked on a try at recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule7 {
    /// By the rules, through the signature index, before the commit.
    InRules,
    /// By the commit itself, which writes nothing if a signature is recorded.
    AtCommit,
}

/// What a successful commit gives back: each event's place, and the envelopes for
/// the read models.
type Committed = (Vec<Recorded>, Vec<EventEnvelope<Ledger>>);

/// A recorded event's place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub seq: u64,
    pub hash: Hash,
    #[serde(rename = "type")]
    pub event_type: String,
}

/// The aggregate's judgement of a batch (`Ledger::handle`) on a copy of the state,
/// minus rule 7's look-up: each statement checked with the effects of those before
/// it, a signature twice in the batch refused as a replay.
///
/// Each signature is verified under the key its actor signs with now, and kept in
/// `prechecked` with that key once the statement passes the rules, for the writer.
fn dry_run(
    mut state: LedgerState,
    ledger: &str,
    statements: &[Signed],
    prechecked: &Prechecked,
) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for (i, s) in statements.iter().enumerate() {
        let refused = |rejection| Error::Rejected {
            line: Some(i + 1),
            rejection,
        };
        let key = state
            .current_key(&s.statement.actor)
            .filter(|key| {
                waymark_events::verify_canonical(&s.statement.canonical(), &s.sig, key).is_ok()
            })
            .map(str::to_string);
        state
            .check_preverified(ledger, &s.statement, &s.sig, key.as_deref())
            .map_err(refused)?;
        if let Some(key) = &key {
            prechecked.insert(s, key);
        }
        if !seen.insert(s.sig.as_str()) {
            return Err(refused(waymark_core::Rejection {
                rule: waymark_core::Rule::Replay,
                field: "sig".into(),
                message: "this signature was already recorded (replayed statement)".into(),
            }));
        }
        // As `Ledger::apply` folds an unchained event: the rules move, the head not.
        let head = state.head.clone();
        let event = crate::ledger::LedgerEvent::unchained(s.clone()).0;
        state.apply(&event, Hash::ZERO);
        state.head = head;
    }
    Ok(())
}

/// Statements for [`Waymark::record_stream`], a piece at a time (an `apply` file
/// read, parsed and signed as it is recorded).
pub trait StatementSource {
    /// Up to `max` more statements, each with the number errors name it by (its line
    /// in an `apply` file); empty at the end. An error stops the recording: nothing
    /// of it is kept.
    fn next_piece(&mut self, max: usize) -> Result<Vec<(usize, Signed)>>;
}

/// Statements a streamed record judges, chains and writes at a time. Memory follows
/// this, not the input: 1,000 statements are ~1 MB in flight, and the per-piece
/// round trips (rule 7, the INSERT) stay a small share of the signature checks.
const STREAM_PIECE: usize = 1000;

/// The first piece of a streamed record, and each next one four times the last up to
/// [`STREAM_PIECE`]: a file whose first lines are refused is answered after reading,
/// signing and judging those few (issue 17: "a failure at line 1 of a 100k-line file
/// in ≤ 0.2 s"), at the cost of three more round trips on a file that is accepted.
const FIRST_PIECE: usize = 16;

impl Waymark {
    /// Records statements, in order, in one transaction: all of them or none. A lost
    /// race for the next `seq` (optimistic-lock conflict) reloads the ledger, re-checks
    /// the statements and chains them again; signatures do not depend on the position,
    /// so nothing is re-signed. This is `CqrsFramework::execute_with_metadata`, written
    /// out because that returns `()` and callers need the events' `seq` and `hash`.
    /// It returns once the events are committed; the read models are updated right
    /// after, in the background (see `settle`).
    pub async fn record(&self, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Recorded>> {
        self.writable()?;
        // Optimistic first: a writer alone pays no lock. Only after losing a race
        // does it queue on the writer lock, so that contending writers take turns
        // instead of retrying against each other; and while other writers are about
        // (seen in the last second) it queues first: a try without the lock would
        // mostly lose, at the cost of a commit (issue 17: 8 writer processes).
        let first = if self.contended() {
            None
        } else {
            self.attempt(ledger, &statements, Rule7::AtCommit).await?
        };
        let recorded = match first {
            Some(done) => done,
            None => {
                let (lock, fresh) = self.lock_writer_at_head(ledger).await?;
                let recorded = self.record_locked(ledger, statements, fresh).await;
                self.unlock_writer(lock).await;
                recorded?
            }
        };
        // The read models follow in the background, in commit order (`settle`).
        self.dispatcher.send(ledger, recorded.1);
        Ok(recorded.0)
    }

    /// Records every statement `source` gives, in order, in one transaction: all of
    /// them or none, like [`Self::record`], but a piece at a time, so memory does not
    /// grow with the input (issue 12: `apply` of 100k lines held 2.0 GB). Each piece
    /// is judged by the rules, checked for replays against the store and the pieces
    /// before it, chained and written; the first failure ends it, naming the
    /// statement's number from `source`, before anything after that piece is read.
    /// Holds the writer lock throughout: other writers wait for it to finish (on
    /// SQLite, a writer that does not take the lock waits up to its busy timeout).
    /// Returns the recorded seq range, `None` if `source` gave nothing.
    pub async fn record_stream(
        &self,
        ledger: &str,
        source: &mut dyn StatementSource,
    ) -> Result<Option<(u64, u64)>> {
        self.writable()?;
        let lock = self.lock_writer(ledger).await?;
        let recorded = self.record_stream_locked(ledger, source).await;
        self.unlock_writer(lock).await;
        let recorded = recorded?;
        if recorded.is_some() {
            // The read models catch up from the store, a page at a time (the batch
            // is not kept in memory to hand them).
            if let Err(e) = self.read_models.sync(ledger).await {
                tracing::warn!(ledger, error = %e, "read models not updated; the next read catches up");
            }
        }
        Ok(recorded)
    }

    pub(super) async fn record_stream_locked(
        &self,
        ledger: &str,
        source: &mut dyn StatementSource,
    ) -> Result<Option<(u64, u64)>> {
        let append_err = |e: AppendError| match e {
            AppendError::Conflict => Error::Conflict("the ledger moved on".into()),
            AppendError::Storage(e) => Error::Storage(e),
        };
        // Writers that queue on the lock cannot move the head; one on its first,
        // lock-free try can, between loading the head and beginning: load again.
        let mut tries = 0;
        let (mut ctx, mut tx) = loop {
            tries += 1;
            self.store.forget(ledger);
            let ctx = self.head(ledger).await?;
            if !ctx.aggregate.state.is_open() {
                return Err(self.no_ledger(ledger));
            }
            let expected = ctx.current_snapshot.map(|_| mark_of(&ctx));
            match self.db.begin_append(ledger, expected).await {
                Ok(tx) => break (ctx, tx),
                Err(AppendError::Conflict) if tries < MAX_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(u64::from(tries.min(50)))).await;
                }
                Err(e) => return Err(append_err(e)),
            }
        };
        let before = Seq::from_cqrs(ctx.current_sequence);
        let mut last = before;
        let recorded_at = self.store.recorded_at(&ctx.aggregate);
        let metadata = HashMap::new();
        let mut want = FIRST_PIECE;
        loop {
            let piece = source.next_piece(want)?;
            want = (want * 4).min(STREAM_PIECE);
            if piece.is_empty() {
                break;
            }
            let (lines, statements): (Vec<usize>, Vec<Signed>) = piece.into_iter().unzip();
            let sink = EventSink::default();
            let command = Record {
                ledger: ledger.to_string(),
                statements,
            };
            // Rule 7 is left to the check below, inside the transaction, which sees
            // the pieces written before this one.
            let handled = ctx.aggregate.handle(command, &self.deferred, &sink).await;
            let events = sink.collect().await;
            let sigs: Vec<&str> = events.iter().map(|e| e.0.sig.as_str()).collect();
            let recorded = tx.recorded_among(&sigs).await.map_err(append_err)?;
            // The first replay among the statements that passed comes before a
            // later rejection, as in `record`.
            if let Some(i) = sigs.iter().position(|s| recorded.contains(*s)) {
                return Err(Error::Rejected {
                    line: Some(lines[i]),
                    rejection: replay_rejection(),
                });
            }
            match handled {
                Ok(()) => {}
                Err(LedgerError::Rejected { index, rejection }) => {
                    return Err(Error::Rejected {
                        line: Some(lines[index]),
                        rejection,
                    })
                }
                Err(LedgerError::Storage(e)) => return Err(Error::Storage(e)),
            }
            let (rows, _) = chain(
                &mut ctx.aggregate,
                ledger,
                last,
                events,
                &recorded_at,
                &metadata,
            )
            .map_err(|e| Error::Storage(StorageError::database(e.to_string())))?;
            last = rows.last().map_or(last, |r| r.sequence);
            tx.insert(&rows).await.map_err(append_err)?;
        }
        if last == before {
            return Ok(None);
        }
        let mark = mark_of(&ctx).after(last);
        let snapshot = serde_json::to_string(&ctx.aggregate)
            .map_err(|e| Error::Storage(StorageError::internal(e.to_string())))?;
        tx.finish(&snapshot, mark).await.map_err(append_err)?;
        ctx.current_sequence = mark.last.to_cqrs();
        ctx.current_snapshot = Some(mark.version.to_cqrs());
        self.store.remember(&ctx);
        Ok(Some((before.next().get(), last.get())))
    }

    /// The place of each recorded event of seq `lo..=hi`, in order, a page at a time
    /// (what `apply --json` prints after a streamed record).
    pub async fn each_recorded(
        &self,
        ledger: &str,
        lo: u64,
        hi: u64,
        f: &mut dyn FnMut(Recorded),
    ) -> Result<()> {
        const PAGE: usize = 5000;
        let (mut from, hi) = (Seq(lo), Seq(hi));
        while from <= hi {
            let rows = self.db.event_places(ledger, from, hi, PAGE).await?;
            let Some(last) = rows.last() else { break };
            from = last.seq.next();
            for row in rows {
                let hash =
                    RowMeta::hash_in_text(&row.metadata).ok_or_else(|| Error::BrokenChain {
                        seq: row.seq.get(),
                        problem: ProblemKind::Malformed,
                        detail: "the stored row has no hash".into(),
                    })?;
                f(Recorded {
                    seq: row.seq.get(),
                    hash,
                    event_type: row.event_type,
                });
            }
        }
        Ok(())
    }

    /// Waits until the read-model updates of every `record` so far are done. Reads
    /// do not need this (they catch up from the events themselves); a process that
    /// is about to exit does, or the next reader does that work.
    pub async fn settle(&self) {
        self.dispatcher.settle().await;
        // Batches that followed another process's commit were left to this catch-up.
        if let Err(e) = self.read_models.catch_up_lagging().await {
            tracing::warn!(error = %e, "read models not updated; the next read catches up");
        }
    }

    /// Whether another writer was seen lately (see `contended_until`).
    fn contended(&self) -> bool {
        self.contended_until.load(Ordering::Relaxed) > chrono::Utc::now().timestamp_millis()
    }

    /// Notes another writer: writes queue on the lock first for the next second.
    pub(super) fn note_contention(&self) {
        let until = chrono::Utc::now().timestamp_millis() + 1000;
        self.contended_until.store(until, Ordering::Relaxed);
    }

    /// The writer lock of `ledger`, on the connection of the one released last.
    pub(super) async fn lock_writer(&self, ledger: &str) -> Result<WriterLock> {
        let spare = self.spare_lock.lock().ok().and_then(|mut s| s.take());
        Ok(self.db.writer_lock(ledger, spare).await?)
    }

    /// The writer lock of `ledger`, and the head as it is once the lock is held,
    /// remembered as this process's aggregate (see [`crate::Db::writer_lock_with_head`]).
    /// Notes contention when the head moved since this process's last commit.
    /// Says whether this process's remembered aggregate is now the head.
    async fn lock_writer_at_head(&self, ledger: &str) -> Result<(WriterLock, bool)> {
        let spare = self.spare_lock.lock().ok().and_then(|mut s| s.take());
        let known = self.store.remembered(ledger).map(|c| mark_of(&c));
        let (lock, head) = self.db.writer_lock_with_head(ledger, spare, known).await?;
        let Some(head) = head else {
            return Ok((lock, false));
        };
        if Some(head.mark) != known {
            self.note_contention();
        }
        let fresh = match head.snapshot {
            None => known.is_some(),
            Some(snapshot) => match crate::ledger::Ctx::try_from(snapshot) {
                Ok(ctx) => {
                    self.store.remember(&ctx);
                    true
                }
                // Unreadable here: `record_locked` loads it the usual way and
                // reports what is wrong.
                Err(_) => {
                    self.store.forget(ledger);
                    false
                }
            },
        };
        Ok((lock, fresh))
    }

    /// Releases the lock, keeping its connection for the next.
    pub(super) async fn unlock_writer(&self, lock: WriterLock) {
        if let Some(conn) = lock.release().await {
            if let Ok(mut spare) = self.spare_lock.lock() {
                *spare = Some(conn);
            }
        }
    }

    /// Records under the writer lock: first against the stored head (fresh: nobody
    /// else may append meanwhile but a writer on its lock-free first try) with rule 7
    /// left to the commit, which spares its look-up; then, after a lost race or a
    /// recorded signature, with rule 7 in the rules, which tells the two apart.
    pub(super) async fn record_locked(
        &self,
        ledger: &str,
        statements: Vec<Signed>,
        fresh: bool,
    ) -> Result<Committed> {
        // `fresh`: the lock came with the head, which this process now remembers.
        if !fresh {
            let held = self.store.remembered(ledger).map(|c| mark_of(&c));
            if held != Some(mark_of(&self.head(ledger).await?)) {
                self.note_contention();
            }
        }
        if let Some(done) = self.attempt(ledger, &statements, Rule7::AtCommit).await? {
            return Ok(done);
        }
        self.note_contention();
        let mut attempt = 1;
        loop {
            attempt += 1;
            if let Some(done) = self.attempt(ledger, &statements, Rule7::InRules).await? {
                return Ok(done);
            }
            if attempt >= MAX_ATTEMPTS {
                return Err(Error::Conflict(format!(
                    "gave up after {attempt} attempts: other writers kept taking the next seq"
                )));
            }
            let jitter = rand::random::<u64>() % (2 + u64::from(attempt.min(20)) * 2);
            tokio::time::sleep(Duration::from_millis(jitter)).await;
        }
    }

    /// One try at recording the batch: `Ok(None)` when another writer took the next
    /// `seq` first (an optimistic-lock conflict; nothing of this batch is stored).
    async fn attempt(
        &self,
        ledger: &str,
        statements: &[Signed],
        rule7: Rule7,
    ) -> Result<Option<Committed>> {
        let services = match rule7 {
            Rule7::InRules => &self.services,
            Rule7::AtCommit => &self.deferred,
        };
        // The aggregate this process committed last, unchecked: if it is stale, the
        // commit cannot succeed (its next `seq` is taken), and a rejection is only
        // believed once the rules said so against the stored head.
        let (mut ctx, mut checked) = match self.store.remembered(ledger) {
            Some(ctx) => (ctx, false),
            None => (self.head(ledger).await?, true),
        };
        let sink = loop {
            let sink = EventSink::default();
            let command = Record {
                ledger: ledger.to_string(),
                statements: statements.to_vec(),
            };
            match ctx.aggregate().handle(command, services, &sink).await {
                Ok(()) => break sink,
                Err(LedgerError::Rejected { .. }) if !checked => {
                    self.store.forget(ledger);
                    ctx = self.head(ledger).await?;
                    checked = true;
                }
                Err(e) => return Err(storage_err(AggregateError::UserError(e))),
            }
        };
        match self
            .store
            .commit(sink.collect().await, ctx, HashMap::new())
            .await
        {
            Ok(envelopes) => {
                let recorded = envelopes
                    .iter()
                    .map(|e| Recorded {
                        seq: Seq::from_cqrs(e.sequence).get(),
                        hash: crate::ledger::envelope_hash(e),
                        event_type: e.payload.0.statement.event_type().as_str().into(),
                    })
                    .collect();
                Ok(Some((recorded, envelopes)))
            }
            // Nothing was written (the append is all or nothing): another writer
            // took the next `seq`, or, when rule 7 was left to the commit, one of
            // these signatures is recorded already. The caller tries again under
            // the writer lock, with rule 7 in the rules, which tells the two apart.
            Err(AggregateError::AggregateConflict) => Ok(None),
            Err(e) => Err(storage_err(e)),
        }
    }

    /// Judges `statements` by the rules against the head as it is now, on a
    /// blocking thread: everything `record` checks except rule 7's look-up of
    /// signatures recorded earlier. The server runs it before a statement waits
    /// for its turn to write, so that a refused one never takes that turn (a
    /// verdict against the head seen now, as if the statement had come a moment
    /// earlier; `record` checks again against the head it writes on). Gives the
    /// statements back.
    ///
    /// Judged first on the copy of the head this process holds, without asking the
    /// store whether it is still the head (a round trip per request, on the
    /// connections the writer commits on): an acceptance on a stale copy costs
    /// nothing, since `record` judges again; a refusal is believed only once the
    /// statements are judged again on the stored head.
    pub async fn precheck(&self, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Signed>> {
        let held = self
            .store
            .remembered(ledger)
            .map(|c| c.aggregate)
            .filter(|a| a.state.is_open());
        let statements = match held {
            Some(aggregate) => match self.judged(aggregate.state, ledger, statements).await? {
                (statements, Ok(())) => return Ok(statements),
                (statements, Err(_)) => statements,
            },
            None => statements,
        };
        let state = self.state(ledger).await?;
        let (statements, verdict) = self.judged(state, ledger, statements).await?;
        verdict.map(|()| statements)
    }

    /// [`dry_run`] on a blocking thread; gives the statements back with the verdict.
    async fn judged(
        &self,
        state: LedgerState,
        ledger: &str,
        statements: Vec<Signed>,
    ) -> Result<(Vec<Signed>, Result<()>)> {
        let ledger = ledger.to_string();
        let prechecked = self.prechecked.clone();
        tokio::task::spawn_blocking(move || {
            let verdict = dry_run(state, &ledger, &statements, &prechecked);
            (statements, verdict)
        })
        .await
        .map_err(|e| Error::Storage(StorageError::database(format!("checking statements: {e}"))))
    }
}
