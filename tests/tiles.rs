//! C2SP tlog-tiles end to end (issue 16): `publish` writes exactly the tiles and entry
//! bundles a tree of its size has; proofs computed from them (`prove … --tiles`) are the
//! ledger's own; a re-publication after growth writes only what changed and never
//! rewrites a full tile; `verify-offline --tiles` accepts genuine tiles and refuses a
//! flipped byte in a tile or a bundle and a missing tile; `serve` answers the same bytes
//! at `/api/ledgers/{id}/tile/…`; and Go's `golang.org/x/mod/sumdb/tlog.TileHashReader`
//! reads the tiles, checks them against the checkpoint and finds the same proofs.

#[macro_use]
mod common;
use common::served::{get, serve};
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use waymark_events::{changed_tiles, tiles_for, Tile};

/// A framework without milestones: `init` records LedgerOpened alone (seq 1).
const EMPTY: &str = r#"
id = "empty"
version = "1"
title = "Empty framework"
[[layers]]
id = "tech"
title = "Technical"
phases = ["A"]
[[phases]]
id = "A"
title = "Phase A"
description = "Bootstrapped"
"#;

/// The `apply` lines of seq `from..=to`: seq 2 defines M1, every later seq moves M1
/// between not_started and in_progress.
fn lines(from: u64, to: u64) -> String {
    lines_from(2, from, to)
}

/// [`lines`] with M1 defined at seq `define`.
fn lines_from(define: u64, from: u64, to: u64) -> String {
    let mut out = String::new();
    for seq in from.max(define)..=to {
        if seq == define {
            out += r#"{"as":"alice","type":"MilestoneDefined","payload":{"id":"M1","title":"M1","layer":"tech","phase":"A","description":"the one milestone","principles":[],"depends_on":[]}}"#;
        } else {
            let (a, b) = if (seq - define - 1).is_multiple_of(2) {
                ("not_started", "in_progress")
            } else {
                ("in_progress", "not_started")
            };
            out += &format!(
                r#"{{"as":"alice","type":"MilestoneStatusChanged","payload":{{"id":"M1","from":"{a}","to":"{b}","reason":"week {seq}: the working group reported","evidence":[]}}}}"#
            );
        }
        out.push('\n');
    }
    out
}

/// A ledger `t` of exactly `n` events.
fn ledger(env: &Env, n: u64) {
    let fw = env.path("empty.toml");
    std::fs::write(&fw, EMPTY).unwrap();
    env.ok(&[
        "--ledger",
        "t",
        "init",
        "--framework",
        fw.to_str().unwrap(),
        "--founder",
        "alice",
        "--founder-name",
        "Alice",
        "--origin",
        "example.org/t",
    ]);
    grow(env, 1, n);
}

/// Records seq `from + 1..=to`.
fn grow(env: &Env, from: u64, to: u64) {
    if to > from {
        let f = env.path(&format!("grow-{to}.jsonl"));
        std::fs::write(&f, lines(from + 1, to)).unwrap();
        env.ok(&["--quiet", "apply", f.to_str().unwrap()]);
    }
}

/// Every file below `dir/tile`, as tile paths (`tile/0/000.p/5`).
fn tile_files(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, at: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(at).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_string();
                out.insert(rel);
            }
        }
    }
    let mut out = BTreeSet::new();
    if dir.join("tile").is_dir() {
        walk(dir, &dir.join("tile"), &mut out);
    }
    out
}

fn paths(tiles: Vec<Tile>) -> BTreeSet<String> {
    tiles.iter().map(Tile::path).collect()
}

fn log_key(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("log-key.txt"))
        .unwrap()
        .trim()
        .to_string()
}

/// `prove …` from the database and from the tiles: the same document, which the tiles
/// give without a database (`--db` points nowhere).
#[track_caller]
fn same_proof(env: &Env, dir: &Path, args: &[&str]) -> Vec<u8> {
    let from_db = env.ok(&[&["prove"], args].concat());
    let key = log_key(dir);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["--db", "sqlite:///nonexistent/never.db", "prove"])
        .args(args)
        .args(["--tiles", dir.to_str().unwrap(), "--key", &key])
        .output()
        .unwrap();
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), from_db),
        "prove {args:?} --tiles: {}",
        text(&out.stderr)
    );
    out.stdout
}

