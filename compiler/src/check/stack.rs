//! The BPF stack: the verifier refuses a program that needs more than 512
//! bytes of it, and clang refuses to build one. Lowering inlines every rule
//! into the callback that runs it, so the rules of one callback share its
//! stack. This estimates, on the safe side, what each callback may keep
//! there, counting 8 bytes for every value the generated C may have to keep
//! in memory: each `let` (a C local for the rest of its block), the two
//! locals of each `every` block (`now`, `elapsed`), each value computed
//! before a kernel call in the same expression and needed after it (a
//! register does not survive the call), and the callback's own locals.

use crate::ast::{Event, Span};
use crate::diag::{Code, Diagnostic};
use crate::model::*;

use super::Checker;

/// The most the verifier lets one BPF program use.
const BPF_STACK: usize = 512;

/// The locals every callback declares itself (`tctx`, `cpu`, `slice`,
/// `vtime` or `floor`, ...), counted whatever the callback.
const OWN_SLOTS: usize = 4;

/// A rule that runs in a callback: what the policy calls it, where it is,
/// and how many 8-byte values it may keep on the stack.
struct Rule {
    what: String,
    span: Span,
    slots: usize,
}

impl Checker<'_> {
    /// Reports each callback whose rules may need more stack than the
    /// verifier allows.
    pub(super) fn stack_use(&mut self) {
        // A formula inlined into two callbacks is reported once.
        let mut reported = Vec::new();
        for (callback, rules) in self.callbacks() {
            let total = OWN_SLOTS + rules.iter().map(|r| r.slots).sum::<usize>();
            if total * 8 <= BPF_STACK {
                continue;
            }
            let Some(biggest) = rules.iter().max_by_key(|r| r.slots) else { continue };
            if reported.contains(&biggest.span) {
                continue;
            }
            reported.push(biggest.span);
            let place =
                if callback == "timer" { "the `on timer` callback".to_string() } else { format!("`ops.{callback}`") };
            let mut d = Diagnostic::new(
                Code::StackTooLarge,
                self.first_line(biggest.span),
                format!(
                    "{} may keep about {} bytes on the BPF stack of {place}, where the kernel allows {BPF_STACK}",
                    biggest.what,
                    total * 8
                ),
            )
            .label(format!("{} bytes here", biggest.slots * 8))
            .help(
                "each `let`, each `every` block and each value kept across a kernel call (`system.now`, \
                 `queue.Q.len`, `task.cpu`) takes 8 bytes: use fewer `let`s (write a value used once where it is \
                 used), or move work to another event; the callback keeps 32 bytes of its own",
            );
            for other in rules.iter().filter(|r| r.slots > 0 && !std::ptr::eq(*r, biggest)) {
                d = d.related(
                    self.first_line(other.span),
                    format!("{} runs in {place} too: {} bytes", other.what, other.slots * 8),
                );
            }
            self.error(d);
        }
    }

    /// The rules each callback runs, as lowering puts them together.
    fn callbacks(&self) -> Vec<(&'static str, Vec<Rule>)> {
        let m = &self.model;
        let event = |e: Event, what: &str| {
            m.events.iter().find(|h| h.event == e).map(|h| Rule {
                what: format!("`{what}`"),
                span: h.origin.span,
                slots: stmts_slots(&h.body),
            })
        };
        let formula = |f: &Option<Formula>, what: &str| {
            f.as_ref().map(|f| Rule {
                what: format!("`{what}`"),
                span: f.origin.span,
                slots: stmts_slots(&f.stmts) + held(&f.result).0,
            })
        };
        // Inserting a task computes the slice, the vruntime floor and the deadline.
        let insert = || {
            [
                formula(&m.slice, "slice"),
                formula(&m.vtime_lag, "vtime lag"),
                formula(&m.vtime_deadline, "vtime deadline"),
            ]
        };
        let mut select = vec![event(Event::Wakeup, "on wakeup")];
        select.extend(insert());
        let mut enqueue = vec![event(Event::Enqueue, "on enqueue")];
        enqueue.extend(insert());
        let all = [
            ("select_cpu", select),
            ("enqueue", enqueue),
            ("runnable", vec![event(Event::Runnable, "on runnable")]),
            ("running", vec![event(Event::Running, "on running")]),
            ("tick", vec![event(Event::Tick, "on tick")]),
            ("stopping", vec![formula(&m.vtime_charge, "vtime charge"), event(Event::Stopping, "on stopping")]),
            ("quiescent", vec![event(Event::Quiescent, "on quiescent")]),
            ("enable", vec![event(Event::Join, "on join")]),
            ("cpu_release", vec![event(Event::CpuRelease, "on cpu_release")]),
        ];
        let timer = m.timer.as_ref().map(|t| Rule {
            what: "`on timer`".to_string(),
            span: t.origin.span,
            slots: stmts_slots(&t.body),
        });
        let mut out: Vec<(&'static str, Vec<Rule>)> =
            all.into_iter().map(|(name, rules)| (name, rules.into_iter().flatten().collect())).collect();
        // The timer's callback is no sched_ext member; the message names it as such.
        out.push(("timer", timer.into_iter().collect()));
        out
    }

    /// `span` up to the end of its first line: the head of a block item.
    fn first_line(&self, span: Span) -> Span {
        let text = self.source.slice(span);
        let end = text.find('\n').map_or(span.end, |i| span.start + text[..i].trim_end().len());
        Span { start: span.start, end }
    }
}

