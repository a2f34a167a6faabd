//! SPEC v1.1 section 13's command line additions through the real `waymark` binary,
//! on SQLite and PostgreSQL: `body define|revise|retire|list`, `decision
//! define|revise|transfer|hypothesis|conclude`, the decision map `decisions [--as-of]`,
//! and `history ID` for decision and body ids, locally and over `--server`.

#[macro_use]
mod common;
use common::*;
use serde_json::{json, Value};

/// Bodies and three decisions: `upgrades` and `mirror` start with the same design
/// (so a transfer by flags and one by `--to FILE` can be compared), `grants` has no
/// target. `spare` is named by no design.
const GOV: &str = r#"
id = "gov"
version = "1"
title = "Governance CLI test framework"
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
id = "citizens-house"
title = "Citizens' House"
kind = "house"
description = "Citizens"
[[bodies]]
id = "foundation"
title = "Optimism Foundation"
kind = "foundation"
description = "The Foundation"
[[bodies]]
id = "security-council"
title = "Security Council"
kind = "council"
description = "13 signers"
[[bodies]]
id = "spare"
title = "Spare"
kind = "other"
description = "Named by no design"
[[bodies]]
id = "token-house"
title = "Token House"
kind = "house"
description = "OP holders and their delegates"
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
[[decisions]]
id = "mirror"
title = "Mirror of upgrades"
description = "Starts with the design of upgrades"
layer = "technical"
principles = []
milestones = []
profile = {}
[decisions.current]
proposers = ["foundation"]
deciders = ["foundation", "token-house"]
process = "vote"
threshold_bps = 7600
quorum_bps = 3000
vetoes = [{ body = "citizens-house", threshold_bps = 3000 }]
executors = ["foundation"]
[[decisions]]
id = "upgrades"
title = "Protocol upgrades"
description = "Who ships upgrades"
layer = "technical"
principles = ["gm"]
milestones = ["T-A1"]
source = "https://example.org/operating-manual"
[decisions.profile]
stakes = "high"
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
"#;

/// Events `init` records from [`GOV`]: the opening, 2 milestones, 5 bodies, 3 decisions.
const INIT_EVENTS: u64 = 1 + 2 + 5 + 3;

fn upgrades_current() -> Value {
    json!({"proposers": ["foundation"], "deciders": ["foundation", "token-house"],
           "process": "vote", "threshold_bps": 7600, "quorum_bps": 3000,
           "vetoes": [{"body": "citizens-house", "threshold_bps": 3000}],
           "executors": ["foundation"]})
}

/// `init` with [`GOV`], founder `alice`; `rita` reviewer.
fn gov(kind: Kind) -> Env {
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
    env
}

/// Writes `text` to a file in the env's directory; returns its path.
fn file(env: &Env, name: &str, text: &str) -> String {
    let p = env.path(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// The exported events, as JSON.
fn events(env: &Env) -> Vec<Value> {
    text(&env.export())
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn last_event(env: &Env) -> Value {
    events(env).pop().unwrap()
}

/// Runs `--json ARGS` expecting exit 0 and one recorded event of type `t`; returns
/// the recorded event as exported.
#[track_caller]
fn records(env: &Env, t: &str, args: &[&str]) -> Value {
    let out = env.json(args);
    let rec = &out["recorded"];
    assert_eq!(rec.as_array().map(Vec::len), Some(1), "{out}");
    assert_eq!(rec[0]["type"], t, "{out}");
    let e = last_event(env);
    assert_eq!(rec[0]["seq"], e["seq"]);
    assert_eq!(rec[0]["hash"], e["hash"]);
    e
}

/// Runs `--json ARGS` expecting exit 1 and the error naming `rule` and `field`; the
/// export is byte-identical afterwards. Returns the message.
#[track_caller]
fn refused(env: &Env, rule: &str, field: &str, args: &[&str]) -> String {
    let before = env.export();
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let out = env.run(&a);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["error"]["rule"].as_str(), v["error"]["field"].as_str()),
        (Some(rule), Some(field)),
        "{v}"
    );
    assert_eq!(env.export(), before, "{args:?} changed the ledger");
    v["error"]["message"].as_str().unwrap().to_string()
}

/// Exits `code` (bad input 1, usage 2) with nothing recorded; returns stderr.
#[track_caller]
fn fails_unrecorded(env: &Env, code: i32, args: &[&str]) -> String {
    let before = env.export();
    let err = env.fails(code, args);
    assert_eq!(env.export(), before, "{args:?} changed the ledger");
    err
}

fn decision<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("no decision {id} in {status}"))
}

fn body<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == id)
        .unwrap_or_else(|| panic!("no body {id} in {list}"))
}

