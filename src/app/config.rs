//! The gate's configuration: `.layerwaste.toml`, dive's `.dive-ci`, and how they
//! combine with flags (flag > file > default).
//!
//! Nothing here reads flags or prints: the binary hands over what clap parsed as
//! [`GateFlags`], and [`Gate::resolve`] gives the settings to use.
//!
//! # dive's `.dive-ci`, and why its numbers are not ours
//! The mapping and dive's rule semantics come from dive's source
//! (`runtime/ci/rule.go`, `runtime/ci/evaluator.go`, `dive/filetree/efficiency.go`,
//! `dive/image/analysis.go`, and the `CIRules` options with their defaults), read for
//! this module:
//!
//! | `.dive-ci` key (either spelling) | dive fails when | dive's default | here |
//! | --- | --- | --- | --- |
//! | `lowestEfficiency`, `lowest-efficiency` | efficiency < value (0–1) | `0.9` | `min-efficiency` = value |
//! | `highestWastedBytes`, `highest-wasted-bytes` | wasted > value (go-humanize size) | `disabled` | `max-wasted` = value, parsed by [`parse_size`] (same units) |
//! | `highestUserWastedPercent`, `highest-user-wasted-percent` | wasted ÷ user bytes > value (a ratio 0–1) | `0.1` | `max-wasted-percent` = value × 100 |
//!
//! A rule set to `disabled` is no gate. A rule the file leaves out gets dive's default,
//! because that is what dive enforced for the same file; each default applied is
//! reported as a warning so nobody is surprised by it.
//!
//! The thresholds carry over; the figures they are compared with do not:
//! - **Wasted bytes.** dive sums, for every path present in two or more layers, the
//!   sizes of *all* its copies, the one still visible in the final image included
//!   (newer development versions count only the extra copies). It also adds the
//!   directory a whiteout removes only when dive can find it, ignores opaque whiteouts
//!   (`.wh..wh..opq`), and charges a removed directory nothing. layerwaste counts only
//!   bytes no path of the final image can reach (the waste model). The same image can
//!   give a bigger or a smaller figure in dive.
//! - **Efficiency.** dive's is Σ(smallest copy of each path) ÷ Σ(all copies of each
//!   path); ours is final bytes ÷ total bytes.
//! - **User wasted percent.** dive divides *all* waste, the base image's included, by
//!   the bytes of every layer but the first ("user" means "not layer 0", not "not the
//!   base image"), so the ratio can exceed 1. `max-wasted-percent` is wasted bytes as a
//!   percentage of total bytes, and with `--base`/`--base-layers` only the team's own
//!   steps count.
//! - **Boundaries.** dive passes a value equal to the threshold. layerwaste's gate
//!   decides its own boundary (docs/ci.md); for these three rules it is the same.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

use layerwaste::model::gate::{IgnoreSet, Thresholds};

use super::units::parse_size;

/// The file looked for in the current directory.
pub const CONFIG_FILE_NAME: &str = ".layerwaste.toml";
/// dive's CI rules file, read when there is no `.layerwaste.toml`.
pub const DIVE_CI_FILE_NAME: &str = ".dive-ci";

/// Every key `.layerwaste.toml` accepts, in the order docs/ci.md lists them.
pub const CONFIG_KEYS: &[&str] = &[
    "max-wasted",
    "max-wasted-percent",
    "min-efficiency",
    "max-step-wasted",
    "ignore",
    "base-layers",
    "base",
    "fail-on-increase",
    "format",
    "top",
];

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read the config file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    #[error("{}: unknown key `{key}` (known keys: {known})", path.display())]
    UnknownKey {
        path: PathBuf,
        key: String,
        known: String,
    },
    #[error("{}: `{key}`: {message}", path.display())]
    InvalidValue {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Conflict { path: PathBuf, message: String },
}

/// A configuration file's settings. `None` (or an empty `ignore`) means the file does
/// not set that key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileConfig {
    pub thresholds: Thresholds,
    pub ignore: Option<Vec<String>>,
    pub base_layers: Option<usize>,
    pub base: Option<String>,
    pub fail_on_increase: Option<u64>,
    pub format: Option<String>,
    pub top: Option<usize>,
}

