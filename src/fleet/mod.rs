//! Fleet audits (`layerwaste scan`, `layerwaste merge`): many images, one line each,
//! and a summary of the whole fleet.
//!
//! Each image becomes one [`Line`]: its figures, per step and per layer (by diff ID),
//! its top findings with their fixes, the per-pattern totals of all its findings and
//! its gate verdict; or the error that stopped it. A line carries everything the
//! [`summary`] needs, so the summary of the lines of several shards, merged, is the
//! summary of one run over all of them.
//!
//! - [`lines`]: the NDJSON line model, built from a report;
//! - [`summary`]: the fleet's totals, its most wasteful shared layers, patterns and
//!   instructions, and the images over the gate;
//! - [`select`]: what SOURCEs name (a registry's catalog, a list file), sharding and
//!   resuming;
//! - [`run`]: several images at once, each unique layer read once.

pub mod lines;
pub mod run;
pub mod select;
pub mod summary;

pub use lines::{ErrorLine, ImageLine, Line};
pub use summary::Summary;
