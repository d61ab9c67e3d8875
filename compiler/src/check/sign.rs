//! Which values are never negative: the proof behind the `negative-charge`
//! warning, which lowering also reads (a charge proven non-negative needs
//! no clamp at 0 in the C).

use std::collections::HashMap;

use crate::model::*;

/// Whether formula `f` never yields a negative value (unless its
/// arithmetic wraps around 2^64). Its top-level `let`s count by their value.
pub(crate) fn never_negative(f: &Formula, params: &[Param], functions: &[Function]) -> bool {
    let mut lets = HashMap::new();
    for stmt in &f.stmts {
        if let StmtKind::Let { name, value } = &stmt.kind {
            let proven = non_negative(value, params, functions, &lets);
            lets.insert(name.clone(), proven);
        }
    }
    non_negative(&f.result, params, functions, &lets)
}

fn non_negative(e: &Expr, params: &[Param], functions: &[Function], lets: &HashMap<String, bool>) -> bool {
    let nn = |x: &Expr| non_negative(x, params, functions, lets);
    if matches!(e.ty, Type::Value(ValueType::Uint | ValueType::Time)) {
        return true;
    }
    match &e.kind {
        ExprKind::Const(v) => *v >= 0,
        ExprKind::Param(i) => params[*i].min.is_some_and(|m| m >= 0),
        ExprKind::Local(name) => lets.get(name).copied().unwrap_or(false),
        ExprKind::Elapsed(_) => true,
        ExprKind::Fact(f) => !matches!(f, Fact::TaskVruntime | Fact::SystemVtimeNow | Fact::TaskNice),
        ExprKind::Binary { op: BinOp::Add | BinOp::Mul | BinOp::Div | BinOp::Rem, lhs, rhs }
        | ExprKind::GuardedDiv { lhs, rhs, .. } => nn(lhs) && nn(rhs),
        ExprKind::Cond { then, otherwise, .. } => nn(then) && nn(otherwise),
        ExprKind::Call { func: Builtin::Max, args } => args.iter().any(nn),
        ExprKind::Call { func: Builtin::Min | Builtin::Ewma, args } => args.iter().all(nn),
        // min(max(x, lo), hi): hi decides when lo > hi.
        ExprKind::Call { func: Builtin::Clamp, args } => (nn(&args[0]) || nn(&args[1])) && nn(&args[2]),
        ExprKind::Convert { value, .. } => nn(value),
        // A function's body, with each argument as proven as what is passed.
        ExprKind::CallFn { func, args } => {
            let f = &functions[*func];
            let bound: HashMap<String, bool> =
                f.params.iter().map(|(n, _)| n.clone()).zip(args.iter().map(nn)).collect();
            non_negative(&f.result, params, functions, &bound)
        }
        _ => false,
    }
}

/// Whether the signed value of `e` is never negative even where the
/// arithmetic wraps: what lowering needs before it divides as unsigned.
/// A sum, a product or a uint counts only when bounds of its parts
/// (literals, parameter ranges, the facts the kernel bounds, queue lengths)
/// show it stays below 2^63.
pub(crate) fn exactly_non_negative(e: &Expr, params: &[Param], functions: &[Function]) -> bool {
    Exact { params, functions }.non_negative(e, &HashMap::new())
}

struct Exact<'m> {
    params: &'m [Param],
    functions: &'m [Function],
}

