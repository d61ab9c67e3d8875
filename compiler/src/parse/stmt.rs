//! Statements, in blocks of `on` items and formulas.
//!
//! ```text
//! block       = { "{" ~ stmt* ~ "}" }
//! let_stmt    = { "let" ~ ident ~ "=" ~ expr }
//! if_stmt     = { "if" ~ expr ~ block ~ ("else" ~ (if_stmt | block))? }
//! every_stmt  = { "every" ~ expr ~ block }
//! trace_stmt  = { "trace" ~ string ~ ("," ~ expr)* }
//! assign_stmt = { path ~ assign_op ~ expr }
//! reenqueue_stmt = { "reenqueue" ~ "local" }
//! ```

use pest::iterators::Pair;

use super::builder::Builder;
use super::expr::placeholder;
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn block(&self, pair: Pair<Rule>) -> Vec<Stmt> {
        pair.into_inner().map(|s| self.stmt(s)).collect()
    }

    pub(super) fn stmt(&self, pair: Pair<Rule>) -> Stmt {
        let span = self.span(&pair);
        if !self.enter(span, 1) {
            return Stmt {
                kind: StmtKind::If { cond: placeholder(span), then: Vec::new(), otherwise: Vec::new() },
                span,
            };
        }
        let stmt = self.stmt_node(pair, span);
        self.leave(1);
        stmt
    }

    fn stmt_node(&self, pair: Pair<Rule>, span: Span) -> Stmt {
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        let mut next = || inner.next().expect("grammar guarantees this child");
        let kind = match rule {
            Rule::let_stmt => StmtKind::Let { name: self.ident(next()), value: self.expr(next()) },
            Rule::assign_stmt => {
                let first = next();
                let (target, on_cpu) = if first.as_rule() == Rule::on_cpu {
                    let (cpu, path) = self.on_cpu(first);
                    (path, Some(Box::new(cpu)))
                } else {
                    (self.path(first), None)
                };
                let op = match next().as_str() {
                    "+=" => AssignOp::Add,
                    "-=" => AssignOp::Sub,
                    _ => AssignOp::Set,
                };
                StmtKind::Assign { target, on_cpu, op, value: self.expr(next()) }
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
            Rule::reenqueue_stmt => StmtKind::ReenqueueLocal,
            other => unreachable!("not a statement rule: {other:?}"),
        };
        Stmt { kind, span }
    }
}
