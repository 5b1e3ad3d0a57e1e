//! Human byte sizes for thresholds: `20MB`, `20MiB`, `1.5GB`, `12345`.
//!
//! | written | meaning | bytes |
//! | --- | --- | --- |
//! | `12345`, `12345B` | bytes | 12,345 |
//! | `k`, `kB`, `M`, `MB`, `G`, `GB`, `T`, `TB`, `P`, `PB`, `E`, `EB` | SI, powers of 1000 | `20MB` = `20M` = 20,000,000 |
//! | `Ki`, `KiB`, `Mi`, `MiB`, `Gi`, `GiB`, `Ti`, `TiB`, `Pi`, `PiB`, `Ei`, `EiB` | IEC, powers of 1024 | `20MiB` = `20Mi` = 20,971,520 |
//!
//! Units are case-insensitive (`20mb` = `20MB`; `mb` never means millibits here) and
//! may be separated from the number by spaces. A bare `K`/`M`/`G` is SI, as in dive's
//! `.dive-ci` (go-humanize `ParseBytes`) and docker's `FromHumanSize`, so a threshold
//! copied from a dive config means the same number of bytes here. (`docker run -m 20m`
//! is binary, but that is a memory flag, not a size on disk.)
//!
//! Fractions are exact decimal arithmetic, not floating point, so `4.35MB` is 4,350,000
//! and not 4,349,999. A fraction that does not come to a whole number of bytes
//! (`1.5B`, `0.0001KB`) is an error rather than silently rounded, and so is anything
//! past `u64::MAX` bytes.
//!
//! Why not `bytesize`'s `FromStr`: its unit table is the same, but it computes
//! fractions in `f64` (truncating `4.35MB` to 4,349,999), saturates instead of failing
//! on overflow, and rejects surrounding whitespace.

/// Parses a human size into bytes. See the module docs for the units.
pub fn parse_size(input: &str) -> Result<u64, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err(
            "empty size: expected bytes like 12345, or a number with a unit like 20MB or 20MiB"
                .into(),
        );
    }
    if s.starts_with('-') {
        return Err(format!("invalid size {input:?}: a size cannot be negative"));
    }
    let number_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(number_len);
    let unit = unit.trim_start();
    let factor = unit_factor(unit).ok_or_else(|| {
        format!(
            "invalid size {input:?}: unknown unit {unit:?} (use B, kB, MB, GB, TB, PB, EB for powers of 1000 or KiB, MiB, GiB, TiB, PiB, EiB for powers of 1024)"
        )
    })?;
    let (whole, fraction) = split_number(number).ok_or_else(|| {
        format!(
            "invalid size {input:?}: expected a number such as 20, 1.5 or 12_345 before the unit"
        )
    })?;
    to_bytes(&whole, &fraction, factor).ok_or_else(|| {
        if fraction.trim_end_matches('0').is_empty() {
            format!("invalid size {input:?}: larger than {} bytes", u64::MAX)
        } else {
            format!(
                "invalid size {input:?}: not a whole number of bytes, or larger than {} bytes",
                u64::MAX
            )
        }
    })
}

/// Bytes per unit; `None` for an unknown unit.
fn unit_factor(unit: &str) -> Option<u128> {
    let unit = unit.to_ascii_lowercase();
    let (prefix, binary) = match unit.as_str() {
        "" | "b" => return Some(1),
        u => match u.strip_suffix('b').unwrap_or(u) {
            p if p.len() == 2 && p.ends_with('i') => (&p[..1], true),
            p if p.len() == 1 => (p, false),
            _ => return None,
        },
    };
    let power = match prefix {
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        "e" => 6,
        _ => return None,
    };
    let base: u128 = if binary { 1024 } else { 1000 };
    Some(base.pow(power))
}

/// Splits `12_345.50` into its digit strings, without underscores: ("12345", "50").
/// `None` unless there is at least one digit, at most one `.`, and underscores only
/// between digits.
fn split_number(number: &str) -> Option<(String, String)> {
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    let digits = |part: &str| -> Option<String> {
        if part.starts_with('_') || part.ends_with('_') || part.contains("__") || part.contains('.')
        {
            return None;
        }
        Some(part.chars().filter(|c| *c != '_').collect())
    };
    let (whole, fraction) = (digits(whole)?, digits(fraction)?);
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    Some((whole, fraction))
}

