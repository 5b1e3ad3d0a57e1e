//! `--dockerfile`: each step maps back to its line, or stays unmatched, never wrong.

use serde_json::Value;

use crate::common::*;

fn lines(image: &str, dockerfile: &str) -> (Vec<Option<u64>>, Value) {
    let r = analyze_json(
        &sample(image),
        &["--dockerfile", sample(dockerfile).to_str().unwrap()],
    );
    let lines = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["dockerfile_line"].as_u64())
        .collect();
    (lines, r)
}

#[test]
fn buildah_history_maps_to_the_containerfile() {
    let (lines, r) = lines(
        "build-deps-split/build-deps-split.tar",
        "build-deps-split/Containerfile",
    );
    // ADD, ENV, COPY, RUN install, RUN use, RUN remove (line 12: a comment sits on 11), CMD.
    let expected: Vec<Option<u64>> = [6, 7, 8, 9, 10, 12, 13].into_iter().map(Some).collect();
    assert_eq!(lines, expected);
    assert!(r["dockerfile"]
        .as_str()
        .unwrap()
        .ends_with("build-deps-split/Containerfile"));
    assert_eq!(r["warnings"], serde_json::json!([]));
}

#[test]
fn steps_of_another_dockerfile_stay_unmatched() {
    // The joined Containerfile shares the first steps and the CMD, but none of the split
    // image's three RUN steps: those must not be pinned to its one RUN line.
    let (lines, r) = lines(
        "build-deps-split/build-deps-split.tar",
        "build-deps-joined/Containerfile",
    );
    assert_eq!(lines[3], None);
    assert_eq!(lines[4], None);
    assert_eq!(lines[5], None);
    let warning = r["warnings"][0].as_str().unwrap();
    assert!(warning.contains("could not be matched"), "{warning}");
}

#[test]
fn the_table_says_where_a_wasting_step_is_written() {
    let out = layerwaste()
        .args(["analyze", "--color", "never", "--dockerfile"])
        .arg(sample("build-deps-split/Containerfile"))
        .arg(sample("build-deps-split/build-deps-split.tar"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("step 3 (Containerfile:9)  RUN --mount=type=bind"),
        "{text}"
    );
}
