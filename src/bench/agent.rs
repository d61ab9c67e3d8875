//! The guest side of `schedc bench` (`schedc bench-guest PLAN`, or in
//! process with `--mode native`): runs the plan's workloads under each
//! scheduler in turn and reports each measurement as an [`AgentEvent`].

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use schedc_runtime::latency::{LatencyProbe, ProbeOptions};
use schedc_runtime::{read_sched_ext_state, Reference, Scheduler};

use super::plan::{GuestScheduler, Plan, Sizes, Workload};
use super::results::{AgentEvent, LeftOut, Measure, RunqueueLatency, Sample, WakeupSummary};

/// How long a scheduler may take to show as enabled, or to go away.
const STATE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the hogs run before the periodic task starts.
const SETTLE: Duration = Duration::from_secs(1);

/// Runs the plan, handing each event to `emit`; stops at the first failure
/// (reported as a `Failed` event, and as the error).
pub fn run(plan: &Plan, emit: &mut dyn FnMut(&AgentEvent)) -> Result<(), String> {
    let outcome = run_plan(plan, emit);
    if let Err(message) = &outcome {
        emit(&AgentEvent::Failed { message: message.clone() });
    }
    outcome
}

fn run_plan(plan: &Plan, emit: &mut dyn FnMut(&AgentEvent)) -> Result<(), String> {
    wait_for_state(None)?;
    let floor = wakeups(plan.sizes.wakeups, 0)?;
    emit(&AgentEvent::Floor { wakeup: floor });
    if let Some(limit_us) = plan.floor_limit_us.filter(|limit| floor.p99_us > *limit) {
        emit(&AgentEvent::FloorRejected { p99_us: floor.p99_us, limit_us });
        return Ok(());
    }
    if let Some(config) = &plan.kconfig {
        install_kconfig(config)?;
    }
    let mut schedulers = Vec::new();
    for scheduler in &plan.schedulers {
        match scheduler.reference.then(|| try_reference(scheduler)).transpose()? {
            Some(Err(reason)) => emit(&AgentEvent::LeftOut(LeftOut { scheduler: scheduler.label.clone(), reason })),
            Some(Ok(())) | None => schedulers.push(scheduler),
        }
    }
    for round in 1..=plan.rounds {
        for &workload in &plan.workloads {
            let mut ejected = Vec::new();
            for scheduler in &schedulers {
                emit(&AgentEvent::Start { workload, scheduler: scheduler.label.clone(), round });
                match measure(workload, scheduler, round, &plan.sizes)? {
                    Ok(sample) => emit(&AgentEvent::Sample(sample)),
                    Err(reason) => {
                        let reason = format!("the kernel stopped it in round {round}, {}: {reason}", workload.name());
                        emit(&AgentEvent::LeftOut(LeftOut { scheduler: scheduler.label.clone(), reason }));
                        ejected.push(scheduler.label.clone());
                    }
                }
            }
            schedulers.retain(|s| !ejected.contains(&s.label));
        }
    }
    Ok(())
}

/// The kernel log's `sched_ext:` lines (the last few), where the kernel
/// says why it disabled a scheduler.
fn kernel_log_about_sched_ext() -> Vec<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let Ok(mut kmsg) = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open("/dev/kmsg") else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    let mut record = [0u8; 8192];
    // Each read returns one record: "prio,seq,time,flags;message".
    while let Ok(n) = kmsg.read(&mut record) {
        let text = String::from_utf8_lossy(&record[..n]);
        let message = text.split_once(';').map_or(text.as_ref(), |(_, m)| m).trim().to_string();
        // "sched_ext: NAME: why" lines, not the stack trace that follows.
        if message.starts_with("sched_ext:") {
            lines.push(message);
        }
    }
    lines.split_off(lines.len().saturating_sub(3))
}

/// Puts the kernel's config where libbpf looks for it
/// (`/boot/config-RELEASE`), unless the kernel publishes its own.
fn install_kconfig(config: &str) -> Result<(), String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").map_err(|e| format!("osrelease: {e}"))?;
    let target = std::path::PathBuf::from(format!("/boot/config-{}", release.trim()));
    if std::path::Path::new("/proc/config.gz").exists() || target.exists() {
        return Ok(());
    }
    std::fs::create_dir_all("/boot").map_err(|e| format!("/boot: {e}"))?;
    std::fs::copy(config, &target).map_err(|e| format!("{config} to {}: {e}", target.display()))?;
    Ok(())
}

