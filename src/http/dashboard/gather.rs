//! What one page shows, read from the service: the status at the page's point, each
//! Season's status at its end, one page of the audit log and the latest checkpoint.

use super::AUDIT_PAGE;
use crate::http::{ApiError, HistoryQuery};
use crate::service::{AsOf, Waymark};
use waymark_projections::{HistoryRow, Status};

/// One Season as the timeline and the chart show it: its state at its end (or now).
#[derive(Debug, Clone)]
pub struct SeasonEnd {
    pub number: i64,
    pub opened_seq: u64,
    pub end_seq: u64,
    pub status: Status,
}

/// Everything one page shows.
pub struct Page {
    pub id: String,
    pub title: String,
    pub log_key: String,
    pub head_seq: u64,
    /// The as-of point asked for (`None`: the head).
    pub point: Option<String>,
    pub status: Status,
    pub seasons: Vec<SeasonEnd>,
    /// One page of the audit log, newest first.
    pub rows: Vec<HistoryRow>,
    /// The `before=` of the next (older) page, when there is one.
    pub older: Option<u64>,
    pub filter: HistoryQuery,
    /// Whether the audit log is filterable (the server) or complete (the site).
    pub filters: bool,
    pub checkpoint: LatestCheckpoint,
    /// The latest checkpoint witnesses cosigned (`publish --witness`), if any.
    pub witnessed: Option<crate::service::WitnessedView>,
    /// Every Season the ledger has opened (the as-of selector moves back and forward).
    pub all_seasons: Vec<i64>,
    /// Every actor in the audit trail (the audit log's filter).
    pub all_actors: Vec<String>,
}

/// Reads what a page of ledger `id` at `point` shows.
pub async fn gather(
    waymark: &Waymark,
    keys: &crate::files::KeyStore,
    id: &str,
    point: Option<&str>,
    filter: HistoryQuery,
    filters: bool,
) -> Result<Page, ApiError> {
    let state = waymark.state(id).await?;
    let head_seq = state.head.as_ref().map_or(0, |h| h.seq);
    let as_of = point.map(str::parse::<AsOf>).transpose()?;
    let status = waymark.status(id, as_of.as_ref()).await?;
    let at = status.as_of.as_ref().map_or(0, |a| a.seq);
    // Each Season's status at its end: the page's own status for the Season open at
    // the page's point, else the fold at its `SeasonReEvaluated` (a stored checkpoint
    // and at most 1,023 events on it, kept by the process once folded: a page reads
    // no Season's events again).
    let all = waymark.seasons(id).await?;
    let mut seasons = Vec::new();
    for &(number, opened_seq, closed) in all.iter().filter(|s| s.1 <= at) {
        let end_seq = closed.unwrap_or(head_seq).min(at);
        let status = if end_seq == at {
            status.clone()
        } else {
            waymark.status(id, Some(&AsOf::Seq(end_seq))).await?
        };
        seasons.push(SeasonEnd {
            number,
            opened_seq,
            end_seq,
            status,
        });
    }
    let all_seasons = all.iter().map(|s| s.0).collect();
    let all_actors = state.actors.keys().cloned().collect();
    let history = filter.filter()?;
    // One page, newest first, of the rows at or before the page's point.
    let before = filter.before.unwrap_or(u64::MAX).min(at + 1);
    let mut rows = waymark
        .history_page(id, &history, Some(before), AUDIT_PAGE + 1)
        .await?;
    let older = (rows.len() > AUDIT_PAGE).then(|| {
        rows.truncate(AUDIT_PAGE);
        rows.last().map_or(0, |r| r.seq)
    });
    let checkpoint = match keys.load(&keys.log_path(id)) {
        Ok(key) => match waymark.checkpoint(id, None, &key).await {
            Ok((_, note)) => LatestCheckpoint::Signed(note),
            Err(e) => LatestCheckpoint::Unavailable(e.to_string()),
        },
        Err(e) => {
            LatestCheckpoint::Unavailable(format!("no log key for {id:?} in this key store: {e}"))
        }
    };
    let witnessed = waymark.witnessed(id).await?;
    Ok(Page {
        witnessed,
        id: id.to_string(),
        title: state.title,
        log_key: state.log_key,
        head_seq,
        point: point.map(str::to_owned),
        status,
        seasons,
        rows,
        older,
        filter,
        filters,
        checkpoint,
        all_seasons,
        all_actors,
    })
}

/// The page's latest checkpoint: the signed note, or why there is none (shown as is).
#[derive(Debug, Clone)]
pub enum LatestCheckpoint {
    Signed(String),
    Unavailable(String),
}
