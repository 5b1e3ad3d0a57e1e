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
    let analysis =
        crate::analyze::analyze_full(path.to_str().unwrap(), &crate::Options::default(), &Silent)
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
