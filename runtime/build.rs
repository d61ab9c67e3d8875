//! Builds the latency probe (`src/bpf/latency.bpf.c`) into
//! `$OUT_DIR/latency.bpf.o`, which the runtime embeds. Clang is found as for
//! schedulers (`$CLANG`, else `clang`, else the newest `clang-N`, version 16
//! or newer) and gets the same flags. No skeleton: the runtime opens the
//! object with libbpf-rs like it opens schedulers, and owns it without the
//! borrowed storage a skeleton needs.

use std::path::PathBuf;

use schedc_compiler::build::{Clang, CLANG_ARGS};

const SOURCE: &str = "src/bpf/latency.bpf.c";

fn main() {
    println!("cargo:rerun-if-changed=src/bpf");
    println!("cargo:rerun-if-env-changed=CLANG");
    let clang = Clang::find().unwrap_or_else(|e| panic!("cannot build the latency probe: {e}"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("latency.bpf.o");
    libbpf_cargo::SkeletonBuilder::new()
        .source(SOURCE)
        .obj(&out)
        .clang(&clang.path)
        .clang_args(CLANG_ARGS)
        .build()
        .unwrap_or_else(|e| panic!("cannot build the latency probe {SOURCE}: {e:#}"));
}
