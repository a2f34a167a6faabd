//! The recorded events, read back for folding.

use super::*;
use crate::storage::{EventRow, Seq};
use waymark_core::ProblemKind;

impl ReadModels {
    /// Recorded events after `after`, at most `limit`, in order.
    pub async fn events_after(
        &self,
        ledger: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(Event, Hash)>> {
        self.events_after_hashed(ledger, after, limit, Rehash::Always)
            .await
    }

    /// [`Self::events_after`], taking each event's hash from its row's metadata when
    /// `rehash` is `Rehash::Never` (catching a view up: the chain itself is `verify`'s
    /// business, and rebuilding recomputes every hash).
    pub(super) async fn events_after_hashed(
        &self,
        ledger: &str,
        after: u64,
        limit: usize,
        rehash: Rehash,
    ) -> Result<Vec<(Event, Hash)>> {
        let rows = self.db.event_rows_after(ledger, Seq(after), limit).await?;
        parse_rows(&rows, after, rehash)
    }

    /// The highest recorded seq (0 for no ledger).
    pub async fn head_seq(&self, ledger: &str) -> Result<u64> {
        Ok(self.db.head_seq(ledger).await?.get())
    }
}

/// Parses the event rows that follow seq `after` and hashes them (see
/// [`ReadModels::events_after_hashed`] for `rehash`), checking that their seqs follow
/// on without a gap.
pub(super) fn parse_rows(
    rows: &[EventRow],
    after: u64,
    rehash: Rehash,
) -> Result<Vec<(Event, Hash)>> {
    // Parsing and hashing are independent per row: a page is done on every core.
    let parsed = waymark_core::map_ordered(rows, 256, |_, row| {
        let value: serde_json::Value =
            serde_json::from_str(&row.payload).map_err(|e| e.to_string())?;
        let event = Event::from_value(&value).map_err(|e| e.to_string())?;
        let stored = match rehash {
            Rehash::Always => None,
            Rehash::Never => RowMeta::hash_in_text(&row.metadata),
        };
        let hash = stored.unwrap_or_else(|| event.hash());
        Ok::<_, String>((event, hash))
    });
    let mut expected = after + 1;
    rows.iter()
        .zip(parsed)
        .map(|(row, parsed)| {
            let seq = row.seq;
            if seq.get() != expected {
                return Err(Error::BrokenChain {
                    seq: expected,
                    problem: ProblemKind::SeqGap,
                    detail: format!("expected seq {expected}, the next stored row is seq {seq}"),
                });
            }
            let (event, hash) = parsed.map_err(|detail| Error::BrokenChain {
                seq: expected,
                problem: ProblemKind::Malformed,
                detail,
            })?;
            expected += 1;
            Ok((event, hash))
        })
        .collect()
}
