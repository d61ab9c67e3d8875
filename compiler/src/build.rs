//! Building: generated C to a BPF object with clang, through libbpf-cargo.
//!
//! The C is written into a private temporary directory beside our own
//! header; libbpf-cargo adds libbpf's BPF headers (from the libbpf that
//! libbpf-sys vendors), `-fno-stack-protector` and the target arch.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The header every generated scheduler includes: `templates/schedc.bpf.h`
/// with the C side of the schedc-abi contract filled in (`render_header.rs`).
pub const SCHEDC_BPF_H: &str = include_str!(concat!(env!("OUT_DIR"), "/schedc.bpf.h"));

/// Beyond libbpf-cargo's `-g -O2 -target bpf`: the v3 instruction set loads
/// on every sched_ext kernel, `-fwrapv` gives signed overflow the wrapping
/// meaning the policy language defines, and `-ffreestanding` frees names
/// such as `exit` or `index` from their C library meaning.
pub const CLANG_ARGS: &[&str] =
    &["-mcpu=v3", "-fwrapv", "-ffreestanding", "-Wall", "-Werror=implicit-function-declaration"];

/// Older clang truncates 64-bit enum values, which sched_ext's DSQ ids need.
const MIN_CLANG_MAJOR: u32 = 16;

/// Why a checked policy did not become an object.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BuildError {
    /// No usable clang was found.
    #[error("{}", no_clang_message(too_old))]
    #[diagnostic(code("schedc::no-clang"))]
    NoClang { tried: Vec<String>, too_old: Vec<(String, u32)> },
    /// `$CLANG` names a program that cannot be run as clang.
    #[error("$CLANG is {clang}, which {problem}: point $CLANG at clang {MIN_CLANG_MAJOR} or newer, or unset it to use the clang on PATH.")]
    #[diagnostic(code("schedc::bad-clang-env"))]
    BadClangEnv { clang: String, problem: String },
    /// Clang rejected C that schedc generated from a checked policy.
    #[error(
        "clang rejected the C that schedc generated from a policy that passed its checks; this is a bug in schedc. \
         The C file is kept at {} for a bug report. Clang said:\n{clang_output}",
        kept_c.display()
    )]
    #[diagnostic(code("schedc::clang-rejected"))]
    CompilerBug { kept_c: PathBuf, clang_output: String },
    /// A callback grew longer than a BPF jump can span.
    #[error(
        "The policy makes one BPF callback longer than a BPF jump can span (32,767 instructions), so clang cannot \
         build it; the C is kept at {}.",
        kept_c.display()
    )]
    #[diagnostic(
        code("schedc::too-long"),
        help("use fewer rules or queues in one block (each enqueue route and each queue served adds code to its callback)")
    )]
    TooLong { kept_c: PathBuf },
    /// A file of the build could not be written or read.
    #[error("The build could not write or read {}.", path.display())]
    #[diagnostic(code("schedc::build-io"))]
    Io { path: PathBuf, source: std::io::Error },
}

/// Names the clang that was too old, if that is why none was usable.
fn no_clang_message(too_old: &[(String, u32)]) -> String {
    match too_old.first() {
        Some((name, major)) => format!(
            "{name} is version {major}, but schedc needs clang {MIN_CLANG_MAJOR} or newer: \
             install one with `apt-get install clang-19`, or point $CLANG at it."
        ),
        None => format!(
            "No clang found: install it with `apt-get install clang-19`, or point $CLANG at a clang \
             {MIN_CLANG_MAJOR} or newer."
        ),
    }
}

/// A clang that can build BPF objects.
#[derive(Debug, Clone)]
pub struct Clang {
    pub path: PathBuf,
    pub major: u32,
}

impl Clang {
    /// `$CLANG` if set, else the first of `clang`, `clang-N` (newest first)
    /// on PATH that is version 16 or newer.
    pub fn find() -> Result<Clang, BuildError> {
        match std::env::var("CLANG") {
            Ok(c) if !c.is_empty() => Clang::named(&c),
            _ => Clang::first_on_path(),
        }
    }

