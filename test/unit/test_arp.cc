// SPDX-License-Identifier: BSD-3-Clause
// Ethernet input and ARP (RFC 826): answering, learning, resolving with
// retries and bounded queues, expiry, announcements, and every drop reason.
#include "harness.h"

#include <cerrno>

#include "net/net.h"

namespace {

// A host on our /24, 02:00:00:00:00:<last>.
Mac HostMac(uint8_t last)
{
	return Mac{ { 0x02, 0x00, 0x00, 0x00, 0x00, last } };
}

class ArpTest : public StackTest {
protected:
	// 1 and the MAC when resolved, 0 while resolving, -ENOENT when unknown.
	int Lookup(uint32_t ip, Mac *mac = nullptr)
	{
		struct rte_ether_addr a;
		int rc = dtcp_arp_lookup(w_, ip, &a);

		if (rc == 1 && mac != nullptr)
			memcpy(mac->b, a.addr_bytes, 6);
		return rc;
	}

	// Echo replies in frames, checked against the requests with these sequence numbers.
	void ExpectEchoReplies(const std::vector<Bytes> &frames, uint16_t first_seq, unsigned n,
			       uint32_t dst, const Mac &mac)
	{
		ASSERT_EQ(frames.size(), n);
		for (unsigned i = 0; i < n; i++) {
			SCOPED_TRACE("reply " + std::to_string(i));
			ExpectEchoReply(frames[i], IcmpEcho(8, 0x4242, (uint16_t)(first_seq + i), Bytes()),
					dst, mac);
		}
	}
};

// --- Ethernet -------------------------------------------------------------

TEST_F(ArpTest, Eth_ShorterThanHeader_TooShort)
{
	Start();
	Bytes full = ArpFrom(1, kPeerMac, kPeerIp, kOurIp);

	EXPECT_TRUE(Dropped(Bytes(), { { "eth_too_short", 1 } }));
	EXPECT_TRUE(Dropped(Bytes(full.begin(), full.begin() + 1), { { "eth_too_short", 1 } }));
	EXPECT_TRUE(Dropped(Bytes(full.begin(), full.begin() + 13), { { "eth_too_short", 1 } }));
}

TEST_F(ArpTest, Eth_OtherUnicastDst_NotForUs)
{
	Start();
	// A request for our IP, but sent to another station's MAC.
	EXPECT_TRUE(Dropped(ArpFrom(1, kPeerMac, kPeerIp, kOurIp, HostMac(9)),
			    { { "eth_not_for_us", 1 } }));
	Bytes ping = Ping(kPeerIp, 1);
	ping[5] ^= 0x80;    // our MAC but for one bit
	EXPECT_TRUE(Dropped(ping, { { "eth_not_for_us", 1 } }));
	EXPECT_EQ(Lookup(kPeerIp), -ENOENT);
}

TEST_F(ArpTest, Eth_MulticastDst_NotForUs)
{
	Start();
	const Mac ipv4_mcast = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 } };
	const Mac ipv6_mcast = { { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } };

	EXPECT_TRUE(Dropped(ArpFrom(1, kPeerMac, kPeerIp, kOurIp, ipv4_mcast),
			    { { "eth_not_for_us", 1 } }));
	EXPECT_TRUE(Dropped(ArpFrom(1, kPeerMac, kPeerIp, kOurIp, ipv6_mcast),
			    { { "eth_not_for_us", 1 } }));
}

TEST_F(ArpTest, Eth_GroupOrZeroSourceMac_SrcBogus)
{
	Start();
	const Mac sources[] = {
		{ { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 } },
		kBroadcast,
		Mac{},
	};

	for (const Mac &src : sources) {
		SCOPED_TRACE(ToString(src));
		Bytes f = ArpFrom(1, kPeerMac, kPeerIp, kOurIp);
		memcpy(f.data() + 6, src.b, 6);
		EXPECT_TRUE(Dropped(f, { { "eth_src_bogus", 1 } }));
	}
	EXPECT_EQ(Lookup(kPeerIp), -ENOENT);
}