impl Exact<'_> {
    /// `locals` holds the bound of each function parameter in scope.
    fn non_negative(&self, e: &Expr, locals: &HashMap<String, Option<i128>>) -> bool {
        let ok = |x: &Expr| self.non_negative(x, locals);
        if matches!(e.ty, Type::Value(ValueType::Uint)) {
            return self.bound(e, locals).is_some();
        }
        match &e.kind {
            ExprKind::Const(v) => *v >= 0,
            ExprKind::Param(i) => self.params[*i].min.is_some_and(|m| m >= 0),
            ExprKind::Binary { op: BinOp::Div | BinOp::Rem, lhs, rhs } | ExprKind::GuardedDiv { lhs, rhs, .. } => {
                ok(lhs) && ok(rhs)
            }
            ExprKind::Cond { then, otherwise, .. } => ok(then) && ok(otherwise),
            ExprKind::Call { func: Builtin::Max, args } => args.iter().any(ok),
            ExprKind::Call { func: Builtin::Min, args } => args.iter().all(ok),
            ExprKind::Call { func: Builtin::Clamp, args } => (ok(&args[0]) || ok(&args[1])) && ok(&args[2]),
            ExprKind::Convert { value, .. } => ok(value),
            _ => self.bound(e, locals).is_some(),
        }
    }

    /// An upper bound of a value that is never negative and whose
    /// arithmetic cannot wrap (the bound stays below 2^63), if one is known.
    fn bound(&self, e: &Expr, locals: &HashMap<String, Option<i128>>) -> Option<i128> {
        let b = |x: &Expr| self.bound(x, locals);
        let value = match &e.kind {
            ExprKind::Const(v) if *v >= 0 => *v,
            ExprKind::Param(i) if self.params[*i].min.is_some_and(|m| m >= 0) => self.params[*i].max?,
            ExprKind::Local(name) => (*locals.get(name)?)?,
            ExprKind::Fact(Fact::TaskWeight) => 10_000,
            ExprKind::Fact(Fact::TaskNrCpusAllowed | Fact::SystemNrCpus) => i128::from(SCHEDC_MAX_CPUS),
            // scx_bpf_dsq_nr_queued is an s32, read as 0 when negative.
            ExprKind::QueueLen(_) | ExprKind::QueueLenOn { .. } => i128::from(i32::MAX),
            ExprKind::Binary { op: BinOp::Add, lhs, rhs } => b(lhs)? + b(rhs)?,
            ExprKind::Binary { op: BinOp::Mul, lhs, rhs } => b(lhs)? * b(rhs)?,
            ExprKind::Binary { op: BinOp::Div, lhs, rhs } | ExprKind::GuardedDiv { op: BinOp::Div, lhs, rhs } => {
                b(rhs)?;
                b(lhs)?
            }
            ExprKind::Call { func: Builtin::Max, args } => {
                args.iter().map(b).collect::<Option<Vec<_>>>()?.into_iter().max()?
            }
            ExprKind::Cond { then, otherwise, .. } => b(then)?.max(b(otherwise)?),
            ExprKind::Convert { value, .. } => b(value)?,
            ExprKind::CallFn { func, args } => {
                let f = &self.functions[*func];
                let bounds = f.params.iter().map(|(n, _)| n.clone()).zip(args.iter().map(b)).collect();
                self.bound(&f.result, &bounds)?
            }
            _ => return None,
        };
        (value <= i128::from(i64::MAX)).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use crate::check_source;

    /// The model of a policy with `charge` as its `vtime charge`.
    fn with_charge(charge: &str) -> crate::model::Model {
        let src = format!(
            "scheduler s \"x\"\nparam base: duration = 4ms \"b\" in 1ms..1s\nparam any: duration = 1ms \"a\"\n\
             queue q shared vtime\nenqueue {{ else -> q }}\ndispatch {{ q }}\nvtime charge {charge}\n"
        );
        check_source("s.policy", &src).unwrap_or_else(|r| panic!("{charge}: {r:?}")).model
    }

    /// Whether the charge is proven never negative.
    fn proven(charge: &str) -> bool {
        let m = with_charge(charge);
        super::never_negative(m.vtime_charge.as_ref().unwrap(), &m.params, &m.functions)
    }

    /// Whether the charge is exactly non-negative, wraps included (what
    /// lowering needs to divide as unsigned).
    fn exact(charge: &str) -> bool {
        let m = with_charge(&format!("= {charge}"));
        super::exactly_non_negative(&m.vtime_charge.as_ref().unwrap().result, &m.params, &m.functions)
    }

    #[test]
    fn only_what_cannot_wrap_is_exactly_non_negative() {
        assert!(exact("base * task.weight / 100"));
        assert!(exact("max(any, 0ns) / 2"));
        assert!(exact("base / max(queue.q.len, 1)"));
        // 1us * (2^63 - 1) wraps to -1000: the random test found it.
        assert!(!exact("1us * int(9223372036854775807)"));
        assert!(!exact("max(any, 0ns) * 100"));
        assert!(!exact("base / max(uint(any), 1)"));
    }

    #[test]
    fn what_is_proven_never_negative() {
        assert!(proven("= task.slice_left * 100 / task.weight"));
        assert!(proven("= max(base - task.slice_left, 0ns) * 100 / task.weight"));
        assert!(proven("= clamp(any - task.slice_left, 0ns, 1s)"));
        assert!(proven("= if event.runnable then base else 1ms"));
        assert!(proven("{\n let used = max(any, 0ns)\n used + base\n}"));
        assert!(!proven("= (base - task.slice_left) * 100 / task.weight"));
        assert!(!proven("= any"));
        assert!(!proven("= clamp(task.slice_left, 0ns, any)"));
        assert!(!proven("= min(base, any)"));
        assert!(!proven("{\n let used = base - task.slice_left\n used\n}"));
    }
}
