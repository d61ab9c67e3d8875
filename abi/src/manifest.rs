//! The manifest: what the runtime needs to know about a scheduler, embedded
//! in its object (section [`crate::section::MANIFEST`]) so that
//! `schedc run NAME.bpf.o` works without the policy.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::value::Scalar;
use crate::{StatKind, Value, ValueType};

/// The format version this crate writes and reads.
pub const VERSION: u32 = 1;

/// The `.rodata` global holding a copy of the manifest JSON (NUL-terminated),
/// which, unlike the manifest's own section, is loaded into the kernel with
/// the scheduler: `schedc stats` reads it there.
pub const RODATA_COPY: &str = "schedc_manifest_copy";

/// The description of a scheduler that schedc embeds in its object.
///
/// The fields are serialised in this order; the one-line fields come first
/// so that [`Manifest::json_lines`] starts with one line for the scheduler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The format version, [`VERSION`].
    #[serde(rename = "schedc")]
    pub version: u32,
    /// The kernel-visible name.
    pub scheduler: String,
    #[serde(default)]
    pub description: String,
    /// The watchdog timeout; 0 for the kernel default.
    #[serde(default)]
    pub timeout_ms: u64,
    #[serde(default)]
    pub params: Vec<Param>,
    #[serde(default)]
    pub stats: Vec<Stat>,
    #[serde(default)]
    pub inputs: Vec<Input>,
    /// The policy's classes in rank order, for per-class latency; absent
    /// when it declares none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<Class>,
    /// The CPU sets `schedc run --set NAME=0-3,6` may change; absent when
    /// there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpusets: Vec<CpuSetParam>,
}

/// A tunable CPU set (`cpuset NAME = CPUS "doc"`): a `.rodata` bitmap of
/// [`CpuSetParam::WORDS`] 64-bit words, bit `N % 64` of word `N / 64` for
/// CPU `N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuSetParam {
    pub name: String,
    pub symbol: String,
    /// As written in the policy, e.g. `0-3, 6` or `all`.
    pub default: String,
    pub doc: String,
}

impl CpuSetParam {
    /// The words of the bitmap: one bit per CPU schedc numbers (4096).
    pub const WORDS: usize = 64;
}

/// A task class of the policy: its name and its value in the scheduler's
/// per-task `class` field (0 means no class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawClass")]
pub struct Class {
    pub name: String,
    pub value: u32,
}

#[derive(Deserialize)]
struct RawClass {
    name: String,
    value: u32,
}

impl TryFrom<RawClass> for Class {
    type Error = String;

    fn try_from(raw: RawClass) -> Result<Class, String> {
        if raw.value == 0 {
            return Err(format!("class {} has value 0, which means no class", raw.name));
        }
        Ok(Class { name: raw.name, value: raw.value })
    }
}

/// A tunable of the scheduler: a `const volatile` global in `.rodata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawParam")]
pub struct Param {
    pub name: String,
    /// The C global holding it.
    pub symbol: String,
    #[serde(rename = "type")]
    pub ty: ValueType,
    pub default: Value,
    /// The declared range; `None` where it is open.
    pub min: Option<Value>,
    pub max: Option<Value>,
    pub doc: String,
}

/// A statistic: a global in `.bss` or `.data` the scheduler updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    pub name: String,
    pub symbol: String,
    pub kind: StatKind,
    #[serde(rename = "type")]
    pub ty: ValueType,
    #[serde(default)]
    pub doc: String,
}

/// A fact about the machine the runtime writes into a `const volatile`
/// global before loading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub symbol: String,
    pub fact: MachineFact,
}

/// The machine facts a runtime knows how to fill in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MachineFact {
    /// Whether SMT is active (`bool`). (The CPU count is no input: the
    /// scheduler counts CPUs itself, so any loader gets it right.)
    Smt,
}

impl MachineFact {
    pub const ALL: [MachineFact; 1] = [MachineFact::Smt];

    /// The `const volatile` global generated code declares for the fact.
    pub fn symbol(self) -> &'static str {
        match self {
            MachineFact::Smt => "schedc_smt",
        }
    }

    /// The type of the global that receives the fact.
    pub fn value_type(self) -> ValueType {
        match self {
            MachineFact::Smt => ValueType::Bool,
        }
    }
}

/// Why manifest JSON cannot be used.
#[derive(Debug)]
pub enum ManifestError {
    /// A format version this crate does not read.
    Version { found: u32 },
    /// Not JSON, or not shaped like a manifest.
    Json(serde_json::Error),
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::Version { found } => {
                write!(f, "manifest version {found} where this runtime reads version {VERSION}")
            }
            ManifestError::Json(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for ManifestError {}

impl Manifest {
    /// Parses manifest JSON, checking the version before anything else so
    /// that a manifest of another version is named as such.
    pub fn from_json(json: &str) -> Result<Manifest, ManifestError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            schedc: u32,
        }
        let found = serde_json::from_str::<VersionOnly>(json).map_err(ManifestError::Json)?.schedc;
        if found != VERSION {
            return Err(ManifestError::Version { found });
        }
        serde_json::from_str(json).map_err(ManifestError::Json)
    }

