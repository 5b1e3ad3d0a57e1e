//! Turns the documents of an image (docker-save `manifest.json`, OCI `index.json`,
//! manifests, config) into a plan: the ordered layers and the history to report on.

use serde::Deserialize;
use sha2::{Digest as _, Sha256, Sha512};

use super::store::{member_name, Blobs};
use super::{Format, HistoryEntry, ImageConfig, LayerRef, Platform};
use crate::error::{Error, Result};

/// What the documents of an image say, before any layer is read.
#[derive(Debug, Clone)]
pub struct Plan {
    pub format: Format,
    pub manifest_digest: Option<String>,
    pub config_digest: Option<String>,
    pub config: ImageConfig,
    pub layers: Vec<LayerRef>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub platform: Option<Platform>,
    /// For a docker-save archive of several images: which one (a RepoTag).
    pub image_tag: Option<String>,
    pub max_metadata_bytes: u64,
}

#[derive(Deserialize)]
struct SaveEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

#[derive(Deserialize, Clone, Debug)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    platform: Option<DescriptorPlatform>,
    #[serde(default)]
    annotations: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize, Clone, Debug)]
struct DescriptorPlatform {
    os: String,
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Deserialize)]
struct IndexDoc {
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

#[derive(Deserialize)]
struct ManifestDoc {
    config: Descriptor,
    layers: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct ConfigDoc {
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    rootfs: Option<RootFs>,
    #[serde(default)]
    history: Option<Vec<HistoryDoc>>,
}

#[derive(Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Deserialize)]
struct HistoryDoc {
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    empty_layer: Option<bool>,
    #[serde(default)]
    comment: Option<String>,
}

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Reads the plan of an image from its documents. docker-save's `manifest.json` wins
/// where both it and `index.json` exist (Docker 25+ writes both, for the same blobs).
pub fn plan(blobs: &dyn Blobs, options: &PlanOptions) -> Result<Plan> {
    if blobs.exists("manifest.json") {
        plan_docker_save(blobs, options)
    } else if blobs.exists("index.json") {
        plan_oci(blobs, options)
    } else {
        Err(Error::NotAnImage {
            source_name: blobs.source_name().to_string(),
            why: "it has neither manifest.json (docker save) nor index.json (OCI layout)".into(),
        })
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    blobs: &dyn Blobs,
    document: &str,
    bytes: &[u8],
) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Metadata {
        source_name: blobs.source_name().to_string(),
        document: document.to_string(),
        why: format!("not a valid document: {e}"),
    })
}

fn plan_docker_save(blobs: &dyn Blobs, options: &PlanOptions) -> Result<Plan> {
    let bytes = blobs.read_document("manifest.json", options.max_metadata_bytes)?;
    let entries: Vec<SaveEntry> = parse(blobs, "manifest.json", &bytes)?;
    let entry = match entries.len() {
        0 => {
            return Err(Error::Metadata {
                source_name: blobs.source_name().to_string(),
                document: "manifest.json".into(),
                why: "lists no image".into(),
            })
        }
        1 => &entries[0],
        _ => {
            let tags: Vec<String> = entries
                .iter()
                .flat_map(|e| e.repo_tags.clone().unwrap_or_default())
                .collect();
            match &options.image_tag {
                Some(wanted) => entries
                    .iter()
                    .find(|e| e.repo_tags.iter().flatten().any(|t| t == wanted))
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "{}: no image tagged {wanted}; the archive holds: {}",
                            blobs.source_name(),
                            tags.join(", ")
                        ))
                    })?,
                None => {
                    return Err(Error::Usage(format!(
                        "{}: the archive holds {} images; name one with --image TAG ({})",
                        blobs.source_name(),
                        entries.len(),
                        tags.join(", ")
                    )))
                }
            }
        }
    };
    let config_name = member_name(&entry.config);
    if !blobs.exists(&config_name) {
        return Err(missing(blobs, "manifest.json", &config_name));
    }
    let config_bytes = blobs.read_document(&config_name, options.max_metadata_bytes)?;
    let config_digest = verify_named_blob(blobs, &config_name, &config_bytes, None)?;
    let config = parse_config(blobs, &config_name, &config_bytes)?;
    let mut layers = Vec::with_capacity(entry.layers.len());
    for (i, layer) in entry.layers.iter().enumerate() {
        let name = member_name(layer);
        if !blobs.exists(&name) {
            return Err(missing(blobs, "manifest.json", &name));
        }
        layers.push(LayerRef {
            name: name.clone(),
            digest: digest_from_name(&name),
            diff_id: config.diff_ids.get(i).cloned(),
            size: None,
            media_type: None,
        });
    }
    // Docker 25+ also writes an OCI index next to manifest.json; its manifest digest is
    // the image's identity in a registry, worth reporting.
    let manifest_digest = if blobs.exists("index.json") {
        blobs
            .read_document("index.json", options.max_metadata_bytes)
            .ok()
            .and_then(|b| serde_json::from_slice::<IndexDoc>(&b).ok())
            .and_then(|i| i.manifests)
            .and_then(|m| {
                let first = m.first()?.digest.clone();
                m.iter().all(|d| d.digest == first).then_some(first)
            })
    } else {
        None
    };
    let format = if blobs.exists("oci-layout") {
        Format::DockerSaveOci
    } else {
        Format::DockerSave
    };
    Ok(Plan {
        format,
        manifest_digest,
        config_digest,
        config,
        layers,
        tags: entry.repo_tags.clone().unwrap_or_default(),
    })
}

