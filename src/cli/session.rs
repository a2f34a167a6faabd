//! One CLI invocation against the local store: the read commands, and the
//! `Writer` the write commands run against.

use super::*;
use crate::error::{Error, Result};
use crate::files::KeyStore;
use crate::ledger::system_clock;
use crate::ledger::Signed;
use crate::read::{IdKind, Since};
use crate::service::{AsOf, Recorded, Waymark};
use crate::storage::Db;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use waymark_events::*;
use waymark_projections::HistoryFilter;
use waymark_projections::Status;

/// One CLI invocation against one store.
pub(crate) struct Session<'a> {
    pub w: Waymark,
    pub keys: KeyStore,
    pub cli: &'a Cli,
}

impl<'a> Session<'a> {
    /// One line on what a command wrote to a file (`--quiet`: none; `--json`: an
    /// object with `wrote` and the details).
    fn wrote(&self, path: &std::path::Path, what: &str, mut details: Value) {
        if self.cli.quiet {
            return;
        }
        if self.cli.json {
            details["wrote"] = json!(path.display().to_string());
            println!("{details}");
        } else {
            println!("wrote {what} to {}", path.display());
        }
    }

    pub fn new(cli: &'a Cli, db: Db, read_only: bool) -> Self {
        let w = if read_only {
            Waymark::new_read_only(db, system_clock())
        } else {
            Waymark::new(db, system_clock())
        };
        Session {
            w,
            keys: KeyStore::new(cli.keys.clone().unwrap_or_else(default_keys_dir)),
            cli,
        }
    }

