//! Builds the symbol index: declarations first, so that a name may be used
//! before the item declaring it, then every use.

use std::collections::HashMap;

use crate::ast::*;
use crate::check::facts::{self, FactGroup, QUEUE_FIELDS};

use super::{Occurrence, Symbol, SymbolKind, Target};
use crate::model::CpuFact;

pub(super) fn index(src: &str) -> (Vec<Symbol>, Vec<Occurrence>) {
    let (policy, _syntax_errors) = crate::parse::parse(src);
    let mut indexer = Indexer {
        src,
        symbols: Vec::new(),
        occurrences: Vec::new(),
        top_level: HashMap::new(),
        task_vars: HashMap::new(),
        cpu_vars: HashMap::new(),
        locals: Vec::new(),
    };
    for item in &policy.items {
        indexer.declaration(item);
    }
    for item in &policy.items {
        indexer.uses(&item.kind);
    }
    let Indexer { symbols, mut occurrences, .. } = indexer;
    occurrences.sort_by_key(|o| o.span.start);
    (symbols, occurrences)
}

struct Indexer<'s> {
    src: &'s str,
    symbols: Vec<Symbol>,
    occurrences: Vec<Occurrence>,
    /// Parameters, queues, classes, globals and statistics share one namespace.
    top_level: HashMap<String, usize>,
    task_vars: HashMap<String, usize>,
    cpu_vars: HashMap<String, usize>,
    /// `let` names in scope, which hide top-level names.
    locals: Vec<String>,
}

