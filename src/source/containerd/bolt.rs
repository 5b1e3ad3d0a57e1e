//! A small read-only reader of bbolt files (containerd's `meta.db`).
//!
//! It reads the bytes of the file and nothing else: no `flock`, so a running
//! containerd, which holds the lock for as long as it runs, does not block it; no mmap,
//! so a writer truncating the file cannot fault us. The layout it relies on:
//!
//! - every page starts with a 16-byte header: id (u64), flags (u16: branch 0x01, leaf
//!   0x02, meta 0x04, freelist 0x10), count (u16), overflow (u32, extra pages it spans);
//! - pages 0 and 1 are meta pages: magic 0xED0CDAED, version 2, page size, flags, the
//!   root bucket (root page, sequence), freelist page, high-water page, transaction ID
//!   and a FNV-1a 64 checksum of the meta fields before it. The valid one with the
//!   higher transaction ID is the current state: a writer that died half-way leaves the
//!   other one;
//! - a branch page holds `count` 16-byte elements (key offset u32, key size u32, child
//!   page u64), a leaf page `count` 16-byte elements (flags u32, offset u32, key size
//!   u32, value size u32); offsets count from the element itself. A leaf value with flag
//!   0x01 is a sub-bucket: a 16-byte header (root page, sequence) and, when its root is
//!   0, an inline page right after it.
//!
//! Everything is bounds-checked and every descent is depth-limited, so a damaged or
//! hostile file ends in an [`BoltError`], never a panic or a loop (fuzz/bolt).

use std::fmt;

const MAGIC: u32 = 0xED0C_DAED;
const VERSION: u32 = 2;
const PAGE_HEADER: usize = 16;
const ELEMENT: usize = 16;
const META_LEN: usize = 64;
const FLAG_BRANCH: u16 = 0x01;
const FLAG_LEAF: u16 = 0x02;
const FLAG_BUCKET: u32 = 0x01;
const BUCKET_HEADER: usize = 16;
/// A B+tree of 2^64 keys is not 64 levels deep; deeper is a cycle.
const MAX_DEPTH: usize = 64;

/// Why a bbolt file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoltError(pub String);

impl fmt::Display for BoltError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BoltError {}

type Result<T> = std::result::Result<T, BoltError>;

fn bad(why: impl Into<String>) -> BoltError {
    BoltError(why.into())
}

/// An opened bbolt file: its bytes and the meta page in force.
pub struct Db {
    data: Vec<u8>,
    page_size: usize,
    root: u64,
    /// The transaction the chosen meta page records, for messages.
    pub txid: u64,
}

/// A bucket: its root page, or an inline leaf page (bytes of the parent's value).
#[derive(Clone, Copy, Debug)]
pub enum Bucket<'a> {
    Paged(u64),
    Inline(&'a [u8]),
}

/// One key of a bucket: a value or a nested bucket.
#[derive(Debug)]
pub enum Item<'a> {
    Value(&'a [u8]),
    Bucket(Bucket<'a>),
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

struct Meta {
    page_size: usize,
    root: u64,
    high_water: u64,
    txid: u64,
}

/// Parses the meta page at byte `at`, or says why it is not a valid one.
fn meta_at(data: &[u8], at: usize) -> std::result::Result<Meta, String> {
    let m = data
        .get(at + PAGE_HEADER..at + PAGE_HEADER + META_LEN)
        .ok_or("the file ends before it")?;
    let flags = u16_at(data, at + 8).unwrap_or(0);
    if flags & 0x04 == 0 {
        return Err(format!("not a meta page (flags {flags:#x})"));
    }
    let magic = u32_at(m, 0).unwrap_or(0);
    if magic != MAGIC {
        return Err(format!("bad magic {magic:#x}"));
    }
    let version = u32_at(m, 4).unwrap_or(0);
    if version != VERSION {
        return Err(format!("unsupported version {version}"));
    }
    let stored = u64_at(m, 56).unwrap_or(0);
    if fnv1a64(&m[..56]) != stored {
        return Err("checksum mismatch".into());
    }
    let page_size = u32_at(m, 8).unwrap_or(0) as usize;
    if !(512..=1 << 20).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("implausible page size {page_size}"));
    }
    Ok(Meta {
        page_size,
        root: u64_at(m, 16).unwrap_or(0),
        high_water: u64_at(m, 40).unwrap_or(0),
        txid: u64_at(m, 48).unwrap_or(0),
    })
}

