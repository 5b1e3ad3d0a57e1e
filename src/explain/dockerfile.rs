//! Maps an image's history steps back to the lines of the Dockerfile that built it.
//!
//! A step's `created_by` is the instruction as its builder chose to record it:
//!
//! | builder | `RUN make` | `COPY a /dst` | `ENV A=1` |
//! | --- | --- | --- | --- |
//! | BuildKit | `RUN /bin/sh -c make # buildkit` | `COPY a /dst # buildkit` | `ENV A=1` |
//! | classic `docker build` | `/bin/sh -c make` | `/bin/sh -c #(nop) COPY file:<sha> in /dst ` | `/bin/sh -c #(nop)  ENV A=1` (after `SHELL`, that shell: `/bin/bash -o pipefail -c #(nop)  ENV A=1`) |
//! | buildah | `/bin/sh -c make` (RUN flags kept) | `/bin/sh -c #(nop) COPY file:<sha> in /dst ` | `/bin/sh -c #(nop) ENV A=1` |
//! | kaniko | `RUN make` (the line as written) | `COPY a /dst` | `ENV A=1` |
//!
//! BuildKit and the classic builder substitute `ARG`/`ENV` values into most instructions
//! (not into `RUN`, whose build args they prefix as `|N A=1 …`); kaniko keeps the text
//! as written. So each instruction of the Dockerfile is turned into every form a builder
//! could have recorded, and a step matches an instruction when its normalised
//! `created_by` equals one of them. A `COPY`/`ADD` recorded only as `file:<sha> in /dst`
//! matches by kind and destination (the classic builder glues flags onto it:
//! `--chown=0:0file:<sha>`). `ENV`, `LABEL`, `WORKDIR` and `USER` are recorded with
//! their variables expanded, the base image's too, so a variable the file does not
//! define becomes a hole that matches one space-free run of characters.
//!
//! Only the final stage's instructions are in the image, after the base image's steps;
//! if the final stage is `FROM <earlier stage>`, that stage's instructions come first.
//! Every instruction but `FROM` leaves exactly one history step (`ARG` may or may not),
//! so the instruction `k` places from the end of that chain is `k` steps (or, past an
//! `ARG`, up to one more per `ARG`) from the end of the history. A step is mapped to a
//! line only when all of these hold:
//! 1. its text equals a form of that instruction;
//! 2. it sits where that instruction's place from the end says it must;
//! 3. the pair is part of every longest in-order matching of steps to instructions,
//!    so no equally good reading puts the step elsewhere.
//!
//! Anything else is unmatched: never a guessed line. The mapping assumes the Dockerfile
//! given is the one that built the image; a different Dockerfile can still match a
//! trailing step of identical text (the same final `CMD`, say).

use std::collections::HashMap;

/// A Dockerfile that cannot be read as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Dockerfile line {line}: {message}")]
pub struct DockerfileError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

/// For every history step (`created_by`, `empty_layer`), the 1-based line of the
/// Dockerfile instruction that made it, or `None` when it cannot be told for sure (base
/// image steps, steps with no `created_by`, forms not recognised).
///
/// `empty_layer` is accepted so callers can pass the history as it is, but matching
/// does not rely on it: BuildKit marks a `RUN` that changed nothing as empty too.
pub fn map_steps(
    dockerfile: &str,
    history: &[(Option<&str>, bool)],
) -> Result<Vec<Option<usize>>, DockerfileError> {
    let parsed = parse(dockerfile)?;
    let expected = expectations(&parsed);
    if let Some(e) = expected.get(MAX_INSTRUCTIONS) {
        return Err(DockerfileError {
            line: e.line,
            message: format!(
                "more than {MAX_INSTRUCTIONS} instructions that make history steps; \
                 --dockerfile maps at most that many"
            ),
        });
    }
    // The Dockerfile's own steps are the last of the history (the base image's come
    // first), and every instruction makes at most one step, so only the last
    // `expected.len()` steps can be matched: the rest are never looked at, which keeps
    // the alignment's tables independent of the history's length.
    let offset = history.len().saturating_sub(expected.len());
    let observed: Vec<Option<Observed>> = history[offset..]
        .iter()
        .map(|(created_by, _)| created_by.map(observe))
        .collect();
    let mut lines = vec![None; offset];
    lines.extend(align(&observed, &expected));
    Ok(lines)
}

/// Whether the Dockerfile's last stage starts `FROM scratch` (through other stages of
/// the file it names, if any): then the image has no base image, and every step is the
/// Dockerfile's own. A file that does not parse says no.
pub fn builds_from_scratch(dockerfile: &str) -> bool {
    let Ok(parsed) = parse(dockerfile) else {
        return false;
    };
    let mut stage = parsed.stages.last();
    // Each hop names an earlier stage, so this ends within the number of stages.
    for _ in 0..parsed.stages.len() {
        let Some(s) = stage else { return false };
        if s.base.eq_ignore_ascii_case("scratch") {
            return true;
        }
        stage = parsed
            .stages
            .iter()
            .take_while(|t| !std::ptr::eq(*t, s))
            .filter(|t| {
                t.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&s.base))
            })
            .last();
    }
    false
}

