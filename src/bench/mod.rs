//! `schedc bench`: the kernel's default scheduler against policies, on
//! the same workloads in the same boot, alternating, over several rounds.
//! The host compiles the policies and boots one QEMU guest per kernel; in
//! it the same `schedc` runs the plan ([`agent`]) and reports events the
//! host gathers into `results.json`, a table and an SVG.

mod agent;
mod plan;
mod plot;
mod results;
mod table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schedc_runtime::vm::{Guest, KernelSearch, VmError};

use plan::{GuestScheduler, Plan, Sizes, GUEST_KCONFIG, GUEST_PLAN};
pub use plan::{Mode, Workload};
use results::{AgentEvent, KernelResults, LeftOut, ReferenceObject, Results, Sample, WakeupSummary, RESULTS_VERSION};

use crate::error::CliError;

/// Above this idle-floor p99 (µs) the icount clock is not trusted and the
/// kernel is measured again in real time: a sleeper on an idle guest
/// should wake within a tick of HZ=250.
const FLOOR_LIMIT_US: u64 = 4000;

/// Boot and power-off, on top of the measurements.
const BOOT_ALLOWANCE: Duration = Duration::from_secs(300);

/// The most one measurement may take under emulation.
const MEASUREMENT_ALLOWANCE: Duration = Duration::from_secs(180);

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Policies (compiled here) or objects built by `schedc compile`.
    #[arg(value_name = "POLICY_OR_OBJECT", required_unless_present_any = ["from", "reference"])]
    pub targets: Vec<PathBuf>,
    /// A hand-written sched_ext object (not built by schedc) to measure
    /// beside the policies, under its ops name (repeatable). A kernel that
    /// will not load or run it says so in the results; the bench goes on.
    #[arg(long, value_name = "OBJECT")]
    pub reference: Vec<PathBuf>,
    /// The kernel to boot; by default every kernel `run --vm` finds, one
    /// boot each.
    #[arg(long, value_name = "KERNEL")]
    pub kernel: Vec<PathBuf>,
    /// How many times each workload runs under each scheduler.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// Where results.json, table.txt and bench.svg go.
    #[arg(long, value_name = "DIR", default_value = "schedc-bench")]
    pub out: PathBuf,
    /// The workloads to run (all by default).
    #[arg(long, value_enum, value_name = "NAME", num_args = 1..)]
    pub workload: Vec<Workload>,
    /// How the guest's clock runs; by default icount, unless a kernel's
    /// idle floor is not sane there, in which case that kernel is measured
    /// again in real time (the output says which mode each used).
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// One more word for the guest kernel's command line (repeatable),
    /// such as `nohz=off`, to see what moves the numbers.
    #[arg(long, value_name = "WORD", allow_hyphen_values = true)]
    pub kernel_arg: Vec<String>,
    /// Write the table and picture of an earlier results.json again,
    /// measuring nothing.
    #[arg(long, value_name = "RESULTS", conflicts_with_all = ["targets", "reference", "kernel", "mode", "workload", "kernel_arg"])]
    pub from: Option<PathBuf>,
}

/// `schedc bench`.
pub fn bench(args: &BenchArgs) -> Result<ExitCode, CliError> {
    let results = match &args.from {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| CliError::ReadPolicy { path: path.clone(), source })?;
            Results::from_json(&text).map_err(|e| CliError::Bench { message: format!("{}: {e}", path.display()) })?
        }
        None => measure(args)?,
    };
    write(&results, &args.out)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the table and writes the three files into `out`.
