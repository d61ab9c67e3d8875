//! The syntax tree of a policy, exactly as written. Nothing here is checked:
//! names may be unknown and types may not fit; that is the checker's job.

/// A byte range in the policy source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start, s.len()).into()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub struct Item {
    pub kind: ItemKind,
    /// The whole item, from its keyword to its last token.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ItemKind {
    Scheduler {
        name: Ident,
        description: StrLit,
        timeout: Option<Expr>,
        /// `with FLAG, ...`: sched_ext ops flags, named as the policy wrote them.
        flags: Vec<Ident>,
    },
    Param(Box<ParamDecl>),
    Queue {
        name: Ident,
        placement: Placement,
        order: Order,
    },
    Class {
        name: Ident,
        doc: StrLit,
    },
    /// `task` (per-task) and `global` state.
    State {
        scope: Scope,
        name: Ident,
        ty: TypeName,
        init: Expr,
    },
    /// `cpuset NAME = 0-3, 6 ["doc" | dynamic]`: a set of CPUs, tunable at
    /// load when it has a doc string, rewritten by rules when `dynamic`.
    CpuSet {
        name: Ident,
        /// Inclusive ranges, as written (`6` is `6..=6`; `all` is 0-4095).
        ranges: Vec<CpuRange>,
        doc: Option<StrLit>,
        /// `dynamic`: where `ranges` start; `NAME = first(N)` changes it.
        dynamic: bool,
    },
    Counter {
        name: Ident,
        bound: Option<Path>,
        doc: StrLit,
    },
    Gauge {
        name: Ident,
        source: GaugeSource,
        doc: StrLit,
    },
    On {
        event: Event,
        event_span: Span,
        body: Vec<Stmt>,
    },
    /// `on timer PERIOD { ... }`: scheduler-wide, every PERIOD, no task.
    Timer {
        period: Expr,
        timer_span: Span,
        body: Vec<Stmt>,
    },
    SelectCpu(SelectCpu),
    Enqueue {
        routes: Vec<Route>,
    },
    Dispatch {
        serves: Vec<Serve>,
    },
    Slice(Formula),
    Vtime {
        part: VtimePart,
        formula: Formula,
    },
    Preempt {
        class: Ident,
        /// Which CPU is considered: `task.cpu` unless `at` says otherwise.
        victim: PreemptVictim,
    },
    /// `const NAME = EXPR`: a constant written once and used by name.
    Const {
        name: Ident,
        value: Expr,
    },
    /// `fn NAME(ARG: TYPE, ...) = EXPR`: a formula written once.
    Fn(Box<FnDecl>),
}

/// `LOW-HIGH` or one CPU in a `cpuset` list.
#[derive(Debug, Clone)]
pub struct CpuRange {
    /// Saturating, like number literals, so the checker can say "too large".
    pub low: u128,
    pub high: u128,
    pub span: Span,
}

impl CpuRange {
    /// As written in a policy: `6` or `0-3`.
    pub fn text(&self) -> String {
        if self.low == self.high {
            self.low.to_string()
        } else {
            format!("{}-{}", self.low, self.high)
        }
    }

    /// `0-3, 6`; `all` for every CPU schedc numbers.
    pub fn list(ranges: &[CpuRange]) -> String {
        if let [one] = ranges {
            if one.low == 0 && one.high == u128::from(ALL_CPUS_HIGH) {
                return "all".to_string();
            }
        }
        ranges.iter().map(CpuRange::text).collect::<Vec<_>>().join(", ")
    }
}

/// The highest CPU of `all` (schedc numbers CPUs 0 to 4095).
pub const ALL_CPUS_HIGH: u32 = 4095;

impl CpuRange {
    /// `all`: every CPU schedc numbers.
    pub fn all(span: Span) -> CpuRange {
        CpuRange { low: 0, high: u128::from(ALL_CPUS_HIGH), span }
    }
}

#[derive(Debug, Clone)]
pub struct FnDecl {
    pub name: Ident,
    pub params: Vec<(Ident, TypeName)>,
    pub body: Expr,
}

#[derive(Debug, Clone)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ParamDecl {
    pub name: Ident,
    pub ty: TypeName,
    pub default: Expr,
    pub doc: StrLit,
    pub min: Option<Bound>,
    pub max: Option<Bound>,
}

/// One end of a parameter's `in LO..HI` range.
#[derive(Debug, Clone)]
pub struct Bound {
    pub negative: bool,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    PerCpu,
    /// One instance per last-level cache, served by the CPUs that share it.
    PerLlc,
    /// One instance per NUMA node, served by the node's CPUs.
    PerNode,
    Shared,
}

