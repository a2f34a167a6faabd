//! Waymark: an accountability ledger for decentralization roadmaps.
//!
//! Every milestone update, phase transition and Season re-evaluation is a signed,
//! hash-chained event (SPEC sections 3–5), recorded through a cqrs-es aggregate into
//! SQLite (embedded default) or PostgreSQL.
//!
//! # Layout
//! - `rules` — rule ids and typed rejections; `state` — the rule state: `check`, `apply`.
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
//! - `verify` — the pure chain replayer behind `verify`.
//! - `offline` — `verify-offline`: an export streamed through the replayer, checked
//!   against snapshots, checkpoints and proofs, from files only, in flat memory.
//! - `par` — an ordered parallel map on scoped threads (pages of events, signatures).
//! - `keys` — the key store; `framework` — framework TOML and the bundled frameworks.
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
mod framework;
mod keys;
mod offline;
mod par;
mod publish;
mod read_model;
mod remote;
mod rules;
mod safe_fs;
pub mod server;
mod site;
mod state;
mod store;
mod tree;
mod verify;

pub use aggregate::{
    Ledger, LedgerError, LedgerEvent, LedgerServices, Record, SignatureIndex, Signed,
};
pub use app::{AsOf, FromDb, Recorded, Waymark};
pub use cli::{main_with_args, Cli};
pub use db::{redact, Db, Repository};
pub use error::{Error, Result, StorageError};
pub use framework::{bundled_names, load as load_framework, LoadedFramework};
pub use keys::KeyStore;
pub use offline::{verify_offline, OfflineInputs, OfflineOutcome, TOFU_WARNING};
pub use read_model::{LedgerView, RebuildReport, CHECKPOINT_EVERY};
pub use rules::{Rejection, Rule};
pub use state::{allowed_roles, LedgerState, ROLES};
pub use store::{system_clock, ChainedEventStore, Clock};
pub use verify::{Replayer, Report};
