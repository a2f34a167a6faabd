//! The small hand-built ledger shared by the projection tests: ten events before season 7,
//! the season (seq 10 opens it, seq 20 re-evaluates it), and the statuses and history rows
//! the real folds compute after every event. The events are unsigned (review and the folds
//! do not check signatures).
#![allow(dead_code)] // each test file uses its own part

use waymark_events::{
    ActorRegistered, Assessment, AuthorityTransferred, BodyDefined, BodyRetired, DecisionDefined,
    DecisionRevised, Design, Event, Founder, Framework, Hash, HypothesisConcluded,
    HypothesisStated, LayerDef, LedgerOpened, MilestoneDefined, MilestoneRetired, MilestoneRevised,
    MilestoneStatusChanged, Payload, PhaseDef, PhaseTransitioned, Profile, SeasonOpened,
    SeasonReEvaluated, Signers, Statement, Veto,
};
use waymark_projections::{review, HistoryFold, HistoryRow, SeasonReview, Status, StatusFold};

pub const SCRIPT_REASON: &str = "Shipped <script>alert(1)</script> | see \"notes\" & more";

pub struct Ledger {
    pub events: Vec<(Event, Hash)>,
    statuses: Vec<Status>,
    rows: Vec<HistoryRow>,
    status_fold: StatusFold,
    history_fold: HistoryFold,
}

impl Ledger {
    pub fn new() -> Self {
        Ledger {
            events: Vec::new(),
            statuses: Vec::new(),
            rows: Vec::new(),
            status_fold: StatusFold::new(),
            history_fold: HistoryFold::new(),
        }
    }

    pub fn push(&mut self, actor: &str, payload: Payload) {
        let seq = self.events.len() as u64 + 1;
        let at = format!("2025-01-{seq:02}T00:00:00.000000Z");
        let event = Event {
            statement: Statement::new("demo", actor, &at, payload),
            seq,
            prev: self.events.last().map_or(Hash::ZERO, |(_, h)| *h),
            recorded_at: at,
            sig: format!("unsigned-{seq}"),
        };
        let hash = event.hash();
        self.status_fold.apply(&event, &hash);
        self.statuses.push(self.status_fold.status());
        self.rows.push(self.history_fold.row(&event, &hash));
        self.events.push((event, hash));
    }

    /// The status after event `seq`.
    pub fn at(&self, seq: usize) -> &Status {
        &self.statuses[seq - 1]
    }

    /// Events and rows `from..=to` (seqs).
    pub fn range(&self, from: usize, to: usize) -> (&[(Event, Hash)], &[HistoryRow]) {
        (&self.events[from - 1..to], &self.rows[from - 1..to])
    }
}

pub fn define(id: &str, title: &str, layer: &str, phase: &str, deps: &[&str]) -> Payload {
    Payload::MilestoneDefined(MilestoneDefined {
        id: id.into(),
        title: title.into(),
        layer: layer.into(),
        phase: phase.into(),
        description: String::new(),
        principles: Vec::new(),
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
    })
}

pub fn set(id: &str, from: &str, to: &str, reason: &str, evidence: &[&str]) -> Payload {
    Payload::MilestoneStatusChanged(MilestoneStatusChanged {
        id: id.into(),
        from: from.into(),
        to: to.into(),
        reason: reason.into(),
        evidence: evidence.iter().map(|e| e.to_string()).collect(),
        effective_on: None,
    })
}

pub fn register(actor: &str, name: &str, role: &str) -> Payload {
    Payload::ActorRegistered(ActorRegistered {
        actor: actor.into(),
        name: name.into(),
        roles: vec![role.into()],
        public_key: String::new(),
    })
}

