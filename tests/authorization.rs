//! Authorization: who may sign what (SPEC sections 5 and 13, rule 1 and the "who may
//! sign" columns), replays (rule 7), rotated-out keys, retired actors (rule 6) and statements
//! for another ledger, through the real `waymark` binary (and, where the command line
//! has no way to hand in a statement signed elsewhere, through `Waymark::record`), on
//! SQLite and PostgreSQL.
//!
//! A rejection must be exit 1, name the rule in `--json` output, and leave the ledger
//! byte-identical (the export before and after is compared).

#[macro_use]
mod common;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use common::*;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use waymark::{Error, KeyStore, Recorded, Signed, Waymark};
use waymark_events::{encode_public_key, parse_strict, Event, EventType, Payload, Statement};

/// SPEC section 5's "who may sign" column, then section 13's, copied by hand (do not
/// derive it from the code: this test exists to catch the code drifting from the page).
/// `LedgerOpened` is "the founder, seq 1 only": after seq 1 no role may sign it.
const SPEC_WHO_MAY_SIGN: [(&str, &[&str]); 20] = [
    ("LedgerOpened", &[]),
    ("ActorRegistered", &["steward"]),
    ("ActorRolesChanged", &["steward"]),
    ("ActorKeyRotated", &["steward"]),
    ("ActorRetired", &["steward"]),
    ("MilestoneDefined", &["steward"]),
    ("MilestoneRevised", &["steward"]),
    ("MilestoneRetired", &["steward"]),
    (
        "MilestoneStatusChanged",
        &["steward", "reviewer", "reporter"],
    ),
    ("PhaseTransitioned", &["steward", "reviewer"]),
    ("SeasonOpened", &["steward"]),
    ("SeasonReEvaluated", &["steward", "reviewer"]),
    ("BodyDefined", &["steward"]),
    ("BodyRevised", &["steward"]),
    ("BodyRetired", &["steward"]),
    ("DecisionDefined", &["steward"]),
    ("DecisionRevised", &["steward"]),
    ("AuthorityTransferred", &["steward", "reviewer"]),
    ("HypothesisStated", &["steward", "reviewer"]),
    ("HypothesisConcluded", &["steward", "reviewer"]),
];

/// SPEC section 5: "Roles: `steward` …, `reviewer`, `reporter`".
const SPEC_ROLES: [&str; 3] = ["steward", "reviewer", "reporter"];

fn spec_roles(t: &str) -> &'static [&'static str] {
    SPEC_WHO_MAY_SIGN
        .iter()
        .find(|(n, _)| *n == t)
        .unwrap_or_else(|| panic!("{t} is not in the SPEC table"))
        .1
}

#[test]
fn the_code_table_is_the_spec_table() {
    let sorted = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let spec_types: Vec<&str> = SPEC_WHO_MAY_SIGN.iter().map(|(t, _)| *t).collect();
    let code_types: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(
        spec_types, code_types,
        "event types (SPEC section 5's order, then section 13's)"
    );
    for (name, roles) in SPEC_WHO_MAY_SIGN {
        let t: EventType = name.parse().unwrap();
        assert_eq!(
            sorted(waymark::allowed_roles(t)),
            sorted(roles),
            "waymark::allowed_roles({name}) differs from SPEC section 5"
        );
    }
    assert_eq!(sorted(&waymark::ROLES), sorted(&SPEC_ROLES));
}

// ---------------------------------------------------------------------------------
// Helpers

