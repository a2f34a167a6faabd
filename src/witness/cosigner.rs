//! `Witness`: a witness's key and state together, and `add-checkpoint` from a request
//! body to a cosignature or a refusal. The HTTP server (`server.rs`) and the offline
//! `witness cosign` both call [`Witness::add_checkpoint`], so they give the same
//! verdicts and update the same state the same way.

use crate::error::{Error, Result, StorageError};
use crate::witness::keys::{identity, Identity, WitnessDir};
use crate::witness::protocol::{parse_request, AddCheckpoint, ProtocolError};
use crate::witness::state::{CosignedRow, Evidence, State, Verdict};
use crate::witness::verdict::{judge, Refusal};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use waymark_events::{
    cosign, open_checkpoint, parse_verifier_key, split_note, Checkpoint, NoteError,
};

/// POSIX seconds now (0 if the clock is before 1970).
pub fn posix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A witness: who it is and what it has cosigned.
pub struct Witness {
    id: Identity,
    state: State,
    clock: fn() -> u64,
}

impl Witness {
    /// Creates a witness in `dir`: its key (0600), then its state file. Refused if a
    /// key or a state file is already there.
    pub async fn init(dir: &WitnessDir, name: &str) -> Result<Witness> {
        let id = dir.create_key(name)?;
        let state = State::create(&dir.state_path(), &id, posix_now()).await?;
        // The new files' directory entries, on disk before the vkey is printed.
        if let Ok(d) = std::fs::File::open(dir.path()) {
            let _ = d.sync_all();
        }
        Ok(Witness {
            id,
            state,
            clock: posix_now,
        })
    }

    /// Opens the witness in `dir`, checking that its key is the one recorded at init.
    pub async fn open(dir: &WitnessDir) -> Result<Witness> {
        let key = dir.load_key()?;
        let state = State::open(&dir.state_path()).await?.ok_or_else(|| {
            Error::Usage(format!(
                "{} holds a witness key but no state file {}: an interrupted `witness \
                 init`? (move the key away and run init again)",
                dir.path().display(),
                dir.state_path().display()
            ))
        })?;
        let (name, vkey) = state.witness().await?;
        let id = identity(&name, key)?;
        if id.vkey.vkey() != vkey {
            return Err(Error::Storage(StorageError::inconsistent(format!(
                "{} is not the key of the witness recorded in {} ({vkey})",
                dir.key_path().display(),
                dir.state_path().display()
            ))));
        }
        Ok(Witness {
            id,
            state,
            clock: posix_now,
        })
    }

    pub fn identity(&self) -> &Identity {
        &self.id
    }

