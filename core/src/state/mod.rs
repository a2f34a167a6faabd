//! The ledger's rule state: what SPEC section 5 needs to judge the next statement.
//! Pure: `check` judges a statement, `apply` folds a recorded event. Both the
//! aggregate (on write) and `verify` (on replay) use exactly this code.
//!
//! # Layout
//! - this file — the state, and the order the rules run in (`judge`);
//! - `fields` — checks of single values and SPEC section 2's grammar;
//! - `strings` — one walk over a statement's strings (U+0000, rule 8's lengths);
//! - `signer` — rule 1, who may sign;
//! - one file per family of event types, each with its payload's checks:
//!   `ledger` (`LedgerOpened`), `actors`, `milestones` (rules 2 and 6), `status`
//!   (rule 3), `phases` (rule 4), `seasons` (rule 5), and section 13's: `bodies`
//!   (rule 9), `decisions` (rule 10, with the checks of every design and profile),
//!   `transfers` (rule 11), `hypotheses` (rule 12);
//! - `apply` — folding a recorded event in;
//! - `hints` — signatures checked ahead of the rules, on other threads.

mod actors;
mod apply;
mod bodies;
mod decisions;
mod fields;
mod hints;
mod hypotheses;
mod ledger;
mod milestones;
mod phases;
mod seasons;
mod signer;
mod status;
mod strings;
mod transfers;

pub use hints::KeyHints;
pub use signer::allowed_roles;

use crate::rules::{reject, Rejection, Rule};
use crate::verdict::ProblemKind;
use fields::{check_grammar, leaf_len};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strings::string_faults;
use waymark_events::{
    canonical_value, verify_canonical, BodyKind, Design, Framework, Hash, MilestoneState, Outcome,
    Payload, Role, Statement,
};

/// The roles of SPEC section 5, as their SPEC strings.
pub const ROLES: [&str; 3] = [
    Role::ALL[0].as_str(),
    Role::ALL[1].as_str(),
    Role::ALL[2].as_str(),
];
/// The milestone statuses of rule 3, as their SPEC strings.
pub const STATUSES: [&str; 3] = [
    MilestoneState::ALL[0].as_str(),
    MilestoneState::ALL[1].as_str(),
    MilestoneState::ALL[2].as_str(),
];
pub const MAX_STRING_CHARS: usize = 4096;
pub const MAX_EVIDENCE: usize = 16;
pub const MAX_STATEMENT_BYTES: usize = 64 * 1024;
/// SPEC v1.1 rule 8: an event's leaf bytes fit one C2SP tile entry (a 2-byte length).
pub const MAX_LEAF_BYTES: usize = 65_535;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub roles: Vec<Role>,
    pub public_key: String,
    pub retired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub title: String,
    pub layer: String,
    pub phase: String,
    pub status: MilestoneState,
    pub depends_on: Vec<String>,
    pub retired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Season {
    pub number: i64,
    pub open: bool,
    pub starts_on: String,
}

/// A body of SPEC section 13, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    pub title: String,
    pub kind: BodyKind,
    pub retired: bool,
}

/// A decision module of SPEC section 13, as the rules need it: its designs and its
/// hypotheses (`None` while open, then the outcome).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub current: Design,
    pub target: Option<Design>,
    pub hypotheses: BTreeMap<String, Option<Outcome>>,
}

/// The chain head: the last recorded event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: Hash,
    pub recorded_at: String,
}

/// Everything the rules look at. Small: it grows with actors and milestones, not with
/// the number of events, so a snapshot of it keeps appends O(1) in ledger length.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerState {
    pub ledger: String,
    pub title: String,
    pub origin: String,
    pub log_key: String,
    pub founder: String,
    pub framework: Framework,
    pub actors: BTreeMap<String, Actor>,
    pub milestones: BTreeMap<String, Milestone>,
    pub layer_phase: BTreeMap<String, String>,
    pub season: Option<Season>,
    pub head: Option<Head>,
    /// Section 13's bodies and decisions: absent from a state kept before v1.1, and
    /// left out while empty (a v1 ledger's state keeps its bytes).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bodies: BTreeMap<String, Body>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub decisions: BTreeMap<String, Decision>,
}

impl LedgerState {
    /// `LedgerOpened` has been applied (recorded, or earlier in the same batch).
    pub fn is_open(&self) -> bool {
        !self.ledger.is_empty()
    }

    pub fn next_seq(&self) -> u64 {
        self.head.as_ref().map_or(1, |h| h.seq + 1)
    }

    /// Judges a statement and its signature against the state. `ledger` is the id the
    /// statement is being recorded into. Rule 7 (replays) needs the set of recorded
    /// signatures, which the caller owns.
    pub fn check(&self, ledger: &str, st: &Statement, sig: &str) -> Result<(), Rejection> {
        self.check_preverified(ledger, st, sig, None)
    }

