//! The review as one standalone HTML5 page, written as a maud template (see
//! [`crate::html`] for why maud). Every text goes through the one escaper as
//! `(Text(..))`; numbers are spliced as they are.
//!
//! The `"\n"` literals put a line break after each block element, so that the page reads
//! well as source and stays byte for byte what earlier releases wrote (the golden tests
//! in `tests/golden/` hold it to that).

use super::{
    arrow, authority_counts, governance_change_text, is_web_link, link_label, or_dash,
    progress_text, transfer_changes, type_counts, DecisionAuthority, SeasonReview,
};
use crate::design::summary as design_summary;
use crate::history::HistoryRow;
use crate::html::Text;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Where the rows of the status changes go in the page [`frame`] renders: a comment
/// no escaped text can contain (the escaper writes every `<` as `&lt;`).
const ROWS: &str = "<!--waymark:status-change-rows-->";

/// The whole page around the rows of its `changes` status changes (see
/// [`super::ReviewFrame`]): head with the inline style, provenance, the season's facts,
/// sections; the page is the head, each change's [`change_row`], then the tail.
pub(super) fn frame(r: &SeasonReview, changes: u64) -> (String, String) {
    let title = format!("Season {} review: {}", r.season, r.ledger);
    let overall = arrow(
        or_dash(r.overall_phase.from.as_deref()),
        or_dash(r.overall_phase.to.as_deref()),
    );
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            "\n"
            head {
                "\n"
                meta charset="utf-8"; "\n"
                meta name="viewport" content="width=device-width, initial-scale=1"; "\n"
                title { (Text(&title)) } "\n"
                style { "\n" (PreEscaped(STYLE)) } "\n"
            } "\n"
            body {
                "\n"
                main {
                    "\n"
                    h1 { (Text(&title)) } "\n"
                    p class="provenance" {
                        "Computed by Waymark from ledger " code { (Text(&r.ledger)) }
                        ", events seq " (r.start.seq) "–" (r.end.seq)
                        ", head hash " code { (Text(&r.end.hash.to_hex())) }
                        " (recorded " (Text(&r.end.recorded_at)) "). Recompute with "
                        code { "waymark review " (r.season) } "."
                    } "\n"
                    dl {
                        "\n"
                        dt { "Season" }
                        dd { (r.season) " (" (Text(&r.state)) "), " (Text(&r.period())) } "\n"
                        dt { "Intent" } dd { (Text(&r.intent)) } "\n"
                        dt { "Focus" } dd { (Text(or_dash(Some(&r.focus.join(", "))))) } "\n"
                        dt { "Overall phase" } dd { (Text(&overall)) } "\n"
                    } "\n"
                    @for s in sections(r, changes) { (s) }
                } "\n"
            } "\n"
        } "\n"
    }
    .into_string();
    match page.split_once(ROWS) {
        Some((head, tail)) => (head.to_string(), tail.to_string()),
        None => (page, String::new()),
    }
}

/// The headers of the status changes' table.
const CHANGE_HEADERS: [&str; 6] = ["Seq", "Recorded", "By", "Change", "Reason", "Evidence"];

/// One row of the status changes' table.
pub(super) fn change_row(r: &SeasonReview, c: &HistoryRow) -> String {
    let by = |actor: &str| text(&r.actor_name(actor));
    let [seq, recorded, by_, change, reason, evidence] = CHANGE_HEADERS;
    row(
        c,
        &[
            (seq, &|c| html! { (c.seq) }),
            (recorded, &|c| text(&c.recorded_at)),
            (by_, &|c| by(&c.actor)),
            (change, &|c| text(&c.change)),
            (reason, &|c| text(or_dash(c.reason.as_deref()))),
            (evidence, &|c| links(&c.evidence)),
        ],
    )
    .into_string()
}

