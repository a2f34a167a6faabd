//! Reads: export, status (at the head or as of a point), history, review, diff.

use super::{AsOf, Waymark};
use crate::error::{Error, Result, StorageError};
use crate::read::{IdKind, LedgerView, Since};
use std::collections::BTreeMap;
use waymark_events::{Event, EventType, Hash};
use waymark_projections::{
    HistoryFilter, HistoryRow, ReviewFold, ReviewFormat, ReviewFrame, Status, StatusDiff,
};

/// Events, or audit rows, read per round trip while writing a Season's review: a page
/// of events and their rows is what a review holds beside its fold (250 round trips a
/// pass for a Season of 250,000 events).
pub const REVIEW_PAGE: u64 = 1_000;

/// Where [`Waymark::write_review`] writes one format of a review, a piece at a time.
pub type ReviewSink<'a> = dyn FnMut(&[u8]) -> Result<()> + Send + 'a;

impl Waymark {
    /// SPEC section 7: one `JCS(event ∪ {hash})` line per event, seq 1..=upto.
    /// Export lines of seq `from..=upto` only (the API's paged `events`), reading
    /// just those rows.
    pub async fn export_range(&self, ledger: &str, from: u64, upto: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for (e, h) in self.events_range(ledger, from.max(1), upto).await? {
            out.extend(e.export_line(&h));
        }
        Ok(out)
    }

    pub async fn export(&self, ledger: &str, upto: Option<u64>) -> Result<Vec<u8>> {
        let events = self.events(ledger).await?;
        let head = events.len() as u64;
        let upto = upto.unwrap_or(head);
        if upto == 0 || upto > head {
            return Err(Error::BadInput(format!(
                "--upto {upto}: the ledger has seq 1..{head}"
            )));
        }
        let mut out = Vec::new();
        for (e, h) in events.iter().take(upto as usize) {
            out.extend(e.export_line(h));
        }
        Ok(out)
    }

    /// Stores a status checkpoint every `n` events from now on (default
    /// `CHECKPOINT_EVERY`).
    pub fn set_checkpoint_every(&self, n: u64) {
        self.read_models.set_checkpoint_every(n);
    }

    /// The read models caught up to the head (fails for an unknown ledger).
    pub(super) async fn synced(&self, ledger: &str) -> Result<LedgerView> {
        let view = self.read_models.sync(ledger).await?;
        if view.seq() == 0 {
            return Err(self.no_ledger(ledger));
        }
        Ok(view)
    }

    /// How many events (from seq 1) an as-of point covers, given the head.
    pub async fn resolve(&self, ledger: &str, as_of: &AsOf) -> Result<u64> {
        let head = self.synced(ledger).await?.seq();
        self.resolve_at(ledger, as_of, head).await
    }

    pub(super) async fn resolve_at(&self, ledger: &str, as_of: &AsOf, head: u64) -> Result<u64> {
        match as_of {
            AsOf::Seq(n) if *n <= head => Ok(*n),
            AsOf::Seq(n) => Err(Error::BadInput(format!(
                "as-of seq:{n}: the ledger's head is seq {head}"
            ))),
            AsOf::Season(s) => match self.read_models.season_bounds(ledger, *s).await? {
                None => Err(Error::BadInput(format!(
                    "as-of season:{s}: season {s} was never opened in this ledger"
                ))),
                Some((_, closed)) => Ok(closed.unwrap_or(head)),
            },
            AsOf::Time(t) => self
                .read_models
                .seq_at_time(ledger, t)
                .await?
                .ok_or_else(|| {
                    Error::BadInput(format!("as-of time: nothing was recorded at or before {t}"))
                }),
        }
    }

    /// The status projection (SPEC section 9) at the head (from the stored read
    /// model) or at an as-of point (from the nearest stored checkpoint).
    pub async fn status(&self, ledger: &str, as_of: Option<&AsOf>) -> Result<Status> {
        let view = self.synced(ledger).await?;
        let Some(as_of) = as_of else {
            return Ok(view.status.status());
        };
        let n = self.resolve_at(ledger, as_of, view.seq()).await?;
        self.status_at(ledger, n, &view).await
    }

