//! docs/why-images-dont-shrink.md tells its story with the tool's real output. Each
//! `<!-- output: ARGS -->` marker is followed by a fenced block holding exactly what
//! `layerwaste ARGS` prints (from the repository root, 100 columns). On a mismatch the
//! test prints the real output; `LAYERWASTE_UPDATE_DOCS=1 cargo test --test integration
//! article` writes it into the doc instead, for a reviewer to read in the diff.

use std::path::PathBuf;

use crate::build::{Image, Layer};
use crate::common::*;

const DOC: &str = "docs/why-images-dont-shrink.md";

/// The article's `COPY` then `chmod -R` image, built as those two steps leave it: the
/// second layer holds the same files again, same bytes, other metadata (a chmod copies
/// each file up whole). Written to target/article/copy-chmod.tar.
fn copy_chmod_image() -> PathBuf {
    // The chmod makes the files executable: 0644 in the COPY, 0755 after.
    let app = |layer: Layer, mode: u32| {
        layer
            .dir("app")
            .file_with_mode("app/server.js", &vec![b's'; 240_000], mode)
            .file_with_mode("app/assets.bin", &vec![b'a'; 2_600_000], mode)
            .file_with_mode("app/README.md", &vec![b'r'; 4_000], mode)
    };
    let mut img = Image::new(vec![
        app(Layer::new(), 0o644).finish(),
        app(Layer::new(), 0o755).finish(),
    ]);
    img.config["history"] = serde_json::json!([
        {"created_by": "COPY app/ /app/ # buildkit"},
        {"created_by": "RUN /bin/sh -c chmod -R 755 /app # buildkit"},
    ]);
    let dir = root().join("target/article");
    std::fs::create_dir_all(&dir).expect("mkdir target/article");
    let path = dir.join("copy-chmod.tar");
    std::fs::write(&path, img.docker_save().tar()).expect("write the image");
    path
}

#[test]
fn article_output_is_real() {
    copy_chmod_image();
    let update = std::env::var_os("LAYERWASTE_UPDATE_DOCS").is_some_and(|v| v == "1");
    let path = root().join(DOC);
    let doc = std::fs::read_to_string(&path).expect(DOC);
    let mut rewritten = String::new();
    let mut rest = doc.as_str();
    let mut wrong = Vec::new();
    let mut checked = 0;
    while let Some(at) = rest.find("<!-- output: ") {
        let after = &rest[at + "<!-- output: ".len()..];
        let (args, after) = after.split_once(" -->\n").expect("the marker ends");
        let (fence, body) = after.split_once('\n').expect("a fence after the marker");
        let fence_ticks = fence.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let end = body
            .find(&format!("{fence_ticks}\n"))
            .filter(|&e| e == 0 || body[..e].ends_with('\n'))
            .expect("a closing fence");
        let shown = &body[..end];
        let out = layerwaste()
            .env("COLUMNS", "100")
            .args(args.split(' '))
            .current_dir(root())
            .output()
            .expect("runs");
        let real = String::from_utf8(out.stdout).expect("UTF-8");
        if real != shown {
            wrong.push(format!("{DOC}: `layerwaste {args}` prints:\n{real}"));
        }
        rewritten.push_str(&rest[..at]);
        rewritten.push_str(&format!("<!-- output: {args} -->\n{fence}\n{real}"));
        rest = &body[end..];
        checked += 1;
    }
    rewritten.push_str(rest);
    assert!(checked >= 4, "{checked} output blocks");
    if update {
        std::fs::write(&path, rewritten).expect("rewrite the doc");
        return;
    }
    assert!(
        wrong.is_empty(),
        "{}\n\n(LAYERWASTE_UPDATE_DOCS=1 cargo test --test integration article rewrites them)",
        wrong.join("\n\n")
    );
}