fn write(results: &Results, out: &Path) -> Result<(), CliError> {
    let table = table::render(results);
    let svg = plot::render(results).map_err(|message| CliError::Bench { message: format!("plotting: {message}") })?;
    let files = [("results.json", results.to_json()), ("table.txt", table.clone()), ("bench.svg", svg)];
    std::fs::create_dir_all(out).map_err(|source| CliError::WriteOutput { path: out.into(), source })?;
    print!("{table}");
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|source| CliError::WriteOutput { path: path.clone(), source })?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn measure(args: &BenchArgs) -> Result<Results, CliError> {
    let dir = crate::run::temp_dir()?;
    let in_process = args.mode == Some(Mode::Native);
    let mut schedulers = vec![(GuestScheduler { label: "default".into(), object: None, reference: false }, None)];
    for (i, target) in args.targets.iter().enumerate() {
        let label = target_label(target, &args.targets);
        if schedulers.iter().any(|(s, _)| s.label == label) {
            return Err(CliError::Bench { message: format!("{label} is named twice; give each policy once") });
        }
        let object = crate::run::object_for(target, dir.path())?;
        let in_plan = if in_process { object.display().to_string() } else { format!("/bench/{i}.bpf.o") };
        schedulers.push((GuestScheduler { label, object: Some(in_plan), reference: false }, Some(object)));
    }
    let mut references = Vec::new();
    for (i, object) in args.reference.iter().enumerate() {
        let label = reference_label(object)?;
        if schedulers.iter().any(|(s, _)| s.label == label) {
            return Err(CliError::Bench { message: format!("two schedulers would both be called {label}") });
        }
        let in_plan = if in_process { object.display().to_string() } else { format!("/bench/reference-{i}.bpf.o") };
        references.push(ReferenceObject { label: label.clone(), object: object.display().to_string() });
        schedulers.push((GuestScheduler { label, object: Some(in_plan), reference: true }, Some(object.clone())));
    }
    let workloads = if args.workload.is_empty() { Workload::ALL.to_vec() } else { dedup(&args.workload) };
    let plan = Plan {
        rounds: args.rounds,
        workloads: workloads.clone(),
        schedulers: schedulers.iter().map(|(s, _)| s.clone()).collect(),
        floor_limit_us: None,
        sizes: Sizes::default(),
        kconfig: None,
    };
    let kernels = if args.mode == Some(Mode::Native) {
        vec![native(&plan)?]
    } else {
        let search = KernelSearch::from_env();
        let kernels = if args.kernel.is_empty() { search.kernels() } else { args.kernel.clone() };
        if kernels.is_empty() {
            return Err(CliError::NoVmKernel { looked: search.places() });
        }
        let objects: Vec<(String, PathBuf)> =
            schedulers.iter().filter_map(|(s, host)| Some((s.object.clone()?, host.clone()?))).collect();
        let mut all = Vec::new();
        for kernel in &kernels {
            all.push(in_guest(kernel, args, &plan, &objects)?);
        }
        all
    };
    Ok(Results {
        version: RESULTS_VERSION,
        command: std::env::args()
            .map(|a| if a.contains(' ') { format!("'{a}'") } else { a })
            .collect::<Vec<_>>()
            .join(" "),
        rounds: args.rounds,
        schedulers: plan.schedulers.iter().map(|s| s.label.clone()).collect(),
        workloads,
        references,
        kernels,
    })
}

/// A policy's name in the results: its file name, or the path as typed when
/// two targets share a file name.
fn target_label(target: &Path, targets: &[PathBuf]) -> String {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    match name(target) {
        Some(file) if targets.iter().filter(|t| name(t).as_deref() == Some(file.as_str())).count() == 1 => file,
        _ => target.display().to_string(),
    }
}

/// A hand-written object's name in the results: the ops name its
/// `sched_ext_ops` gives, or else its file name without `.bpf.o`.
fn reference_label(object: &Path) -> Result<String, CliError> {
    let bytes = std::fs::read(object).map_err(|source| CliError::ReadPolicy { path: object.into(), source })?;
    if !crate::compile::is_bpf_object(&bytes) {
        return Err(CliError::Bench { message: format!("{} is not a BPF object", object.display()) });
    }
    let named = schedc_runtime::Reference::ops_name(object)
        .map_err(|e| CliError::Bench { message: format!("{}: {e}", object.display()) })?;
    let file = object.file_name().unwrap_or_default().to_string_lossy();
    Ok(named.unwrap_or_else(|| file.trim_end_matches(".bpf.o").trim_end_matches(".o").to_string()))
}

fn dedup(workloads: &[Workload]) -> Vec<Workload> {
    let mut seen = Vec::new();
    for w in workloads {
        if !seen.contains(w) {
            seen.push(*w);
        }
    }
    seen
}

/// What one boot (or native run) reported.
#[derive(Default)]
struct Gathered {
    floor: Option<WakeupSummary>,
    rejected: Option<(u64, u64)>,
    samples: Vec<Sample>,
    left_out: Vec<LeftOut>,
    failure: Option<String>,
}

impl Gathered {
    fn take(&mut self, event: &AgentEvent, progress: &Progress) {
        match event {
            AgentEvent::Floor { wakeup } => {
                progress.say(&format!("idle floor: wake-up p50 {} us, p99 {} us", wakeup.p50_us, wakeup.p99_us));
                self.floor = Some(*wakeup);
            }
            AgentEvent::FloorRejected { p99_us, limit_us } => self.rejected = Some((*p99_us, *limit_us)),
            AgentEvent::Start { workload, scheduler, round } => {
                progress.say(&format!("{} under {scheduler}, round {round}/{}", workload.name(), progress.rounds))
            }
            AgentEvent::Sample(sample) => self.samples.push(sample.clone()),
            AgentEvent::LeftOut(not) => {
                progress.say(&format!("{} left out: {}", not.scheduler, not.reason));
                self.left_out.push(not.clone());
            }
            AgentEvent::Failed { message } => self.failure = Some(message.clone()),
        }
    }
}

