//! `publish DIR --witness URL …`: the new checkpoint goes to each witness with a
//! consistency proof (C2SP tlog-witness `add-checkpoint`), and their cosignatures
//! (C2SP tlog-cosignature) are added to it before anything is written.
//!
//! Each witness is a URL (its submission prefix) and the verifier key its cosignature
//! must verify with: `--witness URL` paired in order with `--witness-key VKEY`, or a
//! TOML file (`--witnesses FILE`) of `[[witness]]` tables with `url` and `key`. All
//! witnesses are asked at once. The first request says the witness was last at the
//! size of the latest checkpoint this ledger had witnessed (0 if none); a witness that
//! answers 409 with another size not above ours is asked again with a proof from that
//! size (at most three times). Any refusal makes `publish` fail with the witness's
//! reason (exit 3); a witness that cannot be reached, exit 4 — in both cases before DIR
//! is touched.

use crate::error::{Error, Result};
use crate::service::Waymark;
use crate::witness::{accept_cosignature, Client, Outcome, DEFAULT_TIMEOUT};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;
use waymark_events::{parse_cosigner_key, CosignerKey, Hash};

/// One witness to ask: where, and the key its cosignature must verify with.
#[derive(Debug, Clone)]
pub struct WitnessTarget {
    pub url: String,
    pub key: CosignerKey,
}

/// What one witness gave.
#[derive(Debug, Clone, Serialize)]
pub struct CosignedBy {
    pub url: String,
    pub name: String,
    /// The cosignature's time (POSIX seconds) and as RFC 3339.
    pub timestamp: u64,
    pub cosigned_at: String,
    /// The round trip, all attempts included.
    pub millis: u64,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessFile {
    witness: Vec<WitnessEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessEntry {
    url: String,
    key: String,
}

fn key_of(text: &str, what: &str) -> Result<CosignerKey> {
    parse_cosigner_key(text.trim()).map_err(|e| {
        Error::Usage(format!(
            "{what} {text:?}: not a witness verifier key (name+id+base64 of 0x04 and the key): {e}"
        ))
    })
}

fn check_url(url: &str) -> Result<()> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--witness {url:?}: a witness is an http:// or https:// URL (its submission prefix)"
        )))
    }
}

/// The witnesses of `--witness URL` (paired in order with `--witness-key VKEY`) and of
/// `--witnesses FILE`.
pub fn targets(
    urls: &[String],
    keys: &[String],
    file: Option<&Path>,
) -> Result<Vec<WitnessTarget>> {
    if urls.len() != keys.len() {
        return Err(Error::Usage(format!(
            "{} --witness URL and {} --witness-key VKEY: give one key per witness, in the same order",
            urls.len(),
            keys.len()
        )));
    }
    let mut out = Vec::new();
    for (url, key) in urls.iter().zip(keys) {
        check_url(url)?;
        out.push(WitnessTarget {
            url: url.clone(),
            key: key_of(key, "--witness-key")?,
        });
    }
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("--witnesses {}: {e}", path.display())))?;
        let parsed: WitnessFile = toml::from_str(&text)
            .map_err(|e| Error::Usage(format!("--witnesses {}: {e}", path.display())))?;
        for w in parsed.witness {
            check_url(&w.url)?;
            out.push(WitnessTarget {
                key: key_of(&w.key, &format!("--witnesses {}: key", path.display()))?,
                url: w.url,
            });
        }
    }
    for (i, a) in out.iter().enumerate() {
        if out[..i].iter().any(|b| b.key == a.key) {
            return Err(Error::Usage(format!(
                "witness {} is listed twice",
                a.key.name
            )));
        }
    }
    Ok(out)
}

/// Asks every witness to cosign `note` (the log-signed checkpoint of `size`); gives the
/// note with every cosignature added, and who cosigned when.
pub async fn cosign(
    w: &Waymark,
    ledger: &str,
    note: &str,
    size: u64,
    targets: &[WitnessTarget],
) -> Result<(String, Vec<CosignedBy>)> {
    let last = w
        .witnessed(ledger)
        .await?
        .map_or(0, |v| v.tree_size)
        .min(size);
    let client = Client::new(DEFAULT_TIMEOUT);
    let asks = targets
        .iter()
        .map(|t| ask(w, ledger, note, size, last, t, client.clone()));
    let answers = futures_util::future::join_all(asks).await;
    // A refusal is the verdict that matters most (exit 3), before any unreachable one.
    let mut unreachable = None;
    let mut got = Vec::new();
    for a in answers {
        match a {
            Ok(x) => got.push(x),
            Err(e @ Error::WitnessRefused { .. }) => return Err(e),
            Err(e) => {
                unreachable.get_or_insert(e);
            }
        }
    }
    if let Some(e) = unreachable {
        return Err(e);
    }
    let mut cosigned = note.to_string();
    let mut by = Vec::new();
    for (target, lines, millis) in got {
        let (with, timestamp) =
            accept_cosignature(&cosigned, &lines, &target.key).map_err(|e| {
                Error::WitnessRefused {
                    status: 200,
                    size: None,
                    reason: format!("witness {}: {e}", target.url),
                }
            })?;
        cosigned = with;
        by.push(CosignedBy {
            url: target.url.clone(),
            name: target.key.name.clone(),
            timestamp,
            cosigned_at: waymark_core::posix_time(timestamp),
            millis,
        });
    }
    Ok((cosigned, by))
}

/// One witness: submit from `old`, again from the size a 409 names.
async fn ask<'a>(
    w: &Waymark,
    ledger: &str,
    note: &str,
    size: u64,
    old: u64,
    target: &'a WitnessTarget,
    client: Client,
) -> Result<(&'a WitnessTarget, String, u64)> {
    let started = Instant::now();
    let mut old = old;
    for _ in 0..3 {
        let proof: Vec<Hash> = if old == 0 || old >= size {
            Vec::new()
        } else {
            w.prove_consistency(ledger, old, size).await?.path
        };
        let (c, url, body) = (client.clone(), target.url.clone(), note.to_string());
        let outcome = tokio::task::spawn_blocking(move || c.submit(&url, old, &proof, &body))
            .await
            .map_err(|e| Error::Storage(crate::StorageError::internal(e.to_string())))??;
        match outcome {
            Outcome::Cosigned(lines) => {
                let millis = started.elapsed().as_millis() as u64;
                return Ok((target, lines, millis));
            }
            Outcome::SizeMismatch { witness_size }
                if witness_size <= size && witness_size != old =>
            {
                old = witness_size;
            }
            other => {
                return Err(other.into_result(&target.url).err().unwrap_or_else(|| {
                    Error::WitnessRefused {
                        status: 409,
                        size: None,
                        reason: format!("witness {}: no cosignature", target.url),
                    }
                }))
            }
        }
    }
    Err(Error::WitnessRefused {
        status: 409,
        size: Some(old),
        reason: format!(
            "witness {} kept answering with another size (last {old}); try again",
            target.url
        ),
    })
}
