//! The witness (C2SP tlog-witness, cosignature/v1) against checkpoints of real
//! ledgers, on both backends: every answer of `add-checkpoint` through a real `witness
//! serve` process, the same verdicts from the offline `witness cosign`, cosignatures
//! that verify (here, and in Go with a verifier for key type 0x04 written from C2SP's
//! text), state that survives a restart, the client a log uses, and offline cosigners
//! racing across processes. The crash test is tests/witness_crash.rs.

#[macro_use]
mod common;
use common::served::request;
use common::witness::*;
use common::*;
use ed25519_dalek::SigningKey;
use std::path::Path;
use waymark::witness::{
    accept_cosignature, encode_request, Client, Outcome, MAX_REQUEST_BYTES, SIZE_CONTENT_TYPE,
};
use waymark_events::*;

const W1: &str = "witness.example/w1";

/// Ledger A (15 events, then carol, dave and erin: 18), its fork B (the same 15, then
/// frank, gina and hank: 18), and a ledger of another origin.
fn ledgers(kind: Kind) -> (Env, Env, Env) {
    let a = Env::new(kind);
    a.history();
    let b = a.fork();
    for (env, names) in [
        (&a, ["carol", "dave", "erin"]),
        (&b, ["frank", "gina", "hank"]),
    ] {
        for n in names {
            env.ok(&["actor", "add", n, "--name", n, "--role", "reporter"]);
        }
    }
    let other = Env::new(kind);
    let fw = other.framework();
    other.ok(&[
        "--ledger",
        "test",
        "init",
        "--framework",
        fw.to_str().unwrap(),
        "--founder",
        "alice",
        "--origin",
        "example.org/other",
    ]);
    (a, b, other)
}

fn body(old: u64, proof: &[Hash], note: &str) -> Vec<u8> {
    encode_request(old, proof, note).into_bytes()
}

/// The note re-signed by another key of the same name: the name is the log's, the
/// key is not.
fn forged(note: &str) -> String {
    let (text, _) = split_note(note).unwrap();
    let impostor = SigningKey::from_bytes(&[42; 32]);
    sign_note(text, &[("example.org/test", &impostor)]).unwrap()
}

