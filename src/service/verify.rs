//! `verify` (the stored chain re-checked) and `rebuild` (the read models recomputed).

use super::Waymark;
use crate::error::{Error, Result, StorageError};
use crate::ledger::Ledger;
use crate::read::RebuildReport;
use crate::storage::{RowMeta, Seq};
use cqrs_es::persist::PersistedEventRepository;
use waymark_core::ProblemKind;
use waymark_core::{Problem, Replayer, Report};
use waymark_events::{Event, Frontier};

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
        let rows = self.rows(ledger).await?;
        let mut replayer = Replayer::new();
        let mut frontier = Frontier::new();
        let mut problem = None;
        for (i, row) in rows.iter().enumerate() {
            let position = i as u64 + 1;
            let bad = |problem, detail| {
                Some(Problem {
                    seq: position,
                    problem,
                    detail,
                })
            };
            if Seq::from_cqrs(row.sequence).get() != position {
                problem = bad(
                    ProblemKind::SeqGap,
                    format!(
                        "expected seq {position}, the next stored row is seq {}",
                        row.sequence
                    ),
                );
                break;
            }
            let event = match Event::from_value(&row.payload) {
                Ok(e) => e,
                Err(m) => {
                    problem = bad(ProblemKind::Malformed, m.to_string());
                    break;
                }
            };
            let claimed = RowMeta::hash_in_value(&row.metadata);
            if claimed.is_none() {
                problem = bad(ProblemKind::Malformed, "the stored row has no hash".into());
                break;
            }
            let hash = match replayer.step(position, &event, claimed.as_ref()) {
                Ok(h) => h,
                Err(p) => {
                    problem = Some(p);
                    break;
                }
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
            if RowMeta::stored_nodes_text(&row.metadata) != expected.nodes_text() {
                problem = bad(ProblemKind::HashMismatch,
                    format!("the event verifies, but the Merkle tree nodes stored with seq {position} are not the ones its append completes"),
                );
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
        if rows.is_empty() {
            return Err(self.no_ledger(ledger));
        }
        Ok(replayer.report(problem))
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
