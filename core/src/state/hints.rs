//! Signatures checked ahead of the rules, on other threads.

use waymark_events::{decode_public_key, verify_canonical_with, Statement};

/// Keys to check signatures under ahead of the rules, on other threads: a batch
/// takes each actor's key as the batch starts, `verify-offline` learns them from the
/// log as it reads ahead. Only a hint: [`LedgerState::check_preverified`] skips its
/// own check only where rule 1 asks for the very key a signature verified under.
/// Each key is decoded once, not once per signature.
#[derive(Debug, Clone, Default)]
pub struct KeyHints(
    std::collections::HashMap<String, (String, Option<ed25519_dalek::VerifyingKey>)>,
);

impl KeyHints {
    /// `actor` signs with `key` (a base64 public key) from now on.
    pub fn insert(&mut self, actor: &str, key: &str) {
        let decoded = decode_public_key(key).ok();
        self.0.insert(actor.to_string(), (key.to_string(), decoded));
    }

    /// The key `sig` verifies under, if the hinted key of the statement's actor is it.
    pub fn verified_with(&self, st: &Statement, sig: &str) -> Option<String> {
        let (key, decoded) = self.0.get(&st.actor)?;
        verify_canonical_with(&st.canonical(), sig, decoded.as_ref()?)
            .ok()
            .map(|()| key.clone())
    }
}
