//! containerd's image store, read where it lives: through the daemon's gRPC API
//! (`containerd://[NAMESPACE/]NAME`, see [`api`]) or straight from its root directory
//! with no daemon (`--containerd-root DIR NAME`, this module and [`bolt`]).
//!
//! Both routes end the same way: a name resolves to a target descriptor (an index or a
//! manifest), which is handed to [`crate::source::layout::plan`] as the one entry of an
//! OCI `index.json`, so platform choice, nested indexes and every digest check are the
//! code every OCI layout goes through. The content store keeps blobs under their
//! digest, exactly as an OCI layout's `blobs/` does, and keeps the registry's own
//! compressed layers, so the pull cost reported is the real one.
//!
//! The metadata database (`io.containerd.metadata.v1.bolt/meta.db`) holds, per
//! namespace, `v1/<namespace>/images/<name>/target/{digest,mediatype,size}`; `size` is
//! a signed (zig-zag) varint.

#[cfg(feature = "remote")]
pub mod api;
pub mod bolt;
#[cfg(feature = "remote")]
pub mod engine;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::source::layout::{self, PlanOptions};
use crate::source::{BlobLocation, Blobs, LayerSource, LayeredImage, Plan};

/// The metadata database, relative to the containerd root.
pub const META_DB: &str = "io.containerd.metadata.v1.bolt/meta.db";
/// The content store's blobs, relative to the containerd root.
pub const CONTENT_BLOBS: &str = "io.containerd.content.v1.content/blobs";

/// What an image name points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

/// Every image name of every namespace: namespace → name → target.
pub type Catalog = BTreeMap<String, BTreeMap<String, Target>>;

/// The image a spec resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub namespace: String,
    pub name: String,
    pub target: Target,
}

/// Reads the catalog from a bbolt `meta.db`'s bytes.
pub fn catalog_from_db(db: &bolt::Db) -> std::result::Result<Catalog, bolt::BoltError> {
    let mut catalog = Catalog::new();
    let Some(v1) = db.bucket(db.root(), b"v1")? else {
        return Ok(catalog);
    };
    for ns in db.bucket_names(v1)? {
        let namespace = String::from_utf8_lossy(ns).into_owned();
        let mut images = BTreeMap::new();
        let Some(ns_bucket) = db.bucket(v1, ns)? else {
            continue;
        };
        if let Some(image_bucket) = db.bucket(ns_bucket, b"images")? {
            for name in db.bucket_names(image_bucket)? {
                let Some(image) = db.bucket(image_bucket, name)? else {
                    continue;
                };
                let Some(target) = db.bucket(image, b"target")? else {
                    continue;
                };
                let text = |key: &[u8]| -> std::result::Result<String, bolt::BoltError> {
                    Ok(db
                        .value(target, key)?
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                        .unwrap_or_default())
                };
                let size = match db.value(target, b"size")? {
                    Some(v) => signed_varint(v).ok_or_else(|| {
                        bolt::BoltError(format!(
                            "image {}: the target size is not a varint",
                            String::from_utf8_lossy(name)
                        ))
                    })?,
                    None => 0,
                };
                images.insert(
                    String::from_utf8_lossy(name).into_owned(),
                    Target {
                        media_type: text(b"mediatype")?,
                        digest: text(b"digest")?,
                        size: u64::try_from(size).unwrap_or(0),
                    },
                );
            }
        }
        catalog.insert(namespace, images);
    }
    Ok(catalog)
}

/// The digests namespace `namespace` holds in `v1/<ns>/content/blob/`. containerd
/// shares blob files between namespaces but answers for a namespace only with the
/// blobs recorded in it, so the offline route does the same.
pub fn namespace_blobs(
    db: &bolt::Db,
    namespace: &str,
) -> std::result::Result<std::collections::HashSet<String>, bolt::BoltError> {
    let mut digests = std::collections::HashSet::new();
    let blob = match db.bucket(db.root(), b"v1")? {
        Some(v1) => match db.bucket(v1, namespace.as_bytes())? {
            Some(ns) => match db.bucket(ns, b"content")? {
                Some(content) => db.bucket(content, b"blob")?,
                None => None,
            },
            None => None,
        },
        None => None,
    };
    if let Some(blob) = blob {
        for name in db.bucket_names(blob)? {
            digests.insert(String::from_utf8_lossy(name).into_owned());
        }
    }
    Ok(digests)
}

