// SPDX-License-Identifier: BSD-3-Clause
// The worker loop: bursts, a full TX queue, an empty mbuf pool, counter
// metadata, tear-down with work in flight, and seeded junk that must break
// nothing.
#include "harness.h"

#include <cctype>
#include <random>
#include <set>

#include "net/net.h"

namespace {

class WorkerTest : public StackTest {
protected:
	void TearDown() override
	{
		ReleaseHeld();
		StackTest::TearDown();
	}

	// Take mbufs from the pool until only leave are free.
	void HoldAllBut(unsigned leave)
	{
		while (rte_mempool_avail_count(pool_) > leave) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool_);
			ASSERT_NE(m, nullptr);
			held_.push_back(m);
		}
	}

	void ReleaseHeld()
	{
		for (struct rte_mbuf *m : held_)
			rte_pktmbuf_free(m);
		held_.clear();
	}

	std::vector<struct rte_mbuf *> held_;
};

// --- Bursts and the TX queue ------------------------------------------------------

TEST_F(WorkerTest, Worker_Poll_TakesAtMostBurstFrames)
{
	cfg_.burst = 4;
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	for (uint16_t seq = 0; seq < 10; seq++)
		InjectOnly(Ping(kPeerIp, seq));

	for (unsigned want : { 4, 4, 2, 0 }) {
		EXPECT_EQ(dtcp_worker_poll(w_, now_ns_), want);
		EXPECT_EQ(TakeTx().size(), want) << "each burst answered before the next";
	}
}

TEST_F(WorkerTest, Worker_RxTxBytes_CountWholeFrames)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	uint64_t rx = Ctr(DTCP_CTR_rx_bytes), tx = Ctr(DTCP_CTR_tx_bytes);
	Bytes ping = Ping(kPeerIp, 1, Pattern(100));
	ping.resize(ping.size() + 6, 0);    // padding counts as received, not as sent

	Inject(ping);
	Bytes reply = ExpectOneTx();
	EXPECT_EQ(Ctr(DTCP_CTR_rx_bytes) - rx, ping.size());
	EXPECT_EQ(Ctr(DTCP_CTR_tx_bytes) - tx, reply.size());
	EXPECT_EQ(reply.size(), ping.size() - 6);
}

TEST_F(WorkerTest, Worker_TxQueueFull_RefusedFramesCountedAndFreed)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	uint64_t tx_bytes = Ctr(DTCP_CTR_tx_bytes);
	dtcp_memport_set_tx_limit(port_, 1);

	Mark();
	for (uint16_t seq = 1; seq <= 5; seq++)
		InjectOnly(Ping(kPeerIp, seq));
	Poll();
	// The flush offers five, the port takes one; one retry takes one more.
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 2u);
	ExpectEchoReply(tx[0], IcmpEcho(8, 0x4242, 1, Bytes()));
	ExpectEchoReply(tx[1], IcmpEcho(8, 0x4242, 2, Bytes()));
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 5 }, { "ip_rx", 5 }, { "icmp_rx", 5 },
				    { "icmp_echo_request", 5 }, { "icmp_echo_reply_tx", 5 },
				    { "ip_tx", 5 }, { "tx_frames", 2 }, { "tx_ring_full", 3 } }));
	EXPECT_EQ(Ctr(DTCP_CTR_tx_bytes) - tx_bytes, tx[0].size() + tx[1].size());
	EXPECT_EQ(dtcp_memport_tx_dropped(port_), 7u) << "4 refused at the first offer, 3 at the retry";

	// A queue with room again sends everything.
	dtcp_memport_set_tx_limit(port_, 0);
	for (uint16_t seq = 6; seq <= 8; seq++)
		InjectOnly(Ping(kPeerIp, seq));
	Poll();
	EXPECT_EQ(TakeTx().size(), 3u);
}

// --- An empty mbuf pool ----------------------------------------------------------------

TEST_F(WorkerTest, Worker_PoolEmpty_ArpReplyNotBuiltPeerStillLearned)
{
	Start();
	HoldAllBut(1);
	Mark();
	Inject(ArpFrom(1, kPeerMac, kPeerIp, kOurIp));    // takes the last mbuf
	ExpectNoTx();
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "arp_rx", 1 }, { "arp_learned", 1 },
				    { "arp_request_rx", 1 }, { "mbuf_alloc_fail", 1 },
				    { "arp_consumed", 1 } }));
	EXPECT_EQ(dtcp_arp_lookup(w_, kPeerIp, nullptr), 1);

	ReleaseHeld();
	Inject(ArpFrom(1, kPeerMac, kPeerIp, kOurIp));
	EXPECT_EQ(Parse(ExpectOneTx()).arp_op, 2);
}

