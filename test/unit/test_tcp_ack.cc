// SPDX-License-Identifier: BSD-3-Clause
// When we acknowledge (RFC 5681 §4.2, RFC 9293 §3.8.6.3): in-order data may
// wait for its ACK up to delack_ms, never past a second full-sized segment;
// an answer sent meanwhile carries the ACK; out-of-order data and a filled
// hole are acknowledged at once. The first TCP_QUICKACKS (16) segments of a
// connection, and those after a hole, are acknowledged at once too, so a
// sender with a small window is not held up.
#include "tcp_harness.h"

#include <string>

namespace {

constexpr uint32_t kDelackMs = 40;
constexpr unsigned kQuickAcks = 16;

class TcpAck : public TcpTest {
protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		cfg_.tcp_delack_ms = kDelackMs;
		cfg_.tcp_timestamps = 0;
		cfg_.tcp_window_scale = 0;
		cfg_.tcp_rcvbuf = 65535;
	}

	void Open()
	{
		Start();
		ASSERT_NO_FATAL_FAILURE(OpenPassive());
	}

	Seg Data(const std::string &d, uint32_t at) const
	{
		return Seg().ack().seq(P(rcv_ + at)).ack_(O(snd_)).win(kPeerWin).data(d);
	}

	// The quick ACKs of the connection's start, spent on one-byte segments.
	void SpendQuickAcks()
	{
		for (unsigned k = 0; k < kQuickAcks; k++) {
			Inject(Data("q", 0));
			rcv_ += 1;
			ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), 65535);
		}
		TakeEvents();
	}
};

TEST_F(TcpAck, Established_FirstSegments_AckedAtOnce)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ASSERT_NO_FATAL_FAILURE(SpendQuickAcks());
}

TEST_F(TcpAck, Established_OneSegment_AckWaitsDelackMs)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ASSERT_NO_FATAL_FAILURE(SpendQuickAcks());
	Inject(Data("hello", 0));
	rcv_ += 5;
	ExpectNoTx();
	EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data.size(), 5u) << "delivered at once all the same";
	Advance(kDelackMs - 1);
	ExpectNoTx();
	Advance(1);
	ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), 65535);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_delack_tx), 1u);
	Advance(1000);
	ExpectNoTx();
}

TEST_F(TcpAck, Established_SecondFullSizedSegment_AckedAtOnce)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ASSERT_NO_FATAL_FAILURE(SpendQuickAcks());
	std::string full(1460, 'x');
	Inject(Data(full, 0));
	ExpectNoTx();
	Inject(Data(full, 1460));
	rcv_ += 2 * 1460;
	ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), 65535);
	Advance(kDelackMs);
	ExpectNoTx();
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_delack_tx), 0u);
}

TEST_F(TcpAck, Established_AnswerWhileWaiting_CarriesTheAck)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ASSERT_NO_FATAL_FAILURE(SpendQuickAcks());
	Inject(Data("GET /", 0));
	rcv_ += 5;
	ExpectNoTx();
	Advance(10);
	ExpectNoTx();
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "200 OK", 6), 6);
	Poll();
	TcpSeg s = ExpectSeg(ExpectOneTx(), "PA", O(snd_), P(rcv_), 65535);
	EXPECT_EQ(s.payload.size(), 6u);
	Advance(kDelackMs);
	ExpectNoTx();
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_delack_tx), 0u);
}

TEST_F(TcpAck, Established_OutOfOrderAndHoleFilled_AckedAtOnce)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ASSERT_NO_FATAL_FAILURE(SpendQuickAcks());
	Inject(Data("later", 5));
	ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), 65535);
	Inject(Data("first", 0));
	rcv_ += 10;
	ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), 65535);
	// After the hole, quick ACKs again: the next segment is not held.
	Inject(Data("next", 0));
	rcv_ += 4;
	ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), 65535);
}

TEST_F(TcpAck, Established_PeerFin_AckedAtOnce)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ASSERT_NO_FATAL_FAILURE(SpendQuickAcks());
	Inject(Seg().flags(kAck | kFin).seq(P(rcv_)).ack_(O(snd_)).win(kPeerWin));
	rcv_ += 1;
	ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), 65535);
	ExpectState(DTCP_TCP_CLOSE_WAIT);
}

// RFC 5681 §4.2: a duplicate ACK for each out-of-order segment, even when
// several arrive in one burst (in-order data is acknowledged once per
// burst): the sender counts duplicates to find the loss (§3.2).
TEST_F(TcpAck, Established_OutOfOrderBurst_OneDuplicateEach)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	for (uint32_t k = 1; k <= 3; k++)
		InjectOnly(Frame(Data("o", 10 * k)));
	Poll();
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 3u);
	for (const Bytes &f : tx)
		ExpectSeg(f, "A", O(snd_), P(rcv_), 65535);
	// In order, three segments in one burst: one ACK for them all.
	for (uint32_t k = 0; k < 3; k++)
		InjectOnly(Frame(Data("i", k)));
	Poll();
	ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_ + 3), 65535);
}