/// A framework for the matrix: `tech` (A, B) holds the milestones; `ladder` has twelve
/// phases and no milestones, so every allowed `PhaseTransitioned` has a next phase and
/// no blocker. `S` is the milestone whose status flips; `X0`… are retired one by one.
/// Section 13: bodies `house` and `council`, `Y0`… (named by no design, retired one by
/// one), and the decision `mod`, decided by `house`, whose authority moves back and
/// forth between `house` and `council`.
fn framework(env: &Env) -> PathBuf {
    let ladder: Vec<String> = (0..12).map(|i| format!("L{i}")).collect();
    let mut t = String::from(
        "id = \"authz\"\nversion = \"1\"\ntitle = \"Authorization matrix\"\n\
         [[principles]]\nid = \"p\"\ntitle = \"P\"\n\
         [[layers]]\nid = \"tech\"\ntitle = \"Technical\"\nphases = [\"A\", \"B\"]\n",
    );
    t += &format!(
        "[[layers]]\nid = \"ladder\"\ntitle = \"Ladder\"\nphases = [{}]\n",
        ladder
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for p in ["A", "B"].iter().map(|s| s.to_string()).chain(ladder) {
        t += &format!("[[phases]]\nid = \"{p}\"\ntitle = \"Phase {p}\"\ndescription = \"d\"\n");
    }
    t += "[[milestones]]\nid = \"S\"\ntitle = \"Status flips\"\nlayer = \"tech\"\nphase = \"A\"\n";
    for i in 0..ROWS.len() {
        t += &format!(
            "[[milestones]]\nid = \"X{i}\"\ntitle = \"To retire\"\nlayer = \"tech\"\nphase = \"B\"\n"
        );
    }
    t += "[[bodies]]\nid = \"house\"\ntitle = \"House\"\nkind = \"house\"\ndescription = \"d\"\n";
    t += "[[bodies]]\nid = \"council\"\ntitle = \"Council\"\nkind = \"council\"\ndescription = \"d\"\n";
    for i in 0..ROWS.len() {
        t += &format!(
            "[[bodies]]\nid = \"Y{i}\"\ntitle = \"To retire\"\nkind = \"other\"\ndescription = \"d\"\n"
        );
    }
    t += "[[decisions]]\nid = \"mod\"\ntitle = \"Module\"\ndescription = \"d\"\nlayer = \"tech\"\n\
          principles = [\"p\"]\nmilestones = [\"S\"]\nprofile = {}\n\
          [decisions.current]\nproposers = []\ndeciders = [\"house\"]\nprocess = \"vote\"\n\
          vetoes = []\nexecutors = []\n";
    let p = env.path("authz.toml");
    std::fs::write(&p, t).unwrap();
    p
}

/// Writes a fresh secret key for `actor` into `dir`, mode 0600, as the key store does.
fn write_key(dir: &Path, actor: &str) -> SigningKey {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dir.join(format!("{actor}.key")))
        .unwrap();
    writeln!(f, "{}", B64.encode(key.to_bytes())).unwrap();
    key
}

fn fresh_public_key() -> String {
    encode_public_key(&SigningKey::generate(&mut rand::rngs::OsRng).verifying_key())
}

fn public_key(env: &Env, actor: &str) -> String {
    let k = KeyStore::new(env.keys()).load_actor(actor).unwrap();
    encode_public_key(&k.verifying_key())
}

fn line(actor: &str, t: &str, payload: Value) -> Value {
    json!({"as": actor, "type": t, "payload": payload})
}

/// `waymark --json apply FILE` with these lines, signing from `keys` (default: the
/// test's key store).
fn apply_with(env: &Env, name: &str, lines: &[Value], keys: Option<&Path>) -> Output {
    let f = env.path(&format!("{name}.jsonl"));
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&f, text).unwrap();
    let args = ["--json", "apply", f.to_str().unwrap()];
    match keys {
        None => env.run(&args),
        Some(dir) => std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
            .args(["--db", &env.url, "--keys"])
            .arg(dir)
            .args(args)
            .env_remove("WAYMARK_LEDGER")
            .env_remove("WAYMARK_ACTOR")
            .output()
            .unwrap(),
    }
}

fn apply(env: &Env, name: &str, lines: &[Value]) -> Output {
    apply_with(env, name, lines, None)
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// Expects exit 0; returns the recorded events (`{"recorded":[{seq,hash,type}]}`).
#[track_caller]
fn recorded(out: &Output) -> Vec<Value> {
    assert_eq!(out.status.code(), Some(0), "{}", describe(out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["recorded"].as_array().unwrap().clone()
}

/// Expects exit 1 with `{"error":{"rule","field","line"}}` on stdout.
#[track_caller]
fn rejected_with(out: &Output, rule: &str, field: &str, line: u64) {
    assert_eq!(out.status.code(), Some(1), "{}", describe(out));
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON error ({e}): {}", describe(out)));
    let e = &v["error"];
    assert_eq!(
        (e["rule"].as_str(), e["field"].as_str(), e["line"].as_u64()),
        (Some(rule), Some(field), Some(line)),
        "{}",
        describe(out)
    );
    assert_eq!(e["exit_code"], 1);
}

/// Rejected, and the ledger is byte-identical to `before`.
#[track_caller]
fn refused(env: &Env, before: &[u8], out: &Output, rule: &str, field: &str, line: u64) {
    rejected_with(out, rule, field, line);
    assert!(
        env.export() == before,
        "the ledger changed although {rule} rejected the statement"
    );
}

fn export_lines(bytes: &[u8]) -> Vec<Value> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| parse_strict(l).unwrap())
        .collect()
}

/// A recorded event as the actor handed it in: the statement and its signature.
fn signed_from_export(line: &Value) -> Signed {
    let e = Event::from_export_value(line).unwrap().0;
    Signed {
        statement: e.statement,
        sig: e.sig,
    }
}

/// Records pre-signed statements the way any front end does (`Waymark::record`), for
/// what the command line cannot express: a statement signed elsewhere, byte for byte.
fn record_signed(env: &Env, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Recorded>, Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = waymark::Db::connect(&env.url).await.unwrap();
        let r = Waymark::new(db.clone(), waymark::system_clock())
            .record(ledger, statements)
            .await;
        db.close().await;
        r
    })
}

