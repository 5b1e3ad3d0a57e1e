use super::*;

fn toml(text: &str) -> Result<FileConfig, ConfigError> {
    FileConfig::from_toml(text, Path::new("/repo/.layerwaste.toml"))
}

fn dive(text: &str) -> Result<(FileConfig, Vec<String>), ConfigError> {
    FileConfig::from_dive_ci(text, Path::new("/repo/.dive-ci"))
}

fn full_file() -> FileConfig {
    FileConfig {
        thresholds: Thresholds {
            max_wasted: Some(1),
            max_wasted_percent: Some(2.0),
            min_efficiency: Some(0.3),
            max_step_wasted: Some(4),
        },
        ignore: Some(vec!["file/**".into()]),
        base_layers: Some(6),
        base: None,
        fail_on_increase: Some(8),
        format: Some("json".into()),
        top: Some(10),
    }
}

fn full_flags() -> GateFlags {
    GateFlags {
        thresholds: Thresholds {
            max_wasted: Some(101),
            max_wasted_percent: Some(12.0),
            min_efficiency: Some(0.13),
            max_step_wasted: Some(104),
        },
        ignore: vec!["flag/**".into()],
        base_layers: Some(106),
        base: None,
        fail_on_increase: Some(108),
        format: Some("markdown".into()),
        top: Some(110),
    }
}

#[test]
fn every_key_parses() {
    let c = toml(
        r#"
max-wasted = "20MB"
max-wasted-percent = 12.5
min-efficiency = 0.9
max-step-wasted = 1048576
ignore = ["var/lib/dpkg/**", "/var/cache/apt"]
base-layers = 3
fail-on-increase = "1MiB"
format = "markdown"
top = 15
"#,
    )
    .unwrap();
    assert_eq!(
        c,
        FileConfig {
            thresholds: Thresholds {
                max_wasted: Some(20_000_000),
                max_wasted_percent: Some(12.5),
                min_efficiency: Some(0.9),
                max_step_wasted: Some(1_048_576),
            },
            ignore: Some(vec!["var/lib/dpkg/**".into(), "/var/cache/apt".into()]),
            base_layers: Some(3),
            base: None,
            fail_on_increase: Some(1_048_576),
            format: Some("markdown".into()),
            top: Some(15),
        }
    );
    let c = toml("base = \"debian:12-slim\"\nmax-wasted-percent = 10").unwrap();
    assert_eq!(c.base.as_deref(), Some("debian:12-slim"));
    assert_eq!(c.thresholds.max_wasted_percent, Some(10.0));
    assert_eq!(toml("").unwrap(), FileConfig::default());
}

#[test]
fn fail_on_increase_accepts_a_bool() {
    assert_eq!(
        toml("fail-on-increase = true").unwrap().fail_on_increase,
        Some(0)
    );
    assert_eq!(
        toml("fail-on-increase = false").unwrap().fail_on_increase,
        None
    );
    assert_eq!(
        toml("fail-on-increase = 0").unwrap().fail_on_increase,
        Some(0)
    );
}

#[test]
fn unknown_key_names_the_key_and_the_file() {
    let err = toml("max-wasted = 1\nmax_wasted = 2").unwrap_err();
    assert!(matches!(&err, ConfigError::UnknownKey { key, .. } if key == "max_wasted"));
    let msg = err.to_string();
    assert!(
        msg.starts_with("/repo/.layerwaste.toml: unknown key `max_wasted`"),
        "{msg}"
    );
    assert!(msg.contains("max-wasted, max-wasted-percent"), "{msg}");
    // A table is a key too.
    let err = toml("[rules]\nlowest-efficiency = 0.9").unwrap_err();
    assert!(matches!(&err, ConfigError::UnknownKey { key, .. } if key == "rules"));
}

