//! Small pieces of English the report's words are made of: counts with the right
//! plural, and lists ("a, b and c"; "steps 3 and 5, and 1 more").

use crate::text::escape;
use crate::text::truncate;

/// How a step is named in prose: `step 5 `RUN apk del .build-deps``.
pub fn step_name(step: usize, instruction: Option<&str>) -> String {
    match instruction {
        Some(i) if !i.is_empty() => format!("step {step} `{}`", truncate(&escape(i), 60)),
        _ => format!("step {step}"),
    }
}

/// `1 file`, `3 files`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `a`, `a and b`, `a, b and c`.
pub fn list_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Step indexes as words, at most `named` of them by number: `step 3`, `steps 3 and 5`,
/// `steps 3, 5 and 7, and 2 more`.
pub fn list_indexes(indexes: &[usize], named: usize) -> String {
    let shown: Vec<String> = indexes
        .iter()
        .take(named.max(1))
        .map(|i| i.to_string())
        .collect();
    let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
    let rest = indexes.len().saturating_sub(shown.len());
    let noun = if indexes.len() == 1 { "step" } else { "steps" };
    if rest == 0 {
        format!("{noun} {}", list_words(&shown))
    } else {
        format!("{noun} {}, and {rest} more", list_words(&shown))
    }
}

/// Why a row of paths is wasted, and by whom: `deleted, overwritten by steps 3 and 5`.
/// The steps are given in any order and named in step order.
pub fn why(reasons: &[crate::model::Reason], steps: &[usize]) -> String {
    let mut steps = steps.to_vec();
    steps.sort_unstable();
    steps.dedup();
    let reasons: Vec<&str> = reasons.iter().map(|r| r.as_str()).collect();
    format!("{} by {}", reasons.join(", "), list_indexes(&steps, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_lists_read_as_english() {
        assert_eq!(count(1, "file", "files"), "1 file");
        assert_eq!(count(2, "file", "files"), "2 files");
        assert_eq!(
            list_words(&["mode", "owner", "times"]),
            "mode, owner and times"
        );
        assert_eq!(list_indexes(&[3], 3), "step 3");
        assert_eq!(list_indexes(&[3, 5], 3), "steps 3 and 5");
        assert_eq!(list_indexes(&[3, 5, 7], 2), "steps 3 and 5, and 1 more");
        assert_eq!(
            list_indexes(&[3, 5, 7, 9], 3),
            "steps 3, 5 and 7, and 1 more"
        );
        use crate::model::Reason;
        assert_eq!(
            why(&[Reason::Deleted, Reason::Overwritten], &[7, 4, 9]),
            "deleted, overwritten by steps 4 and 7, and 1 more"
        );
    }
}
