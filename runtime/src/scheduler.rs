use std::collections::HashMap;
use std::mem::size_of;
use std::os::fd::AsFd;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use libbpf_rs::btf::types::DataSec;
use libbpf_rs::{AsRawLibbpf, Btf, Link, MapCore, MapFlags, MapType, Object, ObjectBuilder, OpenObject, PrintLevel};

use schedc_abi::ops::OpsFlag;
use schedc_abi::{exit, section, CpuSetParam, MachineFact, Manifest, Param, Stat, Value, ValueType};

use crate::manifest::read_manifest;
use crate::sys;
use crate::value::{check_range, parse_override};
use crate::Error;

mod swap;

pub use swap::{SwapFailed, Swapped};

/// How to open a scheduler.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Parameter settings as (name, value text), e.g. ("slice_max", "2ms").
    pub overrides: Vec<(String, String)>,
}

/// What the verifier did with one program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgStats {
    /// The program's (function's) name.
    pub prog: String,
    /// Instructions the verifier processed: the "processed N insns" of its
    /// log, read back from the kernel's `bpf_prog_info.verified_insns`.
    pub verified_insns: u32,
    /// Instructions in the program as loaded.
    pub insns: usize,
}

/// Why the kernel stopped a scheduler, as its `ops.exit` recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitInfo {
    /// `enum scx_exit_kind`.
    pub kind: i32,
    pub exit_code: i64,
    pub reason: String,
    pub msg: String,
    /// The kernel's debug dump (error exits only); empty when there is none.
    pub dump: String,
}

impl ExitInfo {
    /// The kernel's name for `kind`, e.g. `SCX_EXIT_UNREG`.
    pub fn kind_name(&self) -> &'static str {
        exit::kind_name(self.kind)
    }

    /// Whether the scheduler was ejected because of an error (kind >= 1024)
    /// rather than stopped on request.
    pub fn is_error(&self) -> bool {
        self.kind >= 1024
    }

    /// Whether the kernel asks for the scheduler to be loaded and attached
    /// again (the restart bit of the exit code, e.g. after CPU hotplug).
    pub fn wants_restart(&self) -> bool {
        self.exit_code & exit::ECODE_ACT_RESTART != 0
    }

    /// The dump's lines, without the blank ones at its end.
    pub fn dump_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.dump.lines().map(str::to_string).collect();
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        lines
    }

    /// The record as the statistics stream carries it.
    pub fn to_record(&self) -> schedc_abi::stats::Exit {
        schedc_abi::stats::Exit {
            kind: self.kind,
            kind_name: self.kind_name().to_string(),
            exit_code: self.exit_code,
            restart: self.wants_restart(),
            reason: self.reason.clone(),
            message: self.msg.clone(),
            dump: self.dump_lines(),
        }
    }

    /// Decodes the `schedc_exit` record's bytes: the whole record, or the
    /// shorter one of objects built before it kept the dump. `None` while
    /// the kind is still 0 (the scheduler runs).
    pub fn from_record(rec: &[u8]) -> Option<ExitInfo> {
        let kind = i32::from_ne_bytes(rec[exit::KIND.range()].try_into().expect("the kind is an s32"));
        if kind == 0 {
            return None;
        }
        let text = |r: std::ops::Range<usize>| {
            let Some(b) = rec.get(r) else { return String::new() };
            let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
            String::from_utf8_lossy(&b[..end]).into_owned()
        };
        Some(ExitInfo {
            kind,
            exit_code: i64::from_ne_bytes(rec[exit::EXIT_CODE.range()].try_into().expect("the exit code is an s64")),
            reason: text(exit::REASON.range()),
            msg: text(exit::MSG.range()),
            dump: text(exit::DUMP.range()),
        })
    }
}

impl std::fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.kind_name(), self.reason)?;
        if !self.msg.is_empty() {
            write!(f, ": {}", self.msg)?;
        }
        Ok(())
    }
}

/// Where a global lives in the object's data sections.
#[derive(Debug, Clone)]
pub(crate) struct VarLoc {
    pub(crate) section: String,
    pub(crate) offset: usize,
    pub(crate) size: usize,
}

/// A loaded schedc scheduler; attached after [`Scheduler::attach`],
/// detached when dropped.
pub struct Scheduler {
    // Declared first so it is dropped (detached) before the object.
    link: Option<Link>,
    object: Object,
    path: PathBuf,
    manifest: Manifest,
    params: Vec<(Param, Value)>,
    vars: HashMap<String, VarLoc>,
    verifier: Vec<ProgStats>,
    dropped_flags: Vec<OpsFlag>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("path", &self.path)
            .field("scheduler", &self.manifest.scheduler)
            .field("attached", &self.link.is_some())
            .finish_non_exhaustive()
    }
}

