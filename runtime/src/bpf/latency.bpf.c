// SPDX-License-Identifier: GPL-2.0-only
/*
 * latency.bpf.c - the runqueue latency of every task, under any scheduler.
 *
 * A task's wait starts when it becomes runnable: when it is woken
 * (sched_wakeup), when it is new (sched_wakeup_new), or when it is switched
 * out while still runnable (sched_switch with a TASK_RUNNING prev: it was
 * preempted or yielded). The wait ends when sched_switch picks it as next.
 * Each wait lands in log2 histograms, one for all tasks and, when a schedc
 * scheduler is attached, one for the class it keeps in its task storage.
 *
 * The tracepoints are core scheduler ones, so the same numbers come out
 * under the kernel's default scheduler and under any sched_ext scheduler.
 * Like schedc.bpf.h, this file declares the few kernel members it reads
 * itself, with preserve_access_index (CO-RE), so it needs no vmlinux.h and
 * one object loads on every kernel.
 */

/* The integer types libbpf's headers use, without kernel or libc headers. */
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
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef _Bool bool;

/* Stable UAPI values (include/uapi/linux/bpf.h). */
#define BPF_MAP_TYPE_PERCPU_ARRAY 6
#define BPF_MAP_TYPE_TASK_STORAGE 29
#define BPF_F_NO_PREALLOC 1
#define BPF_LOCAL_STORAGE_GET_F_CREATE 1

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* task_struct.__state of a task that is runnable (on a runqueue or running). */
#define TASK_RUNNING 0

struct task_struct {
	unsigned int __state;
	int pid;
} __attribute__((preserve_access_index));

#include "latency_slot.h"

/* Which histogram a wait lands in (besides HIST_ALL). */
#define HIST_ALL 0
#define HIST_UNATTRIBUTED 1 /* a schedc scheduler runs, but the task has no class slot */
#define HIST_CLASS_BASE 2   /* + the task's class value (0 = in no class) */
#define NR_CLASS_SLOTS 16
#define NR_HISTS (HIST_CLASS_BASE + NR_CLASS_SLOTS)

struct latency_hist {
	u64 slots[LATENCY_SLOTS];
	u64 max_ns;
};

/*
 * Two banks of histograms: the probe writes into bank `bank`; the runtime
 * flips it every interval and then reads and clears the other, which no
 * program writes into any more. Per-CPU, so an event costs no atomic.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * NR_HISTS);
	__type(key, u32);
	__type(value, struct latency_hist);
} latency_hists SEC(".maps");

/* The bank being written, 0 or 1; the runtime flips it. */
u32 bank;

/* When each task last became runnable; 0 once it ran. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, u64);
} latency_runnable_since SEC(".maps");

/*
 * The attached schedc scheduler's task storage (its map `schedc_tasks`).
 * The runtime hands libbpf that map's descriptor before load, so this
 * declaration only gives libbpf a definition to replace; with no schedc
 * scheduler it is an unused map of its own.
 */
struct schedc_task_class {
	u8 class;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct schedc_task_class);
} latency_sched_tasks SEC(".maps");

/*
 * Offset of the u8 `class` member in the scheduler's struct schedc_task,
 * which the runtime reads from the scheduler object's BTF; -1 when no
 * schedc scheduler with classes is attached. A read-only constant at load,
 * so the verifier knows it and drops the class lookup when it is -1.
 */
const volatile s32 class_offset = -1;

static __always_inline void add(u32 hist, u32 slot, u64 ns)
{
	u32 key = *(volatile u32 *)&bank ? NR_HISTS + hist : hist;
	struct latency_hist *h = bpf_map_lookup_elem(&latency_hists, &key);

	if (!h)
		return;
	h->slots[slot & (LATENCY_SLOTS - 1)]++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

/* The histogram of the class the scheduler keeps for p. */
static __always_inline u32 class_hist(struct task_struct *p)
{
	u8 *task = bpf_task_storage_get(&latency_sched_tasks, p, 0, 0);
	u8 class;

	if (!task)
		return HIST_UNATTRIBUTED;
	class = task[class_offset];
	return class < NR_CLASS_SLOTS ? HIST_CLASS_BASE + class : HIST_UNATTRIBUTED;
}

static __always_inline void mark_runnable(struct task_struct *p, u64 now)
{
	u64 *since;

	if (!p->pid) /* an idle task: never waits */
		return;
	since = bpf_task_storage_get(&latency_runnable_since, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (since)
		*since = now;
}

static __always_inline void mark_running(struct task_struct *p, u64 now)
{
	u64 *since, ns;
	u32 slot;

	if (!p->pid)
		return;
	since = bpf_task_storage_get(&latency_runnable_since, p, 0, 0);
	/* Tasks runnable since before the probe attached have no start. */
	if (!since || !*since)
		return;
	ns = now - *since;
	*since = 0;
	slot = latency_slot(ns);
	add(HIST_ALL, slot, ns);
	if (class_offset >= 0)
		add(class_hist(p), slot, ns);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(latency_wakeup, struct task_struct *p)
{
	mark_runnable(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(latency_wakeup_new, struct task_struct *p)
{
	mark_runnable(p, bpf_ktime_get_ns());
	return 0;
}

/*
 * Kernels since 5.18 pass a fourth argument, prev_state; older ones pass
 * three. Only the three common ones are named here (the verifier checks
 * each access against the running kernel's prototype), and prev's state
 * is read from the task itself, which works with either signature.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(latency_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	u64 now = bpf_ktime_get_ns();

	if (prev->__state == TASK_RUNNING)
		mark_runnable(prev, now);
	mark_running(next, now);
	return 0;
}

char _license[] SEC("license") = "GPL";
