//! `schedc fmt`: rewrites policies in the canonical layout, or with
//! `--check` names those that are not in it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use schedc_compiler::fmt::{format, FormatError};

use crate::error::{self, CliError};

/// What happened to one file.
enum Outcome {
    Unchanged,
    Changed,
    Failed,
}

pub fn fmt(files: &[PathBuf], check: bool) -> ExitCode {
    let mut failed = false;
    for path in files {
        let outcome = if path.as_os_str() == "-" { stdin(check) } else { file(path, check) };
        failed |= match outcome {
            Outcome::Unchanged => false,
            Outcome::Changed => check,
            Outcome::Failed => true,
        };
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The formatted text, or `None` after printing why there is none.
fn formatted(name: &str, src: &str) -> Option<String> {
    match format(name, src) {
        Ok(text) => Some(text),
        Err(FormatError::Syntax(reports)) => {
            for report in reports {
                eprintln!("{:?}", miette::Report::new(report));
            }
            eprintln!("{name}: not formatted: it has syntax errors");
            None
        }
        Err(FormatError::Unstable(what)) => {
            error::print(&CliError::FormatterBug { path: name.into(), what });
            None
        }
    }
}

/// `-`: standard input to standard output; with --check, nothing is
/// written and `<stdin>` is named when it would change.
fn stdin(check: bool) -> Outcome {
    let mut src = String::new();
    if let Err(err) = std::io::stdin().read_to_string(&mut src) {
        error::print(&CliError::ReadPolicy { path: "<stdin>".into(), source: err });
        return Outcome::Failed;
    }
    let Some(text) = formatted("<stdin>", &src) else { return Outcome::Failed };
    if check {
        if text == src {
            return Outcome::Unchanged;
        }
        println!("<stdin>");
        return Outcome::Changed;
    }
    match std::io::stdout().write_all(text.as_bytes()) {
        Ok(()) => Outcome::Unchanged,
        Err(err) => {
            error::print(&CliError::Write { path: "<stdout>".into(), source: err });
            Outcome::Failed
        }
    }
}

fn file(path: &Path, check: bool) -> Outcome {
    let src = match crate::check::read_policy(path) {
        Ok(src) => src,
        Err(err) => {
            error::print(&err);
            return Outcome::Failed;
        }
    };
    let Some(text) = formatted(&path.display().to_string(), &src) else { return Outcome::Failed };
    if text == src {
        return Outcome::Unchanged;
    }
    if check {
        println!("{}", path.display());
        return Outcome::Changed;
    }
    match replace(path, &text) {
        Ok(()) => {
            println!("formatted {}", path.display());
            Outcome::Changed
        }
        Err(err) => {
            error::print(&CliError::Write { path: path.into(), source: err });
            Outcome::Failed
        }
    }
}

/// Writes `text` over `path` at once: into a temporary file beside it, with
/// its permissions, then renamed over it, so a crash leaves one or the other.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new().prefix(".schedc-fmt-").tempfile_in(dir)?;
    temp.write_all(text.as_bytes())?;
    temp.as_file().set_permissions(std::fs::metadata(path)?.permissions())?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
