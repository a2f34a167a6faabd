//! `publish DIR`: verifies, writes what a static host serves, extends what DIR holds
//! and refuses a log that does not extend it (leaving DIR as it was).

#[macro_use]
mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            for (k, v) in files(&p) {
                out.insert(
                    format!("{}/{k}", p.file_name().unwrap().to_str().unwrap()),
                    v,
                );
            }
        } else {
            out.insert(
                p.file_name().unwrap().to_str().unwrap().into(),
                std::fs::read(&p).unwrap(),
            );
        }
    }
    out
}

fn python(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new("python3")
        .arg(python_verifier())
        .args(args)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr)))
}

fn publish_extends_and_refuses_what_does_not(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let site = env.path("site");
    let dir = site.to_str().unwrap();
    let first = env.json(&["publish", dir]);
    assert_eq!(
        (first["tree_size"].as_u64(), first["previous_size"].as_u64()),
        (Some(15), None)
    );
    let published = files(&site);
    for f in [
        "export.jsonl",
        "checkpoint.txt",
        "snapshot.json",
        "log-key.txt",
        "VERIFY.txt",
        "checkpoints/15.txt",
        "snapshots/15.json",
    ] {
        assert!(
            published.contains_key(f),
            "{f} missing: {:?}",
            published.keys()
        );
    }
    assert_eq!(published["export.jsonl"], env.export());
    assert!(!published.contains_key("consistency.json"));

    env.ok(&[
        "milestone",
        "set",
        "M1",
        "achieved",
        "--reason",
        "re-elected",
        "--evidence",
        "https://example.org/m1",
    ]);
    let second = env.json(&["publish", dir]);
    assert_eq!(
        (
            second["tree_size"].as_u64(),
            second["previous_size"].as_u64()
        ),
        (Some(16), Some(15))
    );
    let now = files(&site);
    assert_eq!(now["prev-snapshot.json"], published["snapshot.json"]);
    assert_eq!(now["consistency.json"], now["consistency/15-16.json"]);
    assert_eq!(
        now["checkpoints/15.txt"], published["checkpoint.txt"],
        "old checkpoints stay"
    );
    // The consistency proof checks out between the two published roots, by the
    // independent verifier (roots taken from the log it was given).
    let key = String::from_utf8(now["log-key.txt"].clone()).unwrap();
    let log = site.join("export.jsonl");
    let r = python(&[
        log.to_str().unwrap(),
        "--checkpoint",
        site.join("checkpoint.txt").to_str().unwrap(),
        "--key",
        key.trim(),
        "--consistency",
        site.join("consistency.json").to_str().unwrap(),
    ]);
    assert_eq!(r["ok"], true, "{r}");

    // Another ledger with the same id (its own keys) must not overwrite this history.
    let other = Env::new(kind);
    other.history();
    let err = other.fails(3, &["publish", dir]);
    assert!(
        err.contains("checkpoint_mismatch") && err.contains("log key"),
        "{err}"
    );
    assert_eq!(files(&site), now, "a refused publish leaves DIR as it was");

    // Publishing the same head again is allowed and changes nothing but the files'
    // contents that name the previous publication.
    assert_eq!(env.json(&["publish", dir])["previous_size"], 16);

    // Rows deleted from the end: the store no longer extends what DIR publishes.
    env.sql(&["DELETE FROM events WHERE sequence = 16"]);
    let before = files(&site);
    let err = env.fails(3, &["publish", dir]);
    assert!(
        err.contains("truncated") && err.contains("nothing published"),
        "{err}"
    );
    assert_eq!(files(&site), before);
}

fn publish_refuses_a_chain_that_does_not_verify(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let site = env.path("site");
    let dir = site.to_str().unwrap();
    // A stored chain that does not verify is never published.
    env.sql(&[&format!(
        "UPDATE events SET payload = {} WHERE sequence = 9",
        env.as_json(&format!(
            "replace({}, 'because elected', 'because appointed')",
            env.payload_text()
        ))
    )]);
    let err = env.fails(3, &["publish", dir]);
    assert!(
        err.contains("hash_mismatch") && err.contains("nothing published"),
        "{err}"
    );
    assert!(!site.exists(), "nothing was written");
}

on_both_backends!(
    publish_extends_and_refuses_what_does_not,
    publish_refuses_a_chain_that_does_not_verify,
);
