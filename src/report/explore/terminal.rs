//! The real terminal: raw mode and the alternate screen for as long as the explorer
//! runs, and back to how it was on every way out — quit, an error (the guard's `Drop`)
//! and a panic (a hook that restores before the message prints).

use std::io::{self, Write};

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::terminal::{self as term, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

use super::draw;
use super::state::{Key, State};

/// Holds the terminal in raw mode on the alternate screen; puts it back when dropped.
pub struct Guard(());

impl Guard {
    pub fn enter() -> io::Result<Guard> {
        install_panic_hook();
        term::enable_raw_mode()?;
        // From here on, a failure must still restore: the guard exists first.
        let guard = Guard(());
        execute!(
            io::stdout(),
            EnterAlternateScreen,
            cursor::Hide,
            term::Clear(term::ClearType::All)
        )?;
        Ok(guard)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves the alternate screen, shows the cursor, ends raw mode. Safe to call twice.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(out, LeaveAlternateScreen, cursor::Show);
    let _ = term::disable_raw_mode();
    let _ = out.flush();
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// A terminal event as a key of the explorer, if it is one.
pub fn key_of(event: KeyEvent) -> Option<Key> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    Some(match event.code {
        KeyCode::Char('c') if ctrl => Key::CtrlC,
        KeyCode::Char(c) if !ctrl => Key::Char(c),
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Enter => Key::Enter,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Esc => Key::Esc,
        _ => return None,
    })
}

/// Runs the explorer until the user quits.
pub fn run(mut state: State) -> io::Result<()> {
    let _guard = Guard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    // Not `terminal.clear()`: it asks the terminal where the cursor is, and the
    // alternate screen was just cleared.
    // For the end-to-end test of the panic path only.
    let panic_after_frame = std::env::var_os("LAYERWASTE_EXPLORE_TEST_PANIC").is_some();
    loop {
        let size = terminal.size()?;
        let (files, steps) = draw::viewports(Rect::new(0, 0, size.width, size.height));
        state.set_viewport(files, steps);
        terminal.draw(|frame| draw::draw(frame, &state))?;
        if panic_after_frame {
            panic!("LAYERWASTE_EXPLORE_TEST_PANIC is set");
        }
        match event::read()? {
            Event::Key(k) => {
                if let Some(key) = key_of(k) {
                    state.key(key);
                }
            }
            Event::Resize(..) => terminal.autoresize()?,
            _ => {}
        }
        if state.quit {
            return Ok(());
        }
    }
}
