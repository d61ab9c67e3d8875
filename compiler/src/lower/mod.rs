//! Lowering: a checked [`Model`] becomes the C-shaped [`ir::Program`].
//!
//! This is where the policy's words turn into sched_ext callbacks. Nothing
//! here can fail: every question about the policy was settled by the checker.

mod callbacks;
mod cpusets;
mod cpuvars;
mod expr;
mod groups;
mod helpers;
mod hwfacts;
mod manifest;
mod reuse;
mod topology;

use crate::ir::{self, ClassConst, Field, Function, Global, QueueId};
use crate::model::*;
use crate::source::Source;
use schedc_abi::MachineFact;

use expr::{comment_text, constant, value_c_type};

/// Why a helper is a BPF global function (`SCHEDC_GLOBAL`, not `static`): the
/// verifier checks its body once, from its declared argument types, where an
/// inlined copy is checked at every call site and on every path leading there.
const GLOBAL_ONCE: &str = "A global function: verified once for all its callers.";
/// The same for a helper called once, on every path of its caller: verified
/// on its own, its branches do not multiply the paths the caller continues on.
const GLOBAL_APART: &str = "A global function: verified on its own.";

/// Lowers a checked policy. The source gives the comments that tie each
/// piece of C to its policy line.
pub fn lower(model: &Model, source: &Source) -> ir::Program {
    let l = Lowering::new(model, source);
    l.program()
}

pub(crate) struct Lowering<'a> {
    model: &'a Model,
    source: &'a Source,
    /// The policy's file name without its folders, for the comments.
    file_name: String,
    has_task_state: bool,
    has_vtime: bool,
    has_per_cpu: bool,
    /// select_cpu sends tasks to a per-CPU queue: it claims the CPU, and
    /// ops.enqueue queues the task there only if the kernel did too.
    claims_cpu: bool,
}

impl<'a> Lowering<'a> {
    fn new(model: &'a Model, source: &'a Source) -> Self {
        let name = source.name();
        let base =
            std::path::Path::new(name).file_name().map_or(name.to_string(), |f| f.to_string_lossy().into_owned());
        let mut l = Lowering {
            model,
            source,
            file_name: base,
            // The vruntime of vtime-ordered tasks lives in task state too.
            has_task_state: !model.task_vars.is_empty()
                || !model.classes.is_empty()
                || model.samplers > 0
                || model.queues.iter().any(|q| q.order == Order::Vtime),
            has_vtime: model.queues.iter().any(|q| q.order == Order::Vtime),
            has_per_cpu: model.queues.iter().any(|q| q.placement == Placement::PerCpu),
            claims_cpu: model
                .select
                .as_ref()
                .and_then(|s| s.found.queue())
                .is_some_and(|q| model.queues[q].placement == Placement::PerCpu),
        };
        // Facts schedc keeps in the task's state for the policy.
        l.has_task_state |= l.tracks_awake_runtime() || l.tracks_cpu_selected();
        l
    }

    /// `task.awake_runtime`: the task's runtime is noted at each wake-up.
    fn tracks_awake_runtime(&self) -> bool {
        self.uses_fact(Fact::TaskAwakeRuntime)
    }

    /// `event.cpu_selected`: ops.select_cpu leaves a mark for ops.enqueue.
    fn tracks_cpu_selected(&self) -> bool {
        self.uses_fact(Fact::EventCpuSelected)
    }

    /// `/* bpfland.policy:41  slice = max(...) */`: the policy line, trimmed.
    fn comment(&self, origin: Origin) -> String {
        let text = self.source.line_without_comment(origin.line).trim();
        crate::origin::comment(&self.file_name, origin.line, &comment_text(text))
    }

    fn queue_macro(&self, q: usize) -> String {
        format!("DSQ_{}", self.model.queues[q].name.to_uppercase())
    }

