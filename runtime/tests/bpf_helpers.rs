//! Checks schedc.bpf.h's division helpers and schedc_positive by running them as BPF in the
//! host kernel (a syscall program: no sched_ext needed, but root is).

mod common;

use std::path::Path;

use libbpf_rs::{MapCore, MapFlags, ObjectBuilder};

const A: [i64; 8] = [7, -7, 7, -7, i64::MIN, i64::MIN, 5, 0];
const B: [i64; 8] = [2, 2, -2, -2, -1, 1, 0, 0];

/// What the policy language defines: C's truncating division, wrapping on
/// overflow, and 0 for a zero divisor.
fn expected(a: i64, b: i64) -> (i64, i64, u64, u64) {
    let (ua, ub) = (a as u64, b as u64);
    (
        if b == 0 { 0 } else { a.wrapping_div(b) },
        if b == 0 { 0 } else { a.wrapping_rem(b) },
        ua.checked_div(ub).unwrap_or(0),
        ua.checked_rem(ub).unwrap_or(0),
    )
}

#[test]
fn division_helpers_have_defined_results_in_bpf() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return schedc_testkit::skip_or_fail("loading BPF needs root");
    }
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf/helpers.bpf.c");
    let obj_path = dir.path().join("helpers.bpf.o");
    common::compile(&src, &obj_path);

    let obj = ObjectBuilder::default().open_file(&obj_path).unwrap().load().unwrap();
    let prog = obj.progs_mut().find(|p| p.name() == "run").unwrap();
    prog.test_run(Default::default()).unwrap();

    let bss = obj.maps().find(|m| m.name().to_string_lossy().ends_with(".bss")).unwrap();
    let data = bss.lookup(&0u32.to_ne_bytes(), MapFlags::ANY).unwrap().unwrap();
    // .bss holds `out`: sdiv, smod, udiv, umod, positive, 8 words each.
    let word = |array: usize, i: usize| {
        let off = (array * 8 + i) * 8;
        u64::from_ne_bytes(data[off..off + 8].try_into().unwrap())
    };
    for i in 0..8 {
        let (sdiv, smod, udiv, umod) = expected(A[i], B[i]);
        let got = (word(0, i) as i64, word(1, i) as i64, word(2, i), word(3, i));
        assert_eq!(got, (sdiv, smod, udiv, umod), "a={} b={}", A[i], B[i]);
        // max(a, 0), which schedc computes without a branch.
        assert_eq!(word(4, i), A[i].max(0) as u64, "positive of {}", A[i]);
    }
}
