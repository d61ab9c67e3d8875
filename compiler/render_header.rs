//! Renders `templates/schedc.bpf.h` into `$OUT_DIR/schedc.bpf.h`, filling
//! in the blocks schedc-abi owns (the exit record, the manifest section),
//! so the C and the runtime read one definition.

use std::path::Path;

fn main() {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/schedc.bpf.h");
    println!("cargo:rerun-if-changed={}", template.display());
    let text = std::fs::read_to_string(&template).unwrap_or_else(|e| panic!("{}: {e}", template.display()));
    let header = schedc_abi::c::fill_header(&text).unwrap_or_else(|e| panic!("{}: {e}", template.display()));
    let out = Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("schedc.bpf.h");
    std::fs::write(&out, header).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
