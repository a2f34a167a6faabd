//! The chained event store: a cqrs-es `EventStore<Ledger>` over any
//! `PersistedEventRepository` (sqlite-es, postgres-es). It gives each new event its
//! `seq`, `prev` and `recorded_at`, stores the event object and its hash, and keeps a
//! snapshot of the rule state and the Merkle frontier in the same transaction, plus
//! in each row the tree nodes its append completes, so loading the aggregate reads
//! one snapshot row instead of replaying the ledger.

use super::{Ledger, LedgerError, LedgerEvent};
use crate::storage::{
    Append, AppendError, AppendEvent, Db, EventRepository, RowMeta, Seq, SnapshotMark,
};
use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventRepository, SerializedEvent};
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use waymark_events::{format_timestamp, leaf_hash, Hash};

/// Where `recorded_at` comes from: microseconds since the Unix epoch.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp_micros())
}

/// An aggregate with its `current_sequence` and `current_snapshot`.
type Remembered = (Ledger, usize, Option<usize>);

pub struct ChainedEventStore {
    /// Reads go through the sqlite-es / postgres-es repository.
    repo: Arc<EventRepository>,
    /// Commits go through `Db::append` (one round trip; see there why).
    db: Db,
    clock: Clock,
    /// The aggregate as this process last committed or loaded it, per ledger, with
    /// its `(sequence, snapshot version)`. A writer that finds the stored snapshot
    /// at that same version skips reading and parsing it; any other writer's commit
    /// moves the version on, and a stale copy could not commit anyway (its next
    /// `seq` is taken, an optimistic-lock conflict).
    head: Mutex<HashMap<String, Remembered>>,
}

impl ChainedEventStore {
    pub fn new(repo: Arc<EventRepository>, db: Db, clock: Clock) -> Self {
        ChainedEventStore {
            repo,
            db,
            clock,
            head: Mutex::new(HashMap::new()),
        }
    }

    /// The aggregate this process last committed or loaded, if any.
    pub fn remembered(&self, aggregate_id: &str) -> Option<Ctx> {
        let head = self.head.lock().ok()?;
        let (aggregate, seq, snapshot) = head.get(aggregate_id)?;
        Some(Ctx {
            aggregate_id: aggregate_id.to_string(),
            aggregate: aggregate.clone(),
            current_sequence: *seq,
            current_snapshot: *snapshot,
        })
    }

    /// Keeps `ctx` as the head of its aggregate.
    pub fn remember(&self, ctx: &Ctx) {
        if let Ok(mut head) = self.head.lock() {
            head.insert(
                ctx.aggregate_id.clone(),
                (
                    ctx.aggregate.clone(),
                    ctx.current_sequence,
                    ctx.current_snapshot,
                ),
            );
        }
    }

    /// Drops what is remembered of an aggregate (after a failed commit).
    pub fn forget(&self, aggregate_id: &str) {
        if let Ok(mut head) = self.head.lock() {
            head.remove(aggregate_id);
        }
    }
}

pub type Ctx = EventStoreAggregateContext<Ledger>;

/// Where the snapshot a context was loaded from stands (version 0: none yet).
pub fn mark_of(ctx: &Ctx) -> SnapshotMark {
    SnapshotMark {
        last: Seq::from_cqrs(ctx.current_sequence),
        version: Seq::from_cqrs(ctx.current_snapshot.unwrap_or(0)),
    }
}

/// The hash of a committed envelope: the one `commit` computed and put in its
/// metadata (hashing means JCS-serializing the event, so it is done once), or
/// recomputed when the metadata does not carry it.
pub fn envelope_hash(e: &EventEnvelope<Ledger>) -> Hash {
    RowMeta::hash_in(&e.metadata).unwrap_or_else(|| e.payload.0.hash())
}

fn envelope(s: SerializedEvent) -> Result<EventEnvelope<Ledger>, AggregateError<LedgerError>> {
    let payload: LedgerEvent = serde_json::from_value(s.payload)?;
    let metadata = serde_json::from_value(s.metadata)?;
    Ok(EventEnvelope {
        aggregate_id: s.aggregate_id,
        sequence: s.sequence,
        payload,
        metadata,
    })
}

impl ChainedEventStore {
    /// The `recorded_at` of a batch appended after `aggregate`'s head: now, or the
    /// head's time if the clock reads earlier (time never runs backwards in a chain).
    pub fn recorded_at(&self, aggregate: &Ledger) -> String {
        let now = format_timestamp((self.clock)());
        match &aggregate.state.head {
            Some(h) if h.recorded_at >= now => h.recorded_at.clone(),
            _ => now,
        }
    }
}