TEST_F(ArpTest, Eth_UnknownEtherType_Dropped)
{
	Start();
	Bytes ip = Ipv4Packet(kPeerIp, kOurIp, 1, IcmpEcho(8, 1, 1, Bytes()));

	for (uint16_t type : { 0x86dd, 0x8100, 0x88cc, 0x0000 }) {
		SCOPED_TRACE(type);
		EXPECT_TRUE(Dropped(EthFrame(kOurMac, kPeerMac, type, ip),
				    { { "eth_unknown_type", 1 } }));
	}
}

// RFC 1122 §3.3.6: a unicast datagram that came as a link-layer broadcast.
TEST_F(ArpTest, Eth_Ipv4InLinkBroadcast_Dropped)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Bytes ping = Ping(kPeerIp, 3);
	memcpy(ping.data(), kBroadcast.b, 6);
	EXPECT_TRUE(Dropped(ping, { { "eth_bcast_ip", 1 } }));
}

// A frame in several mbufs (LRO, scattered RX) is read in place: its
// headers must sit in the first; the rest may be cut anywhere.
TEST_F(ArpTest, Eth_MultiSegmentFrame_HeadersInFirst_Answered)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Bytes icmp = IcmpEcho(8, 0x4242, 1, Pattern(101));
	Mark();
	InjectChained(EthFrame(kOurMac, kPeerMac, 0x0800, Ipv4Packet(kPeerIp, kOurIp, 1, icmp)),
		      { 42, 45, 80 });
	Poll();
	ExpectEchoReply(ExpectOneTx(), icmp);
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "icmp_rx", 1 },
				    { "icmp_echo_request", 1 }, { "icmp_echo_reply_tx", 1 },
				    { "ip_tx", 1 }, { "tx_frames", 1 } }));
}

TEST_F(ArpTest, Eth_MultiSegmentFrame_EthernetHeaderCut_Dropped)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Mark();
	InjectChained(Ping(kPeerIp, 1, Pattern(100)), { 10 });
	Poll();
	ExpectNoTx();
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "eth_hdr_split", 1 } }));
}

TEST_F(ArpTest, Eth_MultiSegmentFrame_Ipv4HeaderCut_Dropped)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	for (size_t cut : { 20, 33 }) {
		SCOPED_TRACE("cut at " + std::to_string(cut));
		Mark();
		InjectChained(Ping(kPeerIp, 1, Pattern(100)), { cut });
		Poll();
		ExpectNoTx();
		EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 },
					    { "ip_hdr_split", 1 } }));
	}
}

// Ethernet padding trimmed off a chain, even where a later mbuf holds only padding.
TEST_F(ArpTest, Eth_MultiSegmentFrame_PaddingInLastMbuf_Trimmed)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Bytes icmp = IcmpEcho(8, 0x4242, 1, Pattern(4));
	Bytes frame = EthFrame(kOurMac, kPeerMac, 0x0800, Ipv4Packet(kPeerIp, kOurIp, 1, icmp));
	size_t end = frame.size();
	frame.resize(60, 0);
	Mark();
	InjectChained(frame, { 42, end });
	Poll();
	ExpectEchoReply(ExpectOneTx(), icmp);
	EXPECT_EQ(Moved()["ip_padding_trimmed"], 1u);
}

// --- ARP: answering and learning (RFC 826 "Packet Reception") --------------

TEST_F(ArpTest, Arp_RequestForUs_RepliedAndLearned)
{
	Start();
	Bytes req = ArpFrom(1, kPeerMac, kPeerIp, kOurIp);
	req.resize(60, 0);    // padded to the Ethernet minimum, as on the wire
	Inject(req);

	// Every byte: to the requester, from us, ARP; op 2, we are the sender,
	// the requester the target.
	Bytes want = EthFrame(kPeerMac, kOurMac, 0x0806,
			      ArpPacket(2, kOurMac, kOurIp, kPeerMac, kPeerIp));
	Bytes got = ExpectOneTx();
	EXPECT_TRUE(got == want) << "reply differs from the expected 42 bytes";
	Parsed p = Parse(got);
	EXPECT_EQ(p.dst, kPeerMac);
	EXPECT_EQ(p.arp_op, 2);
	EXPECT_EQ(p.spa, kOurIp);
	EXPECT_EQ(p.tpa, kPeerIp);

	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "arp_rx", 1 }, { "arp_learned", 1 },
				    { "arp_request_rx", 1 }, { "arp_reply_tx", 1 },
				    { "arp_consumed", 1 }, { "tx_frames", 1 } }));
	Mac mac;
	EXPECT_EQ(Lookup(kPeerIp, &mac), 1);
	EXPECT_EQ(mac, kPeerMac);

	// Learned: a ping from the requester is answered at once, no request first.
	Inject(Ping(kPeerIp, 7));
	ExpectEchoReply(ExpectOneTx(), IcmpEcho(8, 0x4242, 7, Bytes()));
	EXPECT_EQ(Ctr(DTCP_CTR_arp_request_tx), 0u);
}

