//! `schedc explain`: a policy in plain sentences.

use std::path::Path;
use std::process::ExitCode;

use schedc_compiler::check_source;

pub fn explain(path: &Path) -> ExitCode {
    let src = match std::fs::read_to_string(path) {
        Ok(src) => src,
        Err(err) => {
            eprintln!("error: cannot read {}: {err}", path.display());
            return ExitCode::FAILURE;
        }
    };
    match check_source(&path.display().to_string(), &src) {
        Ok(checked) => {
            print!("{}", schedc_compiler::explain::explain(&checked, &src));
            ExitCode::SUCCESS
        }
        Err(reports) => {
            for report in reports {
                eprintln!("{:?}", miette::Report::new(report));
            }
            eprintln!("{}: not explained: it does not check", path.display());
            ExitCode::FAILURE
        }
    }
}
