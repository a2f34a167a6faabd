//! The witness directory and the witness's identity: its Ed25519 key (`witness.key`,
//! mode 0600, written and read by the key store of `files/keys.rs`), its name and its
//! verifier key (kept in the state file, `witness.db`).
//!
//! ```text
//! DIR/                 0700 (--dir, WAYMARK_WITNESS_DIR, default ~/.waymark/witness)
//!   witness.key        base64 of the 32-byte Ed25519 seed, 0600
//!   witness.db         the state (state.rs), with its -wal and -shm files
//! ```

use crate::error::{Error, Result, StorageError};
use crate::files::KeyStore;
use ed25519_dalek::SigningKey;
use std::path::{Path, PathBuf};
use waymark_events::{cosigner_vkey, is_valid_key_name, parse_cosigner_key, CosignerKey};

/// The file of the witness's secret key, in its directory.
pub const KEY_FILE: &str = "witness.key";
/// The witness's state file (SQLite), in its directory.
pub const STATE_FILE: &str = "witness.db";

/// Where a witness keeps its key and state.
#[derive(Debug, Clone)]
pub struct WitnessDir {
    dir: PathBuf,
}

/// Who the witness is: its name, its key, its verifier key (type 0x04).
#[derive(Clone)]
pub struct Identity {
    pub name: String,
    pub key: SigningKey,
    pub vkey: CosignerKey,
}

impl std::fmt::Debug for Identity {
    // The secret key is not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("name", &self.name)
            .field("vkey", &self.vkey.vkey())
            .finish_non_exhaustive()
    }
}

/// The default witness directory: `~/.waymark/witness`, beside the key store.
pub fn default_dir() -> PathBuf {
    dirs::home_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".waymark/witness")
}

/// A witness name: a signed-note key name (non-empty, no white space, no `+`) with
/// no control character. C2SP recommends a schema-less URL (`witness.example/w1`).
pub fn check_name(name: &str) -> Result<()> {
    if !is_valid_key_name(name) || name.chars().any(char::is_control) {
        return Err(Error::BadInput(format!(
            "witness name {name:?} is not a signed-note key name (non-empty, no spaces, \
             no '+', no control characters; a schema-less URL such as witness.example/w1 \
             is recommended)"
        )));
    }
    Ok(())
}

impl WitnessDir {
    pub fn new(dir: impl Into<PathBuf>) -> WitnessDir {
        WitnessDir { dir: dir.into() }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn key_path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    fn store(&self) -> KeyStore {
        KeyStore::new(self.dir.clone())
    }

    /// Whether anything of a witness is here (its key or its state file).
    pub fn exists(&self) -> bool {
        self.key_path().symlink_metadata().is_ok() || self.state_path().symlink_metadata().is_ok()
    }

    /// Makes a new key and writes it (0600, whole and fsynced, in a 0700 directory);
    /// refuses when a key or a state file is already there.
    pub fn create_key(&self, name: &str) -> Result<Identity> {
        check_name(name)?;
        if self.exists() {
            return Err(self.already());
        }
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        self.store()
            .write_new(&self.key_path(), &key)
            .map_err(|e| match e {
                Error::Storage(s) if s.message().contains("already exists") => self.already(),
                e => e,
            })?;
        identity(name, key)
    }

    fn already(&self) -> Error {
        Error::BadInput(format!(
            "a witness already exists in {} (its key or its state): nothing was changed; \
             give another directory with --dir or WAYMARK_WITNESS_DIR",
            self.dir.display()
        ))
    }

    /// Reads the witness's key (refused if group or others can read it).
    pub fn load_key(&self) -> Result<SigningKey> {
        if self.key_path().symlink_metadata().is_err() {
            return Err(self.missing());
        }
        self.store().load(&self.key_path())
    }

    /// The error of a directory with no witness in it.
    pub fn missing(&self) -> Error {
        Error::Usage(format!(
            "no witness in {}: create one with `waymark witness init --name NAME` (the \
             directory is --dir or WAYMARK_WITNESS_DIR)",
            self.dir.display()
        ))
    }
}

/// The identity of `name` with `key`.
pub fn identity(name: &str, key: SigningKey) -> Result<Identity> {
    check_name(name)?;
    let vkey = parse_cosigner_key(&cosigner_vkey(name, &key.verifying_key())).map_err(|e| {
        Error::Storage(StorageError::internal(format!(
            "the witness's own verifier key does not parse: {e}"
        )))
    })?;
    Ok(Identity {
        name: name.to_string(),
        key,
        vkey,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_key_is_0600_and_a_second_init_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let w = WitnessDir::new(t.path().join("w"));
        let id = w.create_key("witness.example/w1").unwrap();
        let mode = std::fs::metadata(w.key_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(w.load_key().unwrap().to_bytes(), id.key.to_bytes());
        assert!(id.vkey.vkey().starts_with("witness.example/w1+"));
        let err = w.create_key("witness.example/w1").unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(w.load_key().unwrap().to_bytes(), id.key.to_bytes());
    }

    #[test]
    fn bad_names_and_missing_witnesses_are_named() {
        let t = tempfile::tempdir().unwrap();
        let w = WitnessDir::new(t.path());
        for bad in ["", "a b", "a+b", "a\u{7}"] {
            assert!(w.create_key(bad).is_err(), "{bad:?}");
        }
        assert!(!w.exists(), "nothing written for a bad name");
        assert_eq!(w.load_key().unwrap_err().exit_code(), 2);
    }
}
