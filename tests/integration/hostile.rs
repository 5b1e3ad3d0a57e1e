//! Broken and hostile images (issue 6). Every case has exactly one of two outcomes:
//! exit code 2 with one message naming the file, the layer and the entry where they
//! apply; or a correct analysis, to the byte, with a warning where the spec allows the
//! oddity. Every image is built in code by `build.rs`, then broken on purpose.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tempfile::TempDir;

use crate::build::*;
use crate::common::*;

/// What one run of `layerwaste analyze` did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(image: &Path, extra: &[&str]) -> Run {
    let out = layerwaste()
        .arg("analyze")
        .arg(image)
        .args(["--format", "json", "--quiet"])
        .args(extra)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts exit code 2 and exactly one line on stderr, and returns that message without
/// its `layerwaste: error: ` prefix and with the image path replaced by `IMG`.
fn error(image: &Path, extra: &[&str]) -> String {
    let r = run(image, extra);
    assert_eq!(
        r.code,
        Some(2),
        "stdout: {}\nstderr: {}",
        r.stdout,
        r.stderr
    );
    assert!(r.stdout.is_empty(), "no report on error: {}", r.stdout);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one message: {}", r.stderr);
    lines[0]
        .strip_prefix("layerwaste: error: ")
        .unwrap_or_else(|| panic!("prefixed: {}", lines[0]))
        .replace(&image.display().to_string(), "IMG")
}

/// Asserts exit code 0 and returns the report and the warnings printed on stderr.
fn analysis(image: &Path, extra: &[&str]) -> (Value, Vec<String>) {
    let r = run(image, extra);
    assert_eq!(r.code, Some(0), "stderr: {}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    let printed: Vec<String> = r
        .stderr
        .lines()
        .map(|l| {
            l.strip_prefix("layerwaste: warning: ")
                .unwrap_or_else(|| panic!("only warnings on stderr: {l}"))
                .to_string()
        })
        .collect();
    let in_json: Vec<String> = report["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w.as_str().expect("a string").to_string())
        .collect();
    assert_eq!(printed.len(), in_json.len(), "every warning is printed");
    (report, printed)
}

fn totals(r: &Value) -> (u64, u64, u64) {
    let s = &r["summary"];
    (
        s["total_bytes"].as_u64().expect("total"),
        s["final_bytes"].as_u64().expect("final"),
        s["wasted_bytes"].as_u64().expect("wasted"),
    )
}

/// A temporary directory holding one image file.
struct Fixture {
    _dir: TempDir,
    path: PathBuf,
}

fn file_with(bytes: &[u8]) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("image.tar");
    std::fs::write(&path, bytes).expect("write");
    Fixture { _dir: dir, path }
}

fn archive(members: &Members) -> Fixture {
    file_with(&members.tar())
}

fn directory(members: &Members) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("layout");
    std::fs::create_dir(&path).expect("mkdir");
    members.write_dir(&path);
    Fixture { _dir: dir, path }
}

/// A small well-formed layer.
fn simple_layer() -> Vec<u8> {
    Layer::new()
        .dir("etc")
        .file("etc/motd", b"hello, world\n")
        .file("etc/hosts", &[b'h'; 700])
        .finish()
}

fn layer_error(img: &Image, layer: usize, rest: &str) -> String {
    format!("IMG: layer {layer} ({}){rest}", img.label(layer))
}

// ---------------------------------------------------------------------------------
// Not an image

#[test]
fn empty_file() {
    let f = file_with(b"");
    assert_eq!(
        error(&f.path, &[]),
        "IMG: not a container image: the file is empty"
    );
}

#[test]
fn random_bytes() {
    // xorshift: deterministic noise that starts with no known magic number.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    assert_ne!(&bytes[..2], &[0x1f, 0x8b]);
    let f = file_with(&bytes);
    assert_eq!(
        error(&f.path, &[]),
        "IMG: not a container image: it is not a tar archive, an OCI layout or a docker-save directory"
    );
}

#[test]
fn directory_that_is_neither_layout() {
    let mut m = Members::default();
    m.set("README", &b"not an image"[..]);
    m.set("blobs/sha256/abc", &b"x"[..]);
    let d = directory(&m);
    assert_eq!(
        error(&d.path, &[]),
        "IMG: not a container image: it has neither manifest.json (docker save) nor index.json (OCI layout)"
    );
}

// ---------------------------------------------------------------------------------
// Broken archives

#[test]
fn outer_tar_truncated_in_a_header() {
    let img = Image::new(vec![simple_layer()]);
    let bytes = img.docker_save().tar();
    // The first member's header is 512 bytes; cut inside the second one's.
    let first_len = 512 + img.layers[0].len().div_ceil(512) * 512;
    let f = file_with(&bytes[..first_len + 100]);
    assert_eq!(
        error(&f.path, &[]),
        format!("IMG: broken outer archive: reading the header at byte {first_len}: the archive ends inside a header")
    );
}

#[test]
fn outer_tar_truncated_in_a_layers_data() {
    let img = Image::new(vec![simple_layer()]);
    let bytes = img.docker_save().tar();
    let f = file_with(&bytes[..512 + 1000]);
    assert_eq!(
        error(&f.path, &[]),
        format!(
            "IMG: member {}/layer.tar claims {} bytes but the archive ends before them (truncated)",
            &img.blob_digest(0)[7..],
            img.layers[0].len()
        )
    );
}

