//! `waymark serve`: every endpoint of the HTTP API against what the CLI prints for the
//! same ledger, every error status as RFC 9457 problem+json with the SPEC rule id,
//! signed statements posted by clients, the dashboard, `site --out DIR`, and two
//! servers writing to one PostgreSQL ledger at once.

#[macro_use]
mod common;
#[path = "browser/statuses.rs"]
mod statuses;

use common::served::{self, get, serve, Resp, Served};
use common::{Env, Kind};
use serde_json::{json, Value};
use statuses::statuses;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use waymark_events::{format_timestamp, sign, EventType, Payload, Statement};

/// A request whose body, if any, is JSON.
pub fn request(method: &str, url: &str, body: Option<&[u8]>) -> Resp {
    served::request(method, url, body.map(|_| "application/json"), body)
}

fn post(url: &str, body: &Value) -> Resp {
    request("POST", url, Some(&serde_json::to_vec(body).unwrap()))
}

fn key(env: &Env, actor: &str) -> ed25519_dalek::SigningKey {
    waymark::KeyStore::new(env.keys())
        .load_actor(actor)
        .unwrap()
}

/// A signed statement as `POST statements` takes it.
fn statement(ledger: &str, actor: &str, key: &ed25519_dalek::SigningKey, payload: Value) -> Value {
    let kind: EventType = payload["type"].as_str().unwrap().parse().unwrap();
    let payload = Payload::from_value(kind, &payload["payload"]).unwrap();
    let now = format_timestamp(chrono::Utc::now().timestamp_micros());
    let st = Statement::new(ledger, actor, &now, payload);
    let sig = sign(&st, key);
    let mut v = st.to_value();
    v["sig"] = sig.into();
    v
}

fn set_status(id: &str, from: &str, to: &str) -> Value {
    json!({"type": "MilestoneStatusChanged", "payload": {"id": id, "from": from, "to": to,
        "reason": "posted by a client", "evidence": ["https://example.org/evidence"]}})
}

fn register(actor: &str) -> Value {
    let pk = waymark_events::encode_public_key(
        &ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng).verifying_key(),
    );
    json!({"type": "ActorRegistered", "payload": {"actor": actor, "name": actor, "roles": ["reporter"], "public_key": pk}})
}

/// The short history of tests/common (seq 1..=15), served.
fn setup(kind: Kind) -> (Env, Served) {
    let env = Env::new(kind);
    env.history();
    let s = serve(&env);
    (env, s)
}

