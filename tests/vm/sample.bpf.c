// SPDX-License-Identifier: GPL-2.0-only
/*
 * A hand-written scheduler in the shape schedc generates: a small
 * vtime-based scheduler in the spirit of bpfland. Tasks that run in short
 * bursts go to a shared "prio" queue, the rest to a shared "regular" queue;
 * tasks pinned to one CPU go to that CPU's own queue. Every queue is ordered
 * by virtual time (used runtime scaled by weight).
 *
 * Used by the VM tests as the reference object for the runtime and harness.
 */
#include "schedc.bpf.h"

SCHEDC_MANIFEST("{\"schedc\":1,\"scheduler\":\"bpfland\","
	"\"description\":\"sample: short-burst tasks first, vtime fairness\","
	"\"timeout_ms\":5000,"
	"\"params\":["
	"{\"name\":\"slice_max\",\"symbol\":\"slice_max\",\"type\":\"duration\",\"default\":5000000,\"min\":100000,\"max\":null,\"doc\":\"longest slice\"},"
	"{\"name\":\"slice_lag\",\"symbol\":\"slice_lag\",\"type\":\"duration\",\"default\":20000000,\"min\":0,\"max\":null,\"doc\":\"most vtime credit a sleeper keeps\"},"
	"{\"name\":\"interactive_thresh\",\"symbol\":\"interactive_thresh\",\"type\":\"duration\",\"default\":1000000,\"min\":0,\"max\":null,\"doc\":\"average burst below which a task is prio\"},"
	"{\"name\":\"starvation_thresh\",\"symbol\":\"starvation_thresh\",\"type\":\"duration\",\"default\":10000000,\"min\":1000000,\"max\":1000000000,\"doc\":\"longest wait of the regular queue\"},"
	"{\"name\":\"prio_max_queued\",\"symbol\":\"prio_max_queued\",\"type\":\"uint\",\"default\":64,\"min\":1,\"max\":4096,\"doc\":\"prio queue length above which tasks go regular\"},"
	"{\"name\":\"weight_bias\",\"symbol\":\"weight_bias\",\"type\":\"int\",\"default\":0,\"min\":-50,\"max\":50,\"doc\":\"added to every task weight\"},"
	"{\"name\":\"local_kthreads\",\"symbol\":\"local_kthreads\",\"type\":\"bool\",\"default\":true,\"min\":null,\"max\":null,\"doc\":\"run pinned kernel threads at once\"}"
	"],"
	"\"stats\":["
	"{\"name\":\"nr_direct\",\"symbol\":\"nr_direct\",\"kind\":\"counter\",\"type\":\"uint\",\"doc\":\"tasks sent straight to an idle CPU\"},"
	"{\"name\":\"nr_kthread\",\"symbol\":\"nr_kthread\",\"kind\":\"counter\",\"type\":\"uint\",\"doc\":\"pinned kernel threads run at once\"},"
	"{\"name\":\"nr_pinned\",\"symbol\":\"nr_pinned\",\"kind\":\"counter\",\"type\":\"uint\",\"doc\":\"tasks queued on their CPU's own queue\"},"
	"{\"name\":\"nr_prio\",\"symbol\":\"nr_prio\",\"kind\":\"counter\",\"type\":\"uint\",\"doc\":\"tasks queued as prio\"},"
	"{\"name\":\"nr_regular\",\"symbol\":\"nr_regular\",\"kind\":\"counter\",\"type\":\"uint\",\"doc\":\"tasks queued as regular\"},"
	"{\"name\":\"nr_starved\",\"symbol\":\"nr_starved\",\"kind\":\"counter\",\"type\":\"uint\",\"doc\":\"regular served first because it waited too long\"},"
	"{\"name\":\"nr_kicks\",\"symbol\":\"nr_kicks\",\"kind\":\"counter\",\"type\":\"uint\",\"doc\":\"idle CPUs woken on enqueue\"}"
	"],"
	"\"inputs\":[{\"symbol\":\"schedc_nr_cpus\",\"fact\":\"nr_cpus\"},{\"symbol\":\"schedc_smt\",\"fact\":\"smt\"}]}");

/* Parameters: .rodata, set by the runtime before load. */
const volatile s64 slice_max = 5000000;
const volatile s64 slice_lag = 20000000;
const volatile s64 interactive_thresh = 1000000;
const volatile s64 starvation_thresh = 10000000;
const volatile u64 prio_max_queued = 64;
const volatile s64 weight_bias = 0;
const volatile bool local_kthreads = true;

/* Facts about the machine, filled in by the runtime before load. */
const volatile u64 schedc_nr_cpus = 1;
const volatile bool schedc_smt = false;

/* Statistics: .bss, read by the runtime. */
u64 nr_direct, nr_kthread, nr_pinned, nr_prio, nr_regular, nr_starved, nr_kicks;

/* Shared queues; per-CPU queues use the CPU number as id. */
#define DSQ_prio	SCHEDC_SHARED_DSQ(0)
#define DSQ_regular	SCHEDC_SHARED_DSQ(1)

/* Scheduler state. */
static u64 vtime_now;
static u64 regular_served_at;

