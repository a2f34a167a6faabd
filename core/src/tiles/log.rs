//! [`TiledLog`]: a tiled log's signed checkpoint, and proofs computed from its tiles.

use super::{max_tile_bytes, unverified_checkpoint, TileSource, MAX_CHECKPOINT_BYTES};
use crate::error::{Error, Result};
use crate::offline::TOFU_WARNING;
use crate::verdict::ProblemKind;
use waymark_events::{
    consistency_nodes, inclusion_nodes, leaf_hash, open_checkpoint, parse_bundle, parse_strict,
    parse_verifier_key, root_nodes, verify_consistency, verify_inclusion, Checkpoint,
    ConsistencyProofDoc, Event, Hash, InclusionProofDoc, NodeId, Payload, Tile, TileError,
    TileHashes, TileKind, VerifierKey,
};

/// A tiled log as one source shows it: its checkpoint, opened with the log key, and the
/// hash tiles read so far. Every proof and root it returns was computed from the few
/// tiles it needs and verified against the signed checkpoint first, so tiles from an
/// untrusted host can only make it fail, never make it answer wrongly.
pub struct TiledLog<'a> {
    source: &'a dyn TileSource,
    checkpoint: Checkpoint,
    note: String,
    ledger: String,
    hashes: TileHashes,
    read: usize,
}

fn failed(problem: ProblemKind, detail: impl Into<String>) -> Error {
    Error::Failed {
        problem,
        detail: detail.into(),
    }
}

impl<'a> TiledLog<'a> {
    /// Reads `checkpoint` from `source` and opens it with `key`; without one, with the
    /// log key that `LedgerOpened` (the first entry) declares, trusted on first use (the
    /// returned warnings say so), after checking that entry's inclusion in the
    /// checkpoint's tree. `ledger` is the ledger id the proofs name (default: the first
    /// entry's).
    pub fn open(
        source: &'a dyn TileSource,
        key: Option<&VerifierKey>,
        ledger: Option<&str>,
    ) -> Result<(TiledLog<'a>, Vec<String>)> {
        let at = source.locate("checkpoint");
        let bytes = source
            .read("checkpoint", MAX_CHECKPOINT_BYTES)?
            .ok_or_else(|| {
                Error::Io(format!("{at}: not found (the source holds no checkpoint)"))
            })?;
        let note = String::from_utf8(bytes)
            .map_err(|_| failed(ProblemKind::Malformed, format!("{at}: not UTF-8")))?;
        let claimed = unverified_checkpoint(&note).ok_or_else(|| {
            failed(
                ProblemKind::Malformed,
                format!("{at}: not a signed checkpoint note (C2SP tlog-checkpoint)"),
            )
        })?;
        let mut log = TiledLog {
            source,
            hashes: TileHashes::new(claimed.size),
            checkpoint: claimed,
            note,
            ledger: String::new(),
            read: 0,
        };
        let first = match (key, ledger) {
            (Some(_), Some(_)) => None,
            _ => Some(log.first_event()?),
        };
        let mut warnings = Vec::new();
        let key = match (key, &first) {
            (Some(k), _) => k.clone(),
            (None, Some((event, _))) => {
                let Payload::LedgerOpened(p) = &event.statement.payload else {
                    return Err(failed(
                        ProblemKind::Malformed,
                        "the first entry is not LedgerOpened, so it names no log key (pass --key)",
                    ));
                };
                warnings.push(TOFU_WARNING.to_string());
                parse_verifier_key(&p.log_key).map_err(|e| {
                    failed(ProblemKind::Malformed, format!("LedgerOpened.log_key: {e}"))
                })?
            }
            // Not reached: the first entry is read whenever no key is given.
            (None, None) => {
                return Err(Error::Usage(
                    "no log key to open the checkpoint with (pass --key)".into(),
                ))
            }
        };
        log.checkpoint = open_checkpoint(&log.note, &key).map_err(|e| {
            failed(
                ProblemKind::CheckpointMismatch,
                format!("{at}: with log key {}: {e}", key.name),
            )
        })?;
        log.ledger = match (ledger, &first) {
            (Some(id), Some((event, _))) if event.statement.ledger != id => {
                return Err(Error::Usage(format!(
                    "--ledger {id}: the log at {} is ledger {:?}",
                    source.locate(""),
                    event.statement.ledger
                )))
            }
            (Some(id), _) => id.to_string(),
            (None, Some((event, _))) => event.statement.ledger.clone(),
            (None, None) => String::new(),
        };
        if let Some((_, bytes)) = &first {
            // The entry the key came from is the first leaf of the signed tree.
            let size = log.checkpoint.size;
            log.fetch(&inclusion_nodes(0, size).map_err(tile_err)?)?;
            log.fetch(&[NodeId { level: 0, index: 0 }])?;
            let leaf = log.hashes.leaf(0).map_err(tile_err)?;
            let path = log.hashes.inclusion_proof(0, size).map_err(tile_err)?;
            let entry = leaf_hash(bytes);
            if entry != leaf {
                return Err(log.mismatch(format!(
                    "entry 0 hashes to {entry}, the level-0 tile holds {leaf}"
                )));
            }
            verify_inclusion(0, size, &leaf, &path, &log.checkpoint.root)
                .map_err(|e| log.mismatch(format!("entry 0: {e}")))?;
        }
        Ok((log, warnings))
    }

