// SPDX-License-Identifier: BSD-3-Clause
// IPv4 input checks (RFC 791, RFC 1122 §3.2.1), reassembly under its time
// and table bounds, fragmentation of replies, and routing.
#include "harness.h"

namespace {

constexpr uint32_t kOffLink = Ip(198, 19, 7, 7);
const Mac kGatewayMac = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe } };

class Ipv4Test : public StackTest {
protected:
	void SetUp() override
	{
		StackTest::SetUp();
		cfg_.ttl = 200;    // not the requests' 64, so the reply's TTL is ours
	}

	// An IPv4 packet from the peer, in a frame to us.
	static Bytes FromPeer(const Bytes &ip) { return EthFrame(kOurMac, kPeerMac, 0x0800, ip); }

	static Bytes EchoIcmp(size_t data_len, uint16_t seq = 1)
	{
		return IcmpEcho(8, 0x4242, seq, Pattern(data_len, seq));
	}

	// The request's ICMP message as frames of fragments carrying frag_bytes each.
	static std::vector<Bytes> FragFrames(const Bytes &icmp, uint16_t id, size_t frag_bytes = 1480)
	{
		std::vector<Bytes> out;

		for (const Bytes &ip : Ipv4Fragments(kPeerIp, kOurIp, 1, icmp, frag_bytes, id))
			out.push_back(FromPeer(ip));
		return out;
	}

	// One fragment of the request's ICMP message: bytes [off, off + len).
	static Bytes Frag(const Bytes &icmp, size_t off, size_t len, bool more, uint16_t id,
			  uint32_t src = kPeerIp)
	{
		Ipv4Opts o;
		o.id = id;
		o.frag = (uint16_t)((more ? 0x2000 : 0) | off / 8);
		return FromPeer(Ipv4Packet(src, kOurIp, 1,
					   Bytes(icmp.begin() + (long)off,
						 icmp.begin() + (long)(off + len)), o));
	}
};

// --- RFC 1122 §3.2.1 receive checks: each fault its own counter, nothing sent --

TEST_F(Ipv4Test, Ipv4_ShorterThan20Bytes_TooShort)
{
	Start();
	Bytes ip = Ipv4Packet(kPeerIp, kOurIp, 1, Bytes());

	for (size_t n : { 0, 1, 19 }) {
		SCOPED_TRACE(n);
		EXPECT_TRUE(Dropped(FromPeer(Bytes(ip.begin(), ip.begin() + (long)n)),
				    { { "ip_rx", 1 }, { "ip_too_short", 1 } }));
	}
}

TEST_F(Ipv4Test, Ipv4_VersionNot4_BadVersion)
{
	Start();
	for (int v : { 0, 5, 6, 15 }) {
		SCOPED_TRACE(v);
		Ipv4Opts o;
		o.version = v;
		EXPECT_TRUE(Dropped(FromPeer(Ipv4Packet(kPeerIp, kOurIp, 1, EchoIcmp(8), o)),
				    { { "ip_rx", 1 }, { "ip_bad_version", 1 } }));
	}
}

TEST_F(Ipv4Test, Ipv4_IhlBelow5_BadIhl)
{
	Start();
	for (uint8_t ihl : { 0, 1, 4 }) {
		SCOPED_TRACE(ihl);
		Ipv4Opts o;
		o.ihl = ihl;
		EXPECT_TRUE(Dropped(FromPeer(Ipv4Packet(kPeerIp, kOurIp, 1, EchoIcmp(8), o)),
				    { { "ip_rx", 1 }, { "ip_bad_ihl", 1 } }));
	}
}

TEST_F(Ipv4Test, Ipv4_HeaderLongerThanFrame_HdrTruncated)
{
	Start();
	Ipv4Opts o;
	o.ihl = 15;    // 60 bytes of header
	Bytes ip = Ipv4Packet(kPeerIp, kOurIp, 1, Bytes(), o);
	ip.resize(59);
	EXPECT_TRUE(Dropped(FromPeer(ip), { { "ip_rx", 1 }, { "ip_hdr_truncated", 1 } }));
}