#[track_caller]
fn rejected_by(r: Result<Vec<Recorded>, Error>, rule: &str, field: &str) {
    match r {
        Err(Error::Rejected { rejection, .. }) => assert_eq!(
            (rejection.rule.id(), rejection.field.as_str()),
            (rule, field),
            "{rejection}"
        ),
        other => panic!("expected rejection by {rule} at {field}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------
// The matrix: every standing an actor can have × every event type of SPEC section 5.

/// What an actor is, as far as rule 1 is concerned.
#[derive(Debug, Clone, Copy)]
enum Standing {
    /// Signed `LedgerOpened` at seq 1; SPEC: "The founder is a steward".
    Founder,
    Registered(&'static [&'static str]),
    /// Registered with `from`, then `ActorRolesChanged` to `to`.
    Changed {
        from: &'static [&'static str],
        to: &'static [&'static str],
    },
    /// Registered with these roles, then `ActorRetired`.
    Retired(&'static [&'static str]),
    /// Holds a key in the key store but was never registered.
    Unregistered,
}

/// There is no "actor with no roles": rule 1's role check refuses an empty role list
/// (and unknown role names) in both `ActorRegistered` and `ActorRolesChanged` — see
/// `an_actor_always_holds_a_known_role`. The standing closest to it is an actor whose
/// roles were changed to ones the type does not allow (`demoted`, a steward made a
/// reporter), plus the unregistered `mallory`.
const ROWS: [(&str, Standing); 8] = [
    ("alice", Standing::Founder),
    ("sam", Standing::Registered(&["steward"])),
    ("rita", Standing::Registered(&["reviewer"])),
    ("bob", Standing::Registered(&["reporter"])),
    ("multi", Standing::Registered(&["reviewer", "reporter"])),
    (
        "demoted",
        Standing::Changed {
            from: &["steward"],
            to: &["reporter"],
        },
    ),
    ("gone", Standing::Retired(&["steward"])),
    ("mallory", Standing::Unregistered),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Recorded,
    Rejected(String, String),
}

/// The SPEC's answer for one cell. Where several rules apply the code names one of
/// them; both are SPEC-consistent, and the one asserted is documented here:
/// `LedgerOpened` after seq 1 is refused as such (R1-signer at `type`) before the
/// signer is looked up; an unregistered signer is R1-unknown-actor, a retired one
/// R6-retired (rule 6: "a retired actor signs nothing more"), both at `actor`.
fn expected(standing: Standing, t: &str) -> Outcome {
    let no = |rule: &str, field: &str| Outcome::Rejected(rule.into(), field.into());
    if t == "LedgerOpened" {
        return no("R1-signer", "type");
    }
    let roles: &[&str] = match standing {
        Standing::Founder => &["steward"],
        Standing::Registered(r) => r,
        Standing::Changed { to, .. } => to,
        Standing::Retired(_) => return no("R6-retired", "actor"),
        Standing::Unregistered => return no("R1-unknown-actor", "actor"),
    };
    if roles.iter().any(|r| spec_roles(t).contains(r)) {
        Outcome::Recorded
    } else {
        no("R1-signer", "actor")
    }
}

/// The part of the ledger's state the matrix statements depend on, so each one is
/// valid but for its signer. Cloned per cell and kept only when the cell is recorded.
#[derive(Clone)]
struct Model {
    seq: u64,
    cell: usize,
    opened: Value,
    status: &'static str,
    ladder: usize,
    season: i64,
    open: bool,
    victims: usize,
    retired_milestones: usize,
    /// Who decides `mod` now (section 13).
    decider: &'static str,
    retired_bodies: usize,
}

