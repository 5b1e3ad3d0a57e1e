//! Which mistake some wasted bytes come from, and what to change: the pattern is named
//! from both steps' instructions and from what the content says (where the bytes lay,
//! how they were hidden, what a rewrite changed), and the fix is aimed at a step the
//! team owns. The words are [`Words`]: text, code and step references, which every
//! renderer draws in its own medium, so none has to parse a sentence back.

use serde::Serialize;

use crate::explain::{Facts, How, PathKind, Place};
use crate::text::human;

/// What one step's instruction runs, as far as the advice needs to know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Commands {
    pub run: bool,
    pub copy: bool,
    pub add: bool,
    /// `COPY --from=…`: a stage's or an image's files.
    pub copy_from: bool,
    pub chmod: bool,
    pub chown: bool,
    pub touch: bool,
    pub mv: bool,
    pub extract: bool,
    pub package_install: bool,
    pub package_upgrade: bool,
    pub package_remove: bool,
    pub language_install: bool,
    pub language_upgrade: bool,
    pub language_remove: bool,
}

impl Commands {
    /// Reads an instruction as [`crate::model::steps::instruction`] gives it (`RUN …`,
    /// `COPY …`, or a bare command line).
    pub fn of(instruction: &str) -> Commands {
        let mut c = Commands::default();
        let text = instruction.trim();
        let (keyword, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        match keyword.to_ascii_uppercase().as_str() {
            "COPY" => {
                c.copy = true;
                c.copy_from = rest.split_whitespace().any(|w| w.starts_with("--from"));
                return c;
            }
            "ADD" => {
                c.add = true;
                return c;
            }
            "RUN" => c.read_shell(rest),
            // A bare command line (classic builders' RUN).
            _ if !keyword.chars().all(|ch| ch.is_ascii_uppercase()) => c.read_shell(text),
            _ => {}
        }
        c
    }

    fn read_shell(&mut self, line: &str) {
        self.run = true;
        let line = without_wrappers(line);
        // The exec form, `RUN ["apt-get", "purge", "-y", "gcc"]`: its words.
        let exec_form;
        let line = if line.starts_with('[') {
            exec_form = line.replace(['[', ']', '"', ','], " ");
            exec_form.as_str()
        } else {
            line
        };
        let line = line.replace("\\\n", " ");
        for command in line.split(['&', '|', ';', '\n', '(', ')', '{', '}']) {
            let mut words = command
                .split_whitespace()
                .skip_while(|w| w.starts_with("--mount") || w.starts_with("--network"))
                .skip_while(|w| {
                    matches!(*w, "sudo" | "env" | "exec" | "then" | "do" | "else" | "if")
                        || w.contains('=') && !w.starts_with('-')
                });
            let Some(first) = words.next() else { continue };
            let mut program = first.rsplit('/').next().unwrap_or(first);
            let mut args: Vec<&str> = words.collect();
            // `xargs apt-get purge`, `find … -exec chmod …`: the command they run.
            if program == "xargs" {
                let at = args
                    .iter()
                    .position(|a| !a.starts_with('-'))
                    .unwrap_or(args.len());
                if at < args.len() {
                    program = args[at].rsplit('/').next().unwrap_or(args[at]);
                    args.drain(..=at);
                }
            } else if program == "find" {
                if let Some(at) = args.iter().position(|a| *a == "-exec" || *a == "-execdir") {
                    if let Some(run) = args.get(at + 1).copied() {
                        program = run.rsplit('/').next().unwrap_or(run);
                        args.drain(..=at + 1);
                    }
                }
            }
            // The subcommand: the first word that is neither an option nor the value
            // of one (`apt-get -o Dpkg::Options::=--force-confold install`).
            let sub = args
                .iter()
                .enumerate()
                .find(|&(i, a)| {
                    let option_value =
                        i > 0 && matches!(args[i - 1], "-o" | "-t" | "-c" | "--option");
                    !a.starts_with('-') && !option_value
                })
                .map(|(_, a)| *a)
                .unwrap_or("");
            let flag = |f: &str| {
                args.iter()
                    .any(|a| *a == f || a.starts_with(&format!("{f}=")))
            };
            match program {
                "chmod" => self.chmod = true,
                "chown" | "chgrp" => self.chown = true,
                "touch" => self.touch = true,
                "mv" | "rename" => self.mv = true,
                "tar" | "unzip" | "gunzip" | "bsdtar" | "xz" | "7z" => self.extract = true,
                "apt-get" | "apt" | "aptitude" | "apk" | "dnf" | "yum" | "microdnf" | "zypper"
                | "tdnf" => match sub {
                    "install" | "add" | "reinstall" => self.package_install = true,
                    "upgrade" | "dist-upgrade" | "full-upgrade" => self.package_upgrade = true,
                    // `apt-get update`/`apk update` only refresh the index; dnf's and
                    // yum's `update` upgrade.
                    "update" if !matches!(program, "apt-get" | "apt" | "apk") => {
                        self.package_upgrade = true
                    }
                    "purge" | "remove" | "autoremove" | "del" | "erase" => {
                        self.package_remove = true
                    }
                    _ => {}
                },
                "dpkg" | "rpm" => {
                    if flag("-i") || flag("--install") || flag("-U") || flag("-ivh") || flag("-Uvh")
                    {
                        self.package_install = true;
                    }
                    if flag("-P") || flag("-r") || flag("--purge") || flag("--remove") || flag("-e")
                    {
                        self.package_remove = true;
                    }
                }
                "pip" | "pip3" | "python" | "python3" | "npm" | "yarn" | "pnpm" | "gem"
                | "bundle" | "poetry" | "uv" => {
                    let args: Vec<&str> = if program.starts_with("python") {
                        // `python -m pip install …`
                        match args.iter().position(|a| *a == "pip") {
                            Some(at) => args[at + 1..].to_vec(),
                            None => continue,
                        }
                    } else {
                        args
                    };
                    // A bare `yarn` installs.
                    let bare = if program == "yarn" { "install" } else { "" };
                    let sub = args
                        .iter()
                        .copied()
                        .find(|a| !a.starts_with('-'))
                        .unwrap_or(bare);
                    let upgrade = args.iter().any(|a| *a == "--upgrade" || *a == "-U");
                    match sub {
                        "install" | "i" | "add" | "ci" | "sync" if upgrade => {
                            self.language_upgrade = true
                        }
                        "install" | "i" | "add" | "ci" | "sync" => {
                            self.language_install = true;
                            // `npm install -g npm@10`: the base's own npm, upgraded.
                            if args.iter().any(|a| *a == "npm" || a.starts_with("npm@")) {
                                self.language_upgrade = true;
                            }
                        }
                        "update" | "upgrade" => self.language_upgrade = true,
                        "uninstall" | "remove" | "rm" => self.language_remove = true,
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }
}

/// A RUN's command line without what builders wrap around it: the build args
/// BuildKit and the classic builder record in front (`|2 A=1 B=2 `), and a shell
/// invocation (`/bin/sh -c `, `/bin/bash -o pipefail -c `) after `SHELL` or in a
/// bare record.
pub fn without_wrappers(line: &str) -> &str {
    let mut rest = line.trim_start();
    if let Some(after) = rest.strip_prefix('|') {
        let count = after.split_whitespace().next().unwrap_or("");
        if !count.is_empty() && count.chars().all(|c| c.is_ascii_digit()) {
            rest = after[count.len()..].trim_start();
            // The build args: `K=V` words, as many as the count says (or up to a word
            // that is not one).
            let n: usize = count.parse().unwrap_or(0);
            for _ in 0..n {
                match rest.split_once(char::is_whitespace) {
                    Some((word, more)) if word.contains('=') => rest = more.trim_start(),
                    _ => break,
                }
            }
        }
    }
    // `/bin/sh -c …`, `bash -o pipefail -c …`: everything up to the `-c`.
    let mut words = rest.split_whitespace();
    if let Some(first) = words.next() {
        let program = first.rsplit('/').next().unwrap_or(first);
        if matches!(program, "sh" | "bash" | "ash" | "dash" | "zsh") {
            if let Some(at) = rest.find(" -c ") {
                let between = &rest[first.len()..at];
                if between
                    .split_whitespace()
                    .all(|w| w.starts_with('-') || w == "pipefail" || w == "errexit")
                {
                    return rest[at + " -c ".len()..].trim_start();
                }
            }
        }
    }
    rest
}

/// The mistakes layerwaste names, each with its own fix. The ids are stable: CI rules
/// and the fleet scan count them (docs/json.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    /// Packages installed in one step and removed by a later one.
    BuildDeps,
    /// An archive downloaded or copied in, then deleted by a later step.
    DownloadRemoved,
    /// Files deleted by a step that added the same content at another path.
    Moved,
    /// Anything else added, then deleted.
    AddedThenDeleted,
    /// Files copied again by `chmod`/`chown` to change their mode or owner.
    ChmodCopy,
    /// `ADD` of a file, then a `chmod` of it.
    AddThenChmod,
    /// Files stored again with nothing changed at all.
    NoOpRewrite,
    /// Files stored again with only their times (or an unknown mix) changed.
    MetadataOnly,
    /// A package manager rewrote packages an earlier step installed.
    PackageUpgrade,
    /// pip, npm or gem replaced packages an earlier step installed.
    LanguagePackageUpgrade,
    /// A `COPY` (from a build stage) of files the image already has.
    MultiStageCopy,
    /// Anything else written again with other content.
    Overwritten,
    /// A package manager's cache or index, removed in a later step.
    PackageCache,
    /// The package database, stored again by every install step.
    PackageDatabaseChurn,
}

impl Pattern {
    pub const ALL: [Pattern; 14] = [
        Pattern::BuildDeps,
        Pattern::DownloadRemoved,
        Pattern::Moved,
        Pattern::AddedThenDeleted,
        Pattern::ChmodCopy,
        Pattern::AddThenChmod,
        Pattern::NoOpRewrite,
        Pattern::MetadataOnly,
        Pattern::PackageUpgrade,
        Pattern::LanguagePackageUpgrade,
        Pattern::MultiStageCopy,
        Pattern::Overwritten,
        Pattern::PackageCache,
        Pattern::PackageDatabaseChurn,
    ];

    /// The stable id, as in the JSON.
    pub fn id(self) -> &'static str {
        match self {
            Pattern::BuildDeps => "build-deps",
            Pattern::DownloadRemoved => "download-removed",
            Pattern::Moved => "moved",
            Pattern::AddedThenDeleted => "added-then-deleted",
            Pattern::ChmodCopy => "chmod-copy",
            Pattern::AddThenChmod => "add-then-chmod",
            Pattern::NoOpRewrite => "no-op-rewrite",
            Pattern::MetadataOnly => "metadata-only",
            Pattern::PackageUpgrade => "package-upgrade",
            Pattern::LanguagePackageUpgrade => "language-package-upgrade",
            Pattern::MultiStageCopy => "multi-stage-copy",
            Pattern::Overwritten => "overwritten",
            Pattern::PackageCache => "package-cache",
            Pattern::PackageDatabaseChurn => "package-database-churn",
        }
    }

    /// One line on what the pattern is, for SARIF rules and docs.
    pub fn summary(self) -> &'static str {
        match self {
            Pattern::BuildDeps => {
                "Build dependencies installed in one step and removed in a later one"
            }
            Pattern::DownloadRemoved => "A downloaded archive deleted in a later step",
            Pattern::Moved => {
                "Files moved or renamed by a later step, stored again at the new path"
            }
            Pattern::AddedThenDeleted => "Files added by one step and deleted by a later one",
            Pattern::ChmodCopy => {
                "Files stored again by a chmod/chown that changed only mode or owner"
            }
            Pattern::AddThenChmod => "An ADD followed by a chmod of the same file",
            Pattern::NoOpRewrite => "Files stored again with nothing changed",
            Pattern::MetadataOnly => "Files stored again with only their times changed",
            Pattern::PackageUpgrade => {
                "Packages of an earlier step upgraded or reinstalled by a package manager"
            }
            Pattern::LanguagePackageUpgrade => {
                "pip, npm or gem packages of an earlier step replaced by an upgrade"
            }
            Pattern::MultiStageCopy => {
                "A COPY of files the image already has, often from a build stage"
            }
            Pattern::Overwritten => "Files overwritten with other content by a later step",
            Pattern::PackageCache => "Package lists or caches removed in a later step",
            Pattern::PackageDatabaseChurn => {
                "The package database stored again by each install step"
            }
        }
    }

    /// The id in CamelCase, as SARIF names rules.
    pub fn rule_name(self) -> String {
        self.id()
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// The fix in general terms, for SARIF rules and docs (a finding's own fix names
    /// its steps).
    pub fn help(self) -> &'static str {
        match self {
            Pattern::BuildDeps => "Removing packages in a later step only hides them. Install, use and remove the build dependencies in one RUN, or build in a separate stage and COPY --from only the result.",
            Pattern::DownloadRemoved => "Download, extract and delete the archive in one RUN, or bind-mount it with RUN --mount=type=bind.",
            Pattern::Moved => "A mv in a later step stores the files again at the new path. Extract or write the files at their final path in the step that creates them.",
            Pattern::AddedThenDeleted => "Deleting a file in a later step only hides it: the earlier layer still stores it and every pull downloads it. Create, use and remove in one RUN, or build in a separate stage.",
            Pattern::ChmodCopy => "A chmod or chown in a later step copies each file whole into the new layer. Use COPY --chmod/--chown, or set modes in the step that creates the files.",
            Pattern::AddThenChmod => "Use ADD --chmod=755 instead of a chmod in a later step.",
            Pattern::NoOpRewrite => "The later step changed nothing in the files but stored them again: drop it.",
            Pattern::MetadataOnly => "Set modes, owners and times in the step that creates the files, not in a later one.",
            Pattern::PackageUpgrade => "Upgrading packages of the base or an earlier step stores them again. Use a newer base image, or pin the versions you install once.",
            Pattern::LanguagePackageUpgrade => "Upgrading pip, npm or a package an earlier step installed leaves the old files in their layer. Skip the upgrade, or choose a base image that already has the version.",
            Pattern::MultiStageCopy => "Copy only what the builder stage added (a virtualenv, a pip install --prefix or DESTDIR directory), not a directory the image already has.",
            Pattern::Overwritten => "The earlier copy stays in its layer. Write the files once, in their final form, in one step.",
            Pattern::PackageCache => "Clean the cache in the same RUN that fills it (apt-get … && rm -rf /var/lib/apt/lists/*, apk add --no-cache, pip install --no-cache-dir), or mount it with RUN --mount=type=cache.",
            Pattern::PackageDatabaseChurn => "Every RUN that installs packages rewrites the package database (var/lib/dpkg/status, lib/apk/db/installed, …) and stores it again. Install everything in fewer RUN steps.",
        }
    }

    /// Names the pattern of some wasted bytes from what they are and from the adding
    /// and hiding steps' commands. What cannot be told stays generic.
    pub fn name(facts: &Facts, adder: &Commands, hider: &Commands, same_step: bool) -> Pattern {
        let upgrade_by_language = hider.language_install || hider.language_upgrade;
        let package_manager = hider.package_install || hider.package_upgrade;
        let installs = package_manager || upgrade_by_language;
        match (facts.place, facts.how) {
            (Place::PackageDatabase, _) => Pattern::PackageDatabaseChurn,
            (Place::Cache(_), How::Removed | How::Moved) => Pattern::PackageCache,
            (Place::LanguagePackages, _) if !same_step && upgrade_by_language => {
                Pattern::LanguagePackageUpgrade
            }
            // An upgrade that puts the same files under a versioned path is no `mv`.
            (_, How::Moved) if !same_step && (hider.mv || !installs) => Pattern::Moved,
            (_, How::Removed | How::Moved) => {
                if same_step {
                    Pattern::AddedThenDeleted
                } else if matches!(facts.place, Place::Archive) {
                    Pattern::DownloadRemoved
                } else if (hider.package_remove || hider.language_remove) && adder.run {
                    // Removed by a package manager, added by a RUN: installed, or
                    // copied by a chmod/chown of installed files. Not files a COPY or
                    // ADD brought in (sources removed along with the build deps).
                    Pattern::BuildDeps
                } else {
                    Pattern::AddedThenDeleted
                }
            }
            (_, How::Rewritten | How::Overwritten) if same_step => Pattern::Overwritten,
            (_, How::Rewritten | How::Overwritten) if package_manager => Pattern::PackageUpgrade,
            (_, How::Rewritten | How::Overwritten) if hider.copy_from => Pattern::MultiStageCopy,
            (_, How::Rewritten) if hider.copy => Pattern::MultiStageCopy,
            (_, How::Rewritten) if facts.changes.is_none() => Pattern::NoOpRewrite,
            (_, How::Rewritten)
                if (hider.chmod || hider.chown || facts.changes.mode || facts.changes.owner)
                    && !(hider.touch && !hider.chmod && !hider.chown) =>
            {
                if adder.add && (hider.chmod || facts.changes.mode) {
                    Pattern::AddThenChmod
                } else {
                    Pattern::ChmodCopy
                }
            }
            (_, How::Rewritten) => Pattern::MetadataOnly,
            (_, How::Overwritten) => Pattern::Overwritten,
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// Who can change the steps of a finding, given where the base image ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Owner {
    /// Where the base image ends is not known.
    Unknown,
    /// Both steps are the team's own (after the base).
    Team,
    /// A team step hid bytes of the base image.
    Crossing,
    /// Both steps are the base image's.
    Base,
}

impl Owner {
    /// `first_team_step`: the index of the first step after the base image, if known.
    pub fn of(added: usize, by: usize, first_team_step: Option<usize>) -> Owner {
        match first_team_step {
            None => Owner::Unknown,
            Some(first) if added >= first => Owner::Team,
            Some(first) if by >= first => Owner::Crossing,
            Some(_) => Owner::Base,
        }
    }
}

/// A step as the words name it: its index, a short instruction, and its Dockerfile
/// line when the Dockerfile is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRef {
    pub step: usize,
    /// The instruction, shortened (at most [`SHORT_INSTRUCTION`] characters, flags
    /// such as `--mount=…` left out). Outside text: escape it where it is shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile_line: Option<usize>,
    /// The step is the base image's.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub base: bool,
}

/// How long a step's instruction may be in the verdict and the fixes.
pub const SHORT_INSTRUCTION: usize = 30;

/// An instruction as the verdict names it: the keyword and its arguments, without
/// the flags that say nothing about the mistake, cut to [`SHORT_INSTRUCTION`].
pub fn short_instruction(instruction: &str) -> String {
    let mut words = instruction.split_whitespace();
    let Some(keyword) = words.next() else {
        return String::new();
    };
    let rest: Vec<&str> = words
        .skip_while(|w| w.starts_with("--") && !w.starts_with("--from"))
        .collect();
    if keyword == "RUN" {
        let line = rest.join(" ");
        let line = without_wrappers(&line);
        let text = if line.is_empty() {
            keyword.to_string()
        } else {
            format!("RUN {line}")
        };
        return crate::text::truncate(&text, SHORT_INSTRUCTION);
    }
    // The classic builder's and buildah's `COPY file:<sha> in /dst`: the hash says
    // nothing to a person, the destination does.
    if let [source, "in", dest @ ..] = rest.as_slice() {
        if ["file:", "dir:", "multi:"]
            .iter()
            .any(|k| source.contains(k))
        {
            let dest = dest.join(" ");
            return crate::text::truncate(&format!("{keyword} … {dest}"), SHORT_INSTRUCTION);
        }
    }
    let text = if rest.is_empty() {
        keyword.to_string()
    } else {
        format!("{keyword} {}", rest.join(" "))
    };
    crate::text::truncate(&text, SHORT_INSTRUCTION)
}

/// A piece of the words: text layerwaste wrote, code (a command to type), or a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    Text(String),
    Code(&'static str),
    Step(StepRef),
}

/// Words made of [`Span`]s. [`Words::plain`] gives them as text, with backticks
/// around code and instructions, for JSON and the terminal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Words(pub Vec<Span>);

impl Words {
    fn text(mut self, s: impl Into<String>) -> Words {
        self.0.push(Span::Text(s.into()));
        self
    }

    fn code(mut self, s: &'static str) -> Words {
        self.0.push(Span::Code(s));
        self
    }

    fn step(mut self, s: &StepRef) -> Words {
        self.0.push(Span::Step(s.clone()));
        self
    }

    fn extend(mut self, more: Words) -> Words {
        self.0.extend(more.0);
        self
    }

    /// Plain text; `escape` is applied to instructions (outside text) only.
    pub fn plain_with(&self, escape: impl Fn(&str) -> String) -> String {
        self.render(|s| step_label(s, &escape))
    }

    /// Plain text naming steps by index alone (`step 3`), for where the steps were
    /// named with their instructions just before (the verdict's blocks).
    pub fn brief(&self) -> String {
        self.render(|s| format!("step {}", s.step))
    }

    fn render(&self, step: impl Fn(&StepRef) -> String) -> String {
        let mut out = String::new();
        for span in &self.0 {
            match span {
                Span::Text(t) => out.push_str(t),
                Span::Code(c) => {
                    out.push('`');
                    out.push_str(c);
                    out.push('`');
                }
                Span::Step(s) => out.push_str(&step(s)),
            }
        }
        out
    }

    /// Plain text, instructions as recorded (escape for the medium when shown).
    pub fn plain(&self) -> String {
        self.plain_with(|s| s.to_string())
    }
}

/// `step 4 `RUN dpkg -i …`` or, with a Dockerfile, `step 4 (line 5) `RUN …``.
pub fn step_label(s: &StepRef, escape: &impl Fn(&str) -> String) -> String {
    let mut out = format!("step {}", s.step);
    if let Some(line) = s.dockerfile_line {
        out.push_str(&format!(" (line {line})"));
    }
    if let Some(i) = s.instruction.as_deref().filter(|i| !i.is_empty()) {
        out.push_str(&format!(" `{}`", escape(i)));
    }
    out
}

/// The pattern in a few words, for the verdict's second line of a finding.
pub fn words(pattern: Pattern, facts: &Facts, same_step: bool) -> String {
    let changed = || {
        let c = facts.changes;
        let mut parts = Vec::new();
        if c.mode {
            parts.push("mode");
        }
        if c.owner {
            parts.push("owner");
        }
        if c.mtime {
            parts.push("times");
        }
        crate::explain::prose::list_words(&parts)
    };
    match pattern {
        Pattern::BuildDeps => "build dependencies added then removed".into(),
        Pattern::DownloadRemoved => "an archive downloaded or copied in, then deleted later".into(),
        Pattern::Moved => "moved or renamed: the same files stored again at a new path".into(),
        Pattern::AddedThenDeleted if same_step => "written and replaced within one step".into(),
        Pattern::AddedThenDeleted => "added then deleted".into(),
        Pattern::ChmodCopy => format!("a chmod/chown copy: only the {} changed", changed()),
        Pattern::AddThenChmod => format!("ADD then chmod: only the {} changed", changed()),
        Pattern::NoOpRewrite => "a no-op rewrite: stored again with nothing changed".into(),
        Pattern::MetadataOnly => format!("a metadata-only copy: only the {} changed", changed()),
        Pattern::PackageUpgrade => "a package upgrade over earlier packages".into(),
        Pattern::LanguagePackageUpgrade => "an upgrade of earlier pip/npm packages".into(),
        Pattern::MultiStageCopy => "a copy of files the image already has".into(),
        Pattern::Overwritten if same_step => "written twice within one step".into(),
        Pattern::Overwritten => "overwritten with other content".into(),
        Pattern::PackageCache => match facts.place {
            Place::Cache(kind) => format!("{} left behind, removed later", kind.label()),
            _ => "package caches left behind, removed later".into(),
        },
        Pattern::PackageDatabaseChurn => "package-database churn".into(),
    }
}

/// What to change, aimed at a step the team owns. `added` and `by` are the two steps;
/// for the base's own waste no step is named, since the team cannot change it. Each fix
/// fits one line of the verdict at 100 columns when its steps are named by index.
pub fn fix(pattern: Pattern, facts: &Facts, owner: Owner, added: &StepRef, by: &StepRef) -> Words {
    let w = Words::default();
    if owner == Owner::Base {
        return w.text("Inherited from the base image: choose or rebuild the base to change it.");
    }
    let same = added.step == by.step;
    let crossing = owner == Owner::Crossing;
    let join = |w: Words, what: &str, tail: Words| {
        w.text(what)
            .text(" in one RUN (join ")
            .step(added)
            .text(" and ")
            .step(by)
            .text(")")
            .extend(tail)
    };
    match pattern {
        Pattern::PackageDatabaseChurn => w.text(
            "Each install step stores the package database again: install in fewer RUN steps.",
        ),
        Pattern::PackageUpgrade if crossing => w
            .step(by)
            .text(" rewrites the base image's packages: use a newer base image instead, or accept the cost."),
        Pattern::PackageUpgrade => w
            .text("Pin the versions you install, or use a newer base image, instead of upgrading in ")
            .step(by)
            .text("."),
        Pattern::LanguagePackageUpgrade if crossing => w
            .step(by)
            .text(" replaces base image packages: skip the upgrade, or pick a base image with that version."),
        Pattern::LanguagePackageUpgrade => w
            .text("Install the version you need once, in ")
            .step(added)
            .text(", not upgrade it in ")
            .step(by)
            .text(" (or pick a base image with it)."),
        Pattern::MultiStageCopy => w
            .text("Copy only what the builder added (a venv, a ")
            .code("--prefix")
            .text(" dir) in ")
            .step(by)
            .text(", not what the image has."),
        _ if crossing => match facts.how {
            How::Removed | How::Moved => w
                .step(by)
                .text(" deletes files of the base image, which stay in its layers: drop that, or pick another base."),
            How::Rewritten | How::Overwritten => w
                .step(by)
                .text(" stores files of the base image again: drop that, or pick a base that has them as needed."),
        },
        Pattern::BuildDeps => join(
            w,
            "Install, use and remove them",
            Words::default().text(", or use a build stage."),
        ),
        Pattern::DownloadRemoved if added_copies(added) => w
            .text("Bind-mount it into the one RUN that extracts it (")
            .code("RUN --mount=type=bind")
            .text("), not COPY it in ")
            .step(added)
            .text("."),
        Pattern::DownloadRemoved => join(
            w,
            "Fetch, extract and delete it",
            Words::default()
                .text(", or use ")
                .code("RUN --mount=type=bind")
                .text("."),
        ),
        Pattern::Moved => w
            .text("Write the files at their final path in ")
            .step(added)
            .text("; the move in ")
            .step(by)
            .text(" stores them again."),
        Pattern::AddedThenDeleted | Pattern::Overwritten if same => w
            .text("Write each file once, at its final path and in its final form, in ")
            .step(added)
            .text("."),
        Pattern::AddedThenDeleted => join(
            w,
            "Create, use and remove them",
            Words::default().text(", or use a build stage."),
        ),
        Pattern::ChmodCopy if added_copies(added) => w
            .text("Use ")
            .code("COPY --chmod=…")
            .text("/")
            .code("--chown=…")
            .text(" in ")
            .step(added)
            .text(", and drop the chmod/chown of ")
            .step(by)
            .text("."),
        Pattern::ChmodCopy => w
            .text("Set modes and owners in ")
            .step(added)
            .text(", in the RUN that makes the files, and drop ")
            .step(by)
            .text("."),
        Pattern::AddThenChmod => w
            .text("Use ")
            .code("ADD --chmod=755")
            .text(" in ")
            .step(added)
            .text(" and drop the chmod of ")
            .step(by)
            .text("."),
        Pattern::NoOpRewrite => w
            .text("Drop ")
            .step(by)
            .text(": it changed nothing, yet stores the files again (set owners with ")
            .code("COPY --chown")
            .text(")."),
        Pattern::MetadataOnly => w
            .text("Set modes and times where the files are made, in ")
            .step(added)
            .text(" (")
            .code("COPY --chmod")
            .text("), not in ")
            .step(by)
            .text("."),
        Pattern::Overwritten => w
            .text("Write the files once, in their final form: ")
            .step(by)
            .text(" replaces what ")
            .step(added)
            .text(" wrote."),
        Pattern::PackageCache => match facts.place {
            Place::Cache(kind) => cache_fix(w, kind, added),
            _ => w.text("Remove caches in the step that makes them."),
        },
    }
}

fn added_copies(s: &StepRef) -> bool {
    s.instruction
        .as_deref()
        .is_some_and(|i| i.starts_with("COPY") || i.starts_with("ADD"))
}

fn cache_fix(w: Words, kind: PathKind, added: &StepRef) -> Words {
    let w = w.text("Clean up in ").step(added).text(": ");
    match kind {
        PathKind::AptLists | PathKind::AptCache => w
            .code("rm -rf /var/lib/apt/lists/*")
            .text(" at its end, or ")
            .code("RUN --mount=type=cache")
            .text("."),
        PathKind::ApkCache => w.code("apk add --no-cache").text("."),
        PathKind::DnfCache => w.code("dnf clean all").text(" in the same RUN."),
        PathKind::PipCache => w.code("pip install --no-cache-dir").text("."),
        PathKind::NpmCache => w.code("npm cache clean --force").text(" in the same RUN."),
        PathKind::YarnCache => w.code("yarn cache clean").text(" in the same RUN."),
        PathKind::GoCache => w
            .code("RUN --mount=type=cache,target=/root/.cache/go-build")
            .text("."),
        PathKind::GemCache => w
            .code("gem install --no-document")
            .text(", cleaned up in the same RUN."),
        PathKind::PackageArchive | PathKind::PackageDatabase => w
            .text("delete the package in the RUN that installs it, or bind-mount it (")
            .code("RUN --mount=type=bind")
            .text(")."),
    }
}

/// `1.8 MB in 59 files` / `1 file`.
pub fn size_and_files(bytes: u64, files: u64) -> String {
    format!(
        "{} in {}",
        human(bytes),
        crate::explain::prose::count(files, "file", "files")
    )
}

#[cfg(test)]
mod tests;
