//! The review as data: checks that the inputs are one season, then folds its events into
//! a [`SeasonReview`].

use super::authority::{
    governance_change, DecisionAuthority, GovernanceChange, HypothesisConclusion,
    HypothesisStatement, Transfer,
};
use crate::diff::Change;
use crate::history::HistoryRow;
use crate::status::{AsOf, LayerStatus, MilestoneStatus, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use waymark_events::{Assessment, Event, Hash, Payload, SeasonReEvaluated};

/// Achieved and total milestones of one phase of a layer, at the season's start and end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseDelta {
    pub phase: String,
    pub achieved: Change<u64>,
    pub total: Change<u64>,
}

/// One layer at the season's start and end (`from` = `to` when unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerDelta {
    pub id: String,
    pub title: String,
    pub phase: Change<String>,
    pub progress: Vec<PhaseDelta>,
}

/// A `MilestoneStatusChanged` to `achieved` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Achievement {
    pub id: String,
    pub title: String,
    pub seq: u64,
    pub actor: String,
    pub reason: String,
    pub evidence: Vec<String>,
}

/// A `MilestoneStatusChanged` away from `achieved` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Regression {
    pub id: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub actor: String,
    pub seq: u64,
}

/// A `PhaseTransitioned` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseTransition {
    pub layer: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub actor: String,
    pub seq: u64,
}

/// One focus milestone: its status when the season opened and at its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FocusDelivery {
    pub id: String,
    pub title: String,
    pub status_at_start: Option<String>,
    pub status_at_end: Option<String>,
    pub achieved: bool,
    /// The `SeasonReEvaluated` notes on this milestone, joined with `; `.
    pub assessment: Option<String>,
}

/// A focus milestone not achieved at the end, with what still blocks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StillOpen {
    pub id: String,
    pub title: String,
    pub status: String,
    pub blocked_by: Vec<String>,
}

/// A `MilestoneRevised` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub id: String,
    pub fields: Vec<String>,
    pub reason: String,
    pub actor: String,
    pub seq: u64,
}

/// A `MilestoneRetired` (`kind` "milestone") or `ActorRetired` (`kind` "actor").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retirement {
    pub kind: String,
    pub id: String,
    pub reason: String,
    pub actor: String,
    pub seq: u64,
}

/// A `MilestoneDefined` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMilestone {
    pub id: String,
    pub title: String,
    pub layer: String,
    pub phase: String,
    pub depends_on: Vec<String>,
    pub actor: String,
    pub seq: u64,
}

/// What one actor signed during the season. `name` and `roles` are as of its last event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorActivity {
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
    pub events: u64,
    pub by_type: BTreeMap<String, u64>,
}

/// The end-of-Season review. See [`review`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonReview {
    pub ledger: String,
    pub season: i64,
    /// `open` (no `SeasonReEvaluated` yet: the review runs to the head) or `closed`.
    pub state: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub intent: String,
    pub focus: Vec<String>,
    /// The `SeasonOpened` event.
    pub start: AsOf,
    /// The `SeasonReEvaluated` event, or the head while the season is open.
    pub end: AsOf,
    pub overall_phase: Change<Option<String>>,
    pub layers: Vec<LayerDelta>,
    pub achieved: Vec<Achievement>,
    pub regressions: Vec<Regression>,
    /// Every `MilestoneStatusChanged` of the season, in seq order.
    pub status_changes: Vec<HistoryRow>,
    pub phase_transitions: Vec<PhaseTransition>,
    pub focus_delivery: Vec<FocusDelivery>,
    pub still_open: Vec<StillOpen>,
    pub revisions: Vec<Revision>,
    pub retirements: Vec<Retirement>,
    pub new_milestones: Vec<NewMilestone>,
    pub assessments: Vec<Assessment>,
    pub summary: Option<String>,
    /// Sorted by number of events, most first, then by id.
    pub actors: Vec<ActorActivity>,
    /// Present only when the season recorded an event of section 13 (bodies, decisions,
    /// transfers, hypotheses), so that other reviews keep their exact bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_authority: Option<DecisionAuthority>,
}

/// Why the inputs do not describe one season.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewError {
    NoEvents,
    /// The first event is not the `SeasonOpened` of the season asked for.
    NotSeasonStart {
        season: i64,
        seq: u64,
    },
    /// Another season opens or closes inside the range (only the last event may close it).
    SeasonBoundary {
        seq: u64,
    },
    /// The events are not consecutive.
    Gap {
        expected: u64,
        found: u64,
    },
    /// `rows` are not the rows of exactly these events.
    RowsMismatch {
        index: usize,
    },
    /// `start` or `end` was not computed at the first or last event.
    StatusMismatch {
        which: &'static str,
        seq: u64,
    },
}

