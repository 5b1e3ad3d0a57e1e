//! The GitHub Action (action.yml, scripts/action/): its inputs, and its script run as
//! a runner runs a composite step, with the GITHUB_* and RUNNER_* variables a runner
//! sets, on the bundled samples. The outputs asserted are the real files and values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

use crate::common::*;
use crate::sources::{service, services};

fn action() -> Yaml {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    YamlLoader::load_from_str(&text)
        .expect("action.yml is YAML")
        .remove(0)
}

#[test]
fn every_input_is_described_defaulted_and_passed_to_the_script() {
    let action = action();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let inputs = action["inputs"].as_hash().expect("inputs");
    let steps = action["runs"]["steps"].as_vec().expect("steps");
    let run = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("run"))
        .expect("the run step");
    let env = run["env"].as_hash().expect("env");
    let script = std::fs::read_to_string(root().join("scripts/action/run.sh")).unwrap();
    for (name, input) in inputs {
        let name = name.as_str().unwrap();
        assert!(
            input["description"].as_str().is_some_and(|d| d.len() > 10),
            "{name}"
        );
        let required = input["required"].as_bool() == Some(true);
        assert!(
            required || input["default"].as_str().is_some(),
            "{name} has no default"
        );
        let var = format!("LW_{}", name.to_uppercase().replace('-', "_"));
        assert_eq!(
            env.get(&Yaml::String(var.clone())).and_then(|v| v.as_str()),
            Some(format!("${{{{ inputs.{name} }}}}").as_str()),
            "{name} → {var}"
        );
        assert!(script.contains(&var), "run.sh never reads {var}");
    }
    // The install is cached, keyed by the script's hash of the sources.
    let cache = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/cache@"))
        })
        .expect("a cache step");
    assert_eq!(
        cache["with"]["key"].as_str(),
        Some("${{ steps.key.outputs.key }}")
    );
    let install = steps
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains("install.sh")))
        .unwrap();
    assert_eq!(
        install["if"].as_str(),
        Some("steps.cache.outputs.cache-hit != 'true'")
    );
}

