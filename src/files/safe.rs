//! Writes that cannot be redirected (issue 12): every file Waymark writes (`publish`,
//! `site --out`, `export --out`, `snapshot --out`, the key store) goes through here.
//!
//! - The directory the caller named is opened once (it may itself be a symlink: the
//!   caller named it). Every subdirectory below it is opened relative to its parent's
//!   descriptor with `O_DIRECTORY | O_NOFOLLOW`, and created with `mkdirat` when
//!   absent, so a `checkpoints` symlink is refused, and a directory swapped for a
//!   symlink after the check cannot redirect a later write.
//! - A file is written to a new temporary name in its target directory, created with
//!   `O_CREAT | O_EXCL | O_NOFOLLOW` and a random suffix (a symlink planted at any name
//!   is never opened), fsynced, then renamed over the final name; `rename` replaces a
//!   directory entry and never follows a symlink there, but one at the final name is
//!   refused anyway so that the caller learns about it.
//! - A file that is there but is not a regular file (a directory, FIFO, device) is
//!   refused, never replaced.
//! - Reads open with `O_NOFOLLOW | O_NONBLOCK` (a FIFO cannot block), check the type
//!   on the open descriptor, and read at most a cap.
//!
//! Written on rustix's `*at` calls rather than `tempfile`: `tempfile` takes the
//! target directory as a path, which is re-resolved on every call, so it cannot pin a
//! directory checked for symlinks (a TOCTOU window the `*at` calls close).

use crate::error::{Error, Result, StorageError};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, CWD};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt};
use std::path::{Path, PathBuf};

pub(crate) fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Storage(StorageError::file(format!("{}: {e}", path.display())))
}

fn symlink_err(path: &Path) -> Error {
    Error::Storage(StorageError::file(format!(
        "refusing to write through symlink {}",
        path.display()
    )))
}

/// What a non-regular file is, for messages.
fn kind_name(t: FileType) -> &'static str {
    match t {
        FileType::Directory => "a directory",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Symlink => "a symlink",
        _ => "not a regular file",
    }
}

