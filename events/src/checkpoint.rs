//! Checkpoints (SPEC section 6): a C2SP `tlog-checkpoint` body signed as a C2SP
//! `signed-note` with the ledger's log key.
//!
//! ```text
//! <origin>\n<tree size>\n<base64 root>\n
//! \n
//! — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>\n
//! ```
//!
//! Opening a note follows Go's `golang.org/x/mod/sumdb/note.Open` rule for rule (valid
//! UTF-8, no control characters but newline, the text separated from the signatures by
//! the last blank line, every signature line well formed, at most 100 of them, unknown
//! keys ignored, a failing signature by the known key rejecting the whole note), so a
//! note this module opens, Go opens too, and the reverse; it adds an overall size
//! limit and Ed25519's strict verification (no malleable or small-order signatures).
//!
//! Why not a crate: the signed-note crates on crates.io either pull in a second
//! Ed25519 stack or do not follow Go's parsing rules exactly; the format is a few
//! lines over `ed25519-dalek`, `sha2` and `base64`, which this crate already uses.

use crate::hash::Hash;
use crate::note::{is_valid_key_name, key_id, VerifierKey};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey};

/// The largest note [`open_note`] reads, in bytes. C2SP signed-note asks verifiers to
/// limit a note's size or signature count while accepting at least 16 signatures of up
/// to about 5 kB each (post-quantum); 256 KiB leaves room for that.
pub const MAX_NOTE_BYTES: usize = 256 * 1024;

/// The most signature lines a note may carry (Go's `note.Open` limit).
pub const MAX_SIGNATURES: usize = 100;

/// The start of every signature line: an em dash (U+2014) and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a signed note or a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note is longer than [`MAX_NOTE_BYTES`].
    #[error("note is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The note is not a well-formed signed note: not UTF-8, a control character, no
    /// blank line before the signatures, or a malformed signature line.
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    /// The note has more than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {limit} signatures")]
    TooManySignatures { limit: usize },
    /// A key name that signed-note does not allow (empty, white space or `+`).
    #[error("invalid key name {0:?}")]
    InvalidKeyName(String),
    /// No signature line names the given key (key name and key id): the note was not
    /// signed by it. Signatures by other keys are ignored.
    #[error("note has no signature by the given key")]
    UnknownKey,
    /// A signature line names the given key but its signature does not verify.
    #[error("note signature by the given key does not verify")]
    BadSignature,
    /// The note text is not a checkpoint body: too few lines, an empty line, no final
    /// newline or a control character.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// The tree size line is not a decimal `u64` without sign or leading zeros.
    #[error("checkpoint tree size {0:?} is not a decimal number without leading zeros")]
    BadTreeSize(String),
    /// The root hash line is not standard base64 of exactly 32 bytes.
    #[error("checkpoint root {0:?} is not base64 of 32 bytes")]
    BadRootHash(String),
    /// The checkpoint's origin is not the name of the key that signed it.
    #[error("checkpoint origin {origin:?} is not the key name {key_name:?}")]
    WrongOrigin { origin: String, key_name: String },
}

/// A checkpoint body: the log's origin, its tree size and its Merkle root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// A checkpoint whose origin can name its signing key (see [`is_valid_key_name`]).
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Result<Self, NoteError> {
        let origin = origin.into();
        if !is_valid_key_name(&origin) || has_control(&origin) {
            return Err(NoteError::InvalidKeyName(origin));
        }
        Ok(Checkpoint { origin, size, root })
    }

    /// The note text: `<origin>\n<size>\n<base64 root>\n`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root.0)
        )
    }

    /// Parses a checkpoint body (C2SP tlog-checkpoint): at least three non-empty lines,
    /// each ending in a newline; the origin, the tree size in decimal (no sign, no
    /// leading zeros unless it is `0`) and the root as standard base64 of 32 bytes.
    /// Extension lines after the root are allowed and ignored.
    pub fn parse_body(text: &str) -> Result<Checkpoint, NoteError> {
        let Some(inner) = text.strip_suffix('\n') else {
            return Err(NoteError::MalformedCheckpoint(
                "body does not end in a newline",
            ));
        };
        if has_control(inner) {
            return Err(NoteError::MalformedCheckpoint("control character in body"));
        }
        let lines: Vec<&str> = inner.split('\n').collect();
        if lines.len() < 3 {
            return Err(NoteError::MalformedCheckpoint(
                "body needs origin, tree size and root lines",
            ));
        }
        if lines.iter().any(|l| l.is_empty()) {
            return Err(NoteError::MalformedCheckpoint("empty line in body"));
        }
        let size = parse_size(lines[1]).ok_or_else(|| NoteError::BadTreeSize(lines[1].into()))?;
        let root = parse_root(lines[2]).ok_or_else(|| NoteError::BadRootHash(lines[2].into()))?;
        Ok(Checkpoint {
            origin: lines[0].to_string(),
            size,
            root,
        })
    }
}

