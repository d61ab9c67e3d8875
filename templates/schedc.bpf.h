/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * schedc.bpf.h - the one header every schedc-generated scheduler includes.
 *
 * Why we do not include a generated vmlinux.h: schedc must produce one
 * object that loads on every sched_ext kernel (6.12 and newer). The few
 * kernel types the generated code touches are declared here with
 * preserve_access_index, so libbpf relocates every field access against the
 * running kernel's BTF (CO-RE), and kernel enum values are read only through
 * bpf_core_enum_value(), because some of them differ between kernels (for
 * example SCX_ENQ_HEAD is 1 << 4 on 6.12 and 1 << 16 on 7.x).
 *
 * Build with: clang -g -O2 -target bpf -mcpu=v3 -fwrapv -D__TARGET_ARCH_x86
 *             -I <dir holding bpf/bpf_helpers.h from libbpf 1.7> -I templates
 */
#ifndef SCHEDC_BPF_H
#define SCHEDC_BPF_H

/* -------------------------------------------------------------------------
 * Basic integer types. Defined here (not taken from <linux/types.h>) so the
 * build needs no kernel or libc headers on the host.
 * ---------------------------------------------------------------------- */
typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

typedef __u8 u8;
typedef __s8 s8;
typedef __u16 u16;
typedef __s16 s16;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

#define S64_MIN ((s64)(1ULL << 63))

/* Stable UAPI values (include/uapi/linux/bpf.h); these never change. */
#define BPF_MAP_TYPE_ARRAY 2
#define BPF_MAP_TYPE_TASK_STORAGE 29
#define BPF_F_NO_PREALLOC 1
#define BPF_LOCAL_STORAGE_GET_F_CREATE 1
#define BPF_ANY 0
#define ENOENT 2	/* include/uapi/asm-generic/errno-base.h */
#define ENOMEM 12

/* A BPF timer (UAPI): opaque, kept in a map value (`on timer`). */
struct bpf_timer {
	__u64 __opaque[2];
} __attribute__((aligned(8)));
#define SCHEDC_CLOCK_MONOTONIC 1	/* include/uapi/linux/time.h */

/* Opaque state of an open-coded numeric iterator (UAPI), needed by bpf_for. */
struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* -------------------------------------------------------------------------
 * Kernel types. Only the members schedc reads are listed; CO-RE finds their
 * real offsets in the running kernel, so the layout here is irrelevant.
 * ---------------------------------------------------------------------- */
struct cpumask {
	unsigned long bits[1];
} __attribute__((preserve_access_index));

struct bpf_cpumask {
	struct cpumask cpumask;
} __attribute__((preserve_access_index));

struct sched_ext_entity {
	u32 flags;	/* SCX_TASK_QUEUED: runnable, on a queue or running */
	u32 weight;	/* 1..10000, 100 for nice 0 */
	u64 slice;	/* remaining slice of a running task, ns */
	u64 dsq_vtime;	/* vtime the task was last queued with */
} __attribute__((preserve_access_index));

/* The kernel's accounting of a task's CPU time. */
struct sched_entity {
	u64 sum_exec_runtime;	/* ns the task has run since it was created */
} __attribute__((preserve_access_index));

struct task_struct {
	unsigned int flags;
	int pid;
	int tgid;
	int prio;
	int static_prio;
	int nr_cpus_allowed;
	unsigned short migration_disabled;	/* > 0 between migrate_disable() and migrate_enable() */
	const struct cpumask *cpus_ptr;
	unsigned long nvcsw;
	char comm[16];
	struct sched_ext_entity scx;
	struct sched_entity se;
	struct task_struct *real_parent;	/* RCU-protected; trusted in callbacks */
	const struct cred *cred;	/* effective credentials (task.uid, task.gid) */
	struct css_set *cgroups;	/* the task's cgroups (task.cgroup) */
} __attribute__((preserve_access_index));

/* Credentials and cgroups: only the members task.uid, task.gid and
 * task.cgroup read, each through bpf_core_read (CO-RE, no trust needed).
 * The ids are the kernel's kuid_t and kgid_t, spelled out so as to leave
 * those names to policies. */
struct cred {
	struct {
		u32 val;
	} euid, egid;
} __attribute__((preserve_access_index));
struct kernfs_node {
	const char *name;
} __attribute__((preserve_access_index));
struct cgroup {
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));
struct css_set {
	struct cgroup *dfl_cgrp;	/* the task's cgroup in the v2 hierarchy */
} __attribute__((preserve_access_index));

