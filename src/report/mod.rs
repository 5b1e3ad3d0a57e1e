//! The report: one serialisable model of everything the analysis found, and renderers
//! that turn it into a table, JSON, or other formats, each writing to any `Write`.

pub mod json;
pub mod table;

use serde::Serialize;

use crate::model::steps::{instruction, Alignment};
use crate::model::Outcome;
use crate::source::Format;
use crate::walk::Compression;

/// Bumped whenever a field changes meaning or disappears. Adding fields does not bump it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub image: ImageInfo,
    pub summary: Summary,
    pub steps: Vec<StepReport>,
    pub layers: Vec<LayerReport>,
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
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StepReport {
    pub index: usize,
    pub created_by: Option<String>,
    /// `created_by` as the Dockerfile instruction, without builder noise.
    pub instruction: Option<String>,
    pub empty_layer: bool,
    pub layer: Option<usize>,
    pub layer_digest: Option<String>,
    pub bytes: u64,
    pub wasted_bytes: u64,
    pub removed_by: Vec<RemovedBy>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RemovedBy {
    pub step: usize,
    pub bytes: u64,
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
    /// Assembles the report from the model's outcome and the aligned history.
    pub fn build(
        image: ImageInfo,
        alignment: &Alignment,
        outcome: &Outcome,
        layers: &[LayerFacts],
        warnings: Vec<String>,
    ) -> Report {
        let steps = alignment
            .steps
            .iter()
            .map(|s| {
                let figures = s.layer.and_then(|l| outcome.layers.get(l));
                StepReport {
                    index: s.index,
                    created_by: s.created_by.clone(),
                    instruction: s.created_by.as_deref().map(instruction),
                    empty_layer: s.empty_layer,
                    layer: s.layer,
                    layer_digest: s.layer.and_then(|l| {
                        layers
                            .get(l)
                            .and_then(|f| f.diff_id.clone().or(f.blob_digest.clone()))
                    }),
                    bytes: figures.map(|f| f.bytes).unwrap_or(0),
                    wasted_bytes: figures.map(|f| f.wasted_bytes).unwrap_or(0),
                    removed_by: figures
                        .map(|f| {
                            f.removed_by
                                .iter()
                                .map(|&(by, bytes)| RemovedBy {
                                    step: alignment.step_of_layer[by as usize],
                                    bytes,
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
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::default(),
            image,
            summary: Summary {
                total_bytes: outcome.total_bytes,
                final_bytes: outcome.final_bytes,
                wasted_bytes: outcome.wasted_bytes,
                efficiency: outcome.efficiency(),
                layers: layers.len(),
                steps: alignment.steps.len(),
            },
            steps,
            layers: layer_reports,
            warnings,
        }
    }
}

/// A way to write a report. Every format implements it, so the binary picks one and
/// never branches on the format again.
pub trait Render {
    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}
