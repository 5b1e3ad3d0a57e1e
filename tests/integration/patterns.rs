//! Issue 17: one real image per waste pattern, built with buildah from
//! tests/patterns/<id>/Containerfile by scripts/build-pattern-images.sh (which
//! scripts/services/start.sh runs, writing `LAYERWASTE_PATTERN_IMAGES` to services.env;
//! the environment variable of that name overrides it). For each image, two tests:
//!
//! - `figures`: the wasted bytes of the image and of the step that added them, counted by
//!   hand from what the Containerfile adds (the sizes are chosen in the build script or
//!   are those of the real package, wheel or list), so they hold the tool to the waste
//!   model rather than to itself;
//! - `finding`: the largest finding of that step names the pattern, the step that hid the
//!   bytes, who owns the waste (base, team or the crossing between them, from
//!   `--base-layers`), and a fix with the pattern's keyword.
//!
//! Without the images these tests skip with a message, and fail under
//! LAYERWASTE_REQUIRE_SERVICES=1 (CI).

use std::path::PathBuf;

use serde_json::Value;

use crate::common::*;

/// What one pattern image must report.
struct Case {
    /// The directory under tests/patterns/ and under the images directory.
    id: &'static str,
    /// The pattern id the largest finding of the adding step must have.
    pattern: &'static str,
    /// The layers of the image's base (`--base-layers`).
    base_layers: u32,
    /// The step that added the wasted bytes, and the step that hid them.
    adder: u64,
    hider: u64,
    /// `team`, `base` or `crossing`.
    owner: &'static str,
    /// A word the fix for this pattern always has.
    fix: &'static str,
    /// `summary.wasted_bytes`, and the adding step's `wasted_bytes`, by hand.
    wasted: u64,
    step_wasted: u64,
}

/// dpkg's status entry for one of the build script's own packages, as busybox's dpkg
/// writes it: the control file (see `deb` in scripts/build-pattern-images.sh), its status
/// line and a blank line. Every install stores a new copy of the whole database.
fn status_entry(package: &str, version: &str) -> u64 {
    let entry = format!(
        "Package: {package}\nVersion: {version}\nArchitecture: all\n\
         Maintainer: layerwaste tests <tests@layerwaste.invalid>\n\
         Description: layerwaste pattern test package\nStatus: install ok installed\n\n"
    );
    entry.len() as u64
}

/// dpkg's list of the paths of lw-tool, whose one file is /bin/lw-tool.
const LW_TOOL_LIST: &str = "/.\n/bin\n/bin/lw-tool\n";

/// Debian's go-md2man 2.0.2+ds1-1 (`dpkg-deb -c`): the binary, its changelog, copyright
/// and man page; then what busybox's dpkg writes for it: the file list (237 B), the
/// md5sums (266 B) and the status database with its entry (669 B).
const GO_MD2MAN_FILES: u64 = 1_806_632 + 2_567 + 1_360 + 392;
const GO_MD2MAN_DPKG: u64 = 237 + 266 + 669;

/// The 13 files of PyPI's idna-3.4-py3-none-any.whl (`unzip -l`): the package and its
/// .dist-info, all removed by the upgrade.
const IDNA_3_4: u64 = 849 + 3_374 + 321 + 12_950 + 44_375 + 1_881 + 21 + 206_539 // idna/
    + 1_523 + 81 + 9_830 + 925; // idna-3.4.dist-info/

/// The real apt list the package-cache image copies in and deletes.
fn apt_list_bytes() -> u64 {
    let list = root().join(
        "tests/patterns/package-cache/lists/deb.debian.org_debian_dists_bookworm-updates_main_binary-amd64_Packages.lz4",
    );
    std::fs::metadata(&list)
        .unwrap_or_else(|e| panic!("{}: {e}", list.display()))
        .len()
}