struct scx_init_task_args {
	bool fork;
} __attribute__((preserve_access_index));

struct scx_exit_task_args;
struct scx_cpu_release_args;	/* only passed on, never read */
struct scx_exit_info;	/* defined below, after the enum its kind uses */

/*
 * struct_ops maps are matched to the kernel's struct sched_ext_ops member by
 * member *name* (libbpf does that, not CO-RE), so this declaration only needs
 * the callbacks and fields schedc can set. Every member listed exists on 6.12;
 * newer kernels reorder some (cpu_acquire moved to the end in 7.x), which the
 * name matching makes harmless. Unset members stay zero = kernel default.
 */
struct sched_ext_ops {
	s32 (*select_cpu)(struct task_struct *p, s32 prev_cpu, u64 wake_flags);
	void (*enqueue)(struct task_struct *p, u64 enq_flags);
	void (*dequeue)(struct task_struct *p, u64 deq_flags);
	void (*dispatch)(s32 cpu, struct task_struct *prev);
	void (*tick)(struct task_struct *p);
	void (*runnable)(struct task_struct *p, u64 enq_flags);
	void (*running)(struct task_struct *p);
	void (*stopping)(struct task_struct *p, bool runnable);
	void (*quiescent)(struct task_struct *p, u64 deq_flags);
	void (*set_weight)(struct task_struct *p, u32 weight);
	void (*cpu_release)(s32 cpu, struct scx_cpu_release_args *args);
	s32 (*init_task)(struct task_struct *p, struct scx_init_task_args *args);
	void (*exit_task)(struct task_struct *p, struct scx_exit_task_args *args);
	void (*enable)(struct task_struct *p);
	void (*disable)(struct task_struct *p);
	void (*cpu_online)(s32 cpu);
	void (*cpu_offline)(s32 cpu);
	s32 (*init)(void);
	void (*exit)(struct scx_exit_info *info);
	u32 dispatch_max_batch;
	u64 flags;
	u32 timeout_ms;
	u64 hotplug_seq;	/* written by the runtime before load, not by the C */
	char name[128];
};

/*
 * Kernel enums. The values below are placeholders for the compiler: every
 * use goes through bpf_core_enum_value(), which libbpf rewrites with the
 * running kernel's value at load time.
 */
enum scx_dsq_id_flags {
	SCX_DSQ_INVALID = 0x8000000000000000ULL,
	SCX_DSQ_GLOBAL = 0x8000000000000001ULL,
	SCX_DSQ_LOCAL = 0x8000000000000002ULL,
	SCX_DSQ_LOCAL_ON = 0xc000000000000000ULL,
};
enum scx_enq_flags {
	SCX_ENQ_WAKEUP = 1ULL,
	SCX_ENQ_HEAD = 1ULL << 4,
	SCX_ENQ_PREEMPT = 1ULL << 32,
	SCX_ENQ_REENQ = 1ULL << 40,
	SCX_ENQ_LAST = 1ULL << 41,
};
enum scx_deq_flags {
	SCX_DEQ_SLEEP = 1ULL,
};
enum scx_ent_flags {
	SCX_TASK_QUEUED = 1,
};
enum scx_kick_flags {
	SCX_KICK_IDLE = 1,
	SCX_KICK_PREEMPT = 2,
};
enum scx_wake_flags {
	SCX_WAKE_FORK = 4,
	SCX_WAKE_TTWU = 8,
	SCX_WAKE_SYNC = 16,
};
enum scx_pick_idle_cpu_flags {
	SCX_PICK_IDLE_CORE = 1,
};
/* The ops flags a policy may ask for; those after 6.12 are cleared by
 * the runtime on a kernel without them. */
/* @abi ops_flags */
enum scx_exit_kind {
	SCX_EXIT_NONE = 0,
	SCX_EXIT_DONE = 1,
	SCX_EXIT_UNREG = 64,
	SCX_EXIT_ERROR = 1024,
};
enum scx_public_consts {
	SCX_SLICE_DFL = 20000000ULL,
};

/* The kernel's exit_info: a 7.x kernel adds members; CO-RE copes. */
struct scx_exit_info {
	enum scx_exit_kind kind;	/* must be the enum: CO-RE won't match int to enum */
	s64 exit_code;
	const char *reason;
	char *msg;
	char *dump;	/* the debug dump of an error exit */
} __attribute__((preserve_access_index));

