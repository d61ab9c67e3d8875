//! `schedc run --watch`: swap the scheduler each time its policy is saved.
//!
//! On this machine, [`PolicyWatcher`] turns saves into checked, compiled
//! candidates and [`swap_in`] loads each one beside the running scheduler
//! (the verifier's pass) before detaching the old one and attaching it, so
//! that only the link swap keeps tasks on the default scheduler. Under
//! `--vm` the host watches and compiles (the guest has no clang) and sends
//! each object over the VM's channel to `schedc run --swap-from` in the
//! guest, which swaps it in the same way ([`receive`]).

mod census;
mod channel;
mod policy;

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use schedc_abi::events::{SwapEvent, SwapOutcome, SwapReason};
use schedc_runtime::{OpenOptions, Scheduler, SwapFailed};

use census::BpfCensus;
pub use channel::Message;
pub use policy::{Candidate, PolicyWatcher};

use crate::check::load;
use crate::compile::{build, is_bpf_object};
use crate::error::{self, CliError};
use crate::output::DiagnosticArgs;
use crate::run::{check_set_once, run_object, temp_dir, RunArgs};

/// The options of `schedc run` for swapping schedulers while it runs.
#[derive(clap::Args, Default)]
pub struct WatchArgs {
    /// Watch the policy file: on each save, check it; if it has errors,
    /// keep the running scheduler; otherwise compile it and swap it in,
    /// saying what changed and how long the swap took.
    #[arg(long)]
    pub watch: bool,
    /// Swap in the objects the host sends through this channel (what
    /// `schedc run --vm --watch` runs in the guest).
    #[arg(long, value_name = "DEVICE", hide = true, conflicts_with = "watch")]
    pub swap_from: Option<PathBuf>,
}

/// A scheduler and when it was attached, as people are told about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub name: String,
    /// HH:MM:SS, local time.
    pub at: String,
}

impl Loaded {
    pub fn now(name: &str) -> Loaded {
        Loaded { name: name.into(), at: clock() }
    }
}

impl std::fmt::Display for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (loaded {})", self.name, self.at)
    }
}

/// Progress of the watch: on stderr, so that stdout carries only the
/// statistics.
pub fn say(line: &str) {
    eprintln!("{line}");
}

/// The time of day, HH:MM:SS in local time.
fn clock() -> String {
    // SAFETY: time and localtime_r write only to the structs given; a
    // zeroed tm is a valid value for them to overwrite.
    let tm = unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&now, &mut tm);
        tm
    };
    format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)
}

/// The policy to watch, checked and compiled: it runs first.
pub struct Started {
    pub watcher: PolicyWatcher,
    pub object: PathBuf,
    _dir: tempfile::TempDir,
}

/// Checks and compiles the policy at `target` and starts watching it.
pub fn start(target: &Path, args: &RunArgs) -> Result<Started, CliError> {
    if std::fs::read(target).is_ok_and(|bytes| is_bpf_object(&bytes)) {
        return Err(CliError::WatchObject { path: target.into() });
    }
    check_set_once(args)?;
    let checked = load(target, &DiagnosticArgs::default())?;
    let dir = temp_dir()?;
    let object = dir.path().join(format!("{}.bpf.o", checked.model.name));
    build(&checked, &object)?;
    let watcher = PolicyWatcher::new(target, checked, &args.overrides)?;
    say(&format!("watching {}: save it to swap the scheduler", target.display()));
    Ok(Started { watcher, object, _dir: dir })
}

/// `schedc run --watch POLICY` on this machine.
pub fn run_watching(target: &Path, args: &RunArgs) -> Result<ExitCode, CliError> {
    let Started { mut watcher, object, _dir } = start(target, args)?;
    let mut census = BpfCensus::default();
    run_object(target, &object, args, |sched| {
        census.poll();
        if let Some(candidate) = watcher.next_candidate() {
            let event = swap_in(sched, &candidate.object, &candidate.overrides, watcher.loaded());
            if event.gap_us.is_some() {
                census.recount();
            }
            watcher.settle(candidate, &event);
        }
    })
}