/// The progress line on stderr: what runs, and for how long the bench has.
struct Progress {
    started: Instant,
    rounds: u32,
    kernel: String,
}

impl Progress {
    fn say(&self, what: &str) {
        let s = self.started.elapsed().as_secs();
        eprintln!("[bench {} {:02}:{:02}] {what}", self.kernel, s / 60, s % 60);
    }
}

/// Measures on this machine, whose kernel must have sched_ext.
fn native(plan: &Plan) -> Result<KernelResults, CliError> {
    let progress = Progress { started: Instant::now(), rounds: plan.rounds, kernel: "native".into() };
    let mut gathered = Gathered::default();
    let outcome = agent::run(plan, &mut |event| gathered.take(event, &progress));
    outcome.map_err(|message| CliError::Bench { message })?;
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
    Ok(KernelResults {
        kernel: "native".into(),
        release,
        mode: Mode::Native,
        mode_reason: "asked for".into(),
        floor: gathered.floor,
        samples: gathered.samples,
        left_out: gathered.left_out,
    })
}

/// Measures in a guest booted from `kernel`: in `mode` if given, else in
/// icount, booting again in real time if the idle floor is not sane there.
fn in_guest(
    kernel: &Path,
    args: &BenchArgs,
    plan: &Plan,
    objects: &[(String, PathBuf)],
) -> Result<KernelResults, CliError> {
    let mode = args.mode;
    let boot = |mode, plan: &Plan| boot(kernel, mode, &args.kernel_arg, plan, objects);
    let (first, reason) = match mode {
        Some(m) => (m, "asked for".to_string()),
        None => (Mode::Icount, format!("the default; its idle floor p99 is under {FLOOR_LIMIT_US} us")),
    };
    let limit = mode.is_none().then_some(FLOOR_LIMIT_US);
    let (release, gathered) = boot(first, &Plan { floor_limit_us: limit, ..plan.clone() })?;
    let (mode, reason, release, gathered) = match gathered.rejected {
        None => (first, reason, release, gathered),
        Some((p99, limit)) => {
            let reason = format!("icount's idle floor p99 was {p99} us, above {limit} us");
            eprintln!("[bench] {}: {reason}; booting again in real time", kernel.display());
            let (release, gathered) = boot(Mode::Realtime, plan)?;
            (Mode::Realtime, reason, release, gathered)
        }
    };
    Ok(KernelResults {
        kernel: kernel.file_name().unwrap_or_default().to_string_lossy().into_owned(),
        release,
        mode,
        mode_reason: reason,
        floor: gathered.floor,
        samples: gathered.samples,
        left_out: gathered.left_out,
    })
}

