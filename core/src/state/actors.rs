//! The actor events: `ActorRegistered`, `ActorRolesChanged`, `ActorKeyRotated`,
//! `ActorRetired` (rules 1 and 6).

use super::fields::{check_key, check_roles, non_empty};
use super::{Actor, LedgerState};
use crate::rules::{is_milestone_id, reject, Rejection, Rule};
use waymark_events::{ActorKeyRotated, ActorRegistered, ActorRetired, ActorRolesChanged};

impl LedgerState {
    pub(super) fn check_actor_registered(&self, p: &ActorRegistered) -> Result<(), Rejection> {
        if !is_milestone_id(&p.actor) {
            return reject(
                Rule::Format,
                "payload.actor",
                "actor ids match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
            );
        }
        if self.actors.contains_key(&p.actor) {
            return reject(
                Rule::Signer,
                "payload.actor",
                format!("actor {:?} is already registered", p.actor),
            );
        }
        check_roles(&p.roles, "payload.roles")?;
        check_key(&p.public_key, "payload.public_key")
    }

    pub(super) fn check_actor_roles_changed(&self, p: &ActorRolesChanged) -> Result<(), Rejection> {
        self.live_actor(&p.actor)?;
        check_roles(&p.roles, "payload.roles")
    }

    pub(super) fn check_actor_key_rotated(&self, p: &ActorKeyRotated) -> Result<(), Rejection> {
        self.live_actor(&p.actor)?;
        check_key(&p.public_key, "payload.public_key")
    }

    pub(super) fn check_actor_retired(&self, p: &ActorRetired) -> Result<(), Rejection> {
        self.live_actor(&p.actor)?;
        non_empty(&p.reason, Rule::Signer, "payload.reason")
    }

    fn live_actor(&self, id: &str) -> Result<&Actor, Rejection> {
        let Some(a) = self.actors.get(id) else {
            return reject(
                Rule::Signer,
                "payload.actor",
                format!("actor {id:?} is not registered"),
            );
        };
        if a.retired {
            return reject(
                Rule::Retired,
                "payload.actor",
                format!("actor {id:?} is retired"),
            );
        }
        Ok(a)
    }
}
