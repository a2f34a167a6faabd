//! Issue 17, goal 1: group commit in `serve`. Eight clients post single statements at
//! once, valid ones mixed with ones a rule refuses only in the light of the others
//! (the same new actor registered by every client at once: the first judged wins,
//! the rest are refused with R1-signer), replays (R7-replay, judged against the
//! statements accepted before them) and badly signed ones (R1-signature). Every valid
//! statement is recorded exactly once, at the seq its 201 named; every refused one is
//! answered with its rule and recorded nowhere; the chain verifies.

#[macro_use]
mod common;

use common::served::{self, serve, Resp};
use common::{Env, Kind};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use waymark_events::{format_timestamp, sign, EventType, Payload, Statement};

const CLIENTS: usize = 8;
const EACH: usize = 12;

fn post(url: &str, body: &Value) -> Resp {
    let bytes = serde_json::to_vec(body).unwrap();
    served::request("POST", url, Some("application/json"), Some(&bytes))
}

fn statement(actor: &str, key: &ed25519_dalek::SigningKey, payload: Value) -> Value {
    let kind: EventType = payload["type"].as_str().unwrap().parse().unwrap();
    let payload = Payload::from_value(kind, &payload["payload"]).unwrap();
    let now = format_timestamp(chrono::Utc::now().timestamp_micros());
    let st = Statement::new("test", actor, &now, payload);
    let sig = sign(&st, key);
    let mut v = st.to_value();
    v["sig"] = sig.into();
    v
}

