/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The L3 port of conformance harnesses: the far end speaks IP packets
 * without a link layer. Injected packets get an Ethernet header from a
 * fixed peer MAC; frames the worker sends lose theirs; the worker's ARP
 * requests are answered here, whatever their target, with the peer MAC.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <dtcp/port.h>

#include "../wire/wire.h"

/* A frame the worker sent, with the port's clock when it was taken. */
struct l3_sent {
	struct rte_mbuf *m;
	uint64_t time_ns;
};

struct l3port {
	struct dtcp_port port;        /* first: the worker sees only this */
	struct rte_ring *rx;          /* frames for the worker: injected packets, ARP replies */
	struct rte_ring *tx;          /* struct l3_sent: IPv4 packets for the harness */
	struct rte_ether_addr peer;
	uint64_t clock_ns;
	struct dtcp_l3port_stats st;
};

static uint16_t
l3_rx(struct dtcp_port *p, struct rte_mbuf **pkts, uint16_t n)
{
	struct l3port *lp = (struct l3port *)p;

	return (uint16_t)rte_ring_sc_dequeue_burst(lp->rx, (void **)pkts, n, NULL);
}

/* The reply a neighbour would give, queued for the worker; false when refused. */
static bool
answer_arp(struct l3port *lp, const struct dtcp_arp_info *req)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(lp->port.pool);
	struct rte_ether_hdr *e;

	if (m == NULL) {
		lp->st.arp_refused++;
		return false;
	}
	e = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*e) + sizeof(struct rte_arp_hdr));
	if (e == NULL) {
		rte_pktmbuf_free(m);
		lp->st.arp_refused++;
		return false;
	}
	dtcp_wire_eth_emit(e, &req->sha, &lp->peer, RTE_ETHER_TYPE_ARP);
	dtcp_wire_arp_emit((struct rte_arp_hdr *)(e + 1), RTE_ARP_OP_REPLY, &lp->peer,
			   req->tip, &req->sha, req->sip);
	if (rte_ring_sp_enqueue(lp->rx, m) != 0) {
		rte_pktmbuf_free(m);
		lp->st.arp_refused++;
		return false;
	}
	lp->st.arp_answered++;
	return true;
}

/*
 * IPv4 frames are queued for the harness (a full queue refuses the rest,
 * like a full NIC queue: the worker counts them); ARP requests are answered;
 * anything else is taken and dropped, counted.
 */
static uint16_t
l3_tx(struct dtcp_port *p, struct rte_mbuf **pkts, uint16_t n)
{
	struct l3port *lp = (struct l3port *)p;
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *e;
		struct rte_ether_hdr eh;
		uint16_t type;

		e = rte_pktmbuf_read(m, 0, sizeof(eh), &eh);
		type = e != NULL ? rte_be_to_cpu_16(e->ether_type) : 0;
		if (type == RTE_ETHER_TYPE_IPV4) {
			struct l3_sent s = { .m = m, .time_ns = lp->clock_ns };

			if (rte_ring_sp_enqueue_elem(lp->tx, &s, sizeof(s)) != 0)
				break;
			continue;
		}
		if (type == RTE_ETHER_TYPE_ARP) {
			struct rte_arp_hdr ah;
			const struct rte_arp_hdr *a = rte_pktmbuf_read(m, sizeof(eh), sizeof(ah), &ah);
			struct dtcp_arp_info info;

			/* A gratuitous request (sender = target) announces; nobody answers it. */
			if (a != NULL &&
			    dtcp_wire_arp_parse(a, sizeof(ah), &info) == DTCP_WIRE_OK &&
			    info.op == RTE_ARP_OP_REQUEST && info.sip != info.tip) {
				answer_arp(lp, &info);
				rte_pktmbuf_free(m);
				continue;
			}
		}
		lp->st.tx_not_ip++;
		rte_pktmbuf_free(m);
	}
	return i;
}

