//! The built-in facts a policy reads (`task.nvcsw`, `system.now`, ...): one
//! table that the checker resolves names against and that editors show.

use crate::model::{Fact, Type, ValueType};

/// The prefix a fact is read through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactGroup {
    Task,
    System,
    Event,
    Waker,
}

impl FactGroup {
    pub fn prefix(self) -> &'static str {
        match self {
            FactGroup::Task => "task",
            FactGroup::System => "system",
            FactGroup::Event => "event",
            FactGroup::Waker => "waker",
        }
    }
}

/// One built-in fact: its name, type and what it means.
#[derive(Debug, Clone, Copy)]
pub struct FactInfo {
    pub group: FactGroup,
    pub name: &'static str,
    pub fact: Fact,
    pub ty: Type,
    pub doc: &'static str,
}

impl FactInfo {
    /// The fact as written in a policy, e.g. `task.nvcsw`.
    pub fn path(&self) -> String {
        format!("{}.{}", self.group.prefix(), self.name)
    }
}

const fn fact(group: FactGroup, name: &'static str, fact: Fact, ty: Type, doc: &'static str) -> FactInfo {
    FactInfo { group, name, fact, ty, doc }
}

const UINT: Type = Type::Value(ValueType::Uint);
const INT: Type = Type::Value(ValueType::Int);
const BOOL: Type = Type::Value(ValueType::Bool);
const DURATION: Type = Type::Value(ValueType::Duration);

