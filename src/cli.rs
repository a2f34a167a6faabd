//! The command line (SPEC section 10): parsing, signing with the key store, output.

use crate::aggregate::Signed;
use crate::app::{AsOf, FromDb, Recorded, Waymark};
use crate::db::Db;
use crate::error::{Error, Result, StorageError};
use crate::keys::KeyStore;
use crate::store::system_clock;
use clap::{Args, Parser, Subcommand};
use comfy_table::{presets::NOTHING, Table};
use ed25519_dalek::SigningKey;
use postgres_es::PostgresEventRepository;
use serde_json::{json, Value};
use sqlite_es::SqliteEventRepository;
use std::ffi::OsString;
use std::path::PathBuf;
use waymark_events::*;
use waymark_projections::{HistoryFilter, Status};

#[derive(Debug, Parser)]
#[command(
    name = "waymark",
    version,
    about = "Accountability ledger for decentralization roadmaps"
)]
pub struct Cli {
    /// Database URL: sqlite://PATH (default sqlite://waymark.db) or postgres://…
    #[arg(long, env = "WAYMARK_DB", global = true)]
    pub db: Option<String>,
    /// Ledger id (default: the only ledger in the store)
    #[arg(long, env = "WAYMARK_LEDGER", global = true)]
    pub ledger: Option<String>,
    /// Key store directory (default ~/.waymark/keys)
    #[arg(long, env = "WAYMARK_KEYS", global = true)]
    pub keys: Option<PathBuf>,
    /// Actor who signs (default: the founder)
    #[arg(long = "as", env = "WAYMARK_ACTOR", global = true)]
    pub as_actor: Option<String>,
    /// Machine-readable output on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// A Waymark server (`waymark serve`): write commands are signed here with the
    /// key store and posted to it; read commands ask it
    #[arg(long, env = "WAYMARK_SERVER", global = true)]
    pub server: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a ledger: LedgerOpened plus one MilestoneDefined per framework milestone
    Init(InitArgs),
    /// Register and manage actors
    #[command(subcommand)]
    Actor(ActorCmd),
    /// Define, revise, retire milestones and change their status
    #[command(subcommand)]
    Milestone(MilestoneCmd),
    /// Phase transitions
    #[command(subcommand)]
    Phase(PhaseCmd),
    /// Open and re-evaluate Seasons
    #[command(subcommand)]
    Season(SeasonCmd),
    /// Record a JSON Lines file of {"as","type","payload","issued_at"?}: all lines or none
    Apply { file: PathBuf },
    /// The status projection (SPEC section 9)
    Status {
        /// seq:N, season:N or time:RFC3339
        #[arg(long)]
        as_of: Option<String>,
    },
    /// The audit trail
    History {
        milestone: Option<String>,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        season: Option<i64>,
        #[arg(long = "type")]
        event_type: Option<String>,
    },
    /// End-of-Season review: status at its start and end, every change, focus
    /// against delivery, regressions, who acted
    Review {
        season: i64,
        #[arg(long, value_enum, default_value = "md")]
        format: ReviewFormat,
        /// Write to FILE instead of standard output
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// What changed between two points (seq:N, season:N or time:RFC3339)
    Diff { from: String, to: String },
    /// The dependency graph coloured by status
    Graph {
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
        /// seq:N, season:N or time:RFC3339
        #[arg(long)]
        as_of: Option<String>,
        /// Write to FILE instead of standard output
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Re-check the whole stored chain: hashes, links, signatures, rules
    Verify,
    /// Export the ledger as JSON Lines (SPEC section 7)
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        upto: Option<u64>,
    },
    /// A signed checkpoint (C2SP signed note) of the first N events (default: all)
    Checkpoint {
        #[arg(long)]
        size: Option<u64>,
    },
    /// The snapshot bundle (SPEC section 8): checkpoint plus the status it implies
    Snapshot {
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        size: Option<u64>,
    },
    /// Inclusion and consistency proofs (SPEC section 6)
    #[command(subcommand)]
    Prove(ProveCmd),
    /// Verify from files only (no database): the export, streamed, and the snapshot,
    /// previous snapshot and proofs given
    VerifyOffline {
        /// The export (JSON Lines, SPEC section 7)
        #[arg(long)]
        log: PathBuf,
        /// A snapshot bundle (SPEC section 8) to check against the log
        #[arg(long)]
        snapshot: Option<PathBuf>,
        /// An earlier snapshot the log must extend (checked with a consistency proof
        /// computed from the log)
        #[arg(long)]
        prev_snapshot: Option<PathBuf>,
        /// The log key to trust (verifier string or a file holding it); default: the
        /// one in LedgerOpened, trusted on first use
        #[arg(long)]
        key: Option<String>,
        /// An inclusion proof (SPEC section 6) to check against the log
        #[arg(long)]
        inclusion: Option<PathBuf>,
        /// A consistency proof (SPEC section 6) to check against the log
        #[arg(long)]
        consistency: Option<PathBuf>,
    },
    /// Verify, then write the export, checkpoint, snapshot and the consistency proof
    /// from the snapshot already in DIR, for a static web host
    Publish { dir: PathBuf },
    /// Recompute every stored read model from the events, with a progress bar, and
    /// check the result against the stored ones
    Rebuild,
    /// Build the bundled, sourced Optimism history into a fresh ledger and verify it
    Demo,
    /// Serve the HTTP API and the dashboard (ctrl-c stops it, after the requests in flight)
    Serve {
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
    },
    /// Write the dashboard and the API's artifacts as static files into DIR
    Site {
        #[arg(long)]
        out: PathBuf,
    },
}

impl Command {
    /// Commands that only read the store: they open it read-only, so they work for
    /// a user with nothing but read access (issue 12).
    pub fn reads_only(&self) -> bool {
        matches!(
            self,
            Command::Status { .. }
                | Command::History { .. }
                | Command::Review { .. }
                | Command::Diff { .. }
                | Command::Graph { .. }
                | Command::Verify
                | Command::Export { .. }
                | Command::Checkpoint { .. }
                | Command::Snapshot { .. }
                | Command::Prove(_)
                | Command::Actor(ActorCmd::List)
        )
    }
}

#[derive(Debug, Subcommand)]
pub enum ProveCmd {
    /// That event SEQ is in the tree of the first N events (default: all)
    Inclusion {
        seq: u64,
        #[arg(long)]
        size: Option<u64>,
    },
    /// That the tree of the first OLD events is a prefix of the tree of the first NEW
    Consistency { old: u64, new: u64 },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReviewFormat {
    Md,
    Json,
    Html,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Svg,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// A bundled framework (optimism, l2beat-stages) or a TOML file
    #[arg(long)]
    pub framework: String,
    #[arg(long)]
    pub title: Option<String>,
    /// Checkpoint origin (and log key name); default waymark.local/LEDGER
    #[arg(long)]
    pub origin: Option<String>,
    #[arg(long, default_value = "founder")]
    pub founder: String,
    #[arg(long)]
    pub founder_name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ActorCmd {
    Add {
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        public_key: Option<String>,
    },
    Roles {
        id: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    RotateKey {
        id: String,
        #[arg(long)]
        public_key: Option<String>,
    },
    Retire {
        id: String,
        #[arg(long)]
        reason: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
pub enum MilestoneCmd {
    Define {
        id: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        layer: String,
        #[arg(long)]
        phase: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long = "principle")]
        principles: Vec<String>,
        #[arg(long = "depends-on")]
        depends_on: Vec<String>,
    },
    Revise {
        id: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        phase: Option<String>,
        /// Replaces the principles (give it with no value to clear them)
        #[arg(long = "principle", num_args = 0..)]
        principles: Option<Vec<String>>,
        /// Replaces the dependencies (give it with no value to clear them)
        #[arg(long = "depends-on", num_args = 0..)]
        depends_on: Option<Vec<String>>,
        #[arg(long)]
        reason: String,
    },
    Retire {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Change a milestone's status (not_started, in_progress, achieved)
    Set {
        id: String,
        status: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        evidence: Vec<String>,
        #[arg(long)]
        effective_on: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PhaseCmd {
    /// Move a layer to its next phase
    Advance {
        layer: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SeasonCmd {
    Open {
        number: i64,
        #[arg(long)]
        starts_on: String,
        #[arg(long)]
        intent: String,
        #[arg(long)]
        focus: Vec<String>,
    },
    Close {
        number: i64,
        #[arg(long)]
        ends_on: String,
        #[arg(long)]
        summary: String,
        /// MILESTONE=NOTE
        #[arg(long = "assess")]
        assess: Vec<String>,
    },
}

/// Runs the CLI on these arguments and returns the process exit code.
pub fn main_with_args<I: IntoIterator<Item = OsString>>(args: I) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let json = cli.json;
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("waymark: cannot start the runtime: {e}");
            return 4;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            report_error(&e, json);
            e.exit_code()
        }
    }
}

fn report_error(e: &Error, json: bool) {
    eprintln!("waymark: {e}");
    if json {
        let mut v = json!({"error": {"message": e.to_string(), "exit_code": e.exit_code()}});
        if let Error::Rejected { line, rejection } = e {
            v["error"]["rule"] = rejection.rule.id().into();
            v["error"]["field"] = rejection.field.clone().into();
            v["error"]["line"] = json!(line);
        }
        println!("{v}");
    }
}

pub(crate) fn default_keys_dir() -> PathBuf {
    dirs::home_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".waymark/keys")
}

async fn run(cli: Cli) -> Result<i32> {
    if matches!(cli.command, Command::Demo) {
        return crate::demo::run(&cli).await;
    }
    if let Command::VerifyOffline {
        log,
        snapshot,
        prev_snapshot,
        key,
        inclusion,
        consistency,
    } = &cli.command
    {
        let outcome = crate::offline::verify_offline(&crate::offline::OfflineInputs {
            log: log.clone(),
            snapshot: snapshot.clone(),
            prev_snapshot: prev_snapshot.clone(),
            key: key.clone(),
            inclusion: inclusion.clone(),
            consistency: consistency.clone(),
        })?;
        for w in &outcome.warnings {
            eprintln!("waymark: warning: {w}");
        }
        print_report(&outcome.report, cli.json);
        return Ok(if outcome.report.ok { 0 } else { 3 });
    }
    if let Some(server) = &cli.server {
        return crate::remote::run(&cli, server).await;
    }
    let url = cli
        .db
        .clone()
        .unwrap_or_else(|| "sqlite://waymark.db".into());
    // Refused before anything is opened: a URL with no file, and an in-memory
    // store, where a write would vanish when the command exits (issue 12: `init`
    // on `sqlite::memory:` exited 0 and kept nothing).
    if crate::db::target(&url).map_err(Error::Usage)? == crate::db::Target::SqliteMemory {
        return Err(Error::Usage(crate::db::in_memory(&url)));
    }
    let read_only = cli.command.reads_only();
    let (db, guard) = if read_only {
        Db::open_read_only(&url).await?
    } else {
        (Db::connect(&url).await?, crate::db::ReadGuard::default())
    };
    if let Command::Serve { addr } = &cli.command {
        let keys = cli.keys.clone().unwrap_or_else(default_keys_dir);
        let served = crate::server::serve(db.clone(), keys, addr).await;
        db.close().await;
        return served.map(|()| 0);
    }
    // Every command waits for the read models of what it recorded before exiting.
    let code = match &db {
        Db::Sqlite(_) => {
            let s = Session::<SqliteEventRepository>::new(&cli, db.clone(), read_only)?;
            let code = s.run(&cli.command).await;
            s.w.settle().await;
            code
        }
        Db::Postgres(_) => {
            let s = Session::<PostgresEventRepository>::new(&cli, db.clone(), read_only)?;
            let code = s.run(&cli.command).await;
            s.w.settle().await;
            code
        }
    };
    db.close().await;
    let code = code?;
    guard.check()?;
    Ok(code)
}

pub(crate) fn now() -> String {
    format_timestamp(chrono::Utc::now().timestamp_micros())
}

/// One CLI invocation against one store.
pub(crate) struct Session<'a, R: FromDb> {
    pub w: Waymark<R>,
    pub keys: KeyStore,
    pub cli: &'a Cli,
}

impl<'a, R: FromDb> Session<'a, R> {
    pub fn new(cli: &'a Cli, db: Db, read_only: bool) -> Result<Self> {
        let w = if read_only {
            Waymark::new_read_only(db, system_clock())?
        } else {
            Waymark::new(db, system_clock())?
        };
        Ok(Session {
            w,
            keys: KeyStore::new(cli.keys.clone().unwrap_or_else(default_keys_dir)),
            cli,
        })
    }

    async fn ledger(&self) -> Result<String> {
        if let Some(l) = &self.cli.ledger {
            return Ok(l.clone());
        }
        let all = self.w.db.ledgers().await?;
        match all.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Error::Usage("no ledger in this store: run `waymark init --ledger ID --framework optimism` first".into())),
            many => Err(Error::Usage(format!("this store holds several ledgers ({}): pass --ledger ID", many.join(", ")))),
        }
    }

    pub async fn run(&self, cmd: &Command) -> Result<i32> {
        match cmd {
            Command::Init(_)
            | Command::Actor(_)
            | Command::Milestone(_)
            | Command::Phase(_)
            | Command::Season(_)
            | Command::Apply { .. } => self.write(cmd).await,
            Command::Status { as_of } => {
                let ledger = self.ledger().await?;
                let as_of = as_of.as_deref().map(str::parse::<AsOf>).transpose()?;
                let status = self.w.status(&ledger, as_of.as_ref()).await?;
                print_status(&status, self.cli.json);
                Ok(0)
            }
            Command::History {
                milestone,
                actor,
                season,
                event_type,
            } => {
                let ledger = self.ledger().await?;
                if let Some(t) = event_type {
                    t.parse::<EventType>().map_err(Error::BadInput)?;
                }
                let filter = HistoryFilter {
                    milestone: milestone.clone(),
                    actor: actor.clone(),
                    season: *season,
                    event_type: event_type.clone(),
                };
                let rows = self.w.history(&ledger, &filter).await?;
                print_history(&rows, self.cli.json);
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
                Ok(0)
            }
            Command::Publish { dir } => {
                let ledger = self.ledger().await?;
                let key = self.keys.load(&self.keys.log_path(&ledger))?;
                let done = crate::publish::publish(&self.w, &ledger, dir, &key).await?;
                if self.cli.json {
                    println!("{}", serde_json::to_string(&done).unwrap_or_default());
                } else {
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
                    ProveCmd::Inclusion { seq, size } => self
                        .w
                        .prove_inclusion(&ledger, *seq, *size)
                        .await?
                        .to_bytes(),
                    ProveCmd::Consistency { old, new } => self
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
                let review = self.w.review(&ledger, *season).await?;
                let text = match (format, self.cli.json) {
                    (ReviewFormat::Json, _) | (_, true) => {
                        serde_json::to_string_pretty(&review).unwrap_or_default() + "\n"
                    }
                    (ReviewFormat::Md, false) => review.to_markdown(),
                    (ReviewFormat::Html, false) => review.to_html(),
                };
                write_out(out.as_ref(), text.as_bytes())?;
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
            Command::Graph { format, as_of, out } => {
                let ledger = self.ledger().await?;
                let as_of = as_of.as_deref().map(str::parse::<AsOf>).transpose()?;
                let status = self.w.status(&ledger, as_of.as_ref()).await?;
                let text = match format {
                    GraphFormat::Dot => waymark_projections::to_dot(&status),
                    GraphFormat::Mermaid => waymark_projections::to_mermaid(&status),
                    GraphFormat::Svg => waymark_projections::to_svg(&status),
                };
                write_out(out.as_ref(), text.as_bytes())?;
                Ok(0)
            }
            Command::Site { out } => {
                let ledger = self.ledger().await?;
                let backend = crate::server::Backend::new(self.w.db.clone())?;
                let site = crate::site::build(&backend, &self.keys, &ledger, out).await?;
                if self.cli.json {
                    println!("{}", serde_json::to_string(&site).unwrap_or_default());
                } else {
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
            Command::Demo | Command::VerifyOffline { .. } | Command::Serve { .. } => {
                Err(Error::Usage(
                    "demo, verify-offline and serve are handled before a session opens".into(),
                ))
            }
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

/// Where a session's statements are recorded and its rule state is read: the local
/// store (`Session`) or a server (`remote::Remote`, `--server URL`). The write
/// commands are written once, here, against it.
pub(crate) trait Writer {
    fn cli(&self) -> &Cli;
    fn keys(&self) -> &KeyStore;
    /// The ledger: `--ledger`, or the only one there is.
    async fn ledger(&self) -> Result<String>;
    /// The rule state at the head.
    async fn state(&self, ledger: &str) -> Result<crate::state::LedgerState>;
    /// Records statements, all or none (`line` of a rejection: 1-based index).
    async fn record(&self, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Recorded>>;

    /// Signs a payload as `--as` (default: the founder) and records it.
    async fn sign_and_record(&self, payload: Payload) -> Result<Vec<Recorded>> {
        let ledger = self.ledger().await?;
        let actor = match &self.cli().as_actor {
            Some(a) => a.clone(),
            None => self.state(&ledger).await?.founder,
        };
        let key = self.keys().load_actor(&actor)?;
        self.record_signed(&ledger, vec![signed(&ledger, &actor, &key, now(), payload)])
            .await
    }

    async fn record_signed(&self, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Recorded>> {
        let recorded = self.record(ledger, statements).await.map_err(|e| match e {
            Error::Rejected { rejection, .. } => Error::Rejected {
                line: None,
                rejection,
            },
            e => e,
        })?;
        self.print_recorded(&recorded);
        Ok(recorded)
    }

    fn print_recorded(&self, recorded: &[Recorded]) {
        if self.cli().json {
            println!("{}", json!({ "recorded": recorded }));
        } else {
            for r in recorded.iter().rev().take(1).rev() {
                let more = if recorded.len() > 1 {
                    format!(" ({} events)", recorded.len())
                } else {
                    String::new()
                };
                println!(
                    "recorded seq {} {}{more}  hash {}",
                    r.seq, r.event_type, r.hash
                );
            }
        }
    }

    /// The write commands: each statement signed here with the key store, then
    /// recorded by the store or the server.
    async fn write(&self, cmd: &Command) -> Result<i32> {
        match cmd {
            Command::Init(a) => self.init(a).await,
            Command::Actor(c) => self.actor(c).await,
            Command::Milestone(c) => self.milestone(c).await,
            Command::Phase(PhaseCmd::Advance { layer, reason }) => {
                let ledger = self.ledger().await?;
                let st = self.state(&ledger).await?;
                let from = st.layer_phase.get(layer).cloned().unwrap_or_default();
                let next = st
                    .framework
                    .layer(layer)
                    .and_then(|l| l.phases.iter().skip_while(|p| **p != from).nth(1).cloned())
                    .unwrap_or_else(|| from.clone());
                self.sign_and_record(Payload::PhaseTransitioned(PhaseTransitioned {
                    layer: layer.clone(),
                    from,
                    to: next,
                    reason: reason.clone(),
                }))
                .await?;
                Ok(0)
            }
            Command::Season(SeasonCmd::Open {
                number,
                starts_on,
                intent,
                focus,
            }) => {
                self.sign_and_record(Payload::SeasonOpened(SeasonOpened {
                    season: *number,
                    starts_on: starts_on.clone(),
                    intent: intent.clone(),
                    focus: focus.clone(),
                }))
                .await?;
                Ok(0)
            }
            Command::Season(SeasonCmd::Close {
                number,
                ends_on,
                summary,
                assess,
            }) => {
                let assessments = assess
                    .iter()
                    .map(|a| {
                        a.split_once('=')
                            .map(|(m, n)| Assessment {
                                milestone: m.into(),
                                note: n.into(),
                            })
                            .ok_or_else(|| {
                                Error::Usage(format!("--assess {a:?}: expected MILESTONE=NOTE"))
                            })
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.sign_and_record(Payload::SeasonReEvaluated(SeasonReEvaluated {
                    season: *number,
                    ends_on: ends_on.clone(),
                    summary: summary.clone(),
                    assessments,
                }))
                .await?;
                Ok(0)
            }
            Command::Apply { file } => self.apply(file).await,
            _ => Err(Error::Usage("not a write command".into())),
        }
    }

    async fn init(&self, a: &InitArgs) -> Result<i32> {
        let ledger = self
            .cli()
            .ledger
            .clone()
            .ok_or_else(|| Error::Usage("init needs --ledger ID".into()))?;
        let loaded = crate::framework::load(&a.framework)?;
        let founder_key = self
            .keys()
            .load_or_create(&self.keys().actor_path(&a.founder))?
            .0;
        let log_key = self
            .keys()
            .load_or_create(&self.keys().log_path(&ledger))?
            .0;
        let statements = init_statements(&ledger, a, &loaded, &founder_key, &log_key, &now());
        self.record_signed(&ledger, statements).await?;
        Ok(0)
    }

    async fn actor(&self, c: &ActorCmd) -> Result<i32> {
        match c {
            ActorCmd::Add {
                id,
                name,
                roles,
                public_key,
            } => {
                let pk = match public_key {
                    Some(pk) => pk.clone(),
                    None => encode_public_key(
                        &self
                            .keys()
                            .load_or_create(&self.keys().actor_path(id))?
                            .0
                            .verifying_key(),
                    ),
                };
                self.sign_and_record(Payload::ActorRegistered(ActorRegistered {
                    actor: id.clone(),
                    name: name.clone(),
                    roles: roles.clone(),
                    public_key: pk,
                }))
                .await?;
            }
            ActorCmd::Roles { id, roles } => {
                self.sign_and_record(Payload::ActorRolesChanged(ActorRolesChanged {
                    actor: id.clone(),
                    roles: roles.clone(),
                }))
                .await?;
            }
            ActorCmd::RotateKey { id, public_key } => {
                let fresh = public_key
                    .is_none()
                    .then(|| SigningKey::generate(&mut rand::rngs::OsRng));
                let pk = match (public_key, &fresh) {
                    (Some(pk), _) => pk.clone(),
                    (None, Some(k)) => encode_public_key(&k.verifying_key()),
                    (None, None) => unreachable!("a key is generated when none is given"),
                };
                self.sign_and_record(Payload::ActorKeyRotated(ActorKeyRotated {
                    actor: id.clone(),
                    public_key: pk,
                }))
                .await?;
                // Only once the rotation is recorded does the new key replace the old.
                if let Some(k) = fresh {
                    self.keys().replace(&self.keys().actor_path(id), &k)?;
                }
            }
            ActorCmd::Retire { id, reason } => {
                self.sign_and_record(Payload::ActorRetired(ActorRetired {
                    actor: id.clone(),
                    reason: reason.clone(),
                }))
                .await?;
            }
            ActorCmd::List => {
                let st = self.state(&self.ledger().await?).await?;
                if self.cli().json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&st.actors).unwrap_or_default()
                    );
                } else {
                    let mut t = table(&["actor", "name", "roles", "public_key", "state"]);
                    for (id, a) in &st.actors {
                        let state = if a.retired { "retired" } else { "active" };
                        t.add_row(vec![
                            id.clone(),
                            a.name.clone(),
                            a.roles.join(", "),
                            a.public_key.clone(),
                            state.into(),
                        ]);
                    }
                    println!("{t}");
                }
            }
        }
        Ok(0)
    }

    async fn milestone(&self, c: &MilestoneCmd) -> Result<i32> {
        let payload = match c {
            MilestoneCmd::Define {
                id,
                title,
                layer,
                phase,
                description,
                principles,
                depends_on,
            } => Payload::MilestoneDefined(MilestoneDefined {
                id: id.clone(),
                title: title.clone(),
                layer: layer.clone(),
                phase: phase.clone(),
                description: description.clone(),
                principles: principles.clone(),
                depends_on: depends_on.clone(),
            }),
            MilestoneCmd::Revise {
                id,
                title,
                description,
                phase,
                principles,
                depends_on,
                reason,
            } => Payload::MilestoneRevised(MilestoneRevised {
                id: id.clone(),
                reason: reason.clone(),
                title: title.clone(),
                description: description.clone(),
                phase: phase.clone(),
                principles: principles.clone(),
                depends_on: depends_on.clone(),
            }),
            MilestoneCmd::Retire { id, reason } => Payload::MilestoneRetired(MilestoneRetired {
                id: id.clone(),
                reason: reason.clone(),
            }),
            MilestoneCmd::Set {
                id,
                status,
                reason,
                evidence,
                effective_on,
            } => {
                let ledger = self.ledger().await?;
                let st = self.state(&ledger).await?;
                let from = st
                    .milestones
                    .get(id)
                    .map(|m| m.status.clone())
                    .ok_or_else(|| Error::Rejected {
                        line: None,
                        rejection: crate::rules::Rejection {
                            rule: crate::rules::Rule::Milestone,
                            field: "payload.id".into(),
                            message: format!("milestone {id:?} is not defined"),
                        },
                    })?;
                Payload::MilestoneStatusChanged(MilestoneStatusChanged {
                    id: id.clone(),
                    from,
                    to: status.clone(),
                    reason: reason.clone(),
                    evidence: evidence.clone(),
                    effective_on: effective_on.clone(),
                })
            }
        };
        self.sign_and_record(payload).await?;
        Ok(0)
    }

    /// `apply FILE` sent as one batch (the `--server` client: the server's body
    /// limit bounds it): every line parsed, then signed with its actor's key, all
    /// recorded in one transaction or none; errors name the line. The local store
    /// streams the file instead (`Session::apply`).
    async fn apply(&self, file: &PathBuf) -> Result<i32> {
        let ledger = self.ledger().await?;
        let io =
            |e: std::io::Error| Error::Storage(StorageError(format!("{}: {e}", file.display())));
        let size = std::fs::metadata(file).map_err(io)?.len();
        if size > MAX_APPLY_BYTES {
            return Err(Error::BadInput(format!(
                "{}: {size} bytes is more than one apply file may hold ({MAX_APPLY_BYTES}); split it",
                file.display()
            )));
        }
        let text = std::fs::read(file).map_err(io)?;
        let lines = parse_apply_lines(&text)?;
        let mut statements = Vec::with_capacity(lines.len());
        let mut keys = std::collections::HashMap::new();
        let issued = now();
        for l in &lines {
            if !keys.contains_key(&l.actor) {
                let k = self
                    .keys()
                    .load_actor(&l.actor)
                    .map_err(|e| Error::BadInput(format!("line {}: {e}", l.line)))?;
                keys.insert(l.actor.clone(), k);
            }
            let at = l.issued_at.clone().unwrap_or_else(|| issued.clone());
            statements.push(signed(
                &ledger,
                &l.actor,
                &keys[&l.actor],
                at,
                l.payload.clone(),
            ));
        }
        if statements.is_empty() {
            return Err(Error::BadInput(format!(
                "{}: no statements",
                file.display()
            )));
        }
        let recorded = self
            .record(&ledger, statements)
            .await
            .map_err(|e| match e {
                Error::Rejected {
                    line: Some(i),
                    rejection,
                } => Error::Rejected {
                    line: Some(lines[i - 1].line),
                    rejection,
                },
                e => e,
            })?;
        self.print_recorded(&recorded);
        Ok(0)
    }
}

impl<R: FromDb> Session<'_, R> {
    /// `apply FILE` on the local store, streamed (issue 12: the whole file, parsed
    /// and signed, peaked at 2.0 GB for 100k lines): lines are read, parsed, signed
    /// and recorded a piece at a time inside one transaction, so memory stays flat
    /// whatever the file's size, a bad line is reported before the lines after its
    /// piece are read or signed, and still nothing is recorded unless every line is.
    async fn apply_streamed(&self, file: &PathBuf) -> Result<i32> {
        let ledger = self.ledger().await?;
        let input = std::fs::File::open(file)
            .map_err(|e| Error::Storage(StorageError(format!("{}: {e}", file.display()))))?;
        let mut source = SignedLines {
            lines: ApplyLines::new(std::io::BufReader::new(input), file.display().to_string()),
            keys: &self.keys,
            cache: std::collections::HashMap::new(),
            ledger: ledger.clone(),
            issued_at: now(),
            failed: None,
        };
        let Some((lo, hi)) = self.w.record_stream(&ledger, &mut source).await? else {
            return Err(Error::BadInput(format!(
                "{}: no statements",
                file.display()
            )));
        };
        use std::io::Write;
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let failed = |e: std::io::Error| Error::Storage(StorageError(format!("stdout: {e}")));
        if self.cli.json {
            // `{"recorded":[…]}` as `print_recorded` writes it, an event at a time.
            out.write_all(b"{\"recorded\":[").map_err(failed)?;
            let mut wrote = Ok(());
            self.w
                .each_recorded(&ledger, lo, hi, &mut |r| {
                    if wrote.is_ok() {
                        let sep: &[u8] = if r.seq == lo { b"" } else { b"," };
                        wrote = out
                            .write_all(sep)
                            .and_then(|()| serde_json::to_writer(&mut out, &r).map_err(Into::into));
                    }
                })
                .await?;
            wrote.map_err(failed)?;
            out.write_all(b"]}\n").map_err(failed)?;
        } else {
            let mut last = None;
            self.w
                .each_recorded(&ledger, hi, hi, &mut |r| last = Some(r))
                .await?;
            if let Some(r) = last {
                let more = if hi > lo {
                    format!(" ({} events)", hi - lo + 1)
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "recorded seq {} {}{more}  hash {}",
                    r.seq, r.event_type, r.hash
                )
                .map_err(failed)?;
            }
        }
        out.flush().map_err(failed)?;
        Ok(0)
    }
}

/// The statements of an `apply` file, signed a piece at a time for
/// [`Waymark::record_stream`]. A line that cannot be read or signed ends the piece
/// before it, and is reported once that piece is judged, so the first failing line
/// is the one named, as if the file were checked one line after another.
struct SignedLines<'k, B> {
    lines: ApplyLines<B>,
    keys: &'k KeyStore,
    /// Each actor's key, loaded once (bounded by the number of actors).
    cache: std::collections::HashMap<String, SigningKey>,
    ledger: String,
    /// The `issued_at` of lines that give none.
    issued_at: String,
    failed: Option<Error>,
}

impl<B: std::io::BufRead> crate::app::StatementSource for SignedLines<'_, B> {
    fn next_piece(&mut self, max: usize) -> Result<Vec<(usize, Signed)>> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let mut piece = Vec::with_capacity(max.min(1024));
        while piece.len() < max {
            let line = match self.lines.next_line() {
                Ok(Some(l)) => l,
                Ok(None) => break,
                Err(e) => {
                    self.failed = Some(e);
                    break;
                }
            };
            if !self.cache.contains_key(&line.actor) {
                match self.keys.load_actor(&line.actor) {
                    Ok(k) => {
                        self.cache.insert(line.actor.clone(), k);
                    }
                    Err(e) => {
                        self.failed = Some(Error::BadInput(format!("line {}: {e}", line.line)));
                        break;
                    }
                }
            }
            let at = line.issued_at.unwrap_or_else(|| self.issued_at.clone());
            let s = signed(
                &self.ledger,
                &line.actor,
                &self.cache[&line.actor],
                at,
                line.payload,
            );
            piece.push((line.line, s));
        }
        match (piece.is_empty(), self.failed.take()) {
            (true, Some(e)) => Err(e),
            (_, failed) => {
                self.failed = failed;
                Ok(piece)
            }
        }
    }
}

impl<R: FromDb> Writer for Session<'_, R> {
    fn cli(&self) -> &Cli {
        self.cli
    }
    fn keys(&self) -> &KeyStore {
        &self.keys
    }
    async fn ledger(&self) -> Result<String> {
        Session::ledger(self).await
    }
    async fn state(&self, ledger: &str) -> Result<crate::state::LedgerState> {
        self.w.state(ledger).await
    }
    async fn record(&self, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Recorded>> {
        self.w.record(ledger, statements).await
    }
    async fn apply(&self, file: &PathBuf) -> Result<i32> {
        self.apply_streamed(file).await
    }
}

/// One line of an `apply` file.
#[derive(Debug, Clone)]
pub(crate) struct ApplyLine {
    pub line: usize,
    pub actor: String,
    pub payload: Payload,
    pub issued_at: Option<String>,
}

/// The largest `apply` file the `--server` client reads and sends as one batch (the
/// local store streams any size): 256 MiB.
const MAX_APPLY_BYTES: u64 = 256 * 1024 * 1024;

/// Parses `{"as","type","payload","issued_at"?}` lines strictly (SPEC section 2).
pub(crate) fn parse_apply_lines(text: &[u8]) -> Result<Vec<ApplyLine>> {
    let mut lines = ApplyLines::new(text, "input".into());
    let mut out = Vec::new();
    while let Some(l) = lines.next_line()? {
        out.push(l);
    }
    Ok(out)
}

/// The UTF-8 byte order mark some editors put at the start of a file. It is not
/// part of the first line's JSON: it is skipped (issue 12: it was reported as
/// "expected value at line 1 column 1").
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads an `apply` file one line at a time, holding at most one line (of at most
/// a statement's size) in memory.
pub(crate) struct ApplyLines<B> {
    input: B,
    /// The file's name, for read errors.
    name: String,
    /// The number of the last line read (1-based).
    line: usize,
    buf: Vec<u8>,
}

impl<B: std::io::BufRead> ApplyLines<B> {
    pub(crate) fn new(input: B, name: String) -> Self {
        ApplyLines {
            input,
            name,
            line: 0,
            buf: Vec::new(),
        }
    }

    fn io(name: &str, e: std::io::Error) -> Error {
        Error::Storage(StorageError(format!("{name}: {e}")))
    }

    /// The next line that is not blank, parsed; `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> Result<Option<ApplyLine>> {
        use std::io::{BufRead, Read};
        // Rule 8 before parsing: a line longer than a statement may be is not kept.
        let limit = crate::state::MAX_STATEMENT_BYTES as u64 + 1;
        loop {
            self.buf.clear();
            self.line += 1;
            let n = (&mut self.input)
                .take(limit)
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| Self::io(&self.name, e))?;
            if n == 0 {
                return Ok(None);
            }
            let line = self.line;
            let mut raw: &[u8] = &self.buf;
            if let Some(r) = raw.strip_suffix(b"\n") {
                raw = r;
            } else if n as u64 == limit {
                // Too long: count the rest of it without keeping it.
                let mut len = raw.len();
                loop {
                    let chunk = self.input.fill_buf().map_err(|e| Self::io(&self.name, e))?;
                    if chunk.is_empty() {
                        break;
                    }
                    match chunk.iter().position(|b| *b == b'\n') {
                        Some(i) => {
                            len += i;
                            self.input.consume(i + 1);
                            break;
                        }
                        None => {
                            let k = chunk.len();
                            len += k;
                            self.input.consume(k);
                        }
                    }
                }
                return Err(Error::Rejected {
                    line: Some(line),
                    rejection: crate::rules::Rejection {
                        rule: crate::rules::Rule::Limits,
                        field: "statement".into(),
                        message: format!(
                            "a line of {len} bytes exceeds {} (checked before parsing)",
                            crate::state::MAX_STATEMENT_BYTES
                        ),
                    },
                });
            }
            if line == 1 {
                raw = raw.strip_prefix(BOM).unwrap_or(raw);
            }
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return parse_apply_line(line, raw).map(Some);
        }
    }
}

/// One line of an `apply` file, parsed strictly.
fn parse_apply_line(line: usize, raw: &[u8]) -> Result<ApplyLine> {
    let bad = |m: String| Error::BadInput(format!("line {line}: {m}"));
    let v = parse_strict(raw).map_err(|e| bad(e.to_string()))?;
    let m = v
        .as_object()
        .ok_or_else(|| bad("expected a JSON object".into()))?;
    if let Some(k) = m
        .keys()
        .find(|k| !["as", "type", "payload", "issued_at"].contains(&k.as_str()))
    {
        return Err(bad(format!(
            "unexpected key {k:?} (allowed: as, type, payload, issued_at)"
        )));
    }
    let text_of = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    let actor = text_of("as").ok_or_else(|| bad("\"as\" must be an actor id string".into()))?;
    let kind: EventType = text_of("type")
        .ok_or_else(|| bad("\"type\" must be a string".into()))?
        .parse()
        .map_err(bad)?;
    let payload_value = m
        .get("payload")
        .ok_or_else(|| bad("missing \"payload\"".into()))?;
    let payload =
        Payload::from_value(kind, payload_value).map_err(|e| bad(format!("payload: {e}")))?;
    let issued_at = match m.get("issued_at") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(bad("\"issued_at\" must be a string".into())),
    };
    Ok(ApplyLine {
        line,
        actor,
        payload,
        issued_at,
    })
}

pub(crate) fn signed(
    ledger: &str,
    actor: &str,
    key: &SigningKey,
    issued_at: String,
    payload: Payload,
) -> Signed {
    let statement = Statement::new(ledger, actor, &issued_at, payload);
    let sig = sign(&statement, key);
    Signed { statement, sig }
}

/// `LedgerOpened` and the framework's milestones, signed by the founder.
pub(crate) fn init_statements(
    ledger: &str,
    a: &InitArgs,
    loaded: &crate::framework::LoadedFramework,
    founder_key: &SigningKey,
    log_key: &SigningKey,
    issued_at: &str,
) -> Vec<Signed> {
    let origin = a
        .origin
        .clone()
        .unwrap_or_else(|| format!("waymark.local/{ledger}"));
    let opened = Payload::LedgerOpened(LedgerOpened {
        title: a
            .title
            .clone()
            .unwrap_or_else(|| loaded.framework.title.clone()),
        log_key: verifier_key(&origin, &log_key.verifying_key()),
        origin,
        founder: Founder {
            actor: a.founder.clone(),
            name: a.founder_name.clone().unwrap_or_else(|| a.founder.clone()),
            public_key: encode_public_key(&founder_key.verifying_key()),
        },
        framework: loaded.framework.clone(),
    });
    std::iter::once(opened)
        .chain(
            loaded
                .milestones
                .iter()
                .cloned()
                .map(Payload::MilestoneDefined),
        )
        .map(|p| signed(ledger, &a.founder, founder_key, issued_at.to_string(), p))
        .collect()
}

pub(crate) fn write_out(out: Option<&PathBuf>, bytes: &[u8]) -> Result<()> {
    match out {
        Some(p) => std::fs::write(p, bytes)
            .map_err(|e| Error::Storage(StorageError(format!("{}: {e}", p.display())))),
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(bytes)
                .map_err(|e| Error::Storage(StorageError(format!("stdout: {e}"))))
        }
    }
}

pub(crate) fn print_report(report: &crate::verify::Report, json: bool) {
    if json {
        println!("{}", serde_json::to_string(report).unwrap_or_default());
    } else if report.ok {
        let head = report
            .head
            .as_ref()
            .map(|h| format!(" head seq {} {}", h.seq, h.hash))
            .unwrap_or_default();
        println!("verify: OK, {} events checked;{head}", report.checked);
    } else {
        println!(
            "verify: FAILED at seq {}: {}: {} ({} events verified before it)",
            report.first_bad_seq.unwrap_or(0),
            report.problem.unwrap_or("?"),
            report.detail,
            report.checked
        );
    }
}

/// The status as `status` prints it: tables, or JSON with `--json`.
pub(crate) fn print_status(status: &Status, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(status).unwrap_or_default()
        );
    } else {
        print!("{}", render_status(status));
    }
}

/// The audit trail as `history` prints it: a table, or JSON with `--json`.
pub(crate) fn print_history(rows: &[waymark_projections::HistoryRow], json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return;
    }
    let mut t = table(&[
        "seq",
        "recorded_at",
        "actor",
        "type",
        "change",
        "reason",
        "evidence",
        "hash",
    ]);
    for r in rows {
        t.add_row(vec![
            r.seq.to_string(),
            r.recorded_at.clone(),
            format!("{} ({})", r.actor, r.actor_roles.join(",")),
            r.event_type.clone(),
            r.change.clone(),
            r.reason.clone().map(|s| clip(&s, 60)).unwrap_or_default(),
            r.evidence.join(" "),
            r.hash.to_hex()[..12].to_string(),
        ]);
    }
    println!("{t}");
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(NOTHING);
    t.set_header(header.to_vec());
    t
}