/// `whole.fraction × factor` in exact integer arithmetic; `None` on overflow or when the
/// result is not a whole number of bytes.
fn to_bytes(whole: &str, fraction: &str, factor: u128) -> Option<u64> {
    // Trailing zeros of the fraction change nothing but could overflow the scale.
    let fraction = fraction.trim_end_matches('0');
    // 10^38 is the largest power of ten in u128; no real size needs more digits.
    let scale = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    let scaled = whole
        .checked_mul(scale)?
        .checked_add(fraction)?
        .checked_mul(factor)?;
    if scaled % scale != 0 {
        return None;
    }
    u64::try_from(scaled / scale).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_bytes() {
        assert_eq!(parse_size("12345"), Ok(12_345));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("12345B"), Ok(12_345));
        assert_eq!(parse_size("12_345"), Ok(12_345));
        assert_eq!(parse_size("007"), Ok(7));
    }

    #[test]
    fn si_units_are_powers_of_1000() {
        assert_eq!(parse_size("1kB"), Ok(1_000));
        assert_eq!(parse_size("1KB"), Ok(1_000));
        assert_eq!(parse_size("20MB"), Ok(20_000_000));
        assert_eq!(parse_size("3GB"), Ok(3_000_000_000));
        assert_eq!(parse_size("1TB"), Ok(1_000_000_000_000));
        assert_eq!(parse_size("1PB"), Ok(1_000_000_000_000_000));
        assert_eq!(parse_size("1EB"), Ok(1_000_000_000_000_000_000));
    }

    #[test]
    fn bare_prefixes_are_si_like_dive() {
        assert_eq!(parse_size("1K"), Ok(1_000));
        assert_eq!(parse_size("20M"), Ok(20_000_000));
        assert_eq!(parse_size("2G"), Ok(2_000_000_000));
        assert_eq!(parse_size("1T"), Ok(1_000_000_000_000));
        assert_eq!(parse_size("1P"), Ok(1_000_000_000_000_000));
        assert_eq!(parse_size("1E"), Ok(1_000_000_000_000_000_000));
    }

    #[test]
    fn iec_units_are_powers_of_1024() {
        assert_eq!(parse_size("1KiB"), Ok(1_024));
        assert_eq!(parse_size("20MiB"), Ok(20 * 1_048_576));
        assert_eq!(parse_size("20Mi"), Ok(20 * 1_048_576));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
        assert_eq!(parse_size("1PiB"), Ok(1 << 50));
        assert_eq!(parse_size("1EiB"), Ok(1 << 60));
        assert_eq!(parse_size("1Ki"), Ok(1_024));
    }

    #[test]
    fn units_are_case_insensitive_and_whitespace_is_tolerated() {
        assert_eq!(parse_size("20mb"), Ok(20_000_000));
        assert_eq!(parse_size("20mib"), Ok(20 * 1_048_576));
        assert_eq!(parse_size("20MIB"), Ok(20 * 1_048_576));
        assert_eq!(parse_size("  20 MB \t"), Ok(20_000_000));
        assert_eq!(parse_size("1.5 GiB"), Ok(1_610_612_736));
        assert_eq!(parse_size("7 b"), Ok(7));
    }

    #[test]
    fn fractions_are_exact() {
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("4.35MB"), Ok(4_350_000));
        assert_eq!(parse_size(".5KiB"), Ok(512));
        assert_eq!(parse_size("2.KB"), Ok(2_000));
        assert_eq!(parse_size("0.001KB"), Ok(1));
        assert_eq!(
            parse_size("1.50000000000000000000000000000000000000000000MB"),
            Ok(1_500_000)
        );
        assert_eq!(parse_size("1.0"), Ok(1));
    }

    #[test]
    fn fractional_bytes_are_rejected() {
        for s in ["1.5", "1.5B", "0.0001KB", "0.3KiB"] {
            let err = parse_size(s).unwrap_err();
            assert!(err.contains("not a whole number of bytes"), "{s}: {err}");
        }
    }

    #[test]
    fn overflow_is_an_error_not_a_saturation() {
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
        assert!(parse_size("18446744073709551616")
            .unwrap_err()
            .contains("larger than"));
        assert!(parse_size("16EiB").unwrap_err().contains("larger than"));
        assert_eq!(parse_size("15EiB"), Ok(15 << 60));
        assert!(parse_size("99999999999999999999999999999999999999999EB").is_err());
        assert!(parse_size("1.000000000000000000000000000000000000000001EB").is_err());
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        assert!(parse_size("").unwrap_err().contains("empty size"));
        assert!(parse_size("   ").unwrap_err().contains("empty size"));
        assert!(parse_size("-1").unwrap_err().contains("negative"));
        assert!(parse_size("-20MB").unwrap_err().contains("negative"));
        assert!(parse_size("20XB")
            .unwrap_err()
            .contains("unknown unit \"XB\""));
        assert!(parse_size("20 bytes").unwrap_err().contains("unknown unit"));
        assert!(parse_size("20MiBs").unwrap_err().contains("unknown unit"));
        assert!(parse_size("MB").unwrap_err().contains("expected a number"));
        assert!(parse_size(".").unwrap_err().contains("expected a number"));
        assert!(parse_size("1.2.3MB")
            .unwrap_err()
            .contains("expected a number"));
        assert!(parse_size("_1").unwrap_err().contains("expected a number"));
        assert!(parse_size("1__0")
            .unwrap_err()
            .contains("expected a number"));
        assert!(parse_size("+5").unwrap_err().contains("unknown unit"));
        assert!(parse_size("1e6").unwrap_err().contains("unknown unit"));
        assert!(parse_size("20 M B").is_err());
    }
}
