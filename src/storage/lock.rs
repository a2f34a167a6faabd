//! The writer lock of a ledger, across processes.

use super::{storage, Db, StorageError};

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
                use sqlx::Connection;
                let mut conn = match spare {
                    Some(LockConnection(c)) => c,
                    None => sqlx::PgConnection::connect_with(&p.connect_options())
                        .await
                        .map_err(|e| storage("writer lock", e))?,
                };
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