/// The most step-making instructions one Dockerfile may have: the alignment weighs
/// every pair of the last steps and these instructions, in tables of 9 bytes a pair
/// (about 38 MB at the bound).
pub const MAX_INSTRUCTIONS: usize = 2048;

// ---------------------------------------------------------------------------------------
// Parsing: lines → instructions, grouped into stages.

#[derive(Debug, Clone, PartialEq)]
struct Instruction {
    line: usize,
    /// Upper case.
    keyword: String,
    /// Everything after the keyword, continuation lines joined, comments inside them
    /// dropped, whitespace as written.
    args: String,
    /// Bodies of `<<WORD` here-documents, in order, each ending with a newline.
    heredocs: Vec<Heredoc>,
}

#[derive(Debug, Clone, PartialEq)]
struct Heredoc {
    name: String,
    body: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Stage {
    line: usize,
    /// `FROM` image, with global `ARG` defaults substituted where known.
    base: String,
    name: Option<String>,
    instructions: Vec<Instruction>,
}

#[derive(Debug, Clone, PartialEq)]
struct Parsed {
    escape: char,
    /// The text holds [`HOLE`] itself, so holes could not be told from it.
    has_hole_char: bool,
    global_args: HashMap<String, Option<String>>,
    stages: Vec<Stage>,
}

fn parse(text: &str) -> Result<Parsed, DockerfileError> {
    // Editors on Windows may start the file with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut escape = '\\';
    let mut i = 0;
    // Parser directives: `# name=value` lines at the very top, until anything else.
    while i < lines.len() {
        let Some((name, value)) = directive(lines[i]) else {
            break;
        };
        if name == "escape" {
            escape = match value.as_str() {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(DockerfileError {
                        line: i + 1,
                        message: format!(
                            "invalid escape token {other:?}: only \\ and ` are allowed"
                        ),
                    })
                }
            };
        }
        i += 1;
    }

    let mut instructions = Vec::new();
    while i < lines.len() {
        let trimmed = lines[i].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let first = i;
        let (mut joined, mut more) = continuation(lines[i], escape);
        i += 1;
        while more && i < lines.len() {
            let t = lines[i].trim();
            // Comment and empty lines inside a continuation are dropped, as BuildKit does.
            if t.is_empty() || t.starts_with('#') {
                i += 1;
                continue;
            }
            let (part, again) = continuation(lines[i], escape);
            joined.push_str(&part);
            more = again;
            i += 1;
        }
        let joined = joined.trim_start();
        let (keyword, args) = match joined.find(char::is_whitespace) {
            Some(at) => (&joined[..at], joined[at..].trim_start()),
            None => (joined, ""),
        };
        let keyword = keyword.to_ascii_uppercase();
        let mut heredocs = Vec::new();
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for (name, strip_tabs) in heredoc_markers(args) {
                let mut body = String::new();
                loop {
                    let Some(line) = lines.get(i) else {
                        return Err(DockerfileError {
                            line: first + 1,
                            message: format!("here-document <<{name} is not terminated"),
                        });
                    };
                    i += 1;
                    let line = if strip_tabs {
                        line.trim_start_matches('\t')
                    } else {
                        line
                    };
                    if line == name {
                        break;
                    }
                    body.push_str(line);
                    body.push('\n');
                }
                heredocs.push(Heredoc { name, body });
            }
        }
        instructions.push(Instruction {
            line: first + 1,
            keyword,
            args: args.to_string(),
            heredocs,
        });
    }

    let mut global_args = HashMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    for ins in instructions {
        if ins.keyword == "FROM" {
            let words = split_words(&ins.args, escape);
            let words: Vec<&String> = words.iter().filter(|w| !w.starts_with("--")).collect();
            let Some(image) = words.first() else {
                return Err(DockerfileError {
                    line: ins.line,
                    message: "FROM names no image".into(),
                });
            };
            let name = match words.as_slice() {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_ascii_lowercase()),
                _ => None,
            };
            let vars = Vars {
                env: HashMap::new(),
                args: global_args.clone(),
                complete: true,
                holes: false,
            };
            let base = expand(image, &vars, escape).unwrap_or_else(|| image.to_string());
            stages.push(Stage {
                line: ins.line,
                base,
                name,
                instructions: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.instructions.push(ins);
        } else if ins.keyword == "ARG" {
            // Global ARGs: usable in FROM lines, and as defaults for a stage's `ARG NAME`.
            for (name, value) in arg_pairs(&ins.args, escape) {
                let value = value.and_then(|v| {
                    let vars = Vars {
                        env: HashMap::new(),
                        args: global_args.clone(),
                        complete: true,
                        holes: false,
                    };
                    expand(&v, &vars, escape)
                });
                global_args.insert(name, value);
            }
        } else {
            return Err(DockerfileError {
                line: ins.line,
                message: format!("{} before the first FROM", ins.keyword),
            });
        }
    }
    if stages.is_empty() {
        return Err(DockerfileError {
            line: 1,
            message: "no FROM instruction".into(),
        });
    }
    Ok(Parsed {
        escape,
        has_hole_char: text.contains(HOLE),
        global_args,
        stages,
    })
}

fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix('#')?;
    let (name, value) = rest.split_once('=')?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    Some((name.to_ascii_lowercase(), value.trim().to_string()))
}

/// A line without its trailing escape character, and whether it had one.
fn continuation(line: &str, escape: char) -> (String, bool) {
    let t = line.trim_end();
    match t.strip_suffix(escape) {
        Some(rest) => (rest.to_string(), true),
        None => (line.to_string(), false),
    }
}

/// `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` markers: (name, strip leading tabs).
fn heredoc_markers(args: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = args;
    while let Some(at) = rest.find("<<") {
        rest = &rest[at + 2..];
        let (strip, r) = match rest.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (quote, r) = match r.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &r[1..]),
            _ => (None, r),
        };
        let len = r
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(r.len());
        let name = &r[..len];
        let starts_well = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        let closed = quote.is_none_or(|q| r[len..].starts_with(q));
        if starts_well && closed {
            out.push((name.to_string(), strip));
        }
        rest = &r[len..];
    }
    out
}

// ---------------------------------------------------------------------------------------
// Words and variables, as BuildKit's shell lexer treats them.

#[derive(Clone)]
struct Vars {
    /// `None`: defined, value unknown.
    env: HashMap<String, Option<String>>,
    args: HashMap<String, Option<String>>,
    /// Every variable in scope is known (the chain starts `FROM scratch`), so an
    /// undefined one is empty rather than unknown.
    complete: bool,
    /// A plain `$NAME`/`${NAME}` whose value is unknown becomes a [`HOLE`] rather than
    /// making the whole word unknown: for the forms builders record with the value
    /// expanded (`ENV PATH=/opt/bin:$PATH` → `ENV PATH=/opt/bin:/usr/bin:/bin`).
    holes: bool,
}

/// Where an unknown variable's value goes in a recorded form. A hole matches any run
/// of characters without a space (see [`hole_match`]). A private-use character, so it
/// cannot be part of a real Dockerfile's text ([`map_steps`] turns holes off if it is).
const HOLE: char = '\u{f8ff}';

enum Lookup {
    Value(String),
    Unset,
    Unknown,
}

impl Vars {
    fn lookup(&self, name: &str) -> Lookup {
        // ENV wins over ARG of the same name.
        match self.env.get(name).or_else(|| self.args.get(name)) {
            Some(Some(v)) => Lookup::Value(v.clone()),
            Some(None) => Lookup::Unknown,
            None if self.complete => Lookup::Unset,
            None => Lookup::Unknown,
        }
    }
}

/// Splits on unquoted, unescaped whitespace, keeping quotes and escapes in the words.
fn split_words(s: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                word.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                word.push(c);
            }
            (Some('\''), c) => word.push(c),
            (_, c) if c == escape => {
                word.push(c);
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            (_, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Substitutes variables and removes quotes and escapes. `None` when a variable's value
/// is unknown or the syntax is one this does not follow.
fn expand(word: &str, vars: &Vars, escape: char) -> Option<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut in_double = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' && !in_double {
            let end = chars[i + 1..].iter().position(|&q| q == '\'')? + i + 1;
            out.extend(&chars[i + 1..end]);
            i = end + 1;
        } else if c == '"' {
            in_double = !in_double;
            i += 1;
        } else if c == escape {
            let next = *chars.get(i + 1)?;
            // Inside double quotes only the quote, `$` and the escape itself are escaped.
            if in_double && !matches!(next, '"' | '$') && next != escape {
                out.push(c);
            }
            out.push(next);
            i += 2;
        } else if c == '$' {
            let (value, used) = dollar(&chars[i + 1..], vars, escape)?;
            out.push_str(&value);
            i += 1 + used;
        } else {
            out.push(c);
            i += 1;
        }
    }
    (!in_double).then_some(out)
}

