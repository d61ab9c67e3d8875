//! Host-side checks of the sample scheduler object: it builds through the
//! compiler's build step, libbpf opens it despite the manifest
//! section, and the manifest matches the object's globals.

mod common;

use std::path::{Path, PathBuf};

use schedc_runtime::{Error, Manifest, Scheduler, StatKind, Value, ValueType};

fn sample_object(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vm/sample.bpf.c");
    let out = dir.join("sample.bpf.o");
    common::compile(&src, &out);
    out
}

#[test]
fn sample_manifest_round_trips_through_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let obj = sample_object(dir.path());
    let m = Manifest::from_object(&obj).unwrap();
    assert_eq!(m.scheduler, "bpfland");
    assert_eq!(m.timeout_ms, 5000);
    let slice = m.param("slice_max").unwrap();
    assert_eq!(
        (slice.ty, slice.default, slice.min, slice.max),
        (ValueType::Duration, Value::Duration(5_000_000), Some(Value::Duration(100_000)), None)
    );
    assert_eq!(m.param("local_kthreads").unwrap().default, Value::Bool(true));
    assert!(m.stats.iter().all(|s| s.kind == StatKind::Counter));
    assert_eq!(m.inputs.len(), 2);

    // libbpf 1.7 opens it (skipping the manifest section) and every global
    // the manifest names has the right section and size.
    let checked = Scheduler::check_object(&obj).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked, m);
}

#[test]
fn object_without_manifest_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("plain.bpf.c");
    std::fs::write(&src, "#include \"schedc.bpf.h\"\nu64 x;\n").unwrap();
    let out = dir.path().join("plain.bpf.o");
    common::compile(&src, &out);
    let err = Manifest::from_object(&out).unwrap_err();
    assert!(matches!(err, Error::NotSchedcObject { .. }));
    assert!(err.to_string().contains("is not a scheduler built by schedc"), "{err}");
}

#[test]
fn manifest_symbol_mismatch_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("bad.bpf.c");
    std::fs::write(
        &src,
        r#"#include "schedc.bpf.h"
SCHEDC_MANIFEST("{\"schedc\":1,\"scheduler\":\"bad\",\"params\":[{\"name\":\"n\",\"symbol\":\"n\",\"type\":\"uint\",\"default\":1}]}");
u64 n = 1; /* should be const volatile */
"#,
    )
    .unwrap();
    let out = dir.path().join("bad.bpf.o");
    common::compile(&src, &out);
    let err = Scheduler::check_object(&out).unwrap_err().to_string();
    assert!(err.contains("global n") && err.contains("should be in .rodata"), "{err}");
}
