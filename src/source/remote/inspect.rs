//! The local engine's record of an image, without exporting it: for `--base auto`,
//! which needs only the base's diff IDs (`RootFS.Layers`), never its layers.

use std::time::Duration;

use bollard::Docker;

use super::{error_chain, runtime};

/// What the engine says about an image.
pub struct Inspected {
    /// The image ID (the config's digest).
    pub id: String,
    pub diff_ids: Vec<String>,
    /// `name@sha256:…` of the registries it was pulled from.
    pub repo_digests: Vec<String>,
}

/// Looks `name` up in the engine at DOCKER_HOST (or the default socket). `Err` says
/// why not, in words: no engine, no such image.
pub fn inspect(name: &str) -> Result<Inspected, String> {
    let rt = runtime(1).map_err(|e| format!("cannot start the I/O runtime: {e}"))?;
    rt.block_on(async {
        let docker = Docker::connect_with_defaults()
            .map_err(|e| format!("no engine: {}", error_chain(&e)))?
            .with_timeout(Duration::from_secs(30));
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| format!("no engine answers: {}", error_chain(&e)))?;
        let image = docker.inspect_image(name).await.map_err(|e| match e {
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            } => "the engine has no such image".to_string(),
            e => format!("cannot look it up: {}", error_chain(&e)),
        })?;
        Ok(Inspected {
            id: image.id.unwrap_or_default(),
            diff_ids: image.root_fs.and_then(|r| r.layers).unwrap_or_default(),
            repo_digests: image.repo_digests.unwrap_or_default(),
        })
    })
}
