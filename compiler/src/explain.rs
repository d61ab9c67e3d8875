//! `schedc explain`: a checked policy in plain sentences, in the order the
//! kernel uses it, for reviewers who do not read BPF C.
//!
//! The structure comes from the checked model (which queue is per CPU,
//! which statistic counts what); the formulas and conditions are quoted as
//! the formatter spells them, from the syntax tree.

use std::fmt::Write;

use crate::ast::{self, ItemKind, Stmt, StmtKind};
use crate::fmt::ExprText;
use crate::model::{Event, Model, OpsFlag, Order, Placement, PreferenceKind, StatKind, StatSource};
use crate::Checked;

/// A checked policy, explained.
pub fn explain(checked: &Checked) -> String {
    let src = checked.source.text();
    let (policy, _) = crate::parse::parse(src);
    let explainer = Explainer { model: &checked.model, policy: &policy, text: ExprText::new(src) };
    let mut out = String::new();
    explainer.write(&mut out).expect("writing to a String cannot fail");
    out
}

struct Explainer<'a, 's> {
    model: &'a Model,
    policy: &'a ast::Policy,
    text: ExprText<'s>,
}

/// What the first item matching the pattern (and guard) yields.
macro_rules! find_item {
    ($self:ident, $pattern:pat $(if $guard:expr)? => $value:expr) => {
        $self.policy.items.iter().find_map(|item| match &item.kind {
            $pattern $(if $guard)? => Some($value),
            _ => None,
        })
    };
}

impl Explainer<'_, '_> {
    fn expr(&self, e: &ast::Expr) -> String {
        self.text.expr(e)
    }

    fn write(&self, out: &mut String) -> std::fmt::Result {
        let m = self.model;
        writeln!(out, "Scheduler `{}`: {}.", m.name, m.description)?;
        if m.timeout_ms > 0 {
            writeln!(
                out,
                "The kernel ejects it if a runnable task waits longer than {}.",
                crate::fmt::duration_text(u128::from(m.timeout_ms) * 1_000_000)
            )?;
        }
        for flag in &m.ops_flags {
            writeln!(out, "{}", flag_text(*flag))?;
        }
        self.declarations(out)?;
        let mut step = 0;
        let mut section = |out: &mut String, title: &str| {
            step += 1;
            writeln!(out, "\n{step}. {title}")
        };
        if let Some(body) = self.event(Event::Join) {
            section(out, "A task joins (on join)")?;
            writeln!(out, "When a task enters the scheduler:")?;
            self.stmts(out, body, 1)?;
        }
        if let Some(body) = self.event(Event::Runnable) {
            section(out, "A task becomes runnable (on runnable)")?;
            writeln!(out, "When a task becomes runnable (it woke up, or was created or moved here):")?;
            self.stmts(out, body, 1)?;
        }
        section(out, "A task wakes up (select_cpu)")?;
        self.wakeup(out)?;
        section(out, "A runnable task is queued (enqueue)")?;
        self.enqueue(out)?;
        if let Some(body) = self.event(Event::Running) {
            section(out, "A task starts running (on running)")?;
            writeln!(out, "When a task starts running on a CPU:")?;
            self.stmts(out, body, 1)?;
        }
        if let Some(body) = self.event(Event::Tick) {
            section(out, "A running task reaches a tick (on tick)")?;
            writeln!(out, "At every scheduler tick, for the task running on a busy CPU:")?;
            self.stmts(out, body, 1)?;
        }
        section(out, "A task stops running (on stopping)")?;
        self.stopping(out)?;
        if let Some(body) = self.event(Event::Quiescent) {
            section(out, "A task stops being runnable (on quiescent)")?;
            writeln!(out, "When a task stops being runnable (it sleeps, or leaves the scheduler):")?;
            self.stmts(out, body, 1)?;
        }
        section(out, "A CPU needs a task (dispatch)")?;
        self.dispatch(out)?;
        if let Some(body) = self.event(Event::CpuRelease) {
            section(out, "A higher-priority scheduling class takes a CPU (on cpu_release)")?;
            writeln!(out, "When a real-time or deadline task takes a CPU from this scheduler:")?;
            self.stmts(out, body, 1)?;
        }
        if let Some((period, body)) = self.timer() {
            section(out, "Periodic timer (on timer)")?;
            writeln!(out, "Every {period}, for the whole scheduler (no task):")?;
            self.stmts(out, body, 1)?;
        }
        section(out, "Time slice")?;
        self.slice(out)?;
        if m.queues.iter().any(|q| q.order == Order::Vtime) {
            section(out, "Virtual time")?;
            self.vtime(out)?;
        }
        self.statistics(out)
    }

