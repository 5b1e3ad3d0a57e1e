//! One image, read from every place it can live, gives the same figures: a file, stdin
//! (both docker-save layouts), a Docker engine, Podman's API, a registry with and
//! without auth, and Docker's data root. The engines and registries are real services
//! started by scripts/services/start.sh, which writes their endpoints to
//! target/services/services.env (or $LAYERWASTE_SERVICES_DIR/services.env, or the file
//! $LAYERWASTE_SERVICES_ENV names). Without them these tests
//! skip with a message, unless LAYERWASTE_REQUIRE_SERVICES=1 (CI), where they fail.
//!
//! Failures a real service cannot be made to produce on demand (a digest mismatch, a
//! connection dropped mid-layer, an index without the wanted platform) are served by a
//! small fake registry in this file.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::*;

fn sample_tar() -> PathBuf {
    sample("build-deps-split/build-deps-split.tar")
}

/// The figures of the sample read from its file: what every other source must match.
fn reference() -> &'static (Value, Value) {
    static FIGURES: OnceLock<(Value, Value)> = OnceLock::new();
    FIGURES.get_or_init(|| figures(&analyze_json(&sample_tar(), &[])))
}

/// The endpoints start.sh wrote, or `None` after a skip message.
pub(crate) fn services() -> Option<&'static HashMap<String, String>> {
    static SERVICES: OnceLock<Option<HashMap<String, String>>> = OnceLock::new();
    let loaded = SERVICES.get_or_init(|| {
        // Where start.sh wrote it: as told, in its state directory, or the default.
        let path = std::env::var_os("LAYERWASTE_SERVICES_ENV")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("LAYERWASTE_SERVICES_DIR")
                    .map(|d| PathBuf::from(d).join("services.env"))
            })
            .unwrap_or_else(|| root().join("target/services/services.env"));
        let text = std::fs::read_to_string(&path).ok()?;
        Some(
            text.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect(),
        )
    });
    if loaded.is_none() {
        skip("the source services are not running (start them with scripts/services/start.sh)");
    }
    loaded.as_ref()
}

pub(crate) fn service<'a>(s: &'a HashMap<String, String>, key: &str) -> &'a str {
    s.get(key)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("{key} is missing from services.env"))
}

/// Runs `analyze SPEC --format json` with extra environment, and returns the report or
/// the failure's exit code and stderr.
fn run(spec: &str, extra: &[&str], env: &[(&str, &str)]) -> Result<Value, (i32, String)> {
    let mut cmd = layerwaste();
    cmd.arg("analyze")
        .arg(spec)
        .args(["--format", "json", "--quiet"])
        .args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("runs");
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).expect("valid JSON"))
    } else {
        Err((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

fn assert_same_figures(spec: &str, extra: &[&str], env: &[(&str, &str)]) -> Value {
    let report = run(spec, extra, env)
        .unwrap_or_else(|(code, err)| panic!("analyze {spec} exited {code}: {err}"));
    assert_eq!(&figures(&report), reference(), "{spec} gives other figures");
    report
}

fn assert_fails(spec: &str, extra: &[&str], env: &[(&str, &str)], needles: &[&str]) -> String {
    match run(spec, extra, env) {
        Ok(_) => panic!("analyze {spec} succeeded but should fail"),
        Err((code, err)) => {
            assert_eq!(code, 2, "analyze {spec}: {err}");
            for needle in needles {
                assert!(err.contains(needle), "{needle:?} not in: {err}");
            }
            err
        }
    }
}

fn stdin_report(bytes: Vec<u8>) -> Value {
    let out = layerwaste()
        .args(["analyze", "-", "--format", "json", "--quiet"])
        .write_stdin(bytes)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

#[test]
fn stdin_legacy_docker_save_layout() {
    let bytes = std::fs::read(sample_tar()).unwrap();
    let r = stdin_report(bytes);
    assert_eq!(&figures(&r), reference());
    assert_eq!(r["image"]["format"], "docker-save");
}

/// Rewrites the legacy archive the way Docker 25+ saves: an OCI layout (blobs by
/// digest, index.json, oci-layout) plus a manifest.json naming those blobs.
fn docker25_layout(legacy: &Path) -> Vec<u8> {
    let mut archive = tar::Archive::new(std::fs::File::open(legacy).unwrap());
    let mut members: HashMap<String, Vec<u8>> = HashMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        members.insert(name, data);
    }
    let manifest: Value = serde_json::from_slice(&members["manifest.json"]).unwrap();
    let sha = |b: &[u8]| layerwaste::source::digest_string("", &Sha256::digest(b))[1..].to_string();
    let mut out = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        out.append_data(&mut h, name, data).unwrap();
    };
    let config = &members[manifest[0]["Config"].as_str().unwrap()];
    let config_hex = sha(config);
    add(&format!("blobs/sha256/{config_hex}"), config);
    let mut layer_names = vec![];
    let mut layer_descriptors = vec![];
    for layer in manifest[0]["Layers"].as_array().unwrap() {
        let data = &members[layer.as_str().unwrap()];
        let hex = sha(data);
        add(&format!("blobs/sha256/{hex}"), data);
        layer_names.push(format!("blobs/sha256/{hex}"));
        layer_descriptors.push(json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": format!("sha256:{hex}"),
            "size": data.len(),
        }));
    }
    let oci_manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": format!("sha256:{config_hex}"),
            "size": config.len(),
        },
        "layers": layer_descriptors,
    })
    .to_string();
    let manifest_hex = sha(oci_manifest.as_bytes());
    add(
        &format!("blobs/sha256/{manifest_hex}"),
        oci_manifest.as_bytes(),
    );
    add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_hex}"),
            "size": oci_manifest.len(),
        }],
    });
    add("index.json", index.to_string().as_bytes());
    let save = json!([{
        "Config": format!("blobs/sha256/{config_hex}"),
        "RepoTags": manifest[0]["RepoTags"],
        "Layers": layer_names,
    }]);
    add("manifest.json", save.to_string().as_bytes());
    out.into_inner().unwrap()
}

