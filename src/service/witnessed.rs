//! Witnessed checkpoints: kept by `publish --witness`, read by the dashboard and by
//! `serve`'s tlog-tiles `checkpoint`.

use super::Waymark;
use crate::error::Result;
use crate::storage::Witnessed;
use waymark_core::{Quorum, WitnessVerdict};
use waymark_events::parse_cosigner_key;

/// The latest witnessed checkpoint and each witness's verdict on it, re-checked with
/// the keys it was published with.
#[derive(Debug, Clone)]
pub struct WitnessedView {
    pub tree_size: u64,
    pub published_at: String,
    pub note: String,
    pub verdicts: Vec<WitnessVerdict>,
}

impl Waymark {
    /// Keeps a checkpoint with its cosignatures (`publish --witness`).
    pub async fn save_witnessed(&self, ledger: &str, w: &Witnessed) -> Result<()> {
        Ok(self.db.save_witnessed(ledger, w).await?)
    }

    /// The largest checkpoint witnesses cosigned, with each witness's verdict.
    pub async fn witnessed(&self, ledger: &str) -> Result<Option<WitnessedView>> {
        let Some(w) = self.db.latest_witnessed(ledger).await? else {
            return Ok(None);
        };
        let keys: Vec<_> = w
            .witnesses
            .iter()
            .filter_map(|k| parse_cosigner_key(k).ok())
            .collect();
        let verdicts = if keys.is_empty() {
            Vec::new()
        } else {
            let q = Quorum {
                k: keys.len(),
                witnesses: keys,
            };
            q.verdicts(&w.note).unwrap_or_default()
        };
        Ok(Some(WitnessedView {
            tree_size: w.tree_size,
            published_at: w.published_at,
            note: w.note,
            verdicts,
        }))
    }
}
