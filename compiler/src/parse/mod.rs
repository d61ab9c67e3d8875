//! Text to syntax tree, with pest.
//!
//! Items are parsed one at a time so that one syntax error does not hide the
//! next: after an error the parser skips to the next line that starts, in the
//! first column, with an item keyword. Each kind of item has its own small
//! builder in a module of its own (`Builder::item` lists them in the order
//! of the grammar), on top of the shared `builder` and the statement and
//! expression builders (`stmt`, `expr`). A syntax error is described by
//! `syntax_error`, with the words for what was expected from `expected`.

mod builder;
mod expected;
mod lexical;
mod syntax_error;
mod unclosed;

// One module per kind of item.
mod classes;
mod dispatch;
mod enqueue;
mod events;
mod formulas;
mod header;
mod params;
mod preempt;
mod queues;
mod reuse;
mod select_cpu;
mod state;
mod stats;

// Statements and expressions, which several items hold.
mod expr;
mod stmt;

use pest::Parser;

use crate::ast::*;
use crate::diag::{Code, Diagnostic};

use builder::{Builder, MAX_DEPTH};
pub(crate) use expected::item_shape;
use syntax_error::syntax_error;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct PolicyParser;

pub(crate) const ITEM_KEYWORDS: &[&str] = &[
    "scheduler",
    "param",
    "queue",
    "class",
    "task",
    "global",
    "cpu",
    "cpuset",
    "counter",
    "gauge",
    "on",
    "select_cpu",
    "enqueue",
    "dispatch",
    "slice",
    "vtime",
    "preempt",
    "const",
    "fn",
];

/// Parses a whole policy. Returns every item that parsed and a diagnostic for
/// every item that did not.
pub fn parse(src: &str) -> (Policy, Vec<Diagnostic>) {
    let mut policy = Policy::default();
    let mut errors = Vec::new();
    let mut offset = skip_trivia(src, src.strip_prefix(BYTE_ORDER_MARK).map_or(0, |_| BYTE_ORDER_MARK.len_utf8()));
    while offset < src.len() {
        let parsed = PolicyParser::parse(Rule::item_at, &src[offset..]).or_else(|_| with_error_detail(src, offset));
        match parsed {
            Ok(mut pairs) => {
                let item_at = pairs.next().expect("item_at always yields itself");
                let item = item_at.into_inner().next().expect("item_at holds one item");
                let end = offset + item.as_span().end();
                let builder = Builder::new(offset);
                let item = builder.item(item);
                if let Some(span) = builder.too_deep() {
                    errors.push(
                        Diagnostic::new(Code::TooDeep, span, "this is nested too deeply")
                            .label(format!("more than {MAX_DEPTH} levels of operators, brackets and blocks"))
                            .help(crate::diag::TOO_DEEP_HELP),
                    );
                } else {
                    let refused = builder.into_refused();
                    if refused.is_empty() {
                        policy.items.push(item);
                    }
                    errors.extend(refused);
                }
                offset = skip_trivia(src, end);
            }
            Err(err) => {
                let diagnostic = syntax_error(src, offset, &err);
                offset = skip_trivia(src, resync(src, diagnostic.span.start.max(offset), offset));
                errors.push(diagnostic);
            }
        }
    }
    (policy, errors)
}

const BYTE_ORDER_MARK: char = '\u{feff}';

/// Parses the item at `offset` again, tracking the tokens each failed
/// attempt wanted, for the error message. Only after a failure: the
/// tracking doubles the parser's time (it was most of lavd_lite's 5 ms).
/// pest keeps the switch process-wide, so one re-parse at a time turns it
/// on and off again; a parse on another thread meanwhile is only slower.
fn with_error_detail(src: &str, offset: usize) -> Result<pest::iterators::Pairs<'_, Rule>, pest::error::Error<Rule>> {
    static DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = DETAIL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    pest::set_error_detail(true);
    let parsed = PolicyParser::parse(Rule::item_at, &src[offset..]);
    pest::set_error_detail(false);
    parsed
}

/// The warning for a file that starts with a byte-order mark, which the
/// parser skips: some editors on Windows write one, other tools stumble on it.
pub fn byte_order_mark(src: &str) -> Option<Diagnostic> {
    src.starts_with(BYTE_ORDER_MARK).then(|| {
        Diagnostic::new(
            Code::ByteOrderMark,
            Span::new(0, BYTE_ORDER_MARK.len_utf8()),
            "the file starts with a byte-order mark",
        )
        .label("an invisible U+FEFF")
        .help("schedc skips it, but C tools and shells may not: save the file as UTF-8 without a byte-order mark (BOM)")
    })
}

/// Skips white space and comments from `at`.
fn skip_trivia(src: &str, mut at: usize) -> usize {
    let bytes = src.as_bytes();
    while at < bytes.len() {
        match bytes[at] {
            b' ' | b'\t' | b'\r' | b'\n' => at += 1,
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
            }
            _ => break,
        }
    }
    at
}

/// The start of the first line after `at` that begins with an item keyword.
///
/// An error found at the start of such a line (`class c` missing its string,
/// with `counter` on the next line) resumes on that very line, unless it is
/// the line of the item that failed.
fn resync(src: &str, at: usize, item_start: usize) -> usize {
    let starts_item = |line: &str| {
        let word: String = line.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        ITEM_KEYWORDS.contains(&word.as_str())
    };
    if at > item_start && src.as_bytes()[at - 1] == b'\n' && starts_item(&src[at..]) {
        return at;
    }
    let mut line_start = src[at..].find('\n').map_or(src.len(), |n| at + n + 1);
    while line_start < src.len() {
        let line = &src[line_start..];
        if starts_item(line) {
            return line_start;
        }
        line_start = line.find('\n').map_or(src.len(), |n| line_start + n + 1);
    }
    src.len()
}