    /// The clang `$CLANG` names: one that is missing, or is not clang, is
    /// reported as such rather than as no clang at all.
    fn named(name: &str) -> Result<Clang, BuildError> {
        let problem = match clang_version(name) {
            Ok(Some(major)) if major >= MIN_CLANG_MAJOR => return Ok(Clang { path: PathBuf::from(name), major }),
            Ok(Some(major)) => {
                return Err(BuildError::NoClang { tried: vec![name.into()], too_old: vec![(name.into(), major)] })
            }
            Ok(None) => "does not say it is clang when asked for --version".to_string(),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => "does not exist".to_string(),
            Err(err) => format!("cannot be run ({err})"),
        };
        Err(BuildError::BadClangEnv { clang: name.into(), problem })
    }

    /// The first of `clang`, `clang-N` (newest first) on PATH that is
    /// version 16 or newer.
    fn first_on_path() -> Result<Clang, BuildError> {
        let candidates: Vec<String> = std::iter::once("clang".to_string())
            .chain((MIN_CLANG_MAJOR..=30).rev().map(|v| format!("clang-{v}")))
            .collect();
        let mut too_old = Vec::new();
        for name in &candidates {
            let Ok(Some(major)) = clang_version(name) else { continue };
            if major >= MIN_CLANG_MAJOR {
                return Ok(Clang { path: PathBuf::from(name), major });
            }
            too_old.push((name.clone(), major));
        }
        Err(BuildError::NoClang { tried: candidates, too_old })
    }
}

/// The major version `name --version` reports; `None` if it runs but names
/// no clang version, an error if it does not run.
fn clang_version(name: &str) -> std::io::Result<Option<u32>> {
    let out = Command::new(name).arg("--version").output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let major = text
        .find("clang version ")
        .and_then(|at| text[at + "clang version ".len()..].split('.').next()?.trim().parse().ok());
    Ok(major)
}

/// Builds the C `source` of scheduler `name` into the object `out`.
pub fn build_object(clang: &Clang, name: &str, source: &str, out: &Path) -> Result<(), BuildError> {
    build_with(clang, name, source, out, &[])
}

/// [`build_object`] with every clang warning an error, for the tests:
/// generated C has no unused variable, no dead code clang can see.
pub fn build_object_without_warnings(clang: &Clang, name: &str, source: &str, out: &Path) -> Result<(), BuildError> {
    build_with(clang, name, source, out, &["-Werror"])
}

fn build_with(clang: &Clang, name: &str, source: &str, out: &Path, extra: &[&str]) -> Result<(), BuildError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Io { path, source }
    };
    let dir = tempfile::Builder::new().prefix("schedc-build-").tempdir().map_err(io(&std::env::temp_dir()))?;
    let c_path = dir.path().join(format!("{name}.bpf.c"));
    std::fs::write(&c_path, source).map_err(io(&c_path))?;
    let header = dir.path().join("schedc.bpf.h");
    std::fs::write(&header, SCHEDC_BPF_H).map_err(io(&header))?;
    let obj = dir.path().join(format!("{name}.bpf.o"));

    let mut args: Vec<String> = CLANG_ARGS.iter().chain(extra).map(|s| s.to_string()).collect();
    args.push(format!("-I{}", dir.path().display()));
    let built =
        libbpf_cargo::SkeletonBuilder::new().source(&c_path).obj(&obj).clang(&clang.path).clang_args(&args).build();
    if let Err(err) = built {
        let kept = keep_c(name, source)?;
        let clang_output = format!("{err:#}");
        // LLVM's BPF backend gives up when a branch offset does not fit
        // the instruction's 16 bits.
        if clang_output.contains("Branch target out of insn range") {
            return Err(BuildError::TooLong { kept_c: kept });
        }
        return Err(BuildError::CompilerBug { kept_c: kept, clang_output });
    }
    // Write beside the destination, then rename: a failed build never
    // leaves half an object at `out`, and no other file is touched.
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // Like any compiler's output, the object follows the umask (the
    // staging file would otherwise keep tempfile's private 0600).
    let mut staging = tempfile::Builder::new()
        .prefix(".schedc-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(parent)
        .map_err(io(parent))?;
    let bytes = std::fs::read(&obj).map_err(io(&obj))?;
    std::io::Write::write_all(&mut staging, &bytes).map_err(io(staging.path()))?;
    staging.persist(out).map_err(|e| BuildError::Io { path: out.to_path_buf(), source: e.error })?;
    Ok(())
}

