//! The witness's durable state: its own SQLite file (`witness.db`, schema in
//! `schema.sql`), apart from any ledger's store.
//!
//! Durability: WAL journal with `synchronous = FULL`. In WAL mode FULL fsyncs the WAL
//! at every commit, so a commit that returned survives a crash of the process or of
//! the machine (NORMAL would not survive a power loss); one fsync per commit, where a
//! rollback journal takes two or more; and readers (`witness status`, the lookups of
//! other requests) never block the writer. The cost: the state is three files (`-wal`,
//! `-shm`) on a local file system (WAL's shared memory does not work over NFS).
//!
//! Atomicity: [`State::advance`] reads a log's head, decides, and writes the new head
//! in one `BEGIN IMMEDIATE` transaction, which takes SQLite's write lock before the
//! read, so the check of the old size and the update cannot interleave with another
//! request's, in this process or another (an offline `witness cosign` beside `serve`).
//! This is the race tlog-witness describes (two requests checked against size N, the
//! larger one stored first, then rolled back by the smaller one). Within one process
//! the writers also queue on a mutex, so they wait in order instead of polling the
//! lock. The commit returns before the cosignature leaves the process.

use crate::error::{Error, Result, StorageError};
use crate::witness::keys::Identity;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::{Path, PathBuf};
use std::time::Duration;
use waymark_events::{empty_root, Hash};

const SCHEMA: &str = include_str!("schema.sql");
/// `PRAGMA user_version` of this schema.
const VERSION: i64 = 1;
/// Evidence rows kept per log.
const MAX_EVIDENCE: i64 = 1000;

/// A log the witness accepts, and the latest checkpoint it cosigned for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogState {
    pub origin: String,
    /// The log's verifier key (type 0x01).
    pub vkey: String,
    /// The size of the latest cosigned checkpoint; 0 before the first.
    pub size: u64,
    /// Its root; the empty tree's (SHA-256 of nothing) before the first.
    pub root: Hash,
    /// The latest cosigned checkpoint as submitted; None before the first.
    pub note: Option<String>,
    /// When it was cosigned (POSIX seconds); None before the first.
    pub cosigned_at: Option<u64>,
    /// When the log was registered (POSIX seconds).
    pub added_at: u64,
}

/// One cosignature the witness gave, as kept in its append-only table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignedRow {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The checkpoint as submitted (with the log's signature).
    pub note: String,
    /// The signature line(s) returned.
    pub cosignature: String,
    pub cosigned_at: u64,
}

/// A validly signed checkpoint the witness refused because it contradicts what it
/// cosigned: kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub origin: String,
    pub old_size: u64,
    pub size: u64,
    pub root: Hash,
    pub note: String,
    /// The consistency proof sent, base64 lines.
    pub proof: String,
    pub reason: String,
    pub received_at: u64,
}

/// The witness's state file, open.
pub struct State {
    pool: SqlitePool,
    path: PathBuf,
    writer: tokio::sync::Mutex<()>,
}

fn db_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Storage(StorageError::database(format!(
        "witness state {}: {e}",
        path.display()
    )))
}

fn to_u64(path: &Path, v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| {
        Error::Storage(StorageError::inconsistent(format!(
            "witness state {}: negative size or time {v}",
            path.display()
        )))
    })
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::BadInput(format!("{v} is larger than 2^63 - 1")))
}

fn to_hash(path: &Path, b: Vec<u8>) -> Result<Hash> {
    let arr: [u8; 32] = b.try_into().map_err(|_| {
        Error::Storage(StorageError::inconsistent(format!(
            "witness state {}: a stored root is not 32 bytes",
            path.display()
        )))
    })?;
    Ok(Hash(arr))
}

