//! The path tree the replay works on: one node per path ever seen, interned once.
//!
//! A node is 24 bytes and a name is stored once in an arena, however many layers touch
//! the path: memory follows the number of distinct paths, not of entries or bytes.
//! Nodes are never freed. A hidden subtree is marked absent, and because hiding a node
//! always hides everything below it, a walk over present nodes can stop at any absent
//! one.

use hashbrown::HashTable;
use std::hash::BuildHasher;

pub type NodeId = u32;
pub type ContentId = u32;
pub const NONE: u32 = u32::MAX;
pub const ROOT: NodeId = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Absent,
    Dir,
    /// A regular file or a hard link: it reaches a content (or none, for a hard link
    /// whose target did not exist).
    File,
    Symlink,
    Other,
}

#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub parent: NodeId,
    name_off: u32,
    name_len: u32,
    first_child: NodeId,
    next_sibling: NodeId,
    pub content: ContentId,
    pub kind: NodeKind,
}

pub struct Tree {
    nodes: Vec<Node>,
    names: Vec<u8>,
    /// (parent, name) → node, hashed without storing the key twice.
    index: HashTable<NodeId>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            nodes: vec![Node {
                parent: NONE,
                name_off: 0,
                name_len: 0,
                first_child: NONE,
                next_sibling: NONE,
                content: NONE,
                kind: NodeKind::Dir,
            }],
            names: Vec::new(),
            index: HashTable::new(),
            hasher: hashbrown::DefaultHashBuilder::default(),
        }
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.nodes[id as usize]
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    pub fn name(&self, id: NodeId) -> &[u8] {
        let n = &self.nodes[id as usize];
        &self.names[n.name_off as usize..(n.name_off + n.name_len) as usize]
    }

    fn hash(&self, parent: NodeId, name: &[u8]) -> u64 {
        self.hasher.hash_one((parent, name))
    }

    /// The child called `name`, present or not, if the path was ever seen.
    pub fn child(&self, parent: NodeId, name: &[u8]) -> Option<NodeId> {
        self.find(self.hash(parent, name), parent, name)
    }

    fn find(&self, hash: u64, parent: NodeId, name: &[u8]) -> Option<NodeId> {
        self.index
            .find(hash, |&id| {
                let n = &self.nodes[id as usize];
                n.parent == parent
                    && &self.names[n.name_off as usize..(n.name_off + n.name_len) as usize] == name
            })
            .copied()
    }

    /// The child called `name`, created (absent) if the path was never seen.
    pub fn child_or_insert(&mut self, parent: NodeId, name: &[u8]) -> NodeId {
        // One hash for the lookup and the insert.
        let hash = self.hash(parent, name);
        if let Some(id) = self.find(hash, parent, name) {
            return id;
        }
        let id = self.nodes.len() as NodeId;
        let name_off = self.names.len() as u32;
        self.names.extend_from_slice(name);
        let next_sibling = self.nodes[parent as usize].first_child;
        self.nodes.push(Node {
            parent,
            name_off,
            name_len: name.len() as u32,
            first_child: NONE,
            next_sibling,
            content: NONE,
            kind: NodeKind::Absent,
        });
        self.nodes[parent as usize].first_child = id;
        let Tree {
            index,
            nodes,
            names,
            hasher,
        } = self;
        index.insert_unique(hash, id, |&other| key_hash(hasher, nodes, names, other));
        id
    }

    /// The present node at `path`: every component before the last must be a present
    /// directory. Symlinks are never followed.
    pub fn lookup(&self, path: &[u8]) -> Option<NodeId> {
        let mut at = ROOT;
        if path.is_empty() {
            return Some(ROOT);
        }
        for part in path.split(|b| *b == b'/') {
            if self.nodes[at as usize].kind != NodeKind::Dir {
                return None;
            }
            at = self.child(at, part)?;
            if self.nodes[at as usize].kind == NodeKind::Absent {
                return None;
            }
        }
        Some(at)
    }

    /// Present children of a node, in no particular order.
    pub fn present_children(&self, id: NodeId) -> PresentChildren<'_> {
        PresentChildren {
            tree: self,
            next: self.nodes[id as usize].first_child,
        }
    }

    /// The full path of a node, `/`-joined from the root.
    pub fn path_of(&self, id: NodeId) -> Vec<u8> {
        let mut out = Vec::new();
        self.path_into(id, &mut out);
        out
    }

    /// [`Tree::path_of`] into a buffer the caller reuses: the explanation builds a path
    /// for every wasted and every live file, and two allocations each showed up as 15%
    /// of the run on a million entries.
    pub fn path_into(&self, id: NodeId, out: &mut Vec<u8>) {
        out.clear();
        let mut len = 0usize;
        let mut at = id;
        while at != ROOT && at != NONE {
            let n = &self.nodes[at as usize];
            len += n.name_len as usize + usize::from(len > 0);
            at = n.parent;
        }
        out.resize(len, 0);
        // Fill from the end, leaf first.
        let mut end = len;
        let mut at = id;
        while at != ROOT && at != NONE {
            let n = &self.nodes[at as usize];
            let name = self.name(at);
            out[end - name.len()..end].copy_from_slice(name);
            end -= name.len();
            if end > 0 {
                end -= 1;
                out[end] = b'/';
            }
            at = n.parent;
        }
    }

    /// Room for `more` nodes and `name_bytes` more name bytes, made at once: a
    /// layer's entries bound both, and growing the index step by step rehashes every
    /// name it holds each time (a tenth of the replay of a 30k-entry layer).
    pub fn reserve(&mut self, more: usize, name_bytes: usize) {
        self.nodes.reserve(more);
        self.names.reserve(name_bytes);
        let Tree {
            index,
            nodes,
            names,
            hasher,
        } = self;
        index.reserve(more, |&other| key_hash(hasher, nodes, names, other));
    }

    /// Bytes of distinct names stored.
    pub fn names_len(&self) -> usize {
        self.names.len()
    }

    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.names.capacity()
            + self.index.capacity() * (std::mem::size_of::<NodeId>() + 1)
    }
}

