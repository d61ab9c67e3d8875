//! Expressions, by precedence from `if … then … else` down to literals.
//! Chains of one precedence level are built in a loop, left-associative.
//!
//! ```text
//! expr      = { cond_expr | or_expr }
//! cond_expr = { "if" ~ expr ~ "then" ~ expr ~ "else" ~ expr }
//! or_expr   = { and_expr ~ (or_op ~ and_expr)* }
//! and_expr  = { not_expr ~ (and_op ~ not_expr)* }
//! not_expr  = { not_op* ~ cmp_expr }
//! cmp_expr  = { sum_expr ~ ((cmp_op ~ sum_expr)+ | (is_op ~ ident) | (in_op ~ ident) | (starts_op ~ sum_expr))? }
//! sum_expr  = { prod_expr ~ (sum_op ~ prod_expr)* }
//! prod_expr = { unary ~ (prod_op ~ unary)* }
//! unary     = { neg_op* ~ primary }
//! primary   = _{ literal | call | path | "(" ~ expr ~ ")" }
//! ```
//!
//! A chain of comparisons and the shifts in `prod_op` are refused with a
//! message; the grammar admits them for that.

use pest::iterators::Pair;

use super::builder::Builder;
use super::Rule;
use crate::ast::*;
use crate::diag::{Code, Diagnostic};

impl Builder {
    pub(super) fn expr(&self, pair: Pair<Rule>) -> Expr {
        let pair = collapse(pair);
        let span = self.span(&pair);
        if !self.enter(span, 1) {
            return placeholder(span);
        }
        let e = self.expr_node(pair, span);
        self.leave(1);
        e
    }

    fn expr_node(&self, pair: Pair<Rule>, span: Span) -> Expr {
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
                if !self.enter(span, ops.len()) {
                    return placeholder(span);
                }
                let mut e = self.expr(operand[0].clone());
                self.leave(ops.len());
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
                let first = inner.next().expect("comparison lhs");
                let lhs = self.expr(first.clone());
                match inner.next() {
                    None => lhs,
                    Some(op) if op.as_rule() == Rule::is_op => {
                        let class = self.ident(inner.next().expect("class after is"));
                        Expr { kind: ExprKind::Is { value: Box::new(lhs), class }, span }
                    }
                    Some(op) if op.as_rule() == Rule::in_op => {
                        let set = self.ident(inner.next().expect("set after in"));
                        Expr { kind: ExprKind::InSet { cpu: Box::new(lhs), set }, span }
                    }
                    Some(op) if op.as_rule() == Rule::starts_op => {
                        let prefix = Box::new(self.expr(inner.next().expect("prefix after starts_with")));
                        Expr { kind: ExprKind::StartsWith { value: Box::new(lhs), prefix }, span }
                    }
                    Some(op) => {
                        let rhs = inner.next().expect("comparison rhs");
                        if inner.peek().is_some() {
                            let rest: Vec<Pair<Rule>> = inner.collect();
                            self.refuse(self.chained_comparison(span, &first, &op, &rhs, &rest));
                            return placeholder(span);
                        }
                        let rhs = self.expr(rhs);
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
            Rule::on_cpu => {
                let (cpu, path) = self.on_cpu(pair);
                Expr { kind: ExprKind::OnCpu { cpu: Box::new(cpu), path }, span }
            }
            Rule::number => {
                let digits = pair.into_inner().next().expect("digits").as_str();
                Expr { kind: ExprKind::Int(parse_digits(digits)), span }
            }
            Rule::duration => {
                // The grammar admits only digits and a unit, so the one way
                // this fails is a duration too long, which the checker reports.
                let ns = schedc_abi::units::parse(pair.as_str()).map_or(u128::MAX, u128::from);
                Expr { kind: ExprKind::Duration(ns), span }
            }
            Rule::boolean => Expr { kind: ExprKind::Bool(pair.as_str() == "true"), span },
            Rule::string => Expr { kind: ExprKind::Str(self.string(pair).value), span },
            other => unreachable!("not an expression rule: {other:?}"),
        }
    }

    fn left_assoc(&self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let operators = pair.clone().into_inner().count() / 2;
        if !self.enter(span, operators) {
            return placeholder(span);
        }
        let e = self.left_assoc_chain(pair);
        self.leave(operators);
        e
    }

    fn left_assoc_chain(&self, pair: Pair<Rule>) -> Expr {
        let mut inner = pair.into_inner();
        let mut lhs = self.expr(inner.next().expect("first operand"));
        while let Some(op) = inner.next() {
            let rhs_pair = inner.next().expect("operand after operator");
            if op.clone().into_inner().next().is_some_and(|o| o.as_rule() == Rule::shift_op) {
                self.refuse(self.shift(&op, &rhs_pair));
            }
            let rhs = self.expr(rhs_pair);
            let span = Span::new(lhs.span.start, rhs.span.end);
            lhs = Expr {
                kind: ExprKind::Binary { op: binop(op.as_str()), lhs: Box::new(lhs), rhs: Box::new(rhs) },
                span,
            };
        }
        lhs
    }
}

impl Builder {
    /// `1 < x < 5`: comparisons do not chain; the help joins the pairs
    /// with `and`.
    fn chained_comparison(
        &self,
        span: Span,
        first: &Pair<Rule>,
        op: &Pair<Rule>,
        second: &Pair<Rule>,
        rest: &[Pair<Rule>],
    ) -> Diagnostic {
        let mut operands = vec![self.text(first), self.text(second)];
        let mut ops = vec![op.as_str()];
        for pair in rest.chunks(2) {
            ops.push(pair[0].as_str());
            operands.push(self.text(&pair[1]));
        }
        let pairs: Vec<String> =
            ops.iter().enumerate().map(|(i, op)| format!("{} {op} {}", operands[i], operands[i + 1])).collect();
        Diagnostic::new(Code::Syntax, span, "comparisons do not chain")
            .label(format!("{} comparisons in a row", ops.len()))
            .help(format!("compare one pair at a time, joined with `and`: `{}`", pairs.join(" and ")))
    }