#[test]
fn stdin_docker_25_save_layout() {
    let r = stdin_report(docker25_layout(&sample_tar()));
    assert_eq!(&figures(&r), reference());
    assert_eq!(r["image"]["format"], "docker-save-oci");
}

#[test]
fn docker_engine_every_name_form() {
    let Some(s) = services() else { return };
    let host = service(s, "LAYERWASTE_DOCKER_HOST");
    let env = [("DOCKER_HOST", host)];
    let image = service(s, "LAYERWASTE_SAMPLE_IMAGE");
    let id = service(s, "LAYERWASTE_DOCKER_IMAGE_ID");
    let short_id = &id["sha256:".len().."sha256:".len() + 12];
    for name in [
        image,
        "build-deps-split",
        "build-deps-split:latest",
        "registry.example.com/team/build-deps-split:v1",
        id,
        short_id,
    ] {
        assert_same_figures(name, &[], &env);
    }
    let r = assert_same_figures(&format!("docker-daemon:{image}"), &[], &env);
    assert_eq!(r["image"]["source"], format!("docker-daemon:{image}"));
}

#[test]
fn docker_engine_unknown_image_names_the_engine() {
    let Some(s) = services() else { return };
    let host = service(s, "LAYERWASTE_DOCKER_HOST");
    assert_fails(
        "no-such-image:latest",
        &[],
        &[("DOCKER_HOST", host)],
        &["no such image", host],
    );
}

#[test]
fn podman_api() {
    let Some(s) = services() else { return };
    let env = [("DOCKER_HOST", service(s, "LAYERWASTE_PODMAN_HOST"))];
    let image = service(s, "LAYERWASTE_SAMPLE_IMAGE");
    let short = image.trim_start_matches("localhost/");
    // Podman's image ID is the config digest too.
    let id = &service(s, "LAYERWASTE_DOCKER_IMAGE_ID")[7..19];
    for name in [
        image,
        short,
        "localhost/layerwaste-sample/build-deps-split",
        id,
    ] {
        assert_same_figures(name, &[], &env);
    }
}

#[test]
fn no_engine_says_how_to_pass_a_file() {
    assert_fails(
        "myapp:latest",
        &[],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
        &[
            "myapp:latest",
            "unix:///nonexistent/docker.sock",
            "cannot reach the engine",
            "docker save myapp:latest | layerwaste analyze -",
        ],
    );
    // A missing file stays a missing file, not an engine lookup.
    assert_fails(
        "no-such-file.tar",
        &[],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
        &["no-such-file.tar", "No such file"],
    );
}

/// A DOCKER_CONFIG directory whose config.json holds `auths` for `registry`.
fn docker_config(registry: &str, user: &str, password: &str) -> tempfile::TempDir {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let config = json!({"auths": {registry: {"auth": auth}}});
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    dir
}

