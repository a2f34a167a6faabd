//! `verify` (the stored chain re-checked) and `rebuild` (the read models recomputed).

use super::Waymark;
use crate::error::{Error, Result, StorageError};
use crate::ledger::Ledger;
use crate::read::RebuildReport;
use crate::storage::{EventRow, RowMeta, Seq};
use cqrs_es::persist::PersistedEventRepository;
use waymark_core::ProblemKind;
use waymark_core::{Problem, Replayer, Report};
use waymark_events::{Event, Frontier};

/// Rows read at a time by `verify`.
const VERIFY_PAGE: usize = 2_000;

impl Waymark {
    /// Re-checks the whole stored chain: seq, links, stored hashes, time, signatures
    /// and every rule, then that the head matches the stored snapshot (rows deleted
    /// from the end show up as `truncated`).
    pub async fn verify(&self, ledger: &str) -> Result<Report> {
        // The snapshot first, then the rows: a commit that lands between the two reads
        // (one sent by a writer killed just before, which PostgreSQL completes after
        // the client is gone) then shows as more rows than the snapshot's head, never
        // as a snapshot ahead of the rows, which would read as `truncated`. Seen in
        // tests/crash.rs on PostgreSQL when the snapshot was read second.
        let snap = self
            .repo
            .get_snapshot::<Ledger>(ledger)
            .await
            .map_err(|e| Error::Storage(StorageError::database(e.to_string())))?;
        let mut replayer = Replayer::new();
        let mut frontier = Frontier::new();
        let mut problem = None;
        let mut position = 0u64;
        // A page of rows at a time: memory holds the rule state, not the ledger.
        'pages: loop {
            let rows = self
                .db
                .event_rows_after(ledger, Seq(position), VERIFY_PAGE)
                .await?;
            for row in &rows {
                position += 1;
                if let Some(p) = self.verify_row(position, row, &mut replayer, &mut frontier) {
                    problem = Some(p);
                    break 'pages;
                }
            }
            if rows.len() < VERIFY_PAGE {
                break;
            }
        }
        if problem.is_none() {
            if let Some(snap) = snap {
                let stored = serde_json::from_value::<Ledger>(snap.aggregate).ok();
                if let Some(l) = stored
                    .as_ref()
                    .filter(|l| l.frontier.size() == replayer.checked() && l.frontier != frontier)
                {
                    problem = Some(Problem {
                        seq: l.frontier.size(),
                        problem: ProblemKind::HashMismatch,
                        detail: "the Merkle frontier kept in the snapshot (the root at the head) is not the one the events give".into(),
                    });
                }
                let head = stored.and_then(|l| l.state.head);
                let checked = replayer.checked();
                match head {
                    Some(h) if h.seq > checked => {
                        problem = Some(Problem {
                            seq: checked + 1,
                            problem: ProblemKind::Truncated,
                            detail: format!("the ledger's head is seq {}, but only {checked} events are stored", h.seq),
                        })
                    }
                    Some(h) if h.seq == checked && Some(h.hash) != replayer.report(None).head.map(|x| x.hash) => {
                        problem = Some(Problem {
                            seq: checked,
                            problem: ProblemKind::HashMismatch,
                            detail: format!("the head recorded at commit has hash {}, the stored event hashes differently", h.hash),
                        })
                    }
                    _ => {}
                }
            }
        }
        if position == 0 {
            return Err(self.no_ledger(ledger));
        }
        Ok(replayer.report(problem))
    }

    /// One stored row through the replayer, and its tree nodes against the frontier.
    fn verify_row(
        &self,
        position: u64,
        row: &EventRow,
        replayer: &mut Replayer,
        frontier: &mut Frontier,
    ) -> Option<Problem> {
        let bad = |problem, detail| {
            Some(Problem {
                seq: position,
                problem,
                detail,
            })
        };
        if row.seq.get() != position {
            return bad(
                ProblemKind::SeqGap,
                format!(
                    "expected seq {position}, the next stored row is seq {}",
                    row.seq.get()
                ),
            );
        }
        let payload: serde_json::Value = match serde_json::from_str(&row.payload) {
            Ok(v) => v,
            Err(e) => {
                return bad(
                    ProblemKind::Malformed,
                    format!("the stored event is not JSON: {e}"),
                )
            }
        };
        let event = match Event::from_value(&payload) {
            Ok(e) => e,
            Err(m) => return bad(ProblemKind::Malformed, m.to_string()),
        };
        let metadata: serde_json::Value =
            serde_json::from_str(&row.metadata).unwrap_or(serde_json::Value::Null);
        let claimed = RowMeta::hash_in_value(&metadata);
        if claimed.is_none() {
            return bad(ProblemKind::Malformed, "the stored row has no hash".into());
        }
        let hash = match replayer.step(position, &event, claimed.as_ref()) {
            Ok(h) => h,
            Err(p) => return Some(p),
        };
        // The event verifies; the tree nodes kept in its row (what roots, proofs
        // and checkpoints are read from) must be the ones its append completes.
        let expected = RowMeta {
            hash,
            nodes: frontier
                .push_nodes(hash)
                .iter()
                .skip(1)
                .map(|(_, h)| *h)
                .collect(),
        };
        if RowMeta::stored_nodes_text(&metadata) != expected.nodes_text() {
            return bad(ProblemKind::HashMismatch,
                format!("the event verifies, but the Merkle tree nodes stored with seq {position} are not the ones its append completes"),
            );
        }
        None
    }

    /// Recomputes the read models from the events and compares them with the stored
    /// ones; `progress(head, reached)` is called as it goes.
    pub async fn rebuild(
        &self,
        ledger: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RebuildReport> {
        self.writable()?;
        self.settle().await;
        self.read_models.rebuild(ledger, progress).await
    }
}