#[test]
fn bad_values_name_the_key() {
    let cases = [
        ("max-wasted = -1", "max-wasted", "negative"),
        ("max-wasted = \"20 parsecs\"", "max-wasted", "unknown unit"),
        ("max-wasted = 1.5", "max-wasted", "found a float"),
        (
            "max-wasted-percent = 101",
            "max-wasted-percent",
            "outside 0–100",
        ),
        (
            "max-wasted-percent = \"10\"",
            "max-wasted-percent",
            "expected a number",
        ),
        ("min-efficiency = 90", "min-efficiency", "outside 0–1"),
        ("min-efficiency = -0.1", "min-efficiency", "outside 0–1"),
        ("ignore = \"var/**\"", "ignore", "expected an array"),
        ("ignore = [1]", "ignore", "as strings"),
        ("ignore = [\"a/[\"]", "ignore", "ignore glob"),
        ("ignore = [\"/\"]", "ignore", "names no path"),
        ("base-layers = -2", "base-layers", "not a count"),
        ("top = \"5\"", "top", "expected an integer"),
        ("base = \"\"", "base", "empty string"),
        ("format = 3", "format", "expected a string"),
        (
            "fail-on-increase = [1]",
            "fail-on-increase",
            "expected a size",
        ),
    ];
    for (text, key, needle) in cases {
        let err = toml(text).unwrap_err();
        match &err {
            ConfigError::InvalidValue { key: k, .. } => assert_eq!(k, key, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("/repo/.layerwaste.toml: `{key}`: ")),
            "{msg}"
        );
        assert!(msg.contains(needle), "{text}: {msg}");
    }
}

#[test]
fn syntax_error_names_the_file() {
    let err = toml("max-wasted = ").unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { .. }));
    assert!(err.to_string().starts_with("/repo/.layerwaste.toml: "));
}

#[test]
fn base_and_base_layers_conflict_in_a_file() {
    let err = toml("base = \"alpine\"\nbase-layers = 1").unwrap_err();
    assert!(matches!(err, ConfigError::Conflict { .. }), "{err}");
}

#[test]
fn precedence_flag_over_file_over_default_for_every_field() {
    // Default: nothing set anywhere.
    assert_eq!(Gate::resolve(&GateFlags::default(), None), Gate::default());
    let empty_file = FileConfig::default();
    assert_eq!(
        Gate::resolve(&GateFlags::default(), Some(&empty_file)),
        Gate::default()
    );

    // File over default, every field.
    let file = full_file();
    let from_file = Gate::resolve(&GateFlags::default(), Some(&file));
    assert_eq!(
        from_file,
        Gate {
            thresholds: Thresholds {
                max_wasted: Some(1),
                max_wasted_percent: Some(2.0),
                min_efficiency: Some(0.3),
                max_step_wasted: Some(4),
            },
            ignore: vec!["file/**".into()],
            base_layers: Some(6),
            base: None,
            fail_on_increase: Some(8),
            format: Some("json".into()),
            top: Some(10),
        }
    );

    // Flag over file, every field.
    let flags = full_flags();
    assert_eq!(
        Gate::resolve(&flags, Some(&file)),
        Gate {
            thresholds: Thresholds {
                max_wasted: Some(101),
                max_wasted_percent: Some(12.0),
                min_efficiency: Some(0.13),
                max_step_wasted: Some(104),
            },
            ignore: vec!["flag/**".into()],
            base_layers: Some(106),
            base: None,
            fail_on_increase: Some(108),
            format: Some("markdown".into()),
            top: Some(110),
        }
    );

    // Field by field: one flag set wins for that field alone; the rest come from the file.
    let single_flags: Vec<(&str, GateFlags)> = vec![
        (
            "max_wasted",
            GateFlags {
                thresholds: Thresholds {
                    max_wasted: Some(101),
                    ..Default::default()
                },
                ..Default::default()
            },
        ),
        (
            "max_wasted_percent",
            GateFlags {
                thresholds: Thresholds {
                    max_wasted_percent: Some(12.0),
                    ..Default::default()
                },
                ..Default::default()
            },
        ),
        (
            "min_efficiency",
            GateFlags {
                thresholds: Thresholds {
                    min_efficiency: Some(0.13),
                    ..Default::default()
                },
                ..Default::default()
            },
        ),
        (
            "max_step_wasted",
            GateFlags {
                thresholds: Thresholds {
                    max_step_wasted: Some(104),
                    ..Default::default()
                },
                ..Default::default()
            },
        ),
        (
            "ignore",
            GateFlags {
                ignore: vec!["flag/**".into()],
                ..Default::default()
            },
        ),
        (
            "base_layers",
            GateFlags {
                base_layers: Some(106),
                ..Default::default()
            },
        ),
        (
            "fail_on_increase",
            GateFlags {
                fail_on_increase: Some(108),
                ..Default::default()
            },
        ),
        (
            "format",
            GateFlags {
                format: Some("markdown".into()),
                ..Default::default()
            },
        ),
        (
            "top",
            GateFlags {
                top: Some(110),
                ..Default::default()
            },
        ),
    ];
    for (field, flags) in single_flags {
        let got = Gate::resolve(&flags, Some(&file));
        let mut want = from_file.clone();
        match field {
            "max_wasted" => want.thresholds.max_wasted = Some(101),
            "max_wasted_percent" => want.thresholds.max_wasted_percent = Some(12.0),
            "min_efficiency" => want.thresholds.min_efficiency = Some(0.13),
            "max_step_wasted" => want.thresholds.max_step_wasted = Some(104),
            "ignore" => want.ignore = vec!["flag/**".into()],
            "base_layers" => want.base_layers = Some(106),
            "fail_on_increase" => want.fail_on_increase = Some(108),
            "format" => want.format = Some("markdown".into()),
            "top" => want.top = Some(110),
            _ => unreachable!(),
        }
        assert_eq!(got, want, "{field}");
    }
}

