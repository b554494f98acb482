// SPDX-License-Identifier: BSD-3-Clause
// Offloads ([port] offloads, tso, lro): what the stack asks of a port that
// offers checksums and TSO, read from the frames as it built them (flags,
// header lengths, the pseudo-header's sum in the TCP checksum field), then
// finished as a NIC would (NicTransmit, or DPDK's GSO library) and checked
// whole; and what it makes of a port's verdicts on received checksums:
// GOOD and NONE trusted, BAD dropped, UNKNOWN checked in software, and no
// flag read at all from a port that was not asked for them. Received
// segments joined by LRO arrive as mbuf chains.
#include "tcp_harness.h"

#include <algorithm>
#include <string>
#include <vector>

#include <rte_ethdev.h>
#include <rte_gso.h>

namespace {

constexpr uint64_t kTxCksum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
constexpr uint64_t kTxAll = kTxCksum | RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
constexpr uint64_t kRxAll = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
			    RTE_ETH_RX_OFFLOAD_TCP_LRO | RTE_ETH_RX_OFFLOAD_SCATTER;
// What a checksummed frame asks of the port.
constexpr uint64_t kTxCksumFlags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
				   RTE_MBUF_F_TX_TCP_CKSUM;
constexpr uint64_t kTsoFlags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;

// The peer's MSS (1460) less the 12 bytes of timestamps every segment carries.
constexpr uint16_t kMss = 1448;
constexpr size_t kHdrs = 14 + 20 + 32;   // Ethernet, IPv4, TCP with timestamps

uint16_t Get16(const Bytes &b, size_t at)
{
	return (uint16_t)(b[at] << 8 | b[at + 1]);
}

// The pseudo-header's sum as rte_ipv4_phdr_cksum() gives it: folded, not
// complemented; TSO leaves the length out (each segment's is added by the port).
uint16_t PhdrSum(uint32_t src, uint32_t dst, uint32_t tcp_len)
{
	uint32_t raw = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + tcp_len;

	return (uint16_t)~RefCksum(nullptr, 0, raw);
}

class Offload : public TcpTest {
protected:
	void TearDown() override
	{
		FreeRaw();
		TcpTest::TearDown();
	}

	// The port offers tx and rx; the connection is opened passively.
	void Open(uint64_t tx, uint64_t rx)
	{
		port_tx_offloads_ = tx;
		port_rx_offloads_ = rx;
		Start();
		ASSERT_NO_FATAL_FAILURE(OpenPassive());
	}

	// Frames sent, as the stack built them; freed at the next call or at the end.
	const std::vector<struct rte_mbuf *> &TakeRaw()
	{
		struct rte_mbuf *m;

		FreeRaw();
		while (dtcp_memport_take(port_, &m, 1) == 1)
			raw_.push_back(m);
		return raw_;
	}
	struct rte_mbuf *TakeOneRaw()
	{
		const std::vector<struct rte_mbuf *> &r = TakeRaw();

		EXPECT_EQ(r.size(), 1u) << "frames sent";
		return r.empty() ? nullptr : r[0];
	}
	void FreeRaw()
	{
		for (struct rte_mbuf *m : raw_)
			rte_pktmbuf_free(m);
		raw_.clear();
	}

	// A frame with the RX flags a port would give it, received in one poll.
	void InjectFlagged(const Bytes &frame, uint64_t ol_flags)
	{
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool_);

		ASSERT_NE(m, nullptr);
		char *p = rte_pktmbuf_append(m, (uint16_t)frame.size());
		ASSERT_NE(p, nullptr);
		memcpy(p, frame.data(), frame.size());
		m->ol_flags = ol_flags;
		ASSERT_EQ(dtcp_memport_inject(port_, m), 0);
		Poll();
	}

