//! Catching the read models up with the events, and writing them.

use super::*;
use crate::storage::Seq;
use cqrs_es::persist::PersistenceError;
use std::borrow::Borrow;

/// Fills `waymark_history_ids` for the audit rows of seq `$2..=$3` from their
/// `milestones` column (`,a,b,` → a, b), as `waymark migrate` does for the rows stored
/// before schema version 3 (`schema/*.sql`): one statement per batch of rows, the
/// split done by the database.
const FILL_IDS_SQLITE: &str = "WITH RECURSIVE split(seq, rest, id) AS (
      SELECT seq, substr(milestones, 2), '' FROM waymark_history
        WHERE ledger = $1 AND seq >= $2 AND seq <= $3
      UNION ALL
      SELECT seq, substr(rest, instr(rest, ',') + 1), substr(rest, 1, instr(rest, ',') - 1)
        FROM split WHERE rest <> '')
    INSERT INTO waymark_history_ids (ledger, id, seq)
    SELECT $1, id, seq FROM split WHERE id <> ''
    ON CONFLICT (ledger, id, seq) DO NOTHING";
const FILL_IDS_POSTGRES: &str = "INSERT INTO waymark_history_ids (ledger, id, seq)
    SELECT h.ledger, t.id, h.seq FROM waymark_history h
      CROSS JOIN LATERAL unnest(string_to_array(h.milestones, ',')) AS t(id)
    WHERE h.ledger = $1 AND h.seq >= $2 AND h.seq <= $3 AND t.id <> ''
    ON CONFLICT (ledger, id, seq) DO NOTHING";
/// Empties the id index of seq `$2..=$3` (before its rows are written again).
const CLEAR_IDS: &str =
    "DELETE FROM waymark_history_ids WHERE ledger = $1 AND seq >= $2 AND seq <= $3";

/// The audit rows' INSERT on PostgreSQL: `ledger` ($1) and the seven columns after it
/// as arrays ($2..$8, [`HistoryColumns::bind`]), one statement whatever the rows.
macro_rules! pg_insert_history {
    () => {
        "INSERT INTO waymark_history (ledger, seq, recorded_at, actor, event_type, season, milestones, row)
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[])"
    };
}

/// The checkpoints' INSERT on PostgreSQL, after [`pg_insert_history`]'s arguments:
/// their seqs and folds as arrays ($9, $10).
macro_rules! pg_insert_checkpoints {
    () => {
        "INSERT INTO waymark_status_checkpoints (ledger, seq, fold)
         SELECT $1, * FROM unnest($9::bigint[], $10::text[])"
    };
}

/// In one transaction on `$pool` (either backend): the id index of seq `$lo..=$hi`
/// emptied when `$clear`, the rows written by `$write` on `$tx`, then, when `$fill`
/// is `Some`, the index filled from the stored rows of the range with that statement.
/// The id index's statements and their arguments are the same on both backends; only
/// the rows' INSERTs differ (arrays on PostgreSQL, multi-row VALUES on SQLite).
/// Evaluates to the transaction's `Result<(), sqlx::Error>`.
macro_rules! with_ids {
    ($pool:expr, ($ledger:expr, $lo:expr, $hi:expr), clear: $clear:expr, fill: $fill:expr,
     |$tx:ident| $write:expr) => {
        async {
            let mut $tx = $pool.begin().await?;
            let (lo, hi) = (Seq($lo).to_sql(), Seq($hi).to_sql());
            if $clear {
                sqlx::query(CLEAR_IDS)
                    .bind($ledger)
                    .bind(lo)
                    .bind(hi)
                    .execute(&mut *$tx)
                    .await?;
            }
            let () = $write;
            if let Some(fill) = $fill {
                sqlx::query(fill)
                    .bind($ledger)
                    .bind(lo)
                    .bind(hi)
                    .execute(&mut *$tx)
                    .await?;
            }
            $tx.commit().await
        }
        .await
    };
}

impl ReadModels {
    /// Writes history rows and checkpoints (idempotent: same events, same rows).
    pub(super) async fn write_rows(&self, ledger: &str, rows: &Rows) -> Result<()> {
        self.put_rows(ledger, rows, OnConflict::Keep).await
    }

