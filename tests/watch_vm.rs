//! `schedc run --vm --watch` end to end, as a user drives it: the policy is
//! edited while the scheduler runs in a guest, and every save is seen,
//! checked, summarised, compiled on the host, sent to the guest and swapped
//! in there, or refused while the old scheduler keeps running. One kernel
//! (the first in ../shared/kernels) is enough: the swap itself is the same
//! on every kernel.
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
use schedc_testkit::Missing;
use vmtest::{available_kernels, missing_prerequisite};

/// How long one step (a boot, a swap, the power-off) may take under TCG.
const STEP: Duration = Duration::from_secs(120);

const FIFO: &str = include_str!("../policies/fifo.policy");

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
            .args(["run", "--vm", "--watch", "--interval", "500ms", "--set", "slice_len=5ms", "--kernel"])
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

    /// The next swap event on stderr.
    fn swap(&mut self) -> SwapEvent {
        let line =
            self.wait_for("swap event", |l| l.strip_prefix("err: ").is_some_and(|l| l.parse::<SwapEvent>().is_ok()));
        line["err: ".len()..].parse().expect("just parsed")
    }

    /// A row of statistics (`   12s   ...`).
    fn stats_row(&mut self) {
        self.wait_for("row of statistics", |l| {
            l.split_whitespace().next().is_some_and(|w| w.strip_suffix('s').is_some_and(|n| n.parse::<u64>().is_ok()))
        });
    }

    fn said(&self, line: &str) -> bool {
        self.seen.iter().any(|l| l == line)
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
    let kernel = &available_kernels()[0];
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("mine.policy");
    std::fs::write(&policy, FIFO).unwrap();
    let mut run = Watched::start(kernel, &policy);
    run.stats_row();

    // Saved in place: a new name and a new default.
    let second = FIFO
        .replace("scheduler fifo ", "scheduler fifo2 ")
        .replace("slice_len: duration = 20ms", "slice_len: duration = 10ms");
    std::fs::write(&policy, &second).unwrap();
    let swap = run.swap();
    assert_eq!((swap.outcome, swap.from.as_str(), swap.to.as_deref()), (SwapOutcome::Ok, "fifo", Some("fifo2")));
    let gap = swap.gap_us.expect("a swap has a gap");
    println!("{} swapped fifo for fifo2 in {gap} us", kernel.display());
    for line in
        ["err:     scheduler: fifo → fifo2", "err:     param slice_len: 20ms → 10ms", "err: --set: kept slice_len=5ms"]
    {
        assert!(run.said(line), "no {line:?} in:\n{}", run.seen.join("\n"));
    }
    // The table starts again once the kernel runs the new scheduler.
    run.wait_for("fifo2 attached", |l| l == "attached: sched_ext state=enabled ops=fifo2");
    assert!(run.seen.iter().any(|l| l.starts_with("swapped in ")), "{}", run.seen.join("\n"));
    run.stats_row();

    // A broken save: diagnostics, and fifo2 keeps running.
    std::fs::write(&policy, format!("{second}\nqueue\n")).unwrap();
    let kept = run.swap();
    assert_eq!((kept.outcome, kept.reason), (SwapOutcome::Kept, Some(SwapReason::PolicyErrors)));
    assert_eq!(kept.from, "fifo2");
    assert!(run.seen.iter().any(|l| l.starts_with("err: kept running: fifo2 (loaded ")), "{}", run.seen.join("\n"));
    run.stats_row();

    // Saved by renaming a new file over it: the renamed parameter leaves
    // the --set value behind.
    let third = second.replace("scheduler fifo2 ", "scheduler fifo3 ").replace("slice_len", "slice_time");
    let temporary = dir.path().join(".mine.policy.new");
    std::fs::write(&temporary, &third).unwrap();
    std::fs::rename(&temporary, &policy).unwrap();
    let swap = run.swap();
    assert_eq!((swap.outcome, swap.from.as_str(), swap.to.as_deref()), (SwapOutcome::Ok, "fifo2", Some("fifo3")));
    assert!(
        run.said("err: --set: dropped slice_len=5ms (the new policy has no such parameter)"),
        "{}",
        run.seen.join("\n")
    );
    run.wait_for("fifo3 attached", |l| l == "attached: sched_ext state=enabled ops=fifo3");
    run.stats_row();

    // Ctrl-C stops the scheduler in the guest, which then powers off.
    // SAFETY: kill has no preconditions; the pid is our child's.
    unsafe { libc::kill(run.child.id() as i32, libc::SIGINT) };
    run.wait_for("stop report", |l| l.starts_with("stopped: fifo3 after ") && l.ends_with("(interrupted)"));
    run.wait_for("guest report", |l| l.starts_with("guest kernel ") && l.ends_with("disabled after"));
    let status = run.child.wait().unwrap();
    assert!(status.success(), "{status}; schedc printed:\n{}", run.seen.join("\n"));
    Ok(())
}
