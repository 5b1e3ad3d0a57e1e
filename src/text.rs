//! Text for people: human sizes, truncation, and escaping.
//!
//! Paths and `created_by` strings come from whoever built the image. Before they reach
//! a terminal, control characters (an ANSI escape can rewrite the screen) and invalid
//! UTF-8 are made visible instead of being interpreted.

use std::fmt::Write;

use bytesize::ByteSize;

/// Human size, in SI units as `docker images` prints them.
pub fn human(bytes: u64) -> String {
    ByteSize(bytes).display().si().to_string()
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Escapes a string for a terminal: control characters become `\n`, `\t`, `\x1b`, …
pub fn escape(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_char(&mut out, c);
    }
    out
}

/// Escapes raw bytes: valid UTF-8 as [`escape`] does, invalid bytes as `\xNN`.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Levenshtein distance between two names, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Controls (C0, DEL, C1), the line and paragraph separators, and every bidi
/// formatting character: an override or isolate can make text read as something else
/// (CVE-2021-42574).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{61c}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\\' => out.push('\\'),
        c if needs_escape(c) => {
            let n = c as u32;
            if n <= 0xff {
                let _ = write!(out, "\\x{n:02x}");
            } else {
                let _ = write!(out, "\\u{{{n:x}}}");
            }
        }
        c => out.push(c),
    }
}

/// `part` in percent of `whole`; 0 of nothing is 0%.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(escape("RUN echo \x1b[2J hi"), "RUN echo \\x1b[2J hi");
        assert_eq!(escape("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(escape("plain ünïcode"), "plain ünïcode");
        assert_eq!(escape("rtl \u{202e}evil"), "rtl \\u{202e}evil");
        assert_eq!(
            escape("\u{2067}isolate\u{2069}"),
            "\\u{2067}isolate\\u{2069}"
        );
        assert_eq!(escape("c1 \u{9b}31m"), "c1 \\x9b31m");
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("build-deps-split", "build-deps-split"), 0);
        assert_eq!(edit_distance("buld-deps", "build-deps"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn escapes_invalid_utf8_bytes() {
        assert_eq!(escape_bytes(b"caf\xe9/\x07x"), "caf\\xe9/\\x07x");
    }
}
