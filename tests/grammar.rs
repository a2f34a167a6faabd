//! SPEC v1.1 section 2 everywhere: the timestamps and dates of the shared table
//! `tests/vectors/time-grammar.json`, and U+0000 in any string. The recorder refuses
//! them as a format error (rule 0, exit 1, nothing recorded) on both backends; `verify`,
//! `verify-offline` and the independent Python verifier all call an event that carries
//! one `malformed`, at its seq.

#[macro_use]
mod common;
use common::*;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use waymark_events::*;

fn table() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/time-grammar.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn list(t: &Value, kind: &str, verdict: &str) -> Vec<String> {
    t[kind][verdict]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The secret key the key store holds for `actor`.
fn key_of(env: &Env, actor: &str) -> SigningKey {
    use base64::Engine;
    let text = std::fs::read_to_string(env.keys().join(format!("{actor}.key"))).unwrap();
    let seed = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap();
    SigningKey::from_bytes(&seed.try_into().unwrap())
}

fn status_change(m: &str, from: &str, to: &str, reason: &str, on: Option<&str>) -> Payload {
    Payload::MilestoneStatusChanged(MilestoneStatusChanged {
        id: m.into(),
        from: from.into(),
        to: to.into(),
        reason: reason.into(),
        evidence: vec![],
        effective_on: on.map(String::from),
    })
}

/// Applies one `apply` line and expects a rule-0 refusal at `field`, with nothing
/// recorded.
#[track_caller]
fn refused(env: &Env, line: &Value, field: &str) {
    let before = env.export();
    let f = env.path("line.jsonl");
    std::fs::write(&f, format!("{line}\n")).unwrap();
    let err = env.fails(1, &["apply", f.to_str().unwrap()]);
    assert!(
        err.contains("R0-format") && err.contains(field),
        "{line}: {err}"
    );
    assert_eq!(env.export(), before, "{line} changed the ledger");
}

fn recorder_refuses_what_section_2_refuses(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let t = table();
    let line = |issued_at: Option<&str>, payload: Value| {
        let mut l = json!({"as": "bob", "type": "MilestoneStatusChanged", "payload": payload});
        if let Some(at) = issued_at {
            l["issued_at"] = json!(at);
        }
        l
    };
    let to_progress = |reason: &str, on: Option<&str>| {
        let mut p = json!({"id": "M2", "from": "not_started", "to": "in_progress",
                           "reason": reason, "evidence": []});
        if let Some(d) = on {
            p["effective_on"] = json!(d);
        }
        p
    };
    for at in list(&t, "timestamps", "bad") {
        refused(&env, &line(Some(&at), to_progress("r", None)), "issued_at");
    }
    for d in list(&t, "dates", "bad") {
        refused(
            &env,
            &line(None, to_progress("r", Some(&d))),
            "payload.effective_on",
        );
        let before = env.export();
        let err = env.fails(
            1,
            &["season", "open", "6", "--starts-on", &d, "--intent", "i"],
        );
        assert!(
            err.contains("R0-format") && err.contains("payload.starts_on"),
            "{d:?}: {err}"
        );
        assert_eq!(env.export(), before);
    }
    // U+0000 anywhere: a payload string, an array element, the actor's name.
    refused(
        &env,
        &line(None, to_progress("a\u{0}b", None)),
        "payload.reason",
    );
    let mut evidence = to_progress("r", None);
    evidence["evidence"] = json!(["https://example.org/\u{0}"]);
    refused(&env, &line(None, evidence), "payload.evidence[0]");
    // Everything the table calls good is recorded: the edges of the calendar.
    let mut status = "not_started";
    for (i, at) in list(&t, "timestamps", "good").iter().enumerate() {
        let to = if status == "in_progress" {
            "not_started"
        } else {
            "in_progress"
        };
        let mut p = to_progress(&format!("good {i}"), None);
        p["from"] = json!(status);
        p["to"] = json!(to);
        let f = env.path("good.jsonl");
        std::fs::write(&f, format!("{}\n", line(Some(at), p))).unwrap();
        env.ok(&["apply", f.to_str().unwrap()]);
        status = to;
    }
    for d in list(&t, "dates", "good") {
        let to = if status == "in_progress" {
            "not_started"
        } else {
            "in_progress"
        };
        env.ok(&[
            "milestone",
            "set",
            "M2",
            to,
            "--reason",
            "r",
            "--effective-on",
            &d,
        ]);
        status = to;
    }
    let (code, report) = env.verify();
    assert_eq!(code, 0, "{report}");
}

on_both_backends!(recorder_refuses_what_section_2_refuses);

/// Events that break the grammar, each signed by a real actor and correctly hashed
/// after the genuine history: (what, event).
fn broken_events(env: &Env) -> Vec<(String, Event)> {
    let export = env.export();
    let last: Value = serde_json::from_slice(
        export
            .split(|b| *b == b'\n')
            .rfind(|l| !l.is_empty())
            .unwrap(),
    )
    .unwrap();
    let (last, prev) = Event::from_export_value(&last).unwrap();
    let alice = key_of(env, "alice");
    let at = "2030-01-01T00:00:00.000000Z";
    let event = |issued_at: &str, recorded_at: &str, payload: Payload| {
        let st = Statement::new("test", "alice", issued_at, payload);
        let sig = sign(&st, &alice);
        Event {
            statement: st,
            seq: last.seq + 1,
            prev,
            recorded_at: recorded_at.into(),
            sig,
        }
    };
    let set =
        |reason: &str, on: Option<&str>| status_change("M2", "in_progress", "achieved", reason, on);
    let t = table();
    let mut out = Vec::new();
    for bad in list(&t, "timestamps", "bad") {
        out.push((
            format!("issued_at {bad:?}"),
            event(&bad, at, set("r", None)),
        ));
        out.push((
            format!("recorded_at {bad:?}"),
            event(at, &bad, set("r", None)),
        ));
    }
    for bad in list(&t, "dates", "bad") {
        out.push((
            format!("effective_on {bad:?}"),
            event(
                at,
                at,
                status_change("M2", "in_progress", "not_started", "r", Some(&bad)),
            ),
        ));
    }
    out.push((
        "U+0000 in reason".into(),
        event(
            at,
            at,
            status_change("M2", "in_progress", "not_started", "a\u{0}b", None),
        ),
    ));
    out
}

#[test]
fn every_verifier_calls_a_broken_grammar_malformed_in_an_export() {
    let env = Env::new(Kind::Sqlite);
    env.history();
    let genuine = env.export();
    let n = env.verify().1["checked"].as_u64().unwrap();
    let log = env.path("log.jsonl");
    let cases = broken_events(&env);
    assert!(cases.len() > 60, "{}", cases.len());
    for (what, e) in cases {
        let mut bytes = genuine.clone();
        bytes.extend(e.export_line(&e.hash()));
        std::fs::write(&log, &bytes).unwrap();
        let out = env.run(&["verify-offline", "--log", log.to_str().unwrap(), "--json"]);
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(3), "{what}: {r}");
        assert_eq!(
            (r["problem"].as_str(), r["first_bad_seq"].as_u64()),
            (Some("malformed"), Some(n + 1)),
            "verify-offline, {what}: {r}"
        );
        let py = Command::new("python3")
            .arg(python_verifier())
            .arg(&log)
            .output()
            .unwrap();
        let r: Value = serde_json::from_slice(&py.stdout)
            .unwrap_or_else(|_| panic!("{what}: {}", text(&py.stderr)));
        assert_eq!(
            (r["problem"].as_str(), r["first_bad_seq"].as_u64()),
            (Some("malformed"), Some(n + 1)),
            "independent verifier, {what}: {r}"
        );
    }
}

/// `verify` over stored rows: the same events written straight into the table.
/// PostgreSQL's jsonb cannot hold U+0000 at all, so that case runs on SQLite only.
fn verify_calls_a_stored_broken_grammar_malformed(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let n = env.verify().1["checked"].as_u64().unwrap();
    for (what, e) in broken_events(&env) {
        if kind == Kind::Postgres && what.starts_with("U+0000") {
            continue;
        }
        env.write_row(n + 1, &e, &e.hash(), true);
        let (code, r) = env.verify();
        assert_eq!(code, 3, "{what}: {r}");
        assert_eq!(
            (r["problem"].as_str(), r["first_bad_seq"].as_u64()),
            (Some("malformed"), Some(n + 1)),
            "verify, {what}: {r}"
        );
        env.sql(&[&format!("DELETE FROM events WHERE sequence = {}", n + 1)]);
    }
    assert_eq!(env.verify().0, 0);
}

on_both_backends!(verify_calls_a_stored_broken_grammar_malformed);