/// Go's `binary.Varint`: zig-zag over an unsigned LEB128.
fn signed_varint(bytes: &[u8]) -> Option<i64> {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let signed = (value >> 1) as i64 ^ -((value & 1) as i64);
            return Some(signed);
        }
    }
    None
}

/// Says which route was taken, when the user asked (`-v`): the library never prints.
#[derive(Clone, Default)]
pub struct Notice(pub Option<NoticeFn>);

/// What a [`Notice`] calls.
pub type NoticeFn = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

impl Notice {
    pub fn say(&self, text: &str) {
        if let Some(f) = &self.0 {
            f(text);
        }
    }
}

impl std::fmt::Debug for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Notice(on)"
        } else {
            "Notice(off)"
        })
    }
}

/// Whether the first component of a reference is a registry host.
fn is_domain(component: &str) -> bool {
    component.contains('.') || component.contains(':') || component == "localhost"
}

/// The spellings under which a store may hold what the user typed: as typed, with the
/// implicit `:latest`, and with Docker Hub's `docker.io/library/` (containerd keeps
/// only normalised names; `alpine` is `docker.io/library/alpine:latest` there).
pub fn name_forms(name: &str) -> Vec<String> {
    let (repo, suffix) = match name.split_once('@') {
        Some((r, d)) => (r, format!("@{d}")),
        None => {
            let last = name.rsplit('/').next().unwrap_or(name);
            if last.contains(':') {
                let (r, t) = name.rsplit_once(':').unwrap_or((name, "latest"));
                (r, format!(":{t}"))
            } else {
                (name, ":latest".to_string())
            }
        }
    };
    let mut forms = vec![name.to_string(), format!("{repo}{suffix}")];
    let first = repo.split('/').next().unwrap_or("");
    if !(repo.contains('/') && is_domain(first)) {
        if repo.contains('/') {
            forms.push(format!("docker.io/{repo}{suffix}"));
        } else {
            forms.push(format!("docker.io/library/{repo}{suffix}"));
        }
    }
    forms.dedup();
    forms
}

fn find_in<'a>(
    images: &'a BTreeMap<String, Target>,
    name: &str,
) -> Option<(&'a String, &'a Target)> {
    for form in name_forms(name) {
        if let Some(found) = images.get_key_value(&form) {
            return Some(found);
        }
    }
    // NAME@DIGEST where the store keeps the image under a tag: the name's repository
    // and the target's digest decide.
    let (repo, digest) = name.split_once('@')?;
    let repos: Vec<String> = name_forms(repo)
        .into_iter()
        .map(|f| f.rsplit_once(':').map(|(r, _)| r.to_string()).unwrap_or(f))
        .collect();
    images.iter().find(|(n, t)| {
        let stored_repo = n.split_once('@').map(|(r, _)| r).unwrap_or(n);
        let stored_repo = match stored_repo.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => r,
            _ => stored_repo,
        };
        t.digest == digest && repos.iter().any(|r| r == stored_repo)
    })
}

/// Up to three names of `images` close to `name`.
fn close_names(images: &BTreeMap<String, Target>, name: &str) -> Vec<String> {
    let wanted = name_forms(name).pop().unwrap_or_else(|| name.to_string());
    let mut scored: Vec<(usize, &String)> = images
        .keys()
        .map(|k| {
            (
                crate::text::edit_distance(&wanted, k).min(crate::text::edit_distance(name, k)),
                k,
            )
        })
        .filter(|(d, k)| *d <= k.len().max(wanted.len()) / 2)
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, k)| k.clone()).collect()
}

