//! The waste model (../docs/waste-model.md): a pure, sequential replay of the layers'
//! entries, in layer order, that decides which content each byte belongs to, whether
//! that content is still reachable in the final tree, and if not, who hid it and why.
//!
//! No I/O happens here. Content identity (needed only to tell `metadata-only` from
//! `overwritten` when sizes match) comes in as hashes, either from the walk or from a
//! targeted re-read that the pipeline does for the pairs [`Replay::pending_comparisons`]
//! names.

pub mod gate;
pub mod steps;
pub mod tree;

use serde::Serialize;

use crate::walk::{EntryKind, LayerIndex, Meta};
use tree::{ContentId, NodeId, NodeKind, Tree, NONE, ROOT};

/// Why a content is not reachable in the final image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// A whiteout of the path itself.
    Deleted,
    /// A whiteout of a directory above it.
    DeletedParent,
    /// An opaque whiteout of a directory above it.
    Opaque,
    /// A later entry at the same path with different content.
    Overwritten,
    /// A later entry at the same path with the same content: only metadata changed.
    MetadataOnly,
    /// A non-directory replaced a directory above it, or a path on the way became
    /// something else.
    TypeReplaced,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Reason::Deleted,
        Reason::DeletedParent,
        Reason::Opaque,
        Reason::Overwritten,
        Reason::MetadataOnly,
        Reason::TypeReplaced,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Deleted => "deleted",
            Reason::DeletedParent => "deleted-parent",
            Reason::Opaque => "opaque",
            Reason::Overwritten => "overwritten",
            Reason::MetadataOnly => "metadata-only",
            Reason::TypeReplaced => "type-replaced",
        }
    }
}

/// How a content stopped being reachable: the layer whose entry hid its last path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hidden {
    pub by_layer: u32,
    pub reason: Reason,
    /// For a same-size replacement whose hashes were not known during the replay: the
    /// content that replaced it, to compare once hashes arrive.
    compare_with: ContentId,
    /// The content that took its path (an overwrite or a metadata-only copy), or
    /// `NONE` when nothing did (a delete, or a non-file replacing it): the report
    /// compares the two entries' modes, owners and times.
    replaced_by: ContentId,
}

impl Hidden {
    /// The content that took this one's path, when a regular file did.
    pub fn replaced_by(&self) -> Option<ContentId> {
        (self.replaced_by != NONE).then_some(self.replaced_by)
    }
}

/// The bytes one regular-file entry added to one layer.
#[derive(Debug, Clone, Copy)]
pub struct Content {
    pub bytes: u64,
    pub layer: u32,
    /// The path the entry added it at (its first name; hard links add more).
    pub node: NodeId,
    pub hash: Option<u64>,
    /// Where its data lies in the layer's tar, for a targeted re-read.
    pub data_pos: u64,
    /// Stored bytes of its entry: compressed, for compressed layers (pull cost).
    pub stored: u64,
    /// Mode, owner and times of the entry that added it.
    pub meta: Meta,
    /// Visible paths that reach it.
    refs: u32,
    pub hidden: Option<Hidden>,
}

impl Content {
    pub fn is_live(&self) -> bool {
        self.hidden.is_none()
    }
}

/// The replay's state after any number of layers.
pub struct Replay {
    pub tree: Tree,
    pub contents: Vec<Content>,
    layer: u32,
    /// Layers applied so far.
    pub layers: u32,
    pub warnings: Vec<String>,
    stack: Vec<NodeId>,
    /// The directory the last placed path was in, and its path: a tar lists a
    /// directory's entries together, so most paths share it (below, `place`).
    last_dir: (NodeId, Vec<u8>),
    /// Same-size replacements deferred since the last [`Replay::take_new_comparisons`].
    new_comparisons: Vec<(ContentId, ContentId)>,
}

impl Default for Replay {
    fn default() -> Self {
        Replay::new()
    }
}

impl Replay {
    pub fn new() -> Replay {
        Replay {
            tree: Tree::new(),
            contents: Vec::new(),
            layer: 0,
            layers: 0,
            warnings: Vec::new(),
            stack: Vec::new(),
            last_dir: (ROOT, Vec::new()),
            new_comparisons: Vec::new(),
        }
    }