// ---------------------------------------------------------------------------------

fn bodies_are_defined_revised_retired_and_listed(kind: Kind) {
    let env = gov(kind);
    let e = records(
        &env,
        "BodyDefined",
        &[
            "body",
            "define",
            "dab",
            "--title",
            "Developer Advisory Board",
            "--kind",
            "board",
            "--description",
            "Reviews upgrades",
            "--charter",
            "https://example.org/dab",
        ],
    );
    assert_eq!(
        e["payload"],
        json!({"id": "dab", "title": "Developer Advisory Board", "kind": "board",
               "description": "Reviews upgrades", "charter": "https://example.org/dab"})
    );
    // Optional keys left out are absent, not null; the description defaults to "".
    let e = records(
        &env,
        "BodyDefined",
        &[
            "body", "define", "ops", "--title", "Ops", "--kind", "multisig",
        ],
    );
    assert_eq!(
        e["payload"],
        json!({"id": "ops", "title": "Ops", "kind": "multisig", "description": ""})
    );
    let e = records(
        &env,
        "BodyRevised",
        &[
            "body", "revise", "dab", "--title", "DAB", "--reason", "shorter",
        ],
    );
    assert_eq!(
        e["payload"],
        json!({"id": "dab", "reason": "shorter", "title": "DAB"})
    );

    // Refusals name the rule and the field, and record nothing.
    refused(
        &env,
        "R9-body",
        "payload.kind",
        &[
            "body", "define", "club", "--title", "Club", "--kind", "club",
        ],
    );
    refused(
        &env,
        "R9-body",
        "payload.id",
        &[
            "body", "define", "dab", "--title", "Again", "--kind", "board",
        ],
    );
    refused(
        &env,
        "R9-body",
        "payload",
        &["body", "revise", "dab", "--reason", "nothing changes"],
    );
    refused(
        &env,
        "R9-body",
        "payload.charter",
        &[
            "body",
            "revise",
            "dab",
            "--charter",
            "ftp://example.org/x",
            "--reason",
            "r",
        ],
    );
    let msg = refused(
        &env,
        "R9-body",
        "payload.id",
        &["body", "retire", "token-house", "--reason", "r"],
    );
    assert!(
        msg.contains("grants") && msg.contains("upgrades"),
        "the refusal lists the decisions naming the body: {msg}"
    );
    records(
        &env,
        "BodyRetired",
        &["body", "retire", "spare", "--reason", "unused"],
    );
    refused(
        &env,
        "R6-retired",
        "payload.id",
        &["body", "revise", "spare", "--title", "x", "--reason", "r"],
    );

    // `body list`: the status's bodies, with what each decides and vetoes now.
    let list = env.json(&["body", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 7, "{list}");
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "bodies sorted by id");
    assert_eq!(
        body(&list, "token-house"),
        &json!({"id": "token-house", "title": "Token House", "kind": "house",
                "retired": false, "decides": ["grants", "mirror", "upgrades"], "vetoes": []})
    );
    assert_eq!(
        body(&list, "citizens-house")["vetoes"],
        json!(["mirror", "upgrades"])
    );
    assert_eq!(body(&list, "spare")["retired"], true);
    assert_eq!(body(&list, "dab")["title"], "DAB");
    let status = env.json(&["status"]);
    assert_eq!(&list, &status["bodies"], "body list is the status's bodies");
    let table = env.ok(&["body", "list"]);
    let header = table.lines().next().unwrap();
    for col in ["body", "kind", "decides", "vetoes", "state", "title"] {
        assert!(header.contains(col), "{header}");
    }
    let spare = table.lines().find(|l| l.contains("spare")).unwrap();
    assert!(
        spare.contains("retired") && spare.contains("other"),
        "{spare}"
    );
    let th = table.lines().find(|l| l.contains("token-house")).unwrap();
    assert!(th.contains("grants, mirror, upgrades"), "{th}");
}

