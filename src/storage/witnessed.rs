//! Witnessed checkpoints: what `publish --witness` collected, kept with the ledger so
//! that the dashboard can show who cosigned the current checkpoint and when, and
//! `serve` can hand the cosigned note to monitors (table `waymark_witnessed`).

use super::{on_pool, storage, Db};
use crate::error::StorageError;

/// A checkpoint with its cosignatures, as `publish` stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witnessed {
    pub tree_size: u64,
    /// The signed note: the log's signature, then the witnesses' cosignatures.
    pub note: String,
    /// The witness verifier keys the cosignatures were checked with at publication.
    pub witnesses: Vec<String>,
    pub published_at: String,
}

impl Db {
    /// Keeps a cosigned checkpoint (replacing one of the same size: more cosignatures).
    pub async fn save_witnessed(&self, ledger: &str, w: &Witnessed) -> Result<(), StorageError> {
        let size = i64::try_from(w.tree_size)
            .map_err(|_| StorageError::internal("tree size beyond i64"))?;
        let keys = w.witnesses.join("\n");
        on_pool!(self, p => sqlx::query(
            "INSERT INTO waymark_witnessed (ledger, tree_size, note, witnesses, published_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (ledger, tree_size) DO UPDATE
             SET note = excluded.note, witnesses = excluded.witnesses,
                 published_at = excluded.published_at",
        )
        .bind(ledger)
        .bind(size)
        .bind(&w.note)
        .bind(&keys)
        .bind(&w.published_at)
        .execute(p)
        .await
        .map(|_| ()))
        .map_err(|e| storage("saving a witnessed checkpoint", e))
    }

    /// The largest witnessed checkpoint of `ledger`, if any. A store opened read-only
    /// whose schema predates the table has none.
    pub async fn latest_witnessed(&self, ledger: &str) -> Result<Option<Witnessed>, StorageError> {
        let exists: bool = on_pool!(self, p => match self {
            Db::Sqlite(_) => sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'waymark_witnessed')",
            )
            .fetch_one(p)
            .await,
            Db::Postgres(_) => sqlx::query_scalar("SELECT to_regclass('waymark_witnessed') IS NOT NULL")
                .fetch_one(p)
                .await,
        })
        .map_err(|e| storage("looking for the witnessed checkpoints", e))?;
        if !exists {
            return Ok(None);
        }
        let row: Option<(i64, String, String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT tree_size, note, witnesses, published_at FROM waymark_witnessed
             WHERE ledger = $1 ORDER BY tree_size DESC LIMIT 1",
        )
        .bind(ledger)
        .fetch_optional(p)
        .await)
        .map_err(|e| storage("reading the witnessed checkpoint", e))?;
        Ok(row.map(|(size, note, keys, at)| Witnessed {
            tree_size: u64::try_from(size).unwrap_or(0),
            note,
            witnesses: keys.lines().map(str::to_owned).collect(),
            published_at: at,
        }))
    }
}
