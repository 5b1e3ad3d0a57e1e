//! The layer cache (`--cache DIR`): each layer's [`LayerIndex`], stored under the
//! layer's diff ID, so a re-run of an image whose base layers did not change walks only
//! the new ones.
//!
//! What makes a cached index trustworthy:
//! - The key is the diff ID *and* the blob as stored (its digest when the layout states
//!   one, and its length): per-entry stored sizes and the pull cost depend on the
//!   compression, not only on the tar. The file name is derived from the key, and the
//!   file repeats the whole key, which is compared on every read: a file whose key does
//!   not match is never used.
//! - The walk options that shape an index (header limits, inline hashing) are part of
//!   the key too, and so is this format's version.
//! - The payload ends with its xxh3; a file that fails the check, or does not parse to
//!   its end, is a miss (and is overwritten by the next store).
//! - Entries are written to a temporary file in DIR and renamed into place, so a killed
//!   run leaves at most a stray `.tmp-*` file, never half an entry under a real name.
//!
//! The diff ID comes from the image's config and is not recomputed (that would mean
//! hashing every layer, the read the cache is there to avoid). It is a SHA-256, so two
//! different layers cannot share one by accident.
//!
//! Uncompressed layers carry no content hashes for most files: the pipeline hashes the
//! few it needs with a targeted re-read of the layer, which works on the cached index
//! as on a fresh one (entry offsets are offsets in the tar, whatever file holds it).
//! Those hashes are written back with [`LayerCache::add_hashes`], so the next run
//! re-reads nothing it already hashed.
//!
//! Format (little-endian, integers as LEB128 varints unless said otherwise):
//! `MAGIC`, the key block (length-prefixed), then compression (u8), blob and tar bytes,
//! warnings, the name arena, the entries (kind, path span, size, hash flag and hash
//! (u64), data offset as a delta from the previous entry's, stored bytes, mode, owner
//! and mtime as [`Meta`] folds them), and finally
//! the xxh3-64 of everything before it (u64).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use xxhash_rust::xxh3::xxh3_64;

use crate::format::tar::Meta;
use crate::walk::{Compression, Entry, EntryKind, LayerIndex, Span, WalkOptions};

const MAGIC: &[u8; 8] = b"LWIDX\x00\x00\x02";

/// A directory of cached layer indexes.
#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
}

/// What identifies one layer's index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    bytes: Vec<u8>,
    file_name: String,
}

impl CacheKey {
    /// The key of a layer with this diff ID, stored as this blob, walked with these
    /// options. `None` when there is no usable diff ID (then nothing is cached).
    pub fn new(
        diff_id: Option<&str>,
        blob_digest: Option<&str>,
        blob_len: u64,
        options: &WalkOptions,
    ) -> Option<CacheKey> {
        let diff_id = diff_id?;
        let (algorithm, hex) = diff_id.split_once(':')?;
        let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if !plain(algorithm) || !plain(hex) {
            return None;
        }
        let mut bytes = Vec::new();
        put_bytes(&mut bytes, diff_id.as_bytes());
        put_bytes(&mut bytes, blob_digest.unwrap_or("").as_bytes());
        put(&mut bytes, blob_len);
        put(&mut bytes, options.headers.max_path_bytes);
        put(&mut bytes, options.headers.max_extension_bytes);
        put(&mut bytes, u64::from(options.hash_plain_layers));
        put_bytes(&mut bytes, env!("CARGO_PKG_VERSION").as_bytes());
        let file_name = format!("{algorithm}-{hex}-{:016x}.lwi", xxh3_64(&bytes));
        Some(CacheKey { bytes, file_name })
    }
}

