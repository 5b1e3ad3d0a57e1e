//! The replay entry by entry, for a person browsing one layer: what each entry of a
//! layer added and what became of it (live, or wasted with its reason and the layer that
//! hid it), what each whiteout and opaque marker hid, and the image's tree as it stood
//! after a given layer.
//!
//! Pure functions over the finished [`Replay`] and the layers' indexes, like the rest
//! of `explain`. Byte figures come only from the replay's contents, so they agree with
//! the report to the byte; this module only says which entry they belong to.

use std::collections::HashMap;

use crate::model::tree::{ContentId, NodeId, NodeKind, PathFinder, Tree, NONE, ROOT};
use crate::model::{Reason, Replay};
use crate::walk::{EntryKind, LayerIndex};

/// What kind of tar entry a row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    HardLink,
    /// Devices, FIFOs.
    Other,
    /// `.wh.NAME`: the path is the one it hides.
    Whiteout,
    /// `.wh..wh..opq`: the path is the directory whose lower children it hides.
    Opaque,
}

/// What became of an entry's bytes, or what a marker hid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Reachable in the final image.
    Live,
    /// A regular file whose content the final image cannot reach.
    Wasted { reason: Reason, by_layer: u32 },
    /// An entry of no bytes (directory, symlink, hard link, device) that the final image
    /// does not show as this layer left it. [`hider_of`] says who, on demand.
    Hidden,
    /// A whiteout or opaque marker, and the bytes of lower layers it hid.
    Hides(Hid),
}

/// What one whiteout or opaque marker hid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hid {
    pub bytes: u64,
    pub files: u64,
    /// (adding layer, bytes), ascending by layer.
    pub from_layers: Vec<(u32, u64)>,
}

/// One entry of a layer, or one path of a merged tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryView {
    /// Normalised, `/`-joined, as raw bytes (escape before printing).
    pub path: Vec<u8>,
    pub kind: Kind,
    /// The regular file's bytes; 0 for everything else.
    pub bytes: u64,
    /// The content a regular file (or, in a merged tree, a hard link) reaches.
    pub content: Option<ContentId>,
    /// The layer that added it.
    pub layer: u32,
    pub fate: Fate,
}

/// Per-node facts computed once for an image, so that a layer's view needs only that
/// layer's entries.
pub struct EntryIndex {
    /// For every node of the replay's tree: the last layer with an entry at exactly that
    /// path (whiteouts excluded), or [`NONE`].
    last_touch: Vec<u32>,
    /// The first content id of each layer, and one past the last.
    content_start: Vec<usize>,
}

impl EntryIndex {
    pub fn new(replay: &Replay, indexes: &[LayerIndex]) -> EntryIndex {
        let mut last_touch = vec![NONE; replay.tree.len()];
        let mut finder = PathFinder::new();
        for (layer, index) in indexes.iter().enumerate() {
            for entry in &index.entries {
                if matches!(entry.kind, EntryKind::Whiteout | EntryKind::Opaque) {
                    continue;
                }
                if let Some(node) = finder.find(&replay.tree, index.path(entry.path)) {
                    last_touch[node as usize] = layer as u32;
                }
            }
        }
        let contents = &replay.contents;
        let content_start = (0..=indexes.len() as u32)
            .map(|l| contents.partition_point(|c| c.layer < l))
            .collect();
        EntryIndex {
            last_touch,
            content_start,
        }
    }
}

/// Whether a node is present in the final tree as an entry of `kind` would leave it.
fn still_there(tree: &Tree, node: NodeId, kind: EntryKind) -> bool {
    let n = tree.node(node);
    if n.kind == NodeKind::Absent {
        return false;
    }
    // Every parent must be present too: hiding a directory hides its subtree, but an
    // implicit re-creation of a parent makes only the parent present again.
    let mut at = n.parent;
    while at != ROOT && at != NONE {
        if tree.node(at).kind != NodeKind::Dir {
            return false;
        }
        at = tree.node(at).parent;
    }
    match kind {
        EntryKind::Dir => n.kind == NodeKind::Dir,
        EntryKind::Symlink => n.kind == NodeKind::Symlink,
        EntryKind::Other => n.kind == NodeKind::Other,
        EntryKind::HardLink(_) => n.kind != NodeKind::Dir,
        _ => true,
    }
}

fn kind_of(kind: EntryKind) -> Kind {
    match kind {
        EntryKind::File => Kind::File,
        EntryKind::Dir => Kind::Dir,
        EntryKind::Symlink => Kind::Symlink,
        EntryKind::HardLink(_) => Kind::HardLink,
        EntryKind::Other => Kind::Other,
        EntryKind::Whiteout => Kind::Whiteout,
        EntryKind::Opaque => Kind::Opaque,
    }
}

