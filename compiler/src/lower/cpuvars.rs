//! Per-CPU variables (`cpu NAME: TYPE = INITIAL`) and the reads of a chosen
//! CPU (`cpu(CPU).NAME`, `cpu(CPU).queue.Q.len`).
//!
//! A per-CPU variable is a global array with one slot per CPU number below
//! `SCHEDC_MAX_CPUS` and one spare slot after them, which a CPU numbered
//! higher (none in practice) uses as its own, so that its writes never land
//! in another CPU's slot. Reads of a chosen CPU out of range give the
//! variable's initial value.
//!
//! `cpu.util`, when a policy reads it, is kept in four such arrays:
//! `ops.running` and `ops.stopping` add up the time the CPU runs tasks of
//! this scheduler, and fold it into a per-mille average once a period of at
//! least `schedc_util_period` has passed (see `util_helpers`).

use crate::ir::{Function, Global};
use crate::model::*;

use super::expr::{constant, value_c_type};
use super::Lowering;

impl Lowering<'_> {
    /// The C array of per-CPU variable `v`.
    pub(super) fn cpu_var_array(&self, v: usize) -> String {
        format!("schedc_cpu_var_{}", self.model.cpu_vars[v].name)
    }

    /// `cpu.NAME`: the running CPU's slot of `v`, readable and assignable.
    pub(super) fn cpu_var_here(&self, v: usize) -> String {
        format!("{}[schedc_this_cpu_slot()]", self.cpu_var_array(v))
    }

    /// `cpu(CPU).NAME`: the value of `v` on CPU `cpu` (C text).
    pub(super) fn cpu_var_on(&self, v: usize, cpu: &str) -> String {
        format!("schedc_cpu_read_{}({cpu})", self.model.cpu_vars[v].name)
    }

    /// `cpu(CPU).queue.Q.len` of an instanced queue.
    pub(super) fn queue_len_on(&self, q: usize, cpu: &str) -> String {
        format!("schedc_len_on_{}({cpu})", self.model.queues[q].name)
    }

    /// One array per per-CPU variable, all slots at its initial value.
    pub(super) fn cpu_var_globals(&self) -> Vec<Global> {
        self.model
            .cpu_vars
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let init = match v.init.kind {
                    ExprKind::Const(0) => None,
                    ExprKind::Const(c) => Some(format!("{{ [0 ... SCHEDC_MAX_CPUS] = {} }}", constant(c, v.ty))),
                    _ => unreachable!("the checker keeps only constant per-CPU initial values"),
                };
                Global {
                    comment: format!(
                        "{}\n/* One slot per CPU, and a spare one for a CPU numbered SCHEDC_MAX_CPUS or more. */",
                        self.comment(v.origin)
                    ),
                    decl: format!("static {}", value_c_type(v.ty)),
                    name: format!("{}[SCHEDC_MAX_CPUS + 1]", self.cpu_var_array(i)),
                    init,
                }
            })
            .collect()
    }

    /// Whether the policy reads `cpu.util` or `cpu(CPU).util`.
    pub(super) fn uses_util(&self) -> bool {
        let mut found = false;
        self.visit_exprs(&mut |e| found |= matches!(e.kind, ExprKind::CpuFact { fact: CpuFact::Util, .. }));
        found
    }

    /// The bookkeeping of `cpu.util`: its period, window and arrays.
    pub(super) fn util_globals(&self) -> Vec<Global> {
        if !self.uses_util() {
            return Vec::new();
        }
        let array = |name: &str, what: &str| Global {
            comment: format!("/* cpu.util, per CPU (and the spare slot): {what}. */"),
            decl: "static u64".to_string(),
            name: format!("{name}[SCHEDC_MAX_CPUS + 1]"),
            init: None,
        };
        vec![
            Global {
                comment: "/* cpu.util: a period closes at the first ops.running or ops.stopping this long or more after it began. */".to_string(),
                decl: "static const u64".to_string(),
                name: "schedc_util_period".to_string(),
                init: Some("10 * NSEC_PER_MSEC".to_string()),
            },
            Global {
                comment: "/* cpu.util: a closed period's busy fraction weighs min(its length, this) / this in the average. */"
                    .to_string(),
                decl: "static const u64".to_string(),
                name: "schedc_util_window".to_string(),
                init: Some("40 * NSEC_PER_MSEC".to_string()),
            },
            array("schedc_util_period_start", "when the current period began"),
            array("schedc_util_busy", "how long tasks of this scheduler ran in it, up to the last event"),
            array("schedc_util_running_since", "when the running task of this scheduler got the CPU; 0 if none"),
            array("schedc_util", "the average busy fraction of the periods before, in per-mille"),
        ]
    }

    /// `schedc_util_account`, called by ops.running and ops.stopping, and
    /// `schedc_util_of`, which the rules' `cpu.util` calls.
    fn util_helpers(&self) -> Vec<Function> {
        if !self.uses_util() {
            return Vec::new();
        }
        let lines = |text: &[&str]| text.iter().map(|l| l.to_string()).collect();
        vec![
            Function {
                comment: "/* cpu.util: the average @avg with a period of @span ns (at least schedc_util_period) in which tasks ran @busy ns: the period's busy fraction weighs min(@span, window) / window. */".to_string(),
                signature: "static __always_inline u64 schedc_util_fold(u64 avg, u64 busy, u64 span)".to_string(),
                body: lines(&[
                    "	u64 weight = span < schedc_util_window ? span : schedc_util_window;",
                    "	u64 sample = busy / (span / 1000);",
                    "",
                    "	if (sample > 1000)",
                    "		sample = 1000;",
                    "	return (avg * (schedc_util_window - weight) + sample * weight) / schedc_util_window;",
                ]),
                member: None,
            },
            Function {
                comment: "/* cpu.util: a task of this scheduler gets (@starts) or leaves this CPU: count the time it ran, and close the period once it is long enough. */".to_string(),
                signature: "static __always_inline void schedc_util_account(bool starts)".to_string(),
                body: lines(&[
                    "	u32 c = schedc_this_cpu_slot();",
                    "	u64 now = bpf_ktime_get_ns();",
                    "	u64 span = now - schedc_util_period_start[c];",
                    "",
                    "	if (schedc_util_running_since[c])",
                    "		schedc_util_busy[c] += now - schedc_util_running_since[c];",
                    "	schedc_util_running_since[c] = starts ? now : 0;",
                    "	if (span >= schedc_util_period) {",
                    "		schedc_util[c] = schedc_util_fold(schedc_util[c], schedc_util_busy[c], span);",
                    "		schedc_util_period_start[c] = now;",
                    "		schedc_util_busy[c] = 0;",
                    "	}",
                ]),
                member: None,
            },
            Function {
                comment: "/* cpu.util of @cpu, per-mille: its average, with the current period folded in once it is long enough (a task running there counts up to now); 0 for a CPU out of range. */".to_string(),
                signature: "static __always_inline u64 schedc_util_of(s64 cpu)".to_string(),
                body: lines(&[
                    "	u64 now = bpf_ktime_get_ns(), busy, since;",
                    "	s64 span;",
                    "	u32 c;",
                    "",
                    "	if (cpu < 0 || cpu >= SCHEDC_MAX_CPUS)",
                    "		return 0;",
                    "	c = cpu & (SCHEDC_MAX_CPUS - 1);",
                    "	busy = schedc_util_busy[c];",
                    "	since = schedc_util_running_since[c];",
                    "	if (since && (s64)(now - since) > 0)",
                    "		busy += now - since;",
                    "	/* Signed: another CPU may have begun its period a moment after our clock read. */",
                    "	span = (s64)(now - schedc_util_period_start[c]);",
                    "	if (span < (s64)schedc_util_period)",
                    "		return schedc_util[c];",
                    "	return schedc_util_fold(schedc_util[c], busy, span);",
                ]),
                member: None,
            },
        ]
    }

    /// What the policy does with per-CPU state: whether it uses the running
    /// CPU's slot, which variables it reads on a chosen CPU, and which
    /// queues' lengths.
    fn cpu_uses(&self) -> (bool, Vec<usize>, Vec<usize>) {
        let (mut here, mut vars, mut queues) = (self.uses_util(), Vec::new(), Vec::new());
        let mut note = |e: &Expr| match &e.kind {
            ExprKind::CpuVar { on: None, .. } => here = true,
            ExprKind::CpuVar { var, on: Some(_) } => vars.push(*var),
            ExprKind::QueueLenOn { queue, .. } => queues.push(*queue),
            _ => {}
        };
        self.visit_exprs(&mut note);
        if self.writes_cpu_var() {
            here = true;
        }
        for list in [&mut vars, &mut queues] {
            list.sort_unstable();
            list.dedup();
        }
        (here, vars, queues)
    }

    /// Whether a statement assigns `cpu.NAME`.
    fn writes_cpu_var(&self) -> bool {
        fn assigns(body: &[Stmt]) -> bool {
            body.iter().any(|s| match &s.kind {
                StmtKind::Assign { target: Place::CpuVar(_), .. } => true,
                StmtKind::If { then, otherwise, .. } => assigns(then) || assigns(otherwise),
                StmtKind::Every { body, .. } => assigns(body),
                _ => false,
            })
        }
        let m = self.model;
        let formulas = [&m.slice, &m.vtime_charge, &m.vtime_lag, &m.vtime_deadline];
        m.events.iter().any(|h| assigns(&h.body)) || formulas.into_iter().flatten().any(|f| assigns(&f.stmts))
    }

    /// The helpers the per-CPU reads and writes call.
    pub(super) fn cpu_helpers(&self) -> Vec<Function> {
        let (here, vars, queues) = self.cpu_uses();
        let mut out = Vec::new();
        if here {
            out.push(Function {
                comment: "/* The running CPU's slot in the per-CPU arrays: the spare last one for a CPU numbered SCHEDC_MAX_CPUS or more. */".to_string(),
                signature: "static __always_inline u32 schedc_this_cpu_slot(void)".to_string(),
                body: vec![
                    "\tu32 cpu = bpf_get_smp_processor_id();".to_string(),
                    String::new(),
                    "\treturn cpu < SCHEDC_MAX_CPUS ? cpu : SCHEDC_MAX_CPUS;".to_string(),
                ],
                member: None,
            });
        }
        for v in vars {
            let var = &self.model.cpu_vars[v];
            let ty = value_c_type(var.ty);
            let init = match var.init.kind {
                ExprKind::Const(c) => constant(c, var.ty),
                _ => unreachable!("the checker keeps only constant per-CPU initial values"),
            };
            out.push(Function {
                comment: format!(
                    "{}\n/* `cpu(CPU).{}`: the value on @cpu; the initial value for a CPU out of range. */",
                    self.comment(var.origin),
                    var.name
                ),
                signature: format!("static __always_inline {ty} schedc_cpu_read_{}(s64 cpu)", var.name),
                // The mask keeps the index bounded for the verifier
                // however the compiler arranges the test above it.
                body: vec![
                    "\tif (cpu < 0 || cpu >= SCHEDC_MAX_CPUS)".to_string(),
                    format!("\t\treturn {init};"),
                    format!("\treturn {}[cpu & (SCHEDC_MAX_CPUS - 1)];", self.cpu_var_array(v)),
                ],
                member: None,
            });
        }
        for q in queues {
            let queue = &self.model.queues[q];
            out.push(Function {
                comment: format!(
                    "{}\n/* `cpu(CPU).queue.{}.len`: tasks waiting in the instance @cpu serves; 0 for a CPU out of range. */",
                    self.comment(queue.origin),
                    queue.name
                ),
                signature: format!("static __always_inline u64 schedc_len_on_{}(s64 cpu)", queue.name),
                body: vec![
                    "\tif (cpu < 0 || cpu >= SCHEDC_MAX_CPUS)".to_string(),
                    "\t\treturn 0;".to_string(),
                    format!("\treturn schedc_nr_queued({});", self.queue_id(q, "cpu")),
                ],
                member: None,
            });
        }
        out.extend(self.util_helpers());
        out.extend(self.hw_helpers());
        out
    }
}
