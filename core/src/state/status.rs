//! Rule 3: `MilestoneStatusChanged`, its values and transitions.

use super::fields::non_empty;
use super::{LedgerState, MAX_EVIDENCE, STATUSES};
use crate::rules::{is_evidence_url, reject, Rejection, Rule};

impl LedgerState {
    pub(super) fn check_status_change(
        &self,
        p: &waymark_events::MilestoneStatusChanged,
    ) -> Result<(), Rejection> {
        let m = self.live_milestone(&p.id, "payload.id")?;
        for (field, v) in [("payload.from", &p.from), ("payload.to", &p.to)] {
            if !STATUSES.contains(&v.as_str()) {
                return reject(
                    Rule::Status,
                    field,
                    format!("{v:?} is not a status (not_started, in_progress, achieved)"),
                );
            }
        }
        if p.from != m.status {
            return reject(
                Rule::Status,
                "payload.from",
                format!("milestone {:?} is {:?}, not {:?}", p.id, m.status, p.from),
            );
        }
        if p.to == p.from {
            return reject(
                Rule::Status,
                "payload.to",
                format!("milestone {:?} is already {:?}", p.id, p.to),
            );
        }
        non_empty(&p.reason, Rule::Status, "payload.reason")?;
        if p.evidence.len() > MAX_EVIDENCE {
            return reject(
                Rule::Limits,
                "payload.evidence",
                format!("{} links exceed {MAX_EVIDENCE}", p.evidence.len()),
            );
        }
        for (i, e) in p.evidence.iter().enumerate() {
            if !is_evidence_url(e) {
                return reject(
                    Rule::Status,
                    format!("payload.evidence[{i}]"),
                    format!("{e:?} is not an http:// or https:// URL"),
                );
            }
        }
        if p.to == "achieved" {
            let unmet: Vec<&str> = m
                .depends_on
                .iter()
                .filter(|d| {
                    self.milestones
                        .get(*d)
                        .is_none_or(|x| x.status != "achieved")
                })
                .map(String::as_str)
                .collect();
            if !unmet.is_empty() {
                return reject(
                    Rule::Status,
                    "payload.to",
                    format!("unmet dependencies: {}", unmet.join(", ")),
                );
            }
            if p.evidence.is_empty() {
                return reject(
                    Rule::Status,
                    "payload.evidence",
                    "achieved needs at least one evidence link",
                );
            }
        }
        Ok(())
    }
}
