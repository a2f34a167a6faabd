//! The section-13 half of a diff (SPEC section 13): bodies, decision modules and
//! their designs, field by field.

use super::*;

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
pub(super) fn ids_text(c: &IdsChange) -> String {
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
    pub(super) fn any(&self) -> bool {
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
    pub(super) fn any(&self) -> bool {
        !(self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty())
    }
}

pub(super) fn hypothesis_state(h: Option<&HypothesisStatus>) -> String {
    match h {
        None => "absent".into(),
        Some(HypothesisStatus { outcome: None, .. }) => "open".into(),
        Some(HypothesisStatus {
            outcome: Some(o), ..
        }) => o.clone(),
    }
}

pub(super) fn decision_diff(a: &DecisionStatus, b: &DecisionStatus) -> Option<DecisionDiff> {
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

pub(super) fn body_diff(a: &BodyStatus, b: &BodyStatus) -> Option<BodyDiff> {
    let d = BodyDiff {
        id: b.id.clone(),
        title: Change::of(a.title.clone(), b.title.clone()),
        kind: Change::of(a.kind.clone(), b.kind.clone()),
        retired: Change::of(a.retired, b.retired),
    };
    (d.title.is_some() || d.kind.is_some() || d.retired.is_some()).then_some(d)
}

/// Items only in `b`, only in `a`, and the diffs of those in both, by id.
pub(super) fn by_id<'a, T: Clone, D>(
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
