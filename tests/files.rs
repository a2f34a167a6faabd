//! Issue 12, items 6, 7 and 9 (FIFO key file): files Waymark writes cannot be
//! redirected through a symlink, `site --out` leaves no stale page and deletes nothing
//! it did not write, key rotation cannot lock an actor out, and a key file that is not
//! a regular file is refused at once.

#[macro_use]
mod common;
use base64::Engine;
use common::*;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs waymark like `Env::run`, but fails the test instead of hanging past `secs`
/// (a FIFO key file used to block forever).
fn run_within(env: &Env, args: &[&str], secs: u64) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["--db", &env.url, "--keys"])
        .arg(env.keys())
        .args(args)
        .env_remove("WAYMARK_LEDGER")
        .env_remove("WAYMARK_ACTOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("waymark {args:?} still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[track_caller]
fn fails_within(env: &Env, code: i32, args: &[&str]) -> String {
    let out = run_within(env, args, 30);
    assert_eq!(
        out.status.code(),
        Some(code),
        "waymark {args:?}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(st.success());
}

fn victim(env: &Env) -> std::path::PathBuf {
    let v = env.path("victim.txt");
    std::fs::write(&v, b"not yours\n").unwrap();
    v
}

fn publish_never_writes_through_a_symlink(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let victim = victim(&env);

    // The temporary name today's code used: a symlink planted there is never opened
    // (temporary files are created new, O_EXCL, under a random name).
    let dir = env.path("pub");
    std::fs::create_dir(&dir).unwrap();
    symlink(&victim, dir.join(".export.jsonl.tmp")).unwrap();
    env.ok(&["publish", dir.to_str().unwrap()]);
    assert_eq!(std::fs::read(&victim).unwrap(), b"not yours\n");
    assert_eq!(
        std::fs::read(dir.join("export.jsonl")).unwrap(),
        env.export()
    );

    // A symlink at a final name is refused, naming it.
    let dir = env.path("pub2");
    std::fs::create_dir(&dir).unwrap();
    symlink(&victim, dir.join("export.jsonl")).unwrap();
    let err = env.fails(4, &["publish", dir.to_str().unwrap()]);
    let at = dir.join("export.jsonl");
    assert!(
        err.contains(&format!(
            "refusing to write through symlink {}",
            at.display()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"not yours\n");

    // A symlinked subdirectory is refused: nothing lands in the directory it points to.
    let dir = env.path("pub3");
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir(&dir).unwrap();
    std::fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, dir.join("checkpoints")).unwrap();
    let err = env.fails(4, &["publish", dir.to_str().unwrap()]);
    let at = dir.join("checkpoints");
    assert!(
        err.contains(&format!(
            "refusing to write through symlink {}",
            at.display()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

fn export_and_snapshot_out_never_write_through_a_symlink(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let victim = victim(&env);
    let out = env.path("out.jsonl");
    symlink(&victim, &out).unwrap();
    for cmd in ["export", "snapshot"] {
        let err = env.fails(4, &[cmd, "--out", out.to_str().unwrap()]);
        assert!(
            err.contains(&format!(
                "refusing to write through symlink {}",
                out.display()
            )),
            "{cmd}: {err}"
        );
        assert_eq!(std::fs::read(&victim).unwrap(), b"not yours\n", "{cmd}");
    }
    // A FIFO is not replaced, nor waited on.
    let fifo = env.path("fifo");
    mkfifo(&fifo);
    let err = fails_within(&env, 4, &["export", "--out", fifo.to_str().unwrap()]);
    assert!(
        err.contains(&fifo.display().to_string()) && err.contains("is a FIFO, not a regular file"),
        "{err}"
    );
    // A regular file is replaced whole; no temporary file is left beside it.
    let plain = env.path("export.jsonl");
    std::fs::write(&plain, b"old").unwrap();
    env.ok(&["export", "--out", plain.to_str().unwrap()]);
    assert_eq!(std::fs::read(&plain).unwrap(), env.export());
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn exists(p: &Path) -> bool {
    p.symlink_metadata().is_ok()
}

fn site_removes_its_stale_pages_and_nothing_else(kind: Kind) {
    // A larger ledger `test` (15 events, Season 6) first…
    let big = Env::new(kind);
    big.history();
    let site = big.path("site");
    let dir = site.to_str().unwrap();
    big.ok(&["site", "--out", dir]);
    let api = site.join("api/ledgers/test");
    for f in ["as-of-season-6.html", "index.html", ".waymark-site.json"] {
        assert!(exists(&site.join(f)), "{f}");
    }
    assert!(exists(&api.join("proof/inclusion/15.json")));
    // …files the user put there…
    std::fs::write(site.join("CNAME"), b"ledger.example.org\n").unwrap();
    std::fs::write(api.join("notes.txt"), b"mine\n").unwrap();

    // …then the smaller ledger `small` (no Season) into the same directory.
    let small = Env::new(kind);
    small.ok(&[
        "--ledger",
        "small",
        "init",
        "--framework",
        small.framework().to_str().unwrap(),
        "--founder",
        "alice",
    ]);
    let done = small.json(&["site", "--out", dir]);
    assert_eq!(done["ledger"], "small");
    assert!(done["removed"].as_u64().unwrap() > 15, "{done}");
    for stale in [
        "as-of-season-6.html",
        "api/ledgers/test/proof/inclusion/15.json",
        "api/ledgers/test/export.jsonl",
        "api/ledgers/test/checkpoints/15.txt",
        "api/ledgers/test/reviews/6.html",
        "api/ledgers/test/proof",
    ] {
        assert!(
            !exists(&site.join(stale)),
            "{stale} is stale and must be gone"
        );
    }
    // What the user put there stays, and so does the directory that holds it.
    assert_eq!(
        std::fs::read(site.join("CNAME")).unwrap(),
        b"ledger.example.org\n"
    );
    assert_eq!(std::fs::read(api.join("notes.txt")).unwrap(), b"mine\n");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains("small"), "index.html is the new ledger's");
    assert!(exists(
        &site.join("api/ledgers/small/proof/inclusion/5.json")
    ));

    // The same ledger again, one event longer: publish's history stays listed and kept.
    small.ok(&[
        "milestone",
        "set",
        "M1",
        "in_progress",
        "--reason",
        "started",
    ]);
    let before = std::fs::read(site.join("api/ledgers/small/checkpoints/5.txt")).unwrap();
    small.ok(&["site", "--out", dir]);
    assert_eq!(
        std::fs::read(site.join("api/ledgers/small/checkpoints/5.txt")).unwrap(),
        before
    );
    assert!(exists(&site.join("api/ledgers/small/checkpoints/6.txt")));
    assert!(exists(&site.join("api/ledgers/small/consistency/5-6.json")));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join(".waymark-site.json")).unwrap()).unwrap();
    let listed = manifest["files"].as_array().unwrap();
    assert!(listed.contains(&"api/ledgers/small/checkpoints/5.txt".into()));
    assert!(!listed.iter().any(|f| f == "CNAME"));
}

fn site_never_writes_through_a_symlink_nor_into_foreign_files(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let victim = victim(&env);

    // A non-empty directory no `site` wrote: refused, untouched.
    let foreign = env.path("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("index.html"), b"theirs").unwrap();
    let err = env.fails(1, &["site", "--out", foreign.to_str().unwrap()]);
    assert!(
        err.contains(&foreign.display().to_string()) && err.contains("holds no .waymark-site.json"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 1);

    // A symlink where index.html was: refused, naming it; the target is untouched.
    let site = env.path("site");
    env.ok(&["site", "--out", site.to_str().unwrap()]);
    std::fs::remove_file(site.join("index.html")).unwrap();
    symlink(&victim, site.join("index.html")).unwrap();
    let err = env.fails(4, &["site", "--out", site.to_str().unwrap()]);
    assert!(
        err.contains(&format!(
            "refusing to write through symlink {}",
            site.join("index.html").display()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"not yours\n");
}

/// Makes writing into `dir` fail. Not as root, `chmod 0555` does it; root ignores
/// the mode, so there a directory is put at the name the new key is staged under
/// (`bob.key.new`), which no regular write can replace. Says which one it used.
fn make_unwritable(dir: &Path, pending: &Path) -> &'static str {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let probe = dir.join("probe");
    if std::fs::write(&probe, b"").is_ok() {
        std::fs::remove_file(&probe).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::create_dir(pending).unwrap();
        "a directory at the pending name (running as root)"
    } else {
        "chmod 0555"
    }
}

fn rotate_key_into_an_unwritable_key_store_records_nothing(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let before = env.export();
    let old_key = std::fs::read(env.keys().join("bob.key")).unwrap();
    let pending = env.keys().join("bob.key.new");
    let how = make_unwritable(&env.keys(), &pending);
    let err = env.fails(4, &["actor", "rotate-key", "bob"]);
    assert!(
        err.contains(&pending.display().to_string()) && err.contains("nothing recorded"),
        "{how}: {err}"
    );
    std::fs::set_permissions(env.keys(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(env.export(), before, "{how}: nothing was recorded");
    assert_eq!(std::fs::read(env.keys().join("bob.key")).unwrap(), old_key);
    // The old key still signs.
    env.ok(&[
        "--as",
        "bob",
        "milestone",
        "set",
        "M1",
        "in_progress",
        "--reason",
        "started",
    ]);
}

fn rotate_key_stages_the_new_key_and_replaces_the_old_once_recorded(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let keys = env.keys();
    let old_key = std::fs::read(keys.join("bob.key")).unwrap();

    // Refused (a reviewer cannot rotate keys): the old key stays, no staged key is left.
    let err = env.fails(1, &["--as", "rita", "actor", "rotate-key", "bob"]);
    assert!(err.contains("R1-signer"), "{err}");
    assert_eq!(std::fs::read(keys.join("bob.key")).unwrap(), old_key);
    assert!(!exists(&keys.join("bob.key.new")));

    env.ok(&["actor", "rotate-key", "bob"]);
    let new_key = std::fs::read(keys.join("bob.key")).unwrap();
    assert_ne!(new_key, old_key);
    assert!(!exists(&keys.join("bob.key.new")));
    let mode = std::fs::metadata(keys.join("bob.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    env.ok(&[
        "--as",
        "bob",
        "milestone",
        "set",
        "M1",
        "in_progress",
        "--reason",
        "started",
    ]);

    // A rotation recorded whose staged key never replaced the old file (the process
    // died between the two): the next command as that actor moves it into place.
    let staged = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let pk = waymark_events::encode_public_key(&staged.verifying_key());
    env.ok(&["actor", "rotate-key", "bob", "--public-key", &pk]);
    let pending = keys.join("bob.key.new");
    std::fs::write(
        &pending,
        format!(
            "{}\n",
            base64::engine::general_purpose::STANDARD.encode(staged.to_bytes())
        ),
    )
    .unwrap();
    std::fs::set_permissions(&pending, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = env.run(&[
        "--as",
        "bob",
        "milestone",
        "set",
        "M1",
        "achieved",
        "--reason",
        "done",
        "--evidence",
        "https://example.org/m1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("had not replaced its key file"),
        "{}",
        text(&out.stderr)
    );
    assert!(!exists(&pending));
    let moved = std::fs::read_to_string(keys.join("bob.key")).unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(moved.trim())
            .unwrap(),
        staged.to_bytes()
    );
}

fn actor_add_writes_the_key_before_recording(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let before = env.export();
    // The key file to be generated is a FIFO: refused at once, nothing recorded.
    let fifo = env.keys().join("carol.key");
    mkfifo(&fifo);
    let err = fails_within(
        &env,
        1,
        &[
            "actor", "add", "carol", "--name", "Carol", "--role", "reporter",
        ],
    );
    assert!(
        err.contains(&format!(
            "key file {} is a FIFO, not a regular file",
            fifo.display()
        )),
        "{err}"
    );
    assert_eq!(env.export(), before);
    std::fs::remove_file(&fifo).unwrap();

    // Not as root: a key directory that cannot be written fails before recording.
    let keys = env.keys();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o555)).unwrap();
    let root = std::fs::write(keys.join("probe"), b"").is_ok();
    let _ = std::fs::remove_file(keys.join("probe"));
    if !root {
        let err = env.fails(
            4,
            &[
                "actor", "add", "carol", "--name", "Carol", "--role", "reporter",
            ],
        );
        assert!(err.contains(&keys.display().to_string()), "{err}");
        assert_eq!(env.export(), before);
    }
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o700)).unwrap();
    env.ok(&[
        "actor", "add", "carol", "--name", "Carol", "--role", "reporter",
    ]);
    assert!(std::fs::metadata(keys.join("carol.key")).unwrap().is_file());
}

fn a_key_file_that_is_not_a_regular_file_is_refused_at_once(kind: Kind) {
    let env = Env::new(kind);
    env.init();
    let keys = env.keys();
    let bob = keys.join("bob.key");
    let saved = std::fs::read(&bob).unwrap();
    let set = [
        "--as",
        "bob",
        "milestone",
        "set",
        "M1",
        "in_progress",
        "--reason",
        "started",
    ];

    std::fs::remove_file(&bob).unwrap();
    mkfifo(&bob);
    let err = fails_within(&env, 1, &set);
    assert!(
        err.contains(&format!(
            "key file {} is a FIFO, not a regular file",
            bob.display()
        )),
        "{err}"
    );

    std::fs::remove_file(&bob).unwrap();
    std::fs::create_dir(&bob).unwrap();
    let err = fails_within(&env, 1, &set);
    assert!(err.contains("is a directory, not a regular file"), "{err}");
    std::fs::remove_dir(&bob).unwrap();

    symlink("/dev/zero", &bob).unwrap();
    let err = fails_within(&env, 1, &set);
    assert!(err.contains("is a symlink, not a regular file"), "{err}");
    std::fs::remove_file(&bob).unwrap();

    // A regular file is read up to a cap.
    std::fs::write(&bob, vec![b'A'; 1 << 20]).unwrap();
    std::fs::set_permissions(&bob, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = fails_within(&env, 1, &set);
    assert!(err.contains("larger than 4096 bytes"), "{err}");

    // The log key too (checkpoint, snapshot, publish, site read it).
    let log = keys.join("_log.test.key");
    std::fs::remove_file(&log).unwrap();
    mkfifo(&log);
    let err = fails_within(&env, 1, &["checkpoint"]);
    assert!(err.contains("is a FIFO, not a regular file"), "{err}");

    std::fs::write(&bob, saved).unwrap();
    env.ok(&set);
}

on_both_backends!(
    publish_never_writes_through_a_symlink,
    export_and_snapshot_out_never_write_through_a_symlink,
    site_removes_its_stale_pages_and_nothing_else,
    site_never_writes_through_a_symlink_nor_into_foreign_files,
    rotate_key_into_an_unwritable_key_store_records_nothing,
    rotate_key_stages_the_new_key_and_replaces_the_old_once_recorded,
    actor_add_writes_the_key_before_recording,
    a_key_file_that_is_not_a_regular_file_is_refused_at_once,
);
