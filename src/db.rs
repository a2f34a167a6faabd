//! Database handles for the two backends: SQLite (embedded default) and PostgreSQL.
//! Creates the sqlite-es / postgres-es tables on first use, plus Waymark's index on
//! each event's signature (rule 7 without a replay) and the read-model tables.

use crate::aggregate::SignatureIndex;
use crate::error::{Error, StorageError};
use crate::read_model;
use async_trait::async_trait;
use postgres_es::PostgresEventRepository;
use sqlite_es::SqliteEventRepository;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

/// Table layout of sqlite-es's and postgres-es's own migrations, created when absent,
/// with one change: the snapshot table's key is `(aggregate_type, aggregate_id)`, not
/// `(…, last_sequence)`. There is one snapshot row per aggregate, updated on every
/// commit; with `last_sequence` in the key each update moved the row in the index,
/// so PostgreSQL could not update it in place (HOT) and reading it slowed down as
/// dead versions piled up (issue 6: an inclusion proof at 100k events took 183 ms).
const SQLITE_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS events (
       aggregate_type text NOT NULL, aggregate_id text NOT NULL,
       sequence integer CHECK (sequence >= 0) NOT NULL,
       event_type text NOT NULL, event_version text NOT NULL,
       payload text NOT NULL, metadata text NOT NULL,
       PRIMARY KEY (aggregate_type, aggregate_id, sequence)) STRICT",
    "CREATE TABLE IF NOT EXISTS snapshots (
       aggregate_type text NOT NULL, aggregate_id text NOT NULL,
       last_sequence integer CHECK (last_sequence >= 0) NOT NULL,
       current_snapshot integer CHECK (current_snapshot >= 0) NOT NULL,
       payload text NOT NULL,
       PRIMARY KEY (aggregate_type, aggregate_id)) STRICT",
    "CREATE INDEX IF NOT EXISTS waymark_events_sig
       ON events (aggregate_type, aggregate_id, json_extract(payload, '$.sig'))",
];

const POSTGRES_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS events (
       aggregate_type text NOT NULL, aggregate_id text NOT NULL,
       sequence bigint CHECK (sequence >= 0) NOT NULL,
       event_type text NOT NULL, event_version text NOT NULL,
       payload json NOT NULL, metadata json NOT NULL,
       PRIMARY KEY (aggregate_type, aggregate_id, sequence))",
    "CREATE TABLE IF NOT EXISTS snapshots (
       aggregate_type text NOT NULL, aggregate_id text NOT NULL,
       last_sequence bigint CHECK (last_sequence >= 0) NOT NULL,
       current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
       payload json NOT NULL,
       PRIMARY KEY (aggregate_type, aggregate_id))",
    "CREATE INDEX IF NOT EXISTS waymark_events_sig
       ON events (aggregate_type, aggregate_id, (payload->>'sig'))",
];

/// Runs the same sqlx expression against whichever pool `db` holds. Every SQL string
/// used with it is written once, with `$N` placeholders that both drivers accept.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

pub(crate) use on_pool;

/// What a database URL names, told apart before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Postgres,
    SqliteFile(std::path::PathBuf),
    /// `sqlite::memory:` or `mode=memory`: gone when the process exits.
    SqliteMemory,
}

/// Classifies a `--db` URL; `Err` is a usage message naming the URL. `sqlite://` with
/// no path used to open a private temporary database per connection, so the tables
/// created on one were missing on the next ("no such table: main.waymark_history").
pub fn target(url: &str) -> Result<Target, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres);
    }
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        if !url.contains(':') {
            return Err(format!(
                "--db {url:?} has no scheme: did you mean sqlite://{url}? (or postgres://…)"
            ));
        }
        return Err(format!(
            "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
            redact(url)
        ));
    };
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    let memory = path == ":memory:" || params.split('&').any(|kv| kv == "mode=memory");
    if memory {
        return Ok(Target::SqliteMemory);
    }
    if path.is_empty() {
        return Err(format!(
            "database URL {url:?} names no file: use sqlite://PATH (for example sqlite://waymark.db)"
        ));
    }
    let opts =
        SqliteConnectOptions::from_str(url).map_err(|e| format!("bad SQLite URL {url:?}: {e}"))?;
    Ok(Target::SqliteFile(opts.get_filename().to_path_buf()))
}

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
            return Err(Error::Storage(StorageError(format!(
                "{} changed while it was read: it was read without locks (this user cannot create its -wal and -shm files in that directory), so run the command again",
                path.display()
            ))));
        }
        Ok(())
    }
}

