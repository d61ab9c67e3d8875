//! The second pass: initial values, events, CPU selection, routing,
//! dispatch, formulas and preemption.

use std::collections::HashMap;

use crate::ast::{self, GaugeSource, ItemKind, Policy, Span};
use crate::diag::{Code, Diagnostic};
use crate::model::*;

use super::expr::Scope;
use super::{const_value, format_ns, Checker, Symbol, MAX_TIMEOUT_NS};

/// The most tasks one queue of `round_robin(...)` gives in a row.
const MAX_WEIGHT: i128 = 1024;

impl Checker<'_> {
    /// Second pass: initial values, events, rules and formulas.
    // `once` records the item as a side effect, so it stays out of match guards.
    #[allow(clippy::collapsible_match)]
    pub(super) fn behaviour(&mut self, policy: &Policy) {
        // Function bodies before the rules that call them.
        self.functions();
        for item in &policy.items {
            match &item.kind {
                ItemKind::State { scope, name, init, .. } => self.state_init(*scope, name, init),
                ItemKind::Counter { name, bound, .. } => self.counter_source(name, bound.as_ref()),
                ItemKind::Gauge { name, source, .. } => self.gauge_source(name, source),
                ItemKind::On { event, event_span, body } => self.event(*event, *event_span, body, item.span),
                ItemKind::Timer { period, timer_span, body } => {
                    if self.once("on timer", *timer_span) {
                        self.timer(period, body, item.span);
                    }
                }
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
                        self.model.slice =
                            self.formula(formula, Scope::task("the slice formula"), "the slice", item.span);
                    }
                }
                ItemKind::Vtime { part, formula } => {
                    let (key, what) = match part {
                        ast::VtimePart::Charge => ("vtime charge", "the vruntime charge"),
                        ast::VtimePart::Lag => ("vtime lag", "the vruntime lag bound"),
                        ast::VtimePart::Deadline => ("vtime deadline", "the deadline"),
                    };
                    if self.once(key, item.span) {
                        // The charge is taken as the task stops, so it may ask why.
                        let mut scope = Scope::task(what);
                        scope.stopping = *part == ast::VtimePart::Charge;
                        let f = self.formula(formula, scope, what, item.span);
                        match part {
                            ast::VtimePart::Charge => {
                                self.charge_sign(f.as_ref(), formula.result.span);
                                self.model.vtime_charge = f
                            }
                            ast::VtimePart::Lag => self.model.vtime_lag = f,
                            ast::VtimePart::Deadline => {
                                self.deadline_sign(f.as_ref(), formula.result.span);
                                self.model.vtime_deadline = f
                            }
                        }
                    }
                }
                ItemKind::Preempt { class, victim } => {
                    if self.once("preempt", item.span) {
                        let index = self.class_ref(class);
                        let victim = self.preempt_victim(victim);
                        if let (Some(class), Some(victim)) = (index, victim) {
                            let origin = self.origin(item.span);
                            self.model.preempt = Some(Preempt { class, victim, origin });
                        }
                    }
                }
                _ => {}
            }
        }
    }

    pub(super) fn state_init(&mut self, scope: ast::Scope, name: &ast::Ident, init: &ast::Expr) {
        let (sc, target) = match scope {
            ast::Scope::Global => match self.symbols.get(&name.name) {
                Some((Symbol::Global(i), span)) if *span == name.span => {
                    (Scope::constant("a global's initial value"), Place::Global(*i))
                }
                _ => return,
            },
            ast::Scope::Task => match self.task_var_names.get(&name.name) {
                Some((i, span)) if *span == name.span => (Scope::task("a per-task initial value"), Place::TaskVar(*i)),
                _ => return,
            },
            ast::Scope::Cpu => match self.cpu_var_names.get(&name.name) {
                Some((i, span)) if *span == name.span => {
                    (Scope::constant("a per-CPU initial value"), Place::CpuVar(*i))
                }
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
            Place::CpuVar(i) => {
                // Every CPU's instance starts at it, as a static initializer.
                let Some(v) = super::const_value(&e, &[]) else {
                    self.error(
                        Diagnostic::new(Code::NotConstant, init.span, "a per-CPU variable starts at a constant")
                            .label("not known when the scheduler is compiled")
                            .help("write a literal or a `const` (e.g. `0`, `5ms`, `false`), then assign the variable in a rule such as `on running`"),
                    );
                    return;
                };
                self.model.cpu_vars[i].init = Expr { kind: ExprKind::Const(v), ty: e.ty };
            }
            _ => unreachable!("only state has initial values"),
        }
    }

    pub(super) fn counter_source(&mut self, name: &ast::Ident, bound: Option<&ast::Path>) {
        let Some(index) = self.own_stat(name) else { return };
        let Some(path) = bound else {
            self.fixed_start.insert(name.name.clone());
            return;
        };
        let parts: Vec<&str> = path.parts.iter().map(|p| p.name.as_str()).collect();
        if let ["queue", q, "inserted"] = parts.as_slice() {
            if let Some(qi) = self.queue_index(&path.parts[1]) {
                self.model.queues[qi].counted = true;
                self.model.stats[index].source = StatSource::QueueInserted(qi);
                let _ = q;
            }
        } else {
            self.error(
                Diagnostic::new(Code::BadBinding, path.span, format!("a counter cannot be bound to `{}`", path.text()))
                    .label("not a counter the scheduler keeps")
                    .help("bind it to `queue.NAME.inserted`, or declare it alone and add to it with `+=`"),
            );
        }
    }

    pub(super) fn gauge_source(&mut self, name: &ast::Ident, source: &GaugeSource) {
        let Some(index) = self.own_stat(name) else { return };
        match source {
            GaugeSource::Variable { ty, init } => {
                let Some(t) = self.expr(init, &Scope::constant("a gauge's initial value")) else { return };
                if self.expect_type(&t, ty.ty, init.span, "the initial value") {
                    self.model.stats[index].source = StatSource::Variable(t.into_expr(ty.ty));
                    let literal = matches!(
                        init.kind,
                        ast::ExprKind::Int(_) | ast::ExprKind::Duration(_) | ast::ExprKind::Bool(_)
                    );
                    if literal {
                        self.fixed_start.insert(name.name.clone());
                    }
                }
            }
            GaugeSource::Bound(path) if path.text() == "slice" => {
                if self.model.stats[index].ty == ValueType::Duration {
                    self.model.stats[index].source = StatSource::LastSlice;
                }
            }
            GaugeSource::Bound(path) => self.error(
                Diagnostic::new(Code::BadBinding, path.span, format!("a gauge cannot be bound to `{}`", path.text()))
                    .label("not something the scheduler tracks")
                    .help("bind it to `slice` (the slice last computed), or declare it `gauge NAME: TYPE = INITIAL` and assign it in rules"),
            ),
        }
    }

    pub(super) fn own_stat(&self, name: &ast::Ident) -> Option<usize> {
        match self.symbols.get(&name.name) {
            Some((Symbol::Stat(i), span)) if *span == name.span => Some(*i),
            _ => None,
        }
    }

    pub(super) fn event(&mut self, event: Event, event_span: Span, body: &[ast::Stmt], span: Span) {
        let keyword = event.keyword();
        let (key, what): (&'static str, &'static str) = match event {
            Event::Join => ("on join", "`on join`"),
            Event::Wakeup => ("on wakeup", "`on wakeup`"),
            Event::Enqueue => ("on enqueue", "`on enqueue`"),
            Event::Runnable => ("on runnable", "`on runnable`"),
            Event::Running => ("on running", "`on running`"),
            Event::Stopping => ("on stopping", "`on stopping`"),
            Event::Quiescent => ("on quiescent", "`on quiescent`"),
            Event::Tick => ("on tick", "`on tick`"),
            Event::CpuRelease => ("on cpu_release", "`on cpu_release`"),
        };
        if !self.once(key, event_span) {
            return;
        }
        // A CPU, not a task: the kernel passes no task to ops.cpu_release.
        let mut scope = if event == Event::CpuRelease { Scope::constant(what) } else { Scope::task(what) };
        scope.cpu_release = event == Event::CpuRelease;
        scope.wakeup = event == Event::Wakeup;
        scope.stopping = event == Event::Stopping;
        scope.enqueue = event == Event::Enqueue;
        scope.runnable = event == Event::Runnable;
        scope.quiescent = event == Event::Quiescent;
        scope.cpuperf = matches!(event, Event::Tick | Event::Running | Event::Stopping);
        scope.sampling = scope.task;
        scope.sets = true;
        let body = self.stmts(body, &mut scope);
        let origin = self.origin(span);
        let _ = keyword;
        self.model.events.push(EventHandler { event, body, origin });
    }

    /// The CPU `preempt … at` names: an int expression about the waking
    /// task, evaluated in ops.enqueue.
    fn preempt_victim(&mut self, victim: &ast::PreemptVictim) -> Option<Victim> {
        Some(match victim {
            ast::PreemptVictim::TaskCpu => Victim::TaskCpu,
            ast::PreemptVictim::Lowest(_) => Victim::Lowest,
            ast::PreemptVictim::At(e) => {
                let mut scope = Scope::task("the CPU `preempt` considers");
                scope.enqueue = true;
                let t = self.expr(e, &scope)?;
                if !self.expect_type(&t, ValueType::Int, e.span, "the CPU `preempt` considers") {
                    return None;
                }
                Victim::At(t.into_expr(ValueType::Int))
            }
        })
    }

    /// `on timer PERIOD { ... }`: no task, no event facts.
    fn timer(&mut self, period: &ast::Expr, body: &[ast::Stmt], span: Span) {
        let mut scope = Scope::constant("`on timer`");
        scope.cpuperf = true;
        scope.sets = true;
        let period = self.period(period, &scope, "the period of `on timer`");
        let body = self.stmts(body, &mut scope.clone());
        let origin = self.origin(span);
        if let Some(period) = period {
            self.model.timer = Some(Timer { period, body, origin });
        }
    }

    pub(super) fn select(&mut self, select: &ast::SelectCpu, span: Span) {
        let mut preferences = Vec::new();
        let mut scope = Scope::task("a CPU preference");
        scope.wakeup = true;
        for pref in &select.preferences {
            if pref.kind == PreferenceKind::Pinned {
                self.error(
                    Diagnostic::new(Code::NeverFires, pref.span, "`pinned` never finds a CPU")
                        .label("never fires")
                        .help("the kernel does not call ops.select_cpu for a task allowed on one CPU (nor with migration disabled), so no task reaches `pinned`; route per-CPU tasks in `enqueue` instead (`task.nr_cpus_allowed == 1 -> QUEUE`) and remove `pinned`"),
                );
            }
            let when = match &pref.when {
                Some(w) => match self.condition(w, &scope) {
                    Some(e) => {
                        self.never_true(&e, w.span, "this preference is never tried");
                        Some(e)
                    }
                    None => continue,
                },
                None => None,
            };
            let within = match &pref.within {
                Some(set) => match self.pick_within(set, pref.kind) {
                    Some(s) => Some(s),
                    None => continue,
                },
                None => None,
            };
            let origin = self.origin(pref.span);
            preferences.push(Preference { kind: pref.kind, within, when, origin });
        }
        scope.found = true;
        scope.what = "the condition of `found`";
        let found_when = match &select.found_when {
            Some(w) => {
                let e = self.condition(w, &scope);
                if let Some(e) = &e {
                    self.never_true(e, w.span, "`found` never inserts the task");
                }
                e
            }
            None => None,
        };
        let Some(found) = self.target(&select.found_queue) else { return };
        let origin = self.origin(span);
        let found_origin = self.origin(select.found_span);
        let default_origin = select.default_span.map(|span| self.origin(span));
        self.model.select =
            Some(Select { preferences, default_origin, found_when, found, kick: select.kick, origin, found_origin });
    }

    /// `PREFERENCE in SET`: only `any` and `idle_core` search CPUs, so only
    /// they can be limited to a set; the set becomes a kernel cpumask.
    fn pick_within(&mut self, set: &ast::Ident, kind: PreferenceKind) -> Option<usize> {
        if !matches!(kind, PreferenceKind::Any | PreferenceKind::IdleCore) {
            self.error(
                Diagnostic::new(
                    Code::WrongContext,
                    set.span,
                    format!("`{}` cannot be limited to a CPU set", kind.keyword()),
                )
                .label("only `any in SET` and `idle_core in SET`")
                .help(format!(
                    "`{}` looks at one CPU; to try it only inside the set, write `{} when event.prev_cpu in {}`",
                    kind.keyword(),
                    kind.keyword(),
                    set.name
                )),
            );
            return None;
        }
        let s = self.cpuset_ref(set)?;
        self.model.cpusets[s].picked = true;
        Some(s)
    }

    /// A condition made only of constants that is false: its rule never fires.
    fn never_true(&mut self, e: &Expr, span: Span, what: &str) {
        if const_value(e, &[]) == Some(0) {
            self.error(
                Diagnostic::new(Code::NeverFires, span, format!("this condition is always false: {what}"))
                    .label("always false")
                    .help("a condition of literals and constants is decided when the policy is compiled; use a `param` for a switch set at load, or remove the rule"),
            );
        }
    }

    pub(super) fn routes(&mut self, routes: &[ast::Route]) {
        let mut scope = Scope::task("a routing rule");
        scope.enqueue = true;
        let mut catch_all: Option<Span> = None;
        for route in routes {
            if let Some(prev) = catch_all {
                self.error(
                    Diagnostic::new(
                        Code::UnreachableRoute,
                        route.span,
                        "this rule comes after the catch-all and can never match",
                    )
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
                Some(c) => {
                    let e = self.condition(c, &scope);
                    if let Some(e) = &e {
                        self.never_true(e, c.span, "no task is ever routed by this rule");
                    }
                    e.map(Some).ok_or(())
                }
            };
            // The queue counts as routed to even if the condition is wrong,
            // so one mistake does not also make the queue look unused.
            let Some(target) = self.target(&route.queue) else { continue };
            let Ok(condition) = condition else { continue };
            let idle_within = match &route.idle_within {
                Some(set) => match self.cpuset_ref(set) {
                    Some(s) => {
                        self.model.cpusets[s].picked = true;
                        Some(s)
                    }
                    None => continue,
                },
                None => None,
            };
            let origin = self.origin(route.span);
            let (kick, idle) = (route.kick, route.idle);
            self.model.routes.push(Route { condition, target, kick, idle, idle_within, origin });
        }
        if catch_all.is_none() {
            let span = routes.last().map_or(Span::default(), |r| r.span);
            self.error(
                Diagnostic::new(Code::MissingCatchAll, span, "the routing rules have no catch-all")
                    .label("a task matching none of the rules would have nowhere to go")
                    .help("end the `enqueue` block with `else -> QUEUE`"),
            );
        }
    }

    /// Where a route or `found` sends tasks: `local` or a queue, which then
    /// counts as routed to.
    fn target(&mut self, name: &ast::Ident) -> Option<Target> {
        if name.name == "local" {
            return Some(Target::Local);
        }
        let queue = self.queue_index(name)?;
        self.routed.push((queue, name.span));
        Some(Target::Queue(queue))
    }

    pub(super) fn dispatch(&mut self, serves: &[ast::Serve]) {
        let scope = Scope::constant("a starvation limit");
        let when_scope = Scope::constant("the condition of a `dispatch` line");
        // Each queue served so far: where, and whether only by lines with a
        // `when` and no starvation limit (then a plain line may serve it
        // again, as the fallback where the condition does not hold).
        let mut seen: HashMap<usize, (Span, bool)> = HashMap::new();
        for (i, serve) in serves.iter().enumerate() {
            // A line whose condition is wrong still serves its queues, so
            // that they are not also reported as never served.
            let when = serve.when.as_ref().and_then(|w| {
                let e = self.condition(w, &when_scope)?;
                self.never_true(&e, w.span, "this line never serves");
                Some(e)
            });
            if let ast::ServeGroup::KeepRunning = serve.group {
                if self.keep_running(serve, serves.len() - 1 - i) {
                    self.model.keep_running_when = when;
                }
                continue;
            }
            let mut queues = Vec::new();
            let conditional = serve.when.is_some() && serve.starve_after.is_none();
            let plain = matches!(serve.group, ast::ServeGroup::One) && serve.starve_after.is_none();
            for name in serve.queues() {
                let Some(queue) = self.queue_index(name) else { continue };
                if let Some(&(prev, prev_conditional)) = seen.get(&queue) {
                    if !(prev_conditional && plain) {
                        self.error(
                            Diagnostic::new(Code::DuplicateName, name.span, format!("`{}` is served twice", name.name))
                                .label("served again here")
                                .related(prev, "first served here")
                                .help("list each queue once, in the order it should be served; a queue may come again only on a line of its own, after lines that serve it with a `when`, and without `starve after`"),
                        );
                        continue;
                    }
                }
                let (first_span, still_conditional) =
                    seen.get(&queue).map_or((name.span, conditional), |&(span, c)| (span, c && conditional));
                seen.insert(queue, (first_span, still_conditional));
                queues.push((queue, name));
            }
            let Some(&(first, _)) = queues.first() else { continue };
            self.group_of_two_or_more(serve);
            let origin = self.origin(serve.span);
            let group = match &serve.group {
                ast::ServeGroup::One | ast::ServeGroup::KeepRunning => ServeGroup::One,
                ast::ServeGroup::Earliest(_) => ServeGroup::Earliest(self.earliest(&queues)),
                ast::ServeGroup::RoundRobin(weights) => ServeGroup::RoundRobin(self.round_robin(&queues, weights)),
            };
            // A queue whose limit is wrong is still served, so that it is not
            // also reported as a queue nobody serves.
            let starve_after =
                serve.starve_after.as_ref().and_then(|limit| self.starvation_limit(first, limit, &scope));
            self.model.dispatch.push(Serve { queue: first, starve_after, group, when, origin });
        }
    }

    /// `keep_running` ends the list: what comes after it would still be
    /// served, but reads as if it were not.
    /// True if it was accepted.
    fn keep_running(&mut self, serve: &ast::Serve, lines_after: usize) -> bool {
        if let Some(prev) = self.model.keep_running {
            self.error(
                Diagnostic::new(Code::DuplicateName, serve.span, "`keep_running` is written twice")
                    .label("again here")
                    .related(prev.span, "first here")
                    .help("write `keep_running` once, as the last line of `dispatch`"),
            );
        } else if lines_after > 0 {
            self.error(
                Diagnostic::new(Code::BadDispatch, serve.span, "`keep_running` must be the last line of `dispatch`")
                    .label("queues are listed after it")
                    .help(
                        "the previous task keeps its CPU only when no queue had a task; move `keep_running` \
                         below the queues",
                    ),
            );
        } else {
            self.model.keep_running = Some(self.origin(serve.span));
            return true;
        }
        false
    }

    /// `earliest(...)` and `round_robin(...)` choose between queues: one
    /// queue alone is a plain line.
    fn group_of_two_or_more(&mut self, serve: &ast::Serve) {
        let (what, count) = match &serve.group {
            ast::ServeGroup::Earliest(queues) => ("earliest", queues.len()),
            ast::ServeGroup::RoundRobin(weights) => ("round_robin", weights.len()),
            ast::ServeGroup::One | ast::ServeGroup::KeepRunning => return,
        };
        if count < 2 {
            self.error(
                Diagnostic::new(Code::BadDispatch, serve.span, format!("`{what}(...)` needs two or more queues"))
                    .label("one queue")
                    .help(format!(
                        "`{what}` chooses between queues; to serve one queue, write its name alone on the line: `{}`",
                        serve.queue.name
                    )),
            );
        }
    }

    /// `earliest(...)` compares the keys of vtime queues; a FIFO queue has none.
    fn earliest(&mut self, queues: &[(usize, &ast::Ident)]) -> Vec<usize> {
        for (q, name) in queues {
            if self.model.queues[*q].order != Order::Vtime {
                self.error(
                    Diagnostic::new(
                        Code::BadDispatch,
                        name.span,
                        format!("`{}` is a `fifo` queue: its tasks have no key to compare", name.name),
                    )
                    .label("not ordered by vruntime")
                    .help(format!(
                        "`earliest(...)` serves the `vtime` queue whose first task has the lowest key; declare \
                         `queue {} ... vtime`, or serve this queue on a line of its own",
                        name.name
                    )),
                );
            }
        }
        queues.iter().map(|(q, _)| *q).collect()
    }

    /// Each weight of `round_robin(...)` is a constant count of tasks in a row.
    fn round_robin(
        &mut self,
        queues: &[(usize, &ast::Ident)],
        weights: &[(ast::Ident, ast::Expr)],
    ) -> Vec<(usize, u64)> {
        let mut out = Vec::new();
        for (queue, name) in queues {
            let Some((_, weight)) = weights.iter().find(|(n, _)| n.span == name.span) else { continue };
            let value = self
                .expr(weight, &Scope::constant("a round-robin weight"))
                .and_then(|t| const_value(&t.e, &self.model.params).filter(|_| matches!(t.e.kind, ExprKind::Const(_))));
            match value {
                Some(w) if (1..=MAX_WEIGHT).contains(&w) => out.push((*queue, w as u64)),
                _ => {
                    // Still served: the weight is wrong, not the queue.
                    out.push((*queue, 1));
                    self.error(
                        Diagnostic::new(
                            Code::BadDispatch,
                            weight.span,
                            "a round-robin weight must be a whole number from 1 to 1024",
                        )
                        .label("not a constant count in 1..1024")
                        .help(format!(
                            "write how many tasks in a row `{}` gives before the next queue's turn, e.g. `{}: 4`",
                            name.name, name.name
                        )),
                    );
                }
            }
        }
        out
    }

    pub(super) fn starvation_limit(&mut self, queue: usize, limit: &ast::Expr, scope: &Scope) -> Option<Expr> {
        let placement = self.model.queues[queue].placement;
        if placement.is_instanced() {
            let label = match placement {
                Placement::PerLlc => "a per-LLC queue has one instance per last-level cache, served by its CPUs",
                Placement::PerNode => "a per-node queue has one instance per NUMA node, served by its CPUs",
                _ => "a per-CPU queue is always served by its own CPU",
            };
            self.error(
                Diagnostic::new(Code::BadStarvation, limit.span, "starvation limits apply to shared queues only")
                    .label(label)
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

    pub(super) fn starvation_below_timeout(&mut self, limit: &Expr, span: Span) {
        let timeout_ns =
            if self.model.timeout_ms == 0 { MAX_TIMEOUT_NS } else { i128::from(self.model.timeout_ms) * 1_000_000 };
        let param = match &limit.kind {
            ExprKind::Param(i) => self.model.params.get(*i),
            _ => None,
        };
        let value = const_value(limit, &self.model.params).filter(|_| !self.unknown_default);
        let timeout = format_ns(timeout_ns);
        if value.is_some_and(|v| v >= timeout_ns) {
            self.error(
                Diagnostic::new(
                    Code::StarvationTooLong,
                    span,
                    "this starvation limit is not below the watchdog timeout",
                )
                .label(format!("{} here, and the watchdog gives up after {timeout}", format_ns(value.unwrap_or(0))))
                .help("a task starved this long would trip the watchdog first; use a limit well below the timeout"),
            );
        } else if let Some((p, max)) = param.and_then(|p| p.max.filter(|m| *m >= timeout_ns).map(|m| (p, m))) {
            self.error(
                Diagnostic::new(
                    Code::StarvationTooLong,
                    span,
                    "this starvation limit may be set above the watchdog timeout",
                )
                .label(format!(
                    "`{}` may be set up to {}, and the watchdog gives up after {timeout}",
                    p.name,
                    format_ns(max)
                ))
                .help(format!(
                    "a task starved this long would trip the watchdog first; give `{}` an upper bound below {timeout}",
                    p.name
                )),
            );
        }
    }

    /// A charge that may be negative is taken as 0: say so, unless it is
    /// proven never negative (or charged to no queue: `unused` says that).
    fn charge_sign(&mut self, charge: Option<&Formula>, span: Span) {
        let Some(charge) = charge else { return };
        let charged = self.model.queues.iter().any(|q| q.order == Order::Vtime);
        if !charged || super::sign::never_negative(charge, &self.model.params, &self.model.functions) {
            return;
        }
        self.diags.push(
            Diagnostic::new(Code::NegativeCharge, span, "this vruntime charge may be negative")
                .label("not proven never negative")
                .help(
                    "a negative charge counts as 0, because a vruntime never moves back; say so with \
                     `max(..., 0ns)` around the part that may go below 0, e.g. `max(slice_max - task.slice_left, \
                     0ns) * 100 / task.weight`",
                ),
        );
    }

    /// The deadline is added to the vruntime: a negative one would move a
    /// task's key below its vruntime, i.e. backwards. It must be proven not to.
    fn deadline_sign(&mut self, deadline: Option<&Formula>, span: Span) {
        let Some(deadline) = deadline else { return };
        if super::sign::never_negative(deadline, &self.model.params, &self.model.functions) {
            return;
        }
        self.error(
            Diagnostic::new(Code::NegativeDeadline, span, "this deadline may be negative")
                .label("not proven never negative")
                .help(
                    "the key of a task is its vruntime plus the deadline, and must not move below the vruntime; \
                     say what a negative value becomes with `max(..., 0ns)`, e.g. `max(task.awake, 0ns)`",
                ),
        );
    }

    pub(super) fn formula(&mut self, f: &ast::Formula, mut scope: Scope, what: &str, span: Span) -> Option<Formula> {
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
                        Diagnostic::new(Code::BadSlice, f.result.span, "the slice is never positive")
                            .label(format!("this is {} with the default parameters", format_ns(v)))
                            .help("a task needs a positive slice to run; use e.g. `slice = 5ms`"),
                    );
                }
            }
        }
        let origin = self.origin(span);
        Some(Formula { stmts, result, origin })
    }
}
