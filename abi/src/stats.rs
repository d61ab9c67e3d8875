//! The statistics stream: what `schedc run --stats json` and `schedc stats
//! --json` print, one [`Record`] per line (newline-delimited JSON).
//!
//! The format is versioned ([`VERSION`]) and documented in docs/stats.md,
//! with a JSON Schema in docs/stats.schema.json that the tests hold these
//! types to. Scripts and the VM tests read the stream back with
//! [`Record::from_json`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::value::Scalar;
use crate::{StatKind, Value, ValueType};

/// The format version of every record, in its `schedc_stats` field.
pub const VERSION: u32 = 1;

/// One line of the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The format version, [`VERSION`].
    #[serde(rename = "schedc_stats")]
    pub version: u32,
    /// Wall-clock time of the reading, RFC 3339 in UTC with milliseconds.
    pub time: String,
    /// Nanoseconds since the scheduler was attached.
    pub elapsed_ns: u64,
    /// The scheduler's kernel-visible name.
    pub scheduler: String,
    /// The policy file it was compiled from, when the reader knows it.
    pub policy: Option<String>,
    /// The object file it was loaded from, when the reader knows it.
    pub object: Option<String>,
    #[serde(flatten)]
    pub body: Body,
}

/// What a record reports, named by its `record` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Body {
    /// The scheduler was attached (again, after a restart) with these
    /// parameter values; statistics start from here.
    Attached { params: Vec<Setting> },
    /// A reading at the end of an interval.
    Interval {
        /// The length of the interval the deltas and rates cover.
        interval_ns: u64,
        stats: Vec<Sample>,
    },
    /// The kernel asked for a restart, and the scheduler is being loaded
    /// and attached again.
    Restart {
        /// 1 for the first restart in the window, and so on.
        attempt: u32,
        /// At most this many restarts ...
        limit: u32,
        /// ... within this many nanoseconds.
        window_ns: u64,
        exit: Exit,
    },
    /// The last record: why the scheduler stopped and its final statistics.
    Exit {
        stop: Stop,
        /// The kernel's exit record; `None` if the object keeps none.
        exit: Option<Exit>,
        stats: Vec<Sample>,
    },
}

/// A parameter and the value it was loaded with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawTyped")]
pub struct Setting {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ValueType,
    pub unit: Unit,
    pub value: Value,
}

/// A statistic's reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawTyped")]
pub struct Sample {
    pub name: String,
    pub kind: StatKind,
    #[serde(rename = "type")]
    pub ty: ValueType,
    pub unit: Unit,
    pub value: Value,
    /// For a counter, how much it grew since the previous reading (its
    /// value, if it went down: the scheduler was loaded again); `None` for
    /// a gauge.
    pub delta: Option<u64>,
    /// For a counter, `delta` per second of the interval; `None` for a gauge.
    pub rate: Option<f64>,
}

/// What a value counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A duration in nanoseconds.
    Ns,
    /// A point in time: nanoseconds since boot.
    NsSinceBoot,
    /// A plain number.
    Count,
    /// True or false.
    Bool,
}

impl Unit {
    /// The unit of values of type `ty`.
    pub fn of(ty: ValueType) -> Unit {
        match ty {
            ValueType::Duration => Unit::Ns,
            ValueType::Time => Unit::NsSinceBoot,
            ValueType::Int | ValueType::Uint => Unit::Count,
            ValueType::Bool => Unit::Bool,
        }
    }
}

/// Why the scheduler stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// `--duration` elapsed.
    DurationElapsed,
    /// SIGINT or SIGTERM.
    Signal,
    /// The kernel stopped it (an error, a stall, SysRq-S, or a restart
    /// request beyond the restart limit).
    Ejected,
    /// Seen by `schedc stats`: the program running it detached it.
    Detached,
}

/// The kernel's exit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    /// `enum scx_exit_kind`.
    pub kind: i32,
    /// Its name, e.g. `SCX_EXIT_UNREG`.
    pub kind_name: String,
    pub exit_code: i64,
    /// Whether `exit_code` asks for a restart.
    pub restart: bool,
    /// The kernel's reason, e.g. `runnable task stall`.
    pub reason: String,
    /// The kernel's or the scheduler's message.
    pub message: String,
    /// The kernel's debug dump, line by line; empty when it gave none.
    pub dump: Vec<String>,
}

impl Record {
    /// A record of the current version, stamped now.
    pub fn new(elapsed: Duration, scheduler: &str, body: Body) -> Record {
        Record {
            version: VERSION,
            time: rfc3339(SystemTime::now()),
            elapsed_ns: u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            scheduler: scheduler.to_string(),
            policy: None,
            object: None,
            body,
        }
    }

    /// One line of JSON, without the newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a record always serialises")
    }

    /// Reads one line of the stream, refusing other format versions.
    pub fn from_json(line: &str) -> Result<Record, String> {
        #[derive(Deserialize)]
        struct VersionOnly {
            schedc_stats: u32,
        }
        let found = serde_json::from_str::<VersionOnly>(line).map_err(|e| e.to_string())?.schedc_stats;
        if found != VERSION {
            return Err(format!("statistics record version {found} where this reader reads version {VERSION}"));
        }
        serde_json::from_str(line).map_err(|e| e.to_string())
    }
}

