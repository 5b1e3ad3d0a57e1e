//! `--format html`: one self-contained page a reviewer can open or attach to a pull
//! request. Inline CSS and SVG only; nothing is loaded from anywhere, and a
//! Content-Security-Policy says so to the browser (`default-src 'none'`, the one style
//! sheet and the one script allowed by their hashes). The script only sorts the steps
//! table and opens or closes every tree; the bars are SVG and the trees `<details>`,
//! so the page reads the same with scripts off.
//!
//! The markup is written by [`Page`], a small escaping writer, rather than a template
//! crate: the page is a dozen fixed shapes, our own markup can only be a `&'static
//! str`, and every other string goes through one function that makes control
//! characters visible and turns `& < > " '` into entities, in text and attributes
//! alike. So a name holding `</svg><script>` is text wherever it lands, and there is no
//! template language or proc-macro crate to build for it.

pub mod diff;

use std::collections::BTreeMap;
use std::io::Write;

use super::{PathReport, Render, Report, StepReport};
use crate::explain::advice::{Span, Words};
use crate::model::Reason;
use crate::text::{escape, human, percent, truncate};

pub struct Html;

impl Render for Html {
    fn render(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(page(report).as_bytes())
    }
}

const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("script.js");
/// Pixels of the longest bar. The bars are drawn to scale in pixels (no `viewBox`), so
/// a screenshot measures them directly.
pub const BAR_WIDTH: f64 = 480.0;
pub const BAR_HEIGHT: u32 = 14;
/// Characters of an instruction shown in a row; the whole one is in its tooltip, up to
/// [`TOOLTIP_CHARS`].
const INSTRUCTION_CHARS: usize = 90;
const TOOLTIP_CHARS: usize = 2_000;
/// Wasting steps that start open in "where the wasted bytes are".
const OPEN_STEPS: usize = 3;

/// The colour of the bytes still visible in the final image.
pub const LIVE_COLOUR: &str = "#8796b0";

/// The colour of wasted bytes by their reason (docs/waste-model.md). Written as `fill`
/// attributes, so the bars keep their colours even where the style sheet is dropped.
pub fn reason_colour(reason: Reason) -> &'static str {
    match reason {
        Reason::Deleted => "#d62728",
        Reason::DeletedParent => "#ff7f0e",
        Reason::Opaque => "#9467bd",
        Reason::Overwritten => "#c9a100",
        Reason::MetadataOnly => "#17becf",
        Reason::TypeReplaced => "#8c564b",
    }
}

/// The page being written. [`Page::raw`] takes only our own markup (a `&'static str`);
/// everything else goes through [`Page::text`].
pub(crate) struct Page {
    html: String,
}