#define SCHEDC_DSQ_GLOBAL	((u64)bpf_core_enum_value(enum scx_dsq_id_flags, SCX_DSQ_GLOBAL))
#define SCHEDC_DSQ_LOCAL	((u64)bpf_core_enum_value(enum scx_dsq_id_flags, SCX_DSQ_LOCAL))
/* The local DSQ of a given CPU. */
#define SCHEDC_DSQ_LOCAL_ON(cpu) \
	((u64)bpf_core_enum_value(enum scx_dsq_id_flags, SCX_DSQ_LOCAL_ON) | (u64)(u32)(cpu))
#define SCHEDC_ENQ_WAKEUP	((u64)bpf_core_enum_value(enum scx_enq_flags, SCX_ENQ_WAKEUP))
#define SCHEDC_ENQ_HEAD		((u64)bpf_core_enum_value(enum scx_enq_flags, SCX_ENQ_HEAD))
#define SCHEDC_ENQ_PREEMPT	((u64)bpf_core_enum_value(enum scx_enq_flags, SCX_ENQ_PREEMPT))
#define SCHEDC_ENQ_REENQ	((u64)bpf_core_enum_value(enum scx_enq_flags, SCX_ENQ_REENQ))
#define SCHEDC_ENQ_LAST		((u64)bpf_core_enum_value(enum scx_enq_flags, SCX_ENQ_LAST))
#define SCHEDC_DEQ_SLEEP	((u64)bpf_core_enum_value(enum scx_deq_flags, SCX_DEQ_SLEEP))
#define SCHEDC_TASK_QUEUED	((u32)bpf_core_enum_value(enum scx_ent_flags, SCX_TASK_QUEUED))
#define SCHEDC_KICK_IDLE	((u64)bpf_core_enum_value(enum scx_kick_flags, SCX_KICK_IDLE))
#define SCHEDC_KICK_PREEMPT	((u64)bpf_core_enum_value(enum scx_kick_flags, SCX_KICK_PREEMPT))
#define SCHEDC_WAKE_SYNC	((u64)bpf_core_enum_value(enum scx_wake_flags, SCX_WAKE_SYNC))
#define SCHEDC_PICK_IDLE_CORE	((u64)bpf_core_enum_value(enum scx_pick_idle_cpu_flags, SCX_PICK_IDLE_CORE))
#define SCHEDC_SLICE_DFL	((u64)bpf_core_enum_value(enum scx_public_consts, SCX_SLICE_DFL))

/*
 * User DSQ ids. Ids with bit 63 set are the kernel's built-in queues, so
 * user queues must stay below it. Per-CPU queues use the CPU number as id;
 * named shared queues are numbered from SCHEDC_SHARED_DSQ_BASE so they can
 * never collide with a CPU id.
 */
#define SCHEDC_SHARED_DSQ_BASE	(1ULL << 32)
#define SCHEDC_SHARED_DSQ(n)	(SCHEDC_SHARED_DSQ_BASE + (u64)(n))

/*
 * Queues with one instance per last-level cache or NUMA node: the k-th such
 * queue of the policy, instance d. Above every CPU and shared queue id.
 */
#define SCHEDC_LLC_DSQ(k, d)	((1ULL << 33) | ((u64)(k) << 16) | (u64)(d))
#define SCHEDC_NODE_DSQ(k, d)	((1ULL << 34) | ((u64)(k) << 16) | (u64)(d))

/* task_struct->flags bits (include/linux/sched.h), stable for years. */
#define SCHEDC_PF_KTHREAD	0x00200000

/* -------------------------------------------------------------------------
 * kfuncs. Those present on every sched_ext kernel are plain __ksym; those
 * renamed between 6.12 (scx_bpf_dispatch*, scx_bpf_consume) and 6.13+
 * (scx_bpf_dsq_insert*, scx_bpf_dsq_move_to_local) are __weak so that the
 * missing generation resolves to 0 and bpf_ksym_exists() picks the other.
 * ---------------------------------------------------------------------- */
s32 scx_bpf_create_dsq(u64 dsq_id, s32 node) __ksym;
s32 scx_bpf_dsq_nr_queued(u64 dsq_id) __ksym;
void scx_bpf_kick_cpu(s32 cpu, u64 flags) __ksym;
u32 scx_bpf_nr_cpu_ids(void) __ksym;
s32 scx_bpf_task_cpu(const struct task_struct *p) __ksym;
bool scx_bpf_task_running(const struct task_struct *p) __ksym;
s32 scx_bpf_select_cpu_dfl(struct task_struct *p, s32 prev_cpu, u64 wake_flags,
			   bool *is_idle) __ksym;
