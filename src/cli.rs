//! Command-line flags (clap) and their resolution into library options. Nothing below
//! this module sees clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use layerwaste::explain::ExplainOptions;
use layerwaste::source::{PlanOptions, Platform};
use layerwaste::tarball::HeaderLimits;
use layerwaste::walk::WalkOptions;
use layerwaste::Options;

#[derive(Debug, Parser)]
#[command(
    name = "layerwaste",
    version,
    about = "Explains why container images don't shrink",
    long_about = "Reads a container image without unpacking it and reports, for every \
                  Dockerfile step, the bytes it added that the final image cannot see, \
                  which later step hid them, and why."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report the wasted bytes of every step of an image
    Analyze(AnalyzeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A table for people
    Table,
    /// One JSON document (schema: docs/json.md)
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// The image: a docker-save or OCI archive (.tar, .tar.gz, .tar.zst), an OCI layout
    /// or docker-save directory, `-` for stdin, or `docker-archive:PATH`,
    /// `oci:DIR[:TAG]`, `oci-archive:PATH`
    pub image: String,

    /// Output format on stdout
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,

    /// Also write the JSON report to FILE (besides --cache, the only file layerwaste writes)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// For a multi-platform image: which one, as os/arch[/variant]
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_parser = parse_platform)]
    pub platform: Option<Platform>,

    /// For a docker-save archive of several images: the RepoTag to analyse
    #[arg(long = "image", value_name = "TAG")]
    pub image_tag: Option<String>,

    /// No progress bar
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// When to colour the table
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,

    /// Worker threads for reading layers (default: one per core)
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Most entries accepted in one layer
    #[arg(long, value_name = "N", default_value_t = WalkOptions::default().max_entries)]
    pub max_entries: u64,

    /// Longest entry path accepted, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = HeaderLimits::default().max_path_bytes)]
    pub max_path_bytes: u64,

    /// Wasted-path rows shown per step, rolled up by directory
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub top: usize,

    /// List every wasted file (table and JSON)
    #[arg(long)]
    pub files: bool,

    /// Keep each layer's index in DIR, keyed by its diff ID, and reuse it on later runs:
    /// a rebuilt image whose base layers did not change reads only its new layers
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,

    /// Largest metadata document (manifest, index, config) read, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = Options::default().plan.max_metadata_bytes)]
    pub max_metadata_bytes: u64,
}

fn parse_platform(s: &str) -> Result<Platform, String> {
    s.parse()
}

impl AnalyzeArgs {
    /// The library options these flags stand for.
    pub fn options(&self) -> Options {
        let defaults = Options::default();
        Options {
            plan: PlanOptions {
                platform: self.platform.clone(),
                image_tag: self.image_tag.clone(),
                max_metadata_bytes: self.max_metadata_bytes,
            },
            walk: WalkOptions {
                headers: HeaderLimits {
                    max_path_bytes: self.max_path_bytes,
                    ..defaults.walk.headers
                },
                max_entries: self.max_entries,
                ..defaults.walk
            },
            threads: self.threads,
            explain: ExplainOptions {
                top: self.top,
                files: self.files,
                ..defaults.explain
            },
            cache: self.cache.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_resolve_to_options() {
        let cli = Cli::parse_from([
            "layerwaste",
            "analyze",
            "x.tar",
            "--platform",
            "linux/arm64/v8",
            "--max-entries",
            "7",
        ]);
        let Command::Analyze(args) = cli.command;
        let o = args.options();
        assert_eq!(o.walk.max_entries, 7);
        assert_eq!(o.plan.platform.unwrap().to_string(), "linux/arm64/v8");
    }
}
