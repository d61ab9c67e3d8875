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

/// The members in declaration order.
pub const FIELDS: [Field; 4] = [KIND, EXIT_CODE, REASON, MSG];

/// The size of the whole record.
pub const SIZE: usize = 1168;

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
    }
}