    pub(super) async fn status_at(
        &self,
        ledger: &str,
        n: u64,
        head: &LedgerView,
    ) -> Result<Status> {
        if n == head.seq() {
            return Ok(head.status.status());
        }
        Ok(self.read_models.status_fold_at(ledger, n).await?.status())
    }

    /// Every Season of the ledger in the order they were opened: its number, the seq
    /// that opened it and the seq of its `SeasonReEvaluated`, if any (one query).
    pub async fn seasons(&self, ledger: &str) -> Result<Vec<(i64, u64, Option<u64>)>> {
        self.synced(ledger).await?;
        self.read_models.seasons(ledger).await
    }

    /// The audit trail, filtered (from the stored read model).
    pub async fn history(&self, ledger: &str, filter: &HistoryFilter) -> Result<Vec<HistoryRow>> {
        self.synced(ledger).await?;
        self.read_models.history(ledger, filter, None).await
    }

    /// The audit-trail rows of seq `lo..=hi`, in seq order.
    pub async fn history_range(&self, ledger: &str, lo: u64, hi: u64) -> Result<Vec<HistoryRow>> {
        self.synced(ledger).await?;
        self.read_models
            .history(ledger, &HistoryFilter::default(), Some((lo, hi)))
            .await
    }

    /// The audit trail of one id (SPEC section 13's `history ID`): the rows that
    /// name it as a milestone, a decision or a body, matching the rest of `filter`,
    /// each with the kinds it matched.
    pub async fn history_of(
        &self,
        ledger: &str,
        filter: &HistoryFilter,
        id: &str,
    ) -> Result<Vec<(HistoryRow, Vec<IdKind>)>> {
        self.synced(ledger).await?;
        self.read_models.history_of(ledger, filter, id).await
    }

    /// Since when each decision defined in the first `upto` events has its current
    /// design there: its last `AuthorityTransferred`, or its `DecisionDefined`.
    pub async fn authority_since(
        &self,
        ledger: &str,
        upto: u64,
    ) -> Result<BTreeMap<String, Since>> {
        self.synced(ledger).await?;
        self.read_models.authority_since(ledger, upto).await
    }

    /// At most `limit` audit-trail rows matching `filter`, newest first, all before
    /// seq `before` when given (one page of the history API and the audit log).
    pub async fn history_page(
        &self,
        ledger: &str,
        filter: &HistoryFilter,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<HistoryRow>> {
        self.synced(ledger).await?;
        self.read_models
            .history_page(ledger, filter, before.unwrap_or(u64::MAX), limit)
            .await
    }

    /// Recorded events `lo..=hi`.
    pub(super) async fn events_range(
        &self,
        ledger: &str,
        lo: u64,
        hi: u64,
    ) -> Result<Vec<(Event, Hash)>> {
        let mut out = Vec::new();
        let mut after = lo.saturating_sub(1);
        while after < hi {
            let page = self
                .read_models
                .events_after(
                    ledger,
                    after,
                    usize::try_from(hi - after).unwrap_or(10_000).min(10_000),
                )
                .await?;
            let Some(last) = page.last() else { break };
            after = last.0.seq;
            out.extend(page);
        }
        Ok(out)
    }

    /// The end-of-Season review of season `season` (SPEC section 10, `review`) in
    /// `format`: its bytes as [`Self::write_review`] writes them.
    pub async fn review(&self, ledger: &str, season: i64, format: ReviewFormat) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut sink = |b: &[u8]| -> Result<()> {
            out.extend_from_slice(b);
            Ok(())
        };
        self.write_review(ledger, season, &mut [(format, &mut sink)])
            .await?;
        Ok(out)
    }

