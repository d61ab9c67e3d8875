//! VM tests of what `schedc run` does beside its main promises (those are
//! in tests/proof_vm.rs, every policy under a mixed load with faults):
//! CPU hotplug, latency histograms, `--stats json` with `schedc stats` and
//! restarts, per-LLC and per-node queues on two sockets, the CPU hardware
//! facts on SMT cores, a queue confined to a CPU set, a dynamic CPU set
//! the policy shrinks while it runs, qmap's -H option, and a verifier
//! refusal, on each kernel in ../shared/kernels.
//!
//! Under CI (CI=true) a missing kernel, QEMU or clang is a failure;
//! elsewhere the test is reported ignored, with the reason.

use std::path::{Path, PathBuf};

#[path = "../runtime/tests/vmtest/mod.rs"]
mod vmtest;

use schedc_runtime::vm::{CommandRun, Guest, GuestReport};
use schedc_testkit::Missing;
use vmtest::{available_kernels, compile_with_schedc, missing_prerequisite, sections, VmTest};

fn main() {
    schedc_testkit::run_guests(vec![
        schedc_testkit::test(
            "every_policy_survives_cpu_hotplug_under_load",
            every_policy_survives_cpu_hotplug_under_load,
        ),
        schedc_testkit::test(
            "latency_histograms_under_the_default_scheduler_and_by_class_under_bpfland",
            latency_histograms_under_the_default_scheduler_and_by_class_under_bpfland,
        ),
        schedc_testkit::test(
            "stats_json_monitor_and_restarts_on_every_kernel",
            stats_json_monitor_and_restarts_on_every_kernel,
        ),
        schedc_testkit::test("per_llc_and_per_node_queues_on_two_sockets", per_llc_and_per_node_queues_on_two_sockets),
        schedc_testkit::test("cpu_hardware_facts_with_and_without_smt", cpu_hardware_facts_with_and_without_smt),
        schedc_testkit::test("a_confined_queue_runs_only_on_its_cpu_set", a_confined_queue_runs_only_on_its_cpu_set),
        schedc_testkit::test("a_dynamic_cpu_set_shrinks_at_run_time", a_dynamic_cpu_set_shrinks_at_run_time),
        schedc_testkit::test(
            "qmap_serves_nice_minus_20_first_under_highpri_boost",
            qmap_serves_nice_minus_20_first_under_highpri_boost,
        ),
        schedc_testkit::test(
            "a_refused_program_is_reported_at_its_c_line",
            a_refused_program_is_reported_at_its_c_line,
        ),
    ])
}

/// The policies taken through CPU hotplug (every policy in policies/ runs
/// under load, with faults, in tests/proof_vm.rs).
const POLICIES: &[&str] = &["bpfland", "fifo", "vtime", "shortfirst"];

/// Compiles `FILE` (relative to the workspace, e.g. `policies/fifo.policy`)
/// into `dir`.
fn compile_file(file: &str, dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    compile_with_schedc(Path::new(env!("CARGO_BIN_EXE_schedc")), &root.join(file), dir)
}

fn compile(policy: &str, dir: &Path) -> PathBuf {
    compile_file(&format!("policies/{policy}.policy"), dir)
}

/// The final values `schedc run` printed, as (name, value) pairs.
fn final_stats(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("final "))
        .filter_map(|l| l.split("  #").next()?.split_once('='))
        .map(|(n, v)| (n.to_string(), v.trim().to_string()))
        .collect()
}

fn counter_total(stats: &[(String, String)], names: &[&str]) -> u64 {
    stats.iter().filter(|(n, _)| names.contains(&n.as_str())).filter_map(|(_, v)| v.parse::<u64>().ok()).sum()
}

/// Compiles `file` and, on every kernel, boots a guest that `setup` shapes
/// and that runs the object once: the scheduler must be enabled during the
/// run and exit cleanly. `check` then gets the report, the run, and a
/// context line for failure messages.
fn one_run_on_every_kernel(
    file: &str,
    setup: impl Fn(&mut VmTest),
    check: impl Fn(&GuestReport, &CommandRun, &str),
) -> Result<(), Missing> {
    runs_on_every_kernel(&[file], setup, |report, runs| check(report, runs[0].0, &runs[0].1))
}