TEST_F(ArpTest, Arp_UnicastRequestForUs_Replied)
{
	Start();
	Inject(ArpFrom(1, kPeerMac, kPeerIp, kOurIp, kOurMac));
	Parsed p = Parse(ExpectOneTx());
	EXPECT_EQ(p.arp_op, 2);
	EXPECT_EQ(p.dst, kPeerMac);
	EXPECT_EQ(Lookup(kPeerIp), 1);
}

TEST_F(ArpTest, Arp_RequestForAnotherAddress_NotForUsNothingLearned)
{
	Start();
	EXPECT_TRUE(Dropped(ArpFrom(1, kPeerMac, kPeerIp, Ip(198, 18, 0, 3)),
			    { { "arp_rx", 1 }, { "arp_not_for_us", 1 } }));
	EXPECT_EQ(Lookup(kPeerIp), -ENOENT);
}

TEST_F(ArpTest, Arp_RequestForAnotherAddress_KnownSenderMacUpdated)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	const Mac moved = HostMac(0x77);

	// RFC 826: the merge happens before the target is looked at.
	EXPECT_TRUE(Dropped(ArpFrom(1, moved, kPeerIp, Ip(198, 18, 0, 3)),
			    { { "arp_rx", 1 }, { "arp_updated", 1 }, { "arp_consumed", 1 } }));
	Mac mac;
	EXPECT_EQ(Lookup(kPeerIp, &mac), 1);
	EXPECT_EQ(mac, moved);
	Inject(Ping(kPeerIp, 1, Bytes(), moved));
	ExpectEchoReply(ExpectOneTx(), IcmpEcho(8, 0x4242, 1, Bytes()), kPeerIp, moved);
}

TEST_F(ArpTest, Arp_UnsolicitedReplyForUs_Learned)
{
	Start();
	EXPECT_TRUE(Dropped(ArpReplyFrom(kPeerIp, kPeerMac),
			    { { "arp_rx", 1 }, { "arp_learned", 1 }, { "arp_reply_rx", 1 },
			      { "arp_consumed", 1 } }));
	EXPECT_EQ(Lookup(kPeerIp), 1);
}

// --- ARP: resolving a next hop ---------------------------------------------

TEST_F(ArpTest, Arp_ReplyToUnknownPeer_OneBroadcastRequest)
{
	Start();
	Inject(Ping(kPeerIp, 1));
	ExpectArpRequest(ExpectOneTx(), kPeerIp);
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "icmp_rx", 1 },
				    { "icmp_echo_request", 1 }, { "icmp_echo_reply_tx", 1 },
				    { "ip_tx", 1 }, { "arp_request_tx", 1 }, { "tx_frames", 1 } }));
	EXPECT_EQ(Lookup(kPeerIp), 0) << "resolving";

	// More packets to the same hop wait on the same request.
	Inject(Ping(kPeerIp, 2));
	ExpectNoTx();
	EXPECT_EQ(dtcp_arp_pending_total(w_), 2u);
}

