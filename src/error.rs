//! The errors of the command line, each with a stable code, and how they
//! are printed.

use std::fmt;
use std::path::PathBuf;

use miette::{Diagnostic, MietteHandlerOpts, NamedSource, ReportHandler, SourceSpan};

/// Why a command failed. The compiler's, runtime's and VM runner's errors
/// keep their own codes and messages.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum CliError {
    #[error("cannot read {}", path.display())]
    #[diagnostic(code("schedc::cannot-read-policy"), help("{}", read_hint(path, source)))]
    ReadPolicy { path: PathBuf, source: std::io::Error },

    #[error("{} is {what}, not a policy", path.display())]
    #[diagnostic(
        code("schedc::not-a-policy"),
        help(
            "a policy is a text file such as policies/bpfland.policy; of objects, `schedc run` takes the BPF objects \
             `schedc compile` builds"
        )
    )]
    NotAPolicy { path: PathBuf, what: &'static str },

    #[error(transparent)]
    #[diagnostic(transparent)]
    NotUtf8(Box<NotUtf8>),

    /// The policy has errors; its diagnostics have been printed already.
    #[error("{}: {errors} error{}", path.display(), if *errors == 1 { "" } else { "s" })]
    #[diagnostic(code("schedc::policy-rejected"))]
    PolicyRejected { path: PathBuf, errors: usize },

    /// `--deny-warnings` and the policy has warnings, printed already.
    #[error("{}: {warnings} warning{} (denied)", path.display(), if *warnings == 1 { "" } else { "s" })]
    #[diagnostic(code("schedc::warnings-denied"))]
    WarningsDenied { path: PathBuf, warnings: usize },

    /// The formatter's output would not parse back to the same policy.
    #[error("{}: not formatted: the formatter would change {what}", path.display())]
    #[diagnostic(
        code("schedc::formatter-bug"),
        help("this is a bug in schedc: the file is left as it is; please report it with the policy")
    )]
    FormatterBug { path: PathBuf, what: &'static str },

    #[error("refusing to write the output over the policy {}", policy.display())]
    #[diagnostic(code("schedc::output-is-policy"), help("choose another path with -o"))]
    OutputIsPolicy { policy: PathBuf },

    /// The output path holds a file schedc did not write.
    #[error("{} exists and is not {what}; refusing to overwrite it", path.display())]
    #[diagnostic(code("schedc::output-not-ours"), help("remove it or choose another path with -o"))]
    OutputNotOurs { path: PathBuf, what: &'static str },

    #[error("refusing to write a BPF object to a terminal")]
    #[diagnostic(
        code("schedc::object-to-terminal"),
        help("redirect it to a file or a pipe, e.g. `-o - > fifo.bpf.o`")
    )]
    ObjectToTerminal,

    #[error("cannot write {}", path.display())]
    #[diagnostic(code("schedc::cannot-write"))]
    Write { path: PathBuf, source: std::io::Error },

    #[error("--set {name}=... is given twice")]
    #[diagnostic(code("schedc::set-twice"), help("keep the one you mean"))]
    SetTwice { name: String },

    #[error("cannot create a temporary directory")]
    #[diagnostic(code("schedc::no-temp-dir"))]
    TempDir { source: std::io::Error },

    #[error("no sched_ext kernel found for --vm in {looked}")]
    #[diagnostic(
        code("schedc::no-vm-kernel"),
        help(
            "--vm boots a Linux 6.12 or newer kernel image built with CONFIG_SCHED_CLASS_EXT=y: pass it with \
             --kernel PATH, or set $SCHEDC_KERNELS_DIR to a folder of bzImage-* or vmlinuz-* images; an image in \
             /boot counts when its /boot/config-RELEASE has CONFIG_SCHED_CLASS_EXT=y"
        )
    )]
    NoVmKernel { looked: String },

    #[error(
        "This kernel has no sched_ext, so no scheduler can be attached to it; `schedc run --vm POLICY` runs one \
         in a virtual machine and shows its statistics."
    )]
    #[diagnostic(code("schedc::no-sched-ext"))]
    StatsWithoutSchedExt,

    #[error("no sched_ext scheduler is attached (sched_ext is {state})")]
    #[diagnostic(code("schedc::nothing-attached"), help("start one with `schedc run`, then run `schedc stats` again"))]
    NothingAttached { state: String },

    #[error("the attached scheduler {name} was not built by this schedc")]
    #[diagnostic(
        code("schedc::not-schedc-attached"),
        help("schedc stats reads schedulers built by schedc, which carry their manifest into the kernel; rebuild it with this schedc")
    )]
    NotSchedcAttached { name: String },

    #[error("cannot find the schedc executable to copy into the guest")]
    #[diagnostic(code("schedc::no-executable"))]
    CurrentExe { source: std::io::Error },

    #[error("the guest finished without running the scheduler")]
    #[diagnostic(code("schedc::vm-no-run"))]
    GuestDidNotRun,

    #[error("schedc bench: {message}")]
    #[diagnostic(code("schedc::bench-failed"))]
    Bench { message: String },

    #[error("cannot write {}", path.display())]
    #[diagnostic(code("schedc::cannot-write-output"))]
    WriteOutput { path: PathBuf, source: std::io::Error },

    #[error("cannot watch {} for changes", path.display())]
    #[diagnostic(code("schedc::cannot-watch"))]
    Watch { path: PathBuf, source: std::io::Error },

    #[error("{} is a compiled object; --watch needs the policy it was compiled from", path.display())]
    #[diagnostic(code("schedc::watch-needs-policy"), help("run --watch on the .policy file"))]
    WatchObject { path: PathBuf },

    #[error("cannot read the host's channel {}", path.display())]
    #[diagnostic(code("schedc::swap-channel"))]
    SwapChannel { path: PathBuf, source: std::io::Error },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Build(#[from] schedc_compiler::build::BuildError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Runtime(#[from] schedc_runtime::Error),

    /// The verifier refused the code generated for a policy line.
    #[error(transparent)]
    #[diagnostic(transparent)]
    VerifierRejected(Box<crate::verifier::PolicyRejection>),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Vm(#[from] schedc_runtime::vm::VmError),
}

/// What to do when a file cannot be read.
fn read_hint(path: &std::path::Path, error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "check the path: no file is there".to_string(),
        std::io::ErrorKind::IsADirectory => {
            format!("give a file in it, such as {}", path.join("NAME.policy").display())
        }
        std::io::ErrorKind::PermissionDenied => {
            "make the file readable by this user, or run as one who can read it".to_string()
        }
        _ => "check that the path names a readable file".to_string(),
    }
}

