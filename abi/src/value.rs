//! The types of parameters, statistics and state, and how a value of each
//! is stored in a scheduler object.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::units;

/// The types a value can have, in a policy and in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// Signed 64-bit nanoseconds: a length of time (`s64`).
    Duration,
    /// Unsigned 64-bit nanoseconds since boot: a point in time (`u64`).
    Time,
    /// `s64`.
    Int,
    /// `u64`.
    Uint,
    /// C `bool`.
    Bool,
}

impl ValueType {
    /// The type's name in policies and in the manifest.
    pub fn keyword(self) -> &'static str {
        match self {
            ValueType::Duration => "duration",
            ValueType::Time => "time",
            ValueType::Int => "int",
            ValueType::Uint => "uint",
            ValueType::Bool => "bool",
        }
    }

    /// Size in bytes of a global of this type: `bool` is one byte, every
    /// other type eight.
    pub fn size(self) -> usize {
        match self {
            ValueType::Bool => 1,
            _ => 8,
        }
    }
}

/// How a statistic behaves over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatKind {
    /// Only grows; rates are meaningful.
    Counter,
    /// A current value.
    Gauge,
}

/// A value of a parameter or statistic, tagged with its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Nanoseconds.
    Duration(i64),
    Int(i64),
    Uint(u64),
    Bool(bool),
    /// Nanoseconds since boot.
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

    /// The value as the object stores it (native byte order, `ty().size()` bytes).
    pub fn to_bytes(self) -> Vec<u8> {
        match self {
            Value::Duration(v) | Value::Int(v) => v.to_ne_bytes().to_vec(),
            Value::Uint(v) | Value::Time(v) => v.to_ne_bytes().to_vec(),
            Value::Bool(b) => vec![u8::from(b)],
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
            Value::Bool(b) => u64::from(b),
        }
    }

    /// A manifest scalar read as type `ty`; `None` if it is not one.
    pub(crate) fn from_scalar(ty: ValueType, scalar: Scalar) -> Option<Value> {
        let signed = || match scalar {
            Scalar::Unsigned(v) => i64::try_from(v).ok(),
            Scalar::Signed(v) => Some(v),
            Scalar::Bool(_) => None,
        };
        let unsigned = || match scalar {
            Scalar::Unsigned(v) => Some(v),
            _ => None,
        };
        Some(match ty {
            ValueType::Duration => Value::Duration(signed()?),
            ValueType::Int => Value::Int(signed()?),
            ValueType::Uint => Value::Uint(unsigned()?),
            ValueType::Time => Value::Time(unsigned()?),
            ValueType::Bool => match scalar {
                Scalar::Bool(b) => Value::Bool(b),
                _ => return None,
            },
        })
    }
}

/// Values of the same type compare; values of different types do not.
impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        match (*self, *other) {
            (Value::Duration(a), Value::Duration(b)) | (Value::Int(a), Value::Int(b)) => Some(a.cmp(&b)),
            (Value::Uint(a), Value::Uint(b)) | (Value::Time(a), Value::Time(b)) => Some(a.cmp(&b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(&b)),
            _ => None,
        }
    }
}

/// Durations and times print with the largest unit that keeps them exact.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::Duration(v) => f.write_str(&units::format(i128::from(v))),
            Value::Time(v) => f.write_str(&units::format(i128::from(v))),
            Value::Int(v) => write!(f, "{v}"),
            Value::Uint(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
        }
    }
}

/// In the manifest a value is a plain JSON number (nanoseconds for durations
/// and times) or boolean; the parameter's type says which.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Value::Duration(v) | Value::Int(v) => s.serialize_i64(v),
            Value::Uint(v) | Value::Time(v) => s.serialize_u64(v),
            Value::Bool(v) => s.serialize_bool(v),
        }
    }
}

/// A manifest value before its type is known.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub(crate) enum Scalar {
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_with_the_type_size() {
        for v in [Value::Duration(-3), Value::Int(i64::MIN), Value::Uint(u64::MAX), Value::Bool(true), Value::Time(9)] {
            assert_eq!(Value::from_bytes(v.ty(), &v.to_bytes()), v);
            assert_eq!(v.to_bytes().len(), v.ty().size());
        }
    }

    #[test]
    fn only_values_of_one_type_compare() {
        assert!(Value::Duration(1) < Value::Duration(2));
        assert_eq!(Value::Duration(1).partial_cmp(&Value::Int(2)), None);
        assert_eq!(Value::Uint(5).partial_cmp(&Value::Time(5)), None);
    }

    #[test]
    fn durations_display_in_the_largest_exact_unit() {
        assert_eq!(Value::Duration(5_000_000).to_string(), "5ms");
        assert_eq!(Value::Duration(1_500_000).to_string(), "1500us");
        assert_eq!(Value::Duration(-7).to_string(), "-7ns");
        assert_eq!(Value::Time(0).to_string(), "0ns");
        assert_eq!(Value::Uint(u64::MAX).to_string(), "18446744073709551615");
    }

    #[test]
    fn scalars_take_the_parameter_type() {
        assert_eq!(Value::from_scalar(ValueType::Duration, Scalar::Signed(-1)), Some(Value::Duration(-1)));
        assert_eq!(Value::from_scalar(ValueType::Uint, Scalar::Signed(-1)), None);
        assert_eq!(Value::from_scalar(ValueType::Int, Scalar::Unsigned(u64::MAX)), None);
        assert_eq!(Value::from_scalar(ValueType::Bool, Scalar::Unsigned(1)), None);
        assert_eq!(Value::from_scalar(ValueType::Bool, Scalar::Bool(true)), Some(Value::Bool(true)));
    }
}
