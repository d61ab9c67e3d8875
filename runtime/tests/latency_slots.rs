//! The probe's slot function (`src/bpf/latency_slot.h`), run as BPF in the
//! host kernel (a syscall program: root, but not sched_ext, is needed), puts
//! each wait in the slot the runtime's histogram module reads it from.

mod common;

use libbpf_rs::{MapCore, MapFlags, ObjectBuilder};
use schedc_runtime::latency::{slot_of, SLOTS};

const PROGRAM: &str = r#"
/* Inputs in .data so the compiler cannot fold the calls away. */
u64 in[N] = { INPUTS };
u32 out[N];

SEC("syscall")
int run(void *ctx)
{
	int i;

#pragma unroll
	for (i = 0; i < N; i++)
		out[i] = latency_slot(in[i]);
	return 0;
}
"#;

/// Every slot boundary the clock can reach, either side, and the extremes.
fn inputs() -> Vec<u64> {
    let mut v = vec![0, 1, 999, 1_000, 1_001, u64::MAX];
    for k in 0..=54u32 {
        let bound = (1u64 << k) * 1_000;
        v.extend([bound - 1, bound, bound + 1]);
    }
    v
}

#[test]
fn bpf_slots_match_the_runtime() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: loading BPF needs root");
        return;
    }
    let inputs = inputs();
    let list: Vec<String> = inputs.iter().map(|n| format!("{n}ULL")).collect();
    let source = format!(
        "#include \"schedc.bpf.h\"\n#define N {}\n{}{}",
        inputs.len(),
        include_str!("../src/bpf/latency_slot.h"),
        PROGRAM.replace("INPUTS", &list.join(", "))
    );
    let dir = tempfile::tempdir().unwrap();
    let (src, obj_path) = (dir.path().join("latency_slots.bpf.c"), dir.path().join("latency_slots.bpf.o"));
    std::fs::write(&src, source).unwrap();
    common::compile(&src, &obj_path);

    let obj = ObjectBuilder::default().open_file(&obj_path).unwrap().load().unwrap();
    let prog = obj.progs_mut().find(|p| p.name() == "run").unwrap();
    prog.test_run(Default::default()).unwrap();
    let bss = obj.maps().find(|m| m.name().to_string_lossy().ends_with(".bss")).unwrap();
    let data = bss.lookup(&0u32.to_ne_bytes(), MapFlags::ANY).unwrap().unwrap();
    for (i, &ns) in inputs.iter().enumerate() {
        let got = u32::from_ne_bytes(data[i * 4..i * 4 + 4].try_into().unwrap()) as usize;
        assert!(got < SLOTS);
        assert_eq!(got, slot_of(ns), "a wait of {ns}ns");
    }
}
