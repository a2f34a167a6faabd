//! The dashboard in a real browser: `waymark serve` on port 0 over the demo ledger,
//! headless Chromium (Debian's `chromium`) driven by playwright-core
//! (tests/browser/dashboard.mjs). The board must show the demo's milestones with the
//! statuses of `waymark status --json`, the as-of selector must switch it to an
//! earlier Season's statuses, and a screenshot of the page is taken (into a temp dir;
//! `docs/regenerate.sh` sets `WAYMARK_SCREENSHOT=docs/dashboard.png` to refresh the
//! committed picture, a test run never writes to the tree).
//!
//! The "Who decides" page too (tests/browser/decisions.mjs): reached from the main
//! page's navigation, its decision map must show each module of the demo ledger as the
//! decision map JSON (`GET /api/ledgers/{id}/decisions`; the CLI's `decisions --json`
//! is not on this branch yet) and the recorded events say, its diagram must be the one
//! of `graph --decisions`, and the as-of selector must switch it to an earlier Season's
//! designs.
//!
//! Needs `chromium`, `node` and playwright-core in tests/browser/node_modules
//! (`tools/test.sh` installs all three; the test itself never reaches the network).
//! Without them it prints "skipped: needs …", or fails under WAYMARK_REQUIRE_ALL=1.

mod common;
#[path = "browser/statuses.rs"]
mod statuses;

use serde_json::{json, Value};
use statuses::statuses;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

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

/// Chromium's path and tests/browser, when Chromium, Node.js and playwright-core are
/// all there (otherwise `None`, after saying what is missing).
fn browser() -> Option<(String, PathBuf)> {
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
    ready.then_some((chromium, script_dir))
}

/// `waymark serve` on port 0 over `db`: the child, the URL it prints, and a thread
/// collecting the rest of its log.
fn serve(db: &str, keys: &Path) -> (Child, String, JoinHandle<Vec<String>>) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["--db", db, "--keys"])
        .arg(keys)
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
    (server, url, drain)
}

/// Stops `server` as ctrl-c does (SIGINT); it must exit 0. Returns its log.
fn stop(mut server: Child, drain: JoinHandle<Vec<String>>) -> Vec<String> {
    let pid = server.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let exit = server.wait().unwrap();
    let log = drain.join().unwrap();
    assert!(exit.success(), "serve did not shut down cleanly: {exit:?}");
    log
}

#[test]
fn dashboard_in_headless_chromium() {
    let Some((chromium, script_dir)) = browser() else {
        return;
    };

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
    let (server, url, drain) = serve(&db, &keys);

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
    let log = stop(server, drain);
    assert!(
        out.status.success(),
        "the browser script failed:\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        log.join("\n")
    );
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

/// The last transfer of each decision among the export's events up to `upto`: `(seq,
/// evidence)`; and each decision's definition: `(seq, source)`.
type Transfers = BTreeMap<String, (u64, Value)>;
fn design_events(export: &str, upto: u64) -> (Transfers, Transfers, Vec<u64>) {
    let (mut last, mut defined, mut all) = (BTreeMap::new(), BTreeMap::new(), Vec::new());
    for line in export.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let seq = e["seq"].as_u64().unwrap();
        if seq > upto {
            break;
        }
        let p = &e["payload"];
        match e["type"].as_str().unwrap() {
            "AuthorityTransferred" => {
                last.insert(
                    p["decision"].as_str().unwrap().to_string(),
                    (seq, p["evidence"].clone()),
                );
                all.push(seq);
            }
            "DecisionDefined" => {
                let source = p.get("source").map_or(json!([]), |s| json!([s]));
                defined.insert(p["id"].as_str().unwrap().to_string(), (seq, source));
            }
            _ => {}
        }
    }
    (last, defined, all)
}

