//! `--format markdown`: a pull-request comment. The verdict comes first, the details sit
//! in collapsible `<details>` sections, and it stays under GitHub's comment limit.
//!
//! Everything that comes from the image (`created_by`, paths, the image's name) is
//! written either inside a code span, whose delimiter is longer than any backtick run
//! in it, or as text with every character that Markdown or HTML would interpret turned
//! into an entity. Control characters are made visible first, so an image can neither
//! start a new block nor close a `<details>` it did not open.

use std::fmt::Write as _;
use std::io::Write;

use super::table::{human, truncate};
use super::{Render, Report, StepReport};
use crate::explain::advice::{step_label, Span, Words};
use crate::explain::prose::{list_indexes, why};
use crate::text::{escape, percent};

/// GitHub rejects comments longer than 65,536 characters. Leave room for the footer
/// and for a CI script that adds a line of its own.
const COMMENT_LIMIT: usize = 65_536;
const BUDGET: usize = COMMENT_LIMIT - 2_048;
/// Rows shown in the steps table before a "… N more" row.
const MAX_STEP_ROWS: usize = 60;
/// Steps shown in "where the wasted bytes are" and in the findings.
const MAX_WASTING_STEPS: usize = 30;
/// Path rows per step (`--top` can ask for more than a comment should hold).
const MAX_PATH_ROWS: usize = 10;
const MAX_DUPLICATE_GROUPS: usize = 10;
const MAX_WARNINGS: usize = 30;
/// Characters of an instruction shown in a table cell.
const INSTRUCTION_CHARS: usize = 100;

pub struct Markdown;

impl Render for Markdown {
    fn render(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(comment(report).as_bytes())
    }
}

/// The whole comment. Sections that would take it past the budget are replaced by a
/// line saying so, so the comment is never rejected and never cut mid-table.
pub fn comment(report: &Report) -> String {
    let mut doc = headline(report);
    let sections = [
        steps_section(report),
        paths_section(report),
        findings_section(report),
        not_waste_section(report),
        warnings_section(report),
    ];
    for (title, body) in sections.into_iter().flatten() {
        let section = details(&title, &body);
        if doc.len() + section.len() <= BUDGET {
            doc.push_str(&section);
        } else {
            let _ = writeln!(
                doc,
                "_{} left out: the comment would pass GitHub's 65,536-character limit. The JSON report (`--format json`) has everything._\n",
                text(&title)
            );
        }
    }
    let _ = writeln!(
        doc,
        "<sub>{} {} · {}</sub>",
        report.tool.name,
        report.tool.version,
        code(&report.image.source, false)
    );
    doc
}

