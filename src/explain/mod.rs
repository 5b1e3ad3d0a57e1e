//! Why the bytes were wasted, where they are, and what to change: everything the report
//! says beyond the model's totals. Pure functions over the finished [`Replay`].

pub mod advice;
pub mod diff;
pub mod dockerfile;
pub mod entries;
pub mod patterns;
pub mod prose;
pub mod report;
pub mod verdict;

use hashbrown::{HashMap, HashSet};

use crate::model::tree::{ContentId, NodeId, NONE, ROOT};
use crate::model::{Reason, Replay};
pub use patterns::PathKind;

#[derive(Debug, Clone, Copy)]
pub struct ExplainOptions {
    /// Path rows per step.
    pub top: usize,
    /// Also list every wasted file.
    pub files: bool,
    /// Duplicate-content groups to list.
    pub duplicate_groups: usize,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            top: 5,
            files: false,
            duplicate_groups: 10,
        }
    }
}

/// Where wasted bytes lay: the kinds of path whose waste has its own fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    /// Nothing known about the path.
    Plain,
    /// A package manager's cache or index (apt lists, the apk cache, …).
    Cache(PathKind),
    /// The package database, rewritten by every install step.
    PackageDatabase,
    /// A downloaded archive: `.tar.gz`, `.zip`, … (not a package).
    Archive,
    /// Files of a language's packages: `site-packages/`, `node_modules/`, gems.
    LanguagePackages,
}

impl Place {
    fn of(path: &[u8]) -> Place {
        match patterns::classify_and_language(path) {
            (Some(PathKind::PackageDatabase), _) => Place::PackageDatabase,
            (Some(kind), _) => Place::Cache(kind),
            (None, _) if patterns::is_archive(path) => Place::Archive,
            (None, true) => Place::LanguagePackages,
            (None, false) => Place::Plain,
        }
    }
}

/// How the bytes stopped being visible: the model's reason, sharpened by what the
/// hiding layer put in their place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum How {
    /// Deleted (or its path taken by a non-file), and nothing like it is live.
    Removed,
    /// Deleted, while the hiding layer added the same content at another path: a
    /// `mv` or a `cp` then `rm`, which stores the content a second time.
    Moved,
    /// The same content written again at the same path (the model's
    /// `metadata-only`): what differs is in [`Changes`], which may be nothing at all.
    Rewritten,
    /// Other content written at the same path.
    Overwritten,
}

/// What a rewrite changed in the entries' headers, over every entry of a finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Changes {
    pub mode: bool,
    pub owner: bool,
    pub mtime: bool,
}

impl Changes {
    fn between(old: &crate::walk::Meta, new: &crate::walk::Meta) -> Changes {
        Changes {
            mode: old.mode != new.mode,
            owner: old.owner != new.owner,
            mtime: old.mtime != new.mtime,
        }
    }

    fn union(self, other: Changes) -> Changes {
        Changes {
            mode: self.mode || other.mode,
            owner: self.owner || other.owner,
            mtime: self.mtime || other.mtime,
        }
    }

    pub fn is_none(self) -> bool {
        self == Changes::default()
    }
}

/// What the content says about some wasted bytes, before any instruction is read:
/// [`advice`] adds the two steps' commands to name the pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Facts {
    pub place: Place,
    pub how: How,
    /// For [`How::Rewritten`] and [`How::Overwritten`]: what the headers changed.
    pub changes: Changes,
}

/// Some wasted bytes of one layer that share their facts and their hiding layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub facts: Facts,
    pub by_layer: u32,
    pub bytes: u64,
    pub files: u64,
    /// The largest file of the finding, for a concrete example.
    pub example: Vec<u8>,
}

/// Waste of one layer hidden by one later layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub by_layer: u32,
    pub bytes: u64,
    pub files: u64,
    /// Bytes per reason, largest first.
    pub reasons: Vec<(Reason, u64)>,
}

