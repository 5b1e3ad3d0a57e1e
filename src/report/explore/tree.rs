//! The files pane's tree: built once per step and mode from the entries, then read
//! through a flat list of visible rows that is rebuilt only when expansion, a filter or
//! the sort changes. Moving the cursor never touches the tree.

use hashbrown::HashMap;

use crate::explain::entries::{EntryView, Fate, Kind};
use crate::text::escape_bytes;

pub type NodeIx = u32;
pub const ROOT: NodeIx = 0;

#[derive(Debug, Clone)]
pub struct TreeNode {
    /// The last path component, escaped for the terminal.
    pub name: String,
    pub parent: NodeIx,
    pub children: Vec<NodeIx>,
    pub depth: u16,
    /// The entry this node shows; `None` for a directory only implied by its children.
    pub entry: Option<u32>,
    pub is_dir: bool,
    /// Bytes of the regular files at or under this node.
    pub bytes: u64,
    /// Wasted bytes at or under this node.
    pub wasted: u64,
    pub files: u32,
    pub wasted_files: u32,
    pub expanded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Largest first (wasted bytes when only wasted entries are shown), then by name.
    Size,
    Name,
}

/// Which rows a filter keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub wasted_only: bool,
    /// Case-insensitive substring of the escaped path.
    pub search: String,
}

pub struct FileTree {
    pub nodes: Vec<TreeNode>,
    pub entries: Vec<EntryView>,
}

impl FileTree {
    pub fn new(entries: Vec<EntryView>) -> FileTree {
        let mut nodes = vec![TreeNode {
            name: String::new(),
            parent: ROOT,
            children: Vec::new(),
            depth: 0,
            entry: None,
            is_dir: true,
            bytes: 0,
            wasted: 0,
            files: 0,
            wasted_files: 0,
            expanded: true,
        }];
        // Directories by (parent, name); other entries always get a node of their own,
        // so two entries at one path (an overwrite within a layer) are both shown.
        let mut dirs: HashMap<(NodeIx, &[u8]), NodeIx> = HashMap::new();
        let add = |nodes: &mut Vec<TreeNode>, parent: NodeIx, name: &[u8], is_dir: bool| {
            let id = nodes.len() as NodeIx;
            let depth = nodes[parent as usize].depth + 1;
            nodes.push(TreeNode {
                name: escape_bytes(name),
                parent,
                children: Vec::new(),
                depth,
                entry: None,
                is_dir,
                bytes: 0,
                wasted: 0,
                files: 0,
                wasted_files: 0,
                expanded: true,
            });
            nodes[parent as usize].children.push(id);
            id
        };
        for (i, e) in entries.iter().enumerate() {
            let parts: Vec<&[u8]> = if e.path.is_empty() {
                Vec::new()
            } else {
                e.path.split(|b| *b == b'/').collect()
            };
            let (leaf, dirs_on_way): (Option<&[u8]>, &[&[u8]]) = match e.kind {
                Kind::Dir | Kind::Opaque => (None, &parts[..]),
                _ => match parts.split_last() {
                    Some((last, rest)) => (Some(*last), rest),
                    None => continue,
                },
            };
            let mut at = ROOT;
            for part in dirs_on_way {
                at = match dirs.get(&(at, *part)) {
                    Some(&d) => d,
                    None => {
                        let d = add(&mut nodes, at, part, true);
                        dirs.insert((at, *part), d);
                        d
                    }
                };
            }
            match (e.kind, leaf) {
                (Kind::Dir, _) => {
                    if at != ROOT {
                        nodes[at as usize].entry = Some(i as u32);
                    }
                }
                (Kind::Opaque, _) => {
                    let id = add(&mut nodes, at, b"", false);
                    nodes[id as usize].entry = Some(i as u32);
                }
                (_, Some(name)) => {
                    let id = add(&mut nodes, at, name, false);
                    nodes[id as usize].entry = Some(i as u32);
                }
                (_, None) => {}
            }
        }
        // Children come after their parents, so one backward pass rolls everything up.
        for id in (1..nodes.len()).rev() {
            if let Some(e) = nodes[id].entry.map(|i| &entries[i as usize]) {
                if e.kind == Kind::File {
                    nodes[id].bytes = e.bytes;
                    nodes[id].files = 1;
                    if matches!(e.fate, Fate::Wasted { .. }) && e.bytes > 0 {
                        nodes[id].wasted = e.bytes;
                        nodes[id].wasted_files = 1;
                    }
                }
            }
            let (bytes, wasted, files, wasted_files) = {
                let n = &nodes[id];
                (n.bytes, n.wasted, n.files, n.wasted_files)
            };
            let parent = nodes[id].parent as usize;
            let p = &mut nodes[parent];
            p.bytes += bytes;
            p.wasted += wasted;
            p.files += files;
            p.wasted_files += wasted_files;
        }
        // The map borrows the entries' paths.
        drop(dirs);
        FileTree { nodes, entries }
    }

