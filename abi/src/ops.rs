//! The sched_ext ops flags a policy may ask for (`scheduler ... with FLAG`).
//! The compiler writes them into `sched_ext_ops.flags`; the runtime clears,
//! before load, those the running kernel does not know (6.12 refuses an
//! object with a flag it lacks) and names them.

/// A sched_ext ops flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpsFlag {
    /// `SCX_OPS_ENQ_LAST`: the last runnable task of a CPU whose slice ran
    /// out goes through `ops.enqueue` (`event.last`) instead of running on.
    EnqueueLast,
    /// `SCX_OPS_ENQ_EXITING`: exiting tasks go through `ops.enqueue` too.
    EnqueueExiting,
    /// `SCX_OPS_SWITCH_PARTIAL`: only tasks with the `SCHED_EXT` policy
    /// are scheduled; the rest stay with the kernel's fair class.
    Partial,
    /// `SCX_OPS_ENQ_MIGRATION_DISABLED` (kernels after 6.12): a task that
    /// may not migrate right now goes through `ops.enqueue` instead of
    /// straight to its CPU's local queue (6.12 always sends it there).
    EnqueueMigrationDisabled,
    /// `SCX_OPS_ALLOW_QUEUED_WAKEUP` (kernels after 6.12): a wake-up may be
    /// queued on the target CPU and finished there, as the fair class does.
    AllowQueuedWakeup,
}

impl OpsFlag {
    pub const ALL: [OpsFlag; 5] = [
        OpsFlag::EnqueueLast,
        OpsFlag::EnqueueExiting,
        OpsFlag::Partial,
        OpsFlag::EnqueueMigrationDisabled,
        OpsFlag::AllowQueuedWakeup,
    ];

    /// The word after `with`.
    pub fn word(self) -> &'static str {
        match self {
            OpsFlag::EnqueueLast => "enqueue_last",
            OpsFlag::EnqueueExiting => "enqueue_exiting",
            OpsFlag::Partial => "partial",
            OpsFlag::EnqueueMigrationDisabled => "enqueue_migration_disabled",
            OpsFlag::AllowQueuedWakeup => "allow_queued_wakeup",
        }
    }

    /// The kernel's name of the flag (`enum scx_ops_flags`).
    pub fn c_name(self) -> &'static str {
        match self {
            OpsFlag::EnqueueLast => "SCX_OPS_ENQ_LAST",
            OpsFlag::EnqueueExiting => "SCX_OPS_ENQ_EXITING",
            OpsFlag::Partial => "SCX_OPS_SWITCH_PARTIAL",
            OpsFlag::EnqueueMigrationDisabled => "SCX_OPS_ENQ_MIGRATION_DISABLED",
            OpsFlag::AllowQueuedWakeup => "SCX_OPS_ALLOW_QUEUED_WAKEUP",
        }
    }

    /// Its bit in `sched_ext_ops.flags`; the same on every kernel that has it.
    pub fn bit(self) -> u64 {
        match self {
            OpsFlag::EnqueueLast => 1 << 1,
            OpsFlag::EnqueueExiting => 1 << 2,
            OpsFlag::Partial => 1 << 3,
            OpsFlag::EnqueueMigrationDisabled => 1 << 4,
            OpsFlag::AllowQueuedWakeup => 1 << 5,
        }
    }

    /// Whether 6.12, the oldest kernel schedc supports, has it.
    pub fn in_every_kernel(self) -> bool {
        self.bit() < 1 << 4
    }

    /// The flags set in `flags`, in [`OpsFlag::ALL`] order.
    pub fn in_mask(flags: u64) -> Vec<OpsFlag> {
        Self::ALL.into_iter().filter(|f| flags & f.bit() != 0).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_distinct_and_round_trip() {
        let all = OpsFlag::ALL.iter().fold(0, |m, f| {
            assert_eq!(m & f.bit(), 0, "{f:?} shares a bit");
            m | f.bit()
        });
        assert_eq!(OpsFlag::in_mask(all), OpsFlag::ALL.to_vec());
        assert_eq!(OpsFlag::in_mask(1 << 5 | 1 << 1), vec![OpsFlag::EnqueueLast, OpsFlag::AllowQueuedWakeup]);
    }
}
