//! What every front end (CLI, server, demo) calls: record statements, read the ledger,
//! verify, export. Generic over the cqrs-es repository (SQLite or PostgreSQL).

use crate::aggregate::{Ledger, LedgerError, LedgerServices, Record, Signed};
use crate::db::{Db, Repository};
use crate::error::{Error, Result, StorageError};
use crate::state::LedgerState;
use crate::store::{ChainedEventStore, Clock};
use crate::verify::{Problem, Replayer, Report};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, AggregateContext, AggregateError, EventStore};
use postgres_es::PostgresEventRepository;
use serde::Serialize;
use sqlite_es::SqliteEventRepository;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use waymark_events::{Event, Hash};
use waymark_projections::{HistoryFilter, HistoryFold, HistoryRow, Status, StatusFold};

/// How many times a write is re-validated and re-chained after losing the race for
/// the next `seq` before it gives up with `Error::Conflict`.
const MAX_ATTEMPTS: u32 = 200;

/// A recorded event's place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub seq: u64,
    pub hash: Hash,
    #[serde(rename = "type")]
    pub event_type: String,
}

/// A point in the ledger's history (`--as-of`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsOf {
    Seq(u64),
    Season(i64),
    /// A SPEC timestamp: the last event recorded at or before it.
    Time(String),
}

impl std::str::FromStr for AsOf {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::BadInput(format!(
                "as-of {s:?}: expected seq:N, season:N or time:RFC3339"
            ))
        };
        let (kind, v) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "seq" => v
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .map(AsOf::Seq)
                .ok_or_else(bad),
            "season" => v.parse().map(AsOf::Season).map_err(|_| bad()),
            "time" => {
                let t = chrono::DateTime::parse_from_rfc3339(v).map_err(|_| bad())?;
                let micros = t.with_timezone(&chrono::Utc).timestamp_micros();
                Ok(AsOf::Time(waymark_events::format_timestamp(micros)))
            }
            _ => Err(bad()),
        }
    }
}

/// Builds a repository from a connected pool of the matching kind.
pub trait FromDb: Repository + Sized {
    fn from_db(db: &Db) -> Option<Self>;
}

impl FromDb for SqliteEventRepository {
    fn from_db(db: &Db) -> Option<Self> {
        match db {
            Db::Sqlite(p) => Some(SqliteEventRepository::new(p.clone())),
            Db::Postgres(_) => None,
        }
    }
}

impl FromDb for PostgresEventRepository {
    fn from_db(db: &Db) -> Option<Self> {
        match db {
            Db::Postgres(p) => Some(PostgresEventRepository::new(p.clone())),
            Db::Sqlite(_) => None,
        }
    }
}

pub struct Waymark<R> {
    pub db: Db,
    repo: Arc<R>,
    store: ChainedEventStore<R>,
    services: LedgerServices,
}

fn storage_err(e: AggregateError<LedgerError>) -> Error {
    match e {
        AggregateError::UserError(LedgerError::Storage(s)) => Error::Storage(StorageError(s)),
        AggregateError::UserError(LedgerError::Rejected { index, rejection }) => Error::Rejected {
            line: Some(index + 1),
            rejection,
        },
        AggregateError::AggregateConflict => Error::Conflict("the ledger moved on".into()),
        other => Error::Storage(StorageError(other.to_string())),
    }
}

impl<R: FromDb> Waymark<R> {
    pub fn new(db: Db, clock: Clock) -> Result<Self> {
        let repo = Arc::new(
            R::from_db(&db)
                .ok_or_else(|| Error::Usage("repository does not match the database".into()))?,
        );
        Ok(Waymark {
            services: LedgerServices {
                signatures: Arc::new(db.clone()),
            },
            store: ChainedEventStore::new(repo.clone(), clock),
            repo,
            db,
        })
    }

