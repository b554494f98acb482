/* SPDX-License-Identifier: BSD-3-Clause */
#include "net.h"

void
dtcp_eth_input(struct dtcp_worker *w, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *e;

	if (unlikely(m->nb_segs != 1)) {
		dtcp_rx_drop(w, m, DTCP_CTR_eth_chained_rx);
		return;
	}
	if (unlikely(m->data_len < sizeof(*e))) {
		dtcp_rx_drop(w, m, DTCP_CTR_eth_too_short);
		return;
	}
	e = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	/* Ours or broadcast; multicast and other unicast are not for us. */
	if (!rte_is_same_ether_addr(&e->dst_addr, &w->mac) &&
	    !rte_is_broadcast_ether_addr(&e->dst_addr)) {
		dtcp_rx_drop(w, m, DTCP_CTR_eth_not_for_us);
		return;
	}
	/* A source MAC of a group or of nobody is never a real sender. */
	if (unlikely(!rte_is_unicast_ether_addr(&e->src_addr) ||
		     rte_is_zero_ether_addr(&e->src_addr))) {
		dtcp_rx_drop(w, m, DTCP_CTR_eth_src_bogus);
		return;
	}
	switch (rte_be_to_cpu_16(e->ether_type)) {
	case RTE_ETHER_TYPE_IPV4:
		/* We answer only unicast IP: a host should not take a unicast
		 * datagram that came as a link-layer broadcast (RFC 1122 §3.3.6). */
		if (unlikely(rte_is_broadcast_ether_addr(&e->dst_addr))) {
			dtcp_rx_drop(w, m, DTCP_CTR_eth_bcast_ip);
			return;
		}
		rte_pktmbuf_adj(m, sizeof(*e));
		dtcp_ipv4_input(w, m);
		return;
	case RTE_ETHER_TYPE_ARP:
		rte_pktmbuf_adj(m, sizeof(*e));
		dtcp_arp_input(w, m);
		return;
	default:
		dtcp_rx_drop(w, m, DTCP_CTR_eth_unknown_type);
		return;
	}
}
