//! The runtime tests' BPF objects, built with the compiler's own steps so
//! they get exactly the flags and header generated schedulers get:
//! `tests/vm/sample.policy` through the whole compiler, `tests/vm/eject.bpf.c`
//! (C that calls scx_bpf_error(), which no policy can) with its manifest
//! rendered by schedc-abi, and plain test C such as the helper tests'.

#![allow(dead_code)] // each test binary uses only some of these

use std::path::{Path, PathBuf};

use schedc_abi::manifest::VERSION;
use schedc_abi::{Manifest, Param, Stat, StatKind, Value, ValueType};
use schedc_compiler::build::{build_object, Clang};

/// `tests/vm/NAME` in the workspace.
pub fn test_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vm").join(name)
}

fn clang() -> Clang {
    Clang::find().unwrap_or_else(|e| panic!("{e}"))
}

/// Compiles the policy at `policy` into the object `out`, as `schedc compile` does.
pub fn compile_policy(policy: &Path, out: &Path) {
    let src = std::fs::read_to_string(policy).unwrap_or_else(|e| panic!("{}: {e}", policy.display()));
    let file_name = policy.file_name().unwrap().to_string_lossy();
    let checked = schedc_compiler::check_source(&file_name, &src).unwrap_or_else(|reports| {
        panic!("{} does not check: {reports:?}", policy.display());
    });
    assert!(checked.warnings.is_empty(), "{}: {:?}", policy.display(), checked.warnings);
    let c = schedc_compiler::generate_c(&checked);
    build_object(&clang(), &checked.model.name, &c, out).unwrap_or_else(|e| panic!("{e}"));
}

/// Builds the hand-written C at `src` (no manifest) into `out`.
pub fn compile(src: &Path, out: &Path) {
    let name = src.file_name().unwrap().to_string_lossy().trim_end_matches(".bpf.c").to_string();
    let text = std::fs::read_to_string(src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    compile_c(&name, &text, None, out);
}

/// Builds C `text` as scheduler `name` into `out`, with the compiler's
/// flags and header, appending `manifest` as schedc-abi renders it for
/// generated schedulers.
pub fn compile_c(name: &str, text: &str, manifest: Option<&Manifest>, out: &Path) {
    let mut text = text.to_string();
    if let Some(manifest) = manifest {
        let literals = schedc_abi::c::manifest_literals(manifest);
        text.push_str(&format!("\nSCHEDC_MANIFEST(\n\t{});\n", literals.join("\n\t")));
    }
    build_object(&clang(), name, &text, out).unwrap_or_else(|e| panic!("{e}"));
}

/// The manifest of `tests/vm/eject.bpf.c`: its parameter and statistic.
pub fn eject_manifest() -> Manifest {
    Manifest {
        version: VERSION,
        scheduler: "eject".into(),
        description: "reports an error after a number of enqueues".into(),
        timeout_ms: 5000,
        params: vec![Param {
            name: "fail_after".into(),
            symbol: "fail_after".into(),
            ty: ValueType::Uint,
            default: Value::Uint(2000),
            min: Some(Value::Uint(1)),
            max: None,
            doc: "enqueues before the error".into(),
        }],
        stats: vec![Stat {
            name: "nr_enqueued".into(),
            symbol: "nr_enqueued".into(),
            kind: StatKind::Counter,
            ty: ValueType::Uint,
            doc: "tasks enqueued".into(),
        }],
        inputs: vec![],
        classes: vec![],
        cpusets: vec![],
    }
}

/// Builds `tests/vm/eject.bpf.c` into `out`, with [`eject_manifest`].
pub fn compile_eject(out: &Path) {
    let src = test_file("eject.bpf.c");
    let text = std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    compile_c("eject", &text, Some(&eject_manifest()), out);
}
