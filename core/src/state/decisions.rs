//! Rule 10 (SPEC section 13): `DecisionDefined` and `DecisionRevised`, and the checks
//! every recorded design and profile goes through (a transfer's `from` and `to` too).

use super::fields::{check_sorted_ids, check_url};
use super::{Decision, LedgerState};
use crate::rules::{is_milestone_id, reject, Rejection, Rule};
use waymark_events::{
    Answer, Cadence, Complexity, DecisionDefined, DecisionRevised, Design, Process, Profile, Space,
    Stakes,
};

/// Basis points: integers 1..10000.
const BPS: std::ops::RangeInclusive<i64> = 1..=10_000;
/// `signers`: 1 ≤ m ≤ n ≤ 1000.
const MAX_SIGNERS: i64 = 1000;
/// Meadows' twelve leverage points.
const LEVERAGE: std::ops::RangeInclusive<i64> = 1..=12;

impl LedgerState {
    pub(super) fn check_decision_defined(&self, p: &DecisionDefined) -> Result<(), Rejection> {
        if !is_milestone_id(&p.id) {
            return reject(
                Rule::Decision,
                "payload.id",
                format!(
                    "{:?} does not match ^[A-Za-z0-9][A-Za-z0-9._-]{{0,63}}$",
                    p.id
                ),
            );
        }
        if self.decisions.contains_key(&p.id) {
            return reject(
                Rule::Decision,
                "payload.id",
                format!("decision {:?} is already defined", p.id),
            );
        }
        if self.framework.layer(&p.layer).is_none() {
            return reject(
                Rule::Decision,
                "payload.layer",
                format!("layer {:?} is not in the framework", p.layer),
            );
        }
        self.check_principles(&p.principles)?;
        self.check_decision_milestones(&p.milestones)?;
        check_profile(&p.profile)?;
        self.check_design(&p.current, "payload.current")?;
        if let Some(t) = &p.target {
            self.check_design(t, "payload.target")?;
        }
        if let Some(s) = &p.source {
            check_url(s, Rule::Decision, "payload.source")?;
        }
        Ok(())
    }

    /// `current` is no key of a revision (a payload with it is malformed, rule 0):
    /// only `AuthorityTransferred` changes who decides.
    pub(super) fn check_decision_revised(&self, p: &DecisionRevised) -> Result<(), Rejection> {
        self.decision(&p.id, Rule::Decision, "payload.id")?;
        if p.revised_fields().is_empty() {
            return reject(
                Rule::Decision,
                "payload",
                "a revision changes at least one of title, description, profile, target, milestones",
            );
        }
        if let Some(prof) = &p.profile {
            check_profile(prof)?;
        }
        if let Some(t) = &p.target {
            self.check_design(t, "payload.target")?;
        }
        if let Some(m) = &p.milestones {
            self.check_decision_milestones(m)?;
        }
        Ok(())
    }

    /// The decision a statement names, refused by `rule` at `field` when undefined
    /// (a decision has no retire event in v1.1).
    pub(super) fn decision(
        &self,
        id: &str,
        rule: Rule,
        field: &str,
    ) -> Result<&Decision, Rejection> {
        self.decisions.get(id).map_or_else(
            || reject(rule, field, format!("decision {id:?} is not defined")),
            Ok,
        )
    }

    fn check_principles(&self, principles: &[String]) -> Result<(), Rejection> {
        let ids: Vec<&str> = principles.iter().map(String::as_str).collect();
        check_sorted_ids(ids, Rule::Decision, "payload.principles", |i| {
            format!("payload.principles[{i}]")
        })?;
        for (i, p) in principles.iter().enumerate() {
            if !self.framework.principles.iter().any(|x| &x.id == p) {
                return reject(
                    Rule::Decision,
                    format!("payload.principles[{i}]"),
                    format!("principle {p:?} is not in the framework"),
                );
            }
        }
        Ok(())
    }

