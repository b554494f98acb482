// SPDX-License-Identifier: BSD-3-Clause
// The L3 port under a worker: IP packets in and out without a link layer,
// the worker's ARP requests answered by the port, and every refusal
// counted.
#include <netinet/in.h>

#include "harness.h"

namespace {

const Mac kL3Peer = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x09 } };
constexpr uint32_t kFar = Ip(198, 18, 5, 5);        // off-link: through the gateway
constexpr uint32_t kNear = Ip(198, 18, 0, 7);       // on-link

class L3PortTest : public StackTest {
protected:
	void Start() override
	{
		char err[256] = "";
		struct rte_ether_addr mac, peer;

		memcpy(mac.addr_bytes, kOurMac.b, 6);
		memcpy(peer.addr_bytes, kL3Peer.b, 6);
		port_ = dtcp_l3port_create(&mac, &peer, 1500, pool_, capacity_);
		ASSERT_NE(port_, nullptr);
		dtcp_l3port_set_clock(port_, now_ns_);
		w_ = dtcp_worker_create(&cfg_, port_, 0, now_ns_, err, sizeof(err));
		ASSERT_NE(w_, nullptr) << err;
		Mark();
	}

	static Bytes PingIp(uint32_t src, uint16_t seq)
	{
		return Ipv4Packet(src, kOurIp, IPPROTO_ICMP, IcmpEcho(8, 0x1234, seq, Pattern(32, seq)));
	}

	void InjectIp(const Bytes &ip)
	{
		ASSERT_EQ(dtcp_l3port_inject_ip(port_, ip.data(), ip.size()), 0);
	}

	// The next IP packet the worker sent, read as a frame by the harness's parser.
	Parsed TakeIp(uint64_t *time_ns = nullptr)
	{
		uint8_t buf[2048];
		size_t len = 0;

		EXPECT_EQ(dtcp_l3port_take_ip(port_, buf, sizeof(buf), &len, time_ns), 1);
		return Parse(EthFrame(kOurMac, kL3Peer, 0x0800, Bytes(buf, buf + len)));
	}

	struct dtcp_l3port_stats Stats()
	{
		struct dtcp_l3port_stats s;
		dtcp_l3port_stats(port_, &s);
		return s;
	}

	unsigned capacity_ = 8;
};

// A ping from an off-link host: the worker asks ARP for the gateway, the
// port answers at once, and the next poll sends the reply, Ethernet gone.
TEST_F(L3PortTest, PingOffLink_GatewayArpAnswered_ReplyTakenAsIp)
{
	Start();
	Bytes req = PingIp(kFar, 1);
	InjectIp(req);
	now_ns_ += 5000;
	dtcp_l3port_set_clock(port_, now_ns_);
	Poll();
	EXPECT_EQ(Stats().arp_answered, 1u);
	EXPECT_EQ(dtcp_l3port_pending_rx(port_), 1u);   // the ARP reply, for the worker
	EXPECT_EQ(dtcp_l3port_pending_tx(port_), 0u);   // the echo reply waits on it
	Poll();
	ASSERT_EQ(dtcp_l3port_pending_tx(port_), 1u);
	uint64_t t = 0;
	Parsed p = TakeIp(&t);
	EXPECT_EQ(t, now_ns_);
	EXPECT_EQ(p.ip_src, kOurIp);
	EXPECT_EQ(p.ip_dst, kFar);
	EXPECT_TRUE(p.ip_cksum_ok);
	ExpectEchoBody(p.l4, Bytes(req.begin() + 20, req.end()));
	struct dtcp_l3port_stats s = Stats();
	EXPECT_EQ(s.rx_injected, 1u);
	EXPECT_EQ(s.tx_taken, 1u);
	EXPECT_EQ(s.tx_not_ip, 0u);
	// Two frames in (the ping, the port's ARP reply), two out (the ARP
	// request, the echo reply).
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 2 }, { "tx_frames", 2 }, { "arp_rx", 1 },
				    { "arp_reply_rx", 1 }, { "arp_learned", 1 },
				    { "arp_consumed", 1 }, { "arp_request_tx", 1 },
				    { "ip_rx", 1 }, { "ip_tx", 1 }, { "icmp_rx", 1 },
				    { "icmp_echo_request", 1 }, { "icmp_echo_reply_tx", 1 } }))
		<< ToString(Moved());
}

