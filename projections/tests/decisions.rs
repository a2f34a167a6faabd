//! SPEC section 13's status additions: `bodies`, `decisions` and `authority` appear
//! exactly once a body or a decision is defined, and say who decides what now.

mod common;

use common::{ledger, Ledger};
use serde_json::{json, Value};
use waymark_events::*;
use waymark_projections::{Status, StatusFold};

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn design(proposers: &[&str], deciders: &[&str], vetoes: &[&str]) -> Design {
    Design {
        proposers: ids(proposers),
        deciders: ids(deciders),
        process: "vote".into(),
        threshold_bps: None,
        quorum_bps: None,
        signers: None,
        vetoes: vetoes
            .iter()
            .map(|b| Veto {
                body: b.to_string(),
                threshold_bps: None,
            })
            .collect(),
        executors: vec![],
    }
}

fn body(id: &str, kind: &str) -> Payload {
    Payload::BodyDefined(BodyDefined {
        id: id.into(),
        title: format!("Body {id}"),
        kind: kind.into(),
        description: String::new(),
        charter: None,
    })
}

fn decision(id: &str, current: Design, target: Option<Design>) -> Payload {
    Payload::DecisionDefined(Box::new(DecisionDefined {
        id: id.into(),
        title: format!("Decision {id}"),
        description: String::new(),
        layer: "technical".into(),
        principles: vec![],
        profile: Profile::default(),
        current,
        target,
        milestones: ids(&["T-A1"]),
        source: None,
    }))
}

fn json_of(s: &Status) -> Value {
    serde_json::to_value(s).unwrap()
}

fn keys(s: &Status) -> Vec<String> {
    json_of(s).as_object().unwrap().keys().cloned().collect()
}

const V1_KEYS: [&str; 6] = [
    "as_of",
    "layers",
    "ledger",
    "milestones",
    "overall_phase",
    "season",
];

#[test]
fn a_v1_history_has_exactly_the_section_9_keys_at_every_seq() {
    let l = ledger();
    for seq in 1..=l.events.len() {
        assert_eq!(keys(l.at(seq)), V1_KEYS, "seq {seq}");
    }
}

#[test]
fn one_body_brings_the_three_keys_with_an_empty_map() {
    let mut l = ledger();
    l.push("foundation", body("fnd", "foundation"));
    let s = json_of(l.at(l.events.len()));
    assert_eq!(
        (&s["bodies"], &s["decisions"], &s["authority"]),
        (
            &json!([{"id": "fnd", "title": "Body fnd", "kind": "foundation", "retired": false,
                     "decides": [], "vetoes": []}]),
            &json!([]),
            &json!({"decisions": 0, "at_target": 0, "foundation_decides": 0}),
        )
    );
    // The status before it is still a v1 status.
    assert_eq!(keys(l.at(l.events.len() - 1)), V1_KEYS);
}

fn governance() -> Ledger {
    let mut l = ledger();
    for (id, kind) in [
        ("th", "house"),
        ("fnd", "foundation"),
        ("sc", "council"),
        ("ch", "house"),
    ] {
        l.push("foundation", body(id, kind));
    }
    // b-upg: the Foundation decides, the Token House vetoes; target: sc and th decide.
    l.push(
        "foundation",
        decision(
            "b-upg",
            design(&["fnd"], &["fnd"], &["th"]),
            Some(design(&["th"], &["sc", "th"], &["ch"])),
        ),
    );
    // a-fund: the Token House decides; no target.
    l.push(
        "foundation",
        decision("a-fund", design(&[], &["th"], &[]), None),
    );
    l
}

