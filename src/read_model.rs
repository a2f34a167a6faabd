//! Stored read models, so `status` at the head and `history` never replay the log.
//!
//! Per ledger, three things are kept next to the events:
//! - the **view** (`waymark_views`, a cqrs-es view table written through sqlite-es's
//!   or postgres-es's view repository): the status fold and the audit-trail fold at
//!   the last folded `seq`;
//! - the **audit trail** (`waymark_history`): one row per event, indexed for the
//!   `history` filters and for as-of lookups by season and time;
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

use crate::aggregate::Ledger;
use crate::db::{on_pool, Db};
use crate::error::{Error, Result, StorageError};
use async_trait::async_trait;
use cqrs_es::persist::{PersistenceError, ViewContext, ViewRepository};
use cqrs_es::{EventEnvelope, Query, View};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use waymark_events::{Event, Hash};
use waymark_projections::{HistoryFilter, HistoryFold, HistoryRow, StatusFold};

/// A status checkpoint is stored every this many events.
pub const CHECKPOINT_EVERY: u64 = 1024;

/// Events read from the store per round trip when catching up or rebuilding.
const PAGE: i64 = 2000;

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
    fn fold(&mut self, event: &Event, hash: &Hash, checkpoint_every: u64, out: &mut Rows) {
        out.history.push(self.history.row(event, hash));
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
fn stored_hash(metadata: &str) -> Option<Hash> {
    let meta: serde_json::Value = serde_json::from_str(metadata).ok()?;
    meta.get("hash")?.as_str()?.parse().ok()
}

/// Rows produced by folding a run of events.
#[derive(Debug, Default)]
struct Rows {
    history: Vec<HistoryRow>,
    checkpoints: Vec<(u64, StatusFold)>,
}

/// The read-model tables, created with the event tables (see `db.rs`).
pub const SQLITE_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS waymark_views (
       view_id text PRIMARY KEY NOT NULL, version integer NOT NULL, payload text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS waymark_history (
       ledger text NOT NULL, seq integer NOT NULL, recorded_at text NOT NULL,
       actor text NOT NULL, event_type text NOT NULL, season integer,
       milestones text NOT NULL, row text NOT NULL, PRIMARY KEY (ledger, seq))",
    "CREATE TABLE IF NOT EXISTS waymark_status_checkpoints (
       ledger text NOT NULL, seq integer NOT NULL, fold text NOT NULL,
       PRIMARY KEY (ledger, seq))",
];

pub const POSTGRES_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS waymark_views (
       view_id text PRIMARY KEY NOT NULL, version bigint NOT NULL, payload json NOT NULL)",
    "CREATE TABLE IF NOT EXISTS waymark_history (
       ledger text NOT NULL, seq bigint NOT NULL, recorded_at text NOT NULL,
       actor text NOT NULL, event_type text NOT NULL, season bigint,
       milestones text NOT NULL, row text NOT NULL, PRIMARY KEY (ledger, seq))",
    "CREATE TABLE IF NOT EXISTS waymark_status_checkpoints (
       ledger text NOT NULL, seq bigint NOT NULL, fold text NOT NULL,
       PRIMARY KEY (ledger, seq))",
];

/// Indexes shared by both backends.
pub const INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS waymark_history_actor ON waymark_history (ledger, actor, seq)",
    "CREATE INDEX IF NOT EXISTS waymark_history_type ON waymark_history (ledger, event_type, season)",
    "CREATE INDEX IF NOT EXISTS waymark_history_season ON waymark_history (ledger, season, seq)",
    "CREATE INDEX IF NOT EXISTS waymark_history_time ON waymark_history (ledger, recorded_at)",
];

fn storage(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Storage(StorageError(format!("{what}: {e}")))
}

/// The stored view is written at least every this many events; in between, this
/// process keeps it in memory and a reader in another process folds at most this
/// many events on top of the stored one. (The audit rows are written for every
/// event.)
pub const VIEW_EVERY: u64 = 16;

