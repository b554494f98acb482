// SPDX-License-Identifier: BSD-3-Clause
// Selective acknowledgment on the wire: the blocks our ACKs carry (RFC 2018
// §4), and each step of SACK-based loss recovery as the sender takes it
// (RFC 6675 §5: entry at DupThresh, the pipe, NextSeg's rules, partial and
// full ACKs), with the additions docs/tcp.md describes: a resend found lost
// again, the scoreboard kept through a timeout, the tail loss probe (RFC
// 8985 §7). Every segment is checked for its exact flags, SEQ, ACK and
// payload; windows and counters through dtcp_conn_info and the counters.
#include "tcp_harness.h"

#include <algorithm>
#include <string>
#include <vector>

namespace {

class SackTest : public TcpTest {
protected:
	uint64_t CtrSinceMark(enum dtcp_ctr c) const { return Ctr(c) - mark_[c]; }
};

// ==== The receiver: blocks in our ACKs (RFC 2018 §4) =========================================

class TcpSackRcv : public SackTest {
protected:
	void SetUp() override
	{
		SackTest::SetUp();
		cfg_.tcp_sack = 1;
	}

	// n bytes of the peer's stream at P(1 + off).
	void PeerData(uint32_t off, uint32_t n)
	{
		Inject(PeerAck().seq(P(1 + off)).data(std::string(n, (char)('a' + off % 26))));
	}

	// Our answer: one pure ACK of P(1 + acked) carrying exactly these blocks
	// (peer offsets), in this order.
	void ExpectSackAck(uint32_t acked, const std::vector<std::pair<uint32_t, uint32_t>> &blocks)
	{
		TcpSeg a = ExpectSeg(ExpectOneTx(), "A", O(1), P(1 + acked));
		std::vector<SackBlock> want;

		for (const auto &b : blocks)
			want.push_back({ P(1 + b.first), P(1 + b.second) });
		EXPECT_EQ(a.sacks, want) << ToString(a);
		EXPECT_TRUE(a.payload.empty());
	}
};

// RFC 2018 §4: an ACK for out-of-order data reports the block it went into.
TEST_F(TcpSackRcv, OutOfOrderSegment_DuplicateAckCarriesItsBlock)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_TRUE(sack_ok_);
	PeerData(100, 100);
	ExpectSackAck(0, { { 100, 200 } });
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_tx), 1u);
}

// RFC 2018 §4: the first block holds the segment received last; the others
// repeat the blocks reported most recently.
TEST_F(TcpSackRcv, ThreeBlocks_MostRecentFirst)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	PeerData(100, 100);
	ExpectSackAck(0, { { 100, 200 } });
	PeerData(500, 100);
	ExpectSackAck(0, { { 500, 600 }, { 100, 200 } });
	PeerData(300, 100);
	ExpectSackAck(0, { { 300, 400 }, { 500, 600 }, { 100, 200 } });
	// The oldest block again, grown: it comes first now.
	PeerData(200, 50);
	ExpectSackAck(0, { { 100, 250 }, { 300, 400 }, { 500, 600 } });
}

// A segment that closes the gap between two blocks makes them one.
TEST_F(TcpSackRcv, SegmentBetweenTwoBlocks_OneBlock)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	PeerData(100, 100);
	ExpectSackAck(0, { { 100, 200 } });
	PeerData(300, 100);
	ExpectSackAck(0, { { 300, 400 }, { 100, 200 } });
	PeerData(200, 100);
	ExpectSackAck(0, { { 100, 400 } });
}

// 40 bytes of options: with timestamps (12) three blocks fit (4 + 3 * 8).
TEST_F(TcpSackRcv, Timestamps_AtMostThreeBlocks)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_TRUE(ts_ok_);
	for (uint32_t k = 1; k <= 5; k++) {
		PeerData(200 * k, 100);
		TakeTx();
	}
	PeerData(1200, 100);
	ExpectSackAck(0, { { 1200, 1300 }, { 1000, 1100 }, { 800, 900 } });
}