	// n bytes of data from the application, copied into the send queue.
	void Write(const Bytes &data)
	{
		ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, data.data(), (uint32_t)data.size()),
			  (int)data.size());
	}

	// The same, handed over as a chain of mbufs of the given sizes (zero-copy).
	void WriteMbufs(const Bytes &data, const std::vector<size_t> &sizes)
	{
		struct rte_mbuf *head = nullptr;
		size_t off = 0;

		for (size_t n : sizes) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool_);

			ASSERT_NE(m, nullptr);
			memcpy(rte_pktmbuf_append(m, (uint16_t)n), data.data() + off, n);
			off += n;
			if (head == nullptr)
				head = m;
			else
				ASSERT_EQ(rte_pktmbuf_chain(head, m), 0);
		}
		ASSERT_EQ(off, data.size());
		ASSERT_EQ(dtcp_tcp_send(w_, conn_, head), 0);
	}

	// A frame of ours as the stack built it: where the port is told the
	// headers are, what the checksum fields hold before the port's turn.
	void ExpectAsked(const struct rte_mbuf *m, uint64_t flags, uint8_t l4_len)
	{
		ASSERT_NE(m, nullptr);
		Bytes f = MbufBytes(m);
		ASSERT_GE(f.size(), 14u + 20 + l4_len);
		EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, flags);
		EXPECT_EQ(m->l2_len, 14u);
		EXPECT_EQ(m->l3_len, 20u);
		EXPECT_EQ(m->l4_len, l4_len);
		uint32_t tcp_len = (flags & RTE_MBUF_F_TX_TCP_SEG) ? 0 : (uint32_t)(f.size() - 34);
		EXPECT_EQ(Get16(f, 34 + 16), PhdrSum(kOurIp, kPeerIp, tcp_len))
			<< "the TCP checksum field holds the pseudo-header's sum";
		if (flags & RTE_MBUF_F_TX_IP_CKSUM) {
			EXPECT_EQ(Get16(f, 14 + 10), 0) << "the IPv4 header checksum is the port's";
		}
		EXPECT_EQ(m->tso_segsz, (flags & RTE_MBUF_F_TX_TCP_SEG) ? kMss : 0);
	}

	std::vector<struct rte_mbuf *> raw_;
};

// --- TX checksums --------------------------------------------------------------------

TEST_F(Offload, TxCksum_PortOffersNone_SoftwareSumsWhole)
{
	ASSERT_NO_FATAL_FAILURE(Open(0, 0));
	Write(Pattern(3000));
	Poll();
	const std::vector<struct rte_mbuf *> &r = TakeRaw();
	ASSERT_EQ(r.size(), 3u);
	for (struct rte_mbuf *m : r) {
		EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0u);
		TcpSeg s = ParseTcp(MbufBytes(m));
		EXPECT_TRUE(s.cksum_ok && s.ip_cksum_ok) << s;
	}
}

TEST_F(Offload, TxCksum_ConfigOff_SoftwareSumsWhole)
{
	cfg_.offloads = DTCP_OFFLOAD_OFF;
	ASSERT_NO_FATAL_FAILURE(Open(kTxAll, kRxAll));
	Write(Pattern(5 * kMss));
	Poll();
	const std::vector<struct rte_mbuf *> &r = TakeRaw();
	ASSERT_EQ(r.size(), 5u) << "no TSO either";
	for (struct rte_mbuf *m : r) {
		EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0u);
		TcpSeg s = ParseTcp(MbufBytes(m));
		EXPECT_TRUE(s.cksum_ok && s.ip_cksum_ok) << s;
		EXPECT_EQ(s.payload.size(), kMss);
	}
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_tso_tx), 0u);
}

// The handshake, data, a bare ACK and a RST: every segment leaves its sums to
// the port, which (NicTransmit, through the fixture's checks) makes them valid.
TEST_F(Offload, TxCksum_EverySegment_PseudoHeaderSumAndLengths)
{
	port_tx_offloads_ = kTxCksum | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	Start();
	Listen();
	Inject(PeerSyn());
	struct rte_mbuf *synack = TakeOneRaw();
	// MSS, NOP NOP TS, NOP WS: 20 bytes of options.
	ExpectAsked(synack, kTxCksumFlags, 40);
	std::vector<Bytes> wire = NicTransmit(synack);
	ASSERT_EQ(wire.size(), 1u);
	TcpSeg sa = ParseTcp(wire[0]);
	EXPECT_TRUE(sa.Has(kSyn | kAck) && sa.cksum_ok && sa.ip_cksum_ok) << sa;
	FreeRaw();

	// The fixture's own open, each segment finished by the port and checked.
	ASSERT_NO_FATAL_FAILURE(OpenPassive(Seg().syn().sport(40001).seq(P(0)).win(kPeerWin)
					    .mss(kPeerMss).ts(peer_ts_, 0).nop().ws(0)));
	Bytes data = Pattern(1001, 5);        // odd: the last 16-bit word is half a word
	Write(data);
	Poll();
	struct rte_mbuf *m = TakeOneRaw();
	ExpectAsked(m, kTxCksumFlags, 32);
	wire = NicTransmit(m);
	ASSERT_EQ(wire.size(), 1u);
	TcpSeg s = ExpectSeg(wire[0], "PA", O(1), P(1));
	EXPECT_TRUE(s.payload == data);

	// A bare ACK, then our RST on abort.
	Inject(PeerAck().seq(P(rcv_)).ack_(O(1 + 1001)).data("x"));
	ExpectAsked(TakeOneRaw(), kTxCksumFlags, 32);
	dtcp_tcp_abort(w_, conn_);
	Poll();
	ExpectAsked(TakeOneRaw(), kTxCksumFlags, 20);
	FreeRaw();
	TakeEvents();
}

