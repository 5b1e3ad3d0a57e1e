//! Issue 3: every wasted byte carries its reason, adder and hider; the report leads
//! with the answer.

use serde_json::{json, Value};

use crate::common::*;

fn step(r: &Value, i: usize) -> &Value {
    &r["steps"][i]
}

#[test]
fn dive_image_reasons_and_removers_match_the_worked_check() {
    let Some(image) = shared_image("test-docker-image.tar") else {
        return;
    };
    let r = analyze_json(&image, &[]);
    // (step, reason, remover) from WASTE-MODEL.md, in history indexes (layer + 1 for
    // layers after the empty CMD step).
    for (i, reason, by) in [
        (4, "metadata-only", 5),
        (5, "deleted-parent", 10),
        (6, "deleted-parent", 10),
        (7, "deleted", 8),
        (8, "metadata-only", 14),
    ] {
        let s = step(&r, i);
        assert_eq!(s["wasted_by_reason"], json!({ reason: 6405 }), "step {i}");
        assert_eq!(s["removed_by"][0]["step"], by, "step {i}");
        assert_eq!(
            s["removed_by"][0]["reasons"],
            json!({ reason: 6405 }),
            "step {i}"
        );
    }
    // Uncompressed layers: no compressed size to estimate a pull cost from.
    assert_eq!(r["summary"]["wasted_pull_bytes"], Value::Null);
    // /somefile.txt and four live copies of it.
    assert_eq!(r["summary"]["duplicate_bytes"], 4 * 6405);
    assert_eq!(r["summary"]["duplicate_files"], 4);
    // `mv` of a file the step before copied in: the same content, stored again.
    assert_eq!(step(&r, 7)["findings"][0]["pattern"], "moved");
    // `chmod +x` of the moved file: only its mode changed.
    assert_eq!(step(&r, 8)["findings"][0]["pattern"], "chmod-copy");
}

#[test]
fn split_sample_explains_the_build_dependency() {
    let r = analyze_json(&sample("build-deps-split/build-deps-split.tar"), &[]);
    let s = step(&r, 3);
    assert_eq!(
        s["wasted_by_reason"],
        json!({"deleted": 1_807_527, "opaque": 3_927, "overwritten": 669})
    );
    assert_eq!(
        s["top_paths"][0],
        json!({
            "path": "usr/bin/go-md2man", "bytes": 1_806_632, "files": 1,
            "removed_by": [5], "reasons": ["deleted"]
        })
    );
    let patterns: Vec<(&str, u64)> = s["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["pattern"].as_str().unwrap(), f["bytes"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        patterns,
        vec![("build-deps", 1_811_454), ("package-database-churn", 669)]
    );
    let explanation = s["explanation"].as_str().unwrap();
    assert!(explanation.starts_with("Build dependencies added then removed: 1.8 MB in 6 files added by step 3, hidden by step 5. Install, use and remove them in one RUN (join step 3 `RUN dpkg -i -F depends /debs/…` and step 5 `RUN dpkg -P -F depends go-md2…`)"), "{explanation}");
    let f = &s["findings"][0];
    assert_eq!(
        f["owner"], "unknown",
        "no base boundary without --base or --dockerfile"
    );
    assert_eq!(f["words"], "build dependencies added then removed");
    assert_eq!(f["example"], "usr/bin/go-md2man");
    let lead = &r["conclusion"]["findings"][0];
    assert_eq!(lead["pattern"], "build-deps");
    assert_eq!(lead["added_by"][0]["step"], 3);
    assert_eq!(lead["hidden_by"][0]["step"], 5);
    assert_eq!(lead["bytes"], 1_811_454);
    assert!(r["verdict"][0]
        .as_str()
        .unwrap()
        .starts_with("1.8 MB of 3.8 MB (47.7%) is wasted"));
}

#[test]
fn pull_cost_comes_from_compressed_layers() {
    let r = analyze_json(
        &sample("build-deps-split/build-deps-split.oci-zstd.tar"),
        &[],
    );
    let pull = r["summary"]["wasted_pull_bytes"].as_u64().unwrap();
    let stored = r["layers"][2]["stored_bytes"].as_u64().unwrap();
    // All of layer 2's file content is wasted; its blob also holds headers of entries
    // that survive and the zstd framing, so the estimate sits a little under the blob.
    assert!(
        pull <= stored && pull > stored * 98 / 100,
        "{pull} vs {stored}"
    );
    assert_eq!(step(&r, 3)["wasted_pull_bytes"], pull);
}

#[test]
fn files_flag_lists_every_wasted_file() {
    let r = analyze_json(
        &sample("build-deps-split/build-deps-split.tar"),
        &["--files"],
    );
    let files = step(&r, 3)["files"].as_array().unwrap();
    assert_eq!(files.len(), 7);
    let sum: u64 = files.iter().map(|f| f["bytes"].as_u64().unwrap()).sum();
    assert_eq!(sum, 1_812_123);
    assert_eq!(
        files[0],
        json!({"path": "usr/bin/go-md2man", "bytes": 1_806_632, "reason": "deleted", "removed_by": 5})
    );
}

#[test]
fn table_leads_with_the_verdict() {
    let out = layerwaste()
        .args(["analyze", "--color", "never"])
        .arg(sample("build-deps-split/build-deps-split.tar"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let verdict = text.find("1.8 MB of 3.8 MB (47.7%) is wasted").unwrap();
    let table = text.find("STEP").unwrap();
    let paths = text.find("Where the wasted bytes are").unwrap();
    assert!(verdict < table && table < paths);
    assert!(text.contains("usr/bin/go-md2man"));
}
