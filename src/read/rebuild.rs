//! `rebuild`: the read models recomputed from the events and compared with the stored ones.

use super::events::parse_rows;
use super::*;
use crate::storage::Seq;
use std::future::Future;
use std::pin::Pin;
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

/// A page of events folded by `rebuild`, on its way to be compared and written.
struct Folded {
    rows: Rows,
    /// What the fold itself found (the stored view differing at its seq).
    notes: Vec<String>,
    /// The stored audit rows of the page's seqs (`None`: nothing is stored there, as
    /// after the stored trail's last row: every row is missing and written as is).
    stored: Option<HashMap<u64, (String, String)>>,
}

impl ReadModels {
    /// Recomputes every read model of `ledger` from its events, compares the result
    /// with what was stored, and replaces the stored one. `progress` is told the
    /// head first, then the seq reached after each page.
    ///
    /// Pages go through three stages that overlap (issue 17: from empty read models
    /// the stages one after another ran at 26–35k events/s): page k+1 is read and
    /// parsed and hashed on the blocking pool while page k is folded on this task,
    /// and page k−1's rows are serialized, compared and written meanwhile. The fold
    /// is the one sequential stage.
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
        // Past the last stored audit row and checkpoint there is nothing to read back
        // and compare: those pages are written without reading (all of them when the
        // read models are empty).
        let (rows_upto, checkpoints_upto) = self.stored_extent(ledger).await?;
        let mut differences = Vec::new();
        let mut view = LedgerView::default();
        progress(head, 0);
        let mut page = self.rebuild_page(ledger, 0, rows_upto).await?;
        let mut write: Pin<Box<dyn Future<Output = Result<Vec<String>>> + Send + '_>> =
            Box::pin(async { Ok(Vec::new()) });
        while let Some((events, stored)) = page {
            let after = events[events.len() - 1].0.seq;
            let next = self.rebuild_page(ledger, after, rows_upto);
            let fold = async {
                // Let the next page's read and the last page's write start first.
                tokio::task::yield_now().await;
                let mut rows = Rows::default();
                let mut notes = Vec::new();
                for (e, h) in &events {
                    view.fold(e, h, self.every(), &mut rows);
                    if e.seq == stored_view.seq() && view != stored_view {
                        notes.push(format!(
                            "stored view at seq {} differs from the events",
                            e.seq
                        ));
                    }
                }
                drop(events);
                Ok::<_, Error>(Folded {
                    rows,
                    notes,
                    stored,
                })
            };
            let (next, folded, found) = tokio::try_join!(next, fold, write)?;
            differences.extend(found);
            write = Box::pin(self.compare_and_write(
                ledger,
                folded,
                checkpoints_upto,
                differences.len(),
            ));
            progress(head, view.seq());
            page = next;
        }
        differences.extend(write.await?);
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

    /// The page of events after `after` (`None` past the last), parsed and hashed on
    /// the blocking pool, with the stored audit rows of its seqs when any can be
    /// stored there (at or before `rows_upto`).
    #[allow(clippy::type_complexity)]
    async fn rebuild_page(
        &self,
        ledger: &str,
        after: u64,
        rows_upto: u64,
    ) -> Result<Option<(Vec<(Event, Hash)>, Option<HashMap<u64, (String, String)>>)>> {
        let rows = self.db.event_rows_after(ledger, Seq(after), PAGE).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let (lo, hi) = (after + 1, after + rows.len() as u64);
        let parse = tokio::task::spawn_blocking(move || parse_rows(&rows, after, Rehash::Always));
        let stored = if lo <= rows_upto {
            Some(self.stored_rows(ledger, lo, hi).await?)
        } else {
            None
        };
        let events = parse.await.map_err(|e| storage("parsing events", e))??;
        Ok(Some((events, stored)))
    }

    /// The highest seq of a stored audit row and of a stored checkpoint (0: none).
    async fn stored_extent(&self, ledger: &str) -> Result<(u64, u64)> {
        let mut out = [0u64; 2];
        for (i, table) in ["waymark_history", "waymark_status_checkpoints"]
            .into_iter()
            .enumerate()
        {
            let sql = format!("SELECT MAX(seq) FROM {table} WHERE ledger = $1");
            let n: Option<i64> = on_pool!(&self.db, p => sqlx::query_scalar(&sql)
                .bind(ledger).fetch_one(p).await)
            .map_err(|e| storage("reading the read models", e))?;
            out[i] = n.map_or(0, |n| Seq::from_sql(n).get());
        }
        Ok((out[0], out[1]))
    }

