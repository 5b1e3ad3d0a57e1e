//! The terminal report: one row per history step, then the totals.
//!
//! Numbers are right-aligned human sizes; the instruction comes last so it alone is cut
//! to the terminal width. Everything from the image is escaped first.

use std::io::Write;

use super::{Render, Report, StepReport};
use crate::text::escape;
pub use crate::text::{human, truncate};

/// Terminal styling, all no-ops when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Styles {
    pub color: bool,
}

impl Styles {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    pub fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
}

pub struct Table {
    /// Columns available; the instruction column takes what the others leave.
    pub width: usize,
    pub styles: Styles,
}

const STEP_W: usize = 4;
const SIZE_W: usize = 9;
/// The HIDDEN BY column is as wide as its widest cell, within these bounds.
const HIDDEN_MIN_W: usize = 9;
const HIDDEN_MAX_W: usize = 26;

/// The steps that hid a step's bytes, in step order, in plain words: `steps 3 and 5,
/// and 1 more`.
fn hidden_by(step: &StepReport) -> String {
    let by: Vec<usize> = step.removed_by.iter().map(|r| r.step).collect();
    if by.is_empty() {
        String::new()
    } else {
        crate::explain::prose::list_indexes(&by, 2)
    }
}

impl Table {
    fn row(&self, step: &StepReport, hidden_w: usize) -> (String, bool) {
        let hidden_by = hidden_by(step);
        let (size, wasted) = if step.layer.is_none() {
            ("-".to_string(), "-".to_string())
        } else {
            (human(step.bytes), human(step.wasted_bytes))
        };
        let text = step
            .instruction
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| match step.layer {
                Some(l) => format!("(layer {l})"),
                None => String::new(),
            });
        let fixed = format!(
            "{:>STEP_W$}  {:>SIZE_W$}  {:>SIZE_W$}  {:<hidden_w$}  ",
            step.index, size, wasted, hidden_by
        );
        let room = self.width.saturating_sub(fixed.chars().count()).max(20);
        let line = format!("{fixed}{}", truncate(&text, room));
        (line, step.wasted_bytes > 0)
    }
}

/// Wraps prose to `width` columns, indenting every line by `indent`.
fn wrap_block(text: &str, width: usize, indent: &str) -> Vec<String> {
    let mut lines = wrap(text, width.saturating_sub(indent.len()), "");
    for line in &mut lines {
        line.insert_str(0, indent);
    }
    lines
}

/// Wraps prose to `width` columns, indenting continuation lines.
fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let width = width.max(40);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, indent.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    if !empty {
        lines.push(line);
    }
    lines
}

impl Table {
    /// The verdict: the headline in bold, then each finding as a block (the bytes and
    /// the steps, the pattern in words, the fix on a line of its own), then one line
    /// each for the rest, the base image's share and what is not waste.
    fn verdict(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let width = self.width.min(100);
        let c = &report.conclusion;
        for (j, line) in wrap(&c.headline, width, "").iter().enumerate() {
            if j == 0 {
                writeln!(out, "{}", self.styles.bold(line))?;
            } else {
                writeln!(out, "{line}")?;
            }
        }
        writeln!(out)?;
        let plain = |w: &crate::explain::advice::Words| w.plain_with(escape);
        let mut named: Vec<usize> = Vec::new();
        for (i, lead) in c.findings.iter().enumerate() {
            let head = format!("{}. {}, {}", i + 1, lead.size(), lead.words);
            for line in wrap(&head, width, "   ") {
                writeln!(out, "{line}")?;
            }
            // Each step is named with its instruction once; after that, by index.
            let steps = if lead.steps_named_in(&named) {
                lead.steps().brief()
            } else {
                plain(&lead.steps())
            };
            named.extend(lead.added_by.iter().chain(&lead.hidden_by).map(|s| s.step));
            for line in wrap_block(&steps, width, "   ") {
                writeln!(out, "{line}")?;
            }
            // The steps were just named with their instructions: here by index.
            let fix = format!("{} {}", self.styles.bold("Fix:"), lead.fix_words.brief());
            for line in wrap_block(&fix, width, "   ") {
                writeln!(out, "{line}")?;
            }
        }
        let tail = c.tail();
        if !c.findings.is_empty() && !tail.is_empty() {
            writeln!(out)?;
        }
        for paragraph in tail {
            for line in wrap(&paragraph, width, "  ") {
                writeln!(out, "{line}")?;
            }
        }
        if !c.findings.is_empty() || !c.tail().is_empty() {
            writeln!(out)?;
        }
        Ok(())
    }

    fn paths(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let wasting: Vec<&StepReport> = report
            .steps
            .iter()
            .filter(|s| !s.top_paths.is_empty())
            .collect();
        if wasting.is_empty() {
            return Ok(());
        }
        writeln!(out)?;
        writeln!(out, "{}", self.styles.bold("Where the wasted bytes are"))?;
        for step in wasting {
            // With --dockerfile, say where the step is written.
            let place = match (&report.dockerfile, step.dockerfile_line) {
                (Some(file), Some(line)) => {
                    let name = std::path::Path::new(file)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| file.clone());
                    format!(" ({}:{line})", escape(&name))
                }
                _ => String::new(),
            };
            let head = format!("step {}{place}  ", step.index);
            writeln!(
                out,
                "{head}{}",
                truncate(
                    &escape(step.instruction.as_deref().unwrap_or("")),
                    self.width.saturating_sub(head.chars().count()).max(20)
                )
            )?;
            let rows: Vec<(String, u64, u64, String)> = if step.files.is_empty() {
                step.top_paths
                    .iter()
                    .map(|p| {
                        (
                            if p.other {
                                format!("{} (the rest)", escape(&p.path))
                            } else {
                                escape(&p.path)
                            },
                            p.bytes,
                            p.files,
                            crate::explain::prose::why(&p.reasons, &p.removed_by),
                        )
                    })
                    .collect()
            } else {
                step.files
                    .iter()
                    .map(|f| {
                        (
                            escape(&f.path),
                            f.bytes,
                            1,
                            crate::explain::prose::why(&[f.reason], &[f.removed_by]),
                        )
                    })
                    .collect()
            };
            for (path, bytes, files, why) in rows {
                let count = if files == 1 {
                    "1 file".to_string()
                } else {
                    format!("{files} files")
                };
                let fixed = format!("  {:>SIZE_W$}  {:>11}  ", human(bytes), count);
                let why_w = why.chars().count() + 2;
                let room = self
                    .width
                    .saturating_sub(fixed.chars().count() + why_w)
                    .max(20);
                writeln!(out, "{fixed}{:<room$}  {why}", truncate(&path, room))?;
            }
        }
        Ok(())
    }
}

