// SPDX-License-Identifier: BSD-3-Clause
#include "harness.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

const Mac kBroadcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
const Mac StackTest::kOurMac = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 } };
const Mac StackTest::kPeerMac = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 } };

uint16_t RefCksum(const uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t sum = seed;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

std::string ToString(const Mac &m)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m.b[0], m.b[1], m.b[2],
		 m.b[3], m.b[4], m.b[5]);
	return buf;
}

static void Put16(Bytes &b, uint16_t v)
{
	b.push_back((uint8_t)(v >> 8));
	b.push_back((uint8_t)v);
}

static void Put32(Bytes &b, uint32_t v)
{
	Put16(b, (uint16_t)(v >> 16));
	Put16(b, (uint16_t)v);
}

static void PutMac(Bytes &b, const Mac &m)
{
	b.insert(b.end(), m.b, m.b + 6);
}

static uint16_t Get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t Get32(const uint8_t *p)
{
	return (uint32_t)Get16(p) << 16 | Get16(p + 2);
}

Bytes EthFrame(const Mac &dst, const Mac &src, uint16_t type, const Bytes &payload)
{
	Bytes b;

	PutMac(b, dst);
	PutMac(b, src);
	Put16(b, type);
	b.insert(b.end(), payload.begin(), payload.end());
	return b;
}

Bytes ArpPacket(uint16_t op, const Mac &sha, uint32_t sip, const Mac &tha, uint32_t tip)
{
	Bytes b;

	Put16(b, 1);          // Ethernet
	Put16(b, 0x0800);     // IPv4
	b.push_back(6);
	b.push_back(4);
	Put16(b, op);
	PutMac(b, sha);
	Put32(b, sip);
	PutMac(b, tha);
	Put32(b, tip);
	return b;
}

Bytes Ipv4Packet(uint32_t src, uint32_t dst, uint8_t proto, const Bytes &payload,
		 const Ipv4Opts &o)
{
	Bytes b;
	size_t hlen = o.ihl * 4u;
	uint16_t total = o.total_len >= 0 ? (uint16_t)o.total_len
					  : (uint16_t)(hlen + payload.size());

	b.push_back((uint8_t)(o.version << 4 | o.ihl));
	b.push_back(0);
	Put16(b, total);
	Put16(b, o.id);
	Put16(b, o.frag);
	b.push_back(o.ttl);
	b.push_back(proto);
	Put16(b, 0);
	Put32(b, src);
	Put32(b, dst);
	b.resize(hlen > 20 ? hlen : 20, 0);
	uint16_t ck = RefCksum(b.data(), b.size());
	if (o.bad_cksum)
		ck ^= 0x0101;
	b[10] = (uint8_t)(ck >> 8);
	b[11] = (uint8_t)ck;
	b.insert(b.end(), payload.begin(), payload.end());
	return b;
}

Bytes IcmpEcho(uint8_t type, uint16_t ident, uint16_t seq, const Bytes &data)
{
	Bytes b;

	b.push_back(type);
	b.push_back(0);
	Put16(b, 0);
	Put16(b, ident);
	Put16(b, seq);
	b.insert(b.end(), data.begin(), data.end());
	uint16_t ck = RefCksum(b.data(), b.size());
	b[2] = (uint8_t)(ck >> 8);
	b[3] = (uint8_t)ck;
	return b;
}

Bytes Pattern(size_t n, unsigned seed)
{
	Bytes b(n);

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + seed * 101);
	return b;
}

std::vector<Bytes> Ipv4Fragments(uint32_t src, uint32_t dst, uint8_t proto,
				 const Bytes &payload, size_t frag_bytes, uint16_t id)
{
	std::vector<Bytes> out;

	for (size_t off = 0; off < payload.size(); off += frag_bytes) {
		size_t n = std::min(frag_bytes, payload.size() - off);
		bool more = off + n < payload.size();
		Ipv4Opts o;

		o.id = id;
		o.frag = (uint16_t)((more ? 0x2000 : 0) | (off / 8));
		out.push_back(Ipv4Packet(src, dst, proto,
					 Bytes(payload.begin() + (long)off,
					       payload.begin() + (long)(off + n)), o));
	}
	return out;
}

