//! `schedc check`, and the reading and checking of a policy every
//! subcommand starts with.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use schedc_compiler::{check_source, Checked};

use crate::error::{self, CliError};
use crate::output::DiagnosticArgs;

/// Reads and checks one policy, printing its warnings, or its errors and
/// warnings, as `out` says. Warnings fail it under `--deny-warnings`.
pub fn load(path: &Path, out: &DiagnosticArgs) -> Result<Checked, CliError> {
    let src = std::fs::read_to_string(path).map_err(|source| CliError::ReadPolicy { path: path.into(), source })?;
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
    let names = |v: Vec<&str>| if v.is_empty() { "none".to_string() } else { v.join(", ") };
    format!(
        "ok: scheduler `{}`; queues: {}; params: {}; classes: {}",
        model.name,
        names(model.queues.iter().map(|q| q.name.as_str()).collect()),
        names(model.params.iter().map(|p| p.name.as_str()).collect()),
        names(model.classes.iter().map(|c| c.name.as_str()).collect()),
    )
}
