//! Replaying a chain: hashes, links, seq, time, signatures and every rule, one event at
//! a time. Pure (no I/O): `verify` feeds it stored rows, `verify-offline` export lines.

use crate::state::LedgerState;
use serde::Serialize;
use std::collections::HashSet;
use waymark_events::{is_timestamp, Event, Hash};

/// Where and why a chain stopped verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub seq: u64,
    pub problem: &'static str,
    pub detail: String,
}

/// `{"ok","checked","head":{"seq","hash"},"first_bad_seq","problem","detail"}` (SPEC 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checked: u64,
    pub head: Option<HeadRef>,
    pub first_bad_seq: Option<u64>,
    pub problem: Option<&'static str>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeadRef {
    pub seq: u64,
    pub hash: Hash,
}

/// Replays events in order and stops at the first that does not verify.
#[derive(Debug, Default)]
pub struct Replayer {
    state: LedgerState,
    sigs: HashSet<String>,
    checked: u64,
    head: Option<HeadRef>,
}

impl Replayer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn state(&self) -> &LedgerState {
        &self.state
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// Checks the event expected at `position` (1-based). `claimed` is the hash the
    /// store or export line gives for it, when it gives one. Returns the event's hash.
    pub fn step(
        &mut self,
        position: u64,
        event: &Event,
        claimed: Option<&Hash>,
    ) -> Result<Hash, Problem> {
        let bad = |problem, detail: String| Problem {
            seq: position,
            problem,
            detail,
        };
        if event.seq != position {
            return Err(bad(
                "seq_gap",
                format!("expected seq {position}, found seq {}", event.seq),
            ));
        }
        let prev = self.head.as_ref().map_or(Hash::ZERO, |h| h.hash);
        if event.prev != prev {
            return Err(bad(
                "prev_mismatch",
                format!(
                    "prev is {}, but the hash of seq {} is {prev}",
                    event.prev,
                    position - 1
                ),
            ));
        }
        let hash = event.hash();
        if let Some(c) = claimed {
            if *c != hash {
                return Err(bad(
                    "hash_mismatch",
                    format!("stored hash {c}, recomputed {hash}"),
                ));
            }
        }
        if !is_timestamp(&event.recorded_at) {
            return Err(bad(
                "malformed",
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
                "time_regression",
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
        if let Err(r) = self.state.check(&ledger, &event.statement, &event.sig) {
            return Err(bad(r.rule.problem(), r.to_string()));
        }
        if !self.sigs.insert(event.sig.clone()) {
            return Err(bad(
                "rule_violation",
                "rule R7-replay violated at sig: this signature was already recorded".into(),
            ));
        }
        self.state.apply(event, hash);
        self.checked = position;
        self.head = Some(HeadRef {
            seq: position,
            hash,
        });
        Ok(hash)
    }

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