// Zero-copy payloads of odd lengths: segments whose mbufs end at odd bytes
// (a port must sum across them as one run of bytes, which some do not).
TEST_F(Offload, TxCksum_OddLengthMbufs_SegmentsValidOnceThePortSums)
{
	ASSERT_NO_FATAL_FAILURE(Open(kTxAll, 0));
	Bytes data = Pattern(5 * 1001, 6);
	ASSERT_NO_FATAL_FAILURE(WriteMbufs(data, { 1001, 1001, 1001, 1001, 1001 }));
	Poll();
	Bytes got;
	for (const Bytes &f : TakeTx()) {
		TcpSeg s = ParseTcp(f);
		EXPECT_TRUE(s.cksum_ok && s.ip_cksum_ok) << s;
		EXPECT_EQ(s.seq, O(1 + (int64_t)got.size()));
		got.insert(got.end(), s.payload.begin(), s.payload.end());
	}
	EXPECT_TRUE(got == data);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_tso_tx), 1u);
}

// A port with TCP but no IPv4 checksum: the header's sum in software.
TEST_F(Offload, TxCksum_TcpOnly_IpHeaderSumInSoftware)
{
	ASSERT_NO_FATAL_FAILURE(Open(RTE_ETH_TX_OFFLOAD_TCP_CKSUM, 0));
	Write(Pattern(100));
	Poll();
	struct rte_mbuf *m = TakeOneRaw();
	ASSERT_NE(m, nullptr);
	EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK,
		  RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM);
	Bytes f = MbufBytes(m);
	EXPECT_EQ(RefCksum(&f[14], 20), 0) << "IPv4 header checksum written";
	EXPECT_EQ(Get16(f, 34 + 16), PhdrSum(kOurIp, kPeerIp, (uint32_t)(f.size() - 34)));
	TcpSeg s = ParseTcp(NicTransmit(m).at(0));
	EXPECT_TRUE(s.cksum_ok && s.ip_cksum_ok) << s;
}

// ICMP sums its own message; only the IPv4 header is left to the port, and
// a reply cut into fragments has every sum written in software.
TEST_F(Offload, TxCksum_IcmpReplies_IpHeaderOnly_FragmentsInSoftware)
{
	port_tx_offloads_ = kTxAll;
	Start();
	Bytes icmp = IcmpEcho(8, 0x4242, 1, Pattern(64));
	Inject(EthFrame(kOurMac, kPeerMac, 0x0800, Ipv4Packet(kPeerIp, kOurIp, 1, icmp)));
	struct rte_mbuf *m = TakeOneRaw();
	ASSERT_NE(m, nullptr);
	EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK,
		  RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
	EXPECT_EQ(m->l2_len, 14u);
	EXPECT_EQ(m->l3_len, 20u);
	ExpectEchoReply(NicTransmit(m).at(0), icmp);
	FreeRaw();

	// 3000 bytes come as fragments and leave as fragments.
	Bytes big = IcmpEcho(8, 0x4242, 2, Pattern(3000));
	for (const Bytes &f : Ipv4Fragments(kPeerIp, kOurIp, 1, big, 1480, 77))
		Inject(EthFrame(kOurMac, kPeerMac, 0x0800, f));
	const std::vector<struct rte_mbuf *> &r = TakeRaw();
	ASSERT_EQ(r.size(), 3u);
	std::vector<Bytes> frames;
	for (struct rte_mbuf *f : r) {
		EXPECT_EQ(f->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0u);
		frames.push_back(MbufBytes(f));
	}
	ExpectEchoBody(ReassembleReply(frames), big);
}

