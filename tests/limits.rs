//! Hostile input: limits enforced before parsing, and any single-byte change to an
//! export rejected by `verify-offline`.

#[macro_use]
mod common;
use common::*;
use proptest::prelude::*;

fn an_oversized_apply_line_is_refused_before_parsing(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let before = env.export();
    let huge = "x".repeat(70 * 1024);
    let file = env.path("big.jsonl");
    std::fs::write(
        &file,
        format!(
            "{{\"as\":\"alice\",\"type\":\"MilestoneRetired\",\"payload\":{{\"id\":\"E1\",\"reason\":\"ok\"}}}}\n\
             {{\"as\":\"alice\",\"type\":\"MilestoneRetired\",\"payload\":{{\"id\":\"M2\",\"reason\":\"{huge}\"}}}}\n"
        ),
    )
    .unwrap();
    let out = env.run(&["--json", "apply", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["rule"], "R8-limits", "{err}");
    assert_eq!(err["error"]["line"], 2, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("before parsing"),
        "{err}"
    );
    assert_eq!(env.export(), before, "nothing recorded, not even line 1");
}

on_both_backends!(an_oversized_apply_line_is_refused_before_parsing);

/// Property: every single-byte change to a genuine export (position and new byte
/// chosen at random) makes `verify-offline` fail with exit 3.
#[test]
fn any_single_byte_change_to_an_export_is_rejected() {
    let env = Env::new(Kind::Sqlite);
    env.history();
    let export = env.export();
    let log = env.path("log.jsonl");
    std::fs::write(&log, &export).unwrap();
    let genuine = env.run(&["verify-offline", "--log", log.to_str().unwrap()]);
    assert_eq!(genuine.status.code(), Some(0), "{}", text(&genuine.stderr));
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(48);
    let config = ProptestConfig {
        cases,
        ..ProptestConfig::default()
    };
    proptest!(config, |(at in 0..export.len(), byte in any::<u8>())| {
        prop_assume!(export[at] != byte);
        let mut bad = export.clone();
        bad[at] = byte;
        let path = env.path("bad.jsonl");
        std::fs::write(&path, &bad).unwrap();
        let out = env.run(&["--json", "verify-offline", "--log", path.to_str().unwrap()]);
        prop_assert_eq!(out.status.code(), Some(3), "byte {} of {} set to {}: {}", at, export.len(), byte, text(&out.stdout));
    });
}
