//! A local engine over the Docker Engine API: Docker itself, or Podman's compatible
//! service. `GET /images/{name}/get` streams exactly what `docker save` writes, so the
//! image goes down the single-pass stream path with no file in between.

use std::time::Duration;

use bollard::errors::Error as BollardError;
use bollard::Docker;

use super::{runtime, StreamReader};
use crate::error::{Error, Result};
use crate::source::{reference, StreamInput};

const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// How long the engine may take before the first byte of the export. Docker 20.10
/// stages the whole image in a temporary directory before it answers, which takes
/// minutes on a large image; the body itself streams without a deadline.
const EXPORT_START_TIMEOUT: Duration = Duration::from_secs(3600);

/// Where the engine is, as `DOCKER_HOST` or the default socket says.
fn endpoint() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| DEFAULT_HOST.to_string())
}

/// Opens `name` on the engine as a stream. `spec` is what the user typed, for
/// messages. `explicit` is true for `docker-daemon:NAME`; a bare name that merely is
/// not a file gets a hint about passing files instead when no engine answers.
pub fn open(spec: &str, name: &str, explicit: bool) -> Result<StreamInput> {
    let endpoint = endpoint();
    let fail = |why: String| Error::Engine {
        image: spec.to_string(),
        endpoint: endpoint.clone(),
        why,
    };
    if name.is_empty() {
        return Err(fail("no image name given".into()));
    }
    let rt = runtime(1).map_err(|e| fail(format!("cannot start the I/O runtime: {e}")))?;
    let docker = rt.block_on(async {
        let docker = Docker::connect_with_defaults()
            .map_err(|e| no_engine(&e, spec, explicit))?
            .with_timeout(EXPORT_START_TIMEOUT);
        // Unversioned paths would do for /images/get, but bollard always prefixes a
        // version; asking the engine for its own avoids "client version too new" on
        // Docker 20.10 and Podman 4, which stop at API 1.41.
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| no_engine(&e, spec, explicit))?;
        let inspected = docker.inspect_image(name).await.map_err(|e| match e {
            BollardError::DockerResponseServerError {
                status_code: 404, ..
            } => format!("no such image {name:?} in this engine"),
            e => format!("cannot look up the image: {}", describe(&e)),
        })?;
        Ok::<_, String>((docker, inspected.id))
    });
    let (docker, id) = docker.map_err(fail)?;
    let export = export_name(name, id.as_deref());
    let stream = docker.export_image(&export);
    Ok(StreamInput {
        name: spec.to_string(),
        reader: Box::new(StreamReader::new(&rt, stream)),
    })
}

/// Every tagged image of the engine at DOCKER_HOST, as `docker-daemon:REPO:TAG`, for
/// `layerwaste scan docker-daemon:`. Untagged images (dangling layers of builds) are
/// left out: nothing pulls them by name.
pub fn list_images() -> Result<Vec<String>> {
    let endpoint = endpoint();
    let fail = |why: String| Error::Engine {
        image: "docker-daemon:".to_string(),
        endpoint: endpoint.clone(),
        why,
    };
    let rt = runtime(1).map_err(|e| fail(format!("cannot start the I/O runtime: {e}")))?;
    let listed = rt.block_on(async {
        let docker = Docker::connect_with_defaults()
            .map_err(|e| no_engine(&e, "docker-daemon:", true))?
            .negotiate_version()
            .await
            .map_err(|e| no_engine(&e, "docker-daemon:", true))?;
        docker
            .list_images(None::<bollard::query_parameters::ListImagesOptions>)
            .await
            .map_err(|e| format!("cannot list the images: {}", describe(&e)))
    });
    let mut names: Vec<String> = listed
        .map_err(fail)?
        .into_iter()
        .flat_map(|i| i.repo_tags)
        .filter(|t| t != "<none>:<none>")
        .map(|t| format!("docker-daemon:{t}"))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// The name to export. Exporting a repository without a tag would save every tag of
/// it (several images in one archive), so a bare repository means `:latest`, as it does
/// for `inspect`. An ID, or a prefix of one, exports by the full ID: the image the
/// engine just resolved it to, whatever the prefix's length.
fn export_name(name: &str, id: Option<&str>) -> String {
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    if reference::is_id_prefix(name)
        && id.is_some_and(|id| id.trim_start_matches("sha256:").starts_with(hex))
    {
        if let Some(id) = id {
            return id.to_string();
        }
    }
    if reference::names_tag_or_digest(name) {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// The engine is not there: say so, and for a bare name, how to pass a file instead.
fn no_engine(e: &BollardError, spec: &str, explicit: bool) -> String {
    let mut why = format!("cannot reach the engine: {}", describe(e));
    if !explicit {
        why.push_str(&format!(
            ". {spec:?} is not a file either; to analyze a saved image pass the file \
             (`docker save {spec} -o image.tar`, then `layerwaste analyze image.tar`) or \
             pipe it (`docker save {spec} | layerwaste analyze -`), or set DOCKER_HOST \
             to the engine's socket"
        ));
    }
    why
}

/// bollard's messages, without its debug formatting of server errors.
fn describe(e: &BollardError) -> String {
    match e {
        BollardError::DockerResponseServerError {
            status_code,
            message,
        } => format!("HTTP {status_code}: {}", message.trim()),
        e => super::error_chain(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_repositories_export_their_latest_tag() {
        let full = "sha256:364ffdae9de0808c60a706533438cadfa4410ede6c34f523e93b409f8fc352d3";
        let id = Some(full);
        assert_eq!(export_name("app", id), "app:latest");
        assert_eq!(
            export_name("localhost:5000/app", id),
            "localhost:5000/app:latest"
        );
        assert_eq!(
            export_name("localhost:5000/app:v1", id),
            "localhost:5000/app:v1"
        );
        assert_eq!(
            export_name(
                "app@sha256:abababababababababababababababababababababababababababababababab",
                id
            ),
            "app@sha256:abababababababababababababababababababababababababababababababab"
        );
        assert_eq!(export_name("364ffdae9de0", id), full);
        assert_eq!(export_name("sha256:364ffdae9de0", id), full);
        assert_eq!(export_name("364ffd", id), full);
        // A hex-looking name that is not this image's ID is a repository.
        assert_eq!(export_name("abcdefabcdef", id), "abcdefabcdef:latest");
    }
}
