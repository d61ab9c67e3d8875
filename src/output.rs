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

/// At most this many diagnostics of a policy are drawn; the others are
/// counted on one line.
const MOST_DRAWN: usize = 100;

impl DiagnosticArgs {
    /// Prints the diagnostics of a policy: every one as JSON, or the first
    /// [`MOST_DRAWN`] drawn and a count of the rest.
    pub fn print_reports(&self, reports: &[Report]) {
        match self.message_format {
            MessageFormat::Human => {
                let drawn = first_to_draw(reports, MOST_DRAWN);
                for report in &drawn {
                    eprintln!("{:?}", miette::Report::new((*report).clone()));
                }
                if let Some(line) = not_drawn(reports, drawn.len()) {
                    eprintln!("{line}");
                }
            }
            MessageFormat::Json => {
                for report in reports {
                    println!("{}", JsonDiagnostic::from_report(report).to_json_line());
                }
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

/// The reports worth drawing when there are too many: the errors first,
/// then the earliest warnings, at most `most` in all, in their order.
fn first_to_draw(reports: &[Report], most: usize) -> Vec<&Report> {
    let errors = reports.iter().filter(|r| r.diagnostic.is_error()).count().min(most);
    let mut warnings = most - errors;
    let mut errors = errors;
    reports
        .iter()
        .filter(|r| {
            let budget = if r.diagnostic.is_error() { &mut errors } else { &mut warnings };
            let keep = *budget > 0;
            *budget = budget.saturating_sub(1);
            keep
        })
        .collect()
}

/// The line that closes a list of reports cut short: how many errors and
/// warnings were left out, and how to see them all.
fn not_drawn(reports: &[Report], drawn: usize) -> Option<String> {
    if drawn == reports.len() {
        return None;
    }
    let count = |errors: bool| reports.iter().filter(|r| r.diagnostic.is_error() == errors).count();
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let in_all: Vec<String> = [(count(true), "error"), (count(false), "warning")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| plural(n, what))
        .collect();
    Some(format!(
        "... and {} more not drawn: {} in all (`--message-format json` lists every one)",
        reports.len() - drawn,
        in_all.join(" and "),
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use schedc_compiler::ast::Span;
    use schedc_compiler::{Code, Diagnostic, Report, Source};

    use super::{first_to_draw, not_drawn};

    fn reports(codes: &[Code]) -> Vec<Report> {
        let source = Arc::new(Source::new("t.policy", "x"));
        codes.iter().map(|&c| Report::new(Diagnostic::new(c, Span::new(0, 1), "m"), Arc::clone(&source))).collect()
    }

    #[test]
    fn a_short_list_is_drawn_whole() {
        let all = reports(&[Code::Unused, Code::Syntax]);
        assert_eq!(first_to_draw(&all, 2).len(), 2);
        assert_eq!(not_drawn(&all, 2), None);
    }

    #[test]
    fn errors_are_drawn_before_warnings_and_the_rest_counted() {
        let mut codes = vec![Code::Unused; 5];
        codes.push(Code::Syntax);
        let all = reports(&codes);
        let drawn = first_to_draw(&all, 3);
        let kinds: Vec<bool> = drawn.iter().map(|r| r.diagnostic.is_error()).collect();
        assert_eq!(kinds, [false, false, true], "two warnings, then the error, in order");
        assert_eq!(
            not_drawn(&all, drawn.len()).as_deref(),
            Some("... and 3 more not drawn: 1 error and 5 warnings in all (`--message-format json` lists every one)")
        );
    }
}
