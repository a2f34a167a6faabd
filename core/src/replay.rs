//! Replaying a chain: hashes, links, seq, time, signatures and every rule, one event at
//! a time. Pure (no I/O): `verify` feeds it stored rows, `verify-offline` export lines.

use crate::state::LedgerState;
use crate::verdict::{HeadRef, Problem, ProblemKind, Report};
use std::collections::HashSet;
use waymark_events::{is_timestamp, Event, Hash};

/// Rule 7's memory of the signatures recorded so far. It must answer exactly: never
/// call a new signature a replay, never miss one.
pub trait ReplayIndex {
    /// Records `sig`, the signature of the event at `seq`; `false` when the same
    /// signature was recorded before (a replay).
    fn insert_sig(&mut self, seq: u64, sig: &str) -> bool;
}

/// The in-memory index `verify` uses: every signature, in full (≈ 150 bytes an event).
impl ReplayIndex for HashSet<String> {
    fn insert_sig(&mut self, _seq: u64, sig: &str) -> bool {
        self.insert(sig.to_owned())
    }
}

/// Replays events in order and stops at the first that does not verify.
///
/// Generic over its rule 7 index: `Replayer::new()` keeps every signature in a
/// `HashSet`; `verify-offline` plugs in a fixed-size-entry index that looks earlier
/// signatures up in the export file itself (`Replayer::with_index`).
#[derive(Debug, Default)]
pub struct Replayer<I = HashSet<String>> {
    state: LedgerState,
    sigs: I,
    checked: u64,
    head: Option<HeadRef>,
}

impl Replayer {
    pub fn new() -> Self {
        Self::default()
    }
}

impl<I> Replayer<I> {
    pub fn state(&self) -> &LedgerState {
        &self.state
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The rule 7 index.
    pub fn index(&self) -> &I {
        &self.sigs
    }

    pub fn index_mut(&mut self) -> &mut I {
        &mut self.sigs
    }
}

impl<I: ReplayIndex> Replayer<I> {
    /// A replayer that remembers signatures (rule 7) in `index`.
    pub fn with_index(index: I) -> Self {
        Replayer {
            state: LedgerState::default(),
            sigs: index,
            checked: 0,
            head: None,
        }
    }

    /// A replayer that carries on from a rule state saved after an earlier replay
    /// (its head is where the next event must link), with rule 7's memory in `index`.
    /// A monitor resumes this way instead of replaying the log from seq 1.
    pub fn resume(state: LedgerState, index: I) -> Self {
        let head = state.head.as_ref().map(|h| HeadRef {
            seq: h.seq,
            hash: h.hash,
        });
        Replayer {
            checked: head.as_ref().map_or(0, |h| h.seq),
            head,
            state,
            sigs: index,
        }
    }

    /// Checks the event expected at `position` (1-based). `claimed` is the hash the
    /// store or export line gives for it, when it gives one. Returns the event's hash.
    pub fn step(
        &mut self,
        position: u64,
        event: &Event,
        claimed: Option<&Hash>,
    ) -> Result<Hash, Problem> {
        self.check_link(position, event)?;
        let hash = event.hash();
        if let Some(c) = claimed {
            if *c != hash {
                return Err(Problem {
                    seq: position,
                    problem: ProblemKind::HashMismatch,
                    detail: format!("stored hash {c}, recomputed {hash}"),
                });
            }
        }
        self.check_and_apply(position, event, hash, None)?;
        Ok(hash)
    }

    /// [`Replayer::step`] for a caller that has already recomputed the event's hash
    /// (`event.hash()`) and compared it with the one it was given, and may have
    /// checked its signature under `verified_with` (see
    /// `LedgerState::check_preverified`).
    pub fn step_preverified(
        &mut self,
        position: u64,
        event: &Event,
        hash: Hash,
        verified_with: Option<&str>,
    ) -> Result<(), Problem> {
        self.check_link(position, event)?;
        self.check_and_apply(position, event, hash, verified_with)
    }

    /// `seq` and `prev`.
    fn check_link(&self, position: u64, event: &Event) -> Result<(), Problem> {
        let bad = |problem, detail: String| Problem {
            seq: position,
            problem,
            detail,
        };
        if event.seq != position {
            return Err(bad(
                ProblemKind::SeqGap,
                format!("expected seq {position}, found seq {}", event.seq),
            ));
        }
        let prev = self.head.as_ref().map_or(Hash::ZERO, |h| h.hash);
        if event.prev != prev {
            return Err(bad(
                ProblemKind::PrevMismatch,
                format!(
                    "prev is {}, but the hash of seq {} is {prev}",
                    event.prev,
                    position - 1
                ),
            ));
        }
        Ok(())
    }

    /// Time, signatures and every rule; then the event is applied.
    fn check_and_apply(
        &mut self,
        position: u64,
        event: &Event,
        hash: Hash,
        verified_with: Option<&str>,
    ) -> Result<(), Problem> {
        let bad = |problem, detail: String| Problem {
            seq: position,
            problem,
            detail,
        };
        if !is_timestamp(&event.recorded_at) {
            return Err(bad(
                ProblemKind::Malformed,
                format!(
                    "recorded_at {:?} is not a SPEC timestamp",
                    event.recorded_at
                ),
            ));
        }
        if let Some(last) = self
            .state
            .head
            .as_ref()
            .filter(|h| event.recorded_at < h.recorded_at)
        {
            return Err(bad(
                ProblemKind::TimeRegression,
                format!(
                    "recorded_at {} is before {} of seq {}",
                    event.recorded_at, last.recorded_at, last.seq
                ),
            ));
        }
        let ledger = if self.state.is_open() {
            self.state.ledger.clone()
        } else {
            event.statement.ledger.clone()
        };
        if let Err((problem, r)) =
            self.state
                .judge(&ledger, &event.statement, &event.sig, verified_with)
        {
            return Err(bad(problem, r.to_string()));
        }
        if !self.sigs.insert_sig(position, &event.sig) {
            return Err(bad(
                ProblemKind::RuleViolation,
                "rule R7-replay violated at sig: this signature was already recorded".into(),
            ));
        }
        self.state.apply(event, hash);
        self.checked = position;
        self.head = Some(HeadRef {
            seq: position,
            hash,
        });
        Ok(())
    }
}

impl<I> Replayer<I> {
    /// The report after the replay stopped, with `problem` if it stopped early.
    pub fn report(&self, problem: Option<Problem>) -> Report {
        match problem {
            None => Report {
                ok: true,
                checked: self.checked,
                head: self.head.clone(),
                first_bad_seq: None,
                problem: None,
                detail: format!(
                    "{} events verified: hashes, links, signatures and rules",
                    self.checked
                ),
            },
            Some(p) => Report {
                ok: false,
                checked: self.checked,
                head: self.head.clone(),
                first_bad_seq: Some(p.seq),
                problem: Some(p.problem),
                detail: p.detail,
            },
        }
    }
}
