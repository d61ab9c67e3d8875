//! What the schedc compiler and runtime must agree on, defined once.
//!
//! The compiler writes BPF objects; the runtime reads them without ever
//! seeing the policy. Everything both sides rely on lives here:
//!
//! * [`manifest`]: the JSON description embedded in every object, with its
//!   format version, and the C text that embeds it;
//! * [`ValueType`], [`StatKind`], [`Value`]: the types of parameters and
//!   statistics, and how a value is stored in the object;
//! * [`section`]: the ELF sections each kind of global lives in;
//! * [`exit`]: the exit record the scheduler fills in when it stops;
//! * [`stats`]: the records of the statistics stream (`--stats json`);
//! * [`units`]: the one syntax for durations, in policies and on the
//!   command line;
//! * [`events`]: what `schedc run` reports beside its statistics (swaps),
//!   as a line and as JSON;
//! * [`ops`]: the sched_ext ops flags a policy may ask for, with their bits;
//! * [`c`]: the C side of all this, rendered into the header every
//!   generated scheduler includes.

pub mod c;
pub mod events;
pub mod exit;
pub mod manifest;
pub mod ops;
pub mod stats;
pub mod units;
mod value;

pub use manifest::{Class, CpuSetParam, Input, MachineFact, Manifest, Param, Stat};
pub use value::{StatKind, Value, ValueType};

/// ELF sections of a schedc object.
pub mod section {
    /// The manifest: a NUL-terminated JSON string (libbpf ignores the section).
    pub const MANIFEST: &str = ".schedc.manifest";
    /// Parameters and machine facts: `const volatile` globals, written by the
    /// runtime before load.
    pub const RODATA: &str = ".rodata";
    /// Zero-initialised globals: statistics starting at 0, the exit record.
    pub const BSS: &str = ".bss";
    /// Globals with an initial value, such as gauges starting elsewhere than 0.
    pub const DATA: &str = ".data";
}
