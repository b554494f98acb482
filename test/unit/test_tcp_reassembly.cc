// SPDX-License-Identifier: BSD-3-Clause
// The out-of-order queue (RFC 9293 §3.10.7.4 seventh step, RFC 5681 §4.2):
// data beyond RCV.NXT is held, a duplicate ACK asks for the hole at once,
// and when the hole fills every byte goes to the application once and in
// order, with an immediate ACK of all of it. Overlaps are trimmed; the queue
// is bounded per connection and per worker, and each refusal is counted.
//
// A receive buffer of 8192 bytes without window scaling or timestamps keeps
// every window field plain.
#include "tcp_harness.h"

#include <string>
#include <vector>

namespace {

constexpr uint32_t kRcvBuf = 8192;

class TcpReassembly : public TcpTest {
protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		cfg_.tcp_rcvbuf = kRcvBuf;
		cfg_.tcp_window_scale = 0;
		cfg_.tcp_timestamps = 0;
	}

	void Open()
	{
		Start();
		ASSERT_NO_FATAL_FAILURE(OpenPassive());
		stream_ = Pattern(4096, 7);
	}

	// Bytes [from, to) of the peer's stream, sent at P(rcv_ + from).
	Seg Part(uint32_t from, uint32_t to, uint8_t extra = 0) const
	{
		Bytes b(stream_.begin() + from, stream_.begin() + to);

		return Seg().ack().flags((uint8_t)(kAck | extra)).seq(P(rcv_ + from)).ack_(O(snd_))
			.win(kPeerWin).data(b);
	}

	// Inject and expect exactly our ACK of acked stream bytes (relative to rcv_).
	void InjectExpectAck(const Seg &s, uint32_t acked)
	{
		Inject(s);
		// The fixture takes every DATA event at once: the window stays whole.
		ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_ + acked), (uint16_t)cfg_.tcp_rcvbuf);
	}

	Bytes Stream(uint32_t from, uint32_t to) const
	{
		return Bytes(stream_.begin() + from, stream_.begin() + to);
	}

	Bytes stream_;
};

TEST_F(TcpReassembly, Established_HoleFilled_AllDeliveredOnceInOrder)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	// [100, 200) and [200, 300) before [0, 100): each answered with a
	// duplicate ACK of RCV.NXT, nothing delivered; the two touch, so they
	// are held as one range.
	InjectExpectAck(Part(100, 200), 0);
	InjectExpectAck(Part(200, 300), 0);
	ExpectNoEvents();
	Mark();
	// The hole fills: one ACK of all 300 bytes, one DATA of all of them.
	InjectExpectAck(Part(0, 100), 300);
	auto ev = ExpectEvent(DTCP_EV_DATA);
	EXPECT_EQ(ev.data, Stream(0, 300));
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "ip_tx", 1 },
				    { "tx_frames", 1 }, { "tcp_rx", 1 }, { "tcp_tx", 1 },
				    { "tcp_tx_ack_only", 1 }, { "tcp_data_rx", 1 },
				    { "tcp_ooo_filled", 1 }, { "tcp_events", 1 } }))
		<< ToString(Moved());
	EXPECT_EQ(Info().rcv_nxt, P(rcv_ + 300));
}

TEST_F(TcpReassembly, Established_OutOfOrder_CountedQueuedAndDupAcked)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	Mark();
	InjectExpectAck(Part(500, 600), 0);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_ooo_queued), 1u);
	// A second copy of what is held: dropped, counted, still a duplicate ACK.
	InjectExpectAck(Part(500, 600), 0);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_ooo_dup), 1u);
	InjectExpectAck(Part(520, 580), 0);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_ooo_dup), 2u);
	ExpectNoEvents();
}

TEST_F(TcpReassembly, Established_Overlaps_EveryByteOnce)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	// Held: [200, 300). Newcomers overlapping it at the front, at the back,
	// covering it whole, and inside it.
	InjectExpectAck(Part(200, 300), 0);
	InjectExpectAck(Part(150, 250), 0);   // keeps [150, 200)
	InjectExpectAck(Part(280, 400), 0);   // keeps [300, 400)
	InjectExpectAck(Part(120, 450), 0);   // covers all three: one range replaces them
	InjectExpectAck(Part(210, 220), 0);   // all held: dropped
	EXPECT_GE(Ctr(DTCP_CTR_tcp_ooo_dup), 1u);
	InjectExpectAck(Part(0, 130), 450);
	auto ev = ExpectEvent(DTCP_EV_DATA);
	EXPECT_EQ(ev.data, Stream(0, 450)) << "every byte once, in order";
}

