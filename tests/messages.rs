//! Issue 15: quiet success is not silence. A command that writes files says in one
//! line what it wrote (count, path, head), unless `--quiet`.

#[macro_use]
mod common;
use common::*;

fn files_written_are_reported_in_one_line(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    let head = env.json(&["status"])["as_of"].clone();
    let (seq, hash) = (
        head["seq"].as_u64().unwrap(),
        head["hash"].as_str().unwrap(),
    );
    let out = env.path("export.jsonl");
    let said = env.ok(&["export", "--out", out.to_str().unwrap()]);
    assert_eq!(
        said,
        format!(
            "wrote {seq} events of test (head seq {seq} {hash}) to {}\n",
            out.display()
        )
    );
    assert_eq!(std::fs::read(&out).unwrap(), env.export());
    assert_eq!(
        env.ok(&["--quiet", "export", "--out", out.to_str().unwrap()]),
        ""
    );
    let json = env.json(&["export", "--out", out.to_str().unwrap()]);
    assert_eq!(json["events"], seq);
    assert_eq!(json["wrote"], out.display().to_string());

    let snap = env.path("snap.json");
    let said = env.ok(&["snapshot", "--size", "5", "--out", snap.to_str().unwrap()]);
    assert!(
        said.starts_with("wrote the snapshot of test at tree size 5 (head ")
            && said.ends_with(&format!(") to {}\n", snap.display())),
        "{said}"
    );
    let review = env.path("review.md");
    let said = env.ok(&["review", "6", "--out", review.to_str().unwrap()]);
    assert_eq!(
        said,
        format!(
            "wrote the review of Season 6 of test to {}\n",
            review.display()
        )
    );

    let dir = env.path("pub");
    let said = env.ok(&["publish", dir.to_str().unwrap()]);
    assert!(
        said.starts_with(&format!("published {seq} events of test to ")),
        "{said}"
    );
    assert_eq!(env.ok(&["-q", "publish", dir.to_str().unwrap()]), "");
    let site = env.path("site");
    let said = env.ok(&["site", "--out", site.to_str().unwrap()]);
    assert!(said.starts_with("wrote the site of test ("), "{said}");
    assert_eq!(
        env.ok(&["--quiet", "site", "--out", site.to_str().unwrap()]),
        ""
    );
}

on_both_backends!(files_written_are_reported_in_one_line);

/// Issue 15: errors that name the cause. A filter that names nothing is an error
/// with a suggestion, not an empty table; a missing key names the key store and how
/// to choose it.
fn errors_name_the_cause(kind: Kind) {
    let env = Env::new(kind);
    env.history();
    assert_eq!(
        env.fails(1, &["history", "m1"]),
        "waymark: no milestone, decision or body m1 (did you mean M1?)\n"
    );
    assert_eq!(
        env.fails(1, &["history", "ZZZ-404"]),
        "waymark: no milestone, decision or body ZZZ-404 in ledger test\n"
    );
    assert_eq!(
        env.fails(1, &["history", "--actor", "alicia"]),
        "waymark: no actor alicia (did you mean alice?)\n"
    );
    assert!(env.ok(&["history", "M1"]).contains("M1"));

    let err = env.fails(
        1,
        &[
            "--as",
            "mallory",
            "milestone",
            "set",
            "M2",
            "achieved",
            "--reason",
            "r",
        ],
    );
    let keys = env.keys();
    assert_eq!(
        err,
        format!(
            "waymark: no key file {} in the key store {} (name the key store with --keys DIR or WAYMARK_KEYS=DIR)\n",
            keys.join("mallory.key").display(),
            keys.display()
        )
    );
}

on_both_backends!(errors_name_the_cause);

/// The `--server` client's refusals carry a hint that fits the command refused.
#[test]
fn remote_refusals_fit_their_command() {
    let env = Env::new(Kind::Sqlite);
    let server = ["--server", "http://127.0.0.1:9"];
    let diff = env.fails(2, &[&server[..], &["diff", "seq:1", "seq:2"]].concat());
    assert!(
        diff.starts_with("waymark: diff needs the database, not a server: run it without --server (with --db), or compare the two points' statuses over --server with `status --as-of SPEC`"),
        "{diff}"
    );
    assert!(!diff.contains("verify-offline"), "{diff}");
    let verify = env.fails(2, &[&server[..], &["verify"]].concat());
    assert!(
        verify.contains("verify needs the database, not a server: fetch the export over --server (`export --out log.jsonl`) and check it with `verify-offline --log log.jsonl`"),
        "{verify}"
    );
    let rebuild = env.fails(2, &[&server[..], &["rebuild"]].concat());
    assert_eq!(
        rebuild,
        "waymark: rebuild needs the database, not a server: run it where the database is (with --db)\n"
    );
}