TEST_F(WorkerTest, Worker_PoolEmpty_ArpRequestRetriedWhenMbufsReturn)
{
	cfg_.arp_retry_ms = 100;
	Start();
	HoldAllBut(1);
	Mark();
	Inject(Ping(kPeerIp, 1));    // the reply waits on ARP; the request finds no mbuf
	ExpectNoTx();
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "icmp_rx", 1 },
				    { "icmp_echo_request", 1 }, { "icmp_echo_reply_tx", 1 },
				    { "ip_tx", 1 }, { "mbuf_alloc_fail", 1 } }));

	ReleaseHeld();
	Advance(cfg_.arp_retry_ms);
	ExpectArpRequest(ExpectOneTx(), kPeerIp);
	Inject(ArpReplyFrom(kPeerIp, kPeerMac));
	ExpectEchoReply(ExpectOneTx(), IcmpEcho(8, 0x4242, 1, Bytes()));
}

TEST_F(WorkerTest, Worker_PoolNearlyEmpty_FragmentedReplyFailsCleanly)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Bytes icmp = IcmpEcho(8, 1, 1, Pattern(4000 - 8));
	for (const Bytes &ip : Ipv4Fragments(kPeerIp, kOurIp, 1, icmp, 1480, 3))
		InjectOnly(EthFrame(kOurMac, kPeerMac, 0x0800, ip));
	// Room for the first fragment of the reply but not for all three.
	HoldAllBut(2);
	Mark();
	Poll();
	ExpectNoTx();
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 3 }, { "ip_rx", 3 }, { "ip_frag_rx", 3 },
				    { "ip_frag_held", 2 }, { "ip_reassembled", 1 }, { "icmp_rx", 1 },
				    { "icmp_echo_request", 1 }, { "icmp_echo_reply_tx", 1 },
				    { "ip_tx", 1 }, { "ip_frag_tx_fail", 1 } }));
	EXPECT_EQ(rte_mempool_avail_count(pool_), 2u + 3u) << "the request's mbufs came back";
}

// --- Tear-down and creation ------------------------------------------------------------

TEST_F(WorkerTest, Worker_Destroy_FreesQueuedAndHeldMbufs)
{
	Start();
	Inject(Ping(kPeerIp, 1));                          // waits on ARP
	Bytes icmp = IcmpEcho(8, 1, 1, Pattern(3000));
	Inject(EthFrame(kOurMac, kPeerMac, 0x0800,         // waits on its other fragments
			Ipv4Fragments(kPeerIp, kOurIp, 1, icmp, 1480, 4)[0]));
	TakeTx();
	EXPECT_EQ(Unaccounted(), 0);
	EXPECT_EQ(rte_mempool_in_use_count(pool_), in_use_before_ + 2);

	dtcp_worker_destroy(w_);
	w_ = nullptr;
	EXPECT_EQ(rte_mempool_in_use_count(pool_), in_use_before_);
}

TEST_F(WorkerTest, Worker_Create_InvalidConfig_RefusedWithReason)
{
	char err[256] = "";
	struct rte_ether_addr mac = {};

	port_ = dtcp_memport_create(&mac, 1500, pool_, 64);
	ASSERT_NE(port_, nullptr);
	cfg_.burst = 0;
	EXPECT_EQ(dtcp_worker_create(&cfg_, port_, 0, now_ns_, err, sizeof(err)), nullptr);
	EXPECT_NE(std::string(err).find("burst"), std::string::npos) << err;
}

// --- Counters ------------------------------------------------------------------------------

TEST_F(WorkerTest, Worker_CounterMetadata_FromTheList)
{
	EXPECT_STREQ(dtcp_ctr_name(DTCP_CTR_rx_frames), "rx_frames");
	EXPECT_STREQ(dtcp_ctr_name(DTCP_CTR_ip_bad_checksum), "ip_bad_checksum");
	EXPECT_STREQ(dtcp_ctr_desc(DTCP_CTR_ip_bad_checksum),
		     "IPv4 packets with a bad header checksum");
	EXPECT_EQ(dtcp_ctr_kind(DTCP_CTR_rx_frames), DTCP_CTR_KIND_EVENT);
	EXPECT_EQ(dtcp_ctr_kind(DTCP_CTR_eth_too_short), DTCP_CTR_KIND_DROP);
	EXPECT_EQ(dtcp_ctr_kind(DTCP_CTR_icmp_echo_request), DTCP_CTR_KIND_END);
	EXPECT_EQ(dtcp_ctr_kind(DTCP_CTR_tx_ring_full), DTCP_CTR_KIND_TXDROP);
	EXPECT_STREQ(dtcp_ctr_name(DTCP_CTR_MAX), "?");
	EXPECT_STREQ(dtcp_ctr_desc(DTCP_CTR_MAX), "?");
}