/// The verdict: wasted X of Y, the pull cost, the gate, then what to change.
fn headline(report: &Report) -> String {
    let s = &report.summary;
    let mut doc = String::new();
    if s.wasted_bytes == 0 {
        let _ = writeln!(
            doc,
            "### layerwaste: no wasted bytes\n\nAll {} stored in the layers are visible in the final image.",
            human(s.total_bytes)
        );
    } else {
        let _ = write!(
            doc,
            "### layerwaste: {} of {} ({:.1}%) wasted\n\nStored in a layer and pulled with the image, but hidden in the final image.",
            human(s.wasted_bytes),
            human(s.total_bytes),
            percent(s.wasted_bytes, s.total_bytes)
        );
        if let Some(pull) = s.wasted_pull_bytes {
            let _ = write!(
                doc,
                " Every pull downloads about **{}** of it for nothing.",
                human(pull)
            );
        }
        doc.push('\n');
    }
    doc.push('\n');
    if let Some(t) = &report.thresholds {
        if t.passed() {
            let _ = writeln!(
                doc,
                "**Gate passed**: {} counted as the team's waste (efficiency {:.1}%), within every limit.",
                human(t.counted_wasted_bytes),
                t.counted_efficiency * 100.0
            );
        } else {
            let n = t.violations.len();
            let _ = writeln!(
                doc,
                "**Gate failed**: {n} limit{} crossed.\n",
                if n == 1 { "" } else { "s" }
            );
            for v in &t.violations {
                let _ = writeln!(doc, "- `{}`: {}", v.rule, text(&v.message));
            }
        }
        let mut left_out = Vec::new();
        if t.base_wasted_bytes > 0 {
            left_out.push(format!(
                "{} from the base image",
                human(t.base_wasted_bytes)
            ));
        }
        if t.ignored_wasted_bytes > 0 {
            left_out.push(format!(
                "{} in ignored paths",
                human(t.ignored_wasted_bytes)
            ));
        }
        if !left_out.is_empty() {
            let _ = writeln!(doc, "\nNot counted by the gate: {}.", left_out.join(", "));
        }
        doc.push('\n');
    }
    // The headline is above; then the findings, each with its fix on a line of its own.
    let c = &report.conclusion;
    let mut named: Vec<usize> = Vec::new();
    for (i, lead) in c.findings.iter().enumerate() {
        // Each step is named with its instruction once; after that, by index.
        let steps = if lead.steps_named_in(&named) {
            words_brief(&lead.steps())
        } else {
            words(&lead.steps())
        };
        named.extend(lead.added_by.iter().chain(&lead.hidden_by).map(|s| s.step));
        let _ = writeln!(
            doc,
            "{}. **{}**, {}\\\n   {steps}\\\n   **Fix:** {}\n",
            i + 1,
            lead.size(),
            text(&lead.words),
            // The steps were named with their instructions on the line above.
            words_brief(&lead.fix_words)
        );
    }
    for line in c.tail() {
        let _ = writeln!(doc, "{}\n", text(&line));
    }
    doc
}

fn details(summary: &str, body: &str) -> String {
    // The blank line after <summary> lets GitHub render the Markdown inside.
    format!(
        "<details><summary>{}</summary>\n\n{}\n</details>\n\n",
        text(summary),
        body.trim_end()
    )
}

