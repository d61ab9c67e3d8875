//! Loading the latency probe beside whatever scheduler runs, and reading
//! its histograms.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::time::Duration;

use libbpf_rs::btf::types::{Int, Struct};
use libbpf_rs::btf::BtfType;
use libbpf_rs::{AsRawLibbpf, Btf, Link, MapCore, MapFlags, Object, ObjectBuilder};

use super::histogram::{Histogram, SLOTS};
use super::{ClassLatency, LatencyReport};
use crate::scheduler::{data_section_vars, prog_info, Scheduler};
use crate::Error;

/// The probe, built from `src/bpf/latency.bpf.c` by the build script.
static PROBE_OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/latency.bpf.o"));

/// The histogram layout of the probe (see latency.bpf.c): per bank,
/// all tasks, the unattributed waits, then one slot per class value.
const HIST_ALL: u32 = 0;
const HIST_UNATTRIBUTED: u32 = 1;
const HIST_CLASS_BASE: u32 = 2;
const NR_CLASS_SLOTS: u32 = 16;
const NR_HISTS: u32 = HIST_CLASS_BASE + NR_CLASS_SLOTS;
/// `struct latency_hist`: the slots, then the maximum.
const HIST_SIZE: usize = (SLOTS + 1) * 8;

/// Names in the probe and in every schedc scheduler the probe relies on.
const HISTS_MAP: &str = "latency_hists";
const SCHED_TASKS_SLOT: &str = "latency_sched_tasks";
const SCHED_TASKS_MAP: &str = "schedc_tasks";
const SCHED_TASK_STRUCT: &str = "schedc_task";
const SCHED_CLASS_MEMBER: &str = "class";

/// How long after flipping banks no program still writes into the old one.
/// The programs run with interrupts off for a few microseconds at most.
const BANK_GRACE: Duration = Duration::from_millis(10);

/// How to attach the probe.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProbeOptions {
    /// Turn on the kernel's BPF run-time statistics while the probe is
    /// attached, so [`LatencyProbe::cost`] can say what it costs per event.
    /// It adds two clock reads to every BPF program run on the machine.
    pub measure_cost: bool,
}

/// What one program of the probe cost, from the kernel's BPF statistics.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProgCost {
    pub prog: String,
    /// Times it ran.
    pub runs: u64,
    /// Time spent in it.
    pub run_time_ns: u64,
}

/// The probe, attached to the scheduler tracepoints until dropped.
pub struct LatencyProbe {
    // Declared first so the programs are detached before the object goes.
    _links: Vec<Link>,
    object: Object,
    /// (class value, name) of each class row, in report order.
    classes: Vec<(u32, String)>,
    /// The bank the programs write into, and where it is in .bss.
    bank: u32,
    bank_at: usize,
    total: LatencyReport,
    _stats: Option<OwnedFd>,
}

impl std::fmt::Debug for LatencyProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyProbe").field("classes", &self.classes).finish_non_exhaustive()
    }
}

impl LatencyProbe {
    /// Loads the probe and attaches it. With `scheduler`, a schedc
    /// scheduler that declares classes, the waits are also counted by the
    /// class the scheduler keeps in its task storage.
    pub fn attach(scheduler: Option<&Scheduler>, opts: &ProbeOptions) -> Result<LatencyProbe, Error> {
        crate::sys::require_root("schedc latency")?;
        let mut open = ObjectBuilder::default()
            .name("latency")
            .map_err(|source| Error::Bpf { what: "name the latency probe", source })?
            .open_memory(PROBE_OBJECT)
            .map_err(|source| Error::Bpf { what: "open the latency probe", source })?;
        let hists = open.maps().find(|m| m.name() == HISTS_MAP).expect("the probe defines its histograms");
        assert_eq!(
            (hists.value_size() as usize, hists.max_entries()),
            (HIST_SIZE, 2 * NR_HISTS),
            "latency.bpf.c and probe.rs disagree on the histogram layout"
        );

        let mut classes = Vec::new();
        let mut class_offset: i32 = -1;
        if let Some(sched) = scheduler.filter(|s| !s.manifest().classes.is_empty()) {
            let (map, offset) = class_storage(sched.object())?;
            let mut slot = open.maps_mut().find(|m| m.name() == SCHED_TASKS_SLOT).expect("the probe declares the slot");
            slot.reuse_fd(map.as_fd())
                .map_err(|source| Error::Bpf { what: "share the scheduler's task storage with the probe", source })?;
            class_offset = offset as i32;
            let mut named: Vec<(u32, String)> =
                sched.manifest().classes.iter().map(|c| (c.value, c.name.clone())).collect();
            named.sort();
            named.push((0, "none".to_string()));
            classes = named;
        }
        let vars = data_section_vars(&open)?;
        let var = |name: &str, section: &str| {
            vars.get(name).filter(|l| l.section == section && l.size == 4).map(|l| l.offset).ok_or_else(|| {
                Error::Symbol { symbol: name.into(), reason: format!("the probe has no 4-byte {name} in {section}") }
            })
        };
        let class_offset_at = var("class_offset", ".rodata")?;
        let bank_at = var("bank", ".bss")?;
        let mut rodata = open.maps_mut().find(|m| m.name().to_string_lossy().ends_with(".rodata")).expect(".rodata");
        let data = rodata.initial_value_mut().expect("libbpf keeps .rodata's initial value");
        data[class_offset_at..class_offset_at + 4].copy_from_slice(&class_offset.to_ne_bytes());

        let object = open.load().map_err(|source| Error::Bpf { what: "load the latency probe", source })?;
        let stats = if opts.measure_cost { Some(enable_run_time_stats()?) } else { None };
        let links = object
            .progs_mut()
            .map(|p| p.attach())
            .collect::<Result<Vec<Link>, _>>()
            .map_err(|source| Error::Bpf { what: "attach the latency probe", source })?;
        Ok(LatencyProbe {
            _links: links,
            object,
            classes,
            bank: 0,
            bank_at,
            total: LatencyReport::default(),
            _stats: stats,
        })
    }

