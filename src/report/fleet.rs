//! The fleet summary (`layerwaste scan/merge --format markdown|html`) for people: the
//! totals, the layers, patterns and instructions that waste the most, the images over
//! the gate and those that failed. Every name from outside (references, digests,
//! instructions, error messages) is escaped for the medium.

use std::io::{self, Write};

use super::markdown::{code, text};
use super::Render;
use crate::fleet::Summary;
use crate::text::human;

/// Markdown, for a wiki page or an issue.
pub struct FleetMarkdown;

/// One self-contained HTML page: no scripts, no outside resources.
pub struct FleetHtml;

/// The rows both renderers show, as plain (unescaped) cells.
struct Table {
    title: &'static str,
    head: &'static [&'static str],
    rows: Vec<Vec<Cell>>,
}

enum Cell {
    /// Text from outside: a reference, a digest, an instruction.
    Code(String),
    Plain(String),
}

fn tables(s: &Summary) -> Vec<Table> {
    let layers = Table {
        title: "Layers that waste the most (over every image that carries them)",
        head: &[
            "layer",
            "wasted in one image",
            "in every image",
            "over the fleet",
            "images",
        ],
        rows: s
            .layers
            .iter()
            .map(|l| {
                let mut images = l.images.join(", ");
                if l.image_count > l.images.len() {
                    images.push_str(&format!(", … ({} in all)", l.image_count));
                }
                vec![
                    Cell::Code(l.digest.clone()),
                    Cell::Plain(human(l.wasted_bytes)),
                    Cell::Plain(human(l.wasted_in_every_image)),
                    Cell::Plain(human(l.fleet_wasted_bytes)),
                    Cell::Code(images),
                ]
            })
            .collect(),
    };
    let patterns = Table {
        title: "Patterns",
        head: &["pattern", "wasted", "findings", "images"],
        rows: s
            .patterns
            .iter()
            .map(|p| {
                vec![
                    Cell::Code(p.pattern.clone()),
                    Cell::Plain(human(p.bytes)),
                    Cell::Plain(p.findings.to_string()),
                    Cell::Plain(p.images.to_string()),
                ]
            })
            .collect(),
    };
    let instructions = Table {
        title: "Instructions that waste the most",
        head: &["instruction", "wasted", "steps", "images"],
        rows: s
            .instructions
            .iter()
            .map(|i| {
                vec![
                    Cell::Code(crate::text::truncate(&i.instruction, 120)),
                    Cell::Plain(human(i.wasted_bytes)),
                    Cell::Plain(i.steps.to_string()),
                    Cell::Plain(i.images.to_string()),
                ]
            })
            .collect(),
    };
    let gate = Table {
        title: "Images over the gate",
        head: &["image", "limits crossed"],
        rows: s
            .over_gate
            .iter()
            .map(|g| {
                vec![
                    Cell::Code(g.reference.clone()),
                    Cell::Plain(g.violations.join("; ")),
                ]
            })
            .collect(),
    };
    let errors = Table {
        title: "Images that could not be read",
        head: &["image", "error"],
        rows: s
            .errors
            .iter()
            .map(|e| {
                vec![
                    Cell::Code(e.reference.clone()),
                    Cell::Plain(e.error.clone()),
                ]
            })
            .collect(),
    };
    [layers, patterns, instructions, gate, errors]
        .into_iter()
        .filter(|t| !t.rows.is_empty())
        .collect()
}