    /// Rewrites the id index of the stored audit rows of seq `lo..=hi`.
    pub(super) async fn refill_ids(&self, ledger: &str, lo: u64, hi: u64) -> Result<()> {
        let fill = match &self.db {
            Db::Sqlite(_) => FILL_IDS_SQLITE,
            Db::Postgres(_) => FILL_IDS_POSTGRES,
        };
        let fill = Some(fill);
        on_pool!(&self.db, p => with_ids!(p, (ledger, lo, hi), clear: true, fill: fill, |tx| ()))
            .map_err(|e| storage("writing the id index", e))
    }

    /// Writes rows; `OnConflict::Replace` overwrites a stored row of the same seq.
    pub(super) async fn put_rows(
        &self,
        ledger: &str,
        rows: &Rows,
        on_conflict: OnConflict,
    ) -> Result<()> {
        let history = rows
            .history
            .iter()
            .map(|r| {
                let json = serde_json::to_string(&r.row).map_err(|e| storage("history row", e))?;
                Ok((r, json))
            })
            .collect::<Result<Vec<_>>>()?;
        let checkpoints = rows
            .checkpoints
            .iter()
            .map(|(seq, fold)| {
                let json = serde_json::to_string(fold).map_err(|e| storage("checkpoint", e))?;
                Ok((*seq, json))
            })
            .collect::<Result<Vec<_>>>()?;
        self.put_serialized(ledger, &history, &checkpoints, on_conflict)
            .await
    }