fn missing(blobs: &dyn Blobs, document: &str, blob: &str) -> Error {
    Error::MissingBlob {
        source_name: blobs.source_name().to_string(),
        document: document.to_string(),
        blob: blob.to_string(),
    }
}

fn blob_path(digest: &str) -> Option<String> {
    let (alg, hex) = digest.split_once(':')?;
    let valid = !alg.is_empty()
        && alg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+._-".contains(&b))
        && !hex.is_empty()
        && hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b"=_-".contains(&b));
    valid.then(|| format!("blobs/{alg}/{hex}"))
}

fn digest_from_name(name: &str) -> Option<String> {
    let mut parts = name.rsplitn(3, '/');
    let hex = parts.next()?;
    let alg = parts.next()?;
    if parts.next() == Some("blobs") || name.starts_with("blobs/") {
        return Some(format!("{alg}:{hex}"));
    }
    None
}

/// Verifies a metadata blob read whole against its digest (from its descriptor, or
/// from its name: `blobs/sha256/<hex>`, or docker-save's `<hex>.json`). Returns the
/// digest. Cheap, because the bytes are in memory anyway.
fn verify_named_blob(
    blobs: &dyn Blobs,
    name: &str,
    bytes: &[u8],
    descriptor: Option<&Descriptor>,
) -> Result<Option<String>> {
    let from_name = digest_from_name(name).or_else(|| {
        let hex = name.strip_suffix(".json")?;
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| format!("sha256:{hex}"))
    });
    let expected = descriptor.map(|d| d.digest.clone()).or(from_name);
    if let Some(d) = descriptor {
        if let Some(size) = d.size {
            if size != bytes.len() as u64 {
                return Err(Error::BlobMismatch {
                    source_name: blobs.source_name().to_string(),
                    blob: name.to_string(),
                    what: "size",
                    expected: size.to_string(),
                    found: bytes.len().to_string(),
                });
            }
        }
    }
    let Some(expected) = expected else {
        return Ok(None);
    };
    let found = match expected.split_once(':').map(|(alg, _)| alg) {
        Some("sha256") => format!("sha256:{:x}", Sha256::digest(bytes)),
        Some("sha512") => format!("sha512:{:x}", Sha512::digest(bytes)),
        // An algorithm we cannot check: report the digest, unverified.
        _ => return Ok(Some(expected)),
    };
    if found != expected {
        return Err(Error::BlobMismatch {
            source_name: blobs.source_name().to_string(),
            blob: name.to_string(),
            what: "digest",
            expected,
            found,
        });
    }
    Ok(Some(found))
}

