//! Issue 15: quiet success is not silence. A command that writes files says in one
//! line what it wrote (count, path, head), unless `--quiet`.

#[macro_use]
mod common;
use common::*;

fn files_written_are_reported_in_one_line(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let head = env.json(&["status"])["as_of"].clone();
    let (seq, hash) = (
        head["seq"].as_u64().unwrap(),
        head["hash"].as_str().unwrap(),
    );
    let out = env.path("export.jsonl");
    let said = env.ok(&["export", "--out", out.to_str().unwrap()]);
    assert_eq!(
        said,
        format!(
            "wrote {seq} events of test (head seq {seq} {hash}) to {}\n",
            out.display()
        )
    );
    assert_eq!(std::fs::read(&out).unwrap(), env.export());
    assert_eq!(
        env.ok(&["--quiet", "export", "--out", out.to_str().unwrap()]),
        ""
    );
    let json = env.json(&["export", "--out", out.to_str().unwrap()]);
    assert_eq!(json["events"], seq);
    assert_eq!(json["wrote"], out.display().to_string());

    let snap = env.path("snap.json");
    let said = env.ok(&["snapshot", "--size", "5", "--out", snap.to_str().unwrap()]);
    assert!(
        said.starts_with("wrote the snapshot of test at tree size 5 (head ")
            && said.ends_with(&format!(") to {}\n", snap.display())),
        "{said}"
    );
    let review = env.path("review.md");
    let said = env.ok(&["review", "6", "--out", review.to_str().unwrap()]);
    assert_eq!(
        said,
        format!(
            "wrote the review of Season 6 of test to {}\n",
            review.display()
        )
    );

    let dir = env.path("pub");
    let said = env.ok(&["publish", dir.to_str().unwrap()]);
    assert!(
        said.starts_with(&format!("published {seq} events of test to ")),
        "{said}"
    );
    assert_eq!(env.ok(&["-q", "publish", dir.to_str().unwrap()]), "");
    let site = env.path("site");
    let said = env.ok(&["site", "--out", site.to_str().unwrap()]);
    assert!(said.starts_with("wrote the site of test ("), "{said}");
    assert_eq!(
        env.ok(&["--quiet", "site", "--out", site.to_str().unwrap()]),
        ""
    );
}

on_both_backends!(files_written_are_reported_in_one_line);

/// Issue 15: errors that name the cause. A filter that names nothing is an error
/// with a suggestion, not an empty table; a missing key names the key store and how
/// to choose it.
fn errors_name_the_cause(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    assert_eq!(
        env.fails(1, &["history", "m1"]),
        "waymark: no milestone, decision or body m1 (did you mean M1?)\n"
    );
    assert_eq!(
        env.fails(1, &["history", "ZZZ-404"]),
        "waymark: no milestone, decision or body ZZZ-404 in ledger test\n"
    );
    assert_eq!(
        env.fails(1, &["history", "--actor", "alicia"]),
        "waymark: no actor alicia (did you mean alice?)\n"
    );
    assert!(env.ok(&["history", "M1"]).contains("M1"));

    let err = env.fails(
        1,
        &[
            "--as",
            "mallory",
            "milestone",
            "set",
            "M2",
            "achieved",
            "--reason",
            "r",
        ],
    );
    let keys = env.keys();
    assert_eq!(
        err,
        format!(
            "waymark: no key file {} in the key store {} (name the key store with --keys DIR or WAYMARK_KEYS=DIR)\n",
            keys.join("mallory.key").display(),
            keys.display()
        )
    );
}

on_both_backends!(errors_name_the_cause);

