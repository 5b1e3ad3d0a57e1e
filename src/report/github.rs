//! `--format github`: GitHub Actions workflow commands, which the runner turns into
//! annotations on the pull request.
//!
//! `::warning` for each finding of a wasting step (`::error` when the step is over
//! `--max-step-wasted`), `::error` for each limit crossed, and one `::notice` with the
//! summary. `file=` and `line=` are given only when the Dockerfile mapping knows
//! them. Data and properties are escaped as the runner unescapes them
//! (actions/toolkit `command.ts`), after control characters are made visible, so an
//! image cannot end a command early or start one of its own.

use std::io::Write;

use super::table::human;
use super::{FindingReport, Render, Report, StepReport};
use crate::model::gate::Violation;
use crate::text::escape;

pub struct Github;

/// A command's message: `%`, CR and LF are the runner's to interpret, so a line break
/// in a `created_by` stays a line break in the annotation and never ends the command.
/// Other control characters (an ANSI escape) are made visible.
pub fn escape_data(s: &str) -> String {
    escape(
        &s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A"),
    )
}

/// A property value: as [`escape_data`], and `:` and `,`, which end a property.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

struct Annotation<'a> {
    command: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    title: String,
    message: String,
}

impl Annotation<'_> {
    fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut props = Vec::new();
        if let Some(file) = self.file {
            props.push(format!("file={}", escape_property(file)));
            if let Some(line) = self.line {
                props.push(format!("line={line}"));
            }
        }
        props.push(format!("title={}", escape_property(&self.title)));
        writeln!(
            out,
            "::{} {}::{}",
            self.command,
            props.join(","),
            escape_data(&self.message)
        )
    }
}

fn step_location<'a>(
    report: &'a Report,
    step: Option<&StepReport>,
) -> (Option<&'a str>, Option<usize>) {
    match &report.dockerfile {
        Some(file) => (Some(file.as_str()), step.and_then(|s| s.dockerfile_line)),
        None => (None, None),
    }
}

fn violation<'a>(report: &'a Report, v: &Violation) -> Annotation<'a> {
    let step = v
        .step
        .and_then(|i| report.steps.iter().find(|s| s.index == i));
    let (file, line) = step_location(report, step);
    Annotation {
        command: "error",
        file,
        line,
        title: format!("layerwaste: {}", v.rule),
        message: v.message.clone(),
    }
}

fn summary(report: &Report) -> String {
    let s = &report.summary;
    let mut text = if s.wasted_bytes == 0 {
        format!("No wasted bytes in {}.", human(s.total_bytes))
    } else {
        let percent = s.wasted_bytes as f64 * 100.0 / s.total_bytes.max(1) as f64;
        let steps = report.steps.iter().filter(|s| s.wasted_bytes > 0).count();
        format!(
            "{} of {} ({percent:.1}%) wasted by {steps} step{}.",
            human(s.wasted_bytes),
            human(s.total_bytes),
            if steps == 1 { "" } else { "s" }
        )
    };
    if let Some(pull) = s.wasted_pull_bytes.filter(|_| s.wasted_bytes > 0) {
        text.push_str(&format!(
            " Every pull downloads about {} of it for nothing.",
            human(pull)
        ));
    }
    if let Some(t) = &report.thresholds {
        if t.passed() {
            text.push_str(" Gate passed.");
        } else {
            text.push_str(&format!(
                " Gate failed: {} limit{} crossed.",
                t.violations.len(),
                if t.violations.len() == 1 { "" } else { "s" }
            ));
        }
    }
    text
}

impl Render for Github {
    fn render(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let violations: &[Violation] = report
            .thresholds
            .as_ref()
            .map(|t| t.violations.as_slice())
            .unwrap_or_default();
        // GitHub shows only the first 10 warnings and 10 errors of a job step: the
        // largest findings first, step order breaking ties.
        let mut findings: Vec<(&StepReport, &FindingReport)> = report
            .steps
            .iter()
            .filter(|s| s.wasted_bytes > 0)
            .flat_map(|s| s.findings.iter().map(move |f| (s, f)))
            .collect();
        findings.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.index.cmp(&b.0.index)));
        for (step, f) in findings {
            let over_limit = violations
                .iter()
                .any(|v| v.rule == "max-step-wasted" && v.step == Some(step.index));
            let (file, line) = step_location(report, Some(step));
            Annotation {
                command: if over_limit { "error" } else { "warning" },
                file,
                line,
                title: format!(
                    "layerwaste: {} in step {} ({})",
                    f.pattern,
                    step.index,
                    human(f.bytes)
                ),
                message: f.advice.clone(),
            }
            .write(out)?;
        }
        for v in violations {
            violation(report, v).write(out)?;
        }
        Annotation {
            command: "notice",
            file: None,
            line: None,
            title: "layerwaste".to_string(),
            message: summary(report),
        }
        .write(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{injection_report, sample_report};

    fn render(report: &Report) -> String {
        let mut out = Vec::new();
        Github.render(report, &mut out).unwrap_or_default();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn sample_annotations() {
        insta::assert_snapshot!(render(&sample_report()));
    }

    #[test]
    fn hostile_image_annotations() {
        let text = render(&injection_report());
        insta::assert_snapshot!(text);
        for line in text.lines() {
            assert!(line.starts_with("::"), "{line}");
            assert!(!line.contains('\x1b'), "{line}");
        }
    }

    #[test]
    fn escapes_as_the_runner_unescapes() {
        assert_eq!(escape_data("50% a\r\nb\x1b[31m"), "50%25 a%0D%0Ab\\x1b[31m");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