fn parse_config(blobs: &dyn Blobs, name: &str, bytes: &[u8]) -> Result<ImageConfig> {
    let doc: ConfigDoc = parse(blobs, name, bytes)?;
    Ok(ImageConfig {
        os: doc.os,
        architecture: doc.architecture,
        variant: doc.variant,
        diff_ids: doc.rootfs.map(|r| r.diff_ids).unwrap_or_default(),
        history: doc
            .history
            .unwrap_or_default()
            .into_iter()
            .map(|h| HistoryEntry {
                created_by: h.created_by,
                empty_layer: h.empty_layer.unwrap_or(false),
                comment: h.comment,
            })
            .collect(),
    })
}

fn is_attestation(d: &Descriptor) -> bool {
    let unknown = d
        .platform
        .as_ref()
        .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown");
    let annotated = d
        .annotations
        .as_ref()
        .and_then(|a| a.get("vnd.docker.reference.type"))
        .is_some_and(|t| t == "attestation-manifest");
    unknown || annotated
}

struct Candidate {
    descriptor: Descriptor,
    platform: Option<Platform>,
}

fn plan_oci(blobs: &dyn Blobs, options: &PlanOptions) -> Result<Plan> {
    let bytes = blobs.read_document("index.json", options.max_metadata_bytes)?;
    let mut candidates = Vec::new();
    collect_manifests(
        blobs,
        options,
        "index.json",
        &bytes,
        None,
        0,
        &mut candidates,
    )?;
    // The same manifest may be listed once per tag.
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|c| seen.insert(c.descriptor.digest.clone()));
    let chosen = choose_platform(blobs, candidates, options.platform.as_ref())?;
    let manifest_name = blob_path(&chosen.descriptor.digest)
        .ok_or_else(|| bad_digest(blobs, "index.json", &chosen.descriptor.digest))?;
    if !blobs.exists(&manifest_name) {
        return Err(missing(blobs, "index.json", &manifest_name));
    }
    let manifest_bytes = blobs.read_document(&manifest_name, options.max_metadata_bytes)?;
    let manifest_digest = verify_named_blob(
        blobs,
        &manifest_name,
        &manifest_bytes,
        Some(&chosen.descriptor),
    )?;
    let manifest: ManifestDoc = parse(blobs, &manifest_name, &manifest_bytes)?;
    let config_name = blob_path(&manifest.config.digest)
        .ok_or_else(|| bad_digest(blobs, &manifest_name, &manifest.config.digest))?;
    if !blobs.exists(&config_name) {
        return Err(missing(blobs, &manifest_name, &config_name));
    }
    let config_bytes = blobs.read_document(&config_name, options.max_metadata_bytes)?;
    let config_digest =
        verify_named_blob(blobs, &config_name, &config_bytes, Some(&manifest.config))?;
    let config = parse_config(blobs, &config_name, &config_bytes)?;
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for (i, layer) in manifest.layers.iter().enumerate() {
        let name = blob_path(&layer.digest)
            .ok_or_else(|| bad_digest(blobs, &manifest_name, &layer.digest))?;
        if !blobs.exists(&name) {
            return Err(missing(blobs, &manifest_name, &name));
        }
        // Layers are not hashed when read from a file (docs/security.md), but their
        // size is known for free, and a wrong one means the wrong or a damaged blob.
        if let (Some(expected), Some(found)) = (layer.size, blobs.size(&name)) {
            if expected != found {
                return Err(Error::BlobMismatch {
                    source_name: blobs.source_name().to_string(),
                    blob: name,
                    what: "size",
                    expected: expected.to_string(),
                    found: found.to_string(),
                });
            }
        }
        layers.push(LayerRef {
            name,
            digest: Some(layer.digest.clone()),
            diff_id: config.diff_ids.get(i).cloned(),
            size: layer.size,
            media_type: layer.media_type.clone(),
        });
    }
    Ok(Plan {
        format: Format::Oci,
        manifest_digest,
        config_digest,
        config,
        layers,
        tags: Vec::new(),
    })
}

