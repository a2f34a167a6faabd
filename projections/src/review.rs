//! The end-of-Season review (`waymark review N`): the status at the season's start and end,
//! every change in between, focus against delivery, regressions and who acted; rendered as
//! Markdown for a forum post or as one standalone HTML page (JSON is its serde form).

use crate::diff::Change;
use crate::history::HistoryRow;
use crate::html::escape;
use crate::status::{AsOf, LayerStatus, MilestoneStatus, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use waymark_events::{Assessment, Event, Hash, Payload};

/// Achieved and total milestones of one phase of a layer, at the season's start and end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseDelta {
    pub phase: String,
    pub achieved: Change<u64>,
    pub total: Change<u64>,
}

/// One layer at the season's start and end (`from` = `to` when unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerDelta {
    pub id: String,
    pub title: String,
    pub phase: Change<String>,
    pub progress: Vec<PhaseDelta>,
}

/// A `MilestoneStatusChanged` to `achieved` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Achievement {
    pub id: String,
    pub title: String,
    pub seq: u64,
    pub actor: String,
    pub reason: String,
    pub evidence: Vec<String>,
}

/// A `MilestoneStatusChanged` away from `achieved` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Regression {
    pub id: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub actor: String,
    pub seq: u64,
}

/// A `PhaseTransitioned` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseTransition {
    pub layer: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub actor: String,
    pub seq: u64,
}

/// One focus milestone: its status when the season opened and at its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FocusDelivery {
    pub id: String,
    pub title: String,
    pub status_at_start: Option<String>,
    pub status_at_end: Option<String>,
    pub achieved: bool,
    /// The `SeasonReEvaluated` notes on this milestone, joined with `; `.
    pub assessment: Option<String>,
}

/// A focus milestone not achieved at the end, with what still blocks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StillOpen {
    pub id: String,
    pub title: String,
    pub status: String,
    pub blocked_by: Vec<String>,
}

/// A `MilestoneRevised` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub id: String,
    pub fields: Vec<String>,
    pub reason: String,
    pub actor: String,
    pub seq: u64,
}

/// A `MilestoneRetired` (`kind` "milestone") or `ActorRetired` (`kind` "actor").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retirement {
    pub kind: String,
    pub id: String,
    pub reason: String,
    pub actor: String,
    pub seq: u64,
}

/// A `MilestoneDefined` during the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMilestone {
    pub id: String,
    pub title: String,
    pub layer: String,
    pub phase: String,
    pub depends_on: Vec<String>,
    pub actor: String,
    pub seq: u64,
}

/// What one actor signed during the season. `name` and `roles` are as of its last event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorActivity {
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
    pub events: u64,
    pub by_type: BTreeMap<String, u64>,
}

/// The end-of-Season review. See [`review`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonReview {
    pub ledger: String,
    pub season: i64,
    /// `open` (no `SeasonReEvaluated` yet: the review runs to the head) or `closed`.
    pub state: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub intent: String,
    pub focus: Vec<String>,
    /// The `SeasonOpened` event.
    pub start: AsOf,
    /// The `SeasonReEvaluated` event, or the head while the season is open.
    pub end: AsOf,
    pub overall_phase: Change<Option<String>>,
    pub layers: Vec<LayerDelta>,
    pub achieved: Vec<Achievement>,
    pub regressions: Vec<Regression>,
    /// Every `MilestoneStatusChanged` of the season, in seq order.
    pub status_changes: Vec<HistoryRow>,
    pub phase_transitions: Vec<PhaseTransition>,
    pub focus_delivery: Vec<FocusDelivery>,
    pub still_open: Vec<StillOpen>,
    pub revisions: Vec<Revision>,
    pub retirements: Vec<Retirement>,
    pub new_milestones: Vec<NewMilestone>,
    pub assessments: Vec<Assessment>,
    pub summary: Option<String>,
    /// Sorted by number of events, most first, then by id.
    pub actors: Vec<ActorActivity>,
}

/// Why the inputs do not describe one season.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewError {
    NoEvents,
    /// The first event is not the `SeasonOpened` of the season asked for.
    NotSeasonStart {
        season: i64,
        seq: u64,
    },
    /// Another season opens or closes inside the range (only the last event may close it).
    SeasonBoundary {
        seq: u64,
    },
    /// The events are not consecutive.
    Gap {
        expected: u64,
        found: u64,
    },
    /// `rows` are not the rows of exactly these events.
    RowsMismatch {
        index: usize,
    },
    /// `start` or `end` was not computed at the first or last event.
    StatusMismatch {
        which: &'static str,
        seq: u64,
    },
}

