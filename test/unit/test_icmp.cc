// SPDX-License-Identifier: BSD-3-Clause
// ICMP (RFC 792, RFC 1122 §3.2.2): echo answered byte for byte, everything
// else counted by kind and dropped.
#include "harness.h"

#include <algorithm>

namespace {

class IcmpTest : public StackTest {
protected:
	void SetUp() override
	{
		StackTest::SetUp();
		cfg_.ttl = 33;    // not the requests' 64, so the reply's TTL is ours
	}

	void StartLearned()
	{
		Start();
		TeachPeer(kPeerIp, kPeerMac);
		Mark();
	}

	// An ICMP message from the peer to us: type, code, 4 bytes of rest-of-header, body.
	static Bytes IcmpFrame(uint8_t type, uint8_t code, const Bytes &body,
			       uint32_t rest = 0)
	{
		Bytes icmp(8 + body.size());
		icmp[0] = type;
		icmp[1] = code;
		for (int i = 0; i < 4; i++)
			icmp[4 + i] = (uint8_t)(rest >> (24 - 8 * i));
		std::copy(body.begin(), body.end(), icmp.begin() + 8);
		uint16_t ck = RefCksum(icmp.data(), icmp.size());
		icmp[2] = (uint8_t)(ck >> 8);
		icmp[3] = (uint8_t)ck;
		return EthFrame(kOurMac, kPeerMac, 0x0800, Ipv4Packet(kPeerIp, kOurIp, 1, icmp));
	}

	// What an error quotes: the start of a datagram we sent (a TCP segment).
	static Bytes Quote(size_t bytes_after_header, uint8_t ihl = 5)
	{
		Ipv4Opts o;
		o.ihl = ihl;
		Bytes ip = Ipv4Packet(kOurIp, kPeerIp, 6, Pattern(20), o);
		ip.resize(ihl * 4u + bytes_after_header);
		return ip;
	}
};

// --- Echo (RFC 792; RFC 1122 §3.2.2.6) ------------------------------------------

class IcmpEchoSize : public IcmpTest, public ::testing::WithParamInterface<size_t> {};

TEST_P(IcmpEchoSize, Icmp_EchoRequest_ReplyIsTheRequestWithType0)
{
	StartLearned();
	Bytes icmp = IcmpEcho(8, 0xbeef, 0x0102, Pattern(GetParam(), 3));
	Ipv4Opts o;
	o.frag = 0x4000;    // DF on the request; the reply sets its own flags
	o.id = 0x5555;
	Inject(EthFrame(kOurMac, kPeerMac, 0x0800, Ipv4Packet(kPeerIp, kOurIp, 1, icmp, o)));

	// Swapped addresses, our TTL, DF clear, to the requester's MAC, and ICMP
	// bytes equal to the request's but for the type and the checksum.
	ExpectEchoReply(ExpectOneTx(), icmp);
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "icmp_rx", 1 },
				    { "icmp_echo_request", 1 }, { "icmp_echo_reply_tx", 1 },
				    { "ip_tx", 1 }, { "tx_frames", 1 } }));
}

// 1472 bytes of data: 1500 bytes of IP, the most the MTU carries whole.
INSTANTIATE_TEST_SUITE_P(DataBytes, IcmpEchoSize, ::testing::Values(0, 1, 56, 1472),
			 [](const ::testing::TestParamInfo<size_t> &i) {
				 return std::to_string(i.param);
			 });

TEST_F(IcmpTest, Icmp_EchoLargerThanMtu_ReplyFragmented)
{
	StartLearned();
	// 1501 bytes of IP: one byte more than the MTU.
	Bytes icmp = IcmpEcho(8, 3, 4, Pattern(1473));
	Inject(EthFrame(kOurMac, kPeerMac, 0x0800, Ipv4Packet(kPeerIp, kOurIp, 1, icmp)));
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 2u);
	EXPECT_EQ(Parse(tx[0]).total_len, 1500);
	EXPECT_EQ(Parse(tx[1]).total_len, 20 + 1481 - 1480);
	ExpectEchoBody(ReassembleReply(tx), icmp);
	EXPECT_EQ(Ctr(DTCP_CTR_ip_frag_tx), 2u);
}

