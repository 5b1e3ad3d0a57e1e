//! `--base auto`: the base image, found exactly from what the image itself says.
//!
//! Buildah and Podman write two annotations on the manifest of an image built `FROM`
//! another: `org.opencontainers.image.base.name` (the `FROM` reference) and
//! `org.opencontainers.image.base.digest` (the base's manifest digest). BuildKit and
//! Docker's classic builder write neither, and `docker save` keeps no annotations.
//!
//! A base is *proven* only when its diff IDs, read from one of these places, are a
//! prefix of the image's own (diff IDs are digests of the layers' content, so those
//! layers are the base's, byte for byte):
//! 1. the same OCI layout or archive, by the annotated digest (`blobs/sha256/…`);
//! 2. the local engine (Docker or Podman at DOCKER_HOST), by name: its record of the
//!    image, never an export;
//! 3. the registry the name points to, by `name@digest` and then by `name`: the
//!    manifest and config only, never a layer.
//!
//! Nothing else counts: no guess from history timestamps (diving's hour-long gap
//! breaks on reproducible builds, whose timestamps are all the same), from
//! `created_by` texts, or from layer counts. When nothing is proven the caller gates
//! the whole image, as with no base at all.

use std::path::Path;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::layout::{Plan, PlanOptions};
#[cfg(feature = "remote")]
use super::remote;
use super::store::{Blobs, Store};
use super::{Opened, SourceOptions};

pub const BASE_NAME: &str = "org.opencontainers.image.base.name";
pub const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

/// Where the gate's base ends, and how that is known: the report's `thresholds.base`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaseInfo {
    /// Layers 0..layers are the base's.
    pub layers: usize,
    /// `flag-layers` (`--base-layers`), `flag-image` (`--base IMAGE`), `layout`,
    /// `engine` or `registry` (`--base auto`, found there), or `none` (auto found
    /// nothing to prove: the whole image is gated).
    pub found: &'static str,
    /// The annotated name and digest (auto), or the image given to `--base`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// One sentence: how it was known, or why nothing could be proven.
    pub how: String,
}

/// A base image's diff IDs as read from one place.
struct Candidate {
    found: &'static str,
    where_: String,
    diff_ids: Vec<String>,
}

/// Finds the base the annotations of `plan` name, for the image the user named
/// `spec`. Always answers: `layers: 0, found: "none"` with the reason when nothing is
/// proven.
pub fn find(
    spec: &str,
    plan: &Plan,
    plan_options: &PlanOptions,
    sources: &SourceOptions,
) -> BaseInfo {
    let name = plan.annotations.get(BASE_NAME).cloned();
    let digest = plan.annotations.get(BASE_DIGEST).cloned();
    let none = |how: String| BaseInfo {
        layers: 0,
        found: "none",
        name: name.clone(),
        digest: digest.clone(),
        how,
    };
    if name.is_none() && digest.is_none() {
        return none(format!(
            "the image names no base image (no {BASE_NAME} or {BASE_DIGEST} annotation on its manifest; BuildKit, the classic builder and docker save write none), so all its layers are gated"
        ));
    }
    let image = &plan.config.diff_ids;
    let mut tried = Vec::new();
    let consider = |c: Result<Candidate, String>, tried: &mut Vec<String>| match c {
        Ok(c) => match prefix_len(image, &c.diff_ids) {
            Some(n) if n > 0 => Some((n, c)),
            _ => {
                tried.push(format!(
                    "{}: its {} diff IDs are not the first of the image's",
                    c.where_,
                    c.diff_ids.len()
                ));
                None
            }
        },
        Err(why) => {
            tried.push(why);
            None
        }
    };
    let mut proven = None;
    if let Some(d) = &digest {
        proven = consider(same_layout(spec, d, plan_options), &mut tried);
    }
    if proven.is_none() {
        if let Some(n) = &name {
            proven = consider(engine(n), &mut tried);
        }
    }
    if proven.is_none() {
        if let Some(n) = &name {
            for reference in registry_references(n, digest.as_deref()) {
                proven = consider(registry(&reference, plan_options, sources), &mut tried);
                if proven.is_some() {
                    break;
                }
            }
        }
    }
    match proven {
        Some((layers, c)) => BaseInfo {
            layers,
            found: c.found,
            name,
            digest,
            how: format!(
                "the manifest's {BASE_NAME} annotation names the base; {} lists {layers} diff ID{} that are the image's first",
                c.where_,
                if layers == 1 { "" } else { "s" }
            ),
        },
        None => none(format!(
            "no base image could be proven for {} ({}), so all layers are gated",
            name.as_deref().or(digest.as_deref()).unwrap_or_default(),
            tried.join("; ")
        )),
    }
}

