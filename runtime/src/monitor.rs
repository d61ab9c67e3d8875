//! Finding the attached schedc scheduler through the kernel alone, for
//! `schedc stats`: no cooperation from the program that loaded it.
//!
//! The kernel's `struct_ops` links lead to the attached scheduler's
//! `struct_ops` map; the maps an object's loader created share the
//! object's BTF, which leads to its `.rodata`, `.bss` and `.data` maps; the
//! BTF places the manifest's copy in `.rodata` and the statistics in
//! `.bss`/`.data`. No descriptor of the link or the `struct_ops` map is
//! kept: holding the link would keep the scheduler attached.

use libbpf_rs::query::{LinkInfoIter, LinkTypeInfo, MapInfo, MapInfoIter};
use libbpf_rs::{MapCore, MapFlags, MapHandle, MapType};
use schedc_abi::{exit, manifest, section, Manifest, Param, Stat, Value};

use crate::btf::{DataSections, Slot};
use crate::scheduler::{is_exit_record, ExitInfo};
use crate::sys::{self, SchedExtState};
use crate::Error;

/// A schedc scheduler some other program attached, read through its maps.
pub struct AttachedScheduler {
    manifest: Manifest,
    link_id: u32,
    /// The parameters as loaded, read from `.rodata`.
    params: Vec<(Param, Value)>,
    bss: MapHandle,
    data: Option<MapHandle>,
    /// Each statistic's section and place, in manifest order.
    stats: Vec<(Stat, String, Slot)>,
    exit: Option<Slot>,
}

impl std::fmt::Debug for AttachedScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachedScheduler")
            .field("scheduler", &self.manifest.scheduler)
            .field("link_id", &self.link_id)
            .finish_non_exhaustive()
    }
}

/// What [`find_attached`] found.
#[derive(Debug)]
pub enum Found {
    /// A schedc scheduler is attached.
    Schedc(Box<AttachedScheduler>),
    /// This kernel has no sched_ext.
    NoSchedExt,
    /// sched_ext is not `enabled` (it reads this state).
    Nothing { state: String },
    /// The attached scheduler is not one schedc built (or was built before
    /// objects carried a copy of their manifest in `.rodata`).
    Other { name: String },
}

/// Looks for the schedc scheduler attached right now. Needs root.
pub fn find_attached() -> Result<Found, Error> {
    sys::require_root("schedc stats")?;
    let Some(SchedExtState { state, ops }) = sys::read_sched_ext_state() else {
        return Ok(Found::NoSchedExt);
    };
    if state != "enabled" {
        return Ok(Found::Nothing { state });
    }
    let maps: Vec<MapInfo> = MapInfoIter::default().collect();
    // Newest link first: after a swap the old link may linger a moment.
    let mut links: Vec<(u32, u32)> = LinkInfoIter::default()
        .filter_map(|l| match l.info {
            LinkTypeInfo::StructOps(so) => Some((l.id, so.map_id)),
            _ => None,
        })
        .collect();
    links.sort_by_key(|&(link_id, _)| std::cmp::Reverse(link_id));
    for (link_id, map_id) in links {
        let Some(ops_map) = maps.iter().find(|m| m.id == map_id && m.ty == MapType::StructOps) else { continue };
        if ops_map.btf_id == 0 {
            continue;
        }
        let Some(found) = AttachedScheduler::from_object_maps(link_id, ops_map.btf_id, &maps)? else { continue };
        if ops.as_deref().is_none_or(|name| name == found.manifest.scheduler) {
            return Ok(Found::Schedc(Box::new(found)));
        }
    }
    Ok(Found::Other { name: ops.unwrap_or_else(|| "(unnamed)".into()) })
}