s32 scx_bpf_pick_idle_cpu(const struct cpumask *cpus_allowed, u64 flags) __ksym;
bool scx_bpf_test_and_clear_cpu_idle(s32 cpu) __ksym;
const struct cpumask *scx_bpf_get_idle_smtmask(void) __ksym;
void scx_bpf_put_idle_cpumask(const struct cpumask *mask) __ksym;
void scx_bpf_error_bstr(char *fmt, unsigned long long *data, u32 data__sz) __ksym;
bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;
bool bpf_cpumask_empty(const struct cpumask *cpumask) __ksym;
const struct cpumask *scx_bpf_get_idle_cpumask(void) __ksym;
/* A CPU's capacity, current performance level and performance target, 0..1024. */
u32 scx_bpf_cpuperf_cap(s32 cpu) __ksym;
u32 scx_bpf_cpuperf_cur(s32 cpu) __ksym;
void scx_bpf_cpuperf_set(s32 cpu, u32 perf) __ksym;
/*
 * `reenqueue local`, in ops.cpu_release: the CPU's local DSQ goes back
 * through ops.enqueue. On 6.12 and 7.2 alike (7.x also offers it as
 * scx_bpf_dsq_reenq(SCX_DSQ_LOCAL, flags), which 6.12 lacks).
 */
u32 scx_bpf_reenqueue_local(void) __ksym;

/* 6.13 and newer */
void scx_bpf_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice,
			u64 enq_flags) __ksym __weak;
void scx_bpf_dsq_insert_vtime(struct task_struct *p, u64 dsq_id, u64 slice,
			      u64 vtime, u64 enq_flags) __ksym __weak;
bool scx_bpf_dsq_move_to_local(u64 dsq_id) __ksym __weak;
/* 6.12 (removed in 6.19) */
void scx_bpf_dispatch(struct task_struct *p, u64 dsq_id, u64 slice,
		      u64 enq_flags) __ksym __weak;
void scx_bpf_dispatch_vtime(struct task_struct *p, u64 dsq_id, u64 slice,
			    u64 vtime, u64 enq_flags) __ksym __weak;
bool scx_bpf_consume(u64 dsq_id) __ksym __weak;

/*
 * Walking a DSQ's tasks in order (6.12 and newer), to read the key of its
 * first task: bpf_for_each(scx_dsq, p, dsq_id, 0) { ... }.
 */
struct bpf_iter_scx_dsq {
	u64 __opaque[6];
} __attribute__((aligned(8)));
int bpf_iter_scx_dsq_new(struct bpf_iter_scx_dsq *it, u64 dsq_id, u64 flags) __ksym;
struct task_struct *bpf_iter_scx_dsq_next(struct bpf_iter_scx_dsq *it) __ksym;
void bpf_iter_scx_dsq_destroy(struct bpf_iter_scx_dsq *it) __ksym;
/*
 * 6.19 and newer: the first task of a user DSQ, or NULL, without walking it.
 * Absent on 6.12, where the iterator above reads the head instead.
 */
struct task_struct *scx_bpf_dsq_peek(u64 dsq_id) __ksym __weak;

/*
 * The interrupt context of a wake-up (event.hardirq, event.softirq): bits of
 * the waking CPU's preempt count (include/linux/preempt.h). x86 keeps the
 * count in pcpu_hot.preempt_count on 6.12 and in the per-CPU int
 * __preempt_count on newer kernels. Both are weak per-CPU kernel symbols:
 * the one a kernel lacks resolves to 0, and its branch is dead code the
 * verifier never sees. CO-RE finds preempt_count inside pcpu_hot's
 * anonymous union.
 */
struct pcpu_hot {
	int preempt_count;
} __attribute__((preserve_access_index));
extern struct pcpu_hot pcpu_hot __ksym __weak;
extern int __preempt_count __ksym __weak;
#define SCHEDC_HARDIRQ_MASK	0x000f0000	/* hard interrupt nesting */
#define SCHEDC_SOFTIRQ_OFFSET	0x00000100	/* serving a softirq */

static __always_inline int schedc_preempt_count(void)
{
	if (bpf_ksym_exists(&__preempt_count))
		return *(int *)bpf_this_cpu_ptr(&__preempt_count);
	if (bpf_ksym_exists(&pcpu_hot))
		return ((struct pcpu_hot *)bpf_this_cpu_ptr(&pcpu_hot))->preempt_count;
	return 0;
}

