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

const HELP_AFTER: &str = "\
Examples:
  waymark demo
  waymark --db sqlite://waymark-demo.db history T-A1
  waymark --db sqlite://ledger.db --ledger mine init --framework optimism

Exit codes: 0 done; 1 rejected by a rule or bad input (nothing recorded); 2 usage;
3 verification failed; 4 storage or I/O failure.
The contract (formats, rules, commands) is docs/SPEC.md.";

#[derive(Debug, Parser)]
#[command(
    name = "waymark",
    version,
    about = "Accountability ledger for decentralization roadmaps",
    before_help = "New here? Run `waymark demo`: it builds the sourced Optimism history into \
                   ./waymark-demo.db and prints what to try next.",
    after_help = HELP_AFTER
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
    /// Say nothing on success when the output went to files (--out, publish, site)
    #[arg(long, short, global = true)]
    pub quiet: bool,
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
    Apply {
        /// The JSON Lines file; each line is signed with its actor's key
        file: PathBuf,
    },
    /// The status projection (SPEC section 9)
    Status {
        /// seq:N, season:N or time:RFC3339
        #[arg(long)]
        as_of: Option<String>,
    },
    /// The audit trail
    History {
        /// Only the events about this milestone
        milestone: Option<String>,
        /// Only the events signed by this actor
        #[arg(long)]
        actor: Option<String>,
        /// Only the events recorded during this Season
        #[arg(long)]
        season: Option<i64>,
        /// Only events of this type (e.g. MilestoneStatusChanged)
        #[arg(long = "type")]
        event_type: Option<String>,
    },
    /// End-of-Season review: status at its start and end, every change, focus
    /// against delivery, regressions, who acted
    Review {
        /// The Season's number
        season: i64,
        /// Markdown, JSON or a standalone HTML page
        #[arg(long, value_enum, default_value = "md")]
        format: ReviewFormat,
        /// Write to FILE instead of standard output
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// What changed between two points (seq:N, season:N or time:RFC3339)
    Diff {
        /// The earlier point: seq:N, season:N or time:RFC3339
        from: String,
        /// The later point: seq:N, season:N or time:RFC3339
        to: String,
    },
    /// The dependency graph coloured by status
    Graph {
        /// Graphviz DOT, Mermaid or a standalone SVG
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
        /// Write to FILE instead of standard output
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only the events up to and including this seq
        #[arg(long)]
        upto: Option<u64>,
    },
    /// A signed checkpoint (C2SP signed note) of the first N events (default: all)
    Checkpoint {
        /// Tree size N (default: the head)
        #[arg(long)]
        size: Option<u64>,
    },
    /// The snapshot bundle (SPEC section 8): checkpoint plus the status it implies
    Snapshot {
        /// Write to FILE instead of standard output
        #[arg(long)]
        out: Option<PathBuf>,
        /// Tree size N (default: the head)
        #[arg(long)]
        size: Option<u64>,
    },
    /// Inclusion and consistency proofs (SPEC section 6)
    #[command(subcommand)]
    Prove(ProveCmd),
    /// Verify from files only (no database): the export, streamed, and the snapshot,
    /// previous snapshot and proofs given
    VerifyOffline(waymark_core::VerifyOfflineArgs),
    /// Verify, then write the export, checkpoint, snapshot and the consistency proof
    /// from the snapshot already in DIR, for a static web host
    Publish {
        /// The directory a static web host serves (created if missing)
        dir: PathBuf,
    },
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
        /// The directory to write (empty, or one `site` wrote before)
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
        /// The event's seq
        seq: u64,
        /// Tree size N (default: the head)
        #[arg(long)]
        size: Option<u64>,
    },
    /// That the tree of the first OLD events is a prefix of the tree of the first NEW
    Consistency {
        /// The smaller tree size
        old: u64,
        /// The larger tree size
        new: u64,
    },
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
    /// The ledger's title (default: the framework's)
    #[arg(long)]
    pub title: Option<String>,
    /// Checkpoint origin (and log key name); default waymark.local/LEDGER
    #[arg(long)]
    pub origin: Option<String>,
    /// The founder's actor id (a steward, who signs LedgerOpened)
    #[arg(long, default_value = "founder")]
    pub founder: String,
    /// The founder's display name (default: the founder's id)
    #[arg(long)]
    pub founder_name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ActorCmd {
    /// Register an actor (ActorRegistered); without --public-key a key pair is made in
    /// the key store
    Add {
        /// The actor's id
        id: String,
        /// Display name
        #[arg(long)]
        name: String,
        /// steward, reviewer or reporter (repeat for several)
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The actor's Ed25519 public key (base64), if they keep their own secret key
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Replace an actor's roles (ActorRolesChanged)
    Roles {
        /// The actor's id
        id: String,
        /// steward, reviewer or reporter (repeat for several)
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Give an actor a new key (ActorKeyRotated); without --public-key a key pair is
    /// made in the key store, written before the statement is recorded
    RotateKey {
        /// The actor's id
        id: String,
        /// The new Ed25519 public key (base64), if the actor keeps their own secret key
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Retire an actor: they sign nothing more (ActorRetired)
    Retire {
        /// The actor's id
        id: String,
        /// Why (recorded in the ledger)
        #[arg(long)]
        reason: String,
    },
    /// The registered actors, their roles and keys
    List,
}

#[derive(Debug, Subcommand)]
pub enum MilestoneCmd {
    /// Define a milestone (MilestoneDefined)
    Define {
        /// The milestone's id, e.g. T-A1
        id: String,
        /// Title
        #[arg(long)]
        title: String,
        /// A layer of the framework
        #[arg(long)]
        layer: String,
        /// A phase of that layer
        #[arg(long)]
        phase: String,
        /// Description
        #[arg(long, default_value = "")]
        description: String,
        /// A framework principle it serves (repeat for several)
        #[arg(long = "principle")]
        principles: Vec<String>,
        /// A milestone it depends on (repeat for several)
        #[arg(long = "depends-on")]
        depends_on: Vec<String>,
    },
    /// Revise a milestone's definition (MilestoneRevised): give at least one change
    Revise {
        /// The milestone's id
        id: String,
        /// New title
        #[arg(long)]
        title: Option<String>,
        /// New description
        #[arg(long)]
        description: Option<String>,
        /// New phase (of the same layer)
        #[arg(long)]
        phase: Option<String>,
        /// Replaces the principles (give it with no value to clear them)
        #[arg(long = "principle", num_args = 0..)]
        principles: Option<Vec<String>>,
        /// Replaces the dependencies (give it with no value to clear them)
        #[arg(long = "depends-on", num_args = 0..)]
        depends_on: Option<Vec<String>>,
        /// Why (recorded in the ledger)
        #[arg(long)]
        reason: String,
    },
    /// Retire a milestone: no further change (MilestoneRetired)
    Retire {
        /// The milestone's id
        id: String,
        /// Why (recorded in the ledger)
        #[arg(long)]
        reason: String,
    },
    /// Change a milestone's status (not_started, in_progress, achieved)
    Set {
        /// The milestone's id
        id: String,
        /// not_started, in_progress or achieved
        status: String,
        /// Why (recorded in the ledger)
        #[arg(long)]
        reason: String,
        /// An http(s) URL backing the change (repeat for several; achieved needs one)
        #[arg(long)]
        evidence: Vec<String>,
        /// The day the change took effect, YYYY-MM-DD (default: not stated)
        #[arg(long)]
        effective_on: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PhaseCmd {
    /// Move a layer to its next phase
    Advance {
        /// The layer, e.g. technical
        layer: String,
        /// Why (recorded in the ledger)
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SeasonCmd {
    /// Open a Season (SeasonOpened)
    Open {
        /// The Season's number (the first may be any; then each is the previous + 1)
        number: i64,
        /// First day, YYYY-MM-DD
        #[arg(long)]
        starts_on: String,
        /// What the Season sets out to do
        #[arg(long)]
        intent: String,
        /// A milestone in focus this Season (repeat for several)
        #[arg(long)]
        focus: Vec<String>,
    },
    /// Close the open Season with its re-evaluation (SeasonReEvaluated)
    Close {
        /// The open Season's number
        number: i64,
        /// Last day, YYYY-MM-DD
        #[arg(long)]
        ends_on: String,
        /// The re-evaluation's summary
        #[arg(long)]
        summary: String,
        /// An assessment of a milestone, MILESTONE=NOTE (repeat for several)
        #[arg(long = "assess")]
        assess: Vec<String>,
    },
}

/// The global options each command ignores, so that its help does not offer them.
const IGNORED: &[(&str, &[&str])] = &[
    (
        "verify-offline",
        &["db", "ledger", "keys", "as_actor", "server"],
    ),
    ("demo", &["ledger", "as_actor", "server"]),
    ("serve", &["as_actor", "server"]),
    ("site", &["as_actor", "server"]),
    ("status", &["keys", "as_actor"]),
    ("history", &["keys", "as_actor"]),
    ("review", &["keys", "as_actor"]),
    ("diff", &["keys", "as_actor"]),
    ("graph", &["keys", "as_actor"]),
    ("verify", &["keys", "as_actor"]),
    ("export", &["keys", "as_actor"]),
    ("prove", &["keys", "as_actor"]),
    ("rebuild", &["keys", "as_actor", "server"]),
    ("checkpoint", &["as_actor"]),
    ("snapshot", &["as_actor"]),
    ("publish", &["as_actor", "server"]),
];

/// The command line as clap sees it: [`Cli`], with each command's help showing only
/// the global options it uses, and the demo's own defaults.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    // Global options reach the subcommands when the command is built; hide them there.
    cmd.build();
    // `mut_args` edits in place: `mut_arg` would re-append the argument and leave the
    // built command's index of long flags pointing at the wrong ones.
    for (name, ids) in IGNORED {
        cmd = cmd.mut_subcommand(*name, |sub| {
            sub.mut_args(|a| {
                let hide = ids.contains(&a.get_id().as_str());
                a.hide(hide)
            })
        });
    }
    cmd.mut_subcommand("demo", |sub| {
        sub.mut_args(|a| match a.get_id().as_str() {
            "db" => a.help(
                "Database URL [demo default: sqlite://waymark-demo.db, replaced if it exists]",
            ),
            "keys" => a.help("Where the demo actors' keys go [demo default: ./waymark-demo-keys]"),
            _ => a,
        })
    })
}

/// Runs the CLI on these arguments and returns the process exit code.
pub fn main_with_args<I: IntoIterator<Item = OsString>>(args: I) -> i32 {
    use clap::FromArgMatches;
    let cli = match command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
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
    if let Command::VerifyOffline(args) = &cli.command {
        return Ok(waymark_core::run_verify_offline(args, cli.json)?);
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
    match crate::db::target(&url).map_err(Error::Usage)? {
        crate::db::Target::SqliteMemory => return Err(Error::Usage(crate::db::in_memory(&url))),
        // Only `init` creates a database: anything else on a missing file would
        // leave an empty one behind and then say "no ledger".
        crate::db::Target::SqliteFile(path)
            if !matches!(cli.command, Command::Init(_)) && !path.exists() =>
        {
            return Err(crate::db::no_database(&path, &url).into());
        }
        _ => {}
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
            [] => Err(Error::Usage(format!(
                "no ledger in {}: run `waymark init --ledger ID --framework optimism` first",
                self.w.db.name()
            ))),
            many => Err(Error::Usage(format!(
                "{} holds several ledgers ({}): pass --ledger ID",
                self.w.db.name(),
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
                    t.parse::<EventType>()
                        .map_err(|e| Error::BadInput(e.to_string()))?;
                }
                if milestone.is_some() || actor.is_some() {
                    let state = self.w.state(&ledger).await?;
                    if let Some(id) = milestone {
                        let known = state.milestones.keys().map(String::as_str);
                        unknown(id, "milestone, decision or body", &ledger, known)?;
                    }
                    if let Some(id) = actor {
                        let known = state.actors.keys().map(String::as_str);
                        unknown(id, "actor", &ledger, known)?;
                    }
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
            Command::Publish { dir } => {
                let ledger = self.ledger().await?;
                let key = self.keys.load(&self.keys.log_path(&ledger))?;
                let done = crate::publish::publish(&self.w, &ledger, dir, &key).await?;
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
                if let Some(path) = out {
                    let seq = status.as_of.as_ref().map_or(0, |a| a.seq);
                    self.wrote(
                        path,
                        &format!("the graph of {ledger} as of seq {seq}"),
                        json!({"as_of_seq": seq}),
                    );
                }
                Ok(0)
            }
            Command::Site { out } => {
                let ledger = self.ledger().await?;
                let backend = crate::server::Backend::new(self.w.db.clone())?;
                let site = crate::site::build(&backend, &self.keys, &ledger, out).await?;
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
            Command::Demo | Command::VerifyOffline(_) | Command::Serve { .. } => Err(Error::Usage(
                "demo, verify-offline and serve are handled before a session opens".into(),
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

/// Where a session's statements are recorded and its rule state is read: the local
/// store (`Session`) or a server (`remote::Remote`, `--server URL`). The write
/// commands are written once, here, against it.
pub(crate) trait Writer {
    fn cli(&self) -> &Cli;
    fn keys(&self) -> &KeyStore;
    /// The ledger: `--ledger`, or the only one there is.
    async fn ledger(&self) -> Result<String>;
    /// The rule state at the head.
    async fn state(&self, ledger: &str) -> Result<waymark_core::LedgerState>;
    /// Records statements, all or none (`line` of a rejection: 1-based index).
    async fn record(&self, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Recorded>>;

    /// Signs a payload as `--as` (default: the founder) and records it.
    async fn sign_and_record(&self, payload: Payload) -> Result<Vec<Recorded>> {
        let ledger = self.ledger().await?;
        let actor = match &self.cli().as_actor {
            Some(a) => a.clone(),
            None => self.state(&ledger).await?.founder,
        };
        self.settle_pending_key(&ledger, &actor).await?;
        let key = self.keys().load_actor(&actor)?;
        self.record_signed(&ledger, vec![signed(&ledger, &actor, &key, now(), payload)])
            .await
    }

    /// A rotation that was recorded but whose staged key (`ACTOR.key.new`) did not
    /// replace the old key file (the process died, or the rename failed): the staged
    /// key is the one the ledger holds, so it is moved into place now.
    async fn settle_pending_key(&self, ledger: &str, actor: &str) -> Result<()> {
        let Some(staged) = self.keys().pending_key(actor) else {
            return Ok(());
        };
        let st = self.state(ledger).await?;
        let registered = st.actors.get(actor).map(|a| a.public_key.as_str());
        if registered == Some(encode_public_key(&staged.verifying_key()).as_str()) {
            self.keys().commit(actor)?;
            eprintln!(
                "waymark: the recorded key rotation of {actor} had not replaced its key file; {} now holds the new key",
                self.keys().actor_path(actor).display()
            );
        }
        Ok(())
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
        let loaded = waymark_core::load_framework(&a.framework)?;
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
                // The new key is written and fsynced (as ID.key.new) before the rotation
                // is recorded: a failure here records nothing and the old key still works.
                if let Some(k) = &fresh {
                    let ledger = self.ledger().await?;
                    self.settle_pending_key(&ledger, id).await?;
                    self.keys().stage(id, k)?;
                }
                let recorded = self
                    .sign_and_record(Payload::ActorKeyRotated(ActorKeyRotated {
                        actor: id.clone(),
                        public_key: pk,
                    }))
                    .await;
                match (recorded, fresh.is_some()) {
                    // Recorded: the staged key replaces the old one.
                    (Ok(_), true) => self.keys().commit(id)?,
                    // Refused, so certainly not recorded: the staged key is dropped. Any
                    // other failure (storage, network) may have recorded it: the staged
                    // key stays for `settle_pending_key` to promote if it was.
                    (
                        Err(e @ (Error::Rejected { .. } | Error::BadInput(_) | Error::Usage(_))),
                        true,
                    ) => {
                        let _ = self.keys().discard(id);
                        return Err(e);
                    }
                    (r, _) => {
                        r?;
                    }
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
                            Role::join(&a.roles),
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
                    .map(|m| m.status.to_string())
                    .ok_or_else(|| Error::Rejected {
                        line: None,
                        rejection: waymark_core::Rejection {
                            rule: waymark_core::Rule::Milestone,
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
    async fn state(&self, ledger: &str) -> Result<waymark_core::LedgerState> {
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
        let limit = waymark_core::MAX_STATEMENT_BYTES as u64 + 1;
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
                    rejection: waymark_core::Rejection {
                        rule: waymark_core::Rule::Limits,
                        field: "statement".into(),
                        message: format!(
                            "a line of {len} bytes exceeds {} (checked before parsing)",
                            waymark_core::MAX_STATEMENT_BYTES
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
        .map_err(|e: UnknownEventType| bad(e.to_string()))?;
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
    loaded: &waymark_core::LoadedFramework,
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

/// `Err` (bad input, exit 1) when `id` is none of `known`, with the closest known id
/// as a suggestion: a filter that names nothing would print an empty table and exit 0.
fn unknown<'k>(
    id: &str,
    what: &str,
    ledger: &str,
    known: impl Iterator<Item = &'k str>,
) -> Result<()> {
    let mut best: Option<(f64, &str)> = None;
    for k in known {
        if k == id {
            return Ok(());
        }
        let score = strsim::jaro_winkler(&k.to_lowercase(), &id.to_lowercase());
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, k));
        }
    }
    Err(Error::BadInput(match best {
        Some((score, k)) if score >= 0.8 => format!("no {what} {id} (did you mean {k}?)"),
        _ => format!("no {what} {id} in ledger {ledger}"),
    }))
}

/// The count of an export's lines and, for a message, its head: " (head seq N HASH)".
fn export_head(bytes: &[u8]) -> (usize, String) {
    let n = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    let head = bytes
        .split(|b| *b == b'\n')
        .rfind(|l| !l.is_empty())
        .and_then(|l| serde_json::from_slice::<Value>(l).ok())
        .map(|v| {
            format!(
                " (head seq {} {})",
                v["seq"],
                v["hash"].as_str().unwrap_or("")
            )
        })
        .unwrap_or_default();
    (n, head)
}

pub(crate) fn write_out(out: Option<&PathBuf>, bytes: &[u8]) -> Result<()> {
    match out {
        // Replaced atomically; a symlink or non-regular file at P is refused (issue 12).
        Some(p) => crate::safe_fs::write_file(p, bytes),
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(bytes)
                .map_err(|e| Error::Storage(StorageError(format!("stdout: {e}"))))
        }
    }
}

pub(crate) use waymark_core::print_report;

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