TEST_F(ArpTest, Arp_ReplyCompletesResolution_QueuedPacketsLeaveInOrder)
{
	Start();
	for (uint16_t seq = 1; seq <= 3; seq++)
		Inject(Ping(kPeerIp, seq));
	ExpectArpRequest(ExpectOneTx(), kPeerIp);

	Mark();
	Inject(ArpReplyFrom(kPeerIp, kPeerMac));
	ExpectEchoReplies(TakeTx(), 1, 3, kPeerIp, kPeerMac);
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "arp_rx", 1 }, { "arp_learned", 1 },
				    { "arp_reply_rx", 1 }, { "arp_consumed", 1 },
				    { "tx_frames", 3 } }));
	EXPECT_EQ(dtcp_arp_pending_total(w_), 0u);
}

TEST_F(ArpTest, Arp_RequestFromHopBeingResolved_CompletesResolution)
{
	Start();
	Inject(Ping(kPeerIp, 1));
	ExpectArpRequest(ExpectOneTx(), kPeerIp);
	// The peer asks for us before (or instead of) answering: RFC 826 merges
	// its address, so what waited leaves, then the answer to its request.
	Inject(ArpFrom(1, kPeerMac, kPeerIp, kOurIp));
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 2u);
	ExpectEchoReply(tx[0], IcmpEcho(8, 0x4242, 1, Bytes()));
	EXPECT_EQ(Parse(tx[1]).arp_op, 2);
	EXPECT_EQ(Ctr(DTCP_CTR_arp_learned), 1u);
	EXPECT_EQ(Lookup(kPeerIp), 1);
}

TEST_F(ArpTest, Arp_Unresolved_RequestRetriedEveryRetryMs)
{
	cfg_.arp_retry_ms = 250;
	cfg_.arp_retries = 4;
	Start();
	Inject(Ping(kPeerIp, 1));
	ExpectArpRequest(ExpectOneTx(), kPeerIp);
	for (unsigned i = 1; i < cfg_.arp_retries; i++) {
		SCOPED_TRACE("retry " + std::to_string(i));
		Advance(cfg_.arp_retry_ms - 1);
		ExpectNoTx();
		Advance(1);
		ExpectArpRequest(ExpectOneTx(), kPeerIp);
	}
	EXPECT_EQ(Ctr(DTCP_CTR_arp_request_tx), 4u);

	// An answer before giving up still delivers what waited.
	Inject(ArpReplyFrom(kPeerIp, kPeerMac));
	ExpectEchoReplies(TakeTx(), 1, 1, kPeerIp, kPeerMac);
}

TEST_F(ArpTest, Arp_Unresolved_RetryNeverEarlyBetweenTicks)
{
	cfg_.arp_retry_ms = 100;
	Start();
	AdvanceUs(500);    // the clock is rarely on a tick boundary
	Inject(Ping(kPeerIp, 1));
	ExpectArpRequest(ExpectOneTx(), kPeerIp);
	AdvanceUs(cfg_.arp_retry_ms * 1000 - 1);
	ExpectNoTx();
	// Late by at most one tick (1 ms).
	Advance(1);
	ExpectArpRequest(ExpectOneTx(), kPeerIp);
}

TEST_F(ArpTest, Arp_NoAnswerAfterRetries_PendingDroppedEntryGone)
{
	cfg_.arp_retry_ms = 200;
	cfg_.arp_retries = 3;
	Start();
	Inject(Ping(kPeerIp, 1));
	Inject(Ping(kPeerIp, 2));
	Advance(cfg_.arp_retry_ms);
	Advance(cfg_.arp_retry_ms);
	EXPECT_EQ(TakeTx().size(), 3u) << "three requests";

	Mark();
	Advance(cfg_.arp_retry_ms - 1);
	ExpectNoTx();
	EXPECT_EQ(Lookup(kPeerIp), 0);
	Advance(1);
	ExpectNoTx();
	EXPECT_EQ(Moved(), (Deltas{ { "arp_resolve_failed", 1 }, { "arp_resolve_timeout", 2 } }));
	EXPECT_EQ(Lookup(kPeerIp), -ENOENT);
	EXPECT_EQ(dtcp_arp_pending_total(w_), 0u);

	// A new packet starts over with a fresh request.
	Inject(Ping(kPeerIp, 3));
	ExpectArpRequest(ExpectOneTx(), kPeerIp);
	Inject(ArpReplyFrom(kPeerIp, kPeerMac));
	ExpectEchoReplies(TakeTx(), 3, 1, kPeerIp, kPeerMac);
}

