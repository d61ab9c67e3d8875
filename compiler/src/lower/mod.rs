//! Lowering: a checked [`Model`] becomes the C-shaped [`ir::Program`].
//!
//! This is where the policy's words turn into sched_ext callbacks. Nothing
//! here can fail: every question about the policy was settled by the checker.

mod expr;
mod manifest;

use crate::ir::{self, ClassConst, Field, Function, Global, QueueId};
use crate::model::*;

use expr::{comment_text, constant, value_c_type};

/// Lowers a checked policy. `src` and `file_name` are used for the comments
/// that tie each piece of C to its policy line.
pub fn lower(model: &Model, src: &str, file_name: &str) -> ir::Program {
    let l = Lowering::new(model, src, file_name);
    l.program()
}

pub(crate) struct Lowering<'a> {
    model: &'a Model,
    lines: Vec<&'a str>,
    file_name: String,
    has_task_state: bool,
    has_vtime: bool,
    has_per_cpu: bool,
}

impl<'a> Lowering<'a> {
    fn new(model: &'a Model, src: &'a str, file_name: &str) -> Self {
        let base = std::path::Path::new(file_name).file_name().map_or(file_name.to_string(), |f| f.to_string_lossy().into_owned());
        Lowering {
            model,
            lines: src.lines().collect(),
            file_name: base,
            // The vruntime of vtime-ordered tasks lives in task state too.
            has_task_state: !model.task_vars.is_empty()
                || !model.classes.is_empty()
                || model.samplers > 0
                || model.queues.iter().any(|q| q.order == Order::Vtime),
            has_vtime: model.queues.iter().any(|q| q.order == Order::Vtime),
            has_per_cpu: model.queues.iter().any(|q| q.placement == Placement::PerCpu),
        }
    }

    /// `/* bpfland.policy:41  slice = max(...) */`: the policy line, trimmed.
    fn comment(&self, origin: Origin) -> String {
        let text = self.lines.get(origin.line.saturating_sub(1)).map_or("", |l| l.trim());
        let text = text.split(" #").next().unwrap_or(text).trim_end();
        format!("/* {}:{}  {} */", self.file_name, origin.line, comment_text(text))
    }

    fn queue_macro(&self, q: usize) -> String {
        format!("DSQ_{}", self.model.queues[q].name.to_uppercase())
    }

    /// The DSQ id of queue `q`; `cpu` picks the CPU of a per-CPU queue.
    fn queue_id(&self, q: usize, cpu: &str) -> String {
        match self.model.queues[q].placement {
            Placement::PerCpu => format!("{}({cpu})", self.queue_macro(q)),
            Placement::Shared => self.queue_macro(q),
        }
    }

    fn sampler_field(&self, sampler: usize) -> String {
        if self.model.samplers == 1 {
            "schedc_sampled_at".to_string()
        } else {
            format!("schedc_sampled_at_{sampler}")
        }
    }

