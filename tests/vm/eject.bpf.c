// SPDX-License-Identifier: GPL-2.0-only
/*
 * A scheduler that reports an error after a number of enqueues, so the
 * kernel ejects it: tests that the runtime notices and reports the exit.
 *
 * No policy can call scx_bpf_error(), so this one is C. Its manifest is not
 * written here: runtime/tests/common builds it from a typed schedc-abi
 * manifest and appends it, and runtime/tests/sample.rs checks that it
 * matches the globals below.
 */
#include "schedc.bpf.h"

const volatile u64 fail_after = 2000;
u64 nr_enqueued;

void SCHEDC_OPS(eject_enqueue, struct task_struct *p, u64 enq_flags)
{
	u64 n = __sync_fetch_and_add(&nr_enqueued, 1);

	if (n == fail_after)
		schedc_error("eject test: %llu enqueues", n);
	schedc_insert(p, SCHEDC_DSQ_GLOBAL, SCHEDC_SLICE_DFL, enq_flags);
}

void SCHEDC_OPS(eject_exit, struct scx_exit_info *ei)
{
	schedc_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops eject_ops = {
	.enqueue	= (void *)eject_enqueue,
	.exit		= (void *)eject_exit,
	.timeout_ms	= 5000,
	.name		= "eject",
};
