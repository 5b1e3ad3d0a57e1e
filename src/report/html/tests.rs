use super::*;
use crate::report::tests::{injection_report, sample_report};

/// The `width` of every `<rect>` of the bar in the steps row of `step`.
fn bar_widths(html: &str, step: usize) -> Vec<f64> {
    let start = html
        .find(&format!("<tr data-step=\"{step}\""))
        .expect("the step's row");
    let row = &html[start..start + html[start..].find("</tr>").expect("row end")];
    row.split("<rect ")
        .skip(1)
        .map(|r| {
            let w = &r[r.find("width=\"").expect("width") + 7..];
            w[..w.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

#[test]
fn bars_are_to_scale() {
    let report = sample_report();
    let html = page(&report);
    // Step 2 is the largest: its bar fills BAR_WIDTH, live then wasted by reason.
    let big = bar_widths(&html, 2);
    let s = &report.steps[2];
    assert!(
        (big.iter().sum::<f64>() - BAR_WIDTH).abs() < 0.05,
        "{big:?}"
    );
    let live = (s.bytes - s.wasted_bytes) as f64 * BAR_WIDTH / s.bytes as f64;
    assert!((big[0] - live).abs() < 0.01, "{big:?}");
    // Step 0 is drawn to the same scale, all live.
    let small = bar_widths(&html, 0);
    let expected = report.steps[0].bytes as f64 * BAR_WIDTH / s.bytes as f64;
    assert_eq!(small.len(), 1);
    assert!((small[0] - expected).abs() < 0.01, "{small:?}");
    // The step that made no layer has no bar.
    assert!(bar_widths(&html, 1).is_empty());
}

#[test]
fn sample_page_holds_the_figures() {
    let report = sample_report();
    let html = page(&report);
    let s = &report.summary;
    for n in [s.total_bytes, s.final_bytes, s.wasted_bytes] {
        assert!(html.contains(&format!("{} bytes", grouped(n))), "{n}");
    }
    assert!(html.contains("id=\"gate\""));
    assert!(html.contains("<span class=\"muted dockerfile\">Containerfile:3</span>"));
    assert!(html.contains("data-pattern=\"build-deps\""));
    // The tree opens on the directory holding most of the waste.
    assert!(html.contains("<details open><summary><span class=\"size\"><data value=\"117900000\""));
    assert!(html.contains("<code>usr/</code>"));
    assert!(
        html.contains(
            "<code>libexec/gcc/</code> <span class=\"muted\">30 files, deleted by step 4"
        ),
        "chains of one child are one line"
    );
}

#[test]
fn hostile_image_cannot_inject_markup() {
    let html = page(&injection_report());
    // Only our own script element, and it is the last thing on the page.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(html.ends_with(&format!("<script>{SCRIPT}</script>\n</body></html>\n")));
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>.tar") && html.contains("|&lt;b&gt;.tar"));
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    assert_eq!(
        html.matches("<details").count(),
        html.matches("</details>").count()
    );
    // The hostile text is there, as text, with its controls made visible.
    assert!(html.contains("&lt;/details&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("\\x1b[31mRED"));
    assert!(!html.chars().any(|c| c.is_control() && c != '\n'));
    // Quotes cannot leave an attribute.
    assert!(html.contains("title=\"/bin/sh -c echo &#39;&lt;/details&gt;"));
}

#[test]
fn the_policy_allows_only_our_style_and_script() {
    let html = page(&sample_report());
    assert!(html.contains(&format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'",
        digest(STYLE),
        digest(SCRIPT)
    )));
    // No attribute the policy would block, and nothing loaded from anywhere.
    assert!(!html.contains(" style=\""));
    assert!(!html.contains("src=\"") && !html.contains("href=\""));
}

#[test]
fn numbers_are_grouped() {
    assert_eq!(grouped(0), "0");
    assert_eq!(grouped(999), "999");
    assert_eq!(grouped(1_000), "1,000");
    assert_eq!(grouped(1_234_567), "1,234,567");
}

#[test]
fn prose_code_spans_and_odd_backticks() {
    let mut p = Page::new();
    p.fixed_sentence("run `rm -rf <x>` now");
    assert_eq!(p.html, "run <code>rm -rf &lt;x&gt;</code> now");
    let mut p = Page::new();
    p.fixed_sentence("a ` b");
    assert_eq!(p.html, "a ` b");
}