    /// Whether the next layer fits the replay's 32-bit node, name and content ids. A
    /// layer can add at most one node per path component and one content per entry, and
    /// its name bytes bound both; the pipeline checks this before [`Replay::apply`] so
    /// an absurd image stops with an error instead of wrapping an id.
    pub fn has_room_for(&self, index: &LayerIndex) -> bool {
        ids_fit(
            [self.tree.len(), self.tree.names_len(), self.contents.len()],
            index.names_len(),
            index.entries.len(),
        )
    }

    /// Applies the next layer: its whiteouts first (they hide only what lower layers
    /// put there, wherever they stand in the tar), then its other entries in tar order.
    pub fn apply(&mut self, index: &LayerIndex) {
        self.layer = self.layers;
        // Most entries of a layer are new paths and new contents.
        self.tree.reserve(index.entries.len(), index.names_len());
        self.contents.reserve(index.entries.len());
        for entry in &index.entries {
            let path = index.path(entry.path);
            match entry.kind {
                EntryKind::Whiteout => {
                    if let Some(node) = self.tree.lookup(path) {
                        if node != ROOT {
                            self.hide(node, Some(Reason::Deleted), Reason::DeletedParent);
                        }
                    }
                }
                EntryKind::Opaque => {
                    if let Some(dir) = self.tree.lookup(path) {
                        if self.tree.node(dir).kind == NodeKind::Dir {
                            let children: Vec<NodeId> = self.tree.present_children(dir).collect();
                            for child in children {
                                self.hide(child, Some(Reason::Opaque), Reason::Opaque);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let mut dangling = 0u64;
        for entry in &index.entries {
            let path = index.path(entry.path);
            match entry.kind {
                EntryKind::Whiteout | EntryKind::Opaque => {}
                EntryKind::Dir => {
                    let node = self.place(path);
                    if node != ROOT && self.tree.node(node).kind != NodeKind::Dir {
                        self.replace(node, NONE);
                        self.tree.node_mut(node).kind = NodeKind::Dir;
                    }
                }
                EntryKind::File => {
                    let content = self.contents.len() as ContentId;
                    let node = self.place(path);
                    if node == ROOT {
                        continue;
                    }
                    self.contents.push(Content {
                        bytes: entry.size,
                        layer: self.layer,
                        node,
                        hash: entry.hash,
                        data_pos: entry.data_pos,
                        stored: entry.stored,
                        meta: entry.meta,
                        refs: 1,
                        hidden: None,
                    });
                    self.replace(node, content);
                    let n = self.tree.node_mut(node);
                    n.kind = NodeKind::File;
                    n.content = content;
                }
                EntryKind::HardLink(target) => {
                    // The link shares the content its target has *now*.
                    let target = self.tree.lookup(index.path(target));
                    let (kind, content) = match target {
                        Some(t) if t != ROOT => {
                            let n = self.tree.node(t);
                            (n.kind, n.content)
                        }
                        _ => {
                            dangling += 1;
                            (NodeKind::File, NONE)
                        }
                    };
                    // Take the reference first: placing the link may hide the target's
                    // own path (a link at `a/b` to the file `a`), and the link must keep
                    // the content it was given alive.
                    if content != NONE {
                        self.contents[content as usize].refs += 1;
                    }
                    let node = self.place(path);
                    if node == ROOT {
                        if content != NONE {
                            self.contents[content as usize].refs -= 1;
                        }
                        continue;
                    }
                    self.replace(node, content);
                    let n = self.tree.node_mut(node);
                    n.kind = if kind == NodeKind::Dir {
                        NodeKind::Other
                    } else {
                        kind
                    };
                    n.content = content;
                }
                EntryKind::Symlink | EntryKind::Other => {
                    let node = self.place(path);
                    if node == ROOT {
                        continue;
                    }
                    self.replace(node, NONE);
                    self.tree.node_mut(node).kind = if entry.kind == EntryKind::Symlink {
                        NodeKind::Symlink
                    } else {
                        NodeKind::Other
                    };
                }
            }
        }
        if dangling > 0 {
            self.warnings.push(format!(
                "layer {}: {dangling} hard link{} to a path that does not exist; counted as empty files",
                self.layer,
                if dangling == 1 { "" } else { "s" }
            ));
        }
        self.layers += 1;
    }

    /// Finds or creates the node for a path, making its parents directories: missing
    /// ones implicitly, and any non-directory on the way is hidden as if replaced.
    ///
    /// A path in the same directory as the last one starts from that directory's node
    /// when it is still a directory: then every node above it is one too (hiding a node
    /// hides everything below it), so walking down from the root would change nothing.
    /// On big this halves the replay, which is serial and on the critical path.
    fn place(&mut self, path: &[u8]) -> NodeId {
        if path.is_empty() {
            return ROOT;
        }
        let (dir, name) = match path.iter().rposition(|&b| b == b'/') {
            Some(slash) => (&path[..slash], &path[slash + 1..]),
            None => (&path[..0], path),
        };
        let (last, last_path) = &self.last_dir;
        let at = if dir == &last_path[..] && self.tree.node(*last).kind == NodeKind::Dir {
            *last
        } else {
            let at = self.place_dir(dir);
            self.last_dir.0 = at;
            self.last_dir.1.clear();
            self.last_dir.1.extend_from_slice(dir);
            at
        };
        self.tree.child_or_insert(at, name)
    }

    /// [`Replay::place`] for a directory, walking down from the root.
    fn place_dir(&mut self, dir: &[u8]) -> NodeId {
        let mut at = ROOT;
        if dir.is_empty() {
            return at;
        }
        for part in dir.split(|b| *b == b'/') {
            let child = self.tree.child_or_insert(at, part);
            match self.tree.node(child).kind {
                NodeKind::Dir => {}
                NodeKind::Absent => {}
                _ => self.hide(child, Some(Reason::TypeReplaced), Reason::TypeReplaced),
            }
            let n = self.tree.node_mut(child);
            n.kind = NodeKind::Dir;
            n.content = NONE;
            at = child;
        }
        at
    }

    /// Hides whatever stands at `node` before a new entry takes the path. The node's own
    /// content is overwritten (or only its metadata changed, when `new_content` is the
    /// same bytes); anything below a replaced directory is type-replaced.
    fn replace(&mut self, node: NodeId, new_content: ContentId) {
        let n = *self.tree.node(node);
        match n.kind {
            NodeKind::Absent => {}
            NodeKind::Dir => {
                let children: Vec<NodeId> = self.tree.present_children(node).collect();
                for child in children {
                    self.hide(child, Some(Reason::TypeReplaced), Reason::TypeReplaced);
                }
            }
            _ => {
                if n.content != NONE && n.content == new_content {
                    // A hard link to what is already there: nothing is hidden. Undo the
                    // extra reference the caller took.
                    self.contents[n.content as usize].refs -= 1;
                    return;
                }
                if n.content != NONE {
                    let (reason, compare_with) = self.compare(n.content, new_content);
                    self.release(n.content, reason, compare_with, new_content);
                }
            }
        }
        let n = self.tree.node_mut(node);
        n.kind = NodeKind::Absent;
        n.content = NONE;
    }

    /// Decides between overwritten and metadata-only, or defers when only hashes could
    /// tell and they are not known yet.
    fn compare(&self, old: ContentId, new: ContentId) -> (Reason, ContentId) {
        if new == NONE {
            return (Reason::Overwritten, NONE);
        }
        let (a, b) = (&self.contents[old as usize], &self.contents[new as usize]);
        if a.bytes != b.bytes {
            return (Reason::Overwritten, NONE);
        }
        if a.bytes == 0 {
            return (Reason::MetadataOnly, NONE);
        }
        match (a.hash, b.hash) {
            (Some(x), Some(y)) if x == y => (Reason::MetadataOnly, NONE),
            (Some(_), Some(_)) => (Reason::Overwritten, NONE),
            _ => (Reason::Overwritten, new),
        }
    }

    fn release(
        &mut self,
        content: ContentId,
        reason: Reason,
        compare_with: ContentId,
        replaced_by: ContentId,
    ) {
        let c = &mut self.contents[content as usize];
        c.refs -= 1;
        if c.refs == 0 {
            c.hidden = Some(Hidden {
                by_layer: self.layer,
                reason,
                compare_with,
                replaced_by,
            });
            if compare_with != NONE {
                self.new_comparisons.push((content, compare_with));
            }
        }
    }

    /// Hides a node and everything under it. The node's own content gets `own` (or
    /// `below` when `own` is None); everything under it gets `below`.
    fn hide(&mut self, node: NodeId, own: Option<Reason>, below: Reason) {
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.push(node);
        while let Some(id) = stack.pop() {
            let n = *self.tree.node(id);
            if n.kind == NodeKind::Absent {
                continue;
            }
            if n.kind == NodeKind::Dir {
                stack.extend(self.tree.present_children(id));
            }
            if n.content != NONE {
                let reason = if id == node {
                    own.unwrap_or(below)
                } else {
                    below
                };
                self.release(n.content, reason, NONE, NONE);
            }
            let m = self.tree.node_mut(id);
            m.kind = NodeKind::Absent;
            m.content = NONE;
        }
        self.stack = stack;
    }

    /// Same-size replacements whose reason waits on content hashes: `(old, new)` pairs.
    /// The pipeline hashes what is missing and calls [`Replay::set_hash`].
    pub fn pending_comparisons(&self) -> impl Iterator<Item = (ContentId, ContentId)> + '_ {
        self.contents.iter().enumerate().filter_map(|(i, c)| {
            let h = c.hidden?;
            (h.compare_with != NONE).then_some((i as ContentId, h.compare_with))
        })
    }

    /// The pairs of [`Replay::pending_comparisons`] that the layers applied since the
    /// last call deferred: the pipeline starts hashing them while later layers replay.
    pub fn take_new_comparisons(&mut self) -> Vec<(ContentId, ContentId)> {
        std::mem::take(&mut self.new_comparisons)
    }

    pub fn set_hash(&mut self, content: ContentId, hash: u64) {
        self.contents[content as usize].hash = Some(hash);
    }

    /// Settles deferred comparisons with the hashes now known. A pair still missing a
    /// hash stays `overwritten`, the conservative reading.
    pub fn resolve_comparisons(&mut self) {
        for i in 0..self.contents.len() {
            let Some(h) = self.contents[i].hidden else {
                continue;
            };
            if h.compare_with == NONE {
                continue;
            }
            let other = self.contents[h.compare_with as usize].hash;
            let same = matches!((self.contents[i].hash, other), (Some(a), Some(b)) if a == b);
            self.contents[i].hidden = Some(Hidden {
                by_layer: h.by_layer,
                reason: if same {
                    Reason::MetadataOnly
                } else {
                    Reason::Overwritten
                },
                compare_with: NONE,
                replaced_by: h.replaced_by,
            });
        }
    }

    /// Totals per the model: every content's bytes belong to the layer that added them;
    /// those not reachable in the final tree are wasted, attributed to their hider.
    pub fn outcome(&self) -> Outcome {
        let layers = self.layers as usize;
        let mut out = Outcome {
            layers: vec![LayerOutcome::default(); layers],
            ..Default::default()
        };
        for c in &self.contents {
            let l = &mut out.layers[c.layer as usize];
            l.bytes += c.bytes;
            out.total_bytes += c.bytes;
            match c.hidden {
                None => out.final_bytes += c.bytes,
                // A hidden empty file wastes nothing and names no remover.
                Some(_) if c.bytes == 0 => {}
                Some(h) => {
                    l.wasted_bytes += c.bytes;
                    out.wasted_bytes += c.bytes;
                    let slot = l.removed_by.iter_mut().find(|(by, _)| *by == h.by_layer);
                    match slot {
                        Some((_, b)) => *b += c.bytes,
                        None => l.removed_by.push((h.by_layer, c.bytes)),
                    }
                }
            }
        }
        for l in &mut out.layers {
            l.removed_by.sort_unstable();
        }
        out
    }
}

/// Whether a layer of `names` name bytes and `entries` entries still fits 32-bit ids,
/// given the replay's `[nodes, name bytes, contents]` so far.
fn ids_fit([nodes, name_bytes, contents]: [usize; 3], names: usize, entries: usize) -> bool {
    let limit = u32::MAX as usize - 1;
    nodes.saturating_add(names).saturating_add(entries) < limit
        && name_bytes.saturating_add(names) < limit
        && contents.saturating_add(entries) < limit
}

/// Figures per the model, per layer and in total.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub total_bytes: u64,
    pub final_bytes: u64,
    pub wasted_bytes: u64,
    pub layers: Vec<LayerOutcome>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerOutcome {
    pub bytes: u64,
    pub wasted_bytes: u64,
    /// (hiding layer, bytes), ascending by layer.
    pub removed_by: Vec<(u32, u64)>,
}

impl Outcome {
    pub fn efficiency(&self) -> f64 {
        if self.total_bytes == 0 {
            1.0
        } else {
            self.final_bytes as f64 / self.total_bytes as f64
        }
    }
}

#[cfg(test)]
mod tests;
