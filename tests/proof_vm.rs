//! What `schedc run` promises, proven on every test kernel in QEMU, under a
//! mixed load, with faults and bad timing (issue 10, all points but CPU
//! hotplug, `--watch` and `schedc stats`, which tests/vm.rs and
//! tests/watch_vm.rs prove). One boot per kernel, on four CPUs as two cores
//! of two SMT threads, runs in turn:
//!
//! * every policy in policies/ for 20 s under the mixed load: enabled under
//!   its name all along, every queue it declares fed, the load finished; for
//!   bpfland some tasks interactive and some not, and the verifier's work
//!   per program printed;
//! * the stops: the duration, SIGINT (fifo), SIGTERM (vtime), SysRq-S (the
//!   kernel ejects bpfland, the load carries on without it), `kill -9` of
//!   schedc (the kernel drops the scheduler; the next run attaches);
//! * a second `schedc run` while fifo runs: refused, fifo untouched;
//! * `--set nvcsw_max_thresh=0` turning bpfland's classification off, and
//!   out-of-range or unknown `--set` values refused before loading;
//! * the SMT preferences `prev_core` and `idle_core` finding whole idle
//!   cores (tests/vm/smtcore.policy).
//!
//! Statistics come from `--stats json`. Under CI (CI=true) a missing
//! kernel, QEMU or busybox is a failure; elsewhere the test is reported
//! ignored, with the reason.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../runtime/tests/vmtest/mod.rs"]
mod vmtest;

use schedc_abi::stats::{Body, Exit, Record, Sample, Stop};
use schedc_runtime::vm::{CommandRun, Guest, GuestReport};
use schedc_testkit::Missing;
use vmtest::{available_kernels, missing_prerequisite};

fn main() {
    schedc_testkit::run_guests(vec![schedc_testkit::test(
        "every_promise_of_schedc_run_under_load_on_every_kernel",
        every_promise_of_schedc_run_under_load_on_every_kernel,
    )])
}

/// Every policy in policies/, each with the queues it declares and the
/// counter bound to each (`counter NAME = queue.Q.inserted`).
const POLICIES: &[(&str, &[(&str, &str)])] = &[
    ("bpfland", &[("direct", "nr_direct"), ("prio", "nr_prio"), ("shared", "nr_shared")]),
    ("fifo", &[("direct", "nr_direct"), ("shared", "nr_queued")]),
    ("vtime", &[("direct", "nr_direct"), ("fair", "nr_fair")]),
    ("shortfirst", &[("direct", "nr_direct"), ("quick", "nr_quick"), ("bulk", "nr_long")]),
];

/// How each policy's 20 s run under load is stopped.
fn stop_of(policy: &str) -> (&'static str, Stop) {
    match policy {
        "fifo" => ("INT", Stop::Signal),
        "vtime" => ("TERM", Stop::Signal),
        _ => ("duration", Stop::DurationElapsed),
    }
}

/// The guest's whole time, boot to power-off; a boot takes about 4 minutes
/// on a busy 2-core host.
const BOOT_LIMIT: Duration = Duration::from_secs(900);

