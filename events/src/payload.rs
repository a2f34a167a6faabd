//! One struct per event type of SPEC section 5 (section 13's are in `decision`). Unknown
//! keys are refused, optional keys are omitted (never `null`), so a payload re-serializes
//! to the value it came from.

pub use crate::decision::{
    AuthorityTransferred, BodyDefined, BodyRetired, BodyRevised, DecisionDefined, DecisionRevised,
    HypothesisConcluded, HypothesisStated,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// The event types of SPEC section 5, in the table's order, then those of section 13
/// (v1.1), in its table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    LedgerOpened,
    ActorRegistered,
    ActorRolesChanged,
    ActorKeyRotated,
    ActorRetired,
    MilestoneDefined,
    MilestoneRevised,
    MilestoneRetired,
    MilestoneStatusChanged,
    PhaseTransitioned,
    SeasonOpened,
    SeasonReEvaluated,
    BodyDefined,
    BodyRevised,
    BodyRetired,
    DecisionDefined,
    DecisionRevised,
    AuthorityTransferred,
    HypothesisStated,
    HypothesisConcluded,
}

impl EventType {
    pub const ALL: [EventType; 20] = [
        EventType::LedgerOpened,
        EventType::ActorRegistered,
        EventType::ActorRolesChanged,
        EventType::ActorKeyRotated,
        EventType::ActorRetired,
        EventType::MilestoneDefined,
        EventType::MilestoneRevised,
        EventType::MilestoneRetired,
        EventType::MilestoneStatusChanged,
        EventType::PhaseTransitioned,
        EventType::SeasonOpened,
        EventType::SeasonReEvaluated,
        EventType::BodyDefined,
        EventType::BodyRevised,
        EventType::BodyRetired,
        EventType::DecisionDefined,
        EventType::DecisionRevised,
        EventType::AuthorityTransferred,
        EventType::HypothesisStated,
        EventType::HypothesisConcluded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LedgerOpened => "LedgerOpened",
            EventType::ActorRegistered => "ActorRegistered",
            EventType::ActorRolesChanged => "ActorRolesChanged",
            EventType::ActorKeyRotated => "ActorKeyRotated",
            EventType::ActorRetired => "ActorRetired",
            EventType::MilestoneDefined => "MilestoneDefined",
            EventType::MilestoneRevised => "MilestoneRevised",
            EventType::MilestoneRetired => "MilestoneRetired",
            EventType::MilestoneStatusChanged => "MilestoneStatusChanged",
            EventType::PhaseTransitioned => "PhaseTransitioned",
            EventType::SeasonOpened => "SeasonOpened",
            EventType::SeasonReEvaluated => "SeasonReEvaluated",
            EventType::BodyDefined => "BodyDefined",
            EventType::BodyRevised => "BodyRevised",
            EventType::BodyRetired => "BodyRetired",
            EventType::DecisionDefined => "DecisionDefined",
            EventType::DecisionRevised => "DecisionRevised",
            EventType::AuthorityTransferred => "AuthorityTransferred",
            EventType::HypothesisStated => "HypothesisStated",
            EventType::HypothesisConcluded => "HypothesisConcluded",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `type` that names no event type of SPEC sections 5 and 13.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownEventType(s.to_owned()))
    }
}

