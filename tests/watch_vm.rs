//! `schedc run --vm --watch` end to end, as a user drives it, on every
//! kernel in ../shared/kernels: the policy is edited while the scheduler
//! runs in a guest beside the guest's stress-ng load (one CPU hog and a
//! context-switch storm on its two CPUs), and every save is seen, checked,
//! summarised, compiled on the host, sent to the guest and swapped in
//! there, or refused while the old scheduler keeps running.
//!
//! After a first save and a broken one come ten good saves in a row. Each
//! swap must report `ok`, the kernel must name the new scheduler in
//! /sys/kernel/sched_ext/root/ops, the `--stats json` records must name it
//! with its parameter's new default and show it scheduling the load, and
//! the BPF programs and maps loaded in the guest (counted by ID with the
//! bpf syscall, by the guest's `schedc run`) must be back to the count
//! after the first attach before the next save: a swap leaks nothing.
//!
//! The swap gap is printed for every swap with where it went: it is the
//! guest's CLOCK_MONOTONIC from the start of the old scheduler's detach to
//! the end of the new one's attach, with the load and verification of the
//! new object and the kernel's `struct_ops` trampolines done beforehand,
//! while the old one still ran, and the guest booted with expedited RCU
//! grace periods. Under QEMU's emulation that is above 50 ms of guest time
//! (medians of 68 ms on 6.12 and 108 ms on 7.2 on a quiet host, seconds on
//! a busy one or with `--icount`): each of the dozen static keys the
//! kernel's disable and enable flip by patching code costs milliseconds
//! there (README.md, on the swap gap). So no bound is asserted; the gaps
//! are printed.
//!
//! Under CI (CI=true) a missing kernel, QEMU or clang is a failure;
//! elsewhere the test reports itself ignored, with the reason.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

#[path = "../runtime/tests/vmtest/mod.rs"]
mod vmtest;

use schedc_abi::events::{SwapEvent, SwapOutcome, SwapReason};
use schedc_abi::stats::{Body, Record};
use schedc_abi::Value;
use schedc_testkit::Missing;
use vmtest::{available_kernels, missing_prerequisite};

/// How long one step (a boot, a swap, the power-off) may take under TCG on
/// a busy two-core host: a hang detector, not a measure of speed.
const STEP: Duration = Duration::from_secs(240);

/// Good saves in a row after the broken one.
const IN_A_ROW: u32 = 10;

const FIFO: &str = include_str!("../policies/fifo.policy");

/// What the guest's `schedc run` says whenever the count changes.
const CENSUS: &str = "err: bpf loaded system-wide: ";

/// `schedc run --vm --watch`, with its stdout and stderr read line by line.
struct Watched {
    child: Child,
    lines: Receiver<String>,
    /// Every line so far, stderr's marked `err: `.
    seen: Vec<String>,
}

