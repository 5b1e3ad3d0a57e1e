//! One NDJSON line per image (docs/fleet.md): what one `analyze` found, cut to what a
//! fleet view needs, with nothing the summary must look up elsewhere.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::explain::report::Report;

/// Findings kept per image, largest first; the per-pattern totals count all of them.
pub const TOP_FINDINGS: usize = 5;

/// A line of the NDJSON stream, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Line {
    Image(Box<ImageLine>),
    Error(ErrorLine),
    Summary(Box<super::Summary>),
}

impl Line {
    /// The image reference a line is about (none for a summary).
    pub fn reference(&self) -> Option<&str> {
        match self {
            Line::Image(i) => Some(&i.reference),
            Line::Error(e) => Some(&e.reference),
            Line::Summary(_) => None,
        }
    }
}

/// An image that could not be analysed, and why (already in words, escaped for JSON
/// by the serialiser like every other string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorLine {
    pub reference: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageLine {
    /// The image as the scan named it (`docker://HOST/REPO:TAG`, a path, …).
    pub reference: String,
    /// The manifest's digest, when the source states one.
    pub digest: Option<String>,
    pub platform: Option<String>,
    pub total_bytes: u64,
    pub final_bytes: u64,
    pub wasted_bytes: u64,
    /// `null` when a wasting layer is stored uncompressed (docs/json.md).
    pub wasted_pull_bytes: Option<u64>,
    pub steps: Vec<StepLine>,
    pub layers: Vec<LayerLine>,
    /// The largest findings, at most [`TOP_FINDINGS`].
    pub findings: Vec<FindingLine>,
    /// Every finding's bytes and count, by pattern.
    pub patterns: BTreeMap<String, PatternTotal>,
    pub gate: GateLine,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepLine {
    pub index: usize,
    pub instruction: Option<String>,
    pub layer: Option<usize>,
    pub wasted_bytes: u64,
    pub wasted_pull_bytes: Option<u64>,
}

/// One layer of the image, with the waste the image's replay gives its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerLine {
    pub diff_id: Option<String>,
    pub blob_digest: Option<String>,
    /// Bytes as stored and pulled.
    pub stored_bytes: u64,
    pub wasted_bytes: u64,
    pub wasted_pull_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingLine {
    pub pattern: String,
    /// The step whose bytes are wasted, and the step that hid them.
    pub step: usize,
    pub removed_by: usize,
    pub bytes: u64,
    /// `team`, `base`, `crossing` or `unknown` (docs/json.md).
    #[serde(default)]
    pub owner: String,
    pub fix: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatternTotal {
    pub bytes: u64,
    pub findings: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateLine {
    /// Whether any limit was crossed (false when no limit was set).
    pub crossed: bool,
    pub violations: Vec<String>,
}

impl ImageLine {
    /// The line of one analysed image. `reference` is the name the scan used.
    pub fn from_report(reference: &str, report: &Report) -> ImageLine {
        let findings = all_findings(report);
        let mut patterns: BTreeMap<String, PatternTotal> = BTreeMap::new();
        for f in &findings {
            let total = patterns.entry(f.pattern.clone()).or_default();
            total.bytes += f.bytes;
            total.findings += 1;
        }
        let mut top = findings;
        top.sort_by(|a, b| {
            b.bytes
                .cmp(&a.bytes)
                .then(a.step.cmp(&b.step))
                .then(a.pattern.cmp(&b.pattern))
        });
        top.truncate(TOP_FINDINGS);
        let violations: Vec<String> = report
            .thresholds
            .iter()
            .flat_map(|t| &t.violations)
            .map(|v| v.message.clone())
            .collect();
        ImageLine {
            reference: reference.to_string(),
            digest: report.image.manifest_digest.clone(),
            platform: report.image.platform.clone(),
            total_bytes: report.summary.total_bytes,
            final_bytes: report.summary.final_bytes,
            wasted_bytes: report.summary.wasted_bytes,
            wasted_pull_bytes: report.summary.wasted_pull_bytes,
            steps: report
                .steps
                .iter()
                .map(|s| StepLine {
                    index: s.index,
                    instruction: s.instruction.clone(),
                    layer: s.layer,
                    wasted_bytes: s.wasted_bytes,
                    wasted_pull_bytes: s.wasted_pull_bytes,
                })
                .collect(),
            layers: report
                .layers
                .iter()
                .map(|l| {
                    let steps = report.steps.iter().filter(|s| s.layer == Some(l.index));
                    let (mut wasted, mut pull) = (0u64, Some(0u64));
                    for s in steps {
                        wasted += s.wasted_bytes;
                        pull = pull.zip(s.wasted_pull_bytes).map(|(a, b)| a + b);
                    }
                    LayerLine {
                        diff_id: l.diff_id.clone(),
                        blob_digest: l.blob_digest.clone(),
                        stored_bytes: l.stored_bytes,
                        wasted_bytes: wasted,
                        wasted_pull_bytes: if wasted == 0 { Some(0) } else { pull },
                    }
                })
                .collect(),
            findings: top,
            patterns,
            gate: GateLine {
                crossed: !violations.is_empty(),
                violations,
            },
        }
    }
}

/// Every finding of the report, in step order: the one place the fleet reads the
/// report's findings (their shape is the lead's to change; `advice` becomes `fix`).
fn all_findings(report: &Report) -> Vec<FindingLine> {
    report
        .steps
        .iter()
        .flat_map(|s| {
            s.findings.iter().map(move |f| FindingLine {
                pattern: f.pattern.to_string(),
                step: s.index,
                removed_by: f.removed_by,
                bytes: f.bytes,
                owner: serde_json::to_value(f.owner)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                fix: f.fix.clone(),
            })
        })
        .collect()
}

/// Parses NDJSON lines (blank lines skipped). `name` is the file, for errors.
pub fn parse(name: &str, text: &str) -> crate::error::Result<Vec<Line>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                crate::error::Error::Usage(format!(
                    "{}:{}: not a line of layerwaste scan's NDJSON: {e}",
                    crate::text::escape(name),
                    i + 1
                ))
            })
        })
        .collect()
}