TEST_F(Ipv4Test, Ipv4_HeaderChecksumWrong_BadChecksum)
{
	Start();
	Ipv4Opts o;
	o.bad_cksum = true;
	EXPECT_TRUE(Dropped(FromPeer(Ipv4Packet(kPeerIp, kOurIp, 1, EchoIcmp(8), o)),
			    { { "ip_rx", 1 }, { "ip_bad_checksum", 1 } }));
	// Checked over the options too.
	o = Ipv4Opts();
	o.ihl = 6;
	Bytes ip = Ipv4Packet(kPeerIp, kOurIp, 1, EchoIcmp(8), o);
	ip[21] ^= 0x01;
	EXPECT_TRUE(Dropped(FromPeer(ip), { { "ip_rx", 1 }, { "ip_bad_checksum", 1 } }));
}

TEST_F(Ipv4Test, Ipv4_TotalLengthBelowHeader_BadTotalLen)
{
	Start();
	for (int len : { 0, 19 }) {
		SCOPED_TRACE(len);
		Ipv4Opts o;
		o.total_len = len;
		EXPECT_TRUE(Dropped(FromPeer(Ipv4Packet(kPeerIp, kOurIp, 1, EchoIcmp(8), o)),
				    { { "ip_rx", 1 }, { "ip_bad_total_len", 1 } }));
	}
}

TEST_F(Ipv4Test, Ipv4_TotalLengthPastFrame_Truncated)
{
	Start();
	Bytes icmp = EchoIcmp(8);
	Ipv4Opts o;
	o.total_len = (int)(20 + icmp.size() + 1);
	EXPECT_TRUE(Dropped(FromPeer(Ipv4Packet(kPeerIp, kOurIp, 1, icmp, o)),
			    { { "ip_rx", 1 }, { "ip_truncated", 1 } }));
}

TEST_F(Ipv4Test, Ipv4_DestinationNotOurs_NotForUs)
{
	Start();
	for (uint32_t dst : { Ip(198, 18, 0, 3), Ip(198, 18, 0, 255), Ip(255, 255, 255, 255),
			      Ip(224, 0, 0, 1), Ip(127, 0, 0, 1) }) {
		SCOPED_TRACE(dst);
		EXPECT_TRUE(Dropped(FromPeer(Ipv4Packet(kPeerIp, dst, 1, EchoIcmp(8))),
				    { { "ip_rx", 1 }, { "ip_not_for_us", 1 } }));
	}
}

TEST_F(Ipv4Test, Ipv4_MartianSource_Dropped)
{
	Start();
	for (uint32_t src : { Ip(0, 0, 0, 0), Ip(0, 1, 2, 3), Ip(127, 0, 0, 1), Ip(224, 0, 0, 1),
			      Ip(239, 255, 255, 250), Ip(240, 0, 0, 1), Ip(255, 255, 255, 255),
			      kOurIp, Ip(198, 18, 0, 255) }) {
		SCOPED_TRACE(src);
		EXPECT_TRUE(Dropped(FromPeer(Ipv4Packet(src, kOurIp, 1, EchoIcmp(8))),
				    { { "ip_rx", 1 }, { "ip_martian_src", 1 } }));
	}
}

TEST_F(Ipv4Test, Ipv4_ProtocolNotServed_UnknownProto)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	for (uint8_t proto : { 17, 2, 41, 255 }) {
		SCOPED_TRACE(proto);
		EXPECT_TRUE(Dropped(FromPeer(Ipv4Packet(kPeerIp, kOurIp, proto, Pattern(40))),
				    { { "ip_rx", 1 }, { "ip_unknown_proto", 1 } }));
	}
}

