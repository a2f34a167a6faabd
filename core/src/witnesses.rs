//! Witness quorums: which witnesses' cosignatures (C2SP tlog-cosignature,
//! `cosignature/v1`) a checkpoint must carry before a reader trusts it.
//!
//! A quorum is a list of witness verifier keys and a number K: the checkpoint needs
//! valid cosignatures from at least K distinct witnesses of the list. Cosignatures by
//! keys not in the list count for nothing (anyone can make a witness key); a listed
//! witness whose line does not verify is reported as bad, never as missing. The
//! assumption that makes a quorum worth having (SECURITY.md): at least one witness of
//! every K-subset is honest, so a log that shows two readers two different trees at
//! one size cannot get both cosigned.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use waymark_events::{
    check_cosignatures, format_timestamp, parse_cosigner_key, CosignatureCheck, CosignerKey,
};

/// Witness keys and how many of them must have cosigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    pub witnesses: Vec<CosignerKey>,
    pub k: usize,
}

/// One witness's verdict on a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessVerdict {
    /// The witness's name (its key name).
    pub name: String,
    /// Its verifier key string.
    pub vkey: String,
    pub check: CosignatureCheck,
}

impl WitnessVerdict {
    /// `w1.example: cosigned at 2026-12-06T10:00:00Z`, `…: missing`, `…: bad (why)`.
    pub fn describe(&self) -> String {
        match &self.check {
            CosignatureCheck::Valid { timestamp } => {
                format!("{}: cosigned at {}", self.name, posix_time(*timestamp))
            }
            CosignatureCheck::Missing => format!("{}: no cosignature", self.name),
            CosignatureCheck::Bad(why) => format!("{}: bad cosignature ({why})", self.name),
        }
    }
}

/// A POSIX time as RFC 3339 UTC (seconds), or the bare number past year 9999.
pub fn posix_time(secs: u64) -> String {
    let micros = i64::try_from(secs)
        .ok()
        .and_then(|s| s.checked_mul(1_000_000));
    match micros {
        Some(m) if secs < 253_402_300_800 => {
            let t = format_timestamp(m);
            // format_timestamp gives microseconds; a cosignature has whole seconds.
            match t.split_once('.') {
                Some((head, _)) => format!("{head}Z"),
                None => t,
            }
        }
        _ => format!("POSIX {secs}"),
    }
}

impl Quorum {
    /// From `--witness` arguments (each a verifier key, or a file holding one per
    /// line) and `--quorum` (default: every witness listed). `None` without witnesses.
    pub fn from_args(witness: &[String], quorum: Option<usize>) -> Result<Option<Quorum>> {
        let mut witnesses: Vec<CosignerKey> = Vec::new();
        for arg in witness {
            for key in witness_keys(arg)? {
                if witnesses
                    .iter()
                    .any(|w| w.name == key.name && w.id == key.id)
                {
                    return Err(Error::Usage(format!(
                        "--witness {} is listed twice",
                        key.name
                    )));
                }
                witnesses.push(key);
            }
        }
        if witnesses.is_empty() {
            return match quorum {
                Some(_) => Err(Error::Usage(
                    "--quorum needs the witnesses it counts: pass --witness VKEY".into(),
                )),
                None => Ok(None),
            };
        }
        let k = quorum.unwrap_or(witnesses.len());
        if k == 0 || k > witnesses.len() {
            return Err(Error::Usage(format!(
                "--quorum {k}: must be between 1 and the {} witnesses listed",
                witnesses.len()
            )));
        }
        Ok(Some(Quorum { witnesses, k }))
    }

    /// Each listed witness's verdict on `note` (a signed checkpoint).
    pub fn verdicts(&self, note: &str) -> std::result::Result<Vec<WitnessVerdict>, String> {
        let checks = check_cosignatures(note, &self.witnesses).map_err(|e| e.to_string())?;
        Ok(self
            .witnesses
            .iter()
            .zip(checks)
            .map(|(w, check)| WitnessVerdict {
                name: w.name.clone(),
                vkey: w.vkey(),
                check,
            })
            .collect())
    }

