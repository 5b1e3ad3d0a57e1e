//! Reads one layer's tar into a compact index of entries, without unpacking anything.
//!
//! This is the only place that decompresses and the only rayon user. Each layer is
//! walked on its own, so the pipeline can run them in parallel and hand the indexes to
//! the sequential replay in [`crate::model`].

pub mod cache;
pub mod hash;
pub mod path;
pub mod stored;

use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use hash::{hash_wide, WideHasher};
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

pub use crate::format::codec::Compression;
use crate::format::codec::{Counting, GzipMembers, Labelled};
use path::Meaning;

pub use crate::format::tar::Meta;
use crate::format::tar::{
    HeaderLimits, Kind, Seeking, Skip, Streaming, StreamingBuf, TarError, TarReader,
};
use crate::format::tar_split::TarSplit;
use crate::progress::Progress;
use crate::source::BlobLocation;

/// A slice of a [`LayerIndex`]'s name arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub(crate) off: u32,
    pub(crate) len: u32,
}

/// What an entry does to the tree, as the waste model distinguishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// A hard link to the given (normalised) target path.
    HardLink(Span),
    /// Devices, FIFOs and unknown types: present in the tree, zero bytes.
    Other,
    /// `.wh.NAME`: the entry's path is the path it hides.
    Whiteout,
    /// `.wh..wh..opq`: the entry's path is the directory whose lower children it hides.
    Opaque,
}

#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub path: Span,
    pub kind: EntryKind,
    /// Bytes of a regular file (the tar size field); 0 for everything else.
    pub size: u64,
    /// Content hash (xxh3-64) when it was computed during the walk.
    pub hash: Option<u64>,
    /// Offset of the entry's data in the uncompressed tar, for a targeted re-read.
    pub data_pos: u64,
    /// Stored bytes of the entry (header and padded data): for compressed layers the
    /// compressed bytes it took, estimated as [`stored`] explains.
    pub stored: u64,
    /// Mode, owner and times, to tell what a later copy of the path changed.
    pub meta: Meta,
}

/// Everything the model needs from one layer, in tar order. `Clone` for the in-run
/// store of shared layers (`analyze::shared`), which hands one index to many images.
#[derive(Debug, Default, Clone)]
pub struct LayerIndex {
    pub entries: Vec<Entry>,
    names: Vec<u8>,
    pub compression: Option<Compression>,
    /// Bytes of the blob as stored (compressed size), and of its tar.
    pub blob_bytes: u64,
    pub tar_bytes: u64,
    pub warnings: Vec<String>,
}

impl LayerIndex {
    pub fn path(&self, span: Span) -> &[u8] {
        &self.names[span.off as usize..(span.off + span.len) as usize]
    }

    /// Bytes in the name arena.
    pub fn names_len(&self) -> usize {
        self.names.len()
    }

    /// The name arena that the entries' spans point into (for the layer cache).
    pub(crate) fn names(&self) -> &[u8] {
        &self.names
    }

    /// An index put back together from its parts (by the layer cache, which checked
    /// that every span lies inside `names`).
    pub(crate) fn from_parts(
        entries: Vec<Entry>,
        names: Vec<u8>,
        compression: Option<Compression>,
        blob_bytes: u64,
        tar_bytes: u64,
        warnings: Vec<String>,
    ) -> LayerIndex {
        LayerIndex {
            entries,
            names,
            compression,
            blob_bytes,
            tar_bytes,
            warnings,
        }
    }

    fn intern(&mut self, bytes: &[u8]) -> Result<Span, String> {
        let off = u32::try_from(self.names.len()).ok();
        let len = u32::try_from(bytes.len()).ok();
        match (off, len) {
            (Some(off), Some(len)) if off.checked_add(len).is_some() => {
                self.names.extend_from_slice(bytes);
                Ok(Span { off, len })
            }
            _ => Err("the layer's names exceed 4 GiB".into()),
        }
    }

