//! (j) The dashboard as its readers use it (issue 17, goal 2: at 1M events every page
//! p95 ≤ 50 ms, the server's RSS after each page type ≤ 256 MiB), included by
//! `ledger.rs`.
//!
//! The real `waymark serve` runs as a process of its own over the bench's ledger, so
//! the RSS read from `/proc/PID/status` is the server's alone. Each page type is asked
//! N times, one request at a time on one keep-alive connection, and every request is
//! a different page (its own `before=` from the head to the tail, the Seasons in
//! turn), so the server's cache of rendered pages (8 pages) never answers: every
//! request gathers and renders. The page types are those of `tools/dashboard_bench.py`.

use super::*;
use std::io::{BufRead, Read};

/// The bench ledgers' log key: `writer::ledger_opened` records its public half.
const LOG_KEY: [u8; 32] = [3; 32];

/// A `waymark serve` process and the address it listens on.
struct Served {
    child: std::process::Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `waymark --db URL --keys KEYS serve --addr 127.0.0.1:0` and waits for the
/// line that names its address.
fn serve(url: &str, keys: &Path) -> Served {
    let mut child = std::process::Command::new(processes::waymark_bin())
        .args(["--db", url, "--keys"])
        .arg(keys)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn waymark serve");
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("waymark serve exited before listening")
            .expect("read serve's stderr");
        if let Some(rest) = line.strip_prefix("waymark: serving ") {
            let addr = rest.split_whitespace().next().unwrap();
            break addr.trim_end_matches('/').to_string();
        }
        eprintln!("  [serve] {line}");
    };
    // Keep reading, so the server never waits on a full pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if line.starts_with("waymark:") {
                eprintln!("  [serve] {line}");
            }
        }
    });
    Served { child, base }
}

/// VmRSS and VmHWM of process `pid`, in KiB.
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// One GET, until the last byte of the body: (ms, bytes).
fn get(agent: &ureq::Agent, url: &str) -> (f64, usize) {
    let t = Instant::now();
    let r = agent
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let mut body = Vec::new();
    r.into_reader()
        .read_to_end(&mut body)
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    (t.elapsed().as_secs_f64() * 1e3, body.len())
}

/// The page types and their URLs: `n` different pages each.
fn page_types(base: &str, head: u64, seasons: i64, n: usize) -> Vec<(&'static str, Vec<String>)> {
    let step = (head / (n as u64 + 1)).max(1);
    // Distinct pages, from the head to the tail.
    let before: Vec<u64> = (0..n as u64).map(|i| head - i * step).collect();
    let season = |i: usize| 1 + (i as i64 % seasons);
    let p = format!("{base}/ledgers/{LEDGER}");
    let each = |f: &dyn Fn(usize, u64) -> String| {
        before
            .iter()
            .enumerate()
            .map(|(i, &b)| f(i, b))
            .collect::<Vec<_>>()
    };
    let often = "m1";
    let rare = bulk::RARE;
    // "Who decides" has no `before=`: its pages differ only by their Season, and the
    // server keeps 8 rendered pages, so a cycle of fewer than 9 Seasons would be
    // answered from them: then each Season is asked once.
    let decisions = if seasons > 8 { n } else { seasons as usize };
    vec![
        ("head", each(&|_, b| format!("{p}?before={b}"))),
        (
            "as_of_season",
            each(&|i, b| format!("{p}?as_of=season:{}&before={b}", season(i))),
        ),
        (
            "milestone_rare",
            each(&|_, b| format!("{p}?milestone={rare}&before={b}")),
        ),
        (
            "milestone_often",
            each(&|_, b| format!("{p}?milestone={often}&before={b}")),
        ),
        (
            "actor",
            each(&|_, b| format!("{p}?actor=founder&before={b}")),
        ),
        (
            "type_season_opened",
            each(&|_, b| format!("{p}?type=SeasonOpened&before={b}")),
        ),
        (
            "decisions_as_of",
            (0..decisions)
                .map(|i| format!("{p}/decisions?as_of=season:{}", season(i)))
                .collect(),
        ),
        (
            "api_history_rare",
            each(&|_, b| {
                format!("{base}/api/ledgers/{LEDGER}/history?milestone={rare}&before={b}")
            }),
        ),
    ]
}