/// The sections in order, the status changes' rows as [`ROWS`]; "Decision authority"
/// (before "Assessments") only when the season has section 13 events.
fn sections(r: &SeasonReview, changes: u64) -> Vec<Markup> {
    let by = |actor: &str| text(&r.actor_name(actor));
    let mut all = vec![
        section("summary", "Summary", summary(r)),
        section(
            "progress",
            "Progress by layer",
            table(
                "Achieved and total milestones per phase, at the start and the end of the season",
                &r.layers,
                &[
                    ("Layer", &|l| text(&l.title)),
                    ("Phase", &|l| text(&arrow(&l.phase.from, &l.phase.to))),
                    ("At start", &|l| text(&progress_text(l, false))),
                    ("At end", &|l| text(&progress_text(l, true))),
                ],
            ),
        ),
        section(
            "focus",
            "Focus against delivery",
            table(
                "Each focus milestone: status at the start and at the end",
                &r.focus_delivery,
                &[
                    ("Milestone", &|f| text(&f.id)),
                    ("Title", &|f| text(&f.title)),
                    ("At start", &|f| text(or_dash(f.status_at_start.as_deref()))),
                    ("At end", &|f| text(or_dash(f.status_at_end.as_deref()))),
                    ("Achieved", &|f| {
                        html! { @if f.achieved { "yes" } @else { strong { "no" } } }
                    }),
                    ("Assessment", &|f| text(or_dash(f.assessment.as_deref()))),
                ],
            ),
        ),
        section(
            "still-open",
            "Still open",
            list_or(
                "Every focus milestone was achieved.",
                r.still_open.iter().map(|s| {
                    html! {
                        strong { (Text(&s.id)) } " " (Text(&s.title)) ": "
                        (Text(or_dash(Some(&s.status)))) "; "
                        @if s.blocked_by.is_empty() { "not blocked" }
                        @else { "blocked by " (Text(&s.blocked_by.join(", "))) }
                    }
                }),
            ),
        ),
        section(
            "achieved",
            "Achieved this season",
            table(
                "Milestones that became achieved during the season",
                &r.achieved,
                &[
                    ("Milestone", &|a| text(&a.id)),
                    ("Title", &|a| text(&a.title)),
                    ("Seq", &|a| html! { (a.seq) }),
                    ("By", &|a| by(&a.actor)),
                    ("Reason", &|a| text(&a.reason)),
                    ("Evidence", &|a| links(&a.evidence)),
                ],
            ),
        ),
        section(
            "regressions",
            "Regressions",
            table(
                "Milestones that left achieved during the season",
                &r.regressions,
                &[
                    ("Milestone", &|g| text(&g.id)),
                    ("Change", &|g| text(&format!("{} → {}", g.from, g.to))),
                    ("Seq", &|g| html! { (g.seq) }),
                    ("By", &|g| by(&g.actor)),
                    ("Reason", &|g| text(&g.reason)),
                ],
            ),
        ),
        section(
            "phases",
            "Phase transitions",
            table(
                "Layers that moved to their next phase",
                &r.phase_transitions,
                &[
                    ("Layer", &|p| text(r.layer_title(&p.layer))),
                    ("Change", &|p| text(&format!("{} → {}", p.from, p.to))),
                    ("Seq", &|p| html! { (p.seq) }),
                    ("By", &|p| by(&p.actor)),
                    ("Reason", &|p| text(&p.reason)),
                ],
            ),
        ),
        section(
            "changes",
            "Every status change",
            match changes {
                0 => none(),
                _ => table_around(
                    "All milestone status changes of the season, in ledger order",
                    &CHANGE_HEADERS,
                    PreEscaped(ROWS.to_string()),
                ),
            },
        ),
        section("model", "Changes to the model", model_changes(r)),
        // "Decision authority" goes here when the season has section 13 events.
        section(
            "assessments",
            "Assessments",
            list_or(
                "None.",
                r.assessments.iter().map(|a| {
                    html! { strong { (Text(&a.milestone)) } ": " (Text(&a.note)) }
                }),
            ),
        ),
        section(
            "actors",
            "Who acted",
            table(
                "Events signed during the season, per actor",
                &r.actors,
                &[
                    ("Actor", &|a| text(&a.id)),
                    ("Name", &|a| text(or_dash(Some(&a.name)))),
                    ("Roles", &|a| text(&a.roles.join(", "))),
                    ("Events", &|a| html! { (a.events) }),
                    ("By type", &|a| text(&type_counts(a))),
                ],
            ),
        ),
    ];
    if let Some(a) = &r.decision_authority {
        let at = all.len() - 2; // before "Assessments" and "Who acted"
        all.insert(
            at,
            section("decisions", "Decision authority", decision_authority(r, a)),
        );
    }
    all
}