/// Resolves `[NAMESPACE/]NAME` against a catalog. The first component is a namespace
/// when such a namespace exists and the rest is not empty; otherwise the whole is a
/// name in `default`. A name that is not there is an error that lists the namespaces
/// that do hold it and a few close names.
pub fn resolve(catalog: &Catalog, spec: &str) -> std::result::Result<Resolved, String> {
    if spec.is_empty() {
        return Err("no image name given (containerd://[NAMESPACE/]NAME[:TAG|@DIGEST])".into());
    }
    let mut attempts: Vec<(&str, &str)> = Vec::new();
    if let Some((first, rest)) = spec.split_once('/') {
        if !rest.is_empty() && catalog.contains_key(first) {
            attempts.push((first, rest));
        }
    }
    attempts.push(("default", spec));
    for (namespace, name) in &attempts {
        if let Some((stored, target)) = catalog.get(*namespace).and_then(|i| find_in(i, name)) {
            return Ok(Resolved {
                namespace: namespace.to_string(),
                name: stored.clone(),
                target: target.clone(),
            });
        }
    }
    let (namespace, name) = attempts[0];
    let mut why = format!("no image {name} in namespace {namespace}");
    if !catalog.contains_key(namespace) {
        why.push_str(" (there is no such namespace)");
    }
    let elsewhere: Vec<&str> = catalog
        .iter()
        .filter(|(ns, images)| *ns != namespace && find_in(images, name).is_some())
        .map(|(ns, _)| ns.as_str())
        .collect();
    if !elsewhere.is_empty() {
        why.push_str(&format!(
            "; namespace {} has it (containerd://{}/{name})",
            elsewhere.join(", "),
            elsewhere[0]
        ));
    }
    let close = catalog
        .get(namespace)
        .map(|i| close_names(i, name))
        .unwrap_or_default();
    if !close.is_empty() {
        why.push_str(&format!(
            "; close names in {namespace}: {}",
            close.join(", ")
        ));
    }
    if elsewhere.is_empty() && close.is_empty() {
        let namespaces: Vec<&str> = catalog.keys().map(String::as_str).collect();
        if namespaces.is_empty() {
            why.push_str("; the store has no namespaces at all");
        } else {
            why.push_str(&format!("; namespaces here: {}", namespaces.join(", ")));
        }
    }
    Err(why)
}

/// The documents of a target: `index.json` made up from the target descriptor, and
/// the content store's blobs. Reading goes through a [`ContentReader`].
pub struct ContentBlobs<R> {
    pub name: String,
    pub index: Vec<u8>,
    pub reader: R,
}

/// Where blob bytes come from: files of a content store, or the content service.
pub trait ContentReader {
    fn size(&self, digest: &str) -> Option<u64>;
    fn read(&self, digest: &str, limit: u64) -> std::result::Result<Vec<u8>, String>;
}

/// `blobs/<alg>/<hex>` → `<alg>:<hex>`.
fn digest_of(name: &str) -> Option<String> {
    let rest = name.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    Some(format!("{alg}:{hex}"))
}

impl<R: ContentReader> Blobs for ContentBlobs<R> {
    fn source_name(&self) -> &str {
        &self.name
    }
    fn exists(&self, name: &str) -> bool {
        name == "index.json" || digest_of(name).is_some_and(|d| self.reader.size(&d).is_some())
    }
    fn size(&self, name: &str) -> Option<u64> {
        if name == "index.json" {
            return Some(self.index.len() as u64);
        }
        self.reader.size(&digest_of(name)?)
    }
    fn read_document(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        if name == "index.json" {
            return Ok(self.index.clone());
        }
        let digest = digest_of(name).ok_or_else(|| Error::Metadata {
            source_name: self.name.clone(),
            document: name.to_string(),
            why: "missing".into(),
        })?;
        if let Some(size) = self.reader.size(&digest) {
            if size > limit {
                return Err(Error::Limit {
                    source_name: self.name.clone(),
                    what: format!("{name} ({size} bytes)"),
                    limit,
                    hint: "metadata documents are small; raise --max-metadata-bytes if this one is real",
                });
            }
        }
        self.reader
            .read(&digest, limit)
            .map_err(|why| Error::Metadata {
                source_name: self.name.clone(),
                document: name.to_string(),
                why,
            })
    }
}

/// The one-entry `index.json` that stands for a target descriptor.
pub fn index_for(target: &Target) -> Vec<u8> {
    serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": target.media_type,
            "digest": target.digest,
            "size": target.size,
        }],
    })
    .to_string()
    .into_bytes()
}

