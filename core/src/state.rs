//! The ledger's rule state: what SPEC section 5 needs to judge the next statement.
//! Pure: `check` judges a statement, `apply` folds a recorded event. Both the
//! aggregate (on write) and `verify` (on replay) use exactly this code.

use crate::rules::{is_evidence_url, is_ledger_id, is_milestone_id, reject, Rejection, Rule};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use waymark_events::{
    canonical_value, decode_public_key, is_date, is_timestamp, parse_verifier_key,
    verify_canonical, verify_canonical_with, Event, EventType, Framework, Hash, Payload, Statement,
};

/// Keys to check signatures under ahead of the rules, on other threads: a batch
/// takes each actor's key as the batch starts, `verify-offline` learns them from the
/// log as it reads ahead. Only a hint: [`LedgerState::check_preverified`] skips its
/// own check only where rule 1 asks for the very key a signature verified under.
/// Each key is decoded once, not once per signature.
#[derive(Debug, Clone, Default)]
pub struct KeyHints(
    std::collections::HashMap<String, (String, Option<ed25519_dalek::VerifyingKey>)>,
);

impl KeyHints {
    /// `actor` signs with `key` (a base64 public key) from now on.
    pub fn insert(&mut self, actor: &str, key: &str) {
        let decoded = decode_public_key(key).ok();
        self.0.insert(actor.to_string(), (key.to_string(), decoded));
    }

    /// The key `sig` verifies under, if the hinted key of the statement's actor is it.
    pub fn verified_with(&self, st: &Statement, sig: &str) -> Option<String> {
        let (key, decoded) = self.0.get(&st.actor)?;
        verify_canonical_with(&st.canonical(), sig, decoded.as_ref()?)
            .ok()
            .map(|()| key.clone())
    }
}

pub const ROLES: [&str; 3] = ["steward", "reviewer", "reporter"];
pub const STATUSES: [&str; 3] = ["not_started", "in_progress", "achieved"];
pub const MAX_STRING_CHARS: usize = 4096;
pub const MAX_EVIDENCE: usize = 16;
pub const MAX_STATEMENT_BYTES: usize = 64 * 1024;
/// SPEC v1.1 rule 8: an event's leaf bytes fit one C2SP tile entry (a 2-byte length).
pub const MAX_LEAF_BYTES: usize = 65_535;

