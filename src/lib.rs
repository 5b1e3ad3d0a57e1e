//! layerwaste: explains why container images don't shrink.
//!
//! An image is a stack of tar changesets; a later layer can hide bytes of an earlier
//! one but never remove them. This library reads an image without unpacking it and
//! says, for every Dockerfile step, which bytes it added that nobody can see in the
//! final image, which later step hid them, and why.
//!
//! Data flows one way: [`source`] (find the layers) → [`walk`] (index each layer's tar,
//! in parallel) → [`model`] (replay whiteouts and overwrites in order) → [`report`]
//! (table, JSON, …). [`analyze::analyze`] runs the whole pipeline.

pub mod analyze;
pub mod cache;
pub mod config;
pub mod diff;
pub mod dockerfile;
pub mod error;
pub mod exit_codes;
pub mod explain;
pub mod gate;
pub mod model;
pub mod progress;
pub mod report;
pub mod sanitize;
pub mod size;
pub mod source;
pub mod tarball;
pub mod walk;

pub use analyze::{analyze, Options};
pub use error::{Error, Result};
