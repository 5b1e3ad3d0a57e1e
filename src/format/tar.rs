//! A bounded, streaming tar header reader shared by the outer-archive index and the
//! layer walker.
//!
//! The `tar` crate parses each 512-byte header; this loop owns everything around it:
//! PAX and GNU long-name records with size limits (the crate's own iterator reads them
//! into memory unbounded), seeking or skipping past file data, and telling a clean end
//! (the all-zero end-of-archive block) from a truncation (plain EOF).

use std::io::{self, Read, Seek, SeekFrom};

pub const BLOCK: u64 = 512;

/// A reader that can move past bytes it does not need: by seeking where the input is a
/// file, by reading into a scratch buffer where it is a decompressor.
pub trait Skip: Read {
    fn skip(&mut self, n: u64) -> io::Result<()>;

    /// A checksum of the content of the file whose data starts at `data_pos`, when the
    /// container format records one in place of the data (tar-split). `None`: the data
    /// is there to hash.
    fn recorded_checksum(&mut self, _data_pos: u64, _size: u64) -> Option<io::Result<u64>> {
        None
    }

    /// Bytes already read into a buffer, to be used in place rather than copied out;
    /// empty where there is no buffer. `want` is how many the caller is about to read:
    /// this reads from the source only where a `read` of `want` bytes would have, and
    /// the same amount, so whatever watches the source's reads (the stored-size
    /// sampler) sees the same reads either way.
    fn buffered(&mut self, _want: usize) -> io::Result<&[u8]> {
        Ok(&[])
    }

    /// Marks `n` bytes of [`Skip::buffered`] as read.
    fn consume_buffered(&mut self, _n: usize) {}
}

/// Skips by seeking: for uncompressed layers read from a file.
pub struct Seeking<R>(pub R);

impl<R: Read> Read for Seeking<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read + Seek> Skip for Seeking<R> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        // No blob is 2^63 bytes long: a skip that far runs past its end.
        let n = i64::try_from(n).map_err(|_| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "seek past the end of the blob",
            )
        })?;
        self.0.seek(SeekFrom::Current(n)).map(|_| ())
    }
}

/// Skips by reading: for decompressed streams and stdin.
pub struct Streaming<R>(pub R);

impl<R: Read> Read for Streaming<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// Skips `n` bytes of `r` by reading them; the archive ending first is an error.
fn skip_by_reading(r: &mut impl Read, n: u64) -> io::Result<()> {
    let copied = io::copy(&mut r.take(n), &mut io::sink())?;
    if copied < n {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the archive ends inside an entry's data",
        ));
    }
    Ok(())
}

impl<R: Read> Skip for Streaming<R> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        skip_by_reading(&mut self.0, n)
    }
}

/// Skips by reading, like [`Streaming`], through a buffer whose bytes can be used in
/// place: for decompressed streams, so small files are hashed where the decoder wrote
/// them instead of being copied out first.
pub struct StreamingBuf<R>(pub io::BufReader<R>);

impl<R: Read> Read for StreamingBuf<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read> Skip for StreamingBuf<R> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        skip_by_reading(&mut self.0, n)
    }

    fn buffered(&mut self, want: usize) -> io::Result<&[u8]> {
        use io::BufRead;
        // An empty buffer and a read at least as large as it: BufReader would read
        // straight into the caller's buffer, so filling its own would read differently.
        if want == 0 || (self.0.buffer().is_empty() && want >= self.0.capacity()) {
            return Ok(&[]);
        }
        // Reads (once, `capacity` bytes) only when the buffer is empty, as `read` would.
        self.0.fill_buf()
    }

    fn consume_buffered(&mut self, n: usize) {
        io::BufRead::consume(&mut self.0, n);
    }
}

/// What an entry is, reduced to what the waste model distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    HardLink,
    /// Character and block devices, FIFOs, and types the model gives no bytes.
    Other,
}