/// The audit trail's rows matching a `HistoryFilter`: `$1` ledger, then `$2` actor,
/// `$3` type, `$4` season and `$5` milestone, each NULL to match everything. The
/// history and its pages add their seq bounds and order.
macro_rules! history_where {
    () => {
        "SELECT row FROM waymark_history WHERE ledger = $1
              AND ($2 IS NULL OR actor = $2)
              AND ($3 IS NULL OR event_type = $3)
              AND ($4 IS NULL OR season = $4)
              AND ($5 IS NULL OR milestones LIKE '%,' || $5 || ',%' ESCAPE '!')"
    };
}

/// The stored read models of every ledger in one store, over the view repository `V`.
pub struct ReadModels<V> {
    db: Db,
    views: V,
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
}

/// Audit rows a read-only reader folded from events whose rows are not stored.
#[derive(Debug, Default, Clone)]
struct Pending {
    /// The highest seq with a stored audit row when the reader looked.
    stored_upto: u64,
    /// The rows after `stored_upto`, in seq order.
    rows: Vec<HistoryRow>,
}

/// What `rebuild` found.
#[derive(Debug, Clone, Serialize)]
pub struct RebuildReport {
    pub ledger: String,
    pub events: u64,
    /// The stored read models were equal to the recomputed ones.
    pub matched: bool,
    /// What differed, in words (empty when `matched`).
    pub differences: Vec<String>,
}

