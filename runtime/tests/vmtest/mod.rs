//! What the VM tests share (`runtime/tests/vm.rs` and the workspace's
//! `tests/vm.rs`, which includes this file by path): boot a kernel with a
//! loader and some objects, and run the loader once per object.
#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

use schedc_runtime::vm::Guest;
pub use schedc_runtime::vm::{available_kernels, GuestReport, VmError};

/// A guest that runs `loader` once for each object, then an optional shell
/// script; each run is reported under the object's file name, the script
/// under `script`.
pub struct VmTest {
    kernel: PathBuf,
    loader: PathBuf,
    loader_args: Vec<String>,
    objects: Vec<PathBuf>,
    files: Vec<PathBuf>,
    script: Option<String>,
    sockets: u32,
    threads: u32,
    load: Option<String>,
}

impl VmTest {
    /// A run of `loader` (a host executable, copied in as `/bin/loader` with
    /// its libraries) under `kernel`.
    pub fn new(kernel: &Path, loader: &Path) -> VmTest {
        VmTest {
            kernel: kernel.into(),
            loader: loader.into(),
            loader_args: Vec::new(),
            objects: Vec::new(),
            files: Vec::new(),
            script: None,
            sockets: 1,
            threads: 1,
            load: None,
        }
    }

    /// The loader's arguments; `{obj}` stands for the object's path in the
    /// guest.
    pub fn loader_args(&mut self, args: &[&str]) -> &mut Self {
        self.loader_args = args.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Adds an object to run (in order); in the guest it is
    /// `/objs/FILE_NAME`.
    pub fn object(&mut self, obj: &Path) -> &mut Self {
        self.objects.push(obj.into());
        self
    }

    /// Adds a file for the script, not run: in the guest it is
    /// `/objs/FILE_NAME` too.
    pub fn file(&mut self, path: &Path) -> &mut Self {
        self.files.push(path.into());
        self
    }

    /// A shell snippet run after the objects, beside the same load; it may
    /// use `/bin/loader` and `/objs/FILE_NAME`.
    pub fn script(&mut self, cmd: &str) -> &mut Self {
        self.script = Some(cmd.into());
        self
    }

    /// Four CPUs over `n` sockets: `n` last-level caches and NUMA nodes.
    pub fn sockets(&mut self, n: u32) -> &mut Self {
        self.sockets = n;
        self
    }

    /// Four CPUs as cores of `n` SMT threads each, so that the kernel sees
    /// SMT (with `n` above 1).
    pub fn smt(&mut self, n: u32) -> &mut Self {
        self.threads = n;
        self
    }

    /// The guest's background load, in place of the default one.
    pub fn load(&mut self, cmd: &str) -> &mut Self {
        self.load = Some(cmd.into());
        self
    }

    pub fn run(&self) -> Result<GuestReport, VmError> {
        let mut guest = Guest::new(&self.kernel);
        if self.sockets > 1 || self.threads > 1 {
            guest.cpus(4).sockets(self.sockets).smt(self.threads);
        }
        if let Some(load) = &self.load {
            guest.load(load);
        }
        guest.executable("/bin/loader", &self.loader);
        for obj in &self.objects {
            let name = obj.file_name().expect("an object file").to_string_lossy();
            let in_guest = format!("/objs/{name}");
            let args = self.loader_args.iter().map(|a| a.replace("{obj}", &in_guest));
            let argv: Vec<String> = std::iter::once("/bin/loader".to_string()).chain(args).collect();
            guest.file(&in_guest, obj).command(&name, &argv);
        }
        for file in &self.files {
            let name = file.file_name().expect("a file").to_string_lossy();
            guest.file(&format!("/objs/{name}"), file);
        }
        if let Some(script) = &self.script {
            guest.command("script", &["/bin/sh", "-c", script]);
        }
        guest.boot()
    }
}

/// The reason this machine cannot run the workspace's VM tests, if any.
pub fn missing_prerequisite() -> Option<String> {
    if available_kernels().is_empty() {
        return Some("no sched_ext kernels found (../shared/kernels or $SCHEDC_KERNELS_DIR)".to_string());
    }
    for tool in ["qemu-system-x86_64", "stress-ng"] {
        if Command::new(tool).arg("--version").output().is_err() {
            return Some(format!("{tool} is not installed"));
        }
    }
    if !Path::new("/bin/busybox").exists() && !Path::new("/usr/bin/busybox").exists() {
        return Some("busybox-static is not installed".to_string());
    }
    None
}

/// Compiles `policy` with `schedc compile` into `dir`, as a user would;
/// returns the object's path (`dir/STEM.bpf.o`).
pub fn compile_with_schedc(schedc: &Path, policy: &Path, dir: &Path) -> PathBuf {
    let stem = policy.file_stem().expect("a policy file").to_string_lossy();
    let out = dir.join(format!("{stem}.bpf.o"));
    let status = Command::new(schedc).args(["compile", "-o"]).arg(&out).arg(policy).status().expect("schedc runs");
    assert!(status.success(), "schedc compile {} failed", policy.display());
    out
}

/// The instructions the verifier processed for `program` (`SCHEDULER_CALLBACK`),
/// from the `verifier NAME processed=N` lines of `schedc run --verifier-stats`.
pub fn verifier_processed(output: &str, program: &str) -> Option<u64> {
    output
        .lines()
        .find_map(|l| l.strip_prefix(&format!("verifier {program} processed=")))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// The sections a guest command printed between `@@NAME` lines.
pub fn sections(output: &str) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    let mut current: Option<String> = None;
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("@@") {
            current = Some(name.trim().to_string());
            out.entry(name.trim().to_string()).or_insert_with(String::new);
        } else if let Some(name) = &current {
            let text = out.get_mut(name).expect("section exists");
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}
