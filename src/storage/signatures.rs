//! Rule 7's index: has this signature been recorded in this ledger already? Backed
//! by the index `waymark_events_sig` (schema/*.sql) on each event's signature, so
//! the check costs an index probe, not a replay. The aggregate reaches it through
//! `ledger::SignatureIndex`; commits check it inside their own transaction
//! (`append.rs`, with [`sqlite_recorded_among`] and the same probe on PostgreSQL).

use super::{storage, Db};
use crate::error::StorageError;
use std::collections::HashSet;

impl Db {
    /// One query per 500 signatures (the batch of an `apply`), through the same index.
    pub async fn recorded_among(
        &self,
        ledger: &str,
        sigs: &[&str],
    ) -> Result<HashSet<String>, StorageError> {
        let mut found = HashSet::new();
        for chunk in sigs.chunks(500) {
            let rows: Result<Vec<String>, sqlx::Error> = match self {
                Db::Sqlite(p) => match p.acquire().await {
                    Ok(mut conn) => sqlite_recorded_among(&mut conn, ledger, chunk).await,
                    Err(e) => Err(e),
                },
                // One index probe per signature, whatever the planner believes of
                // the ledger's size: with an IN list or `= ANY`, a generic plan
                // built on statistics from when the ledger was small scans every
                // row of the ledger instead (issue 6: batches slowed down as the
                // ledger grew, 2,164 → 974 statements/s between 23k and 61k events).
                Db::Postgres(p) => {
                    let sigs: Vec<&str> = chunk.to_vec();
                    sqlx::query_scalar(
                        "SELECT s.sig FROM unnest($2::text[]) AS s(sig) CROSS JOIN LATERAL (
                           SELECT 1 FROM events e WHERE e.aggregate_type = 'Ledger'
                             AND e.aggregate_id = $1 AND (e.payload->>'sig') = s.sig LIMIT 1) hit",
                    )
                    .bind(ledger)
                    .bind(sigs)
                    .fetch_all(p)
                    .await
                }
            };
            let rows = rows.map_err(|e| storage("looking up signatures", e))?;
            found.extend(rows);
        }
        Ok(found)
    }
}

/// Which of `sigs` (at most 500) are recorded in `ledger`, on SQLite.
pub(super) async fn sqlite_recorded_among(
    conn: &mut sqlx::SqliteConnection,
    ledger: &str,
    sigs: &[&str],
) -> Result<Vec<String>, sqlx::Error> {
    let mut q = sqlx::QueryBuilder::new(
        "SELECT json_extract(payload, '$.sig') FROM events WHERE aggregate_type = 'Ledger' AND aggregate_id = ",
    );
    q.push_bind(ledger)
        .push(" AND json_extract(payload, '$.sig') IN (");
    let mut list = q.separated(", ");
    for s in sigs {
        list.push_bind(*s);
    }
    q.push(")");
    q.build_query_scalar().fetch_all(conn).await
}
