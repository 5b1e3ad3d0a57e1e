//! Docker's own image store, read in place: `--docker-root /var/lib/docker NAME`.
//!
//! The classic store (every storage driver before the containerd image store) keeps,
//! under `<root>/image/<driver>/`:
//! - `repositories.json`: name → image ID;
//! - `imagedb/content/sha256/<id>`: the config, with its history and `rootfs.diff_ids`;
//! - `layerdb/sha256/<chain ID>/tar-split.json.gz`: every tar header of the layer, byte
//!   for byte, and a CRC-64 of each file's content.
//!
//! So a layer's index is rebuilt from tar-split alone: headers give paths, types and
//! sizes; the CRC-64 stands in for content identity (same size and same CRC means the
//! same bytes, which is what tells `metadata-only` from `overwritten`). No file content
//! is read and nothing is exported, which is what makes this source fast: its cost
//! follows the number of entries, not the bytes, where `docker save` copies every byte
//! of every layer.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::source::layout::{self, PlanOptions};
use crate::source::{reference, LayerSource, LayeredImage, MemoryBlobs};

/// Opens image `name` (a name, name:tag, or an ID or ID prefix) from the data root.
pub fn open(root: &Path, name: &str, options: &PlanOptions) -> Result<LayeredImage> {
    let fail = |why: String| Error::DockerRoot {
        image: name.to_string(),
        root: root.to_path_buf(),
        why,
    };
    let stores = classic_stores(root).map_err(&fail)?;
    if stores.is_empty() {
        return Err(fail(no_classic_store(root)));
    }
    let mut found = None;
    for store in &stores {
        if let Some(id) = store.resolve(name).map_err(&fail)? {
            found = Some((store, id));
            break;
        }
    }
    let Some((store, id)) = found else {
        let drivers: Vec<String> = stores.iter().map(|s| s.driver.clone()).collect();
        let mut why = format!(
            "no such image in the classic image store ({} of image/{})",
            "repositories.json",
            drivers.join(", image/")
        );
        if containerd_content(root).is_some() {
            why.push_str(
                "; if the engine uses the containerd image store, its images are not \
                 here: analyze it through the engine instead (`layerwaste analyze NAME`)",
            );
        }
        return Err(fail(why));
    };
    let hex = id.trim_start_matches("sha256:").to_string();
    let config_path = store.dir.join("imagedb/content/sha256").join(&hex);
    let config = read_limited(&config_path, options.max_metadata_bytes)
        .map_err(|e| fail(format!("the image config {}: {e}", config_path.display())))?;
    #[derive(Deserialize)]
    struct RootFs {
        #[serde(default)]
        diff_ids: Vec<String>,
    }
    #[derive(Deserialize)]
    struct Config {
        rootfs: Option<RootFs>,
    }
    let parsed: Config = serde_json::from_slice(&config)
        .map_err(|e| fail(format!("the image config {}: {e}", config_path.display())))?;
    let diff_ids = parsed.rootfs.map(|r| r.diff_ids).unwrap_or_default();
    let chains = chain_ids(&diff_ids);

    // Stand in for a docker-save archive, so the plan (config digest check, history,
    // diff IDs) is made by the same code as for `docker save` output.
    let config_name = format!("{hex}.json");
    let layer_names: Vec<String> = chains
        .iter()
        .map(|c| format!("{}/layer.tar", c.trim_start_matches("sha256:")))
        .collect();
    let blobs =
        MemoryBlobs::docker_save(name, config_name, config, &store.tags_of(&id), &layer_names);
    let plan = layout::plan(&blobs, options)?;

    let mut layers = Vec::with_capacity(chains.len());
    for (i, chain) in chains.iter().enumerate() {
        let dir = store
            .dir
            .join("layerdb/sha256")
            .join(chain.trim_start_matches("sha256:"));
        if !dir.is_dir() {
            return Err(fail(format!(
                "layer {i} ({}): no layerdb entry {} (the store is incomplete)",
                diff_ids[i],
                dir.display()
            )));
        }
        let recorded = std::fs::read_to_string(dir.join("diff")).unwrap_or_default();
        if !recorded.is_empty() && recorded.trim() != diff_ids[i] {
            return Err(fail(format!(
                "layer {i}: {} records diff ID {}, the config says {}",
                dir.display(),
                recorded.trim(),
                diff_ids[i]
            )));
        }
        let tar_split = dir.join("tar-split.json.gz");
        if !tar_split.is_file() {
            return Err(fail(format!(
                "layer {i} ({}): {} is missing; this storage driver ({}) keeps no tar \
                 headers, so export the image instead (`docker save NAME | layerwaste \
                 analyze -`)",
                diff_ids[i],
                tar_split.display(),
                store.driver
            )));
        }
        let size = std::fs::read_to_string(dir.join("size"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        layers.push(LayerSource::TarSplit {
            path: tar_split,
            size,
        });
    }
    Ok(LayeredImage {
        name: name.to_string(),
        plan,
        layers,
    })
}

/// `ChainID(L0) = DiffID(L0)`, `ChainID(L0|…|Ln) = sha256(ChainID(L0|…|Ln-1) + " " +
/// DiffID(Ln))`: the layerdb is keyed by chain, so a layer's directory depends on every
/// layer below it.
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut chains: Vec<String> = Vec::with_capacity(diff_ids.len());
    for diff in diff_ids {
        let next = match chains.last() {
            None => diff.clone(),
            Some(parent) => crate::source::digest_string(
                "sha256",
                &Sha256::digest(format!("{parent} {diff}").as_bytes()),
            ),
        };
        chains.push(next);
    }
    chains
}

/// One `image/<driver>/` directory of the classic store.
struct ClassicStore {
    driver: String,
    dir: PathBuf,
    /// `repositories.json`: reference (`name:tag`, `name@digest`) → image ID.
    references: HashMap<String, String>,
}

fn classic_stores(root: &Path) -> std::result::Result<Vec<ClassicStore>, String> {
    let image = root.join("image");
    let entries = match std::fs::read_dir(&image) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot list {}: {e}", image.display())),
    };
    let mut stores = Vec::new();
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    dirs.sort();
    for dir in dirs {
        let file = dir.join("repositories.json");
        if !file.is_file() {
            continue;
        }
        #[derive(Deserialize)]
        struct Repositories {
            #[serde(rename = "Repositories", default)]
            repositories: HashMap<String, HashMap<String, String>>,
        }
        let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let parsed: Repositories =
            serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
        stores.push(ClassicStore {
            driver: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            references: parsed.repositories.into_values().flatten().collect(),
            dir,
        });
    }
    Ok(stores)
}

