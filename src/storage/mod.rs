//! Storage: the two backends, SQLite (embedded default) and PostgreSQL, and
//! everything that knows their tables. Nothing above this folder writes SQL for the
//! event store.
//!
//! - `Db` (here): a connected store; creates the tables of `schema/*.sql` on first use.
//! - [`url`]: what a `--db` URL names; [`readonly`]: opening a store read-only.
//! - [`repo`]: the cqrs-es event and view repositories over a `Db` — the one place
//!   where the backend is chosen, by the `Db` variant.
//! - [`append`]: one commit (events + snapshot, rule 7 at commit).
//! - [`signatures`]: rule 7's index (has this signature been recorded?).
//! - [`row`]: the metadata kept in each event row (its hash and tree nodes), written
//!   and parsed only there; [`nodes`]: tree nodes read back from the rows.
//! - [`lock`]: the writer lock of a ledger across processes.

mod append;
mod events;
mod lock;
mod nodes;
mod readonly;
mod repo;
mod row;
mod seq;
mod signatures;
mod url;
mod version;
mod witnessed;

pub use append::{Append, AppendError, AppendEvent, SnapshotMark};
pub use events::EventRow;
pub use lock::{LockConnection, WriterLock};
pub use nodes::nodes;
pub use readonly::ReadGuard;
pub use repo::{EventRepository, ViewRepository};
pub use row::RowMeta;
pub use seq::Seq;
pub use url::{in_memory, no_database, redact, target, Target};
pub use version::{SchemaState, SCHEMA_VERSION};
pub use witnessed::Witnessed;

use crate::error::StorageError;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// The tables, their indexes and the read-model tables, one file per backend.
const SQLITE_SCHEMA: &str = include_str!("schema/sqlite.sql");
const POSTGRES_SCHEMA: &str = include_str!("schema/postgres.sql");

/// Runs the same sqlx expression against whichever pool `db` holds. Every SQL string
/// used with it is written once, with `$N` placeholders that both drivers accept.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::storage::Db::Sqlite($pool) => $body,
            $crate::storage::Db::Postgres($pool) => $body,
        }
    };
}

pub(crate) use on_pool;

/// A connected store.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

pub(crate) fn storage(what: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError::database(format!("{what}: {e}"))
}

