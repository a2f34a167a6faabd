//! One commit of the chained store, written in sqlite-es's and postgres-es's tables
//! (which read them back): events and the snapshot after them, all or nothing, with
//! rule 7 checked by the same statement or transaction.

use super::signatures::{pg_sig_hit, sqlite_recorded_among, PG_RECORDED_AMONG};
use super::{storage, Db, Seq, StorageError};
use std::collections::HashSet;

/// One commit of the chained store: a batch of events and the aggregate snapshot
/// after them, written all or nothing.
#[derive(Debug)]
pub struct Append<'a> {
    pub ledger: &'a str,
    pub events: Vec<AppendEvent>,
    /// The snapshot after the batch (JSON text) and where it stands.
    pub snapshot: String,
    pub mark: SnapshotMark,
}

/// Where the one snapshot row of a ledger stands: the seq of the last event it
/// folds (`last_sequence`) and its version (`current_snapshot`; version 1 is
/// inserted, version `v > 1` replaces `v - 1`, so a writer that loaded version
/// `v - 1` wins the race for the next seq and every other loses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotMark {
    pub last: Seq,
    pub version: Seq,
}

impl SnapshotMark {
    /// From the row's `(last_sequence, current_snapshot)` columns.
    pub(super) fn from_sql((last, version): (i64, i64)) -> Self {
        SnapshotMark {
            last: Seq::from_sql(last),
            version: Seq::from_sql(version),
        }
    }

    /// The snapshot of a commit on this one whose last event is `last`.
    pub fn after(self, last: Seq) -> Self {
        SnapshotMark {
            last,
            version: self.version.next(),
        }
    }
}

impl Append<'_> {
    /// The batch's signatures (rule 7: none may be recorded already).
    fn sigs(&self) -> Vec<&str> {
        self.events.iter().map(|e| e.sig.as_str()).collect()
    }
}

/// An event row as sqlite-es and postgres-es lay it out.
#[derive(Debug)]
pub struct AppendEvent {
    pub sequence: Seq,
    pub event_type: String,
    pub event_version: String,
    /// JSON text of the event (its canonical bytes) and of the row's metadata.
    pub payload: String,
    pub metadata: String,
    /// The event's signature, for rule 7 at commit.
    pub sig: String,
}

/// Why an append did not happen.
#[derive(Debug)]
pub enum AppendError {
    /// Another writer took the next `seq` or moved the snapshot on, or a signature
    /// of the batch is recorded already (rule 7); nothing written.
    Conflict,
    Storage(StorageError),
}

fn append_error(e: sqlx::Error) -> AppendError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => AppendError::Conflict,
        _ => AppendError::Storage(storage("appending events", e)),
    }
}

