//! Stored read models, so `status` at the head and `history` never replay the log.
//!
//! Per ledger, three things are kept next to the events:
//! - the **view** (`waymark_views`, a cqrs-es view table written through sqlite-es's
//!   or postgres-es's view repository): the status fold and the audit-trail fold at
//!   the last folded `seq`;
//! - the **audit trail** (`waymark_history`): one row per event, indexed for the
//!   `history` filters and for as-of lookups by season and time, and its id index
//!   (`waymark_history_ids`, a row per id an audit row names, written in the same
//!   transaction) through which a milestone's or an id's rows are read;
//! - **status checkpoints** (`waymark_status_checkpoints`): the status fold every
//!   [`CHECKPOINT_EVERY`] events, so an as-of query folds at most that many events.
//!
//! `ReadModels` is a cqrs-es [`Query`]: after every commit it is handed the new
//! envelopes. The events table stays the only source of truth: the read models are
//! updated after the commit (cqrs-es dispatches outside the write transaction), so
//! every read first catches the view up from the events it has not folded yet (a
//! crash between commit and dispatch costs a catch-up, never a wrong answer), and
//! every write to them is idempotent (rows are a pure function of the events) and
//! version-checked (the view). `rebuild` recomputes all three from the events and
//! compares them with what was stored.
//!
//! Layout: here the fold (`LedgerView`) and the `ReadModels` handle; `events` reads
//! the event rows back; `sync` catches the models up and writes them; `queries`
//! answers status as-of, seasons, times and the audit trail; `rebuild` recomputes and
//! compares; `query` is the cqrs-es `Query` fed after each commit; `dispatch` runs it
//! in the background, in commit order.

mod dispatch;
mod events;
mod ids;
mod queries;
mod query;
mod rebuild;
mod sync;

pub use dispatch::Dispatcher;
use ids::since_of_row;
pub use ids::{kinds_in, since_of, IdKind, IndexedRow, Since};
pub use query::ReadModelQuery;
pub use rebuild::RebuildReport;

use crate::error::{Error, Result, StorageError};
use crate::ledger::Ledger;
use crate::storage::RowMeta;
use crate::storage::{on_pool, Db, ViewRepository};
use cqrs_es::persist::{ViewContext, ViewRepository as _};
use cqrs_es::{EventEnvelope, View};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use waymark_events::{Event, Hash};
use waymark_projections::{HistoryFold, HistoryRow, StatusFold};

/// A status checkpoint is stored every this many events.
pub const CHECKPOINT_EVERY: u64 = 1024;

/// Events read from the store per round trip when catching up or rebuilding.
const PAGE: usize = 2000;

/// Rows per multi-row INSERT.
const INSERT_BATCH: usize = 500;

/// The folded state of one ledger's read models.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgerView {
    pub status: StatusFold,
    pub history: HistoryFold,
}

impl LedgerView {
    /// The last folded seq (0 before any event).
    pub fn seq(&self) -> u64 {
        self.status.seq()
    }

    /// Folds one event, collecting the rows it produces (a status checkpoint every
    /// `checkpoint_every` events).
    pub(super) fn fold(
        &mut self,
        event: &Event,
        hash: &Hash,
        checkpoint_every: u64,
        out: &mut Rows,
    ) {
        out.history
            .push(IndexedRow::new(self.history.row(event, hash), event));
        self.status.apply(event, hash);
        if event.seq.is_multiple_of(checkpoint_every) {
            out.checkpoints.push((event.seq, self.status.clone()));
        }
    }
}

impl View<Ledger> for LedgerView {
    fn update(&mut self, envelope: &EventEnvelope<Ledger>) {
        let event = &envelope.payload.0;
        let hash = event.hash();
        self.fold(event, &hash, u64::MAX, &mut Rows::default());
    }
}

/// What writing a row does when its seq is stored already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnConflict {
    /// Keep the stored row (rows are a pure function of the events).
    Keep,
    /// Overwrite it (`rebuild` repairing what it found).
    Replace,
}

/// Whether reading events recomputes their hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rehash {
    Always,
    Never,
}

/// The hash `commit` put in a row's metadata.
/// Rows produced by folding a run of events.
#[derive(Debug, Default)]
pub(super) struct Rows {
    history: Vec<IndexedRow>,
    checkpoints: Vec<(u64, StatusFold)>,
}

/// The cqrs-es view table.
const VIEWS: &str = "waymark_views";

fn storage(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Storage(StorageError::database(format!("{what}: {e}")))
}

/// The stored view is written at least every this many events; in between, this
/// process keeps it in memory and a reader in another process folds at most this
/// many events on top of the stored one. (The audit rows are written for every
/// event.)
pub const VIEW_EVERY: u64 = 16;

