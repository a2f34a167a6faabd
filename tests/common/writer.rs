//! Random valid histories: operations that a `Writer` turns into signed statements
//! (the write path decides which are valid).

use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use std::collections::BTreeMap;
use waymark::Signed;
use waymark_events::*;

#[derive(Debug, Clone)]
pub enum Op {
    Define {
        layer: u8,
        phase: u8,
        deps: Vec<u8>,
    },
    Set {
        m: u8,
        to: u8,
        by_reviewer: bool,
    },
    Revise {
        m: u8,
        what: u8,
        arg: u8,
    },
    Retire {
        m: u8,
    },
    Advance {
        layer: u8,
    },
    OpenSeason {
        focus: Vec<u8>,
    },
    CloseSeason {
        assess: Vec<u8>,
    },
    // SPEC section 13.
    DefineBody {
        kind: u8,
    },
    RetireBody {
        b: u8,
    },
    DefineDecision {
        deciders: Vec<u8>,
        process: u8,
        target: Option<Vec<u8>>,
        ms: Vec<u8>,
    },
    ReviseDecision {
        d: u8,
        target: Vec<u8>,
    },
    Transfer {
        d: u8,
        deciders: Vec<u8>,
        process: u8,
        veto: Option<u8>,
    },
    StateHypothesis {
        d: u8,
    },
    ConcludeHypothesis {
        d: u8,
        h: u8,
        outcome: u8,
    },
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<u8>(), any::<u8>(), prop::collection::vec(any::<u8>(), 0..3))
            .prop_map(|(layer, phase, deps)| Op::Define { layer, phase, deps }),
        6 => (any::<u8>(), 0u8..3, any::<bool>())
            .prop_map(|(m, to, by_reviewer)| Op::Set { m, to, by_reviewer }),
        1 => (any::<u8>(), 0u8..3, any::<u8>()).prop_map(|(m, what, arg)| Op::Revise { m, what, arg }),
        1 => any::<u8>().prop_map(|m| Op::Retire { m }),
        1 => any::<u8>().prop_map(|layer| Op::Advance { layer }),
        1 => prop::collection::vec(any::<u8>(), 0..3).prop_map(|focus| Op::OpenSeason { focus }),
        1 => prop::collection::vec(any::<u8>(), 0..3).prop_map(|assess| Op::CloseSeason { assess }),
        2 => any::<u8>().prop_map(|kind| Op::DefineBody { kind }),
        1 => any::<u8>().prop_map(|b| Op::RetireBody { b }),
        2 => (
            prop::collection::vec(any::<u8>(), 0..3),
            any::<u8>(),
            prop::option::of(prop::collection::vec(any::<u8>(), 1..3)),
            prop::collection::vec(any::<u8>(), 0..2),
        )
            .prop_map(|(deciders, process, target, ms)| Op::DefineDecision { deciders, process, target, ms }),
        1 => (any::<u8>(), prop::collection::vec(any::<u8>(), 1..3))
            .prop_map(|(d, target)| Op::ReviseDecision { d, target }),
        3 => (any::<u8>(), prop::collection::vec(any::<u8>(), 0..3), any::<u8>(), prop::option::of(any::<u8>()))
            .prop_map(|(d, deciders, process, veto)| Op::Transfer { d, deciders, process, veto }),
        1 => any::<u8>().prop_map(|d| Op::StateHypothesis { d }),
        1 => (any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(d, h, outcome)| Op::ConcludeHypothesis { d, h, outcome }),
    ]
}

const KINDS: [&str; 4] = ["foundation", "house", "council", "multisig"];
const PROCESSES: [&str; 4] = ["vote", "approval", "optimistic", "suspended"];
const OUTCOMES: [&str; 3] = ["supported", "refuted", "inconclusive"];

const LAYERS: [&str; 2] = ["tech", "gov"];
const PHASES: [&str; 3] = ["A", "B", "C"];
const STATUSES: [&str; 3] = ["not_started", "in_progress", "achieved"];

/// A framework whose layers all go through the same phases (tests and benches).
pub fn framework(id: &str, title: &str, layers: &[&str], phases: &[&str]) -> Framework {
    Framework {
        id: id.into(),
        version: "1".into(),
        title: title.into(),
        principles: vec![],
        layers: layers
            .iter()
            .map(|l| LayerDef {
                id: l.to_string(),
                title: l.to_uppercase(),
                phases: phases.iter().map(|p| p.to_string()).collect(),
            })
            .collect(),
        phases: phases
            .iter()
            .map(|p| PhaseDef {
                id: p.to_string(),
                title: format!("Phase {p}"),
                description: String::new(),
            })
            .collect(),
    }
}

