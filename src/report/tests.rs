//! Hand-built reports for the renderers' snapshot tests: plain data, no image, no
//! process. [`sample_report`] is shaped like the build-deps-split sample (a build
//! dependency installed in one step and deleted in a later one) with a Dockerfile
//! mapping and a failed gate; [`injection_report`] is what a hostile image could put
//! in front of a reviewer.

use std::collections::BTreeMap;

use super::*;
use crate::explain::advice::Owner;
use crate::explain::verdict::Conclusion;
use crate::explain::{Changes, Facts, How, PathKind, Place};
use crate::model::gate::{GateVerdict, Thresholds, Violation};
use crate::model::steps::instruction;
use crate::model::Reason;
use crate::source::Format;

/// A small builder: steps are added in order, and the report's figures are summed
/// from them when it is built.
pub struct ReportBuilder {
    source: String,
    steps: Vec<StepReport>,
    removable: Vec<RemovableReport>,
    duplicates: DuplicatesReport,
    thresholds: Option<GateVerdict>,
    dockerfile: Option<String>,
    warnings: Vec<String>,
}

/// What a step wasted and who hid it. The pattern and the words come from the real
/// advice, from these facts and the steps' instructions.
pub struct Waste {
    pub facts: Facts,
    pub by_step: usize,
    pub bytes: u64,
    pub files: u64,
    /// `(path, bytes, files, reason)`
    pub paths: Vec<(&'static str, u64, u64, Reason)>,
}

impl ReportBuilder {
    pub fn new(source: &str) -> Self {
        ReportBuilder {
            source: source.to_string(),
            steps: Vec::new(),
            removable: Vec::new(),
            duplicates: DuplicatesReport::default(),
            thresholds: None,
            dockerfile: None,
            warnings: Vec::new(),
        }
    }

    /// A step that made no layer (ENV, CMD, …).
    pub fn empty_step(mut self, created_by: &str) -> Self {
        let index = self.steps.len();
        self.steps.push(StepReport {
            index,
            created_by: Some(created_by.to_string()),
            instruction: Some(instruction(created_by)),
            dockerfile_line: None,
            dockerfile_text: None,
            empty_layer: true,
            layer: None,
            layer_digest: None,
            bytes: 0,
            wasted_bytes: 0,
            removed_by: Vec::new(),
            wasted_by_reason: BTreeMap::new(),
            wasted_pull_bytes: Some(0),
            explanation: None,
            findings: Vec::new(),
            top_paths: Vec::new(),
            files: Vec::new(),
        });
        self
    }

    /// A step with a layer of `bytes`, of which `waste` is hidden by later steps.
    pub fn step(mut self, created_by: &str, bytes: u64, waste: Vec<Waste>) -> Self {
        let index = self.steps.len();
        let layer = self.steps.iter().filter(|s| s.layer.is_some()).count();
        let instruction = instruction(created_by);
        let wasted_bytes: u64 = waste.iter().map(|w| w.bytes).sum();
        let mut removed_by: BTreeMap<usize, RemovedBy> = BTreeMap::new();
        let mut by_reason: BTreeMap<Reason, u64> = BTreeMap::new();
        let mut top_paths = Vec::new();
        for w in &waste {
            let entry = removed_by.entry(w.by_step).or_insert(RemovedBy {
                step: w.by_step,
                bytes: 0,
                files: 0,
                reasons: BTreeMap::new(),
            });
            entry.bytes += w.bytes;
            entry.files += w.files;
            for &(path, bytes, files, reason) in &w.paths {
                *entry.reasons.entry(reason).or_default() += bytes;
                *by_reason.entry(reason).or_default() += bytes;
                top_paths.push(PathReport {
                    path: path.to_string(),
                    other: false,
                    bytes,
                    files,
                    removed_by: vec![w.by_step],
                    reasons: vec![reason],
                });
            }
        }
        top_paths.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
        let findings = waste
            .iter()
            .map(|w| FindingReport::new(w.facts, w.by_step, w.bytes, w.files))
            .collect();
        self.steps.push(StepReport {
            index,
            created_by: Some(created_by.to_string()),
            instruction: Some(instruction),
            dockerfile_line: None,
            dockerfile_text: None,
            empty_layer: false,
            layer: Some(layer),
            layer_digest: Some(format!("sha256:{:064x}", index + 1)),
            bytes,
            wasted_bytes,
            removed_by: removed_by.into_values().collect(),
            wasted_by_reason: by_reason,
            wasted_pull_bytes: Some(wasted_bytes / 3),
            explanation: None,
            findings,
            top_paths,
            files: Vec::new(),
        });
        self
    }

