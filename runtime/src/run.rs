use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use schedc_abi::{Stat, Value};

use crate::latency::{LatencyProbe, LatencyReport, ProbeOptions, ProgCost};
use crate::scheduler::{ExitInfo, OpenOptions, ProgStats, Scheduler};
use crate::Error;

/// At most this many restarts the kernel asks for ...
pub const RESTART_LIMIT: u32 = 3;
/// ... within this long; one more is refused and the run ends as ejected.
pub const RESTART_WINDOW: Duration = Duration::from_secs(30);

/// How [`run`] runs a scheduler.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub open: OpenOptions,
    /// Stop after this long; `None` runs until a signal or an ejection.
    pub duration: Option<Duration>,
    /// How often [`RunEvent::Interval`] comes.
    pub interval: Duration,
    /// Restarts allowed within [`RESTART_WINDOW`] when the kernel asks for
    /// one; 0 never restarts.
    pub restart_limit: u32,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            open: OpenOptions::default(),
            duration: None,
            interval: Duration::from_secs(1),
            restart_limit: RESTART_LIMIT,
        }
    }
}

/// Why [`run`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The requested duration elapsed.
    DurationElapsed,
    /// SIGINT (Ctrl-C) or SIGTERM arrived.
    Signal,
    /// The kernel stopped the scheduler on its own (an error, a stall,
    /// SysRq-S, or a restart request beyond the restart limit);
    /// `RunReport::exit` says why.
    Ejected,
}

/// The outcome of a [`run`].
#[derive(Debug, Clone)]
pub struct RunReport {
    pub scheduler: String,
    pub reason: StopReason,
    /// The kernel's exit record: for a requested stop it is normally
    /// SCX_EXIT_UNREG; for an ejection, the error.
    pub exit: Option<ExitInfo>,
    /// The statistics after the scheduler stopped.
    pub stats: Vec<(Stat, Value)>,
    pub verifier: Vec<ProgStats>,
    /// From the first attach to the stop.
    pub ran_for: Duration,
    /// How many times the scheduler was loaded again at the kernel's request.
    pub restarts: u32,
    /// The runqueue latency over the run, when measured.
    pub latency: Option<LatencyReport>,
    /// What the latency probe cost, when the kernel kept BPF statistics.
    pub probe_cost: Vec<ProgCost>,
}

/// What [`run`] tells its caller while the scheduler runs.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// The scheduler was attached: first, and again after each restart.
    /// `stats` are its values at that moment.
    Attached { scheduler: &'a Scheduler, stats: &'a [(Stat, Value)] },
    /// An interval went by.
    Interval {
        scheduler: &'a Scheduler,
        stats: &'a [(Stat, Value)],
        /// Since the scheduler was (last) attached.
        since_attach: Duration,
        /// The waits of the interval, when latency is measured.
        waits: Option<&'a LatencyReport>,
    },
    /// The kernel stopped the scheduler asking for a restart, and it is
    /// about to be loaded and attached again.
    Restarting {
        exit: &'a ExitInfo,
        /// The final statistics of the stopped scheduler.
        stats: &'a [(Stat, Value)],
        since_attach: Duration,
        /// 1 for the first restart within the window, and so on.
        attempt: u32,
        limit: u32,
        window: Duration,
    },
}

/// The restarts allowed: at most `limit` within any `window`.
#[derive(Debug, Clone)]
pub struct RestartBudget {
    limit: u32,
    window: Duration,
    recent: VecDeque<Instant>,
}

impl RestartBudget {
    pub fn new(limit: u32, window: Duration) -> RestartBudget {
        RestartBudget { limit, window, recent: VecDeque::new() }
    }

    /// Takes one restart at `now` if fewer than `limit` were taken within
    /// the window before it; returns which restart within the window it
    /// is (1 for the first), or `None` when the budget is spent.
    pub fn take(&mut self, now: Instant) -> Option<u32> {
        while self.recent.front().is_some_and(|&t| now.duration_since(t) >= self.window) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.limit as usize {
            return None;
        }
        self.recent.push_back(now);
        Some(self.recent.len() as u32)
    }
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Makes SIGINT and SIGTERM set STOP instead of killing the process, so the
/// scheduler is detached and its statistics reported.
fn install_signal_handlers() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: the handler only stores to an atomic, which is
            // async-signal-safe; the sigaction struct is fully initialised.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    });
}

/// Whether SIGINT or SIGTERM arrived since [`run`] last started, for a
/// program that waits on something else, such as a guest running the
/// scheduler; from the first call on, they no longer kill the process.
pub fn interrupted() -> bool {
    install_signal_handlers();
    STOP.load(Ordering::SeqCst)
}