/// `LedgerOpened` of a test or bench ledger: founder "founder", the log key from a
/// fixed seed.
pub fn ledger_opened(
    title: &str,
    origin: &str,
    founder: &SigningKey,
    framework: Framework,
) -> Payload {
    Payload::LedgerOpened(LedgerOpened {
        title: title.into(),
        origin: origin.into(),
        log_key: verifier_key(origin, &SigningKey::from_bytes(&[3; 32]).verifying_key()),
        founder: Founder {
            actor: "founder".into(),
            name: "Founder".into(),
            public_key: encode_public_key(&founder.verifying_key()),
        },
        framework,
    })
}

pub struct Writer {
    ledger: String,
    founder: SigningKey,
    reviewer: SigningKey,
    clock: u64,
    milestones: Vec<String>,
    status: BTreeMap<String, String>,
    phase: BTreeMap<String, usize>,
    season: i64,
    open: bool,
    /// Section 13: bodies (and whether retired), each decision's current design, and
    /// the hypotheses stated per decision (with whether concluded).
    bodies: Vec<(String, bool)>,
    decisions: Vec<(String, Design)>,
    hypotheses: BTreeMap<String, Vec<(String, bool)>>,
}

impl Writer {
    pub fn new(ledger: &str) -> Self {
        Writer {
            ledger: ledger.into(),
            founder: SigningKey::from_bytes(&[7; 32]),
            reviewer: SigningKey::from_bytes(&[9; 32]),
            clock: 0,
            milestones: Vec::new(),
            status: BTreeMap::new(),
            phase: LAYERS.iter().map(|l| (l.to_string(), 0)).collect(),
            season: 0,
            open: false,
            bodies: Vec::new(),
            decisions: Vec::new(),
            hypotheses: BTreeMap::new(),
        }
    }

