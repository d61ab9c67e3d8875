//! Parameter values from the command line, checked against the manifest.

use schedc_abi::{units, CpuSetParam, Param, Value, ValueType};

use crate::Error;

/// Parses the text of a `name=value` override for parameter `param` and
/// checks it against the parameter's declared range.
pub fn parse_override(param: &Param, text: &str) -> Result<Value, Error> {
    let bad = |expected: String| Error::BadValue { name: param.name.clone(), value: text.to_string(), expected };
    let t = text.trim();
    // `_` groups digits (1_000), as in policies.
    let count = || t.replace('_', "");
    let value = match param.ty {
        ValueType::Duration => {
            Value::Duration(units::parse_signed(t).map_err(|err| bad(format!("it is a duration, and {err}")))?)
        }
        ValueType::Time if t.starts_with('-') => return Err(bad("a time cannot be negative".into())),
        ValueType::Time => Value::Time(units::parse(t).map_err(|err| bad(format!("it is a time, and {err}")))?),
        ValueType::Int => Value::Int(count().parse().map_err(|_| bad("it is a whole number, e.g. 42 or -3".into()))?),
        ValueType::Uint => {
            Value::Uint(count().parse().map_err(|_| bad("it is a whole number of zero or more, e.g. 42".into()))?)
        }
        ValueType::Bool => match t {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("it is true or false".into())),
        },
    };
    check_range(param, value)?;
    Ok(value)
}

/// Parses `0-3,6` for the tunable CPU set `set` into its bitmap
/// ([`CpuSetParam::WORDS`] words), refusing a CPU at or above `nr_cpus`
/// (the machine's possible CPUs). `all` is every CPU the machine has.
pub fn parse_cpuset(set: &CpuSetParam, text: &str, nr_cpus: usize) -> Result<Vec<u64>, Error> {
    let bad = || Error::BadValue {
        name: set.name.clone(),
        value: text.to_string(),
        expected: "it is a list of CPUs and ranges, e.g. 0-3,6, or all".into(),
    };
    let limit = nr_cpus.min(CpuSetParam::WORDS * 64);
    let mut words = vec![0u64; CpuSetParam::WORDS];
    let t = text.trim();
    let ranges: Vec<(usize, usize)> = if t == "all" {
        vec![(0, limit.saturating_sub(1))]
    } else {
        let mut ranges = Vec::new();
        for part in t.split(',') {
            let part = part.trim();
            let (lo, hi) = part.split_once('-').unwrap_or((part, part));
            let lo: usize = lo.trim().parse().map_err(|_| bad())?;
            let hi: usize = hi.trim().parse().map_err(|_| bad())?;
            if lo > hi {
                return Err(bad());
            }
            ranges.push((lo, hi));
        }
        ranges
    };
    for (lo, hi) in ranges {
        if hi >= limit {
            return Err(Error::OutOfRange {
                name: set.name.clone(),
                value: text.to_string(),
                bound: format!("a list of this machine's CPUs, 0 to {}; CPU {hi} is not one", limit.saturating_sub(1)),
            });
        }
        for cpu in lo..=hi {
            words[cpu / 64] |= 1 << (cpu % 64);
        }
    }
    Ok(words)
}

pub(crate) fn check_range(param: &Param, value: Value) -> Result<(), Error> {
    let bound = match (param.min, param.max) {
        (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
        (Some(lo), None) => format!("at least {lo}"),
        (None, Some(hi)) => format!("at most {hi}"),
        (None, None) => return Ok(()),
    };
    let below = param.min.is_some_and(|lo| value < lo);
    let above = param.max.is_some_and(|hi| value > hi);
    if below || above {
        return Err(Error::OutOfRange { name: param.name.clone(), value: value.to_string(), bound });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_sets_parse_into_bitmaps_and_refuse_cpus_the_machine_lacks() {
        let set = CpuSetParam { name: "primary".into(), symbol: "s".into(), default: "all".into(), doc: "d".into() };
        let words = parse_cpuset(&set, "0-3, 6,64", 128).unwrap();
        assert_eq!((words[0], words[1], words.len()), (0x4f, 1, CpuSetParam::WORDS));
        assert_eq!(parse_cpuset(&set, "all", 2).unwrap()[0], 0x3);
        let err = parse_cpuset(&set, "0-4", 4).unwrap_err().to_string();
        assert!(err.contains("0 to 3; CPU 4 is not one"), "{err}");
        assert!(matches!(parse_cpuset(&set, "3-1", 4), Err(Error::BadValue { .. })));
        assert!(matches!(parse_cpuset(&set, "one", 4), Err(Error::BadValue { .. })));
    }

    fn param(ty: ValueType, default: Value, min: Option<Value>, max: Option<Value>) -> Param {
        Param { name: "p".into(), symbol: "p".into(), ty, default, min, max, doc: String::new() }
    }

    fn dur() -> Param {
        param(ValueType::Duration, Value::Duration(5_000_000), Some(Value::Duration(100_000)), None)
    }

    #[test]
    fn durations_with_units() {
        let p = dur();
        assert_eq!(parse_override(&p, "2ms").unwrap(), Value::Duration(2_000_000));
        assert_eq!(parse_override(&p, "500us").unwrap(), Value::Duration(500_000));
        assert_eq!(parse_override(&p, "500µs").unwrap(), Value::Duration(500_000));
        assert_eq!(parse_override(&p, "250000ns").unwrap(), Value::Duration(250_000));
        assert_eq!(parse_override(&p, "1_000us").unwrap(), Value::Duration(1_000_000));
        assert_eq!(parse_override(&p, " 3ms ").unwrap(), Value::Duration(3_000_000));
    }

    #[test]
    fn durations_follow_the_one_syntax() {
        let p = dur();
        for bad in ["2", "ms", "2 min", "1.5s", "abc", "", "1e3us", "1_000 us", "10000000000s"] {
            let err = parse_override(&p, bad).unwrap_err();
            assert!(matches!(err, Error::BadValue { .. }), "{bad}: {err}");
        }
        let err = parse_override(&p, "2").unwrap_err().to_string();
        assert_eq!(
            err,
            "Parameter p cannot be \"2\"; it is a duration, and `2` has no unit: add a unit, e.g. 2s or 2ms."
        );
        let err = parse_override(&p, "1.5s").unwrap_err().to_string();
        assert!(err.contains("write it in a smaller unit, 1500ms"), "{err}");
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
        assert_eq!(parse_override(&u, "1_000").unwrap(), Value::Uint(1000));
        assert!(parse_override(&u, "-1").is_err());
        let b = param(ValueType::Bool, Value::Bool(false), None, None);
        assert_eq!(parse_override(&b, "true").unwrap(), Value::Bool(true));
        assert_eq!(parse_override(&b, "false").unwrap(), Value::Bool(false));
        assert!(parse_override(&b, "1").is_err());
        assert!(parse_override(&b, "tr_ue").is_err());
        let t = param(ValueType::Time, Value::Time(0), None, None);
        assert_eq!(parse_override(&t, "1s").unwrap(), Value::Time(1_000_000_000));
        assert!(parse_override(&t, "-1s").unwrap_err().to_string().contains("cannot be negative"));
    }
}