/// Plans the image a target names, turning a missing blob into advice on getting it
/// back.
pub fn plan_target<R: ContentReader>(
    blobs: &ContentBlobs<R>,
    resolved: &Resolved,
    options: &PlanOptions,
    store: &str,
) -> Result<Plan> {
    layout::plan(blobs, options).map_err(|e| match e {
        Error::MissingBlob { document, blob, .. } => {
            let digest = digest_of(&blob).unwrap_or(blob);
            let document = if document == "index.json" {
                format!("the image's target ({})", resolved.target.digest)
            } else {
                digest_of(&document).unwrap_or(document)
            };
            Error::Store {
                image: blobs.name.clone(),
                store: store.to_string(),
                why: format!(
                    "blob {digest} (named by {document}) is not in the content store; \
                     containerd drops layer blobs after unpacking when \
                     discard_unpacked_layers is set, and an interrupted pull leaves them \
                     out: fetch it again with `ctr -n {ns} content fetch {name}`, or pull \
                     the image again",
                    ns = resolved.namespace,
                    name = resolved.name,
                ),
            }
        }
        e => e,
    })
}

/// Blob files of a content store on disk.
pub struct ContentDir {
    pub blobs: PathBuf,
    /// The digests the namespace holds, when known: others are not there for it.
    pub namespace_blobs: Option<std::collections::HashSet<String>>,
}

impl ContentDir {
    /// The file of a digest, refusing anything but `alg:hex`.
    pub fn path(&self, digest: &str) -> Option<PathBuf> {
        let (alg, hex) = digest.split_once(':')?;
        let ok = !alg.is_empty()
            && alg.bytes().all(|b| b.is_ascii_alphanumeric())
            && !hex.is_empty()
            && hex.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| self.blobs.join(alg).join(hex))
    }
}

impl ContentReader for ContentDir {
    fn size(&self, digest: &str) -> Option<u64> {
        if self
            .namespace_blobs
            .as_ref()
            .is_some_and(|held| !held.contains(digest))
        {
            return None;
        }
        let meta = std::fs::metadata(self.path(digest)?).ok()?;
        meta.is_file().then_some(meta.len())
    }
    fn read(&self, digest: &str, _limit: u64) -> std::result::Result<Vec<u8>, String> {
        let path = self.path(digest).ok_or("not a digest")?;
        std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    }
}

/// Opens `[NAMESPACE/]NAME` from a containerd root directory with no daemon.
pub fn open_offline(root: &Path, spec: &str, options: &PlanOptions) -> Result<LayeredImage> {
    let name = spec.strip_prefix("containerd://").unwrap_or(spec);
    let store = format!("containerd root {}", root.display());
    let fail = |why: String| Error::Store {
        image: spec.to_string(),
        store: store.clone(),
        why,
    };
    let db_path = root.join(META_DB);
    let bytes = std::fs::read(&db_path).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::PermissionDenied {
            " (containerd's root is readable by root only: run as root, or on a copy)"
        } else if e.kind() == std::io::ErrorKind::NotFound {
            " (is this a containerd root, e.g. /var/lib/containerd or \
             /var/lib/docker/containerd/daemon?)"
        } else {
            ""
        };
        fail(format!("cannot read {}: {e}{hint}", db_path.display()))
    })?;
    let db =
        bolt::Db::from_bytes(bytes).map_err(|e| fail(format!("{}: {e}", db_path.display())))?;
    let catalog = catalog_from_db(&db).map_err(|e| fail(format!("{}: {e}", db_path.display())))?;
    let resolved = resolve(&catalog, name).map_err(&fail)?;
    let held = namespace_blobs(&db, &resolved.namespace)
        .map_err(|e| fail(format!("{}: {e}", db_path.display())))?;
    let content = ContentDir {
        blobs: root.join(CONTENT_BLOBS),
        // A store that records no blobs for the namespace is older than that rule.
        namespace_blobs: (!held.is_empty()).then_some(held),
    };
    let blobs = ContentBlobs {
        name: spec.to_string(),
        index: index_for(&resolved.target),
        reader: content,
    };
    let plan = plan_target(&blobs, &resolved, options, &store)?;
    let mut layers = Vec::with_capacity(plan.layers.len());
    for layer in &plan.layers {
        let digest = layer.digest.clone().unwrap_or_default();
        let path = blobs
            .reader
            .path(&digest)
            .ok_or_else(|| fail(format!("layer {}: malformed digest", digest)))?;
        let len = std::fs::metadata(&path)
            .map_err(|e| fail(format!("layer {digest}: {}: {e}", path.display())))?
            .len();
        layers.push(LayerSource::File(BlobLocation {
            file: path,
            offset: 0,
            len,
        }));
    }
    let mut plan = plan;
    plan.tags = vec![resolved.name.clone()];
    Ok(LayeredImage {
        name: spec.to_string(),
        plan,
        layers,
    })
}

