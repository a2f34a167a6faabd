//! The log's side of C2SP tlog-witness: sends a checkpoint with a consistency proof
//! to a witness's `add-checkpoint` and says what it answered. Blocking (ureq): call it
//! from a blocking context (`tokio::task::spawn_blocking` in async code).
//!
//! | the witness answered | [`submit`] gives |
//! |---|---|
//! | 200 and signature lines | `Ok(Outcome::Cosigned(lines))`, not yet verified: see [`accept_cosignature`] |
//! | 409 `text/x.tlog.size` | `Ok(Outcome::SizeMismatch { witness_size })`: retry with a proof from that size |
//! | 200 with anything else, any 3xx, 4xx but 408 and 429, or a 409 over another root | `Ok(Outcome::Refused { status, reason })` |
//! | no connection, a timeout, 408, 429 or 5xx | `Err(Unreachable)` |
//!
//! A refusal is the witness's verdict on the checkpoint (`publish` exits 3 with its
//! reason: [`Outcome::into_result`] gives that error); unreachable is the witness's
//! or the network's state, worth a retry later (exit 4: `From<Unreachable> for Error`).

use crate::error::{Error, Result, StorageError};
use crate::witness::protocol::{
    encode_request, parse_cosignature_lines, parse_size_answer, MAX_ANSWER_BYTES, SIZE_CONTENT_TYPE,
};
use std::io::Read;
use std::time::Duration;
use waymark_events::{
    add_signature_lines, check_cosignatures, parse_signature_line, CosignatureCheck, CosignerKey,
    Hash, NoteError,
};

/// The default time a witness is given to connect and to answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What a witness answered to one `add-checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 200: its cosignature line(s), each `— name base64\n`, not yet verified.
    Cosigned(String),
    /// 409 with `text/x.tlog.size`: the old size sent is not the size of the latest
    /// checkpoint it cosigned for this log, which is `witness_size`.
    SizeMismatch { witness_size: u64 },
    /// Any other answer: it refuses this checkpoint (bad signature, unknown log,
    /// proof that does not verify, another root at a size it cosigned…), with its
    /// HTTP status and its reason (the answer's text, at most 1,000 characters).
    Refused { status: u16, reason: String },
}

impl Outcome {
    /// The cosignature lines, or the error a refusal is (exit 3): a size mismatch
    /// left after retrying is a refusal too (the witness has cosigned a tree this
    /// checkpoint cannot be proved to extend).
    pub fn into_result(self, url: &str) -> Result<String> {
        match self {
            Outcome::Cosigned(lines) => Ok(lines),
            Outcome::SizeMismatch { witness_size } => Err(Error::WitnessRefused {
                status: 409,
                size: Some(witness_size),
                reason: format!(
                    "witness {url} has cosigned this log at size {witness_size}, which \
                     this checkpoint does not extend"
                ),
            }),
            Outcome::Refused { status, reason } => Err(Error::WitnessRefused {
                status,
                size: None,
                reason: format!("witness {url}: {reason}"),
            }),
        }
    }
}

/// The witness could not be asked: no connection, a timeout, or it answered that it
/// cannot serve now (408, 429, 5xx).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("witness {url} unreachable: {reason}")]
pub struct Unreachable {
    pub url: String,
    pub reason: String,
    /// Whether it was a timeout.
    pub timed_out: bool,
}

impl From<Unreachable> for Error {
    fn from(u: Unreachable) -> Error {
        Error::Storage(StorageError::server(u.to_string()))
    }
}

/// A client of witnesses, keeping connections alive between requests.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    timeout: Duration,
}

impl Default for Client {
    fn default() -> Client {
        Client::new(DEFAULT_TIMEOUT)
    }
}

/// `submit` with a default client: one request, [`DEFAULT_TIMEOUT`].
pub fn submit(
    url_prefix: &str,
    old_size: u64,
    proof: &[Hash],
    checkpoint_note: &str,
) -> Result<Outcome, Unreachable> {
    Client::default().submit(url_prefix, old_size, proof, checkpoint_note)
}

impl Client {
    /// A client whose connections, reads and writes each time out after `timeout`.
    pub fn new(timeout: Duration) -> Client {
        Client {
            agent: ureq::AgentBuilder::new()
                .timeout_connect(timeout)
                .timeout_read(timeout)
                .timeout_write(timeout)
                // A redirect is an answer (a refusal), not a new witness to post to.
                .redirects(0)
                .build(),
            timeout,
        }
    }