#[test]
fn registry_without_auth() {
    let Some(s) = services() else { return };
    let registry = service(s, "LAYERWASTE_REGISTRY");
    let repo = service(s, "LAYERWASTE_REGISTRY_REPO");
    let empty = tempfile::tempdir().unwrap();
    let env = [("DOCKER_CONFIG", empty.path().to_str().unwrap())];
    let r = assert_same_figures(&format!("docker://{registry}/{repo}:latest"), &[], &env);
    // The same manifest, named by its digest.
    let digest = r["image"]["manifest_digest"].as_str().unwrap().to_string();
    assert_same_figures(&format!("docker://{registry}/{repo}@{digest}"), &[], &env);
    assert_fails(
        &format!("docker://{registry}/{repo}:no-such-tag"),
        &[],
        &env,
        &["no such image", registry],
    );
}

/// The pull cost read from a registry is the same, to the byte, on every run and as
/// from an OCI layout of the same blobs: it must not depend on how the network cuts
/// the download into chunks.
#[test]
fn registry_pull_cost_is_the_layouts_on_every_run() {
    let Some(s) = services() else { return };
    let registry = service(s, "LAYERWASTE_REGISTRY");
    let repo = service(s, "LAYERWASTE_REGISTRY_REPO");
    let empty = tempfile::tempdir().unwrap();
    let env = [("DOCKER_CONFIG", empty.path().to_str().unwrap())];
    let spec = format!("docker://{registry}/{repo}:latest");
    let pull = |spec: &str| -> Value {
        run(spec, &[], &env).expect("analyzes")["summary"]["wasted_pull_bytes"].clone()
    };
    let first = pull(&spec);
    assert!(first.as_u64().is_some_and(|b| b > 0), "{first}");
    for _ in 0..2 {
        assert_eq!(pull(&spec), first);
    }
    let layout = empty.path().join("layout");
    let copied = std::process::Command::new("skopeo")
        .args(["copy", "-q", "--src-tls-verify=false", &spec])
        .arg(format!("oci:{}:latest", layout.display()))
        .status()
        .expect("skopeo runs");
    assert!(copied.success());
    assert_eq!(pull(&format!("oci:{}:latest", layout.display())), first);
}

#[test]
fn registry_with_htpasswd_auth() {
    let Some(s) = services() else { return };
    let registry = service(s, "LAYERWASTE_REGISTRY_AUTH");
    let repo = service(s, "LAYERWASTE_REGISTRY_REPO");
    let spec = format!("docker://{registry}/{repo}:latest");
    let user = service(s, "LAYERWASTE_REGISTRY_USER");
    let good = docker_config(registry, user, service(s, "LAYERWASTE_REGISTRY_PASSWORD"));
    assert_same_figures(
        &spec,
        &[],
        &[("DOCKER_CONFIG", good.path().to_str().unwrap())],
    );
    let empty = tempfile::tempdir().unwrap();
    assert_fails(
        &spec,
        &[],
        &[("DOCKER_CONFIG", empty.path().to_str().unwrap())],
        &["401", registry, "none were sent"],
    );
    let wrong = docker_config(registry, user, "wrong-password");
    assert_fails(
        &spec,
        &[],
        &[("DOCKER_CONFIG", wrong.path().to_str().unwrap())],
        &["401", "refused the credentials"],
    );
}

#[test]
fn docker_data_root() {
    let Some(s) = services() else { return };
    let root = service(s, "LAYERWASTE_DOCKER_ROOT");
    let image = service(s, "LAYERWASTE_SAMPLE_IMAGE");
    let id = service(s, "LAYERWASTE_DOCKER_IMAGE_ID");
    for name in [image, "build-deps-split", &id[7..19]] {
        let r = assert_same_figures(name, &["--docker-root", root], &[]);
        assert_eq!(r["image"]["config_digest"], id);
    }
    assert_fails(
        "no-such-image",
        &["--docker-root", root],
        &[],
        &["no-such-image", "no such image", root],
    );
}

#[test]
fn docker_data_root_that_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(
        dir.path()
            .join("containerd/daemon/io.containerd.content.v1.content/blobs/sha256/ab"),
    )
    .unwrap();
    assert_fails(
        "app",
        &["--docker-root", dir.path().to_str().unwrap()],
        &[],
        &["containerd image store"],
    );
}

// ---- a fake registry, for failures on demand -------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// The layer's bytes differ from its digest (same length).
    Tampered,
    /// The connection closes halfway through the layer.
    Dropped,
    /// Every manifest request gets an error whose body would drive a terminal: CSI
    /// sequences, an OSC title, C1 controls and bidi overrides.
    HostileErrors,
}