TEST_F(TcpReassembly, Established_FinBeyondHole_TakenWhenTheHoleFills)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	InjectExpectAck(Part(100, 200, kFin), 0);
	ExpectNoEvents();
	ExpectState(DTCP_TCP_ESTABLISHED);
	// The hole fills: data, then the FIN (RCV.NXT past it), CLOSE-WAIT.
	InjectExpectAck(Part(0, 100), 201);
	auto evs = ExpectEvents({ DTCP_EV_DATA, DTCP_EV_PEER_CLOSED });
	EXPECT_EQ(evs[0].data, Stream(0, 200));
	ExpectState(DTCP_TCP_CLOSE_WAIT);
}

TEST_F(TcpReassembly, Established_BareFinBeyondHole_TakenWhenTheHoleFills)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	Inject(Seg().flags(kAck | kFin).seq(P(rcv_ + 100)).ack_(O(snd_)).win(kPeerWin));
	ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), (uint16_t)cfg_.tcp_rcvbuf);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_ooo_queued), 1u);
	InjectExpectAck(Part(0, 100), 101);
	ExpectEvents({ DTCP_EV_DATA, DTCP_EV_PEER_CLOSED });
	ExpectState(DTCP_TCP_CLOSE_WAIT);
}

TEST_F(TcpReassembly, Established_QueueFull_NewcomerDroppedCounted)
{
	cfg_.tcp_ooo_segs = 2;
	ASSERT_NO_FATAL_FAILURE(Open());
	InjectExpectAck(Part(100, 110), 0);
	InjectExpectAck(Part(200, 210), 0);
	InjectExpectAck(Part(300, 310), 0);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_ooo_queued), 2u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_ooo_full), 1u);
	// A newcomer that replaces a held range whole takes its slot.
	InjectExpectAck(Part(90, 120), 0);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_ooo_queued), 3u);
	InjectExpectAck(Part(0, 90), 120);
	EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, Stream(0, 120));
}

TEST_F(TcpReassembly, Established_NoTablesConfigured_OutOfOrderDropped)
{
	cfg_.tcp_ooo_conns = 0;
	ASSERT_NO_FATAL_FAILURE(Open());
	InjectExpectAck(Part(100, 200), 0);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_ooo_full), 1u);
	InjectExpectAck(Part(0, 100), 100);
	EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, Stream(0, 100));
}

TEST_F(TcpReassembly, Established_OutOfOrderPastRightEdge_TrimmedToTheWindow)
{
	cfg_.tcp_rcvbuf = 1024;
	ASSERT_NO_FATAL_FAILURE(Open());
	InjectExpectAck(Part(924, 1424), 0);
	InjectExpectAck(Part(0, 924), 1024);
	EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, Stream(0, 1024)) << "nothing past the edge";
}

// A flood of one-byte segments over and around each other costs a bounded
// walk each (the queue holds at most ooo_segs ranges) and loses nothing
// that the hole-filler does not bring again.
TEST_F(TcpReassembly, Established_OverlapFlood_BoundedAndExact)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	for (uint32_t i = 0; i < 2000; i++) {
		uint32_t from = 10 + (i * 7919u) % 1000;

		InjectOnly(Frame(Part(from, from + 1 + i % 5)));
		if (i % 32 == 31) {
			Poll();
			TakeTx();
		}
	}
	Poll();
	TakeTx();
	ExpectNoEvents();
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_ooo_queued) + Ctr(DTCP_CTR_tcp_ooo_dup) +
		  Ctr(DTCP_CTR_tcp_ooo_full), 2000u);
	// The peer resends everything from RCV.NXT: the stream comes out exact.
	InjectExpectAck(Part(0, 1100), 1100);
	EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, Stream(0, 1100));
}

// A reassembled datagram may cut the TCP header itself between two mbufs
// (here after 24 of its 32 bytes): the segment is read whole all the same.
TEST_F(TcpReassembly, Established_HeaderSplitAcrossFragments_Taken)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	for (uint32_t len : { 20u, 0u }) {
		SCOPED_TRACE(len);
		Seg s = Part(0, len);
		uint64_t acks_before = Ctr(DTCP_CTR_tcp_ack_rx);

		for (int i = 0; i < 12; i++)
			s.nop();
		Bytes frame = Frame(s);
		Bytes l4(frame.begin() + 14 + 20, frame.end());
		for (const Bytes &ip : Ipv4Fragments(kPeerIp, kOurIp, 6, l4, 24, (uint16_t)(7 + len)))
			InjectOnly(EthFrame(kOurMac, kPeerMac, 0x0800, ip));
		Poll();
		if (len > 0) {
			ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_ + len), (uint16_t)kRcvBuf);
			EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, Stream(0, len));
			rcv_ += len;
		} else {
			ExpectNoTx();
			ExpectNoEvents();
			EXPECT_EQ(Ctr(DTCP_CTR_tcp_ack_rx), acks_before + 1) << "a bare ACK, taken";
		}
	}
	EXPECT_EQ(Ctr(DTCP_CTR_ip_reassembled), 2u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_too_short), 0u);
}

} // namespace
