//! A signed statement as an actor hands it to the recorder (SPEC section 3).
//!
//! The input is JSON in one of three shapes: the statement alone (6 keys), the statement
//! with its `sig` beside the six keys, or `{"statement": {...}, "sig": "..."}` (the
//! `Signed` pair). It goes through `parse_strict`, `Statement::from_value`, the
//! `issued_at` and key format checks, and `Statement::verify` with the vectors' actor
//! keys and any key the payload itself carries. Nothing may panic, and what SPEC
//! guarantees is asserted:
//! - a statement that parses re-serializes to the very value it came from (the signed
//!   bytes are `prefix || JCS(that value)`), and parses again to itself;
//! - a statement signed with a key verifies with that key's public half, and not once
//!   one byte of the signed statement changes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use waymark_events::{
    canonical_bytes, decode_public_key, is_date, is_timestamp, parse_strict, sign, Payload,
    Statement, SIGNED_PREFIX,
};
use waymark_fuzz::{actor_public_keys, fuzz_key_for};

fn split_signed(v: Value) -> (Value, Option<Value>) {
    match v {
        Value::Object(mut m) if m.contains_key("statement") && m.len() == 2 => {
            let sig = m.remove("sig");
            let st = m.remove("statement").unwrap_or(Value::Null);
            (st, sig)
        }
        Value::Object(mut m) if m.contains_key("sig") => {
            let sig = m.remove("sig");
            (Value::Object(m), sig)
        }
        v => (v, None),
    }
}

/// Every public key a payload names (founder, registered or rotated key).
fn payload_keys(p: &Payload) -> Vec<String> {
    match p {
        Payload::LedgerOpened(o) => vec![o.founder.public_key.clone()],
        Payload::ActorRegistered(a) => vec![a.public_key.clone()],
        Payload::ActorKeyRotated(a) => vec![a.public_key.clone()],
        _ => Vec::new(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = parse_strict(data) else {
        return;
    };
    let (stmt_value, sig) = split_signed(value);
    let Ok(st) = Statement::from_value(&stmt_value) else {
        return;
    };

    // Round trip: what the signer signed is exactly the value received.
    assert_eq!(
        st.to_value(),
        stmt_value,
        "statement does not re-serialize to its input"
    );
    assert_eq!(Statement::from_value(&st.to_value()).as_ref(), Ok(&st));
    let signed = st.signed_bytes();
    assert!(signed.starts_with(SIGNED_PREFIX));
    assert_eq!(
        &signed[SIGNED_PREFIX.len()..],
        canonical_bytes(&stmt_value).as_slice()
    );

    // Format checks the recorder runs on outside strings.
    let _ = is_timestamp(&st.issued_at);
    let mut keys: Vec<String> = actor_public_keys().to_vec();
    keys.extend(payload_keys(&st.payload));
    for k in &keys {
        let _ = decode_public_key(k);
    }
    match &st.payload {
        Payload::MilestoneStatusChanged(p) => {
            if let Some(d) = &p.effective_on {
                let _ = is_date(d);
            }
        }
        Payload::SeasonOpened(p) => {
            let _ = is_date(&p.starts_on);
        }
        Payload::SeasonReEvaluated(p) => {
            let _ = is_date(&p.ends_on);
        }
        _ => {}
    }

    // The received signature, whatever it is, against every key at hand.
    let sig_text = match &sig {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    for k in &keys {
        let _ = st.verify(&sig_text, k);
    }

    // Sign, then verify: must hold; and must fail for a changed statement.
    let key = fuzz_key_for(&st.actor);
    let public = waymark_events::encode_public_key(&key.verifying_key());
    let good = sign(&st, &key);
    assert_eq!(
        st.verify(&good, &public),
        Ok(()),
        "a fresh signature does not verify"
    );
    let mut other = st.clone();
    other.actor.push('x');
    assert!(
        other.verify(&good, &public).is_err(),
        "signature verifies for another statement"
    );

    // The `Signed` pair shape, rebuilt, parses back to the same statement.
    let mut pair = Map::new();
    pair.insert("statement".into(), st.to_value());
    pair.insert("sig".into(), Value::String(good));
    let (back, _) = split_signed(Value::Object(pair));
    assert_eq!(Statement::from_value(&back).as_ref(), Ok(&st));
});