/// Which kind of file a configuration came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    Layerwaste,
    DiveCi,
}

/// A configuration file as found and read.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedConfig {
    pub path: PathBuf,
    pub kind: ConfigKind,
    pub config: FileConfig,
    /// Non-fatal: dive defaults applied, dive keys ignored, a second file ignored.
    pub warnings: Vec<String>,
}

/// Finds and reads the configuration: `explicit` (`--config PATH`) if given, which
/// must exist; otherwise `.layerwaste.toml` in `dir`, else `.dive-ci` in `dir`, else
/// none. A `--config` file is read as dive's YAML when it is named `.dive-ci` or ends in
/// `.yaml`/`.yml`, and as TOML otherwise.
pub fn load(explicit: Option<&Path>, dir: &Path) -> Result<Option<LoadedConfig>, ConfigError> {
    let mut warnings = Vec::new();
    let (path, kind) = match explicit {
        Some(path) => (path.to_path_buf(), kind_of(path)),
        None => {
            let toml_path = dir.join(CONFIG_FILE_NAME);
            let dive_path = dir.join(DIVE_CI_FILE_NAME);
            match (toml_path.is_file(), dive_path.is_file()) {
                (true, dive) => {
                    if dive {
                        warnings.push(format!(
                            "{} is ignored: {} takes its place",
                            dive_path.display(),
                            toml_path.display()
                        ));
                    }
                    (toml_path, ConfigKind::Layerwaste)
                }
                (false, true) => (dive_path, ConfigKind::DiveCi),
                (false, false) => return Ok(None),
            }
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    let config = match kind {
        ConfigKind::Layerwaste => FileConfig::from_toml(&text, &path)?,
        ConfigKind::DiveCi => {
            let (config, dive_warnings) = FileConfig::from_dive_ci(&text, &path)?;
            warnings.extend(dive_warnings);
            config
        }
    };
    Ok(Some(LoadedConfig {
        path,
        kind,
        config,
        warnings,
    }))
}

fn kind_of(path: &Path) -> ConfigKind {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if name == DIVE_CI_FILE_NAME
        || ext.eq_ignore_ascii_case("yaml")
        || ext.eq_ignore_ascii_case("yml")
    {
        ConfigKind::DiveCi
    } else {
        ConfigKind::Layerwaste
    }
}

impl FileConfig {
    /// Reads `.layerwaste.toml` text. `path` only names the file in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let invalid = |key: &str, message: String| ConfigError::InvalidValue {
            path: path.to_path_buf(),
            key: key.to_string(),
            message,
        };
        let mut config = FileConfig::default();
        for (key, value) in &table {
            let key = key.as_str();
            match key {
                "max-wasted" => {
                    config.thresholds.max_wasted =
                        Some(toml_size(value).map_err(|m| invalid(key, m))?)
                }
                "max-step-wasted" => {
                    config.thresholds.max_step_wasted =
                        Some(toml_size(value).map_err(|m| invalid(key, m))?)
                }
                "fail-on-increase" => {
                    // `true` is the file's spelling of the bare `--fail-on-increase`: any
                    // increase at all; `false` sets no gate.
                    config.fail_on_increase = match value {
                        toml::Value::Boolean(true) => Some(0),
                        toml::Value::Boolean(false) => None,
                        v => Some(toml_size(v).map_err(|m| invalid(key, m))?),
                    }
                }
                "max-wasted-percent" => {
                    let n = toml_number(value).map_err(|m| invalid(key, m))?;
                    config.thresholds.max_wasted_percent =
                        Some(check_percent(n).map_err(|m| invalid(key, m))?);
                }
                "min-efficiency" => {
                    let n = toml_number(value).map_err(|m| invalid(key, m))?;
                    config.thresholds.min_efficiency =
                        Some(check_ratio(n).map_err(|m| invalid(key, m))?);
                }
                "ignore" => {
                    let patterns = toml_strings(value).map_err(|m| invalid(key, m))?;
                    IgnoreSet::new(&patterns).map_err(|m| invalid(key, m))?;
                    config.ignore = Some(patterns);
                }
                "base-layers" => {
                    config.base_layers = Some(toml_count(value).map_err(|m| invalid(key, m))?)
                }
                "top" => config.top = Some(toml_count(value).map_err(|m| invalid(key, m))?),
                "base" => config.base = Some(toml_text(value).map_err(|m| invalid(key, m))?),
                "format" => config.format = Some(toml_text(value).map_err(|m| invalid(key, m))?),
                // Checked by hand rather than through serde's `deny_unknown_fields`, so
                // the error is a variant that names the key, not a message to parse.
                unknown => {
                    return Err(ConfigError::UnknownKey {
                        path: path.to_path_buf(),
                        key: unknown.to_string(),
                        known: CONFIG_KEYS.join(", "),
                    })
                }
            }
        }
        if config.base.is_some() && config.base_layers.is_some() {
            return Err(ConfigError::Conflict {
                path: path.to_path_buf(),
                message: "`base` and `base-layers` both say where the base image ends; set one"
                    .into(),
            });
        }
        Ok(config)
    }

    /// Reads dive's `.dive-ci` YAML and maps its rules onto layerwaste's keys (see the
    /// module docs for what differs). Returns the warnings to show: dive defaults
    /// applied, and top-level keys other than `rules` ignored.
    pub fn from_dive_ci(text: &str, path: &Path) -> Result<(FileConfig, Vec<String>), ConfigError> {
        let syntax = |message: String| ConfigError::Syntax {
            path: path.to_path_buf(),
            message,
        };
        let docs = YamlLoader::load_from_str(text).map_err(|e| syntax(e.to_string()))?;
        if docs.len() > 1 {
            return Err(syntax("more than one YAML document".into()));
        }
        let mut warnings = Vec::new();
        let mut rules: [(DiveRule, Option<String>); 3] = [
            (DiveRule::LowestEfficiency, None),
            (DiveRule::HighestWastedBytes, None),
            (DiveRule::HighestUserWastedPercent, None),
        ];
        match docs.first() {
            None | Some(Yaml::Null) => {}
            Some(Yaml::Hash(top)) => {
                for (key, value) in top {
                    let key = yaml_key(key).map_err(syntax)?;
                    // viper, which reads dive's config, ignores key case.
                    if !key.eq_ignore_ascii_case("rules") {
                        warnings.push(format!(
                            "{}: `{key}` is not a CI rule and is ignored",
                            path.display()
                        ));
                        continue;
                    }
                    let Yaml::Hash(entries) = value else {
                        return Err(ConfigError::InvalidValue {
                            path: path.to_path_buf(),
                            key,
                            message: "expected a mapping of rule names to values".into(),
                        });
                    };
                    for (rule_key, rule_value) in entries {
                        let rule_key = yaml_key(rule_key).map_err(syntax)?;
                        let Some(rule) = DiveRule::from_key(&rule_key) else {
                            return Err(ConfigError::UnknownKey {
                                path: path.to_path_buf(),
                                key: format!("rules.{rule_key}"),
                                known: DiveRule::ALL_KEYS.join(", "),
                            });
                        };
                        let slot = &mut rules[rule as usize].1;
                        if slot.is_some() {
                            return Err(ConfigError::Conflict {
                                path: path.to_path_buf(),
                                message: format!(
                                    "`rules.{}` is set twice (camelCase and kebab-case spellings are the same rule)",
                                    rule.camel()
                                ),
                            });
                        }
                        *slot = Some(yaml_scalar(rule_value));
                    }
                }
            }
            Some(_) => return Err(syntax("expected a mapping with a `rules` key".into())),
        }
        let mut config = FileConfig::default();
        for (rule, value) in rules {
            let value = match value {
                Some(v) => v,
                None => {
                    warnings.push(format!(
                        "{}: `rules.{}` is not set; using dive's default, {}",
                        path.display(),
                        rule.camel(),
                        rule.dive_default()
                    ));
                    rule.dive_default().to_string()
                }
            };
            let value = value.trim();
            if value == "disabled" {
                continue;
            }
            let invalid = |message: String| ConfigError::InvalidValue {
                path: path.to_path_buf(),
                key: format!("rules.{}", rule.camel()),
                message,
            };
            match rule {
                DiveRule::LowestEfficiency => {
                    config.thresholds.min_efficiency = Some(parse_ratio(value).map_err(invalid)?);
                }
                DiveRule::HighestWastedBytes => {
                    // go-humanize accepts thousands separators (`1,000 MB`).
                    config.thresholds.max_wasted =
                        Some(parse_size(&value.replace(',', "")).map_err(invalid)?);
                }
                DiveRule::HighestUserWastedPercent => {
                    parse_ratio(value).map_err(invalid)?;
                    config.thresholds.max_wasted_percent =
                        Some(ratio_to_percent(value).map_err(invalid)?);
                }
            }
        }
        Ok((config, warnings))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DiveRule {
    LowestEfficiency = 0,
    HighestWastedBytes = 1,
    HighestUserWastedPercent = 2,
}

impl DiveRule {
    const ALL_KEYS: &'static [&'static str] = &[
        "lowestEfficiency",
        "lowest-efficiency",
        "highestWastedBytes",
        "highest-wasted-bytes",
        "highestUserWastedPercent",
        "highest-user-wasted-percent",
    ];

    fn from_key(key: &str) -> Option<DiveRule> {
        match key.to_ascii_lowercase().as_str() {
            "lowestefficiency" | "lowest-efficiency" => Some(DiveRule::LowestEfficiency),
            "highestwastedbytes" | "highest-wasted-bytes" => Some(DiveRule::HighestWastedBytes),
            "highestuserwastedpercent" | "highest-user-wasted-percent" => {
                Some(DiveRule::HighestUserWastedPercent)
            }
            _ => None,
        }
    }

    fn camel(self) -> &'static str {
        match self {
            DiveRule::LowestEfficiency => "lowestEfficiency",
            DiveRule::HighestWastedBytes => "highestWastedBytes",
            DiveRule::HighestUserWastedPercent => "highestUserWastedPercent",
        }
    }

    /// dive's defaults (`DefaultCIRules`), applied when the file leaves a rule out.
    fn dive_default(self) -> &'static str {
        match self {
            DiveRule::LowestEfficiency => "0.9",
            DiveRule::HighestWastedBytes => "disabled",
            DiveRule::HighestUserWastedPercent => "0.1",
        }
    }
}