/// What a hostile registry puts in its error messages.
const HOSTILE_TEXT: &str = r"denied\u001b[2J\u001b]0;pwned\u0007 \u202eesrever\u2066 \u009b31m red";

struct FakeImage {
    manifest: Vec<u8>,
    /// Blobs by digest: config and layer (and manifests, for an index).
    blobs: HashMap<String, Vec<u8>>,
    top: Vec<u8>,
    top_type: &'static str,
    layer_digest: String,
}

fn fake_image(index_platform: Option<(&str, &str)>) -> FakeImage {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    let content = vec![b'x'; 5000];
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, "data/file", &content[..]).unwrap();
    let layer = b.into_inner().unwrap();
    let digest = |b: &[u8]| layerwaste::source::digest_string("sha256", &Sha256::digest(b));
    let layer_digest = digest(&layer);
    let config = json!({
        "os": "linux", "architecture": "amd64",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created_by": "COPY file /data/file"}],
    })
    .to_string()
    .into_bytes();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": layer.len()}],
    })
    .to_string()
    .into_bytes();
    let mut blobs = HashMap::new();
    blobs.insert(digest(&config), config);
    blobs.insert(layer_digest.clone(), layer);
    let (top, top_type) = match index_platform {
        None => (
            manifest.clone(),
            "application/vnd.oci.image.manifest.v1+json",
        ),
        Some((os, arch)) => (
            json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "digest": digest(&manifest), "size": manifest.len(),
                               "platform": {"os": os, "architecture": arch}}],
            })
            .to_string()
            .into_bytes(),
            "application/vnd.oci.image.index.v1+json",
        ),
    };
    FakeImage {
        manifest,
        blobs,
        top,
        top_type,
        layer_digest,
    }
}

/// Serves `image` as repository `test` on 127.0.0.1, one request per connection, until
/// the test process ends. Returns `host:port`.
fn fake_registry(image: FakeImage, fault: Fault) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let _ = serve(stream, &image, fault);
        }
    });
    address
}

fn serve(mut stream: TcpStream, image: &FakeImage, fault: Fault) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
    let digest = |b: &[u8]| layerwaste::source::digest_string("sha256", &Sha256::digest(b));
    let respond = |stream: &mut TcpStream, status: &str, kind: &str, body: &[u8], sent: usize| {
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: {kind}\r\n\
             Docker-Content-Digest: {}\r\nConnection: close\r\n\r\n",
            body.len(),
            digest(body)
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(&body[..sent])?;
        stream.flush()
    };
    if path == "/v2/" {
        return respond(&mut stream, "200 OK", "application/json", b"{}", 2);
    }
    if let Some(reference) = path.strip_prefix("/v2/test/manifests/") {
        if fault == Fault::HostileErrors {
            let status = if reference == "latest" {
                "403 Forbidden"
            } else {
                "500 Internal Server Error"
            };
            let e = format!(
                r#"{{"errors":[{{"code":"DENIED","message":"{HOSTILE_TEXT}","detail":"{HOSTILE_TEXT}"}}]}}"#
            );
            return respond(
                &mut stream,
                status,
                "application/json",
                e.as_bytes(),
                e.len(),
            );
        }
        let body = if reference == "latest" || reference == digest(&image.top) {
            (&image.top, image.top_type)
        } else if reference == digest(&image.manifest) {
            (
                &image.manifest,
                "application/vnd.oci.image.manifest.v1+json",
            )
        } else {
            let e = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
            return respond(&mut stream, "404 Not Found", "application/json", e, e.len());
        };
        return respond(&mut stream, "200 OK", body.1, body.0, body.0.len());
    }
    if let Some(d) = path.strip_prefix("/v2/test/blobs/") {
        let Some(blob) = image.blobs.get(d) else {
            return respond(&mut stream, "404 Not Found", "text/plain", b"", 0);
        };
        let mut body = blob.clone();
        let mut sent = body.len();
        if d == image.layer_digest {
            match fault {
                Fault::None | Fault::HostileErrors => {}
                // Flip a byte of file content (not of a header), so only the digest
                // can notice.
                Fault::Tampered => body[600] ^= 0xff,
                Fault::Dropped => sent = body.len() / 2,
            }
        }
        // The digest header must describe what a faithful registry would send.
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\
             Connection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(&body[..sent])?;
        stream.flush()?;
        if sent < body.len() {
            // Close without sending the rest: a registry dropping the connection.
            stream.shutdown(std::net::Shutdown::Both)?;
        }
        return Ok(());
    }
    respond(&mut stream, "404 Not Found", "text/plain", b"", 0)
}

