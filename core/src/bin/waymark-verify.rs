//! `waymark-verify`: `waymark verify-offline` for auditors, built from the pure crates
//! only (no database, no async runtime, no web stack). Same arguments, output and
//! exit codes: 0 verified, 2 usage, 3 verification failed, 4 a file could not be read.
#![forbid(unsafe_code)]

use clap::Parser;
use serde_json::json;
use waymark_core::{run_verify_offline, VerifyOfflineArgs};

/// Verify a published Waymark ledger from files only: the export, streamed, and the
/// snapshot, previous snapshot and proofs given (SPEC sections 6 to 8 and 10)
#[derive(Parser)]
#[command(name = "waymark-verify", version)]
struct Args {
    /// Machine-readable output on stdout (SPEC section 10's report)
    #[arg(long, global = true)]
    json: bool,
    #[command(flatten)]
    verify: VerifyOfflineArgs,
}

fn main() {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let code = match run_verify_offline(&args.verify, args.json) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("waymark: {e}");
            if args.json {
                println!(
                    "{}",
                    json!({"error": {"message": e.to_string(), "exit_code": e.exit_code()}})
                );
            }
            e.exit_code()
        }
    };
    std::process::exit(code);
}