/// Every entry of layer `layer`, in tar order, with its fate.
pub fn layer_entries(
    replay: &Replay,
    indexes: &[LayerIndex],
    facts: &EntryIndex,
    layer: usize,
) -> Vec<EntryView> {
    let Some(index) = indexes.get(layer) else {
        return Vec::new();
    };
    let tree = &replay.tree;
    let mut next_content = facts.content_start[layer];
    let end_content = facts.content_start[layer + 1];
    let mut out = Vec::with_capacity(index.entries.len());
    // Markers of this layer by node, to give each hidden content to the marker that hid it.
    let mut whiteouts: HashMap<NodeId, usize> = HashMap::new();
    let mut opaques: HashMap<NodeId, usize> = HashMap::new();
    let mut finder = PathFinder::new();
    for (i, entry) in index.entries.iter().enumerate() {
        let path = index.path(entry.path);
        let node = finder.find(tree, path);
        let mut view = EntryView {
            path: path.to_vec(),
            kind: kind_of(entry.kind),
            bytes: 0,
            content: None,
            layer: layer as u32,
            fate: Fate::Live,
        };
        match entry.kind {
            EntryKind::File => {
                // Contents are numbered in the order the replay met the file entries.
                if next_content < end_content {
                    let id = next_content as ContentId;
                    next_content += 1;
                    let c = &replay.contents[id as usize];
                    view.bytes = c.bytes;
                    view.content = Some(id);
                    if let Some(h) = c.hidden {
                        view.fate = Fate::Wasted {
                            reason: h.reason,
                            by_layer: h.by_layer,
                        };
                    }
                } else {
                    view.bytes = entry.size;
                }
            }
            EntryKind::Whiteout => {
                if let Some(n) = node {
                    whiteouts.insert(n, i);
                }
                view.fate = Fate::Hides(Hid::default());
            }
            EntryKind::Opaque => {
                if let Some(n) = node {
                    opaques.insert(n, i);
                }
                view.fate = Fate::Hides(Hid::default());
            }
            kind => {
                let live = node.is_some_and(|n| {
                    facts.last_touch[n as usize] == layer as u32 && still_there(tree, n, kind)
                });
                if !live {
                    view.fate = Fate::Hidden;
                }
            }
        }
        out.push(view);
    }
    if whiteouts.is_empty() && opaques.is_empty() {
        return out;
    }
    for c in &replay.contents {
        let Some(h) = c.hidden else { continue };
        if h.by_layer != layer as u32 || c.layer >= layer as u32 {
            continue;
        }
        let marker = match h.reason {
            Reason::Deleted | Reason::DeletedParent => find_above(tree, c.node, &whiteouts, true),
            Reason::Opaque => find_above(tree, c.node, &opaques, false),
            _ => None,
        };
        if let Some(i) = marker {
            if let Fate::Hides(hid) = &mut out[i].fate {
                hid.bytes += c.bytes;
                hid.files += 1;
                match hid.from_layers.iter_mut().find(|(l, _)| *l == c.layer) {
                    Some((_, b)) => *b += c.bytes,
                    None => hid.from_layers.push((c.layer, c.bytes)),
                }
            }
        }
    }
    for v in &mut out {
        if let Fate::Hides(hid) = &mut v.fate {
            hid.from_layers.sort_unstable();
        }
    }
    out
}

/// The marker at `node` (when `including_self`) or at its nearest ancestor that has one.
fn find_above(
    tree: &Tree,
    node: NodeId,
    markers: &HashMap<NodeId, usize>,
    including_self: bool,
) -> Option<usize> {
    let mut at = if including_self {
        node
    } else {
        tree.node(node).parent
    };
    while at != NONE {
        if let Some(&i) = markers.get(&at) {
            return Some(i);
        }
        if at == ROOT {
            break;
        }
        at = tree.node(at).parent;
    }
    None
}