fn decisions_are_defined_from_a_file_and_revised(kind: Kind) {
    let env = gov(kind);
    // The file in the framework's [[decisions]] shape, `id` left out: filled from ID.
    let f = file(
        &env,
        "treasury.toml",
        r#"
title = "Treasury"
description = "Appropriations"
layer = "social"
principles = ["gm"]
milestones = ["S-A1"]
source = "https://example.org/treasury"
[profile]
cadence = "seasonal"
leverage = 3
[current]
proposers = ["foundation"]
deciders = ["token-house"]
process = "vote"
threshold_bps = 5100
vetoes = []
executors = ["foundation"]
"#,
    );
    let e = records(
        &env,
        "DecisionDefined",
        &["decision", "define", "treasury", "--file", &f],
    );
    assert_eq!(
        e["payload"],
        json!({"id": "treasury", "title": "Treasury", "description": "Appropriations",
               "layer": "social", "principles": ["gm"], "milestones": ["S-A1"],
               "source": "https://example.org/treasury",
               "profile": {"cadence": "seasonal", "leverage": 3},
               "current": {"proposers": ["foundation"], "deciders": ["token-house"],
                           "process": "vote", "threshold_bps": 5100, "vetoes": [],
                           "executors": ["foundation"]}}),
        "no target key: absent from the file, absent from the payload"
    );
    // A file that names the same id is accepted; another id is refused.
    let same = file(
        &env,
        "same.toml",
        &std::fs::read_to_string(&f)
            .unwrap()
            .replace("title = \"Treasury\"", "id = \"treasury2\"\ntitle = \"T2\""),
    );
    records(
        &env,
        "DecisionDefined",
        &["decision", "define", "treasury2", "--file", &same],
    );
    let err = fails_unrecorded(
        &env,
        1,
        &["decision", "define", "treasury3", "--file", &same],
    );
    assert!(
        err.contains("treasury2") && err.contains("treasury3"),
        "{err}"
    );
    // The file is recorded as it is: an unsorted list is the recorder's refusal.
    let unsorted = file(
        &env,
        "unsorted.toml",
        &std::fs::read_to_string(&f).unwrap().replace(
            "deciders = [\"token-house\"]",
            "deciders = [\"token-house\", \"citizens-house\"]",
        ),
    );
    refused(
        &env,
        "R10-decision",
        "payload.current.deciders[1]",
        &["decision", "define", "treasury4", "--file", &unsorted],
    );
    // Unknown keys and missing keys are bad input naming the file (exit 1).
    let extra = file(
        &env,
        "extra.toml",
        &format!(
            "{}\ncolour = \"red\"\n",
            std::fs::read_to_string(&f).unwrap()
        )
        .replace("[profile]", "colour2 = 1\n[profile]"),
    );
    let err = fails_unrecorded(&env, 1, &["decision", "define", "t5", "--file", &extra]);
    assert!(
        err.contains("extra.toml") && err.contains("colour"),
        "{err}"
    );
    let missing = file(&env, "missing.toml", "title = \"x\"\n");
    let err = fails_unrecorded(&env, 1, &["decision", "define", "t6", "--file", &missing]);
    assert!(err.contains("missing field"), "{err}");
    let err = fails_unrecorded(
        &env,
        4,
        &["decision", "define", "t7", "--file", "/nonexistent/d.toml"],
    );
    assert!(err.contains("/nonexistent/d.toml"), "{err}");

    // Revise: the fields given; milestones sorted and de-duplicated; profile and
    // target from files, replacing the old values whole.
    let profile = file(&env, "profile.toml", "stakes = \"low\"\n");
    let target = file(
        &env,
        "target.toml",
        r#"
proposers = []
deciders = ["citizens-house", "token-house"]
process = "vote"
vetoes = []
executors = ["foundation"]
"#,
    );
    let e = records(
        &env,
        "DecisionRevised",
        &[
            "decision",
            "revise",
            "treasury",
            "--title",
            "Treasury appropriations",
            "--milestone",
            "T-A1",
            "--milestone",
            "S-A1",
            "--milestone",
            "T-A1",
            "--profile",
            &profile,
            "--target",
            &target,
            "--reason",
            "both houses",
        ],
    );
    assert_eq!(
        e["payload"],
        json!({"id": "treasury", "reason": "both houses", "title": "Treasury appropriations",
               "profile": {"stakes": "low"}, "milestones": ["S-A1", "T-A1"],
               "target": {"proposers": [], "deciders": ["citizens-house", "token-house"],
                          "process": "vote", "vetoes": [], "executors": ["foundation"]}})
    );
    // `--milestone` with no value clears the list.
    let e = records(
        &env,
        "DecisionRevised",
        &[
            "decision",
            "revise",
            "treasury",
            "--milestone",
            "--reason",
            "none",
        ],
    );
    assert_eq!(
        e["payload"],
        json!({"id": "treasury", "reason": "none", "milestones": []})
    );
    refused(
        &env,
        "R10-decision",
        "payload",
        &["decision", "revise", "treasury", "--reason", "nothing"],
    );
    refused(
        &env,
        "R10-decision",
        "payload.milestones[0]",
        &[
            "decision",
            "revise",
            "treasury",
            "--milestone",
            "NOPE",
            "--reason",
            "r",
        ],
    );
    let bad_profile = file(&env, "bad-profile.toml", "leverage = 13\n");
    refused(
        &env,
        "R10-decision",
        "payload.profile.leverage",
        &[
            "decision",
            "revise",
            "treasury",
            "--profile",
            &bad_profile,
            "--reason",
            "r",
        ],
    );
    let status = env.json(&["status"]);
    let t = decision(&status, "treasury");
    assert_eq!(t["title"], "Treasury appropriations");
    assert_eq!(t["milestones"], json!([]));
    assert_eq!(
        t["target"]["deciders"],
        json!(["citizens-house", "token-house"])
    );
}