/// Whether this kernel runs a hand-written reference: load, attach, wait
/// until enabled, detach. The inner error is why not (the reference is then
/// left out); the outer one, a kernel that would not let it go.
fn try_reference(scheduler: &GuestScheduler) -> Result<Result<(), String>, String> {
    let attached = match Attached::attach(scheduler) {
        Ok(attached) => attached,
        Err(reason) => return Ok(Err(reason)),
    };
    let enabled = wait_for_state(Some(attached.ops())).map_err(with_kernel_log);
    drop(attached);
    wait_for_state(None)?;
    Ok(enabled)
}

/// `reason`, and what the kernel's log says about sched_ext.
fn with_kernel_log(reason: String) -> String {
    let said = kernel_log_about_sched_ext();
    if said.is_empty() {
        reason
    } else {
        format!("{reason}; the kernel said: {}", said.join(" / "))
    }
}

/// A scheduler attached for one measurement; detached when dropped.
enum Attached {
    Policy(Box<Scheduler>),
    Reference(Reference),
}

impl Attached {
    /// Loads and attaches `scheduler`, which has an object.
    fn attach(scheduler: &GuestScheduler) -> Result<Attached, String> {
        let object = scheduler.object.as_deref().expect("only schedulers with an object are attached");
        let cannot = |what: &str, e: schedc_runtime::Error| format!("cannot {what} {}: {e}", scheduler.label);
        if scheduler.reference {
            let mut r = Reference::open(object).map_err(|e| cannot("load", e))?;
            r.attach().map_err(|e| cannot("attach", e))?;
            Ok(Attached::Reference(r))
        } else {
            let mut s = Scheduler::open(object, &[]).map_err(|e| cannot("load", e))?;
            s.attach().map_err(|e| cannot("attach", e))?;
            Ok(Attached::Policy(Box::new(s)))
        }
    }

    /// The ops name the kernel's state file shows while it runs.
    fn ops(&self) -> &str {
        match self {
            Attached::Policy(s) => &s.manifest().scheduler,
            Attached::Reference(r) => r.ops(),
        }
    }

    /// Why the kernel stopped running it, if it did.
    fn ejected(&self) -> Option<String> {
        match self {
            Attached::Policy(s) if !s.is_attached() => {
                Some(s.exit_info().ok().flatten().map_or("no exit record".to_string(), |e| e.to_string()))
            }
            Attached::Reference(r) if !r.is_attached() => {
                // It keeps no schedc exit record: the kernel's log says why.
                let said = kernel_log_about_sched_ext();
                let state = read_sched_ext_state().map(|s| (s.state, s.ops));
                Some(if said.is_empty() { format!("sched_ext reads {state:?}") } else { said.join(" / ") })
            }
            _ => None,
        }
    }
}

/// One workload under one scheduler: attach it, wait until the kernel says
/// it runs, measure with the probe on, detach, wait until it is gone. The
/// inner error: the kernel ejected the scheduler (a result about it, which
/// leaves it out of the rest of the boot); the outer: the bench cannot go on.
fn measure(
    workload: Workload,
    scheduler: &GuestScheduler,
    round: u32,
    sizes: &Sizes,
) -> Result<Result<Sample, String>, String> {
    let attached = match &scheduler.object {
        None => None,
        Some(_) => {
            let attached = Attached::attach(scheduler)?;
            // Disabled before it ever ran: as much a result as an ejection.
            if let Err(reason) = wait_for_state(Some(attached.ops())) {
                drop(attached);
                wait_for_state(None)?;
                return Ok(Err(with_kernel_log(reason)));
            }
            Some(attached)
        }
    };
    let mut probe =
        LatencyProbe::attach(None, &ProbeOptions { measure_cost: false }).map_err(|e| format!("latency probe: {e}"))?;
    let measured = run_workload(workload, sizes);
    probe.interval().map_err(|e| format!("latency probe: {e}"))?;
    let runqueue = RunqueueLatency::of(&probe.total().all);
    drop(probe);
    let ejected = attached.as_ref().and_then(Attached::ejected);
    drop(attached);
    wait_for_state(None)?;
    if let Some(why) = ejected {
        return Ok(Err(why));
    }
    Ok(Ok(Sample { workload, scheduler: scheduler.label.clone(), round, measure: measured?, runqueue }))
}

