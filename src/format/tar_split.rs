//! tar-split (`github.com/vbatts/tar-split`): a layer's tar recorded as JSON lines,
//! every header byte for byte and, for each file, its size and a CRC-64 of its content
//! in place of the content. Docker's classic store and containers/storage keep one per
//! layer, so a layer can be walked from it without its blob.
//!
//! [`TarSplit`] reads the records back as the tar they stand for: header segments are
//! real bytes, a file's content is a stretch of the right length that is skipped,
//! never produced. The walker takes each file's recorded CRC as its content identity
//! ([`Skip::recorded_checksum`]).

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};

use serde::Deserialize;

use super::tar::Skip;

/// One line of tar-split's JSON stream (`github.com/vbatts/tar-split/tar/storage`).
#[derive(Deserialize)]
struct Record {
    /// 1: a file entry (name, size, CRC-64 of its content); 2: raw bytes of the tar
    /// (headers, padding, the end marker).
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    payload: Option<String>,
}

const FILE_RECORD: u8 = 1;
const SEGMENT_RECORD: u8 = 2;

/// The layer's tar as tar-split records it: segments are real bytes; a file's content
/// is a stretch of the right length that is skipped, never produced. Reading it yields
/// zeros, which only a broken header that claims data could ask for.
pub struct TarSplit<R> {
    lines: R,
    line: Vec<u8>,
    segment: Vec<u8>,
    segment_at: usize,
    /// Content bytes of the current file record not yet passed.
    content_left: u64,
    /// Bytes of the tar passed so far.
    pub pos: u64,
    /// File records seen and not yet claimed: (data position, size, CRC-64).
    files: VecDeque<(u64, u64, u64)>,
    ended: bool,
}

impl<R: BufRead> TarSplit<R> {
    pub fn new(lines: R) -> Self {
        TarSplit {
            lines,
            line: Vec::new(),
            segment: Vec::new(),
            segment_at: 0,
            content_left: 0,
            pos: 0,
            files: VecDeque::new(),
            ended: false,
        }
    }

    /// Reads the next record. False at the end of the file.
    fn next_record(&mut self) -> io::Result<bool> {
        use base64::Engine as _;
        loop {
            self.line.clear();
            if self.lines.read_until(b'\n', &mut self.line)? == 0 {
                self.ended = true;
                return Ok(false);
            }
            if self.line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let record: Record = serde_json::from_slice(&self.line)
                .map_err(|e| io::Error::other(format!("malformed tar-split record: {e}")))?;
            let payload = match &record.payload {
                Some(p) => base64::engine::general_purpose::STANDARD
                    .decode(p)
                    .map_err(|e| io::Error::other(format!("malformed tar-split payload: {e}")))?,
                None => Vec::new(),
            };
            match record.kind {
                SEGMENT_RECORD => {
                    self.segment = payload;
                    self.segment_at = 0;
                }
                FILE_RECORD => {
                    let size = record.size.unwrap_or(0);
                    // The CRC-64 (ISO) of the content, big-endian; absent for empty files.
                    let crc = payload
                        .get(..8)
                        .and_then(|b| b.try_into().ok())
                        .map(u64::from_be_bytes)
                        .unwrap_or(0);
                    self.files.push_back((self.pos, size, crc));
                    self.content_left = size;
                }
                other => {
                    return Err(io::Error::other(format!(
                        "unknown tar-split record type {other}"
                    )))
                }
            }
            return Ok(true);
        }
    }

    fn exhausted(&self) -> bool {
        self.segment_at >= self.segment.len() && self.content_left == 0
    }

    /// The file record whose content starts at `data_pos`, read when the tar reader has
    /// just passed that entry's header: records are written header segment first, then
    /// the file record, so the next record is this entry's if any is.
    fn file_at(&mut self, data_pos: u64) -> io::Result<Option<(u64, u64)>> {
        loop {
            while self.files.front().is_some_and(|f| f.0 < data_pos) {
                self.files.pop_front();
            }
            if let Some(&(at, size, crc)) = self.files.front() {
                if at == data_pos {
                    self.files.pop_front();
                    return Ok(Some((size, crc)));
                }
                return Ok(None);
            }
            if !self.exhausted() || self.ended || !self.next_record()? {
                return Ok(None);
            }
        }
    }
}

impl<R: BufRead> Read for TarSplit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.exhausted() {
            if self.ended || !self.next_record()? {
                return Ok(0);
            }
        }
        let n = if self.segment_at < self.segment.len() {
            let n = (self.segment.len() - self.segment_at).min(buf.len());
            buf[..n].copy_from_slice(&self.segment[self.segment_at..self.segment_at + n]);
            self.segment_at += n;
            n
        } else {
            let n = self.content_left.min(buf.len() as u64) as usize;
            buf[..n].fill(0);
            self.content_left -= n as u64;
            n
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> Skip for TarSplit<R> {
    /// The CRC-64 recorded for the file whose data starts at `data_pos`. A file header
    /// without its record means the tar-split contradicts itself: an error, never a
    /// file without identity.
    fn recorded_checksum(&mut self, data_pos: u64, size: u64) -> Option<io::Result<u64>> {
        Some(match self.file_at(data_pos) {
            Ok(Some((recorded, crc))) if recorded == size => Ok(crc),
            Ok(_) => Err(io::Error::other(format!(
                "the tar-split does not match its own headers (no file record of {size} \
                 bytes at byte {data_pos})"
            ))),
            Err(e) => Err(e),
        })
    }

    fn skip(&mut self, mut n: u64) -> io::Result<()> {
        while n > 0 {
            while self.exhausted() {
                if self.ended || !self.next_record()? {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the tar-split ends inside an entry's data",
                    ));
                }
            }
            let step = if self.segment_at < self.segment.len() {
                let step = ((self.segment.len() - self.segment_at) as u64).min(n);
                self.segment_at += step as usize;
                step
            } else {
                let step = self.content_left.min(n);
                self.content_left -= step;
                step
            };
            self.pos += step;
            n -= step;
        }
        Ok(())
    }
}