    /// The checkpoint, opened with the trusted key.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The signed note as read.
    pub fn note(&self) -> &str {
        &self.note
    }

    /// The ledger id the proofs name.
    pub fn ledger(&self) -> &str {
        &self.ledger
    }

    /// How many tiles and bundles were read so far (the checkpoint not counted).
    pub fn tiles_read(&self) -> usize {
        self.read
    }

    /// The hash tiles read so far, for nodes not asked through a proof.
    pub fn hashes(&self) -> &TileHashes {
        &self.hashes
    }

    /// Reads `tile` (a tile of the checkpoint's tree): a missing one is `truncated`, since
    /// the signed checkpoint says it exists.
    pub fn read_tile(&mut self, tile: &Tile) -> Result<Vec<u8>> {
        let name = tile.path();
        self.read += 1;
        self.source
            .read(&name, max_tile_bytes(tile))?
            .ok_or_else(|| {
                failed(
                    ProblemKind::Truncated,
                    format!(
                        "{} is missing, and the checkpoint of size {} needs it",
                        self.source.locate(&name),
                        self.checkpoint.size
                    ),
                )
            })
    }

    /// Reads the hash tiles the nodes `ids` need that were not read yet.
    pub fn fetch(&mut self, ids: &[NodeId]) -> Result<()> {
        for tile in self.hashes.missing(ids).map_err(tile_err)? {
            let bytes = self.read_tile(&tile)?;
            self.hashes.insert(tile, &bytes).map_err(|e| {
                failed(
                    ProblemKind::Malformed,
                    format!("{}: {e}", self.source.locate(&tile.path())),
                )
            })?;
        }
        Ok(())
    }

    /// The root of the first `size` entries (1 ≤ size ≤ the checkpoint's), from the
    /// tiles, verified against the checkpoint (by a consistency proof, also from the
    /// tiles, when `size` is smaller).
    pub fn root(&mut self, size: u64) -> Result<Hash> {
        let s = self.checkpoint.size;
        self.check_size(size, "size")?;
        if size == s {
            return Ok(self.checkpoint.root);
        }
        let mut ids = root_nodes(size);
        ids.extend(consistency_nodes(size, s).map_err(tile_err)?);
        self.fetch(&ids)?;
        let root = self.hashes.root(size).map_err(tile_err)?;
        let proof = self.hashes.consistency_proof(size, s).map_err(tile_err)?;
        verify_consistency(size, s, &root, &self.checkpoint.root, &proof)
            .map_err(|e| self.mismatch(format!("the root at size {size}: {e}")))?;
        Ok(root)
    }