#[test]
fn outer_tar_without_end_marker() {
    let img = Image::new(vec![simple_layer()]);
    let bytes = img.docker_save().tar();
    let f = file_with(&bytes[..bytes.len() - 1024]);
    assert_eq!(
        error(&f.path, &[]),
        format!(
            "IMG: broken outer archive: the archive ends at byte {} without an end-of-archive marker (truncated?)",
            bytes.len() - 1024
        )
    );
}

#[test]
fn gzip_layer_truncated_in_the_middle() {
    let tar = Layer::new().file("big", &vec![7u8; 200_000]).finish();
    let mut gz = gzip(&tar);
    let mut img = Image::new(vec![gz.clone()]);
    gz.truncate(gz.len() / 2);
    img.layers[0] = gz;
    let f = archive(&img.oci());
    assert_eq!(
        error(&f.path, &[]),
        layer_error(
            &img,
            0,
            ", entry big: the gzip data ends early (truncated?): incomplete deflate stream"
        )
    );
}

#[test]
fn gzip_layer_with_a_bad_crc() {
    let tar = simple_layer();
    let mut gz = gzip(&tar);
    let mut img = Image::new(vec![gz.clone()]);
    let n = gz.len();
    gz[n - 8] ^= 0xff; // CRC32 in the gzip trailer
    img.layers[0] = gz;
    let f = archive(&img.oci());
    assert_eq!(
        error(&f.path, &[]),
        layer_error(&img, 0, ": after the tar's end marker: the gzip data is corrupt: corrupt gzip stream does not have a matching checksum")
    );
}

#[test]
fn corrupt_zstd_layer() {
    let tar = Layer::new().file("data", &vec![3u8; 100_000]).finish();
    let mut zst = zstd(&tar);
    let mut img = Image::new(vec![zst.clone()]);
    let n = zst.len();
    for b in &mut zst[n / 2..n / 2 + 8] {
        *b ^= 0x5a;
    }
    img.layers[0] = zst.clone();
    let f = archive(&img.oci());
    assert_eq!(
        error(&f.path, &[]),
        layer_error(
            &img,
            0,
            ": reading the header at byte 0: the zstd data is corrupt: Data corruption detected"
        )
    );
    // Truncated instead.
    let good = zstd(&tar);
    img.layers[0] = good[..good.len() - 10].to_vec();
    let f = archive(&img.oci());
    assert_eq!(
        error(&f.path, &[]),
        layer_error(&img, 0, ": reading the header at byte 0: the zstd data ends early (truncated?): incomplete frame")
    );
}

#[test]
fn trailing_garbage_after_a_complete_gzip_layer_is_a_warning() {
    let mut gz = gzip(&simple_layer());
    gz.extend_from_slice(b"GARBAGE!");
    let img = Image::new(vec![gz]);
    let f = archive(&img.oci());
    let (report, warnings) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (713, 713, 0));
    assert_eq!(
        warnings,
        vec![format!(
            "layer 0 ({}): 8 bytes of trailing data after the last gzip member were ignored (the tar inside is complete)",
            img.label(0)
        )]
    );
}

#[test]
fn trailing_garbage_after_a_zstd_layer_is_an_error() {
    // zstd has no "trailing garbage" convention: after a frame comes another frame.
    let mut zst = zstd(&simple_layer());
    zst.extend_from_slice(b"GARBAGE!");
    let img = Image::new(vec![zst]);
    let f = archive(&img.oci());
    assert_eq!(
        error(&f.path, &[]),
        layer_error(
            &img,
            0,
            ": after the tar's end marker: the zstd data is corrupt: Unknown frame descriptor"
        )
    );
}

#[test]
fn trailing_garbage_after_an_incomplete_tar_is_an_error() {
    let mut gz = gzip(&Layer::new().file("a", b"1").unterminated());
    gz.extend_from_slice(b"GARBAGE!");
    let img = Image::new(vec![gz]);
    let f = archive(&img.oci());
    assert_eq!(
        error(&f.path, &[]),
        layer_error(
            &img,
            0,
            ": the archive ends at byte 1024 without an end-of-archive marker (truncated?)"
        )
    );
}

// ---------------------------------------------------------------------------------
// Broken metadata

fn save_without(name: &str) -> (Image, Members) {
    let img = Image::new(vec![simple_layer()]);
    let mut m = img.docker_save();
    if name == "config" {
        let config = format!("{}.json", &img.config_digest()[7..]);
        m.remove(&config);
    } else {
        m.remove(name);
    }
    (img, m)
}

#[test]
fn manifest_json_missing() {
    let (_, m) = save_without("manifest.json");
    let f = archive(&m);
    assert_eq!(
        error(&f.path, &[]),
        "IMG: not a container image: it has neither manifest.json (docker save) nor index.json (OCI layout)"
    );
}

#[test]
fn manifest_json_not_json() {
    let img = Image::new(vec![simple_layer()]);
    let mut m = img.docker_save();
    m.set("manifest.json", &b"\x1b[31mnot json"[..]);
    let f = archive(&m);
    assert_eq!(
        error(&f.path, &[]),
        "IMG: manifest.json: not a valid document: expected value at line 1 column 1"
    );
}

#[test]
fn manifest_json_of_the_wrong_types() {
    let img = Image::new(vec![simple_layer()]);
    for (doc, why) in [
        (
            r#"{"Config": "x"}"#,
            "invalid type: map, expected a sequence at line 1 column 0",
        ),
        (
            r#"[{"Config": 7, "Layers": []}]"#,
            "invalid type: integer `7`, expected a string at line 1 column 13",
        ),
        (
            r#"[{"Config": "c.json", "Layers": "l.tar"}]"#,
            "invalid type: string \"l.tar\", expected a sequence at line 1 column 39",
        ),
        ("[]", "lists no image"),
    ] {
        let mut m = img.docker_save();
        m.set("manifest.json", doc.as_bytes());
        let f = archive(&m);
        let expected = if why.starts_with("lists") {
            format!("IMG: manifest.json: {why}")
        } else {
            format!("IMG: manifest.json: not a valid document: {why}")
        };
        assert_eq!(error(&f.path, &[]), expected, "{doc}");
    }
}