/// The 8-byte values statements may keep on the stack: every `let` and the
/// two locals of every `every` block as if all lived at once, plus the most
/// any one expression keeps across a kernel call.
fn stmts_slots(body: &[Stmt]) -> usize {
    let mut locals = 0;
    let mut temps = 0;
    visit(body, &mut |stmt| {
        let exprs: Vec<&Expr> = match &stmt.kind {
            StmtKind::Let { value, .. } => {
                locals += 1;
                vec![value]
            }
            StmtKind::Every { period, .. } => {
                locals += 2;
                vec![period]
            }
            StmtKind::Assign { value, .. } => vec![value],
            StmtKind::FirstCpus { count, .. } => {
                // Its inlined helper's two loop iterators, the map value and
                // the cpumask.
                locals += 4;
                vec![count]
            }
            StmtKind::If { cond, .. } => vec![cond],
            StmtKind::Trace { args, .. } => args.iter().map(|(_, e)| e).collect(),
            StmtKind::ReenqueueLocal => Vec::new(),
        };
        temps = exprs.into_iter().map(|e| held(e).0).fold(temps, usize::max);
    });
    locals + temps
}

fn visit(body: &[Stmt], f: &mut impl FnMut(&Stmt)) {
    for stmt in body {
        f(stmt);
        match &stmt.kind {
            StmtKind::If { then, otherwise, .. } => {
                visit(then, f);
                visit(otherwise, f);
            }
            StmtKind::Every { body, .. } => visit(body, f),
            _ => {}
        }
    }
}

/// How many values `e` may hold across a kernel call while it is computed,
/// and whether it makes one: operands are computed left to right, and those
/// done before an operand that calls the kernel wait through the call.
fn held(e: &Expr) -> (usize, bool) {
    let operands: Vec<&Expr> = match &e.kind {
        ExprKind::Fact(
            Fact::SystemNow
            | Fact::TaskCpu
            | Fact::TaskLlc
            | Fact::TaskNode
            | Fact::WakerPid
            | Fact::WakerTgid
            | Fact::WakerClass
            | Fact::WakerRealtime
            | Fact::WakerKthread
            | Fact::EventHardirq
            | Fact::EventSoftirq,
        )
        | ExprKind::QueueLen(_) => return (0, true),
        ExprKind::CommIs { of: Fact::WakerComm, .. } => return (0, true),
        // A function is inlined: its arguments are computed first, then its
        // body, which may call the kernel with every argument still held.
        ExprKind::CallFn { args, .. } => {
            let mut peak = 0;
            for (before, a) in args.iter().enumerate() {
                let (inner, call) = held(a);
                peak = peak.max(inner + if call { before } else { 0 });
            }
            return (peak.max(args.len()), true);
        }
        ExprKind::Neg(x) | ExprKind::Not(x) | ExprKind::Convert { value: x, .. } => vec![x],
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::GuardedDiv { lhs, rhs, .. } => vec![lhs, rhs],
        ExprKind::Cond { cond, then, otherwise } => vec![cond, then, otherwise],
        ExprKind::Call { args, .. } => args.iter().collect(),
        // Inlined helpers: the CPU is computed, then the array or the kernel read.
        ExprKind::CpuVar { on: Some(cpu), .. } => vec![cpu],
        ExprKind::CpuVar { on: None, .. } | ExprKind::CpuFact { on: None, .. } => return (0, true),
        ExprKind::CpuFact { on: Some(cpu), .. } => return (held(cpu).0, true),
        ExprKind::QueueLenOn { cpu, .. } => return (held(cpu).0, true),
        _ => return (0, false),
    };
    let (mut peak, mut calls) = (0, false);
    for (before, operand) in operands.into_iter().enumerate() {
        let (inner, call) = held(operand);
        peak = peak.max(inner + if call { before } else { 0 });
        calls |= call;
    }
    (peak, calls)
}

