//! The single-pass path for input that can be read only once.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;

use super::{finish, layer_error, record_layer, Analysis, Options};
use crate::error::{Error, Result};
use crate::format::codec::{GzipMembers, Labelled};
use crate::format::tar::{Kind, Streaming, TarReader};
use crate::model::Replay;
use crate::progress::Progress;
use crate::source::{self, MemoryBlobs, StreamInput};
use crate::text::escape_bytes;
use crate::walk::{self, Compression, LayerIndex, WalkError};

/// Reads the current member's data through the outer tar reader.
struct MemberData<'a, R: crate::format::tar::Skip>(&'a mut TarReader<R>);

impl<R: crate::format::tar::Skip> Read for MemberData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .read_data(buf)
            .map_err(|e| std::io::Error::other(e.why))
    }
}

/// Bytes of a layer member handed to its walker at a time.
const CHUNK: usize = 256 * 1024;
/// Chunks that may wait for a walker: enough that reading the outer stream does not
/// stall on a walker's short pauses, few enough that memory stays per-entry, not
/// per-byte (4 MiB per layer in flight).
const CHANNEL_CHUNKS: usize = 16;

type Walked = std::result::Result<LayerIndex, WalkError>;

/// Where layer walkers run: scoped threads, at most `in_flight` at once.
struct Workers<'scope, 'env> {
    scope: &'scope std::thread::Scope<'scope, 'env>,
    in_flight: usize,
}

/// A layer member's bytes as they arrive from the thread reading the outer archive.
struct ChunkReader {
    rx: mpsc::Receiver<std::result::Result<Vec<u8>, String>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Ok(Err(why)) => return Err(std::io::Error::other(why)),
                // The member ended: the sender is dropped after its last chunk.
                Err(_) => return Ok(0),
            }
        }
        let n = (self.chunk.len() - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Reads the outer archive front to back. Documents are kept; each layer member is
/// handed, chunk by chunk, to a walker thread of its own, so decompressing and
/// indexing layer N overlaps reading (and decompressing) the outer stream, and the
/// tail of one layer overlaps the start of the next. Results are collected by member
/// name; manifest.json, which docker save writes last, orders them afterwards.
#[allow(clippy::too_many_arguments)]
fn read_members<'scope, R: crate::format::tar::Skip>(
    name: &str,
    tar: &mut TarReader<R>,
    options: &'scope Options,
    progress: &'scope dyn Progress,
    cancel: &'scope AtomicBool,
    blobs: &mut MemoryBlobs,
    walked: &mut HashMap<String, Walked>,
    workers: &Workers<'scope, '_>,
) -> Result<()> {
    let limit = options.plan.max_metadata_bytes;
    let mut running: VecDeque<(String, std::thread::ScopedJoinHandle<'scope, Walked>)> =
        VecDeque::new();
    let join = |handle: std::thread::ScopedJoinHandle<'scope, Walked>| {
        handle.join().unwrap_or_else(|_| {
            Err(WalkError {
                why: "the layer walker failed unexpectedly".into(),
                entry: None,
            })
        })
    };
    let archive_error = |why: String| Error::Archive {
        source_name: name.to_string(),
        why,
    };
    loop {
        let header = match tar.next_header() {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(e) => {
                let member = e
                    .entry
                    .map(|p| format!(" (member {})", escape_bytes(&p)))
                    .unwrap_or_default();
                return Err(archive_error(format!(
                    "broken outer archive{member}: {}",
                    e.why
                )));
            }
        };
        let member = source::store::member_name(&String::from_utf8_lossy(tar.path()));
        match header.kind {
            Kind::Symlink | Kind::HardLink => {
                let target = String::from_utf8_lossy(tar.link()).into_owned();
                let joined = match (header.kind, member.rsplit_once('/')) {
                    (Kind::Symlink, Some((dir, _))) if !target.starts_with('/') => {
                        format!("{dir}/{target}")
                    }
                    _ => target,
                };
                blobs
                    .links
                    .insert(member, source::store::member_name(&joined));
                continue;
            }
            Kind::File => {}
            _ => continue,
        }
        // Peek at the start of the member to tell documents from layers.
        let mut head = vec![0u8; header.size.min(512) as usize];
        let mut got = 0;
        while got < head.len() {
            match tar.read_data(&mut head[got..]) {
                Ok(0) => {
                    return Err(archive_error(format!(
                        "member {member}: the archive ends inside it"
                    )))
                }
                Ok(n) => got += n,
                Err(e) => return Err(archive_error(format!("member {member}: {}", e.why))),
            }
        }
        let is_document = header.size <= limit
            && !source::looks_like_tar(&head)
            && Compression::sniff(&head) == Ok(Compression::None);
        let is_layer = source::looks_like_tar(&head)
            || Compression::sniff(&head).is_ok_and(|c| c != Compression::None);
        if is_document {
            let mut data = head;
            if let Err(e) = MemberData(tar).read_to_end(&mut data) {
                return Err(archive_error(format!("member {member}: {e}")));
            }
            blobs.documents.insert(member, data);
            continue;
        }
        blobs.large.insert(member.clone(), header.size);
        if !is_layer {
            continue;
        }
        while running.len() >= workers.in_flight {
            if let Some((done, handle)) = running.pop_front() {
                walked.insert(done, join(handle));
            }
        }
        let (tx, rx) = mpsc::sync_channel(CHANNEL_CHUNKS);
        let walk = &options.walk;
        let handle = workers.scope.spawn(move || {
            let mut reader = ChunkReader {
                rx,
                chunk: Vec::new(),
                at: 0,
            };
            let result = walk::walk_stream(&mut reader, walk, progress, cancel);
            progress.layer_done();
            result
        });
        running.push_back((member.clone(), handle));
        // A walker that stopped early (a corrupt layer) drops its receiver; the rest of
        // the member is then read and discarded, and its error kept for the report.
        let mut listening = tx.send(Ok(head)).is_ok();
        loop {
            let mut chunk = vec![0u8; CHUNK];
            let n = match tar.read_data(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let why = format!("member {member}: {}", e.why);
                    let _ = tx.send(Err(why.clone()));
                    return Err(archive_error(why));
                }
            };
            if listening {
                chunk.truncate(n);
                listening = tx.send(Ok(chunk)).is_ok();
            }
        }
    }
    for (done, handle) in running {
        walked.insert(done, join(handle));
    }
    Ok(())
}

