//! The layer walker over arbitrary bytes (plain tar, gzip or zstd, sniffed), then the
//! replay of what it found. The walk must end in Ok or Err; the figures must add up.
#![no_main]

use std::sync::atomic::AtomicBool;

use libfuzzer_sys::fuzz_target;
use layerwaste::model::Replay;
use layerwaste::progress::Silent;
use layerwaste::walk::{walk_stream, WalkOptions};

fuzz_target!(|data: &[u8]| {
    let options = WalkOptions {
        max_entries: 100_000,
        ..Default::default()
    };
    let cancel = AtomicBool::new(false);
    let Ok(index) = walk_stream(&mut &data[..], &options, &Silent, &cancel) else {
        return;
    };
    assert!(index.blob_bytes <= data.len() as u64);
    let mut replay = Replay::new();
    // Twice: the second layer overwrites or re-adds everything the first one did.
    replay.apply(&index);
    replay.apply(&index);
    replay.resolve_comparisons();
    let outcome = replay.outcome();
    assert_eq!(outcome.total_bytes, outcome.final_bytes + outcome.wasted_bytes);
});
