//! The explorer's state as plain data: which step and entry are selected, which
//! directories are open, the filters and the sort, and the way back from a jump. Every
//! key is a method call here; drawing only reads the result.

use crate::explain::entries::{EntryView, Fate, Kind};
use crate::explain::report::Report;
use crate::model::Reason;
use crate::text::escape;

use super::tree::{FileTree, Filter, NodeIx, Sort};

/// Where the explorer gets the entries it shows. The real one reads the analysis
/// ([`super::AnalysisCatalog`]); tests give fixed entries.
pub trait Catalog {
    /// Every entry of one layer, in tar order.
    fn layer_entries(&self, layer: usize) -> Vec<EntryView>;
    /// Every path present after one layer.
    fn merged_entries(&self, layer: usize) -> Vec<EntryView>;
    /// For an entry of no bytes that the final image does not show: the layer that hid
    /// it and how.
    fn hider(&self, entry: &EntryView) -> Option<(u32, Reason)>;
    /// The other live paths with the same content.
    fn same_content(&self, content: u32) -> Vec<Vec<u8>>;
}

/// A step as the steps pane and the details show it; every string already escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepInfo {
    pub index: usize,
    /// The instruction on one line.
    pub instruction: String,
    /// Shorter, for the narrow pane: `RUN` without its `--mount=…` style flags.
    pub short: String,
    pub bytes: u64,
    pub wasted: u64,
    pub layer: Option<usize>,
    pub empty: bool,
    /// The later steps that hid this step's bytes, most bytes first.
    pub removed_by: Vec<usize>,
    pub dockerfile_line: Option<usize>,
    /// What happened and what to change, one sentence group per finding.
    pub findings: Vec<String>,
}

/// The image's figures, for the status line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub total: u64,
    pub final_bytes: u64,
    pub wasted: u64,
    /// Stored (compressed) bytes of every layer: what a pull downloads.
    pub pull: u64,
    /// Stored bytes of the wasted content, when every wasting layer is compressed.
    pub wasted_pull: Option<u64>,
    pub dockerfile: Option<String>,
}