impl fmt::Display for ReviewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReviewError::NoEvents => write!(f, "no events to review"),
            ReviewError::NotSeasonStart { season, seq } => write!(
                f,
                "event seq {seq} is not the SeasonOpened of season {season}"
            ),
            ReviewError::SeasonBoundary { seq } => write!(
                f,
                "event seq {seq} opens or closes a season inside the reviewed range"
            ),
            ReviewError::Gap { expected, found } => {
                write!(
                    f,
                    "events are not consecutive: expected seq {expected}, found {found}"
                )
            }
            ReviewError::RowsMismatch { index } => write!(
                f,
                "history row {index} does not belong to event {index} of the range"
            ),
            ReviewError::StatusMismatch { which, seq } => {
                write!(f, "the {which} status is not the status at event seq {seq}")
            }
        }
    }
}

impl std::error::Error for ReviewError {}

fn layer_deltas(start: &Status, end: &Status) -> Vec<LayerDelta> {
    let find = |s: &Status, id: &str| -> Option<LayerStatus> {
        s.layers.iter().find(|l| l.id == id).cloned()
    };
    let mut ids: Vec<&str> = end.layers.iter().map(|l| l.id.as_str()).collect();
    ids.extend(
        start
            .layers
            .iter()
            .map(|l| l.id.as_str())
            .filter(|id| end.layers.iter().all(|l| l.id != *id)),
    );
    ids.into_iter()
        .map(|id| {
            let (a, b) = (find(start, id), find(end, id));
            let title = b.as_ref().or(a.as_ref()).map(|l| l.title.clone());
            let mut phases: Vec<String> = Vec::new();
            for l in [&b, &a].into_iter().flatten() {
                for p in &l.progress {
                    if !phases.contains(&p.phase) {
                        phases.push(p.phase.clone());
                    }
                }
            }
            let counts = |l: &Option<LayerStatus>, ph: &str| {
                l.as_ref()
                    .and_then(|l| l.progress.iter().find(|p| p.phase == ph))
                    .map_or((0, 0), |p| (p.achieved, p.total))
            };
            let progress = phases
                .into_iter()
                .map(|ph| {
                    let ((fa, ft), (ta, tt)) = (counts(&a, &ph), counts(&b, &ph));
                    PhaseDelta {
                        phase: ph,
                        achieved: Change { from: fa, to: ta },
                        total: Change { from: ft, to: tt },
                    }
                })
                .collect();
            let phase_of =
                |l: &Option<LayerStatus>| l.as_ref().map(|l| l.phase.clone()).unwrap_or_default();
            LayerDelta {
                id: id.to_string(),
                title: title.unwrap_or_default(),
                phase: Change {
                    from: phase_of(&a),
                    to: phase_of(&b),
                },
                progress,
            }
        })
        .collect()
}

fn check_status(which: &'static str, s: &Status, seq: u64, hash: &Hash) -> Result<(), ReviewError> {
    match &s.as_of {
        Some(a) if a.seq == seq && a.hash == *hash => Ok(()),
        _ => Err(ReviewError::StatusMismatch { which, seq }),
    }
}

/// Reviews season `season`. `start` is the status right after its `SeasonOpened`, `end`
/// the status after its `SeasonReEvaluated` (or at the head while it is open), `events`
/// the events from that `SeasonOpened` through the end inclusive, with their hashes, and
/// `rows` the history rows of exactly those events. Signatures are not checked here.
///
/// [`ReviewFold`] computes the same review a page of events at a time.
pub fn review(
    season: i64,
    start: &Status,
    end: &Status,
    events: &[(Event, Hash)],
    rows: &[HistoryRow],
) -> Result<SeasonReview, ReviewError> {
    let mut fold = ReviewFold::new(season, start, end);
    fold.keep_changes = true;
    fold.push(events, rows)?;
    Ok(fold.finish()?.review)
}

/// A milestone's title at the season's end (empty for one not defined by then).
fn title_in(end_m: &BTreeMap<&str, &MilestoneStatus>, id: &str) -> String {
    end_m.get(id).map_or_else(String::new, |m| m.title.clone())
}

/// What the season's first event gave: where it starts, and its `SeasonOpened`.
struct Opening {
    at: AsOf,
    starts_on: String,
    intent: String,
    focus: Vec<String>,
}

