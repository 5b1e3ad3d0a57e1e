//! How many stored (compressed) bytes each entry of a compressed layer took: the
//! estimate behind the pull cost of wasted content.
//!
//! The decoder's output and its consumed input are sampled at every read (at most
//! 256 KiB of output apart). That gives a monotone map from tar offset to compressed
//! offset; an entry's stored size is the map's difference over the entry's header and
//! padded data, interpolating linearly inside a sample interval. The error is bounded by
//! how unevenly one interval compresses: exact at interval boundaries, and the sum over
//! all entries equals the compressed bytes the tar consumed. docs/waste-model.md has the
//! measured error.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use super::Entry;

/// Counts the input bytes a decoder consumes from its buffered reader.
pub struct ConsumeCounter<R> {
    inner: R,
    consumed: Rc<Cell<u64>>,
}

impl<R> ConsumeCounter<R> {
    pub fn new(inner: R) -> (Self, Rc<Cell<u64>>) {
        let consumed = Rc::new(Cell::new(0));
        (
            ConsumeCounter {
                inner,
                consumed: Rc::clone(&consumed),
            },
            consumed,
        )
    }
}

impl<R: BufRead> Read for ConsumeCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.set(self.consumed.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for ConsumeCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.consumed.set(self.consumed.get() + n as u64);
        self.inner.consume(n);
    }
}

/// Records (decompressed bytes produced, compressed bytes consumed) after every read.
pub struct Sampler<R> {
    pub inner: R,
    consumed: Rc<Cell<u64>>,
    produced: u64,
    pub samples: Vec<(u64, u64)>,
}

impl<R> Sampler<R> {
    pub fn new(inner: R, consumed: Rc<Cell<u64>>) -> Self {
        Sampler {
            inner,
            consumed,
            produced: 0,
            samples: vec![(0, 0)],
        }
    }
}

impl<R: Read> Read for Sampler<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.produced += n as u64;
            self.samples.push((self.produced, self.consumed.get()));
        }
        Ok(n)
    }
}

/// Compressed offset at tar offset `x`, interpolated between samples.
fn compressed_at(samples: &[(u64, u64)], x: u64) -> f64 {
    let i = samples.partition_point(|&(out, _)| out < x);
    if i == 0 {
        return samples.first().map(|s| s.1 as f64).unwrap_or(0.0);
    }
    let Some(&(x1, y1)) = samples.get(i) else {
        return samples.last().map(|s| s.1 as f64).unwrap_or(0.0);
    };
    let (x0, y0) = samples[i - 1];
    if x1 == x0 {
        return y1 as f64;
    }
    y0 as f64 + (y1 - y0) as f64 * (x - x0) as f64 / (x1 - x0) as f64
}

/// Fills in each entry's estimated stored size from the samples of its layer.
pub fn assign(entries: &mut [Entry], samples: &[(u64, u64)]) {
    for e in entries {
        let start = e.data_pos.saturating_sub(512);
        let end = e
            .data_pos
            .saturating_add(e.size.div_ceil(512).saturating_mul(512));
        let stored = compressed_at(samples, end) - compressed_at(samples, start);
        e.stored = stored.max(0.0).round() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_between_samples() {
        let s = [(0, 0), (1000, 100), (2000, 300)];
        assert_eq!(compressed_at(&s, 500), 50.0);
        assert_eq!(compressed_at(&s, 1500), 200.0);
        assert_eq!(compressed_at(&s, 5000), 300.0);
    }

    #[test]
    fn estimates_follow_the_decoder() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        // 1 MB of zeros then 1 MB of noise: the noise must cost far more.
        let mut data = vec![0u8; 1 << 20];
        let mut x: u32 = 1;
        data.extend((0..1 << 20).map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        }));
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(&data).unwrap();
        let gz = enc.finish().unwrap();
        let (counter, consumed) = ConsumeCounter::new(io::BufReader::new(&gz[..]));
        let mut sampler = Sampler::new(flate2::bufread::GzDecoder::new(counter), consumed);
        io::copy(&mut sampler, &mut io::sink()).unwrap();
        let zeros = compressed_at(&sampler.samples, 1 << 20);
        let all = compressed_at(&sampler.samples, 2 << 20);
        assert!(zeros < 20_000.0, "{zeros}");
        assert!(all - zeros > 1_000_000.0, "{}", all - zeros);
    }
}
