//! Booting a kernel under QEMU and collecting its serial console.

use std::io::{ErrorKind, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::VmError;

const QEMU: &str = "qemu-system-x86_64";
/// The guest's memory.
const MEMORY_MB: u32 = 1024;

/// How to boot: the kernel, its initramfs (a file), the CPUs and the rest.
pub(super) struct Boot<'a> {
    pub kernel: &'a Path,
    pub initrd: &'a Path,
    pub smp: u32,
    /// Sockets the CPUs are split over, each one LLC and one NUMA node.
    pub sockets: u32,
    /// SMT threads per core.
    pub threads: u32,
    /// `None`: as long as the guest runs.
    pub timeout: Option<Duration>,
    /// Stop the guest when its console prints nothing but kernel messages
    /// for this long.
    pub silence: Option<Duration>,
    /// More QEMU arguments (devices, clock options).
    pub args: &'a [String],
    /// More words for the kernel's command line.
    pub kernel_args: &'a [String],
    /// Run QEMU in a process group of its own, out of reach of the
    /// terminal's Ctrl-C: the host program stops the guest itself.
    pub own_process_group: bool,
    /// Called with each line of the serial console as it arrives.
    pub on_line: &'a (dyn Fn(&str) + Sync),
}

/// Boots the guest and returns the serial console output once it powers
/// off.
pub(super) fn boot(b: &Boot) -> Result<String, VmError> {
    let mut cmd = Command::new(QEMU);
    // One host thread for all vCPUs: with multi-threaded TCG the kernel's
    // int3-based live patching (static keys flip when a scheduler attaches)
    // races with the other vCPU and oopses at the patched site.
    cmd.args([
        "-accel",
        "tcg,thread=single",
        "-cpu",
        "max",
        "-m",
        &format!("{MEMORY_MB}M"),
        "-nographic",
        "-no-reboot",
    ])
    .args(topology_args(b.smp, b.sockets, b.threads))
    .arg("-kernel")
    .arg(b.kernel)
    .arg("-initrd")
    .arg(b.initrd)
    .arg("-append")
    .arg(
        // cryptomgr.notests: kernels built with crypto self-tests (Debian's
        // 7.2) run them in kernel threads for tens of seconds of emulated
        // time after boot, a hidden CPU load under every measurement.
        // no_timer_check: on a loaded host the emulated timer can miss the
        // boot-time IO-APIC check, and the kernel panics ("IO-APIC + timer
        // doesn't work").
        ["console=ttyS0 panic=-1 loglevel=4 cryptomgr.notests=1 no_timer_check"]
            .into_iter()
            .chain(b.kernel_args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
    )
    .args(b.args)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if b.own_process_group {
        cmd.process_group(0);
        // SAFETY: prctl is async-signal-safe; QEMU goes when this thread
        // (which waits for it) goes, so no guest outlives its host program.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn().map_err(|source| match source.kind() {
        ErrorKind::NotFound => VmError::MissingProgram { program: QEMU, package: "qemu-system-x86" },
        _ => VmError::Host { what: "start qemu-system-x86_64", source },
    })?;
    let mut stdout = child.stdout.take().expect("piped");
    let deadline = b.timeout.and_then(|t| Instant::now().checked_add(t));
    let last_line = std::sync::Mutex::new(Instant::now());
    let on_line = |line: &str| {
        // A stalled guest can go on printing RCU stall reports every minute:
        // only lines from user space show that it still makes progress.
        if !is_kernel_message(line) {
            *last_line.lock().expect("not poisoned") = Instant::now();
        }
        (b.on_line)(line);
    };
    let (status, serial) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| read_lines(&mut stdout, &on_line));
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok((Some(status), false)),
                Ok(None) => {}
                Err(source) => break Err(VmError::Host { what: "wait for QEMU", source }),
            }
            let silent = b.silence.is_some_and(|s| last_line.lock().expect("not poisoned").elapsed() >= s);
            if silent || deadline.is_some_and(|d| Instant::now() >= d) {
                let _ = child.kill();
                let _ = child.wait();
                break Ok((None, silent));
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        (status, reader.join().unwrap_or_default())
    });
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    match status? {
        (Some(status), _) if status.success() => Ok(serial),
        (Some(status), _) => Err(VmError::Qemu { status, stderr, serial }),
        (None, true) => Err(VmError::Silent { silence: b.silence.unwrap_or(Duration::MAX), serial }),
        (None, false) => Err(VmError::Timeout { timeout: b.timeout.unwrap_or(Duration::MAX), serial }),
    }
}