/// [`review`] a page of events at a time, in memory bounded by the number of actors and
/// of the season's events other than status changes: each `MilestoneStatusChanged` is
/// counted (and folded into achievements and regressions), not kept. Feed it the
/// season's events and their history rows in seq order with [`ReviewFold::push`], in
/// pages of any size, then [`ReviewFold::finish`]; a page fails with the error
/// [`review`] gives for the same fault.
pub struct ReviewFold<'a> {
    season: i64,
    start: &'a Status,
    end: &'a Status,
    end_m: BTreeMap<&'a str, &'a MilestoneStatus>,
    /// [`review`] keeps every status change's row in `SeasonReview::status_changes`.
    keep_changes: bool,
    opening: Option<Opening>,
    /// The last event pushed.
    last: Option<AsOf>,
    /// The `SeasonReEvaluated` seen, which must be the last event.
    closed: Option<(u64, SeasonReEvaluated)>,
    changes: u64,
    r: Lists,
    authority: Lists13,
    section_13: bool,
    actors: BTreeMap<String, ActorActivity>,
}

/// The season's lists but the status changes, in seq order.
#[derive(Default)]
struct Lists {
    achieved: Vec<Achievement>,
    regressions: Vec<Regression>,
    status_changes: Vec<HistoryRow>,
    phase_transitions: Vec<PhaseTransition>,
    revisions: Vec<Revision>,
    retirements: Vec<Retirement>,
    new_milestones: Vec<NewMilestone>,
}

/// Section 13's lists, in seq order.
#[derive(Default)]
struct Lists13 {
    transfers: Vec<Transfer>,
    hypotheses_stated: Vec<HypothesisStatement>,
    hypotheses_concluded: Vec<HypothesisConclusion>,
    changes: Vec<GovernanceChange>,
}

/// A review folded by [`ReviewFold`]: everything but the rows of its status changes,
/// which are only counted, and which [`crate::ReviewFrame`] renders around.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldedReview {
    /// `status_changes` is empty unless the fold was [`review`]'s.
    pub review: SeasonReview,
    /// How many `MilestoneStatusChanged` the season has.
    pub status_changes: u64,
}

impl<'a> ReviewFold<'a> {
    /// A fold of season `season` between the statuses `start` and `end` (as [`review`]).
    pub fn new(season: i64, start: &'a Status, end: &'a Status) -> Self {
        ReviewFold {
            season,
            start,
            end,
            end_m: end.milestones.iter().map(|m| (m.id.as_str(), m)).collect(),
            keep_changes: false,
            opening: None,
            last: None,
            closed: None,
            changes: 0,
            r: Lists::default(),
            authority: Lists13::default(),
            section_13: false,
            actors: BTreeMap::new(),
        }
    }

    /// How many events were pushed.
    fn pushed(&self) -> usize {
        match (&self.opening, &self.last) {
            (Some(o), Some(l)) => usize::try_from(l.seq + 1 - o.at.seq).unwrap_or(usize::MAX),
            _ => 0,
        }
    }

    /// The next events of the season, in seq order, and the history rows of exactly
    /// those events.
    pub fn push(
        &mut self,
        events: &[(Event, Hash)],
        rows: &[HistoryRow],
    ) -> Result<(), ReviewError> {
        let Some((first, first_hash)) = events.first() else {
            return match rows.is_empty() {
                true => Ok(()),
                false => Err(ReviewError::RowsMismatch {
                    index: self.pushed(),
                }),
            };
        };
        // The events pushed before these, and the seq these must start at.
        let (before, mut expected) = match &self.last {
            None => {
                let opened = match &first.statement.payload {
                    Payload::SeasonOpened(p) if p.season == self.season => p,
                    _ => {
                        return Err(ReviewError::NotSeasonStart {
                            season: self.season,
                            seq: first.seq,
                        })
                    }
                };
                self.opening = Some(Opening {
                    at: AsOf {
                        seq: first.seq,
                        hash: *first_hash,
                        recorded_at: first.recorded_at.clone(),
                    },
                    starts_on: opened.starts_on.clone(),
                    intent: opened.intent.clone(),
                    focus: opened.focus.clone(),
                });
                (0, first.seq)
            }
            Some(last) => {
                // Only the last event may close the season.
                if let Some((seq, _)) = &self.closed {
                    return Err(ReviewError::SeasonBoundary { seq: *seq });
                }
                (self.pushed(), last.seq + 1)
            }
        };
        for (i, (e, _)) in events.iter().enumerate() {
            if e.seq != expected {
                return Err(ReviewError::Gap {
                    expected,
                    found: e.seq,
                });
            }
            expected += 1;
            let boundary = match &e.statement.payload {
                Payload::SeasonOpened(_) => before + i > 0,
                Payload::SeasonReEvaluated(p) => i + 1 < events.len() || p.season != self.season,
                _ => false,
            };
            if boundary {
                return Err(ReviewError::SeasonBoundary { seq: e.seq });
            }
        }
        let index = |i: usize| before.saturating_add(i);
        if rows.len() != events.len() {
            return Err(ReviewError::RowsMismatch {
                index: index(rows.len().min(events.len())),
            });
        }
        if let Some(i) = rows
            .iter()
            .zip(events)
            .position(|(r, (e, h))| r.seq != e.seq || r.hash != *h)
        {
            return Err(ReviewError::RowsMismatch { index: index(i) });
        }
        for ((e, _), row) in events.iter().zip(rows) {
            self.event(e, row);
        }
        if let Some((e, h)) = events.last() {
            self.last = Some(AsOf {
                seq: e.seq,
                hash: *h,
                recorded_at: e.recorded_at.clone(),
            });
            if let Payload::SeasonReEvaluated(p) = &e.statement.payload {
                self.closed = Some((e.seq, p.clone()));
            }
        }
        Ok(())
    }

