//! The review as data: checks that the inputs are one season, then folds its events into
//! a [`SeasonReview`].

use crate::diff::Change;
use crate::history::HistoryRow;
use crate::status::{AsOf, Authority, LayerStatus, MilestoneStatus, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use waymark_events::{Assessment, Design, Event, Hash, Payload};

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

/// An `AuthorityTransferred` during the season: who decided the module before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub decision: String,
    /// The module's title at the season's end.
    pub title: String,
    pub effective_on: String,
    pub from: Design,
    pub to: Design,
    pub reason: String,
    pub evidence: Vec<String>,
    pub actor: String,
    pub seq: u64,
}

/// A `HypothesisStated` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HypothesisStatement {
    pub decision: String,
    pub id: String,
    pub statement: String,
    pub measure: String,
    pub actor: String,
    pub seq: u64,
}

/// A `HypothesisConcluded` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HypothesisConclusion {
    pub decision: String,
    pub id: String,
    pub outcome: String,
    pub note: String,
    pub evidence: Vec<String>,
    pub actor: String,
    pub seq: u64,
}

/// A body or decision module defined, revised or retired during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernanceChange {
    /// `body` or `decision`.
    pub subject: String,
    /// `defined`, `revised` or `retired`.
    pub change: String,
    pub id: String,
    /// The title defined, or given by the revision (empty when it keeps the old one).
    pub title: String,
    /// A defined body's kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A defined module's layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// A revision's fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// A revision's or retirement's reason (empty for a definition).
    pub reason: String,
    /// A defined module's current design.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Design>,
    /// The target a module is defined or revised with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Design>,
    pub actor: String,
    pub seq: u64,
}

