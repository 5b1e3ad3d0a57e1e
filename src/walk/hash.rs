//! Content hashes: xxh3-64 (seed 0), in two builds of the same function.
//!
//! - [`hash`] and [`Hasher`] (xxhash-rust, SIMD chosen at compile time: SSE2 on a
//!   generic x86-64 build), for data hashed as it streams out of a decoder.
//! - [`hash_wide`] and [`WideHasher`] (twox-hash, AVX2 detected at run time), for the
//!   targeted re-read of plain layers: long mapped ranges and nothing else to do, where
//!   AVX2 takes 11% off the instructions of the whole run on big.
//!
//! Why not AVX2 everywhere: interleaved with a zstd decode on the same core, the AVX2
//! build made big (zstd) slower, 1.05–1.09 s against 1.00–1.04 s (median of 5,
//! alternating), though it ran fewer instructions; the likeliest cause is the lower
//! clock that this Xeon runs wide vector code at, paid by the decoder too.
//!
//! Both compute the same function, so a hash taken one way equals one taken the
//! other, and the hashes kept in the layer cache stay valid; the test below holds the
//! two to each other.

use std::hash::Hasher as _;

use twox_hash::XxHash3_64;
pub use xxhash_rust::xxh3::{xxh3_64 as hash, Xxh3 as Hasher};

/// xxh3-64 of `bytes`, with AVX2 where the CPU has it.
pub fn hash_wide(bytes: &[u8]) -> u64 {
    XxHash3_64::oneshot(bytes)
}

/// xxh3-64 of bytes given in pieces, with AVX2 where the CPU has it: the same value
/// as [`hash`] of their concatenation.
pub struct WideHasher(XxHash3_64);

impl WideHasher {
    pub fn new() -> Self {
        WideHasher(XxHash3_64::new())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }

    pub fn digest(&self) -> u64 {
        self.0.finish()
    }
}

impl Default for WideHasher {
    fn default() -> Self {
        WideHasher::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_builds_agree_at_every_length_and_split() {
        let mut x: u32 = 1;
        let data: Vec<u8> = (0..70_000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        let lengths = (0..=1100).chain([
            1023, 1024, 1025, 4095, 4096, 4097, 16_383, 65_536, 69_999, 70_000,
        ]);
        for len in lengths {
            let bytes = &data[..len];
            let want = hash(bytes);
            assert_eq!(hash_wide(bytes), want, "one shot, {len} bytes");
            for split in [1, 7, 64, 240, 256, 1024, 4096] {
                let mut wide = WideHasher::new();
                let mut narrow = Hasher::new();
                for piece in bytes.chunks(split) {
                    wide.update(piece);
                    narrow.update(piece);
                }
                assert_eq!(wide.digest(), want, "{len} bytes in pieces of {split}");
                assert_eq!(narrow.digest(), want, "{len} bytes in pieces of {split}");
            }
        }
    }
}
