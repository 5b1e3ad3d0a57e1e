//! `--format html` in a real browser: Debian's chromium, headless, found through
//! services.env (scripts/services/chromium.sh, called by start.sh). `--dump-dom` shows
//! the page as the browser built it, which must carry the exact figures of
//! `analyze --format json`; `--screenshot` shows that the bars are drawn, to scale.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::build::{Image, Layer};
use crate::common::*;

/// Colours of the page (src/report/html/mod.rs): live bytes and deleted ones.
const LIVE: [u8; 3] = [0x87, 0x96, 0xb0];
const DELETED: [u8; 3] = [0xd6, 0x27, 0x28];
const BAR_WIDTH: f64 = 480.0;

/// One browser at a time: the machine has two cores, and each run starts a few
/// processes of its own.
static BROWSER: Mutex<()> = Mutex::new(());

fn chromium() -> Option<PathBuf> {
    let services = crate::sources::services()?;
    match services.get("LAYERWASTE_CHROMIUM") {
        Some(path) if Path::new(path).exists() => Some(PathBuf::from(path)),
        _ => {
            skip("no chromium in services.env (scripts/services/start.sh installs it)");
            None
        }
    }
}

/// Runs headless chromium on `page` with `args`; returns its stdout and how long it took.
fn browse(chromium: &Path, page: &Path, args: &[&str]) -> (Vec<u8>, Duration) {
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let profile = tempfile::tempdir().expect("tempdir");
    let start = Instant::now();
    let out = assert_cmd::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .timeout(Duration::from_secs(300))
        .output()
        .expect("chromium runs");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "chromium failed on {}: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.stdout, took)
}

fn dump_dom(chromium: &Path, page: &Path) -> String {
    String::from_utf8(browse(chromium, page, &["--dump-dom"]).0).expect("UTF-8 DOM")
}

/// An RGB screenshot: width, height, and 3 bytes a pixel.
fn screenshot(chromium: &Path, page: &Path, size: (u32, u32)) -> (usize, usize, Vec<u8>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let png_path = dir.path().join("shot.png");
    browse(
        chromium,
        page,
        &[
            &format!("--window-size={},{}", size.0, size.1),
            &format!("--screenshot={}", png_path.display()),
        ],
    );
    let decoder = png::Decoder::new(std::fs::File::open(&png_path).expect("a screenshot"));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = info.color_type.samples();
    let rgb = buf[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width as usize, info.height as usize, rgb)
}