/// Seq 10 opens season 7 (focus T-A2, T-B1, T-C1); seq 20 re-evaluates it.
pub fn ledger() -> Ledger {
    let layer = |id: &str, title: &str, phases: &[&str]| LayerDef {
        id: id.into(),
        title: title.into(),
        phases: phases.iter().map(|p| p.to_string()).collect(),
    };
    let phase = |id: &str| PhaseDef {
        id: id.into(),
        title: format!("Phase {id}"),
        description: String::new(),
    };
    let mut l = Ledger::new();
    l.push(
        "foundation",
        Payload::LedgerOpened(LedgerOpened {
            title: "Demo".into(),
            origin: "demo.example/log".into(),
            log_key: "demo.example/log+00000000+AQ==".into(),
            founder: Founder {
                actor: "foundation".into(),
                name: "Optimism Foundation".into(),
                public_key: String::new(),
            },
            framework: Framework {
                id: "demo".into(),
                version: "1".into(),
                title: "Demo framework".into(),
                principles: Vec::new(),
                layers: vec![
                    layer("technical", "Technical", &["A", "B", "C"]),
                    layer("social", "Social", &["A", "B"]),
                ],
                phases: vec![phase("A"), phase("B"), phase("C")],
            },
        }),
    );
    l.push("foundation", register("rev", "Metrics Council", "reviewer"));
    l.push("foundation", register("rep", "Reporter", "reporter"));
    l.push(
        "foundation",
        define("T-A1", "Fault proofs", "technical", "A", &[]),
    );
    l.push(
        "foundation",
        define("T-A2", "Security Council", "technical", "A", &[]),
    );
    l.push(
        "foundation",
        define("T-B1", "Stage 1", "technical", "B", &["T-A1"]),
    );
    l.push(
        "foundation",
        define(
            "T-C1",
            "Stage 2 <b> & \"more\"",
            "technical",
            "C",
            &["T-B1"],
        ),
    );
    l.push(
        "foundation",
        define("S-1", "Citizenship", "social", "A", &[]),
    );
    l.push(
        "rev",
        set(
            "T-A1",
            "not_started",
            "achieved",
            "live",
            &["https://example.org/a1"],
        ),
    );
    l.push(
        "foundation",
        Payload::SeasonOpened(SeasonOpened {
            season: 7,
            starts_on: "2025-01-16".into(),
            intent: "Interoperable Stage 1 chains".into(),
            focus: vec!["T-A2".into(), "T-B1".into(), "T-C1".into()],
        }),
    );
    l.push(
        "rep",
        set("T-A2", "not_started", "in_progress", "started", &[]),
    );
    l.push(
        "rev",
        set(
            "T-A2",
            "in_progress",
            "achieved",
            SCRIPT_REASON,
            &["https://example.org/a2", "ipfs://not-a-web-link"],
        ),
    );
    l.push(
        "rev",
        set("T-A1", "achieved", "in_progress", "proofs paused", &[]),
    );
    l.push(
        "rev",
        set(
            "T-A1",
            "in_progress",
            "achieved",
            "proofs back",
            &["https://example.org/a1b"],
        ),
    );
    l.push(
        "foundation",
        Payload::PhaseTransitioned(PhaseTransitioned {
            layer: "technical".into(),
            from: "A".into(),
            to: "B".into(),
            reason: "Phase A done".into(),
        }),
    );
    l.push(
        "rep",
        set("T-B1", "not_started", "in_progress", "work began", &[]),
    );
    l.push(
        "foundation",
        define("S-2", "Feedback Commission", "social", "B", &[]),
    );
    l.push(
        "foundation",
        Payload::MilestoneRevised(MilestoneRevised {
            id: "S-1".into(),
            reason: "renamed".into(),
            title: Some("Citizenship (row 23)".into()),
            ..Default::default()
        }),
    );
    l.push(
        "foundation",
        Payload::MilestoneRetired(MilestoneRetired {
            id: "S-2".into(),
            reason: "not continued".into(),
        }),
    );
    l.push(
        "rev",
        Payload::SeasonReEvaluated(SeasonReEvaluated {
            season: 7,
            ends_on: "2025-06-11".into(),
            summary: "Phase A done.\nStage 1 still pending.".into(),
            assessments: vec![Assessment {
                milestone: "T-B1".into(),
                note: "proofs in review".into(),
            }],
        }),
    );
    l
}

pub fn season_review(l: &Ledger) -> SeasonReview {
    let (events, rows) = l.range(10, 20);
    review(7, l.at(10), l.at(20), events, rows).unwrap()
}

