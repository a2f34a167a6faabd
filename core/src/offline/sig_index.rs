//! Rule 7 (no replays) for a streamed export, in flat memory: see [`SigIndex`].

use super::stream::read_line;
use super::MAX_LINE_BYTES;
use crate::replay::ReplayIndex;
use serde_json::Value;
use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{self, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use waymark_events::parse_strict;

/// Rule 7 for a streamed export, in ≈ 20 bytes an event.
///
/// One 16-byte slot per signature: a 64-bit keyed hash of it (SipHash with a random
/// key, so a log's author cannot craft colliding signatures to slow the check down)
/// and the byte offset of its line in the export. Open addressing with linear probing,
/// at most 80 % full (presized from the line count; it doubles if that was short).
/// Equal hashes are confirmed by re-reading the earlier line from the file, so a
/// replay is reported exactly when the full signature was recorded before.
///
/// Why a table of its own: the well-kept `hashbrown::HashTable<(u64, u64)>` does the
/// same job (external hashes, a custom equality) but rounds its buckets up to a power
/// of two at 7/8 load and adds a control byte to each: measured with hashbrown 0.15.5,
/// presized the same way, it holds 22 to 36 bytes an event (35.7 MB at 1M events,
/// 71.3 MB at 2M) against 20 here (20 MB, 40 MB). Storing only the offset there
/// (9 bytes a bucket) would leave its 7-bit tag as the only filter, and every false
/// candidate (1 in 128 of the entries probed) would re-read an earlier line from the
/// file. `verify-offline` promises flat memory, so the table stays.
#[derive(Debug)]
pub(crate) struct SigIndex {
    slots: Vec<Slot>,
    len: usize,
    hasher: RandomState,
    /// Applied to every hash: `u64::MAX`; tests narrow it to force collisions.
    mask: u64,
    path: PathBuf,
    file: Option<File>,
    /// The offset of the line being replayed (set by the stream before each step).
    current: u64,
    /// An I/O error met while re-reading; the stream stops with it.
    pub(crate) error: Option<io::Error>,
    /// How many earlier lines were re-read.
    rereads: u64,
}

/// `(keyed hash of the signature, offset of its line)`; `offset == FREE` marks a free slot.
type Slot = (u64, u64);
const FREE: u64 = u64::MAX;

impl SigIndex {
    /// An index for about `expected` events of the export at `path`.
    pub(crate) fn new(path: &Path, expected: u64) -> SigIndex {
        let expected = usize::try_from(expected).unwrap_or(usize::MAX / 32);
        SigIndex {
            slots: vec![(0, FREE); Self::slots_for(expected)],
            len: 0,
            hasher: RandomState::new(),
            mask: u64::MAX,
            path: path.to_path_buf(),
            file: None,
            current: 0,
            error: None,
            rereads: 0,
        }
    }

    /// Slots for `n` entries at 80 % load.
    fn slots_for(n: usize) -> usize {
        (n + n / 4 + 1).max(16)
    }

    /// The offset of the line whose signature is inserted next.
    pub(crate) fn locate(&mut self, offset: u64) {
        self.current = offset;
    }

    /// Bytes held by the table (its slots; the rest is a few words).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }

    fn home(&self, key: u64) -> usize {
        ((u128::from(key) * self.slots.len() as u128) >> 64) as usize
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        self.slots = vec![(0, FREE); old.len() * 2];
        for (key, offset) in old.into_iter().filter(|s| s.1 != FREE) {
            let mut i = self.home(key);
            while self.slots[i].1 != FREE {
                i = (i + 1) % self.slots.len();
            }
            self.slots[i] = (key, offset);
        }
    }

    /// The `sig` of the export line at `offset`.
    fn sig_at(&mut self, offset: u64) -> io::Result<String> {
        self.rereads += 1;
        if self.file.is_none() {
            self.file = Some(File::open(&self.path)?);
        }
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("no file"))?;
        file.seek(SeekFrom::Start(offset))?;
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        read_line(&mut reader, &mut line, MAX_LINE_BYTES)?;
        let changed = || {
            io::Error::other(format!(
                "the line at byte {offset} changed since it was verified"
            ))
        };
        let body = line.strip_suffix(b"\n").ok_or_else(changed)?;
        let value = parse_strict(body).map_err(|_| changed())?;
        value
            .get("sig")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(changed)
    }
}

