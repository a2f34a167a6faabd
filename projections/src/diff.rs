//! What changed between two status projections (`waymark diff SPEC SPEC`).
//!
//! Only what differs is kept: an unchanged layer, phase or milestone does not appear.
//! Section 13's bodies, decisions and authority counts are compared too, design field by
//! design field; their keys (`bodies`, `decisions`, `authority`) are absent when nothing
//! of them changed, so a diff of two v1 statuses keeps its exact bytes.

use crate::design::{percent, summary, veto_text};
use crate::status::{
    AsOf, Authority, BodyStatus, DecisionStatus, HypothesisStatus, LayerStatus, MilestoneStatus,
    SeasonStatus, Status,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Display, Write as _};
use waymark_events::{Design, Hash, SeasonState, Signers, Veto};

/// A position in the chain. A status before any event is at seq 0 with the all-zero hash
/// (the `prev` of seq 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    pub seq: u64,
    pub hash: Hash,
}

impl Point {
    /// The position a status was computed at.
    pub fn of(as_of: Option<&AsOf>) -> Point {
        as_of.map_or(
            Point {
                seq: 0,
                hash: Hash::ZERO,
            },
            |a| Point {
                seq: a.seq,
                hash: a.hash,
            },
        )
    }
}

/// A value before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    pub from: T,
    pub to: T,
}

impl<T: PartialEq> Change<T> {
    /// `Some` only when the value changed.
    pub fn of(from: T, to: T) -> Option<Change<T>> {
        (from != to).then_some(Change { from, to })
    }
}

/// Achieved and total milestones of one phase of a layer, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressChange {
    pub phase: String,
    pub achieved: Change<u64>,
    pub total: Change<u64>,
}

/// A layer whose current phase or progress changed. A layer missing on one side counts
/// as phase `""` with no milestones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerDiff {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Change<String>>,
    /// Only the phases whose counts changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub progress: Vec<ProgressChange>,
}

/// A dependency list before and after, with what was added and removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependsOnChange {
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// A milestone present on both sides, with only the fields that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneDiff {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<DependsOnChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<Change<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regressed: Option<Change<bool>>,
}

/// The season's number and state, as a diff compares them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonRef {
    pub number: i64,
    pub state: SeasonState,
}

impl Display for SeasonRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.number, self.state)
    }
}

/// A list of ids before and after, with what was added and removed (section 13's lists are
/// sorted, so only membership matters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdsChange {
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl IdsChange {
    /// `Some` only when the lists differ.
    pub fn of(from: &[String], to: &[String]) -> Option<IdsChange> {
        (from != to).then(|| IdsChange {
            from: from.to_vec(),
            to: to.to_vec(),
            added: to.iter().filter(|x| !from.contains(x)).cloned().collect(),
            removed: from.iter().filter(|x| !to.contains(x)).cloned().collect(),
        })
    }
}

/// A veto kept on both sides whose threshold changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VetoChange {
    pub body: String,
    pub threshold_bps: Change<Option<i64>>,
}

/// The vetoes before and after: bodies that gained or lost their veto, and vetoes whose
/// threshold changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VetoesChange {
    pub from: Vec<Veto>,
    pub to: Vec<Veto>,
    pub added: Vec<Veto>,
    pub removed: Vec<Veto>,
    pub changed: Vec<VetoChange>,
}

impl VetoesChange {
    pub fn of(from: &[Veto], to: &[Veto]) -> Option<VetoesChange> {
        if from == to {
            return None;
        }
        let find = |list: &[Veto], body: &str| list.iter().find(|v| v.body == body).cloned();
        Some(VetoesChange {
            from: from.to_vec(),
            to: to.to_vec(),
            added: to
                .iter()
                .filter(|v| find(from, &v.body).is_none())
                .cloned()
                .collect(),
            removed: from
                .iter()
                .filter(|v| find(to, &v.body).is_none())
                .cloned()
                .collect(),
            changed: from
                .iter()
                .filter_map(|a| {
                    let b = find(to, &a.body)?;
                    Change::of(a.threshold_bps, b.threshold_bps).map(|threshold_bps| VetoChange {
                        body: a.body.clone(),
                        threshold_bps,
                    })
                })
                .collect(),
        })
    }
}

/// A design (SPEC section 13) before and after, field by field: only the fields that
/// changed are present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignDiff {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposers: Option<IdsChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deciders: Option<IdsChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_bps: Option<Change<Option<i64>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum_bps: Option<Change<Option<i64>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signers: Option<Change<Option<Signers>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vetoes: Option<VetoesChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executors: Option<IdsChange>,
}