pub(crate) fn has_control(s: &str) -> bool {
    s.chars().any(|c| c < ' ' && c != '\n')
}

/// ASCII decimal, no sign, no leading zeros (except `0` itself), within `u64`.
fn parse_size(line: &str) -> Option<u64> {
    let digits = !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit());
    if !digits || (line.len() > 1 && line.starts_with('0')) {
        return None;
    }
    line.parse().ok()
}

/// Standard base64 with padding (canonical: the engine refuses stray trailing bits).
fn parse_root(line: &str) -> Option<Hash> {
    let raw = B64.decode(line).ok()?;
    Some(Hash(raw.try_into().ok()?))
}

/// Signs `text` as a C2SP signed note: the text, a blank line, then one signature line
/// per signer, in order. The text must end in a newline and hold no control character
/// but newline; each key name must be a valid key name.
pub fn sign_note(text: &str, signers: &[(&str, &SigningKey)]) -> Result<String, NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("note text does not end in a newline"));
    }
    if has_control(text) {
        return Err(NoteError::Malformed("control character in note text"));
    }
    let mut out = String::with_capacity(text.len() + 1 + 110 * signers.len());
    out.push_str(text);
    out.push('\n');
    for (name, key) in signers {
        if !is_valid_key_name(name) || has_control(name) {
            return Err(NoteError::InvalidKeyName(name.to_string()));
        }
        let mut raw = key_id(name, &key.verifying_key()).to_vec();
        raw.extend_from_slice(&key.sign(text.as_bytes()).to_bytes());
        out.push_str(&signature_line(name, &raw));
    }
    Ok(out)
}

/// Signs a checkpoint with the log key, named by the checkpoint's origin.
///
/// # Panics
///
/// If the origin is not a valid key name (empty, or holding white space, `+` or a
/// control character); [`Checkpoint::new`] refuses such origins.
pub fn sign_checkpoint(cp: &Checkpoint, signing_key: &SigningKey) -> String {
    match sign_note(&cp.body(), &[(&cp.origin, signing_key)]) {
        Ok(note) => note,
        Err(e) => panic!("cannot sign checkpoint: {e}"),
    }
}

/// Opens a signed note with one verifier key, as Go's `note.Open` with that key alone,
/// and gives back its text (up to and including the newline before the blank line).
///
/// The note must be valid UTF-8 with no control character but newline, at most
/// [`MAX_NOTE_BYTES`] long; the text is everything up to the last blank line, and every
/// line after it must be a signature line (`— <name> <base64>`, the base64 decoding
/// to a 4-byte key id and at least one more byte) ending in a newline, at most
/// [`MAX_SIGNATURES`] of them. Signature lines whose name and key id are not the given
/// key's are ignored; the first one that is the given key's must verify (else
/// [`NoteError::BadSignature`]), and there must be one (else [`NoteError::UnknownKey`]).
pub fn open_note<'a>(note: &'a str, key: &VerifierKey) -> Result<&'a str, NoteError> {
    let (text, sigs) = split_note(note)?;
    // Go checks only the first signature line of a known key; other keys' lines are
    // ignored, as signed-note requires.
    let Some(line) = sigs.iter().find(|l| l.name == key.name && l.id() == key.id) else {
        return Err(NoteError::UnknownKey);
    };
    let sig: [u8; 64] = line.raw[4..]
        .try_into()
        .map_err(|_| NoteError::BadSignature)?;
    key.key
        .verify_strict(text.as_bytes(), &Signature::from_bytes(&sig))
        .map_err(|_| NoteError::BadSignature)?;
    Ok(text)
}

/// One signature line of a signed note: the key name and the decoded bytes (a 4-byte
/// key id, then the signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature<'a> {
    pub name: &'a str,
    pub raw: Vec<u8>,
}

impl NoteSignature<'_> {
    /// The 4-byte key id the line names.
    pub fn id(&self) -> [u8; 4] {
        [self.raw[0], self.raw[1], self.raw[2], self.raw[3]]
    }
}

