//! Where a monitor reads a log from: a C2SP tlog-tiles prefix, either a directory
//! (what `publish DIR` wrote, or `site --out`'s `api/ledgers/ID`) or an http(s) URL
//! (a static host serving either, or `serve`'s `/api/ledgers/ID`). Only two kinds of
//! resource are read: `checkpoint` and the entry bundles `tile/entries/…`.

use crate::error::{Error, Result, StorageError};
use crate::files::safe::SafeDir;
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

/// The largest resource read: a full entry bundle is 256 entries of at most 65,535
/// bytes each, plus their length prefixes.
const MAX_RESOURCE: u64 = 256 * (65_535 + 2);

/// A tlog-tiles prefix to read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Dir(PathBuf),
    Url(String),
}

impl Source {
    /// `http://…` / `https://…` is a URL prefix; anything else a directory.
    pub fn parse(arg: &str) -> Source {
        if arg.starts_with("http://") || arg.starts_with("https://") {
            Source::Url(arg.trim_end_matches('/').to_string())
        } else {
            Source::Dir(PathBuf::from(arg))
        }
    }

    /// How the source is named in reports and in the default state directory.
    pub fn name(&self) -> String {
        match self {
            Source::Dir(p) => std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
            Source::Url(u) => u.clone(),
        }
    }

    /// The resource at `path` below the prefix; `None` when it does not exist (a
    /// missing file, HTTP 404). Reading nothing else than a regular file, at most
    /// [`MAX_RESOURCE`] bytes, with no symlink followed below the directory.
    pub fn get(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Source::Dir(dir) => {
                let Some(root) = SafeDir::open(dir)? else {
                    return Err(Error::Storage(StorageError::file(format!(
                        "{}: no such directory",
                        dir.display()
                    ))));
                };
                let (sub, file) = path.rsplit_once('/').unwrap_or(("", path));
                let d = if sub.is_empty() {
                    Some(root)
                } else {
                    root.subdir(sub, false)?
                };
                match d {
                    None => Ok(None),
                    Some(d) => Ok(d.read(file, MAX_RESOURCE)?.map(|f| f.bytes)),
                }
            }
            Source::Url(prefix) => {
                let url = format!("{prefix}/{path}");
                let agent = ureq::AgentBuilder::new()
                    .timeout_connect(Duration::from_secs(10))
                    .timeout(Duration::from_secs(60))
                    .build();
                match agent.get(&url).call() {
                    Ok(resp) => {
                        let mut bytes = Vec::new();
                        resp.into_reader()
                            .take(MAX_RESOURCE + 1)
                            .read_to_end(&mut bytes)
                            .map_err(|e| unreachable_err(&url, e))?;
                        if bytes.len() as u64 > MAX_RESOURCE {
                            return Err(Error::BrokenChain {
                                seq: 0,
                                problem: waymark_core::ProblemKind::Malformed,
                                detail: format!("{url}: larger than {MAX_RESOURCE} bytes"),
                            });
                        }
                        Ok(Some(bytes))
                    }
                    Err(ureq::Error::Status(404, _)) => Ok(None),
                    Err(ureq::Error::Status(code, _)) => Err(Error::Storage(StorageError::server(
                        format!("GET {url}: HTTP {code}"),
                    ))),
                    Err(e) => Err(unreachable_err(&url, e)),
                }
            }
        }
    }
}

fn unreachable_err(url: &str, e: impl std::fmt::Display) -> Error {
    Error::Storage(StorageError::server(format!("GET {url}: {e}")))
}