Parsed Parse(const Bytes &f)
{
	Parsed p;

	if (f.size() < 14)
		return p;
	memcpy(p.dst.b, f.data(), 6);
	memcpy(p.src.b, f.data() + 6, 6);
	p.ethertype = Get16(f.data() + 12);
	p.l3.assign(f.begin() + 14, f.end());
	if (p.ethertype == 0x0800 && p.l3.size() >= 20) {
		const uint8_t *ip = p.l3.data();
		size_t hlen = (ip[0] & 0xf) * 4u;

		p.total_len = Get16(ip + 2);
		p.ip_id = Get16(ip + 4);
		p.frag = Get16(ip + 6);
		p.ttl = ip[8];
		p.proto = ip[9];
		p.ip_src = Get32(ip + 12);
		p.ip_dst = Get32(ip + 16);
		p.ip_cksum_ok = hlen <= p.l3.size() && RefCksum(ip, hlen) == 0;
		if (p.total_len >= hlen && p.total_len <= p.l3.size())
			p.l4.assign(p.l3.begin() + (long)hlen, p.l3.begin() + p.total_len);
	}
	if (p.ethertype == 0x0806 && p.l3.size() >= 28) {
		const uint8_t *a = p.l3.data();

		p.arp = Get16(a) == 1 && Get16(a + 2) == 0x0800 && a[4] == 6 && a[5] == 4;
		p.arp_op = Get16(a + 6);
		memcpy(p.sha.b, a + 8, 6);
		p.spa = Get32(a + 14);
		memcpy(p.tha.b, a + 18, 6);
		p.tpa = Get32(a + 24);
	}
	return p;
}

// Blocks allocated from DPDK's heap (rte_malloc, rings, hashes, mempools),
// which LeakSanitizer does not see.
static uint64_t HeapBlocks()
{
	struct rte_malloc_socket_stats st;
	uint64_t n = 0;

	for (unsigned i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			n += st.alloc_count;
	return n;
}

void StackTest::SetUp()
{
	char name[RTE_MEMPOOL_NAMESIZE];
	static unsigned seq;

	heap_blocks_before_ = HeapBlocks();

	snprintf(name, sizeof(name), "test_pool%u", seq++);
	pool_ = rte_pktmbuf_pool_create(name, pool_size_, 0, 0, buf_size_, SOCKET_ID_ANY);
	ASSERT_NE(pool_, nullptr) << rte_strerror(rte_errno);
	dtcp_config_defaults(&cfg_);
	char err[128];
	ASSERT_EQ(dtcp_config_set(&cfg_, "ip", "address", "198.18.0.2/24", err, sizeof(err)), 0);
	ASSERT_EQ(dtcp_config_set(&cfg_, "ip", "gateway", "198.18.0.254", err, sizeof(err)), 0);
	in_use_before_ = rte_mempool_in_use_count(pool_);
}

void StackTest::Start()
{
	char err[256] = "";
	struct rte_ether_addr mac;

	memcpy(mac.addr_bytes, kOurMac.b, 6);
	port_ = dtcp_memport_create(&mac, port_mtu_, pool_, 4096);
	ASSERT_NE(port_, nullptr);
	dtcp_memport_set_offloads(port_, port_tx_offloads_, port_rx_offloads_, port_seg_max_,
				  port_mtu_seg_max_);
	w_ = dtcp_worker_create(&cfg_, port_, 0, now_ns_, err, sizeof(err));
	ASSERT_NE(w_, nullptr) << err;
	Mark();
}

void StackTest::TearDown()
{
	if (w_ != nullptr) {
		// Every frame received ended in exactly one DROP or END counter.
		EXPECT_EQ(Unaccounted(), 0) << "frames received vs frames ended";
		dtcp_worker_destroy(w_);
	}
	dtcp_port_destroy(port_);
	if (pool_ != nullptr) {
		EXPECT_EQ(rte_mempool_in_use_count(pool_), in_use_before_) << "mbuf leak";
		rte_mempool_free(pool_);
	}
	EXPECT_EQ(HeapBlocks(), heap_blocks_before_) << "DPDK heap blocks leaked";
}

void StackTest::InjectOnly(const Bytes &frame)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool_);

	ASSERT_NE(m, nullptr);
	char *p = rte_pktmbuf_append(m, (uint16_t)frame.size());
	ASSERT_NE(p, nullptr) << "frame of " << frame.size() << " bytes does not fit an mbuf";
	if (!frame.empty())
		memcpy(p, frame.data(), frame.size());
	ASSERT_EQ(dtcp_memport_inject(port_, m), 0);
}