#[cfg(test)]
mod tests {
    use super::bolt::tests::{bucket_value, Builder};
    use super::*;

    fn target(d: &str) -> Target {
        Target {
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            digest: d.into(),
            size: 10,
        }
    }

    fn catalog() -> Catalog {
        let mut c = Catalog::new();
        c.entry("default".into())
            .or_default()
            .insert("docker.io/library/alpine:3.20".into(), target("sha256:aa"));
        c.entry("moby".into()).or_default().insert(
            "docker.io/library/alpine:latest".into(),
            target("sha256:bb"),
        );
        c.entry("k8s.io".into())
            .or_default()
            .insert("registry.k8s.io/pause:3.9".into(), target("sha256:cc"));
        c
    }

    #[test]
    fn names_resolve_with_namespace_and_normalisation() {
        let c = catalog();
        let r = resolve(&c, "alpine:3.20").unwrap();
        assert_eq!(
            (r.namespace.as_str(), r.target.digest.as_str()),
            ("default", "sha256:aa")
        );
        let r = resolve(&c, "moby/alpine").unwrap();
        assert_eq!(
            (r.namespace.as_str(), r.name.as_str()),
            ("moby", "docker.io/library/alpine:latest")
        );
        let r = resolve(&c, "k8s.io/registry.k8s.io/pause:3.9").unwrap();
        assert_eq!(r.target.digest, "sha256:cc");
        let r = resolve(&c, "moby/alpine@sha256:bb").unwrap();
        assert_eq!(r.name, "docker.io/library/alpine:latest");
    }

    #[test]
    fn a_missing_name_lists_where_it_is_and_close_names() {
        let c = catalog();
        assert_eq!(
            resolve(&c, "alpine").unwrap_err(),
            "no image alpine in namespace default; namespace moby has it \
             (containerd://moby/alpine); close names in default: docker.io/library/alpine:3.20"
        );
        assert_eq!(
            resolve(&c, "nope/x").unwrap_err(),
            "no image nope/x in namespace default; namespaces here: default, k8s.io, moby"
        );
    }

    #[test]
    fn varints_are_zigzag() {
        assert_eq!(signed_varint(&[0x00]), Some(0));
        assert_eq!(signed_varint(&[0x02]), Some(1));
        assert_eq!(signed_varint(&[0x01]), Some(-1));
        assert_eq!(signed_varint(&[0xac, 0x02]), Some(150));
        assert_eq!(signed_varint(&[0x80]), None);
    }

    #[test]
    fn the_catalog_comes_from_the_metadata_layout() {
        let mut b = Builder::new(4096);
        let target = bucket_value(
            0,
            &[
                (b"digest", b"sha256:ab".to_vec(), false),
                (
                    b"mediatype",
                    b"application/vnd.oci.image.index.v1+json".to_vec(),
                    false,
                ),
                (b"size", vec![0xac, 0x02], false),
            ],
        );
        let image = b.leaf(&[(b"target", target, true)]);
        let images = b.leaf(&[(b"docker.io/library/x:1", bucket_value(image, &[]), true)]);
        let ns = b.leaf(&[(b"images", bucket_value(images, &[]), true)]);
        let v1 = b.leaf(&[(b"default", bucket_value(ns, &[]), true)]);
        let root = b.leaf(&[(b"v1", bucket_value(v1, &[]), true)]);
        let db = bolt::Db::from_bytes(b.build(root, (1, 2))).unwrap();
        let c = catalog_from_db(&db).unwrap();
        assert_eq!(
            c["default"]["docker.io/library/x:1"],
            Target {
                media_type: "application/vnd.oci.image.index.v1+json".into(),
                digest: "sha256:ab".into(),
                size: 150,
            }
        );
    }
}
