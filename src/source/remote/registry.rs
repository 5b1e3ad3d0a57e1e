//! A registry over the OCI distribution API, with no daemon: `docker://REGISTRY/REPO`.
//!
//! The manifest (or index) and the config are fetched whole and planned by the same
//! code as an OCI layout ([`crate::source::layout::plan`]), so platform selection,
//! nested indexes and digest checks behave alike. Layers are never stored: each is a
//! [`LayerSource::Stream`] that the walker pulls straight from the connection, several
//! at once, with its digest verified as it streams (oci-client checks it at the end of
//! the body, before the reader reports end of file).

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use tokio::runtime::Runtime;

use super::{error_chain, runtime, StreamReader};
use crate::error::{Error, Result};
use crate::source::layout::{self, PlanOptions};
use crate::source::{Blobs, LayerSource, LayeredImage, SourceOptions};

const ACCEPTED_MANIFESTS: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Threads that drive connections. Decompression and walking happen on the walker's
/// own threads; these only move bytes.
const NETWORK_WORKERS: usize = 2;

/// Opens `docker://REFERENCE`. `spec` is what the user typed, for messages.
pub fn open(
    spec: &str,
    reference: &str,
    plan_options: &PlanOptions,
    sources: &SourceOptions,
) -> Result<LayeredImage> {
    let reference: Reference = reference.parse().map_err(|e| {
        Error::Usage(format!(
            "{spec}: not an image reference (docker://REGISTRY/REPO[:TAG|@DIGEST]): {e}"
        ))
    })?;
    let registry = reference.resolve_registry().to_string();
    let fail = |why: String| Error::Registry {
        reference: spec.to_string(),
        registry: registry.clone(),
        why,
    };
    let plain = plain_http_allowed(&registry, &sources.insecure_registries);
    let client = client_for(&registry, plain).map_err(fail)?;
    let credentials = Credentials::find(&registry);
    let rt =
        runtime(NETWORK_WORKERS).map_err(|e| fail(format!("cannot start the I/O runtime: {e}")))?;
    let what = match (reference.tag(), reference.digest()) {
        (_, Some(d)) => format!("the manifest {d}"),
        (Some(t), None) => format!("the manifest of tag {t}"),
        (None, None) => "the manifest of tag latest".to_string(),
    };
    let (bytes, digest) = rt
        .block_on(client.pull_manifest_raw(&reference, &credentials.auth, &ACCEPTED_MANIFESTS))
        .map_err(|e| fail(describe(&e, &what, &credentials, plain)))?;
    if bytes.len() as u64 > plan_options.max_metadata_bytes {
        return Err(too_big(
            spec,
            "the manifest",
            bytes.len() as u64,
            plan_options,
        ));
    }
    let blobs = RegistryBlobs::new(
        spec,
        &client,
        &rt,
        &reference,
        &credentials,
        plain,
        &digest,
        bytes.to_vec(),
    );
    // A fetch that failed while planning is reported as the registry's error (a 401,
    // a dropped connection), not as the document it was fetching.
    let plan = layout::plan(&blobs, plan_options).map_err(|e| blobs.failure().unwrap_or(e))?;
    let client = Arc::new(client);
    let reference = Arc::new(reference);
    let layers = plan
        .layers
        .iter()
        .map(|layer| {
            let digest = layer.digest.clone().unwrap_or_default();
            let expected_size = layer.size;
            let (client, reference, rt) = (Arc::clone(&client), Arc::clone(&reference), Arc::clone(&rt));
            let open: crate::source::OpenLayer = Box::new(move || {
                let sized = rt
                    .block_on(client.pull_blob_stream(&reference, digest.as_str()))
                    .map_err(|e| io::Error::other(format!("blob {digest}: {}", error_chain(&e))))?;
                if let (Some(announced), Some(expected)) = (sized.content_length, expected_size) {
                    if announced != expected {
                        return Err(io::Error::other(format!(
                            "blob {digest}: the registry announces {announced} bytes, the manifest says {expected}"
                        )));
                    }
                }
                let stream = sized.stream.map(|r| r.map_err(|e| io::Error::other(error_chain(&e))));
                Ok(Box::new(BlobStream {
                    digest: digest.clone(),
                    inner: StreamReader::new(&rt, stream),
                }) as Box<dyn Read + Send>)
            });
            LayerSource::Stream {
                open,
                size: layer.size,
            }
        })
        .collect();
    Ok(LayeredImage {
        name: spec.to_string(),
        plan,
        layers,
    })
}