TEST_F(IcmpTest, Icmp_EchoRequestCode_KeptInReply)
{
	StartLearned();
	// RFC 792 has code 0 for echo; whatever came is what goes back.
	Bytes icmp = IcmpEcho(8, 1, 2, Pattern(9));
	icmp[1] = 7;
	icmp[2] = icmp[3] = 0;
	uint16_t ck = RefCksum(icmp.data(), icmp.size());
	icmp[2] = (uint8_t)(ck >> 8);
	icmp[3] = (uint8_t)ck;
	Inject(EthFrame(kOurMac, kPeerMac, 0x0800, Ipv4Packet(kPeerIp, kOurIp, 1, icmp)));
	ExpectEchoReply(ExpectOneTx(), icmp);
}

// The reply to an echo whose every other byte is zero sums to zero: its
// checksum is 0xffff (found by the fuzzer: an incremental update gave 0).
TEST_F(IcmpTest, Icmp_EchoOfZeros_ReplyChecksumFfff)
{
	StartLearned();
	for (size_t n : { 0, 4, 5 }) {
		SCOPED_TRACE(std::to_string(n) + " bytes of data");
		Bytes icmp = IcmpEcho(8, 0, 0, Bytes(n, 0));
		Inject(EthFrame(kOurMac, kPeerMac, 0x0800, Ipv4Packet(kPeerIp, kOurIp, 1, icmp)));
		Bytes reply = Parse(ExpectOneTx()).l4;
		ASSERT_EQ(reply.size(), icmp.size());
		EXPECT_EQ(reply[2], 0xff);
		EXPECT_EQ(reply[3], 0xff);
		ExpectEchoBody(reply, icmp);
	}
}

TEST_F(IcmpTest, Icmp_SuccessiveEchoes_DistinctIpIds)
{
	StartLearned();
	Inject(Ping(kPeerIp, 1));
	Inject(Ping(kPeerIp, 2));
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 2u);
	EXPECT_NE(Parse(tx[0]).ip_id, Parse(tx[1]).ip_id);
}

// --- Drops -------------------------------------------------------------------------

TEST_F(IcmpTest, Icmp_ChecksumWrong_BadChecksum)
{
	StartLearned();
	for (size_t at : { 2, 3, 8, 20 }) {
		SCOPED_TRACE(at);
		Bytes f = Ping(kPeerIp, 1, Pattern(16));
		f[34 + at] ^= 0x40;
		EXPECT_TRUE(Dropped(f, { { "ip_rx", 1 }, { "icmp_rx", 1 }, { "icmp_bad_checksum", 1 } }));
	}
}

TEST_F(IcmpTest, Icmp_ShorterThan8Bytes_TooShort)
{
	StartLearned();
	Bytes icmp = IcmpEcho(8, 1, 1, Bytes());
	for (size_t n : { 0, 4, 7 }) {
		SCOPED_TRACE(n);
		Bytes ip = Ipv4Packet(kPeerIp, kOurIp, 1, Bytes(icmp.begin(), icmp.begin() + (long)n));
		EXPECT_TRUE(Dropped(EthFrame(kOurMac, kPeerMac, 0x0800, ip),
				    { { "ip_rx", 1 }, { "icmp_rx", 1 }, { "icmp_too_short", 1 } }));
	}
}

TEST_F(IcmpTest, Icmp_EchoReplyReceived_CountedNotAnswered)
{
	StartLearned();
	EXPECT_TRUE(Dropped(IcmpFrame(0, 0, Pattern(56), 0x00010001),
			    { { "ip_rx", 1 }, { "icmp_rx", 1 }, { "icmp_echo_reply_rx", 1 } }));
}

