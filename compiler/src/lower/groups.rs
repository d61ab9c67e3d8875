//! Dispatch lines that serve several queues as one (`earliest(...)`,
//! `round_robin(...)`), and `keep_running`.

use crate::ir::{Function, Global};
use crate::model::*;

use super::{Lowering, GLOBAL_APART, GLOBAL_ONCE};

impl Lowering<'_> {
    fn groups(&self) -> impl Iterator<Item = &Serve> {
        self.model.dispatch.iter().filter(|s| s.group != ServeGroup::One)
    }

    /// The helper a group is served by, named after its first queue (each
    /// queue is served once, so the name is unique).
    fn group_name(&self, serve: &Serve) -> String {
        let kind = match serve.group {
            ServeGroup::Earliest(_) => "earliest",
            _ => "round_robin",
        };
        format!("schedc_serve_{kind}_{}", self.model.queues[serve.queue].name)
    }

    pub(super) fn group_call(&self, serve: &Serve) -> String {
        format!("{}(cpu)", self.group_name(serve))
    }

    fn turn_names(&self, serve: &Serve) -> (String, String) {
        let first = &self.model.queues[serve.queue].name;
        (format!("schedc_turn_{first}"), format!("schedc_given_{first}"))
    }

    /// Each CPU keeps, per round-robin line, whose turn it is and how many
    /// tasks that queue has given in a row.
    pub(super) fn group_globals(&self) -> Vec<Global> {
        let mut out = Vec::new();
        for serve in self.groups().filter(|s| matches!(s.group, ServeGroup::RoundRobin(_))) {
            let (turn, given) = self.turn_names(serve);
            let line = self.comment(serve.origin);
            out.push(Global {
                comment: format!("{line}\n/* per CPU: the queue whose turn it is */"),
                decl: "static u32".to_string(),
                name: format!("{turn}[SCHEDC_MAX_CPUS]"),
                init: None,
            });
            out.push(Global {
                comment: "/* per CPU: tasks that queue gave in a row */".to_string(),
                decl: "static u32".to_string(),
                name: format!("{given}[SCHEDC_MAX_CPUS]"),
                init: None,
            });
        }
        out
    }

    pub(super) fn group_helpers(&self) -> Vec<Function> {
        let mut out = Vec::new();
        if self.groups().any(|s| matches!(s.group, ServeGroup::Earliest(_))) {
            out.push(Function {
                comment: format!(
                    "/* The key of the first task of @dsq_id, in *key; false if it is empty. {GLOBAL_ONCE} */"
                ),
                signature: "SCHEDC_GLOBAL bool schedc_head_key(u64 dsq_id, u64 *key __arg_nonnull)".to_string(),
                body: vec![
                    "\tstruct task_struct *p;".to_string(),
                    "\tbool found = false;".to_string(),
                    String::new(),
                    "\t/* Set on every path, so the verifier never sees it unset. */".to_string(),
                    "\t*key = 0;".to_string(),
                    "\t/* The kernel keeps the key a task was queued with in dsq_vtime. */".to_string(),
                    "\tif (bpf_ksym_exists(scx_bpf_dsq_peek)) {".to_string(),
                    "\t\tp = scx_bpf_dsq_peek(dsq_id);".to_string(),
                    "\t\tif (p) {".to_string(),
                    "\t\t\t*key = p->scx.dsq_vtime;".to_string(),
                    "\t\t\tfound = true;".to_string(),
                    "\t\t}".to_string(),
                    "\t\treturn found;".to_string(),
                    "\t}".to_string(),
                    "\tbpf_for_each(scx_dsq, p, dsq_id, 0) {".to_string(),
                    "\t\t*key = p->scx.dsq_vtime;".to_string(),
                    "\t\tfound = true;".to_string(),
                    "\t\tbreak;".to_string(),
                    "\t}".to_string(),
                    "\treturn found;".to_string(),
                ],
                member: None,
            });
        }
        for serve in self.groups() {
            out.push(match &serve.group {
                ServeGroup::Earliest(queues) => self.earliest_helper(serve, queues),
                ServeGroup::RoundRobin(weights) => self.round_robin_helper(serve, weights),
                ServeGroup::One => unreachable!("filtered"),
            });
        }
        out
    }

    fn earliest_helper(&self, serve: &Serve, queues: &[usize]) -> Function {
        let m = self.model;
        // Each id once: a per-node or per-LLC id reads the topology, with a
        // bounds check the verifier would otherwise walk at every use.
        let names: Vec<&str> = queues.iter().map(|q| m.queues[*q].name.as_str()).collect();
        let ids: Vec<String> = queues.iter().map(|q| self.queue_id(*q, "cpu")).collect();
        let mut body = vec![
            format!("\t/* The DSQ of each queue on this CPU: {}. */", names.join(", ")),
            format!("\tu64 dsq[{}] = {{ {} }};", queues.len(), ids.join(", ")),
            "\tu64 best = dsq[0], best_key, key;".to_string(),
            "\tbool found = schedc_head_key(dsq[0], &best_key);".to_string(),
            String::new(),
        ];
        for i in 1..queues.len() {
            body.push(format!("\tif (schedc_head_key(dsq[{i}], &key) && (!found || (s64)(key - best_key) < 0)) {{"));
            body.push(format!("\t\tbest = dsq[{i}];"));
            // The last comparison is the last to read these.
            if i + 1 < queues.len() {
                body.push("\t\tbest_key = key;".to_string());
                body.push("\t\tfound = true;".to_string());
            }
            body.push("\t}".to_string());
        }
        // Not `found &&`: with every queue empty, best is the first queue,
        // and the move fails. The paths of the comparisons then meet here,
        // and the verifier walks the moves below once instead of on each.
        body.push("\tif (schedc_move_to_local(best))".to_string());
        body.push("\t\treturn true;".to_string());
        // Another CPU may have taken that task meanwhile: then any will do.
        let moves: Vec<String> = (0..queues.len()).map(|i| format!("schedc_move_to_local(dsq[{i}])")).collect();
        body.push("\t/* Empty, or its head was taken meanwhile: the first queue with a task. */".to_string());
        body.push(format!("\treturn {};", moves.join(" ||\n\t       ")));
        self.serve_function(serve, "Serves the queue whose first task has the lowest key (compared wrap-safely).", body)
    }

    fn round_robin_helper(&self, serve: &Serve, weights: &[(usize, u64)]) -> Function {
        let (turn, given) = self.turn_names(serve);
        let n = weights.len();
        let mut body = vec![
            "\tu32 c = cpu, k, tries;".to_string(),
            "\tu32 *turn, *given;".to_string(),
            "\tbool moved;".to_string(),
            String::new(),
            "\tif (c >= SCHEDC_MAX_CPUS)".to_string(),
            "\t\treturn false;".to_string(),
            format!("\tturn = &{turn}[c];"),
            format!("\tgiven = &{given}[c];"),
            "\t/* Each queue once, and the first again after its count starts over. */".to_string(),
            format!("\tfor (tries = 0; tries <= {n}; tries += 1) {{"),
            "\t\tk = *turn;".to_string(),
            "\t\t/* Queue k's turn: it gives a task if it has one and its weight allows. */".to_string(),
            "\t\tswitch (k) {".to_string(),
        ];
        for (i, (q, w)) in weights.iter().enumerate() {
            body.push(format!(
                "\t\tcase {i}: moved = *given < {w} && schedc_move_to_local({}); break;",
                self.queue_id(*q, "cpu")
            ));
        }
        body.extend([
            "\t\tdefault: moved = false; break;".to_string(),
            "\t\t}".to_string(),
            "\t\tif (moved) {".to_string(),
            "\t\t\t*given += 1;".to_string(),
            "\t\t\treturn true;".to_string(),
            "\t\t}".to_string(),
            "\t\t/* Its turn is over, or it is empty: the next queue's turn. */".to_string(),
            format!("\t\t*turn = k + 1 < {n} ? k + 1 : 0;"),
            "\t\t*given = 0;".to_string(),
            "\t}".to_string(),
            "\treturn false;".to_string(),
        ]);
        self.serve_function(serve, "Serves the queues in turn, each up to its weight of tasks in a row.", body)
    }

    /// `bool NAME(s32 cpu)`: serves one dispatch line, true if it moved a
    /// task to the CPU's local queue.
    fn serve_function(&self, serve: &Serve, what: &str, body: Vec<String>) -> Function {
        Function {
            comment: format!("/* {what} {GLOBAL_APART} */\n{}", self.comment(serve.origin)),
            signature: format!("SCHEDC_GLOBAL bool {}(s32 cpu)", self.group_name(serve)),
            body,
            member: None,
        }
    }

    /// Nothing was found: a previous task that is still runnable keeps the
    /// CPU with a fresh slice from the policy's formula (the kernel would
    /// give it its default slice).
    pub(super) fn keep_running(&self) -> Vec<String> {
        let mut out = vec!["\tif (prev && (prev->scx.flags & SCHEDC_TASK_QUEUED)) {".to_string()];
        let slice = self.slice_call();
        // The task's state is looked up only if the slice formula reads it.
        if self.slice_reads_state() {
            out.push("\t\tstruct task_struct *p = prev;".to_string());
            out.push("\t\tstruct schedc_task *tctx = schedc_task_ctx(p);".to_string());
            out.push(String::new());
            out.push("\t\tif (tctx)".to_string());
            out.push(format!("\t\t\tschedc_set_slice(p, {slice});"));
        } else if self.model.slice.is_some() {
            out.push("\t\tstruct task_struct *p = prev;".to_string());
            out.push(String::new());
            out.push(format!("\t\tschedc_set_slice(p, {slice});"));
        } else {
            out.push(format!("\t\tschedc_set_slice(prev, {slice});"));
        }
        out.push("\t}".to_string());
        out
    }
}