TEST_F(ArpTest, Arp_PendingPerEntryFull_SurplusDropped)
{
	cfg_.arp_pending_per_entry = 4;
	Start();
	for (uint16_t seq = 1; seq <= 6; seq++)
		Inject(Ping(kPeerIp, seq));
	ExpectArpRequest(ExpectOneTx(), kPeerIp);
	EXPECT_EQ(Ctr(DTCP_CTR_arp_pending_full), 2u);
	EXPECT_EQ(dtcp_arp_pending_total(w_), 4u);

	Inject(ArpReplyFrom(kPeerIp, kPeerMac));
	ExpectEchoReplies(TakeTx(), 1, 4, kPeerIp, kPeerMac);
}

TEST_F(ArpTest, Arp_PendingMaxFull_BoundAcrossHops)
{
	cfg_.arp_pending_per_entry = 4;
	cfg_.arp_pending_max = 5;
	Start();
	const uint32_t a = Ip(198, 18, 0, 10), b = Ip(198, 18, 0, 11), c = Ip(198, 18, 0, 12);

	for (uint16_t seq = 1; seq <= 4; seq++)
		Inject(Ping(a, seq, Bytes(), HostMac(10)));
	for (uint16_t seq = 11; seq <= 13; seq++)
		Inject(Ping(b, seq, Bytes(), HostMac(11)));
	Inject(Ping(c, 21, Bytes(), HostMac(12)));
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 3u) << "one request per hop, even when nothing could wait";
	ExpectArpRequest(tx[0], a);
	ExpectArpRequest(tx[1], b);
	ExpectArpRequest(tx[2], c);
	EXPECT_EQ(Ctr(DTCP_CTR_arp_pending_full), 3u);
	EXPECT_EQ(dtcp_arp_pending_total(w_), 5u);

	Inject(ArpReplyFrom(b, HostMac(11)));
	ExpectEchoReplies(TakeTx(), 11, 1, b, HostMac(11));
	Inject(ArpReplyFrom(c, HostMac(12)));
	ExpectNoTx();
	Inject(ArpReplyFrom(a, HostMac(10)));
	ExpectEchoReplies(TakeTx(), 1, 4, a, HostMac(10));
	EXPECT_EQ(dtcp_arp_pending_total(w_), 0u);
}

// --- ARP: cache lifetime and bound -------------------------------------------

TEST_F(ArpTest, Arp_ReachableEntry_ExpiresAfterReachableMs)
{
	cfg_.arp_reachable_ms = 5000;
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Advance(cfg_.arp_reachable_ms - 1);
	EXPECT_EQ(Lookup(kPeerIp), 1);
	Mark();
	Advance(1);
	EXPECT_EQ(Moved(), (Deltas{ { "arp_expired", 1 } }));
	EXPECT_EQ(Lookup(kPeerIp), -ENOENT);

	Inject(Ping(kPeerIp, 1));
	ExpectArpRequest(ExpectOneTx(), kPeerIp);
}

TEST_F(ArpTest, Arp_RefreshFromPeer_RestartsLifetime)
{
	cfg_.arp_reachable_ms = 5000;
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Advance(3000);
	// The peer's own gratuitous announcement: not for us, but merged.
	EXPECT_TRUE(Dropped(ArpFrom(1, kPeerMac, kPeerIp, kPeerIp),
			    { { "arp_rx", 1 }, { "arp_updated", 1 }, { "arp_consumed", 1 } }));
	Advance(cfg_.arp_reachable_ms - 1);
	EXPECT_EQ(Lookup(kPeerIp), 1) << "lifetime counted from the refresh";
	Advance(1);
	EXPECT_EQ(Lookup(kPeerIp), -ENOENT);
	EXPECT_EQ(Ctr(DTCP_CTR_arp_expired), 1u);
}

