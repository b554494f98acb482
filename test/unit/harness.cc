// SPDX-License-Identifier: BSD-3-Clause
#include "harness.h"

#include <cstdio>
#include <cstring>

#include <rte_errno.h>

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
	return p;
}

void StackTest::SetUp()
{
	char name[RTE_MEMPOOL_NAMESIZE];
	static unsigned seq;

	snprintf(name, sizeof(name), "test_pool%u", seq++);
	pool_ = rte_pktmbuf_pool_create(name, 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					SOCKET_ID_ANY);
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
	port_ = dtcp_memport_create(&mac, 1500, pool_, 4096);
	ASSERT_NE(port_, nullptr);
	w_ = dtcp_worker_create(&cfg_, port_, 0, now_ns_, err, sizeof(err));
	ASSERT_NE(w_, nullptr) << err;
}

void StackTest::TearDown()
{
	if (w_ != nullptr) {
		// Every frame received ended in exactly one DROP or END counter.
		const uint64_t *c = dtcp_worker_counters(w_);
		uint64_t ends = 0;

		for (unsigned i = 0; i < DTCP_CTR_MAX; i++)
			if (dtcp_ctr_kind((enum dtcp_ctr)i) == DTCP_CTR_KIND_DROP ||
			    dtcp_ctr_kind((enum dtcp_ctr)i) == DTCP_CTR_KIND_END)
				ends += c[i];
		EXPECT_EQ(c[DTCP_CTR_rx_frames], ends) << "frames received vs frames ended";
		dtcp_worker_destroy(w_);
	}
	dtcp_port_destroy(port_);
	if (pool_ != nullptr) {
		EXPECT_EQ(rte_mempool_in_use_count(pool_), in_use_before_) << "mbuf leak";
		rte_mempool_free(pool_);
	}
}

void StackTest::InjectOnly(const Bytes &frame)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool_);

	ASSERT_NE(m, nullptr);
	char *p = rte_pktmbuf_append(m, (uint16_t)frame.size());
	ASSERT_NE(p, nullptr) << "frame of " << frame.size() << " bytes does not fit an mbuf";
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

std::vector<Bytes> StackTest::TakeTx()
{
	std::vector<Bytes> out;
	struct rte_mbuf *m;

	while (dtcp_memport_take(port_, &m, 1) == 1) {
		Bytes b(m->pkt_len);

		// rte_pktmbuf_read returns a pointer into the mbuf when contiguous.
		const void *p = rte_pktmbuf_read(m, 0, m->pkt_len, b.data());
		if (p != b.data())
			memcpy(b.data(), p, m->pkt_len);
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

void StackTest::TeachPeer(uint32_t ip, const Mac &mac)
{
	Inject(EthFrame(kBroadcast, mac, 0x0806, ArpPacket(1, mac, ip, Mac{}, kOurIp)));
	std::vector<Bytes> tx = TakeTx();   // our reply
	ASSERT_EQ(tx.size(), 1u);
}
