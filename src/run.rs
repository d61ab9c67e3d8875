//! `schedc run`: load and attach a scheduler on this machine, print its
//! statistics while it runs, and why it stopped.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use schedc_abi::stats::Stop;
use schedc_runtime::{read_sched_ext_state, OpenOptions, RunEvent, RunOptions, Scheduler, StopReason};

use crate::check::load;
use crate::compile::{build, is_bpf_object};
use crate::error::CliError;
use crate::latency::LatencyArgs;
use crate::output::DiagnosticArgs;
use crate::report::{StatsFormat, StatsPrinter};
use crate::verifier::{in_policy_terms, Generated};

/// The options of `schedc run`, on this machine or in a guest.
#[derive(clap::Args)]
pub struct RunArgs {
    /// Run for this long (e.g. 10s, 500ms); without it, until Ctrl-C.
    #[arg(short, long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Override a parameter before loading, e.g. --set slice_max=2ms.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_assignment, requires = "target")]
    pub overrides: Vec<(String, String)>,
    /// How often to print the statistics.
    #[arg(short, long, default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Print how many instructions the kernel's verifier processed per program.
    #[arg(long)]
    pub verifier_stats: bool,
    /// Also measure runqueue latency (runnable to running) with a tracing
    /// probe, and print its log2 histograms every interval and at the end:
    /// for all tasks and for each class of the policy.
    #[arg(long)]
    pub latency: bool,
    /// With --latency: turn on the kernel's BPF statistics and print what
    /// the probe costs per event.
    #[arg(long, requires = "latency")]
    pub probe_cost: bool,
    /// How to print the statistics: a table, or one JSON object per
    /// interval on stdout with everything else on stderr (docs/stats.md).
    #[arg(long, value_enum, default_value_t = StatsFormat::Table, value_name = "FORMAT")]
    pub stats: StatsFormat,
    /// The policy an object target was compiled from, and the name to show
    /// for it, so that a verifier refusal points at its line: `run --vm`
    /// passes them to the guest, which has the object and the policy's text.
    #[arg(long, hide = true, value_names = ["FILE", "NAME"], num_args = 2)]
    pub policy_source: Option<Vec<String>>,
}

impl RunArgs {
    /// The latency options these run options carry.
    pub fn latency_args(&self) -> LatencyArgs {
        LatencyArgs { duration: self.duration, interval: self.interval, probe_cost: self.probe_cost }
    }
}

/// A duration in the one syntax of policies and `--set` (schedc_abi::units):
/// `10s`, `500ms`, `250us`, `100ns`, `1_500ms`, or `0`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    schedc_abi::units::parse(text.trim()).map(std::time::Duration::from_nanos).map_err(|err| err.to_string())
}

/// A statistics interval: at least 10ms, so printing never floods.
pub fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(text)?;
    if d < std::time::Duration::from_millis(10) {
        return Err(format!("`{text}` is too short an interval: use 10ms or more"));
    }
    Ok(d)
}

/// `NAME=VALUE` for --set.
fn parse_assignment(text: &str) -> Result<(String, String), NotAnAssignment> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_string(), value.trim().to_string())),
        _ => Err(NotAnAssignment(text.to_string())),
    }
}

/// A --set argument without a name and `=`; clap reports it with the usage.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not NAME=VALUE, e.g. slice_max=2ms")]
struct NotAnAssignment(String);

/// The object to run: `target` itself, or a policy compiled into `dir`.
pub fn object_for(target: &Path, dir: &Path) -> Result<PathBuf, CliError> {
    if std::fs::read(target).is_ok_and(|bytes| is_bpf_object(&bytes)) {
        return Ok(target.to_path_buf());
    }
    let checked = load(target, &DiagnosticArgs::default())?;
    let obj = dir.join(format!("{}.bpf.o", checked.model.name));
    build(&checked, &obj)?;
    Ok(obj)
}

/// What `run` and `run --vm` share: one `--set` per name (which of two was
/// meant is a guess), then the object to run, in a directory that lives as
/// long as the returned handle.
pub fn prepare(target: &Path, args: &RunArgs) -> Result<(tempfile::TempDir, PathBuf), CliError> {
    check_set_once(args)?;
    let dir = temp_dir()?;
    let obj = object_for(target, dir.path())?;
    Ok((dir, obj))
}

/// One `--set` per name: which of two was meant is a guess.
pub fn check_set_once(args: &RunArgs) -> Result<(), CliError> {
    let names: Vec<&str> = args.overrides.iter().map(|(n, _)| n.as_str()).collect();
    if let Some(name) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)).map(|(_, n)| *n) {
        return Err(CliError::SetTwice { name: name.to_string() });
    }
    Ok(())
}

/// A private directory for compiled objects, removed when dropped.
pub fn temp_dir() -> Result<tempfile::TempDir, CliError> {
    tempfile::Builder::new().prefix("schedc-run-").tempdir().map_err(|source| CliError::TempDir { source })
}

/// Runs the scheduler until it is stopped, printing statistics on the way
/// and restarting it when the kernel asks; fails (after the report) if the
/// kernel ejected it or it exited with an error.
pub fn run(target: &Path, args: &RunArgs) -> Result<ExitCode, CliError> {
    let (_dir, obj) = prepare(target, args)?;
    run_object(target, &obj, args, |_| {})
}

