//! Runqueue latency (runnable → running) of every task, whatever the
//! scheduler: the tracing probe built from `src/bpf/latency.bpf.c`, and the
//! histograms it fills.

mod histogram;
mod probe;

use std::time::{Duration, Instant};

use serde::Serialize;

pub use histogram::{readable_ns, slot_of, slot_range_us, Histogram, Summary, SLOTS};
pub use probe::{LatencyProbe, ProbeOptions, ProgCost};

use crate::run::{tick_loop, watch_signals, StopReason};
use crate::Error;

/// How [`measure`] measures.
#[derive(Debug, Clone, Copy)]
pub struct MeasureOptions {
    /// Stop after this long; `None` runs until SIGINT or SIGTERM.
    pub duration: Option<Duration>,
    /// How often `on_interval` is called.
    pub interval: Duration,
    pub probe: ProbeOptions,
}

/// The outcome of a [`measure`].
#[derive(Debug, Clone)]
pub struct MeasureReport {
    pub reason: StopReason,
    pub ran_for: Duration,
    /// Every wait of the run.
    pub latency: LatencyReport,
    pub probe_cost: Vec<ProgCost>,
}

/// Measures the runqueue latency under whatever scheduler the system runs,
/// calling `on_interval` with the waits of every `opts.interval`, until
/// `opts.duration` has elapsed or SIGINT/SIGTERM arrives.
pub fn measure<F>(opts: &MeasureOptions, mut on_interval: F) -> Result<MeasureReport, Error>
where
    F: FnMut(&LatencyReport),
{
    watch_signals();
    let mut probe = LatencyProbe::attach(None, &opts.probe)?;
    let started = Instant::now();
    let reason = tick_loop(
        opts.duration.map(|d| started + d),
        started,
        opts.interval,
        &mut probe,
        |_| false,
        |probe| {
            on_interval(&probe.interval()?);
            Ok(())
        },
        |_| {},
    )?;
    probe.interval()?;
    Ok(MeasureReport { reason, ran_for: started.elapsed(), latency: probe.total().clone(), probe_cost: probe.cost() })
}

/// The waits of one task class of the attached schedc scheduler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassLatency {
    /// The class's name in the policy; `none` for tasks in no class.
    pub class: String,
    pub histogram: Histogram,
}

/// The waits seen over some time: all of them, and by class when a schedc
/// scheduler with classes is attached.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LatencyReport {
    pub all: Histogram,
    /// One entry per class in rank order (highest first), then `none`;
    /// empty when no schedc scheduler with classes is attached.
    pub classes: Vec<ClassLatency>,
    /// Waits of tasks the scheduler keeps no class record for (yet), or
    /// whose class is beyond the probe's class slots.
    pub unattributed: Histogram,
}

impl LatencyReport {
    /// Adds every wait of `other`, which must have the same classes.
    pub fn merge(&mut self, other: &LatencyReport) {
        self.all.merge(&other.all);
        self.unattributed.merge(&other.unattributed);
        if self.classes.is_empty() {
            self.classes =
                other.classes.iter().map(|c| ClassLatency { histogram: Histogram::default(), ..c.clone() }).collect();
        }
        for (mine, theirs) in self.classes.iter_mut().zip(&other.classes) {
            debug_assert_eq!(mine.class, theirs.class);
            mine.histogram.merge(&theirs.histogram);
        }
    }

    /// The histogram of all tasks, then one per class, then the
    /// unattributed waits if there were any.
    pub fn render(&self) -> String {
        let mut out = self.all.render("all tasks");
        for c in &self.classes {
            out.push_str(&c.histogram.render(&format!("class {}", c.class)));
        }
        if self.unattributed.count() > 0 {
            out.push_str(&self.unattributed.render("no class record"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(classes: &[(&str, u64)]) -> LatencyReport {
        let mut r = LatencyReport::default();
        for (name, ns) in classes {
            let mut h = Histogram::default();
            h.record(*ns);
            r.all.record(*ns);
            r.classes.push(ClassLatency { class: name.to_string(), histogram: h });
        }
        r
    }

    #[test]
    fn merging_adds_class_by_class() {
        let mut total = LatencyReport::default();
        total.merge(&report(&[("interactive", 3_000), ("none", 900_000)]));
        total.merge(&report(&[("interactive", 5_000), ("none", 1_000)]));
        assert_eq!(total.all.count(), 4);
        assert_eq!(total.classes[0].class, "interactive");
        assert_eq!(total.classes[0].histogram.count(), 2);
        assert_eq!(total.classes[0].histogram.max_ns(), 5_000);
        assert_eq!(total.classes[1].histogram.max_ns(), 900_000);
    }

    #[test]
    fn renders_all_then_classes_and_unattributed_only_when_present() {
        let mut r = report(&[("interactive", 3_000), ("none", 900_000)]);
        let text = r.render();
        let titles: Vec<&str> =
            text.lines().filter(|l| !l.starts_with(' ')).map(|l| l.split(':').next().unwrap()).collect();
        assert_eq!(titles, ["all tasks", "class interactive", "class none"]);
        r.unattributed.record(1);
        assert!(r.render().contains("no class record: count 1"), "{}", r.render());
    }
}
