//! Where an image comes from: a docker-save tar, an OCI archive or layout directory, a
//! compressed archive, stdin, a local engine, a registry, or Docker's own data root.
//! Everything here ends in a [`Plan`] (the documents: history, diff IDs, layer names)
//! plus a way to read each layer, or in a stream read once. docs/sources.md describes
//! each source for users.

pub mod blob;
pub mod docker_root;
pub mod layout;
pub mod remote;
pub mod store;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use blob::BlobLocation;
pub use layout::{Plan, PlanOptions};
pub use store::{Blobs, MemoryBlobs, Store};

use crate::error::{Error, Result};

/// How the image was packaged, as detected from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `docker save` before Docker 25, kaniko, `buildah push docker-archive:`.
    DockerSave,
    /// `docker save` from Docker 25 on: an OCI layout plus `manifest.json`.
    DockerSaveOci,
    /// An OCI image layout (directory or archive).
    Oci,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::DockerSave => "docker-save",
            Format::DockerSaveOci => "docker-save (OCI)",
            Format::Oci => "OCI layout",
        })
    }
}

/// `os/arch[/variant]`, as in `--platform linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this binary runs on, in OCI's naming.
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            "loongarch64" => "loong64",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    /// Whether `candidate` satisfies this (requested) platform. A request without a
    /// variant accepts any variant.
    pub fn matches(&self, candidate: &Platform) -> bool {
        self.os == candidate.os
            && self.architecture == candidate.architecture
            && (self.variant.is_none() || self.variant == candidate.variant)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &str| !p.is_empty();
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(variant.to_string()),
            }),
            _ => Err(format!("{s:?} is not os/arch[/variant], e.g. linux/amd64")),
        }
    }
}

/// One `config.history` entry: a Dockerfile step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub created_by: Option<String>,
    pub empty_layer: bool,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ImageConfig {
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub diff_ids: Vec<String>,
    pub history: Vec<HistoryEntry>,
}

impl ImageConfig {
    pub fn platform(&self) -> Option<Platform> {
        Some(Platform {
            os: self.os.clone()?,
            architecture: self.architecture.clone()?,
            variant: self.variant.clone(),
        })
    }
}

/// A layer as the manifest names it.
#[derive(Debug, Clone)]
pub struct LayerRef {
    /// Member or file name inside the image (`blobs/sha256/…`, `<id>/layer.tar`).
    pub name: String,
    /// The blob digest (compressed), when the layout states it.
    pub digest: Option<String>,
    /// The digest of the uncompressed tar, from the config.
    pub diff_id: Option<String>,
    pub size: Option<u64>,
    pub media_type: Option<String>,
}

impl LayerRef {
    /// The most stable name for messages and reports: the diff ID is the same whatever
    /// the compression or packaging.
    pub fn label(&self) -> &str {
        self.diff_id
            .as_deref()
            .or(self.digest.as_deref())
            .unwrap_or(&self.name)
    }
}

/// Opens a layer's blob as a stream, once per call.
pub type OpenLayer = Box<dyn Fn() -> std::io::Result<Box<dyn Read + Send>> + Send + Sync>;

/// How to read one layer's blob.
pub enum LayerSource {
    /// A byte range of a local file: read with `pread`, seeking past file data, and
    /// re-readable for the few contents whose identity matters.
    File(BlobLocation),
    /// A stream opened on demand (a registry blob, say): read once, hashed as it goes.
    /// `size` is the stored size when known, for scheduling and progress.
    Stream { open: OpenLayer, size: Option<u64> },
    /// Headers known without reading the layer: a tar-split file (Docker's data root,
    /// containers/storage) keeps every tar header and a checksum of each file. `size`
    /// is the uncompressed layer size, for scheduling.
    TarSplit { path: PathBuf, size: u64 },
}

impl LayerSource {
    pub fn size(&self) -> u64 {
        match self {
            LayerSource::File(l) => l.len,
            LayerSource::Stream { size, .. } => size.unwrap_or(0),
            LayerSource::TarSplit { size, .. } => *size,
        }
    }
}

impl fmt::Debug for LayerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerSource::File(l) => f.debug_tuple("File").field(l).finish(),
            LayerSource::Stream { size, .. } => {
                f.debug_struct("Stream").field("size", size).finish()
            }
            LayerSource::TarSplit { path, size } => f
                .debug_struct("TarSplit")
                .field("path", path)
                .field("size", size)
                .finish(),
        }
    }
}

/// An image whose layers can each be opened on their own: the parallel path.
#[derive(Debug)]
pub struct LayeredImage {
    pub name: String,
    pub plan: Plan,
    pub layers: Vec<LayerSource>,
}