impl State {
    async fn connect(path: &Path) -> Result<State> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(false)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|e| db_err(path, e))?;
        sqlx::raw_sql(SCHEMA)
            .execute(&pool)
            .await
            .map_err(|e| db_err(path, e))?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&pool)
            .await
            .map_err(|e| db_err(path, e))?;
        match version {
            0 => {
                sqlx::query(&format!("PRAGMA user_version = {VERSION}"))
                    .execute(&pool)
                    .await
                    .map_err(|e| db_err(path, e))?;
            }
            VERSION => {}
            v => {
                return Err(Error::Storage(StorageError::inconsistent(format!(
                    "witness state {} has schema version {v}; this waymark knows {VERSION}",
                    path.display()
                ))))
            }
        }
        Ok(State {
            pool,
            path: path.to_path_buf(),
            writer: tokio::sync::Mutex::new(()),
        })
    }

    /// Creates the state file of a new witness (mode 0600; refused if a file is there).
    pub async fn create(path: &Path, id: &Identity, now: u64) -> Result<State> {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| Error::Storage(StorageError::file(format!("{}: {e}", path.display()))))?;
        let state = Self::connect(path).await?;
        sqlx::query("INSERT INTO witness (id, name, vkey, created_at) VALUES (1, ?, ?, ?)")
            .bind(&id.name)
            .bind(id.vkey.vkey())
            .bind(to_i64(now)?)
            .execute(&state.pool)
            .await
            .map_err(|e| db_err(path, e))?;
        Ok(state)
    }

    /// Opens an existing state file (None if there is none).
    pub async fn open(path: &Path) -> Result<Option<State>> {
        match path.symlink_metadata() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::Storage(StorageError::file(format!(
                    "{}: {e}",
                    path.display()
                ))))
            }
            Ok(_) => {}
        }
        Self::connect(path).await.map(Some)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The witness's name and verifier key as recorded at `init`.
    pub async fn witness(&self) -> Result<(String, String)> {
        let row = sqlx::query("SELECT name, vkey FROM witness WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err(&self.path, e))?
            .ok_or_else(|| {
                Error::Storage(StorageError::inconsistent(format!(
                    "witness state {} has no witness row (an interrupted init?)",
                    self.path.display()
                )))
            })?;
        Ok((row.get("name"), row.get("vkey")))
    }

    /// Registers a log by its origin and verifier key. `Ok(true)`: added;
    /// `Ok(false)`: already registered with this very key; a different key for a
    /// known origin is refused.
    pub async fn add_log(&self, origin: &str, vkey: &str, now: u64) -> Result<bool> {
        let _w = self.writer.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| db_err(&self.path, e))?;
        let known: Option<String> = sqlx::query_scalar("SELECT vkey FROM logs WHERE origin = ?")
            .bind(origin)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_err(&self.path, e))?;
        match known {
            Some(k) if k == vkey => return Ok(false),
            Some(k) => {
                return Err(Error::BadInput(format!(
                    "log {origin:?} is already registered with key {k}: a witness keeps one \
                     key per origin, and a log that changes its key is a new log (a new \
                     origin); nothing was changed"
                )))
            }
            None => {}
        }
        sqlx::query("INSERT INTO logs (origin, vkey, added_at) VALUES (?, ?, ?)")
            .bind(origin)
            .bind(vkey)
            .bind(to_i64(now)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err(&self.path, e))?;
        tx.commit().await.map_err(|e| db_err(&self.path, e))?;
        Ok(true)
    }

    fn log_from(&self, row: &sqlx::sqlite::SqliteRow) -> Result<LogState> {
        let root: Option<Vec<u8>> = row.get("root");
        let at: Option<i64> = row.get("cosigned_at");
        Ok(LogState {
            origin: row.get("origin"),
            vkey: row.get("vkey"),
            size: to_u64(&self.path, row.get("size"))?,
            root: match root {
                Some(r) => to_hash(&self.path, r)?,
                None => empty_root(),
            },
            note: row.get("note"),
            cosigned_at: at.map(|t| to_u64(&self.path, t)).transpose()?,
            added_at: to_u64(&self.path, row.get("added_at"))?,
        })
    }

    /// The log registered under `origin`, if any.
    pub async fn log(&self, origin: &str) -> Result<Option<LogState>> {
        let row = sqlx::query("SELECT * FROM logs WHERE origin = ?")
            .bind(origin)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err(&self.path, e))?;
        row.map(|r| self.log_from(&r)).transpose()
    }

    /// Every registered log, by origin.
    pub async fn logs(&self) -> Result<Vec<LogState>> {
        let rows = sqlx::query("SELECT * FROM logs ORDER BY origin")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err(&self.path, e))?;
        rows.iter().map(|r| self.log_from(r)).collect()
    }

    /// Every cosignature given (for one log, or all), oldest first.
    pub async fn cosigned(&self, origin: Option<&str>) -> Result<Vec<CosignedRow>> {
        let rows =
            sqlx::query("SELECT * FROM cosigned WHERE ?1 IS NULL OR origin = ?1 ORDER BY id")
                .bind(origin)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_err(&self.path, e))?;
        rows.iter()
            .map(|r| {
                Ok(CosignedRow {
                    origin: r.get("origin"),
                    size: to_u64(&self.path, r.get("size"))?,
                    root: to_hash(&self.path, r.get("root"))?,
                    note: r.get("note"),
                    cosignature: r.get("cosignature"),
                    cosigned_at: to_u64(&self.path, r.get("cosigned_at"))?,
                })
            })
            .collect()
    }

    /// The evidence kept (for one log, or all), oldest first.
    pub async fn evidence(&self, origin: Option<&str>) -> Result<Vec<Evidence>> {
        let rows =
            sqlx::query("SELECT * FROM evidence WHERE ?1 IS NULL OR origin = ?1 ORDER BY id")
                .bind(origin)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_err(&self.path, e))?;
        rows.iter()
            .map(|r| {
                Ok(Evidence {
                    origin: r.get("origin"),
                    old_size: to_u64(&self.path, r.get("old_size"))?,
                    size: to_u64(&self.path, r.get("size"))?,
                    root: to_hash(&self.path, r.get("root"))?,
                    note: r.get("note"),
                    proof: r.get("proof"),
                    reason: r.get("reason"),
                    received_at: to_u64(&self.path, r.get("received_at"))?,
                })
            })
            .collect()
    }

    /// The atomic step of `add-checkpoint`: under SQLite's write lock, reads the
    /// head of `origin`, asks `decide` what to do, and either records the new head
    /// (appending it to `cosigned` first, then moving the log's head) or keeps the
    /// refusal's evidence, then commits (durably) before returning. `decide` runs
    /// inside the transaction and must not block.
    pub async fn advance<R>(
        &self,
        origin: &str,
        decide: impl FnOnce(&LogState) -> Verdict<R>,
    ) -> Result<Result<CosignedRow, R>> {
        let _w = self.writer.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| db_err(&self.path, e))?;
        let row = sqlx::query("SELECT * FROM logs WHERE origin = ?")
            .bind(origin)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_err(&self.path, e))?
            .ok_or_else(|| {
                Error::Storage(StorageError::inconsistent(format!(
                    "witness state {}: log {origin:?} vanished",
                    self.path.display()
                )))
            })?;
        let current = self.log_from(&row)?;
        let outcome = match decide(&current) {
            Verdict::Cosign(new) => {
                sqlx::query(
                    "INSERT INTO cosigned (origin, size, root, note, cosignature, cosigned_at) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(origin)
                .bind(to_i64(new.size)?)
                .bind(&new.root.0[..])
                .bind(&new.note)
                .bind(&new.cosignature)
                .bind(to_i64(new.cosigned_at)?)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_err(&self.path, e))?;
                sqlx::query(
                    "UPDATE logs SET size = ?, root = ?, note = ?, cosigned_at = ? \
                     WHERE origin = ?",
                )
                .bind(to_i64(new.size)?)
                .bind(&new.root.0[..])
                .bind(&new.note)
                .bind(to_i64(new.cosigned_at)?)
                .bind(origin)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_err(&self.path, e))?;
                Ok(new)
            }
            Verdict::Refuse(r, None) => {
                // Nothing to write: end the transaction without a commit's fsync.
                tx.rollback().await.map_err(|e| db_err(&self.path, e))?;
                return Ok(Err(r));
            }
            Verdict::Refuse(r, Some(ev)) => {
                sqlx::query(
                    "INSERT INTO evidence \
                     (origin, old_size, size, root, note, proof, reason, received_at) \
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 \
                     WHERE (SELECT count(*) FROM evidence WHERE origin = ?1) < ?9",
                )
                .bind(origin)
                .bind(to_i64(ev.old_size)?)
                .bind(to_i64(ev.size)?)
                .bind(&ev.root.0[..])
                .bind(&ev.note)
                .bind(&ev.proof)
                .bind(&ev.reason)
                .bind(to_i64(ev.received_at)?)
                .bind(MAX_EVIDENCE)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_err(&self.path, e))?;
                Err(r)
            }
        };
        tx.commit().await.map_err(|e| db_err(&self.path, e))?;
        Ok(outcome)
    }

    /// `PRAGMA integrity_check`: "ok", or what SQLite found.
    pub async fn integrity_check(&self) -> Result<String> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err(&self.path, e))?;
        Ok(rows.join("; "))
    }
}