    pub fn entry(&self, node: NodeIx) -> Option<&EntryView> {
        self.nodes[node as usize]
            .entry
            .map(|i| &self.entries[i as usize])
    }

    /// Orders every directory's children. Sorting is total: ties go by name, then by
    /// the order the entries came in.
    pub fn sort(&mut self, sort: Sort, wasted_first: bool) {
        let keys: Vec<(u64, bool)> = self
            .nodes
            .iter()
            .map(|n| (if wasted_first { n.wasted } else { n.bytes }, n.is_dir))
            .collect();
        let mut all: Vec<Vec<NodeIx>> = self
            .nodes
            .iter_mut()
            .map(|n| std::mem::take(&mut n.children))
            .collect();
        let names: Vec<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
        for children in &mut all {
            match sort {
                Sort::Size => children.sort_by(|&a, &b| {
                    let (ka, kb) = (keys[a as usize].0, keys[b as usize].0);
                    kb.cmp(&ka)
                        .then_with(|| names[a as usize].cmp(names[b as usize]))
                        .then(a.cmp(&b))
                }),
                Sort::Name => children
                    .sort_by(|&a, &b| names[a as usize].cmp(names[b as usize]).then(a.cmp(&b))),
            }
        }
        drop(names);
        for (n, children) in self.nodes.iter_mut().zip(all) {
            n.children = children;
        }
    }

    /// The escaped full path of a node, `/`-joined.
    pub fn path(&self, node: NodeIx) -> String {
        let mut parts = Vec::new();
        let mut at = node;
        while at != ROOT {
            parts.push(self.nodes[at as usize].name.as_str());
            at = self.nodes[at as usize].parent;
        }
        parts.reverse();
        parts.join("/")
    }

    /// Which nodes a filter keeps: a leaf that passes, and every directory on the way to
    /// one. A directory whose own path matches the search is kept too.
    fn kept(&self, filter: &Filter) -> Vec<bool> {
        let needle = filter.search.to_lowercase();
        let mut keep = vec![false; self.nodes.len()];
        if !filter.wasted_only && needle.is_empty() {
            keep.iter_mut().for_each(|k| *k = true);
            return keep;
        }
        // Lower-cased paths, built parent first (nodes are in that order).
        let mut paths: Vec<String> = Vec::with_capacity(if needle.is_empty() {
            0
        } else {
            self.nodes.len()
        });
        for (id, n) in self.nodes.iter().enumerate() {
            let matches_search = if needle.is_empty() {
                true
            } else {
                let p = if id == 0 {
                    String::new()
                } else if n.parent == ROOT {
                    n.name.to_lowercase()
                } else {
                    format!("{}/{}", paths[n.parent as usize], n.name.to_lowercase())
                };
                let m = p.contains(&needle);
                paths.push(p);
                m
            };
            let wasted_ok = !filter.wasted_only || n.wasted > 0;
            keep[id] = if n.is_dir {
                matches_search && wasted_ok && !needle.is_empty()
            } else {
                matches_search && wasted_ok
            };
        }
        for id in (1..self.nodes.len()).rev() {
            if keep[id] {
                keep[self.nodes[id].parent as usize] = true;
            }
        }
        keep
    }

    /// The visible rows, in order: kept nodes under expanded directories.
    pub fn visible_rows(&self, filter: &Filter) -> Vec<NodeIx> {
        let keep = self.kept(filter);
        let mut rows = Vec::new();
        let mut stack: Vec<NodeIx> = self.nodes[ROOT as usize]
            .children
            .iter()
            .rev()
            .copied()
            .collect();
        while let Some(id) = stack.pop() {
            if !keep[id as usize] {
                continue;
            }
            rows.push(id);
            let n = &self.nodes[id as usize];
            if n.is_dir && n.expanded {
                stack.extend(n.children.iter().rev().copied());
            }
        }
        rows
    }

    /// The node whose escaped path is `path`, or its nearest ancestor in this tree.
    pub fn find(&self, path: &str) -> NodeIx {
        let mut at = ROOT;
        if path.is_empty() {
            return at;
        }
        for part in path.split('/') {
            match self.nodes[at as usize]
                .children
                .iter()
                .find(|&&c| self.nodes[c as usize].name == part)
            {
                Some(&c) => at = c,
                None => break,
            }
        }
        at
    }

    /// Whether `node` is `ancestor` or lies under it.
    pub fn is_within(&self, mut node: NodeIx, ancestor: NodeIx) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            if node == ROOT {
                return false;
            }
            node = self.nodes[node as usize].parent;
        }
    }
}
