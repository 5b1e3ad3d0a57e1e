//! `layerwaste explore`: the analysis, then the terminal explorer on it.

use std::io::{self, IsTerminal};

use anyhow::Context;
use layerwaste::report::explore;
use layerwaste::text::escape;

use super::bar::Bar;
use super::cli::{AnalyzeArgs, ColorArg};
use super::exit::ExitCode;

pub fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    if !io::stdout().is_terminal() {
        anyhow::bail!(
            "explore draws on a terminal, and stdout is not one; for a report to a file or a pipe, use `layerwaste analyze {}`",
            escape(&args.image)
        );
    }
    if args.format.is_some() || args.output.is_some() {
        anyhow::bail!("--format and --output belong to `layerwaste analyze`, not explore");
    }
    let (gate, loaded) = super::settings(args.gate.config.as_deref(), &args.gate.flags())?;
    let bar = Bar::new(!args.quiet && io::stderr().is_terminal());
    let result = layerwaste::analyze::analyze_full(&args.image, &args.options(&gate), &bar);
    bar.clear();
    let mut analysis = result?;
    if let Some(path) = &args.dockerfile {
        super::analyze::map_dockerfile(&mut analysis.report, path)?;
    }
    let color = match args.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => std::env::var_os("NO_COLOR").is_none(),
    };
    let mut warnings: Vec<String> = loaded.iter().flat_map(|l| l.warnings.clone()).collect();
    warnings.extend(analysis.report.warnings.iter().cloned());
    explore::terminal::run(explore::open(analysis, color)).context("the terminal failed")?;
    // After the screen is restored, where they stay readable.
    super::warn("", &warnings);
    Ok(ExitCode::Success)
}
