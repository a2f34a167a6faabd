//! Waymark's pure ledger core: everything that judges a ledger, and nothing that
//! stores or serves one. An auditor builds it (and `waymark-verify`) without the
//! database, async or web stacks.
//!
//! # Layout
//! - `rules` — rule ids of SPEC sections 5 and 13 and typed rejections.
//! - `state` — the rule state: `check`/`judge` a statement, `apply` an event;
//!   `KeyHints` for signatures checked ahead on other threads. One file per family
//!   of event types (`state/mod.rs` lists them).
//! - `replay` — the chain replayer behind `verify` and `verify-offline`.
//! - `verdict` — what a verifier reports: `ProblemKind`, `Problem`, `Report`.
//! - `offline` — `verify-offline`: an export streamed through the replayer, checked
//!   against snapshots, checkpoints and proofs, from files only, in flat memory
//!   (`offline/mod.rs` lists its parts, rule 7's index among them).
//! - `witnesses` — witness quorums over cosigned checkpoints (C2SP tlog-cosignature).
//! - `tiles` — a tiled log (C2SP tlog-tiles) read through [`TileSource`] (directories
//!   here, URLs in `waymark`): [`TiledLog`] computes proofs from a few tiles and
//!   verifies them against the signed checkpoint; `verify-offline --tiles` (in
//!   `offline`) verifies the whole log from its entry bundles and checks every tile.
//! - `command` — the `verify-offline` command line, shared with `waymark`.
//! - `framework` — framework TOML (SPEC section 11, with section 13's bodies and
//!   decisions) and the bundled frameworks.
//! - `par` — an ordered parallel map on rayon's pool.
//! - `error` — the core's errors and their exit codes.
#![forbid(unsafe_code)]
// No unwrap/expect on input paths: failures are typed errors (tests may unwrap).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod command;
mod error;
mod framework;
mod offline;
mod par;
mod replay;
mod rules;
mod state;
mod tiles;
mod verdict;
mod witnesses;

pub use command::{
    print_report, run_verify_offline, run_verify_offline_with, OpenSource, VerifyOfflineArgs,
};
pub use error::{Error, Result};
pub use framework::{
    bundled_names, load as load_framework, parse as parse_framework, parse_decision, parse_design,
    parse_profile, LoadedFramework,
};
pub use offline::{
    trusted_key, verify_offline, OfflineInputs, OfflineOutcome, MAX_DOC_BYTES, MAX_LINE_BYTES,
    TOFU_WARNING,
};
pub use par::map_ordered;
pub use replay::{ReplayIndex, Replayer};
pub use rules::{is_evidence_url, is_ledger_id, is_milestone_id, reject, Rejection, Rule};
pub use state::{
    allowed_roles, Actor, Body, Decision, Head, KeyHints, LedgerState, Milestone, Season,
    MAX_EVIDENCE, MAX_LEAF_BYTES, MAX_STATEMENT_BYTES, MAX_STRING_CHARS, ROLES, STATUSES,
};
pub use tiles::{
    max_tile_bytes, open_dir_source, DirSource, TileSource, TiledLog, MAX_CHECKPOINT_BYTES,
};
pub use verdict::{HeadRef, Problem, ProblemKind, Report};
pub use witnesses::{posix_time, Quorum, WitnessVerdict};
