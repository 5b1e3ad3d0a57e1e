//! Images read where they live (issue 16): containerd through its API and offline from
//! its root, and containers/storage (overlay and vfs). Each gives the same `summary`
//! and `steps` as the image's docker-save file. The stores are real: a private
//! containerd and containers/storage roots made by scripts/services/containerd.sh
//! (called by start.sh), whose endpoints are in services.env. Without them these tests
//! skip with a message, unless LAYERWASTE_REQUIRE_SERVICES=1 (CI), where they fail.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::*;

fn reference() -> &'static (Value, Value) {
    static FIGURES: OnceLock<(Value, Value)> = OnceLock::new();
    FIGURES.get_or_init(|| {
        figures(&analyze_json(
            &sample("build-deps-split/build-deps-split.tar"),
            &[],
        ))
    })
}

/// services.env's `LAYERWASTE_CONTAINERD_*` / `LAYERWASTE_STORAGE_*` entries, or
/// `None` after a skip message.
fn stores() -> Option<&'static HashMap<String, String>> {
    static STORES: OnceLock<Option<HashMap<String, String>>> = OnceLock::new();
    let loaded = STORES.get_or_init(|| {
        let path = std::env::var_os("LAYERWASTE_SERVICES_ENV")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("LAYERWASTE_SERVICES_DIR")
                    .map(|d| PathBuf::from(d).join("services.env"))
            })
            .unwrap_or_else(|| root().join("target/services/services.env"));
        let text = std::fs::read_to_string(path).ok()?;
        let map: HashMap<String, String> = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        map.contains_key("LAYERWASTE_CONTAINERD_ADDRESS")
            .then_some(map)
    });
    if loaded.is_none() {
        skip("containerd and containers/storage are not set up (scripts/services/start.sh)");
    }
    loaded.as_ref()
}