/// Chains unchained events after `aggregate`'s head, the first at sequence
/// `after + 1`: gives each its `seq`, `prev` and `recorded_at`, pushes its hash onto
/// the Merkle frontier, and moves the head to the last. The aggregate must already
/// hold the events' rule effects (applied unchained in `handle`). Returns the rows
/// to store and the envelopes for the read models.
pub fn chain(
    aggregate: &mut Ledger,
    aggregate_id: &str,
    after: Seq,
    events: Vec<LedgerEvent>,
    recorded_at: &str,
    metadata: &HashMap<String, String>,
) -> Result<(Vec<AppendEvent>, Vec<EventEnvelope<Ledger>>), serde_json::Error> {
    let mut prev = aggregate.state.head.as_ref().map_or(Hash::ZERO, |h| h.hash);
    let mut rows = Vec::with_capacity(events.len());
    let mut envelopes = Vec::with_capacity(events.len());
    let mut sequence = after;
    for LedgerEvent(mut event) in events {
        sequence = sequence.next();
        event.seq = sequence.get();
        event.prev = prev;
        event.recorded_at = recorded_at.to_string();
        // The stored payload is the event's canonical bytes: the leaf that is
        // hashed, so it is serialized once.
        let leaf = event.leaf_bytes();
        let hash = leaf_hash(&leaf);
        prev = hash;
        let mut meta = metadata.clone();
        // The tree nodes this append completes above the leaf, kept in the same row
        // (so in the same transaction); proofs and roots read them back.
        let nodes = aggregate.frontier.push_nodes(hash);
        RowMeta {
            hash,
            nodes: nodes.iter().skip(1).map(|(_, h)| *h).collect(),
        }
        .write_into(&mut meta);
        rows.push(AppendEvent {
            sequence,
            event_type: event.statement.event_type().as_str().to_string(),
            event_version: event.statement.version.clone(),
            payload: String::from_utf8_lossy(&leaf).into_owned(),
            metadata: serde_json::to_string(&meta)?,
            sig: event.sig.clone(),
        });
        envelopes.push(EventEnvelope {
            aggregate_id: aggregate_id.to_string(),
            sequence: sequence.to_cqrs(),
            payload: LedgerEvent(event),
            metadata: meta,
        });
    }
    if sequence > after {
        aggregate.state.head = Some(waymark_core::Head {
            seq: sequence.get(),
            hash: prev,
            recorded_at: recorded_at.to_string(),
        });
    }
    Ok((rows, envelopes))
}

impl EventStore<Ledger> for ChainedEventStore {
    type AC = Ctx;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<Ledger>>, AggregateError<LedgerError>> {
        let rows = self.repo.get_events::<Ledger>(aggregate_id).await?;
        rows.into_iter().map(envelope).collect()
    }

    async fn load_aggregate(&self, aggregate_id: &str) -> Result<Ctx, AggregateError<LedgerError>> {
        let (mut ctx, rows) = match self.repo.get_snapshot::<Ledger>(aggregate_id).await? {
            Some(snap) => {
                let rows = self
                    .repo
                    .get_last_events::<Ledger>(aggregate_id, snap.current_sequence)
                    .await?;
                (Ctx::try_from(snap)?, rows)
            }
            None => (
                Ctx {
                    aggregate_id: aggregate_id.to_string(),
                    aggregate: Ledger::default(),
                    current_sequence: 0,
                    current_snapshot: None,
                },
                self.repo.get_events::<Ledger>(aggregate_id).await?,
            ),
        };
        for row in rows {
            ctx.current_sequence = row.sequence;
            ctx.aggregate.apply(envelope(row)?.payload);
        }
        Ok(ctx)
    }

    async fn commit(
        &self,
        events: Vec<LedgerEvent>,
        context: Ctx,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<Ledger>>, AggregateError<LedgerError>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let before = mark_of(&context);
        let mut aggregate = context.aggregate;
        let recorded_at = self.recorded_at(&aggregate);
        let (rows, envelopes) = chain(
            &mut aggregate,
            &context.aggregate_id,
            Seq::from_cqrs(context.current_sequence),
            events,
            &recorded_at,
            &metadata,
        )?;
        let last = rows.last().map_or(Seq::ZERO, |r| r.sequence);
        let mark = before.after(last);
        let appended = self
            .db
            .append(&Append {
                ledger: &context.aggregate_id,
                events: rows,
                snapshot: serde_json::to_string(&aggregate)?,
                mark,
            })
            .await;
        if let Err(e) = appended {
            self.forget(&context.aggregate_id);
            return Err(match e {
                AppendError::Conflict => AggregateError::AggregateConflict,
                AppendError::Storage(e) => AggregateError::UserError(LedgerError::Storage(e)),
            });
        }
        self.remember(&Ctx {
            aggregate_id: context.aggregate_id,
            aggregate,
            current_sequence: mark.last.to_cqrs(),
            current_snapshot: Some(mark.version.to_cqrs()),
        });
        Ok(envelopes)
    }
}