/// The design the flags below describe, canonical.
fn flag_design() -> Value {
    json!({"proposers": ["foundation", "token-house"],
           "deciders": ["citizens-house", "token-house"],
           "process": "vote", "quorum_bps": 2000, "signers": {"m": 5, "n": 7},
           "vetoes": [{"body": "citizens-house", "threshold_bps": 3000},
                      {"body": "security-council"}],
           "executors": ["foundation"]})
}

fn transfers_by_flags_and_by_file_agree(kind: Kind) {
    let env = gov(kind);
    // Flags in any order, with repeats: the CLI sorts and de-duplicates; threshold
    // cleared; quorum and signers set; process and executors kept.
    let e = records(
        &env,
        "AuthorityTransferred",
        &[
            "decision",
            "transfer",
            "upgrades",
            "--decider",
            "token-house",
            "--decider",
            "citizens-house",
            "--decider",
            "token-house",
            "--proposer",
            "token-house",
            "foundation",
            "--veto",
            "security-council",
            "--veto",
            "citizens-house:3000",
            "--veto",
            "citizens-house:3000",
            "--clear",
            "threshold",
            "--quorum",
            "2000",
            "--signers",
            "5/7",
            "--reason",
            "Both houses decide",
            "--evidence",
            "https://example.org/vote",
        ],
    );
    let p = &e["payload"];
    assert_eq!(p["from"], upgrades_current(), "from: the current design");
    assert_eq!(p["to"], flag_design());
    assert_eq!(
        p["effective_on"].as_str().unwrap(),
        &e["issued_at"].as_str().unwrap()[..10],
        "effective_on defaults to the UTC date of issued_at"
    );
    // The same design, unsorted and with a repeat, in a TOML file: the same bytes.
    let to = file(
        &env,
        "to.toml",
        r#"
proposers = ["token-house", "foundation", "token-house"]
deciders = ["token-house", "citizens-house"]
process = "vote"
quorum_bps = 2000
signers = { m = 5, n = 7 }
vetoes = [{ body = "security-council" }, { body = "citizens-house", threshold_bps = 3000 }]
executors = ["foundation"]
"#,
    );
    let e2 = records(
        &env,
        "AuthorityTransferred",
        &[
            "decision",
            "transfer",
            "mirror",
            "--to",
            &to,
            "--reason",
            "Both houses decide",
            "--evidence",
            "https://example.org/vote",
            "--effective-on",
            "2025-01-16",
        ],
    );
    assert_eq!(e2["payload"]["from"], upgrades_current());
    assert_eq!(
        waymark_events::canonical_value(&e2["payload"]["to"]),
        waymark_events::canonical_value(&p["to"]),
        "flags and --to FILE give the same canonical design"
    );
    assert_eq!(e2["payload"]["effective_on"], "2025-01-16");

    // Flags not given keep their current value; an empty list flag empties the list;
    // --clear drops optional keys.
    let e = records(
        &env,
        "AuthorityTransferred",
        &[
            "decision",
            "transfer",
            "upgrades",
            "--process",
            "multisig",
            "--veto",
            "--clear",
            "quorum",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/2",
        ],
    );
    let mut expect = flag_design();
    expect["process"] = json!("multisig");
    expect["vetoes"] = json!([]);
    expect.as_object_mut().unwrap().remove("quorum_bps");
    assert_eq!(e["payload"]["from"], flag_design());
    assert_eq!(e["payload"]["to"], expect);
    let e = records(
        &env,
        "AuthorityTransferred",
        &[
            "decision",
            "transfer",
            "upgrades",
            "--clear",
            "signers",
            "--threshold",
            "6000",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/3",
        ],
    );
    assert!(e["payload"]["to"].get("signers").is_none(), "{e}");
    assert_eq!(e["payload"]["to"]["threshold_bps"], 6000);

    // Refusals: each names its rule and field, or is a usage error; nothing recorded.
    let msg = refused(
        &env,
        "R11-transfer",
        "payload.to",
        &[
            "decision",
            "transfer",
            "upgrades",
            "--threshold",
            "6000",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/4",
        ],
    );
    assert!(msg.contains("nothing is transferred"), "{msg}");
    refused(
        &env,
        "R11-transfer",
        "payload.decision",
        &[
            "decision",
            "transfer",
            "nope",
            "--process",
            "vote",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/4",
        ],
    );
    refused(
        &env,
        "R10-decision",
        "payload.to.threshold_bps",
        &[
            "decision",
            "transfer",
            "upgrades",
            "--threshold",
            "20000",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/4",
        ],
    );
    refused(
        &env,
        "R10-decision",
        "payload.to.deciders[0]",
        &[
            "decision",
            "transfer",
            "upgrades",
            "--decider",
            "nobody-here",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/4",
        ],
    );
    refused(
        &env,
        "R10-decision",
        "payload.to.process",
        &[
            "decision",
            "transfer",
            "upgrades",
            "--process",
            "lottery",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/4",
        ],
    );
    refused(
        &env,
        "R11-transfer",
        "payload.evidence[0]",
        &[
            "decision",
            "transfer",
            "upgrades",
            "--process",
            "vote",
            "--reason",
            "r",
            "--evidence",
            "ftp://example.org/4",
        ],
    );
    refused(
        &env,
        "R0-format",
        "payload.effective_on",
        &[
            "decision",
            "transfer",
            "upgrades",
            "--process",
            "vote",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/4",
            "--effective-on",
            "2025-02-30",
        ],
    );
    let err = fails_unrecorded(
        &env,
        1,
        &[
            "decision",
            "transfer",
            "upgrades",
            "--veto",
            "citizens-house:3000",
            "--veto",
            "citizens-house:5000",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/4",
        ],
    );
    assert!(
        err.contains("citizens-house") && err.contains("3000") && err.contains("5000"),
        "{err}"
    );
    let err = fails_unrecorded(
        &env,
        1,
        &[
            "decision",
            "transfer",
            "upgrades",
            "--signers",
            "5-7",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/4",
        ],
    );
    assert!(err.contains("M/N"), "{err}");
    let err = fails_unrecorded(
        &env,
        2,
        &[
            "decision",
            "transfer",
            "upgrades",
            "--threshold",
            "5000",
            "--clear",
            "threshold",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/4",
        ],
    );
    assert!(err.contains("--clear threshold"), "{err}");
    // --to FILE excludes the design flags; some change is required; evidence too.
    fails_unrecorded(
        &env,
        2,
        &[
            "decision",
            "transfer",
            "upgrades",
            "--to",
            &to,
            "--decider",
            "token-house",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/4",
        ],
    );
    fails_unrecorded(
        &env,
        2,
        &[
            "decision",
            "transfer",
            "upgrades",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/4",
        ],
    );
    fails_unrecorded(
        &env,
        2,
        &[
            "decision",
            "transfer",
            "upgrades",
            "--process",
            "vote",
            "--reason",
            "r",
        ],
    );
    // Signed by a reviewer, as the SPEC allows.
    let e = records(
        &env,
        "AuthorityTransferred",
        &[
            "--as",
            "rita",
            "decision",
            "transfer",
            "grants",
            "--decider",
            "citizens-house",
            "--reason",
            "r",
            "--evidence",
            "https://example.org/5",
        ],
    );
    assert_eq!(e["actor"], "rita");
    assert_eq!(env.verify().0, 0);
}

