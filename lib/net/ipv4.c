/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 for a host (RFC 791, RFC 1122 §3.2.1): receive checks, reassembly
 * with rte_ip_frag under a flow and time bound, on-link routing plus a
 * default gateway, fragmentation with rte_ip_frag on output.
 *
 * Not yet: ICMP protocol-unreachable for protocols we do not serve
 * (RFC 1122 §3.2.2.1 SHOULD); such datagrams are counted and dropped.
 * rte_ip_frag holds at most RTE_LIBRTE_IP_FRAG_MAX_FRAG (8) fragments of a
 * datagram and gives a datagram up on any repeated fragment.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>

#include "net.h"
#include "../tcp/tcp_priv.h"

/* Output fragments of one datagram: 65535 bytes over the smallest MTU (576). */
#define FRAGS_OUT_MAX 128

int
dtcp_ipv4_create(struct dtcp_worker *w, char *err, size_t errlen)
{
	uint64_t timeout_ns = (uint64_t)w->cfg.frag_timeout_ms * 1000000;

	/*
	 * Timestamps given to rte_ip_frag are the worker's nanoseconds. It
	 * expires a datagram once strictly more than its limit has passed:
	 * one less makes the timeout exact.
	 */
	w->frag_tbl = rte_ip_frag_table_create(w->cfg.frag_max_flows, 4,
					       w->cfg.frag_max_flows, timeout_ns - 1,
					       (int)rte_socket_id());
	if (w->frag_tbl == NULL) {
		snprintf(err, errlen, "reassembly table for %u datagrams: out of memory",
			 w->cfg.frag_max_flows);
		return -ENOMEM;
	}
	w->frag_dr.cnt = 0;
	return 0;
}

static void
free_death_row(struct dtcp_worker *w)
{
	if (w->frag_dr.cnt == 0)
		return;
	ctr_add(w, DTCP_CTR_ip_frag_dropped, w->frag_dr.cnt);
	rte_ip_frag_free_death_row(&w->frag_dr, 3);
}

void
dtcp_ipv4_flush(struct dtcp_worker *w)
{
	if (w->frag_tbl == NULL)
		return;
	/* Everything in reassembly is expired by a time past any timeout. */
	rte_ip_frag_table_del_expired_entries(w->frag_tbl, &w->frag_dr, UINT64_MAX);
	free_death_row(w);
}

void
dtcp_ipv4_destroy(struct dtcp_worker *w)
{
	if (w->frag_tbl == NULL)
		return;
	dtcp_ipv4_flush(w);
	rte_ip_frag_table_destroy(w->frag_tbl);
	w->frag_tbl = NULL;
}

void
dtcp_ipv4_expire(struct dtcp_worker *w)
{
	/* Walks the reassembly LRU only while its head has expired. */
	rte_ip_frag_table_del_expired_entries(w->frag_tbl, &w->frag_dr, w->now_ns);
	free_death_row(w);
}

void
dtcp_ipv4_after_burst(struct dtcp_worker *w)
{
	free_death_row(w);
}

uint32_t
dtcp_source_for(const struct dtcp_worker *w, uint32_t dst)
{
	for (unsigned i = 0; i < w->cfg.n_addrs; i++) {
		uint32_t mask = dtcp_prefix_mask(w->cfg.addrs[i].prefix_len);

		if ((dst & mask) == (w->cfg.addrs[i].addr & mask))
			return w->cfg.addrs[i].addr;
	}
	return w->cfg.addrs[0].addr;
}

/* On-link when some interface prefix covers dst, else the gateway; 0 for none. */
static uint32_t
route_nexthop(const struct dtcp_worker *w, uint32_t dst)
{
	return dtcp_on_link(w, dst) ? dst : w->cfg.gateway;
}

/* Whether reassembly put m itself on the death row in its last call. */
static bool
frag_retired(const struct dtcp_worker *w, const struct rte_mbuf *m, uint32_t from)
{
	for (uint32_t i = from; i < w->frag_dr.cnt; i++)
		if (w->frag_dr.row[i] == m)
			return true;
	return false;
}