void StackTest::Inject(const Bytes &frame)
{
	InjectOnly(frame);
	Poll();
}

void StackTest::Poll()
{
	dtcp_worker_poll(w_, now_ns_);
}

void StackTest::Advance(uint64_t ms)
{
	AdvanceUs(ms * 1000);
}

void StackTest::AdvanceUs(uint64_t us)
{
	now_ns_ += us * 1000;
	Poll();
}

Bytes MbufBytes(const struct rte_mbuf *m)
{
	Bytes b(m->pkt_len);

	// rte_pktmbuf_read returns a pointer into the mbuf when contiguous.
	const void *p = rte_pktmbuf_read(m, 0, m->pkt_len, b.data());
	if (p != nullptr && p != b.data())
		memcpy(b.data(), p, m->pkt_len);
	return b;
}

// The checksums a NIC writes: the IPv4 header's at l3, the TCP segment's at
// l4 of tcp_len bytes (seed: what the NIC adds to the field's partial sum).
static void NicSums(Bytes &f, uint64_t ol, size_t l3, size_t l4, size_t tcp_len, uint32_t seed)
{
	if (ol & RTE_MBUF_F_TX_IP_CKSUM) {
		f[l3 + 10] = f[l3 + 11] = 0;
		uint16_t ck = RefCksum(&f[l3], l4 - l3);
		f[l3 + 10] = (uint8_t)(ck >> 8);
		f[l3 + 11] = (uint8_t)ck;
	}
	if ((ol & RTE_MBUF_F_TX_TCP_SEG) || (ol & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM) {
		uint16_t ck = RefCksum(&f[l4], tcp_len, seed);
		f[l4 + 16] = (uint8_t)(ck >> 8);
		f[l4 + 17] = (uint8_t)ck;
	}
}

std::vector<Bytes> NicTransmit(const struct rte_mbuf *m)
{
	Bytes f = MbufBytes(m);
	uint64_t ol = m->ol_flags;
	size_t l3 = m->l2_len, l4 = l3 + m->l3_len, hdrs = l4 + m->l4_len;
	std::vector<Bytes> out;

	if ((ol & RTE_MBUF_F_TX_OFFLOAD_MASK) == 0) {
		out.push_back(f);
		return out;
	}
	EXPECT_TRUE(ol & RTE_MBUF_F_TX_IPV4) << "offload asked without RTE_MBUF_F_TX_IPV4";
	EXPECT_EQ(m->l2_len, 14u);
	EXPECT_EQ(m->l3_len, 20u);
	if (!(ol & RTE_MBUF_F_TX_TCP_SEG)) {
		if (f.size() >= l4)
			NicSums(f, ol, l3, l4, f.size() - l4, 0);
		out.push_back(f);
		return out;
	}
	EXPECT_GT(m->tso_segsz, 0u);
	EXPECT_GE(m->l4_len, 20u);
	if (m->tso_segsz == 0 || f.size() <= hdrs)
		return out;
	uint16_t id = Get16(&f[l3 + 4]);
	uint32_t seq = Get32(&f[l4 + 4]);
	uint8_t flags = f[l4 + 13];
	for (size_t off = hdrs, i = 0; off < f.size(); off += m->tso_segsz, i++) {
		size_t n = std::min((size_t)m->tso_segsz, f.size() - off);
		bool first = off == hdrs, last = off + n == f.size();
		Bytes s(f.begin(), f.begin() + (long)hdrs);

		s.insert(s.end(), f.begin() + (long)off, f.begin() + (long)(off + n));
		uint16_t total = (uint16_t)(s.size() - l3);
		s[l3 + 2] = (uint8_t)(total >> 8);
		s[l3 + 3] = (uint8_t)total;
		s[l3 + 4] = (uint8_t)((id + i) >> 8);
		s[l3 + 5] = (uint8_t)(id + i);
		uint32_t sq = seq + (uint32_t)(off - hdrs);
		s[l4 + 4] = (uint8_t)(sq >> 24);
		s[l4 + 5] = (uint8_t)(sq >> 16);
		s[l4 + 6] = (uint8_t)(sq >> 8);
		s[l4 + 7] = (uint8_t)sq;
		s[l4 + 13] = (uint8_t)(flags & (last ? 0xff : ~0x09) & (first ? 0xff : ~0x80));
		NicSums(s, ol, l3, l4, s.size() - l4, (uint32_t)(s.size() - l4));
		out.push_back(s);
	}
	return out;
}

std::vector<Bytes> StackTest::TakeTx()
{
	std::vector<Bytes> out;
	struct rte_mbuf *m;

	while (dtcp_memport_take(port_, &m, 1) == 1) {
		uint64_t ol = m->ol_flags;

		// Nothing is asked of the port that it does not do.
		EXPECT_TRUE(!(ol & RTE_MBUF_F_TX_IP_CKSUM) ||
			    (port_tx_offloads_ & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)) << "IPv4 checksum";
		EXPECT_TRUE((ol & RTE_MBUF_F_TX_L4_MASK) != RTE_MBUF_F_TX_TCP_CKSUM ||
			    (port_tx_offloads_ & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)) << "TCP checksum";
		EXPECT_TRUE(!(ol & RTE_MBUF_F_TX_TCP_SEG) ||
			    (port_tx_offloads_ & RTE_ETH_TX_OFFLOAD_TCP_TSO)) << "TSO";
		EXPECT_EQ(ol & RTE_MBUF_F_TX_OFFLOAD_MASK &
			  ~(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM |
			    RTE_MBUF_F_TX_TCP_SEG), 0u) << "an offload dtcp never asks for";
		for (Bytes &b : NicTransmit(m))
			out.push_back(std::move(b));
		rte_pktmbuf_free(m);
	}
	return out;
}

Bytes StackTest::ExpectOneTx()
{
	std::vector<Bytes> tx = TakeTx();

	EXPECT_EQ(tx.size(), 1u) << "frames sent";
	return tx.empty() ? Bytes() : tx[0];
}

void StackTest::ExpectNoTx()
{
	EXPECT_EQ(TakeTx().size(), 0u) << "frames sent";
}

uint64_t StackTest::Ctr(enum dtcp_ctr c) const
{
	return dtcp_worker_counters(w_)[c];
}

int64_t StackTest::Unaccounted() const
{
	const uint64_t *c = dtcp_worker_counters(w_);
	uint64_t ends = 0;

	for (unsigned i = 0; i < DTCP_CTR_MAX; i++)
		if (dtcp_ctr_kind((enum dtcp_ctr)i) == DTCP_CTR_KIND_DROP ||
		    dtcp_ctr_kind((enum dtcp_ctr)i) == DTCP_CTR_KIND_END)
			ends += c[i];
	return (int64_t)(c[DTCP_CTR_rx_frames] - ends);
}

void StackTest::TeachPeer(uint32_t ip, const Mac &mac)
{
	Inject(EthFrame(kBroadcast, mac, 0x0806, ArpPacket(1, mac, ip, Mac{}, kOurIp)));
	std::vector<Bytes> tx = TakeTx();   // our reply
	ASSERT_EQ(tx.size(), 1u);
}

void StackTest::Mark()
{
	const uint64_t *c = dtcp_worker_counters(w_);

	mark_.assign(c, c + DTCP_CTR_MAX);
}

Deltas StackTest::Moved() const
{
	const uint64_t *c = dtcp_worker_counters(w_);
	Deltas d;

	/* Byte counts, the per-flag segment tallies, the copies made by
	 * dtcp_tcp_send_copy and the short payloads sent as copies follow from
	 * the frames and calls a test makes; they are left out of exact
	 * comparisons. */
	for (unsigned i = 0; i < DTCP_CTR_MAX; i++)
		if (c[i] != mark_[i] && i != DTCP_CTR_rx_bytes && i != DTCP_CTR_tx_bytes &&
		    i != DTCP_CTR_tcp_rx_syn && i != DTCP_CTR_tcp_rx_fin &&
		    i != DTCP_CTR_tcp_rx_rst && i != DTCP_CTR_tcp_tx_fin &&
		    i != DTCP_CTR_payload_copies && i != DTCP_CTR_payload_copy_bytes &&
		    i != DTCP_CTR_tcp_tx_copied)
			d[dtcp_ctr_name((enum dtcp_ctr)i)] = c[i] - mark_[i];
	return d;
}

void StackTest::InjectChained(const Bytes &frame, const std::vector<size_t> &cuts)
{
	struct rte_mbuf *head = nullptr;
	size_t from = 0;

	for (size_t i = 0; i <= cuts.size(); i++) {
		size_t to = i < cuts.size() ? cuts[i] : frame.size();
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool_);

		ASSERT_NE(m, nullptr);
		char *p = rte_pktmbuf_append(m, (uint16_t)(to - from));
		ASSERT_NE(p, nullptr);
		memcpy(p, frame.data() + from, to - from);
		if (head == nullptr)
			head = m;
		else
			ASSERT_EQ(rte_pktmbuf_chain(head, m), 0);
		from = to;
	}
	ASSERT_EQ(dtcp_memport_inject(port_, head), 0);
}

