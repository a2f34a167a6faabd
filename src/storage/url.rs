//! What a `--db` URL names, and how messages print it.

use super::StorageError;
use crate::error::Error;
use sqlx::sqlite::SqliteConnectOptions;
use std::str::FromStr;

/// What a database URL names, told apart before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Postgres,
    SqliteFile(std::path::PathBuf),
    /// `sqlite::memory:` or `mode=memory`: gone when the process exits.
    SqliteMemory,
}

/// Classifies a `--db` URL; `Err` is a usage message naming the URL. `sqlite://` with
/// no path used to open a private temporary database per connection, so the tables
/// created on one were missing on the next ("no such table: main.waymark_history").
pub fn target(url: &str) -> Result<Target, Error> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres);
    }
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        if !url.contains(':') {
            return Err(Error::Usage(format!(
                "--db {url:?} has no scheme: did you mean sqlite://{url}? (or postgres://…)"
            )));
        }
        return Err(Error::Usage(format!(
            "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
            redact(url)
        )));
    };
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    let memory = path == ":memory:" || params.split('&').any(|kv| kv == "mode=memory");
    if memory {
        return Ok(Target::SqliteMemory);
    }
    if path.is_empty() {
        return Err(Error::Usage(format!(
            "database URL {url:?} names no file: use sqlite://PATH (for example sqlite://waymark.db)"
        )));
    }
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| Error::Usage(format!("bad SQLite URL {url:?}: {e}")))?;
    Ok(Target::SqliteFile(opts.get_filename().to_path_buf()))
}

/// A read, or a write other than `init`, against a SQLite file that is not there:
/// refused before an empty database is created in its place (issue 15).
pub fn no_database(path: &std::path::Path, url: &str) -> StorageError {
    StorageError::database(format!(
        "no database at {} (create one with `waymark --db {url} init --ledger ID --framework optimism`)",
        path.display()
    ))
}

/// Why a command line refuses an in-memory SQLite store.
pub fn in_memory(url: &str) -> String {
    format!(
        "database URL {url:?} is an in-memory database: nothing would be kept after this command exits; use sqlite://PATH"
    )
}

/// Hides a password in a URL before it is printed.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &cred[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
