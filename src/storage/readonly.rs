//! Opening a store for reading only (issue 12), as a user who may hold nothing but
//! read access.

use super::url::{in_memory, no_database, redact, target, Target};
use super::version::unusable;
use super::{on_pool, pg_pool, storage, Db, SchemaState};
use crate::error::{Error, StorageError};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use std::str::FromStr;
use std::time::Duration;

/// SQLITE_READONLY (8) or SQLITE_CANTOPEN (14), with any extended code: what a
/// read-only connection answers when it would have to create the -wal file.
fn cannot_create_wal(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => d
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| matches!(c & 0xff, 8 | 14)),
        _ => false,
    }
}

fn wal_exists(db: &std::path::Path) -> bool {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::path::Path::new(&wal).exists()
}

/// What identifies a file's content version without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl FileStamp {
    fn of(path: &std::path::Path) -> std::io::Result<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        Ok(FileStamp {
            len: m.len(),
            modified: m.modified().ok(),
            inode: m.ino(),
        })
    }
}

/// Returned by [`Db::open_read_only`]: for a SQLite file read as immutable (see
/// there), `check` fails if the file changed while it was read, since what was read
/// may then mix two versions of it.
#[derive(Debug, Default)]
pub struct ReadGuard(Option<(std::path::PathBuf, FileStamp)>);

impl ReadGuard {
    pub fn check(&self) -> Result<(), Error> {
        let Some((path, stamp)) = &self.0 else {
            return Ok(());
        };
        if FileStamp::of(path).ok().as_ref() != Some(stamp) || wal_exists(path) {
            return Err(Error::Storage(StorageError::database(format!(
                "{} changed while it was read: it was read without locks (this user cannot create its -wal and -shm files in that directory), so run the command again",
                path.display()
            ))));
        }
        Ok(())
    }
}

impl Db {
    /// Opens a store for reading only, as a user who may hold nothing but read access:
    /// no table is created, no pragma that writes (WAL switch) is set, and SQLite
    /// opens the file read-only (`SQLITE_OPEN_READONLY`), so a 0644 file owned by
    /// someone else can be read (issue 12). PostgreSQL sessions run with
    /// `default_transaction_read_only`, so a stray write fails loudly. A store with
    /// no Waymark tables (or no SQLite file) is "no ledger", a usage error.
    pub async fn open_read_only(url: &str) -> Result<(Db, ReadGuard), Error> {
        let no_ledger = || {
            Error::Usage(format!(
                "no ledger in {}: run `waymark init --ledger ID --framework optimism` first",
                redact(url)
            ))
        };
        let (db, tables, guard) = match target(url)? {
            Target::Postgres => {
                let opts = PgConnectOptions::from_str(url)
                    .map_err(|e| storage("bad PostgreSQL URL", e))?
                    .options([("default_transaction_read_only", "on")]);
                let pool = pg_pool(url, opts, 4).await?;
                let db = Db::Postgres(pool);
                let n = db
                    .has_tables()
                    .await
                    .map_err(|e| storage("reading the schema", e))?;
                (db, n, ReadGuard(None))
            }
            Target::SqliteFile(path) => {
                match std::fs::metadata(&path) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(no_database(&path, url).into())
                    }
                    Err(e) => return Err(storage(&format!("cannot open {url}"), e).into()),
                    Ok(_) => {}
                }
                // No `journal_mode`: the file keeps the mode it was written in (WAL),
                // and reading it does not need the pragma.
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(|e| storage("bad SQLite URL", e))?
                    .read_only(true)
                    .create_if_missing(false)
                    .busy_timeout(Duration::from_secs(30));
                let open = |opts: SqliteConnectOptions| async move {
                    let pool = super::pool_options(4)
                        .connect_with(opts)
                        .await
                        .map_err(|e| storage(&format!("cannot open {url} for reading"), e))?;
                    Ok::<_, Error>(Db::Sqlite(pool))
                };
                let db = open(opts.clone()).await?;
                match db.has_tables().await {
                    Ok(n) => (db, n, ReadGuard(None)),
                    // A WAL database whose -wal and -shm files are gone (the last
                    // writer closed it) needs them created to be read, which a user
                    // who cannot write the directory cannot do (SQLite: "a read-only
                    // WAL-mode database file can be opened if the -shm and -wal files
                    // already exist or those files can be created or the database is
                    // immutable"). With no -wal file every commit is in the database
                    // file itself, so it is read as immutable (no locks), and the
                    // guard fails the command if the file changed meanwhile.
                    Err(e) if cannot_create_wal(&e) && !wal_exists(&path) => {
                        db.close().await;
                        let stamp = FileStamp::of(&path)
                            .map_err(|e| storage(&format!("cannot open {url}"), e))?;
                        let db = open(opts.immutable(true)).await?;
                        let n = db
                            .has_tables()
                            .await
                            .map_err(|e| storage("reading the schema", e))?;
                        (db, n, ReadGuard(Some((path, stamp))))
                    }
                    Err(e) => return Err(storage("reading the schema", e).into()),
                }
            }
            Target::SqliteMemory => return Err(Error::Usage(in_memory(url))),
        };
        if !tables {
            db.close().await;
            return Err(no_ledger());
        }
        // The version is read, never written here: an older store is refused with
        // the command that upgrades it.
        let state = db.schema_state().await;
        let refused = match state {
            Ok(SchemaState::At(v)) => unusable(&db.name(), v),
            Ok(SchemaState::Empty) => None,
            Err(e) => Some(e),
        };
        if let Some(e) = refused {
            db.close().await;
            return Err(e.into());
        }
        Ok((db, guard))
    }

    /// Whether the store holds Waymark's event table.
    pub(super) async fn has_tables(&self) -> Result<bool, sqlx::Error> {
        let q = match self {
            Db::Sqlite(_) => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'",
            Db::Postgres(_) => "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = 'events' AND schemaname = ANY (current_schemas(false))",
        };
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(q).fetch_one(p).await)?;
        Ok(n > 0)
    }
}
