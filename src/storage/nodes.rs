//! The Merkle tree of a stored ledger (SPEC section 6), read back from the nodes the
//! chained store keeps in each event row's metadata: `hash` (the leaf, level 0) and
//! `nodes` (levels 1…, comma-separated hex) of the subtrees that row's append
//! completed. Any root or proof reads O(log n) rows and hashes O(log n) nodes.

use super::{storage, Db, RowMeta};
use crate::error::{Error, Result};
use std::collections::HashMap;
use waymark_core::ProblemKind;
use waymark_events::{Hash, NodeId};

/// The hashes of `ids`, read from the rows that completed them.
pub async fn nodes(db: &Db, ledger: &str, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>> {
    let mut seqs: Vec<i64> = ids.iter().map(|id| id.completed_at() as i64).collect();
    seqs.sort_unstable();
    seqs.dedup();
    let mut rows: HashMap<u64, String> = HashMap::with_capacity(seqs.len());
    for chunk in seqs.chunks(500) {
        let fetched: Result<Vec<(i64, String)>, sqlx::Error> =
            match db {
                Db::Sqlite(p) => {
                    let mut q = sqlx::QueryBuilder::new(
                        "SELECT sequence, CAST(metadata AS text) FROM events \
                     WHERE aggregate_type = 'Ledger' AND aggregate_id = ",
                    );
                    q.push_bind(ledger).push(" AND sequence IN (");
                    let mut list = q.separated(", ");
                    for s in chunk {
                        list.push_bind(*s);
                    }
                    q.push(")");
                    q.build_query_as().fetch_all(p).await
                }
                // One primary-key probe per row (the LIMIT keeps the planner from a
                // hash join). With `sequence IN (…)`, or a join without the LIMIT, plans
                // built on statistics from when the ledger was small scanned the whole
                // table instead (issue 6: an inclusion proof at 50k events took 15–25 ms
                // until autovacuum analyzed the table).
                Db::Postgres(p) => sqlx::query_as(
                    "SELECT e.sequence, CAST(e.metadata AS text) FROM unnest($2::bigint[]) AS q(s)
                     CROSS JOIN LATERAL (SELECT sequence, metadata FROM events
                       WHERE aggregate_type = 'Ledger' AND aggregate_id = $1 AND sequence = q.s
                       LIMIT 1) e",
                )
                .bind(ledger)
                .bind(chunk.to_vec())
                .fetch_all(p)
                .await,
            };
        let fetched = fetched.map_err(|e| Error::Storage(storage("reading tree nodes", e)))?;
        rows.extend(fetched.into_iter().map(|(s, m)| (s as u64, m)));
    }
    let mut out = HashMap::with_capacity(ids.len());
    for id in ids {
        let seq = id.completed_at();
        let broken = |detail: String| Error::BrokenChain {
            seq,
            problem: ProblemKind::Malformed,
            detail: format!("{detail} (run `waymark verify`)"),
        };
        let meta = rows
            .get(&seq)
            .ok_or_else(|| broken(format!("no stored event at seq {seq} for tree node {id:?}")))?;
        let meta: serde_json::Value = serde_json::from_str(meta)
            .map_err(|e| broken(format!("metadata of seq {seq}: {e}")))?;
        let hash = RowMeta::node_in_value(&meta, id.level)
            .ok_or_else(|| broken(format!("seq {seq} does not hold tree node {id:?}")))?;
        out.insert(*id, hash);
    }
    Ok(out)
}
