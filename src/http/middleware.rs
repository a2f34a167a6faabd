//! The layers around every route: the request deadline and the answer budget.

use super::*;
use crate::error::Error;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

/// 408 (a problem) for a request not answered within `Limits::request_timeout`:
/// a body that never finishes, or a store that does not answer.
pub(super) async fn deadline(
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
pub(super) async fn budget(
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
            return ApiError::App(Error::Storage(StorageError::internal(e.to_string())))
                .into_response()
        }
    };
    match app.hold(bytes) {
        Ok(b) => Response::from_parts(parts, axum::body::Body::from(b)),
        Err(e) => e.into_response(),
    }
}
