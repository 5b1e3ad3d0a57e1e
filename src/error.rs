//! The library's error type. Every variant says *which* input failed, so a user of a
//! 2 GB image never has to guess whether the manifest, the config or layer 37 is broken.
//!
//! Most of what a message quotes (member names, digests, parser complaints that echo
//! the input) comes from whoever built the image, so every field is escaped as the
//! message is rendered: printing an error must not let an image drive the terminal.

use std::path::PathBuf;

use crate::text::escape as e;

/// A failure to read or understand an image. Rendered as one line (`{err}`) that names
/// the file, the layer and the entry where they apply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The image path could not be opened or read at all. The I/O error is the
    /// `source`, printed after the path by `{:#}` (as the binary does).
    #[error("{}", e(&path.display().to_string()))]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The input is readable but is not any image layout layerwaste knows.
    #[error("{}: not a container image: {}", e(source_name), e(why))]
    NotAnImage { source_name: String, why: String },

    /// A metadata document (manifest.json, index.json, a manifest or config blob)
    /// is missing, unreadable or malformed.
    #[error("{}: {}: {}", e(source_name), e(document), e(why))]
    Metadata {
        source_name: String,
        document: String,
        why: String,
    },

    /// The image names a blob that the archive or directory does not hold.
    #[error(
        "{}: {} names {}, which is not in the image",
        e(source_name),
        e(document),
        e(blob)
    )]
    MissingBlob {
        source_name: String,
        document: String,
        blob: String,
    },

    /// A blob read whole does not have the digest or size its descriptor promises.
    #[error(
        "{}: {}: {what} mismatch: expected {}, found {}",
        e(source_name),
        e(blob),
        e(expected),
        e(found)
    )]
    BlobMismatch {
        source_name: String,
        blob: String,
        what: &'static str,
        expected: String,
        found: String,
    },

    /// A multi-platform index has no image for the requested (or host) platform.
    #[error("{}: no image for platform {}; the index has: {}", e(source_name), e(wanted), e(&available.join(", ")))]
    Platform {
        source_name: String,
        wanted: String,
        available: Vec<String>,
    },

    /// The outer archive (the image tar itself, not a layer) is broken.
    #[error("{}: {}", e(source_name), e(why))]
    Archive { source_name: String, why: String },

    /// A layer could not be walked: bad compression, a broken tar, a truncation.
    #[error("{}: layer {layer} ({}){}: {}", e(source_name), e(digest), entry.as_ref().map(|entry| format!(", entry {}", e(entry))).unwrap_or_default(), e(why))]
    Layer {
        source_name: String,
        layer: usize,
        digest: String,
        /// The tar entry being read when it failed, escaped for display.
        entry: Option<String>,
        why: String,
    },

    /// A configured limit (entries, path length, metadata size) was exceeded.
    #[error(
        "{}: {} exceeds the limit of {limit} ({hint})",
        e(source_name),
        e(what)
    )]
    Limit {
        source_name: String,
        what: String,
        limit: u64,
        hint: &'static str,
    },

    /// A local engine (Docker Engine API, or Podman's compatible service) could not be
    /// reached or refused the request. `endpoint` is the socket or URL it was asked at.
    #[error("{}: engine at {}: {}", e(image), e(endpoint), e(why))]
    Engine {
        image: String,
        endpoint: String,
        why: String,
    },

    /// A registry could not be reached, refused access, or does not hold the image.
    #[error("{}: registry {}: {}", e(reference), e(registry), e(why))]
    Registry {
        reference: String,
        registry: String,
        why: String,
    },

    /// Docker's own data root could not be read as the classic image store.
    #[error("{}: docker data root {}: {}", e(image), e(&root.display().to_string()), e(why))]
    DockerRoot {
        image: String,
        root: PathBuf,
        why: String,
    },

    /// An invalid argument reached the library (for example a malformed platform).
    #[error("{}", e(.0))]
    Usage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
