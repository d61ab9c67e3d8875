//! `schedc explain`: a policy in plain sentences.

use std::path::Path;
use std::process::ExitCode;

use crate::check::load;
use crate::error::CliError;
use crate::output::DiagnosticArgs;

pub fn explain(path: &Path) -> Result<ExitCode, CliError> {
    let checked = load(path, &DiagnosticArgs::default())?;
    print!("{}", schedc_compiler::explain::explain(&checked));
    Ok(ExitCode::SUCCESS)
}
