//! The diff of two reports ([`crate::explain::diff`]) as a terminal table, markdown and
//! JSON: the same renderers as a report's, behind the same [`Render`] trait.

use std::io::Write;

use super::json::Json;
use super::markdown::Markdown;
use super::table::{Styles, Table};
use super::Render;
use crate::explain::diff::{DiffReport, Status, StepChange};
use crate::text::{escape, human, truncate};

impl Render<DiffReport> for Table {
    fn render(&self, diff: &DiffReport, out: &mut dyn Write) -> std::io::Result<()> {
        diff_table(diff, self.width, self.styles, out)
    }
}

impl Render<DiffReport> for Markdown {
    fn render(&self, diff: &DiffReport, out: &mut dyn Write) -> std::io::Result<()> {
        diff_markdown(diff, out)
    }
}

impl Render<DiffReport> for Json {
    fn render(&self, diff: &DiffReport, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, diff)?;
        out.write_all(b"\n")
    }
}

fn signed_human(d: i64) -> String {
    let sign = if d > 0 {
        "+"
    } else if d < 0 {
        "-"
    } else {
        "±"
    };
    format!("{sign}{}", human(d.unsigned_abs()))
}

/// The diff as a terminal table.
fn diff_table(
    d: &DiffReport,
    width: usize,
    styles: Styles,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        styles.bold(&format!(
            "wasted {} → {} ({}): this change introduced {} of waste and removed {}.",
            human(d.old.wasted_bytes),
            human(d.new.wasted_bytes),
            signed_human(d.delta.wasted_bytes),
            human(d.introduced_waste),
            human(d.removed_waste)
        ))
    )?;
    writeln!(
        out,
        "total {} → {} ({})  final {} → {} ({})  efficiency {:.1}% → {:.1}%",
        human(d.old.total_bytes),
        human(d.new.total_bytes),
        signed_human(d.delta.total_bytes),
        human(d.old.final_bytes),
        human(d.new.final_bytes),
        signed_human(d.delta.final_bytes),
        d.old.efficiency * 100.0,
        d.new.efficiency * 100.0
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        styles.bold(&format!(
            "{:<8} {:>4} {:>4} {:>10} {:>10}  INSTRUCTION",
            "STATUS", "OLD", "NEW", "WASTED", "DELTA"
        ))
    )?;
    for s in &d.steps {
        let step = |i: Option<usize>| i.map(|i| i.to_string()).unwrap_or_else(|| "-".into());
        let status = s.status.name();
        let fixed = format!(
            "{:<8} {:>4} {:>4} {:>10} {:>10}  ",
            status,
            step(s.old_step),
            step(s.new_step),
            human(s.shown_wasted()),
            signed_human(s.wasted_delta)
        );
        let room = width.saturating_sub(fixed.chars().count()).max(20);
        let line = format!(
            "{fixed}{}",
            truncate(&escape(s.instruction.as_deref().unwrap_or("")), room)
        );
        let line = match s.wasted_delta {
            d if d > 0 => styles.red(&line),
            d if d < 0 => styles.green(&line),
            _ if s.status == Status::Same => styles.dim(&line),
            _ => line,
        };
        writeln!(out, "{line}")?;
    }
    if let Some(g) = &d.gate {
        writeln!(out)?;
        writeln!(out, "{}", g.message)?;
    }
    Ok(())
}

/// The diff as a pull-request comment.
fn diff_markdown(d: &DiffReport, out: &mut dyn Write) -> std::io::Result<()> {
    let verdict = match d.delta.wasted_bytes {
        x if x > 0 => format!(
            ":warning: This change **adds {}** of wasted bytes.",
            human(x as u64)
        ),
        x if x < 0 => format!(
            ":tada: This change **removes {}** of wasted bytes.",
            human(x.unsigned_abs())
        ),
        _ => "This change leaves the wasted bytes as they were.".to_string(),
    };
    writeln!(out, "### layerwaste diff\n\n{verdict}\n")?;
    if let Some(g) = &d.gate {
        let mark = if g.passed {
            ":white_check_mark:"
        } else {
            ":x:"
        };
        writeln!(
            out,
            "{mark} {}\n",
            crate::report::markdown::text(&g.message)
        )?;
    }
    writeln!(
        out,
        "| | old | new | change |\n| --- | ---: | ---: | ---: |"
    )?;
    for (name, o, n, delta) in [
        (
            "total",
            d.old.total_bytes,
            d.new.total_bytes,
            d.delta.total_bytes,
        ),
        (
            "final",
            d.old.final_bytes,
            d.new.final_bytes,
            d.delta.final_bytes,
        ),
        (
            "wasted",
            d.old.wasted_bytes,
            d.new.wasted_bytes,
            d.delta.wasted_bytes,
        ),
    ] {
        writeln!(
            out,
            "| {name} | {} | {} | {} |",
            human(o),
            human(n),
            signed_human(delta)
        )?;
    }
    writeln!(
        out,
        "| efficiency | {:.1}% | {:.1}% | {:+.1} pt |\n",
        d.old.efficiency * 100.0,
        d.new.efficiency * 100.0,
        d.delta.efficiency * 100.0
    )?;
    writeln!(
        out,
        "Introduced {} of waste, removed {}.\n",
        human(d.introduced_waste),
        human(d.removed_waste)
    )?;
    let changed: Vec<&StepChange> = d
        .steps
        .iter()
        .filter(|s| s.status != Status::Same)
        .collect();
    writeln!(
        out,
        "<details><summary>{} steps added, removed or changed</summary>\n",
        changed.len()
    )?;
    writeln!(out, "| status | old step | new step | wasted | change | instruction |\n| --- | ---: | ---: | ---: | ---: | --- |")?;
    for s in changed {
        let step = |i: Option<usize>| i.map(|i| i.to_string()).unwrap_or_else(|| "—".into());
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            s.status.name(),
            step(s.old_step),
            step(s.new_step),
            human(s.shown_wasted()),
            signed_human(s.wasted_delta),
            crate::report::markdown::code(s.instruction.as_deref().unwrap_or(""), true)
        )?;
    }
    writeln!(out, "\n</details>")
}
