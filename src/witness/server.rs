//! `waymark witness serve`: the C2SP tlog-witness HTTP interface, over the accept loop
//! of `waymark serve` (`http/listen.rs`: timeouts, a connection cap, bounded shutdown).
//!
//! ```text
//! POST /add-checkpoint   tlog-witness: old size, proof, checkpoint → cosignature line(s)
//! GET  /vkey             (not in tlog-witness) the witness's verifier key, text/plain
//! ```
//!
//! The submission prefix is the server's root: a client posts to
//! `http://HOST:PORT/add-checkpoint`. Answers: 200 with the cosignature line (text/plain),
//! 409 with `<size>\n` as `text/x.tlog.size` when the old size is not the witness's,
//! and 400, 403, 404, 409, 413 and 422 with the reason as one line of text/plain
//! (`verdict.rs` has the table); 503 when its own state fails.

use crate::error::{Error, Result, StorageError};
use crate::http::Limits;
use crate::witness::cosigner::Witness;
use crate::witness::protocol::{encode_size, MAX_REQUEST_BYTES, SIZE_CONTENT_TYPE};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

const TEXT: &str = "text/plain; charset=utf-8";

/// How long one request may take (408 past it). A cosignature takes milliseconds;
/// this bounds a request that waits on a state file another process holds.
pub const WITNESS_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

fn text(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, TEXT)], body).into_response()
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    // In a task of its own: a client that goes away cannot cancel the request half
    // way (the state's transaction runs to its commit or rollback either way, and
    // the answer is then dropped).
    let task = tokio::spawn(async move { w.add_checkpoint(&body).await });
    match task.await {
        Ok(Ok(Ok(cosigned))) => text(200, cosigned.cosignature),
        Ok(Ok(Err(refusal))) => {
            tracing::info!(status = refusal.status(), reason = %refusal, "refused");
            match refusal.witness_size() {
                Some(size) => (
                    StatusCode::CONFLICT,
                    [(header::CONTENT_TYPE, SIZE_CONTENT_TYPE)],
                    encode_size(size),
                )
                    .into_response(),
                None => text(refusal.status(), format!("{refusal}\n")),
            }
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "witness state failure");
            text(503, format!("the witness cannot use its state: {e}\n"))
        }
        Err(e) => {
            tracing::error!(error = %e, "add-checkpoint task failed");
            text(500, "internal error\n".into())
        }
    }
}

async fn vkey(State(w): State<Arc<Witness>>) -> Response {
    text(200, format!("{}\n", w.vkey()))
}

async fn not_found() -> Response {
    text(
        404,
        "no such endpoint: POST /add-checkpoint, GET /vkey\n".into(),
    )
}

/// Every route of the witness, with the body cap, the timeout and request tracing.
pub fn router(w: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/vkey", get(vkey))
        .fallback(not_found)
        // Past the cap axum answers 413 without reading the rest.
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            WITNESS_REQUEST_TIMEOUT,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(w)
}

/// Serves the witness on `listener` until `shutdown` completes, then finishes the
/// requests in flight (within the grace period of `Limits`).
pub async fn run(
    listener: TcpListener,
    witness: Arc<Witness>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Storage(StorageError::file(format!("listener: {e}"))))?;
    tracing::info!(%addr, vkey = %witness.vkey(), "waymark witness serving");
    let limits = Limits {
        request_timeout: WITNESS_REQUEST_TIMEOUT,
        ..Limits::default()
    };
    crate::http::accept_loop(listener, router(witness.clone()), limits, shutdown).await;
    witness.state().close().await;
    Ok(())
}

/// `waymark witness serve --addr`: binds, says where on stderr, serves until ctrl-c.
pub async fn serve(witness: Witness, addr: &str) -> Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Storage(StorageError::file(format!("cannot listen on {addr}: {e}"))))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Storage(StorageError::file(format!("listener: {e}"))))?;
    eprintln!(
        "waymark: witness {} serving http://{local}/ (POST /add-checkpoint; ctrl-c to stop)",
        witness.vkey()
    );
    run(listener, Arc::new(witness), async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await
}
