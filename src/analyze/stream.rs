//! The single-pass path for input that can be read only once.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::AtomicBool;

use super::{finish, layer_error, record_layer, Options};
use crate::error::{Error, Result};
use crate::model::Replay;
use crate::progress::Progress;
use crate::report::Report;
use crate::sanitize::escape_bytes;
use crate::source::{self, MemoryBlobs, StreamInput};
use crate::tarball::{Kind, Streaming, TarReader};
use crate::walk::{self, decode::GzipMembers, Compression, LayerIndex, WalkError};

/// Reads the current member's data through the outer tar reader.
struct MemberData<'a, R: crate::tarball::Skip>(&'a mut TarReader<R>);

impl<R: crate::tarball::Skip> Read for MemberData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .read_data(buf)
            .map_err(|e| std::io::Error::other(e.why))
    }
}

/// The single-pass path for input that can be read only once: stdin, and archives
/// that are themselves compressed. Layers are walked as they stream past; the
/// documents, which docker save writes last, are kept in memory and order the layers
/// once the stream ends.
pub(super) fn analyze_stream(
    input: StreamInput,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Report> {
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
        Ok(Compression::Gzip) => Box::new(GzipMembers::new(buffered)),
        Ok(Compression::Zstd) => Box::new(
            zstd::stream::read::Decoder::with_buffer(buffered).map_err(|e| Error::Archive {
                source_name: name.clone(),
                why: format!("zstd: {e}"),
            })?,
        ),
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
    let limit = options.plan.max_metadata_bytes;
    loop {
        let header = match tar.next_header() {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(e) => {
                let member = e
                    .entry
                    .map(|p| format!(" (member {})", escape_bytes(&p)))
                    .unwrap_or_default();
                return Err(Error::Archive {
                    source_name: name,
                    why: format!("broken outer archive{member}: {}", e.why),
                });
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
                Ok(n) => got += n,
                Err(e) => {
                    return Err(Error::Archive {
                        source_name: name,
                        why: format!("member {member}: {}", e.why),
                    })
                }
            }
        }
        let is_document = header.size <= limit
            && !source::looks_like_tar(&head)
            && Compression::sniff(&head) == Ok(Compression::None);
        if is_document {
            let mut data = head;
            if let Err(e) = MemberData(&mut tar).read_to_end(&mut data) {
                return Err(Error::Archive {
                    source_name: name,
                    why: format!("member {member}: {e}"),
                });
            }
            blobs.documents.insert(member, data);
        } else if source::looks_like_tar(&head)
            || Compression::sniff(&head).is_ok_and(|c| c != Compression::None)
        {
            let mut data = std::io::Cursor::new(head).chain(MemberData(&mut tar));
            let result = walk::walk_stream(&mut data, &options.walk, progress, &cancel);
            progress.layer_done();
            blobs.large.insert(member.clone(), header.size);
            walked.insert(member, result);
        } else {
            blobs.large.insert(member, header.size);
        }
    }
    progress.finish();
    let plan = source::layout::plan(&blobs, &options.plan)?;
    let mut replay = Replay::new();
    let mut facts = Vec::with_capacity(plan.layers.len());
    let mut warnings = Vec::new();
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
        replay.apply(index);
    }
    // Every content was hashed as it streamed, so no comparison is left open.
    replay.resolve_comparisons();
    finish(&name, plan, replay, facts, warnings, options)
}