/// The longest horizontal run of `colour` (within a little for anti-aliasing) in each
/// drawn bar, top to bottom: consecutive rows with a run are one bar.
fn bars(shot: &(usize, usize, Vec<u8>), colour: [u8; 3], min_run: usize) -> Vec<usize> {
    let (w, h, px) = shot;
    let near = |x: usize, y: usize| {
        let p = &px[(y * w + x) * 3..][..3];
        p.iter().zip(colour).all(|(a, b)| a.abs_diff(b) <= 6)
    };
    let mut found = Vec::new();
    let mut in_bar = false;
    for y in 0..*h {
        let (mut longest, mut run) = (0, 0);
        for x in 0..*w {
            run = if near(x, y) { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        if longest >= min_run {
            if in_bar {
                let last: &mut usize = found.last_mut().expect("a bar");
                *last = (*last).max(longest);
            } else {
                found.push(longest);
            }
        }
        in_bar = longest >= min_run;
    }
    found
}

/// Writes `analyze IMAGE --format html EXTRA` to a file; returns the dir and the page.
fn html_page(image: &Path, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let out = layerwaste()
        .arg("analyze")
        .arg(image)
        .args(["--format", "html", "--quiet"])
        .args(extra)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("report.html");
    std::fs::write(&page, &out.stdout).expect("write the page");
    (dir, page)
}

/// The value of the first `<data value="…">` after `marker`.
fn data_after(dom: &str, marker: &str) -> i64 {
    let at = dom
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} is not on the page"));
    let rest = &dom[at..];
    let v = &rest[rest.find("<data value=\"").expect("a figure") + 13..];
    v[..v.find('"').unwrap()].parse().expect("a number")
}

/// The rendered page shows the report's figures to the byte.
fn assert_page_figures(dom: &str, report: &Value) {
    let s = &report["summary"];
    for (id, key) in [
        ("total", "total_bytes"),
        ("final", "final_bytes"),
        ("wasted", "wasted_bytes"),
        ("duplicates", "duplicate_bytes"),
        ("removable", "removable_bytes"),
    ] {
        assert_eq!(
            data_after(dom, &format!("class=\"figure\" id=\"{id}\"")),
            s[key].as_i64().unwrap(),
            "{id}"
        );
    }
    match s["wasted_pull_bytes"].as_i64() {
        Some(pull) => assert_eq!(data_after(dom, "id=\"pull\""), pull),
        None => {
            assert!(dom
                .contains("id=\"pull\"><small>wasted per pull (compressed)</small><b>unknown</b>"))
        }
    }
    for step in report["steps"].as_array().unwrap() {
        let row = format!(
            "<tr data-step=\"{}\" data-bytes=\"{}\" data-wasted=\"{}\"",
            step["index"], step["bytes"], step["wasted_bytes"]
        );
        let at = dom.find(&row).unwrap_or_else(|| panic!("no row {row}"));
        let row_html = &dom[at..at + dom[at..].find("</tr>").unwrap()];
        for by in step["removed_by"].as_array().unwrap() {
            assert!(
                row_html.contains(&format!(
                    "step {} (<data value=\"{}\"",
                    by["step"], by["bytes"]
                )) || row_html.contains(&format!(
                    ", {} (<data value=\"{}\"",
                    by["step"], by["bytes"]
                )),
                "{row_html}"
            );
        }
        if step["wasted_bytes"].as_u64().unwrap() > 0 {
            let tree = format!(
                "<details open=\"\" class=\"step\" data-step=\"{}\"",
                step["index"]
            );
            let tree_closed = format!("<details class=\"step\" data-step=\"{}\"", step["index"]);
            let at = dom.find(&tree).or(dom.find(&tree_closed)).expect("a tree");
            for p in step["top_paths"].as_array().unwrap() {
                assert!(dom[at..].contains(&format!("<data value=\"{}\"", p["bytes"])));
            }
            for f in step["findings"].as_array().unwrap() {
                assert!(dom.contains(&format!(
                    "<li data-pattern=\"{}\"",
                    f["pattern"].as_str().unwrap()
                )));
            }
        }
    }
}

#[test]
fn html_page_in_chromium_carries_the_exact_figures() {
    let Some(chromium) = chromium() else { return };
    let mut images = vec![
        sample("build-deps-split/build-deps-split.tar"),
        sample("build-deps-joined/build-deps-joined.tar"),
    ];
    for name in [
        "test-docker-image.tar",
        "test-kaniko-image.tar",
        "test-oci-estargz-image.tar",
        "test-oci-gzip-image.tar",
        "test-oci-uncompressed-image.tar",
        "test-oci-zstd-image.tar",
    ] {
        images.extend(shared_image(name));
    }
    for image in images {
        let report = analyze_json(&image, &[]);
        let (_dir, page) = html_page(&image, &[]);
        let dom = dump_dom(&chromium, &page);
        assert_page_figures(&dom, &report);
    }
}

#[test]
fn html_dockerfile_lines_reach_the_findings() {
    let Some(chromium) = chromium() else { return };
    let image = sample("build-deps-split/build-deps-split.tar");
    let (_dir, page) = html_page(
        &image,
        &[
            "--dockerfile",
            "sample-images/build-deps-split/Containerfile",
        ],
    );
    let report = analyze_json(
        &image,
        &[
            "--dockerfile",
            "sample-images/build-deps-split/Containerfile",
        ],
    );
    let dom = dump_dom(&chromium, &page);
    let step = &report["steps"][3];
    let line = step["dockerfile_line"].as_u64().expect("step 3 is mapped");
    assert!(dom.contains(&format!(
        "<span class=\"muted dockerfile\">Containerfile:{line}</span>"
    )));
    assert!(dom.contains(&format!(
        "(sample-images/build-deps-split/Containerfile, line {line})"
    )));
}

#[test]
fn html_screenshot_draws_bars_to_scale() {
    let Some(chromium) = chromium() else { return };
    let image = sample("build-deps-split/build-deps-split.tar");
    let report = analyze_json(&image, &[]);
    let (_dir, page) = html_page(&image, &[]);
    let shot = screenshot(&chromium, &page, (1200, 1600));
    // Not blank: the text, the figures and the bars cover part of the page.
    let inked = shot
        .2
        .chunks(3)
        .filter(|p| p.iter().any(|&c| c < 200))
        .count();
    assert!(inked > shot.0 * shot.1 / 50, "{inked} inked pixels");
    // The largest step (0, all live) fills the bar; step 3's deleted bytes are drawn to
    // the same scale. Legend swatches are 12 px, so runs of 20 and more are bars.
    let steps = report["steps"].as_array().unwrap();
    let scale = steps
        .iter()
        .map(|s| s["bytes"].as_u64().unwrap())
        .max()
        .unwrap() as f64;
    let live = bars(&shot, LIVE, 20);
    let deleted = bars(&shot, DELETED, 20);
    let expected_live = (steps[0]["bytes"].as_u64().unwrap()
        - steps[0]["wasted_bytes"].as_u64().unwrap()) as f64
        * BAR_WIDTH
        / scale;
    let expected_deleted =
        steps[3]["wasted_by_reason"]["deleted"].as_u64().unwrap() as f64 * BAR_WIDTH / scale;
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert!(
        (live[0] as f64 - expected_live).abs() <= 2.0,
        "{live:?} vs {expected_live}"
    );
    assert!(
        (deleted[0] as f64 - expected_deleted).abs() <= 2.0,
        "{deleted:?} vs {expected_deleted}"
    );
}

/// The tags of a serialised DOM, outside attribute values (where the browser writes
/// `<` as it is) and text (where it writes `&lt;`).
fn tags(dom: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut chars = dom.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '<' {
            continue;
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_alphanumeric() || c == '/' || c == '!' {
                name.push(c.to_ascii_lowercase());
                chars.next();
            } else {
                break;
            }
        }
        // Skip the attributes, quoted values whole.
        let mut quote = None;
        for c in chars.by_ref() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '>') => break,
                _ => {}
            }
        }
        tags.push(name);
    }
    tags
}