/// A design of `mod`, decided by `decider` alone.
fn design(decider: &str) -> Value {
    json!({"proposers": [], "deciders": [decider], "process": "vote", "vetoes": [], "executors": []})
}

impl Model {
    /// Statements that must precede the cell (signed by the founder) and the cell.
    fn cell(&mut self, actor: &str, pk: &str, t: &str) -> (Vec<Value>, Value) {
        self.cell += 1;
        let n = self.cell;
        let mut prep = Vec::new();
        let payload = match t {
            "LedgerOpened" => {
                // The seq 1 payload, with the signer as founder: valid but for its place.
                let mut p = self.opened.clone();
                p["founder"] = json!({"actor": actor, "name": actor, "public_key": pk});
                p
            }
            "ActorRegistered" => json!({
                "actor": format!("new{n}"), "name": "New", "roles": ["reporter"],
                "public_key": fresh_public_key()
            }),
            "ActorRolesChanged" => json!({"actor": "target", "roles": ["reviewer", "reporter"]}),
            "ActorKeyRotated" => json!({"actor": "target", "public_key": fresh_public_key()}),
            "ActorRetired" => {
                self.victims += 1;
                json!({"actor": format!("victim{}", self.victims - 1), "reason": "left"})
            }
            "MilestoneDefined" => json!({
                "id": format!("D{n}"), "title": "Defined", "layer": "tech", "phase": "A",
                "description": "", "principles": ["p"], "depends_on": ["S"]
            }),
            "MilestoneRevised" => {
                json!({"id": "S", "reason": "clarified", "title": format!("Revised {n}")})
            }
            "MilestoneRetired" => {
                self.retired_milestones += 1;
                json!({"id": format!("X{}", self.retired_milestones - 1), "reason": "dropped"})
            }
            "MilestoneStatusChanged" => {
                let from = self.status;
                self.status = if from == "not_started" {
                    "in_progress"
                } else {
                    "not_started"
                };
                json!({"id": "S", "from": from, "to": self.status, "reason": "progress", "evidence": []})
            }
            "PhaseTransitioned" => {
                self.ladder += 1;
                json!({
                    "layer": "ladder", "from": format!("L{}", self.ladder - 1),
                    "to": format!("L{}", self.ladder), "reason": "phase done"
                })
            }
            "SeasonOpened" => {
                if self.open {
                    prep.push(line("alice", "SeasonReEvaluated", self.close()));
                }
                self.open_next()
            }
            "SeasonReEvaluated" => {
                if !self.open {
                    prep.push(line("alice", "SeasonOpened", self.open_next()));
                }
                self.close()
            }
            "BodyDefined" => json!({
                "id": format!("B{n}"), "title": "Board", "kind": "board", "description": "d"
            }),
            "BodyRevised" => {
                json!({"id": "house", "reason": "renamed", "title": format!("House {n}")})
            }
            "BodyRetired" => {
                self.retired_bodies += 1;
                json!({"id": format!("Y{}", self.retired_bodies - 1), "reason": "dissolved"})
            }
            "DecisionDefined" => json!({
                "id": format!("Q{n}"), "title": "Q", "description": "", "layer": "tech",
                "principles": ["p"], "profile": {}, "current": design("house"), "milestones": ["S"]
            }),
            "DecisionRevised" => {
                json!({"id": "mod", "reason": "clarified", "title": format!("Revised {n}")})
            }
            "AuthorityTransferred" => {
                let from = self.decider;
                self.decider = if from == "house" { "council" } else { "house" };
                json!({
                    "decision": "mod", "from": design(from), "to": design(self.decider),
                    "reason": "moved", "evidence": ["https://example.org/vote"],
                    "effective_on": "2025-01-01"
                })
            }
            "HypothesisStated" => json!({
                "decision": "mod", "id": format!("H{n}"), "statement": "s", "measure": "m"
            }),
            "HypothesisConcluded" => {
                prep.push(line(
                    "alice",
                    "HypothesisStated",
                    json!({"decision": "mod", "id": format!("C{n}"), "statement": "s", "measure": "m"}),
                ));
                json!({
                    "decision": "mod", "id": format!("C{n}"), "outcome": "supported",
                    "note": "held", "evidence": []
                })
            }
            other => panic!("no statement for {other}"),
        };
        (prep, line(actor, t, payload))
    }

    fn open_next(&mut self) -> Value {
        self.season += 1;
        self.open = true;
        json!({"season": self.season, "starts_on": "2025-01-01", "intent": "ship", "focus": ["S"]})
    }