TEST_F(ArpTest, Arp_CacheFull_NewHopDropped)
{
	cfg_.arp_entries = 2;
	Start();
	Inject(Ping(Ip(198, 18, 0, 10), 1, Bytes(), HostMac(10)));
	Inject(Ping(Ip(198, 18, 0, 11), 2, Bytes(), HostMac(11)));
	EXPECT_EQ(TakeTx().size(), 2u);

	Mark();
	Inject(Ping(Ip(198, 18, 0, 12), 3, Bytes(), HostMac(12)));
	ExpectNoTx();
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "icmp_rx", 1 },
				    { "icmp_echo_request", 1 }, { "icmp_echo_reply_tx", 1 },
				    { "ip_tx", 1 }, { "arp_table_full", 1 } }));
	EXPECT_EQ(Lookup(Ip(198, 18, 0, 12)), -ENOENT);
}

TEST_F(ArpTest, Arp_CacheFull_RequestStillAnsweredNotLearned)
{
	cfg_.arp_entries = 1;
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	const uint32_t other = Ip(198, 18, 0, 10);

	Inject(ArpFrom(1, HostMac(10), other, kOurIp));
	Parsed p = Parse(ExpectOneTx());
	EXPECT_EQ(p.arp_op, 2);
	EXPECT_EQ(p.dst, HostMac(10));
	EXPECT_EQ(p.tpa, other);
	EXPECT_EQ(Lookup(other), -ENOENT);
	EXPECT_EQ(Ctr(DTCP_CTR_arp_learned), 1u);
}

// --- ARP: announcing ----------------------------------------------------------

TEST_F(ArpTest, Arp_Announce_GratuitousRequestPerAddress)
{
	char err[128];
	const uint32_t second = Ip(198, 18, 1, 2);

	ASSERT_EQ(dtcp_config_set(&cfg_, "ip", "address", "198.18.1.2/24", err, sizeof(err)), 0)
		<< err;
	ASSERT_EQ(cfg_.n_addrs, 2u);
	Start();
	dtcp_worker_announce(w_);
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 2u);
	// RFC 5227 §3: sender and target both the announced address.
	ExpectArpRequest(tx[0], kOurIp, kOurIp);
	ExpectArpRequest(tx[1], second, second);
	EXPECT_EQ(Moved(), (Deltas{ { "arp_gratuitous_tx", 2 }, { "tx_frames", 2 } }));
}

// --- ARP: drops ------------------------------------------------------------------

TEST_F(ArpTest, Arp_NotEthernetIpv4OrShort_Malformed)
{
	Start();
	const Deltas malformed = { { "arp_rx", 1 }, { "arp_malformed", 1 } };
	Bytes good = ArpFrom(1, kPeerMac, kPeerIp, kOurIp);
	// Offsets in the frame: htype 14, ptype 16, hlen 18, plen 19.
	struct {
		const char *what;
		size_t at;
		uint8_t value;
	} bad[] = {
		{ "htype 6 (IEEE 802)", 15, 6 },
		{ "ptype 0x86dd", 16, 0x86 },
		{ "hlen 8", 18, 8 },
		{ "plen 16", 19, 16 },
	};

	for (const auto &b : bad) {
		SCOPED_TRACE(b.what);
		Bytes f = good;
		f[b.at] = b.value;
		EXPECT_TRUE(Dropped(f, malformed));
	}
	EXPECT_TRUE(Dropped(Bytes(good.begin(), good.end() - 1), malformed)) << "27 bytes";
	EXPECT_TRUE(Dropped(Bytes(good.begin(), good.begin() + 14), malformed)) << "no ARP at all";
	EXPECT_EQ(Lookup(kPeerIp), -ENOENT);
}

TEST_F(ArpTest, Arp_OperationNotRequestOrReply_BadOp)
{
	Start();
	for (uint16_t op : { 0, 3, 4, 0x0100 }) {
		SCOPED_TRACE(op);
		EXPECT_TRUE(Dropped(ArpFrom(op, kPeerMac, kPeerIp, kOurIp),
				    { { "arp_rx", 1 }, { "arp_bad_op", 1 } }));
	}
	EXPECT_EQ(Lookup(kPeerIp), -ENOENT);
}

