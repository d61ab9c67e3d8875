//! Boots every sched_ext kernel in shared/kernels under QEMU and runs the
//! sample policy (compiled by the compiler), the eject scheduler, two
//! policies with ops flags (`flags.policy`, `partial.policy`), one that
//! tells tasks apart by cgroup and user (`identity.policy`) and one whose
//! wakers keep state (`wakerstate.policy`) with the runtime's `load`
//! example beside stress-ng.
//! Needs qemu-system-x86_64, busybox-static, stress-ng and clang-19.
//!
//!     cargo test -p schedc-runtime --features vmtest --test vm -- --nocapture

mod common;
mod vmtest;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use schedc_runtime::vm::{Guest, VmError};
use schedc_testkit::Missing;
use vmtest::{available_kernels, VmTest};

fn main() {
    schedc_testkit::run_guests(vec![
        schedc_testkit::test("sample_runs_on_every_kernel", sample_runs_on_every_kernel),
        schedc_testkit::test("a_silent_guest_is_stopped", a_silent_guest_is_stopped),
    ])
}

/// The `load` example, which cargo builds next to the test binaries.
fn loader() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("examples/load");
    assert!(path.is_file(), "{} is missing: cargo test builds it", path.display());
    path
}

fn stat(output: &str, name: &str) -> u64 {
    output
        .lines()
        .find_map(|l| l.strip_prefix(&format!("schedc-load: stat {name}=")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no final stat {name} in:\n{output}"))
}

/// The guest's default load (a CPU hog and a context-switch storm), plus a
/// shell that wakes every 10 ms in the cgroup `schedc_grp` and one as uid
/// 1234, gid 4321, for `identity.policy` to tell apart. They are light, so
/// that CPUs still run out of work now and then (`flags.policy` counts it).
const IDENTITY_LOAD: &str = "mount -t cgroup2 none /sys/fs/cgroup && mkdir -p /sys/fs/cgroup/schedc_grp
    sh -c 'echo $$ >/sys/fs/cgroup/schedc_grp/cgroup.procs && while :; do usleep 10000; done' &
    mkdir -p /etc && echo 'u1234:x:1234:4321::/tmp:/bin/sh' >>/etc/passwd && echo 'g4321:x:4321:' >>/etc/group
    su -s /bin/sh -c 'while :; do usleep 10000; done' u1234 &
    exec stress-ng -q --cpu 1 --switch 1 --timeout 900s";

fn sample_runs_on_every_kernel() -> Result<(), Missing> {
    let kernels = available_kernels();
    if kernels.is_empty() {
        return Err(Missing::new("no sched_ext kernels found (../shared/kernels or $SCHEDC_KERNELS_DIR)"));
    }
    let dir = tempfile::tempdir().unwrap();
    let obj = dir.path().join("sample.bpf.o");
    common::compile_policy(&common::test_file("sample.policy"), &obj);
    let eject = dir.path().join("eject.bpf.o");
    common::compile_eject(&eject);
    let flags = dir.path().join("flags.bpf.o");
    common::compile_policy(&common::test_file("flags.policy"), &flags);
    let partial = dir.path().join("partial.bpf.o");
    common::compile_policy(&common::test_file("partial.policy"), &partial);
    let identity = dir.path().join("identity.bpf.o");
    common::compile_policy(&common::test_file("identity.policy"), &identity);
    let wakerstate = dir.path().join("wakerstate.bpf.o");
    common::compile_policy(&common::test_file("wakerstate.policy"), &wakerstate);

    for kernel in &kernels {
        let report = VmTest::new(kernel, &loader())
            // Long enough for the eject scheduler to reach its 2000 enqueues on a
            // busy host; it stops as soon as the kernel ejects it.
            .loader_args(&["{obj}", "8"])
            .object(&obj)
            .object(&eject)
            .object(&flags)
            .object(&partial)
            .object(&identity)
            .object(&wakerstate)
            .load(IDENTITY_LOAD)
            .run()
            .unwrap_or_else(|e| panic!("{}: {e}", kernel.display()));
        let run = report.command("sample.bpf.o").expect("sample ran");
        let ctx = format!("kernel {}:\n{}", report.release, report.serial);
        assert_eq!(report.state_before, "disabled", "{ctx}");
        assert_eq!(run.state_during, "enabled", "{ctx}");
        assert_eq!(run.ops_during, "sample", "{ctx}");
        assert_eq!(run.exit_code, 0, "{ctx}");
        assert_eq!(run.state_after, "disabled", "{ctx}");
        assert!(run.output.contains("schedc-load: exit kind=64 SCX_EXIT_UNREG"), "{ctx}");
        assert!(run.output.contains("reason=DurationElapsed"), "{ctx}");
        let queued = ["nr_direct", "nr_prio", "nr_regular"].iter().map(|s| stat(&run.output, s)).sum::<u64>();
        assert!(queued > 0, "no scheduling decisions counted; {ctx}");
        // `on tick` ran: ops.tick is called at every tick of a busy CPU.
        assert!(stat(&run.output, "nr_ticks") > 0, "ops.tick never counted a tick; {ctx}");
        // `on timer 10ms` ran, and again: started in ops.init, the timer
        // re-arms itself; a run of seconds gives hundreds of periods.
        let periods = stat(&run.output, "nr_timer");
        assert!(periods >= 10, "the `on timer` timer fired {periods} times; {ctx}");

        // A scheduler that calls scx_bpf_error() is ejected, and the runtime
        // says so with the kernel's reason and the BPF message.
        let ej = report.command("eject.bpf.o").expect("eject ran");
        assert_eq!(ej.exit_code, 1, "{ctx}");
        assert_eq!(ej.state_after, "disabled", "{ctx}");
        assert!(ej.output.contains("reason=Ejected"), "{ctx}");
        assert!(ej.output.contains("SCX_EXIT_ERROR_BPF"), "{ctx}");
        assert!(ej.output.contains("eject test: 2000 enqueues"), "{ctx}");
        // The kernel's debug dump of the error reaches the exit record.
        let dump_lines = ej
            .output
            .lines()
            .find_map(|l| l.strip_prefix("schedc-load: dump lines="))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("no dump line: {ctx}"));
        assert!(dump_lines > 1, "the error exit carried no kernel dump: {ctx}");
        let run_dump = run.output.lines().find(|l| l.starts_with("schedc-load: dump lines=")).expect("a dump line");
        assert_eq!(run_dump, "schedc-load: dump lines=0 first=", "a requested stop has no dump: {ctx}");
        // `with enqueue_last`: the kernel handed back CPUs' last tasks.
        let fl = report.command("flags.bpf.o").expect("flags ran");
        assert_eq!((fl.state_during.as_str(), fl.ops_during.as_str(), fl.exit_code), ("enabled", "flags", 0), "{ctx}");
        assert!(stat(&fl.output, "nr_queued") > 0, "the flags scheduler queued nothing; {ctx}");
        assert!(stat(&fl.output, "nr_last") > 0, "no enqueue came with SCX_ENQ_LAST; {ctx}");
        // The two flags newer than 6.12: cleared there before load (6.12
        // refuses the object otherwise), kept on newer kernels.
        let dropped: Vec<&str> =
            fl.output.lines().filter_map(|l| l.strip_prefix("schedc-load: dropped ops flag ")).collect();
        let newer = ["enqueue_migration_disabled", "allow_queued_wakeup"];
        let expected: &[&str] = if report.release.starts_with("6.12") { &newer } else { &[] };
        assert_eq!(dropped, expected, "ops flags cleared on {}; {ctx}", report.release);
        // task.running: slices run out under load, and the task is queued
        // again before its CPU switches away; a wake-up never finds it on one.
        let still_running = stat(&fl.output, "nr_still_running");
        assert!(still_running > 0, "no task was queued while running; {ctx}");
        assert_eq!(stat(&fl.output, "nr_woke_running"), 0, "a waking task was running; {ctx}");
        // Such a task runs ops.enqueue itself, inside the trampoline that
        // disables its migration: read raw, every one of them looked pinned
        // (the counts were equal). A task preempted in its own
        // migrate_disable() section is rare.
        let running_pinned = stat(&fl.output, "nr_running_pinned");
        assert!(running_pinned * 10 < still_running, "the trampoline's count read as the task's; {ctx}");
        // `with partial`: enabled, yet no task is its own, under the same load
        // that the schedulers above queued.
        let pa = report.command("partial.bpf.o").expect("partial ran");
        assert_eq!(
            (pa.state_during.as_str(), pa.ops_during.as_str(), pa.exit_code),
            ("enabled", "partial", 0),
            "{ctx}"
        );
        assert_eq!(stat(&pa.output, "nr_queued"), 0, "a partial scheduler took tasks; {ctx}");
        let id = report.command("identity.bpf.o").expect("identity ran");
        let counts: Vec<String> =
            id.output.lines().filter_map(|l| l.strip_prefix("schedc-load: stat ")).map(str::to_string).collect();
        println!("identity: {}", counts.join(" "));
        // task.cgroup, task.uid and task.gid tell the test's tasks apart:
        // the sleeper in schedc_grp, the one run as uid 1234, and the rest
        // (root cgroup, whose name is empty; uid 0).
        let n = |name: &str| stat(&id.output, name);
        assert_eq!(id.exit_code, 0, "{ctx}");
        assert!(n("nr_in_grp") > 0, "no task of the cgroup schedc_grp was seen; {ctx}");
        assert_eq!(n("nr_in_grp_prefix"), n("nr_in_grp"), "starts_with \"schedc_\" matched another cgroup; {ctx}");
        assert!(n("nr_root") > n("nr_in_grp"), "the root cgroup's tasks were not told apart; {ctx}");
        assert_eq!(n("nr_root_slash"), 0, "the root cgroup's name is empty, not /; {ctx}");
        assert!(n("nr_user") > 0, "no task of uid 1234, gid 4321 was seen; {ctx}");
        assert!(n("nr_root_user") > n("nr_user"), "uid 0 tasks were not told apart; {ctx}");
        assert!(n("nr_user") + n("nr_root_user") <= n("nr_queued") + 8, "a task counted as two users; {ctx}");
        // `waker.NAME`: the stress-ng switch load wakes tasks from tasks; the
        // wakers' counts were written, read back, and summed when they stopped.
        let ws = report.command("wakerstate.bpf.o").expect("wakerstate ran");
        assert_eq!(
            (ws.state_during.as_str(), ws.ops_during.as_str(), ws.exit_code),
            ("enabled", "wakerstate", 0),
            "{ctx}"
        );
        let (writes, woke) = (stat(&ws.output, "nr_writes"), stat(&ws.output, "nr_woke"));
        assert!(writes > 0, "no waker's count was written and read back; {ctx}");
        assert!(woke > 0, "no waker handed a count over when it stopped; {ctx}");
        // Each hand-over sums writes, and some counts are not handed over yet.
        assert!(woke <= writes, "nr_woke={woke} exceeds nr_writes={writes}; {ctx}");
        assert_eq!(stat(&ws.output, "nr_irq_waker_state"), 0, "an interrupt's wake-up read waker state; {ctx}");
        // task.ppid, waker.ppid: the switch stressor's parent and child wake each other.
        assert!(stat(&ws.output, "nr_family_wakes") > 0, "no parent or child woke the other; {ctx}");
        println!("== {} ({})", report.release, kernel.display());
        println!(
            "wakerstate: nr_writes={writes} nr_woke={woke} nr_family_wakes={}",
            stat(&ws.output, "nr_family_wakes")
        );
        println!(
            "flags: nr_last={} nr_pinned_now={} nr_still_running={} nr_running_pinned={} nr_queued={} dropped={dropped:?}",
            stat(&fl.output, "nr_last"),
            stat(&fl.output, "nr_pinned_now"),
            stat(&fl.output, "nr_still_running"),
            stat(&fl.output, "nr_running_pinned"),
            stat(&fl.output, "nr_queued")
        );
        for line in run.output.lines().filter(|l| l.contains("verifier") || l.contains("stat ")) {
            println!("{line}");
        }
        for line in ej.output.lines().filter(|l| l.contains("exit")) {
            println!("{line}");
        }
    }
    Ok(())
}

/// A guest whose console prints nothing but kernel messages past its
/// silence limit (as a stalled guest prints RCU stall reports) is stopped
/// then, long before its timeout, and the error says which limit it hit.
fn a_silent_guest_is_stopped() -> Result<(), Missing> {
    let Some(kernel) = available_kernels().into_iter().next() else {
        return Err(Missing::new("no sched_ext kernels found (../shared/kernels or $SCHEDC_KERNELS_DIR)"));
    };
    let started = Instant::now();
    let stalled = "while :; do echo '<3>schedc-test: stalled' >/dev/kmsg; sleep 5; done";
    let err = Guest::new(&kernel)
        .command("quiet", &["sh", "-c", stalled])
        .timeout(Duration::from_secs(900))
        .silence_limit(Duration::from_secs(30))
        .boot()
        .expect_err("the guest prints only kernel messages past its silence limit");
    let VmError::Silent { silence, serial } = &err else { panic!("not stopped for silence: {err}") };
    assert_eq!(*silence, Duration::from_secs(30));
    let stall_reports = serial.lines().filter(|l| l.contains("] schedc-test: stalled")).count();
    assert!(stall_reports >= 3, "the guest printed {stall_reports} kernel messages before it was stopped:\n{serial}");
    assert!(started.elapsed() < Duration::from_secs(600), "stopped only after {:?}", started.elapsed());
    Ok(())
}
