//! `waymark serve`: the JSON API, the signed-statement endpoint and the dashboard over
//! one store (SQLite or PostgreSQL), with axum on tokio.
//!
//! ```text
//! GET  /healthz                                       "ok" when the store answers
//! GET  /openapi.json                                  this API, generated from the code
//! GET  /                                              the dashboard (HTML; ?ledger= &as_of= …)
//! GET  /ledgers/{id}                                  the dashboard of one ledger
//! GET  /api/ledgers                                   the ledgers in the store, with their head
//! GET  /api/ledgers/{id}/status?as_of=                the status projection (SPEC 9)
//! GET  /api/ledgers/{id}/state                       the rule state at the head (actors,
//!                                                     keys, milestones, phases, season)
//! GET  /api/ledgers/{id}/history?milestone=&actor=&season=&type=
//! GET  /api/ledgers/{id}/events?from=&limit=          export lines (SPEC 7), application/jsonl
//! GET  /api/ledgers/{id}/checkpoint?size=             the signed note (SPEC 6), text/plain
//! GET  /api/ledgers/{id}/snapshot?size=               the snapshot bundle (SPEC 8)
//! GET  /api/ledgers/{id}/proof/inclusion/{seq}?size=  RFC 9162 inclusion proof
//! GET  /api/ledgers/{id}/proof/consistency?old=&new=  RFC 9162 consistency proof
//! GET  /api/ledgers/{id}/reviews/{season}?format=md|json|html
//! GET  /api/ledgers/{id}/graph?format=svg|dot|mermaid&as_of=
//! POST /api/ledgers/{id}/statements                   a signed statement (SPEC 3), or an array
//! ```
//!
//! Every error is an RFC 9457 `application/problem+json` object; a statement that a
//! rule refuses names the rule id (`rule`) and the offending field (`field`). The
//! server never holds an actor's secret key: clients sign (`waymark --server URL …`).
//! It holds the ledger's log key to sign checkpoints, read from the key store.
//! Several servers may share one PostgreSQL ledger: `Waymark::record` re-chains a
//! statement that lost the race for a `seq`, and then queues on the ledger's writer lock.

use crate::aggregate::Signed;
use crate::app::{AsOf, Recorded, Waymark};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::keys::KeyStore;
use crate::store::system_clock;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use postgres_es::PostgresEventRepository;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlite_es::SqliteEventRepository;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use utoipa::{IntoParams, OpenApi, ToSchema};
use waymark_core::{Rejection, Rule};
use waymark_events::{parse_strict, Statement};
use waymark_projections::HistoryFilter;

/// The largest request body: room for a batch of statements, each of them at most
/// SPEC rule 8's 64 KiB.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// How long one request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Rows per page of the history API and of the dashboard's audit log (newest first,
/// `before=SEQ` for the next page): no answer grows with the ledger. A row is at most
/// one 64 KiB statement's text, so a page stays under ~3.5 MB whatever is recorded.
pub const HISTORY_PAGE: usize = 50;
/// Events per chunk of the streamed export (`/events`): what one slow reader holds.
pub const EXPORT_CHUNK: u64 = 256;
/// Answers at most this large are not counted against `Limits::body_budget` (the
/// kernel's socket buffer takes them whole).
pub const SMALL_ANSWER: usize = 64 * 1024;

mod listen;

/// What the server allows its clients. The defaults are for a public log; tests
/// shorten the timeouts.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections at most (each holds a file descriptor). At the cap, a new
    /// connection makes the server close the one that has made no progress the
    /// longest (idle, half-way through its headers, or not reading its answer); only
    /// when every connection is in service is the new one answered 503.
    pub max_connections: usize,
    /// From a request's first byte to the end of its headers.
    pub header_read_timeout: Duration,
    /// A kept-alive connection with no request.
    pub idle_timeout: Duration,
    /// A client that reads none of its answer for this long is disconnected.
    pub write_timeout: Duration,
    /// From the end of a request's headers to its answer (408 past it).
    pub request_timeout: Duration,
    /// Shutdown lets requests in service finish for this long, then closes them.
    pub shutdown_grace: Duration,
    /// Bytes of answers larger than `SMALL_ANSWER` held in memory at once (for
    /// clients still reading them); past it, 503 instead of another such answer.
    pub body_budget: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            request_timeout: REQUEST_TIMEOUT,
            shutdown_grace: Duration::from_secs(10),
            body_budget: 64 * 1024 * 1024,
        }
    }
}

/// A `Waymark` over either backend.
pub enum Backend {
    Sqlite(Waymark<SqliteEventRepository>),
    Postgres(Waymark<PostgresEventRepository>),
}

