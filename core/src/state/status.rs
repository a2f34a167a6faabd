//! Rule 3: `MilestoneStatusChanged`, its values and transitions.

use super::fields::non_empty;
use super::{LedgerState, MAX_EVIDENCE};
use crate::rules::{is_evidence_url, reject, Rejection, Rule};
use waymark_events::MilestoneState;

impl LedgerState {
    pub(super) fn check_status_change(
        &self,
        p: &waymark_events::MilestoneStatusChanged,
    ) -> Result<(), Rejection> {
        let m = self.live_milestone(&p.id, "payload.id")?;
        // The payload keeps the strings it was signed with; they become statuses here.
        let status = |field: &str, v: &String| {
            v.parse::<MilestoneState>().or_else(|_| {
                reject(
                    Rule::Status,
                    field,
                    format!("{v:?} is not a status (not_started, in_progress, achieved)"),
                )
            })
        };
        let from = status("payload.from", &p.from)?;
        let to = status("payload.to", &p.to)?;
        if from != m.status {
            return reject(
                Rule::Status,
                "payload.from",
                format!(
                    "milestone {:?} is {:?}, not {:?}",
                    p.id,
                    m.status.as_str(),
                    p.from
                ),
            );
        }
        if to == from {
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
        if to == MilestoneState::Achieved {
            let unmet: Vec<&str> = m
                .depends_on
                .iter()
                .filter(|d| {
                    self.milestones
                        .get(*d)
                        .is_none_or(|x| x.status != MilestoneState::Achieved)
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
