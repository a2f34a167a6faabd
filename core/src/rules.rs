//! Rule rejections: which SPEC rule (section 5, and section 13's rules 9 to 12) a
//! statement broke, and where.

use crate::verdict::ProblemKind;
use serde::Serialize;
use std::fmt;

/// The rules of SPEC section 5 (and the formats of section 2), then section 13's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Rule {
    /// Section 2: timestamps, dates, ids.
    Format,
    /// Rule 1: the signer is registered, allowed, and the ledger and version match.
    Signer,
    /// Rule 1: the signer is not registered.
    UnknownActor,
    /// Rule 1: `sig` does not verify with the actor's current key.
    Signature,
    /// Rule 2: milestone ids, layers, phases, dependencies.
    Milestone,
    /// Rule 3: status values and transitions.
    Status,
    /// Rule 4: phase transitions.
    Phase,
    /// Rule 5: seasons.
    Season,
    /// Rule 6: retired milestones and actors.
    Retired,
    /// Rule 7: no replays.
    Replay,
    /// Rule 8: size limits.
    Limits,
    /// Rule 9 (section 13): bodies: ids, kinds, revising and retiring them.
    Body,
    /// Rule 10 (section 13): decision modules: ids, layer, principles, milestones,
    /// designs (canonical, naming live bodies, values in range) and profiles.
    Decision,
    /// Rule 11 (section 13): `AuthorityTransferred` moves the current design.
    Transfer,
    /// Rule 12 (section 13): hypotheses stated and concluded.
    Hypothesis,
}

impl Rule {
    /// Every rule, in the order of their ids.
    pub const ALL: [Rule; 15] = [
        Rule::Format,
        Rule::Signer,
        Rule::UnknownActor,
        Rule::Signature,
        Rule::Milestone,
        Rule::Status,
        Rule::Phase,
        Rule::Season,
        Rule::Retired,
        Rule::Replay,
        Rule::Limits,
        Rule::Body,
        Rule::Decision,
        Rule::Transfer,
        Rule::Hypothesis,
    ];

    /// The rule with this stable id (`R3-status`), as a problem's `rule` names it.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }

    /// Stable id, as printed and as returned by the API.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Format => "R0-format",
            Rule::Signer => "R1-signer",
            Rule::UnknownActor => "R1-unknown-actor",
            Rule::Signature => "R1-signature",
            Rule::Milestone => "R2-milestone",
            Rule::Status => "R3-status",
            Rule::Phase => "R4-phase",
            Rule::Season => "R5-season",
            Rule::Retired => "R6-retired",
            Rule::Replay => "R7-replay",
            Rule::Limits => "R8-limits",
            Rule::Body => "R9-body",
            Rule::Decision => "R10-decision",
            Rule::Transfer => "R11-transfer",
            Rule::Hypothesis => "R12-hypothesis",
        }
    }

    /// The `problem` that `verify` reports when a recorded event breaks this rule.
    pub fn problem(self) -> ProblemKind {
        match self {
            Rule::UnknownActor => ProblemKind::UnknownActor,
            Rule::Signature => ProblemKind::BadSignature,
            _ => ProblemKind::RuleViolation,
        }
    }
}

/// A statement refused by a rule: names the rule and the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Rejection {
    pub rule: Rule,
    /// A path into the statement, e.g. `payload.depends_on[1]`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule {} violated at {}: {}",
            self.rule.id(),
            self.field,
            self.message
        )
    }
}

pub fn reject<T>(
    rule: Rule,
    field: impl Into<String>,
    message: impl Into<String>,
) -> Result<T, Rejection> {
    Err(Rejection {
        rule,
        field: field.into(),
        message: message.into(),
    })
}

/// `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`: milestone ids (and actor ids).
pub fn is_milestone_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// `^[a-z0-9][a-z0-9-]{0,62}$`: ledger ids.
pub fn is_ledger_id(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty() && b.len() <= 63 && ok(&b[0]) && b[1..].iter().all(|c| ok(c) || *c == b'-')
}

/// An `http://` or `https://` URL with a host.
pub fn is_evidence_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milestone_ids_follow_the_spec_pattern() {
        assert!(is_milestone_id("T-B1"));
        assert!(is_milestone_id("a.b_c-d"));
        assert!(is_milestone_id(&"x".repeat(64)));
        assert!(!is_milestone_id(&"x".repeat(65)));
        assert!(!is_milestone_id("-a"));
        assert!(!is_milestone_id(""));
        assert!(!is_milestone_id("a b"));
    }

    #[test]
    fn ledger_ids_are_lowercase() {
        assert!(is_ledger_id("optimism"));
        assert!(is_ledger_id("op-mainnet-2"));
        assert!(!is_ledger_id("Optimism"));
        assert!(!is_ledger_id("-x"));
        assert!(!is_ledger_id(&"a".repeat(64)));
    }

    #[test]
    fn every_rule_has_a_distinct_id_that_names_it_back() {
        let ids: std::collections::BTreeSet<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        assert_eq!(ids.len(), Rule::ALL.len());
        for r in Rule::ALL {
            assert_eq!(Rule::from_id(r.id()), Some(r));
        }
        assert_eq!(Rule::Body.id(), "R9-body");
        assert_eq!(Rule::Decision.id(), "R10-decision");
        assert_eq!(Rule::Transfer.id(), "R11-transfer");
        assert_eq!(Rule::Hypothesis.id(), "R12-hypothesis");
        assert_eq!(Rule::Hypothesis.problem(), ProblemKind::RuleViolation);
    }

    #[test]
    fn evidence_must_be_http_urls() {
        assert!(is_evidence_url("https://gov.optimism.io/t/x/1"));
        assert!(is_evidence_url("http://example.org"));
        assert!(!is_evidence_url("ftp://example.org"));
        assert!(!is_evidence_url("https://"));
        assert!(!is_evidence_url("https://a b"));
    }
}
