//! The JSON documents of SPEC sections 6 and 8: inclusion and consistency proofs and the
//! snapshot bundle.
//!
//! Hashes are lowercase hex (as [`Hash`] serializes). Reading is strict: the bytes go
//! through [`parse_strict`] (no floats, no duplicate keys, integers within ±(2^53−1)),
//! every key must be known and present, and `format` must be the document's own.
//!
//! The byte form of every document here is its JCS serialization (RFC 8785, the same
//! canonical bytes as everything else Waymark hashes or signs) followed by one newline:
//! deterministic, so two tools that write the same document write the same file, and
//! newline-terminated like the export and the checkpoint note. Readers accept any JSON
//! layout; only writers are fixed.

use crate::canonical::{canonical_bytes, parse_strict, InputError};
use crate::checkpoint::{open_checkpoint, Checkpoint, NoteError};
use crate::hash::Hash;
use crate::merkle::ProofError;
use crate::merkle::{consistency_proof, inclusion_proof, verify_consistency, verify_inclusion};
use crate::note::VerifierKey;
use serde::de::DeserializeOwned;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// `format` of an inclusion proof document.
pub const INCLUSION_FORMAT: &str = "waymark-inclusion/v1";
/// `format` of a consistency proof document.
pub const CONSISTENCY_FORMAT: &str = "waymark-consistency/v1";
/// `format` of a snapshot bundle.
pub const SNAPSHOT_FORMAT: &str = "waymark-snapshot/v1";

