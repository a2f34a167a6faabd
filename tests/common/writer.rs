//! Random valid histories: operations that a `Writer` turns into signed statements
//! (the write path decides which are valid).

use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use std::collections::BTreeMap;
use waymark::Signed;
use waymark_events::*;

#[derive(Debug, Clone)]
pub enum Op {
    Define { layer: u8, phase: u8, deps: Vec<u8> },
    Set { m: u8, to: u8, by_reviewer: bool },
    Revise { m: u8, what: u8, arg: u8 },
    Retire { m: u8 },
    Advance { layer: u8 },
    OpenSeason { focus: Vec<u8> },
    CloseSeason { assess: Vec<u8> },
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
    ]
}

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
        }
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
            _ => {}
        }
    }
}
