//! The key store: one file per actor (and one per ledger log key), mode 0600, holding
//! the base64 of a 32-byte Ed25519 seed. Files readable by group or others are refused.

use crate::error::{Error, Result, StorageError};
use crate::files::safe::{read_file, SafeDir};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use rustix::fs::FileType;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A key file holds 44 base64 characters and a newline; anything over this is not one
/// (and is not read further).
const MAX_KEY_FILE: u64 = 4096;

pub struct KeyStore {
    dir: PathBuf,
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

    /// Where `rotate-key` stages an actor's new key until the rotation is recorded.
    pub fn pending_path(&self, actor: &str) -> PathBuf {
        self.dir.join(format!("{actor}.key.new"))
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

    /// Reads a key file, refusing one that group or others can read, a symlink, a
    /// FIFO or anything else that is not a regular file (at once: it is opened
    /// non-blocking), and one over 4 KiB.
    pub fn load(&self, path: &Path) -> Result<SigningKey> {
        let file = read_file(path, MAX_KEY_FILE)
            .map_err(|e| match e {
                Error::BadInput(m) => Error::BadInput(format!("key file {m}")),
                e => e,
            })?
            .ok_or_else(|| {
                Error::BadInput(format!(
                    "no key file {} in the key store {} (name the key store with --keys DIR or \
                     WAYMARK_KEYS=DIR)",
                    path.display(),
                    self.dir.display()
                ))
            })?;
        let mode = file.mode & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::BadInput(format!(
                "key file {} has mode {mode:04o}: it must not be readable by group or others (chmod 600 it)",
                path.display()
            )));
        }
        let seed: [u8; 32] = std::str::from_utf8(&file.bytes)
            .ok()
            .and_then(|text| B64.decode(text.trim()).ok())
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
    /// `../x` must not write outside it. Returns the file name.
    fn check_place<'p>(&self, path: &'p Path) -> Result<&'p str> {
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
        Ok(name)
    }

    /// The key directory, created 0700 if absent (the mode is set best effort).
    fn open_dir(&self) -> Result<SafeDir> {
        let dir = SafeDir::create(&self.dir, 0o700)?;
        let _ = fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700));
        Ok(dir)
    }

    fn encode(key: &SigningKey) -> Vec<u8> {
        format!("{}\n", B64.encode(key.to_bytes())).into_bytes()
    }

    /// Writes a new key file (mode 0600), whole and fsynced, and fails if one exists.
    pub fn write_new(&self, path: &Path, key: &SigningKey) -> Result<()> {
        let name = self.check_place(path)?;
        let dir = self.open_dir()?;
        dir.write_new(name, &Self::encode(key), 0o600)?;
        dir.sync()
    }

    /// Loads the key at `path`, or generates and writes one. Says whether it was created.
    pub fn load_or_create(&self, path: &Path) -> Result<(SigningKey, bool)> {
        let name = self.check_place(path)?;
        if let Some(dir) = SafeDir::open(&self.dir)? {
            if dir.kind(name)?.is_some() {
                return Ok((self.load(path)?, false));
            }
        }
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        self.write_new(path, &key)?;
        Ok((key, true))
    }

    /// Rotation, step 1 (before `ActorKeyRotated` is recorded): writes the new key to
    /// `ACTOR.key.new`, fsynced, replacing an earlier staged key that was never
    /// recorded (the caller promotes a recorded one first: [`Self::pending_key`]).
    /// A failure here leaves the old key as it was.
    pub fn stage(&self, actor: &str, key: &SigningKey) -> Result<()> {
        self.check_place(&self.actor_path(actor))?;
        let pending = self.pending_path(actor);
        let name = self.check_place(&pending)?;
        let dir = self.open_dir()?;
        let cannot = |e: Error| {
            Error::Storage(StorageError::file(format!(
                "cannot stage the new key of {actor} at {}, nothing recorded, the old key still works: {e}",
                pending.display()
            )))
        };
        match dir.kind(name)? {
            None => {}
            Some(FileType::RegularFile) => dir.remove(name).map_err(cannot)?,
            Some(FileType::Symlink) => {
                return Err(Error::Storage(StorageError::file(format!(
                    "refusing to write through symlink {}",
                    pending.display()
                ))))
            }
            Some(_) => {
                return Err(cannot(Error::Storage(StorageError::file(
                    "something that is not a regular file is there",
                ))))
            }
        }
        dir.write(name, &Self::encode(key), 0o600).map_err(cannot)?;
        dir.sync().map_err(cannot)
    }

    /// Rotation, step 2 (once `ActorKeyRotated` is recorded): the staged key replaces
    /// the old one, by rename, fsynced.
    pub fn commit(&self, actor: &str) -> Result<()> {
        let (pending, current) = (self.pending_path(actor), self.actor_path(actor));
        let (from, to) = (self.check_place(&pending)?, self.check_place(&current)?);
        let dir = SafeDir::open(&self.dir)?.ok_or_else(|| {
            Error::Storage(StorageError::file(format!(
                "{}: no such directory",
                self.dir.display()
            )))
        })?;
        dir.rename(from, to).map_err(|e| {
            Error::Storage(StorageError::file(format!(
                "the rotation of {actor}'s key is recorded, but its new key could not replace the old one: {e}; \
                 the new key is in {} (the next command as {actor} moves it into place)",
                pending.display()
            )))
        })?;
        dir.sync()
    }

    /// Rotation, undone (the rotation was refused, so nothing was recorded).
    pub fn discard(&self, actor: &str) -> Result<()> {
        let pending = self.pending_path(actor);
        let name = self.check_place(&pending)?;
        match SafeDir::open(&self.dir)? {
            Some(dir) if dir.kind(name)? == Some(FileType::RegularFile) => dir.remove(name),
            _ => Ok(()),
        }
    }

    /// The key staged for `actor` by a rotation, if a regular file holds one.
    pub fn pending_key(&self, actor: &str) -> Option<SigningKey> {
        let pending = self.pending_path(actor);
        let name = self.check_place(&pending).ok()?;
        let dir = SafeDir::open(&self.dir).ok()??;
        if dir.kind(name).ok()? != Some(FileType::RegularFile) {
            return None;
        }
        self.load(&pending).ok()
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
