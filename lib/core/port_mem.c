/* SPDX-License-Identifier: BSD-3-Clause */
/* The in-memory port of the tests: two rte_rings, one each way. */
#include <errno.h>
#include <stdio.h>

#include <rte_malloc.h>
#include <rte_ring.h>

#include <dtcp/port.h>

struct memport {
	struct dtcp_port port;        /* first: the worker sees only this */
	struct rte_ring *rx;          /* injected, waiting for the worker */
	struct rte_ring *tx;          /* sent by the worker, waiting for the test */
	uint64_t tx_dropped;
	unsigned tx_limit;
};

static uint16_t
mem_rx(struct dtcp_port *p, struct rte_mbuf **pkts, uint16_t n)
{
	struct memport *mp = (struct memport *)p;

	return (uint16_t)rte_ring_sc_dequeue_burst(mp->rx, (void **)pkts, n, NULL);
}

static uint16_t
mem_tx(struct dtcp_port *p, struct rte_mbuf **pkts, uint16_t n)
{
	struct memport *mp = (struct memport *)p;
	unsigned k, take = n;

	if (mp->tx_limit != 0 && take > mp->tx_limit)
		take = mp->tx_limit;
	k = rte_ring_sp_enqueue_burst(mp->tx, (void **)pkts, take, NULL);
	mp->tx_dropped += n - k;
	return (uint16_t)k;
}

static void
mem_destroy(struct dtcp_port *p)
{
	struct memport *mp = (struct memport *)p;
	struct rte_mbuf *m;

	while (rte_ring_dequeue(mp->rx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (rte_ring_dequeue(mp->tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(mp->rx);
	rte_ring_free(mp->tx);
	rte_free(mp);
}

static const struct dtcp_port_ops mem_ops = {
	.rx = mem_rx,
	.tx = mem_tx,
	.destroy = mem_destroy,
};

struct dtcp_port *
dtcp_memport_create(const struct rte_ether_addr *mac, uint16_t mtu,
		    struct rte_mempool *pool, unsigned capacity)
{
	static uint32_t seq;
	struct memport *mp = rte_zmalloc("dtcp_memport", sizeof(*mp), 0);
	char name[RTE_RING_NAMESIZE];
	uint32_t id = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);

	if (mp == NULL)
		return NULL;
	snprintf(name, sizeof(name), "dtcp_mprx%u", id);
	mp->rx = rte_ring_create(name, capacity, SOCKET_ID_ANY,
				 RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	snprintf(name, sizeof(name), "dtcp_mptx%u", id);
	mp->tx = rte_ring_create(name, capacity, SOCKET_ID_ANY,
				 RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (mp->rx == NULL || mp->tx == NULL) {
		rte_ring_free(mp->rx);
		rte_ring_free(mp->tx);
		rte_free(mp);
		return NULL;
	}
	mp->port.ops = &mem_ops;
	mp->port.pool = pool;
	rte_ether_addr_copy(mac, &mp->port.mac);
	mp->port.mtu = mtu;
	mp->port.port_id = UINT16_MAX;
	mp->port.tx_seg_max = UINT16_MAX;
	mp->port.tx_mtu_seg_max = UINT16_MAX;
	return &mp->port;
}

int
dtcp_memport_inject(struct dtcp_port *p, struct rte_mbuf *m)
{
	return rte_ring_sp_enqueue(((struct memport *)p)->rx, m) == 0 ? 0 : -ENOBUFS;
}

unsigned
dtcp_memport_take(struct dtcp_port *p, struct rte_mbuf **pkts, unsigned n)
{
	return rte_ring_sc_dequeue_burst(((struct memport *)p)->tx, (void **)pkts, n, NULL);
}

unsigned
dtcp_memport_pending_rx(const struct dtcp_port *p)
{
	return rte_ring_count(((const struct memport *)p)->rx);
}

unsigned
dtcp_memport_pending_tx(const struct dtcp_port *p)
{
	return rte_ring_count(((const struct memport *)p)->tx);
}

uint64_t
dtcp_memport_tx_dropped(const struct dtcp_port *p)
{
	return ((const struct memport *)p)->tx_dropped;
}

void
dtcp_memport_set_tx_limit(struct dtcp_port *p, unsigned per_call)
{
	((struct memport *)p)->tx_limit = per_call;
}

void
dtcp_memport_set_offloads(struct dtcp_port *p, uint64_t tx_offloads, uint64_t rx_offloads,
			  uint16_t tx_seg_max, uint16_t tx_mtu_seg_max)
{
	p->tx_offloads = tx_offloads;
	p->rx_offloads = rx_offloads;
	p->tx_seg_max = tx_seg_max != 0 ? tx_seg_max : UINT16_MAX;
	p->tx_mtu_seg_max = tx_mtu_seg_max != 0 ? tx_mtu_seg_max : UINT16_MAX;
}

void
dtcp_port_destroy(struct dtcp_port *p)
{
	if (p != NULL)
		p->ops->destroy(p);
}
