//! Layer compression, sniffed from the first bytes rather than trusted from a media type
//! (kaniko and some registries mislabel them).

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::bufread::GzDecoder;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Result<Compression, &'static str> {
        match head {
            [0x1f, 0x8b, ..] => Ok(Compression::Gzip),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Ok(Compression::Zstd),
            [b'B', b'Z', b'h', ..] => Err("bzip2 layers are not supported"),
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Err("xz layers are not supported"),
            _ => Ok(Compression::None),
        }
    }
}

/// Reads consecutive gzip members as one stream (estargz writes one per file).
///
/// Bytes after the last member that are not another member are *trailing data*: they
/// are counted, not decoded, like gzip(1) does ("trailing garbage ignored"). Whether that
/// is harmless is decided by the tar walker: if the tar is complete before them, the
/// layer is whole and they only earn a warning; if not, the tar reports a truncation.
pub struct GzipMembers<R: BufRead> {
    decoder: Option<GzDecoder<R>>,
    inner: Option<R>,
    pub members: u64,
    pub trailing_bytes: u64,
}

impl<R: BufRead> GzipMembers<R> {
    pub fn new(inner: R) -> Self {
        GzipMembers {
            decoder: Some(GzDecoder::new(inner)),
            inner: None,
            members: 1,
            trailing_bytes: 0,
        }
    }
}

impl<R: BufRead> Read for GzipMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // End of a member, CRC and length verified by flate2. Another member?
            let Some(mut inner) = self.decoder.take().map(GzDecoder::into_inner) else {
                return Ok(0);
            };
            let head = inner.fill_buf()?;
            if head.is_empty() {
                self.inner = Some(inner);
                return Ok(0);
            }
            let mut magic = [0u8; 2];
            let peeked = peek(&mut inner, &mut magic)?;
            if peeked == 2 && magic == [0x1f, 0x8b] {
                self.members += 1;
                self.decoder = Some(GzDecoder::new(inner));
                continue;
            }
            self.trailing_bytes = io::copy(&mut inner, &mut io::sink())?;
            self.inner = Some(inner);
            return Ok(0);
        }
    }
}

/// Looks at up to `out.len()` bytes without consuming them when the buffer holds them.
fn peek<R: BufRead>(r: &mut R, out: &mut [u8]) -> io::Result<usize> {
    let head = r.fill_buf()?;
    let n = head.len().min(out.len());
    out[..n].copy_from_slice(&head[..n]);
    Ok(n)
}

/// Says which decoder failed. A decoder's own words ("incomplete deflate stream",
/// "Data corruption detected") do not tell a user that the compressed layer is what is
/// broken, nor that a truncation is one; this adds both.
pub struct Labelled<R> {
    inner: R,
    what: &'static str,
}

impl<R> Labelled<R> {
    pub fn new(inner: R, what: &'static str) -> Self {
        Labelled { inner, what }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for Labelled<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let how = if e.kind() == io::ErrorKind::UnexpectedEof {
                "ends early (truncated?)"
            } else {
                "is corrupt"
            };
            // Not UnexpectedEof: the tar reader must not mistake this for its own
            // truncation, which it words differently.
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the {} data {how}: {e}", self.what),
            )
        })
    }
}

/// Counts the compressed bytes a decoder pulls, for progress and pull-cost figures.
/// The counter is shared so the tar walker, downstream of the decoder, can read it.
pub struct Counting<R> {
    pub inner: R,
    pub counter: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    pub fn new(inner: R) -> Self {
        Counting {
            inner,
            counter: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn count(&self) -> u64 {
        self.counter.load(Ordering::Relaxed)
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn sniffs_magic() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8]), Ok(Compression::Gzip));
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Ok(Compression::Zstd)
        );
        assert_eq!(Compression::sniff(b"usr/"), Ok(Compression::None));
        assert!(Compression::sniff(b"BZh91AY").is_err());
    }

    #[test]
    fn joins_members_and_counts_trailing_data() {
        let mut bytes = gz(b"hello ");
        bytes.extend(gz(b"world"));
        bytes.extend(b"JUNK");
        let mut r = GzipMembers::new(io::BufReader::new(&bytes[..]));
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello world");
        assert_eq!((r.members, r.trailing_bytes), (2, 4));
    }

    #[test]
    fn bad_crc_is_an_error() {
        let mut bytes = gz(b"some content that matters");
        let n = bytes.len();
        bytes[n - 8] ^= 0xff; // CRC32 field
        let mut r = GzipMembers::new(io::BufReader::new(&bytes[..]));
        assert!(io::copy(&mut r, &mut io::sink()).is_err());
    }

    #[test]
    fn truncated_member_is_an_error() {
        let bytes = gz(&[7u8; 10000]);
        let mut r = GzipMembers::new(io::BufReader::new(&bytes[..bytes.len() / 2]));
        assert!(io::copy(&mut r, &mut io::sink()).is_err());
    }
}