fn one_line(s: &str) -> String {
    escape(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `RUN --mount=type=bind,… dpkg -i …` → `RUN dpkg -i …`.
fn short_instruction(instruction: &str) -> String {
    let Some(rest) = instruction.strip_prefix("RUN ") else {
        return instruction.to_string();
    };
    let mut words = rest.split(' ').peekable();
    while words.peek().is_some_and(|w| w.starts_with("--")) {
        words.next();
    }
    format!("RUN {}", words.collect::<Vec<_>>().join(" "))
}

impl StepInfo {
    pub fn from_report(report: &Report) -> Vec<StepInfo> {
        report
            .steps
            .iter()
            .map(|s| {
                let instruction = one_line(
                    s.instruction
                        .as_deref()
                        .or(s.created_by.as_deref())
                        .unwrap_or(""),
                );
                let instruction = if instruction.is_empty() {
                    match s.layer {
                        Some(l) => format!("layer {l}"),
                        None => String::new(),
                    }
                } else {
                    instruction
                };
                let mut removed: Vec<(usize, u64)> =
                    s.removed_by.iter().map(|r| (r.step, r.bytes)).collect();
                removed.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                StepInfo {
                    index: s.index,
                    short: short_instruction(&instruction),
                    instruction,
                    bytes: s.bytes,
                    wasted: s.wasted_bytes,
                    layer: s.layer,
                    empty: s.empty_layer,
                    removed_by: removed.into_iter().map(|(s, _)| s).collect(),
                    dockerfile_line: s.dockerfile_line,
                    findings: s.findings.iter().map(|f| escape(&f.advice)).collect(),
                }
            })
            .collect()
    }
}

impl Totals {
    pub fn from_report(report: &Report) -> Totals {
        Totals {
            total: report.summary.total_bytes,
            final_bytes: report.summary.final_bytes,
            wasted: report.summary.wasted_bytes,
            pull: report.layers.iter().map(|l| l.stored_bytes).sum(),
            wasted_pull: report.summary.wasted_pull_bytes,
            dockerfile: report.dockerfile.as_deref().map(escape),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Steps,
    Files,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The selected step's layer: what it added, changed and deleted.
    Changes,
    /// The filesystem as it stands after the selected step.
    Merged,
}

/// A key, as the explorer understands it (the terminal's events are mapped to these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Tab,
    BackTab,
    Enter,
    Backspace,
    Esc,
    CtrlC,
    Char(char),
}

/// A place to come back to with Backspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub step: usize,
    pub mode: Mode,
    pub filter: Filter,
    pub focus: Pane,
    /// The escaped path of the selected row.
    pub path: String,
}

/// What the details pane says about the selected entry beyond the entry itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDetail {
    pub node: NodeIx,
    /// For an entry of no bytes that is hidden: the step that hid it and how.
    pub hider: Option<(usize, Reason)>,
    /// Escaped.
    pub same_content: Vec<String>,
}

pub struct State {
    pub steps: Vec<StepInfo>,
    pub totals: Totals,
    /// For each layer, the step that added it.
    pub step_of_layer: Vec<usize>,
    /// Index into `steps`.
    pub selected: usize,
    pub steps_offset: usize,
    pub focus: Pane,
    pub mode: Mode,
    pub sort: Sort,
    pub filter: Filter,
    /// The search line is being typed.
    pub searching: bool,
    pub help: bool,
    pub tree: FileTree,
    pub rows: Vec<NodeIx>,
    /// Index into `rows`.
    pub cursor: usize,
    pub offset: usize,
    /// Rows the files pane shows; set from the screen size before each draw.
    pub viewport: usize,
    pub steps_viewport: usize,
    pub history: Vec<Place>,
    pub detail: Option<EntryDetail>,
    pub color: bool,
    pub quit: bool,
    /// A one-off note for the status line ("nothing hid this entry").
    pub note: Option<String>,
    catalog: Box<dyn Catalog>,
}

impl State {
    /// Opens on the step that wastes the most (the first of equals), or the last step
    /// when nothing is wasted.
    pub fn new(
        steps: Vec<StepInfo>,
        totals: Totals,
        step_of_layer: Vec<usize>,
        catalog: Box<dyn Catalog>,
    ) -> State {
        let most = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.wasted > 0)
            .max_by(|a, b| a.1.wasted.cmp(&b.1.wasted).then(b.0.cmp(&a.0)))
            .map(|(i, _)| i);
        let selected = most.unwrap_or(steps.len().saturating_sub(1));
        let mut state = State {
            steps,
            totals,
            step_of_layer,
            selected,
            steps_offset: 0,
            focus: Pane::Steps,
            mode: Mode::Changes,
            sort: Sort::Size,
            filter: Filter::default(),
            searching: false,
            help: false,
            tree: FileTree::new(Vec::new()),
            rows: Vec::new(),
            cursor: 0,
            offset: 0,
            viewport: 10,
            steps_viewport: 10,
            history: Vec::new(),
            detail: None,
            color: false,
            quit: false,
            note: None,
            catalog,
        };
        state.select_step(selected);
        state
    }

    /// The step row `i` is the step of (by its history index).
    pub fn step_row(&self, step_index: usize) -> Option<usize> {
        self.steps.iter().position(|s| s.index == step_index)
    }

    pub fn step(&self) -> Option<&StepInfo> {
        self.steps.get(self.selected)
    }

    /// The step that added a layer, by its history index.
    pub fn step_of(&self, layer: u32) -> usize {
        self.step_of_layer
            .get(layer as usize)
            .copied()
            .unwrap_or(layer as usize)
    }

    /// The layer the files pane shows for the selected step: its own, or in merged mode
    /// for a step without one, the last layer before it.
    pub fn shown_layer(&self) -> Option<usize> {
        let step = self.step()?;
        match (step.layer, self.mode) {
            (Some(l), _) => Some(l),
            (None, Mode::Changes) => None,
            (None, Mode::Merged) => self.steps[..self.selected]
                .iter()
                .rev()
                .find_map(|s| s.layer),
        }
    }

    /// The selected row's node.
    pub fn current(&self) -> Option<NodeIx> {
        self.rows.get(self.cursor).copied()
    }

    pub fn current_entry(&self) -> Option<&EntryView> {
        self.current().and_then(|n| self.tree.entry(n))
    }

    /// Selects a step: builds its tree and sets "wasted only" to its default, on for a
    /// step that wastes.
    pub fn select_step(&mut self, row: usize) {
        if row >= self.steps.len() {
            return;
        }
        self.selected = row;
        self.filter.wasted_only = self.mode == Mode::Changes && self.steps[row].wasted > 0;
        self.rebuild_tree();
        self.cursor = 0;
        self.offset = 0;
        self.scroll_steps();
        self.refresh_detail();
    }

    fn rebuild_tree(&mut self) {
        let entries = match (self.shown_layer(), self.mode) {
            (None, _) => Vec::new(),
            (Some(l), Mode::Changes) => self.catalog.layer_entries(l),
            (Some(l), Mode::Merged) => self.catalog.merged_entries(l),
        };
        self.tree = FileTree::new(entries);
        self.tree.sort(self.sort, self.filter.wasted_only);
        self.rows = self.tree.visible_rows(&self.filter);
    }

    /// Rebuilds the visible rows after expansion, a filter or the sort changed, keeping
    /// the cursor on the same node, or the nearest of its ancestors still shown.
    fn rebuild_rows(&mut self) {
        let keep = self.current();
        self.rows = self.tree.visible_rows(&self.filter);
        self.cursor = 0;
        if let Some(mut node) = keep {
            loop {
                if let Some(i) = self.rows.iter().position(|&r| r == node) {
                    self.cursor = i;
                    break;
                }
                if node == super::tree::ROOT {
                    break;
                }
                node = self.tree.nodes[node as usize].parent;
            }
        }
        self.scroll_files();
        self.refresh_detail();
    }

    fn scroll_files(&mut self) {
        let h = self.viewport.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + h {
            self.offset = self.cursor + 1 - h;
        }
        self.offset = self.offset.min(self.rows.len().saturating_sub(h));
    }

    fn scroll_steps(&mut self) {
        let h = self.steps_viewport.max(1);
        if self.selected < self.steps_offset {
            self.steps_offset = self.selected;
        } else if self.selected >= self.steps_offset + h {
            self.steps_offset = self.selected + 1 - h;
        }
    }

    /// Tells the state how many rows each pane shows (after a resize).
    pub fn set_viewport(&mut self, files: usize, steps: usize) {
        self.viewport = files.max(1);
        self.steps_viewport = steps.max(1);
        self.scroll_files();
        self.scroll_steps();
    }

    fn refresh_detail(&mut self) {
        let Some(node) = self.current() else {
            self.detail = None;
            return;
        };
        if self.detail.as_ref().is_some_and(|d| d.node == node) {
            return;
        }
        let entry = self.tree.entry(node);
        let hider = entry
            .filter(|e| e.fate == Fate::Hidden)
            .and_then(|e| self.catalog.hider(e))
            .map(|(l, r)| (self.step_of(l), r));
        let same_content = entry
            .filter(|e| e.fate == Fate::Live)
            .and_then(|e| e.content)
            .map(|c| {
                self.catalog
                    .same_content(c)
                    .iter()
                    .map(|p| crate::text::escape_bytes(p))
                    .collect()
            })
            .unwrap_or_default();
        self.detail = Some(EntryDetail {
            node,
            hider,
            same_content,
        });
    }

    fn move_files(&mut self, to: isize) {
        if self.rows.is_empty() {
            return;
        }
        let last = self.rows.len() as isize - 1;
        self.cursor = to.clamp(0, last) as usize;
        self.scroll_files();
        self.refresh_detail();
    }

    fn move_steps(&mut self, to: isize) {
        let last = self.steps.len() as isize - 1;
        let row = to.clamp(0, last.max(0)) as usize;
        if row != self.selected {
            self.select_step(row);
        }
    }

    fn move_by(&mut self, delta: isize) {
        match self.focus {
            Pane::Steps => self.move_steps(self.selected as isize + delta),
            Pane::Files => self.move_files(self.cursor as isize + delta),
        }
    }

    fn move_to_end(&mut self, end: bool) {
        match self.focus {
            Pane::Steps => self.move_steps(if end { isize::MAX } else { 0 }),
            Pane::Files => self.move_files(if end { isize::MAX } else { 0 }),
        }
    }

    /// Opens or closes the selected directory.
    pub fn toggle(&mut self) {
        let Some(node) = self.current() else { return };
        let n = &mut self.tree.nodes[node as usize];
        if n.is_dir {
            n.expanded = !n.expanded;
            self.rebuild_rows();
        }
    }

    fn set_expanded(&mut self, open: bool) {
        let Some(node) = self.current() else { return };
        let n = &self.tree.nodes[node as usize];
        if n.is_dir && n.expanded != open {
            self.toggle();
        } else if !open && n.parent != super::tree::ROOT {
            // Left on a leaf or a closed directory goes to its parent.
            let parent = n.parent;
            if let Some(i) = self.rows.iter().position(|&r| r == parent) {
                self.move_files(i as isize);
            }
        }
    }

    pub fn set_wasted_only(&mut self, on: bool) {
        self.filter.wasted_only = on;
        self.tree.sort(self.sort, self.filter.wasted_only);
        self.rebuild_rows();
    }

    pub fn set_mode(&mut self, mode: Mode) {
        let path = self.current().map(|n| self.tree.path(n));
        self.mode = mode;
        if mode == Mode::Merged {
            self.filter.wasted_only = false;
        }
        self.rebuild_tree();
        self.cursor = 0;
        self.offset = 0;
        self.detail = None;
        if let Some(path) = path {
            self.go_to_path(&path);
        }
        self.refresh_detail();
    }

    pub fn cycle_sort(&mut self) {
        self.sort = match self.sort {
            Sort::Size => Sort::Name,
            Sort::Name => Sort::Size,
        };
        self.tree.sort(self.sort, self.filter.wasted_only);
        self.rebuild_rows();
    }

    /// Puts the cursor on the row of an escaped path, or of its nearest shown ancestor.
    fn go_to_path(&mut self, path: &str) {
        let mut node = self.tree.find(path);
        // Open the way to it.
        let mut at = self.tree.nodes[node as usize].parent;
        while at != super::tree::ROOT {
            self.tree.nodes[at as usize].expanded = true;
            at = self.tree.nodes[at as usize].parent;
        }
        self.rows = self.tree.visible_rows(&self.filter);
        loop {
            if let Some(i) = self.rows.iter().position(|&r| r == node) {
                self.cursor = i;
                break;
            }
            if node == super::tree::ROOT {
                self.cursor = 0;
                break;
            }
            node = self.tree.nodes[node as usize].parent;
        }
        self.scroll_files();
        self.refresh_detail();
    }

    fn place(&self) -> Place {
        Place {
            step: self.selected,
            mode: self.mode,
            filter: self.filter.clone(),
            focus: self.focus,
            path: self
                .current()
                .map(|n| self.tree.path(n))
                .unwrap_or_default(),
        }
    }

    /// The step the selected entry's bytes went to or came from: its hider for a hidden
    /// entry, the step that added what a marker hid.
    pub fn jump_target(&self) -> Option<usize> {
        let entry = self.current_entry()?;
        match &entry.fate {
            Fate::Wasted { by_layer, .. } => Some(self.step_of(*by_layer)),
            Fate::Hidden => self.detail.as_ref().and_then(|d| d.hider).map(|(s, _)| s),
            Fate::Hides(hid) => hid
                .from_layers
                .iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                .map(|(l, _)| self.step_of(*l)),
            Fate::Live => None,
        }
    }

    /// Enter: on a directory opens or closes it; on a hidden entry goes to the step that
    /// hid it, with the cursor on its path there; on a marker goes to what it hid.
    pub fn jump(&mut self) {
        if self.focus == Pane::Steps {
            self.focus = Pane::Files;
            return;
        }
        let Some(node) = self.current() else { return };
        let is_dir = self.tree.nodes[node as usize].is_dir
            && self.tree.entry(node).is_none_or(|e| e.kind == Kind::Dir);
        let Some(target) = self.jump_target() else {
            if is_dir {
                self.toggle();
            } else {
                self.note = Some("this entry is live: no step hid it".into());
            }
            return;
        };
        let Some(row) = self.step_row(target) else {
            return;
        };
        let path = match self.tree.entry(node) {
            Some(e) => crate::text::escape_bytes(&e.path),
            None => self.tree.path(node),
        };
        self.history.push(self.place());
        self.mode = Mode::Changes;
        self.filter.search.clear();
        self.select_step(row);
        self.go_to_path(&path);
    }

    /// Backspace: back to where the last jump left from.
    pub fn back(&mut self) {
        let Some(place) = self.history.pop() else {
            self.note = Some("nothing to go back to".into());
            return;
        };
        self.mode = place.mode;
        self.selected = place.step;
        self.filter = place.filter;
        self.focus = place.focus;
        self.rebuild_tree();
        self.cursor = 0;
        self.offset = 0;
        self.scroll_steps();
        self.detail = None;
        self.go_to_path(&place.path);
    }

    /// Handles one key.
    pub fn key(&mut self, key: Key) {
        self.note = None;
        if self.help {
            self.help = false;
            if matches!(key, Key::Char('q') | Key::CtrlC) {
                self.quit = true;
            }
            return;
        }
        if self.searching {
            match key {
                Key::Enter => self.searching = false,
                Key::Esc => {
                    self.searching = false;
                    self.filter.search.clear();
                    self.rebuild_rows();
                }
                Key::CtrlC => self.quit = true,
                Key::Backspace => {
                    self.filter.search.pop();
                    self.rebuild_rows();
                }
                Key::Char(c) if !c.is_control() => {
                    self.filter.search.push(c);
                    self.rebuild_rows();
                }
                Key::Up | Key::Down | Key::PageUp | Key::PageDown => {
                    self.searching = false;
                    self.key(key);
                }
                _ => {}
            }
            return;
        }
        let page = self.viewport.max(1) as isize;
        match key {
            Key::Char('q') | Key::Esc | Key::CtrlC => self.quit = true,
            Key::Up | Key::Char('k') => self.move_by(-1),
            Key::Down | Key::Char('j') => self.move_by(1),
            Key::PageUp => self.move_by(-page),
            Key::PageDown => self.move_by(page),
            Key::Home => self.move_to_end(false),
            Key::End => self.move_to_end(true),
            Key::Tab | Key::BackTab => {
                self.focus = match self.focus {
                    Pane::Steps => Pane::Files,
                    Pane::Files => Pane::Steps,
                }
            }
            Key::Char(' ') => self.toggle(),
            Key::Left | Key::Char('h') if self.focus == Pane::Files => self.set_expanded(false),
            Key::Right | Key::Char('l') if self.focus == Pane::Files => self.set_expanded(true),
            Key::Enter => self.jump(),
            Key::Backspace => self.back(),
            Key::Char('w') => self.set_wasted_only(!self.filter.wasted_only),
            Key::Char('m') => self.set_mode(match self.mode {
                Mode::Changes => Mode::Merged,
                Mode::Merged => Mode::Changes,
            }),
            Key::Char('s') => self.cycle_sort(),
            Key::Char('/') => {
                self.searching = true;
                self.focus = Pane::Files;
            }
            Key::Char('?') => self.help = true,
            _ => {}
        }
    }
}