// Without timestamps four blocks fit (4 + 4 * 8 = 36 bytes).
TEST_F(TcpSackRcv, NoTimestamps_AtMostFourBlocks)
{
	cfg_.tcp_timestamps = 0;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_FALSE(ts_ok_);
	for (uint32_t k = 1; k <= 5; k++) {
		PeerData(200 * k, 100);
		TakeTx();
	}
	PeerData(1200, 100);
	ExpectSackAck(0, { { 1200, 1300 }, { 1000, 1100 }, { 800, 900 }, { 600, 700 } });
}

// Once the holes are filled the ACK covers everything and carries no block.
TEST_F(TcpSackRcv, HolesFilled_NoBlocks)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	PeerData(100, 100);
	ExpectSackAck(0, { { 100, 200 } });
	PeerData(0, 100);
	TcpSeg a = ExpectSeg(ExpectOneTx(), "A", O(1), P(201));
	EXPECT_TRUE(a.sacks.empty()) << ToString(a);
	EXPECT_EQ(ReceivedBytes().size(), 200u);
}

// SACK is off unless both sides offered it: no blocks then.
TEST_F(TcpSackRcv, NotAgreed_NoBlocks)
{
	cfg_.tcp_sack = 0;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_FALSE(sack_ok_);
	PeerData(100, 100);
	TcpSeg a = ExpectSeg(ExpectOneTx(), "A", O(1), P(1));
	EXPECT_TRUE(a.sacks.empty());
}

// Data we send while holding out-of-order data carries the blocks too, and
// is shorter by their bytes so that the segment stays within the MSS.
TEST_F(TcpSackRcv, DataWhileHoldingBlocks_BlocksCarriedPayloadShortened)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	PeerData(100, 100);
	ExpectSackAck(0, { { 100, 200 } });
	uint32_t mss = Info().snd_mss;
	std::string data(3 * mss, 'z');
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, data.data(), (uint32_t)data.size()), (int)data.size());
	Poll();
	std::vector<Bytes> tx = TakeTx();
	ASSERT_GE(tx.size(), 3u);
	TcpSeg first = ExpectSeg(tx[0], "A", O(1), P(1));
	EXPECT_EQ(first.sacks, (std::vector<SackBlock>{ { P(101), P(201) } }));
	EXPECT_EQ(first.payload.size(), (size_t)mss - 12) << "one block: 12 option bytes more";
}

// ==== The sender: RFC 6675 recovery ===============================================================

class TcpSackSnd : public SackTest {
protected:
	void SetUp() override
	{
		SackTest::SetUp();
		cfg_.tcp_sack = 1;
		cfg_.tcp_timestamps = 0;
		cfg_.tcp_window_scale = 1;
		peer_ws_ = 4;  // the peer's window never limits the sender
	}

	// An active open, SACK agreed, SYN-ACK after rtt_ms; then the peer's first
	// scaled window. S is the MSS (1460).
	void Open(uint64_t rtt_ms = 10)
	{
		ASSERT_NE(Connect(), nullptr);
		Poll();
		sack_ok_ = true;
		ws_ok_ = true;
		ExpectSyn(ExpectOneTx());
		Advance(rtt_ms);
		snd_ = rcv_ = 1;
		Inject(Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(kPeerMss).sack_ok()
			       .nop().ws(peer_ws_));
		ExpectSeg(ExpectOneTx(), "A", O(1), P(1));
		ExpectEvent(DTCP_EV_CONNECTED);
		Inject(AckOf(0));
		ExpectNoTx();
		S = Info().snd_mss;
		ASSERT_EQ(S, 1460u);
		ASSERT_TRUE(Info().sack_ok);
		Mark();
	}

