//! The writer lock of a ledger, across processes.

use super::{storage, Db, SnapshotMark, StorageError};
use cqrs_es::persist::SerializedSnapshot;

/// Serializes the writers of one ledger across processes, so that concurrent appends
/// queue instead of racing for the next `seq` and retrying: a PostgreSQL session
/// advisory lock, or an exclusive lock on a file beside the SQLite database. The
/// optimistic-lock check of the store stays in place underneath (it is what keeps
/// the chain from forking); this only spares the wasted work of lost races.
pub struct WriterLock {
    held: Option<Held>,
}

enum Held {
    Postgres(sqlx::PgConnection, i64),
    Sqlite(Option<std::fs::File>),
}

fn lock_key(ledger: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("waymark-writer:{ledger}"));
    i64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The connection of a released PostgreSQL writer lock, kept for the next one
/// ([`Db::writer_lock`]): a process that queues on the lock for every write (8
/// writer processes on one ledger, issue 17) otherwise starts a server process
/// per write for it.
pub struct LockConnection(sqlx::PgConnection);

impl Db {
    /// Waits for, then takes, the writer lock of `ledger`, on `spare` if given (the
    /// connection of a lock released before) or a new connection.
    pub async fn writer_lock(
        &self,
        ledger: &str,
        spare: Option<LockConnection>,
    ) -> Result<WriterLock, StorageError> {
        let held = match self {
            Db::Postgres(p) => {
                // A connection of its own, not one of the pool's: writers waiting
                // here must not take the connections the lock holder needs to commit.
                let mut conn = lock_connection(p, spare).await?;
                let key = lock_key(ledger);
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(key)
                    .execute(&mut conn)
                    .await
                    .map_err(|e| storage("writer lock", e))?;
                Held::Postgres(conn, key)
            }
            Db::Sqlite(p) => {
                let db = p.connect_options().get_filename().to_path_buf();
                if db.as_os_str().is_empty() || db.to_string_lossy().contains(":memory:") {
                    Held::Sqlite(None)
                } else {
                    let mut name = db.into_os_string();
                    name.push(format!(
                        ".{}.lock",
                        hex::encode(lock_key(ledger).to_be_bytes())
                    ));
                    let file = tokio::task::spawn_blocking(move || {
                        let f = std::fs::OpenOptions::new()
                            .create(true)
                            .truncate(false)
                            .write(true)
                            .open(&name)?;
                        f.lock()?;
                        Ok::<_, std::io::Error>(f)
                    })
                    .await
                    .map_err(|e| storage("writer lock", e))?
                    .map_err(|e| storage("writer lock file", e))?;
                    Held::Sqlite(Some(file))
                }
            }
        };
        Ok(WriterLock { held: Some(held) })
    }
}

/// The connection a PostgreSQL writer lock is taken on: `spare` (the connection of a
/// lock released before) or a new one.
async fn lock_connection(
    pool: &sqlx::PgPool,
    spare: Option<LockConnection>,
) -> Result<sqlx::PgConnection, StorageError> {
    use sqlx::Connection;
    match spare {
        Some(LockConnection(c)) => Ok(c),
        None => sqlx::PgConnection::connect_with(&pool.connect_options())
            .await
            .map_err(|e| storage("writer lock", e)),
    }
}

/// A ledger's snapshot row as it was the moment the writer lock was granted.
pub struct LockedHead {
    pub mark: SnapshotMark,
    /// The snapshot itself, unless its mark was the one the caller already knew.
    pub snapshot: Option<SerializedSnapshot>,
}

