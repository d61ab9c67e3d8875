//! `schedc check`, and the reading and checking of a policy every
//! subcommand starts with.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use schedc_compiler::{check_source, Checked, Report};

use crate::error::{self, CliError};

/// Reads and checks one policy, printing its warnings, or its errors and
/// warnings, to stderr. Returns the checked policy with its source text.
pub fn load(path: &Path) -> Result<Checked, CliError> {
    let src = std::fs::read_to_string(path).map_err(|source| CliError::ReadPolicy { path: path.into(), source })?;
    match check_source(&path.display().to_string(), &src) {
        Ok(checked) => {
            print_reports(&checked.warnings);
            Ok(checked)
        }
        Err(reports) => {
            print_reports(&reports);
            let errors = reports.iter().filter(|r| r.diagnostic.is_error()).count();
            Err(CliError::PolicyRejected { path: path.into(), errors })
        }
    }
}

fn print_reports(reports: &[Report]) {
    for report in reports {
        eprintln!("{:?}", miette::Report::new(report.clone()));
    }
}

/// Checks every file, printing a summary line for each good one and the
/// errors of the others; fails if any has an error.
pub fn check(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for path in files {
        match load(path) {
            Ok(checked) => println!("{}: {}", path.display(), summary(&checked.model)),
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