/// [`statement`] as the library takes it.
fn signed(actor: &str, key: &ed25519_dalek::SigningKey, p: Value) -> waymark::Signed {
    let mut v = statement(actor, key, p);
    let sig = v.as_object_mut().unwrap().remove("sig").unwrap();
    waymark::Signed {
        statement: Statement::from_value(&v).unwrap(),
        sig: sig.as_str().unwrap().to_string(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn register(actor: &str) -> Value {
    let pk = waymark_events::encode_public_key(
        &ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng).verifying_key(),
    );
    json!({"type": "ActorRegistered", "payload": {"actor": actor, "name": actor,
        "roles": ["reporter"], "public_key": pk}})
}

fn toggle(from: &str, to: &str) -> Value {
    json!({"type": "MilestoneStatusChanged", "payload": {"id": "M2", "from": from, "to": to,
        "reason": "toggled by client 0", "evidence": []}})
}

/// What a client expects of one of its posts.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    /// Recorded; the actor it registers or the statement it is.
    Recorded(String),
    /// One of the clients' registrations of the same actor is recorded, the others
    /// refused (R1-signer).
    Contested(String),
    /// Refused with this rule.
    Refused(&'static str),
}

fn eight_clients_share_commits(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let s = serve(&env);
    let url = format!("{}/api/ledgers/test/statements", s.base);
    let alice = waymark::KeyStore::new(env.keys())
        .load_actor("alice")
        .unwrap();
    let bob = waymark::KeyStore::new(env.keys())
        .load_actor("bob")
        .unwrap();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (url, alice, bob) = (url.clone(), alice.clone(), bob.clone());
            std::thread::spawn(move || {
                let mut out = Vec::new();
                let mut send = |want: Want, body: Value| {
                    let r = post(&url, &body);
                    out.push((want, body, r.status, r.json()));
                };
                for k in 0..EACH {
                    let me = format!("c{c}-{k}");
                    send(
                        Want::Recorded(me.clone()),
                        statement("alice", &alice, register(&me)),
                    );
                    if k % 4 == 0 {
                        let dup = format!("dup-{k}");
                        send(
                            Want::Contested(dup.clone()),
                            statement("alice", &alice, register(&dup)),
                        );
                    }
                    if k % 5 == 2 {
                        // Signed by bob's key, claimed by alice.
                        let mut forged = statement("bob", &bob, register(&format!("f{c}-{k}")));
                        forged["actor"] = "alice".into();
                        send(Want::Refused("R1-signature"), forged);
                    }
                }
                if c == 0 {
                    // A replay that every rule but rule 7 accepts: M2 back where the
                    // first toggle found it.
                    let there = statement("bob", &bob, toggle("in_progress", "not_started"));
                    send(Want::Recorded("M2 -> not_started".into()), there.clone());
                    send(
                        Want::Recorded("M2 -> in_progress".into()),
                        statement("bob", &bob, toggle("not_started", "in_progress")),
                    );
                    send(Want::Refused("R7-replay"), there);
                }
                out
            })
        })
        .collect();
    let posts: Vec<(Want, Value, u16, Value)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();

    let mut recorded: BTreeMap<u64, (Value, Value)> = BTreeMap::new();
    let mut contested: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (want, body, status, answer) in &posts {
        match want {
            Want::Recorded(what) => {
                assert_eq!(*status, 201, "{what}: {answer}");
            }
            Want::Contested(actor) => {
                let e = contested.entry(actor.clone()).or_default();
                if *status == 201 {
                    e.0 += 1;
                } else {
                    assert_eq!(
                        (*status, answer["rule"].as_str()),
                        (403, Some("R1-signer")),
                        "{answer}"
                    );
                    e.1 += 1;
                }
            }
            Want::Refused(rule) => {
                assert_eq!(answer["rule"], *rule, "{status} {answer}");
                assert!((400..500).contains(status), "{status}");
            }
        }
        if *status == 201 {
            let seq = answer["seq"].as_u64().unwrap();
            let again = recorded.insert(seq, (body.clone(), answer.clone()));
            assert!(again.is_none(), "two 201s named seq {seq}");
        }
    }
    for (actor, (won, lost)) in &contested {
        assert_eq!((*won, *lost), (1, CLIENTS - 1), "{actor}");
    }
    // The 201s name every seq after the history, once each.
    let n = recorded.len() as u64;
    assert_eq!(
        recorded.keys().copied().collect::<BTreeSet<_>>(),
        (16..16 + n).collect::<BTreeSet<_>>()
    );
    assert_eq!(n as usize, CLIENTS * EACH + contested.len() + 2);
    // Each seq holds the statement its 201 named, and nothing else was recorded.
    let (code, report) = env.verify();
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["checked"], 15 + n);
    let export = env.export();
    let lines: Vec<Value> = String::from_utf8(export)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, 15 + n);
    let mut commits = BTreeSet::new();
    for (seq, (body, answer)) in &recorded {
        let event = &lines[*seq as usize - 1];
        assert_eq!(event["seq"], *seq);
        assert_eq!(
            event["sig"], body["sig"],
            "seq {seq} holds another statement"
        );
        assert_eq!(event["payload"], body["payload"]);
        assert_eq!(answer["type"], body["type"]);
        // One commit gives all its events one `recorded_at`.
        commits.insert(event["recorded_at"].as_str().unwrap().to_string());
    }
    eprintln!("{n} statements recorded in {} commits", commits.len());
    assert!(
        (commits.len() as u64) < n,
        "no two of {n} concurrent statements shared a commit"
    );
}

