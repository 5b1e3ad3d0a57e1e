//! `--base auto` (and the gate's default): the base image found from the manifest's
//! `org.opencontainers.image.base.*` annotations and proven by its diff IDs, or not
//! at all. One real buildah build on a base pushed to the local registry, and OCI
//! layouts built in code for the same-layout and not-a-prefix cases.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::build::{sha256, Image, Layer};
use crate::common::*;
use crate::sources::{service, services};

fn gate_json(image: &str, extra: &[&str]) -> (i32, Value, String) {
    let out = layerwaste()
        .args(["analyze", image, "--format", "json", "--quiet"])
        .args(extra)
        .output()
        .expect("runs");
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Base: one layer holding `data/x` (100 B); app: a layer overwriting it (so the
/// base's 100 B are wasted, the base's waste) and adding `app/y` (7 B), and one
/// overwriting `app/y` (the app's own 7 B of waste).
fn images() -> (Image, Image) {
    let base_layer = Layer::new().file("data/x", &[b'b'; 100]).finish();
    let app_1 = Layer::new()
        .file("data/x", &[b'a'; 50])
        .file("app/y", b"first!!")
        .finish();
    let app_2 = Layer::new().file("app/y", b"second").finish();
    (
        Image::new(vec![base_layer.clone()]),
        Image::new(vec![base_layer, app_1, app_2]),
    )
}

/// An OCI layout of the app whose manifest names the base, with the base's own
/// manifest and config in the same blobs (as `skopeo copy` of both leaves them).
fn layout_with_base(dir: &Path, base: &Image, app: &Image, name: &str) -> String {
    let base_manifest = serde_json::to_vec(&base.oci_manifest()).unwrap();
    let base_digest = sha256(&base_manifest);
    let mut manifest = app.oci_manifest();
    manifest["annotations"] = json!({
        "org.opencontainers.image.base.name": name,
        "org.opencontainers.image.base.digest": base_digest,
    });
    let mut members = app.oci_with(manifest);
    members.set(&crate::build::blob_name(&base_digest), base_manifest);
    members.set(
        &crate::build::blob_name(&base.config_digest()),
        base.config_bytes(),
    );
    members.write_dir(dir);
    base_digest
}

#[test]
fn the_annotated_base_in_the_same_layout_is_not_gated() {
    let (base, app) = images();
    let dir = tempfile::tempdir().unwrap();
    // A name no engine or registry answers for: only the layout can prove it.
    let digest = layout_with_base(dir.path(), &base, &app, "127.0.0.1:1/nowhere/base:1");
    let image = dir.path().to_str().unwrap();
    let (code, r, stderr) = gate_json(image, &["--max-wasted", "7"]);
    assert_eq!(code, 0, "{stderr}");
    let t = &r["thresholds"];
    assert_eq!(t["base_layers"], 1);
    assert_eq!(t["base_wasted_bytes"], 100);
    assert_eq!(t["counted_wasted_bytes"], 7);
    assert_eq!(t["base"]["found"], "layout");
    assert_eq!(t["base"]["layers"], 1);
    assert_eq!(t["base"]["digest"], digest);
    assert_eq!(t["base"]["name"], "127.0.0.1:1/nowhere/base:1");
    assert!(
        t["base"]["how"].as_str().unwrap().contains(&digest),
        "{}",
        t["base"]["how"]
    );
    // One byte less and the app's own waste crosses it.
    let (code, _, _) = gate_json(image, &["--max-wasted", "6"]);
    assert_eq!(code, 1);
    // --base-layers 0 turns the default off: all 107 B are counted.
    let (code, r, _) = gate_json(image, &["--max-wasted", "7", "--base-layers", "0"]);
    assert_eq!(code, 1);
    assert_eq!(r["thresholds"]["counted_wasted_bytes"], 107);
    // The table says which layers are the base's, and how that is known.
    let out = layerwaste()
        .args([
            "analyze",
            image,
            "--quiet",
            "--color",
            "never",
            "--max-wasted",
            "7",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("base image: steps 0–0, layers 0–0 (not gated), found by layout: "),
        "{table}"
    );
}

#[test]
fn a_base_that_is_not_a_prefix_is_not_proven_and_the_whole_image_is_gated() {
    let (_, app) = images();
    // The annotated base has another layer: its diff IDs are not the app's first.
    let other = Image::new(vec![Layer::new().file("data/x", &[b'z'; 100]).finish()]);
    let dir = tempfile::tempdir().unwrap();
    layout_with_base(dir.path(), &other, &app, "127.0.0.1:1/nowhere/base:1");
    let (code, r, stderr) = gate_json(dir.path().to_str().unwrap(), &["--max-wasted", "7"]);
    assert_eq!(code, 1, "{stderr}");
    let t = &r["thresholds"];
    assert_eq!(t["base_layers"], 0);
    assert_eq!(t["counted_wasted_bytes"], 107);
    assert_eq!(t["base"]["found"], "none");
    // Said in one line, on stderr and in the report's warnings.
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("--base auto"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("no base image could be proven for 127.0.0.1:1/nowhere/base:1"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("are not the first of the image's"),
        "{}",
        warnings[0]
    );
    assert_eq!(r["warnings"].as_array().unwrap().len(), 1);
}

#[test]
fn an_image_naming_no_base_is_gated_whole_and_said_so_only_when_asked() {
    let (_, app) = images();
    let dir = tempfile::tempdir().unwrap();
    app.oci().write_dir(dir.path());
    let image = dir.path().to_str().unwrap();
    // The default: no warning, the report says why nothing was left out.
    let (code, r, stderr) = gate_json(image, &["--max-wasted", "200"]);
    assert_eq!(code, 0);
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_eq!(r["thresholds"]["base"]["found"], "none");
    assert_eq!(r["thresholds"]["counted_wasted_bytes"], 107);
    // Asked for: one line.
    let (_, _, stderr) = gate_json(image, &["--max-wasted", "200", "--base", "auto"]);
    assert_eq!(stderr.matches("--base auto").count(), 1, "{stderr}");
    assert!(stderr.contains("names no base image"), "{stderr}");
    // No limit, no base: no thresholds at all, as before.
    let (_, r, _) = gate_json(image, &[]);
    assert!(r.get("thresholds").is_none());
}

fn buildah(store: &Path, args: &[&str], dir: &Path) {
    let out = Command::new("buildah")
        .arg("--root")
        .arg(store.join("root"))
        .arg("--runroot")
        .arg(store.join("run"))
        .args(["--storage-driver", "vfs"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("buildah runs");
    assert!(
        out.status.success(),
        "buildah {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_real_buildah_build_on_a_registry_base() {
    let Some(s) = services() else { return };
    if Command::new("buildah").arg("--version").output().is_err() {
        skip("buildah is not installed (apt-get install buildah)");
        return;
    }
    let registry = service(s, "LAYERWASTE_REGISTRY");
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path();
    let store = ctx.join("store");
    std::fs::write(ctx.join("x-base"), [b'b'; 100]).unwrap();
    std::fs::write(ctx.join("x-app"), [b'a'; 50]).unwrap();
    std::fs::write(ctx.join("y1"), b"first!!").unwrap();
    std::fs::write(ctx.join("y2"), b"second").unwrap();
    std::fs::write(
        ctx.join("Containerfile.base"),
        "FROM scratch\nCOPY x-base /data/x\nENV PATH=/bin\n",
    )
    .unwrap();
    let base = format!("{registry}/layerwaste-test/base-{}:1", std::process::id());
    std::fs::write(
        ctx.join("Containerfile"),
        format!("FROM {base}\nCOPY x-app /data/x\nCOPY y1 /app/y\nCOPY y2 /app/y\n"),
    )
    .unwrap();
    let local = "localhost/layerwaste-test/base:1";
    buildah(
        &store,
        &[
            "bud",
            "--layers",
            "-f",
            "Containerfile.base",
            "-t",
            local,
            ".",
        ],
        ctx,
    );
    buildah(
        &store,
        &[
            "push",
            "-q",
            "--tls-verify=false",
            local,
            &format!("docker://{base}"),
        ],
        ctx,
    );
    buildah(
        &store,
        &[
            "bud",
            "--layers",
            "--tls-verify=false",
            "-t",
            "localhost/layerwaste-test/app:1",
            ".",
        ],
        ctx,
    );
    let layout = ctx.join("app-oci");
    buildah(
        &store,
        &[
            "push",
            "-q",
            "localhost/layerwaste-test/app:1",
            &format!("oci:{}:latest", layout.display()),
        ],
        ctx,
    );
    let archive = ctx.join("app.tar");
    buildah(
        &store,
        &[
            "push",
            "-q",
            "localhost/layerwaste-test/app:1",
            &format!("docker-archive:{}", archive.display()),
        ],
        ctx,
    );

    // The OCI layout keeps the annotations; the registry proves the base.
    let (code, r, stderr) = gate_json(layout.to_str().unwrap(), &["--max-wasted", "7"]);
    assert_eq!(code, 0, "{stderr}");
    let t = &r["thresholds"];
    assert_eq!(t["base"]["found"], "registry", "{t}");
    assert_eq!(t["base"]["name"], base.as_str());
    assert_eq!(t["base_layers"], 1);
    assert_eq!(t["base_wasted_bytes"], 100);
    assert_eq!(t["counted_wasted_bytes"], 7);
    // docker-archive keeps no annotations: nothing proven, the whole image gated.
    let (code, r, _) = gate_json(archive.to_str().unwrap(), &["--max-wasted", "7"]);
    assert_eq!(code, 1);
    assert_eq!(r["thresholds"]["base"]["found"], "none");
    assert_eq!(r["thresholds"]["counted_wasted_bytes"], 107);
}