impl DesignDiff {
    /// `Some` only when the designs differ.
    pub fn of(a: &Design, b: &Design) -> Option<DesignDiff> {
        let d = DesignDiff {
            proposers: IdsChange::of(&a.proposers, &b.proposers),
            deciders: IdsChange::of(&a.deciders, &b.deciders),
            process: Change::of(a.process.clone(), b.process.clone()),
            threshold_bps: Change::of(a.threshold_bps, b.threshold_bps),
            quorum_bps: Change::of(a.quorum_bps, b.quorum_bps),
            signers: Change::of(a.signers.clone(), b.signers.clone()),
            vetoes: VetoesChange::of(&a.vetoes, &b.vetoes),
            executors: IdsChange::of(&a.executors, &b.executors),
        };
        (d != DesignDiff::default()).then_some(d)
    }

    /// One text per changed field, deciders first: `deciders [fnd] → [fnd, th] (+th)`,
    /// `process discretion → vote`, `threshold (none) → 51%`, `signers 10 of 13 → 8 of 12`,
    /// `vetoes [th] → [ch (30%)] (+ch (30%), -th)`.
    pub fn texts(&self) -> Vec<String> {
        let bps = |v: &Option<i64>| v.map_or_else(|| "(none)".to_string(), percent);
        let signers = |v: &Option<Signers>| {
            v.as_ref()
                .map_or_else(|| "(none)".to_string(), |s| format!("{} of {}", s.m, s.n))
        };
        let mut out = Vec::new();
        if let Some(c) = &self.deciders {
            out.push(format!("deciders {}", ids_text(c)));
        }
        if let Some(c) = &self.process {
            out.push(format!("process {} → {}", c.from, c.to));
        }
        if let Some(c) = &self.threshold_bps {
            out.push(format!("threshold {} → {}", bps(&c.from), bps(&c.to)));
        }
        if let Some(c) = &self.quorum_bps {
            out.push(format!("quorum {} → {}", bps(&c.from), bps(&c.to)));
        }
        if let Some(c) = &self.signers {
            out.push(format!("signers {} → {}", signers(&c.from), signers(&c.to)));
        }
        if let Some(c) = &self.vetoes {
            let list = |v: &[Veto]| v.iter().map(veto_text).collect::<Vec<_>>().join(", ");
            let parts: Vec<String> = c
                .added
                .iter()
                .map(|v| format!("+{}", veto_text(v)))
                .chain(c.removed.iter().map(|v| format!("-{}", v.body)))
                .chain(c.changed.iter().map(|v| {
                    format!(
                        "{} {} → {}",
                        v.body,
                        bps(&v.threshold_bps.from),
                        bps(&v.threshold_bps.to)
                    )
                }))
                .collect();
            out.push(format!(
                "vetoes [{}] → [{}] ({})",
                list(&c.from),
                list(&c.to),
                parts.join(", ")
            ));
        }
        if let Some(c) = &self.proposers {
            out.push(format!("proposers {}", ids_text(c)));
        }
        if let Some(c) = &self.executors {
            out.push(format!("executors {}", ids_text(c)));
        }
        out
    }
}

/// `[a] → [a, b] (+b)`.
fn ids_text(c: &IdsChange) -> String {
    let parts: Vec<String> = c
        .added
        .iter()
        .map(|d| format!("+{d}"))
        .chain(c.removed.iter().map(|d| format!("-{d}")))
        .collect();
    format!(
        "[{}] → [{}] ({})",
        c.from.join(", "),
        c.to.join(", "),
        parts.join(", ")
    )
}

/// How a decision's target changed: set where there was none, removed (only when the
/// first status is the later one: a revision cannot remove a target), or changed field by
/// field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum TargetChange {
    Set { to: Design },
    Removed { from: Design },
    Changed { fields: Box<DesignDiff> },
}

/// A hypothesis whose state changed. A state is `absent`, `open`, or the outcome it was
/// concluded with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HypothesisChange {
    pub id: String,
    pub state: Change<String>,
}

/// A decision module present on both sides, with only what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionDiff {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Change<String>>,
    /// Who proposes, decides, vetoes and executes it now, field by field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<DesignDiff>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetChange>,
    /// The target reached (`false → true`) or lost (`true → false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_target: Option<Change<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foundation_decides: Option<Change<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestones: Option<IdsChange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hypotheses: Vec<HypothesisChange>,
}

