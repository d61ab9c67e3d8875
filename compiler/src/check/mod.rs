//! The checker: resolves names, checks types and units, and proves the
//! properties the generated scheduler relies on. It turns a syntax tree into
//! a [`Model`] or explains, with every mistake it finds, why it cannot.

mod behaviour;
mod expr;
pub mod facts;
mod names;
mod nonzero;
mod reuse;
pub(crate) mod sign;
mod stack;
mod stmt;
mod whole;

pub(crate) use names::suggest;

use std::collections::{HashMap, HashSet};

use crate::ast::{self, GaugeSource, ItemKind, Policy, Span, StrLit};
use crate::diag::{Code, Diagnostic};
use crate::model::*;
use crate::source::Source;

use expr::{Scope, Typed};

/// The kernel refuses watchdog timeouts above 30 s.
const MAX_TIMEOUT_NS: i128 = 30_000_000_000;

/// Checks a parsed policy. The model is `None` when any error was found;
/// warnings come back either way.
pub fn check(policy: &Policy, source: &Source) -> (Option<Model>, Vec<Diagnostic>) {
    let mut checker = Checker::new(source);
    checker.declarations(policy);
    checker.behaviour(policy);
    checker.whole_policy(policy);
    // The stack estimate needs a complete model.
    if !checker.diags.iter().any(Diagnostic::is_error) {
        checker.stack_use();
    }
    let Checker { diags, model, .. } = checker;
    let failed = diags.iter().any(Diagnostic::is_error);
    (if failed { None } else { Some(model) }, diags)
}

/// A top-level name and what it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Symbol {
    Param(usize),
    Queue(usize),
    Class(usize),
    Global(usize),
    Stat(usize),
    Const(usize),
    Function(usize),
    CpuSet(usize),
}

impl Symbol {
    fn what(self) -> &'static str {
        match self {
            Symbol::Param(_) => "a parameter",
            Symbol::Queue(_) => "a queue",
            Symbol::Class(_) => "a class",
            Symbol::Global(_) => "a global",
            Symbol::Stat(_) => "a statistic",
            Symbol::Const(_) => "a constant",
            Symbol::Function(_) => "a function",
            Symbol::CpuSet(_) => "a CPU set",
        }
    }
}

/// How much a declaration was used, for the "never used" warnings.
#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    read: bool,
    written: bool,
}

struct Checker<'s> {
    source: &'s Source,
    diags: Vec<Diagnostic>,
    model: Model,
    symbols: HashMap<String, (Symbol, Span)>,
    /// Names whose second declaration was refused as a duplicate, and
    /// whether one was a class: their uses in that role are not reported
    /// again (the duplicate's diagnostic says what to do).
    refused: HashSet<String>,
    refused_class: bool,
    /// Declared names a did-you-mean pointed at: a mistyped use is likely
    /// the use they lack, so they draw no `unused` warning.
    suggested: HashSet<String>,
    /// Statistics that start from a number (a plain counter, a gauge with a
    /// literal first value): unless a rule assigns them, they show nothing.
    fixed_start: HashSet<String>,
    task_var_names: HashMap<String, (usize, Span)>,
    /// Per-CPU variables, read as `cpu.NAME`: a namespace of their own.
    cpu_var_names: HashMap<String, (usize, Span)>,
    usage: HashMap<String, Usage>,
    /// Spans of the items that occur at most once, for duplicate reports.
    singletons: HashMap<&'static str, Span>,
    /// Queues that receive tasks, with the place that sends them there.
    routed: Vec<(usize, Span)>,
    /// Declaration spans, for warnings about unused things.
    decl_spans: HashMap<String, Span>,
    /// How deep the expression or statement being checked is nested, and
    /// whether "nested too deeply" was said already.
    depth: usize,
    too_deep: bool,
    /// A parameter whose default is wrong stands in as 0: checks that take
    /// parameters at their defaults would then report made-up problems.
    unknown_default: bool,
    /// The value of each `const` checked so far (`None` if it was wrong).
    consts: Vec<Option<Typed>>,
    /// The indices of the constants whose names were declared (not duplicates).
    const_declared: Vec<usize>,
    /// The `fn` items, their bodies checked in order by `functions`.
    fn_decls: Vec<ast::FnDecl>,
    /// Functions whose body had a mistake: calls to them are not checked further.
    failed_fns: Vec<usize>,
    /// Whether the function bodies were checked (calls are allowed from then on).
    fns_checked: bool,
}

