//! `layerwaste scan`: many images, one NDJSON line each as it finishes, then the
//! fleet's summary; exit 2 if any image failed, 1 if the gate was crossed.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};

use anyhow::Context;
use layerwaste::fleet::run::{scan, ScanOptions};
use layerwaste::fleet::select::{self, Tags};
use layerwaste::fleet::{Line, Summary};
use layerwaste::source::{PlanOptions, SourceOptions};
use layerwaste::text::escape;
use layerwaste::Options;

use super::cli::{gate_options, FleetFormat, ScanArgs};
use super::config::Gate;
use super::exit::ExitCode;

pub fn run(args: &ScanArgs) -> anyhow::Result<ExitCode> {
    let (gate, loaded) = super::settings(args.gate.config.as_deref(), &args.gate.flags())?;
    super::warn("", loaded.iter().flat_map(|l| &l.warnings));
    let options = ScanOptions {
        analyze: analyze_options(args, &gate),
        jobs: args.jobs.max(1),
        shared_budget: args.shared_memory,
    };
    let mut references = references(args, &options.analyze.source)?;
    if let Some(shard) = &args.shard {
        let index = std::env::var("JOB_COMPLETION_INDEX").ok();
        let (k, n) = select::parse_shard(shard, index.as_deref()).map_err(anyhow::Error::msg)?;
        references.retain(|r| select::shard_of(r, n) == k);
    }
    let resumed = match &args.resume {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --resume {}", path.display()))?;
            layerwaste::fleet::lines::parse(&path.display().to_string(), &text)?
                .into_iter()
                .filter(|l| matches!(l, Line::Image(_)))
                .filter(|l| {
                    l.reference()
                        .is_some_and(|r| references.iter().any(|x| x == r))
                })
                .collect()
        }
        None => Vec::new(),
    };
    let done: HashSet<&str> = resumed.iter().filter_map(Line::reference).collect();
    let todo: Vec<String> = references
        .iter()
        .filter(|r| !done.contains(r.as_str()))
        .cloned()
        .collect();
    if !args.quiet && io::stderr().is_terminal() {
        eprintln!(
            "layerwaste: scanning {} images ({} already done)",
            todo.len(),
            done.len()
        );
    }

    let mut sink = Sink::new(args.output.as_deref(), args.format == FleetFormat::Ndjson)?;
    let mut lines = resumed.clone();
    let reads = scan(&todo, &options, &mut |line| {
        if let (Line::Error(e), false) = (&line, args.quiet) {
            eprintln!(
                "layerwaste: warning: {}: {}",
                escape(&e.reference),
                escape(&e.error)
            );
        }
        sink.line(&line);
        lines.push(line);
    });
    let summary = Summary::of(&lines, reads);
    sink.finish(&summary)?;
    render(args.format, &summary)?;
    Ok(outcome(&summary))
}

/// Exit 2 if any image failed, else 1 if any crossed the gate, else 0.
pub(super) fn outcome(summary: &Summary) -> ExitCode {
    if summary.failed > 0 {
        ExitCode::Error
    } else if !summary.over_gate.is_empty() {
        for g in &summary.over_gate {
            for v in &g.violations {
                eprintln!(
                    "layerwaste: limit crossed: {}: {}",
                    escape(&g.reference),
                    escape(v)
                );
            }
        }
        ExitCode::ThresholdExceeded
    } else {
        ExitCode::Success
    }
}

/// The options every image is analysed with: `analyze`'s defaults, the gate resolved
/// against the config file as `analyze` resolves it, and the scan's few source flags.
fn analyze_options(args: &ScanArgs, gate: &Gate) -> Options {
    let defaults = Options::default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut explain = defaults.explain;
    explain.top = gate.top.unwrap_or(explain.top);
    Options {
        plan: PlanOptions {
            platform: args.platform.clone(),
            ..defaults.plan.clone()
        },
        source: SourceOptions {
            insecure_registries: args.insecure_registries.clone(),
            containerd_address: args.containerd_address.clone(),
            ..Default::default()
        },
        threads: if args.threads == 0 {
            (cores / args.jobs.max(1)).max(1)
        } else {
            args.threads
        },
        explain,
        gate: gate_options(gate),
        cache: args.cache.clone(),
        ..defaults
    }
}

