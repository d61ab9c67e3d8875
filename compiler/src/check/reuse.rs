//! Reuse: `const` values and `fn` formulas written once and used by name;
//! and the string tests on command names (`starts_with`, the waker's facts).

use crate::ast::{self, ItemKind, Policy, Span};
use crate::diag::{Code, Diagnostic};
use crate::model::*;

use super::expr::{is_comm, Scope, Typed};
use super::facts::{self, FactGroup};
use super::{const_value, Checker, Symbol};

impl Checker<'_> {
    /// Declares every `const` and `fn` before anything else, so that a
    /// use above a constant's declaration is told so.
    pub(super) fn declare_reuse(&mut self, policy: &Policy) {
        let mut consts = 0;
        for item in &policy.items {
            match &item.kind {
                ItemKind::Const { name, .. } => {
                    if self.declare(name, Symbol::Const(consts)) {
                        self.const_declared.push(consts);
                    }
                    consts += 1;
                }
                ItemKind::Fn(f) => {
                    let index = self.fn_decls.len();
                    if self.declare(&f.name, Symbol::Function(index)) {
                        self.fn_decls.push((**f).clone());
                    }
                }
                _ => {}
            }
        }
    }

    /// Works out a constant where it stands among the declarations: it may
    /// use the constants (and literal-valued things) above it.
    pub(super) fn constant(&mut self, value: &ast::Expr) {
        let index = self.consts.len();
        let t = if self.const_declared.contains(&index) { self.const_item(value) } else { None };
        self.consts.push(t);
    }

    fn const_item(&mut self, value: &ast::Expr) -> Option<Typed> {
        let t = self.expr(value, &Scope::constant("a constant"))?;
        if let ExprKind::Str(_) = t.e.kind {
            return Some(t);
        }
        if t.ty == Type::Class || t.ty == Type::Str {
            self.error(
                Diagnostic::new(Code::TypeMismatch, value.span, format!("a constant cannot be {}", t.describe()))
                    .label("not a constant value")
                    .help("a constant is a number, a duration, a bool or a string literal"),
            );
            return None;
        }
        let Some(v) = const_value(&t.e, &[]) else {
            self.error(
                Diagnostic::new(Code::NotConstant, value.span, "a constant must be known when the policy is compiled")
                    .label("not a constant")
                    .help("write literals and constants declared above, e.g. `const boost = 2 * 5ms`; use a `param` for a value set at load"),
            );
            return None;
        };
        Some(Typed { e: Expr { kind: ExprKind::Const(v), ty: t.ty }, ty: t.ty, literal: t.literal })
    }

    /// Checks each function body in declaration order: its arguments are
    /// names in it, it may read the task at hand, and it may call only the
    /// functions above it (so no function calls itself).
    pub(super) fn functions(&mut self) {
        // From here on a call is checked; a call to a function not checked
        // yet is one declared below (or itself).
        self.fns_checked = true;
        for decl in std::mem::take(&mut self.fn_decls) {
            let mut scope = Scope::task("a function");
            for (arg, ty) in &decl.params {
                if self.valid_name(arg) && !self.new_local(arg, &scope) {
                    continue;
                }
                scope.locals.push((arg.name.clone(), Type::Value(ty.ty)));
            }
            let params: Vec<(String, ValueType)> = decl.params.iter().map(|(a, t)| (a.name.clone(), t.ty)).collect();
            let origin = self.origin(decl.name.span);
            let result = self.expr(&decl.body, &scope).and_then(|t| {
                if matches!(t.ty, Type::Class | Type::Str) {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            decl.body.span,
                            format!("a function cannot give {}", t.describe()),
                        )
                        .label("not a value a function gives")
                        .help("a function gives a number, a duration, a time or a bool"),
                    );
                    return None;
                }
                let ty = if t.literal { ValueType::Int } else { t.value().expect("a value type") };
                Some(t.into_expr(ty))
            });
            // A wrong body still declares the function, so calls are checked.
            let failed = result.is_none();
            let result = result.unwrap_or(Expr { kind: ExprKind::Const(0), ty: Type::Value(ValueType::Int) });
            let reads_task = reads_task(&result, &self.model.functions);
            let index = self.model.functions.len();
            self.model.functions.push(Function { name: decl.name.name.clone(), params, result, reads_task, origin });
            if failed {
                self.failed_fns.push(index);
            }
        }
    }

    /// Whether `name` may be a new argument name (not a top-level name).
    fn new_local(&mut self, arg: &ast::Ident, scope: &Scope) -> bool {
        let clash = self.symbols.get(&arg.name).map(|(s, span)| (s.what(), *span));
        let repeated = scope.locals.iter().any(|(n, _)| *n == arg.name);
        if let Some((what, span)) = clash {
            self.error(
                Diagnostic::new(Code::DuplicateName, arg.span, format!("`{}` is already {what}", arg.name))
                    .label("argument named like a declaration")
                    .related(span, "declared here")
                    .help("give the argument a name of its own"),
            );
            return false;
        }
        if repeated {
            self.error(
                Diagnostic::new(
                    Code::DuplicateName,
                    arg.span,
                    format!("`{}` is a second argument of that name", arg.name),
                )
                .label("repeated")
                .help("give every argument its own name"),
            );
            return false;
        }
        true
    }

    /// `NAME(ARGS)` of a function of the policy.
    pub(super) fn call_fn(
        &mut self,
        index: usize,
        func: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
        sc: &Scope,
    ) -> Option<Typed> {
        let typed: Vec<Option<Typed>> = args.iter().map(|a| self.expr(a, sc)).collect();
        self.usage.entry(func.name.clone()).or_default().read = true;
        if index >= self.model.functions.len() {
            let (what, help) = if self.fns_checked {
                (
                    "a function may call only the functions declared above it",
                    "move the function called above this one; a function never calls itself",
                )
            } else {
                (
                    "a function call is not a constant",
                    "parameter defaults, ranges, constants and the timeout are literals and constants",
                )
            };
            let code = if self.fns_checked { Code::WrongContext } else { Code::NotConstant };
            self.error(
                Diagnostic::new(code, func.span, format!("`{}` cannot be called here: {what}", func.name))
                    .label("called here")
                    .help(help),
            );
            return None;
        }
        if self.failed_fns.contains(&index) {
            return None;
        }
        let f = self.model.functions[index].clone();
        if args.len() != f.params.len() {
            let shape: Vec<String> = f.params.iter().map(|(n, t)| format!("{n}: {}", t.keyword())).collect();
            self.error(
                Diagnostic::new(
                    Code::WrongArity,
                    span,
                    format!(
                        "`{}` takes {} argument{}, not {}",
                        f.name,
                        f.params.len(),
                        if f.params.len() == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
                .label("wrong number of arguments")
                .help(format!("it is declared `fn {}({})`", f.name, shape.join(", "))),
            );
            return None;
        }
        if f.reads_task && !sc.task {
            self.error(
                Diagnostic::new(Code::WrongContext, func.span, format!("`{}` reads the task, and there is no task in {}", f.name, sc.what))
                    .label("no task here")
                    .related(f.origin.span, "the function is declared here")
                    .help("call it where a task is at hand (events, rules, slice and vtime formulas), or pass what it needs as arguments"),
            );
            return None;
        }
        let mut settled = Vec::new();
        for ((t, a), (name, ty)) in typed.into_iter().zip(args).zip(&f.params) {
            let t = t?;
            if !t.fits(*ty) {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        a.span,
                        format!(
                            "the argument `{name}` of `{}` is a {}, but this is {}",
                            f.name,
                            ty.keyword(),
                            t.describe()
                        ),
                    )
                    .label(format!("this is {}", t.describe()))
                    .help(format!("pass a {} here", ty.keyword())),
                );
                return None;
            }
            settled.push(t.into_expr(*ty));
        }
        Some(Typed::new(ExprKind::CallFn { func: index, args: settled }, f.result.ty))
    }

    /// `COMM starts_with "prefix"`.
    pub(super) fn starts_with(&mut self, l: Typed, r: Typed, lspan: Span, rspan: Span, span: Span) -> Option<Typed> {
        let of = match l.e.kind {
            ExprKind::Fact(f) if is_comm(f) => f,
            _ => {
                self.error(
                    Diagnostic::new(Code::TypeMismatch, lspan, "`starts_with` tests a command name")
                        .label(format!("this is {}", l.describe()))
                        .help("write `task.comm starts_with \"kworker\"` (or `task.parent_comm`, `waker.comm`)"),
                );
                return None;
            }
        };
        let ExprKind::Str(name) = r.e.kind else {
            self.error(
                Diagnostic::new(Code::TypeMismatch, rspan, "a prefix is a string literal")
                    .label(format!("this is {}", r.describe()))
                    .help("write the prefix in double quotes: `starts_with \"kworker\"`"),
            );
            return None;
        };
        if name.is_empty() {
            self.error(
                Diagnostic::new(Code::OutOfRange, rspan, "every name starts with the empty string")
                    .label("empty prefix")
                    .help("write at least one character, or drop the test"),
            );
            return None;
        }
        if !self.comm_fits(&name, span) {
            return None;
        }
        let kind = ExprKind::CommIs { of, name, equal: true, prefix: true };
        Some(Typed::new(kind, Type::Value(ValueType::Bool)))
    }

    /// A command name is at most 15 characters.
    pub(super) fn comm_fits(&mut self, name: &str, span: Span) -> bool {
        if name.len() < 16 {
            return true;
        }
        self.error(
            Diagnostic::new(Code::OutOfRange, span, "a task name is at most 15 characters")
                .label(format!("{} characters", name.len()))
                .help("the kernel keeps only the first 15 characters of a command name"),
        );
        false
    }

    /// `waker.FIELD`: the task that woke the one being placed.
    pub(super) fn waker_fact(&mut self, p: &ast::Path, field: &str, sc: &Scope) -> Option<Typed> {
        let var = self.task_var_names.get(field).copied();
        let info = facts::lookup(FactGroup::Waker, field);
        if info.is_none() && var.is_none() {
            let mut vars: Vec<&str> = self.task_var_names.keys().map(String::as_str).collect();
            vars.sort();
            let help = format!(
                "the waker facts are {}; the waker's per-task variables are read as `waker.NAME`",
                facts::listed(FactGroup::Waker)
            );
            let candidates: Vec<String> = facts::names(FactGroup::Waker).chain(vars).map(str::to_string).collect();
            self.unknown(&p.parts[1], "waker fact or per-task variable", candidates.iter().map(String::as_str), &help);
            return None;
        }
        if !self.waker_here(p.span, field, sc) {
            return None;
        }
        let Some(info) = info else {
            let (i, _) = var?;
            self.usage.entry(format!("task.{field}")).or_default().read = true;
            let ty = self.model.task_vars[i].ty;
            return Some(Typed::new(ExprKind::WakerVar(i), Type::Value(ty)));
        };
        if info.fact == Fact::WakerClass && !self.classes_declared(p.span) {
            return None;
        }
        Some(Typed::new(ExprKind::Fact(info.fact), info.ty))
    }

    /// Whether the waker is known here; if not, says so.
    pub(super) fn waker_here(&mut self, span: Span, field: &str, sc: &Scope) -> bool {
        if !sc.wakeup {
            self.error(
                Diagnostic::new(Code::WrongContext, span, format!("`waker.{field}` is not known in {}", sc.what))
                    .label("no wake-up here")
                    .help("the waker is known only in `on wakeup` and `select_cpu`"),
            );
        }
        sc.wakeup
    }
}