impl<'s> Checker<'s> {
    fn new(source: &'s Source) -> Self {
        Checker {
            source,
            diags: Vec::new(),
            model: Model {
                name: String::new(),
                description: String::new(),
                timeout_ms: 0,
                ops_flags: Vec::new(),
                params: Vec::new(),
                queues: Vec::new(),
                classes: Vec::new(),
                task_vars: Vec::new(),
                globals: Vec::new(),
                cpu_vars: Vec::new(),
                cpusets: Vec::new(),
                stats: Vec::new(),
                events: Vec::new(),
                select: None,
                routes: Vec::new(),
                dispatch: Vec::new(),
                slice: None,
                vtime_charge: None,
                vtime_lag: None,
                vtime_deadline: None,
                keep_running: None,
                keep_running_when: None,
                preempt: None,
                timer: None,
                samplers: 0,
                functions: Vec::new(),
            },
            symbols: HashMap::new(),
            refused: HashSet::new(),
            refused_class: false,
            suggested: HashSet::new(),
            fixed_start: HashSet::new(),
            task_var_names: HashMap::new(),
            cpu_var_names: HashMap::new(),
            usage: HashMap::new(),
            singletons: HashMap::new(),
            routed: Vec::new(),
            decl_spans: HashMap::new(),
            depth: 0,
            too_deep: false,
            unknown_default: false,
            consts: Vec::new(),
            const_declared: Vec::new(),
            fn_decls: Vec::new(),
            failed_fns: Vec::new(),
            fns_checked: false,
        }
    }

    fn origin(&self, span: Span) -> Origin {
        Origin { line: self.source.line_of(span.start), span }
    }