/// The note with one bit of its log signature flipped.
fn corrupted(note: &str) -> String {
    let (text, sigs) = split_note(note).unwrap();
    let mut raw = sigs[0].raw.clone();
    raw[10] ^= 1;
    let b64 = base64_encode(&raw);
    format!("{text}\n\u{2014} {} {b64}\n", sigs[0].name)
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// The exit code `witness cosign` gives for an HTTP status (cli/witness.rs).
fn exit_for(status: u16) -> i32 {
    match status {
        200 => 0,
        400 | 413 => 1,
        _ => 3,
    }
}

fn witness_key(vkey: &str) -> CosignerKey {
    parse_cosigner_key(vkey).unwrap()
}

/// One witness directory with A's log registered.
fn new_witness(dir: &Path, name: &str, log: &str) -> String {
    let vkey = witness_init(dir, name);
    assert_eq!(
        witness_ok(dir, &["add-log", log]).trim(),
        "added log example.org/test"
    );
    vkey
}

fn witness_answers_every_case(kind: Kind) {
    let (a, b, other) = ledgers(kind);
    let log = log_vkey(&a, "test");
    assert_eq!(log, log_vkey(&b, "test"), "the fork has A's log key");
    let log_key = parse_verifier_key(&log).unwrap();
    let t = tempfile::tempdir().unwrap();
    let (d1, d2) = (t.path().join("w1"), t.path().join("w2"));
    let v1 = new_witness(&d1, W1, &log);
    let v2 = new_witness(&d2, "witness.example/w2", &log);
    let (k1, k2) = (witness_key(&v1), witness_key(&v2));
    let mut w = WitnessProc::start(&d1);
    let url = format!("{}/add-checkpoint", w.base);

    let ca = |n| checkpoint(&a, "test", n);
    let pa = |o, n| consistency(&a, "test", o, n);
    let (ca18, pa16) = (ca(18), pa(16, 18));
    let mut flipped = pa16.clone();
    flipped[0].0[0] ^= 1;
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("first add, old size 0", body(0, &[], &ca(10)), 200),
        (
            "growth with a valid proof",
            body(10, &pa(10, 15), &ca(15)),
            200,
        ),
        (
            "behind: old size 10, the witness is at 15",
            body(10, &pa(10, 18), &ca18),
            409,
        ),
        ("rollback: an older checkpoint", body(15, &[], &ca(12)), 400),
        ("rollback: from the older size", body(12, &[], &ca(12)), 409),
        ("the same checkpoint again", body(15, &[], &ca(15)), 200),
        (
            "growth to 16, where B differs",
            body(15, &pa(15, 16), &ca(16)),
            200,
        ),
        (
            "split view: B's root at 16",
            body(16, &[], &checkpoint(&b, "test", 16)),
            409,
        ),
        (
            "split view: B at 18 with B's proof",
            body(
                16,
                &consistency(&b, "test", 16, 18),
                &checkpoint(&b, "test", 18),
            ),
            422,
        ),
        (
            "a proof with a flipped byte",
            body(16, &flipped, &ca18),
            422,
        ),
        ("a proof one hash short", body(16, &pa16[1..], &ca18), 422),
        ("a proof between equal sizes", body(16, &pa16, &ca(16)), 422),
        (
            "unknown origin",
            body(0, &[], &checkpoint(&other, "test", 5)),
            404,
        ),
        (
            "signed by a key it does not trust",
            body(16, &pa16, &forged(&ca18)),
            403,
        ),
        (
            "the log's signature broken",
            body(16, &pa16, &corrupted(&ca18)),
            403,
        ),
        (
            "malformed old size",
            format!("old 016\n\n{ca18}").into_bytes(),
            400,
        ),
        ("no empty line", format!("old 16\n{ca18}").into_bytes(), 400),
        (
            "an unsigned checkpoint",
            body(16, &pa16, split_note(&ca18).unwrap().0),
            400,
        ),
        ("too large", vec![b'o'; MAX_REQUEST_BYTES + 1], 413),
        ("growth to 18", body(16, &pa16, &ca18), 200),
    ];
    let mut lines = (Vec::new(), Vec::new());
    for (what, req, status) in &cases {
        // The server.
        let r = request("POST", &url, None, Some(req));
        assert_eq!(r.status, *status, "{what}: {}", r.text());
        if *status == 409 && (what.contains("older") || what.starts_with("behind")) {
            assert_eq!(r.content_type, SIZE_CONTENT_TYPE, "{what}");
            assert_eq!(r.text(), "15\n", "{what}");
        } else if *status != 200 {
            assert!(
                r.content_type.starts_with("text/plain"),
                "{what}: {}",
                r.content_type
            );
            assert!(!r.text().trim().is_empty(), "{what}: a reason");
        }
        // The offline witness: the same verdict, as an exit code.
        let out = witness_run(&d2, &["--json", "cosign"], Some(req));
        assert_eq!(
            out.status.code(),
            Some(exit_for(*status)),
            "{what}: {}",
            text(&out.stderr)
        );
        if r.content_type == SIZE_CONTENT_TYPE {
            let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(e["error"]["witness_size"], 15, "{what}: {e}");
            assert_eq!(e["error"]["status"], 409, "{what}: {e}");
        }
        if *status == 200 {
            let cp = String::from_utf8(
                req[req.windows(2).position(|w| w == b"\n\n").unwrap() + 2..].to_vec(),
            )
            .unwrap();
            let offline: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            lines.0.push((cp.clone(), r.text()));
            lines
                .1
                .push((cp, offline["cosignature"].as_str().unwrap().to_string()));
        }
    }
    // Every cosignature verifies with the witness's printed key, and the cosigned
    // note still opens with the log key.
    for (list, key) in [(&lines.0, &k1), (&lines.1, &k2)] {
        assert_eq!(list.len(), 5);
        for (cp, line) in list {
            assert_eq!(line.lines().count(), 1, "{line}");
            let cosigned = add_signature_lines(cp, line).unwrap();
            let now = waymark::witness::posix_now();
            match &check_cosignatures(&cosigned, std::slice::from_ref(key)).unwrap()[..] {
                [CosignatureCheck::Valid { timestamp }] => {
                    assert!(now.abs_diff(*timestamp) < 600, "{timestamp} vs {now}")
                }
                other => panic!("{other:?}"),
            }
            open_checkpoint(&cosigned, &log_key).unwrap();
            // Another witness's key does not take it for its own.
            let other_key = if key == &k1 { &k2 } else { &k1 };
            assert_eq!(
                check_cosignatures(&cosigned, std::slice::from_ref(other_key)).unwrap(),
                [CosignatureCheck::Missing]
            );
        }
    }

    // Go's note package, with a cosignature/v1 verifier written from C2SP's text,
    // opens A at 18 cosigned by both witnesses.
    let final_note =
        add_signature_lines(&ca18, &format!("{}{}", lines.0[4].1, lines.1[4].1)).unwrap();
    go_cosigned(t.path(), &final_note, &log, &[&v1, &v2]);

    // The state survives a restart (SIGKILL, then serve again).
    w.kill();
    let mut w = WitnessProc::start(&d1);
    let client = Client::new(std::time::Duration::from_secs(10));
    assert_eq!(
        client.submit(&w.base, 16, &pa16, &ca18).unwrap(),
        Outcome::SizeMismatch { witness_size: 18 }
    );
    // The log's client: from a stale size, it retries with the witness's own.
    let got = client
        .add_checkpoint(&w.base, 18, &ca18, 3, |old| Ok(pa(old, 18)))
        .unwrap();
    let Outcome::Cosigned(again) = got else {
        panic!("{got:?}")
    };
    let (cosigned, _) = accept_cosignature(&ca18, &again, &k1).unwrap();
    open_checkpoint(&cosigned, &log_key).unwrap();
    assert!(accept_cosignature(&ca18, &again, &k2).is_err(), "not w2's");
    // A refusal is typed, with the witness's reason; it is exit 3 for `publish`.
    let refused = client
        .submit(&w.base, 18, &[], &checkpoint(&b, "test", 18))
        .unwrap();
    let Outcome::Refused { status, reason } = refused.clone() else {
        panic!("{refused:?}")
    };
    assert_eq!(status, 409);
    assert!(reason.contains("another root"), "{reason}");
    assert_eq!(refused.into_result(&w.base).unwrap_err().exit_code(), 3);
    for (dir, kept) in [(&d1, 6), (&d2, 5)] {
        let s: serde_json::Value =
            serde_json::from_str(&witness_ok(dir, &["--json", "status"])).unwrap();
        let l = &s["logs"][0];
        assert_eq!(
            (l["origin"].as_str(), l["size"].as_u64()),
            (Some("example.org/test"), Some(18))
        );
        let root = open_checkpoint(&ca18, &log_key).unwrap().root;
        assert_eq!(l["root"], base64_encode(&root.0));
        // Kept as evidence: B's root at 16, B at 18, the three bad proofs (and, at
        // w1, B's root at 18 that the client just sent).
        assert_eq!(l["evidence"], kept, "{s}");
    }
    // Unreachable is its own error (exit 4 for `publish`).
    let base = w.base.clone();
    w.kill();
    let err = client.submit(&base, 18, &[], &ca18).unwrap_err();
    assert_eq!(waymark::Error::from(err).exit_code(), 4);

    offline_cosigners_race(t.path(), &a, &b, &log);
}

