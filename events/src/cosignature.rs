//! Witness cosignatures: C2SP `tlog-cosignature`, the Ed25519 `cosignature/v1` type.
//!
//! A witness (cosigner) has its own Ed25519 key and name. Its verifier key is a
//! signed-note vkey with key type 0x04: `<name>+<8 hex key id>+<base64(0x04 || key)>`,
//! the key id being the first 4 bytes of SHA-256(name || "\n" || 0x04 || key). A
//! cosignature is a note signature line on the checkpoint,
//!
//! ```text
//! — <witness name> base64(key id || u64 big-endian timestamp || Ed25519 signature)
//! ```
//!
//! the signature being over `cosignature/v1\ntime <timestamp>\n` followed by the
//! checkpoint's whole note text (its final newline included, no signature lines). It
//! states that, at that time, this was the largest consistent tree head the witness
//! had seen for the log named by the origin line.
//!
//! Why not a crate: Cloudflare's `signed_note` implements C2SP signed-note with
//! pluggable verifiers but has no cosignature type, and would be a second note parser
//! beside `checkpoint.rs`, whose parsing rules are held to Go's; a cosignature is this
//! file over the same `ed25519-dalek`, `sha2` and `base64`.

use crate::checkpoint::{has_control, signature_line, split_note, NoteError};
use crate::note::{is_valid_key_name, parse_vkey, vkey_string, VerifierKeyError};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signed-note key type of Ed25519 `cosignature/v1` keys.
pub const COSIGNATURE_V1_TYPE: u8 = 0x04;

/// Bytes of a `cosignature/v1` signature after its key id: timestamp and signature.
const COSIG_LEN: usize = 8 + 64;

/// Key id of a cosigner: the first 4 bytes of SHA-256(name || "\n" || 0x04 || key).
pub fn cosigner_key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([COSIGNATURE_V1_TYPE]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A witness's verifier key string: `<name>+<hex key id>+<base64(0x04 || key)>`.
pub fn cosigner_vkey(name: &str, key: &VerifyingKey) -> String {
    vkey_string(name, COSIGNATURE_V1_TYPE, cosigner_key_id(name, key), key)
}

/// A witness's parsed verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignerKey {
    pub name: String,
    pub id: [u8; 4],
    pub key: VerifyingKey,
}

impl CosignerKey {
    /// The verifier key string this key was parsed from.
    pub fn vkey(&self) -> String {
        cosigner_vkey(&self.name, &self.key)
    }
}

/// Parses a witness verifier key (type 0x04) and checks that its id matches the key.
pub fn parse_cosigner_key(text: &str) -> Result<CosignerKey, VerifierKeyError> {
    let (name, id, key) = parse_vkey(
        text.trim_end_matches('\n'),
        COSIGNATURE_V1_TYPE,
        cosigner_key_id,
    )?;
    Ok(CosignerKey { name, id, key })
}

/// The message a `cosignature/v1` signs: the header line, the time line, then the
/// checkpoint's note text (`text` must end in its newline).
pub fn cosigned_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// Cosigns a checkpoint's note text (the body, without signature lines) at
/// `timestamp` (POSIX seconds, at most 2^63 − 1): gives the signature line, with its
/// newline, to append to the note.
pub fn cosign(
    text: &str,
    name: &str,
    key: &SigningKey,
    timestamp: u64,
) -> Result<String, NoteError> {
    if !is_valid_key_name(name) || has_control(name) {
        return Err(NoteError::InvalidKeyName(name.to_string()));
    }
    if !text.ends_with('\n') || has_control(text) {
        return Err(NoteError::Malformed(
            "cosigned text must end in a newline and hold no control character",
        ));
    }
    if timestamp > i64::MAX as u64 {
        return Err(NoteError::Malformed(
            "cosignature timestamp exceeds 2^63 - 1",
        ));
    }
    let sig = key.sign(cosigned_message(text, timestamp).as_bytes());
    let mut raw = cosigner_key_id(name, &key.verifying_key()).to_vec();
    raw.extend_from_slice(&timestamp.to_be_bytes());
    raw.extend_from_slice(&sig.to_bytes());
    Ok(signature_line(name, &raw))
}

/// What a note says of one witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CosignatureCheck {
    /// A valid cosignature, made at this POSIX time.
    Valid { timestamp: u64 },
    /// No signature line names this witness (name and key id).
    Missing,
    /// The first line naming this witness does not verify; the reason.
    Bad(&'static str),
}

/// Checks each witness's cosignature on a signed note (a checkpoint carrying the log's
/// signature and any cosignatures). Only the first line naming a witness (name and key
/// id) counts, as with the log's own signature; lines of other keys are ignored. The
/// note itself must be well formed ([`split_note`]); the log's signature is not
/// checked here (open it with the log key first).
pub fn check_cosignatures(
    note: &str,
    witnesses: &[CosignerKey],
) -> Result<Vec<CosignatureCheck>, NoteError> {
    let (text, sigs) = split_note(note)?;
    Ok(witnesses
        .iter()
        .map(
            |w| match sigs.iter().find(|s| s.name == w.name && s.id() == w.id) {
                None => CosignatureCheck::Missing,
                Some(line) => check_one(text, &line.raw[4..], &w.key),
            },
        )
        .collect())
}