/// A body present on both sides, with only what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyDiff {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<Change<bool>>,
}

/// Bodies only in the second status, only in the first, and in both with changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodiesDiff {
    pub added: Vec<BodyStatus>,
    pub removed: Vec<BodyStatus>,
    pub changed: Vec<BodyDiff>,
}

impl BodiesDiff {
    fn any(&self) -> bool {
        !(self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty())
    }
}

/// Decision modules only in the second status, only in the first, and in both with
/// changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionsDiff {
    pub added: Vec<DecisionStatus>,
    pub removed: Vec<DecisionStatus>,
    pub changed: Vec<DecisionDiff>,
}

impl DecisionsDiff {
    fn any(&self) -> bool {
        !(self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty())
    }
}

/// Everything that differs between two statuses of one ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDiff {
    pub ledger: String,
    pub from: Point,
    pub to: Point,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overall_phase: Option<Change<Option<String>>>,
    pub layers: Vec<LayerDiff>,
    /// Milestones only in the second status.
    pub added: Vec<MilestoneStatus>,
    /// Milestones only in the first status.
    pub removed: Vec<MilestoneStatus>,
    /// Milestones in both whose fields differ, by id.
    pub changed: Vec<MilestoneDiff>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season: Option<Change<Option<SeasonRef>>>,
    /// Section 13: absent when no body changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bodies: Option<BodiesDiff>,
    /// Section 13: absent when no decision module changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decisions: Option<DecisionsDiff>,
    /// Section 13's three counts, when they changed (`null` on a side without bodies or
    /// decisions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<Change<Option<Authority>>>,
}

fn season_ref(s: Option<&SeasonStatus>) -> Option<SeasonRef> {
    s.map(|s| SeasonRef {
        number: s.number,
        state: s.state,
    })
}

fn find_layer<'a>(s: &'a Status, id: &str) -> Option<&'a LayerStatus> {
    s.layers.iter().find(|l| l.id == id)
}

fn layer_diff(id: &str, a: Option<&LayerStatus>, b: Option<&LayerStatus>) -> Option<LayerDiff> {
    let phase_of = |l: Option<&LayerStatus>| l.map(|l| l.phase.clone()).unwrap_or_default();
    let counts = |l: Option<&LayerStatus>, ph: &str| {
        l.and_then(|l| l.progress.iter().find(|p| p.phase == ph))
            .map_or((0, 0), |p| (p.achieved, p.total))
    };
    // Phases in b's order, then any only a has.
    let mut phases: Vec<&str> = Vec::new();
    for l in [b, a].into_iter().flatten() {
        for p in &l.progress {
            if !phases.contains(&p.phase.as_str()) {
                phases.push(&p.phase);
            }
        }
    }
    let progress: Vec<ProgressChange> = phases
        .into_iter()
        .filter_map(|ph| {
            let (fa, ft) = counts(a, ph);
            let (ta, tt) = counts(b, ph);
            ((fa, ft) != (ta, tt)).then(|| ProgressChange {
                phase: ph.to_string(),
                achieved: Change { from: fa, to: ta },
                total: Change { from: ft, to: tt },
            })
        })
        .collect();
    let phase = Change::of(phase_of(a), phase_of(b));
    (phase.is_some() || !progress.is_empty()).then(|| LayerDiff {
        id: id.to_string(),
        phase,
        progress,
    })
}

fn milestone_diff(a: &MilestoneStatus, b: &MilestoneStatus) -> Option<MilestoneDiff> {
    let depends_on = (a.depends_on != b.depends_on).then(|| DependsOnChange {
        from: a.depends_on.clone(),
        to: b.depends_on.clone(),
        added: b
            .depends_on
            .iter()
            .filter(|d| !a.depends_on.contains(d))
            .cloned()
            .collect(),
        removed: a
            .depends_on
            .iter()
            .filter(|d| !b.depends_on.contains(d))
            .cloned()
            .collect(),
    });
    let d = MilestoneDiff {
        id: b.id.clone(),
        status: Change::of(a.status.clone(), b.status.clone()),
        phase: Change::of(a.phase.clone(), b.phase.clone()),
        title: Change::of(a.title.clone(), b.title.clone()),
        depends_on,
        retired: Change::of(a.retired, b.retired),
        regressed: Change::of(a.regressed, b.regressed),
    };
    let empty = d.status.is_none()
        && d.phase.is_none()
        && d.title.is_none()
        && d.depends_on.is_none()
        && d.retired.is_none()
        && d.regressed.is_none();
    (!empty).then_some(d)
}