/// Appends outside text for HTML content or an attribute value: control, bidi and
/// line-separator characters made visible (`text::escape`), then markup as entities.
pub(crate) fn push_text(out: &mut String, s: &str) {
    for c in escape(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

impl Page {
    fn new() -> Page {
        Page {
            html: String::with_capacity(64 * 1024),
        }
    }

    pub(crate) fn raw(&mut self, markup: &'static str) -> &mut Self {
        self.html.push_str(markup);
        self
    }

    /// Outside text, for an element's content or a double-quoted attribute value.
    pub(crate) fn text(&mut self, s: &str) -> &mut Self {
        push_text(&mut self.html, s);
        self
    }

    /// A number or other value of ours; escaped all the same, since it costs nothing.
    pub(crate) fn val(&mut self, v: impl std::fmt::Display) -> &mut Self {
        let s = v.to_string();
        self.text(&s)
    }

    /// A byte count: the human size, with the exact count in its value and tooltip.
    pub(crate) fn bytes(&mut self, n: u64) -> &mut Self {
        self.raw("<data value=\"")
            .val(n)
            .raw("\" title=\"")
            .text(&grouped(n))
            .raw(" bytes\">")
            .text(&human(n))
            .raw("</data>")
    }

    /// One of layerwaste's own fixed sentences (no outside text in it, such as a cache's
    /// fix): its backtick pairs become `<code>`, the rest text.
    pub(crate) fn fixed_sentence(&mut self, sentence: &str) -> &mut Self {
        if !sentence.matches('`').count().is_multiple_of(2) {
            return self.text(sentence);
        }
        for (i, part) in sentence.split('`').enumerate() {
            if i % 2 == 1 {
                self.raw("<code>").text(part).raw("</code>");
            } else {
                self.text(part);
            }
        }
        self
    }

    /// Words of the report model: layerwaste's text, its commands as `<code>`, and each
    /// step as "step N (line L)" with its instruction (outside text) as `<code>`.
    /// `brief` names steps by index alone, where they were just named in full.
    pub(crate) fn words(&mut self, w: &Words, brief: bool) -> &mut Self {
        for span in &w.0 {
            match span {
                Span::Text(t) => {
                    self.text(t);
                }
                Span::Code(c) => {
                    self.raw("<code>").text(c).raw("</code>");
                }
                Span::Step(s) => {
                    self.raw("step ").val(s.step);
                    if brief {
                        continue;
                    }
                    if let Some(line) = s.dockerfile_line {
                        self.raw(" (line ").val(line).raw(")");
                    }
                    if let Some(i) = s.instruction.as_deref().filter(|i| !i.is_empty()) {
                        self.raw(" <code>").text(i).raw("</code>");
                    }
                }
            }
        }
        self
    }

    /// A horizontal bar: `(bytes, colour, tooltip)` segments from the left, at
    /// [`BAR_WIDTH`] pixels per `scale` bytes.
    pub(crate) fn bar(&mut self, segments: &[(u64, &'static str, String)], scale: u64) {
        self.raw("<svg width=\"")
            .val(BAR_WIDTH)
            .raw("\" height=\"")
            .val(BAR_HEIGHT)
            .raw("\" shape-rendering=\"crispEdges\">");
        let mut x = 0.0;
        for (bytes, colour, tip) in segments {
            let width = px(*bytes, scale);
            if width <= 0.0 {
                continue;
            }
            self.raw("<rect x=\"")
                .val(format_args!("{x:.2}"))
                .raw("\" width=\"")
                .val(format_args!("{width:.2}"))
                .raw("\" height=\"")
                .val(BAR_HEIGHT)
                .raw("\" fill=\"")
                .raw(colour)
                .raw("\"><title>")
                .text(tip)
                .raw("</title></rect>");
            x += width;
        }
        self.raw("</svg>");
    }

    /// A legend swatch: a little square in `colour` and its name.
    pub(crate) fn swatch(&mut self, colour: &'static str, name: &str) -> &mut Self {
        self.raw("<span><svg width=\"12\" height=\"12\"><rect width=\"12\" height=\"12\" fill=\"")
            .raw(colour)
            .raw("\"/></svg>")
            .text(name)
            .raw("</span>")
    }

    /// The document's head and the start of its body.
    pub(crate) fn open(&mut self, title: &str) {
        self.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
            .raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-")
            .val(digest(STYLE))
            .raw("'; script-src 'sha256-")
            .val(digest(SCRIPT))
            .raw("'\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .raw("<meta name=\"generator\" content=\"")
            .val(concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION")))
            .raw("\">\n<title>")
            .text(title)
            .raw("</title>\n<style>")
            .raw(STYLE)
            .raw("</style></head>\n<body>\n");
    }

    /// The footer, the script and the end of the document.
    pub(crate) fn close(mut self, source: &str) -> String {
        self.raw("<footer>")
            .val(concat!(
                env!("CARGO_PKG_NAME"),
                " ",
                env!("CARGO_PKG_VERSION")
            ))
            .raw(" · <code>")
            .text(source)
            .raw("</code></footer>\n<script>")
            .raw(SCRIPT)
            .raw("</script>\n</body></html>\n");
        self.html
    }
}

/// The CSP hash of an inline element's text.
fn digest(text: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
}

fn px(bytes: u64, scale: u64) -> f64 {
    if scale == 0 {
        0.0
    } else {
        bytes as f64 * BAR_WIDTH / scale as f64
    }
}

/// `1234567` as `1,234,567`.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The whole page for one image.
pub fn page(report: &Report) -> String {
    let mut p = Page::new();
    p.open(&format!("layerwaste: {}", report.image.source));
    header(&mut p, report);
    verdict(&mut p, report);
    gate(&mut p, report);
    summary(&mut p, report);
    steps(&mut p, report);
    paths(&mut p, report);
    findings(&mut p, report);
    files(&mut p, report);
    not_waste(&mut p, report);
    warnings(&mut p, report);
    p.close(&report.image.source)
}

fn header(p: &mut Page, report: &Report) {
    p.raw("<header><h1>layerwaste: <code>")
        .text(&report.image.source)
        .raw("</code></h1><div class=\"muted\">");
    let mut facts = Vec::new();
    if let Some(platform) = &report.image.platform {
        facts.push(platform.clone());
    }
    if let Some(digest) = report
        .image
        .manifest_digest
        .as_ref()
        .or(report.image.config_digest.as_ref())
    {
        facts.push(digest.clone());
    }
    facts.extend(report.image.tags.iter().take(5).cloned());
    p.text(&facts.join(" · ")).raw("</div></header>\n");
}

/// The verdict, from the report's conclusion: the headline, then each finding as a
/// block (bytes and pattern, the steps, the fix on its own line), then the rest.
fn verdict(p: &mut Page, report: &Report) {
    let c = &report.conclusion;
    p.raw("<section class=\"verdict\" id=\"verdict\"><p class=\"lead\">")
        .text(&c.headline)
        .raw("</p>");
    if !c.findings.is_empty() {
        p.raw("<ol class=\"leads\">");
        let mut named: Vec<usize> = Vec::new();
        for lead in &c.findings {
            // Each step is named with its instruction once; after that, by index.
            let brief = lead.steps_named_in(&named);
            named.extend(lead.added_by.iter().chain(&lead.hidden_by).map(|s| s.step));
            p.raw("<li data-pattern=\"")
                .text(lead.pattern.id())
                .raw("\"><b>")
                .text(&lead.size())
                .raw("</b>, ")
                .text(&lead.words)
                .raw("<br>")
                .words(&lead.steps(), brief)
                .raw("<br><b>Fix:</b> ")
                .words(&lead.fix_words, true)
                .raw("</li>");
        }
        p.raw("</ol>");
    }
    for line in c.tail() {
        p.raw("<p>").text(&line).raw("</p>");
    }
    p.raw("</section>\n");
}

fn gate(p: &mut Page, report: &Report) {
    let Some(t) = &report.thresholds else { return };
    if t.passed() {
        p.raw("<div class=\"gate pass\" id=\"gate\"><b>Gate passed</b>: ")
            .bytes(t.counted_wasted_bytes)
            .raw(" counted as the team's waste (efficiency ")
            .val(format_args!("{:.1}", t.counted_efficiency * 100.0))
            .raw("%), within every limit.");
    } else {
        let n = t.violations.len();
        p.raw("<div class=\"gate fail\" id=\"gate\"><b>Gate failed</b>: ")
            .val(n)
            .raw(if n == 1 {
                " limit crossed.<ul>"
            } else {
                " limits crossed.<ul>"
            });
        for v in &t.violations {
            p.raw("<li><code>")
                .text(v.rule)
                .raw("</code>: ")
                .text(&v.message)
                .raw("</li>");
        }
        p.raw("</ul>");
    }
    if t.base_wasted_bytes > 0 || t.ignored_wasted_bytes > 0 {
        p.raw("<div class=\"muted\">Not counted by the gate: ")
            .bytes(t.base_wasted_bytes)
            .raw(" from the base image, ")
            .bytes(t.ignored_wasted_bytes)
            .raw(" in ignored paths.</div>");
    }
    p.raw("</div>\n");
}

fn figure(p: &mut Page, id: &'static str, name: &'static str, bytes: Option<u64>, note: &str) {
    p.raw("<div class=\"figure\" id=\"")
        .raw(id)
        .raw("\"><small>")
        .raw(name)
        .raw("</small><b>");
    match bytes {
        Some(n) => {
            p.bytes(n)
                .raw("</b><small class=\"exact\">")
                .text(&grouped(n))
                .raw(" bytes");
            if !note.is_empty() {
                p.raw(" · ").text(note);
            }
        }
        None => {
            p.raw("unknown</b><small>").text(note);
        }
    }
    p.raw("</small></div>");
}

/// The summary figures and the pull cost.
fn summary(p: &mut Page, report: &Report) {
    let s = &report.summary;
    p.raw("<h2>Summary</h2><div class=\"figures\" id=\"summary\">");
    figure(p, "total", "stored in the layers", Some(s.total_bytes), "");
    figure(
        p,
        "final",
        "visible in the final image",
        Some(s.final_bytes),
        "",
    );
    figure(
        p,
        "wasted",
        "wasted",
        Some(s.wasted_bytes),
        &format!("{:.1}%", percent(s.wasted_bytes, s.total_bytes)),
    );
    figure(
        p,
        "pull",
        "wasted per pull (compressed)",
        s.wasted_pull_bytes,
        if s.wasted_pull_bytes.is_some() {
            ""
        } else {
            "the wasting layers are stored uncompressed"
        },
    );
    p.raw("<div class=\"figure\" id=\"efficiency\"><small>efficiency</small><b>")
        .val(format_args!("{:.1}%", s.efficiency * 100.0))
        .raw("</b><small>")
        .val(s.layers)
        .raw(" layers, ")
        .val(s.steps)
        .raw(" steps</small></div>");
    figure(
        p,
        "duplicates",
        "duplicates (not waste)",
        Some(s.duplicate_bytes),
        &format!("{} extra copies", s.duplicate_files),
    );
    figure(
        p,
        "removable",
        "removable caches (not waste)",
        Some(s.removable_bytes),
        "",
    );
    p.raw("</div>\n");
}

/// How a row names a step: its index and, with `--dockerfile`, the file and line.
fn step_cell(p: &mut Page, report: &Report, step: &StepReport) {
    p.val(step.index);
    if let (Some(file), Some(line)) = (&report.dockerfile, step.dockerfile_line) {
        p.raw(" <span class=\"muted dockerfile\">")
            .text(file.rsplit('/').next().unwrap_or(file))
            .raw(":")
            .val(line)
            .raw("</span>");
    }
}

fn instruction(p: &mut Page, step: &StepReport) {
    match step.instruction.as_deref() {
        Some(i) if !i.is_empty() => {
            p.raw("<code title=\"")
                .text(&truncate(
                    step.created_by.as_deref().unwrap_or(i),
                    TOOLTIP_CHARS,
                ))
                .raw("\">")
                .text(&truncate(i, INSTRUCTION_CHARS))
                .raw("</code>");
        }
        _ => {
            if let Some(l) = step.layer {
                p.raw("<span class=\"muted\">(layer ")
                    .val(l)
                    .raw(")</span>");
            }
        }
    }
}

/// A step's bar: its live bytes, then its wasted bytes by the step that hid them and
/// by reason, to the scale of the largest step.
fn step_bar(p: &mut Page, step: &StepReport, scale: u64) {
    let live = step.bytes.saturating_sub(step.wasted_bytes);
    let mut segments = vec![(
        live,
        LIVE_COLOUR,
        format!("{} still visible in the final image", human(live)),
    )];
    let mut by = step.removed_by.clone();
    by.sort_by_key(|r| r.step);
    let mut drawn = 0;
    for r in &by {
        for (&reason, &bytes) in &r.reasons {
            segments.push((
                bytes,
                reason_colour(reason),
                format!(
                    "{} {}, hidden by step {}",
                    human(bytes),
                    reason.as_str(),
                    r.step
                ),
            ));
            drawn += bytes;
        }
    }
    // The hiders' reasons add up to the step's waste; should a model ever leave some
    // unattributed, it is still drawn, by reason alone.
    if drawn < step.wasted_bytes {
        let mut rest = step.wasted_bytes - drawn;
        for (&reason, &bytes) in &step.wasted_by_reason {
            let bytes = bytes.min(rest);
            if bytes > 0 {
                segments.push((
                    bytes,
                    reason_colour(reason),
                    format!("{} {}", human(bytes), reason.as_str()),
                ));
            }
            rest -= bytes;
        }
    }
    p.bar(&segments, scale);
}

fn legend(p: &mut Page) {
    p.raw("<div class=\"legend\">");
    p.swatch(LIVE_COLOUR, "visible in the final image");
    for reason in Reason::ALL {
        p.swatch(reason_colour(reason), reason.as_str());
    }
    p.raw("</div>");
}

/// One row and one bar per step.
fn steps(p: &mut Page, report: &Report) {
    if report.steps.is_empty() {
        return;
    }
    let scale = report.steps.iter().map(|s| s.bytes).max().unwrap_or(0);
    p.raw("<h2>Steps</h2>");
    legend(p);
    p.raw("<table id=\"steps\"><thead><tr><th class=\"n\" data-sort=\"step\">Step</th><th>Instruction</th>")
        .raw("<th class=\"bar\">Bytes</th><th class=\"n\" data-sort=\"bytes\">Size</th>")
        .raw("<th class=\"n\" data-sort=\"wasted\">Wasted</th><th>Hidden by</th></tr></thead>\n<tbody>\n");
    for step in &report.steps {
        p.raw("<tr data-step=\"")
            .val(step.index)
            .raw("\" data-bytes=\"")
            .val(step.bytes)
            .raw("\" data-wasted=\"")
            .val(step.wasted_bytes)
            .raw(if step.layer.is_none() {
                "\" class=\"empty\"><td class=\"n\">"
            } else {
                "\"><td class=\"n\">"
            });
        step_cell(p, report, step);
        p.raw("</td><td>");
        instruction(p, step);
        p.raw("</td><td class=\"bar\">");
        if step.layer.is_some() {
            step_bar(p, step, scale);
            p.raw("</td><td class=\"n\">").bytes(step.bytes);
            p.raw("</td><td class=\"n\">").bytes(step.wasted_bytes);
        } else {
            p.raw("no layer</td><td class=\"n\">–</td><td class=\"n\">–");
        }
        p.raw("</td><td>");
        let mut by = step.removed_by.clone();
        by.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.step.cmp(&b.step)));
        for (i, r) in by.iter().enumerate() {
            p.raw(if i == 0 { "step " } else { ", " })
                .val(r.step)
                .raw(" (")
                .bytes(r.bytes)
                .raw(")");
        }
        p.raw("</td></tr>\n");
    }
    let s = &report.summary;
    p.raw("</tbody><tfoot><tr><th></th><th>total</th><th></th><th class=\"n\">")
        .bytes(s.total_bytes)
        .raw("</th><th class=\"n\">")
        .bytes(s.wasted_bytes)
        .raw("</th><th></th></tr></tfoot></table>\n");
}

/// Wasting steps, most waste first, index as the tie-break.
fn wasting(report: &Report) -> Vec<&StepReport> {
    report.wasting_steps()
}

fn step_summary(p: &mut Page, report: &Report, step: &StepReport) {
    p.raw("<b>Step ");
    step_cell(p, report, step);
    p.raw("</b> ");
    instruction(p, step);
}

/// A directory of one step's top wasted paths: rows that sit exactly here, and the
/// directories below.
#[derive(Default)]
struct Dir<'a> {
    rows: Vec<&'a PathReport>,
    children: BTreeMap<&'a str, Dir<'a>>,
    bytes: u64,
}

impl<'a> Dir<'a> {
    fn of(paths: &'a [PathReport]) -> Dir<'a> {
        let mut root = Dir::default();
        for row in paths {
            let mut dir = &mut root;
            dir.bytes += row.bytes;
            // A directory's own row (or its "the rest" row) sits in that directory; a
            // file's in its parent, as a leaf.
            let trimmed = row.path.trim_end_matches('/');
            let mut parts: Vec<&str> = trimmed.split('/').filter(|c| !c.is_empty()).collect();
            if !row.path.ends_with('/') {
                parts.pop();
            }
            for part in parts {
                dir = dir.children.entry(part).or_default();
                dir.bytes += row.bytes;
            }
            dir.rows.push(row);
        }
        root
    }
}

/// The tree of one step's top wasted paths. A chain of directories with one child
/// each is one line (`usr/share/doc/`), and a directory holding at least half of the
/// step's waste starts open, so the page opens on the culprit.
fn tree(p: &mut Page, dir: &Dir, name: String, step_wasted: u64) {
    let mut name = name;
    let mut dir = dir;
    while dir.rows.is_empty() && dir.children.len() == 1 {
        let (child, below) = dir.children.iter().next().expect("one child");
        name = format!("{name}{child}/");
        dir = below;
    }
    // A directory that is one row and nothing below is a line, not a tree.
    if let ([row], true) = (dir.rows.as_slice(), dir.children.is_empty()) {
        if !row.other {
            if !row.path.ends_with('/') {
                name.push_str(row.path.rsplit('/').next().unwrap_or(&row.path));
            }
            return leaf(p, row, &name);
        }
    }
    p.raw(if dir.bytes * 2 >= step_wasted {
        "<details open><summary><span class=\"size\">"
    } else {
        "<details><summary><span class=\"size\">"
    })
    .bytes(dir.bytes)
    .raw("</span><code>")
    .text(&name)
    .raw("</code></summary>");
    let mut children: Vec<(&&str, &Dir)> = dir.children.iter().collect();
    children.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(b.0)));
    for (child, below) in children {
        tree(p, below, format!("{child}/"), step_wasted);
    }
    let mut rows = dir.rows.clone();
    rows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
    for row in rows {
        let name = if row.path.ends_with('/') {
            if row.other {
                "(the rest)"
            } else {
                "(this directory)"
            }
        } else {
            row.path.rsplit('/').next().unwrap_or(&row.path)
        };
        leaf(p, row, name);
    }
    p.raw("</details>");
}

/// One row of the top paths: its size, name, files, reasons and hiders.
fn leaf(p: &mut Page, row: &PathReport, name: &str) {
    p.raw("<div class=\"leaf\"><span class=\"size\">")
        .bytes(row.bytes)
        .raw("</span><code>")
        .text(name)
        .raw("</code> <span class=\"muted\">")
        .val(row.files)
        .raw(if row.files == 1 {
            " file, "
        } else {
            " files, "
        });
    let reasons: Vec<&str> = row.reasons.iter().map(|r| r.as_str()).collect();
    let by: Vec<String> = row.removed_by.iter().map(|s| s.to_string()).collect();
    p.text(&reasons.join(", "))
        .raw(" by step ")
        .text(&by.join(", "))
        .raw("</span></div>");
}

/// The top wasted directories of each step, as collapsible trees.
fn paths(p: &mut Page, report: &Report) {
    let steps: Vec<&StepReport> = wasting(report)
        .into_iter()
        .filter(|s| !s.top_paths.is_empty())
        .collect();
    if steps.is_empty() {
        return;
    }
    p.raw("<h2>Where the wasted bytes are</h2>")
        .raw("<p><button type=\"button\" hidden data-open=\"1\" data-target=\"#paths\">open all</button> ")
        .raw("<button type=\"button\" hidden data-open=\"0\" data-target=\"#paths\">close all</button></p>")
        .raw("<div id=\"paths\" class=\"tree\">\n");
    for (i, step) in steps.iter().enumerate() {
        p.raw(if i < OPEN_STEPS {
            "<details open class=\"step\" data-step=\""
        } else {
            "<details class=\"step\" data-step=\""
        })
        .val(step.index)
        .raw("\"><summary>");
        step_summary(p, report, step);
        p.raw(" wastes ").bytes(step.wasted_bytes).raw("</summary>");
        let root = Dir::of(&step.top_paths);
        let mut children: Vec<(&&str, &Dir)> = root.children.iter().collect();
        children.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(b.0)));
        for (name, dir) in children {
            tree(p, dir, format!("{name}/"), step.wasted_bytes);
        }
        for row in &root.rows {
            // Top-level files and the root's own rows.
            leaf(p, row, &row.path);
        }
        p.raw("</details>\n");
    }
    p.raw("</div>\n");
}

