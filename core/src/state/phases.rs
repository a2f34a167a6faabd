//! Rule 4: `PhaseTransitioned`.

use super::fields::non_empty;
use super::LedgerState;
use crate::rules::{reject, Rejection, Rule};
use waymark_events::{MilestoneState, PhaseTransitioned};

impl LedgerState {
    pub(super) fn check_phase_transitioned(&self, p: &PhaseTransitioned) -> Result<(), Rejection> {
        let Some(layer) = self.framework.layer(&p.layer) else {
            return reject(
                Rule::Phase,
                "payload.layer",
                format!("layer {:?} is not in the framework", p.layer),
            );
        };
        let current = &self.layer_phase[&p.layer];
        if &p.from != current {
            return reject(
                Rule::Phase,
                "payload.from",
                format!(
                    "layer {:?} is in phase {current:?}, not {:?}",
                    p.layer, p.from
                ),
            );
        }
        let pos = layer.phases.iter().position(|x| x == current).unwrap_or(0);
        let Some(next) = layer.phases.get(pos + 1) else {
            return reject(
                Rule::Phase,
                "payload.to",
                format!(
                    "layer {:?} is already in its last phase {current:?}",
                    p.layer
                ),
            );
        };
        if &p.to != next {
            return reject(
                Rule::Phase,
                "payload.to",
                format!("the phase after {current:?} is {next:?}, not {:?}", p.to),
            );
        }
        let blockers: Vec<&str> = self
            .milestones
            .iter()
            .filter(|(_, m)| {
                !m.retired
                    && m.layer == p.layer
                    && &m.phase == current
                    && m.status != MilestoneState::Achieved
            })
            .map(|(id, _)| id.as_str())
            .collect();
        if !blockers.is_empty() {
            return reject(
                Rule::Phase,
                "payload.to",
                format!(
                    "milestones of phase {current:?} not achieved: {}",
                    blockers.join(", ")
                ),
            );
        }
        non_empty(&p.reason, Rule::Phase, "payload.reason")
    }
}
