//! The pipeline: source → walk (parallel) → model (sequential replay) → report.

mod reread;
pub mod shared;
mod stream;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crate::error::{Error, Result};
use crate::explain::report::{ImageInfo, LayerFacts, Report};
use crate::explain::{self, ExplainOptions};
use crate::model::gate::{self, Thresholds};
use crate::model::steps::Alignment;
use crate::model::{steps, Replay};
use crate::progress::Progress;
use crate::source::{self, LayerSource, LayeredImage, Opened, Plan, PlanOptions, SourceOptions};
use crate::text::escape_bytes;
use crate::walk::cache::{CacheKey, LayerCache};
use crate::walk::{self, Compression, LayerIndex, WalkError, WalkOptions};

/// Everything that shapes one analysis.
#[derive(Debug, Clone)]
pub struct Options {
    pub plan: PlanOptions,
    /// Engines, registries and data roots: where a name that is not a file is read.
    pub source: SourceOptions,
    pub walk: WalkOptions,
    /// Worker threads for walking layers; 0 means one per core.
    pub threads: usize,
    pub explain: ExplainOptions,
    pub gate: GateOptions,
    /// Where to keep layer indexes between runs (`--cache DIR`), keyed by diff ID.
    pub cache: Option<std::path::PathBuf>,
}

/// What the CI gate counts and holds it to.
#[derive(Debug, Clone, Default)]
pub struct GateOptions {
    pub thresholds: Thresholds,
    /// Which leading layers belong to the base image.
    pub base: Option<Base>,
    /// Globs of paths whose waste the gate does not count (`var/lib/dpkg/**`).
    pub ignore: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Base {
    /// `--base-layers N`
    Layers(usize),
    /// `--base IMAGE`: its diff IDs must be a prefix of the analysed image's.
    Image(String),
    /// `--base auto`: the base the manifest's annotations name, when its diff IDs can
    /// be read and are a prefix of the image's (source::base). `explicit` is false
    /// when it is only the gate's default: then an image that names no base at all
    /// gets no warning.
    Auto { explicit: bool },
}

impl Default for Options {
    fn default() -> Self {
        Options {
            plan: PlanOptions {
                max_metadata_bytes: 64 * 1024 * 1024,
                ..Default::default()
            },
            source: SourceOptions::default(),
            walk: WalkOptions::default(),
            threads: 0,
            explain: ExplainOptions::default(),
            gate: GateOptions::default(),
            cache: None,
        }
    }
}

/// Analyses the image named by `spec` (a path, `-` for stdin, or a transport-prefixed
/// name) and builds the report.
pub fn analyze(spec: &str, options: &Options, progress: &dyn Progress) -> Result<Report> {
    let mut report = match source::open(spec, &options.plan, &options.source)? {
        Opened::Layered(image) => analyze_layered(*image, options, progress),
        Opened::Stream(input) => {
            stream::analyze_stream(input, options, progress, false).map(|a| a.report)
        }
    }?;
    report.image.source = spec.to_string();
    Ok(report)
}

/// [`analyze`] for one image of many (`layerwaste scan`): a layer that `shared` holds
/// is copied instead of read, and a layer read here is offered to it for the others.
/// An image that can only be read as one stream does not share.
pub fn analyze_sharing(
    spec: &str,
    options: &Options,
    shared: &shared::SharedLayers,
    progress: &dyn Progress,
) -> Result<Report> {
    let mut report = match source::open(spec, &options.plan, &options.source)? {
        Opened::Layered(image) => {
            analyze_layered_keeping(*image, options, progress, false, Some(shared))
                .map(|a| a.report)
        }
        Opened::Stream(input) => {
            stream::analyze_stream(input, options, progress, false).map(|a| a.report)
        }
    }?;
    report.image.source = spec.to_string();
    Ok(report)
}

/// An analysis with what the report was built from, for a renderer that shows more
/// than the report holds (the explorer): the finished replay, the step alignment, and
/// every layer's index in layer order.
pub struct Analysis {
    pub report: Report,
    pub replay: Replay,
    pub alignment: Alignment,
    pub indexes: Vec<LayerIndex>,
}

/// [`analyze`], keeping the replay and the layer indexes. Costs the memory of every
/// layer's index at once, which [`analyze`] frees layer by layer.
pub fn analyze_full(spec: &str, options: &Options, progress: &dyn Progress) -> Result<Analysis> {
    let mut analysis = match source::open(spec, &options.plan, &options.source)? {
        Opened::Layered(image) => analyze_layered_keeping(*image, options, progress, true, None),
        Opened::Stream(input) => stream::analyze_stream(input, options, progress, true),
    }?;
    analysis.report.image.source = spec.to_string();
    Ok(analysis)
}

/// How many leading layers belong to the base image, and how that is known.
fn base_layers(
    name: &str,
    plan: &Plan,
    options: &Options,
    warnings: &mut Vec<String>,
) -> Result<(usize, Option<source::base::BaseInfo>)> {
    let given = |layers: usize, found: &'static str, image: Option<&String>, how: String| {
        Some(source::base::BaseInfo {
            layers,
            found,
            name: image.cloned(),
            digest: None,
            how,
        })
    };
    match &options.gate.base {
        Some(Base::Auto { explicit }) => {
            let info = source::base::find(name, plan, &options.plan, &options.source);
            let named = plan.annotations.contains_key(source::base::BASE_NAME)
                || plan.annotations.contains_key(source::base::BASE_DIGEST);
            if info.found == "none" && (*explicit || named) {
                warnings.push(format!("--base auto: {}", info.how));
            }
            Ok((info.layers, Some(info)))
        }
        other => {
            let n = base_layers_given(plan, options)?;
            let info = match other {
                Some(Base::Layers(_)) => {
                    given(n, "flag-layers", None, format!("--base-layers {n}"))
                }
                Some(Base::Image(image)) => given(
                    n,
                    "flag-image",
                    Some(image),
                    format!("--base {image}: its {n} diff IDs are the image's first"),
                ),
                _ => None,
            };
            Ok((n, info))
        }
    }
}

