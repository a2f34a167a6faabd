//! Crash safety: `waymark` killed with SIGKILL at random moments, during `apply` of a
//! large batch and during single appends, on SQLite and on PostgreSQL. Afterwards the
//! chain verifies, a batch is all there or not there at all, and no acknowledged
//! event is lost (an append is acknowledged when the process exited 0).
//!
//! CI runs the short form (`WAYMARK_CRASH_RUNS`, default 12 runs of each kind per
//! backend); the long form is
//! `WAYMARK_CRASH_RUNS=50 cargo test --release --test crash -- --nocapture`.

#[macro_use]
mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BATCH: usize = 300;

fn runs() -> usize {
    std::env::var("WAYMARK_CRASH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

fn head(env: &Env) -> u64 {
    let (code, report) = env.verify();
    assert_eq!(code, 0, "the chain verifies after a kill: {report}");
    report["checked"].as_u64().unwrap()
}

fn status_of(env: &Env, id: &str) -> String {
    let s = env.json(&["status"]);
    s["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Starts `waymark ARGS`, kills it with SIGKILL after `delay` unless it finished;
/// returns whether it had exited 0 on its own (acknowledged).
fn run_and_kill(env: &Env, args: &[&str], delay: Duration) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["--db", &env.url, "--keys"])
        .arg(env.keys())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if started.elapsed() >= delay {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn a_killed_apply_is_all_or_nothing(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let (mut recorded, mut killed) = (0, 0);
    // The kill lands uniformly in [0, 1.3 × the time of an unkilled run], measured
    // on the first run, so kills fall before, during and after the commit.
    let mut window: Option<Duration> = None;
    for run in 0..=runs() {
        let before = head(&env);
        let from = status_of(&env, "M1");
        // An even number of toggles: M1 ends where it started, whatever happened.
        let statuses = if from == "not_started" {
            ["not_started", "in_progress"]
        } else {
            ["in_progress", "not_started"]
        };
        let lines: String = (0..BATCH)
            .map(|k| {
                format!(
                    "{{\"as\":\"bob\",\"type\":\"MilestoneStatusChanged\",\"payload\":{{\"id\":\"M1\",\"from\":\"{}\",\"to\":\"{}\",\"reason\":\"run {run} step {k}\",\"evidence\":[]}}}}\n",
                    statuses[k % 2],
                    statuses[(k + 1) % 2]
                )
            })
            .collect();
        let file = env.path(&format!("batch-{run}.jsonl"));
        std::fs::write(&file, lines).unwrap();
        let delay = match window {
            Some(w) => w.mul_f64(1.3 * rand::random::<f64>()),
            None => Duration::from_secs(600),
        };
        let started = Instant::now();
        let acknowledged = run_and_kill(&env, &["apply", file.to_str().unwrap()], delay);
        window.get_or_insert(started.elapsed());
        let after = head(&env);
        if acknowledged {
            assert_eq!(
                after,
                before + BATCH as u64,
                "run {run}: an acknowledged batch is all there"
            );
            recorded += 1;
        } else {
            assert!(
                after == before || after == before + BATCH as u64,
                "run {run}: killed after {delay:?}, {} of a {BATCH}-line batch recorded",
                after - before
            );
            killed += 1;
            recorded += usize::from(after > before);
        }
    }
    println!(
        "{kind:?}: {} apply runs, {killed} killed, {recorded} batches recorded whole",
        runs() + 1
    );
    assert!(
        killed > 0,
        "no run was killed: the kill window missed every write"
    );
}

fn killed_single_appends_lose_nothing_acknowledged(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let mut killed = 0;
    let mut window: Option<Duration> = None;
    for run in 0..=runs() * 2 {
        let before = head(&env);
        let from = status_of(&env, "M1");
        let to = if from == "not_started" {
            "in_progress"
        } else {
            "not_started"
        };
        let delay = match window {
            Some(w) => w.mul_f64(1.3 * rand::random::<f64>()),
            None => Duration::from_secs(600),
        };
        let reason = format!("single append {run}");
        let started = Instant::now();
        let acknowledged = run_and_kill(
            &env,
            &[
                "--as",
                "bob",
                "milestone",
                "set",
                "M1",
                to,
                "--reason",
                &reason,
            ],
            delay,
        );
        window.get_or_insert(started.elapsed());
        let after = head(&env);
        if acknowledged {
            assert_eq!(
                after,
                before + 1,
                "run {run}: an acknowledged append is never lost"
            );
            assert_eq!(status_of(&env, "M1"), to);
        } else {
            killed += 1;
            assert!(after == before || after == before + 1, "run {run}");
        }
    }
    println!(
        "{kind:?}: {} single appends, {killed} killed",
        runs() * 2 + 1
    );
    assert!(killed > 0, "no append was killed");
}

on_both_backends!(
    a_killed_apply_is_all_or_nothing,
    killed_single_appends_lose_nothing_acknowledged,
);
