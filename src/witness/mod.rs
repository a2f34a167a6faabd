//! A transparency-log witness (C2SP tlog-witness, cosignatures per C2SP
//! tlog-cosignature `cosignature/v1`), and the client a log uses to ask witnesses.
//!
//! A witness has its own Ed25519 key and name, a list of logs it accepts (by their
//! log verifier key, whose name is the log's origin), and, for each, the latest
//! checkpoint it cosigned. It cosigns a new checkpoint only when it is signed by the
//! log's key and provably extends the one it cosigned before, so that two witnesses'
//! cosignatures on a checkpoint show that at least the honest ones among them saw no
//! other history of the log.
//!
//! - `protocol` — the `add-checkpoint` request and answers, parsed and encoded.
//! - `verdict` — each check, its refusal and HTTP status (pure).
//! - `state` — the durable state: its own SQLite file, atomic check-and-update.
//! - `keys` — the witness directory, its key (0600) and identity.
//! - `cosigner` — `Witness`: key and state, `add_checkpoint` from bytes to a verdict.
//! - `server` — `witness serve`: the HTTP interface.
//! - `client` — what a log (`publish --witness`) calls: `submit`, `accept_cosignature`.

mod client;
mod cosigner;
mod keys;
mod protocol;
mod server;
mod state;
mod verdict;

pub use client::{
    accept_cosignature, submit, Client, CosignatureRejected, Outcome, Unreachable, DEFAULT_TIMEOUT,
};
pub use cosigner::{posix_now, Witness};
pub use keys::{check_name, default_dir, Identity, WitnessDir, KEY_FILE, STATE_FILE};
pub use protocol::{
    encode_request, encode_size, parse_cosignature_lines, parse_request, parse_size,
    parse_size_answer, AddCheckpoint, ProtocolError, MAX_ANSWER_BYTES, MAX_PROOF_LINES,
    MAX_REQUEST_BYTES, SIZE_CONTENT_TYPE,
};
pub use server::{router, run, serve, WITNESS_REQUEST_TIMEOUT};
pub use state::{CosignedRow, Evidence, LogState, State, Verdict};
pub use verdict::{judge, Refusal};
