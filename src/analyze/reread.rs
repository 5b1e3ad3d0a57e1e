//! The targeted re-read of plain layers: the contents whose identity decides a reason
//! (same-size replacements: metadata-only or overwritten?), a finding (deleted files and
//! what their hider added: moved?) or a figure (live files that share their size:
//! duplicate content?), hashed from the layers' files. Compressed layers were hashed
//! while they streamed.
//!
//! Reading is most of an analysis of a plain image (on big, 400 MB of `chmod -R` and
//! `chown -R` copies and their originals, against 60k headers), so it starts as early
//! as it can and reads no byte that cannot change an answer:
//! - A same-size pair is known as soon as the layer that made it is replayed, and its
//!   hashing starts then, on the walk's threads, while later layers replay
//!   ([`Reread::after_layer`]). Moves and duplicates need every layer, so they are
//!   scheduled once the last one is replayed ([`Reread::after_replay`]), beside the
//!   pairs still being hashed. Jobs of about [`JOB_BYTES`] each move forward through one
//!   layer, so the threads stay evenly loaded.
//! - Some contents are settled by their first page:
//!   - a large same-size pair whose first pages differ is `overwritten` (a file written
//!     twice, as big's 16 MB `blob.bin`), with neither read further: a job of its own
//!     compares the pages and reads both whole only if they match;
//!   - a large duplicate candidate whose first page no live file of its size shares has
//!     no twin, and is left unhashed, which is what the duplicate figure asks of it.
//!     This is the one comparison that needs every page first: a small last pass reads
//!     whole the candidates whose first page another file shares ([`Reread::finish`]).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crate::explain;
use crate::model::tree::ContentId;
use crate::model::Replay;
use crate::source::BlobLocation;
use crate::walk::{self, WalkError};

/// Bytes read first of a content that its first bytes may settle: a page.
const FIRST_PAGE: u64 = 4096;

/// Same-size pairs at least this long are compared by their first pages before they
/// are read whole. Equal pairs pay their first page twice, under 2% at this size; on
/// smaller files the second page-sized read would cost more than it could save.
const PAGED_PAIR: u64 = 256 << 10;

/// Bytes of one re-read job: small enough that the jobs of an image spread evenly over
/// the threads, large enough that opening the file is noise.
const JOB_BYTES: u64 = 8 << 20;

/// A content and how many of its first bytes to hash.
type Read = (ContentId, u64);
/// A content, how many of its first bytes were hashed, and their hash.
type Hashed = (ContentId, u64, u64);
/// What a job sends back; the error names the layer it was reading.
type Done = Result<Vec<Hashed>, (usize, WalkError)>;

/// One range to hash: a content, where its data starts in its layer's tar, and how many
/// of its bytes.
#[derive(Clone, Copy)]
struct Range {
    id: ContentId,
    pos: u64,
    len: u64,
}

/// The re-read of one analysis, scheduled as its replay goes.
pub(super) struct Reread {
    /// The layers that can be re-read (plain layers in files), by index.
    locations: Vec<Option<BlobLocation>>,
    /// Contents a job will hash whole.
    scheduled: Vec<bool>,
    /// Ranges waiting for a job, per layer, and their bytes.
    batches: HashMap<usize, (Vec<Range>, u64)>,
    /// Pairs whose first pages a job of their own compares.
    paged: Vec<(ContentId, ContentId)>,
    /// Large duplicate candidates, and every live file of their sizes (whose first
    /// pages are read with the rest), for the last pass.
    large: Vec<ContentId>,
    same_size: Vec<ContentId>,
    /// Contents that must be hashed whole if a page alone did not do it: moves and
    /// small duplicate candidates that are also in a paged pair.
    wanted: Vec<ContentId>,
    tx: mpsc::Sender<Done>,
    rx: mpsc::Receiver<Done>,
}

impl Reread {
    pub(super) fn new() -> Reread {
        let (tx, rx) = mpsc::channel();
        Reread {
            locations: Vec::new(),
            scheduled: Vec::new(),
            batches: HashMap::new(),
            paged: Vec::new(),
            large: Vec::new(),
            same_size: Vec::new(),
            wanted: Vec::new(),
            tx,
            rx,
        }
    }

