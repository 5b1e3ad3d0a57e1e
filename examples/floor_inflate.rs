//! The bare-inflate floor: decompress every layer to nowhere, one thread per layer,
//! largest first, with the same decoders layerwaste uses (flate2 with zlib-rs, for
//! multi-member gzip; zstd). Plain layers are read through. Nothing is parsed.
//! `cargo run --release --example floor_inflate IMAGE` prints the bytes produced.

use std::io::{self, BufReader, Read, Seek, SeekFrom};

#[path = "support/layers.rs"]
mod floor_common;

fn inflate(location: &layerwaste::source::BlobLocation) -> u64 {
    let mut file = std::fs::File::open(&location.file).expect("open layer");
    file.seek(SeekFrom::Start(location.offset)).expect("seek");
    let mut input = BufReader::with_capacity(128 * 1024, file.take(location.len));
    let head = io::BufRead::fill_buf(&mut input).expect("read").to_vec();
    let copied = match head.as_slice() {
        [0x1f, 0x8b, ..] => drain(flate2::bufread::MultiGzDecoder::new(input)),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => {
            drain(zstd::stream::read::Decoder::with_buffer(input).expect("zstd"))
        }
        _ => drain(input),
    };
    copied.expect("decode")
}

/// Reads to the end in 256 KiB reads, the size layerwaste's tar reader asks for.
fn drain(mut r: impl Read) -> io::Result<u64> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0;
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn main() {
    let spec = std::env::args().nth(1).expect("usage: floor_inflate IMAGE");
    let layers = floor_common::layers(&spec);
    let bytes = floor_common::par_layers(&layers, inflate);
    println!("{bytes} bytes from {} layers", layers.len());
}