fn get<'a>(s: &'a HashMap<String, String>, key: &str) -> &'a str {
    s.get(key)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("{key} is missing from services.env"))
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Value, (i32, String)> {
    let mut cmd = layerwaste();
    cmd.arg("analyze")
        .args(args)
        .args(["--format", "json", "--quiet"])
        .env_remove("CONTAINERD_ADDRESS");
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

fn assert_same(args: &[&str], env: &[(&str, &str)]) -> Value {
    let report =
        run(args, env).unwrap_or_else(|(code, err)| panic!("{args:?} exited {code}: {err}"));
    assert_eq!(
        &figures(&report),
        reference(),
        "{args:?} gives other figures"
    );
    report
}

/// The one line of stderr of a run that must fail with exit 2.
fn failure(args: &[&str], env: &[(&str, &str)]) -> String {
    match run(args, env) {
        Ok(_) => panic!("{args:?} succeeded but should fail"),
        Err((code, err)) => {
            assert_eq!(code, 2, "{args:?}: {err}");
            err.trim_end().to_string()
        }
    }
}

const IMAGE: &str = "localhost/layerwaste-sample/build-deps-split";

#[test]
fn containerd_offline_reads_both_namespaces_and_both_archive_kinds() {
    let Some(s) = stores() else { return };
    let root = get(s, "LAYERWASTE_CONTAINERD_ROOT");
    for ns in ["default", "moby"] {
        for tag in ["latest", "oci-gzip"] {
            let spec = format!("containerd://{ns}/{IMAGE}:{tag}");
            let r = assert_same(&["--containerd-root", root, &spec], &[]);
            assert_eq!(r["image"]["tags"][0], format!("{IMAGE}:{tag}"));
        }
    }
    // A bare name is in `default`, with the implicit :latest.
    let r = assert_same(&["--containerd-root", root, IMAGE], &[]);
    assert_eq!(r["image"]["format"], "oci");
    // The store keeps gzip blobs as pulled: the pull cost is the real one.
    let gz = run(
        &["--containerd-root", root, &format!("moby/{IMAGE}:oci-gzip")],
        &[],
    )
    .unwrap();
    assert!(gz["summary"]["wasted_pull_bytes"].as_u64().unwrap() > 0);
}

/// A copy of the containerd root's two parts the offline reader needs.
fn copy_root(root: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(root.join("io.containerd.metadata.v1.bolt"))
        .arg(root.join("io.containerd.content.v1.content"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

fn manifest_digest(root: &str, spec: &str) -> String {
    let r = run(&["--containerd-root", root, spec], &[]).unwrap();
    r["image"]["manifest_digest"].as_str().unwrap().to_string()
}

#[test]
fn containerd_offline_bad_input_exits_2_with_the_reason() {
    let Some(s) = stores() else { return };
    let root = get(s, "LAYERWASTE_CONTAINERD_ROOT");
    let copy = copy_root(Path::new(root));
    let croot = copy.path().to_str().unwrap().to_string();
    let at = format!("containerd root {croot}");

    // A name that is only in another namespace: where it is, and close names here.
    let err = failure(
        &[
            "--containerd-root",
            &croot,
            "localhost/layerwaste-sample/only-moby",
        ],
        &[],
    );
    assert_eq!(
        err,
        format!(
            "layerwaste: error: localhost/layerwaste-sample/only-moby: {at}: no image \
             localhost/layerwaste-sample/only-moby in namespace default; namespace moby has it \
             (containerd://moby/localhost/layerwaste-sample/only-moby); close names in default: \
             {IMAGE}:latest, {IMAGE}:oci-gzip"
        )
    );
    // A typo: close names, nearest first (other images of the store may follow).
    let err = failure(
        &[
            "--containerd-root",
            &croot,
            &format!("moby/{IMAGE}:oci-gzi"),
        ],
        &[],
    );
    assert!(
        err.starts_with(&format!(
            "layerwaste: error: moby/{IMAGE}:oci-gzi: {at}: no image {IMAGE}:oci-gzi in \
             namespace moby; close names in moby: {IMAGE}:oci-gzip, {IMAGE}:latest"
        )),
        "{err}"
    );

    // A layer blob gone (discard_unpacked_layers): which one, and how to get it back.
    let spec = format!("moby/{IMAGE}:oci-gzip");
    let manifest = manifest_digest(&croot, &spec);
    let blobs = copy
        .path()
        .join("io.containerd.content.v1.content/blobs/sha256");
    let manifest_doc: Value =
        serde_json::from_slice(&std::fs::read(blobs.join(&manifest[7..])).unwrap()).unwrap();
    let layer = manifest_doc["layers"][2]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let aside = copy.path().join("aside");
    std::fs::rename(blobs.join(&layer[7..]), &aside).unwrap();
    let err = failure(&["--containerd-root", &croot, &spec], &[]);
    assert_eq!(
        err,
        format!(
            "layerwaste: error: {spec}: {at}: blob {layer} (named by {manifest}) is not in the \
             content store; containerd drops layer blobs after unpacking when \
             discard_unpacked_layers is set, and an interrupted pull leaves them out: fetch it \
             again with `ctr -n moby content fetch {IMAGE}:oci-gzip`, or pull the image again"
        )
    );
    std::fs::rename(&aside, blobs.join(&layer[7..])).unwrap();

    // A config blob whose bytes are not its digest.
    let config = manifest_doc["config"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let path = blobs.join(&config[7..]);
    let good = std::fs::read(&path).unwrap();
    let mut bad = good.clone();
    let last = bad.len() - 2;
    bad[last] ^= 0x20;
    std::fs::write(&path, &bad).unwrap();
    let err = failure(&["--containerd-root", &croot, &spec], &[]);
    assert!(
        err.starts_with(&format!(
            "layerwaste: error: {spec}: blobs/sha256/{}: digest mismatch: expected {config}, found sha256:",
            &config[7..]
        )),
        "{err}"
    );
    std::fs::write(&path, &good).unwrap();

    // meta.db cut short, and with both meta pages damaged.
    let db = copy.path().join("io.containerd.metadata.v1.bolt/meta.db");
    let bytes = std::fs::read(&db).unwrap();
    std::fs::write(&db, &bytes[..3 * 4096 + 10]).unwrap();
    let err = failure(&["--containerd-root", &croot, IMAGE], &[]);
    let claimed = u64::from_le_bytes(bytes[16 + 40..16 + 48].try_into().unwrap());
    let other = u64::from_le_bytes(bytes[4096 + 16 + 40..4096 + 16 + 48].try_into().unwrap());
    assert!(
        err == format!(
            "layerwaste: error: {IMAGE}: {at}: {}: the database claims {} pages but the file \
             holds 3 (truncated?)",
            db.display(),
            claimed.max(other)
        ) || err.contains("past the end of the file (truncated?)"),
        "{err}"
    );
    let mut torn = bytes.clone();
    torn[16 + 50] ^= 1;
    torn[4096 + 16 + 50] ^= 1;
    std::fs::write(&db, &torn).unwrap();
    let err = failure(&["--containerd-root", &croot, IMAGE], &[]);
    assert_eq!(
        err,
        format!(
            "layerwaste: error: {IMAGE}: {at}: {}: not a valid bbolt database: meta page 0: \
             checksum mismatch; meta page 1: checksum mismatch",
            db.display()
        )
    );
    std::fs::remove_file(&db).unwrap();
    let err = failure(&["--containerd-root", &croot, IMAGE], &[]);
    assert!(
        err.ends_with("(is this a containerd root, e.g. /var/lib/containerd or /var/lib/docker/containerd/daemon?)"),
        "{err}"
    );
}

#[test]
fn containerd_api_reads_both_namespaces_and_both_archive_kinds() {
    let Some(s) = stores() else { return };
    let socket = get(s, "LAYERWASTE_CONTAINERD_ADDRESS");
    for ns in ["default", "moby"] {
        for tag in ["latest", "oci-gzip"] {
            let spec = format!("containerd://{ns}/{IMAGE}:{tag}");
            let r = assert_same(&["--containerd-address", socket, &spec], &[]);
            assert_eq!(r["image"]["tags"][0], format!("{IMAGE}:{tag}"));
            assert_eq!(r["image"]["source"], spec);
        }
    }
    // The socket from the environment, the namespace left out (`default`).
    assert_same(
        &[&format!("containerd://{IMAGE}")],
        &[("CONTAINERD_ADDRESS", &format!("unix://{socket}"))],
    );
    // --platform goes through the same choice as any OCI index; a single manifest
    // without platform information fits any request, as in a layout.
    assert_same(
        &[
            "--containerd-address",
            socket,
            "--platform",
            "linux/amd64",
            &format!("containerd://{IMAGE}"),
        ],
        &[],
    );
}

#[test]
fn containerd_api_and_offline_agree_on_a_missing_blob() {
    let Some(s) = stores() else { return };
    let socket = get(s, "LAYERWASTE_CONTAINERD_ADDRESS");
    let root = get(s, "LAYERWASTE_CONTAINERD_ROOT");
    let spec = format!("containerd://broken/{IMAGE}");
    let why = |at: &str| {
        format!(
            "layerwaste: error: {spec}: {at}: blob \
             sha256:be94b1e06b40070e2e97feaa95da7010492b7e6a15a882de9c94defde8708aec (named by \
             sha256:2074e035a8f3fc73a1b95b206ec3b80f8bbd3f1f6301f59005d352ba0f5e2691) is not in \
             the content store; containerd drops layer blobs after unpacking when \
             discard_unpacked_layers is set, and an interrupted pull leaves them out: fetch it \
             again with `ctr -n broken content fetch {IMAGE}:latest`, or pull the image again"
        )
    };
    assert_eq!(
        failure(&["--containerd-address", socket, &spec], &[]),
        why(&format!("containerd at {socket}"))
    );
    assert_eq!(
        failure(&["--containerd-root", root, &spec], &[]),
        why(&format!("containerd root {root}"))
    );
}

#[test]
fn containerd_api_bad_input_exits_2_with_the_reason() {
    let Some(s) = stores() else { return };
    let socket = get(s, "LAYERWASTE_CONTAINERD_ADDRESS");
    let at = format!("containerd at {socket}");
    let only = "containerd://localhost/layerwaste-sample/only-moby";
    assert_eq!(
        failure(&["--containerd-address", socket, only], &[]),
        format!(
            "layerwaste: error: {only}: {at}: no image localhost/layerwaste-sample/only-moby in \
             namespace default; namespace moby has it \
             (containerd://moby/localhost/layerwaste-sample/only-moby); close names in default: \
             {IMAGE}:latest, {IMAGE}:oci-gzip"
        )
    );
    // No socket there; a socket nobody listens on.
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("c.sock");
    let gone_s = gone.to_str().unwrap();
    assert_eq!(
        failure(&["--containerd-address", gone_s, "containerd://x"], &[]),
        format!(
            "layerwaste: error: containerd://x: containerd at {gone_s}: cannot connect to \
             {gone_s}: No such file or directory (os error 2) (is containerd running? name its \
             socket with --containerd-address or CONTAINERD_ADDRESS; with no daemon, read its \
             root with --containerd-root DIR)"
        )
    );
    drop(std::os::unix::net::UnixListener::bind(&gone).unwrap());
    assert_eq!(
        failure(&["--containerd-address", gone_s, "containerd://x"], &[]),
        format!(
            "layerwaste: error: containerd://x: containerd at {gone_s}: cannot connect to \
             {gone_s}: Connection refused (os error 111) (nothing listens there: is containerd \
             running?)"
        )
    );
    // Escaped: a name with a control character comes back as `\x1b`.
    let err = failure(
        &[
            "--containerd-address",
            socket,
            "containerd://moby/a\x1b[31m",
        ],
        &[],
    );
    assert!(err.contains("a\\x1b[31m") && !err.contains('\x1b'), "{err}");
}

#[test]
fn containers_storage_overlay_and_vfs_give_the_docker_save_figures() {
    let Some(s) = stores() else { return };
    let mut drivers = vec!["VFS"];
    if s.contains_key("LAYERWASTE_STORAGE_OVERLAY") {
        drivers.push("OVERLAY");
    } else {
        skip("overlay containers/storage could not be made here (see cstore/overlay.log)");
    }
    for driver in drivers {
        let root = get(s, &format!("LAYERWASTE_STORAGE_{driver}"));
        let run_root = get(s, &format!("LAYERWASTE_STORAGE_{driver}_RUN"));
        let d = driver.to_ascii_lowercase();
        let spec = format!("containers-storage:[{d}@{root}+{run_root}]{IMAGE}:latest");
        let r = assert_same(&[&spec], &[]);
        assert_eq!(r["image"]["tags"][0], format!("{IMAGE}:latest"));
        // Without the driver and run root; and as --storage-root with a bare name.
        assert_same(&[&format!("containers-storage:[{root}]{IMAGE}")], &[]);
        assert_same(&["--storage-root", root, IMAGE], &[]);
        // By image ID prefix.
        assert_same(&["--storage-root", root, "364ffdae9de0"], &[]);
    }
}

#[test]
fn containers_storage_bad_input_exits_2_with_the_reason() {
    let Some(s) = stores() else { return };
    let root = get(s, "LAYERWASTE_STORAGE_VFS");
    let copy = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{root}/."))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    let croot = copy.path().to_str().unwrap();
    let at = format!("containers-storage vfs@{croot}");

    let err = failure(&["--storage-root", croot, "build-deps-splt"], &[]);
    assert_eq!(
        err,
        format!(
            "layerwaste: error: build-deps-splt: containers-storage {croot}: no image \
             build-deps-splt in vfs@{croot}; close names: {IMAGE}:latest"
        )
    );
    let layers: Value =
        serde_json::from_slice(&std::fs::read(copy.path().join("vfs-layers/layers.json")).unwrap())
            .unwrap();
    // layers.json lists the base layer first here; find the one with no parent.
    let base = layers
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l.get("parent").is_none())
        .unwrap();
    let id = base["id"].as_str().unwrap();
    let diff = base["diff-digest"].as_str().unwrap();
    let split = copy.path().join(format!("vfs-layers/{id}.tar-split.gz"));
    let aside = copy.path().join("aside");
    std::fs::rename(&split, &aside).unwrap();
    assert_eq!(
        failure(&["--storage-root", croot, IMAGE], &[]),
        format!(
            "layerwaste: error: {IMAGE}: {at}: layer 0 ({diff}): {} is missing, so its tar \
             headers are not known; export the image instead (`podman save NAME | layerwaste \
             analyze -`)",
            split.display()
        )
    );
    std::fs::rename(&aside, &split).unwrap();
    // A tar-split cut short is a layer error, not a smaller number.
    let bytes = std::fs::read(&split).unwrap();
    std::fs::write(&split, &bytes[..bytes.len() / 2]).unwrap();
    let err = failure(&["--storage-root", croot, IMAGE], &[]);
    assert!(err.contains(&format!("layer 0 ({diff})")), "{err}");
    std::fs::write(&split, &bytes).unwrap();
    // The layer's files gone.
    let dir = copy.path().join("vfs/dir").join(id);
    std::fs::rename(&dir, &aside).unwrap();
    assert_eq!(
        failure(&["--storage-root", croot, IMAGE], &[]),
        format!(
            "layerwaste: error: {IMAGE}: {at}: layer 0 ({diff}): its files are gone ({} is \
             missing); pull the image again",
            dir.display()
        )
    );
    std::fs::rename(&aside, &dir).unwrap();
    // A config whose bytes are not the image ID.
    use std::io::Write as _;
    let images = copy.path().join("vfs-images");
    let config = std::fs::read_dir(
        images.join("364ffdae9de0808c60a706533438cadfa4410ede6c34f523e93b409f8fc352d3"),
    )
    .unwrap()
    .map(|e| e.unwrap().path())
    .find(|p| {
        p.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("=c2hh")
    })
    .unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&config)
        .unwrap()
        .write_all(b" ")
        .unwrap();
    let err = failure(&["--storage-root", croot, IMAGE], &[]);
    assert!(
        err.starts_with(&format!(
            "layerwaste: error: {IMAGE}: 364ffdae9de0808c60a706533438cadfa4410ede6c34f523e93b409f8fc352d3.json: digest mismatch"
        )),
        "{err}"
    );
    // images.json damaged.
    std::fs::write(images.join("images.json"), b"[{\"id\": 3").unwrap();
    let err = failure(&["--storage-root", croot, IMAGE], &[]);
    assert!(
        err.starts_with(&format!(
            "layerwaste: error: {IMAGE}: {at}: {}: not valid:",
            images.join("images.json").display()
        )),
        "{err}"
    );
}

/// An engine that only answers `/version` and `/info`, saying its images are in the
/// containerd at `containerd`: no dockerd here is new enough (Docker 24+) to run on
/// the containerd snapshotter, so the engine's side is played, the containerd is real.
fn fake_engine(dir: &Path, containerd: &str, driver_type: &str) -> PathBuf {
    use std::io::{BufRead, BufReader, Write};
    let sock = dir.join("docker.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let info = serde_json::json!({
        "Driver": if driver_type.is_empty() { "overlay2" } else { "overlayfs" },
        "DriverStatus": [["driver-type", driver_type]],
        "Containerd": {"Address": containerd, "Namespaces": {"Containers": "moby", "Plugins": "plugins.moby"}},
    })
    .to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let info = info.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                    }
                    let (status, body) = if path.ends_with("/version") {
                        (
                            "200 OK",
                            r#"{"ApiVersion":"1.47","Version":"27.0.0"}"#.to_string(),
                        )
                    } else if path.ends_with("/info") {
                        ("200 OK", info.clone())
                    } else {
                        ("404 Not Found", r#"{"message":"not here"}"#.to_string())
                    };
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                }
            });
        }
    });
    sock
}