fn yaml_key(key: &Yaml) -> Result<String, String> {
    match key {
        Yaml::String(s) => Ok(s.clone()),
        other => Err(format!("expected a text key, found {other:?}")),
    }
}

/// A YAML scalar as the text dive would see (viper's `GetString`): numbers as
/// written, `~`/empty as "", which no rule accepts.
fn yaml_scalar(value: &Yaml) -> String {
    match value {
        Yaml::Real(s) | Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => String::new(),
        other => format!("{other:?}"),
    }
}

/// A ratio 0–1 from text, as `--min-efficiency` takes it.
pub fn parse_ratio(s: &str) -> Result<f64, String> {
    let n: f64 = s.trim().parse().map_err(|_| {
        format!("{s:?} is not a number (expected a ratio from 0 to 1, such as 0.9)")
    })?;
    check_ratio(n)
}

/// A percentage 0–100 from text, as `--max-wasted-percent` takes it. A trailing `%` is
/// allowed.
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let t = t.strip_suffix('%').unwrap_or(t).trim_end();
    let n: f64 = t.parse().map_err(|_| {
        format!("{s:?} is not a number (expected a percentage from 0 to 100, such as 10)")
    })?;
    check_percent(n)
}

fn check_ratio(n: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} is outside 0–1 (a ratio, not a percentage)"))
    }
}

