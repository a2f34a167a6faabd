//! The HTTP API's JSON shapes, shared by the server (`http/`) and its client
//! (`cli::remote`): neither imports the other.

use crate::ledger::Signed;
use crate::service::Recorded;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The largest request body: room for a batch of statements, each of them at most
/// SPEC rule 8's 64 KiB.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// An RFC 9457 problem: `type`, `title`, `status`, `detail`, and for a statement
/// refused by a rule, the rule id and the offending field (and, in a batch, the
/// 1-based `index` of the statement).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// For a rule's rejection, its own words (the `detail` without the rule and
    /// field), so that a client rebuilds the rejection without parsing `detail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LedgerSummary {
    pub id: String,
    pub title: String,
    /// The head's seq (the number of events).
    pub head_seq: u64,
    pub head_hash: String,
    /// The dashboard and the API of this ledger.
    pub dashboard: String,
    pub api: String,
}

/// A recorded statement's place: the answer to `POST statements`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordedOut {
    pub seq: u64,
    pub hash: String,
    #[serde(rename = "type")]
    pub event_type: String,
}

impl From<&Recorded> for RecordedOut {
    fn from(r: &Recorded) -> Self {
        RecordedOut {
            seq: r.seq,
            hash: r.hash.to_hex(),
            event_type: r.event_type.clone(),
        }
    }
}

/// A signed statement (SPEC section 3): the six statement keys plus `sig`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct SignedStatement {
    pub ledger: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: String,
    pub actor: String,
    pub issued_at: String,
    pub payload: Value,
    /// base64 Ed25519 signature over "waymark-statement/v1\n" || JCS(statement)
    pub sig: String,
}

/// The JSON of a signed statement, as `POST statements` takes it.
pub fn signed_to_value(s: &Signed) -> Value {
    let mut v = s.statement.to_value();
    if let Value::Object(m) = &mut v {
        m.insert("sig".into(), Value::String(s.sig.clone()));
    }
    v
}

/// `GET /api/ledgers/{id}/bodies`: the status's `bodies` (SPEC section 13) at a point;
/// an empty list when the ledger defines none there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodiesOut {
    pub ledger: String,
    /// The point shown: the status's `as_of`.
    pub as_of: Option<waymark_projections::AsOf>,
    pub bodies: Vec<waymark_projections::BodyStatus>,
}

/// `GET /api/ledgers/{id}/decisions`: the decision map (the status's `decisions` and
/// `authority`, SPEC section 13) at a point; an empty list and zero counts when the
/// ledger defines no decision there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionsOut {
    pub ledger: String,
    /// The point shown: the status's `as_of`.
    pub as_of: Option<waymark_projections::AsOf>,
    pub decisions: Vec<waymark_projections::DecisionStatus>,
    pub authority: waymark_projections::Authority,
}

impl BodiesOut {
    pub fn of(status: waymark_projections::Status) -> Self {
        BodiesOut {
            ledger: status.ledger,
            as_of: status.as_of,
            bodies: status.bodies.unwrap_or_default(),
        }
    }
}

impl DecisionsOut {
    pub fn of(status: waymark_projections::Status) -> Self {
        DecisionsOut {
            ledger: status.ledger,
            as_of: status.as_of,
            decisions: status.decisions.unwrap_or_default(),
            authority: status.authority.unwrap_or_default(),
        }
    }
}