fn bad_digest(blobs: &dyn Blobs, document: &str, digest: &str) -> Error {
    Error::Metadata {
        source_name: blobs.source_name().to_string(),
        document: document.to_string(),
        why: format!("malformed digest {:?}", crate::text::escape(digest)),
    }
}

const MAX_INDEX_DEPTH: usize = 8;

fn collect_manifests(
    blobs: &dyn Blobs,
    options: &PlanOptions,
    document: &str,
    bytes: &[u8],
    inherited: Option<&DescriptorPlatform>,
    depth: usize,
    out: &mut Vec<Candidate>,
) -> Result<()> {
    if depth > MAX_INDEX_DEPTH {
        return Err(Error::Metadata {
            source_name: blobs.source_name().to_string(),
            document: document.to_string(),
            why: format!("indexes nested more than {MAX_INDEX_DEPTH} deep"),
        });
    }
    let index: IndexDoc = parse(blobs, document, bytes)?;
    let manifests = index.manifests.ok_or_else(|| Error::Metadata {
        source_name: blobs.source_name().to_string(),
        document: document.to_string(),
        why: "has no manifests list".into(),
    })?;
    for d in manifests {
        if is_attestation(&d) {
            continue;
        }
        let platform = d.platform.as_ref().or(inherited).cloned();
        let is_index = match d.media_type.as_deref() {
            Some(t) if INDEX_TYPES.contains(&t) => true,
            Some(_) => false,
            // No media type: look inside, an index has `manifests`, a manifest `layers`.
            None => {
                let name =
                    blob_path(&d.digest).ok_or_else(|| bad_digest(blobs, document, &d.digest))?;
                let b = blobs.read_document(&name, options.max_metadata_bytes)?;
                let doc: IndexDoc = parse(blobs, &name, &b)?;
                doc.manifests.is_some() && doc.layers.is_none()
            }
        };
        if is_index {
            let name =
                blob_path(&d.digest).ok_or_else(|| bad_digest(blobs, document, &d.digest))?;
            if !blobs.exists(&name) {
                return Err(missing(blobs, document, &name));
            }
            let b = blobs.read_document(&name, options.max_metadata_bytes)?;
            verify_named_blob(blobs, &name, &b, Some(&d))?;
            collect_manifests(blobs, options, &name, &b, platform.as_ref(), depth + 1, out)?;
        } else {
            out.push(Candidate {
                platform: platform.map(|p| Platform {
                    os: p.os,
                    architecture: p.architecture,
                    variant: p.variant,
                }),
                descriptor: d,
            });
        }
    }
    Ok(())
}