fn clip(s: &str, n: usize) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        one_line.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// The status as aligned tables: layers with per-phase progress, then milestones.
pub(crate) fn render_status(s: &Status) -> String {
    let mut out = String::new();
    let as_of = s
        .as_of
        .as_ref()
        .map(|a| {
            format!(
                "seq {} ({}) {}",
                a.seq,
                a.recorded_at,
                &a.hash.to_hex()[..12]
            )
        })
        .unwrap_or_default();
    out += &format!("ledger {}  as of {as_of}\n", s.ledger);
    out += &format!(
        "overall phase: {}\n",
        s.overall_phase.clone().unwrap_or_default()
    );
    if let Some(se) = &s.season {
        let end = se
            .ends_on
            .clone()
            .map(|e| format!(" – {e}"))
            .unwrap_or_default();
        out += &format!(
            "season {} ({}): {}{end}; focus: {}\n",
            se.number,
            se.state,
            se.starts_on,
            se.focus.join(", ")
        );
    }
    let mut t = table(&["layer", "phase", "progress (achieved/total per phase)"]);
    for l in &s.layers {
        let p: Vec<String> = l
            .progress
            .iter()
            .map(|p| format!("{}: {}/{}", p.phase, p.achieved, p.total))
            .collect();
        t.add_row(vec![l.title.clone(), l.phase.clone(), p.join("  ")]);
    }
    out += &format!("\n{t}\n\n");
    let mut t = table(&[
        "milestone",
        "layer",
        "phase",
        "status",
        "flags",
        "blocked by",
        "title",
    ]);
    for m in &s.milestones {
        let mut flags = Vec::new();
        if m.focus {
            flags.push("focus");
        }
        if m.regressed {
            flags.push("regressed");
        }
        if m.retired {
            flags.push("retired");
        }
        t.add_row(vec![
            m.id.clone(),
            m.layer.clone(),
            m.phase.clone(),
            m.status.clone(),
            flags.join(","),
            m.blocked_by.join(", "),
            clip(&m.title, 56),
        ]);
    }
    out += &format!("{t}\n");
    out
}