fn hypothesis_state(h: Option<&HypothesisStatus>) -> String {
    match h {
        None => "absent".into(),
        Some(HypothesisStatus { outcome: None, .. }) => "open".into(),
        Some(HypothesisStatus {
            outcome: Some(o), ..
        }) => o.clone(),
    }
}

fn decision_diff(a: &DecisionStatus, b: &DecisionStatus) -> Option<DecisionDiff> {
    let target = match (&a.target, &b.target) {
        (None, Some(t)) => Some(TargetChange::Set { to: t.clone() }),
        (Some(t), None) => Some(TargetChange::Removed { from: t.clone() }),
        (Some(x), Some(y)) => DesignDiff::of(x, y).map(|fields| TargetChange::Changed {
            fields: Box::new(fields),
        }),
        (None, None) => None,
    };
    let ha: BTreeMap<&str, &HypothesisStatus> =
        a.hypotheses.iter().map(|h| (h.id.as_str(), h)).collect();
    let hb: BTreeMap<&str, &HypothesisStatus> =
        b.hypotheses.iter().map(|h| (h.id.as_str(), h)).collect();
    let hids: BTreeSet<&str> = ha.keys().chain(hb.keys()).copied().collect();
    let hypotheses = hids
        .into_iter()
        .filter_map(|id| {
            Change::of(
                hypothesis_state(ha.get(id).copied()),
                hypothesis_state(hb.get(id).copied()),
            )
            .map(|state| HypothesisChange {
                id: id.to_string(),
                state,
            })
        })
        .collect();
    let d = DecisionDiff {
        id: b.id.clone(),
        title: Change::of(a.title.clone(), b.title.clone()),
        current: DesignDiff::of(&a.current, &b.current),
        target,
        at_target: Change::of(a.at_target, b.at_target),
        foundation_decides: Change::of(a.foundation_decides, b.foundation_decides),
        milestones: IdsChange::of(&a.milestones, &b.milestones),
        hypotheses,
    };
    let empty = d.title.is_none()
        && d.current.is_none()
        && d.target.is_none()
        && d.at_target.is_none()
        && d.foundation_decides.is_none()
        && d.milestones.is_none()
        && d.hypotheses.is_empty();
    (!empty).then_some(d)
}

fn body_diff(a: &BodyStatus, b: &BodyStatus) -> Option<BodyDiff> {
    let d = BodyDiff {
        id: b.id.clone(),
        title: Change::of(a.title.clone(), b.title.clone()),
        kind: Change::of(a.kind.clone(), b.kind.clone()),
        retired: Change::of(a.retired, b.retired),
    };
    (d.title.is_some() || d.kind.is_some() || d.retired.is_some()).then_some(d)
}

/// Items only in `b`, only in `a`, and the diffs of those in both, by id.
fn by_id<'a, T: Clone, D>(
    a: &'a [T],
    b: &'a [T],
    id: fn(&T) -> &str,
    diff: fn(&T, &T) -> Option<D>,
) -> (Vec<T>, Vec<T>, Vec<D>) {
    let ma: BTreeMap<&str, &T> = a.iter().map(|x| (id(x), x)).collect();
    let mb: BTreeMap<&str, &T> = b.iter().map(|x| (id(x), x)).collect();
    let ids: BTreeSet<&str> = ma.keys().chain(mb.keys()).copied().collect();
    let (mut added, mut removed, mut changed) = (Vec::new(), Vec::new(), Vec::new());
    for i in ids {
        match (ma.get(i), mb.get(i)) {
            (None, Some(x)) => added.push((*x).clone()),
            (Some(x), None) => removed.push((*x).clone()),
            (Some(x), Some(y)) => changed.extend(diff(x, y)),
            (None, None) => {}
        }
    }
    (added, removed, changed)
}

