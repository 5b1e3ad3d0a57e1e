//! Paths that mean something to a person fixing a Dockerfile: package-manager caches
//! and indexes (safe to drop in the step that made them) and package databases (which
//! every install step rewrites).

/// What a path is, when it is one of the well-known kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathKind {
    AptLists,
    AptCache,
    ApkCache,
    DnfCache,
    PipCache,
    NpmCache,
    YarnCache,
    GoCache,
    GemCache,
    /// `.deb`, `.apk`, `.rpm` files: packages downloaded to be installed.
    PackageArchive,
    /// `var/lib/dpkg/status` and friends: rewritten by every install step.
    PackageDatabase,
}

impl PathKind {
    pub fn is_cache(self) -> bool {
        self != PathKind::PackageDatabase
    }

    /// A short name for prose.
    pub fn label(self) -> &'static str {
        match self {
            PathKind::AptLists => "apt package lists",
            PathKind::AptCache => "apt's .deb cache",
            PathKind::ApkCache => "the apk cache",
            PathKind::DnfCache => "the dnf/yum cache",
            PathKind::PipCache => "the pip cache",
            PathKind::NpmCache => "the npm cache",
            PathKind::YarnCache => "the yarn cache",
            PathKind::GoCache => "Go's build and module caches",
            PathKind::GemCache => "the gem cache",
            PathKind::PackageArchive => "downloaded package archives",
            PathKind::PackageDatabase => "the package database",
        }
    }

    /// What to change, in one sentence.
    pub fn fix(self) -> &'static str {
        match self {
            PathKind::AptLists | PathKind::AptCache => {
                "Run `apt-get update && apt-get install -y --no-install-recommends … && rm -rf /var/lib/apt/lists/*` in one RUN, or mount the caches with `RUN --mount=type=cache,target=/var/cache/apt`."
            }
            PathKind::ApkCache => "Use `apk add --no-cache`.",
            PathKind::DnfCache => "Add `&& dnf clean all` (or `yum clean all`) to the RUN that installs.",
            PathKind::PipCache => "Use `pip install --no-cache-dir`, or `RUN --mount=type=cache,target=/root/.cache/pip`.",
            PathKind::NpmCache => "Add `&& npm cache clean --force` to the RUN that installs, or `RUN --mount=type=cache,target=/root/.npm`.",
            PathKind::YarnCache => "Add `&& yarn cache clean` to the RUN that installs, or mount the cache with `RUN --mount=type=cache`.",
            PathKind::GoCache => "Build with `RUN --mount=type=cache,target=/root/.cache/go-build`, or in a separate stage.",
            PathKind::GemCache => "Use `bundle install` with `BUNDLE_NO_CACHE`/`gem install --no-document` and clean up in the same RUN.",
            PathKind::PackageArchive => "Download, install and delete the package in the same RUN, or bind-mount it (`RUN --mount=type=bind`).",
            PathKind::PackageDatabase => "Each install step stores a new copy; install everything in fewer RUN steps.",
        }
    }
}

/// Directory names that mean something wherever they sit in a path, each matched at a
/// component's start: one bit of [`Marks`] apiece.
const NAMED_DIRS: [&[u8]; 12] = [
    b".cache/pip/",
    b".npm/_cacache/",
    b".npm/_logs/",
    b".cache/yarn/",
    b".yarn/cache/",
    b".cache/go-build/",
    b"go/pkg/mod/cache/",
    b".gem/",
    b"site-packages/",
    b"dist-packages/",
    b"node_modules/",
    b"gems/",
];
const PIP: u16 = 1 << 0;
const NPM: u16 = 1 << 1 | 1 << 2;
const YARN: u16 = 1 << 3 | 1 << 4;
const GO: u16 = 1 << 5 | 1 << 6;
const GEM: u16 = 1 << 7;
const LANGUAGE: u16 = 0b1111 << 8;

