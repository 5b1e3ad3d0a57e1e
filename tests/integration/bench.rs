//! The benchmark's own pieces (scripts/bench.sh is not part of `cargo test`): the
//! floors and the synthetic-image generator build and run on small images, and the
//! layer cache gives the same report as a fresh walk.

use std::path::PathBuf;
use std::process::Command;

use crate::common::*;

/// An example binary, built by `cargo test` next to the test binaries (or on demand
/// when only this test target was built).
fn example(name: &str) -> PathBuf {
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples");
    let path = dir.join(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--example", name])
            .current_dir(root())
            .status()
            .unwrap();
        assert!(status.success(), "cargo build --example {name}");
    }
    path
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn floors_run_on_a_tiny_image() {
    let image = sample("build-deps-split/build-deps-split.tar");
    let walked = run(Command::new(example("floor_walk")).arg(&image));
    assert!(
        walked.ends_with("layers\n") && !walked.starts_with("0 "),
        "{walked}"
    );
    let inflated = run(Command::new(example("floor_inflate")).arg(&image));
    assert!(inflated.contains(" bytes from "), "{inflated}");
}

#[test]
fn synthetic_images_are_deterministic_and_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.tar"), dir.path().join("b.tar"));
    for path in [&a, &b] {
        run(Command::new(example("gen_synthetic")).arg(path).arg("3000"));
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let walked = run(Command::new(example("floor_walk")).arg(&a));
    let headers: u64 = walked.split(' ').next().unwrap().parse().unwrap();
    assert!((3000..3100).contains(&headers), "{walked}");
    let report = analyze_json(&a, &[]);
    let s = &report["summary"];
    let (total, fin, wasted) = (
        s["total_bytes"].as_u64().unwrap(),
        s["final_bytes"].as_u64().unwrap(),
        s["wasted_bytes"].as_u64().unwrap(),
    );
    assert_eq!(total, fin + wasted);
    assert!(wasted > 0 && fin > 0, "{s}");
}

#[test]
fn the_layer_cache_changes_nothing_but_the_reading() {
    let image = sample("build-deps-split/build-deps-split.tar");
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = cache.path().to_str().unwrap();
    let fresh = analyze_json(&image, &[]);
    let first = analyze_json(&image, &["--cache", cache_arg]);
    let stored = std::fs::read_dir(cache.path()).unwrap().count();
    assert!(stored > 0, "nothing was cached");
    let second = analyze_json(&image, &["--cache", cache_arg]);
    for key in [
        "summary",
        "steps",
        "layers",
        "duplicates",
        "removable",
        "warnings",
    ] {
        assert_eq!(fresh[key], first[key], "{key}, first cached run");
        assert_eq!(fresh[key], second[key], "{key}, run from the cache");
    }
    let names: Vec<String> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| n.ends_with(".lwi")), "{names:?}");
}