    /// The public key that signs for `actor` now, if it is registered: what a batch
    /// pre-verifies its signatures with (see [`Self::check_preverified`]).
    pub fn current_key(&self, actor: &str) -> Option<&str> {
        self.actors.get(actor).map(|a| a.public_key.as_str())
    }

    /// [`Self::check`], told that `sig` was already verified under `verified_with`.
    /// The check is skipped only when that is the very key rule 1 requires here (a
    /// key rotated earlier in the batch makes it verify again), so the outcome is
    /// the same as `check`'s.
    pub fn check_preverified(
        &self,
        ledger: &str,
        st: &Statement,
        sig: &str,
        verified_with: Option<&str>,
    ) -> Result<(), Rejection> {
        self.judge(ledger, st, sig, verified_with)
            .map_err(|(_, rejection)| rejection)
    }

    /// [`Self::check_preverified`], with the `problem` a verifier reports for the
    /// refusal: `malformed` where the statement breaks SPEC section 2's grammar, the
    /// rule's own problem otherwise.
    pub fn judge(
        &self,
        ledger: &str,
        st: &Statement,
        sig: &str,
        verified_with: Option<&str>,
    ) -> Result<(), (ProblemKind, Rejection)> {
        let value = st.to_value();
        let jcs = canonical_value(&value);
        let rule = |r: Rejection| (r.rule.problem(), r);
        let size = jcs.len();
        if size > MAX_STATEMENT_BYTES {
            return reject(
                Rule::Limits,
                "statement",
                format!("{size} bytes exceeds {MAX_STATEMENT_BYTES}"),
            )
            .map_err(rule);
        }
        let strings = string_faults(&value);
        check_grammar(st, strings.nul).map_err(|r| (ProblemKind::Malformed, r))?;
        self.check_rules(ledger, st, sig, verified_with, strings.long, &jcs)
            .map_err(rule)
    }

    fn check_rules(
        &self,
        ledger: &str,
        st: &Statement,
        sig: &str,
        verified_with: Option<&str>,
        long_string: Option<(String, usize)>,
        jcs: &[u8],
    ) -> Result<(), Rejection> {
        let leaf = leaf_len(jcs.len(), self.next_seq(), sig);
        if leaf > MAX_LEAF_BYTES {
            return reject(
                Rule::Limits,
                "statement",
                format!(
                    "the event would have {leaf} leaf bytes, over {MAX_LEAF_BYTES} (one C2SP tile entry)"
                ),
            );
        }
        if let Some((path, n)) = long_string {
            return reject(
                Rule::Limits,
                path,
                format!("string of {n} characters exceeds {MAX_STRING_CHARS}"),
            );
        }
        if st.ledger != ledger {
            return reject(
                Rule::Signer,
                "ledger",
                format!("statement is for ledger {:?}, not {ledger:?}", st.ledger),
            );
        }
        if st.version != "1" {
            return reject(
                Rule::Signer,
                "version",
                format!("version must be \"1\", got {:?}", st.version),
            );
        }
        let key = self.check_signer(st)?;
        if verified_with != Some(key.as_str()) {
            if let Err(e) = verify_canonical(jcs, sig, &key) {
                return reject(Rule::Signature, "sig", e.to_string());
            }
        }
        self.check_payload(st)
    }

    /// The checks of the payload of each event type: one function per family.
    fn check_payload(&self, st: &Statement) -> Result<(), Rejection> {
        match &st.payload {
            Payload::LedgerOpened(p) => self.check_ledger_opened(&st.ledger, p),
            Payload::ActorRegistered(p) => self.check_actor_registered(p),
            Payload::ActorRolesChanged(p) => self.check_actor_roles_changed(p),
            Payload::ActorKeyRotated(p) => self.check_actor_key_rotated(p),
            Payload::ActorRetired(p) => self.check_actor_retired(p),
            Payload::MilestoneDefined(p) => self.check_milestone_defined(p),
            Payload::MilestoneRevised(p) => self.check_milestone_revised(p),
            Payload::MilestoneRetired(p) => self.check_milestone_retired(p),
            Payload::MilestoneStatusChanged(p) => self.check_status_change(p),
            Payload::PhaseTransitioned(p) => self.check_phase_transitioned(p),
            Payload::SeasonOpened(p) => self.check_season_opened(p),
            Payload::SeasonReEvaluated(p) => self.check_season_re_evaluated(p),
            Payload::BodyDefined(p) => self.check_body_defined(p),
            Payload::BodyRevised(p) => self.check_body_revised(p),
            Payload::BodyRetired(p) => self.check_body_retired(p),
            Payload::DecisionDefined(p) => self.check_decision_defined(p),
            Payload::DecisionRevised(p) => self.check_decision_revised(p),
            Payload::AuthorityTransferred(p) => self.check_authority_transferred(p),
            Payload::HypothesisStated(p) => self.check_hypothesis_stated(p),
            Payload::HypothesisConcluded(p) => self.check_hypothesis_concluded(p),
        }
    }
}