/// One entry's header, resolved through any PAX or GNU long-name records before it.
/// The path and link target are read with [`TarReader::path`] and [`TarReader::link`].
#[derive(Debug, Clone, Copy)]
pub struct Header {
    pub kind: Kind,
    /// The typeflag byte, for messages about unusual entries.
    pub typeflag: u8,
    /// Bytes of data that follow the header (PAX `size` wins over the header field).
    /// Always 0 for header-only types (links, devices, FIFOs, directories), whatever
    /// their size field says: Go's archive/tar, which container runtimes unpack
    /// layers with, reads no data for them, so neither may we.
    pub size: u64,
    /// Offset of the entry's first data byte from the start of the archive.
    pub data_pos: u64,
    /// What `chmod`, `chown` and `touch` change, for telling apart what a later copy of
    /// the same path changed.
    pub meta: Meta,
}

/// An entry's mode, owner and modification time, folded small: only ever compared for
/// equality with another entry's, to tell what a rewrite of a path changed. Advisory:
/// an unreadable field reads as 0 and never fails the walk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Meta {
    /// Permission bits (`0o7777`).
    pub mode: u16,
    /// uid and gid, folded.
    pub owner: u32,
    /// Seconds, folded to 32 bits.
    pub mtime: u32,
}

impl Meta {
    pub fn new(mode: u32, uid: u64, gid: u64, mtime: u64) -> Meta {
        let fold = |v: u64| (v ^ (v >> 32)) as u32;
        Meta {
            mode: (mode & 0o7777) as u16,
            owner: fold(uid).wrapping_mul(0x9E37_79B1) ^ fold(gid),
            mtime: fold(mtime),
        }
    }
}

/// A format error or I/O failure, with the entry being read when it happened.
#[derive(Debug)]
pub struct TarError {
    pub why: String,
    /// Raw path bytes of the entry, when the header that failed had one.
    pub entry: Option<Vec<u8>>,
}

impl TarError {
    fn new(why: impl Into<String>) -> Self {
        TarError {
            why: why.into(),
            entry: None,
        }
    }
}

/// Limits on what one entry's metadata may hold.
#[derive(Debug, Clone, Copy)]
pub struct HeaderLimits {
    /// Longest path or link target accepted, in bytes.
    pub max_path_bytes: u64,
    /// Largest PAX or GNU long-name record read into memory.
    pub max_extension_bytes: u64,
}

impl Default for HeaderLimits {
    fn default() -> Self {
        HeaderLimits {
            max_path_bytes: 64 * 1024,
            max_extension_bytes: 16 * 1024 * 1024,
        }
    }
}

pub struct TarReader<R> {
    inner: R,
    /// Archive offset of the next unread byte.
    pos: u64,
    /// Data bytes of the current entry not yet consumed, then its padding.
    remaining: u64,
    padding: u64,
    /// The current entry's data size and where its data starts, for messages.
    entry_size: u64,
    entry_pos: u64,
    path: Vec<u8>,
    link: Vec<u8>,
    limits: HeaderLimits,
    /// Set once a PAX global header was seen (its records are ignored).
    pub saw_global_pax: bool,
}

