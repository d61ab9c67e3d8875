//! The checker: resolves names, checks types and units, and proves the
//! properties the generated scheduler relies on. It turns a syntax tree into
//! a [`Model`] or explains, with every mistake it finds, why it cannot.

mod expr;
mod names;
mod stmt;

pub(crate) use names::suggest;

use std::collections::HashMap;

use crate::ast::{self, GaugeSource, ItemKind, Policy, Span, StrLit};
use crate::diag::Diagnostic;
use crate::model::*;

use expr::{Scope, Typed};

/// The kernel refuses watchdog timeouts above 30 s.
const MAX_TIMEOUT_NS: i128 = 30_000_000_000;

/// Checks a parsed policy. The model is `None` when any error was found;
/// warnings come back either way.
pub fn check(policy: &Policy, src: &str) -> (Option<Model>, Vec<Diagnostic>) {
    let mut checker = Checker::new(src);
    checker.declarations(policy);
    checker.behaviour(policy);
    checker.whole_policy(policy);
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
}

impl Symbol {
    fn what(self) -> &'static str {
        match self {
            Symbol::Param(_) => "a parameter",
            Symbol::Queue(_) => "a queue",
            Symbol::Class(_) => "a class",
            Symbol::Global(_) => "a global",
            Symbol::Stat(_) => "a statistic",
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
    src: &'s str,
    line_starts: Vec<usize>,
    diags: Vec<Diagnostic>,
    model: Model,
    symbols: HashMap<String, (Symbol, Span)>,
    task_var_names: HashMap<String, (usize, Span)>,
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
}

impl<'s> Checker<'s> {
    fn new(src: &'s str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Checker {
            src,
            line_starts,
            diags: Vec::new(),
            model: Model {
                name: String::new(),
                description: String::new(),
                timeout_ms: 0,
                params: Vec::new(),
                queues: Vec::new(),
                classes: Vec::new(),
                task_vars: Vec::new(),
                globals: Vec::new(),
                stats: Vec::new(),
                events: Vec::new(),
                select: None,
                routes: Vec::new(),
                dispatch: Vec::new(),
                slice: None,
                vtime_charge: None,
                vtime_lag: None,
                preempt: None,
                samplers: 0,
            },
            symbols: HashMap::new(),
            task_var_names: HashMap::new(),
            usage: HashMap::new(),
            singletons: HashMap::new(),
            routed: Vec::new(),
            decl_spans: HashMap::new(),
            depth: 0,
            too_deep: false,
            unknown_default: false,
        }
    }

    fn origin(&self, span: Span) -> Origin {
        let line = self.line_starts.partition_point(|&s| s <= span.start);
        Origin { line, span }
    }