impl Watched {
    fn start(kernel: &Path, policy: &Path) -> Watched {
        let mut child = Command::new(env!("CARGO_BIN_EXE_schedc"))
            .args(["run", "--vm", "--watch", "--stats", "json", "--interval", "500ms"])
            .args(["--set", "slice_len=5ms", "--kernel"])
            .arg(kernel)
            .arg(policy)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("schedc runs");
        let (tx, lines) = mpsc::channel();
        let forward = |stream: Box<dyn Read + Send>, mark: &'static str| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(format!("{mark}{line}"));
                }
            });
        };
        forward(Box::new(child.stdout.take().expect("piped")), "");
        forward(Box::new(child.stderr.take().expect("piped")), "err: ");
        Watched { child, lines, seen: Vec::new() }
    }

    /// Reads lines until one satisfies `wanted`, and returns it.
    fn wait_for(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    let _ = self.child.kill();
                    panic!("no {what} within {STEP:?}; schedc printed:\n{}", self.seen.join("\n"));
                }
            }
        }
    }

    /// A line already read that satisfies `wanted`, or else the next one.
    /// For lines that come once per scheduler: the statistics records come
    /// on stdout and the rest on stderr, each read by its own thread, so a
    /// record may be read before the stderr line said just before it.
    fn said_or_wait(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        match self.seen.iter().find(|l| wanted(l)) {
            Some(line) => line.clone(),
            None => self.wait_for(what, wanted),
        }
    }

    /// The next swap event on stderr.
    fn swap(&mut self) -> SwapEvent {
        let line =
            self.wait_for("swap event", |l| l.strip_prefix("err: ").is_some_and(|l| l.parse::<SwapEvent>().is_ok()));
        line["err: ".len()..].parse().expect("just parsed")
    }

    /// A statistics record of `scheduler` that satisfies `wanted`: the
    /// next one if `fresh`, else perhaps one already read.
    fn record(&mut self, scheduler: &str, what: &str, fresh: bool, wanted: impl Fn(&Body) -> bool) -> Record {
        let what = format!("{what} record of {scheduler}");
        let is = |l: &str| Record::from_json(l).is_ok_and(|r| r.scheduler == scheduler && wanted(&r.body));
        let line = if fresh { self.wait_for(&what, is) } else { self.said_or_wait(&what, is) };
        Record::from_json(&line).expect("just parsed")
    }

    /// An interval record of `scheduler` in which it placed tasks of the
    /// load in its queues (the next one, if `fresh`).
    fn scheduling(&mut self, scheduler: &str, fresh: bool) {
        self.record(
            scheduler,
            "busy interval",
            fresh,
            |b| matches!(b, Body::Interval { stats, .. } if stats.iter().any(|s| s.delta.is_some_and(|d| d > 0))),
        );
    }

    /// Reads lines until the BPF census taken after the last swap says
    /// `count` (the guest's `schedc run` counts again after every swap).
    fn census_back_to(&mut self, count: &str, after: &str) {
        let swapped = self.seen.iter().rposition(|l| l.starts_with("err: swap ")).expect("a swap came first");
        let wanted = format!("{CENSUS}{count}");
        let since: Vec<&String> = self.seen[swapped..].iter().filter(|l| l.starts_with(CENSUS)).collect();
        if since.last().is_some_and(|l| **l == wanted) {
            return;
        }
        self.wait_for(&format!("census back at {count} after {after}"), |l| l == wanted);
    }

    fn said(&self, line: &str) -> bool {
        self.seen.iter().any(|l| l == line)
    }

    fn said_start(&self, start: &str) -> Option<&String> {
        self.seen.iter().rev().find(|l| l.starts_with(start))
    }
}

fn main() {
    schedc_testkit::run_guests(vec![schedc_testkit::test(
        "saving_the_policy_swaps_the_scheduler_in_the_guest",
        saving_the_policy_swaps_the_scheduler_in_the_guest,
    )])
}

