//! How `schedc run` and `schedc stats` show a scheduler's statistics: a
//! table for people, or one JSON record per line (schedc_abi::stats) for
//! scripts, and the block saying why it stopped.

use std::collections::HashMap;
use std::time::Duration;

use schedc_abi::stats::{Body, Record, Sample, Setting, Stop};
use schedc_runtime::{ExitInfo, Param, Stat, Value};

/// How statistics are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsFormat {
    /// A row of values every interval, for people.
    #[default]
    Table,
    /// One JSON object per interval on stdout (docs/stats.md); everything
    /// else goes to stderr.
    Json,
}

/// Prints one scheduler's statistics as they come, in one format.
pub struct StatsPrinter {
    format: StatsFormat,
    interval: Duration,
    scheduler: String,
    policy: Option<String>,
    object: Option<String>,
    /// Each statistic's value at the previous reading, for deltas.
    previous: HashMap<String, Value>,
    /// When the previous reading was taken, since attach.
    previous_at: Duration,
}

impl StatsPrinter {
    pub fn new(format: StatsFormat, interval: Duration, scheduler: &str) -> StatsPrinter {
        StatsPrinter {
            format,
            interval,
            scheduler: scheduler.to_string(),
            policy: None,
            object: None,
            previous: HashMap::new(),
            previous_at: Duration::ZERO,
        }
    }

    /// Names the policy or object file in JSON records.
    pub fn source(mut self, policy: Option<String>, object: Option<String>) -> StatsPrinter {
        self.policy = policy;
        self.object = object;
        self
    }

    /// The scheduler now running, after a swap: records name it from now on.
    pub fn now_running(&mut self, scheduler: &str) {
        self.scheduler = scheduler.to_string();
    }

    /// A line for people: on stdout with the table, on stderr beside JSON.
    pub fn say(&self, line: &str) {
        match self.format {
            StatsFormat::Table => println!("{line}"),
            StatsFormat::Json => eprintln!("{line}"),
        }
    }

    fn emit(&self, elapsed: Duration, body: Body) {
        let mut record = Record::new(elapsed, &self.scheduler, body);
        record.policy.clone_from(&self.policy);
        record.object.clone_from(&self.object);
        println!("{}", record.to_json());
    }

    /// The scheduler was attached (again): the parameters, and the table's
    /// header. Deltas start from `stats`.
    pub fn attached(&mut self, params: &[(Param, Value)], stats: &[(Stat, Value)]) {
        self.previous = stats.iter().map(|(s, v)| (s.name.clone(), *v)).collect();
        self.previous_at = Duration::ZERO;
        match self.format {
            StatsFormat::Json => {
                let params = params.iter().map(|(p, v)| Setting::new(&p.name, *v)).collect();
                self.emit(Duration::ZERO, Body::Attached { params });
            }
            StatsFormat::Table => {
                for (p, v) in params {
                    println!("param {}={v}", p.name);
                }
                if !stats.is_empty() {
                    let names: Vec<String> = stats.iter().map(|(s, _)| format!("{:>14}", s.name)).collect();
                    println!("{:>8} {}", "time", names.join(" "));
                }
            }
        }
    }

    /// A reading `since_attach` after the scheduler was attached.
    pub fn interval(&mut self, stats: &[(Stat, Value)], since_attach: Duration) {
        match self.format {
            StatsFormat::Json => {
                let covered = since_attach.saturating_sub(self.previous_at);
                let samples = self.samples(stats, covered);
                let interval_ns = u64::try_from(covered.as_nanos()).unwrap_or(u64::MAX);
                self.emit(since_attach, Body::Interval { interval_ns, stats: samples });
            }
            StatsFormat::Table if !stats.is_empty() => {
                let values: Vec<String> = stats.iter().map(|(_, v)| format!("{:>14}", readable(v))).collect();
                let ticks = (since_attach.as_secs_f64() / self.interval.as_secs_f64()).round();
                println!("{:>7}s {}", (ticks * self.interval.as_secs_f64()).round(), values.join(" "));
            }
            StatsFormat::Table => {}
        }
        self.remember(stats, since_attach);
    }

