//! Known-answer tests: `tests/vectors` (the known-answer vectors of docs/SPEC.md) reproduced byte for byte.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use serde_json::Value;
use waymark_events::*;

fn vectors_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn vectors() -> Value {
    let text = std::fs::read(vectors_dir().join("vectors.json")).unwrap();
    serde_json::from_slice(&text).unwrap()
}

fn key(v: &Value, who: &str) -> SigningKey {
    let seed = hex::decode(v["keys"][who]["secret_seed_hex"].as_str().unwrap()).unwrap();
    SigningKey::from_bytes(&seed.try_into().unwrap())
}

#[test]
fn public_keys_and_log_verifier_key_derive_from_the_seeds() {
    let v = vectors();
    for who in ["alice", "bob"] {
        assert_eq!(
            encode_public_key(&key(&v, who).verifying_key()),
            v["keys"][who]["public_key"]
        );
    }
    let log = key(&v, "log");
    assert_eq!(
        verifier_key("waymark.example/optimism", &log.verifying_key()),
        v["keys"]["log"]["verifier_key"]
    );
    let parsed = parse_verifier_key(v["keys"]["log"]["verifier_key"].as_str().unwrap()).unwrap();
    assert_eq!(parsed.key, log.verifying_key());
}

#[test]
fn every_signed_byte_leaf_byte_signature_and_hash_is_reproduced() {
    let v = vectors();
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), 4);
    let mut prev = Hash::ZERO;
    for (i, e) in events.iter().enumerate() {
        let event = Event::from_value(&e["event"]).unwrap();
        assert_eq!(event.seq, i as u64 + 1);
        assert_eq!(event.prev, prev);
        let signed = B64.decode(e["signed_bytes_b64"].as_str().unwrap()).unwrap();
        assert_eq!(
            event.statement.signed_bytes(),
            signed,
            "signed bytes of seq {}",
            i + 1
        );
        let leaf = B64.decode(e["leaf_bytes_b64"].as_str().unwrap()).unwrap();
        assert_eq!(event.leaf_bytes(), leaf, "leaf bytes of seq {}", i + 1);
        assert_eq!(event.hash().to_hex(), e["hash"], "hash of seq {}", i + 1);
        // Signing the same statement with the actor's seed gives the same signature.
        let sig = sign(&event.statement, &key(&v, &event.statement.actor));
        assert_eq!(sig, event.sig);
        let pk = v["keys"][event.statement.actor.as_str()]["public_key"]
            .as_str()
            .unwrap();
        event.statement.verify(&event.sig, pk).unwrap();
        prev = event.hash();
    }
}

#[test]
fn export_lines_are_reproduced_byte_for_byte() {
    let export = std::fs::read(vectors_dir().join("export.jsonl")).unwrap();
    let mut rebuilt = Vec::new();
    for line in export.split_inclusive(|b| *b == b'\n') {
        let value = parse_strict(&line[..line.len() - 1]).unwrap();
        let (event, hash) = Event::from_export_value(&value).unwrap();
        assert_eq!(event.hash(), hash);
        rebuilt.extend(event.export_line(&hash));
    }
    assert_eq!(rebuilt, export);
}

/// What a single changed byte must run into: the line no longer parses, is no longer
/// canonical, no longer hashes to its `hash`, or its signature no longer verifies.
fn line_is_genuine(line: &[u8], keys: &Value) -> bool {
    let Some(body) = line.strip_suffix(b"\n") else {
        return false;
    };
    let Ok(value) = parse_strict(body) else {
        return false;
    };
    let Ok((event, hash)) = Event::from_export_value(&value) else {
        return false;
    };
    if event.export_line(&hash) != line || event.hash() != hash {
        return false;
    }
    let Some(pk) = keys[event.statement.actor.as_str()]["public_key"].as_str() else {
        return false;
    };
    event.statement.verify(&event.sig, pk).is_ok()
}

#[test]
fn any_single_changed_byte_of_an_event_is_caught() {
    let v = vectors();
    let export = std::fs::read(vectors_dir().join("export.jsonl")).unwrap();
    let mut checked = 0;
    for line in export.split_inclusive(|b| *b == b'\n') {
        assert!(line_is_genuine(line, &v["keys"]));
        for pos in 0..line.len() {
            for delta in [1u8, 0x20, 0x80] {
                let mut bad = line.to_vec();
                bad[pos] ^= delta;
                assert!(
                    !line_is_genuine(&bad, &v["keys"]),
                    "byte {pos} ^ {delta:#x} of {} went unnoticed",
                    String::from_utf8_lossy(line)
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 5000);
}
