//! Several images at once: `jobs` workers take the next reference, analyse it with the
//! run's shared layers ([`crate::analyze::shared`]), and hand back its line as soon as
//! it is done. One image's failure is its own error line; the others go on.
//!
//! Memory is bounded by the number of images in flight (each holds at most its own
//! layers' indexes, as one `analyze` does) plus the shared store's budget.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use super::lines::{ErrorLine, ImageLine, Line};
use crate::analyze::shared::{LayerReads, SharedLayers};
use crate::analyze::{analyze_sharing, Options};
use crate::progress::Silent;

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// What every image is analysed with (as `analyze` would).
    pub analyze: Options,
    /// Images read at once (at least 1).
    pub jobs: usize,
    /// Bytes of layer indexes the run may hold for the images that share them.
    pub shared_budget: u64,
}

/// Analyses every reference, calling `on_line` (on the caller's thread) with each
/// line as its image finishes, and returns how the layers were obtained.
pub fn scan(
    references: &[String],
    options: &ScanOptions,
    on_line: &mut dyn FnMut(Line),
) -> LayerReads {
    let shared = SharedLayers::new(options.shared_budget);
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<Line>();
    std::thread::scope(|scope| {
        for worker in 0..options.jobs.clamp(1, references.len().max(1)) {
            let tx = tx.clone();
            let (shared, next) = (&shared, &next);
            std::thread::Builder::new()
                .name(format!("layerwaste-scan-{worker}"))
                .spawn_scoped(scope, move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(reference) = references.get(i) else {
                        break;
                    };
                    if tx.send(one(reference, &options.analyze, shared)).is_err() {
                        break;
                    }
                })
                .expect("a scan worker thread starts");
        }
        drop(tx);
        for line in rx {
            on_line(line);
        }
    });
    shared.reads()
}

/// One image's line. A panic in its analysis is a bug, but it still must not take the
/// fleet's other images down with it: it becomes this image's error line.
fn one(reference: &str, options: &Options, shared: &SharedLayers) -> Line {
    let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        analyze_sharing(reference, options, shared, &Silent)
    }));
    match analysed {
        Ok(Ok(report)) => Line::Image(Box::new(ImageLine::from_report(reference, &report))),
        Ok(Err(e)) => Line::Error(ErrorLine {
            reference: reference.to_string(),
            error: e.to_string(),
        }),
        Err(_) => Line::Error(ErrorLine {
            reference: reference.to_string(),
            error: "internal error: the analysis panicked (please report it)".into(),
        }),
    }
}
