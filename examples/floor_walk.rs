//! The bare-walk floor: a tar header walk that seeks over file data, one thread per
//! layer, largest first. It parses each 512-byte header's size and jumps to the next;
//! nothing else (no paths, no model). `cargo run --release --example floor_walk IMAGE`
//! prints the number of headers read.

use std::fs::File;
use std::os::unix::fs::FileExt;

#[path = "support/layers.rs"]
mod floor_common;

fn walk(location: &layerwaste::source::BlobLocation) -> u64 {
    let file = File::open(&location.file).expect("open layer");
    let mut block = [0u8; 512];
    let (mut pos, mut headers) = (0u64, 0u64);
    while pos + 512 <= location.len {
        file.read_exact_at(&mut block, location.offset + pos)
            .expect("read header");
        if block.iter().all(|&b| b == 0) {
            break;
        }
        let size = tar::Header::from_byte_slice(&block)
            .entry_size()
            .expect("size field");
        headers += 1;
        // PAX and GNU long-name records are entries of their own here: their data is
        // skipped like any other, which is all a walk needs to find the next header.
        pos += 512 + size.div_ceil(512) * 512;
    }
    headers
}

fn main() {
    let spec = std::env::args().nth(1).expect("usage: floor_walk IMAGE");
    let layers = floor_common::layers(&spec);
    let headers = floor_common::par_layers(&layers, walk);
    println!("{headers} headers in {} layers", layers.len());
}
