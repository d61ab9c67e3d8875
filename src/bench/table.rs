//! The table of medians over rounds, with their spread and ratios against
//! the default scheduler.

use std::fmt::Write;

use super::plan::Workload;
use super::results::{KernelResults, Measure, Results, Sample};

/// One number taken from each sample of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    WakeupP50,
    WakeupP99,
    WakeupMax,
    Seconds,
    RunqueueP99,
}

impl Metric {
    /// The metrics shown for `workload`, the first one its headline.
    pub fn of(workload: Workload) -> &'static [Metric] {
        match workload {
            Workload::Interactive => &[Metric::WakeupP50, Metric::WakeupP99, Metric::WakeupMax, Metric::RunqueueP99],
            _ => &[Metric::Seconds, Metric::RunqueueP99],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::WakeupP50 => "wake-up p50 (us)",
            Metric::WakeupP99 => "wake-up p99 (us)",
            Metric::WakeupMax => "wake-up max (us)",
            Metric::Seconds => "completion (s)",
            Metric::RunqueueP99 => "runqueue p99 (us)",
        }
    }

    pub fn value(self, sample: &Sample) -> Option<f64> {
        match (self, &sample.measure) {
            (Metric::WakeupP50, Measure::Wakeup(w)) => Some(w.p50_us as f64),
            (Metric::WakeupP99, Measure::Wakeup(w)) => Some(w.p99_us as f64),
            (Metric::WakeupMax, Measure::Wakeup(w)) => Some(w.max_us as f64),
            (Metric::Seconds, Measure::Completion { seconds }) => Some(*seconds),
            (Metric::RunqueueP99, _) => Some(sample.runqueue.p99_ns as f64 / 1000.0),
            _ => None,
        }
    }
}

/// The median and range of a metric over the rounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub rounds: usize,
}

impl Spread {
    pub fn of(mut values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
        Some(Spread { median, min: values[0], max: values[n - 1], rounds: n })
    }
}

/// The spread of `metric` for `workload` under `scheduler` in one boot.
pub fn spread(kernel: &KernelResults, workload: Workload, scheduler: &str, metric: Metric) -> Option<Spread> {
    let values = kernel
        .samples
        .iter()
        .filter(|s| s.workload == workload && s.scheduler == scheduler)
        .filter_map(|s| metric.value(s));
    Spread::of(values.collect())
}

/// A policy's median over the default's; `None` without both.
pub fn ratio(kernel: &KernelResults, workload: Workload, scheduler: &str, metric: Metric) -> Option<f64> {
    let base = spread(kernel, workload, "default", metric)?.median;
    let mine = spread(kernel, workload, scheduler, metric)?.median;
    (base > 0.0).then(|| mine / base)
}

fn number(v: f64, metric: Metric) -> String {
    match metric {
        Metric::Seconds => format!("{v:.2}"),
        _ => format!("{v:.0}"),
    }
}

/// Every kernel's table, one after another.
pub fn render(results: &Results) -> String {
    let mut out = String::new();
    for kernel in &results.kernels {
        let floor =
            kernel.floor.map_or("not measured".to_string(), |f| format!("p50 {} / p99 {} us", f.p50_us, f.p99_us));
        let _ = writeln!(
            out,
            "kernel {} ({}), mode {} ({}), {} rounds; idle floor {floor}",
            kernel.release,
            kernel.kernel,
            kernel.mode.name(),
            kernel.mode_reason,
            results.rounds
        );
        let mut rows = vec![std::iter::once("workload".to_string())
            .chain(std::iter::once("metric".to_string()))
            .chain(results.schedulers.iter().cloned())
            .collect::<Vec<_>>()];
        for &workload in &results.workloads {
            for &metric in Metric::of(workload) {
                let mut row = vec![workload.name().to_string(), metric.name().to_string()];
                for scheduler in &results.schedulers {
                    let left_out = kernel.left_out.iter().any(|n| &n.scheduler == scheduler);
                    let cell = match spread(kernel, workload, scheduler, metric) {
                        None if left_out => "left out".to_string(),
                        None => "-".to_string(),
                        Some(s) => {
                            let mut cell = format!(
                                "{} [{}-{}]",
                                number(s.median, metric),
                                number(s.min, metric),
                                number(s.max, metric)
                            );
                            if scheduler != "default" {
                                if let Some(r) = ratio(kernel, workload, scheduler, metric) {
                                    let _ = write!(cell, " x{r:.2}");
                                }
                            }
                            cell
                        }
                    };
                    row.push(cell);
                }
                rows.push(row);
            }
        }
        out.push_str(&columns(&rows));
        for not in &kernel.left_out {
            let _ = writeln!(out, "{} left out on this kernel: {}", not.scheduler, one_line(&not.reason));
        }
        out.push('\n');
    }
    for reference in &results.references {
        let _ = writeln!(out, "{}: the hand-written object {}", reference.label, reference.object);
    }
    out.push_str(
        "cells: median [min-max] over the rounds; xR: the median over the default scheduler's (below 1 is better)\n",
    );
    out
}

/// A reason as one line: libbpf's log has many, and the last ones say why.
fn one_line(reason: &str) -> String {
    const KEEP: usize = 3;
    let lines: Vec<&str> = reason.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut kept: Vec<&str> = lines.iter().take(1).copied().collect();
    if lines.len() > 1 + KEEP {
        kept.push("...");
    }
    kept.extend(lines.iter().skip(1.max(lines.len().saturating_sub(KEEP))));
    kept.join(" / ")
}

/// Rows laid out in columns two spaces apart.
fn columns(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_rounds_is_the_middle_mean() {
        let s = Spread::of(vec![3.0, 1.0, 10.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.rounds), (2.5, 1.0, 10.0, 4));
        assert_eq!(Spread::of(Vec::new()), None);
    }
}
