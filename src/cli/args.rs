//! The command line as clap parses it: `Cli`, its commands and their options.

use super::args_decisions::{BodyCmd, DecisionCmd};
use super::args_witness::WitnessArgs;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

pub(super) const HELP_AFTER: &str = "\
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
    /// Define, revise, retire and list the bodies that decide (SPEC section 13)
    #[command(subcommand)]
    Body(BodyCmd),
    /// Define and revise decision modules, transfer authority, state and conclude
    /// hypotheses (SPEC section 13)
    #[command(subcommand)]
    Decision(DecisionCmd),
    /// The decision map: each module, who decides it now and how, who can veto, its
    /// target and whether it is reached, since when
    Decisions {
        /// seq:N, season:N or time:RFC3339
        #[arg(long)]
        as_of: Option<String>,
    },
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
    /// The audit trail; with ID, every event that names it as a milestone, a decision
    /// or a body (a body's includes the designs that name it)
    History {
        /// Only the events that name this milestone, decision or body id
        id: Option<String>,
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
    /// The dependency graph coloured by status (--decisions: the decision diagram)
    Graph {
        /// Graphviz DOT, Mermaid or a standalone SVG
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
        /// The decision diagram of SPEC section 13 instead: bodies and modules, and who
        /// proposes, decides, vetoes and executes each
        #[arg(long)]
        decisions: bool,
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
    /// Watch a published log from outside (for cron): check the new checkpoint against
    /// the last one seen (fork, rollback), its witnesses, and the new entries' signatures
    /// and rules; print what changed
    Monitor(crate::cli::MonitorArgs),
    /// Verify, then write the export, checkpoint, snapshot and the consistency proof
    /// from the snapshot already in DIR, for a static web host
    Publish {
        /// The directory a static web host serves (created if missing)
        dir: PathBuf,
        /// A witness to cosign the checkpoint first (C2SP tlog-witness submission
        /// prefix); repeat for several, each with its --witness-key, in the same order
        #[arg(long = "witness", value_name = "URL")]
        witness: Vec<String>,
        /// The verifier key of the --witness at the same position (name+id+base64 of
        /// 0x04 and the key): its cosignature must verify with it
        #[arg(long = "witness-key", value_name = "VKEY")]
        witness_key: Vec<String>,
        /// A TOML file of witnesses: [[witness]] tables with `url` and `key`
        #[arg(long, value_name = "FILE")]
        witnesses: Option<PathBuf>,
    },
    /// Recompute every stored read model from the events, with a progress bar, and
    /// check the result against the stored ones
    Rebuild,
    /// Upgrade the store's tables to this waymark's schema version (after upgrading
    /// waymark; other commands refuse an older store until this ran). The events are
    /// kept as they are; running it again changes nothing
    Migrate,
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
    /// A transparency-log witness (C2SP tlog-witness): its own key and state, the
    /// logs it accepts, cosignatures over HTTP or offline
    Witness(WitnessArgs),
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
                | Command::Body(BodyCmd::List)
                | Command::Decisions { .. }
        )
    }
}

#[derive(Debug, Subcommand)]
pub enum ProveCmd {
    /// That event SEQ is in the tree of the first N events (default: all)
    Inclusion {
        /// The event's seq
        seq: u64,
        /// Tree size N (default: the head, or the checkpoint's size with --tiles)
        #[arg(long)]
        size: Option<u64>,
        #[command(flatten)]
        from: TilesFrom,
    },
    /// That the tree of the first OLD events is a prefix of the tree of the first NEW
    Consistency {
        /// The smaller tree size
        old: u64,
        /// The larger tree size
        new: u64,
        #[command(flatten)]
        from: TilesFrom,
    },
}

/// `prove … --tiles SRC`: the proof from a tiled log instead of the database.
#[derive(Debug, Args)]
pub struct TilesFrom {
    /// Compute the proof from a tiled log (C2SP tlog-tiles: a directory `publish`
    /// wrote, or a URL prefix such as a site's or `serve`'s /api/ledgers/ID), reading
    /// only the few tiles it needs, and verify it against the log's signed checkpoint
    /// before printing it; no database is opened
    #[arg(long, value_name = "SRC")]
    pub tiles: Option<String>,
    /// With --tiles: the log key to open the checkpoint with (verifier string or a file
    /// holding it); default: the one LedgerOpened declares, trusted on first use
    #[arg(long, requires = "tiles")]
    pub key: Option<String>,
}

impl ProveCmd {
    /// Where `--tiles` says to read from, if it was given.
    pub fn tiles_from(&self) -> &TilesFrom {
        match self {
            ProveCmd::Inclusion { from, .. } | ProveCmd::Consistency { from, .. } => from,
        }
    }
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
pub(super) const IGNORED: &[(&str, &[&str])] = &[
    ("monitor", &["db", "ledger", "keys", "as_actor", "server"]),
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
    ("decisions", &["keys", "as_actor"]),
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
    // `witness` and each of its commands use none of the ledger's options.
    let hide = |c: clap::Command| {
        c.mut_args(|a| {
            let ignored = ["db", "ledger", "keys", "as_actor", "server", "quiet"];
            let hide = ignored.contains(&a.get_id().as_str());
            a.hide(hide)
        })
    };
    cmd = cmd.mut_subcommand("witness", |w| {
        let names: Vec<String> = w
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        names
            .into_iter()
            .fold(hide(w), |w, n| w.mut_subcommand(n, hide))
    });
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