#[test]
fn base_is_one_choice_whichever_source_gives_it() {
    let file = FileConfig {
        base: Some("debian:12".into()),
        ..Default::default()
    };
    // The file's base applies when no flag names a base.
    assert_eq!(
        Gate::resolve(&GateFlags::default(), Some(&file))
            .base
            .as_deref(),
        Some("debian:12")
    );
    // --base over the file's base.
    let flags = GateFlags {
        base: Some("alpine:3".into()),
        ..Default::default()
    };
    assert_eq!(
        Gate::resolve(&flags, Some(&file)).base.as_deref(),
        Some("alpine:3")
    );
    // --base-layers sets the file's `base` aside rather than combining with it.
    let flags = GateFlags {
        base_layers: Some(2),
        ..Default::default()
    };
    let gate = Gate::resolve(&flags, Some(&file));
    assert_eq!((gate.base, gate.base_layers), (None, Some(2)));
    // And --base sets the file's `base-layers` aside.
    let file = FileConfig {
        base_layers: Some(4),
        ..Default::default()
    };
    let flags = GateFlags {
        base: Some("alpine:3".into()),
        ..Default::default()
    };
    let gate = Gate::resolve(&flags, Some(&file));
    assert_eq!(
        (gate.base.as_deref(), gate.base_layers),
        (Some("alpine:3"), None)
    );
}

#[test]
fn dive_ci_camel_case() {
    let (c, warnings) = dive(
        "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: 0.20\n",
    )
    .unwrap();
    assert_eq!(
        c,
        FileConfig {
            thresholds: Thresholds {
                min_efficiency: Some(0.95),
                max_wasted: Some(20_000_000),
                max_wasted_percent: Some(20.0),
                ..Default::default()
            },
            ..Default::default()
        }
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn dive_ci_kebab_case_and_plain_bytes() {
    let (c, warnings) = dive(
        "rules:\n  lowest-efficiency: 0.9\n  highest-wasted-bytes: 1048576\n  highest-user-wasted-percent: 0.07\n",
    )
    .unwrap();
    assert_eq!(c.thresholds.min_efficiency, Some(0.9));
    assert_eq!(c.thresholds.max_wasted, Some(1_048_576));
    // Exactly 7, not 0.07 × 100 = 7.000000000000001.
    assert_eq!(c.thresholds.max_wasted_percent, Some(7.0));
    assert!(warnings.is_empty());
    // Quoted values, as dive's own examples write them; humanize's thousands separator.
    let (c, _) =
        dive("rules:\n  highestWastedBytes: '1,000 KB'\n  lowestEfficiency: \"0.5\"\n").unwrap();
    assert_eq!(c.thresholds.max_wasted, Some(1_000_000));
    assert_eq!(c.thresholds.min_efficiency, Some(0.5));
}

#[test]
fn dive_ci_disabled_and_defaults() {
    let (c, warnings) =
        dive("rules:\n  lowestEfficiency: disabled\n  highestUserWastedPercent: disabled\n")
            .unwrap();
    // highestWastedBytes was left out: dive's default for it is `disabled`.
    assert_eq!(c, FileConfig::default());
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0]
        .contains("`rules.highestWastedBytes` is not set; using dive's default, disabled"));

    // An empty file is dive's defaults: efficiency 0.9, user wasted 10%.
    let (c, warnings) = dive("").unwrap();
    assert_eq!(
        c,
        FileConfig {
            thresholds: Thresholds {
                min_efficiency: Some(0.9),
                max_wasted_percent: Some(10.0),
                ..Default::default()
            },
            ..Default::default()
        }
    );
    assert_eq!(warnings.len(), 3);
}