impl Setting {
    pub fn new(name: &str, value: Value) -> Setting {
        Setting { name: name.to_string(), ty: value.ty(), unit: Unit::of(value.ty()), value }
    }
}

impl Sample {
    /// A reading of a statistic, with `previous` the value it had at the
    /// last reading `interval` ago (`None` on the first).
    pub fn new(name: &str, kind: StatKind, value: Value, previous: Option<Value>, interval: Duration) -> Sample {
        let (delta, rate) = match kind {
            StatKind::Gauge => (None, None),
            StatKind::Counter => {
                let now = value.as_u64();
                let delta = match previous.map(Value::as_u64) {
                    Some(before) if before <= now => now - before,
                    _ => now,
                };
                let secs = interval.as_secs_f64();
                (Some(delta), Some(if secs > 0.0 { delta as f64 / secs } else { 0.0 }))
            }
        };
        Sample { name: name.to_string(), kind, ty: value.ty(), unit: Unit::of(value.ty()), value, delta, rate }
    }
}

/// A setting or sample as written, before its value is read as its type.
#[derive(Deserialize)]
struct RawTyped {
    name: String,
    #[serde(default)]
    kind: Option<StatKind>,
    #[serde(rename = "type")]
    ty: ValueType,
    unit: Unit,
    value: Scalar,
    #[serde(default)]
    delta: Option<u64>,
    #[serde(default)]
    rate: Option<f64>,
}

impl RawTyped {
    fn typed(&self) -> Result<Value, String> {
        if self.unit != Unit::of(self.ty) {
            return Err(format!("{} has unit {:?}, which a {} does not have", self.name, self.unit, self.ty.keyword()));
        }
        Value::from_scalar(self.ty, self.value).ok_or_else(|| format!("{} is not a {}", self.name, self.ty.keyword()))
    }
}

impl TryFrom<RawTyped> for Setting {
    type Error = String;
    fn try_from(raw: RawTyped) -> Result<Setting, String> {
        let value = raw.typed()?;
        Ok(Setting { name: raw.name, ty: raw.ty, unit: raw.unit, value })
    }
}

impl TryFrom<RawTyped> for Sample {
    type Error = String;
    fn try_from(raw: RawTyped) -> Result<Sample, String> {
        let value = raw.typed()?;
        let kind = raw.kind.ok_or_else(|| format!("statistic {} has no kind", raw.name))?;
        Ok(Sample { name: raw.name, kind, ty: raw.ty, unit: raw.unit, value, delta: raw.delta, rate: raw.rate })
    }
}

/// `t` as RFC 3339 in UTC with milliseconds, e.g. `2025-03-01T12:00:05.250Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// published days-to-civil algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day in a century year) 23:59:59.999
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_millis(951_868_799_999)), "2000-02-29T23:59:59.999Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_709_251_200)), "2024-03-01T00:00:00.000Z");
    }

    #[test]
    fn counters_get_deltas_and_rates_gauges_do_not() {
        let half = Duration::from_millis(500);
        let c = Sample::new("n", StatKind::Counter, Value::Uint(30), Some(Value::Uint(10)), half);
        assert_eq!((c.delta, c.rate), (Some(20), Some(40.0)));
        let first = Sample::new("n", StatKind::Counter, Value::Uint(7), None, half);
        assert_eq!(first.delta, Some(7));
        let reloaded = Sample::new("n", StatKind::Counter, Value::Uint(3), Some(Value::Uint(10)), half);
        assert_eq!(reloaded.delta, Some(3), "a counter that went down was loaded again");
        let g = Sample::new("g", StatKind::Gauge, Value::Duration(-5), Some(Value::Duration(1)), half);
        assert_eq!((g.delta, g.rate, g.unit), (None, None, Unit::Ns));
    }

    #[test]
    fn records_read_back_with_typed_values() {
        let body = Body::Interval {
            interval_ns: 1_000_000_000,
            stats: vec![
                Sample::new("slice", StatKind::Gauge, Value::Duration(-3), None, Duration::from_secs(1)),
                Sample::new("n", StatKind::Counter, Value::Uint(u64::MAX), None, Duration::from_secs(1)),
                Sample::new("on", StatKind::Gauge, Value::Bool(true), None, Duration::from_secs(1)),
            ],
        };
        let rec = Record::new(Duration::from_secs(2), "fifo", body);
        assert_eq!(Record::from_json(&rec.to_json()).unwrap(), rec);
        let v2 = rec.to_json().replacen("\"schedc_stats\":1", "\"schedc_stats\":2", 1);
        assert_eq!(
            Record::from_json(&v2).unwrap_err(),
            "statistics record version 2 where this reader reads version 1"
        );
        let wrong = rec.to_json().replacen("\"value\":true", "\"value\":1", 1);
        assert!(Record::from_json(&wrong).unwrap_err().contains("on is not a bool"));
    }
}
