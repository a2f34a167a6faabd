//! Waymark: an accountability ledger for decentralization roadmaps.
//!
//! Every milestone update, phase transition and Season re-evaluation is a signed,
//! hash-chained event (docs/SPEC.md sections 3–5), recorded through a cqrs-es
//! aggregate into SQLite (embedded default) or PostgreSQL.
//!
//! # Layout
//! The rules, the replayer behind `verify`, `verify-offline` and framework parsing are
//! the pure crate `waymark-core` (`core/`); this crate stores, serves and edits. Its
//! folders are layers; each imports only from the layers listed before it
//! (ARCHITECTURE.md has the map and the path of a statement):
//!
//! - `error` — the error kinds, each mapped once to an exit code and an HTTP status.
//! - `storage/` — the two backends: connections, schema (`.sql`), the cqrs-es
//!   repositories, commits, rule 7's index, the row format, tree nodes, writer lock.
//! - `ledger/` — the write side: the cqrs-es `Ledger` aggregate over the core's rules,
//!   and the chained event store.
//! - `read/` — the read models (status view, audit trail, checkpoints), their
//!   catch-up, queries and rebuild, dispatched after each commit.
//! - `service/` — `Waymark`, what every front end calls: record, read, prove, verify.
//! - `files/` — the key store and safe file writes.
//! - `wire` — the HTTP API's JSON shapes, shared by the server and its client.
//! - `http/` — `serve`: the API (problem+json, OpenAPI), its accept loop, the dashboard.
//! - `witness/` — a C2SP tlog-witness (`witness serve`, offline `witness cosign`) with
//!   its own key and SQLite state, and the client a log uses to ask witnesses.
//! - `hosting/` — `publish DIR` and `site --out`: the same artifacts as static files.
//! - `monitor/` — `waymark monitor`: a watchdog over a published log (tlog-tiles),
//!   with its own saved state.
//! - `cli/` — the command line: one module per command group, the session, output,
//!   the remote client, the demo.
//!
//! The binary (`main.rs`) starts the runtime and logging; the library does neither.
#![forbid(unsafe_code)]
// No unwrap/expect on input paths: failures are typed errors (tests may unwrap).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod error;
mod files;
mod hosting;
mod ledger;
mod monitor;
mod read;
mod service;
mod storage;
mod wire;

pub mod cli;
pub mod http;
pub mod witness;

pub use cli::{command, Cli};
pub use error::{Error, Result, StorageError};
pub use files::KeyStore;
pub use hosting::{open_tile_source, UrlSource};
pub use ledger::{
    system_clock, ChainedEventStore, Clock, Ledger, LedgerError, LedgerEvent, LedgerServices,
    Record, SignatureIndex, Signed,
};
pub use read::{IdKind, LedgerView, RebuildReport, Since, CHECKPOINT_EVERY};
pub use service::{
    AsOf, GroupOutcome, Recorded, ReviewSink, StatementSource, Waymark, REVIEW_PAGE,
};
pub use storage::{redact, Db};
// The pure core, re-exported for the library's users and tests.
pub use waymark_core::{
    allowed_roles, bundled_names, load_framework, verify_offline, LedgerState, LoadedFramework,
    OfflineInputs, OfflineOutcome, Rejection, Replayer, Report, Rule, ROLES, TOFU_WARNING,
};