/// libbpf's warnings (which carry the verifier log when a load fails),
/// collected while the runtime loads or attaches something.
static LIBBPF_LOG: Mutex<String> = Mutex::new(String::new());

fn collect_libbpf_log(_level: PrintLevel, msg: String) {
    if let Ok(mut log) = LIBBPF_LOG.lock() {
        log.push_str(&msg);
    }
}

/// Opens the object at `path` (no load yet); a refusal carries libbpf's log.
pub(crate) fn open_object(path: &Path) -> Result<OpenObject, Error> {
    start_libbpf_log();
    let open = ObjectBuilder::default().open_file(path).map_err(|source| Error::Open {
        path: path.into(),
        log: take_libbpf_log(),
        source,
    })?;
    take_libbpf_log();
    Ok(open)
}

/// Attaches the object's `struct sched_ext_ops` map; a refusal carries
/// libbpf's log.
pub(crate) fn attach_struct_ops(object: &mut Object) -> Result<Link, Error> {
    start_libbpf_log();
    let mut map = object.maps_mut().find(|m| m.map_type() == MapType::StructOps).ok_or_else(|| Error::Symbol {
        symbol: "struct sched_ext_ops".into(),
        reason: "the object defines no struct_ops map".into(),
    })?;
    let link = map.attach_struct_ops().map_err(|source| Error::Attach { log: take_libbpf_log(), source })?;
    take_libbpf_log();
    Ok(link)
}

pub(crate) fn start_libbpf_log() {
    LIBBPF_LOG.lock().map(|mut l| l.clear()).ok();
    libbpf_rs::set_print(Some((PrintLevel::Warn, collect_libbpf_log)));
}

pub(crate) fn take_libbpf_log() -> String {
    LIBBPF_LOG.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default()
}

impl Scheduler {
    /// Opens and loads the scheduler at `path` with parameter `overrides`
    /// (name, value text). See [`Scheduler::open_with`].
    pub fn open(path: impl AsRef<Path>, overrides: &[(String, String)]) -> Result<Scheduler, Error> {
        Scheduler::open_with(path, &OpenOptions { overrides: overrides.to_vec() })
    }

    /// Checks the system and the object, sets machine facts and parameter
    /// values, and loads the object into the kernel. Does not attach.
    pub fn open_with(path: impl AsRef<Path>, opts: &OpenOptions) -> Result<Scheduler, Error> {
        Scheduler::open_after(path.as_ref(), opts, sys::preflight)
    }

    /// [`Scheduler::open_with`], with `preflight` checking the system once
    /// the object and the overrides have been found good.
    fn open_after(
        path: &Path,
        opts: &OpenOptions,
        preflight: impl FnOnce() -> Result<(), Error>,
    ) -> Result<Scheduler, Error> {
        let path = path.to_path_buf();
        let manifest = read_manifest(&path)?;
        let params = resolve_params(&manifest, &opts.overrides)?;
        let cpusets = resolve_cpusets(&manifest, &opts.overrides)?;
        preflight()?;

        start_libbpf_log();
        let load_err = |source| Error::load_failed(path.clone(), take_libbpf_log(), source);
        let mut open = ObjectBuilder::default().open_file(&path).map_err(|source| Error::Open {
            path: path.clone(),
            log: take_libbpf_log(),
            source,
        })?;
        let vars = data_section_vars(&open)?;
        let rodata = rodata_values(&manifest, &params, &vars)?;
        let mut topology = crate::topology::rodata(&vars);
        topology.extend(cpuset_bytes(&cpusets, &vars)?);
        let mut map = open
            .maps_mut()
            .find(|m| m.name().to_string_lossy().ends_with(".rodata"))
            .filter(|_| !rodata.is_empty() || !topology.is_empty());
        if let Some(map) = map.as_mut() {
            let data = map.initial_value_mut().ok_or_else(|| Error::Symbol {
                symbol: ".rodata".into(),
                reason: "libbpf gave no initial value for .rodata".into(),
            })?;
            for (loc, value) in rodata {
                let bytes = value.to_bytes();
                data[loc.offset..loc.offset + bytes.len()].copy_from_slice(&bytes);
            }
            for (loc, bytes) in topology {
                data[loc.offset..loc.offset + bytes.len()].copy_from_slice(&bytes);
            }
        }

        write_hotplug_seq(&mut open)?;
        let dropped_flags = drop_unknown_ops_flags(&mut open)?;

        let object = open.load().map_err(load_err)?;
        take_libbpf_log();
        let verifier = verifier_stats(&object);
        Ok(Scheduler { link: None, object, path, manifest, params, vars, verifier, dropped_flags })
    }

