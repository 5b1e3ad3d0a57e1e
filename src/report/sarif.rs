//! `--format sarif`: SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).
//!
//! One rule per finding pattern and one per gate limit; one result per finding of a
//! wasting step, and one per violation of a whole-image limit. A result points at the
//! step's Dockerfile line when `--dockerfile` mapped it, at the Dockerfile when only
//! that is known, and otherwise at the image as named on the command line, because
//! code scanning drops a result that has no location at all.
//!
//! The types come from `serde-sarif`, generated from the OASIS schema, so the
//! structure cannot drift from the standard; a test validates the output against the
//! schema itself (tests/fixtures/sarif-schema-2.1.0.json).

use std::collections::BTreeMap;
use std::io::Write;

use serde_sarif::sarif;

use super::{FindingReport, Render, Report, StepReport};
use crate::explain::advice::Pattern;
use crate::model::gate::Violation;
use crate::text::escape;

pub struct Sarif;

/// Where code scanning and editors look the schema up (GitHub's documentation uses it).
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Docker's own pages on the fixes the patterns call for.
const BEST_PRACTICES: &str = "https://docs.docker.com/build/building/best-practices/";
const MULTI_STAGE: &str = "https://docs.docker.com/build/building/multi-stage/";
const CACHE_MOUNTS: &str = "https://docs.docker.com/build/cache/optimize/";

struct Rule {
    id: String,
    name: String,
    short: &'static str,
    help: &'static str,
    help_uri: Option<&'static str>,
}

/// One rule per pattern (explain::advice::Pattern::ALL), then one per gate limit.
fn all_rules() -> Vec<Rule> {
    let patterns = Pattern::ALL.iter().map(|&p| Rule {
        id: p.id().to_string(),
        name: p.rule_name(),
        short: p.summary(),
        help: p.help(),
        help_uri: Some(match p {
            Pattern::BuildDeps | Pattern::AddedThenDeleted | Pattern::MultiStageCopy => MULTI_STAGE,
            Pattern::PackageCache => CACHE_MOUNTS,
            _ => BEST_PRACTICES,
        }),
    });
    let gate = GATE_RULES.iter().map(|&(id, name, short, help)| Rule {
        id: id.to_string(),
        name: name.to_string(),
        short,
        help,
        help_uri: None,
    });
    patterns.chain(gate).collect()
}

/// `(id, name, short, help)` of the gate's rules.
const GATE_RULES: &[(&str, &str, &str, &str)] = &[
    (
        "max-wasted",
        "MaxWasted",
        "The image wastes more bytes than --max-wasted allows.",
        "The CI gate's --max-wasted limit (max_wasted in .layerwaste.toml) was crossed by the waste of the team's own steps. Fix the steps listed by the other results, or raise the limit.",
    ),
    (
        "max-wasted-percent",
        "MaxWastedPercent",
        "The image wastes a larger share of its bytes than --max-wasted-percent allows.",
        "The CI gate's --max-wasted-percent limit was crossed: counted wasted bytes in percent of all the image's bytes. Fix the steps listed by the other results, or raise the limit.",
    ),
    (
        "min-efficiency",
        "MinEfficiency",
        "The image's efficiency is below --min-efficiency.",
        "The CI gate's --min-efficiency limit was crossed: efficiency is 1 - counted wasted / total bytes. Fix the steps listed by the other results, or lower the limit.",
    ),
    (
        "max-step-wasted",
        "MaxStepWasted",
        "A single step wastes more bytes than --max-step-wasted allows.",
        "The CI gate's --max-step-wasted limit was crossed by one step; its findings are reported as errors. Fix that step, or raise the limit.",
    ),
];

fn rule_index(id: &str) -> Option<i64> {
    all_rules()
        .iter()
        .position(|r| r.id == id)
        .map(|i| i as i64)
}

