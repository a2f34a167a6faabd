//! Every route, with the body limit, the timeout and request tracing.

use super::*;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

/// Every route, with the body limit, the timeout and request tracing.
pub fn router(app: Shared) -> Router {
    let api = Router::new()
        .route("/api/ledgers", get(api::ledgers))
        .route("/api/ledgers/{id}/status", get(api::status))
        .route("/api/ledgers/{id}/bodies", get(api::bodies))
        .route("/api/ledgers/{id}/decisions", get(api::decisions))
        .route("/api/ledgers/{id}/state", get(api::state))
        .route("/api/ledgers/{id}/history", get(api::history))
        .route("/api/ledgers/{id}/events", get(api::events))
        .route("/api/ledgers/{id}/checkpoint", get(api::checkpoint))
        .route("/api/ledgers/{id}/snapshot", get(api::snapshot))
        .route("/api/ledgers/{id}/tile/{*path}", get(tiles::tile))
        .route(
            "/api/ledgers/{id}/proof/inclusion/{seq}",
            get(api::inclusion),
        )
        .route("/api/ledgers/{id}/proof/consistency", get(api::consistency))
        .route("/api/ledgers/{id}/reviews/{season}", get(api::review))
        .route("/api/ledgers/{id}/graph", get(api::graph))
        .route("/api/ledgers/{id}/statements", post(statements::statements));
    api.route("/healthz", get(api::healthz))
        .route("/openapi.json", get(api::openapi))
        .route("/", get(dashboard::index))
        .route("/ledgers/{id}", get(dashboard::ledger_page))
        .route("/ledgers/{id}/decisions", get(dashboard::decisions_page))
        .fallback(problem::not_found)
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