impl<R: Skip> TarReader<R> {
    pub fn new(inner: R, limits: HeaderLimits) -> Self {
        TarReader {
            inner,
            pos: 0,
            remaining: 0,
            padding: 0,
            entry_size: 0,
            entry_pos: 0,
            path: Vec::new(),
            link: Vec::new(),
            limits,
            saw_global_pax: false,
        }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The current entry's path, raw as stored (not normalised).
    pub fn path(&self) -> &[u8] {
        &self.path
    }

    /// The current entry's link target (symlinks and hard links), raw as stored.
    pub fn link(&self) -> &[u8] {
        &self.link
    }

    /// Reads the next header, skipping whatever data of the previous entry was not
    /// read. `Ok(None)` means the end-of-archive marker was reached.
    pub fn next_header(&mut self) -> Result<Option<Header>, TarError> {
        self.finish_entry().map_err(|e| self.data_error(e))?;
        let mut pax_path: Option<Vec<u8>> = None;
        let mut pax_link: Option<Vec<u8>> = None;
        let mut pax_size: Option<u64> = None;
        let (mut pax_uid, mut pax_gid, mut pax_mtime) = (None, None, None);
        let mut gnu_path: Option<Vec<u8>> = None;
        let mut gnu_link: Option<Vec<u8>> = None;
        loop {
            let mut block = [0u8; BLOCK as usize];
            let header_pos = self.pos;
            match read_block(&mut self.inner, &mut block) {
                Ok(true) => self.pos = self.pos.saturating_add(BLOCK),
                Ok(false) => {
                    return Err(TarError::new(format!(
                        "the archive ends at byte {header_pos} without an end-of-archive marker (truncated?)"
                    )))
                }
                Err(e) => return Err(TarError::new(format!("reading the header at byte {header_pos}: {e}"))),
            }
            if block.iter().all(|b| *b == 0) {
                if pax_path.is_some() || gnu_path.is_some() || pax_size.is_some() {
                    return Err(TarError::new(
                        "an extended header describes an entry that is not there",
                    ));
                }
                return Ok(None);
            }
            let header = tar::Header::from_byte_slice(&block);
            check_checksum(&block, header).map_err(|why| TarError {
                why: format!("bad header at byte {header_pos}: {why}"),
                entry: Some(shorten(&header.path_bytes())),
            })?;
            let size = number(&block, SIZE).map_or_else(|| header.entry_size(), Ok);
            let size = size.map_err(|_| TarError {
                why: format!("bad header at byte {header_pos}: the size field is not a number"),
                entry: Some(shorten(&header.path_bytes())),
            })?;
            let typeflag = header.entry_type().as_byte();
            match typeflag {
                b'x' | b'g' => {
                    let data = self.read_extension(size, "PAX header", header_pos)?;
                    let malformed = |why: String| {
                        TarError::new(format!("malformed PAX header at byte {header_pos}: {why}"))
                    };
                    let records = pax_records(&data).map_err(malformed)?;
                    if typeflag == b'g' {
                        // Global records would apply to every later entry; no image
                        // builder writes them, so they are noted and otherwise ignored.
                        self.saw_global_pax = true;
                        continue;
                    }
                    for (key, value) in records {
                        match key {
                            b"path" | b"GNU.sparse.name" => pax_path = Some(value.to_vec()),
                            b"linkpath" => pax_link = Some(value.to_vec()),
                            b"size" => {
                                let v = std::str::from_utf8(value)
                                    .ok()
                                    .and_then(|s| s.parse::<u64>().ok())
                                    .ok_or_else(|| {
                                        malformed(format!(
                                            "the size record {:?} is not a number",
                                            String::from_utf8_lossy(value)
                                        ))
                                    })?;
                                pax_size = Some(v);
                            }
                            b"uid" => pax_uid = pax_number(value),
                            b"gid" => pax_gid = pax_number(value),
                            b"mtime" => pax_mtime = pax_number(value),
                            _ => {}
                        }
                    }
                    continue;
                }
                b'L' | b'K' => {
                    let mut data = self.read_extension(size, "GNU long name", header_pos)?;
                    while data.last() == Some(&0) {
                        data.pop();
                    }
                    if typeflag == b'L' {
                        gnu_path = Some(data);
                    } else {
                        gnu_link = Some(data);
                    }
                    continue;
                }
                _ => {}
            }

            self.path.clear();
            match pax_path.take().or(gnu_path.take()) {
                Some(p) => self.path.extend_from_slice(&p),
                None => self.path.extend_from_slice(&header.path_bytes()),
            }
            self.link.clear();
            match pax_link.take().or(gnu_link.take()) {
                Some(l) => self.link.extend_from_slice(&l),
                None => {
                    if let Some(l) = header.link_name_bytes() {
                        self.link.extend_from_slice(&l)
                    }
                }
            }
            if self.path.len() as u64 > self.limits.max_path_bytes
                || self.link.len() as u64 > self.limits.max_path_bytes
            {
                return Err(TarError {
                    why: format!(
                        "path of {} bytes exceeds the limit of {} (--max-path-bytes)",
                        self.path.len().max(self.link.len()),
                        self.limits.max_path_bytes
                    ),
                    entry: Some(shorten(&self.path)),
                });
            }

            if typeflag == b'S' {
                // GNU sparse: extension blocks of the sparse map follow the header,
                // outside the size field.
                let mut extended = header
                    .as_gnu()
                    .map(|g| g.isextended[0] != 0)
                    .unwrap_or(false);
                while extended {
                    let mut ext = [0u8; BLOCK as usize];
                    let truncated = || TarError {
                        why: "the archive ends inside a sparse map".into(),
                        entry: Some(shorten(&header.path_bytes())),
                    };
                    if !read_block(&mut self.inner, &mut ext).map_err(|_| truncated())? {
                        return Err(truncated());
                    }
                    self.pos = self.pos.saturating_add(BLOCK);
                    extended = ext[504] != 0;
                }
            }

            let kind = match typeflag {
                b'0' | 0 | b'7' | b'S' => Kind::File,
                b'5' => Kind::Dir,
                b'2' => Kind::Symlink,
                b'1' => Kind::HardLink,
                _ => Kind::Other,
            };
            let header_only = matches!(typeflag, b'1' | b'2' | b'3' | b'4' | b'5' | b'6');
            let size = if header_only {
                0
            } else {
                pax_size.unwrap_or(size)
            };
            self.remaining = size;
            self.padding = (BLOCK - size % BLOCK) % BLOCK;
            self.entry_size = size;
            self.entry_pos = self.pos;
            let field = |range, slow: fn(&tar::Header) -> io::Result<u64>| {
                number(&block, range).unwrap_or_else(|| slow(header).unwrap_or(0))
            };
            let meta = Meta::new(
                number(&block, MODE)
                    .map(|m| m as u32)
                    .unwrap_or_else(|| header.mode().unwrap_or(0)),
                pax_uid
                    .take()
                    .unwrap_or_else(|| field(UID, tar::Header::uid)),
                pax_gid
                    .take()
                    .unwrap_or_else(|| field(GID, tar::Header::gid)),
                pax_mtime
                    .take()
                    .unwrap_or_else(|| field(MTIME, tar::Header::mtime)),
            );
            return Ok(Some(Header {
                kind,
                typeflag,
                size,
                data_pos: self.pos,
                meta,
            }));
        }
    }

    /// Reads from the current entry's data.
    /// The current entry's data bytes that are already buffered (at most what is left
    /// of the entry; empty if none or the reader has no buffer), to be used in place
    /// and then passed with [`TarReader::consume_data`].
    pub fn peek_data(&mut self) -> Result<&[u8], TarError> {
        let want = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        if let Err(e) = self.inner.buffered(want) {
            return Err(self.data_error(e));
        }
        // The buffer is filled now, so asking again reads nothing.
        let got = self.inner.buffered(want).unwrap_or(&[]);
        Ok(&got[..got.len().min(want)])
    }

    /// Marks `n` bytes returned by [`TarReader::peek_data`] as read.
    pub fn consume_data(&mut self, n: usize) {
        let n = (n as u64).min(self.remaining);
        self.inner.consume_buffered(n as usize);
        self.remaining -= n;
        self.pos = self.pos.saturating_add(n);
    }

    pub fn read_data(&mut self, buf: &mut [u8]) -> Result<usize, TarError> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.remaining) as usize;
        let n = self
            .inner
            .read(&mut buf[..want])
            .map_err(|e| self.data_error(e))?;
        if n == 0 {
            return Err(self.data_error(io::ErrorKind::UnexpectedEof.into()));
        }
        self.remaining -= n as u64;
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }

    /// Skips the rest of the current entry, so the stream stands at the next header.
    fn finish_entry(&mut self) -> io::Result<()> {
        let rest = self.remaining.saturating_add(self.padding);
        if rest > 0 {
            self.inner.skip(rest)?;
            self.pos = self.pos.saturating_add(rest);
            self.remaining = 0;
            self.padding = 0;
        }
        Ok(())
    }

    fn read_extension(&mut self, size: u64, what: &str, at: u64) -> Result<Vec<u8>, TarError> {
        if size > self.limits.max_extension_bytes {
            return Err(TarError::new(format!(
                "{what} at byte {at} of {size} bytes exceeds the limit of {} bytes",
                self.limits.max_extension_bytes
            )));
        }
        let failed = |e: io::Error| {
            let why = if e.kind() == io::ErrorKind::UnexpectedEof {
                "the archive ends inside it".to_string()
            } else {
                e.to_string()
            };
            TarError::new(format!("reading the {what} at byte {at}: {why}"))
        };
        // The limit above bounds this allocation.
        let mut data = vec![0u8; size as usize];
        self.inner.read_exact(&mut data).map_err(failed)?;
        self.pos = self.pos.saturating_add(size);
        let pad = (BLOCK - size % BLOCK) % BLOCK;
        self.inner.skip(pad).map_err(failed)?;
        self.pos = self.pos.saturating_add(pad);
        Ok(data)
    }

    /// An error while reading or skipping the current entry's data. Running out of
    /// input is a truncation (or a size field that lies); anything else, a decoder's
    /// complaint or an I/O error, keeps its own words.
    fn data_error(&self, e: io::Error) -> TarError {
        let why = if e.kind() == io::ErrorKind::UnexpectedEof {
            format!(
                "the archive ends inside this entry's data ({} bytes from byte {})",
                self.entry_size, self.entry_pos
            )
        } else {
            e.to_string()
        };
        TarError {
            why,
            entry: (!self.path.is_empty()).then(|| shorten(&self.path)),
        }
    }
}