#[test]
fn manifest_json_nested_too_deep() {
    let img = Image::new(vec![simple_layer()]);
    let mut m = img.docker_save();
    // 100,000 levels in an unknown field: skipped without recursion, so no stack
    // overflow; what is missing is then reported.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    m.set("manifest.json", format!("[{{\"x\": {deep}}}]"));
    let f = archive(&m);
    assert_eq!(
        error(&f.path, &[]),
        "IMG: manifest.json: not a valid document: missing field `Config` at line 1 column 200008"
    );
}

/// A directory layout whose `name` is a sparse file of 1 GiB: the limit is checked
/// before a byte is read, so nothing of that size is written or allocated.
fn huge_document(layout: Members, name: &str) -> Fixture {
    let d = directory(&layout);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(d.path.join(name))
        .expect("open");
    f.set_len(1 << 30).expect("sparse file");
    d
}

#[test]
fn huge_manifest_json() {
    let img = Image::new(vec![simple_layer()]);
    let d = huge_document(img.docker_save(), "manifest.json");
    assert_eq!(
        error(&d.path, &[]),
        "IMG: manifest.json (1073741824 bytes) exceeds the limit of 67108864 (metadata documents are small; raise --max-metadata-bytes if this one is real)"
    );
}

#[test]
fn metadata_limit_is_configurable() {
    let img = Image::new(vec![simple_layer()]);
    let m = img.docker_save();
    let size = m.0["manifest.json"].len();
    let largest =
        m.0.iter()
            .filter(|(k, _)| !k.ends_with(".tar"))
            .map(|(_, v)| v.len())
            .max()
            .unwrap();
    let f = archive(&m);
    assert_eq!(
        error(&f.path, &["--max-metadata-bytes", "100"]),
        format!("IMG: manifest.json ({size} bytes) exceeds the limit of 100 (metadata documents are small; raise --max-metadata-bytes if this one is real)")
    );
    analysis(&f.path, &["--max-metadata-bytes", &largest.to_string()]);
}

#[test]
fn index_json_missing_not_json_wrong_types_and_huge() {
    let img = Image::new(vec![simple_layer()]);
    let mut m = img.oci();
    m.remove("index.json");
    assert_eq!(
        error(&archive(&m).path, &[]),
        "IMG: not a container image: it has neither manifest.json (docker save) nor index.json (OCI layout)"
    );
    m.set("index.json", &b"{\"manifests\": [}"[..]);
    assert_eq!(
        error(&archive(&m).path, &[]),
        "IMG: index.json: not a valid document: expected value at line 1 column 16"
    );
    m.set("index.json", &b"{\"manifests\": {\"digest\": 1}}"[..]);
    assert_eq!(
        error(&archive(&m).path, &[]),
        "IMG: index.json: not a valid document: invalid type: map, expected a sequence at line 1 column 14"
    );
    m.set("index.json", &b"{\"schemaVersion\": 2}"[..]);
    assert_eq!(
        error(&archive(&m).path, &[]),
        "IMG: index.json: has no manifests list"
    );
    m.set(
        "index.json",
        &b"{\"manifests\": [{\"digest\": \"sha256:../../../etc/passwd\"}]}"[..],
    );
    assert_eq!(
        error(&archive(&m).path, &[]),
        "IMG: index.json: malformed digest \"sha256:../../../etc/passwd\""
    );
    let d = huge_document(img.oci(), "index.json");
    assert_eq!(
        error(&d.path, &[]),
        "IMG: index.json (1073741824 bytes) exceeds the limit of 67108864 (metadata documents are small; raise --max-metadata-bytes if this one is real)"
    );
}

#[test]
fn config_missing() {
    let (img, m) = save_without("config");
    assert_eq!(
        error(&archive(&m).path, &[]),
        format!(
            "IMG: manifest.json names {}.json, which is not in the image",
            &img.config_digest()[7..]
        )
    );
}

#[test]
fn config_not_json_and_of_the_wrong_types() {
    for (doc, why) in [
        (&b"\xff\xfe"[..], "expected value at line 1 column 1"),
        (
            br#"{"rootfs": {"diff_ids": "sha256:x"}}"#,
            "invalid type: string \"sha256:x\", expected a sequence at line 1 column 34",
        ),
        (
            br#"{"history": [{"created_by": 42}]}"#,
            "invalid type: integer `42`, expected a string at line 1 column 30",
        ),
        (
            br#"[1, 2, 3]"#,
            "invalid type: integer `1`, expected a string at line 1 column 2",
        ),
    ] {
        let mut img = Image::new(vec![simple_layer()]);
        img.config_bytes = Some(doc.to_vec());
        let name = format!("{}.json", &img.config_digest()[7..]);
        assert_eq!(
            error(&archive(&img.docker_save()).path, &[]),
            format!("IMG: {name}: not a valid document: {why}"),
        );
        // The same through an OCI layout, where the config is a blob.
        let name = blob_name(&img.config_digest());
        assert_eq!(
            error(&archive(&img.oci()).path, &[]),
            format!("IMG: {name}: not a valid document: {why}"),
        );
    }
}