TEST_F(Ipv4Test, Ipv4_ImpossibleFragment_FragBad)
{
	Start();
	const Deltas bad = { { "ip_rx", 1 }, { "ip_frag_bad", 1 } };
	struct {
		const char *what;
		uint16_t frag;
		size_t len;
	} cases[] = {
		{ "MF with 12 bytes", 0x2000, 12 },
		{ "MF with 0 bytes", 0x2000, 0 },
		{ "MF at an offset with 9 bytes", 0x2000 | 5, 9 },
		{ "ends at 65536", 8190, 16 },
		{ "last at the highest offset, 8 bytes", 8191, 8 },
		// Total Length counts the header: data ends at 65515 at most.
		{ "data ending at 65516", 8189, 4 },
	};

	for (const auto &c : cases) {
		SCOPED_TRACE(c.what);
		Ipv4Opts o;
		o.frag = c.frag;
		EXPECT_TRUE(Dropped(FromPeer(Ipv4Packet(kPeerIp, kOurIp, 1, Pattern(c.len), o)), bad));
	}
	// The limit itself: a last fragment whose data ends at byte 65515, which
	// with a 20-byte header makes a 65535-byte datagram, is possible.
	Ipv4Opts o;
	o.frag = 8189;
	EXPECT_TRUE(Dropped(FromPeer(Ipv4Packet(kPeerIp, kOurIp, 1, Pattern(3), o)),
			    { { "ip_rx", 1 }, { "ip_frag_rx", 1 }, { "ip_frag_held", 1 } }));
}

// --- What is not a fault ------------------------------------------------------

TEST_F(Ipv4Test, Ipv4_EthernetPadding_TrimmedReplyUnpadded)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Bytes icmp = EchoIcmp(0);
	Bytes f = FromPeer(Ipv4Packet(kPeerIp, kOurIp, 1, icmp));
	ASSERT_EQ(f.size(), 42u);
	f.resize(60, 0xa5);    // padding that would break the ICMP checksum if kept

	Mark();
	Inject(f);
	Bytes reply = ExpectOneTx();
	EXPECT_EQ(reply.size(), 42u);
	ExpectEchoReply(reply, icmp);
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "ip_padding_trimmed", 1 },
				    { "icmp_rx", 1 }, { "icmp_echo_request", 1 },
				    { "icmp_echo_reply_tx", 1 }, { "ip_tx", 1 },
				    { "tx_frames", 1 } }));
}

TEST_F(Ipv4Test, Ipv4_OptionsPresent_SkippedEchoAnswered)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	for (uint8_t ihl : { 6, 15 }) {
		SCOPED_TRACE(ihl);
		Bytes icmp = EchoIcmp(24);
		Ipv4Opts o;
		o.ihl = ihl;
		Bytes ip = Ipv4Packet(kPeerIp, kOurIp, 1, icmp, o);
		Mark();
		Inject(FromPeer(ip));
		// The reply carries no options: the header is 20 bytes again.
		ExpectEchoReply(ExpectOneTx(), icmp);
		EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "ip_options", 1 },
					    { "icmp_rx", 1 }, { "icmp_echo_request", 1 },
					    { "icmp_echo_reply_tx", 1 }, { "ip_tx", 1 },
					    { "tx_frames", 1 } }));
	}
}

// --- Reassembly (RFC 791 §3.2, RFC 815) ------------------------------------------

struct FragOrder {
	const char *name;
	std::vector<int> order;    // indexes into the three fragments, repeats allowed
};

void PrintTo(const FragOrder &o, std::ostream *os)
{
	*os << o.name;
}

class Ipv4ReassemblyOrder : public Ipv4Test, public ::testing::WithParamInterface<FragOrder> {};

