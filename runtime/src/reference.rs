//! A hand-written sched_ext object (one without a schedc manifest), loaded
//! as it is: no parameters, statistics or machine facts, only its
//! `struct_ops` map attached. `schedc bench --reference` measures such an
//! object beside the generated schedulers.

use std::path::Path;

use libbpf_rs::btf::types::{MemberAttr, Struct};
use libbpf_rs::{Link, MapType, Object, OpenObject};

use crate::scheduler::{
    attach_struct_ops, object_btf, open_object, start_libbpf_log, take_libbpf_log, write_hotplug_seq,
};
use crate::sys::read_sched_ext_state;
use crate::Error;

/// A loaded hand-written scheduler; attached after [`Reference::attach`],
/// detached when dropped.
pub struct Reference {
    // Declared first so it is dropped (detached) before the object.
    link: Option<Link>,
    object: Object,
    ops: String,
}

impl std::fmt::Debug for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reference").field("ops", &self.ops).field("attached", &self.link.is_some()).finish()
    }
}

impl Reference {
    /// The `name` its `struct sched_ext_ops` gives, read without loading
    /// anything (no root needed); `None` if the object names none.
    pub fn ops_name(path: impl AsRef<Path>) -> Result<Option<String>, Error> {
        let open = open_object(path.as_ref())?;
        ops_name(&open)
    }

    /// Opens and loads the object at `path` into the kernel. Does not attach.
    pub fn open(path: impl AsRef<Path>) -> Result<Reference, Error> {
        let path = path.as_ref().to_path_buf();
        let mut open = open_object(&path)?;
        let ops = ops_name(&open)?.ok_or_else(|| Error::Unnamed { path: path.clone() })?;
        write_hotplug_seq(&mut open)?;
        start_libbpf_log();
        let object = open.load().map_err(|source| Error::load_failed(path.clone(), take_libbpf_log(), source))?;
        take_libbpf_log();
        Ok(Reference { link: None, object, ops })
    }

    /// The sched_ext ops name, as `/sys/kernel/sched_ext/root/ops` shows it
    /// while this scheduler runs.
    pub fn ops(&self) -> &str {
        &self.ops
    }

    /// Attaches it: from now on the kernel schedules with it.
    pub fn attach(&mut self) -> Result<(), Error> {
        if self.link.is_some() {
            return Ok(());
        }
        self.link = Some(attach_struct_ops(&mut self.object)?);
        Ok(())
    }

    /// Detaches it (the kernel switches tasks back to the fair class).
    pub fn detach(&mut self) {
        self.link = None;
    }

    /// Whether it is attached and the kernel still runs it (it has no
    /// schedc exit record, so the kernel's state file is what tells).
    pub fn is_attached(&self) -> bool {
        self.link.is_some()
            && read_sched_ext_state().is_some_and(|s| s.state == "enabled" && s.ops.as_deref() == Some(&self.ops))
    }
}

/// The NUL-terminated `name` member of the object's `sched_ext_ops`, at
/// the offset the object's own BTF gives it.
fn ops_name(open: &OpenObject) -> Result<Option<String>, Error> {
    let offset = {
        let btf = object_btf(open)?;
        let ops = btf.type_by_name::<Struct<'_>>("sched_ext_ops");
        ops.and_then(|ops| {
            ops.iter().find(|m| m.name.is_some_and(|n| n == "name")).and_then(|m| match m.attr {
                MemberAttr::Normal { offset } => Some(offset as usize / 8),
                MemberAttr::BitField { .. } => None,
            })
        })
    };
    let Some(offset) = offset else { return Ok(None) };
    let Some(map) = open.maps().find(|m| m.map_type() == MapType::StructOps) else { return Ok(None) };
    let Some(data) = map.initial_value().and_then(|d| d.get(offset..)) else { return Ok(None) };
    let name = data.iter().take_while(|b| **b != 0).map(|b| *b as char).collect::<String>();
    Ok((!name.is_empty()).then_some(name))
}
