//! Expressions and statements to C text.
//!
//! Every expression is typed by the checker; here each type maps to one C
//! type (durations and ints are `s64`, uints and times `u64`), operands are
//! converted to the result's C type, and signed division goes through the
//! header's helpers because BPF has no signed divide before cpu v4.

use schedc_abi::MachineFact;

use crate::model::*;

use super::Lowering;

pub(super) fn c_type(ty: Type) -> &'static str {
    match ty {
        Type::Value(ValueType::Duration | ValueType::Int) => "s64",
        Type::Value(ValueType::Uint | ValueType::Time) => "u64",
        Type::Value(ValueType::Bool) => "bool",
        Type::Class => "u8",
        Type::Str => "const char *",
    }
}

pub(super) fn value_c_type(ty: ValueType) -> &'static str {
    c_type(Type::Value(ty))
}

/// A constant of the given type as C.
pub(super) fn constant(v: i128, ty: ValueType) -> String {
    match ty {
        ValueType::Bool => if v != 0 { "true" } else { "false" }.to_string(),
        ValueType::Duration => duration(v),
        ValueType::Uint | ValueType::Time if v > i128::from(i64::MAX) => format!("{v}ULL"),
        // `-9223372036854775808LL` would negate an unsigned literal in C.
        _ if v == i128::from(i64::MIN) => "S64_MIN".to_string(),
        _ if v > i128::from(i32::MAX) || v < i128::from(i32::MIN) => format!("{v}LL"),
        _ => v.to_string(),
    }
}

/// A duration in the largest unit that divides it: `5 * NSEC_PER_MSEC`.
fn duration(ns: i128) -> String {
    if ns == 0 {
        return "0".to_string();
    }
    for (unit, name) in [(1_000_000_000, "NSEC_PER_SEC"), (1_000_000, "NSEC_PER_MSEC"), (1_000, "NSEC_PER_USEC")] {
        if ns % unit == 0 {
            return match ns / unit {
                1 => name.to_string(),
                n => format!("{n} * {name}"),
            };
        }
    }
    constant(ns, ValueType::Int)
}

/// Escapes text for the inside of a C string literal.
pub(super) use schedc_abi::c::string_body as c_string;

