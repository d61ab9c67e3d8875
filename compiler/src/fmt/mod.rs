//! `schedc fmt`: every policy in one layout.
//!
//! The formatter prints the syntax tree again: one declaration, rule or
//! statement per line, blocks indented by four spaces, single spaces around
//! operators, durations in their largest exact unit, consecutive
//! declarations of one kind aligned as a table, at most one blank line in a
//! row. The grammar drops comments, so they are found again in the source
//! and put back beside or above the lines made from their source lines.
//!
//! A policy with a syntax error is refused with its diagnostics. Before the
//! text is handed out, it is parsed again and must give the same tree and
//! the same comments; otherwise the formatter refuses too, as it has a bug.

mod expr;
mod layout;
mod render;
mod source;

use std::sync::Arc;

use miette::NamedSource;

use crate::ast::{Policy, Span};
use crate::diag::{Diagnostic, Report};
use crate::parse;

use layout::Layout;
use source::Source;

/// The policy `src` in the canonical layout, or the diagnostics that stop
/// it from being formatted, attached to `file_name`.
pub fn format(file_name: &str, src: &str) -> Result<String, Vec<Report>> {
    format_diagnostics(src).map_err(|diags| {
        let source = Arc::new(NamedSource::new(file_name, src.to_string()).with_language("schedc"));
        diags.into_iter().map(|d| Report::new(d, Arc::clone(&source))).collect()
    })
}

/// [`format()`] without a file name: the diagnostics are plain data.
pub fn format_diagnostics(src: &str) -> Result<String, Vec<Diagnostic>> {
    let (policy, errors) = parse::parse(src);
    if !errors.is_empty() {
        return Err(errors);
    }
    let source = Source::scan(src);
    let formatted = print(&policy, &source, false);
    verify(&policy, &source, &formatted).map_err(|what| {
        vec![Diagnostic::error("formatter-bug", Span::new(0, 0), format!("the formatter would change {what}"))
            .label("the file is left as it is")
            .help("this is a bug in schedc: please report it with the policy")]
    })?;
    Ok(formatted)
}

fn print(policy: &Policy, source: &Source, explicit: bool) -> String {
    let mut layout = Layout::new(source, explicit);
    for item in &policy.items {
        layout.item(item);
    }
    render::render(source, layout.lines, !explicit)
}

/// The shape of a policy's tree, with every operand bracketed and without
/// trivia: equal for two texts exactly when they parse to the same tree.
fn shape(policy: &Policy, source: &Source) -> String {
    print(policy, source, true)
}

/// Checks that `formatted` says what `source` says, with the same comments.
fn verify(policy: &Policy, source: &Source, formatted: &str) -> Result<(), &'static str> {
    let (reparsed, errors) = parse::parse(formatted);
    if !errors.is_empty() {
        return Err("the policy into one that does not parse");
    }
    let after = Source::scan(formatted);
    if shape(policy, source) != shape(&reparsed, &after) {
        return Err("what the policy means");
    }
    let texts = |s: &Source| {
        let mut texts: Vec<String> = s.comments.iter().map(|c| c.text.clone()).collect();
        texts.sort();
        texts
    };
    if texts(source) != texts(&after) {
        return Err("the policy's comments");
    }
    Ok(())
}

/// Expressions spelt as the formatter spells them, for other tools (such as
/// `schedc explain`) that quote a policy's formulas.
pub struct ExprText<'s> {
    source: Source<'s>,
}

impl<'s> ExprText<'s> {
    /// `src` is the policy text the expressions were parsed from.
    pub fn new(src: &'s str) -> Self {
        ExprText { source: Source::scan(src) }
    }

    pub fn expr(&self, e: &crate::ast::Expr) -> String {
        expr::ExprPrinter { source: &self.source, explicit: false }.expr(e)
    }
}

/// A duration as the formatter writes it, e.g. `5ms`.
pub fn duration_text(ns: u128) -> String {
    expr::duration(ns).unwrap_or_else(|| format!("{ns}ns"))
}