/// After a `$`: the value and how many characters the reference used.
fn dollar(rest: &[char], vars: &Vars, escape: char) -> Option<(String, usize)> {
    let is_name = |c: &char| c.is_ascii_alphanumeric() || *c == '_';
    match rest.first() {
        Some('{') => {
            let close = rest.iter().position(|&c| c == '}')?;
            // Nested braces (`${A:-${B}}`) are left to the unknown case.
            let inner: String = rest[1..close].iter().collect();
            if inner.contains('{') {
                return None;
            }
            let name_len = inner.chars().take_while(is_name).count();
            let (name, op) = inner.split_at(name_len);
            if name.is_empty() {
                return None;
            }
            let value = vars.lookup(name);
            let result = match op {
                "" => match value {
                    Lookup::Value(v) => v,
                    Lookup::Unset => String::new(),
                    Lookup::Unknown if vars.holes => HOLE.to_string(),
                    Lookup::Unknown => return None,
                },
                _ => {
                    let (kind, word) = if let Some(w) = op.strip_prefix(":-") {
                        ("default-if-empty", w)
                    } else if let Some(w) = op.strip_prefix(":+") {
                        ("alt-if-nonempty", w)
                    } else if let Some(w) = op.strip_prefix('-') {
                        ("default-if-unset", w)
                    } else if let Some(w) = op.strip_prefix('+') {
                        ("alt-if-set", w)
                    } else {
                        return None;
                    };
                    let word = || expand(word, vars, escape);
                    match (kind, value) {
                        (_, Lookup::Unknown) => return None,
                        ("default-if-empty", Lookup::Value(v)) if !v.is_empty() => v,
                        ("default-if-empty", _) => word()?,
                        ("default-if-unset", Lookup::Value(v)) => v,
                        ("default-if-unset", Lookup::Unset) => word()?,
                        ("alt-if-nonempty", Lookup::Value(v)) if !v.is_empty() => word()?,
                        ("alt-if-set", Lookup::Value(_)) => word()?,
                        _ => String::new(),
                    }
                }
            };
            Some((result, close + 1))
        }
        Some(c) if is_name(c) && !c.is_ascii_digit() => {
            let len = rest.iter().take_while(|c| is_name(c)).count();
            let name: String = rest[..len].iter().collect();
            match vars.lookup(&name) {
                Lookup::Value(v) => Some((v, len)),
                Lookup::Unset => Some((String::new(), len)),
                Lookup::Unknown if vars.holes => Some((HOLE.to_string(), len)),
                Lookup::Unknown => None,
            }
        }
        // A lone `$` is literal.
        None => Some(("$".into(), 0)),
        Some(c) if c.is_whitespace() => Some(("$".into(), 0)),
        // `$1`, `$@`, …: not Dockerfile variables; leave it to the unknown case.
        Some(_) => None,
    }
}

/// `ARG A=1 B` → [("A", Some("1")), ("B", None)], values still unexpanded.
fn arg_pairs(args: &str, escape: char) -> Vec<(String, Option<String>)> {
    split_words(args, escape)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect()
}

/// `ENV`/`LABEL` pairs, values unexpanded; the legacy `ENV NAME value with spaces` too.
fn env_pairs(args: &str, escape: char) -> Option<Vec<(String, String)>> {
    let words = split_words(args, escape);
    let first = words.first()?;
    if !first.contains('=') {
        let value = args
            .trim_start()
            .get(first.len()..)
            .unwrap_or("")
            .trim()
            .to_string();
        return Some(vec![(first.clone(), value)]);
    }
    words
        .into_iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `["a","b"]` → Some(["a", "b"]).
fn json_array(s: &str) -> Option<Vec<String>> {
    let t = s.trim();
    if !t.starts_with('[') {
        return None;
    }
    serde_json::from_str(t).ok()
}

/// Go's `%q` of a string slice, which BuildKit and the classic builder use for `CMD`
/// and `ENTRYPOINT`: `["/bin/sh" "-c" "echo hi"]`.
fn go_quoted(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| {
            let mut q = String::from('"');
            for c in s.chars() {
                match c {
                    '"' => q.push_str("\\\""),
                    '\\' => q.push_str("\\\\"),
                    '\n' => q.push_str("\\n"),
                    '\t' => q.push_str("\\t"),
                    '\r' => q.push_str("\\r"),
                    c => q.push(c),
                }
            }
            q.push('"');
            q
        })
        .collect();
    format!("[{}]", quoted.join(" "))
}