/// A client for `registry`, over plain HTTP when `plain`.
fn client_for(registry: &str, plain: bool) -> std::result::Result<Client, String> {
    // reqwest is built without a default TLS provider so that ring, not aws-lc-rs
    // (cmake, minutes of build), does the crypto. Installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = ClientConfig {
        protocol: if plain {
            ClientProtocol::HttpsExcept(vec![registry.to_string()])
        } else {
            ClientProtocol::Https
        },
        // Platforms are chosen by layout::plan, like for any other index.
        platform_resolver: None,
        connect_timeout: Some(Duration::from_secs(30)),
        // A registry that stops sending mid-layer is an error, not a hang.
        read_timeout: Some(Duration::from_secs(120)),
        ..Default::default()
    };
    Client::try_from(config).map_err(|e| format!("cannot set up a client: {e}"))
}

/// Entries asked for per page of `/v2/_catalog` and of a tag list.
const PAGE: usize = 200;

/// Pages followed at most, so a registry that keeps answering with full pages cannot
/// keep a listing going for ever.
const MAX_PAGES: usize = 10_000;

/// The repositories and tags of one registry, for `layerwaste scan docker://HOST[/PREFIX]`,
/// with the same client, credentials and plain-HTTP rule as [`open`].
///
/// Pages are followed with `n` and `last` (distribution's pagination): a page as long
/// as asked for means there may be more, so the next starts after its last name. The
/// `Link` header that registries also send says the same; oci-client does not expose
/// it, and following `last` reaches the same pages.
pub struct Lister {
    registry: String,
    client: Client,
    rt: Arc<Runtime>,
    credentials: Credentials,
    plain: bool,
}

impl Lister {
    pub fn new(registry: &str, sources: &SourceOptions) -> Result<Lister> {
        let fail = |why: String| Error::Registry {
            reference: format!("docker://{registry}"),
            registry: registry.to_string(),
            why,
        };
        let plain = plain_http_allowed(registry, &sources.insecure_registries);
        let client = client_for(registry, plain).map_err(fail)?;
        let rt = runtime(1).map_err(|e| fail(format!("cannot start the I/O runtime: {e}")))?;
        Ok(Lister {
            registry: registry.to_string(),
            client,
            rt,
            credentials: Credentials::find(registry),
            plain,
        })
    }

    fn fail(&self, what: &str, why: String) -> Error {
        Error::Registry {
            reference: format!("docker://{}/{what}", self.registry),
            registry: self.registry.clone(),
            why,
        }
    }

    /// Every repository of the catalog, in the registry's order.
    pub fn repositories(&self) -> Result<Vec<String>> {
        // The catalog is not a repository's; any name gives oci-client the registry.
        let reference = Reference::with_tag(self.registry.clone(), "catalog".into(), "x".into());
        self.pages("/v2/_catalog", |last| {
            self.rt
                .block_on(
                    self.client
                        .catalog(&reference, &self.credentials.auth, Some(PAGE), last),
                )
                .map(|r| r.repositories)
        })
    }

    /// Every tag of `repository`.
    pub fn tags(&self, repository: &str) -> Result<Vec<String>> {
        let reference =
            Reference::with_tag(self.registry.clone(), repository.to_string(), "x".into());
        self.pages(&format!("{repository}: its tag list"), |last| {
            self.rt
                .block_on(self.client.list_tags(
                    &reference,
                    &self.credentials.auth,
                    Some(PAGE),
                    last,
                ))
                .map(|r| r.tags)
        })
    }