fn hypotheses_are_stated_and_concluded(kind: Kind) {
    let env = gov(kind);
    let e = records(
        &env,
        "HypothesisStated",
        &[
            "decision",
            "hypothesis",
            "grants",
            "h1",
            "--statement",
            "Citizens pick better grants",
            "--measure",
            "Impact per OP",
        ],
    );
    assert_eq!(
        e["payload"],
        json!({"decision": "grants", "id": "h1", "statement": "Citizens pick better grants",
               "measure": "Impact per OP"})
    );
    refused(
        &env,
        "R12-hypothesis",
        "payload.id",
        &[
            "decision",
            "hypothesis",
            "grants",
            "h1",
            "--statement",
            "s",
            "--measure",
            "m",
        ],
    );
    refused(
        &env,
        "R12-hypothesis",
        "payload.outcome",
        &[
            "decision",
            "conclude",
            "grants",
            "h1",
            "--outcome",
            "maybe",
            "--note",
            "n",
        ],
    );
    let e = records(
        &env,
        "HypothesisConcluded",
        &[
            "decision",
            "conclude",
            "grants",
            "h1",
            "--outcome",
            "inconclusive",
            "--note",
            "Too few rounds",
        ],
    );
    assert_eq!(
        e["payload"],
        json!({"decision": "grants", "id": "h1", "outcome": "inconclusive",
               "note": "Too few rounds", "evidence": []})
    );
    refused(
        &env,
        "R12-hypothesis",
        "payload.id",
        &[
            "decision",
            "conclude",
            "grants",
            "h1",
            "--outcome",
            "supported",
            "--note",
            "again",
            "--evidence",
            "https://example.org/r",
        ],
    );
    records(
        &env,
        "HypothesisStated",
        &[
            "--as",
            "rita",
            "decision",
            "hypothesis",
            "grants",
            "h2",
            "--statement",
            "s",
            "--measure",
            "m",
        ],
    );
    let status = env.json(&["status"]);
    assert_eq!(
        decision(&status, "grants")["hypotheses"],
        json!([{"id": "h1", "outcome": "inconclusive"}, {"id": "h2", "outcome": null}])
    );
}

