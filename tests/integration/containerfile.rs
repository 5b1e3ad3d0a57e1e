//! The tool's own image (Containerfile). Its base images cannot be pulled here (no
//! network), so the test builds the nearest thing that can be: the same two stages and
//! the same final-stage instructions, with the build stage replaced by the binary this
//! test suite built (stripped) and distroless/cc replaced by `FROM scratch` plus exactly
//! the shared libraries `ldd` says the binary needs. buildah builds it; layerwaste,
//! run on it, must report zero wasted bytes, and the image must run (`--version`).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::*;
use crate::sources::{service, services};

#[test]
fn the_containerfile_is_multi_stage_with_the_binary_alone_on_a_minimal_base() {
    let text = std::fs::read_to_string(root().join("Containerfile")).unwrap();
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(
        froms,
        [
            "FROM docker.io/library/rust:1-slim-bookworm AS build",
            "FROM gcr.io/distroless/cc-debian12:nonroot"
        ]
    );
    let last = text.split("FROM gcr.io").nth(1).unwrap();
    let instructions: Vec<&str> = last
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        instructions,
        [
            "COPY --from=build /layerwaste /usr/local/bin/layerwaste",
            "WORKDIR /work",
            "ENTRYPOINT [\"/usr/local/bin/layerwaste\"]"
        ]
    );
    // It builds with --locked from only what the binary needs.
    assert!(text.contains("cargo build --release --locked --bin layerwaste"));
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn layerwaste_wastes_nothing_in_its_own_image() {
    let Some(s) = services() else { return };
    for tool in ["buildah", "ldd", "strip"] {
        if Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map_or(true, |o| !o.status.success())
        {
            skip(&format!("{tool} is not installed"));
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path();
    let binary = assert_cmd::cargo::cargo_bin("layerwaste");
    std::fs::copy(&binary, ctx.join("layerwaste")).unwrap();
    run(Command::new("strip").arg(ctx.join("layerwaste")));
    // The libraries, at the paths the dynamic loader looks for them.
    let ldd = run(Command::new("ldd").arg(ctx.join("layerwaste")));
    let mut libs = Vec::new();
    for line in ldd.lines() {
        let path = match line.split("=>").nth(1) {
            Some(rest) => rest.split_whitespace().next(),
            None => line
                .split_whitespace()
                .next()
                .filter(|p| p.starts_with('/')),
        };
        if let Some(path) = path.filter(|p| p.starts_with('/')) {
            let real = std::fs::canonicalize(path).unwrap();
            let to = ctx.join("libs").join(path.trim_start_matches('/'));
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&real, &to).unwrap();
            libs.push(path.to_string());
        }
    }
    assert!(libs.iter().any(|l| l.contains("libc.so")), "{ldd}");
    // The Containerfile's final stage, on scratch plus those libraries.
    let text = std::fs::read_to_string(root().join("Containerfile")).unwrap();
    let final_stage: String = text
        .split("FROM gcr.io/distroless/cc-debian12:nonroot\n")
        .nth(1)
        .unwrap()
        .to_string();
    let containerfile = format!(
        "FROM scratch AS build\nCOPY layerwaste /layerwaste\n\nFROM scratch\nCOPY libs/ /\n{final_stage}"
    );
    std::fs::write(ctx.join("Containerfile"), &containerfile).unwrap();
    let store = ctx.join("store");
    let buildah = |args: &[&str]| {
        let mut cmd = Command::new("buildah");
        cmd.arg("--root")
            .arg(store.join("root"))
            .arg("--runroot")
            .arg(store.join("run"))
            .args(["--storage-driver", "vfs"])
            .args(args)
            .current_dir(ctx);
        run(&mut cmd)
    };
    let tag = "localhost/layerwaste-test/self:latest";
    buildah(&["bud", "--layers", "-t", tag, "."]);
    let layout = ctx.join("oci");
    buildah(&[
        "push",
        "-q",
        tag,
        &format!("oci:{}:latest", layout.display()),
    ]);
    let archive = ctx.join("self.tar");
    buildah(&[
        "push",
        "-q",
        tag,
        &format!("docker-archive:{}:{tag}", archive.display()),
    ]);

    let report: Value = analyze_json(&layout, &["--max-wasted", "0"]);
    assert_eq!(
        report["summary"]["wasted_bytes"], 0,
        "{}",
        report["verdict"]
    );
    assert_eq!(
        report["summary"]["final_bytes"],
        report["summary"]["total_bytes"]
    );
    // Two layers: the libraries, the binary. Their bytes are those files' sizes.
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    let lib_bytes: u64 = libs
        .iter()
        .map(|l| size(&ctx.join("libs").join(l.trim_start_matches('/'))))
        .sum();
    let bin_bytes = size(&ctx.join("layerwaste"));
    let layer_bytes: Vec<u64> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["empty_layer"].as_bool().unwrap())
        .map(|s| s["bytes"].as_u64().unwrap())
        .collect();
    assert_eq!(layer_bytes, [lib_bytes, bin_bytes]);
    eprintln!(
        "own image: {} layers, {} B total ({} B binary, {} B libraries), 0 B wasted",
        layer_bytes.len(),
        lib_bytes + bin_bytes,
        bin_bytes,
        lib_bytes
    );

    // And it runs: the engine loads it and runs `--version` with no network.
    let host = service(s, "LAYERWASTE_DOCKER_HOST");
    let docker = |args: &[&str]| {
        let mut cmd = Command::new("docker");
        cmd.args(args).env("DOCKER_HOST", host);
        run(&mut cmd)
    };
    docker(&["load", "-q", "-i", archive.to_str().unwrap()]);
    let version = docker(&["run", "--rm", "--network", "none", tag, "--version"]);
    docker(&["rmi", "-f", tag]);
    assert_eq!(
        version.trim(),
        format!("layerwaste {}", env!("CARGO_PKG_VERSION"))
    );
}
