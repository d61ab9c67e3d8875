//! The proof that generated schedulers are real: every policy in policies/
//! is compiled, then each kernel in ../shared/kernels is booted under QEMU and
//! `schedc run` attaches every object for a few seconds beside a CPU and
//! wake-up load. The kernel must report the scheduler enabled under the
//! policy's name, the scheduler's counters must move, and it must detach
//! cleanly.
//!
//! Under CI (CI=true) a missing kernel, QEMU or clang is a failure;
//! elsewhere the test says in one line why it skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../runtime/tests/vmtest/mod.rs"]
mod vmtest;

use schedc_runtime::vm::Guest;
use vmtest::{available_kernels, VmTest};

const POLICIES: &[&str] = &["bpfland", "fifo", "vtime", "shortfirst"];

/// The reason this machine cannot run the test, if any.
fn missing_prerequisite() -> Option<String> {
    if available_kernels().is_empty() {
        return Some("no sched_ext kernels found (../shared/kernels or $SCHEDC_KERNELS_DIR)".to_string());
    }
    for tool in ["qemu-system-x86_64", "stress-ng"] {
        if Command::new(tool).arg("--version").output().is_err() {
            return Some(format!("{tool} is not installed"));
        }
    }
    if !Path::new("/bin/busybox").exists() && !Path::new("/usr/bin/busybox").exists() {
        return Some("busybox-static is not installed".to_string());
    }
    None
}

fn compile(policy: &str, dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = dir.join(format!("{policy}.bpf.o"));
    let status = Command::new(env!("CARGO_BIN_EXE_schedc"))
        .args(["compile", "-o"])
        .arg(&out)
        .arg(root.join(format!("policies/{policy}.policy")))
        .status()
        .expect("schedc runs");
    assert!(status.success(), "schedc compile {policy} failed");
    out
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

/// Counters of each policy that only move if the scheduler queued tasks.
fn queue_counters(policy: &str) -> &'static [&'static str] {
    match policy {
        "bpfland" => &["nr_direct", "nr_prio", "nr_shared"],
        "fifo" => &["nr_direct", "nr_queued"],
        "vtime" => &["nr_direct", "nr_fair"],
        "shortfirst" => &["nr_quick", "nr_long"],
        other => panic!("no counters listed for {other}"),
    }
}

/// Instructions the verifier processed for each program of the hand-written
/// scx_bpfland of August 2024; the generated one must need no more.
const BPFLAND_AUG_2024: &[(&str, u64)] = &[
    ("enqueue", 1602),
    ("select_cpu", 1467),
    ("dispatch", 905),
    ("init", 478),
    ("running", 71),
    ("enable", 46),
    ("init_task", 45),
];

fn check_verifier_budget(output: &str, release: &str) {
    let processed = |prog: &str| -> u64 {
        output
            .lines()
            .find_map(|l| l.strip_prefix(&format!("verifier bpfland_{prog} processed=")))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no verifier count for {prog} in:\n{output}"))
    };
    for (prog, budget) in BPFLAND_AUG_2024 {
        let n = processed(prog);
        println!("bpfland on {release}: {prog} verified in {n} instructions (hand-written: {budget})");
        assert!(
            n <= *budget,
            "bpfland_{prog} needs {n} verifier instructions on {release}, more than the hand-written {budget}"
        );
    }
}

