//! `schedc stats`: follow the schedc scheduler attached right now, from any
//! terminal, through the kernel alone (schedc_runtime::find_attached).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use schedc_abi::stats::Stop;
use schedc_runtime::{find_attached, AttachedScheduler, ExitInfo, Found};

use crate::error::CliError;
use crate::report::{StatsFormat, StatsPrinter};
use crate::run::parse_interval;

/// The options of `schedc stats`.
#[derive(clap::Args)]
pub struct StatsArgs {
    /// How often to print the statistics.
    #[arg(short, long, default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Print one JSON object per interval on stdout (docs/stats.md) instead
    /// of the table; everything else goes to stderr.
    #[arg(long)]
    pub json: bool,
}

/// How often the scheduler is checked for having stopped.
const POLL: Duration = Duration::from_millis(50);

/// Prints the attached scheduler's statistics until it stops, then follows
/// a schedc scheduler attached in its place within one interval (a restart
/// or a swap), if any.
pub fn stats(args: &StatsArgs) -> Result<ExitCode, CliError> {
    let format = if args.json { StatsFormat::Json } else { StatsFormat::Table };
    let mut sched = match find_attached()? {
        Found::Schedc(s) => *s,
        Found::NoSchedExt => return Err(CliError::StatsWithoutSchedExt),
        Found::Nothing { state } => return Err(CliError::NothingAttached { state }),
        Found::Other { name } => return Err(CliError::NotSchedcAttached { name }),
    };
    loop {
        let mut printer = StatsPrinter::new(format, args.interval, &sched.manifest().scheduler);
        printer.say(&format!(
            "following {} (link {}), attached by another program",
            sched.manifest().scheduler,
            sched.link_id()
        ));
        let since = Instant::now();
        printer.attached(sched.params(), &sched.read_stats()?);
        let (stop, exit) = follow(&sched, &mut printer, since, args.interval)?;
        let why = match stop {
            Stop::Detached => "the program running it detached it",
            _ => "the kernel stopped the scheduler",
        };
        printer.say(&format!("stopped: {} ({why})", sched.manifest().scheduler));
        printer.stopped(stop, exit.as_ref(), &sched.read_stats()?, since.elapsed());
        match successor(&sched, args.interval)? {
            Some(next) => sched = next,
            None => return Ok(ExitCode::SUCCESS),
        }
    }
}

/// Prints a row every interval until the scheduler stops; returns how.
fn follow(
    sched: &AttachedScheduler,
    printer: &mut StatsPrinter,
    since: Instant,
    interval: Duration,
) -> Result<(Stop, Option<ExitInfo>), CliError> {
    let mut next_tick = since + interval;
    loop {
        let linked = sched.is_linked();
        if let Some(exit) = sched.exit_info()? {
            return Ok((stop_of(&exit), Some(exit)));
        }
        if !linked {
            // The link's id goes before the kernel calls ops.exit: give the
            // exit record a moment to be written.
            let exit = wait_for_exit_record(sched)?;
            return Ok((exit.as_ref().map_or(Stop::Detached, stop_of), exit));
        }
        let now = Instant::now();
        if now >= next_tick {
            printer.interval(&sched.read_stats()?, now.duration_since(since));
            next_tick += interval;
        }
        std::thread::sleep(POLL);
    }
}

/// SCX_EXIT_UNREG: user space detached it; anything else the kernel decided.
fn stop_of(exit: &ExitInfo) -> Stop {
    if exit.kind == 64 {
        Stop::Detached
    } else {
        Stop::Ejected
    }
}

/// The exit record of a scheduler whose link is gone, once written (within a second).
fn wait_for_exit_record(sched: &AttachedScheduler) -> Result<Option<ExitInfo>, CliError> {
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        if let Some(exit) = sched.exit_info()? {
            return Ok(Some(exit));
        }
        std::thread::sleep(POLL);
    }
    Ok(None)
}

/// A schedc scheduler attached in place of `gone` within an interval (at
/// least a second), if one comes.
fn successor(gone: &AttachedScheduler, interval: Duration) -> Result<Option<AttachedScheduler>, CliError> {
    let deadline = Instant::now() + interval.max(Duration::from_secs(1));
    while Instant::now() < deadline {
        if let Found::Schedc(next) = find_attached()? {
            if next.link_id() != gone.link_id() {
                return Ok(Some(*next));
            }
        }
        std::thread::sleep(POLL);
    }
    Ok(None)
}