/// At most 64 bytes of a name for a message, with `…` where it was cut.
fn shorten(name: &[u8]) -> Vec<u8> {
    const SHOWN: usize = 64;
    if name.len() <= SHOWN {
        return name.to_vec();
    }
    let mut out = name[..SHOWN].to_vec();
    out.extend_from_slice("…".as_bytes());
    out
}

/// One PAX record: key and value, raw.
pub type PaxRecord<'a> = (&'a [u8], &'a [u8]);

/// Splits PAX extended-header data into `(key, value)` records. Each record is
/// `"<length> <key>=<value>\n"`, framed by its decimal length (which counts the whole
/// record): values may themselves hold newlines, so they are never split on one.
/// Trailing NUL padding after the last record is tolerated.
/// A PAX number record (`uid`, `gid`, `mtime`): its whole part, or nothing when it is
/// not a number (metadata is advisory, so a bad one is not an error).
fn pax_number(value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(value).ok()?;
    text.split('.').next()?.parse().ok()
}

pub fn pax_records(data: &[u8]) -> Result<Vec<PaxRecord<'_>>, String> {
    let mut records = Vec::new();
    let mut rest = data;
    while !rest.iter().all(|b| *b == 0) {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || rest.get(digits) != Some(&b' ') {
            return Err("a record does not start with its length".into());
        }
        let text = String::from_utf8_lossy(&rest[..digits]);
        let len: usize = text
            .parse()
            .map_err(|_| format!("the record length {text} is not a number that fits"))?;
        if len > rest.len() {
            return Err(format!(
                "a record of {len} bytes runs past the end of the header ({} bytes)",
                data.len()
            ));
        }
        if len < digits + 2 || rest[len - 1] != b'\n' {
            return Err("a record does not end with a newline".into());
        }
        let body = &rest[digits + 1..len - 1];
        let eq = body
            .iter()
            .position(|b| *b == b'=')
            .ok_or("a record has no '='")?;
        records.push((&body[..eq], &body[eq + 1..]));
        rest = &rest[len..];
    }
    Ok(records)
}

