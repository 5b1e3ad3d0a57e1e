//! containers/storage, the image store of Podman, Buildah, CRI-O and skopeo, read in
//! place: `containers-storage:[DRIVER@ROOT+RUNROOT]NAME[:TAG]` (skopeo's syntax) or
//! `--storage-root DIR NAME`.
//!
//! Under the root, for a storage driver (`overlay`, `vfs`, …):
//! - `<driver>-images/images.json`: every image's ID, names, top layer, and its "big
//!   data" (config, manifests) kept in `<driver>-images/<id>/`, each file named `=`
//!   and the base64 of its key (or the key itself when it is a plain name);
//! - `<driver>-layers/layers.json`: every layer's ID, parent, and the digest and size
//!   of its uncompressed tar (`diff-digest`, `diff-size`);
//! - `<driver>-layers/<id>.tar-split.gz`: every tar header of the layer, byte for byte,
//!   and a CRC-64 of each file's content, in the format Docker's data root uses; the
//!   layer's files are in the driver's diff directory (`overlay/<id>/diff`,
//!   `vfs/dir/<id>`).
//!
//! So this is the Docker data root's route: each layer is a [`LayerSource::TarSplit`],
//! whose recorded headers the walker reads like any layer's, and no file content is
//! read. The
//! diff directory is only checked to be there, so that a layer whose files are gone is
//! an error rather than figures for a layer that no longer exists.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::source::containerd::name_forms;
use crate::source::layout::{self, PlanOptions};
use crate::source::{LayerSource, LayeredImage, MemoryBlobs};

/// The drivers whose layout is known, in the order they are looked for.
const DRIVERS: [&str; 5] = ["overlay", "vfs", "btrfs", "zfs", "aufs"];

#[derive(Deserialize, Debug, Clone)]
struct StoredImage {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    layer: Option<String>,
    #[serde(rename = "big-data-names", default)]
    big_data_names: Vec<String>,
}

#[derive(Deserialize, Debug, Clone)]
struct StoredLayer {
    id: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(rename = "diff-digest", default)]
    diff_digest: Option<String>,
    #[serde(rename = "diff-size", default)]
    diff_size: Option<i64>,
}

/// Where the store is: the parts of `[DRIVER@ROOT+RUNROOT]`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Location {
    driver: Option<String>,
    root: Option<PathBuf>,
    runroot: Option<PathBuf>,
}

/// Splits `[DRIVER@ROOT+RUNROOT:OPTIONS]NAME` into the store and the name.
fn parse_spec(rest: &str) -> std::result::Result<(Location, &str), String> {
    let Some(inner) = rest.strip_prefix('[') else {
        return Ok((Location::default(), rest));
    };
    let (store, name) = inner
        .split_once(']')
        .ok_or("the store specification lacks its closing ']'")?;
    let (driver, paths) = match store.split_once('@') {
        Some((d, p)) => (Some(d.to_string()).filter(|d| !d.is_empty()), p),
        None => (None, store),
    };
    // Mount options follow the run root after a ':'; they do not change what is read.
    let paths = paths.split_once(':').map(|(p, _)| p).unwrap_or(paths);
    let (root, runroot) = match paths.split_once('+') {
        Some((r, rr)) => (r, Some(rr)),
        None => (paths, None),
    };
    if root.is_empty() || !root.starts_with('/') {
        return Err(format!(
            "the store root {root:?} is not an absolute path ([DRIVER@ROOT+RUNROOT])"
        ));
    }
    Ok((
        Location {
            driver,
            root: Some(PathBuf::from(root)),
            runroot: runroot.filter(|r| !r.is_empty()).map(PathBuf::from),
        },
        name,
    ))
}

