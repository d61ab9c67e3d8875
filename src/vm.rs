//! `schedc run --vm`: the same run inside a QEMU guest booted from a
//! sched_ext kernel, beside a stress-ng load, for machines whose kernel has
//! no sched_ext. The guest runs this very executable; its output is printed
//! when the guest powers off.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use schedc_runtime::vm::{Guest, GuestReport, KernelSearch};

use crate::error::CliError;
use crate::run::{prepare, RunArgs};

/// How long a run in a guest lasts when --duration is not given: a guest
/// cannot be interrupted with Ctrl-C.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// Time for the guest to boot and power off, on top of the run itself
/// (QEMU emulates the CPU, so booting takes a while).
const BOOT_ALLOWANCE: Duration = Duration::from_secs(300);

/// What the guest's report calls the run of `schedc`.
const COMMAND: &str = "schedc";

/// One scheduler run in a guest.
pub struct VmRun {
    pub kernel: PathBuf,
    /// The object to copy into the guest and run.
    pub object: PathBuf,
    pub duration: Duration,
    pub interval: Duration,
    pub overrides: Vec<(String, String)>,
    pub verifier_stats: bool,
}

impl VmRun {
    /// Where the object is in the guest.
    fn guest_object(&self) -> String {
        format!("/objs/{}", self.object.file_name().unwrap_or_default().to_string_lossy())
    }

    /// The `schedc run` the guest runs: this run's options, spelled as
    /// `schedc run` reads them.
    fn guest_command(&self) -> Vec<String> {
        let mut argv: Vec<String> = vec!["/bin/schedc".into(), "run".into(), self.guest_object()];
        argv.extend(["--duration".into(), format!("{}ns", self.duration.as_nanos())]);
        argv.extend(["--interval".into(), format!("{}ns", self.interval.as_nanos())]);
        for (name, value) in &self.overrides {
            argv.extend(["--set".into(), format!("{name}={value}")]);
        }
        if self.verifier_stats {
            argv.push("--verifier-stats".into());
        }
        argv
    }

    /// Boots the guest and runs the scheduler in it.
    pub fn run(&self) -> Result<GuestReport, CliError> {
        let me = std::env::current_exe().map_err(|source| CliError::CurrentExe { source })?;
        let report = Guest::new(&self.kernel)
            .executable("/bin/schedc", &me)
            .file(&self.guest_object(), &self.object)
            .command(COMMAND, &self.guest_command())
            .timeout(self.duration + BOOT_ALLOWANCE)
            .boot()?;
        Ok(report)
    }
}

/// `schedc run --vm TARGET`: prints what sched_ext did in the guest and
/// what `schedc run` printed there, and fails if that run failed.
pub fn run_in_vm(target: &Path, kernel: Option<PathBuf>, args: &RunArgs) -> Result<ExitCode, CliError> {
    let search = KernelSearch::from_env();
    let kernel = kernel
        .or_else(|| search.kernels().into_iter().next())
        .ok_or(CliError::NoVmKernel { looked: search.places() })?;
    let (_dir, object) = prepare(target, args)?;
    let vm = VmRun {
        kernel,
        object,
        duration: args.duration.unwrap_or(DEFAULT_DURATION),
        interval: args.interval,
        overrides: args.overrides.clone(),
        verifier_stats: args.verifier_stats,
    };
    eprintln!("booting {} under QEMU to run {} for {:?}...", vm.kernel.display(), target.display(), vm.duration);
    let report = vm.run()?;
    let run = report.command(COMMAND).ok_or(CliError::GuestDidNotRun)?;
    println!(
        "guest kernel {}: sched_ext {} while running (ops {}), {} after",
        report.release, run.state_during, run.ops_during, run.state_after
    );
    print!("{}", run.output);
    Ok(if run.exit_code == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::{Cli, Command};

    #[test]
    fn the_guest_reads_back_the_same_options() {
        let vm = VmRun {
            kernel: "vmlinuz".into(),
            object: "/tmp/x/fifo.bpf.o".into(),
            duration: Duration::from_millis(1500),
            interval: Duration::from_micros(250_500),
            overrides: vec![("slice_max".into(), "2ms".into()), ("boost".into(), "true".into())],
            verifier_stats: true,
        };
        let cli = Cli::try_parse_from(vm.guest_command()).unwrap_or_else(|e| panic!("{e}"));
        let Command::Run { target, args, vm: false, kernel: None } = cli.command else { panic!("not a plain run") };
        assert_eq!(target, Path::new("/objs/fifo.bpf.o"));
        assert_eq!(args.duration, Some(vm.duration));
        assert_eq!(args.interval, vm.interval);
        assert_eq!(args.overrides, vm.overrides);
        assert!(args.verifier_stats);
    }
}
