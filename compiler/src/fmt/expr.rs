//! Expressions in their canonical spelling: one space around binary
//! operators, none inside calls and brackets, durations in their largest
//! exact unit. The syntax tree has no parentheses, so they are put back
//! where precedence needs them and where the author wrote them.

use crate::ast::{BinOp, Expr, ExprKind};

use super::source::Source;

/// How tightly an expression binds; an operand binding more loosely than
/// its place requires is bracketed. Mirrors the precedence in the grammar.
fn binding(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Cond { .. } => 0,
        ExprKind::Binary { op: BinOp::Or, .. } => 1,
        ExprKind::Binary { op: BinOp::And, .. } => 2,
        ExprKind::Not(_) => 3,
        ExprKind::Is { .. } | ExprKind::StartsWith { .. } => 4,
        ExprKind::Binary { op, .. } if op.is_comparison() => 4,
        ExprKind::Binary { op: BinOp::Add | BinOp::Sub, .. } => 5,
        ExprKind::Binary { .. } => 6,
        ExprKind::Neg(_) => 7,
        _ => 8,
    }
}

/// The binding each operand of a binary operator needs: operators chain to
/// the left, and comparisons do not chain at all.
fn operand_bindings(op: BinOp) -> (u8, u8) {
    match op {
        BinOp::Or => (1, 2),
        BinOp::And => (2, 3),
        BinOp::Add | BinOp::Sub => (5, 6),
        BinOp::Mul | BinOp::Div | BinOp::Rem => (6, 7),
        _ => (5, 5),
    }
}

pub(super) struct ExprPrinter<'a, 's> {
    pub source: &'a Source<'s>,
    /// Bracket every operand that is not a primary, and ignore the author's
    /// brackets: a spelling that shows the tree's shape, to compare trees.
    pub explicit: bool,
}

impl ExprPrinter<'_, '_> {
    pub fn expr(&self, e: &Expr) -> String {
        self.operand(e, 0, None)
    }

    /// `e` in a place that needs `min` binding; `call_paren` is the opening
    /// bracket of the call `e` is the argument of, which is not the author's.
    fn operand(&self, e: &Expr, min: u8, call_paren: Option<usize>) -> String {
        let text = self.bare(e);
        let bracket = if self.explicit {
            binding(e) < 8 && min > 0
        } else {
            binding(e) < min || self.source.parenthesized(e.span.start, e.span.end, call_paren)
        };
        if bracket {
            format!("({text})")
        } else {
            text
        }
    }

    /// The CPU of `cpu(CPU).…`, whose bracket is the syntax's own.
    pub fn cpu_arg(&self, cpu: &Expr) -> String {
        let paren = self.source.previous_code(cpu.span.start);
        self.operand(cpu, 0, paren)
    }

    fn bare(&self, e: &Expr) -> String {
        let src = self.source.text;
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::Str(_) => src[e.span.start..e.span.end].to_string(),
            ExprKind::Duration(ns) => duration(*ns).unwrap_or_else(|| src[e.span.start..e.span.end].to_string()),
            ExprKind::Path(p) => p.text(),
            ExprKind::OnCpu { cpu, path } => format!("cpu({}).{}", self.cpu_arg(cpu), path.text()),
            ExprKind::Call { func, args } => {
                let paren = self.source.next_code(func.span.end);
                let args: Vec<String> = args.iter().map(|a| self.operand(a, 0, Some(paren))).collect();
                format!("{}({})", func.name, args.join(", "))
            }
            ExprKind::Neg(inner) => {
                let inner = self.operand(inner, 7, None);
                // `- -x`, not `--x`, which reads as a decrement.
                if inner.starts_with('-') {
                    format!("- {inner}")
                } else {
                    format!("-{inner}")
                }
            }
            ExprKind::Not(inner) => format!("not {}", self.operand(inner, 3, None)),
            ExprKind::Binary { op, lhs, rhs } => {
                let (left, right) = operand_bindings(*op);
                format!("{} {} {}", self.operand(lhs, left, None), op.symbol(), self.operand(rhs, right, None))
            }
            ExprKind::Is { value, class } => format!("{} is {}", self.operand(value, 5, None), class.name),
            ExprKind::InSet { cpu, set } => format!("{} in {}", self.operand(cpu, 5, None), set.name),
            ExprKind::StartsWith { value, prefix } => {
                format!("{} starts_with {}", self.operand(value, 5, None), self.operand(prefix, 5, None))
            }
            ExprKind::Cond { cond, then, otherwise } => format!(
                "if {} then {} else {}",
                self.operand(cond, 0, None),
                self.operand(then, 0, None),
                self.operand(otherwise, 0, None)
            ),
        }
    }
}

/// A duration in the largest unit that holds it exactly (`0ns` for zero);
/// `None` for a literal too large to have been read exactly.
pub(crate) fn duration(ns: u128) -> Option<String> {
    if ns == u128::MAX {
        return None;
    }
    if ns == 0 {
        return Some("0ns".to_string());
    }
    let (scale, unit) = [(1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "us"), (1, "ns")]
        .into_iter()
        .find(|(s, _)| ns.is_multiple_of(*s))?;
    Some(format!("{}{unit}", ns / scale))
}
