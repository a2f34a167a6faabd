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

/// `SELECT row FROM waymark_history WHERE ledger = $1 AND …` with a condition for each
/// filter `filter` sets and none for the others, and the values of `$2…` in order
/// (the caller's own bounds follow them). Each combination of filters is its own
/// statement, so its plan can seek the index of the filter it has (actor, type,
/// season), where `($2 IS NULL OR actor = $2)` had one generic plan for all of them.
fn history_where(filter: &HistoryFilter) -> (String, Vec<Bind>) {
    let mut sql = String::from("SELECT row FROM waymark_history WHERE ledger = $1");
    let mut binds = Vec::new();
    let mut add = |cond: &str, b: Bind| {
        binds.push(b);
        sql += &cond.replace('?', &format!("${}", binds.len() + 1));
    };
    if let Some(a) = &filter.actor {
        add(" AND actor = ?", Bind::Text(a.clone()));
    }
    if let Some(t) = &filter.event_type {
        add(" AND event_type = ?", Bind::Text(t.clone()));
    }
    if let Some(s) = filter.season {
        add(" AND season = ?", Bind::Int(s));
    }
    if let Some(m) = &filter.milestone {
        add(
            " AND milestones LIKE '%,' || ? || ',%' ESCAPE '!'",
            Bind::Text(like_escape(m)),
        );
    }
    (sql, binds)
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
    /// The status fold after exactly `n` events, from the nearest checkpoint.
    pub async fn status_fold_at(&self, ledger: &str, n: u64) -> Result<StatusFold> {
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
                    .filter(|r| r.row.season == Some(season))
                    .map(|r| (Seq(r.row.seq).to_sql(), r.row.event_type.clone())),
            );
        }
        let opened = rows
            .iter()
            .find(|r| r.1 == "SeasonOpened")
            .map(|r| Seq::from_sql(r.0).get());
        let closed = rows
            .iter()
            .find(|r| r.1 == "SeasonReEvaluated")
            .map(|r| Seq::from_sql(r.0).get());
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
        let (mut sql, binds) = history_where(filter);
        let n = binds.len();
        sql += &format!(" AND seq >= ${} AND seq <= ${} ORDER BY seq", n + 2, n + 3);
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
        let sql = "SELECT milestones, row FROM waymark_history WHERE ledger = $1
              AND ($2 IS NULL OR actor = $2)
              AND ($3 IS NULL OR event_type = $3)
              AND ($4 IS NULL OR season = $4)
              AND (milestones LIKE '%,' || $5 || ',%' ESCAPE '!'
                OR milestones LIKE '%,decision:' || $5 || ',%' ESCAPE '!'
                OR milestones LIKE '%,body:' || $5 || ',%' ESCAPE '!')
              AND seq <= $6 ORDER BY seq";
        let pending = self.pending(ledger);
        let hi = pending
            .as_ref()
            .map_or(i64::MAX, |p| Seq(p.stored_upto).to_sql());
        let stored: Vec<(String, String)> = on_pool!(&self.db, p => sqlx::query_as(sql)
            .bind(ledger)
            .bind(filter.actor.as_deref())
            .bind(filter.event_type.as_deref())
            .bind(filter.season)
            .bind(like_escape(id))
            .bind(hi)
            .fetch_all(p).await)
        .map_err(|e| storage("reading the audit trail", e))?;
        let mut out = Vec::with_capacity(stored.len());
        for (ids, row) in stored {
            let row: HistoryRow = serde_json::from_str(&row)
                .map_err(|e| storage("a stored audit row is unreadable", e))?;
            out.push(IndexedRow { row, ids });
        }
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
              AND seq <= $2 ORDER BY seq";
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
        let (mut sql, binds) = history_where(filter);
        let n = binds.len();
        sql += &format!(" AND seq < ${} ORDER BY seq DESC LIMIT ${}", n + 2, n + 3);
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
