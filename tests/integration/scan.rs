//! `layerwaste scan` and `merge` against the real registry of scripts/services: sample
//! images and generated images that share a base, pushed with `skopeo copy` under a
//! prefix of this test run's own (`scan-test-PID/`), so no other test is disturbed.
//!
//! Generated fleet (`…/gen/app-I`, I = 0..15): base layer B1 holds `data/big` (1000 B)
//! and `data/keep` (10 B); base layer B2 deletes `data/big`; layer A1 of image I holds
//! `app/f` (100 + I bytes), and layer A2, the same in every image, overwrites it with
//! 5 B. So each image wastes 1000 + 100 + I bytes, and the unique layers are B1, B2,
//! A2 and the 15 A1s: 18 layers wasting 1000 + Σ(100 + I).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::build::{gzip, Image, Layer};
use crate::common::*;
use crate::sources::{service, services};

const GENERATED: u64 = 15;

struct Fleet {
    registry: String,
    prefix: String,
    /// The image whose layer blob was deleted from the registry.
    broken: String,
}

fn skopeo_push(from: &str, to: &str) {
    let out = Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false", from, to])
        .output()
        .expect("skopeo runs");
    assert!(
        out.status.success(),
        "skopeo copy {from} {to}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn push_layout(image: &Image, to: &str) {
    let dir = tempfile::tempdir().unwrap();
    image.oci().write_dir(dir.path());
    skopeo_push(&format!("oci:{}", dir.path().display()), to);
}

fn generated(i: u64) -> Image {
    let b1 = Layer::new()
        .file("data/big", &[b'b'; 1000])
        .file("data/keep", &[b'k'; 10])
        .finish();
    let b2 = Layer::new().file("data/.wh.big", b"").finish();
    let a1 = Layer::new()
        .file("app/f", &vec![b'a' + (i % 26) as u8; 100 + i as usize])
        .finish();
    let a2 = Layer::new().file("app/f", b"final").finish();
    Image::new(vec![gzip(&b1), gzip(&b2), gzip(&a1), gzip(&a2)])
}

/// Pushes the fleet once per test run; `None` (after a skip) without the services.
fn fleet() -> Option<&'static Fleet> {
    static FLEET: OnceLock<Option<Fleet>> = OnceLock::new();
    FLEET
        .get_or_init(|| {
            let s = services()?;
            if Command::new("skopeo").arg("--version").output().is_err() {
                skip("skopeo is not installed");
                return None;
            }
            let registry = service(s, "LAYERWASTE_REGISTRY").to_string();
            let prefix = format!("scan-test-{}", std::process::id());
            let at = |repo: &str| format!("docker://{registry}/{prefix}/{repo}");
            let split = sample("build-deps-split/build-deps-split.tar");
            let joined = sample("build-deps-joined/build-deps-joined.tar");
            skopeo_push(
                &format!("docker-archive:{}", split.display()),
                &at("samples/split:latest"),
            );
            // The same image under a second tag.
            skopeo_push(
                &format!("docker-archive:{}", split.display()),
                &at("samples/split:v1"),
            );
            skopeo_push(
                &format!("docker-archive:{}", joined.display()),
                &at("samples/joined:latest"),
            );
            if let Some(dive) = shared_image("test-docker-image.tar") {
                skopeo_push(
                    &format!("docker-archive:{}", dive.display()),
                    &at("samples/dive:latest"),
                );
            }
            if let Some(oci) = shared_image("test-oci-gzip-image.tar") {
                skopeo_push(
                    &format!("oci-archive:{}", oci.display()),
                    &at("samples/oci-gzip:latest"),
                );
            }
            for i in 0..GENERATED {
                push_layout(&generated(i), &at(&format!("gen/app-{i:02}:latest")));
            }
            // A broken image: its own layer's blob is removed from its repository.
            let broken = Image::new(vec![gzip(
                &Layer::new()
                    .file("only/here", format!("{}", std::process::id()).as_bytes())
                    .finish(),
            )]);
            push_layout(&broken, &at("broken/app:latest"));
            let url = format!(
                "http://{registry}/v2/{prefix}/broken/app/blobs/{}",
                broken.blob_digest(0)
            );
            let deleted = Command::new("curl")
                .args(["-sf", "-X", "DELETE", &url])
                .status()
                .expect("curl runs");
            assert!(deleted.success(), "DELETE {url}");
            Some(Fleet {
                broken: format!("docker://{registry}/{prefix}/broken/app:latest"),
                registry,
                prefix,
            })
        })
        .as_ref()
}