    /// Records statements, in order, in one transaction: all of them or none. A lost
    /// race for the next `seq` (optimistic-lock conflict) reloads the ledger, re-checks
    /// the statements and chains them again; signatures do not depend on the position,
    /// so nothing is re-signed. This is `CqrsFramework::execute_with_metadata`, written
    /// out because that returns `()` and callers need the events' `seq` and `hash`.
    pub async fn record(&self, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Recorded>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut ctx = self
                .store
                .load_aggregate(ledger)
                .await
                .map_err(storage_err)?;
            let sink = EventSink::default();
            let command = Record {
                ledger: ledger.to_string(),
                statements: statements.clone(),
            };
            ctx.aggregate()
                .handle(command, &self.services, &sink)
                .await
                .map_err(|e| storage_err(AggregateError::UserError(e)))?;
            match self
                .store
                .commit(sink.collect().await, ctx, HashMap::new())
                .await
            {
                Ok(envelopes) => {
                    return Ok(envelopes
                        .into_iter()
                        .map(|e| Recorded {
                            seq: e.sequence as u64,
                            hash: e.payload.0.hash(),
                            event_type: e.payload.0.statement.event_type().as_str().into(),
                        })
                        .collect())
                }
                Err(AggregateError::AggregateConflict) => {
                    // sqlite-es and postgres-es commit the events before they find the
                    // snapshot row moved on, and then report a conflict: the batch may
                    // be recorded after all. It is, exactly when its first signature is.
                    if let Some(done) = self.already_recorded(ledger, &statements).await? {
                        return Ok(done);
                    }
                    if attempt >= MAX_ATTEMPTS {
                        return Err(Error::Conflict(format!("gave up after {attempt} attempts: other writers kept taking the next seq")));
                    }
                    let jitter = rand::random::<u64>() % (2 + u64::from(attempt.min(20)) * 2);
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                }
                Err(e) => return Err(storage_err(e)),
            }
        }
    }

    /// If this batch is in the ledger (its statements are recorded together or not at
    /// all), where it is.
    async fn already_recorded(
        &self,
        ledger: &str,
        statements: &[Signed],
    ) -> Result<Option<Vec<Recorded>>> {
        let Some(first) = statements.first() else {
            return Ok(None);
        };
        let seq = self
            .services
            .signatures
            .seq_of(ledger, &first.sig)
            .await
            .map_err(|e| Error::Storage(StorageError(e)))?;
        let Some(seq) = seq else { return Ok(None) };
        let rows = self
            .repo
            .get_last_events::<Ledger>(ledger, seq as usize - 1)
            .await
            .map_err(|e| Error::Storage(StorageError(e.to_string())))?;
        let mut out = Vec::with_capacity(statements.len());
        for (row, signed) in rows.into_iter().zip(statements) {
            let e = Event::from_value(&row.payload).map_err(|m| Error::Storage(StorageError(m)))?;
            if e.sig != signed.sig {
                return Err(Error::Storage(StorageError(format!(
                    "seq {} is not the statement this batch recorded",
                    e.seq
                ))));
            }
            out.push(Recorded {
                seq: e.seq,
                hash: e.hash(),
                event_type: e.statement.event_type().as_str().into(),
            });
        }
        Ok(Some(out))
    }

    /// The rule state at the head (from the snapshot, not a replay).
    pub async fn state(&self, ledger: &str) -> Result<LedgerState> {
        let ctx = self
            .store
            .load_aggregate(ledger)
            .await
            .map_err(storage_err)?;
        if !ctx.aggregate.state.is_open() {
            return Err(Error::Usage(format!("no ledger {ledger:?} in this store")));
        }
        Ok(ctx.aggregate.state)
    }

    async fn rows(&self, ledger: &str) -> Result<Vec<cqrs_es::persist::SerializedEvent>> {
        self.repo
            .get_events::<Ledger>(ledger)
            .await
            .map_err(|e| Error::Storage(StorageError(e.to_string())))
    }

    /// Every recorded event with its hash, in order. Fails on a row that is not a
    /// SPEC event (run `verify` to find out where the chain breaks).
    pub async fn events(&self, ledger: &str) -> Result<Vec<(Event, Hash)>> {
        let rows = self.rows(ledger).await?;
        if rows.is_empty() {
            return Err(Error::Usage(format!("no ledger {ledger:?} in this store")));
        }
        rows.into_iter()
            .map(|r| {
                let e = Event::from_value(&r.payload).map_err(|m| Error::BrokenChain {
                    seq: r.sequence as u64,
                    problem: "malformed",
                    detail: m,
                })?;
                let h = e.hash();
                Ok((e, h))
            })
            .collect()
    }

    /// Re-checks the whole stored chain: seq, links, stored hashes, time, signatures
    /// and every rule, then that the head matches the stored snapshot (rows deleted
    /// from the end show up as `truncated`).
    pub async fn verify(&self, ledger: &str) -> Result<Report> {
        let rows = self.rows(ledger).await?;
        let mut replayer = Replayer::new();
        let mut problem = None;
        for (i, row) in rows.iter().enumerate() {
            let position = i as u64 + 1;
            let bad = |problem, detail| {
                Some(Problem {
                    seq: position,
                    problem,
                    detail,
                })
            };
            if row.sequence as u64 != position {
                problem = bad(
                    "seq_gap",
                    format!(
                        "expected seq {position}, the next stored row is seq {}",
                        row.sequence
                    ),
                );
                break;
            }
            let event = match Event::from_value(&row.payload) {
                Ok(e) => e,
                Err(m) => {
                    problem = bad("malformed", m);
                    break;
                }
            };
            let claimed = row
                .metadata
                .get("hash")
                .and_then(|h| h.as_str())
                .and_then(|h| h.parse::<Hash>().ok());
            if claimed.is_none() {
                problem = bad("malformed", "the stored row has no hash".into());
                break;
            }
            if let Err(p) = replayer.step(position, &event, claimed.as_ref()) {
                problem = Some(p);
                break;
            }
        }
        if problem.is_none() {
            let snap = self
                .repo
                .get_snapshot::<Ledger>(ledger)
                .await
                .map_err(|e| Error::Storage(StorageError(e.to_string())))?;
            if let Some(snap) = snap {
                let head = serde_json::from_value::<Ledger>(snap.aggregate)
                    .ok()
                    .and_then(|l| l.state.head);
                let checked = replayer.checked();
                match head {
                    Some(h) if h.seq > checked => {
                        problem = Some(Problem {
                            seq: checked + 1,
                            problem: "truncated",
                            detail: format!("the ledger's head is seq {}, but only {checked} events are stored", h.seq),
                        })
                    }
                    Some(h) if h.seq == checked && Some(h.hash) != replayer.report(None).head.map(|x| x.hash) => {
                        problem = Some(Problem {
                            seq: checked,
                            problem: "hash_mismatch",
                            detail: format!("the head recorded at commit has hash {}, the stored event hashes differently", h.hash),
                        })
                    }
                    _ => {}
                }
            }
        }
        if rows.is_empty() {
            return Err(Error::Usage(format!("no ledger {ledger:?} in this store")));
        }
        Ok(replayer.report(problem))
    }

    /// SPEC section 7: one `JCS(event ∪ {hash})` line per event, seq 1..=upto.
    pub async fn export(&self, ledger: &str, upto: Option<u64>) -> Result<Vec<u8>> {
        let events = self.events(ledger).await?;
        let head = events.len() as u64;
        let upto = upto.unwrap_or(head);
        if upto == 0 || upto > head {
            return Err(Error::BadInput(format!(
                "--upto {upto}: the ledger has seq 1..{head}"
            )));
        }
        let mut out = Vec::new();
        for (e, h) in events.iter().take(upto as usize) {
            out.extend(e.export_line(h));
        }
        Ok(out)
    }

    /// Events up to an as-of point (all of them without one).
    pub async fn events_as_of(
        &self,
        ledger: &str,
        as_of: Option<&AsOf>,
    ) -> Result<Vec<(Event, Hash)>> {
        let events = self.events(ledger).await?;
        let n = cut(&events, as_of)?;
        Ok(events.into_iter().take(n).collect())
    }

    /// The status projection (SPEC section 9) at the head or at an as-of point.
    pub async fn status(&self, ledger: &str, as_of: Option<&AsOf>) -> Result<Status> {
        let mut fold = StatusFold::new();
        for (e, h) in self.events_as_of(ledger, as_of).await? {
            fold.apply(&e, &h);
        }
        Ok(fold.status())
    }

    /// The audit trail, filtered.
    pub async fn history(&self, ledger: &str, filter: &HistoryFilter) -> Result<Vec<HistoryRow>> {
        let mut fold = HistoryFold::new();
        Ok(self
            .events(ledger)
            .await?
            .iter()
            .map(|(e, h)| fold.row(e, h))
            .filter(|r| filter.matches(r))
            .collect())
    }
}

