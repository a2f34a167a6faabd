//! The database going away: a private PostgreSQL server (its own data directory and
//! port, so other tests are not disturbed) is stopped before and during a run. The
//! CLI exits 4 with one clear message, nothing is half-written, and after the
//! restart the same command succeeds.
//!
//! Needs the PostgreSQL server binaries (`/usr/lib/postgresql/*/bin`) and, when run
//! as root, the `postgres` system user to own the data directory (as in CI).

mod common;
use common::text;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Server {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

fn as_postgres(cmd: &str) -> Output {
    let root = running_as_root();
    let out = if root {
        Command::new("runuser")
            .args(["-u", "postgres", "--", "sh", "-c", cmd])
            .output()
    } else {
        Command::new("sh").args(["-c", cmd]).output()
    };
    out.unwrap()
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| text(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Server {
    /// The directory of `initdb` and `pg_ctl`, as Debian installs them.
    fn binaries() -> Option<PathBuf> {
        std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .find(|b| b.join("initdb").exists())
    }

    fn new() -> Server {
        let bin = Server::binaries().expect("initdb");
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let data = dir.path().join("data");
        let port = 20000 + (rand::random::<u16>() % 20000);
        let out = as_postgres(&format!(
            "{}/initdb -D {} -A trust -U postgres >/dev/null",
            bin.display(),
            data.display()
        ));
        assert!(out.status.success(), "initdb: {}", text(&out.stderr));
        let s = Server {
            bin,
            data,
            port,
            _dir: dir,
        };
        s.start();
        s
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &str) -> Output {
        as_postgres(&format!(
            "{}/pg_ctl -D {} {args}",
            self.bin.display(),
            self.data.display()
        ))
    }

    fn start(&self) {
        let out = self.pg_ctl(&format!(
            "-w -l {}/log -o \"-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=on\" start",
            self.data.display(),
            self.port,
            self.data.display()
        ));
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }

    /// An immediate shutdown: like the server or its machine going away.
    fn stop(&self) {
        let out = self.pg_ctl("-w -m immediate stop");
        assert!(out.status.success(), "pg_ctl stop: {}", text(&out.stderr));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.pg_ctl("-m immediate stop");
    }
}

fn waymark(url: &str, keys: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_waymark"));
    c.args(["--db", url, "--keys"]).arg(keys).args(args);
    c
}

fn run(url: &str, keys: &Path, args: &[&str]) -> Output {
    waymark(url, keys, args).output().unwrap()
}

fn events(url: &str, keys: &Path) -> u64 {
    let out = run(url, keys, &["--json", "verify"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    r["checked"].as_u64().unwrap()
}

#[test]
fn postgres_going_away_exits_4_loses_nothing_and_the_retry_succeeds() {
    if !common::needs(
        "PostgreSQL's server binaries (initdb, pg_ctl)",
        Server::binaries().is_some(),
        "apt-get install postgresql",
    ) {
        return;
    }
    let server = Server::new();
    let url = server.url();
    let work = tempfile::tempdir().unwrap();
    let keys = work.path().join("keys");
    let out = run(
        &url,
        &keys,
        &["--ledger", "test", "init", "--framework", "optimism"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let base = events(&url, &keys);

    // 1. Down before the command: exit 4, one clear line, no partial write.
    server.stop();
    let set = [
        "milestone",
        "set",
        "T-B1",
        "achieved",
        "--reason",
        "r",
        "--evidence",
        "https://example.org",
    ];
    let out = run(&url, &keys, &set);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one message: {err}");
    assert!(
        err.contains("cannot connect") && !err.contains("panicked"),
        "{err}"
    );
    server.start();
    assert_eq!(events(&url, &keys), base, "nothing was written");

    // 2. Down in the middle of a large apply: exit 4 (or 0 if the commit won the
    //    race), the batch all there or not at all; then the same command succeeds.
    let batch = |day: u64| -> String {
        (0..1500)
        .map(|k| {
            let (from, to) = if k % 2 == 0 { ("not_started", "in_progress") } else { ("in_progress", "not_started") };
            format!(
                "{{\"as\":\"founder\",\"type\":\"MilestoneStatusChanged\",\"issued_at\":\"2026-01-{day:02}T00:00:00.000000Z\",\"payload\":{{\"id\":\"E-B3\",\"from\":\"{from}\",\"to\":\"{to}\",\"reason\":\"step {k}\",\"evidence\":[]}}}}\n"
            )
        })
        .collect()
    };
    let file = work.path().join("batch.jsonl");
    let apply = ["apply", file.to_str().unwrap()];
    // Stop the server shortly after the process starts; retry with less delay until
    // a run is cut.
    let mut cut = false;
    for (day, delay_ms) in [150u64, 60, 20, 5, 0].into_iter().enumerate() {
        // A batch of its own (another issued_at): an earlier one may have gone in.
        std::fs::write(&file, batch(day as u64 + 1)).unwrap();
        let before = events(&url, &keys);
        let child = waymark(&url, &keys, &apply)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        server.stop();
        let started = Instant::now();
        let out = child.wait_with_output().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the CLI gave up in time"
        );
        server.start();
        let after = events(&url, &keys);
        let err = text(&out.stderr);
        match out.status.code() {
            Some(0) => assert_eq!(after, before + 1500, "an acknowledged batch is whole"),
            Some(4) => {
                assert_eq!(err.trim().lines().count(), 1, "one message: {err}");
                assert!(
                    after == before || after == before + 1500,
                    "all or nothing: {}",
                    after - before
                );
                if after == before {
                    // The same command, after the restart, succeeds.
                    let again = run(&url, &keys, &apply);
                    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
                    assert_eq!(events(&url, &keys), before + 1500);
                    cut = true;
                    break;
                }
            }
            other => panic!("exit {other:?}: {err}"),
        }
    }
    assert!(cut, "no run was cut by the server stopping");
}