/// Section 13 during the season: the counts at its start and end, the transfers with the
/// designs before and after, the hypotheses, and bodies and modules changed.
fn decision_authority(r: &SeasonReview, a: &DecisionAuthority) -> Markup {
    let by = |actor: &str| text(&r.actor_name(actor));
    let changes = a.changes.iter().map(|c| {
        let t = governance_change_text(c);
        html! {
            (Text(&t.head)) " " strong { (Text(&c.id)) } (Text(&t.detail)) ", seq " (c.seq)
            " by " (by(&c.actor))
            @if !c.reason.is_empty() { ": " (Text(&c.reason)) }
            @if !t.designs.is_empty() { " — " (Text(&t.designs)) }
        }
    });
    let transfers = a.transfers.iter().map(|t| {
        let changed = transfer_changes(t);
        html! {
            strong { (Text(&t.decision)) } " " (Text(&t.title)) ", effective "
            (Text(&t.effective_on)) " (seq " (t.seq) ", by " (by(&t.actor)) ")"
            dl {
                "\n"
                dt { "Changed" } dd { (Text(or_dash(Some(&changed)))) } "\n"
                dt { "From" } dd { (Text(&design_summary(&t.from))) } "\n"
                dt { "To" } dd { (Text(&design_summary(&t.to))) } "\n"
                dt { "Reason" } dd { (Text(&t.reason)) } "\n"
                dt { "Evidence" } dd { (links(&t.evidence)) } "\n"
            }
        }
    });
    html! {
        dl {
            "\n"
            @for (label, change) in authority_counts(&a.authority) {
                dt { (Text(label)) } dd { (Text(&change)) } "\n"
            }
        } "\n"
        h3 { "Authority transfers" } "\n"
        (list_or("None.", transfers))
        h3 { "Hypotheses stated" } "\n"
        (table(
            "Hypotheses stated about a module during the season",
            &a.hypotheses_stated,
            &[
                ("Module", &|h| text(&h.decision)),
                ("Hypothesis", &|h| text(&h.id)),
                ("Statement", &|h| text(&h.statement)),
                ("Measure", &|h| text(&h.measure)),
                ("Seq", &|h| html! { (h.seq) }),
                ("By", &|h| by(&h.actor)),
            ],
        ))
        h3 { "Hypotheses concluded" } "\n"
        (table(
            "Hypotheses concluded during the season, with their outcome",
            &a.hypotheses_concluded,
            &[
                ("Module", &|h| text(&h.decision)),
                ("Hypothesis", &|h| text(&h.id)),
                ("Outcome", &|h| text(&h.outcome)),
                ("Note", &|h| text(&h.note)),
                ("Seq", &|h| html! { (h.seq) }),
                ("By", &|h| by(&h.actor)),
                ("Evidence", &|h| links(&h.evidence)),
            ],
        ))
        h3 { "Bodies and modules defined, revised or retired" } "\n"
        (list_or("None.", changes))
    }
}

/// The re-evaluation's summary, its line breaks kept; or a note that the season is open.
fn summary(r: &SeasonReview) -> Markup {
    html! {
        @match &r.summary {
            Some(s) => {
                blockquote { p {
                    @for (i, line) in s.split(['\r', '\n']).enumerate() {
                        @if i > 0 { br; }
                        (Text(line))
                    }
                } } "\n"
            }
            None => { p { em { "The season is still open: no re-evaluation yet." } } "\n" }
        }
    }
}