impl fmt::Display for ReviewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReviewError::NoEvents => write!(f, "no events to review"),
            ReviewError::NotSeasonStart { season, seq } => write!(
                f,
                "event seq {seq} is not the SeasonOpened of season {season}"
            ),
            ReviewError::SeasonBoundary { seq } => write!(
                f,
                "event seq {seq} opens or closes a season inside the reviewed range"
            ),
            ReviewError::Gap { expected, found } => {
                write!(
                    f,
                    "events are not consecutive: expected seq {expected}, found {found}"
                )
            }
            ReviewError::RowsMismatch { index } => write!(
                f,
                "history row {index} does not belong to event {index} of the range"
            ),
            ReviewError::StatusMismatch { which, seq } => {
                write!(f, "the {which} status is not the status at event seq {seq}")
            }
        }
    }
}

impl std::error::Error for ReviewError {}

fn layer_deltas(start: &Status, end: &Status) -> Vec<LayerDelta> {
    let find = |s: &Status, id: &str| -> Option<LayerStatus> {
        s.layers.iter().find(|l| l.id == id).cloned()
    };
    let mut ids: Vec<&str> = end.layers.iter().map(|l| l.id.as_str()).collect();
    ids.extend(
        start
            .layers
            .iter()
            .map(|l| l.id.as_str())
            .filter(|id| end.layers.iter().all(|l| l.id != *id)),
    );
    ids.into_iter()
        .map(|id| {
            let (a, b) = (find(start, id), find(end, id));
            let title = b.as_ref().or(a.as_ref()).map(|l| l.title.clone());
            let mut phases: Vec<String> = Vec::new();
            for l in [&b, &a].into_iter().flatten() {
                for p in &l.progress {
                    if !phases.contains(&p.phase) {
                        phases.push(p.phase.clone());
                    }
                }
            }
            let counts = |l: &Option<LayerStatus>, ph: &str| {
                l.as_ref()
                    .and_then(|l| l.progress.iter().find(|p| p.phase == ph))
                    .map_or((0, 0), |p| (p.achieved, p.total))
            };
            let progress = phases
                .into_iter()
                .map(|ph| {
                    let ((fa, ft), (ta, tt)) = (counts(&a, &ph), counts(&b, &ph));
                    PhaseDelta {
                        phase: ph,
                        achieved: Change { from: fa, to: ta },
                        total: Change { from: ft, to: tt },
                    }
                })
                .collect();
            let phase_of =
                |l: &Option<LayerStatus>| l.as_ref().map(|l| l.phase.clone()).unwrap_or_default();
            LayerDelta {
                id: id.to_string(),
                title: title.unwrap_or_default(),
                phase: Change {
                    from: phase_of(&a),
                    to: phase_of(&b),
                },
                progress,
            }
        })
        .collect()
}

fn check_status(which: &'static str, s: &Status, seq: u64, hash: &Hash) -> Result<(), ReviewError> {
    match &s.as_of {
        Some(a) if a.seq == seq && a.hash == *hash => Ok(()),
        _ => Err(ReviewError::StatusMismatch { which, seq }),
    }
}

