//! The status projection (SPEC section 9), computed incrementally: `StatusFold::apply`
//! takes one event at a time, `StatusFold::status` renders the view at that point.
//! Section 13's additions (`bodies`, `decisions`, `authority`) are present only once a
//! body or a decision is defined, so a v1 status keeps its exact bytes.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use waymark_events::{
    canonical_value, BodyKind, Design, Event, Framework, Hash, MilestoneState, Payload, SeasonState,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsOf {
    pub seq: u64,
    pub hash: Hash,
    pub recorded_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseProgress {
    pub phase: String,
    pub achieved: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerStatus {
    pub id: String,
    pub title: String,
    pub phase: String,
    pub progress: Vec<PhaseProgress>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastChange {
    pub seq: u64,
    pub actor: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneStatus {
    pub id: String,
    pub title: String,
    pub layer: String,
    pub phase: String,
    pub status: String,
    pub depends_on: Vec<String>,
    pub blocked_by: Vec<String>,
    pub focus: bool,
    pub regressed: bool,
    pub retired: bool,
    pub last_change: LastChange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonStatus {
    pub number: i64,
    pub state: SeasonState,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub focus: Vec<String>,
}

/// A body in the status (SPEC section 13): the decisions whose current design names
/// it among the deciders, and among the vetoes, each sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyStatus {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub retired: bool,
    pub decides: Vec<String>,
    pub vetoes: Vec<String>,
}

/// A hypothesis of a decision: its outcome, `null` while it is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HypothesisStatus {
    pub id: String,
    pub outcome: Option<String>,
}

/// A decision module in the status (SPEC section 13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionStatus {
    pub id: String,
    pub title: String,
    pub layer: String,
    pub current: Design,
    /// `null` where no end state is recorded.
    pub target: Option<Design>,
    /// A target exists and equals `current` (JCS-equal).
    pub at_target: bool,
    /// A body of kind `foundation` is among the current deciders.
    pub foundation_decides: bool,
    pub milestones: Vec<String>,
    pub hypotheses: Vec<HypothesisStatus>,
    pub last_change: LastChange,
}

/// The three counts of section 13's `authority`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authority {
    pub decisions: u64,
    pub at_target: u64,
    pub foundation_decides: u64,
}

/// The status projection, with exactly the keys SPEC section 9 requires (so that any
/// verifier recomputing it gets JCS-identical bytes), and section 13's three keys
/// exactly when a body or a decision is defined at `as_of` (absent otherwise, never
/// `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub ledger: String,
    pub as_of: Option<AsOf>,
    pub overall_phase: Option<String>,
    pub layers: Vec<LayerStatus>,
    pub milestones: Vec<MilestoneStatus>,
    pub season: Option<SeasonStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bodies: Option<Vec<BodyStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decisions: Option<Vec<DecisionStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<Authority>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Milestone {
    title: String,
    layer: String,
    phase: String,
    status: MilestoneState,
    depends_on: Vec<String>,
    ever_achieved: bool,
    retired: bool,
    last_change: LastChange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Body {
    title: String,
    kind: String,
    retired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Decision {
    title: String,
    layer: String,
    current: Design,
    target: Option<Design>,
    milestones: Vec<String>,
    hypotheses: BTreeMap<String, Option<String>>,
    last_change: LastChange,
}

/// Incremental state of the status projection. Serializable, so it can be kept as a
/// checkpoint and resumed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusFold {
    ledger: String,
    framework: Framework,
    layer_phase: BTreeMap<String, String>,
    milestones: BTreeMap<String, Milestone>,
    season: Option<SeasonStatus>,
    as_of: Option<AsOf>,
    /// Section 13: absent from a fold kept before v1.1, left out while empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    bodies: BTreeMap<String, Body>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    decisions: BTreeMap<String, Decision>,
}

impl StatusFold {
    pub fn new() -> Self {
        Self::default()
    }

    /// The seq this fold has reached (0 before any event).
    pub fn seq(&self) -> u64 {
        self.as_of.as_ref().map_or(0, |a| a.seq)
    }

    /// Folds one recorded event (with its hash) into the projection.
    pub fn apply(&mut self, event: &Event, hash: &Hash) {
        let st = &event.statement;
        let change = LastChange {
            seq: event.seq,
            actor: st.actor.clone(),
            recorded_at: event.recorded_at.clone(),
        };
        match &st.payload {
            Payload::LedgerOpened(p) => {
                self.ledger = st.ledger.clone();
                self.framework = p.framework.clone();
                self.layer_phase = p.framework.initial_phases();
            }
            Payload::MilestoneDefined(p) => {
                self.milestones.insert(
                    p.id.clone(),
                    Milestone {
                        title: p.title.clone(),
                        layer: p.layer.clone(),
                        phase: p.phase.clone(),
                        status: MilestoneState::NotStarted,
                        depends_on: p.depends_on.clone(),
                        ever_achieved: false,
                        retired: false,
                        last_change: change,
                    },
                );
            }
            Payload::MilestoneRevised(p) => {
                if let Some(m) = self.milestones.get_mut(&p.id) {
                    p.apply_to(&mut m.title, &mut m.phase, &mut m.depends_on);
                    m.last_change = change;
                }
            }
            Payload::MilestoneRetired(p) => {
                if let Some(m) = self.milestones.get_mut(&p.id) {
                    m.retired = true;
                    m.last_change = change;
                }
            }
            Payload::MilestoneStatusChanged(p) => {
                // Folded after rule 3, which lets only a status through.
                if let (Some(m), Ok(to)) = (self.milestones.get_mut(&p.id), p.to.parse()) {
                    m.status = to;
                    m.ever_achieved |= to == MilestoneState::Achieved;
                    m.last_change = change;
                }
            }
            Payload::PhaseTransitioned(p) => {
                self.layer_phase.insert(p.layer.clone(), p.to.clone());
            }
            Payload::SeasonOpened(p) => {
                self.season = Some(SeasonStatus {
                    number: p.season,
                    state: SeasonState::Open,
                    starts_on: p.starts_on.clone(),
                    ends_on: None,
                    focus: p.focus.clone(),
                });
            }
            Payload::SeasonReEvaluated(p) => {
                if let Some(s) = self.season.as_mut().filter(|s| s.number == p.season) {
                    s.state = SeasonState::Closed;
                    s.ends_on = Some(p.ends_on.clone());
                }
            }
            Payload::ActorRegistered(_)
            | Payload::ActorRolesChanged(_)
            | Payload::ActorKeyRotated(_)
            | Payload::ActorRetired(_) => {}
            Payload::BodyDefined(p) => {
                self.bodies.insert(
                    p.id.clone(),
                    Body {
                        title: p.title.clone(),
                        kind: p.kind.clone(),
                        retired: false,
                    },
                );
            }
            Payload::BodyRevised(p) => {
                if let (Some(b), Some(t)) = (self.bodies.get_mut(&p.id), &p.title) {
                    t.clone_into(&mut b.title);
                }
            }
            Payload::BodyRetired(p) => {
                if let Some(b) = self.bodies.get_mut(&p.id) {
                    b.retired = true;
                }
            }
            Payload::DecisionDefined(p) => {
                self.decisions.insert(
                    p.id.clone(),
                    Decision {
                        title: p.title.clone(),
                        layer: p.layer.clone(),
                        current: p.current.clone(),
                        target: p.target.clone(),
                        milestones: p.milestones.clone(),
                        hypotheses: BTreeMap::new(),
                        last_change: change,
                    },
                );
            }
            Payload::DecisionRevised(p) => {
                if let Some(d) = self.decisions.get_mut(&p.id) {
                    if let Some(t) = &p.title {
                        t.clone_into(&mut d.title);
                    }
                    if let Some(t) = &p.target {
                        d.target = Some(t.clone());
                    }
                    if let Some(m) = &p.milestones {
                        d.milestones.clone_from(m);
                    }
                    d.last_change = change;
                }
            }
            Payload::AuthorityTransferred(p) => {
                if let Some(d) = self.decisions.get_mut(&p.decision) {
                    d.current = p.to.clone();
                    d.last_change = change;
                }
            }
            Payload::HypothesisStated(p) => {
                if let Some(d) = self.decisions.get_mut(&p.decision) {
                    d.hypotheses.insert(p.id.clone(), None);
                    d.last_change = change;
                }
            }
            Payload::HypothesisConcluded(p) => {
                if let Some(d) = self.decisions.get_mut(&p.decision) {
                    d.hypotheses.insert(p.id.clone(), Some(p.outcome.clone()));
                    d.last_change = change;
                }
            }
        }
        self.as_of = Some(AsOf {
            seq: event.seq,
            hash: *hash,
            recorded_at: event.recorded_at.clone(),
        });
    }

    fn achieved(&self, id: &str) -> bool {
        self.milestones
            .get(id)
            .is_some_and(|m| m.status == MilestoneState::Achieved)
    }

    /// The view at the last folded event.
    pub fn status(&self) -> Status {
        let open_focus: BTreeSet<&str> = match &self.season {
            Some(s) if s.state == SeasonState::Open => s.focus.iter().map(String::as_str).collect(),
            _ => BTreeSet::new(),
        };
        let layers: Vec<LayerStatus> = self
            .framework
            .layers
            .iter()
            .map(|l| LayerStatus {
                id: l.id.clone(),
                title: l.title.clone(),
                phase: self.layer_phase.get(&l.id).cloned().unwrap_or_default(),
                progress: l
                    .phases
                    .iter()
                    .map(|ph| {
                        let live = self
                            .milestones
                            .values()
                            .filter(|m| !m.retired && m.layer == l.id && &m.phase == ph);
                        let (mut achieved, mut total) = (0, 0);
                        for m in live {
                            total += 1;
                            achieved += u64::from(m.status == MilestoneState::Achieved);
                        }
                        PhaseProgress {
                            phase: ph.clone(),
                            achieved,
                            total,
                        }
                    })
                    .collect(),
            })
            .collect();
        let overall_phase = layers
            .iter()
            .min_by_key(|l| self.framework.phase_rank(&l.phase).unwrap_or(usize::MAX))
            .map(|l| l.phase.clone());
        let milestones = self
            .milestones
            .iter()
            .map(|(id, m)| MilestoneStatus {
                id: id.clone(),
                title: m.title.clone(),
                layer: m.layer.clone(),
                phase: m.phase.clone(),
                // The view keeps the SPEC string (`review` and the dashboard read it).
                status: m.status.as_str().to_owned(),
                depends_on: m.depends_on.clone(),
                blocked_by: m
                    .depends_on
                    .iter()
                    .filter(|d| !self.achieved(d))
                    .cloned()
                    .collect(),
                focus: open_focus.contains(id.as_str()),
                regressed: m.ever_achieved && m.status != MilestoneState::Achieved,
                retired: m.retired,
                last_change: m.last_change.clone(),
            })
            .collect();
        let (bodies, decisions, authority) = match self.decision_map() {
            Some((b, d, a)) => (Some(b), Some(d), Some(a)),
            None => (None, None, None),
        };
        Status {
            ledger: self.ledger.clone(),
            as_of: self.as_of.clone(),
            overall_phase,
            layers,
            milestones,
            season: self.season.clone(),
            bodies,
            decisions,
            authority,
        }
    }

    /// Section 13's `bodies`, `decisions` and `authority`, once a body or a decision
    /// is defined.
    fn decision_map(&self) -> Option<(Vec<BodyStatus>, Vec<DecisionStatus>, Authority)> {
        if self.bodies.is_empty() && self.decisions.is_empty() {
            return None;
        }
        let is_foundation = |b: &String| {
            self.bodies
                .get(b)
                .is_some_and(|x| x.kind == BodyKind::Foundation.as_str())
        };
        let mut authority = Authority::default();
        let decisions: Vec<DecisionStatus> = self
            .decisions
            .iter()
            .map(|(id, d)| {
                // Two designs are equal when their JCS bytes are (SPEC section 13).
                let at_target = d.target.as_ref().is_some_and(|t| {
                    canonical_value(&design_value(t)) == canonical_value(&design_value(&d.current))
                });
                let foundation_decides = d.current.deciders.iter().any(is_foundation);
                authority.decisions += 1;
                authority.at_target += u64::from(at_target);
                authority.foundation_decides += u64::from(foundation_decides);
                DecisionStatus {
                    id: id.clone(),
                    title: d.title.clone(),
                    layer: d.layer.clone(),
                    current: d.current.clone(),
                    target: d.target.clone(),
                    at_target,
                    foundation_decides,
                    milestones: d.milestones.clone(),
                    hypotheses: d
                        .hypotheses
                        .iter()
                        .map(|(h, o)| HypothesisStatus {
                            id: h.clone(),
                            outcome: o.clone(),
                        })
                        .collect(),
                    last_change: d.last_change.clone(),
                }
            })
            .collect();
        let bodies = self
            .bodies
            .iter()
            .map(|(id, b)| {
                let with = |pick: fn(&Design, &str) -> bool| -> Vec<String> {
                    self.decisions
                        .iter()
                        .filter(|(_, d)| pick(&d.current, id))
                        .map(|(did, _)| did.clone())
                        .collect()
                };
                BodyStatus {
                    id: id.clone(),
                    title: b.title.clone(),
                    kind: b.kind.clone(),
                    retired: b.retired,
                    decides: with(|d, b| d.deciders.iter().any(|x| x == b)),
                    vetoes: with(Design::vetoed_by),
                }
            })
            .collect();
        Some((bodies, decisions, authority))
    }
}

fn design_value(d: &Design) -> serde_json::Value {
    serde_json::to_value(d).unwrap_or(serde_json::Value::Null)
}