/// Runs `$body` with `$w` bound to the backend's `Waymark`, whichever it is.
macro_rules! with_waymark {
    ($backend:expr, $w:ident => $body:expr) => {
        match $backend {
            $crate::server::Backend::Sqlite($w) => $body,
            $crate::server::Backend::Postgres($w) => $body,
        }
    };
}
pub(crate) use with_waymark;

impl Backend {
    /// Opens the store at `db` with the backend its URL selects.
    pub fn new(db: Db) -> Result<Backend> {
        Ok(match &db {
            Db::Sqlite(_) => Backend::Sqlite(Waymark::new(db, system_clock())?),
            Db::Postgres(_) => Backend::Postgres(Waymark::new(db, system_clock())?),
        })
    }

    pub fn db(&self) -> &Db {
        with_waymark!(self, w => &w.db)
    }
}

/// What the server shares between requests.
pub struct App {
    pub backend: Backend,
    /// Where the ledgers' log keys are (`_log.<ledger>.key`), to sign checkpoints.
    pub keys: KeyStore,
    /// One write at a time per process. Writes to a ledger take turns anyway (each
    /// `seq` is won by one writer; losers queue on the writer lock and re-chain), so
    /// within one process they queue here instead of losing races to each other.
    /// Other processes (servers, CLIs) still write concurrently, through the
    /// optimistic-lock check and the writer lock.
    writes: tokio::sync::Mutex<()>,
    pub limits: Limits,
    /// Bytes of large answers held (see `Limits::body_budget`).
    budget: Arc<tokio::sync::Semaphore>,
    /// The blocking workers that parse posted bodies and check their signatures
    /// before they queue for `writes` (one per core): junk costs CPU there, but
    /// never time inside the one-writer section.
    checks: tokio::sync::Semaphore,
    /// Dashboard pages rendered lately (see `dashboard::Pages`).
    pub(crate) pages: crate::dashboard::Pages,
}

impl App {
    pub fn new(backend: Backend, keys: PathBuf) -> App {
        App::with_limits(backend, keys, Limits::default())
    }

    pub fn with_limits(backend: Backend, keys: PathBuf, limits: Limits) -> App {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        App {
            backend,
            keys: KeyStore::new(keys),
            writes: tokio::sync::Mutex::new(()),
            budget: Arc::new(tokio::sync::Semaphore::new(limits.body_budget)),
            limits,
            checks: tokio::sync::Semaphore::new(cores),
            pages: Default::default(),
        }
    }

    /// `bytes` as a body that holds its share of the answer budget until the last
    /// copy of it is dropped (sent, or its connection closed); 503 past the budget.
    pub(crate) fn hold(&self, bytes: Bytes) -> Result<Bytes, ApiError> {
        if bytes.len() <= SMALL_ANSWER {
            return Ok(bytes);
        }
        let permit = u32::try_from(bytes.len())
            .ok()
            .and_then(|n| self.budget.clone().try_acquire_many_owned(n).ok())
            .ok_or_else(|| {
                ApiError::Busy(format!(
                    "the server holds {} bytes of answers that clients have not read yet (its limit); retry shortly",
                    self.limits.body_budget
                ))
            })?;
        struct Held(Bytes, #[allow(dead_code)] tokio::sync::OwnedSemaphorePermit);
        impl AsRef<[u8]> for Held {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        Ok(Bytes::from_owner(Held(bytes, permit)))
    }

    /// 404 unless the store holds ledger `id`.
    pub(crate) async fn known(&self, id: &str) -> Result<(), ApiError> {
        if self.backend.db().ledgers().await?.iter().any(|l| l == id) {
            Ok(())
        } else {
            Err(ApiError::NotFound(format!(
                "no ledger {id:?} in this store"
            )))
        }
    }

    /// The status projection of a known ledger at an as-of point (`None`: the head).
    pub(crate) async fn status(
        &self,
        id: &str,
        as_of: Option<&str>,
    ) -> Result<waymark_projections::Status, ApiError> {
        self.known(id).await?;
        let as_of = as_of.map(str::parse::<AsOf>).transpose()?;
        Ok(with_waymark!(&self.backend, w => w.status(id, as_of.as_ref()).await)?)
    }

    /// The log key of `ledger`, from the key store.
    pub(crate) fn log_key(&self, ledger: &str) -> Result<ed25519_dalek::SigningKey, ApiError> {
        self.keys.load(&self.keys.log_path(ledger)).map_err(|e| {
            ApiError::NoLogKey(format!(
                "this server cannot sign checkpoints of {ledger:?}: {e}"
            ))
        })
    }
}

pub type Shared = Arc<App>;

/// Serves the API and dashboard on `listener` until `shutdown` completes, then
/// finishes the requests in flight (graceful shutdown).
pub async fn run(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Storage(crate::error::StorageError(format!("listener: {e}"))))?;
    tracing::info!(%addr, "waymark serving");
    let app = Arc::new(app);
    listen::serve(listener, router(app.clone()), app.limits.clone(), shutdown).await;
    // The read models of the last writes, before the process goes.
    with_waymark!(&app.backend, w => w.settle().await);
    Ok(())
}

/// 408 (a problem) for a request not answered within `Limits::request_timeout`:
/// a body that never finishes, or a store that does not answer.
async fn deadline(
    State(app): State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let limit = app.limits.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::Timeout(format!(
            "the request was not complete (or not answered) within {} s",
            limit.as_secs_f64()
        ))
        .into_response(),
    }
}