    /// Serializes a folded page's rows and compares them with the stored ones (on
    /// the blocking pool), compares its checkpoints, and writes what differs. Returns
    /// the differences found, row notes listed only while `listed` (the report's
    /// length so far) is under [`MAX_LISTED`].
    async fn compare_and_write(
        &self,
        ledger: &str,
        folded: Folded,
        checkpoints_upto: u64,
        listed: usize,
    ) -> Result<Vec<String>> {
        let Folded {
            rows,
            mut notes,
            stored,
        } = folded;
        let Rows {
            history,
            checkpoints,
        } = rows;
        // The page's seqs and how many ids its rows name (`waymark_history_ids`,
        // schema version 3), checked below against the stored index.
        let span = history
            .first()
            .zip(history.last())
            .map(|(f, l)| (f.row.seq, l.row.seq));
        let ids: usize = history
            .iter()
            .map(|r| r.ids.split(',').filter(|t| !t.is_empty()).count())
            .sum();
        let (history, row_notes) =
            tokio::task::spawn_blocking(move || compare_rows(history, stored.as_ref()))
                .await
                .map_err(|e| storage("comparing the audit trail", e))??;
        for (seq, note) in row_notes {
            if listed + notes.len() < MAX_LISTED {
                notes.push(format!("audit row seq {seq}: {note}"));
            }
        }
        let mut changed = Vec::new();
        for (seq, fold) in checkpoints {
            let have = if seq <= checkpoints_upto {
                self.checkpoint(ledger, seq).await?
            } else {
                None
            };
            if have.as_ref() != Some(&fold) {
                notes.push(format!(
                    "status checkpoint at seq {seq}: {}",
                    if have.is_some() { "differs" } else { "missing" }
                ));
                let json = serde_json::to_string(&fold).map_err(|e| storage("checkpoint", e))?;
                changed.push((seq, json));
            }
        }
        self.put_serialized(ledger, &history, &changed, OnConflict::Replace)
            .await?;
        // The id index of these rows: counted, and refilled from the (now right)
        // rows when the count differs.
        if let Some((lo, hi)) = span {
            if self.stored_ids(ledger, lo, hi).await? != ids {
                notes.push(format!("the id index of seq {lo}..={hi} differs"));
                self.refill_ids(ledger, lo, hi).await?;
            }
        }
        Ok(notes)
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

/// At most this many audit-row differences are listed in a report.
const MAX_LISTED: usize = 20;

/// Compares fresh audit rows with the stored ones (by their JSON, and structurally
/// when the text differs, and by their index column; `None`: nothing is stored),
/// returning the rows to write with their JSON, and the seq and a note of each row
/// that differs. On every core: serializing the fresh rows was 37% of rebuild's own
/// thread (callgrind), and each row is independent.
#[allow(clippy::type_complexity)]
fn compare_rows(
    fresh: Vec<IndexedRow>,
    stored: Option<&HashMap<u64, (String, String)>>,
) -> Result<(Vec<(IndexedRow, String)>, Vec<(u64, &'static str)>)> {
    // `Some(note)`: write it and report it; `None` with the JSON: write it quietly;
    // the row is dropped when it is stored as is.
    let verdicts = waymark_core::map_ordered(
        &fresh,
        256,
        |_, r| -> Result<Option<(Option<&'static str>, String)>> {
            let json = serde_json::to_string(&r.row).map_err(|e| storage("history row", e))?;
            let Some((text, ids)) = stored.and_then(|s| s.get(&r.row.seq)) else {
                return Ok(Some((Some("missing"), json)));
            };
            let same_ids = *ids == r.ids;
            if *text == json && same_ids {
                return Ok(None);
            }
            Ok(Some((
                match serde_json::from_str::<HistoryRow>(text) {
                    // Written differently, but the same row: rewrite it quietly.
                    Ok(s) if s == r.row && same_ids => None,
                    Ok(s) if s == r.row => Some("the ids it names are indexed differently"),
                    _ => Some("differs from the event"),
                },
                json,
            )))
        },
    );
    let mut changed = Vec::new();
    let mut notes = Vec::new();
    for (r, verdict) in fresh.into_iter().zip(verdicts) {
        if let Some((note, json)) = verdict? {
            if let Some(note) = note {
                notes.push((r.row.seq, note));
            }
            changed.push((r, json));
        }
    }
    Ok((changed, notes))
}