/// What [`State::advance`]'s decision is: cosign (the new head), or refuse (with
/// evidence to keep, if the checkpoint contradicts what was cosigned).
pub enum Verdict<R> {
    Cosign(CosignedRow),
    Refuse(R, Option<Evidence>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::witness::keys::identity;

    fn row(origin: &str, size: u64, root: u8, at: u64) -> CosignedRow {
        CosignedRow {
            origin: origin.into(),
            size,
            root: Hash([root; 32]),
            note: format!("note {size}"),
            cosignature: "sig\n".into(),
            cosigned_at: at,
        }
    }

    async fn fresh() -> (tempfile::TempDir, State) {
        let t = tempfile::tempdir().unwrap();
        let id = identity("w.example", ed25519_dalek::SigningKey::from_bytes(&[9; 32])).unwrap();
        let s = State::create(&t.path().join("w.db"), &id, 1).await.unwrap();
        (t, s)
    }

    #[tokio::test]
    async fn heads_move_forward_and_refusals_keep_evidence() {
        let (_t, s) = fresh().await;
        assert!(s
            .add_log("log.example", "log.example+00+AA", 5)
            .await
            .unwrap());
        assert!(!s
            .add_log("log.example", "log.example+00+AA", 6)
            .await
            .unwrap());
        assert!(s
            .add_log("log.example", "log.example+11+BB", 6)
            .await
            .is_err());
        let head = s.log("log.example").await.unwrap().unwrap();
        assert_eq!((head.size, head.root), (0, empty_root()));
        let got = s
            .advance::<()>("log.example", |h| {
                assert_eq!(h.size, 0);
                Verdict::Cosign(row("log.example", 3, 1, 10))
            })
            .await
            .unwrap();
        assert_eq!(got.unwrap().size, 3);
        let ev = Evidence {
            origin: "log.example".into(),
            old_size: 3,
            size: 3,
            root: Hash([2; 32]),
            note: "n".into(),
            proof: String::new(),
            reason: "another root".into(),
            received_at: 11,
        };
        let refused = s
            .advance("log.example", |_| Verdict::Refuse("no", Some(ev.clone())))
            .await
            .unwrap();
        assert_eq!(refused, Err("no"));
        assert_eq!(s.evidence(None).await.unwrap(), vec![ev]);
        let head = s.log("log.example").await.unwrap().unwrap();
        assert_eq!(
            (head.size, head.root, head.cosigned_at),
            (3, Hash([1; 32]), Some(10))
        );
        assert_eq!(s.integrity_check().await.unwrap(), "ok");
    }

    #[tokio::test]
    async fn the_file_itself_refuses_a_second_root_a_rollback_and_edits() {
        let (_t, s) = fresh().await;
        s.add_log("log.example", "k", 1).await.unwrap();
        s.advance::<()>("log.example", |_| {
            Verdict::Cosign(row("log.example", 5, 1, 2))
        })
        .await
        .unwrap()
        .unwrap();
        // A bug that decided to cosign another root at 5, or to go back to 4, is
        // stopped by the triggers, and nothing of it is kept.
        for bad in [row("log.example", 5, 2, 3), row("log.example", 4, 3, 3)] {
            let err = s
                .advance::<()>("log.example", |_| Verdict::Cosign(bad.clone()))
                .await
                .unwrap_err();
            assert_eq!(err.exit_code(), 4, "{err}");
        }
        assert_eq!(s.cosigned(None).await.unwrap().len(), 1);
        assert_eq!(s.log("log.example").await.unwrap().unwrap().size, 5);
        for sql in [
            "DELETE FROM cosigned",
            "UPDATE cosigned SET root = zeroblob(32)",
            "UPDATE logs SET vkey = 'other'",
            "UPDATE logs SET size = 6, root = zeroblob(32)",
            "DELETE FROM logs",
            "UPDATE witness SET name = 'x'",
        ] {
            assert!(sqlx::query(sql).execute(&s.pool).await.is_err(), "{sql}");
        }
    }
}