    /// Checks, without root or sched_ext, that `path` is a schedc object
    /// libbpf can open and that every global its manifest names exists
    /// with the right section and size. Returns the manifest.
    pub fn check_object(path: impl AsRef<Path>) -> Result<Manifest, Error> {
        let path = path.as_ref();
        let manifest = read_manifest(path)?;
        let params = resolve_params(&manifest, &[])?;
        let open = open_object(path)?;
        let vars = data_section_vars(&open)?;
        rodata_values(&manifest, &params, &vars)?;
        Ok(manifest)
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The loaded object, for the latency probe to share its task storage.
    pub(crate) fn object(&self) -> &Object {
        &self.object
    }

    /// Every parameter with the value it was loaded with.
    pub fn params(&self) -> &[(Param, Value)] {
        &self.params
    }

    /// The ops flags the policy asked for that this kernel does not know,
    /// cleared before load (see [`drop_unknown_ops_flags`]).
    pub fn dropped_ops_flags(&self) -> &[OpsFlag] {
        &self.dropped_flags
    }

    /// Per-program verifier statistics, in the object's program order.
    pub fn verifier_stats(&self) -> &[ProgStats] {
        &self.verifier
    }

    /// Attaches the scheduler: from now on the kernel schedules with it.
    pub fn attach(&mut self) -> Result<(), Error> {
        if self.link.is_some() {
            return Ok(());
        }
        match attach_struct_ops(&mut self.object) {
            Ok(link) => {
                self.link = Some(link);
                Ok(())
            }
            Err(Error::Attach { mut log, source }) => {
                if let Some(st) = sys::read_sched_ext_state().filter(|s| s.state != "disabled") {
                    if let Some(name) = st.ops.filter(|n| *n != self.manifest.scheduler) {
                        return Err(Error::AlreadyAttached { name });
                    }
                }
                if let Ok(Some(exit)) = self.exit_info() {
                    log.push_str(&format!("the scheduler stopped: {exit}\n"));
                }
                Err(Error::Attach { log, source })
            }
            Err(other) => Err(other),
        }
    }

    /// Detaches the scheduler (the kernel switches tasks back to the fair
    /// class). Statistics and the exit record stay readable.
    pub fn detach(&mut self) {
        self.link = None;
    }

    /// Whether the scheduler is attached and the kernel has not ejected it.
    pub fn is_attached(&self) -> bool {
        // A failed read of the exit record is not an ejection: only a
        // record the kernel filled in says the scheduler stopped.
        self.link.is_some() && !matches!(self.exit_info(), Ok(Some(_)))
    }

    /// Current value of every statistic in the manifest, in manifest order.
    pub fn read_stats(&self) -> Result<Vec<(Stat, Value)>, Error> {
        let mut sections: HashMap<&str, Vec<u8>> = HashMap::new();
        let mut out = Vec::with_capacity(self.manifest.stats.len());
        for stat in &self.manifest.stats {
            let loc = &self.vars[&stat.symbol];
            if !sections.contains_key(loc.section.as_str()) {
                sections.insert(&loc.section, self.read_section(&loc.section)?);
            }
            let data = &sections[loc.section.as_str()];
            out.push((stat.clone(), Value::from_bytes(stat.ty, &data[loc.offset..loc.offset + loc.size])));
        }
        Ok(out)
    }

    /// The exit record, once the kernel has stopped the scheduler (on
    /// detach, or by ejecting it); `None` while it runs or if the object
    /// keeps no `schedc_exit` record.
    pub fn exit_info(&self) -> Result<Option<ExitInfo>, Error> {
        let Some(loc) = self.vars.get(exit::SYMBOL).filter(|l| l.section == section::BSS && is_exit_record(l.size))
        else {
            return Ok(None);
        };
        let data = self.read_section(section::BSS)?;
        Ok(ExitInfo::from_record(&data[loc.offset..loc.offset + loc.size]))
    }

    fn read_section(&self, section: &str) -> Result<Vec<u8>, Error> {
        let map = self
            .object
            .maps()
            .find(|m| m.name().to_string_lossy().ends_with(section))
            .ok_or_else(|| Error::Symbol { symbol: section.into(), reason: "no such map".into() })?;
        map.lookup(&0u32.to_ne_bytes(), MapFlags::ANY)
            .map_err(|source| Error::Bpf { what: "read the scheduler's data", source })?
            .ok_or_else(|| Error::Symbol { symbol: section.into(), reason: "the map is empty".into() })
    }
}

/// Whether a `schedc_exit` global of `size` bytes is an exit record this
/// runtime reads: today's, or the one of objects built before the dump.
pub(crate) fn is_exit_record(size: usize) -> bool {
    size == exit::SIZE || size == exit::SIZE_WITHOUT_DUMP
}

/// Default values overlaid with the overrides, range-checked. An override
/// of a tunable CPU set is left to [`resolve_cpusets`].
fn resolve_params(manifest: &Manifest, overrides: &[(String, String)]) -> Result<Vec<(Param, Value)>, Error> {
    let mut params: Vec<(Param, Value)> = manifest.params.iter().map(|p| (p.clone(), p.default)).collect();
    for (name, text) in overrides {
        if manifest.cpusets.iter().any(|s| s.name == *name) {
            continue;
        }
        let slot = params.iter_mut().find(|(p, _)| p.name == *name).ok_or_else(|| Error::UnknownParam {
            name: name.clone(),
            known: manifest
                .params
                .iter()
                .map(|p| p.name.clone())
                .chain(manifest.cpusets.iter().map(|s| s.name.clone()))
                .collect(),
        })?;
        slot.1 = parse_override(&slot.0, text)?;
    }
    for (p, v) in &params {
        check_range(p, *v)?;
    }
    Ok(params)
}

/// The tunable CPU sets `--set NAME=0-3,6` changes, as bitmaps, checked
/// against the machine's possible CPUs. Sets not overridden keep the
/// default compiled into the object.
fn resolve_cpusets(manifest: &Manifest, overrides: &[(String, String)]) -> Result<Vec<(CpuSetParam, Vec<u64>)>, Error> {
    let mut sets = Vec::new();
    for (name, text) in overrides {
        let Some(set) = manifest.cpusets.iter().find(|s| s.name == *name) else { continue };
        let nr_cpus =
            libbpf_rs::num_possible_cpus().map_err(|source| Error::Bpf { what: "count the possible CPUs", source })?;
        sets.push((set.clone(), crate::value::parse_cpuset(set, text, nr_cpus)?));
    }
    Ok(sets)
}

/// Where each overridden CPU set's bitmap goes in .rodata, and its bytes.
fn cpuset_bytes(
    sets: &[(CpuSetParam, Vec<u64>)],
    vars: &HashMap<String, VarLoc>,
) -> Result<Vec<(VarLoc, Vec<u8>)>, Error> {
    sets.iter()
        .map(|(set, words)| {
            let err = |reason: String| Error::Symbol { symbol: set.symbol.clone(), reason };
            let loc = vars.get(&set.symbol).ok_or_else(|| err(format!("there is no global {}", set.symbol)))?;
            let size = CpuSetParam::WORDS * 8;
            if loc.section != section::RODATA || loc.size != size {
                return Err(err(format!(
                    "it is {} bytes in {} where a CPU set is {size} bytes in .rodata",
                    loc.size, loc.section
                )));
            }
            Ok((loc.clone(), words.iter().flat_map(|w| w.to_ne_bytes()).collect()))
        })
        .collect()
}

/// The BTF of an opened object.
pub(crate) fn object_btf(open: &OpenObject) -> Result<Btf<'_>, Error> {
    // SAFETY: the object pointer is valid while `open` is borrowed, and the
    // Btf borrows it no longer than that.
    let obj = unsafe { open.as_libbpf_object().as_ref() };
    Btf::from_bpf_object(obj)
        .map_err(|source| Error::Bpf { what: "read the object's BTF", source })?
        .ok_or_else(|| Error::Symbol { symbol: "BTF".into(), reason: "the object has no BTF; compile with -g".into() })
}

