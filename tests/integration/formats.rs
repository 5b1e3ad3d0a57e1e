//! `--format markdown|sarif|github` end to end on the build-deps-split sample: the
//! content a reviewer or code scanning relies on, and SARIF valid against its schema.

use serde_json::Value;

use crate::common::*;

const SPLIT: &str = "build-deps-split/build-deps-split.tar";

/// Runs `analyze SPLIT --format FORMAT EXTRA…` and returns (exit code, stdout).
fn run(format: &str, extra: &[&str]) -> (i32, String) {
    let out = layerwaste()
        .arg("analyze")
        .arg(sample(SPLIT))
        .args(["--format", format, "--quiet"])
        .args(extra)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 output"),
    )
}

/// Every error of `log` against the SARIF 2.1.0 schema in tests/fixtures.
pub fn sarif_schema_errors(log: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/sarif-schema-2.1.0.json"))
            .expect("schema fixture"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

#[test]
fn markdown_comment_puts_the_verdict_first() {
    let (code, md) = run("markdown", &[]);
    assert_eq!(code, 0);
    assert!(
        md.starts_with("### layerwaste: 1.8 MB of 3.8 MB (47.7%) wasted\n"),
        "{md}"
    );
    assert!(md.find("<details>").unwrap() > md.find("wasted").unwrap());
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    // The wasting step, its instruction in a code span, and who hid it.
    assert!(
        md.contains("| 3 | `RUN --mount=type=bind,source=debs,target=/debs dpkg -i -F depends /debs/go-md2man_*.deb` | 1.8 MB | **1.8 MB** | step 5 |"),
        "{md}"
    );
    assert!(md.contains("Where the wasted bytes are"));
    assert!(md.contains("`build-deps`"));
    assert!(!md.contains("Gate"), "no gate without limits");
}

#[test]
fn markdown_comment_shows_the_gate() {
    let (code, md) = run("markdown", &["--max-wasted", "1MB"]);
    assert_eq!(code, 1);
    assert!(md.contains("**Gate failed**: 1 limit crossed."), "{md}");
    assert!(md.contains(
        "- `max-wasted`: wasted 1.8 MB (1812123 B) is more than --max-wasted 1.0 MB (1000000 B)"
    ));
    let (code, md) = run("markdown", &["--max-wasted", "2MB"]);
    assert_eq!(code, 0);
    assert!(md.contains("**Gate passed**"), "{md}");
}

#[test]
fn sarif_log_is_valid_and_points_at_the_image() {
    let (code, out) = run("sarif", &[]);
    assert_eq!(code, 0);
    let log: Value = serde_json::from_str(&out).expect("SARIF is JSON");
    assert_eq!(sarif_schema_errors(&log), Vec::<String>::new());
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "layerwaste");
    let results = run["results"].as_array().expect("results");
    assert!(!results.is_empty());
    let first = &results[0];
    assert_eq!(first["ruleId"], "build-deps");
    assert_eq!(first["level"], "warning");
    assert_eq!(first["properties"]["step"], 3);
    assert_eq!(first["properties"]["removedBy"], 5);
    // No Dockerfile mapping: the result points at the image as named.
    let uri = first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .expect("uri");
    assert!(uri.ends_with("build-deps-split.tar"), "{uri}");
    assert_eq!(
        first["locations"][0]["logicalLocations"][0]["name"],
        "step 3"
    );
    // Every result's advice is the report's.
    let report = analyze_json(&sample(SPLIT), &[]);
    let advice: Vec<&Value> = report["steps"][3]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| &f["advice"])
        .collect();
    assert_eq!(&first["message"]["text"], advice[0]);
}

#[test]
fn sarif_log_marks_a_step_over_its_limit_as_an_error() {
    let (code, out) = run(
        "sarif",
        &["--max-step-wasted", "1MB", "--max-wasted", "1MB"],
    );
    assert_eq!(code, 1);
    let log: Value = serde_json::from_str(&out).expect("SARIF is JSON");
    assert_eq!(sarif_schema_errors(&log), Vec::<String>::new());
    let results = log["runs"][0]["results"].as_array().expect("results");
    let level = |rule: &str| -> Vec<&str> {
        results
            .iter()
            .filter(|r| r["ruleId"] == rule)
            .filter_map(|r| r["level"].as_str())
            .collect()
    };
    assert!(!level("build-deps").is_empty());
    assert!(level("build-deps").iter().all(|&l| l == "error"));
    assert_eq!(level("max-wasted"), vec!["error"]);
    assert_eq!(level("max-step-wasted"), vec!["error"]);
}

#[test]
fn github_annotations_one_per_finding_and_a_notice() {
    let (code, out) = run("github", &[]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(
            "::warning title=layerwaste%3A build-deps in step 3 (1.8 MB)::Build dependencies added then removed: 1.8 MB in 6 files added by step 3, hidden by step 5."
        ),
        "{out}"
    );
    assert!(lines.iter().all(|l| l.starts_with("::")), "{out}");
    assert_eq!(
        lines.last().copied(),
        // `%` is written `%25`, as the runner unescapes it.
        Some("::notice title=layerwaste::1.8 MB of 3.8 MB (47.7%25) wasted by 1 step.")
    );
    let (code, out) = run("github", &["--max-wasted", "1MB"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("::error title=layerwaste%3A max-wasted::wasted 1.8 MB (1812123 B) is more than --max-wasted 1.0 MB (1000000 B)\n"),
        "{out}"
    );
    assert!(out.ends_with("Gate failed: 1 limit crossed.\n"), "{out}");
}

/// docs/formats.md shows real output: each `<!-- output: ARGS -->` marker is followed
/// by a fenced block holding exactly what `analyze SPLIT --quiet ARGS` prints.
#[test]
fn formats_doc_output_is_real() {
    let doc = std::fs::read_to_string(root().join("docs/formats.md")).expect("docs/formats.md");
    let mut checked = 0;
    for (at, _) in doc.match_indices("<!-- output: ") {
        let rest = &doc[at + "<!-- output: ".len()..];
        let (args, rest) = rest.split_once(" -->\n").expect("marker ends");
        let (fence_line, body) = rest.split_once('\n').expect("fence");
        let fence = fence_line.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let end = body.find(&format!("\n{fence}\n")).expect("closing fence");
        let shown = &body[..end + 1];
        let out = layerwaste()
            .args(["analyze", &format!("sample-images/{SPLIT}"), "--quiet"])
            .args(args.split(' '))
            .current_dir(root())
            .output()
            .expect("runs");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            shown,
            "docs/formats.md, output of {args}"
        );
        checked += 1;
    }
    assert_eq!(checked, 4);
}