fn check_percent(n: f64) -> Result<f64, String> {
    if (0.0..=100.0).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} is outside 0–100 (a percentage)"))
    }
}

/// `0.07` → `7.0`, by moving the decimal point in the text: `0.07 * 100.0` is
/// 7.000000000000001 in floating point, which would move the gate's boundary.
fn ratio_to_percent(value: &str) -> Result<f64, String> {
    let v = value.trim();
    let plain = !v.is_empty()
        && v.chars().all(|c| c.is_ascii_digit() || c == '.')
        && v.matches('.').count() <= 1;
    if !plain {
        return parse_ratio(v).map(|r| r * 100.0);
    }
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    let mut fraction = fraction.to_string();
    while fraction.len() < 2 {
        fraction.push('0');
    }
    let (moved, rest) = fraction.split_at(2);
    let text = format!("{whole}{moved}.{rest}0");
    text.parse::<f64>()
        .map_err(|_| format!("{value:?} is not a number"))
        .and_then(check_percent)
}

fn toml_size(value: &toml::Value) -> Result<u64, String> {
    match value {
        toml::Value::Integer(i) => {
            u64::try_from(*i).map_err(|_| format!("{i} is negative; a size is 0 or more bytes"))
        }
        toml::Value::String(s) => parse_size(s),
        other => Err(format!(
            "expected a size such as \"20MB\", \"20MiB\" or 12345, found a {}",
            other.type_str()
        )),
    }
}

