use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use schedc_abi::{Stat, Value};

use crate::latency::{LatencyProbe, LatencyReport, ProbeOptions, ProgCost};
use crate::scheduler::{ExitInfo, OpenOptions, ProgStats, Scheduler};
use crate::Error;

/// How [`run`] runs a scheduler.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub open: OpenOptions,
    /// Stop after this long; `None` runs until a signal or an ejection.
    pub duration: Option<Duration>,
    /// How often `on_tick` is called.
    pub interval: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { open: OpenOptions::default(), duration: None, interval: Duration::from_secs(1) }
    }
}

/// Why [`run`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The requested duration elapsed.
    DurationElapsed,
    /// SIGINT (Ctrl-C) or SIGTERM arrived.
    Signal,
    /// The kernel stopped the scheduler on its own (an error, a stall, or
    /// SysRq-S); `RunReport::exit` says why.
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
    pub ran_for: Duration,
    /// The runqueue latency over the run, when measured.
    pub latency: Option<LatencyReport>,
    /// What the latency probe cost, when the kernel kept BPF statistics.
    pub probe_cost: Vec<ProgCost>,
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

/// Loads and attaches the scheduler at `path`, calls `on_tick` with its
/// statistics every `opts.interval`, and detaches it when `opts.duration`
/// has elapsed, on SIGINT/SIGTERM, or when the kernel ejects it.
///
/// `on_tick` is called once just after attaching (`scheduler` is then
/// attached) and after every interval.
pub fn run<F>(path: impl AsRef<Path>, opts: &RunOptions, mut on_tick: F) -> Result<RunReport, Error>
where
    F: FnMut(&Scheduler, &[(Stat, Value)]),
{
    run_with(path, opts, None, |sched, stats, _| on_tick(sched, stats), |_| {})
}

/// [`run`], with two additions. When `latency` is given the latency probe
/// runs beside the scheduler: `on_tick` then also gets the waits of each
/// interval (`None` on the first call, just after attaching), and the report
/// holds those of the whole run, taken before the scheduler is detached.
/// And `poll` is called with the running scheduler between ticks (every
/// 50 ms at most), which may replace it: `schedc run --watch` swaps in a new
/// one there. Ticks go on at the same pace; the report is the last
/// scheduler's.
pub fn run_with<F, P>(
    path: impl AsRef<Path>,
    opts: &RunOptions,
    latency: Option<ProbeOptions>,
    mut on_tick: F,
    mut poll: P,
) -> Result<RunReport, Error>
where
    F: FnMut(&Scheduler, &[(Stat, Value)], Option<&LatencyReport>),
    P: FnMut(&mut Scheduler),
{
    watch_signals();
    let mut sched = Scheduler::open_with(path, &opts.open)?;
    sched.attach()?;
    let mut probe = latency.map(|o| LatencyProbe::attach(Some(&sched), &o)).transpose()?;
    on_tick(&sched, &sched.read_stats()?, None);
    let (reason, ran_for) = tick_loop(
        opts.duration,
        opts.interval,
        &mut sched,
        |sched| !sched.is_attached(),
        |sched| {
            let waits = probe.as_mut().map(LatencyProbe::interval).transpose()?;
            on_tick(sched, &sched.read_stats()?, waits.as_ref());
            Ok(())
        },
        &mut poll,
    )?;
    // The rest of the last interval, before the kernel's own scheduler
    // takes over again.
    if let Some(probe) = probe.as_mut() {
        probe.interval()?;
    }
    sched.detach();
    Ok(RunReport {
        scheduler: sched.manifest().scheduler.clone(),
        reason,
        exit: sched.exit_info()?,
        stats: sched.read_stats()?,
        verifier: sched.verifier_stats().to_vec(),
        ran_for,
        latency: probe.as_ref().map(|p| p.total().clone()),
        probe_cost: probe.as_ref().map(LatencyProbe::cost).unwrap_or_default(),
    })
}

/// From now on SIGINT and SIGTERM end the next [`tick_loop`] (even one
/// that starts after they arrived).
pub(crate) fn watch_signals() {
    install_signal_handlers();
    STOP.store(false, Ordering::SeqCst);
}

/// Calls `tick` every `interval`, and `poll` between ticks, until `duration`
/// has elapsed, SIGINT or SIGTERM arrives (see [`watch_signals`]), or
/// `ejected` says the scheduler is gone; each gets `state`. Returns why it
/// stopped and after how long.
pub(crate) fn tick_loop<S>(
    duration: Option<Duration>,
    interval: Duration,
    state: &mut S,
    mut ejected: impl FnMut(&S) -> bool,
    mut tick: impl FnMut(&mut S) -> Result<(), Error>,
    mut poll: impl FnMut(&mut S),
) -> Result<(StopReason, Duration), Error> {
    let started = Instant::now();
    let step = Duration::from_millis(50).min(interval);
    let mut next_tick = started + interval;
    let reason = loop {
        if STOP.load(Ordering::SeqCst) {
            break StopReason::Signal;
        }
        if ejected(state) {
            break StopReason::Ejected;
        }
        let now = Instant::now();
        if duration.is_some_and(|d| now >= started + d) {
            break StopReason::DurationElapsed;
        }
        if now >= next_tick {
            tick(state)?;
            next_tick += interval;
        }
        poll(state);
        std::thread::sleep(step);
    };
    Ok((reason, started.elapsed()))
}