/// What the page showed (`seen`, from decisions.mjs) against the decision map JSON
/// (`map`) and the bodies JSON at the same point, and the recorded events.
fn page_matches(what: &str, seen: &Value, map: &Value, bodies: &Value, export: &str) {
    let at = map["as_of"]["seq"].as_u64().unwrap();
    let (last, defined, all) = design_events(export, at);
    let titles: BTreeMap<&str, &str> = bodies["bodies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["id"].as_str().unwrap(), b["title"].as_str().unwrap()))
        .collect();
    let decisions = map["decisions"].as_array().unwrap();
    let rows = seen["map"].as_object().unwrap();
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        decisions
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>(),
        "{what}: the modules of the map, in order"
    );
    for d in decisions {
        let id = d["id"].as_str().unwrap();
        let row = &rows[id];
        let cur = &d["current"];
        assert_eq!(row["title"], d["title"], "{what} {id}");
        assert_eq!(
            row["now"]["deciders"], cur["deciders"],
            "{what} {id}: deciders now"
        );
        assert_eq!(
            row["now"]["process"], cur["process"],
            "{what} {id}: process now"
        );
        // A reader sees the deciders' names.
        let names: Vec<&str> = cur["deciders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| titles[b.as_str().unwrap()])
            .collect();
        assert_eq!(row["now"]["names"], json!(names), "{what} {id}: names");
        if let Some(t) = cur["signers"].as_object() {
            let signers = format!("{} of {} signers", t["m"], t["n"]);
            assert!(
                row["now"]["how"].as_str().unwrap().contains(&signers),
                "{what} {id}: {row}"
            );
        }
        match d["target"].as_object() {
            None => {
                assert!(row["target"].is_null(), "{what} {id}");
                assert!(row["target_text"]
                    .as_str()
                    .unwrap()
                    .contains("no end state recorded"));
                assert_eq!(row["at_target"], "no target", "{what} {id}");
            }
            Some(t) => {
                assert_eq!(
                    row["target"]["deciders"], t["deciders"],
                    "{what} {id}: target"
                );
                assert_eq!(
                    row["target"]["process"], t["process"],
                    "{what} {id}: target"
                );
                let yes = if d["at_target"] == true { "yes" } else { "no" };
                assert_eq!(row["at_target"], yes, "{what} {id}: at target");
            }
        }
        let yes = if d["foundation_decides"] == true {
            "yes"
        } else {
            "no"
        };
        assert_eq!(row["foundation"], yes, "{what} {id}: Foundation decides");
        assert_eq!(
            row["last_change"], d["last_change"]["seq"],
            "{what} {id}: last change"
        );
        // Since: the last transfer (and its evidence), or the definition (and its source).
        let (since, evidence) = last.get(id).or(defined.get(id)).unwrap();
        assert_eq!(row["since"]["seq"], *since, "{what} {id}: since");
        assert_eq!(
            row["since"]["href"],
            format!("/api/ledgers/optimism/proof/inclusion/{since}"),
            "{what} {id}"
        );
        assert_eq!(row["evidence"], *evidence, "{what} {id}: evidence");
    }
    let a = &map["authority"];
    assert_eq!(
        seen["authority"],
        format!(
            "{} decision modules: {} at their target design, {} decided by the Foundation.",
            a["decisions"], a["at_target"], a["foundation_decides"]
        ),
        "{what}"
    );
    let ids: Vec<&Value> = bodies["bodies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["id"])
        .collect();
    assert_eq!(seen["bodies"], json!(ids), "{what}: the bodies");
    assert_eq!(
        seen["profile_rows"],
        decisions.len(),
        "{what}: a profile per module"
    );
    assert_eq!(
        seen["diagram_svg"], 1,
        "{what}: the decision diagram, inline"
    );
    assert!(
        seen["diagram_title"]
            .as_str()
            .unwrap()
            .ends_with(&format!("seq {at}")),
        "{what}: the diagram of the page's point: {}",
        seen["diagram_title"]
    );
    let shown: Vec<u64> = seen["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        shown, all,
        "{what}: every transfer up to the point, in order"
    );
}

#[test]
fn decisions_in_headless_chromium() {
    let Some((chromium, script_dir)) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let keys = dir.path().join("keys");
    waymark(&db, &keys, &["demo"]);
    let export = waymark(&db, &keys, &["export"]);
    let (server, url, drain) = serve(&db, &keys);
    let url = url.trim_end_matches('/');
    let api = |path: &str| -> Value {
        ureq::get(&format!("{url}/api/ledgers/optimism/{path}"))
            .call()
            .unwrap()
            .into_string()
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap()
    };
    let season = 6;
    let (map, bodies) = (api("decisions"), api("bodies"));
    let past_point = format!("as_of=season:{season}");
    let (past_map, past_bodies) = (
        api(&format!("decisions?{past_point}")),
        api(&format!("bodies?{past_point}")),
    );
    // The JSON is the status's section 13 keys.
    let status: Value = serde_json::from_str(&waymark(&db, &keys, &["--json", "status"])).unwrap();
    assert_eq!(map["decisions"], status["decisions"]);
    assert_eq!(bodies["bodies"], status["bodies"]);
    // Transfers after Season 6 changed who decides some modules.
    let deciders = |m: &Value| -> Vec<Value> {
        m["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["current"].clone())
            .collect()
    };
    assert_ne!(
        deciders(&map),
        deciders(&past_map),
        "pick a Season before a transfer"
    );

    let shot: PathBuf = std::env::var_os("WAYMARK_DECISIONS_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("decisions.png"));
    let out = Command::new("node")
        .arg(script_dir.join("decisions.mjs"))
        .args([&format!("{url}/ledgers/optimism"), &season.to_string()])
        .arg(&shot)
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap();
    let log = stop(server, drain);
    assert!(
        out.status.success(),
        "the browser script failed:\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        log.join("\n")
    );
    let saw: Value = serde_json::from_slice(&out.stdout).unwrap();

    let h = &saw["head"];
    assert!(
        h["url"]
            .as_str()
            .unwrap()
            .ends_with("/ledgers/optimism/decisions"),
        "the main page's navigation leads to the page: {}",
        h["url"]
    );
    assert!(h["heading"].as_str().unwrap().starts_with("Who decides: "));
    page_matches("head", h, &map, &bodies, &export);
    assert_eq!(saw["proof"]["format"], "waymark-inclusion/v1");
    assert_eq!(
        saw["svg"].as_str().unwrap(),
        waymark(&db, &keys, &["graph", "--decisions", "--format", "svg"]),
        "the diagram's SVG link"
    );

    let p = &saw["past"];
    assert_eq!(p["selected"], format!("season:{season}"));
    assert!(p["as_of"]
        .as_str()
        .unwrap()
        .contains(&format!("Season {season}")));
    page_matches(
        &format!("season {season}"),
        p,
        &past_map,
        &past_bodies,
        &export,
    );
    // The earlier design is what the reader sees: some module's deciders differ.
    let differ = map["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            let id = d["id"].as_str().unwrap();
            h["map"][id]["now"]["deciders"] != p["map"][id]["now"]["deciders"]
        })
        .count();
    assert!(
        differ > 0,
        "the as-of selector changed no module's deciders"
    );
    assert!(p["transfers"].as_array().unwrap().len() < h["transfers"].as_array().unwrap().len());

    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{}",
        shot.display()
    );
}