fn rules() -> Vec<sarif::ReportingDescriptor> {
    all_rules()
        .into_iter()
        .map(|r| {
            let help = sarif::MultiformatMessageString::builder()
                .text(r.help)
                .build();
            let short = sarif::MultiformatMessageString::builder()
                .text(r.short)
                .build();
            match r.help_uri {
                Some(uri) => sarif::ReportingDescriptor::builder()
                    .id(r.id)
                    .name(r.name)
                    .short_description(short)
                    .help(help)
                    .help_uri(uri)
                    .build(),
                None => sarif::ReportingDescriptor::builder()
                    .id(r.id)
                    .name(r.name)
                    .short_description(short)
                    .help(help)
                    .build(),
            }
        })
        .collect()
}

/// A URI reference for a path or image name. Characters that are data in a path
/// (`?`, `#`, spaces, `%`, `\`, non-ASCII) are percent-encoded; a colon is kept, so
/// `docker-archive:x.tar` reads as what it is. A first segment with a colon that is
/// not a scheme gets `./` in front, as RFC 3986 asks of a relative reference.
pub fn uri_reference(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let first = s.split('/').next().unwrap_or_default();
    if let Some((scheme, _)) = first.split_once(':') {
        let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !is_scheme {
            out.push_str("./");
        }
    }
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~:/@!$&'()*+,;=".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where a step's results point.
fn location(report: &Report, step: Option<&StepReport>) -> sarif::Location {
    let (uri, line) = match &report.dockerfile {
        Some(file) => (file.as_str(), step.and_then(|s| s.dockerfile_line)),
        None => (report.image.source.as_str(), None),
    };
    let artifact = sarif::ArtifactLocation::builder()
        .uri(uri_reference(uri))
        .build();
    let physical = match line.and_then(|l| i64::try_from(l).ok()).filter(|&l| l >= 1) {
        Some(line) => sarif::PhysicalLocation::builder()
            .artifact_location(artifact)
            .region(sarif::Region::builder().start_line(line).build())
            .build(),
        None => sarif::PhysicalLocation::builder()
            .artifact_location(artifact)
            .build(),
    };
    match step {
        Some(s) => {
            let logical = match s.instruction.as_deref() {
                Some(i) if !i.is_empty() => sarif::LogicalLocation::builder()
                    .name(format!("step {}", s.index))
                    .fully_qualified_name(escape(i))
                    .build(),
                _ => sarif::LogicalLocation::builder()
                    .name(format!("step {}", s.index))
                    .build(),
            };
            sarif::Location::builder()
                .physical_location(physical)
                .logical_locations(vec![logical])
                .build()
        }
        None => sarif::Location::builder()
            .physical_location(physical)
            .build(),
    }
}

fn properties(pairs: Vec<(&str, serde_json::Value)>) -> sarif::PropertyBag {
    let map: BTreeMap<String, serde_json::Value> =
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    sarif::PropertyBag::builder()
        .additional_properties(map)
        .build()
}

fn finding_result(
    report: &Report,
    step: &StepReport,
    f: &FindingReport,
    over_limit: bool,
) -> sarif::Result {
    let level = if over_limit {
        sarif::ResultLevel::Error
    } else {
        sarif::ResultLevel::Warning
    };
    let mut props = vec![
        ("step", step.index.into()),
        ("removedBy", f.removed_by.into()),
        ("wastedBytes", f.bytes.into()),
        ("files", f.files.into()),
    ];
    if let Some(cache) = f.cache {
        props.push(("cache", serde_json::to_value(cache).unwrap_or_default()));
    }
    // Code scanning tracks an alert across builds by this: the pattern and the
    // instruction, which survive a rebuild, unlike layer digests.
    let fingerprint = format!(
        "{}:{:016x}",
        f.pattern,
        xxhash_rust::xxh3::xxh3_64(step.instruction.as_deref().unwrap_or("").as_bytes())
    );
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert("layerwasteStep/v1".to_string(), fingerprint);
    let builder = sarif::Result::builder()
        .rule_id(f.pattern.id())
        .message(escape(&f.advice).as_str())
        .level(level)
        .locations(vec![location(report, Some(step))])
        .partial_fingerprints(fingerprints)
        .properties(properties(props));
    match rule_index(f.pattern.id()) {
        Some(i) => builder.rule_index(i).build(),
        None => builder.build(),
    }
}

fn violation_result(report: &Report, v: &Violation) -> sarif::Result {
    let step = v
        .step
        .and_then(|i| report.steps.iter().find(|s| s.index == i));
    let mut props = vec![
        ("limit", serde_json::json!(v.limit)),
        ("actual", serde_json::json!(v.actual)),
    ];
    if let Some(s) = v.step {
        props.push(("step", s.into()));
    }
    let builder = sarif::Result::builder()
        .rule_id(v.rule)
        .message(escape(&v.message).as_str())
        .level(sarif::ResultLevel::Error)
        .locations(vec![location(report, step)])
        .properties(properties(props));
    match rule_index(v.rule) {
        Some(i) => builder.rule_index(i).build(),
        None => builder.build(),
    }
}

/// The SARIF log for a report.
pub fn log(report: &Report) -> sarif::Sarif {
    let violations: &[Violation] = report
        .thresholds
        .as_ref()
        .map(|t| t.violations.as_slice())
        .unwrap_or_default();
    let over_limit = |step: usize| {
        violations
            .iter()
            .any(|v| v.rule == "max-step-wasted" && v.step == Some(step))
    };
    let mut results = Vec::new();
    for step in report.steps.iter().filter(|s| s.wasted_bytes > 0) {
        for f in &step.findings {
            results.push(finding_result(report, step, f, over_limit(step.index)));
        }
    }
    for v in violations {
        results.push(violation_result(report, v));
    }
    let driver = sarif::ToolComponent::builder()
        .name(report.tool.name)
        .version(report.tool.version)
        .semantic_version(report.tool.version)
        .rules(rules())
        .build();
    let s = &report.summary;
    let run = sarif::Run::builder()
        .tool(driver)
        .results(results)
        .properties(properties(vec![
            ("image", escape(&report.image.source).into()),
            ("totalBytes", s.total_bytes.into()),
            ("finalBytes", s.final_bytes.into()),
            ("wastedBytes", s.wasted_bytes.into()),
            ("wastedPullBytes", serde_json::json!(s.wasted_pull_bytes)),
        ]))
        .build();
    sarif::Sarif::builder()
        .schema(SCHEMA_URI)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build()
}

impl Render for Sarif {
    fn render(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &log(report))?;
        out.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{injection_report, sample_report};

    fn json(report: &Report) -> serde_json::Value {
        serde_json::to_value(log(report)).unwrap_or_default()
    }

    #[test]
    fn sample_log() {
        insta::assert_json_snapshot!(json(&sample_report()));
    }

    #[test]
    fn hostile_image_log() {
        insta::assert_json_snapshot!(json(&injection_report()));
    }

    #[test]
    fn hand_built_logs_are_valid_sarif() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/sarif-schema-2.1.0.json"
        );
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("schema fixture"))
                .expect("schema is JSON");
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("schema compiles");
        for report in [sample_report(), injection_report()] {
            let log = json(&report);
            let errors: Vec<String> = validator
                .iter_errors(&log)
                .map(|e| format!("{e} at {}", e.instance_path))
                .collect();
            assert_eq!(errors, Vec::<String>::new());
        }
    }

    #[test]
    fn every_result_names_a_known_rule() {
        let log = json(&sample_report());
        let rules: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str())
            .collect();
        for r in log["runs"][0]["results"].as_array().into_iter().flatten() {
            let id = r["ruleId"].as_str().unwrap_or_default();
            let index = r["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
            assert_eq!(rules.get(index), Some(&id));
        }
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri_reference("my image.tar"), "my%20image.tar");
        assert_eq!(
            uri_reference("docker-archive:a/b.tar"),
            "docker-archive:a/b.tar"
        );
        assert_eq!(uri_reference("é%#?"), "%C3%A9%25%23%3F");
        assert_eq!(uri_reference("1:x"), "./1:x");
    }
}