Bytes StackTest::Ping(uint32_t src, uint16_t seq, const Bytes &data, const Mac &from,
		      const Ipv4Opts &o)
{
	return EthFrame(kOurMac, from, 0x0800,
			Ipv4Packet(src, kOurIp, 1, IcmpEcho(8, 0x4242, seq, data), o));
}

Bytes StackTest::ArpFrom(uint16_t op, const Mac &sha, uint32_t spa, uint32_t tpa,
			 const Mac &eth_dst, const Mac &tha)
{
	return EthFrame(eth_dst, sha, 0x0806, ArpPacket(op, sha, spa, tha, tpa));
}

Bytes StackTest::ArpReplyFrom(uint32_t ip, const Mac &mac)
{
	return ArpFrom(2, mac, ip, kOurIp, kOurMac, kOurMac);
}

void StackTest::ExpectArpRequest(const Bytes &frame, uint32_t tpa, uint32_t spa)
{
	Parsed p = Parse(frame);

	EXPECT_EQ(frame.size(), 42u) << "ARP request: Ethernet header and 28 bytes";
	EXPECT_EQ(p.dst, kBroadcast) << ToString(p.dst);
	EXPECT_EQ(p.src, kOurMac) << ToString(p.src);
	EXPECT_EQ(p.ethertype, 0x0806);
	EXPECT_TRUE(p.arp) << "Ethernet/IPv4 ARP";
	EXPECT_EQ(p.arp_op, 1);
	EXPECT_EQ(p.sha, kOurMac) << ToString(p.sha);
	EXPECT_EQ(p.spa, spa);
	EXPECT_EQ(p.tha, Mac{}) << ToString(p.tha);
	EXPECT_EQ(p.tpa, tpa);
}