/// The `--server` client's refusals carry a hint that fits the command refused.
#[test]
fn remote_refusals_fit_their_command() {
    let env = Env::new(Kind::Sqlite);
    let server = ["--server", "http://127.0.0.1:9"];
    let diff = env.fails(2, &[&server[..], &["diff", "seq:1", "seq:2"]].concat());
    assert!(
        diff.starts_with("waymark: diff needs the database, not a server: run it without --server (with --db), or compare the two points' statuses over --server with `status --as-of SPEC`"),
        "{diff}"
    );
    assert!(!diff.contains("verify-offline"), "{diff}");
    let verify = env.fails(2, &[&server[..], &["verify"]].concat());
    assert!(
        verify.contains("verify needs the database, not a server: fetch the export over --server (`export --out log.jsonl`) and check it with `verify-offline --log log.jsonl`"),
        "{verify}"
    );
    let rebuild = env.fails(2, &[&server[..], &["rebuild"]].concat());
    assert_eq!(
        rebuild,
        "waymark: rebuild needs the database, not a server: run it where the database is (with --db)\n"
    );
}

/// The store named wrongly or missing: each says what is wrong and what to do.
#[test]
fn a_missing_or_misnamed_store_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.db");
    let url = format!("sqlite://{}", path.display());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("WAYMARK_DB")
            .output()
            .unwrap();
        (out.status.code(), text(&out.stderr))
    };
    let want = format!(
        "waymark: storage failure: no database at {} (create one with `waymark --db {url} init --ledger ID --framework optimism`)\n",
        path.display()
    );
    assert_eq!(run(&["--db", &url, "status"]), (Some(4), want.clone()));
    assert_eq!(
        run(&[
            "--db",
            &url,
            "milestone",
            "set",
            "M1",
            "achieved",
            "--reason",
            "r"
        ]),
        (Some(4), want)
    );
    assert!(!path.exists(), "a read must not create an empty database");

    assert_eq!(
        run(&["--db", "waymark-demo.db", "status"]),
        (
            Some(2),
            "waymark: --db \"waymark-demo.db\" has no scheme: did you mean sqlite://waymark-demo.db? (or postgres://…)\n".into()
        )
    );

    // Nothing listens on port 1: refused at once, and said so (not a pool timeout).
    let (code, err) = run(&["--db", "postgres://postgres@127.0.0.1:1/none", "status"]);
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err.starts_with(
            "waymark: storage failure: cannot connect to postgres://postgres@127.0.0.1:1/none: "
        ) && err.to_lowercase().contains("connection refused"),
        "{err}"
    );
}

fn no_ledger_names_the_database(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let err = env.fails(2, &["--ledger", "nope", "status"]);
    let name = match kind {
        Kind::Sqlite => env.url.clone(),
        Kind::Postgres => {
            let db = &env.url[env.url.rfind('/').unwrap() + 1..];
            format!("/{db}")
        }
    };
    assert!(
        err.starts_with("waymark: no ledger \"nope\" in ") && err.contains(&name),
        "{err}"
    );
}

on_both_backends!(no_ledger_names_the_database);

/// `serve` without the log key says at start that checkpoints will be unavailable.
#[test]
fn serve_without_the_log_key_warns_at_start() {
    use std::io::{BufRead, BufReader};
    let env = Env::new(Kind::Sqlite);
    env.init();
    let empty = env.path("no-keys");
    std::fs::create_dir_all(&empty).unwrap();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["--db", &env.url, "--keys"])
        .arg(&empty)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<String> = BufReader::new(server.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .take(2)
        .collect();
    let _ = server.kill();
    let _ = server.wait();
    let warning = lines
        .iter()
        .find(|l| l.contains("warning"))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(
        warning,
        &format!(
            "waymark: warning: no log key for ledger test at {}: checkpoints, snapshots and the dashboard's signed checkpoint will be unavailable (give the key store that `init` used with --keys or WAYMARK_KEYS)",
            empty.join("_log.test.key").display()
        )
    );
}

/// `waymark history --json | head -c 64`: a reader that closes the pipe early ends the
/// command the way it ends any Unix tool (SIGPIPE, exit 141 in a shell), not with a
/// panic message from println!.
#[test]
fn a_closed_stdout_ends_the_command_without_a_panic() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    // The demo's history as JSON (~120 KB) is larger than a pipe's buffer (64 KB), so
    // the command is still writing when the reader goes.
    let dir = tempfile::tempdir().unwrap();
    let demo = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .arg("demo")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["--db", "sqlite://waymark-demo.db", "--json", "history"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's read end is closed here.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert_eq!(out.status.signal(), Some(13), "stderr: {stderr}");
}
