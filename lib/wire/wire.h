/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Header layouts come from DPDK (rte_ether.h, rte_arp.h, rte_ip.h,
 * rte_icmp.h); this file adds the checks and builders dtcp needs on top,
 * with no state. Addresses are host byte order everywhere above this layer.
 */
#ifndef DTCP_WIRE_H
#define DTCP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <dtcp/counters.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returned by the parse functions when a header passes every check. */
#define DTCP_WIRE_OK DTCP_CTR_MAX

static inline uint32_t
dtcp_prefix_mask(uint8_t prefix_len)
{
	return prefix_len == 0 ? 0 : ~(uint32_t)0 << (32 - prefix_len);
}

/*
 * Sources no host may claim (RFC 1122 §3.2.1.3, RFC 5735): this network
 * (0/8), loopback (127/8), multicast (224/4), reserved (240/4, which also
 * holds the limited broadcast).
 */
static inline bool
dtcp_ipv4_martian(uint32_t a)
{
	uint8_t top = (uint8_t)(a >> 24);

	return top == 0 || top == 127 || top >= 224;
}

/* What dtcp_wire_ipv4_parse learned; host byte order. */
struct dtcp_ipv4_info {
	uint32_t src;
	uint32_t dst;
	uint16_t hlen;        /* header bytes, options included */
	uint16_t total_len;   /* from the header; <= the bytes available */
	uint8_t proto;
	bool fragment;        /* MF set or offset non-zero */
	bool options;
};

/*
 * RFC 1122 §3.2.1 checks on a header at ip with avail bytes after it
 * (the rest of the frame). csum_good skips the checksum when hardware has
 * verified it. Returns DTCP_WIRE_OK or the counter naming the fault.
 */
enum dtcp_ctr dtcp_wire_ipv4_parse(const struct rte_ipv4_hdr *ip, uint32_t avail,
				   bool csum_good, struct dtcp_ipv4_info *out);

/* Fill a 20-byte header (no options), checksum included. */
void dtcp_wire_ipv4_emit(struct rte_ipv4_hdr *ip, uint32_t src, uint32_t dst,
			 uint8_t proto, uint8_t ttl, uint16_t id,
			 uint16_t total_len, bool df);
/* The same with the checksum field 0, for a port that writes it. */
void dtcp_wire_ipv4_fill(struct rte_ipv4_hdr *ip, uint32_t src, uint32_t dst,
			 uint8_t proto, uint8_t ttl, uint16_t id,
			 uint16_t total_len, bool df);

/* What dtcp_wire_arp_parse learned; IPs in host byte order. */
struct dtcp_arp_info {
	uint16_t op;
	struct rte_ether_addr sha;
	struct rte_ether_addr tha;
	uint32_t sip;
	uint32_t tip;
};

/* RFC 826 Ethernet/IPv4 ARP; DTCP_WIRE_OK, arp_malformed or arp_bad_op. */
enum dtcp_ctr dtcp_wire_arp_parse(const void *p, uint32_t avail,
				  struct dtcp_arp_info *out);

void dtcp_wire_arp_emit(struct rte_arp_hdr *a, uint16_t op,
			const struct rte_ether_addr *sha, uint32_t sip,
			const struct rte_ether_addr *tha, uint32_t tip);

static inline void
dtcp_wire_eth_emit(struct rte_ether_hdr *e, const struct rte_ether_addr *dst,
		   const struct rte_ether_addr *src, uint16_t type)
{
	rte_ether_addr_copy(dst, &e->dst_addr);
	rte_ether_addr_copy(src, &e->src_addr);
	e->ether_type = rte_cpu_to_be_16(type);
}

/* ICMP types (RFC 792); DPDK 22.11 names only the echo pair. */
enum dtcp_icmp_type {
	DTCP_ICMP_ECHO_REPLY = 0,
	DTCP_ICMP_DEST_UNREACH = 3,
	DTCP_ICMP_SOURCE_QUENCH = 4,
	DTCP_ICMP_ECHO_REQUEST = 8,
	DTCP_ICMP_TIME_EXCEEDED = 11,
	DTCP_ICMP_PARAM_PROBLEM = 12,
};
#define DTCP_ICMP_CODE_FRAG_NEEDED 4

/*
 * Ones'-complement sum (RFC 1071) of len bytes at buf, any alignment, as
 * 16-bit words in host order, folded to 16 bits, not complemented: what
 * __rte_raw_cksum_reduce(__rte_raw_cksum(buf, len, 0)) gives, faster.
 */
uint32_t dtcp_wire_raw_sum(const void *buf, size_t len);

/*
 * Internet checksum (RFC 1071) of len bytes at offset off of a chain, in
 * network byte order (ready to store); 0 when the bytes already carry a
 * valid checksum.
 */
uint16_t dtcp_wire_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len);
/* The same with a partial sum to start from (a pseudo-header's raw sum). */
uint16_t dtcp_wire_cksum_mbuf_seed(const struct rte_mbuf *m, uint32_t off, uint32_t len,
				   uint32_t seed);

/* Raw (unfolded, uncomplemented) sum of the IPv4 pseudo-header (RFC 9293 §3.1). */
static inline uint32_t
dtcp_wire_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
	struct {
		rte_be32_t src, dst;
		uint8_t zero, proto;
		rte_be16_t len;
	} __rte_packed ph = {
		rte_cpu_to_be_32(src), rte_cpu_to_be_32(dst), 0, proto, rte_cpu_to_be_16(l4_len)
	};

	return __rte_raw_cksum(&ph, sizeof(ph), 0);
}

/*
 * RFC 1624 incremental update: the checksum after one 16-bit word of the
 * covered data changes from old to new (all in network byte order).
 */
static inline uint16_t
dtcp_cksum_update16(uint16_t cksum, uint16_t old_word, uint16_t new_word)
{
	uint32_t sum = (uint16_t)~cksum + (uint32_t)(uint16_t)~old_word + new_word;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#ifdef __cplusplus
}
#endif
#endif
