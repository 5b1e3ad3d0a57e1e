//! Shared by the floor binaries: find an image's layers with layerwaste's own source
//! code (cheap: metadata only), so the floors read exactly the bytes layerwaste reads.

use layerwaste::source::{self, BlobLocation, LayerSource, Opened, PlanOptions, SourceOptions};

/// The image's layer blobs, largest first (the order layerwaste schedules them in).
pub fn layers(spec: &str) -> Vec<BlobLocation> {
    let options = PlanOptions {
        max_metadata_bytes: 64 * 1024 * 1024,
        ..Default::default()
    };
    let image = match source::open(spec, &options, &SourceOptions::default()) {
        Ok(Opened::Layered(image)) => image,
        Ok(Opened::Stream(_)) => panic!("{spec}: the floors need seekable layers"),
        Err(e) => panic!("{spec}: {e}"),
    };
    let mut layers: Vec<BlobLocation> = image
        .layers
        .into_iter()
        .map(|l| match l {
            LayerSource::File(location) => location,
            _ => panic!("{spec}: a layer is not a byte range of a file"),
        })
        .collect();
    layers.sort_by_key(|l| std::cmp::Reverse(l.len));
    layers
}

/// Runs `work` on every layer in a pool of `threads` (0: one per core), largest first,
/// and sums what it returns.
pub fn par_layers(layers: &[BlobLocation], work: impl Fn(&BlobLocation) -> u64 + Sync) -> u64 {
    let threads = std::env::var("FLOOR_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let total = std::sync::atomic::AtomicU64::new(0);
    pool.scope(|s| {
        for layer in layers {
            let (work, total) = (&work, &total);
            s.spawn(move |_| {
                total.fetch_add(work(layer), std::sync::atomic::Ordering::Relaxed);
            });
        }
    });
    total.into_inner()
}