    fn pages(
        &self,
        what: &str,
        mut page: impl FnMut(Option<&str>) -> std::result::Result<Vec<String>, OciDistributionError>,
    ) -> Result<Vec<String>> {
        let mut all: Vec<String> = Vec::new();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let last = all.last().cloned();
            let names = page(last.as_deref())
                .map_err(|e| self.fail(what, describe(&e, what, &self.credentials, self.plain)))?;
            let full = names.len() >= PAGE;
            let before = all.len();
            // Keep what is new, in the registry's own order: its order need not be
            // ours (the spec's tag order is case-insensitive), and a registry that
            // ignores `last` repeats the first page, which then adds nothing and ends it.
            for name in names {
                if seen.insert(name.clone()) {
                    all.push(name);
                }
            }
            if !full || all.len() == before {
                return Ok(all);
            }
        }
        Err(self.fail(
            what,
            format!("more than {MAX_PAGES} pages of {PAGE}; name a narrower prefix"),
        ))
    }
}

/// Plain HTTP only where nobody else can listen in: the loopback names, and registries
/// the user named with `--insecure-registry` (as `host` or `host:port`).
fn plain_http_allowed(registry: &str, insecure: &[String]) -> bool {
    let host = match registry.strip_prefix('[') {
        // [::1]:5000
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.rsplit_once(':').map_or(registry, |(h, _)| h),
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
        || insecure
            .iter()
            .any(|i| i.eq_ignore_ascii_case(registry) || i.eq_ignore_ascii_case(host))
}

/// A layer's bytes with the blob named in every error, so a failure deep in a gzip
/// stream still says which download broke.
struct BlobStream {
    digest: String,
    inner: StreamReader,
}

impl Read for BlobStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let text = e.to_string();
            // oci-client reports "Invalid digest. Expected A, got B" at the end of a
            // body whose bytes are not what the manifest promised.
            let text = match text.split_once(", got ") {
                Some((_, found)) if text.starts_with("Invalid digest") => {
                    format!("digest mismatch: the registry sent content with digest {found}")
                }
                _ => text,
            };
            io::Error::new(e.kind(), format!("blob {}: {text}", self.digest))
        })
    }
}

fn too_big(spec: &str, what: &str, len: u64, options: &PlanOptions) -> Error {
    Error::Limit {
        source_name: spec.to_string(),
        what: format!("{what} ({len} bytes)"),
        limit: options.max_metadata_bytes,
        hint: "metadata documents are small; raise --max-metadata-bytes if this one is real",
    }
}

/// Says what went wrong in words a user can act on: a 401 says where credentials were
/// looked for; a TLS failure on a plain-HTTP registry points at --insecure-registry.
fn describe(
    e: &OciDistributionError,
    what: &str,
    credentials: &Credentials,
    plain: bool,
) -> String {
    match e {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => {
            format!(
                "401 Unauthorized fetching {what}: {}",
                credentials.explain()
            )
        }
        OciDistributionError::RegistryError { envelope, .. } => {
            let unknown = envelope.errors.iter().any(|e| {
                let code = format!("{:?}", e.code);
                code.contains("ManifestUnknown") || code.contains("NameUnknown")
            });
            if unknown {
                format!("no such image: fetching {what}: {envelope}")
            } else {
                format!("fetching {what}: {envelope}")
            }
        }
        OciDistributionError::ServerError { code, message, .. } => {
            format!("fetching {what}: HTTP {code}: {}", message.trim())
        }
        e => {
            let text = error_chain(e);
            let tls = text.contains("InvalidContentType")
                || text.contains("tls")
                || text.contains("certificate");
            if tls && !plain {
                format!(
                    "fetching {what}: {text} (if this registry speaks plain HTTP, pass \
                     --insecure-registry HOST)"
                )
            } else {
                format!("fetching {what}: {text}")
            }
        }
    }
}

