//! Diagnostics as data, for CI systems, editors and the language server:
//! positions as lines and columns, and each diagnostic as one JSON object.

use serde::Serialize;

use crate::ast::Span;
use crate::diag::{Diagnostic, Report, Severity};

/// Finds the line and column of byte offsets in a text.
pub struct LineIndex<'s> {
    src: &'s str,
    line_starts: Vec<usize>,
}

/// A place in a text: 1-based line, and 1-based column counted in
/// characters (what editors show).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl<'s> LineIndex<'s> {
    pub fn new(src: &'s str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { src, line_starts }
    }

    /// The 0-based line of `at` and the byte offset that line starts at.
    fn line_of(&self, at: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= at) - 1;
        (line, self.line_starts[line])
    }

    /// `at` moved back to a character boundary within the text.
    fn clamp(&self, at: usize) -> usize {
        let mut at = at.min(self.src.len());
        while !self.src.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    pub fn position(&self, at: usize) -> Position {
        let at = self.clamp(at);
        let (line, start) = self.line_of(at);
        Position { line: line + 1, column: self.src[start..at].chars().count() + 1 }
    }

    /// 0-based line and 0-based column in UTF-16 code units, as the
    /// language server protocol counts them.
    pub fn utf16_position(&self, at: usize) -> (u32, u32) {
        let at = self.clamp(at);
        let (line, start) = self.line_of(at);
        let column: usize = self.src[start..at].chars().map(char::len_utf16).sum();
        (line as u32, column as u32)
    }

    /// The byte offset of a 0-based line and UTF-16 column (the inverse of
    /// [`Self::utf16_position`]); past the end of a line means its end.
    pub fn offset_of_utf16(&self, line: u32, column: u32) -> usize {
        let Some(&start) = self.line_starts.get(line as usize) else { return self.src.len() };
        let end = self.line_starts.get(line as usize + 1).map_or(self.src.len(), |&e| e);
        let mut units = 0;
        for (i, c) in self.src[start..end].char_indices() {
            if units >= column as usize || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }
}

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
    pub fn new(index: &LineIndex, span: Span) -> Self {
        let (from, to) = (index.position(span.start), index.position(span.end));
        JsonSpan {
            start: span.start,
            end: span.end,
            line: from.line,
            column: from.column,
            end_line: to.line,
            end_column: to.column,
        }
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
    pub fn new(diagnostic: &Diagnostic, file: &str, src: &str) -> Self {
        let index = LineIndex::new(src);
        let span = JsonSpan::new(&index, diagnostic.span);
        let primary = std::iter::once((diagnostic.span, &diagnostic.label, true));
        let related = diagnostic.related.iter().map(|(span, label)| (*span, label, false));
        let labels = primary
            .chain(related)
            .map(|(span, text, primary)| JsonLabel { text: text.clone(), primary, span: JsonSpan::new(&index, span) })
            .collect();
        JsonDiagnostic {
            code: diagnostic.code,
            severity: match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            message: diagnostic.message.clone(),
            file: file.to_string(),
            line: span.line,
            column: span.column,
            span,
            labels,
            help: (!diagnostic.help.is_empty()).then(|| diagnostic.help.clone()),
        }
    }

    pub fn from_report(report: &Report) -> Self {
        JsonDiagnostic::new(&report.diagnostic, report.file_name(), report.source_text())
    }

    /// The diagnostic as one line of JSON.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("a diagnostic always serialises")
    }
}