    fn declarations(&self, out: &mut String) -> std::fmt::Result {
        if self.policy.items.iter().any(|i| matches!(i.kind, ItemKind::Param(_))) {
            writeln!(out, "\nParameters (change them with `schedc run --set NAME=VALUE`):")?;
            for item in &self.policy.items {
                let ItemKind::Param(p) = &item.kind else { continue };
                let bound = |b: &Option<ast::Bound>| {
                    b.as_ref().map(|b| format!("{}{}", if b.negative { "-" } else { "" }, self.expr(&b.value)))
                };
                let range = match (bound(&p.min), bound(&p.max)) {
                    (Some(lo), Some(hi)) => format!(", from {lo} to {hi}"),
                    (Some(lo), None) => format!(", at least {lo}"),
                    (None, Some(hi)) => format!(", at most {hi}"),
                    (None, None) => String::new(),
                };
                let ty = p.ty.ty.keyword();
                writeln!(out, "- {} = {} ({ty}{range}): {}.", p.name.name, self.expr(&p.default), p.doc.value)?;
            }
        }
        writeln!(out, "\nQueues:")?;
        for q in &self.model.queues {
            let placement = match q.placement {
                Placement::PerCpu => "one per CPU, each served by its own CPU",
                Placement::PerLlc => "one per last-level cache, served by the CPUs that share it",
                Placement::PerNode => "one per NUMA node, served by the node's CPUs",
                Placement::Shared => "one shared by all CPUs",
            };
            let order = match q.order {
                Order::Fifo => "in arrival order",
                Order::Vtime => "lowest vruntime first",
            };
            writeln!(out, "- {}: {placement}; tasks leave {order}.", q.name)?;
        }
        if !self.model.cpusets.is_empty() {
            writeln!(out, "\nCPU sets:")?;
            for s in &self.model.cpusets {
                let n = s.size();
                let cpus = if n == 1 { "CPU" } else { "CPUs" };
                match &s.doc {
                    Some(doc) if s.text() == "all" => writeln!(
                        out,
                        "- {}: every CPU unless `schedc run --set {}=0-3,6` says otherwise: {doc}.",
                        s.name, s.name
                    )?,
                    Some(doc) => writeln!(
                        out,
                        "- {}: {cpus} {} unless `schedc run --set {}=...` says otherwise: {doc}.",
                        s.name,
                        s.text(),
                        s.name
                    )?,
                    None if s.dynamic => {
                        let start =
                            if s.text() == "all" { "every CPU".to_string() } else { format!("{cpus} {}", s.text()) };
                        writeln!(out, "- {}: {start} at first; rules change it while the scheduler runs.", s.name)?
                    }
                    None => writeln!(out, "- {}: {cpus} {} ({n}).", s.name, s.text())?,
                }
            }
        }
        if !self.model.classes.is_empty() {
            writeln!(out, "\nClasses (a task is in at most one; it starts in none):")?;
            for c in &self.model.classes {
                writeln!(out, "- {}: {}.", c.name, c.doc)?;
            }
        }
        let reuse: Vec<String> = self
            .policy
            .items
            .iter()
            .filter_map(|item| match &item.kind {
                ItemKind::Const { name, value } => Some(format!("- {} = {}", name.name, self.expr(value))),
                ItemKind::Fn(f) => {
                    let params: Vec<String> =
                        f.params.iter().map(|(a, t)| format!("{}: {}", a.name, t.ty.keyword())).collect();
                    Some(format!("- {}({}) = {}", f.name.name, params.join(", "), self.expr(&f.body)))
                }
                _ => None,
            })
            .collect();
        if !reuse.is_empty() {
            writeln!(out, "\nConstants and functions (used by name below):\n{}", reuse.join("\n"))?;
        }
        for (scope, title) in [
            (ast::Scope::Task, "Per-task state"),
            (ast::Scope::Global, "Global state"),
            (ast::Scope::Cpu, "Per-CPU state"),
        ] {
            let vars: Vec<String> = self
                .policy
                .items
                .iter()
                .filter_map(|item| match &item.kind {
                    ItemKind::State { scope: s, name, ty, init } if *s == scope => {
                        Some(format!("- {} ({}), starting at {}.", name.name, ty.ty.keyword(), self.expr(init)))
                    }
                    _ => None,
                })
                .collect();
            if !vars.is_empty() {
                writeln!(out, "\n{title}:\n{}", vars.join("\n"))?;
            }
        }
        Ok(())
    }