/// Marks an answer whose body already holds its share of the budget.
#[derive(Clone, Copy)]
pub(crate) struct Held;

/// Counts every large in-memory answer against the budget (`App::hold`).
async fn budget(
    State(app): State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let r = next.run(req).await;
    let size = axum::body::HttpBody::size_hint(r.body()).exact();
    if r.extensions().get::<Held>().is_some() || size.is_none_or(|n| n <= SMALL_ANSWER as u64) {
        return r;
    }
    let (parts, body) = r.into_parts();
    // An exact size: the body is in memory already, so this does not wait.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::App(Error::Storage(crate::error::StorageError(e.to_string())))
                .into_response()
        }
    };
    match app.hold(bytes) {
        Ok(b) => Response::from_parts(parts, axum::body::Body::from(b)),
        Err(e) => e.into_response(),
    }
}

/// Every route, with the body limit, the timeout and request tracing.
pub fn router(app: Shared) -> Router {
    let api = Router::new()
        .route("/api/ledgers", get(ledgers))
        .route("/api/ledgers/{id}/status", get(status))
        .route("/api/ledgers/{id}/state", get(state))
        .route("/api/ledgers/{id}/history", get(history))
        .route("/api/ledgers/{id}/events", get(events))
        .route("/api/ledgers/{id}/checkpoint", get(checkpoint))
        .route("/api/ledgers/{id}/snapshot", get(snapshot))
        .route("/api/ledgers/{id}/proof/inclusion/{seq}", get(inclusion))
        .route("/api/ledgers/{id}/proof/consistency", get(consistency))
        .route("/api/ledgers/{id}/reviews/{season}", get(review))
        .route("/api/ledgers/{id}/graph", get(graph))
        .route("/api/ledgers/{id}/statements", post(statements));
    api.route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi))
        .route("/", get(crate::dashboard::index))
        .route("/ledgers/{id}", get(crate::dashboard::ledger_page))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(app.clone(), budget))
        .layer(axum::middleware::from_fn_with_state(app.clone(), deadline))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(app)
}

// ---------------------------------------------------------------------------------
// Errors: RFC 9457 problem details.

/// An RFC 9457 problem: `type`, `title`, `status`, `detail`, and for a statement
/// refused by a rule, the rule id and the offending field (and, in a batch, the
/// 1-based `index` of the statement).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
}

/// Why a request failed; each kind is mapped to its problem once, in `problem`.
#[derive(Debug)]
pub enum ApiError {
    /// What the ledger said (rule rejections, bad input, storage…): `Error::http_status`.
    App(Error),
    /// The request body is not a signed statement (or an array of them).
    Malformed {
        field: String,
        detail: String,
    },
    /// A query or path parameter that cannot be read.
    BadRequest(String),
    /// The request body exceeds `MAX_BODY_BYTES`.
    TooLarge(String),
    NotFound(String),
    /// The key store has no log key for the ledger, so no checkpoint can be signed.
    NoLogKey(String),
    /// The request was not complete or not answered in time (408).
    Timeout(String),
    /// A POST body that is not `application/json` (415).
    MediaType(String),
    /// The server holds as many unread answers as it allows (503).
    Busy(String),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::App(e)
    }
}

impl From<crate::error::StorageError> for ApiError {
    fn from(e: crate::error::StorageError) -> Self {
        ApiError::App(Error::Storage(e))
    }
}

fn rule_problem(status: u16, rejection: &Rejection, index: Option<usize>) -> Problem {
    let id = rejection.rule.id();
    Problem {
        problem_type: format!("urn:waymark:rule:{id}"),
        title: format!("rejected by rule {id}"),
        status,
        detail: format!(
            "rule {id} violated at {}: {}",
            rejection.field, rejection.message
        ),
        rule: Some(id.into()),
        field: Some(rejection.field.clone()),
        index,
    }
}