#[test]
fn huge_config() {
    let img = Image::new(vec![simple_layer()]);
    let name = blob_name(&img.config_digest());
    let d = huge_document(img.oci(), &name);
    assert_eq!(
        error(&d.path, &[]),
        format!("IMG: {name} (1073741824 bytes) exceeds the limit of 67108864 (metadata documents are small; raise --max-metadata-bytes if this one is real)")
    );
}

#[test]
fn manifest_names_a_blob_that_is_not_there() {
    let img = Image::new(vec![simple_layer(), simple_layer()]);
    let mut m = img.docker_save();
    let layer = format!("{}/layer.tar", &img.blob_digest(0)[7..]);
    m.remove(&layer);
    assert_eq!(
        error(&archive(&m).path, &[]),
        format!("IMG: manifest.json names {layer}, which is not in the image")
    );
    let mut m = img.oci();
    let blob = blob_name(&img.blob_digest(0));
    m.remove(&blob);
    let manifest = blob_name(&sha256(&serde_json::to_vec(&img.oci_manifest()).unwrap()));
    assert_eq!(
        error(&archive(&m).path, &[]),
        format!("IMG: {manifest} names {blob}, which is not in the image")
    );
}

#[test]
fn descriptor_size_mismatch_of_a_metadata_blob() {
    let img = Image::new(vec![simple_layer()]);
    let mut manifest = img.oci_manifest();
    let real = manifest["config"]["size"].as_u64().unwrap();
    manifest["config"]["size"] = json!(real + 1);
    assert_eq!(
        error(&archive(&img.oci_with(manifest)).path, &[]),
        format!(
            "IMG: {}: size mismatch: expected {}, found {real}",
            blob_name(&img.config_digest()),
            real + 1
        )
    );
}

#[test]
fn digest_mismatch_of_a_metadata_blob() {
    let img = Image::new(vec![simple_layer()]);
    let mut m = img.oci();
    let name = blob_name(&img.config_digest());
    let config = m.get_mut(&name);
    let at = config.iter().position(|b| *b == b'a').unwrap();
    config[at] = b'A'; // "architecture" → "Architecture": same size, other digest
    let found = sha256(&m.0[&name]);
    assert_eq!(
        error(&archive(&m).path, &[]),
        format!(
            "IMG: {name}: digest mismatch: expected {}, found {found}",
            img.config_digest()
        )
    );
    // docker save names its config by digest too, and that is checked the same way.
    let mut m = img.docker_save();
    let name = format!("{}.json", &img.config_digest()[7..]);
    m.get_mut(&name)[at] = b'A';
    assert_eq!(
        error(&archive(&m).path, &[]),
        format!(
            "IMG: {name}: digest mismatch: expected {}, found {found}",
            img.config_digest()
        )
    );
}

#[test]
fn descriptor_size_mismatch_of_a_layer() {
    let img = Image::new(vec![simple_layer()]);
    let mut manifest = img.oci_manifest();
    let real = img.layers[0].len() as u64;
    manifest["layers"][0]["size"] = json!(real - 512);
    assert_eq!(
        error(&archive(&img.oci_with(manifest)).path, &[]),
        format!(
            "IMG: {}: size mismatch: expected {}, found {real}",
            blob_name(&img.blob_digest(0)),
            real - 512
        )
    );
}

#[test]
fn layer_digests_are_not_verified_for_local_files() {
    // Documented in docs/security.md: a layer read from a file is not hashed (that
    // would double the cost of a walk); its gzip CRC, zstd checksum and tar header
    // checksums guard against corruption, not against a well-formed substitute.
    let img = Image::new(vec![simple_layer()]);
    let mut m = img.oci();
    let substitute = Layer::new()
        .dir("etc")
        .file("etc/motd", b"HELLO, WORLD\n")
        .file("etc/hosts", &[b'H'; 700])
        .finish();
    assert_eq!(substitute.len(), img.layers[0].len());
    m.set(&blob_name(&img.blob_digest(0)), substitute);
    let (report, warnings) = analysis(&archive(&m).path, &[]);
    assert_eq!(totals(&report), (713, 713, 0));
    assert_eq!(warnings, Vec::<String>::new());
}

#[test]
fn history_and_layer_counts_disagree() {
    let mut img = Image::new(vec![simple_layer()]);
    img.config["history"] = json!([
        {"created_by": "ADD a /"},
        {"created_by": "RUN b"},
    ]);
    let (report, warnings) = analysis(&archive(&img.docker_save()).path, &[]);
    assert_eq!(totals(&report), (713, 713, 0));
    assert_eq!(
        warnings,
        vec!["the config's history has 2 steps with a layer but the manifest has 1 layer; steps are shown as layers, by index"]
    );
    assert_eq!(report["steps"][0]["created_by"], Value::Null);
    assert_eq!(report["steps"][0]["layer"], 0);
}

// ---------------------------------------------------------------------------------
// Broken tar entries

/// An OCI archive of the given plain layers.
fn oci_of(layers: Vec<Vec<u8>>) -> (Image, Fixture) {
    let img = Image::new(layers);
    let f = archive(&img.oci());
    (img, f)
}

#[test]
fn bad_header_checksum() {
    let mut tar = Layer::new().file("ok", b"1").file("victim", b"2").finish();
    tar[1024 + 100] ^= 0x01; // the victim's mode field
    let (img, f) = oci_of(vec![tar.clone()]);
    assert_eq!(
        error(&f.path, &[]),
        layer_error(&img, 0, ", entry victim: bad header at byte 1024: checksum mismatch (stored 3690, computed 3691)")
    );
    // Compressed, the same message.
    let (img, f) = oci_of(vec![gzip(&tar)]);
    assert_eq!(
        error(&f.path, &[]),
        layer_error(&img, 0, ", entry victim: bad header at byte 1024: checksum mismatch (stored 3690, computed 3691)")
    );
}

