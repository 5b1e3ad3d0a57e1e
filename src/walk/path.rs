//! Entry names as the waste model sees them: normalised, and whiteouts recognised.

/// Normalises a tar entry name into `out`: no leading `./` or `/`, no trailing `/`, no
/// `.` components, and `..` resolved lexically. A `..` that would climb above the root
/// stays at the root (the image's tree is all there is); the return value says whether
/// that happened, so the walker can warn.
pub fn normalize(raw: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut clamped = false;
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                if out.is_empty() {
                    clamped = true;
                } else {
                    let cut = out.iter().rposition(|b| *b == b'/').unwrap_or(0);
                    out.truncate(cut);
                }
            }
            name => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(name);
            }
        }
    }
    clamped
}

pub const WHITEOUT_PREFIX: &[u8] = b".wh.";
pub const OPAQUE_NAME: &[u8] = b".wh..wh..opq";

/// What a normalised name means.
#[derive(Debug, PartialEq, Eq)]
pub enum Meaning<'a> {
    /// An ordinary entry.
    Plain,
    /// `dir/.wh.NAME`: hides `dir/NAME` (the path given) of lower layers.
    Whiteout(Vec<u8>),
    /// `dir/.wh..wh..opq`: hides every lower-layer child of `dir` (the path given).
    Opaque(&'a [u8]),
    /// A whiteout that names nothing usable (`.wh.`, `.wh..`, AUFS `.wh..wh.*`
    /// bookkeeping): not a file, and it hides nothing.
    Ignored(&'static str),
}

/// Recognises whiteouts by the last component of a normalised path.
pub fn meaning(path: &[u8]) -> Meaning<'_> {
    let (dir, name) = match path.iter().rposition(|b| *b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&path[..0], path),
    };
    let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) else {
        return Meaning::Plain;
    };
    if name == OPAQUE_NAME {
        return Meaning::Opaque(dir);
    }
    if hidden.starts_with(WHITEOUT_PREFIX) {
        return Meaning::Ignored("AUFS metadata (.wh..wh.*)");
    }
    if hidden.is_empty() || hidden == b"." || hidden == b".." {
        return Meaning::Ignored("a whiteout of no name, '.' or '..'");
    }
    let mut target = Vec::with_capacity(path.len());
    target.extend_from_slice(dir);
    if !dir.is_empty() {
        target.push(b'/');
    }
    target.extend_from_slice(hidden);
    Meaning::Whiteout(target)
}

/// A path as text that loses nothing: the form paths take in JSON.
///
/// Tar names are bytes, and JSON strings must be Unicode. Valid UTF-8 is kept as it
/// is (JSON escapes control characters its own way), a backslash is doubled, and each
/// byte that is not valid UTF-8 becomes `\xNN`. [`from_exact_text`] reverses it, so two
/// different names never share a text. (The terminal form, `sanitize::escape_bytes`,
/// is for reading and is not reversible.)
pub fn exact_text(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The bytes an [`exact_text`] stands for; `None` for text it cannot have produced.
pub fn from_exact_text(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b != b'\\' {
            out.push(b);
            rest = tail;
            continue;
        }
        match tail {
            [b'\\', tail @ ..] => {
                out.push(b'\\');
                rest = tail;
            }
            [b'x', hi, lo, tail @ ..] => {
                let hex = std::str::from_utf8(&[*hi, *lo]).ok()?.to_owned();
                out.push(u8::from_str_radix(&hex, 16).ok()?);
                rest = tail;
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_text_is_lossless() {
        let names: [&[u8]; 6] = [
            b"usr/bin/env",
            "caf\u{e9}/menu".as_bytes(),
            b"caf\xe9/menu",
            b"back\\slash\\xe9",
            b"\x1b[2J\n\x00\xff",
            b"",
        ];
        for name in names {
            let text = exact_text(name);
            assert_eq!(from_exact_text(&text).as_deref(), Some(name), "{text}");
        }
        assert_eq!(exact_text(b"caf\xe9"), "caf\\xe9");
        assert_eq!(exact_text(b"a\\xe9"), "a\\\\xe9");
        assert_ne!(exact_text(b"caf\xe9"), exact_text(b"caf\\xe9"));
        assert_eq!(from_exact_text("bad\\q"), None);
    }

    fn norm(s: &str) -> (String, bool) {
        let mut out = Vec::new();
        let c = normalize(s.as_bytes(), &mut out);
        (String::from_utf8(out).unwrap(), c)
    }

    #[test]
    fn normalises_as_the_model_says() {
        assert_eq!(norm("./usr/bin/"), ("usr/bin".into(), false));
        assert_eq!(norm("/etc//passwd"), ("etc/passwd".into(), false));
        assert_eq!(norm("."), ("".into(), false));
        assert_eq!(norm("./"), ("".into(), false));
        assert_eq!(norm("a/./b/../c"), ("a/c".into(), false));
        assert_eq!(norm("../../etc/shadow"), ("etc/shadow".into(), true));
    }

    #[test]
    fn recognises_whiteouts() {
        assert_eq!(
            meaning(b"etc/.wh.apt"),
            Meaning::Whiteout(b"etc/apt".to_vec())
        );
        assert_eq!(meaning(b".wh.tmp"), Meaning::Whiteout(b"tmp".to_vec()));
        assert_eq!(
            meaning(b"var/cache/.wh..wh..opq"),
            Meaning::Opaque(b"var/cache")
        );
        assert_eq!(meaning(b".wh..wh..opq"), Meaning::Opaque(b""));
        assert!(matches!(meaning(b"a/.wh."), Meaning::Ignored(_)));
        assert!(matches!(meaning(b"a/.wh.."), Meaning::Ignored(_)));
        assert!(matches!(meaning(b".wh..wh.plnk"), Meaning::Ignored(_)));
        assert_eq!(meaning(b"a/.wh.x/b"), Meaning::Plain);
        assert_eq!(meaning(b"a/b.wh.c"), Meaning::Plain);
    }
}
