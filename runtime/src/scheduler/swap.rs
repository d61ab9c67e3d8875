//! Replacing a running scheduler with another, for `schedc run --watch`.
//!
//! The replacement is opened and loaded (the verifier's pass, the slow part)
//! and its `struct_ops` map filled in (the kernel builds a trampoline for
//! every callback, which under emulation takes longer than the rest of the
//! swap) while the old one still runs, so that only the kernel's disable and
//! enable are left between detaching the old one and attaching the new one:
//! the time the system spends on the default scheduler.

use std::path::Path;
use std::time::{Duration, Instant};

use libbpf_rs::{AsRawLibbpf, MapCore, MapType};

use super::{OpenOptions, Scheduler};
use crate::{sys, Error};

/// A swap that happened.
#[derive(Debug)]
pub struct Swapped {
    /// The scheduler that ran before, detached: its statistics and exit
    /// record stay readable.
    pub old: Scheduler,
    /// From the start of the detach to the end of the attach: the time
    /// tasks ran on the default scheduler.
    pub gap: Duration,
    /// How much of the gap the detach took (the kernel moving every task
    /// back to the default scheduler); the rest is the attach.
    pub detach: Duration,
}

/// A swap that did not happen: the new scheduler would not attach.
#[derive(Debug)]
pub struct SwapFailed {
    pub error: Error,
    /// Whether the old scheduler runs again (it was loaded anew and
    /// attached); otherwise nothing is attached.
    pub restored: bool,
    /// From the start of the detach to the end of the attempts.
    pub gap: Duration,
}

impl Scheduler {
    /// Opens and loads the scheduler at `path` while `self` is attached:
    /// the checks of [`Scheduler::open_with`], except that `self` may be
    /// the attached scheduler.
    pub fn open_replacement(&self, path: impl AsRef<Path>, opts: &OpenOptions) -> Result<Scheduler, Error> {
        let running = self.manifest.scheduler.clone();
        Scheduler::open_after(path.as_ref(), opts, || sys::preflight_replacing(Some(&running)))
    }

    /// Detaches `self` and attaches `next` (opened with
    /// [`Scheduler::open_replacement`]) in its place; `self` is the new
    /// scheduler afterwards. If `next` does not attach, the old scheduler
    /// is loaded again with the same parameters and attached (its own
    /// object cannot be attached twice: its exit record is filled in).
    pub fn swap(&mut self, mut next: Scheduler) -> Result<Swapped, SwapFailed> {
        if next.fill_struct_ops(self) {
            // The kernel replaced the scheduler in place: no gap at all.
            next.link = self.link.take();
            return Ok(Swapped { old: std::mem::replace(self, next), gap: Duration::ZERO, detach: Duration::ZERO });
        }
        let start = Instant::now();
        self.detach();
        let detach = start.elapsed();
        match next.attach() {
            Ok(()) => {
                let gap = start.elapsed();
                Ok(Swapped { old: std::mem::replace(self, next), gap, detach })
            }
            Err(error) => {
                let overrides = self.params.iter().map(|(p, v)| (p.name.clone(), v.to_string())).collect();
                let again = Scheduler::open_with(&self.path, &OpenOptions { overrides }).and_then(|mut again| {
                    again.attach()?;
                    Ok(again)
                });
                let restored = again.map(|again| *self = again).is_ok();
                Err(SwapFailed { error, restored, gap: start.elapsed() })
            }
        }
    }

    /// Hands the kernel this scheduler's `struct_ops` value (the programs of
    /// its callbacks) while `running` is still attached, so that the attach
    /// after the detach only registers it. libbpf does both in its attach;
    /// its link update does the first and then asks the kernel to replace
    /// `running`'s scheduler in place, which sched_ext refuses without
    /// touching it (a scheduler that fails to enable must not take the old
    /// one down). Returns whether the kernel replaced it after all. A value
    /// the kernel does not take here is reported by the attach.
    fn fill_struct_ops(&self, running: &Scheduler) -> bool {
        let Some(link) = running.link.as_ref() else { return false };
        let Some(map) = self.object.maps().find(|m| m.map_type() == MapType::StructOps) else { return false };
        // SAFETY: both pointers are libbpf's own and live as long as the
        // borrows of `running` and `self`; the call only reads them.
        let ret = unsafe {
            libbpf_rs::libbpf_sys::bpf_link__update_map(
                link.as_libbpf_object().as_ptr(),
                map.as_libbpf_object().as_ptr(),
            )
        };
        ret == 0
    }
}