/// Why a proof document or snapshot bundle was refused, or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    /// Not strict JSON (SPEC section 2).
    #[error(transparent)]
    Json(#[from] InputError),
    /// JSON of the wrong shape: a missing or unknown key, or a value of the wrong type
    /// (a hash that is not 64 lowercase hex digits, a negative size, ...).
    #[error("{0}")]
    Shape(String),
    /// `format` is not this document's.
    #[error("format is {got:?}, expected {expected:?}")]
    WrongFormat { expected: &'static str, got: String },
    /// `ledger` is not a ledger id (`^[a-z0-9][a-z0-9-]{0,62}$`).
    #[error("{0:?} is not a ledger id ^[a-z0-9][a-z0-9-]{{0,62}}$")]
    BadLedgerId(String),
    /// `seq` is 0 (sequence numbers start at 1).
    #[error("seq must be at least 1")]
    SeqZero,
    /// The document is about another tree size than the checkpoint it is checked with.
    #[error("the document is for tree size {doc}, the checkpoint for {checkpoint}")]
    TreeSizeMismatch { doc: u64, checkpoint: u64 },
    /// The checkpoint note did not open.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The Merkle proof is refused or does not verify.
    #[error(transparent)]
    Proof(#[from] ProofError),
}

/// `^[a-z0-9][a-z0-9-]{0,62}$`. The binary crate has the same check for statements; the
/// events crate sits below it and cannot use it, so it is repeated here (four lines).
fn is_ledger_id(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty() && b.len() <= 63 && ok(&b[0]) && b.iter().all(|c| ok(c) || *c == b'-')
}

fn check_ledger(ledger: &str) -> Result<(), DocError> {
    if is_ledger_id(ledger) {
        Ok(())
    } else {
        Err(DocError::BadLedgerId(ledger.to_string()))
    }
}

fn check_format(expected: &'static str, got: String) -> Result<(), DocError> {
    if got == expected {
        Ok(())
    } else {
        Err(DocError::WrongFormat { expected, got })
    }
}

/// Strict JSON, then the wire struct (every key known and present).
fn parse_wire<W: DeserializeOwned>(bytes: &[u8]) -> Result<W, DocError> {
    let value = parse_strict(bytes)?;
    serde_json::from_value(value).map_err(|e| DocError::Shape(e.to_string()))
}

/// JCS bytes and a final newline.
fn doc_bytes<T: Serialize>(doc: &T) -> Vec<u8> {
    let mut out = canonical_bytes(doc);
    out.push(b'\n');
    out
}

/// An inclusion proof (SPEC section 6, RFC 9162 section 2.1.3):
/// `{"format":"waymark-inclusion/v1","ledger","seq","tree_size","leaf_hash","path"}`.
/// The leaf index is `seq − 1`; `path` runs from the leaf's sibling up.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "InclusionWire")]
pub struct InclusionProofDoc {
    pub ledger: String,
    pub seq: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    pub path: Vec<Hash>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionWire {
    format: String,
    ledger: String,
    seq: u64,
    tree_size: u64,
    leaf_hash: Hash,
    path: Vec<Hash>,
}

impl TryFrom<InclusionWire> for InclusionProofDoc {
    type Error = DocError;
    fn try_from(w: InclusionWire) -> Result<Self, DocError> {
        check_format(INCLUSION_FORMAT, w.format)?;
        check_ledger(&w.ledger)?;
        if w.seq == 0 {
            return Err(DocError::SeqZero);
        }
        Ok(InclusionProofDoc {
            ledger: w.ledger,
            seq: w.seq,
            tree_size: w.tree_size,
            leaf_hash: w.leaf_hash,
            path: w.path,
        })
    }
}

impl Serialize for InclusionProofDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("InclusionProofDoc", 6)?;
        st.serialize_field("format", INCLUSION_FORMAT)?;
        st.serialize_field("ledger", &self.ledger)?;
        st.serialize_field("seq", &self.seq)?;
        st.serialize_field("tree_size", &self.tree_size)?;
        st.serialize_field("leaf_hash", &self.leaf_hash)?;
        st.serialize_field("path", &self.path)?;
        st.end()
    }
}

impl InclusionProofDoc {
    /// The proof that event `seq` is in the tree of the first `tree_size` events;
    /// `leaf_hash_at(i)` gives the hash of the event at index `i` (seq `i + 1`).
    pub fn prove(
        ledger: &str,
        seq: u64,
        tree_size: u64,
        leaf_hash_at: impl Fn(u64) -> Hash,
    ) -> Result<Self, DocError> {
        check_ledger(ledger)?;
        let index = seq.checked_sub(1).ok_or(DocError::SeqZero)?;
        let path = inclusion_proof(index, tree_size, &leaf_hash_at)?;
        Ok(InclusionProofDoc {
            ledger: ledger.to_string(),
            seq,
            tree_size,
            leaf_hash: leaf_hash_at(index),
            path,
        })
    }

    /// Strictly parses the document's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DocError> {
        parse_wire::<InclusionWire>(bytes)?.try_into()
    }

    /// JCS bytes and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        doc_bytes(self)
    }

    /// Checks the proof against the root of the tree of `tree_size` leaves.
    pub fn verify(&self, root: &Hash) -> Result<(), DocError> {
        let index = self.seq.checked_sub(1).ok_or(DocError::SeqZero)?;
        verify_inclusion(index, self.tree_size, &self.leaf_hash, &self.path, root)?;
        Ok(())
    }

    /// Checks the proof against an opened checkpoint: same tree size, then its root.
    pub fn verify_checkpoint(&self, cp: &Checkpoint) -> Result<(), DocError> {
        if cp.size != self.tree_size {
            return Err(DocError::TreeSizeMismatch {
                doc: self.tree_size,
                checkpoint: cp.size,
            });
        }
        self.verify(&cp.root)
    }
}

/// A consistency proof (SPEC section 6, RFC 9162 section 2.1.4):
/// `{"format":"waymark-consistency/v1","ledger","old_size","new_size","path"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "ConsistencyWire")]
pub struct ConsistencyProofDoc {
    pub ledger: String,
    pub old_size: u64,
    pub new_size: u64,
    pub path: Vec<Hash>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyWire {
    format: String,
    ledger: String,
    old_size: u64,
    new_size: u64,
    path: Vec<Hash>,
}

impl TryFrom<ConsistencyWire> for ConsistencyProofDoc {
    type Error = DocError;
    fn try_from(w: ConsistencyWire) -> Result<Self, DocError> {
        check_format(CONSISTENCY_FORMAT, w.format)?;
        check_ledger(&w.ledger)?;
        Ok(ConsistencyProofDoc {
            ledger: w.ledger,
            old_size: w.old_size,
            new_size: w.new_size,
            path: w.path,
        })
    }
}

impl Serialize for ConsistencyProofDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("ConsistencyProofDoc", 5)?;
        st.serialize_field("format", CONSISTENCY_FORMAT)?;
        st.serialize_field("ledger", &self.ledger)?;
        st.serialize_field("old_size", &self.old_size)?;
        st.serialize_field("new_size", &self.new_size)?;
        st.serialize_field("path", &self.path)?;
        st.end()
    }
}

