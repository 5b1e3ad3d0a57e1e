//! Command-line flags (clap) and their resolution into library options. Nothing below
//! this module sees clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use super::config::{Gate, GateFlags};
use layerwaste::analyze::{Base, GateOptions};
use layerwaste::explain::ExplainOptions;
use layerwaste::format::tar::HeaderLimits;
use layerwaste::model::gate::Thresholds;
use layerwaste::source::{PlanOptions, Platform, SourceOptions};
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
    Analyze(Box<AnalyzeArgs>),
    /// Compare the waste of two images, e.g. main's build and a pull request's
    Diff(DiffArgs),
    /// Print a completion script for a shell (e.g. `layerwaste completions bash >
    /// ~/.local/share/bash-completion/completions/layerwaste`)
    Completions {
        /// The shell to write the script for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `layerwaste man > layerwaste.1`
    Man,
    /// Browse an image in the terminal: steps, files, and why each byte is wasted
    /// (docs/explore.md). Takes the image and source flags of `analyze`
    Explore(Box<AnalyzeArgs>),
    /// Audit a fleet: every image of a registry (or of a list), one NDJSON line each and
    /// a summary: the shared layers, patterns and instructions that waste the most
    /// (docs/fleet.md)
    Scan(Box<ScanArgs>),
    /// Combine the NDJSON of `scan` shards into the summary one unsharded run gives
    Merge(MergeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FleetFormat {
    /// One JSON object per image as it finishes, then the summary (docs/fleet.md)
    Ndjson,
    /// The summary for people, as Markdown
    Markdown,
    /// The summary for people, as one self-contained HTML page
    Html,
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Where the images are: `docker://HOST[/PREFIX]` (every repository under PREFIX in
    /// the registry's catalog), `docker-daemon:` (every image of the local engine),
    /// `containerd:[NAMESPACE]` (every image of containerd, or of one namespace), or
    /// any single image `analyze` takes
    pub sources: Vec<String>,

    /// Also read image references from FILE, one a line, any form `analyze` takes
    /// (`-`: stdin; blank lines and `#` comments skipped). Repeatable
    #[arg(long = "from", value_name = "FILE")]
    pub from: Vec<String>,

    /// For registry sources: the tags to take (a glob, repeatable) [default: latest]
    #[arg(long, value_name = "GLOB", conflicts_with = "all_tags")]
    pub tags: Vec<String>,

    /// For registry sources: take every tag
    #[arg(long)]
    pub all_tags: bool,

    /// What stdout gets
    #[arg(long, short = 'f', value_enum, default_value_t = FleetFormat::Ndjson)]
    pub format: FleetFormat,

    /// Also write the NDJSON (image lines and the summary) to FILE
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Images read at once
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub jobs: usize,

    /// Worker threads per image for reading layers (default: the cores shared out
    /// over --jobs)
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Memory for layer indexes kept for the images that share them (20MB, 1GiB, …)
    #[arg(long, value_name = "SIZE", value_parser = parse_size,
          default_value_t = layerwaste::analyze::shared::DEFAULT_BUDGET)]
    pub shared_memory: u64,

    /// Keep each layer's index in DIR, keyed by its diff ID, and reuse it on later runs
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,

    /// Skip the images an earlier run's NDJSON already has an image line for (their
    /// lines count in this run's summary); failed ones are tried again
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,

    /// Take only shard K of N (K from 1 to N), chosen by a hash of each reference.
    /// `--shard N` takes K from JOB_COMPLETION_INDEX (0-based: index 0 is shard 1)
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,

    /// For multi-platform images: which one, as os/arch[/variant]
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_parser = parse_platform)]
    pub platform: Option<Platform>,

    /// A registry (HOST or HOST:PORT) that may be reached over plain HTTP; localhost and
    /// 127.0.0.1 always may. Repeatable
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,

    /// containerd's socket, for containerd sources (default: $CONTAINERD_ADDRESS, then
    /// /run/containerd/containerd.sock)
    #[arg(long, value_name = "SOCKET")]
    pub containerd_address: Option<PathBuf>,

    /// No progress on stderr
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub gate: GateArgs,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// NDJSON files written by `scan` (`--output`, or its stdout), one per shard
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,

    /// What stdout gets: the summary line (ndjson), or the summary for people
    #[arg(long, short = 'f', value_enum, default_value_t = FleetFormat::Ndjson)]
    pub format: FleetFormat,

    /// Also write every image line and the summary, as NDJSON, to FILE
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
    Markdown,
    /// One self-contained HTML page (docs/report-html.md)
    Html,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The image before the change (any form `analyze` takes)
    pub old: String,
    /// The image after the change
    pub new: String,

    /// Output format on stdout
    #[arg(long, short = 'f', value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,

    /// Also write the JSON diff to FILE
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when wasted bytes grow by more than SIZE (`--fail-on-increase=20MB`;
    /// alone: by anything)
    #[arg(long, value_name = "SIZE", num_args = 0..=1, require_equals = true, default_missing_value = "0", value_parser = parse_size)]
    pub fail_on_increase: Option<u64>,

    /// For multi-platform images: which one, as os/arch[/variant]
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_parser = parse_platform)]
    pub platform: Option<Platform>,

    /// No progress bar
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// When to colour the table
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,

    /// Read `fail-on-increase` from FILE (.layerwaste.toml) instead of looking for
    /// ./.layerwaste.toml and ./.dive-ci
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl DiffArgs {
    pub fn options(&self) -> Options {
        let mut o = Options::default();
        o.plan.platform = self.platform.clone();
        o
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A table for people
    Table,
    /// One JSON document (schema: docs/json.md)
    Json,
    /// A pull-request comment: verdict first, details collapsed (docs/formats.md)
    Markdown,
    /// One self-contained HTML page: bars per step, trees, findings (docs/report-html.md)
    Html,
    /// SARIF 2.1.0 for code scanning (docs/formats.md)
    Sarif,
    /// GitHub Actions annotations: ::warning / ::error / ::notice (docs/formats.md)
    Github,
    /// GitLab's code-quality report (Code Climate JSON), for a `codequality` artifact
    /// (docs/formats.md)
    Codeclimate,
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
    /// or docker-save directory, `-` for stdin, `docker-archive:PATH`, `oci:DIR[:TAG]`,
    /// `oci-archive:PATH`, `docker://REGISTRY/REPO[:TAG|@DIGEST]`, or an image name
    /// (`NAME[:TAG]`, `docker-daemon:NAME[:TAG]`, an ID) in the local engine at
    /// DOCKER_HOST (docs/sources.md)
    pub image: String,

    /// Output format on stdout [default: table]
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<FormatArg>,

    /// Also write the JSON report to FILE (besides --cache, the only file layerwaste writes)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// For a multi-platform image: which one, as os/arch[/variant]
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_parser = parse_platform)]
    pub platform: Option<Platform>,

    /// For a docker-save archive of several images: the RepoTag to analyse
    #[arg(long = "image", value_name = "TAG")]
    pub image_tag: Option<String>,

    /// A registry (HOST or HOST:PORT) that may be reached over plain HTTP; localhost and
    /// 127.0.0.1 always may. Repeatable
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,

    /// Read the named image straight from Docker's data root (e.g. /var/lib/docker),
    /// with no engine and no export: the classic image store only
    #[arg(long, value_name = "DIR")]
    pub docker_root: Option<PathBuf>,

    /// Read the named image ([NAMESPACE/]NAME) straight from a containerd root (e.g.
    /// /var/lib/containerd), with no daemon: a stopped node, a mounted disk, a copy
    #[arg(long, value_name = "DIR")]
    pub containerd_root: Option<PathBuf>,

    /// containerd's socket for containerd://[NAMESPACE/]NAME images (default:
    /// $CONTAINERD_ADDRESS, then /run/containerd/containerd.sock)
    #[arg(long, value_name = "SOCKET")]
    pub containerd_address: Option<PathBuf>,

    /// Read the named image from a containers/storage root (Podman, Buildah, CRI-O), e.g.
    /// /var/lib/containers/storage or ~/.local/share/containers/storage
    #[arg(long, value_name = "DIR")]
    pub storage_root: Option<PathBuf>,

    /// No progress bar
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Say which route an engine image takes (through containerd, or exported)
    #[arg(long, short = 'v')]
    pub verbose: bool,

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

    /// Wasted-path rows shown per step, rolled up by directory [default: 5]
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,

    /// Map each step to its line in this Dockerfile (for SARIF, annotations, the table)
    #[arg(long, value_name = "PATH")]
    pub dockerfile: Option<PathBuf>,

    /// List every wasted file (table and JSON)
    #[arg(long)]
    pub files: bool,

    #[command(flatten)]
    pub gate: GateArgs,
    /// Keep each layer's index in DIR, keyed by its diff ID, and reuse it on later runs:
    /// a rebuilt image whose base layers did not change reads only its new layers
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,

    /// Largest metadata document (manifest, index, config) read, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = Options::default().plan.max_metadata_bytes)]
    pub max_metadata_bytes: u64,
}

