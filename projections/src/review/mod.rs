//! The end-of-Season review (`waymark review N`): the status at the season's start and end,
//! every change in between, focus against delivery, regressions and who acted; rendered as
//! Markdown for a forum post or as one standalone HTML page (JSON is its serde form).
//!
//! - `fold` — the [`SeasonReview`] data, computed from the statuses at the season's start
//!   and end, its events and their history rows;
//! - `markdown`, `html` — one renderer each, reading only the `SeasonReview`.

mod fold;
mod html;
mod markdown;

use crate::design::summary;
use crate::diff::{Change, DesignDiff};
use crate::status::Authority;

pub use fold::{
    review, Achievement, ActorActivity, DecisionAuthority, FocusDelivery, GovernanceChange,
    HypothesisConclusion, HypothesisStatement, LayerDelta, NewMilestone, PhaseDelta,
    PhaseTransition, Regression, Retirement, ReviewError, Revision, SeasonReview, StillOpen,
    Transfer,
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
        markdown::render(self)
    }

    /// The review as one standalone HTML5 page: inline style, no script, no external
    /// resources; all text escaped, links only for http(s) evidence.
    pub fn to_html(&self) -> String {
        html::render(self)
    }
}