fn toml_number(value: &toml::Value) -> Result<f64, String> {
    match value {
        toml::Value::Float(f) => Ok(*f),
        // Integers are exact in f64 far past any percentage.
        toml::Value::Integer(i) => Ok(*i as f64),
        other => Err(format!("expected a number, found a {}", other.type_str())),
    }
}

fn toml_count(value: &toml::Value) -> Result<usize, String> {
    match value {
        toml::Value::Integer(i) => {
            usize::try_from(*i).map_err(|_| format!("{i} is not a count (0 or more)"))
        }
        other => Err(format!("expected an integer, found a {}", other.type_str())),
    }
}

fn toml_text(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
        toml::Value::String(_) => Err("expected a value, found an empty string".into()),
        other => Err(format!("expected a string, found a {}", other.type_str())),
    }
}

fn toml_strings(value: &toml::Value) -> Result<Vec<String>, String> {
    let toml::Value::Array(items) = value else {
        return Err(format!(
            "expected an array of globs, found a {}",
            value.type_str()
        ));
    };
    items
        .iter()
        .map(|item| match item {
            toml::Value::String(s) => Ok(s.clone()),
            other => Err(format!(
                "expected globs as strings, found a {}",
                other.type_str()
            )),
        })
        .collect()
}

/// The options the flags gave, in the same shape as the resolved [`Gate`]: there,
/// `None` (or an empty `ignore`) means the flag was not given. The binary fills this
/// from clap.
pub type GateFlags = Gate;

/// The resolved settings. `None` means no such gate (thresholds), no base (`base`,
/// `base_layers`), or the binary's own default (`format`, `top`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gate {
    pub thresholds: Thresholds,
    pub ignore: Vec<String>,
    pub base_layers: Option<usize>,
    pub base: Option<String>,
    pub fail_on_increase: Option<u64>,
    pub format: Option<String>,
    pub top: Option<usize>,
}

impl Gate {
    /// flag > file > default, field by field, with two exceptions that keep one choice
    /// whole rather than mixing it from two places:
    /// - `ignore`: any `--ignore` replaces the file's list instead of adding to it.
    /// - `base` and `base_layers` are one choice (where the base ends): if a flag gives
    ///   either, the file's `base` and `base-layers` are both set aside.
    pub fn resolve(flags: &GateFlags, file: Option<&FileConfig>) -> Gate {
        let none = FileConfig::default();
        let file = file.unwrap_or(&none);
        let (base, base_layers) = if flags.base.is_some() || flags.base_layers.is_some() {
            (flags.base.clone(), flags.base_layers)
        } else {
            (file.base.clone(), file.base_layers)
        };
        Gate {
            thresholds: flags.thresholds.or(&file.thresholds),
            ignore: if flags.ignore.is_empty() {
                file.ignore.clone().unwrap_or_default()
            } else {
                flags.ignore.clone()
            },
            base_layers,
            base,
            fail_on_increase: flags.fail_on_increase.or(file.fail_on_increase),
            format: flags.format.clone().or_else(|| file.format.clone()),
            top: flags.top.or(file.top),
        }
    }
}

#[cfg(test)]
mod tests;
