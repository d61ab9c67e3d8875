//! Diagnostics: what the parser and the checker say about a policy.
//!
//! Every diagnostic points at the text it is about and carries a help line
//! that says how to fix it. They are plain data here; [`Report`] attaches the
//! source so miette can draw them with file, line and column. Each has a
//! [`Code`], which decides whether it is an error or a warning.

mod code;
mod excerpt;

use std::fmt;
use std::sync::{Arc, OnceLock};

use miette::{LabeledSpan, SourceCode};

use crate::ast::Span;
use crate::source::Source;

pub use code::Code;
use excerpt::Excerpt;

/// The help of every `too-deep` report, from the parser or the checker.
pub(crate) const TOO_DEEP_HELP: &str =
    "split it into named parts: a `fn` (usable anywhere, rules included) or, where statements are allowed, a `let`";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// The kind of mistake, e.g. `unknown-name`.
    pub code: Code,
    pub message: String,
    pub span: Span,
    pub label: String,
    pub help: String,
    /// Other places worth showing, such as the first declaration of a duplicate.
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            span,
            label: String::new(),
            help: String::new(),
            related: Vec::new(),
        }
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

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// A diagnostic together with the policy text it points into.
#[derive(Debug, Clone)]
pub struct Report {
    pub diagnostic: Diagnostic,
    source: Arc<Source>,
    /// The policy's lines cut around the labels, when a line drawn is long;
    /// made when the report is first drawn.
    excerpt: OnceLock<Option<Arc<Excerpt>>>,
}

impl Report {
    pub fn new(diagnostic: Diagnostic, source: Arc<Source>) -> Self {
        Report { diagnostic, source, excerpt: OnceLock::new() }
    }

    /// The policy the report points into.
    pub fn source(&self) -> &Source {
        &self.source
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

    fn spans(&self) -> impl Iterator<Item = Span> + '_ {
        let d = &self.diagnostic;
        std::iter::once(d.span).chain(d.related.iter().map(|(s, _)| *s))
    }

    fn excerpt(&self) -> Option<&Excerpt> {
        self.excerpt
            .get_or_init(|| Excerpt::cut(&self.source, &self.spans().collect::<Vec<_>>()).map(Arc::new))
            .as_deref()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("schedc::{}", self.diagnostic.code)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity() {
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
        match self.excerpt() {
            Some(excerpt) => Some(excerpt),
            None => Some(&*self.source),
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let excerpt = self.excerpt();
        let drawn = move |span: Span| excerpt.map_or(span, |e| e.span(span));
        let d = &self.diagnostic;
        let primary = LabeledSpan::new_primary_with_span(non_empty(&d.label), drawn(d.span));
        let others =
            d.related.iter().map(move |(span, label)| LabeledSpan::new_with_span(non_empty(label), drawn(*span)));
        Some(Box::new(std::iter::once(primary).chain(others)))
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}
