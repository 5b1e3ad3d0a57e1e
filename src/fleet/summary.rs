//! The fleet's summary, from image lines alone (so `merge` of shards gives what one
//! run gives): totals, waste counted per image and per unique layer, the layers,
//! patterns and instructions that waste the most, and the images over the gate.
//!
//! Two ways of counting waste, because a registry and a pull pay differently:
//! - **per image** (`wasted.per_image_*`): each image's waste summed, what pulling every
//!   image once downloads for nothing;
//! - **per unique layer** (`wasted.unique_layer_*`): each layer (by diff ID) counted
//!   once, what the registry stores. A layer's bytes can be hidden in one image and
//!   visible in another (a later step of only one image deletes them), so a layer
//!   counts with the most any image wastes of it: those bytes are stored once and are
//!   waste for at least one image that pulls them. `wasted_in_every_image` is the
//!   least, the waste the layer carries into every image built on it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::lines::{ImageLine, Line};
use crate::analyze::shared::LayerReads;

/// Rows kept in each ranking.
pub const TOP: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Images named (lines), analysed or failed.
    pub images: usize,
    pub analysed: usize,
    pub failed: usize,
    /// Analysed images with distinct manifest digests (two tags of one image count once).
    pub distinct_digests: usize,
    pub total_bytes: u64,
    pub final_bytes: u64,
    pub wasted: Wasted,
    /// Layers by the waste they cause over the fleet's pulls, most first.
    pub layers: Vec<SharedLayer>,
    /// Finding patterns by bytes, most first (all of them: there are few).
    pub patterns: Vec<PatternRow>,
    /// Dockerfile instructions by the bytes their steps waste, most first.
    pub instructions: Vec<InstructionRow>,
    /// Images whose gate was crossed.
    pub over_gate: Vec<GateRow>,
    /// Images that could not be analysed.
    pub errors: Vec<super::lines::ErrorLine>,
    /// How this run got its layers (summed over shards by `merge`).
    pub reads: LayerReads,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wasted {
    pub per_image_bytes: u64,
    /// Compressed bytes, over the images whose wasting layers are compressed.
    pub per_image_pull_bytes: u64,
    /// Images left out of `per_image_pull_bytes` (a wasting layer stored uncompressed).
    pub pull_unknown_images: usize,
    pub unique_layers: usize,
    pub unique_layer_bytes: u64,
    /// Compressed (as stored) bytes of `unique_layer_bytes`, where known.
    pub unique_layer_stored_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedLayer {
    /// The diff ID, or the blob digest when the config gives none.
    pub digest: String,
    pub stored_bytes: u64,
    /// The most any image wastes of this layer, and the least.
    pub wasted_bytes: u64,
    pub wasted_in_every_image: u64,
    /// The layer's waste summed over the images that carry it.
    pub fleet_wasted_bytes: u64,
    pub image_count: usize,
    /// The images that carry it, sorted (at most [`TOP`] named).
    pub images: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatternRow {
    pub pattern: String,
    pub bytes: u64,
    pub findings: u64,
    pub images: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstructionRow {
    pub instruction: String,
    pub wasted_bytes: u64,
    pub steps: usize,
    pub images: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateRow {
    pub reference: String,
    pub violations: Vec<String>,
}

#[derive(Default)]
struct LayerAcc {
    stored_bytes: u64,
    max: u64,
    min: u64,
    stored_wasted: Option<u64>,
    fleet: u64,
    images: BTreeSet<String>,
}

/// Which of two lines of one reference a summary keeps: the larger rank. Image lines
/// outrank error lines; among each, a total order on their content, so the choice
/// never depends on the order the lines came in.
fn rank(line: &Line) -> (bool, String, u64, String) {
    match line {
        Line::Image(i) => (
            true,
            i.digest.clone().unwrap_or_default(),
            i.wasted_bytes,
            serde_json::to_string(i).unwrap_or_default(),
        ),
        other => (
            false,
            String::new(),
            0,
            serde_json::to_string(other).unwrap_or_default(),
        ),
    }
}

impl Summary {
    /// The summary of `lines` (image and error lines; summary lines add only their
    /// `reads`). The same lines in any order give the same summary: a reference seen
    /// twice counts once, an image line beating an error line (a retry that worked),
    /// and of two image lines the one with the larger digest, then the larger waste.
    pub fn of(lines: &[Line], reads: LayerReads) -> Summary {
        let mut by_reference: BTreeMap<&str, &Line> = BTreeMap::new();
        let mut reads = reads;
        for line in lines {
            match line {
                Line::Summary(s) => reads.add(&s.reads),
                other => {
                    if let Some(r) = other.reference() {
                        let keep = match by_reference.get(r) {
                            None => true,
                            Some(seen) => rank(other) > rank(seen),
                        };
                        if keep {
                            by_reference.insert(r, other);
                        }
                    }
                }
            }
        }
        let images: Vec<&ImageLine> = by_reference
            .values()
            .filter_map(|l| match l {
                Line::Image(i) => Some(i.as_ref()),
                _ => None,
            })
            .collect();
        let errors = by_reference
            .values()
            .filter_map(|l| match l {
                Line::Error(e) => Some(e.clone()),
                _ => None,
            })
            .collect::<Vec<_>>();

        let mut wasted = Wasted::default();
        let mut layers: BTreeMap<String, LayerAcc> = BTreeMap::new();
        let mut patterns: BTreeMap<&str, (u64, u64, usize)> = BTreeMap::new();
        let mut instructions: BTreeMap<&str, (u64, usize, BTreeSet<&str>)> = BTreeMap::new();
        for image in &images {
            wasted.per_image_bytes += image.wasted_bytes;
            match image.wasted_pull_bytes {
                Some(b) => wasted.per_image_pull_bytes += b,
                None => wasted.pull_unknown_images += 1,
            }
            for (i, layer) in image.layers.iter().enumerate() {
                // A layer with no digest at all is this image's own.
                let key = layer
                    .diff_id
                    .clone()
                    .or(layer.blob_digest.clone())
                    .unwrap_or_else(|| format!("{}#{i}", image.reference));
                let acc = layers.entry(key).or_insert_with(|| LayerAcc {
                    min: u64::MAX,
                    stored_wasted: Some(0),
                    ..Default::default()
                });
                acc.stored_bytes = acc.stored_bytes.max(layer.stored_bytes);
                if layer.wasted_bytes >= acc.max {
                    acc.stored_wasted = if layer.wasted_bytes > acc.max {
                        layer.wasted_pull_bytes
                    } else {
                        acc.stored_wasted.max(layer.wasted_pull_bytes)
                    };
                    acc.max = layer.wasted_bytes;
                }
                acc.min = acc.min.min(layer.wasted_bytes);
                acc.fleet += layer.wasted_bytes;
                acc.images.insert(image.reference.clone());
            }
            for (name, total) in &image.patterns {
                let row = patterns.entry(name).or_default();
                row.0 += total.bytes;
                row.1 += total.findings;
                row.2 += 1;
            }
            for step in image.steps.iter().filter(|s| s.wasted_bytes > 0) {
                let text = step.instruction.as_deref().unwrap_or("(no history)");
                let row = instructions.entry(text).or_default();
                row.0 += step.wasted_bytes;
                row.1 += 1;
                row.2.insert(&image.reference);
            }
        }
        wasted.unique_layers = layers.len();
        for acc in layers.values() {
            wasted.unique_layer_bytes += acc.max;
            wasted.unique_layer_stored_bytes += acc.stored_wasted.unwrap_or(0);
        }

        let mut layer_rows: Vec<SharedLayer> = layers
            .into_iter()
            .filter(|(_, a)| a.max > 0)
            .map(|(digest, a)| SharedLayer {
                digest,
                stored_bytes: a.stored_bytes,
                wasted_bytes: a.max,
                wasted_in_every_image: a.min,
                fleet_wasted_bytes: a.fleet,
                image_count: a.images.len(),
                images: a.images.into_iter().take(TOP).collect(),
            })
            .collect();
        layer_rows.sort_by(|a, b| {
            b.fleet_wasted_bytes
                .cmp(&a.fleet_wasted_bytes)
                .then(a.digest.cmp(&b.digest))
        });
        layer_rows.truncate(TOP);
        let mut pattern_rows: Vec<PatternRow> = patterns
            .into_iter()
            .map(|(p, (bytes, findings, images))| PatternRow {
                pattern: p.to_string(),
                bytes,
                findings,
                images,
            })
            .collect();
        pattern_rows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.pattern.cmp(&b.pattern)));
        let mut instruction_rows: Vec<InstructionRow> = instructions
            .into_iter()
            .map(|(text, (bytes, steps, images))| InstructionRow {
                instruction: text.to_string(),
                wasted_bytes: bytes,
                steps,
                images: images.len(),
            })
            .collect();
        instruction_rows.sort_by(|a, b| {
            b.wasted_bytes
                .cmp(&a.wasted_bytes)
                .then(a.instruction.cmp(&b.instruction))
        });
        instruction_rows.truncate(TOP);

        Summary {
            images: by_reference.len(),
            analysed: images.len(),
            failed: errors.len(),
            distinct_digests: images
                .iter()
                .map(|i| i.digest.as_deref().unwrap_or(&i.reference))
                .collect::<BTreeSet<_>>()
                .len(),
            total_bytes: images.iter().map(|i| i.total_bytes).sum(),
            final_bytes: images.iter().map(|i| i.final_bytes).sum(),
            wasted,
            layers: layer_rows,
            patterns: pattern_rows,
            instructions: instruction_rows,
            over_gate: images
                .iter()
                .filter(|i| i.gate.crossed)
                .map(|i| GateRow {
                    reference: i.reference.clone(),
                    violations: i.gate.violations.clone(),
                })
                .collect(),
            errors,
            reads,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::lines::{GateLine, LayerLine, PatternTotal, StepLine};

    fn image(reference: &str, layers: &[(&str, u64)]) -> Line {
        Line::Image(Box::new(ImageLine {
            reference: reference.into(),
            digest: Some(format!("sha256:{reference}")),
            platform: None,
            total_bytes: 100,
            final_bytes: 100 - layers.iter().map(|l| l.1).sum::<u64>(),
            wasted_bytes: layers.iter().map(|l| l.1).sum(),
            wasted_pull_bytes: Some(layers.iter().map(|l| l.1 / 2).sum()),
            steps: layers
                .iter()
                .enumerate()
                .map(|(i, l)| StepLine {
                    index: i,
                    instruction: Some(format!("RUN step {i}")),
                    layer: Some(i),
                    wasted_bytes: l.1,
                    wasted_pull_bytes: Some(l.1 / 2),
                })
                .collect(),
            layers: layers
                .iter()
                .map(|l| LayerLine {
                    diff_id: Some(l.0.into()),
                    blob_digest: None,
                    stored_bytes: 50,
                    wasted_bytes: l.1,
                    wasted_pull_bytes: Some(l.1 / 2),
                })
                .collect(),
            findings: vec![],
            patterns: [(
                "overwritten".to_string(),
                PatternTotal {
                    bytes: 7,
                    findings: 1,
                },
            )]
            .into(),
            gate: GateLine::default(),
        }))
    }

    #[test]
    fn a_retry_that_worked_beats_the_error_whatever_the_order() {
        let error = Line::Error(crate::fleet::lines::ErrorLine {
            reference: "a".into(),
            error: "timed out".into(),
        });
        let ok = image("a", &[("sha256:l1", 10)]);
        let one = Summary::of(&[error.clone(), ok.clone()], LayerReads::default());
        let other = Summary::of(&[ok, error], LayerReads::default());
        assert_eq!(one.failed, 0);
        assert_eq!(
            serde_json::to_value(&one).unwrap(),
            serde_json::to_value(&other).unwrap()
        );
    }

    #[test]
    fn unique_layers_count_once_and_images_each_time() {
        let lines = vec![
            image("b", &[("base", 10), ("b-own", 3)]),
            image("a", &[("base", 10), ("a-own", 0)]),
            image("c", &[("base", 4)]),
        ];
        let s = Summary::of(&lines, LayerReads::default());
        assert_eq!(s.wasted.per_image_bytes, 27);
        assert_eq!(s.wasted.unique_layers, 3);
        assert_eq!(s.wasted.unique_layer_bytes, 13);
        assert_eq!(s.wasted.unique_layer_stored_bytes, 6);
        let base = &s.layers[0];
        assert_eq!(
            (
                base.digest.as_str(),
                base.wasted_bytes,
                base.wasted_in_every_image
            ),
            ("base", 10, 4)
        );
        assert_eq!((base.fleet_wasted_bytes, base.image_count), (24, 3));
        assert_eq!(s.patterns[0].images, 3);
        assert_eq!(s.instructions[0].instruction, "RUN step 0");
        let mut reversed = lines.clone();
        reversed.reverse();
        assert_eq!(Summary::of(&reversed, LayerReads::default()), s);
    }
}