impl Indexer<'_> {
    fn text(&self, span: Span) -> &str {
        self.src.get(span.start..span.end).unwrap_or("")
    }

    fn declaration(&mut self, item: &Item) {
        let (kind, name, ty, signature, doc) = match &item.kind {
            ItemKind::Param(p) => {
                let range = match (&p.min, &p.max) {
                    (None, None) => String::new(),
                    (lo, hi) => {
                        let end = |b: &Option<Bound>| b.as_ref().map_or("", |b| self.text(b.span));
                        format!(" in {}..{}", end(lo), end(hi))
                    }
                };
                let ty = p.ty.ty;
                let signature =
                    format!("param {}: {} = {}{range}", p.name.name, ty.keyword(), self.text(p.default.span));
                (SymbolKind::Param, &p.name, Some(ty), signature, p.doc.value.clone())
            }
            ItemKind::Queue { name, placement, order } => {
                let (placement, one) = match placement {
                    Placement::PerCpu => ("per_cpu", "One queue per CPU"),
                    Placement::PerLlc => ("per_llc", "One queue per last-level cache"),
                    Placement::PerNode => ("per_node", "One queue per NUMA node"),
                    Placement::Shared => ("shared", "One queue shared by all CPUs"),
                };
                let (order, served) = match order {
                    Order::Fifo => ("fifo", "served in arrival order"),
                    Order::Vtime => ("vtime", "served in vruntime order"),
                };
                let doc = join_doc(&format!("{one}, {served}."), &self.comment(item.span));
                (SymbolKind::Queue, name, None, format!("queue {} {placement} {order}", name.name), doc)
            }
            ItemKind::Class { name, doc } => {
                (SymbolKind::Class, name, None, format!("class {}", name.name), doc.value.clone())
            }
            ItemKind::State { scope, name, ty, init } => {
                let (kind, keyword) = match scope {
                    Scope::Task => (SymbolKind::TaskVar, "task"),
                    Scope::Global => (SymbolKind::Global, "global"),
                    Scope::Cpu => (SymbolKind::CpuVar, "cpu"),
                };
                let signature = format!("{keyword} {}: {} = {}", name.name, ty.ty.keyword(), self.text(init.span));
                (kind, name, Some(ty.ty), signature, self.comment(item.span))
            }
            ItemKind::Counter { name, bound, doc } => {
                let binding = bound.as_ref().map_or(String::new(), |b| format!(" = {}", b.text()));
                let signature = format!("counter {}{binding}", name.name);
                (SymbolKind::Counter, name, Some(ValueType::Uint), signature, doc.value.clone())
            }
            ItemKind::Gauge { name, source, doc } => {
                let (ty, signature) = match source {
                    GaugeSource::Variable { ty, init } => {
                        (ty.ty, format!("gauge {}: {} = {}", name.name, ty.ty.keyword(), self.text(init.span)))
                    }
                    GaugeSource::Bound(path) => (ValueType::Duration, format!("gauge {} = {}", name.name, path.text())),
                };
                (SymbolKind::Gauge, name, Some(ty), signature, doc.value.clone())
            }
            ItemKind::CpuSet { name, ranges, doc, dynamic } => {
                let dynamic = if *dynamic { " dynamic" } else { "" };
                let signature = format!("cpuset {} = {}{dynamic}", name.name, CpuRange::list(ranges));
                let doc = doc.as_ref().map_or_else(|| self.comment(item.span), |d| d.value.clone());
                (SymbolKind::CpuSet, name, None, signature, doc)
            }
            ItemKind::Const { name, value } => {
                let signature = format!("const {} = {}", name.name, self.text(value.span));
                (SymbolKind::Const, name, None, signature, self.comment(item.span))
            }
            ItemKind::Fn(f) => {
                let params: Vec<String> =
                    f.params.iter().map(|(arg, ty)| format!("{}: {}", arg.name, ty.ty.keyword())).collect();
                let signature = format!("fn {}({}) = {}", f.name.name, params.join(", "), self.text(f.body.span));
                (SymbolKind::Function, &f.name, None, signature, self.comment(item.span))
            }
            _ => return,
        };
        let index = self.symbols.len();
        self.symbols.push(Symbol { kind, name: name.name.clone(), span: name.span, signature, doc, ty });
        self.occurrences.push(Occurrence { span: name.span, target: Target::Symbol(index), declaration: true });
        // A name declared twice keeps its first meaning, as in the checker.
        let names = match kind {
            SymbolKind::TaskVar => &mut self.task_vars,
            SymbolKind::CpuVar => &mut self.cpu_vars,
            _ => &mut self.top_level,
        };
        names.entry(name.name.clone()).or_insert(index);
    }

    /// The comment at the end of the item's last line, else the comment
    /// lines right above it.
    fn comment(&self, item: Span) -> String {
        let rest = &self.src[item.end..];
        let rest = &rest[..rest.find('\n').unwrap_or(rest.len())];
        if let Some(trailing) = rest.trim_start().strip_prefix('#') {
            return trailing.trim().to_string();
        }
        let above = &self.src[..item.start];
        let mut lines: Vec<&str> = above
            .lines()
            .rev()
            .skip(usize::from(!above.ends_with('\n')))
            .map_while(|line| line.trim_start().strip_prefix('#'))
            .map(str::trim)
            .collect();
        lines.reverse();
        lines.join("\n")
    }

    fn uses(&mut self, kind: &ItemKind) {
        match kind {
            ItemKind::Scheduler { timeout, .. } => self.exprs(timeout),
            ItemKind::Param(p) => {
                self.expr(&p.default);
                for bound in [&p.min, &p.max].into_iter().flatten() {
                    self.expr(&bound.value);
                }
            }
            ItemKind::State { init, .. } | ItemKind::Gauge { source: GaugeSource::Variable { init, .. }, .. } => {
                self.expr(init)
            }
            ItemKind::Counter { bound: Some(path), .. } => self.path(path),
            ItemKind::On { body, .. } => self.block(body),
            ItemKind::Timer { period, body, .. } => {
                self.expr(period);
                self.block(body);
            }
            ItemKind::SelectCpu(select) => {
                for preference in &select.preferences {
                    if let Some(set) = &preference.within {
                        self.reference(set, SymbolKind::CpuSet);
                    }
                    self.exprs(&preference.when);
                }
                self.exprs(&select.found_when);
                if select.found_queue.name != "local" {
                    self.reference(&select.found_queue, SymbolKind::Queue);
                }
            }
            ItemKind::Enqueue { routes } => {
                for route in routes {
                    self.exprs(&route.condition);
                    if let Some(set) = &route.idle_within {
                        self.reference(set, SymbolKind::CpuSet);
                    }
                    if route.queue.name != "local" {
                        self.reference(&route.queue, SymbolKind::Queue);
                    }
                }
            }
            ItemKind::Dispatch { serves } => {
                for serve in serves {
                    for queue in serve.queues() {
                        self.reference(queue, SymbolKind::Queue);
                    }
                    self.exprs(&serve.starve_after);
                    self.exprs(&serve.when);
                    if let crate::ast::ServeGroup::RoundRobin(weights) = &serve.group {
                        weights.iter().for_each(|(_, w)| self.expr(w));
                    }
                }
            }
            ItemKind::Slice(formula) | ItemKind::Vtime { formula, .. } => {
                let outer = self.locals.len();
                self.stmts(&formula.stmts);
                self.expr(&formula.result);
                self.locals.truncate(outer);
            }
            ItemKind::Preempt { class, victim } => {
                self.reference(class, SymbolKind::Class);
                if let PreemptVictim::At(e) = victim {
                    self.expr(e);
                }
            }
            ItemKind::Const { value, .. } => self.expr(value),
            ItemKind::Fn(f) => {
                let outer = self.locals.len();
                self.locals.extend(f.params.iter().map(|(arg, _)| arg.name.clone()));
                self.expr(&f.body);
                self.locals.truncate(outer);
            }
            ItemKind::Queue { .. } | ItemKind::Class { .. } | ItemKind::CpuSet { .. } => {}
            ItemKind::Counter { bound: None, .. } => {}
            ItemKind::Gauge { source: GaugeSource::Bound(_), .. } => {}
        }
    }

    /// A use of a top-level name, if it names a declaration of this kind.
    fn reference(&mut self, id: &Ident, want: SymbolKind) {
        if let Some(&index) = self.top_level.get(&id.name) {
            if self.symbols[index].kind == want {
                self.occurrences.push(Occurrence { span: id.span, target: Target::Symbol(index), declaration: false });
            }
        }
    }

    fn block(&mut self, stmts: &[Stmt]) {
        let outer = self.locals.len();
        self.stmts(stmts);
        self.locals.truncate(outer);
    }

    fn stmts(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            match &stmt.kind {
                StmtKind::Let { name, value } => {
                    self.expr(value);
                    self.locals.push(name.name.clone());
                }
                StmtKind::Assign { target, on_cpu, value, .. } => {
                    if let Some(cpu) = on_cpu {
                        self.expr(cpu);
                        self.cpu_path(target);
                    } else {
                        self.path(target);
                    }
                    self.expr(value);
                }
                StmtKind::If { cond, then, otherwise } => {
                    self.expr(cond);
                    self.block(then);
                    self.block(otherwise);
                }
                StmtKind::Every { period, body } => {
                    self.expr(period);
                    self.block(body);
                }
                StmtKind::Trace { args, .. } => args.iter().for_each(|a| self.expr(a)),
                StmtKind::ReenqueueLocal => {}
            }
        }
    }

    fn exprs(&mut self, e: &Option<Expr>) {
        if let Some(e) = e {
            self.expr(e);
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Path(p) => self.path(p),
            ExprKind::OnCpu { cpu, path } => {
                self.expr(cpu);
                self.cpu_path(path);
            }
            ExprKind::Call { func, args } => {
                self.reference(func, SymbolKind::Function);
                args.iter().for_each(|a| self.expr(a));
            }
            ExprKind::StartsWith { value, prefix } => {
                self.expr(value);
                self.expr(prefix);
            }
            ExprKind::Neg(x) | ExprKind::Not(x) => self.expr(x),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::Is { value, class } => {
                self.expr(value);
                self.reference(class, SymbolKind::Class);
            }
            ExprKind::InSet { cpu, set } => {
                // A bare `cpu` is the running CPU, not a name to resolve.
                if !matches!(&cpu.kind, ExprKind::Path(p) if p.text() == "cpu") {
                    self.expr(cpu);
                }
                self.reference(set, SymbolKind::CpuSet);
            }
            ExprKind::Cond { cond, then, otherwise } => {
                self.expr(cond);
                self.expr(then);
                self.expr(otherwise);
            }
            ExprKind::Int(_) | ExprKind::Duration(_) | ExprKind::Bool(_) | ExprKind::Str(_) => {}
        }
    }

    fn path(&mut self, p: &Path) {
        let parts: Vec<&str> = p.parts.iter().map(|i| i.name.as_str()).collect();
        let fact = |group| facts::lookup(group, parts[1]).map(Target::Fact);
        let (span, target) = match parts.as_slice() {
            [name] => {
                let symbol = self.top_level.get(*name).filter(|_| !self.locals.iter().any(|l| l == name));
                match symbol {
                    Some(&index) => (p.span, Target::Symbol(index)),
                    None => return,
                }
            }
            ["task", field] => match (fact(FactGroup::Task), self.task_vars.get(*field)) {
                (Some(target), _) => (p.span, target),
                (None, Some(&index)) => (p.parts[1].span, Target::Symbol(index)),
                (None, None) => return,
            },
            ["system", _] => match fact(FactGroup::System) {
                Some(target) => (p.span, target),
                None => return,
            },
            ["event", _] => match fact(FactGroup::Event) {
                Some(target) => (p.span, target),
                None => return,
            },
            ["cpu", field] => match (CpuFact::from_name(field), self.cpu_vars.get(*field)) {
                (Some(f), _) => (p.span, Target::CpuFact(f)),
                (None, Some(&index)) => (p.parts[1].span, Target::Symbol(index)),
                (None, None) => return,
            },
            ["queue", queue, rest @ ..] if rest.len() <= 1 => {
                self.reference(&p.parts[1], SymbolKind::Queue);
                let Some(field) = rest.first().and_then(|f| QUEUE_FIELDS.iter().find(|q| q.name == *f)) else {
                    return;
                };
                (p.parts[2].span, Target::QueueField { queue: queue.to_string(), field })
            }
            _ => return,
        };
        self.occurrences.push(Occurrence { span, target, declaration: false });
    }
}

impl Indexer<'_> {
    /// What follows `cpu(CPU).`: a fact, a per-CPU variable or `queue.Q.len`.
    fn cpu_path(&mut self, p: &Path) {
        match p.parts.as_slice() {
            [field] => {
                let target = match CpuFact::from_name(&field.name) {
                    Some(f) => Target::CpuFact(f),
                    None => match self.cpu_vars.get(&field.name) {
                        Some(&index) => Target::Symbol(index),
                        None => return,
                    },
                };
                self.occurrences.push(Occurrence { span: field.span, target, declaration: false });
            }
            _ => self.path(p),
        }
    }
}

fn join_doc(first: &str, second: &str) -> String {
    if second.is_empty() {
        first.to_string()
    } else {
        format!("{first}\n\n{second}")
    }
}
