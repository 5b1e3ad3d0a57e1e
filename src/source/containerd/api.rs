//! containerd through its gRPC API: `containerd://[NAMESPACE/]NAME[:TAG|@DIGEST]`.
//!
//! gRPC is HTTP/2 with each message framed as a flag byte, a big-endian length and the
//! protobuf bytes, and the status in the trailers. That, and the few messages of the
//! namespaces, images and content services read here, is small enough to speak with
//! hyper and hand-written prost structs (field numbers from containerd's `api/`
//! protos), which keeps `protoc` and the generated code of every containerd service
//! out of the build.
//!
//! The names of every namespace are listed (Namespaces/List, Images/List), resolved
//! like the offline route does, and the documents are read whole with Content/Read and
//! planned as an OCI layout. Layers stream from Content/Read into the walker, several at
//! once over one connection, each hashed as it streams and checked against its digest
//! before the reader reports its end.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use sha2::{Digest as _, Sha256};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

use super::{index_for, plan_target, resolve, Catalog, ContentBlobs, ContentReader, Target};
use crate::error::{Error, Result};
use crate::source::layout::PlanOptions;
use crate::source::{LayerSource, LayeredImage, OpenLayer, SourceOptions};

/// Where containerd listens when nothing says otherwise.
pub const DEFAULT_ADDRESS: &str = "/run/containerd/containerd.sock";

/// The largest gRPC message accepted (containerd's own default limit is 16 MiB).
const MAX_MESSAGE: usize = 16 << 20;
/// How much of a blob one Content/Read response carries is containerd's choice (1 MiB
/// chunks); this is only how many may wait for the walker.
const CHANNEL_CHUNKS: usize = 16;