/// Splits a signed note into its text (up to and including the newline before the
/// last blank line) and its signature lines, checking the note's form as [`open_note`]
/// describes, without checking any signature.
pub fn split_note(note: &str) -> Result<(&str, Vec<NoteSignature<'_>>), NoteError> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(NoteError::TooLarge {
            limit: MAX_NOTE_BYTES,
        });
    }
    if has_control(note) {
        return Err(NoteError::Malformed("control character in note"));
    }
    let Some(split) = note.rfind("\n\n") else {
        return Err(NoteError::Malformed(
            "no blank line between text and signatures",
        ));
    };
    let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
    if sigs.is_empty() {
        return Err(NoteError::Malformed(
            "no signature lines after the blank line",
        ));
    }
    if !sigs.ends_with('\n') {
        return Err(NoteError::Malformed("signatures do not end in a newline"));
    }
    let mut out = Vec::new();
    for (count, line) in sigs.split_terminator('\n').enumerate() {
        out.push(parse_signature_line(line)?);
        if count + 1 > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                limit: MAX_SIGNATURES,
            });
        }
    }
    Ok((text, out))
}

/// Parses one signature line without its newline: `— <name> <base64>`, the base64
/// decoding to a 4-byte key id and at least one more byte.
pub fn parse_signature_line(line: &str) -> Result<NoteSignature<'_>, NoteError> {
    let Some(line) = line.strip_prefix(SIG_PREFIX) else {
        return Err(NoteError::Malformed(
            "signature line does not start with an em dash and a space",
        ));
    };
    let (name, b64) = line.split_once(' ').unwrap_or((line, ""));
    let raw = B64
        .decode(b64)
        .map_err(|_| NoteError::Malformed("signature is not base64"))?;
    if !is_valid_key_name(name) || b64.is_empty() || raw.len() < 5 {
        return Err(NoteError::Malformed("bad signature line"));
    }
    Ok(NoteSignature { name, raw })
}

/// A signature line for `name` over `raw` (key id then signature), with its newline.
pub(crate) fn signature_line(name: &str, raw: &[u8]) -> String {
    format!("{SIG_PREFIX}{name} {}\n", B64.encode(raw))
}

/// [`open_checkpoint`] over raw bytes, refusing invalid UTF-8 as malformed.
pub fn open_checkpoint_bytes(note: &[u8], key: &VerifierKey) -> Result<Checkpoint, NoteError> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(NoteError::TooLarge {
            limit: MAX_NOTE_BYTES,
        });
    }
    let text = std::str::from_utf8(note).map_err(|_| NoteError::Malformed("note is not UTF-8"))?;
    open_checkpoint(text, key)
}

/// Opens a signed checkpoint with the log's verifier key: the note must open with the
/// key ([`open_note`]), its text must be a checkpoint body ([`Checkpoint::parse_body`])
/// and its origin must be the key's name.
pub fn open_checkpoint(note: &str, key: &VerifierKey) -> Result<Checkpoint, NoteError> {
    let text = open_note(note, key)?;
    let cp = Checkpoint::parse_body(text)?;
    if cp.origin != key.name {
        return Err(NoteError::WrongOrigin {
            origin: cp.origin,
            key_name: key.name.clone(),
        });
    }
    Ok(cp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::{parse_verifier_key, verifier_key};

    // The example of Go's x/mod/sumdb/note package documentation, verbatim.
    #[test]
    fn go_note_package_example_opens() {
        let vkey = parse_verifier_key(
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        )
        .unwrap();
        let text = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
        let msg = format!("{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n");
        assert_eq!(open_note(&msg, &vkey), Ok(text));
        // And signing reproduces it from the example's secret key seed.
        let seed = B64
            .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
            .unwrap();
        let sk = SigningKey::from_bytes(&seed[1..].try_into().unwrap());
        assert_eq!(
            verifier_key("PeterNeumann", &sk.verifying_key()),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        );
        assert_eq!(sign_note(text, &[("PeterNeumann", &sk)]).unwrap(), msg);
    }

    #[test]
    fn sizes_are_strict_decimal() {
        for ok in ["0", "1", "10", "18446744073709551615"] {
            assert!(parse_size(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "00",
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "0x1",
            "18446744073709551616",
            "１",
        ] {
            assert!(parse_size(bad).is_none(), "{bad:?}");
        }
    }
}
