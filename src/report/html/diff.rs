//! `layerwaste diff OLD NEW --format html`: the same page for a pull request, step by
//! step: what the change added and removed, each matched step with its old bar above
//! its new one, to one scale.

use std::io::Write;

use super::{grouped, Html, Page, LIVE_COLOUR};
use crate::explain::diff::{DiffReport, Status, StepChange};
use crate::report::Render;
use crate::text::human;

/// The diff model has no reasons, so its wasted bytes take one colour: the deleted one.
pub const WASTED_COLOUR: &str = "#d62728";

impl Render<DiffReport> for Html {
    fn render(&self, diff: &DiffReport, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(page(diff).as_bytes())
    }
}

fn signed_human(d: i64) -> String {
    let sign = match d {
        d if d > 0 => "+",
        d if d < 0 => "-",
        _ => "±",
    };
    format!("{sign}{}", human(d.unsigned_abs()))
}

/// The whole page for a diff.
pub fn page(d: &DiffReport) -> String {
    let mut p = Page::new();
    p.open(&format!(
        "layerwaste diff: {} → {}",
        d.old.source, d.new.source
    ));
    p.raw("<header><h1>layerwaste diff</h1><div class=\"muted\"><code>")
        .text(&d.old.source)
        .raw("</code> → <code>")
        .text(&d.new.source)
        .raw(
            "</code></div></header>\n<section class=\"verdict\" id=\"verdict\"><p class=\"lead\">",
        );
    match d.delta.wasted_bytes {
        x if x > 0 => {
            p.raw("This change adds ")
                .bytes(x as u64)
                .raw(" of wasted bytes.");
        }
        x if x < 0 => {
            p.raw("This change removes ")
                .bytes(x.unsigned_abs())
                .raw(" of wasted bytes.");
        }
        _ => {
            p.raw("This change leaves the wasted bytes as they were.");
        }
    }
    p.raw("</p><p>It introduced ")
        .bytes(d.introduced_waste)
        .raw(" of waste and removed ")
        .bytes(d.removed_waste)
        .raw(".</p></section>\n");
    if let Some(g) = &d.gate {
        p.raw(if g.passed {
            "<div class=\"gate pass\" id=\"gate\">"
        } else {
            "<div class=\"gate fail\" id=\"gate\">"
        })
        .text(&g.message)
        .raw("</div>\n");
    }
    summary(&mut p, d);
    steps(&mut p, d);
    p.close(&format!("{} → {}", d.old.source, d.new.source))
}

fn summary(p: &mut Page, d: &DiffReport) {
    p.raw("<h2>Summary</h2><table id=\"summary\"><thead><tr><th></th><th class=\"n\">old</th><th class=\"n\">new</th><th class=\"n\">change</th></tr></thead><tbody>");
    for (id, name, old, new, delta) in [
        (
            "total",
            "stored in the layers",
            d.old.total_bytes,
            d.new.total_bytes,
            d.delta.total_bytes,
        ),
        (
            "final",
            "visible in the final image",
            d.old.final_bytes,
            d.new.final_bytes,
            d.delta.final_bytes,
        ),
        (
            "wasted",
            "wasted",
            d.old.wasted_bytes,
            d.new.wasted_bytes,
            d.delta.wasted_bytes,
        ),
    ] {
        p.raw("<tr id=\"")
            .raw(id)
            .raw("\"><th>")
            .raw(name)
            .raw("</th><td class=\"n\">")
            .bytes(old)
            .raw("</td><td class=\"n\">")
            .bytes(new)
            .raw("</td><td class=\"n\"><data value=\"")
            .val(delta)
            .raw("\" title=\"")
            .text(&format!("{:+}", delta))
            .raw(" bytes\">")
            .text(&signed_human(delta))
            .raw("</data></td></tr>");
    }
    p.raw("<tr id=\"efficiency\"><th>efficiency</th><td class=\"n\">")
        .val(format_args!("{:.1}%", d.old.efficiency * 100.0))
        .raw("</td><td class=\"n\">")
        .val(format_args!("{:.1}%", d.new.efficiency * 100.0))
        .raw("</td><td class=\"n\">")
        .val(format_args!("{:+.1} pt", d.delta.efficiency * 100.0))
        .raw("</td></tr></tbody></table>\n");
}

