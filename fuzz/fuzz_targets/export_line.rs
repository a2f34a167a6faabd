//! Export lines (SPEC section 7): `JCS(event ∪ {"hash"})` and `\n`, one per line, read
//! by `verify-offline` and any independent verifier.
//!
//! Each line of the input goes through `parse_strict`, `Event::from_export_value`,
//! `hash()` and `export_line`. Asserted (SPEC sections 4 and 7):
//! - a line that parses gives back the same JSON value (event ∪ {"hash"}): no field is
//!   dropped, renamed or normalised on the way through;
//! - the leaf bytes are JCS of the event without `hash`, and `hash()` is their leaf hash;
//! - when the line was canonical (its bytes are JCS of its value), `export_line` writes
//!   the identical bytes back.
//! The claimed `hash` is not asserted to match (a tampered export parses; `verify`
//! catches it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use waymark_events::{canonical_bytes, is_timestamp, leaf_hash, parse_strict, Event};

fn check_line(line: &[u8]) {
    let Ok(value) = parse_strict(line) else {
        return;
    };
    let Ok((event, claimed)) = Event::from_export_value(&value) else {
        return;
    };
    let _ = is_timestamp(&event.recorded_at);
    let _ = is_timestamp(&event.statement.issued_at);

    // The event object without `hash` is what the leaf bytes and the hash cover.
    let mut without_hash = value.clone();
    if let Value::Object(m) = &mut without_hash {
        m.remove("hash");
    }
    assert_eq!(
        event.to_value(),
        without_hash,
        "event does not re-serialize to its input"
    );
    assert_eq!(Event::from_value(&without_hash).as_ref(), Ok(&event));
    let leaf = event.leaf_bytes();
    assert_eq!(leaf, canonical_bytes(&without_hash));
    let hash = event.hash();
    assert_eq!(hash, leaf_hash(&leaf));

    // Re-export with the claimed hash: same value, and same bytes for canonical input.
    let out = event.export_line(&claimed);
    assert_eq!(out.last(), Some(&b'\n'));
    let body = &out[..out.len() - 1];
    assert_eq!(parse_strict(body).as_ref(), Ok(&value));
    let canonical = canonical_bytes(&value);
    assert_eq!(body, canonical.as_slice());
    if line == canonical.as_slice() {
        assert_eq!(
            body, line,
            "canonical export line does not round-trip byte for byte"
        );
    }
    if claimed == hash {
        assert_eq!(event.export_line(&hash), out);
    }
}

fuzz_target!(|data: &[u8]| {
    for line in data.split(|b| *b == b'\n') {
        if !line.is_empty() {
            check_line(line);
        }
    }
});
