/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker's layout: private to the library and its tests. */
#ifndef DTCP_WORKER_PRIV_H
#define DTCP_WORKER_PRIV_H

#include <rte_common.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include <dtcp/worker.h>

#include "../wire/wire.h"
#include "timer_wheel.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DTCP_BURST_MAX 64
#define DTCP_TX_BUF 128

/* What a fired timer belongs to; the worker dispatches on it. */
enum dtcp_timer_kind {
	DTCP_TIMER_ARP,
	DTCP_TIMER_TCP_RTX,     /* SYN, SYN-ACK, data and FIN retransmission */
	DTCP_TIMER_TCP_AUX,     /* keepalive, or FIN-WAIT-2 lifetime once closed */
	DTCP_TIMER_TCP_DELACK,  /* a delayed ACK is due */
};

struct dtcp_arp;
struct dtcp_tcp;

struct dtcp_worker {
	/* Read on every frame. */
	struct dtcp_port *port;
	struct rte_mempool *pool;
	uint64_t now_ns;
	uint64_t now_tick;
	uint64_t tick_ns;
	uint64_t next_tick_ns;        /* when now_tick next moves */
	bool timers_behind;           /* the last advance spent its whole budget */
	struct rte_ether_addr mac;
	uint16_t mtu;
	uint16_t burst;
	uint16_t tx_n;
	uint16_t free_n;
	uint16_t ip_id;
	bool fault_rx;                /* [fault] rx_loss is on: drop some frames received */
	bool fault_tx;                /* [fault] tx_loss is on: drop some frames to send */
	unsigned id;
	struct dtcp_config cfg;

	struct dtcp_wheel wheel;
	struct dtcp_arp *arp;
	struct dtcp_tcp *tcp;
	struct rte_ip_frag_tbl *frag_tbl;
	bool telemetry;
	/* [fault]: a frame is lost when 32 random bits fall below the
	 * threshold (in 2^-32 units); SplitMix64 states, one per direction. */
	uint64_t fault_rx_thr, fault_tx_thr;
	uint64_t fault_rx_rng, fault_tx_rng;

	struct rte_mbuf *tx[DTCP_TX_BUF];
	struct rte_mbuf *to_free[DTCP_BURST_MAX];
	struct rte_ip_frag_death_row frag_dr;

	/* Written only by this worker's lcore; readers sum. */
	uint64_t ctr[DTCP_CTR_MAX] __rte_cache_aligned;
};

static inline void
ctr_inc(struct dtcp_worker *w, enum dtcp_ctr c)
{
	w->ctr[c]++;
}

static inline void
ctr_add(struct dtcp_worker *w, enum dtcp_ctr c, uint64_t n)
{
	w->ctr[c] += n;
}

/* Drop a received frame: count its reason, free it with the rest of the burst. */
static inline void
dtcp_rx_drop(struct dtcp_worker *w, struct rte_mbuf *m, enum dtcp_ctr reason)
{
	w->ctr[reason]++;
	if (unlikely(w->free_n == DTCP_BURST_MAX)) {
		rte_pktmbuf_free_bulk(w->to_free, w->free_n);
		w->free_n = 0;
	}
	w->to_free[w->free_n++] = m;
}

/* Count and free a packet we built but cannot send. */
static inline void
dtcp_tx_drop(struct dtcp_worker *w, struct rte_mbuf *m, enum dtcp_ctr reason)
{
	w->ctr[reason]++;
	rte_pktmbuf_free(m);
}

/* Queue a finished frame for the port; flushed at the end of the iteration. */
void dtcp_tx_flush(struct dtcp_worker *w);

static inline void
dtcp_tx_enqueue(struct dtcp_worker *w, struct rte_mbuf *m)
{
	if (unlikely(w->tx_n == DTCP_TX_BUF))
		dtcp_tx_flush(w);
	w->tx[w->tx_n++] = m;
}

/* An empty frame from the worker's pool (headroom for every header); counted when the pool is dry. */
static inline struct rte_mbuf *
dtcp_alloc(struct dtcp_worker *w)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);

	if (unlikely(m == NULL))
		ctr_inc(w, DTCP_CTR_mbuf_alloc_fail);
	return m;
}

/* Local address lookups over the (small) interface address list. */
static inline bool
dtcp_is_local_addr(const struct dtcp_worker *w, uint32_t a)
{
	for (unsigned i = 0; i < w->cfg.n_addrs; i++)
		if (w->cfg.addrs[i].addr == a)
			return true;
	return false;
}

/* Remove the worker from /dtcp/stats (no-op when never registered). */
void dtcp_telemetry_unregister(struct dtcp_worker *w);

/* Whether a is on the subnet of one of our addresses. */
static inline bool
dtcp_on_link(const struct dtcp_worker *w, uint32_t a)
{
	for (unsigned i = 0; i < w->cfg.n_addrs; i++) {
		uint32_t mask = dtcp_prefix_mask(w->cfg.addrs[i].prefix_len);

		if ((a & mask) == (w->cfg.addrs[i].addr & mask))
			return true;
	}
	return false;
}

/* The address to send from towards an on-link or routed destination. */
uint32_t dtcp_source_for(const struct dtcp_worker *w, uint32_t dst);

#ifdef __cplusplus
}
#endif
#endif
