//! The `layerwaste` binary: parse flags, run the library, render, map to an exit code.

mod bar;
mod cli;

use std::io::{self, IsTerminal, Write};

use anyhow::Context;
use clap::{Parser, ValueEnum};

use cli::{AnalyzeArgs, Cli, ColorArg, Command, DiffArgs, DiffFormat, FormatArg};
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
        Command::Diff(args) => run_diff(&args),
        Command::Explore(args) => run_explore(&args),
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
    let mut report = result?;
    if let Some(path) = &args.dockerfile {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the Dockerfile {}", path.display()))?;
        report
            .map_dockerfile(&path.display().to_string(), &text)
            .map_err(|e| anyhow::anyhow!("{}:{}: {}", path.display(), e.line, e.message))?;
    }
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

fn run_explore(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    if !io::stdout().is_terminal() {
        anyhow::bail!(
            "explore draws on a terminal, and stdout is not one; for a report to a file or a pipe, use `layerwaste analyze {}`",
            layerwaste::sanitize::escape(&args.image)
        );
    }
    if args.format.is_some() || args.output.is_some() {
        anyhow::bail!("--format and --output belong to `layerwaste analyze`, not explore");
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let loaded = config::load(args.gate.config.as_deref(), &cwd)?;
    let gate = Gate::resolve(&args.gate.flags(), loaded.as_ref().map(|l| &l.config));
    let bar = bar::Bar::new(!args.quiet && io::stderr().is_terminal());
    let result = layerwaste::analyze::analyze_full(&args.image, &args.options(&gate), &bar);
    bar.clear();
    let mut analysis = result?;
    if let Some(path) = &args.dockerfile {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the Dockerfile {}", path.display()))?;
        analysis
            .report
            .map_dockerfile(&path.display().to_string(), &text)
            .map_err(|e| anyhow::anyhow!("{}:{}: {}", path.display(), e.line, e.message))?;
    }
    let color = match args.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => std::env::var_os("NO_COLOR").is_none(),
    };
    let warnings: Vec<String> = loaded
        .iter()
        .flat_map(|l| &l.warnings)
        .chain(&analysis.report.warnings)
        .cloned()
        .collect();
    layerwaste::report::explore::terminal::run(layerwaste::report::explore::open(analysis, color))
        .context("the terminal failed")?;
    // After the screen is restored, where they stay readable.
    for w in warnings {
        eprintln!("layerwaste: warning: {}", layerwaste::sanitize::escape(&w));
    }
    Ok(ExitCode::Success)
}

fn run_diff(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let options = args.options();
    let visible = !args.quiet && io::stderr().is_terminal();
    let analyse = |spec: &str| -> anyhow::Result<Report> {
        let bar = bar::Bar::new(visible);
        let result = layerwaste::analyze(spec, &options, &bar);
        bar.clear();
        let report = result?;
        for w in &report.warnings {
            eprintln!(
                "layerwaste: warning: {spec}: {}",
                layerwaste::sanitize::escape(w)
            );
        }
        Ok(report)
    };
    let old = analyse(&args.old)?;
    let new = analyse(&args.new)?;
    let diff = layerwaste::diff::compare(&old, &new, args.fail_on_increase);
    if let Some(path) = &args.output {
        let write = || -> io::Result<()> {
            let mut file = io::BufWriter::new(std::fs::File::create(path)?);
            serde_json::to_writer_pretty(&mut file, &diff)?;
            file.write_all(b"\n")?;
            file.flush()
        };
        write().with_context(|| format!("cannot write the diff to {}", path.display()))?;
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.format {
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &diff)?;
            out.write_all(b"\n")?;
        }
        DiffFormat::Markdown => layerwaste::diff::render_markdown(&diff, &mut out)?,
        DiffFormat::Table => {
            let (width, styles) = terminal_style(args.color);
            layerwaste::diff::render_table(&diff, width, styles, &mut out)?
        }
    }
    out.flush()?;
    drop(out);
    match &diff.gate {
        Some(g) if !g.passed => {
            eprintln!("layerwaste: limit crossed: {}", g.message);
            Ok(ExitCode::ThresholdExceeded)
        }
        _ => Ok(ExitCode::Success),
    }
}

/// Table width and colours for stdout, as --color and the terminal say.
fn terminal_style(color: ColorArg) -> (usize, Styles) {
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
            let (width, styles) = terminal_style(args.color);
            Box::new(Table { width, styles })
        }
    }
}
