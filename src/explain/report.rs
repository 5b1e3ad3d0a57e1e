//! The report model: one serialisable account of everything the analysis found, which
//! every renderer in [`crate::report`] draws. Nothing here writes output.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::explain::advice::{self, Commands, Owner, Pattern, StepRef, Words};
use crate::explain::verdict::{self, Conclusion};
use crate::explain::{Explanation, Facts, PathKind, Place};
use crate::model::steps::{instruction, Alignment};
use crate::model::{Outcome, Reason};
use crate::source::Format;
use crate::walk::path::exact_text as path_string;
use crate::walk::Compression;

/// Bumped whenever a field changes meaning or disappears. Adding fields does not bump it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub image: ImageInfo,
    /// The Dockerfile the steps were mapped to (`--dockerfile`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    /// That Dockerfile builds `FROM scratch`: no step is a base image's.
    #[serde(skip)]
    pub dockerfile_from_scratch: bool,
    pub summary: Summary,
    /// The answer first, in parts: the headline, at most three findings with their
    /// fixes, the rest counted, the base image's share.
    pub conclusion: Conclusion,
    /// [`Report::conclusion`] as plain text, one paragraph per item.
    pub verdict: Vec<String>,
    pub steps: Vec<StepReport>,
    pub layers: Vec<LayerReport>,
    pub duplicates: DuplicatesReport,
    pub removable: Vec<RemovableReport>,
    /// The CI gate's figures and violations, when any limit, base or ignore was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<crate::model::gate::GateVerdict>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageInfo {
    /// The image as named on the command line.
    pub source: String,
    pub format: Format,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub total_bytes: u64,
    pub final_bytes: u64,
    pub wasted_bytes: u64,
    pub efficiency: f64,
    pub layers: usize,
    pub steps: usize,
    /// Compressed bytes of wasted content: what every pull downloads for nothing.
    /// `null` when a layer holding waste is stored uncompressed (there is no
    /// compressed size to estimate).
    pub wasted_pull_bytes: Option<u64>,
    /// Identical content at more than one live path (not waste under the model).
    pub duplicate_bytes: u64,
    pub duplicate_files: u64,
    /// Package-manager caches still present in the final image (not waste either).
    pub removable_bytes: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StepReport {
    pub index: usize,
    pub created_by: Option<String>,
    /// `created_by` as the Dockerfile instruction, without builder noise.
    pub instruction: Option<String>,
    /// The 1-based line of [`Report::dockerfile`] this step was built from, when the
    /// mapping found one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile_line: Option<usize>,
    /// The Dockerfile's text of that line (it keeps the flags builders drop, such as
    /// `COPY --from`), for naming patterns.
    #[serde(skip)]
    pub dockerfile_text: Option<String>,
    pub empty_layer: bool,
    pub layer: Option<usize>,
    pub layer_digest: Option<String>,
    pub bytes: u64,
    pub wasted_bytes: u64,
    /// The later steps that hid this step's bytes, in step order.
    pub removed_by: Vec<RemovedBy>,
    /// Wasted bytes per reason (see docs/waste-model.md).
    pub wasted_by_reason: BTreeMap<Reason, u64>,
    /// Compressed bytes of this step's waste (`null` for an uncompressed layer).
    pub wasted_pull_bytes: Option<u64>,
    /// One or two sentences on what happened and what to change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    pub findings: Vec<FindingReport>,
    pub top_paths: Vec<PathReport>,
    /// Every wasted file, with `--files`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileReport>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RemovedBy {
    pub step: usize,
    pub bytes: u64,
    pub files: u64,
    pub reasons: BTreeMap<Reason, u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FindingReport {
    /// The mistake, by its stable id (docs/json.md lists them).
    pub pattern: Pattern,
    /// For `package-cache`: which cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<PathKind>,
    pub removed_by: usize,
    pub bytes: u64,
    pub files: u64,
    /// Whose steps these are: `team`, `base`, `crossing` (a team step hid the base
    /// image's bytes) or `unknown` (no base boundary known).
    pub owner: Owner,
    /// The pattern in words.
    pub words: String,
    /// What to change, naming the steps by index and short instruction.
    pub fix: String,
    /// One sentence with both: the bytes, the steps, the pattern and the fix.
    pub advice: String,
    /// The largest file of the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// What the content says, from which the pattern is named.
    #[serde(skip)]
    pub facts: Facts,
    /// [`FindingReport::fix`] in parts, for renderers.
    #[serde(skip)]
    pub fix_words: Words,
}

impl FindingReport {
    /// A finding whose words [`Report::conclude`] will write.
    pub fn new(facts: Facts, removed_by: usize, bytes: u64, files: u64) -> FindingReport {
        FindingReport {
            pattern: Pattern::AddedThenDeleted,
            cache: match facts.place {
                Place::Cache(kind) => Some(kind),
                _ => None,
            },
            removed_by,
            bytes,
            files,
            owner: Owner::Unknown,
            words: String::new(),
            fix: String::new(),
            advice: String::new(),
            example: None,
            facts,
            fix_words: Words::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PathReport {
    /// Directories end with `/`.
    pub path: String,
    /// This row is the rest of the directory `path`: the bytes its other rows leave.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub other: bool,
    pub bytes: u64,
    pub files: u64,
    pub removed_by: Vec<usize>,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileReport {
    pub path: String,
    pub bytes: u64,
    pub reason: Reason,
    pub removed_by: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct DuplicatesReport {
    pub bytes: u64,
    pub files: u64,
    pub groups: Vec<DuplicateGroupReport>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DuplicateGroupReport {
    pub bytes_each: u64,
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RemovableReport {
    pub kind: PathKind,
    pub bytes: u64,
    pub files: u64,
    pub advice: &'static str,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LayerReport {
    pub index: usize,
    pub step: usize,
    /// The uncompressed tar's digest from the config (`rootfs.diff_ids`).
    pub diff_id: Option<String>,
    /// The stored blob's digest, when the layout names it.
    pub blob_digest: Option<String>,
    pub compression: Compression,
    /// Bytes as stored and pulled (compressed, for compressed layers).
    pub stored_bytes: u64,
    pub entries: usize,
}

/// What the pipeline knows about each layer besides the model's figures.
#[derive(Debug, Clone)]
pub struct LayerFacts {
    pub diff_id: Option<String>,
    pub blob_digest: Option<String>,
    pub compression: Compression,
    pub stored_bytes: u64,
    pub entries: usize,
}

impl Report {
    /// Assembles the report from the model's outcome, its explanation and the aligned
    /// history.
    pub fn build(
        image: ImageInfo,
        alignment: &Alignment,
        outcome: &Outcome,
        explanation: &Explanation,
        layers: &[LayerFacts],
        warnings: Vec<String>,
    ) -> Report {
        let step_of = |layer: u32| alignment.step_of_layer[layer as usize];
        let instructions: Vec<Option<String>> = alignment
            .steps
            .iter()
            .map(|s| s.created_by.as_deref().map(instruction))
            .collect();
        let compressed = |layer: usize| {
            layers
                .get(layer)
                .is_some_and(|f| f.compression != Compression::None)
        };

        let steps: Vec<StepReport> = alignment
            .steps
            .iter()
            .map(|s| {
                let figures = s.layer.and_then(|l| outcome.layers.get(l));
                let detail = s.layer.and_then(|l| explanation.layers.get(l));
                let wasted_bytes = figures.map(|f| f.wasted_bytes).unwrap_or(0);
                let findings: Vec<FindingReport> = detail
                    .map(|d| {
                        d.findings
                            .iter()
                            .map(|f| {
                                let mut r = FindingReport::new(
                                    f.facts,
                                    step_of(f.by_layer),
                                    f.bytes,
                                    f.files,
                                );
                                r.example = Some(path_string(&f.example));
                                r
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                StepReport {
                    index: s.index,
                    created_by: s.created_by.clone(),
                    instruction: instructions[s.index].clone(),
                    dockerfile_line: None,
                    dockerfile_text: None,
                    empty_layer: s.empty_layer,
                    layer: s.layer,
                    layer_digest: s.layer.and_then(|l| {
                        layers
                            .get(l)
                            .and_then(|f| f.diff_id.clone().or(f.blob_digest.clone()))
                    }),
                    bytes: figures.map(|f| f.bytes).unwrap_or(0),
                    wasted_bytes,
                    removed_by: detail
                        .map(|d| {
                            d.removed_by
                                .iter()
                                .map(|r| RemovedBy {
                                    step: step_of(r.by_layer),
                                    bytes: r.bytes,
                                    files: r.files,
                                    reasons: r.reasons.iter().copied().collect(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    wasted_by_reason: detail
                        .map(|d| d.by_reason.iter().copied().collect())
                        .unwrap_or_default(),
                    wasted_pull_bytes: match (s.layer, detail) {
                        (Some(l), Some(d)) if compressed(l) => Some(d.stored_wasted),
                        (Some(_), _) => None,
                        (None, _) => Some(0),
                    },
                    explanation: None,
                    findings,
                    top_paths: detail
                        .map(|d| {
                            d.top_paths
                                .iter()
                                .map(|p| PathReport {
                                    path: {
                                        let mut path = path_string(&p.path);
                                        if p.is_dir {
                                            path.push('/');
                                        }
                                        path
                                    },
                                    other: p.other,
                                    bytes: p.bytes,
                                    files: p.files,
                                    removed_by: p.removed_by.iter().map(|&l| step_of(l)).collect(),
                                    reasons: p.reasons.clone(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    files: detail
                        .map(|d| {
                            d.files
                                .iter()
                                .map(|f| FileReport {
                                    path: path_string(&f.path),
                                    bytes: f.bytes,
                                    reason: f.reason,
                                    removed_by: step_of(f.by_layer),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            })
            .collect();
        let layer_reports = layers
            .iter()
            .enumerate()
            .map(|(index, f)| LayerReport {
                index,
                step: alignment.step_of_layer[index],
                diff_id: f.diff_id.clone(),
                blob_digest: f.blob_digest.clone(),
                compression: f.compression,
                stored_bytes: f.stored_bytes,
                entries: f.entries,
            })
            .collect();
        let wasted_pull_bytes = steps
            .iter()
            .filter(|s| s.wasted_bytes > 0)
            .map(|s| s.wasted_pull_bytes)
            .sum::<Option<u64>>();
        let summary = Summary {
            total_bytes: outcome.total_bytes,
            final_bytes: outcome.final_bytes,
            wasted_bytes: outcome.wasted_bytes,
            efficiency: outcome.efficiency(),
            layers: layers.len(),
            steps: alignment.steps.len(),
            wasted_pull_bytes,
            duplicate_bytes: explanation.duplicates.bytes,
            duplicate_files: explanation.duplicates.files,
            removable_bytes: explanation.removable.iter().map(|r| r.bytes).sum(),
        };
        let removable: Vec<RemovableReport> = explanation
            .removable
            .iter()
            .map(|r| RemovableReport {
                kind: r.kind,
                bytes: r.bytes,
                files: r.files,
                advice: r.kind.fix(),
            })
            .collect();
        let mut report = Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::default(),
            image,
            dockerfile: None,
            dockerfile_from_scratch: false,
            summary,
            conclusion: Conclusion::default(),
            verdict: Vec::new(),
            steps,
            layers: layer_reports,
            duplicates: DuplicatesReport {
                bytes: explanation.duplicates.bytes,
                files: explanation.duplicates.files,
                groups: explanation
                    .duplicates
                    .groups
                    .iter()
                    .map(|g| DuplicateGroupReport {
                        bytes_each: g.bytes_each,
                        paths: g.paths.iter().map(|p| path_string(p)).collect(),
                    })
                    .collect(),
            },
            removable,
            thresholds: None,
            warnings,
        };
        report.conclude();
        report
    }

    /// The steps that waste bytes, most waste first, index as the tie-break: the order
    /// every renderer lists them in.
    pub fn wasting_steps(&self) -> Vec<&StepReport> {
        let mut steps: Vec<&StepReport> =
            self.steps.iter().filter(|s| s.wasted_bytes > 0).collect();
        steps.sort_by(|a, b| {
            b.wasted_bytes
                .cmp(&a.wasted_bytes)
                .then(a.index.cmp(&b.index))
        });
        steps
    }

    /// The index of the first step after the base image, when the boundary is known:
    /// from the gate's base (`--base`, `--base-layers`, a proven `--base auto`), else
    /// from the Dockerfile mapping (the base image's steps never map to a line).
    pub fn first_team_step(&self) -> Option<usize> {
        if let Some(t) = &self.thresholds {
            let proven = t.base.as_ref().is_some_and(|b| b.found != "none");
            if t.base_layers > 0 || proven {
                let last_base = self
                    .steps
                    .iter()
                    .filter(|s| s.layer.is_some_and(|l| l < t.base_layers))
                    .map(|s| s.index)
                    .max();
                return Some(last_base.map_or(0, |i| i + 1));
            }
        }
        if self.dockerfile_from_scratch {
            return Some(0);
        }
        if self.dockerfile.is_some() {
            // The first step mapped to a line: the mapping never matches a base image's
            // step, and when unsure leaves a step unmatched, so a team step may fall on
            // the base's side of this boundary, never the reverse.
            return self
                .steps
                .iter()
                .find(|s| s.dockerfile_line.is_some())
                .map(|s| s.index);
        }
        None
    }

    /// Names every finding's pattern, owner and fix from both steps, and writes the
    /// verdict. Called again whenever the base boundary or the Dockerfile becomes
    /// known, since both change whose steps are whose and how they are named.
    pub fn conclude(&mut self) {
        let first_team = self.first_team_step();
        let refs: Vec<StepRef> = self
            .steps
            .iter()
            .map(|s| StepRef {
                step: s.index,
                instruction: s.instruction.as_deref().map(advice::short_instruction),
                dockerfile_line: s.dockerfile_line,
                base: first_team.is_some_and(|f| s.index < f),
            })
            .collect();
        let commands: Vec<Commands> = self
            .steps
            .iter()
            .map(|s| {
                // The Dockerfile's line keeps the COPY/ADD flags BuildKit drops
                // (`--from`); for a RUN the history has the whole command, the line
                // only its first physical line.
                let line = s.dockerfile_text.as_deref().filter(|t| {
                    let keyword = t.split_whitespace().next().unwrap_or("");
                    keyword.eq_ignore_ascii_case("COPY") || keyword.eq_ignore_ascii_case("ADD")
                });
                Commands::of(line.or(s.instruction.as_deref()).unwrap_or(""))
            })
            .collect();
        let none = Commands::default();
        for step in &mut self.steps {
            let added = &refs[step.index];
            for f in &mut step.findings {
                let same = f.removed_by == step.index;
                let by = refs.get(f.removed_by).unwrap_or(added);
                let hider = commands.get(f.removed_by).unwrap_or(&none);
                f.pattern = Pattern::name(&f.facts, &commands[step.index], hider, same);
                f.owner = Owner::of(step.index, f.removed_by, first_team);
                f.words = advice::words(f.pattern, &f.facts, same);
                f.fix_words = advice::fix(f.pattern, &f.facts, f.owner, added, by);
                f.fix = f.fix_words.plain();
                let steps = if same {
                    format!("within step {}", step.index)
                } else {
                    format!(
                        "added by step {}, hidden by step {}",
                        step.index, f.removed_by
                    )
                };
                f.advice = format!(
                    "{}: {} {steps}. {}",
                    capitalized(&f.words),
                    advice::size_and_files(f.bytes, f.files),
                    f.fix
                );
            }
            // The largest finding explains the step, and the second too when it is a
            // real share of the waste rather than a footnote.
            step.explanation = (!step.findings.is_empty()).then(|| {
                step.findings
                    .iter()
                    .enumerate()
                    .filter(|(i, f)| *i == 0 || (*i == 1 && f.bytes * 10 >= step.wasted_bytes))
                    .map(|(_, f)| f.advice.clone())
                    .collect::<Vec<_>>()
                    .join(" ")
            });
        }
        self.conclusion = verdict::conclude(self, first_team.is_some(), &refs);
        self.verdict = self.conclusion.paragraphs();
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Report {
    /// Maps each step to its Dockerfile line (see [`crate::dockerfile`]). Steps that
    /// cannot be matched for certain keep no line, and a warning counts them.
    pub fn map_dockerfile(
        &mut self,
        path: &str,
        text: &str,
    ) -> Result<(), crate::explain::dockerfile::DockerfileError> {
        let history: Vec<(Option<&str>, bool)> = self
            .steps
            .iter()
            .map(|s| (s.created_by.as_deref(), s.empty_layer))
            .collect();
        let lines = crate::explain::dockerfile::map_steps(text, &history)?;
        let mut unmatched = 0;
        let text_lines: Vec<&str> = text.lines().collect();
        for (step, line) in self.steps.iter_mut().zip(lines) {
            step.dockerfile_line = line;
            step.dockerfile_text = line
                .and_then(|l| text_lines.get(l.wrapping_sub(1)))
                .map(|t| t.trim().to_string());
            if line.is_none() && step.created_by.is_some() {
                unmatched += 1;
            }
        }
        self.dockerfile = Some(path.to_string());
        self.dockerfile_from_scratch = crate::explain::dockerfile::builds_from_scratch(text);
        if unmatched > 0 {
            self.warnings.push(format!(
                "{unmatched} of {} steps could not be matched to a line of {path} for certain (base image steps never are)",
                self.steps.len()
            ));
        }
        self.conclude();
        Ok(())
    }
}
