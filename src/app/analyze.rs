//! `layerwaste analyze`: one image, one report, and the CI gate's exit code.

use std::io::{self, IsTerminal};

use anyhow::Context;
use clap::ValueEnum;
use layerwaste::report::codeclimate::CodeClimate;
use layerwaste::report::github::Github;
use layerwaste::report::html::Html;
use layerwaste::report::json::Json;
use layerwaste::report::markdown::Markdown;
use layerwaste::report::sarif::Sarif;
use layerwaste::report::table::Table;
use layerwaste::report::{Render, Report};

use super::bar::Bar;
use super::cli::{AnalyzeArgs, FormatArg};
use super::exit::ExitCode;
use super::terminal;

pub fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let (gate, loaded) = super::settings(args.gate.config.as_deref(), &args.gate.flags())?;
    let format = match (args.format, &gate.format) {
        (Some(f), _) => f,
        (None, Some(name)) => FormatArg::from_str(name, true).map_err(|_| {
            anyhow::anyhow!("the config file's format {name:?} is not a known format")
        })?,
        (None, None) => FormatArg::Table,
    };
    let bar = Bar::new(!args.quiet && io::stderr().is_terminal());
    let result = layerwaste::analyze(&args.image, &args.options(&gate), &bar);
    bar.clear();
    let mut report = result?;
    if let Some(path) = &args.dockerfile {
        map_dockerfile(&mut report, path)?;
    }
    super::warn("", loaded.iter().flat_map(|l| &l.warnings));
    super::warn("", &report.warnings);
    if let Some(path) = &args.output {
        super::write_json(&report, path)?;
    }
    super::print(renderer(args, format).as_ref(), &report)?;
    Ok(gate_outcome(&report))
}

pub(super) fn map_dockerfile(report: &mut Report, path: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the Dockerfile {}", path.display()))?;
    report
        .map_dockerfile(&path.display().to_string(), &text)
        .map_err(|e| anyhow::anyhow!("{}:{}: {}", path.display(), e.line, e.message))
}

/// Exit 1 when a threshold was crossed, naming every crossing on stderr.
fn gate_outcome(report: &Report) -> ExitCode {
    let mut crossed = false;
    for v in report.thresholds.iter().flat_map(|t| &t.violations) {
        eprintln!("layerwaste: limit crossed: {}", v.message);
        crossed = true;
    }
    if crossed {
        ExitCode::ThresholdExceeded
    } else {
        ExitCode::Success
    }
}

fn renderer(args: &AnalyzeArgs, format: FormatArg) -> Box<dyn Render> {
    match format {
        FormatArg::Json => Box::new(Json),
        FormatArg::Markdown => Box::new(Markdown),
        FormatArg::Html => Box::new(Html),
        FormatArg::Sarif => Box::new(Sarif),
        FormatArg::Github => Box::new(Github),
        FormatArg::Codeclimate => Box::new(CodeClimate),
        FormatArg::Table => {
            let (width, styles) = terminal::style(args.color);
            Box::new(Table { width, styles })
        }
    }
}