    /// The layers that can be re-read, by index, as [`Reread::after_layer`] was told.
    pub(super) fn plain_layers(&self) -> Vec<(usize, BlobLocation)> {
        self.locations
            .iter()
            .enumerate()
            .filter_map(|(i, l)| Some((i, l.clone()?)))
            .collect()
    }

    /// After the replay applied layer `layer` (which `location` can re-read, if plain):
    /// starts hashing the same-size pairs it made.
    pub(super) fn after_layer<'s>(
        &mut self,
        replay: &mut Replay,
        layer: usize,
        location: Option<BlobLocation>,
        scope: &rayon::Scope<'s>,
        cancel: &'s AtomicBool,
    ) {
        if self.locations.len() <= layer {
            self.locations.resize(layer + 1, None);
        }
        self.locations[layer] = location;
        self.scheduled.resize(replay.contents.len(), false);
        for (old, new) in replay.take_new_comparisons() {
            let pageable = |id: ContentId| {
                let c = &replay.contents[id as usize];
                c.hash.is_none() && !self.scheduled[id as usize] && self.location(c.layer).is_some()
            };
            let large = replay.contents[old as usize].bytes >= PAGED_PAIR;
            if large && pageable(old) && pageable(new) {
                if let (Some(o), Some(n)) = (self.side(replay, old), self.side(replay, new)) {
                    self.paged.push((old, new));
                    let tx = self.tx.clone();
                    scope.spawn(move |_| {
                        if !cancel.load(Ordering::Relaxed) {
                            let _ = tx.send(pair_job((o.0, &o.1, o.2), (n.0, &n.1, n.2)));
                        }
                    });
                    continue;
                }
            }
            for id in [old, new] {
                self.schedule(replay, id, id_len(replay, id), scope, cancel);
            }
        }
    }

    /// A content's layer, that layer's file, and the content's whole range.
    fn side(&self, replay: &Replay, id: ContentId) -> Option<(usize, BlobLocation, Range)> {
        let c = &replay.contents[id as usize];
        let range = Range {
            id,
            pos: c.data_pos,
            len: c.bytes,
        };
        Some((c.layer as usize, self.location(c.layer)?.clone(), range))
    }

    /// After the last layer: schedules the moves and the duplicate candidates, and the
    /// pair ranges still waiting for a full job.
    pub(super) fn after_replay<'s>(
        &mut self,
        replay: &Replay,
        scope: &rayon::Scope<'s>,
        cancel: &'s AtomicBool,
    ) {
        self.scheduled.resize(replay.contents.len(), false);
        let contents = &replay.contents;
        let mut whole = explain::move_candidates(replay);
        for id in explain::duplicate_candidates(replay) {
            if contents[id as usize].bytes > FIRST_PAGE {
                self.large.push(id);
            } else {
                whole.push(id);
            }
        }
        for &id in &whole {
            self.schedule(replay, id, id_len(replay, id), scope, cancel);
        }
        // Those a paged pair may or may not read whole: the last pass makes sure.
        let in_pairs: HashSet<ContentId> = self.paged.iter().flat_map(|&(o, n)| [o, n]).collect();
        self.wanted = whole
            .into_iter()
            .filter(|id| in_pairs.contains(id))
            .collect();
        let scheduled = &self.scheduled;
        self.large.retain(|&id| !scheduled[id as usize]);
        // The first page of every live file of a large candidate's size in a plain layer,
        // hashed or not: what the candidates' first pages are compared with.
        let sizes: HashSet<u64> = self
            .large
            .iter()
            .map(|&id| contents[id as usize].bytes)
            .collect();
        if !sizes.is_empty() {
            for (id, c) in contents.iter().enumerate() {
                if c.is_live() && sizes.contains(&c.bytes) {
                    self.same_size.push(id as ContentId);
                    self.batch(replay, id as ContentId, FIRST_PAGE, scope, cancel);
                }
            }
        }
        let layers: Vec<usize> = self.batches.keys().copied().collect();
        for layer in layers {
            self.flush(layer, scope, cancel);
        }
    }

    /// Once every job has run (the walk's scope is over): takes their hashes, reads
    /// whole what first pages did not settle, and settles the same-size comparisons.
    pub(super) fn finish(
        self,
        replay: &mut Replay,
        pool: &rayon::ThreadPool,
    ) -> Result<(), (usize, WalkError)> {
        let plain = self.plain_layers();
        let Reread {
            paged,
            large,
            same_size,
            wanted,
            tx,
            rx,
            ..
        } = self;
        drop(tx);
        let mut first_pages: HashMap<ContentId, u64> = HashMap::new();
        let mut failed = None;
        for done in rx {
            match done {
                Ok(hashed) => record(replay, &mut first_pages, hashed),
                Err(e) => failed = failed.or(Some(e)),
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }

        let contents = &replay.contents;
        let bytes = |id: ContentId| contents[id as usize].bytes;
        let mut rest: Vec<Read> = wanted
            .iter()
            .filter(|&&id| contents[id as usize].hash.is_none())
            .map(|&id| (id, bytes(id)))
            .collect();
        // A paged pair whose pages matched was read whole by its job.
        debug_assert!(paged.iter().all(|&(o, n)| {
            first_pages.get(&o) != first_pages.get(&n)
                || (contents[o as usize].hash.is_some() && contents[n as usize].hash.is_some())
        }));
        if !large.is_empty() {
            // Per (size, first page): how many live files have it; per size: whether a
            // file has none to compare (hashed whole elsewhere, never by page).
            let mut shared: HashMap<(u64, u64), u32> = HashMap::new();
            let mut unpaged: HashSet<u64> = HashSet::new();
            for &id in &same_size {
                match first_pages.get(&id) {
                    Some(&page) => *shared.entry((bytes(id), page)).or_default() += 1,
                    None => {
                        unpaged.insert(bytes(id));
                    }
                }
            }
            rest.extend(
                large
                    .iter()
                    .map(|&id| (id, bytes(id)))
                    .filter(|&(id, size)| {
                        unpaged.contains(&size)
                            || first_pages.get(&id).is_some_and(|&page| {
                                shared.get(&(size, page)).is_some_and(|&n| n > 1)
                            })
                    }),
            );
        }
        for (id, _, hash) in hash_contents(replay, &rest, &plain, pool)? {
            replay.set_hash(id, hash);
        }
        replay.resolve_comparisons();
        Ok(())
    }

    fn location(&self, layer: u32) -> Option<&BlobLocation> {
        self.locations.get(layer as usize)?.as_ref()
    }

    /// Queues a whole read of `id`, unless it is hashed, queued, or in no plain layer.
    fn schedule<'s>(
        &mut self,
        replay: &Replay,
        id: ContentId,
        len: u64,
        scope: &rayon::Scope<'s>,
        cancel: &'s AtomicBool,
    ) {
        let c = &replay.contents[id as usize];
        if c.hash.is_some() || self.scheduled[id as usize] || self.location(c.layer).is_none() {
            return;
        }
        self.scheduled[id as usize] = true;
        self.batch(replay, id, len, scope, cancel);
    }

    /// Adds a range of `id` to its layer's batch, which becomes a job once it is large.
    fn batch<'s>(
        &mut self,
        replay: &Replay,
        id: ContentId,
        len: u64,
        scope: &rayon::Scope<'s>,
        cancel: &'s AtomicBool,
    ) {
        let c = &replay.contents[id as usize];
        let layer = c.layer as usize;
        if self.location(c.layer).is_none() {
            return;
        }
        let (ranges, bytes) = self.batches.entry(layer).or_default();
        ranges.push(Range {
            id,
            pos: c.data_pos,
            len,
        });
        *bytes += len;
        if *bytes >= JOB_BYTES {
            self.flush(layer, scope, cancel);
        }
    }

    /// Hands a layer's batch to a job on the walk's threads.
    fn flush<'s>(&mut self, layer: usize, scope: &rayon::Scope<'s>, cancel: &'s AtomicBool) {
        let Some((mut ranges, _)) = self.batches.remove(&layer) else {
            return;
        };
        let Some(location) = self.locations[layer].clone() else {
            return;
        };
        // In file order, so the job moves forward through its layer.
        ranges.sort_unstable_by_key(|r| (r.pos, r.len));
        let tx = self.tx.clone();
        scope.spawn(move |_| {
            if !cancel.load(Ordering::Relaxed) {
                let _ = tx.send(range_job(layer, &location, &ranges));
            }
        });
    }
}

