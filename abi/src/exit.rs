//! The exit record: when the kernel stops a scheduler, its `ops.exit` copies
//! the kernel's exit information into this global in `.bss`, where the
//! runtime reads it after detaching (or on noticing an ejection).
//!
//! The C declaration is rendered from [`FIELDS`] by
//! [`crate::c::exit_record`], with static assertions that the C compiler
//! laid it out at these offsets.

use std::ops::Range;

/// The global's name.
pub const SYMBOL: &str = "schedc_exit";
/// The name of its C struct type.
pub const STRUCT: &str = "schedc_exit_info";

/// One member of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    /// The C type of the member, or of its elements for an array.
    pub c_type: &'static str,
    /// The number of elements for an array, `None` for a scalar.
    pub array_len: Option<usize>,
    pub offset: usize,
    pub size: usize,
}

impl Field {
    /// Where the member lies in the record's bytes.
    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.size
    }
}

/// `enum scx_exit_kind`; non-zero once the record is complete (written last).
pub const KIND: Field = Field { name: "kind", c_type: "s32", array_len: None, offset: 0, size: 4 };
/// The exit code the scheduler or the kernel gave.
pub const EXIT_CODE: Field = Field { name: "exit_code", c_type: "s64", array_len: None, offset: 8, size: 8 };
/// The kernel's reason, a NUL-terminated string.
pub const REASON: Field = Field { name: "reason", c_type: "char", array_len: Some(128), offset: 16, size: 128 };
/// The message, e.g. of `scx_bpf_error()`, a NUL-terminated string.
pub const MSG: Field = Field { name: "msg", c_type: "char", array_len: Some(1024), offset: 144, size: 1024 };
/// The kernel's debug dump (given on error exits), a NUL-terminated string
/// of lines; as long as the kernel's default dump (`SCX_EXIT_DUMP_DFL_LEN`),
/// so that nothing the kernel wrote is cut.
pub const DUMP: Field = Field { name: "dump", c_type: "char", array_len: Some(32768), offset: 1168, size: 32768 };

/// The members in declaration order.
pub const FIELDS: [Field; 5] = [KIND, EXIT_CODE, REASON, MSG, DUMP];

/// The size of the whole record.
pub const SIZE: usize = 33936;

/// The size of the record in objects built before it had [`DUMP`]; the
/// runtime still reads their record, without a dump.
pub const SIZE_WITHOUT_DUMP: usize = 1168;

/// The bit of `exit_code` with which the kernel asks the loader to load and
/// attach the scheduler again (`SCX_ECODE_ACT_RESTART`), e.g. after a CPU
/// went on- or offline.
pub const ECODE_ACT_RESTART: i64 = 1 << 48;
/// The reason bit saying a CPU hotplug event caused the exit
/// (`SCX_ECODE_RSN_HOTPLUG`).
pub const ECODE_RSN_HOTPLUG: i64 = 1 << 32;

/// The kernel's name for an exit kind (`enum scx_exit_kind`).
pub fn kind_name(kind: i32) -> &'static str {
    match kind {
        0 => "SCX_EXIT_NONE",
        1 => "SCX_EXIT_DONE",
        64 => "SCX_EXIT_UNREG",
        65 => "SCX_EXIT_UNREG_BPF",
        66 => "SCX_EXIT_UNREG_KERN",
        67 => "SCX_EXIT_SYSRQ",
        68 => "SCX_EXIT_PARENT",
        1024 => "SCX_EXIT_ERROR",
        1025 => "SCX_EXIT_ERROR_BPF",
        1026 => "SCX_EXIT_ERROR_STALL",
        _ => "SCX_EXIT_UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The offsets are the ones C's natural alignment gives, so the static
    /// assertions in the rendered header can hold.
    #[test]
    fn offsets_follow_c_alignment() {
        let align = |f: &Field| match f.c_type {
            "s32" => 4,
            "s64" => 8,
            "char" => 1,
            other => panic!("no alignment for {other}"),
        };
        let mut end = 0usize;
        for f in FIELDS {
            assert_eq!(f.offset, end.next_multiple_of(align(&f)), "{}", f.name);
            assert_eq!(f.size, f.array_len.unwrap_or(1) * align(&f), "{}", f.name);
            end = f.range().end;
        }
        assert_eq!(SIZE, end.next_multiple_of(FIELDS.iter().map(align).max().unwrap()));
        assert_eq!(SIZE_WITHOUT_DUMP, MSG.range().end.next_multiple_of(8));
    }
}