fn std_kind_name(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

/// A name directly inside a directory: no `/`, not empty, not `.` or `..`.
fn plain(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains('\0')
}

/// A directory held open, below which nothing follows a symlink.
pub(crate) struct SafeDir {
    fd: OwnedFd,
    path: PathBuf,
}

impl SafeDir {
    /// Opens the directory the caller named, creating it (and its parents) if absent.
    pub fn create(path: &Path, mode: u32) -> Result<SafeDir> {
        if !path.as_os_str().is_empty() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(mode)
                .create(path)
                .map_err(|e| io_err(path, e))?;
        }
        Self::open(path)?.ok_or_else(|| io_err(path, "no such directory"))
    }

    /// Opens the directory the caller named, or None if it does not exist.
    pub fn open(path: &Path) -> Result<Option<SafeDir>> {
        let at = if path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            path
        };
        match rustix::fs::openat(
            CWD,
            at,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Some(SafeDir {
                fd,
                path: at.to_path_buf(),
            })),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(io_err(at, std::io::Error::from(e))),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The type of `name` in this directory, not following a symlink; None if absent.
    pub fn kind(&self, name: &str) -> Result<Option<FileType>> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(io_err(&self.join(name), std::io::Error::from(e))),
        }
    }

    /// Opens (with `create`, creating) the subdirectory at `rel` (`a/b/c`), refusing a
    /// symlink or a non-directory at any step. None when absent and not `create`.
    pub fn subdir(&self, rel: &str, create: bool) -> Result<Option<SafeDir>> {
        let mut cur: Option<SafeDir> = None;
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            let parent = cur.as_ref().unwrap_or(self);
            let path = parent.join(part);
            if !plain(part) {
                return Err(io_err(&path, "not a plain directory name"));
            }
            match parent.kind(part)? {
                None if create => match rustix::fs::mkdirat(&parent.fd, part, Mode::from(0o755)) {
                    Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                    Err(e) => return Err(io_err(&path, std::io::Error::from(e))),
                },
                None => return Ok(None),
                Some(FileType::Symlink) => return Err(symlink_err(&path)),
                Some(FileType::Directory) => {}
                Some(other) => {
                    return Err(io_err(
                        &path,
                        format!("is {}, not a directory", kind_name(other)),
                    ))
                }
            }
            let fd = rustix::fs::openat(
                &parent.fd,
                part,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| match e {
                rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => symlink_err(&path),
                e => io_err(&path, std::io::Error::from(e)),
            })?;
            cur = Some(SafeDir { fd, path });
        }
        match cur {
            Some(d) => Ok(Some(d)),
            None => Ok(Some(SafeDir {
                fd: self.fd.try_clone().map_err(|e| io_err(&self.path, e))?,
                path: self.path.clone(),
            })),
        }
    }

    /// Refuses a symlink or a non-regular file at `name`; says whether one is there.
    fn check_target(&self, name: &str) -> Result<bool> {
        match self.kind(name)? {
            None => Ok(false),
            Some(FileType::RegularFile) => Ok(true),
            Some(FileType::Symlink) => Err(symlink_err(&self.join(name))),
            Some(other) => Err(io_err(
                &self.join(name),
                format!(
                    "is {}, not a regular file: refusing to replace it",
                    kind_name(other)
                ),
            )),
        }
    }

    /// Creates a new temporary file for `name` in this directory (mode `mode` less the
    /// umask, `O_EXCL | O_NOFOLLOW`): its name and the open file.
    fn open_temp(&self, name: &str, mode: u32) -> Result<(String, File)> {
        let tmp = format!(".{name}.{:016x}.tmp", rand::random::<u64>());
        let fd = rustix::fs::openat(
            &self.fd,
            tmp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from(mode),
        )
        .map_err(|e| io_err(&self.join(&tmp), std::io::Error::from(e)))?;
        Ok((tmp, File::from(fd)))
    }

    /// Writes `bytes` to a new temporary file in this directory (mode `mode` less the
    /// umask), fsynced; returns its name. The caller renames or links it into place.
    fn write_temp(&self, name: &str, bytes: &[u8], mode: u32, sync: bool) -> Result<String> {
        let (tmp, mut f) = self.open_temp(name, mode)?;
        let written = f
            .write_all(bytes)
            .and_then(|()| if sync { f.sync_all() } else { Ok(()) });
        if let Err(e) = written {
            let _ = rustix::fs::unlinkat(&self.fd, tmp.as_str(), AtFlags::empty());
            return Err(io_err(&self.join(&tmp), e));
        }
        Ok(tmp)
    }

    /// [`Self::write`] a piece at a time, for a file too large to hold in memory (the
    /// export of `publish`): written to a new temporary file, renamed over `name` by
    /// [`NewFile::commit`], removed if dropped before.
    pub fn create_file(&self, name: &str, mode: u32) -> Result<NewFile<'_>> {
        if !plain(name) {
            return Err(io_err(&self.join(name), "not a plain file name"));
        }
        self.check_target(name)?;
        let (tmp, file) = self.open_temp(name, mode)?;
        Ok(NewFile {
            dir: self,
            tmp,
            name: name.to_string(),
            file: Some(std::io::BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// Writes `name` atomically: a new temporary file, fsynced, renamed over `name`.
    /// A symlink or non-regular file at `name` is refused.
    pub fn write(&self, name: &str, bytes: &[u8], mode: u32) -> Result<()> {
        self.write_with(name, bytes, mode, true)
    }

    /// [`Self::write`] without the fsync, for the many regenerable files of `site`
    /// (one fsync per inclusion proof would dominate its time).
    pub fn write_unsynced(&self, name: &str, bytes: &[u8], mode: u32) -> Result<()> {
        self.write_with(name, bytes, mode, false)
    }

    fn write_with(&self, name: &str, bytes: &[u8], mode: u32, sync: bool) -> Result<()> {
        let path = self.join(name);
        if !plain(name) {
            return Err(io_err(&path, "not a plain file name"));
        }
        self.check_target(name)?;
        let tmp = self.write_temp(name, bytes, mode, sync)?;
        let renamed = rustix::fs::renameat(&self.fd, tmp.as_str(), &self.fd, name);
        if let Err(e) = renamed {
            let _ = rustix::fs::unlinkat(&self.fd, tmp.as_str(), AtFlags::empty());
            return Err(io_err(&path, std::io::Error::from(e)));
        }
        Ok(())
    }

    /// Writes `name` only if nothing is there: the whole file appears at once (a new
    /// temporary file, fsynced, hard-linked to `name`, which fails if it exists).
    pub fn write_new(&self, name: &str, bytes: &[u8], mode: u32) -> Result<()> {
        let path = self.join(name);
        if !plain(name) {
            return Err(io_err(&path, "not a plain file name"));
        }
        if self.check_target(name)? {
            return Err(io_err(&path, "already exists"));
        }
        let tmp = self.write_temp(name, bytes, mode, true)?;
        let linked = rustix::fs::linkat(&self.fd, tmp.as_str(), &self.fd, name, AtFlags::empty());
        let _ = rustix::fs::unlinkat(&self.fd, tmp.as_str(), AtFlags::empty());
        linked.map_err(|e| io_err(&path, std::io::Error::from(e)))
    }

    /// Renames `from` over `to`, both in this directory; `to` must not be a symlink or
    /// a non-regular file, `from` must be a regular file.
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        match self.kind(from)? {
            Some(FileType::RegularFile) => {}
            Some(FileType::Symlink) => return Err(symlink_err(&self.join(from))),
            Some(other) => {
                return Err(io_err(
                    &self.join(from),
                    format!("is {}, not a regular file", kind_name(other)),
                ))
            }
            None => return Err(io_err(&self.join(from), "no such file")),
        }
        self.check_target(to)?;
        rustix::fs::renameat(&self.fd, from, &self.fd, to)
            .map_err(|e| io_err(&self.join(to), std::io::Error::from(e)))
    }

    /// Removes the file `name` (a symlink there is removed, never followed); absent is ok.
    pub fn remove(&self, name: &str) -> Result<()> {
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
            Err(e) => Err(io_err(&self.join(name), std::io::Error::from(e))),
        }
    }

    /// Removes the directory `name` if it is empty; anything else is left alone.
    pub fn remove_empty_dir(&self, name: &str) {
        let _ = rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR);
    }

    /// Flushes everything written to the filesystem holding this directory (`syncfs`,
    /// `sync` where there is none): one call after many [`Self::write_unsynced`], before
    /// the file that refers to them is renamed into place.
    pub fn sync_filesystem(&self) -> Result<()> {
        #[cfg(target_os = "linux")]
        {
            rustix::fs::syncfs(&self.fd).map_err(|e| io_err(&self.path, std::io::Error::from(e)))
        }
        #[cfg(not(target_os = "linux"))]
        {
            rustix::fs::sync();
            Ok(())
        }
    }

    /// Flushes this directory's entries (a rename or a new file) to disk.
    pub fn sync(&self) -> Result<()> {
        rustix::fs::fsync(&self.fd).map_err(|e| io_err(&self.path, std::io::Error::from(e)))
    }

    /// Reads `name` (None if absent): refuses a symlink, anything but a regular file,
    /// and more than `cap` bytes.
    pub fn read(&self, name: &str, cap: u64) -> Result<Option<ReadFile>> {
        let path = self.join(name);
        match open_regular(&self.fd, name, &path)? {
            None => Ok(None),
            Some(f) => read_capped(f, &path, cap).map(Some),
        }
    }

    /// Lists the names in this directory.
    pub fn names(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let dir = rustix::fs::Dir::read_from(&self.fd)
            .map_err(|e| io_err(&self.path, std::io::Error::from(e)))?;
        for entry in dir {
            let entry = entry.map_err(|e| io_err(&self.path, std::io::Error::from(e)))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name != "." && name != ".." {
                out.push(name);
            }
        }
        Ok(out)
    }
}