fn cases() -> Vec<Case> {
    let team = |id, adder, hider, fix, wasted| Case {
        id,
        pattern: id,
        base_layers: 1,
        adder,
        hider,
        owner: "team",
        fix,
        wasted,
        step_wasted: wasted,
    };
    vec![
        // Everything dpkg -i wrote is gone after dpkg -P (step 3; step 2 uses the tool).
        team(
            "build-deps",
            1,
            3,
            "one RUN",
            GO_MD2MAN_FILES + GO_MD2MAN_DPKG,
        ),
        // 250,000 random bytes in a ustar, gzip -n -9: the 250,241 B app.tar.gz (deflate
        // stores what it cannot compress, plus its framing and the tar's headers).
        team("download-removed", 1, 2, "one RUN", 250_241),
        // x-1.0/bin/x and x-1.0/lib/libx.so, stored again under /opt/x.
        team("moved", 1, 2, "final path", 200_000 + 100_000),
        team("added-then-deleted", 1, 2, "one RUN", 1_048_576),
        // app/server and app/lib.js, 0644 then 0755.
        team("chmod-copy", 1, 2, "--chmod", 250_000 + 50_000),
        team("add-then-chmod", 1, 2, "ADD --chmod", 120_000),
        // The same app, with nothing changed by chown.
        team("no-op-rewrite", 1, 2, "Drop", 250_000 + 50_000),
        team("overwritten", 1, 2, "once", 150_000),
        team("package-cache", 1, 2, "lists", apt_list_bytes()),
        // Only the status database written by the first install is hidden.
        team(
            "package-database-churn",
            1,
            2,
            "fewer",
            status_entry("lw-one", "1.0"),
        ),
        // The base's lw-tool 1.0, and its status entry and file list, which 2.0 replaces.
        Case {
            id: "package-upgrade",
            pattern: "package-upgrade",
            base_layers: 2,
            adder: 1,
            hider: 2,
            owner: "crossing",
            fix: "newer base",
            wasted: 400_000 + status_entry("lw-tool", "1.0") + LW_TOOL_LIST.len() as u64,
            step_wasted: 400_000 + status_entry("lw-tool", "1.0") + LW_TOOL_LIST.len() as u64,
        },
        Case {
            id: "language-package-upgrade",
            pattern: "language-package-upgrade",
            base_layers: 3,
            adder: 2,
            hider: 3,
            owner: "crossing",
            fix: "base image",
            wasted: IDNA_3_4,
            step_wasted: IDNA_3_4,
        },
        // The base's libbase.so, stored again by the final stage's COPY --from: the base
        // added it and the team's step re-stored it, so the waste crosses the boundary.
        Case {
            id: "multi-stage-copy",
            pattern: "multi-stage-copy",
            base_layers: 2,
            adder: 1,
            hider: 2,
            owner: "crossing",
            fix: "only what",
            wasted: 200_000,
            step_wasted: 200_000,
        },
        // The churn of package-database-churn inside the base; the team wastes nothing,
        // and the fix points at the base image, the team having no step to change.
        Case {
            id: "package-database-churn-base",
            pattern: "package-database-churn",
            base_layers: 3,
            adder: 1,
            hider: 2,
            owner: "base",
            fix: "base image",
            wasted: status_entry("lw-one", "1.0"),
            step_wasted: status_entry("lw-one", "1.0"),
        },
    ]
}

fn case(id: &str) -> Case {
    cases()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

/// Where the images are: `$LAYERWASTE_PATTERN_IMAGES`, or what start.sh wrote to
/// services.env. `None` after a skip message.
fn images_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LAYERWASTE_PATTERN_IMAGES") {
        return Some(PathBuf::from(dir));
    }
    let services = crate::sources::services()?;
    match services.get("LAYERWASTE_PATTERN_IMAGES") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            skip("services.env names no LAYERWASTE_PATTERN_IMAGES (run scripts/services/start.sh, or scripts/build-pattern-images.sh DIR and set it)");
            None
        }
    }
}

/// The report of one pattern image, or `None` after a skip message.
fn report(id: &str) -> Option<Value> {
    let image = images_dir()?.join(id).join("docker-archive.tar");
    if !image.exists() {
        skip(&format!(
            "{} is not there (scripts/build-pattern-images.sh builds it)",
            image.display()
        ));
        return None;
    }
    let base = case(id).base_layers.to_string();
    Some(analyze_json(&image, &["--base-layers", &base]))
}

fn step(report: &Value, index: u64) -> &Value {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["index"] == index)
        .unwrap_or_else(|| panic!("no step {index}"))
}

fn check_figures(id: &str) {
    let Some(r) = report(id) else { return };
    let r = &r;
    let c = case(id);
    assert_eq!(r["warnings"], serde_json::json!([]), "{id}: warnings");
    assert_eq!(
        r["summary"]["wasted_bytes"], c.wasted,
        "{id}: summary.wasted_bytes"
    );
    let adder = step(r, c.adder);
    assert_eq!(
        adder["wasted_bytes"], c.step_wasted,
        "{id}: step {} wasted_bytes",
        c.adder
    );
    // All of it was hidden by the one step the Containerfile says.
    let removed: Vec<u64> = adder["removed_by"]
        .as_array()
        .expect("removed_by")
        .iter()
        .map(|r| r["step"].as_u64().expect("step"))
        .collect();
    assert_eq!(removed, [c.hider], "{id}: step {} removed_by", c.adder);
    // The gate splits the same bytes at the base boundary.
    let t = &r["thresholds"];
    let (base, counted) = match c.owner {
        "base" | "crossing" => (c.wasted, 0),
        _ => (0, c.wasted),
    };
    assert_eq!(
        t["base_wasted_bytes"], base,
        "{id}: thresholds.base_wasted_bytes"
    );
    assert_eq!(
        t["counted_wasted_bytes"], counted,
        "{id}: thresholds.counted_wasted_bytes"
    );
}

