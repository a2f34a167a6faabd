//! The status projection (SPEC section 9), computed incrementally: `StatusFold::apply`
//! takes one event at a time, `StatusFold::status` renders the view at that point.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use waymark_events::{Event, Framework, Hash, MilestoneState, Payload, SeasonState};

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

/// The status projection, with exactly the keys SPEC section 9 requires (so that any
/// verifier recomputing it gets JCS-identical bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub ledger: String,
    pub as_of: Option<AsOf>,
    pub overall_phase: Option<String>,
    pub layers: Vec<LayerStatus>,
    pub milestones: Vec<MilestoneStatus>,
    pub season: Option<SeasonStatus>,
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
        Status {
            ledger: self.ledger.clone(),
            as_of: self.as_of.clone(),
            overall_phase,
            layers,
            milestones,
            season: self.season.clone(),
        }
    }
}