/// Writes sched_ext's CPU hotplug sequence number into the `struct_ops`
/// map before load. The kernel compares it when the scheduler is attached:
/// if a CPU went on- or offline in between, it ejects the scheduler with a
/// restart request instead of letting it run on stale CPU facts. Skipped
/// for objects whose `sched_ext_ops` has no `hotplug_seq` (built before it)
/// and kernels that do not publish the number.
pub(crate) fn write_hotplug_seq(open: &mut OpenObject) -> Result<(), Error> {
    let Some(seq) = sys::hotplug_seq() else { return Ok(()) };
    ops_member(open, "hotplug_seq", |slot| slot.copy_from_slice(&seq.to_ne_bytes()))?;
    Ok(())
}

/// Clears from `sched_ext_ops.flags` the flags the running kernel does not
/// know, and returns them: 6.12 refuses a scheduler with a flag newer than
/// it (`enqueue_migration_disabled`, `allow_queued_wakeup`), and without
/// it the policy behaves as its author expects on such a kernel (those
/// tasks never reach `enqueue`). The kernel's flags are read from its BTF
/// (`enum scx_ops_flags`); a kernel whose BTF cannot be read keeps every
/// flag, and says so itself if it refuses one.
pub(crate) fn drop_unknown_ops_flags(open: &mut OpenObject) -> Result<Vec<OpsFlag>, Error> {
    let mut unknown = Vec::new();
    ops_member(open, "flags", |slot| {
        let flags = u64::from_ne_bytes(slot.try_into().expect("an 8-byte slot"));
        // Reading the kernel's BTF takes milliseconds: only for a newer flag.
        if OpsFlag::in_mask(flags).iter().all(|f| f.in_every_kernel()) {
            return;
        }
        let Some(known) = kernel_ops_flags() else { return };
        unknown = OpsFlag::in_mask(flags & !known);
        let kept = unknown.iter().fold(flags, |f, flag| f & !flag.bit());
        slot.copy_from_slice(&kept.to_ne_bytes());
    })?;
    Ok(unknown)
}