    /// The DSQ id of queue `q`; `cpu` picks the CPU of a per-CPU queue.
    fn queue_id(&self, q: usize, cpu: &str) -> String {
        match self.model.queues[q].placement {
            Placement::PerCpu | Placement::PerLlc | Placement::PerNode => format!("{}({cpu})", self.queue_macro(q)),
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

    /// The same for a BPF global function: the verifier checks its body
    /// once, from these declared types, however many places call it. The
    /// task pointer must be a trusted one (the kfuncs that take it need
    /// that) and the task's state non-NULL, as every caller has checked.
    fn global_task_params(&self) -> &'static str {
        if self.has_task_state {
            "struct task_struct *p __arg_trusted, struct schedc_task *tctx __arg_nonnull"
        } else {
            "struct task_struct *p __arg_trusted"
        }
    }

    fn task_args(&self) -> &'static str {
        if self.has_task_state {
            "p, tctx"
        } else {
            "p"
        }
    }

    /// The top of a callback: its local declarations (`locals`, each a full
    /// declaration), then the task's state and what to do without it.
    fn prologue(&self, locals: &[&str], on_missing: &[&str]) -> Vec<String> {
        let mut lines = Vec::new();
        if self.has_task_state {
            lines.push("\tstruct schedc_task *tctx = schedc_task_ctx(p);".to_string());
        }
        lines.extend(locals.iter().map(|l| format!("\t{l}")));
        if !self.has_task_state {
            return lines;
        }
        lines.push(String::new());
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
        let signature =
            format!("{ret} {}({name}{args})", if sleepable { "SCHEDC_OPS_SLEEPABLE" } else { "SCHEDC_OPS" });
        Function { comment, signature, body, member: Some(member.to_string()) }
    }

