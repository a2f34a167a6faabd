//! The events behind the decision map (SPEC section 13) that the status does not keep:
//! each module's DDF profile and each authority transfer with its evidence.

use super::Waymark;
use crate::error::{Error, Result, StorageError};
use waymark_events::{Event, EventType};
use waymark_projections::{HistoryFilter, HistoryRow};

/// The event types whose payloads the decision page reads.
const DESIGN_EVENTS: [EventType; 3] = [
    EventType::DecisionDefined,
    EventType::DecisionRevised,
    EventType::AuthorityTransferred,
];

impl Waymark {
    /// Every `DecisionDefined`, `DecisionRevised` and `AuthorityTransferred` recorded
    /// at or before seq `upto`, in seq order, each with its audit row (its Season, its
    /// date). Read through the audit trail's type index, then those events only: the
    /// rest of the ledger is not read.
    pub async fn design_events(&self, ledger: &str, upto: u64) -> Result<Vec<(HistoryRow, Event)>> {
        self.synced(ledger).await?;
        let mut rows = Vec::new();
        for t in DESIGN_EVENTS {
            let filter = HistoryFilter {
                event_type: Some(t.as_str().to_string()),
                ..Default::default()
            };
            rows.extend(
                self.read_models
                    .history(ledger, &filter, Some((1, upto)))
                    .await?,
            );
        }
        rows.sort_by_key(|r| r.seq);
        // The events of each run of consecutive seqs in one read (`init` records a
        // framework's decisions one after another).
        let mut events = Vec::with_capacity(rows.len());
        let mut i = 0;
        while i < rows.len() {
            let mut j = i + 1;
            while j < rows.len() && rows[j].seq == rows[j - 1].seq + 1 {
                j += 1;
            }
            events.extend(
                self.events_range(ledger, rows[i].seq, rows[j - 1].seq)
                    .await?
                    .into_iter()
                    .map(|(e, _)| e),
            );
            i = j;
        }
        if events.len() != rows.len() || rows.iter().zip(&events).any(|(r, e)| r.seq != e.seq) {
            return Err(Error::Storage(StorageError::inconsistent(
                "the audit trail names events the store does not hold: run `waymark rebuild`"
                    .to_string(),
            )));
        }
        Ok(rows.into_iter().zip(events).collect())
    }
}
