//! The milestone events: `MilestoneDefined`, `MilestoneRevised`, `MilestoneRetired`
//! (rules 2 and 6).

use super::{LedgerState, Milestone};
use crate::rules::{is_milestone_id, reject, Rejection, Rule};
use std::collections::BTreeSet;
use waymark_events::{MilestoneDefined, MilestoneRetired, MilestoneRevised};

impl LedgerState {
    pub(super) fn check_milestone_defined(&self, p: &MilestoneDefined) -> Result<(), Rejection> {
        if !is_milestone_id(&p.id) {
            return reject(
                Rule::Milestone,
                "payload.id",
                format!(
                    "{:?} does not match ^[A-Za-z0-9][A-Za-z0-9._-]{{0,63}}$",
                    p.id
                ),
            );
        }
        if self.milestones.contains_key(&p.id) {
            return reject(
                Rule::Milestone,
                "payload.id",
                format!("milestone {:?} is already defined", p.id),
            );
        }
        self.check_phase_of_layer(&p.layer, &p.phase, "payload.phase")?;
        self.check_dependencies(&p.id, &p.depends_on)
    }

    pub(super) fn check_milestone_revised(&self, p: &MilestoneRevised) -> Result<(), Rejection> {
        let m = self.live_milestone(&p.id, "payload.id")?;
        if p.revised_fields().is_empty() {
            return reject(Rule::Milestone, "payload", "a revision changes at least one of title, description, phase, principles, depends_on");
        }
        if let Some(ph) = &p.phase {
            self.check_phase_of_layer(&m.layer, ph, "payload.phase")?;
        }
        if let Some(d) = &p.depends_on {
            self.check_dependencies(&p.id, d)?;
        }
        Ok(())
    }

    pub(super) fn check_milestone_retired(&self, p: &MilestoneRetired) -> Result<(), Rejection> {
        self.live_milestone(&p.id, "payload.id")?;
        Ok(())
    }

    pub(super) fn milestone(&self, id: &str, field: &str) -> Result<&Milestone, Rejection> {
        self.milestones.get(id).map_or_else(
            || {
                reject(
                    Rule::Milestone,
                    field,
                    format!("milestone {id:?} is not defined"),
                )
            },
            Ok,
        )
    }

    pub(super) fn live_milestone(&self, id: &str, field: &str) -> Result<&Milestone, Rejection> {
        let m = self.milestone(id, field)?;
        if m.retired {
            return reject(Rule::Retired, field, format!("milestone {id:?} is retired"));
        }
        Ok(m)
    }

    pub(super) fn check_phase_of_layer(
        &self,
        layer: &str,
        phase: &str,
        field: &str,
    ) -> Result<(), Rejection> {
        let Some(l) = self.framework.layer(layer) else {
            return reject(
                Rule::Milestone,
                "payload.layer",
                format!("layer {layer:?} is not in the framework"),
            );
        };
        if !l.phases.iter().any(|p| p == phase) {
            return reject(
                Rule::Milestone,
                field,
                format!(
                    "phase {phase:?} is not a phase of layer {layer:?} ({})",
                    l.phases.join(", ")
                ),
            );
        }
        Ok(())
    }

    /// `depends_on` names defined, unretired milestones, no duplicates, and adding the
    /// edges `id -> deps` keeps the graph acyclic.
    pub(super) fn check_dependencies(&self, id: &str, deps: &[String]) -> Result<(), Rejection> {
        let mut seen = BTreeSet::new();
        for (i, d) in deps.iter().enumerate() {
            let field = format!("payload.depends_on[{i}]");
            if !seen.insert(d) {
                return reject(Rule::Milestone, field, format!("{d:?} is listed twice"));
            }
            if d == id {
                return reject(
                    Rule::Milestone,
                    field,
                    format!("{id:?} cannot depend on itself"),
                );
            }
            self.milestone(d, &field)?;
            if self.milestones[d].retired {
                return reject(
                    Rule::Milestone,
                    field,
                    format!("dependency {d:?} is retired"),
                );
            }
            // Does d (transitively) depend on id? Then id -> d closes a cycle.
            let mut stack = vec![d.as_str()];
            let mut visited = BTreeSet::new();
            while let Some(n) = stack.pop() {
                if n == id {
                    return reject(
                        Rule::Milestone,
                        field,
                        format!("depending on {d:?} would make a cycle through {id:?}"),
                    );
                }
                if visited.insert(n) {
                    if let Some(m) = self.milestones.get(n) {
                        stack.extend(m.depends_on.iter().map(String::as_str));
                    }
                }
            }
        }
        Ok(())
    }
}