/// Tags balance (void HTML elements and `<…/>` excepted); declarations and comments skipped.
pub fn assert_balanced(doc: &str) {
    const VOID: [&str; 3] = ["meta", "br", "hr"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = doc;
    while let Some(i) = rest.find('<') {
        let end = rest[i..].find('>').expect("unclosed <") + i;
        let tag = &rest[i + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') || tag.ends_with('/') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(!name.is_empty(), "not a tag: <{tag}>");
        if let Some(closing) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(closing),
                "mismatched </{closing}>"
            );
        } else if !VOID.contains(&name.as_str()) {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

/// A design from its lists; `vetoes` as `(body, threshold_bps)`.
pub fn design(
    proposers: &[&str],
    deciders: &[&str],
    process: &str,
    vetoes: &[(&str, Option<i64>)],
    executors: &[&str],
) -> Design {
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Design {
        proposers: ids(proposers),
        deciders: ids(deciders),
        process: process.into(),
        threshold_bps: None,
        quorum_bps: None,
        signers: None,
        vetoes: vetoes
            .iter()
            .map(|(b, t)| Veto {
                body: b.to_string(),
                threshold_bps: *t,
            })
            .collect(),
        executors: ids(executors),
    }
}

pub fn body(id: &str, title: &str, kind: &str) -> Payload {
    Payload::BodyDefined(BodyDefined {
        id: id.into(),
        title: title.into(),
        kind: kind.into(),
        description: String::new(),
        charter: None,
    })
}

pub fn decision(
    id: &str,
    title: &str,
    layer: &str,
    current: Design,
    target: Option<Design>,
) -> Payload {
    Payload::DecisionDefined(Box::new(DecisionDefined {
        id: id.into(),
        title: title.into(),
        description: String::new(),
        layer: layer.into(),
        principles: Vec::new(),
        profile: Profile::default(),
        current,
        target,
        milestones: Vec::new(),
        source: None,
    }))
}

pub fn transfer(
    decision: &str,
    from: Design,
    to: Design,
    reason: &str,
    evidence: &[&str],
) -> Payload {
    Payload::AuthorityTransferred(Box::new(AuthorityTransferred {
        decision: decision.into(),
        from,
        to,
        reason: reason.into(),
        evidence: evidence.iter().map(|e| e.to_string()).collect(),
        effective_on: "2025-07-01".into(),
    }))
}

/// The current design of `upgrades` before season 8: the Foundation decides at its
/// discretion, the Token House vetoes.
pub fn upgrades_2024() -> Design {
    design(&["fnd"], &["fnd"], "discretion", &[("th", None)], &["fnd"])
}

/// `upgrades` after its transfer in season 8: the Foundation and the Token House decide
/// by vote (51%), the Citizens' House vetoes at 30%, the Security Council executes.
pub fn upgrades_2025() -> Design {
    Design {
        threshold_bps: Some(5100),
        ..design(
            &["fnd"],
            &["fnd", "th"],
            "vote",
            &[("ch", Some(3000))],
            &["sc"],
        )
    }
}

/// `upgrades`' target: the Token House alone decides (76%, quorum 30%).
pub fn upgrades_target() -> Design {
    Design {
        threshold_bps: Some(7600),
        quorum_bps: Some(3000),
        ..design(&["fnd"], &["th"], "vote", &[("ch", Some(2000))], &["sc"])
    }
}

/// `fund`, at its target until season 8 raises the Token House's veto threshold.
pub fn fund_2024() -> Design {
    design(
        &["th"],
        &["th"],
        "optimistic",
        &[("ch", Some(2000)), ("th", Some(2000))],
        &["fnd"],
    )
}

pub fn fund_2025() -> Design {
    design(
        &["th"],
        &["th"],
        "optimistic",
        &[("ch", Some(2000)), ("th", Some(2500))],
        &["fnd"],
    )
}

pub fn guardian_2024() -> Design {
    Design {
        signers: Some(Signers { m: 10, n: 13 }),
        ..design(&[], &["sc"], "multisig", &[], &["fnd", "sc"])
    }
}

pub fn guardian_2025() -> Design {
    Design {
        signers: Some(Signers { m: 8, n: 12 }),
        ..design(&[], &["sc"], "multisig", &[("th", None)], &["sc"])
    }
}

/// [`ledger`] (seq 1-20), then five bodies (seq 21-25: a foundation, two houses, two
/// councils) and three decision modules (seq 26-28: `upgrades` with a target it has not
/// reached, `fund` at its target, `guardian` without one), and season 8 (seq 29 opens it,
/// seq 38 re-evaluates it) with three authority transfers (`fund`'s loses its target), a
/// hypothesis stated and concluded, two revisions (`guardian`'s sets a target it is at)
/// and a body retired.
pub fn governance_ledger() -> Ledger {
    let mut l = ledger();
    for (id, title, kind) in [
        ("fnd", "Optimism Foundation", "foundation"),
        ("th", "Token House", "house"),
        ("ch", "Citizens' House", "house"),
        ("sc", "Security Council", "council"),
        ("cfc", "Collective Feedback Commission", "commission"),
    ] {
        l.push("foundation", body(id, title, kind));
    }
    l.push(
        "foundation",
        decision(
            "upgrades",
            "Protocol upgrades",
            "technical",
            upgrades_2024(),
            Some(upgrades_target()),
        ),
    );
    let fund = design(
        &["th"],
        &["th"],
        "optimistic",
        &[("ch", Some(2000)), ("th", Some(2000))],
        &["fnd"],
    );
    l.push(
        "foundation",
        decision(
            "fund",
            "Governance Fund",
            "social",
            fund.clone(),
            Some(fund),
        ),
    );
    l.push(
        "foundation",
        decision(
            "guardian",
            "Emergency actions <Guardian> & \"pause\"",
            "technical",
            guardian_2024(),
            None,
        ),
    );
    l.push(
        "foundation",
        Payload::SeasonOpened(SeasonOpened {
            season: 8,
            starts_on: "2025-06-12".into(),
            intent: "Move decisions out of the Foundation".into(),
            focus: vec!["T-B1".into()],
        }),
    );
    l.push(
        "rev",
        transfer(
            "upgrades",
            upgrades_2024(),
            upgrades_2025(),
            "Upgrade vote ratified | see \"notes\"",
            &["https://example.org/vote", "ipfs://not-a-web-link"],
        ),
    );
    l.push(
        "rev",
        Payload::HypothesisStated(HypothesisStated {
            decision: "upgrades".into(),
            id: "h-turnout".into(),
            statement: "Token House turnout stays above the quorum".into(),
            measure: "votable supply share voting, per upgrade".into(),
        }),
    );
    l.push(
        "rev",
        transfer(
            "guardian",
            guardian_2024(),
            guardian_2025(),
            "Council resized",
            &["https://example.org/council"],
        ),
    );
    l.push(
        "rev",
        Payload::HypothesisConcluded(HypothesisConcluded {
            decision: "upgrades".into(),
            id: "h-turnout".into(),
            outcome: "inconclusive".into(),
            note: "only two upgrades <so far>".into(),
            evidence: vec!["https://example.org/turnout".into()],
        }),
    );
    l.push(
        "foundation",
        Payload::DecisionRevised(Box::new(DecisionRevised {
            id: "fund".into(),
            reason: "renamed".into(),
            title: Some("Governance Fund (grants)".into()),
            milestones: Some(vec!["S-1".into()]),
            ..Default::default()
        })),
    );
    l.push(
        "foundation",
        Payload::DecisionRevised(Box::new(DecisionRevised {
            id: "guardian".into(),
            reason: "end state published".into(),
            target: Some(guardian_2025()),
            ..Default::default()
        })),
    );
    l.push(
        "rev",
        transfer(
            "fund",
            fund_2024(),
            fund_2025(),
            "Veto threshold raised",
            &["https://example.org/veto"],
        ),
    );
    l.push(
        "foundation",
        Payload::BodyRetired(BodyRetired {
            id: "cfc".into(),
            reason: "the Commission ended".into(),
        }),
    );
    l.push(
        "rev",
        Payload::SeasonReEvaluated(SeasonReEvaluated {
            season: 8,
            ends_on: "2025-12-31".into(),
            summary: "Two transfers.".into(),
            assessments: Vec::new(),
        }),
    );
    l
}

/// The review of season 8 of [`governance_ledger`].
pub fn governance_review(l: &Ledger) -> SeasonReview {
    let (events, rows) = l.range(29, 38);
    review(8, l.at(29), l.at(38), events, rows).unwrap()
}