    /// Folds one event (checked to be the next one) and its row.
    fn event(&mut self, e: &Event, row: &HistoryRow) {
        let actor = e.statement.actor.clone();
        let seq = e.seq;
        let r = &mut self.r;
        match &e.statement.payload {
            Payload::MilestoneStatusChanged(p) => {
                if p.to == "achieved" {
                    r.achieved.push(Achievement {
                        id: p.id.clone(),
                        title: title_in(&self.end_m, &p.id),
                        seq,
                        actor: actor.clone(),
                        reason: p.reason.clone(),
                        evidence: p.evidence.clone(),
                    });
                }
                if p.from == "achieved" {
                    r.regressions.push(Regression {
                        id: p.id.clone(),
                        from: p.from.clone(),
                        to: p.to.clone(),
                        reason: p.reason.clone(),
                        actor: actor.clone(),
                        seq,
                    });
                }
                self.changes += 1;
                if self.keep_changes {
                    r.status_changes.push(row.clone());
                }
            }
            Payload::PhaseTransitioned(p) => r.phase_transitions.push(PhaseTransition {
                layer: p.layer.clone(),
                from: p.from.clone(),
                to: p.to.clone(),
                reason: p.reason.clone(),
                actor: actor.clone(),
                seq,
            }),
            Payload::MilestoneRevised(p) => r.revisions.push(Revision {
                id: p.id.clone(),
                fields: p.revised_fields().into_iter().map(String::from).collect(),
                reason: p.reason.clone(),
                actor: actor.clone(),
                seq,
            }),
            Payload::MilestoneRetired(p) => r.retirements.push(Retirement {
                kind: "milestone".into(),
                id: p.id.clone(),
                reason: p.reason.clone(),
                actor: actor.clone(),
                seq,
            }),
            Payload::ActorRetired(p) => r.retirements.push(Retirement {
                kind: "actor".into(),
                id: p.actor.clone(),
                reason: p.reason.clone(),
                actor: actor.clone(),
                seq,
            }),
            Payload::MilestoneDefined(p) => r.new_milestones.push(NewMilestone {
                id: p.id.clone(),
                title: p.title.clone(),
                layer: p.layer.clone(),
                phase: p.phase.clone(),
                depends_on: p.depends_on.clone(),
                actor: actor.clone(),
                seq,
            }),
            _ => {}
        }
        let authority = &mut self.authority;
        if let Some(c) = governance_change(&e.statement.payload, &actor, seq) {
            authority.changes.push(c);
        }
        match &e.statement.payload {
            Payload::AuthorityTransferred(p) => authority.transfers.push(Transfer {
                decision: p.decision.clone(),
                title: self
                    .end
                    .decisions
                    .iter()
                    .flatten()
                    .find(|d| d.id == p.decision)
                    .map_or_else(|| p.decision.clone(), |d| d.title.clone()),
                effective_on: p.effective_on.clone(),
                from: p.from.clone(),
                to: p.to.clone(),
                reason: p.reason.clone(),
                evidence: p.evidence.clone(),
                actor: actor.clone(),
                seq,
            }),
            Payload::HypothesisStated(p) => {
                authority.hypotheses_stated.push(HypothesisStatement {
                    decision: p.decision.clone(),
                    id: p.id.clone(),
                    statement: p.statement.clone(),
                    measure: p.measure.clone(),
                    actor: actor.clone(),
                    seq,
                });
            }
            Payload::HypothesisConcluded(p) => {
                authority.hypotheses_concluded.push(HypothesisConclusion {
                    decision: p.decision.clone(),
                    id: p.id.clone(),
                    outcome: p.outcome.clone(),
                    note: p.note.clone(),
                    evidence: p.evidence.clone(),
                    actor: actor.clone(),
                    seq,
                });
            }
            _ => {}
        }
        // Every type of section 13 names a decision or a body.
        self.section_13 |=
            e.statement.payload.decision_id().is_some() || e.statement.payload.body_id().is_some();
        let a = self
            .actors
            .entry(actor)
            .or_insert_with_key(|id| ActorActivity {
                id: id.clone(),
                name: String::new(),
                roles: Vec::new(),
                events: 0,
                by_type: BTreeMap::new(),
            });
        a.name.clone_from(&row.actor_name);
        a.roles.clone_from(&row.actor_roles);
        a.events += 1;
        *a.by_type
            .entry(e.statement.event_type().as_str().to_string())
            .or_default() += 1;
    }

