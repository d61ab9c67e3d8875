//! How `check` and `compile` report diagnostics: drawn for people on
//! stderr, or one JSON object per line on stdout for machines.

use schedc_compiler::diag_json::JsonDiagnostic;
use schedc_compiler::Report;

#[derive(Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    /// Diagnostics drawn with the policy's lines, on stderr.
    #[default]
    Human,
    /// One JSON object per diagnostic and line, on stdout; everything
    /// else goes to stderr.
    Json,
}

/// The diagnostic options of `check` and `compile`.
#[derive(Clone, Copy, Default, clap::Args)]
pub struct DiagnosticArgs {
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
    /// Fail on warnings as on errors.
    #[arg(long)]
    pub deny_warnings: bool,
}

impl DiagnosticArgs {
    pub fn print_reports(&self, reports: &[Report]) {
        for report in reports {
            match self.message_format {
                MessageFormat::Human => eprintln!("{:?}", miette::Report::new(report.clone())),
                MessageFormat::Json => println!("{}", JsonDiagnostic::from_report(report).to_json_line()),
            }
        }
    }

    /// A line of progress (`ok: ...`, `wrote ...`): on stdout, unless stdout
    /// carries JSON.
    pub fn say(&self, line: &str) {
        match self.message_format {
            MessageFormat::Human => println!("{line}"),
            MessageFormat::Json => eprintln!("{line}"),
        }
    }

    /// Whether warnings this policy has make it fail.
    pub fn fails_on(&self, warnings: &[Report]) -> bool {
        self.deny_warnings && !warnings.is_empty()
    }
}
