//! Rule 9 (SPEC section 13): `BodyDefined`, `BodyRevised`, `BodyRetired`.

use super::fields::check_url;
use super::{Body, LedgerState};
use crate::rules::{is_milestone_id, reject, Rejection, Rule};
use waymark_events::{BodyDefined, BodyKind, BodyRetired, BodyRevised};

impl LedgerState {
    pub(super) fn check_body_defined(&self, p: &BodyDefined) -> Result<(), Rejection> {
        if !is_milestone_id(&p.id) {
            return reject(
                Rule::Body,
                "payload.id",
                format!(
                    "{:?} does not match ^[A-Za-z0-9][A-Za-z0-9._-]{{0,63}}$",
                    p.id
                ),
            );
        }
        if self.bodies.contains_key(&p.id) {
            return reject(
                Rule::Body,
                "payload.id",
                format!("body {:?} is already defined", p.id),
            );
        }
        check_body_kind(&p.kind)?;
        if let Some(c) = &p.charter {
            check_url(c, Rule::Body, "payload.charter")?;
        }
        Ok(())
    }

    pub(super) fn check_body_revised(&self, p: &BodyRevised) -> Result<(), Rejection> {
        self.live_body(&p.id)?;
        if p.revised_fields().is_empty() {
            return reject(
                Rule::Body,
                "payload",
                "a revision changes at least one of title, description, charter",
            );
        }
        if let Some(c) = &p.charter {
            check_url(c, Rule::Body, "payload.charter")?;
        }
        Ok(())
    }

    /// Refused while a decision's `current` or `target` design names the body: the
    /// error lists those decisions.
    pub(super) fn check_body_retired(&self, p: &BodyRetired) -> Result<(), Rejection> {
        self.live_body(&p.id)?;
        let naming: Vec<&str> = self
            .decisions
            .iter()
            .filter(|(_, d)| {
                d.current.names(&p.id) || d.target.as_ref().is_some_and(|t| t.names(&p.id))
            })
            .map(|(id, _)| id.as_str())
            .collect();
        if !naming.is_empty() {
            return reject(
                Rule::Body,
                "payload.id",
                format!(
                    "body {:?} is still named by the designs of: {}",
                    p.id,
                    naming.join(", ")
                ),
            );
        }
        Ok(())
    }

    /// The body a revision or retirement is about: defined (rule 9) and not retired
    /// (rule 6, as for milestones and actors).
    fn live_body(&self, id: &str) -> Result<&Body, Rejection> {
        let Some(b) = self.bodies.get(id) else {
            return reject(
                Rule::Body,
                "payload.id",
                format!("body {id:?} is not defined"),
            );
        };
        if b.retired {
            return reject(
                Rule::Retired,
                "payload.id",
                format!("body {id:?} is retired"),
            );
        }
        Ok(b)
    }
}

fn check_body_kind(kind: &str) -> Result<(), Rejection> {
    if kind.parse::<BodyKind>().is_err() {
        let all: Vec<&str> = BodyKind::ALL.iter().map(|k| k.as_str()).collect();
        return reject(
            Rule::Body,
            "payload.kind",
            format!("{kind:?} is not a body kind ({})", all.join(", ")),
        );
    }
    Ok(())
}
