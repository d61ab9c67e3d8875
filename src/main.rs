//! The `schedc` command line: check, compile and run scheduling policies.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check;
mod compile;
mod error;
mod lsp;
mod run;
mod vm;

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
        /// A policy file or a compiled object.
        #[arg(value_name = "TARGET")]
        target: PathBuf,
        #[command(flatten)]
        args: run::RunArgs,
        /// Run inside a QEMU guest booted from a sched_ext kernel, beside a
        /// stress-ng load, instead of on this machine: for trying policies
        /// where the running kernel has no sched_ext. The guest's output is
        /// shown when it powers off (--duration defaults to 10s here).
        #[arg(long)]
        vm: bool,
        /// The kernel for --vm; by default the first in ../shared/kernels
        /// (or $SCHEDC_KERNELS_DIR).
        #[arg(long, value_name = "KERNEL", requires = "vm")]
        kernel: Option<PathBuf>,
    },
    /// Serve editors over stdio with the Language Server Protocol.
    ///
    /// Diagnostics as you type, hover, go to definition, find references and
    /// completion for policy files; start it from the editor, not by hand
    /// (docs/editors.md shows how).
    Lsp,
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
        Command::Check { files } => Ok(check::check(&files)),
        Command::Compile { policy, output, emit } => {
            compile::compile(&policy, output, emit == Emit::C).map(|()| ExitCode::SUCCESS)
        }
        Command::Lsp => Ok(lsp::serve()),
        Command::Run { target, args, vm: false, .. } => run::run(&target, &args),
        Command::Run { target, args, vm: true, kernel } => vm::run_in_vm(&target, kernel, &args),
    };
    outcome.unwrap_or_else(|error| {
        error::print(&error);
        ExitCode::FAILURE
    })
}