/// The stored read models of every ledger in one store.
pub struct ReadModels {
    db: Db,
    views: ViewRepository<LedgerView, Ledger>,
    checkpoint_every: AtomicU64,
    /// Per ledger, the view as this process last folded it, with the version of the
    /// stored row it was loaded from or written as. Any fold from it is correct
    /// (folds are pure and catch up from the events); the version only decides
    /// whether writing it back wins.
    latest: Mutex<HashMap<String, (LedgerView, i64)>>,
    /// Set for a reader of a store it may not write (`Waymark::new_read_only`):
    /// catching up folds in memory, and the audit rows not stored yet are kept in
    /// `pending` and merged into every query of the audit trail.
    read_only: AtomicBool,
    pending: Mutex<HashMap<String, Pending>>,
    /// Ledgers whose committed batches did not follow this process's view (another
    /// process committed in between) and were not folded: caught up by the next
    /// read or by `settle` (see `apply_committed`).
    lagging: Mutex<std::collections::BTreeSet<String>>,
    /// Status folds at past seqs computed lately (`status_fold_at`), newest first, at
    /// most [`KEPT_FOLDS`]: the dashboard shows the status at each Season's end on
    /// every page, and folding up to 1,023 events on a checkpoint for each of them, on
    /// every request, was most of a page's time (issue 17, goal 2).
    folds: Mutex<std::collections::VecDeque<(String, u64, StatusFold)>>,
}

/// How many status folds at past seqs a process keeps (a fold is the framework and a
/// line per milestone: a few KB for a framework of 100 milestones).
const KEPT_FOLDS: usize = 64;

/// Audit rows a read-only reader folded from events whose rows are not stored.
#[derive(Debug, Default, Clone)]
pub(super) struct Pending {
    /// The highest seq with a stored audit row when the reader looked.
    stored_upto: u64,
    /// The rows after `stored_upto`, in seq order.
    rows: Vec<IndexedRow>,
}

impl ReadModels {
    pub fn new(db: Db) -> Self {
        ReadModels {
            views: ViewRepository::new(&db, VIEWS),
            db,
            checkpoint_every: AtomicU64::new(CHECKPOINT_EVERY),
            latest: Mutex::new(HashMap::new()),
            read_only: AtomicBool::new(false),
            pending: Mutex::new(HashMap::new()),
            lagging: Mutex::new(Default::default()),
            folds: Mutex::new(Default::default()),
        }
    }

    pub(super) fn kept_fold(&self, ledger: &str, seq: u64) -> Option<StatusFold> {
        let folds = self.folds.lock().ok()?;
        folds
            .iter()
            .find(|(l, s, _)| l == ledger && *s == seq)
            .map(|(_, _, f)| f.clone())
    }

    pub(super) fn keep_fold(&self, ledger: &str, seq: u64, fold: &StatusFold) {
        if let Ok(mut folds) = self.folds.lock() {
            folds.retain(|(l, s, _)| !(l == ledger && *s == seq));
            folds.push_front((ledger.to_string(), seq, fold.clone()));
            folds.truncate(KEPT_FOLDS);
        }
    }

    /// Forgets the folds kept for `ledger` (`rebuild`: the events are read again).
    pub(super) fn forget_folds(&self, ledger: &str) {
        if let Ok(mut folds) = self.folds.lock() {
            folds.retain(|(l, _, _)| l != ledger);
        }
    }

    /// From now on nothing is written: see `read_only`.
    pub fn set_read_only(&self) {
        self.read_only.store(true, Ordering::Relaxed);
    }

    pub(super) fn is_read_only(&self) -> bool {
        self.read_only.load(Ordering::Relaxed)
    }

    /// The audit rows this reader holds in memory for `ledger` (read-only mode).
    pub(super) fn pending(&self, ledger: &str) -> Option<Pending> {
        self.pending.lock().ok()?.get(ledger).cloned()
    }

    pub(super) fn remembered(&self, ledger: &str) -> Option<(LedgerView, ViewContext)> {
        let latest = self.latest.lock().ok()?;
        let (view, version) = latest.get(ledger)?;
        Some((view.clone(), ViewContext::new(ledger.into(), *version)))
    }

    pub(super) fn remember(&self, ledger: &str, view: &LedgerView, version: i64) {
        if let Ok(mut latest) = self.latest.lock() {
            latest.insert(ledger.into(), (view.clone(), version));
        }
    }

    pub(super) fn forget(&self, ledger: &str) {
        if let Ok(mut latest) = self.latest.lock() {
            latest.remove(ledger);
        }
    }

    /// Changes how often status checkpoints are stored (tests use small values to
    /// exercise them). Applies to events folded from now on.
    pub fn set_checkpoint_every(&self, n: u64) {
        self.checkpoint_every.store(n.max(1), Ordering::Relaxed);
    }

    pub(super) fn every(&self) -> u64 {
        self.checkpoint_every.load(Ordering::Relaxed)
    }

    pub(super) async fn load(&self, ledger: &str) -> Result<(LedgerView, ViewContext)> {
        Ok(self
            .views
            .load_with_context(ledger)
            .await
            .map_err(|e| storage("loading the read model", e))?
            .unwrap_or_else(|| (LedgerView::default(), ViewContext::new(ledger.into(), 0))))
    }
}
