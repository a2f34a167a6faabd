//! SPEC v1.1 section 2's date grammar against the shared table in
//! `tests/vectors/time-grammar.json`, which the independent Python verifier reads too.

use serde_json::Value;

fn table() -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/time-grammar.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn strings<'a>(v: &'a Value, kind: &str, verdict: &str) -> Vec<&'a str> {
    let list: Vec<&str> = v[kind][verdict]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(!list.is_empty(), "{kind}.{verdict} is empty");
    list
}

#[test]
fn timestamps_follow_the_shared_table() {
    let t = table();
    for s in strings(&t, "timestamps", "good") {
        assert!(waymark_events::is_timestamp(s), "{s:?} must be accepted");
    }
    for s in strings(&t, "timestamps", "bad") {
        assert!(!waymark_events::is_timestamp(s), "{s:?} must be refused");
    }
}

#[test]
fn dates_follow_the_shared_table() {
    let t = table();
    for s in strings(&t, "dates", "good") {
        assert!(waymark_events::is_date(s), "{s:?} must be accepted");
    }
    for s in strings(&t, "dates", "bad") {
        assert!(!waymark_events::is_date(s), "{s:?} must be refused");
    }
}
