//! Compiling schedc's generated C into a BPF object.
//!
//! The generated C includes `schedc.bpf.h`, which includes libbpf's BPF-side
//! headers (`bpf/bpf_helpers.h`, `bpf/bpf_tracing.h`, `bpf/bpf_core_read.h`).
//! Those come from the libbpf that libbpf-sys vendors (1.7, needed for
//! `bpf_ksym_exists`), not from the host, so the build needs no libbpf-dev
//! and no kernel headers: [`write_include_dir`] lays both out in a directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;

/// The text of `schedc.bpf.h`.
pub const SCHEDC_BPF_H: &str = include_str!("../../templates/schedc.bpf.h");

/// Flags every schedc object is compiled with. `-mcpu=v3` keeps the
/// instruction set loadable on every sched_ext kernel; `-fwrapv` makes
/// signed overflow wrap as the policy language defines it.
pub const CLANG_FLAGS: &[&str] = &[
    "-g",
    "-O2",
    "-target",
    "bpf",
    "-mcpu=v3",
    "-fwrapv",
    "-fno-stack-protector",
    "-D__TARGET_ARCH_x86",
];

/// The clang the build uses: `$SCHEDC_CLANG`, else `clang-19`, else `clang`.
pub fn clang() -> PathBuf {
    if let Some(c) = std::env::var_os("SCHEDC_CLANG") {
        return c.into();
    }
    let versioned = Command::new("clang-19").arg("--version").output().is_ok_and(|o| o.status.success());
    PathBuf::from(if versioned { "clang-19" } else { "clang" })
}

/// Writes `schedc.bpf.h` and libbpf's BPF headers (as `bpf/*.h`) into `dir`;
/// pass `-I dir` to clang.
pub fn write_include_dir(dir: &Path) -> Result<(), Error> {
    let io = |path: PathBuf| move |source| Error::Io { path, source };
    let bpf = dir.join("bpf");
    std::fs::create_dir_all(&bpf).map_err(io(bpf.clone()))?;
    for (name, text) in libbpf_rs::libbpf_sys::API_HEADERS {
        let p = bpf.join(name);
        std::fs::write(&p, text).map_err(io(p.clone()))?;
    }
    let p = dir.join("schedc.bpf.h");
    std::fs::write(&p, SCHEDC_BPF_H).map_err(io(p.clone()))
}

/// Compiles the BPF C file `src` into the object `out`.
pub fn compile(src: &Path, out: &Path) -> Result<(), Error> {
    let inc = tempfile::tempdir().map_err(|source| Error::Io { path: std::env::temp_dir(), source })?;
    write_include_dir(inc.path())?;
    let output = Command::new(clang())
        .args(CLANG_FLAGS)
        .arg("-I")
        .arg(inc.path())
        .arg("-c")
        .arg(src)
        .arg("-o")
        .arg(out)
        .output()
        .map_err(|source| Error::Io { path: clang(), source })?;
    if !output.status.success() {
        return Err(Error::Compile { src: src.into(), stderr: String::from_utf8_lossy(&output.stderr).into_owned() });
    }
    Ok(())
}