/// A read, or a write other than `init`, against a SQLite file that is not there:
/// refused before an empty database is created in its place (issue 15).
pub fn no_database(path: &std::path::Path, url: &str) -> StorageError {
    StorageError(format!(
        "no database at {} (create one with `waymark --db {url} init --ledger ID --framework optimism`)",
        path.display()
    ))
}

/// Why a command line refuses an in-memory SQLite store.
pub fn in_memory(url: &str) -> String {
    format!(
        "database URL {url:?} is an in-memory database: nothing would be kept after this command exits; use sqlite://PATH"
    )
}

/// A connected store.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

fn storage(what: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError(format!("{what}: {e}"))
}

/// A PostgreSQL pool whose first connection is made here, once: a refused or
/// unreachable server is reported at once with its cause ("Connection refused"),
/// where the pool's own connect retries until its acquire timeout and then says only
/// "pool timed out" (10 s, issue 15). A server that accepts but does not answer is
/// still bounded: 10 s to connect.
async fn pg_pool(
    url: &str,
    opts: PgConnectOptions,
    max: u32,
) -> Result<sqlx::PgPool, StorageError> {
    use sqlx::{ConnectOptions, Connection};
    let cannot =
        |e: &dyn std::fmt::Display| StorageError(format!("cannot connect to {}: {e}", redact(url)));
    let first = tokio::time::timeout(Duration::from_secs(10), opts.connect())
        .await
        .map_err(|_| cannot(&"no answer within 10 s"))?
        .map_err(|e| cannot(&e))?;
    let pool = PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with(opts);
    // The checked connection is closed rather than handed to the pool: a pool
    // connection is made the same way, now known to work.
    let _ = first.close().await;
    Ok(pool)
}