/// The findings of each wasting step with what to change, and its Dockerfile line.
fn findings(p: &mut Page, report: &Report) {
    let steps: Vec<&StepReport> = wasting(report)
        .into_iter()
        .filter(|s| !s.findings.is_empty())
        .collect();
    if steps.is_empty() {
        return;
    }
    p.raw("<h2>Findings and what to change</h2><div id=\"findings\">\n");
    for step in steps {
        p.raw("<div class=\"step\" data-step=\"")
            .val(step.index)
            .raw("\">");
        step_summary(p, report, step);
        if let (Some(file), Some(line)) = (&report.dockerfile, step.dockerfile_line) {
            p.raw(" <span class=\"muted\">(")
                .text(file)
                .raw(", line ")
                .val(line)
                .raw(")</span>");
        }
        p.raw("<ul class=\"findings\">");
        for f in &step.findings {
            p.raw("<li data-pattern=\"")
                .text(f.pattern.id())
                .raw("\"><span class=\"badge\">")
                .text(f.pattern.id())
                .raw("</span> ")
                .bytes(f.bytes)
                .raw(", ")
                .val(f.files)
                .raw(if f.files == 1 { " file" } else { " files" })
                .raw(", hidden by step ")
                .val(f.removed_by)
                .raw(": ")
                .text(&f.words)
                .raw(". ")
                .words(&f.fix_words, false)
                .raw("</li>");
        }
        p.raw("</ul></div>\n");
    }
    p.raw("</div>\n");
}

