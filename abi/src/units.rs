//! Durations as people write them: one syntax for policy literals, `--set`
//! values and the command line's `--duration` and `--interval`.
//!
//! A duration is decimal digits, grouped with `_` if wished after the first
//! digit (`1_500us`), immediately followed by a unit: `ns`, `us` (or `µs`),
//! `ms` or `s`. There is no space, sign, fraction or exponent; a signed
//! duration (a `--set` value) may start with `-`. Zero alone (`0`) needs no
//! unit. A duration is at most 2^63 − 1 ns, about 292 years.

use std::fmt;

/// The units, longest first where one is a suffix of another.
pub const UNITS: &[(&str, u64)] = &[("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000)];

/// The longest duration, in nanoseconds: what fits a signed 64-bit count.
pub const MAX_NS: u64 = i64::MAX as u64;

/// Why text is not a duration. The message says how to write one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// Nothing, or something that does not start with a digit.
    NotANumber { text: String },
    /// Digits without a unit, other than zero.
    NoUnit { text: String },
    /// Digits followed by something that is not a unit.
    UnknownUnit { text: String, unit: String },
    /// A decimal point; `exact` is the same duration without one, if there is one.
    Fraction { text: String, exact: Option<String> },
    /// More than [`MAX_NS`].
    TooLong { text: String },
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::NotANumber { text } => {
                write!(f, "`{text}` is not a duration: write digits and a unit, e.g. 5ms")
            }
            DurationError::NoUnit { text } => write!(f, "`{text}` has no unit: add a unit, e.g. {text}s or {text}ms"),
            DurationError::UnknownUnit { text, unit } => {
                write!(f, "`{text}` has no known unit (`{unit}`): use ns, us, µs, ms or s, e.g. 5ms")
            }
            DurationError::Fraction { text, exact: Some(exact) } => {
                write!(f, "`{text}` has a fraction: write it in a smaller unit, {exact}")
            }
            DurationError::Fraction { text, exact: None } => {
                write!(f, "`{text}` has a fraction: durations are whole numbers of ns, us, ms or s")
            }
            DurationError::TooLong { text } => {
                write!(f, "`{text}` is too long: a duration is at most {MAX_NS}ns (about 292 years)")
            }
        }
    }
}

impl std::error::Error for DurationError {}

/// Parses a duration of zero or more nanoseconds.
pub fn parse(text: &str) -> Result<u64, DurationError> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '_')).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    if !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(DurationError::NotANumber { text: text.to_string() });
    }
    if let Some(fraction) = unit.strip_prefix('.') {
        return Err(DurationError::Fraction { text: text.to_string(), exact: without_fraction(digits, fraction) });
    }
    let too_long = || DurationError::TooLong { text: text.to_string() };
    let value = whole_number(digits).ok_or_else(too_long)?;
    if unit.is_empty() {
        return if value == 0 { Ok(0) } else { Err(DurationError::NoUnit { text: text.to_string() }) };
    }
    let scale = UNITS
        .iter()
        .find_map(|&(name, scale)| (name == unit).then_some(scale))
        .ok_or_else(|| DurationError::UnknownUnit { text: text.to_string(), unit: unit.to_string() })?;
    value.checked_mul(scale).filter(|&ns| ns <= MAX_NS).ok_or_else(too_long)
}

