//! `waymark_events::PreparedKey` against `VerifyingKey::verify_strict` (issue 17,
//! goal 5): on any key, signature and message, both give the same verdict.
//!
//! Input: 32 bytes of public key, 64 bytes of signature, the rest is the message.
//! Building a key's table costs ~0.8 ms, so the previous input's key is kept and
//! reused while the input keeps it (libFuzzer mutates the signature and message
//! more often than all 32 key bytes).
#![no_main]

use ed25519_dalek::{Signature, VerifyingKey};
use libfuzzer_sys::fuzz_target;
use std::sync::Mutex;
use waymark_events::PreparedKey;

static LAST: Mutex<Option<PreparedKey>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    if data.len() < 96 {
        return;
    }
    let key: [u8; 32] = data[..32].try_into().unwrap();
    let sig: [u8; 64] = data[32..96].try_into().unwrap();
    let msg = &data[96..];
    let Ok(vk) = VerifyingKey::from_bytes(&key) else {
        return;
    };
    let sig = Signature::from_bytes(&sig);
    let strict = vk.verify_strict(msg, &sig).is_ok();
    let mut last = LAST.lock().unwrap();
    if last.as_ref().map(|p| p.key().as_bytes()) != Some(&key) {
        *last = Some(PreparedKey::new(&vk));
    }
    let prepared = last.as_ref().unwrap().verify(msg, &sig);
    assert_eq!(
        strict, prepared,
        "verify_strict {strict}, PreparedKey {prepared}"
    );
});
