//! The schedc compiler: policy text in, BPF C and a BPF object out.
//!
//! Data flows one way through small stages, each its own module:
//! [`parse`] (text → [`ast`]), [`check`] (ast → [`model`], with
//! [`diag`]nostics), [`lower`] (model → [`ir`]), [`render`] (ir → C) and
//! [`build`] (C → object, with clang). The policy's [`source`] travels with
//! the checked model, so code generation needs nothing else. [`analysis`]
//! answers an editor's questions (definitions, references, hover, completion)
//! for `schedc lsp`.
//!
//! Beside them, for the tools around the compiler: [`fmt`] (the canonical
//! layout), [`explain`] (a checked policy in sentences), [`diff`] (what
//! changed between two checked policies) and [`diag_json`]
//! (diagnostics with lines and columns, as JSON); [`origin`] leads from a
//! line of the generated C back to the policy line it implements.

pub mod analysis;
pub mod ast;
pub mod build;
pub mod check;
pub mod diag;
pub mod diag_json;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod ir;
pub mod lower;
pub mod model;
pub mod origin;
pub mod parse;
pub mod render;
pub mod source;

use std::sync::Arc;

pub use diag::{Code, Diagnostic, Report, Severity};
pub use source::Source;

/// A policy that passed the checker, with the warnings found on the way and
/// the source they point into.
#[derive(Debug)]
pub struct Checked {
    pub model: model::Model,
    pub warnings: Vec<Report>,
    pub source: Arc<Source>,
}

/// Parses and checks a policy. `Err` holds every error and warning found.
pub fn check_source(file_name: &str, src: &str) -> Result<Checked, Vec<Report>> {
    let source = Arc::new(Source::new(file_name, src));
    let attach = |diags: Vec<Diagnostic>| -> Vec<Report> {
        diags.into_iter().map(|d| Report::new(d, Arc::clone(&source))).collect()
    };
    let (policy, mut syntax_errors) = parse::parse(src);
    let bom = parse::byte_order_mark(src);
    if !syntax_errors.is_empty() {
        syntax_errors.splice(0..0, bom);
        return Err(attach(syntax_errors));
    }
    let (model, mut diags) = check::check(&policy, &source);
    diags.extend(bom);
    diags.sort_by_key(|d| (d.span.start, d.severity() == Severity::Warning));
    match model {
        Some(model) => Ok(Checked { model, warnings: attach(diags), source }),
        None => Err(attach(diags)),
    }
}

/// The C of a checked policy, ready for review or for clang.
pub fn generate_c(checked: &Checked) -> String {
    render::render(&lower::lower(&checked.model, &checked.source))
}
