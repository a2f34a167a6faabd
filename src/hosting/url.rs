//! A tiled log read from a URL prefix (`verify-offline --tiles URL`, `prove … --tiles
//! URL`): the core's [`TileSource`] over HTTP(S) with ureq, here so that the core (and
//! the auditor's `waymark-verify`) keep no network code.

use std::io::Read;
use std::time::Duration;
use waymark_core::{open_dir_source, Error, Result, TileSource};

/// Resources fetched below a URL prefix (`https://host/ledger`, a site's
/// `…/api/ledgers/ID`, or `serve`'s `http://host/api/ledgers/ID`).
pub struct UrlSource {
    prefix: String,
    agent: ureq::Agent,
}

impl UrlSource {
    pub fn new(prefix: &str) -> UrlSource {
        UrlSource {
            prefix: prefix.trim_end_matches('/').to_string(),
            // Bounded waits: a stalled host makes the command fail, not hang.
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(15))
                .timeout_read(Duration::from_secs(60))
                .build(),
        }
    }
}

impl TileSource for UrlSource {
    fn read(&self, name: &str, max_bytes: u64) -> Result<Option<Vec<u8>>> {
        let url = self.locate(name);
        let resp = match self.agent.get(&url).call() {
            Ok(r) => r,
            // Not there: the verifier decides what a missing resource means.
            Err(ureq::Error::Status(404 | 410, _)) => return Ok(None),
            Err(ureq::Error::Status(code, r)) => {
                return Err(Error::Io(format!("{url}: HTTP {code} {}", r.status_text())))
            }
            Err(ureq::Error::Transport(t)) => return Err(Error::Io(format!("{url}: {t}"))),
        };
        let mut bytes = Vec::new();
        resp.into_reader()
            .take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Io(format!("{url}: {e}")))?;
        if bytes.len() as u64 > max_bytes {
            return Err(Error::Io(format!(
                "{url}: larger than the {max_bytes} bytes it may have"
            )));
        }
        Ok(Some(bytes))
    }

    fn locate(&self, name: &str) -> String {
        format!("{}/{name}", self.prefix)
    }
}

/// The source `--tiles SRC` names in `waymark`: an `http://` or `https://` URL prefix,
/// or a directory.
pub fn open_tile_source(src: &str) -> Result<Box<dyn TileSource>> {
    if src.starts_with("http://") || src.starts_with("https://") {
        Ok(Box::new(UrlSource::new(src)))
    } else {
        open_dir_source(src)
    }
}