/// Reviews season `season`. `start` is the status right after its `SeasonOpened`, `end`
/// the status after its `SeasonReEvaluated` (or at the head while it is open), `events`
/// the events from that `SeasonOpened` through the end inclusive, with their hashes, and
/// `rows` the history rows of exactly those events. Signatures are not checked here.
pub fn review(
    season: i64,
    start: &Status,
    end: &Status,
    events: &[(Event, Hash)],
    rows: &[HistoryRow],
) -> Result<SeasonReview, ReviewError> {
    let ((first, first_hash), (last, last_hash)) = match (events.first(), events.last()) {
        (Some(f), Some(l)) => (f, l),
        _ => return Err(ReviewError::NoEvents),
    };
    let opened = match &first.statement.payload {
        Payload::SeasonOpened(p) if p.season == season => p,
        _ => {
            return Err(ReviewError::NotSeasonStart {
                season,
                seq: first.seq,
            })
        }
    };
    for (i, (e, _)) in events.iter().enumerate() {
        let expected = first.seq + i as u64;
        if e.seq != expected {
            return Err(ReviewError::Gap {
                expected,
                found: e.seq,
            });
        }
        let boundary = match &e.statement.payload {
            Payload::SeasonOpened(_) => i > 0,
            Payload::SeasonReEvaluated(p) => i + 1 < events.len() || p.season != season,
            _ => false,
        };
        if boundary {
            return Err(ReviewError::SeasonBoundary { seq: e.seq });
        }
    }
    if rows.len() != events.len() {
        return Err(ReviewError::RowsMismatch {
            index: rows.len().min(events.len()),
        });
    }
    if let Some(index) = rows
        .iter()
        .zip(events)
        .position(|(r, (e, h))| r.seq != e.seq || r.hash != *h)
    {
        return Err(ReviewError::RowsMismatch { index });
    }
    check_status("start", start, first.seq, first_hash)?;
    check_status("end", end, last.seq, last_hash)?;

    let closed = match &last.statement.payload {
        Payload::SeasonReEvaluated(p) => Some(p),
        _ => None,
    };
    let end_m: BTreeMap<&str, &MilestoneStatus> =
        end.milestones.iter().map(|m| (m.id.as_str(), m)).collect();
    let start_m: BTreeMap<&str, &MilestoneStatus> = start
        .milestones
        .iter()
        .map(|m| (m.id.as_str(), m))
        .collect();
    let title = |id: &str| end_m.get(id).map_or_else(String::new, |m| m.title.clone());

    let mut r = SeasonReview {
        ledger: end.ledger.clone(),
        season,
        state: if closed.is_some() { "closed" } else { "open" }.into(),
        starts_on: opened.starts_on.clone(),
        ends_on: closed.map(|c| c.ends_on.clone()),
        intent: opened.intent.clone(),
        focus: opened.focus.clone(),
        start: AsOf {
            seq: first.seq,
            hash: *first_hash,
            recorded_at: first.recorded_at.clone(),
        },
        end: AsOf {
            seq: last.seq,
            hash: *last_hash,
            recorded_at: last.recorded_at.clone(),
        },
        overall_phase: Change {
            from: start.overall_phase.clone(),
            to: end.overall_phase.clone(),
        },
        layers: layer_deltas(start, end),
        achieved: Vec::new(),
        regressions: Vec::new(),
        status_changes: Vec::new(),
        phase_transitions: Vec::new(),
        focus_delivery: Vec::new(),
        still_open: Vec::new(),
        revisions: Vec::new(),
        retirements: Vec::new(),
        new_milestones: Vec::new(),
        assessments: closed.map(|c| c.assessments.clone()).unwrap_or_default(),
        summary: closed.map(|c| c.summary.clone()),
        actors: Vec::new(),
    };

    let mut actors: BTreeMap<&str, ActorActivity> = BTreeMap::new();
    for ((e, _), row) in events.iter().zip(rows) {
        let actor = e.statement.actor.clone();
        let seq = e.seq;
        match &e.statement.payload {
            Payload::MilestoneStatusChanged(p) => {
                if p.to == "achieved" {
                    r.achieved.push(Achievement {
                        id: p.id.clone(),
                        title: title(&p.id),
                        seq,
                        actor: actor.clone(),
                        reason: p.reason.clone(),
                        evidence: p.evidence.clone(),
                    });
                }
                if p.from == "achieved" {
                    r.regressions.push(Regression {
                        id: p.id.clone(),
                        from: p.from.clone(),
                        to: p.to.clone(),
                        reason: p.reason.clone(),
                        actor: actor.clone(),
                        seq,
                    });
                }
                r.status_changes.push(row.clone());
            }
            Payload::PhaseTransitioned(p) => r.phase_transitions.push(PhaseTransition {
                layer: p.layer.clone(),
                from: p.from.clone(),
                to: p.to.clone(),
                reason: p.reason.clone(),
                actor: actor.clone(),
                seq,
            }),
            Payload::MilestoneRevised(p) => r.revisions.push(Revision {
                id: p.id.clone(),
                fields: p.revised_fields().into_iter().map(String::from).collect(),
                reason: p.reason.clone(),
                actor: actor.clone(),
                seq,
            }),
            Payload::MilestoneRetired(p) => r.retirements.push(Retirement {
                kind: "milestone".into(),
                id: p.id.clone(),
                reason: p.reason.clone(),
                actor: actor.clone(),
                seq,
            }),
            Payload::ActorRetired(p) => r.retirements.push(Retirement {
                kind: "actor".into(),
                id: p.actor.clone(),
                reason: p.reason.clone(),
                actor: actor.clone(),
                seq,
            }),
            Payload::MilestoneDefined(p) => r.new_milestones.push(NewMilestone {
                id: p.id.clone(),
                title: p.title.clone(),
                layer: p.layer.clone(),
                phase: p.phase.clone(),
                depends_on: p.depends_on.clone(),
                actor: actor.clone(),
                seq,
            }),
            _ => {}
        }
        let a = actors
            .entry(e.statement.actor.as_str())
            .or_insert_with(|| ActorActivity {
                id: actor,
                name: String::new(),
                roles: Vec::new(),
                events: 0,
                by_type: BTreeMap::new(),
            });
        a.name.clone_from(&row.actor_name);
        a.roles.clone_from(&row.actor_roles);
        a.events += 1;
        *a.by_type
            .entry(e.statement.event_type().as_str().to_string())
            .or_default() += 1;
    }
    r.actors = actors.into_values().collect();
    r.actors
        .sort_by(|a, b| b.events.cmp(&a.events).then_with(|| a.id.cmp(&b.id)));

    for id in &opened.focus {
        let at_end = end_m.get(id.as_str());
        let notes: Vec<&str> = r
            .assessments
            .iter()
            .filter(|a| &a.milestone == id)
            .map(|a| a.note.as_str())
            .collect();
        let achieved = at_end.is_some_and(|m| m.status == "achieved");
        r.focus_delivery.push(FocusDelivery {
            id: id.clone(),
            title: title(id),
            status_at_start: start_m.get(id.as_str()).map(|m| m.status.clone()),
            status_at_end: at_end.map(|m| m.status.clone()),
            achieved,
            assessment: (!notes.is_empty()).then(|| notes.join("; ")),
        });
        if !achieved {
            r.still_open.push(StillOpen {
                id: id.clone(),
                title: title(id),
                status: at_end.map_or_else(String::new, |m| m.status.clone()),
                blocked_by: at_end.map(|m| m.blocked_by.clone()).unwrap_or_default(),
            });
        }
    }
    Ok(r)
}

