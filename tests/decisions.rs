//! SPEC v1.1 section 13 end to end, through the real `waymark` binary on SQLite and
//! PostgreSQL: `init` records a framework's bodies and decisions; each of rules 9 to 12
//! refuses a statement (exit 1, the rule id and the field) and leaves the export
//! byte-identical; the same statement chained in around the rules is caught by `verify`,
//! `verify-offline` and the independent Python verifier; a valid decision history
//! verifies everywhere, its snapshot included. And the frozen v1.1 vector ledger
//! (`tests/vectors/v1.1-decisions.jsonl`) is rebuilt byte for byte and checked by both
//! verifiers.

#[macro_use]
mod common;
use base64::Engine;
use common::*;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use waymark_core::LedgerState;
use waymark_events::*;
use waymark_projections::StatusFold;

/// A framework with bodies and decisions: `upgrades` (the Foundation and the Token
/// House decide, the Citizens' House vetoes; target: the Token House, optimistic) and
/// `grants` (the Token House decides; no target). `spare` is named by no design.
const GOV: &str = r#"
id = "gov"
version = "1"
title = "Governance test framework"
[[principles]]
id = "gm"
title = "Governance minimization"
[[layers]]
id = "technical"
title = "Technical"
phases = ["A", "B"]
[[layers]]
id = "social"
title = "Social"
phases = ["A", "B"]
[[phases]]
id = "A"
title = "Phase A"
description = "Bootstrapped"
[[phases]]
id = "B"
title = "Phase B"
description = "Delegated"
[[milestones]]
id = "T-A1"
title = "Upgrades approved by the Token House"
layer = "technical"
phase = "A"
[[milestones]]
id = "S-A1"
title = "Citizens' House elected"
layer = "social"
phase = "A"
[[bodies]]
id = "token-house"
title = "Token House"
kind = "house"
description = "OP holders and their delegates"
charter = "https://example.org/token-house"
[[bodies]]
id = "foundation"
title = "Optimism Foundation"
kind = "foundation"
description = "The Foundation"
[[bodies]]
id = "citizens-house"
title = "Citizens' House"
kind = "house"
description = "Citizens"
[[bodies]]
id = "spare"
title = "Spare"
kind = "other"
description = "Named by no design"
[[decisions]]
id = "upgrades"
title = "Protocol upgrades"
description = "Who ships upgrades"
layer = "technical"
principles = ["gm"]
milestones = ["T-A1"]
source = "https://example.org/operating-manual"
[decisions.profile]
cadence = "rare"
stakes = "high"
leverage = 5
[decisions.current]
proposers = ["foundation"]
deciders = ["foundation", "token-house"]
process = "vote"
threshold_bps = 7600
quorum_bps = 3000
vetoes = [{ body = "citizens-house", threshold_bps = 3000 }]
executors = ["foundation"]
[decisions.target]
proposers = ["foundation", "token-house"]
deciders = ["token-house"]
process = "optimistic"
vetoes = [{ body = "citizens-house", threshold_bps = 3000 }]
executors = ["foundation"]
[[decisions]]
id = "grants"
title = "Grants"
description = "Governance Fund grants"
layer = "social"
principles = []
milestones = []
profile = {}
[decisions.current]
proposers = []
deciders = ["token-house"]
process = "vote"
vetoes = []
executors = ["foundation"]
"#;

/// Events `init` records from [`GOV`]: the opening, 2 milestones, 4 bodies, 2 decisions.
const INIT_EVENTS: u64 = 1 + 2 + 4 + 2;

fn upgrades_current() -> Value {
    json!({"proposers": ["foundation"], "deciders": ["foundation", "token-house"],
           "process": "vote", "threshold_bps": 7600, "quorum_bps": 3000,
           "vetoes": [{"body": "citizens-house", "threshold_bps": 3000}],
           "executors": ["foundation"]})
}

fn upgrades_target() -> Value {
    json!({"proposers": ["foundation", "token-house"], "deciders": ["token-house"],
           "process": "optimistic",
           "vetoes": [{"body": "citizens-house", "threshold_bps": 3000}],
           "executors": ["foundation"]})
}

fn grants_current() -> Value {
    json!({"proposers": [], "deciders": ["token-house"], "process": "vote", "vetoes": [],
           "executors": ["foundation"]})
}

/// `init` with [`GOV`], founder `alice`; `rita` reviewer, `bob` reporter.
fn gov_ledger(kind: Kind) -> Env {
    let env = Env::new(kind);
    let fw = env.path("gov.toml");
    std::fs::write(&fw, GOV).unwrap();
    env.ok(&[
        "--ledger",
        "test",
        "init",
        "--framework",
        fw.to_str().unwrap(),
        "--founder",
        "alice",
        "--origin",
        "example.org/test",
    ]);
    env.ok(&[
        "actor", "add", "rita", "--name", "Rita", "--role", "reviewer",
    ]);
    env.ok(&["actor", "add", "bob", "--name", "Bob", "--role", "reporter"]);
    env
}

fn line(actor: &str, t: &str, payload: Value) -> Value {
    json!({"as": actor, "type": t, "payload": payload})
}

fn apply(env: &Env, lines: &[Value]) -> Output {
    let f = env.path("lines.jsonl");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&f, text).unwrap();
    env.run(&["--json", "apply", f.to_str().unwrap()])
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// The lines are refused (exit 1) by `rule` at `field`, on line `at`, and the export
/// is byte-identical afterwards.
#[track_caller]
fn refused(env: &Env, lines: &[Value], at: u64, rule: &str, field: &str) {
    let before = env.export();
    let out = apply(env, lines);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON error ({e}): {}", describe(&out)));
    assert_eq!(
        (
            v["error"]["rule"].as_str(),
            v["error"]["field"].as_str(),
            v["error"]["line"].as_u64()
        ),
        (Some(rule), Some(field), Some(at)),
        "{}",
        describe(&out)
    );
    assert!(
        env.export() == before,
        "{rule} refused the statement but the export changed"
    );
}