    /// Writes audit rows, their ids (`waymark_history_ids`) and checkpoints already
    /// serialized, all or nothing: on PostgreSQL the rows and checkpoints in one
    /// `INSERT … SELECT FROM unnest(…)` each (one statement whatever the number of
    /// rows, its arguments sent as arrays), on SQLite multi-row INSERTs of
    /// [`INSERT_BATCH`] rows. The ids are written with their rows: a crash between the
    /// two would leave rows that a milestone's page never finds (and nothing redoes
    /// them). Replacing rows replaces their ids.
    pub(super) async fn put_serialized<R: Borrow<IndexedRow> + Sync>(
        &self,
        ledger: &str,
        history: &[(R, String)],
        checkpoints: &[(u64, String)],
        on_conflict: OnConflict,
    ) -> Result<()> {
        if history.is_empty() && checkpoints.is_empty() {
            return Ok(());
        }
        let history_conflict = match on_conflict {
            OnConflict::Keep => " ON CONFLICT (ledger, seq) DO NOTHING",
            OnConflict::Replace => {
                " ON CONFLICT (ledger, seq) DO UPDATE SET
                    recorded_at = excluded.recorded_at, actor = excluded.actor,
                    event_type = excluded.event_type, season = excluded.season,
                    milestones = excluded.milestones, row = excluded.row"
            }
        };
        let checkpoint_conflict = match on_conflict {
            OnConflict::Keep => " ON CONFLICT (ledger, seq) DO NOTHING",
            OnConflict::Replace => " ON CONFLICT (ledger, seq) DO UPDATE SET fold = excluded.fold",
        };
        let seqs = history.iter().map(|(r, _)| r.borrow().row.seq);
        let (lo, hi) = (seqs.clone().min().unwrap_or(0), seqs.max().unwrap_or(0));
        // Rows replaced: their ids are cleared, then filled again from the rows.
        let clear = on_conflict == OnConflict::Replace && !history.is_empty();
        let fill = |sql| (!history.is_empty()).then_some(sql);
        match &self.db {
            Db::Postgres(p) => {
                // The checkpoints' INSERT only when there are any (one catch-up in
                // 1,024): an INSERT of no rows still opens and locks the table and its
                // index on every append.
                let with_checkpoints = (!checkpoints.is_empty())
                    .then(|| format!("c AS ({}{checkpoint_conflict})", pg_insert_checkpoints!()));
                let sql = match (on_conflict, &with_checkpoints) {
                    // Keeping stored rows (every catch-up after a commit): one
                    // statement, so one round trip and no transaction around it: the
                    // rows, the ids of the rows it inserted (from `RETURNING`: a row that
                    // was there already got its ids with it) and the checkpoints. As a
                    // transaction of four statements (BEGIN, rows, ids, COMMIT) a single
                    // append's catch-up cost four round trips, and single appends fell
                    // to 0.74x of plain postgres-es (issue 17).
                    (OnConflict::Keep, c) => format!(
                        "WITH h AS ({}{history_conflict} RETURNING seq, milestones){}
                         INSERT INTO waymark_history_ids (ledger, id, seq)
                         SELECT $1, t.id, h.seq FROM h
                           CROSS JOIN LATERAL unnest(string_to_array(h.milestones, ',')) AS t(id)
                         WHERE t.id <> ''
                         ON CONFLICT (ledger, id, seq) DO NOTHING",
                        pg_insert_history!(),
                        c.as_ref().map_or(String::new(), |c| format!(", {c}"))
                    ),
                    // Replacing (rebuild): the rows and checkpoints in one statement, in
                    // a transaction between the id index's clearing and filling.
                    (OnConflict::Replace, None) => {
                        format!("{}{history_conflict}", pg_insert_history!())
                    }
                    (OnConflict::Replace, Some(c)) => {
                        format!("WITH {c} {}{history_conflict}", pg_insert_history!())
                    }
                };
                let mut q = HistoryColumns::of(history).bind(sqlx::query(&sql).bind(ledger));
                if with_checkpoints.is_some() {
                    q = q
                        .bind(checkpoints.iter().map(|(s, _)| Seq(*s).to_sql()).collect::<Vec<_>>())
                        .bind(checkpoints.iter().map(|(_, j)| j.as_str()).collect::<Vec<_>>());
                }
                match on_conflict {
                    OnConflict::Keep => q.execute(p).await.map(|_| ()),
                    OnConflict::Replace => {
                        let fill = fill(FILL_IDS_POSTGRES);
                        with_ids!(p, (ledger, lo, hi), clear: clear, fill: fill, |tx| {
                            q.execute(&mut *tx).await?;
                        })
                    }
                }
            }
            Db::Sqlite(p) => {
                let fill = fill(FILL_IDS_SQLITE);
                with_ids!(p, (ledger, lo, hi), clear: clear, fill: fill, |tx| {
                    for chunk in history.chunks(INSERT_BATCH) {
                        let mut q = sqlx::QueryBuilder::new(
                            "INSERT INTO waymark_history (ledger, seq, recorded_at, actor, event_type, season, milestones, row) ",
                        );
                        q.push_values(chunk, |mut b, (r, json)| {
                            let r = r.borrow();
                            b.push_bind(ledger)
                                .push_bind(Seq(r.row.seq).to_sql())
                                .push_bind(r.row.recorded_at.as_str())
                                .push_bind(r.row.actor.as_str())
                                .push_bind(r.row.event_type.as_str())
                                .push_bind(r.row.season)
                                .push_bind(r.ids.as_str())
                                .push_bind(json.as_str());
                        });
                        q.push(history_conflict);
                        q.build().execute(&mut *tx).await?;
                    }
                    for chunk in checkpoints.chunks(INSERT_BATCH) {
                        let mut q = sqlx::QueryBuilder::new(
                            "INSERT INTO waymark_status_checkpoints (ledger, seq, fold) ",
                        );
                        q.push_values(chunk, |mut b, (seq, json)| {
                            b.push_bind(ledger)
                                .push_bind(Seq(*seq).to_sql())
                                .push_bind(json.as_str());
                        });
                        q.push(checkpoint_conflict);
                        q.build().execute(&mut *tx).await?;
                    }
                })
            }
        }
        .map_err(|e| storage("writing the audit trail", e))
    }

