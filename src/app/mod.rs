//! The binary's own room: flags ([`cli`]), settings from flags and config files
//! ([`config`]), size units, the terminal, the progress bar and exit codes. Nothing in
//! the library imports it.

pub mod bar;
pub mod cli;
pub mod config;
pub mod exit;
pub mod terminal;
pub mod units;

mod analyze;
mod diff;
mod explore;
mod manual;
mod merge;
mod scan;

use std::io::{self, Write};
use std::path::Path;

use anyhow::Context;
use layerwaste::report::json::Json;
use layerwaste::report::Render;
use layerwaste::text::escape;

use cli::{Cli, Command};
use config::{Gate, GateFlags, LoadedConfig};
use exit::ExitCode;

/// One malloc arena for the whole process, set in `main` before any thread starts: a
/// process-wide setting, so the binary makes it, not the library.
///
/// glibc gives each thread that allocates an arena of its own. A layer's index is
/// built on a walker thread and freed by the replay on the main thread, so its pages go
/// back to the walker's arena, where the main thread, which allocates the explanation
/// next, cannot reuse them: they stay resident beside what the explanation takes anew.
/// With one arena the explanation reuses them. The walkers allocate little (their
/// indexes grow by doubling), so sharing one arena costs no measurable time. On big,
/// with the library's trim before the explanation: peak RSS 37.0–37.5 MB before,
/// 31.5–35.4 MB after (5 runs each; the peak depends on how the threads interleave).
pub fn one_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of glibc's allocator; any value is safe,
    // and no other thread is running yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Runs one command; errors go to the caller, which prints them and exits 2.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Analyze(args) => analyze::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Completions { shell } => manual::completions(shell, &mut io::stdout().lock()),
        Command::Man => manual::man(&mut io::stdout().lock()),
        Command::Explore(args) => explore::run(&args),
        Command::Scan(args) => scan::run(&args),
        Command::Merge(args) => merge::run(&args),
    }
}

/// The config file (`--config`, or ./.layerwaste.toml, or ./.dive-ci) resolved against
/// the flags: flag > file > default.
fn settings(
    explicit: Option<&Path>,
    flags: &GateFlags,
) -> anyhow::Result<(Gate, Option<LoadedConfig>)> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let loaded = config::load(explicit, &cwd)?;
    let gate = Gate::resolve(flags, loaded.as_ref().map(|l| &l.config));
    Ok((gate, loaded))
}

/// Non-fatal oddities, on stderr after the progress bar is gone. `prefix` names the image
/// when a command reads more than one.
fn warn<'a>(prefix: &str, warnings: impl IntoIterator<Item = &'a String>) {
    for w in warnings {
        eprintln!("layerwaste: warning: {prefix}{}", escape(w));
    }
}

/// Writes a document to stdout through one renderer.
fn print<D: ?Sized>(renderer: &dyn Render<D>, doc: &D) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    renderer.render(doc, &mut out)?;
    out.flush()
}

/// `--output FILE`: the JSON document, besides whatever stdout gets.
fn write_json<D: ?Sized>(doc: &D, path: &Path) -> anyhow::Result<()>
where
    Json: Render<D>,
{
    let write = || -> io::Result<()> {
        let mut file = io::BufWriter::new(std::fs::File::create(path)?);
        Json.render(doc, &mut file)?;
        file.flush()
    };
    write().with_context(|| format!("cannot write the report to {}", path.display()))
}