/// Boots every kernel once with each policy of `files` run in turn, as
/// `setup` asks; each run must have been enabled and ended cleanly before
/// `check` sees the runs, in `files` order, each with its context line.
fn runs_on_every_kernel(
    files: &[&str],
    setup: impl Fn(&mut VmTest),
    check: impl Fn(&GuestReport, &[(&CommandRun, String)]),
) -> Result<(), Missing> {
    if let Some(why) = missing_prerequisite() {
        return Err(Missing::new(why));
    }
    let dir = tempfile::tempdir().unwrap();
    let objects: Vec<PathBuf> = files.iter().map(|file| compile_file(file, dir.path())).collect();
    let schedc = Path::new(env!("CARGO_BIN_EXE_schedc"));
    for kernel in available_kernels() {
        let mut vm = VmTest::new(&kernel, schedc);
        setup(&mut vm);
        for obj in &objects {
            vm.object(obj);
        }
        let report = vm.run().unwrap_or_else(|e| panic!("{}: {e}", kernel.display()));
        let runs: Vec<(&CommandRun, String)> = objects
            .iter()
            .map(|obj| {
                let object = obj.file_name().expect("an object").to_string_lossy().into_owned();
                let run = report.command(&object).unwrap_or_else(|| panic!("{object} did not run:\n{}", report.serial));
                let ctx = format!("{object} on {}:\n{}", report.release, run.output);
                assert_eq!((run.state_during.as_str(), run.exit_code), ("enabled", 0), "{ctx}");
                (run, ctx)
            })
            .collect();
        check(&report, &runs);
    }
    Ok(())
}

/// `tests/vm/reject.bpf.c` (the C of `tests/vm/reject.policy` with one
/// rule's line turned into an out-of-bounds read) is refused by the verifier
/// on every kernel; run as a bare object, the report names the refused C line
/// and the verifier's reason, without the whole log. (With the policy at
/// hand, `schedc run` points at the policy line: src/verifier.rs tests that
/// against these kernels' logs.)
fn a_refused_program_is_reported_at_its_c_line() -> Result<(), Missing> {
    if let Some(why) = missing_prerequisite() {
        return Err(Missing::new(why));
    }
    let dir = tempfile::tempdir().unwrap();
    let obj = dir.path().join("reject.bpf.o");
    let c = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vm/reject.bpf.c")).unwrap();
    let clang = schedc_compiler::build::Clang::find().unwrap_or_else(|e| panic!("{e}"));
    schedc_compiler::build::build_object(&clang, "reject", &c, &obj).unwrap_or_else(|e| panic!("{e}"));
    for kernel in available_kernels() {
        let report = VmTest::new(&kernel, Path::new(env!("CARGO_BIN_EXE_schedc")))
            .loader_args(&["run", "{obj}", "--duration", "2s"])
            .object(&obj)
            .file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vm/reject.policy"))
            // As `run --vm POLICY` has the guest run it: the policy's text beside the object.
            .script(
                "/bin/loader run /objs/reject.bpf.o --duration 2s \
                 --policy-source /objs/reject.policy tests/vm/reject.policy",
            )
            .run()
            .unwrap_or_else(|e| panic!("{}: {e}", kernel.display()));
        let run = report.command("reject.bpf.o").expect("reject ran");
        let ctx = format!("reject on {}:\n{}", report.release, run.output);
        assert_eq!(run.exit_code, 1, "{ctx}");
        assert_eq!(run.state_after, "disabled", "{ctx}");
        for said in [
            "schedc::verifier-rejected",
            "The kernel's verifier refused reject_enqueue in /objs/reject.bpf.o, at reject.bpf.c:73 (`tctx->hits",
            "invalid access to map value, value_size=8 off=8 size=8",
            "the whole verifier log is kept at /tmp/schedc-verifier-reject-",
        ] {
            assert!(run.output.contains(said), "no {said:?} in {ctx}");
        }
        assert!(!run.output.contains("BEGIN PROG LOAD LOG"), "the whole log was printed: {ctx}");
        let with_policy = report.command("script").expect("the run with its policy ran");
        let ctx = format!("reject with its policy on {}:\n{}", report.release, with_policy.output);
        assert_eq!(with_policy.exit_code, 1, "{ctx}");
        for said in ["[tests/vm/reject.policy:15:5]", "task.hits += 1", "refused here: reject.bpf.c:73"] {
            assert!(with_policy.output.contains(said), "no {said:?} in {ctx}");
        }
        println!("reject on {}: refused at reject.bpf.c:73", report.release);
    }
    Ok(())
}