/// What changed from `a` to `b` (usually `a` earlier). Layers come in `b`'s order,
/// milestones by id.
pub fn diff(a: &Status, b: &Status) -> StatusDiff {
    let mut layer_ids: Vec<&str> = b.layers.iter().map(|l| l.id.as_str()).collect();
    for l in &a.layers {
        if !layer_ids.contains(&l.id.as_str()) {
            layer_ids.push(&l.id);
        }
    }
    let layers = layer_ids
        .into_iter()
        .filter_map(|id| layer_diff(id, find_layer(a, id), find_layer(b, id)))
        .collect();

    let ma: BTreeMap<&str, &MilestoneStatus> =
        a.milestones.iter().map(|m| (m.id.as_str(), m)).collect();
    let mb: BTreeMap<&str, &MilestoneStatus> =
        b.milestones.iter().map(|m| (m.id.as_str(), m)).collect();
    let ids: BTreeSet<&str> = ma.keys().chain(mb.keys()).copied().collect();
    let (mut added, mut removed, mut changed) = (Vec::new(), Vec::new(), Vec::new());
    for id in ids {
        match (ma.get(id), mb.get(id)) {
            (None, Some(m)) => added.push((*m).clone()),
            (Some(m), None) => removed.push((*m).clone()),
            (Some(x), Some(y)) => changed.extend(milestone_diff(x, y)),
            (None, None) => {}
        }
    }

    let bodies = {
        let (added, removed, changed) = by_id(
            a.bodies.as_deref().unwrap_or_default(),
            b.bodies.as_deref().unwrap_or_default(),
            |x| &x.id,
            body_diff,
        );
        let d = BodiesDiff {
            added,
            removed,
            changed,
        };
        d.any().then_some(d)
    };
    let decisions = {
        let (added, removed, changed) = by_id(
            a.decisions.as_deref().unwrap_or_default(),
            b.decisions.as_deref().unwrap_or_default(),
            |x| &x.id,
            decision_diff,
        );
        let d = DecisionsDiff {
            added,
            removed,
            changed,
        };
        d.any().then_some(d)
    };

    StatusDiff {
        ledger: if b.ledger.is_empty() {
            &a.ledger
        } else {
            &b.ledger
        }
        .clone(),
        from: Point::of(a.as_of.as_ref()),
        to: Point::of(b.as_of.as_ref()),
        overall_phase: Change::of(a.overall_phase.clone(), b.overall_phase.clone()),
        layers,
        added,
        removed,
        changed,
        season: Change::of(season_ref(a.season.as_ref()), season_ref(b.season.as_ref())),
        bodies,
        decisions,
        authority: Change::of(a.authority, b.authority),
    }
}

