//! The audit trail: one row per event saying who did what, when, why, with what evidence.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use waymark_events::{Design, Event, Hash, Payload, Role};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub seq: u64,
    pub recorded_at: String,
    pub issued_at: String,
    pub actor: String,
    /// The actor's name and roles at the time of the event.
    pub actor_name: String,
    pub actor_roles: Vec<String>,
    #[serde(rename = "type")]
    pub event_type: String,
    /// Every milestone the event names (its subject, focus, assessments).
    pub milestones: Vec<String>,
    /// What changed, in words: `in_progress → achieved`, `revised: title, phase`, …
    pub change: String,
    /// What changed, field by field: the value before (None when it did not exist)
    /// and after.
    pub changes: Vec<FieldChange>,
    pub reason: Option<String>,
    pub evidence: Vec<String>,
    pub effective_on: Option<String>,
    /// The season open when the event was recorded (its opening and closing included).
    pub season: Option<i64>,
    pub hash: Hash,
}

/// One field's change in an audit row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<String>,
    pub to: String,
}

fn changed(field: &str, from: Option<String>, to: impl Into<String>) -> FieldChange {
    FieldChange {
        field: field.into(),
        from,
        to: to.into(),
    }
}

/// A design in words: `decided by a, b (vote)`.
fn design_words(d: &Design) -> String {
    let deciders = if d.deciders.is_empty() {
        "nobody".to_string()
    } else {
        d.deciders.join(", ")
    };
    format!("decided by {deciders} ({})", d.process)
}

/// A milestone's revisable fields, as the audit trail last saw them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Seen {
    title: String,
    description: String,
    phase: String,
    principles: Vec<String>,
    depends_on: Vec<String>,
}

/// Which rows to keep; every given filter must match.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub milestone: Option<String>,
    pub actor: Option<String>,
    pub season: Option<i64>,
    pub event_type: Option<String>,
}

