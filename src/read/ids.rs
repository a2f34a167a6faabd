//! The ids an event names, for `history ID` (SPEC section 13): milestones, decisions
//! and bodies are three namespaces, so the audit trail's index column keeps milestone
//! ids as they always were (`,M1,M2,`) and adds the others tagged with their kind
//! (`,M1,decision:upgrades,body:foundation,`). Ids follow the milestone-id pattern,
//! which has no `:`, so a tagged entry never equals a milestone id and the milestone
//! filter reads the column as before.

use serde::{Deserialize, Serialize};
use waymark_events::{Design, Event, Payload};
use waymark_projections::HistoryRow;

/// The namespace an id was matched in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdKind {
    Milestone,
    Decision,
    Body,
}

impl IdKind {
    pub const ALL: [IdKind; 3] = [IdKind::Milestone, IdKind::Decision, IdKind::Body];

    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::Milestone => "milestone",
            IdKind::Decision => "decision",
            IdKind::Body => "body",
        }
    }

    /// The tag an id of this kind carries in the index column (milestones: none).
    pub fn tag(self) -> &'static str {
        match self {
            IdKind::Milestone => "",
            IdKind::Decision => "decision:",
            IdKind::Body => "body:",
        }
    }
}

/// The decisions and bodies `payload` names, tagged: the decision a statement is
/// about, and every body it defines, revises, retires, or names in a design
/// (`current`/`target` of a definition, `target` of a revision, `from`/`to` of a
/// transfer). In order of first appearance, without repeats.
pub fn tagged_ids(payload: &Payload) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |kind: IdKind, id: &str| {
        let t = format!("{}{id}", kind.tag());
        if !out.contains(&t) {
            out.push(t);
        }
    };
    let mut designs: Vec<&Design> = Vec::new();
    match payload {
        Payload::BodyDefined(p) => push(IdKind::Body, &p.id),
        Payload::BodyRevised(p) => push(IdKind::Body, &p.id),
        Payload::BodyRetired(p) => push(IdKind::Body, &p.id),
        Payload::DecisionDefined(p) => {
            push(IdKind::Decision, &p.id);
            designs.push(&p.current);
            designs.extend(&p.target);
        }
        Payload::DecisionRevised(p) => {
            push(IdKind::Decision, &p.id);
            designs.extend(&p.target);
        }
        Payload::AuthorityTransferred(p) => {
            push(IdKind::Decision, &p.decision);
            designs.push(&p.from);
            designs.push(&p.to);
        }
        Payload::HypothesisStated(p) => push(IdKind::Decision, &p.decision),
        Payload::HypothesisConcluded(p) => push(IdKind::Decision, &p.decision),
        _ => {}
    }
    for d in designs {
        for b in d.bodies() {
            push(IdKind::Body, b);
        }
    }
    out
}

/// The audit trail's index column for a row and its event: `,` + the row's
/// milestones, then the tagged decision and body ids, each followed by `,`.
pub fn index_column(row: &HistoryRow, payload: &Payload) -> String {
    let mut ids = row.milestones.clone();
    ids.extend(tagged_ids(payload));
    format!(",{},", ids.join(","))
}

/// The kinds under which `id` appears in an index column, in [`IdKind::ALL`] order.
pub fn kinds_in(column: &str, id: &str) -> Vec<IdKind> {
    if id.is_empty() {
        return Vec::new();
    }
    IdKind::ALL
        .into_iter()
        .filter(|k| {
            column
                .split(',')
                .any(|e| e.strip_prefix(k.tag()) == Some(id))
        })
        .collect()
}

/// An audit row with its index column.
#[derive(Debug, Clone)]
pub struct IndexedRow {
    pub row: HistoryRow,
    pub ids: String,
}

impl IndexedRow {
    pub fn new(row: HistoryRow, event: &Event) -> Self {
        let ids = index_column(&row, &event.statement.payload);
        IndexedRow { row, ids }
    }
}

/// Since when a decision module has its current design, as of some point: the last
/// `AuthorityTransferred` about it (`on` its `effective_on`) or, when authority never
/// moved, its `DecisionDefined` (`on` the day it was recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Since {
    pub seq: u64,
    pub on: String,
    /// `AuthorityTransferred` or `DecisionDefined`.
    pub by: String,
}

/// What an event says about [`Since`]: the decision and its new `Since`, for a
/// `DecisionDefined` or an `AuthorityTransferred`.
pub fn since_of(event: &Event) -> Option<(String, Since)> {
    let (id, on) = match &event.statement.payload {
        Payload::DecisionDefined(p) => (p.id.clone(), day(&event.recorded_at)),
        Payload::AuthorityTransferred(p) => (p.decision.clone(), p.effective_on.clone()),
        _ => return None,
    };
    let by = event.statement.event_type().as_str().to_string();
    Some((
        id,
        Since {
            seq: event.seq,
            on,
            by,
        },
    ))
}

/// The same from a stored audit row and its index column.
pub fn since_of_row(r: &IndexedRow) -> Option<(String, Since)> {
    let on = match r.row.event_type.as_str() {
        "DecisionDefined" => day(&r.row.recorded_at),
        "AuthorityTransferred" => r.row.effective_on.clone()?,
        _ => return None,
    };
    let id = r
        .ids
        .split(',')
        .find_map(|e| e.strip_prefix(IdKind::Decision.tag()))?;
    Some((
        id.to_string(),
        Since {
            seq: r.row.seq,
            on,
            by: r.row.event_type.clone(),
        },
    ))
}

fn day(timestamp: &str) -> String {
    timestamp.get(..10).unwrap_or(timestamp).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_read_back_from_the_column() {
        let col = ",M1,x,decision:x,body:b,body:x,";
        assert_eq!(
            kinds_in(col, "x"),
            [IdKind::Milestone, IdKind::Decision, IdKind::Body]
        );
        assert_eq!(kinds_in(col, "b"), [IdKind::Body]);
        assert_eq!(kinds_in(col, "M1"), [IdKind::Milestone]);
        assert!(kinds_in(col, "decision").is_empty());
        assert!(kinds_in(",,", "x").is_empty());
    }
}