#[test]
fn bodies_and_decisions_are_sorted_by_id_and_say_who_decides_and_vetoes_now() {
    let l = governance();
    let n = l.events.len();
    let s = l.at(n);
    let decisions = s.decisions.as_ref().unwrap();
    let order: Vec<&str> = decisions.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(order, ["a-fund", "b-upg"]);
    let bodies = s.bodies.as_ref().unwrap();
    let table: Vec<(&str, Vec<String>, Vec<String>)> = bodies
        .iter()
        .map(|b| (b.id.as_str(), b.decides.clone(), b.vetoes.clone()))
        .collect();
    assert_eq!(
        table,
        [
            ("ch", ids(&[]), ids(&[])),
            ("fnd", ids(&["b-upg"]), ids(&[])),
            ("sc", ids(&[]), ids(&[])),
            ("th", ids(&["a-fund"]), ids(&["b-upg"])),
        ],
        "a target names ch and sc, but only current designs count"
    );
    let upg = &decisions[1];
    assert!(!upg.at_target && upg.foundation_decides);
    assert_eq!(upg.last_change.seq, n as u64 - 1);
    let fund = &decisions[0];
    assert!(fund.target.is_none() && !fund.at_target && !fund.foundation_decides);
    assert_eq!(
        s.authority
            .map(|a| (a.decisions, a.at_target, a.foundation_decides)),
        Some((2, 0, 1))
    );
    // The exact shape of one entry: target null when absent, optional design keys absent.
    assert_eq!(
        String::from_utf8(canonical_bytes(&json_of(s)["decisions"][0])).unwrap(),
        format!(
            concat!(
                r#"{{"at_target":false,"current":{{"deciders":["th"],"executors":[],"#,
                r#""process":"vote","proposers":[],"vetoes":[]}},"foundation_decides":false,"#,
                r#""hypotheses":[],"id":"a-fund","last_change":{{"actor":"foundation","#,
                r#""recorded_at":"{}","seq":{}}},"layer":"technical","milestones":["T-A1"],"#,
                r#""target":null,"title":"Decision a-fund"}}"#
            ),
            fund.last_change.recorded_at, n
        )
    );
}

#[test]
fn hypotheses_are_listed_by_id_with_a_null_outcome_while_open() {
    let mut l = governance();
    let stated = |id: &str| {
        Payload::HypothesisStated(HypothesisStated {
            decision: "b-upg".into(),
            id: id.into(),
            statement: "s".into(),
            measure: "m".into(),
        })
    };
    l.push("rita", stated("z"));
    l.push("rita", stated("a"));
    let seq_a = l.events.len() as u64;
    let s = json_of(l.at(l.events.len()));
    assert_eq!(
        s["decisions"][1]["hypotheses"],
        json!([{"id": "a", "outcome": null}, {"id": "z", "outcome": null}])
    );
    assert_eq!(s["decisions"][1]["last_change"]["seq"], seq_a);
    assert_eq!(s["decisions"][1]["last_change"]["actor"], "rita");
    l.push(
        "rita",
        Payload::HypothesisConcluded(HypothesisConcluded {
            decision: "b-upg".into(),
            id: "z".into(),
            outcome: "refuted".into(),
            note: "n".into(),
            evidence: vec![],
        }),
    );
    let s = json_of(l.at(l.events.len()));
    assert_eq!(
        s["decisions"][1]["hypotheses"],
        json!([{"id": "a", "outcome": null}, {"id": "z", "outcome": "refuted"}])
    );
    assert_eq!(s["decisions"][1]["last_change"]["seq"], l.events.len());
    // The other decision's last change is untouched.
    assert_eq!(s["decisions"][0]["last_change"]["seq"], seq_a - 2);
}

