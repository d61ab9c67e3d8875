//! The kernel's facts about a CPU (`cpu.capacity`, `cpu.perf`,
//! `cpu.smt_contended`, also of a chosen CPU) and the one per-CPU write,
//! `cpu.perf = VALUE`. Each becomes a small helper, emitted only when the
//! policy uses it, that keeps a chosen CPU's number in range: the kernel
//! stops a scheduler that names a CPU it does not have.

use schedc_abi::MachineFact;

use crate::ir::Function;
use crate::model::*;

use super::Lowering;

/// A CPU's full performance: the kernel's `SCX_CPUPERF_ONE`.
const CPUPERF_ONE: &str = "1024";

impl Lowering<'_> {
    /// Whether the policy reads `fact` of some CPU.
    pub(super) fn uses_cpu_fact(&self, fact: CpuFact) -> bool {
        let mut found = false;
        self.visit_exprs(&mut |e| found |= matches!(e.kind, ExprKind::CpuFact { fact: f, .. } if f == fact));
        found
    }

    /// Whether a statement sets `cpu.perf`.
    pub(super) fn sets_cpu_perf(&self) -> bool {
        fn sets(body: &[Stmt]) -> bool {
            body.iter().any(|s| match &s.kind {
                StmtKind::Assign { target: Place::CpuPerf, .. } => true,
                StmtKind::If { then, otherwise, .. } => sets(then) || sets(otherwise),
                StmtKind::Every { body, .. } => sets(body),
                _ => false,
            })
        }
        let m = self.model;
        m.events.iter().any(|h| sets(&h.body)) || m.timer.as_ref().is_some_and(|t| sets(&t.body))
    }

    /// `cpu.FACT` (`on` is `None`) or `cpu(ON).FACT` as C, with `on` already C.
    pub(super) fn cpu_fact(&self, fact: CpuFact, on: Option<String>) -> String {
        let cpu = on.unwrap_or_else(|| "bpf_get_smp_processor_id()".to_string());
        match fact {
            CpuFact::Util => format!("schedc_util_of({cpu})"),
            CpuFact::Capacity => format!("schedc_capacity_of({cpu})"),
            CpuFact::Perf => format!("schedc_perf_of({cpu})"),
            CpuFact::SmtContended => format!("schedc_smt_contended_of({cpu})"),
        }
    }

    /// The helpers the hardware facts and `cpu.perf = VALUE` call.
    pub(super) fn hw_helpers(&self) -> Vec<Function> {
        let mut out = Vec::new();
        let in_range = "\tif (cpu < 0 || cpu >= scx_bpf_nr_cpu_ids())";
        // A kfunc of the CPU's number, 0 for a CPU out of range.
        let per_cpu_kfunc = |fact: &str, what: &str, kfunc: &str| Function {
            comment: format!("/* cpu.{fact} of @cpu: {what}; 0 for a CPU out of range. */"),
            signature: format!("static __always_inline u64 schedc_{fact}_of(s64 cpu)"),
            body: vec![in_range.to_string(), "\t\treturn 0;".to_string(), format!("\treturn {kfunc}(cpu);")],
            member: None,
        };
        if self.uses_cpu_fact(CpuFact::Capacity) {
            out.push(per_cpu_kfunc(
                "capacity",
                "its compute capacity, 1024 for the machine's fastest CPU",
                "scx_bpf_cpuperf_cap",
            ));
        }
        if self.uses_cpu_fact(CpuFact::Perf) {
            out.push(per_cpu_kfunc(
                "perf",
                "its current performance level, 0..1024 of its capacity",
                "scx_bpf_cpuperf_cur",
            ));
        }
        if self.uses_cpu_fact(CpuFact::SmtContended) {
            out.push(Function {
                comment: "/* cpu.smt_contended of @cpu: SMT is on, @cpu's core is not wholly idle (@cpu or a sibling runs something) and some CPU is idle; false for a CPU out of range. */".to_string(),
                signature: "static __always_inline bool schedc_smt_contended_of(s64 cpu)".to_string(),
                body: vec![
                    "\tconst struct cpumask *idle_cores, *idle_cpus;".to_string(),
                    "\tbool contended;".to_string(),
                    String::new(),
                    format!("\tif (!{} || cpu < 0 || cpu >= scx_bpf_nr_cpu_ids())", MachineFact::Smt.symbol()),
                    "\t\treturn false;".to_string(),
                    "\t/* A CPU is in the first mask when its whole core is idle, in the second when it is idle. */".to_string(),
                    "\tidle_cores = scx_bpf_get_idle_smtmask();".to_string(),
                    "\tidle_cpus = scx_bpf_get_idle_cpumask();".to_string(),
                    "\tcontended = !bpf_cpumask_test_cpu(cpu, idle_cores) && !bpf_cpumask_empty(idle_cpus);".to_string(),
                    "\tscx_bpf_put_idle_cpumask(idle_cpus);".to_string(),
                    "\tscx_bpf_put_idle_cpumask(idle_cores);".to_string(),
                    "\treturn contended;".to_string(),
                ],
                member: None,
            });
        }
        if self.sets_cpu_perf() {
            out.push(Function {
                comment: format!("/* cpu.perf = @perf: the running CPU's performance target, at most {CPUPERF_ONE} (its full performance; the kernel stops a scheduler asking for more). */"),
                signature: "static __always_inline void schedc_set_perf(u64 perf)".to_string(),
                body: vec![format!(
                    "\tscx_bpf_cpuperf_set(bpf_get_smp_processor_id(), perf < {CPUPERF_ONE} ? perf : {CPUPERF_ONE});"
                )],
                member: None,
            });
        }
        out
    }
}