fn check_one(text: &str, raw: &[u8], key: &VerifyingKey) -> CosignatureCheck {
    if raw.len() != COSIG_LEN {
        return CosignatureCheck::Bad("a cosignature/v1 is 8 bytes of time and 64 of signature");
    }
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&raw[..8]);
    let timestamp = u64::from_be_bytes(ts);
    if timestamp > i64::MAX as u64 {
        return CosignatureCheck::Bad("the cosignature's timestamp exceeds 2^63 - 1");
    }
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&raw[8..]);
    match key.verify_strict(
        cosigned_message(text, timestamp).as_bytes(),
        &Signature::from_bytes(&sig),
    ) {
        Ok(()) => CosignatureCheck::Valid { timestamp },
        Err(_) => CosignatureCheck::Bad("the cosignature does not verify"),
    }
}

/// Appends signature lines (each `— name base64\n`) to a signed note, skipping any
/// line the note already carries. Each line must parse as a signature line.
pub fn add_signature_lines(note: &str, lines: &str) -> Result<String, NoteError> {
    split_note(note)?;
    let mut out = note.to_string();
    for line in lines.split_terminator('\n') {
        crate::checkpoint::parse_signature_line(line)?;
        let with_newline = format!("{line}\n");
        if !out.split_inclusive('\n').any(|l| l == with_newline) {
            out.push_str(&with_newline);
        }
    }
    split_note(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{open_checkpoint, sign_checkpoint, Checkpoint};
    use crate::hash::Hash;
    use crate::note::{parse_verifier_key, verifier_key};
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine;

    fn witness(seed: u8, name: &str) -> (SigningKey, CosignerKey) {
        let sk = SigningKey::from_bytes(&[seed; 32]);
        let vk = parse_cosigner_key(&cosigner_vkey(name, &sk.verifying_key())).unwrap();
        (sk, vk)
    }

    fn checkpoint() -> (String, String) {
        let log = SigningKey::from_bytes(&[1; 32]);
        let cp = Checkpoint::new("example.org/log", 5, Hash([7; 32])).unwrap();
        (sign_checkpoint(&cp, &log), cp.body())
    }

    #[test]
    fn a_cosigned_checkpoint_still_opens_with_the_log_key_and_each_witness_checks() {
        let (note, body) = checkpoint();
        let (sk1, w1) = witness(2, "w1.example/witness");
        let (_, w2) = witness(3, "w2.example/witness");
        let line = cosign(&body, "w1.example/witness", &sk1, 1_700_000_000).unwrap();
        let cosigned = add_signature_lines(&note, &line).unwrap();
        let log = parse_verifier_key(&verifier_key(
            "example.org/log",
            &SigningKey::from_bytes(&[1; 32]).verifying_key(),
        ))
        .unwrap();
        assert_eq!(open_checkpoint(&cosigned, &log).unwrap().size, 5);
        assert_eq!(
            check_cosignatures(&cosigned, &[w1, w2]).unwrap(),
            vec![
                CosignatureCheck::Valid {
                    timestamp: 1_700_000_000
                },
                CosignatureCheck::Missing
            ]
        );
    }

    #[test]
    fn a_cosignature_over_another_root_or_time_does_not_verify() {
        let (note, _) = checkpoint();
        let (sk, w) = witness(2, "w.example");
        let other = Checkpoint::new("example.org/log", 5, Hash([8; 32])).unwrap();
        let line = cosign(&other.body(), "w.example", &sk, 9).unwrap();
        let cosigned = add_signature_lines(&note, &line).unwrap();
        assert!(matches!(
            check_cosignatures(&cosigned, std::slice::from_ref(&w)).unwrap()[0],
            CosignatureCheck::Bad(_)
        ));
        // The timestamp is signed: changing it breaks the signature.
        let (_, body) = checkpoint();
        let line = cosign(&body, "w.example", &sk, 9).unwrap();
        let b64 = line.trim_end().rsplit(' ').next().unwrap();
        let mut raw = B64.decode(b64).unwrap();
        raw[11] ^= 1; // the low byte of the timestamp
        let forged = format!("\u{2014} w.example {}\n", B64.encode(raw));
        let cosigned = add_signature_lines(&note, &forged).unwrap();
        assert!(matches!(
            check_cosignatures(&cosigned, &[w]).unwrap()[0],
            CosignatureCheck::Bad(_)
        ));
    }

    #[test]
    fn a_log_key_is_not_a_witness_key_and_the_reverse() {
        let sk = SigningKey::from_bytes(&[4; 32]);
        let log = verifier_key("x.example", &sk.verifying_key());
        let cos = cosigner_vkey("x.example", &sk.verifying_key());
        assert!(parse_cosigner_key(&log).is_err());
        assert!(parse_verifier_key(&cos).is_err());
        // Same name and key, different type byte: different key ids.
        assert_ne!(log.split('+').nth(1), cos.split('+').nth(1));
    }

    #[test]
    fn the_signed_message_is_the_one_c2sp_shows() {
        let body =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert_eq!(
            cosigned_message(body, 1679315147),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn adding_the_same_line_twice_keeps_one() {
        let (note, body) = checkpoint();
        let (sk, _) = witness(2, "w.example");
        let line = cosign(&body, "w.example", &sk, 1).unwrap();
        let once = add_signature_lines(&note, &line).unwrap();
        assert_eq!(add_signature_lines(&once, &line).unwrap(), once);
        assert!(add_signature_lines(&note, "not a signature line\n").is_err());
    }
}
