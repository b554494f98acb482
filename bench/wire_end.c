/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "wire_end.h"

/*
 * Every page of a pool's memory written once (each byte rewritten with its
 * own value): without hugepages (--no-huge) DPDK's memory is mapped on
 * first touch, and mbufs reached for the first time in the measurement
 * would each cost it page faults there (with hugepages they are mapped).
 */
static void
touch_chunk(struct rte_mempool *mp, void *opaque, struct rte_mempool_memhdr *memhdr,
	    unsigned mem_idx)
{
	volatile uint8_t *p = memhdr->addr;

	(void)mp;
	(void)opaque;
	(void)mem_idx;
	for (size_t off = 0; off < memhdr->len; off += 4096)
		p[off] = p[off];
}

int
wire_end_open(struct wire_end *e, const char *prog, struct rte_ring *rx, struct rte_ring *tx,
	      unsigned id)
{
	char name[RTE_MEMPOOL_NAMESIZE], err[256];
	int pid;

	pid = rte_eth_from_rings(e->name, &rx, 1, &tx, 1, (unsigned)rte_socket_id());
	if (pid < 0) {
		fprintf(stderr, "%s: %s: rte_eth_from_rings: %s\n", prog, e->name,
			rte_strerror(rte_errno));
		return -1;
	}
	e->port_id = (uint16_t)pid;
	if (e->pool != NULL)
		goto pool_ready;
	snprintf(name, sizeof(name), "%s_pool", e->name);
	/* One frame of the MTU with its Ethernet header and CRC in one mbuf, as
	 * far as the 16-bit data room allows (an MTU above 65381 fills two). */
	e->pool = rte_pktmbuf_pool_create(name, e->cfg.mbufs, e->cfg.mbuf_cache, 0,
					  (uint16_t)RTE_MIN(RTE_MAX((unsigned)RTE_MBUF_DEFAULT_BUF_SIZE,
								    RTE_PKTMBUF_HEADROOM +
									    e->cfg.mtu + 26u),
							    (unsigned)UINT16_MAX),
					  (int)rte_socket_id());
	if (e->pool == NULL) {
		fprintf(stderr, "%s: %s: mbuf pool of %u: %s\n", prog, e->name, e->cfg.mbufs,
			rte_strerror(rte_errno));
		return -1;
	}
	e->own_pool = true;
	rte_mempool_mem_iter(e->pool, touch_chunk, NULL);
pool_ready:
	if (dtcp_ethdev_configure(e->port_id, &e->cfg, e->pool, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, e->name, err);
		return -1;
	}
	e->configured = true;
	e->port = dtcp_ethdev_port(e->port_id, 0, e->pool);
	if (e->port == NULL) {
		fprintf(stderr, "%s: %s: out of memory\n", prog, e->name);
		return -1;
	}
	/* The rings hand the far end our mbufs as they are, chains included:
	 * the worker takes chained frames, so nothing is copied on the way. */
	e->w = dtcp_worker_create(&e->cfg, e->port, id, dtcp_tsc_to_ns(rte_rdtsc()), err,
				  sizeof(err));
	if (e->w == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, e->name, err);
		return -1;
	}
	return 0;
}

void
wire_end_close(struct wire_end *e)
{
	if (e->w != NULL) {
		dtcp_worker_release_held(e->w);
		dtcp_worker_destroy(e->w);
	}
	e->w = NULL;
	dtcp_port_destroy(e->port);
	e->port = NULL;
	if (e->configured) {
		rte_eth_dev_stop(e->port_id);
		rte_eth_dev_close(e->port_id);
		e->configured = false;
	}
}

void
wire_ring_free(struct rte_ring *r, uint32_t size)
{
	struct rte_mbuf *m = NULL;

	if (r == NULL)
		return;
	for (uint32_t i = 0; i < size && rte_ring_dequeue(r, (void **)&m) == 0; i++)
		rte_pktmbuf_free(m);
	rte_ring_free(r);
}