impl Db {
    /// Reads a database from its bytes: checks both meta pages and keeps the valid one
    /// with the newer transaction.
    pub fn from_bytes(data: Vec<u8>) -> Result<Db> {
        if data.len() < PAGE_HEADER + META_LEN {
            return Err(bad(format!(
                "the file is {} bytes, too short for a bbolt database (truncated?)",
                data.len()
            )));
        }
        let first = meta_at(&data, 0);
        // Page 1 sits one page in; its size is in page 0's meta, or, when that one is
        // damaged, one of the sizes bbolt uses (the OS page size, 4 KiB on most).
        let sizes: Vec<usize> = match &first {
            Ok(m) => vec![m.page_size],
            Err(_) => (12..=16).map(|s| 1usize << s).collect(),
        };
        // The first candidate's complaint is the one to report when none is valid.
        let mut second = Err("the file ends before it".to_string());
        for (i, size) in sizes.into_iter().enumerate() {
            let found = meta_at(&data, size);
            if found.is_ok() || i == 0 {
                second = found;
            }
            if second.is_ok() {
                break;
            }
        }
        let meta = match (first, second) {
            (Ok(a), Ok(b)) => {
                if b.txid > a.txid && b.page_size == a.page_size {
                    b
                } else {
                    a
                }
            }
            (Ok(a), Err(_)) => a,
            (Err(_), Ok(b)) => b,
            (Err(a), Err(b)) => {
                return Err(bad(format!(
                    "not a valid bbolt database: meta page 0: {a}; meta page 1: {b}"
                )))
            }
        };
        let pages = (data.len() / meta.page_size) as u64;
        if meta.high_water > pages {
            return Err(bad(format!(
                "the database claims {} pages but the file holds {pages} (truncated?)",
                meta.high_water
            )));
        }
        Ok(Db {
            page_size: meta.page_size,
            root: meta.root,
            txid: meta.txid,
            data,
        })
    }

