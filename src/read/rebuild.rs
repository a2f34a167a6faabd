//! `rebuild`: the read models recomputed from the events and compared with the stored ones.

use super::*;
use crate::storage::Seq;
use waymark_projections::HistoryFilter;

/// What `rebuild` found.
#[derive(Debug, Clone, Serialize)]
pub struct RebuildReport {
    pub ledger: String,
    pub events: u64,
    /// The stored read models were equal to the recomputed ones.
    pub matched: bool,
    /// What differed, in words (empty when `matched`).
    pub differences: Vec<String>,
}

impl ReadModels {
    /// Recomputes every read model of `ledger` from its events, compares the result
    /// with what was stored, and replaces the stored one. `progress` is told the
    /// head first, then the seq reached after each page.
    pub async fn rebuild(
        &self,
        ledger: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RebuildReport> {
        let head = self.head_seq(ledger).await?;
        if head == 0 {
            return Err(Error::Usage(format!(
                "no ledger {ledger:?} in {}",
                self.db.name()
            )));
        }
        // Stop writers' dispatches from racing the rebuild's view: it is compared and
        // replaced at the end with a version check.
        self.forget(ledger);
        self.forget_folds(ledger);
        let (stored_view, ctx) = self.load(ledger).await?;
        let mut differences = Vec::new();
        let mut view = LedgerView::default();
        progress(head, 0);
        loop {
            let events = self.events_after(ledger, view.seq(), PAGE).await?;
            if events.is_empty() {
                break;
            }
            let (lo, hi) = (events[0].0.seq, events[events.len() - 1].0.seq);
            let mut rows = Rows::default();
            for (e, h) in &events {
                view.fold(e, h, self.every(), &mut rows);
                if e.seq == stored_view.seq() && view != stored_view {
                    differences.push(format!(
                        "stored view at seq {} differs from the events",
                        e.seq
                    ));
                }
            }
            // Only what differs is written back: a rebuild that finds the read
            // models intact reads them and writes nothing but the view.
            let ids: usize = rows
                .history
                .iter()
                .map(|r| r.ids.split(',').filter(|t| !t.is_empty()).count())
                .sum();
            let stored = self.stored_rows(ledger, lo, hi).await?;
            let mut changed = Rows::default();
            compare_rows(
                rows.history,
                &stored,
                &mut differences,
                &mut changed.history,
            )?;
            for (seq, fold) in rows.checkpoints {
                let have = self.checkpoint(ledger, seq).await?;
                if have.as_ref() != Some(&fold) {
                    differences.push(format!(
                        "status checkpoint at seq {seq}: {}",
                        if have.is_some() { "differs" } else { "missing" }
                    ));
                    changed.checkpoints.push((seq, fold));
                }
            }
            self.put_rows(ledger, &changed, OnConflict::Replace).await?;
            // The id index of these rows (schema version 3): counted, and refilled
            // from the (now right) rows when the count differs.
            if self.stored_ids(ledger, lo, hi).await? != ids {
                differences.push(format!("the id index of seq {lo}..={hi} differs"));
                self.refill_ids(ledger, lo, hi).await?;
            }
            progress(head, view.seq());
        }
        let extra = self
            .history(
                ledger,
                &HistoryFilter::default(),
                Some((view.seq() + 1, u64::MAX >> 1)),
            )
            .await?;
        if !extra.is_empty() {
            differences.push(format!(
                "{} audit rows beyond the last event (seq {})",
                extra.len(),
                view.seq()
            ));
            self.trim_after(ledger, view.seq()).await?;
        }
        if stored_view.seq() > view.seq() {
            differences.push(format!(
                "stored view is at seq {}, past the last event (seq {})",
                stored_view.seq(),
                view.seq()
            ));
        }
        let version = ctx.version + 1;
        self.views
            .update_view(view.clone(), ctx)
            .await
            .map_err(|e| {
                storage(
                    "storing the rebuilt read model (retry if writers were active)",
                    e,
                )
            })?;
        self.remember(ledger, &view, version);
        let report = RebuildReport {
            ledger: ledger.into(),
            events: view.seq(),
            matched: differences.is_empty(),
            differences,
        };
        Ok(report)
    }

    /// How many rows `waymark_history_ids` holds for seq `lo..=hi`.
    async fn stored_ids(&self, ledger: &str, lo: u64, hi: u64) -> Result<usize> {
        let sql = "SELECT COUNT(*) FROM waymark_history_ids
                   WHERE ledger = $1 AND seq >= $2 AND seq <= $3";
        let n: i64 = on_pool!(&self.db, p => sqlx::query_scalar(sql)
            .bind(ledger).bind(Seq(lo).to_sql()).bind(Seq(hi).to_sql()).fetch_one(p).await)
        .map_err(|e| storage("reading the id index", e))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// The stored audit rows of seq `lo..=hi`, as stored (JSON text, and the index
    /// column of the ids they name), by seq.
    pub(super) async fn stored_rows(
        &self,
        ledger: &str,
        lo: u64,
        hi: u64,
    ) -> Result<HashMap<u64, (String, String)>> {
        let sql = "SELECT seq, row, milestones FROM waymark_history
                   WHERE ledger = $1 AND seq >= $2 AND seq <= $3";
        let rows: Vec<(i64, String, String)> = on_pool!(&self.db, p => sqlx::query_as(sql)
            .bind(ledger).bind(Seq(lo).to_sql()).bind(Seq(hi).to_sql()).fetch_all(p).await)
        .map_err(|e| storage("reading the audit trail", e))?;
        Ok(rows
            .into_iter()
            .map(|(seq, row, ids)| (Seq::from_sql(seq).get(), (row, ids)))
            .collect())
    }

    /// Removes rows past the last event.
    pub(super) async fn trim_after(&self, ledger: &str, head: u64) -> Result<()> {
        for table in [
            "waymark_history",
            "waymark_history_ids",
            "waymark_status_checkpoints",
        ] {
            let sql = format!("DELETE FROM {table} WHERE ledger = $1 AND seq > $2");
            on_pool!(&self.db, p => sqlx::query(&sql).bind(ledger).bind(Seq(head).to_sql()).execute(p).await.map(|r| r.rows_affected()))
                .map_err(|e| storage("clearing a read model", e))?;
        }
        Ok(())
    }
}

/// Compares fresh audit rows with the stored ones (by their JSON, and structurally
/// when the text differs, and by their index column), noting each difference and
/// collecting the rows to write.
fn compare_rows(
    fresh: Vec<IndexedRow>,
    stored: &HashMap<u64, (String, String)>,
    differences: &mut Vec<String>,
    changed: &mut Vec<IndexedRow>,
) -> Result<()> {
    const MAX_LISTED: usize = 20;
    // Serializing the fresh rows is most of this (callgrind: 37% of rebuild's own
    // thread), and each row is independent: on every core.
    let jsons = waymark_core::map_ordered(&fresh, 256, |_, r| serde_json::to_string(&r.row));
    for (r, json) in fresh.into_iter().zip(jsons) {
        let note = match stored.get(&r.row.seq) {
            None => "missing",
            Some((text, ids)) => {
                let json = json.map_err(|e| storage("history row", e))?;
                let same_ids = *ids == r.ids;
                if *text == json && same_ids {
                    continue;
                }
                match serde_json::from_str::<HistoryRow>(text) {
                    // Written differently, but the same row: rewrite it quietly.
                    Ok(s) if s == r.row && same_ids => {
                        changed.push(r);
                        continue;
                    }
                    Ok(s) if s == r.row => "the ids it names are indexed differently",
                    _ => "differs from the event",
                }
            }
        };
        if differences.len() < MAX_LISTED {
            differences.push(format!("audit row seq {}: {note}", r.row.seq));
        }
        changed.push(r);
    }
    Ok(())
}
