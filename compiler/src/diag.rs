//! Diagnostics: what the parser and the checker say about a policy.
//!
//! Every diagnostic points at the text it is about and carries a help line
//! that says how to fix it. They are plain data here; [`Report`] attaches the
//! source so miette can draw them with file, line and column.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceCode};

use crate::ast::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable name for the kind of mistake, e.g. `unknown-name`.
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    pub label: String,
    pub help: String,
    /// Other places worth showing, such as the first declaration of a duplicate.
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: String::new(),
            help: String::new(),
            related: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, span, message) }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    pub fn related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A diagnostic together with the policy text it points into.
#[derive(Debug, Clone)]
pub struct Report {
    pub diagnostic: Diagnostic,
    source: Arc<NamedSource<String>>,
}

impl Report {
    pub fn new(diagnostic: Diagnostic, source: Arc<NamedSource<String>>) -> Self {
        Report { diagnostic, source }
    }

    /// The name of the file the report points into.
    pub fn file_name(&self) -> &str {
        self.source.name()
    }

    /// The text of the file the report points into.
    pub fn source_text(&self) -> &str {
        self.source.inner()
    }

    /// The report drawn as a terminal would show it, without colour; used by
    /// the CLI when stderr is not a terminal and by the snapshot tests.
    pub fn render_plain(&self, width: usize) -> String {
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(width)
            .with_links(false);
        let mut out = String::new();
        handler.render_report(&mut out, self).expect("writing to a String cannot fail");
        out
    }
}

/// miette cannot draw a label much more than 65535 columns into a line (its
/// padding is a formatting width, and Rust refuses wider ones with a panic).
/// A report pointing that far right is drawn without its snippet, with the
/// location in the message instead. Tabs draw 4 columns wide, wide characters
/// 2, so 10000 bytes stay well clear of the limit.
const MAX_DRAWN_COLUMN: usize = 10_000;

impl Report {
    /// The byte column of `at` within its line.
    fn column(&self, at: usize) -> usize {
        let bytes = self.source.inner().as_bytes();
        let at = at.min(bytes.len());
        at - bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
    }

    /// Whether miette can draw the snippet of this report.
    fn drawable(&self) -> bool {
        let d = &self.diagnostic;
        std::iter::once(&d.span)
            .chain(d.related.iter().map(|(s, _)| s))
            .all(|s| self.column(s.start) <= MAX_DRAWN_COLUMN && self.column(s.end) <= MAX_DRAWN_COLUMN)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)?;
        if !self.drawable() {
            let src = self.source.inner();
            let at = self.diagnostic.span.start.min(src.len());
            let line = src.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = at - self.column(at);
            let column = src.get(line_start..at).map_or(at - line_start, |s| s.chars().count()) + 1;
            write!(f, " [{}:{line}:{column}] (the line is too long to show)", self.source.name())?;
        }
        Ok(())
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("schedc::{}", self.diagnostic.code)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.diagnostic.help.is_empty() {
            None
        } else {
            Some(Box::new(&self.diagnostic.help))
        }
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        if !self.drawable() {
            return None;
        }
        Some(&*self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if !self.drawable() {
            return None;
        }
        let d = &self.diagnostic;
        let primary = LabeledSpan::new_primary_with_span(non_empty(&d.label), d.span);
        let others = d.related.iter().map(|(span, label)| LabeledSpan::new_with_span(non_empty(label), *span));
        Some(Box::new(std::iter::once(primary).chain(others)))
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}
