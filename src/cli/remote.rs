//! `waymark --server URL …`: the CLI against a Waymark server. Write commands are
//! built and signed here, with the local key store, exactly as against a local store
//! (`cli::Writer`), and posted to `POST /api/ledgers/{id}/statements`; the server never
//! sees a secret key. Read commands ask the API and print what the local command
//! prints. A problem the server answers with becomes the error the local command
//! would have given (same message, same exit code).

use crate::cli::{
    id_kinds, print_history, print_history_matched, print_status, write_out, Cli, Command,
    ProveCmd, Writer,
};
use crate::error::{Error, Result, StorageError};
use crate::files::KeyStore;
use crate::ledger::Signed;
use crate::read::{since_of, IdKind, Since};
use crate::service::Recorded;
use crate::wire::{signed_to_value, LedgerSummary, Problem, RecordedOut};
use serde::de::DeserializeOwned;
use serde_json::json;
use std::collections::BTreeMap;
use waymark_core::LedgerState;
use waymark_core::{Rejection, Rule};
use waymark_events::{Event, Hash};
use waymark_projections::{HistoryFilter, HistoryFold, HistoryRow, Status};

/// A CLI session whose store is a server.
pub struct Remote<'a> {
    base: String,
    cli: &'a Cli,
    keys: KeyStore,
    agent: ureq::Agent,
    /// How long the server may take to answer (`WAYMARK_SERVER_TIMEOUT`, seconds).
    timeout: std::time::Duration,
}

/// The default of `WAYMARK_SERVER_TIMEOUT`: a server that accepts a connection and
/// never answers is given up on after this long (exit 4) instead of hanging. The
/// server itself answers 408 after 30 s; this leaves room for a large batch.
pub const SERVER_TIMEOUT_SECS: u64 = 60;

/// The error a problem stands for: a rule's rejection (with its field and, in a
/// batch, the statement's 1-based index), bad input, an unknown ledger, storage.
fn error_from(status: u16, body: &[u8]) -> Error {
    let Ok(p) = serde_json::from_slice::<Problem>(body) else {
        return Error::Storage(StorageError::server(format!(
            "the server answered {status}: {}",
            String::from_utf8_lossy(body).trim()
        )));
    };
    let rule = p.rule.as_deref().and_then(Rule::from_id);
    match (rule, p.field, p.message, status) {
        (Some(rule), Some(field), Some(message), 400 | 401 | 403 | 413 | 422) => Error::Rejected {
            line: p.index,
            rejection: Rejection {
                rule,
                field,
                message,
            },
        },
        (_, _, _, 400) => Error::BadInput(p.detail),
        (_, _, _, 404) => Error::Usage(p.detail),
        (_, _, _, 409) => Error::Conflict(p.detail),
        _ => Error::Storage(StorageError::server(format!(
            "the server answered {status}: {}",
            p.detail
        ))),
    }
}

impl<'a> Remote<'a> {
    pub fn new(cli: &'a Cli, server: &str) -> Remote<'a> {
        let timeout = std::env::var("WAYMARK_SERVER_TIMEOUT")
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|t| t.is_finite() && *t > 0.0)
            .map_or(
                std::time::Duration::from_secs(SERVER_TIMEOUT_SECS),
                std::time::Duration::from_secs_f64,
            );
        Remote {
            base: server.trim_end_matches('/').to_string(),
            cli,
            keys: KeyStore::new(
                cli.keys
                    .clone()
                    .unwrap_or_else(crate::cli::default_keys_dir),
            ),
            // Every read and write on the connection, and connecting, time out.
            agent: ureq::AgentBuilder::new()
                .timeout_connect(timeout)
                .timeout_read(timeout)
                .timeout_write(timeout)
                .build(),
            timeout,
        }
    }