/// Which of [`NAMED_DIRS`] start at a component boundary of a path, found in one pass:
/// the explanation classifies every wasted and every live file, and a search per name
/// per path was most of its time.
#[derive(Clone, Copy)]
struct Marks(u16);

impl Marks {
    fn of(path: &[u8]) -> Marks {
        let mut marks = 0u16;
        let mut at = 0;
        loop {
            let rest = &path[at..];
            // Every named directory starts with one of these: most components
            // start with none, and are passed with one test.
            if let Some(b'.' | b'g' | b's' | b'd' | b'n') = rest.first() {
                for (bit, dir) in NAMED_DIRS.iter().enumerate() {
                    if rest.starts_with(dir) {
                        marks |= 1 << bit;
                    }
                }
            }
            match rest.iter().position(|&b| b == b'/') {
                Some(slash) => at += slash + 1,
                None => return Marks(marks),
            }
        }
    }

    fn any(self, bits: u16) -> bool {
        self.0 & bits != 0
    }
}

/// Classifies a normalised image path (no leading `/`).
pub fn classify(path: &[u8]) -> Option<PathKind> {
    classify_and_language(path).0
}

/// [`classify`] and [`is_language_package`] of one path, from one pass over it.
pub fn classify_and_language(path: &[u8]) -> (Option<PathKind>, bool) {
    let Ok(path) = std::str::from_utf8(path) else {
        return (None, false);
    };
    let marks = Marks::of(path.as_bytes());
    (kind(path, marks), marks.any(LANGUAGE))
}

fn kind(path: &str, marks: Marks) -> Option<PathKind> {
    let package = path.ends_with(".deb") || path.ends_with(".apk") || path.ends_with(".rpm");
    // Every rule below needs a named directory, a package's ending, or a path under
    // var/, etc/, lib/ or usr/: most paths have none, and are told at once (the
    // explanation classifies every wasted and every live file).
    if marks.0 == 0
        && !package
        && !matches!(path.as_bytes().first(), Some(b'v' | b'e' | b'l' | b'u'))
    {
        return None;
    }
    let under = |prefix: &str| path.starts_with(prefix);
    if under("var/lib/apt/lists/") {
        return Some(PathKind::AptLists);
    }
    if under("var/cache/apt/") {
        return Some(PathKind::AptCache);
    }
    if under("var/cache/apk/") || under("etc/apk/cache/") {
        return Some(PathKind::ApkCache);
    }
    if under("var/cache/dnf/") || under("var/cache/yum/") {
        return Some(PathKind::DnfCache);
    }
    if marks.any(PIP) {
        return Some(PathKind::PipCache);
    }
    if marks.any(NPM) {
        return Some(PathKind::NpmCache);
    }
    if marks.any(YARN) {
        return Some(PathKind::YarnCache);
    }
    if marks.any(GO) {
        return Some(PathKind::GoCache);
    }
    if marks.any(GEM) && path.contains("/cache/") || under("usr/local/bundle/cache/") {
        return Some(PathKind::GemCache);
    }
    if package {
        return Some(PathKind::PackageArchive);
    }
    const DATABASES: [&str; 9] = [
        "var/lib/dpkg/status",
        "var/lib/dpkg/status-old",
        "var/lib/dpkg/available",
        "var/lib/dpkg/status.udeb.bak",
        "lib/apk/db/installed",
        "lib/apk/db/scripts.tar",
        "var/lib/apt/extended_states",
        "var/cache/ldconfig/aux-cache",
        "etc/ld.so.cache",
    ];
    if DATABASES.contains(&path)
        || under("var/lib/rpm/")
        || under("var/lib/dnf/")
        || under("var/cache/debconf/")
        || under("var/log/apt/")
        || path == "var/log/dpkg.log"
    {
        return Some(PathKind::PackageDatabase);
    }
    None
}

