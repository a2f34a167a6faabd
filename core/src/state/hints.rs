//! Signatures checked ahead of the rules, on other threads.

use ed25519_dalek::VerifyingKey;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use waymark_events::{
    decode_public_key, verify_canonical_prepared, verify_canonical_with, PreparedKey, Statement,
};

/// Signatures checked under one key with `verify_strict` before its [`PreparedKey`]
/// is built: a table costs ~0.8 ms (about 20 `verify_strict`s) and saves ~45% of
/// each later check, so a key that signs a handful of statements never pays for one.
const PREPARE_AFTER: u32 = 32;

/// Prepared keys kept by the process (660 KiB each: at most ~21 MiB). A ledger has
/// few actors; while this many are in use, further keys are checked with
/// `verify_strict`. Keys no longer in use make room when the cache is full.
const MAX_PREPARED: usize = 32;

/// The prepared keys of this process, by public key: each batch of the recorder
/// (a new [`KeyHints`] each) and each `verify-offline` reuses them.
static PREPARED: LazyLock<Mutex<HashMap<[u8; 32], Arc<PreparedKey>>>> =
    LazyLock::new(Default::default);

fn cached(key: &VerifyingKey) -> Option<Arc<PreparedKey>> {
    let cache = PREPARED.lock().unwrap_or_else(|e| e.into_inner());
    cache.get(key.as_bytes()).cloned()
}

/// The process's prepared `key`, built if there is room for it.
fn prepared(key: &VerifyingKey) -> Option<Arc<PreparedKey>> {
    if let Some(p) = cached(key) {
        return Some(p);
    }
    if !has_room(&mut PREPARED.lock().unwrap_or_else(|e| e.into_inner())) {
        return None;
    }
    // Built outside the lock (another thread may build the same key meanwhile: the
    // first one stored wins).
    let built = Arc::new(PreparedKey::new(key));
    let mut cache = PREPARED.lock().unwrap_or_else(|e| e.into_inner());
    if !cache.contains_key(key.as_bytes()) && !has_room(&mut cache) {
        return None;
    }
    Some(cache.entry(key.to_bytes()).or_insert(built).clone())
}

/// Whether one more key fits, once the keys no [`KeyHints`] holds any more (a
/// rotated key, a finished `verify-offline`) are dropped.
fn has_room(cache: &mut HashMap<[u8; 32], Arc<PreparedKey>>) -> bool {
    if cache.len() >= MAX_PREPARED {
        cache.retain(|_, p| Arc::strong_count(p) > 1);
    }
    cache.len() < MAX_PREPARED
}

/// One actor's hinted key.
#[derive(Debug)]
struct Hint {
    /// The base64 key, as rule 1 names it.
    key: String,
    /// Decoded once, not once per signature; `None` if it does not decode.
    decoded: Option<VerifyingKey>,
    /// Signatures checked under it so far (until it is prepared).
    uses: AtomicU32,
    /// Its prepared form, once [`PREPARE_AFTER`] signatures were checked under it
    /// (`None` inside: no room left for it).
    prepared: OnceLock<Option<Arc<PreparedKey>>>,
}

impl Hint {
    fn prepared(&self) -> Option<&PreparedKey> {
        if let Some(p) = self.prepared.get() {
            return p.as_deref();
        }
        let decoded = self.decoded.as_ref()?;
        if self.uses.fetch_add(1, Ordering::Relaxed) + 1 < PREPARE_AFTER {
            return None;
        }
        self.prepared.get_or_init(|| prepared(decoded)).as_deref()
    }
}

/// Keys to check signatures under ahead of the rules, on other threads: a batch
/// takes each actor's key as the batch starts, `verify-offline` learns them from the
/// log as it reads ahead. Only a hint: [`LedgerState::check_preverified`] skips its
/// own check only where rule 1 asks for the very key a signature verified under.
/// Each key is decoded once, not once per signature, and a key that signs many
/// statements is checked through its [`PreparedKey`] (the same verdicts as
/// `verify_strict`, ~1.9× faster).
#[derive(Debug, Clone, Default)]
pub struct KeyHints(HashMap<String, Arc<Hint>>);

impl KeyHints {
    /// `actor` signs with `key` (a base64 public key) from now on.
    pub fn insert(&mut self, actor: &str, key: &str) {
        let decoded = decode_public_key(key).ok();
        let prepared = OnceLock::new();
        // A key this process already prepared is used at once.
        if let Some(p) = decoded.as_ref().and_then(cached) {
            let _ = prepared.set(Some(p));
        }
        let hint = Hint {
            key: key.to_string(),
            decoded,
            uses: AtomicU32::new(0),
            prepared,
        };
        self.0.insert(actor.to_string(), Arc::new(hint));
    }

    /// The key `sig` verifies under, if the hinted key of the statement's actor is it.
    pub fn verified_with(&self, st: &Statement, sig: &str) -> Option<String> {
        let hint = self.0.get(&st.actor)?;
        let decoded = hint.decoded.as_ref()?;
        let jcs = st.canonical();
        let verified = match hint.prepared() {
            Some(p) => verify_canonical_prepared(&jcs, sig, p),
            None => verify_canonical_with(&jcs, sig, decoded),
        };
        verified.ok().map(|()| hint.key.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use waymark_events::{encode_public_key, sign};

    /// Past [`PREPARE_AFTER`] signatures the prepared path takes over, with the
    /// same outcomes: valid signatures verify, a corrupted one and one under
    /// another key do not.
    #[test]
    fn hints_verify_the_same_before_and_after_preparing() {
        let key = SigningKey::from_bytes(&[42; 32]);
        let other = SigningKey::from_bytes(&[43; 32]);
        let public = encode_public_key(&key.verifying_key());
        let mut hints = KeyHints::default();
        hints.insert("ada", &public);
        let st = |i: usize| {
            let payload = waymark_events::Payload::ActorRetired(waymark_events::ActorRetired {
                actor: format!("a{i}"),
                reason: "test".into(),
            });
            Statement::new("l", "ada", "2026-01-01T00:00:00Z", payload)
        };
        for i in 0..(PREPARE_AFTER as usize + 8) {
            let s = st(i);
            let good = sign(&s, &key);
            assert_eq!(hints.verified_with(&s, &good), Some(public.clone()), "{i}");
            assert_eq!(hints.verified_with(&s, &sign(&s, &other)), None, "{i}");
            let mut bad = good.into_bytes();
            bad[3] = if bad[3] == b'A' { b'B' } else { b'A' };
            assert_eq!(
                hints.verified_with(&s, &String::from_utf8(bad).unwrap()),
                None
            );
        }
        let hint = &hints.0["ada"];
        assert!(matches!(hint.prepared.get(), Some(Some(_))));
        // A new set of hints (the recorder's next batch) finds it prepared.
        let mut next = KeyHints::default();
        next.insert("ada", &public);
        assert!(matches!(next.0["ada"].prepared.get(), Some(Some(_))));
    }
}
