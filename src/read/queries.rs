//! What the read models answer: status as of a point, seasons, times, the audit trail.

use super::ids::kinds_in;
use super::*;
use crate::storage::Seq;
use std::collections::BTreeMap;
use waymark_projections::HistoryFilter;

/// A value bound to a placeholder of [`history_where`].
enum Bind {
    Text(String),
    Int(i64),
}

/// `SELECT row FROM waymark_history WHERE ledger = $1 AND …` with a condition for
/// each filter `filter` sets and none for the others, the values of `$2…` in order (the
/// caller's own bounds follow them), and the column the caller bounds and orders by
/// (`seq`, or the id index's). Each combination of filters is its own statement, so its plan
/// can seek the index of the filter it has (actor, type, season), where `($2 IS NULL OR
/// actor = $2)` had one generic plan for all of them. A milestone is looked up in
/// `waymark_history_ids` (schema version 3) and its rows joined: the page walks that
/// milestone's rows only, where `milestones LIKE '%,M3,%'` walked the ledger backwards
/// until it had a page (at 1M events, every row for a milestone updated once).
fn history_where(filter: &HistoryFilter) -> (String, Vec<Bind>, &'static str) {
    let mut binds = Vec::new();
    // Unqualified names where the statement reads one table (as plans are printed).
    let (mut sql, seq, col) = match &filter.milestone {
        Some(m) => {
            binds.push(Bind::Text(m.clone()));
            (
                String::from(
                    "SELECT waymark_history.row FROM waymark_history_ids JOIN waymark_history
                       ON waymark_history.ledger = waymark_history_ids.ledger
                      AND waymark_history.seq = waymark_history_ids.seq
                     WHERE waymark_history_ids.ledger = $1 AND waymark_history_ids.id = $2",
                ),
                "waymark_history_ids.seq",
                "waymark_history.",
            )
        }
        None => (
            String::from("SELECT row FROM waymark_history WHERE ledger = $1"),
            "seq",
            "",
        ),
    };
    let mut add = |cond: &str, b: Bind| {
        binds.push(b);
        sql += &cond
            .replace('?', &format!("${}", binds.len() + 1))
            .replace('@', col);
    };
    if let Some(a) = &filter.actor {
        add(" AND @actor = ?", Bind::Text(a.clone()));
    }
    if let Some(t) = &filter.event_type {
        add(" AND @event_type = ?", Bind::Text(t.clone()));
    }
    if let Some(s) = filter.season {
        add(" AND @season = ?", Bind::Int(s));
    }
    (sql, binds, seq)
}

