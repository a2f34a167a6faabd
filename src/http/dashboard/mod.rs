//! The dashboard: one server-rendered, semantic HTML page per ledger and point in
//! time, with no JavaScript. The same renderer makes `waymark serve`'s `/` and the
//! static pages of `waymark site`; only the links differ (`Links`).
//!
//! Sections: the milestone board (layers × phases, in the Foundation's legend), the
//! dependency graph (projections' SVG), the progress of each layer across Seasons (an
//! inline SVG chart with its table), the Season timeline with each review, the audit
//! log with filters (every hash links to its inclusion proof), the latest signed
//! checkpoint with how to verify it offline, and an as-of selector.

use crate::http::extract::{P, Q};
use crate::http::state::Shared;
use crate::http::{ApiError, HistoryQuery, HTML};
use crate::service::AsOf;
use crate::service::Waymark;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write;
use waymark_projections::{HistoryRow, Status};

const STYLE: &str = include_str!("style.css");
/// The audit log shows this many rows per page, newest first, with a link to the
/// page before (`before=SEQ`); the export holds every event.
pub const AUDIT_PAGE: usize = crate::http::HISTORY_PAGE;
/// Pages kept rendered: the same page asked for again at the same head (the
/// dashboard's front page, above all) is one copy in memory however many clients
/// are reading it (issue 12: 300 unread `GET /` were 300 copies, 4.7 GB).
const KEPT_PAGES: usize = 8;
/// Pages rendered at once (gathering a page reads the status at each Season's end).
const RENDERS: usize = 2;

/// The dashboard pages rendered lately, and the turns to render one.
pub struct Pages {
    kept: std::sync::Mutex<VecDeque<(String, Bytes)>>,
    renders: tokio::sync::Semaphore,
}

impl Default for Pages {
    fn default() -> Self {
        Pages {
            kept: Default::default(),
            renders: tokio::sync::Semaphore::new(RENDERS),
        }
    }
}

impl Pages {
    fn get(&self, key: &str) -> Option<Bytes> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter().find(|(k, _)| k == key).map(|(_, b)| b.clone())
    }

    fn put(&self, key: String, page: Bytes) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(k, _)| *k != key);
        kept.push_front((key, page));
        kept.truncate(KEPT_PAGES);
    }
}

/// Where the page's links point: the live API, or the files `waymark site` writes.
#[derive(Debug, Clone)]
pub enum Links {
    /// `waymark serve`: `base` is `http://host` for copyable commands.
    Server { base: String },
    /// `waymark site`: paths relative to the page.
    Static,
}

impl Links {
    fn api(&self, id: &str, server: &str, file: &str) -> String {
        match self {
            Links::Server { .. } => format!("/api/ledgers/{id}/{server}"),
            Links::Static => format!("api/ledgers/{id}/{file}"),
        }
    }
    pub fn inclusion(&self, id: &str, seq: u64) -> String {
        self.api(
            id,
            &format!("proof/inclusion/{seq}"),
            &format!("proof/inclusion/{seq}.json"),
        )
    }
    pub fn review(&self, id: &str, season: i64, ext: &str) -> String {
        let format = if ext == "md" { "md" } else { ext };
        self.api(
            id,
            &format!("reviews/{season}?format={format}"),
            &format!("reviews/{season}.{ext}"),
        )
    }
    fn events(&self, id: &str) -> String {
        self.api(id, "events", "export.jsonl")
    }
    fn checkpoint(&self, id: &str) -> String {
        self.api(id, "checkpoint", "checkpoint.txt")
    }
    fn snapshot(&self, id: &str) -> String {
        self.api(id, "snapshot", "snapshot.json")
    }
    fn status(&self, id: &str, point: Option<&str>) -> String {
        match (self, point) {
            (Links::Server { .. }, Some(p)) => {
                format!("/api/ledgers/{id}/status?as_of={}", query_value(p))
            }
            (Links::Static, Some(p)) => format!("api/ledgers/{id}/status-{}.json", slug(p)),
            _ => self.api(id, "status", "status.json"),
        }
    }
    fn graph(&self, id: &str, ext: &str) -> String {
        let format = if ext == "mmd" { "mermaid" } else { ext };
        self.api(
            id,
            &format!("graph?format={format}"),
            &format!("graph.{ext}"),
        )
    }
    /// The dashboard page at a point (`None`: the head).
    pub fn page(&self, id: &str, point: Option<&str>) -> String {
        match (self, point) {
            (Links::Server { .. }, None) => format!("/ledgers/{id}"),
            (Links::Server { .. }, Some(p)) => format!("/ledgers/{id}?as_of={}", query_value(p)),
            (Links::Static, None) => "index.html".into(),
            (Links::Static, Some(p)) => format!("{}.html", slug(p)),
        }
    }
    /// The URL a reader copies into `curl`.
    fn absolute(&self, link: &str) -> String {
        match self {
            Links::Server { base } => format!("{base}{link}"),
            Links::Static => link.to_string(),
        }
    }
}

