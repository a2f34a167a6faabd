//! Log-key verifier strings of C2SP signed-note: `<name>+<8 hex key id>+<base64(0x01 || key)>`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

/// Algorithm byte of Ed25519 note keys.
const ALG_ED25519: u8 = 0x01;

/// Key id: the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key).
pub fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// Whether `name` may name a note key (C2SP signed-note, Go's `note.isValidName`): non-empty,
/// with no Unicode white space and no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(char::is_whitespace) && !name.contains('+')
}

/// The verifier string that `LedgerOpened.log_key` carries.
pub fn verifier_key(name: &str, key: &VerifyingKey) -> String {
    vkey_string(name, ALG_ED25519, key_id(name, key), key)
}

/// A parsed verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub id: [u8; 4],
    pub key: VerifyingKey,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed verifier key: {0}")]
pub struct VerifierKeyError(pub &'static str);

/// Parses `<name>+<hex id>+<base64>` and checks that the id matches the key.
pub fn parse_verifier_key(text: &str) -> Result<VerifierKey, VerifierKeyError> {
    let (name, id, key) = parse_vkey(text, ALG_ED25519, key_id)?;
    Ok(VerifierKey { name, id, key })
}

/// A signed-note verifier key string, `<name>+<hex key id>+<base64(alg || key)>`, for
/// key type `alg` (0x01 log keys here, 0x04 witness keys in `cosignature.rs`).
pub(crate) fn vkey_string(name: &str, alg: u8, id: [u8; 4], key: &VerifyingKey) -> String {
    let mut raw = vec![alg];
    raw.extend_from_slice(key.as_bytes());
    format!("{name}+{}+{}", hex::encode(id), B64.encode(raw))
}

/// Parses a verifier key string of key type `alg` (an Ed25519 key), checking that its
/// id is `id_of(name, key)`.
pub(crate) fn parse_vkey(
    text: &str,
    alg: u8,
    id_of: fn(&str, &VerifyingKey) -> [u8; 4],
) -> Result<(String, [u8; 4], VerifyingKey), VerifierKeyError> {
    // The name holds no '+', but the base64 key may: split from the left.
    let mut parts = text.splitn(3, '+');
    let (name, id_hex, b64) = match (parts.next(), parts.next(), parts.next()) {
        (Some(n), Some(i), Some(b)) => (n, i, b),
        _ => return Err(VerifierKeyError("expected name+keyid+key")),
    };
    if !is_valid_key_name(name) || name.chars().any(|c| c < ' ') {
        return Err(VerifierKeyError("bad key name"));
    }
    let mut id = [0u8; 4];
    if id_hex.len() != 8 || hex::decode_to_slice(id_hex, &mut id).is_err() {
        return Err(VerifierKeyError("key id is not 8 hex digits"));
    }
    let raw = B64
        .decode(b64)
        .map_err(|_| VerifierKeyError("key is not base64"))?;
    if raw.len() != 33 || raw[0] != alg {
        return Err(VerifierKeyError(if alg == ALG_ED25519 {
            "key is not an Ed25519 (0x01) key"
        } else {
            "key is not a cosignature/v1 (Ed25519, type 0x04) key"
        }));
    }
    let arr: [u8; 32] = raw[1..]
        .try_into()
        .map_err(|_| VerifierKeyError("key length"))?;
    let key =
        VerifyingKey::from_bytes(&arr).map_err(|_| VerifierKeyError("invalid Ed25519 key"))?;
    if id_of(name, &key) != id {
        return Err(VerifierKeyError("key id does not match the key"));
    }
    Ok((name.to_string(), id, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn verifier_keys_round_trip_even_when_the_base64_holds_a_plus() {
        let mut with_plus = 0;
        for i in 0..64u8 {
            let key = SigningKey::from_bytes(&[i; 32]).verifying_key();
            let text = verifier_key("example.org/log", &key);
            with_plus += usize::from(text.rsplit('+').next().unwrap().len() < 44);
            let parsed = parse_verifier_key(&text).unwrap();
            assert_eq!((parsed.name.as_str(), parsed.key), ("example.org/log", key));
        }
        assert!(with_plus > 0, "no sample key had a '+' in its base64");
    }

    #[test]
    fn a_verifier_key_with_a_wrong_id_is_refused() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let text = verifier_key("example.org/log", &key).replacen("+", "+0", 1);
        assert!(parse_verifier_key(&text).is_err());
        let other = verifier_key("example.org/other", &key);
        let (_, rest) = other.split_once('+').unwrap();
        assert!(parse_verifier_key(&format!("example.org/log+{rest}")).is_err());
    }
}
