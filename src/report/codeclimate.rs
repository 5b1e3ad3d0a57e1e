//! `--format codeclimate`: GitLab's code-quality report, the subset of the Code Climate
//! issue format that GitLab reads (`description`, `check_name`, `fingerprint`,
//! `severity`, `location.path`, `location.lines.begin`), as one JSON array.
//!
//! One issue per finding of a wasting step and one per limit crossed, like SARIF. An
//! issue points at the step's Dockerfile line when `--dockerfile` mapped it, at line 1
//! of the Dockerfile when only that is known, and otherwise at line 1 of the image as
//! named on the command line: GitLab drops an issue without a location.
//!
//! **Fingerprints** are how GitLab tells a merge request's new issues from those the
//! target branch already had, so they hash only what survives a rebuild and an edit
//! elsewhere in the Dockerfile: the pattern, the step's instruction, the instruction of
//! the step that hid the bytes, and which occurrence of that instruction the step is.
//! Never the byte counts (a package update changes them), the layer digests, the step
//! index or the Dockerfile line (a line added above moves them), or the image's file
//! name (main's and the merge request's images are saved under different names).
//!
//! **Severity** follows the gate. GitLab's scale is info < minor < major < critical <
//! blocker; layerwaste uses four of them:
//! - `critical`: a limit crossed (the job fails), and each finding of a step over
//!   `--max-step-wasted`;
//! - `major`: a finding of a counted step when a whole-image limit was crossed;
//! - `minor`: a finding of a counted step when the gate passed, or there is no gate;
//! - `info`: a finding in the base image's layers, which the gate never counts.

use std::collections::HashMap;
use std::io::Write;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{FindingReport, Render, Report, StepReport};
use crate::model::gate::Violation;
use crate::text::escape;