fn step_cell(report: &Report, step: &StepReport) -> String {
    match (&report.dockerfile, step.dockerfile_line) {
        (Some(file), Some(line)) => {
            format!("{} ({}:{line})", step.index, code(file_name(file), true))
        }
        _ => step.index.to_string(),
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn instruction_cell(step: &StepReport) -> String {
    match step.instruction.as_deref() {
        Some(i) if !i.is_empty() => code(&truncate(&escape(i), INSTRUCTION_CHARS), true),
        _ => match step.layer {
            Some(l) => format!("_(layer {l})_"),
            None => String::new(),
        },
    }
}

/// The steps that hid a step's bytes, in step order: `steps 3 and 5, and 1 more`.
fn hidden_by(step: &StepReport) -> String {
    let by: Vec<usize> = step.removed_by.iter().map(|r| r.step).collect();
    if by.is_empty() {
        String::new()
    } else {
        list_indexes(&by, 2)
    }
}

fn steps_section(report: &Report) -> Option<(String, String)> {
    if report.steps.is_empty() {
        return None;
    }
    let mut body = String::from(
        "| Step | Instruction | Size | Wasted | Hidden by |\n| ---: | --- | ---: | ---: | --- |\n",
    );
    for step in report.steps.iter().take(MAX_STEP_ROWS) {
        let (size, wasted) = if step.layer.is_none() {
            ("–".to_string(), "–".to_string())
        } else if step.wasted_bytes > 0 {
            (
                human(step.bytes),
                format!("**{}**", human(step.wasted_bytes)),
            )
        } else {
            (human(step.bytes), human(0))
        };
        let by = hidden_by(step);
        let _ = writeln!(
            body,
            "| {} | {} | {size} | {wasted} | {} |",
            step_cell(report, step),
            instruction_cell(step),
            by
        );
    }
    if report.steps.len() > MAX_STEP_ROWS {
        let rest = &report.steps[MAX_STEP_ROWS..];
        let _ = writeln!(
            body,
            "| … | {} more steps |  | {} |  |",
            rest.len(),
            human(rest.iter().map(|s| s.wasted_bytes).sum())
        );
    }
    let s = &report.summary;
    let _ = writeln!(
        body,
        "| **total** |  | **{}** | **{}** |  |",
        human(s.total_bytes),
        human(s.wasted_bytes)
    );
    let _ = writeln!(
        body,
        "\nFinal image {}, efficiency {:.1}%.",
        human(s.final_bytes),
        s.efficiency * 100.0
    );
    Some((format!("Steps ({})", report.steps.len()), body))
}

/// Wasting steps, most waste first, index as the tie-break.
fn wasting(report: &Report) -> Vec<&StepReport> {
    report.wasting_steps()
}

fn step_title(step: &StepReport) -> String {
    match step.instruction.as_deref() {
        Some(i) if !i.is_empty() => format!(
            "Step {} {}",
            step.index,
            code(&truncate(&escape(i), INSTRUCTION_CHARS), false)
        ),
        _ => format!("Step {}", step.index),
    }
}

fn paths_section(report: &Report) -> Option<(String, String)> {
    let steps: Vec<&StepReport> = wasting(report)
        .into_iter()
        .filter(|s| !s.top_paths.is_empty())
        .collect();
    if steps.is_empty() {
        return None;
    }
    let mut body = String::new();
    for step in steps.iter().take(MAX_WASTING_STEPS) {
        let _ = writeln!(
            body,
            "**{}** wastes {}\n\n| Path | Wasted | Files | Why |\n| --- | ---: | ---: | --- |",
            step_title(step),
            human(step.wasted_bytes)
        );
        for p in step.top_paths.iter().take(MAX_PATH_ROWS) {
            let _ = writeln!(
                body,
                "| {} | {} | {} | {} |",
                if p.other {
                    format!("{} (the rest)", code(&escape(&p.path), true))
                } else {
                    code(&escape(&p.path), true)
                },
                human(p.bytes),
                p.files,
                why(&p.reasons, &p.removed_by)
            );
        }
        if step.top_paths.len() > MAX_PATH_ROWS {
            let rest = &step.top_paths[MAX_PATH_ROWS..];
            let _ = writeln!(
                body,
                "| … {} more | {} | {} |  |",
                rest.len(),
                human(rest.iter().map(|p| p.bytes).sum()),
                rest.iter().map(|p| p.files).sum::<u64>()
            );
        }
        body.push('\n');
    }
    more_steps(&mut body, steps.len());
    Some(("Where the wasted bytes are".to_string(), body))
}

fn more_steps(body: &mut String, shown_of: usize) {
    if shown_of > MAX_WASTING_STEPS {
        let _ = writeln!(
            body,
            "_… {} more steps; see the JSON report._",
            shown_of - MAX_WASTING_STEPS
        );
    }
}

fn findings_section(report: &Report) -> Option<(String, String)> {
    let steps: Vec<&StepReport> = wasting(report)
        .into_iter()
        .filter(|s| !s.findings.is_empty())
        .collect();
    if steps.is_empty() {
        return None;
    }
    let mut body = String::new();
    for step in steps.iter().take(MAX_WASTING_STEPS) {
        let _ = writeln!(body, "**{}**\n", step_title(step));
        for f in &step.findings {
            let _ = writeln!(
                body,
                "- `{}` · {} · {} file{} · hidden by step {}: {}. {}",
                f.pattern,
                human(f.bytes),
                f.files,
                if f.files == 1 { "" } else { "s" },
                f.removed_by,
                text(&f.words),
                words(&f.fix_words)
            );
        }
        body.push('\n');
    }
    more_steps(&mut body, steps.len());
    Some(("Findings and what to change".to_string(), body))
}

fn not_waste_section(report: &Report) -> Option<(String, String)> {
    if report.removable.is_empty() && report.duplicates.groups.is_empty() {
        return None;
    }
    let mut body = String::new();
    if !report.removable.is_empty() {
        body.push_str("Removable: package caches still in the final image.\n\n");
        for r in &report.removable {
            let _ = writeln!(
                body,
                "- {}: {} ({} file{}). {}",
                r.kind.label(),
                human(r.bytes),
                r.files,
                if r.files == 1 { "" } else { "s" },
                own_text(r.advice)
            );
        }
        body.push('\n');
    }
    let d = &report.duplicates;
    if !d.groups.is_empty() {
        let _ = writeln!(
            body,
            "Duplicates: {} of identical content at more than one live path ({} extra {}).\n\n| Each | Paths |\n| ---: | --- |",
            human(d.bytes),
            d.files,
            if d.files == 1 { "copy" } else { "copies" }
        );
        for g in d.groups.iter().take(MAX_DUPLICATE_GROUPS) {
            let mut paths: Vec<String> = g
                .paths
                .iter()
                .take(5)
                .map(|p| code(&escape(p), true))
                .collect();
            if g.paths.len() > 5 {
                paths.push(format!("… {} more", g.paths.len() - 5));
            }
            let _ = writeln!(body, "| {} | {} |", human(g.bytes_each), paths.join(", "));
        }
        if d.groups.len() > MAX_DUPLICATE_GROUPS {
            let _ = writeln!(
                body,
                "| … | {} more groups |",
                d.groups.len() - MAX_DUPLICATE_GROUPS
            );
        }
    }
    Some(("Not waste, but worth a look".to_string(), body))
}

fn warnings_section(report: &Report) -> Option<(String, String)> {
    if report.warnings.is_empty() {
        return None;
    }
    // A fenced block shows warnings verbatim: nothing in it is interpreted.
    let lines: Vec<String> = report
        .warnings
        .iter()
        .take(MAX_WARNINGS)
        .map(|w| escape(w))
        .collect();
    let fence = "`".repeat(3.max(longest_backtick_run(&lines.concat()) + 1));
    let mut body = format!("{fence}text\n");
    for line in &lines {
        let _ = writeln!(body, "{line}");
    }
    if report.warnings.len() > MAX_WARNINGS {
        let _ = writeln!(body, "… {} more", report.warnings.len() - MAX_WARNINGS);
    }
    let _ = writeln!(body, "{fence}");
    Some((format!("Warnings ({})", report.warnings.len()), body))
}

fn longest_backtick_run(s: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// A code span holding `s` literally. Its delimiter is one backtick longer than any run
/// inside; in a table cell, `|` is written `\|`, which GFM splits cells on before it
/// reads code spans. Control characters are made visible so no line break gets in.
pub fn code(s: &str, in_table: bool) -> String {
    let mut s = escape(s);
    if s.is_empty() {
        return String::new();
    }
    if in_table {
        s = s.replace('|', "\\|");
    }
    let fence = "`".repeat(longest_backtick_run(&s) + 1);
    // A space on each side keeps a leading or trailing backtick off the delimiter;
    // CommonMark strips one space from each side when both are there.
    let pad = s.starts_with('`') || s.ends_with('`') || (s.starts_with(' ') && s.ends_with(' '));
    if pad {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// Inline text with nothing left for Markdown or HTML to interpret: control characters
/// made visible, then every character that could start markup as an entity.
pub fn text(s: &str) -> String {
    let s = escape(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            '\\' => out.push_str("&#92;"),
            '*' => out.push_str("&#42;"),
            '_' => out.push_str("&#95;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            '~' => out.push_str("&#126;"),
            '#' => out.push_str("&#35;"),
            '!' => out.push_str("&#33;"),
            c => out.push(c),
        }
    }
    out
}

/// Words as Markdown: layerwaste's text escaped as [`text`], its commands and each
/// step's instruction (from the image) as code spans built by [`code`].
pub fn words(w: &Words) -> String {
    let mut out = String::new();
    for span in &w.0 {
        match span {
            Span::Text(t) => out.push_str(&text(t)),
            Span::Code(c) => out.push_str(&code(c, false)),
            Span::Step(s) => {
                let bare = crate::explain::advice::StepRef {
                    instruction: None,
                    ..s.clone()
                };
                out.push_str(&text(&step_label(&bare, &|x: &str| x.to_string())));
                if let Some(i) = s.instruction.as_deref().filter(|i| !i.is_empty()) {
                    out.push(' ');
                    out.push_str(&code(i, false));
                }
            }
        }
    }
    out
}

/// [`words`], naming steps by index alone (they were just named in full).
fn words_brief(w: &Words) -> String {
    let mut out = String::new();
    for span in &w.0 {
        match span {
            Span::Text(t) => out.push_str(&text(t)),
            Span::Code(c) => out.push_str(&code(c, false)),
            Span::Step(s) => out.push_str(&format!("step {}", s.step)),
        }
    }
    out
}

/// One of layerwaste's own fixed sentences (no outside text in it): its backtick pairs
/// become code spans, the rest text.
fn own_text(s: &str) -> String {
    if !s.matches('`').count().is_multiple_of(2) {
        return text(s);
    }
    s.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                code(part, false)
            } else {
                text(part)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{injection_report, sample_report};

    #[test]
    fn sample_comment() {
        insta::assert_snapshot!(comment(&sample_report()));
    }

    /// Parses `md` as GitHub does (CommonMark with tables) and returns the raw HTML it
    /// would pass through, the text of its code spans, and the cell count of each row.
    fn parse(md: &str) -> (Vec<String>, Vec<String>, Vec<usize>) {
        use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
        let (mut html, mut code, mut rows) = (Vec::new(), Vec::new(), Vec::new());
        for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
            match event {
                Event::Html(h) | Event::InlineHtml(h) => html.push(h.trim().to_string()),
                Event::Code(c) => code.push(c.to_string()),
                Event::Start(Tag::TableHead | Tag::TableRow) => rows.push(0),
                Event::End(TagEnd::TableCell) => {
                    if let Some(n) = rows.last_mut() {
                        *n += 1;
                    }
                }
                _ => {}
            }
        }
        (html, code, rows)
    }

    #[test]
    fn hostile_image_cannot_inject_markup() {
        let md = comment(&injection_report());
        insta::assert_snapshot!(md);
        let (html, code, rows) = parse(&md);
        // The only HTML is ours: balanced <details>, <summary> and <sub>.
        let ours = [
            "<details><summary>",
            "</summary>",
            "</details>",
            "<sub>",
            "</sub>",
        ];
        for h in &html {
            let rest = ours.iter().fold(h.clone(), |h, tag| h.replace(tag, ""));
            // What is left of a <summary> line is our escaped section title.
            assert!(!rest.contains('<'), "image HTML got through: {h:?}\n{md}");
        }
        // The hostile strings are there, as code, whole.
        assert!(code
            .iter()
            .any(|c| c.contains("</details><script>alert(1)</script>")));
        assert!(code.iter().any(|c| c == "tmp/a|b`c``d`/"), "{code:?}");
        assert!(code.iter().any(|c| c.contains("\\x1b[31mRED")));
        assert!(!md.contains('\x1b'), "{md}");
        // No pipe split a row: every table row has its table's cell count.
        assert!(rows.iter().all(|&n| n == 5 || n == 4), "{rows:?}");
    }

    #[test]
    fn code_spans_outlast_backticks() {
        assert_eq!(code("a`b", false), "``a`b``");
        assert_eq!(code("`x`", false), "`` `x` ``");
        assert_eq!(code("a|b", true), "`a\\|b`");
        assert_eq!(code("a\nb", false), "`a\\nb`");
    }

    #[test]
    fn text_escapes_markup() {
        assert_eq!(
            text("</details><b>*x*</b> | `y`"),
            "&lt;/details&gt;&lt;b&gt;&#42;x&#42;&lt;/b&gt; &#124; &#96;y&#96;"
        );
    }

    #[test]
    fn long_reports_stay_under_the_comment_limit() {
        let mut report = sample_report();
        let mut template = report.steps[2].clone();
        for p in &mut template.top_paths {
            p.path = format!("usr/{}/", "long-directory-name/".repeat(50));
        }
        for i in 0..3000 {
            let mut s = template.clone();
            s.index = i + 10;
            s.instruction = Some(format!("RUN {}", "x".repeat(300)));
            report.steps.push(s);
        }
        let md = comment(&report);
        assert!(md.chars().count() <= COMMENT_LIMIT, "{}", md.len());
        assert!(md.contains("more steps"));
        assert!(md.contains("left out"));
    }
}