    /// The verifier key: `name+keyid+base64(0x04 || key)`.
    pub fn vkey(&self) -> String {
        self.id.vkey.vkey()
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Registers a log by its verifier key (type 0x01, the key's name being the log's
    /// origin). Gives the origin, and whether it was new (false: the same key again).
    pub async fn add_log(&self, vkey: &str) -> Result<(String, bool)> {
        let vkey = vkey.trim();
        let key = parse_verifier_key(vkey).map_err(|e| {
            Error::BadInput(format!(
                "{vkey:?} is not a log verifier key (name+keyid+base64(0x01 || Ed25519 key), \
                 as in LedgerOpened's log_key): {e}"
            ))
        })?;
        let added = self.state.add_log(&key.name, vkey, (self.clock)()).await?;
        Ok((key.name, added))
    }

    /// `add-checkpoint`: parses the request, checks it and, when every check passes,
    /// records the new head durably and gives the cosignature. `Ok(Err(refusal))` is
    /// the witness's answer to a request it refuses; `Err` a failure of its own state.
    pub async fn add_checkpoint(&self, body: &[u8]) -> Result<Result<CosignedRow, Refusal>> {
        let (req, cp) = match self.opened(body).await? {
            Ok(v) => v,
            Err(r) => return Ok(Err(r)),
        };
        if req.old_size > cp.cp.size {
            return Ok(Err(Refusal::OldSizeTooLarge {
                old: req.old_size,
                size: cp.cp.size,
            }));
        }
        let now = (self.clock)();
        let text = cp.body_text.as_str();
        self.state
            .advance(&cp.cp.origin, |head| {
                if let Err(r) = judge(&req, &cp.cp, head) {
                    let evidence = r.is_evidence().then(|| Evidence {
                        origin: cp.cp.origin.clone(),
                        old_size: req.old_size,
                        size: cp.cp.size,
                        root: cp.cp.root,
                        note: req.note.clone(),
                        proof: req
                            .proof
                            .iter()
                            .map(|h| format!("{}\n", B64.encode(h.0)))
                            .collect(),
                        reason: r.to_string(),
                        received_at: now,
                    });
                    return Verdict::Refuse(r, evidence);
                }
                // A timestamp never earlier than the log's last one: "as of time t,
                // the largest tree seen" must not go back if the clock does.
                let at = now.max(head.cosigned_at.unwrap_or(0));
                match cosign(text, &self.id.name, &self.id.key, at) {
                    Ok(line) => Verdict::Cosign(CosignedRow {
                        origin: cp.cp.origin.clone(),
                        size: cp.cp.size,
                        root: cp.cp.root,
                        note: req.note.clone(),
                        cosignature: line,
                        cosigned_at: at,
                    }),
                    Err(e) => Verdict::Refuse(Refusal::Malformed(e.to_string()), None),
                }
            })
            .await
    }

    /// The request parsed, its checkpoint's log known and its signature verified.
    async fn opened(&self, body: &[u8]) -> Result<Result<(AddCheckpoint, Opened), Refusal>> {
        let req = match parse_request(body) {
            Ok(r) => r,
            Err(ProtocolError::TooLarge { limit }) => return Ok(Err(Refusal::TooLarge { limit })),
            Err(e @ ProtocolError::Malformed(_)) => {
                return Ok(Err(Refusal::Malformed(e.to_string())))
            }
        };
        let malformed = |e: NoteError| Refusal::Malformed(format!("the checkpoint: {e}"));
        let text = match split_note(&req.note) {
            Ok((text, _)) => text.to_string(),
            Err(e) => return Ok(Err(malformed(e))),
        };
        let cp = match Checkpoint::parse_body(&text) {
            Ok(cp) if cp.size > i64::MAX as u64 => {
                return Ok(Err(Refusal::Malformed(format!(
                    "the checkpoint's size {} is larger than 2^63 - 1",
                    cp.size
                ))))
            }
            Ok(cp) => cp,
            Err(e) => return Ok(Err(malformed(e))),
        };
        let Some(log) = self.state.log(&cp.origin).await? else {
            return Ok(Err(Refusal::UnknownLog { origin: cp.origin }));
        };
        let key = parse_verifier_key(&log.vkey).map_err(|e| {
            Error::Storage(StorageError::inconsistent(format!(
                "the stored key of log {:?} does not parse: {e}",
                log.origin
            )))
        })?;
        match open_checkpoint(&req.note, &key) {
            Ok(opened) if opened == cp => {}
            Ok(_) => return Ok(Err(Refusal::Malformed("the checkpoint changed".into()))),
            Err(
                e @ (NoteError::UnknownKey
                | NoteError::BadSignature
                | NoteError::WrongOrigin { .. }),
            ) => {
                return Ok(Err(Refusal::BadSignature {
                    origin: cp.origin,
                    why: e.to_string(),
                }))
            }
            Err(e) => return Ok(Err(malformed(e))),
        }
        Ok(Ok((
            req,
            Opened {
                cp,
                body_text: text,
            },
        )))
    }
}

/// A checkpoint whose log signature verified, and its note text (what is cosigned).
struct Opened {
    cp: Checkpoint,
    body_text: String,
}