/* Ours, or the directed broadcast of one of our subnets (RFC 1122 §3.2.1.3). */
static bool
local_or_bcast(const struct dtcp_worker *w, uint32_t a)
{
	for (unsigned i = 0; i < w->cfg.n_addrs; i++) {
		uint32_t host = ~dtcp_prefix_mask(w->cfg.addrs[i].prefix_len);

		if (a == w->cfg.addrs[i].addr ||
		    (w->cfg.addrs[i].prefix_len < 31 &&
		     a == (w->cfg.addrs[i].addr | host)))
			return true;
	}
	return false;
}

/*
 * Whether the IPv4 header runs past the first segment of a chain (LRO,
 * scattered RX): headers are read in place.
 */
static bool
hdr_split(const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *hdr = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint32_t need = sizeof(*hdr);

	if (m->data_len >= need)
		need = (hdr->version_ihl & 0xfu) * 4;
	return m->data_len < RTE_MIN(need, m->pkt_len);
}

/* Keep the first len (< pkt_len) bytes of m, whichever segments hold the rest. */
static void
trim_to(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *seg = m;
	uint32_t keep = len;
	uint16_t segs = 1;

	while (keep > seg->data_len) {
		keep -= seg->data_len;
		seg = seg->next;
		segs++;
	}
	seg->data_len = (uint16_t)keep;
	rte_pktmbuf_free(seg->next);
	seg->next = NULL;
	m->nb_segs = segs;
	m->pkt_len = len;
}

void
dtcp_ipv4_input(struct dtcp_worker *w, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *hdr = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	enum dtcp_rx_cksum rx_cksum = dtcp_rx_ip_cksum(w, m);
	struct dtcp_ipv4_info ip;
	enum dtcp_ctr verdict;

	ctr_inc(w, DTCP_CTR_ip_rx);
	if (unlikely(rx_cksum == DTCP_RX_CKSUM_BAD)) {
		dtcp_rx_drop(w, m, DTCP_CTR_ip_bad_checksum);
		return;
	}
	if (unlikely(m->nb_segs > 1) && unlikely(hdr_split(m))) {
		dtcp_rx_drop(w, m, DTCP_CTR_ip_hdr_split);
		return;
	}
	verdict = dtcp_wire_ipv4_parse(hdr, m->pkt_len, rx_cksum == DTCP_RX_CKSUM_GOOD, &ip);
	if (unlikely(verdict != DTCP_WIRE_OK)) {
		dtcp_rx_drop(w, m, verdict);
		return;
	}
	/* Ethernet pads short frames to 60 bytes: the IP length is the truth. */
	if (m->pkt_len > ip.total_len) {
		trim_to(m, ip.total_len);
		ctr_inc(w, DTCP_CTR_ip_padding_trimmed);
	}
	if (unlikely(!dtcp_is_local_addr(w, ip.dst))) {
		dtcp_rx_drop(w, m, DTCP_CTR_ip_not_for_us);
		return;
	}
	if (unlikely(dtcp_ipv4_martian(ip.src) || local_or_bcast(w, ip.src))) {
		dtcp_rx_drop(w, m, DTCP_CTR_ip_martian_src);
		return;
	}
	if (unlikely(ip.options))
		ctr_inc(w, DTCP_CTR_ip_options);

	if (unlikely(ip.fragment)) {
		struct rte_mbuf *d;
		uint32_t dr_before;

		ctr_inc(w, DTCP_CTR_ip_frag_rx);
		/* Reassembly may retire up to a full datagram's mbufs at once. */
		if (w->frag_dr.cnt + RTE_LIBRTE_IP_FRAG_MAX_FRAG + 1 > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN)
			free_death_row(w);
		dr_before = w->frag_dr.cnt;
		m->l2_len = 0;
		m->l3_len = ip.hlen;
		d = rte_ipv4_frag_reassemble_packet(w->frag_tbl, &w->frag_dr, m,
						    w->now_ns, hdr);
		if (d == NULL) {
			/* Sent to the death row with its datagram, or kept. */
			ctr_inc(w, frag_retired(w, m, dr_before) ? DTCP_CTR_ip_frag_discarded
								 : DTCP_CTR_ip_frag_held);
			return;
		}
		ctr_inc(w, DTCP_CTR_ip_reassembled);
		m = d;
		/* A port's verdict on a fragment says nothing of the datagram's TCP sum. */
		m->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
		hdr = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		ip.hlen = (uint16_t)rte_ipv4_hdr_len(hdr);
		ip.total_len = (uint16_t)m->pkt_len;
	}

	rte_pktmbuf_adj(m, ip.hlen);
	switch (ip.proto) {
	case IPPROTO_ICMP:
		dtcp_icmp_input(w, m, &ip);
		return;
	case IPPROTO_TCP:
		dtcp_tcp_input(w, m, &ip);
		return;
	default:
		dtcp_rx_drop(w, m, DTCP_CTR_ip_unknown_proto);
		return;
	}
}

