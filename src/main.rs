//! The `schedc` command line: check, compile and run scheduling policies.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod bench;
mod check;
mod compile;
mod error;
mod explain;
mod fmt;
mod generate;
mod latency;
mod lsp;
mod output;
mod report;
mod run;
mod stats;
mod verifier;
mod vm;
mod watch;

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
        #[command(flatten)]
        diagnostics: output::DiagnosticArgs,
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
        /// Where to write the output; `-` writes it to stdout.
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        /// What to write: the C source, or the object built from it.
        #[arg(long, value_enum, default_value_t = Emit::Obj)]
        emit: Emit,
        #[command(flatten)]
        diagnostics: output::DiagnosticArgs,
    },
    /// Compile, load and attach a scheduler, show its statistics, detach.
    ///
    /// TARGET is a policy (compiled on the fly) or an object from `schedc
    /// compile`. Needs root and a kernel with sched_ext. Stops after
    /// --duration, on Ctrl-C, or when the kernel ejects the scheduler, and
    /// then prints why it stopped and the final statistics. With --watch,
    /// each save of the policy swaps in the new scheduler.
    Run {
        /// A policy file or a compiled object; without it, --latency
        /// measures the running scheduler as `schedc latency` does.
        #[arg(value_name = "TARGET", required_unless_present = "latency")]
        target: Option<PathBuf>,
        #[command(flatten)]
        args: run::RunArgs,
        #[command(flatten)]
        watch: watch::WatchArgs,
        /// Run inside a QEMU guest booted from a sched_ext kernel, beside a
        /// stress-ng load, instead of on this machine: for trying policies
        /// where the running kernel has no sched_ext. The guest's output is
        /// shown as it comes (--duration defaults to 10s here, except with
        /// --watch, which runs until Ctrl-C).
        #[arg(long, requires = "target")]
        vm: bool,
        /// The kernel for --vm; by default the first in $SCHEDC_KERNELS_DIR,
        /// else a sched_ext kernel in /boot (CONFIG_SCHED_CLASS_EXT=y in its
        /// config), else ../shared/kernels.
        #[arg(long, value_name = "KERNEL", requires = "vm")]
        kernel: Option<PathBuf>,
        /// With --vm: boot the guest with this many sockets of two CPUs,
        /// each its own last-level cache and NUMA node, to try `per_llc`
        /// and `per_node` queues (1: two CPUs, no topology).
        #[arg(long, value_name = "N", default_value_t = 1, requires = "vm",
              value_parser = clap::value_parser!(u32).range(1..=8))]
        sockets: u32,
    },
    /// Follow the statistics of the schedc scheduler attached right now.
    ///
    /// From another terminal while `schedc run` (or anything else) has a
    /// scheduler built by schedc attached: prints the same table as
    /// `schedc run`, or its JSON records, until the scheduler stops, and
    /// follows a schedc scheduler attached in its place (a restart or a
    /// swap). Needs root; needs nothing from the program that attached it.
    Stats {
        #[command(flatten)]
        args: stats::StatsArgs,
    },
    /// Serve editors over stdio with the Language Server Protocol.
    ///
    /// Diagnostics as you type, hover, go to definition, find references and
    /// completion for policy files; start it from the editor, not by hand
    /// (docs/editors.md shows how).
    Lsp,
    /// Rewrite policies in the canonical layout.
    ///
    /// One declaration, rule or statement per line, four-space blocks, single
    /// spaces around operators, durations in their largest exact unit and
    /// consecutive declarations aligned; comments stay where they were. A
    /// policy with syntax errors is refused, never rewritten. `-` formats
    /// standard input to standard output.
    Fmt {
        /// Change nothing: name the files that would change and exit with 1
        /// if there are any.
        #[arg(long)]
        check: bool,
        /// Policy files to format, or `-` for standard input.
        #[arg(required = true, value_name = "POLICY")]
        files: Vec<PathBuf>,
    },
    /// Explain a policy in plain sentences, in the order the kernel uses it.
    ///
    /// For reviewers who do not read BPF C: the parameters, queues and
    /// classes, then what happens when a task wakes up, is queued, runs and
    /// stops, how a CPU picks its next task, and the slice and vruntime
    /// formulas.
    Explain {
        /// The policy to explain.
        #[arg(value_name = "POLICY")]
        policy: PathBuf,
    },
    /// Print a shell completion script for schedc.
    ///
    /// For example: `schedc completions bash > ~/.local/share/bash-completion/completions/schedc`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page of schedc (roff), e.g. `schedc man > schedc.1`.
    Man,
    /// Compare policies against the kernel's default scheduler in a VM.
    ///
    /// Boots one QEMU guest per kernel and, in that boot, runs each workload
    /// (cyclictest beside CPU hogs, hackbench over pipes and sockets, CPU-bound
    /// work) under the default scheduler and under each policy in turn, for
    /// --rounds rounds, with the runqueue-latency probe on. Prints a table of
    /// medians with their spread and ratios against the default, and writes
    /// results.json, table.txt and bench.svg into --out. See docs/benchmarks.md.
    Bench {
        #[command(flatten)]
        args: bench::BenchArgs,
    },
    /// The guest side of `schedc bench`: runs a plan written by the host.
    #[command(hide = true)]
    BenchGuest { plan: PathBuf },
    /// Measure runqueue latency under whatever scheduler the system runs.
    ///
    /// Attaches a small tracing probe to the scheduler tracepoints and
    /// prints, every --interval and at the end, a log2 histogram of how
    /// long tasks waited between becoming runnable and running, with count,
    /// p50, p90, p99 and max. Needs root, not sched_ext: it works the same
    /// under the kernel's default scheduler. See docs/latency.md.
    Latency {
        /// Measure for this long (e.g. 10s); without it, until Ctrl-C.
        #[arg(short, long, value_parser = run::parse_duration)]
        duration: Option<std::time::Duration>,
        /// How often to print the histograms.
        #[arg(short, long, default_value = "1s", value_parser = run::parse_interval)]
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
    let outcome = match cli.command {
        Command::Check { files, diagnostics } => Ok(check::check(&files, &diagnostics)),
        Command::Compile { policy, output, emit, diagnostics } => {
            compile::compile(&policy, output, emit == Emit::C, &diagnostics).map(|()| ExitCode::SUCCESS)
        }
        Command::Stats { args } => stats::stats(&args),
        Command::Lsp => Ok(lsp::serve()),
        Command::Fmt { check, files } => Ok(fmt::fmt(&files, check)),
        Command::Explain { policy } => explain::explain(&policy),
        Command::Completions { shell } => Ok(generate::completions(shell, Cli::command())),
        Command::Man => generate::man(Cli::command()),
        Command::Run { target: None, args, .. } => latency::measure(&args.latency_args()),
        Command::Run { target: Some(target), args, vm: false, watch, .. } => match (watch.watch, &watch.swap_from) {
            (true, _) => watch::run_watching(&target, &args),
            (false, Some(device)) => watch::run_receiving(&target, device, &args),
            (false, None) => run::run(&target, &args),
        },
        Command::Run { target: Some(target), args, vm: true, kernel, watch, sockets } => {
            vm::run_in_vm(&target, kernel, sockets, &args, watch.watch)
        }
        Command::Bench { args } => bench::bench(&args),
        Command::BenchGuest { plan } => bench::guest(&plan),
        Command::Latency { duration, interval, probe_cost } => {
            latency::measure(&latency::LatencyArgs { duration, interval, probe_cost })
        }
    };
    outcome.unwrap_or_else(|error| {
        error::print(&error);
        ExitCode::FAILURE
    })
}