    /// `milestones`: sorted without repeats, each defined and unretired.
    fn check_decision_milestones(&self, milestones: &[String]) -> Result<(), Rejection> {
        let ids: Vec<&str> = milestones.iter().map(String::as_str).collect();
        check_sorted_ids(ids, Rule::Decision, "payload.milestones", |i| {
            format!("payload.milestones[{i}]")
        })?;
        for (i, m) in milestones.iter().enumerate() {
            let field = format!("payload.milestones[{i}]");
            match self.milestones.get(m) {
                None => {
                    return reject(
                        Rule::Decision,
                        field,
                        format!("milestone {m:?} is not defined"),
                    )
                }
                Some(x) if x.retired => {
                    return reject(Rule::Decision, field, format!("milestone {m:?} is retired"))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Rule 10 on one recorded design at `at` (`payload.current`, `payload.to`, …):
    /// `process` in its set, canonical lists, deciders unless suspended, basis points
    /// and `signers` in range, and only defined, unretired bodies named.
    pub(super) fn check_design(&self, d: &Design, at: &str) -> Result<(), Rejection> {
        let Ok(process) = d.process.parse::<Process>() else {
            let all: Vec<&str> = Process::ALL.iter().map(|p| p.as_str()).collect();
            return reject(
                Rule::Decision,
                format!("{at}.process"),
                format!("{:?} is not a process ({})", d.process, all.join(", ")),
            );
        };
        let lists: [(&str, Vec<&str>); 4] = [
            (
                "proposers",
                d.proposers.iter().map(String::as_str).collect(),
            ),
            ("deciders", d.deciders.iter().map(String::as_str).collect()),
            ("vetoes", d.vetoes.iter().map(|v| v.body.as_str()).collect()),
            (
                "executors",
                d.executors.iter().map(String::as_str).collect(),
            ),
        ];
        for (name, ids) in &lists {
            let list = format!("{at}.{name}");
            check_sorted_ids(ids.iter().copied(), Rule::Decision, &list, |i| {
                if *name == "vetoes" {
                    format!("{list}[{i}].body")
                } else {
                    format!("{list}[{i}]")
                }
            })?;
        }
        if d.deciders.is_empty() && process != Process::Suspended {
            return reject(
                Rule::Decision,
                format!("{at}.deciders"),
                format!(
                    "a design needs at least one decider unless its process is suspended (it is {:?})",
                    d.process
                ),
            );
        }
        let bps = |v: Option<i64>, field: String| match v {
            Some(x) if !BPS.contains(&x) => reject(
                Rule::Decision,
                field,
                format!("{x} is not a basis-point value from 1 to 10000"),
            ),
            _ => Ok(()),
        };
        bps(d.threshold_bps, format!("{at}.threshold_bps"))?;
        bps(d.quorum_bps, format!("{at}.quorum_bps"))?;
        if let Some(s) = &d.signers {
            if !(1 <= s.m && s.m <= s.n && s.n <= MAX_SIGNERS) {
                let which = if s.m < 1 || s.m > s.n { "m" } else { "n" };
                return reject(
                    Rule::Decision,
                    format!("{at}.signers.{which}"),
                    format!("{} of {} breaks 1 <= m <= n <= {MAX_SIGNERS}", s.m, s.n),
                );
            }
        }
        for (i, v) in d.vetoes.iter().enumerate() {
            bps(v.threshold_bps, format!("{at}.vetoes[{i}].threshold_bps"))?;
        }
        for (name, ids) in &lists {
            for (i, b) in ids.iter().enumerate() {
                let field = if *name == "vetoes" {
                    format!("{at}.vetoes[{i}].body")
                } else {
                    format!("{at}.{name}[{i}]")
                };
                match self.bodies.get(*b) {
                    None => {
                        return reject(Rule::Decision, field, format!("body {b:?} is not defined"))
                    }
                    Some(x) if x.retired => {
                        return reject(Rule::Decision, field, format!("body {b:?} is retired"))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}

/// A DDF profile's values in their sets, `leverage` from 1 to 12.
fn check_profile(p: &Profile) -> Result<(), Rejection> {
    fn one<T: std::str::FromStr>(
        v: &Option<String>,
        key: &str,
        all: &[&str],
    ) -> Result<(), Rejection> {
        match v {
            Some(x) if x.parse::<T>().is_err() => reject(
                Rule::Decision,
                format!("payload.profile.{key}"),
                format!("{x:?} is not a {key} ({})", all.join(", ")),
            ),
            _ => Ok(()),
        }
    }
    one::<Cadence>(&p.cadence, "cadence", &Cadence::ALL.map(Cadence::as_str))?;
    one::<Stakes>(&p.stakes, "stakes", &Stakes::ALL.map(Stakes::as_str))?;
    one::<Complexity>(
        &p.complexity,
        "complexity",
        &Complexity::ALL.map(Complexity::as_str),
    )?;
    one::<Answer>(&p.answer, "answer", &Answer::ALL.map(Answer::as_str))?;
    one::<Space>(&p.space, "space", &Space::ALL.map(Space::as_str))?;
    match p.leverage {
        Some(l) if !LEVERAGE.contains(&l) => reject(
            Rule::Decision,
            "payload.profile.leverage",
            format!("{l} is not a leverage point from 1 to 12"),
        ),
        _ => Ok(()),
    }
}
