//! The JSON report is an API (docs/json.md): these snapshots pin every field of a full
//! report and of a diff, so renaming, removing or retyping a field fails here and forces
//! a `schema_version` decision. Adding a field changes the snapshot too; accept it with
//! `cargo insta review` once docs/json.md describes it.

use serde_json::Value;

use crate::common::*;

/// A report run from the repository root, so `image.source` is the relative path, with
/// the tool's version masked (it changes with every release, the schema does not).
fn report(args: &[&str]) -> Value {
    let out = layerwaste()
        .current_dir(root())
        .args(args)
        .args(["--format", "json", "--quiet"])
        .output()
        .expect("runs");
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    if v["tool"].is_object() {
        v["tool"]["version"] = "[version]".into();
    }
    v
}

#[test]
fn full_report_schema() {
    let v = report(&[
        "analyze",
        "sample-images/build-deps-split/build-deps-split.tar",
        "--dockerfile",
        "sample-images/build-deps-split/Containerfile",
        "--files",
        "--max-wasted",
        "1MB",
        "--base-layers",
        "1",
        "--ignore",
        "var/lib/dpkg/**",
    ]);
    assert_eq!(v["schema_version"], 1);
    insta::assert_json_snapshot!("full_report", v);
}

#[test]
fn diff_schema() {
    let v = report(&[
        "diff",
        "sample-images/build-deps-split/build-deps-split.tar",
        "sample-images/build-deps-joined/build-deps-joined.tar",
        "--fail-on-increase=1MB",
    ]);
    assert_eq!(v["schema_version"], 1);
    insta::assert_json_snapshot!("diff", v);
}