void StackTest::ExpectEchoReply(const Bytes &frame, const Bytes &request_icmp, uint32_t dst,
				const Mac &eth_dst, uint32_t src)
{
	Parsed p = Parse(frame);

	EXPECT_EQ(p.dst, eth_dst) << ToString(p.dst);
	EXPECT_EQ(p.src, kOurMac) << ToString(p.src);
	EXPECT_EQ(p.ethertype, 0x0800);
	ASSERT_GE(p.l3.size(), 20u);
	EXPECT_EQ(p.l3[0], 0x45) << "version 4, no options";
	EXPECT_EQ(p.l3[1], 0) << "TOS";
	EXPECT_EQ(frame.size(), 14u + 20 + request_icmp.size()) << "no padding, nothing trailing";
	EXPECT_EQ(p.total_len, 20 + request_icmp.size());
	EXPECT_TRUE(p.ip_cksum_ok);
	EXPECT_EQ(p.frag, 0) << "DF clear, not a fragment";
	EXPECT_EQ(p.ttl, cfg_.ttl);
	EXPECT_EQ(p.proto, 1);
	EXPECT_EQ(p.ip_src, src);
	EXPECT_EQ(p.ip_dst, dst);
	ExpectEchoBody(p.l4, request_icmp);
}

void StackTest::ExpectEchoBody(const Bytes &reply_icmp, const Bytes &request_icmp)
{
	ASSERT_EQ(reply_icmp.size(), request_icmp.size());
	ASSERT_GE(reply_icmp.size(), 8u);
	EXPECT_EQ(reply_icmp[0], 0) << "echo reply";
	EXPECT_EQ(RefCksum(reply_icmp.data(), reply_icmp.size()), 0) << "ICMP checksum";
	// Everything else is the request's: code, identifier, sequence, data.
	Bytes want = request_icmp, got = reply_icmp;
	want[0] = got[0] = 0;
	want[2] = want[3] = got[2] = got[3] = 0;
	EXPECT_TRUE(want == got) << "ICMP body differs from the request's";
}