/// A file being written by [`SafeDir::create_file`].
pub(crate) struct NewFile<'a> {
    dir: &'a SafeDir,
    tmp: String,
    name: String,
    file: Option<std::io::BufWriter<File>>,
}

impl NewFile<'_> {
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(&self.tmp);
        match self.file.as_mut() {
            Some(f) => f.write_all(bytes).map_err(|e| io_err(&path, e)),
            None => Err(io_err(&path, "already closed")),
        }
    }

    /// Flushes and fsyncs the file, then renames it over its name (a symlink or
    /// non-regular file there is refused).
    pub fn commit(mut self) -> Result<()> {
        let tmp_path = self.dir.join(&self.tmp);
        let file = self
            .file
            .take()
            .ok_or_else(|| io_err(&tmp_path, "already closed"))?;
        let file = file
            .into_inner()
            .map_err(|e| io_err(&tmp_path, e.error()))?;
        let done = file
            .sync_all()
            .map_err(|e| io_err(&tmp_path, e))
            .and_then(|()| self.dir.check_target(&self.name).map(drop))
            .and_then(|()| {
                rustix::fs::renameat(
                    &self.dir.fd,
                    self.tmp.as_str(),
                    &self.dir.fd,
                    self.name.as_str(),
                )
                .map_err(|e| io_err(&self.dir.join(&self.name), std::io::Error::from(e)))
            });
        if done.is_err() {
            let _ = rustix::fs::unlinkat(&self.dir.fd, self.tmp.as_str(), AtFlags::empty());
        }
        done
    }
}