/// How many layers `base` covers, when its diff IDs are the first of `image`'s. (The
/// same rule as `--base IMAGE`, model::gate::base_layer_count; source sits below model
/// and cannot import it.)
fn prefix_len(image: &[String], base: &[String]) -> Option<usize> {
    (base.len() <= image.len() && image.iter().zip(base).all(|(a, b)| a == b)).then_some(base.len())
}

/// The annotated digest's manifest in the analysed layout itself.
fn same_layout(spec: &str, digest: &str, options: &PlanOptions) -> Result<Candidate, String> {
    let path_str = ["oci:", "oci-archive:"]
        .iter()
        .find_map(|p| spec.strip_prefix(p))
        .unwrap_or(spec);
    let path_str = if Path::new(path_str).exists() {
        path_str
    } else {
        path_str.rsplit_once(':').map_or(path_str, |(p, _)| p)
    };
    let path = Path::new(path_str);
    let store = if path.is_dir() {
        Store::open_dir(path_str, path)
    } else if path.is_file() {
        Store::index_tar(path_str, path).map_err(|e| format!("the image's own layout: {e}"))?
    } else {
        return Err("the image is not a layout on disk".into());
    };
    let hex = digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| format!("the annotated digest {digest:?} is not a sha256 digest"))?;
    let manifest_name = format!("blobs/sha256/{hex}");
    if !store.exists(&manifest_name) {
        return Err(format!(
            "the image's own layout does not hold the base's manifest {digest}"
        ));
    }
    let read = |name: &str, want: &str| -> Result<serde_json::Value, String> {
        let bytes = store
            .read_document(name, options.max_metadata_bytes)
            .map_err(|e| e.to_string())?;
        let found = crate::source::digest_string("sha256", &Sha256::digest(&bytes));
        if found != want {
            return Err(format!("{name} hashes to {found}, not {want}"));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("{name}: {e}"))
    };
    let manifest = read(&manifest_name, digest)?;
    let config_digest = manifest["config"]["digest"]
        .as_str()
        .ok_or("the base's manifest names no config")?;
    let config_hex = config_digest
        .strip_prefix("sha256:")
        .ok_or("the base's config digest is not sha256")?;
    let config = read(&format!("blobs/sha256/{config_hex}"), config_digest)?;
    Ok(Candidate {
        found: "layout",
        where_: format!("the image's own layout, manifest {digest},"),
        diff_ids: string_list(&config["rootfs"]["diff_ids"]),
    })
}

fn string_list(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

#[cfg(feature = "remote")]
fn engine(name: &str) -> Result<Candidate, String> {
    let inspected =
        remote::inspect::inspect(name).map_err(|why| format!("the local engine: {why}"))?;
    Ok(Candidate {
        found: "engine",
        where_: format!("the local engine's image {name} ({})", inspected.id),
        diff_ids: inspected.diff_ids,
    })
}

#[cfg(not(feature = "remote"))]
fn engine(_name: &str) -> Result<Candidate, String> {
    Err("the local engine: not asked (built without the `remote` feature)".into())
}

/// `name@digest` first (the very manifest, when the registry holds it as built), then
/// `name` itself; a name with a tag loses it next to the digest.
fn registry_references(name: &str, digest: Option<&str>) -> Vec<String> {
    let name = name.strip_prefix("docker://").unwrap_or(name);
    let repository = match name.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => name,
    };
    let repository = repository.split('@').next().unwrap_or(repository);
    let mut out = Vec::new();
    if let Some(d) = digest {
        out.push(format!("{repository}@{d}"));
    }
    if !out.iter().any(|r| r == name) {
        out.push(name.to_string());
    }
    out
}

fn registry(
    reference: &str,
    plan_options: &PlanOptions,
    sources: &SourceOptions,
) -> Result<Candidate, String> {
    let spec = format!("docker://{reference}");
    let image = match super::open(&spec, plan_options, sources) {
        Ok(Opened::Layered(image)) => image,
        Ok(Opened::Stream(_)) => return Err(format!("{spec}: not a registry image")),
        Err(e) => return Err(format!("the registry: {e}")),
    };
    Ok(Candidate {
        found: "registry",
        where_: format!(
            "the registry's {reference}{}",
            image
                .plan
                .manifest_digest
                .as_deref()
                .map(|d| format!(" (manifest {d})"))
                .unwrap_or_default()
        ),
        diff_ids: image.plan.config.diff_ids.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_references_try_the_digest_first() {
        assert_eq!(
            registry_references("127.0.0.1:5000/eco/base:1", Some("sha256:ab")),
            [
                "127.0.0.1:5000/eco/base@sha256:ab",
                "127.0.0.1:5000/eco/base:1"
            ]
        );
        assert_eq!(
            registry_references("docker.io/library/alpine", None),
            ["docker.io/library/alpine"]
        );
    }
}
