//! Rule rejections: which SPEC section 5 rule a statement broke, and where.

use crate::verdict::ProblemKind;
use serde::Serialize;
use std::fmt;

/// The rules of SPEC section 5 (and the formats of section 2).
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
}

impl Rule {
    /// Every rule, in the order of their ids.
    pub const ALL: [Rule; 11] = [
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
    fn evidence_must_be_http_urls() {
        assert!(is_evidence_url("https://gov.optimism.io/t/x/1"));
        assert!(is_evidence_url("http://example.org"));
        assert!(!is_evidence_url("ftp://example.org"));
        assert!(!is_evidence_url("https://"));
        assert!(!is_evidence_url("https://a b"));
    }
}
