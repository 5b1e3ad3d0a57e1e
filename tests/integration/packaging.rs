//! One image in every packaging gives identical `summary` and `steps`: the legacy
//! docker-save archive, the Docker 25+ save layout, an OCI directory and archive with
//! zstd layers, compressed outer archives, and stdin. The variants are made here, in
//! code, from the bundled sample (which buildah built), so no tool is needed.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::*;

const LEGACY: &str = "build-deps-split/build-deps-split.tar";
const OCI_ZSTD: &str = "build-deps-split/build-deps-split.oci-zstd.tar";

fn members(archive: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut a = tar::Archive::new(std::fs::File::open(archive).unwrap());
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        if e.header().entry_type().is_file() {
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            out.insert(name, data);
        }
    }
    out
}

fn write_tar(path: &Path, files: &BTreeMap<String, Vec<u8>>) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    b.into_inner().unwrap().flush().unwrap();
}

fn sha(data: &[u8]) -> String {
    layerwaste::source::digest_string("", &Sha256::digest(data))[1..].to_string()
}

/// The legacy archive re-packed as Docker 25+ `docker save` writes it: an OCI layout
/// (uncompressed layer blobs) plus a manifest.json that names the blobs.
fn docker25(dir: &Path) -> PathBuf {
    let legacy = members(&sample(LEGACY));
    let manifest: Value = serde_json::from_slice(&legacy["manifest.json"]).unwrap();
    let config = &legacy[manifest[0]["Config"].as_str().unwrap()];
    let mut files = BTreeMap::new();
    let config_hex = sha(config);
    files.insert(format!("blobs/sha256/{config_hex}"), config.clone());
    let mut layer_names = vec![];
    let mut descriptors = vec![];
    for l in manifest[0]["Layers"].as_array().unwrap() {
        let data = &legacy[l.as_str().unwrap()];
        let hex = sha(data);
        files.insert(format!("blobs/sha256/{hex}"), data.clone());
        layer_names.push(format!("blobs/sha256/{hex}"));
        descriptors.push(json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{hex}"), "size": data.len()}));
    }
    let oci_manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{config_hex}"), "size": config.len()},
        "layers": descriptors,
    })
    .to_string()
    .into_bytes();
    let manifest_hex = sha(&oci_manifest);
    files.insert(format!("blobs/sha256/{manifest_hex}"), oci_manifest.clone());
    files.insert(
        "index.json".into(),
        json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": format!("sha256:{manifest_hex}"), "size": oci_manifest.len()}]}).to_string().into_bytes(),
    );
    files.insert(
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    );
    files.insert(
        "manifest.json".into(),
        json!([{"Config": format!("blobs/sha256/{config_hex}"), "RepoTags": ["split:latest"], "Layers": layer_names}]).to_string().into_bytes(),
    );
    let path = dir.join("docker25.tar");
    write_tar(&path, &files);
    path
}

fn unpack(archive: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("oci-dir");
    for (name, data) in members(archive) {
        let p = out.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    out
}

fn gzip_file(src: &Path, dst: &Path) {
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(dst).unwrap(),
        flate2::Compression::fast(),
    );
    e.write_all(&std::fs::read(src).unwrap()).unwrap();
    e.finish().unwrap();
}

fn zstd_file(src: &Path, dst: &Path) {
    let data = zstd::encode_all(&std::fs::read(src).unwrap()[..], 3).unwrap();
    std::fs::write(dst, data).unwrap();
}

#[test]
fn every_packaging_gives_identical_summary_and_steps() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = sample(LEGACY);
    let reference = analyze_json(&legacy, &[]);
    assert_eq!(reference["image"]["format"], "docker-save");

    let d25 = docker25(dir.path());
    let oci_dir = unpack(&sample(OCI_ZSTD), dir.path());
    let legacy_gz = dir.path().join("legacy.tar.gz");
    gzip_file(&legacy, &legacy_gz);
    let oci_zst = dir.path().join("oci.tar.zst");
    zstd_file(&sample(OCI_ZSTD), &oci_zst);

    let cases: Vec<(PathBuf, &str)> = vec![
        (d25, "docker-save-oci"),
        (sample(OCI_ZSTD), "oci"),
        (oci_dir.clone(), "oci"),
        (legacy_gz, "docker-save"),
        (oci_zst, "oci"),
    ];
    for (path, format) in &cases {
        let r = analyze_json(path, &[]);
        assert_eq!(r["image"]["format"], *format, "{}", path.display());
        assert_eq!(figures(&r), figures(&reference), "{}", path.display());
    }
    // Transport prefixes name the same images.
    let r = analyze_json(Path::new(&format!("oci:{}", oci_dir.display())), &[]);
    assert_eq!(figures(&r), figures(&reference));
    let r = analyze_json(
        Path::new(&format!("docker-archive:{}", legacy.display())),
        &[],
    );
    assert_eq!(figures(&r), figures(&reference));
}

#[test]
fn stdin_gives_identical_figures() {
    for archive in [LEGACY, OCI_ZSTD] {
        let out = layerwaste()
            .args(["analyze", "-", "--format", "json", "--quiet"])
            .pipe_stdin(sample(archive))
            .unwrap()
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        let reference = analyze_json(&sample(LEGACY), &[]);
        assert_eq!(figures(&r), figures(&reference), "{archive}");
    }
}

#[test]
fn a_transport_that_contradicts_the_content_is_an_error() {
    let out = layerwaste()
        .arg("analyze")
        .arg(format!("oci-archive:{}", sample(LEGACY).display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("the transport says one layout but the content is docker-save"));
}