/// Binds `binds` to the query `$q` after `$1` (sqlx's query types differ per backend,
/// so this is expanded inside each arm of `on_pool!`).
macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Text(t) => q.bind(t.as_str()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

impl ReadModels {
    /// The status fold after exactly `n` events, from the nearest checkpoint (folding
    /// at most `checkpoint_every - 1` events on it), or from the folds this process
    /// computed lately: a fold at a recorded seq never changes (the log only grows),
    /// and the dashboard asks for the same Season ends on every page.
    pub async fn status_fold_at(&self, ledger: &str, n: u64) -> Result<StatusFold> {
        if let Some(fold) = self.kept_fold(ledger, n) {
            return Ok(fold);
        }
        let fold = self.status_fold_from_checkpoint(ledger, n).await?;
        if fold.seq() == n {
            self.keep_fold(ledger, n, &fold);
        }
        Ok(fold)
    }

    async fn status_fold_from_checkpoint(&self, ledger: &str, n: u64) -> Result<StatusFold> {
        let sql = "SELECT fold FROM waymark_status_checkpoints
                   WHERE ledger = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1";
        let cp: Option<String> = on_pool!(&self.db, p => sqlx::query_scalar(sql)
            .bind(ledger).bind(Seq(n).to_sql()).fetch_optional(p).await)
        .map_err(|e| storage("reading a status checkpoint", e))?;
        let mut fold = match cp {
            Some(text) => serde_json::from_str::<StatusFold>(&text)
                .map_err(|e| storage("a stored status checkpoint is unreadable", e))?,
            None => StatusFold::new(),
        };
        while fold.seq() < n {
            let limit = usize::try_from(n - fold.seq()).unwrap_or(PAGE).min(PAGE);
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

    /// Every Season of the ledger, in the order they were opened: its number, the seq
    /// of its `SeasonOpened` and of its `SeasonReEvaluated`, if any (what
    /// [`Self::season_bounds`] says of each). One range of the type index per event
    /// type, put in seq order here (no `ORDER BY`: see `authority_since`).
    pub async fn seasons(&self, ledger: &str) -> Result<Vec<(i64, u64, Option<u64>)>> {
        let sql = "SELECT seq, event_type, season FROM waymark_history WHERE ledger = $1
                   AND event_type IN ('SeasonOpened', 'SeasonReEvaluated')";
        let mut rows: Vec<(i64, String, Option<i64>)> = on_pool!(&self.db, p => sqlx::query_as(sql)
            .bind(ledger).fetch_all(p).await)
        .map_err(|e| storage("reading the audit trail", e))?;
        if let Some(p) = self.pending(ledger) {
            rows.extend(
                p.rows
                    .iter()
                    .filter(|r| {
                        matches!(
                            r.row.event_type.as_str(),
                            "SeasonOpened" | "SeasonReEvaluated"
                        )
                    })
                    .map(|r| {
                        (
                            Seq(r.row.seq).to_sql(),
                            r.row.event_type.clone(),
                            r.row.season,
                        )
                    }),
            );
        }
        rows.sort_by_key(|r| r.0);
        let mut out: Vec<(i64, u64, Option<u64>)> = Vec::new();
        for (seq, kind, season) in &rows {
            let (Some(season), seq) = (*season, Seq::from_sql(*seq).get()) else {
                continue;
            };
            if kind == "SeasonOpened" && !out.iter().any(|s| s.0 == season) {
                out.push((season, seq, None));
            }
        }
        for (seq, kind, season) in &rows {
            if kind != "SeasonReEvaluated" {
                continue;
            }
            if let Some(s) = out.iter_mut().find(|s| Some(s.0) == *season) {
                s.2 = s.2.or(Some(Seq::from_sql(*seq).get()));
            }
        }
        Ok(out)
    }

    /// The seq of a season's `SeasonOpened` and of its `SeasonReEvaluated`, if any:
    /// from [`Self::seasons`], which reads the Seasons' own rows (by type), where
    /// `season = $2 AND event_type IN …` walked every row of the Season by the season
    /// index (4,000 rows for a page as of a Season of a 20,000-event ledger).
    pub async fn season_bounds(
        &self,
        ledger: &str,
        season: i64,
    ) -> Result<Option<(u64, Option<u64>)>> {
        Ok(self
            .seasons(ledger)
            .await?
            .into_iter()
            .find(|s| s.0 == season)
            .map(|s| (s.1, s.2)))
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
                .find(|r| r.row.recorded_at.as_str() <= time)
                .map(|r| r.row.seq)
        });
        Ok(held.or(n.map(|n| Seq::from_sql(n).get())))
    }

    /// Audit-trail rows matching `filter`, in seq order, optionally within a seq range.
    pub async fn history(
        &self,
        ledger: &str,
        filter: &HistoryFilter,
        range: Option<(u64, u64)>,
    ) -> Result<Vec<HistoryRow>> {
        let (mut sql, binds, seq) = history_where(filter);
        let n = binds.len();
        sql += &format!(
            " AND {seq} >= ${} AND {seq} <= ${} ORDER BY {seq}",
            n + 2,
            n + 3
        );
        let (lo, hi) = range.unwrap_or((1, Seq::from_sql(i64::MAX).get()));
        // A reader that caught up in memory holds the rows past `stored_upto`: the
        // stored ones are read up to there only, or a row a writer stored since would
        // be read twice (seen: 215 rows for 115 events while `serve` was writing).
        let pending = self.pending(ledger);
        let stored_hi = pending.as_ref().map_or(hi, |p| hi.min(p.stored_upto));
        let rows: Vec<String> = on_pool!(&self.db, p => bind_all!(
                sqlx::query_scalar(&sql).bind(ledger), &binds)
            .bind(Seq(lo).to_sql())
            .bind(Seq(stored_hi).to_sql())
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
                    .map(|r| r.row)
                    .filter(|r| r.seq >= lo && r.seq <= hi && filter.matches(r)),
            );
        }
        Ok(out)
    }

    /// The audit-trail rows that name `id` as a milestone, a decision or a body
    /// (SPEC section 13's `history ID`; a body's rows include the designs that name
    /// it) and match the rest of `filter` (its `milestone` is not used), in seq
    /// order, each with the kinds of id it matched.
    pub async fn history_of(
        &self,
        ledger: &str,
        filter: &HistoryFilter,
        id: &str,
    ) -> Result<Vec<(HistoryRow, Vec<IdKind>)>> {
        // The rows naming `id` under any of its three kinds, from `waymark_history_ids`
        // (in seq order per kind; merged by seq below).
        let sql = "SELECT waymark_history.milestones, waymark_history.row
              FROM waymark_history_ids JOIN waymark_history
                ON waymark_history.ledger = waymark_history_ids.ledger
               AND waymark_history.seq = waymark_history_ids.seq
              WHERE waymark_history_ids.ledger = $1
              AND waymark_history_ids.id IN ($5, 'decision:' || $5, 'body:' || $5)
              AND ($2 IS NULL OR waymark_history.actor = $2)
              AND ($3 IS NULL OR waymark_history.event_type = $3)
              AND ($4 IS NULL OR waymark_history.season = $4)
              AND waymark_history_ids.seq <= $6";
        let pending = self.pending(ledger);
        let hi = pending
            .as_ref()
            .map_or(i64::MAX, |p| Seq(p.stored_upto).to_sql());
        let stored: Vec<(String, String)> = on_pool!(&self.db, p => sqlx::query_as(sql)
            .bind(ledger)
            .bind(filter.actor.as_deref())
            .bind(filter.event_type.as_deref())
            .bind(filter.season)
            .bind(id)
            .bind(hi)
            .fetch_all(p).await)
        .map_err(|e| storage("reading the audit trail", e))?;
        let mut out = Vec::with_capacity(stored.len());
        for (ids, row) in stored {
            let row: HistoryRow = serde_json::from_str(&row)
                .map_err(|e| storage("a stored audit row is unreadable", e))?;
            out.push(IndexedRow { row, ids });
        }
        // A row naming `id` under two kinds was joined twice; seq order without a sort
        // in the statement (the read pool's `enable_sort = off` would walk the table).
        out.sort_by_key(|r| r.row.seq);
        out.dedup_by_key(|r| r.row.seq);
        let rest = HistoryFilter {
            milestone: None,
            ..filter.clone()
        };
        out.extend(
            pending
                .into_iter()
                .flat_map(|p| p.rows)
                .filter(|r| rest.matches(&r.row)),
        );
        Ok(out
            .into_iter()
            .filter_map(|r| {
                let kinds = kinds_in(&r.ids, id);
                (!kinds.is_empty()).then_some((r.row, kinds))
            })
            .collect())
    }

    /// For every decision defined in the first `upto` events, since when it has its
    /// current design there ([`Since`]): its last `AuthorityTransferred`, or its
    /// `DecisionDefined`.
    pub async fn authority_since(
        &self,
        ledger: &str,
        upto: u64,
    ) -> Result<BTreeMap<String, Since>> {
        let sql = "SELECT milestones, row FROM waymark_history WHERE ledger = $1
              AND event_type IN ('DecisionDefined', 'AuthorityTransferred')
              AND seq <= $2";
        let pending = self.pending(ledger);
        let hi = pending.as_ref().map_or(upto, |p| upto.min(p.stored_upto));
        let stored: Vec<(String, String)> = on_pool!(&self.db, p => sqlx::query_as(sql)
            .bind(ledger)
            .bind(Seq(hi).to_sql())
            .fetch_all(p).await)
        .map_err(|e| storage("reading the audit trail", e))?;
        let mut rows = Vec::with_capacity(stored.len());
        for (ids, row) in stored {
            let row: HistoryRow = serde_json::from_str(&row)
                .map_err(|e| storage("a stored audit row is unreadable", e))?;
            rows.push(IndexedRow { row, ids });
        }
        // Two ranges of the type index, put in seq order here: an `ORDER BY seq` is a
        // sort, which the read pool's `enable_sort = off` turns into a walk of every row.
        rows.sort_by_key(|r| r.row.seq);
        rows.extend(
            pending
                .into_iter()
                .flat_map(|p| p.rows)
                .filter(|r| r.row.seq <= upto),
        );
        Ok(rows.iter().filter_map(since_of_row).collect())
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
        let (mut sql, binds, seq) = history_where(filter);
        let n = binds.len();
        sql += &format!(
            " AND {seq} < ${} ORDER BY {seq} DESC LIMIT ${}",
            n + 2,
            n + 3
        );
        let before = Seq(before).to_sql();
        let rows: Vec<String> = on_pool!(&self.db, p => bind_all!(
                sqlx::query_scalar(&sql).bind(ledger), &binds)
            .bind(before)
            .bind(Seq::from_cqrs(limit).to_sql())
            .fetch_all(p).await)
        .map_err(|e| storage("reading the audit trail", e))?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(r).map_err(|e| storage("a stored audit row is unreadable", e))
            })
            .collect()
    }

    pub(super) async fn checkpoint(&self, ledger: &str, seq: u64) -> Result<Option<StatusFold>> {
        let sql = "SELECT fold FROM waymark_status_checkpoints WHERE ledger = $1 AND seq = $2";
        let cp: Option<String> = on_pool!(&self.db, p => sqlx::query_scalar(sql)
            .bind(ledger).bind(Seq(seq).to_sql()).fetch_optional(p).await)
        .map_err(|e| storage("reading a status checkpoint", e))?;
        // An unreadable checkpoint is a difference, not an error: rebuild replaces it.
        Ok(cp.and_then(|t| serde_json::from_str(&t).ok()))
    }
}