void
dtcp_ipv4_output(struct dtcp_worker *w, struct rte_mbuf *m, uint32_t src,
		 uint32_t dst, uint8_t proto, bool df)
{
	struct rte_mbuf *frags[FRAGS_OUT_MAX];
	struct rte_ipv4_hdr *hdr;
	uint32_t nexthop = route_nexthop(w, dst);
	bool fits;
	int n;

	if (unlikely(nexthop == 0)) {
		dtcp_tx_drop(w, m, DTCP_CTR_ip_no_route);
		return;
	}
	if (unlikely(m->pkt_len + sizeof(*hdr) > UINT16_MAX)) {
		dtcp_tx_drop(w, m, DTCP_CTR_ip_frag_tx_fail);
		return;
	}
	hdr = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*hdr));
	if (unlikely(hdr == NULL)) {
		dtcp_tx_drop(w, m, DTCP_CTR_mbuf_alloc_fail);
		return;
	}
	/* A received frame sent back keeps only the flags that describe its
	 * buffer; a transport's requests to the port (checksum, TSO) stay. */
	m->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_TX_L4_MASK |
		       RTE_MBUF_F_TX_TCP_SEG;
	/* A TSO frame is cut to the MTU by the port. */
	fits = m->pkt_len <= w->mtu || (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
	if (likely(fits) && w->offl.tx_ip_cksum) {
		dtcp_wire_ipv4_fill(hdr, src, dst, proto, w->cfg.ttl, w->ip_id++,
				    (uint16_t)m->pkt_len, df);
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	} else {
		dtcp_wire_ipv4_emit(hdr, src, dst, proto, w->cfg.ttl, w->ip_id++,
				    (uint16_t)m->pkt_len, df);
		if (m->ol_flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG))
			m->ol_flags |= RTE_MBUF_F_TX_IPV4;
	}
	m->l3_len = sizeof(*hdr);
	ctr_inc(w, DTCP_CTR_ip_tx);
	if (likely(fits)) {
		dtcp_arp_output(w, m, nexthop);
		return;
	}
	if (df) {
		dtcp_tx_drop(w, m, DTCP_CTR_ip_df_too_big);
		return;
	}
	/*
	 * Fragments reference the payload by indirect mbufs: no copy. Their
	 * headers get software checksums; a transport that leaves its sum to
	 * the port sets DF, since no port sums across fragments.
	 */
	n = rte_ipv4_fragment_packet(m, frags, FRAGS_OUT_MAX, w->mtu, w->pool, w->pool);
	rte_pktmbuf_free(m);
	if (n < 0) {
		ctr_inc(w, DTCP_CTR_ip_frag_tx_fail);
		return;
	}
	for (int i = 0; i < n; i++) {
		hdr = rte_pktmbuf_mtod(frags[i], struct rte_ipv4_hdr *);
		hdr->hdr_checksum = 0;
		hdr->hdr_checksum = rte_ipv4_cksum(hdr);
		frags[i]->ol_flags &= ~RTE_MBUF_F_TX_OFFLOAD_MASK;
		ctr_inc(w, DTCP_CTR_ip_frag_tx);
		dtcp_arp_output(w, frags[i], nexthop);
	}
}
