//! The review as one standalone HTML5 page.

use super::{arrow, is_web_link, link_label, or_dash, progress_text, type_counts, SeasonReview};
use crate::html::escape;
use std::fmt::Write as _;

pub(super) fn render(r: &SeasonReview) -> String {
    let e = |s: &str| escape(s);
    let title = format!("Season {} review: {}", r.season, r.ledger);
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
        e(&r.ledger),
        r.start.seq,
        r.end.seq,
        r.end.hash,
        e(&r.end.recorded_at),
        r.season
    );
    let _ = writeln!(
        o,
        "<dl>\n<dt>Season</dt><dd>{} ({}), {}</dd>\n<dt>Intent</dt><dd>{}</dd>\n\
         <dt>Focus</dt><dd>{}</dd>\n<dt>Overall phase</dt><dd>{}</dd>\n</dl>",
        r.season,
        e(&r.state),
        e(&r.period()),
        e(&r.intent),
        e(or_dash(Some(&r.focus.join(", ")))),
        e(&arrow(
            or_dash(r.overall_phase.from.as_deref()),
            or_dash(r.overall_phase.to.as_deref())
        ))
    );

    section(&mut o, "summary", "Summary", |o| match &r.summary {
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
            r.layers.iter().map(|l| {
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
            r.focus_delivery.iter().map(|f| {
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
        if r.still_open.is_empty() {
            o.push_str("<p>Every focus milestone was achieved.</p>\n");
            return;
        }
        o.push_str("<ul>\n");
        for s in &r.still_open {
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
            r.achieved.iter().map(|a| {
                vec![
                    e(&a.id),
                    e(&a.title),
                    a.seq.to_string(),
                    e(&r.actor_name(&a.actor)),
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
            r.regressions.iter().map(|g| {
                vec![
                    e(&g.id),
                    e(&format!("{} → {}", g.from, g.to)),
                    g.seq.to_string(),
                    e(&r.actor_name(&g.actor)),
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
            r.phase_transitions.iter().map(|p| {
                vec![
                    e(r.layer_title(&p.layer)),
                    e(&format!("{} → {}", p.from, p.to)),
                    p.seq.to_string(),
                    e(&r.actor_name(&p.actor)),
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
            r.status_changes.iter().map(|c| {
                vec![
                    c.seq.to_string(),
                    e(&c.recorded_at),
                    e(&r.actor_name(&c.actor)),
                    e(&c.change),
                    e(or_dash(c.reason.as_deref())),
                    html_links(&c.evidence),
                ]
            }),
        );
    });

    section(&mut o, "model", "Changes to the model", |o| {
        let mut items: Vec<String> = Vec::new();
        for n in &r.new_milestones {
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
                e(&r.actor_name(&n.actor))
            ));
        }
        for v in &r.revisions {
            items.push(format!(
                "Revised <strong>{}</strong> ({}), seq {} by {}: {}",
                e(&v.id),
                e(&v.fields.join(", ")),
                v.seq,
                e(&r.actor_name(&v.actor)),
                e(&v.reason)
            ));
        }
        for t in &r.retirements {
            items.push(format!(
                "Retired {} <strong>{}</strong>, seq {} by {}: {}",
                e(&t.kind),
                e(&t.id),
                t.seq,
                e(&r.actor_name(&t.actor)),
                e(&t.reason)
            ));
        }
        list(o, &items);
    });

    section(&mut o, "assessments", "Assessments", |o| {
        let items: Vec<String> = r
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
            r.actors.iter().map(|a| {
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