fn or_none<T: Display>(v: Option<&T>) -> String {
    v.map_or_else(|| "(none)".to_string(), ToString::to_string)
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn phase_text(p: &str) -> &str {
    if p.is_empty() {
        "(none)"
    } else {
        p
    }
}

impl StatusDiff {
    /// True when the two statuses agree on everything compared (their positions may differ).
    pub fn is_empty(&self) -> bool {
        self.overall_phase.is_none()
            && self.layers.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.season.is_none()
            && self.bodies.is_none()
            && self.decisions.is_none()
            && self.authority.is_none()
    }

    /// Plain text: a header line naming the ledger and both positions, then one line per
    /// change (e.g. `milestone T-B1: status in_progress → achieved`), or `no changes`.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "ledger {}: seq {} ({}) → seq {} ({})\n",
            self.ledger, self.from.seq, self.from.hash, self.to.seq, self.to.hash
        );
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        if self.is_empty() {
            line("no changes".into());
        }
        if let Some(c) = &self.overall_phase {
            line(format!(
                "overall phase: {} → {}",
                or_none(c.from.as_ref()),
                or_none(c.to.as_ref())
            ));
        }
        for l in &self.layers {
            if let Some(c) = &l.phase {
                line(format!(
                    "layer {}: phase {} → {}",
                    l.id,
                    phase_text(&c.from),
                    phase_text(&c.to)
                ));
            }
            for p in &l.progress {
                line(format!(
                    "layer {}: phase {} progress {}/{} → {}/{}",
                    l.id, p.phase, p.achieved.from, p.total.from, p.achieved.to, p.total.to
                ));
            }
        }
        for m in &self.added {
            let retired = if m.retired { ", retired" } else { "" };
            line(format!(
                "milestone {}: added in {} / {} ({}{retired}): {}",
                m.id, m.layer, m.phase, m.status, m.title
            ));
        }
        for m in &self.removed {
            line(format!("milestone {}: removed", m.id));
        }
        for m in &self.changed {
            let id = &m.id;
            if let Some(c) = &m.status {
                line(format!("milestone {id}: status {} → {}", c.from, c.to));
            }
            if let Some(c) = &m.phase {
                line(format!("milestone {id}: phase {} → {}", c.from, c.to));
            }
            if let Some(c) = &m.title {
                line(format!("milestone {id}: title {:?} → {:?}", c.from, c.to));
            }
            if let Some(c) = &m.depends_on {
                let mut s = format!(
                    "milestone {id}: depends_on [{}] → [{}]",
                    c.from.join(", "),
                    c.to.join(", ")
                );
                let parts: Vec<String> = c
                    .added
                    .iter()
                    .map(|d| format!("+{d}"))
                    .chain(c.removed.iter().map(|d| format!("-{d}")))
                    .collect();
                if !parts.is_empty() {
                    let _ = write!(s, " ({})", parts.join(", "));
                }
                line(s);
            }
            if let Some(c) = &m.retired {
                line(format!(
                    "milestone {id}: retired {} → {}",
                    yes_no(c.from),
                    yes_no(c.to)
                ));
            }
            if let Some(c) = &m.regressed {
                line(format!(
                    "milestone {id}: regressed {} → {}",
                    yes_no(c.from),
                    yes_no(c.to)
                ));
            }
        }
        if let Some(c) = &self.season {
            line(format!(
                "season: {} → {}",
                or_none(c.from.as_ref()),
                or_none(c.to.as_ref())
            ));
        }
        for text in self.governance_texts() {
            // Ids and titles are free text here: a line break must not start a new line.
            line(
                text.chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect(),
            );
        }
        out
    }

    /// Section 13's lines of [`StatusDiff::to_text`]: bodies, then decisions (each
    /// changed design field on its own line), then the counts.
    fn governance_texts(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(b) = &self.bodies {
            for x in &b.added {
                let retired = if x.retired { ", retired" } else { "" };
                out.push(format!(
                    "body {}: added ({}{retired}): {}",
                    x.id, x.kind, x.title
                ));
            }
            for x in &b.removed {
                out.push(format!("body {}: removed", x.id));
            }
            for x in &b.changed {
                let id = &x.id;
                if let Some(c) = &x.title {
                    out.push(format!("body {id}: title {:?} → {:?}", c.from, c.to));
                }
                if let Some(c) = &x.kind {
                    out.push(format!("body {id}: kind {} → {}", c.from, c.to));
                }
                if let Some(c) = &x.retired {
                    out.push(format!(
                        "body {id}: retired {} → {}",
                        yes_no(c.from),
                        yes_no(c.to)
                    ));
                }
            }
        }
        if let Some(d) = &self.decisions {
            for x in &d.added {
                let target = match (&x.target, x.at_target) {
                    (_, true) => "at its target design".to_string(),
                    (Some(t), false) => format!("target {}", summary(t)),
                    (None, false) => "no target".to_string(),
                };
                out.push(format!(
                    "decision {}: added in {}: {}; {}; {target}",
                    x.id,
                    x.layer,
                    x.title,
                    summary(&x.current)
                ));
            }
            for x in &d.removed {
                out.push(format!("decision {}: removed", x.id));
            }
            for x in &d.changed {
                let id = &x.id;
                if let Some(c) = &x.title {
                    out.push(format!("decision {id}: title {:?} → {:?}", c.from, c.to));
                }
                for t in x.current.iter().flat_map(DesignDiff::texts) {
                    out.push(format!("decision {id}: {t}"));
                }
                match &x.target {
                    Some(TargetChange::Set { to }) => {
                        out.push(format!("decision {id}: target set: {}", summary(to)));
                    }
                    Some(TargetChange::Removed { .. }) => {
                        out.push(format!("decision {id}: target removed"));
                    }
                    Some(TargetChange::Changed { fields }) => {
                        for t in fields.texts() {
                            out.push(format!("decision {id}: target {t}"));
                        }
                    }
                    None => {}
                }
                if let Some(c) = &x.at_target {
                    let what = if c.to { "reached" } else { "lost" };
                    out.push(format!("decision {id}: target {what}"));
                }
                if let Some(c) = &x.foundation_decides {
                    out.push(format!(
                        "decision {id}: the Foundation decides {} → {}",
                        yes_no(c.from),
                        yes_no(c.to)
                    ));
                }
                if let Some(c) = &x.milestones {
                    out.push(format!("decision {id}: milestones {}", ids_text(c)));
                }
                for h in &x.hypotheses {
                    out.push(format!(
                        "decision {id}: hypothesis {} {} → {}",
                        h.id, h.state.from, h.state.to
                    ));
                }
            }
        }
        if let Some(c) = &self.authority {
            let counts = |a: &Option<Authority>| match a {
                Some(a) => format!(
                    "{} modules, {} at their target, {} decided by the Foundation",
                    a.decisions, a.at_target, a.foundation_decides
                ),
                None => "(none)".into(),
            };
            out.push(format!(
                "authority: {} → {}",
                counts(&c.from),
                counts(&c.to)
            ));
        }
        out
    }
}