#[test]
fn html_hostile_names_stay_text_in_chromium() {
    let evil_path = "tmp/<script>alert(1)</script>";
    let evil_quote = "tmp/q\"'</svg><img src=x onerror=alert(2)>\x01";
    let base = Layer::new()
        .dir("tmp")
        .file(evil_path, &[b'x'; 3000])
        .file(evil_quote, &[b'y'; 1000])
        .finish();
    let hide = Layer::new()
        // A `/` in a name is a directory: the whiteout goes on the last component.
        .file("tmp/<script>alert(1)</.wh.script>", b"")
        .file("tmp/q\"'</.wh.svg><img src=x onerror=alert(2)>\x01", b"")
        .finish();
    let mut img = Image::new(vec![base, hide]);
    img.config["history"] = json!([
        {"created_by": "/bin/sh -c echo \"<script>alert('x')</script></svg>\" \x1b[31m\u{202e}"},
        {"created_by": "/bin/sh -c rm -rf '/tmp/</details></svg><script>alert(3)</script>'"},
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let image = dir.path().join("hostile.tar");
    std::fs::write(&image, img.docker_save().tar()).expect("write");
    let report = analyze_json(&image, &[]);
    assert_eq!(report["summary"]["wasted_bytes"], 4000, "{report:#}");
    let (_d, page) = html_page(&image, &[]);
    let html = std::fs::read_to_string(&page).expect("UTF-8");
    assert!(!html.chars().any(|c| c.is_control() && c != '\n'));
    assert!(!html.contains('\u{202e}'));
    assert!(
        html.contains(
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;/svg&gt;&quot; \\x1b[31m\\u{202e}"
        ),
        "created_by"
    );
    assert!(
        html.contains("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"),
        "a directory"
    );
    let Some(chromium) = chromium() else { return };
    let dom = dump_dom(&chromium, &page);
    let tags = tags(&dom);
    assert_eq!(
        tags.iter().filter(|t| *t == "script").count(),
        1,
        "{tags:?}"
    );
    assert!(!tags.iter().any(|t| t == "img"), "{tags:?}");
    assert_eq!(
        tags.iter().filter(|t| *t == "svg").count(),
        tags.iter().filter(|t| *t == "/svg").count()
    );
    assert!(
        dom.contains("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"),
        "the name is text"
    );
    assert_page_figures(&dom, &report);
}

#[test]
fn html_diff_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let old = sample("build-deps-split/build-deps-split.tar");
    let new = sample("build-deps-joined/build-deps-joined.tar");
    let run = |format: &str| {
        let out = layerwaste()
            .arg("diff")
            .arg(&old)
            .arg(&new)
            .args(["--format", format, "--quiet"])
            .output()
            .expect("runs");
        assert!(out.status.success());
        out.stdout
    };
    let diff: Value = serde_json::from_slice(&run("json")).expect("JSON");
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("diff.html");
    std::fs::write(&page, run("html")).expect("write");
    let dom = dump_dom(&chromium, &page);
    for (id, key) in [
        ("total", "total_bytes"),
        ("final", "final_bytes"),
        ("wasted", "wasted_bytes"),
    ] {
        let at = dom
            .find(&format!("<tr id=\"{id}\">"))
            .expect("a summary row");
        let row = &dom[at..at + dom[at..].find("</tr>").unwrap()];
        let values: Vec<i64> = row
            .split("<data value=\"")
            .skip(1)
            .map(|v| v[..v.find('"').unwrap()].parse().unwrap())
            .collect();
        assert_eq!(
            values,
            [
                diff["old"][key].as_i64().unwrap(),
                diff["new"][key].as_i64().unwrap(),
                diff["delta"][key].as_i64().unwrap()
            ],
            "{id}"
        );
    }
    for s in diff["steps"].as_array().unwrap() {
        assert!(dom.contains(&format!(
            "data-status=\"{}\" data-delta=\"{}\" data-old-wasted=\"{}\" data-new-wasted=\"{}\"",
            s["status"].as_str().unwrap(),
            s["wasted_delta"],
            s["old_wasted_bytes"],
            s["new_wasted_bytes"]
        )));
    }
    assert!(
        dom.contains("This change removes"),
        "the joined fix removes waste"
    );
}

/// A history of 1,000 steps and a step with 100,000 wasted files (`--files`) still
/// give a page the browser renders; the sizes and times are printed for the record.
#[test]
fn html_large_inputs_render() {
    const STEPS: usize = 1_000;
    const FILES: usize = 100_000;
    let mut layers = Vec::with_capacity(STEPS);
    // Steps that overwrite one another's file, so each of them wastes a little.
    for i in 0..STEPS - 2 {
        layers.push(
            Layer::new()
                .file(&format!("data/f{}", i % 10), &vec![b'a'; 100 + i])
                .finish(),
        );
    }
    let mut many = Layer::new().dir("many");
    for j in 0..FILES {
        many = many.file(&format!("many/d{:03}/f{j}", j / 1000), b"z");
    }
    layers.push(many.finish());
    layers.push(Layer::new().file(".wh.many", b"").finish());
    let diff_ids = (0..STEPS).map(|i| format!("sha256:{i:064x}")).collect();
    let img = Image::with_diff_ids(layers, diff_ids);
    let dir = tempfile::tempdir().expect("tempdir");
    let image = dir.path().join("large.tar");
    std::fs::write(&image, img.docker_save().tar()).expect("write");

    let (_d, page) = html_page(&image, &[]);
    let (_f, files_page) = html_page(&image, &["--files"]);
    let size = std::fs::metadata(&page).unwrap().len();
    let files_size = std::fs::metadata(&files_page).unwrap().len();
    eprintln!("html: {STEPS} steps: {size} bytes; with --files ({FILES} wasted files in one step): {files_size} bytes");
    assert!(size < 2_000_000, "{size}");
    let Some(chromium) = chromium() else { return };
    for (name, page) in [("steps", &page), ("files", &files_page)] {
        let (dom, took) = browse(&chromium, page, &["--dump-dom"]);
        let dom = String::from_utf8(dom).unwrap();
        eprintln!(
            "html: chromium --dump-dom of the {name} page: {:.1} s",
            took.as_secs_f64()
        );
        assert_eq!(dom.matches("<tr data-step=").count(), STEPS);
        if name == "files" {
            assert_eq!(dom.matches("<td class=\"mono\">many/").count(), FILES);
        }
    }
}