/// `record_group` itself: each submission judged after the ones accepted before it in
/// the same group; a refused one (even one refused at its second statement) leaves no
/// trace in the state the next one is judged against; a replay of a statement recorded
/// before or accepted earlier in the group is refused (R7); the accepted ones are
/// committed together, in order, at consecutive seqs.
fn a_group_is_judged_in_order(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let keys = waymark::KeyStore::new(env.keys());
    let alice = keys.load_actor("alice").unwrap();
    let bob = keys.load_actor("bob").unwrap();
    let toggle = |from: &str, to: &str, why: &str| {
        let mut t = toggle(from, to);
        t["payload"]["reason"] = why.into();
        signed("bob", &bob, t)
    };
    let reg = |actor: &str| signed("alice", &alice, register(actor));
    runtime().block_on(async {
        let db = waymark::Db::connect(&env.url).await.unwrap();
        let w = waymark::Waymark::new(db.clone(), waymark::system_clock());
        let there = toggle("in_progress", "not_started", "first");
        let back = toggle("not_started", "in_progress", "second");
        w.record("test", vec![there.clone(), back]).await.unwrap();
        let t5 = toggle("in_progress", "not_started", "fifth");
        let group = vec![
            vec![reg("ga")],
            vec![reg("gb"), reg("gb")],
            vec![reg("gb")],
            vec![reg("ga")],
            vec![there],
            vec![t5.clone()],
            vec![toggle("in_progress", "not_started", "sixth")],
            vec![toggle("not_started", "in_progress", "seventh")],
            vec![t5],
        ];
        let out = w.record_group("test", group).await.unwrap();
        let rule = |i: usize| match &out[i] {
            Err(waymark::Error::Rejected { rejection, line }) => (rejection.rule.id(), *line),
            other => panic!("submission {i}: {other:?}"),
        };
        let seqs = |i: usize| -> Vec<u64> {
            match &out[i] {
                Ok(r) => r.iter().map(|r| r.seq).collect(),
                Err(e) => panic!("submission {i}: {e}"),
            }
        };
        assert_eq!(seqs(0), vec![18]);
        assert_eq!(
            rule(1),
            ("R1-signer", Some(2)),
            "gb twice in one submission"
        );
        assert_eq!(
            seqs(2),
            vec![19],
            "the refused submission left gb unregistered"
        );
        assert_eq!(rule(3), ("R1-signer", Some(1)), "ga was accepted before it");
        assert_eq!(rule(4), ("R7-replay", Some(1)), "recorded at seq 16");
        assert_eq!(seqs(5), vec![20]);
        assert_eq!(
            rule(6),
            ("R3-status", Some(1)),
            "the submission before moved M2"
        );
        assert_eq!(seqs(7), vec![21]);
        assert_eq!(
            rule(8),
            ("R7-replay", Some(1)),
            "accepted earlier in the group"
        );
        w.settle().await;
        db.close().await;
    });
    let (code, report) = env.verify();
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["checked"], 21);
}

/// The server's precheck verifies each signature once and its writer trusts that
/// verdict (issue 17), but only for the very statement verified and under the key
/// rule 1 asks for when the writer judges it: a statement whose actor's key was
/// rotated after its precheck, and a different statement carrying a prechecked
/// signature, are refused R1-signature by the writer; nothing of them is recorded.
fn a_precheck_does_not_outlive_a_key_rotation_or_another_statement(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let keys = waymark::KeyStore::new(env.keys());
    let alice = keys.load_actor("alice").unwrap();
    let bob = keys.load_actor("bob").unwrap();
    runtime().block_on(async {
        let db = waymark::Db::connect(&env.url).await.unwrap();
        let w = waymark::Waymark::new(db.clone(), waymark::system_clock());
        let before = w.state("test").await.unwrap().next_seq();
        let s = signed("bob", &bob, toggle("in_progress", "not_started"));
        let s = w.precheck("test", vec![s]).await.unwrap().remove(0);
        // The same signature over another statement (another reason).
        let mut forged = s.clone();
        if let Payload::MilestoneStatusChanged(m) = &mut forged.statement.payload {
            m.reason = "not what bob signed".into();
        } else {
            panic!("a status change");
        }
        let out = w.record_group("test", vec![vec![forged]]).await.unwrap();
        match &out[0] {
            Err(waymark::Error::Rejected { rejection, .. }) => {
                assert_eq!(rejection.rule.id(), "R1-signature", "{rejection}")
            }
            other => panic!("the forged statement: {other:?}"),
        }
        // Bob's key rotated after the precheck: his statement no longer verifies.
        let new_key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let rotate = signed(
            "alice",
            &alice,
            json!({"type": "ActorKeyRotated", "payload": {"actor": "bob",
                "public_key": waymark_events::encode_public_key(&new_key.verifying_key())}}),
        );
        w.record("test", vec![rotate]).await.unwrap();
        let out = w.record_group("test", vec![vec![s]]).await.unwrap();
        match &out[0] {
            Err(waymark::Error::Rejected { rejection, .. }) => {
                assert_eq!(rejection.rule.id(), "R1-signature", "{rejection}")
            }
            other => panic!("the statement signed with the old key: {other:?}"),
        }
        assert_eq!(
            w.state("test").await.unwrap().next_seq(),
            before + 1,
            "only the rotation"
        );
        w.settle().await;
        db.close().await;
    });
    let (code, report) = env.verify();
    assert_eq!(code, 0, "{report}");
}

on_both_backends!(
    eight_clients_share_commits,
    a_group_is_judged_in_order,
    a_precheck_does_not_outlive_a_key_rotation_or_another_statement
);
