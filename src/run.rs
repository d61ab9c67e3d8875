//! `schedc run`: load and attach a scheduler on this machine, print its
//! statistics while it runs, and why it stopped.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use schedc_runtime::{read_sched_ext_state, OpenOptions, RunOptions, StopReason};

use crate::check::load;
use crate::compile::{build, is_bpf_object};
use crate::error::CliError;
use crate::output::DiagnosticArgs;
use crate::verifier::{in_policy_terms, Generated};

/// The options of `schedc run`, on this machine or in a guest.
#[derive(clap::Args)]
pub struct RunArgs {
    /// Run for this long (e.g. 10s, 500ms); without it, until Ctrl-C.
    #[arg(short, long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Override a parameter before loading, e.g. --set slice_max=2ms.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_assignment)]
    pub overrides: Vec<(String, String)>,
    /// How often to print the statistics.
    #[arg(short, long, default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Print how many instructions the kernel's verifier processed per program.
    #[arg(long)]
    pub verifier_stats: bool,
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
fn object_for(target: &Path, dir: &Path) -> Result<PathBuf, CliError> {
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
    let names: Vec<&str> = args.overrides.iter().map(|(n, _)| n.as_str()).collect();
    if let Some(name) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)).map(|(_, n)| *n) {
        return Err(CliError::SetTwice { name: name.to_string() });
    }
    let dir =
        tempfile::Builder::new().prefix("schedc-run-").tempdir().map_err(|source| CliError::TempDir { source })?;
    let obj = object_for(target, dir.path())?;
    Ok((dir, obj))
}

/// Runs the scheduler until it is stopped, printing statistics on the way;
/// fails (after the report) if the kernel ejected it or it exited with an
/// error.
pub fn run(target: &Path, args: &RunArgs) -> Result<ExitCode, CliError> {
    let (_dir, obj) = prepare(target, args)?;
    let (interval, verifier_stats) = (args.interval, args.verifier_stats);
    let opts =
        RunOptions { open: OpenOptions { overrides: args.overrides.clone() }, duration: args.duration, interval };
    let mut ticks = 0u64;
    let report = schedc_runtime::run(&obj, &opts, |sched, stats| {
        if ticks == 0 {
            let state = read_sched_ext_state();
            let (state, ops) = state.map_or(("unknown".to_string(), "none".to_string()), |s| {
                (s.state, s.ops.unwrap_or_else(|| "none".to_string()))
            });
            println!("attached: sched_ext state={state} ops={ops}");
            for (p, v) in sched.params() {
                println!("param {}={v}", p.name);
            }
            if verifier_stats {
                for v in sched.verifier_stats() {
                    println!("verifier {} processed={} insns={}", v.prog, v.verified_insns, v.insns);
                }
            }
            if !stats.is_empty() {
                let names: Vec<String> = stats.iter().map(|(s, _)| format!("{:>14}", s.name)).collect();
                println!("{:>8} {}", "time", names.join(" "));
            }
        } else if !stats.is_empty() {
            let values: Vec<String> = stats.iter().map(|(_, v)| format!("{:>14}", readable(v))).collect();
            println!("{:>7}s {}", (ticks as f64 * interval.as_secs_f64()).round(), values.join(" "));
        }
        ticks += 1;
    })
    .map_err(|err| in_policy_terms(err, || Generated::from_policy_file(target)))?;
    let why = match report.reason {
        StopReason::DurationElapsed => "the duration elapsed",
        StopReason::Signal => "interrupted",
        StopReason::Ejected => "the kernel stopped the scheduler",
    };
    println!("stopped: {} after {:.1}s ({why})", report.scheduler, report.ran_for.as_secs_f64());
    if let Some(exit) = &report.exit {
        println!("exit: {exit}");
    }
    for (s, v) in &report.stats {
        println!("final {}={v}  # {}", s.name, s.doc);
    }
    if report.reason == StopReason::Ejected || report.exit.as_ref().is_some_and(|e| e.is_error()) {
        Ok(ExitCode::FAILURE)
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

/// A statistic as a person reads it: durations rounded to a sensible unit
/// (the final report keeps exact values).
fn readable(value: &schedc_runtime::Value) -> String {
    let schedc_runtime::Value::Duration(ns) = *value else { return value.to_string() };
    let x = ns as f64;
    match ns.unsigned_abs() {
        0..=999 => format!("{ns}ns"),
        1_000..=999_999 => format!("{:.1}us", x / 1e3),
        1_000_000..=999_999_999 => format!("{:.2}ms", x / 1e6),
        _ => format!("{:.2}s", x / 1e9),
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
