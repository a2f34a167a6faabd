//! Folding a recorded event into the rule state.

use super::{Actor, Body, Decision, Head, LedgerState, Milestone, Season};
use waymark_events::{Event, Hash, MilestoneState, Payload, Role};

impl LedgerState {
    /// Folds a recorded event into the state. Assumes `check` passed.
    pub fn apply(&mut self, event: &Event, hash: Hash) {
        let st = &event.statement;
        match &st.payload {
            Payload::LedgerOpened(p) => {
                self.ledger = st.ledger.clone();
                self.title = p.title.clone();
                self.origin = p.origin.clone();
                self.log_key = p.log_key.clone();
                self.founder = p.founder.actor.clone();
                self.framework = p.framework.clone();
                self.layer_phase = p.framework.initial_phases();
                self.actors.insert(
                    p.founder.actor.clone(),
                    Actor {
                        name: p.founder.name.clone(),
                        roles: vec![Role::Steward],
                        public_key: p.founder.public_key.clone(),
                        retired: false,
                    },
                );
            }
            Payload::ActorRegistered(p) => {
                self.actors.insert(
                    p.actor.clone(),
                    Actor {
                        name: p.name.clone(),
                        roles: Role::from_names(&p.roles),
                        public_key: p.public_key.clone(),
                        retired: false,
                    },
                );
            }
            Payload::ActorRolesChanged(p) => {
                if let Some(a) = self.actors.get_mut(&p.actor) {
                    a.roles = Role::from_names(&p.roles);
                }
            }
            Payload::ActorKeyRotated(p) => {
                if let Some(a) = self.actors.get_mut(&p.actor) {
                    a.public_key = p.public_key.clone();
                }
            }
            Payload::ActorRetired(p) => {
                if let Some(a) = self.actors.get_mut(&p.actor) {
                    a.retired = true;
                }
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
                        retired: false,
                    },
                );
            }
            Payload::MilestoneRevised(p) => {
                if let Some(m) = self.milestones.get_mut(&p.id) {
                    p.apply_to(&mut m.title, &mut m.phase, &mut m.depends_on);
                }
            }
            Payload::MilestoneRetired(p) => {
                if let Some(m) = self.milestones.get_mut(&p.id) {
                    m.retired = true;
                }
            }
            Payload::MilestoneStatusChanged(p) => {
                // Rule 3 let only a status through.
                if let (Some(m), Ok(to)) = (self.milestones.get_mut(&p.id), p.to.parse()) {
                    m.status = to;
                }
            }
            Payload::PhaseTransitioned(p) => {
                self.layer_phase.insert(p.layer.clone(), p.to.clone());
            }
            Payload::SeasonOpened(p) => {
                self.season = Some(Season {
                    number: p.season,
                    open: true,
                    starts_on: p.starts_on.clone(),
                });
            }
            Payload::SeasonReEvaluated(_) => {
                if let Some(s) = self.season.as_mut() {
                    s.open = false;
                }
            }
            // Rule 9 let only a body kind through.
            Payload::BodyDefined(p) => {
                if let Ok(kind) = p.kind.parse() {
                    self.bodies.insert(
                        p.id.clone(),
                        Body {
                            title: p.title.clone(),
                            kind,
                            retired: false,
                        },
                    );
                }
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
                        current: p.current.clone(),
                        target: p.target.clone(),
                        hypotheses: Default::default(),
                    },
                );
            }
            Payload::DecisionRevised(p) => {
                if let (Some(d), Some(t)) = (self.decisions.get_mut(&p.id), &p.target) {
                    d.target = Some(t.clone());
                }
            }
            Payload::AuthorityTransferred(p) => {
                if let Some(d) = self.decisions.get_mut(&p.decision) {
                    d.current = p.to.clone();
                }
            }
            Payload::HypothesisStated(p) => {
                if let Some(d) = self.decisions.get_mut(&p.decision) {
                    d.hypotheses.insert(p.id.clone(), None);
                }
            }
            // Rule 12 let only an outcome through.
            Payload::HypothesisConcluded(p) => {
                if let (Some(d), Ok(o)) = (self.decisions.get_mut(&p.decision), p.outcome.parse()) {
                    d.hypotheses.insert(p.id.clone(), Some(o));
                }
            }
        }
        self.head = Some(Head {
            seq: event.seq,
            hash,
            recorded_at: event.recorded_at.clone(),
        });
    }
}