/* Queue @p on @dsq_id in FIFO order with a slice of @slice ns. */
static __always_inline void schedc_insert(struct task_struct *p, u64 dsq_id,
					  u64 slice, u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_insert))
		scx_bpf_dsq_insert(p, dsq_id, slice, enq_flags);
	else
		scx_bpf_dispatch(p, dsq_id, slice, enq_flags);
}

/* Queue @p on user DSQ @dsq_id ordered by @vtime (built-in DSQs are FIFO only). */
static __always_inline void schedc_insert_vtime(struct task_struct *p, u64 dsq_id,
						u64 slice, u64 vtime, u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_insert_vtime))
		scx_bpf_dsq_insert_vtime(p, dsq_id, slice, vtime, enq_flags);
	else
		scx_bpf_dispatch_vtime(p, dsq_id, slice, vtime, enq_flags);
}

/* From ops.dispatch: move the first task of @dsq_id to this CPU's local DSQ. */
static __always_inline bool schedc_move_to_local(u64 dsq_id)
{
	if (bpf_ksym_exists(scx_bpf_dsq_move_to_local))
		return scx_bpf_dsq_move_to_local(dsq_id);
	return scx_bpf_consume(dsq_id);
}

/*
 * A BPF global function: the verifier checks it once, on its own, from its
 * declared argument types, instead of at every call site. Weak, because for
 * a function clang knows exactly it leaves out the arguments the body does
 * not read, and the verifier refuses a call with an argument register unset.
 */
#define SCHEDC_GLOBAL __weak __noinline

/* Report a fatal scheduler error; the kernel then ejects the scheduler. */
#define schedc_error(fmt, args...)						\
({										\
	static char ___fmt[] = fmt;						\
	unsigned long long ___param[___bpf_narg(args)];				\
	_Pragma("GCC diagnostic push")						\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")			\
	___bpf_fill(___param, args);						\
	_Pragma("GCC diagnostic pop")						\
	scx_bpf_error_bstr(___fmt, ___param, sizeof(___param));			\
})

/* -------------------------------------------------------------------------
 * Idle-CPU selection, one helper per preference of the policy language.
 * Each returns a CPU it has claimed (its idle bit cleared, so no other waker
 * takes it) or -1. Call them only from ops.select_cpu.
 * ---------------------------------------------------------------------- */

/* A task allowed on a single CPU: that CPU, if it is idle. */
static __always_inline s32 schedc_idle_pinned(struct task_struct *p, s32 prev_cpu)
{
	if (p->nr_cpus_allowed != 1)
		return -1;
	return scx_bpf_test_and_clear_cpu_idle(prev_cpu) ? prev_cpu : -1;
}

/* The previous CPU, if it and all its SMT siblings are idle. */
static __always_inline s32 schedc_idle_prev_core(struct task_struct *p, s32 prev_cpu)
{
	const struct cpumask *smt = scx_bpf_get_idle_smtmask();
	bool whole_core_idle = bpf_cpumask_test_cpu(prev_cpu, smt);

	scx_bpf_put_idle_cpumask(smt);
	if (whole_core_idle && bpf_cpumask_test_cpu(prev_cpu, p->cpus_ptr) &&
	    scx_bpf_test_and_clear_cpu_idle(prev_cpu))
		return prev_cpu;
	return -1;
}

/* Any allowed CPU whose whole core is idle. */
static __always_inline s32 schedc_idle_any_core(struct task_struct *p)
{
	s32 cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, SCHEDC_PICK_IDLE_CORE);

	return cpu >= 0 ? cpu : -1;
}

/* The previous CPU, if idle. */
static __always_inline s32 schedc_idle_prev(struct task_struct *p, s32 prev_cpu)
{
	if (bpf_cpumask_test_cpu(prev_cpu, p->cpus_ptr) &&
	    scx_bpf_test_and_clear_cpu_idle(prev_cpu))
		return prev_cpu;
	return -1;
}

/*
 * `waker`: on a synchronous wake-up the waker is about to sleep, so its CPU
 * (the one running select_cpu) frees up soon; taken if @p may run there and
 * no other task waits in its local queue. Not idle, so nothing is claimed.
 */
static __always_inline s32 schedc_sync_waker_cpu(struct task_struct *p, u64 wake_flags)
{
	s32 cpu = bpf_get_smp_processor_id();

	if (!(wake_flags & SCHEDC_WAKE_SYNC) || !bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
		return -1;
	return scx_bpf_dsq_nr_queued(SCHEDC_DSQ_LOCAL) ? -1 : cpu;
}

/* Any idle allowed CPU. */
static __always_inline s32 schedc_idle_any(struct task_struct *p)
{
	s32 cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);

	return cpu >= 0 ? cpu : -1;
}

/*
 * CPU sets (`cpuset NAME = 0-3, 6`). `CPU in NAME` reads a bitmap of 64-bit
 * words; a set an idle pick uses is also a kernel cpumask (a kptr, kept in
 * a map value). The cpumask kfuncs are the same on 6.12 and 7.x.
 */
struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;
void bpf_cpumask_set_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym;
void bpf_cpumask_clear_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym;
void bpf_rcu_read_lock(void) __ksym;
void bpf_rcu_read_unlock(void) __ksym;
bool bpf_cpumask_and(struct bpf_cpumask *dst, const struct cpumask *src1, const struct cpumask *src2) __ksym;

/* Whether @cpu is in the bitmap @set of @words words; false outside it. */
static __always_inline bool schedc_cpuset_has(const volatile u64 *set, u32 words, s64 cpu)
{
	u64 c = (u64)cpu;

	if (c >= (u64)words * 64)
		return false;
	return (set[c >> 6] >> (c & 63)) & 1;
}

/*
 * An idle CPU @p may use among @set's (flags as scx_bpf_pick_idle_cpu's),
 * claimed; -1 if none. @set is read under RCU: callbacks run inside it.
 */
static __always_inline s32 schedc_idle_in(struct task_struct *p, const struct cpumask *set, u64 flags)
{
	struct bpf_cpumask *allowed;
	s32 cpu;

	if (!set)
		return -1;
	allowed = bpf_cpumask_create();
	if (!allowed)
		return -1;
	bpf_cpumask_and(allowed, set, p->cpus_ptr);
	cpu = scx_bpf_pick_idle_cpu((const struct cpumask *)allowed, flags);
	bpf_cpumask_release(allowed);
	return cpu >= 0 ? cpu : -1;
}

/*
 * The kernel's own choice (prefers prev_cpu, wake-affine, idle cores). Sets
 * *is_idle when the returned CPU was idle and has been claimed; when it is
 * false the returned CPU is only a hint.
 */
static __always_inline s32 schedc_select_cpu_default(struct task_struct *p, s32 prev_cpu,
						     u64 wake_flags, bool *is_idle)
{
	return scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, is_idle);
}