/// Waits until sched_ext runs the scheduler named `ops` (`None`: until no
/// sched_ext scheduler runs).
fn wait_for_state(ops: Option<&str>) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let st = read_sched_ext_state();
        let now = st.as_ref().map(|s| (s.state.as_str(), s.ops.as_deref()));
        let reached = match ops {
            None => matches!(now, None | Some(("disabled", _))),
            Some(name) => now == Some(("enabled", Some(name))),
        };
        if reached {
            return Ok(());
        }
        if started.elapsed() > STATE_TIMEOUT {
            let wanted = ops.map_or("disabled".to_string(), |n| format!("enabled with ops {n}"));
            return Err(format!("sched_ext did not become {wanted} within {STATE_TIMEOUT:?} (it reads {now:?})"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run_workload(workload: Workload, sizes: &Sizes) -> Result<Measure, String> {
    let hogs = 2 * cpus();
    match workload {
        Workload::Interactive => Ok(Measure::Wakeup(wakeups(sizes.wakeups, hogs)?)),
        Workload::HackbenchPipe | Workload::HackbenchSocket => {
            let mut cmd = Command::new("hackbench");
            cmd.args(["-g", &sizes.hackbench_groups.to_string(), "-l", &sizes.hackbench_loops.to_string()]);
            if workload == Workload::HackbenchPipe {
                cmd.arg("--pipe");
            }
            let out = output(&mut cmd)?;
            // hackbench ends with "Time: 15.123".
            let seconds = out
                .lines()
                .find_map(|l| l.trim().strip_prefix("Time:"))
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| format!("hackbench printed no time:\n{out}"))?;
            Ok(Measure::Completion { seconds })
        }
        Workload::Cpu => {
            let started = Instant::now();
            output(Command::new("stress-ng").args([
                "-q",
                "--cpu",
                &hogs.to_string(),
                "--cpu-method",
                "int64",
                "--cpu-ops",
                &(sizes.cpu_ops * hogs).to_string(),
            ]))?;
            Ok(Measure::Completion { seconds: started.elapsed().as_secs_f64() })
        }
    }
}

/// cyclictest's wake-up lateness over `count` wake-ups 1 ms apart (at the
/// normal priority, so the scheduler under test decides), beside `hogs`
/// CPU-bound processes.
fn wakeups(count: u32, hogs: u32) -> Result<WakeupSummary, String> {
    let hogs = (hogs > 0).then(|| Group::spawn(Command::new("stress-ng").args(["-q", "--cpu", &hogs.to_string()])));
    if let Some(group) = &hogs {
        group.as_ref().map_err(Clone::clone)?;
        std::thread::sleep(SETTLE);
    }
    let out = output(Command::new("cyclictest").args(["-q", "-v", "-m", "-i", "1000", "-l", &count.to_string()]));
    drop(hogs);
    let out = out?;
    // Verbose lines are "thread: cycle: latency-us"; the first cycle also
    // waits for the thread's start, so it is left out.
    let samples: Vec<u64> = out
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':').map(str::trim);
            let (_thread, cycle, lat) = (f.next()?, f.next()?.parse::<u64>().ok()?, f.next()?.parse().ok()?);
            (f.next().is_none() && cycle > 0).then_some(lat)
        })
        .collect();
    WakeupSummary::of(samples).ok_or_else(|| format!("cyclictest printed no samples:\n{out}"))
}

/// The stdout of `cmd`, which must succeed.
fn output(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.stderr(Stdio::piped()).output().map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A background process group, killed whole when dropped.
struct Group(Child);

impl Group {
    fn spawn(cmd: &mut Command) -> Result<Group, String> {
        cmd.process_group(0).stdout(Stdio::null()).stderr(Stdio::null());
        cmd.spawn().map(Group).map_err(|e| format!("cannot start {cmd:?}: {e}"))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: kill has no memory effects; the group is the child's own.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

fn cpus() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}
