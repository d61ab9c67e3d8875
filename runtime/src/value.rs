use std::cmp::Ordering;
use std::fmt;

use crate::manifest::{ParamInfo, ValueType};
use crate::Error;

/// A parameter or statistic value, tagged with its manifest type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Nanoseconds.
    Duration(i64),
    Int(i64),
    Uint(u64),
    Bool(bool),
    /// Nanoseconds.
    Time(u64),
}

impl Value {
    pub fn ty(self) -> ValueType {
        match self {
            Value::Duration(_) => ValueType::Duration,
            Value::Int(_) => ValueType::Int,
            Value::Uint(_) => ValueType::Uint,
            Value::Bool(_) => ValueType::Bool,
            Value::Time(_) => ValueType::Time,
        }
    }

    /// The value as a JSON number or boolean from the manifest.
    pub(crate) fn from_json(ty: ValueType, v: &serde_json::Value) -> Option<Value> {
        Some(match ty {
            ValueType::Duration => Value::Duration(v.as_i64()?),
            ValueType::Int => Value::Int(v.as_i64()?),
            ValueType::Uint => Value::Uint(v.as_u64()?),
            ValueType::Time => Value::Time(v.as_u64()?),
            ValueType::Bool => Value::Bool(v.as_bool()?),
        })
    }

    /// The value as the object stores it (native byte order).
    pub fn to_bytes(self) -> Vec<u8> {
        match self {
            Value::Duration(v) | Value::Int(v) => v.to_ne_bytes().to_vec(),
            Value::Uint(v) | Value::Time(v) => v.to_ne_bytes().to_vec(),
            Value::Bool(b) => vec![b as u8],
        }
    }

    /// Decodes a global of type `ty`; `bytes` must be `ty.size()` long.
    pub fn from_bytes(ty: ValueType, bytes: &[u8]) -> Value {
        let word = || {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[..8]);
            w
        };
        match ty {
            ValueType::Duration => Value::Duration(i64::from_ne_bytes(word())),
            ValueType::Int => Value::Int(i64::from_ne_bytes(word())),
            ValueType::Uint => Value::Uint(u64::from_ne_bytes(word())),
            ValueType::Time => Value::Time(u64::from_ne_bytes(word())),
            ValueType::Bool => Value::Bool(bytes[0] != 0),
        }
    }

    /// The value as u64 for counters and rates (negative values clamp to 0).
    pub fn as_u64(self) -> u64 {
        match self {
            Value::Duration(v) | Value::Int(v) => v.max(0) as u64,
            Value::Uint(v) | Value::Time(v) => v,
            Value::Bool(b) => b as u64,
        }
    }

    fn cmp_same_type(self, other: Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Duration(a), Value::Duration(b)) | (Value::Int(a), Value::Int(b)) => Some(a.cmp(&b)),
            (Value::Uint(a), Value::Uint(b)) | (Value::Time(a), Value::Time(b)) => Some(a.cmp(&b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(&b)),
            _ => None,
        }
    }
}

/// Durations print in the largest unit that keeps them exact: `5ms`,
/// `1500us`, `0ns`.
fn fmt_ns(f: &mut fmt::Formatter<'_>, ns: i128) -> fmt::Result {
    for (unit, scale) in [("s", 1_000_000_000i128), ("ms", 1_000_000), ("us", 1_000)] {
        if ns != 0 && ns % scale == 0 {
            return write!(f, "{}{unit}", ns / scale);
        }
    }
    write!(f, "{ns}ns")
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::Duration(v) => fmt_ns(f, v as i128),
            Value::Time(v) => fmt_ns(f, v as i128),
            Value::Int(v) => write!(f, "{v}"),
            Value::Uint(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
        }
    }
}

/// Parses `text` as a nanosecond count: a decimal number (fraction allowed,
/// as long as the result is a whole number of ns) followed by ns, us, ms or s.
fn parse_duration_ns(text: &str) -> Option<i128> {
    let t = text.trim();
    let (num, scale) = [("ns", 1i128), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000)]
        .iter()
        .find_map(|(unit, scale)| t.strip_suffix(unit).map(|n| (n.trim_end(), *scale)))
        .or_else(|| (t.trim_start_matches('-') == "0").then_some((t, 1)))?;
    let (neg, digits) = match num.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, num),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    let whole: i128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac_val: i128 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    let frac_scale = 10i128.pow(frac.len() as u32);
    let frac_ns = frac_val.checked_mul(scale)?;
    if frac_ns % frac_scale != 0 {
        return None;
    }
    let ns = whole.checked_mul(scale)?.checked_add(frac_ns / frac_scale)?;
    Some(if neg { -ns } else { ns })
}

/// Parses the text of a `name=value` override for parameter `param` and
/// checks it against the parameter's declared range.
pub fn parse_override(param: &ParamInfo, text: &str) -> Result<Value, Error> {
    let bad = |expected: &str| Error::BadValue {
        name: param.name.clone(),
        value: text.to_string(),
        expected: expected.to_string(),
    };
    // `_` groups digits (1_000); it means nothing in `true` or `false`.
    let t = if param.ty == ValueType::Bool { text.trim().to_string() } else { text.trim().replace('_', "") };
    let value = match param.ty {
        ValueType::Duration => {
            let ns = parse_duration_ns(&t)
                .ok_or_else(|| bad("it is a duration: write a number with a unit, e.g. 2ms, 500us, 1.5s"))?;
            Value::Duration(i64::try_from(ns).map_err(|_| bad("that duration is too long"))?)
        }
        ValueType::Time => {
            let ns = parse_duration_ns(&t)
                .ok_or_else(|| bad("it is a time: write a number with a unit, e.g. 2ms, 500us, 1.5s"))?;
            Value::Time(u64::try_from(ns).map_err(|_| bad("a time cannot be negative or that long"))?)
        }
        ValueType::Int => Value::Int(t.parse().map_err(|_| bad("it is a whole number, e.g. 42 or -3"))?),
        ValueType::Uint => Value::Uint(t.parse().map_err(|_| bad("it is a whole number of zero or more, e.g. 42"))?),
        ValueType::Bool => match t.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("it is true or false")),
        },
    };
    check_range(param, value)?;
    Ok(value)
}

