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

/// docs/json.md's example is an excerpt of the real report of the split sample: every
/// field it shows has the value the tool gives (the version aside), so the doc cannot
/// drift from the output. `scripts/refresh-doc-output.py` rewrites it.
#[test]
fn the_json_doc_example_is_real() {
    let doc = std::fs::read_to_string(root().join("docs/json.md")).expect("docs/json.md");
    let at = doc.find("## Example").expect("an example section");
    let start = doc[at..].find("```json\n").expect("a json block") + at + "```json\n".len();
    let end = doc[start..].find("\n```").expect("its end") + start;
    let shown: Value = serde_json::from_str(&doc[start..end]).expect("the example is JSON");
    let mut real = report(&[
        "analyze",
        "sample-images/build-deps-split/build-deps-split.tar",
    ]);
    real["tool"]["version"] = shown["tool"]["version"].clone();
    for (key, value) in shown.as_object().expect("an object") {
        match key.as_str() {
            // The excerpt keeps some steps and layers: each must be the real one.
            "steps" | "layers" => {
                for item in value.as_array().expect("an array") {
                    let real_item = real[key]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|r| r["index"] == item["index"])
                        .expect("the same index");
                    assert_eq!(item, real_item, "docs/json.md: {key}[{}]", item["index"]);
                }
            }
            _ => assert_eq!(value, &real[key], "docs/json.md: {key}"),
        }
    }
}