/// The options of every pool of the store: `max` connections, and a connection
/// checked (`ping`) before it is handed out only when it has been idle for a second
/// or more. sqlx's default checks every connection on every acquire: one more round
/// trip before each statement, which was 11.6% of the CPU of a `serve` taking 8
/// clients' posts on PostgreSQL (`perf record`, issue 17). A connection used within
/// the last second that broke meanwhile fails its statement instead, as one that
/// breaks during a statement always could: a storage error, nothing written.
pub(crate) fn pool_options<DB: sqlx::Database>(max: u32) -> sqlx::pool::PoolOptions<DB> {
    use sqlx::Connection;
    sqlx::pool::PoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|conn: &mut DB::Connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= Duration::from_secs(1) {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// A PostgreSQL pool whose first connection is made here: a refused or unreachable
/// server is reported at once with its cause ("Connection refused"), where the
/// pool's own connect retries until its acquire timeout and then says only "pool
/// timed out" (10 s, issue 15). A server that accepts but does not answer is still
/// bounded: 10 s to connect.
///
/// The pool makes the connection; only if it has none after 200 ms does a direct
/// connection find out why. Issue 17: a direct connection made first and closed
/// again cost every process a second server start-up (5–15 ms of a 20 ms command).
pub(super) async fn pg_pool(
    url: &str,
    opts: PgConnectOptions,
    max: u32,
) -> Result<sqlx::PgPool, StorageError> {
    use sqlx::{ConnectOptions, Connection};
    let cannot = |e: &dyn std::fmt::Display| {
        StorageError::database(format!("cannot connect to {}: {e}", redact(url)))
    };
    let pool = pool_options(max).connect_lazy_with(opts.clone());
    let first = pool.acquire();
    tokio::pin!(first);
    match tokio::time::timeout(Duration::from_millis(200), &mut first).await {
        // Back to the pool, for the first query.
        Ok(Ok(_conn)) => return Ok(pool),
        // Not one the pool retries (authentication, no such database): its cause.
        Ok(Err(e)) => return Err(cannot(&e)),
        Err(_) => {}
    }
    let direct = tokio::time::timeout(Duration::from_secs(10), opts.connect())
        .await
        .map_err(|_| cannot(&"no answer within 10 s"))?
        .map_err(|e| cannot(&e))?;
    let _ = direct.close().await;
    first.await.map_err(|e| cannot(&e))?;
    Ok(pool)
}

impl Db {
    /// Connects to `sqlite://PATH` (file created if missing) or `postgres://…`: on an
    /// empty database it creates the tables at the current schema version, otherwise
    /// it checks the stored version (one row, `version.rs`) and refuses a store that
    /// needs `waymark migrate` or a newer waymark.
    pub async fn connect(url: &str) -> Result<Db, StorageError> {
        let db = Self::open(url).await?;
        if let Err(e) = db.ready().await {
            db.close().await;
            return Err(e);
        }
        Ok(db)
    }

    /// [`Db::connect`] for a process that runs one write and exits (a CLI write
    /// command): on PostgreSQL, one connection, which the read models share (see
    /// [`Db::for_read_models`]) instead of opening their own. Each connection costs
    /// a server process's start-up (issue 17: four of them were most of a
    /// `milestone set`'s 50–500 ms), and one command never needs two at once. SQLite
    /// connections are a file open: as [`Db::connect`].
    pub async fn connect_one(url: &str) -> Result<Db, StorageError> {
        let db = Self::open_with(url, 1).await?;
        if let Err(e) = db.ready().await {
            db.close().await;
            return Err(e);
        }
        Ok(db)
    }

    /// Connects without looking at the tables: for `waymark migrate` ([`Db::migrate`]).
    pub async fn open(url: &str) -> Result<Db, StorageError> {
        Self::open_with(url, 4).await
    }

    async fn open_with(url: &str, pg_connections: u32) -> Result<Db, StorageError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut opts =
                PgConnectOptions::from_str(url).map_err(|e| storage("bad PostgreSQL URL", e))?;
            if pg_connections == 1 {
                // The read models' reads go through it too (see `for_read_models`).
                opts = opts.options([("enable_sort", "off")]);
            }
            Ok(Db::Postgres(pg_pool(url, opts, pg_connections).await?))
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| storage("bad SQLite URL", e))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                // The writer's commits do not checkpoint the WAL: the read models'
                // connections do (`for_read_models`), in the background task that
                // follows each commit. With SQLite's default every commit that finds
                // more than 1,000 pages in the WAL copies them into the database file
                // and fsyncs it before `record` returns; a 1,000-statement batch
                // writes ≈ 20 KB per statement (/proc/PID/io), most of it the random
                // pages of the signature index, so at a large ledger nearly every
                // batch paid for a checkpoint (issue 17, goal 4). Durability is the
                // WAL's (`synchronous = FULL` syncs it at each commit); a checkpoint
                // only moves committed pages, and any connection may run it.
                .pragma("wal_autocheckpoint", "0");
            let pool = pool_options(4)
                .connect_with(opts)
                .await
                .map_err(|e| storage(&format!("cannot open {url}"), e))?;
            Ok(Db::Sqlite(pool))
        } else {
            Err(StorageError::database(format!(
                "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
                redact(url)
            )))
        }
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

    /// Ids of the ledgers in this store (those with an event at seq 1), sorted.
    ///
    /// A skip scan of the primary key, one probe per ledger: `WHERE sequence = 1`
    /// alone is not a prefix of the key, so it read every row's key (O(ledger), and
    /// the server asks on every request).
    pub async fn ledgers(&self) -> Result<Vec<String>, StorageError> {
        // Each step and each check is a probe with a `LIMIT` or on the whole key (a
        // scalar subquery stays a per-row probe; `EXISTS` became a semi join that
        // read every seq-1 key).
        let q = "WITH RECURSIVE l(id) AS (
                   SELECT CAST('' AS text)
                   UNION ALL
                   SELECT (SELECT e.aggregate_id FROM events e WHERE e.aggregate_type = 'Ledger'
                           AND e.aggregate_id > l.id ORDER BY e.aggregate_id LIMIT 1)
                   FROM l WHERE l.id IS NOT NULL)
                 SELECT l.id FROM l WHERE l.id <> '' AND (SELECT e.sequence FROM events e
                   WHERE e.aggregate_type = 'Ledger' AND e.aggregate_id = l.id AND e.sequence = 1) = 1
                 ORDER BY l.id";
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
            // One connection for everything (`connect_one`): the read models write
            // through it, with the durable commit (a few milliseconds of fsync
            // instead of a second server process).
            Db::Postgres(p) if p.options().get_max_connections() == 1 => self.clone(),
            Db::Postgres(p) => {
                // `enable_sort = off`: the read models are read in seq order along an
                // index (pages newest first, ranges, the last checkpoint), and that is
                // the plan wanted whatever the statistics say. On tables that were never
                // analyzed the planner believed a ledger's rows few, and read all of
                // them to sort out a page of 50 (issue 17, tests/plans.rs). A sort
                // still happens where no index gives the order; it is only never
                // preferred to one.
                let opts = (*p.connect_options())
                    .clone()
                    .options([("synchronous_commit", "off"), ("enable_sort", "off")]);
                Db::Postgres(pool_options(2).connect_lazy_with(opts))
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
                // These connections run the WAL checkpoints the writer's skip (see
                // `open_with`), at SQLite's default threshold of 1,000 pages, after
                // their own commits. With `synchronous = NORMAL` a checkpoint still
                // syncs the WAL before it and the database file after it (SQLite's
                // `PRAGMA synchronous`), so the events it moves stay durable.
                let opts = (*p.connect_options())
                    .clone()
                    .synchronous(SqliteSynchronous::Normal)
                    .pragma("wal_autocheckpoint", "1000");
                Db::Sqlite(pool_options(2).connect_lazy_with(opts))
            }
        }
    }

    /// Where the snapshot row stands: whether an aggregate kept in memory is still
    /// the head, without reading the snapshot itself.
    pub async fn snapshot_mark(&self, ledger: &str) -> Result<Option<SnapshotMark>, StorageError> {
        let q = "SELECT last_sequence, current_snapshot FROM snapshots WHERE aggregate_type = 'Ledger' AND aggregate_id = $1";
        let r: Option<(i64, i64)> =
            on_pool!(self, p => sqlx::query_as(q).bind(ledger).fetch_optional(p).await)
                .map_err(|e| storage("reading the snapshot version", e))?;
        Ok(r.map(SnapshotMark::from_sql))
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}