    /// The top-level bucket.
    pub fn root(&self) -> Bucket<'_> {
        Bucket::Paged(self.root)
    }

    /// The bytes of page `id`, including its overflow pages.
    fn page(&self, id: u64) -> Result<&[u8]> {
        if id < 2 {
            return Err(bad(format!("a bucket points at meta page {id}")));
        }
        let start = usize::try_from(id)
            .ok()
            .and_then(|i| i.checked_mul(self.page_size))
            .filter(|&s| s + PAGE_HEADER <= self.data.len())
            .ok_or_else(|| {
                bad(format!(
                    "page {id} is past the end of the file (truncated?)"
                ))
            })?;
        let overflow = u32_at(&self.data, start + 12).unwrap_or(0) as usize;
        let len = (overflow + 1)
            .checked_mul(self.page_size)
            .ok_or_else(|| bad(format!("page {id}: implausible overflow {overflow}")))?;
        let stored = u64_at(&self.data, start).unwrap_or(0);
        if stored != id {
            return Err(bad(format!("page {id} holds the header of page {stored}")));
        }
        self.data.get(start..start + len).ok_or_else(|| {
            bad(format!(
                "page {id} runs past the end of the file (truncated?)"
            ))
        })
    }

    /// Every key of `bucket`, in order, with its value or sub-bucket.
    pub fn for_each<'a>(
        &'a self,
        bucket: Bucket<'a>,
        f: &mut dyn FnMut(&'a [u8], Item<'a>) -> Result<()>,
    ) -> Result<()> {
        match bucket {
            Bucket::Paged(id) => self.walk(self.page(id)?, f, 0),
            Bucket::Inline(page) => self.walk(page, f, 0),
        }
    }

    fn walk<'a>(
        &'a self,
        page: &'a [u8],
        f: &mut dyn FnMut(&'a [u8], Item<'a>) -> Result<()>,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(bad("the tree is deeper than any real one (a cycle?)"));
        }
        let flags = u16_at(page, 8).unwrap_or(0);
        let count = u16_at(page, 10).unwrap_or(0) as usize;
        if PAGE_HEADER + count * ELEMENT > page.len() {
            return Err(bad(format!(
                "page {} lists {count} elements that do not fit in it",
                u64_at(page, 0).unwrap_or(0)
            )));
        }
        if flags & FLAG_BRANCH != 0 {
            for i in 0..count {
                let child = u64_at(page, PAGE_HEADER + i * ELEMENT + 8).unwrap_or(0);
                self.walk(self.page(child)?, f, depth + 1)?;
            }
            Ok(())
        } else if flags & FLAG_LEAF != 0 {
            for i in 0..count {
                let (leaf_flags, key, value) = leaf_element(page, i)?;
                let item = if leaf_flags & FLAG_BUCKET != 0 {
                    Item::Bucket(sub_bucket(value)?)
                } else {
                    Item::Value(value)
                };
                f(key, item)?;
            }
            Ok(())
        } else {
            Err(bad(format!(
                "page {} is neither a branch nor a leaf (flags {flags:#x})",
                u64_at(page, 0).unwrap_or(0)
            )))
        }
    }

    /// The value or sub-bucket under `key`, descending branch pages to the one child
    /// whose range holds it: the last element whose key is not greater.
    pub fn get<'a>(&'a self, bucket: Bucket<'a>, key: &[u8]) -> Result<Option<Item<'a>>> {
        let mut page = match bucket {
            Bucket::Paged(id) => self.page(id)?,
            Bucket::Inline(page) => page,
        };
        for _ in 0..=MAX_DEPTH {
            let flags = u16_at(page, 8).unwrap_or(0);
            let count = u16_at(page, 10).unwrap_or(0) as usize;
            if PAGE_HEADER + count * ELEMENT > page.len() {
                return Err(bad("a page lists more elements than fit in it"));
            }
            if flags & FLAG_BRANCH != 0 {
                if count == 0 {
                    return Ok(None);
                }
                let mut chosen = 0;
                for i in 0..count {
                    let at = PAGE_HEADER + i * ELEMENT;
                    let pos = u32_at(page, at).unwrap_or(0) as usize;
                    let ksize = u32_at(page, at + 4).unwrap_or(0) as usize;
                    let k = slice(page, at, pos, ksize)?;
                    if k <= key {
                        chosen = i;
                    } else {
                        break;
                    }
                }
                let child = u64_at(page, PAGE_HEADER + chosen * ELEMENT + 8).unwrap_or(0);
                page = self.page(child)?;
            } else if flags & FLAG_LEAF != 0 {
                for i in 0..count {
                    let (leaf_flags, k, value) = leaf_element(page, i)?;
                    if k == key {
                        return Ok(Some(if leaf_flags & FLAG_BUCKET != 0 {
                            Item::Bucket(sub_bucket(value)?)
                        } else {
                            Item::Value(value)
                        }));
                    }
                }
                return Ok(None);
            } else {
                return Err(bad(format!(
                    "page {} is neither a branch nor a leaf (flags {flags:#x})",
                    u64_at(page, 0).unwrap_or(0)
                )));
            }
        }
        Err(bad("the tree is deeper than any real one (a cycle?)"))
    }

    /// The sub-bucket under `key`, if that key holds one.
    pub fn bucket<'a>(&'a self, parent: Bucket<'a>, key: &[u8]) -> Result<Option<Bucket<'a>>> {
        Ok(match self.get(parent, key)? {
            Some(Item::Bucket(b)) => Some(b),
            _ => None,
        })
    }

    /// The plain value under `key`, if that key holds one.
    pub fn value<'a>(&'a self, parent: Bucket<'a>, key: &[u8]) -> Result<Option<&'a [u8]>> {
        Ok(match self.get(parent, key)? {
            Some(Item::Value(v)) => Some(v),
            _ => None,
        })
    }

    /// The names of the sub-buckets of `parent`, in key order.
    pub fn bucket_names<'a>(&'a self, parent: Bucket<'a>) -> Result<Vec<&'a [u8]>> {
        let mut names = Vec::new();
        self.for_each(parent, &mut |k, item| {
            if matches!(item, Item::Bucket(_)) {
                names.push(k);
            }
            Ok(())
        })?;
        Ok(names)
    }
}