    fn program(&self) -> ir::Program {
        let m = self.model;
        let mut helpers = self.reuse_helpers();
        if let Some(f) = self.slice_helper() {
            helpers.push(f);
        }
        if self.has_vtime {
            helpers.push(self.queued_vtime_helper());
            if let Some(deadline) = &m.vtime_deadline {
                let why = "How far past its vruntime a task's key lies: vtime queues serve the lowest key first.";
                helpers.push(self.formula_helper("schedc_deadline", "s64", deadline, why));
            }
            if let Some(charge) = &m.vtime_charge {
                helpers.push(self.vtime_charge_helper(charge));
            }
        }
        // First: the queue id macros of per-LLC and per-node queues call them.
        // The per-CPU helpers after them: a queue length on a chosen CPU
        // uses those macros, and any formula or function may read them.
        let mut first = self.topology_helpers();
        first.extend(self.domain_queues_helper());
        first.extend(self.cpu_helpers());
        helpers.splice(0..0, first);
        helpers.extend(self.cpuset_helpers());
        helpers.extend(self.queue_helpers());
        helpers.extend(self.serve_helpers());
        helpers.extend(self.group_helpers());
        if self.has_per_cpu {
            helpers.push(self.drain_offline_helper());
        }
        if let Some(select) = &m.select {
            if !select.preferences.is_empty() {
                helpers.push(self.pick_idle_helper(select));
            }
        }
        if self.claims_cpu {
            helpers.extend(self.claim_helpers());
        }
        if let Some(preempt) = &m.preempt {
            let [set_running, running_below] = self.preempt_helpers();
            helpers.push(set_running);
            // `at lowest` compares classes in its own loop.
            if matches!(preempt.victim, Victim::Lowest) {
                helpers.push(self.lowest_running_helper());
            } else {
                helpers.push(running_below);
            }
        }
        if let Some(timer) = &m.timer {
            helpers.extend(self.timer_helpers(timer));
        }
        ir::Program {
            name: m.name.clone(),
            description: m.description.clone(),
            source_file: self.file_name.clone(),
            manifest: self.manifest(),
            params: self.params(),
            inputs: self.all_inputs(),
            queues: self.queue_ids(),
            classes: self.class_consts(),
            stats: self.stats(),
            globals: [self.cpuset_globals(), self.globals()].concat(),
            task_fields: self.task_fields(),
            new_task: self.new_task_inits(),
            has_task_state: self.has_task_state,
            has_timer: m.timer.is_some(),
            cpuset_masks: self.cpuset_masks(),
            helpers,
            callbacks: self.callbacks(),
            timeout_ms: m.timeout_ms,
            ops_flags: m.ops_flags.iter().map(|f| f.c_name()).collect::<Vec<_>>().join(" | "),
            ops_flag_words: m.ops_flags.iter().map(|f| f.word()).collect::<Vec<_>>().join(", "),
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

    /// Whether `body` reads `fact`, itself or in a function it calls.
    fn block_reads(&self, body: &[Stmt], fact: Fact) -> bool {
        let mut found = false;
        let mut calls = Vec::new();
        walk_stmts(body, &mut |e| match e.kind {
            ExprKind::Fact(f) => found |= f == fact,
            ExprKind::CallFn { func, .. } => calls.push(func),
            _ => {}
        });
        let mut seen = std::collections::HashSet::new();
        while let Some(func) = calls.pop() {
            if seen.insert(func) {
                walk_expr(&self.model.functions[func].result, &mut |e| match e.kind {
                    ExprKind::Fact(f) => found |= f == fact,
                    ExprKind::CallFn { func, .. } => calls.push(func),
                    _ => {}
                });
            }
        }
        found
    }

    /// Which runtime-filled facts the policy reads.
    fn uses_fact(&self, fact: Fact) -> bool {
        let mut found = false;
        self.visit_exprs(&mut |e| found |= matches!(e.kind, ExprKind::Fact(f) if f == fact));
        found
    }

    /// Whether the policy reads `system.nr_cpus`, which the scheduler counts.
    fn counts_cpus(&self) -> bool {
        self.uses_fact(Fact::SystemNrCpus)
    }

    fn inputs(&self) -> Vec<Global> {
        // The CPU count is not among them: the scheduler counts CPUs itself
        // (see `globals`), so any loader gets it right.
        let mut inputs = Vec::new();
        // cpu.smt_contended is never true without SMT.
        if self.uses_fact(Fact::SystemSmt) || self.uses_cpu_fact(CpuFact::SmtContended) {
            inputs.push(Global {
                comment: "/* Whether SMT is active, set by the runtime before load. */".to_string(),
                decl: "const volatile bool".to_string(),
                name: MachineFact::Smt.symbol().to_string(),
                init: Some("false".to_string()),
            });
        }
        inputs
    }

    /// The machine facts, then the topology arrays the runtime also fills
    /// (which are not in the manifest: see `topology`).
    fn all_inputs(&self) -> Vec<Global> {
        let mut inputs = self.inputs();
        inputs.extend(self.topology_inputs());
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
                        let value = if per_cpu == 0 {
                            "((u64)(cpu))".to_string()
                        } else {
                            format!("(((u64){per_cpu} << 16) | (u64)(cpu))")
                        };
                        per_cpu += 1;
                        (format!("{}(cpu)", self.queue_macro(i)), value)
                    }
                    Placement::PerLlc | Placement::PerNode => {
                        let domain = if q.placement == Placement::PerLlc {
                            topology::Domain::Llc
                        } else {
                            topology::Domain::Node
                        };
                        let value = format!(
                            "{}({}, schedc_{}_of(cpu))",
                            domain.dsq_macro(),
                            self.domain_rank(i),
                            domain.word()
                        );
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
        let mut out = vec![ClassConst {
            name: "CLASS_NONE".to_string(),
            value: 0,
            comment: "/* in no class: served last */".to_string(),
        }];
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
        for serve in m.dispatch.iter().filter(|s| s.starve_after.is_some()) {
            out.push(Global {
                comment: format!(
                    "/* When `{}` was last served, for its starvation limit. */",
                    m.queues[serve.queue].name
                ),
                decl: "static u64".to_string(),
                name: self.served_at(serve.queue),
                init: None,
            });
        }
        if self.counts_cpus() {
            out.push(Global {
                comment: "/* Online CPUs: counted at load, then kept by the hotplug callbacks. */".to_string(),
                decl: "static u64".to_string(),
                name: "schedc_nr_cpus".to_string(),
                init: None,
            });
        }
        if self.has_per_cpu {
            out.push(Global {
                comment: "/* CPUs gone offline since load, the first schedc_nr_offline entries: the others drain their per-CPU queues. */"
                    .to_string(),
                decl: "static s32".to_string(),
                name: "schedc_offline_cpus[SCHEDC_MAX_CPUS]".to_string(),
                init: None,
            });
            out.push(Global {
                comment: "/* How many CPUs are offline since load. */".to_string(),
                decl: "static u32".to_string(),
                name: "schedc_nr_offline".to_string(),
                init: None,
            });
            out.push(Global {
                comment: "/* Which offline CPU the next dispatch drains. */".to_string(),
                decl: "static u32".to_string(),
                name: "schedc_drain_turn".to_string(),
                init: None,
            });
        }
        out.extend(self.cpu_var_globals());
        out.extend(self.util_globals());
        out.extend(self.group_globals());
        if self.claims_cpu {
            out.push(Global {
                comment: "/* The pid of the waking task that claimed each idle CPU, until it is queued. */".to_string(),
                decl: "static s32".to_string(),
                name: "schedc_claimed_by[SCHEDC_MAX_CPUS]".to_string(),
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

    /// The fields of the new-task template that do not start at 0: the
    /// task variables with a constant initial value. ops.init_task creates
    /// each task's state as a copy of the template, so they cost no code.
    fn new_task_inits(&self) -> Vec<String> {
        if !self.has_new_task() {
            return Vec::new();
        }
        let mut out = vec![
            String::new(), // a blank line after the task storage map
            "/*".to_string(),
            " * A new task's state: ops.init_task creates each task's as a copy of it,".to_string(),
            " * so the fields start at their constant initial values with no code.".to_string(),
        ];
        if self.has_vtime {
            out.push(" * Its vruntime is vtime_now, the vruntime of the most advanced running".to_string());
            out.push(" * task: new tasks start there, and waking ones near it.".to_string());
        }
        out.push(" */".to_string());
        let inits: Vec<(String, String)> = self
            .model
            .task_vars
            .iter()
            .filter_map(|v| {
                self.static_init(&v.init).map(|value| (self.comment(v.origin), format!("\t.{} = {value},", v.name)))
            })
            .collect();
        if inits.is_empty() {
            out.push("static struct schedc_task schedc_new_task;".to_string());
        } else {
            out.push("static struct schedc_task schedc_new_task = {".to_string());
            for (comment, init) in inits {
                out.push(format!("\t{comment}"));
                out.push(init);
            }
            out.push("};".to_string());
        }
        if self.has_vtime {
            out.push(String::new());
            out.push("/* vtime_now, by the name the callbacks use. */".to_string());
            out.push("#define schedc_vtime_now schedc_new_task.vruntime".to_string());
        }
        out
    }

    /// Whether ops.init_task copies a template (`schedc_new_task`): when a
    /// field starts at a value other than 0, or vtime_now lives in it.
    fn has_new_task(&self) -> bool {
        self.has_task_state
            && (self.has_vtime || self.model.task_vars.iter().any(|v| self.static_init(&v.init).is_some()))
    }

    /// Whether a task variable starts at a value known only when the task
    /// joins (`= system.now`): ops.enable sets it.
    fn has_dynamic_init(&self) -> bool {
        self.model.task_vars.iter().any(|v| !matches!(v.init.kind, ExprKind::Const(_)))
    }

    fn task_fields(&self) -> Vec<Field> {
        let m = self.model;
        let mut out: Vec<Field> = m
            .task_vars
            .iter()
            .map(|v| Field {
                comment: self.comment(v.origin),
                decl: value_c_type(v.ty).to_string(),
                name: v.name.clone(),
            })
            .collect();
        if self.has_vtime {
            out.push(Field {
                comment: "/* its virtual runtime: queues of `vtime` order serve the lowest first */".to_string(),
                decl: "u64".to_string(),
                name: "vruntime".to_string(),
            });
        }
        if !m.classes.is_empty() {
            out.push(Field {
                comment: "/* its class, CLASS_NONE or one of the classes above */".to_string(),
                decl: "u8".to_string(),
                name: "class".to_string(),
            });
        }
        for s in 0..m.samplers {
            out.push(Field {
                comment: "/* when its `every` block last ran */".to_string(),
                decl: "u64".to_string(),
                name: self.sampler_field(s),
            });
        }
        if self.tracks_awake_runtime() {
            out.push(Field {
                comment: "/* its total runtime when it last woke up, for task.awake_runtime */".to_string(),
                decl: "u64".to_string(),
                name: "schedc_woke_runtime".to_string(),
            });
        }
        if self.tracks_cpu_selected() {
            out.push(Field {
                comment: "/* ops.select_cpu ran and left it to ops.enqueue, for event.cpu_selected */".to_string(),
                decl: "bool".to_string(),
                name: "schedc_cpu_selected".to_string(),
            });
        }
        out
    }

    /// Calls `f` on every expression of the policy.
    fn visit_exprs(&self, f: &mut dyn FnMut(&Expr)) {
        let m = self.model;
        for func in &m.functions {
            walk_expr(&func.result, f);
        }
        for v in m.task_vars.iter().chain(&m.globals) {
            walk_expr(&v.init, f);
        }
        for s in &m.stats {
            if let StatSource::Variable(e) = &s.source {
                walk_expr(e, f);
            }
        }
        for h in &m.events {
            walk_stmts(&h.body, f);
        }
        if let Some(Preempt { victim: Victim::At(e), .. }) = &m.preempt {
            walk_expr(e, f);
        }
        if let Some(timer) = &m.timer {
            walk_expr(&timer.period, f);
            walk_stmts(&timer.body, f);
        }
        if let Some(select) = &m.select {
            select.preferences.iter().filter_map(|p| p.when.as_ref()).for_each(|e| walk_expr(e, f));
            select.found_when.iter().for_each(|e| walk_expr(e, f));
        }
        m.routes.iter().filter_map(|r| r.condition.as_ref()).for_each(|e| walk_expr(e, f));
        m.dispatch.iter().filter_map(|s| s.starve_after.as_ref()).for_each(|e| walk_expr(e, f));
        for formula in [&m.slice, &m.vtime_charge, &m.vtime_lag, &m.vtime_deadline].into_iter().flatten() {
            walk_stmts(&formula.stmts, f);
            walk_expr(&formula.result, f);
        }
    }
}

/// Calls `f` on `e` and each expression inside it.
fn walk_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Neg(x) | ExprKind::Not(x) | ExprKind::Convert { value: x, .. } => walk_expr(x, f),
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::GuardedDiv { lhs, rhs, .. } => {
            walk_expr(lhs, f);
            walk_expr(rhs, f);
        }
        ExprKind::Cond { cond, then, otherwise } => {
            walk_expr(cond, f);
            walk_expr(then, f);
            walk_expr(otherwise, f);
        }
        ExprKind::Call { args, .. } | ExprKind::CallFn { args, .. } => args.iter().for_each(|a| walk_expr(a, f)),
        ExprKind::CpuVar { on: Some(cpu), .. }
        | ExprKind::QueueLenOn { cpu, .. }
        | ExprKind::CpuFact { on: Some(cpu), .. } => walk_expr(cpu, f),
        // The comm compared is a fact read too.
        ExprKind::CommIs { of, .. } => f(&Expr { kind: ExprKind::Fact(*of), ty: Type::Str }),
        _ => {}
    }
}

/// Calls `f` on each expression of `body`, nested blocks included.
fn walk_stmts(body: &[Stmt], f: &mut dyn FnMut(&Expr)) {
    for s in body {
        match &s.kind {
            StmtKind::Assign { target: Place::WakerVar(i), value, .. } => {
                // The waker's variable written is a use of it too.
                f(&Expr { kind: ExprKind::WakerVar(*i), ty: value.ty });
                walk_expr(value, f)
            }
            StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } | StmtKind::FirstCpus { count: value, .. } => {
                walk_expr(value, f)
            }
            StmtKind::If { cond, then, otherwise } => {
                walk_expr(cond, f);
                walk_stmts(then, f);
                walk_stmts(otherwise, f);
            }
            StmtKind::Every { period, body, .. } => {
                walk_expr(period, f);
                walk_stmts(body, f);
            }
            StmtKind::Trace { args, .. } => args.iter().for_each(|(_, e)| walk_expr(e, f)),
            StmtKind::ReenqueueLocal => {}
        }
    }
}
