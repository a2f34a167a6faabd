//! `waymark serve`: the JSON API, the signed-statement endpoint and the dashboard over
//! one store (SQLite or PostgreSQL), with axum on tokio.
//!
//! ```text
//! GET  /healthz                                       "ok" when the store answers
//! GET  /openapi.json                                  this API, generated from the code
//! GET  /                                              the dashboard (HTML; ?ledger= &as_of= …)
//! GET  /ledgers/{id}                                  the dashboard of one ledger
//! GET  /ledgers/{id}/decisions?as_of=                 "Who decides": the decision map (HTML)
//! GET  /api/ledgers                                   the ledgers in the store, with their head
//! GET  /api/ledgers/{id}/status?as_of=                the status projection (SPEC 9)
//! GET  /api/ledgers/{id}/bodies?as_of=                the bodies (SPEC 13; empty list if none)
//! GET  /api/ledgers/{id}/decisions?as_of=             the decision map: decisions and authority
//!                                                     (SPEC 13; empty and zero counts if none)
//! GET  /api/ledgers/{id}/state                       the rule state at the head (actors,
//!                                                     keys, milestones, phases, season)
//! GET  /api/ledgers/{id}/history?milestone=&actor=&season=&type=
//! GET  /api/ledgers/{id}/events?from=&limit=          export lines (SPEC 7), application/jsonl
//! GET  /api/ledgers/{id}/checkpoint?size=             the signed note (SPEC 6), text/plain
//! GET  /api/ledgers/{id}/tile/{L}/{N}[.p/{W}]         C2SP tlog-tiles: a hash tile (tiles.rs)
//! GET  /api/ledgers/{id}/tile/entries/{N}[.p/{W}]     C2SP tlog-tiles: an entry bundle
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

mod api;
mod commit;
mod dashboard;
mod extract;
mod listen;

mod middleware;
mod openapi;
mod params;
mod problem;
mod router;
mod state;
mod statements;
mod tiles;

pub(crate) use api::{decisions_graph_bytes, graph_bytes};
pub(crate) use dashboard::{gather, gather_decisions, render, render_decisions, slug, Links};
// The accept loop, shared with `waymark witness serve` (src/witness/server.rs).
pub(crate) use extract::{Typed, DOT, HTML, JSON, JSONL, MARKDOWN, SVG, TEXT};
pub(crate) use listen::serve as accept_loop;
pub use openapi::ApiDoc;
pub(crate) use params::{GraphFormat, HistoryQuery, ReviewFormat};
pub use problem::ApiError;
pub use router::router;
pub use state::{App, Limits};
// The handlers' modules see each other's items through `super::*`.
use api::*;
use extract::*;
use middleware::*;
use params::*;
use problem::*;
use statements::*;
use tiles::*;

use crate::error::{Error, Result, StorageError};
use crate::ledger::system_clock;
use crate::service::Waymark;
use crate::storage::Db;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub use crate::wire::MAX_BODY_BYTES;
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
        .map_err(|e| Error::Storage(StorageError::file(format!("listener: {e}"))))?;
    tracing::info!(%addr, "waymark serving");
    let app = Arc::new(app);
    listen::serve(listener, router(app.clone()), app.limits.clone(), shutdown).await;
    // The read models of the last writes, before the process goes.
    app.waymark.settle().await;
    Ok(())
}

/// `waymark serve`: binds `addr`, serves until ctrl-c, then drains.
pub async fn serve(db: Db, keys: PathBuf, addr: &str) -> Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Storage(StorageError::file(format!("cannot listen on {addr}: {e}"))))?;
    if let Ok(a) = listener.local_addr() {
        eprintln!("waymark: serving http://{a}/ (ctrl-c to stop)");
    }
    // Said at start, not at the first reader's 503: the log key signs checkpoints.
    let store = crate::files::KeyStore::new(keys.clone());
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
    let app = App::new(Waymark::new(db, system_clock()), keys);
    run(listener, app, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await
}
