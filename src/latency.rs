//! `schedc latency`, and the latency part of `schedc run --latency`: the
//! runqueue-latency histograms of the runtime's probe, printed.

use std::process::ExitCode;
use std::time::Duration;

use schedc_runtime::latency::{readable_ns, LatencyReport, MeasureOptions, ProbeOptions, ProgCost};
use schedc_runtime::{read_sched_ext_state, StopReason};

use crate::error::CliError;

/// The options `schedc latency` and `schedc run --latency` share.
#[derive(Debug, Clone, Copy)]
pub struct LatencyArgs {
    pub duration: Option<Duration>,
    pub interval: Duration,
    pub probe_cost: bool,
}

impl LatencyArgs {
    pub fn probe(&self) -> ProbeOptions {
        ProbeOptions { measure_cost: self.probe_cost }
    }
}

/// `schedc latency`: measures under whatever scheduler runs.
pub fn measure(args: &LatencyArgs) -> Result<ExitCode, CliError> {
    let under = match read_sched_ext_state() {
        Some(st) if st.state == "enabled" => {
            format!("sched_ext scheduler {}", st.ops.as_deref().unwrap_or("(unnamed)"))
        }
        _ => "the kernel's default scheduler".to_string(),
    };
    println!("measuring runqueue latency under {under}");
    let opts = MeasureOptions { duration: args.duration, interval: args.interval, probe: args.probe() };
    let mut ticks = 0u32;
    let result = schedc_runtime::latency::measure(&opts, |waits| {
        ticks += 1;
        print_interval(args.interval * ticks, waits);
    });
    let report = result?;
    let why = if report.reason == StopReason::Signal { "interrupted" } else { "the duration elapsed" };
    println!("stopped after {:.1}s ({why})", report.ran_for.as_secs_f64());
    print_total(report.ran_for, &report.latency, &report.probe_cost, args.probe_cost);
    Ok(ExitCode::SUCCESS)
}

/// The waits of the interval that ended `at` after the start.
pub fn print_interval(at: Duration, waits: &LatencyReport) {
    println!("latency at {}s", at.as_secs_f64());
    print!("{}", waits.render());
}

/// The waits of the whole run, then what the probe cost if it was measured.
pub fn print_total(ran_for: Duration, waits: &LatencyReport, cost: &[ProgCost], cost_asked: bool) {
    println!("latency over the run ({:.1}s)", ran_for.as_secs_f64());
    print!("{}", waits.render());
    if !cost.is_empty() {
        println!("{}", cost_line(cost));
    } else if cost_asked {
        println!("probe cost: the kernel kept no BPF run-time statistics");
    }
}

/// `probe cost: 181ns per event over 1234 events (latency_switch 200ns x 800, ...)`.
fn cost_line(cost: &[ProgCost]) -> String {
    let per = |time: u64, runs: u64| readable_ns(time / runs.max(1));
    let runs: u64 = cost.iter().map(|c| c.runs).sum();
    let time: u64 = cost.iter().map(|c| c.run_time_ns).sum();
    let each: Vec<String> =
        cost.iter().map(|c| format!("{} {} x {}", c.prog, per(c.run_time_ns, c.runs), c.runs)).collect();
    format!("probe cost: {} per event over {runs} events ({})", per(time, runs), each.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_total_time_over_total_runs() {
        let cost = [
            ProgCost { prog: "latency_switch".into(), runs: 800, run_time_ns: 160_000 },
            ProgCost { prog: "latency_wakeup".into(), runs: 200, run_time_ns: 20_000 },
        ];
        assert_eq!(
            cost_line(&cost),
            "probe cost: 180ns per event over 1000 events (latency_switch 200ns x 800, latency_wakeup 100ns x 200)"
        );
    }
}