	// n segments of data queued.
	void Queue(uint32_t nseg)
	{
		std::string b(nseg * S, 'd');
		ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, b.data(), (uint32_t)b.size()), (int)b.size());
		queued_ += nseg * S;
	}

	// The peer's ACK of O(1 + upto), with SACK blocks in segment offsets.
	Seg AckOf(uint32_t upto, const std::vector<std::pair<uint32_t, uint32_t>> &sacks = {}) const
	{
		Seg s = Seg().ack().seq(P(1)).ack_(O(1 + upto)).win(kPeerWin);
		std::vector<SackBlock> b;

		for (const auto &r : sacks)
			b.push_back({ O(1 + r.first), O(1 + r.second) });
		if (!b.empty())
			s.sack(b);
		return s;
	}

	// One data segment of ours at stream offset off, len bytes.
	void ExpectData(const Bytes &frame, uint32_t off, uint32_t len)
	{
		bool last = off + len == queued_;
		TcpSeg t = ExpectSeg(frame, last ? "PA" : "A", O(1 + off), P(1));
		EXPECT_EQ(t.payload.size(), (size_t)len) << ToString(t);
	}
	// Exactly these segments (offsets, each S long) and nothing else.
	void ExpectSegs(const std::vector<uint32_t> &offs, const std::string &why)
	{
		SCOPED_TRACE(why);
		std::vector<Bytes> tx = TakeTx();
		ASSERT_EQ(tx.size(), offs.size());
		for (size_t k = 0; k < offs.size(); k++)
			ExpectData(tx[k], offs[k], S);
	}

	// The initial window: ten segments at 0 .. 9S.
	void SendInitialWindow(uint32_t queued_segs = 40)
	{
		Queue(queued_segs);
		Poll();
		ExpectSegs({ 0, S, 2 * S, 3 * S, 4 * S, 5 * S, 6 * S, 7 * S, 8 * S, 9 * S },
			   "initial window");
		Advance(10);
	}

	// After SendInitialWindow(): segment 0 lost, 1 .. 8 arriving. The first
	// two duplicates send 10 and 11 (limited transmit, RFC 3042); the third
	// enters recovery and resends 0; pipe (12 sent, 1 .. k SACKed, 0 resent)
	// then gates new data until it is 4, one below cwnd: segment 12.
	void LoseFirstUntilNewData()
	{
		Inject(AckOf(0, { { S, 2 * S } }));
		ExpectSegs({ 10 * S }, "limited transmit after the first duplicate");
		Inject(AckOf(0, { { S, 3 * S } }));
		ExpectSegs({ 11 * S }, "limited transmit after the second duplicate");
		EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_recovery), 0u);
		Inject(AckOf(0, { { S, 4 * S } }));
		ExpectSegs({ 0 }, "the first hole again");
		EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_recovery), 1u);
		for (uint32_t k = 5; k <= 8; k++) {
			Inject(AckOf(0, { { S, k * S } }));
			ExpectNoTx();
		}
		Inject(AckOf(0, { { S, 9 * S } }));
		ExpectSegs({ 12 * S }, "pipe 4: one new segment");
	}

	uint32_t S = 0;
	uint32_t queued_ = 0;
};

// RFC 6675 §5: the first two duplicates (each SACKing one segment more) send
// a new segment each (limited transmit, RFC 3042); the third enters
// recovery: ssthresh = cwnd = FlightSize / 2 without the limited-transmit
// segments (RFC 5681 §3.2), and the first hole goes again. Then pipe
// (SetPipe) must fall below cwnd by a segment before anything else goes.
TEST_F(TcpSackSnd, ThirdDuplicate_EntersRecoveryPipeGatesNewData)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	SendInitialWindow();
	ASSERT_NO_FATAL_FAILURE(LoseFirstUntilNewData());
	// ssthresh from the 10 segments in flight before limited transmit.
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.ssthresh, 5 * S);
	EXPECT_EQ(i.cwnd, 5 * S);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 1u);
	Inject(AckOf(0, { { S, 10 * S } }));
	ExpectSegs({ 13 * S }, "pipe 4 again");
	EXPECT_EQ(Info().cwnd, 5 * S) << "RFC 6675: cwnd stays during recovery";
	// The resent segment arrives: everything up to 12S, past the recovery
	// point (12S). Recovery ends; cwnd = min(ssthresh, flight + S) (RFC 6582).
	Inject(AckOf(12 * S));
	i = Info();
	EXPECT_EQ(i.cwnd, 3 * S) << "2 segments in flight + 1";
	EXPECT_EQ(i.ssthresh, 5 * S);
	ExpectSegs({ 14 * S }, "cwnd 3, 2 in flight");
	EXPECT_EQ(i.total_retransmits, 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 0u);
}