fn base_layers_given(plan: &Plan, options: &Options) -> Result<usize> {
    match &options.gate.base {
        None | Some(Base::Auto { .. }) => Ok(0),
        Some(Base::Layers(n)) if *n <= plan.layers.len() => Ok(*n),
        Some(Base::Layers(n)) => Err(Error::Usage(format!(
            "--base-layers {n}: the image has only {} layers",
            plan.layers.len()
        ))),
        Some(Base::Image(base)) => {
            // Only the base's documents are read: its diff IDs are all that is needed.
            let base_plan = match source::open(base, &options.plan, &options.source)? {
                Opened::Layered(image) => image.plan,
                Opened::Stream(_) => {
                    return Err(Error::Usage(format!(
                        "--base {base}: name an uncompressed archive or a layout directory"
                    )))
                }
            };
            gate::base_layer_count(&plan.config.diff_ids, &base_plan.config.diff_ids).ok_or_else(|| {
                Error::Usage(format!(
                    "the image is not built on --base {base}: its first layers' diff IDs differ from the base's {}",
                    base_plan.config.diff_ids.len()
                ))
            })
        }
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

/// The parallel path: every layer can be opened on its own, so each worker opens its
/// own and they run largest first. Results are replayed in layer order as soon as the
/// next one in order is ready, so finished indexes do not pile up.
pub fn analyze_layered(
    image: LayeredImage,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Report> {
    analyze_layered_keeping(image, options, progress, false, None).map(|a| a.report)
}

fn analyze_layered_keeping(
    image: LayeredImage,
    options: &Options,
    progress: &dyn Progress,
    keep_indexes: bool,
    shared: Option<&shared::SharedLayers>,
) -> Result<Analysis> {
    let LayeredImage { name, plan, layers } = image;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .thread_name(|i| format!("layerwaste-walk-{i}"))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))?;
    let cache = match &options.cache {
        Some(dir) => Some(LayerCache::open(dir).map_err(|e| {
            Error::Usage(format!("cannot use {} as the cache: {e}", dir.display()))
        })?),
        None => None,
    };
    let keys: Vec<Option<CacheKey>> = if cache.is_some() || shared.is_some() {
        plan.layers
            .iter()
            .zip(&layers)
            .map(|(l, source)| {
                let digest = l.digest.as_deref();
                CacheKey::new(l.diff_id.as_deref(), digest, source.size(), &options.walk)
            })
            .collect()
    } else {
        vec![None; layers.len()]
    };
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by(|&a, &b| layers[b].size().cmp(&layers[a].size()).then(a.cmp(&b)));
    progress.begin(layers.len(), layers.iter().map(LayerSource::size).sum());

    let cancel = AtomicBool::new(false);
    let mut replay = Replay::new();
    let mut facts: Vec<LayerFacts> = Vec::with_capacity(layers.len());
    let mut warnings = Vec::new();
    let mut reread = reread::Reread::new();
    let mut kept = Vec::new();
    let result: Result<()> = pool.in_place_scope(|scope| {
        let (tx, rx) = mpsc::channel();
        for &i in &order {
            let tx = tx.clone();
            let (layer, cancel) = (&layers[i], &cancel);
            let walk = &options.walk;
            let cached = cache.as_ref().zip(keys[i].as_ref());
            let sharing = shared.zip(keys[i].as_ref());
            scope.spawn(move |_| {
                let read = || -> std::result::Result<(LayerIndex, shared::Origin), WalkError> {
                    if let Some(index) = cached.and_then(|(c, k)| c.load(k, walk.max_entries)) {
                        progress.advance(layer.size());
                        return Ok((index, shared::Origin::Cache));
                    }
                    let index = read_layer(layer, walk, progress, cancel)?;
                    if let Some((cache, key)) = cached {
                        // Only a blob whose length the key names: a stream of unknown
                        // size is not cached. Failing to cache never fails the analysis.
                        if index.blob_bytes == layer.size() {
                            let _ = cache.store(key, &index);
                        }
                    }
                    Ok((index, shared::Origin::Read))
                };
                let result = match sharing {
                    Some((shared, key)) => shared.get_or_read(key, read),
                    None => read().map(|(index, _)| index),
                };
                progress.layer_done();
                let _ = tx.send((i, result));
            });
        }
        drop(tx);
        let replay_all = || -> Result<()> {
            let mut ready: BTreeMap<usize, LayerIndex> = BTreeMap::new();
            let mut next = 0;
            for (i, result) in rx {
                ready.insert(i, result.map_err(|e| layer_error(&name, &plan, i, e))?);
                while let Some(index) = ready.remove(&next) {
                    record_layer(&plan, next, &index, &mut facts, &mut warnings);
                    // A plain layer in a file can be read again, for the re-read.
                    let location = match &layers[next] {
                        LayerSource::File(location)
                            if index.compression == Some(Compression::None) =>
                        {
                            Some(location.clone())
                        }
                        _ => None,
                    };
                    check_room(&replay, &index, &name)?;
                    replay.apply(&index);
                    // The pairs this layer made start hashing while the next replay.
                    reread.after_layer(&mut replay, next, location, scope, &cancel);
                    if keep_indexes {
                        kept.push(index);
                    }
                    next += 1;
                }
            }
            reread.after_replay(&replay, scope, &cancel);
            Ok(())
        };
        let outcome = replay_all();
        if outcome.is_err() {
            // The walkers and the re-read's jobs stop at their next check.
            cancel.store(true, Ordering::Relaxed);
        }
        outcome
    });
    progress.finish();
    result?;
    let plain_layers = reread.plain_layers();
    reread
        .finish(&mut replay, &pool)
        .map_err(|(layer, e)| layer_error(&name, &plan, layer, e))?;
    if let Some(cache) = &cache {
        remember_hashes(cache, &keys, &replay, &plain_layers);
    }
    release_free_pages();
    // On the walk's pool: the explanation runs its parts in parallel.
    pool.install(|| finish(&name, plan, replay, facts, warnings, options, kept))
}

/// Walks one layer from its source.
fn read_layer(
    layer: &LayerSource,
    walk: &WalkOptions,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> std::result::Result<LayerIndex, WalkError> {
    match layer {
        LayerSource::File(location) => walk::walk_blob(location, walk, progress, cancel),
        LayerSource::Stream { open, .. } => open()
            .map_err(|e| WalkError {
                why: format!("cannot open: {e}"),
                entry: None,
            })
            .and_then(|mut r| walk::walk_stream(&mut r, walk, progress, cancel)),
        LayerSource::TarSplit { path, size } => {
            let index = walk::walk_tar_split(path, walk, progress, cancel);
            progress.advance(*size);
            index
        }
    }
}

/// Gives the pages that the walk and the re-read freed back to the system before the
/// explanation allocates: the allocator keeps freed pages mapped, and they would count
/// in the peak resident set on top of the explanation's. (The binary also keeps glibc
/// to one arena, so the main thread can reuse what walker threads freed:
/// `app::one_heap`.)
fn release_free_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Writes the hashes the targeted re-read found back into the cached indexes of the
/// plain layers, so the next run need not re-read them.
fn remember_hashes(
    cache: &LayerCache,
    keys: &[Option<CacheKey>],
    replay: &Replay,
    plain_layers: &[(usize, source::BlobLocation)],
) {
    let mut by_layer: HashMap<usize, Vec<(u64, u64)>> = HashMap::new();
    for c in &replay.contents {
        if let Some(hash) = c.hash {
            by_layer
                .entry(c.layer as usize)
                .or_default()
                .push((c.data_pos, hash));
        }
    }
    for (layer, _) in plain_layers {
        if let (Some(Some(key)), Some(hashes)) = (keys.get(*layer), by_layer.get(layer)) {
            let _ = cache.add_hashes(key, hashes);
        }
    }
}

/// Stops an image too large for the replay's 32-bit ids with an error, never a wrap.
fn check_room(replay: &Replay, index: &LayerIndex, source_name: &str) -> Result<()> {
    if replay.has_room_for(index) {
        return Ok(());
    }
    Err(Error::Limit {
        source_name: source_name.to_string(),
        what: format!("layer {}'s paths, with those before it,", replay.layers),
        limit: u64::from(u32::MAX),
        hint: "distinct paths and contents are counted in 32 bits",
    })
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

fn finish(
    name: &str,
    plan: Plan,
    replay: Replay,
    facts: Vec<LayerFacts>,
    mut warnings: Vec<String>,
    options: &Options,
    indexes: Vec<LayerIndex>,
) -> Result<Analysis> {
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
    let explanation = explain::explain(&replay, &options.explain);
    let mut report = Report::build(image, &alignment, &outcome, &explanation, &facts, warnings);
    let gated = !options.gate.thresholds.is_empty()
        || options.gate.base.is_some()
        || !options.gate.ignore.is_empty();
    if gated {
        let ignore = gate::IgnoreSet::new(&options.gate.ignore).map_err(Error::Usage)?;
        let is_ignored = |path: &[u8]| ignore.is_match(path);
        let (base_layers, base) = base_layers(name, &plan, options, &mut report.warnings)?;
        let scope = gate::Scope {
            base_layers,
            ignore: &is_ignored,
        };
        let mut thresholds = gate::evaluate(
            &replay,
            &scope,
            &options.gate.thresholds,
            &alignment.step_of_layer,
        );
        thresholds.base = base;
        report.thresholds = Some(thresholds);
        // The base boundary decides whose steps the findings are.
        report.conclude();
    }
    Ok(Analysis {
        report,
        replay,
        alignment,
        indexes,
    })
}
