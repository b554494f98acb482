/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One end of a net_ring pair for the benchmarks that run two dtcp workers
 * in one process (dtcp-bench-goodput, dtcp-bench-cps): the ethdev made
 * from two rte_rings, its mbuf pool, the port and the worker on it.
 */
#ifndef DTCP_BENCH_WIRE_END_H
#define DTCP_BENCH_WIRE_END_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include <dtcp/dtcp.h>

struct wire_end {
	const char *name;             /* "client", "sink", ...: the ethdev's and the pool's */
	uint16_t port_id;
	bool configured;
	struct rte_mempool *pool;     /* set before opening: that pool, shared; else one of its own */
	bool own_pool;
	struct dtcp_port *port;
	struct dtcp_worker *w;
	struct dtcp_config cfg;       /* filled in by the caller before opening */
};

/*
 * The ethdev over rx and tx, a pool of cfg.mbufs frames of one MTU each,
 * the port and worker id. 0, or -1 after a message on stderr prefixed by
 * prog; what was made is undone by wire_end_close().
 */
int wire_end_open(struct wire_end *e, const char *prog, struct rte_ring *rx,
		  struct rte_ring *tx, unsigned id);
/* The worker (what it holds let go first), the port, the ethdev. */
void wire_end_close(struct wire_end *e);
/* Frames still on a wire ring (at most size) go back to their pools; then the ring. */
void wire_ring_free(struct rte_ring *r, uint32_t size);

#endif
