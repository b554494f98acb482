/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker's layout: private to the library and its tests. */
#ifndef DTCP_WORKER_PRIV_H
#define DTCP_WORKER_PRIV_H

#include <rte_common.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include <dtcp/chan.h>
#include <dtcp/worker.h>

#include "../wire/wire.h"
#include "recip.h"
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

/*
 * Offloads in use: what the port enabled, as [port] offloads, tso and lro
 * allow. Read on the data path; set once when the worker is created.
 */
struct dtcp_offl {
	bool tx_ip_cksum;             /* the port writes IPv4 header checksums */
	bool tx_tcp_cksum;            /* the port finishes TCP checksums from the pseudo-header's */
	bool rx_ip_cksum;             /* the port's verdict on IPv4 header checksums is used */
	bool rx_tcp_cksum;            /* the port's verdict on TCP checksums is used */
	bool lro;                     /* received TCP segments may be joined (mbuf chains) */
	uint16_t tso_max;             /* payload bytes of one TSO frame; 0: no TSO */
	uint16_t tx_seg_max;          /* mbufs in one frame */
	uint16_t tx_mtu_seg_max;      /* mbufs in one frame without TSO, or per TSO segment */
};

/* Smallest MSS given to TSO: some NICs refuse less (i40e: 256). */
#define DTCP_TSO_MSS_MIN 256

struct dtcp_worker {
	/* Read on every frame. */
	struct dtcp_port *port;
	struct rte_mempool *pool;
	uint16_t pool_priv;            /* rte_pktmbuf_priv_size(pool) */
	uint64_t now_ns;
	uint64_t now_tick;
	uint64_t tick_ns;
	uint64_t tick_inv;             /* ceil(2^64 / tick_ns), for dtcp_tick_of() */
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
	struct dtcp_offl offl;
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

	/* Channels to application lcores (dtcp_worker_add_chan), polled in order. */
	struct dtcp_chan *chans[DTCP_WORKER_CHANS_MAX];
	unsigned n_chans;

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

/* The tick ns falls in, without a division (recip.h). */
static inline uint64_t
dtcp_tick_of(const struct dtcp_worker *w, uint64_t ns)
{
	return dtcp_recip_div(ns, w->tick_ns, w->tick_inv);
}

/* An empty frame from the worker's pool (headroom for every header); counted when the pool is dry. */
static inline struct rte_mbuf *
dtcp_alloc(struct dtcp_worker *w)
{
	struct rte_mempool_cache *cache = rte_mempool_default_cache(w->pool, rte_lcore_id());
	struct rte_mbuf *m;

	/* rte_pktmbuf_alloc's two steps, with the cache looked up once for both them and the prefetch. */
	if (unlikely(rte_mempool_generic_get(w->pool, (void **)&m, 1, cache) != 0)) {
		ctr_inc(w, DTCP_CTR_mbuf_alloc_fail);
		return NULL;
	}
	rte_pktmbuf_reset(m);
	/*
	 * The mbuf the next allocation takes is the top of this lcore's
	 * mempool cache. On a two-core wire it may have been last written by
	 * the other core: ask for its header and first header bytes now, for
	 * writing, so the miss overlaps this segment's work instead of
	 * stalling the next reset (15 % of a client's time). Asking two or
	 * three allocations ahead measured worse.
	 */
	if (likely(cache != NULL && cache->len > 0)) {
		char *next = (char *)cache->objs[cache->len - 1];
		char *buf = next + sizeof(struct rte_mbuf) + w->pool_priv;

		rte_prefetch0_write(next);
		rte_prefetch0_write(buf + RTE_PKTMBUF_HEADROOM - RTE_CACHE_LINE_SIZE);
		rte_prefetch0_write(buf + RTE_PKTMBUF_HEADROOM);
	}
	return m;
}

/*
 * The port's word on a received checksum. Its flags are read only when the
 * offload was enabled (a PMD that was not asked may leave anything there).
 * GOOD, and NONE ("the checksum field is not valid, the data is": virtio
 * hands over a host's partial checksums so), spare the software check; BAD
 * drops; UNKNOWN, or no verdict asked for, means check in software, always.
 */
enum dtcp_rx_cksum {
	DTCP_RX_CKSUM_CHECK,
	DTCP_RX_CKSUM_GOOD,
	DTCP_RX_CKSUM_BAD,
};

static inline enum dtcp_rx_cksum
dtcp_rx_ip_cksum(const struct dtcp_worker *w, const struct rte_mbuf *m)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if (!w->offl.rx_ip_cksum || f == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN)
		return DTCP_RX_CKSUM_CHECK;
	return f == RTE_MBUF_F_RX_IP_CKSUM_BAD ? DTCP_RX_CKSUM_BAD : DTCP_RX_CKSUM_GOOD;
}

static inline enum dtcp_rx_cksum
dtcp_rx_l4_cksum(const struct dtcp_worker *w, const struct rte_mbuf *m)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (!w->offl.rx_tcp_cksum || f == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN)
		return DTCP_RX_CKSUM_CHECK;
	return f == RTE_MBUF_F_RX_L4_CKSUM_BAD ? DTCP_RX_CKSUM_BAD : DTCP_RX_CKSUM_GOOD;
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

/* Commands in, waiting events out, send credit: one channel's share of a poll (chan.c). */
void dtcp_chan_poll(struct dtcp_worker *w, struct dtcp_chan *ch);

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
