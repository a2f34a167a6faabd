//! What the server shares between requests: its limits and `App`.

use super::*;
use crate::error::Result;
use crate::files::KeyStore;
use crate::service::{AsOf, Waymark};
use axum::body::Bytes;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What the server allows its clients. The defaults are for a public log; tests
/// shorten the timeouts.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections at most (each holds a file descriptor). At the cap, a new
    /// connection makes the server close the one that has made no progress the
    /// longest (idle, half-way through its headers, or not reading its answer); only
    /// when every connection is in service is the new one answered 503.
    pub max_connections: usize,
    /// From a request's first byte to the end of its headers.
    pub header_read_timeout: Duration,
    /// A kept-alive connection with no request.
    pub idle_timeout: Duration,
    /// A client that reads none of its answer for this long is disconnected.
    pub write_timeout: Duration,
    /// From the end of a request's headers to its answer (408 past it).
    pub request_timeout: Duration,
    /// Shutdown lets requests in service finish for this long, then closes them.
    pub shutdown_grace: Duration,
    /// Bytes of answers larger than `SMALL_ANSWER` held in memory at once (for
    /// clients still reading them); past it, 503 instead of another such answer.
    pub body_budget: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            request_timeout: REQUEST_TIMEOUT,
            shutdown_grace: Duration::from_secs(10),
            body_budget: 64 * 1024 * 1024,
        }
    }
}

/// What the server shares between requests.
pub struct App {
    pub waymark: Waymark,
    /// Where the ledgers' log keys are (`_log.<ledger>.key`), to sign checkpoints.
    pub keys: KeyStore,
    /// The writer: posted statements queue here and are committed a group at a
    /// time, one transaction for all that queued meanwhile (`commit.rs`). Writes to
    /// a ledger take turns anyway (each `seq` is won by one writer), so within one
    /// process they share a commit instead of racing for it. Other processes
    /// (servers, CLIs) still write concurrently, through the optimistic-lock check
    /// and the writer lock.
    pub(super) committer: super::commit::Committer,
    pub limits: Limits,
    /// Bytes of large answers held (see `Limits::body_budget`).
    budget: Arc<tokio::sync::Semaphore>,
    /// The blocking workers that parse posted bodies and check their signatures
    /// before they queue for the writer (one per core): junk costs CPU there, but
    /// never time inside the one-writer section.
    pub(super) checks: tokio::sync::Semaphore,
    /// Dashboard pages rendered lately (see `dashboard::Pages`).
    pub(crate) pages: super::dashboard::Pages,
}

impl App {
    pub fn new(waymark: Waymark, keys: PathBuf) -> App {
        App::with_limits(waymark, keys, Limits::default())
    }

    pub fn with_limits(waymark: Waymark, keys: PathBuf, limits: Limits) -> App {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        App {
            waymark,
            keys: KeyStore::new(keys),
            committer: Default::default(),
            budget: Arc::new(tokio::sync::Semaphore::new(limits.body_budget)),
            limits,
            checks: tokio::sync::Semaphore::new(cores),
            pages: Default::default(),
        }
    }

    /// `bytes` as a body that holds its share of the answer budget until the last
    /// copy of it is dropped (sent, or its connection closed); 503 past the budget.
    pub(crate) fn hold(&self, bytes: Bytes) -> Result<Bytes, ApiError> {
        if bytes.len() <= SMALL_ANSWER {
            return Ok(bytes);
        }
        let permit = u32::try_from(bytes.len())
            .ok()
            .and_then(|n| self.budget.clone().try_acquire_many_owned(n).ok())
            .ok_or_else(|| {
                ApiError::Busy(format!(
                    "the server holds {} bytes of answers that clients have not read yet (its limit); retry shortly",
                    self.limits.body_budget
                ))
            })?;
        struct Held(Bytes, #[allow(dead_code)] tokio::sync::OwnedSemaphorePermit);
        impl AsRef<[u8]> for Held {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        Ok(Bytes::from_owner(Held(bytes, permit)))
    }

    /// 404 unless the store holds ledger `id`.
    pub(crate) async fn known(&self, id: &str) -> Result<(), ApiError> {
        if self.waymark.db().ledgers().await?.iter().any(|l| l == id) {
            Ok(())
        } else {
            Err(ApiError::NotFound(format!(
                "no ledger {id:?} in this store"
            )))
        }
    }

    /// The status projection of a ledger at an as-of point (`None`: the head). Its
    /// callers are the handlers whose `LedgerId` extractor has already answered 404
    /// for an unknown ledger, so it does not look the ledger up a second time.
    pub(crate) async fn status(
        &self,
        id: &str,
        as_of: Option<&str>,
    ) -> Result<waymark_projections::Status, ApiError> {
        let as_of = as_of.map(str::parse::<AsOf>).transpose()?;
        Ok(self.waymark.status(id, as_of.as_ref()).await?)
    }

    /// The log key of `ledger`, from the key store.
    pub(crate) fn log_key(&self, ledger: &str) -> Result<ed25519_dalek::SigningKey, ApiError> {
        self.keys.load(&self.keys.log_path(ledger)).map_err(|e| {
            ApiError::NoLogKey(format!(
                "this server cannot sign checkpoints of {ledger:?}: {e}"
            ))
        })
    }
}

pub type Shared = Arc<App>;
