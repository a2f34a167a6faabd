//! Ed25519 verification with a table built once per public key, giving exactly the
//! verdict of ed25519-dalek 2.2's `VerifyingKey::verify_strict` on every input.
//!
//! # Why
//!
//! `verify_strict` computes `R' = [k](-A) + [s]B` with a double-scalar multiplication
//! (about 253 doublings plus ~70 additions), then compresses `R'` (a field inversion)
//! and compares the bytes with the signature's `R`. A ledger has few actors and many
//! signatures per key, so the doublings can be paid once per key instead: a table of
//! `j · 256^i · (-A)` for `i` in `0..33`, `j` in `1..=128` turns `[k](-A)` into at most
//! 33 additions with no doubling (signed radix-256 digits of `k`, looked up in
//! variable time: a verifier handles public data only). `[s]B` uses the same kind of
//! table for the basepoint, built once per process.
//!
//! Measured (release, this 2-core machine, 64 signatures of 325-byte messages, one key;
//! callgrind instruction counts per signature, which repeat on a shared machine):
//! `verify_strict` 412 k, `verify_batch` (64 per batch) 181 k, this verifier 221 k,
//! of which SHA-512 and the decompression of `R` are 60 k. Wall time under load was
//! in the same proportion (40 vs 64–78 µs per signature, `verify_batch` 35–38 µs).
//! Alternatives measured and dropped: curve25519-dalek's `EdwardsBasepointTable`
//! (radix 16: 409 k; its lookups are constant-time scans of every entry, so larger
//! radices are slower still), `VartimeEdwardsPrecomputation` (its Straus loop always
//! runs 256 doublings: no faster than `verify_strict`), and radix-2^5..2^7 tables or
//! radix-256 tables with 8 doublings (smaller tables, 10–25% slower).
//!
//! curve25519-dalek offers no variable-time fixed-base multiplication, so the table
//! and the digit recoding are here; every group operation is curve25519-dalek's
//! public `EdwardsPoint` addition and subtraction, and the result is checked against
//! `verify_strict` on the edge cases of "Taming the many EdDSAs" and by a property
//! test (`tests/strict_verifier.rs`).
//!
//! # Same verdicts as `verify_strict`
//!
//! `verify_strict(M, (R_bytes, s))` with key `A` (the `VerifyingKey`: the 32 bytes it
//! was made from and their decompression) accepts exactly when all of these hold:
//!
//! 1. `s` is canonical (`Scalar::from_canonical_bytes`, `s < l`);
//! 2. `R_bytes` decompresses to a point `R`;
//! 3. neither `R` nor `A` has small order;
//! 4. `compress([k](-A) + [s]B) == R_bytes`, with
//!    `k = SHA-512(R_bytes || A_bytes || M) mod l`.
//!
//! [`PreparedKey::verify`] checks 1–3 the same way (the same curve25519-dalek
//! functions), computes the same `k` (`Scalar::from_hash` is
//! `from_bytes_mod_order_wide` of the digest, done here on the digest of the same
//! bytes) and the same point `R' = [k](-A) + [s]B` (the tables give the exact group
//! element for any point, small-order components included, since the digits of a
//! scalar sum to the scalar itself, not to it modulo `l`). Only the last comparison
//! differs: instead of compressing `R'` (an inversion), it compares `R'` with `R` as
//! points (projectively, `X'Z == XZ'` and `Y'Z == YZ'`), after checking that
//! `R_bytes` is the canonical encoding of `R`:
//!
//! - `compress` always writes a canonical encoding: `y < p`, and the sign bit is the
//!   parity of the canonical `x`. So where `R_bytes` is not canonical, check 4 fails
//!   whatever `R'` is, and `verify_strict` rejects: we reject it as well. An encoding
//!   is non-canonical in two ways only. Either its `y` (the low 255 bits) is `>= p`:
//!   decompression reduces `y` modulo `p`, so we test the bytes ([`y_is_canonical`]).
//!   Or `x = 0` with the sign bit set: decompression negates `0` to `0`; but `x = 0`
//!   only for `y = 1` (the identity) and `y = -1` (the point of order 2), both of
//!   small order, already rejected by check 3.
//! - Where `R_bytes` is canonical, it is `compress(R)` (decompression keeps `y` and
//!   gives `x` the parity of the sign bit). Compression is one-to-one on curve points
//!   (`y` and the parity of `x` fix the point, as `x != -x` when `x != 0`), so
//!   `compress(R') == R_bytes == compress(R)` exactly when `R' == R`.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};
use std::sync::LazyLock;