/// Credentials for one registry, from `~/.docker/config.json` (or `$DOCKER_CONFIG`).
struct Credentials {
    auth: RegistryAuth,
    registry: String,
    file: Option<PathBuf>,
    /// Why the file gave nothing usable, when it did not.
    note: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

const DOCKER_HUB: [&str; 3] = ["index.docker.io", "docker.io", "registry-1.docker.io"];

impl Credentials {
    fn find(registry: &str) -> Credentials {
        let file = std::env::var_os("DOCKER_CONFIG")
            .map(|d| PathBuf::from(d).join("config.json"))
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
            });
        let mut found = Credentials {
            auth: RegistryAuth::Anonymous,
            registry: registry.to_string(),
            file: file.clone(),
            note: None,
        };
        let Some(path) = file else {
            found.note = Some("no HOME or DOCKER_CONFIG to find config.json in".into());
            return found;
        };
        let config: DockerConfig = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(c) => c,
                Err(e) => {
                    found.note = Some(format!("{} is not valid JSON: {e}", path.display()));
                    return found;
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                found.note = Some(format!("{} does not exist", path.display()));
                return found;
            }
            Err(e) => {
                found.note = Some(format!("cannot read {}: {e}", path.display()));
                return found;
            }
        };
        let entry = config
            .auths
            .iter()
            .find(|(key, _)| same_registry(key, registry))
            .map(|(_, e)| e);
        match entry.and_then(|e| e.credentials()) {
            Some(auth) => found.auth = auth,
            None => {
                let helper = config
                    .cred_helpers
                    .iter()
                    .find(|(k, _)| same_registry(k, registry))
                    .map(|(_, h)| h)
                    .or(config.creds_store.as_ref());
                found.note = Some(match (entry, helper) {
                    (Some(e), _) if e.identitytoken.is_some() => format!(
                        "{} holds only an OAuth identity token for {registry}, which layerwaste \
                         cannot exchange",
                        path.display()
                    ),
                    (_, Some(h)) => format!(
                        "the credentials for {registry} are in the credential helper \
                         docker-credential-{h}, which layerwaste does not run; put them in \
                         \"auths\" of {}",
                        path.display()
                    ),
                    _ => format!("{} has no \"auths\" entry for {registry}", path.display()),
                });
            }
        }
        found
    }

    /// For a 401: were credentials sent, and where would they come from.
    fn explain(&self) -> String {
        match (&self.auth, &self.note) {
            (RegistryAuth::Anonymous, Some(note)) => format!(
                "the registry wants credentials and none were sent ({note}; `docker login {}` \
                 writes them)",
                self.registry
            ),
            (RegistryAuth::Anonymous, None) => {
                "the registry wants credentials and none were sent".to_string()
            }
            _ => format!(
                "the registry refused the credentials for {} from {}",
                self.registry,
                self.file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
        }
    }
}

