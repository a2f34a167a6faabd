//! Framework files (SPEC section 11): TOML through `waymark_core::load_framework`.
//!
//! `load_framework` takes a bundled name or a path, and the text parser behind it
//! (`framework::parse`) is not exported, so each input is written to one temporary file
//! (in /dev/shm when it exists) and loaded by its absolute path, which never equals a
//! bundled name. Asserted: every milestone the loader makes is a `MilestoneDefined`
//! payload that round-trips through `Payload::from_value`, and the framework
//! round-trips as JSON (it becomes part of `LedgerOpened`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;
use waymark_events::{EventType, Framework, Payload};

fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        dir.join(format!(
            "waymark-fuzz-framework-{}.toml",
            std::process::id()
        ))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(path, data).expect("scratch file is writable");
    let Ok(loaded) = waymark_core::load_framework(path.to_str().expect("UTF-8 temp path")) else {
        return;
    };
    for m in &loaded.milestones {
        let p = Payload::MilestoneDefined(m.clone());
        let v = p.to_value();
        assert_eq!(
            Payload::from_value(EventType::MilestoneDefined, &v).as_ref(),
            Ok(&p)
        );
    }
    let v = serde_json::to_value(&loaded.framework).expect("framework serializes");
    let back: Framework = serde_json::from_value(v).expect("framework deserializes");
    assert_eq!(back, loaded.framework);
});
