//! Given/when/then tests of the `Ledger` aggregate: for every rule of SPEC section 5, a
//! statement that is accepted and one that is rejected with that rule and field.

use async_trait::async_trait;
use cqrs_es::test::TestFramework;
use ed25519_dalek::SigningKey;
use std::collections::HashSet;
use std::sync::Arc;
use waymark::{
    Ledger, LedgerError, LedgerEvent, LedgerServices, Record, Rule, SignatureIndex, Signed,
};
use waymark_events::*;

const LEDGER: &str = "test";

/// Rule 7 consults the store's signature index; here it holds the given events' sigs.
struct Recorded(HashSet<String>);

#[async_trait]
impl SignatureIndex for Recorded {
    async fn recorded_among(
        &self,
        _ledger: &str,
        sigs: &[&str],
    ) -> Result<HashSet<String>, waymark::StorageError> {
        Ok(sigs
            .iter()
            .filter(|s| self.0.contains(**s))
            .map(|s| s.to_string())
            .collect())
    }
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn actor_key(actor: &str) -> SigningKey {
    match actor {
        "alice" => key(1),
        "rita" => key(2),
        "bob" => key(3),
        "old" => key(4),
        _ => key(99),
    }
}

fn sign_as(actor: &str, payload: Payload) -> Signed {
    signed_with(actor, &actor_key(actor), payload)
}

fn signed_with(actor: &str, k: &SigningKey, payload: Payload) -> Signed {
    let statement = Statement::new(LEDGER, actor, "2026-01-01T00:00:00.000000Z", payload);
    let sig = sign(&statement, k);
    Signed { statement, sig }
}

fn milestone(id: &str, layer: &str, phase: &str, deps: &[&str]) -> Payload {
    Payload::MilestoneDefined(MilestoneDefined {
        id: id.into(),
        title: format!("Milestone {id}"),
        layer: layer.into(),
        phase: phase.into(),
        description: String::new(),
        principles: vec![],
        depends_on: deps.iter().map(|s| s.to_string()).collect(),
    })
}

fn status(id: &str, from: &str, to: &str, evidence: &[&str]) -> Payload {
    Payload::MilestoneStatusChanged(MilestoneStatusChanged {
        id: id.into(),
        from: from.into(),
        to: to.into(),
        reason: "because".into(),
        evidence: evidence.iter().map(|s| s.to_string()).collect(),
        effective_on: None,
    })
}

fn register(actor: &str, roles: &[&str]) -> Payload {
    Payload::ActorRegistered(ActorRegistered {
        actor: actor.into(),
        name: actor.into(),
        roles: roles.iter().map(|s| s.to_string()).collect(),
        public_key: encode_public_key(&actor_key(actor).verifying_key()),
    })
}

fn opened() -> Payload {
    let layer = |id: &str| LayerDef {
        id: id.into(),
        title: id.into(),
        phases: vec!["A".into(), "B".into()],
    };
    let phase = |id: &str| PhaseDef {
        id: id.into(),
        title: id.into(),
        description: String::new(),
    };
    Payload::LedgerOpened(LedgerOpened {
        title: "Test".into(),
        origin: "example.org/test".into(),
        log_key: verifier_key("example.org/test", &key(9).verifying_key()),
        founder: Founder {
            actor: "alice".into(),
            name: "Alice".into(),
            public_key: encode_public_key(&key(1).verifying_key()),
        },
        framework: Framework {
            id: "t".into(),
            version: "1".into(),
            title: "T".into(),
            principles: vec![],
            layers: vec![layer("tech"), layer("econ")],
            phases: vec![phase("A"), phase("B")],
        },
    })
}

/// A chained history: the ledger, actors alice (founder, steward), rita (reviewer),
/// bob (reporter), old (retired); milestones M1 (tech A), M2 (tech A, needs M1),
/// M3 (tech B), R (tech A, retired), E1 (econ A).
fn base() -> Vec<(String, Payload)> {
    vec![
        ("alice".into(), opened()),
        ("alice".into(), register("rita", &["reviewer"])),
        ("alice".into(), register("bob", &["reporter"])),
        ("alice".into(), register("old", &["steward"])),
        (
            "alice".into(),
            Payload::ActorRetired(ActorRetired {
                actor: "old".into(),
                reason: "left".into(),
            }),
        ),
        ("alice".into(), milestone("M1", "tech", "A", &[])),
        ("alice".into(), milestone("M2", "tech", "A", &["M1"])),
        ("alice".into(), milestone("M3", "tech", "B", &[])),
        ("alice".into(), milestone("R", "tech", "A", &[])),
        (
            "alice".into(),
            Payload::MilestoneRetired(MilestoneRetired {
                id: "R".into(),
                reason: "dropped".into(),
            }),
        ),
        ("alice".into(), milestone("E1", "econ", "A", &[])),
    ]
}

fn chain(history: Vec<(String, Payload)>) -> Vec<LedgerEvent> {
    let mut prev = Hash::ZERO;
    history
        .into_iter()
        .enumerate()
        .map(|(i, (actor, p))| {
            let s = sign_as(&actor, p);
            let e = Event {
                statement: s.statement,
                seq: i as u64 + 1,
                prev,
                recorded_at: "2026-01-01T00:00:01.000000Z".into(),
                sig: s.sig,
            };
            prev = e.hash();
            LedgerEvent(e)
        })
        .collect()
}

async fn when_batch(
    history: Vec<(String, Payload)>,
    statements: Vec<Signed>,
) -> Result<Vec<LedgerEvent>, LedgerError> {
    let given = chain(history);
    let sigs = given.iter().map(|e| e.0.sig.clone()).collect();
    TestFramework::<Ledger>::with(LedgerServices {
        signatures: Arc::new(Recorded(sigs)),
        prechecked: None,
    })
    .given(given)
    .when_async(Record {
        ledger: LEDGER.into(),
        statements,
    })
    .await
    .inspect_result()
}

async fn when(
    history: Vec<(String, Payload)>,
    actor: &str,
    payload: Payload,
) -> Result<Vec<LedgerEvent>, LedgerError> {
    when_batch(history, vec![sign_as(actor, payload)]).await
}

fn with(mut h: Vec<(String, Payload)>, more: &[(&str, Payload)]) -> Vec<(String, Payload)> {
    h.extend(more.iter().map(|(a, p)| (a.to_string(), p.clone())));
    h
}

#[track_caller]
fn accepted(r: Result<Vec<LedgerEvent>, LedgerError>) {
    let events = r.unwrap_or_else(|e| panic!("expected acceptance, got {e}"));
    assert_eq!(events.len(), 1);
}

#[track_caller]
fn rejected(r: Result<Vec<LedgerEvent>, LedgerError>, rule: Rule, field: &str) -> String {
    match r {
        Err(LedgerError::Rejected { rejection, .. }) => {
            assert_eq!(
                (rejection.rule, rejection.field.as_str()),
                (rule, field),
                "{}",
                rejection
            );
            rejection.to_string()
        }
        other => panic!("expected rejection by {rule:?} at {field}, got {other:?}"),
    }
}

// ---- Rule 1: who signs ----

#[tokio::test]
async fn the_founder_opens_an_empty_ledger() {
    accepted(when(vec![], "alice", opened()).await);
}

#[tokio::test]
async fn a_ledger_cannot_start_with_anything_but_ledger_opened() {
    rejected(
        when(vec![], "alice", milestone("M1", "tech", "A", &[])).await,
        Rule::Signer,
        "type",
    );
}

#[tokio::test]
async fn ledger_opened_must_be_signed_by_the_founder_it_names() {
    rejected(when(vec![], "bob", opened()).await, Rule::Signer, "actor");
}

#[tokio::test]
async fn ledger_opened_is_allowed_at_seq_1_only() {
    rejected(when(base(), "alice", opened()).await, Rule::Signer, "type");
}

#[tokio::test]
async fn an_unregistered_actor_signs_nothing() {
    rejected(
        when(
            base(),
            "mallory",
            status("M1", "not_started", "in_progress", &[]),
        )
        .await,
        Rule::UnknownActor,
        "actor",
    );
}

#[tokio::test]
async fn a_reporter_may_change_a_status_but_not_advance_a_phase() {
    accepted(
        when(
            base(),
            "bob",
            status("M1", "not_started", "in_progress", &[]),
        )
        .await,
    );
    let p = Payload::PhaseTransitioned(PhaseTransitioned {
        layer: "econ".into(),
        from: "A".into(),
        to: "B".into(),
        reason: "r".into(),
    });
    let msg = rejected(when(base(), "bob", p).await, Rule::Signer, "actor");
    assert!(msg.contains("steward, reviewer"), "{msg}");
}

#[tokio::test]
async fn a_reviewer_may_not_define_milestones() {
    rejected(
        when(base(), "rita", milestone("M9", "tech", "A", &[])).await,
        Rule::Signer,
        "actor",
    );
}

#[tokio::test]
async fn a_signature_by_another_key_is_rejected() {
    let s = signed_with("alice", &key(42), milestone("M9", "tech", "A", &[]));
    rejected(when_batch(base(), vec![s]).await, Rule::Signature, "sig");
}

#[tokio::test]
async fn a_statement_for_another_ledger_or_version_is_rejected() {
    let mut s = sign_as("alice", milestone("M9", "tech", "A", &[]));
    s.statement.ledger = "other".into();
    s.sig = sign(&s.statement, &key(1));
    rejected(
        when_batch(base(), vec![s.clone()]).await,
        Rule::Signer,
        "ledger",
    );
    s.statement.ledger = LEDGER.into();
    s.statement.version = "2".into();
    s.sig = sign(&s.statement, &key(1));
    rejected(when_batch(base(), vec![s]).await, Rule::Signer, "version");
}

#[tokio::test]
async fn after_a_key_rotation_the_old_key_is_refused_and_the_new_one_accepted() {
    let rotated = with(
        base(),
        &[(
            "alice",
            Payload::ActorKeyRotated(ActorKeyRotated {
                actor: "bob".into(),
                public_key: encode_public_key(&key(77).verifying_key()),
            }),
        )],
    );
    let change = status("M1", "not_started", "in_progress", &[]);
    rejected(
        when_batch(
            rotated.clone(),
            vec![signed_with("bob", &key(3), change.clone())],
        )
        .await,
        Rule::Signature,
        "sig",
    );
    accepted(when_batch(rotated, vec![signed_with("bob", &key(77), change)]).await);
}

#[tokio::test]
async fn a_badly_formatted_issued_at_is_rejected() {
    let mut s = sign_as("alice", milestone("M9", "tech", "A", &[]));
    s.statement.issued_at = "2026-01-01T00:00:00Z".into();
    s.sig = sign(&s.statement, &key(1));
    rejected(when_batch(base(), vec![s]).await, Rule::Format, "issued_at");
}

// ---- Rule 2: milestones ----

#[tokio::test]
async fn a_milestone_in_an_existing_layer_and_phase_is_defined() {
    accepted(when(base(), "alice", milestone("M9", "tech", "B", &["M1", "M3"])).await);
}

#[tokio::test]
async fn milestone_ids_must_match_the_pattern_and_be_unique() {
    rejected(
        when(base(), "alice", milestone("-bad", "tech", "A", &[])).await,
        Rule::Milestone,
        "payload.id",
    );
    rejected(
        when(base(), "alice", milestone("M1", "tech", "A", &[])).await,
        Rule::Milestone,
        "payload.id",
    );
}

#[tokio::test]
async fn layer_and_phase_must_exist_and_belong_together() {
    rejected(
        when(base(), "alice", milestone("M9", "nope", "A", &[])).await,
        Rule::Milestone,
        "payload.layer",
    );
    rejected(
        when(base(), "alice", milestone("M9", "tech", "C", &[])).await,
        Rule::Milestone,
        "payload.phase",
    );
}

#[tokio::test]
async fn dependencies_must_be_defined_and_unretired() {
    rejected(
        when(
            base(),
            "alice",
            milestone("M9", "tech", "A", &["M1", "ghost"]),
        )
        .await,
        Rule::Milestone,
        "payload.depends_on[1]",
    );
    rejected(
        when(base(), "alice", milestone("M9", "tech", "A", &["R"])).await,
        Rule::Milestone,
        "payload.depends_on[0]",
    );
}

#[tokio::test]
async fn a_revision_that_closes_a_dependency_cycle_is_rejected() {
    let revise = |deps: &[&str]| {
        Payload::MilestoneRevised(MilestoneRevised {
            id: "M1".into(),
            reason: "r".into(),
            depends_on: Some(deps.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        })
    };
    let msg = rejected(
        when(base(), "alice", revise(&["M2"])).await,
        Rule::Milestone,
        "payload.depends_on[0]",
    );
    assert!(msg.contains("cycle"), "{msg}");
    accepted(when(base(), "alice", revise(&["M3"])).await);
}

#[tokio::test]
async fn a_revision_must_change_something() {
    let p = Payload::MilestoneRevised(MilestoneRevised {
        id: "M1".into(),
        reason: "r".into(),
        ..Default::default()
    });
    rejected(when(base(), "alice", p).await, Rule::Milestone, "payload");
}

// ---- Rule 3: status ----

#[tokio::test]
async fn from_must_equal_the_current_status_and_to_must_differ() {
    rejected(
        when(
            base(),
            "bob",
            status("M1", "in_progress", "achieved", &["https://x.org"]),
        )
        .await,
        Rule::Status,
        "payload.from",
    );
    rejected(
        when(
            base(),
            "bob",
            status("M1", "not_started", "not_started", &[]),
        )
        .await,
        Rule::Status,
        "payload.to",
    );
    rejected(
        when(base(), "bob", status("M1", "not_started", "done", &[])).await,
        Rule::Status,
        "payload.to",
    );
}

#[tokio::test]
async fn achieved_needs_every_dependency_achieved_and_lists_the_unmet_ones() {
    let msg = rejected(
        when(
            base(),
            "bob",
            status("M2", "not_started", "achieved", &["https://x.org"]),
        )
        .await,
        Rule::Status,
        "payload.to",
    );
    assert!(msg.contains("M1"), "{msg}");
    let done = with(
        base(),
        &[(
            "bob",
            status("M1", "not_started", "achieved", &["https://x.org/1"]),
        )],
    );
    accepted(
        when(
            done,
            "bob",
            status("M2", "not_started", "achieved", &["https://x.org/2"]),
        )
        .await,
    );
}

#[tokio::test]
async fn achieved_needs_an_http_evidence_link() {
    rejected(
        when(base(), "bob", status("M1", "not_started", "achieved", &[])).await,
        Rule::Status,
        "payload.evidence",
    );
    rejected(
        when(
            base(),
            "bob",
            status("M1", "not_started", "achieved", &["ipfs://x"]),
        )
        .await,
        Rule::Status,
        "payload.evidence[0]",
    );
}

#[tokio::test]
async fn a_status_change_needs_a_reason_and_a_real_date() {
    let mut p = MilestoneStatusChanged {
        id: "M1".into(),
        from: "not_started".into(),
        to: "in_progress".into(),
        reason: " ".into(),
        evidence: vec![],
        effective_on: None,
    };
    rejected(
        when(base(), "bob", Payload::MilestoneStatusChanged(p.clone())).await,
        Rule::Status,
        "payload.reason",
    );
    p.reason = "ok".into();
    p.effective_on = Some("2024-02-30".into());
    rejected(
        when(base(), "bob", Payload::MilestoneStatusChanged(p.clone())).await,
        Rule::Format,
        "payload.effective_on",
    );
    p.effective_on = Some("2024-02-29".into());
    accepted(when(base(), "bob", Payload::MilestoneStatusChanged(p)).await);
}

// ---- Rule 4: phases ----

fn advance(layer: &str, from: &str, to: &str) -> Payload {
    Payload::PhaseTransitioned(PhaseTransitioned {
        layer: layer.into(),
        from: from.into(),
        to: to.into(),
        reason: "done".into(),
    })
}

#[tokio::test]
async fn a_phase_advances_only_when_its_unretired_milestones_are_achieved() {
    let msg = rejected(
        when(base(), "rita", advance("tech", "A", "B")).await,
        Rule::Phase,
        "payload.to",
    );
    assert!(msg.ends_with("not achieved: M1, M2"), "{msg}");
    let done = with(
        base(),
        &[(
            "bob",
            status("E1", "not_started", "achieved", &["https://x.org"]),
        )],
    );
    accepted(when(done, "rita", advance("econ", "A", "B")).await);
}

#[tokio::test]
async fn a_phase_moves_from_the_current_phase_to_the_next_only() {
    rejected(
        when(base(), "rita", advance("econ", "B", "C")).await,
        Rule::Phase,
        "payload.from",
    );
    let done = with(
        base(),
        &[
            (
                "bob",
                status("E1", "not_started", "achieved", &["https://x.org"]),
            ),
            ("rita", advance("econ", "A", "B")),
        ],
    );
    rejected(
        when(done, "rita", advance("econ", "B", "C")).await,
        Rule::Phase,
        "payload.to",
    );
    rejected(
        when(base(), "rita", advance("moon", "A", "B")).await,
        Rule::Phase,
        "payload.layer",
    );
}

// ---- Rule 5: seasons ----

fn open(n: i64, starts: &str, focus: &[&str]) -> Payload {
    Payload::SeasonOpened(SeasonOpened {
        season: n,
        starts_on: starts.into(),
        intent: "i".into(),
        focus: focus.iter().map(|s| s.to_string()).collect(),
    })
}

fn close(n: i64, ends: &str, assessed: &[&str]) -> Payload {
    Payload::SeasonReEvaluated(SeasonReEvaluated {
        season: n,
        ends_on: ends.into(),
        summary: "s".into(),
        assessments: assessed
            .iter()
            .map(|m| Assessment {
                milestone: m.to_string(),
                note: "n".into(),
            })
            .collect(),
    })
}

#[tokio::test]
async fn seasons_open_one_at_a_time_and_count_up_by_one() {
    accepted(when(base(), "alice", open(6, "2024-06-27", &["M1"])).await);
    rejected(
        when(base(), "alice", open(0, "2024-06-27", &[])).await,
        Rule::Season,
        "payload.season",
    );
    let s6 = with(base(), &[("alice", open(6, "2024-06-27", &[]))]);
    rejected(
        when(s6.clone(), "alice", open(7, "2025-01-16", &[])).await,
        Rule::Season,
        "payload.season",
    );
    let closed = with(s6, &[("rita", close(6, "2024-12-11", &[]))]);
    rejected(
        when(closed.clone(), "alice", open(8, "2025-01-16", &[])).await,
        Rule::Season,
        "payload.season",
    );
    accepted(when(closed, "alice", open(7, "2025-01-16", &[])).await);
}

#[tokio::test]
async fn a_re_evaluation_closes_the_open_season_after_its_start() {
    let s6 = with(base(), &[("alice", open(6, "2024-06-27", &[]))]);
    rejected(
        when(base(), "rita", close(6, "2024-12-11", &[])).await,
        Rule::Season,
        "payload.season",
    );
    rejected(
        when(s6.clone(), "rita", close(5, "2024-12-11", &[])).await,
        Rule::Season,
        "payload.season",
    );
    rejected(
        when(s6.clone(), "rita", close(6, "2024-06-26", &[])).await,
        Rule::Season,
        "payload.ends_on",
    );
    accepted(when(s6, "rita", close(6, "2024-06-27", &["M1"])).await);
}

#[tokio::test]
async fn focus_and_assessments_name_defined_milestones() {
    rejected(
        when(base(), "alice", open(6, "2024-06-27", &["M1", "ghost"])).await,
        Rule::Season,
        "payload.focus[1]",
    );
    let s6 = with(base(), &[("alice", open(6, "2024-06-27", &[]))]);
    rejected(
        when(s6, "rita", close(6, "2024-12-11", &["ghost"])).await,
        Rule::Season,
        "payload.assessments[0].milestone",
    );
}

// ---- Rule 6: retired things ----

#[tokio::test]
async fn a_retired_milestone_takes_no_status_change_or_revision() {
    rejected(
        when(
            base(),
            "bob",
            status("R", "not_started", "in_progress", &[]),
        )
        .await,
        Rule::Retired,
        "payload.id",
    );
    let p = Payload::MilestoneRevised(MilestoneRevised {
        id: "R".into(),
        reason: "r".into(),
        title: Some("t".into()),
        ..Default::default()
    });
    rejected(when(base(), "alice", p).await, Rule::Retired, "payload.id");
}

#[tokio::test]
async fn a_retired_actor_signs_nothing_more() {
    rejected(
        when(base(), "old", milestone("M9", "tech", "A", &[])).await,
        Rule::Retired,
        "actor",
    );
}

// ---- Rule 7: replays ----

#[tokio::test]
async fn a_recorded_signature_is_not_accepted_again() {
    let s = sign_as("bob", status("M1", "not_started", "in_progress", &[]));
    let mut h = chain(with(
        base(),
        &[
            ("bob", status("M1", "not_started", "in_progress", &[])),
            ("bob", status("M1", "in_progress", "not_started", &[])),
        ],
    ));
    assert_eq!(h.last().map(|e| e.0.statement.actor.as_str()), Some("bob"));
    // The same statement again (same bytes, same signature): rules alone would accept it.
    let sigs: HashSet<String> = h.iter().map(|e| e.0.sig.clone()).collect();
    assert!(sigs.contains(&s.sig));
    let r = TestFramework::<Ledger>::with(LedgerServices {
        signatures: Arc::new(Recorded(sigs)),
        prechecked: None,
    })
    .given(std::mem::take(&mut h))
    .when_async(Record {
        ledger: LEDGER.into(),
        statements: vec![s],
    })
    .await
    .inspect_result();
    rejected(r, Rule::Replay, "sig");
}

#[tokio::test]
async fn the_same_statement_twice_in_one_batch_is_a_replay() {
    let s = sign_as("bob", status("M1", "not_started", "in_progress", &[]));
    let mut back = sign_as("bob", status("M1", "in_progress", "not_started", &[]));
    back.statement.issued_at = "2026-01-01T00:00:00.000000Z".into();
    match when_batch(base(), vec![s.clone(), back, s]).await {
        Err(LedgerError::Rejected {
            index: 2,
            rejection,
        }) => assert_eq!(rejection.rule, Rule::Replay),
        other => panic!("{other:?}"),
    }
}

// ---- Rule 8: limits ----

#[tokio::test]
async fn strings_evidence_and_statements_have_size_limits() {
    let mut p = MilestoneStatusChanged {
        id: "M1".into(),
        from: "not_started".into(),
        to: "in_progress".into(),
        reason: "é".repeat(4096),
        evidence: vec![],
        effective_on: None,
    };
    accepted(when(base(), "bob", Payload::MilestoneStatusChanged(p.clone())).await);
    p.reason.push('x');
    rejected(
        when(base(), "bob", Payload::MilestoneStatusChanged(p.clone())).await,
        Rule::Limits,
        "payload.reason",
    );
    p.reason = "r".into();
    p.evidence = (0..17).map(|i| format!("https://x.org/{i}")).collect();
    rejected(
        when(base(), "bob", Payload::MilestoneStatusChanged(p.clone())).await,
        Rule::Limits,
        "payload.evidence",
    );
    let big = Payload::MilestoneDefined(MilestoneDefined {
        id: "M9".into(),
        title: "t".into(),
        layer: "tech".into(),
        phase: "A".into(),
        description: "d".repeat(4000),
        principles: (0..20).map(|_| "p".repeat(4000)).collect(),
        depends_on: vec![],
    });
    rejected(when(base(), "alice", big).await, Rule::Limits, "statement");
}

/// SPEC v1.1 rule 8: an event's leaf bytes are at most 65,535 (one C2SP tile entry),
/// which binds before the 64 KiB statement limit does.
#[tokio::test]
async fn an_event_must_fit_one_tile_entry() {
    let seq = base().len() as u64 + 1;
    let leaf_len = |p: &Payload| {
        let s = sign_as("bob", p.clone());
        Event {
            statement: s.statement,
            seq,
            prev: Hash::ZERO,
            recorded_at: "2026-01-01T00:00:01.000000Z".into(),
            sig: s.sig,
        }
        .leaf_bytes()
        .len()
    };
    // Sixteen long evidence links, the last one cut to make the leaf `target` bytes.
    let sized = |target: usize| {
        let link = |n: usize| format!("https://x.org/{}", "a".repeat(n - 14));
        let mut p = MilestoneStatusChanged {
            id: "M1".into(),
            from: "not_started".into(),
            to: "in_progress".into(),
            reason: "r".into(),
            evidence: (0..16).map(|_| link(4096)).collect(),
            effective_on: None,
        };
        let over = leaf_len(&Payload::MilestoneStatusChanged(p.clone())) - target;
        p.evidence[15] = link(4096 - over);
        let p = Payload::MilestoneStatusChanged(p);
        assert_eq!(leaf_len(&p), target);
        p
    };
    let fits = sized(65_535);
    assert!(sign_as("bob", fits.clone()).statement.canonical().len() < 64 * 1024);
    accepted(when(base(), "bob", fits).await);
    let msg = rejected(
        when(base(), "bob", sized(65_536)).await,
        Rule::Limits,
        "statement",
    );
    assert!(msg.contains("65536 leaf bytes"), "{msg}");
}

// ---- Batches ----

#[tokio::test]
async fn a_batch_is_judged_in_order_and_fails_whole_naming_its_statement() {
    let ok = sign_as(
        "bob",
        status("M1", "not_started", "achieved", &["https://x.org"]),
    );
    let next = sign_as(
        "bob",
        status("M2", "not_started", "achieved", &["https://x.org"]),
    );
    let events = when_batch(base(), vec![ok.clone(), next]).await.unwrap();
    assert_eq!(events.len(), 2);
    let bad = sign_as(
        "bob",
        status("M3", "in_progress", "achieved", &["https://x.org"]),
    );
    match when_batch(base(), vec![ok, bad]).await {
        Err(LedgerError::Rejected {
            index: 1,
            rejection,
        }) => assert_eq!(rejection.field, "payload.from"),
        other => panic!("{other:?}"),
    }
}

/// A batch long enough that its signatures are checked ahead on other threads,
/// under the keys actors hold as it starts: a key rotated inside the batch must
/// still decide which signatures count, exactly as one by one.
fn toggles(k: std::ops::Range<usize>, signer: &SigningKey) -> Vec<Signed> {
    k.map(|i| {
        let (from, to) = if i % 2 == 0 {
            ("not_started", "in_progress")
        } else {
            ("in_progress", "not_started")
        };
        let payload = Payload::MilestoneStatusChanged(MilestoneStatusChanged {
            id: "M1".into(),
            from: from.into(),
            to: to.into(),
            reason: format!("toggle {i}"),
            evidence: vec![],
            effective_on: None,
        });
        signed_with("bob", signer, payload)
    })
    .collect()
}

#[tokio::test]
async fn a_key_rotated_inside_a_long_batch_decides_which_signatures_count() {
    let rotate = sign_as(
        "alice",
        Payload::ActorKeyRotated(ActorKeyRotated {
            actor: "bob".into(),
            public_key: encode_public_key(&key(77).verifying_key()),
        }),
    );
    // Old key before the rotation, new key after: all 25 recorded.
    let mut good = toggles(0..12, &key(3));
    good.push(rotate.clone());
    good.extend(toggles(12..24, &key(77)));
    let events = when_batch(base(), good).await.expect("the whole batch");
    assert_eq!(events.len(), 25);

    // The old key after the rotation (it verified under the key bob held as the
    // batch started): refused, at its own index.
    let mut bad = toggles(0..12, &key(3));
    bad.push(rotate);
    bad.extend(toggles(12..14, &key(77)));
    bad.extend(toggles(14..24, &key(3)));
    match when_batch(base(), bad).await {
        Err(LedgerError::Rejected { index, rejection }) => {
            assert_eq!(
                (index, rejection.rule),
                (15, Rule::Signature),
                "{rejection}"
            );
        }
        other => panic!("expected R1-signature at index 15, got {other:?}"),
    }
}

/// The same across several of the pre-verifier's steps (it hands its outcomes over
/// 32 statements at a time): the rotation in the second step, the stale signatures
/// in the third.
#[tokio::test]
async fn a_key_rotated_across_the_pre_verifiers_steps_decides_which_signatures_count() {
    let rotate = sign_as(
        "alice",
        Payload::ActorKeyRotated(ActorKeyRotated {
            actor: "bob".into(),
            public_key: encode_public_key(&key(78).verifying_key()),
        }),
    );
    let mut good = toggles(0..50, &key(3));
    good.push(rotate.clone());
    good.extend(toggles(50..120, &key(78)));
    let events = when_batch(base(), good).await.expect("the whole batch");
    assert_eq!(events.len(), 121);

    let mut bad = toggles(0..50, &key(3));
    bad.push(rotate);
    bad.extend(toggles(50..90, &key(78)));
    bad.extend(toggles(90..120, &key(3)));
    match when_batch(base(), bad).await {
        Err(LedgerError::Rejected { index, rejection }) => {
            assert_eq!(
                (index, rejection.rule),
                (91, Rule::Signature),
                "{rejection}"
            );
        }
        other => panic!("expected R1-signature at index 91, got {other:?}"),
    }
}

// ---- SPEC section 13: rules 9 to 12 (bodies, decisions, transfers, hypotheses) ----

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A design decided by `deciders` by vote, with no one else named.
fn decided_by(deciders: &[&str]) -> Design {
    Design {
        proposers: vec![],
        deciders: ids(deciders),
        process: "vote".into(),
        threshold_bps: None,
        quorum_bps: None,
        signers: None,
        vetoes: vec![],
        executors: vec![],
    }
}

fn veto(body: &str, bps: Option<i64>) -> Veto {
    Veto {
        body: body.into(),
        threshold_bps: bps,
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

fn body_retired(id: &str) -> Payload {
    Payload::BodyRetired(BodyRetired {
        id: id.into(),
        reason: "dissolved".into(),
    })
}

fn decision_def(id: &str, current: Design, target: Option<Design>) -> DecisionDefined {
    DecisionDefined {
        id: id.into(),
        title: format!("Decision {id}"),
        description: String::new(),
        layer: "tech".into(),
        principles: vec![],
        profile: Profile::default(),
        current,
        target,
        milestones: vec![],
        source: None,
    }
}

fn decision(id: &str, current: Design, target: Option<Design>) -> Payload {
    Payload::DecisionDefined(Box::new(decision_def(id, current, target)))
}

fn revised(id: &str) -> DecisionRevised {
    DecisionRevised {
        id: id.into(),
        reason: "clarified".into(),
        ..Default::default()
    }
}

fn transfer_of(decision: &str, from: Design, to: Design) -> AuthorityTransferred {
    AuthorityTransferred {
        decision: decision.into(),
        from,
        to,
        reason: "the vote passed".into(),
        evidence: vec!["https://gov.optimism.io/t/vote/1".into()],
        effective_on: "2025-05-01".into(),
    }
}

fn transfer(decision: &str, from: Design, to: Design) -> Payload {
    Payload::AuthorityTransferred(Box::new(transfer_of(decision, from, to)))
}

fn hypothesis(decision: &str, id: &str) -> HypothesisStated {
    HypothesisStated {
        decision: decision.into(),
        id: id.into(),
        statement: "retro funding rewards impact".into(),
        measure: "share of funded projects still active after a year".into(),
    }
}

fn conclusion(decision: &str, id: &str, outcome: &str) -> HypothesisConcluded {
    HypothesisConcluded {
        decision: decision.into(),
        id: id.into(),
        outcome: outcome.into(),
        note: "as measured".into(),
        evidence: vec!["https://example.org/report".into()],
    }
}

/// The current design of `upg`: the Foundation proposes, decides and executes; the
/// Token House can veto.
fn upg_current() -> Design {
    Design {
        proposers: ids(&["fnd"]),
        deciders: ids(&["fnd"]),
        process: "approval".into(),
        threshold_bps: None,
        quorum_bps: None,
        signers: None,
        vetoes: vec![veto("th", Some(3000))],
        executors: ids(&["fnd"]),
    }
}

/// The target of `upg`: the Token House proposes, it and the Security Council
/// decide, the Citizens' House can veto, the Council executes (10 of 13).
fn upg_target() -> Design {
    Design {
        proposers: ids(&["th"]),
        deciders: ids(&["sc", "th"]),
        process: "vote".into(),
        threshold_bps: Some(5000),
        quorum_bps: Some(3000),
        signers: Some(Signers { m: 10, n: 13 }),
        vetoes: vec![veto("ch", None)],
        executors: ids(&["sc"]),
    }
}

/// `base()` with principle `gm` in the framework, bodies `fnd` (foundation), `th`,
/// `ch` (houses), `sc` (council), `spare` (named by nothing), `gone` (retired);
/// decisions `upg` (current and target above, milestones M1 M2) and `grants`
/// (decided by `th`, no target); hypothesis `h1` of `upg` stated, `h0` concluded.
fn gov_base() -> Vec<(String, Payload)> {
    let mut h = base();
    if let Payload::LedgerOpened(p) = &mut h[0].1 {
        p.framework.principles.push(Principle {
            id: "gm".into(),
            title: "Governance minimization".into(),
        });
    }
    let mut upg = decision_def("upg", upg_current(), Some(upg_target()));
    upg.principles = ids(&["gm"]);
    upg.milestones = ids(&["M1", "M2"]);
    upg.source = Some("https://gov.optimism.io/t/om".into());
    upg.profile.stakes = Some("high".into());
    upg.profile.leverage = Some(5);
    with(
        h,
        &[
            ("alice", body("fnd", "foundation")),
            ("alice", body("th", "house")),
            ("alice", body("ch", "house")),
            ("alice", body("sc", "council")),
            ("alice", body("spare", "other")),
            ("alice", body("gone", "other")),
            ("alice", body_retired("gone")),
            ("alice", Payload::DecisionDefined(Box::new(upg))),
            ("alice", decision("grants", decided_by(&["th"]), None)),
            ("rita", Payload::HypothesisStated(hypothesis("upg", "h0"))),
            (
                "rita",
                Payload::HypothesisConcluded(conclusion("upg", "h0", "refuted")),
            ),
            ("rita", Payload::HypothesisStated(hypothesis("upg", "h1"))),
        ],
    )
}

// ---- Rule 9: bodies ----

#[tokio::test]
async fn a_body_with_a_fresh_id_a_known_kind_and_an_http_charter_is_defined() {
    for kind in BodyKind::ALL {
        accepted(when(gov_base(), "alice", body("new", kind.as_str())).await);
    }
    let mut b = BodyDefined {
        id: "bb".into(),
        title: "Budget Board".into(),
        kind: "board".into(),
        description: "d".into(),
        charter: Some("https://gov.optimism.io/charter".into()),
    };
    accepted(when(gov_base(), "alice", Payload::BodyDefined(b.clone())).await);
    b.charter = Some("ipfs://charter".into());
    rejected(
        when(gov_base(), "alice", Payload::BodyDefined(b)).await,
        Rule::Body,
        "payload.charter",
    );
}

#[tokio::test]
async fn body_ids_match_the_pattern_and_are_unique_even_once_retired() {
    for id in ["-x", "", "a b", &"b".repeat(65)] {
        rejected(
            when(gov_base(), "alice", body(id, "other")).await,
            Rule::Body,
            "payload.id",
        );
    }
    rejected(
        when(gov_base(), "alice", body("th", "house")).await,
        Rule::Body,
        "payload.id",
    );
    rejected(
        when(gov_base(), "alice", body("gone", "other")).await,
        Rule::Body,
        "payload.id",
    );
    // Bodies and milestones are separate namespaces.
    accepted(when(gov_base(), "alice", body("M1", "other")).await);
}

#[tokio::test]
async fn a_body_kind_is_one_of_the_eight() {
    for kind in ["guild", "Foundation", ""] {
        let msg = rejected(
            when(gov_base(), "alice", body("new", kind)).await,
            Rule::Body,
            "payload.kind",
        );
        assert!(msg.contains("foundation, house, council"), "{msg}");
    }
}

#[tokio::test]
async fn a_body_revision_names_a_live_body_and_changes_something() {
    let title = |id: &str| {
        Payload::BodyRevised(BodyRevised {
            id: id.into(),
            reason: "renamed".into(),
            title: Some("New title".into()),
            ..Default::default()
        })
    };
    accepted(when(gov_base(), "alice", title("th")).await);
    rejected(
        when(gov_base(), "alice", title("ghost")).await,
        Rule::Body,
        "payload.id",
    );
    rejected(
        when(gov_base(), "alice", title("gone")).await,
        Rule::Retired,
        "payload.id",
    );
    let nothing = Payload::BodyRevised(BodyRevised {
        id: "th".into(),
        reason: "r".into(),
        ..Default::default()
    });
    rejected(
        when(gov_base(), "alice", nothing).await,
        Rule::Body,
        "payload",
    );
    let charter = Payload::BodyRevised(BodyRevised {
        id: "th".into(),
        reason: "r".into(),
        charter: Some("gov.optimism.io".into()),
        ..Default::default()
    });
    rejected(
        when(gov_base(), "alice", charter).await,
        Rule::Body,
        "payload.charter",
    );
}

#[tokio::test]
async fn a_body_is_retired_once_and_only_while_no_design_names_it() {
    accepted(when(gov_base(), "alice", body_retired("spare")).await);
    rejected(
        when(gov_base(), "alice", body_retired("ghost")).await,
        Rule::Body,
        "payload.id",
    );
    rejected(
        when(gov_base(), "alice", body_retired("gone")).await,
        Rule::Retired,
        "payload.id",
    );
    // th decides grants and vetoes upg now, and is in upg's target: both listed.
    let msg = rejected(
        when(gov_base(), "alice", body_retired("th")).await,
        Rule::Body,
        "payload.id",
    );
    assert!(msg.contains("grants, upg"), "{msg}");
    // ch is named by upg's target only.
    let msg = rejected(
        when(gov_base(), "alice", body_retired("ch")).await,
        Rule::Body,
        "payload.id",
    );
    assert!(msg.contains("upg") && !msg.contains("grants"), "{msg}");
    // Once no design names it, it can go.
    let mut t = upg_target();
    t.vetoes = vec![];
    let moved = with(
        gov_base(),
        &[(
            "alice",
            Payload::DecisionRevised(Box::new(DecisionRevised {
                target: Some(t),
                ..revised("upg")
            })),
        )],
    );
    accepted(when(moved, "alice", body_retired("ch")).await);
}

// ---- Rule 10: decisions ----

#[tokio::test]
async fn a_decision_in_a_framework_layer_with_live_bodies_is_defined() {
    let mut d = decision_def("new", upg_current(), Some(upg_target()));
    d.principles = ids(&["gm"]);
    d.milestones = ids(&["E1", "M1"]);
    d.source = Some("https://gov.optimism.io/t/om".into());
    d.profile = Profile {
        cadence: Some("seasonal".into()),
        stakes: Some("low".into()),
        complexity: Some("multi".into()),
        answer: Some("judgement".into()),
        space: Some("concave".into()),
        leverage: Some(12),
    };
    accepted(when(gov_base(), "alice", Payload::DecisionDefined(Box::new(d))).await);
    // A suspended process may name no decider.
    let mut s = decided_by(&[]);
    s.process = "suspended".into();
    accepted(when(gov_base(), "alice", decision("paused", s, None)).await);
}

#[tokio::test]
async fn decision_ids_match_the_pattern_and_are_unique() {
    rejected(
        when(
            gov_base(),
            "alice",
            decision("-d", decided_by(&["th"]), None),
        )
        .await,
        Rule::Decision,
        "payload.id",
    );
    rejected(
        when(
            gov_base(),
            "alice",
            decision("upg", decided_by(&["th"]), None),
        )
        .await,
        Rule::Decision,
        "payload.id",
    );
    // Decisions, bodies and milestones are three namespaces.
    accepted(
        when(
            gov_base(),
            "alice",
            decision("th", decided_by(&["th"]), None),
        )
        .await,
    );
    accepted(
        when(
            gov_base(),
            "alice",
            decision("M1", decided_by(&["th"]), None),
        )
        .await,
    );
}

#[tokio::test]
async fn a_decision_names_a_framework_layer_and_framework_principles_in_order() {
    let mut d = decision_def("new", decided_by(&["th"]), None);
    d.layer = "social".into();
    rejected(
        when(gov_base(), "alice", Payload::DecisionDefined(Box::new(d))).await,
        Rule::Decision,
        "payload.layer",
    );
    let mut d = decision_def("new", decided_by(&["th"]), None);
    d.principles = ids(&["gm", "nope"]);
    rejected(
        when(
            gov_base(),
            "alice",
            Payload::DecisionDefined(Box::new(d.clone())),
        )
        .await,
        Rule::Decision,
        "payload.principles[1]",
    );
    d.principles = ids(&["gm", "gm"]);
    rejected(
        when(gov_base(), "alice", Payload::DecisionDefined(Box::new(d))).await,
        Rule::Decision,
        "payload.principles[1]",
    );
}

#[tokio::test]
async fn a_decisions_milestones_are_defined_unretired_and_sorted() {
    let with_milestones = |m: &[&str]| {
        let mut d = decision_def("new", decided_by(&["th"]), None);
        d.milestones = ids(m);
        Payload::DecisionDefined(Box::new(d))
    };
    for (m, field) in [
        (&["M1", "ghost"][..], "payload.milestones[1]"),
        (&["R"][..], "payload.milestones[0]"),
        (&["M2", "M1"][..], "payload.milestones[1]"),
        (&["M1", "M1"][..], "payload.milestones[1]"),
    ] {
        rejected(
            when(gov_base(), "alice", with_milestones(m)).await,
            Rule::Decision,
            field,
        );
    }
    accepted(when(gov_base(), "alice", with_milestones(&["E1", "M3"])).await);
}

#[tokio::test]
async fn a_recorded_design_is_canonical_and_never_repaired() {
    let cases: Vec<(Design, &str)> = vec![
        (decided_by(&["th", "sc"]), "payload.current.deciders[1]"),
        (decided_by(&["sc", "sc"]), "payload.current.deciders[1]"),
        (
            Design {
                proposers: ids(&["th", "fnd"]),
                ..decided_by(&["th"])
            },
            "payload.current.proposers[1]",
        ),
        (
            Design {
                vetoes: vec![veto("th", None), veto("ch", Some(10))],
                ..decided_by(&["sc"])
            },
            "payload.current.vetoes[1].body",
        ),
        (
            Design {
                vetoes: vec![veto("ch", None), veto("ch", Some(10))],
                ..decided_by(&["sc"])
            },
            "payload.current.vetoes[1].body",
        ),
        (
            Design {
                executors: ids(&["sc", "fnd"]),
                ..decided_by(&["th"])
            },
            "payload.current.executors[1]",
        ),
    ];
    for (design, field) in cases {
        rejected(
            when(gov_base(), "alice", decision("new", design, None)).await,
            Rule::Decision,
            field,
        );
    }
}

#[tokio::test]
async fn a_design_names_only_defined_unretired_bodies() {
    let cases: Vec<(Design, &str)> = vec![
        (decided_by(&["ghost"]), "payload.current.deciders[0]"),
        (decided_by(&["gone"]), "payload.current.deciders[0]"),
        (
            Design {
                proposers: ids(&["M1"]),
                ..decided_by(&["th"])
            },
            "payload.current.proposers[0]",
        ),
        (
            Design {
                vetoes: vec![veto("ch", None), veto("gone", None)],
                ..decided_by(&["th"])
            },
            "payload.current.vetoes[1].body",
        ),
        (
            Design {
                executors: ids(&["ghost"]),
                ..decided_by(&["th"])
            },
            "payload.current.executors[0]",
        ),
    ];
    for (design, field) in cases {
        rejected(
            when(gov_base(), "alice", decision("new", design, None)).await,
            Rule::Decision,
            field,
        );
    }
    rejected(
        when(
            gov_base(),
            "alice",
            decision("new", decided_by(&["th"]), Some(decided_by(&["gone"]))),
        )
        .await,
        Rule::Decision,
        "payload.target.deciders[0]",
    );
}

#[tokio::test]
async fn process_basis_points_and_signers_are_in_their_sets_and_ranges() {
    let base_design = decided_by(&["sc"]);
    let cases: Vec<(Design, &str)> = vec![
        (
            Design {
                process: "lottery".into(),
                ..base_design.clone()
            },
            "payload.current.process",
        ),
        (
            Design {
                process: "Vote".into(),
                ..base_design.clone()
            },
            "payload.current.process",
        ),
        (decided_by(&[]), "payload.current.deciders"),
        (
            Design {
                threshold_bps: Some(0),
                ..base_design.clone()
            },
            "payload.current.threshold_bps",
        ),
        (
            Design {
                threshold_bps: Some(10_001),
                ..base_design.clone()
            },
            "payload.current.threshold_bps",
        ),
        (
            Design {
                quorum_bps: Some(-5),
                ..base_design.clone()
            },
            "payload.current.quorum_bps",
        ),
        (
            Design {
                vetoes: vec![veto("ch", Some(10_001))],
                ..base_design.clone()
            },
            "payload.current.vetoes[0].threshold_bps",
        ),
        (
            Design {
                signers: Some(Signers { m: 0, n: 13 }),
                ..base_design.clone()
            },
            "payload.current.signers.m",
        ),
        (
            Design {
                signers: Some(Signers { m: 14, n: 13 }),
                ..base_design.clone()
            },
            "payload.current.signers.m",
        ),
        (
            Design {
                signers: Some(Signers { m: 10, n: 1001 }),
                ..base_design.clone()
            },
            "payload.current.signers.n",
        ),
    ];
    for (design, field) in cases {
        rejected(
            when(gov_base(), "alice", decision("new", design, None)).await,
            Rule::Decision,
            field,
        );
    }
    for p in Process::ALL {
        let d = Design {
            process: p.as_str().into(),
            ..base_design.clone()
        };
        accepted(when(gov_base(), "alice", decision("new", d, None)).await);
    }
    let edges = Design {
        threshold_bps: Some(1),
        quorum_bps: Some(10_000),
        signers: Some(Signers { m: 1000, n: 1000 }),
        vetoes: vec![veto("ch", Some(10_000))],
        ..base_design.clone()
    };
    accepted(when(gov_base(), "alice", decision("new", edges, None)).await);
    let one = Design {
        signers: Some(Signers { m: 1, n: 1 }),
        ..base_design
    };
    accepted(when(gov_base(), "alice", decision("new", one, None)).await);
}

#[tokio::test]
async fn profile_values_are_in_their_sets_and_a_source_is_an_http_url() {
    let with_profile = |p: Profile| {
        let mut d = decision_def("new", decided_by(&["th"]), None);
        d.profile = p;
        Payload::DecisionDefined(Box::new(d))
    };
    let cases = [
        (
            Profile {
                cadence: Some("daily".into()),
                ..Default::default()
            },
            "payload.profile.cadence",
        ),
        (
            Profile {
                stakes: Some("medium".into()),
                ..Default::default()
            },
            "payload.profile.stakes",
        ),
        (
            Profile {
                complexity: Some("simple".into()),
                ..Default::default()
            },
            "payload.profile.complexity",
        ),
        (
            Profile {
                answer: Some("opinion".into()),
                ..Default::default()
            },
            "payload.profile.answer",
        ),
        (
            Profile {
                space: Some("flat".into()),
                ..Default::default()
            },
            "payload.profile.space",
        ),
        (
            Profile {
                leverage: Some(0),
                ..Default::default()
            },
            "payload.profile.leverage",
        ),
        (
            Profile {
                leverage: Some(13),
                ..Default::default()
            },
            "payload.profile.leverage",
        ),
    ];
    for (p, field) in cases {
        rejected(
            when(gov_base(), "alice", with_profile(p)).await,
            Rule::Decision,
            field,
        );
    }
    let mut d = decision_def("new", decided_by(&["th"]), None);
    d.source = Some("www.optimism.io".into());
    rejected(
        when(gov_base(), "alice", Payload::DecisionDefined(Box::new(d))).await,
        Rule::Decision,
        "payload.source",
    );
}

#[tokio::test]
async fn a_decision_revision_names_a_decision_changes_something_and_is_checked() {
    let rev = |r: DecisionRevised| Payload::DecisionRevised(Box::new(r));
    accepted(
        when(
            gov_base(),
            "alice",
            rev(DecisionRevised {
                title: Some("Upgrades".into()),
                target: Some(decided_by(&["sc"])),
                milestones: Some(ids(&["M3"])),
                profile: Some(Profile::default()),
                ..revised("upg")
            }),
        )
        .await,
    );
    rejected(
        when(
            gov_base(),
            "alice",
            rev(DecisionRevised {
                title: Some("x".into()),
                ..revised("ghost")
            }),
        )
        .await,
        Rule::Decision,
        "payload.id",
    );
    rejected(
        when(gov_base(), "alice", rev(revised("upg"))).await,
        Rule::Decision,
        "payload",
    );
    rejected(
        when(
            gov_base(),
            "alice",
            rev(DecisionRevised {
                target: Some(decided_by(&["th", "fnd"])),
                ..revised("upg")
            }),
        )
        .await,
        Rule::Decision,
        "payload.target.deciders[1]",
    );
    rejected(
        when(
            gov_base(),
            "alice",
            rev(DecisionRevised {
                milestones: Some(ids(&["R"])),
                ..revised("upg")
            }),
        )
        .await,
        Rule::Decision,
        "payload.milestones[0]",
    );
    rejected(
        when(
            gov_base(),
            "alice",
            rev(DecisionRevised {
                profile: Some(Profile {
                    leverage: Some(99),
                    ..Default::default()
                }),
                ..revised("upg")
            }),
        )
        .await,
        Rule::Decision,
        "payload.profile.leverage",
    );
}

#[test]
fn a_revision_cannot_carry_current_only_a_transfer_moves_it() {
    let v = serde_json::json!({"id": "upg", "reason": "r", "current": serde_json::to_value(upg_target()).unwrap()});
    assert!(Payload::from_value(EventType::DecisionRevised, &v).is_err());
}

// ---- Rule 11: authority transfers ----

#[tokio::test]
async fn a_transfer_from_the_current_design_moves_it() {
    accepted(
        when(
            gov_base(),
            "rita",
            transfer("upg", upg_current(), upg_target()),
        )
        .await,
    );
    let moved = with(
        gov_base(),
        &[("rita", transfer("upg", upg_current(), upg_target()))],
    );
    // `current` is now the old target: the next transfer starts from it, not from the
    // design before.
    accepted(
        when(
            moved.clone(),
            "alice",
            transfer("upg", upg_target(), decided_by(&["th"])),
        )
        .await,
    );
    rejected(
        when(
            moved,
            "alice",
            transfer("upg", upg_current(), decided_by(&["th"])),
        )
        .await,
        Rule::Transfer,
        "payload.from",
    );
}

#[tokio::test]
async fn a_transfer_names_a_decision_and_really_moves_something() {
    rejected(
        when(
            gov_base(),
            "rita",
            transfer("ghost", decided_by(&["th"]), decided_by(&["sc"])),
        )
        .await,
        Rule::Transfer,
        "payload.decision",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            transfer("grants", decided_by(&["sc"]), decided_by(&["ch"])),
        )
        .await,
        Rule::Transfer,
        "payload.from",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            transfer("grants", decided_by(&["th"]), decided_by(&["th"])),
        )
        .await,
        Rule::Transfer,
        "payload.to",
    );
    // A threshold added is a change (designs compare as JCS bytes).
    let to = Design {
        threshold_bps: Some(5000),
        ..decided_by(&["th"])
    };
    accepted(
        when(
            gov_base(),
            "rita",
            transfer("grants", decided_by(&["th"]), to),
        )
        .await,
    );
}

#[tokio::test]
async fn a_transfer_needs_a_reason_evidence_and_a_real_date() {
    let t = || transfer_of("grants", decided_by(&["th"]), decided_by(&["sc"]));
    let boxed = |t: AuthorityTransferred| Payload::AuthorityTransferred(Box::new(t));
    rejected(
        when(
            gov_base(),
            "rita",
            boxed(AuthorityTransferred {
                reason: " ".into(),
                ..t()
            }),
        )
        .await,
        Rule::Transfer,
        "payload.reason",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            boxed(AuthorityTransferred {
                evidence: vec![],
                ..t()
            }),
        )
        .await,
        Rule::Transfer,
        "payload.evidence",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            boxed(AuthorityTransferred {
                evidence: ids(&["https://ok.org", "mailto:x@y.org"]),
                ..t()
            }),
        )
        .await,
        Rule::Transfer,
        "payload.evidence[1]",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            boxed(AuthorityTransferred {
                evidence: (0..17).map(|i| format!("https://x.org/{i}")).collect(),
                ..t()
            }),
        )
        .await,
        Rule::Limits,
        "payload.evidence",
    );
    for bad in ["2025-02-30", "2025-5-1", "0000-01-01", "yesterday"] {
        rejected(
            when(
                gov_base(),
                "rita",
                boxed(AuthorityTransferred {
                    effective_on: bad.into(),
                    ..t()
                }),
            )
            .await,
            Rule::Format,
            "payload.effective_on",
        );
    }
}

