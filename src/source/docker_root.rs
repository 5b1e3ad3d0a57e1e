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

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::format::tar::{Kind, Skip, TarReader};
use crate::source::layout::{self, PlanOptions};
use crate::source::{LayerSource, LayeredImage, MemoryBlobs};
use crate::walk::{Compression, LayerIndex, Spec, WalkError, WalkOptions};

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
    let manifest = serde_json::json!([{
        "Config": config_name,
        "RepoTags": store.tags_of(&id),
        "Layers": layer_names,
    }]);
    let mut blobs = MemoryBlobs {
        name: name.to_string(),
        ..Default::default()
    };
    blobs
        .documents
        .insert("manifest.json".into(), manifest.to_string().into_bytes());
    blobs.documents.insert(config_name, config);
    for layer in &layer_names {
        blobs.large.insert(layer.clone(), 0);
    }
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
        layers.push(LayerSource::Indexed {
            build: Box::new(move |walk| index_tar_split(&tar_split, walk)),
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
            Some(parent) => format!(
                "sha256:{:x}",
                Sha256::digest(format!("{parent} {diff}").as_bytes())
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

/// The spellings under which `repositories.json` may hold a reference: as typed, with
/// the implicit `:latest`, and with Docker Hub's implicit `docker.io/library/` added or
/// removed (engines have written both forms).
fn reference_forms(name: &str) -> Vec<String> {
    let last = name.rsplit('/').next().unwrap_or(name);
    let tagged = if name.contains('@') || last.contains(':') {
        name.to_string()
    } else {
        format!("{name}:latest")
    };
    let first = tagged.split('/').next().unwrap_or("");
    let has_registry = tagged.contains('/')
        && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut forms = vec![name.to_string(), tagged.clone()];
    if !has_registry {
        if tagged.contains('/') {
            forms.push(format!("docker.io/{tagged}"));
        } else {
            forms.push(format!("docker.io/library/{tagged}"));
        }
    } else if let Some(rest) = tagged.strip_prefix("docker.io/") {
        forms.push(rest.strip_prefix("library/").unwrap_or(rest).to_string());
        forms.push(rest.to_string());
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

/// Builds a layer's index from its tar-split file: the recorded header bytes run through
/// the same tar reader as a real layer, with file contents skipped without existing.
pub fn index_tar_split(path: &Path, options: &WalkOptions) -> Result<LayerIndex, WalkError> {
    let file = File::open(path).map_err(|e| WalkError {
        why: format!("cannot open {}: {e}", path.display()),
        entry: None,
    })?;
    let lines = BufReader::with_capacity(
        256 * 1024,
        flate2::read::GzDecoder::new(BufReader::new(file)),
    );
    let mut split = TarSplit::new(lines);
    let mut tar = TarReader::new(&mut split, options.headers);
    let mut index = LayerIndex::default();
    index.compression = Some(Compression::None);
    let mut lossy = 0u64;
    while let Some(header) = tar.next_header()? {
        if index.entries.len() as u64 >= options.max_entries {
            return Err(WalkError {
                why: format!(
                    "more than {} entries in one layer (--max-entries)",
                    options.max_entries
                ),
                entry: None,
            });
        }
        let name = String::from_utf8_lossy(tar.path()).into_owned();
        let link = String::from_utf8_lossy(tar.link()).into_owned();
        if std::str::from_utf8(tar.path()).is_err() {
            lossy += 1;
        }
        let recorded = tar
            .get_mut()
            .file_at(header.data_pos)
            .map_err(|e| WalkError {
                why: format!("reading {}: {e}", path.display()),
                entry: Some(tar.path().to_vec()),
            })?;
        let spec = match header.kind {
            Kind::File => {
                let crc = match recorded {
                    Some((size, crc)) if size == header.size => crc,
                    _ => {
                        return Err(WalkError {
                            why: format!(
                                "{} does not match its own headers (no file record of {} \
                                 bytes at byte {})",
                                path.display(),
                                header.size,
                                header.data_pos
                            ),
                            entry: Some(tar.path().to_vec()),
                        })
                    }
                };
                Spec::File {
                    bytes: header.size,
                    hash: crc,
                }
            }
            Kind::Dir => Spec::Dir,
            Kind::Symlink => Spec::Symlink,
            Kind::HardLink => Spec::HardLink(&link),
            Kind::Other => Spec::Other,
        };
        index.push(&name, spec);
    }
    drop(tar);
    // What follows the end marker (the second zero block, padding to the record size)
    // is part of the layer's size.
    io::copy(&mut split, &mut io::sink()).map_err(|e| WalkError {
        why: format!("reading {}: {e}", path.display()),
        entry: None,
    })?;
    index.tar_bytes = split.pos;
    index.blob_bytes = split.pos;
    if lossy > 0 {
        index.warnings.push(format!(
            "{lossy} entries have names that are not UTF-8; they were compared by their \
             lossy UTF-8 form"
        ));
    }
    Ok(index)
}

/// One line of tar-split's JSON stream (`github.com/vbatts/tar-split/tar/storage`).
#[derive(Deserialize)]
struct Record {
    /// 1: a file entry (name, size, CRC-64 of its content); 2: raw bytes of the tar
    /// (headers, padding, the end marker).
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    payload: Option<String>,
}

const FILE_RECORD: u8 = 1;
const SEGMENT_RECORD: u8 = 2;

/// The layer's tar as tar-split records it: segments are real bytes; a file's content
/// is a stretch of the right length that is skipped, never produced. Reading it yields
/// zeros, which only a broken header that claims data could ask for.
struct TarSplit<R> {
    lines: R,
    line: Vec<u8>,
    segment: Vec<u8>,
    segment_at: usize,
    /// Content bytes of the current file record not yet passed.
    content_left: u64,
    /// Bytes of the tar passed so far.
    pos: u64,
    /// File records seen and not yet claimed: (data position, size, CRC-64).
    files: VecDeque<(u64, u64, u64)>,
    ended: bool,
}

impl<R: BufRead> TarSplit<R> {
    fn new(lines: R) -> Self {
        TarSplit {
            lines,
            line: Vec::new(),
            segment: Vec::new(),
            segment_at: 0,
            content_left: 0,
            pos: 0,
            files: VecDeque::new(),
            ended: false,
        }
    }

    /// Reads the next record. False at the end of the file.
    fn next_record(&mut self) -> io::Result<bool> {
        use base64::Engine as _;
        loop {
            self.line.clear();
            if self.lines.read_until(b'\n', &mut self.line)? == 0 {
                self.ended = true;
                return Ok(false);
            }
            if self.line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let record: Record = serde_json::from_slice(&self.line)
                .map_err(|e| io::Error::other(format!("malformed tar-split record: {e}")))?;
            let payload = match &record.payload {
                Some(p) => base64::engine::general_purpose::STANDARD
                    .decode(p)
                    .map_err(|e| io::Error::other(format!("malformed tar-split payload: {e}")))?,
                None => Vec::new(),
            };
            match record.kind {
                SEGMENT_RECORD => {
                    self.segment = payload;
                    self.segment_at = 0;
                }
                FILE_RECORD => {
                    let size = record.size.unwrap_or(0);
                    // The CRC-64 (ISO) of the content, big-endian; absent for empty files.
                    let crc = payload
                        .get(..8)
                        .and_then(|b| b.try_into().ok())
                        .map(u64::from_be_bytes)
                        .unwrap_or(0);
                    self.files.push_back((self.pos, size, crc));
                    self.content_left = size;
                }
                other => {
                    return Err(io::Error::other(format!(
                        "unknown tar-split record type {other}"
                    )))
                }
            }
            return Ok(true);
        }
    }

    fn exhausted(&self) -> bool {
        self.segment_at >= self.segment.len() && self.content_left == 0
    }

    /// The file record whose content starts at `data_pos`, read when the tar reader has
    /// just passed that entry's header: records are written header segment first, then
    /// the file record, so the next record is this entry's if any is.
    fn file_at(&mut self, data_pos: u64) -> io::Result<Option<(u64, u64)>> {
        loop {
            while self.files.front().is_some_and(|f| f.0 < data_pos) {
                self.files.pop_front();
            }
            if let Some(&(at, size, crc)) = self.files.front() {
                if at == data_pos {
                    self.files.pop_front();
                    return Ok(Some((size, crc)));
                }
                return Ok(None);
            }
            if !self.exhausted() || self.ended || !self.next_record()? {
                return Ok(None);
            }
        }
    }
}

impl<R: BufRead> Read for TarSplit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.exhausted() {
            if self.ended || !self.next_record()? {
                return Ok(0);
            }
        }
        let n = if self.segment_at < self.segment.len() {
            let n = (self.segment.len() - self.segment_at).min(buf.len());
            buf[..n].copy_from_slice(&self.segment[self.segment_at..self.segment_at + n]);
            self.segment_at += n;
            n
        } else {
            let n = self.content_left.min(buf.len() as u64) as usize;
            buf[..n].fill(0);
            self.content_left -= n as u64;
            n
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> Skip for TarSplit<R> {
    fn skip(&mut self, mut n: u64) -> io::Result<()> {
        while n > 0 {
            while self.exhausted() {
                if self.ended || !self.next_record()? {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the tar-split ends inside an entry's data",
                    ));
                }
            }
            let step = if self.segment_at < self.segment.len() {
                let step = ((self.segment.len() - self.segment_at) as u64).min(n);
                self.segment_at += step as usize;
                step
            } else {
                let step = self.content_left.min(n);
                self.content_left -= step;
                step
            };
            self.pos += step;
            n -= step;
        }
        Ok(())
    }
}

impl<R: BufRead> Skip for &mut TarSplit<R> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        (**self).skip(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn chain_ids_follow_the_spec() {
        let a = "sha256:aaaa".to_string();
        let b = "sha256:bbbb".to_string();
        let chains = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(chains[0], a);
        assert_eq!(
            chains[1],
            format!("sha256:{:x}", Sha256::digest(b"sha256:aaaa sha256:bbbb"))
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

    /// A tar built in memory, recorded as tar-split would, indexes like the tar.
    #[test]
    fn tar_split_records_rebuild_the_headers() {
        let mut b = tar::Builder::new(Vec::new());
        let mut add = |name: &str, data: &[u8]| {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, name, data).unwrap();
        };
        add("a/one", b"first file");
        add("a/.wh.gone", b"");
        add(
            &format!("long/{}", "x".repeat(150)),
            b"long name, PAX or GNU record",
        );
        let bytes = b.into_inner().unwrap();

        // Record it: each header (with what precedes it) as a segment, then a file
        // record for its content, then the tail.
        let mut records = String::new();
        let seg = |bytes: &[u8]| {
            format!(
                "{{\"type\":2,\"payload\":\"{}\",\"position\":0}}\n",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        };
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut at = 0usize;
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let data = entry.raw_file_position() as usize;
            let size = entry.size() as usize;
            records.push_str(&seg(&bytes[at..data]));
            let crc = (size as u64).to_be_bytes();
            records.push_str(&format!(
                "{{\"type\":1,\"name\":\"x\",\"size\":{size},\"payload\":\"{}\",\"position\":1}}\n",
                base64::engine::general_purpose::STANDARD.encode(crc)
            ));
            at = data + size;
        }
        records.push_str(&seg(&bytes[at..]));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tar-split.json.gz");
        let mut gz = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::default(),
        );
        io::Write::write_all(&mut gz, records.as_bytes()).unwrap();
        gz.finish().unwrap();

        let index = index_tar_split(&path, &WalkOptions::default()).unwrap();
        assert_eq!(index.tar_bytes, bytes.len() as u64);
        let entries: Vec<(String, u64, Option<u64>)> = index
            .entries
            .iter()
            .map(|e| {
                (
                    String::from_utf8_lossy(index.path(e.path)).into_owned(),
                    e.size,
                    e.hash,
                )
            })
            .collect();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0], ("a/one".into(), 10, Some(10)));
        assert_eq!(entries[1].0, "a/gone");
        assert_eq!(entries[2].0, format!("long/{}", "x".repeat(150)));
        assert_eq!(entries[2].1, 28);
    }
}