/// A file entry claiming `claimed` bytes with only `present` bytes after it, then the
/// end of the layer.
fn lying_size(claimed: u64, present: usize) -> Vec<u8> {
    Layer::new()
        .file("first", b"ok")
        .raw(&header(b"liar", b'0', claimed, b""))
        .raw(&vec![0x55; present])
        .unterminated()
}

#[test]
fn size_field_beyond_the_end_of_the_layer() {
    let tar = lying_size(1 << 20, 1024);
    let (img, f) = oci_of(vec![tar.clone()]);
    let expected = layer_error(
        &img,
        0,
        ", entry liar: the archive ends inside this entry's data (1048576 bytes from byte 1536)",
    );
    assert_eq!(error(&f.path, &[]), expected);
    let (img, f) = oci_of(vec![gzip(&tar)]);
    let expected = layer_error(
        &img,
        0,
        ", entry liar: the archive ends inside this entry's data (1048576 bytes from byte 1536)",
    );
    assert_eq!(error(&f.path, &[]), expected);
}

#[test]
fn size_field_of_absurd_values() {
    // Base-256 size fields reach 2^64 - 1: positions must not overflow.
    let mut h = header(b"huge", b'0', 0, b"");
    h[124] = 0x80;
    for b in &mut h[125..136] {
        *b = 0xff;
    }
    let mut t = tar::Header::from_byte_slice(&h).clone();
    t.set_cksum();
    let tar = Layer::new().raw(t.as_bytes()).raw(&[0u8; 1024]).finish();
    let (img, f) = oci_of(vec![tar.clone()]);
    let expected = layer_error(
        &img,
        0,
        ", entry huge: the archive ends inside this entry's data (18446744073709551615 bytes from byte 512)",
    );
    assert_eq!(error(&f.path, &[]), expected);
    let (img, f) = oci_of(vec![gzip(&tar)]);
    let expected = layer_error(
        &img,
        0,
        ", entry huge: the archive ends inside this entry's data (18446744073709551615 bytes from byte 512)",
    );
    assert_eq!(error(&f.path, &[]), expected);
}

#[test]
fn pax_path_of_one_megabyte() {
    let long = "a".repeat(1 << 20);
    let tar = Layer::new().file(&long, b"x").finish();
    let (img, f) = oci_of(vec![tar]);
    assert_eq!(
        error(&f.path, &[]),
        layer_error(
            &img,
            0,
            &format!(
                ", entry {}…: path of 1048576 bytes exceeds the limit of 65536 (--max-path-bytes)",
                "a".repeat(64)
            )
        )
    );
    // The limit is a flag: the same layer passes when it allows the path.
    let (report, _) = analysis(&f.path, &["--max-path-bytes", "1048576"]);
    assert_eq!(totals(&report), (1, 1, 0));
}

#[test]
fn pax_records_of_absurd_length() {
    for (records, why) in [
        (
            &b"99999999999999999999999 path=x\n"[..],
            "the record length 99999999999999999999999 is not a number that fits",
        ),
        (
            &b"1000 path=x\n"[..],
            "a record of 1000 bytes runs past the end of the header (12 bytes)",
        ),
        (&b"8 path=x\n"[..], "a record does not end with a newline"),
        (&b"6 abc\n"[..], "a record has no '='"),
        (&b"path=x\n"[..], "a record does not start with its length"),
    ] {
        let tar = Layer::new()
            .raw(&header(b"PaxHeaders/x", b'x', records.len() as u64, b""))
            .raw(records)
            .raw(&vec![0u8; 512 - records.len()])
            .file("f", b"1")
            .finish();
        let (img, f) = oci_of(vec![tar]);
        assert_eq!(
            error(&f.path, &[]),
            layer_error(&img, 0, &format!(": malformed PAX header at byte 0: {why}")),
            "{}",
            String::from_utf8_lossy(records)
        );
    }
}

#[test]
fn pax_header_of_absurd_size() {
    let tar = Layer::new()
        .raw(&header(b"PaxHeaders/x", b'x', 1 << 33, b""))
        .raw(&[0u8; 1024])
        .finish();
    let (img, f) = oci_of(vec![tar]);
    assert_eq!(
        error(&f.path, &[]),
        layer_error(
            &img,
            0,
            ": PAX header at byte 0 of 8589934592 bytes exceeds the limit of 16777216 bytes"
        )
    );
}

#[test]
fn pax_path_holding_a_newline_is_read_by_length() {
    // A valid name: records are framed by their length, not by newlines.
    let name = format!("dir/{}\nnext", "é".repeat(60));
    let tar = Layer::new().file(&name, b"12345").finish();
    let (_, f) = oci_of(vec![tar]);
    let (report, warnings) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (5, 5, 0));
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn global_pax_headers_are_ignored_with_a_warning() {
    let tar = Layer::new()
        .pax(b'g', &[("path", b"everything"), ("comment", b"hi")])
        .file("a", b"123")
        .file("b", b"4567")
        .finish();
    let (img, f) = oci_of(vec![tar]);
    let (report, warnings) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (7, 7, 0));
    assert_eq!(
        warnings,
        vec![format!(
            "layer 0 ({}): the layer has PAX global headers; their records were ignored",
            img.label(0)
        )]
    );
}

