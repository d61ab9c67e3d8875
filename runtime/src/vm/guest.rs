//! A guest: what goes into its image, the `/init` that runs its commands,
//! and what the host reads back from the serial console.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{qemu, which, HostChannel, Initramfs, VmError, CHANNEL_DEVICE};

/// Marker that starts every line the guest's /init prints for the host.
const MARK: &str = "@@schedc-vm";

/// The guest's default background load: one busy CPU of the guest's two
/// and a context-switch storm, so that wake-ups find idle CPUs and queues fill.
const LOAD: &str = "stress-ng -q --cpu 1 --switch 1 --timeout 900s";
const CPUS: u32 = 2;

/// A guest to boot: `kernel` on two CPUs, an image with busybox, stress-ng
/// and what [`Guest::executable`] and [`Guest::file`] add, and a `/init`
/// that runs [`Guest::command`]s one after another beside a stress-ng load.
#[derive(Debug, Clone)]
pub struct Guest {
    kernel: PathBuf,
    executables: Vec<(String, PathBuf)>,
    files: Vec<(String, PathBuf)>,
    commands: Vec<(String, Vec<String>)>,
    cpus: u32,
    sockets: u32,
    /// SMT threads per core (1: none).
    threads_per_core: u32,
    load: String,
    timeout: Option<Duration>,
    silence: Option<Duration>,
    channel: Option<PathBuf>,
    on_output: Option<OutputSink>,
    qemu_args: Vec<String>,
    kernel_args: Vec<String>,
    watch_state: bool,
}

/// What is called with (command, line) for each line of output.
type LineFn = dyn Fn(&str, &str) + Send + Sync;

/// Where the lines of the commands' output go as they arrive.
#[derive(Clone)]
struct OutputSink(Arc<LineFn>);

impl std::fmt::Debug for OutputSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutputSink")
    }
}

impl Guest {
    /// A guest booted from `kernel`, with 300 s to finish.
    pub fn new(kernel: &Path) -> Guest {
        Guest {
            kernel: kernel.into(),
            executables: Vec::new(),
            files: Vec::new(),
            commands: Vec::new(),
            cpus: CPUS,
            sockets: 1,
            threads_per_core: 1,
            load: LOAD.into(),
            timeout: Some(Duration::from_secs(300)),
            silence: None,
            channel: None,
            on_output: None,
            qemu_args: Vec::new(),
            kernel_args: Vec::new(),
            watch_state: true,
        }
    }

    /// Copies the host executable `host` to `path` in the guest, with the
    /// shared libraries it needs.
    pub fn executable(&mut self, path: &str, host: &Path) -> &mut Self {
        self.executables.push((path.into(), host.into()));
        self
    }

    /// Copies the host file `host` to `path` in the guest.
    pub fn file(&mut self, path: &str, host: &Path) -> &mut Self {
        self.files.push((path.into(), host.into()));
        self
    }

    /// Runs `argv` in the guest (after the commands added before it) and
    /// reports on it under `name`, one word: sched_ext's state while it
    /// runs and after, its exit status and its output.
    pub fn command<S: AsRef<str>>(&mut self, name: &str, argv: &[S]) -> &mut Self {
        assert!(!name.is_empty() && !name.contains(char::is_whitespace), "a command's name is one word: {name:?}");
        self.commands.push((name.into(), argv.iter().map(|a| a.as_ref().to_string()).collect()));
        self
    }

    /// How many CPUs the guest has (two by default).
    pub fn cpus(&mut self, n: u32) -> &mut Self {
        self.cpus = n;
        self
    }

    /// Splits the CPUs over `n` sockets (one by default), each its own
    /// last-level cache and NUMA node with an equal share of the memory:
    /// for policies with `per_llc` and `per_node` queues. The CPU count
    /// must be a multiple of `n`.
    pub fn sockets(&mut self, n: u32) -> &mut Self {
        assert!(n >= 1 && self.cpus.is_multiple_of(n), "{} CPUs do not split over {n} sockets", self.cpus);
        self.sockets = n;
        self
    }

    /// Gives each core `threads` SMT siblings, so that the kernel sees SMT;
    /// the CPUs of each socket must split into such cores.
    pub fn smt(&mut self, threads: u32) -> &mut Self {
        assert!(
            threads > 0 && self.cpus.is_multiple_of(self.sockets * threads),
            "{} CPUs on {} sockets cannot be cores of {threads} threads",
            self.cpus,
            self.sockets
        );
        self.threads_per_core = threads;
        self
    }

