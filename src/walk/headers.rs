//! The reader under the header walk of a plain layer.
//!
//! The walk reads one 512-byte header and seeks over the entry's data to the next.
//! Reading each header with a `pread` of its own costs a system call per entry; reading
//! ahead through a buffer saves the calls where entries are small, but copies their
//! data out of the page cache. [`crate::source::blob::BlobReader`] doubles its reads
//! up to 256 KiB while they stay sequential, which suits reading data; in a header walk
//! through a run of small files it ends up copying everything in the run. On big
//! (docker-archive) that copying was 10% of the walker threads' time. Here every miss
//! reads one fixed, small block: a run of small files still costs one call per few
//! headers, and no more than a block is ever copied to find one header.

use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;

use crate::source::blob::BlobReader;

/// Bytes read at each miss: one page, which holds the header and, for files of up to
/// 3.5 KiB, the next header too.
const BLOCK: usize = 4096;

pub(crate) struct HeaderReads {
    blob: BlobReader,
    pos: u64,
    buf: Box<[u8; BLOCK]>,
    /// Blob offset of `buf[0]`, and how many bytes of `buf` are valid.
    buf_pos: u64,
    buf_len: usize,
}

impl HeaderReads {
    pub fn new(blob: BlobReader) -> HeaderReads {
        HeaderReads {
            blob,
            pos: 0,
            buf: Box::new([0; BLOCK]),
            buf_pos: 0,
            buf_len: 0,
        }
    }

    pub fn len(&self) -> u64 {
        self.blob.len()
    }

    pub fn position(&self) -> u64 {
        self.pos
    }
}

/// `pread` at blob offset `at`, retried when interrupted.
fn read_at(blob: &BlobReader, out: &mut [u8], at: u64) -> io::Result<usize> {
    loop {
        match blob.file().read_at(out, blob.start() + at) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

impl Read for HeaderReads {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let len = self.blob.len();
        if self.pos >= len || out.is_empty() {
            return Ok(0);
        }
        let in_buffer = self.pos >= self.buf_pos && self.pos < self.buf_pos + self.buf_len as u64;
        if !in_buffer {
            let left = (len - self.pos).min(usize::MAX as u64) as usize;
            if out.len() >= BLOCK {
                // Data read for hashing: straight into the caller's buffer.
                let want = left.min(out.len());
                let n = read_at(&self.blob, &mut out[..want], self.pos)?;
                self.pos += n as u64;
                return Ok(n);
            }
            let want = left.min(BLOCK);
            let got = read_at(&self.blob, &mut self.buf[..want], self.pos)?;
            self.buf_pos = self.pos;
            self.buf_len = got;
            if got == 0 {
                return Ok(0);
            }
        }
        let at = (self.pos - self.buf_pos) as usize;
        let n = (self.buf_len - at).min(out.len());
        out[..n].copy_from_slice(&self.buf[at..at + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for HeaderReads {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let len = self.blob.len();
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => len.checked_add_signed(d),
        };
        match target {
            Some(t) if t <= len => {
                self.pos = t;
                Ok(t)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("seek past the end of the blob ({len} bytes)"),
            )),
        }
    }
}
