//! The policy's own functions (`fn`), and the helpers the newer facts need.

use crate::ir::Function;
use crate::model::*;

use super::expr::value_c_type;
use super::Lowering;

impl Lowering<'_> {
    /// Helpers that come before every other: the rules and formulas call them.
    pub(super) fn reuse_helpers(&self) -> Vec<Function> {
        let mut out = Vec::new();
        if self.uses_fact(Fact::WakerClass) {
            out.push(Function {
                comment: "/* The class of another task, such as the waker; none if it has no state here. */"
                    .to_string(),
                signature: "static __always_inline u8 schedc_class_of(struct task_struct *t)".to_string(),
                body: vec![
                    "\tstruct schedc_task *other = bpf_task_storage_get(&schedc_tasks, t, 0, 0);".to_string(),
                    String::new(),
                    "\treturn other ? other->class : CLASS_NONE;".to_string(),
                ],
                member: None,
            });
        }
        if self.uses_fact(Fact::TaskMigrationDisabled) {
            out.push(migration_disabled_helper());
        }
        out.extend(self.waker_helpers());
        for f in &self.model.functions {
            let mut params: Vec<String> = Vec::new();
            if f.reads_task {
                params.push(self.task_params().to_string());
            }
            params.extend(f.params.iter().map(|(name, ty)| format!("{} {name}", value_c_type(*ty))));
            let params = if params.is_empty() { "void".to_string() } else { params.join(", ") };
            let ret = match f.result.ty {
                Type::Value(ty) => value_c_type(ty),
                Type::Class | Type::Str => unreachable!("the checker refuses such functions"),
            };
            out.push(Function {
                comment: self.comment(f.origin),
                signature: format!("static __always_inline {ret} {}({params})", f.name),
                body: vec![format!("\treturn {};", self.expr(&f.result))],
                member: None,
            });
        }
        out
    }
}

/// `task.migration_disabled`. The BPF trampoline that calls a callback
/// disables migration of the task running it for the call (kernels with
/// preemptible RCU), so that task's count includes one that is not its own:
/// a count of 1 on the current task is the trampoline's.
fn migration_disabled_helper() -> Function {
    Function {
        comment: "/* task.migration_disabled: the task's own migrate_disable() count, less the trampoline's. */"
            .to_string(),
        signature: "static __always_inline bool schedc_migration_disabled(struct task_struct *t)".to_string(),
        body: vec![
            "	if (t->migration_disabled == 1)".to_string(),
            "		return t != bpf_get_current_task_btf();".to_string(),
            "	return t->migration_disabled != 0;".to_string(),
        ],
        member: None,
    }
}

impl Lowering<'_> {
    /// The waker's state and the reads of its per-task variables, if the
    /// policy reads or writes `waker.NAME`.
    fn waker_helpers(&self) -> Vec<Function> {
        let mut used = vec![false; self.model.task_vars.len()];
        self.visit_exprs(&mut |e| {
            if let ExprKind::WakerVar(i) = e.kind {
                used[i] = true;
            }
        });
        if !used.contains(&true) {
            return Vec::new();
        }
        let mut out = vec![Function {
            comment: "/*\n * The waker's state: the running task's, if it is scheduled here. A wake-up\n * from an interrupt has no waker (the running task was only interrupted).\n */"
                .to_string(),
            signature: "static __always_inline struct schedc_task *schedc_waker(void)".to_string(),
            body: vec![
                "\tif (schedc_preempt_count() & (SCHEDC_HARDIRQ_MASK | SCHEDC_SOFTIRQ_OFFSET))".to_string(),
                "\t\treturn NULL;".to_string(),
                "\treturn bpf_task_storage_get(&schedc_tasks, bpf_get_current_task_btf(), 0, 0);".to_string(),
            ],
            member: None,
        }];
        for var in self.model.task_vars.iter().zip(&used).filter(|(_, used)| **used).map(|(var, _)| var) {
            out.push(Function {
                comment: format!("/* waker.{}: 0 if there is no waker or it has no state here. */", var.name),
                signature: format!("static __always_inline {} schedc_waker_{}(void)", value_c_type(var.ty), var.name),
                body: vec![
                    "\tstruct schedc_task *waker = schedc_waker();".to_string(),
                    String::new(),
                    format!("\treturn waker ? waker->{} : 0;", var.name),
                ],
                member: None,
            });
        }
        out
    }
}
