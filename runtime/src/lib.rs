//! Runtime side of schedc: everything between a compiled scheduler object
//! (`*.bpf.o` produced from schedc's generated C) and a running sched_ext
//! scheduler.
//!
//! * [`read_manifest`] reads the [`Manifest`] embedded in the object's
//!   `.schedc.manifest` section (no root or BPF support needed); its types,
//!   and everything else the compiler and runtime agree on, are schedc-abi's.
//! * [`Scheduler`] checks the system, fills in machine facts and parameter
//!   values, loads the object, attaches it and reads its statistics and
//!   exit record.
//! * [`Rejection`] is what the kernel's verifier said when it refused a
//!   program, with the C line it refused.
//! * [`run`] is the attach / report / stop loop behind `schedc run`, which
//!   also restarts a scheduler when the kernel asks for it;
//!   [`Scheduler::swap`] replaces a running scheduler (`--watch`), and
//!   [`carry_over`] says which `--set` values the replacement takes.
//! * [`find_attached`] finds the schedc scheduler some other program
//!   attached, through the kernel alone, for `schedc stats`.
//! * [`vm`] boots a sched_ext kernel in QEMU and runs commands in it, for
//!   `schedc run --vm` and the VM tests.
//! * [`latency`] measures runqueue latency with a tracing probe, under any
//!   scheduler, by class when a schedc scheduler is attached.

mod btf;
mod carry;
mod error;
pub mod latency;
mod manifest;
mod monitor;
mod reference;
mod run;
mod scheduler;
mod sys;
mod topology;
mod value;
mod verifier;
pub mod vm;

pub use carry::{carry_over, CarriedOver, Dropped};
pub use error::Error;
pub use manifest::{read_manifest, read_manifest_bytes};
pub use monitor::{find_attached, AttachedScheduler, Found};
pub use reference::Reference;
pub use run::{
    interrupted, run, run_with, RestartBudget, RunEvent, RunOptions, RunReport, StopReason, RESTART_LIMIT,
    RESTART_WINDOW,
};
pub use schedc_abi::{Class, Input, MachineFact, Manifest, Param, Stat, StatKind, Value, ValueType};
pub use scheduler::{ExitInfo, OpenOptions, ProgStats, Scheduler, SwapFailed, Swapped};
pub use sys::{count_loaded_bpf, read_sched_ext_state, LoadedBpf, SchedExtState};
pub use value::parse_override;
pub use verifier::{report_help, CLine, Rejection};