/// `schedc run --swap-from DEVICE OBJECT` in a guest: swaps in what the
/// host sends, and stops when it says so.
pub fn run_receiving(target: &Path, device: &Path, args: &RunArgs) -> Result<ExitCode, CliError> {
    let (dir, object) = crate::run::prepare(target, args)?;
    let swaps = receive(device, dir.path().to_path_buf())?;
    let mut loaded: Option<Loaded> = None;
    let mut census = BpfCensus::default();
    run_object(target, &object, args, |sched| {
        census.poll();
        let running = loaded.get_or_insert_with(|| Loaded::now(&sched.manifest().scheduler));
        if let Ok((object, overrides)) = swaps.try_recv() {
            let event = swap_in(sched, &object, &overrides, running);
            if event.outcome == SwapOutcome::Ok {
                *running = Loaded::now(&sched.manifest().scheduler);
            }
            if event.gap_us.is_some() {
                census.recount();
            }
        }
    })
}

/// An object the host sent, written to a file, and its `--set` values.
type Received = (PathBuf, Vec<(String, String)>);

/// Reads the host's messages from `device` on a thread of their own: each
/// object goes into `dir` and its path, with its settings, into the
/// returned channel; `stop` ends the run as Ctrl-C would.
fn receive(device: &Path, dir: PathBuf) -> Result<Receiver<Received>, CliError> {
    let file = std::fs::File::open(device).map_err(|source| CliError::SwapChannel { path: device.into(), source })?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut input = BufReader::new(file);
        for n in 1.. {
            match Message::read_from(&mut input) {
                Ok(Some(Message::Swap { object, overrides })) => {
                    let path = dir.join(format!("swap-{n}.bpf.o"));
                    match std::fs::write(&path, object) {
                        Ok(()) => {
                            let _ = tx.send((path, overrides));
                        }
                        Err(err) => say(&format!("cannot write the new object {}: {err}", path.display())),
                    }
                }
                Ok(Some(Message::Stop)) => {
                    // SAFETY: kill and getpid have no preconditions; SIGTERM
                    // is handled by the run loop, which then stops.
                    unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
                }
                Ok(None) => break,
                Err(err) => {
                    say(&format!("the host's channel failed: {err}"));
                    break;
                }
            }
        }
    });
    Ok(rx)
}

/// Loads the object at `object` beside the running scheduler `sched`
/// (`running`), then swaps it in. Says how it went, in words and as a
/// [`SwapEvent`] line.
pub fn swap_in(sched: &mut Scheduler, object: &Path, overrides: &[(String, String)], running: &Loaded) -> SwapEvent {
    let opts = OpenOptions { overrides: overrides.to_vec() };
    let mut event =
        SwapEvent { outcome: SwapOutcome::Kept, from: running.name.clone(), to: None, gap_us: None, reason: None };
    let loading = Instant::now();
    match sched.open_replacement(object, &opts) {
        Err(err) => {
            error::print(&err.into());
            say(&format!("kept running: {running}"));
            event.reason = Some(SwapReason::LoadFailed);
        }
        Ok(next) => {
            let load = loading.elapsed();
            event.to = Some(next.manifest().scheduler.clone());
            match sched.swap(next) {
                Ok(swapped) => {
                    event.outcome = SwapOutcome::Ok;
                    event.gap_us = Some(swapped.gap.as_micros() as u64);
                    let ms = |d: Duration| d.as_secs_f64() * 1e3;
                    let (gap, detach, attach) = (ms(swapped.gap), ms(swapped.detach), ms(swapped.gap - swapped.detach));
                    let (load, prepare) = (ms(load), ms(swapped.prepare));
                    let name = &sched.manifest().scheduler;
                    say(&format!(
                        "swapped in {gap:.1} ms (detach {detach:.1} ms, attach {attach:.1} ms; \
                         before them, while the old one ran: load {load:.1} ms, struct_ops {prepare:.1} ms): \
                         now running {name}"
                    ));
                }
                Err(SwapFailed { error, restored, gap }) => {
                    error::print(&error.into());
                    event.gap_us = Some(gap.as_micros() as u64);
                    event.reason = Some(SwapReason::AttachFailed);
                    if restored {
                        event.outcome = SwapOutcome::Restored;
                        say(&format!(
                            "{} would not attach; {} runs again",
                            event.to.as_deref().unwrap_or("?"),
                            running.name
                        ));
                    } else {
                        event.outcome = SwapOutcome::Lost;
                        say(&format!("neither the new scheduler nor {} would attach", running.name));
                    }
                }
            }
        }
    }
    say(&event.to_string());
    event
}
