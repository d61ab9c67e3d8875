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

use crate::ast::Policy;
use crate::diag::Report;
use crate::parse;

use layout::Layout;
use source::Source;

/// Why a policy was not formatted.
#[derive(Debug)]
pub enum FormatError {
    /// It does not parse: the parser's diagnostics, attached to the policy.
    Syntax(Vec<Report>),
    /// The formatted text would not parse back to the same policy and
    /// comments, a bug in schedc; says what would change.
    Unstable(&'static str),
}

/// The policy `src` (read from `file_name`) in the canonical layout.
pub fn format(file_name: &str, src: &str) -> Result<String, FormatError> {
    let (policy, errors) = parse::parse(src);
    if !errors.is_empty() {
        let source = Arc::new(crate::source::Source::new(file_name, src));
        return Err(FormatError::Syntax(errors.into_iter().map(|d| Report::new(d, Arc::clone(&source))).collect()));
    }
    let source = Source::scan(src);
    let formatted = print(&policy, &source, false);
    verify(&policy, &source, &formatted).map_err(FormatError::Unstable)?;
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

/// Expressions and items spelt as the formatter spells them, for other tools
/// (such as `schedc explain` and the change summary of `schedc run --watch`)
/// that quote a policy's formulas and rules.
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

    /// The lines of one item in the canonical layout, without comments or
    /// alignment: blocks indented by four spaces, a declaration's cells
    /// joined by one space.
    pub fn item_lines(&self, item: &crate::ast::Item) -> Vec<String> {
        let mut layout = Layout::new(&self.source, false);
        layout.item(item);
        layout.lines.iter().map(|line| format!("{}{}", "    ".repeat(line.depth), line.cells.join(" "))).collect()
    }
}

/// A duration as the formatter writes it, e.g. `5ms`.
pub fn duration_text(ns: u128) -> String {
    expr::duration(ns).unwrap_or_else(|| format!("{ns}ns"))
}