impl AuthEntry {
    fn credentials(&self) -> Option<RegistryAuth> {
        use base64::Engine as _;
        if let Some(token) = &self.registrytoken {
            return Some(RegistryAuth::Bearer(token.clone()));
        }
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            return Some(RegistryAuth::Basic(u.clone(), p.clone()));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(self.auth.as_deref()?.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        (!user.is_empty()).then(|| RegistryAuth::Basic(user.to_string(), password.to_string()))
    }
}

/// `auths` keys are written as `host`, `host:port`, or a URL
/// (`https://index.docker.io/v1/`).
fn same_registry(key: &str, registry: &str) -> bool {
    let key = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let key = key.split('/').next().unwrap_or(key).to_ascii_lowercase();
    let registry = registry.to_ascii_lowercase();
    key == registry
        || (DOCKER_HUB.contains(&key.as_str()) && DOCKER_HUB.contains(&registry.as_str()))
}

/// The documents of a registry image, fetched on demand for [`layout::plan`]. An
/// `index.json` naming the top manifest stands in for the layout's own, so plan reads
/// a registry exactly as it reads an OCI layout.
struct RegistryBlobs<'a> {
    name: String,
    client: &'a Client,
    rt: &'a Runtime,
    reference: &'a Reference,
    credentials: &'a Credentials,
    plain: bool,
    documents: Mutex<HashMap<String, Vec<u8>>>,
    /// Digests listed as manifests by an index: fetched from `/manifests/`, everything
    /// else from `/blobs/`.
    manifests: Mutex<HashSet<String>>,
    /// A registry failure while planning. `Blobs` can only return the library error, so
    /// the registry's own (401, unreachable) is kept here and preferred.
    failure: Mutex<Option<Error>>,
}

impl<'a> RegistryBlobs<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        spec: &str,
        client: &'a Client,
        rt: &'a Runtime,
        reference: &'a Reference,
        credentials: &'a Credentials,
        plain: bool,
        digest: &str,
        top: Vec<u8>,
    ) -> Self {
        let media_type = media_type_of(&top);
        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{"mediaType": media_type, "digest": digest, "size": top.len()}],
        });
        let blobs = RegistryBlobs {
            name: spec.to_string(),
            client,
            rt,
            reference,
            credentials,
            plain,
            documents: Mutex::new(HashMap::new()),
            manifests: Mutex::new(HashSet::new()),
            failure: Mutex::new(None),
        };
        blobs.remember(&blob_name(digest), top);
        blobs.remember("index.json", index.to_string().into_bytes());
        blobs
    }

    fn failure(&self) -> Option<Error> {
        self.failure.lock().ok()?.take()
    }

    fn remember(&self, name: &str, bytes: Vec<u8>) {
        #[derive(serde::Deserialize)]
        struct Listed {
            digest: String,
        }
        #[derive(serde::Deserialize)]
        struct Index {
            manifests: Vec<Listed>,
        }
        if let Ok(index) = serde_json::from_slice::<Index>(&bytes) {
            if let Ok(mut m) = self.manifests.lock() {
                m.extend(index.manifests.into_iter().map(|l| l.digest));
            }
        }
        if let Ok(mut d) = self.documents.lock() {
            d.insert(name.to_string(), bytes);
        }
    }

    fn fetch(&self, digest: &str, limit: u64) -> std::result::Result<Vec<u8>, String> {
        let is_manifest = self.manifests.lock().is_ok_and(|m| m.contains(digest));
        if is_manifest {
            let reference = self.reference.clone_with_digest(digest.to_string());
            let what = format!("the manifest {digest}");
            let (bytes, _) = self
                .rt
                .block_on(self.client.pull_manifest_raw(
                    &reference,
                    &self.credentials.auth,
                    &ACCEPTED_MANIFESTS,
                ))
                .map_err(|e| describe(&e, &what, self.credentials, self.plain))?;
            return Ok(bytes.to_vec());
        }
        let what = format!("the blob {digest}");
        self.rt.block_on(async {
            let sized = self
                .client
                .pull_blob_stream(self.reference, digest)
                .await
                .map_err(|e| describe(&e, &what, self.credentials, self.plain))?;
            let mut stream = sized.stream;
            let mut bytes = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| format!("fetching {what}: {}", error_chain(&e)))?;
                bytes.extend_from_slice(&chunk);
                if bytes.len() as u64 > limit {
                    return Err(format!(
                        "{what} is larger than --max-metadata-bytes ({limit})"
                    ));
                }
            }
            Ok(bytes)
        })
    }
}

fn blob_name(digest: &str) -> String {
    match digest.split_once(':') {
        Some((alg, hex)) => format!("blobs/{alg}/{hex}"),
        None => format!("blobs/{digest}"),
    }
}

