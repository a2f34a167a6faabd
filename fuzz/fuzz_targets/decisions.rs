//! SPEC section 13's eight payloads, judged against a ledger that has bodies and
//! decisions: the frozen v1.1 vector ledger (`fuzz/data/v1.1-decisions.jsonl`, a copy
//! of `tests/vectors/v1.1-decisions.jsonl`), replayed into the rule state and the
//! status fold once.
//!
//! The input's first byte picks the type; the rest is its payload as JSON. It goes
//! through `parse_strict` and `Payload::from_value`, and a payload that parses is
//! signed by the vector's founder (a steward), judged by `LedgerState::judge` (rules
//! 0–12) and, when accepted, applied to the rule state and folded into the status.
//! Nothing may panic, and:
//! - a payload that parses re-serializes to the very value it came from (no key
//!   dropped, added or reordered; optional keys absent, never null);
//! - judging is deterministic, and an accepted statement moves the head by one;
//! - the status after it serializes, and keeps `authority` counts consistent with
//!   its `decisions` list.
#![no_main]

use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use waymark_core::LedgerState;
use waymark_events::{format_timestamp, parse_strict, sign, Event, EventType, Payload, Statement};
use waymark_fuzz::ALICE_SEED;
use waymark_projections::StatusFold;

const TYPES: [EventType; 8] = [
    EventType::BodyDefined,
    EventType::BodyRevised,
    EventType::BodyRetired,
    EventType::DecisionDefined,
    EventType::DecisionRevised,
    EventType::AuthorityTransferred,
    EventType::HypothesisStated,
    EventType::HypothesisConcluded,
];

/// The vector ledger's events with their hashes, the rule state and the status fold
/// after them.
fn base() -> &'static (Vec<(Event, waymark_events::Hash)>, LedgerState, StatusFold) {
    static BASE: OnceLock<(Vec<(Event, waymark_events::Hash)>, LedgerState, StatusFold)> =
        OnceLock::new();
    BASE.get_or_init(|| {
        let mut events = Vec::new();
        let mut state = LedgerState::default();
        let mut fold = StatusFold::new();
        for line in include_str!("../data/v1.1-decisions.jsonl").lines() {
            let v = parse_strict(line.as_bytes()).expect("vector line parses");
            let (e, h) = Event::from_export_value(&v).expect("vector event");
            state.apply(&e, h);
            fold.apply(&e, &h);
            events.push((e, h));
        }
        (events, state, fold)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let kind = TYPES[pick as usize % TYPES.len()];
    let Ok(value) = parse_strict(rest) else {
        return;
    };
    let Ok(payload) = Payload::from_value(kind, &value) else {
        return;
    };
    assert_eq!(payload.to_value(), value, "a parsed payload is its input");
    assert_eq!(payload.event_type(), kind);

    let (events, state, fold) = base();
    let (last, last_hash) = events.last().expect("the vector has events");
    let ledger = last.statement.ledger.clone();
    let founder = SigningKey::from_bytes(&ALICE_SEED);
    let at = format_timestamp(1_900_000_000_000_000);
    let statement = Statement::new(&ledger, &state.founder, &at, payload);
    let sig = sign(&statement, &founder);
    let verdict = state.judge(&ledger, &statement, &sig, None);
    assert_eq!(
        verdict.is_ok(),
        state.judge(&ledger, &statement, &sig, None).is_ok(),
        "judging is deterministic"
    );
    if verdict.is_err() {
        return;
    }
    let event = Event {
        statement,
        seq: last.seq + 1,
        prev: *last_hash,
        recorded_at: at,
        sig,
    };
    let hash = event.hash();
    let mut after = state.clone();
    after.apply(&event, hash);
    assert_eq!(after.head.as_ref().map(|h| h.seq), Some(last.seq + 1));
    let mut status = fold.clone();
    status.apply(&event, &hash);
    let status = status.status();
    serde_json::to_vec(&status).expect("the status serializes");
    if let (Some(a), Some(d)) = (&status.authority, &status.decisions) {
        assert_eq!(a.decisions as usize, d.len(), "authority counts its decisions");
        assert!(a.at_target <= a.decisions && a.foundation_decides <= a.decisions);
    }
});
