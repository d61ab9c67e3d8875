//! What each subcommand does, on top of the compiler and runtime libraries.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use schedc_compiler::{check_source, Checked, Report};

/// Reads and checks one policy, printing its diagnostics to stderr.
fn load(path: &Path) -> Option<Checked> {
    let src = match std::fs::read_to_string(path) {
        Ok(src) => src,
        Err(err) => {
            eprintln!("error: cannot read {}: {err}", path.display());
            return None;
        }
    };
    match check_source(&path.display().to_string(), &src) {
        Ok(checked) => {
            print_reports(&checked.warnings);
            Some(checked)
        }
        Err(reports) => {
            print_reports(&reports);
            let errors = reports.iter().filter(|r| r.diagnostic.is_error()).count();
            eprintln!("{}: {errors} error{}", path.display(), if errors == 1 { "" } else { "s" });
            None
        }
    }
}

fn print_reports(reports: &[Report]) {
    for report in reports {
        eprintln!("{:?}", miette::Report::new(report.clone()));
    }
}

pub fn check(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for path in files {
        match load(path) {
            Some(checked) => println!("{}: {}", path.display(), summary(&checked.model)),
            None => failed = true,
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