    /// Compact JSON, one line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a manifest always serialises")
    }

    /// [`Manifest::to_json`] cut into lines for review: the one-line fields
    /// on the first line, then one line to open each list, one per entry
    /// and one to close it. Joined they are exactly the compact JSON.
    pub fn json_lines(&self) -> Vec<String> {
        let compact = |v: &serde_json::Value| serde_json::to_string(v).expect("JSON values always serialise");
        let serde_json::Value::Object(fields) = serde_json::to_value(self).expect("a manifest always serialises")
        else {
            unreachable!("a struct serialises as an object")
        };
        let mut lines = vec!["{".to_string()];
        for (i, (key, value)) in fields.iter().enumerate() {
            let after = if i + 1 < fields.len() { "," } else { "}" };
            let key = compact(&serde_json::Value::from(key.as_str()));
            if let serde_json::Value::Array(entries) = value {
                lines.push(format!("{key}:["));
                for (j, entry) in entries.iter().enumerate() {
                    lines.push(format!("{}{}", compact(entry), if j + 1 < entries.len() { "," } else { "" }));
                }
                lines.push(format!("]{after}"));
            } else {
                let last = lines.last_mut().expect("starts with a line");
                last.push_str(&format!("{key}:{}{after}", compact(value)));
            }
        }
        lines
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// A parameter as written, before its values are read as its type.
#[derive(Deserialize)]
struct RawParam {
    name: String,
    symbol: String,
    #[serde(rename = "type")]
    ty: ValueType,
    default: Scalar,
    #[serde(default)]
    min: Option<Scalar>,
    #[serde(default)]
    max: Option<Scalar>,
    #[serde(default)]
    doc: String,
}

impl TryFrom<RawParam> for Param {
    type Error = String;

    fn try_from(raw: RawParam) -> Result<Param, String> {
        let typed = |what: &str, scalar: Scalar| {
            Value::from_scalar(raw.ty, scalar)
                .ok_or_else(|| format!("{what} of parameter {} is not a {}", raw.name, raw.ty.keyword()))
        };
        let default = typed("default", raw.default)?;
        let min = raw.min.map(|v| typed("min", v)).transpose()?;
        let max = raw.max.map(|v| typed("max", v)).transpose()?;
        Ok(Param { name: raw.name, symbol: raw.symbol, ty: raw.ty, default, min, max, doc: raw.doc })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"schedc":1,"scheduler":"bpfland","description":"d","timeout_ms":5000,
        "params":[{"name":"slice_max","symbol":"slice_max","type":"duration","default":5000000,"min":100000,"max":null,"doc":"longest slice"},
                  {"name":"big","symbol":"big","type":"uint","default":18446744073709551615,"min":null,"max":null,"doc":""},
                  {"name":"bias","symbol":"bias","type":"int","default":-3,"min":-50,"max":50,"doc":""},
                  {"name":"on","symbol":"on","type":"bool","default":true,"min":null,"max":null,"doc":""}],
        "stats":[{"name":"nr_direct","symbol":"nr_direct","kind":"counter","type":"uint","doc":"x"}],
        "inputs":[{"symbol":"schedc_smt","fact":"smt"}]}"#;

    #[test]
    fn reads_typed_values() {
        let m = Manifest::from_json(SAMPLE).unwrap();
        assert_eq!((m.scheduler.as_str(), m.timeout_ms), ("bpfland", 5000));
        let p = m.param("slice_max").unwrap();
        assert_eq!(
            (p.ty, p.default, p.min, p.max),
            (ValueType::Duration, Value::Duration(5_000_000), Some(Value::Duration(100_000)), None)
        );
        assert_eq!(m.param("big").unwrap().default, Value::Uint(u64::MAX));
        assert_eq!(m.param("bias").unwrap().min, Some(Value::Int(-50)));
        assert_eq!(m.param("on").unwrap().default, Value::Bool(true));
        assert_eq!(m.stats[0].kind, StatKind::Counter);
        assert_eq!(m.inputs[0].fact, MachineFact::Smt);
    }

    #[test]
    fn serialises_back_to_the_same_manifest() {
        let m = Manifest::from_json(SAMPLE).unwrap();
        assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
        // Field for field and in the same order as the input.
        let input: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(m.to_json(), input.to_string());
    }

    #[test]
    fn lines_join_to_the_compact_json() {
        let m = Manifest::from_json(SAMPLE).unwrap();
        let lines = m.json_lines();
        assert_eq!(lines.concat(), m.to_json());
        assert_eq!(lines[0], r#"{"schedc":1,"scheduler":"bpfland","description":"d","timeout_ms":5000,"#);
        assert_eq!(lines[1], r#""params":["#);
        assert_eq!(lines.iter().filter(|l| l.starts_with(r#"{"name""#)).count(), 5);
        assert_eq!(lines.last().unwrap(), "]}");
        let empty = Manifest { params: vec![], stats: vec![], inputs: vec![], ..m };
        assert_eq!(empty.json_lines()[1..], [r#""params":["#, "],", r#""stats":["#, "],", r#""inputs":["#, "]}"]);
    }

    #[test]
    fn refuses_other_versions_types_and_facts() {
        let v2 = SAMPLE.replacen("\"schedc\":1", "\"schedc\":2", 1).replacen("\"params\"", "\"knobs\"", 1);
        let err = Manifest::from_json(&v2).unwrap_err().to_string();
        assert_eq!(err, "manifest version 2 where this runtime reads version 1");
        let bad_default = SAMPLE.replacen("\"default\":true", "\"default\":3", 1);
        assert!(Manifest::from_json(&bad_default)
            .unwrap_err()
            .to_string()
            .contains("default of parameter on is not a bool"));
        let bad_min = SAMPLE.replacen("\"min\":-50", "\"min\":false", 1);
        assert!(Manifest::from_json(&bad_min).unwrap_err().to_string().contains("min of parameter bias is not a int"));
        let bad_fact = SAMPLE.replacen("\"fact\":\"smt\"", "\"fact\":\"numa\"", 1);
        assert!(Manifest::from_json(&bad_fact).unwrap_err().to_string().contains("unknown variant `numa`"));
        assert!(Manifest::from_json("{}").unwrap_err().to_string().contains("missing field `schedc`"));
    }
}