impl AttachedScheduler {
    /// The scheduler whose object's maps share BTF `btf_id`, if it is a
    /// schedc scheduler.
    fn from_object_maps(link_id: u32, btf_id: u32, maps: &[MapInfo]) -> Result<Option<AttachedScheduler>, Error> {
        let map_of = |sec: &str| {
            maps.iter()
                .filter(|m| m.btf_id == btf_id && m.ty == MapType::Array)
                .find(|m| m.name.to_string_lossy().ends_with(sec))
                .map(|m| m.id)
        };
        let (Some(rodata_id), Some(bss_id)) = (map_of(section::RODATA), map_of(section::BSS)) else {
            return Ok(None);
        };
        let Some(secs) = kernel_btf(btf_id).as_deref().and_then(DataSections::parse) else { return Ok(None) };
        let Some(copy) = secs.get(section::RODATA, manifest::RODATA_COPY) else { return Ok(None) };
        let rodata = open_map(rodata_id)?;
        let bytes = read_value(&rodata)?;
        let json = bytes.get(copy.offset..copy.offset + copy.size).unwrap_or_default();
        let json = &json[..json.iter().position(|&b| b == 0).unwrap_or(json.len())];
        let Ok(manifest) = Manifest::from_json(&String::from_utf8_lossy(json)) else { return Ok(None) };
        let params = manifest
            .params
            .iter()
            .filter_map(|p| {
                let slot = secs.get(section::RODATA, &p.symbol)?;
                let raw = bytes.get(slot.offset..slot.offset + p.ty.size())?;
                Some((p.clone(), Value::from_bytes(p.ty, raw)))
            })
            .collect();

        let data_id = map_of(section::DATA);
        let mut stats = Vec::with_capacity(manifest.stats.len());
        for stat in &manifest.stats {
            let (sec, slot) = secs.find(&[section::BSS, section::DATA], &stat.symbol).ok_or_else(|| Error::Symbol {
                symbol: stat.symbol.clone(),
                reason: "the attached scheduler's BTF has no such global".into(),
            })?;
            stats.push((stat.clone(), sec, slot));
        }
        let exit = secs.get(section::BSS, exit::SYMBOL).filter(|s| is_exit_record(s.size));
        Ok(Some(AttachedScheduler {
            manifest,
            link_id,
            params,
            bss: open_map(bss_id)?,
            data: data_id.map(open_map).transpose()?,
            stats,
            exit,
        }))
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Every parameter with the value it was loaded with.
    pub fn params(&self) -> &[(Param, Value)] {
        &self.params
    }

    /// The id of the kernel link that attached it.
    pub fn link_id(&self) -> u32 {
        self.link_id
    }

    /// Current value of every statistic, in manifest order.
    pub fn read_stats(&self) -> Result<Vec<(Stat, Value)>, Error> {
        let bss = read_value(&self.bss)?;
        let data = self.data.as_ref().map(read_value).transpose()?.unwrap_or_default();
        let mut out = Vec::with_capacity(self.stats.len());
        for (stat, sec, slot) in &self.stats {
            let bytes = if sec == section::BSS { &bss } else { &data };
            let raw = bytes.get(slot.offset..slot.offset + stat.ty.size()).ok_or_else(|| Error::Symbol {
                symbol: stat.symbol.clone(),
                reason: "it lies outside its map".into(),
            })?;
            out.push((stat.clone(), Value::from_bytes(stat.ty, raw)));
        }
        Ok(out)
    }

    /// The exit record, once the kernel has stopped the scheduler.
    pub fn exit_info(&self) -> Result<Option<ExitInfo>, Error> {
        let Some(slot) = self.exit else { return Ok(None) };
        let bss = read_value(&self.bss)?;
        Ok(bss.get(slot.offset..slot.offset + slot.size).and_then(ExitInfo::from_record))
    }

    /// Whether the link that attached it still exists.
    pub fn is_linked(&self) -> bool {
        LinkInfoIter::default().any(|l| l.id == self.link_id)
    }
}

fn open_map(id: u32) -> Result<MapHandle, Error> {
    MapHandle::from_map_id(id).map_err(|source| Error::Bpf { what: "open the attached scheduler's maps", source })
}

fn read_value(map: &MapHandle) -> Result<Vec<u8>, Error> {
    map.lookup(&0u32.to_ne_bytes(), MapFlags::ANY)
        .map_err(|source| Error::Bpf { what: "read the attached scheduler's data", source })?
        .ok_or_else(|| Error::Symbol { symbol: map.name().to_string_lossy().into_owned(), reason: "empty".into() })
}

/// The raw BTF the kernel holds under `id`.
fn kernel_btf(id: u32) -> Option<Vec<u8>> {
    // SAFETY: libbpf returns an owned btf or an error pointer; the raw data
    // is copied out before the btf is freed.
    unsafe {
        let btf = libbpf_rs::libbpf_sys::btf__load_from_kernel_by_id(id);
        if btf.is_null() || libbpf_rs::libbpf_sys::libbpf_get_error(btf.cast()) != 0 {
            return None;
        }
        let mut size = 0u32;
        let data = libbpf_rs::libbpf_sys::btf__raw_data(btf, &mut size);
        let raw = (!data.is_null()).then(|| std::slice::from_raw_parts(data.cast::<u8>(), size as usize).to_vec());
        libbpf_rs::libbpf_sys::btf__free(btf);
        raw
    }
}
