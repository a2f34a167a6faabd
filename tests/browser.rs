//! The dashboard in a real browser: `waymark serve` on port 0 over the demo ledger,
//! headless Chromium (Debian's `chromium`) driven by playwright-core
//! (tests/browser/dashboard.mjs). The board must show the demo's milestones with the
//! statuses of `waymark status --json`, the as-of selector must switch it to an
//! earlier Season's statuses, and a screenshot of the page is taken (into a temp dir;
//! `docs/regenerate.sh` sets `WAYMARK_SCREENSHOT=docs/dashboard.png` to refresh the
//! committed picture, a test run never writes to the tree).
//!
//! Needs `chromium`, `node` and playwright-core in tests/browser/node_modules
//! (`tools/test.sh` installs all three; the test itself never reaches the network).
//! Without them it prints "skipped: needs …", or fails under WAYMARK_REQUIRE_ALL=1.

mod common;
#[path = "browser/statuses.rs"]
mod statuses;

use serde_json::Value;
use statuses::statuses;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn waymark(db: &str, keys: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["--db", db, "--keys"])
        .arg(keys)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "waymark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn seen(board: &Value) -> BTreeMap<String, String> {
    board
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, m)| (id.clone(), m["status"].as_str().unwrap().to_string()))
        .collect()
}

fn have(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn dashboard_in_headless_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script_dir = root.join("tests/browser");
    let ready = common::needs(
        "Chromium",
        have(&chromium, "--version"),
        "apt-get install chromium",
    ) && common::needs(
        "Node.js",
        have("node", "--version"),
        "apt-get install nodejs npm",
    ) && common::needs(
        "playwright-core in tests/browser/node_modules",
        script_dir.join("node_modules/playwright-core").is_dir(),
        "cd tests/browser && npm ci",
    );
    if !ready {
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let keys = dir.path().join("keys");
    waymark(&db, &keys, &["demo"]);
    let head: Value = serde_json::from_str(&waymark(&db, &keys, &["--json", "status"])).unwrap();
    let season = 7;
    let past: Value = serde_json::from_str(&waymark(
        &db,
        &keys,
        &["--json", "status", "--as-of", &format!("season:{season}")],
    ))
    .unwrap();
    assert_ne!(
        statuses(&head),
        statuses(&past),
        "pick a season whose board differs"
    );

    // `waymark serve` on port 0; it prints the address it bound.
    let mut server = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["--db", &db, "--keys"])
        .arg(&keys)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split_once("serving ")
                .map(|(_, rest)| rest.split_whitespace().next().unwrap_or("").to_string())
        })
        .expect("serve prints the address it listens on");
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());

    let shot: PathBuf = std::env::var_os("WAYMARK_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("dashboard.png"));
    let out = Command::new("node")
        .arg(script_dir.join("dashboard.mjs"))
        .args([&url, &season.to_string()])
        .arg(&shot)
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap();

    // Graceful shutdown on SIGINT (what ctrl-c sends): the server exits 0.
    let pid = server.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let exit = server.wait().unwrap();
    let log = drain.join().unwrap();
    assert!(
        out.status.success(),
        "the browser script failed:\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        log.join("\n")
    );
    assert!(exit.success(), "serve did not shut down cleanly: {exit:?}");
    assert!(
        log.iter()
            .any(|l| l.contains("GET") || l.contains("request")),
        "no request was traced: {log:?}"
    );

    let saw: Value = serde_json::from_slice(&out.stdout).unwrap();
    let h = &saw["head"];
    assert_eq!(h["http_status"], 200);
    assert_eq!(seen(&h["board"]), statuses(&head), "the board at the head");
    // What a reader sees on each card matches the status too, and the legend's classes.
    for m in head["milestones"].as_array().unwrap() {
        let card = &h["board"][m["id"].as_str().unwrap()];
        let status = m["status"].as_str().unwrap();
        assert!(
            card["text"]
                .as_str()
                .unwrap()
                .starts_with(&status.replace('_', " ")),
            "{card}"
        );
        let classes = card["classes"].as_str().unwrap();
        assert_eq!(classes.contains("retired"), m["retired"] == true, "{card}");
        assert!(classes.split(' ').any(|c| c == status), "{card}");
    }
    assert!(h["as_of"]
        .as_str()
        .unwrap()
        .contains(&format!("seq {}", head["as_of"]["seq"])));
    assert_eq!(h["graph_svg"], 1);
    assert_eq!(h["chart_svg"], 1);
    // The audit log's first page: the newest 50 events (issue 12: pages, not the
    // whole trail), each hash linking to its proof.
    assert_eq!(
        h["proof_links"].as_u64().unwrap(),
        head["as_of"]["seq"].as_u64().unwrap().min(50)
    );
    let note = waymark(&db, &keys, &["checkpoint"]);
    assert_eq!(h["checkpoint"].as_str().unwrap(), note);

    let p = &saw["past"];
    assert!(
        p["url"]
            .as_str()
            .unwrap()
            .contains(&format!("as_of=season%3A{season}"))
            || p["url"]
                .as_str()
                .unwrap()
                .contains(&format!("as_of=season:{season}"))
    );
    assert_eq!(p["selected"], format!("season:{season}"));
    assert_eq!(
        seen(&p["board"]),
        statuses(&past),
        "the board as of season {season}"
    );
    assert!(p["as_of"]
        .as_str()
        .unwrap()
        .contains(&format!("Season {season}")));

    assert_eq!(saw["proof"]["format"], "waymark-inclusion/v1");
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{}",
        shot.display()
    );
}