/// Makes text safe inside a C block comment: no comment delimiters, and no
/// control or bidirectional-override characters that could make the C read
/// differently from what it is.
pub(super) fn comment_text(text: &str) -> String {
    let bidi = |c: char| matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || bidi(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out.replace("*/", "* /").replace("/*", "/ *")
}

/// C precedence levels, higher binds tighter.
const ATOM: u8 = 16;
const UNARY: u8 = 14;
const COND: u8 = 3;

fn precedence(op: BinOp) -> u8 {
    match op {
        BinOp::Mul | BinOp::Div | BinOp::Rem => 13,
        BinOp::Add | BinOp::Sub => 12,
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 10,
        BinOp::Eq | BinOp::Ne => 9,
        BinOp::And => 5,
        BinOp::Or => 4,
    }
}

fn wrap(text: String, prec: u8, min: u8) -> String {
    if prec < min {
        format!("({text})")
    } else {
        text
    }
}

impl Lowering<'_> {
    /// An expression as C, with only the parentheses C needs.
    pub(super) fn expr(&self, e: &Expr) -> String {
        self.expr_prec(e).0
    }

    /// A condition as C: a flag fact alone tests its bits, without the
    /// `!!(...)` that makes its value 0 or 1 elsewhere.
    pub(super) fn condition(&self, e: &Expr) -> String {
        let c = self.expr(e);
        match c.strip_prefix("!!") {
            Some(inner) if encloses_all(inner) => inner[1..inner.len() - 1].to_string(),
            _ => c,
        }
    }

    /// An expression as C and the precedence of its outermost operator.
    fn expr_prec(&self, e: &Expr) -> (String, u8) {
        match &e.kind {
            ExprKind::Const(v) => {
                let text = match e.ty {
                    Type::Value(ty) => constant(*v, ty),
                    _ => v.to_string(),
                };
                let prec = if text.contains(' ') {
                    13
                } else if text.starts_with('-') {
                    UNARY
                } else {
                    ATOM
                };
                (text, prec)
            }
            ExprKind::Str(s) => (format!("\"{}\"", c_string(s)), ATOM),
            ExprKind::Param(i) => (self.model.params[*i].name.clone(), ATOM),
            ExprKind::Global(i) => (self.model.globals[*i].name.clone(), ATOM),
            ExprKind::Stat(i) => (self.model.stats[*i].name.clone(), ATOM),
            ExprKind::TaskVar(i) => (format!("tctx->{}", self.model.task_vars[*i].name), ATOM),
            ExprKind::WakerVar(i) => (format!("schedc_waker_{}()", self.model.task_vars[*i].name), ATOM),
            ExprKind::Local(name) => (name.clone(), ATOM),
            ExprKind::Elapsed(_) => ("elapsed".to_string(), ATOM),
            ExprKind::ClassValue(c) => (self.class_const(*c), ATOM),
            ExprKind::Fact(Fact::TaskVruntime) if self.has_vtime => ("(s64)tctx->vruntime".to_string(), UNARY),
            ExprKind::Fact(f) => (fact(*f).to_string(), UNARY),
            ExprKind::CpuVar { var, on: None } => (self.cpu_var_here(*var), ATOM),
            ExprKind::CpuVar { var, on: Some(cpu) } => (self.cpu_var_on(*var, &self.expr(cpu)), ATOM),
            ExprKind::CpuFact { fact, on } => (self.cpu_fact(*fact, on.as_deref().map(|cpu| self.expr(cpu))), ATOM),
            ExprKind::QueueLenOn { queue, cpu } => (self.queue_len_on(*queue, &self.expr(cpu)), ATOM),
            ExprKind::InSet { set, cpu: None } => (self.in_cpuset(*set, "bpf_get_smp_processor_id()"), ATOM),
            ExprKind::InSet { set, cpu: Some(cpu) } => (self.in_cpuset(*set, &self.expr(cpu)), ATOM),
            ExprKind::QueueLen(q) => {
                (format!("schedc_nr_queued({})", self.queue_id(*q, "bpf_get_smp_processor_id()")), ATOM)
            }
            ExprKind::Neg(x) => {
                // `- -x` must not become C's `--x`.
                let inner = self.at_least(x, UNARY);
                let text = if inner.starts_with('-') { format!("-({inner})") } else { format!("-{inner}") };
                (text, UNARY)
            }
            ExprKind::Not(x) => {
                // A flag fact reads `!!(flags & F)`; its negation is `!(flags & F)`.
                let inner = self.at_least(x, UNARY);
                (format!("!{}", inner.strip_prefix("!!").unwrap_or(&inner)), UNARY)
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e.ty, false),
            ExprKind::GuardedDiv { op, lhs, rhs } => self.binary(*op, lhs, rhs, e.ty, true),
            ExprKind::Cond { cond, then, otherwise } => {
                let text = format!(
                    "{} ? {} : {}",
                    self.at_least(cond, COND + 1),
                    self.at_least(then, COND + 1),
                    self.at_least(otherwise, COND)
                );
                (text, COND)
            }
            ExprKind::Call { func, args } => match self.unsigned_call(e) {
                Some(call) => (format!("(s64){call}"), UNARY),
                None => self.builtin_call(*func, args, e.ty),
            },
            ExprKind::CommIs { of, name, equal, prefix } => {
                let text = match (of, prefix) {
                    (Fact::TaskComm, false) => format!("SCHEDC_COMM_EQ(p, \"{}\")", c_string(name)),
                    (_, false) => format!("SCHEDC_NAME_EQ({}, \"{}\")", fact(*of), c_string(name)),
                    (_, true) => format!("SCHEDC_NAME_STARTS({}, \"{}\")", fact(*of), c_string(name)),
                };
                if *equal {
                    (text, ATOM)
                } else {
                    (format!("!{text}"), UNARY)
                }
            }
            ExprKind::Convert { to, value } => match self.unsigned_call(value) {
                Some(call) if value_c_type(*to) == "u64" => (call, ATOM),
                _ => (format!("({}){}", value_c_type(*to), self.at_least(value, UNARY)), UNARY),
            },
            ExprKind::CallFn { func, args } => {
                let f = &self.model.functions[*func];
                let mut all: Vec<String> = Vec::new();
                if f.reads_task {
                    all.push(self.task_args().to_string());
                }
                all.extend(args.iter().map(|a| self.expr(a)));
                (format!("{}({})", f.name, all.join(", ")), ATOM)
            }
        }
    }

    /// A call of a built-in function, `schedc_NAME_TYPE(args)`.
    fn builtin_call(&self, func: Builtin, args: &[Expr], ty: Type) -> (String, u8) {
        let name = match func {
            Builtin::Min => "min",
            Builtin::Max => "max",
            Builtin::Clamp => "clamp",
            Builtin::Ewma => "ewma",
            Builtin::Log2 => "log2",
        };
        // Named after the C type it computes in: the result's, but for log2,
        // whose argument's type decides (log2 of an int is a uint). An
        // argument of another type converts at the call, as C does: `max`
        // of a uint literal above 2^63 and 1 is that literal, not 1.
        let ty = if func == Builtin::Log2 { args.first().map_or(ty, |a| a.ty) } else { ty };
        let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
        (format!("schedc_{name}_{}({})", c_type(ty), args.join(", ")), ATOM)
    }

    /// `e` as C, parenthesised if it binds looser than `min`.
    pub(super) fn at_least(&self, e: &Expr, min: u8) -> String {
        let (text, prec) = self.expr_prec(e);
        wrap(text, prec, min)
    }

    /// The `u64` helper call that computes a signed expression proven never
    /// negative: `max(x, 0)` is `schedc_positive(x)`, and a quotient of two
    /// never-negative operands is `schedc_udiv`, without schedc_sdiv's sign
    /// fix-ups. Read as `s64` it is cast; read as `u64` it is used as is.
    fn unsigned_call(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Call { func: Builtin::Max, args } if args.iter().all(|a| c_type(a.ty) == "s64") => {
                match args.as_slice() {
                    [x, zero] | [zero, x] if matches!(zero.kind, ExprKind::Const(0)) => {
                        Some(format!("schedc_positive({})", self.expr(x)))
                    }
                    _ => None,
                }
            }
            ExprKind::Binary { op, lhs, rhs } | ExprKind::GuardedDiv { op, lhs, rhs } => {
                self.unsigned_call_of(*op, lhs, rhs, c_type(e.ty))
            }
            _ => None,
        }
    }

    fn unsigned_call_of(&self, op: BinOp, lhs: &Expr, rhs: &Expr, to: &str) -> Option<String> {
        let m = self.model;
        // Not merely never negative: a product that wraps is negative in C.
        let never_negative = |e: &Expr| crate::check::sign::exactly_non_negative(e, &m.params, &m.functions);
        if op != BinOp::Div || to != "s64" || !never_negative(lhs) || !never_negative(rhs) {
            return None;
        }
        let (l, r) = (self.converted(lhs, "u64", 0).0, self.converted(rhs, "u64", 0).0);
        Some(format!("schedc_udiv({l}, {r})"))
    }

    /// An operand converted to C type `to` where its own type differs.
    fn converted(&self, e: &Expr, to: &str, min: u8) -> (String, u8) {
        if to == "u64" {
            if let Some(call) = self.unsigned_call(e) {
                return (call, ATOM);
            }
        }
        if c_type(e.ty) == to || matches!(e.kind, ExprKind::Const(_)) {
            let (text, prec) = self.expr_prec(e);
            (wrap(text, prec, min), prec.max(min))
        } else {
            (format!("({to}){}", self.at_least(e, UNARY)), UNARY)
        }
    }

    fn binary(&self, op: BinOp, lhs: &Expr, rhs: &Expr, ty: Type, guarded: bool) -> (String, u8) {
        let prec = precedence(op);
        if op.is_comparison() || matches!(op, BinOp::And | BinOp::Or) {
            let sym = match op {
                BinOp::And => "&&",
                BinOp::Or => "||",
                other => other.symbol(),
            };
            // `a || b && c` means what C says, but clang asks for the
            // parentheses, and so does a reader.
            let operand = |x: &Expr, min: u8| {
                let (text, p) = self.expr_prec(x);
                let and_in_or = op == BinOp::Or && p == precedence(BinOp::And);
                wrap(text, p, if and_in_or { ATOM } else { min })
            };
            return (format!("{} {sym} {}", operand(lhs, prec), operand(rhs, prec + 1)), prec);
        }
        let to = c_type(ty);
        if let Some(call) = self.unsigned_call_of(op, lhs, rhs, to) {
            return (format!("(s64){call}"), UNARY);
        }
        let helper = match op {
            BinOp::Div if to == "s64" => Some("schedc_sdiv"),
            BinOp::Rem if to == "s64" => Some("schedc_smod"),
            BinOp::Div if guarded => Some("schedc_udiv"),
            BinOp::Rem if guarded => Some("schedc_umod"),
            _ => None,
        };
        if let Some(f) = helper {
            // Arguments of a call need no parentheses of their own.
            let (l, r) = (self.converted(lhs, to, 0).0, self.converted(rhs, to, 0).0);
            return (format!("{f}({l}, {r})"), ATOM);
        }
        let (l, r) = (self.converted(lhs, to, prec).0, self.converted(rhs, to, prec + 1).0);
        (format!("{l} {} {r}", op.symbol()), prec)
    }

    pub(super) fn class_const(&self, class: Option<usize>) -> String {
        match class {
            None => "CLASS_NONE".to_string(),
            Some(i) => format!("CLASS_{}", self.model.classes[i].name.to_uppercase()),
        }
    }

    // ------------------------------------------------------------ statements

    /// Appends `body` as C lines at `indent` tabs. A statement gets a comment
    /// naming its policy line unless it shares the line of `enclosing`.
    pub(super) fn stmts(&self, body: &[Stmt], indent: usize, enclosing: usize, out: &mut Vec<String>) {
        for stmt in body {
            let tabs = "\t".repeat(indent);
            if stmt.origin.line != enclosing {
                out.push(format!("{tabs}{}", self.comment(stmt.origin)));
            }
            match &stmt.kind {
                StmtKind::Let { name, value } => {
                    out.push(format!("{tabs}{} {name} = {};", c_type(value.ty), self.expr(value)));
                }
                StmtKind::Assign { target: Place::WakerVar(i), op, value } => {
                    // The waker may have no state here (nothing to write), and
                    // an interrupt's wake-up has no waker (schedc_waker is NULL).
                    let name = &self.model.task_vars[*i].name;
                    let sym = match op {
                        AssignOp::Set => "=",
                        AssignOp::Add => "+=",
                        AssignOp::Sub => "-=",
                    };
                    out.push(format!("{tabs}{{"));
                    out.push(format!("{tabs}\tstruct schedc_task *waker = schedc_waker();"));
                    out.push(String::new());
                    out.push(format!("{tabs}\tif (waker)"));
                    out.push(format!("{tabs}\t\twaker->{name} {sym} {};", self.expr(value)));
                    out.push(format!("{tabs}}}"));
                }
                StmtKind::Assign { target, op, value } => {
                    out.push(format!("{tabs}{}", self.assign(target, *op, value)))
                }
                StmtKind::If { cond, then, otherwise } => {
                    out.push(format!("{tabs}if ({}) {{", self.condition(cond)));
                    self.stmts(then, indent + 1, stmt.origin.line, out);
                    let mut rest = otherwise;
                    // `else if` chains stay flat, as they were written.
                    while let [Stmt { kind: StmtKind::If { cond, then, otherwise }, origin }] = rest.as_slice() {
                        out.push(format!("{tabs}}} else if ({}) {{", self.condition(cond)));
                        self.stmts(then, indent + 1, origin.line, out);
                        rest = otherwise;
                    }
                    if !rest.is_empty() {
                        out.push(format!("{tabs}}} else {{"));
                        self.stmts(rest, indent + 1, stmt.origin.line, out);
                    }
                    out.push(format!("{tabs}}}"));
                }
                StmtKind::Every { sampler, period, body } => {
                    let field = self.sampler_field(*sampler);
                    out.push(format!("{tabs}{{"));
                    out.push(format!("{tabs}\tu64 now = bpf_ktime_get_ns();"));
                    out.push(format!("{tabs}\ts64 elapsed = (s64)(now - tctx->{field});"));
                    out.push(String::new());
                    out.push(format!("{tabs}\tif (elapsed >= {}) {{", self.expr(period)));
                    self.stmts(body, indent + 2, stmt.origin.line, out);
                    out.push(format!("{tabs}\t\ttctx->{field} = now;"));
                    out.push(format!("{tabs}\t}}"));
                    out.push(format!("{tabs}}}"));
                }
                StmtKind::ReenqueueLocal => out.push(format!("{tabs}scx_bpf_reenqueue_local();")),
                StmtKind::FirstCpus { set, count } => {
                    let n = match count.ty {
                        Type::Value(ValueType::Uint) => format!("schedc_uint_cpus({})", self.expr(count)),
                        _ => self.expr(count),
                    };
                    out.push(format!("{tabs}schedc_first_cpus_{}({n});", self.model.cpusets[*set].name));
                }
                StmtKind::Trace { message, args } => {
                    let mut fmt = c_string(message).replace('%', "%%");
                    let mut values = Vec::new();
                    for (text, e) in args {
                        let spec = match c_type(e.ty) {
                            "u64" => "%llu",
                            "bool" => "%d",
                            _ => "%lld",
                        };
                        fmt.push_str(&format!(" {}={spec}", c_string(text).replace('%', "%%")));
                        values.push(self.expr(e));
                    }
                    let args = values.iter().map(|v| format!(", {v}")).collect::<String>();
                    out.push(format!("{tabs}bpf_printk(\"{} {fmt}\"{args});", self.model.name));
                }
            }
        }
    }

    fn assign(&self, target: &Place, op: AssignOp, value: &Expr) -> String {
        let v = self.expr(value);
        let shared = matches!(target, Place::Global(_) | Place::Stat(_));
        let lvalue = match target {
            Place::TaskVar(i) => format!("tctx->{}", self.model.task_vars[*i].name),
            Place::Global(i) => self.model.globals[*i].name.clone(),
            // Only the running CPU writes its slot: plain updates suffice.
            Place::CpuVar(i) => self.cpu_var_here(*i),
            Place::Stat(i) => self.model.stats[*i].name.clone(),
            Place::TaskClass => "tctx->class".to_string(),
            // The checker allows only `=`.
            Place::CpuPerf => return format!("schedc_set_perf({v});"),
            Place::WakerVar(_) => unreachable!("the waker's variables are written by `body`"),
            Place::TaskSlice => {
                return match op {
                    AssignOp::Set => format!("schedc_set_slice(p, {v});"),
                    AssignOp::Add => format!("schedc_set_slice(p, (s64)p->scx.slice + {});", self.at_least(value, 13)),
                    AssignOp::Sub => format!("schedc_set_slice(p, (s64)p->scx.slice - {});", self.at_least(value, 13)),
                };
            }
        };
        match op {
            AssignOp::Set => format!("{lvalue} = {v};"),
            // Globals are shared by all CPUs: update them atomically.
            AssignOp::Add if shared => format!("__sync_fetch_and_add(&{lvalue}, {v});"),
            AssignOp::Sub if shared => format!("__sync_fetch_and_sub(&{lvalue}, {v});"),
            AssignOp::Add => format!("{lvalue} += {v};"),
            AssignOp::Sub => format!("{lvalue} -= {v};"),
        }
    }
}

