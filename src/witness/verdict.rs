//! What a witness answers to an `add-checkpoint` request, decided from the request
//! and the log's head alone (pure: no I/O). The order of the checks and each status
//! are C2SP tlog-witness's:
//!
//! | check | refusal | HTTP |
//! |---|---|---|
//! | the body is larger than the cap | `TooLarge` | 413 |
//! | the body or the checkpoint is malformed | `Malformed` | 400 |
//! | the checkpoint's origin is not a registered log | `UnknownLog` | 404 |
//! | no signature verifies against the log's key | `BadSignature` | 403 |
//! | old size > checkpoint size | `OldSizeTooLarge` | 400 |
//! | old size ≠ the size the witness last cosigned | `SizeMismatch` | 409, `text/x.tlog.size` |
//! | old size = checkpoint size, another root | `RootMismatch` | 409 |
//! | the consistency proof does not verify (or is not empty from 0 or between equal sizes) | `BadProof` | 422 |

use crate::error::Error;
use crate::witness::protocol::AddCheckpoint;
use crate::witness::state::LogState;
use waymark_events::{verify_consistency, Checkpoint};

/// Why a witness does not cosign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the request is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{0}")]
    Malformed(String),
    #[error("unknown log {origin:?}: this witness does not accept it (register it with `waymark witness add-log VKEY`)")]
    UnknownLog { origin: String },
    #[error("no signature on the checkpoint verifies against the key this witness trusts for {origin:?}: {why}")]
    BadSignature { origin: String, why: String },
    #[error("old size {old} is larger than the checkpoint's size {size}")]
    OldSizeTooLarge { old: u64, size: u64 },
    #[error("old size {old} is not the size of the latest checkpoint this witness cosigned for this log: {witness_size}")]
    SizeMismatch { old: u64, witness_size: u64 },
    #[error(
        "this witness cosigned another root at size {size}: refusing a second one (a split view?)"
    )]
    RootMismatch { size: u64 },
    #[error("the consistency proof from size {old} to size {size} does not verify: {why}")]
    BadProof { old: u64, size: u64, why: String },
}

impl Refusal {
    /// The HTTP status tlog-witness gives it.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::TooLarge { .. } => 413,
            Refusal::Malformed(_) | Refusal::OldSizeTooLarge { .. } => 400,
            Refusal::UnknownLog { .. } => 404,
            Refusal::BadSignature { .. } => 403,
            Refusal::SizeMismatch { .. } | Refusal::RootMismatch { .. } => 409,
            Refusal::BadProof { .. } => 422,
        }
    }

    /// The witness's size, for the 409 that carries it.
    pub fn witness_size(&self) -> Option<u64> {
        match self {
            Refusal::SizeMismatch { witness_size, .. } => Some(*witness_size),
            _ => None,
        }
    }

    /// Whether the refused checkpoint, validly signed by the log, contradicts what the
    /// witness cosigned (and is worth keeping as evidence).
    pub fn is_evidence(&self) -> bool {
        matches!(
            self,
            Refusal::RootMismatch { .. } | Refusal::BadProof { .. }
        )
    }

    /// As a command's error (`witness cosign`): a malformed or oversized request is
    /// bad input (exit 1, like any input that is not what it should be); every other
    /// refusal is a verification that failed (exit 3), with its HTTP status.
    pub fn into_error(self) -> Error {
        match self.status() {
            400 | 413 => Error::BadInput(format!("refused ({}): {self}", self.status())),
            status => Error::WitnessRefused {
                status,
                size: self.witness_size(),
                reason: self.to_string(),
            },
        }
    }
}

