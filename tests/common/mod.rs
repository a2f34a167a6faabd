//! Test harness: runs the real `waymark` binary against a real SQLite file in a temp
//! dir, or a real PostgreSQL database created for the test and dropped afterwards.
#![allow(dead_code)]

pub mod bulk;
pub mod capture;
pub mod served;
pub mod witness;
pub mod writer;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs a scenario as two tests, `<scenario>::sqlite` and `<scenario>::postgres`.
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn sqlite() {
                super::$scenario(super::Kind::Sqlite);
            }
            #[test]
            fn postgres() {
                super::$scenario(super::Kind::Postgres);
            }
        }
    )*};
}

/// Whether a test may use an outside tool it needs. With the tool there: true. Without
/// it: under `WAYMARK_REQUIRE_ALL=1` (the README's test command and CI) the test fails
/// with the install command; otherwise it prints a visible `skipped: needs …` line
/// (written to the process's stderr directly, so the test harness's capture does not
/// hide it) and the caller returns.
pub fn needs(what: &str, present: bool, install: &str) -> bool {
    if present {
        return true;
    }
    assert!(
        std::env::var("WAYMARK_REQUIRE_ALL").as_deref() != Ok("1"),
        "WAYMARK_REQUIRE_ALL=1 and this test needs {what} (install: {install})"
    );
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped: needs {what} (install: {install})"
    );
    false
}

/// Go and x/mod's sumdb packages, as Debian installs them (tests/go/run.sh).
pub fn have_go() -> bool {
    Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
        && Path::new("/usr/share/gocode/src/golang.org/x/mod/sumdb/tlog").is_dir()
        && Path::new("/usr/share/gocode/src/golang.org/x/mod/sumdb/note").is_dir()
}

pub const GO_INSTALL: &str = "apt-get install golang-go golang-golang-x-mod-dev";

pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

pub struct Env {
    pub kind: Kind,
    pub dir: tempfile::TempDir,
    pub url: String,
    pg_name: Option<String>,
}

