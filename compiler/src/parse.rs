//! Text to syntax tree, with pest.
//!
//! Items are parsed one at a time so that one syntax error does not hide the
//! next: after an error the parser skips to the next line that starts, in the
//! first column, with an item keyword.

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser;

use crate::ast::*;
use crate::diag::Diagnostic;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct PolicyParser;

const ITEM_KEYWORDS: &[&str] = &[
    "scheduler", "param", "queue", "class", "task", "global", "counter", "gauge", "on", "select_cpu",
    "enqueue", "dispatch", "slice", "vtime", "preempt",
];

/// Parses a whole policy. Returns every item that parsed and a diagnostic for
/// every item that did not.
pub fn parse(src: &str) -> (Policy, Vec<Diagnostic>) {
    let mut policy = Policy::default();
    let mut errors = Vec::new();
    let mut offset = skip_trivia(src, 0);
    while offset < src.len() {
        match PolicyParser::parse(Rule::item_at, &src[offset..]) {
            Ok(mut pairs) => {
                let item_at = pairs.next().expect("item_at always yields itself");
                let item = item_at.into_inner().next().expect("item_at holds one item");
                let end = offset + item.as_span().end();
                policy.items.push(Builder { base: offset }.item(item));
                offset = skip_trivia(src, end);
            }
            Err(err) => {
                let at = offset
                    + match err.location {
                        InputLocation::Pos(p) => p,
                        InputLocation::Span((s, _)) => s,
                    };
                errors.push(syntax_error(src, offset, at, &err.variant));
                offset = skip_trivia(src, resync(src, at));
            }
        }
    }
    (policy, errors)
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
fn resync(src: &str, at: usize) -> usize {
    let mut line_start = src[at..].find('\n').map_or(src.len(), |n| at + n + 1);
    while line_start < src.len() {
        let line = &src[line_start..];
        let word: String = line.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if ITEM_KEYWORDS.contains(&word.as_str()) {
            return line_start;
        }
        line_start = line.find('\n').map_or(src.len(), |n| line_start + n + 1);
    }
    src.len()
}

fn syntax_error(src: &str, item_start: usize, at: usize, variant: &ErrorVariant<Rule>) -> Diagnostic {
    let token_end = src[at..]
        .char_indices()
        .find(|(_, c)| c.is_whitespace())
        .map_or(src.len(), |(i, _)| at + i);
    let span = Span::new(at, token_end.max(at + usize::from(at < src.len())).min(src.len()));
    let found = if at >= src.len() { "the end of the file".to_string() } else { format!("`{}`", &src[at..token_end]) };
    let expected = match variant {
        ErrorVariant::ParsingError { positives, .. } => describe_expected(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let keyword: String = src[item_start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    Diagnostic::error("syntax", span, format!("expected {expected}, found {found}"))
        .label(format!("expected {expected} here"))
        .help(item_shape(&keyword))
}

fn describe_expected(rules: &[Rule]) -> String {
    let mut names: Vec<&str> = rules.iter().map(|r| rule_name(*r)).collect();
    names.sort_unstable();
    names.dedup();
    match names.as_slice() {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::ident => "a name",
        Rule::string | Rule::string_body => "a quoted string",
        Rule::expr => "an expression",
        Rule::type_name => "a type (duration, time, int, uint or bool)",
        Rule::placement => "`per_cpu` or `shared`",
        Rule::order => "`fifo` or `vtime`",
        Rule::event_name => "an event (join, wakeup, enqueue, running or stopping)",
        Rule::pref_kind | Rule::preference => "a CPU preference (pinned, prev_core, idle_core, prev or any)",
        Rule::select_default => "`default`",
        Rule::found => "`found -> QUEUE`",
        Rule::vtime_part => "`charge` or `lag`",
        Rule::formula => "`= EXPRESSION` or a `{ ... }` block",
        Rule::timeout => "`timeout`",
        Rule::bounds => "`in LOW..HIGH`",
        Rule::bound => "a number or a duration",
        Rule::route => "a route `CONDITION -> QUEUE`",
        Rule::catch_all => "`else`",
        Rule::serve => "a queue name",
        Rule::starve => "`starve after`",
        Rule::kick => "`kick`",
        Rule::block => "`{`",
        Rule::assign_op => "`=`, `+=` or `-=`",
        Rule::cmp_op => "a comparison",
        Rule::sum_op | Rule::prod_op => "an operator",
        Rule::or_op | Rule::and_op => "`and` or `or`",
        Rule::is_op => "`is`",
        Rule::duration | Rule::unit => "a duration such as 5ms",
        Rule::number | Rule::digits => "a number",
        Rule::boolean => "`true` or `false`",
        Rule::scheduler_decl
        | Rule::param_decl
        | Rule::queue_decl
        | Rule::class_decl
        | Rule::task_decl
        | Rule::global_decl
        | Rule::counter_decl
        | Rule::gauge_decl
        | Rule::event_decl
        | Rule::select_decl
        | Rule::enqueue_decl
        | Rule::dispatch_decl
        | Rule::slice_decl
        | Rule::vtime_decl
        | Rule::preempt_decl => "an item (scheduler, param, queue, class, task, global, counter, gauge, on, select_cpu, enqueue, dispatch, slice, vtime or preempt)",
        Rule::let_stmt | Rule::if_stmt | Rule::every_stmt | Rule::trace_stmt | Rule::assign_stmt => "a statement",
        _ => "an expression",
    }
}

/// What a well-formed item of this kind looks like, for the help line.
fn item_shape(keyword: &str) -> String {
    let shape = match keyword {
        "scheduler" => "scheduler NAME \"description\" timeout 5s",
        "param" => "param NAME: TYPE = DEFAULT \"what it does\" in LOW..HIGH   (the range is optional)",
        "queue" => "queue NAME per_cpu|shared fifo|vtime",
        "class" => "class NAME \"what its tasks are\"",
        "task" => "task NAME: TYPE = INITIAL   (one per task)",
        "global" => "global NAME: TYPE = INITIAL",
        "counter" => "counter NAME \"meaning\"   or   counter NAME = queue.Q.inserted \"meaning\"",
        "gauge" => "gauge NAME: TYPE = INITIAL \"meaning\"   or   gauge NAME = slice \"meaning\"",
        "on" => "on join|wakeup|enqueue|running|stopping { STATEMENTS }",
        "select_cpu" => "select_cpu { pinned  prev_core when system.smt  any  found -> QUEUE kick }",
        "enqueue" => "enqueue { CONDITION -> QUEUE  ...  else -> QUEUE }",
        "dispatch" => "dispatch { QUEUE  QUEUE starve after 5ms ... }",
        "slice" => "slice = EXPRESSION   or   slice { STATEMENTS  EXPRESSION }",
        "vtime" => "vtime charge = EXPRESSION   or   vtime lag = EXPRESSION",
        "preempt" => "preempt CLASS",
        _ => return "a policy is a list of items, each starting with a keyword such as `param`, `queue` or `on`; see docs/language.md".to_string(),
    };
    format!("a `{keyword}` item looks like: {shape}")
}

/// Turns pest pairs into syntax-tree nodes. Pair positions are relative to
/// the item being parsed; `base` makes them absolute.
struct Builder {
    base: usize,
}

impl Builder {
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.base + s.start(), self.base + s.end())
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        debug_assert_eq!(pair.as_rule(), Rule::ident);
        Ident { name: pair.as_str().to_string(), span: self.span(&pair) }
    }

    fn string(&self, pair: Pair<Rule>) -> StrLit {
        let span = self.span(&pair);
        let body = pair.into_inner().next().map_or("", |b| b.as_str());
        StrLit { value: body.to_string(), span }
    }

    fn type_name(&self, pair: Pair<Rule>) -> TypeName {
        let ty = match pair.as_str() {
            "duration" => ValueType::Duration,
            "time" => ValueType::Time,
            "int" => ValueType::Int,
            "uint" => ValueType::Uint,
            _ => ValueType::Bool,
        };
        TypeName { ty, span: self.span(&pair) }
    }

    fn path(&self, pair: Pair<Rule>) -> Path {
        let span = self.span(&pair);
        Path { parts: pair.into_inner().map(|p| self.ident(p)).collect(), span }
    }

    fn item(&self, pair: Pair<Rule>) -> Item {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        let mut next = || inner.next().expect("grammar guarantees this child");
        let kind = match rule {
            Rule::scheduler_decl => {
                let name = self.ident(next());
                let description = self.string(next());
                let timeout = inner.next().map(|t| self.expr(t.into_inner().next().expect("timeout value")));
                ItemKind::Scheduler { name, description, timeout }
            }
            Rule::param_decl => {
                let name = self.ident(next());
                let ty = self.type_name(next());
                let default = self.expr(next());
                let doc = self.string(next());
                let (mut min, mut max) = (None, None);
                if let Some(bounds) = inner.next() {
                    // `in LO..HI`: each side is optional; the ".." is a plain token.
                    let text = bounds.as_str();
                    let dots = bounds.as_span().start() + text.find("..").expect("bounds contain ..");
                    for b in bounds.into_inner() {
                        let bound = self.bound(b);
                        if bound.span.start < self.base + dots {
                            min = Some(bound);
                        } else {
                            max = Some(bound);
                        }
                    }
                }
                ItemKind::Param(ParamDecl { name, ty, default, doc, min, max })
            }
            Rule::queue_decl => {
                let name = self.ident(next());
                let placement = if next().as_str() == "per_cpu" { Placement::PerCpu } else { Placement::Shared };
                let order = if next().as_str() == "fifo" { Order::Fifo } else { Order::Vtime };
                ItemKind::Queue { name, placement, order }
            }
            Rule::class_decl => ItemKind::Class { name: self.ident(next()), doc: self.string(next()) },
            Rule::task_decl | Rule::global_decl => {
                let scope = if rule == Rule::task_decl { Scope::Task } else { Scope::Global };
                let name = self.ident(next());
                let ty = self.type_name(next());
                let init = self.expr(next());
                ItemKind::State { scope, name, ty, init }
            }
            Rule::counter_decl => {
                let name = self.ident(next());
                let second = next();
                let (bound, doc) = if second.as_rule() == Rule::path {
                    (Some(self.path(second)), self.string(next()))
                } else {
                    (None, self.string(second))
                };
                ItemKind::Counter { name, bound, doc }
            }
            Rule::gauge_decl => {
                let name = self.ident(next());
                let second = next();
                let source = if second.as_rule() == Rule::path {
                    GaugeSource::Bound(self.path(second))
                } else {
                    GaugeSource::Variable { ty: self.type_name(second), init: self.expr(next()) }
                };
                ItemKind::Gauge { name, source, doc: self.string(next()) }
            }
            Rule::event_decl => {
                let event_pair = next();
                let event_span = self.span(&event_pair);
                let event = match event_pair.as_str() {
                    "join" => Event::Join,
                    "wakeup" => Event::Wakeup,
                    "enqueue" => Event::Enqueue,
                    "running" => Event::Running,
                    _ => Event::Stopping,
                };
                ItemKind::On { event, event_span, body: self.block(next()) }
            }
            Rule::select_decl => ItemKind::SelectCpu(self.select(inner)),
            Rule::enqueue_decl => ItemKind::Enqueue { routes: inner.map(|r| self.route(r)).collect() },
            Rule::dispatch_decl => ItemKind::Dispatch { serves: inner.map(|s| self.serve(s)).collect() },
            Rule::slice_decl => ItemKind::Slice(self.formula(next())),
            Rule::vtime_decl => {
                let part = if next().as_str() == "charge" { VtimePart::Charge } else { VtimePart::Lag };
                ItemKind::Vtime { part, formula: self.formula(next()) }
            }
            Rule::preempt_decl => ItemKind::Preempt { class: self.ident(next()) },
            other => unreachable!("not an item rule: {other:?}"),
        };
        Item { kind, span }
    }

    fn bound(&self, pair: Pair<Rule>) -> Bound {
        let span = self.span(&pair);
        let negative = pair.as_str().starts_with('-');
        let value = self.expr(pair.into_inner().next().expect("bound value"));
        Bound { negative, value, span }
    }

    fn select(&self, pairs: pest::iterators::Pairs<Rule>) -> SelectCpu {
        let mut select = SelectCpu {
            preferences: Vec::new(),
            default_span: None,
            found_queue: Ident { name: String::new(), span: Span::default() },
            kick: false,
            found_span: Span::default(),
        };
        for pair in pairs {
            match pair.as_rule() {
                Rule::select_default => select.default_span = Some(self.span(&pair)),
                Rule::preference => {
                    let span = self.span(&pair);
                    let mut inner = pair.into_inner();
                    let kind = match inner.next().expect("preference kind").as_str() {
                        "pinned" => PreferenceKind::Pinned,
                        "prev_core" => PreferenceKind::PrevCore,
                        "idle_core" => PreferenceKind::IdleCore,
                        "prev" => PreferenceKind::Prev,
                        _ => PreferenceKind::Any,
                    };
                    let when = inner.next().map(|w| self.expr(w.into_inner().next().expect("when condition")));
                    select.preferences.push(Preference { kind, when, span });
                }
                _ => {
                    select.found_span = self.span(&pair);
                    let mut inner = pair.into_inner();
                    select.found_queue = self.ident(inner.next().expect("found queue"));
                    select.kick = inner.next().is_some();
                }
            }
        }
        select
    }

    fn route(&self, pair: Pair<Rule>) -> Route {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let first = inner.next().expect("route condition");
        let condition = (first.as_rule() != Rule::catch_all).then(|| self.expr(first));
        let queue = self.ident(inner.next().expect("route queue"));
        Route { condition, queue, kick: inner.next().is_some(), span }
    }

    fn serve(&self, pair: Pair<Rule>) -> Serve {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let queue = self.ident(inner.next().expect("served queue"));
        let starve_after = inner.next().map(|s| self.expr(s.into_inner().next().expect("starvation limit")));
        Serve { queue, starve_after, span }
    }

    fn formula(&self, pair: Pair<Rule>) -> Formula {
        let mut stmts = Vec::new();
        let mut result = None;
        for child in pair.into_inner() {
            if child.as_rule() == Rule::expr {
                result = Some(self.expr(child));
            } else {
                stmts.push(self.stmt(child));
            }
        }
        Formula { stmts, result: result.expect("a formula ends in an expression") }
    }

    fn block(&self, pair: Pair<Rule>) -> Vec<Stmt> {
        pair.into_inner().map(|s| self.stmt(s)).collect()
    }

    fn stmt(&self, pair: Pair<Rule>) -> Stmt {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        let mut next = || inner.next().expect("grammar guarantees this child");
        let kind = match rule {
            Rule::let_stmt => StmtKind::Let { name: self.ident(next()), value: self.expr(next()) },
            Rule::assign_stmt => {
                let target = self.path(next());
                let op = match next().as_str() {
                    "+=" => AssignOp::Add,
                    "-=" => AssignOp::Sub,
                    _ => AssignOp::Set,
                };
                StmtKind::Assign { target, op, value: self.expr(next()) }
            }
            Rule::if_stmt => {
                let cond = self.expr(next());
                let then = self.block(next());
                let otherwise = match inner.next() {
                    None => Vec::new(),
                    Some(p) if p.as_rule() == Rule::block => self.block(p),
                    Some(p) => vec![self.stmt(p)],
                };
                StmtKind::If { cond, then, otherwise }
            }
            Rule::every_stmt => StmtKind::Every { period: self.expr(next()), body: self.block(next()) },
            Rule::trace_stmt => {
                let message = self.string(next());
                StmtKind::Trace { message, args: inner.map(|a| self.expr(a)).collect() }
            }
            other => unreachable!("not a statement rule: {other:?}"),
        };
        Stmt { kind, span }
    }

    fn expr(&self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        match pair.as_rule() {
            // Wrapper rules with a single child collapse into it.
            Rule::expr => self.expr(pair.into_inner().next().expect("expr child")),
            Rule::cond_expr => {
                let mut inner = pair.into_inner();
                let mut next = || Box::new(self.expr(inner.next().expect("cond part")));
                let (cond, then, otherwise) = (next(), next(), next());
                Expr { kind: ExprKind::Cond { cond, then, otherwise }, span }
            }
            Rule::or_expr | Rule::and_expr | Rule::sum_expr | Rule::prod_expr => self.left_assoc(pair),
            Rule::not_expr | Rule::unary => {
                let children: Vec<Pair<Rule>> = pair.into_inner().collect();
                let (ops, operand) = children.split_at(children.len() - 1);
                let mut e = self.expr(operand[0].clone());
                for op in ops.iter().rev() {
                    let s = Span::new(self.span(op).start, e.span.end);
                    let boxed = Box::new(e);
                    let kind = if op.as_rule() == Rule::not_op { ExprKind::Not(boxed) } else { ExprKind::Neg(boxed) };
                    e = Expr { kind, span: s };
                }
                e
            }
            Rule::cmp_expr => {
                let mut inner = pair.into_inner();
                let lhs = self.expr(inner.next().expect("comparison lhs"));
                match inner.next() {
                    None => lhs,
                    Some(op) if op.as_rule() == Rule::is_op => {
                        let class = self.ident(inner.next().expect("class after is"));
                        Expr { kind: ExprKind::Is { value: Box::new(lhs), class }, span }
                    }
                    Some(op) => {
                        let rhs = self.expr(inner.next().expect("comparison rhs"));
                        let op = binop(op.as_str());
                        Expr { kind: ExprKind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span }
                    }
                }
            }
            Rule::call => {
                let mut inner = pair.into_inner();
                let func = self.ident(inner.next().expect("callee"));
                Expr { kind: ExprKind::Call { func, args: inner.map(|a| self.expr(a)).collect() }, span }
            }
            Rule::path => Expr { kind: ExprKind::Path(self.path(pair)), span },
            Rule::number => {
                let digits = pair.into_inner().next().expect("digits").as_str();
                Expr { kind: ExprKind::Int(parse_digits(digits)), span }
            }
            Rule::duration => {
                let mut inner = pair.into_inner();
                let value = parse_digits(inner.next().expect("digits").as_str());
                let scale: u128 = match inner.next().expect("unit").as_str() {
                    "ns" => 1,
                    "us" => 1_000,
                    "ms" => 1_000_000,
                    _ => 1_000_000_000,
                };
                Expr { kind: ExprKind::Duration(value.saturating_mul(scale)), span }
            }
            Rule::boolean => Expr { kind: ExprKind::Bool(pair.as_str() == "true"), span },
            Rule::string => Expr { kind: ExprKind::Str(self.string(pair).value), span },
            other => unreachable!("not an expression rule: {other:?}"),
        }
    }

    fn left_assoc(&self, pair: Pair<Rule>) -> Expr {
        let mut inner = pair.into_inner();
        let mut lhs = self.expr(inner.next().expect("first operand"));
        while let Some(op) = inner.next() {
            let rhs = self.expr(inner.next().expect("operand after operator"));
            let span = Span::new(lhs.span.start, rhs.span.end);
            lhs = Expr { kind: ExprKind::Binary { op: binop(op.as_str()), lhs: Box::new(lhs), rhs: Box::new(rhs) }, span };
        }
        lhs
    }
}

fn binop(text: &str) -> BinOp {
    match text {
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "%" => BinOp::Rem,
        "==" => BinOp::Eq,
        "!=" => BinOp::Ne,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "and" => BinOp::And,
        _ => BinOp::Or,
    }
}

fn parse_digits(digits: &str) -> u128 {
    digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0u128, |acc, d| acc.saturating_mul(10).saturating_add(u128::from(d - b'0')))
}