fn choose_platform(
    blobs: &dyn Blobs,
    mut candidates: Vec<Candidate>,
    wanted: Option<&Platform>,
) -> Result<Candidate> {
    let listed = |c: &[Candidate]| -> Vec<String> {
        c.iter()
            .map(|c| {
                c.platform
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "(unspecified)".into())
            })
            .collect()
    };
    if candidates.is_empty() {
        return Err(Error::Metadata {
            source_name: blobs.source_name().to_string(),
            document: "index.json".into(),
            why: "lists no image manifest".into(),
        });
    }
    match wanted {
        Some(w) => {
            let at = candidates
                .iter()
                .position(|c| c.platform.as_ref().is_some_and(|p| w.matches(p)))
                // A single-image layout without platform information fits any request.
                .or_else(|| {
                    (candidates.len() == 1 && candidates[0].platform.is_none()).then_some(0)
                });
            match at {
                Some(i) => Ok(candidates.swap_remove(i)),
                None => Err(Error::Platform {
                    source_name: blobs.source_name().to_string(),
                    wanted: w.to_string(),
                    available: listed(&candidates),
                }),
            }
        }
        None if candidates.len() == 1 => Ok(candidates.swap_remove(0)),
        None => {
            let host = Platform::host();
            match candidates
                .iter()
                .position(|c| c.platform.as_ref().is_some_and(|p| host.matches(p)))
            {
                Some(i) => Ok(candidates.swap_remove(i)),
                None => Err(Error::Platform {
                    source_name: blobs.source_name().to_string(),
                    wanted: format!("{host} (this host; choose one with --platform)"),
                    available: listed(&candidates),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::store::MemoryBlobs;

    fn sha(bytes: &[u8]) -> String {
        format!("sha256:{:x}", Sha256::digest(bytes))
    }

    fn oci(platforms: &[(&str, &str)]) -> MemoryBlobs {
        let mut m = MemoryBlobs {
            name: "test".into(),
            ..Default::default()
        };
        let mut descriptors = vec![];
        for (os, arch) in platforms {
            let config = format!(
                r#"{{"os":"{os}","architecture":"{arch}","rootfs":{{"diff_ids":[]}},"history":[]}}"#
            );
            let cd = sha(config.as_bytes());
            let manifest = format!(
                r#"{{"config":{{"digest":"{cd}","size":{}}},"layers":[]}}"#,
                config.len()
            );
            let md = sha(manifest.as_bytes());
            m.documents
                .insert(blob_path(&cd).unwrap(), config.into_bytes());
            m.documents
                .insert(blob_path(&md).unwrap(), manifest.clone().into_bytes());
            descriptors.push(format!(
                r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{md}","size":{},"platform":{{"os":"{os}","architecture":"{arch}"}}}}"#,
                manifest.len()
            ));
        }
        m.documents.insert(
            "index.json".into(),
            format!(r#"{{"manifests":[{}]}}"#, descriptors.join(",")).into_bytes(),
        );
        m
    }

    fn options(platform: Option<&str>) -> PlanOptions {
        PlanOptions {
            platform: platform.map(|p| p.parse().unwrap()),
            max_metadata_bytes: 1 << 20,
            ..Default::default()
        }
    }

    #[test]
    fn picks_the_requested_platform_and_skips_attestations() {
        let blobs = oci(&[
            ("linux", "arm64"),
            ("unknown", "unknown"),
            ("linux", "amd64"),
        ]);
        let plan = plan(&blobs, &options(Some("linux/amd64"))).unwrap();
        assert_eq!(plan.config.architecture.as_deref(), Some("amd64"));
        let plan2 = super::plan(&blobs, &options(Some("linux/arm64"))).unwrap();
        assert_eq!(plan2.config.architecture.as_deref(), Some("arm64"));
    }

    #[test]
    fn unknown_platform_lists_the_available_ones() {
        let blobs = oci(&[
            ("linux", "arm64"),
            ("linux", "amd64"),
            ("unknown", "unknown"),
        ]);
        let err = plan(&blobs, &options(Some("linux/s390x"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "test: no image for platform linux/s390x; the index has: linux/arm64, linux/amd64"
        );
    }

    #[test]
    fn a_tampered_manifest_fails_its_digest() {
        let mut blobs = oci(&[("linux", "amd64")]);
        let name = blobs
            .documents
            .keys()
            .find(|k| {
                k.starts_with("blobs/")
                    && String::from_utf8_lossy(&blobs.documents[*k]).contains("layers")
            })
            .unwrap()
            .clone();
        let doc = blobs.documents.get_mut(&name).unwrap();
        let at = doc.len() - 2;
        doc[at] = b' ';
        let err = plan(&blobs, &options(None)).unwrap_err();
        assert!(
            matches!(err, Error::BlobMismatch { what: "digest", .. }),
            "{err}"
        );
    }

    #[test]
    fn missing_documents_are_named() {
        let blobs = MemoryBlobs {
            name: "dir".into(),
            ..Default::default()
        };
        let err = plan(&blobs, &options(None)).unwrap_err();
        assert!(err.to_string().contains("neither manifest.json"), "{err}");
    }
}