/// Every wasted file (`--files`), one collapsed table per step.
fn files(p: &mut Page, report: &Report) {
    let steps: Vec<&StepReport> = report
        .steps
        .iter()
        .filter(|s| !s.files.is_empty())
        .collect();
    if steps.is_empty() {
        return;
    }
    p.raw("<h2>Every wasted file</h2><div id=\"files\">\n");
    for step in steps {
        p.raw("<details class=\"step\" data-step=\"")
            .val(step.index)
            .raw("\"><summary>");
        step_summary(p, report, step);
        p.raw(" · ")
            .val(step.files.len())
            .raw(" files</summary><table><thead><tr><th>Path</th><th class=\"n\">Bytes</th><th>Reason</th><th class=\"n\">Hidden by</th></tr></thead><tbody>\n");
        // Lean rows (closing tags are implied): a step can have 100,000 of them.
        for f in &step.files {
            p.raw("<tr><td class=\"mono\">")
                .text(&f.path)
                .raw("<td class=\"n\">")
                .val(f.bytes)
                .raw("<td>")
                .raw(f.reason.as_str())
                .raw("<td class=\"n\">")
                .val(f.removed_by)
                .raw("\n");
        }
        p.raw("</tbody></table></details>\n");
    }
    p.raw("</div>\n");
}