#[test]
fn a_transfer_moves_the_map_and_the_counts() {
    let mut l = governance();
    let before = l.events.len();
    l.push(
        "rita",
        Payload::AuthorityTransferred(Box::new(AuthorityTransferred {
            decision: "b-upg".into(),
            from: design(&["fnd"], &["fnd"], &["th"]),
            to: design(&["th"], &["sc", "th"], &["ch"]),
            reason: "the vote passed".into(),
            evidence: ids(&["https://example.org/vote"]),
            effective_on: "2025-05-01".into(),
        })),
    );
    let s = l.at(l.events.len());
    let upg = &s.decisions.as_ref().unwrap()[1];
    assert!(upg.at_target && !upg.foundation_decides);
    assert_eq!(upg.current, upg.target.clone().unwrap());
    assert_eq!(upg.last_change.seq, before as u64 + 1);
    assert_eq!(
        s.authority
            .map(|a| (a.decisions, a.at_target, a.foundation_decides)),
        Some((2, 1, 0))
    );
    let decides: Vec<(&str, &[String], &[String])> = s
        .bodies
        .as_ref()
        .unwrap()
        .iter()
        .map(|b| (b.id.as_str(), &b.decides[..], &b.vetoes[..]))
        .collect();
    assert_eq!(
        decides,
        [
            ("ch", &ids(&[])[..], &ids(&["b-upg"])[..]),
            ("fnd", &[][..], &[][..]),
            ("sc", &ids(&["b-upg"])[..], &[][..]),
            ("th", &ids(&["a-fund", "b-upg"])[..], &[][..]),
        ]
    );
    // The status one event earlier is unchanged (the fold is incremental).
    assert!(!l.at(before).decisions.as_ref().unwrap()[1].at_target);
}

#[test]
fn revisions_replace_title_target_and_milestones_and_bodies_retire() {
    let mut l = governance();
    let defined = l.at(l.events.len()).decisions.clone().unwrap();
    l.push(
        "foundation",
        Payload::BodyRevised(BodyRevised {
            id: "th".into(),
            reason: "renamed".into(),
            title: Some("Token House".into()),
            ..Default::default()
        }),
    );
    l.push(
        "foundation",
        Payload::BodyRetired(BodyRetired {
            id: "ch".into(),
            reason: "r".into(),
        }),
    );
    let s = l.at(l.events.len());
    let bodies = s.bodies.as_ref().unwrap();
    assert!(bodies[0].id == "ch" && bodies[0].retired);
    assert_eq!(bodies[3].title, "Token House");
    // Body events are no decision's last change.
    assert_eq!(s.decisions.as_ref().unwrap(), &defined);
    l.push(
        "foundation",
        Payload::DecisionRevised(Box::new(DecisionRevised {
            id: "a-fund".into(),
            reason: "end state published".into(),
            title: Some("Governance Fund".into()),
            target: Some(design(&[], &["th"], &[])),
            milestones: Some(ids(&["E-A1", "T-A1"])),
            ..Default::default()
        })),
    );
    let s = l.at(l.events.len());
    let fund = &s.decisions.as_ref().unwrap()[0];
    assert_eq!(fund.title, "Governance Fund");
    assert_eq!(fund.milestones, ids(&["E-A1", "T-A1"]));
    assert!(fund.at_target, "a target equal to current is reached");
    assert_eq!(fund.last_change.seq, l.events.len() as u64);
    assert_eq!(s.authority.unwrap().at_target, 1);
}

#[test]
fn a_fold_kept_as_json_resumes_to_the_same_status() {
    let mut l = governance();
    l.push(
        "rita",
        Payload::HypothesisStated(HypothesisStated {
            decision: "a-fund".into(),
            id: "h".into(),
            statement: "s".into(),
            measure: "m".into(),
        }),
    );
    let mut fold = StatusFold::new();
    for (i, (e, h)) in l.events.iter().enumerate() {
        if i == l.events.len() - 3 {
            let text = serde_json::to_string(&fold).unwrap();
            fold = serde_json::from_str(&text).unwrap();
        }
        fold.apply(e, h);
    }
    assert_eq!(&fold.status(), l.at(l.events.len()));
    // A v1 fold's JSON has no section 13 keys (a fold kept before v1.1 reads back).
    let mut v1 = StatusFold::new();
    for (e, h) in &ledger().events {
        v1.apply(e, h);
    }
    let text = serde_json::to_string(&v1).unwrap();
    assert!(!text.contains("\"bodies\"") && !text.contains("\"decisions\""));
    assert_eq!(serde_json::from_str::<StatusFold>(&text).unwrap(), v1);
}
