//! The two Dockerfile forms issue 14 found unmatched: the classic builder's history
//! after a `SHELL` (`/bin/bash -o pipefail -c #(nop)  USER nobody`), and an `ENV` that
//! expands a variable of the base image (`ENV PATH=/opt/app/bin:$PATH`), recorded with
//! the value expanded. Both builders, for real: the small committed images in
//! tests/fixtures/dockerfile-forms/ (no RUN: no shell in them; build.sh rebuilds them),
//! and, when the Docker engine of scripts/services runs, images with RUN steps built
//! in the test by both the classic builder and BuildKit.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::*;
use crate::sources::{service, services};

fn mapped(image: &Path, dockerfile: &Path) -> Vec<Option<u64>> {
    let r = analyze_json(image, &["--dockerfile", dockerfile.to_str().unwrap()]);
    r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["dockerfile_line"].as_u64())
        .collect()
}

#[test]
fn committed_classic_and_buildkit_images_map_every_step() {
    let dir = root().join("tests/fixtures/dockerfile-forms");
    // Two base steps (never matched), then every instruction of the Dockerfile: SHELL
    // on line 4 … CMD on line 13 (line 9 continues line 8's ENV).
    let want: Vec<Option<u64>> = [None, None]
        .into_iter()
        .chain([4, 5, 6, 7, 8, 10, 11, 12, 13].into_iter().map(Some))
        .collect();
    for image in ["classic.tar", "buildkit.tar"] {
        assert_eq!(
            mapped(&dir.join(image), &dir.join("Dockerfile")),
            want,
            "{image}"
        );
    }
}

const LIVE_DOCKERFILE: &str = r#"FROM localhost/layerwaste-sample/build-deps-split:latest
RUN printf '#!/bin/sh\nexec /bin/sh "$@"\n' > /bin/bash && chmod +x /bin/bash
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
USER 0:0
COPY --chown=0:0 hello.txt /opt/app/bin/hello
ENV PATH=/opt/app/bin:$PATH MODE=prod MANPATH=$MANPATH:/opt/app/man
RUN echo "$MODE" | cat > /mode && rm /opt/app/bin/hello
WORKDIR /opt/app
LABEL org.example.manpath=$MANPATH
USER nobody
CMD ["hello"]
"#;

fn docker(host: &str, builder_kit: bool, args: &[&str], dir: &Path) -> std::process::Output {
    // Debian's Docker 20.10 CLI runs BuildKit without the buildx plugin.
    Command::new("/usr/bin/docker")
        .args(args)
        .current_dir(dir)
        .env("DOCKER_HOST", host)
        .env("DOCKER_BUILDKIT", if builder_kit { "1" } else { "0" })
        .output()
        .expect("docker runs")
}

#[test]
fn live_builds_with_run_steps_map_every_step() {
    let Some(s) = services() else { return };
    if !Path::new("/usr/bin/docker").exists() {
        skip("/usr/bin/docker (Debian's docker.io CLI) is not installed");
        return;
    }
    let host = service(s, "LAYERWASTE_DOCKER_HOST");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Dockerfile"), LIVE_DOCKERFILE).unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hi\n").unwrap();
    for (kit, tag) in [(false, "classic"), (true, "buildkit")] {
        let name = format!("layerwaste-test/forms-{}:{tag}", std::process::id());
        let mut build = vec!["build", "-q", "-t", &name, "."];
        if kit {
            build.insert(1, "--network=host");
        }
        let out = docker(host, kit, &build, dir.path());
        assert!(
            out.status.success(),
            "{tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tar = dir.path().join(format!("{tag}.tar"));
        let out = docker(
            host,
            kit,
            &["save", "-o", tar.to_str().unwrap(), &name],
            dir.path(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        docker(host, kit, &["rmi", "-f", &name], dir.path());

        let r: Value = analyze_json(
            &tar,
            &[
                "--dockerfile",
                dir.path().join("Dockerfile").to_str().unwrap(),
            ],
        );
        let steps = r["steps"].as_array().unwrap();
        // The base's 7 steps stay unmatched; then every line from 2 to 11.
        let lines: Vec<Option<u64>> = steps
            .iter()
            .map(|s| s["dockerfile_line"].as_u64())
            .collect();
        let mut want = vec![None; 7];
        want.extend((2..=11).map(Some));
        assert_eq!(
            lines,
            want,
            "{tag}: {}",
            serde_json::to_string_pretty(&r["steps"]).unwrap()
        );
        // The RUN that deletes the file COPY added: that waste points at line 5.
        let copy = &steps[10];
        assert_eq!(copy["wasted_bytes"], 3, "{tag}");
        assert_eq!(copy["dockerfile_line"], 5, "{tag}");
        if !kit {
            assert!(
                copy["created_by"]
                    .as_str()
                    .unwrap()
                    .starts_with("/bin/bash -o pipefail -c #(nop) COPY --chown=0:0file:"),
                "{}",
                copy["created_by"]
            );
        }
    }
}