/// A directory (or file) of wasted bytes, rolled up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRow {
    pub path: Vec<u8>,
    pub is_dir: bool,
    /// The rest of the directory `path`: what its rows for larger children leave.
    pub other: bool,
    pub bytes: u64,
    pub files: u64,
    /// Hiding layers, most bytes first.
    pub removed_by: Vec<u32>,
    /// Reasons, most bytes first.
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub path: Vec<u8>,
    pub bytes: u64,
    pub reason: Reason,
    pub by_layer: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerDetail {
    pub by_reason: Vec<(Reason, u64)>,
    pub removed_by: Vec<Removal>,
    /// Stored bytes of the wasted entries (compressed, for compressed layers).
    pub stored_wasted: u64,
    pub findings: Vec<Finding>,
    pub top_paths: Vec<PathRow>,
    pub files: Vec<FileRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateGroup {
    pub bytes_each: u64,
    pub paths: Vec<Vec<u8>>,
}

/// Identical content at more than one live path: not waste under the model (every copy
/// is visible), but bytes a `COPY --link`, a hard link or a cleaner build would save.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Duplicates {
    /// Bytes of the copies beyond the first of each content.
    pub bytes: u64,
    pub files: u64,
    pub groups: Vec<DuplicateGroup>,
}

/// Caches still present in the final image: not waste (they are visible), but
/// removable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removable {
    pub kind: PathKind,
    pub bytes: u64,
    pub files: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Explanation {
    pub layers: Vec<LayerDetail>,
    pub duplicates: Duplicates,
    pub removable: Vec<Removable>,
}

/// Explains every wasted content of the replay.
pub fn explain(replay: &Replay, options: &ExplainOptions) -> Explanation {
    let mut wasted_by_layer: Vec<Vec<ContentId>> = vec![Vec::new(); replay.layers as usize];
    for (id, c) in replay.contents.iter().enumerate() {
        if c.hidden.is_some() && c.bytes > 0 {
            wasted_by_layer[c.layer as usize].push(id as ContentId);
        }
    }
    let moves = MoveIndex::new(replay);
    // The layers, the duplicates and the caches are explained apart, in parallel on
    // the caller's thread pool: this is the last serial stretch of an analysis, and on
    // big its largest layer (23k wasted files) is as much work as all the rest.
    use rayon::prelude::*;
    let (layers, (duplicates, removable)) = rayon::join(
        || {
            wasted_by_layer
                .par_iter()
                // A task per layer, so the other thread can take any of them.
                .with_max_len(1)
                .map_init(
                    || Slots::new(&replay.tree),
                    |slots, ids| layer_detail(replay, ids, &moves, options, slots),
                )
                .collect()
        },
        || {
            rayon::join(
                || duplicates(replay, options.duplicate_groups),
                || removable(replay),
            )
        },
    );
    Explanation {
        layers,
        duplicates,
        removable,
    }
}

fn sorted_desc<K: Ord + Copy>(map: HashMap<K, u64>) -> Vec<(K, u64)> {
    let mut v: Vec<(K, u64)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

fn layer_detail(
    replay: &Replay,
    ids: &[ContentId],
    moves: &MoveIndex,
    options: &ExplainOptions,
    slots: &mut Slots,
) -> LayerDetail {
    let mut by_reason: HashMap<Reason, u64> = HashMap::new();
    let mut removals: HashMap<u32, (u64, u64, HashMap<Reason, u64>)> = HashMap::new();
    let mut findings: HashMap<(Place, How, u32), Group> = HashMap::new();

    let mut stored_wasted = 0;
    let mut files = Vec::new();
    let mut path = Vec::new();
    for &id in ids {
        let c = &replay.contents[id as usize];
        let Some(h) = c.hidden else { continue };
        replay.tree.path_into(c.node, &mut path);
        *by_reason.entry(h.reason).or_default() += c.bytes;
        let r = removals.entry(h.by_layer).or_default();
        r.0 += c.bytes;
        r.1 += 1;
        *r.2.entry(h.reason).or_default() += c.bytes;
        let (how, changes) = match h.reason {
            Reason::MetadataOnly | Reason::Overwritten => {
                let changes = h
                    .replaced_by()
                    .map(|n| Changes::between(&c.meta, &replay.contents[n as usize].meta))
                    .unwrap_or_default();
                let how = if h.reason == Reason::MetadataOnly {
                    How::Rewritten
                } else {
                    How::Overwritten
                };
                (how, changes)
            }
            _ if moves.is_moved(c, h.by_layer) => (How::Moved, Changes::default()),
            _ => (How::Removed, Changes::default()),
        };
        let g = findings
            .entry((Place::of(&path), how, h.by_layer))
            .or_default();
        g.bytes += c.bytes;
        g.files += 1;
        g.changes = g.changes.union(changes);
        if c.bytes > g.largest || g.example.is_empty() {
            g.largest = c.bytes;
            g.example.clone_from(&path);
        }
        stored_wasted += c.stored;
        if options.files {
            files.push(FileRow {
                path: path.clone(),
                bytes: c.bytes,
                reason: h.reason,
                by_layer: h.by_layer,
            });
        }
    }
    files.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    let mut removed_by: Vec<Removal> = removals
        .into_iter()
        .map(|(by_layer, (bytes, files, reasons))| Removal {
            by_layer,
            bytes,
            files,
            reasons: sorted_desc(reasons),
        })
        .collect();
    removed_by.sort_by_key(|r| r.by_layer);
    let mut findings: Vec<Finding> = findings
        .into_iter()
        .map(|((place, how, by_layer), g)| Finding {
            facts: Facts {
                place,
                how,
                changes: g.changes,
            },
            by_layer,
            bytes: g.bytes,
            files: g.files,
            example: g.example,
        })
        .collect();
    findings.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(a.by_layer.cmp(&b.by_layer))
            .then(a.facts.cmp(&b.facts))
    });
    LayerDetail {
        by_reason: sorted_desc(by_reason),
        removed_by,
        stored_wasted,
        findings,
        top_paths: roll_up(replay, ids, options.top, slots),
        files,
    }
}

