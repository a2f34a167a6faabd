//! What every front end (CLI, server, demo) calls: record statements, read the ledger,
//! verify, export. Generic over the cqrs-es repository (SQLite or PostgreSQL).

use crate::aggregate::{Ledger, LedgerError, LedgerServices, Record, Signed};
use crate::db::{AppendError, Db, Repository};
use crate::error::{Error, Result, StorageError};
use crate::read_model::{LedgerView, ReadModelQuery, ReadModels, RebuildReport};
use crate::store::{ChainedEventStore, Clock};
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::ViewRepository;
use cqrs_es::{Aggregate, AggregateContext, AggregateError, EventEnvelope, EventStore};
use postgres_es::{PostgresEventRepository, PostgresViewRepository};
use serde::Serialize;
use sqlite_es::{SqliteEventRepository, SqliteViewRepository};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use waymark_core::LedgerState;
use waymark_core::{Problem, ProblemKind, Replayer, Report};
use waymark_events::{
    consistency_nodes, consistency_proof_from, inclusion_nodes, inclusion_proof_from, root_from,
    root_nodes, sign_checkpoint, verifier_key, Checkpoint, ConsistencyProofDoc, Event, Frontier,
    Hash, InclusionProofDoc, NodeId, SnapshotBundle,
};
use waymark_projections::{HistoryFilter, HistoryRow, SeasonReview, Status, StatusDiff};

/// How many times a write is re-validated and re-chained after losing the race for
/// the next `seq` before it gives up with `Error::Conflict`.
const MAX_ATTEMPTS: u32 = 200;

/// Where rule 7 (no replayed signature) is checked on a try at recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule7 {
    /// By the rules, through the signature index, before the commit.
    InRules,
    /// By the commit itself, which writes nothing if a signature is recorded.
    AtCommit,
}

/// The signature index of a try whose commit checks rule 7 (see `Rule7::AtCommit`).
struct CheckedAtCommit;

#[async_trait::async_trait]
impl crate::aggregate::SignatureIndex for CheckedAtCommit {
    async fn seq_of(&self, _: &str, _: &str) -> std::result::Result<Option<u64>, String> {
        Ok(None)
    }
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
fn dry_run(mut state: LedgerState, ledger: &str, statements: &[Signed]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for (i, s) in statements.iter().enumerate() {
        let refused = |rejection| Error::Rejected {
            line: Some(i + 1),
            rejection,
        };
        state
            .check_preverified(ledger, &s.statement, &s.sig, None)
            .map_err(refused)?;
        if !seen.insert(s.sig.as_str()) {
            return Err(refused(waymark_core::Rejection {
                rule: waymark_core::Rule::Replay,
                field: "sig".into(),
                message: "this signature was already recorded (replayed statement)".into(),
            }));
        }
        // As `Ledger::apply` folds an unchained event: the rules move, the head not.
        let head = state.head.clone();
        let event = crate::aggregate::LedgerEvent::unchained(s.clone()).0;
        state.apply(&event, Hash::ZERO);
        state.head = head;
    }
    Ok(())
}

/// A point in the ledger's history (`--as-of`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsOf {
    Seq(u64),
    Season(i64),
    /// A SPEC timestamp: the last event recorded at or before it.
    Time(String),
}

impl std::str::FromStr for AsOf {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::BadInput(format!(
                "as-of {s:?}: expected seq:N, season:N or time:RFC3339"
            ))
        };
        let (kind, v) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "seq" => v
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .map(AsOf::Seq)
                .ok_or_else(bad),
            "season" => v.parse().map(AsOf::Season).map_err(|_| bad()),
            "time" => {
                let t = chrono::DateTime::parse_from_rfc3339(v).map_err(|_| bad())?;
                let micros = t.with_timezone(&chrono::Utc).timestamp_micros();
                Ok(AsOf::Time(waymark_events::format_timestamp(micros)))
            }
            _ => Err(bad()),
        }
    }
}