#[test]
fn dive_ci_errors() {
    let err = dive("rules:\n  lowestEfficency: 0.9\n").unwrap_err();
    assert!(matches!(&err, ConfigError::UnknownKey { key, .. } if key == "rules.lowestEfficency"));
    assert!(err
        .to_string()
        .starts_with("/repo/.dive-ci: unknown key `rules.lowestEfficency`"));

    let err = dive("rules:\n  lowestEfficiency: 0.9\n  lowest-efficiency: 0.8\n").unwrap_err();
    assert!(matches!(err, ConfigError::Conflict { .. }), "{err}");

    let err = dive("rules:\n  lowestEfficiency: 90\n").unwrap_err();
    assert!(
        err.to_string()
            .contains("`rules.lowestEfficiency`: 90 is outside 0–1"),
        "{err}"
    );

    let err = dive("rules:\n  highestUserWastedPercent: 10\n").unwrap_err();
    assert!(err.to_string().contains("outside 0–1"), "{err}");

    let err = dive("rules:\n  highestWastedBytes: lots\n").unwrap_err();
    assert!(
        err.to_string().contains("`rules.highestWastedBytes`"),
        "{err}"
    );

    let err = dive("rules:\n  lowestEfficiency:\n").unwrap_err();
    assert!(err.to_string().contains("is not a number"), "{err}");

    assert!(matches!(
        dive("rules: [1, 2]").unwrap_err(),
        ConfigError::InvalidValue { .. }
    ));
    assert!(matches!(
        dive("- a\n- b\n").unwrap_err(),
        ConfigError::Syntax { .. }
    ));
    assert!(matches!(
        dive("rules: {\n").unwrap_err(),
        ConfigError::Syntax { .. }
    ));
}

#[test]
fn dive_ci_other_top_level_keys_are_ignored_with_a_warning() {
    let (c, warnings) = dive("log:\n  level: debug\nRules:\n  highestWastedBytes: 5MiB\n").unwrap();
    assert_eq!(c.thresholds.max_wasted, Some(5 * 1_048_576));
    assert!(warnings
        .iter()
        .any(|w| w.contains("`log` is not a CI rule and is ignored")));
}

#[test]
fn parse_flag_values() {
    assert_eq!(parse_percent("10"), Ok(10.0));
    assert_eq!(parse_percent(" 12.5% "), Ok(12.5));
    assert_eq!(parse_percent("0"), Ok(0.0));
    assert_eq!(parse_percent("100"), Ok(100.0));
    assert!(parse_percent("100.01").is_err());
    assert!(parse_percent("-1").is_err());
    assert!(parse_percent("NaN").is_err());
    assert!(parse_percent("ten").is_err());
    assert_eq!(parse_ratio("0.9"), Ok(0.9));
    assert_eq!(parse_ratio("1"), Ok(1.0));
    assert!(parse_ratio("1.01").is_err());
    assert!(parse_ratio("90%").is_err());
    assert_eq!(ratio_to_percent("1"), Ok(100.0));
    assert_eq!(ratio_to_percent(".5"), Ok(50.0));
    assert_eq!(ratio_to_percent("0.123"), Ok(12.3));
    assert_eq!(ratio_to_percent("1e-1"), Ok(10.0));
}

