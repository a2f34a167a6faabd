//! Rule 11 (SPEC section 13): `AuthorityTransferred`, the only event that changes who
//! decides a decision module.

use super::fields::{check_evidence, non_empty};
use super::LedgerState;
use crate::rules::{reject, Rejection, Rule};
use waymark_events::AuthorityTransferred;

impl LedgerState {
    /// Both designs are recorded designs (rule 10: canonical, live bodies, values in
    /// range); then `from` is the current design, `to` differs from it, `reason` is not
    /// empty and at least one evidence link backs the transfer.
    pub(super) fn check_authority_transferred(
        &self,
        p: &AuthorityTransferred,
    ) -> Result<(), Rejection> {
        let d = self.decision(&p.decision, Rule::Transfer, "payload.decision")?;
        self.check_design(&p.from, "payload.from")?;
        self.check_design(&p.to, "payload.to")?;
        if p.from != d.current {
            return reject(
                Rule::Transfer,
                "payload.from",
                format!(
                    "from is not the current design of decision {:?}",
                    p.decision
                ),
            );
        }
        if p.to == d.current {
            return reject(
                Rule::Transfer,
                "payload.to",
                format!(
                    "to equals the current design of decision {:?}: nothing is transferred",
                    p.decision
                ),
            );
        }
        non_empty(&p.reason, Rule::Transfer, "payload.reason")?;
        if p.evidence.is_empty() {
            return reject(
                Rule::Transfer,
                "payload.evidence",
                "a transfer needs at least one evidence link",
            );
        }
        check_evidence(&p.evidence, Rule::Transfer)
    }
}
