//! The explorer's screens at 80×24 on the sample images (TestBackend + insta), and its
//! state as plain data.

use std::path::PathBuf;

use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

use super::draw::{self, compact};
use super::state::{Key, Mode, Pane};
use super::*;
use crate::progress::Silent;

fn sample(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("sample-images")
        .join(path)
}

fn explore(path: &std::path::Path) -> State {
    let analysis = crate::analyze::analyze_full(
        path.to_str().unwrap(),
        &crate::analyze::Options::default(),
        &Silent,
    )
    .expect("analyses");
    open(analysis, false)
}

fn split() -> State {
    explore(&sample("build-deps-split/build-deps-split.tar"))
}

/// The screen as text, one line per row.
fn screen(state: &mut State, width: u16, height: u16) -> String {
    let (files, steps) = draw::viewports(Rect::new(0, 0, width, height));
    state.set_viewport(files, steps);
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| draw::draw(f, state)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        let mut line = String::new();
        for x in 0..width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn press(state: &mut State, keys: &[Key]) {
    for &k in keys {
        state.key(k);
    }
}

/// Moves the files cursor to the row whose escaped path is `path`.
fn select_path(state: &mut State, path: &str) {
    state.focus = Pane::Files;
    press(state, &[Key::Home]);
    for _ in 0..state.rows.len() {
        if state.current().map(|n| state.tree.path(n)).as_deref() == Some(path) {
            return;
        }
        press(state, &[Key::Down]);
    }
    panic!("{path} is not among the rows");
}

#[test]
fn opening_screen() {
    let mut s = split();
    assert_eq!(
        s.step().unwrap().index,
        3,
        "opens on the step that wastes most"
    );
    assert!(s.filter.wasted_only, "wasted only, since the step wastes");
    insta::assert_snapshot!(screen(&mut s, 80, 24));
}

#[test]
fn wasted_only_on_the_install_step() {
    let mut s = split();
    s.focus = Pane::Files;
    let rows: Vec<String> = s.rows.iter().map(|&n| s.tree.path(n)).collect();
    assert!(rows.contains(&"usr/bin/go-md2man".to_string()), "{rows:?}");
    assert!(s.rows.iter().all(|&n| s.tree.nodes[n as usize].wasted > 0));
    select_path(&mut s, "usr/bin/go-md2man");
    insta::assert_snapshot!(screen(&mut s, 80, 24));
}

#[test]
fn merged_mode() {
    let mut s = split();
    press(&mut s, &[Key::Char('m')]);
    assert_eq!(s.mode, Mode::Merged);
    insta::assert_snapshot!(screen(&mut s, 80, 24));
}

#[test]
fn details_of_a_metadata_only_entry() {
    let Some(path) = shared("test-docker-image.tar") else {
        return;
    };
    let mut s = explore(&path);
    // Layer 3 (`cp … somefile1.txt`): its file was only chmod-ed by the next layer.
    let row = s.steps.iter().position(|s| s.layer == Some(3)).unwrap();
    s.select_step(row);
    let target = s
        .rows
        .iter()
        .map(|&n| s.tree.path(n))
        .find(|p| p.ends_with("somefile1.txt"))
        .expect("somefile1.txt is shown");
    select_path(&mut s, &target);
    let text = screen(&mut s, 80, 24);
    assert!(text.contains("metadata-only by step"), "{text}");
    insta::assert_snapshot!(text);
}

fn shared(name: &str) -> Option<PathBuf> {
    // Beside the repository in CI; LAYERWASTE_SHARED_IMAGES names them elsewhere.
    let dir = std::env::var_os("LAYERWASTE_SHARED_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/images"));
    let path = dir.join(name);
    if path.exists() {
        Some(path)
    } else {
        if std::env::var_os("LAYERWASTE_REQUIRE_SERVICES").is_some_and(|v| v == "1") {
            panic!("required fixture missing: {}", path.display());
        }
        eprintln!("SKIPPED: {} is not there", path.display());
        None
    }
}

#[test]
fn compact_sizes_fit_five_cells() {
    for (bytes, want) in [
        (0, "0B"),
        (999, "999B"),
        (1000, "1.0k"),
        (2600, "2.6k"),
        (99_949, "100k"),
        (999_499, "999k"),
        (999_500, "1.0M"),
        (1_800_000, "1.8M"),
        (110_200_000, "110M"),
        (u64::MAX, "18E"),
    ] {
        assert_eq!(compact(bytes), want, "{bytes}");
        assert!(compact(bytes).len() <= 5);
    }
}

// ---------------------------------------------------------------------------------
// The state as plain data, over fixed entries.

use crate::explain::entries::{EntryView, Fate, Hid, Kind};
use crate::model::Reason;

struct Fixed {
    layers: Vec<Vec<EntryView>>,
}

