//! Builds the hand-written test schedulers with the compiler's own build
//! step, so they get exactly the flags and headers generated ones get.

use std::path::Path;

use schedc_compiler::build::{build_object, Clang};

pub fn compile(src: &Path, out: &Path) {
    let clang = Clang::find().unwrap_or_else(|e| panic!("{e}"));
    let name = src.file_name().unwrap().to_string_lossy().trim_end_matches(".bpf.c").to_string();
    let text = std::fs::read_to_string(src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    build_object(&clang, &name, &text, out).unwrap_or_else(|e| panic!("{e}"));
}