/// One boot running the plan; the guest's release and what it reported.
fn boot(
    kernel: &Path,
    mode: Mode,
    kernel_args: &[String],
    plan: &Plan,
    objects: &[(String, PathBuf)],
) -> Result<(String, Gathered), CliError> {
    let me = std::env::current_exe().map_err(|source| CliError::CurrentExe { source })?;
    let config = kernel_config(kernel).filter(|_| plan.schedulers.iter().any(|s| s.reference));
    let plan = &Plan { kconfig: config.as_ref().map(|_| GUEST_KCONFIG.to_string()), ..plan.clone() };
    let dir = crate::run::temp_dir()?;
    let plan_file = dir.path().join("plan.json");
    let plan_text = serde_json::to_string_pretty(plan).expect("plans serialize");
    std::fs::write(&plan_file, plan_text)
        .map_err(|source| CliError::WriteOutput { path: plan_file.clone(), source })?;
    let name = kernel.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let progress = Progress { started: Instant::now(), rounds: plan.rounds, kernel: name.clone() };
    eprintln!("[bench {name}] booting {} in {} mode...", kernel.display(), mode.name());
    let measurements = plan.rounds * (plan.workloads.len() * plan.schedulers.len()) as u32 + 1;
    let gathered = Arc::new(Mutex::new(Gathered::default()));
    let mut guest = Guest::new(kernel);
    guest
        .executable("/bin/schedc", &me)
        .executable("/usr/bin/cyclictest", &tool("cyclictest")?)
        .executable("/usr/bin/hackbench", &tool("hackbench")?)
        .file(GUEST_PLAN, &plan_file)
        .load("true")
        .watch_state(false)
        .qemu_args(mode.qemu_args())
        .kernel_args(mode.kernel_args())
        .kernel_args(kernel_args)
        .timeout(BOOT_ALLOWANCE + MEASUREMENT_ALLOWANCE * measurements)
        .silence_limit(MEASUREMENT_ALLOWANCE)
        .command("bench", &["/bin/schedc", "bench-guest", GUEST_PLAN]);
    for (guest_path, host) in objects {
        guest.file(guest_path, host);
    }
    if let Some(config) = &config {
        guest.file(GUEST_KCONFIG, config);
    }
    let sink = Arc::clone(&gathered);
    guest.on_output(move |command, line| {
        if command != "bench" {
            return;
        }
        match AgentEvent::parse(line) {
            Some(Ok(event)) => sink.lock().expect("not poisoned").take(&event, &progress),
            Some(Err(e)) => eprintln!("[bench] unreadable event ({e}): {line}"),
            None => eprintln!("[guest] {line}"),
        }
    });
    let report = match guest.boot() {
        // QEMU 7.2's icount clock now and then stops advancing (both of
        // its threads busy, the guest silent), and a 6.12 guest in icount
        // mode once stalled on one CPU with only RCU stall reports on its
        // console: one more boot, said aloud.
        Err(VmError::Silent { silence, .. }) => {
            eprintln!(
                "[bench {name}] the guest printed nothing but kernel messages for {} s and was stopped; \
                 booting it once more",
                silence.as_secs()
            );
            *gathered.lock().expect("not poisoned") = Gathered::default();
            guest.boot()?
        }
        other => other?,
    };
    let gathered = std::mem::take(&mut *gathered.lock().expect("not poisoned"));
    let run = report.command("bench").ok_or(CliError::GuestDidNotRun)?;
    if let Some(message) = gathered.failure.clone() {
        return Err(CliError::Bench { message: format!("in the guest ({}): {message}", report.release) });
    }
    if run.exit_code != 0 {
        return Err(CliError::Bench {
            message: format!("the guest's agent exited with {}:\n{}", run.exit_code, run.output.trim_end()),
        });
    }
    let per_scheduler = (plan.rounds as usize) * plan.workloads.len();
    let short: Vec<String> = if gathered.rejected.is_some() {
        Vec::new()
    } else {
        plan.schedulers
            .iter()
            .filter(|s| !gathered.left_out.iter().any(|l| l.scheduler == s.label))
            .map(|s| (s, gathered.samples.iter().filter(|x| x.scheduler == s.label).count()))
            .filter(|(_, n)| *n != per_scheduler)
            .map(|(s, n)| format!("{}: {n} of {per_scheduler}", s.label))
            .collect()
    };
    if !short.is_empty() || gathered.floor.is_none() {
        return Err(CliError::Bench {
            message: format!(
                "the guest did not report every measurement ({}):\n{}",
                if short.is_empty() { "no idle floor".to_string() } else { short.join(", ") },
                run.output
            ),
        });
    }
    Ok((report.release, gathered))
}

/// The config beside a kernel image: `config-X` for `bzImage-X` or
/// `vmlinuz-X`, as in `/boot`.
fn kernel_config(kernel: &Path) -> Option<PathBuf> {
    let name = kernel.file_name()?.to_string_lossy();
    let (_, release) = name.split_once('-')?;
    Some(kernel.with_file_name(format!("config-{release}"))).filter(|c| c.is_file())
}

/// A workload tool on this machine, to copy into the guest.
fn tool(name: &'static str) -> Result<PathBuf, CliError> {
    let found = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()));
    found.ok_or(CliError::Vm(schedc_runtime::vm::VmError::MissingProgram { program: name, package: "rt-tests" }))
}

/// `schedc bench-guest PLAN`: the agent, inside the guest. Events go to
/// stdout as lines; fails if the plan could not be run to its end.
pub fn guest(plan: &Path) -> Result<ExitCode, CliError> {
    let text = std::fs::read_to_string(plan).map_err(|source| CliError::ReadPolicy { path: plan.into(), source })?;
    let plan: Plan =
        serde_json::from_str(&text).map_err(|e| CliError::Bench { message: format!("{}: {e}", plan.display()) })?;
    let outcome = agent::run(&plan, &mut |event| println!("{}", event.line()));
    Ok(if outcome.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_is_named_by_its_file_unless_another_target_shares_it() {
        let targets: Vec<PathBuf> =
            ["policies/bpfland.policy", "a/simple.policy", "b/simple.policy"].iter().map(PathBuf::from).collect();
        let labels: Vec<String> = targets.iter().map(|t| target_label(t, &targets)).collect();
        assert_eq!(labels, ["bpfland.policy", "a/simple.policy", "b/simple.policy"]);
    }
}