/// One finding as it is summed up.
#[derive(Default)]
struct Group {
    bytes: u64,
    files: u64,
    changes: Changes,
    largest: u64,
    example: Vec<u8>,
}

/// The contents that layers which deleted something added, by size and hash: a deleted
/// content whose twin its hiding layer added was moved, not removed (whatever became of
/// the twin later). Holds only the hashed files of layers that delete, once per image.
struct MoveIndex {
    /// (layer, size, hash) → the paths (nodes) that layer added it at: two are enough
    /// to know whether one differs from a deleted content's own path.
    added: HashMap<(u32, u64, u64), [NodeId; 2]>,
}

impl MoveIndex {
    fn new(replay: &Replay) -> MoveIndex {
        let hiders: HashSet<u32> = replay
            .contents
            .iter()
            .filter_map(|c| c.hidden.filter(|h| c.bytes > 0 && is_removal(h.reason)))
            .map(|h| h.by_layer)
            .collect();
        let mut added: HashMap<(u32, u64, u64), [NodeId; 2]> = HashMap::new();
        if !hiders.is_empty() {
            for c in &replay.contents {
                if c.bytes == 0 || !hiders.contains(&c.layer) {
                    continue;
                }
                if let Some(h) = c.hash {
                    let nodes = added.entry((c.layer, c.bytes, h)).or_insert([c.node; 2]);
                    if nodes[0] != c.node {
                        nodes[1] = c.node;
                    }
                }
            }
        }
        MoveIndex { added }
    }

    /// Whether the hiding layer added the same content at another path. A delete and
    /// an identical re-add at the same path (a package reinstalled) is no move.
    fn is_moved(&self, c: &crate::model::Content, by_layer: u32) -> bool {
        c.hash
            .and_then(|h| self.added.get(&(by_layer, c.bytes, h)))
            .is_some_and(|nodes| nodes.iter().any(|&n| n != c.node))
    }
}

fn is_removal(reason: Reason) -> bool {
    !matches!(reason, Reason::MetadataOnly | Reason::Overwritten)
}

/// Deleted contents and the contents their hiding layer added with the same size:
/// hashing both (a targeted re-read, for layers not hashed as they were walked) tells
/// a move from a delete.
pub fn move_candidates(replay: &Replay) -> Vec<ContentId> {
    let mut deleted_sizes: HashSet<(u32, u64)> = Default::default();
    for c in &replay.contents {
        if let Some(h) = c.hidden {
            if c.bytes > 0 && is_removal(h.reason) && h.by_layer != c.layer {
                deleted_sizes.insert((h.by_layer, c.bytes));
            }
        }
    }
    if deleted_sizes.is_empty() {
        return Vec::new();
    }
    // Sizes that a deleting layer both deleted and added: only those can be moves.
    let added_sizes: HashSet<(u32, u64)> = replay
        .contents
        .iter()
        .filter(|c| deleted_sizes.contains(&(c.layer, c.bytes)))
        .map(|c| (c.layer, c.bytes))
        .collect();
    replay
        .contents
        .iter()
        .enumerate()
        .filter(|(_, c)| c.hash.is_none() && c.bytes > 0)
        .filter(|(_, c)| {
            let deleted = c.hidden.is_some_and(|h| {
                is_removal(h.reason) && added_sizes.contains(&(h.by_layer, c.bytes))
            });
            deleted || added_sizes.contains(&(c.layer, c.bytes))
        })
        .map(|(id, _)| id as ContentId)
        .collect()
}