impl Catalog for Fixed {
    fn layer_entries(&self, layer: usize) -> Vec<EntryView> {
        self.layers[layer].clone()
    }
    fn merged_entries(&self, layer: usize) -> Vec<EntryView> {
        self.layers[..=layer].iter().flatten().cloned().collect()
    }
    fn hider(&self, _: &EntryView) -> Option<(u32, Reason)> {
        Some((1, Reason::Deleted))
    }
    fn same_content(&self, _: u32) -> Vec<Vec<u8>> {
        vec![b"copy/of/it".to_vec()]
    }
}

fn entry(path: &str, kind: Kind, bytes: u64, layer: u32, fate: Fate) -> EntryView {
    EntryView {
        path: path.as_bytes().to_vec(),
        kind,
        bytes,
        content: (kind == Kind::File).then_some(0),
        layer,
        fate,
    }
}

fn step(index: usize, layer: Option<usize>, wasted: u64) -> StepInfo {
    StepInfo {
        index,
        instruction: format!("RUN step {index}"),
        short: format!("RUN step {index}"),
        bytes: 100,
        wasted,
        layer,
        empty: layer.is_none(),
        removed_by: Vec::new(),
        dockerfile_line: None,
        findings: Vec::new(),
    }
}

/// Step 0 adds a/ (two files, one later deleted) and b (live); step 1 has no layer;
/// step 2 deletes a/big.
fn fixed() -> State {
    let deleted = Fate::Wasted {
        reason: Reason::Deleted,
        by_layer: 1,
    };
    let layers = vec![
        vec![
            entry("a", Kind::Dir, 0, 0, Fate::Live),
            entry("a/big", Kind::File, 900, 0, deleted),
            entry("a/small", Kind::File, 10, 0, Fate::Live),
            entry("b", Kind::File, 50, 0, Fate::Live),
            entry("link", Kind::Symlink, 0, 0, Fate::Hidden),
        ],
        vec![entry(
            "a/big",
            Kind::Whiteout,
            0,
            1,
            Fate::Hides(Hid {
                bytes: 900,
                files: 1,
                from_layers: vec![(0, 900)],
            }),
        )],
    ];
    State::new(
        vec![step(0, Some(0), 900), step(1, None, 0), step(2, Some(1), 0)],
        Totals::default(),
        vec![0, 2],
        Box::new(Fixed { layers }),
    )
}

fn paths(s: &State) -> Vec<String> {
    s.rows.iter().map(|&n| s.tree.path(n)).collect()
}

#[test]
fn opens_on_the_wasting_step_with_only_its_waste() {
    let s = fixed();
    assert_eq!(s.selected, 0);
    assert!(s.filter.wasted_only);
    assert_eq!(paths(&s), ["a", "a/big"]);
}

#[test]
fn w_shows_everything_sorted_by_size_and_s_sorts_by_name() {
    let mut s = fixed();
    press(&mut s, &[Key::Char('w')]);
    assert_eq!(paths(&s), ["a", "a/big", "a/small", "b", "link"]);
    press(&mut s, &[Key::Char('s')]);
    assert_eq!(s.sort, tree::Sort::Name);
    assert_eq!(paths(&s), ["a", "a/big", "a/small", "b", "link"]);
    press(&mut s, &[Key::Char('s')]);
    assert_eq!(s.sort, tree::Sort::Size);
}

#[test]
fn space_collapses_and_the_cursor_stays() {
    let mut s = fixed();
    press(&mut s, &[Key::Char('w'), Key::Tab, Key::Char(' ')]);
    assert_eq!(paths(&s), ["a", "b", "link"]);
    assert_eq!(s.cursor, 0);
    press(&mut s, &[Key::Char(' ')]);
    assert_eq!(paths(&s).len(), 5);
    // Left on a file goes to its directory; on an open directory closes it.
    press(&mut s, &[Key::Down, Key::Left]);
    assert_eq!(s.current().map(|n| s.tree.path(n)).unwrap(), "a");
    press(&mut s, &[Key::Left]);
    assert_eq!(paths(&s), ["a", "b", "link"]);
}

#[test]
fn moving_clamps_and_pages() {
    let mut s = fixed();
    s.set_viewport(2, 2);
    press(&mut s, &[Key::Char('w'), Key::Tab, Key::End]);
    assert_eq!(s.cursor, 4);
    assert_eq!(s.offset, 3, "the viewport follows the cursor");
    press(&mut s, &[Key::Down, Key::Char('j')]);
    assert_eq!(s.cursor, 4);
    press(&mut s, &[Key::PageUp]);
    assert_eq!(s.cursor, 2);
    press(&mut s, &[Key::Home, Key::Up, Key::Char('k')]);
    assert_eq!((s.cursor, s.offset), (0, 0));
}

