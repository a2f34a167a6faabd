//! Rule 7's index: has this signature been recorded in this ledger already? Backed
//! by the index `waymark_events_sig` (schema/*.sql) on each event's signature, so
//! the check costs an index probe, not a replay. The aggregate reaches it through
//! `ledger::SignatureIndex`; commits check it inside their own transaction
//! (`append.rs`, with [`sqlite_recorded_among`] and the same probe on PostgreSQL).

use super::{storage, Db};
use crate::error::StorageError;
use std::collections::HashSet;

/// PostgreSQL's probe of rule 7 for each signature `q.sig` (ledger `$1`): one look-up
/// in `waymark_events_sig`, whose key is this very expression. The primary key cannot
/// answer it, so no plan filters the ledger's rows by signature instead (on a table
/// without statistics, the planner took the primary key, its leading columns being
/// the old index's, and read every row: issue 17, `tests/plans.rs`). The `LIMIT`
/// keeps it a probe per signature: with an `IN` list or `= ANY`, a generic plan built
/// on statistics from when the ledger was small scans the ledger (issue 6: batches
/// slowed from 2,164 to 974 statements/s between 23k and 61k events).
macro_rules! pg_sig_hit {
    () => {
        "CROSS JOIN LATERAL (SELECT 1 FROM events e
           WHERE (e.aggregate_type || ' ' || e.aggregate_id || ' ' || (e.payload->>'sig'))
             = ('Ledger ' || $1 || ' ' || q.sig) LIMIT 1) hit"
    };
}
pub(super) use pg_sig_hit;

/// The signatures of the text array `$2` that ledger `$1` has recorded.
pub(super) const PG_RECORDED_AMONG: &str = concat!(
    "SELECT q.sig FROM unnest($2::text[]) AS q(sig) ",
    pg_sig_hit!()
);

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
                Db::Postgres(p) => {
                    let sigs: Vec<&str> = chunk.to_vec();
                    sqlx::query_scalar(PG_RECORDED_AMONG)
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