/// (j) Starts `waymark serve` over `url` (the ledger `g` generated, read models
/// settled) and asks every page type; adds `dashboard_p95_{backend}` (the worst page
/// type's p95) and `dashboard_rss_{backend}` (the server's peak RSS).
pub(crate) fn dashboard_figures(url: &str, g: &Gen, backend: &str, o: &Opts, res: &mut Results) {
    let n = if o.quick { 20 } else { 50 };
    let dir = tempfile::tempdir().expect("key dir");
    let keys = processes::founder_keys(dir.path(), g.founder());
    let ks = waymark::KeyStore::new(&keys);
    ks.write_new(&ks.log_path(LEDGER), &SigningKey::from_bytes(&LOG_KEY))
        .expect("write the log key");
    let server = serve(url, &keys);
    let pid = server.child.id();
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(600))
        .build();
    let api = format!("{}/api/ledgers/{LEDGER}", server.base);
    // The checkpoint's second line is the tree size (and it needs the log key).
    let checkpoint = agent
        .get(&format!("{api}/checkpoint"))
        .call()
        .expect("checkpoint")
        .into_string()
        .unwrap();
    let head: u64 = checkpoint
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("the checkpoint's size");
    let seasons = g.season();
    assert!(seasons > 0, "the bench's ledger has no Season");
    let backend_name = if backend == "pg" {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    note(format!(
        "dashboard ({backend_name}): waymark serve (pid {pid}) at {}, {head} events, {seasons} Seasons, {n} requests per page type",
        server.base
    ));
    let (first_ms, first_bytes) = get(&agent, &format!("{}/", server.base));
    let (again_ms, _) = get(&agent, &format!("{}/", server.base));
    let (rss, hwm) = rss_kib(pid);
    note(format!(
        "  GET / first (cold) {first_ms:.1} ms, {:.1} KiB; again (kept page) {again_ms:.1} ms; RSS {} / peak {} MiB",
        first_bytes as f64 / 1024.0,
        rss / 1024,
        hwm / 1024
    ));
    let mut types = serde_json::Map::new();
    let (mut worst, mut worst_p95) = ("", 0.0f64);
    let mut peak = hwm;
    for (name, urls) in page_types(&server.base, head, seasons, n) {
        let mut ms = Vec::with_capacity(urls.len());
        let mut bytes = 0usize;
        for u in &urls {
            let (t, b) = get(&agent, u);
            ms.push(t);
            bytes += b;
        }
        let max = ms.iter().cloned().fold(0.0, f64::max);
        let (m, p95) = med_p95(ms);
        let (rss, hwm) = rss_kib(pid);
        peak = peak.max(hwm);
        let kib = bytes as f64 / urls.len() as f64 / 1024.0;
        note(format!(
            "  {name:<20} median {m:6.1} ms  p95 {p95:6.1} ms  max {max:6.1} ms  {kib:6.1} KiB  RSS {} / peak {} MiB",
            rss / 1024,
            hwm / 1024
        ));
        if p95 > worst_p95 {
            (worst, worst_p95) = (name, p95);
        }
        types.insert(
            name.into(),
            json!({"median_ms": m, "p95_ms": p95, "max_ms": max, "requests": urls.len(),
                   "mean_kib": kib, "vm_rss_kib": rss, "vm_hwm_kib": hwm}),
        );
    }
    drop(server);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    let raw = json!({"ledger_size": head, "seasons": seasons, "requests_per_type": n,
                     "first_get_ms": first_ms, "first_get_bytes": first_bytes, "again_get_ms": again_ms,
                     "load_average": load, "types": types});
    res.add(
        &format!("dashboard_p95_{backend}"),
        &format!(
            "dashboard pages through `waymark serve` (own process), {backend_name}, {head} events, {seasons} Seasons: the worst page type's p95 ({n} different pages per type, one connection)"
        ),
        format!("{worst_p95:.1} ms ({worst})"),
        "<= 50 ms",
        Some(worst_p95 / 50.0),
        Some(worst_p95 <= 50.0),
        raw.clone(),
    );
    let mib = peak as f64 / 1024.0;
    res.add(
        &format!("dashboard_rss_{backend}"),
        &format!(
            "`waymark serve`'s peak RSS (VmHWM) after every page type, {backend_name}, {head} events"
        ),
        format!("{mib:.1} MiB"),
        "<= 256 MiB",
        Some(mib / 256.0),
        Some(mib <= 256.0),
        raw,
    );
}