/// Shell functions every command of the guest starts with.
const PRELUDE: &str = r#"
W=/sys/kernel/sched_ext
# The mixed load, for $2 seconds: a CPU hog on every CPU, two pairs of
# tasks that wake each other through pipes, a task that sleeps 50 ms at a
# time, and a hog pinned to CPU 1. Each part says how it ended in
# /tmp/$1.work (a light load, $3=light, is the pairs and the sleeper).
work() {
    f=/tmp/$1.work; t=$2
    if [ "$3" != light ]; then
        ( stress-ng -q --cpu "$(nproc)" --timeout ${t}s; echo "hogs rc=$?" >>$f ) &
        ( taskset -c 1 stress-ng -q --cpu 1 --timeout ${t}s; echo "pinned rc=$?" >>$f ) &
    fi
    ( stress-ng -q --switch 2 --timeout ${t}s; echo "pingpong rc=$?" >>$f ) &
    ( read up _ </proc/uptime; end=$(( ${up%.*} + t )); i=0
      while read up _ </proc/uptime && [ ${up%.*} -lt $end ]; do usleep 50000; i=$((i+1)); done
      echo "sleeper rc=0 wakeups=$i" >>$f ) &
    wait
    echo "workload done" >>$f
}
# Waits until a scheduler is enabled, while process $1 lives (at most 60 s).
wait_enabled() {
    i=0
    while [ "$(cat $W/state)" != enabled ]; do
        kill -0 $1 2>/dev/null || return 1
        i=$((i+1)); [ $i -gt 600 ] && return 1
        sleep 0.1
    done
}
# What the kernel runs now, as "$1 state=... ops=...", into /tmp/probe.out
# and on the console (where a guest that hangs shows how far it got).
probe() { echo "$1 state=$(cat $W/state) ops=$(cat $W/root/ops 2>/dev/null)" | tee -a /tmp/probe.out; }
# Every file this command wrote, between @@NAME lines.
sections() { for f in /tmp/*.out /tmp/*.err /tmp/*.work; do [ -e $f ] && { echo "@@${f#/tmp/}"; cat $f; }; done; echo @@end; rm -f /tmp/*.out /tmp/*.err /tmp/*.work; }
"#;

/// A policy's 20 s under the mixed load, stopped as `stop_of` says; fifo's
/// run also meets a second `schedc run` halfway (of vtime, which the kernel
/// loads and then refuses to attach).
fn policy_run(policy: &str) -> String {
    let (stop, _) = stop_of(policy);
    let (duration, stopper) = match stop {
        // The run's time counts from the attach; the load starts right after.
        "duration" => ("20s", "wait $pid; echo rc=$? >>/tmp/probe.out".to_string()),
        signal => (
            "600s",
            format!(
                "while [ $(( $(date +%s) - start )) -lt 21 ]; do sleep 0.2; done
                 kill -{signal} $pid; wait $pid; echo rc=$? >>/tmp/probe.out"
            ),
        ),
    };
    let verifier = if policy == "bpfland" { " --verifier-stats" } else { "" };
    let second = if policy == "fifo" {
        "/bin/schedc run /objs/vtime.bpf.o --duration 2s >/tmp/second.out 2>&1; echo rc=$? >>/tmp/second.out
         probe after-second"
    } else {
        ""
    };
    format!(
        "{PRELUDE}
         /bin/schedc run /objs/{policy}.bpf.o --stats json --interval 2s --duration {duration}{verifier} \
             >/tmp/run.out 2>/tmp/run.err &
         pid=$!
         wait_enabled $pid
         start=$(date +%s)
         work run 16 &
         w=$!
         sleep 8
         probe mid
         {second}
         wait $w
         {stopper}
         probe after
         sections"
    )
}

/// Refusals of `--set` before anything loads, then bpfland with its
/// classification turned off (`nvcsw_max_thresh=0`) under the mixed load.
const NVCSW_OFF: &str = "
    /bin/schedc run /objs/bpfland.bpf.o --set nvcsw_max_thresh=5000 --verifier-stats --duration 2s \
        >/tmp/range.out 2>&1; echo rc=$? >>/tmp/range.out
    probe after-range
    /bin/schedc run /objs/bpfland.bpf.o --set nvcsw_max=0 --verifier-stats --duration 2s \
        >/tmp/unknown.out 2>&1; echo rc=$? >>/tmp/unknown.out
    probe after-unknown
    /bin/schedc run /objs/bpfland.bpf.o --set nvcsw_max_thresh=0 --stats json --interval 2s --duration 12s \
        >/tmp/run.out 2>/tmp/run.err &
    pid=$!
    wait_enabled $pid
    work run 10 &
    w=$!
    wait $w
    wait $pid; echo rc=$? >>/tmp/probe.out
    sections";

/// SysRq-S while bpfland runs under the mixed load: the kernel ejects it,
/// and the load finishes on the default scheduler.
const SYSRQ: &str = "
    /bin/schedc run /objs/bpfland.bpf.o --stats json --interval 1s >/tmp/run.out 2>/tmp/run.err &
    pid=$!
    wait_enabled $pid
    work run 12 &
    w=$!
    sleep 4
    probe before-sysrq
    echo S >/proc/sysrq-trigger
    wait $pid; echo rc=$? >>/tmp/probe.out
    probe after-sysrq
    wait $w
    probe after-workload
    dmesg | grep -i 'sched_ext' >/tmp/dmesg.out
    sections";

/// `kill -9` of schedc running fifo under the mixed load: the kernel drops
/// the scheduler by itself, and a new `schedc run` attaches.
const KILL9: &str = "
    /bin/schedc run /objs/fifo.bpf.o --duration 600s >/tmp/killed.out 2>&1 &
    pid=$!
    wait_enabled $pid
    work run 14 &
    w=$!
    sleep 3
    probe before-kill
    kill -9 $pid; wait $pid; echo rc=$? >>/tmp/probe.out
    i=0; while [ \"$(cat $W/state)\" != disabled ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    probe after-kill
    /bin/schedc run /objs/vtime.bpf.o --stats json --interval 1s --duration 4s >/tmp/again.out 2>/tmp/again.err
    echo rc=$? >>/tmp/again.err
    probe after-again
    wait $w
    sections";

/// One of the SMT preferences alone (`prefer_prev` picks which) beside the
/// light load: hogs on every CPU would leave no whole core idle.
fn smt_run(prefer_prev: bool) -> String {
    format!(
        "{PRELUDE}
         cat /sys/devices/system/cpu/cpu0/topology/thread_siblings_list >/tmp/siblings.out
         cat /sys/devices/system/cpu/smt/active >/tmp/smt.out 2>&1
         /bin/schedc run /objs/smtcore.bpf.o --set prefer_prev={prefer_prev} --stats json --interval 2s \
             --duration 8s >/tmp/run.out 2>/tmp/run.err &
         pid=$!
         wait_enabled $pid
         work run 6 light &
         w=$!
         wait $w
         wait $pid; echo rc=$? >>/tmp/probe.out
         sections"
    )
}

fn compile(policy: &Path, dir: &Path) -> PathBuf {
    let name = policy.file_stem().expect("a policy file").to_string_lossy();
    let out = dir.join(format!("{name}.bpf.o"));
    let status = Command::new(env!("CARGO_BIN_EXE_schedc"))
        .args(["compile", "-o"])
        .arg(&out)
        .arg(policy)
        .status()
        .expect("schedc runs");
    assert!(status.success(), "schedc compile {} failed", policy.display());
    out
}

fn every_promise_of_schedc_run_under_load_on_every_kernel() -> Result<(), Missing> {
    if let Some(why) = missing_prerequisite() {
        return Err(Missing::new(why));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped: Vec<String> = std::fs::read_dir(root.join("policies"))
        .unwrap()
        .filter_map(|e| e.ok()?.path().file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    for policy in &shipped {
        assert!(POLICIES.iter().any(|(p, _)| p == policy), "policies/{policy}.policy has no queues listed here");
    }
    let dir = tempfile::tempdir().unwrap();
    let mut objects: Vec<PathBuf> =
        POLICIES.iter().map(|(p, _)| compile(&root.join(format!("policies/{p}.policy")), dir.path())).collect();
    objects.push(compile(&root.join("tests/vm/smtcore.policy"), dir.path()));

    for kernel in available_kernels() {
        let mut guest = Guest::new(&kernel);
        guest
            .executable("/bin/schedc", Path::new(env!("CARGO_BIN_EXE_schedc")))
            .cpus(4)
            .smt(2)
            // The commands bring their own load; between them the guest idles.
            .load("true")
            .timeout(BOOT_LIMIT);
        for obj in &objects {
            let name = obj.file_name().unwrap().to_string_lossy();
            guest.file(&format!("/objs/{name}"), obj);
        }
        let sh = |script: String| ["/bin/sh".to_string(), "-c".into(), script];
        for (policy, _) in POLICIES {
            guest.command(policy, &sh(policy_run(policy)));
        }
        guest
            .command("nvcsw_off", &sh(format!("{PRELUDE}{NVCSW_OFF}")))
            .command("sysrq", &sh(format!("{PRELUDE}{SYSRQ}")))
            .command("kill9", &sh(format!("{PRELUDE}{KILL9}")))
            .command("smt_prev_core", &sh(smt_run(true)))
            .command("smt_idle_core", &sh(smt_run(false)));
        let started = Instant::now();
        let report = guest.boot().unwrap_or_else(|e| panic!("{}: {e}", kernel.display()));
        let release = report.release.clone();
        assert_eq!(report.state_before, "disabled", "{}", report.serial);
        for (policy, queues) in POLICIES {
            every_policy_runs_under_load(&report, policy, queues);
        }
        a_second_run_changes_nothing(&report);
        set_turns_classification_off_and_bad_values_are_refused(&report);
        sysrq_ejects_and_the_load_finishes(&report);
        kill9_drops_the_scheduler_and_the_next_run_attaches(&report);
        smt_preferences_find_whole_idle_cores(&report);
        println!("all of issue 10's points here on {release}: boot took {:.0?}", started.elapsed());
    }
    Ok(())
}

/// What a command of the guest left: its run, its files and the context
/// for failure messages (the command's output and the guest's log).
struct Seen<'a> {
    run: &'a CommandRun,
    files: HashMap<String, String>,
    ctx: String,
}

impl Seen<'_> {
    fn of<'a>(report: &'a GuestReport, name: &str) -> Seen<'a> {
        let run = report.command(name).unwrap_or_else(|| panic!("{name} did not run:\n{}", report.serial));
        let ctx = format!("{name} on {}:\n{}", report.release, run.output);
        Seen { run, files: sections(&run.output), ctx }
    }

    fn file(&self, name: &str) -> &str {
        self.files.get(name).map(String::as_str).unwrap_or_else(|| panic!("no {name}: {}", self.ctx))
    }

    /// The `probe` line tagged `tag`: (state, ops).
    fn probe(&self, tag: &str) -> (String, String) {
        let line = self
            .file("probe.out")
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{tag} ")))
            .unwrap_or_else(|| panic!("no probe {tag}: {}", self.ctx));
        let kv = |k: &str| {
            line.split_whitespace().find_map(|w| w.strip_prefix(k)?.strip_prefix('=')).unwrap_or("").to_string()
        };
        (kv("state"), kv("ops"))
    }

    /// The first `rc=N` of file `name`.
    fn rc(&self, name: &str) -> i32 {
        self.file(name)
            .lines()
            .find_map(|l| l.strip_prefix("rc=")?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no rc in {name}: {}", self.ctx))
    }

    fn records(&self, name: &str) -> Vec<Record> {
        records(self.file(name), &self.ctx)
    }

    /// The mixed load ran to its end, every part of it successfully.
    fn assert_workload_finished(&self, light: bool) {
        let work = self.file("run.work");
        let parts: &[&str] = if light { &["pingpong", "sleeper"] } else { &["hogs", "pinned", "pingpong", "sleeper"] };
        for part in parts {
            assert!(work.contains(&format!("{part} rc=0")), "the load's {part} did not finish well: {}", self.ctx);
        }
        let wakeups: u32 = work
            .lines()
            .find_map(|l| l.strip_prefix("sleeper rc=0 wakeups="))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        assert!(wakeups >= 5, "the sleeper woke {wakeups} times: {}", self.ctx);
        assert!(work.contains("workload done"), "{}", self.ctx);
    }
}

/// The sections a guest command printed between `@@NAME` lines.
fn sections(output: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut current: Option<String> = None;
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("@@") {
            current = Some(name.trim().to_string());
            out.entry(name.trim().to_string()).or_insert_with(String::new);
        } else if let Some(name) = &current {
            let text: &mut String = out.get_mut(name).expect("section exists");
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

/// Every line of `ndjson` as a statistics record; any other line fails.
fn records(ndjson: &str, ctx: &str) -> Vec<Record> {
    ndjson.lines().map(|l| Record::from_json(l).unwrap_or_else(|e| panic!("{e}: {l}\n{ctx}"))).collect()
}

/// The last record, which must be the exit record: (stop, exit, final stats).
fn exit_of<'a>(records: &'a [Record], ctx: &str) -> (Stop, &'a Exit, &'a [Sample]) {
    match records.last().map(|r| &r.body) {
        Some(Body::Exit { stop, exit: Some(exit), stats }) => (*stop, exit, stats),
        _ => panic!("the last record is not an exit record with the kernel's exit: {ctx}"),
    }
}

fn value(stats: &[Sample], name: &str, ctx: &str) -> u64 {
    stats.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no statistic {name}: {ctx}")).value.as_u64()
}

/// Every interval record's samples.
fn intervals(records: &[Record]) -> impl Iterator<Item = (u64, &[Sample])> {
    records.iter().filter_map(|r| match &r.body {
        Body::Interval { stats, .. } => Some((r.elapsed_ns, stats.as_slice())),
        _ => None,
    })
}

/// Point 1 (and 2, 11): 20 s under the mixed load, enabled under the
/// policy's name throughout, every queue fed, the stop as asked.
fn every_policy_runs_under_load(report: &GuestReport, policy: &str, queues: &[(&str, &str)]) {
    let seen = Seen::of(report, policy);
    let ctx = &seen.ctx;
    let release = &report.release;
    assert_eq!((seen.run.state_during.as_str(), seen.run.ops_during.as_str()), ("enabled", policy), "{ctx}");
    assert_eq!(seen.probe("mid"), ("enabled".to_string(), policy.to_string()), "halfway: {ctx}");
    assert_eq!(seen.probe("after").0, "disabled", "{ctx}");
    assert_eq!(seen.rc("probe.out"), 0, "{ctx}");
    seen.assert_workload_finished(false);

    let recs = seen.records("run.out");
    assert!(recs.iter().all(|r| r.scheduler == policy), "{ctx}");
    assert!(matches!(recs.first().map(|r| &r.body), Some(Body::Attached { .. })), "{ctx}");
    let (stop, exit, stats) = exit_of(&recs, ctx);
    let (how, expected) = stop_of(policy);
    assert_eq!(stop, expected, "{ctx}");
    assert_eq!(exit.kind_name, "SCX_EXIT_UNREG", "{ctx}");
    let ran = recs.last().unwrap().elapsed_ns;
    assert!(ran >= 19_500_000_000, "{policy} ran {ran} ns: {ctx}");
    let err = seen.file("run.err");
    let why = if expected == Stop::Signal { "(interrupted)" } else { "(the duration elapsed)" };
    assert!(err.contains(why) && err.contains("exit: SCX_EXIT_UNREG"), "no unregistration reported: {ctx}");

    let fed: Vec<String> = queues
        .iter()
        .map(|(queue, counter)| {
            let n = value(stats, counter, ctx);
            assert!(n > 0, "{policy}'s queue {queue} received no task ({counter}=0): {ctx}");
            format!("{queue}={n}")
        })
        .collect();
    println!("{policy} on {release}: 20 s under load, stopped by {how}, queues fed: {}", fed.join(" "));

    if policy == "bpfland" {
        // Interactive tasks go to prio, the rest to shared: both fed is
        // both kinds seen; the gauge says how many ran at once.
        let most = intervals(&recs).map(|(_, s)| value(s, "nr_interactive", ctx)).max().unwrap_or(0);
        println!("bpfland on {release}: at most {most} interactive tasks running at an interval's end");
        check_verifier_work(err, release);
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

/// Point 11: the verifier's work per bpfland program, printed, and within
/// the hand-written scheduler's.
fn check_verifier_work(err: &str, release: &str) {
    let programs: Vec<(&str, u64)> = err
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("verifier bpfland_")?;
            let (prog, rest) = rest.split_once(" processed=")?;
            Some((prog, rest.split_whitespace().next()?.parse().ok()?))
        })
        .collect();
    assert!(!programs.is_empty(), "no verifier counts in:\n{err}");
    for (prog, n) in &programs {
        let budget = BPFLAND_AUG_2024.iter().find(|(p, _)| p == prog).map(|(_, b)| *b);
        let compared = budget.map_or(String::new(), |b| format!(" (hand-written: {b})"));
        println!("bpfland on {release}: {prog} verified in {n} instructions{compared}");
        if let Some(budget) = budget {
            assert!(*n <= budget, "bpfland_{prog} needs {n} verifier instructions on {release}, more than {budget}");
        }
    }
    for (prog, _) in BPFLAND_AUG_2024 {
        assert!(programs.iter().any(|(p, _)| p == prog), "no verifier count for {prog} in:\n{err}");
    }
}

/// Point 9: halfway through fifo's run, `schedc run` of vtime is refused
/// with one sentence, and fifo runs on to its SIGINT as if nothing happened.
fn a_second_run_changes_nothing(report: &GuestReport) {
    let seen = Seen::of(report, "fifo");
    let ctx = &seen.ctx;
    let second = seen.file("second.out");
    assert!(second.contains("Scheduler fifo is already attached; stop it before running another."), "{ctx}");
    assert_eq!(seen.rc("second.out"), 1, "{ctx}");
    assert_eq!(seen.probe("after-second"), ("enabled".to_string(), "fifo".to_string()), "{ctx}");
    let recs = seen.records("run.out");
    assert!(!recs.iter().any(|r| matches!(r.body, Body::Restart { .. })), "{ctx}");
    // fifo's statistics went on every 2 s to the end: no gap at the refusal.
    let times: Vec<u64> = intervals(&recs).map(|(t, _)| t).collect();
    assert!(times.len() >= 9, "{} interval records in 20 s at 2 s: {ctx}", times.len());
    assert!(times.windows(2).all(|w| w[1] - w[0] < 4_000_000_000), "a gap in fifo's records: {times:?}: {ctx}");
    println!("second run on {}: refused while fifo ran; fifo kept {} interval records", report.release, times.len());
}

/// Point 6: `--set nvcsw_max_thresh=0` leaves no task interactive under a
/// load full of synchronous wake-ups; bad values are refused before loading.
fn set_turns_classification_off_and_bad_values_are_refused(report: &GuestReport) {
    let seen = Seen::of(report, "nvcsw_off");
    let ctx = &seen.ctx;
    for (file, said) in [
        ("range.out", "Parameter nvcsw_max_thresh cannot be 5000; it must be"),
        ("unknown.out", "This scheduler has no parameter nvcsw_max;"),
    ] {
        let out = seen.file(file);
        assert!(out.contains(said), "no {said:?} in {file}: {ctx}");
        assert_eq!(seen.rc(file), 1, "{ctx}");
        assert!(!out.contains("verifier ") && !out.contains("attached:"), "something was loaded: {ctx}");
    }
    assert_eq!(seen.probe("after-range").0, "disabled", "{ctx}");
    assert_eq!(seen.probe("after-unknown").0, "disabled", "{ctx}");
    assert_eq!(seen.rc("probe.out"), 0, "{ctx}");
    seen.assert_workload_finished(false);

    let recs = seen.records("run.out");
    let Some(Body::Attached { params }) = recs.first().map(|r| &r.body) else { panic!("{ctx}") };
    let thresh = params.iter().find(|p| p.name == "nvcsw_max_thresh").unwrap_or_else(|| panic!("{ctx}"));
    assert_eq!(thresh.value.as_u64(), 0, "{ctx}");
    let (_, _, stats) = exit_of(&recs, ctx);
    assert_eq!(value(stats, "nr_prio", ctx), 0, "a task was queued as interactive: {ctx}");
    for (t, s) in intervals(&recs) {
        assert_eq!(value(s, "nr_interactive", ctx), 0, "an interactive task ran at {t} ns: {ctx}");
    }
    let regular = value(stats, "nr_shared", ctx);
    assert!(regular > 0, "{ctx}");
    println!("bpfland nvcsw_max_thresh=0 on {}: no task interactive, {regular} queued as regular", report.release);
}

/// Point 3: SysRq-S makes the kernel disable bpfland; schedc says why,
/// naming it, and fails; the load finishes on the default scheduler.
fn sysrq_ejects_and_the_load_finishes(report: &GuestReport) {
    let seen = Seen::of(report, "sysrq");
    let ctx = &seen.ctx;
    assert_eq!(seen.probe("before-sysrq"), ("enabled".to_string(), "bpfland".to_string()), "{ctx}");
    assert_eq!(seen.rc("probe.out"), 1, "{ctx}");
    assert_eq!(seen.probe("after-sysrq").0, "disabled", "{ctx}");
    seen.assert_workload_finished(false);
    let err = seen.file("run.err");
    assert!(err.contains("stopped: bpfland after") && err.contains("(the kernel stopped the scheduler)"), "{ctx}");
    assert!(err.contains("exit: SCX_EXIT_SYSRQ (disabled by sysrq-S)"), "{ctx}");
    let recs = seen.records("run.out");
    let (stop, exit, _) = exit_of(&recs, ctx);
    assert_eq!((stop, exit.kind_name.as_str()), (Stop::Ejected, "SCX_EXIT_SYSRQ"), "{ctx}");
    assert_eq!(recs.last().unwrap().scheduler, "bpfland", "{ctx}");
    let kernel_said = seen.file("dmesg.out");
    assert!(kernel_said.contains("\"bpfland\" disabled (disabled by sysrq-S)"), "{ctx}");
    println!("sysrq-S on {}: bpfland ejected ({}), the load finished", report.release, exit.reason);
}

/// Point 5: `kill -9` of schedc: the kernel drops fifo (the link went with
/// the process), and the next `schedc run` attaches.
fn kill9_drops_the_scheduler_and_the_next_run_attaches(report: &GuestReport) {
    let seen = Seen::of(report, "kill9");
    let ctx = &seen.ctx;
    assert_eq!(seen.probe("before-kill"), ("enabled".to_string(), "fifo".to_string()), "{ctx}");
    assert_eq!(seen.rc("probe.out"), 137, "schedc was not killed by SIGKILL: {ctx}");
    assert_eq!(seen.probe("after-kill").0, "disabled", "the kernel kept fifo: {ctx}");
    assert_eq!(seen.rc("again.err"), 0, "{ctx}");
    assert!(seen.file("again.err").contains("attached: sched_ext state=enabled ops=vtime"), "{ctx}");
    let recs = seen.records("again.out");
    let (stop, exit, _) = exit_of(&recs, ctx);
    assert_eq!((stop, exit.kind_name.as_str()), (Stop::DurationElapsed, "SCX_EXIT_UNREG"), "{ctx}");
    assert_eq!(seen.probe("after-again").0, "disabled", "{ctx}");
    seen.assert_workload_finished(false);
    println!("kill -9 on {}: the kernel dropped fifo, vtime attached next", report.release);
}

/// Point 10: with two threads per core, `prev_core` and `idle_core` each
/// find whole idle cores (only they can feed smtcore's `core` queue).
fn smt_preferences_find_whole_idle_cores(report: &GuestReport) {
    for (name, preference) in [("smt_prev_core", "prev_core"), ("smt_idle_core", "idle_core")] {
        let seen = Seen::of(report, name);
        let ctx = &seen.ctx;
        assert_eq!(seen.file("siblings.out").trim(), "0-1", "the guest has no SMT siblings: {ctx}");
        assert_eq!(seen.file("smt.out").trim(), "1", "{ctx}");
        assert_eq!(seen.rc("probe.out"), 0, "{ctx}");
        seen.assert_workload_finished(true);
        let recs = seen.records("run.out");
        let (_, _, stats) = exit_of(&recs, ctx);
        let found = value(stats, "nr_core", ctx);
        assert!(found > 0, "{preference} never found a whole idle core: {ctx}");
        println!("{preference} on {} (2 cores x 2 threads): {found} tasks sent to whole idle cores", report.release);
    }
}
