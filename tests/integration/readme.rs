//! The README shows real output of its first command; this keeps it true.

use crate::common::*;

#[test]
fn readme_sample_output_is_real() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let begin = readme
        .find("<!-- sample-output:begin -->\n```\n")
        .expect("begin marker");
    let end = readme
        .find("```\n<!-- sample-output:end -->")
        .expect("end marker");
    let shown = &readme[begin + "<!-- sample-output:begin -->\n```\n".len()..end];
    let out = layerwaste()
        .env("COLUMNS", "100")
        .args([
            "analyze",
            "sample-images/build-deps-split/build-deps-split.tar",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(shown, String::from_utf8(out.stdout).unwrap());
}