#[test]
fn fake_registry_serves_a_good_image() {
    let registry = fake_registry(fake_image(None), Fault::None);
    let r = run(&format!("docker://{registry}/test:latest"), &[], &[])
        .unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(r["summary"]["total_bytes"], 5000);
    // An index is followed to the platform asked for.
    let registry = fake_registry(fake_image(Some(("linux", "arm64"))), Fault::None);
    let r = run(
        &format!("docker://{registry}/test:latest"),
        &["--platform", "linux/arm64"],
        &[],
    )
    .unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(r["summary"]["total_bytes"], 5000);
}

#[test]
fn registry_digest_mismatch_names_the_layer() {
    let image = fake_image(None);
    let layer = image.layer_digest.clone();
    let registry = fake_registry(image, Fault::Tampered);
    assert_fails(
        &format!("docker://{registry}/test:latest"),
        &[],
        &[],
        &["layer 0", &layer, "digest mismatch"],
    );
}

#[test]
fn registry_dropping_the_connection_mid_layer_is_an_error() {
    let image = fake_image(None);
    let layer = image.layer_digest.clone();
    let registry = fake_registry(image, Fault::Dropped);
    assert_fails(
        &format!("docker://{registry}/test:latest"),
        &[],
        &[],
        &["layer 0", &layer],
    );
}

/// A registry's error body reaches stderr escaped: no ESC, no BEL, no C1 control and no
/// bidi override of the body survives into what the terminal receives.
#[test]
fn registry_error_bodies_reach_the_terminal_escaped() {
    let registry = fake_registry(fake_image(None), Fault::HostileErrors);
    let err = assert_fails(&format!("docker://{registry}/test:latest"), &[], &[], &[]);
    assert!(
        err.contains("denied"),
        "the registry's words are kept: {err}"
    );
    for c in err.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}');
        assert!(
            c == '\n' || !(c.is_control() || bidi),
            "raw {:?} on stderr: {err:?}",
            c
        );
    }
    assert!(err.contains("\\x1b[2J"), "shown, not obeyed: {err}");
}

#[test]
fn registry_index_without_the_platform_lists_what_it_has() {
    let registry = fake_registry(fake_image(Some(("linux", "arm64"))), Fault::None);
    assert_fails(
        &format!("docker://{registry}/test:latest"),
        &["--platform", "linux/s390x"],
        &[],
        &["no image for platform linux/s390x", "linux/arm64"],
    );
}

#[test]
fn registry_unreachable_names_the_registry() {
    // A port nothing listens on: bind, note, and close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert_fails(
        &format!("docker://127.0.0.1:{port}/test:latest"),
        &[],
        &[],
        &[&format!("registry 127.0.0.1:{port}"), "Connection refused"],
    );
}

// ---- reasons, which the report does not show yet ------------------------------------

/// Bytes hidden per (adding layer, hiding layer, reason), through the library: the
/// data-root route takes content identity from tar-split's CRC-64, the file route from
/// hashing contents, and `metadata-only` versus `overwritten` must come out the same.
fn reasons(spec: &str, docker_root: Option<&Path>) -> BTreeMap<(u32, u32, &'static str), u64> {
    use layerwaste::model::Replay;
    use layerwaste::progress::Silent;
    use layerwaste::source::{self, LayerSource, Opened, SourceOptions};
    use layerwaste::walk::{self, WalkOptions};
    let options = layerwaste::Options::default();
    let sources = SourceOptions {
        docker_root: docker_root.map(Path::to_path_buf),
        ..Default::default()
    };
    let Opened::Layered(image) = source::open(spec, &options.plan, &sources).unwrap() else {
        panic!("{spec} is not read as a layered image");
    };
    // Hash every content while walking, so the file route needs no second read.
    let walk = WalkOptions {
        hash_plain_layers: true,
        ..options.walk
    };
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let mut replay = Replay::new();
    for layer in &image.layers {
        let index = match layer {
            LayerSource::File(location) => walk::walk_blob(location, &walk, &Silent, &cancel),
            LayerSource::TarSplit { path, .. } => {
                walk::walk_tar_split(path, &walk, &Silent, &cancel)
            }
            LayerSource::Stream { .. } => panic!("not a local source"),
        }
        .unwrap_or_else(|e| panic!("{spec}: {}", e.why));
        replay.apply(&index);
    }
    replay.resolve_comparisons();
    let mut out = BTreeMap::new();
    for c in &replay.contents {
        if let Some(h) = c.hidden {
            *out.entry((c.layer, h.by_layer, h.reason.as_str()))
                .or_default() += c.bytes;
        }
    }
    out
}