#[test]
fn gnu_long_names_and_long_links() {
    let long_file = format!("{}/file", "long-directory-name".repeat(10));
    let long_link = format!("{}/link", "another-long-directory".repeat(10));
    let base = Layer::new()
        .gnu_long(b'L', long_file.as_bytes())
        .entry(b"truncated-name", b'0', b"", &[9u8; 1000])
        .gnu_long(b'L', long_link.as_bytes())
        .gnu_long(b'K', long_file.as_bytes())
        .entry(b"truncated-link", b'1', b"truncated-target", b"")
        .finish();
    // Deleting the file's own name leaves the content reachable through the link...
    let hide_file = Layer::new()
        .file(
            &format!("{}/.wh.file", "long-directory-name".repeat(10)),
            b"",
        )
        .finish();
    let (_, f) = oci_of(vec![base.clone(), hide_file.clone()]);
    let (report, warnings) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (1000, 1000, 0));
    assert!(warnings.is_empty(), "{warnings:?}");
    // ...and deleting the link's name too wastes it.
    let hide_link = Layer::new()
        .file(
            &format!("{}/.wh.link", "another-long-directory".repeat(10)),
            b"",
        )
        .finish();
    let (_, f) = oci_of(vec![base, hide_file, hide_link]);
    let (report, _) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (1000, 0, 1000));
    assert_eq!(
        report["steps"][0]["removed_by"],
        json!([{"step": 2, "bytes": 1000, "files": 1, "reasons": {"deleted": 1000}}])
    );
}

#[test]
fn non_utf8_names() {
    let base = Layer::new()
        .entry(b"caf\xe9/menu", b'0', b"", &[1u8; 100])
        .entry("café/menu".as_bytes(), b'0', b"", &[2u8; 30])
        .finish();
    let over = Layer::new()
        .entry(b"caf\xe9/menu", b'0', b"", &[3u8; 50])
        .finish();
    let (_, f) = oci_of(vec![base, over]);
    let (report, _) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (180, 80, 100));
    // In a message, invalid bytes and control characters are escaped.
    let mut tar = Layer::new()
        .entry(b"caf\xe9\x1b[2J\x1b]0;owned\x07", b'0', b"", b"1")
        .finish();
    tar[100] ^= 0x01;
    let (img, f) = oci_of(vec![tar]);
    let message = error(&f.path, &[]);
    assert_eq!(
        message,
        layer_error(
            &img,
            0,
            ", entry caf\\xe9\\x1b[2J\\x1b]0;owned\\x07: bad header at byte 0: checksum mismatch (stored 4586, computed 4587)"
        )
    );
}

#[test]
fn dot_dot_absolute_and_dot_slash_names_stay_inside_the_tree() {
    let base = Layer::new()
        .file("./etc/passwd", &[1u8; 10])
        .file("/usr/bin/tool", &[2u8; 20])
        .file("../../../../tmp/x", &[3u8; 30])
        .finish();
    let over = Layer::new()
        .file("/etc/passwd", &[4u8; 11])
        .file("tmp/../tmp/x", &[5u8; 31])
        .finish();
    let (img, f) = oci_of(vec![base, over]);
    let (report, warnings) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (102, 62, 40));
    assert_eq!(
        warnings,
        vec![format!(
            "layer 0 ({}): 1 entry with '..' climbing above the root was kept inside the image's tree",
            img.label(0)
        )]
    );
}

#[test]
fn non_directory_entries_named_as_the_root() {
    let tar = Layer::new()
        .file("./", &[1u8; 10])
        .file("..", &[1u8; 5])
        .file("a", b"x")
        .finish();
    let (img, f) = oci_of(vec![tar]);
    let (report, warnings) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (1, 1, 0));
    assert_eq!(
        warnings,
        vec![
            format!("layer 0 ({}): 1 entry with '..' climbing above the root was kept inside the image's tree", img.label(0)),
            format!("layer 0 ({}): 2 non-directory entries name the root; ignored (15 bytes not counted)", img.label(0)),
        ]
    );
}

#[test]
fn whiteouts_of_dot_dot_dot_and_no_name() {
    let base = Layer::new()
        .file("a/b", &[1u8; 5])
        .file("c", &[1u8; 7])
        .finish();
    let over = Layer::new()
        .file("a/.wh..", b"")
        .file("a/.wh...", b"")
        .file("a/.wh.", b"")
        .file(".wh..", b"")
        .finish();
    let (img, f) = oci_of(vec![base, over]);
    let (report, warnings) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (12, 12, 0));
    assert_eq!(
        warnings,
        vec![format!(
            "layer 1 ({}): 4 whiteout entries ignored: a whiteout of no name, '.' or '..'",
            img.label(1)
        )]
    );
}

#[test]
fn hard_link_to_a_path_that_does_not_exist() {
    let tar = Layer::new()
        .hardlink("a", "nowhere")
        .file("b", &[1u8; 10])
        .finish();
    let (_, f) = oci_of(vec![tar]);
    let (report, warnings) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (10, 10, 0));
    assert_eq!(
        warnings,
        vec!["layer 0: 1 hard link to a path that does not exist; counted as empty files"]
    );
}