/// How many events (from seq 1) an as-of point covers.
fn cut(events: &[(Event, Hash)], as_of: Option<&AsOf>) -> Result<usize> {
    use waymark_events::Payload;
    let head = events.len();
    match as_of {
        None => Ok(head),
        Some(AsOf::Seq(n)) if *n as usize <= head => Ok(*n as usize),
        Some(AsOf::Seq(n)) => Err(Error::BadInput(format!(
            "as-of seq:{n}: the ledger's head is seq {head}"
        ))),
        Some(AsOf::Season(s)) => {
            let opened = events.iter().any(
                |(e, _)| matches!(&e.statement.payload, Payload::SeasonOpened(p) if p.season == *s),
            );
            if !opened {
                return Err(Error::BadInput(format!(
                    "as-of season:{s}: season {s} was never opened in this ledger"
                )));
            }
            Ok(events
                .iter()
                .position(|(e, _)| matches!(&e.statement.payload, Payload::SeasonReEvaluated(p) if p.season == *s))
                .map_or(head, |i| i + 1))
        }
        Some(AsOf::Time(t)) => {
            let n = events
                .iter()
                .take_while(|(e, _)| e.recorded_at.as_str() <= t.as_str())
                .count();
            if n == 0 {
                return Err(Error::BadInput(format!(
                    "as-of time: nothing was recorded at or before {t}"
                )));
            }
            Ok(n)
        }
    }
}
