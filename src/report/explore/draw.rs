//! Drawing: reads the [`State`] and paints one frame. Only the rows inside each pane's
//! viewport are turned into text, so a frame costs the same for ten entries or a
//! million.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::explain::entries::{Fate, Kind};
use crate::model::Reason;
use crate::text::human;

use super::state::{Mode, Pane, State};
use super::tree::Sort;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub steps: Rect,
    pub files: Rect,
    pub details: Rect,
    pub status: Rect,
}

pub fn areas(area: Rect) -> Areas {
    let details_height = if area.height >= 30 { 9 } else { 7 };
    let [main, details, status] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(details_height),
        Constraint::Length(1),
    ])
    .areas(area);
    let steps_width = (area.width * 2 / 5).clamp(36, 60);
    let [steps, files] =
        Layout::horizontal([Constraint::Length(steps_width), Constraint::Min(10)]).areas(main);
    Areas {
        steps,
        files,
        details,
        status,
    }
}

/// Rows of entries the files pane shows, and rows of steps the steps pane shows.
pub fn viewports(area: Rect) -> (usize, usize) {
    let a = areas(area);
    (
        a.files.height.saturating_sub(2) as usize,
        a.steps.height.saturating_sub(3) as usize,
    )
}

/// Sizes in five cells or fewer: `184B`, `2.6k`, `1.8M`, `110M`, `1.3G`.
pub fn compact(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["k", "M", "G", "T", "P", "E"];
    if bytes < 1000 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    value /= 1000.0;
    while value >= 999.5 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value < 9.95 {
        format!("{value:.1}{}", UNITS[unit])
    } else {
        format!("{value:.0}{}", UNITS[unit])
    }
}

struct Theme {
    color: bool,
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }
    fn wasted(&self) -> Style {
        self.fg(Color::Red)
    }
    fn live(&self) -> Style {
        self.fg(Color::Green)
    }
    fn marker(&self) -> Style {
        self.fg(Color::Yellow)
    }
    fn dim(&self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }
    fn selected(&self, focused: bool) -> Style {
        if focused {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }
    fn border(&self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        }
    }
}

/// Cuts `s` to `width` cells, ending with `…` when it was longer.
pub fn fit(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

fn reason_text(reason: Reason) -> &'static str {
    reason.as_str()
}

/// The mark after a file row: `deleted by step 5`, `hides 1.8M from step 3`, …; the
/// short form (`deleted by 5`, `hides 1.8M`) when the long one leaves the name no room.
fn mark(state: &State, node: u32, short: bool) -> (String, MarkKind) {
    let n = &state.tree.nodes[node as usize];
    let entry = state.tree.entry(node);
    if n.is_dir && entry.is_none_or(|e| e.kind == Kind::Dir) {
        let files = |k: u32| {
            if k == 1 {
                "1 file".to_string()
            } else {
                format!("{k} files")
            }
        };
        return if n.wasted > 0 && short {
            (format!("{} wasted", compact(n.wasted)), MarkKind::Wasted)
        } else if n.wasted > 0 {
            (
                format!("{} wasted, {}", compact(n.wasted), files(n.wasted_files)),
                MarkKind::Wasted,
            )
        } else {
            (files(n.files), MarkKind::Plain)
        };
    }
    let Some(e) = entry else {
        return (String::new(), MarkKind::Plain);
    };
    match &e.fate {
        Fate::Live => ("live".into(), MarkKind::Live),
        Fate::Wasted { reason, by_layer } => (
            format!(
                "{} by {}{}",
                reason_text(*reason),
                if short { "" } else { "step " },
                state.step_of(*by_layer)
            ),
            MarkKind::Wasted,
        ),
        Fate::Hidden => ("hidden later, 0 B".into(), MarkKind::Plain),
        Fate::Hides(hid) => {
            if hid.from_layers.is_empty() {
                ("hides nothing".into(), MarkKind::Marker)
            } else if short {
                (format!("hides {}", compact(hid.bytes)), MarkKind::Marker)
            } else {
                (
                    format!(
                        "hides {} from {}",
                        compact(hid.bytes),
                        from_steps(state, hid)
                    ),
                    MarkKind::Marker,
                )
            }
        }
    }
}

