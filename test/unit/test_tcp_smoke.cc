// SPDX-License-Identifier: BSD-3-Clause
// The TCP harness on its own (segments built, then read back byte by byte),
// then both opens through the fixture, with and without RFC 7323 options.
#include "tcp_harness.h"

#include <random>

#include <sodium.h>

#include "../../lib/tcp/siphash.h"

namespace {

// The pseudo-header (RFC 9293 §3.1) written out, for checksums checked
// without the harness's own helper.
Bytes PseudoHeader(uint32_t src, uint32_t dst, size_t tcp_len)
{
	Bytes b;

	for (uint32_t a : { src, dst })
		for (int i = 3; i >= 0; i--)
			b.push_back((uint8_t)(a >> (8 * i)));
	b.push_back(0);
	b.push_back(6);
	b.push_back((uint8_t)(tcp_len >> 8));
	b.push_back((uint8_t)tcp_len);
	return b;
}

// The TCP segment of a frame built with a plain 20-byte IPv4 header.
Bytes TcpBytes(const Bytes &frame)
{
	return Bytes(frame.begin() + 14 + 20, frame.end());
}

// --- The builder and the parser -------------------------------------------------------

TEST_F(TcpTest, Harness_SegBuilder_EveryFieldReadsBack)
{
	Seg seg = Seg().sport(1234).dport(80).seq(0x01020304).ack_(0xa0b0c0d0);
	seg.syn().ack().psh().urg().ece().cwr().win(0x1234).urp(0x0005);
	seg.mss(1460).ws(7).sack_ok().ts(0x11111111, 0x22222222);
	seg.sack({ { 100, 200 }, { 300, 400 } }).nop().data("hello");
	Bytes f = Frame(seg);

	// Options: 4 + 3 + 2 + 10 + 18 + 1 = 38 bytes, padded to 40.
	Bytes t = TcpBytes(f);
	ASSERT_EQ(t.size(), 20u + 40 + 5);
	EXPECT_EQ(t[12], 15 << 4) << "data offset 15 words, reserved bits clear";
	EXPECT_EQ(t[13], kSyn | kAck | kPsh | kUrg | kEce | kCwr);
	EXPECT_EQ(t[20 + 38], kOptEol);
	EXPECT_EQ(t[20 + 39], kOptEol);
	Bytes sum = PseudoHeader(kPeerIp, kOurIp, t.size());
	sum.insert(sum.end(), t.begin(), t.end());
	EXPECT_EQ(RefCksum(sum.data(), sum.size()), 0) << "TCP checksum over the pseudo-header";

	TcpSeg s = ParseTcp(f);
	SCOPED_TRACE(ToString(s));
	ASSERT_TRUE(s.ok);
	EXPECT_EQ(s.eth_src, kPeerMac);
	EXPECT_EQ(s.eth_dst, kOurMac);
	EXPECT_EQ(s.ip_src, kPeerIp);
	EXPECT_EQ(s.ip_dst, kOurIp);
	EXPECT_EQ(s.ttl, 64);
	EXPECT_FALSE(s.df);
	EXPECT_TRUE(s.ip_cksum_ok);
	EXPECT_TRUE(s.cksum_ok);
	EXPECT_EQ(s.sport, 1234);
	EXPECT_EQ(s.dport, 80);
	EXPECT_EQ(s.seq, 0x01020304u);
	EXPECT_EQ(s.ack, 0xa0b0c0d0u);
	EXPECT_EQ(s.doff, 15);
	EXPECT_EQ(s.reserved, 0);
	EXPECT_EQ(FlagsString(s.flags), "SPAUEC");
	EXPECT_TRUE(s.Has(kSyn | kAck));
	EXPECT_FALSE(s.Has(kFin));
	EXPECT_EQ(s.win, 0x1234);
	EXPECT_EQ(s.urp, 5);
	EXPECT_TRUE(s.opts_ok);
	EXPECT_EQ(s.opts.size(), 40u);
	EXPECT_TRUE(s.has_mss);
	EXPECT_EQ(s.mss, 1460);
	EXPECT_TRUE(s.has_ws);
	EXPECT_EQ(s.ws, 7);
	EXPECT_TRUE(s.sack_ok);
	EXPECT_TRUE(s.has_ts);
	EXPECT_EQ(s.tsval, 0x11111111u);
	EXPECT_EQ(s.tsecr, 0x22222222u);
	EXPECT_EQ(s.sacks, (std::vector<SackBlock>{ { 100, 200 }, { 300, 400 } }));
	EXPECT_EQ(s.payload, Bytes({ 'h', 'e', 'l', 'l', 'o' }));
}

TEST_F(TcpTest, Harness_Options_InCallOrderPaddedWithEol)
{
	Bytes f = Frame(Seg().syn().mss(1460).nop().ws(7).sack_ok());
	Bytes t = TcpBytes(f);

	EXPECT_EQ(t.size(), 32u);
	EXPECT_EQ(t[12] >> 4, 8) << "data offset";
	EXPECT_EQ(Bytes(t.begin() + 20, t.end()),
		  Bytes({ 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 0, 0 }));
	TcpSeg s = ParseTcp(f);
	EXPECT_TRUE(s.ok && s.opts_ok && s.cksum_ok) << ToString(s);
	EXPECT_EQ(s.sport, kPeerPort) << "defaults: the peer's port to ours";
	EXPECT_EQ(s.dport, kOurPort);
	EXPECT_EQ(s.win, 65535);
	EXPECT_EQ(FlagsString(s.flags), "S");

	// With no options the header is 20 bytes and nothing is padded.
	EXPECT_EQ(TcpBytes(Frame(Seg().ack())).size(), 20u);
	EXPECT_EQ(TcpBytes(Frame(Seg().ack()))[12], 5 << 4);
}

TEST_F(TcpTest, Harness_MalformedOptions_ComeOutAsGiven)
{
	// TS with length 3, then a kind whose length runs past the header.
	Bytes raw = { kOptTs, 3, 1, 2, 0x1e, 9, 0, 0 };
	TcpSeg s = ParseTcp(Frame(Seg().ack().opt(raw)));
	EXPECT_TRUE(s.ok);
	EXPECT_TRUE(s.cksum_ok);
	EXPECT_EQ(s.opts, raw);
	EXPECT_FALSE(s.opts_ok);
	EXPECT_FALSE(s.has_ts);

	// MSS with length 0: a walker that trusts it never moves on.
	s = ParseTcp(Frame(Seg().ack().opt({ kOptMss, 0, 0, 0 })));
	EXPECT_EQ(s.opts, Bytes({ kOptMss, 0, 0, 0 }));
	EXPECT_FALSE(s.opts_ok);
	EXPECT_FALSE(s.has_mss);

	// Unknown kinds are skipped by their length.
	s = ParseTcp(Frame(Seg().ack().opt({ 0x1e, 4, 0xaa, 0xbb }).mss(536)));
	EXPECT_TRUE(s.opts_ok) << ToString(s);
	EXPECT_EQ(s.mss, 536);

	// A data offset past the segment, and one below 5, as given.
	Bytes t = TcpBytes(Frame(Seg().ack().doff(15).data("xy")));
	EXPECT_EQ(t.size(), 22u);
	EXPECT_EQ(t[12], 15 << 4);
	EXPECT_FALSE(ParseTcp(Frame(Seg().ack().doff(15).data("xy"))).ok);
	EXPECT_EQ(TcpBytes(Frame(Seg().ack().doff(4)))[12], 4 << 4);
	EXPECT_FALSE(ParseTcp(Frame(Seg().ack().doff(4))).ok);
}

TEST_F(TcpTest, Harness_ChecksumAndAddresses_AsAsked)
{
	EXPECT_FALSE(ParseTcp(Frame(Seg().ack().data("abc").bad_cksum())).cksum_ok);

	// Other addresses: the checksum covers them, the IPv4 options apply.
	Ipv4Opts o;
	o.ttl = 3;
	o.frag = 0x4000;
	Bytes f = Frame(Seg().ack().ip_src(Ip(10, 0, 0, 1)).ip_dst(Ip(10, 0, 0, 2)).ip(o).data("abc"));
	Bytes t = TcpBytes(f);
	Bytes sum = PseudoHeader(Ip(10, 0, 0, 1), Ip(10, 0, 0, 2), t.size());
	sum.insert(sum.end(), t.begin(), t.end());
	EXPECT_EQ(RefCksum(sum.data(), sum.size()), 0);
	TcpSeg s = ParseTcp(f);
	EXPECT_TRUE(s.cksum_ok);
	EXPECT_EQ(s.ip_src, Ip(10, 0, 0, 1));
	EXPECT_EQ(s.ip_dst, Ip(10, 0, 0, 2));
	EXPECT_EQ(s.ttl, 3);
	EXPECT_TRUE(s.df);

	// Raw flags replace those set before; reserved bits land below the offset.
	s = ParseTcp(Frame(Seg().syn().flags(kRst | kAck).reserved(0x9)));
	EXPECT_EQ(FlagsString(s.flags), "RA");
	EXPECT_EQ(s.reserved, 0x9);
	EXPECT_EQ(s.doff, 5);

	// Not TCP: not ok.
	EXPECT_FALSE(ParseTcp(Ping(kPeerIp, 1)).ok);
}

TEST(TcpHarnessText, Harness_FlagsAndSynOptions_AsDocumented)
{
	EXPECT_EQ(FlagsString(kSyn | kAck), "SA");
	EXPECT_EQ(FlagsString(kRst), "R");
	EXPECT_EQ(FlagsString(kRst | kAck), "RA");
	EXPECT_EQ(FlagsString(kFin | kAck), "FA");
	EXPECT_EQ(FlagsString(kPsh | kAck), "PA");
	EXPECT_EQ(FlagsString(kFin | kPsh | kAck), "FPA");
	EXPECT_EQ(FlagsString(0), "");

	// The layouts the fixture expects of our SYN and SYN-ACK.
	EXPECT_EQ(SynOptionBytes(1460, false, false, 0, 0, -1), Bytes({ 2, 4, 0x05, 0xb4 }));
	EXPECT_EQ(SynOptionBytes(1460, true, false, 0, 0, 3),
		  Bytes({ 2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 3 }));
	EXPECT_EQ(SynOptionBytes(536, false, true, 0x01020304, 0x0a0b0c0d, 14),
		  Bytes({ 2, 4, 0x02, 0x18, 1, 1, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13, 1, 3, 3, 14 }));
	EXPECT_EQ(SynOptionBytes(1460, true, true, 5, 0, -1),
		  Bytes({ 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 5, 0, 0, 0, 0 }));
}

// --- Both opens, with RFC 7323 options off (most suites) and on (the defaults) ----------

class TcpOpen : public TcpTest, public ::testing::WithParamInterface<bool> {
protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		cfg_.tcp_timestamps = GetParam();
		cfg_.tcp_window_scale = GetParam();
	}
};