    fn text(&self, span: Span) -> &'s str {
        self.source.slice(span)
    }

    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    // ------------------------------------------------------------ declarations

    /// First pass: every name is declared before any expression is checked,
    /// so items may refer to each other in any order.
    // `once` records the item as a side effect, so it stays out of match guards.
    #[allow(clippy::collapsible_match)]
    fn declarations(&mut self, policy: &Policy) {
        let mut timeout = None;
        // Constants and functions are named first; each constant is worked
        // out where it stands, so a parameter below it may use it.
        self.declare_reuse(policy);
        for item in &policy.items {
            match &item.kind {
                ItemKind::Const { value, .. } => self.constant(value),
                ItemKind::Scheduler { name, description, timeout: t, flags } => {
                    if self.once("scheduler", item.span) {
                        self.scheduler(name, description);
                        self.ops_flags(flags);
                        timeout = t.as_ref();
                    }
                }
                ItemKind::Param(p) => self.param(p, item.span),
                ItemKind::Queue { name, placement, order } => {
                    let index = self.model.queues.len();
                    if self.declare(name, Symbol::Queue(index)) {
                        let origin = self.origin(item.span);
                        self.model.queues.push(Queue {
                            name: name.name.clone(),
                            placement: *placement,
                            order: *order,
                            counted: false,
                            origin,
                        });
                    }
                }
                ItemKind::Class { name, doc } => {
                    let index = self.model.classes.len();
                    if self.declare(name, Symbol::Class(index)) {
                        let origin = self.origin(item.span);
                        self.model.classes.push(Class { name: name.name.clone(), doc: doc.value.clone(), origin });
                    }
                }
                ItemKind::State { scope: ast::Scope::Global, name, ty, .. } => {
                    let index = self.model.globals.len();
                    if self.declare(name, Symbol::Global(index)) {
                        let origin = self.origin(item.span);
                        let init = placeholder(ty.ty);
                        self.model.globals.push(Var { name: name.name.clone(), ty: ty.ty, init, origin });
                    }
                }
                ItemKind::State { scope: ast::Scope::Task, name, ty, .. } => self.task_var(name, ty.ty, item.span),
                ItemKind::State { scope: ast::Scope::Cpu, name, ty, .. } => self.cpu_var(name, ty.ty, item.span),
                ItemKind::CpuSet { name, ranges, doc, dynamic } => self.cpuset(name, ranges, doc, *dynamic, item.span),
                ItemKind::Counter { name, doc, .. } => {
                    self.stat(name, StatKind::Counter, ValueType::Uint, doc, item.span);
                }
                ItemKind::Gauge { name, source, doc } => {
                    let ty = match source {
                        GaugeSource::Variable { ty, .. } => ty.ty,
                        GaugeSource::Bound(_) => ValueType::Duration,
                    };
                    self.stat(name, StatKind::Gauge, ty, doc, item.span);
                }
                _ => {}
            }
        }
        // After the declarations, so that a parameter named as the timeout
        // is reported as not constant rather than unknown.
        if let Some(timeout) = timeout {
            self.timeout(timeout);
        }
        if !self.singletons.contains_key("scheduler") {
            self.error(
                Diagnostic::new(Code::MissingScheduler, Span::new(0, 0), "this policy has no `scheduler` line")
                    .label("a policy starts here")
                    .help("start the policy with `scheduler NAME \"what it does\" timeout 5s`"),
            );
        }
    }

    /// Records an item that may appear only once; false if it is a repeat.
    fn once(&mut self, what: &'static str, span: Span) -> bool {
        if let Some(first) = self.singletons.get(what).copied() {
            self.error(
                Diagnostic::new(Code::DuplicateItem, span, format!("a second `{what}` item"))
                    .label("repeated here")
                    .related(first, "first here")
                    .help(once_help(what)),
            );
            false
        } else {
            self.singletons.insert(what, span);
            true
        }
    }

    /// Declares a top-level name; false (with a diagnostic) if it cannot be.
    fn declare(&mut self, name: &ast::Ident, symbol: Symbol) -> bool {
        // A reserved name is reported but still declared, so its uses do not
        // pile up "unknown name" errors on top.
        self.valid_name(name);
        if let Some((prev, prev_span)) = self.symbols.get(&name.name).copied() {
            self.error(
                Diagnostic::new(Code::DuplicateName, name.span, format!("`{}` is declared twice", name.name))
                    .label(format!("declared again here as {}", symbol.what()))
                    .related(prev_span, format!("first declared here as {}", prev.what()))
                    .help("every parameter, queue, class, global, statistic, constant and function needs its own name"),
            );
            self.refused.insert(name.name.clone());
            self.refused_class |= matches!(symbol, Symbol::Class(_));
            return false;
        }
        self.symbols.insert(name.name.clone(), (symbol, name.span));
        self.decl_spans.insert(name.name.clone(), name.span);
        true
    }

    fn valid_name(&mut self, name: &ast::Ident) -> bool {
        match names::reserved(&name.name) {
            Some(why) => {
                let instead = match names::unreserved_like(&name.name) {
                    Some(other) => format!("pick another name, such as `{other}`"),
                    None => "pick another name".to_string(),
                };
                self.error(
                    Diagnostic::new(Code::ReservedName, name.span, format!("`{}` cannot be used as a name", name.name))
                        .label("reserved")
                        .help(format!("{why}; {instead}")),
                );
                false
            }
            None => true,
        }
    }

    /// `with FLAG, ...`: each a flag schedc knows, each once.
    fn ops_flags(&mut self, flags: &[ast::Ident]) {
        let words = OpsFlag::ALL.map(OpsFlag::word);
        let mut seen: Vec<(OpsFlag, Span)> = Vec::new();
        for f in flags {
            let Some(flag) = OpsFlag::ALL.into_iter().find(|k| k.word() == f.name) else {
                let listed = words.map(|w| format!("`{w}`")).join(", ");
                let help = match names::suggest(&f.name, words) {
                    Some(near) => format!("did you mean `{near}`? The flags are {listed}"),
                    None => format!(
                        "the flags are {listed}; the kernel's other ops flags change what schedc's generated code relies on, so schedc does not offer them"
                    ),
                };
                self.error(
                    Diagnostic::new(Code::UnknownName, f.span, format!("`{}` is not an ops flag", f.name))
                        .label("unknown flag")
                        .help(help),
                );
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == flag) {
                self.error(
                    Diagnostic::new(Code::DuplicateName, f.span, format!("`{}` is given twice", f.name))
                        .label("again here")
                        .related(*first, "first here")
                        .help("give each flag once"),
                );
                continue;
            }
            seen.push((flag, f.span));
            self.model.ops_flags.push(flag);
        }
    }

    fn scheduler(&mut self, name: &ast::Ident, description: &StrLit) {
        // The callbacks are named NAME_enqueue and so on: they must not
        // land among kernel or generated symbols.
        if names::reserved_prefix(&format!("{}_", name.name)) {
            self.error(
                Diagnostic::new(Code::ReservedName, name.span, format!("a scheduler cannot be named `{}`", name.name))
                    .label("its callbacks would clash with kernel or schedc symbols")
                    .help("the callbacks' prefix `NAME_` must not start with `schedc_`, `scx_`, `bpf_` or `_`; pick another name"),
            );
        }
        if name.name.len() >= 128 {
            self.error(
                Diagnostic::new(Code::BadName, name.span, "the scheduler name is too long")
                    .label(format!("{} bytes", name.name.len()))
                    .help("the kernel keeps at most 127 bytes of a scheduler's name"),
            );
        }
        self.model.name = name.name.clone();
        self.model.description = description.value.clone();
    }

    fn timeout(&mut self, timeout: &ast::Expr) {
        let Some(t) = self.expr(timeout, &Scope::constant("the timeout")) else { return };
        if !self.expect_type(&t, ValueType::Duration, timeout.span, "the watchdog timeout") {
            return;
        }
        // The timeout is fixed in the object: a parameter could not change it.
        match const_value(&t.e, &[]) {
            Some(ns) if (1_000_000..=MAX_TIMEOUT_NS).contains(&ns) => self.model.timeout_ms = (ns / 1_000_000) as u64,
            Some(_) => self.error(
                Diagnostic::new(Code::OutOfRange, timeout.span, "the watchdog timeout must be between 1ms and 30s")
                    .label("out of range")
                    .help("the kernel refuses timeouts above 30s; a few seconds is usual, e.g. `timeout 5s`"),
            ),
            None => self.error(
                Diagnostic::new(Code::NotConstant, timeout.span, "the watchdog timeout must be a constant duration")
                    .label("not a constant")
                    .help("write it as a literal such as `5s`"),
            ),
        }
    }

    fn param(&mut self, p: &ast::ParamDecl, span: Span) {
        let index = self.model.params.len();
        if !self.declare(&p.name, Symbol::Param(index)) {
            return;
        }
        let origin = self.origin(span);
        let scope = Scope::constant("a parameter's default");
        let default = self.param_value(&p.default, p.ty.ty, &scope, "the default");
        let bound = |this: &mut Self, b: &Option<ast::Bound>| -> Option<i128> {
            let b = b.as_ref()?;
            let v = this.param_value(&b.value, p.ty.ty, &scope, "a bound")?;
            Some(if b.negative { -v } else { v })
        };
        let min = bound(self, &p.min);
        let max = bound(self, &p.max);
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                self.error(
                    Diagnostic::new(
                        Code::OutOfRange,
                        p.min.as_ref().map_or(span, |b| b.span),
                        "the lower bound is above the upper bound",
                    )
                    .label("lower bound")
                    .help("write the range as `in LOW..HIGH`"),
                );
            }
        }
        let reversed = matches!((min, max), (Some(lo), Some(hi)) if lo > hi);
        if let (Some(d), false) = (default, reversed) {
            let below = min.is_some_and(|lo| d < lo);
            let above = max.is_some_and(|hi| d > hi);
            if below || above {
                self.error(
                    Diagnostic::new(
                        Code::OutOfRange,
                        p.default.span,
                        format!("the default of `{}` is outside its range", p.name.name),
                    )
                    .label(if below { "below the lower bound" } else { "above the upper bound" })
                    .help("change the default or widen the `in LOW..HIGH` range"),
                );
            }
            if p.ty.ty == ValueType::Uint && (min.is_some_and(|v| v < 0)) {
                self.error(
                    Diagnostic::new(
                        Code::OutOfRange,
                        p.min.as_ref().map_or(span, |b| b.span),
                        "a `uint` parameter cannot have a negative bound",
                    )
                    .label("negative")
                    .help("use `int` for values that may be negative"),
                );
            }
        }
        if p.ty.ty == ValueType::Time {
            self.error(
                Diagnostic::new(Code::TypeMismatch, p.ty.span, "a parameter cannot be a `time`")
                    .label("a point in time is not known before the scheduler runs")
                    .help("use a `duration` parameter"),
            );
        }
        self.model.params.push(Param {
            name: p.name.name.clone(),
            ty: p.ty.ty,
            default: default.unwrap_or_else(|| {
                self.unknown_default = true;
                0
            }),
            min,
            max,
            doc: p.doc.value.clone(),
            origin,
        });
    }

    /// A parameter's default or bound: a constant of the parameter's type.
    fn param_value(&mut self, e: &ast::Expr, ty: ValueType, scope: &Scope, what: &str) -> Option<i128> {
        let t = self.expr(e, scope)?;
        if !self.expect_type(&t, ty, e.span, what) {
            return None;
        }
        let v = const_value(&t.e, &[]);
        if v.is_none() {
            self.error(
                Diagnostic::new(Code::NotConstant, e.span, format!("{what} of a parameter must be a constant"))
                    .label("not a constant")
                    .help("write a literal such as `5ms`, `10` or `true`"),
            );
        }
        if ty == ValueType::Uint && v.is_some_and(|v| v < 0) {
            self.error(
                Diagnostic::new(Code::OutOfRange, e.span, "a `uint` cannot be negative")
                    .label("negative")
                    .help("use `int` for values that may be negative"),
            );
        }
        v
    }

    fn task_var(&mut self, name: &ast::Ident, ty: ValueType, span: Span) {
        // A reserved name is reported but still declared, like top-level names.
        self.valid_name(name);
        if expr::task_fact(&name.name).is_some() || name.name == "class" {
            self.error(
                Diagnostic::new(Code::DuplicateName, name.span, format!("`task.{}` is a built-in fact", name.name))
                    .label("already built in")
                    .help("pick another name for this per-task variable"),
            );
            return;
        }
        if let Some((_, prev)) = self.task_var_names.get(&name.name).copied() {
            self.error(
                Diagnostic::new(Code::DuplicateName, name.span, format!("`task.{}` is declared twice", name.name))
                    .label("declared again here")
                    .related(prev, "first declared here")
                    .help("every per-task variable needs its own name"),
            );
            return;
        }
        let index = self.model.task_vars.len();
        self.task_var_names.insert(name.name.clone(), (index, name.span));
        self.decl_spans.insert(format!("task.{}", name.name), name.span);
        let origin = self.origin(span);
        self.model.task_vars.push(Var { name: name.name.clone(), ty, init: placeholder(ty), origin });
    }

    fn cpu_var(&mut self, name: &ast::Ident, ty: ValueType, span: Span) {
        self.valid_name(name);
        if CpuFact::from_name(&name.name).is_some() {
            self.error(
                Diagnostic::new(Code::DuplicateName, name.span, format!("`cpu.{}` is a built-in fact", name.name))
                    .label("already built in")
                    .help("pick another name for this per-CPU variable"),
            );
            return;
        }
        if let Some((_, prev)) = self.cpu_var_names.get(&name.name).copied() {
            self.error(
                Diagnostic::new(Code::DuplicateName, name.span, format!("`cpu.{}` is declared twice", name.name))
                    .label("declared again here")
                    .related(prev, "first declared here")
                    .help("every per-CPU variable needs its own name"),
            );
            return;
        }
        let index = self.model.cpu_vars.len();
        self.cpu_var_names.insert(name.name.clone(), (index, name.span));
        self.decl_spans.insert(format!("cpu.{}", name.name), name.span);
        let origin = self.origin(span);
        self.model.cpu_vars.push(Var { name: name.name.clone(), ty, init: placeholder(ty), origin });
    }

    fn stat(&mut self, name: &ast::Ident, kind: StatKind, ty: ValueType, doc: &StrLit, span: Span) {
        let index = self.model.stats.len();
        if self.declare(name, Symbol::Stat(index)) {
            let origin = self.origin(span);
            self.model.stats.push(Stat {
                name: name.name.clone(),
                kind,
                ty,
                doc: doc.value.clone(),
                source: StatSource::Variable(placeholder(ty)),
                origin,
            });
        }
    }

    // ------------------------------------------------------------ helpers

    fn queue_index(&mut self, name: &ast::Ident) -> Option<usize> {
        match self.symbols.get(&name.name).copied() {
            Some((Symbol::Queue(i), _)) => Some(i),
            _ if self.refused.contains(&name.name) => None,
            Some((other, _)) => {
                self.error(
                    Diagnostic::new(
                        Code::NotAQueue,
                        name.span,
                        format!("`{}` is {}, not a queue", name.name, other.what()),
                    )
                    .label("expected a queue")
                    .help("declare queues with `queue NAME per_cpu|per_llc|per_node|shared fifo|vtime`"),
                );
                None
            }
            None => {
                let queues: Vec<&str> = self.model.queues.iter().map(|q| q.name.as_str()).collect();
                let near = names::suggest(&name.name, queues.iter().copied()).map(str::to_string);
                self.suggested.extend(near.clone());
                let help = match near {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "declare it with `queue {} shared vtime`; queues so far: {}",
                        name.name,
                        list_or_none(&queues)
                    ),
                };
                self.error(
                    Diagnostic::new(Code::UnknownName, name.span, format!("there is no queue named `{}`", name.name))
                        .label("unknown queue")
                        .help(help),
                );
                None
            }
        }
    }

    /// `cpuset NAME = 0-3, 6`: each CPU below `SCHEDC_MAX_CPUS`, each range
    /// in increasing order.
    fn cpuset(
        &mut self,
        name: &ast::Ident,
        ranges: &[ast::CpuRange],
        doc: &Option<ast::StrLit>,
        dynamic: bool,
        span: Span,
    ) {
        let mut checked = Vec::new();
        for r in ranges {
            if r.high >= u128::from(SCHEDC_MAX_CPUS) {
                self.error(
                    Diagnostic::new(Code::OutOfRange, r.span, format!("CPU {} is out of range", r.high))
                        .label(format!("schedc numbers CPUs 0 to {}", SCHEDC_MAX_CPUS - 1))
                        .help("list CPUs such as `0-3, 6`; a CPU the machine does not have is simply never in the set"),
                );
            } else if r.low > r.high {
                self.error(
                    Diagnostic::new(Code::OutOfRange, r.span, format!("the range {}-{} is backwards", r.low, r.high))
                        .label("the first CPU is above the last")
                        .help(format!("write `{}-{}`", r.high, r.low)),
                );
            } else {
                checked.push((r.low as u32, r.high as u32));
            }
        }
        let index = self.model.cpusets.len();
        if self.declare(name, Symbol::CpuSet(index)) {
            let origin = self.origin(span);
            self.model.cpusets.push(CpuSet {
                name: name.name.clone(),
                ranges: checked,
                doc: doc.as_ref().map(|d| d.value.clone()),
                dynamic,
                assigned: false,
                picked: false,
                tested: false,
                origin,
            });
        }
    }

    /// A use of a CPU set by name.
    fn cpuset_ref(&mut self, name: &ast::Ident) -> Option<usize> {
        match self.symbols.get(&name.name).copied() {
            Some((Symbol::CpuSet(i), _)) => {
                self.usage.entry(name.name.clone()).or_default().read = true;
                Some(i)
            }
            _ if self.refused.contains(&name.name) => None,
            other => {
                let sets: Vec<&str> = self.model.cpusets.iter().map(|c| c.name.as_str()).collect();
                let near = names::suggest(&name.name, sets.iter().copied()).map(str::to_string);
                self.suggested.extend(near.clone());
                let help = match (near, other) {
                    (Some(s), _) => format!("did you mean `{s}`?"),
                    (None, Some(_)) => {
                        format!("name a set declared with `cpuset NAME = 0-3`; CPU sets: {}", list_or_none(&sets))
                    }
                    (None, None) => format!(
                        "declare it with `cpuset {} = 0-3`; CPU sets so far: {}",
                        name.name,
                        list_or_none(&sets)
                    ),
                };
                let (message, label) = match other {
                    Some((symbol, _)) => {
                        (format!("`{}` is {}, not a CPU set", name.name, symbol.what()), "not a CPU set")
                    }
                    None => (format!("there is no CPU set named `{}`", name.name), "unknown CPU set"),
                };
                self.error(Diagnostic::new(Code::UnknownName, name.span, message).label(label).help(help));
                None
            }
        }
    }

    fn class_ref(&mut self, name: &ast::Ident) -> Option<usize> {
        match self.symbols.get(&name.name).copied() {
            Some((Symbol::Class(i), _)) => {
                self.usage.entry(name.name.clone()).or_default().read = true;
                Some(i)
            }
            _ if self.refused.contains(&name.name) => None,
            _ => {
                let classes: Vec<&str> = self.model.classes.iter().map(|c| c.name.as_str()).collect();
                let near = names::suggest(&name.name, classes.iter().copied()).map(str::to_string);
                self.suggested.extend(near.clone());
                let help = match near {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "declare it with `class {} \"what its tasks are\"`; classes so far: {}",
                        name.name,
                        list_or_none(&classes)
                    ),
                };
                self.error(
                    Diagnostic::new(Code::UnknownName, name.span, format!("there is no class named `{}`", name.name))
                        .label("unknown class")
                        .help(help),
                );
                None
            }
        }
    }

    fn expect_type(&mut self, t: &Typed, want: ValueType, span: Span, what: &str) -> bool {
        if t.fits(want) {
            return true;
        }
        if want == ValueType::Uint && t.literal && const_value(&t.e, &[]).is_some_and(|v| v < 0) {
            self.error(
                Diagnostic::new(Code::OutOfRange, span, format!("{what} must be a uint, which cannot be negative"))
                    .label("negative")
                    .help("use `int` for values that may be negative"),
            );
            return false;
        }
        let help = match (t.ty, want) {
            (Type::Value(ValueType::Time), ValueType::Duration) => {
                "a time is a point, not a length; subtract two times to get a duration, e.g. `system.now - task.started`".to_string()
            }
            (Type::Value(ValueType::Duration), ValueType::Time) => "a duration is a length, not a point; add it to a time such as `system.now`".to_string(),
            (Type::Value(ValueType::Bool), _) => "a bool is not a number; choose between two values with `if COND then A else B`".to_string(),
            (_, ValueType::Bool) if t.literal => match const_value(&t.e, &[]) {
                Some(0) => "a bool is `true` or `false`, not a number: write `false`".to_string(),
                Some(1) => "a bool is `true` or `false`, not a number: write `true`".to_string(),
                _ => "a bool is `true` or `false`, not a number".to_string(),
            },
            (_, ValueType::Bool) => "compare it with something, e.g. `x > 0`".to_string(),
            (Type::Value(ValueType::Int | ValueType::Uint), ValueType::Duration) => "give the number a unit, e.g. `5ms`, or multiply a count by a duration".to_string(),
            (Type::Value(ValueType::Duration), ValueType::Int | ValueType::Uint) => "divide by a duration to get a count, e.g. `x / 1ms`".to_string(),
            (Type::Value(ValueType::Int), ValueType::Uint) | (Type::Value(ValueType::Uint), ValueType::Int) => {
                format!("convert it with `{}(...)`", want.keyword())
            }
            _ => format!("{what} must be {}", with_article(want)),
        };
        self.error(
            Diagnostic::new(
                Code::TypeMismatch,
                span,
                format!("{what} must be {}, but this is {}", with_article(want), t.describe()),
            )
            .label(format!("this is {}", t.describe()))
            .help(help),
        );
        false
    }
}