fn id_len(replay: &Replay, id: ContentId) -> u64 {
    replay.contents[id as usize].bytes
}

/// Hashes `ranges` of one layer.
fn range_job(layer: usize, location: &BlobLocation, ranges: &[Range]) -> Done {
    let spans: Vec<(u64, u64)> = ranges.iter().map(|r| (r.pos, r.len)).collect();
    let hashes = walk::hash_ranges(location, &spans).map_err(|e| (layer, e))?;
    Ok(ranges
        .iter()
        .zip(hashes)
        .map(|(r, hash)| (r.id, r.len, hash))
        .collect())
}

/// Compares a large same-size pair by first pages, and hashes both whole only if those
/// match. Sends the first pages either way (the duplicate check may use them).
fn pair_job(old: (usize, &BlobLocation, Range), new: (usize, &BlobLocation, Range)) -> Done {
    let page = |(layer, location, r): (usize, &BlobLocation, Range)| {
        let h = walk::hash_ranges(location, &[(r.pos, FIRST_PAGE.min(r.len))]);
        h.map(|h| h[0]).map_err(|e| (layer, e))
    };
    let (po, pn) = (page(old)?, page(new)?);
    let mut hashed = vec![(old.2.id, FIRST_PAGE, po), (new.2.id, FIRST_PAGE, pn)];
    if po == pn {
        hashed.extend(range_job(old.0, old.1, &[old.2])?);
        hashed.extend(range_job(new.0, new.1, &[new.2])?);
    }
    Ok(hashed)
}