    /// The review of the events pushed, which must run from the season's `SeasonOpened`
    /// to the event of the `end` status.
    pub fn finish(self) -> Result<FoldedReview, ReviewError> {
        let (Some(opening), Some(last)) = (self.opening, self.last) else {
            return Err(ReviewError::NoEvents);
        };
        let (start, end) = (self.start, self.end);
        check_status("start", start, opening.at.seq, &opening.at.hash)?;
        check_status("end", end, last.seq, &last.hash)?;
        let start_m: BTreeMap<&str, &MilestoneStatus> = start
            .milestones
            .iter()
            .map(|m| (m.id.as_str(), m))
            .collect();
        let title = |id: &str| title_in(&self.end_m, id);
        let closed = self.closed.map(|(_, c)| c);
        let mut actors: Vec<ActorActivity> = self.actors.into_values().collect();
        actors.sort_by(|a, b| b.events.cmp(&a.events).then_with(|| a.id.cmp(&b.id)));
        let assessments = closed
            .as_ref()
            .map(|c| c.assessments.clone())
            .unwrap_or_default();
        let (mut focus_delivery, mut still_open) = (Vec::new(), Vec::new());
        for id in &opening.focus {
            let at_end = self.end_m.get(id.as_str());
            let notes: Vec<&str> = assessments
                .iter()
                .filter(|a| &a.milestone == id)
                .map(|a| a.note.as_str())
                .collect();
            let achieved = at_end.is_some_and(|m| m.status == "achieved");
            focus_delivery.push(FocusDelivery {
                id: id.clone(),
                title: title(id),
                status_at_start: start_m.get(id.as_str()).map(|m| m.status.clone()),
                status_at_end: at_end.map(|m| m.status.clone()),
                achieved,
                assessment: (!notes.is_empty()).then(|| notes.join("; ")),
            });
            if !achieved {
                still_open.push(StillOpen {
                    id: id.clone(),
                    title: title(id),
                    status: at_end.map_or_else(String::new, |m| m.status.clone()),
                    blocked_by: at_end.map(|m| m.blocked_by.clone()).unwrap_or_default(),
                });
            }
        }
        let a = self.authority;
        let review = SeasonReview {
            ledger: end.ledger.clone(),
            season: self.season,
            state: if closed.is_some() { "closed" } else { "open" }.into(),
            starts_on: opening.starts_on,
            ends_on: closed.as_ref().map(|c| c.ends_on.clone()),
            intent: opening.intent,
            focus: opening.focus,
            start: opening.at,
            end: last,
            overall_phase: Change {
                from: start.overall_phase.clone(),
                to: end.overall_phase.clone(),
            },
            layers: layer_deltas(start, end),
            achieved: self.r.achieved,
            regressions: self.r.regressions,
            status_changes: self.r.status_changes,
            phase_transitions: self.r.phase_transitions,
            focus_delivery,
            still_open,
            revisions: self.r.revisions,
            retirements: self.r.retirements,
            new_milestones: self.r.new_milestones,
            assessments,
            summary: closed.map(|c| c.summary),
            actors,
            decision_authority: self.section_13.then_some(DecisionAuthority {
                authority: Change {
                    from: start.authority,
                    to: end.authority,
                },
                transfers: a.transfers,
                hypotheses_stated: a.hypotheses_stated,
                hypotheses_concluded: a.hypotheses_concluded,
                changes: a.changes,
            }),
        };
        Ok(FoldedReview {
            review,
            status_changes: self.changes,
        })
    }
}
