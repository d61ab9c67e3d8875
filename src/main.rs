//! The `schedc` command line: check, compile and run scheduling policies.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
mod latency;

/// Compile declarative scheduling policies into Linux sched_ext schedulers.
///
/// A policy is a small text file that names the scheduler's queues, how tasks
/// are classified, which CPU a waking task goes to, the order queues are
/// served in and the time-slice formula. schedc checks it, renders readable
/// BPF C, builds it with clang and loads it into a kernel with sched_ext.
///
/// Start with `schedc check policies/bpfland.policy`; the language is
/// described in docs/language.md.
#[derive(Parser)]
#[command(name = "schedc", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check policies and report every mistake with file, line and column.
    ///
    /// Prints one summary line per good policy and a diagnostic for every
    /// error and warning. Exits with 1 if any policy has an error.
    Check {
        /// Policy files to check.
        #[arg(required = true, value_name = "POLICY")]
        files: Vec<PathBuf>,
    },
    /// Compile a policy into BPF C (for review) or a BPF object.
    ///
    /// The object is built with clang 16 or newer: $CLANG, else `clang`,
    /// else the newest `clang-N` on PATH. Without -o the output lands beside the policy, as
    /// NAME.bpf.o or NAME.bpf.c.
    Compile {
        /// The policy to compile.
        #[arg(value_name = "POLICY")]
        policy: PathBuf,
        /// Where to write the output.
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        /// What to write: the C source, or the object built from it.
        #[arg(long, value_enum, default_value_t = Emit::Obj)]
        emit: Emit,
    },
    /// Compile, load and attach a scheduler, show its statistics, detach.
    ///
    /// TARGET is a policy (compiled on the fly) or an object from `schedc
    /// compile`. Needs root and a kernel with sched_ext. Stops after
    /// --duration, on Ctrl-C, or when the kernel ejects the scheduler, and
    /// then prints why it stopped and the final statistics.
    Run {
        /// A policy file or a compiled object; without it, --latency
        /// measures the running scheduler as `schedc latency` does.
        #[arg(value_name = "TARGET", required_unless_present = "latency")]
        target: Option<PathBuf>,
        /// Run for this long (e.g. 10s, 500ms); without it, until Ctrl-C.
        #[arg(short, long, value_parser = commands::parse_duration)]
        duration: Option<std::time::Duration>,
        /// Override a parameter before loading, e.g. --set slice_max=2ms.
        #[arg(long = "set", value_name = "NAME=VALUE", value_parser = commands::parse_assignment, requires = "target")]
        overrides: Vec<(String, String)>,
        /// How often to print the statistics.
        #[arg(short, long, default_value = "1s", value_parser = commands::parse_interval)]
        interval: std::time::Duration,
        /// Print how many instructions the kernel's verifier processed per program.
        #[arg(long)]
        verifier_stats: bool,
        /// Also measure runqueue latency (runnable to running) with a
        /// tracing probe, and print its log2 histograms every interval and
        /// at the end: for all tasks and for each class of the policy.
        #[arg(long)]
        latency: bool,
        /// With --latency: turn on the kernel's BPF statistics and print
        /// what the probe costs per event.
        #[arg(long, requires = "latency")]
        probe_cost: bool,
        /// Run inside a QEMU guest booted from a sched_ext kernel, beside a
        /// stress-ng load, instead of on this machine: for trying policies
        /// where the running kernel has no sched_ext. The guest's output is
        /// shown when it powers off (--duration defaults to 10s here).
        #[arg(long, requires = "target")]
        vm: bool,
        /// The kernel for --vm; by default the first in ../shared/kernels
        /// (or $SCHEDC_KERNELS_DIR).
        #[arg(long, value_name = "KERNEL", requires = "vm")]
        kernel: Option<PathBuf>,
    },
    /// Measure runqueue latency under whatever scheduler the system runs.
    ///
    /// Attaches a small tracing probe to the scheduler tracepoints and
    /// prints, every --interval and at the end, a log2 histogram of how
    /// long tasks waited between becoming runnable and running, with count,
    /// p50, p90, p99 and max. Needs root, not sched_ext: it works the same
    /// under the kernel's default scheduler. See docs/latency.md.
    Latency {
        /// Measure for this long (e.g. 10s); without it, until Ctrl-C.
        #[arg(short, long, value_parser = commands::parse_duration)]
        duration: Option<std::time::Duration>,
        /// How often to print the histograms.
        #[arg(short, long, default_value = "1s", value_parser = commands::parse_interval)]
        interval: std::time::Duration,
        /// Turn on the kernel's BPF statistics and print what the probe
        /// costs per event.
        #[arg(long)]
        probe_cost: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Emit {
    /// Readable BPF C.
    C,
    /// A BPF object, ready for `schedc run`.
    Obj,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { files } => commands::check(&files),
        Command::Compile { policy, output, emit } => commands::compile(&policy, output, emit == Emit::C),
        Command::Run { target, duration, overrides, interval, verifier_stats, latency, probe_cost, vm, kernel } => {
            let measure = latency::LatencyArgs { duration, interval, probe_cost };
            let opts = commands::RunArgs {
                duration,
                overrides,
                interval,
                verifier_stats,
                latency: latency.then_some(measure),
            };
            match target {
                None => latency::measure(&measure),
                Some(target) if vm => commands::run_in_vm(&target, kernel, &opts),
                Some(target) => commands::run(&target, &opts),
            }
        }
        Command::Latency { duration, interval, probe_cost } => {
            latency::measure(&latency::LatencyArgs { duration, interval, probe_cost })
        }
    }
}
