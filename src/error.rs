//! The library's error type. Every variant says *which* input failed, so a user of a
//! 2 GB image never has to guess whether the manifest, the config or layer 37 is broken.

use std::path::PathBuf;

/// A failure to read or understand an image. Rendered as one line (`{err}`) that names
/// the file, the layer and the entry where they apply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The image path could not be opened or read at all.
    #[error("{}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The input is readable but is not any image layout layerwaste knows.
    #[error("{source_name}: not a container image: {why}")]
    NotAnImage { source_name: String, why: String },

    /// A metadata document (manifest.json, index.json, a manifest or config blob)
    /// is missing, unreadable or malformed.
    #[error("{source_name}: {document}: {why}")]
    Metadata {
        source_name: String,
        document: String,
        why: String,
    },

    /// The image names a blob that the archive or directory does not hold.
    #[error("{source_name}: {document} names {blob}, which is not in the image")]
    MissingBlob {
        source_name: String,
        document: String,
        blob: String,
    },

    /// A blob read whole does not have the digest or size its descriptor promises.
    #[error("{source_name}: {blob}: {what} mismatch: expected {expected}, found {found}")]
    BlobMismatch {
        source_name: String,
        blob: String,
        what: &'static str,
        expected: String,
        found: String,
    },

    /// A multi-platform index has no image for the requested (or host) platform.
    #[error("{source_name}: no image for platform {wanted}; the index has: {}", available.join(", "))]
    Platform {
        source_name: String,
        wanted: String,
        available: Vec<String>,
    },

    /// The outer archive (the image tar itself, not a layer) is broken.
    #[error("{source_name}: {why}")]
    Archive { source_name: String, why: String },

    /// A layer could not be walked: bad compression, a broken tar, a truncation.
    #[error("{source_name}: layer {layer} ({digest}){}: {why}", entry.as_ref().map(|e| format!(", entry {e}")).unwrap_or_default())]
    Layer {
        source_name: String,
        layer: usize,
        digest: String,
        /// The tar entry being read when it failed, escaped for display.
        entry: Option<String>,
        why: String,
    },

    /// A configured limit (entries, path length, metadata size) was exceeded.
    #[error("{source_name}: {what} exceeds the limit of {limit} ({hint})")]
    Limit {
        source_name: String,
        what: String,
        limit: u64,
        hint: &'static str,
    },

    /// A local engine (Docker Engine API, or Podman's compatible service) could not be
    /// reached or refused the request. `endpoint` is the socket or URL it was asked at.
    #[error("{image}: engine at {endpoint}: {why}")]
    Engine {
        image: String,
        endpoint: String,
        why: String,
    },

    /// A registry could not be reached, refused access, or does not hold the image.
    #[error("{reference}: registry {registry}: {why}")]
    Registry {
        reference: String,
        registry: String,
        why: String,
    },

    /// Docker's own data root could not be read as the classic image store.
    #[error("{image}: docker data root {}: {why}", root.display())]
    DockerRoot {
        image: String,
        root: PathBuf,
        why: String,
    },

    /// An invalid argument reached the library (for example a malformed platform).
    #[error("{0}")]
    Usage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
