/* SPDX-License-Identifier: BSD-3-Clause */
/* The per-lcore worker: one run-to-completion loop over one queue pair. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "../net/net.h"
#include "../tcp/tcp_priv.h"
#include "fault.h"
#include "log.h"
#include "worker_priv.h"

/*
 * The offloads the worker uses: the port's, as the configuration allows.
 * TSO needs the port's TCP and IPv4 checksums too: each segment it cuts
 * gets a header of its own.
 */
static void
offl_init(struct dtcp_worker *w, const struct dtcp_port *p, const struct dtcp_config *cfg)
{
	struct dtcp_offl *o = &w->offl;

	memset(o, 0, sizeof(*o));
	o->tx_seg_max = p->tx_seg_max != 0 ? p->tx_seg_max : UINT16_MAX;
	o->tx_mtu_seg_max = p->tx_mtu_seg_max != 0 ? p->tx_mtu_seg_max : UINT16_MAX;
	if (cfg->offloads == DTCP_OFFLOAD_OFF)
		return;
	o->tx_ip_cksum = (p->tx_offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
	o->tx_tcp_cksum = (p->tx_offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
	o->rx_ip_cksum = (p->rx_offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
	o->rx_tcp_cksum = (p->rx_offloads & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) != 0;
	o->lro = cfg->lro == DTCP_OFFLOAD_AUTO && (p->rx_offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO);
	if (cfg->tso == DTCP_OFFLOAD_AUTO && (p->tx_offloads & RTE_ETH_TX_OFFLOAD_TCP_TSO) &&
	    o->tx_ip_cksum && o->tx_tcp_cksum)
		o->tso_max = (uint16_t)RTE_MIN(cfg->tso_max, (uint32_t)DTCP_TSO_MAX);
}

struct dtcp_worker *
dtcp_worker_create(const struct dtcp_config *cfg, struct dtcp_port *port,
		   unsigned id, uint64_t now_ns, char *err, size_t errlen)
{
	struct dtcp_worker *w;

	if (dtcp_config_validate(cfg, err, errlen) != 0)
		return NULL;
	w = rte_zmalloc("dtcp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	if (w == NULL) {
		snprintf(err, errlen, "worker %u: out of memory", id);
		return NULL;
	}
	w->cfg = *cfg;
	w->id = id;
	w->port = port;
	w->pool = port->pool;
	w->pool_priv = rte_pktmbuf_priv_size(port->pool);
	w->mac = cfg->mac_set ? cfg->mac : port->mac;
	w->mtu = cfg->mtu < port->mtu ? cfg->mtu : port->mtu;
	w->burst = cfg->burst;
	offl_init(w, port, cfg);
	w->tick_ns = (uint64_t)cfg->timer_tick_us * 1000;
	w->tick_inv = dtcp_recip(w->tick_ns);
	w->now_ns = now_ns;
	w->now_tick = now_ns / w->tick_ns;
	w->next_tick_ns = (w->now_tick + 1) * w->tick_ns;
	dtcp_fault_init(w, cfg);
	dtcp_wheel_init(&w->wheel, w->now_tick);
	if (dtcp_arp_create(w, err, errlen) != 0 ||
	    dtcp_ipv4_create(w, err, errlen) != 0 ||
	    dtcp_tcp_create(w, err, errlen) != 0) {
		dtcp_worker_destroy(w);
		return NULL;
	}
	DTCP_LOG(DEBUG, "worker %u: port %u queue %u, MTU %u, %u address(es)", id,
		 port->port_id, port->queue_id, w->mtu, cfg->n_addrs);
	DTCP_LOG(DEBUG, "worker %u: offloads: TX checksums IPv4 %s TCP %s, TSO %s (%u bytes), "
		 "RX checksums IPv4 %s TCP %s, LRO %s", id, w->offl.tx_ip_cksum ? "on" : "off",
		 w->offl.tx_tcp_cksum ? "on" : "off", w->offl.tso_max ? "on" : "off",
		 w->offl.tso_max, w->offl.rx_ip_cksum ? "on" : "off",
		 w->offl.rx_tcp_cksum ? "on" : "off", w->offl.lro ? "on" : "off");
	return w;
}

void
dtcp_worker_destroy(struct dtcp_worker *w)
{
	if (w == NULL)
		return;
	dtcp_telemetry_unregister(w);
	dtcp_tx_flush(w);
	dtcp_tcp_destroy(w);
	dtcp_ipv4_destroy(w);
	dtcp_arp_destroy(w);
	rte_free(w);
}

void
dtcp_worker_release_held(struct dtcp_worker *w)
{
	dtcp_ipv4_flush(w);
	dtcp_arp_flush(w);
	dtcp_tx_flush(w);
}

void
dtcp_worker_announce(struct dtcp_worker *w)
{
	dtcp_arp_announce(w);
	dtcp_tx_flush(w);
}

void
dtcp_tx_flush(struct dtcp_worker *w)
{
	uint16_t n, sent;
	uint64_t bytes = 0;

	if (unlikely(w->fault_tx))
		dtcp_fault_tx(w);
	n = w->tx_n;
	if (n == 0)
		return;
	for (uint16_t i = 0; i < n; i++)
		bytes += w->tx[i]->pkt_len;
	sent = dtcp_port_tx(w->port, w->tx, n);
	if (unlikely(sent < n)) {
		/* One more try; then the queue is full and the rest is dropped. */
		sent += dtcp_port_tx(w->port, w->tx + sent, (uint16_t)(n - sent));
		for (uint16_t i = sent; i < n; i++)
			bytes -= w->tx[i]->pkt_len;
		ctr_add(w, DTCP_CTR_tx_ring_full, n - sent);
		rte_pktmbuf_free_bulk(w->tx + sent, n - sent);
	}
	ctr_add(w, DTCP_CTR_tx_frames, sent);
	ctr_add(w, DTCP_CTR_tx_bytes, bytes);
	w->tx_n = 0;
}

static void
timer_fire(void *ctx, struct dtcp_timer *t)
{
	struct dtcp_worker *w = ctx;

	switch ((enum dtcp_timer_kind)t->kind) {
	case DTCP_TIMER_ARP:
		dtcp_arp_timer(w, t);
		return;
	case DTCP_TIMER_TCP_RTX:
	case DTCP_TIMER_TCP_AUX:
	case DTCP_TIMER_TCP_DELACK:
		dtcp_tcp_timer(w, t);
		return;
	}
}

unsigned
dtcp_worker_poll(struct dtcp_worker *w, uint64_t now_ns)
{
	struct rte_mbuf *pkts[DTCP_BURST_MAX];
	uint16_t n;

	w->now_ns = now_ns;

	n = dtcp_port_rx(w->port, pkts, w->burst);
	if (n > 0) {
		ctr_add(w, DTCP_CTR_rx_frames, n);
		/* A lossy wire in front of the stack, when configured. */
		dtcp_eth_input_burst(w, pkts, unlikely(w->fault_rx) ? dtcp_fault_rx(w, pkts, n) : n);
		if (w->free_n > 0) {
			rte_pktmbuf_free_bulk(w->to_free, w->free_n);
			w->free_n = 0;
		}
		dtcp_ipv4_after_burst(w);
	}
	/* Timers and reassembly expiry move once a tick, not once a poll. */
	if (now_ns >= w->next_tick_ns || w->timers_behind) {
		if (now_ns >= w->next_tick_ns) {
			w->now_tick = now_ns / w->tick_ns;
			w->next_tick_ns = (w->now_tick + 1) * w->tick_ns;
		}
		dtcp_ipv4_expire(w);
		tcp_tw_expire(w);
		w->timers_behind = dtcp_wheel_advance(&w->wheel, w->now_tick, w->cfg.timer_budget,
						      timer_fire, w) == w->cfg.timer_budget;
	}
	/* Commands from application lcores, before the events they may cause. */
	for (unsigned i = 0; i < w->n_chans; i++)
		dtcp_chan_poll(w, w->chans[i]);
	/* The application hears of the burst and the timers, then TCP sends
	 * what it owes. A poll that found nothing makes no calls: each list
	 * is looked at here (a polling lcore spends most polls so when idle,
	 * and the sooner it polls again, the sooner it sees a frame). */
	if (w->tcp->ev_head != NULL)
		tcp_deliver_events(w);
	if (w->tcp->out_head != NULL)
		tcp_output_all(w);
	if (w->tcp->free_head != NULL)
		tcp_free_dead(w);
	if (w->tx_n > 0 || unlikely(w->fault_tx))
		dtcp_tx_flush(w);
	return n;
}

/* TSC to ns by a 32.32 fixed-point multiply: no division in the loop. */
static uint64_t tsc_mult;

uint64_t
dtcp_tsc_to_ns(uint64_t tsc)
{
	if (unlikely(tsc_mult == 0))
		tsc_mult = (uint64_t)(((unsigned __int128)1000000000 << 32) / rte_get_tsc_hz());
	return (uint64_t)(((unsigned __int128)tsc * tsc_mult) >> 32);
}

void
dtcp_worker_run(struct dtcp_worker *w, volatile bool *stop)
{
	while (!*stop)
		dtcp_worker_poll(w, dtcp_tsc_to_ns(rte_rdtsc()));
}

const uint64_t *
dtcp_worker_counters(const struct dtcp_worker *w)
{
	return w->ctr;
}

unsigned
dtcp_worker_id(const struct dtcp_worker *w)
{
	return w->id;
}