TEST_F(ArpTest, Arp_GroupOrZeroSenderMac_SenderBogus)
{
	Start();
	const Mac macs[] = { { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x05 } }, kBroadcast, Mac{} };

	for (const Mac &sha : macs) {
		SCOPED_TRACE(ToString(sha));
		Bytes f = EthFrame(kBroadcast, kPeerMac, 0x0806,
				   ArpPacket(1, sha, kPeerIp, Mac{}, kOurIp));
		EXPECT_TRUE(Dropped(f, { { "arp_rx", 1 }, { "arp_sender_bogus", 1 } }));
	}
	EXPECT_EQ(Lookup(kPeerIp), -ENOENT);
}

TEST_F(ArpTest, Arp_MartianSenderIp_SenderBogus)
{
	Start();
	for (uint32_t spa : { Ip(0, 1, 2, 3), Ip(127, 0, 0, 1), Ip(224, 0, 0, 5),
			      Ip(240, 0, 0, 1), Ip(255, 255, 255, 255) }) {
		SCOPED_TRACE(spa);
		EXPECT_TRUE(Dropped(ArpFrom(1, kPeerMac, spa, kOurIp),
				    { { "arp_rx", 1 }, { "arp_sender_bogus", 1 } }));
		EXPECT_EQ(Lookup(spa), -ENOENT);
	}
}

// RFC 5227 §2.1.1: a probe asks whether an address is taken; ours is.
TEST_F(ArpTest, Arp_ProbeForOurAddress_AnsweredNothingLearned)
{
	Start();
	Inject(ArpFrom(1, kPeerMac, 0, kOurIp));
	Bytes want = EthFrame(kPeerMac, kOurMac, 0x0806,
			      ArpPacket(2, kOurMac, kOurIp, kPeerMac, 0));
	EXPECT_TRUE(ExpectOneTx() == want) << "reply differs from the expected 42 bytes";
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "arp_rx", 1 }, { "arp_probe_rx", 1 },
				    { "arp_reply_tx", 1 }, { "arp_consumed", 1 },
				    { "tx_frames", 1 } }));
	EXPECT_EQ(Lookup(0), -ENOENT);
}

TEST_F(ArpTest, Arp_ProbeForAnotherAddress_NotForUs)
{
	Start();
	EXPECT_TRUE(Dropped(ArpFrom(1, kPeerMac, 0, Ip(198, 18, 0, 77)),
			    { { "arp_rx", 1 }, { "arp_not_for_us", 1 } }));
}

// Only neighbours on our subnets are learned: strangers cannot fill the cache.
TEST_F(ArpTest, Arp_RequestFromOffLinkSender_AnsweredNotLearned)
{
	Start();
	const uint32_t stranger = Ip(198, 19, 5, 5);
	Inject(ArpFrom(1, kPeerMac, stranger, kOurIp));
	Bytes want = EthFrame(kPeerMac, kOurMac, 0x0806,
			      ArpPacket(2, kOurMac, kOurIp, kPeerMac, stranger));
	EXPECT_TRUE(ExpectOneTx() == want) << "reply differs from the expected 42 bytes";
	EXPECT_EQ(Lookup(stranger), -ENOENT);
	EXPECT_EQ(Ctr(DTCP_CTR_arp_learned), 0u);
}

TEST_F(ArpTest, Arp_OurAddressFromAnotherMac_Conflict)
{
	Start();
	EXPECT_TRUE(Dropped(ArpFrom(1, kPeerMac, kOurIp, kOurIp),
			    { { "arp_rx", 1 }, { "arp_addr_conflict", 1 } }));
	EXPECT_TRUE(Dropped(ArpReplyFrom(kOurIp, kPeerMac),
			    { { "arp_rx", 1 }, { "arp_addr_conflict", 1 } }));
	EXPECT_EQ(Lookup(kOurIp), -ENOENT);
}

TEST_F(ArpTest, Arp_OurOwnAnnouncementLoopedBack_NotForUs)
{
	Start();
	EXPECT_TRUE(Dropped(ArpFrom(1, kOurMac, kOurIp, kOurIp),
			    { { "arp_rx", 1 }, { "arp_not_for_us", 1 } }));
}

} // namespace
