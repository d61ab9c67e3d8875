//! What the host asks the guest to measure: typed, written as JSON into the
//! guest's image and read back by the same `schedc` there (`schedc
//! bench-guest`), so no option is spelled as shell words.

use serde::{Deserialize, Serialize};

/// Where the plan is in the guest.
pub const GUEST_PLAN: &str = "/bench/plan.json";

/// Where the kernel's config is in the guest, when the host has it.
pub const GUEST_KCONFIG: &str = "/bench/kconfig";

/// How the guest's clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// QEMU with `-icount shift=4,sleep=off` and `nokaslr`: guest time comes
    /// from executed instructions, so the host's own load does not leak in.
    Icount,
    /// QEMU in plain emulation: guest time is the host's.
    Realtime,
    /// No VM: on this machine, whose kernel must have sched_ext (needs root).
    Native,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Icount => "icount",
            Mode::Realtime => "realtime",
            Mode::Native => "native",
        }
    }

    /// QEMU's options for this mode.
    pub fn qemu_args(self) -> &'static [&'static str] {
        match self {
            Mode::Icount => &["-icount", "shift=4,sleep=off"],
            Mode::Realtime | Mode::Native => &[],
        }
    }

    /// The kernel command line's extra words for this mode: the same
    /// addresses in every boot, so the same code runs the same.
    pub fn kernel_args(self) -> &'static [&'static str] {
        match self {
            Mode::Icount => &["nokaslr"],
            Mode::Realtime | Mode::Native => &[],
        }
    }
}

/// One workload of the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// Two CPU hogs per CPU beside cyclictest (1 ms period): its wake-up
    /// latency p50 / p99 / max.
    Interactive,
    /// hackbench, 4 groups over pipes: completion time.
    HackbenchPipe,
    /// hackbench, 4 groups over sockets: completion time.
    HackbenchSocket,
    /// Two CPU-bound stress-ng workers per CPU doing a fixed amount of
    /// work: completion time.
    Cpu,
}

impl Workload {
    pub const ALL: [Workload; 4] =
        [Workload::Interactive, Workload::HackbenchPipe, Workload::HackbenchSocket, Workload::Cpu];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Interactive => "interactive",
            Workload::HackbenchPipe => "hackbench-pipe",
            Workload::HackbenchSocket => "hackbench-socket",
            Workload::Cpu => "cpu",
        }
    }
}

/// A scheduler to measure in the guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestScheduler {
    /// How the results name it: the policy or object as given on the host,
    /// or `default` for the kernel's own scheduler.
    pub label: String,
    /// The object in the guest; `None` for the kernel's default scheduler.
    pub object: Option<String>,
    /// A hand-written object (`--reference`), loaded as it is; a kernel
    /// that will not run it leaves it out rather than failing the bench.
    #[serde(default)]
    pub reference: bool,
}

/// Everything the guest agent does, in order: the idle floor, then for
/// each round, each workload under each scheduler in turn (A B A B ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub rounds: u32,
    pub workloads: Vec<Workload>,
    /// The default scheduler first.
    pub schedulers: Vec<GuestScheduler>,
    /// Stop after the idle floor if its p99 is above this many µs (the
    /// clock mode is not to be trusted); `None`: measure regardless.
    pub floor_limit_us: Option<u64>,
    pub sizes: Sizes,
    /// The guest kernel's config, for references that read `__kconfig`
    /// externs: libbpf looks for it in `/boot/config-RELEASE` or
    /// `/proc/config.gz`, which a guest may lack.
    #[serde(default)]
    pub kconfig: Option<String>,
}

/// How much work each workload does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizes {
    /// cyclictest wake-ups (1 ms apart) per measurement.
    pub wakeups: u32,
    /// hackbench groups and messages per sender.
    pub hackbench_groups: u32,
    pub hackbench_loops: u32,
    /// stress-ng bogo operations per CPU-bound worker.
    pub cpu_ops: u32,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes { wakeups: 3000, hackbench_groups: 4, hackbench_loops: 100, cpu_ops: 300 }
    }
}