    /// The shell command that loads the guest while the commands run, in
    /// place of the default stress-ng CPU and context-switch load.
    pub fn load(&mut self, cmd: &str) -> &mut Self {
        self.load = cmd.into();
        self
    }

    /// How long the whole boot may take; `None`: as long as it runs (then
    /// something must stop it, such as a command stopped through the
    /// [`HostChannel`]).
    pub fn timeout(&mut self, t: impl Into<Option<Duration>>) -> &mut Self {
        self.timeout = t.into();
        self
    }

    /// Stops the guest with [`VmError::Silent`] when its console prints
    /// nothing but kernel messages for `limit` (none by default): a guest
    /// stalled in the kernel may still print a stall report every minute.
    pub fn silence_limit(&mut self, limit: Duration) -> &mut Self {
        self.silence = Some(limit);
        self
    }

    /// Connects `channel` to the guest: what the host writes into it, the
    /// commands read from [`CHANNEL_DEVICE`]. QEMU then runs in a process
    /// group of its own, so that a Ctrl-C in the terminal reaches the host
    /// program alone, which stops the guest through the channel.
    pub fn channel(&mut self, channel: &HostChannel) -> &mut Self {
        self.channel = Some(channel.socket());
        self
    }

    /// More QEMU options (such as `-icount shift=4,sleep=off`).
    pub fn qemu_args<S: AsRef<str>>(&mut self, args: &[S]) -> &mut Self {
        self.qemu_args.extend(args.iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// More words on the kernel's command line (such as `nokaslr`).
    pub fn kernel_args<S: AsRef<str>>(&mut self, args: &[S]) -> &mut Self {
        self.kernel_args.extend(args.iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// Whether /init polls sched_ext's state while a command runs (on by
    /// default). The poll forks every 0.1 s until a scheduler shows as
    /// enabled; a benchmark turns it off so that only its workloads run,
    /// and the reports' `state_during` then reads `unwatched`.
    pub fn watch_state(&mut self, on: bool) -> &mut Self {
        self.watch_state = on;
        self
    }

    /// Calls `sink(command, line)` with each line the commands print, as
    /// the guest prints it (their output is in the report as well).
    pub fn on_output(&mut self, sink: impl Fn(&str, &str) + Send + Sync + 'static) -> &mut Self {
        self.on_output = Some(OutputSink(Arc::new(sink)));
        self
    }

    /// Builds the image, boots the kernel and reads what the guest printed.
    /// Errors only if the guest could not be run to the end of its `/init`;
    /// what happened to each command is in the report.
    pub fn boot(&self) -> Result<GuestReport, VmError> {
        let dir =
            tempfile::tempdir().map_err(|source| VmError::Host { what: "create a temporary directory", source })?;
        let initrd = dir.path().join("initramfs.cpio");
        std::fs::write(&initrd, self.image()?)
            .map_err(|source| VmError::Host { what: "write the initramfs", source })?;
        let mut args = self.channel.as_deref().map(channel_args).unwrap_or_default();
        args.extend(self.qemu_args.iter().cloned());
        let on_line = |line: &str| {
            if let (Some(sink), Some((name, text))) = (&self.on_output, output_line(line)) {
                (sink.0)(name, text);
            }
        };
        let boot = qemu::Boot {
            kernel: &self.kernel,
            initrd: &initrd,
            smp: self.cpus,
            sockets: self.sockets,
            threads: self.threads_per_core,
            timeout: self.timeout,
            silence: self.silence,
            args: &args,
            kernel_args: &self.kernel_args,
            own_process_group: self.channel.is_some(),
            on_line: &on_line,
        };
        let serial = qemu::boot(&boot)?;
        let report = GuestReport::parse(&self.kernel, &serial);
        if !report.finished {
            return Err(VmError::Unfinished { serial });
        }
        Ok(report)
    }

    fn image(&self) -> Result<Vec<u8>, VmError> {
        let host_program = |program, package| which(program).ok_or(VmError::MissingProgram { program, package });
        let mut img = Initramfs::new();
        img.dir("/proc").dir("/sys").dir("/dev").dir("/tmp");
        img.file("/bin/busybox", &host_program("busybox", "busybox-static")?, 0o755)?;
        img.executable("/usr/bin/stress-ng", &host_program("stress-ng", "stress-ng")?)?;
        for (path, host) in &self.executables {
            img.executable(path, host)?;
        }
        for (path, host) in &self.files {
            img.file(path, host, 0o644)?;
        }
        img.bytes("/init", 0o755, self.init_script().as_bytes());
        Ok(img.finish())
    }

    fn init_script(&self) -> String {
        let mut s = String::from(
            r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
M=@@schedc-vm
echo "$M kernel $(uname -r)"
echo "$M state-before $(cat /sys/kernel/sched_ext/state 2>/dev/null || echo missing)"
"#,
        );
        s.push_str(&format!(
            "for port in /sys/class/virtio-ports/*; do\n    \
             [ \"$(cat $port/name 2>/dev/null)\" = schedc ] && ln -sf /dev/${{port##*/}} {CHANNEL_DEVICE}\ndone\n"
        ));
        s.push_str(&format!("( {} ) >/dev/null 2>&1 &\nLOAD=$!\n", self.load));
        s.push_str(&format!("WATCH={}\n", u8::from(self.watch_state)));
        s.push_str(
            r#"run_one() {
    name=$1; shift
    echo "$M begin $name"
    # Each line of output goes to the console as it comes, marked.
    ( "$@" 2>&1; echo $? >/tmp/rc ) | while IFS= read -r line; do echo "$M out $name $line"; done &
    pid=$!
    state=none; ops=none; i=0
    [ $WATCH = 1 ] || { state=unwatched; i=1200; }
    while [ $i -lt 1200 ]; do
        if [ "$(cat /sys/kernel/sched_ext/state)" = enabled ]; then
            state=enabled; ops=$(cat /sys/kernel/sched_ext/root/ops 2>/dev/null); break
        fi
        kill -0 $pid 2>/dev/null || break
        sleep 0.1; i=$((i+1))
    done
    echo "$M during $name state=$state ops=$ops"
    wait $pid
    echo "$M rc $name $(cat /tmp/rc)"
    echo "$M after $name state=$(cat /sys/kernel/sched_ext/state)"
}
"#,
        );
        for (name, argv) in &self.commands {
            let words: Vec<String> = std::iter::once(name).chain(argv).map(|w| shell_quote(w)).collect();
            s.push_str(&format!("run_one {}\n", words.join(" ")));
        }
        s.push_str("kill $LOAD 2>/dev/null\necho \"$M done\"\npoweroff -f\n");
        s
    }
}

/// A line of a command's output: (command, text).
fn output_line(line: &str) -> Option<(&str, &str)> {
    // Console escape sequences may precede the marker.
    let rest = &line[line.find(MARK)? + MARK.len()..];
    let rest = rest.strip_prefix(" out ")?;
    Some(rest.split_once(' ').unwrap_or((rest, "")))
}

/// The QEMU devices behind [`Guest::channel`]: a virtio-serial port named
/// `schedc`, connected to the host's socket (both test kernels have
/// virtio-console built in; 7.2's has no 9p).
fn channel_args(socket: &Path) -> Vec<String> {
    vec![
        "-device".into(),
        "virtio-serial-pci".into(),
        "-chardev".into(),
        format!("socket,id=schedc,path={}", socket.display()),
        "-device".into(),
        "virtserialport,chardev=schedc,name=schedc".into(),
    ]
}

fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// One command's run inside the guest.
#[derive(Debug, Clone, Default)]
pub struct CommandRun {
    /// The name the command was given.
    pub name: String,
    /// `/sys/kernel/sched_ext/state` once a scheduler was attached
    /// (`enabled`), `none` if the command exited first, or `unwatched`
    /// (see [`Guest::watch_state`]).
    pub state_during: String,
    /// `/sys/kernel/sched_ext/root/ops` while a scheduler was attached.
    pub ops_during: String,
    /// The command's exit status.
    pub exit_code: i32,
    /// `/sys/kernel/sched_ext/state` after the command exited.
    pub state_after: String,
    /// The command's stdout and stderr.
    pub output: String,
}

/// What a guest printed.
#[derive(Debug, Clone, Default)]
pub struct GuestReport {
    pub kernel: PathBuf,
    /// `uname -r` in the guest.
    pub release: String,
    /// sched_ext's state before any command ran.
    pub state_before: String,
    pub commands: Vec<CommandRun>,
    /// Whether /init reached its end.
    pub finished: bool,
    /// The whole serial console log, for failure messages.
    pub serial: String,
}

impl GuestReport {
    /// The run of the command named `name`.
    pub fn command(&self, name: &str) -> Option<&CommandRun> {
        self.commands.iter().find(|o| o.name == name)
    }

    /// Parses the serial log of a guest running the /init of [`Guest`].
    fn parse(kernel: &Path, serial: &str) -> GuestReport {
        let mut r = GuestReport { kernel: kernel.into(), serial: serial.into(), ..Default::default() };
        let mut runs: BTreeMap<String, CommandRun> = BTreeMap::new();
        let mut order = Vec::new();
        for line in serial.lines() {
            if let Some((name, text)) = output_line(line) {
                if let Some(run) = runs.get_mut(name) {
                    run.output.push_str(text);
                    run.output.push('\n');
                }
                continue;
            }
            // Console escape sequences may precede the first marker.
            let Some(rest) = line.find(MARK).map(|i| line[i + MARK.len()..].trim()) else { continue };
            let mut words = rest.splitn(3, ' ');
            let (tag, arg, tail) = (words.next().unwrap_or(""), words.next().unwrap_or(""), words.next().unwrap_or(""));
            let kv = |key: &str| {
                tail.split_whitespace()
                    .find_map(|w| w.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
                    .unwrap_or("")
                    .to_string()
            };
            match tag {
                "kernel" => r.release = arg.to_string(),
                "state-before" => r.state_before = arg.to_string(),
                "begin" => {
                    order.push(arg.to_string());
                    runs.insert(arg.into(), CommandRun { name: arg.into(), exit_code: -1, ..Default::default() });
                }
                "during" | "rc" | "after" => {
                    if let Some(run) = runs.get_mut(arg) {
                        match tag {
                            "during" => {
                                run.state_during = kv("state");
                                run.ops_during = kv("ops");
                            }
                            "rc" => run.exit_code = tail.trim().parse().unwrap_or(-1),
                            _ => run.state_after = kv("state"),
                        }
                    }
                }
                "done" => r.finished = true,
                _ => {}
            }
        }
        r.commands = order.into_iter().filter_map(|n| runs.remove(&n)).collect();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_guest_output() {
        let serial = "\
[    1.0] boot noise
@@schedc-vm kernel 6.12.117
@@schedc-vm state-before disabled
@@schedc-vm begin s.bpf.o
@@schedc-vm during s.bpf.o state=enabled ops=bpfland
@@schedc-vm out s.bpf.o schedc-load: stat nr_direct=5
[    2.0] a kernel message between two lines
@@schedc-vm out s.bpf.o   indented
@@schedc-vm out s.bpf.o
@@schedc-vm rc s.bpf.o 0
@@schedc-vm after s.bpf.o state=disabled
@@schedc-vm done
";
        let r = GuestReport::parse(Path::new("k"), serial);
        assert!(r.finished);
        assert_eq!(r.release, "6.12.117");
        assert_eq!(r.state_before, "disabled");
        let o = r.command("s.bpf.o").unwrap();
        assert_eq!(
            (o.state_during.as_str(), o.ops_during.as_str(), o.exit_code, o.state_after.as_str()),
            ("enabled", "bpfland", 0, "disabled")
        );
        assert_eq!(o.output, "schedc-load: stat nr_direct=5\n  indented\n\n");
    }

    #[test]
    fn commands_run_in_order_with_quoted_words() {
        let mut guest = Guest::new(Path::new("k"));
        guest.command("first", &["/bin/loader", "it's"]).command("second", &["/bin/sh", "-c", "echo $X"]);
        let init = guest.init_script();
        let first = init.find("run_one 'first' '/bin/loader' 'it'\\''s'\n").expect(&init);
        let second = init.find("run_one 'second' '/bin/sh' '-c' 'echo $X'\n").expect(&init);
        assert!(first < second, "{init}");
        assert!(init.ends_with("poweroff -f\n"), "{init}");
        assert!(init.contains("= schedc ] && ln -sf /dev/${port##*/} /dev/schedc-channel\n"), "{init}");
    }
}