    /// Maps the steps to 1-based lines of `path`, in step order (`None`: unmatched).
    pub fn dockerfile(mut self, path: &str, lines: &[Option<usize>]) -> Self {
        self.dockerfile = Some(path.to_string());
        for (step, line) in self.steps.iter_mut().zip(lines) {
            step.dockerfile_line = *line;
        }
        self
    }

    pub fn removable(mut self, kind: PathKind, bytes: u64, files: u64) -> Self {
        self.removable.push(RemovableReport {
            kind,
            bytes,
            files,
            advice: kind.fix(),
        });
        self
    }

    pub fn duplicates(mut self, bytes_each: u64, paths: &[&str]) -> Self {
        let extra = paths.len().saturating_sub(1) as u64;
        self.duplicates.bytes += bytes_each * extra;
        self.duplicates.files += extra;
        self.duplicates.groups.push(DuplicateGroupReport {
            bytes_each,
            paths: paths.iter().map(|p| p.to_string()).collect(),
        });
        self
    }

    /// A gate with these limits, and the violations they produce on the figures so
    /// far (counted = all waste, no base, nothing ignored).
    pub fn gate(mut self, limits: Thresholds) -> Self {
        let total: u64 = self.steps.iter().map(|s| s.bytes).sum();
        let wasted: u64 = self.steps.iter().map(|s| s.wasted_bytes).sum();
        let mut violations = Vec::new();
        if let Some(max) = limits.max_wasted.filter(|&m| wasted > m) {
            violations.push(Violation {
                rule: "max-wasted",
                step: None,
                limit: max as f64,
                actual: wasted as f64,
                message: format!(
                    "wasted {} ({wasted} B) is more than --max-wasted {} ({max} B)",
                    table::human(wasted),
                    table::human(max)
                ),
            });
        }
        if let Some(max) = limits.max_step_wasted {
            for s in self.steps.iter().filter(|s| s.wasted_bytes > max) {
                violations.push(Violation {
                    rule: "max-step-wasted",
                    step: Some(s.index),
                    limit: max as f64,
                    actual: s.wasted_bytes as f64,
                    message: format!(
                        "step {} wastes {} ({} B), more than --max-step-wasted {} ({max} B)",
                        s.index,
                        table::human(s.wasted_bytes),
                        s.wasted_bytes,
                        table::human(max)
                    ),
                });
            }
        }
        self.thresholds = Some(GateVerdict {
            limits,
            base_layers: 1,
            counted_wasted_bytes: wasted,
            ignored_wasted_bytes: 0,
            base_wasted_bytes: 0,
            counted_efficiency: 1.0 - wasted as f64 / total.max(1) as f64,
            violations,
            base: None,
        });
        self
    }

    /// The first `n` layers are the base image's (as `--base-layers n` says).
    pub fn base_layers(mut self, n: usize) -> Self {
        let t = self.thresholds.get_or_insert_with(|| GateVerdict {
            limits: Thresholds::default(),
            base_layers: 0,
            counted_wasted_bytes: 0,
            ignored_wasted_bytes: 0,
            base_wasted_bytes: 0,
            counted_efficiency: 1.0,
            violations: Vec::new(),
            base: None,
        });
        t.base_layers = n;
        self
    }

    pub fn warning(mut self, warning: &str) -> Self {
        self.warnings.push(warning.to_string());
        self
    }

    pub fn build(mut self) -> Report {
        for step in &mut self.steps {
            step.findings.sort_by_key(|f| std::cmp::Reverse(f.bytes));
        }
        let total_bytes: u64 = self.steps.iter().map(|s| s.bytes).sum();
        let wasted_bytes: u64 = self.steps.iter().map(|s| s.wasted_bytes).sum();
        let wasted_pull_bytes = self
            .steps
            .iter()
            .filter(|s| s.wasted_bytes > 0)
            .map(|s| s.wasted_pull_bytes)
            .sum();
        let summary = Summary {
            total_bytes,
            final_bytes: total_bytes - wasted_bytes,
            wasted_bytes,
            efficiency: 1.0 - wasted_bytes as f64 / total_bytes.max(1) as f64,
            layers: self.steps.iter().filter(|s| s.layer.is_some()).count(),
            steps: self.steps.len(),
            wasted_pull_bytes,
            duplicate_bytes: self.duplicates.bytes,
            duplicate_files: self.duplicates.files,
            removable_bytes: self.removable.iter().map(|r| r.bytes).sum(),
        };
        let mut report = Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "layerwaste",
                // Fixed, so a release does not change every snapshot.
                version: "0.0.0-test",
            },
            image: ImageInfo {
                source: self.source,
                format: Format::DockerSave,
                manifest_digest: None,
                config_digest: Some(format!("sha256:{:064x}", 0xc0f1u32)),
                platform: Some("linux/amd64".to_string()),
                tags: Vec::new(),
            },
            conclusion: Conclusion::default(),
            verdict: Vec::new(),
            summary,
            layers: Vec::new(),
            steps: self.steps,
            duplicates: self.duplicates,
            removable: self.removable,
            thresholds: self.thresholds,
            dockerfile: self.dockerfile,
            dockerfile_from_scratch: false,
            warnings: self.warnings,
        };
        report.conclude();
        report
    }
}

