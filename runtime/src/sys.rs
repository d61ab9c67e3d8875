//! What the runtime needs to know about the running system.

use std::fs;
use std::path::Path;

use crate::Error;

const SCHED_EXT_DIR: &str = "/sys/kernel/sched_ext";

/// sched_ext's state as the kernel reports it in sysfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedExtState {
    /// `/sys/kernel/sched_ext/state`: `enabled`, `disabled`, `enabling`, ...
    pub state: String,
    /// `/sys/kernel/sched_ext/root/ops`: the attached scheduler's name.
    pub ops: Option<String>,
}

/// Reads sched_ext's state, or `None` when the kernel has no sched_ext.
pub fn read_sched_ext_state() -> Option<SchedExtState> {
    let dir = Path::new(SCHED_EXT_DIR);
    let state = fs::read_to_string(dir.join("state")).ok()?.trim().to_string();
    let ops = fs::read_to_string(dir.join("root/ops")).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Some(SchedExtState { state, ops })
}

/// Fails unless this process runs as root, naming `command` as what needs it.
pub(crate) fn require_root(command: &'static str) -> Result<(), Error> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err(Error::NotRoot { command });
    }
    Ok(())
}

/// Checks that a scheduler can be loaded and attached here.
pub(crate) fn preflight() -> Result<(), Error> {
    preflight_replacing(None)
}

/// sched_ext's count of CPU hotplug events, from
/// `/sys/kernel/sched_ext/hotplug_seq`; `None` where the kernel has none.
pub(crate) fn hotplug_seq() -> Option<u64> {
    fs::read_to_string(Path::new(SCHED_EXT_DIR).join("hotplug_seq")).ok()?.trim().parse().ok()
}

/// Checks that a scheduler can be loaded here and attached once the one
/// called `replacing` (if any) is detached: no other scheduler may be
/// attached.
pub(crate) fn preflight_replacing(replacing: Option<&str>) -> Result<(), Error> {
    require_root("schedc run")?;
    let st = read_sched_ext_state().ok_or(Error::NoSchedExt)?;
    if st.state != "disabled" && (replacing.is_none() || st.ops.as_deref() != replacing) {
        return Err(Error::AlreadyAttached { name: st.ops.unwrap_or_else(|| format!("(state {})", st.state)) });
    }
    Ok(())
}

/// Whether SMT is active, from `/sys/devices/system/cpu/smt/active`
/// (absent on kernels without SMT support: then it is not).
pub(crate) fn smt_active() -> bool {
    fs::read_to_string("/sys/devices/system/cpu/smt/active").is_ok_and(|s| s.trim() == "1")
}

/// The BPF programs and maps loaded on the whole system, whoever loaded
/// them: what a run that swaps schedulers watches to see that each old one
/// was freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadedBpf {
    pub programs: u32,
    pub maps: u32,
}

impl std::fmt::Display for LoadedBpf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "programs={} maps={}", self.programs, self.maps)
    }
}

/// Counts the loaded BPF programs and maps by walking the kernel's IDs
/// (`BPF_PROG_GET_NEXT_ID`, `BPF_MAP_GET_NEXT_ID`; root only). An ID goes
/// when the kernel drops the last reference, before the memory is freed.
/// `None` when the kernel refuses the walk.
pub fn count_loaded_bpf() -> Option<LoadedBpf> {
    use libbpf_rs::libbpf_sys::{bpf_map_get_next_id, bpf_prog_get_next_id};
    let count = |next_id: unsafe extern "C" fn(u32, *mut u32) -> i32| {
        let (mut id, mut n) = (0u32, 0u32);
        loop {
            let mut next = 0u32;
            // SAFETY: the call only writes the u32 it is given.
            match unsafe { next_id(id, &mut next) } {
                0 => (id, n) = (next, n + 1),
                err if -err == libc::ENOENT => return Some(n),
                _ => return None,
            }
        }
    };
    Some(LoadedBpf { programs: count(bpf_prog_get_next_id)?, maps: count(bpf_map_get_next_id)? })
}