#[test]
fn every_policy_runs_on_every_kernel() {
    if let Some(why) = missing_prerequisite() {
        if std::env::var_os("CI").is_some() {
            panic!("the VM test cannot run under CI: {why}");
        }
        eprintln!("skipping the VM test: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let objects: Vec<PathBuf> = POLICIES.iter().map(|p| compile(p, dir.path())).collect();
    let schedc = Path::new(env!("CARGO_BIN_EXE_schedc"));

    for kernel in available_kernels() {
        let mut vm = VmTest::new(&kernel, schedc);
        vm.loader_args(&["run", "{obj}", "--duration", "3s", "--verifier-stats"]);
        for obj in &objects {
            vm.object(obj);
        }
        // A second scheduler while one is attached gets one plain sentence.
        vm.script(
            "/bin/loader run /objs/fifo.bpf.o --duration 6s >/tmp/first 2>&1 &
             while [ \"$(cat /sys/kernel/sched_ext/state)\" != enabled ]; do sleep 0.1; done
             /bin/loader run /objs/vtime.bpf.o --duration 1s
             echo second-rc=$?
             wait",
        );
        let report = vm.run().unwrap_or_else(|e| panic!("{}: {e}", kernel.display()));
        assert_eq!(report.state_before, "disabled", "{}", report.serial);
        for policy in POLICIES {
            let run = report
                .command(&format!("{policy}.bpf.o"))
                .unwrap_or_else(|| panic!("{policy} did not run:\n{}", report.serial));
            let ctx = format!("{policy} on {}:\n{}", report.release, run.output);
            assert_eq!(run.state_during, "enabled", "{ctx}");
            assert_eq!(run.ops_during, *policy, "{ctx}");
            assert_eq!(run.exit_code, 0, "{ctx}");
            assert_eq!(run.state_after, "disabled", "{ctx}");
            assert!(run.output.contains("(the duration elapsed)"), "{ctx}");
            assert!(run.output.contains("SCX_EXIT_UNREG"), "{ctx}");
            let stats = final_stats(&run.output);
            let queued = counter_total(&stats, queue_counters(policy));
            assert!(queued > 0, "{policy} queued no task: {ctx}");
            println!("{policy} on {}: {queued} tasks queued", report.release);
            if *policy == "bpfland" {
                check_verifier_budget(&run.output, &report.release);
            }
        }
        let second = &report.command("script").expect("the script ran").output;
        assert!(second.contains("Scheduler fifo is already attached; stop it before running another."), "{second}");
        assert!(second.contains("second-rc=1"), "{second}");
    }
}

/// `tests/vm/reject.bpf.c` (the C of `tests/vm/reject.policy` with one
/// rule's line turned into an out-of-bounds read) is refused by the verifier
/// on every kernel; run as a bare object, the report names the refused C line
/// and the verifier's reason, without the whole log. (With the policy at
/// hand, `schedc run` points at the policy line: src/verifier.rs tests that
/// against these kernels' logs.)
#[test]
fn a_refused_program_is_reported_at_its_c_line() {
    if let Some(why) = missing_prerequisite() {
        if std::env::var_os("CI").is_some() {
            panic!("the VM test cannot run under CI: {why}");
        }
        eprintln!("skipping the verifier VM test: {why}");
        return;
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
            .run()
            .unwrap_or_else(|e| panic!("{}: {e}", kernel.display()));
        let run = report.command("reject.bpf.o").expect("reject ran");
        let ctx = format!("reject on {}:\n{}", report.release, run.output);
        assert_eq!(run.exit_code, 1, "{ctx}");
        assert_eq!(run.state_after, "disabled", "{ctx}");
        for said in [
            "schedc::verifier-rejected",
            "The kernel's verifier refused reject_enqueue in /objs/reject.bpf.o, at reject.bpf.c:74 (`tctx->hits",
            "invalid access to map value, value_size=8 off=8 size=8",
            "the whole verifier log is kept at /tmp/schedc-verifier-reject-",
        ] {
            assert!(run.output.contains(said), "no {said:?} in {ctx}");
        }
        assert!(!run.output.contains("BEGIN PROG LOAD LOG"), "the whole log was printed: {ctx}");
        println!("reject on {}: refused at reject.bpf.c:74", report.release);
    }
}

/// CPU 2 of a 4-CPU guest goes offline and back online three times while
/// each policy runs beside CPU hogs. Each offline spell outlasts the longest
/// policy timeout (fifo's 10 s), so a task stranded on the offline CPU's
/// per-CPU queue would trip the kernel's watchdog.
const HOTPLUG_CYCLES: &str = r#"
( i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; echo workload-done ) &
work=$!
for cycle in 1 2 3; do
    echo 0 >/sys/devices/system/cpu/cpu2/online || echo "offline-failed cycle=$cycle"
    sleep 11
    echo 1 >/sys/devices/system/cpu/cpu2/online || echo "online-failed cycle=$cycle"
    sleep 1
    echo "hotplug-cycle=$cycle state=$(cat /sys/kernel/sched_ext/state) online=$(cat /sys/devices/system/cpu/online) uptime=$(cut -d' ' -f1 /proc/uptime)"
done
wait $work
kill -INT $pid
"#;

#[test]
fn every_policy_survives_cpu_hotplug_under_load() {
    if let Some(why) = missing_prerequisite() {
        if std::env::var_os("CI").is_some() {
            panic!("the VM test cannot run under CI: {why}");
        }
        eprintln!("skipping the hotplug VM test: {why}");
        return;
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
}
