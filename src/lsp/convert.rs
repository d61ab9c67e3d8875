//! The compiler's answers in LSP terms.

use lsp_types::{
    CompletionItem, CompletionItemKind, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Documentation,
    Hover, HoverContents, Location, MarkupContent, MarkupKind, NumberOrString, TextDocumentContentChangeEvent, Uri,
};
use schedc_compiler::analysis::{self, Candidate, CandidateKind, SymbolKind};
use schedc_compiler::{check_source, Severity};

use schedc_compiler::source::Source;

use super::position;

/// The last part of a document's URI, which diagnostics name it by.
pub fn file_name(uri: &Uri) -> &str {
    uri.as_str().rsplit('/').next().unwrap_or("policy")
}

/// Everything the checker says about the policy, errors and warnings alike.
pub fn diagnostics(uri: &Uri, source: &Source) -> Vec<Diagnostic> {
    let reports = match check_source(source.name(), source.text()) {
        Ok(checked) => checked.warnings,
        Err(reports) => reports,
    };
    let location = |span| Location::new(uri.clone(), position::range(source, span));
    reports
        .iter()
        .map(|report| {
            let d = &report.diagnostic;
            let mut message = d.message.clone();
            if !d.help.is_empty() {
                message.push_str("\nhelp: ");
                message.push_str(&d.help);
            }
            // The primary label, then the other places the diagnostic names.
            let primary = (!d.label.is_empty()).then(|| (d.span, d.label.clone()));
            let related = primary
                .into_iter()
                .chain(d.related.iter().cloned())
                .map(|(span, label)| DiagnosticRelatedInformation { location: location(span), message: label })
                .collect::<Vec<_>>();
            Diagnostic {
                range: position::range(source, d.span),
                severity: Some(match d.severity() {
                    Severity::Error => DiagnosticSeverity::ERROR,
                    Severity::Warning => DiagnosticSeverity::WARNING,
                }),
                code: Some(NumberOrString::String(d.code.to_string())),
                source: Some("schedc".to_string()),
                message,
                related_information: (!related.is_empty()).then_some(related),
                ..Diagnostic::default()
            }
        })
        .collect()
}

/// Applies one edit: a whole new text, or a replaced range.
pub fn apply_change(text: &mut String, change: TextDocumentContentChangeEvent) {
    match change.range {
        None => *text = change.text,
        Some(range) => {
            let source = Source::new("", text);
            let start = position::offset(&source, range.start);
            let end = position::offset(&source, range.end).max(start);
            text.replace_range(start..end, &change.text);
        }
    }
}

pub fn hover(hover: &analysis::Hover, source: &Source) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: hover.markdown.clone() }),
        range: Some(position::range(source, hover.span)),
    }
}

pub fn completion_item(candidate: &Candidate) -> CompletionItem {
    let kind = match candidate.kind {
        CandidateKind::Keyword => CompletionItemKind::KEYWORD,
        CandidateKind::Fact => CompletionItemKind::FIELD,
        CandidateKind::Function => CompletionItemKind::FUNCTION,
        CandidateKind::Type => CompletionItemKind::TYPE_PARAMETER,
        CandidateKind::Symbol(SymbolKind::Param | SymbolKind::Const) => CompletionItemKind::CONSTANT,
        CandidateKind::Symbol(SymbolKind::Function) => CompletionItemKind::FUNCTION,
        CandidateKind::Symbol(SymbolKind::Queue) => CompletionItemKind::MODULE,
        CandidateKind::Symbol(SymbolKind::Class) => CompletionItemKind::ENUM_MEMBER,
        CandidateKind::Symbol(SymbolKind::CpuSet) => CompletionItemKind::STRUCT,
        CandidateKind::Symbol(SymbolKind::TaskVar | SymbolKind::CpuVar) => CompletionItemKind::FIELD,
        CandidateKind::Symbol(SymbolKind::Global | SymbolKind::Counter | SymbolKind::Gauge) => {
            CompletionItemKind::VARIABLE
        }
    };
    CompletionItem {
        label: candidate.label.clone(),
        kind: Some(kind),
        detail: (!candidate.detail.is_empty()).then(|| candidate.detail.clone()),
        documentation: (!candidate.doc.is_empty()).then(|| {
            Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value: candidate.doc.clone() })
        }),
        ..CompletionItem::default()
    }
}
