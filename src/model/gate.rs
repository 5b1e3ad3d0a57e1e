//! The CI gate: thresholds on the waste, counted over the team's own steps.
//!
//! Every limit is *inclusive*: a figure equal to its limit passes, and the build fails
//! only when a figure goes past it (`wasted > max-wasted`, `efficiency < min-efficiency`).
//! Waste that the base image brings, and waste in paths the user chose to ignore, is
//! reported but never counted here.

use globset::{Candidate, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::model::tree::ContentId;
use crate::model::Replay;

/// The four thresholds a run is held to; `None` means no limit. This is the one
/// declaration: the flags, the config files and the report all carry this struct.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Thresholds {
    /// Most wasted bytes allowed (over the counted steps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_wasted: Option<u64>,
    /// Most wasted bytes allowed, in percent (0–100) of the image's total bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_wasted_percent: Option<f64>,
    /// Least efficiency allowed (0–1), where the gate's efficiency is
    /// `1 - counted wasted / total`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_efficiency: Option<f64>,
    /// Most wasted bytes allowed for any single counted step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_step_wasted: Option<u64>,
}

impl Thresholds {
    pub fn is_empty(&self) -> bool {
        *self == Thresholds::default()
    }

    /// Each threshold from `self`, or from `fallback` where `self` has none (flag >
    /// file > default).
    pub fn or(&self, fallback: &Thresholds) -> Thresholds {
        Thresholds {
            max_wasted: self.max_wasted.or(fallback.max_wasted),
            max_wasted_percent: self.max_wasted_percent.or(fallback.max_wasted_percent),
            min_efficiency: self.min_efficiency.or(fallback.min_efficiency),
            max_step_wasted: self.max_step_wasted.or(fallback.max_step_wasted),
        }
    }
}

/// Which waste the gate counts.
pub struct Scope<'a> {
    /// Layers below this index belong to the base image: shown, never counted.
    pub base_layers: usize,
    /// Paths left out of the gate (`--ignore`).
    pub ignore: &'a dyn Fn(&[u8]) -> bool,
}

/// The gate's figures and verdict, as the report carries them (`thresholds` in the
/// JSON, with the thresholds themselves under `limits`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateVerdict {
    pub limits: Thresholds,
    /// Layers counted as the base image's.
    pub base_layers: usize,
    /// Wasted bytes the gate counted: outside the base, not ignored.
    pub counted_wasted_bytes: u64,
    /// Wasted bytes left out because of `--ignore`.
    pub ignored_wasted_bytes: u64,
    /// Wasted bytes the base image brings.
    pub base_wasted_bytes: u64,
    pub counted_efficiency: f64,
    pub violations: Vec<Violation>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// `max-wasted`, `max-wasted-percent`, `min-efficiency` or `max-step-wasted`.
    pub rule: &'static str,
    /// The step that crossed `max-step-wasted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    pub limit: f64,
    pub actual: f64,
    pub message: String,
}