/// Who hid an entry of no bytes, and how: the first later layer that took its path or a
/// directory above it. Scans the later layers, so it is meant for one entry at a time.
pub fn hider_of(
    indexes: &[LayerIndex],
    layer: usize,
    path: &[u8],
    kind: Kind,
) -> Option<(u32, Reason)> {
    let is_dir = kind == Kind::Dir;
    let under = |p: &[u8], dir: &[u8]| {
        dir.is_empty() || (p.len() > dir.len() && p.starts_with(dir) && p[dir.len()] == b'/')
    };
    for (l, index) in indexes.iter().enumerate().skip(layer + 1) {
        // Whiteouts first, as the replay applies them.
        for e in &index.entries {
            let p = index.path(e.path);
            match e.kind {
                EntryKind::Whiteout if p == path => return Some((l as u32, Reason::Deleted)),
                EntryKind::Whiteout if under(path, p) => {
                    return Some((l as u32, Reason::DeletedParent))
                }
                EntryKind::Opaque if under(path, p) => return Some((l as u32, Reason::Opaque)),
                _ => {}
            }
        }
        for e in &index.entries {
            let p = index.path(e.path);
            match e.kind {
                EntryKind::Whiteout | EntryKind::Opaque => {}
                EntryKind::Dir if p == path && is_dir => {}
                EntryKind::Dir if p == path => return Some((l as u32, Reason::TypeReplaced)),
                _ if p == path && is_dir => return Some((l as u32, Reason::TypeReplaced)),
                _ if p == path => return Some((l as u32, Reason::Overwritten)),
                EntryKind::Dir => {}
                // A non-directory above the path replaces the directory it sat in.
                _ if under(path, p) => return Some((l as u32, Reason::TypeReplaced)),
                // Something below a non-directory makes its path a directory.
                _ if !is_dir && under(p, path) => return Some((l as u32, Reason::TypeReplaced)),
                _ => {}
            }
        }
    }
    None
}

/// The tree as it stood after layer `layer`, every present path with the fate its
/// content met in the final image. Replays the layers up to `layer` again, so the
/// result is the model's own, not a second reading of it.
pub fn merged_entries(
    replay: &Replay,
    indexes: &[LayerIndex],
    facts: &EntryIndex,
    layer: usize,
) -> Vec<EntryView> {
    let mut partial = Replay::new();
    for index in indexes.iter().take(layer + 1) {
        if !partial.has_room_for(index) {
            break;
        }
        partial.apply(index);
    }
    let tree = &partial.tree;
    let mut out = Vec::new();
    let mut stack: Vec<NodeId> = tree.present_children(ROOT).collect();
    // Depth first: a directory's children come one after another.
    let mut finder = PathFinder::new();
    while let Some(id) = stack.pop() {
        let n = *tree.node(id);
        let path = tree.path_of(id);
        let final_node = finder.find(&replay.tree, &path);
        let mut view = EntryView {
            path,
            kind: Kind::Dir,
            bytes: 0,
            content: None,
            layer: final_node
                .map(|f| facts.last_touch[f as usize])
                .filter(|&l| l != NONE && l as usize <= layer)
                .unwrap_or(0),
            fate: Fate::Live,
        };
        match n.kind {
            NodeKind::Dir => stack.extend(tree.present_children(id)),
            NodeKind::File => {
                view.kind = Kind::File;
                // Content ids are the same in both replays: they number the same file
                // entries in the same order.
                if n.content != NONE {
                    if let Some(c) = replay.contents.get(n.content as usize) {
                        view.bytes = c.bytes;
                        view.layer = c.layer;
                        view.content = Some(n.content);
                        if let Some(h) = c.hidden {
                            view.fate = Fate::Wasted {
                                reason: h.reason,
                                by_layer: h.by_layer,
                            };
                        }
                    }
                }
            }
            NodeKind::Symlink => view.kind = Kind::Symlink,
            NodeKind::Other | NodeKind::Absent => view.kind = Kind::Other,
        }
        if view.content.is_none() && view.kind != Kind::Dir {
            let entry_kind = match view.kind {
                Kind::Symlink => EntryKind::Symlink,
                _ => EntryKind::Other,
            };
            let live = final_node.is_some_and(|f| {
                facts.last_touch[f as usize] as usize <= layer
                    && still_there(&replay.tree, f, entry_kind)
            });
            if !live {
                view.fate = Fate::Hidden;
            }
        }
        out.push(view);
    }
    out
}

/// The other live paths whose content is the same bytes as `content` (a duplicate).
/// Only contents the pipeline hashed can be compared: those that share a size with
/// another live file, which is every possible duplicate.
pub fn same_content_paths(replay: &Replay, content: ContentId) -> Vec<Vec<u8>> {
    let Some(c) = replay.contents.get(content as usize) else {
        return Vec::new();
    };
    let Some(hash) = c.hash else {
        return Vec::new();
    };
    if c.bytes == 0 {
        return Vec::new();
    }
    let mut paths: Vec<Vec<u8>> = replay
        .contents
        .iter()
        .enumerate()
        .filter(|(i, o)| {
            *i != content as usize && o.is_live() && o.bytes == c.bytes && o.hash == Some(hash)
        })
        .map(|(_, o)| replay.tree.path_of(o.node))
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

#[cfg(test)]
mod tests;