fn slice(page: &[u8], element: usize, pos: usize, len: usize) -> Result<&[u8]> {
    element
        .checked_add(pos)
        .and_then(|start| Some((start, start.checked_add(len)?)))
        .and_then(|(start, end)| page.get(start..end))
        .ok_or_else(|| bad("an element's key or value runs past its page"))
}

fn leaf_element(page: &[u8], i: usize) -> Result<(u32, &[u8], &[u8])> {
    let at = PAGE_HEADER + i * ELEMENT;
    let flags = u32_at(page, at).unwrap_or(0);
    let pos = u32_at(page, at + 4).unwrap_or(0) as usize;
    let ksize = u32_at(page, at + 8).unwrap_or(0) as usize;
    let vsize = u32_at(page, at + 12).unwrap_or(0) as usize;
    let key = slice(page, at, pos, ksize)?;
    let value = slice(page, at, pos.saturating_add(ksize), vsize)?;
    Ok((flags, key, value))
}

fn sub_bucket(value: &[u8]) -> Result<Bucket<'_>> {
    // The whole header, not only the root's 8 bytes: an inline page starts after it.
    if value.len() < BUCKET_HEADER {
        return Err(bad("a bucket value is shorter than its header"));
    }
    let root = u64_at(value, 0).unwrap_or(0);
    if root == 0 {
        let inline = &value[BUCKET_HEADER..];
        if inline.len() < PAGE_HEADER {
            return Err(bad("an inline bucket is shorter than a page header"));
        }
        Ok(Bucket::Inline(inline))
    } else {
        Ok(Bucket::Paged(root))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes a tiny bbolt file by hand: `pages` are (flags, count, body) put at
    /// pages 2.. of `page_size`; meta pages point their root at `root`.
    pub(crate) struct Builder {
        pub page_size: usize,
        pub pages: Vec<Vec<u8>>,
    }

    impl Builder {
        pub(crate) fn new(page_size: usize) -> Builder {
            Builder {
                page_size,
                pages: Vec::new(),
            }
        }

        /// Adds a leaf page of (key, value, is_bucket) and returns its id.
        pub(crate) fn leaf(&mut self, items: &[(&[u8], Vec<u8>, bool)]) -> u64 {
            let id = 2 + self.pages.len() as u64;
            let page = leaf_page(id, items);
            self.pages.push(page);
            id
        }

        /// Adds a branch page over (first key, child) and returns its id.
        pub(crate) fn branch(&mut self, children: &[(&[u8], u64)]) -> u64 {
            let id = 2 + self.pages.len() as u64;
            let mut p = header(id, FLAG_BRANCH, children.len());
            let mut data = Vec::new();
            let base = PAGE_HEADER + children.len() * ELEMENT;
            for (i, (key, child)) in children.iter().enumerate() {
                let elem = PAGE_HEADER + i * ELEMENT;
                let pos = base + data.len() - elem;
                p.extend((pos as u32).to_le_bytes());
                p.extend((key.len() as u32).to_le_bytes());
                p.extend(child.to_le_bytes());
                data.extend_from_slice(key);
            }
            p.extend(data);
            self.pages.push(p);
            id
        }

        pub(crate) fn build(&self, root: u64, txids: (u64, u64)) -> Vec<u8> {
            let n = 2 + self.pages.len();
            let mut out = vec![0u8; n * self.page_size];
            for (i, txid) in [txids.0, txids.1].into_iter().enumerate() {
                let m = meta_page(i as u64, self.page_size, root, n as u64, txid);
                out[i * self.page_size..i * self.page_size + m.len()].copy_from_slice(&m);
            }
            for (i, p) in self.pages.iter().enumerate() {
                let at = (2 + i) * self.page_size;
                assert!(p.len() <= self.page_size, "test page too big");
                out[at..at + p.len()].copy_from_slice(p);
            }
            out
        }
    }

    fn header(id: u64, flags: u16, count: usize) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend(id.to_le_bytes());
        p.extend(flags.to_le_bytes());
        p.extend((count as u16).to_le_bytes());
        p.extend(0u32.to_le_bytes());
        p
    }

    pub(crate) fn leaf_page(id: u64, items: &[(&[u8], Vec<u8>, bool)]) -> Vec<u8> {
        let mut p = header(id, FLAG_LEAF, items.len());
        let mut data = Vec::new();
        let base = PAGE_HEADER + items.len() * ELEMENT;
        for (i, (key, value, is_bucket)) in items.iter().enumerate() {
            let elem = PAGE_HEADER + i * ELEMENT;
            let pos = base + data.len() - elem;
            p.extend((u32::from(*is_bucket)).to_le_bytes());
            p.extend((pos as u32).to_le_bytes());
            p.extend((key.len() as u32).to_le_bytes());
            p.extend((value.len() as u32).to_le_bytes());
            data.extend_from_slice(key);
            data.extend_from_slice(value);
        }
        p.extend(data);
        p
    }

    /// A sub-bucket value: a paged root, or an inline leaf.
    pub(crate) fn bucket_value(root: u64, inline: &[(&[u8], Vec<u8>, bool)]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(root.to_le_bytes());
        v.extend(0u64.to_le_bytes());
        if root == 0 {
            v.extend(leaf_page(0, inline));
        }
        v
    }

    fn meta_page(id: u64, page_size: usize, root: u64, high: u64, txid: u64) -> Vec<u8> {
        let mut p = header(id, 0x04, 0);
        let mut m = Vec::new();
        m.extend(MAGIC.to_le_bytes());
        m.extend(VERSION.to_le_bytes());
        m.extend((page_size as u32).to_le_bytes());
        m.extend(0u32.to_le_bytes());
        m.extend(root.to_le_bytes());
        m.extend(0u64.to_le_bytes());
        m.extend(0u64.to_le_bytes()); // freelist
        m.extend(high.to_le_bytes());
        m.extend(txid.to_le_bytes());
        let sum = fnv1a64(&m);
        m.extend(sum.to_le_bytes());
        p.extend(m);
        p
    }

    fn keys(db: &Db, b: Bucket<'_>) -> Vec<String> {
        let mut out = Vec::new();
        db.for_each(b, &mut |k, _| {
            out.push(String::from_utf8_lossy(k).into_owned());
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn reads_nested_and_inline_buckets() {
        let mut b = Builder::new(4096);
        let inner = bucket_value(0, &[(b"digest", b"sha256:ab".to_vec(), false)]);
        let leaf = b.leaf(&[(b"a", b"1".to_vec(), false), (b"t", inner, true)]);
        let db = Db::from_bytes(b.build(leaf, (1, 2))).unwrap();
        assert_eq!(keys(&db, db.root()), ["a", "t"]);
        let t = db.bucket(db.root(), b"t").unwrap().unwrap();
        assert_eq!(db.value(t, b"digest").unwrap(), Some(&b"sha256:ab"[..]));
        assert_eq!(db.value(db.root(), b"a").unwrap(), Some(&b"1"[..]));
        assert!(db.get(db.root(), b"zz").unwrap().is_none());
    }

    /// The multi-page case other readers get wrong: a key lives in the child whose
    /// first key is the greatest one not above it, not the first or last child.
    #[test]
    fn descends_to_the_right_child_of_a_branch() {
        let mut b = Builder::new(4096);
        let l1 = b.leaf(&[(b"a", b"1".to_vec(), false), (b"c", b"3".to_vec(), false)]);
        let l2 = b.leaf(&[(b"e", b"5".to_vec(), false), (b"g", b"7".to_vec(), false)]);
        let l3 = b.leaf(&[(b"m", b"13".to_vec(), false)]);
        let root = b.branch(&[(b"a", l1), (b"e", l2), (b"m", l3)]);
        let db = Db::from_bytes(b.build(root, (5, 4))).unwrap();
        assert_eq!(keys(&db, db.root()), ["a", "c", "e", "g", "m"]);
        for (k, v) in [("a", "1"), ("c", "3"), ("e", "5"), ("g", "7"), ("m", "13")] {
            assert_eq!(
                db.value(db.root(), k.as_bytes()).unwrap(),
                Some(v.as_bytes()),
                "{k}"
            );
        }
        assert!(db.get(db.root(), b"f").unwrap().is_none());
        assert!(db.get(db.root(), b"0").unwrap().is_none());
    }

    #[test]
    fn picks_the_newest_valid_meta_page() {
        let mut b = Builder::new(4096);
        let old = b.leaf(&[(b"k", b"old".to_vec(), false)]);
        let new = b.leaf(&[(b"k", b"new".to_vec(), false)]);
        // Meta 0 points at `old` (txid 1), meta 1 at `new` (txid 2).
        let mut bytes = b.build(old, (1, 2));
        let with_new = b.build(new, (1, 2));
        bytes[4096..8192].copy_from_slice(&with_new[4096..8192]);
        let db = Db::from_bytes(bytes.clone()).unwrap();
        assert_eq!(db.txid, 2);
        assert_eq!(db.value(db.root(), b"k").unwrap(), Some(&b"new"[..]));
        // A torn write of meta 1: its checksum fails, meta 0 is used.
        bytes[4096 + 16 + 48] ^= 0xff;
        let db = Db::from_bytes(bytes.clone()).unwrap();
        assert_eq!(db.txid, 1);
        assert_eq!(db.value(db.root(), b"k").unwrap(), Some(&b"old"[..]));
        // Both torn: an error that says so.
        bytes[16 + 48] ^= 0xff;
        let err = Db::from_bytes(bytes).err().unwrap();
        assert_eq!(
            err.to_string(),
            "not a valid bbolt database: meta page 0: checksum mismatch; meta page 1: checksum mismatch"
        );
    }

    /// Found by fuzz/bolt (709k executions): a bucket value of 8 to 15 bytes.
    #[test]
    fn a_bucket_value_shorter_than_its_header_is_an_error() {
        let mut b = Builder::new(4096);
        let leaf = b.leaf(&[(b"b", vec![0u8; 12], true)]);
        let db = Db::from_bytes(b.build(leaf, (1, 2))).unwrap();
        let err = db.bucket(db.root(), b"b").unwrap_err();
        assert_eq!(err.to_string(), "a bucket value is shorter than its header");
        assert!(db.for_each(db.root(), &mut |_, _| Ok(())).is_err());
    }

    #[test]
    fn truncated_and_cyclic_files_are_errors() {
        let mut b = Builder::new(4096);
        let leaf = b.leaf(&[(b"k", b"v".to_vec(), false)]);
        let bytes = b.build(leaf, (1, 2));
        let err = Db::from_bytes(bytes[..4096 * 2 + 100].to_vec())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "the database claims 3 pages but the file holds 2 (truncated?)"
        );
        let err = Db::from_bytes(bytes[..40].to_vec()).err().unwrap();
        assert!(err.to_string().contains("too short"), "{err}");
        // A branch whose child is itself.
        let mut b = Builder::new(4096);
        let id = b.branch(&[(b"a", 2)]);
        let db = Db::from_bytes(b.build(id, (1, 2))).unwrap();
        let err = db.for_each(db.root(), &mut |_, _| Ok(())).unwrap_err();
        assert!(err.to_string().contains("deeper"), "{err}");
        assert!(db.get(db.root(), b"a").is_err());
    }
}