impl Placement {
    /// The word that declares it.
    pub fn keyword(self) -> &'static str {
        match self {
            Placement::PerCpu => "per_cpu",
            Placement::PerLlc => "per_llc",
            Placement::PerNode => "per_node",
            Placement::Shared => "shared",
        }
    }

    /// One instance per CPU, LLC or node: a CPU serves the one it belongs to.
    pub fn is_instanced(self) -> bool {
        self != Placement::Shared
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Fifo,
    Vtime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Task,
    Global,
    /// `cpu NAME: TYPE = INITIAL`: one instance per CPU.
    Cpu,
}

impl Scope {
    /// The word that declares it.
    pub fn keyword(self) -> &'static str {
        match self {
            Scope::Task => "task",
            Scope::Global => "global",
            Scope::Cpu => "cpu",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeName {
    pub ty: ValueType,
    pub span: Span,
}

/// The types a value can have in a policy: the same as in the manifest.
pub use schedc_abi::ValueType;

/// The CPU `preempt` considers kicking.
#[derive(Debug, Clone)]
pub enum PreemptVictim {
    /// `preempt CLASS`: the waking task's CPU.
    TaskCpu,
    /// `preempt CLASS at EXPR`: the CPU this int expression names.
    At(Expr),
    /// `preempt CLASS at lowest`: of the CPUs the task may use, one running
    /// the lowest-ranked task.
    Lowest(Span),
}

#[derive(Debug, Clone)]
pub enum GaugeSource {
    /// `gauge NAME: TYPE = INIT`: a global the rules assign.
    Variable { ty: TypeName, init: Expr },
    /// `gauge NAME = slice`: bound to something the scheduler tracks itself.
    Bound(Path),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Join,
    Wakeup,
    Enqueue,
    Runnable,
    Running,
    Stopping,
    Quiescent,
    /// ops.tick: every scheduler tick, for the task running on the CPU.
    Tick,
    /// ops.cpu_release: a higher-priority scheduling class took the CPU. No task.
    CpuRelease,
}

impl Event {
    /// Every event, in the order the reference lists them.
    pub const ALL: [Event; 9] = [
        Event::Join,
        Event::Wakeup,
        Event::Enqueue,
        Event::Runnable,
        Event::Running,
        Event::Stopping,
        Event::Quiescent,
        Event::Tick,
        Event::CpuRelease,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            Event::Join => "join",
            Event::Wakeup => "wakeup",
            Event::Enqueue => "enqueue",
            Event::Runnable => "runnable",
            Event::Running => "running",
            Event::Stopping => "stopping",
            Event::Quiescent => "quiescent",
            Event::Tick => "tick",
            Event::CpuRelease => "cpu_release",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SelectCpu {
    /// Empty when the policy asks for the kernel's default selection.
    pub preferences: Vec<Preference>,
    pub default_span: Option<Span>,
    /// `found when CONDITION -> ...`: insert only if it holds.
    pub found_when: Option<Expr>,
    pub found_queue: Ident,
    pub kick: bool,
    pub found_span: Span,
}

#[derive(Debug, Clone)]
pub struct Preference {
    pub kind: PreferenceKind,
    /// `any in SET`: only the set's CPUs.
    pub within: Option<Ident>,
    pub when: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreferenceKind {
    /// A task allowed on one CPU only: that CPU if idle, else stop looking.
    Pinned,
    /// The previous CPU, if every SMT sibling of its core is idle too.
    PrevCore,
    /// Any CPU of a fully idle core.
    IdleCore,
    /// The previous CPU, if idle.
    Prev,
    /// Any idle CPU the task may use in the previous CPU's last-level cache.
    PrevLlc,
    /// On a synchronous wake-up, the waker's CPU, if nothing else waits there.
    Waker,
    /// Any idle CPU the task may use.
    Any,
}

/// The words a `select_cpu` line may start with that are not preferences.
pub const SELECT_CPU_WORDS: [&str; 2] = ["default", "found"];

impl PreferenceKind {
    /// Every preference, in the order the reference lists them.
    pub const ALL: [PreferenceKind; 7] = [
        PreferenceKind::Pinned,
        PreferenceKind::PrevCore,
        PreferenceKind::IdleCore,
        PreferenceKind::Prev,
        PreferenceKind::PrevLlc,
        PreferenceKind::Waker,
        PreferenceKind::Any,
    ];

    /// The preference a word of the language names.
    pub fn from_keyword(word: &str) -> Option<PreferenceKind> {
        Self::ALL.into_iter().find(|k| k.keyword() == word)
    }

    pub fn keyword(self) -> &'static str {
        match self {
            PreferenceKind::Pinned => "pinned",
            PreferenceKind::PrevCore => "prev_core",
            PreferenceKind::IdleCore => "idle_core",
            PreferenceKind::Prev => "prev",
            PreferenceKind::PrevLlc => "prev_llc",
            PreferenceKind::Waker => "waker",
            PreferenceKind::Any => "any",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Route {
    /// `None` for the catch-all `else`.
    pub condition: Option<Expr>,
    pub queue: Ident,
    pub kick: bool,
    /// `-> Q idle`: queued for an idle CPU, claimed and kicked.
    pub idle: bool,
    /// `-> Q idle in SET`: the idle CPU is one of the set's.
    pub idle_within: Option<Ident>,
    pub span: Span,
}

/// One line of `dispatch`.
#[derive(Debug, Clone)]
pub struct Serve {
    /// The queue served; for a group, its first queue; for `keep_running`,
    /// the word itself.
    pub queue: Ident,
    pub starve_after: Option<Expr>,
    pub group: ServeGroup,
    /// `... when CONDITION`: the line is skipped when it is false.
    pub when: Option<Expr>,
    pub span: Span,
}

/// What a `dispatch` line serves beyond one queue.
#[derive(Debug, Clone)]
pub enum ServeGroup {
    /// One queue: `QUEUE [starve after LIMIT]`.
    One,
    /// `earliest(Q1, Q2, ...)`: whichever queue's first task has the lowest key.
    Earliest(Vec<Ident>),
    /// `round_robin(Q1: W1, Q2: W2, ...)`: in turn, up to W tasks in a row each.
    RoundRobin(Vec<(Ident, Expr)>),
    /// `keep_running`: nothing found, the previous task keeps its CPU.
    KeepRunning,
}

impl Serve {
    /// Every queue the line names.
    pub fn queues(&self) -> Vec<&Ident> {
        match &self.group {
            ServeGroup::One => vec![&self.queue],
            ServeGroup::Earliest(qs) => qs.iter().collect(),
            ServeGroup::RoundRobin(qs) => qs.iter().map(|(q, _)| q).collect(),
            ServeGroup::KeepRunning => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VtimePart {
    Charge,
    Lag,
    /// The key of a vtime queue: the vruntime plus this.
    Deadline,
}

impl VtimePart {
    pub fn keyword(self) -> &'static str {
        match self {
            VtimePart::Charge => "charge",
            VtimePart::Lag => "lag",
            VtimePart::Deadline => "deadline",
        }
    }
}

/// `= EXPR`, or `{ STATEMENTS... EXPR }`.
#[derive(Debug, Clone)]
pub struct Formula {
    pub stmts: Vec<Stmt>,
    pub result: Expr,
}

#[derive(Debug, Clone)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    Let {
        name: Ident,
        value: Expr,
    },
    /// `on_cpu` is the chosen CPU of `cpu(CPU).NAME = ...`, which the
    /// checker refuses (only the running CPU's variables are written).
    Assign {
        target: Path,
        on_cpu: Option<Box<Expr>>,
        op: AssignOp,
        value: Expr,
    },
    If {
        cond: Expr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
    Every {
        period: Expr,
        body: Vec<Stmt>,
    },
    Trace {
        message: StrLit,
        args: Vec<Expr>,
    },
    /// `reenqueue local`: the CPU's queued tasks go back through `ops.enqueue`.
    ReenqueueLocal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
}

impl AssignOp {
    pub fn symbol(self) -> &'static str {
        match self {
            AssignOp::Set => "=",
            AssignOp::Add => "+=",
            AssignOp::Sub => "-=",
        }
    }
}

/// A dotted name such as `task.nvcsw` or `queue.prio.len`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub parts: Vec<Ident>,
    pub span: Span,
}

impl Path {
    pub fn text(&self) -> String {
        let names: Vec<&str> = self.parts.iter().map(|p| p.name.as_str()).collect();
        names.join(".")
    }
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    /// An integer literal; saturates at `u128::MAX` so the checker can say
    /// "too large" instead of the parser guessing.
    Int(u128),
    /// A duration literal, in nanoseconds (saturating like `Int`).
    Duration(u128),
    Bool(bool),
    Str(String),
    Path(Path),
    Call {
        func: Ident,
        args: Vec<Expr>,
    },
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Is {
        value: Box<Expr>,
        class: Ident,
    },
    /// `cpu(CPU).NAME`, `cpu(CPU).queue.Q.len`: what a chosen CPU has;
    /// `path` is what follows `cpu(CPU).`.
    OnCpu {
        cpu: Box<Expr>,
        path: Path,
    },
    /// `CPU in SET`; a bare `cpu` is the CPU running the code.
    InSet {
        cpu: Box<Expr>,
        set: Ident,
    },
    /// `task.comm starts_with "kworker"`.
    StartsWith {
        value: Box<Expr>,
        prefix: Box<Expr>,
    },
    Cond {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}
