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
//! * [`vm`] boots a sched_ext kernel in QEMU and runs commands in it, for
//!   `schedc run --vm` and the VM tests.

mod error;
mod manifest;
mod run;
mod scheduler;
mod sys;
mod value;
pub mod vm;

pub use error::Error;
pub use manifest::{InputInfo, Manifest, ParamInfo, StatInfo, StatKind, ValueType, MANIFEST_SECTION};
pub use run::{run, RunOptions, RunReport, StopReason};
pub use scheduler::{ExitInfo, OpenOptions, ProgStats, Scheduler};
pub use sys::{read_sched_ext_state, SchedExtState};
pub use value::{parse_override, Value};