    async fn ledger(&self) -> Result<String> {
        if let Some(l) = &self.cli.ledger {
            return Ok(l.clone());
        }
        let all = self.w.db().ledgers().await?;
        match all.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Error::Usage(format!(
                "no ledger in {}: run `waymark init --ledger ID --framework optimism` first",
                self.w.db().name()
            ))),
            many => Err(Error::Usage(format!(
                "{} holds several ledgers ({}): pass --ledger ID",
                self.w.db().name(),
                many.join(", ")
            ))),
        }
    }

    pub async fn run(&self, cmd: &Command) -> Result<i32> {
        match cmd {
            Command::Init(_)
            | Command::Actor(_)
            | Command::Milestone(_)
            | Command::Phase(_)
            | Command::Season(_)
            | Command::Body(_)
            | Command::Decision(_)
            | Command::Decisions { .. }
            | Command::Apply { .. } => self.write(cmd).await,
            Command::Status { as_of } => {
                let ledger = self.ledger().await?;
                let as_of = as_of.as_deref().map(str::parse::<AsOf>).transpose()?;
                let status = self.w.status(&ledger, as_of.as_ref()).await?;
                print_status(&status, self.cli.json);
                Ok(0)
            }
            Command::History {
                id,
                actor,
                season,
                event_type,
            } => {
                let ledger = self.ledger().await?;
                if let Some(t) = event_type {
                    t.parse::<EventType>()
                        .map_err(|e| Error::BadInput(e.to_string()))?;
                }
                let mut named = Vec::new();
                if id.is_some() || actor.is_some() {
                    let state = self.w.state(&ledger).await?;
                    if let Some(id) = id {
                        named = id_kinds(&state, id, &ledger)?;
                    }
                    if let Some(id) = actor {
                        let known = state.actors.keys().map(String::as_str);
                        unknown(id, "actor", &ledger, known)?;
                    }
                }
                let mut filter = HistoryFilter {
                    milestone: None,
                    actor: actor.clone(),
                    season: *season,
                    event_type: event_type.clone(),
                };
                match id {
                    // A decision or body id (SPEC section 13): each row says what it matched.
                    Some(id) if named.iter().any(|k| *k != IdKind::Milestone) => {
                        let rows = self.w.history_of(&ledger, &filter, id).await?;
                        print_history_matched(&rows, self.cli.json);
                    }
                    // A milestone id, or none: the audit trail as before.
                    _ => {
                        filter.milestone.clone_from(id);
                        let rows = self.w.history(&ledger, &filter).await?;
                        print_history(&rows, self.cli.json);
                    }
                }
                Ok(0)
            }
            Command::Verify => {
                let ledger = self.ledger().await?;
                let report = self.w.verify(&ledger).await?;
                print_report(&report, self.cli.json);
                Ok(if report.ok { 0 } else { 3 })
            }
            Command::Export { out, upto } => {
                let ledger = self.ledger().await?;
                let bytes = self.w.export(&ledger, *upto).await?;
                write_out(out.as_ref(), &bytes)?;
                if let Some(path) = out {
                    let (n, head) = export_head(&bytes);
                    self.wrote(
                        path,
                        &format!("{n} events of {ledger}{head}"),
                        json!({"events": n}),
                    );
                }
                Ok(0)
            }
            Command::Rebuild => self.rebuild().await,
            Command::Checkpoint { size } => {
                let ledger = self.ledger().await?;
                let key = self.keys.load(&self.keys.log_path(&ledger))?;
                let (cp, note) = self.w.checkpoint(&ledger, *size, &key).await?;
                if self.cli.json {
                    println!(
                        "{}",
                        json!({"origin": cp.origin, "size": cp.size, "root": cp.root, "note": note})
                    );
                } else {
                    print!("{note}");
                }
                Ok(0)
            }
            Command::Snapshot { out, size } => {
                let ledger = self.ledger().await?;
                let key = self.keys.load(&self.keys.log_path(&ledger))?;
                let bundle = self.w.snapshot(&ledger, *size, &key).await?;
                write_out(out.as_ref(), &bundle.to_bytes())?;
                if let Some(path) = out {
                    self.wrote(
                        path,
                        &format!(
                            "the snapshot of {ledger} at tree size {} (head {})",
                            bundle.tree_size, bundle.head_hash
                        ),
                        json!({"tree_size": bundle.tree_size, "head": bundle.head_hash.to_string()}),
                    );
                }
                Ok(0)
            }
            Command::Publish {
                dir,
                witness,
                witness_key,
                witnesses,
            } => {
                let targets =
                    crate::hosting::witness_targets(witness, witness_key, witnesses.as_deref())?;
                let ledger = self.ledger().await?;
                let key = self.keys.load(&self.keys.log_path(&ledger))?;
                let done = crate::hosting::publish(&self.w, &ledger, dir, &key, &targets).await?;
                if !self.cli.json && !self.cli.quiet {
                    for c in &done.witnesses {
                        println!(
                            "cosigned by {} ({}) at {}, {} ms",
                            c.name, c.url, c.cosigned_at, c.millis
                        );
                    }
                }
                if self.cli.json {
                    println!("{}", serde_json::to_string(&done).unwrap_or_default());
                } else if !self.cli.quiet {
                    match done.previous_size {
                        Some(old) => println!(
                            "published {} events of {ledger} to {} (root {}), extending the {old} published before",
                            done.tree_size,
                            done.dir.display(),
                            done.root
                        ),
                        None => println!(
                            "published {} events of {ledger} to {} (root {})",
                            done.tree_size,
                            done.dir.display(),
                            done.root
                        ),
                    }
                }
                Ok(0)
            }
            Command::Prove(p) => {
                let ledger = self.ledger().await?;
                let bytes = match p {
                    ProveCmd::Inclusion { seq, size, .. } => self
                        .w
                        .prove_inclusion(&ledger, *seq, *size)
                        .await?
                        .to_bytes(),
                    ProveCmd::Consistency { old, new, .. } => self
                        .w
                        .prove_consistency(&ledger, *old, *new)
                        .await?
                        .to_bytes(),
                };
                write_out(None, &bytes)?;
                Ok(0)
            }
            Command::Review {
                season,
                format,
                out,
            } => {
                let ledger = self.ledger().await?;
                let form = match (format, self.cli.json) {
                    (ReviewFormat::Json, _) | (_, true) => waymark_projections::ReviewFormat::Json,
                    (ReviewFormat::Md, false) => waymark_projections::ReviewFormat::Markdown,
                    (ReviewFormat::Html, false) => waymark_projections::ReviewFormat::Html,
                };
                let bytes = self.w.review(&ledger, *season, form).await?;
                write_out(out.as_ref(), &bytes)?;
                if let Some(path) = out {
                    self.wrote(
                        path,
                        &format!("the review of Season {season} of {ledger}"),
                        json!({"season": season}),
                    );
                }
                Ok(0)
            }
            Command::Diff { from, to } => {
                let ledger = self.ledger().await?;
                let (a, b) = (from.parse::<AsOf>()?, to.parse::<AsOf>()?);
                let diff = self.w.diff(&ledger, &a, &b).await?;
                if self.cli.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&diff).unwrap_or_default()
                    );
                } else {
                    print!("{}", diff.to_text());
                }
                Ok(0)
            }
            Command::Graph {
                format,
                decisions,
                as_of,
                out,
            } => {
                let ledger = self.ledger().await?;
                let as_of = as_of.as_deref().map(str::parse::<AsOf>).transpose()?;
                let status = self.w.status(&ledger, as_of.as_ref()).await?;
                use waymark_projections as p;
                let text = match (format, decisions) {
                    (GraphFormat::Dot, false) => p::to_dot(&status),
                    (GraphFormat::Mermaid, false) => p::to_mermaid(&status),
                    (GraphFormat::Svg, false) => p::to_svg(&status),
                    (GraphFormat::Dot, true) => p::decisions_to_dot(&status),
                    (GraphFormat::Mermaid, true) => p::decisions_to_mermaid(&status),
                    (GraphFormat::Svg, true) => p::decisions_to_svg(&status),
                };
                write_out(out.as_ref(), text.as_bytes())?;
                if let Some(path) = out {
                    let seq = status.as_of.as_ref().map_or(0, |a| a.seq);
                    let what = if *decisions {
                        "decision diagram"
                    } else {
                        "graph"
                    };
                    self.wrote(
                        path,
                        &format!("the {what} of {ledger} as of seq {seq}"),
                        json!({"as_of_seq": seq}),
                    );
                }
                Ok(0)
            }
            Command::Site { out } => {
                let ledger = self.ledger().await?;
                let site = crate::hosting::build_site(&self.w, &self.keys, &ledger, out).await?;
                if self.cli.json {
                    println!("{}", serde_json::to_string(&site).unwrap_or_default());
                } else if !self.cli.quiet {
                    println!(
                        "wrote the site of {ledger} ({} events, {} files) to {}: open {}",
                        site.tree_size,
                        site.files,
                        site.dir.display(),
                        site.dir.join("index.html").display()
                    );
                }
                Ok(0)
            }
            Command::Demo
            | Command::VerifyOffline(_)
            | Command::Monitor(_)
            | Command::Serve { .. }
            | Command::Witness(_)
            | Command::Migrate => Err(Error::Usage(
                "demo, verify-offline, monitor, serve, witness and migrate are handled before a session opens"
                    .into(),
            )),
        }
    }

    async fn rebuild(&self) -> Result<i32> {
        let ledger = self.ledger().await?;
        let bar = if self.cli.json {
            indicatif::ProgressBar::hidden()
        } else {
            indicatif::ProgressBar::new(0)
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "rebuilding {msg} {wide_bar} {pos}/{len} events ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(ledger.clone());
        let started = std::time::Instant::now();
        let report = self
            .w
            .rebuild(&ledger, &mut |head, reached| {
                bar.set_length(head);
                bar.set_position(reached);
            })
            .await;
        bar.finish_and_clear();
        let report = report?;
        let secs = started.elapsed().as_secs_f64();
        if self.cli.json {
            let mut v = serde_json::to_value(&report).unwrap_or_default();
            v["seconds"] = json!(secs);
            println!("{v}");
        } else {
            println!(
                "rebuilt the read models of {} from {} events in {secs:.2} s",
                report.ledger, report.events
            );
            if report.matched {
                println!("the stored read models matched the events");
            } else {
                println!("the stored read models differed from the events, and were replaced:");
                for d in &report.differences {
                    println!("  {d}");
                }
            }
        }
        Ok(0)
    }
}

impl Writer for Session<'_> {
    fn cli(&self) -> &Cli {
        self.cli
    }
    fn keys(&self) -> &KeyStore {
        &self.keys
    }
    async fn ledger(&self) -> Result<String> {
        Session::ledger(self).await
    }
    async fn state(&self, ledger: &str) -> Result<waymark_core::LedgerState> {
        self.w.state(ledger).await
    }
    async fn record(&self, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Recorded>> {
        self.w.record(ledger, statements).await
    }
    async fn status(&self, ledger: &str, as_of: Option<&str>) -> Result<Status> {
        let as_of = as_of.map(str::parse::<AsOf>).transpose()?;
        self.w.status(ledger, as_of.as_ref()).await
    }
    async fn authority_since(&self, ledger: &str, upto: u64) -> Result<BTreeMap<String, Since>> {
        self.w.authority_since(ledger, upto).await
    }
    async fn apply(&self, file: &PathBuf) -> Result<i32> {
        self.apply_streamed(file).await
    }
}
