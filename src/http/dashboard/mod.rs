//! The dashboard: one server-rendered, semantic HTML page per ledger and point in
//! time, with no JavaScript. The same renderer makes `waymark serve`'s `/` and the
//! static pages of `waymark site`; only the links differ (`Links`).
//!
//! Sections: the milestone board (layers × phases, in the Foundation's legend), the
//! dependency graph (projections' SVG), the progress of each layer across Seasons (an
//! inline SVG chart with its table), the Season timeline with each review, the audit
//! log with filters (every hash links to its inclusion proof), the latest signed
//! checkpoint with how to verify it offline, and an as-of selector. A second page per
//! ledger, "Who decides" (`decisions/`), shows SPEC section 13's decision map.
//!
//! ```text
//! mod.rs       the handlers of `/`, `/ledgers/{id}` and `/ledgers/{id}/decisions`, and
//!              the cache of rendered pages
//! gather.rs    what a page shows, read from the service (`Page`)
//! links.rs     where links point: the server's API or the site's files (`Links`)
//! layout.rs    the page: head, header and as-of selector, graph, footer (`render`)
//! board.rs     the milestone board
//! progress.rs  the progress chart and its table
//! timeline.rs  the Season timeline
//! audit.rs     the audit log, its filters and pages
//! verify.rs    the signed checkpoint and how to verify it offline
//! decisions/   the "Who decides" page (its own gather and sections)
//! ```
//!
//! The pages are maud templates with the one escaper of `waymark_projections::html`
//! (layout.rs says how text reaches a page).

mod audit;
mod board;
mod decisions;
mod gather;
mod layout;
mod links;
mod progress;
mod timeline;
mod verify;

pub(crate) use decisions::{gather_decisions, render_decisions};
pub(crate) use gather::{gather, Page};
pub(crate) use layout::render;
pub(crate) use links::{slug, Links};

use crate::http::extract::{P, Q};
use crate::http::state::Shared;
use crate::http::{ApiError, HistoryQuery, HTML};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::VecDeque;

/// The audit log shows this many rows per page, newest first, with a link to the
/// page before (`before=SEQ`); the export holds every event.
pub(crate) const AUDIT_PAGE: usize = crate::http::HISTORY_PAGE;
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

/// The query of `/` and `/ledgers/{id}`: the point, and the audit log's filters as
/// the filter form sends them (every field, empty for "any"). The numbers are read as
/// text: serde's `flatten` hands a `HistoryQuery` its values as strings, which its
/// `season: Option<i64>` refused, so every submit of the form was a 400.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub ledger: Option<String>,
    pub as_of: Option<String>,
    milestone: Option<String>,
    actor: Option<String>,
    season: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    before: Option<String>,
}

impl PageQuery {
    /// The audit log's filters; a number that is not one is refused (400).
    fn filter(&self) -> Result<HistoryQuery, ApiError> {
        fn number<T: std::str::FromStr>(
            name: &str,
            what: &str,
            v: &Option<String>,
        ) -> Result<Option<T>, ApiError> {
            match v.as_deref() {
                None | Some("") => Ok(None),
                Some(t) => t
                    .parse()
                    .map(Some)
                    .map_err(|_| ApiError::BadRequest(format!("{name}: {t:?} is not {what}"))),
            }
        }
        Ok(HistoryQuery {
            milestone: self.milestone.clone(),
            actor: self.actor.clone(),
            season: number("season", "a Season number", &self.season)?,
            event_type: self.event_type.clone(),
            before: number("before", "a seq", &self.before)?,
        })
    }
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

/// Takes a turn to render a page (at most `RENDERS` at once).
async fn render_turn(app: &Shared) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
    app.pages.renders.acquire().await.map_err(|e| {
        ApiError::App(crate::error::Error::Storage(
            crate::error::StorageError::internal(e.to_string()),
        ))
    })
}

async fn page_response(
    app: &Shared,
    headers: &HeaderMap,
    id: &str,
    q: PageQuery,
) -> Result<Response, ApiError> {
    app.known(id).await?;
    let filter = q.filter()?;
    let point = q.as_of.filter(|p| !p.is_empty());
    let ledgers = app.waymark.db().ledgers().await?;
    let head = app.waymark.state(id).await?.head.map_or(0, |h| h.seq);
    let base = base_of(headers);
    let key = format!(
        "{id}\n{head}\n{base}\n{}\n{}\n{}{:?}",
        ledgers.join(","),
        point.as_deref().unwrap_or(""),
        filter.query_string(),
        filter.before
    );
    if let Some(page) = app.pages.get(&key) {
        return Ok(html(page));
    }
    let _turn = render_turn(app).await?;
    // Rendered by another request while this one waited for its turn?
    if let Some(page) = app.pages.get(&key) {
        return Ok(html(page));
    }
    let page = gather(&app.waymark, &app.keys, id, point.as_deref(), filter, true).await?;
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

/// The query of `/ledgers/{id}/decisions`: the point (empty: the head).
#[derive(Debug, Default, Deserialize)]
pub struct DecisionsQuery {
    pub as_of: Option<String>,
}

/// `GET /ledgers/{id}/decisions`: the "Who decides" page.
pub async fn decisions_page(
    State(app): State<Shared>,
    headers: HeaderMap,
    P(id): P<String>,
    Q(q): Q<DecisionsQuery>,
) -> Result<Response, ApiError> {
    app.known(&id).await?;
    let point = q.as_of.filter(|p| !p.is_empty());
    let ledgers = app.waymark.db().ledgers().await?;
    let head = app.waymark.state(&id).await?.head.map_or(0, |h| h.seq);
    let base = base_of(&headers);
    let key = format!(
        "decisions\n{id}\n{head}\n{base}\n{}\n{}",
        ledgers.join(","),
        point.as_deref().unwrap_or(""),
    );
    if let Some(page) = app.pages.get(&key) {
        return Ok(html(page));
    }
    let _turn = render_turn(&app).await?;
    if let Some(page) = app.pages.get(&key) {
        return Ok(html(page));
    }
    let page = gather_decisions(&app.waymark, &id, point.as_deref()).await?;
    let links = Links::Server { base };
    let page = app.hold(Bytes::from(render_decisions(&page, &links, &ledgers)))?;
    app.pages.put(key, page.clone());
    Ok(html(page))
}
