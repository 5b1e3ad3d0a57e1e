//! The progress bar: indicatif on stderr, hidden off a terminal and with --quiet, so
//! callers never branch on whether it shows.

use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use layerwaste::progress::Progress;

pub struct Bar {
    bar: ProgressBar,
    layers: AtomicUsize,
    done: AtomicUsize,
}

impl Bar {
    pub fn new(visible: bool) -> Bar {
        let bar = if visible {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        Bar {
            bar,
            layers: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
        }
    }

    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }

    fn message(&self) {
        let done = self.done.load(Ordering::Relaxed);
        match self.layers.load(Ordering::Relaxed) {
            0 => self.bar.set_message(format!("{done} layers")),
            n => self.bar.set_message(format!("{done}/{n} layers")),
        }
    }
}

impl Progress for Bar {
    fn begin(&self, layers: usize, bytes: u64) {
        self.layers.store(layers, Ordering::Relaxed);
        let style = if bytes > 0 {
            self.bar.set_length(bytes);
            ProgressStyle::with_template(
                "{spinner} reading {msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
        } else {
            ProgressStyle::with_template("{spinner} reading {msg} {bytes} {bytes_per_sec}")
        };
        if let Ok(style) = style {
            self.bar.set_style(style);
        }
        self.message();
        self.bar
            .enable_steady_tick(std::time::Duration::from_millis(120));
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn layer_done(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.message();
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