/// The default roots: root's store, then the user's rootless one.
fn default_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    let is_root = std::fs::metadata("/proc/self").is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    let rootless = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(|d| PathBuf::from(d).join("containers/storage"))
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".local/share/containers/storage"))
        });
    if is_root {
        roots.push(PathBuf::from("/var/lib/containers/storage"));
        roots.extend(rootless);
    } else {
        roots.extend(rootless);
        roots.push(PathBuf::from("/var/lib/containers/storage"));
    }
    roots
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    limit: u64,
) -> std::result::Result<T, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    // images.json and layers.json list the whole store: allow far more than one
    // document, but not without bound.
    if len > limit.saturating_mul(64) {
        return Err(format!(
            "{} is {len} bytes, more than 64 × --max-metadata-bytes",
            path.display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: not valid: {e}", path.display()))
}

/// Opens an image. `rest` is what follows `containers-storage:`, or the bare name with
/// `--storage-root`, whose directory is then `root`.
pub fn open(
    spec: &str,
    rest: &str,
    root: Option<&Path>,
    options: &PlanOptions,
) -> Result<LayeredImage> {
    let (mut location, name) = parse_spec(rest).map_err(|why| Error::Store {
        image: spec.to_string(),
        store: "containers-storage".into(),
        why,
    })?;
    if location.root.is_none() {
        location.root = root.map(Path::to_path_buf);
    }
    let roots = match &location.root {
        Some(r) => vec![r.clone()],
        None => default_roots(),
    };
    let drivers: Vec<String> = match &location.driver {
        Some(d) => vec![d.clone()],
        None => DRIVERS.iter().map(|d| d.to_string()).collect(),
    };
    let mut looked = Vec::new();
    for root in &roots {
        for driver in &drivers {
            let images = root.join(format!("{driver}-images/images.json"));
            if !images.is_file() {
                if location.root.is_some() && location.driver.is_some() {
                    looked.push(format!("{} is not there", images.display()));
                }
                continue;
            }
            let store = format!("containers-storage {driver}@{}", root.display());
            let fail = |why: String| Error::Store {
                image: spec.to_string(),
                store: store.clone(),
                why,
            };
            let list: Vec<StoredImage> =
                read_json(&images, options.max_metadata_bytes).map_err(&fail)?;
            match find(&list, name).map_err(&fail)? {
                Some(image) => {
                    return open_image(spec, root, driver, &location, image, options).map_err(|e| {
                        match e {
                            Error::Usage(why) => fail(why),
                            e => e,
                        }
                    })
                }
                None => looked.push(not_found(&list, name, driver, root)),
            }
        }
    }
    let store = match &location.root {
        Some(r) => format!("containers-storage {}", r.display()),
        None => "containers-storage".to_string(),
    };
    let why = if looked.is_empty() {
        let tried: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        format!(
            "no image store found (no <driver>-images/images.json under {}); name the store \
             as containers-storage:[DRIVER@ROOT+RUNROOT]NAME or with --storage-root DIR",
            tried.join(" or ")
        )
    } else {
        looked.join("; ")
    };
    Err(Error::Store {
        image: spec.to_string(),
        store,
        why,
    })
}

/// The image `name` names: a name as typed or normalised, or an ID or unique prefix.
fn find<'a>(
    list: &'a [StoredImage],
    name: &str,
) -> std::result::Result<Option<&'a StoredImage>, String> {
    if name.is_empty() {
        return Err("no image name given".into());
    }
    for form in name_forms(name) {
        if let Some(image) = list.iter().find(|i| i.names.contains(&form)) {
            return Ok(Some(image));
        }
    }
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    if hex.len() >= 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        let matches: Vec<&StoredImage> = list.iter().filter(|i| i.id.starts_with(hex)).collect();
        return match matches.len() {
            0 => Ok(None),
            1 => Ok(Some(matches[0])),
            n => Err(format!(
                "the ID prefix {hex} is ambiguous: {n} images match"
            )),
        };
    }
    Ok(None)
}

fn not_found(list: &[StoredImage], name: &str, driver: &str, root: &Path) -> String {
    let mut names: Vec<&String> = list.iter().flat_map(|i| &i.names).collect();
    names.sort();
    let wanted = name_forms(name).pop().unwrap_or_default();
    let mut close: Vec<(usize, &String)> = names
        .iter()
        .map(|n| {
            (
                crate::text::edit_distance(&wanted, n).min(crate::text::edit_distance(name, n)),
                *n,
            )
        })
        .filter(|(d, n)| *d <= n.len().max(wanted.len()) / 2)
        .collect();
    close.sort();
    let mut why = format!("no image {name} in {driver}@{}", root.display());
    if !close.is_empty() {
        let close: Vec<&str> = close.iter().take(3).map(|(_, n)| n.as_str()).collect();
        why.push_str(&format!("; close names: {}", close.join(", ")));
    }
    why
}

/// A big-data file: `=` + base64 of the key, or the key itself for plain names.
fn big_data(dir: &Path, key: &str) -> Option<PathBuf> {
    use base64::Engine as _;
    let encoded = dir.join(format!(
        "={}",
        base64::engine::general_purpose::STANDARD.encode(key)
    ));
    if encoded.is_file() {
        return Some(encoded);
    }
    if !plain_ok(key) {
        return None;
    }
    let plain = dir.join(key);
    plain.is_file().then_some(plain)
}

fn plain_ok(key: &str) -> bool {
    key.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !key.starts_with('.')
}