/* -------------------------------------------------------------------------
 * Arithmetic with defined results for every input: the policy language has
 * no undefined behaviour, so x / 0 == 0, x % 0 == 0 and S64_MIN / -1 wraps
 * to S64_MIN. Signed division is built from unsigned division because the
 * sdiv/smod instructions need cpu v4, and schedc targets v3.
 * ---------------------------------------------------------------------- */
static __always_inline u64 schedc_udiv(u64 a, u64 b)
{
	/* A divisor clang knows is not 0 (a constant, max(x, 1), ...). */
	if (__builtin_constant_p(b != 0) && b != 0)
		return a / b;
	/*
	 * BPF defines x / 0 as 0 (the kernel guards the instruction at run
	 * time), the language's own rule, so no branch is needed: each branch
	 * is one more path for the verifier to walk. Written as an
	 * instruction because for clang x / 0 is undefined.
	 */
#ifdef __bpf__
	asm("%[a] /= %[b]" : [a] "+r"(a) : [b] "r"(b));
	return a;
#else
	/* Built for the host (tests/random_policies.rs): the same, tested. */
	return b ? a / b : 0;
#endif
}

static __always_inline u64 schedc_umod(u64 a, u64 b)
{
	return b ? a % b : 0;
}

/* All ones if x < 0, else 0. */
static __always_inline u64 schedc_sign_mask(s64 x)
{
	return (u64)(x >> 63);
}

/* |x| as u64; exact for S64_MIN too. No branch: (x ^ m) - m with m the sign mask. */
static __always_inline u64 schedc_uabs(s64 x)
{
	u64 m = schedc_sign_mask(x);

	return ((u64)x ^ m) - m;
}

/*
 * C semantics: the quotient truncates toward zero. Without branches: the
 * quotient of the magnitudes, negated (q ^ m) - m when the signs differ.
 */
