//! `Waymark`, the application service every front end (CLI, HTTP server, demo,
//! static hosting) calls: record statements, read the ledger, prove, verify, export.
//! One type whatever the backend: the storage layer picks sqlite-es or postgres-es
//! from the connected [`Db`] (see `storage::repo`).
//!
//! - here: construction, the aggregate at the head, the raw events;
//! - [`record`](self::record): recording with conflict retry, streamed recording, precheck;
//! - `reads`: status, history, review, diff, export, as-of resolution;
//! - `decisions`: the events behind the decision map (profiles, transfers);
//! - `proofs`: roots, checkpoints, snapshots, inclusion and consistency proofs;
//! - `tiles`: the tree as C2SP tlog-tiles (hash tiles, entry bundles) from the store;
//! - `verify`: re-checking the stored chain, rebuilding the read models.

mod as_of;
mod decisions;
mod group;
mod proofs;
mod reads;
mod record;
mod tiles;
mod verify;
mod witnessed;

pub use as_of::AsOf;
pub use group::GroupOutcome;
pub use reads::{ReviewSink, REVIEW_PAGE};
pub use record::{Recorded, StatementSource};
pub use witnessed::WitnessedView;

use crate::error::{Error, Result, StorageError};
use crate::ledger::{mark_of, ChainedEventStore, Clock, Ctx, Ledger, LedgerError, LedgerServices};
use crate::read::{Dispatcher, ReadModelQuery, ReadModels};
use crate::storage::{Db, EventRepository, LockConnection, Seq};
use cqrs_es::persist::PersistedEventRepository;
use cqrs_es::{AggregateError, EventStore};
use std::sync::Arc;
use waymark_core::LedgerState;
use waymark_core::ProblemKind;
use waymark_events::{Event, Hash};

pub struct Waymark {
    db: Db,
    /// Opened with [`Waymark::new_read_only`]: nothing is written, not even the read
    /// models' catch-up.
    read_only: bool,
    repo: Arc<EventRepository>,
    store: ChainedEventStore,
    services: LedgerServices,
    /// The same services with rule 7 left to the commit (`Db::append` refuses a
    /// batch holding a recorded signature): a writer's first try skips a round trip.
    deferred: LedgerServices,
    read_models: Arc<ReadModels>,
    dispatcher: Dispatcher<ReadModelQuery>,
    /// The connection of the writer lock released last, for the next (`record.rs`).
    spare_lock: std::sync::Mutex<Option<LockConnection>>,
    /// Until when (ms since the epoch) writes queue on the writer lock first instead
    /// of trying without it: set when another writer was seen (`record.rs`).
    contended_until: std::sync::atomic::AtomicI64,
    /// Signatures `precheck` verified, for `record_group` not to verify again.
    prechecked: Arc<crate::ledger::Prechecked>,
}

fn storage_err(e: AggregateError<LedgerError>) -> Error {
    match e {
        AggregateError::UserError(LedgerError::Storage(e)) => Error::Storage(e),
        AggregateError::UserError(LedgerError::Rejected { index, rejection }) => Error::Rejected {
            line: Some(index + 1),
            rejection,
        },
        AggregateError::AggregateConflict => Error::Conflict("the ledger moved on".into()),
        other => Error::Storage(StorageError::database(other.to_string())),
    }
}

impl Waymark {
    pub fn new(db: Db, clock: Clock) -> Self {
        // The read models write through their own handle, which does not wait for
        // the disk (see `Db::for_read_models`); the events keep their durable commit.
        let read_db = db.for_read_models();
        let repo = Arc::new(EventRepository::new(&db));
        let read_models = Arc::new(ReadModels::new(read_db));
        Waymark {
            dispatcher: Dispatcher::new(ReadModelQuery::new(read_models.clone())),
            read_models,
            services: LedgerServices::indexed(db.clone()),
            deferred: LedgerServices::checked_at_commit(),
            store: ChainedEventStore::new(repo.clone(), db.clone(), clock),
            repo,
            db,
            read_only: false,
            spare_lock: std::sync::Mutex::new(None),
            contended_until: std::sync::atomic::AtomicI64::new(0),
            prechecked: Default::default(),
        }
    }

    /// A reader over a store opened with [`Db::open_read_only`]: every read works
    /// with nothing but read access. Read models that lag the events are caught up
    /// in this process's memory instead of in the store; `record` is refused.
    pub fn new_read_only(db: Db, clock: Clock) -> Self {
        let mut w = Self::new(db, clock);
        w.read_only = true;
        w.read_models.set_read_only();
        w
    }

    /// The store this service runs on.
    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(super) fn writable(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::Usage(
                "the store was opened read-only: this command writes".into(),
            ));
        }
        Ok(())
    }

    /// "no ledger X in DB", the usage error of every command on an unknown ledger.
    pub(super) fn no_ledger(&self, ledger: &str) -> Error {
        Error::Usage(format!("no ledger {ledger:?} in {}", self.db.name()))
    }

    /// The aggregate at the head: the copy this process committed or loaded last
    /// when the stored snapshot is still at its version (one small query), else
    /// loaded from the snapshot row.
    pub(super) async fn head(&self, ledger: &str) -> Result<Ctx> {
        if let Some(ctx) = self.store.remembered(ledger) {
            let stored = self.db.snapshot_mark(ledger).await?;
            if stored == Some(mark_of(&ctx)) {
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
    pub(super) async fn loaded(&self, ledger: &str) -> Result<Ledger> {
        let ctx = self.head(ledger).await?;
        if !ctx.aggregate.state.is_open() {
            return Err(self.no_ledger(ledger));
        }
        Ok(ctx.aggregate)
    }

    /// The rule state at the head (from the snapshot, not a replay).
    pub async fn state(&self, ledger: &str) -> Result<LedgerState> {
        Ok(self.loaded(ledger).await?.state)
    }

    pub(super) async fn rows(
        &self,
        ledger: &str,
    ) -> Result<Vec<cqrs_es::persist::SerializedEvent>> {
        self.repo
            .get_events::<Ledger>(ledger)
            .await
            .map_err(|e| Error::Storage(StorageError::database(e.to_string())))
    }

    /// Every recorded event with its hash, in order. Fails on a row that is not a
    /// SPEC event (run `verify` to find out where the chain breaks).
    pub async fn events(&self, ledger: &str) -> Result<Vec<(Event, Hash)>> {
        let rows = self.rows(ledger).await?;
        if rows.is_empty() {
            return Err(self.no_ledger(ledger));
        }
        rows.into_iter()
            .map(|r| {
                let e = Event::from_value(&r.payload).map_err(|m| Error::BrokenChain {
                    seq: Seq::from_cqrs(r.sequence).get(),
                    problem: ProblemKind::Malformed,
                    detail: m.to_string(),
                })?;
                let h = e.hash();
                Ok((e, h))
            })
            .collect()
    }
}