/// The CI gate's flags. Each one overrides the same key of the config file.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "CI gate (exit code 1 when a limit is crossed)")]
pub struct GateArgs {
    /// Fail when more than SIZE is wasted (20MB = 20×10^6 B, 20MiB = 20×2^20 B, or bytes)
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_wasted: Option<u64>,

    /// Fail when more than P percent (0–100) of the image's bytes are wasted
    #[arg(long, value_name = "P", value_parser = parse_percent)]
    pub max_wasted_percent: Option<f64>,

    /// Fail when efficiency (final ÷ total, 0–1) is below R
    #[arg(long, value_name = "R", value_parser = parse_ratio)]
    pub min_efficiency: Option<f64>,

    /// Fail when any single step wastes more than SIZE
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_step_wasted: Option<u64>,

    /// The base image: its layers' waste is shown but never fails the build. `auto`
    /// (the default when a limit is set): the base the manifest's
    /// org.opencontainers.image.base.* annotations name, when its diff IDs prove it
    #[arg(long, value_name = "IMAGE|auto", conflicts_with = "base_layers")]
    pub base: Option<String>,

    /// The first N layers are the base image's
    #[arg(long, value_name = "N")]
    pub base_layers: Option<usize>,

    /// Leave paths matching GLOB out of the gate, e.g. 'var/lib/dpkg/**' (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub ignore: Vec<String>,