impl Db {
    /// Connects to `sqlite://PATH` (file created if missing) or `postgres://…`, and
    /// creates the tables when absent.
    pub async fn connect(url: &str) -> Result<Db, StorageError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts =
                PgConnectOptions::from_str(url).map_err(|e| storage("bad PostgreSQL URL", e))?;
            let pool = pg_pool(url, opts, 4).await?;
            sqlx::query("SET client_min_messages TO warning")
                .execute(&pool)
                .await
                .map_err(|e| storage("PostgreSQL", e))?;
            for stmt in POSTGRES_SCHEMA
                .iter()
                .chain(read_model::POSTGRES_SCHEMA)
                .chain(read_model::INDEXES)
            {
                sqlx::query(stmt)
                    .execute(&pool)
                    .await
                    .map_err(|e| storage("creating tables", e))?;
            }
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| storage("bad SQLite URL", e))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(opts)
                .await
                .map_err(|e| storage(&format!("cannot open {url}"), e))?;
            for stmt in SQLITE_SCHEMA
                .iter()
                .chain(read_model::SQLITE_SCHEMA)
                .chain(read_model::INDEXES)
            {
                sqlx::query(stmt)
                    .execute(&pool)
                    .await
                    .map_err(|e| storage("creating tables", e))?;
            }
            Ok(Db::Sqlite(pool))
        } else {
            Err(StorageError(format!(
                "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
                redact(url)
            )))
        }
    }

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
        let (db, tables, guard) = match target(url).map_err(Error::Usage)? {
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
                    let pool = SqlitePoolOptions::new()
                        .max_connections(4)
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
        Ok((db, guard))
    }

    /// Whether the store holds Waymark's event table.
    async fn has_tables(&self) -> Result<bool, sqlx::Error> {
        let q = match self {
            Db::Sqlite(_) => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'",
            Db::Postgres(_) => "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = 'events' AND schemaname = ANY (current_schemas(false))",
        };
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(q).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// The database as a message names it: the SQLite file, or the PostgreSQL
    /// server and database (no password).
    pub fn name(&self) -> String {
        match self {
            Db::Sqlite(p) => format!("sqlite://{}", p.connect_options().get_filename().display()),
            Db::Postgres(p) => {
                let o = p.connect_options();
                format!(
                    "postgres://{}:{}/{}",
                    o.get_host(),
                    o.get_port(),
                    o.get_database().unwrap_or("")
                )
            }
        }
    }

    /// Ids of the ledgers in this store, sorted.
    pub async fn ledgers(&self) -> Result<Vec<String>, StorageError> {
        let q = "SELECT aggregate_id FROM events WHERE aggregate_type = 'Ledger' AND sequence = 1 ORDER BY aggregate_id";
        let r = match self {
            Db::Sqlite(p) => sqlx::query_scalar(q).fetch_all(p).await,
            Db::Postgres(p) => sqlx::query_scalar(q).fetch_all(p).await,
        };
        r.map_err(|e| storage("listing ledgers", e))
    }

    /// A second handle on the same store for the read models, whose commits do not
    /// wait for the disk: PostgreSQL sessions with `synchronous_commit = off`, SQLite
    /// connections with `synchronous = NORMAL` (WAL). The read models are a pure
    /// function of the events and every read catches them up from the events, so a
    /// crash that loses their last writes costs a catch-up, never a wrong answer;
    /// the events themselves keep their durable commit. An in-memory SQLite store
    /// (one database per connection pool) is shared as is.
    pub fn for_read_models(&self) -> Db {
        match self {
            Db::Postgres(p) => {
                let opts = (*p.connect_options())
                    .clone()
                    .options([("synchronous_commit", "off")]);
                Db::Postgres(
                    PgPoolOptions::new()
                        .max_connections(2)
                        .acquire_timeout(Duration::from_secs(10))
                        .connect_lazy_with(opts),
                )
            }
            Db::Sqlite(p) => {
                let name = p
                    .connect_options()
                    .get_filename()
                    .to_string_lossy()
                    .into_owned();
                if name.is_empty() || name.contains(":memory:") {
                    return self.clone();
                }
                let opts = (*p.connect_options())
                    .clone()
                    .synchronous(SqliteSynchronous::Normal);
                Db::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(2)
                        .connect_lazy_with(opts),
                )
            }
        }
    }

    /// The snapshot row's `(last_sequence, current_snapshot)`: whether an aggregate
    /// kept in memory is still the head, without reading the snapshot itself.
    pub async fn snapshot_version(&self, ledger: &str) -> Result<Option<(u64, u64)>, StorageError> {
        let q = "SELECT last_sequence, current_snapshot FROM snapshots WHERE aggregate_type = 'Ledger' AND aggregate_id = $1";
        let r: Option<(i64, i64)> =
            on_pool!(self, p => sqlx::query_as(q).bind(ledger).fetch_optional(p).await)
                .map_err(|e| storage("reading the snapshot version", e))?;
        Ok(r.map(|(a, b)| (a as u64, b as u64)))
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// One commit of the chained store: a batch of events and the aggregate snapshot
/// after them, written all or nothing.
#[derive(Debug)]
pub struct Append<'a> {
    pub ledger: &'a str,
    pub events: Vec<AppendEvent>,
    /// The snapshot after the batch (JSON text), its `last_sequence`, and its
    /// version: 1 inserts it, `v > 1` replaces version `v - 1`.
    pub snapshot: String,
    pub last_sequence: i64,
    pub snapshot_version: i64,
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
    pub sequence: i64,
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
    Storage(String),
}

