//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn sample(path: &str) -> PathBuf {
    root().join("sample-images").join(path)
}

/// Whether a missing external fixture or service must fail the test rather than skip
/// it: CI sets LAYERWASTE_REQUIRE_SERVICES=1, so nothing is silently skipped there.
pub fn required() -> bool {
    std::env::var_os("LAYERWASTE_REQUIRE_SERVICES").is_some_and(|v| v == "1")
}

/// Skips (with a visible message) or fails, depending on [`required`].
pub fn skip(why: &str) {
    if required() {
        panic!("required fixture or service missing: {why}");
    }
    eprintln!("SKIPPED: {why}");
}

/// A file from ../shared/images, the reference images that sit beside the repository
/// (they are not copied into it). `None`, after a skip message, on a user's clone.
pub fn shared_image(name: &str) -> Option<PathBuf> {
    let path = root().join("../shared/images").join(name);
    if path.exists() {
        Some(path)
    } else {
        skip(&format!(
            "{} is not there (it sits beside the repository in CI)",
            path.display()
        ));
        None
    }
}

pub fn layerwaste() -> Command {
    let mut cmd = Command::cargo_bin("layerwaste").expect("binary builds");
    cmd.env_remove("NO_COLOR").env("COLUMNS", "120");
    cmd
}

/// Runs `analyze --format json` and parses the report.
pub fn analyze_json(image: &Path, extra: &[&str]) -> Value {
    let out = layerwaste()
        .arg("analyze")
        .arg(image)
        .args(["--format", "json", "--quiet"])
        .args(extra)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "analyze {} failed: {}",
        image.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

/// The part of a report that must not depend on how the image was packaged.
pub fn figures(report: &Value) -> (Value, Value) {
    (report["summary"].clone(), report["steps"].clone())
}