/// What to do about a second item of a kind that occurs once.
fn once_help(what: &str) -> String {
    match what {
        "preempt" => "`preempt` takes one class, whose waking tasks take the CPU from tasks of lower rank (in no class, or in a class declared after it); keep the one whose tasks must run first, or put the tasks of both in that class".to_string(),
        "scheduler" => "a policy is one scheduler; remove the second `scheduler` line".to_string(),
        _ => format!("a policy has at most one `{what}` item; merge the two"),
    }
}

/// "a duration", "an int".
fn with_article(ty: ValueType) -> String {
    match ty {
        ValueType::Int => "an int".to_string(),
        other => format!("a {}", other.keyword()),
    }
}

/// A duration in nanoseconds, in the largest unit that shows it exactly.
fn format_ns(ns: i128) -> String {
    for (unit, scale) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] {
        if ns != 0 && ns % scale == 0 {
            return format!("{}{unit}", ns / scale);
        }
    }
    format!("{ns}ns")
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    }
}

/// A stand-in value until the second pass fills in the real one.
fn placeholder(ty: ValueType) -> Expr {
    Expr { kind: ExprKind::Const(0), ty: Type::Value(ty) }
}

/// The value of an expression made of constants and parameters, taking each
/// parameter at its default. `None` when it depends on anything else.
pub(crate) fn const_value(e: &Expr, params: &[Param]) -> Option<i128> {
    let v = match &e.kind {
        ExprKind::Const(v) => *v,
        ExprKind::Param(i) => params.get(*i)?.default,
        ExprKind::Neg(x) => -const_value(x, params)?,
        ExprKind::Binary { op, lhs, rhs } | ExprKind::GuardedDiv { op, lhs, rhs } => {
            let (a, b) = (const_value(lhs, params)?, const_value(rhs, params)?);
            match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a.checked_mul(b)?,
                BinOp::Div => a.checked_div(b).unwrap_or(0),
                BinOp::Rem => a.checked_rem(b).unwrap_or(0),
                _ => return None,
            }
        }
        ExprKind::Call { func, args } => {
            let vals: Option<Vec<i128>> = args.iter().map(|a| const_value(a, params)).collect();
            let vals = vals?;
            match func {
                Builtin::Min => vals[0].min(vals[1]),
                Builtin::Max => vals[0].max(vals[1]),
                Builtin::Clamp => vals[0].max(vals[1]).min(vals[2]),
                Builtin::Ewma => vals[0] - vals[0] / 4 + vals[1] / 4,
                Builtin::Log2 => i128::from(u64::try_from(vals[0]).map_or(0, |v| v.max(1).ilog2())),
            }
        }
        ExprKind::Convert { value, .. } => const_value(value, params)?,
        _ => return None,
    };
    // Only values that fit the 64-bit arithmetic of the scheduler count.
    (i128::from(i64::MIN)..=i128::from(u64::MAX)).contains(&v).then_some(v)
}