    /// Posts one `add-checkpoint` to `url_prefix` (the witness's submission prefix,
    /// e.g. `https://witness.example/`): the checkpoint note (signed by the log),
    /// the size of the latest checkpoint the caller believes the witness cosigned,
    /// and the consistency proof from it (empty from 0).
    pub fn submit(
        &self,
        url_prefix: &str,
        old_size: u64,
        proof: &[Hash],
        checkpoint_note: &str,
    ) -> Result<Outcome, Unreachable> {
        let url = format!("{}/add-checkpoint", url_prefix.trim_end_matches('/'));
        let body = encode_request(old_size, proof, checkpoint_note);
        let unreachable = |reason: String, timed_out: bool| Unreachable {
            url: url.clone(),
            reason,
            timed_out,
        };
        let sent = self
            .agent
            .post(&url)
            .set("content-type", "text/plain; charset=utf-8")
            .send_bytes(body.as_bytes());
        let resp = match sent {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => {
                let timed_out = std::error::Error::source(&t)
                    .and_then(|s| s.downcast_ref::<std::io::Error>())
                    .is_some_and(|e| {
                        matches!(
                            e.kind(),
                            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                        )
                    });
                let reason = if timed_out {
                    format!("no answer within {} s: {t}", self.timeout.as_secs_f64())
                } else {
                    t.to_string()
                };
                return Err(unreachable(reason, timed_out));
            }
        };
        let status = resp.status();
        let ctype = resp.content_type().to_ascii_lowercase();
        let location = resp.header("location").map(str::to_owned);
        let mut raw = Vec::new();
        resp.into_reader()
            .take(MAX_ANSWER_BYTES as u64 + 1)
            .read_to_end(&mut raw)
            .map_err(|e| {
                let timed_out = matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                );
                unreachable(format!("reading its answer: {e}"), timed_out)
            })?;
        let refused = |reason: String| Ok(Outcome::Refused { status, reason });
        if raw.len() > MAX_ANSWER_BYTES {
            return refused(format!(
                "its answer is larger than {MAX_ANSWER_BYTES} bytes"
            ));
        }
        let text = String::from_utf8_lossy(&raw);
        let said: String = text.trim().chars().take(1000).collect();
        match status {
            200 => match parse_cosignature_lines(&text) {
                Ok(_) => Ok(Outcome::Cosigned(text.into_owned())),
                Err(e) => refused(format!("its 200 answer is not cosignature lines: {e}")),
            },
            409 if ctype == SIZE_CONTENT_TYPE => match parse_size_answer(&text) {
                Some(witness_size) => Ok(Outcome::SizeMismatch { witness_size }),
                None => refused(format!("its 409 answer is not a tree size: {said:?}")),
            },
            408 | 429 | 500..=599 => {
                Err(unreachable(format!("it answered {status}: {said}"), false))
            }
            300..=399 => refused(format!(
                "it answered {status} (a redirect to {}); give the witness's own URL",
                location.as_deref().unwrap_or("nowhere")
            )),
            _ => refused(if said.is_empty() {
                format!("it answered {status}")
            } else {
                said
            }),
        }
    }

    /// Submits a checkpoint of `size`, first from `old_size` (the size the caller last
    /// knew the witness at; 0 if none); when the witness answers with another size
    /// not above `size`, submits again with `prove(witness_size)`, the proof from that
    /// size (called only for 0 < witness_size < size), at most three times in all
    /// (the witness may move between two requests).
    pub fn add_checkpoint(
        &self,
        url_prefix: &str,
        size: u64,
        checkpoint_note: &str,
        old_size: u64,
        mut prove: impl FnMut(u64) -> Result<Vec<Hash>>,
    ) -> Result<Outcome> {
        let mut old = old_size;
        let mut last = None;
        for _ in 0..3 {
            let proof = if old == 0 || old >= size {
                Vec::new()
            } else {
                prove(old)?
            };
            match self.submit(url_prefix, old, &proof, checkpoint_note)? {
                Outcome::SizeMismatch { witness_size }
                    if witness_size <= size && witness_size != old =>
                {
                    old = witness_size;
                    last = Some(Outcome::SizeMismatch { witness_size });
                }
                outcome => return Ok(outcome),
            }
        }
        Ok(last.unwrap_or(Outcome::SizeMismatch { witness_size: old }))
    }
}

/// Why a witness's answer was not accepted as its cosignature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureRejected {
    #[error("the answer carries no cosignature by witness {0}")]
    Missing(String),
    #[error("the cosignature by witness {0} does not verify: {1}")]
    Bad(String, &'static str),
    #[error("the note or the answer is not well formed: {0}")]
    Malformed(#[from] NoteError),
}

/// Checks a witness's answer against the one witness key the caller trusts for it,
/// and gives the note with that witness's cosignature line added (lines by any
/// other key are dropped, as tlog-witness asks) and the cosignature's time.
pub fn accept_cosignature(
    note: &str,
    lines: &str,
    witness: &CosignerKey,
) -> Result<(String, u64), CosignatureRejected> {
    let mine: String = lines
        .split_terminator('\n')
        .filter(|l| {
            parse_signature_line(l).is_ok_and(|s| s.name == witness.name && s.id() == witness.id)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    if mine.is_empty() {
        return Err(CosignatureRejected::Missing(witness.vkey()));
    }
    let cosigned = add_signature_lines(note, &mine)?;
    match check_cosignatures(&cosigned, std::slice::from_ref(witness))?.pop() {
        Some(CosignatureCheck::Valid { timestamp }) => Ok((cosigned, timestamp)),
        Some(CosignatureCheck::Bad(why)) => Err(CosignatureRejected::Bad(witness.vkey(), why)),
        _ => Err(CosignatureRejected::Missing(witness.vkey())),
    }
}
