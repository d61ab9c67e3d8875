//! What an editor asks about a policy: where each name is declared and used,
//! what the thing under the cursor is, and what may be typed next.
//!
//! It works on whatever parses, so it keeps answering while the text is
//! being edited; the checker's diagnostics are a separate question
//! ([`crate::check_source`]). Offsets and spans are byte offsets into the
//! policy text.

mod complete;
mod index;

#[cfg(test)]
mod tests;

use crate::ast::{Span, ValueType};
use crate::check::facts::{self, FactInfo, QueueField};
use crate::model::{CpuFact, Type};

pub use complete::{Candidate, CandidateKind};

/// What kind of declaration a symbol is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Param,
    Queue,
    Class,
    TaskVar,
    Global,
    /// `cpu NAME: TYPE = INITIAL`, read as `cpu.NAME`.
    CpuVar,
    /// `cpuset NAME = 0-3`, read as `CPU in NAME`.
    CpuSet,
    Counter,
    Gauge,
    Const,
    Function,
}

/// A declared name.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub kind: SymbolKind,
    pub name: String,
    /// The name where it is declared.
    pub span: Span,
    /// The declaration as one line, e.g. `param slice_max: duration = 5ms in 1us..1s`.
    pub signature: String,
    /// The doc string, else the comment beside or above the declaration.
    pub doc: String,
    pub ty: Option<ValueType>,
}

/// What a name in the text stands for.
#[derive(Debug, Clone)]
pub enum Target {
    Symbol(usize),
    Fact(&'static FactInfo),
    /// A built-in fact of a CPU: `cpu.capacity`.
    CpuFact(CpuFact),
    QueueField {
        queue: String,
        field: &'static QueueField,
    },
}

/// One place a name appears.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub span: Span,
    pub target: Target,
    /// The name in its own declaration.
    pub declaration: bool,
}

/// Hover information: the text it is about and Markdown describing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    pub span: Span,
    pub markdown: String,
}

/// The symbol index of one version of a policy.
#[derive(Debug, Clone)]
pub struct Analysis {
    src: String,
    symbols: Vec<Symbol>,
    occurrences: Vec<Occurrence>,
}

impl Analysis {
    pub fn new(src: &str) -> Self {
        let (symbols, occurrences) = index::index(src);
        Analysis { src: src.to_string(), symbols, occurrences }
    }

    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    pub fn occurrences(&self) -> &[Occurrence] {
        &self.occurrences
    }

    /// The name at `offset`; a cursor just after a name still counts.
    pub fn at(&self, offset: usize) -> Option<&Occurrence> {
        let touching = |o: &&Occurrence| o.span.start <= offset && offset <= o.span.end;
        let inside = |o: &&Occurrence| offset < o.span.end;
        let mut found = self.occurrences.iter().filter(touching);
        let first = found.next()?;
        Some(if inside(&first) { first } else { found.find(inside).unwrap_or(first) })
    }

    fn symbol_at(&self, offset: usize) -> Option<usize> {
        match self.at(offset)?.target {
            Target::Symbol(i) => Some(i),
            _ => None,
        }
    }

    /// Where the name at `offset` is declared.
    pub fn definition(&self, offset: usize) -> Option<Span> {
        self.symbol_at(offset).map(|i| self.symbols[i].span)
    }

    /// Every place the name at `offset` is used, in text order, with its
    /// declaration if `with_declaration`.
    pub fn references(&self, offset: usize, with_declaration: bool) -> Vec<Span> {
        let Some(symbol) = self.symbol_at(offset) else { return Vec::new() };
        self.occurrences
            .iter()
            .filter(|o| matches!(o.target, Target::Symbol(i) if i == symbol) && (with_declaration || !o.declaration))
            .map(|o| o.span)
            .collect()
    }

    /// What the name at `offset` is: its declaration or type, unit and doc.
    pub fn hover(&self, offset: usize) -> Option<Hover> {
        let occurrence = self.at(offset)?;
        let markdown = match &occurrence.target {
            Target::Symbol(i) => {
                let s = &self.symbols[*i];
                describe(&s.signature, &s.doc, s.ty.map(Type::Value))
            }
            Target::Fact(f) => describe(&format!("{}: {}", f.path(), facts::type_name(f.ty)), f.doc, Some(f.ty)),
            Target::CpuFact(f) => {
                let ty = Type::Value(f.ty());
                describe(&format!("cpu.{}: {}", f.name(), facts::type_name(ty)), f.doc(), Some(ty))
            }
            Target::QueueField { queue, field } => describe(
                &format!("queue.{queue}.{}: {}", field.name, facts::type_name(field.ty)),
                field.doc,
                Some(field.ty),
            ),
        };
        Some(Hover { span: occurrence.span, markdown })
    }

    /// What may be typed at `offset`.
    pub fn completions(&self, offset: usize) -> Vec<Candidate> {
        complete::complete(self, offset)
    }

    fn symbols_of(&self, kind: SymbolKind) -> impl Iterator<Item = &Symbol> {
        self.symbols.iter().filter(move |s| s.kind == kind)
    }
}

/// Hover Markdown: the signature as code, the doc, and the unit.
fn describe(signature: &str, doc: &str, ty: Option<Type>) -> String {
    let mut out = format!("```schedc\n{signature}\n```");
    if !doc.is_empty() {
        out.push_str("\n\n");
        out.push_str(doc);
    }
    if let Some(unit) = ty.and_then(facts::unit) {
        out.push_str(&format!("\n\nUnit: {unit}."));
    }
    out
}
