//! The hand-written RFC 8785 writer against `serde_jcs` on random JSON values: same
//! bytes, for every value a statement or event can hold and more (any string, keys
//! that sort differently in UTF-16 and in UTF-8, deep nesting).

use proptest::prelude::*;
use serde_json::{Map, Value};
use waymark_events::{canonical_bytes, canonical_value};

fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        // Controls, quotes, backslashes, DEL, U+2028, BMP above the surrogates, and
        // characters beyond U+FFFF (which JCS orders by their UTF-16 surrogates).
        proptest::collection::vec(
            prop_oneof![
                (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap_or('a')),
                Just('"'),
                Just('\\'),
                Just('\u{7f}'),
                Just('\u{2028}'),
                Just('\u{e9}'),
                Just('\u{ff61}'),
                Just('\u{fffd}'),
                Just('\u{1f600}'),
                Just('\u{10348}'),
                proptest::char::range('a', 'e'),
            ],
            0..6
        )
        .prop_map(|cs| cs.into_iter().collect()),
        ".{0,8}",
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53)..(1i64 << 53)).prop_map(Value::from),
        any_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((any_string(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn canonical_writer_equals_serde_jcs(v in any_json()) {
        let reference = serde_jcs::to_vec(&v).unwrap();
        prop_assert_eq!(&canonical_value(&v), &reference);
        prop_assert_eq!(&canonical_bytes(&v), &reference);
    }
}

#[test]
fn members_are_ordered_by_utf16_code_units_not_code_points() {
    // U+FF61 is above the surrogates, U+1F600 is encoded with them: JCS puts the
    // emoji first, code-point order would put it last.
    let v: Value = serde_json::json!({"\u{ff61}": 1, "\u{1f600}": 2, "a": 3});
    let out = String::from_utf8(canonical_value(&v)).unwrap();
    assert_eq!(out, "{\"a\":3,\"\u{1f600}\":2,\"\u{ff61}\":1}");
}

/// The event writers that skip building a `Value` (`leaf_bytes`, `export_line`,
/// `Statement::canonical`) against the generic writer, on every event of the shared
/// vectors. (Every other event type is covered by the independent Python verifier,
/// which recomputes each hash with its own RFC 8785 library over the demo export.)
#[test]
fn event_writers_equal_the_generic_canonical_writer() {
    use waymark_events::Event;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let export = std::fs::read(dir.join("export.jsonl")).unwrap();
    let mut types = std::collections::BTreeSet::new();
    for line in export.split_inclusive(|b| *b == b'\n') {
        let value: Value = serde_json::from_slice(line).unwrap();
        let (event, hash) = Event::from_export_value(&value).unwrap();
        types.insert(event.statement.event_type().as_str().to_string());
        assert_eq!(event.leaf_bytes(), canonical_value(&event.to_value()));
        assert_eq!(
            event.statement.canonical(),
            canonical_value(&event.statement.to_value())
        );
        assert_eq!(event.export_line(&hash), line);
        assert_eq!(event.hash(), hash);
    }
    assert!(types.len() >= 4, "the vectors cover {types:?}");
}
