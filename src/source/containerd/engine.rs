//! A Docker engine on the containerd image store (the default of fresh Docker Engine
//! 29 installs, and of Docker Desktop since 4.34) keeps its images in containerd, in
//! namespace `moby`. Exporting them (`/images/get`) makes the engine assemble a tar of
//! every layer; reading them through containerd's content service streams the stored
//! blobs instead. So, for a bare name or `docker-daemon:NAME`, the engine's `/info`
//! decides: `driver-type io.containerd.snapshotter.v1` and a containerd socket that can
//! be opened mean containerd; anything else, or a failure there, means the export.

use std::path::PathBuf;

use bollard::models::SystemInfo;
use bollard::Docker;

use super::api;
use crate::source::layout::PlanOptions;
use crate::source::{LayeredImage, SourceOptions};

/// The containerd the engine uses: its socket and the namespace of its images.
#[derive(Debug, PartialEq, Eq)]
pub struct EngineContainerd {
    pub socket: PathBuf,
    pub namespace: String,
}

/// Where dockerd's own containerd listens when it starts one (Docker Engine 29 on a
/// host without a system containerd).
const DOCKERD_MANAGED_SOCKET: &str = "/var/run/docker/containerd/containerd.sock";

/// Whether `/info` describes the containerd image store, and where its containerd is.
pub fn containerd_store(info: &SystemInfo, sources: &SourceOptions) -> Option<EngineContainerd> {
    let on_containerd = info.driver_status.iter().flatten().any(|pair| {
        pair.first().is_some_and(|k| k == "driver-type")
            && pair
                .get(1)
                .is_some_and(|v| v == "io.containerd.snapshotter.v1")
    });
    if !on_containerd {
        return None;
    }
    let reported = info.containerd.as_ref();
    let socket = sources
        .containerd_address
        .clone()
        .or_else(|| {
            reported
                .and_then(|c| c.address.clone())
                .filter(|a| !a.is_empty())
                .map(|a| PathBuf::from(a.strip_prefix("unix://").unwrap_or(&a)))
        })
        .unwrap_or_else(|| {
            let system = PathBuf::from(api::DEFAULT_ADDRESS);
            if system.exists() {
                system
            } else {
                PathBuf::from(DOCKERD_MANAGED_SOCKET)
            }
        });
    let namespace = reported
        .and_then(|c| c.namespaces.as_ref())
        .and_then(|n| n.containers.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "moby".to_string());
    Some(EngineContainerd { socket, namespace })
}

/// What the engine route chose, for `-v`.
pub enum Route {
    /// Read through containerd: the image, and a sentence saying so.
    Containerd(Box<LayeredImage>, String),
    /// Export as before, and why.
    Export(String),
}

/// Asks the engine whether its images live in containerd and, if they do and the
/// socket opens, reads `name` from there.
pub fn route(spec: &str, name: &str, options: &PlanOptions, sources: &SourceOptions) -> Route {
    let info = (|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        rt.block_on(async {
            let docker = Docker::connect_with_defaults().ok()?;
            let docker = docker.negotiate_version().await.ok()?;
            docker.info().await.ok()
        })
    })();
    let Some(info) = info else {
        return Route::Export("the engine's /info did not answer; exporting".into());
    };
    let Some(found) = containerd_store(&info, sources) else {
        let driver = info.driver.unwrap_or_else(|| "unknown".into());
        return Route::Export(format!(
            "the engine stores images with the {driver} storage driver, not in containerd; \
             exporting them (docker save)"
        ));
    };
    if let Err(e) = std::os::unix::net::UnixStream::connect(&found.socket) {
        return Route::Export(format!(
            "the engine uses the containerd image store, but its socket {} cannot be opened \
             ({e}); exporting instead",
            found.socket.display()
        ));
    }
    let qualified = format!("{}/{name}", found.namespace);
    match api::open_at(spec, &qualified, &found.socket, options) {
        Ok(image) => Route::Containerd(
            Box::new(image),
            format!(
                "the engine uses the containerd image store: reading through containerd at {}, \
                 namespace {}, with no export",
                found.socket.display(),
                found.namespace
            ),
        ),
        Err(e) => Route::Export(format!(
            "the engine uses the containerd image store, but reading through containerd \
             failed ({}); exporting instead",
            crate::text::escape(&e.to_string())
        )),
    }
}

/// An engine image (`docker-daemon:NAME`, or a bare name): through containerd when the
/// engine keeps it there, else the export.
pub fn open_engine_image(
    spec: &str,
    name: &str,
    explicit: bool,
    options: &PlanOptions,
    sources: &SourceOptions,
) -> crate::error::Result<crate::source::Opened> {
    use crate::source::Opened;
    match route(spec, name, options, sources) {
        Route::Containerd(image, why) => {
            sources.notice.say(&why);
            Ok(Opened::Layered(image))
        }
        Route::Export(why) => {
            sources.notice.say(&why);
            crate::source::remote::engine::open(spec, name, explicit).map(Opened::Stream)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerdInfo, ContainerdInfoNamespaces};

    #[test]
    fn only_the_containerd_snapshotter_routes_to_containerd() {
        let classic = SystemInfo {
            driver: Some("overlay2".into()),
            driver_status: Some(vec![vec!["Backing Filesystem".into(), "extfs".into()]]),
            ..Default::default()
        };
        assert_eq!(containerd_store(&classic, &SourceOptions::default()), None);
        let store = SystemInfo {
            driver: Some("overlayfs".into()),
            driver_status: Some(vec![vec![
                "driver-type".into(),
                "io.containerd.snapshotter.v1".into(),
            ]]),
            containerd: Some(ContainerdInfo {
                address: Some("/run/containerd/containerd.sock".into()),
                namespaces: Some(ContainerdInfoNamespaces {
                    containers: Some("moby".into()),
                    plugins: Some("plugins.moby".into()),
                }),
            }),
            ..Default::default()
        };
        assert_eq!(
            containerd_store(&store, &SourceOptions::default()),
            Some(EngineContainerd {
                socket: "/run/containerd/containerd.sock".into(),
                namespace: "moby".into(),
            })
        );
        let flagged = SourceOptions {
            containerd_address: Some("/tmp/c.sock".into()),
            ..Default::default()
        };
        assert_eq!(
            containerd_store(&store, &flagged).unwrap().socket,
            PathBuf::from("/tmp/c.sock")
        );
    }
}
