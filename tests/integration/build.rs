//! Builds test images in code, deterministically: every header has mtime 0, uid and
//! gid 0, and the members of an image are written in sorted order, so the same test
//! always writes the same bytes and its digests can be asserted.
//!
//! Layers are written header by header ([`Layer`]) rather than with `tar::Builder`,
//! because the hostile cases need what a well-behaved builder refuses to write: `..`
//! and absolute names, invalid UTF-8, broken checksums, lying size fields.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> String {
    layerwaste::source::digest_string("sha256", &Sha256::digest(bytes))
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").expect("a sha256 digest")
}

/// One 512-byte ustar header with the fields the tests care about.
pub fn header(name: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = tar::Header::new_ustar();
    h.set_mode(if typeflag == b'5' { 0o755 } else { 0o644 });
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(size);
    h.set_entry_type(tar::EntryType::new(typeflag));
    let old = h.as_old_mut();
    let n = name.len().min(100);
    old.name[..n].copy_from_slice(&name[..n]);
    let l = link.len().min(100);
    old.linkname[..l].copy_from_slice(&link[..l]);
    h.set_cksum();
    *h.as_bytes()
}

/// A layer tar, written entry by entry in the order the test gives.
#[derive(Default)]
pub struct Layer {
    bytes: Vec<u8>,
}

impl Layer {
    pub fn new() -> Layer {
        Layer::default()
    }

    fn pad(&mut self) {
        let rem = self.bytes.len() % 512;
        if rem != 0 {
            self.bytes.resize(self.bytes.len() + 512 - rem, 0);
        }
    }

    /// Appends raw bytes (a hand-made header, data, garbage).
    pub fn raw(mut self, bytes: &[u8]) -> Layer {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// Any entry. Names and link targets longer than the ustar fields get a PAX header.
    pub fn entry(mut self, name: &[u8], typeflag: u8, link: &[u8], data: &[u8]) -> Layer {
        let mut records: Vec<(&str, &[u8])> = Vec::new();
        if name.len() > 100 {
            records.push(("path", name));
        }
        if link.len() > 100 {
            records.push(("linkpath", link));
        }
        if !records.is_empty() {
            self = self.pax(b'x', &records);
        }
        let h = header(name, typeflag, data.len() as u64, link);
        self.bytes.extend_from_slice(&h);
        self.bytes.extend_from_slice(data);
        self.pad();
        self
    }

    pub fn file(self, name: &str, data: &[u8]) -> Layer {
        self.entry(name.as_bytes(), b'0', b"", data)
    }

    pub fn dir(self, name: &str) -> Layer {
        self.entry(name.as_bytes(), b'5', b"", b"")
    }

    /// A regular file with a mode of its own (a short name: no PAX header).
    pub fn file_with_mode(mut self, name: &str, data: &[u8], mode: u32) -> Layer {
        let mut h =
            tar::Header::from_byte_slice(&header(name.as_bytes(), b'0', data.len() as u64, b""))
                .clone();
        h.set_mode(mode);
        h.set_cksum();
        self.bytes.extend_from_slice(h.as_bytes());
        self.bytes.extend_from_slice(data);
        self.pad();
        self
    }

    pub fn symlink(self, name: &str, target: &str) -> Layer {
        self.entry(name.as_bytes(), b'2', target.as_bytes(), b"")
    }

    pub fn hardlink(self, name: &str, target: &str) -> Layer {
        self.entry(name.as_bytes(), b'1', target.as_bytes(), b"")
    }

    /// A PAX extended header (`x`, or `g` for a global one) with the given records.
    pub fn pax(mut self, typeflag: u8, records: &[(&str, &[u8])]) -> Layer {
        let mut data = Vec::new();
        for (key, value) in records {
            data.extend(pax_record(key, value));
        }
        let h = header(b"PaxHeaders/x", typeflag, data.len() as u64, b"");
        self.bytes.extend_from_slice(&h);
        self.bytes.extend_from_slice(&data);
        self.pad();
        self
    }

    /// A GNU long-name (`L`) or long-link (`K`) record for the next entry.
    pub fn gnu_long(mut self, typeflag: u8, value: &[u8]) -> Layer {
        let mut data = value.to_vec();
        data.push(0);
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::new(typeflag));
        h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
        h.set_cksum();
        self.bytes.extend_from_slice(h.as_bytes());
        self.bytes.extend_from_slice(&data);
        self.pad();
        self
    }

    /// The tar with its end-of-archive marker.
    pub fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&[0u8; 1024]);
        self.bytes
    }

    /// The tar without an end-of-archive marker.
    pub fn unterminated(self) -> Vec<u8> {
        self.bytes
    }
}

/// One PAX record: `"<len> <key>=<value>\n"`, where len counts itself.
pub fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut out = format!("{len} {key}=").into_bytes();
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    gzip_level(bytes, flate2::Compression::fast())
}

pub fn gzip_best(bytes: &[u8]) -> Vec<u8> {
    gzip_level(bytes, flate2::Compression::best())
}

fn gzip_level(bytes: &[u8], level: flate2::Compression) -> Vec<u8> {
    let mut e = flate2::GzBuilder::new().mtime(0).write(Vec::new(), level);
    e.write_all(bytes).expect("in memory");
    e.finish().expect("in memory")
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).expect("in memory")
}

/// The uncompressed tar of a stored blob, when it can be decompressed.
fn uncompressed(blob: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match blob {
        [0x1f, 0x8b, ..] => flate2::read::MultiGzDecoder::new(blob)
            .read_to_end(&mut out)
            .ok()?,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => {
            zstd::Decoder::new(blob).ok()?.read_to_end(&mut out).ok()?
        }
        _ => return Some(blob.to_vec()),
    };
    Some(out)
}