#[test]
fn docker_data_root_gives_the_same_reasons_as_the_file() {
    let Some(s) = services() else { return };
    let root = PathBuf::from(service(s, "LAYERWASTE_DOCKER_ROOT"));
    // LAYERWASTE_REASONS_IMAGE=NAME=FILE checks another image loaded into the engine
    // (the benchmark's big one has chmod -R and chown -R steps: metadata-only).
    let (name, file) = match std::env::var("LAYERWASTE_REASONS_IMAGE") {
        Ok(v) => {
            let (n, f) = v.split_once('=').expect("NAME=FILE");
            (n.to_string(), PathBuf::from(f))
        }
        Err(_) => (
            service(s, "LAYERWASTE_SAMPLE_IMAGE").to_string(),
            sample_tar(),
        ),
    };
    let from_file = reasons(file.to_str().unwrap(), None);
    let from_root = reasons(&name, Some(&root));
    assert!(!from_file.is_empty());
    assert_eq!(from_file, from_root);
    eprintln!("{from_root:?}");
}

/// One walker for every route: an image with names that are not UTF-8, a `..` that
/// climbs above the root, whiteouts and a same-content rewrite, loaded into the real
/// engine and read back from its data root, gives the JSON of its `docker save` file.
#[test]
fn docker_data_root_and_save_file_give_identical_json_for_non_utf8_names() {
    use crate::build::{Image, Layer};
    let Some(s) = services() else { return };
    let root = service(s, "LAYERWASTE_DOCKER_ROOT");
    let host = service(s, "LAYERWASTE_DOCKER_HOST");
    let base = Layer::new()
        .dir("opt")
        .entry(
            b"opt/caf\xe9.txt",
            b'0',
            b"",
            b"latin-1 name, 28 bytes long!",
        )
        .entry(b"opt/\xff\xfe/bin", b'0', b"", &[7u8; 3000])
        .file("opt/keep", b"kept")
        .file("../escape", b"clamped into the tree")
        .finish();
    let top = Layer::new()
        .entry(b"opt/.wh.caf\xe9.txt", b'0', b"", b"")
        .entry(b"opt/\xff\xfe/bin", b'0', b"", &[7u8; 3000])
        .file("opt/keep", b"new!")
        .finish();
    let mut image = Image::new(vec![base, top]);
    image.config["history"] = json!([
        {"created_by": "/bin/sh -c #(nop) ADD file:base in /"},
        {"created_by": "/bin/sh -c chmod -R a+r /opt && rm /opt/caf*"},
    ]);
    let mut save = image.docker_save();
    let tag = "layerwaste-test/non-utf8:latest";
    let manifest: Value = serde_json::from_slice(&save.remove("manifest.json")).unwrap();
    let mut manifest = manifest;
    manifest[0]["RepoTags"] = json!([tag]);
    save.set("manifest.json", serde_json::to_vec(&manifest).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("non-utf8.tar");
    std::fs::write(&file, save.tar()).unwrap();
    let load = std::process::Command::new("docker")
        .args(["load", "-q", "-i"])
        .arg(&file)
        .env("DOCKER_HOST", host)
        .output()
        .expect("docker runs");
    assert!(
        load.status.success(),
        "docker load: {}",
        String::from_utf8_lossy(&load.stderr)
    );

    let from_file = run(file.to_str().unwrap(), &[], &[]).expect("the file is analysed");
    let from_root = run(tag, &["--docker-root", root], &[]).expect("the data root is read");
    // The image's own description differs by route (where it was read, the blob
    // digests of a save file); everything the analysis found must not.
    for key in [
        "summary",
        "steps",
        "duplicates",
        "removable",
        "warnings",
        "verdict",
    ] {
        assert_eq!(from_file[key], from_root[key], "{key} differs");
    }
    let paths: Vec<&str> = from_file["steps"][0]["top_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"opt/caf\\xe9.txt"), "{paths:?}");
    assert_eq!(from_file["summary"]["wasted_bytes"], 28 + 3000 + 4);
    let warnings = from_root["warnings"].to_string();
    assert!(
        warnings.contains("'..' climbing above the root"),
        "{warnings}"
    );
}
