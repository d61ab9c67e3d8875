//! Expressions and statements: name resolution, types and units.
//!
//! Units follow physics: a duration times a count is a duration, a duration
//! over a duration is a count, and a duration plus a count is a mistake.

use crate::ast::{self, Span};
use crate::diag::Diagnostic;
use crate::model::*;

use super::{const_value, names, Checker, Symbol};

/// What an expression may refer to where it stands.
#[derive(Debug, Clone)]
pub(super) struct Scope {
    /// Where the expression is, for messages ("a starvation limit").
    pub what: &'static str,
    /// A task is at hand (`task.*` facts and state).
    pub task: bool,
    /// `event.sync` and `event.prev_cpu` are known.
    pub wakeup: bool,
    /// `event.runnable` is known.
    pub stopping: bool,
    /// `every` blocks are allowed.
    pub sampling: bool,
    /// Inside `every`: its sampler, which makes `elapsed` known.
    pub every: Option<usize>,
    pub locals: Vec<(String, Type)>,
}

impl Scope {
    pub fn constant(what: &'static str) -> Self {
        Scope { what, task: false, wakeup: false, stopping: false, sampling: false, every: None, locals: Vec::new() }
    }

    pub fn task(what: &'static str) -> Self {
        Scope { task: true, ..Scope::constant(what) }
    }
}

/// A checked expression. `literal` marks a bare number whose type adapts to
/// the other operand (`4 * system.nr_cpus` is a uint).
#[derive(Debug, Clone)]
pub(super) struct Typed {
    pub e: Expr,
    pub ty: Type,
    pub literal: bool,
}

impl Typed {
    fn new(kind: ExprKind, ty: Type) -> Self {
        Typed { e: Expr { kind, ty }, ty, literal: false }
    }

    fn value(&self) -> Option<ValueType> {
        match self.ty {
            Type::Value(v) => Some(v),
            _ => None,
        }
    }

    fn is_count(&self) -> bool {
        matches!(self.value(), Some(ValueType::Int | ValueType::Uint))
    }

    fn is_zero_literal(&self) -> bool {
        self.literal && matches!(self.e.kind, ExprKind::Const(0))
    }

    /// Whether this value may be used where a `want` is expected.
    pub fn fits(&self, want: ValueType) -> bool {
        if self.ty == Type::Value(want) && !self.literal {
            return true;
        }
        if !self.literal {
            return false;
        }
        let v = const_value(&self.e, &[]);
        match want {
            ValueType::Int => v.is_none_or(|v| v <= i128::from(i64::MAX)),
            ValueType::Uint => v.is_none_or(|v| v >= 0),
            ValueType::Duration | ValueType::Time => self.is_zero_literal(),
            ValueType::Bool => false,
        }
    }

    pub fn describe(&self) -> String {
        if self.literal {
            return "a number".to_string();
        }
        match self.ty {
            Type::Value(ValueType::Int) => "an int".to_string(),
            Type::Value(v) => format!("a {}", v.keyword()),
            Type::Class => "a class".to_string(),
            Type::Str => "a string".to_string(),
        }
    }

    /// The expression, with a literal settled to the type it is used as.
    pub fn into_expr(self, ty: ValueType) -> Expr {
        if self.literal {
            retype(self.e, Type::Value(ty))
        } else {
            self.e
        }
    }
}

fn retype(mut e: Expr, ty: Type) -> Expr {
    e.ty = ty;
    e.kind = match e.kind {
        ExprKind::Neg(x) => ExprKind::Neg(Box::new(retype(*x, ty))),
        ExprKind::Binary { op, lhs, rhs } if !op.is_comparison() && !matches!(op, BinOp::And | BinOp::Or) => {
            ExprKind::Binary { op, lhs: Box::new(retype(*lhs, ty)), rhs: Box::new(retype(*rhs, ty)) }
        }
        other => other,
    };
    e
}

/// The built-in `task.*` facts and their types.
pub(super) fn task_fact(name: &str) -> Option<(Fact, Type)> {
    use ValueType::*;
    Some(match name {
        "nvcsw" => (Fact::TaskNvcsw, Type::Value(Uint)),
        "weight" => (Fact::TaskWeight, Type::Value(Uint)),
        "kthread" => (Fact::TaskKthread, Type::Value(Bool)),
        "nr_cpus_allowed" => (Fact::TaskNrCpusAllowed, Type::Value(Uint)),
        "pid" => (Fact::TaskPid, Type::Value(Int)),
        "comm" => (Fact::TaskComm, Type::Str),
        "vruntime" => (Fact::TaskVruntime, Type::Value(Duration)),
        "slice_left" => (Fact::TaskSliceLeft, Type::Value(Duration)),
        "cpu" => (Fact::TaskCpu, Type::Value(Int)),
        "class" => (Fact::TaskClass, Type::Class),
        _ => return None,
    })
}

const TASK_FACTS: &[&str] = &["nvcsw", "weight", "kthread", "nr_cpus_allowed", "pid", "comm", "vruntime", "slice_left", "cpu", "class"];
const SYSTEM_FACTS: &[&str] = &["now", "nr_cpus", "smt", "vtime_now"];
const EVENT_FACTS: &[&str] = &["prev_cpu", "sync", "runnable"];
const FUNCTIONS: &[&str] = &["min", "max", "clamp", "ewma", "int", "uint"];

/// The deepest nesting of expressions and statements the checker accepts;
/// real policies stay far below it.
const MAX_NESTING: usize = 64;

/// How sure the checker is that a divisor is not zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum NonZero {
    Maybe,
    /// Zero only if the arithmetic wrapped around 2^64.
    UnlessWrapped,
    Proven,
}

