// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runs schedc.bpf.h's arithmetic helpers (division, schedc_positive) in the kernel (a syscall program,
 * loadable without sched_ext) so their results are checked as BPF code
 * compiled with schedc's flags computes them, not as host C would.
 */
#include "schedc.bpf.h"

#define N 8

/* Inputs in .data so the compiler cannot fold the calls away. */
s64 a[N] = { 7, -7, 7, -7, S64_MIN, S64_MIN, 5, 0 };
s64 b[N] = { 2, 2, -2, -2, -1, 1, 0, 0 };

/* One struct, so the host knows the layout. */
struct {
	s64 sdiv[N], smod[N];
	u64 udiv[N], umod[N];
	u64 positive[N];
} out;

SEC("syscall")
int run(void *ctx)
{
	int i;

#pragma unroll
	for (i = 0; i < N; i++) {
		out.sdiv[i] = schedc_sdiv(a[i], b[i]);
		out.smod[i] = schedc_smod(a[i], b[i]);
		out.udiv[i] = schedc_udiv((u64)a[i], (u64)b[i]);
		out.umod[i] = schedc_umod((u64)a[i], (u64)b[i]);
		out.positive[i] = schedc_positive(a[i]);
	}
	return 0;
}
