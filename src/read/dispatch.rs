//! The read models' updates after a commit, off the writer's path: `record` returns
//! once its events are durable, and one task per `Waymark` hands each committed
//! batch to the cqrs-es `Query`, in commit order. Nothing depends on that task for
//! correctness: every read first catches the read models up from the events, and
//! every update is idempotent. [`Dispatcher::settle`] waits for the updates sent so
//! far (the CLI does before it exits, `rebuild` before it compares).

use crate::ledger::Ledger;
use cqrs_es::{EventEnvelope, Query};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Envelopes one read-model update takes at most when it merges queued batches
/// (one batch of `apply` is 1,000; a larger merged one would only make a longer
/// statement).
const MAX_COALESCED: usize = 4096;

enum Job {
    Events(String, Vec<EventEnvelope<Ledger>>),
    Settle(oneshot::Sender<()>),
}

pub struct Dispatcher<Q> {
    query: Arc<Q>,
    jobs: Mutex<Option<mpsc::UnboundedSender<Job>>>,
}

impl<Q: Query<Ledger> + 'static> Dispatcher<Q> {
    pub fn new(query: Q) -> Self {
        Dispatcher {
            query: Arc::new(query),
            jobs: Mutex::new(None),
        }
    }

    /// Queues a committed batch for the read models.
    pub fn send(&self, ledger: &str, envelopes: Vec<EventEnvelope<Ledger>>) {
        if !envelopes.is_empty() {
            self.queue(Job::Events(ledger.to_string(), envelopes));
        }
    }

    /// Waits until every batch queued before this call has been handed over.
    pub async fn settle(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue(Job::Settle(done)) {
            let _ = wait.await;
        }
    }

    /// Sends a job to the worker, starting one if there is none (or if the runtime
    /// it ran on is gone). `false` when there is no runtime to run it on.
    fn queue(&self, job: Job) -> bool {
        let Ok(mut jobs) = self.jobs.lock() else {
            return false;
        };
        let job = match jobs.as_ref() {
            Some(tx) => match tx.send(job) {
                Ok(()) => return true,
                // The worker is gone (its runtime shut down): start another.
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return false;
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        let query = self.query.clone();
        tokio::spawn(async move {
            let mut next = None;
            loop {
                let job = match next.take() {
                    Some(job) => job,
                    None => match rx.recv().await {
                        Some(job) => job,
                        None => break,
                    },
                };
                match job {
                    Job::Events(ledger, mut envelopes) => {
                        // The batches queued meanwhile for the same ledger, in one
                        // update: a server committing groups back to back (8 clients
                        // posting, issue 17) otherwise pays a read-model transaction
                        // (a commit, an fsync) per group behind its writer.
                        while envelopes.len() < MAX_COALESCED {
                            let Ok(job) = rx.try_recv() else { break };
                            match job {
                                Job::Events(l, more) if l == ledger => envelopes.extend(more),
                                other => {
                                    next = Some(other);
                                    break;
                                }
                            }
                        }
                        query.dispatch(&ledger, &envelopes).await
                    }
                    Job::Settle(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        let sent = tx.send(job).is_ok();
        *jobs = Some(tx);
        sent
    }
}