/// Every fact, in the order of the language reference.
pub const FACTS: &[FactInfo] = {
    use FactGroup::*;
    &[
        fact(Task, "nvcsw", Fact::TaskNvcsw, UINT,
            "The task's voluntary context switches so far: how often it blocked rather than being preempted. Only grows; frequent blocking marks interactive tasks."),
        fact(Task, "weight", Fact::TaskWeight, UINT,
            "The task's scheduling weight from its nice value: 100 at nice 0, 1 at nice 19, 8668 at nice -20. Never 0."),
        fact(Task, "kthread", Fact::TaskKthread, BOOL, "The task is a kernel thread."),
        fact(Task, "nr_cpus_allowed", Fact::TaskNrCpusAllowed, UINT,
            "How many CPUs the task's affinity allows; at least 1, and 1 for a per-CPU task."),
        fact(Task, "migration_disabled", Fact::TaskMigrationDisabled, BOOL,
            "The task may not leave its CPU right now (it is between migrate_disable() and migrate_enable()). After 6.12 it reaches `enqueue` only with `with enqueue_migration_disabled` (6.12 always sends it); route it to a per-CPU queue or `local`."),
        fact(Task, "running", Fact::TaskRunning, BOOL,
            "The task is running on a CPU right now: in `enqueue`, one put back when its slice ended or it was preempted, still on its CPU; a task waking up is not."),
        fact(Task, "pid", Fact::TaskPid, INT, "The kernel's task id (the thread id, not the process id)."),
        fact(Task, "comm", Fact::TaskComm, Type::Str,
            "The task's command name (at most 15 characters); only compared with a string literal using `==` or `!=`."),
        fact(Task, "vruntime", Fact::TaskVruntime, DURATION,
            "The task's vruntime: schedc's own with a `vtime` queue, else the kernel's dsq_vtime."),
        fact(Task, "slice_left", Fact::TaskSliceLeft, DURATION,
            "The task's remaining slice; in `on stopping` and `vtime charge`, the part it did not use. Assignable."),
        fact(Task, "cpu", Fact::TaskCpu, INT, "The CPU the task is on, or will run on."),
        fact(Task, "llc", Fact::TaskLlc, INT,
            "The last-level cache of the task's CPU (0, 1, ... in order of their first CPU; 0 under another loader)."),
        fact(Task, "node", Fact::TaskNode, INT,
            "The NUMA node of the task's CPU (0, 1, ... in order of their first CPU; 0 under another loader)."),
        fact(Task, "class", Fact::TaskClass, Type::Class,
            "The task's class; `none` until a rule assigns one. Assignable."),
        fact(Task, "tgid", Fact::TaskTgid, INT, "The task's process id (thread-group id): the pid of its thread-group leader."),
        fact(Task, "nice", Fact::TaskNice, INT, "The task's nice value, from -20 (favoured) to 19."),
        fact(Task, "runtime", Fact::TaskRuntime, DURATION,
            "The CPU time the task has used since it was created, as of the kernel's last accounting update."),
        fact(Task, "awake_runtime", Fact::TaskAwakeRuntime, DURATION,
            "The CPU time the task has used since it last woke up (0 just after a wake-up)."),
        fact(Task, "parent_comm", Fact::TaskParentComm, Type::Str,
            "The command name of the task's parent; only compared with a string literal (`==`, `!=`, `starts_with`)."),
        fact(Task, "ppid", Fact::TaskPpid, INT,
            "The parent's process id, as getppid() gives it: the thread-group id of the task's parent."),
        fact(Task, "cgroup", Fact::TaskCgroup, Type::Str,
            "The name of the task's cgroup (cgroup v2): the last part of its path, its first 15 characters; only compared with a string literal (`==`, `!=`, `starts_with`)."),
        fact(Task, "uid", Fact::TaskUid, INT, "The task's effective user id."),
        fact(Task, "gid", Fact::TaskGid, INT, "The task's effective group id."),
        fact(System, "now", Fact::SystemNow, Type::Value(ValueType::Time),
            "The current time: monotonic nanoseconds since boot, not counting suspend."),
        fact(System, "nr_cpus", Fact::SystemNrCpus, UINT,
            "The number of online CPUs when the scheduler was loaded (does not follow hotplug)."),
        fact(System, "smt", Fact::SystemSmt, BOOL, "SMT (hyper-threading) was active when the scheduler was loaded."),
        fact(System, "vtime_now", Fact::SystemVtimeNow, DURATION,
            "schedc's global vruntime; only with a `vtime` queue."),
        fact(Event, "prev_cpu", Fact::EventPrevCpu, INT,
            "The CPU the waking task last ran on. Known in `on wakeup` and `select_cpu`."),
        fact(Event, "sync", Fact::EventSync, BOOL,
            "A synchronous wake-up: the waker says it is about to sleep. Known in `on wakeup` and `select_cpu`."),
        fact(Event, "runnable", Fact::EventRunnable, BOOL,
            "The stopping task stays runnable (preempted, slice used up or yielded) rather than blocking. Known in `on stopping` and `vtime charge`."),
        fact(Event, "wakeup", Fact::EventWakeup, BOOL,
            "The task becomes runnable because it woke up (not because it used its slice or was put back). Known in `on enqueue`, `enqueue` routes and `on runnable`."),
        fact(Event, "reenqueue", Fact::EventReenqueue, BOOL,
            "The kernel put the task back to be queued again (its CPU was taken by a higher scheduling class). Known in `on enqueue` and `enqueue` routes."),
        fact(Event, "last", Fact::EventLast, BOOL,
            "The task used its slice and nothing else waits for its CPU: with `with enqueue_last` the kernel asks where it goes instead of letting it run on. Known in `on enqueue` and `enqueue` routes."),
        fact(Event, "cpu_selected", Fact::EventCpuSelected, BOOL,
            "CPU selection ran for this enqueue (`ops.select_cpu` was called and left the task to `enqueue`). Known in `on enqueue` and `enqueue` routes."),
        fact(Event, "found_cpu", Fact::EventFoundCpu, INT,
            "The idle CPU `select_cpu` found and claimed. Known in the `when` of `found`."),
        fact(Event, "hardirq", Fact::EventHardirq, BOOL,
            "The wake-up comes from a hard interrupt handler (the waking CPU's preempt count has hard-interrupt bits). Known in `on wakeup` and `select_cpu`."),
        fact(Event, "softirq", Fact::EventSoftirq, BOOL,
            "The wake-up comes from a softirq being served (network, timers, block completions), not from a task. Known in `on wakeup` and `select_cpu`."),
        fact(Event, "sleep", Fact::EventSleep, BOOL,
            "The task stops being runnable because it goes to sleep (rather than leaving the scheduler or changing its properties). Known in `on quiescent`."),
        fact(Waker, "pid", Fact::WakerPid, INT,
            "The pid of the task running on the waking CPU: the waker (or, for a wake-up from an interrupt, the task it interrupted). Known in `on wakeup` and `select_cpu`."),
        fact(Waker, "tgid", Fact::WakerTgid, INT, "The process id (thread-group id) of the waker. Known in `on wakeup` and `select_cpu`."),
        fact(Waker, "ppid", Fact::WakerPpid, INT,
            "The process id of the waker's parent. Known in `on wakeup` and `select_cpu`."),
        fact(Waker, "comm", Fact::WakerComm, Type::Str,
            "The waker's command name; only compared with a string literal. Known in `on wakeup` and `select_cpu`."),
        fact(Waker, "class", Fact::WakerClass, Type::Class,
            "The waker's class (`none` if it is not scheduled by this scheduler). Known in `on wakeup` and `select_cpu`."),
        fact(Waker, "realtime", Fact::WakerRealtime, BOOL,
            "The waker is a real-time or deadline task (its priority is below 100), not one of a fair scheduling class. Known in `on wakeup` and `select_cpu`."),
        fact(Waker, "kthread", Fact::WakerKthread, BOOL,
            "The waker is a kernel thread (`PF_KTHREAD`). Known in `on wakeup` and `select_cpu`."),
    ]
};