// ==== Receiver-side silly window avoidance (RFC 9293 §3.8.6.2.2) =============================

// The window's right edge stays where it was until it can move by at least
// min(half the buffer, one full segment); then it moves by all it can. Here
// the application takes every byte at once, so the buffer is always empty:
// without the rule, every ACK would offer the whole buffer again.
class TcpRcvSws : public TcpAck {
protected:
	void SetUp() override
	{
		TcpAck::SetUp();
		cfg_.tcp_delack_ms = 0;
		cfg_.tcp_rcv_sws = 1;
	}
};

TEST_F(TcpRcvSws, SmallSegments_EdgeHeldUntilAFullSegmentThenReopened)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint32_t mss = OurMss();
	ASSERT_EQ(mss, 1460u);
	const std::string piece(100, 'x');
	uint32_t taken = 0;

	// 100 bytes at a time: 14 pieces (1400 bytes) leave the edge where it was.
	for (int k = 1; k <= 14; k++) {
		SCOPED_TRACE("piece " + std::to_string(k));
		Inject(Data(piece, 0));
		rcv_ += 100;
		taken += 100;
		ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), (uint16_t)(65535 - taken));
		EXPECT_EQ(Info().rcv_wnd, 65535 - taken);
	}
	// The 15th makes 1500 >= one segment: the whole buffer is offered again.
	Inject(Data(piece, 0));
	rcv_ += 100;
	ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), 65535);
	EXPECT_EQ(ReceivedBytes().size(), 1500u);
}

// A small buffer: the threshold is half the buffer when that is below a segment.
TEST_F(TcpRcvSws, SmallBuffer_ThresholdIsHalfTheBuffer)
{
	cfg_.tcp_rcvbuf = 2048;
	ASSERT_NO_FATAL_FAILURE(Open());
	Inject(Data(std::string(1000, 'y'), 0));
	rcv_ += 1000;
	// 1000 < 1024: the edge is held.
	ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), 1048);
	Inject(Data(std::string(30, 'y'), 0));
	rcv_ += 30;
	// 1030 >= 1024: reopened.
	ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), 2048);
}

// With the rule off (the packet suites' default) the window reopens by any amount.
TEST_F(TcpRcvSws, Off_WindowReopensAtOnce)
{
	cfg_.tcp_rcv_sws = 0;
	ASSERT_NO_FATAL_FAILURE(Open());
	Inject(Data(std::string(100, 'z'), 0));
	rcv_ += 100;
	ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), 65535);
}

} // namespace

// Nagle (RFC 896, RFC 9293 §3.7.4): with data unacknowledged, a small
// last piece waits for a full segment's worth or for the ACK; PSH marks
// the last segment of what was queued; dtcp_conn_set_nodelay turns it off.
class TcpNagle : public TcpAck {
protected:
	void SetUp() override
	{
		TcpAck::SetUp();
		cfg_.tcp_delack_ms = 0;
		cfg_.tcp_nodelay = 0;
	}
};

TEST_F(TcpNagle, Established_SmallPieceWithDataOut_WaitsForTheAck)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "a", 1), 1);
	Poll();
	ExpectSeg(ExpectOneTx(), "PA", O(1), P(1), 65535);
	// "b" while "a" is unacknowledged: held.
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "bc", 2), 2);
	Poll();
	ExpectNoTx();
	Advance(100);
	ExpectNoTx();
	// The ACK of "a" lets it go, both bytes in one segment.
	Inject(Seg().ack().seq(P(1)).ack_(O(2)).win(kPeerWin));
	TcpSeg s = ExpectSeg(ExpectOneTx(), "PA", O(2), P(1), 65535);
	EXPECT_EQ(s.payload, Bytes({ 'b', 'c' }));
}

TEST_F(TcpNagle, Established_FullSegmentWithDataOut_SentAtOnce)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "a", 1), 1);
	Poll();
	TakeTx();
	std::string big(1460 + 100, 'z');
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, big.data(), (uint32_t)big.size()), (int)big.size());
	Poll();
	// The full segment goes; the 100-byte tail waits for the ACK.
	TcpSeg s = ExpectSeg(ExpectOneTx(), "A", O(2), P(1), 65535);
	EXPECT_EQ(s.payload.size(), 1460u);
}

TEST_F(TcpNagle, Established_NoDelay_SmallPiecesSentAtOnce)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	dtcp_conn_set_nodelay(conn_, true);
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "a", 1), 1);
	Poll();
	ExpectSeg(ExpectOneTx(), "PA", O(1), P(1), 65535);
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "b", 1), 1);
	Poll();
	ExpectSeg(ExpectOneTx(), "PA", O(2), P(1), 65535);
}

TEST_F(TcpNagle, Established_FinAfterSmallPiece_NotHeld)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "a", 1), 1);
	Poll();
	TakeTx();
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "b", 1), 1);
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	Poll();
	// The last piece rides with the FIN: closing never waits on Nagle.
	TcpSeg s = ExpectSeg(ExpectOneTx(), "FPA", O(2), P(1), 65535);
	EXPECT_EQ(s.payload, Bytes({ 'b' }));
}
