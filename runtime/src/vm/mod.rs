//! Running schedulers in a QEMU guest booted from a sched_ext kernel, for
//! machines whose own kernel has none: `schedc run --vm` and the VM tests.
//!
//! A [`Guest`] is an initramfs holding busybox, stress-ng, the executables
//! and files it is given, and a generated `/init` that starts a background
//! load, runs each command in turn and reports on it with `@@schedc-vm`
//! lines on the serial console (each line of a command's output as it
//! comes). [`Guest::boot`] boots it under QEMU and parses those lines into
//! a [`GuestReport`]; [`Guest::on_output`] sees the output lines live, and
//! a [`HostChannel`] carries bytes from the host to the commands.
//!
//! ```no_run
//! # use schedc_runtime::vm::*;
//! let kernel = available_kernels().into_iter().next().expect("a sched_ext kernel");
//! let report = Guest::new(&kernel)
//!     .executable("/bin/schedc", "target/debug/schedc".as_ref())
//!     .file("/objs/fifo.bpf.o", "fifo.bpf.o".as_ref())
//!     .command("fifo", &["/bin/schedc", "run", "/objs/fifo.bpf.o", "--duration", "3s"])
//!     .boot()
//!     .unwrap();
//! let fifo = report.command("fifo").unwrap();
//! assert_eq!(fifo.state_during, "enabled", "{}", report.serial);
//! ```

mod channel;
mod guest;
mod initramfs;
mod qemu;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use channel::{HostChannel, CHANNEL_DEVICE};
pub use guest::{CommandRun, Guest, GuestReport};
pub use initramfs::Initramfs;

/// Why a guest could not be built, booted or run to its end. Messages that
/// carry the guest's serial console log end with it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum VmError {
    /// A host program the guest needs is missing.
    #[error("{program} is not installed; install it with `apt-get install {package}`.")]
    #[diagnostic(code("schedc::vm-missing-program"))]
    MissingProgram { program: &'static str, package: &'static str },
    /// A file to copy into the guest cannot be read.
    #[error("Cannot read {} to copy it into the guest.", path.display())]
    #[diagnostic(code("schedc::vm-cannot-read"))]
    Read { path: PathBuf, source: std::io::Error },
    /// An executable needs a shared library the host does not have.
    #[error("{} needs a library that is not installed: {missing}.", executable.display())]
    #[diagnostic(code("schedc::vm-missing-library"))]
    MissingLibrary { executable: PathBuf, missing: String },
    /// A host program could not be started, or the image not written.
    #[error("Cannot {what}.")]
    #[diagnostic(code("schedc::vm-host-failed"))]
    Host { what: &'static str, source: std::io::Error },
    /// QEMU stopped with an error.
    #[error("QEMU failed ({status}): {}{}", stderr.trim_end(), serial_log(serial))]
    #[diagnostic(code("schedc::vm-qemu-failed"))]
    Qemu { status: std::process::ExitStatus, stderr: String, serial: String },
    /// The guest was still running when its time was up.
    #[error("The guest did not finish within {timeout:?}.{}", serial_log(serial))]
    #[diagnostic(code("schedc::vm-timeout"))]
    Timeout { timeout: Duration, serial: String },
    /// The guest powered off before its `/init` reached the end.
    #[error("The guest's /init did not finish.{}", serial_log(serial))]
    #[diagnostic(code("schedc::vm-init-unfinished"))]
    Unfinished { serial: String },
}

/// The guest's serial console log, to end an error message with.
fn serial_log(serial: &str) -> String {
    if serial.trim().is_empty() {
        String::new()
    } else {
        format!("\n--- serial ---\n{}", serial.trim_end())
    }
}

/// The directory holding the test kernels: `$SCHEDC_KERNELS_DIR`, else the
/// first `shared/kernels` found above this crate (the project's shared/
/// folder sits beside the repository).
pub fn kernels_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SCHEDC_KERNELS_DIR") {
        return Some(dir.into());
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().map(|a| a.join("shared/kernels")).find(|d| d.is_dir())
}

/// Every bootable kernel image in [`kernels_dir`] (`bzImage-*`, `vmlinuz-*`),
/// sorted by name.
pub fn available_kernels() -> Vec<PathBuf> {
    let Some(dir) = kernels_dir() else { return Vec::new() };
    let mut kernels: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("bzImage-") || name.starts_with("vmlinuz-")
        })
        .collect();
    kernels.sort();
    kernels
}

/// The first file called `program` on PATH.
fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_string_lossy().split(':').map(|d| Path::new(d).join(program)).find(|p| p.is_file())
}