    /// Writes the review of season `season` in each format to its sink, a piece at a
    /// time, in memory bounded by a page of [`REVIEW_PAGE`] events and rows, not by the
    /// Season's length: one pass over the Season's events and rows folds the review
    /// without its status changes (every format lists them before other sections), a
    /// second reads the rows of its status changes and writes each as it comes. At 1M
    /// events the whole Season and its rows held in memory were most of `site`'s peak.
    pub async fn write_review(
        &self,
        ledger: &str,
        season: i64,
        outs: &mut [(ReviewFormat, &mut ReviewSink<'_>)],
    ) -> Result<()> {
        self.write_review_paged(ledger, season, REVIEW_PAGE, outs)
            .await
    }

    /// [`Self::write_review`] reading `page` events or rows per round trip (tests use
    /// small pages).
    #[doc(hidden)]
    pub async fn write_review_paged(
        &self,
        ledger: &str,
        season: i64,
        page: u64,
        outs: &mut [(ReviewFormat, &mut ReviewSink<'_>)],
    ) -> Result<()> {
        let page = page.max(1);
        let head = self.synced(ledger).await?;
        let (opened, closed) = self
            .read_models
            .season_bounds(ledger, season)
            .await?
            .ok_or_else(|| {
                Error::BadInput(format!(
                    "review {season}: season {season} was never opened in this ledger"
                ))
            })?;
        let end = closed.unwrap_or(head.seq());
        let start_status = self.status_at(ledger, opened, &head).await?;
        let end_status = self.status_at(ledger, end, &head).await?;
        let inconsistent = |e: &dyn std::fmt::Display| {
            Error::Storage(StorageError::inconsistent(format!(
                "the stored read models disagree with the events ({e}): run `waymark rebuild`"
            )))
        };
        let pages = || {
            (opened..=end)
                .step_by(usize::try_from(page).unwrap_or(usize::MAX))
                .map(move |lo| (lo, end.min(lo.saturating_add(page - 1))))
        };
        let mut fold = ReviewFold::new(season, &start_status, &end_status);
        for (lo, hi) in pages() {
            let events = self.events_range(ledger, lo, hi).await?;
            let rows = self
                .read_models
                .history(ledger, &HistoryFilter::default(), Some((lo, hi)))
                .await?;
            fold.push(&events, &rows).map_err(|e| inconsistent(&e))?;
        }
        let folded = fold.finish().map_err(|e| inconsistent(&e))?;
        let frames: Vec<ReviewFrame<'_>> = outs
            .iter()
            .map(|(format, _)| ReviewFrame::of(&folded.review, folded.status_changes, *format))
            .collect();
        for ((_, out), frame) in outs.iter_mut().zip(&frames) {
            out(frame.head.as_bytes())?;
        }
        let changes = HistoryFilter {
            event_type: Some(EventType::MilestoneStatusChanged.as_str().to_string()),
            ..HistoryFilter::default()
        };
        let mut written: u64 = 0;
        for (lo, hi) in pages() {
            let rows = self
                .read_models
                .history(ledger, &changes, Some((lo, hi)))
                .await?;
            // Each change written as it is rendered (the sinks buffer), not a page's text
            // in three formats at once.
            for row in &rows {
                for ((_, out), frame) in outs.iter_mut().zip(&frames) {
                    out(frame.change(row, written == 0).as_bytes())?;
                }
                written += 1;
            }
        }
        if written != folded.status_changes {
            return Err(inconsistent(&format!(
                "{written} status change rows for {} status changes",
                folded.status_changes
            )));
        }
        for ((_, out), frame) in outs.iter_mut().zip(&frames) {
            out(frame.tail.as_bytes())?;
        }
        Ok(())
    }

    /// What changed between two points.
    pub async fn diff(&self, ledger: &str, from: &AsOf, to: &AsOf) -> Result<StatusDiff> {
        let head = self.synced(ledger).await?;
        let a = self.resolve_at(ledger, from, head.seq()).await?;
        let b = self.resolve_at(ledger, to, head.seq()).await?;
        let a = self.status_at(ledger, a, &head).await?;
        let b = self.status_at(ledger, b, &head).await?;
        Ok(waymark_projections::diff(&a, &b))
    }
}