/// Roles that may sign each type (SPEC section 5 table). `LedgerOpened` is the founder's.
pub fn allowed_roles(t: EventType) -> &'static [&'static str] {
    match t {
        EventType::LedgerOpened => &[],
        EventType::MilestoneStatusChanged => &["steward", "reviewer", "reporter"],
        EventType::PhaseTransitioned | EventType::SeasonReEvaluated => &["steward", "reviewer"],
        _ => &["steward"],
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub roles: Vec<String>,
    pub public_key: String,
    pub retired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub title: String,
    pub layer: String,
    pub phase: String,
    pub status: String,
    pub depends_on: Vec<String>,
    pub retired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Season {
    pub number: i64,
    pub open: bool,
    pub starts_on: String,
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
}

/// What one walk over a statement's strings finds: the first (in document order)
/// that holds U+0000, a key or a value (SPEC section 2), and the first value over
/// [`MAX_STRING_CHARS`] characters (rule 8), each by its path. The recorder and every
/// replay run this per statement, so a path is rendered only for what is found (the
/// two walks it replaces each built one per node).
#[derive(Default)]
struct StringFaults {
    nul: Option<String>,
    long: Option<(String, usize)>,
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn render(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn string_faults(v: &Value) -> StringFaults {
    fn walk<'a>(v: &'a Value, path: &mut Vec<Step<'a>>, f: &mut StringFaults) {
        if f.nul.is_some() && f.long.is_some() {
            return;
        }
        match v {
            Value::String(s) => {
                if f.nul.is_none() && s.contains('\0') {
                    f.nul = Some(render(path));
                }
                // A string of at most MAX_STRING_CHARS bytes has at most as many chars.
                if f.long.is_none() && s.len() > MAX_STRING_CHARS {
                    let n = s.chars().count();
                    if n > MAX_STRING_CHARS {
                        f.long = Some((render(path), n));
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(Step::Index(i));
                    walk(x, path, f);
                    path.pop();
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    path.push(Step::Key(k));
                    if f.nul.is_none() && k.contains('\0') {
                        f.nul = Some(render(path));
                    }
                    walk(x, path, f);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut f = StringFaults::default();
    walk(v, &mut Vec::new(), &mut f);
    f
}

fn non_empty(s: &str, rule: Rule, field: &str) -> Result<(), Rejection> {
    if s.trim().is_empty() {
        return reject(rule, field, "must not be empty");
    }
    Ok(())
}

fn check_roles(roles: &[String], field: &str) -> Result<(), Rejection> {
    if roles.is_empty() {
        return reject(Rule::Signer, field, "at least one role is required");
    }
    let mut seen = BTreeSet::new();
    for (i, r) in roles.iter().enumerate() {
        if !ROLES.contains(&r.as_str()) {
            return reject(
                Rule::Signer,
                format!("{field}[{i}]"),
                format!("unknown role {r:?} (roles: steward, reviewer, reporter)"),
            );
        }
        if !seen.insert(r) {
            return reject(
                Rule::Signer,
                format!("{field}[{i}]"),
                format!("role {r:?} listed twice"),
            );
        }
    }
    Ok(())
}

fn check_key(key: &str, field: &str) -> Result<(), Rejection> {
    decode_public_key(key)
        .map(|_| ())
        .or_else(|e| reject(Rule::Format, field, e.to_string()))
}

fn check_date(d: &str, field: &str) -> Result<(), Rejection> {
    if !is_date(d) {
        return reject(
            Rule::Format,
            field,
            format!("{d:?} is not a real date YYYY-MM-DD with a year from 0001 to 9999"),
        );
    }
    Ok(())
}

/// SPEC section 2's grammar of a statement's values, as far as the typed statement
/// can break it: no U+0000 in any string, `issued_at` a timestamp, every date a real
/// date. A statement that breaks it is refused as a format error (rule 0); an event
/// that breaks it is `malformed` to every verifier, not a `rule_violation`.
fn check_grammar(st: &Statement, nul: Option<String>) -> Result<(), Rejection> {
    if let Some(field) = nul {
        return reject(
            Rule::Format,
            field,
            "U+0000 is not allowed in a string (SPEC section 2)",
        );
    }
    if !is_timestamp(&st.issued_at) {
        return reject(
            Rule::Format,
            "issued_at",
            format!(
                "{:?} is not a real UTC time YYYY-MM-DDTHH:MM:SS.ffffffZ (years 0001 to 9999, \
                 no leap second)",
                st.issued_at
            ),
        );
    }
    match &st.payload {
        Payload::MilestoneStatusChanged(p) => match &p.effective_on {
            Some(d) => check_date(d, "payload.effective_on"),
            None => Ok(()),
        },
        Payload::SeasonOpened(p) => check_date(&p.starts_on, "payload.starts_on"),
        Payload::SeasonReEvaluated(p) => check_date(&p.ends_on, "payload.ends_on"),
        _ => Ok(()),
    }
}

/// The length of an event's leaf bytes, `JCS(event)`, from its statement's JCS length:
/// the event adds the members `"prev"` (64 hex digits), `"recorded_at"` (27
/// characters), `"seq"` and `"sig"` to the statement's object, none of which JCS
/// escapes.
fn leaf_len(statement_jcs: usize, seq: u64, sig: &str) -> usize {
    let member = |key: &str, value: usize| 1 + key.len() + 2 + 1 + value;
    statement_jcs
        + member("prev", 64 + 2)
        + member("recorded_at", 27 + 2)
        + member("seq", seq.checked_ilog10().map_or(1, |d| d as usize + 1))
        + member("sig", sig.len() + 2)
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
    ) -> Result<(), (&'static str, Rejection)> {
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
        check_grammar(st, strings.nul).map_err(|r| ("malformed", r))?;
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

    /// Rule 1: who may sign. Returns the public key that must verify `sig`.
    fn check_signer(&self, st: &Statement) -> Result<String, Rejection> {
        let t = st.event_type();
        if !self.is_open() {
            let Payload::LedgerOpened(p) = &st.payload else {
                return reject(
                    Rule::Signer,
                    "type",
                    format!(
                        "the ledger is not open: the first statement must be LedgerOpened, not {t}"
                    ),
                );
            };
            if p.founder.actor != st.actor {
                return reject(
                    Rule::Signer,
                    "actor",
                    format!(
                        "LedgerOpened must be signed by the founder {:?}, not {:?}",
                        p.founder.actor, st.actor
                    ),
                );
            }
            check_key(&p.founder.public_key, "payload.founder.public_key")?;
            return Ok(p.founder.public_key.clone());
        }
        if t == EventType::LedgerOpened {
            return reject(
                Rule::Signer,
                "type",
                "LedgerOpened is allowed at seq 1 only",
            );
        }
        let Some(actor) = self.actors.get(&st.actor) else {
            return reject(
                Rule::UnknownActor,
                "actor",
                format!("actor {:?} is not registered", st.actor),
            );
        };
        if actor.retired {
            return reject(
                Rule::Retired,
                "actor",
                format!("actor {:?} is retired and signs nothing more", st.actor),
            );
        }
        let allowed = allowed_roles(t);
        if !actor.roles.iter().any(|r| allowed.contains(&r.as_str())) {
            return reject(
                Rule::Signer,
                "actor",
                format!(
                    "{t} needs one of the roles {}; {:?} has {}",
                    allowed.join(", "),
                    st.actor,
                    actor.roles.join(", ")
                ),
            );
        }
        Ok(actor.public_key.clone())
    }

    fn milestone(&self, id: &str, field: &str) -> Result<&Milestone, Rejection> {
        self.milestones.get(id).map_or_else(
            || {
                reject(
                    Rule::Milestone,
                    field,
                    format!("milestone {id:?} is not defined"),
                )
            },
            Ok,
        )
    }

    fn live_milestone(&self, id: &str, field: &str) -> Result<&Milestone, Rejection> {
        let m = self.milestone(id, field)?;
        if m.retired {
            return reject(Rule::Retired, field, format!("milestone {id:?} is retired"));
        }
        Ok(m)
    }

    fn check_phase_of_layer(&self, layer: &str, phase: &str, field: &str) -> Result<(), Rejection> {
        let Some(l) = self.framework.layer(layer) else {
            return reject(
                Rule::Milestone,
                "payload.layer",
                format!("layer {layer:?} is not in the framework"),
            );
        };
        if !l.phases.iter().any(|p| p == phase) {
            return reject(
                Rule::Milestone,
                field,
                format!(
                    "phase {phase:?} is not a phase of layer {layer:?} ({})",
                    l.phases.join(", ")
                ),
            );
        }
        Ok(())
    }

    /// `depends_on` names defined, unretired milestones, no duplicates, and adding the
    /// edges `id -> deps` keeps the graph acyclic.
    fn check_dependencies(&self, id: &str, deps: &[String]) -> Result<(), Rejection> {
        let mut seen = BTreeSet::new();
        for (i, d) in deps.iter().enumerate() {
            let field = format!("payload.depends_on[{i}]");
            if !seen.insert(d) {
                return reject(Rule::Milestone, field, format!("{d:?} is listed twice"));
            }
            if d == id {
                return reject(
                    Rule::Milestone,
                    field,
                    format!("{id:?} cannot depend on itself"),
                );
            }
            self.milestone(d, &field)?;
            if self.milestones[d].retired {
                return reject(
                    Rule::Milestone,
                    field,
                    format!("dependency {d:?} is retired"),
                );
            }
            // Does d (transitively) depend on id? Then id -> d closes a cycle.
            let mut stack = vec![d.as_str()];
            let mut visited = BTreeSet::new();
            while let Some(n) = stack.pop() {
                if n == id {
                    return reject(
                        Rule::Milestone,
                        field,
                        format!("depending on {d:?} would make a cycle through {id:?}"),
                    );
                }
                if visited.insert(n) {
                    if let Some(m) = self.milestones.get(n) {
                        stack.extend(m.depends_on.iter().map(String::as_str));
                    }
                }
            }
        }
        Ok(())
    }

    fn check_framework(&self, f: &Framework) -> Result<(), Rejection> {
        let fw = "payload.framework";
        if f.layers.is_empty() {
            return reject(
                Rule::Milestone,
                format!("{fw}.layers"),
                "a framework has at least one layer",
            );
        }
        let phase_ids: BTreeSet<&str> = f.phases.iter().map(|p| p.id.as_str()).collect();
        if phase_ids.len() != f.phases.len() {
            return reject(
                Rule::Milestone,
                format!("{fw}.phases"),
                "phase ids must be unique",
            );
        }
        let mut layer_ids = BTreeSet::new();
        for (i, l) in f.layers.iter().enumerate() {
            if !layer_ids.insert(l.id.as_str()) {
                return reject(
                    Rule::Milestone,
                    format!("{fw}.layers[{i}].id"),
                    format!("layer {:?} defined twice", l.id),
                );
            }
            if l.phases.is_empty() {
                return reject(
                    Rule::Milestone,
                    format!("{fw}.layers[{i}].phases"),
                    "a layer has at least one phase",
                );
            }
            let mut seen = BTreeSet::new();
            for (j, p) in l.phases.iter().enumerate() {
                if !phase_ids.contains(p.as_str()) || !seen.insert(p) {
                    return reject(
                        Rule::Milestone,
                        format!("{fw}.layers[{i}].phases[{j}]"),
                        format!("phase {p:?} is not a framework phase or repeats"),
                    );
                }
            }
        }
        Ok(())
    }

    fn check_payload(&self, st: &Statement) -> Result<(), Rejection> {
        match &st.payload {
            Payload::LedgerOpened(p) => {
                if !is_ledger_id(&st.ledger) {
                    return reject(
                        Rule::Format,
                        "ledger",
                        format!(
                            "{:?} is not a ledger id ^[a-z0-9][a-z0-9-]{{0,62}}$",
                            st.ledger
                        ),
                    );
                }
                if !is_milestone_id(&p.founder.actor) {
                    return reject(
                        Rule::Format,
                        "payload.founder.actor",
                        "actor ids match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                    );
                }
                non_empty(&p.origin, Rule::Format, "payload.origin")?;
                let key = parse_verifier_key(&p.log_key)
                    .or_else(|e| reject(Rule::Format, "payload.log_key", e.to_string()))?;
                if key.name != p.origin {
                    return reject(
                        Rule::Format,
                        "payload.log_key",
                        format!(
                            "the log key's name {:?} must be the origin {:?}",
                            key.name, p.origin
                        ),
                    );
                }
                self.check_framework(&p.framework)
            }
            Payload::ActorRegistered(p) => {
                if !is_milestone_id(&p.actor) {
                    return reject(
                        Rule::Format,
                        "payload.actor",
                        "actor ids match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                    );
                }
                if self.actors.contains_key(&p.actor) {
                    return reject(
                        Rule::Signer,
                        "payload.actor",
                        format!("actor {:?} is already registered", p.actor),
                    );
                }
                check_roles(&p.roles, "payload.roles")?;
                check_key(&p.public_key, "payload.public_key")
            }
            Payload::ActorRolesChanged(p) => {
                self.live_actor(&p.actor)?;
                check_roles(&p.roles, "payload.roles")
            }
            Payload::ActorKeyRotated(p) => {
                self.live_actor(&p.actor)?;
                check_key(&p.public_key, "payload.public_key")
            }
            Payload::ActorRetired(p) => {
                self.live_actor(&p.actor)?;
                non_empty(&p.reason, Rule::Signer, "payload.reason")
            }
            Payload::MilestoneDefined(p) => {
                if !is_milestone_id(&p.id) {
                    return reject(
                        Rule::Milestone,
                        "payload.id",
                        format!(
                            "{:?} does not match ^[A-Za-z0-9][A-Za-z0-9._-]{{0,63}}$",
                            p.id
                        ),
                    );
                }
                if self.milestones.contains_key(&p.id) {
                    return reject(
                        Rule::Milestone,
                        "payload.id",
                        format!("milestone {:?} is already defined", p.id),
                    );
                }
                self.check_phase_of_layer(&p.layer, &p.phase, "payload.phase")?;
                self.check_dependencies(&p.id, &p.depends_on)
            }
            Payload::MilestoneRevised(p) => {
                let m = self.live_milestone(&p.id, "payload.id")?;
                if p.revised_fields().is_empty() {
                    return reject(Rule::Milestone, "payload", "a revision changes at least one of title, description, phase, principles, depends_on");
                }
                if let Some(ph) = &p.phase {
                    self.check_phase_of_layer(&m.layer, ph, "payload.phase")?;
                }
                if let Some(d) = &p.depends_on {
                    self.check_dependencies(&p.id, d)?;
                }
                Ok(())
            }
            Payload::MilestoneRetired(p) => {
                self.live_milestone(&p.id, "payload.id")?;
                Ok(())
            }
            Payload::MilestoneStatusChanged(p) => self.check_status_change(p),
            Payload::PhaseTransitioned(p) => {
                let Some(layer) = self.framework.layer(&p.layer) else {
                    return reject(
                        Rule::Phase,
                        "payload.layer",
                        format!("layer {:?} is not in the framework", p.layer),
                    );
                };
                let current = &self.layer_phase[&p.layer];
                if &p.from != current {
                    return reject(
                        Rule::Phase,
                        "payload.from",
                        format!(
                            "layer {:?} is in phase {current:?}, not {:?}",
                            p.layer, p.from
                        ),
                    );
                }
                let pos = layer.phases.iter().position(|x| x == current).unwrap_or(0);
                let Some(next) = layer.phases.get(pos + 1) else {
                    return reject(
                        Rule::Phase,
                        "payload.to",
                        format!(
                            "layer {:?} is already in its last phase {current:?}",
                            p.layer
                        ),
                    );
                };
                if &p.to != next {
                    return reject(
                        Rule::Phase,
                        "payload.to",
                        format!("the phase after {current:?} is {next:?}, not {:?}", p.to),
                    );
                }
                let blockers: Vec<&str> = self
                    .milestones
                    .iter()
                    .filter(|(_, m)| {
                        !m.retired
                            && m.layer == p.layer
                            && &m.phase == current
                            && m.status != "achieved"
                    })
                    .map(|(id, _)| id.as_str())
                    .collect();
                if !blockers.is_empty() {
                    return reject(
                        Rule::Phase,
                        "payload.to",
                        format!(
                            "milestones of phase {current:?} not achieved: {}",
                            blockers.join(", ")
                        ),
                    );
                }
                non_empty(&p.reason, Rule::Phase, "payload.reason")
            }
            Payload::SeasonOpened(p) => {
                match &self.season {
                    Some(s) if s.open => {
                        return reject(
                            Rule::Season,
                            "payload.season",
                            format!("season {} is still open", s.number),
                        );
                    }
                    Some(s) if p.season != s.number + 1 => {
                        return reject(
                            Rule::Season,
                            "payload.season",
                            format!("the next season is {}, not {}", s.number + 1, p.season),
                        );
                    }
                    None if p.season < 1 => {
                        return reject(
                            Rule::Season,
                            "payload.season",
                            "season numbers start at 1 or more",
                        );
                    }
                    _ => {}
                }
                for (i, f) in p.focus.iter().enumerate() {
                    self.milestone(f, &format!("payload.focus[{i}]"))
                        .or_else(|e| reject(Rule::Season, e.field, e.message))?;
                }
                Ok(())
            }
            Payload::SeasonReEvaluated(p) => {
                let Some(s) = self.season.as_ref().filter(|s| s.open) else {
                    return reject(Rule::Season, "payload.season", "no season is open");
                };
                if s.number != p.season {
                    return reject(
                        Rule::Season,
                        "payload.season",
                        format!("the open season is {}, not {}", s.number, p.season),
                    );
                }
                if p.ends_on < s.starts_on {
                    return reject(
                        Rule::Season,
                        "payload.ends_on",
                        format!("{} is before the season's start {}", p.ends_on, s.starts_on),
                    );
                }
                for (i, a) in p.assessments.iter().enumerate() {
                    self.milestone(&a.milestone, &format!("payload.assessments[{i}].milestone"))
                        .or_else(|e| reject(Rule::Season, e.field, e.message))?;
                }
                Ok(())
            }
        }
    }

    fn live_actor(&self, id: &str) -> Result<&Actor, Rejection> {
        let Some(a) = self.actors.get(id) else {
            return reject(
                Rule::Signer,
                "payload.actor",
                format!("actor {id:?} is not registered"),
            );
        };
        if a.retired {
            return reject(
                Rule::Retired,
                "payload.actor",
                format!("actor {id:?} is retired"),
            );
        }
        Ok(a)
    }

    fn check_status_change(
        &self,
        p: &waymark_events::MilestoneStatusChanged,
    ) -> Result<(), Rejection> {
        let m = self.live_milestone(&p.id, "payload.id")?;
        for (field, v) in [("payload.from", &p.from), ("payload.to", &p.to)] {
            if !STATUSES.contains(&v.as_str()) {
                return reject(
                    Rule::Status,
                    field,
                    format!("{v:?} is not a status (not_started, in_progress, achieved)"),
                );
            }
        }
        if p.from != m.status {
            return reject(
                Rule::Status,
                "payload.from",
                format!("milestone {:?} is {:?}, not {:?}", p.id, m.status, p.from),
            );
        }
        if p.to == p.from {
            return reject(
                Rule::Status,
                "payload.to",
                format!("milestone {:?} is already {:?}", p.id, p.to),
            );
        }
        non_empty(&p.reason, Rule::Status, "payload.reason")?;
        if p.evidence.len() > MAX_EVIDENCE {
            return reject(
                Rule::Limits,
                "payload.evidence",
                format!("{} links exceed {MAX_EVIDENCE}", p.evidence.len()),
            );
        }
        for (i, e) in p.evidence.iter().enumerate() {
            if !is_evidence_url(e) {
                return reject(
                    Rule::Status,
                    format!("payload.evidence[{i}]"),
                    format!("{e:?} is not an http:// or https:// URL"),
                );
            }
        }
        if p.to == "achieved" {
            let unmet: Vec<&str> = m
                .depends_on
                .iter()
                .filter(|d| {
                    self.milestones
                        .get(*d)
                        .is_none_or(|x| x.status != "achieved")
                })
                .map(String::as_str)
                .collect();
            if !unmet.is_empty() {
                return reject(
                    Rule::Status,
                    "payload.to",
                    format!("unmet dependencies: {}", unmet.join(", ")),
                );
            }
            if p.evidence.is_empty() {
                return reject(
                    Rule::Status,
                    "payload.evidence",
                    "achieved needs at least one evidence link",
                );
            }
        }
        Ok(())
    }

    /// Folds a recorded event into the state. Assumes `check` passed.
    pub fn apply(&mut self, event: &Event, hash: Hash) {
        let st = &event.statement;
        match &st.payload {
            Payload::LedgerOpened(p) => {
                self.ledger = st.ledger.clone();
                self.title = p.title.clone();
                self.origin = p.origin.clone();
                self.log_key = p.log_key.clone();
                self.founder = p.founder.actor.clone();
                self.framework = p.framework.clone();
                self.layer_phase = p.framework.initial_phases();
                self.actors.insert(
                    p.founder.actor.clone(),
                    Actor {
                        name: p.founder.name.clone(),
                        roles: vec!["steward".into()],
                        public_key: p.founder.public_key.clone(),
                        retired: false,
                    },
                );
            }
            Payload::ActorRegistered(p) => {
                self.actors.insert(
                    p.actor.clone(),
                    Actor {
                        name: p.name.clone(),
                        roles: p.roles.clone(),
                        public_key: p.public_key.clone(),
                        retired: false,
                    },
                );
            }
            Payload::ActorRolesChanged(p) => {
                if let Some(a) = self.actors.get_mut(&p.actor) {
                    a.roles = p.roles.clone();
                }
            }
            Payload::ActorKeyRotated(p) => {
                if let Some(a) = self.actors.get_mut(&p.actor) {
                    a.public_key = p.public_key.clone();
                }
            }
            Payload::ActorRetired(p) => {
                if let Some(a) = self.actors.get_mut(&p.actor) {
                    a.retired = true;
                }
            }
            Payload::MilestoneDefined(p) => {
                self.milestones.insert(
                    p.id.clone(),
                    Milestone {
                        title: p.title.clone(),
                        layer: p.layer.clone(),
                        phase: p.phase.clone(),
                        status: "not_started".into(),
                        depends_on: p.depends_on.clone(),
                        retired: false,
                    },
                );
            }
            Payload::MilestoneRevised(p) => {
                if let Some(m) = self.milestones.get_mut(&p.id) {
                    p.apply_to(&mut m.title, &mut m.phase, &mut m.depends_on);
                }
            }
            Payload::MilestoneRetired(p) => {
                if let Some(m) = self.milestones.get_mut(&p.id) {
                    m.retired = true;
                }
            }
            Payload::MilestoneStatusChanged(p) => {
                if let Some(m) = self.milestones.get_mut(&p.id) {
                    m.status = p.to.clone();
                }
            }
            Payload::PhaseTransitioned(p) => {
                self.layer_phase.insert(p.layer.clone(), p.to.clone());
            }
            Payload::SeasonOpened(p) => {
                self.season = Some(Season {
                    number: p.season,
                    open: true,
                    starts_on: p.starts_on.clone(),
                });
            }
            Payload::SeasonReEvaluated(_) => {
                if let Some(s) = self.season.as_mut() {
                    s.open = false;
                }
            }
        }
        self.head = Some(Head {
            seq: event.seq,
            hash,
            recorded_at: event.recorded_at.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_walk_names_the_first_nul_and_the_first_long_string_by_path() {
        let long = "é".repeat(MAX_STRING_CHARS + 1);
        let v = serde_json::json!({
            "payload": {"assessments": [{"note": "fine"}, {"note": long}], "reason": "a\u{0}b"},
            "x\u{0}": "key",
        });
        let f = string_faults(&v);
        assert_eq!(f.nul.as_deref(), Some("payload.reason"));
        assert_eq!(
            f.long,
            Some(("payload.assessments[1].note".into(), MAX_STRING_CHARS + 1))
        );
        // 4,096 two-byte characters are 8,192 bytes but within the limit.
        let at_limit = serde_json::json!({"s": "é".repeat(MAX_STRING_CHARS)});
        let f = string_faults(&at_limit);
        assert!(f.nul.is_none() && f.long.is_none());
        let key = serde_json::json!({"a": {"b\u{0}": 1}});
        assert_eq!(string_faults(&key).nul.as_deref(), Some("a.b\u{0}"));
    }
}