pub(crate) fn plain_problem(status: u16, detail: String) -> Problem {
    Problem {
        problem_type: "about:blank".into(),
        title: StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error")
            .into(),
        status,
        detail,
        rule: None,
        field: None,
        index: None,
    }
}

impl ApiError {
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::App(e @ Error::Rejected { line, rejection }) => {
                rule_problem(e.http_status(), rejection, *line)
            }
            ApiError::App(e) => plain_problem(e.http_status(), e.to_string()),
            ApiError::Malformed { field, detail } => rule_problem(
                400,
                &Rejection {
                    rule: Rule::Format,
                    field: field.clone(),
                    message: detail.clone(),
                },
                None,
            ),
            ApiError::TooLarge(detail) => rule_problem(
                413,
                &Rejection {
                    rule: Rule::Limits,
                    field: "body".into(),
                    message: detail.clone(),
                },
                None,
            ),
            ApiError::BadRequest(detail) => plain_problem(400, detail.clone()),
            ApiError::NotFound(detail) => plain_problem(404, detail.clone()),
            ApiError::NoLogKey(detail) => plain_problem(503, detail.clone()),
            ApiError::Timeout(detail) => plain_problem(408, detail.clone()),
            ApiError::MediaType(detail) => plain_problem(415, detail.clone()),
            ApiError::Busy(detail) => plain_problem(503, detail.clone()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        if problem.status >= 500 {
            tracing::warn!(status = problem.status, detail = %problem.detail, "request failed");
        }
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource; see /openapi.json".into())
}

/// Query parameters whose rejection is a problem, not axum's plain text.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(t)| Q(t))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// Path parameters whose rejection is a problem.
pub struct P<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for P<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| P(t))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

// ---------------------------------------------------------------------------------
// Responses with a content type.

/// A body with its content type.
pub struct Typed(pub &'static str, pub Vec<u8>);

impl IntoResponse for Typed {
    fn into_response(self) -> Response {
        let mut r = self.1.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(self.0));
        r
    }
}

pub const JSON: &str = "application/json";
pub const JSONL: &str = "application/jsonl";
pub const TEXT: &str = "text/plain; charset=utf-8";
pub const HTML: &str = "text/html; charset=utf-8";
pub const MARKDOWN: &str = "text/markdown; charset=utf-8";
pub const SVG: &str = "image/svg+xml";
pub const DOT: &str = "text/vnd.graphviz; charset=utf-8";

fn json_bytes<T: Serialize>(v: &T) -> Result<Typed, ApiError> {
    serde_json::to_vec_pretty(v)
        .map(|b| Typed(JSON, b))
        .map_err(|e| ApiError::App(Error::Storage(crate::error::StorageError(e.to_string()))))
}

// ---------------------------------------------------------------------------------
// Handlers.

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LedgerSummary {
    pub id: String,
    pub title: String,
    /// The head's seq (the number of events).
    pub head_seq: u64,
    pub head_hash: String,
    /// The dashboard and the API of this ledger.
    pub dashboard: String,
    pub api: String,
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "the store answers", body = String), (status = 503, body = Problem)))]
async fn healthz(State(app): State<Shared>) -> Result<&'static str, ApiError> {
    app.backend.db().ledgers().await?;
    Ok("ok\n")
}

#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "this API (OpenAPI 3.1)")))]
async fn openapi() -> Result<Typed, ApiError> {
    json_bytes(&ApiDoc::openapi())
}