TEST_P(Ipv4ReassemblyOrder, Ipv4_Reassembly_4000ByteEcho_OneReplyWithTheSameData)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Bytes icmp = EchoIcmp(4000 - 8);
	std::vector<Bytes> frags = FragFrames(icmp, 0x1234);
	ASSERT_EQ(frags.size(), 3u);

	const std::vector<int> &order = GetParam().order;
	for (size_t i = 0; i + 1 < order.size(); i++) {
		Inject(frags[(size_t)order[i]]);
		ExpectNoTx();
	}
	Inject(frags[(size_t)order.back()]);
	std::vector<Bytes> reply = TakeTx();
	ASSERT_EQ(reply.size(), 3u) << "4020 bytes of IP in three fragments";
	ExpectEchoBody(ReassembleReply(reply), icmp);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_reassembled), 1u);
	EXPECT_EQ(Ctr(DTCP_CTR_icmp_echo_request), 1u);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_tx), 3u);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_rx), order.size());
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_dropped), 0u);
}

INSTANTIATE_TEST_SUITE_P(
	Orders, Ipv4ReassemblyOrder,
	::testing::Values(FragOrder{ "InOrder", { 0, 1, 2 } },
			  FragOrder{ "Reverse", { 2, 1, 0 } },
			  FragOrder{ "MiddleLast", { 0, 2, 1 } }),
	[](const ::testing::TestParamInfo<FragOrder> &i) { return std::string(i.param.name); });

/*
 * rte_ip_frag gives up a datagram that receives a fragment twice (it cannot
 * tell a repeat from an overlap). What we ask of it: no wrong delivery,
 * every mbuf freed by the timeout at the latest, and a clean resend answered.
 */
class Ipv4ReassemblyRepeat : public Ipv4ReassemblyOrder {};

TEST_P(Ipv4ReassemblyRepeat, Ipv4_Reassembly_RepeatedFragment_DatagramGivenUpAllFreedResendAnswered)
{
	cfg_.frag_timeout_ms = 500;
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Bytes icmp = EchoIcmp(4000 - 8);
	std::vector<Bytes> frags = FragFrames(icmp, 0x1234);
	ASSERT_EQ(frags.size(), 3u);

	const std::vector<int> &order = GetParam().order;
	for (int i : order)
		Inject(frags[(size_t)i]);
	ExpectNoTx();
	Advance(cfg_.frag_timeout_ms);
	ExpectNoTx();
	EXPECT_EQ(Ctr(DTCP_CTR_ip_reassembled), 0u);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_dropped), order.size()) << "every fragment freed";

	for (const Bytes &f : frags)
		Inject(f);
	std::vector<Bytes> reply = TakeTx();
	ASSERT_EQ(reply.size(), 3u);
	ExpectEchoBody(ReassembleReply(reply), icmp);
}

INSTANTIATE_TEST_SUITE_P(
	Repeats, Ipv4ReassemblyRepeat,
	::testing::Values(FragOrder{ "DuplicateMiddle", { 0, 1, 1, 2 } },
			  FragOrder{ "DuplicateFirst", { 0, 0, 1, 2 } },
			  FragOrder{ "DuplicateLast", { 2, 0, 2, 1 } }),
	[](const ::testing::TestParamInfo<FragOrder> &i) { return std::string(i.param.name); });

TEST_F(Ipv4Test, Ipv4_Reassembly_InterleavedDatagrams_KeptApart)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	const uint32_t other = Ip(198, 18, 0, 10);
	const Mac other_mac = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a } };
	TeachPeer(other, other_mac);
	// Three datagrams: two ids from the peer, and the first id again from another host.
	Bytes icmp[3] = { EchoIcmp(3000, 1), EchoIcmp(3000, 2), EchoIcmp(3000, 3) };
	std::vector<Bytes> frags[3] = { FragFrames(icmp[0], 50), FragFrames(icmp[1], 51), {} };
	for (const Bytes &ip : Ipv4Fragments(other, kOurIp, 1, icmp[2], 1480, 50))
		frags[2].push_back(EthFrame(kOurMac, other_mac, 0x0800, ip));

	for (size_t i = 0; i < 2; i++)
		for (int d = 0; d < 3; d++)
			Inject(frags[d][i]);
	ExpectNoTx();
	for (int d = 2; d >= 0; d--) {
		SCOPED_TRACE(d);
		Inject(frags[d][2]);
		ExpectEchoBody(d == 2 ? ReassembleReply(TakeTx(), other, other_mac) : ReassembleReply(TakeTx()),
			       icmp[d]);
	}
}