fn append_error(e: sqlx::Error) -> AppendError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => AppendError::Conflict,
        _ => AppendError::Storage(format!("appending events: {e}")),
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
                let snap = if a.snapshot_version == 1 {
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
                    "WITH dup AS (SELECT 1 FROM unnest($10::text[]) AS q(sig) CROSS JOIN LATERAL (
                       SELECT 1 FROM events e WHERE e.aggregate_type = 'Ledger'
                         AND e.aggregate_id = $1 AND (e.payload->>'sig') = q.sig LIMIT 1) hit),
                     snap AS ({snap})
                     INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                     SELECT 'Ledger', $1, v.s, v.et, v.ev, v.p::json, v.m::json
                     FROM unnest($5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[]) AS v(s, et, ev, p, m)
                     WHERE EXISTS (SELECT 1 FROM snap)"
                );
                let col = |f: fn(&AppendEvent) -> &String| -> Vec<&str> {
                    a.events.iter().map(|e| f(e).as_str()).collect()
                };
                let done = sqlx::query(&sql)
                    .bind(a.ledger)
                    .bind(a.last_sequence)
                    .bind(a.snapshot_version)
                    .bind(a.snapshot.as_str())
                    .bind(a.events.iter().map(|e| e.sequence).collect::<Vec<i64>>())
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
                let snap = if a.snapshot_version == 1 {
                    "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
                     VALUES ('Ledger', $1, $2, $3, $4) ON CONFLICT DO NOTHING"
                } else {
                    "UPDATE snapshots SET last_sequence = $2, current_snapshot = $3, payload = $4
                     WHERE aggregate_type = 'Ledger' AND aggregate_id = $1 AND current_snapshot = $3 - 1"
                };
                let moved = sqlx::query(snap)
                    .bind(a.ledger)
                    .bind(a.last_sequence)
                    .bind(a.snapshot_version)
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
        expected: Option<(u64, u64)>,
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
        if found.map(|(a, b)| (a as u64, b as u64)) != expected {
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
                .push_bind(e.sequence)
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
                    sqlx::query_scalar(
                        "SELECT s.sig FROM unnest($2::text[]) AS s(sig) CROSS JOIN LATERAL (
                           SELECT 1 FROM events e WHERE e.aggregate_type = 'Ledger'
                             AND e.aggregate_id = $1 AND (e.payload->>'sig') = s.sig LIMIT 1) hit",
                    )
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
                .bind(events.iter().map(|e| e.sequence).collect::<Vec<i64>>())
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

    /// Stores the snapshot after the last event (version `snapshot_version`: 1
    /// inserts it, `v > 1` replaces `v - 1`) and commits.
    pub async fn finish(
        self,
        snapshot: &str,
        last_sequence: i64,
        snapshot_version: i64,
    ) -> Result<(), AppendError> {
        let sql = if snapshot_version == 1 {
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
                    .bind(last_sequence)
                    .bind(snapshot_version)
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

impl Db {
    /// Waits for, then takes, the writer lock of `ledger`.
    pub async fn writer_lock(&self, ledger: &str) -> Result<WriterLock, StorageError> {
        let held = match self {
            Db::Postgres(p) => {
                // A connection of its own, not one of the pool's: writers waiting
                // here must not take the connections the lock holder needs to commit.
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect_with(&p.connect_options())
                    .await
                    .map_err(|e| storage("writer lock", e))?;
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
    /// Releases the lock (dropping it releases it too, less gracefully).
    pub async fn release(mut self) {
        if let Some(Held::Sqlite(Some(file))) = &self.held {
            // Dropping the file would release it too; unlocking first is explicit.
            let _ = file.unlock();
        }
        if let Some(Held::Postgres(mut conn, key)) = self.held.take() {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut conn)
                .await;
            // Closing the session releases the lock in any case.
            let _ = sqlx::Connection::close(conn).await;
        }
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

/// Hides a password in a URL before it is printed.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &cred[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[async_trait]
impl SignatureIndex for Db {
    async fn seq_of(&self, ledger: &str, sig: &str) -> Result<Option<u64>, String> {
        let r: Result<Option<i64>, sqlx::Error> = match self {
            Db::Sqlite(p) => sqlx::query_scalar(
                "SELECT sequence FROM events WHERE aggregate_type = 'Ledger' AND aggregate_id = ?1 AND json_extract(payload, '$.sig') = ?2 LIMIT 1",
            )
            .bind(ledger)
            .bind(sig)
            .fetch_optional(p)
            .await,
            Db::Postgres(p) => sqlx::query_scalar(
                "SELECT sequence FROM events WHERE aggregate_type = 'Ledger' AND aggregate_id = $1 AND (payload->>'sig') = $2 LIMIT 1",
            )
            .bind(ledger)
            .bind(sig)
            .fetch_optional(p)
            .await,
        };
        r.map(|x| x.map(|s| s as u64)).map_err(|e| e.to_string())
    }

    /// One query per 500 signatures (the batch of an `apply`), through the same index.
    async fn recorded_among(&self, ledger: &str, sigs: &[&str]) -> Result<HashSet<String>, String> {
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
            let rows = rows.map_err(|e| e.to_string())?;
            found.extend(rows);
        }
        Ok(found)
    }
}

/// Which of `sigs` (at most 500) are recorded in `ledger`, on SQLite.
async fn sqlite_recorded_among(
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

/// The repositories this crate runs on, built from a connected pool.
pub trait Repository: cqrs_es::persist::PersistedEventRepository + 'static {}
impl Repository for SqliteEventRepository {}
impl Repository for PostgresEventRepository {}