/// Loads and attaches the scheduler at `path`, tells `on_event` when it is
/// attached and after every `opts.interval`, and detaches it when
/// `opts.duration` has elapsed (counted from the first attach), on
/// SIGINT/SIGTERM, or when the kernel ejects it. When the kernel's exit
/// record asks for a restart, the scheduler is loaded and attached again,
/// at most `opts.restart_limit` times within [`RESTART_WINDOW`].
pub fn run<F>(path: impl AsRef<Path>, opts: &RunOptions, on_event: F) -> Result<RunReport, Error>
where
    F: FnMut(RunEvent<'_>),
{
    run_with(path, opts, None, on_event, |_| {})
}

/// [`run`], with two additions. When `latency` is given the latency probe
/// runs beside the scheduler: each [`RunEvent::Interval`] carries the waits
/// of its interval, and the report those of the whole run, taken before the
/// scheduler is detached. And `poll` is called with the running scheduler
/// between ticks (every 50 ms at most), which may replace it: `schedc run
/// --watch` swaps in a new one there (the probe keeps attributing classes
/// by the first scheduler's task storage). Ticks go on at the same pace;
/// the report is the last scheduler's.
pub fn run_with<F, P>(
    path: impl AsRef<Path>,
    opts: &RunOptions,
    latency: Option<ProbeOptions>,
    mut on_event: F,
    mut poll: P,
) -> Result<RunReport, Error>
where
    F: FnMut(RunEvent<'_>),
    P: FnMut(&mut Scheduler),
{
    watch_signals();
    let path = path.as_ref();
    let mut budget = RestartBudget::new(opts.restart_limit, RESTART_WINDOW);
    // Both count from the first attach: loading may take a while.
    let mut first_attach: Option<Instant> = None;
    let mut restarts = 0;
    let mut waits = LatencyReport::default();
    let mut probe_cost = Vec::new();
    loop {
        let mut sched = Scheduler::open_with(path, &opts.open)?;
        sched.attach()?;
        // The probe loads in moments natively but in seconds under emulation:
        // the run's time starts once it is measuring.
        let probe = latency.map(|o| LatencyProbe::attach(Some(&sched), &o)).transpose()?;
        let attached = Instant::now();
        let started = *first_attach.get_or_insert(attached);
        let deadline = opts.duration.map(|d| started + d);
        on_event(RunEvent::Attached { scheduler: &sched, stats: &sched.read_stats()? });
        let mut running = (sched, probe);
        let reason = tick_loop(
            deadline,
            attached,
            opts.interval,
            &mut running,
            |(sched, _)| !sched.is_attached(),
            |(sched, probe)| {
                let interval_waits = probe.as_mut().map(LatencyProbe::interval).transpose()?;
                on_event(RunEvent::Interval {
                    scheduler: sched,
                    stats: &sched.read_stats()?,
                    since_attach: attached.elapsed(),
                    waits: interval_waits.as_ref(),
                });
                Ok(())
            },
            |(sched, _)| poll(sched),
        )?;
        let (mut sched, mut probe) = running;
        // The rest of the last interval, before the kernel's own scheduler
        // takes over again.
        if let Some(probe) = probe.as_mut() {
            probe.interval()?;
            waits.merge(probe.total());
            probe_cost = probe.cost();
        }
        sched.detach();
        let exit = sched.exit_info()?;
        let stats = sched.read_stats()?;
        if reason == StopReason::Ejected {
            let restart = exit.as_ref().filter(|e| e.wants_restart()).zip(budget.take(Instant::now()));
            if let Some((exit, attempt)) = restart {
                on_event(RunEvent::Restarting {
                    exit,
                    stats: &stats,
                    since_attach: attached.elapsed(),
                    attempt,
                    limit: opts.restart_limit,
                    window: RESTART_WINDOW,
                });
                restarts += 1;
                continue;
            }
        }
        return Ok(RunReport {
            scheduler: sched.manifest().scheduler.clone(),
            reason,
            exit,
            stats,
            verifier: sched.verifier_stats().to_vec(),
            ran_for: started.elapsed(),
            restarts,
            latency: latency.is_some().then_some(waits),
            probe_cost,
        });
    }
}

/// From now on SIGINT and SIGTERM end the next [`tick_loop`] (even one
/// that starts after they arrived).
pub(crate) fn watch_signals() {
    install_signal_handlers();
    STOP.store(false, Ordering::SeqCst);
}

/// Calls `tick` every `interval` from `start`, and `poll` between ticks,
/// until `deadline`, SIGINT or SIGTERM (see [`watch_signals`]), or until
/// `ejected` says the scheduler is gone; each gets `state`. Returns why it
/// stopped.
pub(crate) fn tick_loop<S>(
    deadline: Option<Instant>,
    start: Instant,
    interval: Duration,
    state: &mut S,
    mut ejected: impl FnMut(&S) -> bool,
    mut tick: impl FnMut(&mut S) -> Result<(), Error>,
    mut poll: impl FnMut(&mut S),
) -> Result<StopReason, Error> {
    let step = Duration::from_millis(50).min(interval);
    let mut next_tick = start + interval;
    loop {
        if STOP.load(Ordering::SeqCst) {
            return Ok(StopReason::Signal);
        }
        if ejected(state) {
            return Ok(StopReason::Ejected);
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Ok(StopReason::DurationElapsed);
        }
        if now >= next_tick {
            tick(state)?;
            next_tick += interval;
        }
        poll(state);
        std::thread::sleep(step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_limit_of_restarts_within_the_window() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut budget = RestartBudget::new(3, s(30));
        assert_eq!(budget.take(t0), Some(1));
        assert_eq!(budget.take(t0 + s(1)), Some(2));
        assert_eq!(budget.take(t0 + s(2)), Some(3));
        assert_eq!(budget.take(t0 + s(3)), None, "a fourth within 30 s");
        assert_eq!(budget.take(t0 + s(29)), None, "still within 30 s of the first");
        // The first restart leaves the window; one more is allowed, the
        // third of those now in the window.
        assert_eq!(budget.take(t0 + s(30)), Some(3));
        assert_eq!(budget.take(t0 + s(31)), Some(3), "the second left the window too");
        assert_eq!(budget.take(t0 + s(31)), None);
        // Long after, the count starts again.
        assert_eq!(budget.take(t0 + s(120)), Some(1));
    }

    #[test]
    fn a_zero_limit_never_restarts() {
        assert_eq!(RestartBudget::new(0, RESTART_WINDOW).take(Instant::now()), None);
    }
}