/// Which layers the gate left out as the base image's, and how that is known. The
/// name comes from the image's annotations: escaped like every image-made string.
fn base_line(report: &Report, base: &crate::source::base::BaseInfo) -> String {
    let how = crate::text::escape(&base.how);
    if base.layers == 0 {
        return format!("base image: none, all layers gated: {how}");
    }
    let last_step = report
        .layers
        .get(base.layers - 1)
        .map(|l| format!("steps 0–{}, ", l.step))
        .unwrap_or_default();
    format!(
        "base image: {last_step}layers 0–{} (not gated), found by {}: {how}",
        base.layers - 1,
        base.found
    )
}

impl Render for Table {
    fn render(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let s = &self.styles;
        self.verdict(report, out)?;
        let hidden_w = report
            .steps
            .iter()
            .map(|s| hidden_by(s).chars().count())
            .max()
            .unwrap_or(0)
            .clamp(HIDDEN_MIN_W, HIDDEN_MAX_W);
        let header = format!(
            "{:>STEP_W$}  {:>SIZE_W$}  {:>SIZE_W$}  {:<hidden_w$}  {}",
            "STEP", "SIZE", "WASTED", "HIDDEN BY", "INSTRUCTION"
        );
        writeln!(out, "{}", s.bold(&header))?;
        for step in &report.steps {
            let (line, wasteful) = self.row(step, hidden_w);
            let line = if step.layer.is_none() {
                s.dim(&line)
            } else if wasteful {
                s.red(&line)
            } else {
                line
            };
            writeln!(out, "{line}")?;
        }
        let sum = &report.summary;
        let percent = if sum.total_bytes == 0 {
            0.0
        } else {
            sum.wasted_bytes as f64 * 100.0 / sum.total_bytes as f64
        };
        let total = format!(
            "total {}  final {}  wasted {} ({:.1}%)  efficiency {:.1}%",
            human(sum.total_bytes),
            human(sum.final_bytes),
            human(sum.wasted_bytes),
            percent,
            sum.efficiency * 100.0
        );
        writeln!(out, "{}", s.bold(&total))?;
        if let Some(base) = report.thresholds.as_ref().and_then(|t| t.base.as_ref()) {
            writeln!(out, "{}", base_line(report, base))?;
        }
        self.paths(report, out)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{injection_report, sample_report};
    use crate::report::RemovedBy;

    fn render(report: &Report, width: usize) -> String {
        let mut out = Vec::new();
        Table {
            width,
            styles: Styles { color: false },
        }
        .render(report, &mut out)
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sample_table() {
        insta::assert_snapshot!(render(&sample_report(), 100));
    }

    #[test]
    fn hostile_text_reaches_the_terminal_escaped() {
        let text = render(&injection_report(), 100);
        assert!(!text.contains('\x1b'), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn hidden_by_names_the_first_two_removers_in_step_order_and_counts_the_rest() {
        let mut report = sample_report();
        let step = &mut report.steps[2];
        step.removed_by = [(4, 10), (5, 300), (6, 20), (7, 5)]
            .into_iter()
            .map(|(step, bytes)| RemovedBy {
                step,
                bytes,
                files: 1,
                reasons: Default::default(),
            })
            .collect();
        let text = render(&report, 100);
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with("2 "))
            .unwrap();
        assert!(row.contains("steps 4 and 5, and 2 more"), "{row}");
    }

    #[test]
    fn the_verdict_fits_80_columns_with_the_fix_on_its_own_line() {
        let text = render(&sample_report(), 80);
        let verdict: Vec<&str> = text
            .lines()
            .take_while(|l| !l.starts_with("STEP"))
            .collect();
        assert!(verdict.iter().all(|l| l.chars().count() <= 80), "{text}");
        assert!(verdict.iter().any(|l| l.starts_with("   Fix: ")), "{text}");
        assert!(
            verdict.contains(&"1. 117.9 MB in 2210 files, build dependencies added then removed"),
            "{text}"
        );
        // The second finding has the same steps: named by index only.
        assert!(verdict.contains(&"   step 2 → step 4"), "{text}");
        let text = render(&sample_report(), 100);
        let verdict = text.lines().take_while(|l| !l.starts_with("STEP")).count();
        assert!(verdict <= 15, "{text}");
    }

    #[test]
    fn wrap_keeps_words_and_indents() {
        let lines = wrap(&"word ".repeat(30), 40, "  ");
        assert!(lines.iter().all(|l| l.chars().count() <= 40));
        assert!(lines[1..].iter().all(|l| l.starts_with("  word")));
        assert_eq!(lines.join(" ").split_whitespace().count(), 30);
    }
}