    /// The kernel asked for a restart and the scheduler is loaded again.
    pub fn restarting(&mut self, exit: &ExitInfo, since_attach: Duration, attempt: u32, limit: u32, window: Duration) {
        self.say(&format!(
            "restarting {} ({attempt} of at most {limit} restarts in {}s): the kernel asked for it when it stopped \
             the scheduler: {}",
            self.scheduler,
            window.as_secs(),
            exit
        ));
        if self.format == StatsFormat::Json {
            let window_ns = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX);
            self.emit(since_attach, Body::Restart { attempt, limit, window_ns, exit: exit.to_record() });
        }
    }

    /// The last record, or the block for people: why the scheduler
    /// stopped, the kernel's exit record with its message and dump, and the
    /// final values.
    pub fn stopped(&mut self, stop: Stop, exit: Option<&ExitInfo>, stats: &[(Stat, Value)], since_attach: Duration) {
        if self.format == StatsFormat::Json {
            let covered = since_attach.saturating_sub(self.previous_at);
            let samples = self.samples(stats, covered);
            self.emit(since_attach, Body::Exit { stop, exit: exit.map(ExitInfo::to_record), stats: samples });
        }
        for line in exit_block(exit) {
            self.say(&line);
        }
        for (s, v) in stats {
            self.say(&format!("final {}={v}  # {}", s.name, s.doc));
        }
    }

    fn samples(&self, stats: &[(Stat, Value)], covered: Duration) -> Vec<Sample> {
        stats
            .iter()
            .map(|(s, v)| Sample::new(&s.name, s.kind, *v, self.previous.get(&s.name).copied(), covered))
            .collect()
    }

    fn remember(&mut self, stats: &[(Stat, Value)], at: Duration) {
        self.previous = stats.iter().map(|(s, v)| (s.name.clone(), *v)).collect();
        self.previous_at = at;
    }
}

/// The kernel's side of a stop, one fact per line: the exit kind and
/// reason, the message, the exit code when it says something, and the
/// dump's lines.
pub fn exit_block(exit: Option<&ExitInfo>) -> Vec<String> {
    let Some(exit) = exit else {
        return vec!["exit: (no exit record: the object keeps none, or it was not written)".into()];
    };
    let mut lines = vec![format!("exit: {} ({})", exit.kind_name(), exit.reason)];
    if !exit.msg.is_empty() {
        lines.push(format!("  message: {}", exit.msg));
    }
    if exit.exit_code != 0 {
        let mut meaning = Vec::new();
        if exit.wants_restart() {
            meaning.push("restart requested");
        }
        if exit.exit_code & schedc_abi::exit::ECODE_RSN_HOTPLUG != 0 {
            meaning.push("a CPU went on- or offline");
        }
        let meaning = if meaning.is_empty() { String::new() } else { format!(" ({})", meaning.join(", ")) };
        lines.push(format!("  exit code: {:#x}{meaning}", exit.exit_code));
    }
    let dump = exit.dump_lines();
    if !dump.is_empty() {
        lines.push(format!("  kernel dump ({} lines):", dump.len()));
        lines.extend(dump.iter().map(|l| format!("    {l}")));
    }
    lines
}

/// A statistic as a person reads it: durations rounded to a sensible unit
/// (the final report keeps exact values).
fn readable(value: &Value) -> String {
    match *value {
        Value::Duration(ns) => schedc_abi::units::rounded(i128::from(ns)),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(kind: i32, code: i64, msg: &str, dump: &str) -> ExitInfo {
        ExitInfo { kind, exit_code: code, reason: "why".into(), msg: msg.into(), dump: dump.into() }
    }

    #[test]
    fn the_exit_block_names_the_kind_message_code_and_dump() {
        let block = exit_block(Some(&exit(1026, 0, "t[1] failed to run for 5s", "Debug dump\n  CPU 0\n\n")));
        assert_eq!(
            block,
            [
                "exit: SCX_EXIT_ERROR_STALL (why)",
                "  message: t[1] failed to run for 5s",
                "  kernel dump (2 lines):",
                "    Debug dump",
                "      CPU 0"
            ]
        );
        let code = schedc_abi::exit::ECODE_ACT_RESTART | schedc_abi::exit::ECODE_RSN_HOTPLUG;
        let block = exit_block(Some(&exit(66, code, "", "")));
        assert_eq!(
            block,
            [
                "exit: SCX_EXIT_UNREG_KERN (why)",
                "  exit code: 0x1000100000000 (restart requested, a CPU went on- or offline)"
            ]
        );
    }

    #[test]
    fn durations_are_rounded_for_the_table() {
        assert_eq!(readable(&Value::Duration(999)), "999ns");
        assert_eq!(readable(&Value::Duration(1_500)), "1.5us");
        assert_eq!(readable(&Value::Duration(2_500_000)), "2.50ms");
        assert_eq!(readable(&Value::Uint(7)), "7");
    }
}