/// Byte counts of a few keys: a row of the roll-up has one or two hiders and reasons,
/// so a vector does what a hash map would, without its allocation.
#[derive(Debug, Clone)]
struct Counts<K>(Vec<(K, u64)>);

impl<K> Default for Counts<K> {
    fn default() -> Self {
        Counts(Vec::new())
    }
}

impl<K: PartialEq + Copy + Ord> Counts<K> {
    fn add(&mut self, key: K, bytes: u64) {
        match self.0.iter_mut().find(|e| e.0 == key) {
            Some(e) => e.1 += bytes,
            None => self.0.push((key, bytes)),
        }
    }

    /// The keys, most bytes first (ties by key).
    fn sorted_keys(mut self) -> Vec<K> {
        self.0.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.0.into_iter().map(|(k, _)| k).collect()
    }
}

/// Wasted bytes at or below one tree node, as the roll-up sums them.
struct Sum {
    node: NodeId,
    /// The parent's slot (the root's own slot for the root).
    parent: u32,
    bytes: u64,
    files: u64,
    /// Of a file that also has wasted bytes below it: the file's own.
    own_bytes: u64,
    own_files: u64,
}

/// Marks the slots the roll-up gives its nodes: one `u32` per tree node, reused for
/// every layer and left all [`NONE`] again after each.
struct Slots(Vec<u32>);

impl Slots {
    fn new(tree: &crate::model::tree::Tree) -> Slots {
        Slots(vec![NONE; tree.len()])
    }
}

/// A row of the roll-up, by slot: a whole subtree, a node's own bytes (a file that
/// also has wasted bytes below it), or what is left of a directory once its largest
/// children have rows of their own.
enum Row {
    Whole(u32),
    Own(u32),
    Rest(u32, Vec<u32>),
}

impl Row {
    fn slot(&self) -> u32 {
        match self {
            Row::Whole(n) | Row::Own(n) | Row::Rest(n, _) => *n,
        }
    }
}