impl ReplayIndex for SigIndex {
    fn insert_sig(&mut self, _seq: u64, sig: &str) -> bool {
        if (self.len + 1) * 5 > self.slots.len() * 4 {
            self.grow();
        }
        let key = self.hasher.hash_one(sig) & self.mask;
        let mut i = self.home(key);
        loop {
            let (k, offset) = self.slots[i];
            if offset == FREE {
                self.slots[i] = (key, self.current);
                self.len += 1;
                return true;
            }
            if k == key {
                match self.sig_at(offset) {
                    Ok(earlier) if earlier == sig => return false,
                    Ok(_) => {}
                    Err(e) => {
                        self.error = Some(e);
                        return true;
                    }
                }
            }
            i = (i + 1) % self.slots.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Lines `{"sig":"…"}` at known offsets, and an index over them.
    fn sigs_file(sigs: &[&str]) -> (tempfile::NamedTempFile, Vec<u64>) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let mut offsets = Vec::new();
        let mut at = 0u64;
        for s in sigs {
            offsets.push(at);
            let line = format!("{{\"sig\":\"{s}\"}}\n");
            f.write_all(line.as_bytes()).unwrap();
            at += line.len() as u64;
        }
        f.flush().unwrap();
        (f, offsets)
    }

    fn feed(index: &mut SigIndex, sigs: &[&str], offsets: &[u64]) -> Vec<bool> {
        sigs.iter()
            .zip(offsets)
            .enumerate()
            .map(|(i, (s, o))| {
                index.locate(*o);
                let fresh = index.insert_sig(i as u64 + 1, s);
                assert!(index.error.is_none(), "{:?}", index.error);
                fresh
            })
            .collect()
    }

    #[test]
    fn replays_are_found_exactly_even_when_every_hash_collides() {
        let sigs = ["a", "b", "c", "a", "d", "b", "e"];
        let (f, offsets) = sigs_file(&sigs);
        for mask in [u64::MAX, 0xF, 0] {
            let mut index = SigIndex::new(f.path(), 2); // too small: it must grow
            index.mask = mask;
            let fresh = feed(&mut index, &sigs, &offsets);
            assert_eq!(
                fresh,
                [true, true, true, false, true, false, true],
                "mask {mask:x}"
            );
            if mask == 0 {
                // Every lookup compared full signatures read back from the file.
                assert!(index.rereads >= 10, "{}", index.rereads);
            }
        }
    }

    #[test]
    fn a_line_changed_under_the_index_is_an_io_error_not_a_verdict() {
        let (f, offsets) = sigs_file(&["a", "b"]);
        let mut index = SigIndex::new(f.path(), 2);
        index.mask = 0;
        index.locate(offsets[0]);
        assert!(index.insert_sig(1, "a"));
        std::fs::write(f.path(), b"garbage\n").unwrap();
        index.locate(offsets[1]);
        index.insert_sig(2, "b");
        assert!(index.error.is_some());
    }

    /// Memory flatness, structurally: the replay index holds one fixed-size slot per
    /// event (16 bytes) and at most 1.25 slots per event plus a constant, whatever the
    /// signatures; nothing else in the stream grows with the log (the frontier holds
    /// one hash per set bit of the size, the test of the same name in `offline`).
    #[test]
    fn the_replay_index_holds_fixed_size_entries() {
        assert_eq!(std::mem::size_of::<Slot>(), 16);
        let n = 10_000usize;
        let dir = tempfile::tempdir().unwrap();
        let mut index = SigIndex::new(&dir.path().join("unused"), n as u64);
        let before = index.heap_bytes();
        for i in 0..n {
            index.locate(i as u64 * 300);
            // Long signatures: their length must not matter.
            let sig = format!("{i:0>88}");
            assert!(index.insert_sig(i as u64 + 1, &sig));
        }
        assert_eq!(index.heap_bytes(), before, "presized: no growth");
        assert!(
            index.heap_bytes() <= 20 * n + 16 * 16,
            "{}",
            index.heap_bytes()
        );
    }
}