#[cfg(test)]
mod tests {
    use crate::check_source;
    use crate::diag::Code;

    /// A policy whose `on running` has `lets` lets, each read at the end.
    fn lets_in_running(lets: usize) -> String {
        lets_in("running", lets)
    }

    /// The same for the event `on EVENT`.
    fn lets_in(event: &str, lets: usize) -> String {
        let defs: String = (0..lets).map(|i| format!("    let a{i} = int(system.now) - task.v\n")).collect();
        let uses: String = (0..lets).map(|i| format!("    task.v += a{i}\n")).collect();
        format!(
            "scheduler s \"x\"\nqueue q shared fifo\ntask v: int = 0\non {event} {{\n{defs}{uses}}}\n\
             enqueue {{ else -> q }}\ndispatch {{ q }}\n"
        )
    }

    fn stack_errors(src: &str) -> Vec<String> {
        let reports = match check_source("s.policy", src) {
            Ok(checked) => checked.warnings,
            Err(reports) => reports,
        };
        reports
            .iter()
            .filter(|r| r.diagnostic.code == Code::StackTooLarge)
            .map(|r| r.diagnostic.message.clone())
            .collect()
    }

    #[test]
    fn too_many_lets_in_one_callback_are_refused_with_the_bytes() {
        // 66 such lets built to 504 bytes of stack with clang 19 and 68 did
        // not build: the estimate errs on the safe side.
        assert_eq!(stack_errors(&lets_in_running(59)), Vec::<String>::new());
        assert_eq!(
            stack_errors(&lets_in_running(64)),
            ["`on running` may keep about 544 bytes on the BPF stack of `ops.running`, where the kernel allows 512"]
        );
    }

    #[test]
    fn runnable_and_quiescent_are_checked_too() {
        for event in ["runnable", "quiescent"] {
            assert_eq!(stack_errors(&lets_in(event, 59)), Vec::<String>::new(), "{event}");
            assert_eq!(
                stack_errors(&lets_in(event, 64)),
                [format!(
                    "`on {event}` may keep about 544 bytes on the BPF stack of `ops.{event}`, where the kernel allows 512"
                )],
            );
        }
    }

    #[test]
    fn rules_of_one_callback_add_up() {
        let lets = |n: usize, at: &str| -> String { (0..n).map(|i| format!("let {at}{i} = system.now ")).collect() };
        let src = format!(
            "scheduler s \"x\"\nqueue q shared vtime\nglobal g: time = 0\n\
             on stopping {{ {} g = system.now }}\nenqueue {{ else -> q }}\ndispatch {{ q }}\n\
             vtime charge {{\n {}\n 1ms\n}}\n",
            lets(32, "a"),
            lets(30, "b")
        );
        assert_eq!(
            stack_errors(&src),
            ["`on stopping` may keep about 528 bytes on the BPF stack of `ops.stopping`, where the kernel allows 512"]
        );
    }

    #[test]
    fn values_kept_across_kernel_calls_count() {
        let nested = (0..8).fold("task.v".to_string(), |inner, _| format!("min(task.v, {inner} + int(system.now))"));
        // Each level keeps its `task.v` through the calls below it, and the
        // innermost `task.v` waits for its `system.now`.
        assert_eq!(super::held(&check_expr(&nested)), (9, true));
        let flat = super::held(&check_expr("task.v + int(system.now) + int(system.now)"));
        assert_eq!(flat, (1, true));
        assert_eq!(super::held(&check_expr("task.v * 2 + 1")), (0, false));
    }

    /// `expr`, checked as the value of a task variable in `on running`.
    fn check_expr(expr: &str) -> crate::model::Expr {
        let src = format!(
            "scheduler s \"x\"\nqueue q shared fifo\ntask v: int = 0\non running {{ task.v = {expr} }}\n\
             enqueue {{ else -> q }}\ndispatch {{ q }}\n"
        );
        let checked = check_source("s.policy", &src).unwrap_or_else(|r| panic!("{r:?}"));
        match &checked.model.events[0].body[0].kind {
            crate::model::StmtKind::Assign { value, .. } => value.clone(),
            other => panic!("{other:?}"),
        }
    }
}