#[utoipa::path(get, path = "/api/ledgers", responses((status = 200, body = [LedgerSummary])))]
async fn ledgers(State(app): State<Shared>) -> Result<Json<Vec<LedgerSummary>>, ApiError> {
    let mut out = Vec::new();
    for id in app.backend.db().ledgers().await? {
        let state = with_waymark!(&app.backend, w => w.state(&id).await)?;
        let head = state.head.as_ref();
        out.push(LedgerSummary {
            title: state.title.clone(),
            head_seq: head.map_or(0, |h| h.seq),
            head_hash: head.map(|h| h.hash.to_hex()).unwrap_or_default(),
            dashboard: format!("/ledgers/{id}"),
            api: format!("/api/ledgers/{id}"),
            id,
        });
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AsOfQuery {
    /// `seq:N`, `season:N` or `time:RFC3339` (default: the head)
    pub as_of: Option<String>,
}

#[utoipa::path(get, path = "/api/ledgers/{id}/status", params(("id" = String, Path, description = "ledger id"), AsOfQuery),
    responses((status = 200, description = "the status projection (SPEC section 9)"), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn status(
    State(app): State<Shared>,
    P(id): P<String>,
    Q(q): Q<AsOfQuery>,
) -> Result<Typed, ApiError> {
    json_bytes(&app.status(&id, q.as_of.as_deref()).await?)
}

#[utoipa::path(get, path = "/api/ledgers/{id}/state", params(("id" = String, Path)),
    responses((status = 200, description = "the rule state at the head: actors with roles and public keys, milestones, each layer's phase, the season, the head; what a client needs to fill in a statement (`from` of a status change) before it signs"), (status = 404, body = Problem)))]
async fn state(State(app): State<Shared>, P(id): P<String>) -> Result<Typed, ApiError> {
    app.known(&id).await?;
    json_bytes(&with_waymark!(&app.backend, w => w.state(&id).await)?)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// only events naming this milestone
    pub milestone: Option<String>,
    /// only events signed by this actor
    pub actor: Option<String>,
    /// only events recorded during this season
    pub season: Option<i64>,
    /// only events of this type
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// only events before this seq (the next page: the `Link rel="next"` header)
    #[serde(default, deserialize_with = "number_or_text")]
    pub before: Option<u64>,
}

/// An optional number given as a number or as text: a query flattened into another
/// (the dashboard's `PageQuery`) hands its values over as text.
fn number_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(u64),
        Text(String),
    }
    match Option::<NumberOrText>::deserialize(d)? {
        None => Ok(None),
        Some(NumberOrText::Number(n)) => Ok(Some(n)),
        Some(NumberOrText::Text(t)) if t.is_empty() => Ok(None),
        Some(NumberOrText::Text(t)) => t
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("before: {t:?} is not a seq"))),
    }
}

impl HistoryQuery {
    pub fn filter(&self) -> Result<HistoryFilter, ApiError> {
        let blank = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        let event_type = blank(&self.event_type);
        if let Some(t) = &event_type {
            t.parse::<waymark_events::EventType>()
                .map_err(|e| ApiError::BadRequest(format!("type: {e}")))?;
        }
        Ok(HistoryFilter {
            milestone: blank(&self.milestone),
            actor: blank(&self.actor),
            season: self.season,
            event_type,
        })
    }

    /// This query's filters (not its page) as a query string, `&`-terminated when
    /// not empty.
    pub fn query_string(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        let blank = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        if let Some(m) = blank(&self.milestone) {
            q.append_pair("milestone", &m);
        }
        if let Some(a) = blank(&self.actor) {
            q.append_pair("actor", &a);
        }
        if let Some(s) = self.season {
            q.append_pair("season", &s.to_string());
        }
        if let Some(t) = blank(&self.event_type) {
            q.append_pair("type", &t);
        }
        let q = q.finish();
        if q.is_empty() {
            q
        } else {
            q + "&"
        }
    }
}

