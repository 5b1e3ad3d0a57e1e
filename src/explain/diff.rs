//! `layerwaste diff OLD NEW`: what a change to a Dockerfile did to the waste, say
//! main's build against a pull request's.
//!
//! Steps are matched by their instruction text, in order (a longest common
//! subsequence), never by position or similarity: a step whose text changed is shown as
//! removed and added, not guessed to be "the same step, edited".

use serde::Serialize;

use crate::error::{Error, Result};
use crate::explain::report::{Report, StepReport};
use crate::text::human;

#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub schema_version: u32,
    pub old: Side,
    pub new: Side,
    pub delta: Delta,
    /// Wasted bytes of added steps, plus increases of matched steps.
    pub introduced_waste: u64,
    /// Wasted bytes of removed steps, plus decreases of matched steps.
    pub removed_waste: u64,
    pub steps: Vec<StepChange>,
    /// `--fail-on-increase`: the gate on the wasted delta.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<IncreaseGate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub source: String,
    pub total_bytes: u64,
    pub final_bytes: u64,
    pub wasted_bytes: u64,
    pub efficiency: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Delta {
    pub total_bytes: i64,
    pub final_bytes: i64,
    pub wasted_bytes: i64,
    pub efficiency: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Same instruction, same figures.
    Same,
    /// Same instruction, different bytes or waste.
    Changed,
    Added,
    Removed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Same => "same",
            Status::Changed => "changed",
            Status::Added => "added",
            Status::Removed => "removed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepChange {
    pub status: Status,
    pub instruction: Option<String>,
    pub old_step: Option<usize>,
    pub new_step: Option<usize>,
    pub old_wasted_bytes: u64,
    pub new_wasted_bytes: u64,
    pub wasted_delta: i64,
    pub old_bytes: u64,
    pub new_bytes: u64,
}

impl StepChange {
    /// The waste a reader should see for this step: the old one for a removed step,
    /// the new one otherwise.
    pub fn shown_wasted(&self) -> u64 {
        if self.status == Status::Removed {
            self.old_wasted_bytes
        } else {
            self.new_wasted_bytes
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct IncreaseGate {
    /// The wasted delta allowed, in bytes (inclusive).
    pub max_increase: u64,
    pub passed: bool,
    pub message: String,
}

fn key(step: &StepReport) -> String {
    match (&step.instruction, step.layer) {
        (Some(i), _) => i.clone(),
        (None, Some(layer)) => format!("(layer {layer})"),
        (None, None) => String::new(),
    }
}

fn side(r: &Report) -> Side {
    Side {
        source: r.image.source.clone(),
        total_bytes: r.summary.total_bytes,
        final_bytes: r.summary.final_bytes,
        wasted_bytes: r.summary.wasted_bytes,
        efficiency: r.summary.efficiency,
    }
}

fn signed(new: u64, old: u64) -> i64 {
    (i128::from(new) - i128::from(old)).clamp(i64::MIN.into(), i64::MAX.into()) as i64
}

/// The most pairs of differing steps the exact matching weighs: 2^24 cells of 4 bytes
/// (64 MiB). Steps the two histories share at their start and end are matched first
/// and cost nothing, so only two histories that differ in thousands of steps each
/// come near it.
pub const MAX_DIFFERING_PAIRS: u64 = 1 << 24;

/// Matches the steps of two reports by instruction text (longest common subsequence),
/// in order.
fn match_steps(
    old: &[StepReport],
    new: &[StepReport],
) -> Result<Vec<(Option<usize>, Option<usize>)>> {
    let a: Vec<String> = old.iter().map(key).collect();
    let b: Vec<String> = new.iter().map(key).collect();
    match_keys(&a, &b)
}

/// The matching of [`match_steps`] on plain keys. Memory is linear in the histories'
/// lengths plus the table of the differing middle, which [`MAX_DIFFERING_PAIRS`]
/// bounds.
fn match_keys<K: PartialEq>(a: &[K], b: &[K]) -> Result<Vec<(Option<usize>, Option<usize>)>> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (mid_a, mid_b) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let (n, m) = (mid_a.len(), mid_b.len());
    let cells = (n as u64 + 1).saturating_mul(m as u64 + 1);
    if cells > MAX_DIFFERING_PAIRS {
        return Err(Error::Limit {
            source_name: "diff".into(),
            what: format!(
                "comparing the {n} and {m} steps in which the two histories differ ({cells} pairs)"
            ),
            limit: MAX_DIFFERING_PAIRS,
            hint: "steps shared at the start and end of both histories are not counted",
        });
    }
    let mut out = Vec::with_capacity(a.len().max(b.len()) + n.min(m));
    out.extend((0..prefix).map(|i| (Some(i), Some(i))));
    // lcs[i * (m + 1) + j]: LCS length of mid_a[i..] and mid_b[j..].
    let width = m + 1;
    let mut lcs = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * width + j] = if mid_a[i] == mid_b[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && mid_a[i] == mid_b[j] {
            out.push((Some(prefix + i), Some(prefix + j)));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i * width + j + 1] >= lcs[(i + 1) * width + j]) {
            out.push((None, Some(prefix + j)));
            j += 1;
        } else {
            out.push((Some(prefix + i), None));
            i += 1;
        }
    }
    let (tail_a, tail_b) = (a.len() - suffix, b.len() - suffix);
    out.extend((0..suffix).map(|k| (Some(tail_a + k), Some(tail_b + k))));
    Ok(out)
}

