//! Divisors: is each one proven not zero? A divisor is proven by what it is
//! made of (a constant, a parameter whose range starts above zero, a fact
//! that is never zero, `max(x, 1)`, ...), by the `let` it names, or by the
//! condition of the branch it is in (`if n == 0 then 0 else x / n`).
//!
//! A condition proves only what stays true until the division: parameters,
//! `let` names, constants and the facts that do not change while a callback
//! runs. A global or per-task variable may change in between (another CPU,
//! an assignment in the branch); the warning then says to copy it with `let`.

use crate::ast::Span;
use crate::diag::{Code, Diagnostic};
use crate::model::*;

use super::expr::Scope;
use super::{const_value, Checker};

/// How sure the checker is that a divisor is not zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum NonZero {
    Maybe,
    /// Zero only if the arithmetic wrapped around 2^64.
    UnlessWrapped,
    Proven,
}

/// Something known where an expression is checked: an expression that is
/// positive (or at least not zero), from a `let` or a branch condition.
#[derive(Debug, Clone)]
pub(super) struct Known {
    expr: Expr,
    /// Above zero, rather than only not zero.
    positive: bool,
    proof: NonZero,
}

impl Known {
    /// A `let` name whose value is positive.
    pub(super) fn local(name: &str, ty: Type, proof: NonZero) -> Option<Known> {
        let expr = Expr { kind: ExprKind::Local(name.to_string()), ty };
        (proof > NonZero::Maybe).then_some(Known { expr, positive: true, proof })
    }
}

/// What a condition says about its operands where it is `holds`: in the
/// `then` branch of `if n > 0` that `n` is positive, in the `else` branch of
/// `if n == 0` that `n` is not zero.
pub(super) fn known_from(cond: &Expr, holds: bool, out: &mut Vec<Known>) {
    match &cond.kind {
        ExprKind::Not(inner) => known_from(inner, !holds, out),
        ExprKind::Binary { op: BinOp::And, lhs, rhs } if holds => {
            known_from(lhs, true, out);
            known_from(rhs, true, out);
        }
        ExprKind::Binary { op: BinOp::Or, lhs, rhs } if !holds => {
            known_from(lhs, false, out);
            known_from(rhs, false, out);
        }
        ExprKind::Binary { op, lhs, rhs } if op.is_comparison() => {
            let op = if holds { *op } else { negated(*op) };
            // As `x OP k`, with the constant on the right.
            let (x, op, k) = match (const_value(lhs, &[]), const_value(rhs, &[])) {
                (None, Some(k)) => (lhs, op, k),
                (Some(k), None) => (rhs, swapped(op), k),
                _ => return,
            };
            let (nonzero, positive) = match op {
                BinOp::Ne => (k == 0, false),
                BinOp::Eq => (k != 0, k > 0),
                BinOp::Gt => (k >= 0, k >= 0),
                BinOp::Ge => (k >= 1, k >= 1),
                BinOp::Lt => (k <= 0, false),
                BinOp::Le => (k <= -1, false),
                _ => (false, false),
            };
            if nonzero {
                out.push(Known { expr: (**x).clone(), positive, proof: NonZero::Proven });
            }
        }
        _ => {}
    }
}

/// The comparison that holds when `op` does not.
fn negated(op: BinOp) -> BinOp {
    match op {
        BinOp::Eq => BinOp::Ne,
        BinOp::Ne => BinOp::Eq,
        BinOp::Lt => BinOp::Ge,
        BinOp::Le => BinOp::Gt,
        BinOp::Gt => BinOp::Le,
        BinOp::Ge => BinOp::Lt,
        other => other,
    }
}

/// `k OP x` as `x OP' k`.
fn swapped(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        other => other,
    }
}

/// Facts that keep their value while a callback runs.
fn steady(fact: Fact) -> bool {
    matches!(
        fact,
        Fact::TaskNvcsw
            | Fact::TaskWeight
            | Fact::TaskKthread
            | Fact::TaskNrCpusAllowed
            | Fact::TaskPid
            | Fact::TaskCpu
            | Fact::TaskLlc
            | Fact::TaskNode
            | Fact::SystemNrCpus
            | Fact::SystemSmt
            | Fact::EventPrevCpu
            | Fact::EventSync
            | Fact::EventRunnable
            | Fact::TaskTgid
            | Fact::TaskNice
            | Fact::EventWakeup
            | Fact::EventReenqueue
            | Fact::EventLast
            | Fact::EventCpuSelected
            | Fact::EventSleep
            | Fact::EventHardirq
            | Fact::EventSoftirq
            | Fact::WakerPid
            | Fact::WakerTgid
            | Fact::WakerKthread
    )
}