#[test]
fn the_cache_key_is_stable_and_names_the_runner() {
    let key = || {
        let out = Command::new("bash")
            .arg(root().join("scripts/action/cache-key.sh"))
            .env_remove("GITHUB_OUTPUT")
            .env("GITHUB_ACTION_PATH", root())
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let first = key();
    assert_eq!(first, key());
    assert!(first.starts_with("key=layerwaste-Linux-X64-"), "{first}");
    assert_eq!(
        first.trim_end().len(),
        "key=layerwaste-Linux-X64-".len() + 32
    );
}

/// A runner's job: a workspace, a temp dir, and the files it reads back afterwards.
struct Job {
    _dir: tempfile::TempDir,
    workspace: PathBuf,
    temp: PathBuf,
    summary: PathBuf,
    output: PathBuf,
}

impl Job {
    fn new() -> Job {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("work/repo/repo");
        let temp = dir.path().join("_temp");
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::create_dir_all(&temp).unwrap();
        // The repository checked out: the samples, with their Containerfiles.
        for sample in ["build-deps-split", "build-deps-joined"] {
            let to = workspace.join(sample);
            std::fs::create_dir_all(&to).unwrap();
            for file in ["Containerfile", &format!("{sample}.tar")] {
                std::fs::copy(
                    crate::common::sample(&format!("{sample}/{file}")),
                    to.join(file),
                )
                .unwrap();
            }
        }
        let summary = temp.join("_runner_file_commands/step_summary_1");
        let output = temp.join("_runner_file_commands/set_output_1");
        std::fs::create_dir_all(summary.parent().unwrap()).unwrap();
        std::fs::write(&summary, "").unwrap();
        std::fs::write(&output, "").unwrap();
        Job {
            _dir: dir,
            workspace,
            temp,
            summary,
            output,
        }
    }

    /// Runs the action's step as the runner does: bash, from the workspace, with the
    /// runner's variables and the inputs (defaults from action.yml, then `inputs`).
    fn run(&self, inputs: &[(&str, &str)], extra_env: &[(&str, &str)]) -> Output {
        let binary = assert_cmd::cargo::cargo_bin("layerwaste");
        let path = format!(
            "{}:{}",
            binary.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        for (name, input) in action()["inputs"].as_hash().unwrap() {
            values.insert(
                name.as_str().unwrap().to_string(),
                input["default"].as_str().unwrap_or("").to_string(),
            );
        }
        for (k, v) in inputs {
            assert!(values.contains_key(*k), "no input {k}");
            values.insert(k.to_string(), v.to_string());
        }
        let mut cmd = Command::new("bash");
        cmd.arg(root().join("scripts/action/run.sh"))
            .current_dir(&self.workspace)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.temp.join("home"))
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", &self.workspace)
            .env("GITHUB_ACTION_PATH", root())
            .env("GITHUB_STEP_SUMMARY", &self.summary)
            .env("GITHUB_OUTPUT", &self.output)
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_REPOSITORY", "team/app")
            .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TEMP", &self.temp)
            .env("COLUMNS", "100");
        for (k, v) in &values {
            cmd.env(format!("LW_{}", k.to_uppercase().replace('-', "_")), v);
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd.output().expect("bash runs")
    }

    fn outputs(&self) -> BTreeMap<String, String> {
        std::fs::read_to_string(&self.output)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.workspace.join(name)).unwrap_or_default()
    }
}

const SPLIT: &str = "build-deps-split/build-deps-split.tar";
const JOINED: &str = "build-deps-joined/build-deps-joined.tar";

#[test]
fn a_crossed_gate_fails_the_step_with_summary_annotations_and_sarif() {
    let job = Job::new();
    let out = job.run(
        &[
            ("image", SPLIT),
            ("dockerfile", "build-deps-split/Containerfile"),
            ("max-wasted", "1MB"),
        ],
        &[],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // Annotations on stdout, where the runner reads workflow commands: the wasting
    // step's line, the crossed limit, the summary notice.
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("::warning file=build-deps-split/Containerfile,line=9,title=layerwaste%3A build-deps in step 3 (1.8 MB)::"),
        "{stdout}"
    );
    assert!(lines.contains(&"::error file=build-deps-split/Containerfile,title=layerwaste%3A max-wasted::wasted 1.8 MB (1812123 B) is more than --max-wasted 1.0 MB (1000000 B)"), "{stdout}");
    assert_eq!(
        lines.last(),
        Some(&"::notice title=layerwaste::1.8 MB of 3.8 MB (47.7%25) wasted by 1 step. Gate failed: 1 limit crossed.")
    );
    // The job summary: the Markdown report.
    let summary = std::fs::read_to_string(&job.summary).unwrap();
    assert!(
        summary.starts_with("### layerwaste: 1.8 MB of 3.8 MB (47.7%) wasted\n"),
        "{summary}"
    );
    assert!(
        summary.contains("**Gate failed**: 1 limit crossed."),
        "{summary}"
    );
    // SARIF and JSON in the workspace, for upload-sarif and artifacts.
    let sarif: Value = serde_json::from_str(&job.file("layerwaste.sarif")).expect("SARIF");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        9
    );
    let json: Value = serde_json::from_str(&job.file("layerwaste.json")).expect("JSON");
    assert_eq!(json["summary"]["wasted_bytes"], 1812123);
    // The step's outputs.
    let outputs = job.outputs();
    assert_eq!(outputs["wasted-bytes"], "1812123");
    assert_eq!(outputs["counted-wasted-bytes"], "1812123");
    assert_eq!(outputs["passed"], "false");
    assert_eq!(outputs["sarif-file"], "layerwaste.sarif");
    assert_eq!(outputs["json-file"], "layerwaste.json");
    // The layer cache the three runs shared.
    assert!(job.temp.join("layerwaste-cache").is_dir());

    // fail-on-gate: false reports the same and lets the job go on.
    let job = Job::new();
    let out = job.run(
        &[
            ("image", SPLIT),
            ("max-wasted", "1MB"),
            ("fail-on-gate", "false"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(job.outputs()["passed"], "false");
}

#[test]
fn a_clean_image_passes_and_the_diff_goes_into_the_summary() {
    let job = Job::new();
    let out = job.run(
        &[
            ("image", JOINED),
            ("base-image", SPLIT),
            ("max-wasted", "1MB"),
            ("fail-on-increase", "0"),
            ("annotations", "false"),
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let outputs = job.outputs();
    assert_eq!(outputs["wasted-bytes"], "0");
    assert_eq!(outputs["passed"], "true");
    let summary = std::fs::read_to_string(&job.summary).unwrap();
    assert!(
        summary.starts_with("### layerwaste: no wasted bytes"),
        "{summary}"
    );
    // The diff follows: the waste the change removed.
    assert!(
        summary.contains("−1.8 MB") || summary.contains("-1.8 MB"),
        "{summary}"
    );

    // The other way round the waste grows, and fail-on-increase=0 fails the job.
    let job = Job::new();
    let out = job.run(
        &[
            ("image", SPLIT),
            ("base-image", JOINED),
            ("fail-on-increase", "0"),
            ("annotations", "false"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(job.outputs()["passed"], "false");
}

#[test]
fn an_unreadable_image_is_an_error_not_a_pass() {
    let job = Job::new();
    let out = job.run(&[("image", "missing.tar")], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error title=layerwaste::layerwaste could not analyse missing.tar"),
        "{stdout}"
    );
}

#[test]
fn a_name_in_the_runners_docker_is_saved_once() {
    let Some(s) = services() else { return };
    if Command::new("docker").arg("--version").output().is_err() {
        skip("no docker CLI");
        return;
    }
    let host = service(s, "LAYERWASTE_DOCKER_HOST");
    let name = service(s, "LAYERWASTE_SAMPLE_IMAGE");
    let job = Job::new();
    let out = job.run(
        &[
            ("image", name),
            ("max-wasted", "1MB"),
            ("annotations", "false"),
        ],
        &[("DOCKER_HOST", host)],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(Path::new(&job.temp.join("layerwaste-image-1.tar")).is_file());
    assert_eq!(job.outputs()["wasted-bytes"], "1812123");
}