fn not_waste(p: &mut Page, report: &Report) {
    if report.removable.is_empty() && report.duplicates.groups.is_empty() {
        return;
    }
    p.raw("<h2>Not waste, but worth a look</h2>\n");
    if !report.removable.is_empty() {
        p.raw("<p>Removable: package caches still in the final image.</p><ul id=\"removable\">");
        for r in &report.removable {
            p.raw("<li>")
                .text(r.kind.label())
                .raw(": ")
                .bytes(r.bytes)
                .raw(" (")
                .val(r.files)
                .raw(if r.files == 1 {
                    " file). "
                } else {
                    " files). "
                })
                .fixed_sentence(r.advice)
                .raw("</li>");
        }
        p.raw("</ul>\n");
    }
    let d = &report.duplicates;
    if !d.groups.is_empty() {
        p.raw("<details id=\"duplicates\"><summary>Duplicates: ")
            .bytes(d.bytes)
            .raw(" of identical content at more than one live path (")
            .val(d.files)
            .raw(if d.files == 1 {
                " extra copy)"
            } else {
                " extra copies)"
            })
            .raw("</summary><table><thead><tr><th class=\"n\">Each</th><th>Paths</th></tr></thead><tbody>");
        for g in &d.groups {
            p.raw("<tr><td class=\"n\">")
                .bytes(g.bytes_each)
                .raw("</td><td>");
            for (i, path) in g.paths.iter().enumerate() {
                if i > 0 {
                    p.raw(", ");
                }
                p.raw("<code>").text(path).raw("</code>");
            }
            p.raw("</td></tr>");
        }
        p.raw("</tbody></table></details>\n");
    }
}

fn warnings(p: &mut Page, report: &Report) {
    if report.warnings.is_empty() {
        return;
    }
    p.raw("<details id=\"warnings\"><summary>Warnings (")
        .val(report.warnings.len())
        .raw(")</summary><ul>");
    for w in &report.warnings {
        p.raw("<li>").text(w).raw("</li>");
    }
    p.raw("</ul></details>\n");
}

#[cfg(test)]
mod tests;