    /// A transport failure, named: a timeout says how long it waited.
    fn transport(&self, e: &dyn std::fmt::Display, io: Option<&std::io::Error>) -> Error {
        let timed_out = io.is_some_and(|e| {
            matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            )
        });
        if timed_out {
            return Error::Storage(StorageError::server(format!(
                "server {}: no answer within the timeout of {} s (WAYMARK_SERVER_TIMEOUT): {e}",
                self.base,
                self.timeout.as_secs_f64()
            )));
        }
        Error::Storage(StorageError::server(format!("server {}: {e}", self.base)))
    }

    fn answer(&self, r: std::result::Result<ureq::Response, ureq::Error>) -> Result<Vec<u8>> {
        Ok(self.answer_with_link(r)?.0)
    }

    /// The answer's body, and its `Link: <…>; rel="next"` target if any.
    fn answer_with_link(
        &self,
        r: std::result::Result<ureq::Response, ureq::Error>,
    ) -> Result<(Vec<u8>, Option<String>)> {
        let (ok, resp) = match r {
            Ok(resp) => (true, resp),
            Err(ureq::Error::Status(_, resp)) => (false, resp),
            Err(ureq::Error::Transport(t)) => {
                let io =
                    std::error::Error::source(&t).and_then(|s| s.downcast_ref::<std::io::Error>());
                return Err(self.transport(&t, io));
            }
        };
        let status = resp.status();
        let next = resp
            .header("link")
            .and_then(|l| l.split(',').find(|p| p.contains("rel=\"next\"")))
            .and_then(|p| {
                let (_, rest) = p.split_once('<')?;
                Some(rest.split_once('>')?.0.to_string())
            });
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut body)
            .map_err(|e| self.transport(&e, Some(&e)))?;
        if ok {
            Ok((body, next))
        } else {
            Err(error_from(status, &body))
        }
    }

    /// `GET path?query` (the query's values are encoded here).
    fn get(&self, path: &str, query: &[(&str, Option<String>)]) -> Result<Vec<u8>> {
        let mut req = self.agent.get(&format!("{}{path}", self.base));
        for (k, v) in query {
            if let Some(v) = v {
                req = req.query(k, v);
            }
        }
        self.answer(req.call())
    }

    /// Every row of the history API, following its pages (newest first) to the
    /// oldest, in seq order.
    fn history(&self, path: &str, query: &[(&str, Option<String>)]) -> Result<Vec<HistoryRow>> {
        let unexpected = |e: serde_json::Error| {
            Error::Storage(StorageError::server(format!(
                "server {}: unexpected answer to {path}: {e}",
                self.base
            )))
        };
        let mut req = self.agent.get(&format!("{}{path}", self.base));
        for (k, v) in query {
            if let Some(v) = v {
                req = req.query(k, v);
            }
        }
        let mut rows = Vec::new();
        let (mut body, mut next) = self.answer_with_link(req.call())?;
        loop {
            let page: Vec<HistoryRow> = serde_json::from_slice(&body).map_err(unexpected)?;
            rows.extend(page);
            let Some(link) = next.take() else { break };
            (body, next) =
                self.answer_with_link(self.agent.get(&format!("{}{link}", self.base)).call())?;
        }
        rows.reverse();
        Ok(rows)
    }

    fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, Option<String>)],
    ) -> Result<T> {
        let body = self.get(path, query)?;
        serde_json::from_slice(&body).map_err(|e| {
            Error::Storage(StorageError::server(format!(
                "server {}: unexpected answer to {path}: {e}",
                self.base
            )))
        })
    }

    /// The events of seq 1..=upto (all with `None`), from the API's export.
    fn events(&self, api: &str, upto: Option<u64>) -> Result<Vec<(Event, Hash)>> {
        let body = self.get(
            &format!("{api}/events"),
            &[("limit", upto.map(|u| u.to_string()))],
        )?;
        body.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_slice(l)
                    .ok()
                    .and_then(|v| Event::from_export_value(&v).ok())
                    .ok_or_else(|| {
                        Error::Storage(StorageError::server(format!(
                            "server {}: an export line that is not an event",
                            self.base
                        )))
                    })
            })
            .collect()
    }

    /// `history ID` for a decision or body id: the API filters by milestone only, so
    /// the audit rows are folded here from the export, as the server folds them.
    fn history_of(
        &self,
        api: &str,
        filter: &HistoryFilter,
        id: &str,
    ) -> Result<Vec<(HistoryRow, Vec<IdKind>)>> {
        let mut fold = HistoryFold::new();
        let mut out = Vec::new();
        for (e, h) in self.events(api, None)? {
            let row = crate::read::IndexedRow::new(fold.row(&e, &h), &e);
            let kinds = crate::read::kinds_in(&row.ids, id);
            if !kinds.is_empty() && filter.matches(&row.row) {
                out.push((row.row, kinds));
            }
        }
        Ok(out)
    }

    async fn api(&self) -> Result<String> {
        Ok(format!("/api/ledgers/{}", self.ledger().await?))
    }

    /// A read command, printed as the local command prints it.
    async fn read(&self, cmd: &Command) -> Result<i32> {
        let api = self.api().await?;
        let json = self.cli.json;
        match cmd {
            Command::Status { as_of } => {
                let s: Status =
                    self.get_json(&format!("{api}/status"), &[("as_of", as_of.clone())])?;
                print_status(&s, json);
            }
            Command::History {
                id,
                actor,
                season,
                event_type,
            } => {
                if let Some(id) = id {
                    let ledger = self.ledger().await?;
                    let named = id_kinds(&self.state(&ledger).await?, id, &ledger)?;
                    if named.iter().any(|k| *k != IdKind::Milestone) {
                        let filter = HistoryFilter {
                            milestone: None,
                            actor: actor.clone(),
                            season: *season,
                            event_type: event_type.clone(),
                        };
                        let rows = self.history_of(&api, &filter, id)?;
                        print_history_matched(&rows, json);
                        return Ok(0);
                    }
                }
                let rows = self.history(
                    &format!("{api}/history"),
                    &[
                        ("milestone", id.clone()),
                        ("actor", actor.clone()),
                        ("season", season.map(|s| s.to_string())),
                        ("type", event_type.clone()),
                    ],
                )?;
                print_history(&rows, json);
            }
            Command::Review {
                season,
                format,
                out,
            } => {
                let format = if json {
                    "json".to_string()
                } else {
                    format!("{format:?}").to_lowercase()
                };
                let body = self.get(
                    &format!("{api}/reviews/{season}"),
                    &[("format", Some(format))],
                )?;
                write_out(out.as_ref(), &body)?;
            }
            Command::Graph {
                format,
                decisions,
                as_of,
                out,
            } => {
                let format = format!("{format:?}").to_lowercase();
                let body = self.get(
                    &format!("{api}/graph"),
                    &[
                        ("format", Some(format)),
                        ("decisions", decisions.then(|| "true".to_string())),
                        ("as_of", as_of.clone()),
                    ],
                )?;
                write_out(out.as_ref(), &body)?;
            }
            Command::Export { out, upto } => {
                let body = self.get(
                    &format!("{api}/events"),
                    &[("limit", upto.map(|u| u.to_string()))],
                )?;
                let lines = body.iter().filter(|b| **b == b'\n').count() as u64;
                if let Some(u) = upto.filter(|u| *u == 0 || *u > lines) {
                    return Err(Error::BadInput(format!(
                        "--upto {u}: the ledger has seq 1..{lines}"
                    )));
                }
                write_out(out.as_ref(), &body)?;
            }
            Command::Checkpoint { size } => {
                let note = self.get(
                    &format!("{api}/checkpoint"),
                    &[("size", size.map(|s| s.to_string()))],
                )?;
                let note = String::from_utf8_lossy(&note).into_owned();
                if json {
                    let body = note.split("\n\n").next().unwrap_or("").to_string() + "\n";
                    let cp = waymark_events::Checkpoint::parse_body(&body).map_err(|e| {
                        Error::Storage(StorageError::server(format!(
                            "the server's checkpoint: {e}"
                        )))
                    })?;
                    println!(
                        "{}",
                        json!({"origin": cp.origin, "size": cp.size, "root": cp.root, "note": note})
                    );
                } else {
                    print!("{note}");
                }
            }
            Command::Snapshot { out, size } => {
                let body = self.get(
                    &format!("{api}/snapshot"),
                    &[("size", size.map(|s| s.to_string()))],
                )?;
                write_out(out.as_ref(), &body)?;
            }
            Command::Prove(ProveCmd::Inclusion { seq, size, .. }) => {
                let body = self.get(
                    &format!("{api}/proof/inclusion/{seq}"),
                    &[("size", size.map(|s| s.to_string()))],
                )?;
                write_out(None, &body)?;
            }
            Command::Prove(ProveCmd::Consistency { old, new, .. }) => {
                let body = self.get(
                    &format!("{api}/proof/consistency"),
                    &[
                        ("old", Some(old.to_string())),
                        ("new", Some(new.to_string())),
                    ],
                )?;
                write_out(None, &body)?;
            }
            _ => return Err(Error::Usage("not a read command".into())),
        }
        Ok(0)
    }
}

