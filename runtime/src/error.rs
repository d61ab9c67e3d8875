use std::io;
use std::path::{Path, PathBuf};

use crate::verifier::{report_help, Rejection};

/// Everything that can go wrong between an object file and a running
/// scheduler. Each message is one plain sentence that says what to do; the
/// underlying OS or libbpf error, where there is one, is its source.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// Loading BPF needs root.
    #[error("{command} needs root: run it with sudo.")]
    #[diagnostic(code("schedc::needs-root"))]
    NotRoot { command: &'static str },
    /// The running kernel has no sched_ext.
    #[error(
        "This kernel has no sched_ext (CONFIG_SCHED_CLASS_EXT); boot a 6.12 or newer kernel built with it, \
         or use --vm to try it in a virtual machine."
    )]
    #[diagnostic(
        code("schedc::no-sched-ext"),
        help("--vm runs it in a QEMU guest booted from a sched_ext kernel; --kernel picks which")
    )]
    NoSchedExt,
    /// Another sched_ext scheduler is attached.
    #[error("Scheduler {name} is already attached; stop it before running another.")]
    #[diagnostic(code("schedc::already-attached"))]
    AlreadyAttached { name: String },
    /// The file has no `.schedc.manifest` section.
    #[error(
        "{} is not a scheduler built by schedc (it has no schedc manifest); build it with schedc first.",
        path.display()
    )]
    #[diagnostic(code("schedc::not-a-schedc-object"))]
    NotSchedcObject { path: PathBuf },
    /// The manifest exists but does not describe a usable scheduler.
    #[error(
        "The schedc manifest in {} is unusable ({reason}); rebuild the object with this version of schedc.",
        path.display()
    )]
    #[diagnostic(code("schedc::bad-manifest"))]
    BadManifest { path: PathBuf, reason: String },
    /// Reading a file failed.
    #[error("Cannot read {}.", path.display())]
    #[diagnostic(code("schedc::cannot-read-object"))]
    Io { path: PathBuf, source: io::Error },
    /// A `name=value` override names no parameter of this scheduler.
    #[error("This scheduler has no parameter {name}; {}.", parameter_list(known))]
    #[diagnostic(code("schedc::unknown-param"))]
    UnknownParam { name: String, known: Vec<String> },
    /// An override is not written as `name=value`.
    #[error("Cannot understand parameter setting {text:?}; write it as name=value, e.g. slice_max=2ms.")]
    #[diagnostic(code("schedc::bad-override"))]
    BadOverride { text: String },
    /// A parameter value does not parse as its type.
    #[error("Parameter {name} cannot be {value:?}; {expected}.")]
    #[diagnostic(code("schedc::bad-param-value"))]
    BadValue { name: String, value: String, expected: String },
    /// A parameter value is outside the range the policy declared.
    #[error("Parameter {name} cannot be {value}; it must be {bound}.")]
    #[diagnostic(code("schedc::param-out-of-range"))]
    OutOfRange { name: String, value: String, bound: String },
    /// The object lacks a global the manifest names, or it has the wrong size.
    #[error(
        "The object's global {symbol} does not match its manifest ({reason}); rebuild it with this version of schedc."
    )]
    #[diagnostic(code("schedc::object-mismatch"))]
    Symbol { symbol: String, reason: String },
    /// A hand-written object whose `struct sched_ext_ops` has no name, so
    /// the kernel's state file could not tell when it runs.
    #[error("{} names no scheduler: its struct_ops map's sched_ext_ops.name is empty or missing.", path.display())]
    #[diagnostic(code("schedc::unnamed-scheduler"))]
    Unnamed { path: PathBuf },
    /// libbpf could not open or load the object (verifier rejection included).
    #[error("The kernel rejected {}{}", path.display(), libbpf_said(log, "."))]
    #[diagnostic(code("schedc::load-rejected"))]
    Load { path: PathBuf, log: String, source: libbpf_rs::Error },
    /// The kernel's verifier refused a program of the object.
    #[error(
        "The kernel's verifier refused {} in {}{}; it said:\n{}",
        rejection.prog,
        path.display(),
        refused_at(rejection),
        indented(&rejection.last_words)
    )]
    #[diagnostic(code("schedc::verifier-rejected"), help("{}", verifier_help(kept_log.as_deref())))]
    VerifierRejected { path: PathBuf, rejection: Box<Rejection>, kept_log: Option<PathBuf>, source: libbpf_rs::Error },
    /// libbpf could not open the file as a BPF object.
    #[error(
        "libbpf cannot open {} as a BPF object; rebuild it with `schedc compile`{}",
        path.display(),
        libbpf_said(log, ".")
    )]
    #[diagnostic(code("schedc::cannot-open-object"))]
    Open { path: PathBuf, log: String, source: libbpf_rs::Error },
    /// The kernel refused to attach the scheduler.
    #[error("The kernel refused to attach the scheduler{}", libbpf_said(log, "; see dmesg for the reason."))]
    #[diagnostic(code("schedc::attach-refused"))]
    Attach { log: String, source: libbpf_rs::Error },
    /// Any other BPF operation failed.
    #[error("Failed to {what}.")]
    #[diagnostic(code("schedc::bpf-failed"))]
    Bpf { what: &'static str, source: libbpf_rs::Error },
}

impl Error {
    /// A failed load of the object at `path`: the verifier's refusal when
    /// libbpf's `log` holds one (its whole log is then kept in a file).
    pub(crate) fn load_failed(path: PathBuf, log: String, source: libbpf_rs::Error) -> Error {
        match Rejection::from_libbpf_log(&log) {
            Some(rejection) => Error::VerifierRejected {
                kept_log: keep_log(&path, &log),
                path,
                rejection: Box::new(rejection),
                source,
            },
            None => Error::Load { path, log, source },
        }
    }
}

/// Keeps libbpf's whole log of a failed load in a temporary file that
/// outlives the run, for a bug report; `None` if it cannot be written.
fn keep_log(object: &Path, log: &str) -> Option<PathBuf> {
    let name = object.file_name()?.to_string_lossy();
    let stem = name.split('.').next().unwrap_or("object");
    let mut file =
        tempfile::Builder::new().prefix(&format!("schedc-verifier-{stem}-")).suffix(".log").tempfile().ok()?;
    std::io::Write::write_all(&mut file, log.as_bytes()).ok()?;
    file.keep().ok().map(|(_, path)| path)
}

/// `, at fifo.bpf.c:74 (`CODE`)` when the log named the refused C line.
fn refused_at(rejection: &Rejection) -> String {
    rejection.c_line().map_or(String::new(), |at| format!(", at {at} (`{}`)", at.code))
}

/// Lines indented under a message.
fn indented(lines: &[String]) -> String {
    lines.iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

/// What to do about a refused program of an object run without its policy.
fn verifier_help(kept_log: Option<&Path>) -> String {
    format!("`schedc run POLICY` shows the policy line this C comes from; {}", report_help(kept_log))
}

/// The end of a message about a libbpf failure: what libbpf logged, or
/// `otherwise` when it logged nothing.
fn libbpf_said(log: &str, otherwise: &str) -> String {
    if log.trim().is_empty() {
        otherwise.to_string()
    } else {
        format!("; libbpf said:\n{}", log.trim_end())
    }
}

fn parameter_list(known: &[String]) -> String {
    if known.is_empty() {
        "it takes no parameters".to_string()
    } else {
        format!("its parameters are: {}", known.join(", "))
    }
}
