//! `layerwaste explore` in a real pseudo-terminal: the binary draws on a pty, vt100
//! reads the screen back, and the test presses keys as a person would.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use serde_json::json;

use crate::build::*;
use crate::common::*;

const ROWS: u16 = 24;
const COLS: u16 = 80;

/// The explorer running in a pty, and the screen as vt100 sees it.
struct Session {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: mpsc::Receiver<Vec<u8>>,
    parser: vt100::Parser,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Session {
    fn start(image: &Path, env: &[(&str, &str)]) -> Session {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pty");
        let mut cmd = CommandBuilder::new(assert_cmd::cargo::cargo_bin("layerwaste"));
        cmd.arg("explore");
        cmd.arg(image);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("NO_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawns");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Session {
            child,
            writer,
            output,
            parser: vt100::Parser::new(nonzero(ROWS), nonzero(COLS), 0),
            _master: pty.master,
        }
    }

    fn pump(&mut self, wait: Duration) {
        if let Ok(bytes) = self.output.recv_timeout(wait) {
            self.parser.process(&bytes);
            while let Ok(bytes) = self.output.try_recv() {
                self.parser.process(&bytes);
            }
        }
    }

    fn screen(&self) -> String {
        self.parser.screen().contents()
    }

    /// Reads until the program has written nothing for a while: a whole frame.
    fn settle(&mut self) {
        while let Ok(bytes) = self.output.recv_timeout(Duration::from_millis(250)) {
            self.parser.process(&bytes);
        }
    }

    /// Waits until the screen satisfies `ok` once the frame is complete, or fails with
    /// the screen.
    fn wait_for(&mut self, what: &str, ok: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if ok(&self.screen()) {
                self.settle();
                if ok(&self.screen()) {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; the screen:\n{}",
                    self.screen()
                );
            }
            self.pump(Duration::from_millis(50));
        }
    }

    fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("writes");
        self.writer.flush().expect("flushes");
    }

    /// Waits for the process to end and returns its exit code, reading the screen to
    /// the last byte.
    fn exit_code(&mut self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.pump(Duration::from_millis(50));
            if let Some(status) = self.child.try_wait().expect("waits") {
                // What it wrote just before ending.
                for _ in 0..5 {
                    self.pump(Duration::from_millis(20));
                }
                return status.exit_code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("did not exit; the screen:\n{}", self.screen());
            }
        }
    }
}

fn nonzero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("not zero")
}

/// The line of the screen that holds `needle`.
fn line_with<'a>(screen: &'a str, needle: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(needle))
}

/// The step row the steps pane marks as selected.
fn selected_step(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.starts_with("│▶"))?;
    Some(
        line.trim_start_matches("│▶")
            .split_whitespace()
            .next()?
            .to_string(),
    )
}

#[test]
fn explore_in_a_real_terminal_jumps_to_the_hiding_step_and_restores_the_terminal() {
    let image = sample("build-deps-split/build-deps-split.tar");
    let mut s = Session::start(&image, &[]);
    s.wait_for("the first frame", |t| {
        t.contains("Steps") && t.contains("Details")
    });
    let screen = s.screen();
    assert_eq!(selected_step(&screen).as_deref(), Some("3"), "{screen}");
    let row = line_with(&screen, "│▶ 3").unwrap();
    assert!(row.contains("RUN dpkg -i"), "the dpkg -i step: {row}");
    assert!(s.parser.screen().alternate_screen());

    // To the files pane, and down to usr/bin/go-md2man.
    s.press("\t");
    s.press("jj");
    s.wait_for("go-md2man selected", |t| {
        line_with(t, "go-md2man ").is_some_and(|l| l.contains('▶'))
    });
    let screen = s.screen();
    let row = line_with(&screen, "go-md2man ").unwrap();
    assert!(row.contains("deleted by step 5"), "{row}");
    assert!(
        screen.contains("usr/bin/go-md2man  file, 1.8 MB, added by step 3"),
        "{screen}"
    );

    // Enter: to the step that deleted it, with its whiteout selected.
    s.press("\r");
    s.wait_for("step 5 selected", |t| {
        selected_step(t).as_deref() == Some("5")
    });
    let screen = s.screen();
    let row =
        line_with(&screen, "✕ go-md2man ").unwrap_or_else(|| panic!("the whiteout row:\n{screen}"));
    assert!(row.contains('▶') && row.contains("hides 1.8M"), "{screen}");
    assert!(
        screen.contains("Hides usr/bin/go-md2man, 1.8 MB (1 file): 1.8 MB from step 3."),
        "{screen}"
    );

    // Backspace comes back.
    s.press("\x7f");
    s.wait_for("step 3 again", |t| selected_step(t).as_deref() == Some("3"));

    s.press("q");
    assert_eq!(s.exit_code(), 0, "{}", s.screen());
    let screen = s.parser.screen();
    assert!(!screen.alternate_screen(), "left the alternate screen");
    assert!(!screen.hide_cursor(), "the cursor is shown");
}

