//! The schema's version (issue 17): one row in `waymark_schema`. A store is created
//! at the current version (by `init`, or by the first command on an empty database),
//! upgraded by `waymark migrate`, and every other start-up reads that one row instead
//! of running the DDL (which cost a round trip per statement of `schema/*.sql`, and
//! took locks, on every command).
//!
//! Versions: 1 is a store made before the table existed (its tables, no row); 2 adds
//! the row, and on PostgreSQL rule 7's index keyed on one expression (see
//! `signatures.rs`); 3 adds `waymark_history_ids` (each id an audit row names, filled
//! from the stored rows by `migrate`) and keys the type index on seq (issue 17, goal 2:
//! the dashboard's filtered pages walk only the rows they show).

use super::{on_pool, storage, Db, StorageError, POSTGRES_SCHEMA, SQLITE_SCHEMA};

/// The version this build creates and needs.
pub const SCHEMA_VERSION: i64 = 3;

/// What a store's schema is, as read at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    /// No Waymark tables: an empty database.
    Empty,
    /// Tables at this version (1: tables without the version row).
    At(i64),
}

/// Why a store cannot be used as it is: too old (run `migrate`) or too new.
pub fn unusable(db_name: &str, version: i64) -> Option<StorageError> {
    if version < SCHEMA_VERSION {
        Some(StorageError::database(format!(
            "the tables in {db_name} are schema version {version}, this waymark needs version \
             {SCHEMA_VERSION}: run `waymark --db URL migrate` (as a user who may alter the tables) \
             to upgrade them; the events are kept as they are"
        )))
    } else if version > SCHEMA_VERSION {
        Some(StorageError::database(format!(
            "the tables in {db_name} are schema version {version}, newer than this waymark \
             knows (version {SCHEMA_VERSION}): this waymark is too old for this store, \
             upgrade it"
        )))
    } else {
        None
    }
}

impl Db {
    /// The schema as stored: one query in the usual case (the version row), a second
    /// one only when that table is missing (an empty store, or one from before it).
    pub async fn schema_state(&self) -> Result<SchemaState, StorageError> {
        let q = "SELECT version FROM waymark_schema WHERE id = 1";
        let read: Result<Option<i64>, sqlx::Error> =
            on_pool!(self, p => sqlx::query_scalar(q).fetch_optional(p).await);
        match read {
            Ok(Some(v)) => Ok(SchemaState::At(v)),
            // The table with no row: a creation interrupted before its row; what
            // `migrate` finishes.
            Ok(None) => Ok(SchemaState::At(1)),
            Err(e) if missing_table(&e) => {
                if self
                    .has_tables()
                    .await
                    .map_err(|e| storage("reading the schema", e))?
                {
                    Ok(SchemaState::At(1))
                } else {
                    Ok(SchemaState::Empty)
                }
            }
            Err(e) => Err(storage("reading the schema version", e)),
        }
    }

    /// Creates the tables at the current version on an empty store, or checks the
    /// stored version: what every command but `migrate` does on opening a store
    /// for writing.
    pub(super) async fn ready(&self) -> Result<(), StorageError> {
        match self.schema_state().await? {
            SchemaState::At(v) => match unusable(&self.name(), v) {
                Some(e) => Err(e),
                None => Ok(()),
            },
            SchemaState::Empty => self.install().await,
        }
    }

    /// Upgrades the tables to the current version (`waymark migrate`): the current
    /// DDL (every statement idempotent: `IF NOT EXISTS`, and the re-keying of an
    /// index that has an earlier key), then the version row, in one transaction. A
    /// store at the current version is left as it is; a newer one is refused.
    /// Returns the version found (`None`: the store was empty).
    pub async fn migrate(&self) -> Result<Option<i64>, StorageError> {
        let found = match self.schema_state().await? {
            SchemaState::Empty => None,
            SchemaState::At(v) if v > SCHEMA_VERSION => {
                return Err(unusable(&self.name(), v).unwrap_or_else(|| {
                    StorageError::internal("a newer schema reported as usable")
                }))
            }
            SchemaState::At(v) => Some(v),
        };
        self.install().await?;
        Ok(found)
    }

    /// The DDL and the version row, in one transaction that holds the write side
    /// (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: an advisory lock, so that two
    /// processes creating a store at once do not race on the catalog).
    async fn install(&self) -> Result<(), StorageError> {
        let row = format!(
            "INSERT INTO waymark_schema (id, version) VALUES (1, {SCHEMA_VERSION})
             ON CONFLICT (id) DO UPDATE SET version = excluded.version"
        );
        let fail = |e| storage("creating the tables", e);
        match self {
            Db::Postgres(p) => {
                let mut tx = p.begin().await.map_err(fail)?;
                // Any fixed key: it only serializes creators of this database's tables.
                sqlx::query("SELECT pg_advisory_xact_lock(7745)")
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
                sqlx::query("SET LOCAL client_min_messages TO warning")
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
                sqlx::raw_sql(POSTGRES_SCHEMA)
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
                sqlx::raw_sql(&row).execute(&mut *tx).await.map_err(fail)?;
                tx.commit().await.map_err(fail)
            }
            Db::Sqlite(p) => {
                let mut tx = p.begin_with("BEGIN IMMEDIATE").await.map_err(fail)?;
                sqlx::raw_sql(SQLITE_SCHEMA)
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
                sqlx::raw_sql(&row).execute(&mut *tx).await.map_err(fail)?;
                tx.commit().await.map_err(fail)
            }
        }
    }
}

/// PostgreSQL's `undefined_table` (42P01), SQLite's "no such table".
fn missing_table(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.code().as_deref() == Some("42P01") || d.message().contains("no such table")
        }
        _ => false,
    }
}