pub struct CodeClimate;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Issue {
    pub description: String,
    pub check_name: String,
    pub fingerprint: String,
    pub severity: Severity,
    pub location: Location,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Minor,
    Major,
    Critical,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Location {
    pub path: String,
    pub lines: Lines,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Lines {
    pub begin: usize,
}

/// Where a step's issues point. GitLab links a path relative to the repository root,
/// so a leading `./` goes.
fn location(report: &Report, step: Option<&StepReport>) -> Location {
    let (path, line) = match &report.dockerfile {
        Some(file) => (file.as_str(), step.and_then(|s| s.dockerfile_line)),
        None => (report.image.source.as_str(), None),
    };
    let mut path = path;
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    Location {
        path: escape(path),
        lines: Lines {
            begin: line.filter(|&l| l >= 1).unwrap_or(1),
        },
    }
}

fn fingerprint(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"layerwaste/codeclimate/v1");
    for part in parts {
        // Length-prefixed, so no two lists of parts hash the same bytes.
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn instruction(step: Option<&StepReport>) -> &str {
    step.and_then(|s| s.instruction.as_deref()).unwrap_or("")
}

/// The issues of a report, in the order SARIF lists its results: findings by step,
/// then the limits crossed.
pub fn issues(report: &Report) -> Vec<Issue> {
    let violations: &[Violation] = report
        .thresholds
        .as_ref()
        .map(|t| t.violations.as_slice())
        .unwrap_or_default();
    let base_layers = report.thresholds.as_ref().map_or(0, |t| t.base_layers);
    let image_limit_crossed = violations.iter().any(|v| v.step.is_none());
    let step = |i: usize| report.steps.iter().find(|s| s.index == i);
    // Which occurrence of its instruction each step is: two identical `RUN make` steps
    // are two issues, and stay the same two when a step is added elsewhere.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let occurrence: Vec<usize> = report
        .steps
        .iter()
        .map(|s| {
            let n = seen.entry(instruction(Some(s))).or_default();
            *n += 1;
            *n
        })
        .collect();

    let mut out = Vec::new();
    for s in report.steps.iter().filter(|s| s.wasted_bytes > 0) {
        let over_step_limit = violations
            .iter()
            .any(|v| v.rule == "max-step-wasted" && v.step == Some(s.index));
        let in_base = s.layer.is_some_and(|l| l < base_layers);
        let severity = if in_base {
            Severity::Info
        } else if over_step_limit {
            Severity::Critical
        } else if image_limit_crossed {
            Severity::Major
        } else {
            Severity::Minor
        };
        let nth = occurrence.get(s.index).copied().unwrap_or(1).to_string();
        for f in &s.findings {
            out.push(finding_issue(
                report,
                s,
                f,
                severity,
                &nth,
                step(f.removed_by),
            ));
        }
    }
    for v in violations {
        let s = v.step.and_then(step);
        let nth = s
            .and_then(|s| occurrence.get(s.index))
            .map(|n| n.to_string())
            .unwrap_or_default();
        out.push(Issue {
            description: escape(&format!("layerwaste: limit crossed: {}", v.message)),
            check_name: v.rule.to_string(),
            fingerprint: fingerprint(&["limit", v.rule, instruction(s), &nth]),
            severity: Severity::Critical,
            location: location(report, s),
        });
    }
    // GitLab keeps one issue per fingerprint. Two findings of one pattern in one step
    // hidden by two identical steps would share one; number the later ones.
    let mut used: HashMap<String, usize> = HashMap::new();
    for issue in &mut out {
        let n = used.entry(issue.fingerprint.clone()).or_default();
        *n += 1;
        if *n > 1 {
            issue.fingerprint = fingerprint(&[&issue.fingerprint, &n.to_string()]);
        }
    }
    out
}

fn finding_issue(
    report: &Report,
    s: &StepReport,
    f: &FindingReport,
    severity: Severity,
    nth: &str,
    remover: Option<&StepReport>,
) -> Issue {
    Issue {
        description: escape(&f.advice),
        check_name: f.pattern.to_string(),
        fingerprint: fingerprint(&[
            "finding",
            f.pattern.id(),
            instruction(Some(s)),
            nth,
            instruction(remover),
        ]),
        severity,
        location: location(report, Some(s)),
    }
}

impl Render for CodeClimate {
    fn render(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &issues(report))?;
        out.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{injection_report, sample_report};

    fn render(report: &Report) -> String {
        let mut out = Vec::new();
        CodeClimate.render(report, &mut out).unwrap_or_default();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn sample_report_issues() {
        insta::assert_snapshot!(render(&sample_report()));
    }

    #[test]
    fn hostile_image_issues() {
        let text = render(&injection_report());
        insta::assert_snapshot!(text);
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn fingerprints_ignore_what_a_rebuild_changes() {
        let before = issues(&sample_report());
        let mut rebuilt = sample_report();
        // A rebuild: other byte counts, another file name, the Dockerfile edited above
        // the step, other layer digests.
        rebuilt.image.source = "pr.tar".into();
        for s in &mut rebuilt.steps {
            s.wasted_bytes += 1;
            s.bytes += 1;
            s.dockerfile_line = s.dockerfile_line.map(|l| l + 3);
            s.layer_digest = Some("sha256:0".into());
            for f in &mut s.findings {
                f.bytes += 1;
            }
        }
        let after = issues(&rebuilt);
        let prints = |v: &[Issue]| v.iter().map(|i| i.fingerprint.clone()).collect::<Vec<_>>();
        assert_eq!(prints(&before), prints(&after));
        // …but a changed instruction is another issue.
        let mut edited = sample_report();
        edited.steps[2].instruction = Some("RUN apk add gcc".into());
        assert_ne!(prints(&before)[0], prints(&issues(&edited))[0]);
    }

    #[test]
    fn fingerprints_are_unique_within_a_report() {
        let issues = issues(&sample_report());
        let mut prints: Vec<&str> = issues.iter().map(|i| i.fingerprint.as_str()).collect();
        prints.sort();
        prints.dedup();
        assert_eq!(prints.len(), issues.len());
    }

    #[test]
    fn severity_follows_the_gate() {
        // The sample crosses --max-wasted and --max-step-wasted on step 2.
        let s = issues(&sample_report());
        let severities: Vec<(&str, Severity)> = s
            .iter()
            .map(|i| (i.check_name.as_str(), i.severity))
            .collect();
        assert_eq!(
            severities,
            [
                ("build-deps", Severity::Critical),
                ("package-database-churn", Severity::Critical),
                ("max-wasted", Severity::Critical),
                ("max-step-wasted", Severity::Critical),
            ]
        );
        // No gate: minor.
        let mut open = sample_report();
        open.thresholds = None;
        assert!(issues(&open).iter().all(|i| i.severity == Severity::Minor));
        // The step in the base image: info, whatever the gate says.
        let mut based = sample_report();
        if let Some(t) = &mut based.thresholds {
            t.base_layers = 2;
            t.violations.retain(|v| v.step.is_none());
        }
        let based = issues(&based);
        assert_eq!(based[0].severity, Severity::Info);
        // A whole-image limit crossed, the step under its own limit: major.
        let mut image_only = sample_report();
        if let Some(t) = &mut image_only.thresholds {
            t.violations.retain(|v| v.step.is_none());
        }
        assert_eq!(issues(&image_only)[0].severity, Severity::Major);
    }
}