/// The single-pass path for input that can be read only once: stdin, and archives
/// that are themselves compressed. Layers are walked as they stream past; the
/// documents, which docker save writes last, are kept in memory and order the layers
/// once the stream ends.
pub(super) fn analyze_stream(
    input: StreamInput,
    options: &Options,
    progress: &dyn Progress,
    keep_indexes: bool,
) -> Result<Analysis> {
    let StreamInput { name, reader } = input;
    let mut buffered = BufReader::with_capacity(256 * 1024, reader);
    let head = buffered.fill_buf().map_err(|e| Error::Archive {
        source_name: name.clone(),
        why: format!("cannot read: {e}"),
    })?;
    if head.is_empty() {
        return Err(Error::NotAnImage {
            source_name: name,
            why: "the input is empty".into(),
        });
    }
    let outer: Box<dyn Read> = match Compression::sniff(head) {
        // Labelled: a truncated or corrupt outer archive says which decoder failed and
        // how, instead of a bare "incomplete deflate stream".
        Ok(Compression::Gzip) => Box::new(Labelled::new(GzipMembers::new(buffered), "gzip")),
        Ok(Compression::Zstd) => Box::new(Labelled::new(
            zstd::stream::read::Decoder::with_buffer(buffered).map_err(|e| Error::Archive {
                source_name: name.clone(),
                why: format!("zstd: {e}"),
            })?,
            "zstd",
        )),
        Ok(Compression::None) => Box::new(buffered),
        Err(why) => {
            return Err(Error::NotAnImage {
                source_name: name,
                why: why.into(),
            })
        }
    };
    let mut outer = BufReader::with_capacity(256 * 1024, outer);
    let head = outer.fill_buf().map_err(|e| Error::Archive {
        source_name: name.clone(),
        why: format!("cannot decompress: {e}"),
    })?;
    if !source::looks_like_tar(head) {
        return Err(Error::NotAnImage {
            source_name: name,
            why: "it is not a tar archive (docker save or OCI archive)".into(),
        });
    }
    progress.begin(0, 0);
    let cancel = AtomicBool::new(false);
    let mut tar = TarReader::new(Streaming(outer), Default::default());
    let mut blobs = MemoryBlobs {
        name: name.clone(),
        ..Default::default()
    };
    let mut walked: HashMap<String, std::result::Result<LayerIndex, WalkError>> = HashMap::new();
    let in_flight = match options.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    }
    .max(2);
    std::thread::scope(|scope| {
        read_members(
            &name,
            &mut tar,
            options,
            progress,
            &cancel,
            &mut blobs,
            &mut walked,
            &Workers { scope, in_flight },
        )
    })?;
    progress.finish();
    let plan = source::layout::plan(&blobs, &options.plan)?;
    let mut replay = Replay::new();
    let mut facts = Vec::with_capacity(plan.layers.len());
    let mut warnings = Vec::new();
    let mut order = Vec::new();
    for (i, layer) in plan.layers.iter().enumerate() {
        let resolved = blobs.resolve(&layer.name);
        let index = match walked.get(&resolved) {
            Some(Ok(index)) => index,
            Some(Err(e)) => {
                return Err(layer_error(
                    &name,
                    &plan,
                    i,
                    WalkError {
                        why: e.why.clone(),
                        entry: e.entry.clone(),
                    },
                ))
            }
            None => {
                return Err(Error::MissingBlob {
                    source_name: name,
                    document: "the manifest".into(),
                    blob: layer.name.clone(),
                })
            }
        };
        record_layer(&plan, i, index, &mut facts, &mut warnings);
        super::check_room(&replay, index, &name)?;
        replay.apply(index);
        if keep_indexes {
            order.push(resolved);
        }
    }
    // Every content was hashed as it streamed, so no comparison is left open.
    replay.resolve_comparisons();
    // In the manifest's order. A blob listed twice (no builder writes that) gets its
    // index once; the second place gets an empty one.
    let kept = order
        .iter()
        .map(|name| match walked.remove(name) {
            Some(Ok(index)) => index,
            _ => LayerIndex::default(),
        })
        .collect();
    finish(&name, plan, replay, facts, warnings, options, kept)
}
