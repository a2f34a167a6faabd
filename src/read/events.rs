//! The recorded events, read back for folding.

use super::*;

impl ReadModels {
    /// Recorded events after `after`, at most `limit`, in order.
    pub async fn events_after(
        &self,
        ledger: &str,
        after: u64,
        limit: i64,
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
        limit: i64,
        rehash: Rehash,
    ) -> Result<Vec<(Event, Hash)>> {
        let sql = "SELECT sequence, CAST(payload AS text), CAST(metadata AS text) FROM events
                   WHERE aggregate_type = 'Ledger' AND aggregate_id = $1 AND sequence > $2
                   ORDER BY sequence LIMIT $3";
        let rows: Vec<(i64, String, String)> = on_pool!(&self.db, p => sqlx::query_as(sql)
            .bind(ledger).bind(after as i64).bind(limit).fetch_all(p).await)
        .map_err(|e| storage("reading events", e))?;
        // Parsing and hashing are independent per row: a page is done on every core.
        let parsed = waymark_core::map_ordered(&rows, 256, |_, (_, text, meta)| {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            let event = Event::from_value(&value)?;
            let stored = match rehash {
                Rehash::Always => None,
                Rehash::Never => RowMeta::hash_in_text(meta),
            };
            let hash = stored.unwrap_or_else(|| event.hash());
            Ok::<_, String>((event, hash))
        });
        let mut expected = after + 1;
        rows.iter()
            .zip(parsed)
            .map(|((seq, _, _), parsed)| {
                if *seq as u64 != expected {
                    return Err(Error::BrokenChain {
                        seq: expected,
                        problem: "seq_gap",
                        detail: format!(
                            "expected seq {expected}, the next stored row is seq {seq}"
                        ),
                    });
                }
                let (event, hash) = parsed.map_err(|detail| Error::BrokenChain {
                    seq: expected,
                    problem: "malformed",
                    detail,
                })?;
                expected += 1;
                Ok((event, hash))
            })
            .collect()
    }

    /// The highest recorded seq (0 for no ledger).
    pub async fn head_seq(&self, ledger: &str) -> Result<u64> {
        let sql = "SELECT MAX(sequence) FROM events WHERE aggregate_type = 'Ledger' AND aggregate_id = $1";
        let n: Option<i64> =
            on_pool!(&self.db, p => sqlx::query_scalar(sql).bind(ledger).fetch_one(p).await)
                .map_err(|e| storage("reading the head", e))?;
        Ok(n.unwrap_or(0) as u64)
    }
}