/// What the kernel says is attached, once a scheduler has been attached or
/// swapped in.
fn say_kernel_state(printer: &StatsPrinter, scheduler: &Scheduler) {
    let dropped: Vec<&str> = scheduler.dropped_ops_flags().iter().map(|f| f.word()).collect();
    match dropped.as_slice() {
        [] => {}
        [one] => printer.say(&format!("this kernel does not know the ops flag {one}: running without it")),
        many => {
            printer.say(&format!("this kernel does not know the ops flags {}: running without them", many.join(", ")))
        }
    }
    let (state, ops) = read_sched_ext_state()
        .map_or(("unknown".to_string(), "none".to_string()), |s| (s.state, s.ops.unwrap_or_else(|| "none".into())));
    printer.say(&format!("attached: sched_ext state={state} ops={ops}"));
}

/// [`run`] of `obj`, prepared from `target`, with `poll` called between
/// statistics rows; it may replace the scheduler (`--watch`), and then the
/// table starts again with the new one's statistics.
pub fn run_object(
    target: &Path,
    obj: &Path,
    args: &RunArgs,
    poll: impl FnMut(&mut Scheduler),
) -> Result<ExitCode, CliError> {
    let manifest = schedc_runtime::read_manifest(obj)?;
    let (policy, object) = if obj == target { (None, Some(target)) } else { (Some(target), None) };
    let shown = |p: Option<&Path>| p.map(|p| p.display().to_string());
    let mut printer =
        StatsPrinter::new(args.stats, args.interval, &manifest.scheduler).source(shown(policy), shown(object));
    let opts = RunOptions {
        open: OpenOptions { overrides: args.overrides.clone() },
        duration: args.duration,
        interval: args.interval,
        ..RunOptions::default()
    };
    // Histograms are for people: beside JSON records they are left out.
    let table = args.stats == StatsFormat::Table;
    let mut attached_at = Instant::now();
    let mut running = PathBuf::new(); // the object whose statistics the table shows
    let mut intervals = 0u32; // since the run began, for the latency headings
    let probe = args.latency.then(|| args.latency_args().probe());
    let report = schedc_runtime::run_with(
        obj,
        &opts,
        probe,
        |event| match event {
            RunEvent::Attached { scheduler, stats } => {
                attached_at = Instant::now();
                running = scheduler.path().to_path_buf();
                say_kernel_state(&printer, scheduler);
                if args.verifier_stats {
                    for v in scheduler.verifier_stats() {
                        printer.say(&format!("verifier {} processed={} insns={}", v.prog, v.verified_insns, v.insns));
                    }
                }
                printer.attached(scheduler.params(), stats);
            }
            // A swap under --watch: the table starts again with the new names.
            RunEvent::Interval { scheduler, stats, .. } if scheduler.path() != running => {
                attached_at = Instant::now();
                running = scheduler.path().to_path_buf();
                printer.now_running(&scheduler.manifest().scheduler);
                say_kernel_state(&printer, scheduler);
                printer.attached(scheduler.params(), stats);
            }
            RunEvent::Interval { stats, since_attach, waits, .. } => {
                printer.interval(stats, since_attach);
                intervals += 1;
                if let (Some(waits), true) = (waits, table) {
                    crate::latency::print_interval(args.interval * intervals, waits);
                }
            }
            RunEvent::Restarting { exit, since_attach: t, attempt, limit, window, .. } => {
                printer.restarting(exit, t, attempt, limit, window);
            }
        },
        poll,
    )
    .map_err(|err| {
        in_policy_terms(err, || match args.policy_source.as_deref() {
            Some([file, name]) => Generated::from_policy_file(Path::new(file), name),
            _ => Generated::from_policy_file(target, &target.display().to_string()),
        })
    })?;
    let (why, stop) = match report.reason {
        StopReason::DurationElapsed => ("the duration elapsed", Stop::DurationElapsed),
        StopReason::Signal => ("interrupted", Stop::Signal),
        StopReason::Ejected => ("the kernel stopped the scheduler", Stop::Ejected),
    };
    let named = if policy.is_some() { format!(" ({})", target.display()) } else { String::new() };
    printer.say(&format!("stopped: {}{named} after {:.1}s ({why})", report.scheduler, report.ran_for.as_secs_f64()));
    if report.reason == StopReason::Ejected && report.exit.as_ref().is_some_and(|e| e.wants_restart()) {
        printer.say(&format!(
            "not restarted: the kernel asked for a restart, but {} restarts within {}s is the limit",
            opts.restart_limit,
            schedc_runtime::RESTART_WINDOW.as_secs()
        ));
    }
    printer.stopped(stop, report.exit.as_ref(), &report.stats, attached_at.elapsed());
    if let (Some(waits), true) = (&report.latency, table) {
        crate::latency::print_total(report.ran_for, waits, &report.probe_cost, args.probe_cost);
    }
    if report.reason == StopReason::Ejected || report.exit.as_ref().is_some_and(|e| e.is_error()) {
        Ok(ExitCode::FAILURE)
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod duration_tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn durations_on_the_command_line_follow_the_policy_syntax() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1_500us"), Ok(Duration::from_micros(1500)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("5").unwrap_err(), "`5` has no unit: add a unit, e.g. 5s or 5ms");
        assert!(parse_duration("0.5s").unwrap_err().contains("500ms"));
        assert!(parse_duration("9999999999s").unwrap_err().contains("too long"));
        assert_eq!(parse_interval("10ms"), Ok(Duration::from_millis(10)));
        assert!(parse_interval("9ms").unwrap_err().contains("10ms or more"));
    }
}
