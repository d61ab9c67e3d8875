//! Expressions and statements: name resolution, types and units.
//!
//! Units follow physics: a duration times a count is a duration, a duration
//! over a duration is a count, and a duration plus a count is a mistake.

use crate::ast::{self, Span};
use crate::diag::{Code, Diagnostic};
use crate::model::*;

use super::facts::{self, FactGroup};
use super::nonzero::{known_from, Known, NonZero};
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
    /// `event.wakeup`, `event.reenqueue` and `event.cpu_selected` are known (ops.enqueue).
    pub enqueue: bool,
    /// `event.wakeup` is known (ops.runnable).
    pub runnable: bool,
    /// `event.sleep` is known (ops.quiescent).
    pub quiescent: bool,
    /// `reenqueue local` is allowed (ops.cpu_release).
    pub cpu_release: bool,
    /// `event.found_cpu` is known (the `when` of `found`).
    pub found: bool,
    /// `cpu.perf` may be set: the kernel holds the running CPU's run queue
    /// or none (ops.tick, ops.running, ops.stopping, the timer).
    pub cpuperf: bool,
    /// `every` blocks are allowed.
    pub sampling: bool,
    /// `SET = first(N)` may rewrite a dynamic CPU set: an `on` block
    /// (events and the timer), not a formula.
    pub sets: bool,
    /// Inside `every`: its sampler, which makes `elapsed` known.
    pub every: Option<usize>,
    pub locals: Vec<(String, Type)>,
    /// Expressions known to be positive or not zero here, for divisors.
    pub known: Vec<Known>,
}

impl Scope {
    pub fn constant(what: &'static str) -> Self {
        Scope {
            what,
            task: false,
            wakeup: false,
            stopping: false,
            enqueue: false,
            runnable: false,
            quiescent: false,
            cpu_release: false,
            found: false,
            cpuperf: false,
            sampling: false,
            sets: false,
            every: None,
            locals: Vec::new(),
            known: Vec::new(),
        }
    }

    pub fn task(what: &'static str) -> Self {
        Scope { task: true, ..Scope::constant(what) }
    }

