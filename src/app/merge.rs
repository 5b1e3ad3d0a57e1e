//! `layerwaste merge SHARD.ndjson…`: the summary of the shards' image lines, the same
//! summary one unsharded `scan` gives (the layer-read counts are summed), and the same
//! exit code.

use anyhow::Context;
use layerwaste::analyze::shared::LayerReads;
use layerwaste::fleet::{Line, Summary};

use super::cli::{FleetFormat, MergeArgs};
use super::exit::ExitCode;
use super::scan::{outcome, render, Sink};

pub fn run(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let mut lines: Vec<Line> = Vec::new();
    for path in &args.shards {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        lines.extend(layerwaste::fleet::lines::parse(
            &path.display().to_string(),
            &text,
        )?);
    }
    let summary = Summary::of(&lines, LayerReads::default());
    // stdout gets only the summary; --output gets the image lines too, one file that
    // `merge` (or `scan --resume`) can read again.
    let mut file = Sink::new(args.output.as_deref(), false)?;
    for line in lines.iter().filter(|l| !matches!(l, Line::Summary(_))) {
        file.line(line);
    }
    file.finish(&summary)?;
    Sink::new(None, args.format == FleetFormat::Ndjson)?.finish(&summary)?;
    render(args.format, &summary)?;
    Ok(outcome(&summary))
}