struct Scan {
    code: i32,
    lines: Vec<Value>,
    stderr: String,
}

impl Scan {
    fn summary(&self) -> &Value {
        let last = self.lines.last().expect("a summary line");
        assert_eq!(last["type"], "summary", "{last}");
        last
    }

    fn images(&self) -> BTreeMap<String, &Value> {
        self.lines
            .iter()
            .filter(|l| l["type"] == "image")
            .map(|l| (l["reference"].as_str().unwrap().to_string(), l))
            .collect()
    }
}

fn scan(args: &[&str], env: &[(&str, &str)]) -> Scan {
    let out = layerwaste()
        .arg("scan")
        .args(args)
        .arg("--quiet")
        .envs(env.iter().copied())
        .output()
        .expect("runs");
    let lines = parse(&out.stdout);
    Scan {
        code: out.status.code().unwrap_or(-1),
        lines,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn parse(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The summary without the run's read counts, which depend on how the run was cut.
fn without_reads(summary: &Value) -> Value {
    let mut s = summary.clone();
    s.as_object_mut().unwrap().remove("reads");
    s
}

#[test]
fn every_image_matches_analyze_and_a_missing_blob_fails_only_its_image() {
    let Some(f) = fleet() else { return };
    let source = format!("docker://{}/{}", f.registry, f.prefix);
    // Each `analyze` reads the registry afresh (no cache): the pull-cost estimate of a
    // streamed layer does not depend on how the network cut its chunks, so every
    // figure must be equal, the estimate included.
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = cache.path().to_str().unwrap();
    let run = scan(
        &[&source, "--all-tags", "--jobs", "3", "--cache", cache_arg],
        &[],
    );
    assert_eq!(run.summary()["reads"]["layers_from_cache"], 0);
    assert_eq!(run.code, 2, "one image is broken: {}", run.stderr);
    let errors: Vec<&Value> = run.lines.iter().filter(|l| l["type"] == "error").collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["reference"], f.broken.as_str());
    assert!(
        errors[0]["error"].as_str().unwrap().contains("blob"),
        "{}",
        errors[0]
    );
    let images = run.images();
    assert!(images.len() >= 20, "{} images", images.len());
    for (reference, line) in &images {
        let out = layerwaste()
            .args(["analyze", reference, "--format", "json", "--quiet"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{reference}");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let s = &report["summary"];
        for key in [
            "total_bytes",
            "final_bytes",
            "wasted_bytes",
            "wasted_pull_bytes",
        ] {
            assert_eq!(line[key], s[key], "{reference}: {key}");
        }
        assert_eq!(
            line["digest"], report["image"]["manifest_digest"],
            "{reference}"
        );
        let steps: Vec<(&Value, &Value)> = report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (&s["wasted_bytes"], &s["wasted_pull_bytes"]))
            .collect();
        let scanned: Vec<(&Value, &Value)> = line["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (&s["wasted_bytes"], &s["wasted_pull_bytes"]))
            .collect();
        assert_eq!(steps, scanned, "{reference}");
    }
    let summary = run.summary();
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["analysed"].as_u64().unwrap() as usize, images.len());
    // Two tags of one image: one digest.
    assert_eq!(
        summary["distinct_digests"].as_u64().unwrap() as usize,
        images.len() - 1
    );
}

#[test]
fn unique_layer_and_per_image_totals_match_a_hand_count() {
    let Some(f) = fleet() else { return };
    let run = scan(&[&format!("docker://{}/{}/gen", f.registry, f.prefix)], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.summary();
    let own: u64 = (0..GENERATED).map(|i| 100 + i).sum();
    assert_eq!(s["images"], GENERATED);
    assert_eq!(s["wasted"]["per_image_bytes"], 1000 * GENERATED + own);
    assert_eq!(s["wasted"]["unique_layers"], GENERATED + 3);
    assert_eq!(s["wasted"]["unique_layer_bytes"], 1000 + own);
    let top = &s["layers"][0];
    assert_eq!(top["image_count"], GENERATED);
    assert_eq!(top["wasted_bytes"], 1000);
    assert_eq!(top["wasted_in_every_image"], 1000);
    assert_eq!(top["fleet_wasted_bytes"], 1000 * GENERATED);
    assert_eq!(top["digest"], generated(0).label(0).as_str());
}

#[test]
fn merged_shards_equal_one_run() {
    let Some(f) = fleet() else { return };
    let source = format!("docker://{}/{}", f.registry, f.prefix);
    // One layer cache for all runs, as shards share one (docs/fleet.md), so each layer
    // is read once over all the runs.
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = cache.path().to_str().unwrap();
    let whole = scan(&[&source, "--all-tags", "--cache", cache_arg], &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut count = 0;
    for k in 1..=3 {
        let file = dir.path().join(format!("shard-{k}.ndjson"));
        let file_arg = file.to_str().unwrap().to_string();
        let shard = format!("{k}/3");
        let index = (k - 1).to_string();
        // Shard 2 from JOB_COMPLETION_INDEX (0-based), as an Indexed Job runs it.
        let run = if k == 2 {
            scan(
                &[
                    &source,
                    "--all-tags",
                    "--shard",
                    "3",
                    "--output",
                    &file_arg,
                    "--cache",
                    cache_arg,
                ],
                &[("JOB_COMPLETION_INDEX", &index)],
            )
        } else {
            scan(
                &[
                    &source,
                    "--all-tags",
                    "--shard",
                    &shard,
                    "--output",
                    &file_arg,
                    "--cache",
                    cache_arg,
                ],
                &[],
            )
        };
        assert_eq!(parse(&std::fs::read(&file).unwrap()), run.lines);
        count += run.lines.len() - 1;
        files.push(file);
    }
    assert_eq!(
        count,
        whole.lines.len() - 1,
        "the shards cover every image once"
    );
    let out = layerwaste().arg("merge").args(&files).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "the broken image is in one shard"
    );
    let merged = parse(&out.stdout);
    assert_eq!(merged.len(), 1);
    assert_eq!(without_reads(&merged[0]), without_reads(whole.summary()));
    // For people: the same summary, escaped, in both renderings.
    for (format, needle) in [
        ("markdown", "# layerwaste fleet summary"),
        ("html", "<!DOCTYPE html>"),
    ] {
        let out = layerwaste()
            .arg("merge")
            .args(&files)
            .args(["--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with(needle), "{text}");
        assert!(text.contains("broken/app"), "{text}");
    }
}

#[test]
fn a_second_run_with_the_cache_reads_no_layer_again() {
    let Some(f) = fleet() else { return };
    let source = format!("docker://{}/{}/gen", f.registry, f.prefix);
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = cache.path().to_str().unwrap();
    let reads = |run: &Scan| {
        let r = &run.summary()["reads"];
        (
            r["layers_read"].as_u64().unwrap(),
            r["layers_from_cache"].as_u64().unwrap(),
            r["layers_shared"].as_u64().unwrap(),
        )
    };
    let unique = GENERATED + 3;
    let occurrences = GENERATED * 4;
    let first = scan(&[&source, "--cache", cache_arg, "--jobs", "4"], &[]);
    assert_eq!(reads(&first), (unique, 0, occurrences - unique));
    let second = scan(&[&source, "--cache", cache_arg, "--jobs", "4"], &[]);
    assert_eq!(reads(&second), (0, unique, occurrences - unique));
    assert_eq!(
        without_reads(first.summary()),
        without_reads(second.summary())
    );
}

#[test]
fn resume_skips_what_an_earlier_run_did_and_lists_are_read() {
    let Some(f) = fleet() else { return };
    let source = format!("docker://{}/{}/gen", f.registry, f.prefix);
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = cache.path().to_str().unwrap();
    let whole = scan(&[&source, "--cache", cache_arg], &[]);
    let dir = tempfile::tempdir().unwrap();
    let earlier = dir.path().join("earlier.ndjson");
    let kept: Vec<String> = whole.lines[..5].iter().map(|l| l.to_string()).collect();
    std::fs::write(&earlier, kept.join("\n")).unwrap();
    let resumed = scan(
        &[
            &source,
            "--resume",
            earlier.to_str().unwrap(),
            "--cache",
            cache_arg,
        ],
        &[],
    );
    assert_eq!(resumed.lines.len() as u64, GENERATED - 5 + 1);
    assert_eq!(
        without_reads(resumed.summary()),
        without_reads(whole.summary())
    );

    // --from: references of any form, comments and blank lines skipped, `-` is stdin.
    let list = format!(
        "# two files and one registry image\n{}\n\n{}\ndocker://{}/{}/gen/app-00:latest\n",
        sample("build-deps-split/build-deps-split.tar").display(),
        sample("build-deps-joined/build-deps-joined.tar").display(),
        f.registry,
        f.prefix
    );
    let out = layerwaste()
        .args(["scan", "--from", "-", "--quiet", "--max-wasted", "1"])
        .write_stdin(list)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "two images are over a 1-byte gate"
    );
    let lines = parse(&out.stdout);
    assert_eq!(lines.len(), 4);
    let summary = lines.last().unwrap();
    // build-deps-joined wastes nothing.
    assert_eq!(
        summary["over_gate"].as_array().unwrap().len(),
        2,
        "{summary}"
    );
    let split = lines
        .iter()
        .find(|l| {
            l["reference"]
                .as_str()
                .is_some_and(|r| r.ends_with("split.tar"))
        })
        .unwrap();
    let report = analyze_json(Path::new(split["reference"].as_str().unwrap()), &[]);
    assert_eq!(split["wasted_bytes"], report["summary"]["wasted_bytes"]);
    assert!(split["findings"][0]["fix"]
        .as_str()
        .is_some_and(|f| !f.is_empty()));
}

/// The figures of the split sample, as `analyze` of the file gives them.
fn split_figures() -> (Value, Value) {
    let r = analyze_json(&sample("build-deps-split/build-deps-split.tar"), &[]);
    (
        r["summary"]["total_bytes"].clone(),
        r["summary"]["wasted_bytes"].clone(),
    )
}

/// `docker-daemon:` lists every tagged image of the real engine at `DOCKER_HOST`; the
/// sample that start.sh loaded into it has the file's figures. Other tests leave broken
/// images in the engine: those get error lines (exit 2) and the rest still succeed.
#[test]
fn every_image_of_the_engine_is_scanned() {
    let Some(s) = services() else { return };
    let host = service(s, "LAYERWASTE_DOCKER_HOST");
    let image = service(s, "LAYERWASTE_SAMPLE_IMAGE");
    let run = scan(&["docker-daemon:"], &[("DOCKER_HOST", host)]);
    let images = run.images();
    let line = images
        .get(&format!("docker-daemon:{image}"))
        .unwrap_or_else(|| panic!("no line for {image}: {:?}\n{}", images.keys(), run.stderr));
    let (total, wasted) = split_figures();
    assert_eq!(
        (&line["total_bytes"], &line["wasted_bytes"]),
        (&total, &wasted)
    );
    let errors = run.lines.iter().filter(|l| l["type"] == "error").count();
    assert_eq!(run.code, if errors > 0 { 2 } else { 0 }, "{}", run.stderr);
    assert_eq!(run.summary()["type"], "summary");
}

/// `containerd:NAMESPACE` lists the images of one namespace of the real containerd at
/// `CONTAINERD_ADDRESS`.
#[test]
fn every_image_of_a_containerd_namespace_is_scanned() {
    let Some(s) = services() else { return };
    let Some(address) = s.get("LAYERWASTE_CONTAINERD_ADDRESS") else {
        skip("services.env names no containerd (scripts/services/containerd.sh)");
        return;
    };
    let image = service(s, "LAYERWASTE_CONTAINERD_IMAGE");
    let run = scan(&["containerd:default"], &[("CONTAINERD_ADDRESS", address)]);
    let images = run.images();
    let (total, wasted) = split_figures();
    let ours: Vec<&&Value> = images
        .iter()
        .filter(|(r, _)| r.starts_with(&format!("containerd://default/{image}:")))
        .map(|(_, l)| l)
        .collect();
    assert!(
        !ours.is_empty(),
        "no line for {image}: {:?}\n{}",
        images.keys(),
        run.stderr
    );
    for line in ours {
        assert_eq!(
            (&line["total_bytes"], &line["wasted_bytes"]),
            (&total, &wasted),
            "{line}"
        );
    }
    assert!(
        images
            .keys()
            .all(|r| r.starts_with("containerd://default/")),
        "one namespace only: {:?}",
        images.keys()
    );
}