/// Rolls wasted files up by directory into at most `top` rows: start from the root and
/// keep expanding the largest row into its children while the rows still fit, skipping
/// through directories whose waste is all in one child. When a directory has more
/// children than rows left, its largest children get rows and the rest of it one more,
/// as long as the named children hold most of its bytes. The result names the deepest
/// directories that explain the bytes, like `usr/lib/gcc/x86_64-linux-gnu/12/`.
///
/// Sums live in a vector of the nodes reached (one slot each), and the hiders and
/// reasons are counted only for the rows that are kept, in a second pass: per node
/// they were most of the explanation's time and of its peak memory.
fn roll_up(replay: &Replay, ids: &[ContentId], top: usize, slots: &mut Slots) -> Vec<PathRow> {
    if ids.is_empty() || top == 0 {
        return Vec::new();
    }
    let tree = &replay.tree;
    let mut sums: Vec<Sum> = Vec::new();
    for &id in ids {
        let c = &replay.contents[id as usize];
        if c.hidden.is_none() {
            continue;
        }
        let mut n = c.node;
        let mut own = true;
        loop {
            let mut slot = slots.0[n as usize];
            if slot == NONE {
                slot = sums.len() as u32;
                slots.0[n as usize] = slot;
                sums.push(Sum {
                    node: n,
                    parent: NONE,
                    bytes: 0,
                    files: 0,
                    own_bytes: 0,
                    own_files: 0,
                });
            }
            let sum = &mut sums[slot as usize];
            sum.bytes += c.bytes;
            sum.files += 1;
            if own {
                sum.own_bytes += c.bytes;
                sum.own_files += 1;
                own = false;
            }
            if n == ROOT {
                break;
            }
            n = tree.node(n).parent;
        }
    }
    for (i, s) in sums.iter_mut().enumerate() {
        s.parent = if s.node == ROOT {
            i as u32
        } else {
            slots.0[tree.node(s.node).parent as usize]
        };
    }
    // Each slot's children, in the order they were first reached (slots are numbered
    // in that order): the row order, and so the tie order, of the expansion below.
    let mut kid_start = vec![0u32; sums.len() + 1];
    for (i, s) in sums.iter().enumerate() {
        if s.parent != i as u32 {
            kid_start[s.parent as usize + 1] += 1;
        }
    }
    for i in 0..sums.len() {
        kid_start[i + 1] += kid_start[i];
    }
    let mut kid_list = vec![0u32; kid_start[sums.len()] as usize];
    let mut filled = kid_start.clone();
    for (i, s) in sums.iter().enumerate() {
        if s.parent != i as u32 {
            kid_list[filled[s.parent as usize] as usize] = i as u32;
            filled[s.parent as usize] += 1;
        }
    }
    let kids =
        |n: u32| &kid_list[kid_start[n as usize] as usize..kid_start[n as usize + 1] as usize];
    let bytes = |n: u32| sums[n as usize].bytes;
    let collapse = |mut n: u32| {
        while kids(n).len() == 1 && sums[n as usize].own_files == 0 {
            n = kids(n)[0];
        }
        n
    };
    let root = slots.0[ROOT as usize];
    let mut rows: Vec<Row> = vec![Row::Whole(collapse(root))];
    loop {
        let mut candidates: Vec<usize> = (0..rows.len())
            .filter(|&i| matches!(rows[i], Row::Whole(n) if !kids(n).is_empty()))
            .collect();
        candidates.sort_by(|&a, &b| bytes(rows[b].slot()).cmp(&bytes(rows[a].slot())));
        // The largest row that can open up does: wholly if its children fit, else
        // partly (its largest children get rows, the rest of it one more) when the named
        // children hold most of its bytes.
        let free = top - (rows.len() - 1);
        let mut opened = false;
        for i in candidates {
            let n = rows[i].slot();
            let own = usize::from(sums[n as usize].own_files > 0);
            if kids(n).len() + own <= free {
                rows.swap_remove(i);
                if own > 0 {
                    rows.push(Row::Own(n));
                }
                rows.extend(kids(n).iter().map(|&k| Row::Whole(collapse(k))));
                opened = true;
                break;
            }
            if free < 2 {
                continue;
            }
            let mut by_size: Vec<u32> = kids(n).to_vec();
            by_size.sort_by(|&a, &b| {
                bytes(b)
                    .cmp(&bytes(a))
                    .then(sums[a as usize].node.cmp(&sums[b as usize].node))
            });
            by_size.truncate(free - 1);
            let named: u64 = by_size.iter().map(|&k| bytes(k)).sum();
            if named * 2 >= bytes(n) {
                rows.swap_remove(i);
                rows.extend(by_size.iter().map(|&k| Row::Whole(collapse(k))));
                rows.push(Row::Rest(n, by_size));
                opened = true;
                break;
            }
        }
        if !opened {
            break;
        }
    }
    // The hiders and reasons of each row: every file goes to the first row found on
    // its way up (a named child's row before the rest of its parent; an `Own` row only
    // takes the node's own file).
    let mut row_at = vec![NONE; sums.len()];
    for (r, row) in rows.iter().enumerate() {
        row_at[row.slot() as usize] = r as u32;
    }
    let mut counts: Vec<(Counts<u32>, Counts<Reason>)> =
        rows.iter().map(|_| Default::default()).collect();
    for &id in ids {
        let c = &replay.contents[id as usize];
        let Some(h) = c.hidden else { continue };
        let start = slots.0[c.node as usize];
        let mut at = start;
        loop {
            let r = row_at[at as usize];
            if r != NONE && (at == start || !matches!(rows[r as usize], Row::Own(_))) {
                let (removers, reasons) = &mut counts[r as usize];
                removers.add(h.by_layer, c.bytes);
                reasons.add(h.reason, c.bytes);
                break;
            }
            let up = sums[at as usize].parent;
            if up == at {
                break;
            }
            at = up;
        }
    }
    let mut out: Vec<PathRow> = rows
        .iter()
        .zip(counts)
        .map(|(row, (removers, reasons))| {
            let n = row.slot();
            let s = &sums[n as usize];
            let (bytes, files) = match row {
                Row::Whole(_) => (s.bytes, s.files),
                Row::Own(_) => (s.own_bytes, s.own_files),
                Row::Rest(_, named) => named.iter().fold((s.bytes, s.files), |(b, f), &k| {
                    (b - sums[k as usize].bytes, f - sums[k as usize].files)
                }),
            };
            PathRow {
                path: tree.path_of(s.node),
                is_dir: !matches!(row, Row::Own(_)) && !kids(n).is_empty(),
                other: matches!(row, Row::Rest(..)),
                bytes,
                files,
                removed_by: removers.sorted_keys(),
                reasons: reasons.sorted_keys(),
            }
        })
        .collect();
    for s in &sums {
        slots.0[s.node as usize] = NONE;
    }
    out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    out
}