/// A query value with the characters that would change its meaning escaped (a
/// `time:` point's `+02:00` would otherwise read as a space).
fn query_value(v: &str) -> String {
    escape(v, |c| match c {
        '%' => Some("%25"),
        '+' => Some("%2B"),
        '&' => Some("%26"),
        '#' => Some("%23"),
        ' ' => Some("%20"),
        _ => None,
    })
}

/// `s` with each character `f` names replaced by what it gives.
fn escape(s: &str, f: impl Fn(char) -> Option<&'static str>) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match f(c) {
            Some(r) => o.push_str(r),
            None => o.push(c),
        }
    }
    o
}

/// `season:7` → `as-of-season-7` (a file name).
pub fn slug(point: &str) -> String {
    format!(
        "as-of-{}",
        point
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    )
}

/// One Season as the timeline and the chart show it: its state at its end (or now).
#[derive(Debug, Clone)]
pub struct SeasonEnd {
    pub number: i64,
    pub opened_seq: u64,
    pub end_seq: u64,
    pub status: Status,
}

/// Everything one page shows.
pub struct Page {
    pub id: String,
    pub title: String,
    pub log_key: String,
    pub head_seq: u64,
    /// The as-of point asked for (`None`: the head).
    pub point: Option<String>,
    pub status: Status,
    pub seasons: Vec<SeasonEnd>,
    /// One page of the audit log, newest first.
    pub rows: Vec<HistoryRow>,
    /// The `before=` of the next (older) page, when there is one.
    pub older: Option<u64>,
    pub filter: HistoryQuery,
    /// Whether the audit log is filterable (the server) or complete (the site).
    pub filters: bool,
    pub checkpoint: Result<String, String>,
    /// Every Season the ledger has opened (the as-of selector moves back and forward).
    pub all_seasons: Vec<i64>,
    /// Every actor in the audit trail (the audit log's filter).
    pub all_actors: Vec<String>,
}

/// Reads what a page of ledger `id` at `point` shows.
pub async fn gather(
    waymark: &Waymark,
    keys: &crate::files::KeyStore,
    id: &str,
    point: Option<&str>,
    filter: HistoryQuery,
    filters: bool,
) -> Result<Page, ApiError> {
    let state = waymark.state(id).await?;
    let head_seq = state.head.as_ref().map_or(0, |h| h.seq);
    let as_of = point.map(str::parse::<AsOf>).transpose()?;
    let status = waymark.status(id, as_of.as_ref()).await?;
    let at = status.as_of.as_ref().map_or(0, |a| a.seq);
    let opened = waymark_projections::HistoryFilter {
        event_type: Some("SeasonOpened".into()),
        ..Default::default()
    };
    let opened = waymark.history(id, &opened).await?;
    let mut seasons = Vec::new();
    for row in opened.iter().filter(|r| r.seq <= at) {
        let Some(number) = row.season else { continue };
        let point = AsOf::Season(number);
        let end_seq = waymark.resolve(id, &point).await?.min(at);
        let status = waymark.status(id, Some(&AsOf::Seq(end_seq))).await?;
        seasons.push(SeasonEnd {
            number,
            opened_seq: row.seq,
            end_seq,
            status,
        });
    }
    let all_seasons = opened.iter().filter_map(|r| r.season).collect();
    let all_actors = state.actors.keys().cloned().collect();
    let history = filter.filter()?;
    // One page, newest first, of the rows at or before the page's point.
    let before = filter.before.unwrap_or(u64::MAX).min(at + 1);
    let mut rows = waymark
        .history_page(id, &history, Some(before), AUDIT_PAGE + 1)
        .await?;
    let older = (rows.len() > AUDIT_PAGE).then(|| {
        rows.truncate(AUDIT_PAGE);
        rows.last().map_or(0, |r| r.seq)
    });
    let checkpoint = match keys.load(&keys.log_path(id)) {
        Ok(key) => waymark
            .checkpoint(id, None, &key)
            .await
            .map(|(_, note)| note)
            .map_err(|e| e.to_string()),
        Err(e) => Err(format!("no log key for {id:?} in this key store: {e}")),
    };
    Ok(Page {
        id: id.to_string(),
        title: state.title,
        log_key: state.log_key,
        head_seq,
        point: point.map(str::to_owned),
        status,
        seasons,
        rows,
        older,
        filter,
        filters,
        checkpoint,
        all_seasons,
        all_actors,
    })
}

