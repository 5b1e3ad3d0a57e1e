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

/// Whether `seq` starts at a component boundary somewhere in `path`. Runs once per
/// path per pattern, so it allocates nothing.
fn has_component_seq(path: &str, seq: &str) -> bool {
    // At each component's start, a plain prefix compare: a path has a few components,
    // and building a substring searcher per call cost a quarter of the whole run.
    let (path, seq) = (path.as_bytes(), seq.as_bytes());
    path.starts_with(seq)
        || path
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'/' && path[i + 1..].starts_with(seq))
}

/// Classifies a normalised image path (no leading `/`).
pub fn classify(path: &[u8]) -> Option<PathKind> {
    let path = std::str::from_utf8(path).ok()?;
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
    if has_component_seq(path, ".cache/pip/") {
        return Some(PathKind::PipCache);
    }
    if has_component_seq(path, ".npm/_cacache/") || has_component_seq(path, ".npm/_logs/") {
        return Some(PathKind::NpmCache);
    }
    if has_component_seq(path, ".cache/yarn/") || has_component_seq(path, ".yarn/cache/") {
        return Some(PathKind::YarnCache);
    }
    if has_component_seq(path, ".cache/go-build/") || has_component_seq(path, "go/pkg/mod/cache/") {
        return Some(PathKind::GoCache);
    }
    if has_component_seq(path, ".gem/") && path.contains("/cache/")
        || under("usr/local/bundle/cache/")
    {
        return Some(PathKind::GemCache);
    }
    if path.ends_with(".deb") || path.ends_with(".apk") || path.ends_with(".rpm") {
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
    let lower = path.to_ascii_lowercase();
    ENDINGS.iter().any(|e| lower.ends_with(e))
}

/// A file of a language's installed packages: Python's `site-packages`/`dist-packages`,
/// Node's `node_modules`, Ruby's gems.
pub fn is_language_package(path: &[u8]) -> bool {
    let Ok(path) = std::str::from_utf8(path) else {
        return false;
    };
    ["site-packages/", "dist-packages/", "node_modules/", "gems/"]
        .iter()
        .any(|dir| has_component_seq(path, dir))
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