/// Reads one block. `Ok(false)` means a clean EOF before the first byte.
fn read_block<R: Read>(r: &mut R, block: &mut [u8; BLOCK as usize]) -> io::Result<bool> {
    let mut got = 0;
    while got < block.len() {
        match r.read(&mut block[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the archive ends inside a header",
                ))
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// The header's numeric fields.
const MODE: std::ops::Range<usize> = 100..108;
const UID: std::ops::Range<usize> = 108..116;
const GID: std::ops::Range<usize> = 116..124;
const SIZE: std::ops::Range<usize> = 124..136;
const MTIME: std::ops::Range<usize> = 136..148;
const CKSUM: std::ops::Range<usize> = 148..156;

/// A numeric header field in the form every tar writer uses (spaces, octal digits,
/// spaces, then NULs to the end), read as the `tar` crate reads it; `None` for any other
/// form (base-256, other whitespace, a sign, garbage), which is the crate's to read or
/// refuse. The crate goes through a string, trimming and parsing, for each of a
/// header's six fields: on a plain layer's header walk that was 12% of the time.
fn number(block: &[u8; BLOCK as usize], field: std::ops::Range<usize>) -> Option<u64> {
    let field = &block[field];
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let text = &field[..end];
    let start = text.iter().position(|&b| b != b' ')?;
    let digits_end = text[start..]
        .iter()
        .position(|&b| !(b'0'..=b'7').contains(&b))
        .map_or(text.len(), |n| start + n);
    if digits_end == start || text[digits_end..].iter().any(|&b| b != b' ') {
        return None;
    }
    Some(
        text[start..digits_end]
            .iter()
            .fold(0u64, |n, &d| (n << 3) | u64::from(d - b'0')),
    )
}

/// Checks the header checksum, accepting the signed-byte sum some old tars wrote.
fn check_checksum(block: &[u8; BLOCK as usize], header: &tar::Header) -> Result<(), String> {
    let stored = number(block, CKSUM)
        .map_or_else(|| header.cksum().map(u64::from), Ok)
        .map_err(|_| "the checksum field is not a number".to_string())?;
    // At most eight octal digits: it fits, as the crate's own reading truncates to it.
    let stored = stored as u32;
    let field = 148..156;
    // Every byte, then the checksum field counted as eight spaces: a plain sum the
    // compiler vectorizes (the per-byte test was 4% of walking a plain image).
    let all: u32 = block.iter().map(|&b| u32::from(b)).sum();
    let in_field: u32 = block[field.clone()].iter().map(|&b| u32::from(b)).sum();
    let unsigned = all - in_field + 8 * 32;
    if unsigned == stored {
        return Ok(());
    }
    let signed: i64 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if field.contains(&i) {
                32
            } else {
                i64::from(*b as i8)
            }
        })
        .sum();
    if signed == i64::from(stored) {
        return Ok(());
    }
    Err(format!(
        "checksum mismatch (stored {stored}, computed {unsigned})"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn archive(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, data).unwrap();
    }

    fn names(bytes: Vec<u8>) -> Result<Vec<(String, u64)>, TarError> {
        let mut r = TarReader::new(Seeking(Cursor::new(bytes)), HeaderLimits::default());
        let mut out = vec![];
        while let Some(h) = r.next_header()? {
            out.push((String::from_utf8_lossy(r.path()).into_owned(), h.size));
        }
        Ok(out)
    }

    /// The quick reading of numeric fields agrees with the `tar` crate's on every form
    /// it accepts, and leaves every other form to it.
    #[test]
    fn numeric_fields_read_as_the_crate_reads_them() {
        let forms: &[&[u8]] = &[
            b"0000644\0",
            b"644\0\0\0\0\0",
            b"  644 \0\0",
            b"0000644 ",
            b"00000000",
            b"\0\0\0\0\0\0\0\0",
            b"        ",
            b"77777777",
            b"0000648\0",
            b"+000644\0",
            b"00 0644\0",
            b"\t000644\0",
            b"000644\x01\0",
            b"\x80\0\0\0\0\0\x01\x02",
            b"000644\0x",
            b" 7\0 1234",
        ];
        for form in forms {
            let mut block = [0u8; BLOCK as usize];
            block[MODE].copy_from_slice(form);
            block[UID].copy_from_slice(form);
            let header = tar::Header::from_byte_slice(&block);
            let quick = number(&block, MODE);
            let crate_mode = header.mode().ok().map(u64::from);
            let crate_uid = header.uid().ok();
            if let Some(v) = quick {
                assert_eq!(Some(v), crate_mode, "mode {form:?}");
                assert_eq!(Some(v), crate_uid, "uid {form:?}");
            }
            assert_eq!(
                number(&block, MODE).or(crate_mode),
                crate_mode,
                "{form:?}: read or left to the crate"
            );
        }
        // The common forms are read here, the rest left to the crate.
        let mut block = [0u8; BLOCK as usize];
        block[SIZE].copy_from_slice(b"00000012345\0");
        assert_eq!(number(&block, SIZE), Some(0o12345));
        block[MODE].copy_from_slice(b"  644 \0\0");
        assert_eq!(number(&block, MODE), Some(0o644));
        for other in [&b"+000644\0"[..], b"\x80\0\0\0\0\0\x01\x02", b"\t000644\0"] {
            block[MODE].copy_from_slice(other);
            assert_eq!(number(&block, MODE), None, "{other:?}");
        }
    }

    #[test]
    fn reads_headers_and_long_names() {
        let long = format!("{}/f", "d".repeat(300));
        let bytes = archive(|b| {
            file(b, "a.txt", b"hello");
            file(b, &long, b"xy");
        });
        assert_eq!(names(bytes).unwrap(), vec![("a.txt".into(), 5), (long, 2)]);
    }

    #[test]
    fn reads_mode_owner_and_time_with_pax_overrides() {
        let bytes = archive(|b| {
            let mut h = tar::Header::new_ustar();
            h.set_size(1);
            h.set_mode(0o4755);
            h.set_uid(1000);
            h.set_gid(1001);
            h.set_mtime(1_700_000_000);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, "plain", &b"x"[..]).unwrap();
            // PAX records win over the header's fields (a uid too large for octal).
            b.append_pax_extensions([
                ("uid", &b"5000000000"[..]),
                ("mtime", &b"1700000123.25"[..]),
            ])
            .unwrap();
            b.append_data(&mut h, "pax", &b"y"[..]).unwrap();
        });
        let mut r = TarReader::new(Seeking(Cursor::new(bytes)), HeaderLimits::default());
        let first = r.next_header().unwrap().unwrap();
        assert_eq!(first.meta, Meta::new(0o4755, 1000, 1001, 1_700_000_000));
        let second = r.next_header().unwrap().unwrap();
        assert_eq!(
            second.meta,
            Meta::new(0o4755, 5_000_000_000, 1001, 1_700_000_123)
        );
        assert_ne!(first.meta, second.meta);
    }

    #[test]
    fn missing_end_marker_is_a_truncation() {
        let mut bytes = archive(|b| file(b, "a", b"1"));
        bytes.truncate(1024);
        let err = names(bytes).unwrap_err();
        assert!(
            err.why.contains("without an end-of-archive marker"),
            "{}",
            err.why
        );
    }

    #[test]
    fn truncation_inside_a_header() {
        let mut bytes = archive(|b| file(b, "a", b"1"));
        bytes.truncate(1024 + 100);
        let err = names(bytes).unwrap_err();
        assert!(err.why.contains("ends inside a header"), "{}", err.why);
    }

    #[test]
    fn bad_checksum_names_the_entry() {
        let mut bytes = archive(|b| file(b, "victim", b"1"));
        bytes[0x80] ^= 0x55; // inside the mode field
        let err = names(bytes).unwrap_err();
        assert!(err.why.contains("checksum mismatch"), "{}", err.why);
        assert_eq!(err.entry.as_deref(), Some(&b"victim"[..]));
    }

    #[test]
    fn oversized_extension_is_refused() {
        let mut b = tar::Builder::new(Vec::new());
        let big = "p".repeat(2000);
        file(&mut b, &big, b"");
        let bytes = b.into_inner().unwrap();
        let mut r = TarReader::new(
            Seeking(Cursor::new(bytes)),
            HeaderLimits {
                max_path_bytes: 64 * 1024,
                max_extension_bytes: 1000,
            },
        );
        let err = r.next_header().unwrap_err();
        assert!(err.why.contains("exceeds the limit of 1000"), "{}", err.why);
    }
}
