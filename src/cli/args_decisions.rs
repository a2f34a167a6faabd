//! The command line of SPEC section 13 as clap parses it: `body …` and `decision …`
//! (the other commands are in `args.rs`).

use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum BodyCmd {
    /// Define a body that proposes, decides, vetoes or executes (BodyDefined)
    Define {
        /// The body's id, e.g. token-house
        id: String,
        /// Title, e.g. "Token House"
        #[arg(long)]
        title: String,
        /// foundation, house, council, board, commission, multisig, contract or other
        #[arg(long)]
        kind: String,
        /// Description
        #[arg(long, default_value = "")]
        description: String,
        /// An http(s) URL of the body's charter
        #[arg(long)]
        charter: Option<String>,
    },
    /// Revise a body (BodyRevised): give at least one change
    Revise {
        /// The body's id
        id: String,
        /// New title
        #[arg(long)]
        title: Option<String>,
        /// New description
        #[arg(long)]
        description: Option<String>,
        /// New charter URL
        #[arg(long)]
        charter: Option<String>,
        /// Why (recorded in the ledger)
        #[arg(long)]
        reason: String,
    },
    /// Retire a body (BodyRetired); refused while a decision's current or target
    /// design names it
    Retire {
        /// The body's id
        id: String,
        /// Why (recorded in the ledger)
        #[arg(long)]
        reason: String,
    },
    /// The bodies: kind, whether retired, the decisions they decide and veto now
    List,
}

#[derive(Debug, Subcommand)]
pub enum DecisionCmd {
    /// Define a decision module from a TOML file (DecisionDefined)
    #[command(after_help = DECISION_FILE_HELP)]
    Define {
        /// The decision's id, e.g. protocol-upgrades (the file's `id`, if it has
        /// one, must be the same)
        id: String,
        /// A TOML table in the framework's [[decisions]] shape: title, description,
        /// layer, principles, milestones, source?, [profile], [current], [target]?
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Revise a decision module (DecisionRevised): give at least one change; who
    /// decides now changes only by `decision transfer`
    Revise {
        /// The decision's id
        id: String,
        /// New title
        #[arg(long)]
        title: Option<String>,
        /// New description
        #[arg(long)]
        description: Option<String>,
        /// A TOML file with the new DDF profile (replaces the old one whole): cadence,
        /// stakes, complexity, answer, space, leverage, each optional
        #[arg(long, value_name = "FILE")]
        profile: Option<PathBuf>,
        /// A TOML file with the new target design (replaces the old one whole)
        #[arg(long, value_name = "FILE")]
        target: Option<PathBuf>,
        /// Replaces the milestones it serves (repeat for several; give it with no
        /// value to clear them; sorted and de-duplicated)
        #[arg(long = "milestone", value_name = "M", num_args = 0..)]
        milestones: Option<Vec<String>>,
        /// Why (recorded in the ledger)
        #[arg(long)]
        reason: String,
    },
    /// Move authority (AuthorityTransferred): the new design is the current one with
    /// the flags given applied, or the design in --to FILE
    #[command(
        after_help = TRANSFER_HELP,
        override_usage = "waymark decision transfer ID (--to FILE | [--decider B…] [--proposer B…] \
                          [--process P] [--threshold BPS] [--quorum BPS] [--signers M/N] \
                          [--veto B[:BPS]…] [--executor B…] [--clear KEY…]) --reason T \
                          --evidence URL… [--effective-on DATE]"
    )]
    Transfer(TransferArgs),
    /// State a hypothesis about a decision module (HypothesisStated)
    Hypothesis {
        /// The decision's id
        id: String,
        /// The hypothesis' id, unique within the decision
        hid: String,
        /// What is expected to happen
        #[arg(long)]
        statement: String,
        /// How it will be measured
        #[arg(long)]
        measure: String,
    },
    /// Conclude a stated hypothesis (HypothesisConcluded)
    Conclude {
        /// The decision's id
        id: String,
        /// The hypothesis' id
        hid: String,
        /// supported, refuted or inconclusive
        #[arg(long)]
        outcome: String,
        /// What was found
        #[arg(long)]
        note: String,
        /// An http(s) URL backing the conclusion (repeat for several)
        #[arg(long)]
        evidence: Vec<String>,
    },
}

