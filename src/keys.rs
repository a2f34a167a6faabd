//! The key store: one file per actor (and one per ledger log key), mode 0600, holding
//! the base64 of a 32-byte Ed25519 seed. Files readable by group or others are refused.

use crate::error::{Error, Result, StorageError};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub struct KeyStore {
    dir: PathBuf,
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Storage(StorageError(format!("{}: {e}", path.display())))
}

impl KeyStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        KeyStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// File of an actor's key. Actor ids never start with `_`, so log keys cannot clash.
    pub fn actor_path(&self, actor: &str) -> PathBuf {
        self.dir.join(format!("{actor}.key"))
    }

    pub fn log_path(&self, ledger: &str) -> PathBuf {
        self.dir.join(format!("_log.{ledger}.key"))
    }

    pub fn load_actor(&self, actor: &str) -> Result<SigningKey> {
        if !waymark_core::is_milestone_id(actor) {
            return Err(Error::BadInput(format!("actor id {actor:?} is not valid")));
        }
        self.load(&self.actor_path(actor))
    }

    /// Reads a key file, refusing one that group or others can read.
    pub fn load(&self, path: &Path) -> Result<SigningKey> {
        let meta = fs::metadata(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::BadInput(format!("no key file {} (use --keys DIR, or --public-key when the key is held elsewhere)", path.display()))
            } else {
                io(path, e)
            }
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::BadInput(format!(
                "key file {} has mode {mode:04o}: it must not be readable by group or others (chmod 600 it)",
                path.display()
            )));
        }
        let text = fs::read_to_string(path).map_err(|e| io(path, e))?;
        let seed: [u8; 32] = B64
            .decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                Error::BadInput(format!(
                    "key file {} does not hold a base64 Ed25519 seed",
                    path.display()
                ))
            })?;
        Ok(SigningKey::from_bytes(&seed))
    }

    /// A key file is written only directly inside the key directory, under a name
    /// made of an id (`[A-Za-z0-9._-]`, not starting with a dot): an actor id such as
    /// `../x` must not write outside it.
    fn check_place(&self, path: &Path) -> Result<()> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let plain = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if path.parent() != Some(self.dir.as_path()) || !plain {
            return Err(Error::BadInput(format!(
                "rule R0-format violated at actor: {} is not a key file name made of a valid id; nothing was written",
                path.display()
            )));
        }
        Ok(())
    }

    /// Writes a new key file (mode 0600) and fails if one exists.
    pub fn write_new(&self, path: &Path, key: &SigningKey) -> Result<()> {
        self.check_place(path)?;
        fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let _ = fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700));
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| io(path, e))?;
        writeln!(f, "{}", B64.encode(key.to_bytes())).map_err(|e| io(path, e))?;
        f.sync_all().map_err(|e| io(path, e))
    }

    /// Replaces a key file atomically (for key rotation), mode 0600.
    pub fn replace(&self, path: &Path, key: &SigningKey) -> Result<()> {
        self.check_place(path)?;
        let tmp = path.with_extension("key.new");
        let _ = fs::remove_file(&tmp);
        self.write_new(&tmp, key)?;
        fs::rename(&tmp, path).map_err(|e| io(path, e))
    }

    /// Loads the key at `path`, or generates and writes one. Says whether it was created.
    pub fn load_or_create(&self, path: &Path) -> Result<(SigningKey, bool)> {
        self.check_place(path)?;
        if path.exists() {
            return Ok((self.load(path)?, false));
        }
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        self.write_new(path, &key)?;
        Ok((key, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_written_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let ks = KeyStore::new(dir.path().join("keys"));
        let (k, created) = ks.load_or_create(&ks.actor_path("alice")).unwrap();
        assert!(created);
        let mode = fs::metadata(ks.actor_path("alice"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(ks.load_actor("alice").unwrap().to_bytes(), k.to_bytes());
        let (again, created) = ks.load_or_create(&ks.actor_path("alice")).unwrap();
        assert!(!created);
        assert_eq!(again.to_bytes(), k.to_bytes());
    }

    #[test]
    fn group_readable_key_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ks = KeyStore::new(dir.path());
        ks.load_or_create(&ks.actor_path("bob")).unwrap();
        fs::set_permissions(ks.actor_path("bob"), fs::Permissions::from_mode(0o644)).unwrap();
        let err = ks.load_actor("bob").unwrap_err();
        assert!(err.to_string().contains("mode 0644"), "{err}");
    }

    #[test]
    fn a_key_is_never_written_outside_the_key_directory() {
        let dir = tempfile::tempdir().unwrap();
        let ks = KeyStore::new(dir.path().join("keys"));
        for id in ["../escaped", "a/b", ".hidden", ""] {
            let err = ks.load_or_create(&ks.actor_path(id)).unwrap_err();
            assert!(err.to_string().contains("R0-format"), "{id}: {err}");
        }
        assert!(!dir.path().join("escaped.key").exists());
        assert!(!dir.path().join("keys").exists(), "nothing was created");
    }
}