impl Drop for NewFile<'_> {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = rustix::fs::unlinkat(&self.dir.fd, self.tmp.as_str(), AtFlags::empty());
        }
    }
}

/// A file read by [`SafeDir::read`] or [`read_file`]: its bytes and its mode bits.
pub(crate) struct ReadFile {
    pub bytes: Vec<u8>,
    pub mode: u32,
}

fn not_regular(path: &Path, what: &'static str) -> Error {
    Error::BadInput(format!(
        "{} is {what}, not a regular file: refusing to read it",
        path.display()
    ))
}

fn open_regular(dir: impl std::os::fd::AsFd, name: &str, path: &Path) -> Result<Option<File>> {
    let fd = match rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(rustix::io::Errno::LOOP) => return Err(not_regular(path, "a symlink")),
        Err(e) => return Err(io_err(path, std::io::Error::from(e))),
    };
    let f = File::from(fd);
    let t = f.metadata().map_err(|e| io_err(path, e))?.file_type();
    if !t.is_file() {
        return Err(not_regular(path, std_kind_name(t)));
    }
    Ok(Some(f))
}

fn read_capped(f: File, path: &Path, cap: u64) -> Result<ReadFile> {
    use std::os::unix::fs::PermissionsExt;
    let mode = f
        .metadata()
        .map_err(|e| io_err(path, e))?
        .permissions()
        .mode();
    let mut bytes = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_err(path, e))?;
    if bytes.len() as u64 > cap {
        return Err(Error::BadInput(format!(
            "{} is larger than {cap} bytes: refusing to read it",
            path.display()
        )));
    }
    Ok(ReadFile { bytes, mode })
}

/// Reads the file at `path` (None if absent) as [`SafeDir::read`] does: the last
/// component must not be a symlink and must be a regular file of at most `cap` bytes.
pub(crate) fn read_file(path: &Path, cap: u64) -> Result<Option<ReadFile>> {
    match open_regular(CWD, &path.to_string_lossy(), path)? {
        None => Ok(None),
        Some(f) => read_capped(f, path, cap).map(Some),
    }
}

/// Writes the file the caller named (`export --out FILE` …): its directory is used as
/// named; the file itself is replaced atomically, and must not be a symlink or a
/// non-regular file.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io_err(path, "not a file name"))?;
    let parent = path.parent().unwrap_or(Path::new(""));
    let dir = SafeDir::open(parent)?.ok_or_else(|| io_err(parent, "no such directory"))?;
    dir.write(name, bytes, 0o666)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn writes_refuse_symlinks_and_replace_regular_files() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let dir = SafeDir::create(&t.path().join("out"), 0o755).unwrap();
        dir.write("a.txt", b"one", 0o644).unwrap();
        dir.write("a.txt", b"two", 0o644).unwrap();
        assert_eq!(std::fs::read(t.path().join("out/a.txt")).unwrap(), b"two");
        symlink(&victim, t.path().join("out/b.txt")).unwrap();
        let err = dir.write("b.txt", b"x", 0o644).unwrap_err().to_string();
        assert!(err.contains("refusing to write through symlink"), "{err}");
        symlink(t.path(), t.path().join("out/sub")).unwrap();
        let err = dir.subdir("sub/x", true).err().unwrap().to_string();
        assert!(err.contains("refusing to write through symlink"), "{err}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        let only: Vec<_> = dir.names().unwrap();
        assert_eq!(only.len(), 3, "no temporary file left: {only:?}");
    }
}
