//! The report model: one serialisable account of everything the analysis found, which
//! every renderer in [`crate::report`] draws. Nothing here writes output.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::explain::{Explanation, PathKind};
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
    pub summary: Summary,
    /// The answer first: what is wasted, who is responsible, what to do. Plain text,
    /// one paragraph per item.
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
    /// `added-then-deleted`, `metadata-only`, `overwritten`, `package-cache` or
    /// `package-database-churn`.
    pub pattern: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<PathKind>,
    pub removed_by: usize,
    pub bytes: u64,
    pub files: u64,
    pub advice: String,
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
        let name = |step: usize| {
            crate::explain::prose::step_name(
                step,
                instructions.get(step).and_then(|i| i.as_deref()),
            )
        };
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
                            .map(|f| FindingReport {
                                pattern: f.pattern.name(),
                                cache: match f.pattern {
                                    crate::explain::Pattern::Cache(k) => Some(k),
                                    _ => None,
                                },
                                removed_by: step_of(f.by_layer),
                                bytes: f.bytes,
                                files: f.files,
                                advice: crate::explain::prose::finding_sentence(
                                    f,
                                    s.index,
                                    &name(s.index),
                                    step_of(f.by_layer),
                                    &name(step_of(f.by_layer)),
                                ),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                // The largest finding explains the step, and the second too when it is
                // a real share of the waste rather than a footnote.
                let explanation = (!findings.is_empty()).then(|| {
                    findings
                        .iter()
                        .enumerate()
                        .filter(|(i, f)| *i == 0 || (*i == 1 && f.bytes * 10 >= wasted_bytes))
                        .map(|(_, f)| f.advice.clone())
                        .collect::<Vec<_>>()
                        .join(" ")
                });
                StepReport {
                    index: s.index,
                    created_by: s.created_by.clone(),
                    instruction: instructions[s.index].clone(),
                    dockerfile_line: None,
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
                    explanation,
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
        let verdict = verdict(&summary, &steps, &removable);
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::default(),
            image,
            dockerfile: None,
            summary,
            verdict,
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
        }
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
        for (step, line) in self.steps.iter_mut().zip(lines) {
            step.dockerfile_line = line;
            if line.is_none() && step.created_by.is_some() {
                unmatched += 1;
            }
        }
        self.dockerfile = Some(path.to_string());
        if unmatched > 0 {
            self.warnings.push(format!(
                "{unmatched} of {} steps could not be matched to a line of {path} for certain (base image steps never are)",
                self.steps.len()
            ));
        }
        Ok(())
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// The answer first: how much is wasted, the (at most three) steps responsible with
/// what to change, and what else could go.
pub(crate) fn verdict(
    summary: &Summary,
    steps: &[StepReport],
    removable: &[RemovableReport],
) -> Vec<String> {
    use crate::text::human;
    let mut out = Vec::new();
    if summary.wasted_bytes == 0 {
        out.push(format!(
            "No wasted bytes: all {} stored in the layers are visible in the final image.",
            human(summary.total_bytes)
        ));
    } else {
        let mut headline = format!(
            "{} of {} ({:.1}%) is wasted: stored in a layer and pulled with the image, but hidden in the final image.",
            human(summary.wasted_bytes),
            human(summary.total_bytes),
            percent(summary.wasted_bytes, summary.total_bytes)
        );
        match summary.wasted_pull_bytes {
            Some(pull) => headline.push_str(&format!(
                " Every pull downloads about {} of it for nothing.",
                human(pull)
            )),
            None => headline.push_str(
                " (What it costs a pull is not known here: the wasting layers are stored uncompressed.)",
            ),
        }
        out.push(headline);
        let mut wasting: Vec<&StepReport> = steps.iter().filter(|s| s.wasted_bytes > 0).collect();
        wasting.sort_by(|a, b| {
            b.wasted_bytes
                .cmp(&a.wasted_bytes)
                .then(a.index.cmp(&b.index))
        });
        for s in wasting.iter().take(3) {
            if let Some(e) = &s.explanation {
                out.push(e.clone());
            }
        }
        if wasting.len() > 3 {
            let rest: u64 = wasting[3..].iter().map(|s| s.wasted_bytes).sum();
            out.push(format!(
                "{} more steps waste {} between them; see the table.",
                wasting.len() - 3,
                human(rest)
            ));
        }
    }
    let removable_bytes: u64 = removable.iter().map(|r| r.bytes).sum();
    if removable_bytes > 0 {
        let kinds: Vec<&str> = removable.iter().map(|r| r.kind.label()).collect();
        out.push(format!(
            "Not waste, but removable: {} of {} still in the final image. {}",
            human(removable_bytes),
            kinds.join(", "),
            removable[0].advice
        ));
    }
    if summary.duplicate_bytes > 0 {
        out.push(format!(
            "Not waste either: {} of identical content is stored at more than one live path ({} extra {}).",
            human(summary.duplicate_bytes),
            summary.duplicate_files,
            if summary.duplicate_files == 1 { "copy" } else { "copies" }
        ));
    }
    out
}
