//! A large valid history, fast: one founder signs the opening, `MILESTONES` milestones
//! and then status toggles (a typical ~600-byte `MilestoneStatusChanged` event each).
//! Shared by the bench (`benches/ledger.rs`) and the tests that need a big ledger
//! (`tests/plans.rs`), recorded through the library in batches.
//!
//! `with_seasons(every)` (the bench's ledgers) also turns a Season every `every`
//! statements in `batch`: the open Season is re-evaluated, milestone `rare` (defined at
//! the first turn) changes status, and the next Season opens. The dashboard's as-of
//! pages need Seasons, and its filtered pages a milestone updated rarely (`m0…m15` each
//! change every 16th statement).

use ed25519_dalek::SigningKey;
use waymark::Signed;
use waymark_events::*;

pub const MILESTONES: usize = 16;
/// The milestone `with_seasons` changes once per Season.
pub const RARE: &str = "rare";

pub struct Gen {
    ledger: String,
    founder: SigningKey,
    clock: u64,
    in_progress: Vec<bool>,
    k: u64,
    /// A Season turn every this many statements signed (0: none).
    season_every: u64,
    /// The Season open (0: none yet).
    season: i64,
    /// Milestone `rare`: `None` until defined, then whether it is in progress.
    rare: Option<bool>,
}

impl Gen {
    pub fn new(ledger: &str) -> Self {
        Gen {
            ledger: ledger.to_string(),
            founder: SigningKey::from_bytes(&[7; 32]),
            clock: 0,
            in_progress: vec![false; MILESTONES],
            k: 0,
            season_every: 0,
            season: 0,
            rare: None,
        }
    }

    /// The same generator, whose `batch` turns a Season every `every` statements
    /// signed: Season 1 opens in the first batch, Season k + 1 once `k × every`
    /// statements were signed.
    pub fn with_seasons(mut self, every: u64) -> Self {
        self.season_every = every;
        self
    }

    /// The Season open (0: none yet).
    pub fn season(&self) -> i64 {
        self.season
    }

    /// Closes the open Season (if any), changes `rare`'s status (defining it at the
    /// first turn) and opens the next Season.
    fn season_turn(&mut self) -> Vec<Signed> {
        let mut out = Vec::with_capacity(4);
        if self.season > 0 {
            out.push(self.sign(Payload::SeasonReEvaluated(SeasonReEvaluated {
                season: self.season,
                ends_on: "2023-11-14".into(),
                summary: format!("Season {} of the benchmark roadmap", self.season),
                assessments: vec![Assessment {
                    milestone: "m0".into(),
                    note: "on track".into(),
                }],
            })));
        }
        if self.rare.is_none() {
            out.push(self.sign(Payload::MilestoneDefined(MilestoneDefined {
                id: RARE.into(),
                title: "A milestone that changes once a Season".into(),
                layer: "tech".into(),
                phase: "A".into(),
                description: "A milestone of the benchmark roadmap.".into(),
                principles: vec![],
                depends_on: vec![],
            })));
        }
        let was = self.rare.unwrap_or(false);
        let (from, to) = if was {
            ("in_progress", "not_started")
        } else {
            ("not_started", "in_progress")
        };
        self.rare = Some(!was);
        out.push(
            self.sign(Payload::MilestoneStatusChanged(MilestoneStatusChanged {
                id: RARE.into(),
                from: from.into(),
                to: to.into(),
                reason: format!("Season {} turned", self.season),
                evidence: vec![],
                effective_on: None,
            })),
        );
        self.season += 1;
        out.push(self.sign(Payload::SeasonOpened(SeasonOpened {
            season: self.season,
            starts_on: "2023-11-14".into(),
            intent: "ship the next decentralization step".into(),
            focus: vec!["m0".into()],
        })));
        out
    }

    pub fn sign(&mut self, payload: Payload) -> Signed {
        self.clock += 1;
        // 1 ms apart, in the past: 1M statements span ~17 minutes of 2023.
        let at = format_timestamp(1_700_000_000_000_000 + self.clock as i64 * 1_000);
        let statement = Statement::new(&self.ledger, "founder", &at, payload);
        Signed {
            sig: sign(&statement, &self.founder),
            statement,
        }
    }

    /// `LedgerOpened` and the milestones `m0…`.
    pub fn opening(&mut self) -> Vec<Signed> {
        let layers = ["tech", "gov"];
        let phases = ["A", "B", "C"];
        let framework = super::writer::framework("bench", "Benchmark framework", &layers, &phases);
        let opened = super::writer::ledger_opened(
            "bench",
            &format!("waymark.bench/{}", self.ledger),
            &self.founder,
            framework,
        );
        let mut out = vec![self.sign(opened)];
        for i in 0..MILESTONES {
            let p = Payload::MilestoneDefined(MilestoneDefined {
                id: format!("m{i}"),
                title: format!("Milestone {i}: sequencer decentralization step"),
                layer: layers[i % 2].into(),
                phase: "A".into(),
                description: "A milestone of the benchmark roadmap.".into(),
                principles: vec![],
                depends_on: vec![],
            });
            out.push(self.sign(p));
        }
        out
    }

    /// The next status change (milestones in turn).
    pub fn next(&mut self) -> Signed {
        let m = (self.k % MILESTONES as u64) as usize;
        self.toggle(m)
    }

    /// A status change of milestone `m{m}` (from where it is to the other state).
    pub fn toggle(&mut self, m: usize) -> Signed {
        let k = self.k;
        self.k += 1;
        let (from, to) = if self.in_progress[m] {
            ("in_progress", "not_started")
        } else {
            ("not_started", "in_progress")
        };
        self.in_progress[m] = !self.in_progress[m];
        let p = Payload::MilestoneStatusChanged(MilestoneStatusChanged {
            id: format!("m{m}"),
            from: from.into(),
            to: to.into(),
            reason: format!(
                "update {k}: the working group reported progress on this milestone at the weekly call"
            ),
            evidence: vec![format!("https://gov.example.org/t/milestone-m{m}/{k}")],
            effective_on: None,
        });
        self.sign(p)
    }

    /// `n` status changes, and with `with_seasons` the Season turns that fall among
    /// them (each turn's 2-4 statements are counted in `n`, unless the turn comes
    /// last: then the batch is longer than `n`).
    pub fn batch(&mut self, n: usize) -> Vec<Signed> {
        let mut out = Vec::with_capacity(n + 4);
        while out.len() < n {
            if self.season_every > 0 && self.clock >= self.season as u64 * self.season_every {
                out.extend(self.season_turn());
            } else {
                out.push(self.next());
            }
        }
        out
    }

    /// The founder's key (to sign statements outside the generated history).
    pub fn founder(&self) -> &SigningKey {
        &self.founder
    }
}
