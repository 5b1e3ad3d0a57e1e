//! The `layerwaste` binary: parse the flags, run the command, map the outcome to an exit
//! code. Everything the binary alone needs (flags, config files, units, the terminal,
//! the progress bar, exit codes) lives in `app/`; the library never sees it.

mod app;

use clap::Parser;

fn main() -> std::process::ExitCode {
    app::one_heap();
    let cli = app::cli::Cli::parse();
    app::exit::from_outcome(app::run(cli)).into()
}