/// Seasons 1 and 2; `upgrades` moves to its target during Season 2.
fn seasons_with_a_transfer(env: &Env) -> u64 {
    env.ok(&[
        "season",
        "open",
        "1",
        "--starts-on",
        "2024-06-01",
        "--intent",
        "i",
    ]);
    env.ok(&[
        "season",
        "close",
        "1",
        "--ends-on",
        "2024-09-01",
        "--summary",
        "s",
    ]);
    env.ok(&[
        "season",
        "open",
        "2",
        "--starts-on",
        "2024-09-02",
        "--intent",
        "i",
    ]);
    let e = records(
        env,
        "AuthorityTransferred",
        &[
            "decision",
            "transfer",
            "upgrades",
            "--proposer",
            "foundation",
            "token-house",
            "--decider",
            "token-house",
            "--process",
            "optimistic",
            "--clear",
            "threshold",
            "--clear",
            "quorum",
            "--reason",
            "Upgrades become optimistic",
            "--evidence",
            "https://example.org/upgrade-16",
            "--effective-on",
            "2024-10-30",
        ],
    );
    env.ok(&[
        "season",
        "close",
        "2",
        "--ends-on",
        "2024-12-01",
        "--summary",
        "s",
    ]);
    e["seq"].as_u64().unwrap()
}