/// Bytes to read once, front to back: stdin and compressed archives.
pub struct StreamInput {
    pub name: String,
    pub reader: Box<dyn Read + Send>,
}

pub enum Opened {
    Layered(Box<LayeredImage>),
    Stream(StreamInput),
}

/// Where to look for images that are not files: what the command line says about
/// engines, registries and data roots.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Registries (`host` or `host:port`) that may be spoken to over plain HTTP, besides
    /// `localhost` and `127.0.0.1`.
    pub insecure_registries: Vec<String>,
    /// Read a named image straight from this Docker data root (`/var/lib/docker`).
    pub docker_root: Option<PathBuf>,
}

/// How the user may force the layout (skopeo's transport names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Any,
    DockerArchive,
    Oci,
    OciArchive,
}

/// Parses `docker-archive:PATH`, `oci:DIR[:TAG]`, `oci-archive:PATH`, or a plain path.
fn split_transport(spec: &str) -> (Transport, &str) {
    for (prefix, t) in [
        ("docker-archive:", Transport::DockerArchive),
        ("oci-archive:", Transport::OciArchive),
        ("oci:", Transport::Oci),
    ] {
        if let Some(rest) = spec.strip_prefix(prefix) {
            // oci:DIR:TAG — the tag suffix is accepted; a layout holds the one image.
            let path = if t == Transport::Oci && !Path::new(rest).exists() {
                rest.rsplit_once(':').map(|(p, _)| p).unwrap_or(rest)
            } else {
                rest
            };
            return (t, path);
        }
    }
    (Transport::Any, spec)
}

/// Whether a missing path is better read as an image name (`myapp:latest`,
/// `localhost/team/app`, an image ID) than as a file the user mistyped. Paths with an
/// archive extension, a leading `/` or `.`, or characters a reference cannot hold (an
/// upper-case letter, a space) stay paths, so their error says the file is missing.
fn is_image_name(spec: &str) -> bool {
    const ARCHIVE_SUFFIXES: [&str; 6] = [".tar", ".tgz", ".gz", ".zst", ".tzst", ".json"];
    if spec.is_empty()
        || spec.starts_with(['/', '.', '~'])
        || spec.ends_with('/')
        || ARCHIVE_SUFFIXES.iter().any(|s| spec.ends_with(s))
    {
        return false;
    }
    let (rest, digest) = match spec.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (spec, None),
    };
    if let Some(d) = digest {
        let ok = d.split_once(':').is_some_and(|(alg, hex)| {
            !alg.is_empty() && !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit())
        });
        if !ok {
            return false;
        }
    }
    // A tag is after the last ':' that follows the last '/' (a ':' before it is a port).
    let (repository, tag) = match rest.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, Some(t)),
        _ => (rest, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && !t.starts_with(['.', '-']);
        if !ok {
            return false;
        }
    }
    let mut parts = repository.split('/').peekable();
    let mut first = true;
    while let Some(part) = parts.next() {
        // The first of several components may be a registry host: `host:port`, dots,
        // upper case allowed.
        let host_ok = first
            && parts.peek().is_some()
            && !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b));
        let path_ok = !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && part.starts_with(|c: char| c.is_ascii_alphanumeric());
        if !(host_ok || path_ok) {
            return false;
        }
        first = false;
    }
    true
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Opens an image named on the command line: `-` is stdin; `docker-daemon:NAME` and
/// a bare name that is not a path go to the local engine; `docker://REF` to a
/// registry; with [`SourceOptions::docker_root`], a name is read from that data root.
pub fn open(spec: &str, options: &PlanOptions, sources: &SourceOptions) -> Result<Opened> {
    if spec == "-" {
        return Ok(Opened::Stream(StreamInput {
            name: "stdin".into(),
            reader: Box::new(std::io::stdin()),
        }));
    }
    if let Some(root) = &sources.docker_root {
        let name = spec.strip_prefix("docker-daemon:").unwrap_or(spec);
        return docker_root::open(root, name, options).map(|i| Opened::Layered(Box::new(i)));
    }
    if let Some(name) = spec.strip_prefix("docker-daemon:") {
        return remote::engine::open(spec, name, true).map(Opened::Stream);
    }
    if let Some(reference) = spec.strip_prefix("docker://") {
        return remote::registry::open(spec, reference, options, sources)
            .map(|i| Opened::Layered(Box::new(i)));
    }
    let (transport, path_str) = split_transport(spec);
    if transport == Transport::Any && !Path::new(spec).exists() && is_image_name(spec) {
        return remote::engine::open(spec, spec, false).map(Opened::Stream);
    }
    let path = PathBuf::from(path_str);
    let meta = std::fs::metadata(&path).map_err(|source| Error::Open {
        path: path.clone(),
        source,
    })?;
    let name = path_str.to_string();
    let store = if meta.is_dir() {
        if transport == Transport::OciArchive || transport == Transport::DockerArchive {
            return Err(Error::Usage(format!(
                "{name}: is a directory, not an archive"
            )));
        }
        Store::open_dir(&name, &path)
    } else {
        let mut head = [0u8; 512];
        let got = read_head(&path, &mut head)?;
        let head = &head[..got];
        if got == 0 {
            return Err(Error::NotAnImage {
                source_name: name,
                why: "the file is empty".into(),
            });
        }
        if head.starts_with(GZIP_MAGIC) || head.starts_with(ZSTD_MAGIC) {
            let file = std::fs::File::open(&path).map_err(|source| Error::Open {
                path: path.clone(),
                source,
            })?;
            return Ok(Opened::Stream(StreamInput {
                name,
                reader: Box::new(file),
            }));
        }
        if !looks_like_tar(head) {
            return Err(Error::NotAnImage {
                source_name: name,
                why: "it is not a tar archive, an OCI layout or a docker-save directory".into(),
            });
        }
        Store::index_tar(&name, &path)?
    };
    let plan = layout::plan(&store, options)?;
    let wrong_layout = match transport {
        Transport::DockerArchive => plan.format == Format::Oci,
        Transport::Oci | Transport::OciArchive => plan.format == Format::DockerSave,
        Transport::Any => false,
    };
    if wrong_layout {
        return Err(Error::Usage(format!(
            "{name}: the transport says one layout but the content is {}",
            plan.format
        )));
    }
    let mut layers = Vec::with_capacity(plan.layers.len());
    for layer in &plan.layers {
        let location = store
            .locate(&layer.name)
            .ok_or_else(|| Error::MissingBlob {
                source_name: name.clone(),
                document: "the manifest".into(),
                blob: layer.name.clone(),
            })?;
        layers.push(LayerSource::File(location));
    }
    Ok(Opened::Layered(Box::new(LayeredImage {
        name,
        plan,
        layers,
    })))
}