#[test]
fn load_finds_the_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(load(None, dir.path()).unwrap(), None);

    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  highestWastedBytes: 1KB\n",
    )
    .unwrap();
    let loaded = load(None, dir.path()).unwrap().unwrap();
    assert_eq!(loaded.kind, ConfigKind::DiveCi);
    assert_eq!(loaded.config.thresholds.max_wasted, Some(1_000));

    std::fs::write(
        dir.path().join(".layerwaste.toml"),
        "max-wasted = \"2KB\"\n",
    )
    .unwrap();
    let loaded = load(None, dir.path()).unwrap().unwrap();
    assert_eq!(loaded.kind, ConfigKind::Layerwaste);
    assert_eq!(loaded.config.thresholds.max_wasted, Some(2_000));
    assert!(loaded.warnings[0].contains(".dive-ci is ignored"));

    // --config names a file anywhere; YAML by name, TOML otherwise.
    let other = dir.path().join("gate.yml");
    std::fs::write(&other, "rules:\n  highestWastedBytes: 3KB\n").unwrap();
    let loaded = load(Some(&other), Path::new("/nonexistent"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (loaded.kind, loaded.config.thresholds.max_wasted),
        (ConfigKind::DiveCi, Some(3_000))
    );
    let other = dir.path().join("gate.conf");
    std::fs::write(&other, "max-wasted = 4000\n").unwrap();
    let loaded = load(Some(&other), Path::new("/nonexistent"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (loaded.kind, loaded.config.thresholds.max_wasted),
        (ConfigKind::Layerwaste, Some(4_000))
    );

    // A --config that does not exist is an error, not "no config".
    let missing = dir.path().join("missing.toml");
    let err = load(Some(&missing), dir.path()).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err.to_string().contains("missing.toml"));
}

#[test]
fn ignore_globs() {
    let set = IgnoreSet::new(&[
        "var/lib/dpkg/**".into(),
        "/usr/share/doc".into(),
        "./tmp/*.log".into(),
        "**/__pycache__".into(),
        "etc/[ab]*.conf".into(),
    ])
    .unwrap();
    assert!(set.is_match(b"var/lib/dpkg/status"));
    assert!(set.is_match(b"var/lib/dpkg/info/x.list"));
    assert!(!set.is_match(b"var/lib/dpkgx/status"));
    assert!(!set.is_match(b"var/lib/apt/lists/x"));
    // A directory pattern covers its subtree; a leading slash on the path is tolerated.
    assert!(set.is_match(b"usr/share/doc"));
    assert!(set.is_match(b"usr/share/doc/busybox/copyright"));
    assert!(set.is_match(b"/usr/share/doc/x"));
    assert!(!set.is_match(b"usr/share/docs"));
    // `*` stays within a component.
    assert!(set.is_match(b"tmp/build.log"));
    assert!(!set.is_match(b"tmp/sub/build.log"));
    assert!(set.is_match(b"usr/lib/python3/__pycache__/a.pyc"));
    assert!(set.is_match(b"__pycache__/a.pyc"));
    assert!(set.is_match(b"etc/a.conf"));
    assert!(!set.is_match(b"etc/c.conf"));
    // Case-sensitive, as Linux paths are.
    assert!(!set.is_match(b"USR/share/doc"));
    // Paths need not be UTF-8.
    assert!(set.is_match(b"var/lib/dpkg/\xff"));
    assert!(!set.is_match(b""));

    let empty = IgnoreSet::new(&[]).unwrap();
    assert!(empty.is_empty());
    assert!(!empty.is_match(b"anything"));

    assert!(IgnoreSet::new(&["a/{b".into()])
        .unwrap_err()
        .contains("a/{b"));
    assert!(IgnoreSet::new(&["".into()]).is_err());
}
