//! layerwaste: explains why container images don't shrink.
//!
//! An image is a stack of tar changesets; a later layer can hide bytes of an earlier
//! one but never remove them. This library reads an image without unpacking it and
//! says, for every Dockerfile step, which bytes it added that nobody can see in the
//! final image, which later step hid them, and why.
//!
//! The rooms, by stage; each imports only the rooms above it in this list, and the
//! leaves ([`error`], [`text`], [`progress`]) (docs/architecture.md):
//! - [`format`]: tar headers and codecs, the byte formats every stage reads;
//! - [`source`]: find an image's documents and layers (files, engines, registries);
//! - [`walk`]: index one layer's tar, in parallel; the only decompressor and rayon user;
//! - [`model`]: replay the layers in order: the waste model and the gate's arithmetic;
//! - [`explain`]: reasons, findings, Dockerfile lines, diff, and the report model;
//! - [`analyze`]: the pipeline that runs the stages above for one image;
//! - [`fleet`]: many images at once (`scan`), one line each and the fleet's summary;
//! - [`report`]: renderers only (table, JSON, markdown, SARIF, GitHub annotations).

pub mod error;
pub mod progress;
pub mod text;

pub mod format;

pub mod source;

pub mod walk;

pub mod model;

pub mod explain;

pub mod analyze;

pub mod fleet;

pub mod report;

pub use analyze::{analyze, Options};
pub use error::{Error, Result};