/// The query of `/` and `/ledgers/{id}`: the point, and the audit log's filters.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub ledger: Option<String>,
    pub as_of: Option<String>,
    #[serde(flatten)]
    pub filter: HistoryQuery,
}

fn base_of(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost:8080");
    format!("http://{host}")
}

fn html(page: Bytes) -> Response {
    let mut r = ([(axum::http::header::CONTENT_TYPE, HTML)], page).into_response();
    // The page's bytes hold their share of the answer budget already (`App::hold`).
    r.extensions_mut().insert(crate::http::Held);
    r
}

async fn page_response(
    app: &Shared,
    headers: &HeaderMap,
    id: &str,
    q: PageQuery,
) -> Result<Response, ApiError> {
    app.known(id).await?;
    let point = q.as_of.filter(|p| !p.is_empty());
    let ledgers = app.waymark.db().ledgers().await?;
    let head = app.waymark.state(id).await?.head.map_or(0, |h| h.seq);
    let base = base_of(headers);
    let key = format!(
        "{id}\n{head}\n{base}\n{}\n{}\n{}{:?}",
        ledgers.join(","),
        point.as_deref().unwrap_or(""),
        q.filter.query_string(),
        q.filter.before
    );
    if let Some(page) = app.pages.get(&key) {
        return Ok(html(page));
    }
    let _turn = app.pages.renders.acquire().await.map_err(|e| {
        ApiError::App(crate::error::Error::Storage(
            crate::error::StorageError::internal(e.to_string()),
        ))
    })?;
    // Rendered by another request while this one waited for its turn?
    if let Some(page) = app.pages.get(&key) {
        return Ok(html(page));
    }
    let page = gather(
        &app.waymark,
        &app.keys,
        id,
        point.as_deref(),
        q.filter,
        true,
    )
    .await?;
    let links = Links::Server { base };
    let page = app.hold(Bytes::from(render(&page, &links, &ledgers)))?;
    app.pages.put(key, page.clone());
    Ok(html(page))
}

/// `GET /`: the dashboard of `?ledger=` or of the first ledger in the store.
pub async fn index(
    State(app): State<Shared>,
    headers: HeaderMap,
    Q(q): Q<PageQuery>,
) -> Result<Response, ApiError> {
    let id = match &q.ledger {
        Some(l) => l.clone(),
        None => app
            .waymark
            .db()
            .ledgers()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                ApiError::NotFound(
                    "this store holds no ledger yet: run `waymark init` or `waymark demo`".into(),
                )
            })?,
    };
    page_response(&app, &headers, &id, q).await
}

/// `GET /ledgers/{id}`.
pub async fn ledger_page(
    State(app): State<Shared>,
    headers: HeaderMap,
    P(id): P<String>,
    Q(q): Q<PageQuery>,
) -> Result<Response, ApiError> {
    page_response(&app, &headers, &id, q).await
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    escape(s, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    })
}

fn point_label(point: Option<&str>) -> String {
    match point {
        None => "now (the head)".into(),
        Some(p) => match p.split_once(':') {
            Some(("season", n)) => format!("the end of Season {n}"),
            Some(("seq", n)) => format!("seq {n}"),
            Some(("time", t)) => t.to_string(),
            _ => p.to_string(),
        },
    }
}

