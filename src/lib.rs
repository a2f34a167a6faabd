//! Waymark: an accountability ledger for decentralization roadmaps.
//!
//! Every milestone update, phase transition and Season re-evaluation is a signed,
//! hash-chained event (SPEC sections 3–5), recorded through a cqrs-es aggregate into
//! SQLite (embedded default) or PostgreSQL.
//!
//! # Layout
//! The rules, the replayer behind `verify`, `verify-offline` and framework parsing are
//! the pure crate `waymark-core` (`core/`); this crate stores, serves and edits.
//! - `aggregate` — the cqrs-es `Ledger` aggregate, its command and event.
//! - `store` — the chained event store over any `PersistedEventRepository`.
//! - `db` — SQLite / PostgreSQL connections, tables, the signature index.
//! - `app` — `Waymark`: record (with conflict retry), state, events, status, history,
//!   export, verify.
//! - `read_model` — the stored read models (status view, audit trail, status
//!   checkpoints) as a cqrs-es `Query` over the view repositories.
//! - `dispatch` — the read models' updates after a commit, in the background.
//! - `publish` — the files of `publish DIR` for static hosting.
//! - `tree` — the Merkle tree read back from the nodes kept in each event row.
//! - `keys` — the key store.
//! - `cli` — the command line; `demo` — the bundled Optimism history.
//! - `server` — `serve`: the HTTP API (problem+json errors, OpenAPI) over either
//!   backend; `dashboard` — the HTML dashboard it serves; `site` — the dashboard
//!   and the API's artifacts as static files; `remote` — the CLI against a server.
#![forbid(unsafe_code)]
// No unwrap/expect on input paths: failures are typed errors (tests may unwrap).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod aggregate;
mod app;
mod cli;
mod dashboard;
mod db;
mod demo;
mod dispatch;
mod error;
mod keys;
mod publish;
mod read_model;
mod remote;
mod safe_fs;
pub mod server;
mod site;
mod store;
mod tree;

pub use aggregate::{
    Ledger, LedgerError, LedgerEvent, LedgerServices, Record, SignatureIndex, Signed,
};
pub use app::{AsOf, FromDb, Recorded, Waymark};
pub use cli::{command, main_with_args, Cli};
pub use db::{redact, Db, Repository};
pub use error::{Error, Result, StorageError};
pub use keys::KeyStore;
pub use read_model::{LedgerView, RebuildReport, CHECKPOINT_EVERY};
pub use store::{system_clock, ChainedEventStore, Clock};
// The pure core, re-exported for the library's users and tests.
pub use waymark_core::{
    allowed_roles, bundled_names, load_framework, verify_offline, LedgerState, LoadedFramework,
    OfflineInputs, OfflineOutcome, Rejection, Replayer, Report, Rule, ROLES, TOFU_WARNING,
};