const DECISION_FILE_HELP: &str = "\
Example DECISION.toml:
  title = \"Protocol upgrades\"
  description = \"Who ships upgrades\"
  layer = \"technical\"
  principles = []
  milestones = [\"T-A1\"]
  source = \"https://example.org/operating-manual\"
  [profile]
  stakes = \"high\"
  [current]
  proposers = [\"foundation\"]
  deciders = [\"token-house\"]
  process = \"vote\"
  threshold_bps = 7600
  vetoes = [{ body = \"citizens-house\", threshold_bps = 3000 }]
  executors = [\"foundation\"]

The file is recorded as it is: lists must be sorted, without repeats (rule 10).";

const TRANSFER_HELP: &str = "\
The new design starts from the current one: a list flag replaces that whole list
(give it with no value to empty it), a flag not given keeps its current value, and
--clear drops an optional key. Lists are sorted and de-duplicated before signing,
with --to FILE too. `from` is the current design, filled in from the ledger.

Examples:
  waymark decision transfer upgrades --decider token-house --process optimistic \\
    --clear threshold --reason \"Upgrade 16\" --evidence https://example.org/vote
  waymark decision transfer upgrades --to design.toml --reason \"…\" --evidence https://…";

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("design")
        .required(true)
        .multiple(true)
        .args(["to", "deciders", "proposers", "process", "threshold", "quorum", "signers", "vetoes", "executors", "clear"])
))]
pub struct TransferArgs {
    /// The decision's id
    pub id: String,
    /// A TOML file holding the whole new design (excludes the design flags)
    #[arg(long, value_name = "FILE", conflicts_with_all = DESIGN_FLAGS)]
    pub to: Option<PathBuf>,
    /// The bodies that decide, jointly (replaces the list; repeat for several)
    #[arg(long = "decider", value_name = "B", num_args = 0..)]
    pub deciders: Option<Vec<String>>,
    /// The bodies that propose (replaces the list; repeat for several)
    #[arg(long = "proposer", value_name = "B", num_args = 0..)]
    pub proposers: Option<Vec<String>>,
    /// vote, approval, optimistic, appointment, multisig, automatic, discretion or
    /// suspended
    #[arg(long, value_name = "P")]
    pub process: Option<String>,
    /// The decision threshold in basis points, 1..10000 (e.g. 7600 for 76%)
    #[arg(long, value_name = "BPS")]
    pub threshold: Option<i64>,
    /// The quorum in basis points, 1..10000
    #[arg(long, value_name = "BPS")]
    pub quorum: Option<i64>,
    /// An m-of-n signing rule, M/N (e.g. 10/13)
    #[arg(long, value_name = "M/N")]
    pub signers: Option<String>,
    /// A body that can veto, BODY or BODY:BPS with the share its veto needs
    /// (replaces the list; repeat for several)
    #[arg(long = "veto", value_name = "B[:BPS]", num_args = 0..)]
    pub vetoes: Option<Vec<String>>,
    /// The bodies that carry the decision out (replaces the list; repeat for several)
    #[arg(long = "executor", value_name = "B", num_args = 0..)]
    pub executors: Option<Vec<String>>,
    /// Drop an optional key of the current design: threshold, quorum or signers
    /// (repeat for several)
    #[arg(long, value_enum, value_name = "KEY")]
    pub clear: Vec<ClearKey>,
    /// Why (recorded in the ledger)
    #[arg(long)]
    pub reason: String,
    /// An http(s) URL backing the transfer (repeat for several; at least one)
    #[arg(long, value_name = "URL", required = true)]
    pub evidence: Vec<String>,
    /// The day authority moved, YYYY-MM-DD (default: the UTC date of signing)
    #[arg(long, value_name = "DATE")]
    pub effective_on: Option<String>,
}

/// The design flags `--to FILE` excludes.
const DESIGN_FLAGS: [&str; 9] = [
    "deciders",
    "proposers",
    "process",
    "threshold",
    "quorum",
    "signers",
    "vetoes",
    "executors",
    "clear",
];

/// An optional key of a design that `decision transfer --clear` drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClearKey {
    /// threshold_bps
    Threshold,
    /// quorum_bps
    Quorum,
    /// signers
    Signers,
}