/// Every ops flag the running kernel knows: its `SCX_OPS_ALL_FLAGS`, or
/// the union of `enum scx_ops_flags` where it has none.
fn kernel_ops_flags() -> Option<u64> {
    let btf = Btf::from_vmlinux().ok()?;
    let mut members: Vec<(String, u64)> = Vec::new();
    if let Some(e) = btf.type_by_name::<libbpf_rs::btf::types::Enum<'_>>("scx_ops_flags") {
        members = e.iter().filter_map(|m| Some((m.name?.to_string_lossy().into_owned(), m.value as u64))).collect();
    } else if let Some(e) = btf.type_by_name::<libbpf_rs::btf::types::Enum64<'_>>("scx_ops_flags") {
        members = e.iter().filter_map(|m| Some((m.name?.to_string_lossy().into_owned(), m.value as u64))).collect();
    }
    if members.is_empty() {
        return None;
    }
    let all = members.iter().find(|(n, _)| n == "SCX_OPS_ALL_FLAGS").map(|(_, v)| *v);
    Some(all.unwrap_or_else(|| members.iter().fold(0, |m, (_, v)| m | v)))
}

/// Hands `write` the 8 bytes of member `name` of the `sched_ext_ops` value
/// in the object's `struct_ops` map, before load. Does nothing for objects
/// whose `sched_ext_ops` has no such member (built before it existed).
fn ops_member(open: &mut OpenObject, name: &str, write: impl FnOnce(&mut [u8])) -> Result<(), Error> {
    let offset = {
        let btf = object_btf(open)?;
        let ops = btf.type_by_name::<libbpf_rs::btf::types::Struct<'_>>("sched_ext_ops");
        ops.and_then(|ops| {
            ops.iter().find(|m| m.name.is_some_and(|n| n == name)).and_then(|m| match m.attr {
                libbpf_rs::btf::types::MemberAttr::Normal { offset } => Some(offset as usize / 8),
                libbpf_rs::btf::types::MemberAttr::BitField { .. } => None,
            })
        })
    };
    let Some(offset) = offset else { return Ok(()) };
    let mismatch = |reason: &str| Error::Symbol { symbol: format!("sched_ext_ops.{name}"), reason: reason.into() };
    let mut map =
        open.maps_mut().find(|m| m.map_type() == MapType::StructOps).ok_or_else(|| mismatch("no struct_ops map"))?;
    let data = map.initial_value_mut().ok_or_else(|| mismatch("libbpf gave no struct_ops data"))?;
    write(data.get_mut(offset..offset + 8).ok_or_else(|| mismatch("it lies outside the struct_ops data"))?);
    Ok(())
}