    fn text(&self, span: Span) -> &'s str {
        &self.src[span.start..span.end]
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
        for item in &policy.items {
            match &item.kind {
                ItemKind::Scheduler { name, description, timeout: t } => {
                    if self.once("scheduler", item.span) {
                        self.scheduler(name, description);
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
                Diagnostic::error("missing-scheduler", Span::new(0, 0), "this policy has no `scheduler` line")
                    .label("a policy starts here")
                    .help("start the policy with `scheduler NAME \"what it does\" timeout 5s`"),
            );
        }
    }

    /// Records an item that may appear only once; false if it is a repeat.
    fn once(&mut self, what: &'static str, span: Span) -> bool {
        if let Some(first) = self.singletons.get(what).copied() {
            self.error(
                Diagnostic::error("duplicate-item", span, format!("a second `{what}` item"))
                    .label("repeated here")
                    .related(first, "first here")
                    .help(format!("a policy has at most one `{what}` item; merge the two")),
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
                Diagnostic::error("duplicate-name", name.span, format!("`{}` is declared twice", name.name))
                    .label(format!("declared again here as {}", symbol.what()))
                    .related(prev_span, format!("first declared here as {}", prev.what()))
                    .help("every parameter, queue, class, global and statistic needs its own name"),
            );
            return false;
        }
        self.symbols.insert(name.name.clone(), (symbol, name.span));
        self.decl_spans.insert(name.name.clone(), name.span);
        true
    }

    fn valid_name(&mut self, name: &ast::Ident) -> bool {
        match names::reserved(&name.name) {
            Some(why) => {
                self.error(
                    Diagnostic::error("reserved-name", name.span, format!("`{}` cannot be used as a name", name.name))
                        .label("reserved")
                        .help(format!("{why}; pick another name")),
                );
                false
            }
            None => true,
        }
    }

    fn scheduler(&mut self, name: &ast::Ident, description: &StrLit) {
        // The callbacks are named NAME_enqueue and so on: they must not
        // land among kernel or generated symbols.
        if names::reserved_prefix(&format!("{}_", name.name)) {
            self.error(
                Diagnostic::error("reserved-name", name.span, format!("a scheduler cannot be named `{}`", name.name))
                    .label("its callbacks would clash with kernel or schedc symbols")
                    .help("the callbacks' prefix `NAME_` must not start with `schedc_`, `scx_`, `bpf_` or `_`; pick another name"),
            );
        }
        if name.name.len() >= 128 {
            self.error(
                Diagnostic::error("bad-name", name.span, "the scheduler name is too long")
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
                Diagnostic::error("out-of-range", timeout.span, "the watchdog timeout must be between 1ms and 30s")
                    .label("out of range")
                    .help("the kernel refuses timeouts above 30s; a few seconds is usual, e.g. `timeout 5s`"),
            ),
            None => self.error(
                Diagnostic::error("not-constant", timeout.span, "the watchdog timeout must be a constant duration")
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
                    Diagnostic::error("out-of-range", p.min.as_ref().map_or(span, |b| b.span), "the lower bound is above the upper bound")
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
                    Diagnostic::error("out-of-range", p.default.span, format!("the default of `{}` is outside its range", p.name.name))
                        .label(if below { "below the lower bound" } else { "above the upper bound" })
                        .help("change the default or widen the `in LOW..HIGH` range"),
                );
            }
            if p.ty.ty == ValueType::Uint && (min.is_some_and(|v| v < 0)) {
                self.error(
                    Diagnostic::error("out-of-range", p.min.as_ref().map_or(span, |b| b.span), "a `uint` parameter cannot have a negative bound")
                        .label("negative")
                        .help("use `int` for values that may be negative"),
                );
            }
        }
        if p.ty.ty == ValueType::Time {
            self.error(
                Diagnostic::error("type-mismatch", p.ty.span, "a parameter cannot be a `time`")
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
                Diagnostic::error("not-constant", e.span, format!("{what} of a parameter must be a constant"))
                    .label("not a constant")
                    .help("write a literal such as `5ms`, `10` or `true`"),
            );
        }
        if ty == ValueType::Uint && v.is_some_and(|v| v < 0) {
            self.error(
                Diagnostic::error("out-of-range", e.span, "a `uint` cannot be negative")
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
                Diagnostic::error("duplicate-name", name.span, format!("`task.{}` is a built-in fact", name.name))
                    .label("already built in")
                    .help("pick another name for this per-task variable"),
            );
            return;
        }
        if let Some((_, prev)) = self.task_var_names.get(&name.name).copied() {
            self.error(
                Diagnostic::error("duplicate-name", name.span, format!("`task.{}` is declared twice", name.name))
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

    // ------------------------------------------------------------ behaviour

    /// Second pass: initial values, events, rules and formulas.
    // `once` records the item as a side effect, so it stays out of match guards.
    #[allow(clippy::collapsible_match)]
    fn behaviour(&mut self, policy: &Policy) {
        for item in &policy.items {
            match &item.kind {
                ItemKind::State { scope, name, init, .. } => self.state_init(*scope, name, init),
                ItemKind::Counter { name, bound, .. } => self.counter_source(name, bound.as_ref()),
                ItemKind::Gauge { name, source, .. } => self.gauge_source(name, source),
                ItemKind::On { event, event_span, body } => self.event(*event, *event_span, body, item.span),
                ItemKind::SelectCpu(select) => {
                    if self.once("select_cpu", item.span) {
                        self.select(select, item.span);
                    }
                }
                ItemKind::Enqueue { routes } => {
                    if self.once("enqueue", item.span) {
                        self.routes(routes);
                    }
                }
                ItemKind::Dispatch { serves } => {
                    if self.once("dispatch", item.span) {
                        self.dispatch(serves);
                    }
                }
                ItemKind::Slice(formula) => {
                    if self.once("slice", item.span) {
                        self.model.slice = self.formula(formula, Scope::task("the slice formula"), "the slice", item.span);
                    }
                }
                ItemKind::Vtime { part, formula } => {
                    let (key, what) = match part {
                        ast::VtimePart::Charge => ("vtime charge", "the vruntime charge"),
                        ast::VtimePart::Lag => ("vtime lag", "the vruntime lag bound"),
                    };
                    if self.once(key, item.span) {
                        // The charge is taken as the task stops, so it may ask why.
                        let mut scope = Scope::task(what);
                        scope.stopping = *part == ast::VtimePart::Charge;
                        let f = self.formula(formula, scope, what, item.span);
                        match part {
                            ast::VtimePart::Charge => self.model.vtime_charge = f,
                            ast::VtimePart::Lag => self.model.vtime_lag = f,
                        }
                    }
                }
                ItemKind::Preempt { class } => {
                    if self.once("preempt", item.span) {
                        if let Some(index) = self.class_ref(class) {
                            let origin = self.origin(item.span);
                            self.model.preempt = Some(Preempt { class: index, origin });
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn state_init(&mut self, scope: ast::Scope, name: &ast::Ident, init: &ast::Expr) {
        let (sc, target) = match scope {
            ast::Scope::Global => match self.symbols.get(&name.name) {
                Some((Symbol::Global(i), span)) if *span == name.span => (Scope::constant("a global's initial value"), Place::Global(*i)),
                _ => return,
            },
            ast::Scope::Task => match self.task_var_names.get(&name.name) {
                Some((i, span)) if *span == name.span => (Scope::task("a per-task initial value"), Place::TaskVar(*i)),
                _ => return,
            },
        };
        let ty = self.place_type(&target);
        let Some(t) = self.expr(init, &sc) else { return };
        if !self.expect_type(&t, ty, init.span, "the initial value") {
            return;
        }
        let e = t.into_expr(ty);
        match target {
            Place::Global(i) => self.model.globals[i].init = e,
            Place::TaskVar(i) => self.model.task_vars[i].init = e,
            _ => unreachable!("only state has initial values"),
        }
    }

    fn counter_source(&mut self, name: &ast::Ident, bound: Option<&ast::Path>) {
        let Some(index) = self.own_stat(name) else { return };
        let Some(path) = bound else { return };
        let parts: Vec<&str> = path.parts.iter().map(|p| p.name.as_str()).collect();
        if let ["queue", q, "inserted"] = parts.as_slice() {
            if let Some(qi) = self.queue_index(&path.parts[1]) {
                self.model.queues[qi].counted = true;
                self.model.stats[index].source = StatSource::QueueInserted(qi);
                let _ = q;
            }
        } else {
            self.error(
                Diagnostic::error("bad-binding", path.span, format!("a counter cannot be bound to `{}`", path.text()))
                    .label("not a counter the scheduler keeps")
                    .help("bind it to `queue.NAME.inserted`, or declare it alone and add to it with `+=`"),
            );
        }
    }

    fn gauge_source(&mut self, name: &ast::Ident, source: &GaugeSource) {
        let Some(index) = self.own_stat(name) else { return };
        match source {
            GaugeSource::Variable { ty, init } => {
                let Some(t) = self.expr(init, &Scope::constant("a gauge's initial value")) else { return };
                if self.expect_type(&t, ty.ty, init.span, "the initial value") {
                    self.model.stats[index].source = StatSource::Variable(t.into_expr(ty.ty));
                }
            }
            GaugeSource::Bound(path) if path.text() == "slice" => {
                if self.model.stats[index].ty == ValueType::Duration {
                    self.model.stats[index].source = StatSource::LastSlice;
                }
            }
            GaugeSource::Bound(path) => self.error(
                Diagnostic::error("bad-binding", path.span, format!("a gauge cannot be bound to `{}`", path.text()))
                    .label("not something the scheduler tracks")
                    .help("bind it to `slice` (the slice last computed), or declare it `gauge NAME: TYPE = INITIAL` and assign it in rules"),
            ),
        }
    }

    fn own_stat(&self, name: &ast::Ident) -> Option<usize> {
        match self.symbols.get(&name.name) {
            Some((Symbol::Stat(i), span)) if *span == name.span => Some(*i),
            _ => None,
        }
    }

    fn event(&mut self, event: Event, event_span: Span, body: &[ast::Stmt], span: Span) {
        let keyword = event.keyword();
        let (key, what): (&'static str, &'static str) = match event {
            Event::Join => ("on join", "`on join`"),
            Event::Wakeup => ("on wakeup", "`on wakeup`"),
            Event::Enqueue => ("on enqueue", "`on enqueue`"),
            Event::Running => ("on running", "`on running`"),
            Event::Stopping => ("on stopping", "`on stopping`"),
        };
        if !self.once(key, event_span) {
            return;
        }
        let mut scope = Scope::task(what);
        scope.wakeup = event == Event::Wakeup;
        scope.stopping = event == Event::Stopping;
        scope.sampling = true;
        let body = self.stmts(body, &mut scope);
        let origin = self.origin(span);
        let _ = keyword;
        self.model.events.push(EventHandler { event, body, origin });
    }

    fn select(&mut self, select: &ast::SelectCpu, span: Span) {
        let mut preferences = Vec::new();
        let mut scope = Scope::task("a CPU preference");
        scope.wakeup = true;
        for pref in &select.preferences {
            let when = match &pref.when {
                Some(w) => match self.condition(w, &scope) {
                    Some(e) => Some(e),
                    None => continue,
                },
                None => None,
            };
            let origin = self.origin(pref.span);
            preferences.push(Preference { kind: pref.kind, when, origin });
        }
        let Some(found_queue) = self.queue_index(&select.found_queue) else { return };
        self.routed.push((found_queue, select.found_queue.span));
        let origin = self.origin(span);
        let found_origin = self.origin(select.found_span);
        let default_origin = select.default_span.map(|span| self.origin(span));
        self.model.select = Some(Select { preferences, default_origin, found_queue, kick: select.kick, origin, found_origin });
    }

    fn routes(&mut self, routes: &[ast::Route]) {
        let scope = Scope::task("a routing rule");
        let mut catch_all: Option<Span> = None;
        for route in routes {
            if let Some(prev) = catch_all {
                self.error(
                    Diagnostic::error("unreachable-route", route.span, "this rule comes after the catch-all and can never match")
                        .label("unreachable")
                        .related(prev, "every task is routed here first")
                        .help("move the `else -> QUEUE` rule to the end"),
                );
                continue;
            }
            let condition = match &route.condition {
                None => {
                    catch_all = Some(route.span);
                    Ok(None)
                }
                Some(c) => self.condition(c, &scope).map(Some).ok_or(()),
            };
            // The queue counts as routed to even if the condition is wrong,
            // so one mistake does not also make the queue look unused.
            let Some(queue) = self.queue_index(&route.queue) else { continue };
            self.routed.push((queue, route.queue.span));
            let Ok(condition) = condition else { continue };
            let origin = self.origin(route.span);
            self.model.routes.push(Route { condition, queue, kick: route.kick, origin });
        }
        if catch_all.is_none() {
            let span = routes.last().map_or(Span::default(), |r| r.span);
            self.error(
                Diagnostic::error("missing-catch-all", span, "the routing rules have no catch-all")
                    .label("a task matching none of the rules would have nowhere to go")
                    .help("end the `enqueue` block with `else -> QUEUE`"),
            );
        }
    }

    fn dispatch(&mut self, serves: &[ast::Serve]) {
        let scope = Scope::constant("a starvation limit");
        let mut seen: HashMap<usize, Span> = HashMap::new();
        for serve in serves {
            let Some(queue) = self.queue_index(&serve.queue) else { continue };
            if let Some(prev) = seen.insert(queue, serve.queue.span) {
                self.error(
                    Diagnostic::error("duplicate-name", serve.queue.span, format!("`{}` is served twice", serve.queue.name))
                        .label("served again here")
                        .related(prev, "first served here")
                        .help("list each queue once, in the order it should be served"),
                );
                continue;
            }
            // A queue whose limit is wrong is still served, so that it is not
            // also reported as a queue nobody serves.
            let starve_after = serve.starve_after.as_ref().and_then(|limit| self.starvation_limit(queue, limit, &scope));
            let origin = self.origin(serve.span);
            self.model.dispatch.push(Serve { queue, starve_after, origin });
        }
    }

    fn starvation_limit(&mut self, queue: usize, limit: &ast::Expr, scope: &Scope) -> Option<Expr> {
        if self.model.queues[queue].placement == Placement::PerCpu {
            self.error(
                Diagnostic::error("bad-starvation", limit.span, "starvation limits apply to shared queues only")
                    .label("a per-CPU queue is always served by its own CPU")
                    .help("remove `starve after` here, or put it on a shared queue"),
            );
            return None;
        }
        let t = self.expr(limit, scope)?;
        if !self.expect_type(&t, ValueType::Duration, limit.span, "a starvation limit") {
            return None;
        }
        self.starvation_below_timeout(&t.e, limit.span);
        Some(t.into_expr(ValueType::Duration))
    }

    fn starvation_below_timeout(&mut self, limit: &Expr, span: Span) {
        let timeout_ns = if self.model.timeout_ms == 0 { MAX_TIMEOUT_NS } else { i128::from(self.model.timeout_ms) * 1_000_000 };
        let param = match &limit.kind {
            ExprKind::Param(i) => self.model.params.get(*i),
            _ => None,
        };
        let value = const_value(limit, &self.model.params).filter(|_| !self.unknown_default);
        let timeout = format_ns(timeout_ns);
        if value.is_some_and(|v| v >= timeout_ns) {
            self.error(
                Diagnostic::error("starvation-too-long", span, "this starvation limit is not below the watchdog timeout")
                    .label(format!("{} here, and the watchdog gives up after {timeout}", format_ns(value.unwrap_or(0))))
                    .help("a task starved this long would trip the watchdog first; use a limit well below the timeout"),
            );
        } else if let Some((p, max)) = param.and_then(|p| p.max.filter(|m| *m >= timeout_ns).map(|m| (p, m))) {
            self.error(
                Diagnostic::error("starvation-too-long", span, "this starvation limit may be set above the watchdog timeout")
                    .label(format!("`{}` may be set up to {}, and the watchdog gives up after {timeout}", p.name, format_ns(max)))
                    .help(format!("a task starved this long would trip the watchdog first; give `{}` an upper bound below {timeout}", p.name)),
            );
        }
    }

    fn formula(&mut self, f: &ast::Formula, mut scope: Scope, what: &str, span: Span) -> Option<Formula> {
        let stmts = self.formula_stmts(&f.stmts, &mut scope);
        let t = self.expr(&f.result, &scope)?;
        if !self.expect_type(&t, ValueType::Duration, f.result.span, what) {
            return None;
        }
        let result = t.into_expr(ValueType::Duration);
        if what == "the slice" {
            if let Some(v) = const_value(&result, &self.model.params).filter(|_| !self.unknown_default) {
                if v <= 0 {
                    self.error(
                        Diagnostic::error("bad-slice", f.result.span, "the slice is never positive")
                            .label(format!("this is {} with the default parameters", format_ns(v)))
                            .help("a task needs a positive slice to run; use e.g. `slice = 5ms`"),
                    );
                }
            }
        }
        let origin = self.origin(span);
        Some(Formula { stmts, result, origin })
    }

    // ------------------------------------------------------------ whole policy

    /// Checks that need the whole policy: required items, queues that would
    /// never be served, and things declared but never used.
    fn whole_policy(&mut self, policy: &Policy) {
        let scheduler_span = self.singletons.get("scheduler").copied().unwrap_or_default();
        for (what, help) in [
            ("enqueue", "add `enqueue { else -> QUEUE }` to say where runnable tasks wait"),
            ("dispatch", "add `dispatch { QUEUE ... }` to say which queues a CPU takes work from"),
        ] {
            if !self.singletons.contains_key(what) && !self.model.name.is_empty() {
                self.error(
                    Diagnostic::error("missing-item", scheduler_span, format!("this policy has no `{what}` block"))
                        .label("in this scheduler")
                        .help(help),
                );
            }
        }
        let served: Vec<usize> = self.model.dispatch.iter().map(|s| s.queue).collect();
        let mut reported = Vec::new();
        for (queue, span) in self.routed.clone() {
            if !served.contains(&queue) && !reported.contains(&queue) && self.singletons.contains_key("dispatch") {
                reported.push(queue);
                let name = self.model.queues[queue].name.clone();
                self.error(
                    Diagnostic::error("unserved-queue", span, format!("tasks routed to `{name}` would never run"))
                        .label("tasks go here")
                        .help(format!("add `{name}` to the `dispatch` block")),
                );
            }
        }
        let has_vtime = self.model.queues.iter().any(|q| q.order == Order::Vtime);
        if has_vtime && self.model.vtime_charge.is_none() && !self.singletons.contains_key("vtime charge") {
            let span = policy
                .items
                .iter()
                .find(|i| matches!(i.kind, ItemKind::Queue { order: ast::Order::Vtime, .. }))
                .map_or(scheduler_span, |i| i.span);
            self.error(
                Diagnostic::error("missing-vtime-charge", span, "vruntime-ordered queues need a `vtime charge` formula")
                    .label("this queue orders tasks by vruntime")
                    .help("say how much vruntime a task is charged when it stops, e.g. `vtime charge = (5ms - task.slice_left) * 100 / task.weight`"),
            );
        }
        if !has_vtime {
            for key in ["vtime charge", "vtime lag"] {
                if let Some(span) = self.singletons.get(key).copied() {
                    self.diags.push(
                        Diagnostic::warning("unused", span, format!("`{key}` has no effect: no queue is ordered by vruntime"))
                            .label("never used")
                            .help("declare a queue with `vtime` order, or remove this formula"),
                    );
                }
            }
        }
        if !self.singletons.contains_key("slice") {
            let bound: Vec<String> = self.model.stats.iter().filter(|s| matches!(s.source, StatSource::LastSlice)).map(|s| s.name.clone()).collect();
            for name in bound {
                self.diags.push(
                    Diagnostic::warning("unused", self.decl_spans[&name], format!("`{name}` follows the slice formula, but there is none"))
                        .label("stays 0")
                        .help("add `slice = ...`, or remove this gauge"),
                );
            }
        }
        self.callback_clashes();
        self.unused_warnings();
    }

    /// Names that the generated callbacks (`NAME_enqueue`, ...) will take.
    fn callback_clashes(&mut self) {
        const MEMBERS: &[&str] = &[
            "select_cpu", "enqueue", "dispatch", "running", "stopping", "enable", "init_task", "cpu_online", "cpu_offline",
            "init", "exit", "ops",
        ];
        let sched = self.model.name.clone();
        let mut clashes: Vec<(Span, String)> = self
            .symbols
            .iter()
            .filter(|(name, _)| MEMBERS.iter().any(|m| **name == format!("{sched}_{m}")))
            .map(|(name, (_, span))| (*span, name.clone()))
            .collect();
        clashes.sort_by_key(|(span, _)| span.start);
        for (span, name) in clashes {
            self.error(
                Diagnostic::error("reserved-name", span, format!("`{name}` is the name of a generated callback"))
                    .label("taken by the scheduler's own code")
                    .help(format!("names `{sched}_` + a sched_ext callback are taken; pick another name")),
            );
        }
    }

    fn unused_warnings(&mut self) {
        let mut unused: Vec<(Span, String, &'static str)> = Vec::new();
        let read = |this: &Self, key: &str| this.usage.get(key).is_some_and(|u| u.read);
        let written = |this: &Self, key: &str| this.usage.get(key).is_some_and(|u| u.written);
        for p in &self.model.params {
            if !read(self, &p.name) {
                unused.push((self.decl_spans[&p.name], format!("parameter `{}` is never used", p.name), "remove it, or use it in a rule or formula"));
            }
        }
        for c in &self.model.classes {
            if !read(self, &c.name) && !written(self, &c.name) {
                unused.push((self.decl_spans[&c.name], format!("class `{}` is never used", c.name), "assign it with `task.class = NAME` and test it with `task is NAME`"));
            } else if !written(self, &c.name) {
                unused.push((self.decl_spans[&c.name], format!("no task is ever put in class `{}`", c.name), "assign it somewhere with `task.class = NAME`"));
            }
        }
        for g in &self.model.globals {
            if !read(self, &g.name) {
                unused.push((self.decl_spans[&g.name], format!("global `{}` is never read", g.name), "remove it, or read it in a rule or formula"));
            }
        }
        for v in &self.model.task_vars {
            let key = format!("task.{}", v.name);
            if !read(self, &key) {
                unused.push((self.decl_spans[&key], format!("per-task variable `{}` is never read", v.name), "remove it, or read it as `task.NAME`"));
            }
        }
        let routed: Vec<usize> = self.routed.iter().map(|(q, _)| *q).collect();
        for (i, q) in self.model.queues.iter().enumerate() {
            if !routed.contains(&i) {
                unused.push((self.decl_spans[&q.name], format!("no task is ever put in queue `{}`", q.name), "route tasks to it in `enqueue` or `select_cpu`, or remove it"));
            }
        }
        for (span, message, help) in unused {
            self.diags.push(Diagnostic::warning("unused", span, message).label("declared here").help(help));
        }
    }

    // ------------------------------------------------------------ helpers

    fn queue_index(&mut self, name: &ast::Ident) -> Option<usize> {
        match self.symbols.get(&name.name).copied() {
            Some((Symbol::Queue(i), _)) => Some(i),
            Some((other, _)) => {
                self.error(
                    Diagnostic::error("not-a-queue", name.span, format!("`{}` is {}, not a queue", name.name, other.what()))
                        .label("expected a queue")
                        .help("declare queues with `queue NAME per_cpu|shared fifo|vtime`"),
                );
                None
            }
            None => {
                let queues: Vec<&str> = self.model.queues.iter().map(|q| q.name.as_str()).collect();
                let help = match names::suggest(&name.name, queues.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("declare it with `queue {} shared vtime`; queues so far: {}", name.name, list_or_none(&queues)),
                };
                self.error(
                    Diagnostic::error("unknown-name", name.span, format!("there is no queue named `{}`", name.name))
                        .label("unknown queue")
                        .help(help),
                );
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
            _ => {
                let classes: Vec<&str> = self.model.classes.iter().map(|c| c.name.as_str()).collect();
                let help = match names::suggest(&name.name, classes.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("declare it with `class {} \"what its tasks are\"`; classes so far: {}", name.name, list_or_none(&classes)),
                };
                self.error(
                    Diagnostic::error("unknown-name", name.span, format!("there is no class named `{}`", name.name))
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
                Diagnostic::error("out-of-range", span, format!("{what} must be a uint, which cannot be negative"))
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
            (_, ValueType::Bool) => "compare it with something, e.g. `x > 0`".to_string(),
            (Type::Value(ValueType::Int | ValueType::Uint), ValueType::Duration) => "give the number a unit, e.g. `5ms`, or multiply a count by a duration".to_string(),
            (Type::Value(ValueType::Duration), ValueType::Int | ValueType::Uint) => "divide by a duration to get a count, e.g. `x / 1ms`".to_string(),
            (Type::Value(ValueType::Int), ValueType::Uint) | (Type::Value(ValueType::Uint), ValueType::Int) => {
                format!("convert it with `{}(...)`", want.keyword())
            }
            _ => format!("{what} must be {}", with_article(want)),
        };
        self.error(
            Diagnostic::error("type-mismatch", span, format!("{what} must be {}, but this is {}", with_article(want), t.describe()))
                .label(format!("this is {}", t.describe()))
                .help(help),
        );
        false
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
            }
        }
        ExprKind::Convert { value, .. } => const_value(value, params)?,
        _ => return None,
    };
    // Only values that fit the 64-bit arithmetic of the scheduler count.
    (i128::from(i64::MIN)..=i128::from(u64::MAX)).contains(&v).then_some(v)
}
