//! Helper functions of the generated C: formulas, queue inserts, idle-CPU
//! preferences, starvation bookkeeping and preemption.

use crate::ir::Function;
use crate::model::*;

use super::{Lowering, GLOBAL_APART, GLOBAL_ONCE};

/// Global functions must return a value on 6.12; callers ignore it.
const INSERT_RETURN: &str = "\treturn 0;";

impl Lowering<'_> {
    /// A helper computing a formula: its statements, then its value.
    pub(super) fn formula_helper(&self, name: &str, ret: &str, f: &Formula, why: &str) -> Function {
        let mut body = Vec::new();
        self.stmts(&f.stmts, 1, f.origin.line, &mut body);
        body.push(format!("\treturn {};", self.expr(&f.result)));
        Function {
            comment: format!("/* {why} */\n{}", self.comment(f.origin)),
            signature: format!("static __always_inline {ret} {name}({})", self.task_params()),
            body,
            member: None,
        }
    }

    /// The vruntime charge, which never moves a vruntime back: a charge the
    /// checker could not prove never negative is taken as 0 when it is.
    pub(super) fn vtime_charge_helper(&self, charge: &Formula) -> Function {
        let why = "How much vruntime a task is charged when it stops";
        let mut f = if self.charge_proven_non_negative() {
            self.formula_helper("schedc_vtime_charge", "s64", charge, &format!("{why}."))
        } else {
            let mut f = self.formula_helper("schedc_vtime_charge", "u64", charge, &format!("{why}; never negative."));
            let result = f.body.pop().expect("the formula's return");
            let value = result.trim_start_matches("\treturn ").trim_end_matches(';');
            f.body.push(format!("\ts64 charge = {value};"));
            f.body.push(String::new());
            f.body.push("\treturn charge > 0 ? (u64)charge : 0;".to_string());
            f
        };
        f.signature = f.signature.replace(')', ", bool runnable)");
        f
    }

    pub(super) fn charge_proven_non_negative(&self) -> bool {
        let m = self.model;
        m.vtime_charge.as_ref().is_some_and(|f| crate::check::sign::never_negative(f, &m.params, &m.functions))
    }

    /// The body of `schedc_slice`, if the policy has a slice formula.
    fn slice_body(&self) -> Option<Vec<String>> {
        let f = self.model.slice.as_ref()?;
        let mut body = Vec::new();
        self.stmts(&f.stmts, 1, f.origin.line, &mut body);
        body.push(format!("\ts64 slice = {};", self.expr(&f.result)));
        body.push(String::new());
        for s in &self.model.stats {
            if matches!(s.source, StatSource::LastSlice) {
                body.push(format!("\t{} = slice;", s.name));
            }
        }
        body.push("\treturn schedc_positive(slice);".to_string());
        Some(body)
    }

    /// Whether the slice formula reads the task's state: if not,
    /// `keep_running` need not look it up.
    pub(super) fn slice_reads_state(&self) -> bool {
        self.has_task_state
            && self
                .slice_body()
                .is_some_and(|body| body.iter().any(|l| !l.trim_start().starts_with("/*") && l.contains("tctx")))
    }

    pub(super) fn slice_helper(&self) -> Option<Function> {
        let f = self.model.slice.as_ref()?;
        let params = if self.slice_reads_state() { self.task_params() } else { "struct task_struct *p" };
        Some(Function {
            comment: format!(
                "/* The slice a task gets each time it is queued; never negative. */\n{}",
                self.comment(f.origin)
            ),
            signature: format!("static __always_inline u64 schedc_slice({params})"),
            body: self.slice_body()?,
            member: None,
        })
    }

    pub(super) fn slice_call(&self) -> String {
        match &self.model.slice {
            Some(_) if self.slice_reads_state() => format!("schedc_slice({})", self.task_args()),
            Some(_) => "schedc_slice(p)".to_string(),
            None => "SCHEDC_SLICE_DFL".to_string(),
        }
    }

    pub(super) fn queued_vtime_helper(&self) -> Function {
        let mut body = Vec::new();
        let floor = match &self.model.vtime_lag {
            Some(f) => {
                body.push(format!("\t{}", self.comment(f.origin)));
                self.stmts(&f.stmts, 1, f.origin.line, &mut body);
                format!("schedc_vtime_now - (u64)({})", self.expr(&f.result))
            }
            // No `vtime lag`: a task may fall no further behind than vtime_now.
            None => "schedc_vtime_now".to_string(),
        };
        body.push(format!("\tu64 floor = {floor};"));
        body.push(String::new());
        body.push("\tif ((s64)(tctx->vruntime - floor) < 0)".to_string());
        body.push("\t\ttctx->vruntime = floor;".to_string());
        body.push("\treturn tctx->vruntime;".to_string());
        Function {
            comment: "/* A task's vruntime when queued: raised to at least vtime_now minus the lag bound. */"
                .to_string(),
            signature: format!("static __always_inline u64 schedc_queued_vtime({})", self.task_params()),
            body,
            member: None,
        }
    }

    /// Where tasks are sent, each with its insert helper.
    pub(super) fn targets(&self) -> Vec<Target> {
        let m = self.model;
        let mut out: Vec<Target> = m.routes.iter().map(|r| r.target).chain(m.select.iter().map(|s| s.found)).collect();
        out.sort_unstable_by_key(|t| t.queue().unwrap_or(usize::MAX));
        out.dedup();
        out
    }

    pub(super) fn queue_helpers(&self) -> Vec<Function> {
        self.targets()
            .into_iter()
            .map(|target| {
                let Target::Queue(q) = target else { return self.local_helper() };
                let queue = &self.model.queues[q];
                let per_cpu = queue.placement.is_instanced();
                let id = self.queue_id(q, "cpu");
                // The slice first, then the vruntime: both may update state.
                let mut body = vec![format!("\tu64 slice = {};", self.slice_call())];
                match queue.order {
                    Order::Fifo => body.push(format!("\n\tschedc_insert(p, {id}, slice, enq_flags);")),
                    Order::Vtime => {
                        body.push(format!("\tu64 vtime = schedc_queued_vtime({});", self.task_args()));
                        if let Some(deadline) = &self.model.vtime_deadline {
                            // Proven never negative by the checker.
                            body.push(format!("\t{}", self.comment(deadline.origin)));
                            body.push(format!("\tvtime += (u64)schedc_deadline({});", self.task_args()));
                        }
                        body.push(format!("\n\tschedc_insert_vtime(p, {id}, slice, vtime, enq_flags);"));
                    }
                }
                for s in &self.model.stats {
                    if matches!(s.source, StatSource::QueueInserted(i) if i == q) {
                        body.push(format!("\t__sync_fetch_and_add(&{}, 1);", s.name));
                    }
                }
                body.push(INSERT_RETURN.to_string());
                let cpu_param = if per_cpu { ", s32 cpu" } else { "" };
                Function {
                    comment: format!(
                        "/* Queues a task on {}. {GLOBAL_ONCE} */\n{}",
                        queue.name,
                        self.comment(queue.origin)
                    ),
                    signature: format!(
                        "SCHEDC_GLOBAL int schedc_queue_{}({}{cpu_param}, u64 enq_flags)",
                        queue.name,
                        self.global_task_params()
                    ),
                    body,
                    member: None,
                }
            })
            .collect()
    }

    /// `-> local`: the task runs next on the CPU it is queued for.
    fn local_helper(&self) -> Function {
        Function {
            comment: format!(
                "/* `-> local`: straight onto the CPU's own local queue, where it runs next. {GLOBAL_ONCE} */"
            ),
            signature: format!("SCHEDC_GLOBAL int schedc_run_local({}, u64 enq_flags)", self.global_task_params()),
            body: vec![
                format!("\tschedc_insert(p, SCHEDC_DSQ_LOCAL, {}, enq_flags);", self.slice_call()),
                INSERT_RETURN.to_string(),
            ],
            member: None,
        }
    }

    pub(super) fn queue_call(&self, target: Target, cpu: &str, flags: &str) -> String {
        let Target::Queue(q) = target else {
            return format!("schedc_run_local({}, {flags});", self.task_args());
        };
        let cpu_arg = if self.model.queues[q].placement.is_instanced() { format!(", {cpu}") } else { String::new() };
        format!("schedc_queue_{}({}{cpu_arg}, {flags});", self.model.queues[q].name, self.task_args())
    }

    /// A helper per queue with a starvation limit: serve it and record when.
    pub(super) fn serve_helpers(&self) -> Vec<Function> {
        self.model
            .dispatch
            .iter()
            .filter(|s| s.starve_after.is_some())
            .map(|s| Function {
                comment: format!("/* Serves `{}` and records when. */", self.model.queues[s.queue].name),
                signature: format!(
                    "static __always_inline bool schedc_serve_{}(u64 now)",
                    self.model.queues[s.queue].name
                ),
                body: vec![
                    format!("\tif (!schedc_move_to_local({}))", self.queue_id(s.queue, "cpu")),
                    "\t\treturn false;".to_string(),
                    format!("\t{} = now;", self.served_at(s.queue)),
                    "\treturn true;".to_string(),
                ],
                member: None,
            })
            .collect()
    }

    /// One offline CPU's per-CPU queues per dispatch, in turn: no loop, so
    /// the verifier walks it once (a loop over every CPU with the online
    /// mask cost dispatch about 110 instructions). A stranded task moves
    /// within as many dispatches, on any CPU, as there are CPUs offline.
    pub(super) fn drain_offline_helper(&self) -> Function {
        let per_cpu: Vec<usize> =
            (0..self.model.queues.len()).filter(|q| self.model.queues[*q].placement == Placement::PerCpu).collect();
        let moves: Vec<String> =
            per_cpu.iter().map(|q| format!("schedc_move_to_local({})", self.queue_id(*q, "cpu"))).collect();
        let body = vec![
            "\tu32 nr_offline = schedc_nr_offline;".to_string(),
            "\ts32 cpu;".to_string(),
            String::new(),
            "\tif (!nr_offline)".to_string(),
            "\t\treturn false;".to_string(),
            "\t/* The next offline CPU in turn (the mask is for the verifier: there are at most SCHEDC_MAX_CPUS). */"
                .to_string(),
            "\tschedc_drain_turn += 1;".to_string(),
            "\tcpu = schedc_offline_cpus[(schedc_drain_turn % nr_offline) & (SCHEDC_MAX_CPUS - 1)];".to_string(),
            format!("\treturn {};", moves.join(" ||\n\t       ")),
        ];
        Function {
            comment: format!(
                "/* Runs a task left on the per-CPU queue of a CPU that went offline, one such CPU per call, in turn. {GLOBAL_APART} */"
            ),
            signature: "SCHEDC_GLOBAL bool schedc_drain_offline(void)".to_string(),
            body,
            member: None,
        }
    }

    /// select_cpu may not insert into a per-CPU queue itself: the kernel can
    /// still run the task elsewhere (the CPU going offline), and the task
    /// would wait on a queue no CPU serves. It claims the CPU instead.
    pub(super) fn claim_helpers(&self) -> [Function; 2] {
        [
            Function {
                comment: "/* select_cpu found idle @cpu for @p: ops.enqueue queues @p there if the kernel does. */"
                    .to_string(),
                signature: "static __always_inline void schedc_claim(struct task_struct *p, s32 cpu)".to_string(),
                body: vec![
                    "\tif (cpu >= 0 && cpu < SCHEDC_MAX_CPUS)".to_string(),
                    "\t\tschedc_claimed_by[cpu] = p->pid;".to_string(),
                ],
                member: None,
            },
            Function {
                comment: "/* Whether @p, queued on @cpu, is the task that claimed it; uses the claim up. */"
                    .to_string(),
                signature: "static __always_inline bool schedc_claimed(struct task_struct *p, s32 cpu)".to_string(),
                body: vec![
                    "\tif (cpu < 0 || cpu >= SCHEDC_MAX_CPUS || schedc_claimed_by[cpu] != p->pid)".to_string(),
                    "\t\treturn false;".to_string(),
                    "\tschedc_claimed_by[cpu] = 0;".to_string(),
                    "\treturn true;".to_string(),
                ],
                member: None,
            },
        ]
    }

    pub(super) fn preempt_helpers(&self) -> [Function; 2] {
        [
            Function {
                comment: "/* Records the class of the task now running on @cpu. */".to_string(),
                signature: "static __always_inline void schedc_set_running_class(s32 cpu, u8 class)".to_string(),
                body: vec![
                    "\tif (cpu >= 0 && cpu < SCHEDC_MAX_CPUS)".to_string(),
                    "\t\tschedc_running_class[cpu] = class;".to_string(),
                ],
                member: None,
            },
            Function {
                comment: "/* Whether @cpu runs a task of a class below @class; CLASS_NONE is the lowest. */"
                    .to_string(),
                signature: "static __always_inline bool schedc_running_below(s32 cpu, u8 class)".to_string(),
                body: vec![
                    "\tu8 running;".to_string(),
                    String::new(),
                    "\tif (cpu < 0 || cpu >= SCHEDC_MAX_CPUS)".to_string(),
                    "\t\treturn false;".to_string(),
                    "\trunning = schedc_running_class[cpu];".to_string(),
                    "\treturn running == CLASS_NONE || running > class;".to_string(),
                ],
                member: None,
            },
        ]
    }

    /// `preempt CLASS at lowest`: the CPU to kick, among those @p may use.
    pub(super) fn lowest_running_helper(&self) -> Function {
        let body = [
            "\tu32 nr = scx_bpf_nr_cpu_ids(), start = scx_bpf_task_cpu(p), cpu;",
            "\ts32 i, victim = -1;",
            "\tu8 lowest = class, running;",
            "",
            "\tif (nr > SCHEDC_MAX_CPUS)",
            "\t\tnr = SCHEDC_MAX_CPUS;",
            "\t/* From the task's own CPU on, so that no CPU is always asked first. */",
            "\tbpf_for(i, 0, nr) {",
            "\t\tcpu = start + i;",
            "\t\tif (cpu >= nr)",
            "\t\t\tcpu -= nr;",
            "\t\tif (cpu >= SCHEDC_MAX_CPUS || !bpf_cpumask_test_cpu(cpu, p->cpus_ptr))",
            "\t\t\tcontinue;",
            "\t\trunning = schedc_running_class[cpu];",
            "\t\t/* No class ranks lowest: nothing can be below it. */",
            "\t\tif (running == CLASS_NONE)",
            "\t\t\treturn (s32)cpu;",
            "\t\tif (running > lowest) {",
            "\t\t\tlowest = running;",
            "\t\t\tvictim = (s32)cpu;",
            "\t\t}",
            "\t}",
            "\treturn victim;",
        ];
        Function {
            comment: "/* Of the CPUs @p may use, one whose running task ranks lowest, if below @class; else -1. A global function: verified once. */".to_string(),
            signature: "SCHEDC_GLOBAL s32 schedc_lowest_running(struct task_struct *p __arg_trusted, u8 class)".to_string(),
            body: body.iter().map(|l| l.to_string()).collect(),
            member: None,
        }
    }

    /// `on timer`: the timer's callback, which runs the block and re-arms
    /// the timer, and its first start, called by ops.init.
    pub(super) fn timer_helpers(&self, timer: &Timer) -> [Function; 2] {
        let period = self.expr(&timer.period);
        let mut fired = vec![String::new(), format!("\t{}", self.comment(timer.origin))];
        self.stmts(&timer.body, 1, timer.origin.line, &mut fired);
        fired.push(String::new());
        fired.push("\t/* Again in one period: the timer fires once per start. */".to_string());
        fired.push(format!("\tbpf_timer_start(&schedc_value->timer, {period}, 0);"));
        fired.push("\treturn 0;".to_string());
        fired.remove(0);
        [
            Function {
                comment: "/* Every period, for the whole scheduler: the `on timer` block. */".to_string(),
                signature: "static int schedc_timer_fired(void *schedc_map, u32 *schedc_key, struct schedc_timer *schedc_value)".to_string(),
                body: fired,
                member: None,
            },
            Function {
                comment: "/* Starts the `on timer` timer: its first period begins at load. */".to_string(),
                signature: "static __always_inline s32 schedc_start_timer(void)".to_string(),
                body: vec![
                    "\tu32 schedc_key = 0;".to_string(),
                    "\tstruct schedc_timer *schedc_value = bpf_map_lookup_elem(&schedc_timer, &schedc_key);"
                        .to_string(),
                    "\ts32 schedc_err;".to_string(),
                    String::new(),
                    "\tif (!schedc_value)".to_string(),
                    "\t\treturn -2; /* -ENOENT: an array always has its one entry */".to_string(),
                    "\tschedc_err = bpf_timer_init(&schedc_value->timer, &schedc_timer, SCHEDC_CLOCK_MONOTONIC);"
                        .to_string(),
                    "\tif (schedc_err)".to_string(),
                    "\t\treturn schedc_err;".to_string(),
                    "\tschedc_err = bpf_timer_set_callback(&schedc_value->timer, schedc_timer_fired);".to_string(),
                    "\tif (schedc_err)".to_string(),
                    "\t\treturn schedc_err;".to_string(),
                    format!("\treturn bpf_timer_start(&schedc_value->timer, {period}, 0);"),
                ],
                member: None,
            },
        ]
    }

    /// The search of a preference over every CPU the task may use.
    fn pick_call(&self, kind: PreferenceKind) -> &'static str {
        match kind {
            PreferenceKind::PrevCore => "schedc_idle_prev_core(p, prev_cpu)",
            PreferenceKind::IdleCore => "schedc_idle_any_core(p)",
            PreferenceKind::Prev => "schedc_idle_prev(p, prev_cpu)",
            PreferenceKind::PrevLlc => "schedc_idle_prev_llc(p, prev_cpu)",
            PreferenceKind::Waker => "schedc_sync_waker_cpu(p, wake_flags)",
            PreferenceKind::Any | PreferenceKind::Pinned => "schedc_idle_any(p)",
        }
    }

    pub(super) fn pick_idle_helper(&self, select: &Select) -> Function {
        let mut body = vec!["\ts32 cpu;".to_string()];
        for pref in &select.preferences {
            body.push(String::new());
            body.push(format!("\t{}", self.comment(pref.origin)));
            let cond = pref.when.as_ref().map(|w| self.expr(w));
            if pref.kind == PreferenceKind::Pinned {
                // A pinned task can only run on its one CPU: stop looking here.
                let test = match &cond {
                    Some(c) => format!("p->nr_cpus_allowed == 1 && ({c})"),
                    None => "p->nr_cpus_allowed == 1".to_string(),
                };
                body.push(format!("\tif ({test})"));
                body.push("\t\treturn schedc_idle_pinned(p, prev_cpu);".to_string());
                continue;
            }
            let within = pref.within.map(|s| &self.model.cpusets[s].name);
            let call = match (pref.kind, within) {
                (PreferenceKind::IdleCore, Some(set)) => format!("schedc_idle_in_{set}(p, SCHEDC_PICK_IDLE_CORE)"),
                (_, Some(set)) => format!("schedc_idle_in_{set}(p, 0)"),
                (kind, None) => self.pick_call(kind).to_string(),
            };
            let (tabs, open) = match &cond {
                Some(c) => {
                    body.push(format!("\tif ({c}) {{"));
                    ("\t\t", true)
                }
                None => ("\t", false),
            };
            body.push(format!("{tabs}cpu = {call};"));
            body.push(format!("{tabs}if (cpu >= 0)"));
            body.push(format!("{tabs}\treturn cpu;"));
            if open {
                body.push("\t}".to_string());
            }
        }
        body.push("\treturn -1;".to_string());
        let task = if self.has_task_state { ", struct schedc_task *tctx" } else { "" };
        Function {
            comment: format!("/* The idle CPU a waking task should take, in the policy's order of preference; -1 if none. */\n{}", self.comment(select.origin)),
            signature: format!("static __always_inline s32 schedc_pick_idle_cpu(struct task_struct *p, s32 prev_cpu, u64 wake_flags{task})"),
            body,
            member: None,
        }
    }
}