#[test]
fn explore_restores_the_terminal_after_a_panic() {
    let image = sample("build-deps-split/build-deps-split.tar");
    let mut s = Session::start(&image, &[("LAYERWASTE_EXPLORE_TEST_PANIC", "1")]);
    let code = s.exit_code();
    assert_eq!(code, 101, "{}", s.screen());
    let screen = s.parser.screen();
    assert!(!screen.alternate_screen(), "left the alternate screen");
    assert!(!screen.hide_cursor(), "the cursor is shown");
    assert!(
        s.screen().contains("LAYERWASTE_EXPLORE_TEST_PANIC is set"),
        "{}",
        s.screen()
    );
}

#[test]
fn explore_off_a_terminal_suggests_analyze() {
    let image = sample("build-deps-split/build-deps-split.tar");
    let out = layerwaste()
        .arg("explore")
        .arg(&image)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("layerwaste analyze"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn explore_a_hostile_image_without_a_panic_or_a_raw_control_character() {
    // Names with escape sequences, a bidi override and invalid UTF-8, and 100,000
    // entries in one directory.
    let evil: &[&[u8]] = &[
        b"etc/\x1b[2J\x1b]0;owned\x07",
        b"etc/caf\xe9\x1b[31mred",
        b"etc/\xe2\x80\xaegnp.exe",
    ];
    let mut first = Layer::new().dir("etc");
    for name in evil {
        first = first.entry(name, b'0', b"", b"evil");
    }
    let mut big = Layer::new().dir("many");
    for i in 0..100_000 {
        big = big.entry(format!("many/f{i:06}").as_bytes(), b'0', b"", b"x");
    }
    let mut second = Layer::new();
    for name in evil {
        let (dir, base) = name.split_at(4);
        let mut wh = dir.to_vec();
        wh.extend_from_slice(b".wh.");
        wh.extend_from_slice(base);
        second = second.entry(&wh, b'0', b"", b"");
    }
    let mut img = Image::new(vec![first.finish(), big.finish(), second.finish()]);
    img.config["history"] = json!([
        {"created_by": "/bin/sh -c echo \x1b[2J\x1b]0;owned\x07 \u{202e}gnp.exe"},
        {"created_by": "/bin/sh -c make many"},
        {"created_by": "/bin/sh -c rm -rf /etc/*"},
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hostile.tar");
    std::fs::write(&path, img.docker_save().tar()).expect("write");

    let mut s = Session::start(&path, &[]);
    s.wait_for("the first frame", |t| {
        t.contains("Steps") && t.contains("Details")
    });
    // The big layer: every entry, the end and back, a search, a collapse.
    s.press("j");
    s.wait_for("step 1", |t| selected_step(t).as_deref() == Some("1"));
    s.press("\t");
    s.press("\x1b[F"); // End
    s.wait_for("the last entry", |t| {
        t.contains("f099999") || t.contains("f000000")
    });
    s.press("\x1b[5~\x1b[5~\x1b[H"); // PgUp, PgUp, Home
    s.press("/f09999");
    s.wait_for("the search", |t| t.contains("/f09999"));
    s.press("\r \x1b[A\x1b[B");
    // Back to the names with escapes, in both modes.
    s.press("\tkm");
    s.wait_for("merged mode", |t| t.contains("the image after step 0"));
    s.press("m\tjjjj");
    std::thread::sleep(Duration::from_millis(300));
    s.pump(Duration::from_millis(100));
    let screen = s.screen();
    assert!(screen.contains("\\x1b[2J\\x1b]0;owned\\x07"), "{screen}");
    assert!(
        screen
            .chars()
            .all(|c| c == '\n' || !(c.is_control() || c == '\u{202e}')),
        "{screen:?}"
    );
    s.press("q");
    assert_eq!(s.exit_code(), 0, "{}", s.screen());
}

#[test]
fn the_screen_in_docs_explore_md_is_the_snapshot() {
    let snapshot = std::fs::read_to_string(root().join(
        "src/report/explore/snapshots/layerwaste__report__explore__tests__opening_screen.snap",
    ))
    .expect("the snapshot");
    let screen: String = snapshot
        .split_once("\n---\n")
        .expect("an insta header")
        .1
        .to_string();
    for doc in ["docs/explore.md", "README.md"] {
        let text = std::fs::read_to_string(root().join(doc)).expect(doc);
        assert!(
            text.contains(&format!("```\n{}\n```", screen.trim_end())),
            "{doc} must show the opening screen as the snapshot has it:\n{screen}"
        );
    }
}