/// `verify-offline --tiles DIR --json` (pinned key unless `key` is None): exit code and report.
fn verify_tiles(dir: &Path, key: Option<&str>) -> (i32, Value) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_waymark"));
    cmd.args(["--json", "verify-offline", "--tiles", dir.to_str().unwrap()]);
    if let Some(k) = key {
        cmd.args(["--key", k]);
    }
    let out = cmd.output().unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}{}", text(&out.stdout), text(&out.stderr)));
    (out.status.code().unwrap(), report)
}

/// Runs tests/go/run.sh and expects `ok`.
#[track_caller]
fn go(args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/go/run.sh");
    let out = std::process::Command::new("sh")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "go {args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The seqs and sizes proofs are asked for in a tree of `n`.
fn spread(n: u64) -> Vec<u64> {
    let mut v: Vec<u64> = [1, 2, 255, 256, 257, 300, 65_536, 65_537, n / 2, n - 1, n]
        .into_iter()
        .filter(|x| (1..=n).contains(x))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Publishes a ledger of `n` events; checks the tile set, the checkpoint, `sizes`'
/// inclusion proofs (of the `spread` of each size) and consistency proofs (from the
/// `spread` of each size), and `verify-offline --tiles`.
fn published(env: &Env, n: u64, sizes: &[u64]) -> std::path::PathBuf {
    let dir = env.path(&format!("pub-{n}"));
    let done = env.json(&["publish", dir.to_str().unwrap()]);
    assert_eq!(done["tree_size"], n);
    assert_eq!(tile_files(&dir), paths(tiles_for(n)), "size {n}");
    assert_eq!(done["tiles_written"], tiles_for(n).len());
    assert_eq!(
        std::fs::read(dir.join("checkpoint")).unwrap(),
        std::fs::read(dir.join("checkpoint.txt")).unwrap()
    );
    for &size in sizes {
        for seq in spread(size) {
            let (seq, size) = (seq.to_string(), size.to_string());
            same_proof(env, &dir, &["inclusion", &seq, "--size", &size]);
        }
        for old in spread(size) {
            same_proof(
                env,
                &dir,
                &["consistency", &old.to_string(), &size.to_string()],
            );
        }
    }
    same_proof(env, &dir, &["inclusion", &n.to_string()]);
    let (code, report) = verify_tiles(&dir, Some(&log_key(&dir)));
    assert_eq!((code, &report["ok"]), (0, &Value::Bool(true)), "{report}");
    assert_eq!(report["checked"], n);
    dir
}

fn small_ledgers_publish_the_tiles_of_their_size(kind: Kind) {
    for n in [1, 255, 256, 257] {
        let env = Env::new(kind);
        ledger(&env, n);
        let dir = published(&env, n, &spread(n));
        if needs("Go with golang.org/x/mod", have_go(), GO_INSTALL) {
            go(&["tiles", dir.to_str().unwrap(), &log_key(&dir)]);
        }
    }
    // Without --key: the key LedgerOpened declares, trusted on first use, and said so.
    let env = Env::new(kind);
    ledger(&env, 3);
    let dir = env.path("pub");
    env.ok(&["publish", dir.to_str().unwrap()]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["prove", "inclusion", "2", "--tiles", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("trusted on first use"));
    assert_eq!(text(&out.stdout), env.ok(&["prove", "inclusion", "2"]));
}

/// Modification time and inode of every file below `dir/tile`.
fn stamps(dir: &Path) -> BTreeMap<String, (i64, i64, u64)> {
    tile_files(dir)
        .into_iter()
        .map(|f| {
            let m = std::fs::metadata(dir.join(&f)).unwrap();
            (f, (m.mtime(), m.mtime_nsec(), m.ino()))
        })
        .collect()
}

fn a_large_ledger_from_its_tiles(kind: Kind) {
    const N: u64 = 70_000;
    const GROWN: u64 = 70_200;
    let env = Env::new(kind);
    ledger(&env, N);
    // Sizes across all three tile levels (a proof from the database takes a process
    // start and a store open: the spread of every size would take minutes).
    let dir = published(&env, N, &[65_537, N]);
    let key = log_key(&dir);

    // Go's tlog reads the same tiles and computes the same proofs.
    if needs("Go with golang.org/x/mod", have_go(), GO_INSTALL) {
        let mut files = Vec::new();
        for (i, args) in [
            vec!["inclusion", "1"],
            vec!["inclusion", "65537", "--size", "69999"],
            vec!["consistency", "300", "65537"],
            vec!["consistency", "65536", "70000"],
        ]
        .iter()
        .enumerate()
        {
            let f = env.path(&format!("proof-{i}.json"));
            std::fs::write(&f, same_proof(&env, &dir, args)).unwrap();
            files.push(f.to_str().unwrap().to_string());
        }
        let mut args = vec!["tiles", dir.to_str().unwrap(), &key];
        args.extend(files.iter().map(String::as_str));
        assert!(go(&args).contains("tree size 70000"));
    }

    // `serve` answers the same bytes at the same paths below /api/ledgers/t.
    {
        let served = serve(&env);
        let api = format!("{}/api/ledgers/t", served.base);
        for t in tiles_for(N) {
            let r = get(&format!("{api}/{}", t.path()));
            assert_eq!(r.status, 200, "{t}: {}", r.text());
            assert_eq!(r.content_type, "application/octet-stream");
            assert!(r.body == std::fs::read(dir.join(t.path())).unwrap(), "{t}");
        }
        let cp = get(&format!("{api}/checkpoint"));
        assert_eq!(cp.body, std::fs::read(dir.join("checkpoint")).unwrap());
        // An older size's partial tile is still there; a tile beyond the head is not.
        assert_eq!(get(&format!("{api}/tile/0/273.p/100")).status, 200);
        get(&format!("{api}/tile/0/274.p/1")).problem(404);
        get(&format!("{api}/tile/0/273.p/113")).problem(404);
        get(&format!("{api}/tile/0/0273.p/1")).problem(404);
        get(&format!("{api}/tile/entries/000.p/256")).problem(404);
        // verify-offline reads the same log through the URL.
        let (code, report) = verify_tiles(Path::new(&api), Some(&key));
        assert_eq!((code, &report["ok"]), (0, &Value::Bool(true)), "{report}");
    }

    // Growth: only the new full tiles and the new partial tiles are written; no full
    // tile is rewritten; the partials whose full tile now exists are gone.
    let before = stamps(&dir);
    grow(&env, N, GROWN);
    let done = env.json(&["publish", dir.to_str().unwrap()]);
    assert_eq!(done["previous_size"], N);
    let written: BTreeSet<String> = done["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str().filter(|f| f.starts_with("tile/")))
        .map(str::to_string)
        .collect();
    assert_eq!(written, paths(changed_tiles(N, GROWN)));
    let after = stamps(&dir);
    for (f, stamp) in &before {
        if !f.contains(".p/") {
            assert_eq!(after.get(f), Some(stamp), "full tile {f} was rewritten");
        }
    }
    let removed: BTreeSet<&str> = done["removed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // Tile 273 of level 0 (and its bundle) is full at 70,200: its partial goes.
    assert_eq!(
        removed,
        ["tile/0/273.p/112", "tile/entries/273.p/112"].into()
    );
    let now: BTreeSet<String> = tile_files(&dir);
    let kept_partials: BTreeSet<String> = paths(tiles_for(N))
        .into_iter()
        .filter(|p| p.contains(".p/") && !removed.contains(p.as_str()))
        .collect();
    let want: BTreeSet<String> = paths(tiles_for(GROWN))
        .union(&kept_partials)
        .cloned()
        .collect();
    assert_eq!(
        now, want,
        "the tiles of 70,200, and 70,000's partials still partial"
    );
    same_proof(&env, &dir, &["consistency", "70000", "70200"]);
    same_proof(&env, &dir, &["inclusion", "70144"]);
    let (code, report) = verify_tiles(&dir, Some(&key));
    assert_eq!((code, &report["ok"]), (0, &Value::Bool(true)), "{report}");
}

/// Copies the published tiles of `from` into a fresh directory.
fn copy_tiles(from: &Path, to: &Path) {
    for f in tile_files(from)
        .into_iter()
        .chain(["checkpoint".to_string(), "log-key.txt".to_string()])
    {
        let dst = to.join(&f);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&f), dst).unwrap();
    }
}

fn flip(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[at] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

fn verify_offline_refuses_tampered_tiles(kind: Kind) {
    let env = Env::new(kind);
    ledger(&env, 300);
    let dir = env.path("pub");
    env.ok(&["publish", dir.to_str().unwrap()]);
    let key = log_key(&dir);
    let case = |name: &str, tamper: &dyn Fn(&Path)| -> Value {
        let copy = env.path(name);
        copy_tiles(&dir, &copy);
        tamper(&copy);
        let (code, report) = verify_tiles(&copy, Some(&key));
        assert_eq!(code, 3, "{name}: {report}");
        assert_eq!(report["ok"], false, "{name}: {report}");
        report
    };
    // A hash tile that is not the one the entries give: checkpoint_mismatch (the
    // entries themselves verify), at every level.
    for tile in ["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"] {
        let r = case(&format!("flip-{}", tile.replace('/', "-")), &|d| {
            flip(&d.join(tile), 31)
        });
        assert_eq!(r["problem"], "checkpoint_mismatch", "{tile}: {r}");
        assert!(r["detail"].as_str().unwrap().contains(tile), "{r}");
        assert_eq!(r["checked"], 300, "{r}");
    }
    // A flipped byte in an event's bytes: the chain breaks at that event.
    let r = case("flip-entry", &|d| {
        let bundle = d.join("tile/entries/001.p/44");
        let b = std::fs::read(&bundle).unwrap();
        let at = b.windows(8).position(|w| w == b"progress").unwrap();
        flip(&bundle, at);
    });
    assert_eq!(r["first_bad_seq"], 257, "{r}");
    // A bundle cut short: malformed at its first entry.
    let r = case("cut-bundle", &|d| {
        let bundle = d.join("tile/entries/000");
        let b = std::fs::read(&bundle).unwrap();
        std::fs::write(&bundle, &b[..b.len() - 1]).unwrap();
    });
    assert_eq!(
        (r["problem"].as_str(), r["first_bad_seq"].as_u64()),
        (Some("malformed"), Some(1)),
        "{r}"
    );
    // A missing tile or bundle: truncated.
    let r = case("no-tile", &|d| {
        std::fs::remove_file(d.join("tile/1/000.p/1")).unwrap()
    });
    assert_eq!(r["problem"], "truncated", "{r}");
    assert!(
        r["detail"].as_str().unwrap().contains("tile/1/000.p/1"),
        "{r}"
    );
    let r = case("no-bundle", &|d| {
        std::fs::remove_file(d.join("tile/entries/001.p/44")).unwrap()
    });
    assert_eq!(
        (r["problem"].as_str(), r["first_bad_seq"].as_u64()),
        (Some("truncated"), Some(257)),
        "{r}"
    );
    // Another log key's checkpoint, or a checkpoint for fewer events than the entries.
    let (code, r) = verify_tiles(&dir, Some("not-a-key"));
    assert_eq!(code, 2, "a --key that is no key is a usage error: {r}");
    let other = Env::new(kind);
    ledger(&other, 1);
    let elsewhere = other.path("pub");
    other.ok(&["publish", elsewhere.to_str().unwrap()]);
    let (code, r) = verify_tiles(&dir, Some(&log_key(&elsewhere)));
    assert_eq!(
        (code, r["problem"].as_str()),
        (3, Some("checkpoint_mismatch")),
        "{r}"
    );
    // A proof from tampered tiles is refused before it is printed.
    let copy = env.path("flip-for-prove");
    copy_tiles(&dir, &copy);
    flip(&copy.join("tile/0/001.p/44"), 5);
    let out = env.run(&[
        "prove",
        "inclusion",
        "257",
        "--tiles",
        copy.to_str().unwrap(),
        "--key",
        &key,
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("checkpoint_mismatch"),
        "{}",
        text(&out.stderr)
    );
    // The genuine tiles, without --key: verified, with the first-use warning.
    let (code, r) = verify_tiles(&dir, None);
    assert_eq!((code, &r["ok"]), (0, &Value::Bool(true)), "{r}");
}

/// `site --out` of 1,100 events keeps the proof files of the newest 1,000, every proof
/// its pages link to exists, and an older event's hash says how to compute its proof.
fn a_site_keeps_the_proofs_its_pages_link(kind: Kind) {
    const N: u64 = 1_100;
    let env = Env::new(kind);
    ledger(&env, 1);
    // Season 1 opens and closes at seq 2 and 3: its page shows those old events.
    let f = env.path("site.jsonl");
    let seasons = concat!(
        r#"{"as":"alice","type":"SeasonOpened","payload":{"season":1,"starts_on":"2024-01-01","intent":"start","focus":[]}}"#,
        "\n",
        r#"{"as":"alice","type":"SeasonReEvaluated","payload":{"season":1,"ends_on":"2024-02-01","summary":"done","assessments":[]}}"#,
        "\n"
    );
    std::fs::write(&f, format!("{seasons}{}", lines_from(4, 4, N))).unwrap();
    env.ok(&["--quiet", "apply", f.to_str().unwrap()]);
    let site = env.path("site");
    env.ok(&["site", "--out", site.to_str().unwrap()]);
    let api = site.join("api/ledgers/t");
    let kept: BTreeSet<u64> = std::fs::read_dir(api.join("proof/inclusion"))
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".json").unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(kept, (N - 999..=N).collect());
    assert_eq!(tile_files(&api), paths(tiles_for(N)));
    let mut linked = 0;
    for page in std::fs::read_dir(&site).unwrap() {
        let page = page.unwrap().path();
        if page.extension().and_then(|e| e.to_str()) != Some("html") {
            continue;
        }
        let html = std::fs::read_to_string(&page).unwrap();
        for (at, _) in html.match_indices("href=\"api/ledgers/t/proof/inclusion/") {
            let link = &html[at + 6..];
            let link = &link[..link.find('"').unwrap()];
            assert!(
                site.join(link).is_file(),
                "{}: {link} does not exist",
                page.display()
            );
            linked += 1;
        }
    }
    assert!(linked >= 50, "{linked} proof links");
    let old = std::fs::read_to_string(site.join("as-of-season-1.html")).unwrap();
    assert!(
        old.contains(
            "no proof file for seq 2 here: waymark prove inclusion 2 --tiles api/ledgers/t"
        ),
        "the season page names the command for an old event's proof"
    );
    // That command, run from the site's directory, gives the proof `serve` would.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .current_dir(&site)
        .args(["prove", "inclusion", "2", "--tiles", "api/ledgers/t"])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), env.ok(&["prove", "inclusion", "2"]));
}

/// Peak resident memory (VmHWM, KiB) of `waymark ARGS…`, read from /proc while it
/// runs (as tests/limits.rs does for `apply`), and its exit code.
fn peak_kib(env: &Env, args: &[&str]) -> (u64, Option<i32>) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["--db", &env.url, "--keys"])
        .arg(env.keys())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        if let Some(kib) = std::fs::read_to_string(&status).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        }) {
            peak = kib;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    (peak, child.wait().unwrap().code())
}