// RFC 6675 NextSeg() rule 1: a second hole, once IsLost (more than
// (DupThresh - 1) * SMSS SACKed above it), goes before any new data.
TEST_F(TcpSackSnd, SecondHole_ResentOnceLostBeforeNewData)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	SendInitialWindow();
	// Segments 0 and 3 are lost.
	Inject(AckOf(0, { { S, 2 * S } }));
	ExpectSegs({ 10 * S }, "limited transmit");
	Inject(AckOf(0, { { S, 3 * S } }));
	ExpectSegs({ 11 * S }, "limited transmit");
	Inject(AckOf(0, { { 4 * S, 5 * S }, { S, 3 * S } }));
	ExpectSegs({ 0 }, "entry: the first hole");
	EXPECT_EQ(Info().cwnd, 5 * S);
	// [4, 6): 2 segments above hole 3 - not lost yet; pipe 12 - 1 - 4 + 1 = 8.
	Inject(AckOf(0, { { 4 * S, 6 * S }, { S, 3 * S } }));
	ExpectNoTx();
	// [4, 7): 3 segments above 3: lost; it no longer counts in pipe (6).
	Inject(AckOf(0, { { 4 * S, 7 * S }, { S, 3 * S } }));
	ExpectNoTx();
	Inject(AckOf(0, { { 4 * S, 8 * S }, { S, 3 * S } }));
	ExpectNoTx();
	// pipe 4: room for one segment, and NextSeg() names the lost hole.
	Inject(AckOf(0, { { 4 * S, 9 * S }, { S, 3 * S } }));
	ExpectSegs({ 3 * S }, "rule 1: the second hole");
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_rexmit), 1u);
	// The next room goes to new data (rule 2): no hole left below HighRxt.
	Inject(AckOf(0, { { 4 * S, 10 * S }, { S, 3 * S } }));
	ExpectSegs({ 12 * S }, "rule 2: new data");

	// A partial ACK (up to the second hole): recovery goes on, cwnd as it
	// was (RFC 6675 §5 (C); no NewReno deflation), pipe decides.
	Inject(AckOf(3 * S, { { 4 * S, 10 * S } }));
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.cwnd, 5 * S);
	EXPECT_EQ(i.ssthresh, 5 * S);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 1u) << "a partial ACK is no new loss";
	// pipe: 13 sent - 4 (lost edge) - 6 SACKed = 3 ... + 3's resend = 4: one new.
	ExpectSegs({ 13 * S }, "room for one");
	// The full ACK ends it.
	Inject(AckOf(12 * S));
	EXPECT_EQ(Info().cwnd, 3 * S);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 0u);
}

// A resend that data sent after it overtook is lost as well: it goes again
// without waiting for the retransmission timer.
TEST_F(TcpSackSnd, ResentHoleOvertakenBySackedNewData_ResentAgain)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	SendInitialWindow();
	ASSERT_NO_FATAL_FAILURE(LoseFirstUntilNewData());
	// The resend of 0 is lost; 9 .. 12 (sent after it) arrive.
	Inject(AckOf(0, { { S, 10 * S } }));
	ExpectSegs({ 13 * S }, "pipe room");
	Inject(AckOf(0, { { S, 11 * S } }));
	ExpectSegs({ 14 * S }, "pipe room");
	Inject(AckOf(0, { { S, 12 * S } }));
	ExpectSegs({ 15 * S }, "pipe room");
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_rexmit_lost), 0u);
	Inject(AckOf(0, { { S, 13 * S } }));
	// Segment 12, sent after the resend, arrived: the resend is lost. It
	// leaves the pipe (now 16 sent - 1 lost edge - 12 SACKed = 3), so two
	// fit: the hole again (rule 1), then new data (rule 2).
	ExpectSegs({ 0, 16 * S }, "the resend is lost: again, and one new");
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_rexmit_lost), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 0u);
	EXPECT_EQ(Info().total_retransmits, 2u);
}

// Blocks the peer cannot mean are ignored, counted: beyond what we sent,
// empty, and at or below SND.UNA (nothing new).
TEST_F(TcpSackSnd, BadBlocks_IgnoredCounted)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	SendInitialWindow();
	Inject(AckOf(S, { { 20 * S, 21 * S } }));   // beyond SND.MAX
	Inject(AckOf(S, { { 3 * S, 3 * S } }));     // empty
	Inject(AckOf(S, { { 0, S } }));             // at SND.UNA: old
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_bad_block), 2u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_old_block), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_news_rx), 0u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_recovery), 0u);
}

