//! `schedc run --vm`: the same run inside a QEMU guest booted from a
//! sched_ext kernel, beside a stress-ng load, for machines whose kernel has
//! no sched_ext. The guest runs this very executable; what it prints is
//! shown as it comes. With `--watch` the host watches and compiles the
//! policy and hands each new object to the guest through the VM's channel.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use schedc_abi::events::{SwapEvent, SwapReason};
use schedc_abi::stats::Record;
use schedc_runtime::vm::{Guest, GuestReport, HostChannel, KernelSearch, CHANNEL_DEVICE};

use crate::error::CliError;
use crate::report::StatsFormat;
use crate::run::{prepare, RunArgs};
use crate::watch::{self, Candidate, Message, PolicyWatcher};

/// How long a run in a guest lasts when --duration is not given: a guest
/// cannot be interrupted with Ctrl-C (but a watched one can).
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
    /// `None`: until the host says stop through the channel.
    pub duration: Option<Duration>,
    pub interval: Duration,
    pub overrides: Vec<(String, String)>,
    pub verifier_stats: bool,
    /// `--latency` and `--probe-cost` in the guest.
    pub latency: bool,
    pub probe_cost: bool,
    /// Whether the guest swaps in objects from the host's channel.
    pub swaps: bool,
    pub stats: StatsFormat,
    /// How the guest's records name what runs: the policy or object as
    /// given on this machine.
    pub given: String,
    /// The policy the object was compiled from (none for an object given
    /// as it is): the guest gets its text to tell a refusal in its terms.
    pub policy: Option<PathBuf>,
    /// Sockets of two CPUs, each an LLC and a NUMA node (`--sockets`).
    pub sockets: u32,
    /// Guest time by executed instructions (`--icount`).
    pub icount: bool,
}

/// The guest machine `schedc run --vm` asks for.
pub struct Machine {
    /// `--kernel`; by default the first kernel found.
    pub kernel: Option<PathBuf>,
    /// `--sockets`.
    pub sockets: u32,
    /// `--icount`.
    pub icount: bool,
}

/// Where the policy's text is in the guest.
const GUEST_POLICY: &str = "/objs/source.policy";

impl VmRun {
    /// Where the object is in the guest.
    fn guest_object(&self) -> String {
        format!("/objs/{}", self.object.file_name().unwrap_or_default().to_string_lossy())
    }

    /// The `schedc run` the guest runs: this run's options, spelled as
    /// `schedc run` reads them.
    fn guest_command(&self) -> Vec<String> {
        let mut argv: Vec<String> = vec!["/bin/schedc".into(), "run".into(), self.guest_object()];
        if let Some(duration) = self.duration {
            argv.extend(["--duration".into(), format!("{}ns", duration.as_nanos())]);
        }
        argv.extend(["--interval".into(), format!("{}ns", self.interval.as_nanos())]);
        for (name, value) in &self.overrides {
            argv.extend(["--set".into(), format!("{name}={value}")]);
        }
        if self.verifier_stats {
            argv.push("--verifier-stats".into());
        }
        if self.latency {
            argv.push("--latency".into());
        }
        if self.probe_cost {
            argv.push("--probe-cost".into());
        }
        if self.swaps {
            argv.extend(["--swap-from".into(), CHANNEL_DEVICE.into()]);
        }
        if self.stats == StatsFormat::Json {
            argv.extend(["--stats".into(), "json".into()]);
        }
        if self.policy.is_some() {
            argv.extend(["--policy-source".into(), GUEST_POLICY.into(), self.given.clone()]);
        }
        argv
    }