fn reads_match_the_cli(kind: Kind) {
    let (env, s) = setup(kind);
    let api = format!("{}/api/ledgers/test", s.base);

    let r = get(&format!("{}/healthz", s.base));
    assert_eq!((r.status, r.text().trim()), (200, "ok"));
    let list = get(&format!("{}/api/ledgers", s.base)).json();
    assert_eq!(list[0]["id"], "test");
    assert_eq!(list[0]["head_seq"], 15);

    let r = get(&format!("{api}/status"));
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (200, "application/json")
    );
    assert_eq!(r.json(), env.json(&["status"]));
    for point in ["season:6", "seq:9", "time:2099-01-01T00:00:00Z"] {
        let r = get(&format!("{api}/status?as_of={point}"));
        assert_eq!(r.json(), env.json(&["status", "--as-of", point]), "{point}");
    }

    // The history API pages newest first; the CLI prints in seq order.
    let newest_first = |mut v: Value| {
        v.as_array_mut().unwrap().reverse();
        v
    };
    assert_eq!(
        get(&format!("{api}/history")).json(),
        newest_first(env.json(&["history"]))
    );
    assert_eq!(
        get(&format!(
            "{api}/history?milestone=M1&actor=bob&type=MilestoneStatusChanged"
        ))
        .json(),
        newest_first(env.json(&[
            "history",
            "M1",
            "--actor",
            "bob",
            "--type",
            "MilestoneStatusChanged"
        ]))
    );
    assert_eq!(
        get(&format!("{api}/history?season=6")).json(),
        newest_first(env.json(&["history", "--season", "6"]))
    );

    let export = env.export();
    let r = get(&format!("{api}/events"));
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (200, "application/jsonl")
    );
    assert_eq!(r.body, export);
    let lines: Vec<&[u8]> = export.split_inclusive(|b| *b == b'\n').collect();
    assert_eq!(
        get(&format!("{api}/events?from=3&limit=2")).body,
        lines[2..4].concat()
    );
    assert_eq!(
        get(&format!("{api}/events?from=14")).body,
        lines[13..].concat()
    );
    assert!(get(&format!("{api}/events?from=16")).body.is_empty());

    let r = get(&format!("{api}/checkpoint"));
    assert!(
        r.content_type.starts_with("text/plain"),
        "{}",
        r.content_type
    );
    assert_eq!(r.text(), env.ok(&["checkpoint"]));
    assert_eq!(
        get(&format!("{api}/checkpoint?size=7")).text(),
        env.ok(&["checkpoint", "--size", "7"])
    );
    assert_eq!(
        get(&format!("{api}/snapshot")).text(),
        env.ok(&["snapshot"])
    );
    assert_eq!(
        get(&format!("{api}/snapshot?size=9")).text(),
        env.ok(&["snapshot", "--size", "9"])
    );
    assert_eq!(
        get(&format!("{api}/proof/inclusion/5?size=10")).text(),
        env.ok(&["prove", "inclusion", "5", "--size", "10"])
    );
    assert_eq!(
        get(&format!("{api}/proof/inclusion/15")).text(),
        env.ok(&["prove", "inclusion", "15"])
    );
    assert_eq!(
        get(&format!("{api}/proof/consistency?old=3&new=10")).text(),
        env.ok(&["prove", "consistency", "3", "10"])
    );

    // Each format of the review and the graph: the CLI's bytes, with its content type.
    let formats: [(&str, &[&str], &str); 6] = [
        (
            "reviews/6?format=md",
            &["review", "6", "--format", "md"],
            "text/markdown",
        ),
        (
            "reviews/6?format=html",
            &["review", "6", "--format", "html"],
            "text/html",
        ),
        (
            "reviews/6?format=json",
            &["review", "6", "--format", "json"],
            "application/json",
        ),
        (
            "graph?format=svg&as_of=season:6",
            &["graph", "--format", "svg", "--as-of", "season:6"],
            "image/svg+xml",
        ),
        (
            "graph?format=dot&as_of=season:6",
            &["graph", "--format", "dot", "--as-of", "season:6"],
            "text/vnd.graphviz",
        ),
        (
            "graph?format=mermaid&as_of=season:6",
            &["graph", "--format", "mermaid", "--as-of", "season:6"],
            "text/plain",
        ),
    ];
    for (path, cli, ctype) in formats {
        let r = get(&format!("{api}/{path}"));
        assert!(
            r.content_type.starts_with(ctype),
            "{path}: {}",
            r.content_type
        );
        assert_eq!(r.text(), env.ok(cli), "{path}");
    }

    let doc = get(&format!("{}/openapi.json", s.base)).json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/healthz",
        "/api/ledgers",
        "/api/ledgers/{id}/status",
        "/api/ledgers/{id}/bodies",
        "/api/ledgers/{id}/decisions",
        "/api/ledgers/{id}/history",
        "/api/ledgers/{id}/events",
        "/api/ledgers/{id}/checkpoint",
        "/api/ledgers/{id}/snapshot",
        "/api/ledgers/{id}/proof/inclusion/{seq}",
        "/api/ledgers/{id}/proof/consistency",
        "/api/ledgers/{id}/reviews/{season}",
        "/api/ledgers/{id}/graph",
        "/api/ledgers/{id}/statements",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi.json lacks {path}");
    }
    assert!(doc["paths"]["/api/ledgers/{id}/statements"]["post"]["responses"]["422"].is_object());
    for path in ["bodies", "decisions"] {
        let ok = &doc["paths"][format!("/api/ledgers/{{id}}/{path}")]["get"]["responses"]["200"];
        assert!(
            ok["description"]
                .as_str()
                .unwrap()
                .contains("an empty list"),
            "{path}: the description says what a ledger without section 13 answers: {ok}"
        );
    }

    // A v1 ledger defines no body and no decision: empty lists and zero counts, at the
    // head and at any point.
    for point in ["", "?as_of=season:6"] {
        let status = get(&format!("{api}/status{point}")).json();
        assert_eq!(
            get(&format!("{api}/decisions{point}")).json(),
            json!({"ledger": "test", "as_of": status["as_of"], "decisions": [],
                   "authority": {"decisions": 0, "at_target": 0, "foundation_decides": 0}}),
            "{point}"
        );
        assert_eq!(
            get(&format!("{api}/bodies{point}")).json(),
            json!({"ledger": "test", "as_of": status["as_of"], "bodies": []}),
            "{point}"
        );
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

fn read_errors_are_problems(kind: Kind) {
    let (env, s) = setup(kind);
    let api = format!("{}/api/ledgers/test", s.base);
    for path in [
        "/api/ledgers/nope/status",
        "/api/ledgers/nope/events",
        "/api/ledgers/nope/checkpoint",
        "/api/ledgers/nope/proof/inclusion/1",
        "/api/ledgers/nope/decisions",
        "/api/ledgers/nope/bodies",
        "/nothing/here",
    ] {
        let p = get(&format!("{}{path}", s.base)).problem(404);
        assert_eq!(p["type"], "about:blank", "{path}");
    }
    let p = get(&format!("{api}/status?as_of=yesterday")).problem(400);
    assert!(p["detail"].as_str().unwrap().contains("seq:N"), "{p}");
    for path in [
        "status?as_of=seq:99",
        "history?type=Bogus",
        "history?season=six",
        "proof/inclusion/16",
        "proof/inclusion/x",
        "proof/consistency?old=10&new=3",
        "proof/consistency?old=1",
        "checkpoint?size=99",
        "reviews/99",
        "decisions?as_of=yesterday",
        "decisions?as_of=seq:99",
        "bodies?as_of=season:99",
        "reviews/6?format=pdf",
        "graph?format=png",
        "events?from=0",
    ] {
        get(&format!("{api}/{path}")).problem(400);
    }
    // Without the log key, no checkpoint can be signed: the server says why.
    std::fs::remove_file(env.keys().join("_log.test.key")).unwrap();
    let p = get(&format!("{api}/checkpoint")).problem(503);
    assert!(p["detail"].as_str().unwrap().contains("cannot sign"), "{p}");
}

fn posted_statements(kind: Kind) {
    let (env, s) = setup(kind);
    let url = format!("{}/api/ledgers/test/statements", s.base);
    let bob = key(&env, "bob");

    // One statement: 201 with seq and hash, as the CLI's history then shows it.
    let r = post(
        &url,
        &statement(
            "test",
            "bob",
            &bob,
            set_status("M2", "in_progress", "not_started"),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let out = r.json();
    assert_eq!(out["seq"], 16);
    assert_eq!(out["type"], "MilestoneStatusChanged");
    assert_eq!(
        r.location.as_deref(),
        Some("/api/ledgers/test/proof/inclusion/16")
    );
    let history = env.json(&["history"]);
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["hash"],
        out["hash"]
    );
    assert_eq!(history.as_array().unwrap().last().unwrap()["actor"], "bob");

    // An array: all recorded, in order, with their places.
    let alice = key(&env, "alice");
    let batch = json!([
        statement("test", "alice", &alice, register("carol")),
        statement("test", "alice", &alice, register("dave")),
    ]);
    let r = post(&url, &batch);
    assert_eq!(r.status, 201, "{}", r.text());
    let seqs: Vec<u64> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![17, 18]);

    // An array with a bad second statement: nothing is recorded, the problem names it.
    let batch = json!([
        statement("test", "alice", &alice, register("erin")),
        statement(
            "test",
            "bob",
            &bob,
            set_status("M3", "not_started", "in_progress")
        ),
    ]);
    let p = post(&url, &batch).problem(422);
    assert_eq!(p["rule"], "R6-retired");
    assert_eq!(p["index"], 2);
    assert_eq!(env.json(&["status"])["as_of"]["seq"], 18);

    let (code, report) = env.verify();
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["checked"], 18);
}