/// Compares two analyses. `max_increase` is `--fail-on-increase`'s allowance.
pub fn compare(old: &Report, new: &Report, max_increase: Option<u64>) -> Result<DiffReport> {
    let mut steps = Vec::new();
    let (mut introduced, mut removed) = (0u64, 0u64);
    for (o, n) in match_steps(&old.steps, &new.steps)? {
        let os = o.map(|i| &old.steps[i]);
        let ns = n.map(|i| &new.steps[i]);
        let (ow, nw) = (
            os.map_or(0, |s| s.wasted_bytes),
            ns.map_or(0, |s| s.wasted_bytes),
        );
        let (ob, nb) = (os.map_or(0, |s| s.bytes), ns.map_or(0, |s| s.bytes));
        let status = match (os, ns) {
            (Some(_), Some(_)) if ow == nw && ob == nb => Status::Same,
            (Some(_), Some(_)) => Status::Changed,
            (None, _) => Status::Added,
            (_, None) => Status::Removed,
        };
        introduced += nw.saturating_sub(ow);
        removed += ow.saturating_sub(nw);
        steps.push(StepChange {
            status,
            instruction: ns.or(os).and_then(|s| s.instruction.clone()),
            old_step: os.map(|s| s.index),
            new_step: ns.map(|s| s.index),
            old_wasted_bytes: ow,
            new_wasted_bytes: nw,
            wasted_delta: signed(nw, ow),
            old_bytes: ob,
            new_bytes: nb,
        });
    }
    let delta = Delta {
        total_bytes: signed(new.summary.total_bytes, old.summary.total_bytes),
        final_bytes: signed(new.summary.final_bytes, old.summary.final_bytes),
        wasted_bytes: signed(new.summary.wasted_bytes, old.summary.wasted_bytes),
        efficiency: new.summary.efficiency - old.summary.efficiency,
    };
    let gate = max_increase.map(|max| {
        let passed = delta.wasted_bytes <= 0 || (delta.wasted_bytes as u64) <= max;
        let message = if passed {
            format!(
                "wasted bytes changed by {} (allowed increase: {max} B)",
                delta.wasted_bytes
            )
        } else {
            format!(
                "wasted bytes grew by {} ({} B), more than --fail-on-increase {} ({max} B)",
                human(delta.wasted_bytes as u64),
                delta.wasted_bytes,
                human(max)
            )
        };
        IncreaseGate {
            max_increase: max,
            passed,
            message,
        }
    });
    Ok(DiffReport {
        schema_version: crate::explain::report::SCHEMA_VERSION,
        old: side(old),
        new: side(new),
        delta,
        introduced_waste: introduced,
        removed_waste: removed,
        steps,
        gate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(index: usize, instruction: &str, bytes: u64, wasted: u64) -> StepReport {
        StepReport {
            index,
            created_by: Some(instruction.into()),
            instruction: Some(instruction.into()),
            empty_layer: false,
            layer: Some(index),
            layer_digest: None,
            dockerfile_line: None,
            dockerfile_text: None,
            bytes,
            wasted_bytes: wasted,
            removed_by: vec![],
            wasted_by_reason: Default::default(),
            wasted_pull_bytes: None,
            explanation: None,
            findings: vec![],
            top_paths: vec![],
            files: vec![],
        }
    }

    #[test]
    fn matches_steps_by_text_in_order() {
        let old = [
            step(0, "ADD x", 1, 0),
            step(1, "RUN a", 5, 5),
            step(2, "RUN b", 1, 0),
            step(3, "CMD", 0, 0),
        ];
        let new = [
            step(0, "ADD x", 1, 0),
            step(1, "RUN a && b", 2, 0),
            step(2, "CMD", 0, 0),
        ];
        let pairs = match_steps(&old, &new).unwrap();
        assert_eq!(
            pairs,
            vec![
                (Some(0), Some(0)),
                (None, Some(1)),
                (Some(1), None),
                (Some(2), None),
                (Some(3), Some(2))
            ]
        );
    }

    #[test]
    fn same_text_with_new_figures_is_changed() {
        let old = [step(0, "RUN a", 5, 5)];
        let new = [step(0, "RUN a", 9, 7)];
        let m = match_steps(&old, &new).unwrap();
        assert_eq!(m, vec![(Some(0), Some(0))]);
    }

    /// A million-step history against itself with one step changed: the shared start
    /// and end are matched without a table, so memory stays linear.
    #[test]
    fn a_million_steps_match_in_linear_memory() {
        let a: Vec<u32> = (0..1_000_000).collect();
        let mut b = a.clone();
        b[500_000] = u32::MAX;
        let m = match_keys(&a, &b).unwrap();
        assert_eq!(m.len(), 1_000_001);
        assert_eq!(m[499_999], (Some(499_999), Some(499_999)));
        assert!(m.contains(&(Some(500_000), None)));
        assert!(m.contains(&(None, Some(500_000))));
        assert_eq!(m[1_000_000], (Some(999_999), Some(999_999)));
    }

    /// Two long histories that share nothing: a clear error that names the bound,
    /// never a 4 TB table.
    #[test]
    fn histories_that_differ_everywhere_stop_at_the_documented_bound() {
        let a: Vec<u32> = (0..1_000_000).collect();
        let b: Vec<u32> = (1_000_000..2_000_000).collect();
        let err = match_keys(&a, &b).unwrap_err().to_string();
        assert!(
            err.contains(
                "comparing the 1000000 and 1000000 steps in which the two histories differ"
            ),
            "{err}"
        );
        assert!(
            err.contains(&format!("limit of {MAX_DIFFERING_PAIRS}")),
            "{err}"
        );
        // Just under the bound, the exact matching runs.
        let a: Vec<u32> = (0..4095).collect();
        let b: Vec<u32> = (0..4095).rev().collect();
        assert_eq!(match_keys(&a, &b).unwrap().len(), 4095 * 2 - 1);
    }
}