    /// The guest that runs the scheduler, printing the lines of `schedc
    /// run` as they come: swap events on stderr (as `schedc run` prints
    /// them), also sent to `swaps`, the rest on stdout.
    fn guest(&self, swaps: mpsc::Sender<SwapEvent>) -> Result<Guest, CliError> {
        let me = std::env::current_exe().map_err(|source| CliError::CurrentExe { source })?;
        let stats = self.stats;
        let given = Some(self.given.clone());
        let is_object = self.object.as_path() == std::path::Path::new(&self.given);
        let (policy, object) = if is_object { (None, given) } else { (given, None) };
        let mut guest = Guest::new(&self.kernel);
        if self.sockets > 1 {
            guest.cpus(2 * self.sockets).sockets(self.sockets);
        }
        if self.swaps {
            // sched_ext's disable and enable wait for RCU grace periods;
            // expedited ones end as soon as every CPU has answered an IPI
            // instead of at the next ticks, which under emulation cut a
            // swap's gap by a third (README.md, on the swap gap).
            guest.kernel_args(&["rcupdate.rcu_expedited=1"]);
        }
        if self.icount {
            let mode = crate::bench::Mode::Icount;
            guest.qemu_args(mode.qemu_args()).kernel_args(mode.kernel_args());
        }
        if let Some(policy) = &self.policy {
            guest.file(GUEST_POLICY, policy);
        }
        guest
            .executable("/bin/schedc", &me)
            .file(&self.guest_object(), &self.object)
            .command(COMMAND, &self.guest_command())
            .timeout(self.duration.map(|d| d + BOOT_ALLOWANCE))
            .on_output(move |command, line| {
                if command != COMMAND {
                    return;
                }
                if let Ok(event) = line.parse::<SwapEvent>() {
                    eprintln!("{line}");
                    let _ = swaps.send(event);
                    return;
                }
                match (stats, Record::from_json(line)) {
                    // The guest's stdout and stderr arrive as one stream:
                    // its records go to stdout, naming the files as given
                    // here, and everything else to stderr, as on this machine.
                    (StatsFormat::Json, Ok(record)) => {
                        println!("{}", Record { policy: policy.clone(), object: object.clone(), ..record }.to_json())
                    }
                    (StatsFormat::Json, Err(_)) => eprintln!("{line}"),
                    (StatsFormat::Table, _) => println!("{line}"),
                }
            });
        Ok(guest)
    }
}