/// The hash of node `id`'s key (its parent and name), as [`Tree::child`] hashes it: the
/// index asks for it when it grows and moves what it holds. A free function because the
/// index borrows the tree mutably meanwhile.
fn key_hash(
    hasher: &hashbrown::DefaultHashBuilder,
    nodes: &[Node],
    names: &[u8],
    id: NodeId,
) -> u64 {
    let n = &nodes[id as usize];
    hasher.hash_one((
        n.parent,
        &names[n.name_off as usize..(n.name_off + n.name_len) as usize],
    ))
}

pub struct PresentChildren<'a> {
    tree: &'a Tree,
    next: NodeId,
}

impl Iterator for PresentChildren<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        while self.next != NONE {
            let id = self.next;
            let n = &self.tree.nodes[id as usize];
            self.next = n.next_sibling;
            if n.kind != NodeKind::Absent {
                return Some(id);
            }
        }
        None
    }
}

/// Finds the nodes of paths asked one after another, starting each from the deepest
/// directory it shares with the path before: a tar lists a directory's entries
/// together, so most lookups hash one name instead of every name from the root.
/// [`PathFinder::find`] answers exactly as a walk from the root would.
#[derive(Default)]
pub struct PathFinder {
    /// The last path asked.
    last: Vec<u8>,
    /// For each name of `last` that was found: where the name ends in `last`, and its node.
    found: Vec<(usize, NodeId)>,
}

impl PathFinder {
    pub fn new() -> PathFinder {
        PathFinder::default()
    }

    /// The node of `path` (`/`-separated names under the root; empty is the root), or
    /// `None` when the tree never saw it.
    pub fn find(&mut self, tree: &Tree, path: &[u8]) -> Option<NodeId> {
        if path.is_empty() {
            return Some(ROOT);
        }
        let same = self
            .last
            .iter()
            .zip(path)
            .take_while(|(a, b)| a == b)
            .count();
        // A name found before is reused when it ends within the shared bytes and ends a
        // name of `path` too.
        let keep = self
            .found
            .iter()
            .take_while(|&&(end, _)| end <= same && (end == path.len() || path[end] == b'/'))
            .count();
        self.found.truncate(keep);
        self.last.clear();
        self.last.extend_from_slice(path);
        let (mut start, mut at) = match self.found.last() {
            Some(&(end, node)) if end == path.len() => return Some(node),
            Some(&(end, node)) => (end + 1, node),
            None => (0, ROOT),
        };
        loop {
            let end = path[start..]
                .iter()
                .position(|b| *b == b'/')
                .map_or(path.len(), |i| start + i);
            at = tree.child(at, &path[start..end])?;
            self.found.push((end, at));
            if end == path.len() {
                return Some(at);
            }
            start = end + 1;
        }
    }
}

#[cfg(test)]
mod path_finder_tests {
    use super::*;

    fn from_root(tree: &Tree, path: &[u8]) -> Option<NodeId> {
        if path.is_empty() {
            return Some(ROOT);
        }
        let mut at = ROOT;
        for name in path.split(|b| *b == b'/') {
            at = tree.child(at, name)?;
        }
        Some(at)
    }

    fn insert(tree: &mut Tree, path: &[u8]) {
        let mut at = ROOT;
        for name in path.split(|b| *b == b'/') {
            at = tree.child_or_insert(at, name);
        }
    }

    #[test]
    fn answers_as_a_walk_from_the_root_in_any_order() {
        let mut tree = Tree::new();
        let known: [&[u8]; 9] = [
            b"usr/share/doc/a",
            b"usr/share/doc/ab",
            b"usr/share/docs/a",
            b"usr/lib",
            b"usr/lib/x/y",
            b"etc",
            b"a//b",
            b"a/",
            b"usr/share/doc/a/inner",
        ];
        for p in known {
            insert(&mut tree, p);
        }
        // Names that share bytes but not whole names, prefixes, parents after children,
        // paths never seen, empty names, and the root.
        let asked: [&[u8]; 22] = [
            b"usr/share/doc/a",
            b"usr/share/doc/ab",
            b"usr/share/doc/a",
            b"usr/share/docs/a",
            b"usr/share/doc",
            b"usr/share/doc/a/inner",
            b"usr/share/doc/a/inner/deeper",
            b"usr/share/doc/a/inner",
            b"usr/lib/x/y",
            b"usr/lib/x",
            b"usr/lib/xy",
            b"usr",
            b"",
            b"etc",
            b"etc/missing",
            b"etcetera",
            b"a//b",
            b"a/",
            b"a",
            b"a//b",
            b"nothing/here",
            b"usr/share/doc/ab",
        ];
        let mut finder = PathFinder::new();
        for path in asked {
            assert_eq!(
                finder.find(&tree, path),
                from_root(&tree, path),
                "{}",
                String::from_utf8_lossy(path)
            );
        }
    }
}