fn headline(s: &Summary) -> Vec<String> {
    let w = &s.wasted;
    let mut out = vec![
        format!(
            "{} images ({} analysed, {} failed, {} distinct digests): {} stored, {} visible.",
            s.images,
            s.analysed,
            s.failed,
            s.distinct_digests,
            human(s.total_bytes),
            human(s.final_bytes)
        ),
        format!(
            "Wasted, counted per image (what pulls download): {} ({} compressed{}).",
            human(w.per_image_bytes),
            human(w.per_image_pull_bytes),
            if w.pull_unknown_images > 0 {
                format!(", {} images with uncompressed waste left out", w.pull_unknown_images)
            } else {
                String::new()
            }
        ),
        format!(
            "Wasted, counted once per unique layer (what the registry stores): {} over {} layers ({} compressed).",
            human(w.unique_layer_bytes),
            w.unique_layers,
            human(w.unique_layer_stored_bytes)
        ),
    ];
    let r = &s.reads;
    out.push(format!(
        "Layers read: {}, from the cache: {}, shared within the run: {}.",
        r.layers_read, r.layers_from_cache, r.layers_shared
    ));
    out
}

impl Render<Summary> for FleetMarkdown {
    fn render(&self, s: &Summary, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "# layerwaste fleet summary\n")?;
        for line in headline(s) {
            writeln!(out, "- {}", text(&line))?;
        }
        for table in tables(s) {
            writeln!(out, "\n## {}\n", table.title)?;
            writeln!(out, "| {} |", table.head.join(" | "))?;
            writeln!(out, "|{}", " --- |".repeat(table.head.len()))?;
            for row in &table.rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| match c {
                        Cell::Code(s) => code(s, true),
                        Cell::Plain(s) => text(s),
                    })
                    .collect();
                writeln!(out, "| {} |", cells.join(" | "))?;
            }
        }
        Ok(())
    }
}

/// Escapes text for HTML content and attribute values, as the single-image page does.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    super::html::push_text(&mut out, s);
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}\
table{border-collapse:collapse;margin-bottom:1.5em}\
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}code{font-size:90%;word-break:break-all}";

impl Render<Summary> for FleetHtml {
    fn render(&self, s: &Summary, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>layerwaste fleet summary</title><style>{STYLE}</style></head><body>"
        )?;
        writeln!(out, "<h1>layerwaste fleet summary</h1>\n<ul>")?;
        for line in headline(s) {
            writeln!(out, "<li>{}</li>", html_escape(&line))?;
        }
        writeln!(out, "</ul>")?;
        for table in tables(s) {
            writeln!(out, "<h2>{}</h2>\n<table><tr>", html_escape(table.title))?;
            for h in table.head {
                write!(out, "<th>{}</th>", html_escape(h))?;
            }
            writeln!(out, "</tr>")?;
            for row in &table.rows {
                write!(out, "<tr>")?;
                for c in row {
                    match c {
                        Cell::Code(s) => write!(out, "<td><code>{}</code></td>", html_escape(s))?,
                        Cell::Plain(s) => write!(out, "<td>{}</td>", html_escape(s))?,
                    }
                }
                writeln!(out, "</tr>")?;
            }
            writeln!(out, "</table>")?;
        }
        writeln!(out, "</body></html>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::shared::LayerReads;
    use crate::fleet::{ErrorLine, Line};

    #[test]
    fn hostile_names_are_escaped_in_both_media() {
        let lines = vec![Line::Error(ErrorLine {
            reference: "docker://r/<script>alert(1)</script>|`x`:1".into(),
            error: "no such image: </td>\u{1b}[2J".into(),
        })];
        let s = Summary::of(&lines, LayerReads::default());
        let mut html = Vec::new();
        FleetHtml.render(&s, &mut html).unwrap();
        let html = String::from_utf8(html).unwrap();
        assert!(!html.contains("<script>") && !html.contains("</td>\u{1b}"));
        assert!(html.contains("&lt;script&gt;"));
        let mut md = Vec::new();
        FleetMarkdown.render(&s, &mut md).unwrap();
        let md = String::from_utf8(md).unwrap();
        // In a code span `<script>` is text; outside one, markup is an entity.
        assert!(!md.contains('\u{1b}') && md.contains("&lt;/td&gt;"));
        assert!(md.contains("``docker://r/<script>alert(1)</script>\\|`x`:1``"));
        assert!(md.contains("Images that could not be read"));
    }
}