fn from_steps(state: &State, hid: &crate::explain::entries::Hid) -> String {
    let steps: Vec<String> = hid
        .from_layers
        .iter()
        .map(|(l, _)| state.step_of(*l).to_string())
        .collect();
    if steps.len() == 1 {
        format!("step {}", steps[0])
    } else {
        format!("steps {}", steps.join(","))
    }
}

#[derive(Clone, Copy)]
enum MarkKind {
    Plain,
    Live,
    Wasted,
    Marker,
}

pub fn draw(frame: &mut Frame, state: &State) {
    let theme = Theme { color: state.color };
    let a = areas(frame.area());
    draw_steps(frame, state, &theme, a.steps);
    draw_files(frame, state, &theme, a.files);
    draw_details(frame, state, &theme, a.details);
    draw_status(frame, state, &theme, a.status);
    if state.help {
        draw_help(frame, &theme, frame.area());
    }
}

fn draw_steps(frame: &mut Frame, state: &State, theme: &Theme, area: Rect) {
    let focused = state.focus == Pane::Steps;
    let block = Block::bordered()
        .title(" Steps ")
        .border_style(theme.border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let max_wasted = state.steps.iter().map(|s| s.wasted).max().unwrap_or(0);
    let mut lines = vec![Line::styled(
        fit("  #  SIZE WASTE  BY  INSTRUCTION", width),
        theme.dim(),
    )];
    let h = inner.height.saturating_sub(1) as usize;
    for (row, s) in state
        .steps
        .iter()
        .enumerate()
        .skip(state.steps_offset)
        .take(h)
    {
        let (size, wasted) = if s.empty {
            ("-".to_string(), "-".to_string())
        } else {
            (compact(s.bytes), compact(s.wasted))
        };
        let bar = wasted_bar(s.wasted, max_wasted);
        let by = match s.removed_by.as_slice() {
            [] => String::new(),
            [one] => format!("→{one}"),
            [one, ..] => format!("→{one}+"),
        };
        let head = format!(
            "{}{:>2} {:>5} {:>5}{:<2}{:<3} ",
            if row == state.selected { '▶' } else { ' ' },
            s.index,
            size,
            wasted,
            bar,
            by
        );
        let text = fit(&format!("{head}{}", s.short), width);
        let mut style = if s.empty {
            theme.dim()
        } else if s.wasted > 0 {
            theme.wasted()
        } else {
            Style::new()
        };
        if row == state.selected {
            style = style.patch(theme.selected(focused));
        }
        let pad = width.saturating_sub(text.width());
        lines.push(Line::styled(format!("{text}{}", " ".repeat(pad)), style));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Two cells of bar for a step's share of the largest step waste.
fn wasted_bar(wasted: u64, max: u64) -> String {
    if wasted == 0 || max == 0 {
        return String::new();
    }
    const EIGHTHS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
    let eighths = ((wasted as u128 * 16).div_ceil(max as u128)).clamp(1, 16) as usize;
    let mut s = String::new();
    let full = eighths / 8;
    for _ in 0..full {
        s.push('█');
    }
    if !eighths.is_multiple_of(8) {
        s.push(EIGHTHS[eighths % 8 - 1]);
    }
    s
}

fn files_title(state: &State) -> String {
    let step = state.step().map(|s| s.index).unwrap_or(0);
    let mode = match state.mode {
        Mode::Changes => format!("step {step}'s layer"),
        Mode::Merged => format!("the image after step {step}"),
    };
    let mut parts = vec![mode];
    if state.filter.wasted_only {
        parts.push("wasted only".into());
    }
    parts.push(match state.sort {
        Sort::Size => "by size".into(),
        Sort::Name => "by name".into(),
    });
    if !state.filter.search.is_empty() {
        parts.push(format!("/{}", crate::text::escape(&state.filter.search)));
    }
    format!(" {} ", parts.join(" · "))
}

fn draw_files(frame: &mut Frame, state: &State, theme: &Theme, area: Rect) {
    let focused = state.focus == Pane::Files;
    let block = Block::bordered()
        .title(files_title(state))
        .border_style(theme.border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = Vec::with_capacity(inner.height as usize);
    if state.rows.is_empty() {
        let why = match state.step() {
            Some(s) if s.layer.is_none() && state.mode == Mode::Changes => {
                "This step has no layer (it changes only the config). Press m for the image as it stands here."
            }
            _ if state.filter.wasted_only => "Nothing wasted here. Press w to show every entry.",
            _ if !state.filter.search.is_empty() => "No path matches the search.",
            _ => "This layer is empty.",
        };
        frame.render_widget(
            Paragraph::new(why)
                .style(theme.dim())
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let end = (state.offset + inner.height as usize).min(state.rows.len());
    for (i, &node) in state.rows[state.offset..end].iter().enumerate() {
        let row = state.offset + i;
        let n = &state.tree.nodes[node as usize];
        let entry = state.tree.entry(node);
        let kind = entry.map(|e| e.kind);
        let shown_dir = n.is_dir && kind.is_none_or(|k| k == Kind::Dir);
        let size = match entry.map(|e| &e.fate) {
            Some(Fate::Hides(hid)) => compact(hid.bytes),
            _ if shown_dir || kind == Some(Kind::File) => compact(n.bytes),
            _ => "-".into(),
        };
        let fold = if shown_dir {
            if n.expanded {
                "▾ "
            } else {
                "▸ "
            }
        } else {
            "  "
        };
        let name = match kind {
            Some(Kind::Whiteout) => format!("✕ {}", n.name),
            Some(Kind::Opaque) => "✕ (opaque: all lower entries)".to_string(),
            Some(Kind::Symlink) => format!("{} →", n.name),
            _ if shown_dir => format!("{}/", n.name),
            _ => n.name.clone(),
        };
        let indent = "  ".repeat(n.depth.saturating_sub(1) as usize);
        let cursor = if row == state.cursor { '▶' } else { ' ' };
        let left = format!("{cursor}{size:>5} {indent}{fold}");
        let (mut mark_text, mut mark_kind) = mark(state, node, false);
        let wanted = name.width().min(16);
        if width.saturating_sub(left.width() + mark_text.width() + 1) < wanted {
            (mark_text, mark_kind) = mark(state, node, true);
        }
        let room = width.saturating_sub(left.width() + mark_text.width() + 1);
        let name = fit(&name, room.max(1));
        let pad = width.saturating_sub(left.width() + name.width() + mark_text.width());
        let mark_style = match mark_kind {
            MarkKind::Plain => theme.dim(),
            MarkKind::Live => theme.live(),
            MarkKind::Wasted => theme.wasted(),
            MarkKind::Marker => theme.marker(),
        };
        let mut line = Line::from(vec![
            Span::raw(left),
            Span::raw(name),
            Span::raw(" ".repeat(pad)),
            Span::styled(fit(&mark_text, width), mark_style),
        ]);
        if row == state.cursor {
            line = line.style(theme.selected(focused));
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn files_text(n: u64) -> String {
    if n == 1 {
        "1 file".into()
    } else {
        format!("{n} files")
    }
}

fn reason_words(reason: Reason) -> &'static str {
    match reason {
        Reason::Deleted => "a whiteout of the path itself",
        Reason::DeletedParent => "a whiteout of a directory above it",
        Reason::Opaque => "an opaque whiteout of a directory above it",
        Reason::Overwritten => "a later entry at the same path with other content",
        Reason::MetadataOnly => {
            "a later entry at the same path with the same content: only mode, owner or times changed"
        }
        Reason::TypeReplaced => "a path on the way became something else",
    }
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::File => "file",
        Kind::Dir => "directory",
        Kind::Symlink => "symlink",
        Kind::HardLink => "hard link",
        Kind::Other => "device or FIFO",
        Kind::Whiteout => "whiteout",
        Kind::Opaque => "opaque whiteout",
    }
}

/// The details pane's lines: the selected step in the steps pane, the selected entry in
/// the files pane.
pub fn detail_lines(state: &State) -> Vec<String> {
    match state.focus {
        Pane::Steps => step_lines(state),
        Pane::Files => match entry_lines(state) {
            Some(lines) => lines,
            None => step_lines(state),
        },
    }
}

fn step_lines(state: &State) -> Vec<String> {
    let Some(s) = state.step() else {
        return vec!["The image has no steps.".into()];
    };
    let mut lines = Vec::new();
    let at = match (&state.totals.dockerfile, s.dockerfile_line) {
        (Some(file), Some(line)) => format!(" ({file}:{line})"),
        _ => String::new(),
    };
    lines.push(format!("step {}{at}: {}", s.index, s.instruction));
    if s.empty {
        lines.push("No layer: this step changes only the image's config.".into());
    } else if s.wasted == 0 {
        lines.push(format!("Added {}; none of it is wasted.", human(s.bytes)));
    } else {
        let by: Vec<String> = s.removed_by.iter().map(|b| format!("step {b}")).collect();
        lines.push(format!(
            "Added {}, of which {} is wasted (hidden by {}).",
            human(s.bytes),
            human(s.wasted),
            by.join(", ")
        ));
    }
    lines.extend(s.findings.iter().cloned());
    lines
}

fn entry_lines(state: &State) -> Option<Vec<String>> {
    let node = state.current()?;
    let n = &state.tree.nodes[node as usize];
    let path = state.tree.path(node);
    let entry = state.tree.entry(node);
    let mut lines = Vec::new();
    let shown_dir = n.is_dir && entry.is_none_or(|e| e.kind == Kind::Dir);
    if shown_dir {
        lines.push(format!("{path}/  directory"));
        lines.push(format!(
            "{} in {} here; {} wasted in {}.",
            human(n.bytes),
            files_text(n.files as u64),
            human(n.wasted),
            files_text(n.wasted_files as u64)
        ));
        if entry.is_none() {
            lines.push("No entry of its own: its children imply it.".into());
        }
        return Some(lines);
    }
    let e = entry?;
    let added = state.step_of(e.layer);
    match &e.fate {
        Fate::Hides(hid) => {
            let what = if e.kind == Kind::Opaque {
                format!("every lower entry under {path}/")
            } else {
                path.clone()
            };
            lines.push(format!("{path}  {}", kind_word(e.kind)));
            if hid.from_layers.is_empty() {
                lines.push(format!("Hides {what}: no bytes of a lower step."));
            } else {
                let parts: Vec<String> = hid
                    .from_layers
                    .iter()
                    .map(|(l, b)| format!("{} from step {}", human(*b), state.step_of(*l)))
                    .collect();
                lines.push(format!(
                    "Hides {what}, {} ({}): {}.",
                    human(hid.bytes),
                    files_text(hid.files),
                    parts.join(", ")
                ));
                lines.push(
                    "Those bytes stay in the lower layers. Enter goes to the step that added them."
                        .into(),
                );
            }
        }
        fate => {
            let size = if e.kind == Kind::File {
                format!(", {}", human(e.bytes))
            } else {
                String::new()
            };
            lines.push(format!(
                "{path}  {}{size}, added by step {added}",
                kind_word(e.kind)
            ));
            match fate {
                Fate::Live => lines.push("Live: the final image reaches it.".into()),
                Fate::Wasted { reason, by_layer } => {
                    lines.push(format!(
                        "Wasted: {} by step {} ({}).",
                        reason.as_str(),
                        state.step_of(*by_layer),
                        reason_words(*reason)
                    ));
                    lines.push("Enter goes to that step; Backspace comes back.".into());
                }
                Fate::Hidden => match state.detail.as_ref().and_then(|d| d.hider) {
                    Some((step, reason)) => lines.push(format!(
                        "Not in the final image: {} by step {step} ({}). No bytes are lost.",
                        reason.as_str(),
                        reason_words(reason)
                    )),
                    None => lines.push("Not in the final image. No bytes are lost.".into()),
                },
                Fate::Hides(_) => {}
            }
            if let Some(d) = &state.detail {
                if !d.same_content.is_empty() {
                    let shown: Vec<&str> =
                        d.same_content.iter().take(3).map(String::as_str).collect();
                    let more = d.same_content.len().saturating_sub(3);
                    lines.push(format!(
                        "Same content also at: {}{}",
                        shown.join(", "),
                        if more > 0 {
                            format!(" and {more} more")
                        } else {
                            String::new()
                        }
                    ));
                }
            }
        }
    }
    Some(lines)
}

fn draw_details(frame: &mut Frame, state: &State, theme: &Theme, area: Rect) {
    let block = Block::bordered()
        .title(" Details ")
        .border_style(theme.border(false));
    let lines: Vec<Line> = detail_lines(state).into_iter().map(Line::raw).collect();
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_status(frame: &mut Frame, state: &State, theme: &Theme, area: Rect) {
    let width = area.width as usize;
    if state.searching {
        let text = format!(
            "/{}▏  Enter keeps the filter, Esc clears it",
            crate::text::escape(&state.filter.search)
        );
        frame.render_widget(Paragraph::new(fit(&text, width)), area);
        return;
    }
    let t = &state.totals;
    let pct = if t.total > 0 {
        format!(" ({:.1}%)", t.wasted as f64 * 100.0 / t.total as f64)
    } else {
        String::new()
    };
    let pull = match t.wasted_pull {
        Some(w) => format!("pull {} ({} wasted)", human(t.pull), human(w)),
        None => format!("pull {}", human(t.pull)),
    };
    let left = match &state.note {
        Some(note) => note.clone(),
        None => format!(
            "total {}  final {}  wasted {}{pct}  {pull}",
            human(t.total),
            human(t.final_bytes),
            human(t.wasted)
        ),
    };
    let right = "? keys  q quit";
    let left = fit(&left, width.saturating_sub(right.len() + 1));
    let pad = width.saturating_sub(left.width() + right.len());
    let line = Line::from(vec![
        Span::styled(left, theme.wasted().add_modifier(Modifier::BOLD)),
        Span::raw(" ".repeat(pad)),
        Span::styled(right, theme.dim()),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// Every key, for the help overlay and docs/explore.md.
pub const KEYS: &[(&str, &str)] = &[
    ("↑ ↓  k j", "move"),
    ("PgUp PgDn", "a page"),
    ("Home End", "first, last"),
    ("Tab", "steps ⇄ files"),
    ("Space", "open or close a directory"),
    ("← →  h l", "close / open, or go to the parent"),
    (
        "Enter",
        "go to the step that hid it (or added what a whiteout hides)",
    ),
    ("Backspace", "back to where Enter left"),
    ("w", "wasted only (on for a step that wastes)"),
    ("m", "this layer's changes ⇄ the image after this step"),
    ("s", "sort by size ⇄ by name"),
    ("/", "search paths (Enter keeps, Esc clears)"),
    ("?", "this help"),
    ("q  Esc  Ctrl+C", "quit"),
];

fn draw_help(frame: &mut Frame, theme: &Theme, area: Rect) {
    let width = area.width.saturating_sub(4).min(72);
    let height = (KEYS.len() as u16 + 3).min(area.height);
    let x = area.x + (area.width.saturating_sub(width)) / 2;
    let y = area.y + (area.height.saturating_sub(height)) / 2;
    let popup = Rect::new(x, y, width, height);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| Line::raw(format!(" {k:<15} {what}")))
        .collect();
    lines.push(Line::styled(" any key closes this", theme.dim()));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys ")),
        popup,
    );
}