/// Multiples per table row: signed radix-256 digits lie in `[-128, 128)`, and a
/// negative digit is a subtraction of the positive multiple.
const ROW: usize = 128;
/// Table rows: 32 radix-256 digits cover 256 bits, and the recoding may carry into a
/// 33rd (never for a scalar below `l < 2^253`, but any 256-bit value is handled).
const ROWS: usize = 33;

/// `j · 256^i · P` at `[i * ROW + j - 1]`, for `i < ROWS` and `1 <= j <= ROW`
/// (33 × 128 points of 160 bytes: 660 KiB, built with 4,224 additions, ~0.8 ms).
struct Radix256Table(Vec<EdwardsPoint>);

impl Radix256Table {
    fn new(point: &EdwardsPoint) -> Radix256Table {
        let mut table = Vec::with_capacity(ROWS * ROW);
        let mut base = *point;
        for _ in 0..ROWS {
            let mut acc = base;
            table.push(acc);
            for _ in 1..ROW {
                acc += base;
                table.push(acc);
            }
            // 256 · base = 128 · base + 128 · base.
            base = acc + acc;
        }
        Radix256Table(table)
    }

    /// `[scalar]P`, exactly (as an integer multiple of `P`, not reduced modulo `l`),
    /// in variable time.
    fn mul(&self, scalar: &Scalar) -> EdwardsPoint {
        let mut acc = EdwardsPoint::identity();
        let mut carry = 0i16;
        for (i, byte) in scalar.as_bytes().iter().chain(&[0u8]).enumerate() {
            let mut digit = i16::from(*byte) + carry;
            carry = 0;
            if digit >= ROW as i16 {
                digit -= 256;
                carry = 1;
            }
            let row = &self.0[i * ROW..(i + 1) * ROW];
            match digit {
                0 => {}
                d if d > 0 => acc += &row[d as usize - 1],
                d => acc -= &row[(-d) as usize - 1],
            }
        }
        // The 33rd digit is at most 1: nothing is left to carry.
        debug_assert_eq!(carry, 0);
        acc
    }
}

/// The basepoint's table, built on first use (~0.8 ms) and shared by every key.
static BASEPOINT: LazyLock<Radix256Table> =
    LazyLock::new(|| Radix256Table::new(&ED25519_BASEPOINT_POINT));

/// Whether the 255-bit `y` of an encoded point is below `p = 2^255 - 19`.
fn y_is_canonical(bytes: &[u8; 32]) -> bool {
    // y >= p exactly when y is one of p .. 2^255 - 1: bytes 1..31 all 0xff, the top
    // byte 0x7f once the sign bit is cleared, and the low byte >= 0xed.
    !(bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|b| *b == 0xff) && bytes[0] >= 0xed)
}

/// An Ed25519 public key prepared for many verifications: [`PreparedKey::verify`]
/// gives exactly `VerifyingKey::verify_strict`'s verdict (see the module comment for
/// the argument), about 1.9× faster per signature, for ~0.8 ms and 660 KiB once per
/// key. Worth it from about 20 signatures under one key.
pub struct PreparedKey {
    key: VerifyingKey,
    /// The table of `-A`; `None` when `A` has small order (`verify_strict` then
    /// rejects every signature).
    minus_a: Option<Radix256Table>,
}

impl std::fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedKey")
            .field("key", &self.key)
            .field("small_order", &self.minus_a.is_none())
            .finish()
    }
}

impl PreparedKey {
    /// Builds the table of `key` (and, on first use in the process, the basepoint's).
    pub fn new(key: &VerifyingKey) -> PreparedKey {
        let point = key.to_edwards();
        let minus_a = (!point.is_small_order()).then(|| Radix256Table::new(&-point));
        LazyLock::force(&BASEPOINT);
        PreparedKey { key: *key, minus_a }
    }

