//! The "Decision authority" part of a Season review (SPEC section 13): transfers,
//! hypotheses and the bodies and modules defined, revised or retired in the Season.

use crate::diff::Change;
use crate::status::Authority;
use serde::{Deserialize, Serialize};
use waymark_events::{Design, Payload};

/// An `AuthorityTransferred` during the season: who decided the module before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub decision: String,
    /// The module's title at the season's end.
    pub title: String,
    pub effective_on: String,
    pub from: Design,
    pub to: Design,
    pub reason: String,
    pub evidence: Vec<String>,
    pub actor: String,
    pub seq: u64,
}

/// A `HypothesisStated` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HypothesisStatement {
    pub decision: String,
    pub id: String,
    pub statement: String,
    pub measure: String,
    pub actor: String,
    pub seq: u64,
}

/// A `HypothesisConcluded` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HypothesisConclusion {
    pub decision: String,
    pub id: String,
    pub outcome: String,
    pub note: String,
    pub evidence: Vec<String>,
    pub actor: String,
    pub seq: u64,
}

/// A body or decision module defined, revised or retired during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernanceChange {
    /// `body` or `decision`.
    pub subject: String,
    /// `defined`, `revised` or `retired`.
    pub change: String,
    pub id: String,
    /// The title defined, or given by the revision (empty when it keeps the old one).
    pub title: String,
    /// A defined body's kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A defined module's layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// A revision's fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// A revision's or retirement's reason (empty for a definition).
    pub reason: String,
    /// A defined module's current design.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Design>,
    /// The target a module is defined or revised with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Design>,
    pub actor: String,
    pub seq: u64,
}

/// Section 13 during the season: the counts at its start and end, every authority
/// transfer, hypothesis stated and concluded, and body or module defined, revised or
/// retired, each in seq order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionAuthority {
    /// `null` on a side where no body or decision is defined yet.
    pub authority: Change<Option<Authority>>,
    pub transfers: Vec<Transfer>,
    pub hypotheses_stated: Vec<HypothesisStatement>,
    pub hypotheses_concluded: Vec<HypothesisConclusion>,
    pub changes: Vec<GovernanceChange>,
}

/// A body or decision module defined, revised or retired, from its event.
pub(super) fn governance_change(
    payload: &Payload,
    actor: &str,
    seq: u64,
) -> Option<GovernanceChange> {
    let change = |subject: &str, change: &str, id: &str| GovernanceChange {
        subject: subject.into(),
        change: change.into(),
        id: id.into(),
        title: String::new(),
        kind: None,
        layer: None,
        fields: Vec::new(),
        reason: String::new(),
        current: None,
        target: None,
        actor: actor.into(),
        seq,
    };
    Some(match payload {
        Payload::BodyDefined(p) => GovernanceChange {
            title: p.title.clone(),
            kind: Some(p.kind.clone()),
            ..change("body", "defined", &p.id)
        },
        Payload::BodyRevised(p) => GovernanceChange {
            title: p.title.clone().unwrap_or_default(),
            fields: p.revised_fields().into_iter().map(String::from).collect(),
            reason: p.reason.clone(),
            ..change("body", "revised", &p.id)
        },
        Payload::BodyRetired(p) => GovernanceChange {
            reason: p.reason.clone(),
            ..change("body", "retired", &p.id)
        },
        Payload::DecisionDefined(p) => GovernanceChange {
            title: p.title.clone(),
            layer: Some(p.layer.clone()),
            current: Some(p.current.clone()),
            target: p.target.clone(),
            ..change("decision", "defined", &p.id)
        },
        Payload::DecisionRevised(p) => GovernanceChange {
            title: p.title.clone().unwrap_or_default(),
            fields: p.revised_fields().into_iter().map(String::from).collect(),
            reason: p.reason.clone(),
            target: p.target.clone(),
            ..change("decision", "revised", &p.id)
        },
        _ => return None,
    })
}
