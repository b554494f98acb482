/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet, ARP, IPv4 and ICMP of one worker. */
#ifndef DTCP_NET_H
#define DTCP_NET_H

#include "../core/worker_priv.h"
#include "../wire/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Ethernet: a received burst, each frame starting at its Ethernet header.
 * Consumes every frame, in order; counts rx_bytes.
 */
void dtcp_eth_input_burst(struct dtcp_worker *w, struct rte_mbuf **pkts, uint16_t n);

/* ARP */
int dtcp_arp_create(struct dtcp_worker *w, char *err, size_t errlen);
void dtcp_arp_destroy(struct dtcp_worker *w);
/* Forget every entry; packets waiting on resolution count as arp_resolve_timeout. */
void dtcp_arp_flush(struct dtcp_worker *w);
/* m starts at the ARP header. Consumes m. */
void dtcp_arp_input(struct dtcp_worker *w, struct rte_mbuf *m);
/*
 * Send the IPv4 packet m (starting at its IP header) to the on-link next
 * hop: at once when resolved, else queued while ARP resolves. Consumes m.
 */
void dtcp_arp_output(struct dtcp_worker *w, struct rte_mbuf *m, uint32_t nexthop);
void dtcp_arp_announce(struct dtcp_worker *w);
void dtcp_arp_timer(struct dtcp_worker *w, struct dtcp_timer *t);
/* Test hook: 1 and the MAC when nexthop is resolved, 0 when pending, -ENOENT. */
int dtcp_arp_lookup(struct dtcp_worker *w, uint32_t ip, struct rte_ether_addr *mac);
unsigned dtcp_arp_pending_total(const struct dtcp_worker *w);

/* IPv4: m starts at the IP header. Consumes m. */
int dtcp_ipv4_create(struct dtcp_worker *w, char *err, size_t errlen);
void dtcp_ipv4_destroy(struct dtcp_worker *w);
/* Give up every datagram in reassembly (counted in ip_frag_dropped). */
void dtcp_ipv4_flush(struct dtcp_worker *w);
void dtcp_ipv4_input(struct dtcp_worker *w, struct rte_mbuf *m);
/* Once a tick: give up datagrams whose reassembly time is over. */
void dtcp_ipv4_expire(struct dtcp_worker *w);
/* After each burst: free the fragments reassembly gave up. */
void dtcp_ipv4_after_burst(struct dtcp_worker *w);
/*
 * Send a transport payload: m starts at the transport header, with
 * headroom for IPv4 and Ethernet. Routes, fragments when larger than the
 * MTU (unless df), resolves. Consumes m.
 */
void dtcp_ipv4_output(struct dtcp_worker *w, struct rte_mbuf *m, uint32_t src,
		      uint32_t dst, uint8_t proto, bool df);

/* ICMP: m starts at the ICMP header; ip describes the datagram. Consumes m. */
void dtcp_icmp_input(struct dtcp_worker *w, struct rte_mbuf *m,
		     const struct dtcp_ipv4_info *ip);

#ifdef __cplusplus
}
#endif
#endif