fn saving_the_policy_swaps_the_scheduler_in_the_guest() -> Result<(), Missing> {
    if let Some(why) = missing_prerequisite() {
        return Err(Missing::new(why));
    }
    for kernel in available_kernels() {
        let started = Instant::now();
        swaps_on(&kernel);
        println!("{}: done in {:.0} s", kernel.display(), started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// The text of the `n`th good save in a row: its own name, and the slice
/// parameter renamed with a default of its own.
fn nth_save(n: u32) -> (String, String, Duration) {
    let name = format!("fifo{}", n + 2);
    let slice = Duration::from_millis(u64::from(n) + 10);
    let text = FIFO
        .replace("scheduler fifo ", &format!("scheduler {name} "))
        .replace("slice_len: duration = 20ms", &format!("slice_time: duration = {}ms", slice.as_millis()))
        .replace("slice_len", "slice_time");
    (name, text, slice)
}

fn swaps_on(kernel: &Path) {
    let k = kernel.display();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("mine.policy");
    std::fs::write(&policy, FIFO).unwrap();
    let mut run = Watched::start(kernel, &policy);
    run.record("fifo", "attached", false, |b| matches!(b, Body::Attached { .. }));
    run.scheduling("fifo", false);
    if run.said_start(CENSUS).is_none() {
        run.wait_for("BPF census", |l| l.starts_with(CENSUS));
    }
    let baseline = run.said_start(CENSUS).expect("just seen")[CENSUS.len()..].to_string();
    println!("{k}: after the first attach, {baseline}");

    // Saved in place: a new name and a new default.
    let second = FIFO
        .replace("scheduler fifo ", "scheduler fifo2 ")
        .replace("slice_len: duration = 20ms", "slice_len: duration = 10ms");
    std::fs::write(&policy, &second).unwrap();
    let swap = run.swap();
    assert_eq!((swap.outcome, swap.from.as_str(), swap.to.as_deref()), (SwapOutcome::Ok, "fifo", Some("fifo2")));
    for line in
        ["err:     scheduler: fifo → fifo2", "err:     param slice_len: 20ms → 10ms", "err: --set: kept slice_len=5ms"]
    {
        assert!(run.said(line), "no {line:?} in:\n{}", run.seen.join("\n"));
    }
    run.said_or_wait("fifo2 attached", |l| l == "err: attached: sched_ext state=enabled ops=fifo2");
    run.scheduling("fifo2", false);
    run.census_back_to(&baseline, "the first swap");

    // A broken save: diagnostics, and fifo2 keeps running.
    std::fs::write(&policy, format!("{second}\nqueue\n")).unwrap();
    let kept = run.swap();
    assert_eq!((kept.outcome, kept.reason), (SwapOutcome::Kept, Some(SwapReason::PolicyErrors)));
    assert_eq!(kept.from, "fifo2");
    assert!(run.said_start("err: kept running: fifo2 (loaded ").is_some(), "{}", run.seen.join("\n"));
    run.scheduling("fifo2", true);

    // Ten good saves in a row. The first renames a new file over the
    // policy and renames the parameter, which leaves the --set value
    // behind; the others save in place.
    let mut from = "fifo2".to_string();
    let mut gaps = Vec::new();
    for n in 1..=IN_A_ROW {
        let (name, text, slice) = nth_save(n);
        if n == 1 {
            let temporary = dir.path().join(".mine.policy.new");
            std::fs::write(&temporary, &text).unwrap();
            std::fs::rename(&temporary, &policy).unwrap();
        } else {
            std::fs::write(&policy, &text).unwrap();
        }
        let swap = run.swap();
        assert_eq!(
            (swap.outcome, swap.from.as_str(), swap.to.as_deref()),
            (SwapOutcome::Ok, from.as_str(), Some(name.as_str())),
            "{}",
            run.seen.join("\n")
        );
        if n == 1 {
            assert!(
                run.said("err: --set: dropped slice_len=5ms (the new policy has no such parameter)"),
                "{}",
                run.seen.join("\n")
            );
        }
        let timing = run.said_start("err: swapped in ").expect("a swap says how long it took").clone();
        println!("{k}: {from} → {name}: {}", &timing["err: ".len()..]);
        gaps.push(swap.gap_us.expect("a swap has a gap"));

        let attached = format!("err: attached: sched_ext state=enabled ops={name}");
        run.said_or_wait(&format!("{name} attached"), |l| l == attached);
        let record = run.record(&name, "attached", false, |b| matches!(b, Body::Attached { .. }));
        let Body::Attached { params } = record.body else { unreachable!() };
        let ns = i64::try_from(slice.as_nanos()).unwrap();
        assert!(
            params.iter().any(|p| p.name == "slice_time" && p.value == Value::Duration(ns)),
            "{name} was attached with {params:?}"
        );
        run.scheduling(&name, false);
        run.census_back_to(&baseline, &format!("swap {n} in a row"));
        from = name;
    }
    gaps.sort_unstable();
    println!(
        "{k}: {IN_A_ROW} swaps in a row, gap (guest time) min {} / median {} / max {} us; {baseline} after each",
        gaps[0],
        gaps[gaps.len() / 2],
        gaps[gaps.len() - 1]
    );

    // Ctrl-C stops the scheduler in the guest, which then powers off.
    // SAFETY: kill has no preconditions; the pid is our child's.
    unsafe { libc::kill(run.child.id() as i32, libc::SIGINT) };
    let last = from;
    run.wait_for("stop report", |l| {
        l.starts_with(&format!("err: stopped: {last} after ")) && l.ends_with("(interrupted)")
    });
    run.wait_for("guest report", |l| l.starts_with("err: guest kernel ") && l.ends_with("disabled after"));
    let status = run.child.wait().unwrap();
    assert!(status.success(), "{status}; schedc printed:\n{}", run.seen.join("\n"));
}