impl LayerCache {
    /// Uses (and creates) `dir`.
    pub fn open(dir: &Path) -> io::Result<LayerCache> {
        fs::create_dir_all(dir)?;
        Ok(LayerCache {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(&key.file_name)
    }

    /// The cached index for `key`, or `None` on a miss, a key mismatch or a damaged
    /// file. Entries beyond `max_entries` are a miss too, so the walk reports them.
    pub fn load(&self, key: &CacheKey, max_entries: u64) -> Option<LayerIndex> {
        let bytes = fs::read(self.path(key)).ok()?;
        let index = decode(&bytes, key)?;
        (index.entries.len() as u64 <= max_entries).then_some(index)
    }

    /// Stores `index` under `key`, atomically. Failing to cache is never an error of
    /// the analysis, so the caller may ignore the result.
    pub fn store(&self, key: &CacheKey, index: &LayerIndex) -> io::Result<()> {
        self.write_atomically(key, &encode(index, key))
    }

    /// Adds content hashes found by the targeted re-read to a cached index: `(data
    /// offset, hash)` pairs of its entries. Offsets that name no file are ignored.
    pub fn add_hashes(&self, key: &CacheKey, hashes: &[(u64, u64)]) -> io::Result<()> {
        let Some(mut index) = self.load(key, u64::MAX) else {
            return Ok(());
        };
        let by_offset: std::collections::HashMap<u64, u64> = hashes.iter().copied().collect();
        let mut changed = false;
        for e in &mut index.entries {
            if e.kind != EntryKind::File {
                continue;
            }
            if let Some(&hash) = by_offset.get(&e.data_pos) {
                changed |= e.hash != Some(hash);
                e.hash = Some(hash);
            }
        }
        if changed {
            self.store(key, &index)?;
        }
        Ok(())
    }

    fn write_atomically(&self, key: &CacheKey, bytes: &[u8]) -> io::Result<()> {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let tmp = self.dir.join(format!(
            ".tmp-{}-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed),
            key.file_name
        ));
        let result = (|| {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_data()?;
            fs::rename(&tmp, self.path(key))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

const KIND_FILE: u8 = 0;
const KIND_DIR: u8 = 1;
const KIND_SYMLINK: u8 = 2;
const KIND_HARD_LINK: u8 = 3;
const KIND_OTHER: u8 = 4;
const KIND_WHITEOUT: u8 = 5;
const KIND_OPAQUE: u8 = 6;

fn encode(index: &LayerIndex, key: &CacheKey) -> Vec<u8> {
    let names = index.names();
    let mut out = Vec::with_capacity(64 + names.len() + index.entries.len() * 16);
    out.extend_from_slice(MAGIC);
    put_bytes(&mut out, &key.bytes);
    out.push(match index.compression {
        None => 0,
        Some(Compression::None) => 1,
        Some(Compression::Gzip) => 2,
        Some(Compression::Zstd) => 3,
    });
    put(&mut out, index.blob_bytes);
    put(&mut out, index.tar_bytes);
    put(&mut out, index.warnings.len() as u64);
    for w in &index.warnings {
        put_bytes(&mut out, w.as_bytes());
    }
    put_bytes(&mut out, names);
    put(&mut out, index.entries.len() as u64);
    let mut last_pos = 0u64;
    for e in &index.entries {
        let (kind, link) = match e.kind {
            EntryKind::File => (KIND_FILE, None),
            EntryKind::Dir => (KIND_DIR, None),
            EntryKind::Symlink => (KIND_SYMLINK, None),
            EntryKind::HardLink(span) => (KIND_HARD_LINK, Some(span)),
            EntryKind::Other => (KIND_OTHER, None),
            EntryKind::Whiteout => (KIND_WHITEOUT, None),
            EntryKind::Opaque => (KIND_OPAQUE, None),
        };
        out.push(kind | if e.hash.is_some() { 0x80 } else { 0 });
        put(&mut out, u64::from(e.path.off));
        put(&mut out, u64::from(e.path.len));
        if let Some(span) = link {
            put(&mut out, u64::from(span.off));
            put(&mut out, u64::from(span.len));
        }
        put(&mut out, e.size);
        if let Some(h) = e.hash {
            out.extend_from_slice(&h.to_le_bytes());
        }
        // Tar order: offsets only grow, so the delta is small.
        put(&mut out, e.data_pos.wrapping_sub(last_pos));
        last_pos = e.data_pos;
        put(&mut out, e.stored);
        put(&mut out, u64::from(e.meta.mode));
        put(&mut out, u64::from(e.meta.owner));
        put(&mut out, u64::from(e.meta.mtime));
    }
    let check = xxh3_64(&out);
    out.extend_from_slice(&check.to_le_bytes());
    out
}

struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.varint()?).ok()
    }

    fn len_prefixed(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        self.take(n)
    }

    fn u64_le(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

fn decode(bytes: &[u8], key: &CacheKey) -> Option<LayerIndex> {
    let (body, check) = bytes.split_at(bytes.len().checked_sub(8)?);
    if xxh3_64(body) != u64::from_le_bytes(check.try_into().ok()?) {
        return None;
    }
    let mut c = Cursor { bytes: body };
    if c.take(MAGIC.len())? != MAGIC || c.len_prefixed()? != key.bytes.as_slice() {
        return None;
    }
    let compression = match c.byte()? {
        0 => None,
        1 => Some(Compression::None),
        2 => Some(Compression::Gzip),
        3 => Some(Compression::Zstd),
        _ => return None,
    };
    let blob_bytes = c.varint()?;
    let tar_bytes = c.varint()?;
    let warnings = (0..c.varint()?)
        .map(|_| String::from_utf8(c.len_prefixed()?.to_vec()).ok())
        .collect::<Option<Vec<String>>>()?;
    let names = c.len_prefixed()?.to_vec();
    let count = usize::try_from(c.varint()?).ok()?;
    // Every entry takes at least 6 bytes: don't let a bad count reserve gigabytes.
    let mut entries = Vec::with_capacity(count.min(c.bytes.len() / 6));
    let span_in = |off: u32, len: u32| {
        (off as usize)
            .checked_add(len as usize)
            .is_some_and(|end| end <= names.len())
            .then_some(Span { off, len })
    };
    let mut last_pos = 0u64;
    for _ in 0..count {
        let tag = c.byte()?;
        let path = span_in(c.u32()?, c.u32()?)?;
        let kind = match tag & 0x7f {
            KIND_FILE => EntryKind::File,
            KIND_DIR => EntryKind::Dir,
            KIND_SYMLINK => EntryKind::Symlink,
            KIND_HARD_LINK => EntryKind::HardLink(span_in(c.u32()?, c.u32()?)?),
            KIND_OTHER => EntryKind::Other,
            KIND_WHITEOUT => EntryKind::Whiteout,
            KIND_OPAQUE => EntryKind::Opaque,
            _ => return None,
        };
        let size = c.varint()?;
        let hash = if tag & 0x80 != 0 {
            Some(c.u64_le()?)
        } else {
            None
        };
        let data_pos = last_pos.wrapping_add(c.varint()?);
        last_pos = data_pos;
        let stored = c.varint()?;
        let meta = Meta {
            mode: u16::try_from(c.varint()?).ok()?,
            owner: c.u32()?,
            mtime: c.u32()?,
        };
        entries.push(Entry {
            path,
            kind,
            size,
            hash,
            data_pos,
            stored,
            meta,
        });
    }
    if !c.bytes.is_empty() {
        return None;
    }
    Some(LayerIndex::from_parts(
        entries,
        names,
        compression,
        blob_bytes,
        tar_bytes,
        warnings,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walk::Spec;

    fn sample() -> LayerIndex {
        let mut index = LayerIndex::default();
        index.push("usr/", Spec::Dir);
        index.push(
            "usr/a",
            Spec::File {
                bytes: 700,
                hash: 42,
            },
        );
        index.push("usr/b", Spec::HardLink("usr/a"));
        index.push("usr/.wh.c", Spec::Whiteout);
        index.push("etc/.wh..wh..opq", Spec::Whiteout);
        index.push("usr/l", Spec::Symlink);
        index.entries[1].data_pos = 1024;
        index.entries[1].stored = 333;
        index.entries[1].hash = None;
        index.entries[1].meta = crate::walk::Meta::new(0o755, 1000, 1000, 1_700_000_000);
        index.compression = Some(Compression::Gzip);
        index.blob_bytes = 9999;
        index.tar_bytes = 10240;
        index.warnings.push("a warning".into());
        index
    }

    fn key(diff: &str) -> CacheKey {
        CacheKey::new(
            Some(diff),
            Some("sha256:blob"),
            9999,
            &WalkOptions::default(),
        )
        .unwrap()
    }

    fn same(a: &LayerIndex, b: &LayerIndex) {
        assert_eq!(a.entries.len(), b.entries.len());
        for (x, y) in a.entries.iter().zip(&b.entries) {
            assert_eq!(a.path(x.path), b.path(y.path));
            assert_eq!(
                (x.size, x.hash, x.data_pos, x.stored, x.meta),
                (y.size, y.hash, y.data_pos, y.stored, y.meta)
            );
            match (x.kind, y.kind) {
                (EntryKind::HardLink(s), EntryKind::HardLink(t)) => {
                    assert_eq!(a.path(s), b.path(t))
                }
                (k, l) => assert_eq!(k, l),
            }
        }
        assert_eq!(
            (a.compression, a.blob_bytes, a.tar_bytes, &a.warnings),
            (b.compression, b.blob_bytes, b.tar_bytes, &b.warnings)
        );
    }

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::open(dir.path()).unwrap();
        let index = sample();
        let k = key("sha256:abc");
        cache.store(&k, &index).unwrap();
        same(&index, &cache.load(&k, u64::MAX).unwrap());
        assert!(cache.load(&k, 2).is_none(), "more entries than allowed");
    }

    #[test]
    fn a_key_mismatch_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::open(dir.path()).unwrap();
        let (a, b) = (key("sha256:aaa"), key("sha256:bbb"));
        cache.store(&a, &sample()).unwrap();
        // An entry copied under another key's name is not trusted.
        fs::copy(cache.path(&a), cache.path(&b)).unwrap();
        assert!(cache.load(&b, u64::MAX).is_none());
        // Nor is one stored for another blob of the same diff ID (other compression).
        let other_blob =
            CacheKey::new(Some("sha256:aaa"), None, 9999, &WalkOptions::default()).unwrap();
        fs::copy(cache.path(&a), cache.path(&other_blob)).unwrap();
        assert!(cache.load(&other_blob, u64::MAX).is_none());
    }

    #[test]
    fn damage_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::open(dir.path()).unwrap();
        let k = key("sha256:abc");
        cache.store(&k, &sample()).unwrap();
        let bytes = fs::read(cache.path(&k)).unwrap();
        for cut in [0, 8, bytes.len() / 2, bytes.len() - 1] {
            fs::write(cache.path(&k), &bytes[..cut]).unwrap();
            assert!(cache.load(&k, u64::MAX).is_none(), "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 1;
        fs::write(cache.path(&k), &flipped).unwrap();
        assert!(cache.load(&k, u64::MAX).is_none());
    }

    #[test]
    fn stores_leave_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::open(dir.path()).unwrap();
        cache.store(&key("sha256:abc"), &sample()).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 1);
        assert!(names[0].starts_with("sha256-abc-"), "{names:?}");
    }

    #[test]
    fn adds_hashes_found_later() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::open(dir.path()).unwrap();
        let k = key("sha256:abc");
        cache.store(&k, &sample()).unwrap();
        cache.add_hashes(&k, &[(1024, 7), (5, 8)]).unwrap();
        let back = cache.load(&k, u64::MAX).unwrap();
        assert_eq!(back.entries[1].hash, Some(7));
    }

    #[test]
    fn odd_diff_ids_are_not_cached() {
        let o = WalkOptions::default();
        assert!(CacheKey::new(None, None, 1, &o).is_none());
        assert!(CacheKey::new(Some("sha256:../../x"), None, 1, &o).is_none());
        assert!(CacheKey::new(Some("nocolon"), None, 1, &o).is_none());
    }
}