fn check_finding(id: &str) {
    let Some(r) = report(id) else { return };
    let c = case(id);
    let adder = step(&r, c.adder);
    let findings = adder["findings"].as_array().expect("findings");
    // The largest; the first of equals, as the report orders them.
    let top = findings
        .iter()
        .reduce(|best, f| {
            if f["bytes"].as_u64() > best["bytes"].as_u64() {
                f
            } else {
                best
            }
        })
        .unwrap_or_else(|| panic!("{id}: step {} has no findings", c.adder));
    let shown = serde_json::to_string_pretty(top).unwrap();
    assert_eq!(top["pattern"], c.pattern, "{id}: pattern of {shown}");
    assert_eq!(top["removed_by"], c.hider, "{id}: removed_by of {shown}");
    assert_eq!(top["owner"], c.owner, "{id}: owner of {shown}");
    let fix = top["fix"]
        .as_str()
        .unwrap_or_else(|| panic!("{id}: no fix in {shown}"));
    assert!(fix.contains(c.fix), "{id}: fix lacks {:?}: {shown}", c.fix);
}

macro_rules! pattern_tests {
    ($($module:ident => $id:literal,)*) => {$(
        mod $module {
            #[test]
            fn figures() {
                super::check_figures($id);
            }
            #[test]
            fn finding() {
                super::check_finding($id);
            }
        }
    )*
    /// Every case has its tests, and every Containerfile its case.
    #[test]
    fn every_pattern_directory_has_a_case() {
        let ids: Vec<&str> = vec![$($id),*];
        let cases: Vec<&str> = cases().iter().map(|c| c.id).collect();
        assert_eq!(ids, cases);
        let mut dirs: Vec<String> = std::fs::read_dir(root().join("tests/patterns"))
            .expect("tests/patterns")
            .map(|e| e.expect("entry"))
            .filter(|e| e.path().join("Containerfile").exists())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        dirs.sort();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(dirs, sorted);
    }};
}

pattern_tests! {
    build_deps => "build-deps",
    download_removed => "download-removed",
    moved => "moved",
    added_then_deleted => "added-then-deleted",
    chmod_copy => "chmod-copy",
    add_then_chmod => "add-then-chmod",
    no_op_rewrite => "no-op-rewrite",
    overwritten => "overwritten",
    package_cache => "package-cache",
    package_database_churn => "package-database-churn",
    package_upgrade => "package-upgrade",
    language_package_upgrade => "language-package-upgrade",
    multi_stage_copy => "multi-stage-copy",
    package_database_churn_base => "package-database-churn-base",
}

/// docs/why-images-dont-shrink.md lists every pattern with what the tool says of its
/// image: the words, the bytes, whose waste it is and the fix, as printed. The block
/// between its `patterns` markers is rebuilt from the images; on a mismatch the test
/// prints it, and `LAYERWASTE_UPDATE_DOCS=1` writes it into the doc.
#[test]
fn the_why_doc_lists_every_pattern_as_its_image_reports_it() {
    const DOC: &str = "docs/why-images-dont-shrink.md";
    const BEGIN: &str = "<!-- patterns:begin -->\n";
    const END: &str = "<!-- patterns:end -->";
    let mut block = String::new();
    for c in cases() {
        let Some(r) = report(c.id) else { return };
        let adder = step(&r, c.adder);
        let top = adder["findings"]
            .as_array()
            .and_then(|f| f.iter().max_by_key(|f| f["bytes"].as_u64()))
            .unwrap_or_else(|| panic!("{}: no findings", c.id));
        let bytes = top["bytes"].as_u64().unwrap_or(0);
        let files = top["files"].as_u64().unwrap_or(0);
        block.push_str(&format!(
            "- **`{}`** ([example](../tests/patterns/{}/Containerfile)): {}; {} in {} file{}, step {} → step {} ({} waste).\\\n  Fix: {}\n",
            top["pattern"].as_str().unwrap_or(""),
            c.id,
            top["words"].as_str().unwrap_or(""),
            layerwaste::text::human(bytes),
            files,
            if files == 1 { "" } else { "s" },
            c.adder,
            c.hider,
            top["owner"].as_str().unwrap_or(""),
            top["fix"].as_str().unwrap_or(""),
        ));
    }
    let path = root().join(DOC);
    let doc = std::fs::read_to_string(&path).expect(DOC);
    let begin = doc.find(BEGIN).expect("a patterns:begin marker") + BEGIN.len();
    let end = doc.find(END).expect("a patterns:end marker");
    if doc[begin..end] == block {
        return;
    }
    if std::env::var_os("LAYERWASTE_UPDATE_DOCS").is_some_and(|v| v == "1") {
        std::fs::write(&path, format!("{}{block}{}", &doc[..begin], &doc[end..])).expect(DOC);
        return;
    }
    panic!("{DOC}: the patterns block should read:\n{block}");
}
