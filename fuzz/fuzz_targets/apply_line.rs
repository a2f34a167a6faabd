//! An `apply` file (SPEC section 10): JSON Lines of `{"as","type","payload","issued_at"?}`.
//!
//! `waymark`'s own `parse_apply_lines` (src/cli.rs) is crate-private, so this harness
//! repeats its steps with the same public pieces, in the same order: split on `\n`,
//! skip blank lines, `parse_strict`, the four allowed keys, `EventType` from `type`,
//! `Payload::from_value`, `issued_at` a string. Then it does what `apply` does next:
//! each line is signed by its actor and checked by the rules engine
//! (`LedgerState::check`), in order, each accepted statement applied before the next
//! one is checked (one batch, as `record` does). The ledger is the demo ledger
//! (fuzz/data/demo-export.jsonl) at two points, just after `init` (seq 31: framework
//! and actors, no status change) and at its head (seq 69), with every actor re-keyed
//! to `fuzz_key_for(actor)` so the harness can sign as any of them.
//!
//! Asserted (SPEC sections 3-5): a payload re-serializes to the value it came from; an
//! accepted statement, applied, becomes the head. (Rule 7, no replays, needs the store's
//! signature index, which `LedgerState` does not hold, so it is not asserted here.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::OnceLock;
use waymark_core::LedgerState;
use waymark_events::{
    encode_public_key, parse_strict, sign, Event, EventType, Hash, Payload, Statement,
};
use waymark_fuzz::{demo_events, fuzz_key_for};

const LEDGER: &str = "optimism";
const NOW: &str = "2030-01-01T00:00:00.000000Z";

fn states() -> &'static [LedgerState] {
    static STATES: OnceLock<Vec<LedgerState>> = OnceLock::new();
    STATES.get_or_init(|| {
        let mut out = Vec::new();
        let mut state = LedgerState::default();
        for (event, hash) in demo_events() {
            state.apply(event, *hash);
            if event.seq == 31 || event.seq == demo_events().len() as u64 {
                let mut s = state.clone();
                rekey(&mut s);
                out.push(s);
            }
        }
        assert_eq!(out.len(), 2);
        out
    })
}

fn rekey(state: &mut LedgerState) {
    for (name, actor) in state.actors.iter_mut() {
        actor.public_key = encode_public_key(&fuzz_key_for(name).verifying_key());
    }
}

struct Line {
    actor: String,
    payload: Payload,
    issued_at: Option<String>,
}

/// src/cli.rs `parse_apply_lines`, step for step; `None` where it returns an error.
fn parse_line(raw: &[u8]) -> Option<Line> {
    let v = parse_strict(raw).ok()?;
    let m = v.as_object()?;
    if m.keys()
        .any(|k| !["as", "type", "payload", "issued_at"].contains(&k.as_str()))
    {
        return None;
    }
    let text_of = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    let actor = text_of("as")?;
    let kind: EventType = text_of("type")?.parse().ok()?;
    let payload_value = m.get("payload")?;
    let payload = Payload::from_value(kind, payload_value).ok()?;
    assert_eq!(
        &payload.to_value(),
        payload_value,
        "payload does not round-trip"
    );
    assert_eq!(payload.event_type(), kind);
    let issued_at = match m.get("issued_at") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return None,
    };
    Some(Line {
        actor,
        payload,
        issued_at,
    })
}

fuzz_target!(|data: &[u8]| {
    let mut lines = Vec::new();
    for raw in data.split(|b| *b == b'\n') {
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(raw) {
            Some(l) => lines.push(l),
            None => return, // the whole file is refused, as `apply` does
        }
    }
    if lines.is_empty() || lines.len() > 16 {
        return;
    }
    for base in states() {
        let mut state = base.clone();
        for l in &lines {
            let issued_at = l.issued_at.clone().unwrap_or_else(|| NOW.to_string());
            let st = Statement::new(LEDGER, &l.actor, &issued_at, l.payload.clone());
            let sig = sign(&st, &fuzz_key_for(&l.actor));
            if state.check(LEDGER, &st, &sig).is_err() {
                break; // `apply` records none of the file
            }
            let head = state.head.clone();
            let event = Event {
                statement: st.clone(),
                seq: state.next_seq(),
                prev: head.as_ref().map_or(Hash::ZERO, |h| h.hash),
                recorded_at: head
                    .map(|h| h.recorded_at)
                    .filter(|r| r.as_str() > NOW)
                    .unwrap_or_else(|| NOW.to_string()),
                sig: sig.clone(),
            };
            let hash = event.hash();
            state.apply(&event, hash);
            assert_eq!(
                state.head.as_ref().map(|h| (h.seq, h.hash)),
                Some((event.seq, hash)),
                "the applied event is not the head"
            );
            rekey(&mut state); // actors registered or rotated by the file sign next
        }
    }
});
