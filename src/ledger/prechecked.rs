//! Signatures the server's precheck verified, so that its writer does not verify
//! them again on the path every queued statement waits behind (issue 17, group
//! commit: the writer's second `verify_strict` per statement was ~10% of a
//! `serve`'s CPU with 8 clients posting, `perf record`).

use super::Signed;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use waymark_events::Statement;

/// Statements kept at most (oldest forgotten first): ~1 KB each. More than the
/// writer's queue holds between a precheck and its turn, on any sane load; a
/// statement forgotten meanwhile is only verified again.
const KEPT: usize = 4096;

/// Each entry: a signature, the very statement it was verified over, and the key
/// it verified under. Only a hint, as `KeyHints`': `check_preverified` skips its
/// check only where rule 1 asks for that very key; a statement that differs in
/// anything from the one verified (the same signature over other bytes) gets no
/// key and is verified.
#[derive(Default)]
pub struct Prechecked {
    kept: Mutex<Kept>,
}

/// By signature: the statement and the key; and the signatures, oldest first.
type Kept = (HashMap<String, (Statement, String)>, VecDeque<String>);

impl Prechecked {
    /// `signed`'s signature verified over its statement under `key`.
    pub fn insert(&self, signed: &Signed, key: &str) {
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        let (map, order) = &mut *kept;
        if order.len() >= KEPT {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
        map.insert(
            signed.sig.clone(),
            (signed.statement.clone(), key.to_string()),
        );
        order.push_back(signed.sig.clone());
    }

    /// The key `signed`'s signature was verified under, if it was, over this very
    /// statement.
    pub fn key_for(&self, signed: &Signed) -> Option<String> {
        let kept = self.kept.lock().ok()?;
        let (statement, key) = kept.0.get(&signed.sig)?;
        (*statement == signed.statement).then(|| key.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_events::Statement;

    fn signed(text: &str, sig: &str) -> Signed {
        let payload = waymark_events::Payload::ActorRetired(waymark_events::ActorRetired {
            actor: "bob".into(),
            reason: text.into(),
        });
        Signed {
            statement: Statement::new("l", "ada", "2026-01-01T00:00:00Z", payload),
            sig: sig.into(),
        }
    }

    #[test]
    fn a_key_is_given_only_for_the_very_statement_verified() {
        let kept = Prechecked::default();
        kept.insert(&signed("as signed", "SIG"), "KEY");
        assert_eq!(
            kept.key_for(&signed("as signed", "SIG")).as_deref(),
            Some("KEY")
        );
        // The same signature over other bytes: no key, so it is verified.
        assert_eq!(kept.key_for(&signed("changed", "SIG")), None);
        assert_eq!(kept.key_for(&signed("as signed", "OTHER")), None);
    }

    #[test]
    fn the_oldest_are_forgotten_past_the_cap() {
        let kept = Prechecked::default();
        for i in 0..=KEPT {
            kept.insert(&signed("s", &format!("sig{i}")), "KEY");
        }
        assert_eq!(kept.key_for(&signed("s", "sig0")), None);
        assert!(kept.key_for(&signed("s", "sig1")).is_some());
        assert!(kept.key_for(&signed("s", &format!("sig{KEPT}"))).is_some());
        assert_eq!(kept.kept.lock().unwrap().0.len(), KEPT);
    }
}