impl ConsistencyProofDoc {
    /// The proof that the tree of the first `new_size` events extends the tree of the
    /// first `old_size`; `leaf_hash_at(i)` gives the hash of the event at index `i`.
    pub fn prove(
        ledger: &str,
        old_size: u64,
        new_size: u64,
        leaf_hash_at: impl Fn(u64) -> Hash,
    ) -> Result<Self, DocError> {
        check_ledger(ledger)?;
        let path = consistency_proof(old_size, new_size, leaf_hash_at)?;
        Ok(ConsistencyProofDoc {
            ledger: ledger.to_string(),
            old_size,
            new_size,
            path,
        })
    }

    /// Strictly parses the document's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DocError> {
        parse_wire::<ConsistencyWire>(bytes)?.try_into()
    }

    /// JCS bytes and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        doc_bytes(self)
    }

    /// Checks the proof against the roots of the old and the new tree.
    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<(), DocError> {
        verify_consistency(self.old_size, self.new_size, old_root, new_root, &self.path)?;
        Ok(())
    }

    /// Checks the proof against two opened checkpoints (of the same log key): their
    /// sizes must be `old_size` and `new_size`, then their roots.
    pub fn verify_checkpoints(&self, old: &Checkpoint, new: &Checkpoint) -> Result<(), DocError> {
        for (doc, cp) in [(self.old_size, old), (self.new_size, new)] {
            if cp.size != doc {
                return Err(DocError::TreeSizeMismatch {
                    doc,
                    checkpoint: cp.size,
                });
            }
        }
        self.verify(&old.root, &new.root)
    }
}

/// A snapshot bundle (SPEC section 8):
/// `{"format":"waymark-snapshot/v1","ledger","tree_size","head_hash","checkpoint","status"}`.
///
/// `checkpoint` is the signed note text; `status` the status projection at
/// `tree_size` (any JSON object here: its contents are the projection's to check).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "SnapshotWire")]
pub struct SnapshotBundle {
    pub ledger: String,
    pub tree_size: u64,
    pub head_hash: Hash,
    pub checkpoint: String,
    pub status: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotWire {
    format: String,
    ledger: String,
    tree_size: u64,
    head_hash: Hash,
    checkpoint: String,
    status: Value,
}

impl TryFrom<SnapshotWire> for SnapshotBundle {
    type Error = DocError;
    fn try_from(w: SnapshotWire) -> Result<Self, DocError> {
        check_format(SNAPSHOT_FORMAT, w.format)?;
        check_ledger(&w.ledger)?;
        if !w.status.is_object() {
            return Err(DocError::Shape("status must be a JSON object".into()));
        }
        Ok(SnapshotBundle {
            ledger: w.ledger,
            tree_size: w.tree_size,
            head_hash: w.head_hash,
            checkpoint: w.checkpoint,
            status: w.status,
        })
    }
}

impl Serialize for SnapshotBundle {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("SnapshotBundle", 6)?;
        st.serialize_field("format", SNAPSHOT_FORMAT)?;
        st.serialize_field("ledger", &self.ledger)?;
        st.serialize_field("tree_size", &self.tree_size)?;
        st.serialize_field("head_hash", &self.head_hash)?;
        st.serialize_field("checkpoint", &self.checkpoint)?;
        st.serialize_field("status", &self.status)?;
        st.end()
    }
}

impl SnapshotBundle {
    /// Strictly parses a bundle's bytes (SPEC section 2 JSON, so the status projection
    /// may hold no floats or duplicate keys either).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DocError> {
        parse_wire::<SnapshotWire>(bytes)?.try_into()
    }

    /// The bundle's file bytes: JCS(bundle) and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        doc_bytes(self)
    }

    /// Opens the bundle's checkpoint with the log's verifier key and checks that its size
    /// is `tree_size`. The rest of SPEC section 8 (the root, `head_hash` and `status`
    /// against an export) needs the events and is the caller's.
    pub fn open_checkpoint(&self, key: &VerifierKey) -> Result<Checkpoint, DocError> {
        let cp = open_checkpoint(&self.checkpoint, key)?;
        if cp.size != self.tree_size {
            return Err(DocError::TreeSizeMismatch {
                doc: self.tree_size,
                checkpoint: cp.size,
            });
        }
        Ok(cp)
    }
}