/// CPU 2 of a 4-CPU guest goes offline and back online three times while
/// each policy runs beside CPU hogs. Each offline spell outlasts the longest
/// policy timeout (fifo's 10 s), so a task stranded on the offline CPU's
/// per-CPU queue would trip the kernel's watchdog.
const HOTPLUG_CYCLES: &str = r#"
# If a CPU's state change hangs, the console gets the stacks of the tasks
# stuck in D state after 60 s, so the failure says where the kernel waits.
watchdog() {
    ( sleep 60; echo "hotplug step '$1' hangs; blocked tasks:" >/dev/console
      for t in /proc/[0-9]*; do
          case "$(cat $t/stat 2>/dev/null)" in *") D "*) cat $t/stat $t/stack >/dev/console 2>&1;; esac
      done
      dmesg -n 8; echo w >/proc/sysrq-trigger ) &
    dog=$!
}
step() {
    watchdog "$1"
    echo $2 >/sys/devices/system/cpu/cpu2/online || echo "$1-failed cycle=$cycle"
    kill $dog 2>/dev/null
}
( i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; echo workload-done ) &
work=$!
for cycle in 1 2 3; do
    step offline 0
    sleep 11
    step online 1
    sleep 1
    echo "hotplug-cycle=$cycle state=$(cat /sys/kernel/sched_ext/state) online=$(cat /sys/devices/system/cpu/online) uptime=$(cut -d' ' -f1 /proc/uptime)"
done
wait $work
kill -INT $pid
"#;

