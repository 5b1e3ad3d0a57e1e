//! The targeted re-read of plain layers: the contents whose identity decides a reason
//! (same-size replacements: metadata-only or overwritten?), a finding (deleted files and
//! what their hider added: moved?) or a figure (live files that share their size:
//! duplicate content?), hashed from the layers' files once the replay is done.
//! Compressed layers were hashed while they streamed.
//!
//! Reading is most of an analysis of a plain image (on big, 400 MB of `chmod -R` and
//! `chown -R` copies and their originals, against 60k headers), so this reads no byte
//! that cannot change an answer:
//! - Every kind of candidate is gathered first and the union is read in one parallel
//!   pass, in even jobs that each move forward through one layer, so no pass waits for
//!   the slowest layer of the one before it. The duplicate candidates do not depend on
//!   how the comparisons come out (hashing a pair changes no content's liveness or
//!   size), so gathering them first picks the same contents as two passes in a row.
//! - Some contents are settled by their first page, read in that pass; a small second
//!   pass reads the rest of those that their first page did not settle:
//!   - a large same-size pair whose first pages differ is `overwritten` (a file written
//!     twice, as big's 16 MB `blob.bin`), with neither read further;
//!   - a large duplicate candidate whose first page no live file of its size shares has
//!     no twin, and is left unhashed, which is what the duplicate figure asks of it.

use std::collections::{HashMap, HashSet};

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

/// Hashes what the replay's open questions need (module docs), then settles the
/// same-size comparisons. `plain_layers` are the layers that can be re-read, by index.
pub(super) fn resolve(
    replay: &mut Replay,
    plain_layers: &[(usize, BlobLocation)],
    pool: &rayon::ThreadPool,
) -> Result<(), (usize, WalkError)> {
    let plain: HashSet<u32> = plain_layers.iter().map(|(l, _)| *l as u32).collect();
    let contents = &replay.contents;
    let pageable = |id: ContentId| {
        let c = &contents[id as usize];
        c.hash.is_none() && plain.contains(&c.layer)
    };

    let mut whole: Vec<ContentId> = explain::move_candidates(replay);
    let mut pairs: Vec<(ContentId, ContentId)> = Vec::new();
    for (old, new) in replay.pending_comparisons() {
        if contents[old as usize].bytes >= PAGED_PAIR && pageable(old) && pageable(new) {
            pairs.push((old, new));
        } else {
            whole.extend([old, new]);
        }
    }
    let mut large = Vec::new();
    for id in explain::duplicate_candidates(replay) {
        if contents[id as usize].bytes > FIRST_PAGE {
            large.push(id);
        } else {
            whole.push(id);
        }
    }
    whole.sort_unstable();
    whole.dedup();
    let is_whole = |id: &ContentId| whole.binary_search(id).is_ok();
    // A pair with a side read whole anyway is read whole on both.
    let (both, pairs): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .partition(|(old, new)| is_whole(old) || is_whole(new));
    large.retain(|id| !is_whole(id));
    whole.extend(both.into_iter().flat_map(|(old, new)| [old, new]));

    let mut reads: Vec<Read> = whole
        .iter()
        .map(|&id| (id, contents[id as usize].bytes))
        .collect();
    reads.extend(
        pairs
            .iter()
            .flat_map(|&(old, new)| [(old, FIRST_PAGE), (new, FIRST_PAGE)]),
    );
    // The first page of every live file of a large candidate's size in a plain layer,
    // hashed or not: what the candidates' first pages are compared with.
    let sizes: HashSet<u64> = large
        .iter()
        .map(|&id| contents[id as usize].bytes)
        .collect();
    let mut same_size: Vec<ContentId> = Vec::new();
    if !sizes.is_empty() {
        for (id, c) in contents.iter().enumerate() {
            if c.is_live() && sizes.contains(&c.bytes) {
                same_size.push(id as ContentId);
                if plain.contains(&c.layer) {
                    reads.push((id as ContentId, FIRST_PAGE));
                }
            }
        }
    }

    let mut first_pages: HashMap<ContentId, u64> = HashMap::new();
    for (id, len, hash) in hash_contents(replay, &reads, plain_layers, pool)? {
        if len == replay.contents[id as usize].bytes {
            replay.set_hash(id, hash);
        } else {
            first_pages.insert(id, hash);
        }
    }

    let contents = &replay.contents;
    let bytes = |id: ContentId| contents[id as usize].bytes;
    let mut rest: Vec<Read> = Vec::new();
    for &(old, new) in &pairs {
        if first_pages.get(&old) == first_pages.get(&new) {
            rest.extend([(old, bytes(old)), (new, bytes(new))]);
        }
    }
    if !large.is_empty() {
        // Per (size, first page): how many live files have it; per size: whether a
        // file has none to compare (read whole elsewhere, never by page).
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
                        || first_pages
                            .get(&id)
                            .is_some_and(|&page| shared.get(&(size, page)).is_some_and(|&n| n > 1))
                }),
        );
    }
    for (id, _, hash) in hash_contents(replay, &rest, plain_layers, pool)? {
        replay.set_hash(id, hash);
    }
    replay.resolve_comparisons();
    Ok(())
}

/// Hashes the first `len` bytes of each content (`reads`) that lies in a plain layer
/// and has no hash yet, in parallel jobs of about [`JOB_BYTES`] that each move forward
/// through one layer. Contents elsewhere are left out.
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
    let mut jobs: Vec<(&BlobLocation, usize, Vec<Read>)> = Vec::new();
    for (layer, location) in plain_layers {
        let Some(mut reads) = by_layer.remove(layer) else {
            continue;
        };
        reads.sort_unstable();
        reads.dedup();
        // In file order, so each job moves forward through its layer.
        reads.sort_by_key(|&(id, _)| contents[id as usize].data_pos);
        let mut job = Vec::new();
        let mut bytes = 0u64;
        for read in reads {
            bytes += read.1;
            job.push(read);
            if bytes >= JOB_BYTES {
                jobs.push((location, *layer, std::mem::take(&mut job)));
                bytes = 0;
            }
        }
        if !job.is_empty() {
            jobs.push((location, *layer, job));
        }
    }
    let hashed: Vec<Result<Vec<Hashed>, (usize, WalkError)>> = pool.install(|| {
        use rayon::prelude::*;
        jobs.par_iter()
            .map(|(location, layer, reads)| {
                let ranges: Vec<(u64, u64)> = reads
                    .iter()
                    .map(|&(id, len)| (contents[id as usize].data_pos, len))
                    .collect();
                let hashes = walk::hash_ranges(location, &ranges).map_err(|e| (*layer, e))?;
                Ok(reads
                    .iter()
                    .zip(hashes)
                    .map(|(&(id, len), hash)| (id, len, hash))
                    .collect())
            })
            .collect()
    });
    let mut out = Vec::new();
    for batch in hashed {
        out.extend(batch?);
    }
    Ok(out)
}