/// Whether two expressions compute the same value. With `steady`, only
/// expressions that keep their value while a callback runs count; without,
/// state that may change counts too (for the warning's help).
fn same(a: &Expr, b: &Expr, steady_only: bool) -> bool {
    use ExprKind::*;
    match (&a.kind, &b.kind) {
        (Const(x), Const(y)) => x == y,
        (Param(x), Param(y)) => x == y,
        (Local(x), Local(y)) => x == y,
        (Fact(x), Fact(y)) => x == y && (!steady_only || steady(*x)),
        (Global(x), Global(y)) | (TaskVar(x), TaskVar(y)) | (Stat(x), Stat(y)) => !steady_only && x == y,
        (Neg(x), Neg(y)) => same(x, y, steady_only),
        (Binary { op, lhs, rhs }, Binary { op: op2, lhs: lhs2, rhs: rhs2 })
        | (GuardedDiv { op, lhs, rhs }, GuardedDiv { op: op2, lhs: lhs2, rhs: rhs2 }) => {
            op == op2 && same(lhs, lhs2, steady_only) && same(rhs, rhs2, steady_only)
        }
        (Call { func, args }, Call { func: func2, args: args2 }) => {
            func == func2 && args.len() == args2.len() && args.iter().zip(args2).all(|(x, y)| same(x, y, steady_only))
        }
        (Convert { to, value }, Convert { to: to2, value: value2 }) => to == to2 && same(value, value2, steady_only),
        _ => false,
    }
}

impl Checker<'_> {
    /// Whether a divisor can be zero; a constant zero is an error, a maybe a
    /// warning (the generated code then yields 0).
    pub(super) fn divisor(&mut self, rhs: &Expr, span: Span, sc: &Scope) -> Option<NonZero> {
        if const_value(rhs, &[]) == Some(0) {
            self.error(
                Diagnostic::new(Code::DivisionByZero, span, "division by zero")
                    .label("this is always zero")
                    .help("divide by something that is not zero"),
            );
            return None;
        }
        let proof = match sc.known.iter().rev().find(|k| same(&k.expr, rhs, true)) {
            Some(known) => known.proof,
            None => self.positive(rhs, sc),
        };
        if proof == NonZero::Maybe {
            let text = self.text(span).to_string();
            let tested_but_may_change = sc.known.iter().any(|k| same(&k.expr, rhs, false));
            let help = if tested_but_may_change {
                format!(
                    "`{text}` is tested above, but another CPU may change it before the division; copy it with `let copy = {text}`, then test `copy` and divide by it"
                )
            } else {
                let (one, zero) = if rhs.ty == Type::Value(ValueType::Duration) { ("1ns", "0ns") } else { ("1", "0") };
                // A test proves only what stays as it is until the division.
                let or_test = if same(rhs, rhs, true) {
                    format!(", or divide only where a test such as `{text} > {zero}` holds")
                } else {
                    String::new()
                };
                format!(
                    "the division then yields 0 in {}; write e.g. `max({text}, {one})` to rule zero out{or_test}",
                    sc.what
                )
            };
            self.diags.push(
                Diagnostic::new(Code::DivisorMayBeZero, span, format!("the divisor `{text}` may be zero"))
                    .label("may be zero")
                    .help(help),
            );
        }
        Some(proof)
    }

    /// How sure we are that `e` is positive.
    pub(super) fn positive(&self, e: &Expr, sc: &Scope) -> NonZero {
        if let Some(known) = sc.known.iter().rev().find(|k| same(&k.expr, e, true)) {
            let unsigned = matches!(e.ty, Type::Value(ValueType::Uint));
            if known.positive || unsigned {
                return known.proof;
            }
        }
        match &e.kind {
            ExprKind::Const(v) if *v > 0 => NonZero::Proven,
            ExprKind::Param(i) if self.model.params[*i].min.is_some_and(|m| m > 0) => NonZero::Proven,
            ExprKind::Fact(Fact::TaskWeight | Fact::SystemNrCpus | Fact::TaskNrCpusAllowed) => NonZero::Proven,
            ExprKind::Elapsed(_) => NonZero::Proven,
            ExprKind::Call { func: Builtin::Max, args } => self.positive(&args[0], sc).max(self.positive(&args[1], sc)),
            ExprKind::Call { func: Builtin::Min, args } => self.positive(&args[0], sc).min(self.positive(&args[1], sc)),
            ExprKind::Call { func: Builtin::Clamp, args } => {
                self.positive(&args[1], sc).min(self.positive(&args[2], sc))
            }
            ExprKind::Binary { op: BinOp::Add, lhs, rhs } => {
                let (pl, pr) = (self.positive(lhs, sc), self.positive(rhs, sc));
                let (nl, nr) = (non_negative(lhs) || pl > NonZero::Maybe, non_negative(rhs) || pr > NonZero::Maybe);
                if (pl > NonZero::Maybe && nr) || (pr > NonZero::Maybe && nl) {
                    NonZero::UnlessWrapped
                } else {
                    NonZero::Maybe
                }
            }
            ExprKind::Binary { op: BinOp::Mul, lhs, rhs } => {
                if self.positive(lhs, sc) > NonZero::Maybe && self.positive(rhs, sc) > NonZero::Maybe {
                    NonZero::UnlessWrapped
                } else {
                    NonZero::Maybe
                }
            }
            _ => NonZero::Maybe,
        }
    }
}

fn non_negative(e: &Expr) -> bool {
    matches!(e.ty, Type::Value(ValueType::Uint | ValueType::Time)) || matches!(e.kind, ExprKind::Const(v) if v >= 0)
}
