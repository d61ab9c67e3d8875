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

/// Whether expression `e` never yields a negative value (unless its
/// arithmetic wraps around 2^64); a `let` local counts as unproven.
pub(crate) fn expr_never_negative(e: &Expr, params: &[Param], functions: &[Function]) -> bool {
    non_negative(e, params, functions, &HashMap::new())
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

#[cfg(test)]
mod tests {
    use crate::check_source;

    /// Whether the charge of a policy with `charge` as its `vtime charge`
    /// is proven never negative.
    fn proven(charge: &str) -> bool {
        let src = format!(
            "scheduler s \"x\"\nparam base: duration = 4ms \"b\" in 1ms..1s\nparam any: duration = 1ms \"a\"\n\
             queue q shared vtime\nenqueue {{ else -> q }}\ndispatch {{ q }}\nvtime charge {charge}\n"
        );
        let checked = check_source("s.policy", &src).unwrap_or_else(|r| panic!("{charge}: {r:?}"));
        let f = checked.model.vtime_charge.as_ref().unwrap();
        super::never_negative(f, &checked.model.params, &checked.model.functions)
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