TEST_F(WorkerTest, Worker_EveryCounter_NamedUniquelyAndDescribed)
{
	std::set<std::string> names;

	for (unsigned i = 0; i < DTCP_CTR_MAX; i++) {
		std::string name = dtcp_ctr_name((enum dtcp_ctr)i);
		SCOPED_TRACE(name);
		EXPECT_FALSE(name.empty());
		for (char c : name)
			EXPECT_TRUE(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '_');
		EXPECT_TRUE(names.insert(name).second) << "duplicate";
		EXPECT_GT(strlen(dtcp_ctr_desc((enum dtcp_ctr)i)), 10u);
	}
	EXPECT_EQ(names.size(), (size_t)DTCP_CTR_MAX);
}

// --- Junk ---------------------------------------------------------------------------------------

class WorkerFuzz : public WorkerTest {
protected:
	void SetUp() override
	{
		WorkerTest::SetUp();
		// Small bounds and short times, so that junk also fills and empties them.
		cfg_.arp_entries = 16;
		cfg_.arp_pending_max = 32;
		cfg_.arp_retry_ms = 5;
		cfg_.arp_reachable_ms = 1000;
		cfg_.frag_max_flows = 8;
		cfg_.frag_timeout_ms = 20;
	}

	// Inject up to a burst of frames, run, drop what was sent, let time pass.
	void Run(std::mt19937 &rng, const std::vector<Bytes> &frames)
	{
		for (const Bytes &f : frames)
			InjectOnly(f);
		Poll();
		TakeTx();
		AdvanceUs(rng() % 4000);
		TakeTx();
		ASSERT_EQ(Unaccounted(), 0) << "after frame " << Ctr(DTCP_CTR_rx_frames);
	}

	static Bytes RandomBytes(std::mt19937 &rng, size_t n)
	{
		Bytes b(n);
		for (uint8_t &x : b)
			x = (uint8_t)rng();
		return b;
	}

	// Make the IPv4 header checksum (and optionally the ICMP one) right
	// again, so that mutations reach the layers behind it.
	static void FixChecksums(Bytes &f, bool icmp_too)
	{
		if (f.size() < 34 || f[12] != 0x08 || f[13] != 0x00)
			return;
		size_t hlen = (f[14] & 0xf) * 4u;
		if (hlen < 20 || f.size() < 14 + hlen)
			return;
		f[24] = f[25] = 0;
		uint16_t ck = RefCksum(&f[14], hlen);
		f[24] = (uint8_t)(ck >> 8);
		f[25] = (uint8_t)ck;
		size_t at = 14 + hlen;
		if (icmp_too && f[23] == 1 && f.size() >= at + 4) {
			f[at + 2] = f[at + 3] = 0;
			ck = RefCksum(&f[at], f.size() - at);
			f[at + 2] = (uint8_t)(ck >> 8);
			f[at + 3] = (uint8_t)ck;
		}
	}
};

TEST_F(WorkerFuzz, Worker_RandomFrames_NoCrashNoLeakEveryFrameAccounted)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	std::mt19937 rng(20240601);
	const int kFrames = 20000;

	for (int sent = 0; sent < kFrames;) {
		std::vector<Bytes> burst;
		for (unsigned n = 1 + rng() % 40; n > 0 && sent < kFrames; n--, sent++) {
			Bytes f = RandomBytes(rng, rng() % 1515);
			// Most junk is for us, in a type we speak, and some of it starts
			// like a real header, so it gets past the first checks.
			if (f.size() >= 14 && rng() % 4 != 0) {
				memcpy(f.data(), rng() % 3 ? kOurMac.b : kBroadcast.b, 6);
				f[6] &= 0xfe;
				f[12] = 0x08;
				f[13] = rng() % 3 ? 0x00 : 0x06;
			}
			if (f.size() >= 34 && f[13] == 0x00 && rng() % 2) {
				f[14] = (uint8_t)(0x45 + (rng() % 4 == 0 ? rng() % 11 : 0));
				if (rng() % 2)
					memcpy(&f[30], "\xc6\x12\x00\x02", 4);    // to our address
				if (rng() % 2) {    // a total length that fits the frame
					uint16_t len = (uint16_t)(rng() % (f.size() - 13));
					f[16] = (uint8_t)(len >> 8);
					f[17] = (uint8_t)len;
				}
				FixChecksums(f, rng() % 2);
			}
			if (f.size() >= 22 && f[13] == 0x06 && rng() % 2)
				memcpy(&f[14], rng() % 2 ? "\x00\x01\x08\x00\x06\x04\x00\x01"
							  : "\x00\x01\x08\x00\x06\x04\x00\x02", 8);
			burst.push_back(f);
		}
		Run(rng, burst);
		if (HasFatalFailure())
			return;
	}
	EXPECT_EQ(Ctr(DTCP_CTR_rx_frames), (uint64_t)kFrames + 1);
}

