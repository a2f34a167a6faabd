//! The artifact checks, once the log has verified: snapshots, the previous
//! snapshot's consistency, inclusion and consistency proofs.

use super::plan::Plan;
use super::{show_key, Doc, Fail};
use crate::verdict::ProblemKind;
use serde_json::Value;
use waymark_events::{
    canonical_bytes, consistency_proof_from, open_checkpoint, verify_consistency, Checkpoint,
    ConsistencyProofDoc, Hash, InclusionProofDoc, NoteError, SnapshotBundle, VerifierKey,
};

/// The artifact checks, once the log has verified.
pub(super) struct Checks<'a> {
    pub(super) ledger: &'a str,
    pub(super) origin: &'a str,
    pub(super) key: &'a VerifierKey,
    /// The number of events in the log.
    pub(super) n: u64,
    pub(super) log_root: Hash,
    pub(super) plan: &'a Plan,
}

type Checked<T> = std::result::Result<T, Fail>;

impl Checks<'_> {
    fn same_ledger(&self, ledger: &str, what: &str) -> Checked<()> {
        if ledger == self.ledger {
            Ok(())
        } else {
            Err(Fail::new(
                ProblemKind::Malformed,
                format!(
                    "{what} is for ledger {ledger:?}, the log is ledger {:?}",
                    self.ledger
                ),
            ))
        }
    }

    /// Parsed, for this ledger, its checkpoint opened with the trusted key, of its
    /// `tree_size` and the log's origin, and within the log.
    pub(super) fn open_bundle<'b>(
        &self,
        doc: &'b Doc<SnapshotBundle>,
        what: &str,
    ) -> Checked<(&'b SnapshotBundle, Checkpoint)> {
        let bundle = doc
            .as_ref()
            .map_err(|e| Fail::new(ProblemKind::Malformed, e.to_string()))?;
        self.same_ledger(&bundle.ledger, what)?;
        if bundle.tree_size == 0 {
            return Err(Fail::new(
                ProblemKind::Malformed,
                format!("{what}: tree_size is 0 (a snapshot covers at least seq 1)"),
            ));
        }
        let cp = self.open_note(&bundle.checkpoint, what)?;
        if cp.size != bundle.tree_size {
            return Err(Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "{what}: the checkpoint is for tree size {}, the bundle's tree_size is {}",
                    cp.size, bundle.tree_size
                ),
            ));
        }
        if cp.origin != self.origin {
            return Err(Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "{what}: checkpoint origin {:?} is not the ledger's origin {:?}",
                    cp.origin, self.origin
                ),
            ));
        }
        if cp.size > self.n {
            return Err(Fail::new(
                ProblemKind::Truncated,
                format!(
                    "{what} covers {} events, the export has {}",
                    cp.size, self.n
                ),
            ));
        }
        Ok((bundle, cp))
    }

    /// A signed checkpoint of the whole log: opened with the trusted key, of the log's
    /// origin, size and root.
    pub(super) fn checkpoint_note(&self, note: &str, what: &str) -> Checked<Checkpoint> {
        let cp = self.open_note(note, what)?;
        if cp.origin != self.origin {
            return Err(Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "{what}: checkpoint origin {:?} is not the ledger's origin {:?}",
                    cp.origin, self.origin
                ),
            ));
        }
        if cp.size != self.n {
            let problem = if cp.size > self.n {
                ProblemKind::Truncated
            } else {
                ProblemKind::CheckpointMismatch
            };
            return Err(Fail::new(
                problem,
                format!(
                    "{what} is for tree size {}, the log has {} events",
                    cp.size, self.n
                ),
            ));
        }
        if cp.root != self.log_root {
            return Err(Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "{what}: root {}, the root of the log's {} events is {}",
                    cp.root, self.n, self.log_root
                ),
            ));
        }
        Ok(cp)
    }

    /// A checkpoint note opened with the trusted key: a signature that fails, or none
    /// by the key, is `checkpoint_mismatch`; a note that is not one, `malformed`.
    fn open_note(&self, note: &str, what: &str) -> Checked<Checkpoint> {
        open_checkpoint(note, self.key).map_err(|e| {
            let problem = match e {
                NoteError::UnknownKey | NoteError::BadSignature | NoteError::WrongOrigin { .. } => {
                    ProblemKind::CheckpointMismatch
                }
                _ => ProblemKind::Malformed,
            };
            Fail::new(
                problem,
                format!(
                    "{what}: checkpoint with log key {}: {e}",
                    show_key(self.key)
                ),
            )
        })
    }

    /// SPEC section 8 against the log: root, head hash and status at `tree_size`.
    pub(super) fn bundle_matches_log(
        &self,
        bundle: &SnapshotBundle,
        cp: &Checkpoint,
        what: &str,
    ) -> Checked<()> {
        let size = cp.size;
        let root = self.plan.root(size).ok_or_else(|| self.missing(size))?;
        if root != cp.root {
            return Err(Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "{what}: the root of the first {size} events of the export is {root}, the checkpoint's is {}",
                    cp.root
                ),
            ));
        }
        let head = self.plan.leaf(size).ok_or_else(|| self.missing(size))?;
        if head != bundle.head_hash {
            return Err(Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "{what}: head_hash {} is not the hash {head} of seq {size}",
                    bundle.head_hash
                ),
            ));
        }
        let computed = self
            .plan
            .statuses
            .get(&size)
            .and_then(Option::as_ref)
            .ok_or_else(|| self.missing(size))?;
        if canonical_bytes(computed) != canonical_bytes(&bundle.status) {
            let diff = first_difference(computed, &bundle.status, "status")
                .unwrap_or_else(|| "status differs".into());
            return Err(Fail::new(
                ProblemKind::StatusMismatch,
                format!("{what}: the status projection recomputed at seq {size} differs: {diff}"),
            ));
        }
        Ok(())
    }

    pub(super) fn snapshot<'b>(
        &self,
        doc: &'b Doc<SnapshotBundle>,
        what: &str,
    ) -> Checked<(&'b SnapshotBundle, Checkpoint)> {
        let (bundle, cp) = self.open_bundle(doc, what)?;
        self.bundle_matches_log(bundle, &cp, what)?;
        Ok((bundle, cp))
    }

    /// The log (up to the new checkpoint's size, or all of it) extends the previous
    /// checkpoint: a consistency proof computed from the log's nodes verifies between
    /// the two roots. Returns the new size.
    pub(super) fn consistent(&self, old: &Checkpoint, new_cp: Option<&Checkpoint>) -> Checked<u64> {
        let (new, new_root, new_name) = match new_cp {
            Some(cp) => (cp.size, cp.root, "the --snapshot checkpoint"),
            None => (self.n, self.log_root, "the export"),
        };
        if old.size > new {
            return Err(Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "--prev-snapshot is for tree size {}, later than {new_name} (size {new})",
                    old.size
                ),
            ));
        }
        let mut missing = false;
        let proof = consistency_proof_from(old.size, new, |id| {
            self.plan
                .nodes
                .get(&id)
                .copied()
                .flatten()
                .unwrap_or_else(|| {
                    missing = true;
                    Hash::ZERO
                })
        });
        let proof = match proof {
            Ok(p) if !missing => p,
            Ok(_) => return Err(self.missing(new)),
            Err(e) => {
                return Err(Fail::new(
                    ProblemKind::CheckpointMismatch,
                    format!("consistency {} -> {new}: {e}", old.size),
                ))
            }
        };
        if let Err(e) = verify_consistency(old.size, new, &old.root, &new_root, &proof) {
            let at_old = self.plan.root(old.size);
            let why = if at_old.is_some_and(|r| r != old.root) {
                format!(
                    "the first {} events of the export have root {}, the previous checkpoint says {}",
                    old.size,
                    at_old.unwrap_or(Hash::ZERO),
                    old.root
                )
            } else {
                e.to_string()
            };
            return Err(Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "{new_name} (size {new}) does not extend --prev-snapshot (size {}): {why}",
                    old.size
                ),
            ));
        }
        Ok(new)
    }

    pub(super) fn inclusion<'b>(
        &self,
        doc: &'b Doc<InclusionProofDoc>,
    ) -> Checked<&'b InclusionProofDoc> {
        let d = doc
            .as_ref()
            .map_err(|e| Fail::new(ProblemKind::Malformed, e.to_string()))?;
        self.same_ledger(&d.ledger, "--inclusion")?;
        if d.tree_size > self.n {
            return Err(Fail::new(
                ProblemKind::Truncated,
                format!(
                    "--inclusion is at tree size {}, the export has {} events",
                    d.tree_size, self.n
                ),
            ));
        }
        if d.seq > d.tree_size {
            return Err(Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "--inclusion: seq {} is not in a tree of size {}",
                    d.seq, d.tree_size
                ),
            ));
        }
        let leaf = self.plan.leaf(d.seq).ok_or_else(|| self.missing(d.seq))?;
        if leaf != d.leaf_hash {
            return Err(Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "--inclusion: leaf_hash {} is not the hash {leaf} of seq {}",
                    d.leaf_hash, d.seq
                ),
            ));
        }
        let root = self
            .plan
            .root(d.tree_size)
            .ok_or_else(|| self.missing(d.tree_size))?;
        d.verify(&root).map_err(|e| {
            Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "--inclusion of seq {} at tree size {} does not verify against the export's root {root}: {e}",
                    d.seq, d.tree_size
                ),
            )
        })?;
        Ok(d)
    }

    pub(super) fn consistency<'b>(
        &self,
        doc: &'b Doc<ConsistencyProofDoc>,
    ) -> Checked<&'b ConsistencyProofDoc> {
        let d = doc
            .as_ref()
            .map_err(|e| Fail::new(ProblemKind::Malformed, e.to_string()))?;
        self.same_ledger(&d.ledger, "--consistency")?;
        for (size, name) in [(d.old_size, "old_size"), (d.new_size, "new_size")] {
            if size > self.n {
                return Err(Fail::new(
                    ProblemKind::Truncated,
                    format!(
                        "--consistency: {name} {size} is beyond the export ({} events)",
                        self.n
                    ),
                ));
            }
        }
        let old = self
            .plan
            .root(d.old_size)
            .ok_or_else(|| self.missing(d.old_size))?;
        let new = self
            .plan
            .root(d.new_size)
            .ok_or_else(|| self.missing(d.new_size))?;
        d.verify(&old, &new).map_err(|e| {
            Fail::new(
                ProblemKind::CheckpointMismatch,
                format!(
                    "--consistency {} -> {} does not verify against the export's roots: {e}",
                    d.old_size, d.new_size
                ),
            )
        })?;
        Ok(d)
    }

    /// A value the stream should have captured but did not (cannot happen for sizes
    /// within the log; reported rather than panicking).
    fn missing(&self, size: u64) -> Fail {
        Fail::new(
            ProblemKind::Truncated,
            format!(
                "nothing recorded at size {size} while streaming the export ({} events)",
                self.n
            ),
        )
    }
}