/// Takes a job's hashes: whole ones into the replay, first pages into `first_pages`.
fn record(replay: &mut Replay, first_pages: &mut HashMap<ContentId, u64>, hashed: Vec<Hashed>) {
    for (id, len, hash) in hashed {
        if len == replay.contents[id as usize].bytes {
            replay.set_hash(id, hash);
        } else {
            first_pages.insert(id, hash);
        }
    }
}

/// Hashes the first `len` bytes of each content (`reads`) that lies in a plain layer
/// and has no hash yet, in parallel jobs that each move forward through one layer.
/// Contents elsewhere are left out. Nothing else runs beside this last pass, so its
/// jobs are cut to give each thread several: fewer bytes than [`JOB_BYTES`] when the
/// pass is small (on big, 20 MB of duplicate candidates took 3.5 ms in 8 MiB jobs,
/// most of it one thread waiting for the other's last).
fn hash_contents(
    replay: &Replay,
    reads: &[Read],
    plain_layers: &[(usize, BlobLocation)],
    pool: &rayon::ThreadPool,
) -> Result<Vec<Hashed>, (usize, WalkError)> {
    if reads.is_empty() {
        return Ok(Vec::new());
    }
    let contents = &replay.contents;
    let mut by_layer: HashMap<usize, Vec<Read>> = HashMap::new();
    for &(id, len) in reads {
        let c = &contents[id as usize];
        if c.hash.is_none() || len < c.bytes {
            by_layer
                .entry(c.layer as usize)
                .or_default()
                .push((id, len));
        }
    }
    let total: u64 = reads.iter().map(|r| r.1).sum();
    let job_bytes =
        (total / (4 * pool.current_num_threads().max(1) as u64)).clamp(1 << 20, JOB_BYTES);
    let mut jobs: Vec<(&BlobLocation, usize, Vec<Range>)> = Vec::new();
    for (layer, location) in plain_layers {
        let Some(mut reads) = by_layer.remove(layer) else {
            continue;
        };
        reads.sort_unstable();
        reads.dedup();
        let mut ranges: Vec<Range> = reads
            .into_iter()
            .map(|(id, len)| Range {
                id,
                pos: contents[id as usize].data_pos,
                len,
            })
            .collect();
        ranges.sort_unstable_by_key(|r| (r.pos, r.len));
        let mut job = Vec::new();
        let mut bytes = 0u64;
        for range in ranges {
            bytes += range.len;
            job.push(range);
            if bytes >= job_bytes {
                jobs.push((location, *layer, std::mem::take(&mut job)));
                bytes = 0;
            }
        }
        if !job.is_empty() {
            jobs.push((location, *layer, job));
        }
    }
    let hashed: Vec<Done> = pool.install(|| {
        use rayon::prelude::*;
        jobs.par_iter()
            .map(|(location, layer, ranges)| range_job(*layer, location, ranges))
            .collect()
    });
    let mut out = Vec::new();
    for batch in hashed {
        out.extend(batch?);
    }
    Ok(out)
}
