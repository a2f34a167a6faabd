//! Rule 12 (SPEC section 13): `HypothesisStated` and `HypothesisConcluded`.

use super::fields::{check_evidence, non_empty};
use super::LedgerState;
use crate::rules::{is_milestone_id, reject, Rejection, Rule};
use waymark_events::{HypothesisConcluded, HypothesisStated, Outcome};

impl LedgerState {
    pub(super) fn check_hypothesis_stated(&self, p: &HypothesisStated) -> Result<(), Rejection> {
        let d = self.decision(&p.decision, Rule::Hypothesis, "payload.decision")?;
        if !is_milestone_id(&p.id) {
            return reject(
                Rule::Hypothesis,
                "payload.id",
                format!(
                    "{:?} does not match ^[A-Za-z0-9][A-Za-z0-9._-]{{0,63}}$",
                    p.id
                ),
            );
        }
        if d.hypotheses.contains_key(&p.id) {
            return reject(
                Rule::Hypothesis,
                "payload.id",
                format!(
                    "hypothesis {:?} is already stated for decision {:?}",
                    p.id, p.decision
                ),
            );
        }
        non_empty(&p.statement, Rule::Hypothesis, "payload.statement")?;
        non_empty(&p.measure, Rule::Hypothesis, "payload.measure")
    }

    pub(super) fn check_hypothesis_concluded(
        &self,
        p: &HypothesisConcluded,
    ) -> Result<(), Rejection> {
        let d = self.decision(&p.decision, Rule::Hypothesis, "payload.decision")?;
        match d.hypotheses.get(&p.id) {
            None => {
                return reject(
                    Rule::Hypothesis,
                    "payload.id",
                    format!(
                        "hypothesis {:?} is not stated for decision {:?}",
                        p.id, p.decision
                    ),
                )
            }
            Some(Some(o)) => {
                return reject(
                    Rule::Hypothesis,
                    "payload.id",
                    format!(
                        "hypothesis {:?} of decision {:?} is already concluded ({o})",
                        p.id, p.decision
                    ),
                )
            }
            Some(None) => {}
        }
        if p.outcome.parse::<Outcome>().is_err() {
            return reject(
                Rule::Hypothesis,
                "payload.outcome",
                format!(
                    "{:?} is not an outcome (supported, refuted, inconclusive)",
                    p.outcome
                ),
            );
        }
        non_empty(&p.note, Rule::Hypothesis, "payload.note")?;
        check_evidence(&p.evidence, Rule::Hypothesis)
    }
}