/// `schedc run --vm TARGET`: shows what `schedc run` prints in the guest as
/// it comes, then what sched_ext did there; fails if that run failed.
pub fn run_in_vm(target: &Path, machine: &Machine, args: &RunArgs, watching: bool) -> Result<ExitCode, CliError> {
    let search = KernelSearch::from_env();
    let kernel = (machine.kernel.clone())
        .or_else(|| search.kernels().into_iter().next())
        .ok_or(CliError::NoVmKernel { looked: search.places() })?;
    let vm = |object: PathBuf, duration, swaps| VmRun {
        kernel: kernel.clone(),
        policy: (object.as_path() != target).then(|| target.to_path_buf()),
        object,
        duration,
        interval: args.interval,
        overrides: args.overrides.clone(),
        verifier_stats: args.verifier_stats,
        latency: args.latency,
        probe_cost: args.probe_cost,
        swaps,
        stats: args.stats,
        given: target.display().to_string(),
        sockets: machine.sockets,
        icount: machine.icount,
    };
    let report = if watching {
        let started = watch::start(target, args)?;
        let vm = vm(started.object.clone(), args.duration, true);
        let until = vm.duration.map_or("until Ctrl-C".to_string(), |d| format!("for {d:?}"));
        eprintln!("booting {} under QEMU to run {} {until}...", vm.kernel.display(), target.display());
        boot_watching(&vm, started.watcher)?
    } else {
        let (_dir, object) = prepare(target, args)?;
        let vm = vm(object, Some(args.duration.unwrap_or(DEFAULT_DURATION)), false);
        let duration = vm.duration.unwrap_or_default();
        eprintln!("booting {} under QEMU to run {} for {duration:?}...", vm.kernel.display(), target.display());
        vm.guest(mpsc::channel().0)?.boot()?
    };
    let run = report.command(COMMAND).ok_or(CliError::GuestDidNotRun)?;
    let summary = format!(
        "guest kernel {}: sched_ext {} while running (ops {}), {} after",
        report.release, run.state_during, run.ops_during, run.state_after
    );
    match args.stats {
        StatsFormat::Table => println!("{summary}"),
        StatsFormat::Json => eprintln!("{summary}"),
    }
    Ok(if run.exit_code == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Boots the guest and, while it runs, sends it each new version of the
/// watched policy; Ctrl-C tells it to stop.
fn boot_watching(vm: &VmRun, mut watcher: PolicyWatcher) -> Result<GuestReport, CliError> {
    let (swaps_tx, swaps) = mpsc::channel();
    let channel = HostChannel::new()?;
    let mut guest = vm.guest(swaps_tx)?;
    guest.channel(&channel);
    schedc_runtime::interrupted(); // From now on Ctrl-C is ours to handle.
    std::thread::scope(|scope| {
        let boot = scope.spawn(|| guest.boot());
        if let Some(mut stream) = channel.connect(|| !boot.is_finished())? {
            let mut sent: Option<Candidate> = None;
            let mut stopping = false;
            while !boot.is_finished() {
                if schedc_runtime::interrupted() && !stopping {
                    stopping = true;
                    watch::say("stopping the scheduler in the guest...");
                    send(&mut stream, &Message::Stop);
                }
                // The guest answers each object with one swap event.
                if let Some(candidate) = sent.take() {
                    match swaps.try_recv() {
                        Ok(event) => watcher.settle(candidate, &event),
                        Err(_) => sent = Some(candidate),
                    }
                } else if !stopping {
                    if let Some(candidate) = watcher.next_candidate() {
                        match std::fs::read(&candidate.object) {
                            Ok(object) => {
                                send(&mut stream, &Message::Swap { object, overrides: candidate.overrides.clone() });
                                sent = Some(candidate);
                            }
                            Err(err) => {
                                watch::say(&format!("cannot read {}: {err}", candidate.object.display()));
                                watcher.kept(Some(candidate.checked.model.name), SwapReason::BuildFailed);
                            }
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(boot.join().expect("the guest's thread does not panic")?)
    })
}

/// Writes `message` to the guest; if the guest is gone, the boot ends and
/// says so.
fn send(stream: &mut std::os::unix::net::UnixStream, message: &Message) {
    if let Err(err) = message.write_to(stream) {
        watch::say(&format!("cannot reach the guest: {err}"));
    }
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
            duration: Some(Duration::from_millis(1500)),
            interval: Duration::from_micros(250_500),
            overrides: vec![("slice_max".into(), "2ms".into()), ("boost".into(), "true".into())],
            verifier_stats: true,
            latency: true,
            probe_cost: true,
            swaps: false,
            stats: StatsFormat::Json,
            given: "fifo.policy".into(),
            policy: Some("fifo.policy".into()),
            sockets: 1,
            icount: false,
        };
        let cli = Cli::try_parse_from(vm.guest_command()).unwrap_or_else(|e| panic!("{e}"));
        let Command::Run { target, args, vm: false, kernel: None, watch, .. } = cli.command else {
            panic!("not a plain run")
        };
        assert_eq!(target.as_deref(), Some(Path::new("/objs/fifo.bpf.o")));
        assert_eq!(args.duration, vm.duration);
        assert_eq!(args.interval, vm.interval);
        assert_eq!(args.overrides, vm.overrides);
        assert!(args.verifier_stats && args.latency && args.probe_cost);
        assert_eq!(args.stats, StatsFormat::Json);
        assert_eq!(args.policy_source, Some(vec![GUEST_POLICY.to_string(), "fifo.policy".to_string()]));
        assert!(!watch.watch && watch.swap_from.is_none());
    }

    #[test]
    fn a_watched_guest_runs_until_stopped_and_swaps_from_the_channel() {
        let vm = VmRun {
            kernel: "vmlinuz".into(),
            object: "/tmp/x/bpfland.bpf.o".into(),
            duration: None,
            interval: Duration::from_secs(1),
            overrides: Vec::new(),
            verifier_stats: false,
            latency: false,
            probe_cost: false,
            swaps: true,
            stats: StatsFormat::Table,
            given: "bpfland.policy".into(),
            policy: None,
            sockets: 2,
            icount: true,
        };
        let cli = Cli::try_parse_from(vm.guest_command()).unwrap_or_else(|e| panic!("{e}"));
        let Command::Run { args, vm: false, watch, .. } = cli.command else { panic!("not a plain run") };
        assert_eq!(args.duration, None);
        assert_eq!(args.policy_source, None);
        assert_eq!(watch.swap_from.as_deref(), Some(Path::new(CHANNEL_DEVICE)));
    }
}
