//! Image references (`[HOST/]PATH[:TAG][@DIGEST]`), parsed in one place for every source
//! that takes a name: the engine, the registry and Docker's data root. The parser is
//! oci-spec's port of distribution/reference, the grammar `docker` itself uses, so a
//! name means here what it means to `docker pull`.

pub use oci_spec::distribution::Reference;

/// The reference `name` stands for, with Docker Hub's implicit `docker.io/library/`
/// and `:latest` filled in; `None` when it is not a reference.
pub fn parse(name: &str) -> Option<Reference> {
    name.parse().ok()
}

/// Whether `name` spells out a tag or a digest (the parser fills in `latest` when it
/// has neither).
pub fn names_tag_or_digest(name: &str) -> bool {
    match parse(name) {
        Some(r) if r.digest().is_some() => true,
        Some(r) => r
            .tag()
            .is_some_and(|t| name.strip_suffix(t).is_some_and(|s| s.ends_with(':'))),
        None => false,
    }
}

/// Docker Hub's short form, as `docker images` prints it: `alpine:3`, `team/app:1`.
pub fn familiar(reference: &Reference) -> String {
    let whole = reference.whole();
    match whole.strip_prefix("docker.io/") {
        Some(rest) => rest.strip_prefix("library/").unwrap_or(rest).to_string(),
        None => whole,
    }
}

/// Whether `name` is a hex image ID or a prefix of one (`sha256:` optional), which an
/// engine resolves before it tries `name` as a reference.
pub fn is_id_prefix(name: &str) -> bool {
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    !hex.is_empty()
        && hex.len() <= 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_mean_what_they_mean_to_docker() {
        let r = parse("alpine").unwrap();
        assert_eq!(r.whole(), "docker.io/library/alpine:latest");
        assert_eq!(familiar(&r), "alpine:latest");
        assert_eq!(
            familiar(&parse("localhost:5000/team/app:v1").unwrap()),
            "localhost:5000/team/app:v1"
        );
        assert!(!names_tag_or_digest("alpine"));
        assert!(!names_tag_or_digest("localhost:5000/team/app"));
        assert!(names_tag_or_digest("localhost:5000/team/app:latest"));
        assert!(names_tag_or_digest(&format!(
            "app@sha256:{}",
            "a".repeat(64)
        )));
        assert!(parse("Upper/Case").is_none());
        assert!(is_id_prefix("364ffdae9de0"));
        assert!(is_id_prefix("sha256:364f"));
        assert!(!is_id_prefix("alpine"));
    }
}
