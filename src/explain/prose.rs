//! The report's sentences: a verdict first, then one or two plain sentences per step
//! that wastes bytes, naming both steps, the bytes, and what to change.

use crate::explain::{Finding, Pattern};
use crate::text::escape;
use crate::text::{human, truncate};

/// How a step is named in prose: `step 5 `RUN apk del .build-deps``.
pub fn step_name(step: usize, instruction: Option<&str>) -> String {
    match instruction {
        Some(i) if !i.is_empty() => format!("step {step} `{}`", truncate(&escape(i), 60)),
        _ => format!("step {step}"),
    }
}

fn files(n: u64) -> String {
    if n == 1 {
        "1 file".into()
    } else {
        format!("{n} files")
    }
}

/// One or two sentences for a finding: `added` and `by` are the steps as named by
/// [`step_name`], `added_step`/`by_step` their indexes.
pub fn finding_sentence(
    f: &Finding,
    added_step: usize,
    added: &str,
    by_step: usize,
    by: &str,
) -> String {
    let bytes = human(f.bytes);
    let same = added_step == by_step;
    match f.pattern {
        Pattern::AddedThenDeleted if same => format!(
            "{added} added {bytes} ({}) and replaced it within the same step; the first copy stays in the layer. Write each file once, in its final place.",
            files(f.files)
        ),
        Pattern::AddedThenDeleted => format!(
            "{added} added {bytes} ({}) that {by} deleted. The bytes stay in step {added_step}'s layer. Install, use and remove in one RUN, or build in a separate stage and copy only the result.",
            files(f.files)
        ),
        Pattern::MetadataOnly => format!(
            "{by} changed only the mode, owner or times of {} ({bytes}) that {added} added, so they are stored twice. Use `COPY --chmod`/`--chown`, or set modes in the step that creates the files.",
            files(f.files)
        ),
        Pattern::Overwritten if same => format!(
            "{added} wrote {} twice ({bytes} of earlier copies). Write each file once, in its final form.",
            files(f.files)
        ),
        Pattern::Overwritten => format!(
            "{by} overwrote {} ({bytes}) that {added} added. Write the files once, in their final form, in one step.",
            files(f.files)
        ),
        Pattern::Cache(kind) => format!(
            "{added} left {bytes} of {} that {by} removed; removing it in a later step saves nothing. {}",
            kind.label(),
            kind.fix()
        ),
        Pattern::PackageDatabase => format!(
            "{by} rewrote the package database ({bytes}, {}) that {added} wrote: package-database churn. {}",
            files(f.files),
            crate::explain::PathKind::PackageDatabase.fix()
        ),
    }
}
