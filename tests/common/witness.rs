//! A witness for the tests: `waymark witness --dir D …` commands, a `witness serve`
//! process on 127.0.0.1 port 0 (killed with SIGKILL when dropped), and what a test
//! needs from a ledger to talk to it (its log key, checkpoints, proofs).

use super::{text, Env};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use waymark_events::Hash;

/// Runs `waymark [--json] witness --dir DIR ARGS…` with `stdin` as its input.
pub fn witness_run(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_waymark"));
    let (json, rest): (Vec<&str>, Vec<&str>) = args.iter().copied().partition(|a| *a == "--json");
    cmd.args(json)
        .arg("witness")
        .arg("--dir")
        .arg(dir)
        .args(rest)
        .env_remove("WAYMARK_WITNESS_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        if let Some(b) = stdin {
            input.write_all(b).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

/// Runs a witness command and expects exit 0; returns stdout.
#[track_caller]
pub fn witness_ok(dir: &Path, args: &[&str]) -> String {
    let out = witness_run(dir, args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "witness {args:?}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// `witness init --name NAME` in `dir`; returns the verifier key it printed.
pub fn witness_init(dir: &Path, name: &str) -> String {
    witness_ok(dir, &["init", "--name", name])
        .trim()
        .to_string()
}

/// A running `waymark witness serve`.
pub struct WitnessProc {
    child: Child,
    pub base: String,
}

impl WitnessProc {
    /// Starts `witness serve --addr 127.0.0.1:0` on `dir` and waits for its address.
    pub fn start(dir: &Path) -> WitnessProc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_waymark"))
            .arg("witness")
            .arg("--dir")
            .arg(dir)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = String::new();
        let base = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("witness serve ended before it listened: {seen}");
            };
            if let Some((_, rest)) = line.split_once("serving http://") {
                let addr = rest.split('/').next().unwrap();
                break format!("http://{addr}");
            }
            seen.push_str(&line);
            seen.push('\n');
        };
        // Keep reading its stderr, so that a full pipe never blocks it.
        std::thread::spawn(move || for _ in lines {});
        WitnessProc { child, base }
    }

    /// SIGKILL, and wait for it to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for WitnessProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The log verifier key of the ledger an env holds (`LedgerOpened`'s `log_key`).
pub fn log_vkey(env: &Env, ledger: &str) -> String {
    let out = env.run(&["--ledger", ledger, "export", "--upto", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let first: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    first["payload"]["log_key"].as_str().unwrap().to_string()
}

/// The signed checkpoint of the first `size` events.
pub fn checkpoint(env: &Env, ledger: &str, size: u64) -> String {
    env.ok(&[
        "--ledger",
        ledger,
        "checkpoint",
        "--size",
        &size.to_string(),
    ])
}

/// `prove consistency OLD NEW`'s path, as hashes.
pub fn consistency(env: &Env, ledger: &str, old: u64, new: u64) -> Vec<Hash> {
    let doc: serde_json::Value = serde_json::from_str(&env.ok(&[
        "--ledger",
        ledger,
        "prove",
        "consistency",
        &old.to_string(),
        &new.to_string(),
    ]))
    .unwrap();
    doc["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().parse().unwrap())
        .collect()
}