/// Markdown-escapes text for inline use (table cells, list items): every character
/// Markdown or Discourse could read as syntax is backslash-escaped, line breaks become
/// spaces.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

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

/// Evidence as Markdown links (labelled by host); anything not http(s) as escaped text.
fn md_links(urls: &[String]) -> String {
    if urls.is_empty() {
        return "—".into();
    }
    urls.iter()
        .map(|u| {
            if is_web_link(u) {
                let dest: String = u
                    .chars()
                    .map(|c| match c {
                        ' ' => "%20".to_string(),
                        '(' => "%28".into(),
                        ')' => "%29".into(),
                        '<' => "%3C".into(),
                        '>' => "%3E".into(),
                        '|' => "%7C".into(),
                        c if c.is_control() => String::new(),
                        c => c.to_string(),
                    })
                    .collect();
                format!("[{}]({dest})", md(link_label(u)))
            } else {
                md(u)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
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
    fn period(&self) -> String {
        match &self.ends_on {
            Some(e) => format!("{} – {}", self.starts_on, e),
            None => format!("{} – (open)", self.starts_on),
        }
    }

    fn layer_title<'a>(&'a self, id: &'a str) -> &'a str {
        self.layers
            .iter()
            .find(|l| l.id == id && !l.title.is_empty())
            .map_or(id, |l| l.title.as_str())
    }

    fn actor_name(&self, id: &str) -> String {
        match self.actors.iter().find(|a| a.id == id) {
            Some(a) if !a.name.is_empty() => format!("{} ({})", a.name, a.id),
            _ => id.to_string(),
        }
    }

    /// The review as Markdown, ready to paste into a Discourse post: headings, tables
    /// (text escaped, pipes included), evidence as links, and a first line naming the
    /// ledger, seq range and head hash so readers can recompute it.
    pub fn to_markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# Season {} review: {}\n", self.season, md(&self.ledger));
        let _ = writeln!(
            o,
            "_Computed by Waymark from ledger `{}`, events seq {}–{}, head hash `{}` \
             (recorded {}). Recompute with `waymark review {}`._\n",
            self.ledger.replace('`', ""),
            self.start.seq,
            self.end.seq,
            self.end.hash,
            md(&self.end.recorded_at),
            self.season
        );
        let _ = writeln!(
            o,
            "- **Season:** {} ({}), {}\n- **Intent:** {}\n- **Focus:** {}\n- **Overall phase:** {}\n",
            self.season,
            self.state,
            md(&self.period()),
            md(&self.intent),
            if self.focus.is_empty() {
                "—".into()
            } else {
                self.focus.iter().map(|f| md(f)).collect::<Vec<_>>().join(", ")
            },
            md(&arrow(
                or_dash(self.overall_phase.from.as_deref()),
                or_dash(self.overall_phase.to.as_deref())
            ))
        );

        o.push_str("## Summary\n\n");
        match &self.summary {
            Some(s) => {
                for line in s.lines() {
                    let _ = writeln!(o, "> {}", md(line));
                }
                o.push('\n');
            }
            None => o.push_str("_The season is still open: no re-evaluation yet._\n\n"),
        }

        o.push_str("## Progress by layer\n\n");
        o.push_str("| Layer | Phase | Achieved/total at start | Achieved/total at end |\n|---|---|---|---|\n");
        for l in &self.layers {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                md(&l.title),
                md(&arrow(&l.phase.from, &l.phase.to)),
                md(&progress_text(l, false)),
                md(&progress_text(l, true))
            );
        }
        o.push('\n');

        o.push_str("## Focus against delivery\n\n");
        if self.focus_delivery.is_empty() {
            o.push_str("No focus milestones.\n\n");
        } else {
            o.push_str("| Milestone | Title | At start | At end | Achieved | Assessment |\n|---|---|---|---|---|---|\n");
            for f in &self.focus_delivery {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    md(&f.id),
                    md(&f.title),
                    md(or_dash(f.status_at_start.as_deref())),
                    md(or_dash(f.status_at_end.as_deref())),
                    if f.achieved { "yes" } else { "no" },
                    md(or_dash(f.assessment.as_deref()))
                );
            }
            o.push('\n');
        }

        o.push_str("## Still open\n\n");
        if self.still_open.is_empty() {
            o.push_str("Every focus milestone was achieved.\n\n");
        } else {
            for s in &self.still_open {
                let blocked = if s.blocked_by.is_empty() {
                    String::from("not blocked")
                } else {
                    format!(
                        "blocked by {}",
                        s.blocked_by
                            .iter()
                            .map(|b| md(b))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let _ = writeln!(
                    o,
                    "- **{}** {}: {}; {}",
                    md(&s.id),
                    md(&s.title),
                    md(or_dash(Some(&s.status))),
                    blocked
                );
            }
            o.push('\n');
        }

        o.push_str("## Achieved this season\n\n");
        if self.achieved.is_empty() {
            o.push_str("None.\n\n");
        } else {
            o.push_str(
                "| Milestone | Title | Seq | By | Reason | Evidence |\n|---|---|---|---|---|---|\n",
            );
            for a in &self.achieved {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    md(&a.id),
                    md(&a.title),
                    a.seq,
                    md(&self.actor_name(&a.actor)),
                    md(&a.reason),
                    md_links(&a.evidence)
                );
            }
            o.push('\n');
        }

        o.push_str("## Regressions\n\n");
        if self.regressions.is_empty() {
            o.push_str("None.\n\n");
        } else {
            o.push_str("| Milestone | Change | Seq | By | Reason |\n|---|---|---|---|---|\n");
            for g in &self.regressions {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} |",
                    md(&g.id),
                    md(&format!("{} → {}", g.from, g.to)),
                    g.seq,
                    md(&self.actor_name(&g.actor)),
                    md(&g.reason)
                );
            }
            o.push('\n');
        }

        o.push_str("## Phase transitions\n\n");
        if self.phase_transitions.is_empty() {
            o.push_str("None.\n\n");
        } else {
            o.push_str("| Layer | Change | Seq | By | Reason |\n|---|---|---|---|---|\n");
            for p in &self.phase_transitions {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} |",
                    md(self.layer_title(&p.layer)),
                    md(&format!("{} → {}", p.from, p.to)),
                    p.seq,
                    md(&self.actor_name(&p.actor)),
                    md(&p.reason)
                );
            }
            o.push('\n');
        }

        o.push_str("## Every status change\n\n");
        if self.status_changes.is_empty() {
            o.push_str("None.\n\n");
        } else {
            o.push_str(
                "| Seq | Recorded | By | Change | Reason | Evidence |\n|---|---|---|---|---|---|\n",
            );
            for c in &self.status_changes {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    c.seq,
                    md(&c.recorded_at),
                    md(&self.actor_name(&c.actor)),
                    md(&c.change),
                    md(or_dash(c.reason.as_deref())),
                    md_links(&c.evidence)
                );
            }
            o.push('\n');
        }

        o.push_str("## Changes to the model\n\n");
        if self.new_milestones.is_empty()
            && self.revisions.is_empty()
            && self.retirements.is_empty()
        {
            o.push_str("None.\n\n");
        } else {
            for n in &self.new_milestones {
                let deps = if n.depends_on.is_empty() {
                    String::new()
                } else {
                    format!(", depends on {}", md(&n.depends_on.join(", ")))
                };
                let _ = writeln!(
                    o,
                    "- Defined **{}** {} ({} / {}{deps}), seq {} by {}",
                    md(&n.id),
                    md(&n.title),
                    md(&n.layer),
                    md(&n.phase),
                    n.seq,
                    md(&self.actor_name(&n.actor))
                );
            }
            for v in &self.revisions {
                let _ = writeln!(
                    o,
                    "- Revised **{}** ({}), seq {} by {}: {}",
                    md(&v.id),
                    md(&v.fields.join(", ")),
                    v.seq,
                    md(&self.actor_name(&v.actor)),
                    md(&v.reason)
                );
            }
            for t in &self.retirements {
                let _ = writeln!(
                    o,
                    "- Retired {} **{}**, seq {} by {}: {}",
                    t.kind,
                    md(&t.id),
                    t.seq,
                    md(&self.actor_name(&t.actor)),
                    md(&t.reason)
                );
            }
            o.push('\n');
        }

        o.push_str("## Assessments\n\n");
        if self.assessments.is_empty() {
            o.push_str("None.\n\n");
        } else {
            for a in &self.assessments {
                let _ = writeln!(o, "- **{}**: {}", md(&a.milestone), md(&a.note));
            }
            o.push('\n');
        }

        o.push_str("## Who acted\n\n");
        o.push_str("| Actor | Name | Roles | Events | By type |\n|---|---|---|---|---|\n");
        for a in &self.actors {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                md(&a.id),
                md(or_dash(Some(&a.name))),
                md(&a.roles.join(", ")),
                a.events,
                md(&type_counts(a))
            );
        }
        o
    }

    /// The review as one standalone HTML5 page: inline style, no script, no external
    /// resources; all text escaped, links only for http(s) evidence.
    pub fn to_html(&self) -> String {
        let e = |s: &str| escape(s);
        let title = format!("Season {} review: {}", self.season, self.ledger);
        let mut o = String::new();
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n",
            e(&title),
            e(&title)
        );
        let _ = writeln!(
            o,
            "<p class=\"provenance\">Computed by Waymark from ledger <code>{}</code>, events seq {}–{}, \
             head hash <code>{}</code> (recorded {}). Recompute with <code>waymark review {}</code>.</p>",
            e(&self.ledger),
            self.start.seq,
            self.end.seq,
            self.end.hash,
            e(&self.end.recorded_at),
            self.season
        );
        let _ = writeln!(
            o,
            "<dl>\n<dt>Season</dt><dd>{} ({}), {}</dd>\n<dt>Intent</dt><dd>{}</dd>\n\
             <dt>Focus</dt><dd>{}</dd>\n<dt>Overall phase</dt><dd>{}</dd>\n</dl>",
            self.season,
            e(&self.state),
            e(&self.period()),
            e(&self.intent),
            e(or_dash(Some(&self.focus.join(", ")))),
            e(&arrow(
                or_dash(self.overall_phase.from.as_deref()),
                or_dash(self.overall_phase.to.as_deref())
            ))
        );

        section(&mut o, "summary", "Summary", |o| match &self.summary {
            Some(s) => {
                let _ = writeln!(
                    o,
                    "<blockquote><p>{}</p></blockquote>",
                    e(s).replace('\n', "<br>")
                );
            }
            None => o.push_str("<p><em>The season is still open: no re-evaluation yet.</em></p>\n"),
        });

        section(&mut o, "progress", "Progress by layer", |o| {
            table(
                o,
                "Achieved and total milestones per phase, at the start and the end of the season",
                &["Layer", "Phase", "At start", "At end"],
                self.layers.iter().map(|l| {
                    vec![
                        e(&l.title),
                        e(&arrow(&l.phase.from, &l.phase.to)),
                        e(&progress_text(l, false)),
                        e(&progress_text(l, true)),
                    ]
                }),
            );
        });

        section(&mut o, "focus", "Focus against delivery", |o| {
            table(
                o,
                "Each focus milestone: status at the start and at the end",
                &[
                    "Milestone",
                    "Title",
                    "At start",
                    "At end",
                    "Achieved",
                    "Assessment",
                ],
                self.focus_delivery.iter().map(|f| {
                    vec![
                        e(&f.id),
                        e(&f.title),
                        e(or_dash(f.status_at_start.as_deref())),
                        e(or_dash(f.status_at_end.as_deref())),
                        if f.achieved {
                            "yes"
                        } else {
                            "<strong>no</strong>"
                        }
                        .into(),
                        e(or_dash(f.assessment.as_deref())),
                    ]
                }),
            );
        });

        section(&mut o, "still-open", "Still open", |o| {
            if self.still_open.is_empty() {
                o.push_str("<p>Every focus milestone was achieved.</p>\n");
                return;
            }
            o.push_str("<ul>\n");
            for s in &self.still_open {
                let blocked = if s.blocked_by.is_empty() {
                    "not blocked".to_string()
                } else {
                    format!("blocked by {}", e(&s.blocked_by.join(", ")))
                };
                let _ = writeln!(
                    o,
                    "<li><strong>{}</strong> {}: {}; {blocked}</li>",
                    e(&s.id),
                    e(&s.title),
                    e(or_dash(Some(&s.status)))
                );
            }
            o.push_str("</ul>\n");
        });

        section(&mut o, "achieved", "Achieved this season", |o| {
            table(
                o,
                "Milestones that became achieved during the season",
                &["Milestone", "Title", "Seq", "By", "Reason", "Evidence"],
                self.achieved.iter().map(|a| {
                    vec![
                        e(&a.id),
                        e(&a.title),
                        a.seq.to_string(),
                        e(&self.actor_name(&a.actor)),
                        e(&a.reason),
                        html_links(&a.evidence),
                    ]
                }),
            );
        });

        section(&mut o, "regressions", "Regressions", |o| {
            table(
                o,
                "Milestones that left achieved during the season",
                &["Milestone", "Change", "Seq", "By", "Reason"],
                self.regressions.iter().map(|g| {
                    vec![
                        e(&g.id),
                        e(&format!("{} → {}", g.from, g.to)),
                        g.seq.to_string(),
                        e(&self.actor_name(&g.actor)),
                        e(&g.reason),
                    ]
                }),
            );
        });

        section(&mut o, "phases", "Phase transitions", |o| {
            table(
                o,
                "Layers that moved to their next phase",
                &["Layer", "Change", "Seq", "By", "Reason"],
                self.phase_transitions.iter().map(|p| {
                    vec![
                        e(self.layer_title(&p.layer)),
                        e(&format!("{} → {}", p.from, p.to)),
                        p.seq.to_string(),
                        e(&self.actor_name(&p.actor)),
                        e(&p.reason),
                    ]
                }),
            );
        });

        section(&mut o, "changes", "Every status change", |o| {
            table(
                o,
                "All milestone status changes of the season, in ledger order",
                &["Seq", "Recorded", "By", "Change", "Reason", "Evidence"],
                self.status_changes.iter().map(|c| {
                    vec![
                        c.seq.to_string(),
                        e(&c.recorded_at),
                        e(&self.actor_name(&c.actor)),
                        e(&c.change),
                        e(or_dash(c.reason.as_deref())),
                        html_links(&c.evidence),
                    ]
                }),
            );
        });

        section(&mut o, "model", "Changes to the model", |o| {
            let mut items: Vec<String> = Vec::new();
            for n in &self.new_milestones {
                items.push(format!(
                    "Defined <strong>{}</strong> {} ({} / {}{}), seq {} by {}",
                    e(&n.id),
                    e(&n.title),
                    e(&n.layer),
                    e(&n.phase),
                    if n.depends_on.is_empty() {
                        String::new()
                    } else {
                        format!(", depends on {}", e(&n.depends_on.join(", ")))
                    },
                    n.seq,
                    e(&self.actor_name(&n.actor))
                ));
            }
            for v in &self.revisions {
                items.push(format!(
                    "Revised <strong>{}</strong> ({}), seq {} by {}: {}",
                    e(&v.id),
                    e(&v.fields.join(", ")),
                    v.seq,
                    e(&self.actor_name(&v.actor)),
                    e(&v.reason)
                ));
            }
            for t in &self.retirements {
                items.push(format!(
                    "Retired {} <strong>{}</strong>, seq {} by {}: {}",
                    e(&t.kind),
                    e(&t.id),
                    t.seq,
                    e(&self.actor_name(&t.actor)),
                    e(&t.reason)
                ));
            }
            list(o, &items);
        });

        section(&mut o, "assessments", "Assessments", |o| {
            let items: Vec<String> = self
                .assessments
                .iter()
                .map(|a| format!("<strong>{}</strong>: {}", e(&a.milestone), e(&a.note)))
                .collect();
            list(o, &items);
        });

        section(&mut o, "actors", "Who acted", |o| {
            table(
                o,
                "Events signed during the season, per actor",
                &["Actor", "Name", "Roles", "Events", "By type"],
                self.actors.iter().map(|a| {
                    vec![
                        e(&a.id),
                        e(or_dash(Some(&a.name))),
                        e(&a.roles.join(", ")),
                        a.events.to_string(),
                        e(&type_counts(a)),
                    ]
                }),
            );
        });

        o.push_str("</main>\n</body>\n</html>\n");
        o
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,\"Segoe UI\",Helvetica,Arial,sans-serif;\
line-height:1.45;color:#1b1b1b;background:#fff;margin:0}\n\
main{max-width:72rem;margin:0 auto;padding:1.5rem}\n\
h1{font-size:1.7rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}\n\
.provenance{font-size:.9rem;color:#555;overflow-wrap:anywhere}\n\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:bold}dd{margin:0}\n\
table{border-collapse:collapse;width:100%;font-size:.92rem}\n\
caption{text-align:left;color:#555;padding:.25rem 0}\n\
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\n\
th{background:#f3f3f3}td{overflow-wrap:anywhere}\n\
blockquote{margin:0;padding:.5rem 1rem;border-left:4px solid #ccc;background:#fafafa}\n";