/// The whole page.
pub fn render(p: &Page, links: &Links, ledgers: &[String]) -> String {
    let mut o = String::new();
    let id = esc(&p.id);
    let s = &p.status;
    let at = s.as_of.as_ref();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} — Waymark</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <a class=\"visually-hidden\" href=\"#board\">Skip to the milestone board</a>\n\
         <header class=\"site\">\n<p class=\"summary\">Waymark ledger <code>{id}</code></p>\n<h1>{}</h1>\n",
        esc(&p.title),
        esc(&p.title)
    );
    let _ = writeln!(
        o,
        "<p class=\"summary\" id=\"as-of\">Showing <strong>{}</strong>: seq {} of {}, recorded {}, hash <code>{}</code>. \
         Overall phase <strong>{}</strong>.</p>",
        esc(&point_label(p.point.as_deref())),
        at.map_or(0, |a| a.seq),
        p.head_seq,
        esc(at.map(|a| a.recorded_at.as_str()).unwrap_or("")),
        at.map(|a| a.hash.to_hex()).unwrap_or_default(),
        esc(s.overall_phase.as_deref().unwrap_or("—"))
    );
    if let Some(se) = &s.season {
        let _ = writeln!(
            o,
            "<p class=\"summary\">Season {} ({}): {}{}; focus: {}.</p>",
            se.number,
            esc(se.state.as_str()),
            esc(&se.starts_on),
            se.ends_on
                .as_ref()
                .map(|e| format!(" – {}", esc(e)))
                .unwrap_or_default(),
            esc(&se.focus.join(", "))
        );
    }
    as_of_selector(&mut o, p, links, ledgers);
    o.push_str(
        "<nav aria-label=\"Sections\"><p><a href=\"#board\">Board</a> · <a href=\"#graph\">Dependency graph</a> · \
         <a href=\"#progress\">Progress</a> · <a href=\"#seasons\">Seasons</a> · <a href=\"#audit\">Audit log</a> · \
         <a href=\"#verify\">Verify</a></p></nav>\n</header>\n<main>\n",
    );
    board(&mut o, p, links);
    let svg = waymark_projections::to_svg(s);
    let svg = svg
        .find("<svg")
        .map_or(svg.as_str(), |i| &svg[i..])
        .to_string();
    let _ = writeln!(
        o,
        "<section id=\"graph\" aria-labelledby=\"graph-h\">\n<h2 id=\"graph-h\">Dependency graph</h2>\n\
         <p>Arrows go from a dependency to the milestones that need it. Also as \
         <a href=\"{}\">SVG</a>, <a href=\"{}\">DOT</a>, <a href=\"{}\">Mermaid</a>.</p>\n<figure class=\"graph\">{svg}</figure>\n</section>",
        esc(&links.graph(&p.id, "svg")),
        esc(&links.graph(&p.id, "dot")),
        esc(&links.graph(&p.id, "mmd"))
    );
    progress(&mut o, p);
    timeline(&mut o, p, links);
    audit(&mut o, p, links);
    verify(&mut o, p, links);
    let _ = writeln!(
        o,
        "</main>\n<footer><p class=\"note\">Rendered by Waymark from the ledger's events. \
         The <a href=\"{}\">status as JSON</a> is the SPEC section 9 projection this page shows.</p></footer>\n</body>\n</html>",
        esc(&links.status(&p.id, p.point.as_deref()))
    );
    o
}

fn as_of_selector(o: &mut String, p: &Page, links: &Links, ledgers: &[String]) {
    let selected = |v: Option<&str>| {
        if p.point.as_deref() == v {
            " selected"
        } else {
            ""
        }
    };
    match links {
        Links::Server { .. } => {
            let _ = write!(
                o,
                "<form class=\"inline\" method=\"get\" action=\"{}\" aria-label=\"As of\">\n\
                 <label for=\"as_of\">See the ledger as of\n<select id=\"as_of\" name=\"as_of\">\n\
                 <option value=\"\"{}>now (seq {})</option>\n",
                esc(&links.page(&p.id, None)),
                selected(None),
                p.head_seq
            );
            for se in &p.all_seasons {
                let v = format!("season:{se}");
                let _ = writeln!(
                    o,
                    "<option value=\"{v}\"{}>the end of Season {se}</option>",
                    selected(Some(&v))
                );
            }
            if let Some(pt) = p.point.as_deref().filter(|pt| !pt.starts_with("season:")) {
                let _ = writeln!(
                    o,
                    "<option value=\"{}\" selected>{}</option>",
                    esc(pt),
                    esc(pt)
                );
            }
            o.push_str("</select></label>\n<button type=\"submit\">Show</button>\n");
            if ledgers.len() > 1 {
                o.push_str("<span class=\"note\">Other ledgers:");
                for l in ledgers.iter().filter(|l| **l != p.id) {
                    let _ = write!(
                        o,
                        " <a href=\"{}\">{}</a>",
                        esc(&links.page(l, None)),
                        esc(l)
                    );
                }
                o.push_str("</span>\n");
            }
            o.push_str(
                "<span class=\"note\">Any point works in the address too: <code>?as_of=seq:N</code>, \
                 <code>season:N</code>, <code>time:RFC3339</code>.</span>\n</form>\n",
            );
        }
        Links::Static => {
            o.push_str("<nav aria-label=\"As of\"><p>See the ledger as of: ");
            let _ = write!(
                o,
                "<a href=\"index.html\"{}>now</a>",
                current(p.point.is_none())
            );
            for se in &p.all_seasons {
                let v = format!("season:{se}");
                let _ = write!(
                    o,
                    " · <a href=\"{}\"{}>the end of Season {se}</a>",
                    esc(&links.page(&p.id, Some(&v))),
                    current(p.point.as_deref() == Some(v.as_str()))
                );
            }
            o.push_str("</p></nav>\n");
        }
    }
}

fn current(yes: bool) -> &'static str {
    if yes {
        " aria-current=\"page\""
    } else {
        ""
    }
}