fn side_bar(p: &mut Page, label: &'static str, bytes: u64, wasted: u64, scale: u64) {
    let live = bytes.saturating_sub(wasted);
    p.raw("<div class=\"side\"><span class=\"muted\">")
        .raw(label)
        .raw("</span> ");
    p.bar(
        &[
            (
                live,
                LIVE_COLOUR,
                format!("{label}: {} visible", human(live)),
            ),
            (
                wasted,
                WASTED_COLOUR,
                format!("{label}: {} wasted", human(wasted)),
            ),
        ],
        scale,
    );
    p.raw("</div>");
}

fn steps(p: &mut Page, d: &DiffReport) {
    if d.steps.is_empty() {
        return;
    }
    let scale = d
        .steps
        .iter()
        .map(|s| s.old_bytes.max(s.new_bytes))
        .max()
        .unwrap_or(0);
    let changed = d.steps.iter().filter(|s| s.status != Status::Same).count();
    p.raw("<h2>Steps</h2><p>")
        .val(changed)
        .raw(" of ")
        .val(d.steps.len())
        .raw(" steps added, removed or changed. Each bar is a step's layer: ")
        .swatch(LIVE_COLOUR, "visible in the final image")
        .raw(" ")
        .swatch(WASTED_COLOUR, "wasted")
        .raw("</p>")
        .raw("<table id=\"steps\"><thead><tr><th>Status</th><th class=\"n\">Old</th><th class=\"n\">New</th><th>Instruction</th>")
        .raw("<th class=\"bar\">Bytes</th><th class=\"n\">Wasted</th><th class=\"n\" data-sort=\"delta\">Change</th></tr></thead>\n<tbody>\n");
    for s in &d.steps {
        row(p, s, scale);
    }
    p.raw("</tbody></table>\n");
}

fn row(p: &mut Page, s: &StepChange, scale: u64) {
    let step = |p: &mut Page, i: Option<usize>| {
        match i {
            Some(i) => p.val(i),
            None => p.raw("–"),
        };
    };
    p.raw("<tr class=\"")
        .raw(s.status.name())
        .raw("\" data-status=\"")
        .raw(s.status.name())
        .raw("\" data-delta=\"")
        .val(s.wasted_delta)
        .raw("\" data-old-wasted=\"")
        .val(s.old_wasted_bytes)
        .raw("\" data-new-wasted=\"")
        .val(s.new_wasted_bytes)
        .raw("\"><td>")
        .raw(s.status.name())
        .raw("</td><td class=\"n\">");
    step(p, s.old_step);
    p.raw("</td><td class=\"n\">");
    step(p, s.new_step);
    p.raw("</td><td><code>")
        .text(&crate::text::truncate(
            s.instruction.as_deref().unwrap_or(""),
            90,
        ))
        .raw("</code></td><td class=\"bar\">");
    if s.status != Status::Added {
        side_bar(p, "old", s.old_bytes, s.old_wasted_bytes, scale);
    }
    if s.status != Status::Removed {
        side_bar(p, "new", s.new_bytes, s.new_wasted_bytes, scale);
    }
    p.raw("</td><td class=\"n\">");
    match s.status {
        Status::Added => p.bytes(s.new_wasted_bytes),
        Status::Removed => p.bytes(s.old_wasted_bytes),
        _ => p
            .bytes(s.old_wasted_bytes)
            .raw(" → ")
            .bytes(s.new_wasted_bytes),
    };
    p.raw("</td><td class=\"n\"><data value=\"")
        .val(s.wasted_delta)
        .raw("\" title=\"")
        .text(&grouped(s.wasted_delta.unsigned_abs()))
        .raw(" bytes\">")
        .text(&signed_human(s.wasted_delta))
        .raw("</data></td></tr>\n");
}
