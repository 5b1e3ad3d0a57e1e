//! Issue 4: the CI gate, config precedence, dive compatibility, --base, --ignore,
//! --output and diff, through the real binary.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

const SPLIT: &str = "build-deps-split/build-deps-split.tar";
const JOINED: &str = "build-deps-joined/build-deps-joined.tar";
/// The split sample wastes 1,812,123 of 3,795,560 bytes, all in step 3 (layer 2).
const WASTED: u64 = 1_812_123;
const TOTAL: u64 = 3_795_560;

/// Runs analyze in `dir` (for config discovery); returns (exit code, report, stderr).
fn gate(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = layerwaste()
        .current_dir(dir)
        .arg("analyze")
        .arg(sample(SPLIT))
        .args(["--format", "json", "--quiet"])
        .args(args)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap(),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn empty_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn rules(report: &Value) -> Vec<String> {
    report["thresholds"]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_threshold_at_its_exact_boundary() {
    let dir = empty_dir();
    let pct = WASTED as f64 * 100.0 / TOTAL as f64; // 47.74…
    let eff = 1.0 - WASTED as f64 / TOTAL as f64; // 0.52256…
    let cases: Vec<(Vec<String>, i32)> = vec![
        (vec!["--max-wasted".into(), WASTED.to_string()], 0),
        (vec!["--max-wasted".into(), (WASTED - 1).to_string()], 1),
        (vec!["--max-wasted".into(), "1812123B".into()], 0),
        (vec!["--max-wasted".into(), "1.812122MB".into()], 1),
        (vec!["--max-wasted".into(), "2MiB".into()], 0),
        (vec!["--max-wasted-percent".into(), format!("{pct}")], 0),
        (vec!["--max-wasted-percent".into(), "47.7".into()], 1),
        (vec!["--min-efficiency".into(), format!("{eff}")], 0),
        (vec!["--min-efficiency".into(), "0.5226".into()], 1),
        (vec!["--max-step-wasted".into(), WASTED.to_string()], 0),
        (
            vec!["--max-step-wasted".into(), (WASTED - 1).to_string()],
            1,
        ),
    ];
    for (args, code) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (got, report, stderr) = gate(dir.path(), &args);
        assert_eq!(got, code, "{args:?}: {stderr}");
        assert_eq!(report["thresholds"]["counted_wasted_bytes"], WASTED);
        assert_eq!(rules(&report).len(), code as usize, "{args:?}");
        if code == 1 {
            assert!(stderr.contains("layerwaste: limit crossed: "), "{stderr}");
        }
    }
}

#[test]
fn every_violation_is_listed_and_printed() {
    let (code, report, stderr) = gate(
        empty_dir().path(),
        &[
            "--max-wasted",
            "1MB",
            "--min-efficiency",
            "0.9",
            "--max-step-wasted",
            "1kB",
            "--max-wasted-percent",
            "10",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(
        rules(&report),
        [
            "max-wasted",
            "max-wasted-percent",
            "min-efficiency",
            "max-step-wasted"
        ]
    );
    assert_eq!(report["thresholds"]["violations"][3]["step"], 3);
    assert_eq!(stderr.matches("limit crossed").count(), 4);
}

#[test]
fn config_file_precedence_is_flag_then_file_then_default() {
    let dir = empty_dir();
    std::fs::write(
        dir.path().join(".layerwaste.toml"),
        "max-wasted = \"1MB\"\ntop = 1\n",
    )
    .unwrap();
    // The file alone gates.
    let (code, report, _) = gate(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(report["thresholds"]["limits"]["max_wasted"], 1_000_000);
    assert_eq!(report["steps"][3]["top_paths"].as_array().unwrap().len(), 1);
    // A flag wins over the file.
    let (code, report, _) = gate(dir.path(), &["--max-wasted", "2MB", "--top", "2"]);
    assert_eq!(code, 0);
    assert_eq!(report["thresholds"]["limits"]["max_wasted"], 2_000_000);
    assert_eq!(report["steps"][3]["top_paths"].as_array().unwrap().len(), 2);
    // No file, no flag: the default (no gate, 5 rows).
    let (code, report, _) = gate(empty_dir().path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(report["thresholds"], Value::Null);
    assert_eq!(report["steps"][3]["top_paths"].as_array().unwrap().len(), 5);
}

#[test]
fn unknown_config_key_is_an_error_naming_file_and_key() {
    let dir = empty_dir();
    std::fs::write(dir.path().join(".layerwaste.toml"), "max-wastd = 1\n").unwrap();
    let (code, _, stderr) = gate(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(".layerwaste.toml: unknown key `max-wastd`"),
        "{stderr}"
    );
}

#[test]
fn dive_ci_rules_are_read() {
    let dir = empty_dir();
    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  lowestEfficiency: 0.6\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: disabled\n",
    )
    .unwrap();
    let (code, report, _) = gate(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(rules(&report), ["min-efficiency"]);
    assert_eq!(report["thresholds"]["limits"]["max_wasted"], 20_000_000);
    // kebab-case keys, passed explicitly with --config.
    let file = dir.path().join("custom.yaml");
    std::fs::write(
        &file,
        "rules:\n  lowest-efficiency: 0.5\n  highest-user-wasted-percent: disabled\n",
    )
    .unwrap();
    let (code, report, _) = gate(dir.path(), &["--config", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["thresholds"]["limits"]["min_efficiency"], 0.5);
}

#[test]
fn ignore_leaves_paths_out_of_the_gate() {
    let (code, report, _) = gate(
        empty_dir().path(),
        &[
            "--max-wasted",
            "0",
            "--ignore",
            "usr/**",
            "--ignore",
            "/var/lib/dpkg/**",
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["thresholds"]["counted_wasted_bytes"], 0);
    assert_eq!(report["thresholds"]["ignored_wasted_bytes"], WASTED);
    // Only usr: dpkg's 669 B status and its 503 B of info files still count.
    let (code, report, _) = gate(
        empty_dir().path(),
        &["--max-wasted", "0", "--ignore", "usr/**"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        report["thresholds"]["counted_wasted_bytes"],
        669 + 237 + 266
    );
    // The report itself still shows all of the waste.
    assert_eq!(report["summary"]["wasted_bytes"], WASTED);
}

/// Writes a docker-save archive of the split sample's first `n` layers: a base image
/// the split image is built on, as `FROM base` would make it.
fn base_image(dir: &Path, n: usize) -> PathBuf {
    let mut archive = tar::Archive::new(std::fs::File::open(sample(SPLIT)).unwrap());
    let mut members = std::collections::HashMap::new();
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        members.insert(name, data);
    }
    let manifest: Value = serde_json::from_slice(&members["manifest.json"]).unwrap();
    let config_name = manifest[0]["Config"].as_str().unwrap();
    let mut config: Value = serde_json::from_slice(&members[config_name]).unwrap();
    let layers: Vec<String> = manifest[0]["Layers"].as_array().unwrap()[..n]
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    config["rootfs"]["diff_ids"] =
        Value::Array(config["rootfs"]["diff_ids"].as_array().unwrap()[..n].to_vec());
    config["history"] = Value::Array(
        config["history"]
            .as_array()
            .unwrap()
            .iter()
            .scan(0, |layers_seen, h| {
                let keep = *layers_seen < n;
                if h["empty_layer"] != Value::Bool(true) {
                    *layers_seen += 1;
                }
                Some((keep, h.clone()))
            })
            .filter(|(keep, _)| *keep)
            .map(|(_, h)| h)
            .collect(),
    );
    let path = dir.join("base.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    };
    for l in &layers {
        add(l, &members[l.as_str()]);
    }
    add("config.json", config.to_string().as_bytes());
    let m = serde_json::json!([{"Config": "config.json", "RepoTags": ["base:latest"], "Layers": layers}]);
    add("manifest.json", m.to_string().as_bytes());
    b.into_inner().unwrap();
    path
}

#[test]
fn base_image_waste_is_shown_but_never_fails() {
    let dir = empty_dir();
    // With the first three layers (through the install step) as the base, the waste
    // belongs to the base.
    let base = base_image(dir.path(), 3);
    let (code, report, stderr) = gate(
        dir.path(),
        &["--base", base.to_str().unwrap(), "--max-wasted", "0"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["thresholds"]["base_layers"], 3);
    assert_eq!(report["thresholds"]["base_wasted_bytes"], WASTED);
    assert_eq!(report["summary"]["wasted_bytes"], WASTED);
    // With two, the install step is the team's own and fails the gate.
    let base = base_image(dir.path(), 2);
    let (code, report, _) = gate(
        dir.path(),
        &["--base", base.to_str().unwrap(), "--max-wasted", "0"],
    );
    assert_eq!(code, 1);
    assert_eq!(report["thresholds"]["base_layers"], 2);
    // --base-layers says the same by count.
    let (code, report, _) = gate(dir.path(), &["--base-layers", "3", "--max-wasted", "0"]);
    assert_eq!(
        (code, report["thresholds"]["base_wasted_bytes"].as_u64()),
        (0, Some(WASTED))
    );
    // An image not built on the base is an error.
    let (code, _, stderr) = gate(dir.path(), &["--base", sample(JOINED).to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not built on --base"), "{stderr}");
}

#[test]
fn output_writes_json_while_the_table_prints_and_the_gate_fails() {
    let dir = empty_dir();
    let file = dir.path().join("report.json");
    let out = layerwaste()
        .current_dir(dir.path())
        .arg("analyze")
        .arg(sample(SPLIT))
        .args(["--max-wasted", "1MB", "--output"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("STEP"));
    let report: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(report["summary"]["wasted_bytes"], WASTED);
    assert_eq!(rules(&report), ["max-wasted"]);
}

#[test]
fn diff_of_split_and_joined_shows_the_build_dependency_waste_gone() {
    let out = layerwaste()
        .args(["diff", "--format", "json", "--quiet", "--fail-on-increase"])
        .arg(sample(SPLIT))
        .arg(sample(JOINED))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["delta"]["wasted_bytes"], -(WASTED as i64));
    assert_eq!(d["delta"]["total_bytes"], -(WASTED as i64));
    assert_eq!(d["delta"]["final_bytes"], 0);
    assert_eq!(
        (d["removed_waste"].as_u64(), d["introduced_waste"].as_u64()),
        (Some(WASTED), Some(0))
    );
    let statuses: Vec<&str> = d["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["same", "same", "same", "added", "removed", "removed", "removed", "same"]
    );
    // The other way round the change adds the waste, and --fail-on-increase fails.
    let out = layerwaste()
        .args(["diff", "--quiet", "--fail-on-increase=1MB"])
        .arg(sample(JOINED))
        .arg(sample(SPLIT))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("grew by 1.8 MB (1812123 B), more than --fail-on-increase 1.0 MB (1000000 B)"));
    // An allowance at the exact delta passes (inclusive).
    let out = layerwaste()
        .args(["diff", "--quiet", "--fail-on-increase=1812123"])
        .arg(sample(JOINED))
        .arg(sample(SPLIT))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}