/// Every image the sources and lists name, each once, in the order given.
fn references(args: &ScanArgs, sources: &SourceOptions) -> anyhow::Result<Vec<String>> {
    let tags = if args.all_tags {
        Tags::All
    } else {
        Tags::globs(&args.tags)?
    };
    let mut all = Vec::new();
    for source in &args.sources {
        if let Some((host, prefix)) = select::registry_prefix(source) {
            all.extend(select::registry_images(host, prefix, &tags, sources)?);
        } else if source == "docker-daemon:" {
            all.extend(select::engine_images()?);
        } else if let Some(namespace) = source
            .strip_prefix("containerd:")
            .filter(|n| !n.starts_with("//"))
        {
            all.extend(select::containerd_images(namespace, sources)?);
        } else {
            all.push(source.clone());
        }
    }
    for list in &args.from {
        let text = if list == "-" {
            let mut text = String::new();
            io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the image list from stdin")?;
            text
        } else {
            std::fs::read_to_string(list).with_context(|| format!("cannot read --from {list}"))?
        };
        all.extend(select::list_file(&text));
    }
    if all.is_empty() {
        anyhow::bail!("no images to scan: name a SOURCE or --from FILE (docs/fleet.md)");
    }
    let mut seen = HashSet::new();
    all.retain(|r| seen.insert(r.clone()));
    Ok(all)
}

/// Where lines go: stdout (with `--format ndjson`) and the `--output` file. The first write error is
/// kept and returned at the end, so a full disk stops nothing mid-image.
pub(super) struct Sink {
    stdout: Option<BufWriter<io::Stdout>>,
    file: Option<(std::path::PathBuf, BufWriter<File>)>,
    failed: Option<anyhow::Error>,
}

impl Sink {
    pub(super) fn new(output: Option<&std::path::Path>, stdout: bool) -> anyhow::Result<Sink> {
        let file = match output {
            Some(path) => Some((
                path.to_path_buf(),
                BufWriter::new(
                    File::create(path)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                ),
            )),
            None => None,
        };
        Ok(Sink {
            stdout: stdout.then(|| BufWriter::new(io::stdout())),
            file,
            failed: None,
        })
    }

    pub(super) fn line(&mut self, line: &Line) {
        if self.failed.is_some() {
            return;
        }
        let mut text = match serde_json::to_string(line) {
            Ok(t) => t,
            Err(e) => {
                self.failed = Some(e.into());
                return;
            }
        };
        text.push('\n');
        if let Some(out) = &mut self.stdout {
            // Each line is flushed: a reader of the stream sees an image as it finishes.
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                self.failed = Some(e.into());
            }
        }
        if let Some((path, file)) = &mut self.file {
            if let Err(e) = file.write_all(text.as_bytes()) {
                self.failed =
                    Some(anyhow::Error::new(e).context(format!("cannot write {}", path.display())));
            }
        }
    }

    pub(super) fn finish(mut self, summary: &Summary) -> anyhow::Result<()> {
        self.line(&Line::Summary(Box::new(summary.clone())));
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if let Some((path, mut file)) = self.file.take() {
            file.flush()
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}

/// The summary for people on stdout, for the formats that want it (NDJSON already has
/// its summary line).
pub(super) fn render(format: FleetFormat, summary: &Summary) -> anyhow::Result<()> {
    use layerwaste::report::fleet::{FleetHtml, FleetMarkdown};
    match format {
        FleetFormat::Ndjson => Ok(()),
        FleetFormat::Markdown => Ok(super::print(&FleetMarkdown, summary)?),
        FleetFormat::Html => Ok(super::print(&FleetHtml, summary)?),
    }
}
