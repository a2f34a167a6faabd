//! What the "Who decides" page shows, read from the service: the status at the page's
//! point (its `bodies`, `decisions` and `authority`), and what the status does not
//! keep: each module's DDF profile and source, and every authority transfer with its
//! reason, evidence and Season.

use crate::http::ApiError;
use crate::service::{AsOf, Waymark};
use std::collections::BTreeMap;
use waymark_events::{Design, Payload, Profile};
use waymark_projections::{HistoryFilter, Status};

/// Everything the page shows.
pub struct DecisionsPage {
    pub id: String,
    pub title: String,
    pub head_seq: u64,
    /// The as-of point asked for (`None`: the head).
    pub point: Option<String>,
    pub status: Status,
    /// Every Season the ledger has opened (the as-of selector).
    pub all_seasons: Vec<i64>,
    /// Each module's facts that the status does not hold, by decision id.
    pub modules: BTreeMap<String, Module>,
    /// Every authority transfer at or before the point, in seq order.
    pub transfers: Vec<Transfer>,
    /// `(seq, number)` of each `SeasonOpened` at or before the point.
    pub opened: Vec<(u64, i64)>,
}

/// A decision module as defined and revised.
pub struct Module {
    /// The DDF profile (a revision's profile replaces the old one whole).
    pub profile: Profile,
    pub source: Option<String>,
    /// The `DecisionDefined`: seq and recorded_at.
    pub defined: (u64, String),
    /// The last transfer of this module (an index into `transfers`), if any.
    pub last_transfer: Option<usize>,
}

/// One `AuthorityTransferred`, with what its audit row adds (the Season, the signer).
pub struct Transfer {
    pub seq: u64,
    pub recorded_at: String,
    pub actor: String,
    /// The Season open when it was recorded.
    pub season: Option<i64>,
    pub decision: String,
    pub from: Design,
    pub to: Design,
    pub reason: String,
    pub evidence: Vec<String>,
    pub effective_on: String,
}

impl DecisionsPage {
    /// The module's last transfer, if any.
    pub fn last_transfer(&self, decision: &str) -> Option<&Transfer> {
        self.modules
            .get(decision)
            .and_then(|m| m.last_transfer)
            .and_then(|i| self.transfers.get(i))
    }
}

/// Reads what the "Who decides" page of ledger `id` at `point` shows.
pub async fn gather_decisions(
    waymark: &Waymark,
    id: &str,
    point: Option<&str>,
) -> Result<DecisionsPage, ApiError> {
    let state = waymark.state(id).await?;
    let head_seq = state.head.as_ref().map_or(0, |h| h.seq);
    let as_of = point.map(str::parse::<AsOf>).transpose()?;
    let status = waymark.status(id, as_of.as_ref()).await?;
    let at = status.as_of.as_ref().map_or(0, |a| a.seq);
    let opened = HistoryFilter {
        event_type: Some("SeasonOpened".into()),
        ..Default::default()
    };
    let opened = waymark.history(id, &opened).await?;
    let all_seasons = opened.iter().filter_map(|r| r.season).collect();
    let opened = opened
        .iter()
        .filter(|r| r.seq <= at)
        .filter_map(|r| r.season.map(|s| (r.seq, s)))
        .collect();
    let mut modules = BTreeMap::new();
    let mut transfers = Vec::new();
    for (row, event) in waymark.design_events(id, at).await? {
        match &event.statement.payload {
            Payload::DecisionDefined(p) => {
                modules.insert(
                    p.id.clone(),
                    Module {
                        profile: p.profile.clone(),
                        source: p.source.clone(),
                        defined: (row.seq, row.recorded_at.clone()),
                        last_transfer: None,
                    },
                );
            }
            Payload::DecisionRevised(p) => {
                if let (Some(m), Some(profile)) = (modules.get_mut(&p.id), &p.profile) {
                    m.profile = profile.clone();
                }
            }
            Payload::AuthorityTransferred(p) => {
                if let Some(m) = modules.get_mut(&p.decision) {
                    m.last_transfer = Some(transfers.len());
                }
                transfers.push(Transfer {
                    seq: row.seq,
                    recorded_at: row.recorded_at.clone(),
                    actor: row.actor.clone(),
                    season: row.season,
                    decision: p.decision.clone(),
                    from: p.from.clone(),
                    to: p.to.clone(),
                    reason: p.reason.clone(),
                    evidence: p.evidence.clone(),
                    effective_on: p.effective_on.clone(),
                });
            }
            _ => {}
        }
    }
    Ok(DecisionsPage {
        id: id.to_string(),
        title: state.title,
        head_seq,
        point: point.map(str::to_owned),
        status,
        all_seasons,
        modules,
        transfers,
        opened,
    })
}
