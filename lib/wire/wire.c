/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "wire.h"

/*
 * The ones'-complement sum of an IPv4 header, folded to 16 bits: five
 * 32-bit words for the usual 20 bytes (each carry folds back in the end,
 * as in a 16-bit sum), the general sum for a header with options. Every
 * datagram is summed once each way; rte_ipv4_cksum takes 16 bits a step.
 */
static inline uint16_t
ipv4_hdr_sum(const struct rte_ipv4_hdr *ip, uint16_t hlen)
{
	uint32_t w[5];
	uint64_t s;

	if (unlikely(hlen != sizeof(w)))
		return (uint16_t)dtcp_wire_raw_sum(ip, hlen);
	memcpy(w, ip, sizeof(w));
	s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	/* s < 5 * 2^32; then < 2^32 + 4; then at most 0x1fffe, or 0x10003
	 * from 2^32 + 3; then at most 0xffff. */
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

enum dtcp_ctr
dtcp_wire_ipv4_parse(const struct rte_ipv4_hdr *ip, uint32_t avail,
		     bool csum_good, struct dtcp_ipv4_info *out)
{
	uint16_t hlen, total, frag, off;

	if (avail < sizeof(*ip))
		return DTCP_CTR_ip_too_short;
	if ((ip->version_ihl >> 4) != 4)
		return DTCP_CTR_ip_bad_version;
	hlen = (uint16_t)((ip->version_ihl & 0xf) * 4);
	if (hlen < sizeof(*ip))
		return DTCP_CTR_ip_bad_ihl;
	if (hlen > avail)
		return DTCP_CTR_ip_hdr_truncated;
	/* A header whose ones'-complement sum, checksum included, is not all ones. */
	if (!csum_good && ipv4_hdr_sum(ip, hlen) != 0xffff)
		return DTCP_CTR_ip_bad_checksum;
	total = rte_be_to_cpu_16(ip->total_length);
	if (total < hlen)
		return DTCP_CTR_ip_bad_total_len;
	if (total > avail)
		return DTCP_CTR_ip_truncated;

	frag = rte_be_to_cpu_16(ip->fragment_offset);
	off = (uint16_t)((frag & RTE_IPV4_HDR_OFFSET_MASK) * RTE_IPV4_HDR_OFFSET_UNITS);
	out->fragment = (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0;
	if (out->fragment) {
		uint32_t payload = (uint32_t)total - hlen;

		/* RFC 791: every fragment but the last carries a multiple of 8
		 * bytes, and no datagram, header included, exceeds 65535. */
		if ((uint32_t)hlen + off + payload > 65535 ||
		    ((frag & RTE_IPV4_HDR_MF_FLAG) && (payload == 0 || payload % 8)))
			return DTCP_CTR_ip_frag_bad;
	}
	out->src = rte_be_to_cpu_32(ip->src_addr);
	out->dst = rte_be_to_cpu_32(ip->dst_addr);
	out->hlen = hlen;
	out->total_len = total;
	out->proto = ip->next_proto_id;
	out->options = hlen > sizeof(*ip);
	return DTCP_WIRE_OK;
}

void
dtcp_wire_ipv4_fill(struct rte_ipv4_hdr *ip, uint32_t src, uint32_t dst,
		    uint8_t proto, uint8_t ttl, uint16_t id, uint16_t total_len,
		    bool df)
{
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(total_len);
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->fragment_offset = rte_cpu_to_be_16(df ? RTE_IPV4_HDR_DF_FLAG : 0);
	ip->time_to_live = ttl;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = 0;
}

void
dtcp_wire_ipv4_emit(struct rte_ipv4_hdr *ip, uint32_t src, uint32_t dst,
		    uint8_t proto, uint8_t ttl, uint16_t id, uint16_t total_len,
		    bool df)
{
	dtcp_wire_ipv4_fill(ip, src, dst, proto, ttl, id, total_len, df);
	ip->hdr_checksum = (uint16_t)~ipv4_hdr_sum(ip, sizeof(*ip));
}

enum dtcp_ctr
dtcp_wire_arp_parse(const void *p, uint32_t avail, struct dtcp_arp_info *out)
{
	const struct rte_arp_hdr *a = p;
	uint16_t op;

	if (avail < sizeof(*a) ||
	    a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4)
		return DTCP_CTR_arp_malformed;
	op = rte_be_to_cpu_16(a->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)
		return DTCP_CTR_arp_bad_op;
	out->op = op;
	rte_ether_addr_copy(&a->arp_data.arp_sha, &out->sha);
	rte_ether_addr_copy(&a->arp_data.arp_tha, &out->tha);
	/* The IPs sit at odd offsets in the packed header: read them whole. */
	out->sip = rte_be_to_cpu_32(a->arp_data.arp_sip);
	out->tip = rte_be_to_cpu_32(a->arp_data.arp_tip);
	return DTCP_WIRE_OK;
}

void
dtcp_wire_arp_emit(struct rte_arp_hdr *a, uint16_t op,
		   const struct rte_ether_addr *sha, uint32_t sip,
		   const struct rte_ether_addr *tha, uint32_t tip)
{
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(sha, &a->arp_data.arp_sha);
	rte_ether_addr_copy(tha, &a->arp_data.arp_tha);
	a->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	a->arp_data.arp_tip = rte_cpu_to_be_32(tip);
}

/*
 * The ones'-complement sum of len bytes at buf, as 16-bit words loaded in
 * host order (the convention of __rte_raw_cksum, whose result it equals
 * after folding), folded to at most 16 bits.
 *
 * Hand-written: DPDK 22.11's __rte_raw_cksum adds one 16-bit word per step
 * (1.4 to 2.7 bytes per TSC cycle here), and every TCP segment is summed twice,
 * sent and received, so on a bulk transfer it was the largest per-byte
 * cost. Here 128 bytes go per step in two vectors of 32-bit lanes (GCC's
 * vector extensions: the compiler emits AVX-512, AVX2 or SSE2 as the target
 * has it); each lane gathers the two 16-bit halves of its word, and is
 * emptied into a 64-bit total before it could carry out. bench/cksum.c
 * measures it against __rte_raw_cksum.
 */
typedef uint32_t u32x16 __attribute__((vector_size(64)));
typedef uint32_t u32x8 __attribute__((vector_size(32)));

#define SUM_STEP 128u
/* Steps per block: a lane of the two vectors added gets 2 x 8192 x 0x1fffe < 2^32. */
#define SUM_BLOCK 8192u

/* 64 bytes at any alignment (unaligned loads). A macro, not a function:
 * passing a 64-byte vector by value changes the ABI without AVX-512, and
 * GCC refuses such a function on a target that lacks it (-Werror=psabi). */
#define LOAD64(v, p) memcpy(&(v), (p), sizeof(v))

/* Under 128 bytes (or any, slowly): 32, then 8, 4, 2 and 1 at a time. */
static inline uint64_t
sum_short(const uint8_t *p, size_t len)
{
	uint64_t sum = 0, q;
	uint32_t w;

	for (; len >= 32; len -= 32, p += 32) {
		u32x8 x;

		memcpy(&x, p, sizeof(x));
		x = (x & 0xffff) + (x >> 16);
		for (unsigned k = 0; k < 8; k++)
			sum += x[k];
	}
	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&q, p, 8);
		sum += (q & 0xffffffff) + (q >> 32);
	}
	if (len >= 4) {
		memcpy(&w, p, 4);
		sum += w;  /* whole: its carry out of bit 15 folds back at the end */
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t h;

		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		uint16_t left = 0;

		/* The last byte is the first of a word whose second is zero. */
		memcpy(&left, p, 1);
		sum += left;
	}
	return sum;
}