/// Every global of the object's .rodata/.bss/.data sections, from the BTF
/// datasecs libbpf has laid out at open time.
pub(crate) fn data_section_vars(open: &OpenObject) -> Result<HashMap<String, VarLoc>, Error> {
    let btf = object_btf(open)?;
    let mut vars = HashMap::new();
    for sec in btf.type_by_kind::<DataSec<'_>>() {
        let Some(sec_name) = sec.name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        if ![section::RODATA, section::BSS, section::DATA].contains(&sec_name.as_str()) {
            continue;
        }
        for var in sec.iter() {
            let Some(ty) = btf.type_by_id::<libbpf_rs::btf::BtfType<'_>>(var.ty) else { continue };
            let Some(name) = ty.name() else { continue };
            vars.insert(
                name.to_string_lossy().into_owned(),
                VarLoc { section: sec_name.clone(), offset: var.offset as usize, size: var.size },
            );
        }
    }
    Ok(vars)
}

/// Where each parameter and input goes in .rodata, and its value; also
/// checks that every statistic exists.
fn rodata_values(
    manifest: &Manifest,
    params: &[(Param, Value)],
    vars: &HashMap<String, VarLoc>,
) -> Result<Vec<(VarLoc, Value)>, Error> {
    let mut rodata = Vec::new();
    for (param, value) in params {
        rodata.push((lookup_var(vars, &param.symbol, section::RODATA, param.ty)?.clone(), *value));
    }
    for input in &manifest.inputs {
        let value = match input.fact {
            MachineFact::Smt => Value::Bool(sys::smt_active()),
        };
        debug_assert_eq!(value.ty(), input.fact.value_type());
        rodata.push((lookup_var(vars, &input.symbol, section::RODATA, value.ty())?.clone(), value));
    }
    for stat in &manifest.stats {
        lookup_var(vars, &stat.symbol, section::BSS, stat.ty)
            .or_else(|_| lookup_var(vars, &stat.symbol, section::DATA, stat.ty))?;
    }
    Ok(rodata)
}

fn lookup_var<'a>(
    vars: &'a HashMap<String, VarLoc>,
    symbol: &str,
    section: &str,
    ty: ValueType,
) -> Result<&'a VarLoc, Error> {
    let err = |reason: String| Error::Symbol { symbol: symbol.into(), reason };
    let loc = vars.get(symbol).ok_or_else(|| err(format!("there is no global {symbol}")))?;
    if loc.section != section {
        return Err(err(format!("it is in {} where it should be in {section}", loc.section)));
    }
    if loc.size != ty.size() {
        return Err(err(format!("it is {} bytes where a {} is {}", loc.size, ty.keyword(), ty.size())));
    }
    Ok(loc)
}

/// The kernel's information about a loaded program, if it gives any.
pub(crate) fn prog_info(prog: &libbpf_rs::Program<'_>) -> Option<libbpf_rs::libbpf_sys::bpf_prog_info> {
    let mut info = libbpf_rs::libbpf_sys::bpf_prog_info::default();
    let mut len = size_of::<libbpf_rs::libbpf_sys::bpf_prog_info>() as u32;
    // SAFETY: info is a valid, writable bpf_prog_info of `len` bytes.
    let ret = unsafe { libbpf_rs::libbpf_sys::bpf_prog_get_info_by_fd(prog.as_fd().as_raw_fd(), &mut info, &mut len) };
    (ret == 0).then_some(info)
}

fn verifier_stats(object: &Object) -> Vec<ProgStats> {
    object
        .progs()
        .map(|prog| ProgStats {
            prog: prog.name().to_string_lossy().into_owned(),
            verified_insns: prog_info(&prog).map_or(0, |info| info.verified_insns),
            insns: prog.insn_cnt(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::from_json(
            r#"{"schedc":1,"scheduler":"s","params":[
            {"name":"slice","symbol":"slice","type":"duration","default":5000000,"min":100000,"max":null},
            {"name":"on","symbol":"on","type":"bool","default":false}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn overrides_replace_defaults() {
        let m = manifest();
        let p = resolve_params(&m, &[("slice".into(), "2ms".into())]).unwrap();
        assert_eq!(p[0].1, Value::Duration(2_000_000));
        assert_eq!(p[1].1, Value::Bool(false));
    }

    #[test]
    fn unknown_override_lists_parameters() {
        let err = resolve_params(&manifest(), &[("slcie".into(), "2ms".into())]).unwrap_err();
        assert_eq!(err.to_string(), "This scheduler has no parameter slcie; its parameters are: slice, on.");
    }
}
