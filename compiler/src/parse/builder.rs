//! What every item builder shares: positions made absolute, names, strings,
//! types and paths, the nesting limit, and the dispatch of each item to the
//! builder of its kind.

use std::cell::{Cell, RefCell};

use pest::iterators::{Pair, Pairs};

use super::Rule;
use crate::ast::*;
use crate::diag::Diagnostic;

/// The deepest nesting of expressions and statements the parser accepts.
/// The parser, the checker and the code generator recurse on the syntax
/// tree, so a machine-written policy nested thousands deep would overflow
/// the stack; real policies stay far below this.
pub(super) const MAX_DEPTH: usize = 64;

/// Turns pest pairs into syntax-tree nodes. Pair positions are relative to
/// the item being parsed; `base` makes them absolute.
pub(super) struct Builder {
    base: usize,
    /// An upper bound of the depth of the tree being built: one per
    /// recursive call, plus the length of operator chains (which are built
    /// in a loop, but nest in the tree).
    depth: Cell<usize>,
    /// Where the item first went deeper than [`MAX_DEPTH`]; the item is then
    /// dropped with an error.
    too_deep: Cell<Option<Span>>,
    /// What the grammar admits only to refuse with a better message than a
    /// syntax error (`1 < x < 5`, `x >> 2`); the item is then dropped.
    refused: RefCell<Vec<Diagnostic>>,
}

impl Builder {
    pub(super) fn new(base: usize) -> Self {
        Builder { base, depth: Cell::new(0), too_deep: Cell::new(None), refused: RefCell::new(Vec::new()) }
    }

    /// Goes `levels` deeper; false (and the item marked too deep) if that
    /// passes the limit.
    pub(super) fn enter(&self, span: Span, levels: usize) -> bool {
        let depth = self.depth.get() + levels;
        if depth > MAX_DEPTH {
            if self.too_deep.get().is_none() {
                self.too_deep.set(Some(span));
            }
            return false;
        }
        self.depth.set(depth);
        true
    }

    pub(super) fn leave(&self, levels: usize) {
        self.depth.set(self.depth.get() - levels);
    }

    /// Where the item went deeper than [`MAX_DEPTH`], if it did.
    pub(super) fn too_deep(&self) -> Option<Span> {
        self.too_deep.get()
    }

    /// Refuses a construct the grammar admits only to explain it.
    pub(super) fn refuse(&self, diagnostic: Diagnostic) {
        self.refused.borrow_mut().push(diagnostic);
    }

    /// What was refused while building the item.
    pub(super) fn into_refused(self) -> Vec<Diagnostic> {
        self.refused.into_inner()
    }

    /// The policy text of a span.
    pub(super) fn text<'s>(&self, pair: &Pair<'s, Rule>) -> &'s str {
        without_trailing_trivia(pair.as_str())
    }

    /// The span of a pair without the white space and comments pest may
    /// have consumed at its end (a rule ending in `x*` or `x?` keeps the
    /// trivia it skipped before trying `x` one more time).
    pub(super) fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        let start = self.base + s.start();
        Span::new(start, start + without_trailing_trivia(s.as_str()).len())
    }

    pub(super) fn ident(&self, pair: Pair<Rule>) -> Ident {
        debug_assert_eq!(pair.as_rule(), Rule::ident);
        Ident { name: pair.as_str().to_string(), span: self.span(&pair) }
    }

    pub(super) fn string(&self, pair: Pair<Rule>) -> StrLit {
        let span = self.span(&pair);
        let body = pair.into_inner().next().map_or("", |b| b.as_str());
        StrLit { value: body.to_string(), span }
    }

    pub(super) fn type_name(&self, pair: Pair<Rule>) -> TypeName {
        let ty = match pair.as_str() {
            "duration" => ValueType::Duration,
            "time" => ValueType::Time,
            "int" => ValueType::Int,
            "uint" => ValueType::Uint,
            _ => ValueType::Bool,
        };
        TypeName { ty, span: self.span(&pair) }
    }

    pub(super) fn path(&self, pair: Pair<Rule>) -> Path {
        let span = self.span(&pair);
        Path { parts: pair.into_inner().map(|p| self.ident(p)).collect(), span }
    }

    /// `cpu(CPU).PATH`: the CPU expression and the path after it.
    pub(super) fn on_cpu(&self, pair: Pair<Rule>) -> (Expr, Path) {
        let mut inner = pair.into_inner();
        let cpu = self.expr(required(&mut inner));
        (cpu, self.path(required(&mut inner)))
    }

    /// Builds one item with the builder of its kind, in the grammar's order.
    pub(super) fn item(&self, pair: Pair<Rule>) -> Item {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let children = pair.into_inner();
        let kind = match rule {
            Rule::scheduler_decl => self.scheduler(children),
            Rule::param_decl => self.param(children),
            Rule::queue_decl => self.queue(children),
            Rule::class_decl => self.class(children),
            Rule::task_decl => self.state(Scope::Task, children),
            Rule::global_decl => self.state(Scope::Global, children),
            Rule::cpu_decl => self.state(Scope::Cpu, children),
            Rule::cpuset_decl => self.cpuset(children),
            Rule::counter_decl => self.counter(children),
            Rule::gauge_decl => self.gauge(children),
            Rule::event_decl => self.event(children),
            Rule::select_decl => self.select_cpu(children),
            Rule::enqueue_decl => self.enqueue(children),
            Rule::dispatch_decl => self.dispatch(children),
            Rule::slice_decl => self.slice(children),
            Rule::vtime_decl => self.vtime(children),
            Rule::preempt_decl => self.preempt(children),
            Rule::const_decl => self.const_decl(children),
            Rule::fn_decl => self.fn_decl(children),
            other => unreachable!("not an item rule: {other:?}"),
        };
        Item { kind, span }
    }
}

/// The next child of a rule, which the grammar guarantees is there.
pub(super) fn required<'i>(children: &mut Pairs<'i, Rule>) -> Pair<'i, Rule> {
    children.next().expect("grammar guarantees this child")
}

/// `text` without the white space and comments at its end. A `#` starts a
/// comment unless it is inside a string; strings do not span lines, so the
/// quotes can be counted from the start of the last line.
pub(super) fn without_trailing_trivia(mut text: &str) -> &str {
    loop {
        text = text.trim_end_matches([' ', '\t', '\r', '\n']);
        let line_start = text.rfind('\n').map_or(0, |i| i + 1);
        let mut in_string = false;
        let comment = text[line_start..].char_indices().find_map(|(i, c)| match c {
            '"' => {
                in_string = !in_string;
                None
            }
            '#' if !in_string => Some(line_start + i),
            _ => None,
        });
        match comment {
            Some(at) => text = &text[..at],
            None => return text,
        }
    }
}
