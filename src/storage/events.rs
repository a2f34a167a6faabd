//! Event rows read back by seq, beside the cqrs-es repository's own reads (which load
//! a whole aggregate): pages for folding and exporting, and the head.

use super::{on_pool, storage, Db, Seq, StorageError};

/// An event row as stored: its seq, the event's JSON text and the row's metadata
/// (`row.rs` reads the latter).
#[derive(Debug, Clone)]
pub struct EventRow {
    pub seq: Seq,
    pub payload: String,
    pub metadata: String,
}

/// An event's type and metadata, without the event itself.
#[derive(Debug, Clone)]
pub struct EventPlace {
    pub seq: Seq,
    pub event_type: String,
    pub metadata: String,
}

impl Db {
    /// At most `limit` event rows after seq `after`, in seq order.
    pub async fn event_rows_after(
        &self,
        ledger: &str,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<EventRow>, StorageError> {
        let sql = "SELECT sequence, CAST(payload AS text), CAST(metadata AS text) FROM events
                   WHERE aggregate_type = 'Ledger' AND aggregate_id = $1 AND sequence > $2
                   ORDER BY sequence LIMIT $3";
        let limit = Seq::from_cqrs(limit).to_sql();
        let rows: Vec<(i64, String, String)> = on_pool!(self, p => sqlx::query_as(sql)
            .bind(ledger).bind(after.to_sql()).bind(limit).fetch_all(p).await)
        .map_err(|e| storage("reading events", e))?;
        Ok(rows
            .into_iter()
            .map(|(seq, payload, metadata)| EventRow {
                seq: Seq::from_sql(seq),
                payload,
                metadata,
            })
            .collect())
    }

    /// At most `limit` rows of seq `from..=to` without their events, in seq order.
    pub async fn event_places(
        &self,
        ledger: &str,
        from: Seq,
        to: Seq,
        limit: usize,
    ) -> Result<Vec<EventPlace>, StorageError> {
        let sql = "SELECT sequence, event_type, CAST(metadata AS text) FROM events
                   WHERE aggregate_type = 'Ledger' AND aggregate_id = $1 AND sequence >= $2 AND sequence <= $3
                   ORDER BY sequence LIMIT $4";
        let limit = Seq::from_cqrs(limit).to_sql();
        let rows: Vec<(i64, String, String)> = on_pool!(self, p => sqlx::query_as(sql)
            .bind(ledger).bind(from.to_sql()).bind(to.to_sql()).bind(limit).fetch_all(p).await)
        .map_err(|e| storage("reading events", e))?;
        Ok(rows
            .into_iter()
            .map(|(seq, event_type, metadata)| EventPlace {
                seq: Seq::from_sql(seq),
                event_type,
                metadata,
            })
            .collect())
    }

    /// The highest recorded seq (0 for no ledger).
    pub async fn head_seq(&self, ledger: &str) -> Result<Seq, StorageError> {
        let sql = "SELECT MAX(sequence) FROM events WHERE aggregate_type = 'Ledger' AND aggregate_id = $1";
        let n: Option<i64> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(ledger).fetch_one(p).await)
                .map_err(|e| storage("reading the head", e))?;
        Ok(n.map_or(Seq::ZERO, Seq::from_sql))
    }
}
