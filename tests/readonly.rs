//! Issue 12, item 8: every read command works on a store the user can only read.
//! SQLite: the file is read by another user (`nobody`, through `setpriv`) in a
//! directory it cannot write, as a 0644 file owned by someone else; PostgreSQL: a
//! role that holds nothing but CONNECT, USAGE and SELECT. Each command must print
//! exactly what it prints for the owner, also when the stored read models lag the
//! events (they are caught up in the reader's memory, not in the store).

#[macro_use]
mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The read commands of SPEC section 10 (and `actor list`), over `Env::history()`.
const READS: &[&[&str]] = &[
    &["status"],
    &["--json", "status", "--as-of", "seq:9"],
    &["status", "--as-of", "season:6"],
    &["history"],
    &["--json", "history", "M1", "--season", "6"],
    &["review", "6"],
    &["--json", "diff", "seq:8", "seq:15"],
    &["graph"],
    &["verify"],
    &["export"],
    &["export", "--upto", "7"],
    &["checkpoint"],
    &["snapshot"],
    &["snapshot", "--size", "9"],
    &["prove", "inclusion", "3"],
    &["prove", "consistency", "4", "12"],
    &["actor", "list"],
];

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

/// The uid of `nobody`, who owns nothing here.
const NOBODY: u32 = 65534;

/// Runs `waymark` as a user who can only read the store: `nobody` when the tests run
/// as root (file modes do not stop root), else this user after the file and its
/// directory were made read-only.
fn as_reader(url: &str, keys: &Path, args: &[&str]) -> Output {
    let mut c = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            format!("--reuid={NOBODY}"),
            format!("--regid={NOBODY}"),
            "--clear-groups".into(),
        ])
        .arg(env!("CARGO_BIN_EXE_waymark"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_waymark"))
    };
    c.args(["--db", url, "--keys"])
        .arg(keys)
        .args(args)
        .env_remove("WAYMARK_LEDGER")
        .env_remove("WAYMARK_ACTOR")
        .output()
        .expect("setpriv (util-linux) runs the reader as nobody")
}

/// What the owner sees, command by command.
fn owner_outputs(env: &Env) -> Vec<String> {
    READS.iter().map(|a| env.ok(a)).collect()
}

#[track_caller]
fn assert_reads_match(owner: &[String], read: impl Fn(&[&str]) -> Output, when: &str) {
    for (args, expected) in READS.iter().zip(owner) {
        let out = read(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{when}: waymark {args:?} as a reader\nstderr: {}",
            text(&out.stderr)
        );
        assert_eq!(
            &text(&out.stdout),
            expected,
            "{when}: waymark {args:?} as a reader"
        );
    }
}

/// The stored read models as if the writer died between its commit and their
/// update: no view, audit rows only up to seq 4, no status checkpoint.
fn make_read_models_lag(env: &Env) {
    env.sql(&[
        "DELETE FROM waymark_views",
        "DELETE FROM waymark_history WHERE seq > 4",
        "DELETE FROM waymark_status_checkpoints",
    ]);
    if env.kind == Kind::Sqlite {
        // Into the main file now, not whenever the last connection's close gets to it
        // (seen once under load: the file was unchanged when the test compared it).
        env.sql(&["PRAGMA wal_checkpoint(TRUNCATE)"]);
    }
}

#[test]
fn a_sqlite_file_the_user_can_only_read_serves_every_read_command() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new(Kind::Sqlite);
    env.history();
    let owner = owner_outputs(&env);
    let db = env.path("ledger.db");
    // Another user's 0644 file in a directory the reader cannot write (so SQLite
    // cannot create a -wal or -shm file either).
    let dir = env.dir.path();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let keys: PathBuf = if is_root() {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The reader's own key store: `checkpoint` and `snapshot` sign with the
        // log key, which a key store holds mode 0600 for its owner.
        let keys = env.path("reader-keys");
        std::fs::create_dir(&keys).unwrap();
        for e in std::fs::read_dir(env.keys()).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), keys.join(e.file_name())).unwrap();
            std::os::unix::fs::chown(keys.join(e.file_name()), Some(NOBODY), Some(NOBODY)).unwrap();
        }
        std::os::unix::fs::chown(&keys, Some(NOBODY), Some(NOBODY)).unwrap();
        keys
    } else {
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        env.keys()
    };
    let before = std::fs::read(&db).unwrap();
    let read = |args: &[&str]| as_reader(&env.url, &keys, args);
    assert_reads_match(&owner, read, "read-only SQLite file");
    // A write is refused by the store itself, and names why.
    let out = read(&["milestone", "retire", "E1", "--reason", "no access"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("readonly"),
        "{}",
        text(&out.stderr)
    );

    // The read models lag: the reader folds the missing events in memory.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    make_read_models_lag(&env);
    if !is_root() {
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let lagging = std::fs::read(&db).unwrap();
    assert_ne!(lagging, before);
    assert_reads_match(&owner, read, "read models lagging");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        lagging,
        "the reads wrote nothing"
    );
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A PostgreSQL role with only CONNECT, USAGE and SELECT; dropped after the test's
/// database (declare it before the `Env`).
struct ReadOnlyRole {
    name: String,
}

impl ReadOnlyRole {
    fn new() -> ReadOnlyRole {
        let name = format!("waymark_reader_{}", rand::random::<u32>());
        pg(&format!("CREATE ROLE {name} LOGIN"), &admin_url());
        ReadOnlyRole { name }
    }

    /// Grants it read access to `env`'s database; returns the URL to read as it.
    fn grant(&self, env: &Env) -> String {
        let db = &env.url[env.url.rfind('/').unwrap() + 1..];
        let role = &self.name;
        pg(
            &format!("GRANT CONNECT ON DATABASE {db} TO {role}"),
            &env.url,
        );
        pg(&format!("GRANT USAGE ON SCHEMA public TO {role}"), &env.url);
        pg(
            &format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"),
            &env.url,
        );
        env.url.replacen("://postgres@", &format!("://{role}@"), 1)
    }
}

impl Drop for ReadOnlyRole {
    fn drop(&mut self) {
        pg(&format!("DROP ROLE IF EXISTS {}", self.name), &admin_url());
    }
}

fn pg(sql: &str, url: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query(sql)
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            pool.close().await;
        });
}

#[test]
fn a_select_only_postgres_role_serves_every_read_command() {
    let role = ReadOnlyRole::new();
    let env = Env::new(Kind::Postgres);
    env.history();
    let owner = owner_outputs(&env);
    let url = role.grant(&env);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_waymark"))
            .args(["--db", &url, "--keys"])
            .arg(env.keys())
            .args(args)
            .env_remove("WAYMARK_LEDGER")
            .env_remove("WAYMARK_ACTOR")
            .output()
            .unwrap()
    };
    assert_reads_match(&owner, run, "SELECT-only role");
    // The role really cannot write.
    let out = run(&["milestone", "retire", "E1", "--reason", "no access"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("permission denied"),
        "{}",
        text(&out.stderr)
    );
    make_read_models_lag(&env);
    assert_reads_match(&owner, run, "read models lagging");
    // Nothing was caught up in the store by those reads.
    let owner_rebuild = env.json(&["rebuild"]);
    assert_eq!(owner_rebuild["matched"], false, "{owner_rebuild}");
}