    /// Folds `events` (which must follow the view's seq), writes their audit rows
    /// and checkpoints, and stores the view when it crossed a multiple of
    /// [`VIEW_EVERY`] (or was never stored). `Ok(false)` when another process
    /// stored the view first.
    pub(super) async fn advance(
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
                self.caught_up(ledger);
                return Ok(view);
            }
            let more = events.len() == PAGE;
            let (stored, view) = self.advance(ledger, view, ctx, &events).await?;
            if stored && !more {
                self.caught_up(ledger);
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
    pub(super) async fn sync_in_memory(&self, ledger: &str) -> Result<LedgerView> {
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
                    stored_upto: n.map_or(0, |n| Seq::from_sql(n).get()),
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
                .extend(rows.history.into_iter().filter(|r| r.row.seq > upto));
        }
        self.remember(ledger, &view, ctx.version);
        if let Ok(mut all) = self.pending.lock() {
            all.insert(ledger.to_string(), pending);
        }
        Ok(view)
    }

    /// Folds envelopes just committed. When they do not follow the view (another
    /// process committed in between, or stored the view first), the ledger is only
    /// marked lagging: the next read or [`Self::catch_up_lagging`] catches it up from
    /// the store, once. Catching up after every commit made each of 8 writer
    /// processes fold, and insert audit rows for, every other writer's events, and
    /// race the others for the view, reloading it on every lost race (issue 17:
    /// 8 writer processes on SQLite ran at 0.45x one process's rate, 0.76x without).
    pub async fn apply_committed(&self, ledger: &str, events: &[(Event, Hash)]) -> Result<()> {
        if self.is_lagging(ledger) {
            return Ok(());
        }
        let (view, ctx) = match self.remembered(ledger) {
            Some(x) => x,
            None => self.load(ledger).await?,
        };
        if events.first().map(|(e, _)| e.seq) == Some(view.seq() + 1)
            && self.advance(ledger, view, ctx, events).await?.0
        {
            return Ok(());
        }
        if let Ok(mut lagging) = self.lagging.lock() {
            lagging.insert(ledger.to_string());
        }
        Ok(())
    }

    /// The ledger's view followed every event stored when `sync` looked.
    fn caught_up(&self, ledger: &str) {
        if let Ok(mut lagging) = self.lagging.lock() {
            lagging.remove(ledger);
        }
    }

    fn is_lagging(&self, ledger: &str) -> bool {
        self.lagging.lock().is_ok_and(|l| l.contains(ledger))
    }

    /// Catches up every ledger marked lagging by [`Self::apply_committed`].
    pub async fn catch_up_lagging(&self) -> Result<()> {
        let ledgers: Vec<String> = match self.lagging.lock() {
            Ok(l) => l.iter().cloned().collect(),
            Err(_) => return Ok(()),
        };
        for ledger in ledgers {
            self.sync(&ledger).await?;
        }
        Ok(())
    }
}

/// The audit rows' columns as arrays, for `INSERT … SELECT FROM unnest(…)`.
#[derive(Default)]
struct HistoryColumns<'a> {
    seqs: Vec<i64>,
    recorded: Vec<&'a str>,
    actors: Vec<&'a str>,
    types: Vec<&'a str>,
    seasons: Vec<Option<i64>>,
    ids: Vec<&'a str>,
    jsons: Vec<&'a str>,
}

impl<'a> HistoryColumns<'a> {
    fn of<R: Borrow<IndexedRow>>(history: &'a [(R, String)]) -> Self {
        let mut cols = HistoryColumns::default();
        for (r, json) in history {
            let r = r.borrow();
            cols.seqs.push(Seq(r.row.seq).to_sql());
            cols.recorded.push(r.row.recorded_at.as_str());
            cols.actors.push(r.row.actor.as_str());
            cols.types.push(r.row.event_type.as_str());
            cols.seasons.push(r.row.season);
            cols.ids.push(r.ids.as_str());
            cols.jsons.push(json.as_str());
        }
        cols
    }

    /// Binds the seven arrays, in the column order of `waymark_history` after `ledger`.
    fn bind<'q>(
        self,
        q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>
    where
        'a: 'q,
    {
        q.bind(self.seqs)
            .bind(self.recorded)
            .bind(self.actors)
            .bind(self.types)
            .bind(self.seasons)
            .bind(self.ids)
            .bind(self.jsons)
    }
}