#[test]
fn symlink_loops_are_never_followed() {
    let base = Layer::new()
        .symlink("a", "b")
        .symlink("b", "a")
        .symlink("loop", "loop")
        .dir("d")
        .symlink("d/self", "../d")
        .file("d/f", &[1u8; 10])
        .finish();
    // A whiteout through a symlinked directory hides nothing: `d/self/.wh.f` is not `d/f`.
    let over = Layer::new()
        .file("d/self/.wh.f", b"")
        .file("a/.wh.x", b"")
        .finish();
    let (_, f) = oci_of(vec![base, over]);
    let (report, warnings) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (10, 10, 0));
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn device_nodes_and_fifos() {
    let tar = Layer::new()
        .entry(b"dev/null", b'3', b"", b"")
        .entry(b"dev/sda", b'4', b"", b"")
        .entry(b"run/fifo", b'6', b"", b"")
        // A size field on a header-only type carries no data (as Go's archive/tar,
        // which container runtimes use, reads it): the next header follows at once.
        .raw(&header(b"dev/lying", b'3', 512, b""))
        .raw(&header(b"dir-with-size", b'5', 1024, b""))
        .raw(&header(b"symlink-with-size", b'2', 512, b"target"))
        .file("after", &[7u8; 7])
        .finish();
    let (_, f) = oci_of(vec![tar.clone()]);
    let (report, warnings) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (7, 7, 0));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(report["layers"][0]["entries"], 7);
    let (_, f) = oci_of(vec![gzip(&tar)]);
    let (report, _) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (7, 7, 0));
}

/// An old-GNU sparse entry: its map spills into one extension block.
fn gnu_sparse(name: &str, stored: usize) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_size(stored as u64);
    h.set_mtime(0);
    h.set_mode(0o644);
    h.set_path(name).unwrap();
    let gnu = h.as_gnu_mut().unwrap();
    gnu.set_real_size(1 << 30);
    for (i, s) in gnu.sparse.iter_mut().enumerate() {
        s.set_offset(i as u64 * (1 << 20));
        s.set_length(if i == 0 { stored as u64 } else { 0 });
    }
    gnu.set_is_extended(true);
    h.set_cksum();
    let mut ext = [0u8; 512];
    ext[0..12].copy_from_slice(b"00010000000\0"); // one more region, then no more blocks
    ext[12..24].copy_from_slice(b"00000000000\0");
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(&ext);
    out.resize(out.len() + stored.div_ceil(512) * 512, 0x42);
    out
}

#[test]
fn sparse_files_count_their_stored_bytes() {
    let base = Layer::new()
        .raw(&gnu_sparse("disk.img", 1024))
        .file("after", &[1u8; 3])
        .finish();
    // PAX sparse 1.0: the real name is in a record; the map sits in the data.
    let pax = Layer::new()
        .pax(
            b'x',
            &[
                ("GNU.sparse.major", b"1"),
                ("GNU.sparse.minor", b"0"),
                ("GNU.sparse.name", b"pax.img"),
                ("GNU.sparse.realsize", b"1073741824"),
            ],
        )
        .entry(b"GNUSparseFile.0/pax.img", b'0', b"", &[0x33; 1536])
        .finish();
    let over = Layer::new()
        .file("disk.img", b"")
        .file("pax.img", b"")
        .finish();
    let (_, f) = oci_of(vec![base, pax, over]);
    let (report, warnings) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (1024 + 3 + 1536, 3, 1024 + 1536));
    assert!(warnings.is_empty(), "{warnings:?}");
}

// ---------------------------------------------------------------------------------
// Resource attacks

/// Runs the CLI and watches its peak resident memory (VmHWM) in /proc while it runs.
/// (wait4's ru_maxrss will not do: a child spawned by vfork inherits the test
/// process's own high-water mark at exec.) Returns the exit code, stdout and the peak
/// seen, in KiB.
fn run_watching_memory(image: &Path) -> (Option<i32>, String, u64) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("layerwaste"))
        .arg("analyze")
        .arg(image)
        .args(["--format", "json", "--quiet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawns");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok());
            peak = peak.max(hwm.unwrap_or(0));
        }
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("piped"), &mut stdout)
        .expect("reads");
    (status.code(), stdout, peak)
}

#[test]
fn gzip_bomb_streams_with_flat_memory() {
    // 128 MiB of zeros in a ~130 KB layer: one file header, then 128 gzip members of
    // 1 MiB of zeros each (the same bytes repeated: a debug build compresses slowly),
    // then the end marker. A single member of many GB is measured by hand in
    // docs/security.md; a debug build inflates too slowly for a test of that size.
    const CHUNK: usize = 1 << 20;
    let members = 128;
    let zeros = gzip_best(&vec![0u8; CHUNK]);
    let mut blob = gzip(&header(b"zeros", b'0', (members * CHUNK) as u64, b""));
    for _ in 0..members {
        blob.extend_from_slice(&zeros);
    }
    blob.extend(gzip(&[0u8; 1024]));
    assert!(blob.len() < 200_000, "{}", blob.len());
    let img = Image::with_diff_ids(vec![blob], vec![format!("sha256:{}", "0".repeat(64))]);
    let f = archive(&img.oci());
    let (code, stdout, peak_kib) = run_watching_memory(&f.path);
    assert_eq!(code, Some(0));
    // Memory does not follow the 128 MiB inflated: buffers only.
    assert!(peak_kib < 48 * 1024, "peak RSS {peak_kib} KiB");
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(totals(&report), (128 << 20, 128 << 20, 0));
    assert_eq!(report["warnings"], json!([]));
    assert_eq!(report["layers"][0]["compression"], "gzip");
}

#[test]
fn many_entries_stop_at_the_limit() {
    let mut layer = Layer::new();
    for i in 0..1001 {
        layer = layer.file(&format!("f{i:04}"), b"");
    }
    let (img, f) = oci_of(vec![layer.finish()]);
    assert_eq!(
        error(&f.path, &["--max-entries", "1000"]),
        layer_error(
            &img,
            0,
            ", entry f1000: more than 1000 entries in one layer (--max-entries)"
        )
    );
    let (report, _) = analysis(&f.path, &["--max-entries", "1001"]);
    assert_eq!(report["layers"][0]["entries"], 1001);
}

