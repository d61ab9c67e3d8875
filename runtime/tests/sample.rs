//! Host-side checks of the test schedulers: the sample policy compiled by
//! the compiler and the eject C with its schedc-abi manifest both open in
//! libbpf despite the manifest section, their manifests match their
//! globals, and the exit record in the object is laid out as schedc-abi says.

mod common;

use std::path::{Path, PathBuf};

use libbpf_rs::btf::types::{MemberAttr, Struct};
use libbpf_rs::btf::{Btf, HasSize};
use schedc_abi::{exit, MachineFact, Manifest, StatKind, Value, ValueType};
use schedc_runtime::{read_manifest, Error, Reference, Scheduler};

fn sample_object(dir: &Path) -> PathBuf {
    let out = dir.join("sample.bpf.o");
    common::compile_policy(&common::test_file("sample.policy"), &out);
    out
}

#[test]
fn sample_manifest_round_trips_through_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let obj = sample_object(dir.path());
    let m = read_manifest(&obj).unwrap();
    assert_eq!((m.scheduler.as_str(), m.timeout_ms), ("sample", 5000));
    let slice = m.param("slice_max").unwrap();
    assert_eq!(
        (slice.ty, slice.default, slice.min, slice.max),
        (ValueType::Duration, Value::Duration(5_000_000), Some(Value::Duration(100_000)), None)
    );
    let bias = m.param("weight_bias").unwrap();
    assert_eq!((bias.default, bias.min, bias.max), (Value::Int(0), Some(Value::Int(-50)), Some(Value::Int(50))));
    assert_eq!(m.param("prio_max_queued").unwrap().default, Value::Uint(64));
    assert_eq!(m.param("local_kthreads").unwrap().default, Value::Bool(true));
    let kinds: Vec<StatKind> = m.stats.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            StatKind::Counter,
            StatKind::Counter,
            StatKind::Counter,
            StatKind::Gauge,
            StatKind::Counter,
            StatKind::Counter
        ]
    );
    let facts: Vec<MachineFact> = m.inputs.iter().map(|i| i.fact).collect();
    assert_eq!(facts, MachineFact::ALL);

    // libbpf opens it (skipping the manifest section) and every global the
    // manifest names has the right section and size.
    let checked = Scheduler::check_object(&obj).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked, m);
}

#[test]
fn eject_manifest_matches_its_c() {
    let dir = tempfile::tempdir().unwrap();
    let obj = dir.path().join("eject.bpf.o");
    common::compile_eject(&obj);
    let checked = Scheduler::check_object(&obj).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked, common::eject_manifest());
}

/// The exit record the C compiler laid out (from the BTF of a generated
/// object) is the one schedc-abi describes and the runtime reads.
#[test]
fn exit_record_in_the_object_is_the_abi_layout() {
    let dir = tempfile::tempdir().unwrap();
    let obj = sample_object(dir.path());
    let btf = Btf::from_path(&obj).unwrap();
    let record: Struct<'_> = btf.type_by_name(exit::STRUCT).expect("the exit record's struct");
    assert_eq!(record.size(), exit::SIZE);
    let members: Vec<(String, usize)> = record
        .iter()
        .map(|m| {
            let MemberAttr::Normal { offset } = m.attr else { panic!("no bit fields in the exit record") };
            (m.name.unwrap().to_string_lossy().into_owned(), offset as usize / 8)
        })
        .collect();
    let abi: Vec<(String, usize)> = exit::FIELDS.iter().map(|f| (f.name.to_string(), f.offset)).collect();
    assert_eq!(members, abi);
}

#[test]
fn object_without_manifest_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plain.bpf.o");
    common::compile_c("plain", "#include \"schedc.bpf.h\"\nu64 x;\n", None, &out);
    let err = read_manifest(&out).unwrap_err();
    assert!(matches!(err, Error::NotSchedcObject { .. }));
    assert!(err.to_string().contains("is not a scheduler built by schedc"), "{err}");
}

#[test]
fn manifest_symbol_mismatch_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut manifest: Manifest = common::eject_manifest();
    manifest.stats.clear();
    let out = dir.path().join("bad.bpf.o");
    // A parameter must be const volatile (.rodata).
    common::compile_c("bad", "#include \"schedc.bpf.h\"\nu64 fail_after = 1;\n", Some(&manifest), &out);
    let err = Scheduler::check_object(&out).unwrap_err().to_string();
    assert!(err.contains("global fail_after") && err.contains("should be in .rodata"), "{err}");
}

/// A hand-written object (no manifest) is named by its sched_ext_ops, as
/// `schedc bench --reference` names it; one without struct_ops has no name.
#[test]
fn reference_is_named_by_its_ops() {
    let dir = tempfile::tempdir().unwrap();
    let handmade = dir.path().join("handmade.bpf.o");
    let c = "#include \"schedc.bpf.h\"\n\
             s32 SCHEDC_OPS_SLEEPABLE(handmade_init) { return 0; }\n\
             SEC(\".struct_ops.link\")\n\
             struct sched_ext_ops handmade_ops = { .init = (void *)handmade_init, .name = \"made_by_hand\" };\n";
    common::compile_c("handmade", c, None, &handmade);
    assert_eq!(Reference::ops_name(&handmade).unwrap_or_else(|e| panic!("{e}")).as_deref(), Some("made_by_hand"));
    let plain = dir.path().join("plain.bpf.o");
    common::compile_c("plain", "#include \"schedc.bpf.h\"\nu64 x;\n", None, &plain);
    assert_eq!(Reference::ops_name(&plain).unwrap_or_else(|e| panic!("{e}")), None);
}