/// Judges a request whose checkpoint `cp` is validly signed by the log, against the
/// log's head (the latest checkpoint the witness cosigned for it): `Ok(())` to cosign.
pub fn judge(req: &AddCheckpoint, cp: &Checkpoint, head: &LogState) -> Result<(), Refusal> {
    let (old, size) = (req.old_size, cp.size);
    if old > size {
        return Err(Refusal::OldSizeTooLarge { old, size });
    }
    if old != head.size {
        return Err(Refusal::SizeMismatch {
            old,
            witness_size: head.size,
        });
    }
    let bad_proof = |why: &str| Refusal::BadProof {
        old,
        size,
        why: why.to_string(),
    };
    if old == size {
        // The same size again: the same root (the empty tree's at 0), or a fork.
        if cp.root != head.root {
            return Err(Refusal::RootMismatch { size });
        }
        if !req.proof.is_empty() {
            return Err(bad_proof("between equal sizes the proof is empty"));
        }
        return Ok(());
    }
    if old == 0 {
        // Every tree extends the empty one; there is nothing to prove.
        if !req.proof.is_empty() {
            return Err(bad_proof("the proof must be empty when the old size is 0"));
        }
        return Ok(());
    }
    verify_consistency(old, size, &head.root, &cp.root, &req.proof)
        .map_err(|e| bad_proof(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_events::{consistency_proof, empty_root, leaf_hash, root, Hash};

    fn leaves(n: u64, fork: u8) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&[i as u8, if i >= 5 { fork } else { 0 }]))
            .collect()
    }

    fn head(size: u64, root: Hash) -> LogState {
        LogState {
            origin: "o".into(),
            vkey: "k".into(),
            size,
            root,
            note: None,
            cosigned_at: None,
            added_at: 0,
        }
    }

    fn req(old: u64, proof: Vec<Hash>) -> AddCheckpoint {
        AddCheckpoint {
            old_size: old,
            proof,
            note: String::new(),
        }
    }

    fn cp(size: u64, root: Hash) -> Checkpoint {
        Checkpoint::new("o", size, root).unwrap()
    }

    #[test]
    fn each_check_gives_its_refusal_and_status() {
        let a = leaves(9, 1);
        let b = leaves(9, 2); // the same first 5 leaves, then another history
        let (ra5, ra9, rb9) = (root(&a[..5]), root(&a), root(&b));
        let proof = consistency_proof(5, 9, |i| a[i as usize]).unwrap();
        let at5 = head(5, ra5);
        // Growth with a valid proof; from 0 with none; the same head again.
        assert_eq!(judge(&req(5, proof.clone()), &cp(9, ra9), &at5), Ok(()));
        assert_eq!(
            judge(&req(0, vec![]), &cp(9, ra9), &head(0, empty_root())),
            Ok(())
        );
        assert_eq!(judge(&req(5, vec![]), &cp(5, ra5), &at5), Ok(()));
        let verdicts = [
            judge(&req(6, vec![]), &cp(5, ra5), &at5),
            judge(&req(3, vec![]), &cp(9, ra9), &at5),
            judge(&req(5, vec![]), &cp(5, Hash([7; 32])), &at5),
            judge(&req(5, proof.clone()), &cp(9, rb9), &at5),
            judge(&req(5, proof[1..].to_vec()), &cp(9, ra9), &at5),
            judge(&req(0, proof.clone()), &cp(9, ra9), &head(0, empty_root())),
            judge(&req(5, proof), &cp(5, ra5), &at5),
            judge(
                &req(0, vec![]),
                &cp(0, Hash([1; 32])),
                &head(0, empty_root()),
            ),
        ];
        let statuses: Vec<u16> = verdicts
            .iter()
            .map(|v| v.as_ref().unwrap_err().status())
            .collect();
        assert_eq!(statuses, [400, 409, 409, 422, 422, 422, 422, 409]);
        assert_eq!(verdicts[1].as_ref().unwrap_err().witness_size(), Some(5));
        assert_eq!(verdicts[2].as_ref().unwrap_err().witness_size(), None);
        assert!(verdicts[2].as_ref().unwrap_err().is_evidence());
    }

    #[test]
    fn refusals_become_errors_with_their_exit_codes() {
        let codes: Vec<i32> = [
            Refusal::Malformed("x".into()),
            Refusal::OldSizeTooLarge { old: 2, size: 1 },
            Refusal::UnknownLog { origin: "o".into() },
            Refusal::BadSignature {
                origin: "o".into(),
                why: "w".into(),
            },
            Refusal::SizeMismatch {
                old: 1,
                witness_size: 2,
            },
            Refusal::RootMismatch { size: 1 },
        ]
        .into_iter()
        .map(|r| r.into_error().exit_code())
        .collect();
        assert_eq!(codes, [1, 1, 3, 3, 3, 3]);
    }
}