/// The members of an image archive or layout directory, by name (so sorted).
#[derive(Clone, Default)]
pub struct Members(pub BTreeMap<String, Vec<u8>>);

impl Members {
    pub fn set(&mut self, name: &str, bytes: impl Into<Vec<u8>>) {
        self.0.insert(name.to_string(), bytes.into());
    }

    pub fn remove(&mut self, name: &str) -> Vec<u8> {
        self.0
            .remove(name)
            .unwrap_or_else(|| panic!("no member {name}"))
    }

    pub fn get_mut(&mut self, name: &str) -> &mut Vec<u8> {
        self.0
            .get_mut(name)
            .unwrap_or_else(|| panic!("no member {name}"))
    }

    /// The outer archive, members in name order.
    pub fn tar(&self) -> Vec<u8> {
        let mut outer = Layer::new();
        for (name, bytes) in &self.0 {
            outer = outer.file(name, bytes);
        }
        outer.finish()
    }

    pub fn write_dir(&self, dir: &Path) {
        for (name, bytes) in &self.0 {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(path, bytes).expect("write a member");
        }
    }
}

/// An image: layers (as stored), a config and the history of its steps.
pub struct Image {
    pub layers: Vec<Vec<u8>>,
    /// The config document; `rootfs.diff_ids` is filled in from the layers.
    pub config: Value,
    /// Replaces the config's bytes wholesale (for configs that are not valid JSON).
    pub config_bytes: Option<Vec<u8>>,
}

impl Image {
    /// An image with one history step per layer (`RUN step N`).
    pub fn new(layers: Vec<Vec<u8>>) -> Image {
        let diff_ids: Vec<String> = layers
            .iter()
            .map(|blob| sha256(&uncompressed(blob).unwrap_or_else(|| blob.clone())))
            .collect();
        Image::with_diff_ids(layers, diff_ids)
    }

    /// An image whose diff IDs are given, not computed (for layers too large to hash in
    /// a debug build; nothing checks a diff ID).
    pub fn with_diff_ids(layers: Vec<Vec<u8>>, diff_ids: Vec<String>) -> Image {
        let history: Vec<Value> = (0..layers.len())
            .map(|i| json!({"created_by": format!("/bin/sh -c step {i}"), "created": "1970-01-01T00:00:00Z"}))
            .collect();
        Image {
            layers,
            config: json!({
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
                "history": history,
            }),
            config_bytes: None,
        }
    }

    /// How error messages and reports name layer `i`: its diff ID.
    pub fn label(&self, i: usize) -> String {
        self.config["rootfs"]["diff_ids"][i]
            .as_str()
            .expect("diff IDs are strings")
            .to_string()
    }

    pub fn config_bytes(&self) -> Vec<u8> {
        self.config_bytes
            .clone()
            .unwrap_or_else(|| serde_json::to_vec(&self.config).expect("serialisable"))
    }

    pub fn config_digest(&self) -> String {
        sha256(&self.config_bytes())
    }

    pub fn blob_digest(&self, i: usize) -> String {
        sha256(&self.layers[i])
    }

    /// A classic `docker save` archive: `<hex>/layer.tar`, `<hex>.json`, `manifest.json`.
    pub fn docker_save(&self) -> Members {
        let mut m = Members::default();
        let config = self.config_bytes();
        let config_name = format!("{}.json", hex(&sha256(&config)));
        let mut layer_names = Vec::new();
        for blob in &self.layers {
            let name = format!("{}/layer.tar", hex(&sha256(blob)));
            m.set(&name, blob.clone());
            layer_names.push(name);
        }
        m.set(&config_name, config);
        let manifest = json!([{
            "Config": config_name,
            "RepoTags": ["hostile:latest"],
            "Layers": layer_names,
        }]);
        m.set(
            "manifest.json",
            serde_json::to_vec(&manifest).expect("serialisable"),
        );
        m
    }

    /// The image manifest of the OCI layout, before any tweak.
    pub fn oci_manifest(&self) -> Value {
        let config = self.config_bytes();
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|blob| {
                let media_type = match blob.as_slice() {
                    [0x1f, 0x8b, ..] => "application/vnd.oci.image.layer.v1.tar+gzip",
                    [0x28, 0xb5, 0x2f, 0xfd, ..] => "application/vnd.oci.image.layer.v1.tar+zstd",
                    _ => "application/vnd.oci.image.layer.v1.tar",
                };
                json!({"mediaType": media_type, "digest": sha256(blob), "size": blob.len()})
            })
            .collect();
        json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256(&config),
                "size": config.len(),
            },
            "layers": layers,
        })
    }

    /// An OCI image layout: `oci-layout`, `index.json` and `blobs/sha256/…`.
    pub fn oci(&self) -> Members {
        self.oci_with(self.oci_manifest())
    }

    /// An OCI layout whose image manifest is `manifest` (as tweaked by the test); the
    /// index points at it by its real digest and size.
    pub fn oci_with(&self, manifest: Value) -> Members {
        let mut m = Members::default();
        m.set("oci-layout", &br#"{"imageLayoutVersion":"1.0.0"}"#[..]);
        for blob in &self.layers {
            m.set(&blob_name(&sha256(blob)), blob.clone());
        }
        let config = self.config_bytes();
        m.set(&blob_name(&sha256(&config)), config);
        let manifest = serde_json::to_vec(&manifest).expect("serialisable");
        let index = json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": sha256(&manifest),
                "size": manifest.len(),
            }],
        });
        m.set(&blob_name(&sha256(&manifest)), manifest);
        m.set(
            "index.json",
            serde_json::to_vec(&index).expect("serialisable"),
        );
        m
    }
}

pub fn blob_name(digest: &str) -> String {
    format!("blobs/sha256/{}", hex(digest))
}