static __always_inline s64 schedc_sdiv(s64 a, s64 b)
{
	u64 m = schedc_sign_mask(a) ^ schedc_sign_mask(b);
	u64 q = schedc_udiv(schedc_uabs(a), schedc_uabs(b));

	return (s64)((q ^ m) - m);
}

/*
 * Makes clang forget what it knows of @x (no instruction): it then keeps
 * an operation it would otherwise drop or turn into a branch.
 */
#define SCHEDC_OPAQUE(x) asm volatile("" : "+r"(x))

/* x if it is positive, else 0, without a branch. */
static __always_inline u64 schedc_positive(s64 x)
{
	u64 m = schedc_sign_mask(x);

	/* Else clang turns the mask back into a branch. */
	SCHEDC_OPAQUE(m);
	return (u64)x & ~m;
}

/* C semantics: the remainder has the sign of the dividend. */
static __always_inline s64 schedc_smod(s64 a, s64 b)
{
	u64 r;

	if (!b)
		return 0;
	r = schedc_uabs(a) % schedc_uabs(b);
	return (s64)(a < 0 ? -r : r);
}

/* -------------------------------------------------------------------------
 * Units and the policy language's built-in functions, one per C type the
 * language uses (s64 for durations and ints, u64 for uints and times).
 * ---------------------------------------------------------------------- */
#define NSEC_PER_USEC	1000LL
#define NSEC_PER_MSEC	1000000LL
#define NSEC_PER_SEC	1000000000LL

#define SCHEDC_DEFINE_MINMAX(T)							\
static __always_inline T schedc_min_##T(T a, T b) { return a < b ? a : b; }	\
static __always_inline T schedc_max_##T(T a, T b) { return a > b ? a : b; }	\
/* clamp(x, lo, hi) == min(max(x, lo), hi), also when lo > hi. */		\
static __always_inline T schedc_clamp_##T(T x, T lo, T hi)			\
{ return schedc_min_##T(schedc_max_##T(x, lo), hi); }
SCHEDC_DEFINE_MINMAX(s64)
SCHEDC_DEFINE_MINMAX(u64)

/*
 * log2(x): floor(log2(x)) of a count, 0 for x <= 1. A fixed sequence of
 * halvings of the bit range, no loop: the verifier sees six branches.
 */
static __always_inline u64 schedc_log2_u64(u64 x)
{
	u64 bits = 0;

	if (x >= 1ULL << 32) {
		x >>= 32;
		bits += 32;
	}
	if (x >= 1ULL << 16) {
		x >>= 16;
		bits += 16;
	}
	if (x >= 1ULL << 8) {
		x >>= 8;
		bits += 8;
	}
	if (x >= 1ULL << 4) {
		x >>= 4;
		bits += 4;
	}
	if (x >= 1ULL << 2) {
		x >>= 2;
		bits += 2;
	}
	if (x >= 1ULL << 1)
		bits += 1;
	return bits;
}

/* log2 of an int: a negative one counts as 0. */
static __always_inline u64 schedc_log2_s64(s64 x)
{
	return x > 0 ? schedc_log2_u64((u64)x) : 0;
}

/* Exponentially weighted moving average: the new sample weighs 1/4. */
static __always_inline s64 schedc_ewma_s64(s64 avg, s64 sample)
{
	return avg - schedc_sdiv(avg, 4) + schedc_sdiv(sample, 4);
}

static __always_inline u64 schedc_ewma_u64(u64 avg, u64 sample)
{
	return avg - avg / 4 + sample / 4;
}

/*
 * Setting a running task's remaining slice: 7.x kernels have a kfunc for it,
 * 6.12 lets struct_ops programs write the field. A negative slice counts as 0.
 */
bool scx_bpf_task_set_slice(struct task_struct *p, u64 slice) __ksym __weak;

static __always_inline void schedc_set_slice(struct task_struct *p, s64 slice)
{
	u64 ns = schedc_positive(slice);

	if (bpf_ksym_exists(scx_bpf_task_set_slice))
		scx_bpf_task_set_slice(p, ns);
	else
		p->scx.slice = ns;
}

/* Bound of per-CPU arrays in generated code (preemption bookkeeping). */
#define SCHEDC_MAX_CPUS 4096

/* The online CPUs: for counting them and for draining offline CPUs' queues. */
const struct cpumask *scx_bpf_get_online_cpumask(void) __ksym;
void scx_bpf_put_cpumask(const struct cpumask *mask) __ksym;
u32 bpf_cpumask_weight(const struct cpumask *cpumask) __ksym;

/* A uint count of CPUs for `SET = first(N)`: as large as any CPU number when above. */
static __always_inline s64 schedc_uint_cpus(u64 n)
{
	return n > SCHEDC_MAX_CPUS ? SCHEDC_MAX_CPUS : (s64)n;
}

/* Tasks waiting in a DSQ; 0 if the kernel reports an error (no such DSQ). */
static __always_inline u64 schedc_nr_queued(u64 dsq_id)
{
	return schedc_positive(scx_bpf_dsq_nr_queued(dsq_id));
}

/* -------------------------------------------------------------------------
 * Task name match. The kernel stores comm truncated to 15 characters, so a
 * longer literal is compared on its first 15 characters only: that is the
 * name the kernel would have stored for it. Use via the macros below
 * so the literal's length is a compile-time constant and the loop unrolls.
 * ---------------------------------------------------------------------- */
#define SCHEDC_COMM_LEN 16

static __always_inline bool schedc_name_match(const char *comm, const char *lit, u32 lit_size,
					     bool prefix)
{
	/* Characters to compare, without the literal's NUL. */
	u32 n = lit_size - 1 < SCHEDC_COMM_LEN - 1 ? lit_size - 1 : SCHEDC_COMM_LEN - 1;
	int i;

#pragma unroll
	for (i = 0; i < SCHEDC_COMM_LEN; i++) {
		char want = i < n ? lit[i] : 0;

		/* A prefix matches once all its characters did. */
		if (prefix && !want)
			return true;
		if (comm[i] != want)
			return false;
		if (!want)
			break;
	}
	return true;
}

/* A cgroup's name, as many characters of it as a command name holds. */
struct schedc_cgroup_name {
	char name[SCHEDC_COMM_LEN];
};

/* The name of @p's cgroup v2 cgroup (the last part of its path), read
 * through probe reads: it lives in kernfs, which BPF may not load directly. */
static __always_inline struct schedc_cgroup_name schedc_cgroup_name(struct task_struct *p)
{
	struct schedc_cgroup_name n = {};

	bpf_probe_read_kernel_str(n.name, sizeof(n.name), BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, name));
	return n;
}

