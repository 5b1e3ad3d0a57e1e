//! Named files of an image: members of an outer tar, files of a directory, or (for a
//! stream read once) documents kept in memory. Layout parsing reads through [`Blobs`]
//! and never cares which.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use super::blob::{whole_file, BlobLocation, BlobReader};
use crate::error::{Error, Result};
use crate::format::tar::{HeaderLimits, Kind, Seeking, TarReader};

/// Read access to the named documents of an image, whatever holds them.
pub trait Blobs {
    /// How the user named the image, for messages.
    fn source_name(&self) -> &str;
    fn exists(&self, name: &str) -> bool;
    /// The stored size of a named blob, when it is there.
    fn size(&self, name: &str) -> Option<u64>;
    /// Reads a metadata document whole, refusing one larger than `limit` bytes.
    fn read_document(&self, name: &str, limit: u64) -> Result<Vec<u8>>;
}

#[derive(Debug, Clone)]
pub enum Member {
    Data { offset: u64, len: u64 },
    Link { target: String },
    Dir,
}

/// A seekable image: a tar file indexed once, or a directory.
#[derive(Debug)]
pub enum Store {
    Dir {
        name: String,
        root: PathBuf,
    },
    Tar {
        name: String,
        file: PathBuf,
        members: HashMap<String, Member>,
    },
}

/// Normalises an archive member name: no leading `./` or `/`, no trailing `/`, and
/// `..` resolved lexically without leaving the archive.
pub fn member_name(raw: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn parent_of(name: &str) -> &str {
    name.rsplit_once('/').map(|(p, _)| p).unwrap_or("")
}

impl Store {
    pub fn open_dir(name: &str, root: &Path) -> Store {
        Store::Dir {
            name: name.to_string(),
            root: root.to_path_buf(),
        }
    }

    /// Indexes an uncompressed tar: one pass over its headers, seeking past data.
    pub fn index_tar(name: &str, file: &Path) -> Result<Store> {
        let location = whole_file(file).map_err(|source| Error::Open {
            path: file.to_path_buf(),
            source,
        })?;
        let reader = location.open().map_err(|source| Error::Open {
            path: file.to_path_buf(),
            source,
        })?;
        let members = index_members(name, reader, location.len)?;
        Ok(Store::Tar {
            name: name.to_string(),
            file: file.to_path_buf(),
            members,
        })
    }

    /// Where a named blob's bytes are, following symlinks inside the archive (buildah
    /// and skopeo write `<id>/layer.tar` as a link to `<sha>.tar`).
    pub fn locate(&self, name: &str) -> Option<BlobLocation> {
        match self {
            Store::Dir { root, .. } => {
                let relative = Path::new(name);
                // Names come from the image's own manifest: never let one leave the root.
                if relative
                    .components()
                    .any(|c| !matches!(c, Component::Normal(_)))
                {
                    return None;
                }
                let path = root.join(relative);
                // Nor through a symlink: an extracted docker save links `<id>/layer.tar`
                // to `../<sha>.tar`, which is fine, but a link to /etc/shadow is not
                // part of the image.
                let real = std::fs::canonicalize(&path).ok()?;
                if !real.starts_with(std::fs::canonicalize(root).ok()?) {
                    return None;
                }
                let meta = std::fs::metadata(&real).ok()?;
                meta.is_file().then_some(BlobLocation {
                    file: real,
                    offset: 0,
                    len: meta.len(),
                })
            }
            Store::Tar { file, members, .. } => {
                let mut current = member_name(name);
                for _ in 0..16 {
                    match members.get(&current)? {
                        Member::Data { offset, len } => {
                            return Some(BlobLocation {
                                file: file.clone(),
                                offset: *offset,
                                len: *len,
                            })
                        }
                        Member::Link { target } => current = target.clone(),
                        Member::Dir => return None,
                    }
                }
                None
            }
        }
    }
}

impl Blobs for Store {
    fn source_name(&self) -> &str {
        match self {
            Store::Dir { name, .. } | Store::Tar { name, .. } => name,
        }
    }

    fn exists(&self, name: &str) -> bool {
        self.locate(name).is_some()
    }

    fn size(&self, name: &str) -> Option<u64> {
        self.locate(name).map(|l| l.len)
    }

    fn read_document(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let location = self.locate(name).ok_or_else(|| Error::Metadata {
            source_name: self.source_name().to_string(),
            document: name.to_string(),
            why: "missing".into(),
        })?;
        if location.len > limit {
            return Err(Error::Limit {
                source_name: self.source_name().to_string(),
                what: format!("{name} ({} bytes)", location.len),
                limit,
                hint:
                    "metadata documents are small; raise --max-metadata-bytes if this one is real",
            });
        }
        read_location(&location).map_err(|e| Error::Metadata {
            source_name: self.source_name().to_string(),
            document: name.to_string(),
            why: format!("cannot read: {e}"),
        })
    }
}

/// Indexes the members of an uncompressed tar of `len` bytes: one pass over its
/// headers, seeking past data. Public so the fuzz target can feed it bytes.
pub fn index_members<R: Read + Seek>(
    name: &str,
    reader: R,
    len: u64,
) -> Result<HashMap<String, Member>> {
    let mut tar = TarReader::new(Seeking(reader), HeaderLimits::default());
    let mut members = HashMap::new();
    loop {
        let header = match tar.next_header() {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(e) => {
                let entry = e
                    .entry
                    .map(|p| format!(" (member {})", crate::text::escape_bytes(&p)))
                    .unwrap_or_default();
                return Err(Error::Archive {
                    source_name: name.to_string(),
                    why: format!("broken outer archive{entry}: {}", e.why),
                });
            }
        };
        let member = member_name(&String::from_utf8_lossy(tar.path()));
        let entry = match header.kind {
            Kind::File => {
                if header.data_pos.saturating_add(header.size) > len {
                    return Err(Error::Archive {
                        source_name: name.to_string(),
                        why: format!(
                            "member {member} claims {} bytes but the archive ends before them (truncated)",
                            header.size
                        ),
                    });
                }
                Member::Data {
                    offset: header.data_pos,
                    len: header.size,
                }
            }
            Kind::Symlink => {
                let target = String::from_utf8_lossy(tar.link()).into_owned();
                let joined = if target.starts_with('/') {
                    target
                } else {
                    format!("{}/{}", parent_of(&member), target)
                };
                Member::Link {
                    target: member_name(&joined),
                }
            }
            Kind::HardLink => Member::Link {
                target: member_name(&String::from_utf8_lossy(tar.link())),
            },
            Kind::Dir => Member::Dir,
            Kind::Other => continue,
        };
        members.insert(member, entry);
    }
    Ok(members)
}

fn read_location(location: &BlobLocation) -> std::io::Result<Vec<u8>> {
    let mut reader: BlobReader = location.open()?;
    reader.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::with_capacity(location.len as usize);
    reader.read_to_end(&mut bytes)?;
    if (bytes.len() as u64) < location.len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "file is shorter than its archive entry",
        ));
    }
    Ok(bytes)
}

