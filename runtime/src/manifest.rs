use std::path::Path;

use object::{Object, ObjectSection};
use serde::Deserialize;

use crate::value::Value;
use crate::Error;

/// ELF section holding the JSON manifest as a NUL-terminated string.
pub const MANIFEST_SECTION: &str = ".schedc.manifest";

/// The manifest format version this runtime reads.
const MANIFEST_VERSION: u32 = 1;

/// Type of a parameter or statistic, and so its size in the object:
/// `bool` is one byte, every other type eight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// Signed nanoseconds (`s64`).
    Duration,
    /// `s64`.
    Int,
    /// `u64`.
    Uint,
    /// C `bool`.
    Bool,
    /// Unsigned nanoseconds, e.g. a timestamp (`u64`).
    Time,
}

impl ValueType {
    /// Size in bytes of a global of this type.
    pub fn size(self) -> usize {
        match self {
            ValueType::Bool => 1,
            _ => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ValueType::Duration => "duration",
            ValueType::Int => "int",
            ValueType::Uint => "uint",
            ValueType::Bool => "bool",
            ValueType::Time => "time",
        }
    }
}

/// How a statistic behaves over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatKind {
    /// Only grows; rates are meaningful.
    Counter,
    /// A current value.
    Gauge,
}

/// A tunable of the scheduler: a `const volatile` global in `.rodata`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    pub name: String,
    pub symbol: String,
    pub ty: ValueType,
    pub default: Value,
    pub min: Option<Value>,
    pub max: Option<Value>,
    pub doc: String,
}

/// A statistic: a global in `.bss` or `.data` the scheduler updates.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatInfo {
    pub name: String,
    pub symbol: String,
    pub kind: StatKind,
    #[serde(rename = "type")]
    pub ty: ValueType,
    #[serde(default)]
    pub doc: String,
}

/// A fact about the machine the runtime writes into a `const volatile`
/// global before loading: `nr_cpus` (u64, online CPUs) or `smt` (bool).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InputInfo {
    pub symbol: String,
    pub fact: String,
}

/// A task class of the policy: its name and its value in the scheduler's
/// per-task `class` field (0 is reserved for tasks in no class).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClassInfo {
    pub name: String,
    pub value: u8,
}

/// The description of a scheduler that schedc embeds in the object.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub version: u32,
    pub scheduler: String,
    pub description: String,
    pub timeout_ms: u64,
    pub params: Vec<ParamInfo>,
    pub stats: Vec<StatInfo>,
    pub inputs: Vec<InputInfo>,
    /// The policy's classes in rank order; empty when it declares none.
    pub classes: Vec<ClassInfo>,
}

/// The facts the runtime knows how to fill in.
pub(crate) const KNOWN_FACTS: &[(&str, ValueType)] = &[("nr_cpus", ValueType::Uint), ("smt", ValueType::Bool)];

#[derive(Deserialize)]
struct RawParam {
    name: String,
    symbol: String,
    #[serde(rename = "type")]
    ty: ValueType,
    default: serde_json::Value,
    #[serde(default)]
    min: serde_json::Value,
    #[serde(default)]
    max: serde_json::Value,
    #[serde(default)]
    doc: String,
}

#[derive(Deserialize)]
struct RawManifest {
    schedc: u32,
    scheduler: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    timeout_ms: u64,
    #[serde(default)]
    params: Vec<RawParam>,
    #[serde(default)]
    stats: Vec<StatInfo>,
    #[serde(default)]
    inputs: Vec<InputInfo>,
    #[serde(default)]
    classes: Vec<ClassInfo>,
}

impl Manifest {
    /// Reads the manifest of the object file at `path`.
    pub fn from_object(path: impl AsRef<Path>) -> Result<Manifest, Error> {
        let path = path.as_ref();
        let data = std::fs::read(path).map_err(|source| Error::Io { path: path.into(), source })?;
        Manifest::from_object_bytes(&data, path)
    }

    /// Reads the manifest from the bytes of an object file; `path` is only
    /// used in error messages.
    pub fn from_object_bytes(data: &[u8], path: &Path) -> Result<Manifest, Error> {
        let not_ours = || Error::NotSchedcObject { path: path.into() };
        let file = object::File::parse(data).map_err(|_| not_ours())?;
        let section = file.section_by_name(MANIFEST_SECTION).ok_or_else(not_ours)?;
        let bytes = section.data().map_err(|_| not_ours())?;
        // The C string's terminating NUL (and any padding) is not JSON.
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        let json = std::str::from_utf8(&bytes[..end])
            .map_err(|_| Error::BadManifest { path: path.into(), reason: "it is not UTF-8".into() })?;
        Manifest::from_json(json).map_err(|reason| Error::BadManifest { path: path.into(), reason })
    }

