//! The audit log: one page of events, newest first, with the server's filters, each
//! hash linking to the event's inclusion proof, and links to the newer and older pages.

use super::links::query_value;
use super::{Links, Page, AUDIT_PAGE};
use maud::{html, Markup};
use waymark_projections::html::Text;
use waymark_projections::HistoryRow;

pub(super) fn audit(p: &Page, links: &Links) -> Markup {
    html! {
        section id="audit" aria-labelledby="audit-h" {
            "\n"
            h2 id="audit-h" { "Audit log" } "\n"
            @if p.filters { (filters(p, links)) }
            p class="note" {
                "Newest first, " (AUDIT_PAGE) " events a page"
                @match (p.rows.first(), p.rows.last()) {
                    (Some(a), Some(b)) => { ": seq " (a.seq) " down to " (b.seq) }
                    _ => { ": no event matches" }
                }
                ". Each hash links to the event's inclusion proof in the tree of the whole \
                 ledger"
                @if let Links::Static { proofs_from } = links {
                    " (this site keeps the proofs of seq " (proofs_from) " and later; any \
                     other comes from the tiles: "
                    code { "waymark prove inclusion SEQ --tiles " (Text(&links.tiles(&p.id))) } ")"
                }
                "; the "
                a href=(Text(&links.events(&p.id))) { "export" } " holds every event."
            } "\n"
            table class="audit" {
                "\n"
                thead {
                    tr {
                        @for h in ["seq", "recorded", "actor", "type", "change", "reason", "evidence", "hash"] {
                            th scope="col" { (Text(h)) }
                        }
                    }
                } "\n"
                tbody {
                    "\n"
                    @for r in &p.rows { (row(p, links, r)) "\n" }
                } "\n"
            } "\n"
            @if let Links::Server { .. } = links {
                @if p.filter.before.is_some() || p.older.is_some() { (pages(p)) "\n" }
            }
        } "\n"
    }
}

/// The server's filter form: milestone, actor, Season and type.
fn filters(p: &Page, links: &Links) -> Markup {
    let milestones: Vec<String> = p.status.milestones.iter().map(|m| m.id.clone()).collect();
    let seasons: Vec<String> = p.seasons.iter().map(|s| s.number.to_string()).collect();
    let season = p.filter.season.map(|s| s.to_string());
    let types: Vec<String> = waymark_events::EventType::ALL
        .iter()
        .map(|t| t.as_str().to_string())
        .collect();
    let f = &p.filter;
    html! {
        form class="inline" method="get" action={ (Text(&links.page(&p.id, None))) "#audit" }
            aria-label="Filter the audit log" {
            "\n"
            @if let Some(pt) = &p.point {
                input type="hidden" name="as_of" value=(Text(pt)); "\n"
            }
            (options("milestone", "Milestone", &milestones, f.milestone.as_deref()))
            (options("actor", "Actor", &p.all_actors, f.actor.as_deref()))
            (options("season", "Season", &seasons, season.as_deref()))
            (options("type", "Type", &types, f.event_type.as_deref()))
            button type="submit" { "Filter" } "\n"
        } "\n"
    }
}

/// A labelled select of `values`, "any" first, `chosen` selected.
fn options(name: &str, label: &str, values: &[String], chosen: Option<&str>) -> Markup {
    html! {
        label for={ "f-" (Text(name)) } {
            (Text(label))
            select id={ "f-" (Text(name)) } name=(Text(name)) {
                option value="" { "any" }
                @for v in values {
                    option selected[chosen == Some(v.as_str())] { (Text(v)) }
                }
            }
        } "\n"
    }
}

/// One event of the log.
fn row(p: &Page, links: &Links, r: &HistoryRow) -> Markup {
    let hash = r.hash.to_hex();
    html! {
        tr data-seq=(r.seq) {
            td { (r.seq) }
            td { (Text(&r.recorded_at)) }
            td { (Text(&r.actor)) " " span class="note" { "(" (Text(&r.actor_roles.join(", "))) ")" } }
            td { (Text(&r.event_type)) }
            td { (Text(&r.change)) }
            td { (reason(r.reason.as_deref().unwrap_or(""))) }
            td {
                @for (i, e) in r.evidence.iter().enumerate() {
                    @if i > 0 { br; }
                    a href=(Text(e)) rel="nofollow noopener" { (Text(&link_text(e))) }
                }
            }
            td class="hash" {
                @match links.inclusion(&p.id, r.seq) {
                    Some(proof) => {
                        a href=(Text(&proof)) title={ "inclusion proof of seq " (r.seq) } {
                            (Text(&hash[..16])) "…"
                        }
                    }
                    None => {
                        span title=(Text(&from_tiles(p, links, r.seq))) { (Text(&hash[..16])) "…" }
                    }
                }
            }
        }
    }
}

/// The tooltip of a hash whose proof the site does not keep: how to compute it.
fn from_tiles(p: &Page, links: &Links, seq: u64) -> String {
    format!(
        "no proof file for seq {seq} here: waymark prove inclusion {seq} --tiles {}",
        links.tiles(&p.id)
    )
}

/// A reason: short ones whole, long ones as their opening with the rest behind a
/// disclosure.
fn reason(reason: &str) -> Markup {
    const SHOWN: usize = 140;
    html! {
        @if reason.chars().count() <= SHOWN + 20 {
            (Text(reason))
        } @else {
            details {
                summary { (Text(&reason.chars().take(SHOWN).collect::<String>())) "…" }
                (Text(reason))
            }
        }
    }
}

/// An evidence URL as a short link text: its host and the start of its path.
fn link_text(url: &str) -> String {
    let bare = url
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    if bare.chars().count() <= 48 {
        bare.to_string()
    } else {
        bare.chars().take(47).collect::<String>() + "…"
    }
}

/// Links to the newest page and to the next older one (the server's pages).
fn pages(p: &Page) -> Markup {
    let page = |before: Option<u64>| {
        let mut q = p.filter.query_string();
        if let Some(pt) = &p.point {
            q.push_str(&format!("as_of={}&", query_value(pt)));
        }
        if let Some(b) = before {
            q.push_str(&format!("before={b}&"));
        }
        format!("/ledgers/{}?{}#audit", p.id, q.trim_end_matches('&'))
    };
    html! {
        nav aria-label="Audit log pages" {
            p {
                @if p.filter.before.is_some() {
                    a href=(Text(&page(None))) { "Newest events" }
                }
                @if let Some(b) = p.older {
                    @if p.filter.before.is_some() { " · " }
                    a href=(Text(&page(Some(b)))) rel="next" { "Older events (before seq " (b) ")" }
                }
            }
        }
    }
}
