//! Statements: `let`, assignments and the places they may write, `if`,
//! `every` and `trace`.

use crate::ast;
use crate::diag::{Code, Diagnostic};
use crate::model::*;

use super::expr::{task_fact, Scope};
use super::nonzero::{known_from, Known};
use super::{const_value, Checker, Symbol};

/// The highest performance target `cpu.perf` takes: the kernel's
/// `SCX_CPUPERF_ONE`, a CPU's full performance.
const CPUPERF_MAX: i128 = 1024;

impl Checker<'_> {
    /// The statements of a formula block, whose `let` names stay in `sc`
    /// for the result expression after them.
    pub(super) fn formula_stmts(&mut self, body: &[ast::Stmt], sc: &mut Scope) -> Vec<Stmt> {
        body.iter().filter_map(|stmt| self.stmt(stmt, sc)).collect()
    }

    pub(super) fn stmts(&mut self, body: &[ast::Stmt], sc: &mut Scope) -> Vec<Stmt> {
        let (outer_locals, outer_known) = (sc.locals.len(), sc.known.len());
        let mut out = Vec::new();
        for stmt in body {
            if let Some(s) = self.stmt(stmt, sc) {
                out.push(s);
            }
        }
        sc.locals.truncate(outer_locals);
        sc.known.truncate(outer_known);
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
                let reserved = !self.valid_name(name);
                if taken && !reserved {
                    self.error(
                        Diagnostic::new(
                            Code::DuplicateName,
                            name.span,
                            format!("`{}` already has a meaning here", name.name),
                        )
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
                sc.known.extend(Known::local(&name.name, ty, self.positive(&value, sc)));
                sc.locals.push((name.name.clone(), ty));
                if reserved {
                    // Known all the same, so that its uses are not also
                    // reported as unknown names.
                    return None;
                }
                StmtKind::Let { name: name.name.clone(), value }
            }
            ast::StmtKind::Assign { target, on_cpu, op, value } => {
                let value_span = value.span;
                if let Some(cpu) = on_cpu {
                    let span = Span::new(cpu.span.start - "cpu(".len(), target.span.end);
                    self.error(
                        Diagnostic::new(Code::NotAssignable, span, "another CPU's variables are read-only")
                            .label("a chosen CPU")
                            .help(format!(
                                "a CPU writes only its own instance: assign `cpu.{}` in a rule that runs there (e.g. `on running`)",
                                target.text()
                            )),
                    );
                    return None;
                }
                if let [name] = target.parts.as_slice() {
                    if let Some((Symbol::CpuSet(set), _)) = self.symbols.get(&name.name).copied() {
                        return self.first_cpus(set, stmt, *op, value, sc).map(|kind| Stmt { kind, origin });
                    }
                }
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
                                Diagnostic::new(
                                    Code::TypeMismatch,
                                    value.span,
                                    format!("`task.class` takes a class, not {}", t.describe()),
                                )
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
                        if !self.expect_type(
                            &t,
                            want,
                            value.span,
                            &format!("the value assigned to `{}`", target.text()),
                        ) {
                            return None;
                        }
                        t.into_expr(want)
                    }
                    Type::Str => unreachable!("no place holds a string"),
                };
                if place == Place::CpuPerf {
                    if let Some(v) = const_value(&value, &[]).filter(|v| *v > CPUPERF_MAX) {
                        self.error(
                            Diagnostic::new(
                                Code::OutOfRange,
                                value_span,
                                format!("a performance target is 0..1024, not {v}"),
                            )
                            .label("above 1024")
                            .help("1024 asks for the CPU's full performance, 512 for half of it"),
                        );
                        return None;
                    }
                }
                StmtKind::Assign { target: place, op: *op, value }
            }
            ast::StmtKind::If { cond, then, otherwise } => {
                let cond = self.condition(cond, sc);
                let outer_known = sc.known.len();
                let mut branch = |this: &mut Self, body: &[ast::Stmt], holds: bool| {
                    if let Some(c) = &cond {
                        known_from(c, holds, &mut sc.known);
                    }
                    let stmts = this.stmts(body, sc);
                    sc.known.truncate(outer_known);
                    stmts
                };
                let then = branch(self, then, true);
                let otherwise = branch(self, otherwise, false);
                StmtKind::If { cond: cond?, then, otherwise }
            }
            ast::StmtKind::Every { period, body } => {
                if !sc.sampling || sc.every.is_some() {
                    let help = if sc.every.is_some() {
                        "`every` blocks cannot be nested"
                    } else if sc.what == "`on timer`" || sc.cpu_release {
                        "`every` keeps its time per task, and there is no task here; the period of `on timer` already paces its block"
                    } else {
                        "`every` is allowed in `on` events only"
                    };
                    self.error(
                        Diagnostic::new(
                            Code::WrongContext,
                            stmt.span,
                            format!(
                                "`every` cannot be used in {}",
                                if sc.every.is_some() { "another `every`" } else { sc.what }
                            ),
                        )
                        .label("not allowed here")
                        .help(help),
                    );
                    return None;
                }
                let period = self.period(period, sc, "the period of `every`")?;
                let sampler = self.model.samplers;
                self.model.samplers += 1;
                let mut inner = sc.clone();
                inner.every = Some(sampler);
                let body = self.stmts(body, &mut inner);
                StmtKind::Every { sampler, period, body }
            }
            ast::StmtKind::ReenqueueLocal => {
                if !sc.cpu_release {
                    self.error(
                        Diagnostic::new(
                            Code::WrongContext,
                            stmt.span,
                            format!("`reenqueue local` cannot be used in {}", sc.what),
                        )
                        .label("not allowed here")
                        .help("`reenqueue local` gives a CPU's queued tasks back when another scheduling class takes the CPU: write it in `on cpu_release`"),
                    );
                    return None;
                }
                StmtKind::ReenqueueLocal
            }
            ast::StmtKind::Trace { message, args } => {
                if message.value.contains('%') {
                    self.error(
                        Diagnostic::new(Code::BadTrace, message.span, "a trace message cannot contain `%`")
                            .label("`%` would be read as a format directive")
                            .help("the values are appended to the message automatically; remove the `%`"),
                    );
                    return None;
                }
                if args.len() > 3 {
                    self.error(
                        Diagnostic::new(Code::BadTrace, args[3].span, "a trace prints at most three values")
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
                            Diagnostic::new(Code::TypeMismatch, a.span, format!("cannot trace {}", t.describe()))
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

    /// `SET = first(N)`: only a dynamic set, only `=`, only `first(N)`
    /// with an int or uint count, and only in an `on` block.
    fn first_cpus(
        &mut self,
        set: usize,
        stmt: &ast::Stmt,
        op: AssignOp,
        value: &ast::Expr,
        sc: &Scope,
    ) -> Option<StmtKind> {
        let name = self.model.cpusets[set].name.clone();
        self.usage.entry(name.clone()).or_default().read = true;
        // A refused rewrite still reads the names of its count.
        let count_only = |this: &mut Self| {
            if let ast::ExprKind::Call { func, args } = &value.kind {
                if func.name == "first" {
                    for a in args {
                        let _ = this.expr(a, sc);
                    }
                }
            }
        };
        if !self.model.cpusets[set].dynamic {
            let (why, help) = match self.model.cpusets[set].doc {
                Some(_) => (
                    "a tunable set is fixed once the scheduler is loaded",
                    format!("declare it `cpuset {name} = {} dynamic` for rules to rewrite it; a tunable set is changed with `schedc run --set {name}=...`", self.model.cpusets[set].text()),
                ),
                None => (
                    "a fixed set",
                    format!("declare it `cpuset {name} = {} dynamic` for rules to rewrite it", self.model.cpusets[set].text()),
                ),
            };
            self.error(
                Diagnostic::new(Code::NotAssignable, stmt.span, format!("the CPU set `{name}` cannot be assigned"))
                    .label(why)
                    .help(help),
            );
            count_only(self);
            return None;
        }
        if !sc.sets {
            self.error(
                Diagnostic::new(
                    Code::WrongContext,
                    stmt.span,
                    format!("the CPU set `{name}` cannot be rewritten in {}", sc.what),
                )
                .label("not allowed here")
                .help("rewrite a dynamic set in an `on` block, e.g. `on timer 10ms { ... }`"),
            );
            count_only(self);
            return None;
        }
        let count = match &value.kind {
            ast::ExprKind::Call { func, args } if op == AssignOp::Set && func.name == "first" && args.len() == 1 => {
                &args[0]
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        stmt.span,
                        format!("a CPU set takes `first(N)`, not `{} {}`", op.symbol(), self.text(value.span)),
                    )
                    .label("not `= first(N)`")
                    .help(format!("write `{name} = first(N)`: CPUs 0 to N - 1 become the set")),
                );
                return None;
            }
        };
        let t = self.expr(count, sc)?;
        let ty = match t.value() {
            Some(ValueType::Int) => ValueType::Int,
            Some(ValueType::Uint) => ValueType::Uint,
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        count.span,
                        format!("`first` takes a number of CPUs, an int or a uint, but this is {}", t.describe()),
                    )
                    .label("not a count")
                    .help("count CPUs, e.g. `first(system.nr_cpus / 2)`"),
                );
                return None;
            }
        };
        self.model.cpusets[set].assigned = true;
        Some(StmtKind::FirstCpus { set, count: t.into_expr(ty) })
    }

    /// The place an assignment writes, and its type.
    /// The period of `every` or `on timer`: a positive constant duration, or
    /// a duration parameter whose range starts above zero.
    pub(super) fn period(&mut self, period: &ast::Expr, sc: &Scope, what: &str) -> Option<Expr> {
        let t = self.expr(period, sc)?;
        if !self.expect_type(&t, ValueType::Duration, period.span, what) {
            return None;
        }
        let proven = match &t.e.kind {
            ExprKind::Const(v) => *v > 0,
            ExprKind::Param(i) => self.model.params[*i].min.is_some_and(|m| m > 0),
            _ => false,
        };
        if !proven {
            self.error(
                Diagnostic::new(Code::BadPeriod, period.span, format!("{what} must be a positive constant"))
                    .label("not known to be positive")
                    .help("write a literal such as `1s`, or a duration parameter whose range starts above zero (`in 1ms..`)"),
            );
            return None;
        }
        Some(t.into_expr(ValueType::Duration))
    }

    fn place(&mut self, target: &ast::Path, op: AssignOp, sc: &Scope) -> Option<(Place, Type)> {
        let parts: Vec<&str> = target.parts.iter().map(|i| i.name.as_str()).collect();
        let numeric_op = op != AssignOp::Set;
        let (place, ty) = match parts.as_slice() {
            [name] => {
                let symbol = self.symbols.get(*name).map(|(s, _)| *s);
                let refuse = |this: &mut Self, why: String, help: &str| {
                    this.error(
                        Diagnostic::new(Code::NotAssignable, target.span, format!("`{name}` cannot be assigned"))
                            .label(why)
                            .help(help.to_string()),
                    );
                };
                match symbol {
                    Some(Symbol::Global(i)) => (Place::Global(i), Type::Value(self.model.globals[i].ty)),
                    Some(Symbol::Stat(i)) => {
                        let stat = &self.model.stats[i];
                        if !matches!(stat.source, StatSource::Variable(_)) {
                            refuse(
                                self,
                                "bound to something the scheduler tracks".to_string(),
                                "only counters and gauges declared without `=` are updated by rules",
                            );
                            return None;
                        }
                        if stat.kind == StatKind::Counter && op != AssignOp::Add {
                            refuse(
                                self,
                                "a counter only grows".to_string(),
                                "add to it with `+=`; use a `gauge` for values that go down",
                            );
                            return None;
                        }
                        (Place::Stat(i), Type::Value(stat.ty))
                    }
                    Some(Symbol::Param(_)) => {
                        refuse(
                            self,
                            "a parameter is fixed once the scheduler is loaded".to_string(),
                            "keep changing state in a `global`",
                        );
                        return None;
                    }
                    Some(other) => {
                        refuse(
                            self,
                            format!("it is {}", other.what()),
                            "assign globals, gauges, counters and per-task state",
                        );
                        return None;
                    }
                    None if sc.locals.iter().any(|(n, _)| n == name) => {
                        refuse(
                            self,
                            "`let` names are fixed".to_string(),
                            "declare a `global` or a `task` variable for state that changes",
                        );
                        return None;
                    }
                    None => {
                        let candidates: Vec<String> = self.symbols.keys().cloned().collect();
                        self.unknown_bare(
                            &target.parts[0],
                            candidates.iter().map(String::as_str),
                            "declare it as a `global`, `gauge` or `counter`",
                        );
                        return None;
                    }
                }
            }
            ["cpu", "perf"] => {
                if !sc.cpuperf {
                    self.error(
                        Diagnostic::new(Code::WrongContext, target.span, format!("`cpu.perf` cannot be set in {}", sc.what))
                            .label("the kernel refuses it here")
                            .help("a CPU's performance target is set where the kernel holds that CPU's run queue or none: in `on tick`, `on running`, `on stopping` or `on timer`"),
                    );
                    return None;
                }
                if numeric_op {
                    self.error(
                        Diagnostic::new(Code::NotAssignable, target.span, format!("`cpu.perf` cannot be changed with `{}`", op.symbol()))
                            .label("set, not adjusted")
                            .help("reading `cpu.perf` gives the CPU's current level, not the target last set: write `cpu.perf = VALUE` with a value 0..1024"),
                    );
                    return None;
                }
                (Place::CpuPerf, Type::Value(ValueType::Uint))
            }
            ["cpu", name] if CpuFact::from_name(name).is_some() => {
                let help = match *name {
                    "util" => "it is measured in `ops.running` and `ops.stopping`; keep your own per-CPU state in a `cpu NAME: TYPE = INITIAL` variable",
                    "capacity" => "the kernel reports the CPU's capacity; keep your own per-CPU state in a `cpu NAME: TYPE = INITIAL` variable",
                    _ => "the kernel's idle tracking decides it; keep your own per-CPU state in a `cpu NAME: TYPE = INITIAL` variable",
                };
                self.error(
                    Diagnostic::new(Code::NotAssignable, target.span, format!("`cpu.{name}` is read-only"))
                        .label("a fact of the CPU")
                        .help(help),
                );
                return None;
            }
            ["cpu", field] => match self.cpu_var_names.get(*field).copied() {
                Some((i, _)) => (Place::CpuVar(i), Type::Value(self.model.cpu_vars[i].ty)),
                None => {
                    let vars: Vec<String> = self.cpu_var_names.keys().cloned().collect();
                    self.unknown(
                        &target.parts[1],
                        "per-CPU variable",
                        vars.iter().map(String::as_str),
                        &format!("declare it with `cpu {field}: TYPE = INITIAL`"),
                    );
                    return None;
                }
            },
            ["waker", field] => match self.task_var_names.get(*field).copied() {
                Some((i, _)) if self.waker_here(target.span, field, sc) => {
                    (Place::WakerVar(i), Type::Value(self.model.task_vars[i].ty))
                }
                Some(_) => return None,
                None => {
                    let vars: Vec<String> = self.task_var_names.keys().cloned().collect();
                    let is_fact = super::facts::lookup(super::facts::FactGroup::Waker, field).is_some();
                    if is_fact {
                        self.error(
                            Diagnostic::new(Code::NotAssignable, target.span, format!("`waker.{field}` is read-only"))
                                .label("the kernel keeps this")
                                .help("of the waker only its per-task variables can be assigned: `waker.NAME` of a `task NAME: TYPE = INITIAL`"),
                        );
                    } else {
                        self.unknown(
                            &target.parts[1],
                            "per-task variable",
                            vars.iter().map(String::as_str),
                            "declare it with `task NAME: TYPE = INITIAL`; the waker's is written as `waker.NAME`",
                        );
                    }
                    return None;
                }
            },
            ["task", field] => {
                if !self.task_here(target.span, sc) {
                    return None;
                }
                match *field {
                    "slice_left" => (Place::TaskSlice, Type::Value(ValueType::Duration)),
                    "class" if !self.classes_declared(target.span) => return None,
                    "class" => (Place::TaskClass, Type::Class),
                    "vruntime" => {
                        self.error(
                            Diagnostic::new(Code::NotAssignable, target.span, "`task.vruntime` is read-only")
                                .label("schedc keeps the vruntime")
                                .help("it grows by the `vtime charge` formula each time the task stops, and `vtime lag` bounds how far behind `system.vtime_now` it may start: change those formulas instead"),
                        );
                        return None;
                    }
                    f if task_fact(f).is_some() => {
                        self.error(
                            Diagnostic::new(Code::NotAssignable, target.span, format!("`task.{f}` is read-only"))
                                .label("the kernel keeps this")
                                .help("of the task facts only `task.slice_left` and `task.class` can be assigned; keep your own state in a `task` variable"),
                        );
                        return None;
                    }
                    f => match self.task_var_names.get(f).copied() {
                        Some((i, _)) => (Place::TaskVar(i), Type::Value(self.model.task_vars[i].ty)),
                        None => {
                            let vars: Vec<String> = self.task_var_names.keys().cloned().collect();
                            self.unknown(
                                &target.parts[1],
                                "per-task variable",
                                vars.iter().map(String::as_str),
                                "declare it with `task NAME: TYPE = INITIAL`",
                            );
                            return None;
                        }
                    },
                }
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::NotAssignable,
                        target.span,
                        format!("`{}` cannot be assigned", target.text()),
                    )
                    .label("not a variable")
                    .help("assign globals, gauges, counters, `task.NAME` variables, `task.slice_left` or `task.class`"),
                );
                return None;
            }
        };
        if numeric_op
            && !matches!(ty, Type::Value(ValueType::Int | ValueType::Uint | ValueType::Duration | ValueType::Time))
        {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    target.span,
                    format!("`{}` needs a number or a duration", op.symbol()),
                )
                .label("not a number")
                .help("use `=` to assign it"),
            );
            return None;
        }
        let key = match &place {
            Place::TaskVar(i) | Place::WakerVar(i) => format!("task.{}", self.model.task_vars[*i].name),
            _ => parts.join("."),
        };
        self.usage.entry(key).or_default().written = true;
        Some((place, ty))
    }

    pub(super) fn place_type(&self, place: &Place) -> ValueType {
        match place {
            Place::TaskVar(i) | Place::WakerVar(i) => self.model.task_vars[*i].ty,
            Place::CpuVar(i) => self.model.cpu_vars[*i].ty,
            Place::Global(i) => self.model.globals[*i].ty,
            Place::Stat(i) => self.model.stats[*i].ty,
            Place::TaskSlice => ValueType::Duration,
            Place::CpuPerf => ValueType::Uint,
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