    /// Read gate settings from FILE (.layerwaste.toml, or dive's .dive-ci) instead of
    /// looking for ./.layerwaste.toml and ./.dive-ci
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

fn parse_platform(s: &str) -> Result<Platform, String> {
    s.parse()
}

fn parse_size(s: &str) -> Result<u64, String> {
    super::units::parse_size(s)
}

fn parse_percent(s: &str) -> Result<f64, String> {
    super::config::parse_percent(s)
}

fn parse_ratio(s: &str) -> Result<f64, String> {
    super::config::parse_ratio(s)
}

impl GateArgs {
    pub fn flags(&self) -> GateFlags {
        GateFlags {
            thresholds: Thresholds {
                max_wasted: self.max_wasted,
                max_wasted_percent: self.max_wasted_percent,
                min_efficiency: self.min_efficiency,
                max_step_wasted: self.max_step_wasted,
            },
            ignore: self.ignore.clone(),
            base_layers: self.base_layers,
            base: self.base.clone(),
            ..Default::default()
        }
    }
}

/// The gate's settings as the library wants them.
pub fn gate_options(gate: &Gate) -> GateOptions {
    GateOptions {
        thresholds: gate.thresholds.clone(),
        base: match (&gate.base, gate.base_layers) {
            (Some(auto), _) if auto == "auto" => Some(Base::Auto { explicit: true }),
            (Some(image), _) => Some(Base::Image(image.clone())),
            (None, Some(n)) => Some(Base::Layers(n)),
            // The gate's default: the base the image's annotations prove, if any. It
            // never counts a layer as the base's without its diff ID (docs/ci.md).
            (None, None) if !gate.thresholds.is_empty() => Some(Base::Auto { explicit: false }),
            (None, None) => None,
        },
        ignore: gate.ignore.clone(),
    }
}

impl AnalyzeArgs {
    /// The library options these flags stand for, with the gate already resolved
    /// against the config file.
    pub fn options(&self, gate: &Gate) -> Options {
        let defaults = Options::default();
        Options {
            plan: PlanOptions {
                platform: self.platform.clone(),
                image_tag: self.image_tag.clone(),
                max_metadata_bytes: self.max_metadata_bytes,
            },
            source: SourceOptions {
                insecure_registries: self.insecure_registries.clone(),
                docker_root: self.docker_root.clone(),
                containerd_root: self.containerd_root.clone(),
                containerd_address: self.containerd_address.clone(),
                storage_root: self.storage_root.clone(),
                notice: if self.verbose {
                    layerwaste::source::containerd::Notice(Some(std::sync::Arc::new(
                        |text: &str| eprintln!("layerwaste: {}", layerwaste::text::escape(text)),
                    )))
                } else {
                    Default::default()
                },
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
                top: self.top.or(gate.top).unwrap_or(defaults.explain.top),
                files: self.files,
                ..defaults.explain
            },
            gate: gate_options(gate),
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
        let Command::Analyze(args) = cli.command else {
            panic!("parsed as analyze")
        };
        let o = args.options(&Gate::default());
        assert_eq!(o.walk.max_entries, 7);
        assert_eq!(o.plan.platform.unwrap().to_string(), "linux/arm64/v8");
    }
}