fn read_head(path: &Path, head: &mut [u8]) -> Result<usize> {
    let mut f = std::fs::File::open(path).map_err(|source| Error::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut got = 0;
    while got < head.len() {
        match f.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(Error::Open {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
    }
    Ok(got)
}

/// A tar starts with a header whose checksum adds up (or with the zero end block of an
/// empty archive). Magic numbers alone miss old v7 archives.
pub fn looks_like_tar(head: &[u8]) -> bool {
    if head.len() < 512 {
        return false;
    }
    if head[..512].iter().all(|b| *b == 0) {
        return true;
    }
    let header = tar::Header::from_byte_slice(&head[..512]);
    let Ok(stored) = header.cksum() else {
        return false;
    };
    let sum: u32 = head[..512]
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    sum == stored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_match() {
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        let any: Platform = "linux/arm64".parse().unwrap();
        assert!(any.matches(&p));
        assert!(!p.matches(&any));
        assert!("linux".parse::<Platform>().is_err());
        assert!("linux//v7".parse::<Platform>().is_err());
    }

    #[test]
    fn names_and_paths_are_told_apart() {
        for name in [
            "myapp",
            "myapp:latest",
            "localhost/myapp",
            "localhost:5000/team/app:v1.2",
            "registry.example.com/team/app@sha256:abcdef",
            "364ffdae9de0",
            "sha256:364ffdae9de0808c60a706533438cadfa4410ede6c34f523e93b409f8fc352d3",
        ] {
            assert!(is_image_name(name), "{name} is a name");
        }
        for path in [
            "image.tar",
            "./myapp",
            "/tmp/x",
            "out/image.tar.gz",
            "My Images/app",
            "Image",
            "app:",
            "dir/",
        ] {
            assert!(!is_image_name(path), "{path} is a path");
        }
    }

    #[test]
    fn transports_are_stripped() {
        assert_eq!(split_transport("oci-archive:/x.tar").1, "/x.tar");
        assert_eq!(
            split_transport("oci:/nonexistent/dir:latest").1,
            "/nonexistent/dir"
        );
        assert_eq!(
            split_transport("docker-archive:a.tar").0,
            Transport::DockerArchive
        );
        assert_eq!(split_transport("plain.tar").0, Transport::Any);
    }
}
