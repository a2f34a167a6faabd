//! A large valid history, fast: one founder signs the opening, `MILESTONES` milestones
//! and then status toggles (a typical ~600-byte `MilestoneStatusChanged` event each).
//! Shared by the bench (`benches/ledger.rs`) and the tests that need a big ledger
//! (`tests/plans.rs`), recorded through the library in batches.

use ed25519_dalek::SigningKey;
use waymark::Signed;
use waymark_events::*;

pub const MILESTONES: usize = 16;

pub struct Gen {
    ledger: String,
    founder: SigningKey,
    clock: u64,
    in_progress: Vec<bool>,
    k: u64,
}

impl Gen {
    pub fn new(ledger: &str) -> Self {
        Gen {
            ledger: ledger.to_string(),
            founder: SigningKey::from_bytes(&[7; 32]),
            clock: 0,
            in_progress: vec![false; MILESTONES],
            k: 0,
        }
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

    pub fn batch(&mut self, n: usize) -> Vec<Signed> {
        (0..n).map(|_| self.next()).collect()
    }

    /// The founder's key (to sign statements outside the generated history).
    pub fn founder(&self) -> &SigningKey {
        &self.founder
    }
}