pub(crate) fn check_range(param: &ParamInfo, value: Value) -> Result<(), Error> {
    let bound = match (param.min, param.max) {
        (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
        (Some(lo), None) => format!("at least {lo}"),
        (None, Some(hi)) => format!("at most {hi}"),
        (None, None) => return Ok(()),
    };
    let below = param.min.and_then(|lo| value.cmp_same_type(lo)) == Some(Ordering::Less);
    let above = param.max.and_then(|hi| value.cmp_same_type(hi)) == Some(Ordering::Greater);
    if below || above {
        return Err(Error::OutOfRange { name: param.name.clone(), value: value.to_string(), bound });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(ty: ValueType, default: Value, min: Option<Value>, max: Option<Value>) -> ParamInfo {
        ParamInfo { name: "p".into(), symbol: "p".into(), ty, default, min, max, doc: String::new() }
    }

    fn dur() -> ParamInfo {
        param(ValueType::Duration, Value::Duration(5_000_000), Some(Value::Duration(100_000)), None)
    }

    #[test]
    fn durations_with_units() {
        let p = dur();
        assert_eq!(parse_override(&p, "2ms").unwrap(), Value::Duration(2_000_000));
        assert_eq!(parse_override(&p, "500us").unwrap(), Value::Duration(500_000));
        assert_eq!(parse_override(&p, "1.5s").unwrap(), Value::Duration(1_500_000_000));
        assert_eq!(parse_override(&p, "250000ns").unwrap(), Value::Duration(250_000));
        assert_eq!(parse_override(&p, "1_000 us").unwrap(), Value::Duration(1_000_000));
        assert_eq!(parse_override(&p, " 3ms ").unwrap(), Value::Duration(3_000_000));
    }

    #[test]
    fn durations_need_a_unit_and_whole_ns() {
        let p = dur();
        for bad in ["2", "ms", "2 min", "1.0000000001s", "abc", "", "1e3us", "0.5ns"] {
            let err = parse_override(&p, bad).unwrap_err();
            assert!(matches!(err, Error::BadValue { .. }), "{bad}: {err}");
        }
        let err = parse_override(&p, "2").unwrap_err().to_string();
        assert!(err.contains("e.g. 2ms"), "{err}");
    }

    #[test]
    fn range_is_checked_with_units_in_message() {
        let p = dur();
        let err = parse_override(&p, "50us").unwrap_err();
        assert_eq!(err.to_string(), "Parameter p cannot be 50us; it must be at least 100us.");
        let p = param(ValueType::Int, Value::Int(0), Some(Value::Int(-5)), Some(Value::Int(5)));
        assert_eq!(parse_override(&p, "-5").unwrap(), Value::Int(-5));
        assert!(parse_override(&p, "6").unwrap_err().to_string().contains("between -5 and 5"));
        let neg = param(ValueType::Duration, Value::Duration(0), None, None);
        assert_eq!(parse_override(&neg, "-1ms").unwrap(), Value::Duration(-1_000_000));
        assert_eq!(parse_override(&neg, "0").unwrap(), Value::Duration(0));
    }

    #[test]
    fn ints_uints_bools_times() {
        let u = param(ValueType::Uint, Value::Uint(1), None, Some(Value::Uint(u64::MAX)));
        assert_eq!(parse_override(&u, "18446744073709551615").unwrap(), Value::Uint(u64::MAX));
        assert!(parse_override(&u, "-1").is_err());
        let b = param(ValueType::Bool, Value::Bool(false), None, None);
        assert_eq!(parse_override(&b, "true").unwrap(), Value::Bool(true));
        assert_eq!(parse_override(&b, "false").unwrap(), Value::Bool(false));
        assert!(parse_override(&b, "1").is_err());
        let t = param(ValueType::Time, Value::Time(0), None, None);
        assert_eq!(parse_override(&t, "1s").unwrap(), Value::Time(1_000_000_000));
        assert!(parse_override(&t, "-1s").is_err());
        let d = param(ValueType::Duration, Value::Duration(0), None, None);
        assert!(parse_override(&d, "10000000000s").is_err());
    }

    #[test]
    fn display_and_bytes_round_trip() {
        assert_eq!(Value::Duration(5_000_000).to_string(), "5ms");
        assert_eq!(Value::Duration(1_500_000).to_string(), "1500us");
        assert_eq!(Value::Duration(7).to_string(), "7ns");
        assert_eq!(Value::Time(0).to_string(), "0ns");
        for v in [Value::Duration(-3), Value::Int(i64::MIN), Value::Uint(u64::MAX), Value::Bool(true), Value::Time(9)] {
            assert_eq!(Value::from_bytes(v.ty(), &v.to_bytes()), v);
            assert_eq!(v.to_bytes().len(), v.ty().size());
        }
    }
}