/// Why a JSON value is not the payload of its event type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// An unknown or missing key, or a value of the wrong type (serde's message).
    #[error("{0}")]
    Shape(String),
    /// `null` where an optional key should have been left out.
    #[error("optional keys must be omitted, not null")]
    NullOptional,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Founder {
    pub actor: String,
    pub name: String,
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principle {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerDef {
    pub id: String,
    pub title: String,
    pub phases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseDef {
    pub id: String,
    pub title: String,
    pub description: String,
}

/// The framework as `LedgerOpened` carries it (milestones follow as `MilestoneDefined`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub id: String,
    pub version: String,
    pub title: String,
    pub principles: Vec<Principle>,
    pub layers: Vec<LayerDef>,
    pub phases: Vec<PhaseDef>,
}

impl Framework {
    pub fn layer(&self, id: &str) -> Option<&LayerDef> {
        self.layers.iter().find(|l| l.id == id)
    }

    /// Each layer's starting phase (its first), keyed by layer id.
    pub fn initial_phases(&self) -> std::collections::BTreeMap<String, String> {
        self.layers
            .iter()
            .filter_map(|l| Some((l.id.clone(), l.phases.first()?.clone())))
            .collect()
    }

    /// Position of a phase in the framework's `phases` list ("framework order").
    pub fn phase_rank(&self, id: &str) -> Option<usize> {
        self.phases.iter().position(|p| p.id == id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerOpened {
    pub title: String,
    pub origin: String,
    pub log_key: String,
    pub founder: Founder,
    pub framework: Framework,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorRegistered {
    pub actor: String,
    pub name: String,
    pub roles: Vec<String>,
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorRolesChanged {
    pub actor: String,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorKeyRotated {
    pub actor: String,
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorRetired {
    pub actor: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneDefined {
    pub id: String,
    pub title: String,
    pub layer: String,
    pub phase: String,
    pub description: String,
    pub principles: Vec<String>,
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MilestoneRevised {
    pub id: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<String>>,
}

impl MilestoneRevised {
    /// Applies the revised fields that the status and the rules keep.
    pub fn apply_to(&self, title: &mut String, phase: &mut String, depends_on: &mut Vec<String>) {
        if let Some(t) = &self.title {
            t.clone_into(title);
        }
        if let Some(p) = &self.phase {
            p.clone_into(phase);
        }
        if let Some(d) = &self.depends_on {
            depends_on.clone_from(d);
        }
    }

    /// Names of the fields this revision changes, in payload order.
    pub fn revised_fields(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.title.is_some() {
            out.push("title");
        }
        if self.description.is_some() {
            out.push("description");
        }
        if self.phase.is_some() {
            out.push("phase");
        }
        if self.principles.is_some() {
            out.push("principles");
        }
        if self.depends_on.is_some() {
            out.push("depends_on");
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneRetired {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneStatusChanged {
    pub id: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub evidence: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseTransitioned {
    pub layer: String,
    pub from: String,
    pub to: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeasonOpened {
    pub season: i64,
    pub starts_on: String,
    pub intent: String,
    pub focus: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    pub milestone: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeasonReEvaluated {
    pub season: i64,
    pub ends_on: String,
    pub summary: String,
    pub assessments: Vec<Assessment>,
}

/// A typed payload. Serialized on its own (the `type` lives beside it in the statement).
/// The payloads that carry designs are boxed: they are several times the size of the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    LedgerOpened(LedgerOpened),
    ActorRegistered(ActorRegistered),
    ActorRolesChanged(ActorRolesChanged),
    ActorKeyRotated(ActorKeyRotated),
    ActorRetired(ActorRetired),
    MilestoneDefined(MilestoneDefined),
    MilestoneRevised(MilestoneRevised),
    MilestoneRetired(MilestoneRetired),
    MilestoneStatusChanged(MilestoneStatusChanged),
    PhaseTransitioned(PhaseTransitioned),
    SeasonOpened(SeasonOpened),
    SeasonReEvaluated(SeasonReEvaluated),
    BodyDefined(BodyDefined),
    BodyRevised(BodyRevised),
    BodyRetired(BodyRetired),
    DecisionDefined(Box<DecisionDefined>),
    DecisionRevised(Box<DecisionRevised>),
    AuthorityTransferred(Box<AuthorityTransferred>),
    HypothesisStated(HypothesisStated),
    HypothesisConcluded(HypothesisConcluded),
}

macro_rules! each_payload {
    ($self:expr, $p:ident => $body:expr) => {
        match $self {
            Payload::LedgerOpened($p) => $body,
            Payload::ActorRegistered($p) => $body,
            Payload::ActorRolesChanged($p) => $body,
            Payload::ActorKeyRotated($p) => $body,
            Payload::ActorRetired($p) => $body,
            Payload::MilestoneDefined($p) => $body,
            Payload::MilestoneRevised($p) => $body,
            Payload::MilestoneRetired($p) => $body,
            Payload::MilestoneStatusChanged($p) => $body,
            Payload::PhaseTransitioned($p) => $body,
            Payload::SeasonOpened($p) => $body,
            Payload::SeasonReEvaluated($p) => $body,
            Payload::BodyDefined($p) => $body,
            Payload::BodyRevised($p) => $body,
            Payload::BodyRetired($p) => $body,
            Payload::DecisionDefined($p) => $body,
            Payload::DecisionRevised($p) => $body,
            Payload::AuthorityTransferred($p) => $body,
            Payload::HypothesisStated($p) => $body,
            Payload::HypothesisConcluded($p) => $body,
        }
    };
}

impl Payload {
    pub fn event_type(&self) -> EventType {
        match self {
            Payload::LedgerOpened(_) => EventType::LedgerOpened,
            Payload::ActorRegistered(_) => EventType::ActorRegistered,
            Payload::ActorRolesChanged(_) => EventType::ActorRolesChanged,
            Payload::ActorKeyRotated(_) => EventType::ActorKeyRotated,
            Payload::ActorRetired(_) => EventType::ActorRetired,
            Payload::MilestoneDefined(_) => EventType::MilestoneDefined,
            Payload::MilestoneRevised(_) => EventType::MilestoneRevised,
            Payload::MilestoneRetired(_) => EventType::MilestoneRetired,
            Payload::MilestoneStatusChanged(_) => EventType::MilestoneStatusChanged,
            Payload::PhaseTransitioned(_) => EventType::PhaseTransitioned,
            Payload::SeasonOpened(_) => EventType::SeasonOpened,
            Payload::SeasonReEvaluated(_) => EventType::SeasonReEvaluated,
            Payload::BodyDefined(_) => EventType::BodyDefined,
            Payload::BodyRevised(_) => EventType::BodyRevised,
            Payload::BodyRetired(_) => EventType::BodyRetired,
            Payload::DecisionDefined(_) => EventType::DecisionDefined,
            Payload::DecisionRevised(_) => EventType::DecisionRevised,
            Payload::AuthorityTransferred(_) => EventType::AuthorityTransferred,
            Payload::HypothesisStated(_) => EventType::HypothesisStated,
            Payload::HypothesisConcluded(_) => EventType::HypothesisConcluded,
        }
    }

    /// The payload as a JSON value (what is signed and hashed).
    pub fn to_value(&self) -> Value {
        each_payload!(self, p => serde_json::to_value(p).unwrap_or(Value::Null))
    }

    /// Reads a payload of the given type. Refuses unknown keys, wrong types, and `null`
    /// in place of an omitted optional key (the value must round-trip exactly).
    pub fn from_value(kind: EventType, value: &Value) -> Result<Payload, PayloadError> {
        fn read<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, PayloadError> {
            T::deserialize(v).map_err(|e| PayloadError::Shape(e.to_string()))
        }
        let payload = match kind {
            EventType::LedgerOpened => Payload::LedgerOpened(read(value)?),
            EventType::ActorRegistered => Payload::ActorRegistered(read(value)?),
            EventType::ActorRolesChanged => Payload::ActorRolesChanged(read(value)?),
            EventType::ActorKeyRotated => Payload::ActorKeyRotated(read(value)?),
            EventType::ActorRetired => Payload::ActorRetired(read(value)?),
            EventType::MilestoneDefined => Payload::MilestoneDefined(read(value)?),
            EventType::MilestoneRevised => Payload::MilestoneRevised(read(value)?),
            EventType::MilestoneRetired => Payload::MilestoneRetired(read(value)?),
            EventType::MilestoneStatusChanged => Payload::MilestoneStatusChanged(read(value)?),
            EventType::PhaseTransitioned => Payload::PhaseTransitioned(read(value)?),
            EventType::SeasonOpened => Payload::SeasonOpened(read(value)?),
            EventType::SeasonReEvaluated => Payload::SeasonReEvaluated(read(value)?),
            EventType::BodyDefined => Payload::BodyDefined(read(value)?),
            EventType::BodyRevised => Payload::BodyRevised(read(value)?),
            EventType::BodyRetired => Payload::BodyRetired(read(value)?),
            EventType::DecisionDefined => Payload::DecisionDefined(read(value)?),
            EventType::DecisionRevised => Payload::DecisionRevised(read(value)?),
            EventType::AuthorityTransferred => Payload::AuthorityTransferred(read(value)?),
            EventType::HypothesisStated => Payload::HypothesisStated(read(value)?),
            EventType::HypothesisConcluded => Payload::HypothesisConcluded(read(value)?),
        };
        if &payload.to_value() != value {
            return Err(PayloadError::NullOptional);
        }
        Ok(payload)
    }

    /// The milestone this event is about, if any.
    pub fn milestone_id(&self) -> Option<&str> {
        match self {
            Payload::MilestoneDefined(p) => Some(&p.id),
            Payload::MilestoneRevised(p) => Some(&p.id),
            Payload::MilestoneRetired(p) => Some(&p.id),
            Payload::MilestoneStatusChanged(p) => Some(&p.id),
            _ => None,
        }
    }

    /// The decision module this event is about, if any (section 13).
    pub fn decision_id(&self) -> Option<&str> {
        match self {
            Payload::DecisionDefined(p) => Some(&p.id),
            Payload::DecisionRevised(p) => Some(&p.id),
            Payload::AuthorityTransferred(p) => Some(&p.decision),
            Payload::HypothesisStated(p) => Some(&p.decision),
            Payload::HypothesisConcluded(p) => Some(&p.decision),
            _ => None,
        }
    }

    /// The body this event is about, if any (section 13).
    pub fn body_id(&self) -> Option<&str> {
        match self {
            Payload::BodyDefined(p) => Some(&p.id),
            Payload::BodyRevised(p) => Some(&p.id),
            Payload::BodyRetired(p) => Some(&p.id),
            _ => None,
        }
    }
}

impl Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        each_payload!(self, p => p.serialize(s))
    }
}