fn open_image(
    spec: &str,
    root: &Path,
    driver: &str,
    location: &Location,
    image: &StoredImage,
    options: &PlanOptions,
) -> Result<LayeredImage> {
    let usage = Error::Usage;
    let image_dir = root.join(format!("{driver}-images")).join(&image.id);
    let config_key = format!("sha256:{}", image.id);
    if !image.big_data_names.contains(&config_key) {
        return Err(usage(format!(
            "image {} has no config in the store (big data {config_key})",
            image.id
        )));
    }
    let config_path = big_data(&image_dir, &config_key).ok_or_else(|| {
        usage(format!(
            "image {}: the config file is missing from {}",
            image.id,
            image_dir.display()
        ))
    })?;
    let config_len = std::fs::metadata(&config_path)
        .map(|m| m.len())
        .unwrap_or(0);
    if config_len > options.max_metadata_bytes {
        return Err(Error::Limit {
            source_name: spec.to_string(),
            what: format!("the config ({config_len} bytes)"),
            limit: options.max_metadata_bytes,
            hint: "metadata documents are small; raise --max-metadata-bytes if this one is real",
        });
    }
    let config = std::fs::read(&config_path)
        .map_err(|e| usage(format!("cannot read {}: {e}", config_path.display())))?;

    // The layer chain, top to bottom through `parent`, from layers.json (and the run
    // root's volatile layers, when there are any).
    let layers_dir = root.join(format!("{driver}-layers"));
    let mut layers: HashMap<String, StoredLayer> = HashMap::new();
    let mut files = vec![layers_dir.join("layers.json")];
    if let Some(run) = &location.runroot {
        files.push(run.join(format!("{driver}-layers/volatile-layers.json")));
    }
    for (i, file) in files.iter().enumerate() {
        if i > 0 && !file.is_file() {
            continue;
        }
        let list: Vec<StoredLayer> = read_json(file, options.max_metadata_bytes).map_err(usage)?;
        layers.extend(list.into_iter().map(|l| (l.id.clone(), l)));
    }
    let mut chain = Vec::new();
    let mut next = image.layer.clone();
    while let Some(id) = next {
        if chain.len() > 1000 {
            return Err(usage(
                "the layer chain does not end (a parent cycle?)".into(),
            ));
        }
        let layer = layers.get(&id).ok_or_else(|| {
            usage(format!(
                "layer {id} is not in {} (the store is incomplete)",
                layers_dir.join("layers.json").display()
            ))
        })?;
        chain.push(layer.clone());
        next = layer.parent.clone().filter(|p| !p.is_empty());
    }
    chain.reverse();

    // Stand in for a docker-save archive, as the Docker data root does, so the plan
    // (config digest against the image ID, history, diff IDs) is the common code's.
    let config_name = format!("{}.json", image.id);
    let layer_names: Vec<String> = chain
        .iter()
        .map(|l| format!("{}/layer.tar", l.id))
        .collect();
    let blobs = MemoryBlobs::docker_save(spec, config_name, config, &image.names, &layer_names);
    let plan = layout::plan(&blobs, options)?;
    if plan.config.diff_ids.len() != chain.len() {
        return Err(usage(format!(
            "image {}: the config lists {} layers, the store chains {}",
            image.id,
            plan.config.diff_ids.len(),
            chain.len()
        )));
    }

    let mut sources = Vec::with_capacity(chain.len());
    for (i, layer) in chain.iter().enumerate() {
        let expected = &plan.config.diff_ids[i];
        if let Some(recorded) = layer.diff_digest.as_deref().filter(|d| !d.is_empty()) {
            if recorded != expected {
                return Err(usage(format!(
                    "layer {i} ({}): layers.json records diff digest {recorded}, the config says \
                     {expected}",
                    layer.id
                )));
            }
        }
        let diff_dir = match driver {
            "vfs" => root.join("vfs/dir").join(&layer.id),
            d => root.join(d).join(&layer.id).join("diff"),
        };
        if !diff_dir.is_dir() {
            return Err(usage(format!(
                "layer {i} ({expected}): its files are gone ({} is missing); pull the image \
                 again",
                diff_dir.display()
            )));
        }
        let tar_split = layers_dir.join(format!("{}.tar-split.gz", layer.id));
        if !tar_split.is_file() {
            return Err(usage(format!(
                "layer {i} ({expected}): {} is missing, so its tar headers are not known; \
                 export the image instead (`podman save NAME | layerwaste analyze -`)",
                tar_split.display()
            )));
        }
        let size = layer
            .diff_size
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(0);
        sources.push(LayerSource::TarSplit {
            path: tar_split,
            size,
        });
    }
    Ok(LayeredImage {
        name: spec.to_string(),
        plan,
        layers: sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skopeo_store_syntax() {
        assert_eq!(
            parse_spec("alpine").unwrap(),
            (Location::default(), "alpine")
        );
        let (l, n) = parse_spec("[overlay@/var/lib/c+/run/c:opt=1]localhost/x:1").unwrap();
        assert_eq!(n, "localhost/x:1");
        assert_eq!(l.driver.as_deref(), Some("overlay"));
        assert_eq!(l.root.as_deref(), Some(Path::new("/var/lib/c")));
        assert_eq!(l.runroot.as_deref(), Some(Path::new("/run/c")));
        let (l, _) = parse_spec("[/srv/store]x").unwrap();
        assert_eq!((l.driver, l.runroot), (None, None));
        assert!(parse_spec("[overlay@/x+/y")
            .unwrap_err()
            .contains("closing"));
        assert!(parse_spec("[vfs@rel+/y]x")
            .unwrap_err()
            .contains("absolute"));
    }

    #[test]
    fn big_data_names_are_base64_unless_plain() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manifest"), b"m").unwrap();
        std::fs::write(dir.path().join("=c2hhMjU2OmFi"), b"c").unwrap();
        assert_eq!(
            big_data(dir.path(), "sha256:ab"),
            Some(dir.path().join("=c2hhMjU2OmFi"))
        );
        assert_eq!(
            big_data(dir.path(), "manifest"),
            Some(dir.path().join("manifest"))
        );
        assert_eq!(big_data(dir.path(), "../manifest"), None);
    }
}