/// A fact as C. `p`, `prev_cpu`, `wake_flags` and `runnable` are the names of
/// the callbacks' own parameters.
fn fact(f: Fact) -> &'static str {
    match f {
        Fact::TaskNvcsw => "p->nvcsw",
        Fact::TaskWeight => "p->scx.weight",
        Fact::TaskKthread => "!!(p->flags & SCHEDC_PF_KTHREAD)",
        Fact::TaskNrCpusAllowed => "(u64)p->nr_cpus_allowed",
        Fact::TaskMigrationDisabled => "schedc_migration_disabled(p)",
        Fact::TaskRunning => "scx_bpf_task_running(p)",
        Fact::TaskPid => "(s64)p->pid",
        Fact::TaskComm => "p->comm",
        Fact::TaskVruntime => "(s64)p->scx.dsq_vtime",
        Fact::TaskSliceLeft => "(s64)p->scx.slice",
        Fact::TaskCpu => "(s64)scx_bpf_task_cpu(p)",
        Fact::TaskLlc => "(s64)schedc_llc_of(scx_bpf_task_cpu(p))",
        Fact::TaskNode => "(s64)schedc_node_of(scx_bpf_task_cpu(p))",
        Fact::TaskClass => "tctx->class",
        Fact::SystemNow => "bpf_ktime_get_ns()",
        Fact::SystemNrCpus => "schedc_nr_cpus",
        Fact::SystemSmt => MachineFact::Smt.symbol(),
        Fact::SystemVtimeNow => "(s64)schedc_vtime_now",
        Fact::EventPrevCpu => "(s64)prev_cpu",
        Fact::EventSync => "!!(wake_flags & SCHEDC_WAKE_SYNC)",
        Fact::EventRunnable => "runnable",
        Fact::TaskTgid => "(s64)p->tgid",
        Fact::TaskNice => "((s64)p->static_prio - 120)",
        Fact::TaskRuntime => "(s64)p->se.sum_exec_runtime",
        Fact::TaskAwakeRuntime => "(s64)(p->se.sum_exec_runtime - tctx->schedc_woke_runtime)",
        Fact::TaskParentComm => "p->real_parent->comm",
        Fact::TaskPpid => "(s64)p->real_parent->tgid",
        Fact::TaskCgroup => "schedc_cgroup_name(p).name",
        Fact::TaskUid => "(s64)BPF_CORE_READ(p, cred, euid.val)",
        Fact::TaskGid => "(s64)BPF_CORE_READ(p, cred, egid.val)",
        Fact::EventWakeup => "!!(enq_flags & SCHEDC_ENQ_WAKEUP)",
        Fact::EventReenqueue => "!!(enq_flags & SCHEDC_ENQ_REENQ)",
        Fact::EventLast => "!!(enq_flags & SCHEDC_ENQ_LAST)",
        Fact::EventFoundCpu => "cpu",
        Fact::EventCpuSelected => "schedc_cpu_selected",
        Fact::EventSleep => "!!(deq_flags & SCHEDC_DEQ_SLEEP)",
        Fact::EventHardirq => "!!(schedc_preempt_count() & SCHEDC_HARDIRQ_MASK)",
        Fact::EventSoftirq => "!!(schedc_preempt_count() & SCHEDC_SOFTIRQ_OFFSET)",
        Fact::WakerPid => "(s64)bpf_get_current_task_btf()->pid",
        Fact::WakerTgid => "(s64)bpf_get_current_task_btf()->tgid",
        Fact::WakerPpid => "(s64)bpf_get_current_task_btf()->real_parent->tgid",
        Fact::WakerComm => "bpf_get_current_task_btf()->comm",
        Fact::WakerClass => "schedc_class_of(bpf_get_current_task_btf())",
        // MAX_RT_PRIO: priorities below it are the real-time and deadline classes.
        Fact::WakerRealtime => "(bpf_get_current_task_btf()->prio < 100)",
        Fact::WakerKthread => "!!(bpf_get_current_task_btf()->flags & SCHEDC_PF_KTHREAD)",
    }
}

/// Whether `c` is one parenthesised whole: `(a & b)`, not `(a) && (b)`.
pub(super) fn encloses_all(c: &str) -> bool {
    let mut depth = 0usize;
    for (i, ch) in c.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1 == c.len();
                }
            }
            _ if depth == 0 => return false,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::encloses_all;

    #[test]
    fn a_whole_in_parentheses_is_told_from_parenthesised_parts() {
        assert!(encloses_all("(enq_flags & SCHEDC_ENQ_WAKEUP)"));
        assert!(encloses_all("((a) + (b))"));
        assert!(!encloses_all("(a) && (b)"));
        assert!(!encloses_all("(a) == 1"));
        assert!(!encloses_all("a"));
    }
}
