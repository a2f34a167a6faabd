//! `waymark witness …` as clap parses it (the other commands are in `args.rs`).

use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct WitnessArgs {
    /// The witness's directory: its key (witness.key, 0600) and its state
    /// (witness.db) [default: ~/.waymark/witness]
    #[arg(long, env = "WAYMARK_WITNESS_DIR", global = true)]
    pub dir: Option<PathBuf>,
    #[command(subcommand)]
    pub cmd: WitnessCmd,
}

#[derive(Debug, Subcommand)]
pub enum WitnessCmd {
    /// Create a witness: a new Ed25519 key and an empty state in the witness
    /// directory (refused if one is there); prints its verifier key (type 0x04)
    Init {
        /// The witness's name, a schema-less URL such as witness.example/w1 (the key
        /// name of its cosignatures)
        #[arg(long)]
        name: String,
    },
    /// Accept a log: register it by its log verifier key (the key's name is the
    /// log's origin; a different key for a known origin is refused)
    AddLog {
        /// The log's verifier key, name+keyid+base64 (LedgerOpened's log_key)
        vkey: String,
    },
    /// Serve C2SP tlog-witness's POST /add-checkpoint (and GET /vkey) over HTTP
    /// (ctrl-c stops it, after the requests in flight)
    Serve {
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:7380")]
        addr: String,
    },
    /// Cosign offline (an air-gapped witness): read an add-checkpoint request body,
    /// apply the same checks and state update as `serve`, print the cosignature line;
    /// exit 3 when the witness refuses, 1 when the request is malformed
    Cosign {
        /// The request body (old size line, proof lines, empty line, checkpoint), or -
        /// for standard input
        #[arg(long, default_value = "-")]
        request: String,
    },
    /// The witness's verifier key and, per log, the latest checkpoint it cosigned
    Status,
}