fn section(o: &mut String, id: &str, heading: &str, body: impl FnOnce(&mut String)) {
    let _ = writeln!(
        o,
        "<section id=\"{id}\" aria-labelledby=\"{id}-h\">\n<h2 id=\"{id}-h\">{heading}</h2>"
    );
    body(o);
    o.push_str("</section>\n");
}

/// A table whose cells are already HTML; "None." when there are no rows.
fn table(o: &mut String, caption: &str, headers: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let rows: Vec<Vec<String>> = rows.collect();
    if rows.is_empty() {
        o.push_str("<p>None.</p>\n");
        return;
    }
    let _ = writeln!(o, "<table>\n<caption>{caption}</caption>\n<thead><tr>");
    for h in headers {
        let _ = write!(o, "<th scope=\"col\">{h}</th>");
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        o.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if i == 0 {
                let _ = write!(o, "<th scope=\"row\">{cell}</th>");
            } else {
                let _ = write!(o, "<td>{cell}</td>");
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
}

/// A list whose items are already HTML; "None." when empty.
fn list(o: &mut String, items: &[String]) {
    if items.is_empty() {
        o.push_str("<p>None.</p>\n");
        return;
    }
    o.push_str("<ul>\n");
    for i in items {
        let _ = writeln!(o, "<li>{i}</li>");
    }
    o.push_str("</ul>\n");
}

/// Evidence as links for http(s) URLs (labelled by host), escaped text otherwise.
fn html_links(urls: &[String]) -> String {
    if urls.is_empty() {
        return "—".into();
    }
    urls.iter()
        .map(|u| {
            if is_web_link(u) {
                format!(
                    "<a href=\"{}\" rel=\"nofollow noopener\">{}</a>",
                    escape(u),
                    escape(link_label(u))
                )
            } else {
                escape(u)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