impl GateVerdict {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Counts the waste in scope and checks it against the limits. `step_of_layer` maps
/// layers to history steps for the messages.
pub fn evaluate(
    replay: &Replay,
    scope: &Scope<'_>,
    limits: &Thresholds,
    step_of_layer: &[usize],
) -> GateVerdict {
    let mut counted = 0u64;
    let mut ignored = 0u64;
    let mut base = 0u64;
    let mut per_layer = vec![0u64; replay.layers as usize];
    let mut total = 0u64;
    for (id, c) in replay.contents.iter().enumerate() {
        total += c.bytes;
        if c.hidden.is_none() || c.bytes == 0 {
            continue;
        }
        if (c.layer as usize) < scope.base_layers {
            base += c.bytes;
        } else if (scope.ignore)(&path_of(replay, id as ContentId)) {
            ignored += c.bytes;
        } else {
            counted += c.bytes;
            per_layer[c.layer as usize] += c.bytes;
        }
    }
    let efficiency = if total == 0 {
        1.0
    } else {
        1.0 - counted as f64 / total as f64
    };
    let percent = if total == 0 {
        0.0
    } else {
        counted as f64 * 100.0 / total as f64
    };
    let human = crate::text::human;
    let mut violations = Vec::new();
    if let Some(max) = limits.max_wasted {
        if counted > max {
            violations.push(Violation {
                rule: "max-wasted",
                step: None,
                limit: max as f64,
                actual: counted as f64,
                message: format!(
                    "wasted {} ({counted} B) is more than --max-wasted {} ({max} B)",
                    human(counted),
                    human(max)
                ),
            });
        }
    }
    if let Some(max) = limits.max_wasted_percent {
        if percent > max {
            violations.push(Violation {
                rule: "max-wasted-percent",
                step: None,
                limit: max,
                actual: percent,
                message: format!(
                    "wasted {percent:.2}% of the image is more than --max-wasted-percent {max}%"
                ),
            });
        }
    }
    if let Some(min) = limits.min_efficiency {
        if efficiency < min {
            violations.push(Violation {
                rule: "min-efficiency",
                step: None,
                limit: min,
                actual: efficiency,
                message: format!("efficiency {efficiency:.4} is less than --min-efficiency {min}"),
            });
        }
    }
    if let Some(max) = limits.max_step_wasted {
        for (layer, &wasted) in per_layer.iter().enumerate() {
            if wasted > max {
                let step = step_of_layer.get(layer).copied().unwrap_or(layer);
                violations.push(Violation {
                    rule: "max-step-wasted",
                    step: Some(step),
                    limit: max as f64,
                    actual: wasted as f64,
                    message: format!(
                        "step {step} wastes {} ({wasted} B), more than --max-step-wasted {} ({max} B)",
                        human(wasted),
                        human(max)
                    ),
                });
            }
        }
    }
    GateVerdict {
        limits: limits.clone(),
        base_layers: scope.base_layers,
        counted_wasted_bytes: counted,
        ignored_wasted_bytes: ignored,
        base_wasted_bytes: base,
        counted_efficiency: efficiency,
        violations,
    }
}

fn path_of(replay: &Replay, id: ContentId) -> Vec<u8> {
    replay.tree.path_of(replay.contents[id as usize].node)
}

/// How many leading layers of `image` are the base image's: the length of the common
/// prefix of their diff IDs. `None` when the base's layers are not all a prefix, i.e.
/// the image is not built on that base.
pub fn base_layer_count(image_diff_ids: &[String], base_diff_ids: &[String]) -> Option<usize> {
    (base_diff_ids.len() <= image_diff_ids.len()
        && image_diff_ids
            .iter()
            .zip(base_diff_ids)
            .all(|(a, b)| a == b))
    .then_some(base_diff_ids.len())
}

/// Paths left out of the gate (`--ignore`, repeatable; `ignore` in the file).
///
/// Globs match image paths as the waste model names them: no leading `/`. A pattern
/// may be written with a leading `/` or `./` all the same. `*`, `?` and `[…]` stay
/// within one path component; `**` crosses them. A pattern that matches a directory
/// also covers everything under it, so `var/cache/apt` and `var/cache/apt/**` leave out
/// the same files. Matching is case-sensitive, as Linux paths are.
#[derive(Debug, Clone)]
pub struct IgnoreSet {
    set: GlobSet,
    patterns: Vec<String>,
}

impl IgnoreSet {
    pub fn new(patterns: &[String]) -> Result<IgnoreSet, String> {
        let mut builder = GlobSetBuilder::new();
        for raw in patterns {
            let pattern = normalize_pattern(raw);
            if pattern.is_empty() {
                return Err(format!("ignore glob {raw:?} names no path"));
            }
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("ignore glob {raw:?}: {}", e.kind()))?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| format!("ignore globs: {e}"))?;
        Ok(IgnoreSet {
            set,
            patterns: patterns.to_vec(),
        })
    }

    /// The patterns as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `path` (normalised, no leading `/`) or a directory above it matches.
    pub fn is_match(&self, path: &[u8]) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let path = path.strip_prefix(b"/").unwrap_or(path);
        let ancestors = path
            .iter()
            .enumerate()
            .filter(|&(_, b)| *b == b'/')
            .map(|(i, _)| &path[..i]);
        std::iter::once(path)
            .chain(ancestors)
            .any(|p| !p.is_empty() && self.set.is_match_candidate(&Candidate::from_bytes(p)))
    }
}