fn every_policy_survives_cpu_hotplug_under_load() -> Result<(), Missing> {
    if let Some(why) = missing_prerequisite() {
        return Err(Missing::new(why));
    }
    let dir = tempfile::tempdir().unwrap();
    let objects: Vec<PathBuf> = POLICIES.iter().map(|p| compile(p, dir.path())).collect();
    let schedc = Path::new(env!("CARGO_BIN_EXE_schedc"));

    for kernel in available_kernels() {
        let mut guest = Guest::new(&kernel);
        guest
            .executable("/bin/schedc", schedc)
            .cpus(4)
            .load("stress-ng -q --cpu 4 --timeout 900s")
            .timeout(std::time::Duration::from_secs(900));
        for (policy, obj) in POLICIES.iter().zip(&objects) {
            let in_guest = format!("/objs/{policy}.bpf.o");
            // A long duration: the hotplug script stops the run with SIGINT.
            let script = format!(
                "/bin/schedc run {in_guest} --duration 300s &
                 pid=$!
                 while [ \"$(cat /sys/kernel/sched_ext/state)\" != enabled ]; do kill -0 $pid || break; sleep 0.1; done
                 {HOTPLUG_CYCLES}
                 wait $pid; rc=$?
                 dmesg | grep sched_ext | tail -n 20
                 exit $rc"
            );
            guest.file(&in_guest, obj).command(policy, &["/bin/sh", "-c", &script]);
        }
        let report = guest.boot().unwrap_or_else(|e| panic!("{}: {e}", kernel.display()));
        for policy in POLICIES {
            let run = report.command(policy).unwrap_or_else(|| panic!("{policy} did not run:\n{}", report.serial));
            let ctx = format!("{policy} on {}:\n{}", report.release, run.output);
            assert_eq!(run.state_during, "enabled", "{ctx}");
            for cycle in 1..=3 {
                assert!(
                    run.output.contains(&format!("hotplug-cycle={cycle} state=enabled online=0-3")),
                    "{policy} was not enabled with every CPU back online after cycle {cycle}: {ctx}"
                );
            }
            assert!(!run.output.contains("-failed"), "a CPU did not change state: {ctx}");
            assert!(run.output.contains("workload-done"), "the workload did not finish: {ctx}");
            assert!(run.output.contains("(interrupted)"), "the scheduler did not run until stopped: {ctx}");
            assert!(run.output.contains("SCX_EXIT_UNREG"), "{ctx}");
            assert_eq!(run.exit_code, 0, "{ctx}");
            assert_eq!(run.state_after, "disabled", "{ctx}");
        }
    }
    Ok(())
}

/// The count of the histogram titled `title` ("all tasks", "class
/// interactive", ...) in the whole-run block `schedc run --latency` and
/// `schedc latency` print last, if there is one with at least one slot line.
fn run_latency_count(output: &str, title: &str) -> Option<u64> {
    let (_, whole_run) = output.split_once("latency over the run")?;
    let mut lines = whole_run.lines().skip_while(|l| !l.starts_with(&format!("{title}: count ")));
    let count = lines.next()?.strip_prefix(&format!("{title}: count "))?.split_whitespace().next()?.parse().ok()?;
    let slot = lines.next()?;
    (slot.trim_start().starts_with('[') && slot.contains("|@")).then_some(count)
}

fn latency_histograms_under_the_default_scheduler_and_by_class_under_bpfland() -> Result<(), Missing> {
    if let Some(why) = missing_prerequisite() {
        return Err(Missing::new(why));
    }
    let dir = tempfile::tempdir().unwrap();
    let bpfland = compile("bpfland", dir.path());
    let schedc = Path::new(env!("CARGO_BIN_EXE_schedc"));

    for kernel in available_kernels() {
        let mut vm = VmTest::new(&kernel, schedc);
        vm.loader_args(&["run", "--latency", "{obj}", "--duration", "3s", "--interval", "1s"])
            .object(&bpfland)
            .script("/bin/loader latency --duration 3s --interval 1s --probe-cost");
        let report = vm.run().unwrap_or_else(|e| panic!("{}: {e}", kernel.display()));

        let run = report.command("bpfland.bpf.o").unwrap_or_else(|| panic!("bpfland did not run:\n{}", report.serial));
        let ctx = format!("bpfland --latency on {}:\n{}", report.release, run.output);
        assert_eq!((run.state_during.as_str(), run.exit_code), ("enabled", 0), "{ctx}");
        assert!(run.output.contains("latency at 1s\nall tasks: count "), "no interval histogram: {ctx}");
        let all = run_latency_count(&run.output, "all tasks").unwrap_or_else(|| panic!("no histogram: {ctx}"));
        let interactive = run_latency_count(&run.output, "class interactive")
            .unwrap_or_else(|| panic!("no interactive histogram: {ctx}"));
        let rest = run_latency_count(&run.output, "class none").unwrap_or_else(|| panic!("no none histogram: {ctx}"));
        let unattributed = run_latency_count(&run.output, "no class record").unwrap_or(0);
        assert_eq!(interactive + rest + unattributed, all, "every wait is in one class row: {ctx}");
        println!("bpfland on {}: {all} waits, {interactive} interactive, {rest} in no class", report.release);

        let default = &report.command("script").expect("the script ran").output;
        let ctx = format!("schedc latency on {}:\n{default}", report.release);
        assert!(default.contains("measuring runqueue latency under the kernel's default scheduler"), "{ctx}");
        let all = run_latency_count(default, "all tasks").unwrap_or_else(|| panic!("no histogram: {ctx}"));
        assert!(!default.contains("class "), "no classes without a schedc scheduler: {ctx}");
        let cost = default.lines().find(|l| l.starts_with("probe cost: ")).unwrap_or_else(|| panic!("{ctx}"));
        println!("default scheduler on {}: {all} waits; {cost}", report.release);
    }
    Ok(())
}

/// Every line of `ndjson` as a statistics record; any other line fails.
fn records(ndjson: &str, ctx: &str) -> Vec<schedc_abi::stats::Record> {
    ndjson
        .lines()
        .map(|l| schedc_abi::stats::Record::from_json(l).unwrap_or_else(|e| panic!("{e}: {l}\n{ctx}")))
        .collect()
}

/// Prints each section of a guest script's output between `@@NAME` lines.
const PRINT_SECTIONS: &str = "for f in /tmp/*.out /tmp/*.err; do echo \"@@$(basename $f)\"; cat $f; done; echo @@end";

/// `schedc run --stats json` writes valid NDJSON on stdout; `schedc stats`
/// from a second command finds the scheduler through the kernel, prints the
/// same statistics live and exits when it goes away; a scheduler without
/// hotplug callbacks is restarted each time a CPU goes on- or offline, at
/// most 3 times in 30 s.
fn stats_json_monitor_and_restarts_on_every_kernel() -> Result<(), Missing> {
    use schedc_abi::stats::{Body, Stop};
    if let Some(why) = missing_prerequisite() {
        return Err(Missing::new(why));
    }
    let dir = tempfile::tempdir().unwrap();
    let fifo = compile("fifo", dir.path());
    let onequeue = compile_file("tests/vm/onequeue.policy", dir.path());
    let schedc = Path::new(env!("CARGO_BIN_EXE_schedc"));
    let wait_enabled =
        "while [ \"$(cat /sys/kernel/sched_ext/state)\" != enabled ]; do kill -0 $pid || break; sleep 0.1; done";
    let monitor = format!(
        "/bin/schedc stats --interval 500ms >/tmp/nothing.out 2>/tmp/nothing.err; echo rc=$? >>/tmp/nothing.out
         /bin/schedc run /objs/fifo.bpf.o --duration 8s --interval 500ms --stats json >/tmp/run.out 2>/tmp/run.err &
         pid=$!
         {wait_enabled}
         /bin/schedc stats >/tmp/table.out 2>/tmp/table.err &
         table=$!
         /bin/schedc stats --json --interval 500ms >/tmp/mon.out 2>/tmp/mon.err; echo rc=$? >>/tmp/mon.err
         wait $table; echo rc=$? >>/tmp/table.err
         wait $pid; echo rc=$? >>/tmp/run.err
         {PRINT_SECTIONS}"
    );
    // Four hotplug events 6 s apart (more than a load takes, so none falls
    // between an ejection and the next load): three restarts within 30 s,
    // the fourth refused.
    let restarts = format!(
        "/bin/schedc run /objs/onequeue.bpf.o --duration 60s --stats json >/tmp/restart.out 2>/tmp/restart.err &
         pid=$!
         {wait_enabled}
         for online in 0 1 0 1; do
             sleep 6
             echo $online >/sys/devices/system/cpu/cpu1/online || echo hotplug-failed >>/tmp/restart.err
         done
         wait $pid; echo rc=$? >>/tmp/restart.err
         echo state-after=$(cat /sys/kernel/sched_ext/state) >>/tmp/restart.err
         {PRINT_SECTIONS}"
    );

    for kernel in available_kernels() {
        let mut guest = Guest::new(&kernel);
        guest
            .executable("/bin/schedc", schedc)
            .file("/objs/fifo.bpf.o", &fifo)
            .file("/objs/onequeue.bpf.o", &onequeue)
            .command("monitor", &["/bin/sh", "-c", &monitor])
            .command("restarts", &["/bin/sh", "-c", &restarts]);
        let report = guest.boot().unwrap_or_else(|e| panic!("{}: {e}", kernel.display()));
        let release = &report.release;

        let run = report.command("monitor").unwrap_or_else(|| panic!("no monitor run:\n{}", report.serial));
        let s = sections(&run.output);
        let ctx = format!("monitor on {release}:\n{}", run.output);
        let text = |name: &str| s.get(name).map(String::as_str).unwrap_or_else(|| panic!("no {name}: {ctx}"));
        assert!(text("nothing.err").contains("no sched_ext scheduler is attached (sched_ext is disabled)"), "{ctx}");
        assert!(text("nothing.out").contains("rc=1"), "{ctx}");
        assert!(text("run.err").contains("rc=0"), "{ctx}");
        assert!(text("run.err").contains("(the duration elapsed)"), "people's lines go to stderr: {ctx}");
        let ran = records(text("run.out"), &ctx);
        assert!(matches!(ran.first().map(|r| &r.body), Some(Body::Attached { .. })), "{ctx}");
        let intervals = ran.iter().filter(|r| matches!(r.body, Body::Interval { .. })).count();
        assert!(intervals >= 10, "{intervals} interval records in 8 s at 500 ms: {ctx}");
        let Some(Body::Exit { stop, exit: Some(exit), stats }) = ran.last().map(|r| &r.body) else {
            panic!("the last record is not an exit record: {ctx}")
        };
        assert_eq!((*stop, exit.kind_name.as_str()), (Stop::DurationElapsed, "SCX_EXIT_UNREG"), "{ctx}");
        let queued: u64 = stats.iter().filter_map(|s| s.delta).sum::<u64>()
            + ran
                .iter()
                .filter_map(|r| match &r.body {
                    Body::Interval { stats, .. } => Some(stats.iter().filter_map(|s| s.delta).sum::<u64>()),
                    _ => None,
                })
                .sum::<u64>();
        assert!(queued > 0, "the counters' deltas never moved: {ctx}");
        assert!(ran.iter().all(|r| r.scheduler == "fifo" && r.object.as_deref() == Some("/objs/fifo.bpf.o")), "{ctx}");

        // The monitor saw the same scheduler, live, and its end.
        assert!(text("mon.err").contains("rc=0"), "{ctx}");
        let seen = records(text("mon.out"), &ctx);
        let names = |r: &schedc_abi::stats::Record| match &r.body {
            Body::Interval { stats, .. } => stats.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            _ => vec![],
        };
        let live: Vec<&schedc_abi::stats::Record> =
            seen.iter().filter(|r| matches!(r.body, Body::Interval { .. })).collect();
        assert!(live.len() >= 5, "{} interval records from schedc stats: {ctx}", live.len());
        assert_eq!(names(live[0]), ["nr_direct", "nr_queued"], "{ctx}");
        let Some(Body::Attached { params }) = seen.first().map(|r| &r.body) else { panic!("{ctx}") };
        assert_eq!(
            params.iter().map(|p| (p.name.as_str(), p.value.to_string())).collect::<Vec<_>>(),
            [("slice_len", "20ms".to_string())]
        );
        let Some(Body::Exit { stop: Stop::Detached, exit: Some(exit), .. }) = seen.last().map(|r| &r.body) else {
            panic!("schedc stats did not end with the scheduler's detach: {ctx}")
        };
        assert_eq!(exit.kind_name, "SCX_EXIT_UNREG", "{ctx}");
        let table = text("table.out");
        assert!(table.contains("nr_direct") && table.contains("stopped: fifo"), "{ctx}");
        assert!(text("table.err").contains("rc=0"), "{ctx}");
        println!("schedc stats on {release}: {} live records, the run {intervals}", live.len());

        let run = report.command("restarts").unwrap_or_else(|| panic!("no restart run:\n{}", report.serial));
        let s = sections(&run.output);
        let ctx = format!("restarts on {release}:\n{}", run.output);
        let text = |name: &str| s.get(name).map(String::as_str).unwrap_or_else(|| panic!("no {name}: {ctx}"));
        let err = text("restart.err");
        assert!(!err.contains("hotplug-failed"), "{ctx}");
        assert!(err.contains("rc=1") && err.contains("state-after=disabled"), "{ctx}");
        assert_eq!(err.matches("restarting onequeue (").count(), 3, "{ctx}");
        assert!(err.contains("not restarted: the kernel asked for a restart, but 3 restarts within 30s"), "{ctx}");
        let recs = records(text("restart.out"), &ctx);
        let attempts: Vec<u32> = recs
            .iter()
            .filter_map(|r| match &r.body {
                Body::Restart { attempt, exit, .. } => {
                    assert!(exit.restart && exit.exit_code & schedc_abi::exit::ECODE_RSN_HOTPLUG != 0, "{ctx}");
                    Some(*attempt)
                }
                _ => None,
            })
            .collect();
        assert_eq!(attempts, [1, 2, 3], "{ctx}");
        assert_eq!(recs.iter().filter(|r| matches!(r.body, Body::Attached { .. })).count(), 4, "{ctx}");
        let Some(Body::Exit { stop: Stop::Ejected, exit: Some(exit), .. }) = recs.last().map(|r| &r.body) else {
            panic!("{ctx}")
        };
        assert!(exit.restart, "{ctx}");
        println!("onequeue on {release}: restarted 3 times, the fourth request refused: {}", exit.message);
    }
    Ok(())
}

/// `tests/vm/topology.policy` on a guest of two sockets (two LLCs, two NUMA
/// nodes, two CPUs each): the runtime maps each CPU to its LLC and node from
/// sysfs, the scheduler creates one queue instance per LLC and per node,
/// tasks go through both kinds of queue, and the enqueue-side idle pick
/// (`-> Q idle`) places tasks; `waker` and `prev_llc` pass the verifier.
fn per_llc_and_per_node_queues_on_two_sockets() -> Result<(), Missing> {
    let setup = |vm: &mut VmTest| {
        // Every CPU busy: a task whose slice ends finds no idle CPU and goes
        // to its node's queue (with the default load of one hog, three CPUs
        // stayed idle and in one CI run no task reached a node queue).
        vm.sockets(2)
            .load("stress-ng -q --cpu 4 --switch 1 --timeout 900s")
            .loader_args(&["run", "{obj}", "--duration", "3s"])
            .script(
                "for c in /sys/devices/system/cpu/cpu[0-9]*; do
                     echo \"llc $(cat $c/cache/index3/shared_cpu_list)\"
                 done
                 for n in /sys/devices/system/node/node[0-9]*; do echo \"node $(cat $n/cpulist)\"; done",
            );
    };
    one_run_on_every_kernel("tests/vm/topology.policy", setup, |report, run, ctx| {
        let layout = &report.command("script").expect("the script ran").output;
        let distinct = |kind: &str| {
            let mut lists: Vec<&str> = layout.lines().filter_map(|l| l.strip_prefix(kind)).collect();
            lists.sort_unstable();
            lists.dedup();
            lists
        };
        assert_eq!(distinct("llc "), ["0-1", "2-3"], "two LLCs on {}:\n{layout}", report.release);
        assert_eq!(distinct("node "), ["0-1", "2-3"], "two nodes on {}:\n{layout}", report.release);
        assert!(run.output.contains("(the duration elapsed)"), "{ctx}");
        let stats = final_stats(&run.output);
        let count = |name: &str| counter_total(&stats, &[name]);
        let (llc, node, idle) = (count("nr_llc"), count("nr_node"), count("nr_idle"));
        println!(
            "topology on {}: {llc} tasks queued per LLC, {node} per node, {idle} on an idle CPU from enqueue",
            report.release
        );
        assert!(llc > 0 && node > 0, "both kinds of queue must be used: {ctx}");
        assert!(idle > 0, "new tasks (select_cpu skipped) go to an idle CPU: {ctx}");
        // The runtime's map reached the scheduler: tasks ran in LLC 1 and node 1.
        let top = |name: &str| stats.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!((top("top_llc"), top("top_node")), (Some("1"), Some("1")), "{ctx}");
    })
}

/// `tests/vm/hwfacts.policy` on a guest of two cores with two SMT threads
/// each: `cpu.capacity` and `cpu.perf` read what the kernel reports (the
/// guest's CPUs are alike, so each has the full capacity, 1024), the
/// verifier takes `cpu.perf = VALUE` and the kernel keeps the scheduler
/// while it runs at every tick and from the timer, and `cpu(CPU).smt_contended` is true for
/// some enqueues and false for others. Then SMT is turned off in the guest
/// and the same object runs again: the fact is never true.
fn cpu_hardware_facts_with_and_without_smt() -> Result<(), Missing> {
    let setup = |vm: &mut VmTest| {
        vm.smt(2).loader_args(&["run", "{obj}", "--duration", "3s"]).script(
            "echo \"siblings $(cat /sys/devices/system/cpu/cpu0/topology/thread_siblings_list)\"
             echo off > /sys/devices/system/cpu/smt/control
             echo \"smt active $(cat /sys/devices/system/cpu/smt/active)\"
             /bin/loader run /objs/hwfacts.bpf.o --duration 3s",
        );
    };
    one_run_on_every_kernel("tests/vm/hwfacts.policy", setup, |report, run, ctx| {
        let release = &report.release;
        assert!(run.output.contains("(the duration elapsed)"), "{ctx}");
        let stats = final_stats(&run.output);
        let count = |stats: &[(String, String)], name: &str| counter_total(stats, &[name]);
        let (capacity, perf) = (count(&stats, "capacity"), count(&stats, "perf"));
        let (set, contended, uncontended) =
            (count(&stats, "nr_perf_set"), count(&stats, "nr_contended"), count(&stats, "nr_uncontended"));
        let timer = count(&stats, "nr_timer_set");
        println!(
            "hwfacts on {release} (SMT): capacity={capacity} perf={perf} targets set={set} (timer {timer}) \
             contended={contended} not={uncontended}"
        );
        assert_eq!(capacity, 1024, "the guest's CPUs are alike: {ctx}");
        assert!(perf <= 1024, "{ctx}");
        assert!(set > 0, "cpu.perf was never set from on tick: {ctx}");
        assert!(timer > 0, "cpu.perf was never set from on timer: {ctx}");
        assert!(contended > 0 && uncontended > 0, "SMT contention must vary under a partial load: {ctx}");

        let script = &report.command("script").expect("the script ran").output;
        let ctx = format!("hwfacts on {release} without SMT:\n{script}");
        assert!(script.contains("siblings 0-1"), "the guest has two threads per core: {ctx}");
        assert!(script.contains("smt active 0"), "SMT turned off: {ctx}");
        assert!(script.contains("(the duration elapsed)"), "{ctx}");
        let stats = final_stats(script);
        let (contended, uncontended) = (count(&stats, "nr_contended"), count(&stats, "nr_uncontended"));
        println!("hwfacts on {release} (SMT off): contended={contended} not={uncontended}");
        assert_eq!(contended, 0, "no SMT, no contention: {ctx}");
        assert!(uncontended > 0, "{ctx}");
    })
}

/// `tests/vm/confined.policy` confines the stress-ng workers to a tunable
/// CPU set (idle picks in the set, their queue served only there), set to
/// CPU 1 with `--set` (its default is CPU 0), while two workers load the
/// guest's two CPUs: in the window it counts, every worker that started
/// running did so on CPU 1, and some did.
fn a_confined_queue_runs_only_on_its_cpu_set() -> Result<(), Missing> {
    let setup = |vm: &mut VmTest| {
        vm.load("stress-ng -q --cpu 2 --timeout 900s").loader_args(&[
            "run",
            "{obj}",
            "--duration",
            "4s",
            "--set",
            "workers_cpus=1",
        ]);
    };
    one_run_on_every_kernel("tests/vm/confined.policy", setup, |report, run, ctx| {
        let stats = final_stats(&run.output);
        let (inside, outside) = (counter_total(&stats, &["inside"]), counter_total(&stats, &["outside"]));
        println!("confined on {}: {inside} worker runs on CPU 1, {outside} elsewhere", report.release);
        assert!(inside > 0, "the workers ran: {ctx}");
        assert_eq!(outside, 0, "no worker ran outside its CPU set: {ctx}");
    })
}

/// `policies/qmap.policy` with `--set highpri_boost=true` (scx_qmap -H)
/// beside a CPU hog at nice -20 (weight 8668): the hog's tasks are classed
/// highpri and queued in highpri_q, while the rest of the guest still goes
/// through the weight queues (the proof run keeps -H off, so it never feeds
/// highpri_q).
fn qmap_serves_nice_minus_20_first_under_highpri_boost() -> Result<(), Missing> {
    let setup = |vm: &mut VmTest| {
        // One hog only: at nice -20 under -H it keeps a CPU; the other serves the rest.
        vm.load("sh -c 'renice -n -20 -p $$ >/dev/null; exec stress-ng -q --cpu 1 --timeout 900s'").loader_args(&[
            "run",
            "{obj}",
            "--duration",
            "4s",
            "--set",
            "highpri_boost=true",
        ]);
    };
    one_run_on_every_kernel("policies/qmap.policy", setup, |report, run, ctx| {
        assert!(run.output.contains("(the duration elapsed)"), "{ctx}");
        let stats = final_stats(&run.output);
        let highpri = counter_total(&stats, &["nr_highpri"]);
        let weighted = counter_total(&stats, &["nr_q0", "nr_q1", "nr_q2", "nr_q3", "nr_q4"]);
        println!("qmap -H on {}: {highpri} queued as highpri, {weighted} by weight", report.release);
        assert!(highpri > 0, "the nice -20 hog never reached highpri_q: {ctx}");
        assert!(weighted > 0, "the other tasks went through the weight queues: {ctx}");
    })
}

/// `tests/vm/dynamic.policy` confines the stress-ng workers to a dynamic
/// CPU set that its timer makes CPUs 0 and 1 for the first 2 s, then CPU 0
/// alone (`active = first(1)`), while two workers load the guest's two CPUs:
/// workers started on CPU 1 before the change, none after it, and some
/// still started on CPU 0. Then lavd_lite, whose timer rewrites its own
/// dynamic set (core compaction), loads and runs under the same load.
fn a_dynamic_cpu_set_shrinks_at_run_time() -> Result<(), Missing> {
    let setup = |vm: &mut VmTest| {
        vm.load("stress-ng -q --cpu 2 --timeout 900s").loader_args(&["run", "{obj}", "--duration", "4s"]);
    };
    runs_on_every_kernel(&["tests/vm/dynamic.policy", "policies/lavd_lite.policy"], setup, |report, runs| {
        let (run, ctx) = (runs[0].0, &runs[0].1);
        let stats = final_stats(&run.output);
        let count = |name: &str| counter_total(&stats, &[name]);
        let (shrunk, early_cpu1) = (count("nr_shrunk"), count("early_cpu1"));
        let (late_cpu0, late_cpu1) = (count("late_cpu0"), count("late_cpu1"));
        println!(
            "dynamic on {}: {early_cpu1} worker runs on CPU 1 before the set shrank, then {late_cpu0} on CPU 0 \
             and {late_cpu1} on CPU 1 ({shrunk} timer periods with CPU 0 alone)",
            report.release
        );
        assert!(shrunk > 0, "the timer shrank the set: {ctx}");
        assert!(early_cpu1 > 0, "workers ran on CPU 1 while the set held it: {ctx}");
        assert!(late_cpu0 > 0, "workers kept running on CPU 0: {ctx}");
        assert_eq!(late_cpu1, 0, "no worker started on CPU 1 once the set was CPU 0 alone: {ctx}");

        let (lavd, ctx) = (runs[1].0, &runs[1].1);
        assert!(lavd.output.contains("(the duration elapsed)"), "{ctx}");
    })
}