impl Checker<'_> {
    pub(super) fn expr(&mut self, e: &ast::Expr, sc: &Scope) -> Option<Typed> {
        if !self.enter(e.span) {
            return None;
        }
        let t = self.expr_at_depth(e, sc);
        self.depth -= 1;
        t
    }

    /// Goes one level deeper into an expression or a statement, unless that
    /// is too deep: the checker (and the code generator after it) recurse
    /// on the nesting, and a machine-written policy could exhaust the stack.
    fn enter(&mut self, span: Span) -> bool {
        if self.depth >= MAX_NESTING {
            if !self.too_deep {
                self.too_deep = true;
                self.error(
                    Diagnostic::error("too-deep", span, "this is nested too deeply")
                        .label(format!("more than {MAX_NESTING} levels of nesting"))
                        .help("split it into smaller parts with `let`"),
                );
            }
            return false;
        }
        self.depth += 1;
        true
    }

    fn expr_at_depth(&mut self, e: &ast::Expr, sc: &Scope) -> Option<Typed> {
        use ast::ExprKind as A;
        match &e.kind {
            A::Int(v) => {
                if *v > u128::from(u64::MAX) {
                    self.error(
                        Diagnostic::error("out-of-range", e.span, "this number does not fit in 64 bits")
                            .label("too large")
                            .help("the largest value is 18446744073709551615"),
                    );
                    return None;
                }
                Some(Typed { literal: true, ..Typed::new(ExprKind::Const(*v as i128), Type::Value(ValueType::Int)) })
            }
            A::Duration(ns) => {
                if *ns > i64::MAX as u128 {
                    self.error(
                        Diagnostic::error("out-of-range", e.span, "this duration is too long")
                            .label("more than 2^63 ns")
                            .help("durations are signed 64-bit nanoseconds: at most about 292 years"),
                    );
                    return None;
                }
                Some(Typed::new(ExprKind::Const(*ns as i128), Type::Value(ValueType::Duration)))
            }
            A::Bool(b) => Some(Typed::new(ExprKind::Const(i128::from(*b)), Type::Value(ValueType::Bool))),
            A::Str(s) => Some(Typed::new(ExprKind::Str(s.clone()), Type::Str)),
            A::Path(p) => self.path_expr(p, sc),
            A::Call { func, args } => self.call(func, args, e.span, sc),
            A::Neg(x) => {
                let t = self.expr(x, sc)?;
                match t.value() {
                    Some(ValueType::Int | ValueType::Duration) => {
                        if t.literal {
                            if let ExprKind::Const(v) = t.e.kind {
                                return Some(Typed { literal: true, ..Typed::new(ExprKind::Const(-v), t.ty) });
                            }
                        }
                        let ty = t.ty;
                        Some(Typed { literal: t.literal, ..Typed::new(ExprKind::Neg(Box::new(t.e)), ty) })
                    }
                    _ => {
                        let help = if t.value() == Some(ValueType::Uint) { "a `uint` cannot be negative; convert it with `int(...)` first" } else { "only ints and durations can be negated" };
                        self.error(
                            Diagnostic::error("type-mismatch", e.span, format!("cannot negate {}", t.describe()))
                                .label(format!("this is {}", t.describe()))
                                .help(help),
                        );
                        None
                    }
                }
            }
            A::Not(x) => {
                let c = self.condition(x, sc)?;
                Some(Typed::new(ExprKind::Not(Box::new(c)), Type::Value(ValueType::Bool)))
            }
            A::Binary { op, lhs, rhs } => {
                let (l, r) = (self.expr(lhs, sc), self.expr(rhs, sc));
                self.binary(*op, l?, r?, lhs.span, rhs.span, e.span, sc)
            }
            A::Is { value, class } => {
                // `task is CLASS` reads as `task.class == CLASS`.
                let t = match &value.kind {
                    A::Path(p) if p.parts.len() == 1 && p.parts[0].name == "task" => {
                        if !self.task_here(p.span, sc) || !self.classes_declared(p.span) {
                            return None;
                        }
                        Typed::new(ExprKind::Fact(Fact::TaskClass), Type::Class)
                    }
                    _ => self.expr(value, sc)?,
                };
                if t.ty != Type::Class {
                    self.error(
                        Diagnostic::error("type-mismatch", value.span, "`is` tests a task's class")
                            .label(format!("this is {}", t.describe()))
                            .help("write `task is CLASS`"),
                    );
                    return None;
                }
                let target = if class.name == "none" { None } else { Some(self.class_ref(class)?) };
                let rhs = Expr { kind: ExprKind::ClassValue(target), ty: Type::Class };
                let kind = ExprKind::Binary { op: BinOp::Eq, lhs: Box::new(t.e), rhs: Box::new(rhs) };
                Some(Typed::new(kind, Type::Value(ValueType::Bool)))
            }
            A::Cond { cond, then, otherwise } => {
                let c = self.condition(cond, sc);
                let (a, b) = (self.expr(then, sc), self.expr(otherwise, sc));
                let (c, a, b) = (c?, a?, b?);
                let Some((ty, literal)) = unify(&a, &b) else {
                    self.error(
                        Diagnostic::error("type-mismatch", e.span, format!("the two branches differ: {} and {}", a.describe(), b.describe()))
                            .label("both branches must have the same type")
                            .help("make both branches durations, or both counts, or both classes"),
                    );
                    return None;
                };
                let kind = ExprKind::Cond { cond: Box::new(c), then: Box::new(settle(a, ty)), otherwise: Box::new(settle(b, ty)) };
                Some(Typed { literal, ..Typed::new(kind, ty) })
            }
        }
    }

    /// An expression that must be a bool.
    pub(super) fn condition(&mut self, e: &ast::Expr, sc: &Scope) -> Option<Expr> {
        let t = self.expr(e, sc)?;
        if t.ty == Type::Value(ValueType::Bool) {
            Some(t.e)
        } else {
            self.error(
                Diagnostic::error("type-mismatch", e.span, format!("a condition must be a bool, but this is {}", t.describe()))
                    .label("not a bool")
                    .help("compare it with something, e.g. `x > 0`"),
            );
            None
        }
    }

    fn path_expr(&mut self, p: &ast::Path, sc: &Scope) -> Option<Typed> {
        let parts: Vec<&str> = p.parts.iter().map(|i| i.name.as_str()).collect();
        match parts.as_slice() {
            [_] => self.name_expr(&p.parts[0], sc),
            ["task", field] => {
                if !self.task_here(p.span, sc) {
                    return None;
                }
                if let Some((fact, ty)) = task_fact(field) {
                    if fact == Fact::TaskClass && !self.classes_declared(p.span) {
                        return None;
                    }
                    return Some(Typed::new(ExprKind::Fact(fact), ty));
                }
                if let Some((i, _)) = self.task_var_names.get(*field).copied() {
                    self.usage.entry(format!("task.{field}")).or_default().read = true;
                    let ty = self.model.task_vars[i].ty;
                    return Some(Typed::new(ExprKind::TaskVar(i), Type::Value(ty)));
                }
                let vars: Vec<String> = self.task_var_names.keys().cloned().collect();
                let candidates = TASK_FACTS.iter().copied().chain(vars.iter().map(String::as_str));
                self.unknown(&p.parts[1], "task fact or per-task variable", candidates, "declare per-task state with `task NAME: TYPE = INITIAL`");
                None
            }
            ["system", field] => {
                let (fact, ty) = match *field {
                    "now" => (Fact::SystemNow, ValueType::Time),
                    "nr_cpus" => (Fact::SystemNrCpus, ValueType::Uint),
                    "smt" => (Fact::SystemSmt, ValueType::Bool),
                    "vtime_now" => {
                        if !self.model.queues.iter().any(|q| q.order == Order::Vtime) {
                            self.error(
                                Diagnostic::error("unknown-name", p.span, "`system.vtime_now` needs a vruntime-ordered queue")
                                    .label("no queue is ordered by vruntime")
                                    .help("declare a queue with `vtime` order"),
                            );
                            return None;
                        }
                        (Fact::SystemVtimeNow, ValueType::Duration)
                    }
                    _ => {
                        self.unknown(&p.parts[1], "system fact", SYSTEM_FACTS.iter().copied(), "the system facts are now, nr_cpus, smt and vtime_now");
                        return None;
                    }
                };
                Some(Typed::new(ExprKind::Fact(fact), Type::Value(ty)))
            }
            ["event", field] => {
                let (fact, ty, known, place) = match *field {
                    "prev_cpu" => (Fact::EventPrevCpu, ValueType::Int, sc.wakeup, "`on wakeup` and `select_cpu`"),
                    "sync" => (Fact::EventSync, ValueType::Bool, sc.wakeup, "`on wakeup` and `select_cpu`"),
                    "runnable" => (Fact::EventRunnable, ValueType::Bool, sc.stopping, "`on stopping` and `vtime charge`"),
                    _ => {
                        self.unknown(&p.parts[1], "event fact", EVENT_FACTS.iter().copied(), "the event facts are prev_cpu, sync and runnable");
                        return None;
                    }
                };
                if !known {
                    self.error(
                        Diagnostic::error("wrong-context", p.span, format!("`event.{field}` is not known in {}", sc.what))
                            .label("not known here")
                            .help(format!("`event.{field}` can be read only in {place}")),
                    );
                    return None;
                }
                Some(Typed::new(ExprKind::Fact(fact), Type::Value(ty)))
            }
            ["queue", _, "len"] => {
                let q = self.queue_index(&p.parts[1])?;
                Some(Typed::new(ExprKind::QueueLen(q), Type::Value(ValueType::Uint)))
            }
            ["queue", _, "inserted"] => {
                self.error(
                    Diagnostic::error("bad-binding", p.span, "`inserted` is read through a counter")
                        .label("not a value in rules")
                        .help("declare `counter NAME = queue.Q.inserted \"meaning\"` and read NAME"),
                );
                None
            }
            _ => {
                self.error(
                    Diagnostic::error("unknown-name", p.span, format!("`{}` is not something a policy can read", p.text()))
                        .label("unknown")
                        .help("dotted names start with `task.`, `system.`, `event.` or `queue.NAME.len`"),
                );
                None
            }
        }
    }

    /// `task.class` means something only once a class is declared.
    fn classes_declared(&mut self, span: Span) -> bool {
        let any = !self.model.classes.is_empty();
        if !any {
            self.error(
                Diagnostic::error("unknown-name", span, "this policy declares no class")
                    .label("every task is in no class")
                    .help("declare one with `class NAME \"what its tasks are\"`"),
            );
        }
        any
    }

    fn task_here(&mut self, span: Span, sc: &Scope) -> bool {
        if !sc.task {
            self.error(
                Diagnostic::error("wrong-context", span, format!("there is no task in {}", sc.what))
                    .label("no task here")
                    .help("this is evaluated once for the whole scheduler; use parameters, globals and `system.*` facts"),
            );
        }
        sc.task
    }

    fn name_expr(&mut self, id: &ast::Ident, sc: &Scope) -> Option<Typed> {
        let name = id.name.as_str();
        if let Some((_, ty)) = sc.locals.iter().rev().find(|(n, _)| n == name) {
            return Some(Typed::new(ExprKind::Local(name.to_string()), *ty));
        }
        if name == "elapsed" {
            return match sc.every {
                Some(sampler) => Some(Typed::new(ExprKind::Elapsed(sampler), Type::Value(ValueType::Duration))),
                None => {
                    self.error(
                        Diagnostic::error("wrong-context", id.span, "`elapsed` is only known inside an `every` block")
                            .label("outside `every`")
                            .help("wrap the rule in `every 1s { ... }`; `elapsed` is the time since the block last ran for this task"),
                    );
                    None
                }
            };
        }
        if name == "none" {
            return Some(Typed::new(ExprKind::ClassValue(None), Type::Class));
        }
        let symbol = self.symbols.get(name).map(|(s, _)| *s);
        let typed = match symbol {
            // A parameter is in the model once its default and range are
            // checked: until then it is the one being declared.
            Some(Symbol::Param(i)) if i >= self.model.params.len() => {
                self.error(
                    Diagnostic::error("not-constant", id.span, format!("`{name}` is used in its own declaration"))
                        .label("not known yet")
                        .help("write a literal such as `5ms`, `10` or `true`"),
                );
                return None;
            }
            Some(Symbol::Param(i)) => Typed::new(ExprKind::Param(i), Type::Value(self.model.params[i].ty)),
            Some(Symbol::Global(i)) => Typed::new(ExprKind::Global(i), Type::Value(self.model.globals[i].ty)),
            Some(Symbol::Stat(i)) => Typed::new(ExprKind::Stat(i), Type::Value(self.model.stats[i].ty)),
            Some(Symbol::Class(i)) => Typed::new(ExprKind::ClassValue(Some(i)), Type::Class),
            Some(Symbol::Queue(_)) => {
                self.error(
                    Diagnostic::error("type-mismatch", id.span, format!("`{name}` is a queue, not a value"))
                        .label("a queue")
                        .help(format!("use `queue.{name}.len` for the number of tasks it holds")),
                );
                return None;
            }
            None => {
                let mut candidates: Vec<String> = self.symbols.keys().cloned().collect();
                candidates.extend(sc.locals.iter().map(|(n, _)| n.clone()));
                let help = if TASK_FACTS.contains(&name) {
                    format!("task facts are written `task.{name}`")
                } else if SYSTEM_FACTS.contains(&name) {
                    format!("system facts are written `system.{name}`")
                } else {
                    "declare it as a `param`, `global`, `gauge` or `counter`, or with `let`".to_string()
                };
                self.unknown(id, "name", candidates.iter().map(String::as_str), &help);
                return None;
            }
        };
        self.usage.entry(name.to_string()).or_default().read = true;
        Some(typed)
    }

    fn unknown<'c>(&mut self, id: &ast::Ident, what: &str, candidates: impl IntoIterator<Item = &'c str>, fallback: &str) {
        let help = match names::suggest(&id.name, candidates) {
            Some(s) => format!("did you mean `{s}`?"),
            None => fallback.to_string(),
        };
        self.error(
            Diagnostic::error("unknown-name", id.span, format!("unknown {what} `{}`", id.name))
                .label("not declared")
                .help(help),
        );
    }

    fn call(&mut self, func: &ast::Ident, args: &[ast::Expr], span: Span, sc: &Scope) -> Option<Typed> {
        let (builtin, arity, shape) = match func.name.as_str() {
            "min" => (Some(Builtin::Min), 2, "min(a, b)"),
            "max" => (Some(Builtin::Max), 2, "max(a, b)"),
            "clamp" => (Some(Builtin::Clamp), 3, "clamp(value, low, high)"),
            "ewma" => (Some(Builtin::Ewma), 2, "ewma(average, sample)"),
            "int" => (None, 1, "int(value)"),
            "uint" => (None, 1, "uint(value)"),
            _ => {
                self.unknown(func, "function", FUNCTIONS.iter().copied(), "the functions are min, max, clamp, ewma, int and uint");
                // Still check the arguments: their own mistakes are worth
                // reporting, and the names they use are used.
                for a in args {
                    self.expr(a, sc);
                }
                return None;
            }
        };
        if args.len() != arity {
            for a in args {
                self.expr(a, sc);
            }
            self.error(
                Diagnostic::error("wrong-arity", span, format!("`{}` takes {arity} argument{}, not {}", func.name, if arity == 1 { "" } else { "s" }, args.len()))
                    .label("wrong number of arguments")
                    .help(format!("write `{shape}`")),
            );
            return None;
        }
        let typed: Vec<Option<Typed>> = args.iter().map(|a| self.expr(a, sc)).collect();
        let typed: Vec<Typed> = typed.into_iter().collect::<Option<_>>()?;
        for (t, a) in typed.iter().zip(args) {
            if !matches!(t.value(), Some(ValueType::Int | ValueType::Uint | ValueType::Duration | ValueType::Time)) {
                self.error(
                    Diagnostic::error("type-mismatch", a.span, format!("`{}` needs numbers, durations or times, not {}", func.name, t.describe()))
                        .label(format!("this is {}", t.describe()))
                        .help(format!("write `{shape}`")),
                );
                return None;
            }
        }
        let Some(builtin) = builtin else {
            let to = if func.name == "int" { ValueType::Int } else { ValueType::Uint };
            let arg = typed.into_iter().next().expect("arity checked");
            let inner = arg.into_expr(to);
            return Some(Typed::new(ExprKind::Convert { to, value: Box::new(inner) }, Type::Value(to)));
        };
        let mut ty = (typed[0].ty, typed[0].literal);
        for (t, a) in typed.iter().zip(args).skip(1) {
            let acc = Typed { e: typed[0].e.clone(), ty: ty.0, literal: ty.1 };
            match unify(&acc, t) {
                Some(u) => ty = u,
                None => {
                    self.error(
                        Diagnostic::error("type-mismatch", a.span, format!("the arguments of `{}` differ: {} and {}", func.name, acc.describe(), t.describe()))
                            .label(format!("this is {}", t.describe()))
                            .help("all arguments must have the same unit"),
                    );
                    return None;
                }
            }
        }
        let args = typed.into_iter().map(|t| settle(t, ty.0)).collect();
        Some(Typed { literal: ty.1, ..Typed::new(ExprKind::Call { func: builtin, args }, ty.0) })
    }

    #[allow(clippy::too_many_arguments)]
    fn binary(&mut self, op: BinOp, l: Typed, r: Typed, lspan: Span, rspan: Span, span: Span, sc: &Scope) -> Option<Typed> {
        let bool_ty = Type::Value(ValueType::Bool);
        if matches!(op, BinOp::And | BinOp::Or) {
            for (t, s) in [(&l, lspan), (&r, rspan)] {
                if t.ty != bool_ty {
                    self.error(
                        Diagnostic::error("type-mismatch", s, format!("`{}` needs bools, but this is {}", op.symbol(), t.describe()))
                            .label("not a bool")
                            .help("compare it with something, e.g. `x > 0`"),
                    );
                    return None;
                }
            }
            return Some(Typed::new(ExprKind::Binary { op, lhs: Box::new(l.e), rhs: Box::new(r.e) }, bool_ty));
        }
        if op.is_comparison() {
            return self.comparison(op, l, r, span);
        }
        let ty = match arith_type(op, &l, &r) {
            Ok(ty) => ty,
            Err(help) => {
                self.error(
                    Diagnostic::error("unit-mismatch", span, format!("cannot apply `{}` to {} and {}", op.symbol(), l.describe(), r.describe()))
                        .label(format!("{} {} {}", l.describe(), op.symbol(), r.describe()))
                        .help(help),
                );
                return None;
            }
        };
        let literal = l.literal && r.literal;
        let (lhs, rhs) = (Box::new(settle_operand(l, ty, literal)), Box::new(settle_operand(r, ty, literal)));
        let kind = if matches!(op, BinOp::Div | BinOp::Rem) {
            match self.divisor(&rhs, rspan, sc)? {
                NonZero::Proven => ExprKind::Binary { op, lhs, rhs },
                _ => ExprKind::GuardedDiv { op, lhs, rhs },
            }
        } else {
            ExprKind::Binary { op, lhs, rhs }
        };
        Some(Typed { literal, ..Typed::new(kind, ty) })
    }

    fn comparison(&mut self, op: BinOp, l: Typed, r: Typed, span: Span) -> Option<Typed> {
        let bool_ty = Type::Value(ValueType::Bool);
        let equality = matches!(op, BinOp::Eq | BinOp::Ne);
        // `task.comm == "name"`: the only place strings meet.
        if l.ty == Type::Str || r.ty == Type::Str {
            // `task.comm` is a string too: tell the two sides apart by kind.
            let (fact, text) = if matches!(l.e.kind, ExprKind::Str(_)) { (&r, &l) } else { (&l, &r) };
            return match (&fact.e.kind, &text.e.kind) {
                (ExprKind::Fact(Fact::TaskComm), ExprKind::Str(name)) if equality => {
                    if name.len() >= 16 {
                        self.error(
                            Diagnostic::error("out-of-range", span, "a task name is at most 15 characters")
                                .label(format!("{} characters", name.len()))
                                .help("the kernel keeps only the first 15 characters of `task.comm`"),
                        );
                        return None;
                    }
                    Some(Typed::new(ExprKind::CommIs { name: name.clone(), equal: op == BinOp::Eq }, bool_ty))
                }
                _ => {
                    self.error(
                        Diagnostic::error("type-mismatch", span, "strings can only be compared with `task.comm`, using `==` or `!=`")
                            .label("cannot compare this")
                            .help("write e.g. `task.comm == \"kworker\"`"),
                    );
                    None
                }
            };
        }
        let Some((ty, _)) = unify(&l, &r) else {
            let help = match (l.value(), r.value()) {
                (Some(ValueType::Int), Some(ValueType::Uint)) | (Some(ValueType::Uint), Some(ValueType::Int)) => {
                    "convert one side with `int(...)` or `uint(...)`".to_string()
                }
                _ => "both sides must have the same type and unit".to_string(),
            };
            self.error(
                Diagnostic::error("type-mismatch", span, format!("cannot compare {} with {}", l.describe(), r.describe()))
                    .label("different types")
                    .help(help),
            );
            return None;
        };
        if !equality && matches!(ty, Type::Class | Type::Value(ValueType::Bool)) {
            self.error(
                Diagnostic::error("type-mismatch", span, format!("`{}` needs numbers, durations or times", op.symbol()))
                    .label("not ordered")
                    .help("classes and bools can only be compared with `==` and `!=`"),
            );
            return None;
        }
        let kind = ExprKind::Binary { op, lhs: Box::new(settle(l, ty)), rhs: Box::new(settle(r, ty)) };
        Some(Typed::new(kind, bool_ty))
    }

    /// Whether a divisor can be zero; a constant zero is an error, a maybe a
    /// warning (the generated code then yields 0).
    fn divisor(&mut self, rhs: &Expr, span: Span, sc: &Scope) -> Option<NonZero> {
        if const_value(rhs, &[]) == Some(0) {
            self.error(
                Diagnostic::error("division-by-zero", span, "division by zero")
                    .label("this is always zero")
                    .help("divide by something that is not zero"),
            );
            return None;
        }
        let proof = self.positive(rhs);
        if proof == NonZero::Maybe {
            let text = self.text(span).to_string();
            self.diags.push(
                Diagnostic::warning("divisor-may-be-zero", span, format!("the divisor `{text}` may be zero"))
                    .label("may be zero")
                    .help(format!("the division then yields 0 in {}; write e.g. `max({text}, 1)` to rule zero out", sc.what)),
            );
        }
        Some(proof)
    }

    /// How sure we are that `e` is positive.
    fn positive(&self, e: &Expr) -> NonZero {
        match &e.kind {
            ExprKind::Const(v) if *v > 0 => NonZero::Proven,
            ExprKind::Param(i) if self.model.params[*i].min.is_some_and(|m| m > 0) => NonZero::Proven,
            ExprKind::Fact(Fact::TaskWeight | Fact::SystemNrCpus | Fact::TaskNrCpusAllowed) => NonZero::Proven,
            ExprKind::Elapsed(_) => NonZero::Proven,
            ExprKind::Call { func: Builtin::Max, args } => self.positive(&args[0]).max(self.positive(&args[1])),
            ExprKind::Call { func: Builtin::Min, args } => self.positive(&args[0]).min(self.positive(&args[1])),
            ExprKind::Call { func: Builtin::Clamp, args } => self.positive(&args[1]).min(self.positive(&args[2])),
            ExprKind::Binary { op: BinOp::Add, lhs, rhs } => {
                let (pl, pr) = (self.positive(lhs), self.positive(rhs));
                let (nl, nr) = (non_negative(lhs) || pl > NonZero::Maybe, non_negative(rhs) || pr > NonZero::Maybe);
                if (pl > NonZero::Maybe && nr) || (pr > NonZero::Maybe && nl) {
                    NonZero::UnlessWrapped
                } else {
                    NonZero::Maybe
                }
            }
            ExprKind::Binary { op: BinOp::Mul, lhs, rhs } => {
                if self.positive(lhs) > NonZero::Maybe && self.positive(rhs) > NonZero::Maybe {
                    NonZero::UnlessWrapped
                } else {
                    NonZero::Maybe
                }
            }
            _ => NonZero::Maybe,
        }
    }

    // ------------------------------------------------------------ statements

    /// The statements of a formula block, whose `let` names stay in `sc`
    /// for the result expression after them.
    pub(super) fn formula_stmts(&mut self, body: &[ast::Stmt], sc: &mut Scope) -> Vec<Stmt> {
        body.iter().filter_map(|stmt| self.stmt(stmt, sc)).collect()
    }

    pub(super) fn stmts(&mut self, body: &[ast::Stmt], sc: &mut Scope) -> Vec<Stmt> {
        let outer_locals = sc.locals.len();
        let mut out = Vec::new();
        for stmt in body {
            if let Some(s) = self.stmt(stmt, sc) {
                out.push(s);
            }
        }
        sc.locals.truncate(outer_locals);
        out
    }

    fn stmt(&mut self, stmt: &ast::Stmt, sc: &mut Scope) -> Option<Stmt> {
        if !self.enter(stmt.span) {
            return None;
        }
        let s = self.stmt_at_depth(stmt, sc);
        self.depth -= 1;
        s
    }

    fn stmt_at_depth(&mut self, stmt: &ast::Stmt, sc: &mut Scope) -> Option<Stmt> {
        let origin = self.origin(stmt.span);
        let kind = match &stmt.kind {
            ast::StmtKind::Let { name, value } => {
                let taken = self.symbols.contains_key(&name.name) || sc.locals.iter().any(|(n, _)| *n == name.name);
                if names::reserved(&name.name).is_some() || name.name == "elapsed" {
                    self.valid_name(name);
                    return None;
                }
                if taken {
                    self.error(
                        Diagnostic::error("duplicate-name", name.span, format!("`{}` already has a meaning here", name.name))
                            .label("shadows an earlier name")
                            .help("give the local its own name"),
                    );
                    return None;
                }
                let t = self.expr(value, sc)?;
                let ty = if t.literal { Type::Value(ValueType::Int) } else { t.ty };
                let value = match ty {
                    Type::Value(v) => t.into_expr(v),
                    _ => t.e,
                };
                sc.locals.push((name.name.clone(), ty));
                StmtKind::Let { name: name.name.clone(), value }
            }
            ast::StmtKind::Assign { target, op, value } => {
                let (place, ty) = self.place(target, *op, sc)?;
                if place == Place::TaskClass {
                    // Before the value is checked: a class assigned in a
                    // wrong expression is still not "never assigned".
                    self.mark_class_names_written(value);
                }
                let t = self.expr(value, sc)?;
                let value = match ty {
                    Type::Class => {
                        if t.ty != Type::Class {
                            self.error(
                                Diagnostic::error("type-mismatch", value.span, format!("`task.class` takes a class, not {}", t.describe()))
                                    .label("not a class")
                                    .help("write `task.class = CLASS` or `task.class = none`"),
                            );
                            return None;
                        }
                        self.mark_classes_written(&t.e);
                        t.e
                    }
                    Type::Value(v) => {
                        // A point in time moves by a duration.
                        let want = if v == ValueType::Time && *op != AssignOp::Set { ValueType::Duration } else { v };
                        if !self.expect_type(&t, want, value.span, &format!("the value assigned to `{}`", target.text())) {
                            return None;
                        }
                        t.into_expr(want)
                    }
                    Type::Str => unreachable!("no place holds a string"),
                };
                StmtKind::Assign { target: place, op: *op, value }
            }
            ast::StmtKind::If { cond, then, otherwise } => {
                let cond = self.condition(cond, sc);
                let then = self.stmts(then, sc);
                let otherwise = self.stmts(otherwise, sc);
                StmtKind::If { cond: cond?, then, otherwise }
            }
            ast::StmtKind::Every { period, body } => {
                if !sc.sampling || sc.every.is_some() {
                    let help = if sc.every.is_some() { "`every` blocks cannot be nested" } else { "`every` is allowed in `on` events only" };
                    self.error(
                        Diagnostic::error("wrong-context", stmt.span, format!("`every` cannot be used in {}", if sc.every.is_some() { "another `every`" } else { sc.what }))
                            .label("not allowed here")
                            .help(help),
                    );
                    return None;
                }
                let t = self.expr(period, sc)?;
                if !self.expect_type(&t, ValueType::Duration, period.span, "the period of `every`") {
                    return None;
                }
                let proven = match &t.e.kind {
                    ExprKind::Const(v) => *v > 0,
                    ExprKind::Param(i) => self.model.params[*i].min.is_some_and(|m| m > 0),
                    _ => false,
                };
                if !proven {
                    self.error(
                        Diagnostic::error("bad-period", period.span, "the period of `every` must be a positive constant")
                            .label("not known to be positive")
                            .help("write a literal such as `1s`, or a duration parameter whose range starts above zero (`in 1ms..`)"),
                    );
                    return None;
                }
                let sampler = self.model.samplers;
                self.model.samplers += 1;
                let mut inner = sc.clone();
                inner.every = Some(sampler);
                let body = self.stmts(body, &mut inner);
                StmtKind::Every { sampler, period: t.e, body }
            }
            ast::StmtKind::Trace { message, args } => {
                if message.value.contains('%') {
                    self.error(
                        Diagnostic::error("bad-trace", message.span, "a trace message cannot contain `%`")
                            .label("`%` would be read as a format directive")
                            .help("the values are appended to the message automatically; remove the `%`"),
                    );
                    return None;
                }
                if args.len() > 3 {
                    self.error(
                        Diagnostic::error("bad-trace", args[3].span, "a trace prints at most three values")
                            .label("one too many")
                            .help("split it into two `trace` statements"),
                    );
                    return None;
                }
                let mut out = Vec::new();
                for a in args {
                    let t = self.expr(a, sc)?;
                    let Type::Value(v) = t.ty else {
                        self.error(
                            Diagnostic::error("type-mismatch", a.span, format!("cannot trace {}", t.describe()))
                                .label("not a number")
                                .help("trace numbers, durations, times or bools"),
                        );
                        return None;
                    };
                    out.push((self.text(a.span).to_string(), t.into_expr(v)));
                }
                StmtKind::Trace { message: message.value.clone(), args: out }
            }
        };
        Some(Stmt { kind, origin })
    }

    /// The place an assignment writes, and its type.
    fn place(&mut self, target: &ast::Path, op: AssignOp, sc: &Scope) -> Option<(Place, Type)> {
        let parts: Vec<&str> = target.parts.iter().map(|i| i.name.as_str()).collect();
        let numeric_op = op != AssignOp::Set;
        let (place, ty) = match parts.as_slice() {
            [name] => {
                let symbol = self.symbols.get(*name).map(|(s, _)| *s);
                let refuse = |this: &mut Self, why: String, help: &str| {
                    this.error(
                        Diagnostic::error("not-assignable", target.span, format!("`{name}` cannot be assigned"))
                            .label(why)
                            .help(help.to_string()),
                    );
                };
                match symbol {
                    Some(Symbol::Global(i)) => (Place::Global(i), Type::Value(self.model.globals[i].ty)),
                    Some(Symbol::Stat(i)) => {
                        let stat = &self.model.stats[i];
                        if !matches!(stat.source, StatSource::Variable(_)) {
                            refuse(self, "bound to something the scheduler tracks".to_string(), "only counters and gauges declared without `=` are updated by rules");
                            return None;
                        }
                        if stat.kind == StatKind::Counter && op != AssignOp::Add {
                            refuse(self, "a counter only grows".to_string(), "add to it with `+=`; use a `gauge` for values that go down");
                            return None;
                        }
                        (Place::Stat(i), Type::Value(stat.ty))
                    }
                    Some(Symbol::Param(_)) => {
                        refuse(self, "a parameter is fixed once the scheduler is loaded".to_string(), "keep changing state in a `global`");
                        return None;
                    }
                    Some(other) => {
                        refuse(self, format!("it is {}", other.what()), "assign globals, gauges, counters and per-task state");
                        return None;
                    }
                    None if sc.locals.iter().any(|(n, _)| n == name) => {
                        refuse(self, "`let` names are fixed".to_string(), "declare a `global` or a `task` variable for state that changes");
                        return None;
                    }
                    None => {
                        let candidates: Vec<String> = self.symbols.keys().cloned().collect();
                        self.unknown(&target.parts[0], "name", candidates.iter().map(String::as_str), "declare it as a `global`, `gauge` or `counter`");
                        return None;
                    }
                }
            }
            ["task", field] => {
                if !self.task_here(target.span, sc) {
                    return None;
                }
                match *field {
                    "slice_left" => (Place::TaskSlice, Type::Value(ValueType::Duration)),
                    "class" if !self.classes_declared(target.span) => return None,
                    "class" => (Place::TaskClass, Type::Class),
                    f if task_fact(f).is_some() => {
                        self.error(
                            Diagnostic::error("not-assignable", target.span, format!("`task.{f}` is read-only"))
                                .label("the kernel keeps this")
                                .help("of the task facts only `task.slice_left` and `task.class` can be assigned; keep your own state in a `task` variable"),
                        );
                        return None;
                    }
                    f => match self.task_var_names.get(f).copied() {
                        Some((i, _)) => (Place::TaskVar(i), Type::Value(self.model.task_vars[i].ty)),
                        None => {
                            let vars: Vec<String> = self.task_var_names.keys().cloned().collect();
                            self.unknown(&target.parts[1], "per-task variable", vars.iter().map(String::as_str), "declare it with `task NAME: TYPE = INITIAL`");
                            return None;
                        }
                    },
                }
            }
            _ => {
                self.error(
                    Diagnostic::error("not-assignable", target.span, format!("`{}` cannot be assigned", target.text()))
                        .label("not a variable")
                        .help("assign globals, gauges, counters, `task.NAME` variables, `task.slice_left` or `task.class`"),
                );
                return None;
            }
        };
        if numeric_op && !matches!(ty, Type::Value(ValueType::Int | ValueType::Uint | ValueType::Duration | ValueType::Time)) {
            self.error(
                Diagnostic::error("type-mismatch", target.span, format!("`{}` needs a number or a duration", op.symbol()))
                    .label("not a number")
                    .help("use `=` to assign it"),
            );
            return None;
        }
        let key = match &place {
            Place::TaskVar(i) => format!("task.{}", self.model.task_vars[*i].name),
            _ => parts.join("."),
        };
        self.usage.entry(key).or_default().written = true;
        Some((place, ty))
    }

    pub(super) fn place_type(&self, place: &Place) -> ValueType {
        match place {
            Place::TaskVar(i) => self.model.task_vars[*i].ty,
            Place::Global(i) => self.model.globals[*i].ty,
            Place::Stat(i) => self.model.stats[*i].ty,
            Place::TaskSlice => ValueType::Duration,
            Place::TaskClass => unreachable!("classes are not value types"),
        }
    }

    fn mark_class_names_written(&mut self, e: &ast::Expr) {
        match &e.kind {
            ast::ExprKind::Path(p) if p.parts.len() == 1 => {
                if let Some((Symbol::Class(_), _)) = self.symbols.get(&p.parts[0].name) {
                    self.usage.entry(p.parts[0].name.clone()).or_default().written = true;
                }
            }
            ast::ExprKind::Cond { then, otherwise, .. } => {
                self.mark_class_names_written(then);
                self.mark_class_names_written(otherwise);
            }
            _ => {}
        }
    }

    fn mark_classes_written(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::ClassValue(Some(i)) => {
                let name = self.model.classes[*i].name.clone();
                self.usage.entry(name).or_default().written = true;
            }
            ExprKind::Cond { then, otherwise, .. } => {
                self.mark_classes_written(then);
                self.mark_classes_written(otherwise);
            }
            _ => {}
        }
    }
}