impl Writer for Remote<'_> {
    fn cli(&self) -> &Cli {
        self.cli
    }

    fn keys(&self) -> &KeyStore {
        &self.keys
    }

    async fn ledger(&self) -> Result<String> {
        if let Some(l) = &self.cli.ledger {
            return Ok(l.clone());
        }
        let all: Vec<LedgerSummary> = self.get_json("/api/ledgers", &[])?;
        match all.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(Error::Usage(format!(
                "the server {} holds no ledger yet",
                self.base
            ))),
            many => Err(Error::Usage(format!(
                "the server {} holds several ledgers ({}): pass --ledger ID",
                self.base,
                many.iter()
                    .map(|l| l.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    async fn state(&self, ledger: &str) -> Result<LedgerState> {
        self.get_json(&format!("/api/ledgers/{ledger}/state"), &[])
    }

    async fn status(&self, ledger: &str, as_of: Option<&str>) -> Result<Status> {
        self.get_json(
            &format!("/api/ledgers/{ledger}/status"),
            &[("as_of", as_of.map(str::to_string))],
        )
    }

    /// From the API's export up to `upto` (the API has no index of transfers).
    async fn authority_since(&self, ledger: &str, upto: u64) -> Result<BTreeMap<String, Since>> {
        if upto == 0 {
            return Ok(BTreeMap::new());
        }
        let events = self.events(&format!("/api/ledgers/{ledger}"), Some(upto))?;
        Ok(events.iter().filter_map(|(e, _)| since_of(e)).collect())
    }

    async fn record(&self, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Recorded>> {
        let body: Vec<serde_json::Value> = statements.iter().map(signed_to_value).collect();
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let limit = crate::http::MAX_BODY_BYTES;
        if body.len() > limit {
            return Err(too_large(format!(
                "the request body is {} bytes, over the server's limit of {limit} bytes (4 MiB, 413): split the statements into smaller batches",
                body.len()
            )));
        }
        let sent = self
            .agent
            .post(&format!("{}/api/ledgers/{ledger}/statements", self.base))
            .set("content-type", "application/json")
            .send_bytes(&body);
        // A server that refuses a body as too large answers 413 and closes the
        // connection before reading it all: the client sees its write fail.
        if let Err(ureq::Error::Transport(t)) = &sent {
            let io = std::error::Error::source(t).and_then(|s| s.downcast_ref::<std::io::Error>());
            if io.is_some_and(|e| {
                matches!(
                    e.kind(),
                    std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                )
            }) {
                return Err(Error::Storage(StorageError::server(format!(
                    "server {}: the connection closed while the {}-byte body was being sent ({t}); a body over the server's limit (4 MiB here, 413) is refused that way",
                    self.base,
                    body.len()
                ))));
            }
        }
        let answer = self.answer(sent)?;
        let out: Vec<RecordedOut> = serde_json::from_slice(&answer).map_err(|e| {
            Error::Storage(StorageError::server(format!(
                "server {}: unexpected answer to statements: {e}",
                self.base
            )))
        })?;
        out.into_iter()
            .map(|r| {
                Ok(Recorded {
                    seq: r.seq,
                    hash: r.hash.parse().map_err(|_| {
                        Error::Storage(StorageError::server(format!(
                            "server {}: {:?} is not a hash",
                            self.base, r.hash
                        )))
                    })?,
                    event_type: r.event_type,
                })
            })
            .collect()
    }
}

/// Rule 8's rejection of a body too large to post.
fn too_large(message: String) -> Error {
    Error::Rejected {
        line: None,
        rejection: Rejection {
            rule: Rule::Limits,
            field: "body".into(),
            message,
        },
    }
}

/// Runs one command against the server at `server`.
pub async fn run(cli: &Cli, server: &str) -> Result<i32> {
    let remote = Remote::new(cli, server);
    match &cli.command {
        Command::Init(_) => Err(Error::Usage(
            "init opens a ledger in a store: run it against the database (without --server), then serve it".into(),
        )),
        Command::Actor(_)
        | Command::Milestone(_)
        | Command::Phase(_)
        | Command::Season(_)
        | Command::Body(_)
        | Command::Decision(_)
        | Command::Decisions { .. }
        | Command::Apply { .. } => remote.write(&cli.command).await,
        Command::Status { .. }
        | Command::History { .. }
        | Command::Review { .. }
        | Command::Graph { .. }
        | Command::Export { .. }
        | Command::Checkpoint { .. }
        | Command::Snapshot { .. }
        | Command::Prove(_) => remote.read(&cli.command).await,
        other => Err(Error::Usage(local_only(other))),
    }
}

/// Why a command cannot run over `--server`, with a hint that fits that command.
fn local_only(command: &Command) -> String {
    let (name, hint) = match command {
        Command::Diff { .. } => (
            "diff",
            "run it without --server (with --db), or compare the two points' statuses over \
             --server with `status --as-of SPEC` (or `--json status --as-of SPEC`)",
        ),
        Command::Verify => (
            "verify",
            "fetch the export over --server (`export --out log.jsonl`) and check it with \
             `verify-offline --log log.jsonl`, or run verify without --server (with --db)",
        ),
        Command::Publish { .. } => (
            "publish",
            "run it where the database is (with --db), or fetch `export` and `snapshot` over \
             --server",
        ),
        Command::Site { .. } => ("site", "run it where the database is (with --db)"),
        Command::Rebuild => ("rebuild", "run it where the database is (with --db)"),
        Command::Migrate => ("migrate", "run it where the database is (with --db)"),
        Command::Serve { .. } => (
            "serve",
            "serve a database (with --db); --server names a server to talk to",
        ),
        Command::Demo => (
            "demo",
            "run it without --server: it builds a local database",
        ),
        _ => ("this command", "run it without --server (with --db)"),
    };
    format!("{name} needs the database, not a server: {hint}")
}
