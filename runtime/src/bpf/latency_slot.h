/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * latency_slot.h - which histogram slot a wait lands in. Slot 0 holds waits
 * under 1us, slot k (k >= 1) waits in [2^(k-1) us, 2^k us). The runtime
 * reads the slots with the same meaning (histogram.rs), and its tests run
 * this code as BPF against that reading (tests/latency_slots.rs).
 */
#ifndef LATENCY_SLOT_H
#define LATENCY_SLOT_H

#define LATENCY_SLOTS 64

/* floor(log2(v)) for v > 0. */
static __always_inline u32 log2_u64(u64 v)
{
	u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

static __always_inline u32 latency_slot(u64 ns)
{
	u64 us = ns / 1000;
	u32 slot = us ? log2_u64(us) + 1 : 0;

	return slot < LATENCY_SLOTS ? slot : LATENCY_SLOTS - 1;
}

#endif /* LATENCY_SLOT_H */