    /// Parses and checks manifest JSON.
    pub fn from_json(json: &str) -> Result<Manifest, String> {
        let raw: RawManifest = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if raw.schedc != MANIFEST_VERSION {
            return Err(format!("manifest version {} where this runtime reads version {MANIFEST_VERSION}", raw.schedc));
        }
        let mut params = Vec::with_capacity(raw.params.len());
        for p in raw.params {
            let bound = |v: &serde_json::Value, what: &str| -> Result<Option<Value>, String> {
                if v.is_null() {
                    return Ok(None);
                }
                Value::from_json(p.ty, v)
                    .map(Some)
                    .ok_or_else(|| format!("{what} of parameter {} is not a {}", p.name, p.ty.name()))
            };
            let default = Value::from_json(p.ty, &p.default)
                .ok_or_else(|| format!("default of parameter {} is not a {}", p.name, p.ty.name()))?;
            let min = bound(&p.min, "min")?;
            let max = bound(&p.max, "max")?;
            params.push(ParamInfo { name: p.name, symbol: p.symbol, ty: p.ty, default, min, max, doc: p.doc });
        }
        for input in &raw.inputs {
            if !KNOWN_FACTS.iter().any(|(f, _)| *f == input.fact) {
                return Err(format!("input {} asks for unknown fact {:?}", input.symbol, input.fact));
            }
        }
        if let Some(c) = raw.classes.iter().find(|c| c.value == 0) {
            return Err(format!("class {} has value 0, which means no class", c.name));
        }
        Ok(Manifest {
            version: raw.schedc,
            scheduler: raw.scheduler,
            description: raw.description,
            timeout_ms: raw.timeout_ms,
            params,
            stats: raw.stats,
            inputs: raw.inputs,
            classes: raw.classes,
        })
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&ParamInfo> {
        self.params.iter().find(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"schedc":1,"scheduler":"bpfland","description":"d","timeout_ms":5000,
        "params":[{"name":"slice_max","symbol":"slice_max","type":"duration","default":5000000,"min":100000,"max":null,"doc":"longest slice"},
                  {"name":"big","symbol":"big","type":"uint","default":18446744073709551615,"min":null,"max":null,"doc":""},
                  {"name":"on","symbol":"on","type":"bool","default":true,"min":null,"max":null,"doc":""}],
        "stats":[{"name":"nr_direct","symbol":"nr_direct","kind":"counter","type":"uint","doc":"x"}],
        "inputs":[{"symbol":"schedc_nr_cpus","fact":"nr_cpus"},{"symbol":"schedc_smt","fact":"smt"}],
        "classes":[{"name":"interactive","value":1}]}"#;

    #[test]
    fn parses_sample_json() {
        let m = Manifest::from_json(SAMPLE).unwrap();
        assert_eq!(m.scheduler, "bpfland");
        assert_eq!(m.timeout_ms, 5000);
        let p = m.param("slice_max").unwrap();
        assert_eq!(p.ty, ValueType::Duration);
        assert_eq!(p.default, Value::Duration(5_000_000));
        assert_eq!(p.min, Some(Value::Duration(100_000)));
        assert_eq!(p.max, None);
        assert_eq!(m.param("big").unwrap().default, Value::Uint(u64::MAX));
        assert_eq!(m.param("on").unwrap().default, Value::Bool(true));
        assert_eq!(m.stats[0].kind, StatKind::Counter);
        assert_eq!(m.inputs[1].fact, "smt");
        assert_eq!(m.classes, [ClassInfo { name: "interactive".into(), value: 1 }]);
    }

    #[test]
    fn rejects_wrong_version_type_and_fact() {
        let v2 = SAMPLE.replacen("\"schedc\":1", "\"schedc\":2", 1);
        assert!(Manifest::from_json(&v2).unwrap_err().contains("version 2"));
        let bad_default = SAMPLE.replacen("\"default\":true", "\"default\":3", 1);
        assert!(Manifest::from_json(&bad_default).unwrap_err().contains("default of parameter on"));
        let bad_fact = SAMPLE.replacen("\"fact\":\"smt\"", "\"fact\":\"numa\"", 1);
        assert!(Manifest::from_json(&bad_fact).unwrap_err().contains("unknown fact"));
        let class_zero = SAMPLE.replacen("\"value\":1", "\"value\":0", 1);
        assert!(Manifest::from_json(&class_zero).unwrap_err().contains("class interactive has value 0"));
    }

    #[test]
    fn non_elf_is_not_a_schedc_object() {
        let err = Manifest::from_object_bytes(b"hello", Path::new("x.o")).unwrap_err();
        assert!(matches!(err, Error::NotSchedcObject { .. }), "{err}");
    }
}
