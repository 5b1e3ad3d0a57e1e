//! The `layerwaste` binary: parse flags, run the library, render, map to an exit code.

mod bar;
mod cli;

use std::io::{self, IsTerminal, Write};

use anyhow::Context;
use clap::{Parser, ValueEnum};

use cli::{AnalyzeArgs, Cli, ColorArg, Command, FormatArg};
use layerwaste::config::{self, Gate};
use layerwaste::exit_codes::ExitCode;
use layerwaste::report::github::Github;
use layerwaste::report::json::Json;
use layerwaste::report::markdown::Markdown;
use layerwaste::report::sarif::Sarif;
use layerwaste::report::table::{Styles, Table};
use layerwaste::report::{Render, Report};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Analyze(args) => run_analyze(&args),
    };
    match code {
        Ok(code) => code.into(),
        Err(err) if is_broken_pipe(&err) => ExitCode::Success.into(),
        Err(err) => {
            eprintln!("layerwaste: error: {err:#}");
            ExitCode::Error.into()
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn run_analyze(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let loaded = config::load(args.gate.config.as_deref(), &cwd)?;
    let gate = Gate::resolve(&args.gate.flags(), loaded.as_ref().map(|l| &l.config));
    let format = match (args.format, &gate.format) {
        (Some(f), _) => f,
        (None, Some(name)) => FormatArg::from_str(name, true).map_err(|_| {
            anyhow::anyhow!("the config file's format {name:?} is not a known format")
        })?,
        (None, None) => FormatArg::Table,
    };
    let bar = bar::Bar::new(!args.quiet && io::stderr().is_terminal());
    let result = layerwaste::analyze(&args.image, &args.options(&gate), &bar);
    bar.clear();
    let report = result?;
    for w in loaded
        .iter()
        .flat_map(|l| &l.warnings)
        .chain(&report.warnings)
    {
        eprintln!("layerwaste: warning: {}", layerwaste::sanitize::escape(w));
    }
    if let Some(path) = &args.output {
        write_json_file(&report, path)
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    renderer(args, format).render(&report, &mut out)?;
    out.flush()?;
    drop(out);
    let violations = report.thresholds.iter().flat_map(|t| &t.violations);
    let mut crossed = false;
    for v in violations {
        eprintln!("layerwaste: limit crossed: {}", v.message);
        crossed = true;
    }
    Ok(if crossed {
        ExitCode::ThresholdExceeded
    } else {
        ExitCode::Success
    })
}

fn write_json_file(report: &Report, path: &std::path::Path) -> io::Result<()> {
    let mut file = io::BufWriter::new(std::fs::File::create(path)?);
    Json.render(report, &mut file)?;
    file.flush()
}

fn renderer(args: &AnalyzeArgs, format: FormatArg) -> Box<dyn Render> {
    match format {
        FormatArg::Json => Box::new(Json),
        FormatArg::Markdown => Box::new(Markdown),
        FormatArg::Sarif => Box::new(Sarif),
        FormatArg::Github => Box::new(Github),
        FormatArg::Table => {
            let terminal = io::stdout().is_terminal();
            let color = match args.color {
                ColorArg::Always => true,
                ColorArg::Never => false,
                ColorArg::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
            };
            let width = terminal_size::terminal_size()
                .filter(|_| terminal)
                .map(|(w, _)| w.0 as usize)
                .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
                .unwrap_or(120);
            Box::new(Table {
                width,
                styles: Styles { color },
            })
        }
    }
}