TEST_F(WorkerFuzz, Worker_MutatedValidFrames_NoCrashNoLeakEveryFrameAccounted)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	std::mt19937 rng(7);
	const uint32_t host = Ip(198, 18, 0, 77);
	std::vector<Bytes> templates = {
		Ping(kPeerIp, 1),
		Ping(kPeerIp, 2, Pattern(1472)),
		Ping(host, 3, Pattern(56), Mac{ { 0x02, 0, 0, 0, 0, 77 } }),
		ArpFrom(1, kPeerMac, kPeerIp, kOurIp),
		ArpReplyFrom(host, Mac{ { 0x02, 0, 0, 0, 0, 77 } }),
		ArpFrom(1, kPeerMac, kPeerIp, Ip(198, 18, 0, 9)),
	};
	Ipv4Opts opts;
	opts.ihl = 7;
	templates.push_back(EthFrame(kOurMac, kPeerMac, 0x0800,
				     Ipv4Packet(kPeerIp, kOurIp, 1, IcmpEcho(8, 5, 5, Pattern(30)), opts)));
	for (const Bytes &ip : Ipv4Fragments(kPeerIp, kOurIp, 1, IcmpEcho(8, 9, 9, Pattern(3000)),
					     1480, 9))
		templates.push_back(EthFrame(kOurMac, kPeerMac, 0x0800, ip));
	Bytes quote = Ipv4Packet(kOurIp, kPeerIp, 6, Pattern(8));
	templates.push_back(EthFrame(kOurMac, kPeerMac, 0x0800,
				     Ipv4Packet(kPeerIp, kOurIp, 1, IcmpEcho(3, 0, 0, quote))));

	const int kFrames = 20000;
	for (int sent = 0; sent < kFrames;) {
		std::vector<Bytes> burst;
		for (unsigned n = 1 + rng() % 40; n > 0 && sent < kFrames; n--, sent++) {
			Bytes f = templates[rng() % templates.size()];
			for (unsigned k = rng() % 4; k > 0; k--) {
				switch (rng() % 5) {
				case 0:    // one bit
					if (!f.empty())
						f[rng() % f.size()] ^= (uint8_t)(1u << (rng() % 8));
					break;
				case 1:    // one byte, anywhere past the MACs
					if (f.size() > 12)
						f[12 + rng() % (f.size() - 12)] = (uint8_t)rng();
					break;
				case 2:    // cut short
					f.resize(rng() % (f.size() + 1));
					break;
				case 3:    // grown, as padding or junk
					if (f.size() < 1514) {
						Bytes more = RandomBytes(rng, rng() % (1515 - f.size()));
						f.insert(f.end(), more.begin(), more.end());
					}
					break;
				default:   // the IP id, so fragments of different datagrams meet
					if (f.size() > 19)
						f[19] = (uint8_t)(rng() % 4);
					break;
				}
			}
			if (rng() % 2)
				FixChecksums(f, rng() % 2);
			burst.push_back(f);
		}
		Run(rng, burst);
		if (HasFatalFailure())
			return;
	}
	EXPECT_GT(Ctr(DTCP_CTR_icmp_echo_request), 0u) << "some mutants still got answered";
	EXPECT_GT(Ctr(DTCP_CTR_ip_reassembled), 0u) << "and some reassembled";
}

} // namespace

namespace {

class WorkerTimers : public StackTest {};

// Timers past the budget are not lost and do not wait a tick: the next
// poll, at the same time, goes on with them.
TEST_F(WorkerTimers, Worker_TimerBudgetSpent_RestFireOnNextPollSameTick)
{
	cfg_.timer_budget = 1;
	Start();
	const uint32_t a = Ip(198, 18, 0, 21), b = Ip(198, 18, 0, 22);
	Inject(Ping(a, 1));
	Inject(Ping(b, 1));
	std::vector<Bytes> first = TakeTx();
	ASSERT_EQ(first.size(), 2u) << "one ARP request per unresolved peer";

	// Both retries are due at the same tick, in no promised order.
	Advance(cfg_.arp_retry_ms);
	std::vector<Bytes> retry = TakeTx();
	ASSERT_EQ(retry.size(), 1u) << "budget of one timer per poll";
	uint32_t first_tpa = Parse(retry[0]).tpa;
	ASSERT_TRUE(first_tpa == a || first_tpa == b);
	ExpectArpRequest(retry[0], first_tpa);
	Poll();
	retry = TakeTx();
	ASSERT_EQ(retry.size(), 1u) << "the rest at the next poll, same tick";
	ExpectArpRequest(retry[0], first_tpa == a ? b : a);
	Poll();
	ExpectNoTx();
	EXPECT_EQ(Ctr(DTCP_CTR_arp_request_tx), 4u);
}

} // namespace