impl<V: ViewRepository<LedgerView, Ledger>> ReadModels<V> {
    pub fn new(db: Db, views: V) -> Self {
        ReadModels {
            db,
            views,
            checkpoint_every: AtomicU64::new(CHECKPOINT_EVERY),
            latest: Mutex::new(HashMap::new()),
            read_only: AtomicBool::new(false),
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// From now on nothing is written: see `read_only`.
    pub fn set_read_only(&self) {
        self.read_only.store(true, Ordering::Relaxed);
    }

    fn is_read_only(&self) -> bool {
        self.read_only.load(Ordering::Relaxed)
    }

    /// The audit rows this reader holds in memory for `ledger` (read-only mode).
    fn pending(&self, ledger: &str) -> Option<Pending> {
        self.pending.lock().ok()?.get(ledger).cloned()
    }

    fn remembered(&self, ledger: &str) -> Option<(LedgerView, ViewContext)> {
        let latest = self.latest.lock().ok()?;
        let (view, version) = latest.get(ledger)?;
        Some((view.clone(), ViewContext::new(ledger.into(), *version)))
    }

    fn remember(&self, ledger: &str, view: &LedgerView, version: i64) {
        if let Ok(mut latest) = self.latest.lock() {
            latest.insert(ledger.into(), (view.clone(), version));
        }
    }

    fn forget(&self, ledger: &str) {
        if let Ok(mut latest) = self.latest.lock() {
            latest.remove(ledger);
        }
    }

    /// Changes how often status checkpoints are stored (tests use small values to
    /// exercise them). Applies to events folded from now on.
    pub fn set_checkpoint_every(&self, n: u64) {
        self.checkpoint_every.store(n.max(1), Ordering::Relaxed);
    }

    fn every(&self) -> u64 {
        self.checkpoint_every.load(Ordering::Relaxed)
    }

    /// Recorded events after `after`, at most `limit`, in order.
    pub async fn events_after(
        &self,
        ledger: &str,
        after: u64,
        limit: i64,
    ) -> Result<Vec<(Event, Hash)>> {
        self.events_after_hashed(ledger, after, limit, Rehash::Always)
            .await
    }

    /// [`Self::events_after`], taking each event's hash from its row's metadata when
    /// `rehash` is `Rehash::Never` (catching a view up: the chain itself is `verify`'s
    /// business, and rebuilding recomputes every hash).
    async fn events_after_hashed(
        &self,
        ledger: &str,
        after: u64,
        limit: i64,
        rehash: Rehash,
    ) -> Result<Vec<(Event, Hash)>> {
        let sql = "SELECT sequence, CAST(payload AS text), CAST(metadata AS text) FROM events
                   WHERE aggregate_type = 'Ledger' AND aggregate_id = $1 AND sequence > $2
                   ORDER BY sequence LIMIT $3";
        let rows: Vec<(i64, String, String)> = on_pool!(&self.db, p => sqlx::query_as(sql)
            .bind(ledger).bind(after as i64).bind(limit).fetch_all(p).await)
        .map_err(|e| storage("reading events", e))?;
        // Parsing and hashing are independent per row: a page is done on every core.
        let parsed = waymark_core::map_ordered(&rows, 256, |_, (_, text, meta)| {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            let event = Event::from_value(&value).map_err(|e| e.to_string())?;
            let stored = match rehash {
                Rehash::Always => None,
                Rehash::Never => stored_hash(meta),
            };
            let hash = stored.unwrap_or_else(|| event.hash());
            Ok::<_, String>((event, hash))
        });
        let mut expected = after + 1;
        rows.iter()
            .zip(parsed)
            .map(|((seq, _, _), parsed)| {
                if *seq as u64 != expected {
                    return Err(Error::BrokenChain {
                        seq: expected,
                        problem: "seq_gap",
                        detail: format!(
                            "expected seq {expected}, the next stored row is seq {seq}"
                        ),
                    });
                }
                let (event, hash) = parsed.map_err(|detail| Error::BrokenChain {
                    seq: expected,
                    problem: "malformed",
                    detail,
                })?;
                expected += 1;
                Ok((event, hash))
            })
            .collect()
    }

    /// The highest recorded seq (0 for no ledger).
    pub async fn head_seq(&self, ledger: &str) -> Result<u64> {
        let sql = "SELECT MAX(sequence) FROM events WHERE aggregate_type = 'Ledger' AND aggregate_id = $1";
        let n: Option<i64> =
            on_pool!(&self.db, p => sqlx::query_scalar(sql).bind(ledger).fetch_one(p).await)
                .map_err(|e| storage("reading the head", e))?;
        Ok(n.unwrap_or(0) as u64)
    }

    async fn load(&self, ledger: &str) -> Result<(LedgerView, ViewContext)> {
        Ok(self
            .views
            .load_with_context(ledger)
            .await
            .map_err(|e| storage("loading the read model", e))?
            .unwrap_or_else(|| (LedgerView::default(), ViewContext::new(ledger.into(), 0))))
    }

    /// Writes history rows and checkpoints (idempotent: same events, same rows).
    async fn write_rows(&self, ledger: &str, rows: &Rows) -> Result<()> {
        self.put_rows(ledger, rows, OnConflict::Keep).await
    }

    /// Writes rows; `OnConflict::Replace` overwrites a stored row of the same seq.
    async fn put_rows(&self, ledger: &str, rows: &Rows, on_conflict: OnConflict) -> Result<()> {
        for chunk in rows.history.chunks(INSERT_BATCH) {
            let mut values = Vec::with_capacity(chunk.len());
            for r in chunk {
                let json = serde_json::to_string(r).map_err(|e| storage("history row", e))?;
                let milestones = format!(",{},", r.milestones.join(","));
                values.push((r, json, milestones));
            }
            on_pool!(&self.db, p => {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO waymark_history (ledger, seq, recorded_at, actor, event_type, season, milestones, row) ",
                );
                q.push_values(&values, |mut b, (r, json, milestones)| {
                    b.push_bind(ledger)
                        .push_bind(r.seq as i64)
                        .push_bind(r.recorded_at.as_str())
                        .push_bind(r.actor.as_str())
                        .push_bind(r.event_type.as_str())
                        .push_bind(r.season)
                        .push_bind(milestones.as_str())
                        .push_bind(json.as_str());
                });
                q.push(match on_conflict {
                    OnConflict::Keep => " ON CONFLICT (ledger, seq) DO NOTHING",
                    OnConflict::Replace => " ON CONFLICT (ledger, seq) DO UPDATE SET
                        recorded_at = excluded.recorded_at, actor = excluded.actor,
                        event_type = excluded.event_type, season = excluded.season,
                        milestones = excluded.milestones, row = excluded.row",
                });
                q.build().execute(p).await.map(|r| r.rows_affected())
            })
            .map_err(|e| storage("writing the audit trail", e))?;
        }
        for (seq, fold) in &rows.checkpoints {
            let json = serde_json::to_string(fold).map_err(|e| storage("checkpoint", e))?;
            let sql = match on_conflict {
                OnConflict::Keep => {
                    "INSERT INTO waymark_status_checkpoints (ledger, seq, fold) VALUES ($1, $2, $3)
                       ON CONFLICT (ledger, seq) DO NOTHING"
                }
                OnConflict::Replace => {
                    "INSERT INTO waymark_status_checkpoints (ledger, seq, fold) VALUES ($1, $2, $3)
                       ON CONFLICT (ledger, seq) DO UPDATE SET fold = excluded.fold"
                }
            };
            on_pool!(&self.db, p => sqlx::query(sql).bind(ledger).bind(*seq as i64).bind(json.as_str()).execute(p).await.map(|r| r.rows_affected()))
                .map_err(|e| storage("writing a status checkpoint", e))?;
        }
        Ok(())
    }

    /// Folds `events` (which must follow the view's seq), writes their audit rows
    /// and checkpoints, and stores the view when it crossed a multiple of
    /// [`VIEW_EVERY`] (or was never stored). `Ok(false)` when another process
    /// stored the view first.
    async fn advance(
        &self,
        ledger: &str,
        mut view: LedgerView,
        ctx: ViewContext,
        events: &[(Event, Hash)],
    ) -> Result<(bool, LedgerView)> {
        let from = view.seq();
        let mut rows = Rows::default();
        for (e, h) in events {
            view.fold(e, h, self.every(), &mut rows);
        }
        self.write_rows(ledger, &rows).await?;
        let due = ctx.version == 0 || view.seq() / VIEW_EVERY > from / VIEW_EVERY;
        if !due {
            self.remember(ledger, &view, ctx.version);
            return Ok((true, view));
        }
        let version = ctx.version + 1;
        match self.views.update_view(view.clone(), ctx).await {
            Ok(()) => {
                self.remember(ledger, &view, version);
                Ok((true, view))
            }
            Err(e) => {
                self.forget(ledger);
                match e {
                    PersistenceError::OptimisticLockError => Ok((false, view)),
                    // Two first writers raced to insert the row: the same as a lost update.
                    e if e.to_string().to_lowercase().contains("unique") => Ok((false, view)),
                    e => Err(storage("storing the read model", e)),
                }
            }
        }
    }

    /// The view at the head: the one this process holds or the stored one, caught
    /// up with any events it has not folded yet.
    pub async fn sync(&self, ledger: &str) -> Result<LedgerView> {
        if self.is_read_only() {
            return self.sync_in_memory(ledger).await;
        }
        let mut held = self.remembered(ledger);
        loop {
            let (view, ctx) = match held.take() {
                Some(x) => x,
                None => self.load(ledger).await?,
            };
            let events = self
                .events_after_hashed(ledger, view.seq(), PAGE, Rehash::Never)
                .await?;
            if events.is_empty() {
                self.remember(ledger, &view, ctx.version);
                return Ok(view);
            }
            let more = events.len() as i64 == PAGE;
            let (stored, view) = self.advance(ledger, view, ctx, &events).await?;
            if stored && !more {
                return Ok(view);
            }
            if stored {
                held = self.remembered(ledger);
            }
        }
    }

    /// [`Self::sync`] for a reader that may not write: the stored view caught up in
    /// memory, and the audit rows of events past the stored ones kept in `pending`.
    /// Normally the view lags by fewer than [`VIEW_EVERY`] events and every audit
    /// row is stored, so this folds a few events and keeps no row.
    async fn sync_in_memory(&self, ledger: &str) -> Result<LedgerView> {
        let (mut view, ctx) = match self.remembered(ledger) {
            Some(x) => x,
            None => self.load(ledger).await?,
        };
        let mut pending = match self.pending(ledger) {
            Some(p) => p,
            None => {
                let sql = "SELECT MAX(seq) FROM waymark_history WHERE ledger = $1";
                let n: Option<i64> = on_pool!(&self.db, p => sqlx::query_scalar(sql)
                    .bind(ledger).fetch_one(p).await)
                .map_err(|e| storage("reading the audit trail", e))?;
                Pending {
                    stored_upto: n.unwrap_or(0) as u64,
                    rows: Vec::new(),
                }
            }
        };
        loop {
            let events = self
                .events_after_hashed(ledger, view.seq(), PAGE, Rehash::Never)
                .await?;
            if events.is_empty() {
                break;
            }
            let mut rows = Rows::default();
            for (e, h) in &events {
                view.fold(e, h, u64::MAX, &mut rows);
            }
            let upto = pending.stored_upto;
            pending
                .rows
                .extend(rows.history.into_iter().filter(|r| r.seq > upto));
        }
        self.remember(ledger, &view, ctx.version);
        if let Ok(mut all) = self.pending.lock() {
            all.insert(ledger.to_string(), pending);
        }
        Ok(view)
    }

    /// Folds envelopes just committed; catches up from the store instead when they do
    /// not follow the view (a missed dispatch, or another writer's commit).
    pub async fn apply_committed(&self, ledger: &str, events: &[(Event, Hash)]) -> Result<()> {
        let (view, ctx) = match self.remembered(ledger) {
            Some(x) => x,
            None => self.load(ledger).await?,
        };
        if events.first().map(|(e, _)| e.seq) == Some(view.seq() + 1)
            && self.advance(ledger, view, ctx, events).await?.0
        {
            return Ok(());
        }
        self.sync(ledger).await.map(|_| ())
    }

    /// The status fold after exactly `n` events, from the nearest checkpoint.
    pub async fn status_fold_at(&self, ledger: &str, n: u64) -> Result<StatusFold> {
        let sql = "SELECT fold FROM waymark_status_checkpoints
                   WHERE ledger = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1";
        let cp: Option<String> = on_pool!(&self.db, p => sqlx::query_scalar(sql)
            .bind(ledger).bind(n as i64).fetch_optional(p).await)
        .map_err(|e| storage("reading a status checkpoint", e))?;
        let mut fold = match cp {
            Some(text) => serde_json::from_str::<StatusFold>(&text)
                .map_err(|e| storage("a stored status checkpoint is unreadable", e))?,
            None => StatusFold::new(),
        };
        while fold.seq() < n {
            let limit = ((n - fold.seq()) as i64).min(PAGE);
            let events = self.events_after(ledger, fold.seq(), limit).await?;
            if events.is_empty() {
                break;
            }
            for (e, h) in &events {
                fold.apply(e, h);
            }
        }
        Ok(fold)
    }

    /// The seq of a season's `SeasonOpened` and of its `SeasonReEvaluated`, if any.
    pub async fn season_bounds(
        &self,
        ledger: &str,
        season: i64,
    ) -> Result<Option<(u64, Option<u64>)>> {
        let sql = "SELECT seq, event_type FROM waymark_history WHERE ledger = $1 AND season = $2
                   AND event_type IN ('SeasonOpened', 'SeasonReEvaluated') ORDER BY seq";
        let rows: Vec<(i64, String)> = on_pool!(&self.db, p => sqlx::query_as(sql)
            .bind(ledger).bind(season).fetch_all(p).await)
        .map_err(|e| storage("reading the audit trail", e))?;
        let mut rows = rows;
        if let Some(p) = self.pending(ledger) {
            rows.extend(
                p.rows
                    .iter()
                    .filter(|r| r.season == Some(season))
                    .map(|r| (r.seq as i64, r.event_type.clone())),
            );
        }
        let opened = rows
            .iter()
            .find(|r| r.1 == "SeasonOpened")
            .map(|r| r.0 as u64);
        let closed = rows
            .iter()
            .find(|r| r.1 == "SeasonReEvaluated")
            .map(|r| r.0 as u64);
        Ok(opened.map(|o| (o, closed)))
    }

    /// The last seq recorded at or before a SPEC timestamp.
    pub async fn seq_at_time(&self, ledger: &str, time: &str) -> Result<Option<u64>> {
        let sql = "SELECT MAX(seq) FROM waymark_history WHERE ledger = $1 AND recorded_at <= $2";
        let n: Option<i64> = on_pool!(&self.db, p => sqlx::query_scalar(sql)
            .bind(ledger).bind(time).fetch_one(p).await)
        .map_err(|e| storage("reading the audit trail", e))?;
        let held = self.pending(ledger).and_then(|p| {
            p.rows
                .iter()
                .rev()
                .find(|r| r.recorded_at.as_str() <= time)
                .map(|r| r.seq)
        });
        Ok(held.or(n.map(|n| n as u64)))
    }

    /// Audit-trail rows matching `filter`, in seq order, optionally within a seq range.
    pub async fn history(
        &self,
        ledger: &str,
        filter: &HistoryFilter,
        range: Option<(u64, u64)>,
    ) -> Result<Vec<HistoryRow>> {
        // Every filter is bound; an absent one is NULL and matches everything.
        let sql = concat!(
            history_where!(),
            " AND seq >= $6 AND seq <= $7 ORDER BY seq"
        );
        let milestone = filter.milestone.as_ref().map(|m| like_escape(m));
        let (lo, hi) = range.unwrap_or((1, i64::MAX as u64));
        // A reader that caught up in memory holds the rows past `stored_upto`: the
        // stored ones are read up to there only, or a row a writer stored since would
        // be read twice (seen: 215 rows for 115 events while `serve` was writing).
        let pending = self.pending(ledger);
        let stored_hi = pending.as_ref().map_or(hi, |p| hi.min(p.stored_upto));
        let rows: Vec<String> = on_pool!(&self.db, p => sqlx::query_scalar(sql)
            .bind(ledger)
            .bind(filter.actor.as_deref())
            .bind(filter.event_type.as_deref())
            .bind(filter.season)
            .bind(milestone.as_deref())
            .bind(lo as i64)
            .bind(stored_hi as i64)
            .fetch_all(p).await)
        .map_err(|e| storage("reading the audit trail", e))?;
        let mut out = rows
            .iter()
            .map(|r| {
                serde_json::from_str(r).map_err(|e| storage("a stored audit row is unreadable", e))
            })
            .collect::<Result<Vec<HistoryRow>>>()?;
        if let Some(p) = pending {
            out.extend(
                p.rows
                    .into_iter()
                    .filter(|r| r.seq >= lo && r.seq <= hi && filter.matches(r)),
            );
        }
        Ok(out)
    }

    /// At most `limit` audit-trail rows matching `filter` with seq below `before`,
    /// newest first (a page: `ORDER BY seq DESC LIMIT`, one index range scan).
    pub async fn history_page(
        &self,
        ledger: &str,
        filter: &HistoryFilter,
        before: u64,
        limit: usize,
    ) -> Result<Vec<HistoryRow>> {
        let sql = concat!(history_where!(), " AND seq < $6 ORDER BY seq DESC LIMIT $7");
        let milestone = filter.milestone.as_ref().map(|m| like_escape(m));
        let before = before.min(i64::MAX as u64) as i64;
        let rows: Vec<String> = on_pool!(&self.db, p => sqlx::query_scalar(sql)
            .bind(ledger)
            .bind(filter.actor.as_deref())
            .bind(filter.event_type.as_deref())
            .bind(filter.season)
            .bind(milestone.as_deref())
            .bind(before)
            .bind(limit.min(i64::MAX as usize) as i64)
            .fetch_all(p).await)
        .map_err(|e| storage("reading the audit trail", e))?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(r).map_err(|e| storage("a stored audit row is unreadable", e))
            })
            .collect()
    }

    /// Recomputes every read model of `ledger` from its events, compares the result
    /// with what was stored, and replaces the stored one. `progress` is told the
    /// head first, then the seq reached after each page.
    pub async fn rebuild(
        &self,
        ledger: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RebuildReport> {
        let head = self.head_seq(ledger).await?;
        if head == 0 {
            return Err(Error::Usage(format!(
                "no ledger {ledger:?} in {}",
                self.db.name()
            )));
        }
        // Stop writers' dispatches from racing the rebuild's view: it is compared and
        // replaced at the end with a version check.
        self.forget(ledger);
        let (stored_view, ctx) = self.load(ledger).await?;
        let mut differences = Vec::new();
        let mut view = LedgerView::default();
        progress(head, 0);
        loop {
            let events = self.events_after(ledger, view.seq(), PAGE).await?;
            if events.is_empty() {
                break;
            }
            let (lo, hi) = (events[0].0.seq, events[events.len() - 1].0.seq);
            let mut rows = Rows::default();
            for (e, h) in &events {
                view.fold(e, h, self.every(), &mut rows);
                if e.seq == stored_view.seq() && view != stored_view {
                    differences.push(format!(
                        "stored view at seq {} differs from the events",
                        e.seq
                    ));
                }
            }
            // Only what differs is written back: a rebuild that finds the read
            // models intact reads them and writes nothing but the view.
            let stored = self.stored_rows(ledger, lo, hi).await?;
            let mut changed = Rows::default();
            compare_rows(
                rows.history,
                &stored,
                &mut differences,
                &mut changed.history,
            )?;
            for (seq, fold) in rows.checkpoints {
                let have = self.checkpoint(ledger, seq).await?;
                if have.as_ref() != Some(&fold) {
                    differences.push(format!(
                        "status checkpoint at seq {seq}: {}",
                        if have.is_some() { "differs" } else { "missing" }
                    ));
                    changed.checkpoints.push((seq, fold));
                }
            }
            self.put_rows(ledger, &changed, OnConflict::Replace).await?;
            progress(head, view.seq());
        }
        let extra = self
            .history(
                ledger,
                &HistoryFilter::default(),
                Some((view.seq() + 1, u64::MAX >> 1)),
            )
            .await?;
        if !extra.is_empty() {
            differences.push(format!(
                "{} audit rows beyond the last event (seq {})",
                extra.len(),
                view.seq()
            ));
            self.trim_after(ledger, view.seq()).await?;
        }
        if stored_view.seq() > view.seq() {
            differences.push(format!(
                "stored view is at seq {}, past the last event (seq {})",
                stored_view.seq(),
                view.seq()
            ));
        }
        let version = ctx.version + 1;
        self.views
            .update_view(view.clone(), ctx)
            .await
            .map_err(|e| {
                storage(
                    "storing the rebuilt read model (retry if writers were active)",
                    e,
                )
            })?;
        self.remember(ledger, &view, version);
        let report = RebuildReport {
            ledger: ledger.into(),
            events: view.seq(),
            matched: differences.is_empty(),
            differences,
        };
        Ok(report)
    }

    async fn checkpoint(&self, ledger: &str, seq: u64) -> Result<Option<StatusFold>> {
        let sql = "SELECT fold FROM waymark_status_checkpoints WHERE ledger = $1 AND seq = $2";
        let cp: Option<String> = on_pool!(&self.db, p => sqlx::query_scalar(sql)
            .bind(ledger).bind(seq as i64).fetch_optional(p).await)
        .map_err(|e| storage("reading a status checkpoint", e))?;
        // An unreadable checkpoint is a difference, not an error: rebuild replaces it.
        Ok(cp.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// The stored audit rows of seq `lo..=hi`, as stored (JSON text), by seq.
    async fn stored_rows(&self, ledger: &str, lo: u64, hi: u64) -> Result<HashMap<u64, String>> {
        let sql =
            "SELECT seq, row FROM waymark_history WHERE ledger = $1 AND seq >= $2 AND seq <= $3";
        let rows: Vec<(i64, String)> = on_pool!(&self.db, p => sqlx::query_as(sql)
            .bind(ledger).bind(lo as i64).bind(hi as i64).fetch_all(p).await)
        .map_err(|e| storage("reading the audit trail", e))?;
        Ok(rows
            .into_iter()
            .map(|(seq, row)| (seq as u64, row))
            .collect())
    }

    /// Removes rows past the last event.
    async fn trim_after(&self, ledger: &str, head: u64) -> Result<()> {
        for table in ["waymark_history", "waymark_status_checkpoints"] {
            let sql = format!("DELETE FROM {table} WHERE ledger = $1 AND seq > $2");
            on_pool!(&self.db, p => sqlx::query(&sql).bind(ledger).bind(head as i64).execute(p).await.map(|r| r.rows_affected()))
                .map_err(|e| storage("clearing a read model", e))?;
        }
        Ok(())
    }
}

/// Compares fresh audit rows with the stored ones (by their JSON, and structurally
/// when the text differs), noting each difference and collecting the rows to write.
fn compare_rows(
    fresh: Vec<HistoryRow>,
    stored: &HashMap<u64, String>,
    differences: &mut Vec<String>,
    changed: &mut Vec<HistoryRow>,
) -> Result<()> {
    const MAX_LISTED: usize = 20;
    // Serializing the fresh rows is most of this (callgrind: 37% of rebuild's own
    // thread), and each row is independent: on every core.
    let jsons = waymark_core::map_ordered(&fresh, 256, |_, r| serde_json::to_string(r));
    for (row, json) in fresh.into_iter().zip(jsons) {
        let note = match stored.get(&row.seq) {
            None => "missing",
            Some(text) => {
                let json = json.map_err(|e| storage("history row", e))?;
                if *text == json {
                    continue;
                }
                match serde_json::from_str::<HistoryRow>(text) {
                    // Written differently, but the same row: rewrite it quietly.
                    Ok(s) if s == row => {
                        changed.push(row);
                        continue;
                    }
                    _ => "differs from the event",
                }
            }
        };
        if differences.len() < MAX_LISTED {
            differences.push(format!("audit row seq {}: {note}", row.seq));
        }
        changed.push(row);
    }
    Ok(())
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '!'`.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

/// The cqrs-es query: `CqrsFramework`-style dispatch after each commit. A failure
/// here is logged, not returned: the events are committed, and the next read catches
/// the read models up.
pub struct ReadModelQuery<V> {
    pub models: std::sync::Arc<ReadModels<V>>,
    _v: PhantomData<V>,
}

impl<V> ReadModelQuery<V> {
    pub fn new(models: std::sync::Arc<ReadModels<V>>) -> Self {
        ReadModelQuery {
            models,
            _v: PhantomData,
        }
    }
}

#[async_trait]
impl<V: ViewRepository<LedgerView, Ledger>> Query<Ledger> for ReadModelQuery<V> {
    async fn dispatch(&self, ledger: &str, envelopes: &[EventEnvelope<Ledger>]) {
        let events: Vec<(Event, Hash)> = envelopes
            .iter()
            .map(|e| (e.payload.0.clone(), crate::store::envelope_hash(e)))
            .collect();
        if let Err(e) = self.models.apply_committed(ledger, &events).await {
            tracing::warn!(ledger, error = %e, "read models not updated; the next read catches up");
        }
    }
}
