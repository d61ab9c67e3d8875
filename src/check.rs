//! `schedc check`, and the reading and checking of a policy every
//! subcommand starts with.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use schedc_compiler::{check_source, Checked};

use miette::{NamedSource, SourceSpan};

use crate::error::{self, CliError, NotUtf8};
use crate::output::DiagnosticArgs;

/// Reads and checks one policy, printing its warnings, or its errors and
/// warnings, as `out` says. Warnings fail it under `--deny-warnings`.
pub fn load(path: &Path, out: &DiagnosticArgs) -> Result<Checked, CliError> {
    let src = read_policy(path)?;
    match check_source(&path.display().to_string(), &src) {
        Ok(checked) => {
            out.print_reports(&checked.warnings);
            if out.fails_on(&checked.warnings) {
                return Err(CliError::WarningsDenied { path: path.into(), warnings: checked.warnings.len() });
            }
            Ok(checked)
        }
        Err(reports) => {
            out.print_reports(&reports);
            let errors = reports.iter().filter(|r| r.diagnostic.is_error()).count();
            Err(CliError::PolicyRejected { path: path.into(), errors })
        }
    }
}

/// The text of a policy file, which must be UTF-8.
pub fn read_policy(path: &Path) -> Result<String, CliError> {
    let bytes = std::fs::read(path).map_err(|source| CliError::ReadPolicy { path: path.into(), source })?;
    let binary = if crate::compile::is_bpf_object(&bytes) {
        Some("a BPF object")
    } else if bytes.starts_with(b"\x7fELF") {
        Some("a native ELF file (not BPF)")
    } else if bytes.iter().take(8192).any(|&b| b == 0) {
        Some("a binary file")
    } else {
        None
    };
    if let Some(what) = binary {
        return Err(CliError::NotAPolicy { path: path.into(), what });
    }
    String::from_utf8(bytes).map_err(|err| not_utf8(path, err.as_bytes(), err.utf8_error().valid_up_to()))
}

/// The error for a policy whose byte `at` starts no UTF-8 character: where
/// it is, drawn in the text with the bad bytes replaced, and what the byte
/// is in Latin-1, the likeliest encoding of such a file.
fn not_utf8(path: &Path, bytes: &[u8], at: usize) -> CliError {
    let before = &bytes[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = at - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
    let byte = bytes[at];
    let latin1 = match byte {
        0xA0..=0xFF => format!("; in Latin-1 this byte is `{}`", char::from(byte)),
        _ => String::new(),
    };
    let help =
        format!("save the policy as UTF-8, e.g. `iconv -f latin1 -t utf-8 {0} > {0}.utf8`{latin1}", path.display());
    let text = String::from_utf8_lossy(bytes).into_owned();
    let replacement = char::REPLACEMENT_CHARACTER.len_utf8();
    CliError::NotUtf8(Box::new(NotUtf8 {
        path: path.into(),
        line,
        column,
        byte,
        help,
        text: NamedSource::new(path.display().to_string(), text),
        at: SourceSpan::new(at.into(), replacement),
    }))
}

/// Checks every file, printing a summary line for each good one and the
/// errors of the others; fails if any has an error.
pub fn check(files: &[PathBuf], out: &DiagnosticArgs) -> ExitCode {
    let mut failed = false;
    for path in files {
        match load(path, out) {
            Ok(checked) => out.say(&format!("{}: {}", path.display(), summary(&checked.model))),
            Err(err) => {
                error::print(&err);
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// One line about a good policy: its name and what it declares.
fn summary(model: &schedc_compiler::model::Model) -> String {
    let names = |v: Vec<String>| if v.is_empty() { "none".to_string() } else { v.join(", ") };
    format!(
        "ok: scheduler `{}`; queues: {}; params: {}; classes: {}",
        model.name,
        names(model.queues.iter().map(|q| q.name.clone()).collect()),
        // What `--set` takes: the parameters, then the tunable CPU sets.
        names(
            model
                .params
                .iter()
                .map(|p| p.name.clone())
                .chain(model.cpusets.iter().filter(|c| c.doc.is_some()).map(|c| format!("{} (CPU set)", c.name)))
                .collect()
        ),
        names(model.classes.iter().map(|c| c.name.clone()).collect()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_bytes(bytes: &[u8]) -> Result<String, CliError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.policy");
        std::fs::write(&path, bytes).unwrap();
        read_policy(&path)
    }

    fn elf(machine: u16) -> Vec<u8> {
        let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
        bytes.resize(18, 0);
        bytes.extend(machine.to_le_bytes());
        bytes.resize(64, 0);
        bytes
    }

    #[test]
    fn a_binary_file_is_named_for_what_it_is() {
        let what = |bytes: &[u8]| match read_bytes(bytes) {
            Err(CliError::NotAPolicy { what, .. }) => what,
            other => panic!("{other:?}"),
        };
        assert_eq!(what(&elf(247)), "a BPF object");
        assert_eq!(what(&elf(62)), "a native ELF file (not BPF)");
        assert_eq!(what(b"scheduler x \"x\"\n\0\x01"), "a binary file");
        assert!(matches!(read_bytes(b"caf\xe9\n"), Err(CliError::NotUtf8(_))));
        assert_eq!(read_bytes(b"scheduler x \"x\"\n").unwrap(), "scheduler x \"x\"\n");
    }

    #[test]
    fn the_summary_lists_what_set_takes() {
        let src = "scheduler s \"s\"\nparam n: uint = 1 \"n\"\ncpuset fixed = 0\ncpuset tuned = 0-1 \"cpus\"\n\
                   queue q shared fifo\nenqueue {\n    n > 0 and cpu in fixed and cpu in tuned -> q\n    else -> q\n}\n\
                   dispatch {\n    q\n}\n";
        let checked = schedc_compiler::check_source("s.policy", src).expect("checks");
        assert_eq!(summary(&checked.model), "ok: scheduler `s`; queues: q; params: n, tuned (CPU set); classes: none");
    }

    #[test]
    fn an_unreadable_path_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let shown = error::render(&read_policy(dir.path()).unwrap_err());
        assert!(shown.contains("help: give a file in it, such as"), "{shown}");
        let shown = error::render(&read_policy(&dir.path().join("gone.policy")).unwrap_err());
        assert!(shown.contains("help: check the path: no file is there"), "{shown}");
    }
}