    /// Unretired bodies picked by `ns`, sorted, without repeats (a canonical id list).
    fn pick_bodies(&self, ns: &[u8]) -> Vec<String> {
        let live: Vec<&String> = self.bodies.iter().filter(|b| !b.1).map(|b| &b.0).collect();
        let mut out: Vec<String> = ns
            .iter()
            .filter(|_| !live.is_empty())
            .map(|n| live[*n as usize % live.len()].clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// A canonical design over the live bodies.
    fn design(&self, deciders: &[u8], process: u8, veto: Option<u8>) -> Design {
        let deciders = self.pick_bodies(deciders);
        let process = PROCESSES[process as usize % PROCESSES.len()];
        Design {
            proposers: deciders.iter().take(1).cloned().collect(),
            threshold_bps: (process == "vote").then_some(5000),
            quorum_bps: None,
            signers: None,
            vetoes: veto
                .map(|v| self.pick_bodies(&[v]))
                .unwrap_or_default()
                .into_iter()
                .map(|body| Veto {
                    body,
                    threshold_bps: Some(1200),
                })
                .collect(),
            executors: deciders.iter().take(1).cloned().collect(),
            process: process.into(),
            deciders,
        }
    }

    fn pick_decision(&self, d: u8) -> Option<(String, Design)> {
        (!self.decisions.is_empty())
            .then(|| self.decisions[d as usize % self.decisions.len()].clone())
    }

    fn sign(&mut self, reviewer: bool, payload: Payload) -> Signed {
        self.clock += 1;
        let (actor, key) = if reviewer {
            ("rev", &self.reviewer)
        } else {
            ("founder", &self.founder)
        };
        let at = format_timestamp(1_700_000_000_000_000 + self.clock as i64 * 1_000_000);
        let statement = Statement::new(&self.ledger, actor, &at, payload);
        Signed {
            sig: sign(&statement, key),
            statement,
        }
    }

    pub fn opening(&mut self) -> Vec<Signed> {
        let framework = framework("prop", "Property-test framework", &LAYERS, &PHASES);
        let opened = ledger_opened(
            "prop",
            &format!("waymark.test/{}", self.ledger),
            &self.founder,
            framework,
        );
        let reviewer = Payload::ActorRegistered(ActorRegistered {
            actor: "rev".into(),
            name: "Reviewer".into(),
            roles: vec!["reviewer".into()],
            public_key: encode_public_key(&self.reviewer.verifying_key()),
        });
        vec![self.sign(false, opened), self.sign(false, reviewer)]
    }

    fn pick(&self, n: u8) -> Option<String> {
        (!self.milestones.is_empty())
            .then(|| self.milestones[n as usize % self.milestones.len()].clone())
    }

    fn picks(&self, ns: &[u8]) -> Vec<String> {
        let mut out: Vec<String> = ns.iter().filter_map(|n| self.pick(*n)).collect();
        out.sort();
        out.dedup();
        out
    }

    /// The statement for an operation, or None when it cannot even be formed.
    pub fn statement(&mut self, op: &Op) -> Option<Signed> {
        let reason = "property test".to_string();
        let (reviewer, payload) = match op {
            Op::Define { layer, phase, deps } => {
                let id = format!("m{}", self.milestones.len());
                let payload = Payload::MilestoneDefined(MilestoneDefined {
                    id,
                    title: format!("Milestone {}", self.milestones.len()),
                    layer: LAYERS[*layer as usize % 2].into(),
                    phase: PHASES[*phase as usize % 3].into(),
                    description: String::new(),
                    principles: vec![],
                    depends_on: self.picks(deps),
                });
                (false, payload)
            }
            Op::Set { m, to, by_reviewer } => {
                let id = self.pick(*m)?;
                let from = self
                    .status
                    .get(&id)
                    .cloned()
                    .unwrap_or("not_started".into());
                let to = STATUSES[*to as usize].to_string();
                let evidence = if to == "achieved" {
                    vec![format!("https://example.org/{id}")]
                } else {
                    vec![]
                };
                let payload = Payload::MilestoneStatusChanged(MilestoneStatusChanged {
                    id,
                    from,
                    to,
                    reason,
                    evidence,
                    effective_on: None,
                });
                (*by_reviewer, payload)
            }
            Op::Revise { m, what, arg } => {
                let id = self.pick(*m)?;
                let mut r = MilestoneRevised {
                    id: id.clone(),
                    reason,
                    title: None,
                    description: None,
                    phase: None,
                    principles: None,
                    depends_on: None,
                };
                match what {
                    0 => r.title = Some(format!("Renamed {arg}")),
                    1 => r.phase = Some(PHASES[*arg as usize % 3].into()),
                    // Only earlier milestones, so the graph stays acyclic.
                    _ => {
                        let own: usize = id[1..].parse().ok()?;
                        r.depends_on = Some(if own == 0 {
                            vec![]
                        } else {
                            vec![format!("m{}", *arg as usize % own)]
                        })
                    }
                }
                (false, Payload::MilestoneRevised(r))
            }
            Op::Retire { m } => {
                let id = self.pick(*m)?;
                (
                    false,
                    Payload::MilestoneRetired(MilestoneRetired { id, reason }),
                )
            }
            Op::Advance { layer } => {
                let layer = LAYERS[*layer as usize % 2].to_string();
                let at = self.phase[&layer];
                let to = PHASES.get(at + 1)?;
                let payload = Payload::PhaseTransitioned(PhaseTransitioned {
                    from: PHASES[at].into(),
                    to: to.to_string(),
                    layer,
                    reason,
                });
                (false, payload)
            }
            Op::OpenSeason { focus } => {
                let payload = Payload::SeasonOpened(SeasonOpened {
                    season: self.season + 1,
                    starts_on: format!("2024-{:02}-01", (self.season % 6) * 2 + 1),
                    intent: "intent".into(),
                    focus: self.picks(focus),
                });
                (false, payload)
            }
            Op::CloseSeason { assess } => {
                let payload = Payload::SeasonReEvaluated(SeasonReEvaluated {
                    season: self.season,
                    ends_on: format!("2024-{:02}-28", (self.season.max(1) - 1) % 6 * 2 + 2),
                    summary: "summary".into(),
                    assessments: self
                        .picks(assess)
                        .into_iter()
                        .map(|milestone| Assessment {
                            milestone,
                            note: "note".into(),
                        })
                        .collect(),
                });
                (true, payload)
            }
            Op::DefineBody { kind } => {
                let id = format!("b{}", self.bodies.len());
                let payload = Payload::BodyDefined(BodyDefined {
                    title: format!("Body {id}"),
                    kind: KINDS[*kind as usize % KINDS.len()].into(),
                    description: String::new(),
                    charter: None,
                    id,
                });
                (false, payload)
            }
            Op::RetireBody { b } => {
                let id = self.pick_bodies(&[*b]).pop()?;
                (false, Payload::BodyRetired(BodyRetired { id, reason }))
            }
            Op::DefineDecision {
                deciders,
                process,
                target,
                ms,
            } => {
                let id = format!("d{}", self.decisions.len());
                let payload = Payload::DecisionDefined(Box::new(DecisionDefined {
                    title: format!("Decision {id}"),
                    description: String::new(),
                    layer: LAYERS[self.decisions.len() % 2].into(),
                    principles: vec![],
                    profile: Profile::default(),
                    current: self.design(deciders, *process, None),
                    target: target.as_ref().map(|t| self.design(t, 0, None)),
                    milestones: self.picks(ms),
                    source: Some("https://example.org/source".into()),
                    id,
                }));
                (false, payload)
            }
            Op::ReviseDecision { d, target } => {
                let (id, _) = self.pick_decision(*d)?;
                let mut r = DecisionRevised {
                    id,
                    reason,
                    title: None,
                    description: None,
                    profile: None,
                    target: None,
                    milestones: None,
                };
                r.target = Some(self.design(target, 0, None));
                (false, Payload::DecisionRevised(Box::new(r)))
            }
            Op::Transfer {
                d,
                deciders,
                process,
                veto,
            } => {
                let (decision, from) = self.pick_decision(*d)?;
                let to = self.design(deciders, *process, *veto);
                let payload = Payload::AuthorityTransferred(Box::new(AuthorityTransferred {
                    decision,
                    from,
                    to,
                    reason,
                    evidence: vec!["https://example.org/evidence".into()],
                    effective_on: "2024-06-01".into(),
                }));
                (self.clock.is_multiple_of(2), payload)
            }
            Op::StateHypothesis { d } => {
                let (decision, _) = self.pick_decision(*d)?;
                let n = self.hypotheses.get(&decision).map_or(0, Vec::len);
                let payload = Payload::HypothesisStated(HypothesisStated {
                    decision,
                    id: format!("h{n}"),
                    statement: "statement".into(),
                    measure: "measure".into(),
                });
                (true, payload)
            }
            Op::ConcludeHypothesis { d, h, outcome } => {
                let (decision, _) = self.pick_decision(*d)?;
                let stated = self.hypotheses.get(&decision)?;
                let (id, _) = stated.get(*h as usize % stated.len().max(1))?.clone();
                let payload = Payload::HypothesisConcluded(HypothesisConcluded {
                    decision,
                    id,
                    outcome: OUTCOMES[*outcome as usize % 3].into(),
                    note: "note".into(),
                    evidence: vec![],
                });
                (false, payload)
            }
        };
        Some(self.sign(reviewer, payload))
    }

    /// Notes the effect of a recorded statement on what later operations pick.
    pub fn recorded(&mut self, s: &Signed) {
        match &s.statement.payload {
            Payload::MilestoneDefined(p) => self.milestones.push(p.id.clone()),
            Payload::MilestoneStatusChanged(p) => {
                self.status.insert(p.id.clone(), p.to.clone());
            }
            Payload::PhaseTransitioned(p) => *self.phase.get_mut(&p.layer).unwrap() += 1,
            Payload::SeasonOpened(p) => {
                self.season = p.season;
                self.open = true;
            }
            Payload::SeasonReEvaluated(_) => self.open = false,
            Payload::BodyDefined(p) => self.bodies.push((p.id.clone(), false)),
            Payload::BodyRetired(p) => {
                if let Some(b) = self.bodies.iter_mut().find(|b| b.0 == p.id) {
                    b.1 = true;
                }
            }
            Payload::DecisionDefined(p) => self.decisions.push((p.id.clone(), p.current.clone())),
            Payload::AuthorityTransferred(p) => {
                if let Some(d) = self.decisions.iter_mut().find(|d| d.0 == p.decision) {
                    d.1 = p.to.clone();
                }
            }
            Payload::HypothesisStated(p) => self
                .hypotheses
                .entry(p.decision.clone())
                .or_default()
                .push((p.id.clone(), false)),
            Payload::HypothesisConcluded(p) => {
                if let Some(h) = self
                    .hypotheses
                    .get_mut(&p.decision)
                    .and_then(|hs| hs.iter_mut().find(|h| h.0 == p.id))
                {
                    h.1 = true;
                }
            }
            _ => {}
        }
    }
}