/// The first place where the computed and the given JSON differ, as a path
/// (`status.milestones[2].status: computed "achieved", given "in_progress"`).
fn first_difference(computed: &Value, given: &Value, path: &str) -> Option<String> {
    match (computed, given) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| match (a.get(k), b.get(k)) {
                (Some(x), Some(y)) => first_difference(x, y, &format!("{path}.{k}")),
                (Some(_), None) => Some(format!("{path}.{k} is missing from the given status")),
                _ => Some(format!("{path}.{k} is not in the computed status")),
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() != b.len() => Some(format!(
            "{path}: computed {} items, given {}",
            a.len(),
            b.len()
        )),
        (Value::Array(a), Value::Array(b)) => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]"))),
        _ if canonical_bytes(computed) == canonical_bytes(given) => None,
        _ => Some(format!("{path}: computed {computed}, given {given}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_named_by_path() {
        let a = serde_json::json!({"a": [1, {"b": "x"}], "c": null});
        let b = serde_json::json!({"a": [1, {"b": "y"}], "c": null});
        assert_eq!(
            first_difference(&a, &b, "status").unwrap(),
            "status.a[1].b: computed \"x\", given \"y\""
        );
        let c = serde_json::json!({"a": [1, {"b": "x"}]});
        assert_eq!(
            first_difference(&a, &c, "status").unwrap(),
            "status.c is missing from the given status"
        );
        assert_eq!(first_difference(&a, &a, "status"), None);
    }
}