TEST_P(TcpOpen, Listen_SynThenAck_Established)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	EXPECT_EQ(ts_ok_, GetParam());
	EXPECT_EQ(ws_ok_, GetParam());
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_passive_open), 1u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_established), 1u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_accepted), 1u);
	uint64_t counts[DTCP_TCP_STATE_MAX];
	dtcp_tcp_state_counts(w_, counts);
	EXPECT_EQ(counts[DTCP_TCP_ESTABLISHED], 1u);
	ExpectNoTx();
}

TEST_P(TcpOpen, SynSent_SynAck_Established)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	EXPECT_EQ(ts_ok_, GetParam());
	EXPECT_EQ(ws_ok_, GetParam());
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_active_open), 1u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_established), 1u);
	uint64_t counts[DTCP_TCP_STATE_MAX];
	dtcp_tcp_state_counts(w_, counts);
	EXPECT_EQ(counts[DTCP_TCP_ESTABLISHED], 1u);
	ExpectNoTx();
}

INSTANTIATE_TEST_SUITE_P(Rfc7323, TcpOpen, ::testing::Bool(),
			 [](const ::testing::TestParamInfo<bool> &i) {
				 return i.param ? "TsWs" : "Plain";
			 });

} // namespace

// The PRF behind ISNs and SYN cookies is SipHash-2-4 written in
// lib/tcp/siphash.h: it must be libsodium's function, on every input
// length across the 8-byte blocks, for random keys.
TEST(SipHash, EqualsLibsodium)
{
	ASSERT_GE(sodium_init(), 0);
	std::mt19937_64 rng(24);
	for (int i = 0; i < 20000; i++) {
		uint8_t key[16], in[80];
		for (auto &b : key)
			b = (uint8_t)rng();
		for (auto &b : in)
			b = (uint8_t)rng();
		size_t len = (size_t)(i % 81);
		uint64_t want = 0;
		crypto_shorthash_siphash24((unsigned char *)&want, in, len, key);
		ASSERT_EQ(dtcp_siphash24(key, in, len), want) << "length " << len;
	}
}
