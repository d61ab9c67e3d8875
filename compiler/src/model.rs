//! The checked policy: every name resolved, every expression typed.
//!
//! The checker builds this from the syntax tree; lowering reads it. Nothing
//! downstream of this module can find a mistake in the policy.

pub use crate::ast::{AssignOp, BinOp, Event, Order, Placement, PreferenceKind, Span, ValueType};
pub use schedc_abi::ops::OpsFlag;
pub use schedc_abi::StatKind;

/// A policy that passed the checker.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub description: String,
    /// Watchdog timeout in milliseconds; 0 leaves the kernel's default.
    pub timeout_ms: u64,
    /// `with FLAG, ...` on the `scheduler` line, each once, in policy order.
    pub ops_flags: Vec<OpsFlag>,
    pub params: Vec<Param>,
    pub queues: Vec<Queue>,
    pub classes: Vec<Class>,
    pub task_vars: Vec<Var>,
    pub globals: Vec<Var>,
    /// `cpu NAME: TYPE = INITIAL`: one instance per CPU; `init` is a constant.
    pub cpu_vars: Vec<Var>,
    /// `cpuset NAME = 0-3, 6`: fixed sets of CPUs.
    pub cpusets: Vec<CpuSet>,
    pub stats: Vec<Stat>,
    pub events: Vec<EventHandler>,
    pub select: Option<Select>,
    pub routes: Vec<Route>,
    pub dispatch: Vec<Serve>,
    pub slice: Option<Formula>,
    pub vtime_charge: Option<Formula>,
    pub vtime_lag: Option<Formula>,
    /// `vtime deadline`: a vtime queue's key is the vruntime plus this.
    pub vtime_deadline: Option<Formula>,
    /// `keep_running`, the last line of `dispatch`.
    pub keep_running: Option<Origin>,
    /// `keep_running when CONDITION`.
    pub keep_running_when: Option<Expr>,
    pub preempt: Option<Preempt>,
    /// `on timer PERIOD { ... }`.
    pub timer: Option<Timer>,
    /// How many `every` blocks there are; each keeps a per-task timestamp.
    pub samplers: usize,
    /// The `fn` items, in declaration order (a function calls only earlier ones).
    pub functions: Vec<Function>,
}

/// `fn NAME(ARG: TYPE, ...) = EXPR`: a C function of its own.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub params: Vec<(String, ValueType)>,
    pub result: Expr,
    /// Whether it reads the task at hand (it is then called with it).
    pub reads_task: bool,
    pub origin: Origin,
}