fn normalize_pattern(raw: &str) -> &str {
    let mut p = raw.trim();
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    p.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walk::{LayerIndex, Spec};

    /// Layer 0 (base) wastes 100 in `base/x`; layer 1 wastes 1000 in `app/big` and 10
    /// in `var/lib/dpkg/status`; layer 2 hides them all. Total 100+1000+10+310 = 1420.
    fn replay() -> Replay {
        let mut layers = vec![
            LayerIndex::default(),
            LayerIndex::default(),
            LayerIndex::default(),
        ];
        layers[0].push(
            "base/x",
            Spec::File {
                bytes: 100,
                hash: 1,
            },
        );
        layers[0].push("base/.wh.nothing", Spec::Whiteout);
        layers[1].push("base/.wh.x", Spec::Whiteout);
        layers[1].push(
            "app/big",
            Spec::File {
                bytes: 1000,
                hash: 2,
            },
        );
        layers[1].push("var/lib/dpkg/status", Spec::File { bytes: 10, hash: 3 });
        layers[2].push("app/.wh.big", Spec::Whiteout);
        layers[2].push(
            "var/lib/dpkg/status",
            Spec::File {
                bytes: 310,
                hash: 4,
            },
        );
        let mut r = Replay::new();
        for l in &layers {
            r.apply(l);
        }
        r
    }

    fn run(limits: Thresholds, base_layers: usize, ignore_dpkg: bool) -> GateVerdict {
        let ignore = move |p: &[u8]| ignore_dpkg && p.starts_with(b"var/lib/dpkg/");
        let scope = Scope {
            base_layers,
            ignore: &ignore,
        };
        evaluate(&replay(), &scope, &limits, &[0, 1, 2])
    }

    fn rules(t: &GateVerdict) -> Vec<&'static str> {
        t.violations.iter().map(|v| v.rule).collect()
    }

    #[test]
    fn max_wasted_is_inclusive() {
        let at = run(
            Thresholds {
                max_wasted: Some(1110),
                ..Default::default()
            },
            0,
            false,
        );
        assert_eq!(at.counted_wasted_bytes, 1110);
        assert!(at.passed());
        let below = run(
            Thresholds {
                max_wasted: Some(1109),
                ..Default::default()
            },
            0,
            false,
        );
        assert_eq!(rules(&below), vec!["max-wasted"]);
        assert_eq!(
            below.violations[0].message,
            "wasted 1.1 kB (1110 B) is more than --max-wasted 1.1 kB (1109 B)"
        );
    }

    #[test]
    fn base_layers_and_ignored_paths_are_shown_but_not_counted() {
        let t = run(
            Thresholds {
                max_wasted: Some(1000),
                ..Default::default()
            },
            1,
            true,
        );
        assert_eq!(
            (
                t.counted_wasted_bytes,
                t.base_wasted_bytes,
                t.ignored_wasted_bytes
            ),
            (1000, 100, 10)
        );
        assert!(t.passed());
    }

    #[test]
    fn percent_and_efficiency_boundaries() {
        // counted 1110 of 1420 = 78.169…%; efficiency 0.21830…
        let pct = 1110.0 * 100.0 / 1420.0;
        assert!(run(
            Thresholds {
                max_wasted_percent: Some(pct),
                ..Default::default()
            },
            0,
            false
        )
        .passed());
        assert_eq!(
            rules(&run(
                Thresholds {
                    max_wasted_percent: Some(78.0),
                    ..Default::default()
                },
                0,
                false
            )),
            vec!["max-wasted-percent"]
        );
        let eff = 1.0 - 1110.0 / 1420.0;
        assert!(run(
            Thresholds {
                min_efficiency: Some(eff),
                ..Default::default()
            },
            0,
            false
        )
        .passed());
        assert_eq!(
            rules(&run(
                Thresholds {
                    min_efficiency: Some(0.22),
                    ..Default::default()
                },
                0,
                false
            )),
            vec!["min-efficiency"]
        );
    }

    #[test]
    fn max_step_wasted_names_each_step() {
        let t = run(
            Thresholds {
                max_step_wasted: Some(99),
                ..Default::default()
            },
            0,
            false,
        );
        let steps: Vec<Option<usize>> = t.violations.iter().map(|v| v.step).collect();
        assert_eq!(steps, vec![Some(0), Some(1)]);
        assert!(run(
            Thresholds {
                max_step_wasted: Some(1010),
                ..Default::default()
            },
            0,
            false
        )
        .passed());
    }

    #[test]
    fn base_is_a_prefix_of_diff_ids() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            base_layer_count(&ids(&["a", "b", "c"]), &ids(&["a", "b"])),
            Some(2)
        );
        assert_eq!(base_layer_count(&ids(&["a", "b"]), &ids(&["a", "x"])), None);
        assert_eq!(base_layer_count(&ids(&["a"]), &ids(&["a", "b"])), None);
    }
}