// RFC 2018 §8: an ACK that stops where SACKed data begins shows the peer
// dropped it; the scoreboard is cleared and that data will go again.
TEST_F(TcpSackSnd, AckStopsAtSackedData_ScoreboardCleared)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	SendInitialWindow();
	Inject(AckOf(0, { { 2 * S, 3 * S } }));
	ExpectSegs({ 10 * S }, "limited transmit");
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_reneged), 0u);
	Inject(AckOf(2 * S));
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_reneged), 1u);
}

// A timeout keeps the scoreboard: from SND.UNA the holes go again, one
// segment at first, and what the peer SACKed does not. Slow start after
// the timeout grows by one SMSS per ACK (RFC 3465 §2.3).
TEST_F(TcpSackSnd, Timeout_HolesResentSackedSkipped)
{
	cfg_.tcp_tlp = 0;  // the timeout itself, not the probe before it
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	SendInitialWindow(10);
	// 0 lost, 1 and 2 arrive; the rest of the ACKs are lost.
	Inject(AckOf(0, { { S, 3 * S } }));
	ExpectNoTx();
	uint32_t rto = Info().rto_ms;
	Advance(rto);
	ExpectSegs({ 0 }, "the timeout: the first hole");
	EXPECT_EQ(Info().cwnd, S);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 1u);
	// The peer now holds 0 .. 2: its ACK moves SND.UNA to 3S.
	Inject(AckOf(3 * S));
	ExpectSegs({ 3 * S, 4 * S }, "cwnd 2: the next two holes, not the SACKed 1 and 2");
	EXPECT_EQ(Info().cwnd, 2 * S);
}

// RFC 8985 §7: with the tail of a flight lost nothing comes back; after
// 2 SRTT a probe (the last segment again, nothing new being queued) draws
// the peer's SACK, which shows every hole below it lost: recovery at once,
// no timeout.
TEST_F(TcpSackSnd, TailLost_ProbeAfterTwoSrttThenRecovery)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open(10));
	SendInitialWindow(10);
	// 0 .. 4 arrive, 5 .. 9 are lost.
	Inject(AckOf(5 * S));
	ExpectNoTx();
	uint32_t srtt_ms = Info().srtt_us / 1000;
	ASSERT_GT(srtt_ms, 0u);
	ASSERT_LT(2 * srtt_ms + 1, Info().rto_ms) << "the probe comes before the timeout";
	Advance(2 * srtt_ms - 1);
	ExpectNoTx();
	Advance(2);
	ExpectSegs({ 9 * S }, "the probe: the last segment again");
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tlp_probe), 1u);
	Inject(AckOf(5 * S, { { 9 * S, 10 * S } }));
	// ssthresh = cwnd = max(5 / 2 segments, 2 segments) = 2.5 segments;
	// every hole is lost, so pipe counts only the resends: two fit.
	ExpectSegs({ 5 * S, 6 * S }, "recovery: the holes from SND.UNA");
	EXPECT_EQ(Info().cwnd, 5 * S / 2);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sack_recovery), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 0u);
}

// [tcp] tlp_min_ms: on a short round trip the probe waits for the floor,
// not 2 SRTT, so that the peer's scheduling jitter does not make every
// probe spurious; still before the timeout.
TEST_F(TcpSackSnd, TailLost_ProbeNotBeforeTheFloor)
{
	cfg_.tcp_tlp_min_ms = 100;
	Start();
	ASSERT_NO_FATAL_FAILURE(Open(10));
	SendInitialWindow(10);
	Inject(AckOf(5 * S));
	ExpectNoTx();
	ASSERT_LT(2 * Info().srtt_us / 1000 + 1, 100u) << "the floor is what binds";
	ASSERT_LT(101u, Info().rto_ms) << "the probe comes before the timeout";
	Advance(99);
	ExpectNoTx();
	Advance(2);
	ExpectSegs({ 9 * S }, "the probe: the last segment again");
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tlp_probe), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 0u);
}

} // namespace