TEST_F(Ipv4Test, Ipv4_Reassembly_PartialOverlap_DatagramDiscarded)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Bytes icmp = EchoIcmp(4000 - 8);

	Inject(Frag(icmp, 0, 1480, true, 9));
	Inject(Frag(icmp, 2960, 1040, false, 9));
	Mark();
	Inject(Frag(icmp, 1472, 1488, true, 9));    // runs 8 bytes into the first
	ExpectNoTx();
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "ip_frag_rx", 1 },
				    { "ip_frag_discarded", 1 }, { "ip_frag_dropped", 3 } }));
	// Nothing of it remains: the missing middle alone completes nothing.
	Inject(Frag(icmp, 1480, 1480, true, 9));
	ExpectNoTx();
	// A whole new copy is reassembled from scratch.
	for (const Bytes &f : FragFrames(icmp, 10))
		Inject(f);
	ExpectEchoBody(ReassembleReply(TakeTx()), icmp);
}

TEST_F(Ipv4Test, Ipv4_Reassembly_FragmentsDisagreeOnEnd_NeverDeliveredAllFreed)
{
	cfg_.frag_timeout_ms = 500;
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Bytes icmp = EchoIcmp(4000 - 8);
	struct Piece {
		size_t off, len;
		bool more;
	};
	struct {
		const char *what;
		std::vector<Piece> pieces;
	} cases[] = {
		{ "a second last fragment, ending elsewhere",
		  { { 0, 1480, true }, { 2960, 1040, false }, { 1480, 1480, false } } },
		{ "a fragment past the end", { { 1480, 1480, false }, { 2960, 1040, true } } },
		{ "a last fragment before held bytes", { { 2960, 1040, true }, { 1480, 1480, false } } },
	};
	uint16_t id = 20;
	size_t injected = 0;

	for (const auto &c : cases) {
		SCOPED_TRACE(c.what);
		for (const Piece &p : c.pieces)
			Inject(Frag(icmp, p.off, p.len, p.more, id));
		injected += c.pieces.size();
		ExpectNoTx();
		id++;
	}
	Advance(cfg_.frag_timeout_ms);
	ExpectNoTx();
	EXPECT_EQ(Ctr(DTCP_CTR_ip_reassembled), 0u);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_dropped), injected) << "all freed by the timeout";
}

// A zero-length last fragment is legal but never sent in practice;
// rte_ip_frag does not complete on it. Bounded all the same.
TEST_F(Ipv4Test, Ipv4_Reassembly_EmptyLastFragment_HeldThenFreed)
{
	cfg_.frag_timeout_ms = 500;
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Bytes icmp = EchoIcmp(1480 - 8);

	Inject(Frag(icmp, 0, 1480, true, 30));
	Inject(Frag(icmp, 1480, 0, false, 30));
	ExpectNoTx();
	Advance(cfg_.frag_timeout_ms);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_dropped), 2u);
}

TEST_F(Ipv4Test, Ipv4_Reassembly_PaddedLastFragment_ReplyInOneFrame)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Bytes icmp = EchoIcmp(64);    // 72 bytes: fragments of 64 and 8
	std::vector<Bytes> frags = FragFrames(icmp, 7, 64);
	ASSERT_EQ(frags.size(), 2u);
	ASSERT_EQ(frags[1].size(), 42u);
	frags[1].resize(60, 0xee);

	Inject(frags[0]);
	Inject(frags[1]);
	ExpectEchoReply(ExpectOneTx(), icmp);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_padding_trimmed), 1u);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_tx), 0u);
}