fn non_negative(e: &Expr) -> bool {
    matches!(e.ty, Type::Value(ValueType::Uint | ValueType::Time)) || matches!(e.kind, ExprKind::Const(v) if v >= 0)
}

/// The common type of two operands, if they have one, and whether the
/// result is still a bare literal.
fn unify(a: &Typed, b: &Typed) -> Option<(Type, bool)> {
    match (a.literal, b.literal) {
        (true, true) => Some((a.ty, true)),
        (true, false) => b.value().filter(|v| a.fits(*v)).map(|_| (b.ty, false)),
        (false, true) => a.value().filter(|v| b.fits(*v)).map(|_| (a.ty, false)),
        (false, false) => (a.ty == b.ty).then_some((a.ty, false)),
    }
}

fn settle(t: Typed, ty: Type) -> Expr {
    match ty {
        Type::Value(v) if t.literal => t.into_expr(v),
        _ => t.e,
    }
}

/// An operand of arithmetic: a literal takes the count type next to it (a
/// literal times a duration stays a count).
fn settle_operand(t: Typed, result: Type, both_literal: bool) -> Expr {
    if both_literal || !t.literal {
        return t.e;
    }
    match result {
        Type::Value(ValueType::Int | ValueType::Uint) => settle(t, result),
        _ => t.e,
    }
}