fn board(o: &mut String, p: &Page, links: &Links) {
    let s = &p.status;
    let mut phases: Vec<String> = Vec::new();
    for l in &s.layers {
        for pp in &l.progress {
            if !phases.contains(&pp.phase) {
                phases.push(pp.phase.clone());
            }
        }
    }
    // Milestones that other (unretired) milestones depend on.
    let depended: BTreeSet<&str> = s
        .milestones
        .iter()
        .filter(|m| !m.retired)
        .flat_map(|m| m.depends_on.iter().map(String::as_str))
        .collect();
    let _ = writeln!(
        o,
        "<section id=\"board\" aria-labelledby=\"board-h\">\n<h2 id=\"board-h\">Milestone board</h2>\n\
         <ul class=\"legend\" aria-label=\"Legend\">\n\
         <li><span class=\"swatch achieved\" aria-hidden=\"true\"></span>achieved</li>\n\
         <li><span class=\"swatch focus\" aria-hidden=\"true\"></span>focus of the open Season</li>\n\
         <li><strong>bold</strong>: in progress, and other milestones depend on it</li>\n\
         <li><span class=\"swatch retired\" aria-hidden=\"true\"></span>retired</li>\n\
         <li><span class=\"swatch\" aria-hidden=\"true\"></span>not started or in progress</li>\n</ul>\n\
         <table class=\"board\">\n<caption class=\"visually-hidden\">Milestones by layer and phase; a layer's current phase is outlined</caption>\n\
         <thead><tr><th scope=\"col\">Layer</th>"
    );
    for ph in &phases {
        let _ = write!(o, "<th scope=\"col\">Phase {}</th>", esc(ph));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for l in &s.layers {
        let _ = write!(
            o,
            "<tr data-layer=\"{}\"><th scope=\"row\">{}<br><span class=\"cell-count\">in phase {}</span></th>",
            esc(&l.id),
            esc(&l.title),
            esc(&l.phase)
        );
        for ph in &phases {
            let cur = *ph == l.phase;
            let count = l
                .progress
                .iter()
                .find(|pp| pp.phase == *ph)
                .map(|pp| format!("{}/{} achieved", pp.achieved, pp.total))
                .unwrap_or_default();
            let _ = write!(
                o,
                "<td{}><span class=\"cell-count\">{count}{}</span><ul class=\"milestones\">",
                if cur { " class=\"current\"" } else { "" },
                if cur { " · current phase" } else { "" }
            );
            for m in s
                .milestones
                .iter()
                .filter(|m| m.layer == l.id && m.phase == *ph)
            {
                let mut class = vec!["ms", m.status.as_str()];
                let mut flags = Vec::new();
                if m.retired {
                    class.push("retired");
                    flags.push("retired".to_string());
                } else if m.status != "achieved" && m.focus {
                    class.push("focus");
                }
                if m.focus {
                    flags.push("Season focus".into());
                }
                let key =
                    !m.retired && m.status == "in_progress" && depended.contains(m.id.as_str());
                if key {
                    class.push("key");
                    flags.push("others depend on it".into());
                }
                if m.regressed {
                    flags.push("regressed".into());
                }
                if !m.blocked_by.is_empty() {
                    flags.push(format!("blocked by {}", m.blocked_by.join(", ")));
                }
                let history = match links {
                    Links::Server { .. } => format!(
                        "{}&milestone={}#audit",
                        links.page(&p.id, Some(p.point.as_deref().unwrap_or(""))),
                        esc(&m.id)
                    ),
                    Links::Static => "#audit".into(),
                };
                let _ = write!(
                    o,
                    "<li class=\"{}\" data-milestone=\"{}\" data-status=\"{}\" data-retired=\"{}\">\
                     <a class=\"id\" href=\"{}\">{}</a>{}<span class=\"status\">{}{}</span></li>",
                    class.join(" "),
                    esc(&m.id),
                    esc(&m.status),
                    m.retired,
                    esc(&history),
                    esc(&m.id),
                    esc(&m.title),
                    esc(&m.status.replace('_', " ")),
                    if flags.is_empty() {
                        String::new()
                    } else {
                        format!(" · {}", esc(&flags.join(" · ")))
                    }
                );
            }
            o.push_str("</ul></td>");
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n</section>\n");
}

/// Achieved milestones per layer at each Season's end (and at the page's point).
fn progress(o: &mut String, p: &Page) {
    let mut points: Vec<(String, &Status)> = p
        .seasons
        .iter()
        .map(|se| (format!("S{}", se.number), &se.status))
        .collect();
    let at = p.status.as_of.as_ref().map_or(0, |a| a.seq);
    if p.seasons.last().is_none_or(|se| se.end_seq != at) {
        points.push((format!("seq {at}"), &p.status));
    }
    let layers: Vec<(String, String)> = p
        .status
        .layers
        .iter()
        .map(|l| (l.id.clone(), l.title.clone()))
        .collect();
    let count = |s: &Status, layer: &str| -> (u64, u64) {
        s.layers
            .iter()
            .find(|l| l.id == layer)
            .map(|l| {
                l.progress
                    .iter()
                    .fold((0, 0), |(a, t), pp| (a + pp.achieved, t + pp.total))
            })
            .unwrap_or((0, 0))
    };
    let max = points
        .iter()
        .flat_map(|(_, s)| layers.iter().map(|(id, _)| count(s, id).1))
        .max()
        .unwrap_or(1)
        .max(1);
    const COLORS: [&str; 6] = [
        "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457",
    ];
    let (w, h, left, bottom, top) = (720i64, 260i64, 40i64, 40i64, 20i64);
    let plot_h = h - bottom - top;
    let group_w = (w - left - 10) / (points.len().max(1) as i64);
    let bar_w = ((group_w - 16) / (layers.len().max(1) as i64)).clamp(4, 40);
    let _ = writeln!(
        o,
        "<section id=\"progress\" aria-labelledby=\"progress-h\">\n<h2 id=\"progress-h\">Progress per layer across Seasons</h2>\n\
         <p>Milestones achieved in each layer at the end of each Season (out of the layer's unretired milestones).</p>\n\
         <figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"chart-t\">\n\
         <title id=\"chart-t\">Achieved milestones per layer at each Season's end</title>"
    );
    for tick in 0..=max {
        if max > 10 && tick % (max / 5).max(1) != 0 {
            continue;
        }
        let y = top + plot_h - plot_h * tick as i64 / max as i64;
        let _ = writeln!(
            o,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#e0e0e0\"/><text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{tick}</text>",
            w - 5,
            left - 6,
            y + 4
        );
    }
    for (gi, (label, s)) in points.iter().enumerate() {
        let gx = left + 8 + gi as i64 * group_w;
        for (li, (lid, title)) in layers.iter().enumerate() {
            let (a, t) = count(s, lid);
            let bh = plot_h * a as i64 / max as i64;
            let x = gx + li as i64 * bar_w;
            let _ = writeln!(
                o,
                "<rect x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{bh}\" fill=\"{}\"><title>{}: {a} of {t} achieved at {}</title></rect>",
                top + plot_h - bh,
                bar_w - 2,
                COLORS[li % COLORS.len()],
                esc(title),
                esc(label)
            );
        }
        let _ = writeln!(
            o,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
            gx + (bar_w * layers.len() as i64) / 2,
            h - bottom + 16,
            esc(label)
        );
    }
    for (li, (_, title)) in layers.iter().enumerate() {
        let x = left + li as i64 * 150;
        let _ = writeln!(
            o,
            "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
            h - 16,
            COLORS[li % COLORS.len()],
            x + 16,
            h - 6,
            esc(title)
        );
    }
    o.push_str("</svg></figure>\n<details><summary>The same as a table</summary>\n<table>\n<thead><tr><th scope=\"col\">Point</th>");
    for (_, title) in &layers {
        let _ = write!(o, "<th scope=\"col\">{}</th>", esc(title));
    }
    o.push_str("</tr></thead><tbody>\n");
    for (label, s) in &points {
        let _ = write!(o, "<tr><th scope=\"row\">{}</th>", esc(label));
        for (lid, _) in &layers {
            let (a, t) = count(s, lid);
            let _ = write!(o, "<td>{a} / {t}</td>");
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody></table></details>\n</section>\n");
}

fn timeline(o: &mut String, p: &Page, links: &Links) {
    o.push_str("<section id=\"seasons\" aria-labelledby=\"seasons-h\">\n<h2 id=\"seasons-h\">Season timeline</h2>\n");
    if p.seasons.is_empty() {
        o.push_str("<p>No Season opened yet at this point.</p>\n</section>\n");
        return;
    }
    o.push_str("<ol class=\"timeline\">\n");
    for se in &p.seasons {
        let Some(ss) = se
            .status
            .season
            .as_ref()
            .filter(|ss| ss.number == se.number)
        else {
            continue;
        };
        let _ = writeln!(
            o,
            "<li class=\"{}\"><strong>Season {}</strong> ({}) {}{} · seq {}–{} · focus: {}<br>\
             Review: <a href=\"{}\">HTML</a> · <a href=\"{}\">Markdown</a> · <a href=\"{}\">JSON</a> · \
             <a href=\"{}\">the board at its end</a></li>",
            esc(ss.state.as_str()),
            se.number,
            esc(ss.state.as_str()),
            esc(&ss.starts_on),
            ss.ends_on
                .as_ref()
                .map(|e| format!(" – {}", esc(e)))
                .unwrap_or_default(),
            se.opened_seq,
            se.end_seq,
            esc(&ss.focus.join(", ")),
            esc(&links.review(&p.id, se.number, "html")),
            esc(&links.review(&p.id, se.number, "md")),
            esc(&links.review(&p.id, se.number, "json")),
            esc(&links.page(&p.id, Some(&format!("season:{}", se.number))))
        );
    }
    o.push_str("</ol>\n</section>\n");
}

fn options(o: &mut String, name: &str, label: &str, values: &[String], chosen: Option<&str>) {
    let _ = write!(
        o,
        "<label for=\"f-{name}\">{label}<select id=\"f-{name}\" name=\"{name}\"><option value=\"\">any</option>"
    );
    for v in values {
        let sel = if chosen == Some(v.as_str()) {
            " selected"
        } else {
            ""
        };
        let _ = write!(o, "<option{sel}>{}</option>", esc(v));
    }
    o.push_str("</select></label>\n");
}

/// A reason: short ones whole, long ones as their opening with the rest behind a
/// disclosure.
fn reason_cell(reason: &str) -> String {
    const SHOWN: usize = 140;
    if reason.chars().count() <= SHOWN + 20 {
        return esc(reason);
    }
    let head: String = reason.chars().take(SHOWN).collect();
    format!(
        "<details><summary>{}…</summary>{}</details>",
        esc(&head),
        esc(reason)
    )
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

fn audit(o: &mut String, p: &Page, links: &Links) {
    o.push_str(
        "<section id=\"audit\" aria-labelledby=\"audit-h\">\n<h2 id=\"audit-h\">Audit log</h2>\n",
    );
    if p.filters {
        let _ = writeln!(
            o,
            "<form class=\"inline\" method=\"get\" action=\"{}#audit\" aria-label=\"Filter the audit log\">",
            esc(&links.page(&p.id, None))
        );
        if let Some(pt) = &p.point {
            let _ = writeln!(
                o,
                "<input type=\"hidden\" name=\"as_of\" value=\"{}\">",
                esc(pt)
            );
        }
        let ids: Vec<String> = p.status.milestones.iter().map(|m| m.id.clone()).collect();
        options(
            o,
            "milestone",
            "Milestone",
            &ids,
            p.filter.milestone.as_deref(),
        );
        options(
            o,
            "actor",
            "Actor",
            &p.all_actors,
            p.filter.actor.as_deref(),
        );
        let seasons: Vec<String> = p.seasons.iter().map(|s| s.number.to_string()).collect();
        let chosen = p.filter.season.map(|s| s.to_string());
        options(o, "season", "Season", &seasons, chosen.as_deref());
        let types: Vec<String> = waymark_events::EventType::ALL
            .iter()
            .map(|t| t.as_str().to_string())
            .collect();
        options(o, "type", "Type", &types, p.filter.event_type.as_deref());
        o.push_str("<button type=\"submit\">Filter</button>\n</form>\n");
    }
    let _ = writeln!(
        o,
        "<p class=\"note\">Newest first, {AUDIT_PAGE} events a page{}. Each hash links to the event's inclusion proof in the tree of the whole ledger; \
         the <a href=\"{}\">export</a> holds every event.</p>",
        match (p.rows.first(), p.rows.last()) {
            (Some(a), Some(b)) => format!(": seq {} down to {}", a.seq, b.seq),
            _ => ": no event matches".into(),
        },
        esc(&links.events(&p.id))
    );
    o.push_str(
        "<table class=\"audit\">\n<thead><tr><th scope=\"col\">seq</th><th scope=\"col\">recorded</th><th scope=\"col\">actor</th>\
         <th scope=\"col\">type</th><th scope=\"col\">change</th><th scope=\"col\">reason</th><th scope=\"col\">evidence</th><th scope=\"col\">hash</th></tr></thead>\n<tbody>\n",
    );
    for r in &p.rows {
        let evidence: Vec<String> = r
            .evidence
            .iter()
            .map(|e| {
                format!(
                    "<a href=\"{}\" rel=\"nofollow noopener\">{}</a>",
                    esc(e),
                    esc(&link_text(e))
                )
            })
            .collect();
        let hash = r.hash.to_hex();
        let _ = writeln!(
            o,
            "<tr data-seq=\"{}\"><td>{}</td><td>{}</td><td>{} <span class=\"note\">({})</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"hash\"><a href=\"{}\" title=\"inclusion proof of seq {}\">{}…</a></td></tr>",
            r.seq,
            r.seq,
            esc(&r.recorded_at),
            esc(&r.actor),
            esc(&r.actor_roles.join(", ")),
            esc(&r.event_type),
            esc(&r.change),
            reason_cell(r.reason.as_deref().unwrap_or("")),
            evidence.join("<br>"),
            esc(&links.inclusion(&p.id, r.seq)),
            r.seq,
            &hash[..16]
        );
    }
    o.push_str("</tbody>\n</table>\n");
    if let (Links::Server { .. }, true) = (links, p.filter.before.is_some() || p.older.is_some()) {
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
        o.push_str("<nav aria-label=\"Audit log pages\"><p>");
        if p.filter.before.is_some() {
            let _ = write!(o, "<a href=\"{}\">Newest events</a>", esc(&page(None)));
        }
        if let Some(b) = p.older {
            let _ = write!(
                o,
                "{}<a href=\"{}\" rel=\"next\">Older events (before seq {b})</a>",
                if p.filter.before.is_some() {
                    " · "
                } else {
                    ""
                },
                esc(&page(Some(b)))
            );
        }
        o.push_str("</p></nav>\n");
    }
    o.push_str("</section>\n");
}

fn verify(o: &mut String, p: &Page, links: &Links) {
    let events = links.absolute(&links.events(&p.id));
    let snapshot = links.absolute(&links.snapshot(&p.id));
    let checkpoint = links.absolute(&links.checkpoint(&p.id));
    let _ = writeln!(
        o,
        "<section id=\"verify\" aria-labelledby=\"verify-h\">\n<h2 id=\"verify-h\">Latest signed checkpoint, and how to verify it offline</h2>"
    );
    match &p.checkpoint {
        Ok(note) => {
            let _ = writeln!(
                o,
                "<p>The ledger's log key signs this C2SP checkpoint (origin, tree size, Merkle root) of all {} events \
                 (<a href=\"{}\">download</a>):</p>\n<pre id=\"checkpoint\">{}</pre>",
                p.head_seq,
                esc(&links.checkpoint(&p.id)),
                esc(note)
            );
        }
        Err(why) => {
            let _ = writeln!(o, "<p>No checkpoint: {}</p>", esc(why));
        }
    }
    let _ = writeln!(
        o,
        "<p>The log key, as <code>LedgerOpened</code> (seq 1) records it:</p>\n<pre id=\"log-key\">{}</pre>\n\
         <ol>\n\
         <li><strong>Pin the log key</strong> from a source other than this page (a governance post, an earlier download) and compare it with the one above.</li>\n\
         <li><strong>Download</strong> the <a href=\"{}\">export</a> (every event, SPEC section 7), the <a href=\"{}\">snapshot bundle</a> \
         (the checkpoint plus the status it implies) and, if you like, the <a href=\"{}\">checkpoint</a> alone:\n\
         <pre>curl -o export.jsonl '{}'\ncurl -o snapshot.json '{}'\ncurl -o checkpoint.txt '{}'</pre></li>\n\
         <li><strong>Verify with Waymark, without its database</strong>: the signature of the checkpoint, every hash, link, signature and rule \
         of the log, the root, and the status:\n<pre>waymark verify-offline --log export.jsonl --snapshot snapshot.json \\\n  --key '{}'</pre>\
         It prints <code>verify: OK</code> and exits 0, or names the first bad seq and exits 3.</li>\n\
         <li><strong>Check one event</strong>: each hash in the audit log links to its inclusion proof. Save one as <code>proof.json</code> and add \
         <code>--inclusion proof.json</code> to the command above.</li>\n\
         <li><strong>Without Waymark</strong>: open <code>checkpoint.txt</code> with any C2SP signed-note implementation (Go's \
         <code>golang.org/x/mod/sumdb/note</code>) and the pinned key, recompute the RFC 9162 root over the export's leaf hashes \
         (each line's <code>hash</code> is SHA-256 of 0x00 and the line's event without <code>hash</code>, in RFC 8785 form), \
         and compare it with the checkpoint's; the project's README, \"Verify without Waymark\", gives the code.</li>\n\
         <li><strong>Later</strong>: keep this checkpoint. A newer one must extend it: \
         <code>waymark verify-offline --log export.jsonl --snapshot snapshot.json --prev-snapshot old-snapshot.json</code> \
         proves the new log kept every event the old one had.</li>\n</ol>\n</section>",
        esc(&p.log_key),
        esc(&links.events(&p.id)),
        esc(&links.snapshot(&p.id)),
        esc(&links.checkpoint(&p.id)),
        esc(&events),
        esc(&snapshot),
        esc(&checkpoint),
        esc(&p.log_key)
    );
}