/* task.comm == "x"; any other command name == "x"; starts_with "x". */
#define SCHEDC_COMM_EQ(p, lit) schedc_name_match((p)->comm, "" lit "", sizeof(lit), false)
#define SCHEDC_NAME_EQ(comm, lit) schedc_name_match((comm), "" lit "", sizeof(lit), false)
#define SCHEDC_NAME_STARTS(comm, lit) schedc_name_match((comm), "" lit "", sizeof(lit), true)

/* -------------------------------------------------------------------------
 * Exit record. ops.exit copies the kernel's exit_info here so the runtime
 * can tell the user why the scheduler stopped (read from .bss after detach).
 * The runtime reads it by this exact name and layout, so both come from
 * the schedc-abi crate (abi/src/exit.rs), filled in when schedc is built.
 * ---------------------------------------------------------------------- */
/* @abi exit_record */

static __always_inline void schedc_record_exit(struct scx_exit_info *ei)
{
	/* ei is a trusted pointer: its members can be read directly. */
	schedc_exit.exit_code = ei->exit_code;
	bpf_probe_read_kernel_str(schedc_exit.reason, sizeof(schedc_exit.reason), ei->reason);
	bpf_probe_read_kernel_str(schedc_exit.msg, sizeof(schedc_exit.msg), ei->msg);
	if (ei->dump)
		bpf_probe_read_kernel_str(schedc_exit.dump, sizeof(schedc_exit.dump), ei->dump);
	/* Written last: a non-zero kind tells the runtime the record is complete. */
	schedc_exit.kind = ei->kind;
}

/* -------------------------------------------------------------------------
 * Declaring callbacks and the manifest.
 * ---------------------------------------------------------------------- */
#define SCHEDC_OPS(name, args...)		SEC("struct_ops/" #name) BPF_PROG(name, ##args)
/* ops.init and others that may sleep (e.g. to call scx_bpf_create_dsq). */
#define SCHEDC_OPS_SLEEPABLE(name, args...)	SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

/*
 * The JSON manifest: the runtime reads it from an ELF section of its own
 * (libbpf ignores sections it does not know), named by schedc-abi. A copy
 * in .rodata reaches the kernel with the object, so that `schedc stats` can
 * read it from the loaded scheduler's maps.
 */
/* @abi manifest_macro */

char _license[] SEC("license") = "GPL";

#endif /* SCHEDC_BPF_H */
