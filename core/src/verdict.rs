//! What a verifier reports (SPEC section 10): the kind of problem, where the chain
//! stopped verifying, and the report.

use serde::{Deserialize, Serialize};
use std::fmt;
use waymark_events::Hash;

/// The `problem` of a verification report (SPEC section 10), serialized to its SPEC
/// string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// An event's bytes do not hash to the hash stored or exported with it.
    HashMismatch,
    /// `prev` is not the hash of the event before.
    PrevMismatch,
    /// `seq` is not the next number.
    SeqGap,
    /// The signature does not verify under the actor's key (rule 1).
    BadSignature,
    /// The signer is not registered (rule 1).
    UnknownActor,
    /// Any other rule of SPEC section 5.
    RuleViolation,
    /// `recorded_at` goes back in time.
    TimeRegression,
    /// A checkpoint, root or proof does not match the log.
    CheckpointMismatch,
    /// A snapshot's status projection differs from the one recomputed.
    StatusMismatch,
    /// The log ends early (or is shorter than an artifact says).
    Truncated,
    /// Something is not of the shape or grammar the SPEC gives.
    Malformed,
    /// (v1.1) Fewer valid witness cosignatures on the checkpoint than the quorum asked
    /// for (C2SP tlog-cosignature).
    WitnessQuorum,
}

impl ProblemKind {
    /// Every kind, in SPEC section 10's order.
    pub const ALL: [ProblemKind; 12] = [
        ProblemKind::HashMismatch,
        ProblemKind::PrevMismatch,
        ProblemKind::SeqGap,
        ProblemKind::BadSignature,
        ProblemKind::UnknownActor,
        ProblemKind::RuleViolation,
        ProblemKind::TimeRegression,
        ProblemKind::CheckpointMismatch,
        ProblemKind::StatusMismatch,
        ProblemKind::Truncated,
        ProblemKind::Malformed,
        ProblemKind::WitnessQuorum,
    ];

    /// The SPEC string.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProblemKind::HashMismatch => "hash_mismatch",
            ProblemKind::PrevMismatch => "prev_mismatch",
            ProblemKind::SeqGap => "seq_gap",
            ProblemKind::BadSignature => "bad_signature",
            ProblemKind::UnknownActor => "unknown_actor",
            ProblemKind::RuleViolation => "rule_violation",
            ProblemKind::TimeRegression => "time_regression",
            ProblemKind::CheckpointMismatch => "checkpoint_mismatch",
            ProblemKind::StatusMismatch => "status_mismatch",
            ProblemKind::Truncated => "truncated",
            ProblemKind::Malformed => "malformed",
            ProblemKind::WitnessQuorum => "witness_quorum",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ProblemKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Where and why a chain stopped verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub seq: u64,
    pub problem: ProblemKind,
    pub detail: String,
}

/// `{"ok","checked","head":{"seq","hash"},"first_bad_seq","problem","detail"}` (SPEC 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checked: u64,
    pub head: Option<HeadRef>,
    pub first_bad_seq: Option<u64>,
    pub problem: Option<ProblemKind>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeadRef {
    pub seq: u64,
    pub hash: Hash,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_serialize_to_their_spec_strings() {
        let spec = [
            "hash_mismatch",
            "prev_mismatch",
            "seq_gap",
            "bad_signature",
            "unknown_actor",
            "rule_violation",
            "time_regression",
            "checkpoint_mismatch",
            "status_mismatch",
            "truncated",
            "malformed",
        ];
        for (kind, text) in ProblemKind::ALL.into_iter().zip(spec) {
            assert_eq!(kind.as_str(), text);
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{text}\""));
            assert_eq!(
                serde_json::from_str::<ProblemKind>(&format!("\"{text}\"")).unwrap(),
                kind
            );
        }
        let report = Report {
            ok: false,
            checked: 2,
            head: None,
            first_bad_seq: Some(3),
            problem: Some(ProblemKind::SeqGap),
            detail: "d".into(),
        };
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"ok":false,"checked":2,"head":null,"first_bad_seq":3,"problem":"seq_gap","detail":"d"}"#
        );
    }
}
