//! `LedgerOpened`: the ledger id, the founder, the origin and log key, the framework.

use super::fields::non_empty;
use super::LedgerState;
use crate::rules::{is_ledger_id, is_milestone_id, reject, Rejection, Rule};
use std::collections::BTreeSet;
use waymark_events::{parse_verifier_key, Framework, LedgerOpened};

impl LedgerState {
    pub(super) fn check_ledger_opened(
        &self,
        ledger: &str,
        p: &LedgerOpened,
    ) -> Result<(), Rejection> {
        if !is_ledger_id(ledger) {
            return reject(
                Rule::Format,
                "ledger",
                format!(
                    "{:?} is not a ledger id ^[a-z0-9][a-z0-9-]{{0,62}}$",
                    ledger
                ),
            );
        }
        if !is_milestone_id(&p.founder.actor) {
            return reject(
                Rule::Format,
                "payload.founder.actor",
                "actor ids match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
            );
        }
        non_empty(&p.origin, Rule::Format, "payload.origin")?;
        let key = parse_verifier_key(&p.log_key)
            .or_else(|e| reject(Rule::Format, "payload.log_key", e.to_string()))?;
        if key.name != p.origin {
            return reject(
                Rule::Format,
                "payload.log_key",
                format!(
                    "the log key's name {:?} must be the origin {:?}",
                    key.name, p.origin
                ),
            );
        }
        self.check_framework(&p.framework)
    }

    fn check_framework(&self, f: &Framework) -> Result<(), Rejection> {
        let fw = "payload.framework";
        if f.layers.is_empty() {
            return reject(
                Rule::Milestone,
                format!("{fw}.layers"),
                "a framework has at least one layer",
            );
        }
        let phase_ids: BTreeSet<&str> = f.phases.iter().map(|p| p.id.as_str()).collect();
        if phase_ids.len() != f.phases.len() {
            return reject(
                Rule::Milestone,
                format!("{fw}.phases"),
                "phase ids must be unique",
            );
        }
        let mut layer_ids = BTreeSet::new();
        for (i, l) in f.layers.iter().enumerate() {
            if !layer_ids.insert(l.id.as_str()) {
                return reject(
                    Rule::Milestone,
                    format!("{fw}.layers[{i}].id"),
                    format!("layer {:?} defined twice", l.id),
                );
            }
            if l.phases.is_empty() {
                return reject(
                    Rule::Milestone,
                    format!("{fw}.layers[{i}].phases"),
                    "a layer has at least one phase",
                );
            }
            let mut seen = BTreeSet::new();
            for (j, p) in l.phases.iter().enumerate() {
                if !phase_ids.contains(p.as_str()) || !seen.insert(p) {
                    return reject(
                        Rule::Milestone,
                        format!("{fw}.layers[{i}].phases[{j}]"),
                        format!("phase {p:?} is not a framework phase or repeats"),
                    );
                }
            }
        }
        Ok(())
    }
}
