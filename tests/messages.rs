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