// --- TSO -------------------------------------------------------------------------------

// One write of 5 MSS and 100 bytes: one frame, cut by the port into six
// segments of kMss (the last 100 bytes), PSH on the last only.
TEST_F(Offload, Tso_OneWrite_OneFrameCutIntoMssSegments)
{
	ASSERT_NO_FATAL_FAILURE(Open(kTxAll, 0));
	Bytes data = Pattern(5 * kMss + 100, 9);
	Write(data);
	Mark();
	Poll();
	struct rte_mbuf *m = TakeOneRaw();
	ExpectAsked(m, kTsoFlags, 32);
	ASSERT_NE(m, nullptr);
	EXPECT_EQ(m->pkt_len, kHdrs + data.size());
	EXPECT_EQ(Moved(), (Deltas{ { "tcp_tso_tx", 1 }, { "tcp_tso_segs", 6 }, { "tcp_tx", 6 },
				    { "tcp_tx_data", 6 }, { "tcp_tx_data_bytes", data.size() },
				    { "ip_tx", 1 }, { "tx_frames", 1 } }));
	TcpSeg whole = ParseTcp(MbufBytes(m));
	EXPECT_EQ(FlagsString(whole.flags), "PA") << "the frame ends the write";
	EXPECT_EQ(whole.seq, O(1));

	// The harness's NIC: six segments.
	std::vector<Bytes> wire = NicTransmit(m);
	ASSERT_EQ(wire.size(), 6u);
	for (size_t i = 0; i < wire.size(); i++)
		ExpectSeg(wire[i], i + 1 == wire.size() ? "PA" : "A", O(1 + (int64_t)i * kMss), P(1));

	// DPDK's software GSO cuts the frame as a NIC would; then the sums.
	struct rte_gso_ctx ctx = {};
	ctx.direct_pool = pool_;
	ctx.indirect_pool = pool_;
	ctx.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO;
	ctx.gso_size = (uint16_t)(kHdrs + m->tso_segsz);
	struct rte_mbuf *segs[16];
	int n = rte_gso_segment(m, &ctx, segs, RTE_DIM(segs));
	ASSERT_EQ(n, 6);
	Bytes got;
	for (int i = 0; i < n; i++) {
		SCOPED_TRACE("segment " + std::to_string(i));
		// The segments keep the checksum requests; the port's sum has the length added.
		segs[i]->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
		Bytes f = MbufBytes(segs[i]);
		uint16_t want = PhdrSum(kOurIp, kPeerIp, 0);
		EXPECT_EQ(Get16(f, 34 + 16), want);
		// Put the length in, as rte_ipv4_phdr_cksum without TSO would have it.
		uint16_t with_len = PhdrSum(kOurIp, kPeerIp, (uint32_t)(f.size() - 34));
		uint8_t *ck = rte_pktmbuf_mtod_offset(segs[i], uint8_t *, 34 + 16);
		ck[0] = (uint8_t)(with_len >> 8);
		ck[1] = (uint8_t)with_len;
		std::vector<Bytes> one = NicTransmit(segs[i]);
		ASSERT_EQ(one.size(), 1u);
		bool last = i == n - 1;
		TcpSeg s = ExpectSeg(one[0], last ? "PA" : "A", O(1 + (int64_t)i * kMss), P(1));
		EXPECT_EQ(s.payload.size(), last ? 100u : kMss);
		EXPECT_TRUE(s.df);
		got.insert(got.end(), s.payload.begin(), s.payload.end());
		rte_pktmbuf_free(segs[i]);
	}
	EXPECT_TRUE(got == data) << "the bytes written, in order";
}

TEST_F(Offload, Tso_WriteThenShutdown_FinOnTheLastSegmentOnly)
{
	ASSERT_NO_FATAL_FAILURE(Open(kTxAll, 0));
	Write(Pattern(3 * kMss + 7));
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	Poll();
	struct rte_mbuf *m = TakeOneRaw();
	ExpectAsked(m, kTsoFlags, 32);
	std::vector<Bytes> wire = NicTransmit(m);
	ASSERT_EQ(wire.size(), 4u);
	for (size_t i = 0; i < wire.size(); i++)
		ExpectSeg(wire[i], i == 3 ? "FPA" : "A", O(1 + (int64_t)i * kMss), P(1));
	EXPECT_EQ(Info().snd_nxt, O(1 + 3 * kMss + 7 + 1)) << "the FIN counts";
	ExpectState(DTCP_TCP_FIN_WAIT_1);
}