/// Facts of bytes deleted by a later step.
pub fn removed(place: Place) -> Facts {
    Facts {
        place,
        how: How::Removed,
        changes: Changes::default(),
    }
}

/// Shaped like sample-images/build-deps-split: build dependencies installed in one
/// step and deleted in a later one, with a Dockerfile mapping and a failed gate.
pub fn sample_report() -> Report {
    ReportBuilder::new("sample-images/build-deps-split/build-deps-split.tar")
        .step(
            "/bin/sh -c #(nop) ADD file:4a7d2ec8c0d6ba1b in / ",
            7_800_000,
            vec![],
        )
        .empty_step("/bin/sh -c #(nop)  CMD [\"/bin/sh\"]")
        .step(
            "RUN /bin/sh -c apk add --virtual .build-deps gcc musl-dev make # buildkit",
            118_400_000,
            vec![
                Waste {
                    facts: removed(Place::Plain),
                    by_step: 4,
                    bytes: 117_900_000,
                    files: 2_210,
                    paths: vec![
                        ("usr/libexec/gcc/", 80_100_000, 30, Reason::Deleted),
                        ("usr/include/", 21_800_000, 1_900, Reason::Deleted),
                        ("usr/lib/", 16_000_000, 280, Reason::Deleted),
                    ],
                },
                Waste {
                    facts: Facts {
                        place: Place::PackageDatabase,
                        how: How::Overwritten,
                        changes: Changes::default(),
                    },
                    by_step: 4,
                    bytes: 61_000,
                    files: 2,
                    paths: vec![("lib/apk/db/", 61_000, 2, Reason::Overwritten)],
                },
            ],
        )
        .step("COPY hello.c /src/ # buildkit", 120, vec![])
        .step(
            "RUN /bin/sh -c cc -O2 -o /usr/local/bin/hello /src/hello.c && apk del .build-deps # buildkit",
            75_000,
            vec![],
        )
        .removable(PathKind::ApkCache, 1_200_000, 3)
        .duplicates(18_000, &["usr/bin/cc", "usr/bin/gcc"])
        .dockerfile(
            "build-deps-split/Containerfile",
            &[Some(1), None, Some(3), Some(4), Some(5)],
        )
        .gate(Thresholds {
            max_wasted: Some(50_000_000),
            max_step_wasted: Some(100_000_000),
            ..Thresholds::default()
        })
        .build()
}

/// What a hostile image can put in a report: markup, a fake `</details>`, ANSI escapes,
/// line breaks, backticks and table pipes, in `created_by`, paths, warnings and the
/// image's own name. No Dockerfile mapping, so locations fall back to the image.
pub fn injection_report() -> Report {
    ReportBuilder::new("evil `image`|<b>.tar")
        .step(
            "/bin/sh -c echo '</details><script>alert(1)</script>' \x1b[31mRED\x1b[0m\n::error::pwned | tee `x` && rm -rf /tmp/x",
            5_000_000,
            vec![Waste {
                facts: removed(Place::Plain),
                by_step: 1,
                bytes: 4_000_000,
                files: 2,
                paths: vec![
                    ("tmp/a|b`c``d`/", 3_000_000, 1, Reason::Deleted),
                    ("tmp/<img src=x onerror=alert(1)>", 1_000_000, 1, Reason::Deleted),
                ],
            }],
        )
        .step("/bin/sh -c rm -rf /tmp/* # 100%, done: ok", 0, vec![])
        .warning("layer 1: entry `tmp/\x1b]0;owned\x07` </details> has a bad name")
        .build()
}

fn overwritten(place: Place) -> Facts {
    Facts {
        place,
        how: How::Overwritten,
        changes: Changes::default(),
    }
}

fn waste(facts: Facts, by_step: usize, bytes: u64) -> Waste {
    Waste {
        facts,
        by_step,
        bytes,
        files: 1,
        paths: vec![("x", bytes, 1, Reason::Overwritten)],
    }
}