/// Keeps a copy of generated C that clang rejected, for a bug report.
fn keep_c(name: &str, source: &str) -> Result<PathBuf, BuildError> {
    let file = tempfile::Builder::new()
        .prefix(&format!("schedc-{name}-"))
        .suffix(".bpf.c")
        .tempfile()
        .map_err(|source| BuildError::Io { path: std::env::temp_dir(), source })?;
    std::fs::write(file.path(), source).map_err(|e| BuildError::Io { path: file.path().to_path_buf(), source: e })?;
    let (_, path) = file.keep().map_err(|e| BuildError::Io { path: std::env::temp_dir(), source: e.error })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_c_is_kept_and_called_a_bug() {
        let clang = match Clang::find() {
            Ok(clang) => clang,
            Err(e) => return schedc_testkit::skip_or_fail(e),
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("broken.bpf.o");
        let err = build_object(&clang, "broken", "#include \"schedc.bpf.h\"\nint f( {\n", &out).unwrap_err();
        let BuildError::CompilerBug { kept_c, clang_output } = &err else { panic!("{err}") };
        assert!(std::fs::read_to_string(kept_c).unwrap().contains("int f( {"));
        assert!(clang_output.contains("error"), "{clang_output}");
        assert!(err.to_string().contains("this is a bug in schedc"), "{err}");
        assert!(!out.exists(), "no half-written object");
        std::fs::remove_file(kept_c).unwrap();
    }

    #[test]
    fn a_callback_too_long_to_branch_over_is_named() {
        let clang = match Clang::find() {
            Ok(clang) => clang,
            Err(e) => return schedc_testkit::skip_or_fail(e),
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("long.bpf.o");
        // One branch over 40,000 instructions.
        let body = "asm volatile(\"r0 = 0\");\n".repeat(40_000);
        let c = format!("#include \"schedc.bpf.h\"\nint f(int x)\n{{\n\tif (x) {{\n{body}\t}}\n\treturn x;\n}}\n");
        let err = build_object(&clang, "long", &c, &out).unwrap_err();
        let BuildError::TooLong { kept_c } = &err else { panic!("{err}") };
        assert!(err.to_string().contains("longer than a BPF jump can span"), "{err}");
        assert!(!out.exists(), "no half-written object");
        std::fs::remove_file(kept_c).unwrap();
    }

    #[test]
    fn a_clang_env_that_names_no_clang_says_so() {
        let err = Clang::named("/nonexistent/clang-99").unwrap_err();
        assert!(matches!(&err, BuildError::BadClangEnv { problem, .. } if problem == "does not exist"), "{err}");
        assert!(err.to_string().starts_with("$CLANG is /nonexistent/clang-99, which does not exist: "), "{err}");
        let err = Clang::named("true").unwrap_err();
        assert!(err.to_string().contains("which does not say it is clang"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = Clang::named(&dir.path().display().to_string()).unwrap_err();
        assert!(err.to_string().contains("which cannot be run"), "{err}");
    }

    #[test]
    fn missing_clang_says_how_to_install_it() {
        let err = BuildError::NoClang { tried: vec!["clang".into()], too_old: vec![] };
        assert!(err.to_string().contains("apt-get install clang-19"), "{err}");
        let old = BuildError::NoClang { tried: vec!["clang".into()], too_old: vec![("clang".into(), 14)] };
        assert!(old.to_string().contains("version 14"), "{old}");
    }
}