// Above tso_max: whole segments first, without PSH; the rest ends the write.
TEST_F(Offload, Tso_WriteAboveTsoMax_WholeSegmentsThenTheRest)
{
	cfg_.tso_max = 4096;
	ASSERT_NO_FATAL_FAILURE(Open(kTxAll, 0));
	Write(Pattern(5000));
	Poll();
	const std::vector<struct rte_mbuf *> &r = TakeRaw();
	ASSERT_EQ(r.size(), 2u);
	ExpectAsked(r[0], kTsoFlags, 32);
	ExpectAsked(r[1], kTsoFlags, 32);
	TcpSeg a = ParseTcp(MbufBytes(r[0])), b = ParseTcp(MbufBytes(r[1]));
	EXPECT_EQ(a.payload.size(), 2u * kMss) << "4096 rounded down to whole segments";
	EXPECT_EQ(FlagsString(a.flags), "A");
	EXPECT_EQ(b.seq, O(1 + 2 * kMss));
	EXPECT_EQ(b.payload.size(), 5000u - 2 * kMss);
	EXPECT_EQ(FlagsString(b.flags), "PA");
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_tso_segs), 4u);
}

// Nagle (RFC 896): the short last piece waits for the ACK, as it would without TSO.
TEST_F(Offload, Tso_Nagle_ShortLastPieceWaitsForTheAck)
{
	cfg_.tcp_nodelay = 0;
	ASSERT_NO_FATAL_FAILURE(Open(kTxAll, 0));
	Write(Pattern(3 * kMss + 100));
	Poll();
	struct rte_mbuf *m = TakeOneRaw();
	ExpectAsked(m, kTsoFlags, 32);
	EXPECT_EQ(m->pkt_len, kHdrs + 3 * kMss);
	EXPECT_EQ(FlagsString(ParseTcp(MbufBytes(m)).flags), "A");
	FreeRaw();
	snd_ = 1 + 3 * kMss;
	Inject(PeerAck());
	m = TakeOneRaw();
	ExpectAsked(m, kTxCksumFlags, 32);
	TcpSeg s = ExpectSeg(NicTransmit(m).at(0), "PA", O(snd_), P(1));
	EXPECT_EQ(s.payload.size(), 100u);
}

TEST_F(Offload, Tso_ConfigOff_OneMssPerFrameSumsStillOffloaded)
{
	cfg_.tso = DTCP_OFFLOAD_OFF;
	ASSERT_NO_FATAL_FAILURE(Open(kTxAll, 0));
	Write(Pattern(3 * kMss));
	Poll();
	const std::vector<struct rte_mbuf *> &r = TakeRaw();
	ASSERT_EQ(r.size(), 3u);
	for (struct rte_mbuf *m : r)
		ExpectAsked(m, kTxCksumFlags, 32);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_tso_tx), 0u);
}

// The port takes at most 4 mbufs a frame: a header and 3 of the send queue.
TEST_F(Offload, Tso_SegMax_FrameShortenedToWholeSegments)
{
	port_seg_max_ = 4;
	ASSERT_NO_FATAL_FAILURE(Open(kTxAll, 0));
	Bytes data = Pattern(6000, 2);
	ASSERT_NO_FATAL_FAILURE(WriteMbufs(data, { 1000, 1000, 1000, 1000, 1000, 1000 }));
	Poll();
	const std::vector<struct rte_mbuf *> &r = TakeRaw();
	ASSERT_GE(r.size(), 2u);
	ExpectAsked(r[0], kTsoFlags, 32);
	EXPECT_EQ(r[0]->pkt_len, kHdrs + 2 * kMss) << "3000 bytes fit, 2 segments of them";
	EXPECT_LE(r[0]->nb_segs, 4u);
	Bytes got;
	for (struct rte_mbuf *m : r) {
		EXPECT_LE(m->nb_segs, 4u);
		for (const Bytes &f : NicTransmit(m)) {
			TcpSeg s = ParseTcp(f);
			EXPECT_TRUE(s.cksum_ok && s.ip_cksum_ok) << s;
			EXPECT_EQ(s.seq, O(1 + (int64_t)got.size()));
			got.insert(got.end(), s.payload.begin(), s.payload.end());
		}
	}
	EXPECT_TRUE(got == data);
}