    /// The key this was prepared for.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// `self.key().verify_strict(message, signature).is_ok()`, faster.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        self.verify_parts(&[message], signature)
    }

    /// [`PreparedKey::verify`] of the concatenation of `parts` (no copy of the
    /// message is made: the parts go to SHA-512 one after another).
    pub fn verify_parts(&self, parts: &[&[u8]], signature: &Signature) -> bool {
        self.check(signature.r_bytes(), signature.s_bytes(), |r_bytes| {
            let mut h = Sha512::new();
            h.update(r_bytes);
            h.update(self.key.as_bytes());
            for part in parts {
                h.update(part);
            }
            Scalar::from_bytes_mod_order_wide(&h.finalize().into())
        })
    }

    /// Checks 1 to 4 of the module comment, with `k` computed by `challenge` from
    /// `R_bytes` once 1 to 3 passed (a parameter so that a unit test can reach
    /// check 4 with an `R` that needs no forgery).
    fn check(
        &self,
        r_bytes: &[u8; 32],
        s_bytes: &[u8; 32],
        challenge: impl FnOnce(&[u8; 32]) -> Scalar,
    ) -> bool {
        let Some(minus_a) = &self.minus_a else {
            return false; // A has small order (check 3)
        };
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(*s_bytes)) else {
            return false; // check 1
        };
        if !y_is_canonical(r_bytes) {
            return false; // check 4 cannot hold: compress() writes y < p
        }
        let Some(r) = CompressedEdwardsY(*r_bytes).decompress() else {
            return false; // check 2
        };
        if r.is_small_order() {
            // check 3 (and the only points with x = 0, so R_bytes is canonical below)
            return false;
        }
        let k = challenge(r_bytes);
        let expected = minus_a.mul(&k) + BASEPOINT.mul(&s);
        expected == r // check 4, projectively (R_bytes is canonical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_multiplies_exactly_like_dalek() {
        let p = ED25519_BASEPOINT_POINT.mul_by_cofactor() + ED25519_BASEPOINT_POINT;
        let table = Radix256Table::new(&p);
        for seed in 0u8..40 {
            let mut bytes = [seed.wrapping_mul(97).wrapping_add(13); 32];
            bytes[0] = seed;
            let s = Scalar::from_bytes_mod_order(bytes);
            assert_eq!(table.mul(&s), p * s);
        }
        assert_eq!(table.mul(&Scalar::ZERO), EdwardsPoint::identity());
        assert_eq!(table.mul(&-Scalar::ONE), p * -Scalar::ONE);
    }

    #[test]
    fn canonical_y() {
        let mut p = [0xffu8; 32];
        p[31] = 0x7f;
        p[0] = 0xed; // p itself
        assert!(!y_is_canonical(&p));
        p[0] = 0xec; // p - 1
        assert!(y_is_canonical(&p));
        p[31] = 0xff; // p - 1 with the sign bit
        assert!(y_is_canonical(&p));
        p[0] = 0xff; // 2^255 - 1 with the sign bit
        assert!(!y_is_canonical(&p));
        assert!(y_is_canonical(&[0; 32]));
    }

    /// Check 4 on an `R` whose encoding is not canonical (`y + p`): `verify_strict`
    /// compares `compress(R')` with those bytes and refuses, even where `R' == R`.
    /// No signature can show it (it needs `k` for a chosen `R`: a forgery), so the
    /// challenge is given here: with `k = s = 1` and `A = B - R`,
    /// `R' = [1](R - B) + [1]B = R`.
    #[test]
    fn a_non_canonical_r_is_refused_even_where_the_points_match() {
        let mut checked = 0;
        for y in 0u8..19 {
            let mut bytes = [0xffu8; 32];
            bytes[0] = 0xed + y;
            bytes[31] = 0x7f;
            let Some(r) = CompressedEdwardsY(bytes).decompress() else {
                continue;
            };
            if r.is_small_order() {
                continue;
            }
            let a = ED25519_BASEPOINT_POINT - r;
            let Ok(key) = VerifyingKey::from_bytes(&a.compress().to_bytes()) else {
                continue;
            };
            let prepared = PreparedKey::new(&key);
            let one = Scalar::ONE.to_bytes();
            // The canonical encoding of the same point passes check 4 ...
            let canonical = r.compress().to_bytes();
            assert!(prepared.check(&canonical, &one, |_| Scalar::ONE));
            // ... and verify_strict's comparison agrees on both encodings.
            let strict_r = -key.to_edwards() * Scalar::ONE + ED25519_BASEPOINT_POINT;
            assert_eq!(strict_r.compress().to_bytes(), canonical);
            assert_ne!(strict_r.compress().to_bytes(), bytes);
            assert!(!prepared.check(&bytes, &one, |_| Scalar::ONE));
            checked += 1;
        }
        assert!(checked > 0);
    }
}
