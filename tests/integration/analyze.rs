//! `layerwaste analyze` on real images, held to WASTE-MODEL.md to the byte.

use serde_json::{json, Value};

use crate::build::{Image, Layer};
use crate::common::*;

fn summary(r: &Value) -> (u64, u64, u64) {
    let s = &r["summary"];
    (
        s["total_bytes"].as_u64().unwrap(),
        s["final_bytes"].as_u64().unwrap(),
        s["wasted_bytes"].as_u64().unwrap(),
    )
}

/// (step, wasted bytes, removed_by) for each step that wastes anything.
fn wasting_steps(r: &Value) -> Vec<(u64, u64, Value)> {
    r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["wasted_bytes"].as_u64().unwrap() > 0)
        .map(|s| {
            (
                s["index"].as_u64().unwrap(),
                s["wasted_bytes"].as_u64().unwrap(),
                Value::Array(
                    s["removed_by"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| json!({"step": r["step"], "bytes": r["bytes"]}))
                        .collect(),
                ),
            )
        })
        .collect()
}

#[test]
fn dive_docker_image_matches_the_worked_check() {
    let Some(image) = shared_image("test-docker-image.tar") else {
        return;
    };
    let r = analyze_json(&image, &[]);
    assert_eq!(summary(&r), (1_220_598, 1_188_573, 32_025));
    assert_eq!(r["summary"]["layers"], 14);
    // History index: step → removed by (layer index + the one empty CMD step before it).
    assert_eq!(
        wasting_steps(&r),
        vec![
            (4, 6405, json!([{"step": 5, "bytes": 6405}])),
            (5, 6405, json!([{"step": 10, "bytes": 6405}])),
            (6, 6405, json!([{"step": 10, "bytes": 6405}])),
            (7, 6405, json!([{"step": 8, "bytes": 6405}])),
            (8, 6405, json!([{"step": 14, "bytes": 6405}])),
        ]
    );
    assert_eq!(r["steps"][1]["empty_layer"], true);
    assert_eq!(r["steps"][1]["layer"], Value::Null);
    assert_eq!(r["warnings"], json!([]));
}

#[test]
fn kaniko_image_with_gzip_layers() {
    let Some(image) = shared_image("test-kaniko-image.tar") else {
        return;
    };
    let r = analyze_json(&image, &[]);
    assert_eq!(summary(&r), (1_326_410, 1_326_410 - 46_245, 46_245));
    let wasted: Vec<u64> = wasting_steps(&r).iter().map(|s| s.1).collect();
    assert_eq!(wasted, vec![9249; 5]);
}

#[test]
fn oci_single_layer_fixtures_in_every_compression() {
    let mut seen = Vec::new();
    for name in [
        "test-oci-uncompressed-image.tar",
        "test-oci-gzip-image.tar",
        "test-oci-zstd-image.tar",
        "test-oci-estargz-image.tar",
    ] {
        let Some(image) = shared_image(name) else {
            return;
        };
        let r = analyze_json(&image, &[]);
        assert_eq!(summary(&r), (11_189, 11_189, 0), "{name}");
        assert_eq!(r["summary"]["efficiency"], 1.0);
        let (summary, mut steps) = figures(&r);
        // estargz re-packs the tar (its own entry order and TOC), so its diff ID differs.
        steps[0]["layer_digest"] = Value::Null;
        seen.push((summary, steps));
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn sample_split_image_wastes_the_build_dependency() {
    let r = analyze_json(&sample("build-deps-split/build-deps-split.tar"), &[]);
    assert_eq!(summary(&r), (3_795_560, 1_983_437, 1_812_123));
    // Step 3 installs go-md2man; step 5 removes it. Every byte step 3 added is wasted.
    assert_eq!(
        wasting_steps(&r),
        vec![(3, 1_812_123, json!([{"step": 5, "bytes": 1_812_123}]))]
    );
    assert_eq!(r["steps"][3]["bytes"], 1_812_123);
}

#[test]
fn sample_joined_image_wastes_nothing() {
    let r = analyze_json(&sample("build-deps-joined/build-deps-joined.tar"), &[]);
    assert_eq!(summary(&r), (1_983_437, 1_983_437, 0));
}

#[test]
fn same_image_in_every_bundled_format_gives_identical_figures() {
    let plain = analyze_json(&sample("build-deps-split/build-deps-split.tar"), &[]);
    let zstd = analyze_json(
        &sample("build-deps-split/build-deps-split.oci-zstd.tar"),
        &[],
    );
    assert_eq!(figures(&plain), figures(&zstd));
    assert_eq!(plain["image"]["format"], "docker-save");
    assert_eq!(zstd["image"]["format"], "oci");
}

#[test]
fn a_missing_file_is_one_clear_error() {
    let out = layerwaste()
        .args(["analyze", "/nonexistent/image.tar"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "layerwaste: error: /nonexistent/image.tar: No such file or directory (os error 2)\n"
    );
}

fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect()
}

/// The re-read settles large same-size pairs by their first page where it can, and
/// large duplicate candidates by theirs: the reasons and the duplicates are what
/// hashing every byte gives.
#[test]
fn same_size_pairs_and_duplicates_settled_by_first_pages_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let big = 300 * 1024;
    let (a, b, c, d) = (noise(big, 1), noise(big, 2), noise(big, 3), noise(1000, 4));
    let mut b2 = b.clone();
    b2[10] ^= 1; // differs in the first page: settled by it
    let mut c2 = c.clone();
    c2[big - 1] ^= 1; // same first page, differs at the end: read whole
    let mut twin_page = a.clone();
    twin_page[big - 7] ^= 1; // a's size and first page, other content
    let layer = |files: Vec<(&str, u32, Vec<u8>)>| {
        files
            .into_iter()
            .fold(Layer::new(), |l, (path, mode, data)| {
                l.file_with_mode(path, &data, mode)
            })
            .finish()
    };
    let members = Image::new(vec![
        layer(vec![
            ("a", 0o644, a.clone()),
            ("b", 0o644, b),
            ("c", 0o644, c),
            ("d", 0o644, d.clone()),
        ]),
        layer(vec![
            ("a", 0o755, a.clone()),
            ("b", 0o644, b2),
            ("c", 0o644, c2),
            ("d", 0o600, d),
            ("copy-of-a", 0o644, a.clone()),
            ("not-a", 0o644, twin_page),
            ("other-first-page", 0o644, noise(big, 5)),
        ]),
    ])
    .docker_save();
    let image = dir.path().join("image.tar");
    std::fs::write(&image, members.tar()).unwrap();
    let r = analyze_json(&image, &[]);
    let big = big as u64;
    assert_eq!(
        r["steps"][0]["wasted_by_reason"],
        json!({"metadata-only": big + 1000, "overwritten": 2 * big})
    );
    // a and its copy are one content twice; not-a shares a's size and first page but
    // not its bytes, and other-first-page shares only the size. One extra copy.
    assert_eq!(r["duplicates"]["files"], 1);
    assert_eq!(r["duplicates"]["bytes"], big);
    assert_eq!(r["duplicates"]["groups"].as_array().unwrap().len(), 1);
    assert_eq!(
        r["duplicates"]["groups"][0]["paths"],
        json!(["a", "copy-of-a"])
    );
}