// Each segment the port cuts may span at most 4 mbufs, its header counted:
// the third would span four of the send queue, so the frame ends before it.
TEST_F(Offload, Tso_MtuSegMax_FrameEndsBeforeASegmentSpanningTooMany)
{
	port_mtu_seg_max_ = 4;
	ASSERT_NO_FATAL_FAILURE(Open(kTxAll, 0));
	Bytes data = Pattern(4 * kMss, 3);
	ASSERT_NO_FATAL_FAILURE(WriteMbufs(data, { kMss, kMss, 100, 100, 100, kMss - 300,
						   kMss }));
	Poll();
	const std::vector<struct rte_mbuf *> &r = TakeRaw();
	ASSERT_EQ(r.size(), 3u);
	ExpectAsked(r[0], kTsoFlags, 32);
	EXPECT_EQ(r[0]->pkt_len, kHdrs + 2 * kMss);
	ExpectAsked(r[1], kTxCksumFlags, 32);
	EXPECT_EQ(r[1]->pkt_len, kHdrs + kMss) << "no TSO: the first segment would span too many";
	ExpectAsked(r[2], kTxCksumFlags, 32);
	EXPECT_EQ(r[2]->pkt_len, kHdrs + kMss) << "one segment left: no TSO";
}

// Retransmissions go one MSS at a time.
TEST_F(Offload, Tso_Timeout_RetransmitsOneMss)
{
	ASSERT_NO_FATAL_FAILURE(Open(kTxAll, 0));
	Write(Pattern(4 * kMss));
	Poll();
	ExpectAsked(TakeOneRaw(), kTsoFlags, 32);
	FreeRaw();
	struct rte_mbuf *m = nullptr;
	for (int ms = 0; ms < 3000 && m == nullptr; ms += 10) {
		Advance(10);
		const std::vector<struct rte_mbuf *> &r = TakeRaw();
		if (!r.empty()) {
			ASSERT_EQ(r.size(), 1u);
			m = r[0];
		}
	}
	ASSERT_NE(m, nullptr) << "no retransmission in 3 s";
	ExpectAsked(m, kTxCksumFlags, 32);
	TcpSeg s = ExpectSeg(NicTransmit(m).at(0), "A", O(1), P(1));
	EXPECT_EQ(s.payload.size(), kMss);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_rexmit), 1u);
}

// Below 256 bytes some NICs refuse TSO: such an MSS goes segment by segment.
TEST_F(Offload, Tso_SmallMss_NoTso)
{
	port_tx_offloads_ = kTxAll;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive(Seg().syn().seq(P(0)).win(kPeerWin).mss(200)
					    .ts(peer_ts_, 0).nop().ws(0)));
	Write(Pattern(1000));
	Poll();
	const std::vector<struct rte_mbuf *> &r = TakeRaw();
	ASSERT_EQ(r.size(), 6u);
	for (struct rte_mbuf *m : r)
		EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG, 0u);
}

// --- RX checksums ------------------------------------------------------------------------

class OffloadRx : public Offload {
protected:
	// The peer's next data segment, "hello", its TCP checksum wrong when bad.
	Bytes Hello(bool bad) const
	{
		Seg s = PeerAck().data("hello");
		if (bad)
			s.bad_cksum();
		return Frame(s);
	}
	// Taken: delivered and acknowledged.
	void ExpectTaken()
	{
		ExpectSeg(ExpectOneTx(), "A", O(1), P(rcv_ + 5));
		EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, Bytes({ 'h', 'e', 'l', 'l', 'o' }));
		rcv_ += 5;
	}
	void ExpectDropped(const char *reason)
	{
		ExpectNoTx();
		ExpectNoEvents();
		Deltas d = Moved();
		EXPECT_EQ(d[reason], 1u) << ToString(d);
		EXPECT_EQ(d["tcp_data_rx"], 0u);
	}
};