static void
l3_destroy(struct dtcp_port *p)
{
	struct l3port *lp = (struct l3port *)p;
	struct rte_mbuf *m;
	struct l3_sent s;

	while (rte_ring_dequeue(lp->rx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (rte_ring_dequeue_elem(lp->tx, &s, sizeof(s)) == 0)
		rte_pktmbuf_free(s.m);
	rte_ring_free(lp->rx);
	rte_ring_free(lp->tx);
	rte_free(lp);
}

static const struct dtcp_port_ops l3_ops = {
	.rx = l3_rx,
	.tx = l3_tx,
	.destroy = l3_destroy,
};

struct dtcp_port *
dtcp_l3port_create(const struct rte_ether_addr *mac, const struct rte_ether_addr *peer,
		   uint16_t mtu, struct rte_mempool *pool, unsigned capacity)
{
	static uint32_t seq;
	struct l3port *lp;
	char name[RTE_RING_NAMESIZE];
	uint32_t id = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);

	if (capacity == 0 || pool == NULL)
		return NULL;
	lp = rte_zmalloc("dtcp_l3port", sizeof(*lp), 0);
	if (lp == NULL)
		return NULL;
	snprintf(name, sizeof(name), "dtcp_l3rx%u", id);
	lp->rx = rte_ring_create(name, capacity, SOCKET_ID_ANY,
				 RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	snprintf(name, sizeof(name), "dtcp_l3tx%u", id);
	lp->tx = rte_ring_create_elem(name, sizeof(struct l3_sent), capacity, SOCKET_ID_ANY,
				      RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (lp->rx == NULL || lp->tx == NULL) {
		rte_ring_free(lp->rx);
		rte_ring_free(lp->tx);
		rte_free(lp);
		return NULL;
	}
	lp->port.ops = &l3_ops;
	lp->port.pool = pool;
	rte_ether_addr_copy(mac, &lp->port.mac);
	rte_ether_addr_copy(peer, &lp->peer);
	lp->port.mtu = mtu;
	lp->port.port_id = UINT16_MAX;
	lp->port.tx_seg_max = UINT16_MAX;
	lp->port.tx_mtu_seg_max = UINT16_MAX;
	return &lp->port;
}

void
dtcp_l3port_set_clock(struct dtcp_port *p, uint64_t now_ns)
{
	((struct l3port *)p)->clock_ns = now_ns;
}

int
dtcp_l3port_inject_ip(struct dtcp_port *p, const void *ip, size_t len)
{
	struct l3port *lp = (struct l3port *)p;
	struct rte_ether_hdr *e;
	struct rte_mbuf *m;
	uint16_t type;
	uint8_t version;

	if (ip == NULL || len == 0) {
		lp->st.rx_refused_bad++;
		return -EINVAL;
	}
	/* The version nibble names the link-layer type the worker is told. */
	version = *(const uint8_t *)ip >> 4;
	if (version == 4) {
		type = RTE_ETHER_TYPE_IPV4;
	} else if (version == 6) {
		type = RTE_ETHER_TYPE_IPV6;
	} else {
		lp->st.rx_refused_bad++;
		return -EINVAL;
	}
	if (len > lp->port.mtu) {
		lp->st.rx_refused_bad++;
		return -EMSGSIZE;
	}
	m = rte_pktmbuf_alloc(lp->port.pool);
	if (m == NULL) {
		lp->st.rx_refused_nombuf++;
		return -ENOMEM;
	}
	e = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*e) + len));
	if (e == NULL) {
		/* The pool's buffers are smaller than the port's MTU. */
		rte_pktmbuf_free(m);
		lp->st.rx_refused_bad++;
		return -EMSGSIZE;
	}
	dtcp_wire_eth_emit(e, &lp->port.mac, &lp->peer, type);
	memcpy(e + 1, ip, len);
	if (rte_ring_sp_enqueue(lp->rx, m) != 0) {
		rte_pktmbuf_free(m);
		lp->st.rx_refused_full++;
		return -ENOBUFS;
	}
	lp->st.rx_injected++;
	return 0;
}

int
dtcp_l3port_take_ip(struct dtcp_port *p, void *buf, size_t cap, size_t *len,
		    uint64_t *time_ns)
{
	struct l3port *lp = (struct l3port *)p;
	const size_t eth = sizeof(struct rte_ether_hdr);
	struct l3_sent s;
	size_t n;

	if (rte_ring_sc_dequeue_elem(lp->tx, &s, sizeof(s)) != 0)
		return 0;
	n = s.m->pkt_len - eth;
	if (n > cap) {
		rte_pktmbuf_free(s.m);
		lp->st.tx_too_big++;
		return -EMSGSIZE;
	}
	/* Whatever the chain, the bytes come out in one piece. */
	const void *d = rte_pktmbuf_read(s.m, (uint32_t)eth, (uint32_t)n, buf);
	if (d != buf)
		memcpy(buf, d, n);
	*len = n;
	if (time_ns != NULL)
		*time_ns = s.time_ns;
	rte_pktmbuf_free(s.m);
	lp->st.tx_taken++;
	return 1;
}

unsigned
dtcp_l3port_pending_rx(const struct dtcp_port *p)
{
	return rte_ring_count(((const struct l3port *)p)->rx);
}

unsigned
dtcp_l3port_pending_tx(const struct dtcp_port *p)
{
	return rte_ring_count(((const struct l3port *)p)->tx);
}

void
dtcp_l3port_stats(const struct dtcp_port *p, struct dtcp_l3port_stats *out)
{
	*out = ((const struct l3port *)p)->st;
}