impl Db {
    /// Writes a batch of events and the snapshot after it, in the tables of
    /// sqlite-es / postgres-es (which read them back), all or nothing; a lost race
    /// is `AppendError::Conflict`, exactly as those repositories report it.
    ///
    /// Written here rather than through their `persist`, which sends one INSERT
    /// per event and then the snapshot, each a round trip in an explicit
    /// transaction: issue 6 measured 75–135 ms of a 1,000-statement commit there,
    /// and four round trips for a single append. On PostgreSQL this is one
    /// statement (the snapshot update in a CTE that the events' INSERT depends on,
    /// the rows as arrays through `unnest`), so one round trip whatever the batch
    /// size; on SQLite one transaction with multi-row INSERTs.
    pub async fn append(&self, a: &Append<'_>) -> Result<(), AppendError> {
        match self {
            Db::Postgres(p) => {
                // Rule 7 in the same statement: one index probe per signature (see
                // `recorded_among`), and the snapshot moves only if none is found.
                let snap = if a.mark.version == Seq(1) {
                    "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
                     SELECT 'Ledger', $1, $2, $3, $4::json WHERE NOT EXISTS (SELECT 1 FROM dup)
                     ON CONFLICT DO NOTHING RETURNING 1"
                } else {
                    "UPDATE snapshots SET last_sequence = $2, current_snapshot = $3, payload = $4::json
                     WHERE aggregate_type = 'Ledger' AND aggregate_id = $1 AND current_snapshot = $3 - 1
                       AND NOT EXISTS (SELECT 1 FROM dup)
                     RETURNING 1"
                };
                let sql = format!(
                    "WITH dup AS (SELECT 1 FROM unnest($10::text[]) AS q(sig) {hit}),
                     snap AS ({snap})
                     INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                     SELECT 'Ledger', $1, v.s, v.et, v.ev, v.p::json, v.m::json
                     FROM unnest($5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[]) AS v(s, et, ev, p, m)
                     WHERE EXISTS (SELECT 1 FROM snap)",
                    hit = pg_sig_hit!()
                );
                let col = |f: fn(&AppendEvent) -> &String| -> Vec<&str> {
                    a.events.iter().map(|e| f(e).as_str()).collect()
                };
                let done = sqlx::query(&sql)
                    .bind(a.ledger)
                    .bind(a.mark.last.to_sql())
                    .bind(a.mark.version.to_sql())
                    .bind(a.snapshot.as_str())
                    .bind(
                        a.events
                            .iter()
                            .map(|e| e.sequence.to_sql())
                            .collect::<Vec<i64>>(),
                    )
                    .bind(col(|e| &e.event_type))
                    .bind(col(|e| &e.event_version))
                    .bind(col(|e| &e.payload))
                    .bind(col(|e| &e.metadata))
                    .bind(a.sigs())
                    .execute(p)
                    .await
                    .map_err(append_error)?;
                if done.rows_affected() as usize != a.events.len() {
                    return Err(AppendError::Conflict);
                }
                Ok(())
            }
            Db::Sqlite(p) => {
                let mut tx = p.begin().await.map_err(append_error)?;
                let snap = if a.mark.version == Seq(1) {
                    "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
                     VALUES ('Ledger', $1, $2, $3, $4) ON CONFLICT DO NOTHING"
                } else {
                    "UPDATE snapshots SET last_sequence = $2, current_snapshot = $3, payload = $4
                     WHERE aggregate_type = 'Ledger' AND aggregate_id = $1 AND current_snapshot = $3 - 1"
                };
                let moved = sqlx::query(snap)
                    .bind(a.ledger)
                    .bind(a.mark.last.to_sql())
                    .bind(a.mark.version.to_sql())
                    .bind(a.snapshot.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(append_error)?;
                if moved.rows_affected() != 1 {
                    return Err(AppendError::Conflict);
                }
                // Rule 7 inside the transaction. The snapshot was written first, so this
                // transaction holds SQLite's write lock already: a read before the
                // first write would make the write fail (SQLITE_BUSY) when another
                // writer commits in between, instead of waiting for it.
                for chunk in a.sigs().chunks(500) {
                    let found = sqlite_recorded_among(&mut tx, a.ledger, chunk)
                        .await
                        .map_err(append_error)?;
                    if !found.is_empty() {
                        return Err(AppendError::Conflict);
                    }
                }

                sqlite_insert_events(&mut tx, a.ledger, &a.events).await?;
                tx.commit().await.map_err(append_error)
            }
        }
    }

    /// Begins an append written in pieces inside one transaction (`apply` streaming
    /// a file): `expected` is the `(last_sequence, current_snapshot)` of the head the
    /// caller loaded (`None`: no snapshot row yet). The transaction holds the write
    /// side from its first statement (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: the
    /// snapshot row locked `FOR UPDATE`), so no other writer can append until it
    /// ends, and the head it checked stays the head. `Conflict` when the stored
    /// head is not `expected`.
    pub async fn begin_append(
        &self,
        ledger: &str,
        expected: Option<SnapshotMark>,
    ) -> Result<AppendTx, AppendError> {
        let q = "SELECT last_sequence, current_snapshot FROM snapshots WHERE aggregate_type = 'Ledger' AND aggregate_id = $1";
        let (tx, found) = match self {
            Db::Sqlite(p) => {
                let mut tx = p
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(append_error)?;
                let found: Option<(i64, i64)> = sqlx::query_as(q)
                    .bind(ledger)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(append_error)?;
                (Tx::Sqlite(tx), found)
            }
            Db::Postgres(p) => {
                let mut tx = p.begin().await.map_err(append_error)?;
                // Rule 7's probes must use the signature index. The statistics do
                // not count this transaction's own rows, so the planner believed the
                // table small and scanned it (parsing every payload) once per
                // signature: 8,000 lines took minutes, growing as the square.
                sqlx::query("SET LOCAL enable_seqscan = off")
                    .execute(&mut *tx)
                    .await
                    .map_err(append_error)?;
                let found: Option<(i64, i64)> = sqlx::query_as(&format!("{q} FOR UPDATE"))
                    .bind(ledger)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(append_error)?;
                (Tx::Postgres(tx), found)
            }
        };
        if found.map(SnapshotMark::from_sql) != expected {
            return Err(AppendError::Conflict);
        }
        Ok(AppendTx {
            tx,
            ledger: ledger.to_string(),
        })
    }
}

/// 7 parameters a row, 1000 rows a statement: well under SQLite's 32,766.
async fn sqlite_insert_events(
    conn: &mut sqlx::SqliteConnection,
    ledger: &str,
    events: &[AppendEvent],
) -> Result<(), AppendError> {
    for chunk in events.chunks(1000) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) ",
        );
        q.push_values(chunk, |mut b, e| {
            b.push_bind("Ledger")
                .push_bind(ledger)
                .push_bind(e.sequence.to_sql())
                .push_bind(e.event_type.as_str())
                .push_bind(e.event_version.as_str())
                .push_bind(e.payload.as_str())
                .push_bind(e.metadata.as_str());
        });
        q.build().execute(&mut *conn).await.map_err(append_error)?;
    }
    Ok(())
}

enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// An append in progress (see [`Db::begin_append`]): events go in piece by piece,
/// each piece's signatures checked against everything recorded before it, this
/// transaction's own rows included; [`AppendTx::finish`] moves the snapshot and
/// commits. Dropped unfinished, it rolls back: nothing is recorded.
pub struct AppendTx {
    tx: Tx,
    ledger: String,
}

impl AppendTx {
    /// Which of `sigs` are recorded already, in the store or earlier in this
    /// transaction (rule 7), through the signature index.
    pub async fn recorded_among(&mut self, sigs: &[&str]) -> Result<HashSet<String>, AppendError> {
        let mut found = HashSet::new();
        for chunk in sigs.chunks(500) {
            let rows = match &mut self.tx {
                Tx::Sqlite(tx) => sqlite_recorded_among(tx, &self.ledger, chunk).await,
                Tx::Postgres(tx) => {
                    sqlx::query_scalar(PG_RECORDED_AMONG)
                        .bind(&self.ledger)
                        .bind(chunk)
                        .fetch_all(&mut **tx)
                        .await
                }
            };
            found.extend(rows.map_err(append_error)?);
        }
        Ok(found)
    }

    /// Writes chained events (their `seq` must follow what this transaction wrote).
    pub async fn insert(&mut self, events: &[AppendEvent]) -> Result<(), AppendError> {
        match &mut self.tx {
            Tx::Sqlite(tx) => sqlite_insert_events(tx, &self.ledger, events).await,
            Tx::Postgres(tx) => {
                let col = |f: fn(&AppendEvent) -> &String| -> Vec<&str> {
                    events.iter().map(|e| f(e).as_str()).collect()
                };
                sqlx::query(
                    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                     SELECT 'Ledger', $1, v.s, v.et, v.ev, v.p::json, v.m::json
                     FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS v(s, et, ev, p, m)",
                )
                .bind(&self.ledger)
                .bind(events.iter().map(|e| e.sequence.to_sql()).collect::<Vec<i64>>())
                .bind(col(|e| &e.event_type))
                .bind(col(|e| &e.event_version))
                .bind(col(|e| &e.payload))
                .bind(col(|e| &e.metadata))
                .execute(&mut **tx)
                .await
                .map(|_| ())
                .map_err(append_error)
            }
        }
    }

    /// Stores the snapshot after the last event (see [`SnapshotMark`]) and commits.
    pub async fn finish(self, snapshot: &str, mark: SnapshotMark) -> Result<(), AppendError> {
        let sql = if mark.version == Seq(1) {
            "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
             VALUES ('Ledger', $1, $2, $3, $4{cast}) ON CONFLICT DO NOTHING"
        } else {
            "UPDATE snapshots SET last_sequence = $2, current_snapshot = $3, payload = $4{cast}
             WHERE aggregate_type = 'Ledger' AND aggregate_id = $1 AND current_snapshot = $3 - 1"
        };
        macro_rules! finish {
            ($tx:ident, $cast:expr) => {{
                let sql = sql.replace("{cast}", $cast);
                let r = sqlx::query(&sql)
                    .bind(&self.ledger)
                    .bind(mark.last.to_sql())
                    .bind(mark.version.to_sql())
                    .bind(snapshot)
                    .execute(&mut *$tx)
                    .await
                    .map_err(append_error)?;
                if r.rows_affected() != 1 {
                    return Err(AppendError::Conflict);
                }
                $tx.commit().await.map_err(append_error)
            }};
        }
        match self.tx {
            Tx::Sqlite(mut tx) => finish!(tx, ""),
            Tx::Postgres(mut tx) => finish!(tx, "::json"),
        }
    }
}