fn post_errors_are_problems(kind: Kind) {
    let (env, s) = setup(kind);
    let url = format!("{}/api/ledgers/test/statements", s.base);
    let bob = key(&env, "bob");
    let alice = key(&env, "alice");
    let good = statement(
        "test",
        "bob",
        &bob,
        set_status("M2", "in_progress", "not_started"),
    );

    // 400: not JSON, a float, no sig, an unknown event type, an extra key.
    for body in [
        b"{not json".to_vec(),
        br#"{"a": 1.5}"#.to_vec(),
        br#"[]"#.to_vec(),
    ] {
        let p = request("POST", &url, Some(&body)).problem(400);
        assert_eq!(p["rule"], "R0-format", "{p}");
    }
    let mut no_sig = good.clone();
    no_sig.as_object_mut().unwrap().remove("sig");
    let p = post(&url, &no_sig).problem(400);
    assert_eq!(
        (p["rule"].as_str(), p["field"].as_str()),
        (Some("R0-format"), Some("statement"))
    );
    let mut extra = good.clone();
    extra["recorded_at"] = "2024-01-01T00:00:00.000000Z".into();
    post(&url, &extra).problem(400);
    let mut bad_type = good.clone();
    bad_type["type"] = "MilestoneDeleted".into();
    post(&url, &bad_type).problem(400);

    // 401: a signature by another key; an unknown actor.
    let forged = statement(
        "test",
        "bob",
        &alice,
        set_status("M2", "in_progress", "achieved"),
    );
    let p = post(&url, &forged).problem(401);
    assert_eq!(
        (p["rule"].as_str(), p["field"].as_str()),
        (Some("R1-signature"), Some("sig"))
    );
    assert_eq!(p["type"], "urn:waymark:rule:R1-signature");
    let stranger = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let p = post(
        &url,
        &statement(
            "test",
            "zed",
            &stranger,
            set_status("M2", "in_progress", "achieved"),
        ),
    )
    .problem(401);
    assert_eq!(p["rule"], "R1-unknown-actor");

    // 403: a reporter may not register actors.
    let p = post(&url, &statement("test", "bob", &bob, register("mallory"))).problem(403);
    assert_eq!(
        (p["rule"].as_str(), p["field"].as_str()),
        (Some("R1-signer"), Some("actor"))
    );

    // 413: a body over the server's limit, and a statement over SPEC rule 8's 64 KiB.
    let huge = vec![b' '; waymark::http::MAX_BODY_BYTES + 1];
    let p = request("POST", &url, Some(&huge)).problem(413);
    assert_eq!(p["rule"], "R8-limits");
    let mut big = set_status("M2", "in_progress", "achieved");
    big["payload"]["reason"] = "x".repeat(70 * 1024).into();
    let mut big = statement("test", "bob", &bob, big);
    big["sig"] = good["sig"].clone();
    let p = post(&url, &big).problem(413);
    assert_eq!(
        (p["rule"].as_str(), p["field"].as_str()),
        (Some("R8-limits"), Some("statement"))
    );

    // 422: a rule refuses it, naming the rule and the field.
    let m2 = |k, from, to| statement("test", "bob", k, set_status("M2", from, to));
    let p = post(&url, &m2(&bob, "in_progress", "achieved")).problem(422);
    assert_eq!(p["rule"], "R3-status", "{p}");
    assert!(p["field"].as_str().unwrap().starts_with("payload"), "{p}");
    assert!(p.get("index").is_none(), "{p}");
    let p = post(&url, &m2(&bob, "not_started", "achieved")).problem(422);
    assert_eq!(
        (p["rule"].as_str(), p["field"].as_str()),
        (Some("R3-status"), Some("payload.from"))
    );
    // A signed statement sent again where its rules would pass: a replay (R7).
    assert_eq!(post(&url, &good).status, 201);
    let back = statement(
        "test",
        "bob",
        &bob,
        set_status("M2", "not_started", "in_progress"),
    );
    assert_eq!(post(&url, &back).status, 201);
    let p = post(&url, &good).problem(422);
    assert_eq!(p["rule"], "R7-replay");
    // 404: an unknown ledger.
    post(&format!("{}/api/ledgers/nope/statements", s.base), &good).problem(404);

    // None of the refused statements was recorded.
    assert_eq!(env.json(&["status"])["as_of"]["seq"], 17);
    assert_eq!(env.verify().0, 0);
}

