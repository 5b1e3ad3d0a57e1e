//! `layerwaste diff OLD NEW`: what a change did to the waste, and the increase gate.

use std::io::{self, IsTerminal};

use layerwaste::explain::diff::DiffReport;
use layerwaste::report::html::Html;
use layerwaste::report::json::Json;
use layerwaste::report::markdown::Markdown;
use layerwaste::report::table::Table;
use layerwaste::report::{Render, Report};

use super::bar::Bar;
use super::cli::{DiffArgs, DiffFormat};
use super::config::GateFlags;
use super::exit::ExitCode;
use super::terminal;

pub fn run(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let flags = GateFlags {
        fail_on_increase: args.fail_on_increase,
        ..Default::default()
    };
    let (gate, loaded) = super::settings(args.config.as_deref(), &flags)?;
    super::warn("", loaded.iter().flat_map(|l| &l.warnings));
    let options = args.options();
    let visible = !args.quiet && io::stderr().is_terminal();
    let analyse = |spec: &str| -> anyhow::Result<Report> {
        let bar = Bar::new(visible);
        let result = layerwaste::analyze(spec, &options, &bar);
        bar.clear();
        let report = result?;
        super::warn(&format!("{spec}: "), &report.warnings);
        Ok(report)
    };
    let old = analyse(&args.old)?;
    let new = analyse(&args.new)?;
    let diff = layerwaste::explain::diff::compare(&old, &new, gate.fail_on_increase)?;
    if let Some(path) = &args.output {
        super::write_json(&diff, path)?;
    }
    super::print(renderer(args).as_ref(), &diff)?;
    Ok(match &diff.gate {
        Some(g) if !g.passed => {
            eprintln!("layerwaste: limit crossed: {}", g.message);
            ExitCode::ThresholdExceeded
        }
        _ => ExitCode::Success,
    })
}

fn renderer(args: &DiffArgs) -> Box<dyn Render<DiffReport>> {
    match args.format {
        DiffFormat::Json => Box::new(Json),
        DiffFormat::Markdown => Box::new(Markdown),
        DiffFormat::Html => Box::new(Html),
        DiffFormat::Table => {
            let (width, styles) = terminal::style(args.color);
            Box::new(Table { width, styles })
        }
    }
}