/// The type of `l op r` for arithmetic, or a help line saying why not.
fn arith_type(op: BinOp, l: &Typed, r: &Typed) -> Result<Type, String> {
    use ValueType::*;
    let (Some(lv), Some(rv)) = (l.value(), r.value()) else {
        return Err("arithmetic needs numbers, durations or times".to_string());
    };
    if lv == Bool || rv == Bool {
        return Err("bools cannot be used in arithmetic; use `and`, `or` and `not`".to_string());
    }
    if l.is_count() && r.is_count() {
        return match unify(l, r) {
            Some((ty, _)) => Ok(ty),
            None => Err("an int and a uint cannot be mixed; convert one with `int(...)` or `uint(...)`".to_string()),
        };
    }
    let count = |t: &Typed| t.is_count();
    let dur = Type::Value(Duration);
    match op {
        BinOp::Add | BinOp::Sub => match (lv, rv) {
            (Duration, Duration) => Ok(dur),
            (Time, Duration) => Ok(Type::Value(Time)),
            (Duration, Time) if op == BinOp::Add => Ok(Type::Value(Time)),
            (Time, Time) if op == BinOp::Sub => Ok(dur),
            (Time, Time) => Err("two points in time cannot be added; subtract them to get a duration".to_string()),
            (Duration | Time, _) if r.is_zero_literal() => Ok(l.ty),
            (_, Duration | Time) if l.is_zero_literal() && op == BinOp::Add => Ok(r.ty),
            _ => Err("a duration and a count cannot be added; give the count a unit, e.g. `n * 1ms`".to_string()),
        },
        BinOp::Mul => match (lv, rv) {
            (Duration, _) if count(r) => Ok(dur),
            (_, Duration) if count(l) => Ok(dur),
            (Duration, Duration) => Err("a duration times a duration has no unit here; multiply a duration by a count".to_string()),
            _ => Err("a time cannot be multiplied; subtract two times to get a duration first".to_string()),
        },
        BinOp::Div => match (lv, rv) {
            (Duration, _) if count(r) => Ok(dur),
            (Duration, Duration) => Ok(Type::Value(Int)),
            (_, Duration) if count(l) => Err("a count divided by a duration is a rate without a unit; multiply by a duration first, e.g. `n * 1s / elapsed`".to_string()),
            _ => Err("a time cannot be divided; subtract two times to get a duration first".to_string()),
        },
        BinOp::Rem => match (lv, rv) {
            (Duration, Duration) => Ok(dur),
            (Duration, _) if count(r) => Ok(dur),
            _ => Err("`%` needs two counts, or a duration and a duration or count".to_string()),
        },
        _ => unreachable!("comparisons and logic are handled before"),
    }
}