/// Refused as malformed input (exit 1, no rule: the payload's shape), export unchanged.
#[track_caller]
fn refused_as_malformed(env: &Env, lines: &[Value], says: &str) {
    let before = env.export();
    let out = apply(env, lines);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(text(&out.stderr).contains(says), "{}", describe(&out));
    assert!(env.export() == before);
}

#[track_caller]
fn applied(env: &Env, lines: &[Value]) {
    let out = apply(env, lines);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

fn export_events(bytes: &[u8]) -> Vec<(Event, Hash)> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| Event::from_export_value(&parse_strict(l).unwrap()).unwrap())
        .collect()
}

fn key_of(env: &Env, actor: &str) -> SigningKey {
    let text = std::fs::read_to_string(env.keys().join(format!("{actor}.key"))).unwrap();
    let seed: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap()
        .try_into()
        .unwrap();
    SigningKey::from_bytes(&seed)
}

fn payload(t: &str, v: &Value) -> Payload {
    Payload::from_value(t.parse().unwrap(), v).unwrap()
}

/// `waymark --json verify-offline ARGS`: (exit code, report).
fn verify_offline(args: &[&Path]) -> (i32, Value) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_waymark"));
    c.args(["--json", "verify-offline", "--log"]).arg(args[0]);
    if let Some(s) = args.get(1) {
        c.arg("--snapshot").arg(s);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

fn have_python() -> bool {
    Command::new("python3")
        .args(["-c", "import rfc8785, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The independent verifier on `log` (with the status at `status.0` if given):
/// its report, or `None` when python3 is not there (and may be skipped).
fn python(log: &Path, status: Option<(u64, &Path)>) -> Option<Value> {
    if !needs(
        "python3 with rfc8785 and cryptography",
        have_python(),
        "pip install -r tests/independent/requirements.txt",
    ) {
        return None;
    }
    let mut c = Command::new("python3");
    c.arg(python_verifier())
        .arg(log)
        .arg("--strict-payload-keys");
    if let Some((n, file)) = status {
        c.args(["--status-at", &n.to_string(), "--status"])
            .arg(file);
    }
    let out = c.output().unwrap();
    Some(
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("independent verifier: {}", text(&out.stderr))),
    )
}

/// The statement refused by `rule`, chained in by hand with its signer's own key (as
/// someone with write access to the tables could): `verify`, `verify-offline` on the
/// export and the Python verifier all report `rule_violation` at its seq, and the
/// Rust reports name the rule.
#[track_caller]
fn written_around_is_caught(env: &Env, actor: &str, t: &str, p: Value, rule: &str) {
    let all = export_events(&env.export());
    let (last, last_hash) = all.last().unwrap().clone();
    let seq = last.seq + 1;
    let statement = Statement::new("test", actor, "2026-02-01T00:00:00.000000Z", payload(t, &p));
    let sig = sign(&statement, &key_of(env, actor));
    let e = Event {
        statement,
        seq,
        prev: last_hash,
        recorded_at: last.recorded_at.clone(),
        sig,
    };
    env.write_row(seq, &e, &e.hash(), true);
    let (code, report) = env.verify();
    assert_eq!(
        (
            code,
            report["problem"].as_str(),
            report["first_bad_seq"].as_u64()
        ),
        (3, Some("rule_violation"), Some(seq)),
        "{report}"
    );
    assert!(
        report["detail"].as_str().unwrap().contains(rule),
        "{report}"
    );
    let log = env.path("tampered.jsonl");
    std::fs::write(&log, env.export()).unwrap();
    let (code, offline) = verify_offline(&[&log]);
    assert_eq!(
        (
            code,
            offline["problem"].as_str(),
            offline["first_bad_seq"].as_u64()
        ),
        (3, Some("rule_violation"), Some(seq)),
        "{offline}"
    );
    assert!(
        offline["detail"].as_str().unwrap().contains(rule),
        "{offline}"
    );
    if let Some(py) = python(&log, None) {
        assert_eq!(
            (py["problem"].as_str(), py["first_bad_seq"].as_u64()),
            (Some("rule_violation"), Some(seq)),
            "the independent verifier disagrees: {py}"
        );
    }
}

// ---------------------------------------------------------------------------------
// `init` and the framework file

fn init_records_bodies_then_decisions_in_file_order(kind: Kind) {
    let env = gov_ledger(kind);
    let events = export_events(&env.export());
    let order: Vec<(String, String)> = events
        .iter()
        .map(|(e, _)| {
            let p = &e.statement.payload;
            let id = p
                .milestone_id()
                .or(p.body_id())
                .or(p.decision_id())
                .unwrap_or("");
            (e.statement.event_type().to_string(), id.to_string())
        })
        .collect();
    let want: Vec<(&str, &str)> = vec![
        ("LedgerOpened", ""),
        ("MilestoneDefined", "T-A1"),
        ("MilestoneDefined", "S-A1"),
        ("BodyDefined", "token-house"),
        ("BodyDefined", "foundation"),
        ("BodyDefined", "citizens-house"),
        ("BodyDefined", "spare"),
        ("DecisionDefined", "upgrades"),
        ("DecisionDefined", "grants"),
        ("ActorRegistered", ""),
        ("ActorRegistered", ""),
    ];
    let got: Vec<(&str, &str)> = order
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(got, want);
    // Key for key what the file says: absent stays absent, nothing is added.
    let grants = events[8].0.statement.payload.to_value();
    assert_eq!(
        grants,
        json!({"id": "grants", "title": "Grants", "description": "Governance Fund grants",
               "layer": "social", "principles": [], "milestones": [], "profile": {},
               "current": grants_current()})
    );
    let upgrades = events[7].0.statement.payload.to_value();
    assert_eq!(upgrades["target"], upgrades_target());
    assert_eq!(
        upgrades["profile"],
        json!({"cadence": "rare", "stakes": "high", "leverage": 5})
    );
    let spare = events[6].0.statement.payload.to_value();
    assert_eq!(
        spare,
        json!({"id": "spare", "title": "Spare", "kind": "other",
               "description": "Named by no design"})
    );
    let status = env.json(&["status"]);
    assert_eq!(
        status["authority"],
        json!({"decisions": 2, "at_target": 0, "foundation_decides": 1})
    );
    // Before the first body, the status is a v1 status.
    let early = env.json(&["status", "--as-of", "seq:3"]);
    assert!(early.get("bodies").is_none() && early.get("authority").is_none());
}

/// A framework whose design is not canonical is refused when `init` records it (the
/// loader does not sort for the author): nothing is recorded.
fn init_refuses_a_framework_design_that_is_not_canonical(kind: Kind) {
    let env = Env::new(kind);
    let fw = env.path("gov.toml");
    std::fs::write(
        &fw,
        GOV.replace(
            r#"deciders = ["foundation", "token-house"]"#,
            r#"deciders = ["token-house", "foundation"]"#,
        ),
    )
    .unwrap();
    let out = env.run(&[
        "--json",
        "--ledger",
        "test",
        "init",
        "--framework",
        fw.to_str().unwrap(),
        "--founder",
        "alice",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["error"]["rule"].as_str(), v["error"]["field"].as_str()),
        (Some("R10-decision"), Some("payload.current.deciders[1]")),
        "{v}"
    );
    let status = env.run(&["status"]);
    assert_ne!(status.status.code(), Some(0), "a ledger was recorded");
}

// ---------------------------------------------------------------------------------
// One scenario per rule: refused with its id and field, export unchanged; written
// around the recorder, caught by every verifier.

fn rule_9_bodies(kind: Kind) {
    let env = gov_ledger(kind);
    refused(
        &env,
        &[line(
            "alice",
            "BodyDefined",
            json!({"id": "guild", "title": "Guild", "kind": "guild", "description": ""}),
        )],
        1,
        "R9-body",
        "payload.kind",
    );
    refused(
        &env,
        &[line(
            "alice",
            "BodyDefined",
            json!({"id": "foundation", "title": "Again", "kind": "foundation", "description": ""}),
        )],
        1,
        "R9-body",
        "payload.id",
    );
    refused(
        &env,
        &[line(
            "alice",
            "BodyRevised",
            json!({"id": "token-house", "reason": "nothing"}),
        )],
        1,
        "R9-body",
        "payload",
    );
    let retire = json!({"id": "citizens-house", "reason": "dissolved"});
    refused(
        &env,
        &[
            line(
                "alice",
                "BodyRetired",
                json!({"id": "spare", "reason": "unused"}),
            ),
            line("alice", "BodyRetired", retire.clone()),
        ],
        2,
        "R9-body",
        "payload.id",
    );
    refused(
        &env,
        &[
            line(
                "alice",
                "BodyRetired",
                json!({"id": "spare", "reason": "unused"}),
            ),
            line(
                "alice",
                "BodyRevised",
                json!({"id": "spare", "reason": "r", "title": "Back"}),
            ),
        ],
        2,
        "R6-retired",
        "payload.id",
    );
    // A body named by a design is not retired around the rules either.
    written_around_is_caught(&env, "alice", "BodyRetired", retire, "R9-body");
}

fn rule_10_decisions(kind: Kind) {
    let env = gov_ledger(kind);
    let mut unsorted = json!({
        "id": "sequencer", "title": "Sequencer", "description": "", "layer": "technical",
        "principles": [], "profile": {}, "milestones": [],
        "current": {"proposers": [], "deciders": ["token-house", "foundation"],
                    "process": "vote", "vetoes": [], "executors": []}
    });
    refused(
        &env,
        &[line("alice", "DecisionDefined", unsorted.clone())],
        1,
        "R10-decision",
        "payload.current.deciders[1]",
    );
    unsorted["current"]["deciders"] = json!(["foundation"]);
    unsorted["profile"] = json!({"leverage": 13});
    refused(
        &env,
        &[line("alice", "DecisionDefined", unsorted.clone())],
        1,
        "R10-decision",
        "payload.profile.leverage",
    );
    refused(
        &env,
        &[line(
            "alice",
            "DecisionRevised",
            json!({"id": "grants", "reason": "end state",
                   "target": {"proposers": [], "deciders": ["ghost"], "process": "vote",
                              "vetoes": [], "executors": []}}),
        )],
        1,
        "R10-decision",
        "payload.target.deciders[0]",
    );
    refused(
        &env,
        &[line(
            "alice",
            "DecisionRevised",
            json!({"id": "grants", "reason": "r", "milestones": ["T-A1", "S-A1"]}),
        )],
        1,
        "R10-decision",
        "payload.milestones[1]",
    );
    // Rule 0: `current` is no key of a revision; null is no optional value.
    refused_as_malformed(
        &env,
        &[line(
            "alice",
            "DecisionRevised",
            json!({"id": "grants", "reason": "r", "current": upgrades_target()}),
        )],
        "current",
    );
    let mut null_target = unsorted.clone();
    null_target["profile"] = json!({});
    null_target["target"] = Value::Null;
    refused_as_malformed(
        &env,
        &[line("alice", "DecisionDefined", null_target)],
        "null",
    );
    let mut ghost = unsorted;
    ghost["profile"] = json!({});
    ghost["current"]["executors"] = json!(["ghost"]);
    written_around_is_caught(&env, "alice", "DecisionDefined", ghost, "R10-decision");
}

fn rule_11_transfers(kind: Kind) {
    let env = gov_ledger(kind);
    let transfer = |from: Value, to: Value| {
        json!({"decision": "upgrades", "from": from, "to": to, "reason": "the vote passed",
               "evidence": ["https://example.org/vote"], "effective_on": "2025-05-01"})
    };
    let wrong_from = transfer(upgrades_target(), grants_current());
    refused(
        &env,
        &[line("rita", "AuthorityTransferred", wrong_from)],
        1,
        "R11-transfer",
        "payload.from",
    );
    refused(
        &env,
        &[line(
            "rita",
            "AuthorityTransferred",
            transfer(upgrades_current(), upgrades_current()),
        )],
        1,
        "R11-transfer",
        "payload.to",
    );
    let mut no_evidence = transfer(upgrades_current(), upgrades_target());
    no_evidence["evidence"] = json!([]);
    refused(
        &env,
        &[line("rita", "AuthorityTransferred", no_evidence)],
        1,
        "R11-transfer",
        "payload.evidence",
    );
    let mut leap = transfer(upgrades_current(), upgrades_target());
    leap["effective_on"] = json!("2025-02-29");
    refused(
        &env,
        &[line("rita", "AuthorityTransferred", leap)],
        1,
        "R0-format",
        "payload.effective_on",
    );
    refused(
        &env,
        &[line(
            "bob",
            "AuthorityTransferred",
            transfer(upgrades_current(), upgrades_target()),
        )],
        1,
        "R1-signer",
        "actor",
    );
    // The real one passes, then the same `from` is stale.
    applied(
        &env,
        &[line(
            "rita",
            "AuthorityTransferred",
            transfer(upgrades_current(), upgrades_target()),
        )],
    );
    let status = env.json(&["status"]);
    assert_eq!(status["decisions"][1]["id"], "upgrades");
    assert_eq!(status["decisions"][1]["at_target"], true);
    refused(
        &env,
        &[line(
            "rita",
            "AuthorityTransferred",
            transfer(upgrades_current(), grants_current()),
        )],
        1,
        "R11-transfer",
        "payload.from",
    );
    written_around_is_caught(
        &env,
        "rita",
        "AuthorityTransferred",
        transfer(upgrades_current(), grants_current()),
        "R11-transfer",
    );
}

fn rule_12_hypotheses(kind: Kind) {
    let env = gov_ledger(kind);
    let stated = json!({"decision": "grants", "id": "h1", "statement": "grants ship",
                        "measure": "milestones delivered"});
    let concluded = |outcome: &str| {
        json!({"decision": "grants", "id": "h1", "outcome": outcome, "note": "measured",
               "evidence": ["https://example.org/report"]})
    };
    refused(
        &env,
        &[line("rita", "HypothesisConcluded", concluded("supported"))],
        1,
        "R12-hypothesis",
        "payload.id",
    );
    refused(
        &env,
        &[
            line("rita", "HypothesisStated", stated.clone()),
            line("rita", "HypothesisConcluded", concluded("proven")),
        ],
        2,
        "R12-hypothesis",
        "payload.outcome",
    );
    let mut empty = stated.clone();
    empty["measure"] = json!("");
    refused(
        &env,
        &[line("rita", "HypothesisStated", empty)],
        1,
        "R12-hypothesis",
        "payload.measure",
    );
    let mut elsewhere = stated.clone();
    elsewhere["decision"] = json!("ghost");
    refused(
        &env,
        &[line("rita", "HypothesisStated", elsewhere)],
        1,
        "R12-hypothesis",
        "payload.decision",
    );
    applied(
        &env,
        &[
            line("rita", "HypothesisStated", stated.clone()),
            line("rita", "HypothesisConcluded", concluded("supported")),
        ],
    );
    refused(
        &env,
        &[line("alice", "HypothesisConcluded", concluded("refuted"))],
        1,
        "R12-hypothesis",
        "payload.id",
    );
    refused(
        &env,
        &[line("alice", "HypothesisStated", stated)],
        1,
        "R12-hypothesis",
        "payload.id",
    );
    written_around_is_caught(
        &env,
        "rita",
        "HypothesisConcluded",
        concluded("refuted"),
        "R12-hypothesis",
    );
}

// ---------------------------------------------------------------------------------
// A valid decision history: verified by `verify`, `verify-offline` (with a snapshot
// that carries the decision map) and the independent verifier.

fn a_decision_history(env: &Env) {
    let transfer = json!({"decision": "upgrades", "from": upgrades_current(),
                          "to": upgrades_target(), "reason": "Upgrade 16 vote",
                          "evidence": ["https://example.org/vote"], "effective_on": "2025-07-01"});
    applied(
        env,
        &[
            line(
                "alice",
                "BodyDefined",
                json!({"id": "board", "title": "Budget Board", "kind": "board",
                       "description": "Ratified in Season 7",
                       "charter": "https://example.org/board"}),
            ),
            line("rita", "AuthorityTransferred", transfer),
            line(
                "alice",
                "DecisionRevised",
                json!({"id": "grants", "reason": "end state published",
                       "target": {"proposers": [], "deciders": ["board"], "process": "vote",
                                  "vetoes": [], "executors": ["foundation"]}}),
            ),
            line(
                "rita",
                "HypothesisStated",
                json!({"decision": "grants", "id": "rf4", "statement": "impact is rewarded",
                       "measure": "share of projects active a year later"}),
            ),
            line(
                "rita",
                "HypothesisConcluded",
                json!({"decision": "grants", "id": "rf4", "outcome": "inconclusive",
                       "note": "no outcome published", "evidence": []}),
            ),
            line(
                "alice",
                "BodyRetired",
                json!({"id": "spare", "reason": "never used"}),
            ),
            line(
                "bob",
                "MilestoneStatusChanged",
                json!({"id": "T-A1", "from": "not_started", "to": "in_progress",
                       "reason": "vote scheduled", "evidence": []}),
            ),
        ],
    );
}

fn a_decision_history_verifies_everywhere(kind: Kind) {
    let env = gov_ledger(kind);
    a_decision_history(&env);
    let n = INIT_EVENTS + 2 + 7;
    let (code, report) = env.verify();
    assert_eq!((code, report["checked"].as_u64()), (0, Some(n)), "{report}");
    let status = env.json(&["status"]);
    assert_eq!(
        status["authority"],
        json!({"decisions": 2, "at_target": 1, "foundation_decides": 0})
    );
    let bodies: Vec<(&str, bool, &Value)> = status["bodies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["id"].as_str().unwrap(),
                b["retired"].as_bool().unwrap(),
                &b["decides"],
            )
        })
        .collect();
    assert_eq!(
        bodies,
        [
            ("board", false, &json!([])),
            ("citizens-house", false, &json!([])),
            ("foundation", false, &json!([])),
            ("spare", true, &json!([])),
            ("token-house", false, &json!(["grants", "upgrades"])),
        ]
    );
    assert_eq!(
        status["decisions"][0]["hypotheses"],
        json!([{"id": "rf4", "outcome": "inconclusive"}])
    );
    // The export and the status, to the independent verifier.
    let log = env.path("export.jsonl");
    env.ok(&["export", "--out", log.to_str().unwrap()]);
    let status_file = env.path("status.json");
    std::fs::write(&status_file, env.ok(&["--json", "status"])).unwrap();
    if let Some(py) = python(&log, Some((n, &status_file))) {
        assert_eq!(
            (py["ok"].as_bool(), py["checked"].as_u64()),
            (Some(true), Some(n)),
            "the independent verifier disagrees: {py}"
        );
    }
    // The snapshot carries the decision map, and verifies offline.
    let snap = env.path("snapshot.json");
    env.ok(&["snapshot", "--out", snap.to_str().unwrap()]);
    let bundle: Value = serde_json::from_slice(&std::fs::read(&snap).unwrap()).unwrap();
    assert_eq!(bundle["status"]["authority"], status["authority"]);
    assert_eq!(bundle["status"]["decisions"], status["decisions"]);
    let (code, offline) = verify_offline(&[&log, &snap]);
    assert_eq!(
        (code, offline["ok"].as_bool()),
        (0, Some(true)),
        "{offline}"
    );
    // A snapshot whose decision map was edited does not.
    let mut forged = bundle.clone();
    forged["status"]["decisions"][1]["at_target"] = json!(false);
    let forged_file = env.path("forged.json");
    std::fs::write(&forged_file, serde_json::to_vec(&forged).unwrap()).unwrap();
    let (code, offline) = verify_offline(&[&log, &forged_file]);
    assert_eq!(
        (code, offline["problem"].as_str()),
        (3, Some("status_mismatch")),
        "{offline}"
    );
}

on_both_backends!(
    init_records_bodies_then_decisions_in_file_order,
    init_refuses_a_framework_design_that_is_not_canonical,
    rule_9_bodies,
    rule_10_decisions,
    rule_11_transfers,
    rule_12_hypotheses,
    a_decision_history_verifies_everywhere,
);

// ---------------------------------------------------------------------------------
// The frozen v1.1 vector ledger (tests/vectors/README.md says how it is made).

const VECTOR_LOG: &str = "v1.1-decisions.jsonl";
const VECTOR_STATUS: &str = "v1.1-decisions-status.json";

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn seed_key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// Builds a ledger event by event, each statement judged by the recorder's rules
/// first (a vector the recorder would refuse is no vector).
struct Builder {
    state: LedgerState,
    fold: StatusFold,
    events: Vec<(Event, Hash)>,
}

impl Builder {
    fn new() -> Self {
        Builder {
            state: LedgerState::default(),
            fold: StatusFold::new(),
            events: Vec::new(),
        }
    }

    fn event(&self, actor: &str, t: &str, p: Value) -> Event {
        let seq = self.events.len() as u64 + 1;
        let statement = Statement::new(
            "gov",
            actor,
            &format!("2026-03-01T09:00:{seq:02}.000000Z"),
            payload(t, &p),
        );
        let key = match actor {
            "alice" => seed_key(1),
            "rita" => seed_key(2),
            other => panic!("no key for {other}"),
        };
        let sig = sign(&statement, &key);
        Event {
            statement,
            seq,
            prev: self.events.last().map_or(Hash::ZERO, |(_, h)| *h),
            recorded_at: format!("2026-03-01T09:00:{seq:02}.500000Z"),
            sig,
        }
    }

    fn push(&mut self, actor: &str, t: &str, p: Value) {
        let e = self.event(actor, t, p);
        if let Err((problem, r)) = self.state.judge("gov", &e.statement, &e.sig, None) {
            panic!("seq {}: {problem:?} {r}", e.seq);
        }
        let hash = e.hash();
        self.state.apply(&e, hash);
        self.fold.apply(&e, &hash);
        self.events.push((e, hash));
    }

    fn export(&self) -> Vec<u8> {
        self.events
            .iter()
            .flat_map(|(e, h)| e.export_line(h))
            .collect()
    }
}

fn design(
    proposers: &[&str],
    deciders: &[&str],
    process: &str,
    vetoes: Value,
    executors: &[&str],
) -> Value {
    json!({"proposers": proposers, "deciders": deciders, "process": process,
           "vetoes": vetoes, "executors": executors})
}

/// The vector: a v1 beginning (a ledger, two milestones, a reviewer), five bodies,
/// three decisions (one with a full profile, a target and a source; one with an m-of-n
/// target; one with neither), three transfers (one reaching its target, one dropping a
/// body, one suspending a decision), a revision, a retired body, two hypotheses (one
/// concluded), a body revised, a milestone moved.
fn vector() -> Builder {
    let alice = encode_public_key(&seed_key(1).verifying_key());
    let rita = encode_public_key(&seed_key(2).verifying_key());
    let log = verifier_key("waymark.example/gov", &seed_key(3).verifying_key());
    let phases = json!([
        {"id": "A", "title": "Phase A", "description": "Bootstrapped"},
        {"id": "B", "title": "Phase B", "description": "Delegated"},
        {"id": "C", "title": "Phase C", "description": "Decentralized"}
    ]);
    let upgrades_now = json!({
        "proposers": ["foundation"], "deciders": ["foundation", "token-house"],
        "process": "vote", "threshold_bps": 7600, "quorum_bps": 3000,
        "vetoes": [{"body": "citizens-house", "threshold_bps": 3000}],
        "executors": ["foundation"]});
    let upgrades_end = json!({
        "proposers": ["foundation", "token-house"], "deciders": ["token-house"],
        "process": "optimistic",
        "vetoes": [{"body": "citizens-house", "threshold_bps": 3000}, {"body": "security-council"}],
        "executors": ["security-council"]});
    let guardian_now = design(
        &[],
        &["foundation"],
        "discretion",
        json!([]),
        &["foundation"],
    );
    let mut guardian_end = design(
        &[],
        &["security-council"],
        "multisig",
        json!([]),
        &["security-council"],
    );
    guardian_end["signers"] = json!({"m": 10, "n": 13});
    let retro_now = design(
        &["foundation"],
        &["citizens-house", "interim-board"],
        "vote",
        json!([]),
        &["foundation"],
    );
    let mut retro_next = design(
        &["foundation"],
        &["citizens-house"],
        "vote",
        json!([]),
        &["foundation"],
    );
    retro_next["quorum_bps"] = json!(2500);
    let retro_paused = design(&[], &[], "suspended", json!([]), &[]);
    let body = |id: &str, title: &str, kind: &str, charter: Option<&str>| {
        let mut b = json!({"id": id, "title": title, "kind": kind,
                           "description": format!("{title} (test vector)")});
        if let Some(c) = charter {
            b["charter"] = json!(c);
        }
        b
    };
    let transfer = |decision: &str, from: &Value, to: &Value, on: &str, why: &str| {
        json!({"decision": decision, "from": from, "to": to, "reason": why,
               "evidence": [format!("https://example.org/{decision}/{on}")], "effective_on": on})
    };

    let mut b = Builder::new();
    b.push(
        "alice",
        "LedgerOpened",
        json!({"title": "Who decides (v1.1 test vector)", "origin": "waymark.example/gov",
               "log_key": log,
               "founder": {"actor": "alice", "name": "Alice (Foundation)", "public_key": alice},
               "framework": {"id": "gov-vector", "version": "1", "title": "Decision vector",
                             "principles": [{"id": "gm", "title": "Governance minimization"}],
                             "layers": [{"id": "technical", "title": "Technical", "phases": ["A", "B", "C"]},
                                        {"id": "social", "title": "Social", "phases": ["A", "B", "C"]}],
                             "phases": phases}}),
    );
    let milestone = |id: &str, layer: &str| {
        json!({"id": id, "title": format!("Milestone {id}"), "layer": layer, "phase": "A",
               "description": "", "principles": ["gm"], "depends_on": []})
    };
    b.push("alice", "MilestoneDefined", milestone("T-A1", "technical"));
    b.push("alice", "MilestoneDefined", milestone("S-A1", "social"));
    b.push(
        "alice",
        "ActorRegistered",
        json!({"actor": "rita", "name": "Rita (reviewer)", "roles": ["reviewer"], "public_key": rita}),
    );
    for (id, title, kind, charter) in [
        (
            "foundation",
            "Optimism Foundation",
            "foundation",
            Some("https://example.org/foundation"),
        ),
        ("token-house", "Token House", "house", None),
        ("citizens-house", "Citizens' House", "house", None),
        (
            "security-council",
            "Security Council",
            "council",
            Some("https://example.org/security-council"),
        ),
        ("interim-board", "Interim Board", "board", None),
    ] {
        b.push("alice", "BodyDefined", body(id, title, kind, charter));
    }
    b.push(
        "alice",
        "DecisionDefined",
        json!({"id": "protocol-upgrades", "title": "Protocol upgrades",
               "description": "Who proposes, approves, can veto and executes L1 upgrades",
               "layer": "technical", "principles": ["gm"],
               "profile": {"cadence": "rare", "stakes": "high", "complexity": "multi",
                           "answer": "judgement", "space": "concave", "leverage": 5},
               "current": upgrades_now, "target": upgrades_end, "milestones": ["T-A1"],
               "source": "https://example.org/operating-manual"}),
    );
    b.push(
        "alice",
        "DecisionDefined",
        json!({"id": "guardian", "title": "Guardian role", "description": "Who may pause",
               "layer": "technical", "principles": [], "profile": {"stakes": "high"},
               "current": guardian_now, "target": guardian_end, "milestones": ["T-A1"]}),
    );
    b.push(
        "alice",
        "DecisionDefined",
        json!({"id": "retro-funding", "title": "Retro Funding", "description": "Who allocates",
               "layer": "social", "principles": [], "profile": {}, "current": retro_now,
               "milestones": ["S-A1"]}),
    );
    b.push(
        "rita",
        "AuthorityTransferred",
        transfer(
            "guardian",
            &guardian_now,
            &guardian_end,
            "2024-09-11",
            "the Guardian role moved",
        ),
    );
    b.push(
        "alice",
        "DecisionRevised",
        json!({"id": "protocol-upgrades", "reason": "the sources name a second milestone",
               "title": "Protocol upgrades (L1 contracts)", "milestones": ["S-A1", "T-A1"]}),
    );
    b.push(
        "rita",
        "AuthorityTransferred",
        transfer(
            "retro-funding",
            &retro_now,
            &retro_next,
            "2025-05-01",
            "the interim board stepped down",
        ),
    );
    b.push(
        "alice",
        "BodyRetired",
        json!({"id": "interim-board", "reason": "no design names it any more"}),
    );
    b.push(
        "rita",
        "HypothesisStated",
        json!({"decision": "retro-funding", "id": "rf4-impact",
               "statement": "metrics-based voting rewards impact",
               "measure": "share of funded projects active a year later"}),
    );
    b.push(
        "rita",
        "HypothesisStated",
        json!({"decision": "protocol-upgrades", "id": "veto-used",
               "statement": "the Citizens' House veto is used at least once a year",
               "measure": "vetoes cast per year"}),
    );
    b.push(
        "rita",
        "HypothesisConcluded",
        json!({"decision": "retro-funding", "id": "rf4-impact", "outcome": "inconclusive",
               "note": "no outcome published", "evidence": ["https://example.org/rf4"]}),
    );
    b.push(
        "alice",
        "BodyRevised",
        json!({"id": "security-council", "reason": "membership set",
               "title": "Security Council (13 members)"}),
    );
    b.push(
        "rita",
        "AuthorityTransferred",
        transfer(
            "retro-funding",
            &retro_next,
            &retro_paused,
            "2026-01-28",
            "paused for the Season",
        ),
    );
    b.push(
        "alice",
        "MilestoneStatusChanged",
        json!({"id": "T-A1", "from": "not_started", "to": "in_progress",
               "reason": "vote scheduled", "evidence": [], "effective_on": "2026-02-01"}),
    );
    b
}

/// The vector's status at its head, as stored: JCS and a newline.
fn status_bytes(b: &Builder) -> Vec<u8> {
    let mut s = canonical_bytes(&b.fold.status());
    s.push(b'\n');
    s
}

/// Rebuilds the vector and compares it byte for byte with the stored files; with
/// `WAYMARK_WRITE_VECTORS=1` (once, when the vector is made) writes them instead.
#[test]
fn the_v1_1_vector_is_reproduced_byte_for_byte() {
    let b = vector();
    let (log, status) = (b.export(), status_bytes(&b));
    let dir = vectors_dir();
    if std::env::var("WAYMARK_WRITE_VECTORS").as_deref() == Ok("1") {
        std::fs::write(dir.join(VECTOR_LOG), &log).unwrap();
        std::fs::write(dir.join(VECTOR_STATUS), &status).unwrap();
    }
    let stored = std::fs::read(dir.join(VECTOR_LOG)).expect("the frozen vector");
    assert!(
        stored == log,
        "the rebuilt v1.1 vector differs from tests/vectors/{VECTOR_LOG}: the bytes of \
         section 13's events changed"
    );
    assert!(std::fs::read(dir.join(VECTOR_STATUS)).unwrap() == status);
    // What it holds, so a regeneration that dropped something shows.
    let types: Vec<String> = b
        .events
        .iter()
        .map(|(e, _)| e.statement.event_type().to_string())
        .collect();
    for t in EventType::ALL.iter().skip(12) {
        assert!(types.contains(&t.to_string()), "no {t} in the vector");
    }
    let s: Value = serde_json::from_slice(&status).unwrap();
    assert_eq!(
        s["authority"],
        json!({"decisions": 3, "at_target": 1, "foundation_decides": 1})
    );
    assert_eq!(s["bodies"][2]["retired"], json!(true)); // interim-board
    assert_eq!(s["decisions"][2]["current"]["process"], "suspended");
}

#[test]
fn the_v1_1_vector_verifies_with_both_verifiers() {
    let dir = vectors_dir();
    let log = dir.join(VECTOR_LOG);
    let n = export_events(&std::fs::read(&log).unwrap()).len() as u64;
    let (code, report) = verify_offline(&[&log]);
    assert_eq!((code, report["checked"].as_u64()), (0, Some(n)), "{report}");
    // The status file is what the Rust fold computes from the stored log.
    let mut fold = StatusFold::new();
    for (e, h) in export_events(&std::fs::read(&log).unwrap()) {
        fold.apply(&e, &h);
    }
    let mut mine = canonical_bytes(&fold.status());
    mine.push(b'\n');
    assert!(std::fs::read(dir.join(VECTOR_STATUS)).unwrap() == mine);
    if let Some(py) = python(&log, Some((n, &dir.join(VECTOR_STATUS)))) {
        assert_eq!(
            (py["ok"].as_bool(), py["checked"].as_u64()),
            (Some(true), Some(n)),
            "the independent verifier disagrees: {py}"
        );
    }
}

/// The vector with one more event that breaks a rule of section 13 (or its shape):
/// both verifiers report the same problem at the same seq.
#[test]
fn the_vector_with_a_bad_last_event_fails_alike_in_both_verifiers() {
    let retro_next = {
        let mut d = design(
            &["foundation"],
            &["citizens-house"],
            "vote",
            json!([]),
            &["foundation"],
        );
        d["quorum_bps"] = json!(2500);
        d
    };
    let paused = design(&[], &[], "suspended", json!([]), &[]);
    let cases: Vec<(&str, &str, &str, Value, &str)> = vec![
        (
            "a body still named is retired",
            "alice",
            "BodyRetired",
            json!({"id": "citizens-house", "reason": "r"}),
            "rule_violation",
        ),
        (
            "a design naming a retired body",
            "alice",
            "DecisionDefined",
            json!({"id": "x", "title": "X", "description": "", "layer": "social",
                   "principles": [], "profile": {}, "milestones": [],
                   "current": design(&[], &["interim-board"], "vote", json!([]), &[])}),
            "rule_violation",
        ),
        (
            "vetoes out of order",
            "alice",
            "DecisionRevised",
            json!({"id": "guardian", "reason": "r",
                   "target": design(&[], &["security-council"], "vote",
                                    json!([{"body": "token-house"}, {"body": "citizens-house"}]), &[])}),
            "rule_violation",
        ),
        (
            "a transfer from a stale design",
            "rita",
            "AuthorityTransferred",
            json!({"decision": "retro-funding", "from": retro_next, "to": paused.clone(),
                   "reason": "r", "evidence": ["https://example.org/x"], "effective_on": "2026-03-01"}),
            "rule_violation",
        ),
        (
            "a hypothesis concluded twice",
            "rita",
            "HypothesisConcluded",
            json!({"decision": "retro-funding", "id": "rf4-impact", "outcome": "refuted",
                   "note": "n", "evidence": []}),
            "rule_violation",
        ),
        (
            "signers out of range",
            "alice",
            "DecisionRevised",
            json!({"id": "guardian", "reason": "r",
                   "target": {"proposers": [], "deciders": ["security-council"],
                              "process": "multisig", "signers": {"m": 14, "n": 13},
                              "vetoes": [], "executors": []}}),
            "rule_violation",
        ),
        (
            "an effective_on that is no real day",
            "rita",
            "AuthorityTransferred",
            json!({"decision": "retro-funding", "from": paused.clone(),
                   "to": design(&[], &["citizens-house"], "vote", json!([]), &[]),
                   "reason": "r", "evidence": ["https://example.org/x"], "effective_on": "2026-02-30"}),
            "malformed",
        ),
    ];
    let base = vector();
    for (what, actor, t, p, problem) in cases {
        let mut b = Builder {
            state: base.state.clone(),
            fold: base.fold.clone(),
            events: base.events.clone(),
        };
        let e = b.event(actor, t, p);
        let hash = e.hash();
        b.events.push((e, hash));
        let n = b.events.len() as u64;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("bad.jsonl");
        std::fs::write(&log, b.export()).unwrap();
        let (code, report) = verify_offline(&[&log]);
        assert_eq!(
            (
                code,
                report["problem"].as_str(),
                report["first_bad_seq"].as_u64()
            ),
            (3, Some(problem), Some(n)),
            "{what}: {report}"
        );
        if let Some(py) = python(&log, None) {
            assert_eq!(
                (py["problem"].as_str(), py["first_bad_seq"].as_u64()),
                (Some(problem), Some(n)),
                "{what}: the independent verifier disagrees: {py}"
            );
        }
    }
    // And a shape the payload types refuse (a null optional key, an extra key in a
    // design): written as raw JSON, since no typed payload can hold it.
    for (what, edit) in [
        (
            "a null target",
            (
                "\"milestones\":[\"S-A1\"]",
                "\"milestones\":[\"S-A1\"],\"target\":null",
            ),
        ),
        (
            "an extra key in a design",
            (
                "\"process\":\"vote\"",
                "\"process\":\"vote\",\"colour\":\"red\"",
            ),
        ),
    ] {
        let mut lines: Vec<Value> = export_events(&base.export())
            .iter()
            .map(|(e, h)| {
                let mut v = e.to_value();
                v["hash"] = json!(h.to_hex());
                v
            })
            .collect();
        // seq 12 is the retro-funding decision (no target, milestones ["S-A1"]).
        let idx = 11;
        assert_eq!(lines[idx]["payload"]["id"], "retro-funding");
        let mut event_v = lines[idx].clone();
        event_v.as_object_mut().unwrap().remove("hash");
        let text = String::from_utf8(canonical_bytes(&event_v["payload"])).unwrap();
        let edited = text.replacen(edit.0, edit.1, 1);
        assert_ne!(text, edited, "{what}");
        event_v["payload"] = parse_strict(edited.as_bytes()).unwrap();
        // Re-sign and re-chain from here, so only the shape is wrong.
        let mut statement: Value = event_v.clone();
        for k in ["seq", "prev", "recorded_at", "sig"] {
            statement.as_object_mut().unwrap().remove(k);
        }
        let mut signed = SIGNED_PREFIX.to_vec();
        signed.extend(canonical_bytes(&statement));
        use ed25519_dalek::Signer;
        let sig =
            base64::engine::general_purpose::STANDARD.encode(seed_key(1).sign(&signed).to_bytes());
        event_v["sig"] = json!(sig);
        let leaf = canonical_bytes(&event_v);
        event_v["hash"] = json!(leaf_hash(&leaf).to_hex());
        lines[idx] = event_v;
        lines.truncate(idx + 1);
        let bytes: Vec<u8> = lines
            .iter()
            .flat_map(|l| {
                let mut b = canonical_bytes(l);
                b.push(b'\n');
                b
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("bad.jsonl");
        std::fs::write(&log, bytes).unwrap();
        let (code, report) = verify_offline(&[&log]);
        assert_eq!(
            (
                code,
                report["problem"].as_str(),
                report["first_bad_seq"].as_u64()
            ),
            (3, Some("malformed"), Some(12)),
            "{what}: {report}"
        );
        if let Some(py) = python(&log, None) {
            assert_eq!(
                (py["problem"].as_str(), py["first_bad_seq"].as_u64()),
                (Some("malformed"), Some(12)),
                "{what}: the independent verifier disagrees: {py}"
            );
        }
    }
}
