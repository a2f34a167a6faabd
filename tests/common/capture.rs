//! What sqlx tells `tracing` while a test runs, for the tests that check the statements a
//! path sends and their plans (`tests/plans.rs`, `tests/dashboard_scale.rs`): statement
//! texts (target `sqlx::query`) and server notices (`sqlx::postgres::notice`, where
//! PostgreSQL's `auto_explain` writes each executed statement's plan when a session is
//! opened with [`auto_explain_url`]).

use super::Env;
use std::sync::Mutex;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// (target, text) of every event captured since the last [`take_captured`].
static CAPTURED: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
/// One scenario at a time: the capture is process-wide.
pub static SERIAL: Mutex<()> = Mutex::new(());

struct Capture;

#[derive(Default)]
struct Fields {
    summary: String,
    statement: String,
    message: String,
}

impl Visit for Fields {
    fn record_str(&mut self, f: &Field, v: &str) {
        match f.name() {
            "summary" => self.summary = v.to_string(),
            "db.statement" => self.statement = v.to_string(),
            "message" => self.message = v.to_string(),
            _ => {}
        }
    }
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        self.record_str(f, format!("{v:?}").trim_matches('"'))
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let target = event.metadata().target();
        if target != "sqlx::query" && target != "sqlx::postgres::notice" {
            return;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        // A short statement is logged as its summary alone (sqlx: the summary is the
        // first four words, and `db.statement` is empty when that is all of it).
        let text = if target == "sqlx::postgres::notice" {
            f.message
        } else if f.statement.trim().is_empty() {
            f.summary
        } else {
            f.statement.trim().to_string()
        };
        CAPTURED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((target.to_string(), text));
    }
}

/// Installs the capture as the process's subscriber (once).
pub fn install_capture() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Capture))
            .expect("one subscriber");
    });
}

/// What was captured since the last call, as (target, text).
pub fn take_captured() -> Vec<(String, String)> {
    std::mem::take(&mut *CAPTURED.lock().unwrap_or_else(|p| p.into_inner()))
}

/// The statements sqlx ran among `captured` (SELECT, INSERT, UPDATE, DELETE, WITH; not
/// BEGIN, COMMIT or pragmas), in the order they ran.
pub fn statements_of(captured: &[(String, String)]) -> Vec<String> {
    captured
        .iter()
        .filter(|(t, _)| t == "sqlx::query")
        .map(|(_, s)| s.clone())
        .filter(|s| {
            let head = s.trim_start().to_ascii_uppercase();
            ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"]
                .iter()
                .any(|k| head.starts_with(k))
        })
        .collect()
}

/// SQLite's `EXPLAIN QUERY PLAN` of statement `s`: one line per node (`SCAN t`,
/// `SEARCH t USING INDEX …`).
pub async fn sqlite_plan(pool: &sqlx::SqlitePool, s: &str) -> Vec<String> {
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {s}"))
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{s}: {e}"));
    rows.into_iter().map(|r| r.3).collect()
}

/// The options that make PostgreSQL send each executed statement's plan to the client
/// (as a WARNING, which sqlx passes to `tracing`).
pub const AUTO_EXPLAIN: [(&str, &str); 3] = [
    ("session_preload_libraries", "auto_explain"),
    ("auto_explain.log_min_duration", "0"),
    ("auto_explain.log_level", "warning"),
];

/// The PostgreSQL URL of `env` whose sessions start with `options` set (`-c k=v`).
pub fn postgres_url_with(env: &Env, options: &[(&str, &str)]) -> String {
    let opts: Vec<String> = options.iter().map(|(k, v)| format!("-c {k}={v}")).collect();
    let encoded: String = form_urlencoded::byte_serialize(opts.join(" ").as_bytes()).collect();
    format!("{}?options={encoded}", env.url)
}

/// [`postgres_url_with`] [`AUTO_EXPLAIN`] and `more` options.
pub fn auto_explain_url(env: &Env, more: &[(&str, &str)]) -> String {
    let mut options = AUTO_EXPLAIN.to_vec();
    options.extend_from_slice(more);
    postgres_url_with(env, &options)
}
