//! The status vectors of `tests/vectors` reproduced after each event.

use serde_json::Value;
use waymark_events::{canonical_bytes, Event};
use waymark_projections::StatusFold;

#[test]
fn status_after_each_vector_event_is_jcs_equal_to_the_vector() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let v: Value =
        serde_json::from_slice(&std::fs::read(dir.join("vectors.json")).unwrap()).unwrap();
    let mut fold = StatusFold::new();
    for (i, e) in v["events"].as_array().unwrap().iter().enumerate() {
        let event = Event::from_value(&e["event"]).unwrap();
        fold.apply(&event, &event.hash());
        let expected = &v["status"][(i + 1).to_string()];
        assert_eq!(
            String::from_utf8(canonical_bytes(&fold.status())).unwrap(),
            String::from_utf8(canonical_bytes(expected)).unwrap(),
            "status after seq {}",
            i + 1
        );
    }
}