/// Lexical `path.Join` + `Clean` for absolute paths.
fn join_clean(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let full = if rel.starts_with('/') {
        rel.to_string()
    } else {
        format!("{base}/{rel}")
    };
    for p in full.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn trim_dest(d: &str) -> String {
    let d = collapse(d);
    if d.len() > 1 {
        d.trim_end_matches('/').to_string()
    } else {
        d
    }
}

// ---------------------------------------------------------------------------------------
// What each instruction may have been recorded as.

#[derive(Debug, Clone, PartialEq)]
struct Expected {
    line: usize,
    keyword: String,
    /// Normalised (`collapse`d) forms of the whole instruction, keyword first.
    texts: Vec<String>,
    /// For `COPY`/`ADD`: the destination forms, for the `file:<sha> in <dst>` record.
    dests: Vec<String>,
    /// Forms with [`HOLE`]s for variables the file does not define (the base image or
    /// a build arg may), which builders record expanded.
    patterns: Vec<String>,
    /// The shell in effect (`SHELL`), as the classic builder prefixes its `#(nop)`
    /// records with it: both the old and the new one for `SHELL` itself.
    shells: Vec<String>,
    /// `ARG` may leave no history step.
    optional: bool,
}

fn expectations(parsed: &Parsed) -> Vec<Expected> {
    // The final stage, preceded by the earlier stages it is built `FROM`.
    let mut chain = vec![parsed.stages.len() - 1];
    loop {
        let current = &parsed.stages[chain[0]];
        let base = current.base.to_ascii_lowercase();
        let parent = parsed.stages[..chain[0]]
            .iter()
            .rposition(|s| s.name.as_deref() == Some(base.as_str()));
        match parent {
            Some(p) => chain.insert(0, p),
            None => break,
        }
    }
    let root = &parsed.stages[chain[0]];
    let scratch = root.base.eq_ignore_ascii_case("scratch");
    let escape = parsed.escape;
    let holes_allowed = !parsed.has_hole_char;
    let mut env: HashMap<String, Option<String>> = HashMap::new();
    let mut workdir: Option<String> = scratch.then(|| "/".to_string());
    let mut shell: Vec<String> = vec!["/bin/sh".into(), "-c".into()];
    let mut out = Vec::new();
    for &s in &chain {
        // ARGs do not cross stages; ENV, WORKDIR and SHELL do.
        let mut args: HashMap<String, Option<String>> = HashMap::new();
        for ins in &parsed.stages[s].instructions {
            let vars = Vars {
                env: env.clone(),
                args: args.clone(),
                complete: scratch,
                holes: false,
            };
            let holed = Vars {
                holes: holes_allowed,
                ..vars.clone()
            };
            let mut e = Expected {
                line: ins.line,
                keyword: ins.keyword.clone(),
                texts: vec![collapse(&format!("{} {}", ins.keyword, ins.args))],
                dests: Vec::new(),
                patterns: Vec::new(),
                shells: vec![collapse(&shell.join(" "))],
                optional: ins.keyword == "ARG",
            };
            let kw = ins.keyword.as_str();
            let ex = |w: &str| expand(w, &vars, escape);
            // Only forms that really have a hole: the rest are in `texts` already.
            let holed_form = |w: &str| expand(w, &holed, escape).filter(|x| x.contains(HOLE));
            match kw {
                "RUN" => {
                    let words = split_words(&ins.args, escape);
                    let flags: Vec<&String> =
                        words.iter().take_while(|w| w.starts_with("--")).collect();
                    let mut body = ins.args.trim_start();
                    for f in &flags {
                        body = body.get(f.len()..).unwrap_or("").trim_start();
                    }
                    let flags = flags
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    let sh = shell.join(" ");
                    if let Some(argv) = json_array(body) {
                        e.texts.push(format!("RUN {}", collapse(&argv.join(" "))));
                    } else if ins.heredocs.is_empty() {
                        e.texts.push(collapse(&format!("RUN {sh} {body}")));
                        if !flags.is_empty() {
                            e.texts.push(collapse(&format!("RUN {sh} {flags} {body}")));
                        }
                    } else {
                        let simple = heredoc_markers(body).len() == 1
                            && body.trim().starts_with("<<")
                            && split_words(body, escape).len() == 1;
                        if simple {
                            if let Some(h) = ins.heredocs.first() {
                                e.texts.push(collapse(&format!("RUN {sh} {}", h.body)));
                            }
                        } else {
                            let mut full = body.to_string();
                            for h in &ins.heredocs {
                                full.push('\n');
                                full.push_str(&h.body);
                                full.push_str(&h.name);
                            }
                            e.texts.push(collapse(&format!("RUN {sh} {full}")));
                        }
                    }
                }
                "COPY" | "ADD" => {
                    let words = split_words(&ins.args, escape);
                    let paths: Vec<String> = words
                        .iter()
                        .filter(|w| !w.starts_with("--"))
                        .cloned()
                        .collect();
                    let paths = match paths.first().and_then(|_| json_array(&paths.join(" "))) {
                        Some(list) => list,
                        None => paths,
                    };
                    if let Some(dest) = paths.last() {
                        e.dests.push(trim_dest(dest));
                        e.texts.push(collapse(&format!("{kw} {}", paths.join(" "))));
                        let expanded: Option<Vec<String>> = paths.iter().map(|p| ex(p)).collect();
                        if let Some(expanded) = expanded {
                            if let Some(d) = expanded.last() {
                                e.dests.push(trim_dest(d));
                            }
                            e.texts
                                .push(collapse(&format!("{kw} {}", expanded.join(" "))));
                        }
                    }
                }
                "ENV" | "LABEL" => {
                    if let Some(pairs) = env_pairs(&ins.args, escape) {
                        let mut rendered = Vec::new();
                        let mut with_holes = Vec::new();
                        let mut all_known = true;
                        let mut all_holed = true;
                        for (k, v) in pairs {
                            let key = ex(&k).unwrap_or(k);
                            let value = ex(&v);
                            match &value {
                                Some(v) => rendered.push(format!("{key}={v}")),
                                None => all_known = false,
                            }
                            match value.clone().or_else(|| holed_form(&v)) {
                                Some(v) => with_holes.push(format!("{key}={v}")),
                                None => all_holed = false,
                            }
                            if kw == "ENV" {
                                env.insert(key, value);
                            }
                        }
                        if all_known {
                            e.texts
                                .push(collapse(&format!("{kw} {}", rendered.join(" "))));
                        } else if all_holed {
                            e.patterns
                                .push(collapse(&format!("{kw} {}", with_holes.join(" "))));
                        }
                    }
                }
                "ARG" => {
                    let mut plain = Vec::new();
                    let mut with_globals = Vec::new();
                    let mut all_known = true;
                    for (k, v) in arg_pairs(&ins.args, escape) {
                        match v {
                            Some(v) => {
                                let value = ex(&v);
                                match &value {
                                    Some(x) => {
                                        plain.push(format!("{k}={x}"));
                                        with_globals.push(format!("{k}={x}"));
                                    }
                                    None => all_known = false,
                                }
                                args.insert(k, value);
                            }
                            None => {
                                plain.push(k.clone());
                                let global = parsed.global_args.get(&k).cloned().flatten();
                                match &global {
                                    Some(g) => with_globals.push(format!("{k}={g}")),
                                    None => with_globals.push(k.clone()),
                                }
                                args.insert(k, global);
                            }
                        }
                    }
                    if all_known {
                        e.texts.push(collapse(&format!("ARG {}", plain.join(" "))));
                        e.texts
                            .push(collapse(&format!("ARG {}", with_globals.join(" "))));
                    }
                }
                "WORKDIR" => {
                    // `WORKDIR $APP_HOME` from the base image: recorded absolute, so
                    // only a hole that starts the path can be matched.
                    if let Some(p) = holed_form(ins.args.trim()) {
                        if p.starts_with(HOLE) || p.starts_with('/') {
                            e.patterns.push(collapse(&format!("WORKDIR {p}")));
                        }
                    }
                    let next = ex(ins.args.trim()).and_then(|p| {
                        e.texts.push(collapse(&format!("WORKDIR {p}")));
                        if p.starts_with('/') {
                            Some(join_clean("/", &p))
                        } else {
                            workdir.as_deref().map(|w| join_clean(w, &p))
                        }
                    });
                    if let Some(abs) = &next {
                        e.texts.push(collapse(&format!("WORKDIR {abs}")));
                    }
                    workdir = next;
                }
                "CMD" | "ENTRYPOINT" => match json_array(&ins.args) {
                    Some(argv) => {
                        e.texts
                            .push(collapse(&format!("{kw} {}", go_quoted(&argv))));
                        if let Ok(json) = serde_json::to_string(&argv) {
                            e.texts.push(collapse(&format!("{kw} {json}")));
                        }
                    }
                    None => {
                        let mut argv = shell.clone();
                        argv.push(ins.args.trim().to_string());
                        e.texts
                            .push(collapse(&format!("{kw} {}", go_quoted(&argv))));
                    }
                },
                "EXPOSE" => {
                    let ports: Option<Vec<String>> = split_words(&ins.args, escape)
                        .iter()
                        .map(|p| ex(p))
                        .collect();
                    if let Some(ports) = ports {
                        e.texts
                            .push(collapse(&format!("EXPOSE {}", ports.join(" "))));
                        if ports.iter().all(|p| !p.contains('-')) {
                            let mut keys: Vec<String> = ports
                                .iter()
                                .map(|p| {
                                    let p = p.to_ascii_lowercase();
                                    if p.contains('/') {
                                        p
                                    } else {
                                        format!("{p}/tcp")
                                    }
                                })
                                .collect();
                            keys.sort();
                            keys.dedup();
                            let map: Vec<String> =
                                keys.iter().map(|k| format!("{k}:{{}}")).collect();
                            e.texts.push(format!("EXPOSE map[{}]", map.join(" ")));
                        }
                    }
                }
                "VOLUME" | "SHELL" => {
                    let items = json_array(&ins.args).or_else(|| {
                        split_words(&ins.args, escape)
                            .iter()
                            .map(|w| ex(w))
                            .collect()
                    });
                    if let Some(items) = items {
                        e.texts
                            .push(collapse(&format!("{kw} [{}]", items.join(" "))));
                        if kw == "SHELL" {
                            shell = items;
                            e.shells.push(collapse(&shell.join(" ")));
                        }
                    }
                }
                "USER" | "STOPSIGNAL" | "MAINTAINER" => {
                    if let Some(v) = ex(ins.args.trim()) {
                        e.texts.push(collapse(&format!("{kw} {v}")));
                    } else if let Some(v) = holed_form(ins.args.trim()) {
                        e.patterns.push(collapse(&format!("{kw} {v}")));
                    }
                }
                // HEALTHCHECK, ONBUILD and anything new: as written only.
                _ => {}
            }
            e.texts.sort();
            e.texts.dedup();
            e.dests.sort();
            e.dests.dedup();
            e.patterns.sort();
            e.patterns.dedup();
            out.push(e);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// What a history step says.

#[derive(Debug, Clone, PartialEq)]
struct Observed {
    /// Normalised readings of the step, keyword first.
    texts: Vec<String>,
    /// `COPY`/`ADD` recorded as `file:<sha> in <dst>`: (keyword, destination).
    copied_to: Option<(String, String)>,
    /// The classic builder after a `SHELL`: `<shell> #(nop) <instruction>`. This
    /// reading of the step holds only where that shell is in effect.
    under_shell: Option<(String, Box<Observed>)>,
}

const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

fn observe(created_by: &str) -> Observed {
    let s = collapse(created_by);
    let s = s
        .strip_suffix("# buildkit")
        .map(str::trim_end)
        .unwrap_or(&s);
    if let Some(rest) = s.strip_prefix("/bin/sh -c #(nop)") {
        return observe_instruction(rest.trim());
    }
    let mut observed = observe_instruction(s);
    // `/bin/bash -o pipefail -c #(nop)  USER nobody`. The text before `#(nop)` could
    // also be the start of a RUN command with a comment in it, so the RUN reading is
    // kept, and the instruction reading is tied to the shell.
    if let Some(at) = s.find(" #(nop) ") {
        let rest = s[at + " #(nop) ".len()..].trim();
        // Only a keyword the builder writes after `#(nop)`; never RUN, which it records
        // as the bare command line.
        let keyword = rest.split(' ').next().unwrap_or("");
        if keyword != "RUN" && KEYWORDS.contains(&keyword) {
            let inner = observe_instruction(rest);
            observed.under_shell = Some((s[..at].to_string(), Box::new(inner)));
        }
    }
    observed
}

fn observe_instruction(s: &str) -> Observed {
    let keyword = s.split(' ').next().unwrap_or("");
    // Keywords are matched in upper case only: the classic builder records an exec-form
    // `RUN ["env", …]` as the bare `env …`, which must not read as `ENV`.
    if KEYWORDS.contains(&keyword) && s.len() > keyword.len() {
        let rest = s[keyword.len()..].trim_start();
        if keyword == "RUN" {
            return observe_run(rest);
        }
        let mut texts = vec![s.to_string()];
        let mut copied_to = None;
        if keyword == "COPY" || keyword == "ADD" {
            let words: Vec<&str> = rest.split(' ').collect();
            if let [source, "in", dest @ ..] = words.as_slice() {
                if content_hash_source(source).is_some() && !dest.is_empty() {
                    copied_to = Some((keyword.to_string(), trim_dest(&dest.join(" "))));
                }
            }
            // BuildKit leaves COPY/ADD flags out; kaniko keeps them.
            let unflagged: Vec<&str> = words
                .iter()
                .copied()
                .skip_while(|w| w.starts_with("--"))
                .collect();
            texts.push(format!("{keyword} {}", unflagged.join(" ")));
        }
        return Observed {
            texts,
            copied_to,
            under_shell: None,
        };
    }
    // The classic builder and buildah record RUN as the bare command line.
    observe_run(s)
}

/// The `file:<sha>` of a classic-builder COPY/ADD record, which glues the flags to it
/// with no space: `--chown=0:0file:d5e0…`.
fn content_hash_source(source: &str) -> Option<&str> {
    if is_content_hash(source) {
        return Some(source);
    }
    if !source.starts_with("--") {
        return None;
    }
    ["file:", "dir:", "multi:"]
        .iter()
        .filter_map(|kind| source.rfind(kind).map(|at| &source[at..]))
        .find(|s| is_content_hash(s))
}

fn is_content_hash(source: &str) -> bool {
    source.split_once(':').is_some_and(|(kind, hex)| {
        matches!(kind, "file" | "dir" | "multi")
            && !hex.is_empty()
            && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}

fn observe_run(command: &str) -> Observed {
    let mut texts = Vec::new();
    // `|2 A=1 B=2 /bin/sh -c make`: build args in scope, which the Dockerfile's RUN line
    // never shows.
    if let Some(rest) = command.strip_prefix('|') {
        let words: Vec<&str> = rest.split(' ').collect();
        if let Some(n) = words.first().and_then(|n| n.parse::<usize>().ok()) {
            if let Some(tail) = words.get(n + 1..) {
                texts.push(format!("RUN {}", tail.join(" ")));
            }
        }
        // An arg value with spaces throws the count off; the shell is a surer mark.
        if let Some(at) = rest.find(" /bin/sh -c ") {
            texts.push(format!("RUN {}", &rest[at + 1..]));
        }
    } else {
        texts.push(format!("RUN {command}"));
    }
    Observed {
        texts,
        copied_to: None,
        under_shell: None,
    }
}

fn matches(o: &Observed, e: &Expected) -> bool {
    if let Some((kind, dest)) = &o.copied_to {
        if *kind == e.keyword && e.dests.contains(dest) {
            return true;
        }
    }
    if let Some((shell, inner)) = &o.under_shell {
        if e.shells.contains(shell) && matches(inner, e) {
            return true;
        }
    }
    o.texts
        .iter()
        .any(|t| e.texts.contains(t) || e.patterns.iter().any(|p| hole_match(p, t)))
}

/// Whether `text` is `pattern` with each [`HOLE`] replaced by a run of characters
/// without a space (possibly empty: the classic builder expands an unset variable to
/// nothing). No space, so a hole never swallows the next `KEY=value` of an `ENV`.
fn hole_match(pattern: &str, text: &str) -> bool {
    let mut pieces = pattern.split(HOLE);
    let Some(first) = pieces.next() else {
        return pattern == text;
    };
    let Some(rest) = text.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    // A hole ends somewhere in the current word; try each place (words are short).
    fn fill(rest: &str, pieces: &[&str]) -> bool {
        let Some((piece, more)) = pieces.split_first() else {
            return rest.is_empty();
        };
        let word_end = rest.find(' ').unwrap_or(rest.len());
        (0..=word_end)
            .filter(|&at| rest.is_char_boundary(at))
            .any(|at| rest[at..].starts_with(piece) && fill(&rest[at + piece.len()..], more))
    }
    if pieces.is_empty() {
        return rest.is_empty();
    }
    fill(rest, &pieces)
}

// ---------------------------------------------------------------------------------------
// Alignment.

fn align(observed: &[Option<Observed>], expected: &[Expected]) -> Vec<Option<usize>> {
    let n = observed.len();
    let m = expected.len();
    let mut result = vec![None; n];
    if n == 0 || m == 0 {
        return result;
    }
    // How many steps may follow instruction j's step: one per later instruction, and
    // an ARG's step may be missing.
    let mut after_max = vec![0usize; m];
    let mut after_min = vec![0usize; m];
    for j in (0..m.saturating_sub(1)).rev() {
        after_max[j] = after_max[j + 1] + 1;
        after_min[j] = after_min[j + 1] + usize::from(!expected[j + 1].optional);
    }
    let ok = |i: usize, j: usize| -> bool {
        let after = n - 1 - i;
        after >= after_min[j]
            && after <= after_max[j]
            && observed[i]
                .as_ref()
                .is_some_and(|o| matches(o, &expected[j]))
    };
    let pairs: Vec<Vec<bool>> = (0..n).map(|i| (0..m).map(|j| ok(i, j)).collect()).collect();
    // prefix[i][j]: most pairs among steps < i and instructions < j;
    // suffix[i][j]: most pairs among steps >= i and instructions >= j.
    let mut prefix = vec![vec![0u32; m + 1]; n + 1];
    for i in 1..=n {
        for j in 1..=m {
            prefix[i][j] = if pairs[i - 1][j - 1] {
                prefix[i - 1][j - 1] + 1
            } else {
                prefix[i - 1][j].max(prefix[i][j - 1])
            };
        }
    }
    let mut suffix = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            suffix[i][j] = if pairs[i][j] {
                suffix[i + 1][j + 1] + 1
            } else {
                suffix[i + 1][j].max(suffix[i][j + 1])
            };
        }
    }
    let best = prefix[n][m];
    // A pair on a longest matching is always its k-th pair, k = prefix + 1; it is in
    // every longest matching exactly when no other pair can be k-th.
    let mut at_level: HashMap<u32, Vec<(usize, usize)>> = HashMap::new();
    for (i, row) in pairs.iter().enumerate() {
        for (j, &p) in row.iter().enumerate() {
            if p && prefix[i][j] + 1 + suffix[i + 1][j + 1] == best {
                at_level.entry(prefix[i][j]).or_default().push((i, j));
            }
        }
    }
    for candidates in at_level.values() {
        if let [(i, j)] = candidates.as_slice() {
            result[*i] = Some(expected[*j].line);
        }
    }
    result
}

#[cfg(test)]
mod tests;