    fn close(&mut self) -> Value {
        self.open = false;
        json!({
            "season": self.season, "ends_on": "2025-03-31", "summary": "shipped",
            "assessments": [{"milestone": "S", "note": "on track"}]
        })
    }
}

/// The ledger of the matrix: founder alice; the other standings of `ROWS`; `target`
/// (whose roles and key are changed), `victim0`… (retired one by one).
fn matrix_ledger(env: &Env) -> Model {
    let keys = env.keys();
    write_key(&keys, "alice");
    let fw = framework(env);
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
    let register = |actor: &str, roles: &[&str], pk: String| {
        line(
            "alice",
            "ActorRegistered",
            json!({"actor": actor, "name": actor, "roles": roles, "public_key": pk}),
        )
    };
    let mut setup = Vec::new();
    let mut after = Vec::new();
    for (actor, standing) in ROWS {
        if matches!(standing, Standing::Founder) {
            continue; // its key was written before `init`
        }
        let pk = encode_public_key(&write_key(&keys, actor).verifying_key());
        match standing {
            Standing::Founder | Standing::Unregistered => {}
            Standing::Registered(r) => setup.push(register(actor, r, pk)),
            Standing::Changed { from, to } => {
                setup.push(register(actor, from, pk));
                after.push(line(
                    "alice",
                    "ActorRolesChanged",
                    json!({"actor": actor, "roles": to}),
                ));
            }
            Standing::Retired(r) => {
                setup.push(register(actor, r, pk));
                after.push(line(
                    "alice",
                    "ActorRetired",
                    json!({"actor": actor, "reason": "left the project"}),
                ));
            }
        }
    }
    setup.push(register("target", &["reporter"], fresh_public_key()));
    for i in 0..ROWS.len() {
        setup.push(register(
            &format!("victim{i}"),
            &["reporter"],
            fresh_public_key(),
        ));
    }
    setup.extend(after);
    let rec = recorded(&apply(env, "setup", &setup));
    let export = env.export();
    let lines = export_lines(&export);
    assert_eq!(
        rec.last().unwrap()["seq"].as_u64(),
        Some(lines.len() as u64)
    );
    Model {
        seq: lines.len() as u64,
        cell: 0,
        opened: lines[0]["payload"].clone(),
        status: "not_started",
        ladder: 0,
        season: 0,
        open: false,
        victims: 0,
        retired_milestones: 0,
        decider: "house",
        retired_bodies: 0,
    }
}