mod pb {
    //! The fields of containerd's messages that are read here; prost skips the rest.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListNamespacesRequest {
        #[prost(string, tag = "1")]
        pub filter: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Namespace {
        #[prost(string, tag = "1")]
        pub name: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListNamespacesResponse {
        #[prost(message, repeated, tag = "1")]
        pub namespaces: Vec<Namespace>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListImagesRequest {
        #[prost(string, repeated, tag = "1")]
        pub filters: Vec<String>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Descriptor {
        #[prost(string, tag = "1")]
        pub media_type: String,
        #[prost(string, tag = "2")]
        pub digest: String,
        #[prost(int64, tag = "3")]
        pub size: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Image {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "3")]
        pub target: Option<Descriptor>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListImagesResponse {
        #[prost(message, repeated, tag = "1")]
        pub images: Vec<Image>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct InfoRequest {
        #[prost(string, tag = "1")]
        pub digest: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Info {
        #[prost(string, tag = "1")]
        pub digest: String,
        #[prost(int64, tag = "2")]
        pub size: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct InfoResponse {
        #[prost(message, optional, tag = "1")]
        pub info: Option<Info>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ReadContentRequest {
        #[prost(string, tag = "1")]
        pub digest: String,
        #[prost(int64, tag = "2")]
        pub offset: i64,
        #[prost(int64, tag = "3")]
        pub size: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ReadContentResponse {
        #[prost(int64, tag = "1")]
        pub offset: i64,
        #[prost(bytes = "bytes", tag = "2")]
        pub data: bytes::Bytes,
    }
}

/// A gRPC status other than OK.
#[derive(Debug)]
struct Status {
    code: u32,
    message: String,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.code {
            1 => "cancelled",
            2 => "unknown",
            3 => "invalid argument",
            5 => "not found",
            7 => "permission denied",
            8 => "resource exhausted",
            12 => "unimplemented",
            13 => "internal",
            14 => "unavailable",
            16 => "unauthenticated",
            _ => "error",
        };
        write!(f, "{name} (gRPC {}): {}", self.code, self.message)
    }
}

/// One HTTP/2 connection to containerd, shared by every call.
struct Client {
    runtime: Arc<Runtime>,
    sender: SendRequest<Full<Bytes>>,
}

fn frame(message: &impl prost::Message) -> Bytes {
    let body = message.encode_to_vec();
    let mut out = Vec::with_capacity(5 + body.len());
    out.push(0);
    out.extend((body.len() as u32).to_be_bytes());
    out.extend(body);
    Bytes::from(out)
}

/// Splits complete gRPC messages off the front of `buf`.
fn next_message(buf: &mut BytesMut) -> std::result::Result<Option<Bytes>, String> {
    if buf.len() < 5 {
        return Ok(None);
    }
    if buf[0] != 0 {
        return Err("containerd sent a compressed message, which was not asked for".into());
    }
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    if len > MAX_MESSAGE {
        return Err(format!(
            "a {len}-byte gRPC message is over the {MAX_MESSAGE}-byte limit"
        ));
    }
    if buf.len() < 5 + len {
        return Ok(None);
    }
    buf.advance(5);
    Ok(Some(buf.split_to(len).freeze()))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn status_of(headers: &hyper::HeaderMap) -> Option<Status> {
    let code: u32 = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let message = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .map(percent_decode)
        .unwrap_or_default();
    Some(Status { code, message })
}

/// A call's failure: the connection, the protocol, or a status.
#[derive(Debug)]
enum CallError {
    Transport(String),
    Status(Status),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Transport(s) => f.write_str(s),
            CallError::Status(s) => s.fmt(f),
        }
    }
}

impl CallError {
    fn not_found(&self) -> bool {
        matches!(self, CallError::Status(Status { code: 5, .. }))
    }
}

/// Messages of a server-streaming response, in order, ending with the status.
type Messages = mpsc::Receiver<std::result::Result<Bytes, CallError>>;

impl Client {
    async fn connect(path: PathBuf) -> io::Result<SendRequest<Full<Bytes>>> {
        let stream = tokio::net::UnixStream::connect(&path).await?;
        let (sender, connection) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .map_err(|e| io::Error::other(format!("HTTP/2 handshake: {e}")))?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// Starts a call; its response messages arrive on the returned channel, which a
    /// task on the runtime fills until the status, or until the receiver is dropped.
    fn call(
        &self,
        method: &str,
        namespace: Option<&str>,
        request: Bytes,
        capacity: usize,
    ) -> std::result::Result<Messages, CallError> {
        let mut builder = hyper::Request::post(format!("http://localhost/{method}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        if let Some(ns) = namespace {
            builder = builder.header("containerd-namespace", ns);
        }
        let req = builder
            .body(Full::new(request))
            .map_err(|e| CallError::Transport(format!("{method}: {e}")))?;
        let mut sender = self.sender.clone();
        let response = self.runtime.block_on(async move {
            sender.ready().await?;
            sender.send_request(req).await
        });
        let response = response.map_err(|e| CallError::Transport(format!("{method}: {e}")))?;
        if let Some(status) = status_of(response.headers()).filter(|s| s.code != 0) {
            // A trailers-only response: the call failed before any message.
            return Err(CallError::Status(status));
        }
        if response.status() != hyper::StatusCode::OK {
            return Err(CallError::Transport(format!(
                "{method}: HTTP {} (is this containerd's gRPC socket?)",
                response.status()
            )));
        }
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let method = method.to_string();
        self.runtime.spawn(async move {
            let mut body = response.into_body();
            let mut buf = BytesMut::new();
            loop {
                let frame = match body.frame().await {
                    None => {
                        let _ = tx
                            .send(Err(CallError::Transport(format!(
                                "{method}: the response ended without a status"
                            ))))
                            .await;
                        return;
                    }
                    Some(Err(e)) => {
                        let _ = tx
                            .send(Err(CallError::Transport(format!("{method}: {e}"))))
                            .await;
                        return;
                    }
                    Some(Ok(frame)) => frame,
                };
                let frame = match frame.into_data() {
                    Ok(data) => {
                        buf.extend_from_slice(&data);
                        loop {
                            match next_message(&mut buf) {
                                Ok(Some(m)) => {
                                    if tx.send(Ok(m)).await.is_err() {
                                        return;
                                    }
                                }
                                Ok(None) => break,
                                Err(why) => {
                                    let _ = tx
                                        .send(Err(CallError::Transport(format!("{method}: {why}"))))
                                        .await;
                                    return;
                                }
                            }
                        }
                        continue;
                    }
                    Err(frame) => frame,
                };
                if let Ok(trailers) = frame.into_trailers() {
                    let status = status_of(&trailers);
                    let result = match status {
                        Some(s) if s.code == 0 => None,
                        Some(s) => Some(CallError::Status(s)),
                        None => Some(CallError::Transport(format!(
                            "{method}: the response has no gRPC status"
                        ))),
                    };
                    let result = result.or_else(|| {
                        (!buf.is_empty()).then(|| {
                            CallError::Transport(format!("{method}: a message was cut short"))
                        })
                    });
                    if let Some(e) = result {
                        let _ = tx.send(Err(e)).await;
                    }
                    return;
                }
            }
        });
        Ok(rx)
    }

    /// A call with one response message.
    fn unary<Req: prost::Message, Resp: prost::Message + Default>(
        &self,
        method: &str,
        namespace: Option<&str>,
        request: &Req,
    ) -> std::result::Result<Resp, CallError> {
        let mut rx = self.call(method, namespace, frame(request), 2)?;
        let mut first = None;
        while let Some(item) = rx.blocking_recv() {
            let m = item?;
            if first.is_none() {
                first = Some(m);
            }
        }
        let bytes = first.ok_or_else(|| {
            CallError::Transport(format!("{method}: the response has no message"))
        })?;
        Resp::decode(bytes)
            .map_err(|e| CallError::Transport(format!("{method}: not a valid response: {e}")))
    }

    fn catalog(&self) -> std::result::Result<Catalog, CallError> {
        let namespaces: pb::ListNamespacesResponse = self.unary(
            "containerd.services.namespaces.v1.Namespaces/List",
            None,
            &pb::ListNamespacesRequest::default(),
        )?;
        let mut catalog = Catalog::new();
        for ns in namespaces.namespaces {
            let images: pb::ListImagesResponse = self.unary(
                "containerd.services.images.v1.Images/List",
                Some(&ns.name),
                &pb::ListImagesRequest::default(),
            )?;
            let entry = catalog.entry(ns.name).or_default();
            for image in images.images {
                let target = image.target.unwrap_or_default();
                entry.insert(
                    image.name,
                    Target {
                        media_type: target.media_type,
                        digest: target.digest,
                        size: u64::try_from(target.size).unwrap_or(0),
                    },
                );
            }
        }
        Ok(catalog)
    }

    fn info(&self, namespace: &str, digest: &str) -> std::result::Result<u64, CallError> {
        let r: pb::InfoResponse = self.unary(
            "containerd.services.content.v1.Content/Info",
            Some(namespace),
            &pb::InfoRequest {
                digest: digest.to_string(),
            },
        )?;
        Ok(r.info
            .map(|i| u64::try_from(i.size).unwrap_or(0))
            .unwrap_or(0))
    }

    /// Streams a blob's bytes.
    fn read(&self, namespace: &str, digest: &str) -> std::result::Result<Messages, CallError> {
        self.call(
            "containerd.services.content.v1.Content/Read",
            Some(namespace),
            frame(&pb::ReadContentRequest {
                digest: digest.to_string(),
                offset: 0,
                size: 0,
            }),
            CHANNEL_CHUNKS,
        )
    }
}

/// A blob streamed from Content/Read, hashed as it goes: the end of file is reported
/// only once the bytes are the digest's and the size the descriptor's.
struct BlobStream {
    digest: String,
    expected_size: Option<u64>,
    rx: Messages,
    current: Bytes,
    hasher: Option<Sha256>,
    seen: u64,
    done: bool,
    _runtime: Arc<Runtime>,
}

impl BlobStream {
    fn fail(&mut self, why: String) -> io::Error {
        self.done = true;
        io::Error::other(format!("blob {}: {why}", self.digest))
    }

    fn finish(&mut self) -> io::Result<()> {
        self.done = true;
        if let Some(expected) = self.expected_size {
            if expected != self.seen {
                return Err(self.fail(format!(
                    "size mismatch: the manifest says {expected} bytes, containerd sent {}",
                    self.seen
                )));
            }
        }
        if let Some(hasher) = self.hasher.take() {
            let found = crate::source::digest_string("sha256", &hasher.finalize());
            if found != self.digest {
                return Err(self.fail(format!(
                    "digest mismatch: containerd sent content with digest {found}"
                )));
            }
        }
        Ok(())
    }
}

impl Read for BlobStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Ok(message)) => {
                    let chunk = pb::ReadContentResponse::decode(message).map_err(|e| {
                        self.fail(format!("not a valid Content/Read response: {e}"))
                    })?;
                    if u64::try_from(chunk.offset).ok() != Some(self.seen) {
                        let why = format!(
                            "containerd sent bytes at offset {} where {} was next",
                            chunk.offset, self.seen
                        );
                        return Err(self.fail(why));
                    }
                    self.seen += chunk.data.len() as u64;
                    if let Some(h) = &mut self.hasher {
                        h.update(&chunk.data);
                    }
                    self.current = chunk.data;
                }
                Some(Err(e)) => {
                    let why = e.to_string();
                    return Err(self.fail(why));
                }
                None => {
                    self.finish()?;
                    return Ok(0);
                }
            }
        }
        let n = self.current.len().min(buf.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

use prost::Message as _;

/// Reads documents through the content service of one namespace.
struct ApiContent {
    client: Arc<Client>,
    namespace: String,
}

impl ContentReader for ApiContent {
    fn size(&self, digest: &str) -> Option<u64> {
        self.client.info(&self.namespace, digest).ok()
    }

    fn read(&self, digest: &str, limit: u64) -> std::result::Result<Vec<u8>, String> {
        let mut rx = self
            .client
            .read(&self.namespace, digest)
            .map_err(|e| format!("Content/Read: {e}"))?;
        let mut out = Vec::new();
        while let Some(item) = rx.blocking_recv() {
            let m = item.map_err(|e| e.to_string())?;
            let chunk = pb::ReadContentResponse::decode(m)
                .map_err(|e| format!("not a valid Content/Read response: {e}"))?;
            if u64::try_from(chunk.offset).ok() != Some(out.len() as u64) {
                return Err(format!(
                    "containerd sent bytes at offset {} where {} was next",
                    chunk.offset,
                    out.len()
                ));
            }
            out.extend_from_slice(&chunk.data);
            if out.len() as u64 > limit {
                return Err(format!("more than {limit} bytes (--max-metadata-bytes)"));
            }
        }
        Ok(out)
    }
}

/// The socket: `--containerd-address`, then `CONTAINERD_ADDRESS`, then the default.
pub fn address(sources: &SourceOptions) -> PathBuf {
    let raw = sources
        .containerd_address
        .clone()
        .or_else(|| {
            std::env::var_os("CONTAINERD_ADDRESS")
                .filter(|a| !a.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from(DEFAULT_ADDRESS));
    match raw.to_str().and_then(|s| s.strip_prefix("unix://")) {
        Some(stripped) => PathBuf::from(stripped),
        None => raw,
    }
}

/// Every image of containerd (of `namespace`, or of all when it is empty), as
/// `containerd://NAMESPACE/NAME`, for `layerwaste scan containerd:[NAMESPACE]`.
pub fn list_images(namespace: &str, sources: &SourceOptions) -> Result<Vec<String>> {
    let socket = address(sources);
    let fail = |why: String| Error::Store {
        image: format!("containerd:{namespace}"),
        store: format!("containerd at {}", socket.display()),
        why,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("layerwaste-containerd")
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|e| fail(format!("cannot start the I/O runtime: {e}")))?;
    let sender = runtime
        .block_on(Client::connect(socket.clone()))
        .map_err(|e| fail(connect_advice(&socket, &e)))?;
    let client = Client {
        runtime: Arc::clone(&runtime),
        sender,
    };
    let catalog = client
        .catalog()
        .map_err(|e| fail(format!("listing images: {e}")))?;
    if !namespace.is_empty() && !catalog.contains_key(namespace) {
        return Err(fail(format!("no namespace {namespace:?}")));
    }
    Ok(catalog
        .iter()
        .filter(|(ns, _)| namespace.is_empty() || ns.as_str() == namespace)
        .flat_map(|(ns, images)| {
            images
                .keys()
                .map(move |name| format!("containerd://{ns}/{name}"))
        })
        .collect())
}

/// Opens `containerd://[NAMESPACE/]NAME`. `spec` is what the user typed.
pub fn open(
    spec: &str,
    name: &str,
    options: &PlanOptions,
    sources: &SourceOptions,
) -> Result<LayeredImage> {
    open_at(spec, name, &address(sources), options)
}

/// Opens `[NAMESPACE/]NAME` through the containerd listening on `socket`.
pub fn open_at(
    spec: &str,
    name: &str,
    socket: &std::path::Path,
    options: &PlanOptions,
) -> Result<LayeredImage> {
    let store = format!("containerd at {}", socket.display());
    let fail = |why: String| Error::Store {
        image: spec.to_string(),
        store: store.clone(),
        why,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("layerwaste-containerd")
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|e| fail(format!("cannot start the I/O runtime: {e}")))?;
    let sender = runtime
        .block_on(Client::connect(socket.to_path_buf()))
        .map_err(|e| fail(connect_advice(socket, &e)))?;
    let client = Arc::new(Client {
        runtime: Arc::clone(&runtime),
        sender,
    });
    let catalog = client
        .catalog()
        .map_err(|e| fail(format!("listing images: {e}")))?;
    let resolved = resolve(&catalog, name).map_err(&fail)?;
    let blobs = ContentBlobs {
        name: spec.to_string(),
        index: index_for(&resolved.target),
        reader: ApiContent {
            client: Arc::clone(&client),
            namespace: resolved.namespace.clone(),
        },
    };
    let mut plan = plan_target(&blobs, &resolved, options, &store)?;
    let layers = plan
        .layers
        .iter()
        .map(|layer| {
            let digest = layer.digest.clone().unwrap_or_default();
            let expected_size = layer.size;
            let client = Arc::clone(&client);
            let namespace = resolved.namespace.clone();
            let open: OpenLayer = Box::new(move || {
                let rx = client.read(&namespace, &digest).map_err(|e| {
                    if e.not_found() {
                        io::Error::other(format!("blob {digest} is not in the content store"))
                    } else {
                        io::Error::other(format!("blob {digest}: {e}"))
                    }
                })?;
                let hasher = digest.starts_with("sha256:").then(Sha256::new);
                Ok(Box::new(BlobStream {
                    digest: digest.clone(),
                    expected_size,
                    rx,
                    current: Bytes::new(),
                    hasher,
                    seen: 0,
                    done: false,
                    _runtime: Arc::clone(&client.runtime),
                }) as Box<dyn Read + Send>)
            });
            LayerSource::Stream {
                open,
                size: layer.size,
            }
        })
        .collect();
    plan.tags = vec![resolved.name.clone()];
    Ok(LayeredImage {
        name: spec.to_string(),
        plan,
        layers,
    })
}

fn connect_advice(socket: &std::path::Path, e: &io::Error) -> String {
    let hint = match e.kind() {
        io::ErrorKind::NotFound => {
            " (is containerd running? name its socket with --containerd-address or \
             CONTAINERD_ADDRESS; with no daemon, read its root with --containerd-root DIR)"
        }
        io::ErrorKind::PermissionDenied => {
            " (containerd's socket belongs to root: run as root, or read a copy of its root \
             with --containerd-root DIR)"
        }
        io::ErrorKind::ConnectionRefused => " (nothing listens there: is containerd running?)",
        _ => "",
    };
    format!("cannot connect to {}: {e}{hint}", socket.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_and_limit() {
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&[0, 0, 0, 0, 3, b'a', b'b']);
        assert_eq!(next_message(&mut buf).unwrap(), None);
        buf.extend_from_slice(&[b'c', 0, 0, 0, 0, 0]);
        assert_eq!(next_message(&mut buf).unwrap().unwrap(), &b"abc"[..]);
        assert_eq!(next_message(&mut buf).unwrap().unwrap(), &b""[..]);
        buf.extend_from_slice(&[0, 0xff, 0, 0, 0]);
        assert!(next_message(&mut buf).unwrap_err().contains("limit"));
        let mut c = BytesMut::from(&[1u8, 0, 0, 0, 0][..]);
        assert!(next_message(&mut c).unwrap_err().contains("compressed"));
    }

    fn stream_of(digest: &str, size: Option<u64>, chunks: &[(i64, &[u8])]) -> BlobStream {
        let runtime = Arc::new(
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        );
        let (tx, rx) = mpsc::channel(chunks.len() + 1);
        for (offset, data) in chunks {
            let m = pb::ReadContentResponse {
                offset: *offset,
                data: Bytes::copy_from_slice(data),
            };
            tx.try_send(Ok(Bytes::from(m.encode_to_vec()))).unwrap();
        }
        BlobStream {
            digest: digest.to_string(),
            expected_size: size,
            rx,
            current: Bytes::new(),
            hasher: Some(Sha256::new()),
            seen: 0,
            done: false,
            _runtime: runtime,
        }
    }

    #[test]
    fn streamed_blobs_are_checked_before_their_end() {
        let good = crate::source::digest_string("sha256", &Sha256::digest(b"hello world"));
        let mut out = String::new();
        stream_of(&good, Some(11), &[(0, b"hello "), (6, b"world")])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello world");
        let err = stream_of(&good, Some(11), &[(0, b"hello "), (6, b"w0rld")])
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "blob {good}: digest mismatch: containerd sent content with digest {}",
                crate::source::digest_string("sha256", &Sha256::digest(b"hello w0rld"))
            )
        );
        let err = stream_of(&good, Some(12), &[(0, b"hello world")])
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("size mismatch"), "{err}");
        let err = stream_of(&good, None, &[(0, b"hello "), (7, b"orld")])
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("at offset 7 where 6"), "{err}");
    }

    #[test]
    fn grpc_messages_are_percent_decoded() {
        assert_eq!(
            percent_decode("image %22x%22: not found"),
            "image \"x\": not found"
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn the_address_is_flag_then_environment_then_default() {
        let flag = SourceOptions {
            containerd_address: Some("unix:///tmp/c.sock".into()),
            ..Default::default()
        };
        assert_eq!(address(&flag), PathBuf::from("/tmp/c.sock"));
    }
}
