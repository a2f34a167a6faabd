//! The command line (SPEC section 10): parsing, signing with the key store, output.

mod apply;
mod args;
mod args_decisions;
mod args_witness;
mod decide;
pub(crate) mod demo;
mod monitor;
mod output;
mod remote;
mod session;
mod tiles;
mod witness;
mod write;

pub use args::{command, Cli, Command, GraphFormat, InitArgs, ReviewFormat};
pub(crate) use args::{ActorCmd, MilestoneCmd, PhaseCmd, ProveCmd, SeasonCmd};
pub(crate) use args_decisions::{BodyCmd, ClearKey, DecisionCmd, TransferArgs};
pub use args_witness::{WitnessArgs, WitnessCmd};
pub use monitor::MonitorArgs;
pub(crate) use output::{id_kinds, print_history, print_history_matched, print_status, write_out};
pub(crate) use session::Session;
pub(crate) use write::{init_statements, signed, Writer};
// The command modules see each other's items through `super::*`.
use apply::*;
use decide::*;
use output::*;
use write::*;

use crate::error::{Error, Result};
use crate::storage::Db;
use serde_json::json;
use std::ffi::OsString;
use std::path::PathBuf;
use waymark_events::*;

/// Parses the command line (`main.rs` prints clap's error or help and exits).
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m))
}

/// Runs one command line and returns the process exit code (SPEC section 10),
/// having reported any error on stderr (and stdout with `--json`).
pub async fn run(cli: Cli) -> i32 {
    let json = cli.json;
    match run_command(cli).await {
        Ok(code) => code,
        Err(e) => {
            report_error(&e, json);
            e.exit_code()
        }
    }
}

impl Cli {
    /// Whether this command line runs the HTTP server (which logs its requests).
    pub fn serves(&self) -> bool {
        let witness_serves = matches!(
            &self.command,
            Command::Witness(WitnessArgs {
                cmd: WitnessCmd::Serve { .. },
                ..
            })
        );
        witness_serves || (matches!(self.command, Command::Serve { .. }) && self.server.is_none())
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
        if let Error::WitnessRefused { status, size, .. } = e {
            v["error"]["status"] = json!(status);
            v["error"]["witness_size"] = json!(size);
        }
        println!("{v}");
    }
}

pub(crate) fn default_keys_dir() -> PathBuf {
    dirs::home_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".waymark/keys")
}

async fn run_command(cli: Cli) -> Result<i32> {
    if matches!(cli.command, Command::Demo) {
        return demo::run(&cli).await;
    }
    if let Command::VerifyOffline(args) = &cli.command {
        return Ok(waymark_core::run_verify_offline_with(
            args,
            cli.json,
            &crate::hosting::open_tile_source,
        )?);
    }
    if let Command::Prove(p) = &cli.command {
        if let Some(src) = &p.tiles_from().tiles {
            return tiles::prove(&cli, p, src);
        }
    }
    if let Command::Monitor(args) = &cli.command {
        return monitor::monitor(args, cli.json).await;
    }
    // A witness has its own directory and state: no ledger store, no server.
    if let Command::Witness(args) = &cli.command {
        return witness::run(args, cli.json).await;
    }
    if let Some(server) = &cli.server {
        return remote::run(&cli, server).await;
    }
    let url = cli
        .db
        .clone()
        .unwrap_or_else(|| "sqlite://waymark.db".into());
    // Refused before anything is opened: a URL with no file, and an in-memory
    // store, where a write would vanish when the command exits (issue 12: `init`
    // on `sqlite::memory:` exited 0 and kept nothing).
    match crate::storage::target(&url)? {
        crate::storage::Target::SqliteMemory => {
            return Err(Error::Usage(crate::storage::in_memory(&url)))
        }
        // Only `init` creates a database: anything else on a missing file would
        // leave an empty one behind and then say "no ledger".
        crate::storage::Target::SqliteFile(path)
            if !matches!(cli.command, Command::Init(_)) && !path.exists() =>
        {
            return Err(crate::storage::no_database(&path, &url).into());
        }
        _ => {}
    }
    if matches!(cli.command, Command::Migrate) {
        return migrate(&url, cli.json).await;
    }
    let read_only = cli.command.reads_only();
    let (db, guard) = if read_only {
        Db::open_read_only(&url).await?
    } else {
        // A write of a few statements needs one connection; `apply` (whose read
        // models catch up over many pages), `rebuild`, `publish`, `site` and `serve`
        // keep a pool.
        let one_shot = matches!(
            cli.command,
            Command::Init(_)
                | Command::Actor(_)
                | Command::Milestone(_)
                | Command::Phase(_)
                | Command::Season(_)
                | Command::Body(_)
                | Command::Decision(_)
        );
        let db = if one_shot {
            Db::connect_one(&url).await?
        } else {
            Db::connect(&url).await?
        };
        (db, crate::storage::ReadGuard::default())
    };
    if let Command::Serve { addr } = &cli.command {
        let keys = cli.keys.clone().unwrap_or_else(default_keys_dir);
        let served = crate::http::serve(db.clone(), keys, addr).await;
        db.close().await;
        return served.map(|()| 0);
    }
    // Every command waits for the read models of what it recorded before exiting.
    let session = Session::new(&cli, db.clone(), read_only);
    let code = session.run(&cli.command).await;
    session.w.settle().await;
    db.close().await;
    let code = code?;
    guard.check()?;
    Ok(code)
}

/// `waymark migrate`: the store's tables brought to this build's schema version.
async fn migrate(url: &str, json: bool) -> Result<i32> {
    let db = Db::open(url).await?;
    let found = db.migrate().await;
    let name = db.name();
    db.close().await;
    let found = found?;
    let to = crate::storage::SCHEMA_VERSION;
    if json {
        println!("{}", json!({"from": found, "to": to}));
    } else {
        match found {
            None => println!("created the tables of {name} at schema version {to}"),
            Some(v) if v == to => println!("{name} is at schema version {to} already"),
            Some(v) => println!("upgraded {name} from schema version {v} to {to}"),
        }
    }
    Ok(0)
}

pub(crate) fn now() -> String {
    format_timestamp(chrono::Utc::now().timestamp_micros())
}