    /// `x >> 2`: there are no shifts; the help multiplies or divides by the
    /// power of two.
    fn shift(&self, op: &Pair<Rule>, rhs: &Pair<Rule>) -> Diagnostic {
        let (symbol, instead, verb) = if op.as_str() == ">>" { (">>", "/", "divide") } else { ("<<", "*", "multiply") };
        let power = self.text(rhs).parse::<u32>().ok().and_then(|n| 1u64.checked_shl(n));
        let example = match power {
            Some(p) => format!("`{symbol} {}` is `{instead} {p}`", self.text(rhs)),
            None => format!("`{symbol} 2` is `{instead} 4`"),
        };
        let at = self.span(op);
        Diagnostic::new(
            Code::Syntax,
            Span::new(at.start, self.span(rhs).end),
            format!("there is no `{symbol}` operator"),
        )
        .label("a shift")
        .help(format!("{verb} by a power of two instead: {example}"))
    }
}

/// A stand-in for an expression too deeply nested to build.
pub(super) fn placeholder(span: Span) -> Expr {
    Expr { kind: ExprKind::Int(0), span }
}

/// Descends through rules that wrap a single child (`expr`, and each level
/// of precedence when it holds no operator) without recursing.
fn collapse(mut pair: Pair<Rule>) -> Pair<Rule> {
    loop {
        match pair.as_rule() {
            Rule::expr
            | Rule::or_expr
            | Rule::and_expr
            | Rule::not_expr
            | Rule::cmp_expr
            | Rule::sum_expr
            | Rule::prod_expr
            | Rule::unary => {
                let mut inner = pair.clone().into_inner();
                match (inner.next(), inner.next()) {
                    (Some(only), None) => pair = only,
                    _ => return pair,
                }
            }
            _ => return pair,
        }
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

pub(super) fn parse_digits(digits: &str) -> u128 {
    digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0u128, |acc, d| acc.saturating_mul(10).saturating_add(u128::from(d - b'0')))
}
