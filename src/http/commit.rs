//! The server's writer (issue 17, group commit): `POST statements` requests queue
//! their prechecked statements here; whoever holds the writer's turn takes everything
//! queued, has `Waymark::record_group` judge each submission in order (against the
//! state including those accepted before it) and commit the accepted ones in one
//! transaction, then answers each. Eight clients posting at once pay one commit
//! between them, not eight in a row.
//!
//! The turn is taken by a task of its own for each request, not by the request: a
//! client that goes away (or a request that times out) while its turn commits others'
//! statements does not cancel that commit, and every queued request is answered.

use crate::error::{Error, Result, StorageError};
use crate::ledger::Signed;
use crate::service::{Recorded, Waymark};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Statements one turn commits at most (the rest wait for the next turn): bounds
/// the transaction and the latency of the requests in it.
const MAX_STATEMENTS_PER_TURN: usize = 4096;

struct Queued {
    ledger: String,
    statements: Vec<Signed>,
    reply: oneshot::Sender<Result<Vec<Recorded>>>,
}

/// The queue of submissions and the writer's turn.
#[derive(Default)]
pub(crate) struct Committer {
    queue: Mutex<Vec<Queued>>,
    turn: tokio::sync::Mutex<()>,
}

impl Committer {
    /// Queues `statements` (all or none of them) and waits for their turn's answer:
    /// their places once committed (durable), or why they were refused.
    pub(crate) async fn record(
        app: &Arc<super::App>,
        ledger: &str,
        statements: Vec<Signed>,
    ) -> Result<Vec<Recorded>> {
        let (reply, answer) = oneshot::channel();
        app.committer
            .queue
            .lock()
            .map_err(|_| internal("the write queue"))?
            .push(Queued {
                ledger: ledger.to_string(),
                statements,
                reply,
            });
        let app = app.clone();
        tokio::spawn(async move { app.committer.take_turn(&app.waymark).await });
        answer
            .await
            .map_err(|_| internal("the writer stopped before answering"))?
    }

    /// One turn: everything queued (up to the cap), by ledger in arrival order.
    async fn take_turn(&self, waymark: &Waymark) {
        let _turn = self.turn.lock().await;
        let batch = match self.queue.lock() {
            Ok(mut q) => {
                let mut n = 0;
                let take = q
                    .iter()
                    .take_while(|s| {
                        n += s.statements.len();
                        n <= MAX_STATEMENTS_PER_TURN
                    })
                    .count()
                    .max(1)
                    .min(q.len());
                q.drain(..take).collect::<Vec<_>>()
            }
            Err(_) => return,
        };
        let mut ledgers: Vec<(String, Vec<Queued>)> = Vec::new();
        for s in batch {
            match ledgers.iter_mut().find(|(l, _)| *l == s.ledger) {
                Some((_, v)) => v.push(s),
                None => ledgers.push((s.ledger.clone(), vec![s])),
            }
        }
        for (ledger, queued) in ledgers {
            let (statements, replies): (Vec<_>, Vec<_>) =
                queued.into_iter().map(|q| (q.statements, q.reply)).unzip();
            match waymark.record_group(&ledger, statements).await {
                Ok(outcome) => {
                    for (reply, r) in replies.into_iter().zip(outcome) {
                        let _ = reply.send(r);
                    }
                }
                Err(e) => {
                    for reply in replies {
                        let _ = reply.send(Err(copy(&e)));
                    }
                }
            }
        }
    }
}

fn internal(what: &str) -> Error {
    Error::Storage(StorageError::internal(format!("{what} failed")))
}

/// A failure of the whole turn, for each request in it.
fn copy(e: &Error) -> Error {
    match e {
        Error::Storage(s) => Error::Storage(s.clone()),
        Error::Conflict(m) => Error::Conflict(m.clone()),
        Error::Usage(m) => Error::Usage(m.clone()),
        Error::BadInput(m) => Error::BadInput(m.clone()),
        other => Error::Storage(StorageError::database(other.to_string())),
    }
}