    /// The waits since the previous call (or since attaching), which are
    /// also added to [`LatencyProbe::total`].
    pub fn interval(&mut self) -> Result<LatencyReport, Error> {
        let old = self.bank;
        self.bank ^= 1;
        self.write_bank()?;
        std::thread::sleep(BANK_GRACE);
        let report = self.read_and_clear(old)?;
        self.total.merge(&report);
        Ok(report)
    }

    /// Every wait since the probe was attached, up to the last
    /// [`LatencyProbe::interval`].
    pub fn total(&self) -> &LatencyReport {
        &self.total
    }

    /// What each program has cost so far; empty unless the kernel keeps BPF
    /// run-time statistics (`ProbeOptions::measure_cost`, or the sysctl
    /// `kernel.bpf_stats_enabled=1`).
    pub fn cost(&self) -> Vec<ProgCost> {
        self.object
            .progs()
            .filter_map(|p| {
                let info = prog_info(&p)?;
                Some(ProgCost {
                    prog: p.name().to_string_lossy().into_owned(),
                    runs: info.run_cnt,
                    run_time_ns: info.run_time_ns,
                })
            })
            .filter(|c| c.runs > 0 && c.run_time_ns > 0)
            .collect()
    }

    fn write_bank(&self) -> Result<(), Error> {
        let bss = self.map_ending(".bss");
        let key = 0u32.to_ne_bytes();
        let what = "switch the latency probe's histograms";
        let mut value =
            bss.lookup(&key, MapFlags::ANY).map_err(|source| Error::Bpf { what, source })?.unwrap_or_default();
        value[self.bank_at..self.bank_at + 4].copy_from_slice(&self.bank.to_ne_bytes());
        bss.update(&key, &value, MapFlags::ANY).map_err(|source| Error::Bpf { what, source })
    }

    /// Sums bank `bank` over the CPUs, then zeroes it for its next turn.
    fn read_and_clear(&self, bank: u32) -> Result<LatencyReport, Error> {
        let hists = self.map_ending(HISTS_MAP);
        let read = |hist: u32| -> Result<Histogram, Error> {
            let key = (bank * NR_HISTS + hist).to_ne_bytes();
            let per_cpu = hists
                .lookup_percpu(&key, MapFlags::ANY)
                .map_err(|source| Error::Bpf { what: "read the latency histograms", source })?
                .unwrap_or_default();
            let mut sum = Histogram::default();
            for bytes in &per_cpu {
                sum.merge(&decode(bytes));
            }
            let zeroes = vec![vec![0u8; HIST_SIZE]; per_cpu.len()];
            hists
                .update_percpu(&key, &zeroes, MapFlags::ANY)
                .map_err(|source| Error::Bpf { what: "clear the latency histograms", source })?;
            Ok(sum)
        };
        let mut classes = Vec::with_capacity(self.classes.len());
        for (value, name) in &self.classes {
            let histogram =
                if *value < NR_CLASS_SLOTS { read(HIST_CLASS_BASE + *value)? } else { Histogram::default() };
            classes.push(ClassLatency { class: name.clone(), histogram });
        }
        Ok(LatencyReport { all: read(HIST_ALL)?, classes, unattributed: read(HIST_UNATTRIBUTED)? })
    }