#[test]
fn enter_jumps_to_the_hider_and_backspace_comes_back() {
    let mut s = fixed();
    press(&mut s, &[Key::Tab, Key::Down]);
    assert_eq!(s.current().map(|n| s.tree.path(n)).unwrap(), "a/big");
    press(&mut s, &[Key::Enter]);
    assert_eq!(s.step().unwrap().index, 2, "step 2 hid it");
    assert_eq!(s.current_entry().unwrap().kind, Kind::Whiteout);
    assert!(!s.filter.wasted_only, "step 2 wastes nothing");
    // Enter on the whiteout goes to what it hid.
    press(&mut s, &[Key::Enter]);
    assert_eq!(s.step().unwrap().index, 0);
    press(&mut s, &[Key::Backspace, Key::Backspace]);
    assert_eq!(s.step().unwrap().index, 0);
    assert_eq!(s.current().map(|n| s.tree.path(n)).unwrap(), "a/big");
    assert!(s.filter.wasted_only);
    press(&mut s, &[Key::Backspace]);
    assert_eq!(s.note.as_deref(), Some("nothing to go back to"));
}

#[test]
fn a_hidden_entry_without_bytes_jumps_through_the_catalog() {
    let mut s = fixed();
    press(&mut s, &[Key::Char('w'), Key::Tab, Key::End]);
    assert_eq!(s.current_entry().unwrap().kind, Kind::Symlink);
    assert_eq!(s.detail.as_ref().unwrap().hider, Some((2, Reason::Deleted)));
    press(&mut s, &[Key::Enter]);
    assert_eq!(s.step().unwrap().index, 2);
}

#[test]
fn live_entries_name_their_duplicates() {
    let mut s = fixed();
    press(&mut s, &[Key::Char('w'), Key::Tab, Key::Down, Key::Down]);
    assert_eq!(s.current().map(|n| s.tree.path(n)).unwrap(), "a/small");
    assert_eq!(s.detail.as_ref().unwrap().same_content, ["copy/of/it"]);
    press(&mut s, &[Key::Enter]);
    assert_eq!(s.step().unwrap().index, 0, "a live entry goes nowhere");
}

#[test]
fn search_filters_paths_and_esc_clears_it() {
    let mut s = fixed();
    press(&mut s, &[Key::Char('w'), Key::Char('/')]);
    assert!(s.searching);
    for c in "SMA".chars() {
        press(&mut s, &[Key::Char(c)]);
    }
    assert_eq!(paths(&s), ["a", "a/small"], "case-insensitive");
    press(
        &mut s,
        &[
            Key::Backspace,
            Key::Backspace,
            Key::Backspace,
            Key::Char('b'),
        ],
    );
    assert_eq!(paths(&s), ["a", "a/big", "b"]);
    press(&mut s, &[Key::Enter]);
    assert!(!s.searching);
    assert_eq!(s.filter.search, "b");
    press(&mut s, &[Key::Char('/'), Key::Esc]);
    assert_eq!(s.filter.search, "");
    assert_eq!(paths(&s).len(), 5);
    assert!(!s.quit, "Esc in the search line does not quit");
    press(&mut s, &[Key::Esc]);
    assert!(s.quit);
}

#[test]
fn merged_mode_and_a_step_without_a_layer() {
    let mut s = fixed();
    press(&mut s, &[Key::Down]);
    assert_eq!(s.step().unwrap().index, 1);
    assert!(s.rows.is_empty(), "no layer of its own");
    press(&mut s, &[Key::Char('m')]);
    assert_eq!(s.mode, Mode::Merged);
    assert_eq!(s.shown_layer(), Some(0), "the image as step 0 left it");
    assert_eq!(paths(&s).len(), 5);
    press(&mut s, &[Key::Char('?')]);
    assert!(s.help);
    press(&mut s, &[Key::Char('x')]);
    assert!(!s.help && !s.quit, "any key closes the help");
    press(&mut s, &[Key::CtrlC]);
    assert!(s.quit);
}

#[test]
fn fifty_thousand_entries_in_one_directory_move_without_rebuilding() {
    let entries: Vec<EntryView> = (0..50_000)
        .map(|i| entry(&format!("d/f{i:05}"), Kind::File, i, 0, Fate::Live))
        .collect();
    let mut s = State::new(
        vec![step(0, Some(0), 0)],
        Totals::default(),
        vec![0],
        Box::new(Fixed {
            layers: vec![entries],
        }),
    );
    assert_eq!(s.rows.len(), 50_001);
    s.set_viewport(20, 5);
    press(&mut s, &[Key::Tab]);
    let rows = s.rows.as_ptr();
    let started = std::time::Instant::now();
    for _ in 0..10_000 {
        press(&mut s, &[Key::Down]);
    }
    press(&mut s, &[Key::End, Key::PageUp, Key::Home, Key::PageDown]);
    assert_eq!(s.rows.as_ptr(), rows, "moving never rebuilds the rows");
    assert_eq!(s.cursor, 20);
    // Drawing reads only the viewport: one frame of the 50,001 rows.
    let text = screen(&mut s, 120, 40);
    assert!(text.contains("f49999") || text.contains("f4998"), "{text}");
    eprintln!("10,000 moves and a frame: {:?}", started.elapsed());
}