fn authorization_matrix(kind: Kind) {
    let env = Env::new(kind);
    let mut model = matrix_ledger(&env);
    let mut baseline: Option<Vec<u8>> = None;
    let mut mismatches = Vec::new();
    let mut table = String::new();
    for (t, _) in SPEC_WHO_MAY_SIGN {
        for (actor, standing) in ROWS {
            let want = expected(standing, t);
            // The export to compare with, taken only before a cell SPEC rejects (an
            // unexpected rejection fails the test as a mismatch anyway).
            if want != Outcome::Recorded && baseline.is_none() {
                baseline = Some(env.export());
            }
            let mut next = model.clone();
            let (prep, cell) = next.cell(actor, &public_key(&env, actor), t);
            let mut lines = prep.clone();
            lines.push(cell);
            let out = apply(&env, &format!("cell-{}", next.cell), &lines);
            let cell_line = lines.len() as u64;
            let got = match out.status.code() {
                Some(0) => {
                    let rec = recorded(&out);
                    assert_eq!(rec.len(), lines.len(), "{t} by {actor}: {}", describe(&out));
                    let last = rec.last().unwrap();
                    assert_eq!(
                        (last["seq"].as_u64(), last["type"].as_str()),
                        (Some(model.seq + cell_line), Some(t)),
                        "{t} by {actor}"
                    );
                    next.seq += cell_line;
                    model = next;
                    baseline = None;
                    Outcome::Recorded
                }
                Some(1) => {
                    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
                    let e = &v["error"];
                    assert_eq!(
                        e["line"].as_u64(),
                        Some(cell_line),
                        "{t} by {actor}: the rejection must be the cell's own line: {}",
                        describe(&out)
                    );
                    if let Some(before) = &baseline {
                        if &env.export() != before {
                            mismatches
                                .push(format!("{t} by {actor}: rejected, but the ledger changed"));
                        }
                    }
                    Outcome::Rejected(
                        e["rule"].as_str().unwrap_or("?").into(),
                        e["field"].as_str().unwrap_or("?").into(),
                    )
                }
                _ => panic!("{t} by {actor}: {}", describe(&out)),
            };
            let show = |o: &Outcome| match o {
                Outcome::Recorded => "recorded".to_string(),
                Outcome::Rejected(r, f) => format!("{r}@{f}"),
            };
            table += &format!("{t:<24} {actor:<8} {}\n", show(&got));
            if got != want {
                mismatches.push(format!(
                    "{t} signed by {actor} ({standing:?}): SPEC says {}, the code gave {}",
                    show(&want),
                    show(&got)
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "the code disagrees with SPEC sections 5 and 13:\n{}\n\nobserved:\n{table}",
        mismatches.join("\n")
    );
    // Everything that was recorded replays: `verify` re-checks the same rule 1.
    let (code, report) = env.verify();
    assert_eq!(
        (code, report["checked"].as_u64()),
        (0, Some(model.seq)),
        "{report}"
    );
}

// ---------------------------------------------------------------------------------
// No actor without a role.

/// Rule 1's role list: at least one role, each one of SPEC's three, none twice.
fn an_actor_always_holds_a_known_role(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let before = env.export();
    let pk = fresh_public_key();
    let cases: [(Value, &str); 6] = [
        (
            line(
                "alice",
                "ActorRegistered",
                json!({"actor": "nora", "name": "Nora", "roles": [], "public_key": pk}),
            ),
            "payload.roles",
        ),
        (
            line(
                "alice",
                "ActorRegistered",
                json!({"actor": "nora", "name": "Nora", "roles": ["admin"], "public_key": pk}),
            ),
            "payload.roles[0]",
        ),
        (
            line(
                "alice",
                "ActorRegistered",
                json!({"actor": "nora", "name": "Nora", "roles": ["reporter", "reporter"], "public_key": pk}),
            ),
            "payload.roles[1]",
        ),
        (
            line(
                "alice",
                "ActorRolesChanged",
                json!({"actor": "bob", "roles": []}),
            ),
            "payload.roles",
        ),
        (
            line(
                "alice",
                "ActorRolesChanged",
                json!({"actor": "bob", "roles": ["founder"]}),
            ),
            "payload.roles[0]",
        ),
        (
            line(
                "alice",
                "ActorRolesChanged",
                json!({"actor": "bob", "roles": ["Steward"]}),
            ),
            "payload.roles[0]",
        ),
    ];
    for (i, (l, field)) in cases.into_iter().enumerate() {
        let out = apply(&env, &format!("roles-{i}"), &[l]);
        refused(&env, &before, &out, "R1-signer", field, 1);
    }
    // The command line will not even build such a statement: --role is required.
    env.fails(2, &["actor", "add", "nora", "--name", "Nora"]);
    env.fails(2, &["actor", "roles", "bob"]);
    assert!(env.export() == before);
}

// ---------------------------------------------------------------------------------
// Rule 7: replays.

fn replayed_signatures_are_rejected(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    // A statement that stays valid when repeated, so that only rule 7 can refuse the
    // repeat. Ed25519 signatures are deterministic: the same line with the same
    // `issued_at` is signed into the very same `sig`.
    let same = json!({
        "as": "alice", "type": "ActorRolesChanged",
        "payload": {"actor": "bob", "roles": ["reporter", "reviewer"]},
        "issued_at": "2026-01-01T00:00:00.000000Z"
    });
    let first = recorded(&apply(&env, "once", std::slice::from_ref(&same)));
    let seq = first[0]["seq"].as_u64().unwrap();
    let before = env.export();
    let recorded_line = export_lines(&before).pop().unwrap();
    assert_eq!(recorded_line["seq"].as_u64(), Some(seq));

    // The same signed line, recorded a second time.
    let out = apply(&env, "twice", std::slice::from_ref(&same));
    refused(&env, &before, &out, "R7-replay", "sig", 1);

    // The same line twice in one batch: refused at its second occurrence, and the
    // batch's other lines (all or none) are not recorded either.
    let fresh = json!({
        "as": "alice", "type": "ActorRolesChanged",
        "payload": {"actor": "rita", "roles": ["reviewer", "reporter"]},
        "issued_at": "2026-01-02T00:00:00.000000Z"
    });
    let out = apply(&env, "batch", &[fresh.clone(), fresh.clone()]);
    refused(&env, &before, &out, "R7-replay", "sig", 2);

    // The recorded event itself (statement and sig, as exported), handed in again as
    // if it came from another machine.
    let replay = signed_from_export(&recorded_line);
    rejected_by(
        record_signed(&env, "test", vec![replay.clone()]),
        "R7-replay",
        "sig",
    );
    rejected_by(
        record_signed(&env, "test", vec![replay.clone(), replay]),
        "R7-replay",
        "sig",
    );
    assert!(env.export() == before);

    // Rule 7 is about the signature, not the content: the same change issued at
    // another time is a new statement and is recorded.
    let mut again = same;
    again["issued_at"] = "2026-01-03T00:00:00.000000Z".into();
    let rec = recorded(&apply(&env, "again", &[again]));
    assert_eq!(rec[0]["seq"].as_u64(), Some(seq + 1));
    let (code, report) = env.verify();
    assert_eq!((code, report["ok"].as_bool()), (0, Some(true)), "{report}");
}

// ---------------------------------------------------------------------------------
// Key rotation.

fn a_rotated_out_key_signs_nothing_more(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let status = |from: &str, to: &str| {
        line(
            "bob",
            "MilestoneStatusChanged",
            json!({"id": "E1", "from": from, "to": to, "reason": "work", "evidence": []}),
        )
    };
    // bob signs with his first key…
    recorded(&apply(
        &env,
        "before-rotation",
        &[status("not_started", "in_progress")],
    ));
    // …which is kept aside (0600, in a key store of its own) before the rotation.
    let old_keys = env.path("old-keys");
    std::fs::create_dir_all(&old_keys).unwrap();
    std::fs::set_permissions(&old_keys, std::fs::Permissions::from_mode(0o700)).unwrap();
    let old_file = old_keys.join("bob.key");
    std::fs::copy(env.keys().join("bob.key"), &old_file).unwrap();
    std::fs::set_permissions(&old_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let old_pk = public_key(&env, "bob");
    env.ok(&["actor", "rotate-key", "bob"]); // signed by the founder; new key generated
    let new_pk = public_key(&env, "bob");
    assert_ne!(old_pk, new_pk, "rotate-key replaced bob's key file");

    let before = env.export();
    let out = apply_with(
        &env,
        "old-key",
        &[status("in_progress", "not_started")],
        Some(&old_keys),
    );
    refused(&env, &before, &out, "R1-signature", "sig", 1);
    // The same statement, pre-signed with the old key, through the recorder directly.
    let statement = Statement::new(
        "test",
        "bob",
        "2026-01-01T00:00:00.000000Z",
        Payload::from_value(
            EventType::MilestoneStatusChanged,
            &json!({"id": "E1", "from": "in_progress", "to": "not_started", "reason": "work", "evidence": []}),
        )
        .unwrap(),
    );
    let old_key = KeyStore::new(&old_keys).load_actor("bob").unwrap();
    let sig = waymark_events::sign(&statement, &old_key);
    rejected_by(
        record_signed(&env, "test", vec![Signed { statement, sig }]),
        "R1-signature",
        "sig",
    );
    assert!(env.export() == before);

    // The new key works.
    recorded(&apply(
        &env,
        "new-key",
        &[status("in_progress", "not_started")],
    ));
    // And bob's statement signed before the rotation still verifies: rule 1 checks each
    // signature against the key current at that point of the chain.
    let (code, report) = env.verify();
    assert_eq!((code, report["ok"].as_bool()), (0, Some(true)), "{report}");
}

// ---------------------------------------------------------------------------------
// Rule 6: retired actors.

fn a_retired_actor_signs_nothing_more(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let status = |from: &str, to: &str| {
        line(
            "bob",
            "MilestoneStatusChanged",
            json!({"id": "E1", "from": from, "to": to, "reason": "work", "evidence": []}),
        )
    };
    recorded(&apply(
        &env,
        "before-retirement",
        &[status("not_started", "in_progress")],
    ));
    env.ok(&["actor", "retire", "bob", "--reason", "left the project"]);
    let before = env.export();
    let out = apply(&env, "retired", &[status("in_progress", "not_started")]);
    refused(&env, &before, &out, "R6-retired", "actor", 1);
    // Nor can a steward bring the actor back, re-register the id, or give it a new key.
    let cases = [
        (
            line(
                "alice",
                "ActorRolesChanged",
                json!({"actor": "bob", "roles": ["steward"]}),
            ),
            "R6-retired",
            "payload.actor",
        ),
        (
            line(
                "alice",
                "ActorKeyRotated",
                json!({"actor": "bob", "public_key": fresh_public_key()}),
            ),
            "R6-retired",
            "payload.actor",
        ),
        (
            line(
                "alice",
                "ActorRetired",
                json!({"actor": "bob", "reason": "again"}),
            ),
            "R6-retired",
            "payload.actor",
        ),
        (
            line(
                "alice",
                "ActorRegistered",
                json!({"actor": "bob", "name": "Bob", "roles": ["reporter"], "public_key": fresh_public_key()}),
            ),
            "R1-signer",
            "payload.actor",
        ),
    ];
    for (i, (l, rule, field)) in cases.into_iter().enumerate() {
        let out = apply(&env, &format!("revive-{i}"), &[l]);
        refused(&env, &before, &out, rule, field, 1);
    }
    // What bob signed while active still verifies.
    let (code, report) = env.verify();
    assert_eq!((code, report["ok"].as_bool()), (0, Some(true)), "{report}");
}

// ---------------------------------------------------------------------------------
// Statements for another ledger.

fn a_statement_for_another_ledger_is_rejected(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    // A second ledger in the same store, with the same founder and key.
    let fw = env.framework();
    env.ok(&[
        "--ledger",
        "other",
        "init",
        "--framework",
        fw.to_str().unwrap(),
        "--founder",
        "alice",
        "--origin",
        "example.org/other",
    ]);
    let export = |ledger: &str| {
        let out = env.run(&["--ledger", ledger, "export"]);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        out.stdout
    };
    let (test_before, other_before) = (export("test"), export("other"));
    let alice = KeyStore::new(env.keys()).load_actor("alice").unwrap();

    // Signed by the right key and valid in every other way, but for ledger "other".
    let payload = Payload::from_value(
        EventType::MilestoneDefined,
        &json!({"id": "M9", "title": "New", "layer": "tech", "phase": "A",
                "description": "", "principles": [], "depends_on": []}),
    )
    .unwrap();
    let statement = Statement::new("other", "alice", "2026-01-01T00:00:00.000000Z", payload);
    let sig = waymark_events::sign(&statement, &alice);
    let cross = Signed { statement, sig };
    rejected_by(
        record_signed(&env, "test", vec![cross.clone()]),
        "R1-signer",
        "ledger",
    );

    // An event genuinely recorded in "other", replayed into "test".
    let recorded_in_other = export_lines(&other_before).pop().unwrap();
    rejected_by(
        record_signed(&env, "test", vec![signed_from_export(&recorded_in_other)]),
        "R1-signer",
        "ledger",
    );
    assert!(export("test") == test_before && export("other") == other_before);

    // The same statement is fine where it belongs.
    record_signed(&env, "other", vec![cross]).unwrap();
    assert!(export("test") == test_before);
    for ledger in ["test", "other"] {
        let out = env.run(&["--ledger", ledger, "--json", "verify"]);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    }
}

// ---------------------------------------------------------------------------------
// Key files.

/// A key file readable by group or others is refused (exit 1, nothing recorded), and
/// accepted again once it is 0600.
fn a_key_file_others_can_read_is_refused(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let bob = env.keys().join("bob.key");
    assert_eq!(
        std::fs::metadata(&bob).unwrap().permissions().mode() & 0o777,
        0o600,
        "keys generated by `actor add` are 0600"
    );
    let status = line(
        "bob",
        "MilestoneStatusChanged",
        json!({"id": "E1", "from": "not_started", "to": "in_progress", "reason": "work", "evidence": []}),
    );
    let before = env.export();
    for mode in [0o640, 0o604, 0o644] {
        std::fs::set_permissions(&bob, std::fs::Permissions::from_mode(mode)).unwrap();
        let out = apply(&env, "loose-key", std::slice::from_ref(&status));
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("mode {mode:04o}"))
                && err.contains("must not be readable by group or others"),
            "{err}"
        );
        assert!(env.export() == before);
    }
    std::fs::set_permissions(&bob, std::fs::Permissions::from_mode(0o600)).unwrap();
    recorded(&apply(&env, "tight-key", &[status]));
}

on_both_backends!(
    authorization_matrix,
    an_actor_always_holds_a_known_role,
    replayed_signatures_are_rejected,
    a_rotated_out_key_signs_nothing_more,
    a_retired_actor_signs_nothing_more,
    a_statement_for_another_ledger_is_rejected,
    a_key_file_others_can_read_is_refused,
);
