//! Fixed keys, roots and ledger data shared by the fuzz targets.
//!
//! Everything here is built once (`OnceLock`) from data embedded at compile time:
//! the known-answer vectors' keys (tests/vectors/README.md: actor seeds 0x01.. and
//! 0x02.., log seed 0x03..) and a copy of the demo ledger's export
//! (`fuzz/data/demo-export.jsonl`, 69 events, made by `waymark demo`), whose log key and
//! checkpoint are in `fuzz/data/` too, so the corpus seeds made from the demo verify.

use ed25519_dalek::SigningKey;
use std::sync::OnceLock;
use waymark_events::{
    encode_public_key, parse_strict, parse_verifier_key, root, Event, Hash, VerifierKey,
};

/// Secret seed of the vectors' actor `alice` (the founder).
pub const ALICE_SEED: [u8; 32] = [1; 32];
/// Secret seed of the vectors' actor `bob`.
pub const BOB_SEED: [u8; 32] = [2; 32];
/// Secret seed of the vectors' log key.
pub const VECTORS_LOG_SEED: [u8; 32] = [3; 32];
/// The vectors' log verifier key (`keys.log.verifier_key`).
pub const VECTORS_LOG_KEY: &str =
    "waymark.example/optimism+1fc4232d+Ae1JKMYo0cLG6ukDOJBZlWEpWSc6XGP5NjbBRhSshzfR";
/// The demo ledger's log verifier key (`log_key` of its `LedgerOpened`).
pub const DEMO_LOG_KEY: &str =
    "waymark.demo/optimism+5a17c34f+AWLMtdq1MBaUqb8JU/DjCTj3QrnHz4aMHufttn7kA/pr";
/// The demo ledger's export (SPEC section 7).
pub const DEMO_EXPORT: &str = include_str!("../data/demo-export.jsonl");

/// Both log verifier keys, parsed.
pub fn log_keys() -> &'static [VerifierKey] {
    static KEYS: OnceLock<Vec<VerifierKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        [VECTORS_LOG_KEY, DEMO_LOG_KEY]
            .iter()
            .map(|k| parse_verifier_key(k).expect("fixed verifier key parses"))
            .collect()
    })
}

/// The vectors' log signing key.
pub fn vectors_log_signer() -> SigningKey {
    SigningKey::from_bytes(&VECTORS_LOG_SEED)
}

/// Public keys (standard base64) of the vectors' actors, alice and bob.
pub fn actor_public_keys() -> &'static [String] {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        [ALICE_SEED, BOB_SEED]
            .iter()
            .map(|s| encode_public_key(&SigningKey::from_bytes(s).verifying_key()))
            .collect()
    })
}

/// A deterministic signing key for any actor name (the fuzz harnesses re-key the demo
/// ledger's actors with these, so statements they sign pass the signature rule).
pub fn fuzz_key_for(actor: &str) -> SigningKey {
    let mut seed = [0x5au8; 32];
    for (i, b) in actor.bytes().enumerate() {
        seed[i % 32] = seed[i % 32].wrapping_mul(31).wrapping_add(b);
    }
    SigningKey::from_bytes(&seed)
}

/// The demo ledger's events and their hashes, in seq order.
pub fn demo_events() -> &'static [(Event, Hash)] {
    static EVENTS: OnceLock<Vec<(Event, Hash)>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        DEMO_EXPORT
            .lines()
            .map(|l| {
                let v = parse_strict(l.as_bytes()).expect("demo export line parses");
                Event::from_export_value(&v).expect("demo export line is an event")
            })
            .collect()
    })
}

/// `roots()[n]` is the Merkle root of the demo ledger's first `n` events (0..=69).
pub fn demo_roots() -> &'static [Hash] {
    static ROOTS: OnceLock<Vec<Hash>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let leaves: Vec<Hash> = demo_events().iter().map(|(_, h)| *h).collect();
        (0..=leaves.len()).map(|n| root(&leaves[..n])).collect()
    })
}

/// The demo root at `size`, or a fixed unrelated root past the demo's size.
pub fn root_at(size: u64) -> Hash {
    let roots = demo_roots();
    usize::try_from(size)
        .ok()
        .and_then(|n| roots.get(n).copied())
        .unwrap_or(Hash([0xab; 32]))
}