/// A policy is UTF-8; `at` is its first byte that is not.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{} is not UTF-8: byte 0x{byte:02X} at line {line}, byte {column} of the line", path.display())]
#[diagnostic(code("schedc::not-utf8"), help("{help}"))]
pub struct NotUtf8 {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub byte: u8,
    pub help: String,
    #[source_code]
    pub text: NamedSource<String>,
    #[label("not UTF-8")]
    pub at: SourceSpan,
}

/// Prints `error` on stderr.
pub fn print(error: &CliError) {
    eprintln!("{}", render(error));
}

/// `error` through miette, with its code, help and cause. Lines are not
/// wrapped, so that paths and sentences stay whole for searching and
/// copying.
pub(crate) fn render(error: &CliError) -> String {
    if let CliError::PolicyRejected { .. } | CliError::WarningsDenied { .. } = error {
        // The policy's own diagnostics came first; a plain count closes
        // them, as `schedc check` has always printed it.
        return error.to_string();
    }
    struct Shown<'a>(&'a dyn Diagnostic);
    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            MietteHandlerOpts::new().wrap_lines(false).build().debug(self.0, f)
        }
    }
    Shown(error).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_show_their_code_and_help_on_whole_lines() {
        let path = PathBuf::from(format!("/tmp/{}/fifo.bpf.o", "deep/".repeat(30)));
        let shown = render(&CliError::OutputNotOurs { path: path.clone(), what: "a BPF object" });
        assert!(shown.contains("schedc::output-not-ours"), "{shown}");
        let sentence = format!("{} exists and is not a BPF object; refusing to overwrite it", path.display());
        assert!(shown.lines().any(|l| l.ends_with(&sentence)), "{shown}");
        assert!(shown.contains("help: remove it or choose another path with -o"), "{shown}");
    }

    #[test]
    fn library_errors_keep_their_codes_and_sentences() {
        let shown = render(&CliError::Runtime(schedc_runtime::Error::AlreadyAttached { name: "fifo".into() }));
        assert!(shown.contains("schedc::already-attached"), "{shown}");
        assert!(shown.contains("Scheduler fifo is already attached; stop it before running another."), "{shown}");
        let shown = render(&CliError::Runtime(schedc_runtime::Error::NoSchedExt));
        assert!(shown.contains("or use --vm to try it in a virtual machine."), "{shown}");
    }

    #[test]
    fn stats_on_a_kernel_without_sched_ext_points_at_the_vm() {
        let shown = render(&CliError::StatsWithoutSchedExt);
        assert!(shown.contains("schedc::no-sched-ext"), "{shown}");
        assert!(
            shown.contains("This kernel has no sched_ext") && shown.contains("`schedc run --vm POLICY`"),
            "{shown}"
        );
        assert!(!shown.contains("schedc stats again"), "{shown}");
    }

    #[test]
    fn a_missing_vm_kernel_says_which_kernel_and_how_to_pass_it() {
        let shown = render(&CliError::NoVmKernel { looked: "/boot and ../shared/kernels".into() });
        assert!(shown.contains("no sched_ext kernel found for --vm in /boot and ../shared/kernels"), "{shown}");
        assert!(shown.contains("6.12 or newer kernel image built with CONFIG_SCHED_CLASS_EXT=y"), "{shown}");
        assert!(shown.contains("--kernel PATH") && shown.contains("$SCHEDC_KERNELS_DIR"), "{shown}");
    }

    #[test]
    fn a_rejected_policy_ends_its_diagnostics_with_a_plain_count() {
        let one = CliError::PolicyRejected { path: "a.policy".into(), errors: 1 };
        assert_eq!(render(&one), "a.policy: 1 error");
        assert_eq!(render(&CliError::PolicyRejected { path: "a.policy".into(), errors: 2 }), "a.policy: 2 errors");
    }
}