/// Whether an expression reads the task at hand.
pub(crate) fn reads_task(e: &Expr, functions: &[Function]) -> bool {
    match &e.kind {
        ExprKind::Fact(f) => matches!(
            f,
            Fact::TaskNvcsw
                | Fact::TaskWeight
                | Fact::TaskKthread
                | Fact::TaskNrCpusAllowed
                | Fact::TaskMigrationDisabled
                | Fact::TaskRunning
                | Fact::TaskPid
                | Fact::TaskComm
                | Fact::TaskVruntime
                | Fact::TaskSliceLeft
                | Fact::TaskCpu
                | Fact::TaskLlc
                | Fact::TaskNode
                | Fact::TaskClass
                | Fact::TaskTgid
                | Fact::TaskNice
                | Fact::TaskRuntime
                | Fact::TaskAwakeRuntime
                | Fact::TaskParentComm
                | Fact::TaskPpid
                | Fact::TaskCgroup
                | Fact::TaskUid
                | Fact::TaskGid
        ),
        ExprKind::TaskVar(_) | ExprKind::Elapsed(_) => true,
        ExprKind::CommIs { of, .. } => *of != Fact::WakerComm,
        ExprKind::CallFn { func, args } => {
            functions.get(*func).is_some_and(|f| f.reads_task) || args.iter().any(|a| reads_task(a, functions))
        }
        ExprKind::Neg(x) | ExprKind::Not(x) | ExprKind::Convert { value: x, .. } => reads_task(x, functions),
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::GuardedDiv { lhs, rhs, .. } => {
            reads_task(lhs, functions) || reads_task(rhs, functions)
        }
        ExprKind::Cond { cond, then, otherwise } => {
            reads_task(cond, functions) || reads_task(then, functions) || reads_task(otherwise, functions)
        }
        ExprKind::Call { args, .. } => args.iter().any(|a| reads_task(a, functions)),
        ExprKind::CpuVar { on: Some(cpu), .. }
        | ExprKind::QueueLenOn { cpu, .. }
        | ExprKind::CpuFact { on: Some(cpu), .. } => reads_task(cpu, functions),
        _ => false,
    }
}
