//! Diagnostics as data, for CI systems, editors and the language server:
//! positions as lines and columns, and each diagnostic as one JSON object.

use serde::Serialize;

use crate::ast::Span;
use crate::diag::{Diagnostic, Report, Severity};
use crate::source::Source;

/// A byte span with the lines and columns of both ends.
#[derive(Debug, Clone, Serialize)]
pub struct JsonSpan {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl JsonSpan {
    pub fn new(source: &Source, span: Span) -> Self {
        let ((line, column), (end_line, end_column)) = (source.line_col(span.start), source.line_col(span.end));
        JsonSpan { start: span.start, end: span.end, line, column, end_line, end_column }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonLabel {
    /// The label's text; empty when the place is shown without one.
    pub text: String,
    /// Whether this is the place the diagnostic is about (the first label).
    pub primary: bool,
    pub span: JsonSpan,
}

/// One diagnostic, everything a reader needs without the policy at hand.
#[derive(Debug, Clone, Serialize)]
pub struct JsonDiagnostic {
    /// A stable name for the kind of mistake, e.g. `unknown-name`.
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: &'static str,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub span: JsonSpan,
    pub labels: Vec<JsonLabel>,
    pub help: Option<String>,
}

impl JsonDiagnostic {
    /// `diagnostic`, found in `source`.
    pub fn new(diagnostic: &Diagnostic, source: &Source) -> Self {
        let span = JsonSpan::new(source, diagnostic.span);
        let primary = std::iter::once((diagnostic.span, &diagnostic.label, true));
        let related = diagnostic.related.iter().map(|(span, label)| (*span, label, false));
        let labels = primary
            .chain(related)
            .map(|(span, text, primary)| JsonLabel { text: text.clone(), primary, span: JsonSpan::new(source, span) })
            .collect();
        JsonDiagnostic {
            code: diagnostic.code.as_str(),
            severity: match diagnostic.severity() {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            message: diagnostic.message.clone(),
            file: source.name().to_string(),
            line: span.line,
            column: span.column,
            span,
            labels,
            help: (!diagnostic.help.is_empty()).then(|| diagnostic.help.clone()),
        }
    }

    pub fn from_report(report: &Report) -> Self {
        JsonDiagnostic::new(&report.diagnostic, report.source())
    }

    /// The diagnostic as one line of JSON.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("a diagnostic always serialises")
    }
}
