//! How the library reports progress without knowing about terminals: the binary plugs
//! an indicatif bar in, tests and library users plug in nothing.

/// Called from walker threads, so implementations must be cheap and thread-safe.
pub trait Progress: Sync {
    /// The walk is about to read `layers` layers holding `bytes` stored bytes (as far as
    /// known; 0 when streaming).
    fn begin(&self, _layers: usize, _bytes: u64) {}
    /// `bytes` more stored (compressed) bytes were consumed.
    fn advance(&self, _bytes: u64) {}
    /// One more layer was walked.
    fn layer_done(&self) {}
    /// All reading is over.
    fn finish(&self) {}
}

/// No progress reporting.
pub struct Silent;

impl Progress for Silent {}
