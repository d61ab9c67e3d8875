//! The intermediate form the C templates render: the scheduler as C
//! declarations and function bodies, each tagged with the policy line it
//! implements. Lowering decides everything; rendering only lays it out.

/// A whole generated scheduler.
#[derive(Debug, Clone)]
pub struct Program {
    /// The scheduler's name (kernel ops name and C prefix of the callbacks).
    pub name: String,
    pub description: String,
    pub source_file: String,
    /// The manifest JSON as C string literal lines (quoted and escaped).
    pub manifest: Vec<String>,
    pub params: Vec<Global>,
    /// Facts the runtime fills in before load (`schedc_nr_cpus`, `schedc_smt`).
    pub inputs: Vec<Global>,
    pub queues: Vec<QueueId>,
    pub classes: Vec<ClassConst>,
    pub stats: Vec<Global>,
    pub globals: Vec<Global>,
    pub task_fields: Vec<Field>,
    /// The new-task template `schedc_new_task`, with its comment: C lines.
    pub new_task: Vec<String>,
    /// Whether per-task state exists (task storage map and lookup helper).
    pub has_task_state: bool,
    /// Whether the policy has `on timer` (the map that holds its `bpf_timer`).
    pub has_timer: bool,
    /// `struct schedc_cpusets`: the kernel cpumask of each CPU set an idle
    /// pick uses.
    pub cpuset_masks: Vec<Field>,
    /// Helper functions, in the order they must be declared.
    pub helpers: Vec<Function>,
    /// The sched_ext callbacks.
    pub callbacks: Vec<Function>,
    pub timeout_ms: u64,
    /// `ops.flags` as C (`SCX_OPS_ENQ_LAST | ...`); empty without `with`.
    pub ops_flags: String,
    /// The policy's words for them, for the comment beside.
    pub ops_flag_words: String,
}

/// A global variable (parameter, input, statistic or state).
#[derive(Debug, Clone)]
pub struct Global {
    /// The policy line it came from, or why it exists.
    pub comment: String,
    /// `const volatile s64`, `u64`, `static s64`, ...
    pub decl: String,
    pub name: String,
    /// `Some` when initialised statically.
    pub init: Option<String>,
}

#[derive(Debug, Clone)]
pub struct QueueId {
    pub comment: String,
    /// The macro naming the queue's DSQ id, e.g. `DSQ_PRIO` or `DSQ_DIRECT(cpu)`.
    pub macro_head: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct ClassConst {
    pub name: String,
    pub value: usize,
    pub comment: String,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub comment: String,
    pub decl: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub comment: String,
    /// Everything before the opening brace, e.g.
    /// `static __always_inline s64 schedc_slice(struct task_struct *p, ...)`.
    pub signature: String,
    /// Body lines, already indented with tabs relative to the function.
    pub body: Vec<String>,
    /// For callbacks: the `sched_ext_ops` member it implements.
    pub member: Option<String>,
}