TEST_F(Ipv4Test, Ipv4_Reassembly_MissingFragment_HeldThenFreedAfterTimeout)
{
	cfg_.frag_timeout_ms = 500;
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	std::vector<Bytes> frags = FragFrames(EchoIcmp(4000 - 8), 99);

	Mark();
	Inject(frags[0]);
	Inject(frags[2]);
	ExpectNoTx();
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 2 }, { "ip_rx", 2 }, { "ip_frag_rx", 2 },
				    { "ip_frag_held", 2 } }));
	Advance(cfg_.frag_timeout_ms - 1);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_dropped), 0u);
	Advance(1);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_dropped), 2u) << "freed when the timeout is up";
	ExpectNoTx();

	// The late fragment finds nothing to join: it waits alone.
	Inject(frags[1]);
	ExpectNoTx();
	EXPECT_EQ(Ctr(DTCP_CTR_ip_reassembled), 0u);
}

TEST_F(Ipv4Test, Ipv4_Reassembly_TableFull_ExtraDatagramDropped)
{
	cfg_.frag_max_flows = 2;
	cfg_.frag_timeout_ms = 1000;
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	std::vector<Bytes> icmp, frags[3];
	for (uint16_t i = 0; i < 3; i++) {
		icmp.push_back(EchoIcmp(3000, (uint16_t)(i + 1)));
		frags[i] = FragFrames(icmp[i], (uint16_t)(100 + i));
	}

	for (int d = 0; d < 3; d++)
		Inject(frags[d][0]);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_dropped), 1u) << "no room for the third";
	for (int d = 0; d < 2; d++) {
		Inject(frags[d][1]);
		Inject(frags[d][2]);
		ExpectEchoBody(ReassembleReply(TakeTx()), icmp[(size_t)d]);
	}
	// Room again, but the third's first fragment is gone: never complete.
	Inject(frags[2][1]);
	Inject(frags[2][2]);
	ExpectNoTx();
	Advance(cfg_.frag_timeout_ms + 1);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_dropped), 3u);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_reassembled), 2u);
}

TEST_F(Ipv4Test, Ipv4_Reassembly_MoreFragmentsThanHeld_DroppedAndFreed)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	// Reassembly holds at most 8 fragments of one datagram.
	const size_t max = 8;
	Bytes fits = EchoIcmp(16 * max - 8, 1), too_many = EchoIcmp(16 * (max + 1) - 8, 2);

	for (const Bytes &f : FragFrames(fits, 1, 16))
		Inject(f);
	ExpectEchoReply(ExpectOneTx(), fits);

	std::vector<Bytes> frags = FragFrames(too_many, 2, 16);
	ASSERT_EQ(frags.size(), max + 1);
	for (const Bytes &f : frags)
		Inject(f);
	ExpectNoTx();
	// The fragment past the limit gives up the datagram at once; the last
	// one then waits alone for the timeout.
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_dropped), max);
	Advance(cfg_.frag_timeout_ms);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_dropped), max + 1);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_reassembled), 1u);
}

// Mbufs large enough for 8 KB fragments: 8 of them reach the 65535-byte limit.
class Ipv4BigFragTest : public Ipv4Test {
protected:
	Ipv4BigFragTest()
	{
		pool_size_ = 511;
		buf_size_ = RTE_PKTMBUF_HEADROOM + 9216;
	}
};

TEST_F(Ipv4BigFragTest, Ipv4_Reassembly_Largest65535Datagram_AnsweredInMtuFragments)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	Bytes icmp = EchoIcmp(65535 - 20 - 8);
	std::vector<Bytes> frags = FragFrames(icmp, 77, 8192);
	ASSERT_EQ(frags.size(), 8u);

	for (const Bytes &f : frags)
		Inject(f);
	std::vector<Bytes> reply = TakeTx();
	EXPECT_EQ(reply.size(), 45u) << "65515 bytes in pieces of 1480";
	ExpectEchoBody(ReassembleReply(reply), icmp);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_tx), reply.size());
}

