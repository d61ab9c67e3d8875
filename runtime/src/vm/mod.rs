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
    /// The guest's console printed nothing but kernel messages for too
    /// long: the guest or the emulator stopped making progress.
    #[error("The guest printed nothing but kernel messages for {silence:?} and was stopped.{}", serial_log(serial))]
    #[diagnostic(code("schedc::vm-silent"))]
    Silent { silence: Duration, serial: String },
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

/// Where `schedc run --vm` and the VM tests look for sched_ext kernels, in
/// this order: `$SCHEDC_KERNELS_DIR` (alone, when set), the kernels
/// installed under `/boot` whose `config-RELEASE` has
/// `CONFIG_SCHED_CLASS_EXT=y`, then this repository's test kernels in the
/// first `shared/kernels` above this crate.
#[derive(Debug, Clone)]
pub struct KernelSearch {
    pub env_dir: Option<PathBuf>,
    pub boot: PathBuf,
    pub shared: Option<PathBuf>,
}

impl KernelSearch {
    /// The places of this machine and environment.
    pub fn from_env() -> KernelSearch {
        KernelSearch {
            env_dir: std::env::var_os("SCHEDC_KERNELS_DIR").map(PathBuf::from),
            boot: PathBuf::from("/boot"),
            shared: Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .map(|a| a.join("shared/kernels"))
                .find(|d| d.is_dir()),
        }
    }

    /// Every kernel found, the first one the default of `--vm`.
    pub fn kernels(&self) -> Vec<PathBuf> {
        if let Some(dir) = &self.env_dir {
            return kernel_images(dir);
        }
        let mut kernels = boot_kernels(&self.boot);
        kernels.extend(self.shared.iter().flat_map(|dir| kernel_images(dir)));
        kernels
    }

    /// The places looked in, for a message saying none had a kernel.
    pub fn places(&self) -> String {
        match &self.env_dir {
            Some(dir) => format!("$SCHEDC_KERNELS_DIR ({})", dir.display()),
            None => {
                let boot = format!("{} (kernels whose config has CONFIG_SCHED_CLASS_EXT=y)", self.boot.display());
                match &self.shared {
                    Some(shared) => format!("{boot} and {}", shared.display()),
                    None => boot,
                }
            }
        }
    }
}

/// Every bootable kernel image in [`KernelSearch::from_env`]'s places.
pub fn available_kernels() -> Vec<PathBuf> {
    KernelSearch::from_env().kernels()
}

/// Every kernel image in `dir` (`bzImage-*`, `vmlinuz-*`), sorted by name.
fn kernel_images(dir: &Path) -> Vec<PathBuf> {
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

/// The images in `boot` whose `config-RELEASE` enables sched_ext and that
/// this user can read (QEMU reads the image), newest release name first.
fn boot_kernels(boot: &Path) -> Vec<PathBuf> {
    let mut kernels: Vec<PathBuf> = kernel_images(boot)
        .into_iter()
        .filter(|image| {
            let name = image.file_name().unwrap_or_default().to_string_lossy();
            let release = name.split_once('-').map_or("", |(_, r)| r);
            let config = std::fs::read_to_string(boot.join(format!("config-{release}"))).unwrap_or_default();
            config.lines().any(|l| l.trim() == "CONFIG_SCHED_CLASS_EXT=y") && std::fs::File::open(image).is_ok()
        })
        .collect();
    kernels.reverse();
    kernels
}

/// The first file called `program` on PATH.
fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_string_lossy().split(':').map(|d| Path::new(d).join(program)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn kernels_are_found_where_users_and_tests_keep_them() {
        let root = tempfile::tempdir().unwrap();
        let (boot, shared, env) = (root.path().join("boot"), root.path().join("shared"), root.path().join("env"));
        for dir in [&boot, &shared, &env] {
            std::fs::create_dir(dir).unwrap();
        }
        touch(&boot.join("vmlinuz-6.1.0-debian"), "");
        touch(&boot.join("config-6.1.0-debian"), "# CONFIG_SCHED_CLASS_EXT is not set\n");
        touch(&boot.join("vmlinuz-6.12.9-scx"), "");
        touch(&boot.join("config-6.12.9-scx"), "CONFIG_BPF=y\nCONFIG_SCHED_CLASS_EXT=y\n");
        touch(&boot.join("vmlinuz-6.13.0-noconfig"), "");
        touch(&shared.join("bzImage-6.12.117-scx"), "");
        touch(&shared.join("config-6.12.117-scx"), "");
        touch(&env.join("vmlinuz-7.0"), "");

        let mut search = KernelSearch { env_dir: None, boot: boot.clone(), shared: Some(shared.clone()) };
        assert_eq!(search.kernels(), [boot.join("vmlinuz-6.12.9-scx"), shared.join("bzImage-6.12.117-scx")]);
        assert!(search.places().contains("CONFIG_SCHED_CLASS_EXT=y"), "{}", search.places());
        search.shared = None;
        assert_eq!(search.kernels(), [boot.join("vmlinuz-6.12.9-scx")]);
        search.env_dir = Some(env.clone());
        assert_eq!(search.kernels(), [env.join("vmlinuz-7.0")]);
        assert!(search.places().starts_with("$SCHEDC_KERNELS_DIR"), "{}", search.places());
        let nowhere = KernelSearch { env_dir: None, boot: root.path().join("none"), shared: None };
        assert!(nowhere.kernels().is_empty());
    }
}