/// A downloaded or copied-in archive (not a package, which [`classify`] knows).
pub fn is_archive(path: &[u8]) -> bool {
    // Not a bare `.gz`: man pages and changelogs end with it.
    const ENDINGS: [&[u8]; 9] = [
        b".tar",
        b".tar.gz",
        b".tgz",
        b".tar.xz",
        b".txz",
        b".tar.bz2",
        b".tbz2",
        b".tar.zst",
        b".zip",
    ];
    ENDINGS
        .iter()
        .any(|e| path.len() >= e.len() && path[path.len() - e.len()..].eq_ignore_ascii_case(e))
}

/// A file of a language's installed packages: Python's `site-packages`/`dist-packages`,
/// Node's `node_modules`, Ruby's gems.
pub fn is_language_package(path: &[u8]) -> bool {
    classify_and_language(path).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_common_paths() {
        let c = |p: &str| classify(p.as_bytes());
        assert_eq!(c("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"), Some(PathKind::AptLists));
        assert_eq!(
            c("var/cache/apt/archives/gcc_12.deb"),
            Some(PathKind::AptCache)
        );
        assert_eq!(c("var/cache/apk/APKINDEX.tar.gz"), Some(PathKind::ApkCache));
        assert_eq!(c("root/.cache/pip/http/a/b"), Some(PathKind::PipCache));
        assert_eq!(c("home/app/.cache/pip/x"), Some(PathKind::PipCache));
        assert_eq!(
            c("root/.npm/_cacache/index-v5/00"),
            Some(PathKind::NpmCache)
        );
        assert_eq!(
            c("usr/local/share/.cache/yarn/v6/x"),
            Some(PathKind::YarnCache)
        );
        assert_eq!(c("root/.cache/go-build/00/x"), Some(PathKind::GoCache));
        assert_eq!(
            c("tmp/make_4.3-4.1_amd64.deb"),
            Some(PathKind::PackageArchive)
        );
        assert_eq!(c("var/lib/dpkg/status"), Some(PathKind::PackageDatabase));
        assert_eq!(c("lib/apk/db/installed"), Some(PathKind::PackageDatabase));
        assert_eq!(c("usr/bin/gcc"), None);
        assert_eq!(c("var/lib/dpkg/info/gcc.list"), None);
    }

    /// The one-pass marks agree with a search for each name at every component start.
    #[test]
    fn marks_are_a_search_per_name() {
        fn at_component_start(path: &[u8], seq: &[u8]) -> bool {
            (0..path.len())
                .filter(|&i| i == 0 || path[i - 1] == b'/')
                .any(|i| path[i..].starts_with(seq))
        }
        let mut paths: Vec<Vec<u8>> = Vec::new();
        for dir in NAMED_DIRS {
            for pre in ["", "a/", "x.", "home/u/", "go/", ".cache/", "/"] {
                for post in ["", "x", "a/b", "/"] {
                    paths.push([pre.as_bytes(), dir, post.as_bytes()].concat());
                    paths.push([pre.as_bytes(), &dir[..dir.len() - 1], post.as_bytes()].concat());
                }
            }
        }
        paths.push(b"".to_vec());
        paths.push(b"gems".to_vec());
        for path in &paths {
            let marks = Marks::of(path);
            for (bit, dir) in NAMED_DIRS.iter().enumerate() {
                assert_eq!(
                    marks.any(1 << bit),
                    at_component_start(path, dir),
                    "{} in {}",
                    String::from_utf8_lossy(dir),
                    String::from_utf8_lossy(path)
                );
            }
        }
    }

    #[test]
    fn archives_and_language_packages() {
        assert!(is_archive(b"tmp/node-v20.tar.GZ"));
        assert!(is_archive(b"opt/x.zip"));
        assert!(!is_archive(b"usr/lib/libz.so"));
        assert!(is_language_package(
            b"usr/local/lib/python3.11/site-packages/pip/__init__.py"
        ));
        assert!(is_language_package(b"app/node_modules/left-pad/index.js"));
        assert!(!is_language_package(b"usr/lib/my-site-packages/x"));
        assert!(is_language_package(b"node_modules/x/index.js"));
        assert!(!is_language_package(b"app/node_modules"));
    }
}