std::string ToString(const Deltas &d)
{
	std::string s = "{";

	for (const auto &kv : d)
		s += " " + kv.first + "=" + std::to_string(kv.second);
	return s + " }";
}

::testing::AssertionResult StackTest::Dropped(const Bytes &frame, Deltas moved)
{
	Mark();
	Inject(frame);
	size_t sent = TakeTx().size();
	Deltas got = Moved();

	moved["rx_frames"] += 1;
	if (sent == 0 && got == moved)
		return ::testing::AssertionSuccess();
	::testing::AssertionResult r = ::testing::AssertionFailure();
	if (sent != 0)
		r << sent << " frame(s) sent; ";
	return r << "counters moved " << ToString(got) << ", expected " << ToString(moved);
}

Bytes StackTest::ReassembleReply(const std::vector<Bytes> &frames, uint32_t dst,
				 const Mac &eth_dst, uint32_t src)
{
	Bytes out;
	uint16_t id = 0;

	for (size_t i = 0; i < frames.size(); i++) {
		SCOPED_TRACE("reply fragment " + std::to_string(i));
		Parsed p = Parse(frames[i]);
		bool last = i + 1 == frames.size();

		EXPECT_EQ(p.dst, eth_dst);
		EXPECT_EQ(p.src, kOurMac);
		EXPECT_EQ(p.ethertype, 0x0800);
		EXPECT_LE(p.total_len, 1500) << "within the MTU";
		EXPECT_EQ(frames[i].size(), 14u + p.total_len);
		EXPECT_TRUE(p.ip_cksum_ok);
		EXPECT_EQ(p.l3.empty() ? 0 : p.l3[0], 0x45);
		EXPECT_EQ(p.ip_src, src);
		EXPECT_EQ(p.ip_dst, dst);
		EXPECT_EQ(p.proto, 1);
		EXPECT_EQ(p.ttl, cfg_.ttl);
		if (i == 0)
			id = p.ip_id;
		EXPECT_EQ(p.ip_id, id) << "one datagram, one id";
		EXPECT_EQ(p.frag & 0x4000, 0) << "DF";
		EXPECT_EQ((p.frag & 0x2000) != 0, !last) << "MF on all but the last";
		EXPECT_EQ((p.frag & 0x1fffu) * 8u, out.size()) << "offset";
		if (!last) {
			EXPECT_EQ(p.l4.size() % 8, 0u);
		}
		out.insert(out.end(), p.l4.begin(), p.l4.end());
	}
	return out;
}
