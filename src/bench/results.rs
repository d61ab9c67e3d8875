//! What the bench measured: the guest agent's events, and `results.json`,
//! which keeps every sample's summary (versioned, so old files are refused
//! rather than misread).

use serde::{Deserialize, Serialize};

use schedc_runtime::latency::{Histogram, SLOTS};

use super::plan::{Mode, Workload};

/// The version of `results.json` this schedc writes and reads.
pub const RESULTS_VERSION: u32 = 1;

/// What starts each line of the guest agent's events on its stdout.
pub const EVENT_PREFIX: &str = "schedc-bench ";

/// One thing the guest agent reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum AgentEvent {
    /// The idle guest's wake-up latency: what a scheduler that never lets
    /// the sleeper wait would give.
    Floor {
        wakeup: WakeupSummary,
    },
    /// The floor was above the plan's limit: the agent stopped there.
    FloorRejected {
        p99_us: u64,
        limit_us: u64,
    },
    /// A measurement begins.
    Start {
        workload: Workload,
        scheduler: String,
        round: u32,
    },
    Sample(Sample),
    /// A scheduler is left out of the rest of this boot's measurements: a
    /// reference this kernel would not load, attach or enable, or a
    /// scheduler the kernel ejected during a measurement.
    LeftOut(LeftOut),
    /// The agent could not go on.
    Failed {
        message: String,
    },
}

impl AgentEvent {
    /// The event as one line of the agent's output.
    pub fn line(&self) -> String {
        format!("{EVENT_PREFIX}{}", serde_json::to_string(self).expect("events serialize"))
    }

    /// The event a line of the agent's output carries, if it carries one.
    pub fn parse(line: &str) -> Option<Result<AgentEvent, serde_json::Error>> {
        line.strip_prefix(EVENT_PREFIX).map(serde_json::from_str)
    }
}

/// A scheduler left out of (the rest of) a boot, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    pub scheduler: String,
    pub reason: String,
}

/// A hand-written scheduler measured beside the policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceObject {
    /// Its name in the results: its sched_ext ops name, or else its file stem.
    pub label: String,
    /// The object as given on the command line.
    pub object: String,
}

/// One workload run under one scheduler in one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub workload: Workload,
    pub scheduler: String,
    pub round: u32,
    pub measure: Measure,
    /// Every task's runqueue latency during the run, from the probe.
    pub runqueue: RunqueueLatency,
}

/// What a workload yields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Measure {
    /// cyclictest's wake-up lateness.
    Wakeup(WakeupSummary),
    /// How long the work took to complete.
    Completion { seconds: f64 },
}

/// Wake-up lateness of the periodic task, exact over its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WakeupSummary {
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl WakeupSummary {
    /// The summary of `samples` (µs, any order); `None` when empty.
    pub fn of(mut samples: Vec<u64>) -> Option<WakeupSummary> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let rank = |p: f64| samples[((p / 100.0 * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
        Some(WakeupSummary {
            count: samples.len() as u64,
            p50_us: rank(50.0),
            p99_us: rank(99.0),
            max_us: *samples.last()?,
        })
    }
}

/// The probe's log2 histogram of runqueue latency, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunqueueLatency {
    /// Waits per log2 slot (slot 0: under 1 µs; slot k: [2^(k-1), 2^k) µs).
    pub slots: Vec<u64>,
    pub max_ns: u64,
    pub count: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
}

impl RunqueueLatency {
    pub fn of(histogram: &Histogram) -> RunqueueLatency {
        let s = histogram.summary();
        RunqueueLatency {
            slots: histogram.slots().to_vec(),
            max_ns: s.max_ns,
            count: s.count,
            p50_ns: s.p50_ns,
            p99_ns: s.p99_ns,
        }
    }

    /// Back to a histogram, to merge rounds and estimate percentiles.
    pub fn histogram(&self) -> Histogram {
        let mut slots = [0; SLOTS];
        for (to, from) in slots.iter_mut().zip(&self.slots) {
            *to = *from;
        }
        Histogram::from_slots(slots, self.max_ns)
    }
}

/// `results.json`: everything one `schedc bench` measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub version: u32,
    /// The command line, to say how to reproduce the numbers.
    pub command: String,
    pub rounds: u32,
    /// The schedulers in the order they ran, `default` first.
    pub schedulers: Vec<String>,
    pub workloads: Vec<Workload>,
    /// Which of the schedulers are hand-written objects (`--reference`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<ReferenceObject>,
    pub kernels: Vec<KernelResults>,
}

/// One boot's measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelResults {
    /// The kernel image's file name (`native` without a VM).
    pub kernel: String,
    /// `uname -r` where it ran.
    pub release: String,
    pub mode: Mode,
    /// Why this mode: asked for, or the idle floor of another rejected.
    pub mode_reason: String,
    pub floor: Option<WakeupSummary>,
    pub samples: Vec<Sample>,
    /// Schedulers left out, from the start (a reference this kernel would
    /// not run) or after the kernel ejected them (their samples so far stay).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
}

/// Why `results.json` cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("it is version {found}; this schedc reads version {RESULTS_VERSION}")]
    Version { found: u64 },
}

impl Results {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("results serialize") + "\n"
    }

    pub fn from_json(text: &str) -> Result<Results, ReadError> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        let found = value.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
        if found != u64::from(RESULTS_VERSION) {
            return Err(ReadError::Version { found });
        }
        Ok(serde_json::from_value(value)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakeup_percentiles_are_ranks_of_the_samples() {
        let s = WakeupSummary::of((1..=200).rev().collect()).unwrap();
        assert_eq!((s.count, s.p50_us, s.p99_us, s.max_us), (200, 100, 198, 200));
        assert_eq!(WakeupSummary::of(Vec::new()), None);
    }

    #[test]
    fn events_survive_their_line() {
        let event =
            AgentEvent::Start { workload: Workload::HackbenchPipe, scheduler: "bpfland.policy".into(), round: 2 };
        let line = event.line();
        assert!(line.starts_with("schedc-bench {\"event\":\"start\""), "{line}");
        assert_eq!(AgentEvent::parse(&line).unwrap().unwrap(), event);
        assert!(AgentEvent::parse("cyclictest: noise").is_none());
    }

    #[test]
    fn another_version_is_refused() {
        let err = Results::from_json(r#"{"version": 0}"#).unwrap_err();
        assert_eq!(err.to_string(), "it is version 0; this schedc reads version 1");
    }
}