struct task_ctx {
	u64 vtime;
	u64 started_at;
	u64 avg_runtime;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

static __always_inline struct task_ctx *task_ctx(struct task_struct *p)
{
	return bpf_task_storage_get(&task_ctxs, p, 0, 0);
}

static __always_inline u64 task_weight(struct task_struct *p)
{
	s64 w = (s64)p->scx.weight + weight_bias;

	return w < 1 ? 1 : (u64)w;
}

/* The task's vtime, with at most slice_lag of credit kept from sleeping. */
static __always_inline u64 task_vtime(struct task_ctx *tctx)
{
	u64 floor = vtime_now - (u64)slice_lag;

	if ((s64)(tctx->vtime - floor) < 0)
		return floor;
	return tctx->vtime;
}

s32 SCHEDC_OPS(bpfland_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	s32 cpu;

	cpu = schedc_idle_pinned(p, prev_cpu);
	if (cpu < 0 && schedc_smt)
		cpu = schedc_idle_prev_core(p, prev_cpu);
	if (cpu < 0 && schedc_smt)
		cpu = schedc_idle_any_core(p);
	if (cpu < 0)
		cpu = schedc_idle_prev(p, prev_cpu);
	if (cpu < 0)
		cpu = schedc_idle_any(p);
	if (cpu < 0)
		return prev_cpu;

	/* The CPU is claimed and idle: run there without queueing. */
	schedc_insert(p, SCHEDC_DSQ_LOCAL, slice_max, 0);
	__sync_fetch_and_add(&nr_direct, 1);
	return cpu;
}

void SCHEDC_OPS(bpfland_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *tctx;
	s32 cpu;

	if (local_kthreads && (p->flags & SCHEDC_PF_KTHREAD) && p->nr_cpus_allowed == 1) {
		schedc_insert(p, SCHEDC_DSQ_LOCAL, slice_max, enq_flags);
		__sync_fetch_and_add(&nr_kthread, 1);
		return;
	}

	tctx = task_ctx(p);
	if (!tctx) {
		schedc_error("no task_ctx for pid %d", p->pid);
		return;
	}

	if (p->nr_cpus_allowed == 1) {
		cpu = scx_bpf_task_cpu(p);
		schedc_insert_vtime(p, (u64)cpu, slice_max, task_vtime(tctx), enq_flags);
		__sync_fetch_and_add(&nr_pinned, 1);
		scx_bpf_kick_cpu(cpu, SCHEDC_KICK_IDLE);
		return;
	}

	if ((s64)tctx->avg_runtime < interactive_thresh &&
	    (u64)scx_bpf_dsq_nr_queued(DSQ_prio) < prio_max_queued) {
		schedc_insert_vtime(p, DSQ_prio, slice_max, task_vtime(tctx), enq_flags);
		__sync_fetch_and_add(&nr_prio, 1);
	} else {
		schedc_insert_vtime(p, DSQ_regular, slice_max, task_vtime(tctx), enq_flags);
		__sync_fetch_and_add(&nr_regular, 1);
	}

	/* Wake an idle CPU to pick the task up. */
	cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
	if (cpu >= 0) {
		scx_bpf_kick_cpu(cpu, SCHEDC_KICK_IDLE);
		__sync_fetch_and_add(&nr_kicks, 1);
	}
}

void SCHEDC_OPS(bpfland_dispatch, s32 cpu, struct task_struct *prev)
{
	u64 now = bpf_ktime_get_ns();

	if (schedc_move_to_local((u64)cpu))
		return;

	/* Serve the regular queue first if it has waited too long. */
	if (now - regular_served_at > (u64)starvation_thresh &&
	    schedc_move_to_local(DSQ_regular)) {
		regular_served_at = now;
		__sync_fetch_and_add(&nr_starved, 1);
		return;
	}
	if (schedc_move_to_local(DSQ_prio))
		return;
	if (schedc_move_to_local(DSQ_regular))
		regular_served_at = now;
}

void SCHEDC_OPS(bpfland_running, struct task_struct *p)
{
	struct task_ctx *tctx = task_ctx(p);

	if (!tctx)
		return;
	tctx->started_at = bpf_ktime_get_ns();
	if ((s64)(tctx->vtime - vtime_now) > 0)
		vtime_now = tctx->vtime;
}

void SCHEDC_OPS(bpfland_stopping, struct task_struct *p, bool runnable)
{
	struct task_ctx *tctx = task_ctx(p);
	u64 ran;

	if (!tctx)
		return;
	ran = bpf_ktime_get_ns() - tctx->started_at;
	tctx->avg_runtime = schedc_udiv(tctx->avg_runtime * 3 + ran, 4);
	tctx->vtime = task_vtime(tctx) + schedc_udiv(ran * 100, task_weight(p));
}

void SCHEDC_OPS(bpfland_enable, struct task_struct *p)
{
	struct task_ctx *tctx = task_ctx(p);

	if (tctx)
		tctx->vtime = vtime_now;
}

s32 SCHEDC_OPS(bpfland_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	if (!bpf_task_storage_get(&task_ctxs, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE))
		return -12; /* -ENOMEM */
	return 0;
}

s32 SCHEDC_OPS_SLEEPABLE(bpfland_init)
{
	u32 nr_cpu_ids = scx_bpf_nr_cpu_ids();
	s32 err;
	int i;

	bpf_for(i, 0, nr_cpu_ids) {
		err = scx_bpf_create_dsq((u64)i, -1);
		if (err)
			return err;
	}
	err = scx_bpf_create_dsq(DSQ_prio, -1);
	if (err)
		return err;
	return scx_bpf_create_dsq(DSQ_regular, -1);
}

void SCHEDC_OPS(bpfland_exit, struct scx_exit_info *ei)
{
	schedc_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops bpfland_ops = {
	.select_cpu	= (void *)bpfland_select_cpu,
	.enqueue	= (void *)bpfland_enqueue,
	.dispatch	= (void *)bpfland_dispatch,
	.running	= (void *)bpfland_running,
	.stopping	= (void *)bpfland_stopping,
	.enable		= (void *)bpfland_enable,
	.init_task	= (void *)bpfland_init_task,
	.init		= (void *)bpfland_init,
	.exit		= (void *)bpfland_exit,
	.timeout_ms	= 5000,
	.name		= "bpfland",
};
