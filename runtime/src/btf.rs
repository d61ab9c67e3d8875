//! Just enough of a raw BTF reader to find the globals of a loaded
//! scheduler's data sections: the kernel hands out an object's BTF as raw
//! bytes (no ELF around it), which libbpf-rs cannot wrap.

use std::collections::HashMap;

const MAGIC: u16 = 0xeb9f;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;

/// A global in a data section: its byte offset and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    pub offset: usize,
    pub size: usize,
}

/// The globals of every data section, by section name and then global name.
#[derive(Debug, Default)]
pub(crate) struct DataSections {
    sections: HashMap<String, HashMap<String, Slot>>,
}

impl DataSections {
    /// Reads the DATASEC types of raw BTF; `None` if it is not BTF or is cut short.
    pub fn parse(raw: &[u8]) -> Option<DataSections> {
        let u16_at = |at: usize| Some(u16::from_ne_bytes(raw.get(at..at + 2)?.try_into().ok()?));
        let u32_at = |at: usize| Some(u32::from_ne_bytes(raw.get(at..at + 4)?.try_into().ok()?));
        if u16_at(0)? != MAGIC {
            return None;
        }
        let hdr_len = u32_at(4)? as usize;
        let (type_off, type_len) = (u32_at(8)? as usize, u32_at(12)? as usize);
        let (str_off, str_len) = (u32_at(16)? as usize, u32_at(20)? as usize);
        let strings = raw.get(hdr_len + str_off..hdr_len + str_off + str_len)?;
        let name = |off: u32| {
            let tail = strings.get(off as usize..)?;
            let end = tail.iter().position(|&b| b == 0)?;
            Some(String::from_utf8_lossy(&tail[..end]).into_owned())
        };

        // Type ids start at 1; remember where each VAR's name is and where
        // each DATASEC starts, then resolve.
        let (start, end) = (hdr_len + type_off, hdr_len + type_off + type_len);
        let mut var_names: HashMap<u32, u32> = HashMap::new();
        let mut datasecs: Vec<(u32, usize, usize)> = Vec::new(); // name, first entry, count
        let (mut at, mut id) = (start, 1u32);
        while at < end {
            let (name_off, info) = (u32_at(at)?, u32_at(at + 4)?);
            let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
            at += 12;
            match kind {
                KIND_VAR => {
                    var_names.insert(id, name_off);
                }
                KIND_DATASEC => datasecs.push((name_off, at, vlen)),
                _ => {}
            }
            at += match kind {
                1 | 14 | 17 => 4,     // INT, VAR, DECL_TAG
                3 => 12,              // ARRAY
                4 | 5 => 12 * vlen,   // STRUCT, UNION
                6 | 13 => 8 * vlen,   // ENUM, FUNC_PROTO
                15 | 19 => 12 * vlen, // DATASEC, ENUM64
                2 | 7..=12 | 16 | 18 => 0,
                _ => return None,
            };
            id += 1;
        }
        let mut out = DataSections::default();
        for (sec_name, first, count) in datasecs {
            let vars = out.sections.entry(name(sec_name)?).or_default();
            for i in 0..count {
                let entry = first + 12 * i;
                let (ty, offset, size) = (u32_at(entry)?, u32_at(entry + 4)?, u32_at(entry + 8)?);
                let Some(var_name) = var_names.get(&ty).and_then(|&off| name(off)) else { continue };
                vars.insert(var_name, Slot { offset: offset as usize, size: size as usize });
            }
        }
        Some(out)
    }

    /// Where global `var` lies in data section `section`.
    pub fn get(&self, section: &str, var: &str) -> Option<Slot> {
        self.sections.get(section)?.get(var).copied()
    }

    /// The section among `sections` that holds `var`, and where.
    pub fn find(&self, sections: &[&str], var: &str) -> Option<(String, Slot)> {
        sections.iter().find_map(|s| self.get(s, var).map(|slot| (s.to_string(), slot)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw BTF with the given type records and string table.
    fn btf(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let type_len = (types.len() * 4) as u32;
        let mut raw = Vec::new();
        raw.extend(MAGIC.to_ne_bytes());
        raw.extend([1u8, 0]);
        for word in [24, 0, type_len, type_len, strings.len() as u32] {
            raw.extend(word.to_ne_bytes());
        }
        for w in types {
            raw.extend(w.to_ne_bytes());
        }
        raw.extend(strings);
        raw
    }

    fn info(kind: u32, vlen: u32) -> u32 {
        kind << 24 | vlen
    }

    #[test]
    fn finds_the_globals_of_each_data_section() {
        // Strings: 0 "", 1 "u64", 5 "nr_x", 10 "flag", 15 ".bss", 20 ".data", 26 "s", 28 "a"
        let strings = b"\0u64\0nr_x\0flag\0.bss\0.data\0s\0a\0";
        let types = [
            1,
            info(1, 0),
            8,
            64, // [1] INT u64 (+4)
            26,
            info(4, 1),
            8,
            28,
            1,
            0, // [2] STRUCT s { u64 a; } (+12)
            0,
            info(3, 0),
            0,
            1,
            1,
            3, // [3] ARRAY u64[3] (+12)
            5,
            info(14, 0),
            1,
            1, // [4] VAR nr_x: u64 (+4)
            10,
            info(14, 0),
            1,
            1, // [5] VAR flag: u64
            0,
            info(6, 2),
            4,
            0,
            0,
            0,
            1, // [6] ENUM with 2 values (+16)
            15,
            info(15, 2),
            24,
            4,
            8,
            8,
            5,
            16,
            8, // [7] DATASEC .bss { nr_x @8, flag @16 }
            20,
            info(15, 1),
            8,
            5,
            0,
            8, // [8] DATASEC .data { flag @0 }
        ];
        let secs = DataSections::parse(&btf(&types, strings)).expect("parses");
        assert_eq!(secs.get(".bss", "nr_x"), Some(Slot { offset: 8, size: 8 }));
        assert_eq!(secs.get(".bss", "flag"), Some(Slot { offset: 16, size: 8 }));
        assert_eq!(secs.get(".data", "flag"), Some(Slot { offset: 0, size: 8 }));
        assert_eq!(secs.get(".data", "nr_x"), None);
        assert_eq!(secs.find(&[".rodata", ".data"], "flag"), Some((".data".into(), Slot { offset: 0, size: 8 })));
    }

    #[test]
    fn refuses_what_is_not_btf() {
        assert!(DataSections::parse(b"hello world, this is not BTF at all").is_none());
        let cut = btf(&[1, info(1, 0), 8, 64], b"\0u64\0");
        assert!(DataSections::parse(&cut[..cut.len() - 6]).is_none());
        assert!(DataSections::parse(&btf(&[1, info(30, 0), 8], b"\0u64\0")).is_none(), "unknown kind");
    }

    /// A whole kernel's BTF walks through every kind of type to the
    /// per-CPU data section at its end.
    #[test]
    fn reads_a_kernels_btf() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/kernels/btf-6.12.117-scx");
        let Ok(raw) = std::fs::read(path) else {
            assert!(std::env::var_os("CI").is_none(), "{path} is missing");
            eprintln!("skipping: {path} is missing");
            return;
        };
        let secs = DataSections::parse(&raw).expect("the kernel's BTF parses");
        let rq = secs.get(".data..percpu", "runqueues").expect("runqueues is a per-CPU global");
        assert!(rq.size > 1000, "{rq:?}");
    }
}