uint32_t
dtcp_wire_raw_sum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t sum = 0;
	bool swap = false;
	uint16_t r;

	/*
	 * A long run starts its vector loads on a 64-byte boundary: loads that
	 * straddle cache lines cost twice. From an odd address the words are
	 * paired one byte off: summed as if a zero byte came first (byte 0 the
	 * second of a word), the total is the true one with its bytes swapped,
	 * as every byte's weight, 1 or 256, is exchanged (256 x 256 = 1 mod
	 * 0xffff); swapped back at the end.
	 */
	if (len >= 256) {
		size_t head;

		if ((uintptr_t)p & 1) {
			uint16_t first = 0;

			memcpy((uint8_t *)&first + 1, p, 1);
			sum = first;
			p++;
			len--;
			swap = true;
		}
		head = (64 - ((uintptr_t)p & 63)) & 63;  /* even: the pairing holds */
		sum += sum_short(p, head);
		p += head;
		len -= head;
	}
	while (len >= SUM_STEP) {
		size_t steps = RTE_MIN(len / SUM_STEP, (size_t)SUM_BLOCK);
		u32x16 a = { 0 }, b = { 0 };

		for (size_t i = 0; i < steps; i++, p += SUM_STEP) {
			u32x16 x, y;

			LOAD64(x, p);
			LOAD64(y, p + 64);

			a += (x & 0xffff) + (x >> 16);
			b += (y & 0xffff) + (y >> 16);
		}
		a += b;
		for (unsigned k = 0; k < 16; k++)
			sum += a[k];
		len -= steps * SUM_STEP;
	}
	sum += sum_short(p, len);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	r = __rte_raw_cksum_reduce((uint32_t)sum);
	return swap ? rte_bswap16(r) : r;
}

/*
 * Written here rather than with rte_raw_cksum_mbuf(): in DPDK 22.11 that
 * function truncates a segment's 32-bit partial sum to 16 bits before
 * swapping it when the segment starts at an odd offset, losing the carries.
 * Each partial sum is folded first here.
 */
uint16_t
dtcp_wire_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	return dtcp_wire_cksum_mbuf_seed(m, off, len, 0);
}

uint16_t
dtcp_wire_cksum_mbuf_seed(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint32_t seed)
{
	const struct rte_mbuf *seg = m;
	uint32_t done = 0, sum = __rte_raw_cksum_reduce(seed);

	/* Out of range: answer "bad" so no caller can take it for valid. */
	if ((uint64_t)off + len > m->pkt_len)
		return 0xffff;
	while (seg != NULL && off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
	}
	while (done < len && seg != NULL) {
		uint32_t n = RTE_MIN((uint32_t)seg->data_len - off, len - done);
		uint16_t part = (uint16_t)dtcp_wire_raw_sum(
			rte_pktmbuf_mtod_offset(seg, const void *, off), n);

		/* A segment starting at an odd byte of the sum has its bytes swapped. */
		sum += (done & 1) ? rte_bswap16(part) : part;
		done += n;
		off = 0;
		seg = seg->next;
	}
	return (uint16_t)~__rte_raw_cksum_reduce(sum);
}