TEST_F(Ipv4BigFragTest, Ipv4_Reassembly_LongerThan65535_Discarded)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	// Together with its header the datagram would be 65536 bytes: the
	// fragment that ends it is impossible, the others wait for the timeout.
	std::vector<Bytes> frags = FragFrames(EchoIcmp(65535 - 20 - 8 + 1), 78, 8192);
	ASSERT_EQ(frags.size(), 8u);

	Mark();
	for (const Bytes &f : frags)
		Inject(f);
	ExpectNoTx();
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 8 }, { "ip_rx", 8 }, { "ip_frag_rx", 7 },
				    { "ip_frag_held", 7 }, { "ip_frag_bad", 1 } }));
	Advance(cfg_.frag_timeout_ms);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_dropped), 7u);
}

TEST_F(Ipv4BigFragTest, Ipv4_RepliesBeyondTheTxBuffer_AllSentInOrder)
{
	Start();
	TeachPeer(kPeerIp, kPeerMac);
	// Three of the largest echoes in one burst: 135 reply fragments from one
	// loop iteration, more than the worker buffers before a flush.
	Bytes icmp[3];
	for (uint16_t d = 0; d < 3; d++) {
		icmp[d] = EchoIcmp(65535 - 20 - 8, (uint16_t)(d + 1));
		for (const Bytes &f : FragFrames(icmp[d], (uint16_t)(200 + d), 8192))
			InjectOnly(f);
	}
	Poll();
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 3u * 45);
	for (size_t d = 0; d < 3; d++) {
		SCOPED_TRACE(d);
		ExpectEchoBody(ReassembleReply(std::vector<Bytes>(tx.begin() + (long)(45 * d),
								  tx.begin() + (long)(45 * d + 45))),
			       icmp[d]);
	}
	EXPECT_EQ(Ctr(DTCP_CTR_tx_ring_full), 0u);
}

// --- Routing ----------------------------------------------------------------------

TEST_F(Ipv4Test, Ipv4_OffLinkSource_ReplySentToGatewayMac)
{
	Start();
	Bytes icmp = EchoIcmp(56);
	Inject(EthFrame(kOurMac, kGatewayMac, 0x0800, Ipv4Packet(kOffLink, kOurIp, 1, icmp)));
	ExpectArpRequest(ExpectOneTx(), kGateway);
	Inject(ArpReplyFrom(kGateway, kGatewayMac));
	ExpectEchoReply(ExpectOneTx(), icmp, kOffLink, kGatewayMac);
}

TEST_F(Ipv4Test, Ipv4_OffLinkSourceWithoutGateway_NoRoute)
{
	cfg_.gateway = 0;
	Start();
	Mark();
	Inject(EthFrame(kOurMac, kGatewayMac, 0x0800, Ipv4Packet(kOffLink, kOurIp, 1, EchoIcmp(56))));
	ExpectNoTx();
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "icmp_rx", 1 },
				    { "icmp_echo_request", 1 }, { "icmp_echo_reply_tx", 1 },
				    { "ip_no_route", 1 } }));
}

TEST_F(Ipv4Test, Ipv4_SecondAddress_AnsweredFromItOnItsSubnet)
{
	char err[128];
	ASSERT_EQ(dtcp_config_set(&cfg_, "ip", "address", "198.18.1.2/24", err, sizeof(err)), 0)
		<< err;
	Start();
	const uint32_t ours = Ip(198, 18, 1, 2), peer = Ip(198, 18, 1, 1);
	const Mac peer_mac = { { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 } };
	Bytes icmp = EchoIcmp(10);

	Inject(EthFrame(kOurMac, peer_mac, 0x0800, Ipv4Packet(peer, ours, 1, icmp)));
	ExpectArpRequest(ExpectOneTx(), peer, ours);
	Inject(ArpFrom(2, peer_mac, peer, ours, kOurMac, kOurMac));
	ExpectEchoReply(ExpectOneTx(), icmp, peer, peer_mac, ours);
}

} // namespace
