//! The pipeline: source → walk (parallel) → model (sequential replay) → report.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crate::error::{Error, Result};
use crate::model::{steps, Replay};
use crate::progress::Progress;
use crate::report::{ImageInfo, LayerFacts, Report};
use crate::sanitize::escape_bytes;
use crate::source::{self, MemoryBlobs, Opened, Plan, PlanOptions, SeekableImage, StreamInput};
use crate::tarball::{Kind, Streaming, TarReader};
use crate::walk::{self, decode::GzipMembers, Compression, LayerIndex, WalkError, WalkOptions};

/// Everything that shapes one analysis.
#[derive(Debug, Clone)]
pub struct Options {
    pub plan: PlanOptions,
    pub walk: WalkOptions,
    /// Worker threads for walking layers; 0 means one per core.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            plan: PlanOptions {
                max_metadata_bytes: 64 * 1024 * 1024,
                ..Default::default()
            },
            walk: WalkOptions::default(),
            threads: 0,
        }
    }
}

/// Analyses the image named by `spec` (a path, `-` for stdin, or a transport-prefixed
/// name) and builds the report.
pub fn analyze(spec: &str, options: &Options, progress: &dyn Progress) -> Result<Report> {
    match source::open(spec, &options.plan)? {
        Opened::Seekable(image) => analyze_seekable(*image, options, progress),
        Opened::Stream(input) => analyze_stream(input, options, progress),
    }
}

fn layer_error(source_name: &str, plan: &Plan, layer: usize, e: WalkError) -> Error {
    Error::Layer {
        source_name: source_name.to_string(),
        layer,
        digest: plan
            .layers
            .get(layer)
            .map(|l| l.label().to_string())
            .unwrap_or_default(),
        entry: e.entry.map(|p| escape_bytes(&p)),
        why: e.why,
    }
}

/// The parallel path: every layer is a byte range of a file, so each worker opens its
/// own and they run largest first. Results are replayed in layer order as soon as the
/// next one in order is ready, so finished indexes do not pile up.
fn analyze_seekable(
    image: SeekableImage,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Report> {
    let SeekableImage { name, plan, layers } = image;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .thread_name(|i| format!("layerwaste-walk-{i}"))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))?;
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by(|&a, &b| layers[b].len.cmp(&layers[a].len).then(a.cmp(&b)));
    progress.begin(layers.len(), layers.iter().map(|l| l.len).sum());

    let cancel = AtomicBool::new(false);
    let mut replay = Replay::new();
    let mut facts: Vec<LayerFacts> = Vec::with_capacity(layers.len());
    let mut warnings = Vec::new();
    let mut plain_layers = Vec::new();
    let result: Result<()> = pool.in_place_scope(|scope| {
        let (tx, rx) = mpsc::channel();
        for &i in &order {
            let tx = tx.clone();
            let (location, cancel) = (&layers[i], &cancel);
            let walk = &options.walk;
            scope.spawn(move |_| {
                let result = walk::walk_blob(location, walk, progress, cancel);
                progress.layer_done();
                let _ = tx.send((i, result));
            });
        }
        drop(tx);
        let mut ready: BTreeMap<usize, LayerIndex> = BTreeMap::new();
        let mut next = 0;
        for (i, result) in rx {
            match result {
                Ok(index) => {
                    ready.insert(i, index);
                }
                Err(e) => {
                    cancel.store(true, Ordering::Relaxed);
                    return Err(layer_error(&name, &plan, i, e));
                }
            }
            while let Some(index) = ready.remove(&next) {
                record_layer(&plan, next, &index, &mut facts, &mut warnings);
                if index.compression == Some(Compression::None) {
                    plain_layers.push(next);
                }
                replay.apply(&index);
                next += 1;
            }
        }
        Ok(())
    });
    progress.finish();
    result?;
    resolve_by_rereading(&mut replay, &layers, &plain_layers, &pool)
        .map_err(|(layer, e)| layer_error(&name, &plan, layer, e))?;
    Ok(finish(&name, plan, replay, facts, warnings))
}

fn record_layer(
    plan: &Plan,
    i: usize,
    index: &LayerIndex,
    facts: &mut Vec<LayerFacts>,
    warnings: &mut Vec<String>,
) {
    let layer = &plan.layers[i];
    for w in &index.warnings {
        warnings.push(format!("layer {i} ({}): {w}", layer.label()));
    }
    facts.push(LayerFacts {
        diff_id: layer.diff_id.clone(),
        blob_digest: layer.digest.clone(),
        compression: index.compression.unwrap_or(Compression::None),
        stored_bytes: index.blob_bytes,
        entries: index.entries.len(),
    });
}

/// Hashes, with a second targeted read, the contents of uncompressed layers whose
/// identity decides a reason. Compressed layers were hashed while they streamed.
fn resolve_by_rereading(
    replay: &mut Replay,
    layers: &[source::BlobLocation],
    plain_layers: &[usize],
    pool: &rayon::ThreadPool,
) -> std::result::Result<(), (usize, WalkError)> {
    let mut wanted: HashMap<usize, Vec<u32>> = HashMap::new();
    for (old, new) in replay.pending_comparisons() {
        for id in [old, new] {
            let c = &replay.contents[id as usize];
            if c.hash.is_none() && plain_layers.contains(&(c.layer as usize)) {
                wanted.entry(c.layer as usize).or_default().push(id);
            }
        }
    }
    let jobs: Vec<(usize, Vec<u32>)> = wanted
        .into_iter()
        .map(|(layer, mut ids)| {
            ids.sort_unstable();
            ids.dedup();
            (layer, ids)
        })
        .collect();
    let contents = &replay.contents;
    type Hashed = std::result::Result<Vec<(u32, u64)>, (usize, WalkError)>;
    let hashed: Vec<Hashed> = pool.install(|| {
        use rayon::prelude::*;
        jobs.par_iter()
            .map(|(layer, ids)| {
                let ranges: Vec<(u64, u64)> = ids
                    .iter()
                    .map(|&id| (contents[id as usize].data_pos, contents[id as usize].bytes))
                    .collect();
                let hashes =
                    walk::hash_ranges(&layers[*layer], &ranges).map_err(|e| (*layer, e))?;
                Ok(ids.iter().copied().zip(hashes).collect())
            })
            .collect()
    });
    for batch in hashed {
        for (id, hash) in batch? {
            replay.set_hash(id, hash);
        }
    }
    replay.resolve_comparisons();
    Ok(())
}

fn finish(
    name: &str,
    plan: Plan,
    replay: Replay,
    facts: Vec<LayerFacts>,
    mut warnings: Vec<String>,
) -> Report {
    let alignment = steps::align(&plan.config.history, plan.layers.len());
    if let Some(w) = &alignment.warning {
        warnings.insert(0, w.clone());
    }
    if !plan.config.diff_ids.is_empty() && plan.config.diff_ids.len() != plan.layers.len() {
        warnings.push(format!(
            "the config lists {} diff IDs but the manifest {} layers",
            plan.config.diff_ids.len(),
            plan.layers.len()
        ));
    }
    warnings.extend(replay.warnings.iter().cloned());
    let outcome = replay.outcome();
    let image = ImageInfo {
        source: name.to_string(),
        format: plan.format,
        manifest_digest: plan.manifest_digest.clone(),
        config_digest: plan.config_digest.clone(),
        platform: plan.config.platform().map(|p| p.to_string()),
        tags: plan.tags.clone(),
    };
    Report::build(image, &alignment, &outcome, &facts, warnings)
}

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
fn analyze_stream(
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
    Ok(finish(&name, plan, replay, facts, warnings))
}
