/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP (RFC 792, RFC 1122 §3.2.2): echo answered, errors parsed and counted.
 * Not yet: a source route in an echo request is not reversed into the
 * reply (RFC 1122 §3.2.2.6 MUST); IP options are not echoed at all.
 */
#include <netinet/in.h>

#include "net.h"
#include "../tcp/tcp_priv.h"

/*
 * An error quotes the offending datagram's IP header and at least 8 bytes
 * of it (RFC 792): TCP's are handed to the connection they name.
 */
static void
icmp_error_input(struct dtcp_worker *w, struct rte_mbuf *m, uint8_t type, uint8_t code)
{
	const struct rte_ipv4_hdr *inner;
	uint32_t hlen;
	enum dtcp_ctr kind;

	if (m->pkt_len < sizeof(struct rte_icmp_hdr) + sizeof(*inner) + 8 ||
	    rte_pktmbuf_data_len(m) < sizeof(struct rte_icmp_hdr) + sizeof(*inner)) {
		dtcp_rx_drop(w, m, DTCP_CTR_icmp_err_malformed);
		return;
	}
	inner = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
					sizeof(struct rte_icmp_hdr));
	hlen = (inner->version_ihl & 0xf) * 4u;
	if ((inner->version_ihl >> 4) != 4 || hlen < sizeof(*inner) ||
	    m->pkt_len < sizeof(struct rte_icmp_hdr) + hlen + 8) {
		dtcp_rx_drop(w, m, DTCP_CTR_icmp_err_malformed);
		return;
	}
	switch ((enum dtcp_icmp_type)type) {
	case DTCP_ICMP_DEST_UNREACH:
		kind = code == DTCP_ICMP_CODE_FRAG_NEEDED ? DTCP_CTR_icmp_err_frag_needed : DTCP_CTR_icmp_err_unreach;
		break;
	case DTCP_ICMP_TIME_EXCEEDED:
		kind = DTCP_CTR_icmp_err_time_exceeded;
		break;
	case DTCP_ICMP_PARAM_PROBLEM:
		kind = DTCP_CTR_icmp_err_param_problem;
		break;
	case DTCP_ICMP_SOURCE_QUENCH:
		/* RFC 6633: hosts ignore source quench. */
		ctr_inc(w, DTCP_CTR_icmp_err_source_quench);
		dtcp_rx_drop(w, m, DTCP_CTR_icmp_err_ignored);
		return;
	case DTCP_ICMP_ECHO_REPLY:
	case DTCP_ICMP_ECHO_REQUEST:
	default:
		dtcp_rx_drop(w, m, DTCP_CTR_icmp_unknown_type);
		return;
	}
	ctr_inc(w, kind);
	if (inner->next_proto_id == IPPROTO_TCP) {
		const struct rte_icmp_hdr *icmp = rte_pktmbuf_mtod(m, const struct rte_icmp_hdr *);

		if (rte_pktmbuf_data_len(m) < sizeof(*icmp) + hlen + 8) {
			dtcp_rx_drop(w, m, DTCP_CTR_icmp_err_malformed);
			return;
		}
		/* Fragmentation needed carries the next-hop MTU where echo has its sequence. */
		dtcp_tcp_icmp_error(w, m, type, code, rte_be_to_cpu_16(icmp->icmp_seq_nb), inner,
				    rte_pktmbuf_mtod_offset(m, const uint8_t *, sizeof(*icmp) + hlen));
		return;
	}
	dtcp_rx_drop(w, m, DTCP_CTR_icmp_err_ignored);
}

void
dtcp_icmp_input(struct dtcp_worker *w, struct rte_mbuf *m, const struct dtcp_ipv4_info *ip)
{
	struct rte_icmp_hdr *icmp;
	uint16_t old_word;

	ctr_inc(w, DTCP_CTR_icmp_rx);
	/* Fragments carry multiples of 8 bytes, so 8 bytes are always contiguous here. */
	if (m->pkt_len < sizeof(*icmp) || rte_pktmbuf_data_len(m) < sizeof(*icmp)) {
		dtcp_rx_drop(w, m, DTCP_CTR_icmp_too_short);
		return;
	}
	if (dtcp_wire_cksum_mbuf(m, 0, m->pkt_len) != 0) {
		dtcp_rx_drop(w, m, DTCP_CTR_icmp_bad_checksum);
		return;
	}
	icmp = rte_pktmbuf_mtod(m, struct rte_icmp_hdr *);
	switch (icmp->icmp_type) {
	case DTCP_ICMP_ECHO_REQUEST:
		/* The request becomes the reply: same identifier, sequence and
		 * data (RFC 792); only the type and the checksum change. */
		old_word = *(uint16_t *)icmp;
		icmp->icmp_type = DTCP_ICMP_ECHO_REPLY;
		icmp->icmp_cksum = dtcp_cksum_update16(icmp->icmp_cksum, old_word,
						       *(uint16_t *)icmp);
		/* The update cannot tell the two zeros apart: a message of
		 * zero words must carry 0xffff, so 0 is summed again in full. */
		if (unlikely(icmp->icmp_cksum == 0))
			icmp->icmp_cksum = dtcp_wire_cksum_mbuf(m, 0, m->pkt_len);
		ctr_inc(w, DTCP_CTR_icmp_echo_request);
		ctr_inc(w, DTCP_CTR_icmp_echo_reply_tx);
		dtcp_ipv4_output(w, m, ip->dst, ip->src, IPPROTO_ICMP, false);
		return;
	case DTCP_ICMP_ECHO_REPLY:
		dtcp_rx_drop(w, m, DTCP_CTR_icmp_echo_reply_rx);
		return;
	case DTCP_ICMP_DEST_UNREACH:
	case DTCP_ICMP_TIME_EXCEEDED:
	case DTCP_ICMP_PARAM_PROBLEM:
	case DTCP_ICMP_SOURCE_QUENCH:
		icmp_error_input(w, m, icmp->icmp_type, icmp->icmp_code);
		return;
	default:
		dtcp_rx_drop(w, m, DTCP_CTR_icmp_unknown_type);
		return;
	}
}
