//! The verifier's work for `policies/bpfland_2026.policy`, program by
//! program, against the hand-written scx_bpfland of 2026 on the same
//! kernels: issue 11 asks for at most 110% of it on every program, and
//! every program is held to that bound. The figures are printed whether or
//! not they fit. A program the policy does not need is not generated, which
//! counts as 0: ops.enable (7 or 8 instructions by hand, which set the
//! vruntime), since new tasks take the vruntime and their initial values
//! from the template ops.init_task copies (docs/design.md, "Generated
//! code"); it was 19/19 when it looked the task's state up and set four
//! fields. Enqueue fits because each queue's insertion is one BPF global
//! function, verified once, that every route calls; it was 3804/3827 when
//! each route inlined its own copy. Dispatch fits (214/199 against 312/194
//! by hand) since the offline drain has no loop, the queue heads are read
//! with scx_bpf_dsq_peek where the kernel has it, and the divisions of
//! non-negative operands are unsigned (it was 339/322); stopping since the
//! arithmetic helpers have no branches (82/82 before).
//!
//! Under CI (CI=true) a missing kernel, QEMU or clang is a failure;
//! elsewhere the test is reported ignored, with the reason.

use std::path::Path;

#[path = "../runtime/tests/vmtest/mod.rs"]
mod vmtest;

use schedc_testkit::Missing;
use vmtest::{available_kernels, compile_with_schedc, missing_prerequisite, verifier_processed, VmTest};

fn main() {
    schedc_testkit::run_guests(vec![schedc_testkit::test(
        "bpfland_2026_verifies_within_110_percent_of_the_hand_written_one",
        bpfland_2026_verifies_within_110_percent_of_the_hand_written_one,
    )])
}

/// Instructions the verifier processed for each program of the hand-written
/// current scx_bpfland (measured on 6.12 and on 7.2).
const HAND_WRITTEN: &[(&str, u64, u64)] = &[
    ("select_cpu", 587, 661),
    ("enqueue", 852, 923),
    ("dispatch", 312, 194),
    ("running", 130, 130),
    ("stopping", 56, 58),
    ("runnable", 44, 44),
    ("enable", 7, 8),
    ("init_task", 11, 11),
    ("init", 376, 302),
];

/// Programs of the hand-written scheduler that bpfland_2026 does without:
/// the object must not have them (their count is then 0).
const NOT_GENERATED: &[&str] = &["enable"];

fn bpfland_2026_verifies_within_110_percent_of_the_hand_written_one() -> Result<(), Missing> {
    if let Some(why) = missing_prerequisite() {
        return Err(Missing::new(why));
    }
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schedc = Path::new(env!("CARGO_BIN_EXE_schedc"));
    let obj = compile_with_schedc(schedc, &root.join("policies/bpfland_2026.policy"), dir.path());
    let mut over = Vec::new();
    for kernel in available_kernels() {
        let mut vm = VmTest::new(&kernel, schedc);
        vm.loader_args(&["run", "{obj}", "--duration", "2s", "--verifier-stats"]).object(&obj);
        let report = vm.run().unwrap_or_else(|e| panic!("{}: {e}", kernel.display()));
        let run = report.command("bpfland_2026.bpf.o").unwrap_or_else(|| panic!("no run:\n{}", report.serial));
        let ctx = format!("bpfland_2026 on {}:\n{}", report.release, run.output);
        assert_eq!(run.state_during, "enabled", "{ctx}");
        assert_eq!(run.exit_code, 0, "{ctx}");
        let old = report.release.starts_with("6.");
        for (prog, on_6_12, on_7_2) in HAND_WRITTEN {
            let hand = if old { *on_6_12 } else { *on_7_2 };
            let name = format!("bpfland_2026_{prog}");
            let n = if NOT_GENERATED.contains(prog) {
                assert!(!run.output.contains(&name), "{name} is loaded, but should not be generated: {ctx}");
                0
            } else {
                verifier_processed(&run.output, &name).unwrap_or_else(|| panic!("no verifier count for {prog}: {ctx}"))
            };
            let bound = hand * 11 / 10;
            println!("bpfland_2026 on {}: {prog} {n} (hand-written {hand}, bound {bound})", report.release);
            if n > bound {
                over.push(format!("{prog} on {}: {n} > {bound}", report.release));
            }
        }
    }
    assert!(over.is_empty(), "programs over 110% of the hand-written bpfland: {}", over.join("; "));
    Ok(())
}