fn the_decision_map_before_and_after_a_transfer(kind: Kind) {
    let env = gov(kind);
    let seq = seasons_with_a_transfer(&env);
    for (as_of, at_target) in [("season:1", false), ("season:2", true)] {
        let map = env.json(&["decisions", "--as-of", as_of]);
        let status = env.json(&["status", "--as-of", as_of]);
        // --json: the status's decisions, bodies and authority, plus `since`.
        assert_eq!(map["decisions"], status["decisions"], "{as_of}");
        assert_eq!(map["authority"], status["authority"], "{as_of}");
        assert_eq!(map["bodies"], status["bodies"], "{as_of}");
        assert_eq!(map["as_of"], status["as_of"], "{as_of}");
        let up = decision(&map, "upgrades");
        assert_eq!(up["at_target"], at_target, "{as_of}");
        assert_eq!(map["authority"]["at_target"], u64::from(at_target));
        assert_eq!(map["authority"]["decisions"], 3);
        assert_eq!(
            map["authority"]["foundation_decides"],
            2 - u64::from(at_target)
        );
        let since = &map["since"]["upgrades"];
        if at_target {
            assert_eq!(
                since,
                &json!({"seq": seq, "on": "2024-10-30", "by": "AuthorityTransferred"})
            );
        } else {
            assert_eq!(since["by"], "DecisionDefined");
            assert_eq!(
                since["seq"], INIT_EVENTS,
                "upgrades is the last decision init records"
            );
        }
        assert_eq!(map["since"]["grants"]["by"], "DecisionDefined");
    }
    // The table: one row per module; decided by, process and thresholds, vetoes,
    // target reached, since.
    let before = env.ok(&["decisions", "--as-of", "season:1"]);
    let after = env.ok(&["decisions"]);
    let header = before.lines().nth(2).unwrap();
    for col in [
        "module",
        "decided by",
        "process",
        "vetoes",
        "at target",
        "since",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let row = |t: &str, id: &str| {
        t.lines()
            .find(|l| l.trim_start().starts_with(id))
            .unwrap_or_else(|| panic!("no {id} row in\n{t}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        row(&before, "upgrades"),
        format!(
            "upgrades foundation, token-house vote 76%, quorum 30% citizens-house 30% no seq {INIT_EVENTS}, {} (defined)",
            &decision_day(&env)
        )
    );
    assert_eq!(
        row(&after, "upgrades"),
        format!("upgrades token-house optimistic citizens-house 30% yes seq {seq}, 2024-10-30 (transfer)")
    );
    assert!(row(&after, "grants").contains("no target"), "{after}");
    assert!(
        after.contains("3 modules; at their target design: 1 (of 1 with a target); decided by a body of kind foundation: 1"),
        "{after}"
    );
    // A ledger without decisions says so; --json gives empty lists and zero counts.
    let plain = Env::new(kind);
    plain.init();
    assert!(plain.ok(&["decisions"]).contains("no decision modules"));
    let v = plain.json(&["decisions"]);
    assert_eq!(v["decisions"], json!([]));
    assert_eq!(
        v["authority"],
        json!({"decisions": 0, "at_target": 0, "foundation_decides": 0})
    );
    // An as-of that names nothing is bad input.
    let err = env.fails(1, &["decisions", "--as-of", "season:9"]);
    assert!(err.contains("season 9"), "{err}");
}

/// The UTC day `init` recorded the decisions (the test ledger's clock is today's).
fn decision_day(env: &Env) -> String {
    events(env)[INIT_EVENTS as usize - 1]["recorded_at"]
        .as_str()
        .unwrap()[..10]
        .to_string()
}

fn history_of_decisions_and_bodies(kind: Kind) {
    let env = gov(kind);
    // `grants` is a decision; a body of the same id is defined (three namespaces).
    records(
        &env,
        "BodyDefined",
        &[
            "body",
            "define",
            "grants",
            "--title",
            "Grants Council",
            "--kind",
            "council",
        ],
    );
    let t = records(
        &env,
        "AuthorityTransferred",
        &[
            "decision",
            "transfer",
            "grants",
            "--decider",
            "grants",
            "--reason",
            "The Grants Council decides",
            "--evidence",
            "https://example.org/gc",
        ],
    );
    records(
        &env,
        "HypothesisStated",
        &[
            "decision",
            "hypothesis",
            "upgrades",
            "h1",
            "--statement",
            "s",
            "--measure",
            "m",
        ],
    );
    let seqs_kinds = |rows: &Value| -> Vec<(u64, String, Vec<String>)> {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["seq"].as_u64().unwrap(),
                    r["type"].as_str().unwrap().to_string(),
                    r["matched"]
                        .as_array()
                        .unwrap_or_else(|| panic!("no matched in {r}"))
                        .iter()
                        .map(|k| k.as_str().unwrap().to_string())
                        .collect(),
                )
            })
            .collect()
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let tseq = t["seq"].as_u64().unwrap();
    // A decision's history: its definition, its transfers, its hypotheses.
    let up = env.json(&["history", "upgrades"]);
    let up = seqs_kinds(&up);
    assert_eq!(up.len(), 2, "{up:?}");
    assert_eq!(
        up[0],
        (INIT_EVENTS, "DecisionDefined".into(), s(&["decision"]))
    );
    assert_eq!(up[1].1, "HypothesisStated");
    // A body's history includes the designs that name it: token-house is named by all
    // three definitions and both designs of the transfer.
    let th = seqs_kinds(&env.json(&["history", "token-house"]));
    let types: Vec<&str> = th.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        types,
        [
            "BodyDefined",
            "DecisionDefined",
            "DecisionDefined",
            "DecisionDefined",
            "AuthorityTransferred"
        ],
        "{th:?}"
    );
    assert!(th.iter().all(|r| r.2 == s(&["body"])), "{th:?}");
    // An id in two namespaces: each row says which it matched.
    let g = seqs_kinds(&env.json(&["history", "grants"]));
    assert_eq!(
        g[0],
        (INIT_EVENTS - 2, "DecisionDefined".into(), s(&["decision"]))
    );
    assert_eq!(g[1].1, "BodyDefined");
    assert_eq!(g[1].2, s(&["body"]));
    assert_eq!(
        g[2],
        (
            tseq,
            "AuthorityTransferred".into(),
            s(&["decision", "body"])
        )
    );
    assert_eq!(g.len(), 3);
    // The other filters still apply.
    let only = seqs_kinds(&env.json(&["history", "grants", "--type", "BodyDefined"]));
    assert_eq!(only.len(), 1);
    let table = env.ok(&["history", "grants"]);
    assert!(table.lines().next().unwrap().contains("matched"), "{table}");
    assert!(table.contains("decision,body"), "{table}");
    // A milestone id: the audit trail as before (no `matched`), including the
    // decision that serves it.
    let m = env.json(&["history", "T-A1"]);
    let rows = m.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{m}");
    assert!(rows.iter().all(|r| r.get("matched").is_none()), "{m}");
    assert_eq!(rows[1]["type"], "DecisionDefined");
    assert!(!env
        .ok(&["history", "T-A1"])
        .lines()
        .next()
        .unwrap()
        .contains("matched"));
    // An id that names nothing: exit 1, with the closest id when there is one.
    let err = env.fails(1, &["history", "nothing-at-all"]);
    assert_eq!(
        err,
        "waymark: no milestone, decision or body nothing-at-all in ledger test\n"
    );
    let err = env.fails(1, &["history", "upgrade"]);
    assert_eq!(
        err,
        "waymark: no milestone, decision or body upgrade (did you mean upgrades?)\n"
    );
    let err = env.fails(1, &["history", "token-hous"]);
    assert!(err.contains("did you mean token-house?"), "{err}");

    // A read model from before decision and body ids were indexed is repaired by
    // `rebuild`, which names the rows.
    env.sql(&[&format!(
        "UPDATE waymark_history SET milestones = ',,' WHERE seq = {tseq}"
    )]);
    let g2 = seqs_kinds(&env.json(&["history", "grants"]));
    assert_eq!(g2.len(), 2, "the stale row is not matched: {g2:?}");
    let r = env.json(&["rebuild"]);
    assert_eq!(r["matched"], false, "{r}");
    assert!(
        r["differences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d.as_str().unwrap().contains(&format!("seq {tseq}"))),
        "{r}"
    );
    assert_eq!(seqs_kinds(&env.json(&["history", "grants"])), g);
    assert_eq!(env.json(&["rebuild"])["matched"], true);

    // Read models behind the events (a writer died before updating them): the read
    // commands, which never write, fold the missing rows in memory and agree.
    let map = env.json(&["decisions"]);
    let th_rows = env.json(&["history", "token-house"]);
    env.sql(&[
        "DELETE FROM waymark_views",
        "DELETE FROM waymark_history WHERE seq > 4",
        "DELETE FROM waymark_status_checkpoints",
    ]);
    if env.kind == Kind::Sqlite {
        env.sql(&["PRAGMA wal_checkpoint(TRUNCATE)"]);
    }
    assert_eq!(seqs_kinds(&env.json(&["history", "grants"])), g);
    assert_eq!(env.json(&["history", "token-house"]), th_rows);
    assert_eq!(env.json(&["decisions"]), map);
    assert_eq!(map["since"]["grants"]["seq"], tseq);
}

fn the_commands_work_over_a_server(kind: Kind) {
    let env = gov(kind);
    let s = served::serve(&env);
    let remote = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["--server".to_string(), s.base.clone()];
        a.extend(args.iter().map(|x| x.to_string()));
        a
    };
    let run = |args: &[&str]| {
        let a = remote(args);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        env.ok(&a)
    };
    let v: Value = serde_json::from_str(&run(&[
        "--json", "body", "define", "dab", "--title", "DAB", "--kind", "board",
    ]))
    .unwrap();
    assert_eq!(v["recorded"][0]["type"], "BodyDefined");
    let out = run(&[
        "--json",
        "decision",
        "transfer",
        "upgrades",
        "--decider",
        "token-house",
        "dab",
        "token-house",
        "--reason",
        "r",
        "--evidence",
        "https://example.org/x",
        "--effective-on",
        "2025-08-01",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["recorded"][0]["type"], "AuthorityTransferred");
    let e = last_event(&env);
    assert_eq!(e["payload"]["from"], upgrades_current());
    assert_eq!(
        e["payload"]["to"]["deciders"],
        json!(["dab", "token-house"])
    );
    run(&[
        "decision",
        "hypothesis",
        "upgrades",
        "h1",
        "--statement",
        "s",
        "--measure",
        "m",
    ]);
    // A refusal over the server names the rule and field as locally.
    let a = remote(&[
        "--json",
        "decision",
        "transfer",
        "upgrades",
        "--decider",
        "token-house",
        "dab",
        "--reason",
        "r",
        "--evidence",
        "https://example.org/x",
    ]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = env.run(&a);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["rule"], "R11-transfer");
    assert_eq!(v["error"]["field"], "payload.to");
    // Reads over the server print what the local commands print.
    for args in [
        &["decisions"][..],
        &["--json", "decisions"],
        &["--json", "decisions", "--as-of", "seq:12"],
        &["body", "list"],
        &["--json", "body", "list"],
        &["--json", "history", "upgrades"],
        &["history", "dab"],
        &["--json", "history", "T-A1"],
    ] {
        assert_eq!(run(args), env.ok(args), "{args:?}");
    }
    let a = remote(&["history", "nope"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let err = env.fails(1, &a);
    assert!(err.contains("no milestone, decision or body nope"), "{err}");
}

on_both_backends!(
    bodies_are_defined_revised_retired_and_listed,
    decisions_are_defined_from_a_file_and_revised,
    transfers_by_flags_and_by_file_agree,
    hypotheses_are_stated_and_concluded,
    the_decision_map_before_and_after_a_transfer,
    history_of_decisions_and_bodies,
    the_commands_work_over_a_server,
);