/// Builds the event repository and the view repository from a connected pool of
/// the matching kind.
pub trait FromDb: Repository + Sized {
    type Views: ViewRepository<LedgerView, Ledger> + 'static;
    fn from_db(db: &Db) -> Option<(Self, Self::Views)>;
}

/// The view table of `read_model`.
const VIEWS: &str = "waymark_views";

impl FromDb for SqliteEventRepository {
    type Views = SqliteViewRepository<LedgerView, Ledger>;
    fn from_db(db: &Db) -> Option<(Self, Self::Views)> {
        match db {
            Db::Sqlite(p) => Some((
                SqliteEventRepository::new(p.clone()),
                SqliteViewRepository::new(VIEWS, p.clone()),
            )),
            Db::Postgres(_) => None,
        }
    }
}

impl FromDb for PostgresEventRepository {
    type Views = PostgresViewRepository<LedgerView, Ledger>;
    fn from_db(db: &Db) -> Option<(Self, Self::Views)> {
        match db {
            Db::Postgres(p) => Some((
                PostgresEventRepository::new(p.clone()),
                PostgresViewRepository::new(VIEWS, p.clone()),
            )),
            Db::Sqlite(_) => None,
        }
    }
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

pub struct Waymark<R: FromDb> {
    pub db: Db,
    /// Opened with [`Waymark::new_read_only`]: nothing is written, not even the read
    /// models' catch-up.
    read_only: bool,
    repo: Arc<R>,
    store: ChainedEventStore<R>,
    services: LedgerServices,
    /// The same services with rule 7 left to the commit (`Db::append` refuses a
    /// batch holding a recorded signature): a writer's first try skips a round trip.
    deferred: LedgerServices,
    read_models: Arc<ReadModels<R::Views>>,
    dispatcher: crate::dispatch::Dispatcher<ReadModelQuery<R::Views>>,
}

fn storage_err(e: AggregateError<LedgerError>) -> Error {
    match e {
        AggregateError::UserError(LedgerError::Storage(s)) => Error::Storage(StorageError(s)),
        AggregateError::UserError(LedgerError::Rejected { index, rejection }) => Error::Rejected {
            line: Some(index + 1),
            rejection,
        },
        AggregateError::AggregateConflict => Error::Conflict("the ledger moved on".into()),
        other => Error::Storage(StorageError(other.to_string())),
    }
}

impl<R: FromDb> Waymark<R> {
    pub fn new(db: Db, clock: Clock) -> Result<Self> {
        let mismatch = || Error::Usage("repository does not match the database".into());
        let (repo, _) = R::from_db(&db).ok_or_else(mismatch)?;
        // The read models write through their own handle, which does not wait for
        // the disk (see `Db::for_read_models`); the events keep their durable commit.
        let read_db = db.for_read_models();
        let (_, views) = R::from_db(&read_db).ok_or_else(mismatch)?;
        let repo = Arc::new(repo);
        let read_models = Arc::new(ReadModels::new(read_db, views));
        Ok(Waymark {
            dispatcher: crate::dispatch::Dispatcher::new(ReadModelQuery::new(read_models.clone())),
            read_models,
            services: LedgerServices {
                signatures: Arc::new(db.clone()),
            },
            deferred: LedgerServices {
                signatures: Arc::new(CheckedAtCommit),
            },
            store: ChainedEventStore::new(repo.clone(), db.clone(), clock),
            repo,
            db,
            read_only: false,
        })
    }

    /// A reader over a store opened with [`Db::open_read_only`]: every read works
    /// with nothing but read access. Read models that lag the events are caught up
    /// in this process's memory instead of in the store; `record` is refused.
    pub fn new_read_only(db: Db, clock: Clock) -> Result<Self> {
        let mut w = Self::new(db, clock)?;
        w.read_only = true;
        w.read_models.set_read_only();
        Ok(w)
    }

