//! Runtime side of schedc: everything between a compiled scheduler object
//! (`*.bpf.o` produced from schedc's generated C) and a running sched_ext
//! scheduler.
//!
//! * [`Manifest`] reads the JSON manifest embedded in the object's
//!   `.schedc.manifest` section (no root or BPF support needed).
//! * [`Scheduler`] checks the system, fills in machine facts and parameter
//!   values, loads the object, attaches it and reads its statistics and
//!   exit record.
//! * [`run`] is the attach / report / stop loop behind `schedc run`.
//! * [`latency`] measures runqueue latency with a tracing probe, under any
//!   scheduler, by class when a schedc scheduler is attached.
//! * `vmtest` (feature `vmtest`) builds initramfs images and boots sched_ext
//!   kernels in QEMU for tests.

mod error;
pub mod latency;
mod manifest;
mod run;
mod scheduler;
mod sys;
mod value;
#[cfg(feature = "vmtest")]
pub mod vmtest;

pub use error::Error;
pub use manifest::{ClassInfo, InputInfo, Manifest, ParamInfo, StatInfo, StatKind, ValueType, MANIFEST_SECTION};
pub use run::{run, run_measured, RunOptions, RunReport, StopReason};
pub use scheduler::{ExitInfo, OpenOptions, ProgStats, Scheduler};
pub use sys::{read_sched_ext_state, SchedExtState};
pub use value::{parse_override, Value};