/// Live contents with the same size and hash, beyond the first of each.
fn duplicates(replay: &Replay, max_groups: usize) -> Duplicates {
    let mut groups: HashMap<(u64, u64), Vec<ContentId>> = HashMap::new();
    for (id, c) in replay.contents.iter().enumerate() {
        if c.is_live() && c.bytes > 0 {
            if let Some(h) = c.hash {
                groups
                    .entry((c.bytes, h))
                    .or_default()
                    .push(id as ContentId);
            }
        }
    }
    let mut out = Duplicates::default();
    let mut listed: Vec<DuplicateGroup> = Vec::new();
    // Paths only for the groups that can make the list: those that save at least as
    // much as the `max_groups`-th largest (ties are settled by paths below). Building
    // every group's paths cost more than the rest of the report on a million entries.
    let mut savings: Vec<u64> = groups
        .iter()
        .filter(|(_, ids)| ids.len() >= 2)
        .map(|((bytes, _), ids)| bytes * (ids.len() as u64 - 1))
        .collect();
    savings.sort_unstable_by(|a, b| b.cmp(a));
    let threshold = match max_groups {
        0 => u64::MAX,
        n => savings.get(n - 1).copied().unwrap_or(0),
    };
    for ((bytes, _), ids) in groups {
        if ids.len() < 2 {
            continue;
        }
        let extra = ids.len() as u64 - 1;
        out.bytes += bytes * extra;
        out.files += extra;
        if max_groups == 0 || bytes * extra < threshold {
            continue;
        }
        let mut paths: Vec<Vec<u8>> = ids
            .iter()
            .map(|&id| replay.tree.path_of(replay.contents[id as usize].node))
            .collect();
        paths.sort();
        listed.push(DuplicateGroup {
            bytes_each: bytes,
            paths,
        });
    }
    listed.sort_by(|a, b| {
        let wa = a.bytes_each * (a.paths.len() as u64 - 1);
        let wb = b.bytes_each * (b.paths.len() as u64 - 1);
        wb.cmp(&wa).then_with(|| a.paths.cmp(&b.paths))
    });
    listed.truncate(max_groups);
    out.groups = listed;
    out
}

fn removable(replay: &Replay) -> Vec<Removable> {
    let mut by_kind: HashMap<PathKind, (u64, u64)> = HashMap::new();
    let mut path = Vec::new();
    for c in &replay.contents {
        if !c.is_live() || c.bytes == 0 {
            continue;
        }
        // Only files still at the path they were added at can be live there; hard
        // links elsewhere are rare in caches and would not change the figure much.
        replay.tree.path_into(c.node, &mut path);
        if let Some(kind) = patterns::classify(&path) {
            if kind.is_cache() {
                let e = by_kind.entry(kind).or_default();
                e.0 += c.bytes;
                e.1 += 1;
            }
        }
    }
    let mut out: Vec<Removable> = by_kind
        .into_iter()
        .map(|(kind, (bytes, files))| Removable { kind, bytes, files })
        .collect();
    out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.kind.cmp(&b.kind)));
    out
}

/// Live contents that share their size with another live content but have no hash yet:
/// hashing them (a targeted re-read) settles the duplicate-content figure.
pub fn duplicate_candidates(replay: &Replay) -> Vec<ContentId> {
    let mut by_size: HashMap<u64, (u32, bool)> = HashMap::new();
    for c in &replay.contents {
        if c.is_live() && c.bytes > 0 {
            let e = by_size.entry(c.bytes).or_insert((0, false));
            e.0 += 1;
            e.1 |= c.hash.is_none();
        }
    }
    replay
        .contents
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.is_live()
                && c.bytes > 0
                && c.hash.is_none()
                && by_size.get(&c.bytes).is_some_and(|e| e.0 > 1)
        })
        .map(|(id, _)| id as ContentId)
        .collect()
}

#[cfg(test)]
mod tests;
