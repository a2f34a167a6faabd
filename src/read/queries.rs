//! What the read models answer: status as of a point, seasons, times, the audit trail.

use super::*;
use crate::storage::Seq;
use waymark_projections::HistoryFilter;

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
                    .filter(|r| r.season == Some(season))
                    .map(|r| (Seq(r.seq).to_sql(), r.event_type.clone())),
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
                .find(|r| r.recorded_at.as_str() <= time)
                .map(|r| r.seq)
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
        // Every filter is bound; an absent one is NULL and matches everything.
        let sql = concat!(
            history_where!(),
            " AND seq >= $6 AND seq <= $7 ORDER BY seq"
        );
        let milestone = filter.milestone.as_ref().map(|m| like_escape(m));
        let (lo, hi) = range.unwrap_or((1, Seq::from_sql(i64::MAX).get()));
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
        let before = Seq(before).to_sql();
        let rows: Vec<String> = on_pool!(&self.db, p => sqlx::query_scalar(sql)
            .bind(ledger)
            .bind(filter.actor.as_deref())
            .bind(filter.event_type.as_deref())
            .bind(filter.season)
            .bind(milestone.as_deref())
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