#[test]
fn ten_thousand_levels_of_directories() {
    let deep = "d/".repeat(10_000);
    let base = Layer::new()
        .file(&format!("{deep}file"), &[1u8; 100])
        .hardlink("shallow", &format!("{deep}file"))
        .finish();
    // Hiding the top directory hides all 10,000 levels, without recursion.
    let hide = Layer::new().file(".wh.d", b"").finish();
    let (_, f) = oci_of(vec![base.clone(), hide.clone()]);
    let (report, _) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (100, 100, 0), "the hard link keeps it");
    let unlink = Layer::new().file(".wh.shallow", b"").finish();
    let (_, f) = oci_of(vec![base, hide, unlink]);
    let (report, _) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (100, 0, 100));
}

// ---------------------------------------------------------------------------------
// Terminal injection and paths leaving the image

#[test]
fn escapes_in_created_by_never_reach_the_terminal() {
    let mut img = Image::new(vec![simple_layer()]);
    let evil = "/bin/sh -c echo \x1b[2J\x1b]0;owned\x07 \u{202e}gnp.exe";
    img.config["history"] = json!([{"created_by": evil}]);
    let f = archive(&img.docker_save());
    let out = layerwaste()
        .arg("analyze")
        .arg(&f.path)
        .args(["--format", "table", "--color", "never", "--quiet"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(!table.contains('\x1b') && !table.contains('\x07') && !table.contains('\u{202e}'));
    assert!(
        table.contains("RUN echo \\x1b[2J\\x1b]0;owned\\x07 \\u{202e}gnp.exe"),
        "{table}"
    );
    // JSON keeps the string exact (JSON escapes it its own way).
    let (report, _) = analysis(&f.path, &[]);
    assert_eq!(report["steps"][0]["created_by"], evil);
}

#[test]
fn escapes_in_names_never_reach_the_terminal() {
    // A manifest naming a layer with an escape sequence: the error quotes it escaped.
    let img = Image::new(vec![simple_layer()]);
    let mut m = img.docker_save();
    m.set(
        "manifest.json",
        serde_json::to_vec(&json!([{"Config": format!("{}.json", &img.config_digest()[7..]), "Layers": ["\x1b[31mred/layer.tar"]}])).unwrap(),
    );
    assert_eq!(
        error(&archive(&m).path, &[]),
        "IMG: manifest.json names \\x1b[31mred/layer.tar, which is not in the image"
    );
    // A diff ID with an escape sequence, quoted in a warning.
    let mut gz = gzip(&simple_layer());
    gz.extend_from_slice(b"JUNK");
    let mut img = Image::new(vec![gz]);
    img.config["rootfs"]["diff_ids"] = json!(["sha256:\x1b[2J"]);
    let r = run(&archive(&img.oci()).path, &[]);
    assert_eq!(r.code, Some(0));
    assert_eq!(
        r.stderr,
        "layerwaste: warning: layer 0 (sha256:\\x1b[2J): 4 bytes of trailing data after the last gzip member were ignored (the tar inside is complete)\n"
    );
}

#[test]
fn layout_symlinks_may_not_leave_the_layout() {
    let img = Image::new(vec![simple_layer()]);
    let d = directory(&img.oci());
    let blob = blob_name(&img.blob_digest(0));
    let outside = d.path.parent().unwrap().join("outside.tar");
    std::fs::rename(d.path.join(&blob), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, d.path.join(&blob)).unwrap();
    let manifest = blob_name(&sha256(&serde_json::to_vec(&img.oci_manifest()).unwrap()));
    assert_eq!(
        error(&d.path, &[]),
        format!("IMG: {manifest} names {blob}, which is not in the image")
    );
    // A link that stays inside is followed (an extracted docker save has them).
    let inside = d.path.join("blobs/layer-copy");
    std::fs::rename(&outside, &inside).unwrap();
    std::fs::remove_file(d.path.join(&blob)).unwrap();
    std::os::unix::fs::symlink("../layer-copy", d.path.join(&blob)).unwrap();
    let (report, _) = analysis(&d.path, &[]);
    assert_eq!(totals(&report), (713, 713, 0));
}

#[test]
fn symlink_loops_in_the_outer_archive() {
    let img = Image::new(vec![simple_layer()]);
    let mut m = img.docker_save();
    let layer = format!("{}/layer.tar", &img.blob_digest(0)[7..]);
    m.remove(&layer);
    let mut outer = Layer::new();
    for (name, bytes) in &m.0 {
        outer = outer.file(name, bytes);
    }
    let outer = outer
        .symlink(&layer, "other.tar")
        .symlink("other.tar", &layer)
        .finish();
    let f = file_with(&outer);
    assert_eq!(
        error(&f.path, &[]),
        format!("IMG: manifest.json names {layer}, which is not in the image")
    );
}

#[test]
fn compressed_outer_archive_broken_and_whole() {
    let img = Image::new(vec![simple_layer()]);
    let whole = gzip(&img.docker_save().tar());
    let f = file_with(&whole);
    let (report, _) = analysis(&f.path, &[]);
    assert_eq!(totals(&report), (713, 713, 0));
    let f = file_with(&whole[..whole.len() / 2]);
    assert_eq!(
        error(&f.path, &[]),
        "IMG: broken outer archive: reading the header at byte 4608: the gzip data ends early (truncated?): incomplete deflate stream"
    );
}