    fn writable(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::Usage(
                "the store was opened read-only: this command writes".into(),
            ));
        }
        Ok(())
    }

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
        // instead of retrying against each other.
        let recorded = match self.attempt(ledger, &statements, Rule7::AtCommit).await? {
            Some(done) => done,
            None => {
                let lock = self.db.writer_lock(ledger).await?;
                let recorded = self.record_locked(ledger, statements).await;
                lock.release().await;
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
        let lock = self.db.writer_lock(ledger).await?;
        let recorded = self.record_stream_locked(ledger, source).await;
        lock.release().await;
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

    async fn record_stream_locked(
        &self,
        ledger: &str,
        source: &mut dyn StatementSource,
    ) -> Result<Option<(u64, u64)>> {
        let append_err = |e: AppendError| match e {
            AppendError::Conflict => Error::Conflict("the ledger moved on".into()),
            AppendError::Storage(m) => Error::Storage(StorageError(m)),
        };
        // Writers that queue on the lock cannot move the head; one on its first,
        // lock-free try can, between loading the head and beginning: load again.
        let mut tries = 0;
        let (mut ctx, mut tx) = loop {
            tries += 1;
            self.store.forget(ledger);
            let ctx = self.head(ledger).await?;
            if !ctx.aggregate.state.is_open() {
                return Err(Error::Usage(format!(
                    "no ledger {ledger:?} in {}",
                    self.db.name()
                )));
            }
            let expected = ctx
                .current_snapshot
                .map(|v| (ctx.current_sequence as u64, v as u64));
            match self.db.begin_append(ledger, expected).await {
                Ok(tx) => break (ctx, tx),
                Err(AppendError::Conflict) if tries < MAX_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(u64::from(tries.min(50)))).await;
                }
                Err(e) => return Err(append_err(e)),
            }
        };
        let before = ctx.current_sequence;
        let recorded_at = self.store.recorded_at(&ctx.aggregate);
        let metadata = HashMap::new();
        loop {
            let piece = source.next_piece(STREAM_PIECE)?;
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
                let LedgerError::Rejected { rejection, .. } = crate::aggregate::replayed(i) else {
                    unreachable!("replayed() is a rejection")
                };
                return Err(Error::Rejected {
                    line: Some(lines[i]),
                    rejection,
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
                Err(LedgerError::Storage(m)) => return Err(Error::Storage(StorageError(m))),
            }
            let (rows, _) = crate::store::chain(
                &mut ctx.aggregate,
                ledger,
                ctx.current_sequence,
                events,
                &recorded_at,
                &metadata,
            )
            .map_err(|e| Error::Storage(StorageError(e.to_string())))?;
            ctx.current_sequence += rows.len();
            tx.insert(&rows).await.map_err(append_err)?;
        }
        if ctx.current_sequence == before {
            return Ok(None);
        }
        let version = ctx.current_snapshot.unwrap_or(0) + 1;
        let snapshot = serde_json::to_string(&ctx.aggregate)
            .map_err(|e| Error::Storage(StorageError(e.to_string())))?;
        tx.finish(&snapshot, ctx.current_sequence as i64, version as i64)
            .await
            .map_err(append_err)?;
        ctx.current_snapshot = Some(version);
        self.store.remember(&ctx);
        Ok(Some((before as u64 + 1, ctx.current_sequence as u64)))
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
        const PAGE: i64 = 5000;
        let sql = "SELECT sequence, event_type, CAST(metadata AS text) FROM events
                   WHERE aggregate_type = 'Ledger' AND aggregate_id = $1 AND sequence >= $2 AND sequence <= $3
                   ORDER BY sequence LIMIT $4";
        let mut from = lo;
        while from <= hi {
            let rows: Vec<(i64, String, String)> =
                crate::db::on_pool!(&self.db, p => sqlx::query_as(sql)
                .bind(ledger).bind(from as i64).bind(hi as i64).bind(PAGE).fetch_all(p).await)
                .map_err(|e| Error::Storage(StorageError(format!("reading events: {e}"))))?;
            let Some(last) = rows.last() else { break };
            from = last.0 as u64 + 1;
            for (seq, event_type, meta) in rows {
                let hash = serde_json::from_str::<HashMap<String, String>>(&meta)
                    .ok()
                    .and_then(|m| m.get("hash")?.parse().ok())
                    .ok_or_else(|| Error::BrokenChain {
                        seq: seq as u64,
                        problem: "malformed",
                        detail: "the stored row has no hash".into(),
                    })?;
                f(Recorded {
                    seq: seq as u64,
                    hash,
                    event_type,
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
    }

    async fn record_locked(&self, ledger: &str, statements: Vec<Signed>) -> Result<Committed> {
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
                        seq: e.sequence as u64,
                        hash: crate::store::envelope_hash(e),
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

    /// The aggregate at the head: the copy this process committed or loaded last
    /// when the stored snapshot is still at its version (one small query), else
    /// loaded from the snapshot row.
    async fn head(&self, ledger: &str) -> Result<crate::store::Ctx> {
        if let Some(ctx) = self.store.remembered(ledger) {
            let stored = self.db.snapshot_version(ledger).await?;
            let mine = (
                ctx.current_sequence as u64,
                ctx.current_snapshot.unwrap_or(0) as u64,
            );
            if stored == Some(mine) {
                return Ok(ctx);
            }
        }
        let ctx = self
            .store
            .load_aggregate(ledger)
            .await
            .map_err(storage_err)?;
        self.store.remember(&ctx);
        Ok(ctx)
    }

    /// The aggregate at the head (from the snapshot, not a replay); fails for an
    /// unknown ledger.
    async fn loaded(&self, ledger: &str) -> Result<Ledger> {
        let ctx = self.head(ledger).await?;
        if !ctx.aggregate.state.is_open() {
            return Err(Error::Usage(format!(
                "no ledger {ledger:?} in {}",
                self.db.name()
            )));
        }
        Ok(ctx.aggregate)
    }

    /// The rule state at the head (from the snapshot, not a replay).
    pub async fn state(&self, ledger: &str) -> Result<LedgerState> {
        Ok(self.loaded(ledger).await?.state)
    }

    async fn rows(&self, ledger: &str) -> Result<Vec<cqrs_es::persist::SerializedEvent>> {
        self.repo
            .get_events::<Ledger>(ledger)
            .await
            .map_err(|e| Error::Storage(StorageError(e.to_string())))
    }

    /// Every recorded event with its hash, in order. Fails on a row that is not a
    /// SPEC event (run `verify` to find out where the chain breaks).
    pub async fn events(&self, ledger: &str) -> Result<Vec<(Event, Hash)>> {
        let rows = self.rows(ledger).await?;
        if rows.is_empty() {
            return Err(Error::Usage(format!(
                "no ledger {ledger:?} in {}",
                self.db.name()
            )));
        }
        rows.into_iter()
            .map(|r| {
                let e = Event::from_value(&r.payload).map_err(|m| Error::BrokenChain {
                    seq: r.sequence as u64,
                    problem: "malformed",
                    detail: m.to_string(),
                })?;
                let h = e.hash();
                Ok((e, h))
            })
            .collect()
    }

    /// Re-checks the whole stored chain: seq, links, stored hashes, time, signatures
    /// and every rule, then that the head matches the stored snapshot (rows deleted
    /// from the end show up as `truncated`).
    pub async fn verify(&self, ledger: &str) -> Result<Report> {
        let rows = self.rows(ledger).await?;
        let mut replayer = Replayer::new();
        let mut frontier = Frontier::new();
        let mut problem = None;
        for (i, row) in rows.iter().enumerate() {
            let position = i as u64 + 1;
            let bad = |problem, detail| {
                Some(Problem {
                    seq: position,
                    problem,
                    detail,
                })
            };
            if row.sequence as u64 != position {
                problem = bad(
                    ProblemKind::SeqGap,
                    format!(
                        "expected seq {position}, the next stored row is seq {}",
                        row.sequence
                    ),
                );
                break;
            }
            let event = match Event::from_value(&row.payload) {
                Ok(e) => e,
                Err(m) => {
                    problem = bad(ProblemKind::Malformed, m.to_string());
                    break;
                }
            };
            let claimed = row
                .metadata
                .get("hash")
                .and_then(|h| h.as_str())
                .and_then(|h| h.parse::<Hash>().ok());
            if claimed.is_none() {
                problem = bad(ProblemKind::Malformed, "the stored row has no hash".into());
                break;
            }
            let hash = match replayer.step(position, &event, claimed.as_ref()) {
                Ok(h) => h,
                Err(p) => {
                    problem = Some(p);
                    break;
                }
            };
            // The event verifies; the tree nodes kept in its row (what roots, proofs
            // and checkpoints are read from) must be the ones its append completes.
            let expected: Vec<String> = frontier
                .push_nodes(hash)
                .iter()
                .skip(1)
                .map(|(_, h)| h.to_hex())
                .collect();
            let stored = row
                .metadata
                .get("nodes")
                .and_then(|n| n.as_str())
                .unwrap_or("");
            if stored != expected.join(",") {
                problem = bad(
                    ProblemKind::HashMismatch,
                    format!("the event verifies, but the Merkle tree nodes stored with seq {position} are not the ones its append completes"),
                );
                break;
            }
        }
        if problem.is_none() {
            let snap = self
                .repo
                .get_snapshot::<Ledger>(ledger)
                .await
                .map_err(|e| Error::Storage(StorageError(e.to_string())))?;
            if let Some(snap) = snap {
                let stored = serde_json::from_value::<Ledger>(snap.aggregate).ok();
                if let Some(l) = stored
                    .as_ref()
                    .filter(|l| l.frontier.size() == replayer.checked() && l.frontier != frontier)
                {
                    problem = Some(Problem {
                        seq: l.frontier.size(),
                        problem: ProblemKind::HashMismatch,
                        detail: "the Merkle frontier kept in the snapshot (the root at the head) is not the one the events give".into(),
                    });
                }
                let head = stored.and_then(|l| l.state.head);
                let checked = replayer.checked();
                match head {
                    Some(h) if h.seq > checked => {
                        problem = Some(Problem {
                            seq: checked + 1,
                            problem: ProblemKind::Truncated,
                            detail: format!("the ledger's head is seq {}, but only {checked} events are stored", h.seq),
                        })
                    }
                    Some(h) if h.seq == checked && Some(h.hash) != replayer.report(None).head.map(|x| x.hash) => {
                        problem = Some(Problem {
                            seq: checked,
                            problem: ProblemKind::HashMismatch,
                            detail: format!("the head recorded at commit has hash {}, the stored event hashes differently", h.hash),
                        })
                    }
                    _ => {}
                }
            }
        }
        if rows.is_empty() {
            return Err(Error::Usage(format!(
                "no ledger {ledger:?} in {}",
                self.db.name()
            )));
        }
        Ok(replayer.report(problem))
    }

    /// SPEC section 7: one `JCS(event ∪ {hash})` line per event, seq 1..=upto.
    /// Export lines of seq `from..=upto` only (the API's paged `events`), reading
    /// just those rows.
    pub async fn export_range(&self, ledger: &str, from: u64, upto: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for (e, h) in self.events_range(ledger, from.max(1), upto).await? {
            out.extend(e.export_line(&h));
        }
        Ok(out)
    }

    pub async fn export(&self, ledger: &str, upto: Option<u64>) -> Result<Vec<u8>> {
        let events = self.events(ledger).await?;
        let head = events.len() as u64;
        let upto = upto.unwrap_or(head);
        if upto == 0 || upto > head {
            return Err(Error::BadInput(format!(
                "--upto {upto}: the ledger has seq 1..{head}"
            )));
        }
        let mut out = Vec::new();
        for (e, h) in events.iter().take(upto as usize) {
            out.extend(e.export_line(h));
        }
        Ok(out)
    }

    /// Stores a status checkpoint every `n` events from now on (default
    /// `CHECKPOINT_EVERY`).
    pub fn set_checkpoint_every(&self, n: u64) {
        self.read_models.set_checkpoint_every(n);
    }

    /// The read models caught up to the head (fails for an unknown ledger).
    async fn synced(&self, ledger: &str) -> Result<LedgerView> {
        let view = self.read_models.sync(ledger).await?;
        if view.seq() == 0 {
            return Err(Error::Usage(format!(
                "no ledger {ledger:?} in {}",
                self.db.name()
            )));
        }
        Ok(view)
    }

    /// How many events (from seq 1) an as-of point covers, given the head.
    pub async fn resolve(&self, ledger: &str, as_of: &AsOf) -> Result<u64> {
        let head = self.synced(ledger).await?.seq();
        self.resolve_at(ledger, as_of, head).await
    }

    async fn resolve_at(&self, ledger: &str, as_of: &AsOf, head: u64) -> Result<u64> {
        match as_of {
            AsOf::Seq(n) if *n <= head => Ok(*n),
            AsOf::Seq(n) => Err(Error::BadInput(format!(
                "as-of seq:{n}: the ledger's head is seq {head}"
            ))),
            AsOf::Season(s) => match self.read_models.season_bounds(ledger, *s).await? {
                None => Err(Error::BadInput(format!(
                    "as-of season:{s}: season {s} was never opened in this ledger"
                ))),
                Some((_, closed)) => Ok(closed.unwrap_or(head)),
            },
            AsOf::Time(t) => self
                .read_models
                .seq_at_time(ledger, t)
                .await?
                .ok_or_else(|| {
                    Error::BadInput(format!("as-of time: nothing was recorded at or before {t}"))
                }),
        }
    }

    /// The status projection (SPEC section 9) at the head (from the stored read
    /// model) or at an as-of point (from the nearest stored checkpoint).
    pub async fn status(&self, ledger: &str, as_of: Option<&AsOf>) -> Result<Status> {
        let view = self.synced(ledger).await?;
        let Some(as_of) = as_of else {
            return Ok(view.status.status());
        };
        let n = self.resolve_at(ledger, as_of, view.seq()).await?;
        self.status_at(ledger, n, &view).await
    }

    async fn status_at(&self, ledger: &str, n: u64, head: &LedgerView) -> Result<Status> {
        if n == head.seq() {
            return Ok(head.status.status());
        }
        Ok(self.read_models.status_fold_at(ledger, n).await?.status())
    }

    /// The audit trail, filtered (from the stored read model).
    pub async fn history(&self, ledger: &str, filter: &HistoryFilter) -> Result<Vec<HistoryRow>> {
        self.synced(ledger).await?;
        self.read_models.history(ledger, filter, None).await
    }

    /// At most `limit` audit-trail rows matching `filter`, newest first, all before
    /// seq `before` when given (one page of the history API and the audit log).
    pub async fn history_page(
        &self,
        ledger: &str,
        filter: &HistoryFilter,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<HistoryRow>> {
        self.synced(ledger).await?;
        self.read_models
            .history_page(ledger, filter, before.unwrap_or(u64::MAX), limit)
            .await
    }

    /// Judges `statements` by the rules against the head as it is now, on a
    /// blocking thread: everything `record` checks except rule 7's look-up of
    /// signatures recorded earlier. The server runs it before a statement waits
    /// for its turn to write, so that a refused one never takes that turn (a
    /// verdict against the head seen now, as if the statement had come a moment
    /// earlier; `record` checks again against the head it writes on). Gives the
    /// statements back.
    pub async fn precheck(&self, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Signed>> {
        let state = self.state(ledger).await?;
        let ledger = ledger.to_string();
        tokio::task::spawn_blocking(move || {
            dry_run(state, &ledger, &statements)?;
            Ok(statements)
        })
        .await
        .map_err(|e| Error::Storage(StorageError(format!("checking statements: {e}"))))?
    }

    /// Recorded events `lo..=hi`.
    async fn events_range(&self, ledger: &str, lo: u64, hi: u64) -> Result<Vec<(Event, Hash)>> {
        let mut out = Vec::new();
        let mut after = lo.saturating_sub(1);
        while after < hi {
            let page = self
                .read_models
                .events_after(ledger, after, (hi - after).min(10_000) as i64)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.0.seq;
            out.extend(page);
        }
        Ok(out)
    }

    /// The end-of-Season review of season `season` (SPEC section 10, `review`).
    pub async fn review(&self, ledger: &str, season: i64) -> Result<SeasonReview> {
        let head = self.synced(ledger).await?;
        let (opened, closed) = self
            .read_models
            .season_bounds(ledger, season)
            .await?
            .ok_or_else(|| {
                Error::BadInput(format!(
                    "review {season}: season {season} was never opened in this ledger"
                ))
            })?;
        let end = closed.unwrap_or(head.seq());
        let start_status = self.status_at(ledger, opened, &head).await?;
        let end_status = self.status_at(ledger, end, &head).await?;
        let events = self.events_range(ledger, opened, end).await?;
        let rows = self
            .read_models
            .history(ledger, &HistoryFilter::default(), Some((opened, end)))
            .await?;
        waymark_projections::review(season, &start_status, &end_status, &events, &rows).map_err(
            |e| {
                Error::Storage(StorageError(format!(
                    "the stored read models disagree with the events ({e}): run `waymark rebuild`"
                )))
            },
        )
    }

    /// What changed between two points.
    pub async fn diff(&self, ledger: &str, from: &AsOf, to: &AsOf) -> Result<StatusDiff> {
        let head = self.synced(ledger).await?;
        let a = self.resolve_at(ledger, from, head.seq()).await?;
        let b = self.resolve_at(ledger, to, head.seq()).await?;
        let a = self.status_at(ledger, a, &head).await?;
        let b = self.status_at(ledger, b, &head).await?;
        Ok(waymark_projections::diff(&a, &b))
    }

    /// The ledger's size and root now, from the Merkle frontier kept in the snapshot.
    async fn tree_head(&self, ledger: &str) -> Result<(u64, Hash, LedgerState)> {
        let l = self.loaded(ledger).await?;
        Ok((l.frontier.size(), l.frontier.root(), l.state))
    }

    fn check_size(size: u64, head: u64, what: &str) -> Result<()> {
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
                let nodes = crate::tree::nodes(&self.db, ledger, &root_nodes(n)).await?;
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
            return Err(Error::Storage(StorageError(
                "the read models lag the tree: run `waymark rebuild`".into(),
            )));
        }
        let head_hash = status.as_of.as_ref().map(|a| a.hash).unwrap_or(Hash::ZERO);
        Ok(SnapshotBundle {
            ledger: ledger.to_string(),
            tree_size: cp.size,
            head_hash,
            checkpoint: note,
            status: serde_json::to_value(&status)
                .map_err(|e| Error::Storage(StorageError(e.to_string())))?,
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
        let nodes = crate::tree::nodes(&self.db, ledger, &ids).await?;
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
        let nodes = crate::tree::nodes(&self.db, ledger, &ids).await?;
        let path = consistency_proof_from(old, new, |id| nodes[&id])
            .map_err(|e| Error::BadInput(e.to_string()))?;
        Ok(ConsistencyProofDoc {
            ledger: ledger.to_string(),
            old_size: old,
            new_size: new,
            path,
        })
    }

    /// Recomputes the read models from the events and compares them with the stored
    /// ones; `progress(head, reached)` is called as it goes.
    pub async fn rebuild(
        &self,
        ledger: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RebuildReport> {
        self.writable()?;
        self.settle().await;
        self.read_models.rebuild(ledger, progress).await
    }
}