    /// Heap bytes held, for the memory accounting in the benchmark.
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>() + self.names.capacity()
    }
}

/// How to walk: limits, and whether to hash file contents while reading.
#[derive(Debug, Clone, Copy)]
pub struct WalkOptions {
    pub headers: HeaderLimits,
    /// Most entries one layer may hold before the walk stops with an error.
    pub max_entries: u64,
    /// Hash every regular file while walking. Off for seekable uncompressed layers,
    /// whose few contents that matter are re-read afterwards.
    pub hash_plain_layers: bool,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            headers: HeaderLimits::default(),
            max_entries: 50_000_000,
            hash_plain_layers: false,
        }
    }
}

/// Why a walk failed, with the entry being read (raw bytes, escaped by the caller).
#[derive(Debug)]
pub struct WalkError {
    pub why: String,
    pub entry: Option<Vec<u8>>,
}

impl From<TarError> for WalkError {
    fn from(e: TarError) -> Self {
        WalkError {
            why: e.why,
            entry: e.entry,
        }
    }
}

impl WalkError {
    fn new(why: impl Into<String>) -> Self {
        WalkError {
            why: why.into(),
            entry: None,
        }
    }
}

/// Walks a layer stored as a byte range of a file.
pub fn walk_blob(
    location: &BlobLocation,
    options: &WalkOptions,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Result<LayerIndex, WalkError> {
    let reader = location
        .open()
        .map_err(|e| WalkError::new(format!("cannot open {}: {e}", location.file.display())))?;
    let mut head = [0u8; 6];
    let n = head.len().min(location.len as usize);
    reader
        .read_exact_at(0, &mut head[..n])
        .map_err(|e| WalkError::new(format!("cannot read: {e}")))?;
    let compression = Compression::sniff(&head[..n]).map_err(WalkError::new)?;
    let mut index = match compression {
        Compression::None => {
            let mut walker =
                Walker::new(options, options.hash_plain_layers, progress, cancel, None);
            // Page-sized refills at most: the header walk seeks over data it need not copy.
            let reader = reader.with_fixed_chunk(4096);
            let mut tar = TarReader::new(Seeking(reader), options.headers);
            walker.run(&mut tar)?;
            let reader = tar.into_inner().0;
            progress.advance(reader.len().saturating_sub(walker.reported));
            walker.index.tar_bytes = reader.position();
            walker.index
        }
        _ => walk_compressed(reader, compression, options, progress, cancel)?,
    };
    index.blob_bytes = location.len;
    Ok(index)
}

/// Walks a layer from its tar-split file (Docker's data root, containers/storage):
/// the recorded headers go through the same per-entry code as a real tar, and each
/// file's recorded CRC-64 stands for its content. No content is read.
pub fn walk_tar_split(
    path: &std::path::Path,
    options: &WalkOptions,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Result<LayerIndex, WalkError> {
    let file = std::fs::File::open(path)
        .map_err(|e| WalkError::new(format!("cannot open {}: {e}", path.display())))?;
    let lines = BufReader::with_capacity(
        256 * 1024,
        flate2::read::GzDecoder::new(BufReader::new(file)),
    );
    let mut walker = Walker::new(options, false, progress, cancel, None);
    let mut tar = TarReader::new(TarSplit::new(lines), options.headers);
    walker.run(&mut tar).map_err(|e| WalkError {
        why: format!("{}: {}", path.display(), e.why),
        entry: e.entry,
    })?;
    // What follows the end marker (the second zero block, padding to the record size)
    // is part of the layer's size.
    let mut split = tar.into_inner();
    io::copy(&mut split, &mut io::sink())
        .map_err(|e| WalkError::new(format!("reading {}: {e}", path.display())))?;
    let mut index = walker.index;
    index.tar_bytes = split.pos;
    index.blob_bytes = split.pos;
    Ok(index)
}

/// Walks a layer that can only be read once, front to back (stdin, a compressed outer
/// archive). Plain layers are hashed as they pass, since there is no second read.
pub fn walk_stream(
    reader: &mut dyn Read,
    options: &WalkOptions,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Result<LayerIndex, WalkError> {
    let mut buffered = BufReader::with_capacity(256 * 1024, reader);
    let head = io::BufRead::fill_buf(&mut buffered)
        .map_err(|e| WalkError::new(format!("cannot read: {e}")))?;
    let compression = Compression::sniff(head).map_err(WalkError::new)?;
    let mut counted = Counting::new(buffered);
    let index = match compression {
        Compression::None => {
            let mut walker = Walker::new(options, true, progress, cancel, None);
            let mut tar = TarReader::new(Streaming(&mut counted), options.headers);
            walker.run(&mut tar)?;
            let mut index = walker.index;
            index.tar_bytes = tar_position(&index);
            // A stream is read to its end, so the next member starts where it should.
            io::copy(&mut counted, &mut io::sink())
                .map_err(|e| WalkError::new(format!("reading past the end marker: {e}")))?;
            index
        }
        _ => walk_compressed(&mut counted, compression, options, progress, cancel)?,
    };
    Ok(LayerIndex {
        blob_bytes: counted.count(),
        ..index
    })
}

/// A reader whose every `read` fills the buffer it is given, unless the input ends:
/// what a file gives, made true of every source. An error after some bytes is kept and
/// returned by the next call, so none is lost.
struct FullReads<R> {
    inner: R,
    pending: Option<io::Error>,
}

impl<R: Read> FullReads<R> {
    fn new(inner: R) -> FullReads<R> {
        FullReads {
            inner,
            pending: None,
        }
    }
}

impl<R: Read> Read for FullReads<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if filled > 0 => {
                    self.pending = Some(e);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(filled)
    }
}

fn tar_position(index: &LayerIndex) -> u64 {
    index
        .entries
        .last()
        .map(|e| e.data_pos.saturating_add(e.size))
        .unwrap_or(0)
}

fn walk_compressed<R: Read>(
    reader: R,
    compression: Compression,
    options: &WalkOptions,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Result<LayerIndex, WalkError> {
    let mut counted = Counting::new(reader);
    let counter = Arc::clone(&counted.counter);
    // Full buffers whatever the source returns per read (a network chunk, a pipe's
    // page): the decoder then sees the same input boundaries from a registry, stdin or
    // a file, and the pull-cost estimate (stored::Sampler) is the same to the byte.
    let input = BufReader::with_capacity(128 * 1024, FullReads::new(&mut counted));
    let mut walker = Walker::new(options, true, progress, cancel, Some(counter));
    let (tar_bytes, trailing) = match compression {
        Compression::Gzip => {
            let (input, consumed) = stored::ConsumeCounter::new(input);
            let decoder =
                stored::Sampler::new(Labelled::new(GzipMembers::new(input), "gzip"), consumed);
            // A large buffer between the inflater and the tar reader: 10% on big layers.
            let mut tar = TarReader::new(
                StreamingBuf(BufReader::with_capacity(256 * 1024, decoder)),
                options.headers,
            );
            let position = walker.run(&mut tar)?;
            let mut decoder = tar.into_inner().0;
            let rest = drain(&mut decoder)?;
            let sampler = decoder.into_inner();
            stored::assign(&mut walker.index.entries, &sampler.samples);
            (
                position.saturating_add(rest),
                sampler.inner.into_inner().trailing_bytes,
            )
        }
        Compression::Zstd => {
            let (input, consumed) = stored::ConsumeCounter::new(input);
            let decoder = zstd::stream::read::Decoder::with_buffer(input)
                .map_err(|e| WalkError::new(format!("zstd: {e}")))?;
            let decoder = stored::Sampler::new(Labelled::new(decoder, "zstd"), consumed);
            let mut tar = TarReader::new(
                StreamingBuf(BufReader::with_capacity(256 * 1024, decoder)),
                options.headers,
            );
            let position = walker.run(&mut tar)?;
            let mut decoder = tar.into_inner().0;
            let rest = drain(&mut decoder)?;
            stored::assign(&mut walker.index.entries, &decoder.get_ref().samples);
            (position.saturating_add(rest), 0)
        }
        // Invariant: both callers send plain layers down their own path, never here.
        Compression::None => unreachable!("plain layers are walked without a decoder"),
    };
    let reported = walker.reported;
    let mut index = walker.index;
    progress.advance(counted.count().saturating_sub(reported));
    index.compression = Some(compression);
    index.tar_bytes = tar_bytes;
    if trailing > 0 {
        index.warnings.push(format!(
            "{trailing} bytes of trailing data after the last gzip member were ignored (the tar inside is complete)"
        ));
    }
    Ok(index)
}

/// Reads the decompressed stream to its end after the tar's end marker. That checks the
/// gzip CRC and length of the last member (and zstd's frame checksums), and passes the
/// estargz table of contents, which follows the end marker and is not part of the layer.
fn drain<R: Read>(decoder: &mut R) -> Result<u64, WalkError> {
    io::copy(decoder, &mut io::sink())
        .map_err(|e| WalkError::new(format!("after the tar's end marker: {e}")))
}

/// The per-entry loop, shared by every kind of input.
struct Walker<'a> {
    options: &'a WalkOptions,
    hash: bool,
    progress: &'a dyn Progress,
    cancel: &'a AtomicBool,
    index: LayerIndex,
    scratch: Vec<u8>,
    link: Vec<u8>,
    data: Vec<u8>,
    clamped: u64,
    ignored: Vec<(&'static str, u64)>,
    others: u64,
    /// Non-directory entries whose name is the root (`.`, `/`, `..`), and their bytes.
    at_root: (u64, u64),
    /// Compressed bytes consumed, when a decoder sits between the blob and the tar.
    blob_counter: Option<Arc<AtomicU64>>,
    reported: u64,
}

const PROGRESS_STEP: u64 = 4 << 20;

impl<'a> Walker<'a> {
    fn new(
        options: &'a WalkOptions,
        hash: bool,
        progress: &'a dyn Progress,
        cancel: &'a AtomicBool,
        blob_counter: Option<Arc<AtomicU64>>,
    ) -> Self {
        Walker {
            blob_counter,
            options,
            hash,
            progress,
            cancel,
            index: LayerIndex {
                compression: Some(Compression::None),
                ..Default::default()
            },
            scratch: Vec::new(),
            link: Vec::new(),
            data: Vec::new(),
            clamped: 0,
            ignored: Vec::new(),
            others: 0,
            at_root: (0, 0),
            reported: 0,
        }
    }

    /// Walks every entry. Returns the tar position after the end marker.
    fn run<R: Skip>(&mut self, tar: &mut TarReader<R>) -> Result<u64, WalkError> {
        let mut position = 0;
        while let Some(header) = tar.next_header()? {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(WalkError::new("cancelled"));
            }
            if self.index.entries.len() as u64 >= self.options.max_entries {
                return Err(WalkError {
                    why: format!(
                        "more than {} entries in one layer (--max-entries)",
                        self.options.max_entries
                    ),
                    entry: Some(tar.path().to_vec()),
                });
            }
            // Where in the stored blob this entry starts: the compressed position when
            // there is a decoder (approximate by its buffering), else the tar position.
            let stored_at = match &self.blob_counter {
                Some(counter) => counter.load(Ordering::Relaxed),
                None => header.data_pos,
            };
            if stored_at.saturating_sub(self.reported) >= PROGRESS_STEP {
                self.progress.advance(stored_at - self.reported);
                self.reported = stored_at;
            }
            self.entry(tar, header)?;
            // Saturating: a size field may claim up to 2^64 - 1 bytes. The next header
            // read then reports the truncation.
            position = header
                .data_pos
                .saturating_add(header.size.div_ceil(512).saturating_mul(512));
        }
        if tar.saw_global_pax {
            self.index
                .warnings
                .push("the layer has PAX global headers; their records were ignored".into());
        }
        self.finish_warnings();
        // The end marker itself.
        Ok(position.saturating_add(512))
    }

    fn entry<R: Skip>(
        &mut self,
        tar: &mut TarReader<R>,
        header: crate::format::tar::Header,
    ) -> Result<(), WalkError> {
        if path::normalize(tar.path(), &mut self.scratch) {
            self.clamped += 1;
        }
        let (kind, path) = match path::meaning(&self.scratch) {
            Meaning::Plain if self.scratch.is_empty() && header.kind != Kind::Dir => {
                // Nothing replaces the root. The model has no path to give these, so
                // they are left out, and the warning says how many bytes that is.
                self.at_root.0 += 1;
                if header.kind == Kind::File {
                    self.at_root.1 = self.at_root.1.saturating_add(header.size);
                }
                return Ok(());
            }
            Meaning::Plain => {
                let kind = match header.kind {
                    Kind::File => EntryKind::File,
                    Kind::Dir => EntryKind::Dir,
                    Kind::Symlink => EntryKind::Symlink,
                    Kind::HardLink => {
                        if path::normalize(tar.link(), &mut self.link) {
                            self.clamped += 1;
                        }
                        let link = std::mem::take(&mut self.link);
                        let span = self.index.intern(&link).map_err(WalkError::new)?;
                        self.link = link;
                        EntryKind::HardLink(span)
                    }
                    Kind::Other => {
                        if !matches!(header.typeflag, b'3' | b'4' | b'6') {
                            self.others += 1;
                        }
                        EntryKind::Other
                    }
                };
                let span = self.index.intern(&self.scratch).map_err(WalkError::new)?;
                (kind, span)
            }
            Meaning::Whiteout(target) => (
                EntryKind::Whiteout,
                self.index.intern(&target).map_err(WalkError::new)?,
            ),
            Meaning::Opaque(dir) => {
                let dir = dir.to_vec();
                (
                    EntryKind::Opaque,
                    self.index.intern(&dir).map_err(WalkError::new)?,
                )
            }
            Meaning::Ignored(what) => {
                match self.ignored.iter_mut().find(|(w, _)| *w == what) {
                    Some((_, n)) => *n += 1,
                    None => self.ignored.push((what, 1)),
                }
                return Ok(());
            }
        };
        let is_file = kind == EntryKind::File;
        let hash = if !is_file {
            None
        } else if let Some(recorded) = tar
            .get_mut()
            .recorded_checksum(header.data_pos, header.size)
        {
            Some(recorded.map_err(|e| WalkError::new(e.to_string()))?)
        } else if self.hash {
            Some(self.hash_data(tar, header.size)?)
        } else {
            None
        };
        self.index.entries.push(Entry {
            path,
            kind,
            size: if is_file { header.size } else { 0 },
            hash,
            data_pos: header.data_pos,
            // Plain layers store exactly the header and the padded data.
            stored: 512u64.saturating_add(header.size.div_ceil(512).saturating_mul(512)),
            meta: header.meta,
        });
        Ok(())
    }

    fn hash_data<R: Skip>(&mut self, tar: &mut TarReader<R>, size: u64) -> Result<u64, WalkError> {
        const CHUNK: usize = 256 * 1024;
        if self.data.len() < CHUNK {
            self.data.resize(CHUNK, 0);
        }
        if size == 0 {
            return Ok(xxh3_64(&[]));
        }
        if size as usize <= CHUNK {
            // Where the decoder's output is buffered and holds the whole file, hash it
            // there: on big (zstd) the copy out cost about as much as the hash.
            let buffered = tar.peek_data()?;
            if buffered.len() >= size as usize {
                let hash = xxh3_64(&buffered[..size as usize]);
                tar.consume_data(size as usize);
                return Ok(hash);
            }
            let mut got = 0;
            while got < size as usize {
                got += tar.read_data(&mut self.data[got..size as usize])?;
            }
            return Ok(xxh3_64(&self.data[..got]));
        }
        let mut hasher = Xxh3::new();
        loop {
            let n = tar.read_data(&mut self.data)?;
            if n == 0 {
                break;
            }
            hasher.update(&self.data[..n]);
        }
        Ok(hasher.digest())
    }

    fn finish_warnings(&mut self) {
        if self.clamped > 0 {
            self.index.warnings.push(format!(
                "{} with '..' climbing above the root {} kept inside the image's tree",
                entries(self.clamped),
                if self.clamped == 1 { "was" } else { "were" }
            ));
        }
        if self.at_root.0 > 0 {
            self.index.warnings.push(format!(
                "{} non-directory {} the root; ignored ({} bytes not counted)",
                self.at_root.0,
                if self.at_root.0 == 1 {
                    "entry names"
                } else {
                    "entries name"
                },
                self.at_root.1,
            ));
        }
        for (what, n) in std::mem::take(&mut self.ignored) {
            self.index
                .warnings
                .push(format!("{n} whiteout {} ignored: {what}", plural(n)));
        }
        if self.others > 0 {
            self.index.warnings.push(format!(
                "{} of unknown tar types counted as zero-byte non-files",
                entries(self.others)
            ));
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        "entry"
    } else {
        "entries"
    }
}

fn entries(n: u64) -> String {
    format!("{n} {}", plural(n))
}

/// Hashes byte ranges of an uncompressed layer: the targeted second read of entries
/// whose identity decides a reason (same-size overwrites), a move or a duplicate.
///
/// The ranges come sorted by offset, and most lie close together (the files of one
/// `chmod -R` copy follow each other in the tar), so one `pread` fills a buffer with a
/// run of them and each is hashed where it lies; a range longer than the buffer goes
/// through it in pieces. The buffer fits the core's L2 cache, so the hash reads what the
/// copy out of the page cache just wrote: on big, 419 MB in 43k ranges took 62 ms on
/// two threads this way, against 70-80 ms hashing a mapped window in place (the faults,
/// and unmapping under other threads, cost more than the copy), and nothing mapped
/// counts in the resident set.
pub fn hash_ranges(location: &BlobLocation, ranges: &[(u64, u64)]) -> Result<Vec<u64>, WalkError> {
    let reader = location
        .open()
        .map_err(|e| WalkError::new(format!("cannot open {}: {e}", location.file.display())))?;
    let end_of = |at: u64, len: u64| at.checked_add(len).filter(|&end| end <= location.len);
    let mut buf = vec![0u8; REREAD_BUFFER.min(location.len as usize)];
    // The blob bytes `buf` holds: `start..start + filled`.
    let (mut start, mut filled) = (0u64, 0usize);
    let mut hashes = Vec::with_capacity(ranges.len());
    for (i, &(at, len)) in ranges.iter().enumerate() {
        let end = end_of(at, len).ok_or_else(|| {
            WalkError::new(format!(
                "re-reading data at byte {at}: read past the end of the blob"
            ))
        })?;
        let read = |buf: &mut [u8], at: u64| {
            reader
                .read_exact_at(at, buf)
                .map_err(|e| WalkError::new(format!("re-reading data at byte {at}: {e}")))
        };
        if len > buf.len() as u64 {
            let mut hasher = WideHasher::new();
            let mut pos = at;
            while pos < end {
                let n = (end - pos).min(buf.len() as u64) as usize;
                read(&mut buf[..n], pos)?;
                hasher.update(&buf[..n]);
                pos += n as u64;
            }
            filled = 0;
            hashes.push(hasher.digest());
            continue;
        }
        if at < start || end > start + filled as u64 {
            // One read from here through the ranges that follow closely and fit.
            let mut fill_end = end;
            for &(next, next_len) in &ranges[i + 1..] {
                match end_of(next, next_len) {
                    Some(next_end)
                        if next >= at
                            && next <= fill_end + REREAD_GAP
                            && next_end - at <= buf.len() as u64 =>
                    {
                        fill_end = fill_end.max(next_end)
                    }
                    _ => break,
                }
            }
            filled = (fill_end - at) as usize;
            start = at;
            read(&mut buf[..filled], at)?;
        }
        let from = (at - start) as usize;
        hashes.push(hash_wide(&buf[from..from + len as usize]));
    }
    Ok(hashes)
}

/// The re-read's buffer: most of a core's L2 cache.
const REREAD_BUFFER: usize = 256 << 10;

/// Bytes between two ranges that one read still spans: a header and its padding are
/// at most 1 KiB, so neighbouring files of a tar always qualify.
const REREAD_GAP: u64 = 4096;

/// A plain-data description of an entry, for building a [`LayerIndex`] without a tar:
/// the model's unit tests and the replay fuzz target use it.
#[derive(Debug, Clone, Copy)]
pub enum Spec<'a> {
    /// A regular file of `bytes`, with a content hash standing for its data.
    File {
        bytes: u64,
        hash: u64,
    },
    Dir,
    Symlink,
    HardLink(&'a str),
    Other,
    /// A whiteout *entry name* such as `a/.wh.b` or `a/.wh..wh..opq`.
    Whiteout,
}

impl LayerIndex {
    /// Appends an entry as the walker would, from an un-normalised tar name.
    pub fn push(&mut self, name: &str, spec: Spec<'_>) {
        let mut normalized = Vec::new();
        path::normalize(name.as_bytes(), &mut normalized);
        let (kind, span) = match (path::meaning(&normalized), spec) {
            (Meaning::Whiteout(target), _) => (EntryKind::Whiteout, self.intern(&target)),
            (Meaning::Opaque(dir), _) => {
                let dir = dir.to_vec();
                (EntryKind::Opaque, self.intern(&dir))
            }
            (Meaning::Ignored(_), _) => return,
            (Meaning::Plain, spec) => {
                let kind = match spec {
                    Spec::File { .. } => EntryKind::File,
                    Spec::Dir => EntryKind::Dir,
                    Spec::Symlink => EntryKind::Symlink,
                    Spec::Other | Spec::Whiteout => EntryKind::Other,
                    Spec::HardLink(target) => {
                        let mut t = Vec::new();
                        path::normalize(target.as_bytes(), &mut t);
                        match self.intern(&t) {
                            Ok(span) => EntryKind::HardLink(span),
                            Err(_) => return,
                        }
                    }
                };
                (kind, self.intern(&normalized))
            }
        };
        let Ok(span) = span else { return };
        let (size, hash) = match (kind, spec) {
            (EntryKind::File, Spec::File { bytes, hash }) => (bytes, Some(hash)),
            _ => (0, None),
        };
        self.entries.push(Entry {
            path: span,
            kind,
            size,
            hash,
            data_pos: 0,
            stored: 0,
            meta: Meta::default(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    /// A source that hands out a few bytes per read, as a network or a pipe does.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn the_pull_cost_does_not_depend_on_how_the_source_cuts_its_reads() {
        let mut tar = tar::Builder::new(Vec::new());
        for i in 0..40u32 {
            let data: Vec<u8> = (0..20_000u32)
                .map(|j| (j.wrapping_mul(i + 7) % 251) as u8)
                .collect();
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, format!("f{i}"), data.as_slice())
                .unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        io::Write::write_all(&mut gz, &tar.into_inner().unwrap()).unwrap();
        let blob = gz.finish().unwrap();
        let stored = |chunk: usize| -> Vec<u64> {
            let index = walk_stream(
                &mut Trickle(&blob, chunk),
                &WalkOptions::default(),
                &crate::progress::Silent,
                &AtomicBool::new(false),
            )
            .unwrap();
            index.entries.iter().map(|e| e.stored).collect()
        };
        let whole = stored(usize::MAX);
        assert_eq!(stored(1_000), whole);
        assert_eq!(stored(4_093), whole);
    }
    use std::io::Write;

    #[test]
    fn targeted_hashes_match_one_shot_hashes_across_buffers() {
        let mut x: u32 = 7;
        let data: Vec<u8> = (0..5 * REREAD_BUFFER as u64 + 123)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"prefix").unwrap();
        file.write_all(&data).unwrap();
        let location = BlobLocation {
            file: file.path().to_path_buf(),
            offset: 6,
            len: data.len() as u64,
        };
        let w = REREAD_BUFFER as u64;
        let ranges = [
            (0, 0),
            (0, 10),
            (512, w),
            (w - 5, 10),
            (w + 1, 3 * w + 7),
            (5 * w, 123),
            // Runs of close ranges that one read spans, a gap too wide to span, a
            // range that starts before the last one, and the same range twice.
            (100, 50),
            (700, 300),
            (1_500, 2_000),
            (3_600 + REREAD_GAP, 10),
            (w - 100, 200),
            (90, 20),
            (90, 20),
        ];
        let got = hash_ranges(&location, &ranges).unwrap();
        for (&(at, len), hash) in ranges.iter().zip(got) {
            assert_eq!(
                hash,
                xxh3_64(&data[at as usize..(at + len) as usize]),
                "{at}+{len}"
            );
        }
        assert!(hash_ranges(&location, &[(5 * w, 124)]).is_err());
    }

    /// A tar built in memory, recorded as tar-split would, indexes like the tar.
    #[test]
    fn tar_split_records_rebuild_the_headers() {
        let mut b = tar::Builder::new(Vec::new());
        let mut add = |name: &str, data: &[u8]| {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, name, data).unwrap();
        };
        add("a/one", b"first file");
        add("a/.wh.gone", b"");
        add(
            &format!("long/{}", "x".repeat(150)),
            b"long name, PAX or GNU record",
        );
        let bytes = b.into_inner().unwrap();

        // Record it: each header (with what precedes it) as a segment, then a file
        // record for its content, then the tail.
        let mut records = String::new();
        let seg = |bytes: &[u8]| {
            format!(
                "{{\"type\":2,\"payload\":\"{}\",\"position\":0}}\n",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        };
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut at = 0usize;
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let data = entry.raw_file_position() as usize;
            let size = entry.size() as usize;
            records.push_str(&seg(&bytes[at..data]));
            let crc = (size as u64).to_be_bytes();
            records.push_str(&format!(
                "{{\"type\":1,\"name\":\"x\",\"size\":{size},\"payload\":\"{}\",\"position\":1}}\n",
                base64::engine::general_purpose::STANDARD.encode(crc)
            ));
            at = data + size;
        }
        records.push_str(&seg(&bytes[at..]));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tar-split.json.gz");
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::default(),
        );
        std::io::Write::write_all(&mut gz, records.as_bytes()).unwrap();
        gz.finish().unwrap();

        let index = walk_tar_split(
            &path,
            &WalkOptions::default(),
            &crate::progress::Silent,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(index.tar_bytes, bytes.len() as u64);
        let entries: Vec<(String, u64, Option<u64>)> = index
            .entries
            .iter()
            .map(|e| {
                (
                    String::from_utf8_lossy(index.path(e.path)).into_owned(),
                    e.size,
                    e.hash,
                )
            })
            .collect();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0], ("a/one".into(), 10, Some(10)));
        assert_eq!(entries[1].0, "a/gone");
        assert_eq!(entries[2].0, format!("long/{}", "x".repeat(150)));
        assert_eq!(entries[2].1, 28);
    }
}
