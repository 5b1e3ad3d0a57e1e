//! Which images a scan reads: what each SOURCE names, the shard this run takes, and
//! what an earlier run already did.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::source::SourceOptions;

/// Which tags of a repository a registry source takes.
#[derive(Debug, Clone)]
pub enum Tags {
    /// `--all-tags`.
    All,
    /// `--tags GLOB` (repeatable); `latest` when none is given.
    Matching(globset::GlobSet),
}

impl Tags {
    pub fn globs(globs: &[String]) -> Result<Tags> {
        let mut set = globset::GlobSetBuilder::new();
        let defaults = ["latest".to_string()];
        let globs = if globs.is_empty() {
            &defaults[..]
        } else {
            globs
        };
        for g in globs {
            let glob = globset::Glob::new(g)
                .map_err(|e| Error::Usage(format!("--tags {}: {e}", crate::text::escape(g))))?;
            set.add(glob);
        }
        set.build()
            .map(Tags::Matching)
            .map_err(|e| Error::Usage(format!("--tags: {e}")))
    }

    pub fn takes(&self, tag: &str) -> bool {
        match self {
            Tags::All => true,
            Tags::Matching(set) => set.is_match(tag),
        }
    }
}

/// `docker://HOST[/PREFIX]`: the registry and the repository prefix (may be empty),
/// or `None` when the name has a tag or digest, i.e. names one image.
pub fn registry_prefix(source: &str) -> Option<(&str, &str)> {
    let rest = source.strip_prefix("docker://")?;
    let (host, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let last = prefix.rsplit('/').next().unwrap_or("");
    if prefix.contains('@') || last.contains(':') {
        return None;
    }
    Some((host, prefix.trim_end_matches('/')))
}

/// The images of a registry under `prefix` (a repository or a path of them), one
/// `docker://HOST/REPO:TAG` per tag that `tags` takes, repositories and tags sorted.
#[cfg(feature = "remote")]
pub fn registry_images(
    host: &str,
    prefix: &str,
    tags: &Tags,
    sources: &SourceOptions,
) -> Result<Vec<String>> {
    let lister = crate::source::remote::registry::Lister::new(host, sources)?;
    let mut repositories: Vec<String> = lister
        .repositories()?
        .into_iter()
        .filter(|r| {
            prefix.is_empty()
                || r == prefix
                || r.strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .collect();
    repositories.sort();
    let mut images = Vec::new();
    for repository in repositories {
        let mut names: Vec<String> = lister
            .tags(&repository)?
            .into_iter()
            .filter(|t| tags.takes(t))
            .collect();
        names.sort();
        images.extend(
            names
                .into_iter()
                .map(|t| format!("docker://{host}/{repository}:{t}")),
        );
    }
    Ok(images)
}

#[cfg(not(feature = "remote"))]
pub fn registry_images(_: &str, _: &str, _: &Tags, _: &SourceOptions) -> Result<Vec<String>> {
    Err(Error::Usage(
        "this build has no registry support (the `remote` feature)".into(),
    ))
}

/// Every tagged image of the local engine (`docker-daemon:`).
#[cfg(feature = "remote")]
pub fn engine_images() -> Result<Vec<String>> {
    crate::source::remote::engine::list_images()
}

/// Every image of containerd, or of one namespace (`containerd:[NAMESPACE]`).
#[cfg(feature = "remote")]
pub fn containerd_images(namespace: &str, sources: &SourceOptions) -> Result<Vec<String>> {
    crate::source::containerd::api::list_images(namespace, sources)
}

#[cfg(not(feature = "remote"))]
pub fn engine_images() -> Result<Vec<String>> {
    Err(Error::Usage(
        "this build has no engine support (the `remote` feature)".into(),
    ))
}

#[cfg(not(feature = "remote"))]
pub fn containerd_images(_: &str, _: &SourceOptions) -> Result<Vec<String>> {
    Err(Error::Usage(
        "this build has no containerd support (the `remote` feature)".into(),
    ))
}

/// The references of a `--from` file: one a line; blank lines and `#` comments
/// skipped, surrounding blanks trimmed.
pub fn list_file(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The shard `reference` belongs to, of `count` (0-based): the first 8 bytes of its
/// SHA-256, so every machine and every version agrees.
pub fn shard_of(reference: &str, count: u64) -> u64 {
    let digest = Sha256::digest(reference.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % count.max(1)
}

/// `--shard K/N` (K from 1 to N), or `--shard N` with K from `JOB_COMPLETION_INDEX`
/// (`index`, 0-based, as Kubernetes sets it): the 0-based shard and the count.
pub fn parse_shard(text: &str, index: Option<&str>) -> std::result::Result<(u64, u64), String> {
    let number = |s: &str, what: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("--shard {text}: {what} {s:?} is not a number"))
    };
    let (k, n) = match text.split_once('/') {
        Some((k, n)) => (number(k, "K")?, number(n, "N")?),
        None => {
            let n = number(text, "N")?;
            let index = index.ok_or_else(|| {
                format!("--shard {text}: give K/N, or set JOB_COMPLETION_INDEX (0-based)")
            })?;
            (number(index, "JOB_COMPLETION_INDEX")? + 1, n)
        }
    };
    if n == 0 || k == 0 || k > n {
        return Err(format!("--shard {k}/{n}: K must be from 1 to N"));
    }
    Ok((k - 1, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_sources_and_single_images() {
        assert_eq!(registry_prefix("docker://h:5000"), Some(("h:5000", "")));
        assert_eq!(
            registry_prefix("docker://h:5000/team/app/"),
            Some(("h:5000", "team/app"))
        );
        assert_eq!(registry_prefix("docker://h:5000/team/app:1"), None);
        assert_eq!(registry_prefix("docker://h/app@sha256:00"), None);
        assert_eq!(registry_prefix("oci:dir"), None);
    }

    #[test]
    fn shards_are_stable_and_cover_everything_once() {
        let refs: Vec<String> = (0..100)
            .map(|i| format!("docker://r/app-{i}:latest"))
            .collect();
        let mut sizes = [0; 3];
        for r in &refs {
            sizes[shard_of(r, 3) as usize] += 1;
        }
        assert_eq!(sizes.iter().sum::<i32>(), 100);
        assert!(sizes.iter().all(|&s| s > 20), "{sizes:?}");
        assert_eq!(
            shard_of("docker://r/app-0:latest", 3),
            shard_of("docker://r/app-0:latest", 3)
        );
        assert_eq!(parse_shard("2/3", None), Ok((1, 3)));
        assert_eq!(parse_shard("3", Some("0")), Ok((0, 3)));
        assert_eq!(parse_shard("3", Some("2")), Ok((2, 3)));
        assert!(parse_shard("3", Some("3")).is_err());
        assert!(parse_shard("0/3", None).is_err());
        assert!(parse_shard("3", None).is_err());
    }

    #[test]
    fn list_files_skip_blanks_and_comments() {
        assert_eq!(
            list_file("# fleet\n\n a.tar \n#x\ndocker://h/r:1\n"),
            vec!["a.tar", "docker://h/r:1"]
        );
        let tags = Tags::globs(&[]).unwrap();
        assert!(tags.takes("latest") && !tags.takes("v1"));
        let tags = Tags::globs(&["v1.*".into()]).unwrap();
        assert!(tags.takes("v1.2") && !tags.takes("v2"));
    }
}