/// Where something came from in the policy, for comments in generated code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Origin {
    pub line: usize,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub ty: ValueType,
    /// The default, as a 64-bit pattern read in the parameter's type.
    pub default: i128,
    pub min: Option<i128>,
    pub max: Option<i128>,
    pub doc: String,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Queue {
    pub name: String,
    pub placement: Placement,
    pub order: Order,
    /// Whether something reads `queue.NAME.inserted`.
    pub counted: bool,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Class {
    pub name: String,
    pub doc: String,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Var {
    pub name: String,
    pub ty: ValueType,
    pub init: Expr,
    pub origin: Origin,
}

/// The number of CPUs schedc's per-CPU arrays hold (`SCHEDC_MAX_CPUS` in C).
pub const SCHEDC_MAX_CPUS: u32 = 4096;

/// `cpuset NAME = 0-3, 6`.
#[derive(Debug, Clone)]
pub struct CpuSet {
    pub name: String,
    /// Inclusive ranges, each below `SCHEDC_MAX_CPUS`, in policy order.
    pub ranges: Vec<(u32, u32)>,
    /// With a doc string, `schedc run --set NAME=...` changes it at load:
    /// `ranges` are then its default.
    pub doc: Option<String>,
    /// `dynamic`: `ranges` are where it starts, and `NAME = first(N)`
    /// rewrites it while the scheduler runs.
    pub dynamic: bool,
    /// Whether a rule rewrites it (`NAME = first(N)`).
    pub assigned: bool,
    /// Whether an idle pick (`any in NAME`, `-> Q idle in NAME`) uses it:
    /// it then also exists as a kernel cpumask.
    pub picked: bool,
    /// Whether a condition tests it (`CPU in NAME`): it then has a bitmap.
    pub tested: bool,
    pub origin: Origin,
}

impl CpuSet {
    /// How many CPUs it lists (ranges may overlap).
    pub fn size(&self) -> u64 {
        let mut cpus: Vec<u32> = self.ranges.iter().flat_map(|&(lo, hi)| lo..=hi).collect();
        cpus.sort_unstable();
        cpus.dedup();
        cpus.len() as u64
    }

    /// The set as `0-3, 6` (or `all`).
    pub fn text(&self) -> String {
        if self.ranges == [(0, crate::ast::ALL_CPUS_HIGH)] {
            return "all".to_string();
        }
        let one = |&(lo, hi): &(u32, u32)| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") };
        self.ranges.iter().map(one).collect::<Vec<_>>().join(", ")
    }
}

#[derive(Debug, Clone)]
pub struct Stat {
    pub name: String,
    pub kind: StatKind,
    pub ty: ValueType,
    pub doc: String,
    pub source: StatSource,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub enum StatSource {
    /// A global the rules update, starting at this value.
    Variable(Expr),
    /// The number of tasks ever inserted into this queue.
    QueueInserted(usize),
    /// The slice most recently computed.
    LastSlice,
}

#[derive(Debug, Clone)]
pub struct EventHandler {
    pub event: Event,
    pub body: Vec<Stmt>,
    pub origin: Origin,
}

/// The CPU `preempt` considers kicking.
#[derive(Debug, Clone)]
pub enum Victim {
    /// The waking task's CPU (`task.cpu`).
    TaskCpu,
    /// The CPU an int expression names, evaluated in ops.enqueue.
    At(Expr),
    /// Of the CPUs the task may use, one running the lowest-ranked task.
    Lowest,
}

/// `on timer PERIOD`: a block run every PERIOD for the whole scheduler.
#[derive(Debug, Clone)]
pub struct Timer {
    /// A positive constant duration or a duration parameter with a positive range.
    pub period: Expr,
    pub body: Vec<Stmt>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Select {
    /// Empty when the policy asks for the kernel's default selection.
    pub preferences: Vec<Preference>,
    /// Where `default` stands, when it does.
    pub default_origin: Option<Origin>,
    /// `found when CONDITION`: the insert happens only if it holds.
    pub found_when: Option<Expr>,
    pub found: Target,
    pub kick: bool,
    pub origin: Origin,
    pub found_origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Preference {
    pub kind: PreferenceKind,
    /// `any in SET`: only the set's CPUs.
    pub within: Option<usize>,
    pub when: Option<Expr>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Route {
    /// `None` for the catch-all.
    pub condition: Option<Expr>,
    pub target: Target,
    pub kick: bool,
    /// `-> Q idle`: for an idle CPU found from ops.enqueue, then kicked.
    pub idle: bool,
    /// `-> Q idle in SET`: the idle CPU is one of the set's.
    pub idle_within: Option<usize>,
    pub origin: Origin,
}

/// Where a route or `found` sends a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A queue of the policy.
    Queue(usize),
    /// `local`: the local queue of the CPU (the task runs there next).
    Local,
}

impl Target {
    pub fn queue(self) -> Option<usize> {
        match self {
            Target::Queue(q) => Some(q),
            Target::Local => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Serve {
    /// The queue served; for a group, its first queue.
    pub queue: usize,
    pub starve_after: Option<Expr>,
    pub group: ServeGroup,
    /// `... when CONDITION`: the line is skipped while it is false.
    pub when: Option<Expr>,
    pub origin: Origin,
}

/// Several queues one `dispatch` line serves as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServeGroup {
    One,
    /// Whichever of these vtime queues has the first task of lowest key.
    Earliest(Vec<usize>),
    /// These queues in turn, each up to its weight of tasks in a row.
    RoundRobin(Vec<(usize, u64)>),
}

impl Serve {
    /// Every queue the line serves.
    pub fn queues(&self) -> Vec<usize> {
        match &self.group {
            ServeGroup::One => vec![self.queue],
            ServeGroup::Earliest(qs) => qs.clone(),
            ServeGroup::RoundRobin(qs) => qs.iter().map(|(q, _)| *q).collect(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Formula {
    pub stmts: Vec<Stmt>,
    pub result: Expr,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Preempt {
    pub class: usize,
    pub victim: Victim,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Stmt {
    pub kind: StmtKind,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    Let {
        name: String,
        value: Expr,
    },
    Assign {
        target: Place,
        op: AssignOp,
        value: Expr,
    },
    If {
        cond: Expr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
    /// `every PERIOD { ... }`: runs at most once per period per task;
    /// `sampler` indexes the task's timestamp for it.
    Every {
        sampler: usize,
        period: Expr,
        body: Vec<Stmt>,
    },
    Trace {
        message: String,
        args: Vec<(String, Expr)>,
    },
    /// `reenqueue local` (only in `on cpu_release`).
    ReenqueueLocal,
    /// `SET = first(N)`: CPUs 0 to N - 1 (clamped to the machine's CPUs)
    /// become the dynamic set `SET`; `count` is an int or a uint.
    FirstCpus {
        set: usize,
        count: Expr,
    },
}

/// Something a statement may assign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    TaskVar(usize),
    /// `cpu.perf`: the running CPU's performance target (0..1024).
    CpuPerf,
    /// `waker.NAME`: the waker's instance of a per-task variable (written
    /// only if the waker has state here and the wake-up is not an interrupt's).
    WakerVar(usize),
    Global(usize),
    /// The running CPU's instance of a per-CPU variable.
    CpuVar(usize),
    Stat(usize),
    TaskSlice,
    TaskClass,
}

/// The built-in facts every CPU has (`cpu.NAME`, `cpu(CPU).NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuFact {
    /// The recent busy fraction in per-mille, a uint 0..1000 (schedc's own
    /// measure).
    Util,
    /// The compute capacity relative to the fastest CPU, a uint 0..1024
    /// (`scx_bpf_cpuperf_cap`).
    Capacity,
    /// The current performance level, a uint 0..1024 (`scx_bpf_cpuperf_cur`);
    /// assigning `cpu.perf` sets the target (`scx_bpf_cpuperf_set`).
    Perf,
    /// SMT is on, the CPU's core is not wholly idle, and some CPU is idle.
    SmtContended,
}

impl CpuFact {
    pub const ALL: [CpuFact; 4] = [CpuFact::Util, CpuFact::Capacity, CpuFact::Perf, CpuFact::SmtContended];

    /// The name after `cpu.`.
    pub fn name(self) -> &'static str {
        match self {
            CpuFact::Util => "util",
            CpuFact::Capacity => "capacity",
            CpuFact::Perf => "perf",
            CpuFact::SmtContended => "smt_contended",
        }
    }

    pub fn from_name(name: &str) -> Option<CpuFact> {
        CpuFact::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn ty(self) -> ValueType {
        match self {
            CpuFact::SmtContended => ValueType::Bool,
            _ => ValueType::Uint,
        }
    }

    /// What it means, for editors.
    pub fn doc(self) -> &'static str {
        match self {
            CpuFact::Util => "Per-mille (0..1000) of recent time the CPU spent running tasks of this scheduler (about the last 40 ms); `cpu(CPU).util` for a chosen CPU.",
            CpuFact::Capacity => "The CPU's compute capacity relative to the machine's fastest CPU: 1024 for the fastest (and on a machine whose CPUs are all alike), less for an efficiency core; `cpu(CPU).capacity` for a chosen CPU, 0 for a CPU out of range.",
            CpuFact::Perf => "The CPU's current performance level, 0..1024 of its capacity, as cpufreq reports it; `cpu.perf = VALUE` (in `on tick`, `on running`, `on stopping` and `on timer`) asks for a performance target 0..1024 for the running CPU.",
            CpuFact::SmtContended => "SMT is on, the CPU's core is not wholly idle (the CPU itself or an SMT sibling runs something) and some CPU is idle: for an idle CPU such as a waking task's previous one, a sibling is busy while another CPU could be had.",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
}

/// An expression's type: a value type, or one of the few kinds of value that
/// cannot be stored in a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Value(ValueType),
    /// A task class, or `none`.
    Class,
    /// A string literal (only compared with `task.comm`).
    Str,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A constant, as the 64-bit pattern of its type.
    Const(i128),
    Str(String),
    Param(usize),
    Global(usize),
    Stat(usize),
    TaskVar(usize),
    /// `waker.NAME`: the waker's instance of a per-task variable; 0 if the
    /// waker has no state here or the wake-up comes from an interrupt.
    WakerVar(usize),
    /// A per-CPU variable: the running CPU's (`cpu.NAME`, `on` is `None`)
    /// or a chosen CPU's (`cpu(ON).NAME`), an int.
    CpuVar {
        var: usize,
        on: Option<Box<Expr>>,
    },
    /// A built-in fact of the running CPU (`cpu.util`, `on` is `None`) or
    /// of a chosen CPU (`cpu(ON).capacity`).
    CpuFact {
        fact: CpuFact,
        on: Option<Box<Expr>>,
    },
    Local(String),
    /// Time since the enclosing `every` block last ran.
    Elapsed(usize),
    /// A class value; `None` for `none`.
    ClassValue(Option<usize>),
    Fact(Fact),
    QueueLen(usize),
    /// `cpu(CPU).queue.Q.len` of a per-CPU, per-LLC or per-node queue.
    QueueLenOn {
        queue: usize,
        cpu: Box<Expr>,
    },
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// A division or remainder whose divisor might be zero; yields 0 then.
    GuardedDiv {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Cond {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Call {
        func: Builtin,
        args: Vec<Expr>,
    },
    /// `task.comm == "name"` (or `!=` when `equal` is false); with
    /// `prefix`, `starts_with "name"`. `of` is the comm fact compared.
    CommIs {
        of: Fact,
        name: String,
        equal: bool,
        prefix: bool,
    },
    /// `CPU in SET`: whether the CPU (`None`: the running one) is in the set.
    InSet {
        set: usize,
        cpu: Option<Box<Expr>>,
    },
    /// A call of the policy's function `func`.
    CallFn {
        func: usize,
        args: Vec<Expr>,
    },
    Convert {
        to: ValueType,
        value: Box<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Min,
    Max,
    Clamp,
    Ewma,
    /// floor(log2(x)) of a count; 0 for x <= 1.
    Log2,
}

/// Facts the scheduler reads from the kernel or the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fact {
    TaskNvcsw,
    TaskWeight,
    TaskKthread,
    TaskNrCpusAllowed,
    TaskMigrationDisabled,
    TaskRunning,
    TaskPid,
    TaskComm,
    TaskVruntime,
    TaskSliceLeft,
    TaskCpu,
    /// The last-level cache and NUMA node of the task's CPU.
    TaskLlc,
    TaskNode,
    TaskClass,
    TaskTgid,
    TaskNice,
    TaskRuntime,
    TaskAwakeRuntime,
    TaskParentComm,
    TaskPpid,
    TaskCgroup,
    TaskUid,
    TaskGid,
    SystemNow,
    SystemNrCpus,
    SystemSmt,
    SystemVtimeNow,
    EventPrevCpu,
    EventSync,
    EventRunnable,
    EventWakeup,
    EventReenqueue,
    EventLast,
    EventCpuSelected,
    EventFoundCpu,
    EventSleep,
    WakerPid,
    WakerTgid,
    WakerPpid,
    WakerComm,
    WakerClass,
    WakerRealtime,
    WakerKthread,
    EventHardirq,
    EventSoftirq,
}