#[test]
fn an_engine_on_the_containerd_store_is_read_through_containerd() {
    let Some(s) = stores() else { return };
    let socket = get(s, "LAYERWASTE_CONTAINERD_ADDRESS");
    let dir = tempfile::tempdir().unwrap();
    let engine = fake_engine(dir.path(), socket, "io.containerd.snapshotter.v1");
    let host = format!("unix://{}", engine.display());
    let mut cmd = layerwaste();
    let out = cmd
        .args(["analyze", "-v", &format!("docker-daemon:{IMAGE}:oci-gzip")])
        .args(["--format", "json", "--quiet"])
        .env("DOCKER_HOST", &host)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "layerwaste: the engine uses the containerd image store: reading through containerd \
             at {socket}, namespace moby, with no export"
        )
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(&figures(&report), reference());
    assert_eq!(report["image"]["tags"][0], format!("{IMAGE}:oci-gzip"));
    // A bare name too, and without -v nothing is said.
    let r = assert_same(&[IMAGE], &[("DOCKER_HOST", &host)]);
    assert_eq!(r["image"]["format"], "oci");
}

#[test]
fn a_classic_engine_is_exported_and_says_so() {
    let Some(_) = stores() else { return };
    let dir = tempfile::tempdir().unwrap();
    let engine = fake_engine(dir.path(), "/nonexistent.sock", "");
    let out = layerwaste()
        .args(["analyze", "-v", "docker-daemon:some/image", "--quiet"])
        .env("DOCKER_HOST", format!("unix://{}", engine.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(
            "layerwaste: the engine stores images with the overlay2 storage driver, not in \
             containerd; exporting them (docker save)\n"
        ),
        "{stderr}"
    );
    // On the containerd store but with a socket that cannot be opened: the export.
    let dir2 = tempfile::tempdir().unwrap();
    let engine = fake_engine(
        dir2.path(),
        "/nonexistent.sock",
        "io.containerd.snapshotter.v1",
    );
    let out = layerwaste()
        .args(["analyze", "-v", "docker-daemon:some/image", "--quiet"])
        .env("DOCKER_HOST", format!("unix://{}", engine.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "layerwaste: the engine uses the containerd image store, but its socket \
             /nonexistent.sock cannot be opened (No such file or directory (os error 2)); \
             exporting instead\n"
        ),
        "{stderr}"
    );
}
