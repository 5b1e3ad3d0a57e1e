//! Aligns `config.history` (every Dockerfile step) with the manifest's layers.

use crate::source::HistoryEntry;

/// One row of the report: a history step, or a bare layer when history cannot be
/// aligned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub index: usize,
    pub created_by: Option<String>,
    pub comment: Option<String>,
    pub empty_layer: bool,
    pub layer: Option<usize>,
}

/// The steps of an image, and a warning when history and layers disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    pub steps: Vec<Step>,
    /// For each layer, the step that added it.
    pub step_of_layer: Vec<usize>,
    pub warning: Option<String>,
}

/// Maps the non-empty history entries, in order, one to one onto the layers. If the
/// counts differ the mapping would be a guess, so the steps become the layers, labelled
/// by index, and a warning says why.
pub fn align(history: &[HistoryEntry], layer_count: usize) -> Alignment {
    let non_empty = history.iter().filter(|h| !h.empty_layer).count();
    if non_empty == layer_count && (layer_count > 0 || !history.is_empty()) {
        let mut steps = Vec::with_capacity(history.len());
        let mut step_of_layer = Vec::with_capacity(layer_count);
        for (index, h) in history.iter().enumerate() {
            let layer = (!h.empty_layer).then(|| {
                step_of_layer.push(index);
                step_of_layer.len() - 1
            });
            steps.push(Step {
                index,
                created_by: h.created_by.clone(),
                comment: h.comment.clone(),
                empty_layer: h.empty_layer,
                layer,
            });
        }
        return Alignment {
            steps,
            step_of_layer,
            warning: None,
        };
    }
    let warning = (!history.is_empty() || layer_count > 0).then(|| {
        format!(
            "the config's history has {non_empty} step{} with a layer but the manifest has {layer_count} layer{}; steps are shown as layers, by index",
            if non_empty == 1 { "" } else { "s" },
            if layer_count == 1 { "" } else { "s" },
        )
    });
    Alignment {
        steps: (0..layer_count)
            .map(|i| Step {
                index: i,
                created_by: None,
                comment: None,
                empty_layer: false,
                layer: Some(i),
            })
            .collect(),
        step_of_layer: (0..layer_count).collect(),
        warning,
    }
}

/// The instruction a step ran, without the shell noise builders wrap it in:
/// `/bin/sh -c #(nop) ` (classic builder), `/bin/sh -c ` (classic RUN), BuildKit's
/// trailing `# buildkit`, and kaniko's bare form are all reduced to the Dockerfile text.
pub fn instruction(created_by: &str) -> String {
    let s = created_by.trim();
    let s = s.strip_suffix("# buildkit").map(str::trim_end).unwrap_or(s);
    if let Some(rest) = s.strip_prefix("/bin/sh -c #(nop)") {
        return rest.trim().to_string();
    }
    // The classic builder after a `SHELL`: `/bin/bash -o pipefail -c #(nop)  USER x`.
    if let Some((shell, rest)) = s.split_once(" #(nop) ") {
        let last = shell.split_whitespace().last().unwrap_or("");
        if shell.starts_with('/') && last.starts_with('-') && !shell.contains(['"', '\'']) {
            return rest.trim().to_string();
        }
    }
    if let Some(rest) = s.strip_prefix("|") {
        // Classic builder with build args: `|2 A=1 B=2 /bin/sh -c cmd`.
        if let Some(at) = rest.find("/bin/sh -c ") {
            return format!("RUN {}", rest[at + "/bin/sh -c ".len()..].trim());
        }
    }
    if let Some(rest) = s.strip_prefix("/bin/sh -c ") {
        return format!("RUN {}", rest.trim());
    }
    if let Some(rest) = s.strip_prefix("RUN /bin/sh -c ") {
        return format!("RUN {}", rest.trim());
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(created_by: &str, empty: bool) -> HistoryEntry {
        HistoryEntry {
            created_by: Some(created_by.into()),
            empty_layer: empty,
            comment: None,
        }
    }

    #[test]
    fn classic_records_after_shell_read_as_the_instruction() {
        assert_eq!(
            instruction("/bin/bash -o pipefail -c #(nop)  USER nobody"),
            "USER nobody"
        );
        // A RUN under that shell stays a command line.
        assert_eq!(
            instruction("/bin/bash -o pipefail -c make"),
            "/bin/bash -o pipefail -c make"
        );
    }

    #[test]
    fn skips_empty_layer_steps() {
        let history = [
            h("ADD x /", false),
            h("ENV A=1", true),
            h("RUN y", false),
            h("CMD z", true),
        ];
        let a = align(&history, 2);
        assert_eq!(a.warning, None);
        assert_eq!(a.step_of_layer, vec![0, 2]);
        let layers: Vec<Option<usize>> = a.steps.iter().map(|s| s.layer).collect();
        assert_eq!(layers, vec![Some(0), None, Some(1), None]);
    }

    #[test]
    fn mismatched_counts_fall_back_to_layers() {
        let history = [h("ADD x /", false), h("RUN y", false)];
        let a = align(&history, 3);
        assert!(a
            .warning
            .unwrap()
            .contains("2 steps with a layer but the manifest has 3 layers"));
        assert_eq!(a.steps.len(), 3);
        assert!(a.steps.iter().all(|s| s.created_by.is_none()));
        assert_eq!(a.step_of_layer, vec![0, 1, 2]);
    }

    #[test]
    fn strips_builder_noise() {
        assert_eq!(instruction("/bin/sh -c #(nop)  ENV A=1"), "ENV A=1");
        assert_eq!(
            instruction("/bin/sh -c apt-get update"),
            "RUN apt-get update"
        );
        assert_eq!(instruction("RUN /bin/sh -c make # buildkit"), "RUN make");
        assert_eq!(instruction("|1 V=2 /bin/sh -c make"), "RUN make");
        assert_eq!(instruction("COPY dir /app # buildkit"), "COPY dir /app");
        assert_eq!(instruction("RUN make"), "RUN make");
    }
}
