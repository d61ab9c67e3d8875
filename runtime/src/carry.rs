//! `--set` values across a swap: each applies to the new scheduler where it
//! still names a parameter and the parameter still takes the value.

use std::fmt;

use schedc_abi::Manifest;

use crate::value::parse_override;

/// A `--set` value the new scheduler does not take, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub name: String,
    pub value: String,
    pub why: String,
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={} ({})", self.name, self.value, self.why)
    }
}

/// The `--set` values split by whether the new scheduler takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarriedOver {
    /// The settings to open the new scheduler with, in their order.
    pub kept: Vec<(String, String)>,
    pub dropped: Vec<Dropped>,
}

impl fmt::Display for CarriedOver {
    /// `--set kept: a=1, b=2; dropped: c=3 (why)`, or nothing when there
    /// were no settings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept: Vec<String> = self.kept.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let dropped: Vec<String> = self.dropped.iter().map(Dropped::to_string).collect();
        let mut parts = Vec::new();
        if !kept.is_empty() {
            parts.push(format!("kept {}", kept.join(", ")));
        }
        if !dropped.is_empty() {
            parts.push(format!("dropped {}", dropped.join(", ")));
        }
        if !parts.is_empty() {
            write!(f, "--set: {}", parts.join("; "))?;
        }
        Ok(())
    }
}

/// Which of `overrides` (name, value text) the scheduler described by `new`
/// takes: those naming one of its parameters with a value of its type, in
/// its range.
pub fn carry_over(overrides: &[(String, String)], new: &Manifest) -> CarriedOver {
    let mut out = CarriedOver::default();
    for (name, value) in overrides {
        let why = match new.params.iter().find(|p| p.name == *name) {
            None => Some("the new policy has no such parameter".to_string()),
            Some(param) => parse_override(param, value).err().map(|err| reason(&err.to_string())),
        };
        match why {
            None => out.kept.push((name.clone(), value.clone())),
            Some(why) => out.dropped.push(Dropped { name: name.clone(), value: value.clone(), why }),
        }
    }
    out
}

/// The part of an override error after "Parameter NAME cannot be VALUE; ",
/// without its full stop: `it must be at least 100us`.
fn reason(message: &str) -> String {
    let tail = message.split_once("; ").map_or(message, |(_, tail)| tail);
    tail.trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::from_json(
            r#"{"schedc":1,"scheduler":"s","params":[
            {"name":"slice_max","symbol":"slice_max","type":"duration","default":5000000,"min":100000,"max":null},
            {"name":"boost","symbol":"boost","type":"bool","default":false}]}"#,
        )
        .unwrap()
    }

    fn set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn values_the_new_parameters_take_are_kept_in_order() {
        let carried = carry_over(&set(&[("boost", "true"), ("slice_max", "2ms")]), &manifest());
        assert_eq!(carried.kept, set(&[("boost", "true"), ("slice_max", "2ms")]));
        assert!(carried.dropped.is_empty());
        assert_eq!(carried.to_string(), "--set: kept boost=true, slice_max=2ms");
    }

    #[test]
    fn gone_parameters_and_values_out_of_type_or_range_are_dropped_with_the_reason() {
        let overrides = set(&[("slice_min", "1ms"), ("slice_max", "50us"), ("boost", "1"), ("slice_max", "3ms")]);
        let carried = carry_over(&overrides, &manifest());
        assert_eq!(carried.kept, set(&[("slice_max", "3ms")]));
        let why: Vec<String> = carried.dropped.iter().map(Dropped::to_string).collect();
        assert_eq!(
            why,
            [
                "slice_min=1ms (the new policy has no such parameter)",
                "slice_max=50us (it must be at least 100us)",
                "boost=1 (it is true or false)",
            ]
        );
        assert!(carried.to_string().starts_with("--set: kept slice_max=3ms; dropped slice_min=1ms ("), "{carried}");
    }

    #[test]
    fn no_settings_say_nothing() {
        assert_eq!(carry_over(&[], &manifest()).to_string(), "");
    }
}