/// `publish` streams: the export, the tiles and the verification read a page of events
/// at a time, so publishing 30,000 events peaks within 24 MiB of publishing 2,000; what
/// grows is rule 7's set of signatures that `verify` keeps (~150 bytes an event). It
/// used to load the whole ledger twice, ~4.7 KiB an event: 4.7 GB at 1M events, where
/// it now peaks at 186 MB (release build).
fn publish_memory_does_not_grow_with_the_ledger(kind: Kind) {
    let env = Env::new(kind);
    ledger(&env, 2_000);
    let small = env.path("small");
    let (small_peak, code) = peak_kib(&env, &["publish", small.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    grow(&env, 2_000, 30_000);
    let large = env.path("large");
    let (large_peak, code) = peak_kib(&env, &["publish", large.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert_eq!(tile_files(&large), paths(tiles_for(30_000)));
    println!("publish peak RSS: 2,000 events {small_peak} KiB, 30,000 events {large_peak} KiB");
    assert!(
        large_peak <= small_peak + 24 * 1024,
        "30,000 events peaked at {large_peak} KiB, 2,000 at {small_peak} KiB"
    );
}

/// The `SeasonOpened` of Season 1 (seq 2 of [`season_ledger`]), open to the head.
const SEASON_1: &str = r#"{"as":"alice","type":"SeasonOpened","payload":{"season":1,"starts_on":"2025-01-01","intent":"one long Season","focus":[]}}"#;

/// A ledger `t` of `n` events that is one Season: opened at seq 2, M1 defined at seq 3,
/// then M1's status changes.
fn season_ledger(env: &Env, n: u64) {
    ledger(env, 1);
    let f = env.path("season.jsonl");
    std::fs::write(&f, format!("{SEASON_1}\n{}", lines_from(3, 3, n))).unwrap();
    env.ok(&["--quiet", "apply", f.to_str().unwrap()]);
}

/// `site` streams too: besides what `publish` writes, its `history.json` (the whole
/// audit trail, ~770 bytes of JSON an event) is written a page of rows at a time, and
/// each Season's review (which lists every status change of the Season, SPEC section 10)
/// in two passes over the Season a page at a time, so a site of 30,000 events in one
/// Season peaks within 24 MiB of one of 2,000. It used to build the trail in memory
/// twice over (the rows, then their JSON): 2.9 GB at 1M events; and each review from
/// all of its Season's events and rows.
fn site_memory_does_not_grow_with_the_ledger(kind: Kind) {
    let env = Env::new(kind);
    season_ledger(&env, 2_000);
    let small = env.path("small-site");
    let (small_peak, code) = peak_kib(&env, &["site", "--out", small.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    let f = env.path("grow.jsonl");
    std::fs::write(&f, lines_from(3, 2_001, 30_000)).unwrap();
    env.ok(&["--quiet", "apply", f.to_str().unwrap()]);
    let large = env.path("large-site");
    let (large_peak, code) = peak_kib(&env, &["site", "--out", large.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    // The trail is all there, oldest first, as one JSON array.
    let history: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(large.join("api/ledgers/t/history.json")).unwrap())
            .unwrap();
    assert_eq!(history.len(), 30_000);
    assert!(history
        .iter()
        .enumerate()
        .all(|(i, r)| r["seq"] == i as u64 + 1));
    // So is the Season's review, with every status change of its 29,999 events.
    let review: serde_json::Value =
        serde_json::from_slice(&std::fs::read(large.join("api/ledgers/t/reviews/1.json")).unwrap())
            .unwrap();
    assert_eq!(
        (
            review["start"]["seq"].as_u64(),
            review["end"]["seq"].as_u64()
        ),
        (Some(2), Some(30_000))
    );
    assert_eq!(
        review["status_changes"].as_array().map(Vec::len),
        Some(29_997)
    );
    println!("site peak RSS: 2,000 events {small_peak} KiB, 30,000 events {large_peak} KiB");
    assert!(
        large_peak <= small_peak + 24 * 1024,
        "30,000 events peaked at {large_peak} KiB, 2,000 at {small_peak} KiB"
    );
}

on_both_backends!(
    site_memory_does_not_grow_with_the_ledger,
    publish_memory_does_not_grow_with_the_ledger,
    a_site_keeps_the_proofs_its_pages_link,
    small_ledgers_publish_the_tiles_of_their_size,
    a_large_ledger_from_its_tiles,
    verify_offline_refuses_tampered_tiles,
);