#[tokio::test]
async fn both_designs_of_a_transfer_are_recorded_designs() {
    rejected(
        when(
            gov_base(),
            "rita",
            transfer("grants", decided_by(&["th"]), decided_by(&["th", "sc"])),
        )
        .await,
        Rule::Decision,
        "payload.to.deciders[1]",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            transfer("grants", decided_by(&["th"]), decided_by(&["gone"])),
        )
        .await,
        Rule::Decision,
        "payload.to.deciders[0]",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            transfer(
                "grants",
                decided_by(&["th"]),
                Design {
                    process: "coup".into(),
                    ..decided_by(&["sc"])
                },
            ),
        )
        .await,
        Rule::Decision,
        "payload.to.process",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            transfer("grants", decided_by(&["ghost"]), decided_by(&["sc"])),
        )
        .await,
        Rule::Decision,
        "payload.from.deciders[0]",
    );
}

// ---- Rule 12: hypotheses ----

#[tokio::test]
async fn a_hypothesis_is_stated_once_per_decision_and_concluded_once() {
    accepted(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisStated(hypothesis("upg", "h2")),
        )
        .await,
    );
    // Unique within its decision only.
    accepted(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisStated(hypothesis("grants", "h1")),
        )
        .await,
    );
    rejected(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisStated(hypothesis("upg", "h1")),
        )
        .await,
        Rule::Hypothesis,
        "payload.id",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisStated(hypothesis("upg", "h0")),
        )
        .await,
        Rule::Hypothesis,
        "payload.id",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisStated(hypothesis("upg", "no way")),
        )
        .await,
        Rule::Hypothesis,
        "payload.id",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisStated(hypothesis("ghost", "h1")),
        )
        .await,
        Rule::Hypothesis,
        "payload.decision",
    );
    for outcome in Outcome::ALL {
        accepted(
            when(
                gov_base(),
                "rita",
                Payload::HypothesisConcluded(conclusion("upg", "h1", outcome.as_str())),
            )
            .await,
        );
    }
    rejected(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisConcluded(conclusion("upg", "h0", "supported")),
        )
        .await,
        Rule::Hypothesis,
        "payload.id",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisConcluded(conclusion("upg", "h9", "supported")),
        )
        .await,
        Rule::Hypothesis,
        "payload.id",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisConcluded(conclusion("grants", "h1", "supported")),
        )
        .await,
        Rule::Hypothesis,
        "payload.id",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisConcluded(conclusion("upg", "h1", "proven")),
        )
        .await,
        Rule::Hypothesis,
        "payload.outcome",
    );
}