fn body(id: &str, title: &str, kind: &str) -> Value {
    json!({"type": "BodyDefined", "payload": {"id": id, "title": title, "kind": kind,
        "description": "posted by a client"}})
}

/// A design decided by `deciders` through `process`, with nothing else.
fn design(deciders: &[&str], process: &str) -> Value {
    json!({"proposers": [], "deciders": deciders, "process": process, "vetoes": [], "executors": []})
}

fn transfer(decision: &str, from: Value, to: Value) -> Value {
    json!({"type": "AuthorityTransferred", "payload": {"decision": decision, "from": from,
        "to": to, "reason": "posted by a client", "evidence": ["https://example.org/vote"],
        "effective_on": "2025-01-02"}})
}

/// Section 13's statements posted by clients: bodies, a decision and a transfer are
/// recorded (201), a transfer from a design that is not the current one is refused
/// by rule 11 (422); the bodies and decisions endpoints then answer what the status
/// holds, at the head and before the transfer.
fn decision_statements(kind: Kind) {
    let (env, s) = setup(kind);
    let url = format!("{}/api/ledgers/test/statements", s.base);
    let api = format!("{}/api/ledgers/test", s.base);
    let (alice, rita) = (key(&env, "alice"), key(&env, "rita"));

    let r = post(
        &url,
        &statement(
            "test",
            "alice",
            &alice,
            body("foundation", "Foundation", "foundation"),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["type"], "BodyDefined");
    assert_eq!(r.json()["seq"], 16);
    let r = post(
        &url,
        &json!([
            statement(
                "test",
                "alice",
                &alice,
                body("house", "Token House", "house")
            ),
            statement(
                "test",
                "alice",
                &alice,
                json!({"type": "DecisionDefined", "payload": {
                "id": "upgrades", "title": "Protocol upgrades", "description": "who upgrades",
                "layer": "tech", "principles": ["governance-minimization"], "profile": {"stakes": "high"},
                "current": design(&["foundation"], "discretion"),
                "target": design(&["house"], "vote"), "milestones": ["M1"]}})
            ),
        ]),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let before = env.json(&["status"]);
    assert_eq!(before["as_of"]["seq"], 18);

    // Rule 11: `from` must be the current design (here it is the target's).
    let wrong = statement(
        "test",
        "rita",
        &rita,
        transfer(
            "upgrades",
            design(&["house"], "vote"),
            design(&["foundation"], "vote"),
        ),
    );
    let p = post(&url, &wrong).problem(422);
    assert_eq!(p["rule"], "R11-transfer", "{p}");
    assert_eq!(p["type"], "urn:waymark:rule:R11-transfer");
    assert_eq!(env.json(&["status"])["as_of"]["seq"], 18);

    // A reviewer transfers the decision to its target: 201.
    let r = post(
        &url,
        &statement(
            "test",
            "rita",
            &rita,
            transfer(
                "upgrades",
                design(&["foundation"], "discretion"),
                design(&["house"], "vote"),
            ),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        (r.json()["seq"].as_u64(), r.json()["type"].as_str()),
        (Some(19), Some("AuthorityTransferred"))
    );

    // The endpoints answer the status's section 13 keys, at the head ...
    let status = env.json(&["status"]);
    let decisions = get(&format!("{api}/decisions")).json();
    assert_eq!(decisions["as_of"], status["as_of"]);
    assert_eq!(decisions["decisions"], status["decisions"]);
    assert_eq!(decisions["authority"], status["authority"]);
    assert_eq!(
        decisions["authority"],
        json!({"decisions": 1, "at_target": 1, "foundation_decides": 0})
    );
    let d = &decisions["decisions"][0];
    assert_eq!(
        (d["id"].as_str(), d["at_target"].as_bool()),
        (Some("upgrades"), Some(true))
    );
    assert_eq!(d["current"]["deciders"], json!(["house"]));
    assert_eq!(d["last_change"]["seq"], 19);
    let bodies = get(&format!("{api}/bodies")).json();
    assert_eq!(bodies["bodies"], status["bodies"]);
    assert_eq!(bodies["bodies"][1]["decides"], json!(["upgrades"]));
    // ... and before the transfer: the Foundation decided.
    let then = get(&format!("{api}/decisions?as_of=seq:18")).json();
    assert_eq!(then["decisions"], before["decisions"]);
    assert_eq!(
        then["decisions"][0]["current"]["deciders"],
        json!(["foundation"])
    );
    assert_eq!(then["authority"]["foundation_decides"], 1);
    assert_eq!(
        get(&format!("{api}/bodies?as_of=seq:17")).json()["bodies"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Before the first body: empty, not absent.
    assert_eq!(
        get(&format!("{api}/bodies?as_of=seq:15")).json()["bodies"],
        json!([])
    );

    let (code, report) = env.verify();
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["checked"], 19);
}

/// The statuses the board shows, by milestone id (`data-milestone`, `data-status`).
pub fn board_statuses(html: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in html.split("data-milestone=\"").skip(1) {
        let id = &part[..part.find('"').unwrap()];
        let rest = &part[part.find("data-status=\"").unwrap() + 13..];
        out.insert(id.to_string(), rest[..rest.find('"').unwrap()].to_string());
    }
    out
}

fn dashboard(kind: Kind) {
    let (env, s) = setup(kind);
    let r = get(&format!("{}/", s.base));
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (200, "text/html; charset=utf-8")
    );
    let html = r.text();
    assert_eq!(board_statuses(&html), statuses(&env.json(&["status"])));
    // Every event's hash links to its inclusion proof, and that link answers.
    for seq in 1..=15 {
        assert!(
            html.contains(&format!("href=\"/api/ledgers/test/proof/inclusion/{seq}\"")),
            "seq {seq}"
        );
    }
    assert_eq!(
        get(&format!("{}/api/ledgers/test/proof/inclusion/3", s.base)).status,
        200
    );
    // The checkpoint and how to verify it offline.
    assert!(html.contains(env.ok(&["checkpoint"]).lines().next().unwrap()));
    assert!(html.contains("waymark verify-offline --log export.jsonl --snapshot snapshot.json"));
    assert!(html.contains("href=\"/api/ledgers/test/reviews/6?format=html\""));
    // As of an earlier point: that point's statuses; the audit log stops there too.
    let r = get(&format!("{}/ledgers/test?as_of=seq:9", s.base));
    let html = r.text();
    assert_eq!(
        board_statuses(&html),
        statuses(&env.json(&["status", "--as-of", "seq:9"]))
    );
    assert!(html.contains("data-seq=\"9\"") && !html.contains("data-seq=\"10\""));
    // A time point with an offset survives the links that carry it.
    let html = get(&format!(
        "{}/?as_of=time:2099-12-31T23:00:00%2B02:00",
        s.base
    ))
    .text();
    assert!(
        html.contains("as_of=time:2099-12-31T23:00:00%2B02:00"),
        "the point is kept"
    );
    let status_link = format!(
        "{}/api/ledgers/test/status?as_of=time:2099-12-31T23:00:00%2B02:00",
        s.base
    );
    assert_eq!(
        get(&status_link).json(),
        env.json(&["status", "--as-of", "time:2099-12-31T23:00:00+02:00"])
    );
    // Filters: only M1's events.
    let html = get(&format!("{}/?milestone=M1&actor=bob", s.base)).text();
    let rows = html.matches("<tr data-seq=").count();
    assert_eq!(
        rows,
        env.json(&["history", "M1", "--actor", "bob"])
            .as_array()
            .unwrap()
            .len()
    );
    get(&format!("{}/?as_of=season:99", s.base)).problem(400);
    get(&format!("{}/ledgers/nope", s.base)).problem(404);
    // The main page links to "Who decides", which answers for a v1 ledger too.
    let html = get(&format!("{}/ledgers/test?as_of=season:6", s.base)).text();
    assert!(html.contains("href=\"/ledgers/test/decisions?as_of=season:6\""));
    let r = get(&format!("{}/ledgers/test/decisions?as_of=season:6", s.base));
    assert_eq!(r.status, 200);
    assert!(r
        .text()
        .contains("No decision module is recorded at this point."));
    get(&format!("{}/ledgers/test/decisions?as_of=seq:99", s.base)).problem(400);
    get(&format!("{}/ledgers/nope/decisions", s.base)).problem(404);
}

fn site(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let out = env.path("site");
    env.ok(&["site", "--out", out.to_str().unwrap()]);
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert_eq!(board_statuses(&index), statuses(&env.json(&["status"])));
    let past = std::fs::read_to_string(out.join("as-of-season-6.html")).unwrap();
    assert_eq!(
        board_statuses(&past),
        statuses(&env.json(&["status", "--as-of", "season:6"]))
    );
    let api = out.join("api/ledgers/test");
    assert_eq!(
        std::fs::read(api.join("export.jsonl")).unwrap(),
        env.export()
    );
    assert_eq!(
        std::fs::read_to_string(api.join("proof/inclusion/4.json")).unwrap(),
        env.ok(&["prove", "inclusion", "4"])
    );
    assert_eq!(
        std::fs::read_to_string(api.join("reviews/6.md")).unwrap(),
        env.ok(&["review", "6", "--format", "md"])
    );
    // The "Who decides" pages, with the section 13 JSON they link to: a v1 ledger
    // has no module, and says so.
    let decisions = std::fs::read_to_string(out.join("decisions.html")).unwrap();
    assert!(decisions.contains("No decision module is recorded at this point."));
    assert!(decisions.contains("href=\"decisions-as-of-season-6.html\""));
    let map: Value =
        serde_json::from_slice(&std::fs::read(api.join("decisions-as-of-season-6.json")).unwrap())
            .unwrap();
    assert_eq!(map["decisions"], json!([]));
    assert_eq!(
        map["as_of"],
        env.json(&["status", "--as-of", "season:6"])["as_of"]
    );
    // Every relative link of every page names a file the site holds.
    for page in [
        "index.html",
        "as-of-season-6.html",
        "decisions.html",
        "decisions-as-of-season-6.html",
    ] {
        let html = std::fs::read_to_string(out.join(page)).unwrap();
        let links: BTreeSet<&str> = html
            .split("href=\"")
            .skip(1)
            .map(|p| &p[..p.find('"').unwrap()])
            .filter(|l| !l.starts_with('#') && !l.starts_with("http"))
            .collect();
        let least = if page.starts_with("decisions") { 4 } else { 20 };
        assert!(links.len() > least, "{page}: {links:?}");
        for l in links {
            assert!(
                Path::new(&out.join(l)).is_file(),
                "{page} links to {l}, which the site lacks"
            );
        }
    }
    // The published files verify offline, as the page says.
    let v = env.ok(&[
        "verify-offline",
        "--log",
        api.join("export.jsonl").to_str().unwrap(),
        "--snapshot",
        api.join("snapshot.json").to_str().unwrap(),
        "--key",
        api.join("log-key.txt").to_str().unwrap(),
    ]);
    assert!(v.starts_with("verify: OK, 15 events checked"), "{v}");
}

/// `--server BASE` and then `args`.
fn with_server<'a>(base: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["--server", base];
    a.extend_from_slice(args);
    a
}

/// `waymark --server URL …`: read commands print what they print against the
/// database; write commands are signed with the local key store and posted; a
/// rejection gives the same message and exit code as locally.
fn remote_cli(kind: Kind) {
    let (env, s) = setup(kind);
    let reads: [&[&str]; 14] = [
        &["status"],
        &["status", "--as-of", "season:6"],
        &[
            "--json",
            "status",
            "--as-of",
            "time:2099-01-01T00:00:00+02:00",
        ],
        &["history", "M1"],
        &[
            "--json",
            "history",
            "--season",
            "6",
            "--type",
            "MilestoneStatusChanged",
        ],
        &["review", "6", "--format", "md"],
        &["--json", "review", "6"],
        &["graph", "--format", "dot", "--as-of", "seq:9"],
        &["export", "--upto", "12"],
        &["checkpoint"],
        &["--json", "checkpoint", "--size", "9"],
        &["snapshot", "--size", "9"],
        &["prove", "inclusion", "5"],
        &["prove", "consistency", "3", "10"],
    ];
    for args in reads {
        assert_eq!(
            env.ok(&with_server(&s.base, args)),
            env.ok(args),
            "{args:?}"
        );
    }
    // A rejection: the same message and exit code as locally, nothing recorded.
    let bad = [
        "--as",
        "bob",
        "milestone",
        "set",
        "M2",
        "achieved",
        "--reason",
        "r",
        "--evidence",
        "https://example.org/x",
    ];
    assert_eq!(
        env.fails(1, &with_server(&s.base, &bad)),
        env.fails(1, &bad)
    );
    let apply = env.path("two.jsonl");
    std::fs::write(
        &apply,
        concat!(
            r#"{"as":"bob","type":"MilestoneStatusChanged","payload":{"id":"M2","from":"in_progress","to":"not_started","reason":"paused","evidence":[]}}"#,
            "\n",
            r#"{"as":"bob","type":"MilestoneStatusChanged","payload":{"id":"M3","from":"not_started","to":"in_progress","reason":"retired","evidence":[]}}"#,
            "\n"
        ),
    )
    .unwrap();
    let apply_args = ["apply", apply.to_str().unwrap()];
    let err = env.fails(1, &with_server(&s.base, &apply_args));
    assert!(err.contains("line 2: rule R6-retired"), "{err}");
    assert_eq!(err, env.fails(1, &apply_args));
    assert_eq!(env.json(&["status"])["as_of"]["seq"], 15);
    // Writes: signed here with bob's key, recorded by the server.
    let out = env.ok(&with_server(
        &s.base,
        &[
            "--as",
            "bob",
            "milestone",
            "set",
            "M2",
            "not_started",
            "--reason",
            "paused",
        ],
    ));
    assert!(
        out.starts_with("recorded seq 16 MilestoneStatusChanged"),
        "{out}"
    );
    let out = env.json(&with_server(
        &s.base,
        &[
            "actor", "add", "carol", "--name", "Carol", "--role", "reviewer",
        ],
    ));
    assert_eq!(out["recorded"][0]["seq"], 17);
    assert!(env.keys().join("carol.key").is_file());
    assert_eq!(env.verify().0, 0);
    // What needs the database says so.
    let err = env.fails(2, &with_server(&s.base, &["verify"]));
    assert!(err.contains("verify needs the database"), "{err}");
}

on_both_backends!(
    remote_cli,
    reads_match_the_cli,
    read_errors_are_problems,
    posted_statements,
    post_errors_are_problems,
    decision_statements,
    dashboard,
    site
);

/// Two servers on one PostgreSQL ledger, posting at once: every statement is
/// recorded once, every 201's seq is unique and holds that statement, and the chain
/// verifies.
#[test]
fn two_servers_one_postgres_ledger() {
    let env = Env::new(Kind::Postgres);
    env.history();
    let servers = [serve(&env), serve(&env)];
    let alice = key(&env, "alice");
    let per_server = 8;
    let mut threads = Vec::new();
    for (si, s) in servers.iter().enumerate() {
        for i in 0..per_server {
            let url = format!("{}/api/ledgers/test/statements", s.base);
            let body = statement(
                "test",
                "alice",
                &alice,
                register(&format!("actor-{si}-{i}")),
            );
            threads.push(std::thread::spawn(move || {
                let r = post(&url, &body);
                assert_eq!(r.status, 201, "{}", r.text());
                (
                    body["payload"]["actor"].as_str().unwrap().to_string(),
                    r.json(),
                )
            }));
        }
    }
    let results: Vec<(String, Value)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let seqs: BTreeSet<u64> = results
        .iter()
        .map(|(_, r)| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs.len(),
        results.len(),
        "two 201s with the same seq: {results:?}"
    );
    assert_eq!(seqs, (16..16 + results.len() as u64).collect());
    let (code, report) = env.verify();
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["checked"], 15 + results.len());
    let history = env.json(&["history", "--type", "ActorRegistered"]);
    for (actor, r) in &results {
        let row = history
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["seq"] == r["seq"])
            .unwrap();
        assert_eq!(row["hash"], r["hash"]);
        assert!(
            row["change"].as_str().unwrap().contains(actor.as_str()),
            "{row}"
        );
    }
}
