//! `waymark witness …`: create a witness, register logs, serve tlog-witness, cosign
//! offline, show the state. None of them opens a ledger's store: the witness has its
//! own directory (`--dir`, `WAYMARK_WITNESS_DIR`, default `~/.waymark/witness`).
//!
//! Exit codes (SPEC section 10): 0 cosigned or done; 1 bad input (a malformed request
//! or key, a bad name, an existing witness for `init`, another key for a known
//! origin); 2 usage (no witness in the directory); 3 the witness refuses to cosign
//! (unknown log, bad signature, old size not its own, another root at a size it
//! cosigned, a proof that does not verify: what `serve` answers 404, 403, 409 and
//! 422); 4 its state or a file cannot be used.

use super::args_witness::{WitnessArgs, WitnessCmd};
use crate::error::{Error, Result, StorageError};
use crate::witness::{default_dir, Witness, WitnessDir, MAX_REQUEST_BYTES};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::json;
use std::io::Read;

fn utc(secs: Option<u64>) -> Option<String> {
    let secs = i64::try_from(secs?).ok()?;
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Runs one witness command; gives its exit code.
pub(super) async fn run(args: &WitnessArgs, json: bool) -> Result<i32> {
    let dir = WitnessDir::new(args.dir.clone().unwrap_or_else(default_dir));
    match &args.cmd {
        WitnessCmd::Init { name } => {
            let w = Witness::init(&dir, name).await?;
            if json {
                println!(
                    "{}",
                    json!({"name": name, "vkey": w.vkey(), "dir": dir.path()})
                );
            } else {
                eprintln!(
                    "waymark: witness {name} created in {} (key {}, mode 0600)",
                    dir.path().display(),
                    dir.key_path().display()
                );
                println!("{}", w.vkey());
            }
            w.state().close().await;
        }
        WitnessCmd::AddLog { vkey } => {
            let w = Witness::open(&dir).await?;
            let (origin, added) = w.add_log(vkey).await?;
            w.state().close().await;
            if json {
                println!(
                    "{}",
                    json!({"origin": origin, "vkey": vkey.trim(), "added": added})
                );
            } else if added {
                println!("added log {origin}");
            } else {
                println!("log {origin} was already registered with this key");
            }
        }
        WitnessCmd::Serve { addr } => {
            let w = Witness::open(&dir).await?;
            crate::witness::serve(w, addr).await?;
        }
        WitnessCmd::Cosign { request } => {
            let body = read_request(request)?;
            let w = Witness::open(&dir).await?;
            let verdict = w.add_checkpoint(&body).await;
            w.state().close().await;
            let cosigned = verdict?.map_err(|r| r.into_error())?;
            if json {
                println!(
                    "{}",
                    json!({
                        "origin": cosigned.origin,
                        "size": cosigned.size,
                        "root": B64.encode(cosigned.root.0),
                        "cosigned_at": cosigned.cosigned_at,
                        "cosignature": cosigned.cosignature,
                    })
                );
            } else {
                print!("{}", cosigned.cosignature);
            }
        }
        WitnessCmd::Status => {
            let w = Witness::open(&dir).await?;
            let logs = w.state().logs().await?;
            let evidence = w.state().evidence(None).await?;
            w.state().close().await;
            let kept = |origin: &str| evidence.iter().filter(|e| e.origin == origin).count();
            if json {
                let logs: Vec<_> = logs
                    .iter()
                    .map(|l| {
                        json!({
                            "origin": l.origin,
                            "vkey": l.vkey,
                            "size": l.size,
                            "root": l.note.as_ref().map(|_| B64.encode(l.root.0)),
                            "cosigned_at": l.cosigned_at,
                            "added_at": l.added_at,
                            "evidence": kept(&l.origin),
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    json!({
                        "name": w.identity().name,
                        "vkey": w.vkey(),
                        "dir": dir.path(),
                        "logs": logs,
                    })
                );
            } else {
                println!("witness {}", w.vkey());
                if logs.is_empty() {
                    println!("no logs registered (waymark witness add-log VKEY)");
                }
                for l in &logs {
                    match utc(l.cosigned_at) {
                        Some(at) => println!(
                            "log {}  size {}  root {}  cosigned {at}",
                            l.origin,
                            l.size,
                            B64.encode(l.root.0)
                        ),
                        None => println!("log {}  nothing cosigned yet", l.origin),
                    }
                    if kept(&l.origin) > 0 {
                        println!(
                            "  {} refused checkpoint(s) signed by this log kept as evidence",
                            kept(&l.origin)
                        );
                    }
                }
            }
        }
    }
    Ok(0)
}

/// The request body, from a file or standard input, at most the size `serve` takes.
fn read_request(from: &str) -> Result<Vec<u8>> {
    let cap = MAX_REQUEST_BYTES as u64;
    let too_large = || {
        Error::BadInput(format!(
            "refused (413): the request is larger than {MAX_REQUEST_BYTES} bytes"
        ))
    };
    if from == "-" {
        let mut body = Vec::new();
        std::io::stdin()
            .lock()
            .take(cap + 1)
            .read_to_end(&mut body)
            .map_err(|e| Error::Storage(StorageError::file(format!("standard input: {e}"))))?;
        if body.len() as u64 > cap {
            return Err(too_large());
        }
        return Ok(body);
    }
    let path = std::path::Path::new(from);
    // A file over the cap is refused by `read_file` as bad input (exit 1) too.
    let file = crate::files::safe::read_file(path, cap)?
        .ok_or_else(|| Error::BadInput(format!("no request file {}", path.display())))?;
    Ok(file.bytes)
}