/// A base image of three install steps (its own package-database churn) and a team
/// part that upgrades pip over the base's and adds a file it deletes again.
fn based_report(base_layers: Option<usize>) -> Report {
    let b = ReportBuilder::new("app.tar")
        .step("/bin/sh -c #(nop) ADD file:1 in / ", 1_000_000, vec![])
        .step(
            "/bin/sh -c apt-get install -y python3",
            50_000_000,
            vec![
                waste(overwritten(Place::PackageDatabase), 2, 3_000_000),
                waste(removed(Place::LanguagePackages), 4, 13_300_000),
            ],
        )
        .step("/bin/sh -c apt-get install -y git", 9_000_000, vec![])
        .step(
            "RUN /bin/sh -c curl -o /tmp/big.bin https://x # buildkit",
            2_000_000,
            vec![waste(removed(Place::Plain), 5, 2_000_000)],
        )
        .step(
            "RUN /bin/sh -c pip install --upgrade pip # buildkit",
            14_000_000,
            vec![],
        )
        .step("RUN /bin/sh -c rm /tmp/big.bin # buildkit", 0, vec![]);
    match base_layers {
        Some(n) => b.base_layers(n).build(),
        None => b.build(),
    }
}

#[test]
fn the_verdict_leads_with_the_teams_waste_and_counts_the_base_apart() {
    let r = based_report(Some(3));
    let c = &r.conclusion;
    assert!(c.base_known);
    let leads: Vec<(&str, Owner, u64)> = c
        .findings
        .iter()
        .map(|l| (l.pattern.id(), l.owner, l.bytes))
        .collect();
    assert_eq!(
        leads,
        vec![
            ("language-package-upgrade", Owner::Crossing, 13_300_000),
            ("added-then-deleted", Owner::Team, 2_000_000),
        ]
    );
    // The crossing fix names the team's step, never the base's.
    let fix = &c.findings[0].fix;
    assert!(
        fix.starts_with("step 4 `RUN pip install --upgrade pip`"),
        "{fix}"
    );
    assert!(!fix.contains("step 1"), "{fix}");
    assert_eq!(c.inherited.bytes, 3_000_000);
    assert_eq!(c.inherited.findings, 1);
    let tail = c.tail();
    assert_eq!(
        tail[0],
        "Inherited from the base image: 3.0 MB; choose or rebuild the base to change it."
    );
    // The base's own finding gets no step-aimed fix either.
    let churn = &r.steps[1]
        .findings
        .iter()
        .find(|f| f.owner == Owner::Base)
        .unwrap();
    assert_eq!(churn.pattern.id(), "package-database-churn");
    assert!(!churn.fix.contains("step"), "{}", churn.fix);
    assert!(c.findings[0].added_by[0].base && !c.findings[0].hidden_by[0].base);
}

#[test]
fn without_a_base_boundary_every_finding_is_unknown_and_leads() {
    let r = based_report(None);
    let c = &r.conclusion;
    assert!(!c.base_known);
    assert_eq!(c.inherited, crate::explain::verdict::Tally::default());
    assert_eq!(c.findings.len(), 3);
    assert!(c.findings.iter().all(|l| l.owner == Owner::Unknown));
    assert_eq!(c.findings[0].pattern.id(), "language-package-upgrade");
}

#[test]
fn more_than_three_findings_are_counted_in_one_line() {
    let mut b = ReportBuilder::new("many.tar");
    // Four patterns, one step each, then the steps that hide them.
    b = b
        .step(
            "COPY a /a # buildkit",
            400,
            vec![waste(overwritten(Place::Plain), 4, 400)],
        )
        .step(
            "RUN /bin/sh -c apt-get update # buildkit",
            300,
            vec![waste(removed(Place::Cache(PathKind::AptLists)), 5, 300)],
        )
        .step(
            "RUN /bin/sh -c make # buildkit",
            200,
            vec![waste(removed(Place::Plain), 5, 200)],
        )
        .step(
            "RUN /bin/sh -c wget x.tgz # buildkit",
            100,
            vec![waste(removed(Place::Archive), 5, 100)],
        )
        .step("COPY b /a # buildkit", 400, vec![])
        .step(
            "RUN /bin/sh -c rm -rf /var/lib/apt/lists/* /src x.tgz # buildkit",
            0,
            vec![],
        );
    let r = b.build();
    let ids: Vec<&str> = r
        .conclusion
        .findings
        .iter()
        .map(|l| l.pattern.id())
        .collect();
    assert_eq!(
        ids,
        vec!["overwritten", "package-cache", "added-then-deleted"]
    );
    assert_eq!(
        r.conclusion.smaller,
        crate::explain::verdict::Tally {
            findings: 1,
            bytes: 100
        }
    );
    assert_eq!(
        r.conclusion.tail()[0],
        "1 smaller finding, 100 B: see the table."
    );
    assert_eq!(r.verdict.len(), 1 + 3 + 1);
}