    /// `Ok(summary)` when at least K listed witnesses validly cosigned `note`; else
    /// `Err(detail)` naming every witness that is missing or bad.
    pub fn check(&self, note: &str) -> std::result::Result<String, String> {
        let verdicts = self.verdicts(note)?;
        let valid = verdicts
            .iter()
            .filter(|v| matches!(v.check, CosignatureCheck::Valid { .. }))
            .count();
        let all: Vec<String> = verdicts.iter().map(WitnessVerdict::describe).collect();
        if valid >= self.k {
            Ok(format!(
                "witness quorum {valid} of {} (needed {}): {}",
                self.witnesses.len(),
                self.k,
                all.join(", ")
            ))
        } else {
            Err(format!(
                "{valid} valid cosignature(s) from the {} witnesses listed, {} required: {}",
                self.witnesses.len(),
                self.k,
                all.join(", ")
            ))
        }
    }
}

/// A `--witness` argument: a witness verifier key, or a file with one key per line
/// (blank lines and `#` comments skipped).
fn witness_keys(arg: &str) -> Result<Vec<CosignerKey>> {
    let direct = match parse_cosigner_key(arg.trim()) {
        Ok(k) => return Ok(vec![k]),
        Err(e) => e,
    };
    let path = Path::new(arg);
    if !path.is_file() {
        return Err(Error::Usage(format!(
            "--witness {arg:?} is neither a witness verifier key (<name>+<key id>+<base64 of 0x04 and the key>: {direct}) nor a file holding such keys"
        )));
    }
    let mut text = String::new();
    File::open(path)
        .and_then(|f| f.take(1 << 20).read_to_string(&mut text))
        .map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        keys.push(parse_cosigner_key(line).map_err(|e| {
            Error::Usage(format!("--witness {}: line {}: {e}", path.display(), i + 1))
        })?);
    }
    if keys.is_empty() {
        return Err(Error::Usage(format!(
            "--witness {}: no witness key in the file",
            path.display()
        )));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use waymark_events::Hash;
    use waymark_events::{add_signature_lines, cosign, cosigner_vkey, sign_checkpoint, Checkpoint};

    fn vkey(seed: u8, name: &str) -> String {
        cosigner_vkey(name, &SigningKey::from_bytes(&[seed; 32]).verifying_key())
    }

    #[test]
    fn a_quorum_counts_only_listed_witnesses_with_valid_cosignatures() {
        let cp = Checkpoint::new("log.example", 3, Hash([1; 32])).unwrap();
        let mut note = sign_checkpoint(&cp, &SigningKey::from_bytes(&[9; 32]));
        for (seed, name) in [(1, "a.example"), (2, "b.example"), (5, "stranger.example")] {
            let line = cosign(&cp.body(), name, &SigningKey::from_bytes(&[seed; 32]), 100).unwrap();
            note = add_signature_lines(&note, &line).unwrap();
        }
        let listed = vec![
            vkey(1, "a.example"),
            vkey(2, "b.example"),
            vkey(3, "c.example"),
        ];
        let q = Quorum::from_args(&listed, Some(2)).unwrap().unwrap();
        assert!(q.check(&note).is_ok());
        let q = Quorum::from_args(&listed, None).unwrap().unwrap();
        let err = q.check(&note).unwrap_err();
        assert!(err.contains("c.example: no cosignature"), "{err}");
        assert!(err.contains("2 valid"), "{err}");
        // The stranger's valid cosignature does not make up for c.
        assert!(!err.contains("stranger"), "{err}");
    }

    #[test]
    fn quorum_arguments_are_checked() {
        let one = vec![vkey(1, "a.example")];
        assert!(Quorum::from_args(&[], Some(1)).is_err());
        assert!(Quorum::from_args(&one, Some(0)).is_err());
        assert!(Quorum::from_args(&one, Some(2)).is_err());
        assert!(Quorum::from_args(&[one[0].clone(), one[0].clone()], None).is_err());
        assert_eq!(Quorum::from_args(&[], None).unwrap(), None);
        assert!(Quorum::from_args(&["nope".into()], None).is_err());
    }

    #[test]
    fn posix_times_read_as_utc() {
        assert_eq!(posix_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(posix_time(1679315147), "2023-03-20T12:25:47Z");
    }
}