/// The fact `group.name`, if there is one.
pub fn lookup(group: FactGroup, name: &str) -> Option<&'static FactInfo> {
    FACTS.iter().find(|f| f.group == group && f.name == name)
}

/// The names of the facts of one group, for suggestions; as borrowed for
/// any `'a`, so they chain with names the policy declares.
pub fn names<'a>(group: FactGroup) -> impl Iterator<Item = &'a str> {
    FACTS.iter().filter(move |f| f.group == group).map(|f| -> &'a str { f.name })
}

/// The facts of one group as a help line lists them: `` `task.nvcsw`, `task.weight`, ... ``.
pub fn listed(group: FactGroup) -> String {
    let paths: Vec<String> = FACTS.iter().filter(|f| f.group == group).map(|f| format!("`{}`", f.path())).collect();
    paths.join(", ")
}

/// What `queue.NAME.FIELD` may name.
#[derive(Debug, Clone, Copy)]
pub struct QueueField {
    pub name: &'static str,
    pub ty: Type,
    pub doc: &'static str,
}

pub const QUEUE_FIELDS: &[QueueField] = &[
    QueueField {
        name: "len",
        ty: UINT,
        doc: "Tasks waiting in the queue now; for a `per_cpu` queue, the instance of the CPU running the code.",
    },
    QueueField {
        name: "inserted",
        ty: UINT,
        doc: "Tasks inserted into the queue so far; read through a counter: `counter NAME = queue.Q.inserted \"meaning\"`.",
    },
];

/// The unit a value of this type is counted in, for editors.
pub fn unit(ty: Type) -> Option<&'static str> {
    match ty {
        Type::Value(ValueType::Duration) => Some("nanoseconds (a length of time)"),
        Type::Value(ValueType::Time) => Some("nanoseconds since boot (a point in time)"),
        Type::Value(ValueType::Int | ValueType::Uint) => Some("none (a count)"),
        Type::Value(ValueType::Bool) | Type::Class | Type::Str => None,
    }
}

/// A type as a policy writes it.
pub fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::Value(v) => v.keyword(),
        Type::Class => "class",
        Type::Str => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fact_is_listed_once() {
        for (i, f) in FACTS.iter().enumerate() {
            assert!(FACTS[i + 1..].iter().all(|g| g.fact != f.fact && g.path() != f.path()), "{}", f.path());
        }
        assert_eq!(FACTS.len(), 45, "one entry per model::Fact");
    }

    #[test]
    fn lookup_is_per_group() {
        assert_eq!(lookup(FactGroup::Task, "nvcsw").map(|f| f.fact), Some(Fact::TaskNvcsw));
        assert!(lookup(FactGroup::System, "nvcsw").is_none());
        assert_eq!(
            names(FactGroup::Event).collect::<Vec<_>>(),
            [
                "prev_cpu",
                "sync",
                "runnable",
                "wakeup",
                "reenqueue",
                "last",
                "cpu_selected",
                "found_cpu",
                "hardirq",
                "softirq",
                "sleep"
            ]
        );
        assert_eq!(
            listed(FactGroup::Waker),
            "`waker.pid`, `waker.tgid`, `waker.ppid`, `waker.comm`, `waker.class`, `waker.realtime`, `waker.kthread`"
        );
    }
}
