//! How long compiling a policy takes (`cargo bench`).
//!
//! (a) The front end and code generation: parse + check + lower + render of
//!     `policies/bpfland.policy`, averaged over many runs. Target: < 5 ms.
//! (b) A whole `schedc compile`: rendering plus `build::build_object` (which
//!     writes the C and our header to a temporary directory and runs clang
//!     through libbpf-cargo, then libbpf's linker), against clang alone on
//!     the same C with the same flags. Target: < 1.1x, i.e. schedc adds less
//!     than 10% to what clang takes anyway.
//!
//! Plain `std::time::Instant`; the numbers are printed with PASS or MISS.
//! `SCHEDC_BENCH_RUNS` sets the runs of (b) (default 10, at least 10).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use schedc_compiler::build::{build_object, Clang, CLANG_ARGS, SCHEDC_BPF_H};
use schedc_compiler::{check_source, generate_c};

const POLICY: &str = "policies/bpfland.policy";
const FRONT_END_RUNS: u32 = 500;
const FRONT_END_TARGET_MS: f64 = 5.0;
const BUILD_TARGET_RATIO: f64 = 1.1;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "MISS"
    }
}

/// Parse, check, lower and render once.
fn front_end(src: &str) -> String {
    let checked = check_source(POLICY, src).expect("bpfland checks");
    generate_c(&checked)
}

fn bench_front_end(src: &str) {
    for _ in 0..20 {
        std::hint::black_box(front_end(src));
    }
    let mut times = Vec::with_capacity(FRONT_END_RUNS as usize);
    for _ in 0..FRONT_END_RUNS {
        let start = Instant::now();
        std::hint::black_box(front_end(std::hint::black_box(src)));
        times.push(start.elapsed());
    }
    let mean = ms(times.iter().sum::<Duration>()) / f64::from(FRONT_END_RUNS);
    times.sort();
    let median = ms(times[times.len() / 2]);
    let p95 = ms(times[times.len() * 95 / 100]);
    println!(
        "(a) parse+check+render {POLICY}: mean {mean:.3} ms, median {median:.3} ms, p95 {p95:.3} ms over {FRONT_END_RUNS} runs \
         (target < {FRONT_END_TARGET_MS} ms): {}",
        verdict(mean < FRONT_END_TARGET_MS)
    );
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

fn bench_build(src: &str) {
    let clang = match Clang::find() {
        Ok(clang) => clang,
        Err(e) => {
            println!("(b) skipped: {e}");
            return;
        }
    };
    let runs: u32 = std::env::var("SCHEDC_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(10).max(10);
    let checked = check_source(POLICY, src).expect("bpfland checks");
    let name = checked.model.name.clone();
    let c = generate_c(&checked);
    let alone = ClangAlone::new(&name, &c);
    let out_dir = tempfile::tempdir().expect("temporary directory");
    let out = out_dir.path().join(format!("{name}.bpf.o"));
    let whole = || {
        let c = generate_c(&checked);
        build_object(&clang, &name, &c, &out).expect("build_object");
    };
    // One of each first, so that caches are warm for both.
    whole();
    alone.run(&clang.path);
    // Interleaved, so that a slow spell of the machine hits both.
    let (mut t_whole, mut t_alone) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        whole();
        t_whole.push(start.elapsed());
        let start = Instant::now();
        alone.run(&clang.path);
        t_alone.push(start.elapsed());
    }
    let mean = |t: &[Duration]| ms(t.iter().sum::<Duration>()) / t.len() as f64;
    let min = |t: &[Duration]| ms(*t.iter().min().expect("runs"));
    let (whole_ms, alone_ms) = (mean(&t_whole), mean(&t_alone));
    let ratio = whole_ms / alone_ms;
    println!(
        "(b) {} (clang {}), {runs} runs each: render + build_object mean {whole_ms:.1} ms (min {:.1}), \
         clang alone mean {alone_ms:.1} ms (min {:.1})",
        clang.path.display(),
        clang.major,
        min(&t_whole),
        min(&t_alone)
    );
    println!("(b) ratio {ratio:.3}x (target < {BUILD_TARGET_RATIO}x): {}", verdict(ratio < BUILD_TARGET_RATIO));
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(root.join(POLICY)).expect("the policy is readable");
    bench_front_end(&src);
    bench_build(&src);
}