/// Milestones defined, revised and retired (and actors retired), in that order.
fn model_changes(r: &SeasonReview) -> Markup {
    let by = |actor: &str| text(&r.actor_name(actor));
    let defined = r.new_milestones.iter().map(|n| {
        html! {
            "Defined " strong { (Text(&n.id)) } " " (Text(&n.title))
            " (" (Text(&n.layer)) " / " (Text(&n.phase))
            @if !n.depends_on.is_empty() { ", depends on " (Text(&n.depends_on.join(", "))) }
            "), seq " (n.seq) " by " (by(&n.actor))
        }
    });
    let revised = r.revisions.iter().map(|v| {
        html! {
            "Revised " strong { (Text(&v.id)) } " (" (Text(&v.fields.join(", "))) "), seq "
            (v.seq) " by " (by(&v.actor)) ": " (Text(&v.reason))
        }
    });
    let retired = r.retirements.iter().map(|t| {
        html! {
            "Retired " (Text(&t.kind)) " " strong { (Text(&t.id)) } ", seq " (t.seq) " by "
            (by(&t.actor)) ": " (Text(&t.reason))
        }
    });
    list_or("None.", defined.chain(revised).chain(retired))
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

/// Text as markup, through the one escaper.
fn text(s: &str) -> Markup {
    html! { (Text(s)) }
}

/// A section with its heading, labelled for assistive technology.
fn section(id: &str, heading: &str, body: Markup) -> Markup {
    html! {
        section id=(Text(id)) aria-labelledby={ (Text(id)) "-h" } {
            "\n"
            h2 id={ (Text(id)) "-h" } { (Text(heading)) } "\n"
            (body)
        } "\n"
    }
}

/// A table column: its header and the markup of its cell for one row.
type Column<'a, T> = (&'a str, &'a dyn Fn(&T) -> Markup);

/// A table with a caption, one row per item, the first cell of each row its header;
/// "None." when there are no items.
fn table<T>(caption: &str, items: &[T], columns: &[Column<'_, T>]) -> Markup {
    if items.is_empty() {
        return none();
    }
    let headers: Vec<&str> = columns.iter().map(|(header, _)| *header).collect();
    let rows = html! { @for item in items { (row(item, columns)) } };
    table_around(caption, &headers, rows)
}

/// What a table without items is.
fn none() -> Markup {
    html! { p { "None." } "\n" }
}

/// A table with a caption and headers around its rows.
fn table_around(caption: &str, headers: &[&str], rows: Markup) -> Markup {
    html! {
        table {
            "\n"
            caption { (Text(caption)) } "\n"
            thead { tr {
                "\n"
                @for header in headers { th scope="col" { (Text(header)) } }
            } } "\n"
            tbody {
                "\n"
                (rows)
            } "\n"
        } "\n"
    }
}

/// One row of a table, its first cell the row's header.
fn row<T>(item: &T, columns: &[Column<'_, T>]) -> Markup {
    html! {
        tr {
            @for (i, (_, cell)) in columns.iter().enumerate() {
                @if i == 0 {
                    th scope="row" { (cell(item)) }
                } @else {
                    td { (cell(item)) }
                }
            }
        } "\n"
    }
}

/// A bulleted list, or the paragraph `none` when there are no items.
fn list_or(none: &str, items: impl Iterator<Item = Markup>) -> Markup {
    let items: Vec<Markup> = items.collect();
    html! {
        @if items.is_empty() {
            p { (Text(none)) } "\n"
        } @else {
            ul {
                "\n"
                @for item in &items { li { (item) } "\n" }
            } "\n"
        }
    }
}

/// Evidence as links for http(s) URLs (labelled by host), text otherwise; "—" for none.
fn links(urls: &[String]) -> Markup {
    html! {
        @if urls.is_empty() { "—" }
        @for (i, url) in urls.iter().enumerate() {
            @if i > 0 { ", " }
            @if is_web_link(url) {
                a href=(Text(url)) rel="nofollow noopener" { (Text(link_label(url))) }
            } @else {
                (Text(url))
            }
        }
    }
}
