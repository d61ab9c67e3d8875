//! How long compiling a policy takes (`cargo bench`), measured with divan,
//! which prints the fastest, slowest, median and mean time of each.
//!
//! - `front_end::policy`: parse + check + lower + render of each shipped
//!   policy (`policies/*.policy`). Target: under 5 ms for every one.
//! - `build::schedc` against `build::clang_alone`: a whole `schedc compile`
//!   (rendering plus `build::build_object`, which writes the C and our header
//!   to a temporary directory and runs clang through libbpf-cargo, then
//!   libbpf's linker), against clang alone on the same C with the same
//!   flags. Target: `schedc` under 1.1 times `clang_alone`, i.e. schedc adds
//!   less than 10% to what clang takes anyway.
//!
//! The builds take 10 samples each; `cargo bench -- --sample-count 20` takes
//! more. Without clang the build benchmarks are skipped with a `SKIPPED:` line.

use std::path::{Path, PathBuf};
use std::process::Command;

use divan::Bencher;
use schedc_compiler::build::{build_object, Clang, CLANG_ARGS, SCHEDC_BPF_H};
use schedc_compiler::{check_source, generate_c, Checked};

const POLICY: &str = "policies/bpfland.policy";

fn main() {
    let mut divan = divan::Divan::from_args();
    if let Err(e) = Clang::find() {
        schedc_testkit::skip_or_fail(format!("the build benchmarks need clang: {e}"));
        divan = divan.skip_regex("build::");
    }
    divan.main();
}

fn read_policy(path: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(root.join(path)).expect("the policy is readable")
}

fn policy_source() -> String {
    read_policy(POLICY)
}

/// Every policy in `policies/`, by path from the workspace root.
fn shipped_policies() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("policies/ is readable")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".policy"))
        .map(|n| format!("policies/{n}"))
        .collect();
    names.sort();
    names
}

/// Parse, check, lower and render once.
fn front_end(path: &str, src: &str) -> (Checked, String) {
    let checked = check_source(path, src).unwrap_or_else(|_| panic!("{path} checks"));
    let c = generate_c(&checked);
    (checked, c)
}

mod front_end {
    use super::*;

    #[divan::bench(args = shipped_policies())]
    fn policy(bencher: Bencher, path: &str) {
        let src = read_policy(path);
        bencher.bench(|| front_end(path, divan::black_box(&src)));
    }
}

mod build {
    use super::*;

    fn clang() -> Clang {
        Clang::find().expect("main skips the build benchmarks without clang")
    }

    /// Rendering and `build_object`, as `schedc compile` does them.
    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn schedc(bencher: Bencher) {
        let (clang, src) = (clang(), policy_source());
        let (checked, _) = front_end(POLICY, &src);
        let out_dir = tempfile::tempdir().expect("temporary directory");
        let out = out_dir.path().join(format!("{}.bpf.o", checked.model.name));
        bencher.bench(|| {
            let c = generate_c(&checked);
            build_object(&clang, &checked.model.name, &c, &out).expect("build_object");
        });
    }

    /// clang alone on the same C, with the flags `build_object` passes.
    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn clang_alone(bencher: Bencher) {
        let clang = clang();
        let (checked, c) = front_end(POLICY, &policy_source());
        let alone = ClangAlone::new(&checked.model.name, &c);
        bencher.bench(|| alone.run(&clang.path));
    }
}

/// The `-D__TARGET_ARCH_…` libbpf-cargo adds for this machine.
fn target_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86",
        "aarch64" => "arm64",
        "powerpc64" => "powerpc",
        "s390x" => "s390",
        "riscv64" => "riscv",
        "loongarch64" => "loongarch",
        "sparc64" => "sparc",
        "mips64" => "mips",
        other => other,
    }
}

/// A directory laid out as `build_object` lays out its own: the C and
/// `schedc.bpf.h` side by side, and libbpf's headers under `include/bpf/`.
struct ClangAlone {
    _dir: tempfile::TempDir,
    c_path: PathBuf,
    obj: PathBuf,
    args: Vec<String>,
}

impl ClangAlone {
    fn new(name: &str, c: &str) -> ClangAlone {
        let dir = tempfile::Builder::new().prefix("schedc-bench-").tempdir().expect("temporary directory");
        let c_path = dir.path().join(format!("{name}.bpf.c"));
        std::fs::write(&c_path, c).expect("write the C");
        std::fs::write(dir.path().join("schedc.bpf.h"), SCHEDC_BPF_H).expect("write the header");
        let include = dir.path().join("include");
        std::fs::create_dir_all(include.join("bpf")).expect("header directory");
        for (file, contents) in libbpf_rs::libbpf_sys::API_HEADERS.iter() {
            std::fs::write(include.join("bpf").join(file), contents).expect("write a libbpf header");
        }
        // The order libbpf-cargo uses: our arguments, its include directory,
        // -fno-stack-protector and the arch, then -g -O2 -target bpf -c.
        let mut args: Vec<String> = CLANG_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("-I{}", dir.path().display()));
        args.extend(["-I".to_string(), include.display().to_string()]);
        args.push("-fno-stack-protector".to_string());
        args.push(format!("-D__TARGET_ARCH_{}", target_arch()));
        args.extend(["-g", "-O2", "-target", "bpf", "-c"].map(String::from));
        let obj = dir.path().join(format!("{name}.bpf.o"));
        ClangAlone { _dir: dir, c_path, obj, args }
    }

    fn run(&self, clang: &Path) {
        let out = Command::new(clang)
            .args(&self.args)
            .arg(&self.c_path)
            .arg("-o")
            .arg(&self.obj)
            .output()
            .expect("clang runs");
        assert!(out.status.success(), "clang alone failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
}