fn media_type_of(document: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(rename = "mediaType", default)]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Doc>(document) {
        Ok(Doc {
            media_type: Some(t),
            ..
        }) => t,
        Ok(Doc {
            manifests: Some(_), ..
        }) => ACCEPTED_MANIFESTS[0].to_string(),
        _ => ACCEPTED_MANIFESTS[2].to_string(),
    }
}

impl Blobs for RegistryBlobs<'_> {
    fn source_name(&self) -> &str {
        &self.name
    }

    /// Whatever the manifests name is in the registry as far as planning cares; a
    /// blob that is not there fails when it is fetched, with the registry's answer.
    fn exists(&self, name: &str) -> bool {
        name == "index.json" || name.starts_with("blobs/")
    }

    /// Unknown until a blob is fetched; layers are checked against their descriptor's
    /// digest (and so size) while they stream, documents when they are read.
    fn size(&self, _name: &str) -> Option<u64> {
        None
    }

    fn read_document(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        if let Some(bytes) = self
            .documents
            .lock()
            .ok()
            .and_then(|d| d.get(name).cloned())
        {
            return Ok(bytes);
        }
        let digest = name
            .strip_prefix("blobs/")
            .and_then(|rest| rest.split_once('/'))
            .map(|(alg, hex)| format!("{alg}:{hex}"))
            .ok_or_else(|| Error::Metadata {
                source_name: self.name.clone(),
                document: name.to_string(),
                why: "missing".into(),
            })?;
        match self.fetch(&digest, limit) {
            Ok(bytes) => {
                self.remember(name, bytes.clone());
                Ok(bytes)
            }
            Err(why) => {
                let e = Error::Registry {
                    reference: self.name.clone(),
                    registry: self.reference.resolve_registry().to_string(),
                    why,
                };
                let shown = Error::Metadata {
                    source_name: self.name.clone(),
                    document: name.to_string(),
                    why: e.to_string(),
                };
                if let Ok(mut f) = self.failure.lock() {
                    f.get_or_insert(e);
                }
                Err(shown)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback_and_named_hosts() {
        assert!(plain_http_allowed("127.0.0.1:5000", &[]));
        assert!(plain_http_allowed("localhost", &[]));
        assert!(plain_http_allowed("[::1]:5000", &[]));
        assert!(!plain_http_allowed("registry.example.com", &[]));
        assert!(!plain_http_allowed("localhost.example.com:5000", &[]));
        let insecure = vec!["registry.lan:5000".to_string(), "other.lan".to_string()];
        assert!(plain_http_allowed("registry.lan:5000", &insecure));
        assert!(!plain_http_allowed("registry.lan:6000", &insecure));
        assert!(plain_http_allowed("other.lan:443", &insecure));
    }

    #[test]
    fn config_keys_match_their_registry() {
        assert!(same_registry(
            "https://index.docker.io/v1/",
            "index.docker.io"
        ));
        assert!(same_registry("docker.io", "index.docker.io"));
        assert!(same_registry("127.0.0.1:5001", "127.0.0.1:5001"));
        assert!(same_registry("http://127.0.0.1:5001/v2/", "127.0.0.1:5001"));
        assert!(!same_registry("127.0.0.1:5000", "127.0.0.1:5001"));
    }

    #[test]
    fn auth_entries_decode() {
        let e = AuthEntry {
            auth: Some("dXNlcjpwYTpzcw==".into()), // user:pa:ss
            ..Default::default()
        };
        match e.credentials() {
            Some(RegistryAuth::Basic(u, p)) => {
                assert_eq!((u.as_str(), p.as_str()), ("user", "pa:ss"))
            }
            _ => panic!("basic credentials expected"),
        }
        let e = AuthEntry {
            auth: Some("not base64!".into()),
            ..Default::default()
        };
        assert!(e.credentials().is_none());
    }
}