#[tokio::test]
async fn statement_measure_and_note_are_not_empty_and_evidence_is_http() {
    rejected(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisStated(HypothesisStated {
                statement: String::new(),
                ..hypothesis("upg", "h2")
            }),
        )
        .await,
        Rule::Hypothesis,
        "payload.statement",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisStated(HypothesisStated {
                measure: "  ".into(),
                ..hypothesis("upg", "h2")
            }),
        )
        .await,
        Rule::Hypothesis,
        "payload.measure",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisConcluded(HypothesisConcluded {
                note: String::new(),
                ..conclusion("upg", "h1", "supported")
            }),
        )
        .await,
        Rule::Hypothesis,
        "payload.note",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisConcluded(HypothesisConcluded {
                evidence: ids(&["https://ok.org", "ftp://x.org"]),
                ..conclusion("upg", "h1", "supported")
            }),
        )
        .await,
        Rule::Hypothesis,
        "payload.evidence[1]",
    );
    // Evidence is optional for a conclusion.
    accepted(
        when(
            gov_base(),
            "rita",
            Payload::HypothesisConcluded(HypothesisConcluded {
                evidence: vec![],
                ..conclusion("upg", "h1", "inconclusive")
            }),
        )
        .await,
    );
}

// ---- Rules 1, 6, 7 and 8 on section 13's types ----