// Announcements are not answered (nobody else holds our address) and, not
// being IPv4, go nowhere: counted.
TEST_F(L3PortTest, GratuitousArp_NotAnswered_Dropped)
{
	Start();
	dtcp_worker_announce(w_);
	struct dtcp_l3port_stats s = Stats();
	EXPECT_EQ(s.arp_answered, 0u);
	EXPECT_EQ(s.tx_not_ip, 1u);
	EXPECT_EQ(dtcp_l3port_pending_rx(port_), 0u);
	EXPECT_EQ(dtcp_l3port_pending_tx(port_), 0u);
}

TEST_F(L3PortTest, Inject_Refusals_Counted)
{
	Start();
	uint8_t junk[40] = { 0x15 };
	EXPECT_EQ(dtcp_l3port_inject_ip(port_, junk, sizeof(junk)), -EINVAL);
	EXPECT_EQ(dtcp_l3port_inject_ip(port_, junk, 0), -EINVAL);
	Bytes big(1501, 0x45);
	EXPECT_EQ(dtcp_l3port_inject_ip(port_, big.data(), big.size()), -EMSGSIZE);
	for (unsigned i = 0; i < capacity_; i++)
		InjectIp(PingIp(kNear, (uint16_t)i));
	Bytes one_more = PingIp(kNear, 99);
	EXPECT_EQ(dtcp_l3port_inject_ip(port_, one_more.data(), one_more.size()), -ENOBUFS);
	struct dtcp_l3port_stats s = Stats();
	EXPECT_EQ(s.rx_refused_bad, 3u);
	EXPECT_EQ(s.rx_refused_full, 1u);
	EXPECT_EQ(s.rx_injected, capacity_);
	// An IPv6 packet reaches the worker, which drops it for its type.
	Poll();
	Poll();
	while (dtcp_l3port_pending_tx(port_) > 0)
		TakeIp();
	Bytes v6(40, 0);
	v6[0] = 0x60;
	InjectIp(v6);
	Mark();
	Poll();
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "eth_unknown_type", 1 } }))
		<< ToString(Moved());
}

// The harness's buffer too small: the packet is dropped and counted, the
// next one comes out whole; an empty queue says 0.
TEST_F(L3PortTest, Take_TooSmallBuffer_DroppedCounted)
{
	Start();
	InjectIp(PingIp(kNear, 1));
	InjectIp(PingIp(kNear, 2));
	Poll();
	Poll();
	ASSERT_EQ(dtcp_l3port_pending_tx(port_), 2u);
	uint8_t small[20];
	size_t len = 0;
	EXPECT_EQ(dtcp_l3port_take_ip(port_, small, sizeof(small), &len, nullptr), -EMSGSIZE);
	Parsed p = TakeIp();
	EXPECT_EQ(p.ip_dst, kNear);
	EXPECT_EQ(p.l4.size(), 8u + 32u);
	EXPECT_EQ(dtcp_l3port_take_ip(port_, small, sizeof(small), &len, nullptr), 0);
	EXPECT_EQ(Stats().tx_too_big, 1u);
	EXPECT_EQ(Stats().tx_taken, 1u);
}

// A TX queue the harness does not empty refuses like a NIC's: the worker
// counts what it could not send.
TEST_F(L3PortTest, FullTxQueue_WorkerCountsRingFull)
{
	capacity_ = 4;
	Start();
	InjectIp(PingIp(kNear, 1));
	Poll();
	Poll();                         // ARP answered, first reply queued
	ASSERT_EQ(dtcp_l3port_pending_tx(port_), 1u);
	for (uint16_t i = 2; i <= 5; i++)
		InjectIp(PingIp(kNear, i));
	Mark();
	Poll();
	EXPECT_EQ(dtcp_l3port_pending_tx(port_), 4u);
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 4 }, { "ip_rx", 4 }, { "icmp_rx", 4 },
				    { "icmp_echo_request", 4 }, { "icmp_echo_reply_tx", 4 },
				    { "ip_tx", 4 }, { "tx_frames", 3 }, { "tx_ring_full", 1 } }))
		<< ToString(Moved());
	while (dtcp_l3port_pending_tx(port_) > 0)
		TakeIp();
}

}  // namespace
