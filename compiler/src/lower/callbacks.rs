//! The sched_ext callbacks: where each policy event and rule runs.

use crate::ir::Function;
use crate::model::*;

use super::topology;
use super::Lowering;

impl Lowering<'_> {
    pub(super) fn event(&self, event: Event) -> Option<&EventHandler> {
        self.model.events.iter().find(|h| h.event == event)
    }

    pub(super) fn event_body(&self, event: Event, out: &mut Vec<String>) {
        if let Some(h) = self.event(event) {
            out.push(String::new());
            out.push(format!("\t{}", self.comment(h.origin)));
            self.stmts(&h.body, 1, h.origin.line, out);
        }
    }

    pub(super) fn callbacks(&self) -> Vec<Function> {
        let mut out = Vec::new();
        out.extend(self.select_cpu());
        out.push(self.enqueue());
        out.push(self.dispatch());
        out.extend(self.runnable());
        out.extend(self.running());
        out.extend(self.tick());
        out.extend(self.stopping());
        out.extend(self.quiescent());
        out.extend(self.cpu_release());
        out.extend(self.enable());
        if self.has_task_state {
            let mut body = Vec::new();
            let template = if self.has_new_task() {
                body.push(if self.has_vtime {
                    "\t/* A copy of the new-task template: its initial values, and vtime_now as its vruntime. */"
                        .to_string()
                } else {
                    "\t/* A copy of the new-task template: its initial values. */".to_string()
                });
                "&schedc_new_task"
            } else {
                "0"
            };
            body.push(format!(
                "\tif (!bpf_task_storage_get(&schedc_tasks, p, {template}, BPF_LOCAL_STORAGE_GET_F_CREATE))"
            ));
            body.push("\t\treturn -12; /* -ENOMEM */".to_string());
            body.push("\treturn 0;".to_string());
            out.push(self.callback(
                "init_task",
                "s32",
                "struct task_struct *p, struct scx_init_task_args *args",
                "/* Every task gets its per-task state before it joins. */".to_string(),
                body,
            ));
        }
        out.extend(self.hotplug());
        out.push(self.init());
        out.push(self.callback(
            "exit",
            "void",
            "struct scx_exit_info *ei",
            "/* Keep the kernel's reason for stopping us, for the runtime to print. */".to_string(),
            vec!["\tschedc_record_exit(ei);".to_string()],
        ));
        out
    }

    /// ops.cpu_online / ops.cpu_offline, when there is hotplug state to
    /// keep: offline CPUs whose queues need draining, the CPU count. Without
    /// them the kernel stops the scheduler on hotplug and asks for a restart.
    pub(super) fn hotplug(&self) -> Vec<Function> {
        if !self.has_per_cpu && !self.counts_cpus() {
            return Vec::new();
        }
        let (mut online, mut offline) = (Vec::new(), Vec::new());
        if self.has_per_cpu {
            // The kernel runs hotplug callbacks one at a time: no atomics.
            online.extend(
                [
                    "\tu32 nr_offline = schedc_nr_offline;",
                    "\ts32 slot;",
                    "",
                    "\t/* Off the offline list: the last entry takes its place. */",
                    "\tbpf_for(slot, 0, nr_offline) {",
                    "\t\tif (slot >= SCHEDC_MAX_CPUS)",
                    "\t\t\tbreak;",
                    "\t\tif (schedc_offline_cpus[slot] == cpu) {",
                    "\t\t\tschedc_offline_cpus[slot] = schedc_offline_cpus[(nr_offline - 1) & (SCHEDC_MAX_CPUS - 1)];",
                    "\t\t\tschedc_nr_offline = nr_offline - 1;",
                    "\t\t\tbreak;",
                    "\t\t}",
                    "\t}",
                ]
                .map(String::from),
            );
            offline.extend(
                [
                    "\tu32 nr_offline = schedc_nr_offline;",
                    "",
                    "\t/* Onto the offline list, whose per-CPU queues dispatch drains. */",
                    "\tif (nr_offline < SCHEDC_MAX_CPUS) {",
                    "\t\tschedc_offline_cpus[nr_offline] = cpu;",
                    "\t\tschedc_nr_offline = nr_offline + 1;",
                    "\t}",
                ]
                .map(String::from),
            );
        }
        if self.counts_cpus() {
            online.push("\t__sync_fetch_and_add(&schedc_nr_cpus, 1);".to_string());
            // The last CPU never goes offline; the count stays at least 1.
            offline.push("\tif (schedc_nr_cpus > 1)".to_string());
            offline.push("\t\t__sync_fetch_and_sub(&schedc_nr_cpus, 1);".to_string());
        }
        let comment = "/* Hotplug: keep the list of offline CPUs, and the count of online ones. */".to_string();
        vec![
            self.callback("cpu_online", "void", "s32 cpu", comment, online),
            self.callback("cpu_offline", "void", "s32 cpu", String::new(), offline),
        ]
    }

    pub(super) fn select_cpu(&self) -> Option<Function> {
        let m = self.model;
        if m.select.is_none() && self.event(Event::Wakeup).is_none() && !self.tracks_cpu_selected() {
            return None;
        }
        let mut body = self.prologue(&["s32 cpu;"], &["return prev_cpu"]);
        if self.tracks_cpu_selected() {
            body.push(String::new());
            body.push("	/* event.cpu_selected: true in ops.enqueue unless the task is inserted here. */".to_string());
            body.push("	tctx->schedc_cpu_selected = true;".to_string());
        }
        self.event_body(Event::Wakeup, &mut body);
        body.push(String::new());
        let comment;
        match &m.select {
            Some(select) if !select.preferences.is_empty() => {
                comment = self.comment(select.origin);
                let task = if self.has_task_state { ", tctx" } else { "" };
                match select.default_origin {
                    // `default` last: the kernel's choice when no preference found a CPU.
                    Some(origin) => {
                        body.push("\tbool is_idle = false;".to_string());
                        body.push(String::new());
                        body.push(format!("\tcpu = schedc_pick_idle_cpu(p, prev_cpu, wake_flags{task});"));
                        body.push("\tif (cpu < 0) {".to_string());
                        body.push(format!("\t\t{}", self.comment(origin)));
                        body.push(
                            "\t\tcpu = schedc_select_cpu_default(p, prev_cpu, wake_flags, &is_idle);".to_string(),
                        );
                        body.push("\t\tif (!is_idle)".to_string());
                        body.push("\t\t\treturn cpu;".to_string());
                        body.push("\t}".to_string());
                    }
                    None => {
                        body.push(format!("\tcpu = schedc_pick_idle_cpu(p, prev_cpu, wake_flags{task});"));
                        body.push("\tif (cpu < 0)".to_string());
                        body.push("\t\treturn prev_cpu;".to_string());
                    }
                }
                self.found(select, &mut body);
            }
            Some(select) => {
                comment = self.comment(select.origin);
                body.push("\tbool is_idle = false;".to_string());
                body.push(String::new());
                if let Some(origin) = select.default_origin {
                    body.push(format!("\t{}", self.comment(origin)));
                }
                body.push("\tcpu = schedc_select_cpu_default(p, prev_cpu, wake_flags, &is_idle);".to_string());
                body.push("\tif (!is_idle)".to_string());
                body.push("\t\treturn cpu;".to_string());
                self.found(select, &mut body);
            }
            None => {
                comment =
                    "/* No select_cpu in the policy: the kernel's default choice, run at once if idle. */".to_string();
                body.push("\tbool is_idle = false;".to_string());
                body.push(String::new());
                body.push("\tcpu = schedc_select_cpu_default(p, prev_cpu, wake_flags, &is_idle);".to_string());
                let insert = format!("schedc_insert(p, SCHEDC_DSQ_LOCAL, {}, 0);", self.slice_call());
                if self.tracks_cpu_selected() {
                    body.push("\tif (is_idle) {".to_string());
                    body.push(format!("\t\t{insert}"));
                    body.push("\t\ttctx->schedc_cpu_selected = false;".to_string());
                    body.push("\t}".to_string());
                } else {
                    body.push("\tif (is_idle)".to_string());
                    body.push(format!("\t\t{insert}"));
                }
            }
        }
        body.push("\treturn cpu;".to_string());
        Some(self.callback("select_cpu", "s32", "struct task_struct *p, s32 prev_cpu, u64 wake_flags", comment, body))
    }

    pub(super) fn found(&self, select: &Select, body: &mut Vec<String>) {
        let mut action = Vec::new();
        if self.claims_cpu {
            action.push("schedc_claim(p, cpu);".to_string());
        } else {
            action.push(self.queue_call(select.found, "cpu", "0"));
            if self.tracks_cpu_selected() {
                action.push("tctx->schedc_cpu_selected = false;".to_string());
            }
        }
        if select.kick {
            action.push("scx_bpf_kick_cpu(cpu, SCHEDC_KICK_IDLE);".to_string());
        }
        body.push(String::new());
        body.push(format!("\t{}", self.comment(select.found_origin)));
        match &select.found_when {
            // Otherwise the task goes through ops.enqueue to the CPU found.
            Some(when) => {
                body.push(format!("\tif ({}) {{", self.condition(when)));
                body.extend(action.iter().map(|a| format!("\t\t{a}")));
                body.push("\t}".to_string());
            }
            None => body.extend(action.iter().map(|a| format!("\t{a}"))),
        }
    }

    pub(super) fn enqueue(&self) -> Function {
        let m = self.model;
        let needs_cpu = m.routes.iter().any(|r| {
            // An `idle` route works on the idle CPU it found; only the
            // catch-all falls back to the task's CPU.
            if r.idle {
                r.condition.is_none()
            } else {
                r.kick || r.target.queue().is_some_and(|q| m.queues[q].placement.is_instanced())
            }
        }) || m.preempt.as_ref().is_some_and(|p| matches!(p.victim, Victim::TaskCpu))
            || self.claims_cpu;
        let mut locals: Vec<&str> = if needs_cpu { vec!["s32 cpu = scx_bpf_task_cpu(p);"] } else { Vec::new() };
        if m.routes.iter().any(|r| r.idle) {
            locals.push("s32 idle_cpu;");
        }
        let locals = locals.as_slice();
        // A task without state (its creation failed) still runs, from the
        // kernel's global queue.
        let mut body =
            self.prologue(locals, &["schedc_insert(p, SCHEDC_DSQ_GLOBAL, SCHEDC_SLICE_DFL, enq_flags)", "return"]);
        if self.tracks_cpu_selected() {
            body.push(String::new());
            body.push("\t/* event.cpu_selected: the mark ops.select_cpu left, used once. */".to_string());
            body.push("\tbool schedc_cpu_selected = tctx->schedc_cpu_selected;".to_string());
            body.push("\ttctx->schedc_cpu_selected = false;".to_string());
        }
        if let Some(select) = m.select.as_ref().filter(|_| self.claims_cpu) {
            // Where select_cpu's insert used to be: no enqueue event, no route.
            body.push(String::new());
            body.push(format!("\t{}", self.comment(select.found_origin)));
            body.push("\tif (schedc_claimed(p, cpu)) {".to_string());
            body.push(format!("\t\t{}", self.queue_call(select.found, "cpu", "enq_flags")));
            body.push("\t\treturn;".to_string());
            body.push("\t}".to_string());
        }
        self.event_body(Event::Enqueue, &mut body);
        // The rules form one if / else if / else chain, in policy order.
        for (i, route) in m.routes.iter().enumerate() {
            let on = if route.idle { "idle_cpu" } else { "cpu" };
            let pick = match route.idle_within {
                Some(s) => format!("schedc_idle_in_{}(p, 0)", m.cpusets[s].name),
                None => "schedc_idle_any(p)".to_string(),
            };
            let mut action = Vec::new();
            if route.idle && route.condition.is_none() {
                // The catch-all always queues: on the task's CPU if none is idle.
                action.push(format!("idle_cpu = {pick};"));
                action.push("if (idle_cpu < 0)".to_string());
                action.push("\tidle_cpu = cpu;".to_string());
            }
            action.push(match route.target {
                Target::Local if route.idle => {
                    format!("schedc_insert(p, SCHEDC_DSQ_LOCAL_ON(idle_cpu), {}, enq_flags);", self.slice_call())
                }
                target => self.queue_call(target, on, "enq_flags"),
            });
            if route.kick || route.idle {
                action.push(format!("scx_bpf_kick_cpu({on}, SCHEDC_KICK_IDLE);"));
            }
            let comment = self.comment(route.origin);
            // A conditional `idle` route holds only if an idle CPU is found.
            let idle_test = |c: String| {
                if route.idle && super::expr::encloses_all(&c) {
                    format!("{c} && (idle_cpu = {pick}) >= 0")
                } else if route.idle {
                    format!("({c}) && (idle_cpu = {pick}) >= 0")
                } else {
                    c
                }
            };
            match (&route.condition, i) {
                (None, 0) => {
                    if !body.is_empty() {
                        body.push(String::new());
                    }
                    body.push(format!("\t{comment}"));
                    body.extend(action.iter().map(|a| format!("\t{a}")));
                    continue;
                }
                (None, _) => body.push("\t} else {".to_string()),
                (Some(c), 0) => {
                    if !body.is_empty() {
                        body.push(String::new());
                    }
                    body.push(format!("\tif ({}) {{", idle_test(self.condition(c))));
                }
                (Some(c), _) => body.push(format!("\t}} else if ({}) {{", idle_test(self.condition(c)))),
            }
            body.push(format!("\t\t{comment}"));
            body.extend(action.iter().map(|a| format!("\t\t{a}")));
            if route.condition.is_none() {
                body.push("\t}".to_string());
            }
        }
        if let Some(preempt) = &m.preempt {
            body.push(String::new());
            body.push(format!("\t{}", self.comment(preempt.origin)));
            let test =
                format!("(enq_flags & SCHEDC_ENQ_WAKEUP) && tctx->class == {}", self.class_const(Some(preempt.class)));
            match &preempt.victim {
                Victim::TaskCpu => {
                    body.push(format!("\tif ({test} &&"));
                    body.push("\t    schedc_running_below(cpu, tctx->class))".to_string());
                    body.push("\t\tscx_bpf_kick_cpu(cpu, SCHEDC_KICK_PREEMPT);".to_string());
                }
                Victim::At(e) => {
                    // A CPU number the kernel does not have would make
                    // scx_bpf_kick_cpu() eject the scheduler: checked first.
                    body.push(format!("\tif ({test}) {{"));
                    body.push(format!("\t\ts64 schedc_victim = {};", self.expr(e)));
                    body.push(String::new());
                    body.push("\t\tif (schedc_victim >= 0 && schedc_victim < scx_bpf_nr_cpu_ids() &&".to_string());
                    body.push("\t\t    schedc_running_below((s32)schedc_victim, tctx->class))".to_string());
                    body.push("\t\t\tscx_bpf_kick_cpu((s32)schedc_victim, SCHEDC_KICK_PREEMPT);".to_string());
                    body.push("\t}".to_string());
                }
                Victim::Lowest => {
                    body.push(format!("\tif ({test}) {{"));
                    body.push("\t\ts32 schedc_victim = schedc_lowest_running(p, tctx->class);".to_string());
                    body.push(String::new());
                    body.push("\t\tif (schedc_victim >= 0)".to_string());
                    body.push("\t\t\tscx_bpf_kick_cpu(schedc_victim, SCHEDC_KICK_PREEMPT);".to_string());
                    body.push("\t}".to_string());
                }
            }
        }
        let comment = if self.claims_cpu {
            "/* A task became runnable: onto the idle CPU it claimed, if it is queued there; else route it. */"
        } else {
            "/* A task became runnable and no idle CPU took it: route it to a queue. */"
        }
        .to_string();
        self.callback("enqueue", "void", "struct task_struct *p, u64 enq_flags", comment, body)
    }

    pub(super) fn dispatch(&self) -> Function {
        let m = self.model;
        let mut body = Vec::new();
        let starving: Vec<&Serve> = m.dispatch.iter().filter(|s| s.starve_after.is_some()).collect();
        if !starving.is_empty() {
            body.push("\tu64 now = bpf_ktime_get_ns();".to_string());
            body.push(String::new());
        }
        if self.has_per_cpu {
            // Before any queue of the policy: under load those never run
            // dry, and a stranded task would wait until its CPU returns.
            body.push("\t/* Tasks stranded on the queue of an offline CPU run first. */".to_string());
            body.push("\tif (schedc_drain_offline())".to_string());
            body.push("\t\treturn;".to_string());
        }
        if !starving.is_empty() {
            if self.has_per_cpu {
                body.push(String::new());
            }
            body.push("\t/* Starvation limits first, lowest queue first: a limit of 0 turns one off. */".to_string());
            for serve in starving.iter().rev() {
                // Operand of `>`: parenthesised if it binds looser (e.g. `?:`).
                let limit = self.at_least(serve.starve_after.as_ref().expect("filtered"), 11);
                body.push(format!("\t{}", self.comment(serve.origin)));
                let when = serve.when.as_ref().map(|w| format!("{} && ", self.at_least(w, 5))).unwrap_or_default();
                let since = self.served_at(serve.queue);
                body.push(format!("\tif ({when}{limit} > 0 && (s64)(now - {since}) > {limit} &&"));
                body.push(format!("\t    schedc_serve_{}(now))", m.queues[serve.queue].name));
                body.push("\t\treturn;".to_string());
            }
        }
        for (i, serve) in m.dispatch.iter().enumerate() {
            if !body.is_empty() {
                body.push(String::new());
            }
            body.push(format!("\t{}", self.comment(serve.origin)));
            let call = if serve.starve_after.is_some() {
                format!("schedc_serve_{}(now)", m.queues[serve.queue].name)
            } else if serve.group != ServeGroup::One {
                self.group_call(serve)
            } else {
                format!("schedc_move_to_local({})", self.queue_id(serve.queue, "cpu"))
            };
            // `when` guards the line: `&&` skips the serve while it is false.
            let when = serve.when.as_ref().map(|w| self.at_least(w, 5));
            // The last line needs no early return.
            if i + 1 == m.dispatch.len() && m.keep_running.is_none() {
                match when {
                    Some(w) => {
                        body.push(format!("\tif ({w})"));
                        body.push(format!("\t\t{call};"));
                    }
                    None => body.push(format!("\t{call};")),
                }
            } else {
                let test = when.map(|w| format!("{w} && {call}")).unwrap_or(call);
                body.push(format!("\tif ({test})"));
                body.push("\t\treturn;".to_string());
            }
        }
        if let Some(origin) = m.keep_running {
            body.push(String::new());
            body.push(format!("\t{}", self.comment(origin)));
            match &m.keep_running_when {
                Some(w) => {
                    body.push(format!("\tif ({}) {{", self.condition(w)));
                    body.extend(self.keep_running().into_iter().map(|l| format!("\t{l}")));
                    body.push("\t}".to_string());
                }
                None => body.extend(self.keep_running()),
            }
        }
        let comment = "/* A CPU needs work: serve the queues in the policy's order. */".to_string();
        self.callback("dispatch", "void", "s32 cpu, struct task_struct *prev", comment, body)
    }

    /// ops.runnable: `on runnable`, and the runtime noted at a wake-up for
    /// `task.awake_runtime`.
    pub(super) fn runnable(&self) -> Option<Function> {
        if !self.tracks_awake_runtime() && self.event(Event::Runnable).is_none() {
            return None;
        }
        let mut body = self.prologue(&[], &["return"]);
        let mut note = Vec::new();
        if self.tracks_awake_runtime() {
            note.push(String::new());
            note.push("\t/* task.awake_runtime counts from here after a wake-up. */".to_string());
            note.push("\tif (enq_flags & SCHEDC_ENQ_WAKEUP)".to_string());
            note.push("\t\ttctx->schedc_woke_runtime = p->se.sum_exec_runtime;".to_string());
        }
        // The note goes first if `on runnable` reads task.awake_runtime;
        // otherwise last, which nothing can tell apart, and where its branch
        // leaves the verifier one short path instead of two whole ones.
        match self.event(Event::Runnable) {
            Some(h) if !self.block_reads(&h.body, Fact::TaskAwakeRuntime) => {
                self.event_body(Event::Runnable, &mut body);
                body.extend(note);
            }
            _ => {
                body.extend(note);
                self.event_body(Event::Runnable, &mut body);
            }
        }
        Some(self.callback(
            "runnable",
            "void",
            "struct task_struct *p, u64 enq_flags",
            "/* A task becomes runnable: it woke up, or was created or moved here. */".to_string(),
            body,
        ))
    }

    /// ops.quiescent: `on quiescent`.
    pub(super) fn quiescent(&self) -> Option<Function> {
        self.event(Event::Quiescent)?;
        let mut body = self.prologue(&[], &["return"]);
        self.event_body(Event::Quiescent, &mut body);
        Some(self.callback(
            "quiescent",
            "void",
            "struct task_struct *p, u64 deq_flags",
            "/* A task stops being runnable: it sleeps, or leaves the scheduler. */".to_string(),
            body,
        ))
    }

    /// ops.cpu_release: `on cpu_release`. No task: the CPU was taken by a
    /// higher-priority scheduling class (real-time, deadline, stop).
    pub(super) fn cpu_release(&self) -> Option<Function> {
        let h = self.event(Event::CpuRelease)?;
        let mut body = vec![format!("\t{}", self.comment(h.origin))];
        self.stmts(&h.body, 1, h.origin.line, &mut body);
        Some(self.callback(
            "cpu_release",
            "void",
            "s32 cpu, struct scx_cpu_release_args *args",
            "/* A higher-priority scheduling class took this CPU from the scheduler. */".to_string(),
            body,
        ))
    }

    /// ops.tick: `on tick`, for the task running on the ticking CPU. It
    /// runs at every tick of every busy CPU, so the task's state is looked
    /// up only when the block uses it.
    pub(super) fn tick(&self) -> Option<Function> {
        self.event(Event::Tick)?;
        let mut rules = Vec::new();
        self.event_body(Event::Tick, &mut rules);
        let uses_state = rules.iter().any(|l| !l.trim_start().starts_with("/*") && l.contains("tctx"));
        let mut body = if uses_state { self.prologue(&[], &["return"]) } else { Vec::new() };
        if body.is_empty() && rules.first().is_some_and(String::is_empty) {
            rules.remove(0);
        }
        body.extend(rules);
        Some(self.callback(
            "tick",
            "void",
            "struct task_struct *p",
            "/* A scheduler tick on a busy CPU: @p is the task running there. */".to_string(),
            body,
        ))
    }

    pub(super) fn running(&self) -> Option<Function> {
        let m = self.model;
        let util = self.uses_util();
        if !self.has_vtime && m.preempt.is_none() && self.event(Event::Running).is_none() && !util {
            return None;
        }
        let mut body = Vec::new();
        if util {
            body.push("\t/* cpu.util: the CPU is busy from now. */".to_string());
            body.push("\tschedc_util_account(true);".to_string());
        }
        body.extend(self.prologue(&[], &["return"]));
        if self.has_vtime {
            body.push(String::new());
            body.push("\t/* vtime_now follows the most advanced running task. */".to_string());
            body.push("\tif ((s64)(tctx->vruntime - schedc_vtime_now) > 0)".to_string());
            body.push("\t\tschedc_vtime_now = tctx->vruntime;".to_string());
        }
        if m.preempt.is_some() {
            body.push("\tschedc_set_running_class(scx_bpf_task_cpu(p), tctx->class);".to_string());
        }
        self.event_body(Event::Running, &mut body);
        Some(self.callback("running", "void", "struct task_struct *p", "/* A task got a CPU. */".to_string(), body))
    }

    pub(super) fn stopping(&self) -> Option<Function> {
        let m = self.model;
        let util = self.uses_util();
        if !self.has_vtime && m.preempt.is_none() && self.event(Event::Stopping).is_none() && !util {
            return None;
        }
        let mut body = Vec::new();
        if util {
            body.push("\t/* cpu.util: the CPU was busy until now. */".to_string());
            body.push("\tschedc_util_account(false);".to_string());
        }
        body.extend(self.prologue(&[], &["return"]));
        if let Some(charge) = m.vtime_charge.as_ref().filter(|_| self.has_vtime) {
            body.push(String::new());
            body.push(format!("\t{}", self.comment(charge.origin)));
            let cast = if self.charge_proven_non_negative() { "(u64)" } else { "" };
            body.push(format!("\ttctx->vruntime += {cast}schedc_vtime_charge({}, runnable);", self.task_args()));
        }
        if m.preempt.is_some() {
            body.push("\tschedc_set_running_class(scx_bpf_task_cpu(p), CLASS_NONE);".to_string());
        }
        self.event_body(Event::Stopping, &mut body);
        Some(self.callback(
            "stopping",
            "void",
            "struct task_struct *p, bool runnable",
            "/* A task gives up its CPU. */".to_string(),
            body,
        ))
    }

    pub(super) fn enable(&self) -> Option<Function> {
        let m = self.model;
        // The state ops.init_task creates is a copy of the new-task template,
        // with the constant initial values and vtime_now as the vruntime.
        // ops.enable is left for what is known only when the task joins.
        // With switch_partial a task may join long after init_task: it
        // starts at vtime_now as of then.
        let late_join = self.has_vtime && m.ops_flags.contains(&OpsFlag::Partial);
        if !self.has_dynamic_init() && m.samplers == 0 && !late_join && self.event(Event::Join).is_none() {
            return None;
        }
        let mut body = self.prologue(&[], &["return"]);
        if self.has_vtime {
            body.push(String::new());
            body.push("\t/* A new task starts at the current vruntime. */".to_string());
            body.push("\ttctx->vruntime = schedc_vtime_now;".to_string());
        }
        for v in &m.task_vars {
            if matches!(v.init.kind, ExprKind::Const(_)) {
                continue; // in the new-task template
            }
            body.push(format!("\t{}", self.comment(v.origin)));
            body.push(format!("\ttctx->{} = {};", v.name, self.expr(&v.init)));
        }
        if self.tracks_awake_runtime() {
            body.push("\t/* task.awake_runtime counts from the moment the task joins. */".to_string());
            body.push("\ttctx->schedc_woke_runtime = p->se.sum_exec_runtime;".to_string());
        }
        if m.samplers > 0 {
            body.push("\t/* `every` blocks count from the moment the task joins. */".to_string());
            for s in 0..m.samplers {
                body.push(format!("\ttctx->{} = bpf_ktime_get_ns();", self.sampler_field(s)));
            }
        }
        self.event_body(Event::Join, &mut body);
        Some(self.callback(
            "enable",
            "void",
            "struct task_struct *p",
            "/* A task joins the scheduler. */".to_string(),
            body,
        ))
    }

    pub(super) fn init(&self) -> Function {
        let m = self.model;
        let mut body = vec!["\ts32 err;".to_string()];
        let per_cpu: Vec<usize> = (0..m.queues.len()).filter(|q| m.queues[*q].placement == Placement::PerCpu).collect();
        if self.counts_cpus() {
            body.push("\tconst struct cpumask *online;".to_string());
        }
        if !per_cpu.is_empty() {
            body.push("\ts32 cpu;".to_string());
        }
        body.push(String::new());
        if !per_cpu.is_empty() {
            body.push("\tbpf_for(cpu, 0, scx_bpf_nr_cpu_ids()) {".to_string());
            for q in &per_cpu {
                body.push(format!("\t\terr = scx_bpf_create_dsq({}, -1);", self.queue_id(*q, "cpu")));
                body.push("\t\tif (err)".to_string());
                body.push("\t\t\treturn err;".to_string());
            }
            body.push("\t}".to_string());
        }
        if topology::Domain::ALL.into_iter().any(|d| self.has_domain(d)) {
            body.push("\terr = schedc_create_domain_queues();".to_string());
            body.push("\tif (err)".to_string());
            body.push("\t\treturn err;".to_string());
        }
        if self.counts_cpus() {
            // From the kernel, so the object is right whoever loads it.
            body.push("\t/* system.nr_cpus: the CPUs online now. */".to_string());
            body.push("\tonline = scx_bpf_get_online_cpumask();".to_string());
            body.push("\tschedc_nr_cpus = bpf_cpumask_weight(online);".to_string());
            body.push("\tscx_bpf_put_cpumask(online);".to_string());
        }
        for q in (0..m.queues.len()).filter(|q| m.queues[*q].placement == Placement::Shared) {
            body.push(format!("\terr = scx_bpf_create_dsq({}, -1);", self.queue_id(q, "cpu")));
            body.push("\tif (err)".to_string());
            body.push("\t\treturn err;".to_string());
        }
        // Initial values that depend on parameters are computed at load.
        for g in &m.globals {
            if !matches!(g.init.kind, ExprKind::Const(_)) {
                body.push(format!("\t{}", self.comment(g.origin)));
                body.push(format!("\t{} = {};", g.name, self.expr(&g.init)));
            }
        }
        for s in &m.stats {
            if let StatSource::Variable(e) = &s.source {
                if !matches!(e.kind, ExprKind::Const(_)) {
                    body.push(format!("\t{}", self.comment(s.origin)));
                    body.push(format!("\t{} = {};", s.name, self.expr(e)));
                }
            }
        }
        let starving: Vec<usize> = m.dispatch.iter().filter(|s| s.starve_after.is_some()).map(|s| s.queue).collect();
        for q in starving {
            body.push(format!("\t{} = bpf_ktime_get_ns();", self.served_at(q)));
        }
        if m.cpusets.iter().any(|s| s.picked) {
            body.push("\t/* The CPU sets of idle picks, as kernel cpumasks. */".to_string());
            body.push("\terr = schedc_cpusets_init();".to_string());
            body.push("\tif (err)".to_string());
            body.push("\t\treturn err;".to_string());
        }
        if let Some(timer) = &m.timer {
            // Last: the block may read the globals computed above.
            body.push(format!("\t{}", self.comment(timer.origin)));
            body.push("\terr = schedc_start_timer();".to_string());
            body.push("\tif (err)".to_string());
            body.push("\t\treturn err;".to_string());
        }
        body.push("\treturn 0;".to_string());
        self.callback("init", "s32", "", "/* Load time: create the queues. */".to_string(), body)
    }
}
