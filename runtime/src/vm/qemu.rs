//! Booting a kernel under QEMU and collecting its serial console.

use std::io::{ErrorKind, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::VmError;

const QEMU: &str = "qemu-system-x86_64";

/// Boots `kernel` with the initramfs `initrd` (a file) on `smp` CPUs and
/// returns the serial console output once the guest powers off.
pub(super) fn boot(kernel: &Path, initrd: &Path, smp: u32, timeout: Duration) -> Result<String, VmError> {
    let mut child = Command::new(QEMU)
        // One host thread for all vCPUs: with multi-threaded TCG the kernel's
        // int3-based live patching (static keys flip when a scheduler attaches)
        // races with the other vCPU and oopses at the patched site.
        .args(["-accel", "tcg,thread=single", "-cpu", "max", "-m", "1G", "-nographic", "-no-reboot"])
        .args(["-smp", &smp.to_string()])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", "console=ttyS0 panic=-1 loglevel=4"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| match source.kind() {
            ErrorKind::NotFound => VmError::MissingProgram { program: QEMU, package: "qemu-system-x86" },
            _ => VmError::Host { what: "start qemu-system-x86_64", source },
        })?;
    let serial = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().expect("piped");
    let sink = Arc::clone(&serial);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|source| VmError::Host { what: "wait for QEMU", source })? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = reader.join();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let serial = String::from_utf8_lossy(&serial.lock().unwrap()).replace('\r', "");
    match status {
        Some(status) if status.success() => Ok(serial),
        Some(status) => Err(VmError::Qemu { status, stderr, serial }),
        None => Err(VmError::Timeout { timeout, serial }),
    }
}