fn containerd_content(root: &Path) -> Option<PathBuf> {
    let content = root.join("containerd/daemon/io.containerd.content.v1.content/blobs/sha256");
    let has_blobs = std::fs::read_dir(&content).ok()?.next().is_some();
    has_blobs.then_some(content)
}

fn no_classic_store(root: &Path) -> String {
    match containerd_content(root) {
        Some(content) => format!(
            "this data root uses the containerd image store (layers in {}, no \
             image/<driver>/repositories.json), which --docker-root does not read; analyze \
             the image through the engine instead (`layerwaste analyze NAME`, or \
             `docker save NAME | layerwaste analyze -`)",
            content.display()
        ),
        None => "not a Docker data root: no image/<driver>/repositories.json (is the \
                 path the engine's --data-root, e.g. /var/lib/docker? with the containerd \
                 image store, analyze through the engine instead)"
            .to_string(),
    }
}

impl ClassicStore {
    /// The image ID `name` stands for: a reference as `docker` would normalise it, or
    /// an ID or unique ID prefix.
    fn resolve(&self, name: &str) -> std::result::Result<Option<String>, String> {
        for candidate in reference_forms(name) {
            if let Some(id) = self.references.get(&candidate) {
                return Ok(Some(id.clone()));
            }
        }
        let hex = name.strip_prefix("sha256:").unwrap_or(name);
        let is_hex = hex.len() >= 4 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        if !is_hex {
            return Ok(None);
        }
        let content = self.dir.join("imagedb/content/sha256");
        let Ok(entries) = std::fs::read_dir(&content) else {
            return Ok(None);
        };
        let matches: BTreeSet<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|f| f.starts_with(&hex.to_ascii_lowercase()))
            .collect();
        match matches.len() {
            0 => Ok(None),
            1 => Ok(matches.into_iter().next().map(|h| format!("sha256:{h}"))),
            n => Err(format!(
                "the ID prefix {hex} is ambiguous: {n} images match"
            )),
        }
    }

    fn tags_of(&self, id: &str) -> Vec<String> {
        let mut tags: Vec<String> = self
            .references
            .iter()
            .filter(|(r, i)| *i == id && !r.contains('@'))
            .map(|(r, _)| r.clone())
            .collect();
        tags.sort();
        tags
    }
}

/// The spellings under which `repositories.json` may hold a reference: as typed, in
/// full (`docker.io/library/alpine:latest`) and in Docker Hub's short form
/// (`alpine:latest`); engines have written both.
fn reference_forms(name: &str) -> Vec<String> {
    let mut forms = vec![name.to_string()];
    if let Some(r) = reference::parse(name) {
        for form in [reference::familiar(&r), r.whole()] {
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    forms
}

fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let len = std::fs::metadata(path)?.len();
    if len > limit {
        return Err(io::Error::other(format!(
            "{len} bytes exceeds --max-metadata-bytes ({limit})"
        )));
    }
    std::fs::read(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_follow_the_spec() {
        let a = "sha256:aaaa".to_string();
        let b = "sha256:bbbb".to_string();
        let chains = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(chains[0], a);
        assert_eq!(
            chains[1],
            crate::source::digest_string("sha256", &Sha256::digest(b"sha256:aaaa sha256:bbbb"))
        );
    }

    #[test]
    fn reference_forms_cover_docker_hub_spellings() {
        let forms = reference_forms("alpine");
        assert!(forms.contains(&"alpine:latest".to_string()));
        assert!(forms.contains(&"docker.io/library/alpine:latest".to_string()));
        let forms = reference_forms("docker.io/library/alpine:3");
        assert!(forms.contains(&"alpine:3".to_string()));
        let forms = reference_forms("localhost/team/app");
        assert_eq!(
            forms,
            vec!["localhost/team/app", "localhost/team/app:latest"]
        );
    }
}
