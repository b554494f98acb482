/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sending bytes of a long-lived buffer by reference with no atomic
 * operation of our own: each mbuf handed to TCP is attached
 * (rte_pktmbuf_attach_extbuf) to the buffer through a shared info of its
 * own, a slot, whose count starts at the number of mbufs that use it.
 * DPDK updates a count of 1 with a plain store, so the stack's own
 * reference (rte_pktmbuf_attach when it transmits) and the last free cost
 * no locked instruction; only a free that is not the last one is atomic,
 * and then on the slot's own cache line, which no other sender writes.
 * One count shared by every reference instead is a line that both ends
 * of a connection keep taking from each other, with four atomic updates
 * per send.
 *
 * A slot is free again when its count reads 0; the last free may happen
 * on any lcore (the peer's, on a software wire), so nothing else is
 * written then: free_cb is a no-op and the owner finds free slots by
 * looking. Slots handed out go on a FIFO; the oldest is usually free
 * when the next is needed, so the slots in use stay few and warm. A busy
 * one (a reference held long) goes to the back; two busy in a row and a
 * fresh slot is taken, once every slot was used a bounded number is
 * looked at; none free: NULL, for the caller to count as a refusal.
 *
 * Single-threaded per set: one lcore takes slots (frees may come from
 * any). The buffer must outlive every reference: ext_ref_out() says how
 * many are still out.
 */
#ifndef DTCP_APP_EXT_REF_H
#define DTCP_APP_EXT_REF_H

#include <errno.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

enum {
	EXT_REF_TRIES = 8,            /* busy slots passed over per take, at most */
	EXT_REF_MAX = 1 << 18,        /* slots of one set, at most (64 bytes each) */
};

struct ext_ref_slot {
	struct rte_mbuf_ext_shared_info si;
} __rte_cache_aligned;

struct ext_ref {
	struct ext_ref_slot *slot;    /* n slots; [0, fresh) have been used */
	uint32_t *fifo;               /* slots handed out, oldest at head */
	uint32_t head, count;
	uint32_t fresh;
	uint32_t n;                   /* a power of 2 */
};

/* The buffer outlives every reference: nothing to do when one goes. */
static inline void
ext_ref_free_none(void *addr, void *opaque)
{
	(void)addr;
	(void)opaque;
}

/* n slots (rounded up to a power of 2, at most EXT_REF_MAX) on socket; 0 or -ENOMEM. */
static inline int
ext_ref_init(struct ext_ref *x, uint32_t n, int socket)
{
	x->n = rte_align32pow2(RTE_MIN(RTE_MAX(n, 2u), (uint32_t)EXT_REF_MAX));
	x->head = x->count = x->fresh = 0;
	x->slot = rte_malloc_socket("ext_ref_slots", sizeof(*x->slot) * x->n,
				    RTE_CACHE_LINE_SIZE, socket);
	x->fifo = rte_malloc_socket("ext_ref_fifo", sizeof(*x->fifo) * x->n, 0, socket);
	if (x->slot == NULL || x->fifo == NULL) {
		rte_free(x->slot);
		rte_free(x->fifo);
		x->slot = NULL;
		x->fifo = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* References still out (the sum of the counts). */
static inline uint64_t
ext_ref_out(const struct ext_ref *x)
{
	uint64_t out = 0;

	for (uint32_t i = 0; i < x->fresh; i++)
		out += rte_mbuf_ext_refcnt_read(&x->slot[i].si);
	return out;
}

static inline void
ext_ref_fini(struct ext_ref *x)
{
	rte_free(x->slot);
	rte_free(x->fifo);
	x->slot = NULL;
	x->fifo = NULL;
}

/* A slot whose count is now refs (1..UINT16_MAX), or NULL when none is free. */
static inline struct rte_mbuf_ext_shared_info *
ext_ref_take(struct ext_ref *x, uint16_t refs)
{
	const uint32_t mask = x->n - 1;
	uint32_t idx;

	for (unsigned i = 0; i < EXT_REF_TRIES && x->count > 0; i++) {
		/* The oldest to the back: in use again, or still busy and looked at later. */
		idx = x->fifo[x->head];
		x->head = (x->head + 1) & mask;
		x->fifo[(x->head + x->count - 1) & mask] = idx;
		if (rte_mbuf_ext_refcnt_read(&x->slot[idx].si) == 0)
			goto found;
		/* Two busy in a row: more are in use than the FIFO holds free; grow it while we can. */
		if (i >= 1 && x->fresh < x->n)
			break;
	}
	if (x->fresh == x->n)
		return NULL;
	idx = x->fresh++;
	x->slot[idx].si.free_cb = ext_ref_free_none;
	x->slot[idx].si.fcb_opaque = NULL;
	x->fifo[(x->head + x->count) & mask] = idx;
	x->count++;
found:
	rte_mbuf_ext_refcnt_set(&x->slot[idx].si, refs);
	return &x->slot[idx].si;
}

#endif
