//! Checks that need the whole policy: required items, queues that would
//! never be served, clashes with generated names, unused declarations.

use crate::ast::{self, ItemKind, Policy, Span};
use crate::diag::{Code, Diagnostic};
use crate::model::*;

use super::{Checker, Symbol};

impl Checker<'_> {
    /// Checks that need the whole policy: required items, queues that would
    /// never be served, and things declared but never used.
    pub(super) fn whole_policy(&mut self, policy: &Policy) {
        let scheduler_span = self.singletons.get("scheduler").copied().unwrap_or_default();
        for (what, help) in [
            ("enqueue", "add `enqueue { else -> QUEUE }` to say where runnable tasks wait"),
            ("dispatch", "add `dispatch { QUEUE ... }` to say which queues a CPU takes work from"),
        ] {
            if !self.singletons.contains_key(what) && !self.model.name.is_empty() {
                self.error(
                    Diagnostic::new(Code::MissingItem, scheduler_span, format!("this policy has no `{what}` block"))
                        .label("in this scheduler")
                        .help(help),
                );
            }
        }
        let served: Vec<usize> = self.model.dispatch.iter().flat_map(|s| s.queues()).collect();
        let mut reported = Vec::new();
        for (queue, span) in self.routed.clone() {
            if !served.contains(&queue) && !reported.contains(&queue) && self.singletons.contains_key("dispatch") {
                reported.push(queue);
                let name = self.model.queues[queue].name.clone();
                self.error(
                    Diagnostic::new(Code::UnservedQueue, span, format!("tasks routed to `{name}` would never run"))
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
                Diagnostic::new(Code::MissingVtimeCharge, span, "vruntime-ordered queues need a `vtime charge` formula")
                    .label("this queue orders tasks by vruntime")
                    .help("say how much vruntime a task is charged when it stops, e.g. `vtime charge = max(5ms - task.slice_left, 0ns) * 100 / task.weight`"),
            );
        }
        if !has_vtime {
            for key in ["vtime charge", "vtime lag", "vtime deadline"] {
                if let Some(span) = self.singletons.get(key).copied() {
                    self.diags.push(
                        Diagnostic::new(
                            Code::Unused,
                            span,
                            format!("`{key}` has no effect: no queue is ordered by vruntime"),
                        )
                        .label("never used")
                        .help("declare a queue with `vtime` order, or remove this formula"),
                    );
                }
            }
        }
        if !self.singletons.contains_key("slice") {
            let bound: Vec<String> = self
                .model
                .stats
                .iter()
                .filter(|s| matches!(s.source, StatSource::LastSlice))
                .map(|s| s.name.clone())
                .collect();
            for name in bound {
                self.diags.push(
                    Diagnostic::new(
                        Code::Unused,
                        self.decl_spans[&name],
                        format!("`{name}` follows the slice formula, but there is none"),
                    )
                    .label("stays 0")
                    .help("add `slice = ...`, or remove this gauge"),
                );
            }
        }
        self.callback_clashes();
        self.unused_warnings();
    }

    /// Names that the generated callbacks (`NAME_enqueue`, ...) will take.
    pub(super) fn callback_clashes(&mut self) {
        const MEMBERS: &[&str] = &[
            "select_cpu",
            "enqueue",
            "dispatch",
            "runnable",
            "running",
            "stopping",
            "quiescent",
            "tick",
            "cpu_release",
            "enable",
            "init_task",
            "cpu_online",
            "cpu_offline",
            "init",
            "exit",
            "ops",
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
                Diagnostic::new(Code::ReservedName, span, format!("`{name}` is the name of a generated callback"))
                    .label("taken by the scheduler's own code")
                    .help(format!("names `{sched}_` + a sched_ext callback are taken; pick another name")),
            );
        }
    }

    pub(super) fn unused_warnings(&mut self) {
        let mut unused: Vec<(Span, String, &'static str)> = Vec::new();
        // A name a did-you-mean pointed at counts as read (see `suggested`).
        let read = |this: &Self, key: &str| this.usage.get(key).is_some_and(|u| u.read) || this.suggested.contains(key);
        let written = |this: &Self, key: &str| this.usage.get(key).is_some_and(|u| u.written);
        for p in &self.model.params {
            if !read(self, &p.name) {
                unused.push((
                    self.decl_spans[&p.name],
                    format!("parameter `{}` is never used", p.name),
                    "remove it, or use it in a rule or formula",
                ));
            }
        }
        for c in &self.model.classes {
            if !read(self, &c.name) && !written(self, &c.name) {
                unused.push((
                    self.decl_spans[&c.name],
                    format!("class `{}` is never used", c.name),
                    "assign it with `task.class = NAME` and test it with `task is NAME`",
                ));
            } else if !written(self, &c.name) && !self.suggested.contains(&c.name) {
                unused.push((
                    self.decl_spans[&c.name],
                    format!("no task is ever put in class `{}`", c.name),
                    "assign it somewhere with `task.class = NAME`",
                ));
            }
        }
        for g in &self.model.globals {
            if !read(self, &g.name) {
                unused.push((
                    self.decl_spans[&g.name],
                    format!("global `{}` is never read", g.name),
                    "remove it, or read it in a rule or formula",
                ));
            }
        }
        for v in &self.model.task_vars {
            let key = format!("task.{}", v.name);
            if !read(self, &key) {
                unused.push((
                    self.decl_spans[&key],
                    format!("per-task variable `{}` is never read", v.name),
                    "remove it, or read it as `task.NAME`",
                ));
            }
        }
        for v in &self.model.cpu_vars {
            let key = format!("cpu.{}", v.name);
            if !read(self, &key) {
                unused.push((
                    self.decl_spans[&key],
                    format!("per-CPU variable `{}` is never read", v.name),
                    "remove it, or read it as `cpu.NAME` or `cpu(CPU).NAME`",
                ));
            }
        }
        for set in &self.model.cpusets {
            if !read(self, &set.name) {
                unused.push((
                    self.decl_spans[&set.name],
                    format!("CPU set `{}` is never used", set.name),
                    "remove it, or use it: `cpu in NAME`, `any in NAME`, `-> QUEUE idle in NAME`, `QUEUE when cpu in NAME`",
                ));
            }
        }
        // A statistic that starts from a fact or a parameter shows that
        // value; one that starts from a number and never changes shows
        // nothing.
        for stat in &self.model.stats {
            if self.fixed_start.contains(&stat.name) && !written(self, &stat.name) {
                unused.push((
                    self.decl_spans[&stat.name],
                    format!("statistic `{}` is never assigned: it shows its first value throughout", stat.name),
                    "assign it in a rule (`NAME += 1`, `NAME = ...`), or remove it",
                ));
            }
        }
        let routed: Vec<usize> = self.routed.iter().map(|(q, _)| *q).collect();
        for (i, q) in self.model.queues.iter().enumerate() {
            if !routed.contains(&i) && !self.suggested.contains(&q.name) {
                unused.push((
                    self.decl_spans[&q.name],
                    format!("no task is ever put in queue `{}`", q.name),
                    "route tasks to it in `enqueue` or `select_cpu`, or remove it",
                ));
            }
        }
        let mut reused: Vec<(Span, String, &'static str)> = self
            .symbols
            .iter()
            .filter(|(name, _)| !read(self, name))
            .filter_map(|(name, (symbol, span))| match symbol {
                Symbol::Const(_) => Some((
                    *span,
                    format!("constant `{name}` is never used"),
                    "remove it, or use it in a rule or formula",
                )),
                Symbol::Function(_) => Some((
                    *span,
                    format!("function `{name}` is never called"),
                    "remove it, or call it in a rule or formula",
                )),
                _ => None,
            })
            .collect();
        reused.sort_by_key(|(span, _, _)| span.start);
        unused.extend(reused);
        for (span, message, help) in unused {
            self.diags.push(Diagnostic::new(Code::Unused, span, message).label("declared here").help(help));
        }
    }
}
