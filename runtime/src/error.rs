use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong between an object file and a running
/// scheduler. Each message is one plain sentence that says what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Loading BPF needs root.
    NotRoot,
    /// The running kernel has no sched_ext.
    NoSchedExt,
    /// Another sched_ext scheduler is attached.
    AlreadyAttached { name: String },
    /// The file has no `.schedc.manifest` section.
    NotSchedcObject { path: PathBuf },
    /// The manifest exists but does not describe a usable scheduler.
    BadManifest { path: PathBuf, reason: String },
    /// Reading a file failed.
    Io { path: PathBuf, source: io::Error },
    /// A `name=value` override names no parameter of this scheduler.
    UnknownParam { name: String, known: Vec<String> },
    /// An override is not written as `name=value`.
    BadOverride { text: String },
    /// A parameter value does not parse as its type.
    BadValue { name: String, value: String, expected: String },
    /// A parameter value is outside the range the policy declared.
    OutOfRange { name: String, value: String, bound: String },
    /// The object lacks a global the manifest names, or it has the wrong size.
    Symbol { symbol: String, reason: String },
    /// libbpf could not open or load the object (verifier rejection included).
    Load { path: PathBuf, log: String, source: libbpf_rs::Error },
    /// libbpf could not open the file as a BPF object.
    Open { path: PathBuf, log: String, source: libbpf_rs::Error },
    /// The kernel refused to attach the scheduler.
    Attach { log: String, source: libbpf_rs::Error },
    /// Any other BPF operation failed.
    Bpf { what: &'static str, source: libbpf_rs::Error },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotRoot => write!(f, "schedc run needs root: run it with sudo."),
            Error::NoSchedExt => write!(
                f,
                "This kernel has no sched_ext (CONFIG_SCHED_CLASS_EXT); boot a 6.12 or newer kernel built with it."
            ),
            Error::AlreadyAttached { name } => write!(
                f,
                "Scheduler {name} is already attached; stop it before running another."
            ),
            Error::NotSchedcObject { path } => write!(
                f,
                "{} is not a scheduler built by schedc (it has no schedc manifest); build it with schedc first.",
                path.display()
            ),
            Error::BadManifest { path, reason } => write!(
                f,
                "The schedc manifest in {} is unusable ({reason}); rebuild the object with this version of schedc.",
                path.display()
            ),
            Error::Io { path, source } => {
                write!(f, "Cannot read {}: {source}.", path.display())
            }
            Error::UnknownParam { name, known } => {
                if known.is_empty() {
                    write!(f, "This scheduler has no parameter {name}; it takes no parameters.")
                } else {
                    write!(
                        f,
                        "This scheduler has no parameter {name}; its parameters are: {}.",
                        known.join(", ")
                    )
                }
            }
            Error::BadOverride { text } => write!(
                f,
                "Cannot understand parameter setting {text:?}; write it as name=value, e.g. slice_max=2ms."
            ),
            Error::BadValue { name, value, expected } => {
                write!(f, "Parameter {name} cannot be {value:?}; {expected}.")
            }
            Error::OutOfRange { name, value, bound } => {
                write!(f, "Parameter {name} cannot be {value}; it must be {bound}.")
            }
            Error::Symbol { symbol, reason } => write!(
                f,
                "The object's global {symbol} does not match its manifest ({reason}); rebuild it with this version of schedc."
            ),
            Error::Open { path, log, source } => {
                write!(f, "libbpf cannot open {} as a BPF object ({source}); rebuild it with `schedc compile`", path.display())?;
                if log.trim().is_empty() {
                    write!(f, ".")
                } else {
                    write!(f, "; libbpf said:\n{}", log.trim_end())
                }
            }
            Error::Load { path, log, source } => {
                write!(f, "The kernel rejected {} ({source})", path.display())?;
                if log.trim().is_empty() {
                    write!(f, ".")
                } else {
                    write!(f, "; libbpf said:\n{}", log.trim_end())
                }
            }
            Error::Attach { log, source } => {
                write!(f, "The kernel refused to attach the scheduler ({source})")?;
                if log.trim().is_empty() {
                    write!(f, "; see dmesg for the reason.")
                } else {
                    write!(f, "; libbpf said:\n{}", log.trim_end())
                }
            }
            Error::Bpf { what, source } => write!(f, "Failed to {what}: {source}."),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Load { source, .. }
            | Error::Open { source, .. }
            | Error::Attach { source, .. }
            | Error::Bpf { source, .. } => Some(source),
            _ => None,
        }
    }
}
