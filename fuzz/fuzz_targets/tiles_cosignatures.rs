//! Issue 16's parsers of outside input: C2SP tlog-tiles paths, hash tiles and entry
//! bundles (what `verify-offline --tiles`, `prove --tiles` and `monitor` read from a
//! directory or URL), and tlog-cosignature witness keys and cosignature lines (what
//! `verify-offline --witness`, `publish --witness` and `monitor` check).
//!
//! Asserted:
//! - a tile path that parses re-serializes to the same text (`Tile::path`);
//! - an entry bundle that parses (for the width the first byte picks) re-encodes to the
//!   same bytes, with exactly that many entries; likewise a hash tile;
//! - a witness key that parses re-serializes to a string that parses to it;
//! - cosignature checks never panic, and a note they accept still splits; signature
//!   lines added to the vectors' checkpoint keep it a well-formed note that the log key
//!   still opens.
#![no_main]

use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;
use waymark_events::{
    add_signature_lines, check_cosignatures, cosigner_vkey, encode_bundle, open_checkpoint,
    parse_bundle, parse_cosigner_key, parse_tile, sign_checkpoint, split_note, tile_bytes,
    Checkpoint, Hash, Tile,
};
use waymark_fuzz::{log_keys, vectors_log_signer};

fuzz_target!(|data: &[u8]| {
    if let Some((&w, rest)) = data.split_first() {
        let width = u32::from(w).max(1);
        if let Ok(tile) = Tile::entries(0, width) {
            if let Ok(entries) = parse_bundle(&tile, rest) {
                assert_eq!(entries.len() as u32, width);
                assert_eq!(encode_bundle(entries.iter().copied()).unwrap(), rest);
            }
        }
        if let Ok(tile) = Tile::hashes(0, 0, width) {
            if let Ok(hashes) = parse_tile(&tile, rest) {
                assert_eq!(hashes.len() as u32, width);
                assert_eq!(tile_bytes(&hashes), rest);
            }
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tile) = Tile::parse(text) {
        assert_eq!(tile.path(), text, "tile paths round-trip");
    }
    for line in text.lines().take(4) {
        if let Ok(k) = parse_cosigner_key(line) {
            let again = cosigner_vkey(&k.name, &k.key);
            assert_eq!(parse_cosigner_key(&again).as_ref(), Ok(&k));
        }
    }
    let witnesses: Vec<_> = [3u8, 4]
        .iter()
        .map(|s| {
            let key = SigningKey::from_bytes(&[*s; 32]).verifying_key();
            parse_cosigner_key(&cosigner_vkey("witness.example/w", &key)).unwrap()
        })
        .collect();
    if check_cosignatures(text, &witnesses).is_ok() {
        assert!(split_note(text).is_ok());
    }
    // The input as signature lines on a genuine checkpoint.
    let cp = Checkpoint::new("example.org/fuzz", 7, Hash([9; 32])).unwrap();
    let signer = vectors_log_signer();
    let note = sign_checkpoint(&cp, &signer);
    if let Ok(with) = add_signature_lines(&note, text) {
        assert!(split_note(&with).is_ok());
        assert!(with.starts_with(&note));
        let _ = check_cosignatures(&with, &witnesses);
        let key = waymark_events::parse_verifier_key(&waymark_events::verifier_key(
            "example.org/fuzz",
            &signer.verifying_key(),
        ))
        .unwrap();
        // Extra lines by other keys never stop the log's own signature from opening;
        // a line that names the log key itself may (Go checks only the first one).
        if !text.contains("example.org/fuzz ") {
            assert_eq!(open_checkpoint(&with, &key), Ok(cp.clone()));
        }
    }
    let _ = log_keys();
});