#[utoipa::path(get, path = "/api/ledgers/{id}/history", params(("id" = String, Path), HistoryQuery),
    responses((status = 200, description = "the audit trail, filtered: at most 50 rows, newest first; a `Link: <…?before=SEQ>; rel=\"next\"` header names the next page"), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn history(
    State(app): State<Shared>,
    P(id): P<String>,
    Q(q): Q<HistoryQuery>,
) -> Result<Response, ApiError> {
    app.known(&id).await?;
    let filter = q.filter()?;
    let mut rows = with_waymark!(&app.backend, w => w.history_page(&id, &filter, q.before, HISTORY_PAGE + 1).await)?;
    let more = rows.len() > HISTORY_PAGE;
    rows.truncate(HISTORY_PAGE);
    let mut r = json_bytes(&rows)?.into_response();
    if let Some(last) = rows.last().filter(|_| more) {
        let link = format!(
            "</api/ledgers/{id}/history?{}before={}>; rel=\"next\"",
            q.query_string(),
            last.seq
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            r.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(r)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EventsQuery {
    /// the first seq (default 1)
    pub from: Option<u64>,
    /// at most this many lines (default: to the head)
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/api/ledgers/{id}/events", params(("id" = String, Path), EventsQuery),
    responses((status = 200, description = "JSON Lines, one JCS(event ∪ {hash}) per line (SPEC section 7), streamed", content_type = "application/jsonl"), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn events(
    State(app): State<Shared>,
    P(id): P<String>,
    Q(q): Q<EventsQuery>,
) -> Result<Response, ApiError> {
    app.known(&id).await?;
    let from = q.from.unwrap_or(1);
    if from == 0 || q.limit == Some(0) {
        return Err(ApiError::BadRequest(
            "events: from and limit start at 1".into(),
        ));
    }
    let head = with_waymark!(&app.backend, w => w.state(&id).await)?
        .head
        .map_or(0, |h| h.seq);
    let upto = q
        .limit
        .map_or(head, |l| head.min(from.saturating_add(l - 1)));
    // Streamed a chunk at a time, each read when the client has taken the one
    // before: a reader of the whole export holds one chunk, not the ledger.
    let chunks = futures_util::stream::unfold(from, move |next| {
        let (app, id) = (app.clone(), id.clone());
        async move {
            if next > upto {
                return None;
            }
            let hi = upto.min(next.saturating_add(EXPORT_CHUNK - 1));
            let chunk = with_waymark!(&app.backend, w => w.export_range(&id, next, hi).await)
                .map(Bytes::from)
                .map_err(|e| std::io::Error::other(e.to_string()));
            Some((chunk, hi + 1))
        }
    });
    Ok((
        [(header::CONTENT_TYPE, JSONL)],
        axum::body::Body::from_stream(chunks),
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SizeQuery {
    /// the tree size (default: the head)
    pub size: Option<u64>,
}

#[utoipa::path(get, path = "/api/ledgers/{id}/checkpoint", params(("id" = String, Path), SizeQuery),
    responses((status = 200, description = "the C2SP signed note of the tree of the first `size` events", content_type = "text/plain"), (status = 400, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)))]
async fn checkpoint(
    State(app): State<Shared>,
    P(id): P<String>,
    Q(q): Q<SizeQuery>,
) -> Result<Typed, ApiError> {
    app.known(&id).await?;
    let key = app.log_key(&id)?;
    let (_, note) = with_waymark!(&app.backend, w => w.checkpoint(&id, q.size, &key).await)?;
    Ok(Typed(TEXT, note.into_bytes()))
}

#[utoipa::path(get, path = "/api/ledgers/{id}/snapshot", params(("id" = String, Path), SizeQuery),
    responses((status = 200, description = "the snapshot bundle (SPEC section 8)"), (status = 400, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)))]
async fn snapshot(
    State(app): State<Shared>,
    P(id): P<String>,
    Q(q): Q<SizeQuery>,
) -> Result<Typed, ApiError> {
    app.known(&id).await?;
    let key = app.log_key(&id)?;
    let bundle = with_waymark!(&app.backend, w => w.snapshot(&id, q.size, &key).await)?;
    Ok(Typed(JSON, bundle.to_bytes()))
}

#[utoipa::path(get, path = "/api/ledgers/{id}/proof/inclusion/{seq}", params(("id" = String, Path), ("seq" = u64, Path), SizeQuery),
    responses((status = 200, description = "waymark-inclusion/v1 (SPEC section 6)"), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn inclusion(
    State(app): State<Shared>,
    P((id, seq)): P<(String, u64)>,
    Q(q): Q<SizeQuery>,
) -> Result<Typed, ApiError> {
    app.known(&id).await?;
    let proof = with_waymark!(&app.backend, w => w.prove_inclusion(&id, seq, q.size).await)?;
    Ok(Typed(JSON, proof.to_bytes()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    pub old: u64,
    pub new: u64,
}

#[utoipa::path(get, path = "/api/ledgers/{id}/proof/consistency", params(("id" = String, Path), ConsistencyQuery),
    responses((status = 200, description = "waymark-consistency/v1 (SPEC section 6)"), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn consistency(
    State(app): State<Shared>,
    P(id): P<String>,
    Q(q): Q<ConsistencyQuery>,
) -> Result<Typed, ApiError> {
    app.known(&id).await?;
    let proof = with_waymark!(&app.backend, w => w.prove_consistency(&id, q.old, q.new).await)?;
    Ok(Typed(JSON, proof.to_bytes()))
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReviewFormat {
    #[default]
    Json,
    Md,
    Html,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReviewQuery {
    /// json (default), md or html
    pub format: Option<ReviewFormat>,
}

/// The review of `season` in a format, as the CLI's `review N --format F` prints it.
pub(crate) async fn review_bytes(
    backend: &Backend,
    id: &str,
    season: i64,
    format: ReviewFormat,
) -> Result<Typed, ApiError> {
    let review = with_waymark!(backend, w => w.review(id, season).await)?;
    Ok(match format {
        ReviewFormat::Json => Typed(
            JSON,
            (serde_json::to_string_pretty(&review).unwrap_or_default() + "\n").into_bytes(),
        ),
        ReviewFormat::Md => Typed(MARKDOWN, review.to_markdown().into_bytes()),
        ReviewFormat::Html => Typed(HTML, review.to_html().into_bytes()),
    })
}

#[utoipa::path(get, path = "/api/ledgers/{id}/reviews/{season}", params(("id" = String, Path), ("season" = i64, Path), ReviewQuery),
    responses((status = 200, description = "the end-of-Season review"), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn review(
    State(app): State<Shared>,
    P((id, season)): P<(String, i64)>,
    Q(q): Q<ReviewQuery>,
) -> Result<Typed, ApiError> {
    app.known(&id).await?;
    review_bytes(&app.backend, &id, season, q.format.unwrap_or_default()).await
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GraphFormat {
    #[default]
    Svg,
    Dot,
    Mermaid,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct GraphQuery {
    /// svg (default), dot or mermaid
    pub format: Option<GraphFormat>,
    /// `seq:N`, `season:N` or `time:RFC3339` (default: the head)
    pub as_of: Option<String>,
}

pub(crate) fn graph_bytes(status: &waymark_projections::Status, format: GraphFormat) -> Typed {
    match format {
        GraphFormat::Svg => Typed(SVG, waymark_projections::to_svg(status).into_bytes()),
        GraphFormat::Dot => Typed(DOT, waymark_projections::to_dot(status).into_bytes()),
        GraphFormat::Mermaid => Typed(TEXT, waymark_projections::to_mermaid(status).into_bytes()),
    }
}

#[utoipa::path(get, path = "/api/ledgers/{id}/graph", params(("id" = String, Path), GraphQuery),
    responses((status = 200, description = "the dependency graph coloured by status"), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn graph(
    State(app): State<Shared>,
    P(id): P<String>,
    Q(q): Q<GraphQuery>,
) -> Result<Typed, ApiError> {
    let s = app.status(&id, q.as_of.as_deref()).await?;
    Ok(graph_bytes(&s, q.format.unwrap_or_default()))
}

/// A recorded statement's place: the answer to `POST statements`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordedOut {
    pub seq: u64,
    pub hash: String,
    #[serde(rename = "type")]
    pub event_type: String,
}

impl From<&Recorded> for RecordedOut {
    fn from(r: &Recorded) -> Self {
        RecordedOut {
            seq: r.seq,
            hash: r.hash.to_hex(),
            event_type: r.event_type.clone(),
        }
    }
}

/// A signed statement (SPEC section 3): the six statement keys plus `sig`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct SignedStatement {
    pub ledger: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: String,
    pub actor: String,
    pub issued_at: String,
    pub payload: Value,
    /// base64 Ed25519 signature over "waymark-statement/v1\n" || JCS(statement)
    pub sig: String,
}

/// The JSON of a signed statement, as `POST statements` takes it.
pub fn signed_to_value(s: &Signed) -> Value {
    let mut v = s.statement.to_value();
    if let Value::Object(m) = &mut v {
        m.insert("sig".into(), Value::String(s.sig.clone()));
    }
    v
}

/// Reads one signed statement object; `at` names it in errors (`statement` or
/// `statements[i]`).
fn signed_from_value(v: &Value, at: &str) -> Result<Signed, ApiError> {
    let malformed = |detail: String| ApiError::Malformed {
        field: at.to_string(),
        detail,
    };
    let mut m = v
        .as_object()
        .cloned()
        .ok_or_else(|| malformed("a signed statement is a JSON object".into()))?;
    let sig = match m.remove("sig") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(malformed("\"sig\" must be a base64 string".into())),
        None => return Err(malformed("missing key \"sig\"".into())),
    };
    let raw = serde_json::to_vec(v).unwrap_or_default();
    if raw.len() > waymark_core::MAX_STATEMENT_BYTES {
        return Err(ApiError::App(Error::Rejected {
            line: None,
            rejection: Rejection {
                rule: Rule::Limits,
                field: "statement".into(),
                message: format!(
                    "{at}: {} bytes exceeds {} (checked before parsing)",
                    raw.len(),
                    waymark_core::MAX_STATEMENT_BYTES
                ),
            },
        }));
    }
    let statement =
        Statement::from_value(&Value::Object(m)).map_err(|e| malformed(e.to_string()))?;
    Ok(Signed { statement, sig })
}

/// Parses the body of `POST statements`: one signed statement, or an array of them
/// (`true` when it was an array).
pub fn parse_statements(body: &[u8]) -> Result<(Vec<Signed>, bool), ApiError> {
    let v = parse_strict(body).map_err(|e| ApiError::Malformed {
        field: "body".into(),
        detail: e.to_string(),
    })?;
    match &v {
        Value::Array(items) if items.is_empty() => Err(ApiError::Malformed {
            field: "body".into(),
            detail: "an empty array records nothing".into(),
        }),
        Value::Array(items) => Ok((
            items
                .iter()
                .enumerate()
                .map(|(i, s)| signed_from_value(s, &format!("statements[{i}]")))
                .collect::<Result<_, _>>()?,
            true,
        )),
        one => Ok((vec![signed_from_value(one, "statement")?], false)),
    }
}

#[utoipa::path(post, path = "/api/ledgers/{id}/statements", params(("id" = String, Path)),
    request_body(content = SignedStatement, description = "a signed statement, or a JSON array of them (recorded all or none)"),
    responses(
        (status = 201, description = "recorded: `{seq, hash, type}`, or an array of them for an array", body = RecordedOut),
        (status = 400, description = "malformed (R0-format)", body = Problem),
        (status = 401, description = "bad signature or unknown actor (R1-signature, R1-unknown-actor)", body = Problem),
        (status = 403, description = "the actor's roles may not sign this type (R1-signer)", body = Problem),
        (status = 404, description = "unknown ledger", body = Problem),
        (status = 413, description = "too large (R8-limits)", body = Problem),
        (status = 422, description = "a rule refused it; `rule` and `field` say which and where", body = Problem)))]
async fn statements(
    State(app): State<Shared>,
    P(id): P<String>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let is_json = media.as_deref().is_some_and(|m| {
        m.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    if !is_json {
        return Err(ApiError::MediaType(format!(
            "POST statements takes Content-Type: application/json, not {}",
            media.map_or("none".into(), |m| format!("{m:?}"))
        )));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!("the request body exceeds {MAX_BODY_BYTES} bytes"))
        } else {
            ApiError::Malformed {
                field: "body".into(),
                detail: e.body_text(),
            }
        }
    })?;
    app.known(&id).await?;
    // A single statement has no index; a batch keeps the failing one's.
    let index = |array: bool| {
        move |e| match e {
            Error::Rejected { rejection, line } => Error::Rejected {
                line: line.filter(|_| array),
                rejection,
            },
            e => e,
        }
    };
    // Parsed, and judged by the rules against the head, by the blocking workers
    // before the write queue: a body of badly signed statements is refused there
    // and never holds up the writers (issue 12: four clients posting 4 MiB of
    // them took a valid POST from 3.6 ms to 1.9 s while each waited its turn).
    let (signed, array) = {
        let _worker = app.checks.acquire().await.map_err(|e| {
            ApiError::App(Error::Storage(crate::error::StorageError(e.to_string())))
        })?;
        let (signed, array) = tokio::task::spawn_blocking(move || parse_statements(&body))
            .await
            .map_err(|e| {
                ApiError::App(Error::Storage(crate::error::StorageError(e.to_string())))
            })??;
        let signed = with_waymark!(&app.backend, w => w.precheck(&id, signed).await)
            .map_err(index(array))?;
        (signed, array)
    };
    let turn = app.writes.lock().await;
    let recorded = with_waymark!(&app.backend, w => w.record(&id, signed).await);
    drop(turn);
    let recorded = recorded.map_err(index(array))?;
    let out: Vec<RecordedOut> = recorded.iter().map(RecordedOut::from).collect();
    let location = out
        .first()
        .map(|r| format!("/api/ledgers/{id}/proof/inclusion/{}", r.seq))
        .unwrap_or_default();
    let body = if array {
        serde_json::to_value(&out)
    } else {
        serde_json::to_value(out.first())
    }
    .unwrap_or_default();
    let mut r = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Waymark",
        description = "An accountability ledger for decentralization roadmaps: SPEC sections 3–10 over HTTP. Errors are RFC 9457 problem details naming the SPEC rule."
    ),
    paths(
        healthz,
        openapi,
        ledgers,
        status,
        state,
        history,
        events,
        checkpoint,
        snapshot,
        inclusion,
        consistency,
        review,
        graph,
        statements
    ),
    components(schemas(
        Problem,
        RecordedOut,
        SignedStatement,
        LedgerSummary,
        ReviewFormat,
        GraphFormat
    ))
)]
pub struct ApiDoc;

/// `waymark serve`: binds `addr`, serves until ctrl-c, then drains.
pub async fn serve(db: Db, keys: PathBuf, addr: &str) -> Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        Error::Storage(crate::error::StorageError(format!(
            "cannot listen on {addr}: {e}"
        )))
    })?;
    if let Ok(a) = listener.local_addr() {
        eprintln!("waymark: serving http://{a}/ (ctrl-c to stop)");
    }
    // Said at start, not at the first reader's 503: the log key signs checkpoints.
    let store = crate::keys::KeyStore::new(keys.clone());
    for ledger in db.ledgers().await? {
        let path = store.log_path(&ledger);
        if !path.exists() {
            eprintln!(
                "waymark: warning: no log key for ledger {ledger} at {}: checkpoints, \
                 snapshots and the dashboard's signed checkpoint will be unavailable \
                 (give the key store that `init` used with --keys or WAYMARK_KEYS)",
                path.display()
            );
        }
    }
    let app = App::new(Backend::new(db)?, keys);
    run(listener, app, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await
}