    /// This scope where `cond` is `holds`.
    pub fn assuming(&self, cond: &Expr, holds: bool) -> Scope {
        let mut scope = self.clone();
        known_from(cond, holds, &mut scope.known);
        scope
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
    pub(super) fn new(kind: ExprKind, ty: Type) -> Self {
        Typed { e: Expr { kind, ty }, ty, literal: false }
    }

    pub(super) fn value(&self) -> Option<ValueType> {
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

/// The facts that are command names, compared with string literals.
/// What `cpu(CPU).` reads.
enum OnCpu {
    Var(usize),
    QueueLen(usize),
    Fact(CpuFact),
}

/// The built-in per-CPU facts as a help line lists them: `` `util`, `capacity`, ... ``.
pub(super) fn cpu_facts_listed() -> String {
    let names: Vec<String> = CpuFact::ALL.iter().map(|f| format!("`{}`", f.name())).collect();
    names.join(", ")
}

pub(super) fn is_comm(fact: Fact) -> bool {
    matches!(fact, Fact::TaskComm | Fact::TaskParentComm | Fact::TaskCgroup | Fact::WakerComm)
}

/// The built-in `task.*` facts and their types.
pub(super) fn task_fact(name: &str) -> Option<(Fact, Type)> {
    facts::lookup(FactGroup::Task, name).map(|f| (f.fact, f.ty))
}

const FUNCTIONS: &[&str] = &["min", "max", "clamp", "ewma", "log2", "int", "uint", "size", "first"];

/// The deepest nesting of expressions and statements the checker accepts;
/// real policies stay far below it.
const MAX_NESTING: usize = 64;

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
    pub(super) fn enter(&mut self, span: Span) -> bool {
        if self.depth >= MAX_NESTING {
            if !self.too_deep {
                self.too_deep = true;
                self.error(
                    Diagnostic::new(Code::TooDeep, span, "this is nested too deeply")
                        .label(format!("more than {MAX_NESTING} levels of nesting"))
                        .help(crate::diag::TOO_DEEP_HELP),
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
                        Diagnostic::new(Code::OutOfRange, e.span, "this number does not fit in 64 bits")
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
                        Diagnostic::new(Code::OutOfRange, e.span, "this duration is too long")
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
            A::OnCpu { cpu, path } => self.on_cpu(cpu, path, sc),
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
                        let help = if t.value() == Some(ValueType::Uint) {
                            "a `uint` cannot be negative; convert it with `int(...)` first"
                        } else {
                            "only ints and durations can be negated"
                        };
                        self.error(
                            Diagnostic::new(Code::TypeMismatch, e.span, format!("cannot negate {}", t.describe()))
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
                let l = self.expr(lhs, sc);
                if matches!(op, ast::BinOp::Eq | ast::BinOp::Ne) && self.unquoted_string(l.as_ref(), rhs, sc) {
                    return None;
                }
                let r = self.expr(rhs, sc);
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
                        Diagnostic::new(Code::TypeMismatch, value.span, "`is` tests a task's class")
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
            A::InSet { cpu, set } => self.in_set(cpu, set, sc),
            A::StartsWith { value, prefix } => {
                let l = self.expr(value, sc);
                if self.unquoted_string(l.as_ref(), prefix, sc) {
                    return None;
                }
                let r = self.expr(prefix, sc);
                self.starts_with(l?, r?, value.span, prefix.span, e.span)
            }
            A::Cond { cond, then, otherwise } => {
                let c = self.condition(cond, sc);
                let (a, b) = match &c {
                    Some(c) => (self.expr(then, &sc.assuming(c, true)), self.expr(otherwise, &sc.assuming(c, false))),
                    None => (self.expr(then, sc), self.expr(otherwise, sc)),
                };
                let (c, a, b) = (c?, a?, b?);
                let Some((ty, literal)) = unify(&a, &b) else {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            e.span,
                            format!("the two branches differ: {} and {}", a.describe(), b.describe()),
                        )
                        .label("both branches must have the same type")
                        .help("make both branches durations, or both counts, or both classes"),
                    );
                    return None;
                };
                let kind = ExprKind::Cond {
                    cond: Box::new(c),
                    then: Box::new(settle(a, ty)),
                    otherwise: Box::new(settle(b, ty)),
                };
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
                Diagnostic::new(
                    Code::TypeMismatch,
                    e.span,
                    format!("a condition must be a bool, but this is {}", t.describe()),
                )
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
                let mut vars: Vec<String> = self.task_var_names.keys().cloned().collect();
                vars.sort();
                let candidates = facts::names(FactGroup::Task).chain(vars.iter().map(String::as_str));
                let declared = match vars.as_slice() {
                    [] => String::new(),
                    vars => {
                        let paths: Vec<String> = vars.iter().map(|v| format!("`task.{v}`")).collect();
                        format!("; the per-task variables are {}", paths.join(", "))
                    }
                };
                let fallback = format!(
                    "the task facts are {}{declared}; keep state of your own with `task {}: TYPE = INITIAL`",
                    facts::listed(FactGroup::Task),
                    p.parts[1].name
                );
                self.unknown(&p.parts[1], "task fact or per-task variable", candidates, &fallback);
                None
            }
            ["system", field] => {
                let Some(info) = facts::lookup(FactGroup::System, field) else {
                    self.unknown(
                        &p.parts[1],
                        "system fact",
                        facts::names(FactGroup::System),
                        &format!("the system facts are {}", facts::listed(FactGroup::System)),
                    );
                    return None;
                };
                if info.fact == Fact::SystemVtimeNow && !self.model.queues.iter().any(|q| q.order == Order::Vtime) {
                    self.error(
                        Diagnostic::new(Code::UnknownName, p.span, "`system.vtime_now` needs a vruntime-ordered queue")
                            .label("no queue is ordered by vruntime")
                            .help("declare a queue with `vtime` order"),
                    );
                    return None;
                }
                Some(Typed::new(ExprKind::Fact(info.fact), info.ty))
            }
            ["event", field] => {
                let Some(info) = facts::lookup(FactGroup::Event, field) else {
                    self.unknown(
                        &p.parts[1],
                        "event fact",
                        facts::names(FactGroup::Event),
                        &format!("the event facts are {}", facts::listed(FactGroup::Event)),
                    );
                    return None;
                };
                let (known, place) = match info.fact {
                    Fact::EventRunnable => (sc.stopping, "`on stopping` and `vtime charge`"),
                    Fact::EventWakeup => {
                        (sc.enqueue || sc.runnable, "`on enqueue`, `enqueue` routes and `on runnable`")
                    }
                    Fact::EventReenqueue | Fact::EventLast | Fact::EventCpuSelected => {
                        (sc.enqueue, "`on enqueue` and `enqueue` routes")
                    }
                    Fact::EventSleep => (sc.quiescent, "`on quiescent`"),
                    Fact::EventFoundCpu => (sc.found, "the `when` of `found` in `select_cpu`"),
                    _ => (sc.wakeup, "`on wakeup` and `select_cpu`"),
                };
                if !known {
                    self.error(
                        Diagnostic::new(
                            Code::WrongContext,
                            p.span,
                            format!("`event.{field}` is not known in {}", sc.what),
                        )
                        .label("not known here")
                        .help(format!("`event.{field}` can be read only in {place}")),
                    );
                    return None;
                }
                if info.fact == Fact::EventLast && !self.model.ops_flags.contains(&OpsFlag::EnqueueLast) {
                    self.error(
                        Diagnostic::new(Code::NeverFires, p.span, "`event.last` is never true here")
                            .label("always false")
                            .help("the kernel asks about a CPU's last task only when the scheduler sets `SCX_OPS_ENQ_LAST`: add `with enqueue_last` to the `scheduler` line"),
                    );
                }
                Some(Typed::new(ExprKind::Fact(info.fact), info.ty))
            }
            ["waker", field] => self.waker_fact(p, field, sc),
            ["cpu", name] if CpuFact::from_name(name).is_some() => {
                let fact = CpuFact::from_name(name)?;
                Some(Typed::new(ExprKind::CpuFact { fact, on: None }, Type::Value(fact.ty())))
            }
            ["cpu", _] => {
                let var = self.cpu_var_ref(&p.parts[1])?;
                Some(Typed::new(ExprKind::CpuVar { var, on: None }, Type::Value(self.model.cpu_vars[var].ty)))
            }
            ["queue", _, "len"] => {
                let q = self.queue_index(&p.parts[1])?;
                Some(Typed::new(ExprKind::QueueLen(q), Type::Value(ValueType::Uint)))
            }
            ["queue", _, "inserted"] => {
                self.error(
                    Diagnostic::new(Code::BadBinding, p.span, "`inserted` is read through a counter")
                        .label("not a value in rules")
                        .help("declare `counter NAME = queue.Q.inserted \"meaning\"` and read NAME"),
                );
                None
            }
            ["queue", _, _] => {
                let fields = facts::QUEUE_FIELDS.iter().map(|f| f.name);
                self.unknown(
                    &p.parts[2],
                    "queue field",
                    fields,
                    "a queue has `len` (the tasks waiting) and `inserted` (read through a counter)",
                );
                None
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::UnknownName,
                        p.span,
                        format!("`{}` is not something a policy can read", p.text()),
                    )
                    .label("unknown")
                    .help("dotted names start with `task.`, `system.`, `event.`, `waker.` or `queue.NAME.len`"),
                );
                None
            }
        }
    }

    /// The per-CPU variable `cpu.NAME` names, marked as read (the built-in
    /// facts such as `cpu.util` are resolved before).
    fn cpu_var_ref(&mut self, id: &ast::Ident) -> Option<usize> {
        if let Some((i, _)) = self.cpu_var_names.get(&id.name).copied() {
            self.usage.entry(format!("cpu.{}", id.name)).or_default().read = true;
            return Some(i);
        }
        let mut vars: Vec<String> = self.cpu_var_names.keys().cloned().collect();
        vars.sort();
        let fallback = format!(
            "a CPU has the facts {} and the variables declared with `cpu NAME: TYPE = INITIAL`; declare `cpu {}: TYPE = INITIAL`",
            cpu_facts_listed(),
            id.name
        );
        let candidates = CpuFact::ALL.iter().map(|f| f.name()).chain(vars.iter().map(String::as_str));
        self.unknown(id, "per-CPU fact or variable", candidates, &fallback);
        None
    }

    /// `cpu(CPU).NAME` and `cpu(CPU).queue.Q.len`: what a chosen CPU has.
    fn on_cpu(&mut self, cpu: &ast::Expr, path: &ast::Path, sc: &Scope) -> Option<Typed> {
        let at = self.expr(cpu, sc);
        let parts: Vec<&str> = path.parts.iter().map(|i| i.name.as_str()).collect();
        let what = match parts.as_slice() {
            [name] if CpuFact::from_name(name).is_some() => CpuFact::from_name(name).map(OnCpu::Fact),
            [_] => self.cpu_var_ref(&path.parts[0]).map(OnCpu::Var),
            ["queue", _, "len"] => self.queue_index(&path.parts[1]).map(OnCpu::QueueLen),
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::UnknownName,
                        path.span,
                        format!("a chosen CPU has no `{}`", path.text()),
                    )
                    .label("unknown")
                    .help(format!("`cpu(CPU).` reads a per-CPU variable (`cpu(task.cpu).NAME`), a fact ({}) or a queue's length (`cpu(task.cpu).queue.Q.len`)", cpu_facts_listed())),
                );
                None
            }
        };
        let at = at?;
        if !at.fits(ValueType::Int) {
            let help = if at.value() == Some(ValueType::Uint) {
                "CPU numbers are ints, like `task.cpu` and `event.prev_cpu`; convert with `int(...)`"
            } else {
                "name the CPU with an int such as `task.cpu` or `event.prev_cpu`"
            };
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    cpu.span,
                    format!("a CPU is an int, but this is {}", at.describe()),
                )
                .label("not a CPU number")
                .help(help),
            );
            return None;
        }
        let on = Box::new(at.into_expr(ValueType::Int));
        match what? {
            OnCpu::Var(var) => {
                let ty = Type::Value(self.model.cpu_vars[var].ty);
                Some(Typed::new(ExprKind::CpuVar { var, on: Some(on) }, ty))
            }
            OnCpu::QueueLen(queue) => {
                // A shared queue is the same queue whichever CPU asks.
                let kind = if self.model.queues[queue].placement.is_instanced() {
                    ExprKind::QueueLenOn { queue, cpu: on }
                } else {
                    ExprKind::QueueLen(queue)
                };
                Some(Typed::new(kind, Type::Value(ValueType::Uint)))
            }
            OnCpu::Fact(fact) => Some(Typed::new(ExprKind::CpuFact { fact, on: Some(on) }, Type::Value(fact.ty()))),
        }
    }

    /// `task.class` means something only once a class is declared.
    pub(super) fn classes_declared(&mut self, span: Span) -> bool {
        let any = !self.model.classes.is_empty();
        if !any && !self.refused_class {
            self.error(
                Diagnostic::new(Code::UnknownName, span, "this policy declares no class")
                    .label("every task is in no class")
                    .help("declare one with `class NAME \"what its tasks are\"`"),
            );
        }
        any
    }

    pub(super) fn task_here(&mut self, span: Span, sc: &Scope) -> bool {
        if !sc.task {
            self.error(
                Diagnostic::new(Code::WrongContext, span, format!("there is no task in {}", sc.what))
                    .label("no task here")
                    .help(
                        "this is evaluated once for the whole scheduler; use parameters, globals and `system.*` facts",
                    ),
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
                        Diagnostic::new(Code::WrongContext, id.span, "`elapsed` is only known inside an `every` block")
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
                    Diagnostic::new(Code::NotConstant, id.span, format!("`{name}` is used in its own declaration"))
                        .label("not known yet")
                        .help("write a literal such as `5ms`, `10` or `true`"),
                );
                return None;
            }
            Some(Symbol::Param(i)) => Typed::new(ExprKind::Param(i), Type::Value(self.model.params[i].ty)),
            Some(Symbol::Global(i)) => Typed::new(ExprKind::Global(i), Type::Value(self.model.globals[i].ty)),
            Some(Symbol::Stat(i)) => Typed::new(ExprKind::Stat(i), Type::Value(self.model.stats[i].ty)),
            Some(Symbol::Const(i)) => {
                match self.consts.get(i).cloned().flatten() {
                    Some(t) => t,
                    None => {
                        self.usage.entry(name.to_string()).or_default().read = true;
                        // Its own mistake was reported, or it is used above its declaration.
                        if i >= self.consts.len() {
                            self.error(
                            Diagnostic::new(Code::NotConstant, id.span, format!("`{name}` is not known yet here"))
                                .label("declared further down")
                                .help("a constant is known below its declaration: move the `const` line above this one"),
                        );
                        }
                        return None;
                    }
                }
            }
            Some(Symbol::CpuSet(_)) => {
                self.error(
                    Diagnostic::new(Code::TypeMismatch, id.span, format!("`{name}` is a CPU set, not a value"))
                        .label("a CPU set")
                        .help(format!(
                            "test a CPU with `cpu in {name}` or `task.cpu in {name}`; `size({name})` counts its CPUs"
                        )),
                );
                return None;
            }
            Some(Symbol::Function(_)) => {
                self.error(
                    Diagnostic::new(Code::TypeMismatch, id.span, format!("`{name}` is a function, not a value"))
                        .label("a function")
                        .help(format!("call it: `{name}(...)`")),
                );
                return None;
            }
            Some(Symbol::Class(i)) => Typed::new(ExprKind::ClassValue(Some(i)), Type::Class),
            Some(Symbol::Queue(_)) => {
                self.error(
                    Diagnostic::new(Code::TypeMismatch, id.span, format!("`{name}` is a queue, not a value"))
                        .label("a queue")
                        .help(format!("use `queue.{name}.len` for the number of tasks it holds")),
                );
                return None;
            }
            None => {
                let mut candidates: Vec<String> = self.symbols.keys().cloned().collect();
                candidates.extend(sc.locals.iter().map(|(n, _)| n.clone()));
                let help = if let Some(why) = names::reserved(name) {
                    format!("nothing can be declared as `{name}`: {why}")
                } else {
                    "declare it as a `param`, `global`, `gauge` or `counter`, or with `let`".to_string()
                };
                self.unknown_bare(id, candidates.iter().map(String::as_str), &help);
                return None;
            }
        };
        self.usage.entry(name.to_string()).or_default().read = true;
        Some(typed)
    }

    /// A bare name that is not declared. A per-task or per-CPU variable, or
    /// a fact, of that name is what was meant, written without its prefix:
    /// say so rather than guess a declared name.
    pub(super) fn unknown_bare<'c>(
        &mut self,
        id: &ast::Ident,
        candidates: impl IntoIterator<Item = &'c str>,
        fallback: &str,
    ) {
        let name = id.name.as_str();
        // The variable was meant: it is used, whatever its own warning would say.
        let prefixed = if self.task_var_names.contains_key(name) {
            self.usage.entry(format!("task.{name}")).or_default().read = true;
            Some(format!("`{name}` is a per-task variable: write `task.{name}`"))
        } else if self.cpu_var_names.contains_key(name) {
            self.usage.entry(format!("cpu.{name}")).or_default().read = true;
            Some(format!("`{name}` is a per-CPU variable: write `cpu.{name}`"))
        } else if facts::lookup(FactGroup::Task, name).is_some() {
            Some(format!("task facts are written `task.{name}`"))
        } else if facts::lookup(FactGroup::System, name).is_some() {
            Some(format!("system facts are written `system.{name}`"))
        } else {
            None
        };
        match prefixed {
            Some(help) => self.error(
                Diagnostic::new(Code::UnknownName, id.span, format!("unknown name `{name}`"))
                    .label("needs its prefix")
                    .help(help),
            ),
            None => self.unknown(id, "name", candidates, fallback),
        }
    }

    /// A string compared with a bare word that names nothing (`task.comm ==
    /// kworker`): the quotes were forgotten. Reported, and true, if so.
    fn unquoted_string(&mut self, lhs: Option<&Typed>, rhs: &ast::Expr, sc: &Scope) -> bool {
        let ast::ExprKind::Path(p) = &rhs.kind else { return false };
        let [word] = p.parts.as_slice() else { return false };
        let name = word.name.as_str();
        let known = self.symbols.contains_key(name)
            || self.refused.contains(name)
            || sc.locals.iter().any(|(n, _)| n == name)
            || ["elapsed", "none"].contains(&name);
        if known || lhs.is_none_or(|l| l.ty != Type::Str) {
            return false;
        }
        self.error(
            Diagnostic::new(Code::UnknownName, word.span, format!("unknown name `{}`", word.name))
                .label("a bare word, not a string")
                .help(format!("a comm or cgroup is compared with a quoted string: write `\"{}\"`", word.name)),
        );
        true
    }

    pub(super) fn unknown<'c>(
        &mut self,
        id: &ast::Ident,
        what: &str,
        candidates: impl IntoIterator<Item = &'c str>,
        fallback: &str,
    ) {
        let help = match names::suggest(&id.name, candidates) {
            Some(s) => {
                self.suggested.insert(s.to_string());
                format!("did you mean `{s}`?")
            }
            None => fallback.to_string(),
        };
        self.error(
            Diagnostic::new(Code::UnknownName, id.span, format!("unknown {what} `{}`", id.name))
                .label("not declared")
                .help(help),
        );
    }

    /// `size(SET)`: how many CPUs a set lists, a uint known at compile time.
    fn set_size(&mut self, args: &[ast::Expr], span: Span) -> Option<Typed> {
        let name = match args {
            [ast::Expr { kind: ast::ExprKind::Path(p), .. }] if p.parts.len() == 1 => &p.parts[0],
            _ => {
                self.error(
                    Diagnostic::new(Code::WrongArity, span, "`size` takes the name of one CPU set")
                        .label("not `size(SET)`")
                        .help("write `size(SET)` with a set declared by `cpuset SET = 0-3`"),
                );
                return None;
            }
        };
        let set = self.cpuset_ref(name)?;
        if self.model.cpusets[set].dynamic {
            self.error(
                Diagnostic::new(Code::NotConstant, span, format!("the size of `{}` changes while the scheduler runs", name.name))
                    .label("a dynamic set")
                    .help("`size` is known when the policy is compiled; keep the count assigned with `first(N)` in a `global`"),
            );
            return None;
        }
        let n = self.model.cpusets[set].size();
        Some(Typed::new(ExprKind::Const(i128::from(n)), Type::Value(ValueType::Uint)))
    }

    /// `CPU in SET`: a bare `cpu` is the CPU running the code; anything else
    /// is an int CPU number, read under its own rules.
    fn in_set(&mut self, cpu: &ast::Expr, set: &ast::Ident, sc: &Scope) -> Option<Typed> {
        let on = match &cpu.kind {
            ast::ExprKind::Path(p) if p.text() == "cpu" => None,
            _ => {
                let at = self.expr(cpu, sc);
                let at = at?;
                if !at.fits(ValueType::Int) {
                    let help = if at.value() == Some(ValueType::Uint) {
                        "CPU numbers are ints, like `task.cpu` and `event.prev_cpu`; convert with `int(...)`"
                    } else {
                        "test a CPU: `cpu in SET` (the running CPU), `task.cpu in SET`, `event.prev_cpu in SET`"
                    };
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            cpu.span,
                            format!("`in` tests a CPU, an int, but this is {}", at.describe()),
                        )
                        .label("not a CPU number")
                        .help(help),
                    );
                    return None;
                }
                Some(Box::new(at.into_expr(ValueType::Int)))
            }
        };
        let set = self.cpuset_ref(set)?;
        self.model.cpusets[set].tested = true;
        Some(Typed::new(ExprKind::InSet { set, cpu: on }, Type::Value(ValueType::Bool)))
    }

    fn call(&mut self, func: &ast::Ident, args: &[ast::Expr], span: Span, sc: &Scope) -> Option<Typed> {
        if let Some((Symbol::Function(index), _)) = self.symbols.get(&func.name).copied() {
            return self.call_fn(index, func, args, span, sc);
        }
        if func.name == "log2" && args.len() == 1 {
            return self.log2(&args[0], sc);
        }
        if func.name == "size" {
            return self.set_size(args, span);
        }
        if func.name == "first" {
            self.error(
                Diagnostic::new(Code::WrongContext, span, "`first(N)` is not a value")
                    .label("names CPUs, only for a dynamic set")
                    .help("assign it to a set declared `cpuset SET = all dynamic`: `SET = first(N)`, in an `on` block"),
            );
            for a in args {
                self.expr(a, sc);
            }
            return None;
        }
        if func.name == "cpu" {
            self.error(
                Diagnostic::new(Code::UnknownName, span, "`cpu(CPU)` alone is not a value")
                    .label("names a CPU, reads nothing")
                    .help("read what the CPU has: `cpu(CPU).NAME` (a per-CPU variable), `cpu(CPU).util`, `cpu(CPU).capacity`, `cpu(CPU).perf`, `cpu(CPU).smt_contended` or `cpu(CPU).queue.Q.len`"),
            );
            for a in args {
                self.expr(a, sc);
            }
            return None;
        }
        let (builtin, arity, shape) = match func.name.as_str() {
            "min" => (Some(Builtin::Min), 2, "min(a, b)"),
            "max" => (Some(Builtin::Max), 2, "max(a, b)"),
            "clamp" => (Some(Builtin::Clamp), 3, "clamp(value, low, high)"),
            "ewma" => (Some(Builtin::Ewma), 2, "ewma(average, sample)"),
            "log2" => (Some(Builtin::Log2), 1, "log2(count)"),
            "int" => (None, 1, "int(value)"),
            "uint" => (None, 1, "uint(value)"),
            _ => {
                let declared: Vec<String> = self.model.functions.iter().map(|f| f.name.clone()).collect();
                self.unknown(
                    func,
                    "function",
                    FUNCTIONS.iter().copied().chain(declared.iter().map(String::as_str)),
                    "the built-in functions are min, max, clamp, ewma, log2, int, uint and size; declare your own with `fn NAME(ARG: TYPE) = EXPRESSION`",
                );
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
                Diagnostic::new(
                    Code::WrongArity,
                    span,
                    format!(
                        "`{}` takes {arity} argument{}, not {}",
                        func.name,
                        if arity == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
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
                    Diagnostic::new(
                        Code::TypeMismatch,
                        a.span,
                        format!("`{}` needs numbers, durations or times, not {}", func.name, t.describe()),
                    )
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
                        Diagnostic::new(
                            Code::TypeMismatch,
                            a.span,
                            format!("the arguments of `{}` differ: {} and {}", func.name, acc.describe(), t.describe()),
                        )
                        .label(format!("this is {}", t.describe()))
                        .help("all arguments must have the same unit"),
                    );
                    return None;
                }
            }
        }
        let settled: Vec<Expr> = typed.into_iter().map(|t| settle(t, ty.0)).collect();
        if builtin == Builtin::Clamp {
            self.clamp_bounds(&settled[1], &settled[2], span)?;
        }
        Some(Typed { literal: ty.1, ..Typed::new(ExprKind::Call { func: builtin, args: settled }, ty.0) })
    }

    /// `log2(x)`: the floor of the base-2 logarithm of a count, a uint (0
    /// for 0, 1 and negative ints). A duration or time has no logarithm
    /// without a unit: the help divides by one first.
    fn log2(&mut self, arg: &ast::Expr, sc: &Scope) -> Option<Typed> {
        let t = self.expr(arg, sc)?;
        let arg_ty = match t.value() {
            Some(v @ (ValueType::Int | ValueType::Uint)) => v,
            Some(ValueType::Duration | ValueType::Time) => {
                let text = self.text(arg.span).to_string();
                let (what, instead) = if t.value() == Some(ValueType::Duration) {
                    ("a duration", format!("count it in a unit first, e.g. `log2({text} / 1us)`"))
                } else {
                    (
                        "a time",
                        format!("take the duration since it and count that in a unit, e.g. `log2((system.now - {text}) / 1us)`"),
                    )
                };
                self.error(
                    Diagnostic::new(Code::UnitMismatch, arg.span, format!("`log2` needs a count, not {what}"))
                        .label(format!("this is {what}"))
                        .help(format!("the logarithm of {what} depends on its unit; {instead}")),
                );
                return None;
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        arg.span,
                        format!("`log2` needs a count, not {}", t.describe()),
                    )
                    .label(format!("this is {}", t.describe()))
                    .help("write `log2(count)` with an int or a uint"),
                );
                return None;
            }
        };
        // A literal is a uint count unless it is negative.
        let ty = if t.literal && const_value(&t.e, &[]).is_some_and(|v| v >= 0) { ValueType::Uint } else { arg_ty };
        let e = settle(t, Type::Value(ty));
        Some(Typed::new(ExprKind::Call { func: Builtin::Log2, args: vec![e] }, Type::Value(ValueType::Uint)))
    }

    /// `clamp(x, lo, hi)` with constant bounds the wrong way round would
    /// always be `hi`: an error.
    fn clamp_bounds(&mut self, lo: &Expr, hi: &Expr, span: Span) -> Option<()> {
        let (Some(low), Some(high)) = (const_value(lo, &[]), const_value(hi, &[])) else { return Some(()) };
        if low <= high {
            return Some(());
        }
        let text = self.text(span).to_string();
        self.error(
            Diagnostic::new(Code::BadClamp, span, "the low bound of this clamp is above its high bound")
                .label("low bound above high bound")
                .help(format!("`{text}` would always be the high bound; swap the bounds: `clamp(value, low, high)`")),
        );
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn binary(
        &mut self,
        op: BinOp,
        l: Typed,
        r: Typed,
        lspan: Span,
        rspan: Span,
        span: Span,
        sc: &Scope,
    ) -> Option<Typed> {
        let bool_ty = Type::Value(ValueType::Bool);
        if matches!(op, BinOp::And | BinOp::Or) {
            for (t, s) in [(&l, lspan), (&r, rspan)] {
                if t.ty != bool_ty {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            s,
                            format!("`{}` needs bools, but this is {}", op.symbol(), t.describe()),
                        )
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
                    Diagnostic::new(
                        Code::UnitMismatch,
                        span,
                        format!("cannot apply `{}` to {} and {}", op.symbol(), l.describe(), r.describe()),
                    )
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
                (ExprKind::Fact(of), ExprKind::Str(name)) if equality && is_comm(*of) => {
                    if !self.comm_fits(name, span) {
                        return None;
                    }
                    let kind = ExprKind::CommIs { of: *of, name: name.clone(), equal: op == BinOp::Eq, prefix: false };
                    Some(Typed::new(kind, bool_ty))
                }
                _ => {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            span,
                            "strings can only be compared with `task.comm`, `task.parent_comm`, `task.cgroup` or `waker.comm`, using `==`, `!=` or `starts_with`",
                        )
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
                Diagnostic::new(
                    Code::TypeMismatch,
                    span,
                    format!("cannot compare {} with {}", l.describe(), r.describe()),
                )
                .label("different types")
                .help(help),
            );
            return None;
        };
        if !equality && matches!(ty, Type::Class | Type::Value(ValueType::Bool)) {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    span,
                    format!("`{}` needs numbers, durations or times", op.symbol()),
                )
                .label("not ordered")
                .help("classes and bools can only be compared with `==` and `!=`"),
            );
            return None;
        }
        let kind = ExprKind::Binary { op, lhs: Box::new(settle(l, ty)), rhs: Box::new(settle(r, ty)) };
        Some(Typed::new(kind, bool_ty))
    }
}

/// The common type of two operands, if they have one, and whether the
/// result is still a bare literal.
pub(super) fn unify(a: &Typed, b: &Typed) -> Option<(Type, bool)> {
    match (a.literal, b.literal) {
        (true, true) => Some((a.ty, true)),
        (true, false) => b.value().filter(|v| a.fits(*v)).map(|_| (b.ty, false)),
        (false, true) => a.value().filter(|v| b.fits(*v)).map(|_| (a.ty, false)),
        (false, false) => (a.ty == b.ty).then_some((a.ty, false)),
    }
}

pub(super) fn settle(t: Typed, ty: Type) -> Expr {
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