    /// Parameters of helpers that work on a task.
    fn task_params(&self) -> &'static str {
        if self.has_task_state {
            "struct task_struct *p, struct schedc_task *tctx"
        } else {
            "struct task_struct *p"
        }
    }

    fn task_args(&self) -> &'static str {
        if self.has_task_state {
            "p, tctx"
        } else {
            "p"
        }
    }

    /// The lines that fetch the task's state at the top of a callback, and
    /// what to do without it.
    fn tctx_lookup(&self, on_missing: &[&str]) -> Vec<String> {
        if !self.has_task_state {
            return Vec::new();
        }
        let mut lines = vec!["\tstruct schedc_task *tctx = schedc_task_ctx(p);".to_string(), String::new()];
        if let [one] = on_missing {
            lines.push("\tif (!tctx)".to_string());
            lines.push(format!("\t\t{one};"));
        } else {
            lines.push("\tif (!tctx) {".to_string());
            lines.extend(on_missing.iter().map(|l| format!("\t\t{l};")));
            lines.push("\t}".to_string());
        }
        lines
    }

    fn callback(&self, member: &str, ret: &str, params: &str, comment: String, body: Vec<String>) -> Function {
        let name = format!("{}_{member}", self.model.name);
        let args = if params.is_empty() { String::new() } else { format!(", {params}") };
        let sleepable = member == "init";
        let signature = format!("{ret} {}({name}{args})", if sleepable { "SCHEDC_OPS_SLEEPABLE" } else { "SCHEDC_OPS" });
        Function { comment, signature, body, member: Some(member.to_string()) }
    }

    fn program(&self) -> ir::Program {
        let m = self.model;
        let mut helpers = Vec::new();
        if let Some(f) = self.slice_helper() {
            helpers.push(f);
        }
        if self.has_vtime {
            helpers.push(self.queued_vtime_helper());
            if let Some(charge) = &m.vtime_charge {
                let mut charge_fn = self.formula_helper("schedc_vtime_charge", "s64", charge, "How much vruntime a task is charged when it stops.");
                charge_fn.signature = charge_fn.signature.replace(')', ", bool runnable)");
                helpers.push(charge_fn);
            }
        }
        helpers.extend(self.queue_helpers());
        helpers.extend(self.serve_helpers());
        if self.has_per_cpu {
            helpers.push(self.drain_offline_helper());
        }
        if let Some(select) = &m.select {
            if !select.preferences.is_empty() {
                helpers.push(self.pick_idle_helper(select));
            }
        }
        if m.preempt.is_some() {
            helpers.extend(self.preempt_helpers());
        }
        ir::Program {
            name: m.name.clone(),
            description: m.description.clone(),
            source_file: self.file_name.clone(),
            manifest: self.manifest(),
            params: self.params(),
            inputs: self.inputs(),
            queues: self.queue_ids(),
            classes: self.class_consts(),
            stats: self.stats(),
            globals: self.globals(),
            task_fields: self.task_fields(),
            has_task_state: self.has_task_state,
            helpers,
            callbacks: self.callbacks(),
            timeout_ms: m.timeout_ms,
        }
    }

    // ------------------------------------------------------------ declarations

    fn params(&self) -> Vec<Global> {
        self.model
            .params
            .iter()
            .map(|p| Global {
                comment: self.comment(p.origin),
                decl: format!("const volatile {}", value_c_type(p.ty)),
                name: p.name.clone(),
                init: Some(constant(p.default, p.ty)),
            })
            .collect()
    }

    /// Which runtime-filled facts the policy reads.
    fn uses_fact(&self, fact: Fact) -> bool {
        let mut found = false;
        self.visit_exprs(&mut |e| found |= matches!(e.kind, ExprKind::Fact(f) if f == fact));
        found
    }

    fn inputs(&self) -> Vec<Global> {
        let mut inputs = Vec::new();
        if self.uses_fact(Fact::SystemNrCpus) {
            inputs.push(Global {
                comment: "/* Number of online CPUs, set by the runtime before load. */".to_string(),
                decl: "const volatile u64".to_string(),
                name: "schedc_nr_cpus".to_string(),
                init: Some("1".to_string()),
            });
        }
        if self.uses_fact(Fact::SystemSmt) {
            inputs.push(Global {
                comment: "/* Whether SMT is active, set by the runtime before load. */".to_string(),
                decl: "const volatile bool".to_string(),
                name: "schedc_smt".to_string(),
                init: Some("false".to_string()),
            });
        }
        inputs
    }

    fn queue_ids(&self) -> Vec<QueueId> {
        let (mut per_cpu, mut shared) = (0u64, 0u64);
        self.model
            .queues
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let (macro_head, value) = match q.placement {
                    // The first per-CPU queue uses the bare CPU number as id.
                    Placement::PerCpu => {
                        let value = if per_cpu == 0 { "((u64)(cpu))".to_string() } else { format!("(((u64){per_cpu} << 16) | (u64)(cpu))") };
                        per_cpu += 1;
                        (format!("{}(cpu)", self.queue_macro(i)), value)
                    }
                    Placement::Shared => {
                        shared += 1;
                        (self.queue_macro(i), format!("SCHEDC_SHARED_DSQ({})", shared - 1))
                    }
                };
                QueueId { comment: self.comment(q.origin), macro_head, value }
            })
            .collect()
    }

    fn class_consts(&self) -> Vec<ClassConst> {
        if self.model.classes.is_empty() {
            return Vec::new();
        }
        let mut out = vec![ClassConst { name: "CLASS_NONE".to_string(), value: 0, comment: "/* in no class: served last */".to_string() }];
        out.extend(self.model.classes.iter().enumerate().map(|(i, c)| ClassConst {
            name: self.class_const(Some(i)),
            value: i + 1,
            comment: self.comment(c.origin),
        }));
        out
    }

    fn stats(&self) -> Vec<Global> {
        self.model
            .stats
            .iter()
            .map(|s| {
                let init = match &s.source {
                    StatSource::Variable(e) => self.static_init(e),
                    _ => None,
                };
                Global {
                    comment: self.comment(s.origin),
                    decl: value_c_type(s.ty).to_string(),
                    name: s.name.clone(),
                    init,
                }
            })
            .collect()
    }

    /// A static initialiser, if the value is a non-zero constant (zero is
    /// the default of .bss and needs none).
    fn static_init(&self, e: &Expr) -> Option<String> {
        match e.kind {
            ExprKind::Const(0) => None,
            ExprKind::Const(_) => Some(self.expr(e)),
            _ => None,
        }
    }

    fn globals(&self) -> Vec<Global> {
        let m = self.model;
        let mut out: Vec<Global> = m
            .globals
            .iter()
            .map(|g| Global {
                comment: self.comment(g.origin),
                decl: format!("static {}", value_c_type(g.ty)),
                name: g.name.clone(),
                init: self.static_init(&g.init),
            })
            .collect();
        if self.has_vtime {
            out.push(Global {
                comment: "/* The vruntime of the most advanced running task: new and waking tasks start near it. */".to_string(),
                decl: "static u64".to_string(),
                name: "schedc_vtime_now".to_string(),
                init: None,
            });
        }
        for serve in m.dispatch.iter().filter(|s| s.starve_after.is_some()) {
            out.push(Global {
                comment: format!("/* When `{}` was last served, for its starvation limit. */", m.queues[serve.queue].name),
                decl: "static u64".to_string(),
                name: self.served_at(serve.queue),
                init: None,
            });
        }
        if self.has_per_cpu {
            out.push(Global {
                comment: "/* CPUs that went offline: their per-CPU queues are drained by the others. */".to_string(),
                decl: "static s32".to_string(),
                name: "schedc_nr_offline".to_string(),
                init: None,
            });
        }
        if m.preempt.is_some() {
            out.push(Global {
                comment: "/* The class of the task running on each CPU, for preemption. */".to_string(),
                decl: "static u8".to_string(),
                name: "schedc_running_class[SCHEDC_MAX_CPUS]".to_string(),
                init: None,
            });
        }
        out
    }

    fn served_at(&self, q: usize) -> String {
        format!("schedc_served_at_{}", self.model.queues[q].name)
    }

    fn task_fields(&self) -> Vec<Field> {
        let m = self.model;
        let mut out: Vec<Field> = m
            .task_vars
            .iter()
            .map(|v| Field { comment: self.comment(v.origin), decl: value_c_type(v.ty).to_string(), name: v.name.clone() })
            .collect();
        if self.has_vtime {
            out.push(Field { comment: "/* its virtual runtime: queues of `vtime` order serve the lowest first */".to_string(), decl: "u64".to_string(), name: "vruntime".to_string() });
        }
        if !m.classes.is_empty() {
            out.push(Field { comment: "/* its class, CLASS_NONE or one of the classes above */".to_string(), decl: "u8".to_string(), name: "class".to_string() });
        }
        for s in 0..m.samplers {
            out.push(Field {
                comment: "/* when its `every` block last ran */".to_string(),
                decl: "u64".to_string(),
                name: self.sampler_field(s),
            });
        }
        out
    }

    // ------------------------------------------------------------ helpers

    /// A helper computing a formula: its statements, then its value.
    fn formula_helper(&self, name: &str, ret: &str, f: &Formula, why: &str) -> Function {
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

    fn slice_helper(&self) -> Option<Function> {
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
        body.push("\treturn slice > 0 ? (u64)slice : 0;".to_string());
        Some(Function {
            comment: format!("/* The slice a task gets each time it is queued; never negative. */\n{}", self.comment(f.origin)),
            signature: format!("static __always_inline u64 schedc_slice({})", self.task_params()),
            body,
            member: None,
        })
    }

    fn slice_call(&self) -> String {
        if self.model.slice.is_some() {
            format!("schedc_slice({})", self.task_args())
        } else {
            "SCHEDC_SLICE_DFL".to_string()
        }
    }

    fn queued_vtime_helper(&self) -> Function {
        let mut body = Vec::new();
        let lag = match &self.model.vtime_lag {
            Some(f) => {
                body.push(format!("\t{}", self.comment(f.origin)));
                self.stmts(&f.stmts, 1, f.origin.line, &mut body);
                self.expr(&f.result)
            }
            None => "0".to_string(),
        };
        body.push(format!("\tu64 floor = schedc_vtime_now - (u64)({lag});"));
        body.push(String::new());
        body.push("\tif ((s64)(tctx->vruntime - floor) < 0)".to_string());
        body.push("\t\ttctx->vruntime = floor;".to_string());
        body.push("\treturn tctx->vruntime;".to_string());
        Function {
            comment: "/* A task's vruntime when queued: raised to at least vtime_now minus the lag bound. */".to_string(),
            signature: format!("static __always_inline u64 schedc_queued_vtime({})", self.task_params()),
            body,
            member: None,
        }
    }

    /// Queues that receive tasks, each with its insert helper.
    fn receiving_queues(&self) -> Vec<usize> {
        let m = self.model;
        let mut out: Vec<usize> = m.routes.iter().map(|r| r.queue).chain(m.select.iter().map(|s| s.found_queue)).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    fn queue_helpers(&self) -> Vec<Function> {
        self.receiving_queues()
            .into_iter()
            .map(|q| {
                let queue = &self.model.queues[q];
                let per_cpu = queue.placement == Placement::PerCpu;
                let id = self.queue_id(q, "cpu");
                // The slice first, then the vruntime: both may update state.
                let mut body = vec![format!("\tu64 slice = {};", self.slice_call())];
                match queue.order {
                    Order::Fifo => body.push(format!("\n\tschedc_insert(p, {id}, slice, enq_flags);")),
                    Order::Vtime => {
                        body.push(format!("\tu64 vtime = schedc_queued_vtime({});", self.task_args()));
                        body.push(format!("\n\tschedc_insert_vtime(p, {id}, slice, vtime, enq_flags);"));
                    }
                }
                for s in &self.model.stats {
                    if matches!(s.source, StatSource::QueueInserted(i) if i == q) {
                        body.push(format!("\t__sync_fetch_and_add(&{}, 1);", s.name));
                    }
                }
                let cpu_param = if per_cpu { ", s32 cpu" } else { "" };
                Function {
                    comment: self.comment(queue.origin),
                    signature: format!("static __always_inline void schedc_queue_{}({}{cpu_param}, u64 enq_flags)", queue.name, self.task_params()),
                    body,
                    member: None,
                }
            })
            .collect()
    }

    fn queue_call(&self, q: usize, cpu: &str, flags: &str) -> String {
        let cpu_arg = if self.model.queues[q].placement == Placement::PerCpu { format!(", {cpu}") } else { String::new() };
        format!("schedc_queue_{}({}{cpu_arg}, {flags});", self.model.queues[q].name, self.task_args())
    }

    /// A helper per queue with a starvation limit: serve it and record when.
    fn serve_helpers(&self) -> Vec<Function> {
        self.model
            .dispatch
            .iter()
            .filter(|s| s.starve_after.is_some())
            .map(|s| Function {
                comment: format!("/* Serves `{}` and records when. */", self.model.queues[s.queue].name),
                signature: format!("static __always_inline bool schedc_serve_{}(u64 now)", self.model.queues[s.queue].name),
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

    fn drain_offline_helper(&self) -> Function {
        let mut body = vec![
            "\tconst struct cpumask *online;".to_string(),
            "\tbool moved = false;".to_string(),
            "\ts32 cpu;".to_string(),
            String::new(),
            "\tif (!schedc_nr_offline)".to_string(),
            "\t\treturn false;".to_string(),
            "\tonline = scx_bpf_get_online_cpumask();".to_string(),
            "\tbpf_for(cpu, 0, scx_bpf_nr_cpu_ids()) {".to_string(),
            "\t\tif (bpf_cpumask_test_cpu(cpu, online))".to_string(),
            "\t\t\tcontinue;".to_string(),
        ];
        let per_cpu: Vec<usize> = (0..self.model.queues.len()).filter(|q| self.model.queues[*q].placement == Placement::PerCpu).collect();
        let moves: Vec<String> = per_cpu.iter().map(|q| format!("schedc_move_to_local({})", self.queue_id(*q, "cpu"))).collect();
        body.push(format!("\t\tif ({}) {{", moves.join(" ||\n\t\t    ")));
        body.extend(["\t\t\tmoved = true;", "\t\t\tbreak;", "\t\t}", "\t}", "\tscx_bpf_put_cpumask(online);", "\treturn moved;"].map(String::from));
        Function {
            comment: "/* Runs a task left on the per-CPU queue of a CPU that went offline. */".to_string(),
            signature: "static __always_inline bool schedc_drain_offline(void)".to_string(),
            body,
            member: None,
        }
    }

    fn preempt_helpers(&self) -> [Function; 2] {
        [
            Function {
                comment: "/* Records the class of the task now running on @cpu. */".to_string(),
                signature: "static __always_inline void schedc_set_running_class(s32 cpu, u8 class)".to_string(),
                body: vec!["\tif (cpu >= 0 && cpu < SCHEDC_MAX_CPUS)".to_string(), "\t\tschedc_running_class[cpu] = class;".to_string()],
                member: None,
            },
            Function {
                comment: "/* Whether @cpu runs a task of a class below @class; CLASS_NONE is the lowest. */".to_string(),
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

    fn pick_idle_helper(&self, select: &Select) -> Function {
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
            let call = match pref.kind {
                PreferenceKind::PrevCore => "schedc_idle_prev_core(p, prev_cpu)",
                PreferenceKind::IdleCore => "schedc_idle_any_core(p)",
                PreferenceKind::Prev => "schedc_idle_prev(p, prev_cpu)",
                PreferenceKind::Any | PreferenceKind::Pinned => "schedc_idle_any(p)",
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

    // ------------------------------------------------------------ callbacks

    fn event(&self, event: Event) -> Option<&EventHandler> {
        self.model.events.iter().find(|h| h.event == event)
    }

    fn event_body(&self, event: Event, out: &mut Vec<String>) {
        if let Some(h) = self.event(event) {
            out.push(String::new());
            out.push(format!("\t{}", self.comment(h.origin)));
            self.stmts(&h.body, 1, h.origin.line, out);
        }
    }

    fn callbacks(&self) -> Vec<Function> {
        let mut out = Vec::new();
        out.extend(self.select_cpu());
        out.push(self.enqueue());
        out.push(self.dispatch());
        out.extend(self.running());
        out.extend(self.stopping());
        out.extend(self.enable());
        if self.has_task_state {
            out.push(self.callback(
                "init_task",
                "s32",
                "struct task_struct *p, struct scx_init_task_args *args",
                "/* Every task gets its per-task state before it joins. */".to_string(),
                vec![
                    "\tif (!bpf_task_storage_get(&schedc_tasks, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE))".to_string(),
                    "\t\treturn -12; /* -ENOMEM */".to_string(),
                    "\treturn 0;".to_string(),
                ],
            ));
        }
        if self.has_per_cpu {
            out.push(self.callback("cpu_online", "void", "s32 cpu", "/* Hotplug: counted so dispatch knows when to drain offline CPUs' queues. */".to_string(), vec!["\t__sync_fetch_and_sub(&schedc_nr_offline, 1);".to_string()]));
            out.push(self.callback("cpu_offline", "void", "s32 cpu", String::new(), vec!["\t__sync_fetch_and_add(&schedc_nr_offline, 1);".to_string()]));
        }
        out.push(self.init());
        out.push(self.callback("exit", "void", "struct scx_exit_info *ei", "/* Keep the kernel's reason for stopping us, for the runtime to print. */".to_string(), vec!["\tschedc_record_exit(ei);".to_string()]));
        out
    }

    fn select_cpu(&self) -> Option<Function> {
        let m = self.model;
        if m.select.is_none() && self.event(Event::Wakeup).is_none() {
            return None;
        }
        let mut body = self.tctx_lookup(&["return prev_cpu"]);
        if self.has_task_state {
            body.insert(1, "\ts32 cpu;".to_string());
        } else {
            body.push("\ts32 cpu;".to_string());
        }
        self.event_body(Event::Wakeup, &mut body);
        body.push(String::new());
        let comment;
        match &m.select {
            Some(select) if !select.preferences.is_empty() => {
                comment = self.comment(select.origin);
                let task = if self.has_task_state { ", tctx" } else { "" };
                body.push(format!("\tcpu = schedc_pick_idle_cpu(p, prev_cpu, wake_flags{task});"));
                body.push("\tif (cpu < 0)".to_string());
                body.push("\t\treturn prev_cpu;".to_string());
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
                comment = "/* No select_cpu in the policy: the kernel's default choice, run at once if idle. */".to_string();
                body.push("\tbool is_idle = false;".to_string());
                body.push(String::new());
                body.push("\tcpu = schedc_select_cpu_default(p, prev_cpu, wake_flags, &is_idle);".to_string());
                body.push("\tif (is_idle)".to_string());
                body.push(format!("\t\tschedc_insert(p, SCHEDC_DSQ_LOCAL, {}, 0);", self.slice_call()));
            }
        }
        body.push("\treturn cpu;".to_string());
        Some(self.callback("select_cpu", "s32", "struct task_struct *p, s32 prev_cpu, u64 wake_flags", comment, body))
    }

    fn found(&self, select: &Select, body: &mut Vec<String>) {
        body.push(String::new());
        body.push(format!("\t{}", self.comment(select.found_origin)));
        body.push(format!("\t{}", self.queue_call(select.found_queue, "cpu", "0")));
        if select.kick {
            body.push("\tscx_bpf_kick_cpu(cpu, SCHEDC_KICK_IDLE);".to_string());
        }
    }

    fn enqueue(&self) -> Function {
        let m = self.model;
        // A task without state (its creation failed) still runs, from the
        // kernel's global queue.
        let mut body = self.tctx_lookup(&["schedc_insert(p, SCHEDC_DSQ_GLOBAL, SCHEDC_SLICE_DFL, enq_flags)", "return"]);
        let needs_cpu = m.routes.iter().any(|r| r.kick || m.queues[r.queue].placement == Placement::PerCpu) || m.preempt.is_some();
        if needs_cpu {
            let decl = "\ts32 cpu = scx_bpf_task_cpu(p);".to_string();
            if self.has_task_state {
                body.insert(1, decl);
            } else {
                body.push(decl);
            }
        }
        self.event_body(Event::Enqueue, &mut body);
        // The rules form one if / else if / else chain, in policy order.
        for (i, route) in m.routes.iter().enumerate() {
            let mut action = vec![self.queue_call(route.queue, "cpu", "enq_flags")];
            if route.kick {
                action.push("scx_bpf_kick_cpu(cpu, SCHEDC_KICK_IDLE);".to_string());
            }
            let comment = self.comment(route.origin);
            match (&route.condition, i) {
                (None, 0) => {
                    body.push(String::new());
                    body.push(format!("\t{comment}"));
                    body.extend(action.iter().map(|a| format!("\t{a}")));
                    continue;
                }
                (None, _) => body.push("\t} else {".to_string()),
                (Some(c), 0) => {
                    body.push(String::new());
                    body.push(format!("\tif ({}) {{", self.expr(c)));
                }
                (Some(c), _) => body.push(format!("\t}} else if ({}) {{", self.expr(c))),
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
            body.push(format!("\tif ((enq_flags & SCHEDC_ENQ_WAKEUP) && tctx->class == {} &&", self.class_const(Some(preempt.class))));
            body.push("\t    schedc_running_below(cpu, tctx->class))".to_string());
            body.push("\t\tscx_bpf_kick_cpu(cpu, SCHEDC_KICK_PREEMPT);".to_string());
        }
        let comment = "/* A task became runnable and no idle CPU took it: route it to a queue. */".to_string();
        self.callback("enqueue", "void", "struct task_struct *p, u64 enq_flags", comment, body)
    }

    fn dispatch(&self) -> Function {
        let m = self.model;
        let mut body = Vec::new();
        let starving: Vec<&Serve> = m.dispatch.iter().filter(|s| s.starve_after.is_some()).collect();
        if !starving.is_empty() {
            body.push("\tu64 now = bpf_ktime_get_ns();".to_string());
            body.push(String::new());
            body.push("\t/* Starvation limits first, lowest queue first: a limit of 0 turns one off. */".to_string());
            for serve in starving.iter().rev() {
                let limit = self.expr(serve.starve_after.as_ref().expect("filtered"));
                body.push(format!("\t{}", self.comment(serve.origin)));
                body.push(format!(
                    "\tif ({limit} > 0 && (s64)(now - {}) > {limit} &&",
                    self.served_at(serve.queue)
                ));
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
            } else {
                format!("schedc_move_to_local({})", self.queue_id(serve.queue, "cpu"))
            };
            // The last queue needs no early return, unless offline CPUs'
            // queues come after it.
            if i + 1 == m.dispatch.len() && !self.has_per_cpu {
                body.push(format!("\t{call};"));
            } else {
                body.push(format!("\tif ({call})"));
                body.push("\t\treturn;".to_string());
            }
        }
        if self.has_per_cpu {
            body.push(String::new());
            body.push("\tschedc_drain_offline();".to_string());
        }
        let comment = "/* A CPU needs work: serve the queues in the policy's order. */".to_string();
        self.callback("dispatch", "void", "s32 cpu, struct task_struct *prev", comment, body)
    }

    fn running(&self) -> Option<Function> {
        let m = self.model;
        if !self.has_vtime && m.preempt.is_none() && self.event(Event::Running).is_none() {
            return None;
        }
        let mut body = self.tctx_lookup(&["return"]);
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

    fn stopping(&self) -> Option<Function> {
        let m = self.model;
        if !self.has_vtime && m.preempt.is_none() && self.event(Event::Stopping).is_none() {
            return None;
        }
        let mut body = self.tctx_lookup(&["return"]);
        if let Some(charge) = m.vtime_charge.as_ref().filter(|_| self.has_vtime) {
            body.push(String::new());
            body.push(format!("\t{}", self.comment(charge.origin)));
            body.push(format!("\ttctx->vruntime += (u64)schedc_vtime_charge({}, runnable);", self.task_args()));
        }
        if m.preempt.is_some() {
            body.push("\tschedc_set_running_class(scx_bpf_task_cpu(p), CLASS_NONE);".to_string());
        }
        self.event_body(Event::Stopping, &mut body);
        Some(self.callback("stopping", "void", "struct task_struct *p, bool runnable", "/* A task gives up its CPU. */".to_string(), body))
    }

    fn enable(&self) -> Option<Function> {
        let m = self.model;
        if !self.has_task_state && !self.has_vtime && self.event(Event::Join).is_none() {
            return None;
        }
        let mut body = self.tctx_lookup(&["return"]);
        if self.has_vtime {
            body.push(String::new());
            body.push("\t/* A new task starts at the current vruntime. */".to_string());
            body.push("\ttctx->vruntime = schedc_vtime_now;".to_string());
        }
        for v in &m.task_vars {
            if matches!(v.init.kind, ExprKind::Const(0)) {
                continue; // task storage starts zeroed
            }
            body.push(format!("\t{}", self.comment(v.origin)));
            body.push(format!("\ttctx->{} = {};", v.name, self.expr(&v.init)));
        }
        if m.samplers > 0 {
            body.push("\t/* `every` blocks count from the moment the task joins. */".to_string());
            for s in 0..m.samplers {
                body.push(format!("\ttctx->{} = bpf_ktime_get_ns();", self.sampler_field(s)));
            }
        }
        self.event_body(Event::Join, &mut body);
        Some(self.callback("enable", "void", "struct task_struct *p", "/* A task joins the scheduler. */".to_string(), body))
    }

    fn init(&self) -> Function {
        let m = self.model;
        let mut body = vec!["\ts32 err;".to_string()];
        let per_cpu: Vec<usize> = (0..m.queues.len()).filter(|q| m.queues[*q].placement == Placement::PerCpu).collect();
        if !per_cpu.is_empty() {
            body.push("\tconst struct cpumask *online;".to_string());
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
        if !per_cpu.is_empty() {
            body.push("\t/* CPUs possible but offline now: their queues are drained. */".to_string());
            body.push("\tonline = scx_bpf_get_online_cpumask();".to_string());
            body.push("\tschedc_nr_offline = scx_bpf_nr_cpu_ids() - bpf_cpumask_weight(online);".to_string());
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
        body.push("\treturn 0;".to_string());
        self.callback("init", "s32", "", "/* Load time: create the queues. */".to_string(), body)
    }

    /// Calls `f` on every expression of the policy.
    fn visit_exprs(&self, f: &mut dyn FnMut(&Expr)) {
        fn walk(e: &Expr, f: &mut dyn FnMut(&Expr)) {
            f(e);
            match &e.kind {
                ExprKind::Neg(x) | ExprKind::Not(x) | ExprKind::Convert { value: x, .. } => walk(x, f),
                ExprKind::Binary { lhs, rhs, .. } | ExprKind::GuardedDiv { lhs, rhs, .. } => {
                    walk(lhs, f);
                    walk(rhs, f);
                }
                ExprKind::Cond { cond, then, otherwise } => {
                    walk(cond, f);
                    walk(then, f);
                    walk(otherwise, f);
                }
                ExprKind::Call { args, .. } => args.iter().for_each(|a| walk(a, f)),
                _ => {}
            }
        }
        fn stmts(body: &[Stmt], f: &mut dyn FnMut(&Expr)) {
            for s in body {
                match &s.kind {
                    StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => walk(value, f),
                    StmtKind::If { cond, then, otherwise } => {
                        walk(cond, f);
                        stmts(then, f);
                        stmts(otherwise, f);
                    }
                    StmtKind::Every { period, body, .. } => {
                        walk(period, f);
                        stmts(body, f);
                    }
                    StmtKind::Trace { args, .. } => args.iter().for_each(|(_, e)| walk(e, f)),
                }
            }
        }
        let m = self.model;
        for v in m.task_vars.iter().chain(&m.globals) {
            walk(&v.init, f);
        }
        for s in &m.stats {
            if let StatSource::Variable(e) = &s.source {
                walk(e, f);
            }
        }
        for h in &m.events {
            stmts(&h.body, f);
        }
        if let Some(select) = &m.select {
            select.preferences.iter().filter_map(|p| p.when.as_ref()).for_each(|e| walk(e, f));
        }
        m.routes.iter().filter_map(|r| r.condition.as_ref()).for_each(|e| walk(e, f));
        m.dispatch.iter().filter_map(|s| s.starve_after.as_ref()).for_each(|e| walk(e, f));
        for formula in [&m.slice, &m.vtime_charge, &m.vtime_lag].into_iter().flatten() {
            stmts(&formula.stmts, f);
            walk(&formula.result, f);
        }
    }
}