TEST_F(IcmpTest, Icmp_TypeNotServed_UnknownType)
{
	StartLearned();
	// Timestamp, information request, address mask request, router
	// advertisement, and types no RFC gives.
	for (uint8_t type : { 13, 15, 17, 9, 42, 255 }) {
		SCOPED_TRACE(type);
		EXPECT_TRUE(Dropped(IcmpFrame(type, 0, Pattern(12)),
				    { { "ip_rx", 1 }, { "icmp_rx", 1 }, { "icmp_unknown_type", 1 } }));
	}
}

// --- Errors (RFC 792; RFC 1122 §3.2.2) ------------------------------------------------

TEST_F(IcmpTest, Icmp_Errors_CountedByKind)
{
	StartLearned();
	struct {
		uint8_t type, code;
		const char *counter;
	} errors[] = {
		{ 3, 0, "icmp_err_unreach" },        // net unreachable
		{ 3, 1, "icmp_err_unreach" },        // host unreachable
		{ 3, 3, "icmp_err_unreach" },        // port unreachable
		{ 3, 4, "icmp_err_frag_needed" },
		{ 11, 0, "icmp_err_time_exceeded" },
		{ 11, 1, "icmp_err_time_exceeded" },
		{ 12, 0, "icmp_err_param_problem" },
		{ 4, 0, "icmp_err_source_quench" },
	};

	for (const auto &e : errors) {
		SCOPED_TRACE(std::to_string(e.type) + "/" + std::to_string(e.code));
		// The quoted segment is TCP, from a connection we do not have.
		const char *end = e.type == 4 ? "icmp_err_ignored" : "icmp_err_tcp_no_conn";
		EXPECT_TRUE(Dropped(IcmpFrame(e.type, e.code, Quote(8), e.code == 4 ? 1400 : 0),
				    { { "ip_rx", 1 }, { "icmp_rx", 1 }, { e.counter, 1 }, { end, 1 } }));
	}
}

TEST_F(IcmpTest, Icmp_ErrorQuotingOptionsAndEightBytes_Counted)
{
	StartLearned();
	EXPECT_TRUE(Dropped(IcmpFrame(3, 3, Quote(8, 6)),
			    { { "ip_rx", 1 }, { "icmp_rx", 1 }, { "icmp_err_unreach", 1 },
			      { "icmp_err_tcp_no_conn", 1 } }));
	// More than 8 bytes quoted (RFC 1812 routers quote as much as fits).
	EXPECT_TRUE(Dropped(IcmpFrame(11, 0, Quote(200)),
			    { { "ip_rx", 1 }, { "icmp_rx", 1 }, { "icmp_err_time_exceeded", 1 },
			      { "icmp_err_tcp_no_conn", 1 } }));
}

TEST_F(IcmpTest, Icmp_ErrorQuotingTooLittle_Malformed)
{
	StartLearned();
	const Deltas malformed = { { "ip_rx", 1 }, { "icmp_rx", 1 }, { "icmp_err_malformed", 1 } };
	Bytes v6 = Quote(8), cut = Quote(0);
	v6[0] = 0x65;
	cut.resize(19);
	struct {
		const char *what;
		Bytes quote;
	} cases[] = {
		{ "nothing", Bytes() },
		{ "a header cut short", cut },
		{ "the header alone", Quote(0) },
		{ "header and 7 bytes", Quote(7) },
		{ "24-byte header and 7 bytes", Quote(7, 6) },
		{ "an IHL below 5", Quote(8, 4) },
		{ "not IPv4", v6 },
	};

	for (const auto &c : cases) {
		SCOPED_TRACE(c.what);
		for (uint8_t type : { 3, 4, 11, 12 })
			EXPECT_TRUE(Dropped(IcmpFrame(type, 0, c.quote), malformed)) << int(type);
	}
}

} // namespace
