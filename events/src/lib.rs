//! Waymark's wire format, kept pure: event types, canonical bytes (RFC 8785),
//! statement signatures, the hash chain and strict JSON input.
//!
//! Nothing here does I/O, spawns tasks or touches a database; every function is a
//! deterministic computation over bytes, so independent verifiers can be checked
//! against it byte for byte (see `tests/vectors`).
//!
//! # Layout
//! - `canonical` — JCS bytes and strict JSON parsing (no floats, no duplicate keys).
//! - `hash` — the `Hash` newtype and the RFC 9162 leaf hash.
//! - `payload` — one struct per event type of SPEC section 5.
//! - `decision` — the payloads of section 13 (v1.1): bodies, decision modules, designs,
//!   DDF profiles, authority transfers, hypotheses.
//! - `statement` — statements, events, signing and verification.
//! - `time` — the timestamp and date formats of SPEC section 2.
//! - `values` — roles, milestone statuses and season states, typed.
//! - `merkle` — the RFC 9162 tree: roots, the compact frontier, inclusion and
//!   consistency proofs and their verifiers.
//! - `note` — log-key verifier strings (C2SP signed-note keys).
//! - `checkpoint` — C2SP tlog-checkpoint bodies signed as C2SP signed notes: signing,
//!   and opening as strictly as Go's `golang.org/x/mod/sumdb/note`.
//! - `cosignature` — witness cosignatures (C2SP tlog-cosignature, `cosignature/v1`,
//!   key type 0x04): witness keys, cosigning, checking a note's cosignatures.
//! - `proof` — the JSON documents of SPEC sections 6 and 8: inclusion and consistency
//!   proofs and the snapshot bundle, strict to read, JCS plus a newline to write.
//! - `tiles` — C2SP tlog-tiles: tile and entry-bundle paths and bytes, which tiles a
//!   tree has, and tree nodes, roots and proofs computed from a few tiles.
#![forbid(unsafe_code)]
// No unwrap/expect on input paths: failures are typed errors (tests may unwrap).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod canonical;
mod checkpoint;
mod cosignature;
mod decision;
mod hash;
mod merkle;
mod note;
mod payload;
mod prepared;
mod proof;
mod statement;
mod tiles;
mod time;
mod values;

pub use canonical::{
    canonical_bytes, canonical_value, parse_strict, write_canonical, InputError, MAX_SAFE_INTEGER,
};
pub use checkpoint::{
    open_checkpoint, open_checkpoint_bytes, open_note, parse_signature_line, sign_checkpoint,
    sign_note, split_note, Checkpoint, NoteError, NoteSignature, MAX_NOTE_BYTES, MAX_SIGNATURES,
};
pub use cosignature::{
    add_signature_lines, check_cosignatures, cosign, cosigned_message, cosigner_key_id,
    cosigner_vkey, parse_cosigner_key, CosignatureCheck, CosignerKey, COSIGNATURE_V1_TYPE,
};
pub use decision::{Design, Profile, Signers, Veto};
pub use hash::{leaf_hash, Hash, HashParseError};
pub use merkle::{
    consistency_nodes, consistency_proof, consistency_proof_from, empty_root, inclusion_nodes,
    inclusion_proof, inclusion_proof_from, node_hash, root, root_from, root_nodes,
    verify_consistency, verify_inclusion, CompactRange, Frontier, FrontierError, NodeId,
    ProofError,
};
pub use note::{
    is_valid_key_name, key_id, parse_verifier_key, verifier_key, VerifierKey, VerifierKeyError,
};
pub use payload::{
    ActorKeyRotated, ActorRegistered, ActorRetired, ActorRolesChanged, Assessment,
    AuthorityTransferred, BodyDefined, BodyRetired, BodyRevised, DecisionDefined, DecisionRevised,
    EventType, Founder, Framework, HypothesisConcluded, HypothesisStated, LayerDef, LedgerOpened,
    MilestoneDefined, MilestoneRetired, MilestoneRevised, MilestoneStatusChanged, Payload,
    PayloadError, PhaseDef, PhaseTransitioned, Principle, SeasonOpened, SeasonReEvaluated,
    UnknownEventType,
};
pub use prepared::PreparedKey;
pub use proof::{
    ConsistencyProofDoc, DocError, InclusionProofDoc, SnapshotBundle, CONSISTENCY_FORMAT,
    INCLUSION_FORMAT, SNAPSHOT_FORMAT,
};
pub use statement::{
    decode_public_key, encode_public_key, sign, verify_canonical, verify_canonical_prepared,
    verify_canonical_with, Event, ShapeError, SignatureError, Statement, SIGNED_PREFIX,
};
pub use tiles::{
    changed_tiles, encode_bundle, node_tile, parse_bundle, parse_tile, tile_bytes, tiles_for, Tile,
    TileBuilder, TileError, TileHashes, TileKind, FULL_TILE_BYTES, HASH_BYTES, MAX_ENTRY_BYTES,
    MAX_TILE_LEVEL, TILE_HEIGHT, TILE_WIDTH,
};
pub use time::{format_timestamp, is_date, is_timestamp};
pub use values::{
    Answer, BodyKind, Cadence, Complexity, MilestoneState, Outcome, Process, Role, SeasonState,
    Space, Stakes, UnknownValue,
};