impl Db {
    /// [`Db::writer_lock`], and with it, in the same round trip, the ledger's snapshot
    /// row read the moment the lock is granted (its payload only when the mark is
    /// not `known`). `None` for the head when it cannot be had that way (SQLite,
    /// where the read is local anyway; no snapshot yet; events past the snapshot):
    /// the caller reads it as usual.
    ///
    /// Under contention every write waits on this lock and then must learn the head
    /// the previous holder left: that took three more round trips inside the
    /// critical section (the snapshot's mark, the snapshot, the events after it),
    /// a third of it with 8 writer processes on PostgreSQL (issue 17). Sent as one
    /// simple-protocol string, the server runs the read as soon as the lock is
    /// granted; in READ COMMITTED the second statement takes its own snapshot, after
    /// the lock, so it sees every commit made under the lock before.
    pub async fn writer_lock_with_head(
        &self,
        ledger: &str,
        spare: Option<LockConnection>,
        known: Option<SnapshotMark>,
    ) -> Result<(WriterLock, Option<LockedHead>), StorageError> {
        let Db::Postgres(p) = self else {
            return Ok((self.writer_lock(ledger, spare).await?, None));
        };
        // The id is inlined (the simple protocol has no parameters): only ids of
        // the grammar `^[a-z0-9][a-z0-9-]{0,62}$` are, others take the usual path.
        if !waymark_core::is_ledger_id(ledger) {
            return Ok((self.writer_lock(ledger, spare).await?, None));
        }
        use sqlx::{Connection, Row};
        let mut conn = lock_connection(p, spare).await?;
        let key = lock_key(ledger);
        let (kl, kv) = known.map_or((-1, -1), |m| (m.last.to_sql(), m.version.to_sql()));
        let sql = format!(
            "SELECT pg_advisory_lock({key});
             SELECT s.last_sequence, s.current_snapshot,
                    CASE WHEN s.last_sequence = {kl} AND s.current_snapshot = {kv}
                         THEN NULL ELSE s.payload END AS payload,
                    (SELECT e.sequence FROM events e
                      WHERE e.aggregate_type = 'Ledger' AND e.aggregate_id = '{ledger}'
                        AND e.sequence > s.last_sequence
                      ORDER BY e.sequence LIMIT 1) AS past
               FROM snapshots s
              WHERE s.aggregate_type = 'Ledger' AND s.aggregate_id = '{ledger}'"
        );
        let rows = match sqlx::raw_sql(&sql).fetch_all(&mut conn).await {
            Ok(rows) => rows,
            Err(e) => {
                // The lock may or may not be held: closing the session releases it.
                let _ = conn.close().await;
                return Err(storage("writer lock", e));
            }
        };
        let lock = WriterLock {
            held: Some(Held::Postgres(conn, key)),
        };
        let head = rows.iter().find_map(|r| {
            let last: i64 = r.try_get("last_sequence").ok()?;
            let version: i64 = r.try_get("current_snapshot").ok()?;
            let past: Option<i64> = r.try_get("past").ok()?;
            let payload: Option<serde_json::Value> = r.try_get("payload").ok()?;
            let mark = SnapshotMark::from_sql((last, version));
            // Events past the snapshot (not written by this store's appends, which
            // move both at once): the usual load folds them.
            if past.is_some() {
                return None;
            }
            Some(LockedHead {
                mark,
                snapshot: payload.map(|aggregate| SerializedSnapshot {
                    aggregate_id: ledger.to_string(),
                    aggregate,
                    current_sequence: mark.last.to_cqrs(),
                    current_snapshot: mark.version.to_cqrs(),
                }),
            })
        });
        Ok((lock, head))
    }
}

impl WriterLock {
    /// Releases the lock (dropping it releases it too, less gracefully). Gives back
    /// the PostgreSQL connection when the unlock was confirmed, for the next lock.
    pub async fn release(mut self) -> Option<LockConnection> {
        if let Some(Held::Sqlite(Some(file))) = &self.held {
            // Dropping the file would release it too; unlocking first is explicit.
            let _ = file.unlock();
        }
        if let Some(Held::Postgres(mut conn, key)) = self.held.take() {
            let unlocked: Result<bool, _> = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .fetch_one(&mut conn)
                .await;
            if let Ok(true) = unlocked {
                return Some(LockConnection(conn));
            }
            // Closing the session releases the lock in any case.
            let _ = sqlx::Connection::close(conn).await;
        }
        None
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        match self.held.take() {
            // Closing the session releases its advisory locks.
            Some(Held::Postgres(conn, _)) => drop(conn),
            // Closing the file releases its lock.
            Some(Held::Sqlite(_)) | None => {}
        }
    }
}