    fn map_ending(&self, suffix: &str) -> libbpf_rs::Map<'_> {
        self.object.maps().find(|m| m.name().to_string_lossy().ends_with(suffix)).expect("the probe defines the map")
    }
}

/// One CPU's `struct latency_hist`.
fn decode(bytes: &[u8]) -> Histogram {
    let word = |i: usize| u64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    let mut slots = [0u64; SLOTS];
    for (i, slot) in slots.iter_mut().enumerate() {
        *slot = word(i);
    }
    Histogram::from_slots(slots, word(SLOTS))
}

/// The scheduler's task storage map and the offset of the one-byte class
/// in its value (`struct schedc_task`), read from the object's BTF, so the
/// probe follows whatever layout clang gave the struct.
fn class_storage(object: &Object) -> Result<(libbpf_rs::Map<'_>, u32), Error> {
    let missing = |reason: &str| Error::Symbol { symbol: SCHED_TASKS_MAP.into(), reason: reason.into() };
    let map = object.maps().find(|m| m.name() == SCHED_TASKS_MAP).ok_or_else(|| missing("there is no such map"))?;
    // SAFETY: the object outlives the Btf, which borrows it only here.
    let raw = unsafe { object.as_libbpf_object().as_ref() };
    let btf = Btf::from_bpf_object(raw)
        .map_err(|source| Error::Bpf { what: "read the scheduler's BTF", source })?
        .ok_or_else(|| missing("the object has no BTF"))?;
    let task = btf
        .type_by_name::<Struct<'_>>(SCHED_TASK_STRUCT)
        .ok_or_else(|| missing("the object has no struct schedc_task"))?;
    let member = task
        .iter()
        .find(|m| m.name.is_some_and(|n| n == SCHED_CLASS_MEMBER))
        .ok_or_else(|| missing("struct schedc_task has no class member"))?;
    let libbpf_rs::btf::types::MemberAttr::Normal { offset: bits } = member.attr else {
        return Err(missing("the class member is a bitfield"));
    };
    let ty = btf.type_by_id::<BtfType<'_>>(member.ty).map(|t| t.skip_mods_and_typedefs());
    let is_byte = ty.and_then(|t| Int::try_from(t).ok()).is_some_and(|i| i.bits == 8);
    if !is_byte || bits % 8 != 0 {
        return Err(missing("the class member is not a byte"));
    }
    Ok((map, bits / 8))
}

/// Turns on the kernel's BPF run-time statistics for as long as the
/// returned descriptor is open.
fn enable_run_time_stats() -> Result<OwnedFd, Error> {
    // SAFETY: a plain syscall wrapper; a non-negative return is a new fd.
    let fd = unsafe { libbpf_rs::libbpf_sys::bpf_enable_stats(libbpf_rs::libbpf_sys::BPF_STATS_RUN_TIME) };
    if fd < 0 {
        return Err(Error::Bpf {
            what: "turn on BPF run-time statistics",
            source: libbpf_rs::Error::from_raw_os_error(-fd),
        });
    }
    // SAFETY: fd was just returned to us and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_slots_then_maximum() {
        let mut bytes = vec![0u8; HIST_SIZE];
        bytes[9 * 8..9 * 8 + 8].copy_from_slice(&7u64.to_ne_bytes());
        bytes[SLOTS * 8..].copy_from_slice(&300_000u64.to_ne_bytes());
        let h = decode(&bytes);
        assert_eq!(h.count(), 7);
        assert_eq!(h.slots()[9], 7);
        assert_eq!(h.max_ns(), 300_000);
    }

    #[test]
    fn the_built_probe_matches_this_layout() {
        let open = ObjectBuilder::default().name("latency").unwrap().open_memory(PROBE_OBJECT).unwrap();
        let hists = open.maps().find(|m| m.name() == HISTS_MAP).unwrap();
        assert_eq!(hists.value_size() as usize, HIST_SIZE);
        assert_eq!(hists.max_entries(), 2 * NR_HISTS);
        let progs: Vec<String> = open.progs().map(|p| p.section().to_string_lossy().into_owned()).collect();
        assert_eq!(progs, ["tp_btf/sched_wakeup", "tp_btf/sched_wakeup_new", "tp_btf/sched_switch"]);
        let vars = data_section_vars(&open).unwrap();
        assert_eq!((vars["class_offset"].section.as_str(), vars["class_offset"].size), (".rodata", 4));
        assert_eq!((vars["bank"].section.as_str(), vars["bank"].offset, vars["bank"].size), (".bss", 0, 4));
    }
}
