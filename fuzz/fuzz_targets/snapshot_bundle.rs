//! Snapshot bundles (SPEC section 8): `SnapshotBundle::from_bytes`, then
//! `open_checkpoint` with the two fixed log verifier keys (the vectors' and the demo
//! ledger's), and the bundle's checkpoint text through `Checkpoint::parse_body`.
//!
//! Asserted: a parsed bundle writes bytes (`to_bytes`: JCS and a newline) that parse
//! back to it; a bundle whose checkpoint opens has that checkpoint's size as
//! `tree_size` and the key's name as origin.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waymark_events::{Checkpoint, SnapshotBundle};
use waymark_fuzz::log_keys;

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = SnapshotBundle::from_bytes(data) else {
        return;
    };
    let bytes = bundle.to_bytes();
    assert_eq!(bytes.last(), Some(&b'\n'));
    assert_eq!(SnapshotBundle::from_bytes(&bytes).as_ref(), Ok(&bundle));
    for key in log_keys() {
        if let Ok(cp) = bundle.open_checkpoint(key) {
            assert_eq!(cp.size, bundle.tree_size);
            assert_eq!(cp.origin, key.name);
        }
    }
    if let Some((body, _)) = bundle.checkpoint.split_once("\n\n") {
        let _ = Checkpoint::parse_body(&format!("{body}\n"));
    }
    let _ = Checkpoint::parse_body(&bundle.checkpoint);
});
