//! What stdout is: its width, and whether it gets colour (`--color`, `NO_COLOR`).

use std::io::{self, IsTerminal};

use layerwaste::report::table::Styles;

use super::cli::ColorArg;

/// Table width and colours for stdout, as --color, NO_COLOR and the terminal say. Off a
/// terminal the width is `COLUMNS`, else 120.
pub fn style(color: ColorArg) -> (usize, Styles) {
    let terminal = io::stdout().is_terminal();
    let color = match color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let width = terminal_size::terminal_size()
        .filter(|_| terminal)
        .map(|(w, _)| w.0 as usize)
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(120);
    (width, Styles { color })
}
