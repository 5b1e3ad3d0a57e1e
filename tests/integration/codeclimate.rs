//! `--format codeclimate` end to end: GitLab's code-quality report of the
//! build-deps-split sample, to the byte, and the same fingerprints when the image is
//! read in another form or under another name.

use serde_json::Value;

use crate::common::*;

fn run(image: &str, extra: &[&str]) -> (i32, String) {
    let out = layerwaste()
        .current_dir(root().join("sample-images"))
        .args(["analyze", image, "--format", "codeclimate", "--quiet"])
        .args(extra)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8"),
    )
}

const GATED: &[&str] = &[
    "--dockerfile",
    "./build-deps-split/Containerfile",
    "--max-wasted",
    "1MB",
];

#[test]
fn report_of_the_split_sample_is_exact() {
    let (code, text) = run("build-deps-split/build-deps-split.tar", GATED);
    assert_eq!(code, 1, "the gate is crossed");
    let expected =
        std::fs::read_to_string(root().join("tests/fixtures/codeclimate-build-deps-split.json"))
            .expect("fixture");
    assert_eq!(text, expected);
    // The fields GitLab reads, of the types it wants.
    let issues: Value = serde_json::from_str(&text).expect("JSON");
    for issue in issues.as_array().expect("an array") {
        let keys: Vec<&str> = issue
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "check_name",
                "description",
                "fingerprint",
                "location",
                "severity"
            ]
        );
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        assert_eq!(issue["location"]["path"], "build-deps-split/Containerfile");
        assert_eq!(issue["fingerprint"].as_str().unwrap().len(), 64);
    }
    assert_eq!(
        issues[0]["location"]["lines"]["begin"], 9,
        "the RUN that installed"
    );
}

#[test]
fn fingerprints_survive_another_form_and_name() {
    let prints = |text: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(text).expect("JSON");
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, tar) = run("build-deps-split/build-deps-split.tar", GATED);
    let (_, zstd) = run("build-deps-split/build-deps-split.oci-zstd.tar", GATED);
    assert_eq!(prints(&tar), prints(&zstd));
    // Without the gate: the same findings, the same fingerprints, minor.
    let (code, open) = run(
        "build-deps-split/build-deps-split.tar",
        &["--dockerfile", "build-deps-split/Containerfile"],
    );
    assert_eq!(code, 0);
    assert_eq!(prints(&open)[..], prints(&tar)[..2]);
    assert!(open.contains("\"severity\": \"minor\""));
    // The image built the right way: an empty report, which GitLab reads as no issues.
    let (code, joined) = run("build-deps-joined/build-deps-joined.tar", &[]);
    assert_eq!(code, 0);
    assert_eq!(joined, "[]\n");
}