/// Section 13 during the season: the counts at its start and end, every authority
/// transfer, hypothesis stated and concluded, and body or module defined, revised or
/// retired, each in seq order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionAuthority {
    /// `null` on a side where no body or decision is defined yet.
    pub authority: Change<Option<Authority>>,
    pub transfers: Vec<Transfer>,
    pub hypotheses_stated: Vec<HypothesisStatement>,
    pub hypotheses_concluded: Vec<HypothesisConclusion>,
    pub changes: Vec<GovernanceChange>,
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
pub fn review(
    season: i64,
    start: &Status,
    end: &Status,
    events: &[(Event, Hash)],
    rows: &[HistoryRow],
) -> Result<SeasonReview, ReviewError> {
    let ((first, first_hash), (last, last_hash)) = match (events.first(), events.last()) {
        (Some(f), Some(l)) => (f, l),
        _ => return Err(ReviewError::NoEvents),
    };
    let opened = match &first.statement.payload {
        Payload::SeasonOpened(p) if p.season == season => p,
        _ => {
            return Err(ReviewError::NotSeasonStart {
                season,
                seq: first.seq,
            })
        }
    };
    for (i, (e, _)) in events.iter().enumerate() {
        let expected = first.seq + i as u64;
        if e.seq != expected {
            return Err(ReviewError::Gap {
                expected,
                found: e.seq,
            });
        }
        let boundary = match &e.statement.payload {
            Payload::SeasonOpened(_) => i > 0,
            Payload::SeasonReEvaluated(p) => i + 1 < events.len() || p.season != season,
            _ => false,
        };
        if boundary {
            return Err(ReviewError::SeasonBoundary { seq: e.seq });
        }
    }
    if rows.len() != events.len() {
        return Err(ReviewError::RowsMismatch {
            index: rows.len().min(events.len()),
        });
    }
    if let Some(index) = rows
        .iter()
        .zip(events)
        .position(|(r, (e, h))| r.seq != e.seq || r.hash != *h)
    {
        return Err(ReviewError::RowsMismatch { index });
    }
    check_status("start", start, first.seq, first_hash)?;
    check_status("end", end, last.seq, last_hash)?;

    let closed = match &last.statement.payload {
        Payload::SeasonReEvaluated(p) => Some(p),
        _ => None,
    };
    let end_m: BTreeMap<&str, &MilestoneStatus> =
        end.milestones.iter().map(|m| (m.id.as_str(), m)).collect();
    let start_m: BTreeMap<&str, &MilestoneStatus> = start
        .milestones
        .iter()
        .map(|m| (m.id.as_str(), m))
        .collect();
    let title = |id: &str| end_m.get(id).map_or_else(String::new, |m| m.title.clone());

    let mut r = SeasonReview {
        ledger: end.ledger.clone(),
        season,
        state: if closed.is_some() { "closed" } else { "open" }.into(),
        starts_on: opened.starts_on.clone(),
        ends_on: closed.map(|c| c.ends_on.clone()),
        intent: opened.intent.clone(),
        focus: opened.focus.clone(),
        start: AsOf {
            seq: first.seq,
            hash: *first_hash,
            recorded_at: first.recorded_at.clone(),
        },
        end: AsOf {
            seq: last.seq,
            hash: *last_hash,
            recorded_at: last.recorded_at.clone(),
        },
        overall_phase: Change {
            from: start.overall_phase.clone(),
            to: end.overall_phase.clone(),
        },
        layers: layer_deltas(start, end),
        achieved: Vec::new(),
        regressions: Vec::new(),
        status_changes: Vec::new(),
        phase_transitions: Vec::new(),
        focus_delivery: Vec::new(),
        still_open: Vec::new(),
        revisions: Vec::new(),
        retirements: Vec::new(),
        new_milestones: Vec::new(),
        assessments: closed.map(|c| c.assessments.clone()).unwrap_or_default(),
        summary: closed.map(|c| c.summary.clone()),
        actors: Vec::new(),
        decision_authority: None,
    };
    let mut authority = DecisionAuthority {
        authority: Change {
            from: start.authority,
            to: end.authority,
        },
        transfers: Vec::new(),
        hypotheses_stated: Vec::new(),
        hypotheses_concluded: Vec::new(),
        changes: Vec::new(),
    };
    let mut section_13 = false;
    let decision_title = |id: &str| {
        end.decisions
            .iter()
            .flatten()
            .find(|d| d.id == id)
            .map_or_else(|| id.to_string(), |d| d.title.clone())
    };

    let mut actors: BTreeMap<&str, ActorActivity> = BTreeMap::new();
    for ((e, _), row) in events.iter().zip(rows) {
        let actor = e.statement.actor.clone();
        let seq = e.seq;
        match &e.statement.payload {
            Payload::MilestoneStatusChanged(p) => {
                if p.to == "achieved" {
                    r.achieved.push(Achievement {
                        id: p.id.clone(),
                        title: title(&p.id),
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
                r.status_changes.push(row.clone());
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
        if let Some(c) = governance_change(&e.statement.payload, &actor, seq) {
            authority.changes.push(c);
        }
        match &e.statement.payload {
            Payload::AuthorityTransferred(p) => authority.transfers.push(Transfer {
                decision: p.decision.clone(),
                title: decision_title(&p.decision),
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
        section_13 |=
            e.statement.payload.decision_id().is_some() || e.statement.payload.body_id().is_some();
        let a = actors
            .entry(e.statement.actor.as_str())
            .or_insert_with(|| ActorActivity {
                id: actor,
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
    r.decision_authority = section_13.then_some(authority);
    r.actors = actors.into_values().collect();
    r.actors
        .sort_by(|a, b| b.events.cmp(&a.events).then_with(|| a.id.cmp(&b.id)));

    for id in &opened.focus {
        let at_end = end_m.get(id.as_str());
        let notes: Vec<&str> = r
            .assessments
            .iter()
            .filter(|a| &a.milestone == id)
            .map(|a| a.note.as_str())
            .collect();
        let achieved = at_end.is_some_and(|m| m.status == "achieved");
        r.focus_delivery.push(FocusDelivery {
            id: id.clone(),
            title: title(id),
            status_at_start: start_m.get(id.as_str()).map(|m| m.status.clone()),
            status_at_end: at_end.map(|m| m.status.clone()),
            achieved,
            assessment: (!notes.is_empty()).then(|| notes.join("; ")),
        });
        if !achieved {
            r.still_open.push(StillOpen {
                id: id.clone(),
                title: title(id),
                status: at_end.map_or_else(String::new, |m| m.status.clone()),
                blocked_by: at_end.map(|m| m.blocked_by.clone()).unwrap_or_default(),
            });
        }
    }
    Ok(r)
}

/// A body or decision module defined, revised or retired, from its event.
fn governance_change(payload: &Payload, actor: &str, seq: u64) -> Option<GovernanceChange> {
    let change = |subject: &str, change: &str, id: &str| GovernanceChange {
        subject: subject.into(),
        change: change.into(),
        id: id.into(),
        title: String::new(),
        kind: None,
        layer: None,
        fields: Vec::new(),
        reason: String::new(),
        current: None,
        target: None,
        actor: actor.into(),
        seq,
    };
    Some(match payload {
        Payload::BodyDefined(p) => GovernanceChange {
            title: p.title.clone(),
            kind: Some(p.kind.clone()),
            ..change("body", "defined", &p.id)
        },
        Payload::BodyRevised(p) => GovernanceChange {
            title: p.title.clone().unwrap_or_default(),
            fields: p.revised_fields().into_iter().map(String::from).collect(),
            reason: p.reason.clone(),
            ..change("body", "revised", &p.id)
        },
        Payload::BodyRetired(p) => GovernanceChange {
            reason: p.reason.clone(),
            ..change("body", "retired", &p.id)
        },
        Payload::DecisionDefined(p) => GovernanceChange {
            title: p.title.clone(),
            layer: Some(p.layer.clone()),
            current: Some(p.current.clone()),
            target: p.target.clone(),
            ..change("decision", "defined", &p.id)
        },
        Payload::DecisionRevised(p) => GovernanceChange {
            title: p.title.clone().unwrap_or_default(),
            fields: p.revised_fields().into_iter().map(String::from).collect(),
            reason: p.reason.clone(),
            target: p.target.clone(),
            ..change("decision", "revised", &p.id)
        },
        _ => return None,
    })
}