// The port said GOOD: no sum is taken, so a wrong one passes (the flag was trusted).
TEST_F(OffloadRx, TcpGood_WrongSum_Taken)
{
	ASSERT_NO_FATAL_FAILURE(Open(0, kRxAll));
	InjectFlagged(Hello(true), RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	ExpectTaken();
}

// A port that was not asked for checksums is not listened to.
TEST_F(OffloadRx, TcpGood_PortNotAsked_SoftwareCheckDrops)
{
	ASSERT_NO_FATAL_FAILURE(Open(0, 0));
	Mark();
	InjectFlagged(Hello(true), RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	ExpectDropped("tcp_bad_checksum");
}

TEST_F(OffloadRx, TcpGood_ConfigOff_SoftwareCheckDrops)
{
	cfg_.offloads = DTCP_OFFLOAD_OFF;
	ASSERT_NO_FATAL_FAILURE(Open(0, kRxAll));
	Mark();
	InjectFlagged(Hello(true), RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	ExpectDropped("tcp_bad_checksum");
}

// BAD drops, even a segment whose sum is right: the port saw the wire.
TEST_F(OffloadRx, TcpBad_Dropped)
{
	ASSERT_NO_FATAL_FAILURE(Open(0, kRxAll));
	Mark();
	InjectFlagged(Hello(false), RTE_MBUF_F_RX_L4_CKSUM_BAD);
	ExpectDropped("tcp_bad_checksum");
}

TEST_F(OffloadRx, TcpUnknown_CheckedInSoftware)
{
	ASSERT_NO_FATAL_FAILURE(Open(0, kRxAll));
	Mark();
	InjectFlagged(Hello(true), RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	ExpectDropped("tcp_bad_checksum");
	InjectFlagged(Hello(false), RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	ExpectTaken();
}

// NONE: the field is not a valid sum, the data is verified (virtio with a
// host's partial checksum: the field holds the pseudo-header's sum).
TEST_F(OffloadRx, TcpNone_PartialSum_Taken)
{
	ASSERT_NO_FATAL_FAILURE(Open(0, kRxAll));
	Bytes f = Hello(false);
	uint16_t partial = PhdrSum(kPeerIp, kOurIp, (uint32_t)(f.size() - 34));
	f[34 + 16] = (uint8_t)(partial >> 8);
	f[34 + 17] = (uint8_t)partial;
	InjectFlagged(f, RTE_MBUF_F_RX_L4_CKSUM_NONE);
	ExpectTaken();
}

TEST_F(OffloadRx, IpGood_WrongHeaderSum_Taken)
{
	ASSERT_NO_FATAL_FAILURE(Open(0, kRxAll));
	Bytes f = Hello(false);
	f[14 + 10] ^= 0x5a;
	InjectFlagged(f, RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	ExpectTaken();
}

TEST_F(OffloadRx, IpBad_Dropped)
{
	ASSERT_NO_FATAL_FAILURE(Open(0, kRxAll));
	Mark();
	InjectFlagged(Hello(false), RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	ExpectDropped("ip_bad_checksum");
}

TEST_F(OffloadRx, IpUnknown_WrongHeaderSum_Dropped)
{
	ASSERT_NO_FATAL_FAILURE(Open(0, kRxAll));
	Bytes f = Hello(false);
	f[14 + 10] ^= 0x5a;
	Mark();
	InjectFlagged(f, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN | RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	ExpectDropped("ip_bad_checksum");
}

// A verdict on a fragment says nothing of the datagram's TCP sum.
TEST_F(OffloadRx, Reassembled_FragmentsSaidGood_DatagramCheckedInSoftware)
{
	ASSERT_NO_FATAL_FAILURE(Open(0, kRxAll));
	Bytes f = Hello(true);
	Bytes tcp(f.begin() + 34, f.end());
	Mark();
	for (const Bytes &frag : Ipv4Fragments(kPeerIp, kOurIp, 6, tcp, 32, 9))
		InjectFlagged(EthFrame(kOurMac, kPeerMac, 0x0800, frag),
			      RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	ExpectDropped("tcp_bad_checksum");
}

// --- LRO: segments joined by the port arrive as chains --------------------------------

TEST_F(OffloadRx, Lro_ThreeSegmentsJoinedInAChain_TakenAndAckedAtOnce)
{
	ASSERT_NO_FATAL_FAILURE(Open(0, kRxAll));
	Bytes data = Pattern(3 * 1448, 4);
	Bytes f = Frame(PeerAck().data(data));
	Mark();
	// Cut inside the TCP header and at odd places in the data.
	InjectChained(f, { 40, 70, 1501, 3001 });
	Poll();
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1 + data.size()));
	EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, data);
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_data_rx"], 1u) << ToString(d);
}

}  // namespace