/// A line the kernel printed on the console, stamped with its uptime
/// (`[  190.175185] rcu: ...`).
fn is_kernel_message(line: &str) -> bool {
    let Some((stamp, _)) = line.strip_prefix('[').and_then(|rest| rest.split_once(']')) else {
        return false;
    };
    let Some((seconds, micros)) = stamp.trim_start().split_once('.') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(seconds) && digits(micros)
}

/// Everything `from` gives until it ends, without carriage returns, with
/// `on_line` called on each complete line as it arrives.
fn read_lines(from: &mut impl Read, on_line: &(dyn Fn(&str) + Sync)) -> String {
    let mut all = String::new();
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.iter().position(|&c| c == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]).replace('\r', "");
            on_line(&line);
            all.push_str(&line);
            all.push('\n');
        }
    }
    all.push_str(&String::from_utf8_lossy(&pending).replace('\r', ""));
    all
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn lines_are_handed_on_as_they_complete() {
        let seen = Mutex::new(Vec::new());
        let on_line = |line: &str| seen.lock().unwrap().push(line.to_string());
        let all = read_lines(&mut &b"one\r\ntwo\nthree"[..], &on_line);
        assert_eq!(all, "one\ntwo\nthree");
        assert_eq!(*seen.lock().unwrap(), ["one", "two"]);
    }

    #[test]
    fn kernel_messages_are_told_from_user_space_lines() {
        assert!(is_kernel_message("[  190.175185] rcu: INFO: rcu_preempt self-detected stall on CPU"));
        assert!(is_kernel_message("[12345.000001] sched_ext: BPF scheduler \"x\" enabled"));
        for line in ["@@schedc-vm out bench {}", "[bench] booting", "[ 1.5s] x", "[ ] x", "plain", ""] {
            assert!(!is_kernel_message(line), "{line}");
        }
    }
}

/// `-smp` and, with more than one socket, a NUMA node per socket. QEMU
/// gives each x86 socket its own L3 cache, so sockets are also LLCs; with
/// `threads` above 1 each core has that many SMT siblings.
fn topology_args(cpus: u32, sockets: u32, threads: u32) -> Vec<String> {
    if sockets <= 1 && threads <= 1 {
        return vec!["-smp".into(), cpus.to_string()];
    }
    let per_socket = cpus / sockets;
    let cores = per_socket / threads;
    let mut args = vec!["-smp".into(), format!("{cpus},sockets={sockets},cores={cores},threads={threads}")];
    // One socket is one node: no NUMA description.
    for node in (0..sockets).filter(|_| sockets > 1) {
        let (first, last) = (node * per_socket, (node + 1) * per_socket - 1);
        args.push("-object".into());
        args.push(format!("memory-backend-ram,id=mem{node},size={}M", MEMORY_MB / sockets));
        args.push("-numa".into());
        args.push(format!("node,nodeid={node},cpus={first}-{last},memdev=mem{node}"));
    }
    args
}

#[cfg(test)]
mod topology_tests {
    use super::topology_args;

    #[test]
    fn one_socket_is_a_plain_smp() {
        assert_eq!(topology_args(2, 1, 1), ["-smp", "2"]);
    }

    #[test]
    fn smt_is_threads_per_core_on_one_socket() {
        assert_eq!(topology_args(4, 1, 2), ["-smp", "4,sockets=1,cores=2,threads=2"]);
    }

    #[test]
    fn two_sockets_are_two_numa_nodes() {
        assert_eq!(
            topology_args(4, 2, 1),
            [
                "-smp",
                "4,sockets=2,cores=2,threads=1",
                "-object",
                "memory-backend-ram,id=mem0,size=512M",
                "-numa",
                "node,nodeid=0,cpus=0-1,memdev=mem0",
                "-object",
                "memory-backend-ram,id=mem1,size=512M",
                "-numa",
                "node,nodeid=1,cpus=2-3,memdev=mem1",
            ]
        );
    }
}
