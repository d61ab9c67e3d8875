//! Completion: what may be typed at a place, judged from the text before it
//! (which is usually mid-edit and does not parse) and the declarations that do.

use crate::ast::{PreferenceKind, ValueType, SELECT_CPU_WORDS};
use crate::check::facts::{self, FactGroup, FactInfo, QUEUE_FIELDS};
use crate::model::CpuFact;
use crate::parse::{item_shape, ITEM_KEYWORDS};

use super::{Analysis, Symbol, SymbolKind};

/// Something that may be typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub label: String,
    pub kind: CandidateKind,
    /// One line: a type or a declaration.
    pub detail: String,
    pub doc: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateKind {
    Keyword,
    Fact,
    Symbol(SymbolKind),
    Function,
    Type,
}

const STATEMENT_KEYWORDS: &[&str] = &["let", "if", "every", "trace", "reenqueue"];
const FUNCTIONS: &[(&str, &str)] = &[
    ("min", "min(a, b)"),
    ("max", "max(a, b)"),
    ("clamp", "clamp(value, low, high)"),
    ("ewma", "ewma(average, sample)"),
    ("log2", "log2(count)"),
    ("int", "int(value)"),
    ("uint", "uint(value)"),
    ("first", "first(count)"),
];
const TYPES: &[ValueType] = &[ValueType::Duration, ValueType::Time, ValueType::Int, ValueType::Uint, ValueType::Bool];

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub(super) fn complete(analysis: &Analysis, offset: usize) -> Vec<Candidate> {
    let src = analysis.src.as_str();
    let offset = floor_char_boundary(src, offset);
    let line_start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = &src[line_start..offset];
    // Nothing to offer inside a comment or a string.
    if line.contains('#') || line.matches('"').count() % 2 == 1 {
        return Vec::new();
    }
    // The text before the word being typed.
    let head = line.trim_end_matches(is_name_char);
    let before = head.trim_end();
    if let Some(dotted) = head.strip_suffix('.') {
        let start = dotted.trim_end_matches(|c| is_name_char(c) || c == '.').len();
        let parts: Vec<&str> = dotted[start..].split('.').collect();
        return after_dot(analysis, &parts);
    }
    if before.ends_with("->") {
        return symbols(analysis, SymbolKind::Queue);
    }
    if ends_with_word(before, "is") || ends_with_word(before, "preempt") {
        let mut out = symbols(analysis, SymbolKind::Class);
        out.push(keyword("none", "no class"));
        return out;
    }
    if before.ends_with(':') {
        return TYPES.iter().map(|t| candidate(t.keyword(), CandidateKind::Type, "type", "")).collect();
    }
    if head.is_empty() {
        return ITEM_KEYWORDS.iter().map(|k| keyword(k, &item_shape(Some(k)))).collect();
    }
    if head.trim().is_empty() {
        return block_start(analysis, &src[..line_start]);
    }
    expression_start(analysis)
}

/// After `task.`, `system.`, `event.`, `queue.` or `queue.NAME.`.
fn after_dot(analysis: &Analysis, parts: &[&str]) -> Vec<Candidate> {
    let facts_of = |group| facts::FACTS.iter().filter(move |f: &&FactInfo| f.group == group).map(fact);
    match parts {
        ["task"] => facts_of(FactGroup::Task).chain(symbols(analysis, SymbolKind::TaskVar)).collect(),
        ["cpu"] => CpuFact::ALL
            .into_iter()
            .map(|f| candidate(f.name(), CandidateKind::Fact, f.ty().keyword(), f.doc()))
            .chain(symbols(analysis, SymbolKind::CpuVar))
            .collect(),
        ["system"] => facts_of(FactGroup::System).collect(),
        ["event"] => facts_of(FactGroup::Event).collect(),
        ["waker"] => facts_of(FactGroup::Waker).chain(symbols(analysis, SymbolKind::TaskVar)).collect(),
        ["queue"] => symbols(analysis, SymbolKind::Queue),
        ["queue", _] => {
            QUEUE_FIELDS.iter().map(|f| candidate(f.name, CandidateKind::Fact, facts::type_name(f.ty), f.doc)).collect()
        }
        _ => Vec::new(),
    }
}

/// At the start of an indented line: what the enclosing item holds.
fn block_start(analysis: &Analysis, text_above: &str) -> Vec<Candidate> {
    let item = text_above
        .lines()
        .rev()
        .find(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
        .map_or("", |l| &l[..l.find(|c| !is_name_char(c)).unwrap_or(l.len())]);
    match item {
        "dispatch" => symbols(analysis, SymbolKind::Queue),
        "select_cpu" => PreferenceKind::ALL
            .iter()
            .map(|p| p.keyword())
            .chain(SELECT_CPU_WORDS)
            .map(|p| keyword(p, "CPU preference"))
            .collect(),
        "enqueue" => {
            let mut out = vec![keyword("else", "the catch-all route: `else -> QUEUE`")];
            out.extend(expression_start(analysis));
            out
        }
        _ => {
            let mut out: Vec<Candidate> = STATEMENT_KEYWORDS.iter().map(|k| keyword(k, "statement")).collect();
            out.extend(expression_start(analysis));
            out
        }
    }
}

/// Names an expression may start with.
fn expression_start(analysis: &Analysis) -> Vec<Candidate> {
    let values = analysis
        .symbols
        .iter()
        .filter(|s| !matches!(s.kind, SymbolKind::Queue | SymbolKind::TaskVar | SymbolKind::CpuVar));
    let mut out: Vec<Candidate> = values.map(symbol).collect();
    for group in [FactGroup::Task, FactGroup::System, FactGroup::Event, FactGroup::Waker] {
        out.push(keyword(group.prefix(), &format!("{}.* facts", group.prefix())));
    }
    out.push(keyword("queue", "queue.NAME.len"));
    out.extend(FUNCTIONS.iter().map(|(name, shape)| candidate(name, CandidateKind::Function, shape, "")));
    out
}

fn symbols(analysis: &Analysis, kind: SymbolKind) -> Vec<Candidate> {
    analysis.symbols_of(kind).map(symbol).collect()
}

fn symbol(s: &Symbol) -> Candidate {
    candidate(&s.name, CandidateKind::Symbol(s.kind), &s.signature, &s.doc)
}

fn fact(f: &FactInfo) -> Candidate {
    candidate(f.name, CandidateKind::Fact, facts::type_name(f.ty), f.doc)
}

fn keyword(word: &str, detail: &str) -> Candidate {
    candidate(word, CandidateKind::Keyword, detail, "")
}

fn candidate(label: &str, kind: CandidateKind, detail: &str, doc: &str) -> Candidate {
    Candidate { label: label.to_string(), kind, detail: detail.to_string(), doc: doc.to_string() }
}

/// Whether `text` ends with `word` as a whole word.
fn ends_with_word(text: &str, word: &str) -> bool {
    text.strip_suffix(word).is_some_and(|rest| !rest.ends_with(is_name_char))
}

fn floor_char_boundary(s: &str, mut at: usize) -> usize {
    at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}