/// Parses a duration that may be negative: [`parse`] after an optional `-`.
pub fn parse_signed(text: &str) -> Result<i64, DurationError> {
    let (negative, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let ns = parse(magnitude).map_err(|err| with_text(err, text))?;
    let ns = i64::try_from(ns).expect("parse stays within i64");
    Ok(if negative { -ns } else { ns })
}

/// `ns` in the largest unit that keeps it exact: `5ms`, `1500us`, `-7ns`,
/// `0ns`. [`parse_signed`] reads it back.
pub fn format(ns: i128) -> String {
    let units = UNITS.iter().rev().filter(|(name, _)| name.is_ascii());
    for &(name, scale) in units {
        if ns != 0 && ns % i128::from(scale) == 0 {
            return format!("{}{name}", ns / i128::from(scale));
        }
    }
    format!("{ns}ns")
}

/// `ns` rounded for people to read in a table, to about three significant
/// digits: `750ns`, `31.4us`, `416us`, `2.50ms`, `1.20s`. Not read back: [`format`] is
/// exact.
pub fn rounded(ns: i128) -> String {
    let x = ns as f64;
    match ns.unsigned_abs() {
        0..=999 => format!("{ns}ns"),
        1_000..=99_999 => format!("{:.1}us", x / 1e3),
        100_000..=999_999 => format!("{:.0}us", x / 1e3),
        1_000_000..=999_999_999 => format!("{:.2}ms", x / 1e6),
        _ => format!("{:.2}s", x / 1e9),
    }
}

/// Digits with `_` as a number, or `None` if it exceeds u64.
fn whole_number(digits: &str) -> Option<u64> {
    digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .try_fold(0u64, |acc, d| acc.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

/// `1.5s` as `1500ms`, when the fraction is a whole number of nanoseconds
/// and the rest is a unit.
fn without_fraction(whole: &str, rest: &str) -> Option<String> {
    let split = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let (fraction, unit) = rest.split_at(split);
    let scale = u128::from(UNITS.iter().find(|(name, _)| *name == unit)?.1);
    let denominator = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
    let fraction_ns = u128::from(whole_number(fraction)?).checked_mul(scale)?;
    let ns = u128::from(whole_number(whole)?).checked_mul(scale)?.checked_add(fraction_ns / denominator)?;
    (fraction_ns % denominator == 0 && ns <= u128::from(MAX_NS)).then(|| format(ns as i128))
}

/// The error for the whole of `text` rather than the part after a sign.
fn with_text(err: DurationError, text: &str) -> DurationError {
    let text = text.to_string();
    match err {
        DurationError::NotANumber { .. } => DurationError::NotANumber { text },
        DurationError::NoUnit { .. } => DurationError::NoUnit { text },
        DurationError::UnknownUnit { unit, .. } => DurationError::UnknownUnit { text, unit },
        DurationError::Fraction { exact, .. } => DurationError::Fraction { text, exact },
        DurationError::TooLong { .. } => DurationError::TooLong { text },
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rounded_reads_at_a_glance() {
        assert_eq!(rounded(750), "750ns");
        assert_eq!(rounded(31_400), "31.4us");
        assert_eq!(rounded(416_000), "416us");
        assert_eq!(rounded(-2_500_000), "-2.50ms");
        assert_eq!(rounded(1_204_000_000), "1.20s");
    }

    #[test]
    fn every_unit() {
        assert_eq!(parse("7ns"), Ok(7));
        assert_eq!(parse("7us"), Ok(7_000));
        assert_eq!(parse("7µs"), Ok(7_000));
        assert_eq!(parse("7ms"), Ok(7_000_000));
        assert_eq!(parse("7s"), Ok(7_000_000_000));
        assert_eq!(parse("1_500us"), Ok(1_500_000));
        assert_eq!(parse("1__0_ms"), Ok(10_000_000));
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("0_000"), Ok(0));
        assert_eq!(parse("0s"), Ok(0));
    }

    #[test]
    fn mistakes_say_how_to_write_it() {
        let err = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(err("5"), "`5` has no unit: add a unit, e.g. 5s or 5ms");
        assert_eq!(err("1.5s"), "`1.5s` has a fraction: write it in a smaller unit, 1500ms");
        assert_eq!(err("0.5ns"), "`0.5ns` has a fraction: durations are whole numbers of ns, us, ms or s");
        assert!(err("5 ms").contains("no known unit (` ms`)"));
        assert!(err("2min").contains("no known unit (`min`)"));
        assert!(err("1e3us").contains("no known unit (`e3us`)"));
        for text in ["", "ms", "_1ms", "-1ms", " 1ms"] {
            assert!(matches!(parse(text), Err(DurationError::NotANumber { .. })), "{text:?}");
        }
    }

    #[test]
    fn overflow_is_reported_not_wrapped() {
        assert_eq!(parse("9223372036854775807ns"), Ok(MAX_NS));
        assert_eq!(parse("9223372036s"), Ok(9_223_372_036_000_000_000));
        for text in ["9223372036854775808ns", "9223372037s", "18446744073709551616ns", "99999999999999999999999s"] {
            assert_eq!(parse(text), Err(DurationError::TooLong { text: text.to_string() }));
        }
    }

    #[test]
    fn signs() {
        assert_eq!(parse_signed("-1ms"), Ok(-1_000_000));
        assert_eq!(parse_signed("-0"), Ok(0));
        assert_eq!(parse_signed("-9223372036854775807ns"), Ok(-i64::MAX));
        assert_eq!(parse_signed("-5"), Err(DurationError::NoUnit { text: "-5".to_string() }));
        assert!(parse_signed("--1ms").is_err());
    }

    #[test]
    fn formats_in_the_largest_exact_unit() {
        assert_eq!(format(0), "0ns");
        assert_eq!(format(5_000_000), "5ms");
        assert_eq!(format(1_500_000), "1500us");
        assert_eq!(format(-2_000_000_000), "-2s");
        assert_eq!(format(1_001), "1001ns");
    }

    proptest! {
        #[test]
        fn format_and_parse_round_trip(ns in -(MAX_NS as i64)..=MAX_NS as i64) {
            prop_assert_eq!(parse_signed(&format(i128::from(ns))), Ok(ns));
        }

        #[test]
        fn every_unit_round_trips(value in 0u64..1_000_000, unit in 0..UNITS.len()) {
            let (name, scale) = UNITS[unit];
            let ns = parse(&format!("{value}{name}")).unwrap();
            prop_assert_eq!(ns, value * scale);
            prop_assert_eq!(parse(&format(i128::from(ns))), Ok(ns));
        }
    }
}