impl HistoryFilter {
    pub fn matches(&self, row: &HistoryRow) -> bool {
        self.milestone
            .as_ref()
            .is_none_or(|m| row.milestones.contains(m))
            && self.actor.as_ref().is_none_or(|a| &row.actor == a)
            && self.season.is_none_or(|s| row.season == Some(s))
            && self
                .event_type
                .as_ref()
                .is_none_or(|t| &row.event_type == t)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFold {
    /// Each actor's name and roles (folded after rule 1, which lets only SPEC roles
    /// through).
    actors: BTreeMap<String, (String, Vec<Role>)>,
    keys: BTreeMap<String, String>,
    milestones: BTreeMap<String, Seen>,
    open_season: Option<i64>,
}

impl HistoryFold {
    pub fn new() -> Self {
        Self::default()
    }

    /// The row for this event; folds it so later rows see its effects.
    pub fn row(&mut self, event: &Event, hash: &Hash) -> HistoryRow {
        let st = &event.statement;
        let (actor_name, actor_roles) = self.actors.get(&st.actor).map_or_else(
            || (String::new(), Vec::new()),
            |(name, roles)| {
                let roles = roles.iter().map(|r| r.as_str().to_owned()).collect();
                (name.clone(), roles)
            },
        );
        let mut milestones = Vec::new();
        let mut reason = None;
        let mut evidence = Vec::new();
        let mut effective_on = None;
        let mut changes = Vec::new();
        let mut season = self.open_season;
        let change = match &st.payload {
            Payload::LedgerOpened(p) => {
                self.actors.insert(
                    p.founder.actor.clone(),
                    (p.founder.name.clone(), vec![Role::Steward]),
                );
                self.keys
                    .insert(p.founder.actor.clone(), p.founder.public_key.clone());
                format!(
                    "opened with framework {} {}",
                    p.framework.id, p.framework.version
                )
            }
            Payload::ActorRegistered(p) => {
                self.actors.insert(
                    p.actor.clone(),
                    (p.name.clone(), Role::from_names(&p.roles)),
                );
                self.keys.insert(p.actor.clone(), p.public_key.clone());
                changes.push(changed("roles", None, p.roles.join(", ")));
                changes.push(changed("public_key", None, p.public_key.clone()));
                format!(
                    "registered {} ({}) as {}",
                    p.actor,
                    p.name,
                    p.roles.join(", ")
                )
            }
            Payload::ActorRolesChanged(p) => {
                let old = self
                    .actors
                    .get(&p.actor)
                    .map(|a| Role::join(&a.1))
                    .unwrap_or_default();
                if let Some(a) = self.actors.get_mut(&p.actor) {
                    a.1 = Role::from_names(&p.roles);
                }
                changes.push(changed("roles", Some(old.clone()), p.roles.join(", ")));
                format!("{}: roles {old} → {}", p.actor, p.roles.join(", "))
            }
            Payload::ActorKeyRotated(p) => {
                let old = self.keys.insert(p.actor.clone(), p.public_key.clone());
                changes.push(changed("public_key", old, p.public_key.clone()));
                format!("{}: key rotated", p.actor)
            }
            Payload::ActorRetired(p) => {
                reason = Some(p.reason.clone());
                format!("retired actor {}", p.actor)
            }
            Payload::MilestoneDefined(p) => {
                milestones.push(p.id.clone());
                self.milestones.insert(
                    p.id.clone(),
                    Seen {
                        title: p.title.clone(),
                        description: p.description.clone(),
                        phase: p.phase.clone(),
                        principles: p.principles.clone(),
                        depends_on: p.depends_on.clone(),
                    },
                );
                changes.push(changed("status", None, "not_started"));
                format!("defined {} in {} / {}", p.id, p.layer, p.phase)
            }
            Payload::MilestoneRevised(p) => {
                milestones.push(p.id.clone());
                reason = Some(p.reason.clone());
                let seen = self.milestones.entry(p.id.clone()).or_default();
                let list = |v: &[String]| format!("[{}]", v.join(", "));
                if let Some(t) = &p.title {
                    changes.push(changed("title", Some(seen.title.clone()), t.clone()));
                }
                if let Some(d) = &p.description {
                    changes.push(changed(
                        "description",
                        Some(seen.description.clone()),
                        d.clone(),
                    ));
                }
                if let Some(ph) = &p.phase {
                    changes.push(changed("phase", Some(seen.phase.clone()), ph.clone()));
                }
                if let Some(pr) = &p.principles {
                    changes.push(changed(
                        "principles",
                        Some(list(&seen.principles)),
                        list(pr),
                    ));
                }
                if let Some(d) = &p.depends_on {
                    changes.push(changed("depends_on", Some(list(&seen.depends_on)), list(d)));
                }
                if let Some(d) = &p.description {
                    seen.description.clone_from(d);
                }
                if let Some(pr) = &p.principles {
                    seen.principles.clone_from(pr);
                }
                p.apply_to(&mut seen.title, &mut seen.phase, &mut seen.depends_on);
                let mut parts = Vec::new();
                if let Some(ph) = &p.phase {
                    parts.push(format!("phase → {ph}"));
                }
                if let Some(d) = &p.depends_on {
                    parts.push(format!("depends_on → [{}]", d.join(", ")));
                }
                for f in ["title", "description", "principles"] {
                    if p.revised_fields().contains(&f) {
                        parts.push(f.to_string());
                    }
                }
                format!("{} revised: {}", p.id, parts.join("; "))
            }
            Payload::MilestoneRetired(p) => {
                milestones.push(p.id.clone());
                reason = Some(p.reason.clone());
                changes.push(changed("retired", Some("false".into()), "true"));
                format!("{} retired", p.id)
            }
            Payload::MilestoneStatusChanged(p) => {
                milestones.push(p.id.clone());
                reason = Some(p.reason.clone());
                evidence.clone_from(&p.evidence);
                effective_on.clone_from(&p.effective_on);
                changes.push(changed("status", Some(p.from.clone()), p.to.clone()));
                format!("{}: {} → {}", p.id, p.from, p.to)
            }
            Payload::PhaseTransitioned(p) => {
                reason = Some(p.reason.clone());
                changes.push(changed("phase", Some(p.from.clone()), p.to.clone()));
                format!("layer {}: phase {} → {}", p.layer, p.from, p.to)
            }
            Payload::SeasonOpened(p) => {
                milestones.clone_from(&p.focus);
                reason = Some(p.intent.clone());
                self.open_season = Some(p.season);
                season = Some(p.season);
                format!(
                    "season {} opened on {} (focus: {})",
                    p.season,
                    p.starts_on,
                    p.focus.join(", ")
                )
            }
            Payload::SeasonReEvaluated(p) => {
                milestones = p.assessments.iter().map(|a| a.milestone.clone()).collect();
                reason = Some(p.summary.clone());
                self.open_season = None;
                season = Some(p.season);
                format!("season {} re-evaluated, ended {}", p.season, p.ends_on)
            }
            Payload::BodyDefined(p) => {
                changes.push(changed("kind", None, p.kind.clone()));
                format!("defined body {} ({}, {})", p.id, p.title, p.kind)
            }
            Payload::BodyRevised(p) => {
                reason = Some(p.reason.clone());
                format!("body {} revised: {}", p.id, p.revised_fields().join(", "))
            }
            Payload::BodyRetired(p) => {
                reason = Some(p.reason.clone());
                changes.push(changed("retired", Some("false".into()), "true"));
                format!("body {} retired", p.id)
            }
            Payload::DecisionDefined(p) => {
                milestones.clone_from(&p.milestones);
                changes.push(changed("current", None, design_words(&p.current)));
                if let Some(t) = &p.target {
                    changes.push(changed("target", None, design_words(t)));
                }
                format!(
                    "defined decision {} in {}: {}",
                    p.id,
                    p.layer,
                    design_words(&p.current)
                )
            }
            Payload::DecisionRevised(p) => {
                if let Some(m) = &p.milestones {
                    milestones.clone_from(m);
                }
                if let Some(t) = &p.target {
                    changes.push(changed("target", None, design_words(t)));
                }
                reason = Some(p.reason.clone());
                format!(
                    "decision {} revised: {}",
                    p.id,
                    p.revised_fields().join(", ")
                )
            }
            Payload::AuthorityTransferred(p) => {
                reason = Some(p.reason.clone());
                evidence.clone_from(&p.evidence);
                effective_on = Some(p.effective_on.clone());
                let (from, to) = (design_words(&p.from), design_words(&p.to));
                changes.push(changed("current", Some(from.clone()), to.clone()));
                format!("decision {}: {from} → {to}", p.decision)
            }
            Payload::HypothesisStated(p) => {
                reason = Some(p.statement.clone());
                format!(
                    "decision {}: hypothesis {} stated (measure: {})",
                    p.decision, p.id, p.measure
                )
            }
            Payload::HypothesisConcluded(p) => {
                reason = Some(p.note.clone());
                evidence.clone_from(&p.evidence);
                changes.push(changed("outcome", None, p.outcome.clone()));
                format!("decision {}: hypothesis {} {}", p.decision, p.id, p.outcome)
            }
        };
        HistoryRow {
            seq: event.seq,
            recorded_at: event.recorded_at.clone(),
            issued_at: st.issued_at.clone(),
            actor: st.actor.clone(),
            actor_name,
            actor_roles,
            event_type: st.event_type().as_str().to_string(),
            milestones,
            change,
            changes,
            reason,
            evidence,
            effective_on,
            season,
            hash: *hash,
        }
    }
}