impl Env {
    pub fn new(kind: Kind) -> Env {
        let dir = tempfile::tempdir().unwrap();
        match kind {
            Kind::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("ledger.db").display());
                Env {
                    kind,
                    dir,
                    url,
                    pg_name: None,
                }
            }
            Kind::Postgres => {
                let name = format!("waymark_test_{}", rand::random::<u64>());
                runtime().block_on(async {
                    let pool = sqlx::PgPool::connect(&admin_url())
                        .await
                        .expect("PostgreSQL at DATABASE_URL");
                    sqlx::query(&format!("CREATE DATABASE {name}"))
                        .execute(&pool)
                        .await
                        .unwrap();
                });
                let base = admin_url();
                let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
                Env {
                    kind,
                    dir,
                    url,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// Another env of the same kind holding a copy of this one's store and key store:
    /// the same ledgers (and log keys) up to now, two histories from here on (a fork,
    /// as a log operator showing different readers different logs would make).
    pub fn fork(&self) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let copy_dir = |from: &Path, to: &Path| {
            std::fs::create_dir_all(to).unwrap();
            for e in std::fs::read_dir(from).unwrap() {
                let e = e.unwrap();
                // fs::copy keeps the mode (0600 keys stay 0600).
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        };
        if self.keys().exists() {
            copy_dir(&self.keys(), &dir.path().join("keys"));
        }
        match self.kind {
            Kind::Sqlite => {
                for suffix in ["", "-wal"] {
                    let from = self.path(&format!("ledger.db{suffix}"));
                    if from.exists() {
                        std::fs::copy(&from, dir.path().join(format!("ledger.db{suffix}")))
                            .unwrap();
                    }
                }
                let url = format!("sqlite://{}", dir.path().join("ledger.db").display());
                Env {
                    kind: self.kind,
                    dir,
                    url,
                    pg_name: None,
                }
            }
            Kind::Postgres => {
                let name = format!("waymark_test_{}", rand::random::<u64>());
                let from = self.pg_name.clone().unwrap();
                runtime().block_on(async {
                    let pool = sqlx::PgPool::connect(&admin_url()).await.unwrap();
                    sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {from}"))
                        .execute(&pool)
                        .await
                        .unwrap();
                });
                let base = admin_url();
                let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
                Env {
                    kind: self.kind,
                    dir,
                    url,
                    pg_name: Some(name),
                }
            }
        }
    }

    pub fn keys(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `waymark --db URL --keys DIR ARGS…`.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_waymark"))
            .args(["--db", &self.url, "--keys"])
            .arg(self.keys())
            .args(args)
            .env_remove("WAYMARK_LEDGER")
            .env_remove("WAYMARK_ACTOR")
            .output()
            .unwrap()
    }

    /// Runs and expects exit 0; returns stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "waymark {args:?}\nstdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs and expects the exit code; returns stderr.
    #[track_caller]
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "waymark {args:?}\nstdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stderr)
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    pub fn export(&self) -> Vec<u8> {
        let out = self.run(&["export"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        out.stdout
    }

    /// `verify --json`, whatever its exit code; returns (code, report).
    pub fn verify(&self) -> (i32, Value) {
        let out = self.run(&["--json", "verify"]);
        (
            out.status.code().unwrap(),
            serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        )
    }

    /// Runs SQL on the test's database (tampering, like someone with write access).
    pub fn sql(&self, statements: &[&str]) {
        runtime().block_on(async {
            match self.kind {
                Kind::Sqlite => {
                    let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
                    for s in statements {
                        sqlx::query(s)
                            .execute(&pool)
                            .await
                            .unwrap_or_else(|e| panic!("{s}: {e}"));
                    }
                    pool.close().await;
                }
                Kind::Postgres => {
                    let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                    for s in statements {
                        sqlx::query(s)
                            .execute(&pool)
                            .await
                            .unwrap_or_else(|e| panic!("{s}: {e}"));
                    }
                    pool.close().await;
                }
            }
        });
    }

    /// SQL that reads/writes the payload as text in either backend.
    pub fn payload_text(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite => "payload",
            Kind::Postgres => "payload::text",
        }
    }

    /// Writes `event` as the stored row at `seq` (inserted, or replacing the row there),
    /// with `hash` in its metadata: what someone with write access to the tables could do.
    pub fn write_row(
        &self,
        seq: u64,
        event: &waymark_events::Event,
        hash: &waymark_events::Hash,
        insert: bool,
    ) {
        let payload = serde_json::to_string(&event.to_value())
            .unwrap()
            .replace('\'', "''");
        let meta = format!("{{\"hash\":\"{hash}\"}}");
        let (p, m) = (
            self.as_json(&format!("'{payload}'")),
            self.as_json(&format!("'{meta}'")),
        );
        if insert {
            self.sql(&[&format!(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) VALUES ('Ledger', 'test', {seq}, '{}', '1', {p}, {m})",
                event.statement.event_type()
            )]);
        } else {
            self.sql(&[&format!(
                "UPDATE events SET payload = {p}, metadata = {m} WHERE sequence = {seq}"
            )]);
        }
    }

    pub fn as_json(&self, expr: &str) -> String {
        match self.kind {
            Kind::Sqlite => expr.to_string(),
            Kind::Postgres => format!("({expr})::json"),
        }
    }

    /// A small framework file: layers tech (A, B) and econ (A, B); M1, M2 (needs M1) in
    /// tech/A, M3 in tech/B, E1 in econ/A.
    pub fn framework(&self) -> PathBuf {
        let p = self.path("tiny.toml");
        std::fs::write(&p, TINY).unwrap();
        p
    }

    /// A ledger `test` with founder `alice`, reporter `bob` and reviewer `rita`.
    pub fn init(&self) {
        let fw = self.framework();
        self.ok(&[
            "--ledger",
            "test",
            "init",
            "--framework",
            fw.to_str().unwrap(),
            "--founder",
            "alice",
            "--founder-name",
            "Alice",
            "--origin",
            "example.org/test",
        ]);
        self.ok(&["actor", "add", "bob", "--name", "Bob", "--role", "reporter"]);
        self.ok(&[
            "actor", "add", "rita", "--name", "Rita", "--role", "reviewer",
        ]);
    }

    /// `init` plus a short history written with `apply` (seq 1..=12).
    pub fn history(&self) {
        self.init();
        let f = self.path("history.jsonl");
        std::fs::write(&f, HISTORY).unwrap();
        self.ok(&["apply", f.to_str().unwrap()]);
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            runtime().block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&pool)
                        .await;
                }
            });
        }
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn python_verifier() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/waymark_verify.py")
}

/// The tests' tiny framework (milestones M1, M2, M3, E1); `tools/season_ledger.py` reads
/// the same file.
pub const TINY: &str = include_str!("../fixtures/tiny.toml");

/// seq 8..=15 after `init` (5 events: opened + 4 milestones) and two actors (6, 7).
pub const HISTORY: &str = r#"{"as":"alice","type":"SeasonOpened","payload":{"season":6,"starts_on":"2024-06-27","intent":"Finish phase A","focus":["M1","M2"]}}
{"as":"bob","type":"MilestoneStatusChanged","payload":{"id":"M1","from":"not_started","to":"achieved","reason":"because elected","evidence":["https://example.org/e1"],"effective_on":"2024-06-10"}}
{"as":"bob","type":"MilestoneStatusChanged","payload":{"id":"M2","from":"not_started","to":"in_progress","reason":"because started","evidence":[]}}
{"as":"bob","type":"MilestoneStatusChanged","payload":{"id":"M1","from":"achieved","to":"in_progress","reason":"because regressed","evidence":["https://example.org/e2"]}}
{"as":"bob","type":"MilestoneStatusChanged","payload":{"id":"E1","from":"not_started","to":"achieved","reason":"because funded","evidence":["https://example.org/e3"]}}
{"as":"rita","type":"PhaseTransitioned","payload":{"layer":"econ","from":"A","to":"B","reason":"because phase A of econ is done"}}
{"as":"rita","type":"SeasonReEvaluated","payload":{"season":6,"ends_on":"2024-12-11","summary":"M1 regressed","assessments":[{"milestone":"M1","note":"fell back"}]}}
{"as":"alice","type":"MilestoneRetired","payload":{"id":"M3","reason":"because dropped from the model"}}
"#;