/// Documents kept in memory while an image streams past once (stdin, `.tar.gz`).
#[derive(Debug, Default)]
pub struct MemoryBlobs {
    pub name: String,
    pub documents: HashMap<String, Vec<u8>>,
    /// Symlinks between members, resolved lazily like [`Store::locate`] does.
    pub links: HashMap<String, String>,
    /// Members that were too big to keep (layers), with their size.
    pub large: HashMap<String, u64>,
}

impl MemoryBlobs {
    /// A docker-save archive's documents for a store that keeps configs and layer
    /// records but no archive (Docker's data root, containers/storage), so the plan
    /// (config digest check, history, diff IDs) is made by the same code as for a real
    /// `docker save`. Layers are named, never read: their bytes come from tar-split.
    pub fn docker_save(
        name: &str,
        config_name: String,
        config: Vec<u8>,
        tags: &[String],
        layer_names: &[String],
    ) -> MemoryBlobs {
        let manifest = serde_json::json!([{
            "Config": config_name,
            "RepoTags": tags,
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
        for layer in layer_names {
            blobs.large.insert(layer.clone(), 0);
        }
        blobs
    }
}

impl MemoryBlobs {
    /// Follows member links to the name the data was stored under.
    pub fn resolve(&self, name: &str) -> String {
        let mut current = member_name(name);
        for _ in 0..16 {
            match self.links.get(&current) {
                Some(target) => current = target.clone(),
                None => break,
            }
        }
        current
    }
}

impl Blobs for MemoryBlobs {
    fn source_name(&self) -> &str {
        &self.name
    }

    fn exists(&self, name: &str) -> bool {
        let name = self.resolve(name);
        self.documents.contains_key(&name) || self.large.contains_key(&name)
    }

    fn size(&self, name: &str) -> Option<u64> {
        let name = self.resolve(name);
        match self.documents.get(&name) {
            Some(d) => Some(d.len() as u64),
            None => self.large.get(&name).copied(),
        }
    }

    fn read_document(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let resolved = self.resolve(name);
        if let Some(size) = self.large.get(&resolved) {
            return Err(Error::Limit {
                source_name: self.name.clone(),
                what: format!("{name} ({size} bytes)"),
                limit,
                hint:
                    "metadata documents are small; raise --max-metadata-bytes if this one is real",
            });
        }
        self.documents
            .get(&resolved)
            .cloned()
            .ok_or_else(|| Error::Metadata {
                source_name: self.name.clone(),
                document: name.to_string(),
                why: "missing".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_are_normalised_inside_the_archive() {
        assert_eq!(member_name("./manifest.json"), "manifest.json");
        assert_eq!(member_name("/blobs/sha256/ab/"), "blobs/sha256/ab");
        assert_eq!(member_name("abc/../def.tar"), "def.tar");
        assert_eq!(member_name("../../etc/passwd"), "etc/passwd");
    }

    #[test]
    fn tar_store_follows_symlinked_layers() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, "abc.tar", &b"xyz"[..]).unwrap();
        let mut l = tar::Header::new_gnu();
        l.set_entry_type(tar::EntryType::Symlink);
        l.set_size(0);
        b.append_link(&mut l, "id/layer.tar", "../abc.tar").unwrap();
        let bytes = b.into_inner().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image.tar");
        std::fs::write(&path, bytes).unwrap();
        let store = Store::index_tar("image.tar", &path).unwrap();
        let loc = store.locate("id/layer.tar").unwrap();
        assert_eq!((loc.offset, loc.len), (512, 3));
        assert_eq!(store.read_document("id/layer.tar", 10).unwrap(), b"xyz");
        assert!(matches!(
            store.read_document("id/layer.tar", 2),
            Err(Error::Limit { .. })
        ));
    }
}