    /// The inclusion proof of event `seq` in the tree of the first `size` events
    /// (default: the checkpoint's size), verified before it is returned.
    pub fn prove_inclusion(&mut self, seq: u64, size: Option<u64>) -> Result<InclusionProofDoc> {
        let size = size.unwrap_or(self.checkpoint.size);
        self.check_size(size, "--size")?;
        if seq == 0 || seq > size {
            return Err(Error::BadInput(format!(
                "prove inclusion {seq}: the tree of size {size} holds seq 1..{size}"
            )));
        }
        let index = seq - 1;
        let mut ids = inclusion_nodes(index, size).map_err(tile_err)?;
        ids.push(NodeId { level: 0, index });
        self.fetch(&ids)?;
        let doc = InclusionProofDoc {
            ledger: self.ledger.clone(),
            seq,
            tree_size: size,
            leaf_hash: self.hashes.leaf(index).map_err(tile_err)?,
            path: self.hashes.inclusion_proof(index, size).map_err(tile_err)?,
        };
        let root = self.root(size)?;
        doc.verify(&root)
            .map_err(|e| self.mismatch(format!("inclusion of seq {seq} at size {size}: {e}")))?;
        Ok(doc)
    }

    /// The consistency proof between the trees of the first `old` and `new` events
    /// (`new` at most the checkpoint's size), verified before it is returned.
    pub fn prove_consistency(&mut self, old: u64, new: u64) -> Result<ConsistencyProofDoc> {
        self.check_size(new, "prove consistency: new size")?;
        if old == 0 || old > new {
            return Err(Error::BadInput(format!(
                "prove consistency {old} {new}: need 1 <= OLD <= NEW"
            )));
        }
        let mut ids = consistency_nodes(old, new).map_err(tile_err)?;
        ids.extend(root_nodes(old));
        self.fetch(&ids)?;
        let doc = ConsistencyProofDoc {
            ledger: self.ledger.clone(),
            old_size: old,
            new_size: new,
            path: self.hashes.consistency_proof(old, new).map_err(tile_err)?,
        };
        let old_root = self.hashes.root(old).map_err(tile_err)?;
        let new_root = self.root(new)?;
        doc.verify(&old_root, &new_root)
            .map_err(|e| self.mismatch(format!("consistency {old} -> {new}: {e}")))?;
        Ok(doc)
    }

    fn check_size(&self, size: u64, what: &str) -> Result<()> {
        let s = self.checkpoint.size;
        if size == 0 || size > s {
            return Err(Error::BadInput(format!(
                "{what} {size}: the checkpoint at {} is of size {s} (seq 1..{s})",
                self.source.locate("checkpoint")
            )));
        }
        Ok(())
    }

    fn mismatch(&self, detail: String) -> Error {
        failed(
            ProblemKind::CheckpointMismatch,
            format!(
                "the tiles at {} do not match the signed checkpoint of size {}: {detail}",
                self.source.locate(""),
                self.checkpoint.size
            ),
        )
    }

    /// The first entry: the event and its leaf bytes, as the bundle holds them (their
    /// hash is checked against the tree by the caller).
    fn first_event(&mut self) -> Result<(Event, Vec<u8>)> {
        let size = self.checkpoint.size;
        let tile = Tile::at(TileKind::Entries, 0, size).ok_or_else(|| {
            failed(
                ProblemKind::Truncated,
                "the checkpoint is of the empty tree: no entry, no LedgerOpened",
            )
        })?;
        let at = self.source.locate(&tile.path());
        let bytes = self.read_tile(&tile)?;
        let entries = parse_bundle(&tile, &bytes)
            .map_err(|e| failed(ProblemKind::Malformed, format!("{at}: {e}")))?;
        let entry = entries.first().copied().unwrap_or_default();
        let value = parse_strict(entry).map_err(|e| {
            failed(
                ProblemKind::Malformed,
                format!("{at}: entry 0 is not strict JSON: {e}"),
            )
        })?;
        let event = Event::from_value(&value)
            .map_err(|e| failed(ProblemKind::Malformed, format!("{at}: entry 0: {e}")))?;
        if event.leaf_bytes() != entry {
            return Err(failed(
                ProblemKind::HashMismatch,
                format!("{at}: entry 0 is not JCS(event)"),
            ));
        }
        Ok((event, entry.to_vec()))
    }
}

fn tile_err(e: impl Into<TileError>) -> Error {
    failed(ProblemKind::Malformed, e.into().to_string())
}