#[tokio::test]
async fn who_signs_section_13_statements() {
    // A reviewer moves authority and states hypotheses, but defines nothing.
    rejected(
        when(gov_base(), "rita", body("new", "board")).await,
        Rule::Signer,
        "actor",
    );
    rejected(
        when(
            gov_base(),
            "rita",
            decision("new", decided_by(&["th"]), None),
        )
        .await,
        Rule::Signer,
        "actor",
    );
    // A reporter does none of it.
    let msg = rejected(
        when(
            gov_base(),
            "bob",
            transfer("grants", decided_by(&["th"]), decided_by(&["sc"])),
        )
        .await,
        Rule::Signer,
        "actor",
    );
    assert!(msg.contains("steward, reviewer"), "{msg}");
    rejected(
        when(
            gov_base(),
            "bob",
            Payload::HypothesisStated(hypothesis("upg", "h2")),
        )
        .await,
        Rule::Signer,
        "actor",
    );
    rejected(
        when(gov_base(), "old", body("new", "board")).await,
        Rule::Retired,
        "actor",
    );
}

#[tokio::test]
async fn a_recorded_section_13_statement_is_not_accepted_again() {
    // Authority moves to sc and back to th: the first transfer, signed again (the same
    // bytes, the same signature), passes every other rule but is a replay.
    let there = transfer("grants", decided_by(&["th"]), decided_by(&["sc"]));
    let back = transfer("grants", decided_by(&["sc"]), decided_by(&["th"]));
    let h = with(gov_base(), &[("rita", there.clone()), ("rita", back)]);
    accepted(
        when_batch(
            h.clone(),
            vec![signed_with("rita", &key(2), {
                let mut t = transfer_of("grants", decided_by(&["th"]), decided_by(&["sc"]));
                t.reason = "moved again".into();
                Payload::AuthorityTransferred(Box::new(t))
            })],
        )
        .await,
    );
    rejected(when(h, "rita", there).await, Rule::Replay, "sig");
}

#[tokio::test]
async fn section_13_strings_are_limited_like_all_others() {
    let mut b = BodyDefined {
        id: "long".into(),
        title: "t".into(),
        kind: "other".into(),
        description: "é".repeat(4096),
        charter: None,
    };
    accepted(when(gov_base(), "alice", Payload::BodyDefined(b.clone())).await);
    b.description.push('x');
    rejected(
        when(gov_base(), "alice", Payload::BodyDefined(b)).await,
        Rule::Limits,
        "payload.description",
    );
    let mut d = decided_by(&["th"]);
    d.proposers = vec![format!("{}", "p".repeat(4097))];
    rejected(
        when(gov_base(), "alice", decision("new", d, None)).await,
        Rule::Limits,
        "payload.current.proposers[0]",
    );
}
