/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DTCP_PORT_H
#define DTCP_PORT_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dtcp_config;
struct dtcp_port;

/*
 * Packet I/O of one worker: one RX and one TX queue. Burst functions
 * return how many frames were taken or given; frames not taken by tx stay
 * owned by the caller.
 */
struct dtcp_port_ops {
	uint16_t (*rx)(struct dtcp_port *p, struct rte_mbuf **pkts, uint16_t n);
	uint16_t (*tx)(struct dtcp_port *p, struct rte_mbuf **pkts, uint16_t n);
	void (*destroy)(struct dtcp_port *p);
};

struct dtcp_port {
	const struct dtcp_port_ops *ops;
	struct rte_mempool *pool;     /* where the worker allocates frames it builds */
	struct rte_ether_addr mac;
	uint16_t mtu;
	uint16_t port_id;             /* ethdev port, or UINT16_MAX */
	uint16_t queue_id;
	/*
	 * Offloads the port performs for dtcp: enabled at setup, not merely
	 * offered (RTE_ETH_TX_OFFLOAD_* and RTE_ETH_RX_OFFLOAD_* bits). The
	 * worker reads them once, at creation.
	 */
	uint64_t tx_offloads;
	uint64_t rx_offloads;
	uint16_t tx_seg_max;          /* mbufs in one frame given to tx (rte_eth_desc_lim nb_seg_max) */
	uint16_t tx_mtu_seg_max;      /* mbufs in one frame without TSO, or in each segment
				       * the port cuts from a TSO frame (nb_mtu_seg_max) */
};

static inline uint16_t
dtcp_port_rx(struct dtcp_port *p, struct rte_mbuf **pkts, uint16_t n)
{
	return p->ops->rx(p, pkts, n);
}

static inline uint16_t
dtcp_port_tx(struct dtcp_port *p, struct rte_mbuf **pkts, uint16_t n)
{
	return p->ops->tx(p, pkts, n);
}

void dtcp_port_destroy(struct dtcp_port *p);

/*
 * DPDK ethdev. dtcp_ethdev_configure() sets up port_id with cfg->queues
 * queue pairs, RSS when there is more than one, the MTU, the offloads the
 * device offers and [port] offloads, tso and lro allow, and starts it.
 * [port] mac is given to the device; one that has no address and takes
 * none (net_ring) is left as it is, the worker using [port] mac alone.
 * Returns 0 or -errno with a message in err.
 */
int dtcp_ethdev_configure(uint16_t port_id, const struct dtcp_config *cfg,
			  struct rte_mempool *pool, char *err, size_t errlen);
/* One queue pair of a configured ethdev as a port; NULL on -ENOMEM. */
struct dtcp_port *dtcp_ethdev_port(uint16_t port_id, uint16_t queue_id,
				   struct rte_mempool *pool);
/*
 * Send every frame of an ethdev port as one segment: chains (TCP data
 * points into the send queue) are copied into their first mbuf before the
 * TX burst. For virtual wires that hand the mbufs themselves to a far end
 * that takes no chains, such as a net_ring pair between two workers; a
 * NIC gathers the segments itself. 0, or -EINVAL for a port of another kind.
 */
int dtcp_ethdev_port_linearize_tx(struct dtcp_port *p);

/*
 * In-memory port for tests: frames injected are received by the worker,
 * frames the worker sends are captured. Both queues are bounded by
 * capacity; inject returns -ENOBUFS when full, and tx refuses (like a full
 * NIC queue; dtcp_memport_tx_dropped counts frames refused, per offer)
 * what does not fit.
 */
struct dtcp_port *dtcp_memport_create(const struct rte_ether_addr *mac,
				      uint16_t mtu, struct rte_mempool *pool,
				      unsigned capacity);
int dtcp_memport_inject(struct dtcp_port *p, struct rte_mbuf *m);
/* Take up to n captured frames in the order sent; caller owns them. */
unsigned dtcp_memport_take(struct dtcp_port *p, struct rte_mbuf **pkts, unsigned n);
unsigned dtcp_memport_pending_rx(const struct dtcp_port *p);
unsigned dtcp_memport_pending_tx(const struct dtcp_port *p);
uint64_t dtcp_memport_tx_dropped(const struct dtcp_port *p);
/* When set, tx accepts at most this many frames per call (to test a full TX queue). */
void dtcp_memport_set_tx_limit(struct dtcp_port *p, unsigned per_call);
/*
 * Test knob: the offloads the in-memory port claims to perform (none by
 * default) and its limits on mbufs per frame (0: none). It performs none
 * of them: frames are captured as the stack built them, flags and all,
 * and received frames carry whatever flags the test gave them. Set before
 * the worker is created.
 */
void dtcp_memport_set_offloads(struct dtcp_port *p, uint64_t tx_offloads,
			       uint64_t rx_offloads, uint16_t tx_seg_max,
			       uint16_t tx_mtu_seg_max);

/*
 * L3 port, for harnesses that speak IP without a link layer (packetdrill):
 * an injected IP packet reaches the worker behind an Ethernet header from
 * peer; of what the worker sends, IPv4 packets are kept for the harness
 * without their Ethernet header, stamped with the port's clock, ARP
 * requests are answered at once with peer as the MAC of any target
 * (gratuitous ones excepted), and anything else is dropped, counted.
 * Both queues hold capacity frames; a full TX queue refuses like a NIC's.
 * The port offers no offloads: frames come out whole, checksums done.
 */
struct dtcp_l3port_stats {
	uint64_t rx_injected;         /* packets queued for the worker */
	uint64_t rx_refused_bad;      /* refused: not IPv4/IPv6, empty or longer than the MTU */
	uint64_t rx_refused_nombuf;   /* refused: the mbuf pool was empty */
	uint64_t rx_refused_full;     /* refused: the queue to the worker was full */
	uint64_t tx_taken;            /* IPv4 packets handed to the harness */
	uint64_t tx_too_big;          /* dropped: longer than the harness's buffer */
	uint64_t tx_not_ip;           /* frames dropped: neither IPv4 nor an ARP request */
	uint64_t arp_answered;        /* ARP requests answered */
	uint64_t arp_refused;         /* ARP requests unanswered: no mbuf or queue full */
};
struct dtcp_port *dtcp_l3port_create(const struct rte_ether_addr *mac,
				     const struct rte_ether_addr *peer, uint16_t mtu,
				     struct rte_mempool *pool, unsigned capacity);
/* The time stamped on frames the worker sends from now on. */
void dtcp_l3port_set_clock(struct dtcp_port *p, uint64_t now_ns);
/* One IP packet (version 4 or 6) of len bytes, copied: 0, -EINVAL, -EMSGSIZE, -ENOMEM or -ENOBUFS. */
int dtcp_l3port_inject_ip(struct dtcp_port *p, const void *ip, size_t len);
/*
 * The oldest IPv4 packet sent, copied into buf (*len bytes) with its stamp:
 * 1, 0 when none is waiting, -EMSGSIZE when it was longer than cap (dropped).
 */
int dtcp_l3port_take_ip(struct dtcp_port *p, void *buf, size_t cap, size_t *len,
			uint64_t *time_ns);
unsigned dtcp_l3port_pending_rx(const struct dtcp_port *p);
unsigned dtcp_l3port_pending_tx(const struct dtcp_port *p);
void dtcp_l3port_stats(const struct dtcp_port *p, struct dtcp_l3port_stats *out);

#ifdef __cplusplus
}
#endif
#endif
