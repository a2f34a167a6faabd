//! `waymark-verify --tiles DIR` (the auditor's binary): a published tiled log
//! (`tests/fixtures/tiles`, 20 events as `waymark publish` wrote them) verifies; a
//! flipped tile byte and a missing bundle do not; a URL is refused (this binary has no
//! network code), and so is `--tiles` with `--log`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tiles")
}

/// `waymark-verify --json ARGS…`: exit code and report (or error object).
fn verify(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_waymark-verify"))
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), report)
}

fn copy(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dst = to.join(p.file_name().unwrap());
        if p.is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            copy(&p, &dst);
        } else {
            std::fs::copy(&p, &dst).unwrap();
        }
    }
}

#[test]
fn waymark_verify_reads_a_tiled_log_from_a_directory() {
    let dir = fixture();
    let key = dir.join("log-key.txt");
    let (d, k) = (dir.to_str().unwrap(), key.to_str().unwrap());
    let (code, r) = verify(&["--tiles", d, "--key", k]);
    assert_eq!(
        (code, &r["ok"], &r["checked"]),
        (0, &Value::Bool(true), &Value::from(20)),
        "{r}"
    );

    let t = tempfile::tempdir().unwrap();
    copy(&dir, t.path());
    let tile = t.path().join("tile/0/000.p/20");
    let mut b = std::fs::read(&tile).unwrap();
    b[100] ^= 1;
    std::fs::write(&tile, b).unwrap();
    let (code, r) = verify(&["--tiles", t.path().to_str().unwrap(), "--key", k]);
    assert_eq!(
        (code, r["problem"].as_str()),
        (3, Some("checkpoint_mismatch")),
        "{r}"
    );

    std::fs::remove_file(t.path().join("tile/entries/000.p/20")).unwrap();
    let (code, r) = verify(&["--tiles", t.path().to_str().unwrap(), "--key", k]);
    assert_eq!(
        (code, r["problem"].as_str(), r["first_bad_seq"].as_u64()),
        (3, Some("truncated"), Some(1)),
        "{r}"
    );

    let (code, r) = verify(&["--tiles", "https://example.org/log", "--key", k]);
    assert_eq!(code, 2, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("directories only"),
        "{r}"
    );
    let (code, _) = verify(&["--tiles", d, "--log", k]);
    assert_eq!(code, 2, "--tiles and --log together");
}