    fn event(&self, event: Event) -> Option<&[Stmt]> {
        find_item!(self, ItemKind::On { event: e, body, .. } if *e == event => body.as_slice())
    }

    /// `on timer PERIOD`: the period as written, and the block.
    fn timer(&self) -> Option<(String, &[Stmt])> {
        find_item!(self, ItemKind::Timer { period, body, .. } => (self.expr(period), body.as_slice()))
    }

    /// What picks the instance of queue `name` for a CPU: the CPU itself,
    /// its last-level cache or its node; `None` for a queue of one instance.
    fn instance_of(&self, name: &str) -> Option<&'static str> {
        match self.model.queues.iter().find(|q| q.name == name)?.placement {
            Placement::PerCpu => Some("CPU"),
            Placement::PerLlc => Some("CPU's last-level cache"),
            Placement::PerNode => Some("CPU's NUMA node"),
            Placement::Shared => None,
        }
    }

    fn wakeup(&self, out: &mut String) -> std::fmt::Result {
        if let Some(body) = self.event(Event::Wakeup) {
            writeln!(out, "When a task allowed on more than one CPU wakes up, these rules run first:")?;
            self.stmts(out, body, 1)?;
        }
        let Some(select) = find_item!(self, ItemKind::SelectCpu(s) => s) else {
            // Only an `on wakeup` block makes schedc generate the callback that gives the policy's slice.
            let own = self.model.slice.is_some() && self.event(Event::Wakeup).is_some();
            let slice = if own { "the policy's slice" } else { "the kernel's default slice" };
            return writeln!(
                out,
                "The kernel's default selection picks a CPU; if that CPU is idle the task runs there next, \
                 with {slice}, else it is queued as below."
            );
        };
        if select.preferences.is_empty() {
            writeln!(
                out,
                "The kernel's default selection picks a CPU (the previous one, an idle core when SMT is on, \
                 and wake-affine handling of sync wake-ups)."
            )?;
        } else {
            writeln!(out, "The task looks for an idle CPU, trying in order:")?;
            for p in &select.preferences {
                let what = match p.kind {
                    PreferenceKind::Pinned => {
                        "if it may run on one CPU only: that CPU if idle, and the search stops there either way"
                    }
                    PreferenceKind::PrevCore => "its previous CPU, if the whole core of that CPU is idle",
                    PreferenceKind::PrevLlc => "any idle CPU it may use that shares its previous CPU's last-level cache",
                    PreferenceKind::Waker => {
                        "on a synchronous wake-up, the waker's CPU, if the task may run there and nothing else waits there"
                    }
                    PreferenceKind::IdleCore => "any CPU of a fully idle core",
                    PreferenceKind::Prev => "its previous CPU, if idle",
                    PreferenceKind::Any => "any idle CPU it may use",
                };
                let when = p.when.as_ref().map(|w| format!(" (only when {})", self.expr(w))).unwrap_or_default();
                let within = p.within.as_ref().map(|s| format!(" among the CPUs of {}", s.name)).unwrap_or_default();
                writeln!(out, "- {what}{within}{when}")?;
            }
            if select.default_span.is_some() {
                writeln!(
                    out,
                    "- failing those, the kernel's default selection (previous CPU, idle cores when SMT is on); it counts as found only if that CPU is idle"
                )?;
            }
        }
        let queue = &select.found_queue.name;
        let instance = if queue == "local" {
            " (the local queue of that CPU: it runs there next)"
        } else if let Some(instance) = self.instance_of(queue) {
            &format!(" of that {instance}")
        } else {
            ""
        };
        let kick = if select.kick { ", and that CPU is woken up" } else { "" };
        let otherwise = if select.default_span.is_some() {
            "keeps the CPU the kernel suggested"
        } else {
            "stays on its previous CPU"
        };
        let when = select.found_when.as_ref().map(|w| format!(" and {} holds", self.expr(w))).unwrap_or_default();
        writeln!(
            out,
            "If an idle CPU is found{when}, the task goes straight into `{queue}`{instance}{kick}; \
             the enqueue step is skipped for it. Otherwise it {otherwise} and is queued as below."
        )?;
        if select.found_when.is_some() {
            writeln!(out, "An idle CPU found while the condition does not hold is still the task's CPU.")?;
        }
        Ok(())
    }

    fn enqueue(&self, out: &mut String) -> std::fmt::Result {
        if let Some(body) = self.event(Event::Enqueue) {
            writeln!(out, "When a task becomes runnable, these rules run first:")?;
            self.stmts(out, body, 1)?;
        }
        let routes = find_item!(self, ItemKind::Enqueue { routes } => routes.as_slice()).unwrap_or_default();
        if routes.len() > 1 {
            writeln!(out, "The task goes to the first queue whose condition holds:")?;
        } else {
            writeln!(out, "Every task goes to one queue:")?;
        }
        for r in routes {
            // With `idle`, the CPU is an idle one found then, not the task's.
            let cpu = if r.idle { "that idle CPU" } else { "the task's CPU" };
            let instance = if r.queue.name == "local" {
                format!(" (the local queue of {cpu}: it runs there next)")
            } else if let Some(instance) = self.instance_of(&r.queue.name) {
                // "CPU" or "CPU's last-level cache": the part after the CPU.
                format!(" (the instance of {cpu}{})", instance.strip_prefix("CPU").unwrap_or(instance))
            } else {
                String::new()
            };
            let among = r.idle_within.as_ref().map(|s| format!(" among the CPUs of {}", s.name)).unwrap_or_default();
            let kick = match (r.kick, r.idle, r.condition.is_some()) {
                (true, _, _) => ", waking its CPU".to_string(),
                (_, true, true) => {
                    format!(", for an idle CPU it may use{among}, which is woken (only if there is one)")
                }
                (_, true, false) => {
                    format!(", for an idle CPU it may use{among}, which is woken (if none, for its own CPU)")
                }
                _ => String::new(),
            };
            let when = match &r.condition {
                Some(c) => format!(", if {}", self.expr(c)),
                None if routes.len() > 1 => ", otherwise".to_string(),
                None => String::new(),
            };
            writeln!(out, "- `{}`{instance}{kick}{when}", r.queue.name)?;
        }
        if let Some(p) = &self.model.preempt {
            let class = &self.model.classes[p.class].name;
            let lower: Vec<&str> = self.model.classes[p.class + 1..].iter().map(|c| c.name.as_str()).collect();
            let lower = if lower.is_empty() { String::new() } else { format!(" or in {}", lower.join(", ")) };
            let victim = match &self.model.preempt.as_ref().map(|p| &p.victim) {
                Some(crate::model::Victim::At(_)) => {
                    let at =
                        find_item!(self, ItemKind::Preempt { victim: ast::PreemptVictim::At(e), .. } => self.expr(e));
                    format!("on CPU {}", at.unwrap_or_default())
                }
                Some(crate::model::Victim::Lowest) => {
                    "on the CPU, of those it may use, whose task ranks lowest (from its own CPU on)".to_string()
                }
                _ => "on its CPU".to_string(),
            };
            writeln!(
                out,
                "A task of class {class} that just woke up preempts the task running {victim} if that one is in no class{lower}."
            )?;
        }
        Ok(())
    }

    fn stopping(&self, out: &mut String) -> std::fmt::Result {
        let vtime = self.model.queues.iter().any(|q| q.order == Order::Vtime);
        let charge = if vtime { ", after its vruntime is charged (see Virtual time)" } else { "" };
        match self.event(Event::Stopping) {
            Some(body) => {
                writeln!(out, "When a running task leaves its CPU{charge}:")?;
                self.stmts(out, body, 1)
            }
            None if vtime => {
                writeln!(out, "When a task leaves its CPU, only its vruntime is charged (see Virtual time).")
            }
            None => writeln!(out, "Nothing policy-specific happens when a task leaves its CPU."),
        }
    }

    fn dispatch(&self, out: &mut String) -> std::fmt::Result {
        let serves = find_item!(self, ItemKind::Dispatch { serves } => serves.as_slice()).unwrap_or_default();
        let limited: Vec<&ast::Serve> = serves.iter().filter(|s| s.starve_after.is_some()).collect();
        if !limited.is_empty() {
            writeln!(out, "First, against starvation, from the last queue listed to the first:")?;
            for s in limited.iter().rev() {
                let limit = s.starve_after.as_ref().expect("filtered");
                writeln!(
                    out,
                    "- `{}` gives its first task if it has one and has not given one for longer than {}",
                    s.queue.name,
                    self.with_default(limit)
                )?;
            }
            writeln!(out, "(A limit of 0 turns that check off.) Otherwise, it takes the first task of the first queue that has one:")?;
        } else {
            writeln!(out, "It takes the first task of the first queue that has one:")?;
        }
        for s in serves {
            let own = |q: &str| match self.instance_of(q) {
                None => String::new(),
                Some("CPU") => " (its own instance)".to_string(),
                Some(instance) => format!(" (the instance of its {instance})"),
            };
            let when = s.when.as_ref().map(|w| format!(" (only when {})", self.expr(w))).unwrap_or_default();
            match &s.group {
                ast::ServeGroup::One => writeln!(out, "- `{}`{}{when}", s.queue.name, own(&s.queue.name))?,
                ast::ServeGroup::Earliest(queues) => {
                    let names: Vec<String> = queues.iter().map(|q| format!("`{}`{}", q.name, own(&q.name))).collect();
                    writeln!(out, "- whichever of {} has the first task with the lowest key{when}", names.join(", "))?
                }
                ast::ServeGroup::RoundRobin(weights) => {
                    let turns: Vec<String> = weights
                        .iter()
                        .map(|(q, w)| format!("`{}`{} up to {} in a row", q.name, own(&q.name), self.expr(w)))
                        .collect();
                    writeln!(out, "- in turn: {} (an empty queue passes its turn){when}", turns.join(", "))?
                }
                ast::ServeGroup::KeepRunning => writeln!(
                    out,
                    "- if none had a task, the task that was running keeps the CPU, if it still can run, with a fresh slice{when}"
                )?,
            }
        }
        if self.model.queues.iter().any(|q| q.placement == Placement::PerCpu) {
            writeln!(out, "Failing that, it takes a task left in the per-CPU queues of an offline CPU.")?;
        }
        Ok(())
    }

    /// An expression, with the default of the parameter it names.
    fn with_default(&self, e: &ast::Expr) -> String {
        let text = self.expr(e);
        let default = find_item!(self, ItemKind::Param(p) if p.name.name == text => self.expr(&p.default));
        match default {
            Some(d) => format!("{text} ({d} unless set)"),
            None => text,
        }
    }

    /// `when`, the formula's steps if it has any, then `what` and its value.
    fn formula(&self, out: &mut String, when: &str, what: &str, formula: &ast::Formula) -> std::fmt::Result {
        if formula.stmts.is_empty() {
            return writeln!(out, "{when}, {what}\n    {}", self.expr(&formula.result));
        }
        writeln!(out, "{when}, these steps run:")?;
        self.stmts(out, &formula.stmts, 1)?;
        writeln!(out, "and then {what}\n    {}", self.expr(&formula.result))
    }

    fn slice(&self, out: &mut String) -> std::fmt::Result {
        match find_item!(self, ItemKind::Slice(f) => f) {
            Some(f) => {
                self.formula(out, "Each time a task is put in a queue", "it gets a slice of", f)?;
                writeln!(out, "(0 or less keeps the slice the task has left).")
            }
            None => writeln!(out, "Every task gets the kernel's default slice, 20ms, each time it is queued."),
        }
    }

    fn vtime(&self, out: &mut String) -> std::fmt::Result {
        let part =
            |which: ast::VtimePart| find_item!(self, ItemKind::Vtime { part, formula } if *part == which => formula);
        writeln!(
            out,
            "A task joins with the vruntime `system.vtime_now`, which follows the furthest-ahead running task."
        )?;
        if let Some(charge) = part(ast::VtimePart::Charge) {
            self.formula(out, "Each time a task stops", "its vruntime grows by", charge)?;
        }
        let when = "When a task is put in a vtime queue";
        match part(ast::VtimePart::Lag) {
            Some(lag) => self.formula(out, when, "its vruntime is raised to at least vtime_now minus", lag)?,
            None => writeln!(out, "{when}, its vruntime is raised to at least vtime_now.")?,
        }
        match part(ast::VtimePart::Deadline) {
            Some(d) => {
                self.formula(out, "Its key in the queue is its vruntime plus a deadline: there", "the deadline is", d)
            }
            None => Ok(()),
        }
    }

    fn statistics(&self, out: &mut String) -> std::fmt::Result {
        if self.model.stats.is_empty() {
            return Ok(());
        }
        writeln!(out, "\nStatistics (`schedc run` prints them):")?;
        for s in &self.model.stats {
            let what = match (&s.source, s.kind) {
                (StatSource::QueueInserted(q), _) => {
                    format!("counts the tasks put in `{}`", self.model.queues[*q].name)
                }
                (StatSource::LastSlice, _) => "the slice most recently given".to_string(),
                (StatSource::Variable(_), StatKind::Counter) => "added to by the rules".to_string(),
                (StatSource::Variable(_), StatKind::Gauge) => format!("a {} set by the rules", s.ty.keyword()),
            };
            writeln!(out, "- {}: {} ({what}).", s.name, s.doc)?;
        }
        Ok(())
    }

    fn stmts(&self, out: &mut String, stmts: &[Stmt], depth: usize) -> std::fmt::Result {
        for s in stmts {
            self.stmt(out, s, depth)?;
        }
        Ok(())
    }

    fn stmt(&self, out: &mut String, s: &Stmt, depth: usize) -> std::fmt::Result {
        let indent = "  ".repeat(depth - 1);
        match &s.kind {
            StmtKind::Let { name, value } => writeln!(out, "{indent}- let {} be {}", name.name, self.expr(value)),
            StmtKind::Assign { target, on_cpu, op, value } => {
                let target_text = match on_cpu {
                    Some(cpu) => format!("cpu({}).{}", self.expr(cpu), target.text()),
                    None => target.text(),
                };
                let value_text = self.expr(value);
                let sentence = match op {
                    ast::AssignOp::Add => format!("{target_text} grows by {value_text}"),
                    ast::AssignOp::Sub => format!("{target_text} shrinks by {value_text}"),
                    ast::AssignOp::Set if self.model.cpusets.iter().any(|c| c.name == target_text) => {
                        let count = match &value.kind {
                            ast::ExprKind::Call { args, .. } if args.len() == 1 => self.expr(&args[0]),
                            _ => value_text,
                        };
                        format!("the CPU set {target_text} becomes the lowest-numbered {count} CPUs (none below 1, at most every CPU)")
                    }
                    ast::AssignOp::Set if target_text == "cpu.perf" => {
                        format!("this CPU asks for the performance level {value_text} (of 1024)")
                    }
                    ast::AssignOp::Set if target_text == "task.class" && value_text == "none" => {
                        "the task leaves its class".to_string()
                    }
                    ast::AssignOp::Set
                        if target_text == "task.class" && self.model.classes.iter().any(|c| c.name == value_text) =>
                    {
                        format!("the task becomes {value_text}")
                    }
                    ast::AssignOp::Set => format!("{target_text} becomes {value_text}"),
                };
                writeln!(out, "{indent}- {sentence}")
            }
            StmtKind::If { cond, then, otherwise } => {
                writeln!(out, "{indent}- if {}:", self.expr(cond))?;
                self.stmts(out, then, depth + 1)?;
                match otherwise.as_slice() {
                    [] => Ok(()),
                    _ => {
                        writeln!(out, "{indent}- otherwise:")?;
                        self.stmts(out, otherwise, depth + 1)
                    }
                }
            }
            StmtKind::Every { period, body } => {
                writeln!(
                    out,
                    "{indent}- at most once every {} per task (`elapsed` is the time since the last time):",
                    self.expr(period)
                )?;
                self.stmts(out, body, depth + 1)
            }
            StmtKind::Trace { message, args } => {
                let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                let values = if args.is_empty() { String::new() } else { format!(" with {}", args.join(", ")) };
                writeln!(out, "{indent}- writes \"{}\"{values} to the kernel's trace buffer", message.value)
            }
            StmtKind::ReenqueueLocal => {
                writeln!(out, "{indent}- this CPU's queued tasks go back to be queued again (enqueue)")
            }
        }
    }
}

/// What `with FLAG` changes, in a sentence.
fn flag_text(flag: OpsFlag) -> &'static str {
    match flag {
        OpsFlag::EnqueueLast => {
            "With `enqueue_last`, a task that used its slice with nothing else waiting for its CPU goes through `enqueue` (`event.last`) instead of running on."
        }
        OpsFlag::EnqueueExiting => "With `enqueue_exiting`, exiting tasks go through `enqueue` too.",
        OpsFlag::Partial => {
            "With `partial`, it schedules only tasks whose policy is SCHED_EXT; every other task stays with the kernel's default scheduler."
        }
        OpsFlag::EnqueueMigrationDisabled => {
            "With `enqueue_migration_disabled`, a task that may not leave its CPU goes through `enqueue` too (kernels after 6.12)."
        }
        OpsFlag::AllowQueuedWakeup => {
            "With `allow_queued_wakeup`, a wake-up on another CPU may be finished by that CPU (kernels after 6.12)."
        }
    }
}
