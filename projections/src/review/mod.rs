//! The end-of-Season review (`waymark review N`): the status at the season's start and end,
//! every change in between, focus against delivery, regressions and who acted; rendered as
//! Markdown for a forum post or as one standalone HTML page (JSON is its serde form).
//!
//! - `fold` — the [`SeasonReview`] data, computed from the statuses at the season's start
//!   and end, its events and their history rows;
//! - `markdown`, `html` — one renderer each, reading only the `SeasonReview`.

mod authority;
mod fold;
mod html;
mod markdown;

use crate::design::summary;
use crate::diff::{Change, DesignDiff};
use crate::history::HistoryRow;
use crate::status::Authority;

pub use authority::{
    DecisionAuthority, GovernanceChange, HypothesisConclusion, HypothesisStatement, Transfer,
};
pub use fold::{
    review, Achievement, ActorActivity, FocusDelivery, FoldedReview, LayerDelta, NewMilestone,
    PhaseDelta, PhaseTransition, Regression, Retirement, ReviewError, ReviewFold, Revision,
    SeasonReview, StillOpen,
};

fn is_web_link(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// The host of an http(s) URL, as a short link label.
fn link_label(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    if host.is_empty() {
        url
    } else {
        host
    }
}

/// Section 13's three counts at the season's start and end, as (label, `from → to`), `—`
/// on a side without bodies or decisions.
fn authority_counts(c: &Change<Option<Authority>>) -> [(&'static str, String); 3] {
    let pick = |a: &Option<Authority>, f: fn(&Authority) -> u64| {
        a.as_ref()
            .map_or_else(|| "—".to_string(), |a| f(a).to_string())
    };
    let line = |f: fn(&Authority) -> u64| arrow(&pick(&c.from, f), &pick(&c.to, f));
    [
        ("Decision modules", line(|a| a.decisions)),
        ("At their target design", line(|a| a.at_target)),
        ("Decided by the Foundation", line(|a| a.foundation_decides)),
    ]
}

/// What a transfer changed, field by field (as `diff` writes it): `deciders [a] → [b]
/// (+b, -a); process vote → optimistic`.
fn transfer_changes(t: &Transfer) -> String {
    DesignDiff::of(&t.from, &t.to)
        .map(|d| d.texts().join("; "))
        .unwrap_or_default()
}

/// A body or module change as text, in three parts around the id, the actor and the
/// reason: `Defined decision` **id** ` Title (layer)`, seq N by A, then the designs it
/// records: `now: <design> — target: <design>`; `Revised decision` **id** ` (title,
/// target)`, seq N by A: reason — `title: T — target: <design>`; `Retired body` **id**.
struct ChangeText {
    head: String,
    detail: String,
    /// Empty when the change records no title or design.
    designs: String,
}

fn governance_change_text(c: &GovernanceChange) -> ChangeText {
    let verb = match c.change.as_str() {
        "defined" => "Defined",
        "revised" => "Revised",
        "retired" => "Retired",
        other => other,
    };
    let mut detail = String::new();
    if c.change == "defined" && !c.title.is_empty() {
        detail.push(' ');
        detail.push_str(&c.title);
    }
    if let Some(k) = c.kind.as_ref().or(c.layer.as_ref()) {
        detail.push_str(&format!(" ({k})"));
    }
    if !c.fields.is_empty() {
        detail.push_str(&format!(" ({})", c.fields.join(", ")));
    }
    let title =
        (c.change == "revised" && !c.title.is_empty()).then(|| format!("title: {}", c.title));
    let designs: Vec<String> = title
        .into_iter()
        .chain(c.current.iter().map(|d| format!("now: {}", summary(d))))
        .chain(c.target.iter().map(|d| format!("target: {}", summary(d))))
        .collect();
    ChangeText {
        head: format!("{verb} {}", c.subject),
        detail,
        designs: designs.join(" — "),
    }
}

fn or_dash(s: Option<&str>) -> &str {
    match s {
        Some(s) if !s.is_empty() => s,
        _ => "—",
    }
}

fn arrow(from: &str, to: &str) -> String {
    if from == to {
        format!("{from} (unchanged)")
    } else {
        format!("{from} → {to}")
    }
}

fn progress_text(l: &LayerDelta, end: bool) -> String {
    l.progress
        .iter()
        .map(|p| {
            let (a, t) = if end {
                (p.achieved.to, p.total.to)
            } else {
                (p.achieved.from, p.total.from)
            };
            format!("{} {a}/{t}", p.phase)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn type_counts(a: &ActorActivity) -> String {
    a.by_type
        .iter()
        .map(|(t, n)| format!("{t} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl SeasonReview {
    pub(super) fn period(&self) -> String {
        match &self.ends_on {
            Some(e) => format!("{} – {}", self.starts_on, e),
            None => format!("{} – (open)", self.starts_on),
        }
    }

    pub(super) fn layer_title<'a>(&'a self, id: &'a str) -> &'a str {
        self.layers
            .iter()
            .find(|l| l.id == id && !l.title.is_empty())
            .map_or(id, |l| l.title.as_str())
    }

    pub(super) fn actor_name(&self, id: &str) -> String {
        match self.actors.iter().find(|a| a.id == id) {
            Some(a) if !a.name.is_empty() => format!("{} ({})", a.name, a.id),
            _ => id.to_string(),
        }
    }

    /// The review as Markdown, ready to paste into a Discourse post: headings, tables
    /// (text escaped, pipes included), evidence as links, and a first line naming the
    /// ledger, seq range and head hash so readers can recompute it.
    pub fn to_markdown(&self) -> String {
        self.render(ReviewFormat::Markdown)
    }

    /// The review as one standalone HTML5 page: inline style, no script, no external
    /// resources; all text escaped, links only for http(s) evidence.
    pub fn to_html(&self) -> String {
        self.render(ReviewFormat::Html)
    }

    /// The review in `format`, with its status changes: the frame of
    /// [`ReviewFrame::of`] around each change's [`ReviewFrame::change`].
    pub fn render(&self, format: ReviewFormat) -> String {
        let frame = ReviewFrame::of(self, self.status_changes.len() as u64, format);
        let mut out = frame.head.clone();
        for (i, row) in self.status_changes.iter().enumerate() {
            out.push_str(&frame.change(row, i == 0));
        }
        out.push_str(&frame.tail);
        out
    }
}

/// The three forms of a review (SPEC section 10, `review N --format md|json|html`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewFormat {
    Markdown,
    Html,
    /// The review's serde form, pretty-printed, and a newline.
    Json,
}

/// A review rendered around the rows of its status changes, which come last in none of
/// the three forms: the review is `head`, then [`ReviewFrame::change`] of each
/// `MilestoneStatusChanged` in seq order, then `tail`. A Season's changes can then be
/// written as they are read, a page at a time, instead of held (all of a long Season's
/// rows were most of what `waymark site` held at 1M events).
#[derive(Debug, Clone)]
pub struct ReviewFrame<'a> {
    review: &'a SeasonReview,
    format: ReviewFormat,
    pub head: String,
    pub tail: String,
}

/// The key of the status changes in the review's JSON, as the pretty printer writes it
/// (a raw line break is only ever between tokens: no string holds this).
const JSON_CHANGES: &str = "\n  \"status_changes\": [";

impl<'a> ReviewFrame<'a> {
    /// The frame of `review` with `changes` status changes (their rows in
    /// `review.status_changes` are not read: that list may be empty).
    pub fn of(review: &'a SeasonReview, changes: u64, format: ReviewFormat) -> Self {
        let (head, tail) = match format {
            ReviewFormat::Markdown => markdown::frame(review, changes),
            ReviewFormat::Html => html::frame(review, changes),
            ReviewFormat::Json => {
                let shell;
                let bare = if review.status_changes.is_empty() {
                    review
                } else {
                    shell = SeasonReview {
                        status_changes: Vec::new(),
                        ..review.clone()
                    };
                    &shell
                };
                let mut text = serde_json::to_string_pretty(bare).unwrap_or_default();
                text.push('\n');
                // `…"status_changes": [` | `]…` for none, `\n  ]…` after the last element.
                let at = text
                    .find(JSON_CHANGES)
                    .map_or(text.len(), |i| i + JSON_CHANGES.len());
                let tail = text.split_off(at);
                match changes {
                    0 => (text, tail),
                    _ => (text, format!("\n  {tail}")),
                }
            }
        };
        ReviewFrame {
            review,
            format,
            head,
            tail,
        }
    }

    /// The text of one status change, `first` for the season's first.
    pub fn change(&self, row: &HistoryRow, first: bool) -> String {
        match self.format {
            ReviewFormat::Markdown => markdown::change_row(self.review, row),
            ReviewFormat::Html => html::change_row(self.review, row),
            ReviewFormat::Json => {
                // An element of a pretty array one level in: `\n    ` before it (`,` after
                // the one before), each of its own line breaks indented four more spaces.
                let mut out = String::from(if first { "\n    " } else { ",\n    " });
                let text = serde_json::to_string_pretty(row).unwrap_or_default();
                out.push_str(&text.replace('\n', "\n    "));
                out
            }
        }
    }
}
