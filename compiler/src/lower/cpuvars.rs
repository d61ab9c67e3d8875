//! Per-CPU variables (`cpu NAME: TYPE = INITIAL`) and the reads of a chosen
//! CPU (`cpu(CPU).NAME`, `cpu(CPU).queue.Q.len`).
//!
//! A per-CPU variable is a global array with one slot per CPU number below
//! `SCHEDC_MAX_CPUS` and one spare slot after them, which a CPU numbered
//! higher (none in practice) uses as its own, so that its writes never land
//! in another CPU's slot. Reads of a chosen CPU out of range give the
//! variable's initial value.

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
        format!("schedc_cpu_var_{}_of({cpu})", self.model.cpu_vars[v].name)
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

    /// What the policy does with per-CPU state: whether it uses the running
    /// CPU's slot, which variables it reads on a chosen CPU, and which
    /// queues' lengths.
    fn cpu_uses(&self) -> (bool, Vec<usize>, Vec<usize>) {
        let (mut here, mut vars, mut queues) = (false, Vec::new(), Vec::new());
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
                signature: format!("static __always_inline {ty} schedc_cpu_var_{}_of(s64 cpu)", var.name),
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
        out
    }
}
