//! Rule 1: who may sign what.

use super::fields::check_key;
use super::LedgerState;
use crate::rules::{reject, Rejection, Rule};
use waymark_events::{EventType, Payload, Role, Statement};

/// Roles that may sign each type (the tables of SPEC sections 5 and 13). `LedgerOpened`
/// is the founder's.
pub fn allowed_roles(t: EventType) -> &'static [&'static str] {
    match t {
        EventType::LedgerOpened => &[],
        EventType::MilestoneStatusChanged => &["steward", "reviewer", "reporter"],
        EventType::PhaseTransitioned
        | EventType::SeasonReEvaluated
        | EventType::AuthorityTransferred
        | EventType::HypothesisStated
        | EventType::HypothesisConcluded => &["steward", "reviewer"],
        EventType::ActorRegistered
        | EventType::ActorRolesChanged
        | EventType::ActorKeyRotated
        | EventType::ActorRetired
        | EventType::MilestoneDefined
        | EventType::MilestoneRevised
        | EventType::MilestoneRetired
        | EventType::SeasonOpened
        | EventType::BodyDefined
        | EventType::BodyRevised
        | EventType::BodyRetired
        | EventType::DecisionDefined
        | EventType::DecisionRevised => &["steward"],
    }
}

impl LedgerState {
    /// Rule 1: who may sign. Returns the public key that must verify `sig`.
    pub(super) fn check_signer(&self, st: &Statement) -> Result<String, Rejection> {
        let t = st.event_type();
        if !self.is_open() {
            let Payload::LedgerOpened(p) = &st.payload else {
                return reject(
                    Rule::Signer,
                    "type",
                    format!(
                        "the ledger is not open: the first statement must be LedgerOpened, not {t}"
                    ),
                );
            };
            if p.founder.actor != st.actor {
                return reject(
                    Rule::Signer,
                    "actor",
                    format!(
                        "LedgerOpened must be signed by the founder {:?}, not {:?}",
                        p.founder.actor, st.actor
                    ),
                );
            }
            check_key(&p.founder.public_key, "payload.founder.public_key")?;
            return Ok(p.founder.public_key.clone());
        }
        if t == EventType::LedgerOpened {
            return reject(
                Rule::Signer,
                "type",
                "LedgerOpened is allowed at seq 1 only",
            );
        }
        let Some(actor) = self.actors.get(&st.actor) else {
            return reject(
                Rule::UnknownActor,
                "actor",
                format!("actor {:?} is not registered", st.actor),
            );
        };
        if actor.retired {
            return reject(
                Rule::Retired,
                "actor",
                format!("actor {:?} is retired and signs nothing more", st.actor),
            );
        }
        let allowed = allowed_roles(t);
        if !actor.roles.iter().any(|r| allowed.contains(&r.as_str())) {
            return reject(
                Rule::Signer,
                "actor",
                format!(
                    "{t} needs one of the roles {}; {:?} has {}",
                    allowed.join(", "),
                    st.actor,
                    Role::join(&actor.roles)
                ),
            );
        }
        Ok(actor.public_key.clone())
    }
}
