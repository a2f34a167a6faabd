//! Signed notes and checkpoints (SPEC section 6, C2SP signed-note and tlog-checkpoint):
//! `open_checkpoint_bytes`, `open_checkpoint`, `open_note` with two fixed log verifier
//! keys (the vectors' and the demo ledger's), `Checkpoint::parse_body` on the raw text,
//! and `parse_verifier_key` on the whole input and on each of its lines.
//!
//! Asserted:
//! - an opened note's text is a prefix of the note, ending in a newline;
//! - an opened checkpoint is the body's parse, with the key's name as origin;
//! - a body of exactly three lines that parses re-serializes to the same text
//!   (`Checkpoint::body`): sizes are strict decimal and roots canonical base64;
//! - a parsed body whose origin is a valid key name, signed with the vectors' log key
//!   under that name, opens again to the same checkpoint;
//! - a parsed verifier key re-serializes (`verifier_key`) to a string that parses to it.
#![no_main]

use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;
use waymark_events::{
    is_valid_key_name, open_checkpoint, open_checkpoint_bytes, open_note, parse_verifier_key,
    sign_checkpoint, verifier_key, Checkpoint,
};
use waymark_fuzz::{log_keys, vectors_log_signer};

fn check_verifier_key(text: &str) {
    if let Ok(k) = parse_verifier_key(text) {
        let again = verifier_key(&k.name, &k.key);
        assert_eq!(parse_verifier_key(&again).as_ref(), Ok(&k));
    }
}

fuzz_target!(|data: &[u8]| {
    for key in log_keys() {
        let from_bytes = open_checkpoint_bytes(data, key);
        if let Ok(text) = std::str::from_utf8(data) {
            assert_eq!(open_checkpoint(text, key), from_bytes);
            if let Ok(body) = open_note(text, key) {
                assert!(text.starts_with(body) && body.ends_with('\n'));
                if let Ok(cp) = &from_bytes {
                    assert_eq!(Checkpoint::parse_body(body).as_ref(), Ok(cp));
                    assert_eq!(cp.origin, key.name);
                }
            }
        }
    }

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_verifier_key(text);
    for line in text.lines().take(8) {
        check_verifier_key(line);
    }

    if let Ok(cp) = Checkpoint::parse_body(text) {
        if text.matches('\n').count() == 3 {
            assert_eq!(
                cp.body(),
                text,
                "three-line checkpoint body does not round-trip"
            );
        }
        if is_valid_key_name(&cp.origin) && text.len() < 64 * 1024 {
            let signer: SigningKey = vectors_log_signer();
            let fresh = Checkpoint::new(cp.origin.clone(), cp.size, cp.root)
                .expect("parsed origin is a valid key name");
            let note = sign_checkpoint(&fresh, &signer);
            let vkey = parse_verifier_key(&verifier_key(&cp.origin, &signer.verifying_key()))
                .expect("fresh verifier key parses");
            assert_eq!(open_checkpoint(&note, &vkey), Ok(fresh));
        }
    }
});