/// Eight `witness cosign` processes on one witness directory at once, four with A's
/// checkpoint at 16 and four with B's, all from 15: exactly one is cosigned; the
/// others are told the witness's new size.
fn offline_cosigners_race(tmp: &Path, a: &Env, b: &Env, log: &str) {
    let d = tmp.join("w3");
    new_witness(&d, "witness.example/w3", log);
    witness_ok(
        &d,
        &[
            "cosign",
            "--request",
            &save(tmp, "r15", &body(0, &[], &checkpoint(a, "test", 15))),
        ],
    );
    let reqs: Vec<String> = [a, b]
        .iter()
        .map(|env| {
            let b = body(
                15,
                &consistency(env, "test", 15, 16),
                &checkpoint(env, "test", 16),
            );
            save(tmp, &format!("r16-{}", rand::random::<u32>()), &b)
        })
        .collect();
    let children: Vec<_> = (0..8)
        .map(|i| {
            std::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
                .args(["witness", "--dir"])
                .arg(&d)
                .args(["cosign", "--request", &reqs[i % 2]])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
        .collect();
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert!(codes.iter().all(|c| *c == 0 || *c == 3), "{codes:?}");
    let s: serde_json::Value =
        serde_json::from_str(&witness_ok(&d, &["--json", "status"])).unwrap();
    assert_eq!(s["logs"][0]["size"], 16);
}

fn save(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

/// tests/go/run.sh cosigned: opens the note with the log key and the witnesses'
/// keys; a cosignature changed by one bit is refused.
fn go_cosigned(dir: &Path, note: &str, log: &str, witnesses: &[&str]) {
    if !needs("Go with golang.org/x/mod", have_go(), GO_INSTALL) {
        return;
    }
    let run = |path: &str| {
        let mut args = vec![path, log];
        args.extend_from_slice(witnesses);
        std::process::Command::new("sh")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/go/run.sh"))
            .arg("cosigned")
            .args(args)
            .output()
            .unwrap()
    };
    let good = save(dir, "cosigned.txt", note.as_bytes());
    let out = run(&good);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stdout)
            .matches("ok: checkpoint example.org/test at tree size 18")
            .count(),
        2
    );
    // The last cosignature line, one bit of its signature flipped.
    let last = note.lines().last().unwrap();
    let (head, b64) = last.rsplit_once(' ').unwrap();
    let mut raw = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    };
    raw[40] ^= 1;
    let bad_note = note.replace(last, &format!("{head} {}", base64_encode(&raw)));
    let out = run(&save(dir, "bad.txt", bad_note.as_bytes()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
}

on_both_backends!(witness_answers_every_case);

/// The witness commands' own refusals and exit codes; the key file's mode.
#[test]
fn witness_commands_refuse_what_they_should() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("w");
    let out = witness_run(&d, &["status"], None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no witness yet: {}",
        text(&out.stderr)
    );
    // The ledger's options are not offered (they do nothing here).
    let help = witness_ok(&d, &["serve", "--help"]);
    assert!(
        !help.contains("--db") && !help.contains("--keys") && help.contains("--dir"),
        "{help}"
    );
    let bad = witness_run(&d, &["init", "--name", "has space"], None);
    assert_eq!(bad.status.code(), Some(1));
    let vkey = witness_init(&d, W1);
    assert!(vkey.starts_with("witness.example/w1+"), "{vkey}");
    witness_key(&vkey);
    let mode = std::fs::metadata(d.join("witness.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = witness_run(&d, &["init", "--name", "witness.example/w9"], None);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again.stderr));
    assert!(text(&again.stderr).contains("already exists"));
    // Log keys only: malformed, a witness key (type 0x04), and another key for a
    // known origin are refused; the same key again is fine.
    let log = verifier_key(
        "example.org/log",
        &SigningKey::from_bytes(&[5; 32]).verifying_key(),
    );
    let other = verifier_key(
        "example.org/log",
        &SigningKey::from_bytes(&[6; 32]).verifying_key(),
    );
    for bad in ["not a key", vkey.as_str()] {
        assert_eq!(
            witness_run(&d, &["add-log", bad], None).status.code(),
            Some(1),
            "{bad}"
        );
    }
    witness_ok(&d, &["add-log", &log]);
    assert!(witness_ok(&d, &["add-log", &log]).contains("already registered"));
    let changed = witness_run(&d, &["add-log", &other], None);
    assert_eq!(changed.status.code(), Some(1));
    assert!(text(&changed.stderr).contains("already registered with key"));
    let s: serde_json::Value =
        serde_json::from_str(&witness_ok(&d, &["--json", "status"])).unwrap();
    assert_eq!(s["vkey"], vkey.as_str());
    assert_eq!(s["logs"][0]["vkey"], log.as_str());
    assert_eq!(s["logs"][0]["size"], 0);
    assert!(s["logs"][0]["root"].is_null());
    // GET /vkey says who it is.
    let w = WitnessProc::start(&d);
    let r = common::served::get(&format!("{}/vkey", w.base));
    assert_eq!((r.status, r.text()), (200, format!("{vkey}\n")));
    drop(w);
    // A key file others can read is refused.
    std::fs::set_permissions(
        d.join("witness.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = witness_run(&d, &["cosign"], Some(b"old 0\n\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("mode 0644"),
        "{}",
        text(&out.stderr)
    );
}
